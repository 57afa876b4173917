//! SQLite's lock model for lockgraph: how SQLite transactions lock one database file, a simulator
//! that predicts `SQLITE_BUSY` for two interleaved transactions, and the derivation of SQLite
//! transactions from what the front-ends extract.
//!
//! SQLite does not lock rows or tables: each connection holds one lock on the whole database
//! file, so lockgraph's PostgreSQL model (row and table locks, the lock-order graph) does not
//! apply to it. The types here:
//!
//! - [`SqliteLock`] — the five rollback-journal states (UNLOCKED → SHARED → RESERVED → PENDING →
//!   EXCLUSIVE) with their compatibility as a `const` table ([`LOCK_COMPATIBLE`]);
//!   [`JournalMode`] — rollback journal or WAL; [`BeginMode`] — autocommit, `DEFERRED`,
//!   `IMMEDIATE`, `EXCLUSIVE`.
//! - [`SqliteTxn`] — a transaction as [`Step`]s ([`StepKind`]: begin, read, write, an external
//!   call such as an awaited HTTP request, commit, rollback), each with the file and line that
//!   does it, and the [`Connection`] it runs on (driver, database, [`Isolation`],
//!   [`BusyTimeout`]). [`SqliteModel`] holds them all; the rules (`LG501`–`LG503` in
//!   `lockgraph_rules`) read it and nothing else.
//! - [`Sim`] — two connections on one database: [`Sim::step`] answers each [`Op`] with an
//!   [`Outcome`] (done, `SQLITE_BUSY` after consulting the busy handler — a busy timeout makes it
//!   wait — or `SQLITE_BUSY` at once, SQLite's deadlock case); [`explore`] tries every
//!   interleaving of two transactions. `tests/real_sqlite.rs` runs the same interleavings on
//!   real SQLite (rusqlite, bundled) and compares.
//! - With the `scan` feature (on by default; the CLI uses it): `split_sqlite` moves the
//!   transactions that run on SQLite out of the front-ends' [`Transaction`]s into a
//!   [`SqliteModel`], reading the Python files for imports and URLs (the engine), `connect(…)`
//!   calls (isolation level, timeout) and calls that are not the database (`scan_python`).
//!
//! ```
//! use lockgraph_sqlite::{BeginMode, JournalMode, Op, Sim, explore};
//!
//! // Two DEFERRED transactions both read, then both write.
//! let mut sim = Sim::new(JournalMode::Wal);
//! for who in [0, 1] {
//!     sim.step(who, Op::Begin(BeginMode::Deferred));
//!     sim.step(who, Op::Read);
//! }
//! assert!(sim.step(0, Op::Write).code() == 0);
//! let second = sim.step(1, Op::Write);
//! assert_eq!(second.code(), 5); // SQLITE_BUSY…
//! assert!(second.fails_at_once()); // …without waiting: no busy timeout helps.
//!
//! // BEGIN IMMEDIATE: whatever the interleaving, the second waits and then completes.
//! let t = [Op::Begin(BeginMode::Immediate), Op::Read, Op::Write, Op::Commit];
//! let e = explore(JournalMode::Rollback, &t, &t);
//! assert!(e.fails_at_once.is_none() && e.completes);
//! ```
//!
//! # Design notes
//!
//! - **Rules see the model, not the parsers.** The rules crate depends on this crate without the
//!   `scan` feature: plain data ([`SqliteModel`]) built from `lockgraph_core` types plus SQLite's
//!   lock states. Parsing (tree-sitter, `lockgraph_sql`) stays behind `scan`, used by the CLI.
//! - **The driver decides where a transaction starts.** Python's `sqlite3` module (and
//!   `aiosqlite`, and SQLAlchemy's pysqlite/aiosqlite dialects on top of it) sends `BEGIN` only
//!   before the first `INSERT`/`UPDATE`/`DELETE`/`REPLACE` unless `isolation_level=None` (then only
//!   an explicit `BEGIN` opens one) or `autocommit=False` (Python 3.12+: always open). Reads
//!   before that `BEGIN` run in autocommit mode and hold no lock afterwards, so only an explicit
//!   deferred `BEGIN` (or `autocommit=False`) makes a read-then-write transaction an upgrade.
//! - **SQLite transactions leave the PostgreSQL analysis.** Row and table locks, lock-order
//!   cycles and PostgreSQL's parser diagnostics do not describe SQLite, so `split_sqlite` takes
//!   these transactions (and the parser's diagnostics on their files) out of the input of the
//!   PostgreSQL rules. MySQL is detected but its transactions stay where they were.
#![warn(missing_docs)]

/// Lock states, journal modes, begin modes.
mod lock;
/// Transactions as steps, connections, the model.
mod model;
/// The two-connection protocol simulator.
mod sim;

/// Transactions and Python files → the model.
#[cfg(feature = "scan")]
mod derive;
/// Facts of Python files.
#[cfg(feature = "scan")]
mod scan;

pub use lock::{BeginMode, JournalMode, LOCK_COMPATIBLE, SqliteLock};
pub use model::{
    BusyTimeout, Connection, Driver, ExternalKind, Isolation, SqliteModel, SqliteTxn, Step,
    StepKind,
};
pub use sim::{Exploration, Op, Outcome, Sim, explore};

#[cfg(feature = "scan")]
pub use derive::split_sqlite;
#[cfg(feature = "scan")]
pub use scan::{ExternalCall, FileFacts, Span, scan_python};

#[cfg(doc)]
use lockgraph_core::Transaction;
