//! The wait-for graph of a live server: who waits for whom right now, from a
//! [`LockSnapshot`](lockgraph_core::LockSnapshot).
//!
//! An edge `waiter → blocker` comes from `pg_blocking_pids(waiter)`, and is classified against
//! `pg_locks`:
//!
//! - **hard**: the blocker *holds* a granted lock on the awaited object in a conflicting mode;
//!   the waiter cannot go before the blocker commits or rolls back.
//! - **soft**: the blocker only *requests* a conflicting mode on the same object and is ahead in
//!   the queue (PostgreSQL serves lock requests in order). The server's deadlock detector may
//!   reorder such a queue, so a cycle through a soft edge is not certain to be a deadlock.
//!
//! [`WaitGraph`] then answers the questions of an incident: the root blockers (blocking others
//! without waiting for a lock themselves) with the tree of sessions behind each
//! ([`WaitGraph::forest`]), the cycles — hard ones are deadlocks the server has not broken yet
//! ([`WaitGraph::cycles`]), and queues behind an `ACCESS EXCLUSIVE` request
//! ([`WaitGraph::access_exclusive_queues`]), the classic migration outage.

use lockgraph_core::{HeldLock, LockSnapshot, TableLockMode};
use petgraph::algo::tarjan_scc;
use petgraph::graphmap::DiGraphMap;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// How a waiter depends on a blocker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitKind {
    /// The blocker holds a conflicting lock.
    Hard,
    /// The blocker is ahead in the queue, requesting a conflicting mode.
    Soft,
}

/// One `waiter → blocker` dependency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WaitEdge {
    /// The waiting backend.
    pub waiter: u32,
    /// The backend it waits for.
    pub blocker: u32,
    /// Hard (held) or soft (queued ahead).
    pub kind: WaitKind,
    /// Index in `snapshot.locks` of the waiter's ungranted request.
    pub awaited: Option<usize>,
    /// Index in `snapshot.locks` of the blocker's conflicting lock (granted for hard edges, its
    /// own request for soft ones).
    pub blocking: Option<usize>,
}

/// A cycle of waits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WaitCycle {
    /// The backends in cycle order: each waits for the next, the last for the first.
    pub pids: Vec<u32>,
    /// The edges in the same order.
    pub edges: Vec<WaitEdge>,
    /// Whether every edge is hard: a deadlock that only aborting a transaction can end.
    pub hard: bool,
}

/// A node of the blocking tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BlockingNode {
    /// The backend.
    pub pid: u32,
    /// How it waits for its parent (`None` for a root).
    pub kind: Option<WaitKind>,
    /// The sessions waiting for it.
    pub children: Vec<BlockingNode>,
    /// Other backends it also waits for (it appears under its first blocker only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also_blocked_by: Vec<u32>,
}

impl BlockingNode {
    /// Every backend below this node (not counting itself), each once.
    pub fn descendants(&self) -> BTreeSet<u32> {
        let mut out = BTreeSet::new();
        let mut stack: Vec<&BlockingNode> = self.children.iter().collect();
        while let Some(n) = stack.pop() {
            if out.insert(n.pid) {
                stack.extend(n.children.iter());
            }
        }
        out
    }

    /// The depth of the tree below this node (0 for a leaf).
    pub fn depth(&self) -> usize {
        self.children
            .iter()
            .map(|c| 1 + c.depth())
            .max()
            .unwrap_or(0)
    }
}

/// Sessions queued behind one `ACCESS EXCLUSIVE` request that is itself waiting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExclusiveQueue {
    /// The backend requesting `ACCESS EXCLUSIVE` (typically DDL).
    pub requester: u32,
    /// Index in `snapshot.locks` of its request.
    pub request: usize,
    /// The backends whose held locks it waits for.
    pub waits_for: Vec<u32>,
    /// The backends queued behind its request (they wait for it, softly or not).
    pub queued: Vec<u32>,
}

/// The wait-for graph of one snapshot.
#[derive(Clone, Debug)]
pub struct WaitGraph<'s> {
    /// The snapshot it was built from.
    pub snapshot: &'s LockSnapshot,
    /// Every dependency, sorted by (waiter, blocker).
    pub edges: Vec<WaitEdge>,
}

