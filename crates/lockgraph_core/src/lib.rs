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
//!   conflict matrices kept as documented `const` tables ([`TABLE_CONFLICTS`], [`ROW_CONFLICTS`]);
//!   InnoDB's [`InnoDbTableMode`] / [`InnoDbRecordMode`] ([`INNODB_TABLE_CONFLICTS`],
//!   [`INNODB_RECORD_WAITS`]) are `LockMode` variants too.
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
//! Design notes: every transaction names its [`Engine`]. PostgreSQL's modes and InnoDB's modes
//! are both [`LockMode`]s (modes of different engines never conflict), so one lock-order graph
//! holds both; SQLite's file lock lives in its own crate. Nothing in this crate does I/O.
#![warn(missing_docs)]

/// Input problems (unparseable or unmodelled statements).
pub mod diagnostic;
/// Errors of this crate.
pub mod error;
/// Findings, suggestions, reproductions.
pub mod finding;
/// InnoDB (MySQL/MariaDB) lock modes and compatibility rules.
pub mod innodb;
/// A live server's lock state: sessions, `pg_locks` rows, blockers.
pub mod live;
/// Lock modes and conflict matrices.
pub mod mode;
/// Runtime evidence: reported deadlocks and lock waits.
pub mod observed;
/// What happened when a reproduction ran on a real server.
pub mod outcome;
/// Tables, keys, foreign keys.
pub mod schema;
/// The reproduction script format (markers; each engine splits statements its own way).
pub mod script;
/// Inline suppression comments.
pub mod suppression;
/// Lock targets and graph nodes.
pub mod target;
/// Statements, lock acquisitions, transactions.
pub mod transaction;

pub use diagnostic::{Diagnostic, DiagnosticKind};
pub use error::Error;
pub use finding::{Finding, Label, Repro, ReproStep, Severity, Suggestion};
pub use innodb::{
    INNODB_RECORD_WAITS, INNODB_TABLE_CONFLICTS, InnoDbRecordKind, InnoDbRecordMode, InnoDbSx,
    InnoDbTableMode, parse_innodb_mode,
};
pub use live::{Backend, BlockedBy, HeldLock, LockSnapshot};
pub use mode::{
    AdvisoryMode, LockMode, ROW_CONFLICTS, RowLockMode, TABLE_CONFLICTS, TableLockMode,
};
pub use observed::{DeadlockEdge, DeadlockParticipant, LockWait, ObservedDeadlock, WaitOutcome};
pub use outcome::{DeadlockSeen, ReproOutcome, StepError, StepResult};
pub use schema::{Column, ForeignKey, ReferentialAction, Schema, Table};
pub use script::{ScriptError, ScriptPiece, read_script, script_engine, write_sections};
pub use suppression::Suppression;
pub use target::{KeyPredicate, LockTarget, NodeKey, RelationName, is_plain_ident, quote_ident};
pub use transaction::{
    Fingerprint, Implicit, Location, LockAcquisition, Statement, Transaction, TransactionKind,
};

/// The database engine a transaction runs on: it decides which lock model applies.
///
/// PostgreSQL's row and table locks ([`TableLockMode`], [`RowLockMode`]) and InnoDB's record and
/// table locks are both modelled as [`LockMode`]s, so their transactions share the lock-order
/// graph (modes of different engines never conflict); SQLite locks a whole database file and has
/// its own model (crate `lockgraph_sqlite`). Front-ends set [`Transaction::engine`] from a
/// configured engine or from the driver the code uses; the rules registry says which engines
/// each rule applies to.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// PostgreSQL 12–17.
    #[default]
    Postgres,
    /// MySQL 5.7/8.x and MariaDB 10.x with InnoDB tables.
    Mysql,
    /// SQLite 3.
    Sqlite,
}

impl Engine {
    /// Every engine, in declaration order.
    pub const ALL: [Engine; 3] = [Engine::Postgres, Engine::Mysql, Engine::Sqlite];

    /// The engine's name in configuration files and flags: `postgres`, `mysql`, `sqlite`.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Mysql => "mysql",
            Engine::Sqlite => "sqlite",
        }
    }

    /// The engine's name for people: `PostgreSQL`, `MySQL/InnoDB`, `SQLite`.
    pub fn title(self) -> &'static str {
        match self {
            Engine::Postgres => "PostgreSQL",
            Engine::Mysql => "MySQL/InnoDB",
            Engine::Sqlite => "SQLite",
        }
    }

    /// Reads a name as [`Engine::name`] prints it, or a common alias (`postgresql`, `pg`,
    /// `mariadb`, `innodb`, `sqlite3`), in any case.
    pub fn parse(name: &str) -> Option<Engine> {
        match name.trim().to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" | "pg" => Some(Engine::Postgres),
            "mysql" | "mariadb" | "innodb" => Some(Engine::Mysql),
            "sqlite" | "sqlite3" => Some(Engine::Sqlite),
            _ => None,
        }
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.title())
    }
}

#[cfg(test)]
mod engine_tests {
    use super::Engine;

    #[test]
    fn names_round_trip_and_aliases_parse() {
        for e in Engine::ALL {
            assert_eq!(Engine::parse(e.name()), Some(e));
            assert_eq!(Engine::parse(&e.name().to_uppercase()), Some(e));
        }
        assert_eq!(Engine::parse("MariaDB"), Some(Engine::Mysql));
        assert_eq!(Engine::parse("postgresql"), Some(Engine::Postgres));
        assert_eq!(Engine::parse("oracle"), None);
    }
}
