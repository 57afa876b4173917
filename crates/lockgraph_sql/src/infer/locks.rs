//! Collecting a statement's locks in acquisition order.

use super::InferredLock;
use lockgraph_core::{
    AdvisoryMode, Implicit, KeyPredicate, LockMode, LockTarget, RelationName, RowLockMode,
    TableLockMode,
};

/// The locks of one statement, kept in three runs that are concatenated at the end: table locks
/// (taken while the statement is parsed and planned), then row and advisory locks (taken while it
/// runs), then implicit locks (foreign-key triggers fire at the end of the statement).
#[derive(Debug, Default)]
pub(crate) struct Locks {
    tables: Vec<InferredLock>,
    rows: Vec<InferredLock>,
    implicit: Vec<InferredLock>,
}

fn relation_lock(
    relation: &RelationName,
    mode: TableLockMode,
    implicit: Option<Implicit>,
) -> InferredLock {
    InferredLock {
        target: LockTarget::Relation {
            relation: relation.clone(),
        },
        mode: LockMode::Table(mode),
        implicit,
    }
}

fn row_lock(
    relation: &RelationName,
    mode: RowLockMode,
    key: Option<KeyPredicate>,
    implicit: Option<Implicit>,
) -> InferredLock {
    InferredLock {
        target: LockTarget::Rows {
            relation: relation.clone(),
            key,
        },
        mode: LockMode::Row(mode),
        implicit,
    }
}

impl Locks {
    fn seen(&self, lock: &InferredLock) -> bool {
        self.tables
            .iter()
            .chain(&self.rows)
            .chain(&self.implicit)
            .any(|l| l.target == lock.target && l.mode == lock.mode)
    }

    fn push_unique(list: &mut Vec<InferredLock>, lock: InferredLock) {
        if !list
            .iter()
            .any(|l| l.target == lock.target && l.mode == lock.mode)
        {
            list.push(lock);
        }
    }

    /// A table lock the statement takes itself. PostgreSQL records each mode separately, so a
    /// table may appear once per mode.
    pub(crate) fn table(&mut self, relation: &RelationName, mode: TableLockMode) {
        Self::push_unique(&mut self.tables, relation_lock(relation, mode, None));
    }

    /// A row lock the statement takes itself.
    pub(crate) fn rows(
        &mut self,
        relation: &RelationName,
        mode: RowLockMode,
        key: Option<KeyPredicate>,
    ) {
        Self::push_unique(&mut self.rows, row_lock(relation, mode, key, None));
    }

    /// An advisory lock (`pg_advisory_xact_lock(key)`).
    pub(crate) fn advisory(&mut self, key: String, mode: AdvisoryMode) {
        let lock = InferredLock {
            target: LockTarget::Advisory { key: key.into() },
            mode: LockMode::Advisory(mode),
            implicit: None,
        };
        Self::push_unique(&mut self.rows, lock);
    }

    /// A table lock implied by a foreign key; skipped when the statement already takes it.
    pub(crate) fn implicit_table(
        &mut self,
        relation: &RelationName,
        mode: TableLockMode,
        why: &Implicit,
    ) {
        let lock = relation_lock(relation, mode, Some(why.clone()));
        if !self.seen(&lock) {
            self.implicit.push(lock);
        }
    }

    /// A row lock implied by a foreign key; skipped when the statement already takes it.
    pub(crate) fn implicit_rows(
        &mut self,
        relation: &RelationName,
        mode: RowLockMode,
        key: Option<KeyPredicate>,
        why: &Implicit,
    ) {
        let lock = row_lock(relation, mode, key, Some(why.clone()));
        if !self.seen(&lock) {
            self.implicit.push(lock);
        }
    }

    /// Keeps only table-level locks (statements that are planned but not run: `EXPLAIN`, `PREPARE`).
    pub(crate) fn retain_tables(&mut self) {
        self.rows.clear();
        self.implicit
            .retain(|l| matches!(l.mode, LockMode::Table(_)));
    }

    /// Appends another statement's locks (a multi-statement string, `EXPLAIN`'s inner statement).
    pub(crate) fn extend(&mut self, other: Locks) {
        for l in other.tables {
            Self::push_unique(&mut self.tables, l);
        }
        for l in other.rows {
            Self::push_unique(&mut self.rows, l);
        }
        for l in other.implicit {
            if !self.seen(&l) {
                self.implicit.push(l);
            }
        }
    }

    /// All locks in acquisition order.
    pub(crate) fn finish(self) -> Vec<InferredLock> {
        let mut out = self.tables;
        out.extend(self.rows);
        out.extend(self.implicit);
        out
    }
}
