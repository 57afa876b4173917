//! Learning lock orders from a live server (`lockgraph live --watch --report`): follow each
//! backend's transaction from snapshot to snapshot and rebuild it as a [`Transaction`](lockgraph_core::Transaction).
//!
//! Between two samples a backend may have run statements lockgraph never saw, so a transaction
//! is rebuilt from two kinds of evidence, in the order they were first seen:
//!
//! - each new statement (`query_start` changed inside the same transaction): its text is run
//!   through the SQL inference, giving table *and row* locks (row locks never show in
//!   `pg_locks` unless someone waits for them);
//! - each relation lock newly granted in `pg_locks` that the inferred statements do not
//!   explain: added as a table lock at the place it was first seen.
//!
//! A transaction is identified by (pid, `xact_start`); it ends when the backend leaves it (its
//! `xact_start` changes or it disappears). Only transactions that locked at least two relations
//! (or rows) can contribute an order, but every one is kept so counts stay honest.

use lockgraph_core::{
    LockAcquisition, LockMode, LockSnapshot, LockTarget, Schema, Statement, Transaction,
    TransactionKind,
};
use lockgraph_sql::{InferenceCache, TransactionLocks, make_statement, split_statements};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Transactions held in memory at most; older finished ones are dropped (counted).
const MAX_TRANSACTIONS: usize = 50_000;

/// One transaction being followed.
struct Followed {
    pid: u32,
    xact_start: String,
    /// `query_start` of the last statement taken in.
    last_query_start: Option<String>,
    statements: Vec<Arc<Statement>>,
    held: TransactionLocks,
    /// Relation locks seen in `pg_locks` that inference did not give, with the statement that
    /// was current when first seen.
    observed: Vec<(LockTarget, LockMode, Arc<Statement>)>,
    seen_relations: Vec<(String, String)>,
}

/// Follows transactions across snapshots.
pub struct Learner {
    schema: Schema,
    cache: InferenceCache,
    open: BTreeMap<u32, Followed>,
    done: Vec<Transaction>,
    /// Finished transactions dropped beyond the 50,000 kept in memory.
    pub dropped: u64,
    /// Snapshots taken in.
    pub samples: u64,
    /// Keep a copy of each finished transaction for [`Learner::take_finished`] (`--store`).
    pub keep_finished: bool,
    finished: Vec<Transaction>,
}

impl Learner {
    /// A learner inferring statements against `schema` (keys and foreign keys).
    pub fn new(schema: Schema) -> Self {
        Learner {
            schema,
            cache: InferenceCache::new(),
            open: BTreeMap::new(),
            done: Vec::new(),
            dropped: 0,
            samples: 0,
            keep_finished: false,
            finished: Vec::new(),
        }
    }

    /// Takes in one snapshot.
    pub fn observe(&mut self, s: &LockSnapshot) {
        self.samples += 1;
        let mut present = Vec::new();
        for b in &s.backends {
            if b.backend_type != "client backend" {
                continue;
            }
            let Some(xact_start) = &b.xact_start else {
                continue;
            };
            present.push(b.pid);
            if self
                .open
                .get(&b.pid)
                .is_some_and(|f| &f.xact_start != xact_start)
                && let Some(f) = self.open.remove(&b.pid)
            {
                self.finish(f);
            }
            let f = self.open.entry(b.pid).or_insert_with(|| Followed {
                pid: b.pid,
                xact_start: xact_start.clone(),
                last_query_start: None,
                statements: Vec::new(),
                held: TransactionLocks::default(),
                observed: Vec::new(),
                seen_relations: Vec::new(),
            });
            // A new statement of this transaction.
            if let (Some(q), Some(qs)) = (&b.query, &b.query_start)
                && f.last_query_start.as_ref() != Some(qs)
                && qs >= &f.xact_start
            {
                f.last_query_start = Some(qs.clone());
                // A simple-protocol query may hold several statements (`BEGIN; UPDATE …`).
                for raw in split_statements(q) {
                    if is_boundary(&raw.text) {
                        continue;
                    }
                    let location = format!("pid {} (transaction {})", b.pid, f.xact_start);
                    let stmt = make_statement(&location, 0, &raw.text);
                    let inf = self.cache.infer(&raw.text, &self.schema);
                    f.held.apply(&stmt, inf);
                    f.statements.push(stmt);
                }
            }
            // Relation locks new to this transaction.
            for l in s.locks_of(b.pid).filter(|l| l.granted && !l.on_index()) {
                let (Some(name), Some(mode)) = (&l.relation_name, l.table_mode()) else {
                    continue;
                };
                if name.as_str().starts_with("pg_")
                    || name.as_str().starts_with("information_schema")
                {
                    continue;
                }
                let key = (name.to_string(), l.mode.clone());
                if f.seen_relations.contains(&key) {
                    continue;
                }
                f.seen_relations.push(key);
                if let Some(stmt) = f.statements.last().cloned() {
                    f.observed.push((
                        LockTarget::Relation {
                            relation: name.clone(),
                        },
                        LockMode::Table(mode),
                        stmt,
                    ));
                }
            }
        }
        let gone: Vec<u32> = self
            .open
            .keys()
            .copied()
            .filter(|p| !present.contains(p))
            .collect();
        for p in gone {
            if let Some(f) = self.open.remove(&p) {
                self.finish(f);
            }
        }
    }

