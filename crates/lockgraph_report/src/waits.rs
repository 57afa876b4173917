//! Rendering a live server's wait-for graph ([`WaitGraph`]): the blocking tree as text, the
//! graph in DOT and Mermaid, and a JSON value (`live` in `lockgraph live --format json`).
//!
//! Queries are printed as the snapshot holds them: the front-end redacts literals before.

use lockgraph_core::{Backend, LockSnapshot};
use lockgraph_graph::{BlockingNode, WaitEdge, WaitGraph, WaitKind};
use serde_json::{Value, json};
use std::fmt::Write as _;

/// Longest query shown per session in text output (characters).
const QUERY_WIDTH: usize = 160;

/// The blocking forest, cycles, `ACCESS EXCLUSIVE` queues and advisory locks of a snapshot,
/// as text. Empty sections are left out; with no wait at all, one line says so.
pub fn render_waits_text(g: &WaitGraph<'_>) -> String {
    let s = g.snapshot;
    let mut out = String::new();
    let waiting = s.backends.iter().filter(|b| b.waiting_for_lock()).count();
    let _ = writeln!(
        out,
        "{} · {} · {} session{}, {} waiting for a lock · snapshot took {:.1} ms on the server",
        s.server,
        s.taken_at,
        s.backends.len(),
        if s.backends.len() == 1 { "" } else { "s" },
        waiting,
        s.server_ms
    );
    let forest = g.forest();
    let cycles = g.cycles();
    if forest.is_empty() && cycles.is_empty() {
        out.push_str("\nno session is waiting for a lock held by another\n");
    }
    if !forest.is_empty() {
        out.push_str("\nblocking trees (root blocker first)\n");
        for tree in &forest {
            tree_text(g, tree, "", true, true, &mut out);
        }
    }
    for c in &cycles {
        let _ = writeln!(
            out,
            "\n{} cycle: {}",
            if c.hard {
                "DEADLOCK (hard)"
            } else {
                "soft (queue-order)"
            },
            c.pids
                .iter()
                .chain(c.pids.first())
                .map(|p| format!("pid {p}"))
                .collect::<Vec<_>>()
                .join(" → ")
        );
        for e in &c.edges {
            let _ = writeln!(out, "  pid {} {}", e.waiter, edge_text(g, e));
            if let Some(q) = s.backend(e.waiter).and_then(|b| b.query.as_deref()) {
                let _ = writeln!(out, "      {}", one_line(q));
            }
        }
        if !c.hard {
            out.push_str(
                "  (a soft edge means queued behind a request, not a held lock: the server's \
                 deadlock detector may resolve it by reordering the queue)\n",
            );
        }
    }
    for q in g.access_exclusive_queues() {
        let l = &s.locks[q.request];
        let _ = writeln!(
            out,
            "\n{} session{} queued behind pid {}'s ACCESS EXCLUSIVE request on {}",
            q.queued.len(),
            if q.queued.len() == 1 { "" } else { "s" },
            q.requester,
            l.describe()
        );
    }
    let advisory: Vec<_> = s
        .locks
        .iter()
        .filter(|l| l.locktype == "advisory" && l.pid.is_some())
        .collect();
    if !advisory.is_empty() {
        out.push_str("\nadvisory locks\n");
        for l in advisory {
            let _ = writeln!(
                out,
                "  pid {} {} {} ({})",
                l.pid.unwrap_or(0),
                if l.granted { "holds" } else { "waits for" },
                l.describe(),
                l.mode
            );
        }
    }
    out
}

