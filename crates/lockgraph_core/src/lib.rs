//! lockgraph's model: what a lock is, what a transaction is, and what a finding is.
//!
//! Every front-end (SQL files, application source, server logs, live PostgreSQL) turns its input
//! into [`Transaction`]s; everything after that — the lock-order graph, the rules, the renderers —
//! only reads these types:
//!
//! ```text
//! input ─► Transaction { locks: [LockAcquisition { target, mode, statement }] }
//!        ─► lock-order graph over NodeKey ─► rules ─► Finding { labels, suggestion, repro }
//! ```
//!
//! - [`TableLockMode`] / [`RowLockMode`] / [`AdvisoryMode`], combined in [`LockMode`], with
//!   conflict matrices kept as documented `const` tables ([`TABLE_CONFLICTS`], [`ROW_CONFLICTS`]).
//! - [`LockTarget`]: a relation, rows of a relation (with an optional [`KeyPredicate`]), or an
//!   advisory key; each belongs to one graph node, [`NodeKey`].
//! - [`Statement`]: text, redacted text, [`Fingerprint`] and [`Location`], shared by the locks it takes.
//! - [`Transaction`]: ordered [`LockAcquisition`]s plus how its boundaries were found.
//! - [`Schema`]: tables, keys and foreign keys learned from DDL in the input.
//! - [`Finding`]: code, severity, message, [`Label`]s, [`Suggestion`], [`Repro`].
//! - [`LockSnapshot`]: a live server's sessions ([`Backend`]) and `pg_locks` rows ([`HeldLock`])
//!   at one instant, for the wait-for analysis of live mode.
//!
//! ```
//! use lockgraph_core::{TableLockMode, RowLockMode};
//! // Two UPDATEs on one table never block each other at the table level…
//! assert!(!TableLockMode::RowExclusive.conflicts_with(TableLockMode::RowExclusive));
//! // …but they do on the same row.
//! assert!(RowLockMode::NoKeyUpdate.conflicts_with(RowLockMode::NoKeyUpdate));
//! ```
//!
//! Design notes: the engine is a concept ([`Engine`]) so other databases' lock models fit later;
//! today every table here is PostgreSQL's. Nothing in this crate does I/O.
#![warn(missing_docs)]

/// Input problems (unparseable or unmodelled statements).
pub mod diagnostic;
/// Errors of this crate.
pub mod error;
/// Findings, suggestions, reproductions.
pub mod finding;
/// A live server's lock state: sessions, `pg_locks` rows, blockers.
pub mod live;
/// Lock modes and conflict matrices.
pub mod mode;
/// Runtime evidence: reported deadlocks and lock waits.
pub mod observed;
/// Tables, keys, foreign keys.
pub mod schema;
/// Inline suppression comments.
pub mod suppression;
/// Lock targets and graph nodes.
pub mod target;
/// Statements, lock acquisitions, transactions.
pub mod transaction;

pub use diagnostic::{Diagnostic, DiagnosticKind};
pub use error::Error;
pub use finding::{Finding, Label, Repro, ReproStep, Severity, Suggestion};
pub use live::{Backend, BlockedBy, HeldLock, LockSnapshot};
pub use mode::{
    AdvisoryMode, LockMode, ROW_CONFLICTS, RowLockMode, TABLE_CONFLICTS, TableLockMode,
};
pub use observed::{DeadlockEdge, DeadlockParticipant, LockWait, ObservedDeadlock, WaitOutcome};
pub use schema::{Column, ForeignKey, ReferentialAction, Schema, Table};
pub use suppression::Suppression;
pub use target::{KeyPredicate, LockTarget, NodeKey, RelationName, is_plain_ident, quote_ident};
pub use transaction::{
    Fingerprint, Implicit, Location, LockAcquisition, Statement, Transaction, TransactionKind,
};

/// The database engine whose lock model applies. Only PostgreSQL is modelled today.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Engine {
    /// PostgreSQL 12–17.
    #[default]
    Postgres,
}
