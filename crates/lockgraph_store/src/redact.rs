//! What the store keeps of a statement: never a literal. Logs carry personal data, and a store
//! file outlives the report it was made for, so every transaction, deadlock and lock wait is
//! redacted before it is written: statement texts become their redacted form, and the values a
//! lock's key is written with (`id = 42`, `pg_advisory_xact_lock(81723)`) become placeholders
//! numbered by first appearance in that transaction (`$1`, `$2`, …) — so two locks on the same
//! row still name the same row, and two on different rows still differ.

use lockgraph_core::{
    KeyPredicate, LockAcquisition, LockTarget, LockWait, ObservedDeadlock, Statement, Transaction,
};
use std::sync::Arc;

/// Numbers the values of one transaction's keys by first appearance.
#[derive(Default)]
struct Values(Vec<Arc<str>>);

impl Values {
    fn placeholder(&mut self, v: &Arc<str>) -> Arc<str> {
        let i = match self.0.iter().position(|x| x == v) {
            Some(i) => i,
            None => {
                self.0.push(v.clone());
                self.0.len() - 1
            }
        };
        format!("${}", i + 1).into()
    }

    fn key(&mut self, k: &KeyPredicate) -> KeyPredicate {
        KeyPredicate {
            values: k.values.iter().map(|v| self.placeholder(v)).collect(),
            filters: k
                .filters
                .iter()
                .map(|(c, v)| (c.clone(), self.placeholder(v)))
                .collect(),
            ..k.clone()
        }
    }

    fn target(&mut self, t: &LockTarget) -> LockTarget {
        match t {
            LockTarget::Rows { relation, key } => LockTarget::Rows {
                relation: relation.clone(),
                key: key.as_ref().map(|k| self.key(k)),
            },
            LockTarget::Advisory { key } => LockTarget::Advisory {
                key: self.placeholder(key),
            },
            other => other.clone(),
        }
    }
}

/// A statement with its text replaced by the redacted text.
fn statement(s: &Arc<Statement>) -> Arc<Statement> {
    if s.text == s.redacted {
        return s.clone();
    }
    Arc::new(Statement {
        text: s.redacted.clone(),
        ..Statement::clone(s)
    })
}

/// Statements redacted, keeping which lock points at which statement.
fn statements(list: &[Arc<Statement>]) -> Vec<Arc<Statement>> {
    list.iter().map(statement).collect()
}

/// The same lock on redacted statements: the statement at the same place of `before` in
/// `after`, else the lock's own statement redacted.
fn locks(
    locks: &[LockAcquisition],
    before: &[Arc<Statement>],
    after: &[Arc<Statement>],
    values: &mut Values,
) -> Vec<LockAcquisition> {
    locks
        .iter()
        .map(|l| LockAcquisition {
            target: values.target(&l.target),
            statement: before
                .iter()
                .position(|s| Arc::ptr_eq(s, &l.statement))
                .and_then(|i| after.get(i).cloned())
                .unwrap_or_else(|| statement(&l.statement)),
            ..l.clone()
        })
        .collect()
}

/// A transaction as the store keeps it (see the module docs).
pub(crate) fn transaction(tx: &Transaction) -> Transaction {
    let stmts = statements(&tx.statements);
    let mut values = Values::default();
    Transaction {
        locks: locks(&tx.locks, &tx.statements, &stmts, &mut values),
        statements: stmts,
        ..tx.clone()
    }
}

/// A deadlock as the store keeps it: every participant's statements and locks redacted.
pub(crate) fn deadlock(d: &ObservedDeadlock) -> ObservedDeadlock {
    let mut out = d.clone();
    for p in &mut out.participants {
        let stmts = statements(&p.statements);
        let mut values = Values::default();
        p.locks = locks(&p.locks, &p.statements, &stmts, &mut values);
        p.statements = stmts;
        p.current = p.current.as_ref().map(statement);
    }
    out
}

/// A lock wait as the store keeps it: its statement redacted.
pub(crate) fn wait(w: &LockWait) -> LockWait {
    LockWait {
        statement: w.statement.as_ref().map(statement),
        ..w.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockgraph_core::TransactionKind;
    use lockgraph_core::{Fingerprint, Location, LockMode, RelationName, RowLockMode};

    fn stmt(text: &str, redacted: &str) -> Arc<Statement> {
        Arc::new(Statement {
            location: Location::new("pg.log", 1),
            text: text.into(),
            redacted: redacted.into(),
            fingerprint: Fingerprint(1),
        })
    }

    #[test]
    fn literals_become_placeholders_and_rows_keep_their_identity() {
        let a = stmt(
            "UPDATE accounts SET b = 5 WHERE id = 42",
            "UPDATE accounts SET b = ? WHERE id = ?",
        );
        let b = stmt(
            "UPDATE accounts SET b = 6 WHERE id = 7",
            "UPDATE accounts SET b = ? WHERE id = ?",
        );
        let rows = |v: &str| LockTarget::Rows {
            relation: RelationName::new("accounts"),
            key: Some(KeyPredicate {
                columns: vec!["id".into()],
                values: vec![v.into()],
                single_row: true,
                ordered: false,
                filters: vec![("email".into(), "'ann@example.com'".into())],
            }),
        };
        let lock = |s: &Arc<Statement>, v: &str| LockAcquisition {
            target: rows(v),
            mode: LockMode::Row(RowLockMode::NoKeyUpdate),
            statement: s.clone(),
            implicit: None,
            repeated: false,
            via: None,
        };
        let tx = Transaction {
            name: "pid 1".into(),
            location: a.location.clone(),
            kind: TransactionKind::Explicit,
            group: None,
            statements: vec![a.clone(), b.clone()],
            locks: vec![lock(&a, "42"), lock(&b, "7"), lock(&a, "42")],
            engine: lockgraph_core::Engine::Postgres,
        };
        let r = transaction(&tx);
        let json = serde_json::to_string(&r).unwrap();
        for secret in ["42", "'ann@example.com'", "= 5", "= 6", "= 7"] {
            assert!(!json.contains(secret), "{secret} in {json}");
        }
        assert_eq!(r.locks[0].target, r.locks[2].target);
        assert_ne!(r.locks[0].target, r.locks[1].target);
        assert!(Arc::ptr_eq(&r.locks[0].statement, &r.statements[0]));
        assert!(Arc::ptr_eq(&r.locks[1].statement, &r.statements[1]));
    }
}
