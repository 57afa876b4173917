//! Lock waits (`log_lock_waits`, lock and statement timeouts, NOWAIT failures) and the offline
//! wait-for graph.

use crate::analyzer::{Core, MAX_LOCK_WAITS, Session};
use crate::deadlock::{Detected, pick_relation};
use crate::format::Entry;
use crate::lockmsg::{WaitKind, WaitMessage, parse_context, parse_holders, parse_target};
use lockgraph_core::{LockMode, LockWait, ObservedDeadlock, RelationName, Statement, WaitOutcome};
use lockgraph_sql::make_statement;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Lock waits per session whose statement is filled in later (duration logging).
const MAX_UNRESOLVED: usize = 64;

/// The lock waits kept: every wait is counted, the [`MAX_LOCK_WAITS`] longest are kept in full
/// (the report shows the worst waits and the root blockers behind them; a log with a million
/// waits must not keep a million). A wait has a stable id (its number in the log), so messages
/// about it later find it — or find nothing when it was dropped, and are then only counted.
#[derive(Default)]
pub(crate) struct Waits {
    kept: BTreeMap<usize, LockWait>,
    next: usize,
    /// Waits dropped to stay within the bound.
    pub dropped: u64,
    /// Waits that began before an incremental read's cut (see
    /// [`LogOptions::count_after_line`](crate::LogOptions::count_after_line)): counted only if
    /// they end after it (the previous read held them open).
    uncounted: BTreeSet<usize>,
}

impl Waits {
    pub(crate) fn get(&self, id: usize) -> Option<&LockWait> {
        self.kept.get(&id)
    }

    pub(crate) fn get_mut(&mut self, id: usize) -> Option<&mut LockWait> {
        self.kept.get_mut(&id)
    }

    /// Keeps a new wait; returns its id. Past half again the bound, the shortest waits (the
    /// earliest among equals) are dropped down to the bound — never the new one.
    fn push(&mut self, w: LockWait) -> usize {
        let id = self.next;
        self.next += 1;
        self.kept.insert(id, w);
        if self.kept.len() > MAX_LOCK_WAITS + MAX_LOCK_WAITS / 2 {
            let mut by_length: Vec<(f64, usize)> = self
                .kept
                .iter()
                .filter(|(i, _)| **i != id)
                .map(|(i, w)| (w.waited_ms, *i))
                .collect();
            by_length.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let excess = self.kept.len() - MAX_LOCK_WAITS;
            for (_, i) in by_length.into_iter().take(excess) {
                self.kept.remove(&i);
                self.dropped += 1;
            }
        }
        id
    }

    /// The kept waits in log order.
    pub(crate) fn into_vec(mut self) -> Vec<LockWait> {
        for id in &self.uncounted {
            self.kept.remove(id);
        }
        self.kept.into_values().collect()
    }
}

impl Core {
    /// `process N still waiting for … / acquired … / detected deadlock while waiting for … /
    /// avoided deadlock for … / failed to acquire …`.
    pub(crate) fn on_wait(&mut self, sess: Option<&mut Session>, e: &Entry, w: &WaitMessage<'_>) {
        self.stats.lock_wait_messages += 1;
        let (holders, queue) = parse_holders(&e.detail);
        let existing = self.open_waits.get(&w.pid).copied().filter(|&i| {
            self.waits
                .get(i)
                .is_some_and(|x| x.mode == w.mode && x.target == w.target)
        });
        let closing = !matches!(w.kind, WaitKind::StillWaiting | WaitKind::AvoidedDeadlock);
        let idx = match existing {
            Some(i) => {
                if closing {
                    self.open_waits.remove(&w.pid);
                    self.count_closed(i);
                }
                Some(i)
            }
            None => {
                let i = self.new_wait(sess, e, w.pid, w.mode, w.target);
                if let Some(i) = i
                    && !closing
                {
                    self.open_waits.insert(w.pid, i);
                }
                i
            }
        };
        if let Some(wait) = idx.and_then(|i| self.waits.get_mut(i)) {
            wait.waited_ms = wait.waited_ms.max(w.ms);
            if !holders.is_empty() {
                wait.holders = holders.clone();
            }
            if !queue.is_empty() {
                wait.queue = queue;
            }
            wait.outcome = match w.kind {
                WaitKind::Acquired => WaitOutcome::Acquired,
                WaitKind::DetectedDeadlock => WaitOutcome::Deadlock,
                _ => wait.outcome,
            };
        }
        if w.kind == WaitKind::DetectedDeadlock {
            let statement = idx
                .and_then(|i| self.waits.get(i)?.statement.as_ref())
                .map(|s| (s.text.to_string(), self.src, s.location.line));
            self.pending_detected.insert(
                w.pid,
                Detected {
                    location: self.location(e.line),
                    timestamp: (!e.timestamp.is_empty()).then(|| e.timestamp.clone()),
                    waiter: w.pid,
                    mode: w.mode.to_string(),
                    target: w.target.to_string(),
                    holders,
                    context: e.context.clone(),
                    statement,
                },
            );
        }
    }

