//! Transactions from a SQL file: `BEGIN … COMMIT` blocks, savepoints, autocommit statements.

use crate::infer::{Inference, InferenceCache, StatementKind};
use crate::normalize::make_statement;
use crate::split::split_statements;
use lockgraph_core::{
    Diagnostic, Location, LockAcquisition, RelationName, Schema, Statement, Transaction,
    TransactionKind,
};
use std::sync::Arc;

/// How to read a SQL file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SqlFileOptions {
    /// The whole file runs as one transaction (migration runners do this); `BEGIN`/`COMMIT`
    /// inside are ignored, savepoints still apply.
    pub file_is_transaction: bool,
    /// Group for every transaction of the file (see [`Transaction::group`]).
    pub group: Option<Arc<str>>,
}

/// The locks a transaction holds as its statements run, in order. Every front-end that replays
/// statements (SQL files, server logs) feeds them through this, so the rules are the same:
/// `ROLLBACK TO SAVEPOINT s` releases the locks taken after `s` (as PostgreSQL does), and a
/// relation created in the transaction takes no lock anyone else could wait for (it is invisible
/// to other sessions until commit).
#[derive(Debug, Default, Clone)]
pub struct TransactionLocks {
    locks: Vec<LockAcquisition>,
    /// Open savepoints: name, number of locks held when it was set.
    savepoints: Vec<(String, usize)>,
    /// Relations created in this transaction so far.
    created: Vec<RelationName>,
}

impl TransactionLocks {
    /// Applies one statement (already inferred) to the held locks.
    pub fn apply(&mut self, stmt: &Arc<Statement>, inf: Inference) {
        self.created.extend(inf.created.iter().cloned());
        match inf.kind {
            StatementKind::Savepoint(name) => self.savepoints.push((name, self.locks.len())),
            StatementKind::RollbackToSavepoint(name) => {
                if let Some(pos) = self.savepoints.iter().rposition(|(s, _)| *s == name) {
                    self.locks.truncate(self.savepoints[pos].1);
                    self.savepoints.truncate(pos + 1);
                }
            }
            StatementKind::ReleaseSavepoint(name) => {
                if let Some(pos) = self.savepoints.iter().rposition(|(s, _)| *s == name) {
                    self.savepoints.truncate(pos);
                }
            }
            _ => {
                let created = &self.created;
                self.locks.extend(
                    inf.locks
                        .into_iter()
                        .filter(|l| !l.target.relation().is_some_and(|r| created.contains(r)))
                        .map(|l| LockAcquisition {
                            target: l.target,
                            mode: l.mode,
                            statement: stmt.clone(),
                            implicit: l.implicit,
                            repeated: false,
                            via: None,
                        }),
                );
            }
        }
    }

    /// Whether no lock is held.
    pub fn is_empty(&self) -> bool {
        self.locks.is_empty()
    }

    /// The held locks, in acquisition order.
    pub fn into_locks(self) -> Vec<LockAcquisition> {
        self.locks
    }
}

/// A transaction being read.
struct Open {
    tx: Transaction,
    held: TransactionLocks,
}

impl Open {
    fn finish(mut self) -> Transaction {
        self.tx.locks = self.held.into_locks();
        self.tx
    }
}

