use crate::live::{doing, duration, fingerprint, held_relations, relations_of, session_label, who};
use crate::{Analysis, Rule, RuleInfo, declare_rule};
use lockgraph_core::{Finding, LockSnapshot};
use lockgraph_graph::{BlockingNode, WaitGraph};

/// Waits shorter than this are ordinary traffic, not worth a finding.
pub(crate) const MIN_WAIT_S: f64 = 1.0;

declare_rule! {
    /// ## What it detects
    /// A session of a live server that blocks others while waiting for no lock itself — the
    /// root of a blocking tree — when something behind it has waited for at least a second.
    /// The finding lists the whole tree behind it, what the root is doing and the locks it holds.
    /// (An idle-in-transaction root is LG404 instead.)
    ///
    /// ## Why it matters
    /// Lock pile-ups are trees: cancelling a session in the middle frees nothing. Only the root
    /// finishing (or being cancelled) releases the sessions behind it.
    ///
    /// ## Example
    /// ```text
    /// pid 4100 (app via api) active for 2 min 5 s: UPDATE orders SET … (blocks 14 sessions)
    /// ├── pid 4107 waits for ShareLock on transaction 90112 (orders), held by pid 4100
    /// │   └── pid 4111 waits for ShareLock on transaction 90117, held by pid 4107
    /// ```
    ///
    /// ## How to fix
    /// Look at the root's query: a long batch holding row locks (split it into smaller
    /// transactions), a missing index making an UPDATE slow. In an emergency,
    /// `SELECT pg_cancel_backend(<root pid>)`.
    pub struct RootBlocker {
        code: "LG403",
        name: "root-blocker",
        severity: Warning,
        engines: [Postgres, Mysql],
        summary: "A live session blocks others without waiting itself (root of a blocking tree)",
    }
}

impl Rule for RootBlocker {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check(&self, a: &Analysis<'_>, out: &mut Vec<Finding>) {
        let Some(g) = &a.waits else { return };
        let s = g.snapshot;
        for tree in g.forest() {
            let idle = s.backend(tree.pid).is_some_and(|b| b.idle_in_transaction());
            if idle || longest_wait(s, &tree) < MIN_WAIT_S {
                continue;
            }
            out.push(blocker_finding(g, &tree, &Self::INFO, "blocks"));
        }
    }
}

/// The longest time (seconds) any session of the tree has been waiting, by its statement's age.
pub(crate) fn longest_wait(s: &LockSnapshot, tree: &BlockingNode) -> f64 {
    tree.descendants()
        .into_iter()
        .filter_map(|p| s.backend(p).and_then(|b| b.query_age_s))
        .fold(0.0, f64::max)
}

/// The finding for a root blocker and its tree (LG403 and LG404 share it).
pub(crate) fn blocker_finding(
    g: &WaitGraph<'_>,
    tree: &BlockingNode,
    info: &'static RuleInfo,
    verb: &str,
) -> Finding {
    let s = g.snapshot;
    let root = tree.pid;
    let waiters = tree.descendants();
    let relations = relations_of(s, tree.children.iter().map(|c| c.pid));
    let backend = s.backend(root);
    let mut labels = vec![session_label(
        s,
        root,
        format!(
            "({}) {}, blocks {} session{}",
            backend.map(who).unwrap_or_default(),
            backend.map(doing).unwrap_or_default(),
            waiters.len(),
            if waiters.len() == 1 { "" } else { "s" }
        ),
        true,
    )];
    let mut stack: Vec<&BlockingNode> = tree.children.iter().rev().collect();
    while let Some(n) = stack.pop() {
        if let Some(e) = g
            .blockers_of(n.pid)
            .find(|e| Some(e.kind) == n.kind && tree_parent(tree, n.pid) == Some(e.blocker))
        {
            labels.push(session_label(s, n.pid, crate::live::wait_text(g, e), false));
        }
        stack.extend(n.children.iter().rev());
    }
    let held = held_relations(s, root);
    let mut notes = Vec::new();
    if !held.is_empty() {
        notes.push(format!("pid {root} holds locks on {}", held.join(", ")));
    }
    let longest = longest_wait(s, tree);
    notes.push(format!(
        "the longest wait behind it is {}",
        duration(longest)
    ));
    let on = crate::evidence::on_relations(&relations);
    let mut pids = vec![root];
    pids.extend(waiters.iter().copied());
    Finding {
        code: info.code,
        name: info.name,
        severity: info.severity,
        message: format!(
            "pid {root} {verb} {} session{}{on}",
            waiters.len(),
            if waiters.len() == 1 { "" } else { "s" }
        ),
        relations,
        labels,
        fingerprint: fingerprint(info.code, s, &[root]),
        suggestion: None,
        repro: None,
        notes,
    }
}

/// The parent of `pid` in `tree`.
fn tree_parent(tree: &BlockingNode, pid: u32) -> Option<u32> {
    let mut stack = vec![tree];
    while let Some(n) = stack.pop() {
        if n.children.iter().any(|c| c.pid == pid) {
            return Some(n.pid);
        }
        stack.extend(n.children.iter());
    }
    None
}