    /// Ends the open wait of `pid` with `outcome`; false when it has none.
    pub(crate) fn close_wait(&mut self, pid: u32, outcome: WaitOutcome) -> bool {
        match self.open_waits.remove(&pid) {
            Some(i) => {
                self.count_closed(i);
                if let Some(w) = self.waits.get_mut(i)
                    && w.outcome == WaitOutcome::Unknown
                {
                    w.outcome = outcome;
                }
                true
            }
            None => false,
        }
    }

    /// A wait that began before the cut ends: counted when it ends after it.
    fn count_closed(&mut self, id: usize) {
        if self.counting && self.waits.uncounted.remove(&id) {
            self.stats.lock_waits += 1;
        }
    }

    /// For [`LogOptions::hold_open`](crate::LogOptions::hold_open): drops the waits still open
    /// (uncounting them) and returns where each began, as (input index, line).
    pub(crate) fn hold_open_waits(&mut self) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        for (_, id) in std::mem::take(&mut self.open_waits) {
            if let Some(w) = self.waits.kept.remove(&id) {
                let src = self.sources.iter().position(|s| *s == w.location.path);
                out.push((src.unwrap_or(0) as u32, w.location.line));
            }
            if !self.waits.uncounted.remove(&id) {
                self.stats.lock_waits = self.stats.lock_waits.saturating_sub(1);
            }
        }
        out
    }

    /// At the end of a read that holds nothing open: waits still open that began before the
    /// cut are counted now.
    pub(crate) fn count_open_waits(&mut self) {
        let open: Vec<usize> = self.open_waits.values().copied().collect();
        for id in open {
            self.count_closed(id);
        }
    }

    /// A lock timeout (55P03) with no `still waiting` line before it, or a NOWAIT failure
    /// (`could not obtain lock on [row in] relation "t"`): a wait that ended in a timeout.
    pub(crate) fn timeout_without_wait(
        &mut self,
        sess: Option<&mut Session>,
        e: &Entry,
        nowait: Option<(bool, RelationName)>,
    ) {
        if !self.counting {
            return;
        }
        self.stats.lock_waits += 1;
        let statement = self.entry_statement(sess.as_deref(), e);
        let locks = statement
            .as_ref()
            .map(|s| self.cache.infer(&s.text, &self.schema).locks)
            .unwrap_or_default();
        let (row, relation) = match nowait {
            Some((row, rel)) => (row, Some(rel)),
            None => {
                let ctx = parse_context(&e.context);
                let row = ctx.tuple.is_some()
                    || e.context.contains(" tuple ")
                    || locks.iter().any(|l| matches!(l.mode, LockMode::Row(_)));
                let rel = ctx.best().cloned().or_else(|| {
                    locks
                        .iter()
                        .find(|l| matches!(l.mode, LockMode::Row(_)) == row)
                        .and_then(|l| l.target.relation().cloned())
                });
                (row, rel)
            }
        };
        let mode = relation
            .as_ref()
            .and_then(|rel| {
                locks
                    .iter()
                    .filter(|l| l.target.relation() == Some(rel))
                    .find(|l| matches!(l.mode, LockMode::Row(_)) == row)
            })
            .map(|l| match l.mode {
                LockMode::Table(m) => m.pg_name().to_string(),
                other => other.to_string(),
            })
            .unwrap_or_else(|| "unknown".to_string());
        let target = match (&relation, row) {
            (Some(r), true) => format!("row in relation \"{r}\""),
            (Some(r), false) => format!("relation \"{r}\""),
            (None, _) => "unknown".to_string(),
        };
        self.waits.push(LockWait {
            location: self.location(e.line),
            at: (!e.timestamp.is_empty()).then(|| e.timestamp.clone()),
            waiter: e.pid,
            mode,
            target,
            relation,
            holders: Vec::new(),
            queue: Vec::new(),
            waited_ms: 0.0,
            outcome: WaitOutcome::Timeout,
            statement,
        });
    }

    /// The statement an entry is about: its STATEMENT line, else the session's current one.
    fn entry_statement(&self, sess: Option<&Session>, e: &Entry) -> Option<Arc<Statement>> {
        let path = &self.sources[self.src as usize];
        if !e.statement.trim().is_empty() {
            let line = if e.statement_line > 0 {
                e.statement_line
            } else {
                e.line
            };
            return Some(make_statement(path, line, &e.statement));
        }
        sess.filter(|s| s.has_last && s.last_before)
            .map(|s| make_statement(&self.sources[s.last_at.0 as usize], s.last_at.1, &s.last))
    }

    fn new_wait(
        &mut self,
        sess: Option<&mut Session>,
        e: &Entry,
        pid: u32,
        mode: &str,
        target: &str,
    ) -> Option<usize> {
        if self.counting {
            self.stats.lock_waits += 1;
        }
        let counting = self.counting;
        let statement = self.entry_statement(sess.as_deref(), e);
        let unresolved = statement.is_none();
        let relation = self.wait_relation(target, mode, &e.context, statement.as_deref());
        let idx = self.waits.push(LockWait {
            location: self.location(e.line),
            at: (!e.timestamp.is_empty()).then(|| e.timestamp.clone()),
            waiter: pid,
            mode: mode.to_string(),
            target: target.to_string(),
            relation,
            holders: Vec::new(),
            queue: Vec::new(),
            waited_ms: 0.0,
            outcome: WaitOutcome::Unknown,
            statement,
        });
        if !counting {
            self.waits.uncounted.insert(idx);
        }
        if unresolved
            && let Some(s) = sess
            && s.unresolved_waits.len() < MAX_UNRESOLVED
        {
            s.unresolved_waits.push(idx);
        }
        Some(idx)
    }

    /// A wait's statement, known only now (duration logging writes it when it completes).
    pub(crate) fn fill_wait_statement(&mut self, idx: usize, stmt: &Arc<Statement>) {
        let Some(w) = self.waits.get(idx) else {
            return;
        };
        if w.statement.is_some() {
            return;
        }
        let relation = match &w.relation {
            Some(r) => Some(r.clone()),
            None => {
                let (target, mode) = (w.target.clone(), w.mode.clone());
                self.wait_relation(&target, &mode, "", Some(stmt))
            }
        };
        if let Some(w) = self.waits.get_mut(idx) {
            w.statement = Some(stmt.clone());
            w.relation = relation;
        }
    }

    /// The relation of a waited-for lock: a known OID, the CONTEXT, or the statement's locks.
    fn wait_relation(
        &mut self,
        target: &str,
        mode: &str,
        context: &str,
        statement: Option<&Statement>,
    ) -> Option<RelationName> {
        let t = parse_target(target);
        if let Some(oid) = t.relation
            && let Some(n) = self.oids.get(&oid)
        {
            return Some(n.clone());
        }
        let mut found = parse_context(context).best().cloned();
        if found.is_none()
            && let Some(s) = statement
        {
            let inf = self.cache.infer(&s.text, &self.schema);
            let view: Vec<_> = inf
                .locks
                .iter()
                .map(|l| (&l.target, l.mode, l.implicit.is_some()))
                .collect();
            found = pick_relation(t.kind, mode, &view);
        }
        if let (Some(oid), Some(name)) = (t.relation, &found) {
            self.oids.entry(oid).or_insert_with(|| name.clone());
        }
        found
    }

    /// OIDs learned later in the log name the relations of earlier waits and deadlock edges.
    pub(crate) fn resolve_late(&mut self) {
        let oids = &self.oids;
        name_relations(self.waits.kept.values_mut(), &mut self.deadlocks, |oid| {
            oids.get(&oid).cloned()
        });
    }
}