fn tree_text(
    g: &WaitGraph<'_>,
    node: &BlockingNode,
    indent: &str,
    last: bool,
    root: bool,
    out: &mut String,
) {
    let s = g.snapshot;
    let (branch, cont) = if root {
        ("", "")
    } else if last {
        ("└── ", "    ")
    } else {
        ("├── ", "│   ")
    };
    let b = s.backend(node.pid);
    let head = match (root, node.kind) {
        (true, _) => {
            let n = node.descendants().len();
            format!(
                "pid {} {} · {} · blocks {n} session{}",
                node.pid,
                b.map(who).unwrap_or_default(),
                b.map(state).unwrap_or_default(),
                if n == 1 { "" } else { "s" }
            )
        }
        (false, _) => {
            let e = g
                .blockers_of(node.pid)
                .find(|e| Some(e.kind) == node.kind)
                .cloned();
            let mut t = format!(
                "pid {} {} · {}",
                node.pid,
                b.map(who).unwrap_or_default(),
                e.map(|e| edge_text(g, &e)).unwrap_or_default()
            );
            if let Some(age) = b.and_then(|b| b.query_age_s) {
                let _ = write!(t, " · for {}", secs(age));
            }
            if !node.also_blocked_by.is_empty() {
                let _ = write!(
                    t,
                    " · also blocked by {}",
                    node.also_blocked_by
                        .iter()
                        .map(|p| format!("pid {p}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            t
        }
    };
    let _ = writeln!(out, "{indent}{branch}{head}");
    let inner = format!("{indent}{cont}");
    let bar = if node.children.is_empty() {
        "    "
    } else {
        "│   "
    };
    if root {
        let held = held_summary(s, node.pid);
        if !held.is_empty() {
            let _ = writeln!(out, "{inner}{bar}holds {held}");
        }
    }
    if let Some(q) = b.and_then(|b| b.query.as_deref()) {
        let _ = writeln!(out, "{inner}{bar}{}", one_line(q));
    }
    for (i, c) in node.children.iter().enumerate() {
        tree_text(g, c, &inner, i + 1 == node.children.len(), false, out);
    }
}

fn who(b: &Backend) -> String {
    let mut s = format!("({}", b.user.as_deref().unwrap_or("?"));
    if !b.application.is_empty() {
        let _ = write!(s, " via {}", b.application);
    }
    if let Some(c) = &b.client {
        let _ = write!(s, " from {c}");
    }
    s.push(')');
    s
}

fn state(b: &Backend) -> String {
    let mut s = b.state.clone().unwrap_or_else(|| "state unknown".into());
    if let Some(a) = b.state_age_s {
        let _ = write!(s, " for {}", secs(a));
    }
    if let Some(x) = b.xact_age_s {
        let _ = write!(s, ", transaction open {}", secs(x));
    }
    s
}

fn secs(s: f64) -> String {
    if s < 1.0 {
        format!("{} ms", (s * 1000.0).round() as u64)
    } else if s < 120.0 {
        format!("{:.1} s", s)
    } else {
        format!("{} min {} s", (s / 60.0) as u64, (s % 60.0) as u64)
    }
}

/// `waits for ShareLock on transaction 729 held by pid 5478` / `… queued behind pid 5478`.
fn edge_text(g: &WaitGraph<'_>, e: &WaitEdge) -> String {
    let s = g.snapshot;
    let what = e
        .awaited
        .map(|i| {
            let l = &s.locks[i];
            let mut t = format!("{} on {}", l.mode, l.describe());
            if l.relation_name.is_none()
                && let Some(r) = s.awaited_relation(e.waiter)
            {
                let _ = write!(t, " ({r})");
            }
            t
        })
        .unwrap_or_else(|| "a lock".into());
    match e.kind {
        WaitKind::Hard => format!("waits for {what} held by pid {}", e.blocker),
        WaitKind::Soft => format!("waits for {what}, queued behind pid {}", e.blocker),
    }
}

/// Granted relation locks of a session outside the system catalogs: `orders RowExclusiveLock,
/// customers AccessShareLock`.
fn held_summary(s: &LockSnapshot, pid: u32) -> String {
    let mut items: Vec<String> = s
        .locks_of(pid)
        .filter(|l| l.granted && l.locktype == "relation" && !l.on_index())
        .filter_map(|l| {
            let n = l.relation_name.as_ref()?;
            (!n.as_str().starts_with("pg_")).then(|| format!("{n} {}", l.mode))
        })
        .collect();
    items.sort();
    items.dedup();
    items.join(", ")
}

fn one_line(q: &str) -> String {
    let flat: String = q.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > QUERY_WIDTH {
        let cut: String = flat.chars().take(QUERY_WIDTH).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

/// The wait-for graph as Graphviz DOT: sessions as nodes (roots bold, idle in transaction
/// orange), waits as edges `waiter → blocker` (soft ones dashed, cycle edges red).
pub fn render_waits_dot(g: &WaitGraph<'_>) -> String {
    let s = g.snapshot;
    let mut out = String::from(
        "digraph waits {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n",
    );
    let cycle_edges: Vec<(u32, u32)> = g
        .cycles()
        .iter()
        .flat_map(|c| c.edges.iter().map(|e| (e.waiter, e.blocker)))
        .collect();
    let roots = g.roots();
    for pid in pids(g) {
        let b = s.backend(pid);
        let mut attrs = vec![format!(
            "label=\"pid {pid}\\n{}\"",
            b.and_then(|b| b.state.clone())
                .unwrap_or_default()
                .replace('"', "\\\"")
        )];
        if roots.contains(&pid) {
            attrs.push("style=bold".into());
        }
        if b.is_some_and(Backend::idle_in_transaction) {
            attrs.push("color=orange".into());
        }
        let _ = writeln!(out, "  p{pid} [{}];", attrs.join(", "));
    }
    for e in &g.edges {
        let mut attrs = vec![format!(
            "label=\"{}\"",
            edge_label(g, e).replace('"', "\\\"")
        )];
        if e.kind == WaitKind::Soft {
            attrs.push("style=dashed".into());
        }
        if cycle_edges.contains(&(e.waiter, e.blocker)) {
            attrs.push("color=red".into());
        }
        let _ = writeln!(
            out,
            "  p{} -> p{} [{}];",
            e.waiter,
            e.blocker,
            attrs.join(", ")
        );
    }
    out.push_str("}\n");
    out
}

/// The wait-for graph as a Mermaid flowchart (soft waits dotted, cycle edges thick).
pub fn render_waits_mermaid(g: &WaitGraph<'_>) -> String {
    let s = g.snapshot;
    let mut out = String::from("flowchart LR\n");
    let cycle_edges: Vec<(u32, u32)> = g
        .cycles()
        .iter()
        .flat_map(|c| c.edges.iter().map(|e| (e.waiter, e.blocker)))
        .collect();
    for pid in pids(g) {
        let state = s
            .backend(pid)
            .and_then(|b| b.state.clone())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  p{pid}[\"pid {pid}<br/>{}\"]",
            state.replace('"', "#quot;")
        );
    }
    for e in &g.edges {
        let arrow = if cycle_edges.contains(&(e.waiter, e.blocker)) {
            "=="
        } else if e.kind == WaitKind::Soft {
            "-.-"
        } else {
            "--"
        };
        let tail = if arrow == "-.-" { "->" } else { ">" };
        let _ = writeln!(
            out,
            "  p{} {arrow}{tail}|\"{}\"| p{}",
            e.waiter,
            edge_label(g, e).replace('"', "#quot;"),
            e.blocker
        );
    }
    out
}

fn edge_label(g: &WaitGraph<'_>, e: &WaitEdge) -> String {
    e.awaited
        .map(|i| {
            let l = &g.snapshot.locks[i];
            format!("{} {}", l.mode, l.describe())
        })
        .unwrap_or_default()
}

/// Every pid on an edge, sorted.
fn pids(g: &WaitGraph<'_>) -> Vec<u32> {
    let mut v: Vec<u32> = g.edges.iter().flat_map(|e| [e.waiter, e.blocker]).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The wait-for analysis as JSON: sessions involved in waits, edges, trees, cycles, queues.
///
/// ```text
/// { "server", "taken_at", "server_ms", "sessions": n, "waiting": n,
///   "backends": [Backend…] (only those on an edge, plus idle-in-transaction ones),
///   "edges": [{waiter, blocker, kind, mode, target, relation}],
///   "roots": [pid…], "trees": [BlockingNode…], "cycles": [{pids, hard}],
///   "access_exclusive_queues": [{requester, relation, waits_for, queued}],
///   "advisory": [{pid, key, mode, granted}] }
/// ```
pub fn waits_json(g: &WaitGraph<'_>) -> Value {
    let s = g.snapshot;
    let involved = pids(g);
    let backends: Vec<&Backend> = s
        .backends
        .iter()
        .filter(|b| involved.contains(&b.pid) || b.idle_in_transaction())
        .collect();
    let edges: Vec<Value> = g
        .edges
        .iter()
        .map(|e| {
            let l = e.awaited.map(|i| &s.locks[i]);
            json!({
                "waiter": e.waiter,
                "blocker": e.blocker,
                "kind": e.kind,
                "mode": l.map(|l| l.mode.clone()),
                "target": l.map(|l| l.describe()),
                "relation": l.and_then(|l| l.relation_name.as_ref().map(|r| r.to_string())),
            })
        })
        .collect();
    json!({
        "server": s.server,
        "taken_at": s.taken_at,
        "server_ms": s.server_ms,
        "sessions": s.backends.len(),
        "waiting": s.backends.iter().filter(|b| b.waiting_for_lock()).count(),
        "backends": backends,
        "edges": edges,
        "roots": g.roots(),
        "trees": g.forest(),
        "cycles": g.cycles().iter().map(|c| json!({"pids": c.pids, "hard": c.hard})).collect::<Vec<_>>(),
        "access_exclusive_queues": g.access_exclusive_queues().iter().map(|q| json!({
            "requester": q.requester,
            "relation": s.locks[q.request].relation_name.as_ref().map(|r| r.to_string()),
            "waits_for": q.waits_for,
            "queued": q.queued,
        })).collect::<Vec<_>>(),
        "advisory": s.locks.iter().filter(|l| l.locktype == "advisory").map(|l| json!({
            "pid": l.pid, "key": l.advisory_key(), "mode": l.mode, "granted": l.granted,
        })).collect::<Vec<_>>(),
    })
}
