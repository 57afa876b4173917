//! lockgraph's SQL front-end: SQL text → statements → the locks each takes → transactions.
//!
//! This is the only crate that imports `sqlparser`; nothing of it crosses the crate boundary.
//!
//! - [`split_statements`] cuts a file into [`RawStatement`]s (strings, quoted identifiers,
//!   dollar quotes, nested comments, `BEGIN ATOMIC` bodies and `pg_dump` COPY data understood).
//! - [`parse_schema`] learns tables, keys and foreign keys ([`Schema`]) from the DDL in the input.
//! - [`infer_statement`] classifies one statement ([`StatementKind`]) and lists the
//!   [`InferredLock`]s it takes in acquisition order: table locks, then row and advisory locks,
//!   then implicit foreign-key locks. [`InferenceCache`] memoizes it per statement shape.
//! - [`redact`], [`fingerprint`] and [`make_statement`] build the shared [`Statement`] values.
//! - [`infer_statement_innodb`] does the same for MySQL/MariaDB statements under InnoDB's lock
//!   model ([`lockgraph_core::InnoDbRecordMode`]), and [`reinfer_innodb`] re-infers a whole
//!   transaction's locks that way.
//! - [`build_transactions`] turns one file into [`Transaction`]s (`BEGIN … COMMIT` blocks,
//!   savepoints, autocommit statements, or the whole file), with [`Diagnostic`]s for statements
//!   it could not parse or does not model.
//!
//! ```
//! use lockgraph_core::{LockMode, LockTarget, RowLockMode, TableLockMode};
//! use lockgraph_sql::{infer_statement, parse_schema};
//!
//! let (schema, _) = parse_schema(&[("schema.sql",
//!     "CREATE TABLE accounts (id int PRIMARY KEY);
//!      CREATE TABLE ledger (id int PRIMARY KEY, account_id int REFERENCES accounts(id));")]);
//! let inf = infer_statement("INSERT INTO ledger (id, account_id) VALUES (1, $1)", &schema);
//! let locks: Vec<String> = inf.locks.iter().map(|l| format!("{} {}", l.target, l.mode)).collect();
//! assert_eq!(locks, [
//!     "ledger ROW EXCLUSIVE",
//!     "accounts ROW SHARE",                   // the foreign-key check…
//!     "accounts rows (id = $1) FOR KEY SHARE", // …locks the parent row
//! ]);
//! assert!(inf.locks[2].implicit.is_some());
//! ```
//!
//! # Design notes
//!
//! - **Templates.** Every statement is first turned into a literal-free template (literals become
//!   numbered markers, driver placeholders `$n`, unquoted words lower case, and the row-locking
//!   clauses sqlparser 0.64 rejects — `FOR NO KEY UPDATE`, `FOR KEY SHARE`, `OF a, b` — are
//!   rewritten after recording what was written). Inference runs on the template, so one result
//!   serves every statement of the same shape; key values are re-attached afterwards.
//! - **Three readers.** Transaction control and a handful of commands sqlparser rejects or that
//!   name their relations in fixed places (`ALTER TABLE`, `VACUUM`, `CLUSTER`, `REINDEX`, …) are
//!   read from tokens against documented lock tables; queries and DML are read from sqlparser's
//!   AST; text sqlparser rejects gets a tolerant token scan and an `UnparseableStatement` problem.
//! - **Lock data follows the server.** Every lock table is pinned against `pg_locks` on a real
//!   PostgreSQL by `tests/pg_oracle.rs`; where the server takes more than the docs mention (an
//!   index rebuild's SHARE lock, a new table's own locks) the data follows the server.
//! - **Never panics, never overflows.** sqlparser's recursion limit is kept; operator chains,
//!   which it builds without one, are bounded before parsing and walked iteratively.
#![warn(missing_docs)]

/// Statement → locks: classification, dispatch, AST walk, token commands, cache.
mod infer;
/// The tolerant PostgreSQL lexer shared by everything token-based.
mod lexer;
/// Redaction, fingerprints and literal-free templates.
mod normalize;
/// Schema from DDL.
mod schema;
/// Splitting files into statements.
mod split;
/// Transactions from SQL files.
mod transaction;

pub use infer::{
    Inference, InferenceCache, InferredLock, StatementKind, infer_statement,
    infer_statement_innodb, redact_mysql, reinfer_innodb,
};
pub use lockgraph_core::{Diagnostic, Schema, Statement, Transaction};
pub use normalize::{fingerprint, make_statement, redact, redact_source};
pub use schema::parse_schema;
pub use split::{RawStatement, split_statements};
pub use transaction::{SqlFileOptions, TransactionLocks, build_transactions};