/// Relation OIDs `(database, relation)` of waits and deadlock edges that have no name yet.
pub(crate) fn unnamed_oids(waits: &[LockWait], deadlocks: &[ObservedDeadlock]) -> Vec<(u32, u32)> {
    let targets = waits
        .iter()
        .filter(|w| w.relation.is_none())
        .map(|w| &w.target)
        .chain(deadlocks.iter().flat_map(|d| {
            d.edges
                .iter()
                .filter(|e| e.relation.is_none())
                .map(|e| &e.target)
        }));
    let mut out: Vec<(u32, u32)> = targets.filter_map(|t| parse_target(t).relation).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Names the relations of waits and deadlock edges that have none from `name_of` (by
/// `(database OID, relation OID)`); a deadlock's relation list is rebuilt when an edge got one.
pub(crate) fn name_relations<'a>(
    waits: impl IntoIterator<Item = &'a mut LockWait>,
    deadlocks: &mut [ObservedDeadlock],
    name_of: impl Fn((u32, u32)) -> Option<RelationName>,
) {
    for w in waits {
        if w.relation.is_none()
            && let Some(oid) = parse_target(&w.target).relation
        {
            w.relation = name_of(oid);
        }
    }
    for d in deadlocks {
        let mut changed = false;
        for e in &mut d.edges {
            if e.relation.is_none()
                && let Some(oid) = parse_target(&e.target).relation
                && let Some(n) = name_of(oid)
            {
                e.relation = Some(n);
                changed = true;
            }
        }
        if changed {
            let mut rels: Vec<RelationName> = Vec::new();
            for r in d.edges.iter().filter_map(|e| e.relation.clone()) {
                if !rels.contains(&r) {
                    rels.push(r);
                }
            }
            d.relations = rels;
        }
    }
}

/// Roots of the offline wait-for graph: processes that others waited behind (as holders) while
/// not waiting themselves, with how many distinct processes waited behind them, directly or
/// through a chain. Most blocking first, then by pid.
///
/// Pass the waits of one time window for a sharper picture: pids are reused over a long log.
///
/// ```
/// use lockgraph_core::{LockWait, Location, WaitOutcome};
/// let wait = |waiter, holders: Vec<u32>| LockWait {
///     location: Location::new("pg.log", 1), at: None, waiter, mode: "ShareLock".into(),
///     target: "transaction 7".into(), relation: None, holders, queue: vec![],
///     waited_ms: 1000.0, outcome: WaitOutcome::Acquired, statement: None,
/// };
/// // 3 waits for 2, which waits for 1; 4 waits for 1 too.
/// let waits = [wait(2, vec![1]), wait(3, vec![2]), wait(4, vec![1])];
/// assert_eq!(lockgraph_logs::root_blockers(&waits), vec![(1, 3)]);
/// ```
pub fn root_blockers(waits: &[LockWait]) -> Vec<(u32, usize)> {
    let mut blocked_by: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new(); // holder → waiters
    let mut waiting: BTreeSet<u32> = BTreeSet::new();
    for w in waits {
        for &h in &w.holders {
            if h != w.waiter {
                blocked_by.entry(h).or_default().insert(w.waiter);
                waiting.insert(w.waiter);
            }
        }
    }
    let mut out: Vec<(u32, usize)> = blocked_by
        .keys()
        .filter(|h| !waiting.contains(h))
        .map(|&root| {
            let mut seen: BTreeSet<u32> = BTreeSet::new();
            let mut stack = vec![root];
            while let Some(p) = stack.pop() {
                for &w in blocked_by.get(&p).into_iter().flatten() {
                    if w != root && seen.insert(w) {
                        stack.push(w);
                    }
                }
            }
            (root, seen.len())
        })
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockgraph_core::Location;

    fn wait(waiter: u32, holders: Vec<u32>) -> LockWait {
        LockWait {
            location: Location::new("x", 1),
            at: None,
            waiter,
            mode: "ShareLock".into(),
            target: "transaction 1".into(),
            relation: None,
            holders,
            queue: vec![],
            waited_ms: 0.0,
            outcome: WaitOutcome::Unknown,
            statement: None,
        }
    }

    #[test]
    fn roots_chains_and_cycles() {
        let waits = [
            wait(2, vec![1]),
            wait(3, vec![2]),
            wait(5, vec![4]),
            wait(6, vec![4, 1]),
            // A cycle has no root.
            wait(8, vec![9]),
            wait(9, vec![8]),
        ];
        assert_eq!(root_blockers(&waits), vec![(1, 3), (4, 2)]);
        assert!(root_blockers(&[]).is_empty());
    }
}