impl<'s> WaitGraph<'s> {
    /// Builds the graph: one edge per `pg_blocking_pids` entry, classified against `pg_locks`.
    /// The inspecting session (`own_pid`) is left out.
    pub fn build(snapshot: &'s LockSnapshot) -> WaitGraph<'s> {
        let mut edges = Vec::new();
        for b in &snapshot.blocked_by {
            if b.pid == snapshot.own_pid {
                continue;
            }
            let awaited = snapshot
                .locks
                .iter()
                .position(|l| l.pid == Some(b.pid) && !l.granted);
            let mut seen = BTreeSet::new();
            for &blocker in &b.blockers {
                if blocker == b.pid || blocker == snapshot.own_pid || !seen.insert(blocker) {
                    continue;
                }
                let (kind, blocking) = classify(snapshot, awaited, blocker);
                edges.push(WaitEdge {
                    waiter: b.pid,
                    blocker,
                    kind,
                    awaited,
                    blocking,
                });
            }
        }
        edges.sort_by_key(|e| (e.waiter, e.blocker));
        WaitGraph { snapshot, edges }
    }

    /// The edges out of `waiter`.
    pub fn blockers_of(&self, waiter: u32) -> impl Iterator<Item = &WaitEdge> + '_ {
        self.edges.iter().filter(move |e| e.waiter == waiter)
    }

