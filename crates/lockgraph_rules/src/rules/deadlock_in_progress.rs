use crate::live::{fingerprint, relations_of, session_label, wait_text, who};
use crate::{Analysis, Rule, RuleInfo, declare_rule};
use lockgraph_core::{Finding, NodeKey, RelationName, Suggestion};

declare_rule! {
    /// ## What it detects
    /// Sessions of a live server waiting for each other in a cycle, every wait on a lock the
    /// next session *holds* (a hard cycle in `pg_locks`): a deadlock in progress, seen before
    /// the server's deadlock detector (after `deadlock_timeout`) aborts one of them.
    ///
    /// ## Why it matters
    /// No session of the cycle can ever proceed. The server will abort one with SQLSTATE 40P01;
    /// until then every session queued behind them waits too.
    ///
    /// ## Example
    /// ```text
    /// pid 5477 waits for ShareLock on transaction 729 (accounts), held by pid 5478
    /// pid 5478 waits for ShareLock on transaction 728 (ledger), held by pid 5477
    /// ```
    ///
    /// ## How to fix
    /// Right now: nothing, the server breaks it (or `pg_cancel_backend` one pid). For good: make
    /// the transactions take their locks in one global order — `lockgraph live --watch --report`
    /// learns the orders they use, `lockgraph check` finds them in the code.
    pub struct DeadlockInProgress {
        code: "LG402",
        name: "deadlock-in-progress",
        severity: Error,
        engines: [Postgres, Mysql],
        summary: "Live sessions wait for each other in a cycle: a deadlock the server has not broken yet",
    }
}

impl Rule for DeadlockInProgress {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check(&self, a: &Analysis<'_>, out: &mut Vec<Finding>) {
        let Some(g) = &a.waits else { return };
        let s = g.snapshot;
        for c in g.cycles().into_iter().filter(|c| c.hard) {
            let relations = relations_of(s, c.pids.iter().copied());
            let labels = c
                .edges
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let by = s.backend(e.waiter).map(who).unwrap_or_default();
                    session_label(s, e.waiter, format!("({by}) {}", wait_text(g, e)), i == 0)
                })
                .collect();
            let nodes: Vec<NodeKey> = relations
                .iter()
                .map(|r| NodeKey::Relation(RelationName::new(r.as_str())))
                .collect();
            let suggestion = (nodes.len() > 1).then(|| Suggestion {
                order: a
                    .graph
                    .suggest_order(&nodes)
                    .order
                    .iter()
                    .map(|n| n.to_string())
                    .collect(),
                edits: Vec::new(),
            });
            let pids: Vec<String> = c.pids.iter().map(u32::to_string).collect();
            let on = crate::evidence::on_relations(&relations);
            out.push(Finding {
                code: Self::INFO.code,
                name: Self::INFO.name,
                severity: Self::INFO.severity,
                message: format!("deadlock in progress between pids {}{on}", pids.join(", ")),
                relations,
                labels,
                fingerprint: fingerprint(Self::INFO.code, s, &c.pids),
                suggestion,
                repro: None,
                notes: vec![
                    "the server aborts one of these transactions after deadlock_timeout; until \
                     then everything queued behind them waits too"
                        .to_string(),
                ],
            });
        }
    }
}