/// Reads the transactions of one SQL file.
///
/// - `BEGIN`/`START TRANSACTION` … `COMMIT`/`END`/`ROLLBACK`/`ABORT` → one
///   [`TransactionKind::Explicit`] transaction; a block still open at the end of the file is
///   returned too.
/// - `ROLLBACK TO SAVEPOINT s` drops the locks taken after `s` (PostgreSQL releases them);
///   `RELEASE s` forgets `s` and keeps its locks.
/// - A statement outside a block that takes locks → its own [`TransactionKind::Autocommit`]
///   transaction.
/// - With [`SqlFileOptions::file_is_transaction`], the whole file is one
///   [`TransactionKind::File`] transaction.
///
/// Transactions are named `file.sql:LINE` (file name and first line). Unparseable and unmodelled
/// statements become diagnostics at `path:line`, and the file is read on.
///
/// ```
/// use lockgraph_core::{Schema, TransactionKind};
/// use lockgraph_sql::{build_transactions, SqlFileOptions};
///
/// let sql = "BEGIN;\nUPDATE accounts SET balance = 0 WHERE id = 1;\nUPDATE ledger SET n = 1 WHERE id = 2;\nCOMMIT;";
/// let (txs, diags) = build_transactions("sql/transfer.sql", sql, &Schema::default(), &SqlFileOptions::default());
/// assert!(diags.is_empty());
/// assert_eq!(txs.len(), 1);
/// assert_eq!((&*txs[0].name, txs[0].kind), ("transfer.sql:1", TransactionKind::Explicit));
/// assert_eq!(txs[0].locks.len(), 4); // two ROW EXCLUSIVE, two row locks
/// ```
pub fn build_transactions(
    path: &str,
    text: &str,
    schema: &Schema,
    opts: &SqlFileOptions,
) -> (Vec<Transaction>, Vec<Diagnostic>) {
    let mut cache = InferenceCache::new();
    let file_name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let new_tx = |line: u32, kind: TransactionKind| Open {
        tx: Transaction {
            name: format!("{file_name}:{line}").into(),
            location: Location::new(path, line),
            kind,
            group: opts.group.clone(),
            statements: Vec::new(),
            locks: Vec::new(),
            engine: lockgraph_core::Engine::Postgres,
        },
        held: TransactionLocks::default(),
    };
    let statements = split_statements(text);
    let mut out = Vec::new();
    let mut diagnostics = Vec::new();
    let mut open: Option<Open> = if opts.file_is_transaction {
        statements
            .first()
            .map(|s| new_tx(s.line, TransactionKind::File))
    } else {
        None
    };
    for raw in &statements {
        let stmt = make_statement(path, raw.line, &raw.text);
        let inf = cache.infer(&raw.text, schema);
        if let Some((kind, message)) = &inf.problem {
            diagnostics.push(Diagnostic {
                location: stmt.location.clone(),
                kind: *kind,
                message: message.clone(),
                statement: Some(stmt.redacted.to_string()),
            });
        }
        let push = |o: &mut Open, stmt: Arc<Statement>| o.tx.statements.push(stmt);
        match inf.kind {
            StatementKind::Begin if !opts.file_is_transaction => {
                // A BEGIN inside a block only draws a warning from PostgreSQL.
                let o = open.get_or_insert_with(|| new_tx(raw.line, TransactionKind::Explicit));
                push(o, stmt);
            }
            StatementKind::Commit | StatementKind::Rollback if !opts.file_is_transaction => {
                if let Some(mut o) = open.take() {
                    push(&mut o, stmt);
                    out.push(o.finish());
                }
            }
            _ => match open.as_mut() {
                Some(o) => {
                    o.held.apply(&stmt, inf);
                    push(o, stmt);
                }
                None => {
                    let mut o = new_tx(raw.line, TransactionKind::Autocommit);
                    o.held.apply(&stmt, inf);
                    if !o.held.is_empty() {
                        push(&mut o, stmt);
                        out.push(o.finish());
                    }
                }
            },
        }
    }
    if let Some(o) = open {
        out.push(o.finish());
    }
    (out, diagnostics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockgraph_core::{LockMode, TableLockMode};

    fn build(sql: &str, file: bool) -> (Vec<Transaction>, Vec<Diagnostic>) {
        let opts = SqlFileOptions {
            file_is_transaction: file,
            group: Some("g".into()),
        };
        build_transactions("dir/t.sql", sql, &Schema::default(), &opts)
    }

    fn relations(tx: &Transaction) -> Vec<String> {
        tx.locks
            .iter()
            .filter(|l| matches!(l.mode, LockMode::Table(_)))
            .map(|l| l.target.to_string())
            .collect()
    }

    #[test]
    fn blocks_and_autocommit() {
        let sql = "SET lock_timeout = '1s';\nUPDATE a SET x = 1;\nBEGIN;\nSELECT * FROM b;\nLOCK c;\nCOMMIT;\nSELECT 1;\nDELETE FROM d;";
        let (txs, diags) = build(sql, false);
        assert!(diags.is_empty(), "{diags:?}");
        let names: Vec<(&str, TransactionKind)> = txs.iter().map(|t| (&*t.name, t.kind)).collect();
        assert_eq!(
            names,
            vec![
                ("t.sql:2", TransactionKind::Autocommit),
                ("t.sql:3", TransactionKind::Explicit),
                ("t.sql:8", TransactionKind::Autocommit),
            ]
        );
        assert_eq!(relations(&txs[1]), vec!["b", "c"]);
        assert_eq!(txs[1].statements.len(), 4);
        assert_eq!(txs[1].group.as_deref(), Some("g"));
        assert_eq!(
            txs[1].locks[1].statement.location.to_string(),
            "dir/t.sql:5"
        );
    }

    #[test]
    fn relations_created_in_the_transaction_take_no_visible_locks() {
        let sql = "CREATE TABLE n (id int PRIMARY KEY, a_id int REFERENCES a (id));\nCREATE INDEX ON n (a_id);\nALTER TABLE n ADD COLUMN x int;\nLOCK a;";
        let (txs, _) = build(sql, true);
        assert!(
            relations(&txs[0]).iter().all(|r| r == "a"),
            "{:#?}",
            txs[0].locks
        );
        assert_eq!(relations(&txs[0]).len(), 3);
    }

    #[test]
    fn savepoints_release_locks_taken_after_them() {
        let sql = "BEGIN;\nUPDATE a SET x = 1 WHERE id = 1;\nSAVEPOINT s1;\nUPDATE b SET x = 1;\nSAVEPOINT s2;\nLOCK c;\nROLLBACK TO SAVEPOINT s1;\nUPDATE d SET x = 1;\nRELEASE s1;\nCOMMIT;";
        let (txs, _) = build(sql, false);
        assert_eq!(txs.len(), 1);
        assert_eq!(relations(&txs[0]), vec!["a", "d"]);
        assert_eq!(txs[0].statements.len(), 10);
    }

    #[test]
    fn unterminated_block_and_file_transactions() {
        let (txs, _) = build("BEGIN;\nUPDATE a SET x = 1;", false);
        assert_eq!((txs.len(), txs[0].kind), (1, TransactionKind::Explicit));
        let (txs, _) = build(
            "\n\nCREATE INDEX i ON a (x);\nBEGIN;\nALTER TABLE b ADD COLUMN c int;\nCOMMIT;\nUPDATE c SET x = 1;",
            true,
        );
        assert_eq!(txs.len(), 1);
        assert_eq!(
            (&*txs[0].name, txs[0].kind),
            ("t.sql:3", TransactionKind::File)
        );
        assert_eq!(relations(&txs[0]), vec!["a", "b", "c"]);
        assert_eq!(txs[0].locks[0].mode, LockMode::Table(TableLockMode::Share));
    }

    #[test]
    fn problems_become_diagnostics_and_the_file_goes_on() {
        let (txs, diags) = build(
            "SELECT FROM WHERE nonsense;\nCALL p();\nUPDATE a SET x = 1;",
            false,
        );
        assert_eq!(diags.len(), 2);
        assert_eq!(diags[0].location.to_string(), "dir/t.sql:1");
        assert_eq!(
            diags[1].kind,
            lockgraph_core::DiagnosticKind::UnmodelledStatement
        );
        assert_eq!(txs.len(), 1);
    }
}