    /// The edges into `blocker`.
    pub fn waiters_of(&self, blocker: u32) -> impl Iterator<Item = &WaitEdge> + '_ {
        self.edges.iter().filter(move |e| e.blocker == blocker)
    }

    /// Whether a backend waits for anyone.
    pub fn is_waiting(&self, pid: u32) -> bool {
        self.blockers_of(pid).next().is_some()
    }

    /// The root blockers: backends that others wait for and that wait for no one, sorted by how
    /// many sessions are stuck behind them (most first), then pid.
    pub fn roots(&self) -> Vec<u32> {
        let mut roots: Vec<u32> = self
            .edges
            .iter()
            .map(|e| e.blocker)
            .filter(|&b| !self.is_waiting(b))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut sizes = BTreeMap::new();
        for &r in &roots {
            sizes.insert(r, self.tree(r).descendants().len());
        }
        roots.sort_by_key(|r| (std::cmp::Reverse(sizes[r]), *r));
        roots
    }

    /// The blocking tree under `pid`: every session waiting for it, recursively. A session
    /// waiting for several blockers is placed under the first one met (breadth-first from the
    /// root) and lists the others in `also_blocked_by`.
    pub fn tree(&self, pid: u32) -> BlockingNode {
        // Breadth-first parent assignment, then build recursively.
        let mut parent: BTreeMap<u32, (u32, WaitKind)> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([pid]);
        let mut visited = BTreeSet::from([pid]);
        while let Some(b) = queue.pop_front() {
            for e in self.waiters_of(b) {
                if visited.insert(e.waiter) {
                    parent.insert(e.waiter, (b, e.kind));
                    queue.push_back(e.waiter);
                }
            }
        }
        self.subtree(pid, None, &parent)
    }

    fn subtree(
        &self,
        pid: u32,
        kind: Option<WaitKind>,
        parent: &BTreeMap<u32, (u32, WaitKind)>,
    ) -> BlockingNode {
        let children = parent
            .iter()
            .filter(|(_, (p, _))| *p == pid)
            .map(|(&child, &(_, k))| self.subtree(child, Some(k), parent))
            .collect();
        let first = parent.get(&pid).map(|(p, _)| *p);
        let also_blocked_by = self
            .blockers_of(pid)
            .map(|e| e.blocker)
            .filter(|b| Some(*b) != first)
            .collect();
        BlockingNode {
            pid,
            kind,
            children,
            also_blocked_by: if kind.is_some() {
                also_blocked_by
            } else {
                Vec::new()
            },
        }
    }

    /// The blocking forest: one tree per root blocker, largest first.
    pub fn forest(&self) -> Vec<BlockingNode> {
        self.roots().into_iter().map(|r| self.tree(r)).collect()
    }

    /// The cycles: one per strongly connected component of the wait-for graph, as a concrete
    /// loop through it. Hard cycles (every edge hard) are searched first among hard edges only,
    /// so a component with a hard loop reports it even when soft edges also run through it.
    pub fn cycles(&self) -> Vec<WaitCycle> {
        let mut out = Vec::new();
        let mut covered: BTreeSet<u32> = BTreeSet::new();
        for hard_only in [true, false] {
            let mut g: DiGraphMap<u32, ()> = DiGraphMap::new();
            for e in &self.edges {
                if !hard_only || e.kind == WaitKind::Hard {
                    g.add_edge(e.waiter, e.blocker, ());
                }
            }
            for scc in tarjan_scc(&g) {
                if scc.len() < 2 || scc.iter().any(|p| covered.contains(p)) {
                    continue;
                }
                let members: BTreeSet<u32> = scc.iter().copied().collect();
                if let Some(cycle) = self.loop_in(&members, hard_only) {
                    covered.extend(members);
                    out.push(cycle);
                }
            }
        }
        out.sort_by(|a, b| (!a.hard, &a.pids).cmp(&(!b.hard, &b.pids)));
        out
    }

    /// A shortest loop through the smallest pid of a strongly connected set.
    fn loop_in(&self, members: &BTreeSet<u32>, hard_only: bool) -> Option<WaitCycle> {
        let start = *members.iter().next()?;
        let usable = |e: &&WaitEdge| {
            members.contains(&e.blocker) && (!hard_only || e.kind == WaitKind::Hard)
        };
        // BFS from start back to start.
        let mut prev: BTreeMap<u32, &WaitEdge> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        let mut closing: Option<&WaitEdge> = None;
        'bfs: while let Some(p) = queue.pop_front() {
            for e in self.blockers_of(p).filter(usable) {
                if e.blocker == start {
                    closing = Some(e);
                    break 'bfs;
                }
                if let std::collections::btree_map::Entry::Vacant(v) = prev.entry(e.blocker) {
                    v.insert(e);
                    queue.push_back(e.blocker);
                }
            }
        }
        let closing = closing?;
        let mut edges = vec![closing.clone()];
        let mut at = closing.waiter;
        while at != start {
            let e = prev[&at];
            edges.push(e.clone());
            at = e.waiter;
        }
        edges.reverse();
        let hard = edges.iter().all(|e| e.kind == WaitKind::Hard);
        Some(WaitCycle {
            pids: edges.iter().map(|e| e.waiter).collect(),
            edges,
            hard,
        })
    }

    /// `ACCESS EXCLUSIVE` requests that wait while other sessions queue behind them: the lock
    /// queue a migration's `ALTER TABLE` builds in front of every read and write of its table.
    pub fn access_exclusive_queues(&self) -> Vec<ExclusiveQueue> {
        let mut out = Vec::new();
        for (i, l) in self.snapshot.locks.iter().enumerate() {
            let Some(requester) = l.pid else { continue };
            if l.granted
                || l.locktype != "relation"
                || l.table_mode() != Some(TableLockMode::AccessExclusive)
            {
                continue;
            }
            let waits_for = self.blockers_of(requester).map(|e| e.blocker).collect();
            let queued: Vec<u32> = self
                .waiters_of(requester)
                .filter(|e| {
                    e.awaited
                        .is_some_and(|a| self.snapshot.locks[a].same_object(l))
                })
                .map(|e| e.waiter)
                .collect();
            if !queued.is_empty() {
                out.push(ExclusiveQueue {
                    requester,
                    request: i,
                    waits_for,
                    queued,
                });
            }
        }
        out
    }
}