    fn finish(&mut self, f: Followed) {
        if f.statements.is_empty() {
            return;
        }
        let mut locks = f.held.into_locks();
        for (target, mode, stmt) in f.observed {
            let explained = locks.iter().any(|l| {
                l.target.relation() == target.relation()
                    && matches!(l.mode, LockMode::Table(_))
                    && l.mode.covers(mode)
            });
            if !explained {
                // Place it right after the locks of the statement that was current.
                let at = locks
                    .iter()
                    .rposition(|l| Arc::ptr_eq(&l.statement, &stmt))
                    .map_or(locks.len(), |i| i + 1);
                locks.insert(
                    at,
                    LockAcquisition {
                        target,
                        mode,
                        statement: stmt,
                        implicit: None,
                        repeated: false,
                        via: None,
                    },
                );
            }
        }
        let location = f.statements[0].location.clone();
        let kind = if f.statements.len() == 1 {
            TransactionKind::Autocommit
        } else {
            TransactionKind::Explicit
        };
        let tx = Transaction {
            name: format!("pid {} transaction {}", f.pid, f.xact_start).into(),
            location,
            kind,
            group: None,
            statements: f.statements,
            locks,
            engine: lockgraph_core::Engine::Postgres,
        };
        if self.keep_finished {
            self.finished.push(tx.clone());
        }
        self.done.push(tx);
        if self.done.len() > MAX_TRANSACTIONS {
            self.done.remove(0);
            self.dropped += 1;
        }
    }

    /// Ends every followed transaction and returns all of them, oldest first.
    pub fn finish_all(mut self) -> Vec<Transaction> {
        self.finish_open();
        self.done
    }

    /// Ends every transaction still followed (the watch is over).
    pub fn finish_open(&mut self) {
        let open = std::mem::take(&mut self.open);
        for (_, f) in open {
            self.finish(f);
        }
    }

    /// The transactions finished since the last call (only with `keep_finished`), oldest first.
    pub fn take_finished(&mut self) -> Vec<Transaction> {
        std::mem::take(&mut self.finished)
    }
}

/// Transaction control statements carry no lock of their own.
fn is_boundary(q: &str) -> bool {
    let w = q
        .trim_start()
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    matches!(
        w.as_str(),
        "BEGIN" | "START" | "COMMIT" | "END" | "ROLLBACK" | "ABORT"
    ) && !q.to_ascii_uppercase().contains("SAVEPOINT")
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockgraph_core::{Backend, HeldLock, RelationName};

    fn backend(pid: u32, xact: &str, qs: &str, q: &str) -> Backend {
        Backend {
            pid,
            backend_type: "client backend".into(),
            state: Some("idle in transaction".into()),
            xact_start: Some(xact.into()),
            query_start: Some(qs.into()),
            query: Some(q.into()),
            ..Backend::default()
        }
    }

    fn rel(pid: u32, name: &str, mode: &str) -> HeldLock {
        HeldLock {
            pid: Some(pid),
            locktype: "relation".into(),
            relation_name: Some(RelationName::new(name)),
            mode: mode.into(),
            granted: true,
            ..HeldLock::default()
        }
    }

    #[test]
    fn follows_statements_and_ends_transactions() {
        let mut l = Learner::new(Schema::default());
        let snap = |backends, locks| LockSnapshot {
            backends,
            locks,
            ..LockSnapshot::default()
        };
        l.observe(&snap(
            vec![backend(7, "t1", "t1.1", "UPDATE a SET n = 1 WHERE id = 1")],
            vec![rel(7, "a", "RowExclusiveLock")],
        ));
        l.observe(&snap(
            vec![backend(7, "t1", "t1.2", "UPDATE b SET n = 1 WHERE id = 1")],
            vec![
                rel(7, "a", "RowExclusiveLock"),
                rel(7, "b", "RowExclusiveLock"),
            ],
        ));
        // Same statement seen again: not repeated.
        l.observe(&snap(
            vec![backend(7, "t1", "t1.2", "UPDATE b SET n = 1 WHERE id = 1")],
            vec![],
        ));
        l.observe(&snap(vec![], vec![]));
        let txns = l.finish_all();
        assert_eq!(txns.len(), 1);
        assert_eq!(txns[0].statements.len(), 2);
        let rels: Vec<String> = txns[0]
            .locks
            .iter()
            .filter_map(|l| l.target.relation().map(|r| r.to_string()))
            .collect();
        assert_eq!(rels.first().map(String::as_str), Some("a"));
        assert_eq!(rels.last().map(String::as_str), Some("b"));
    }

    #[test]
    fn finished_transactions_are_handed_out_once() {
        let mut l = Learner::new(Schema::default());
        l.keep_finished = true;
        let one = |xact: &str| LockSnapshot {
            backends: vec![backend(7, xact, xact, "UPDATE a SET n = 1 WHERE id = 1")],
            ..LockSnapshot::default()
        };
        l.observe(&one("t1"));
        assert!(l.take_finished().is_empty(), "t1 is still open");
        l.observe(&one("t2"));
        assert_eq!(l.take_finished().len(), 1, "t1 ended when t2 began");
        assert!(l.take_finished().is_empty());
        l.finish_open();
        assert_eq!(l.take_finished().len(), 1, "t2 ended with the watch");
        assert_eq!(l.finish_all().len(), 2);
    }

    #[test]
    fn unexplained_relation_locks_are_added() {
        let mut l = Learner::new(Schema::default());
        l.observe(&LockSnapshot {
            backends: vec![backend(7, "t1", "t1.1", "SELECT my_function()")],
            locks: vec![rel(7, "audit", "RowExclusiveLock")],
            ..LockSnapshot::default()
        });
        let txns = l.finish_all();
        assert!(
            txns[0]
                .locks
                .iter()
                .any(|l| l.target.relation().is_some_and(|r| r.as_str() == "audit"))
        );
    }
}