/// Hard if the blocker holds a conflicting granted lock on the awaited object; soft if it only
/// requests one; hard with no lock named when the awaited lock is unknown (`pg_locks` and
/// `pg_blocking_pids` are read at slightly different instants).
fn classify(
    snapshot: &LockSnapshot,
    awaited: Option<usize>,
    blocker: u32,
) -> (WaitKind, Option<usize>) {
    let Some(a) = awaited else {
        return (WaitKind::Hard, None);
    };
    let want: &HeldLock = &snapshot.locks[a];
    let on_same = |l: &&HeldLock| l.pid == Some(blocker) && l.same_object(want);
    let mut soft = None;
    for (i, l) in snapshot.locks.iter().enumerate() {
        if !on_same(&l) || !l.conflicts_with(want) {
            continue;
        }
        if l.granted {
            return (WaitKind::Hard, Some(i));
        }
        soft.get_or_insert(i);
    }
    match soft {
        Some(i) => (WaitKind::Soft, Some(i)),
        // Held through a lock group (parallel workers) or changed between the reads.
        None => (WaitKind::Hard, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockgraph_core::{BlockedBy, HeldLock};

    fn rel(pid: u32, oid: u32, mode: &str, granted: bool) -> HeldLock {
        HeldLock {
            pid: Some(pid),
            locktype: "relation".into(),
            database: Some(1),
            relation: Some(oid),
            mode: mode.into(),
            granted,
            ..HeldLock::default()
        }
    }

    fn xid(pid: u32, x: &str, mode: &str, granted: bool) -> HeldLock {
        HeldLock {
            pid: Some(pid),
            locktype: "transactionid".into(),
            transactionid: Some(x.into()),
            mode: mode.into(),
            granted,
            ..HeldLock::default()
        }
    }

    fn snap(locks: Vec<HeldLock>, blocked: &[(u32, &[u32])]) -> LockSnapshot {
        LockSnapshot {
            own_pid: 999,
            locks,
            blocked_by: blocked
                .iter()
                .map(|(p, b)| BlockedBy {
                    pid: *p,
                    blockers: b.to_vec(),
                })
                .collect(),
            ..LockSnapshot::default()
        }
    }

    #[test]
    fn chain_has_one_root_and_hard_edges() {
        // 1 holds row lock (xid 10); 2 waits for it holding xid 11; 3 waits for 2.
        let s = snap(
            vec![
                xid(1, "10", "ExclusiveLock", true),
                xid(2, "11", "ExclusiveLock", true),
                xid(2, "10", "ShareLock", false),
                xid(3, "11", "ShareLock", false),
            ],
            &[(2, &[1]), (3, &[2])],
        );
        let g = WaitGraph::build(&s);
        assert_eq!(g.roots(), vec![1]);
        let t = g.tree(1);
        assert_eq!(t.descendants(), BTreeSet::from([2, 3]));
        assert_eq!(t.depth(), 2);
        assert!(g.edges.iter().all(|e| e.kind == WaitKind::Hard));
        assert!(g.cycles().is_empty());
    }

    #[test]
    fn two_way_hard_cycle() {
        let s = snap(
            vec![
                xid(1, "10", "ExclusiveLock", true),
                xid(2, "11", "ExclusiveLock", true),
                xid(1, "11", "ShareLock", false),
                xid(2, "10", "ShareLock", false),
            ],
            &[(1, &[2]), (2, &[1])],
        );
        let g = WaitGraph::build(&s);
        assert!(g.roots().is_empty());
        let c = g.cycles();
        assert_eq!(c.len(), 1);
        assert!(c[0].hard);
        assert_eq!(c[0].pids, vec![1, 2]);
    }

    #[test]
    fn queue_behind_access_exclusive_is_soft_and_not_a_cycle() {
        // 1 reads t (AccessShare, idle in transaction); 2 asks ACCESS EXCLUSIVE; 3 asks
        // AccessShare and queues behind 2's request.
        let s = snap(
            vec![
                rel(1, 100, "AccessShareLock", true),
                rel(2, 100, "AccessExclusiveLock", false),
                rel(3, 100, "AccessShareLock", false),
            ],
            &[(2, &[1]), (3, &[2])],
        );
        let g = WaitGraph::build(&s);
        let soft: Vec<_> = g
            .edges
            .iter()
            .filter(|e| e.kind == WaitKind::Soft)
            .collect();
        assert_eq!(soft.len(), 1);
        assert_eq!((soft[0].waiter, soft[0].blocker), (3, 2));
        assert!(g.cycles().is_empty());
        assert_eq!(g.roots(), vec![1]);
        let q = g.access_exclusive_queues();
        assert_eq!(q.len(), 1);
        assert_eq!(
            (q[0].requester, q[0].waits_for.clone(), q[0].queued.clone()),
            (2, vec![1], vec![3])
        );
    }

    #[test]
    fn own_pid_is_ignored() {
        let s = snap(vec![rel(999, 1, "AccessShareLock", false)], &[(999, &[1])]);
        assert!(WaitGraph::build(&s).edges.is_empty());
    }
}
