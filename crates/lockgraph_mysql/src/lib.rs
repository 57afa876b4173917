//! lockgraph's live MySQL/MariaDB side: one read-only look at InnoDB's lock waits, as the same
//! [`LockSnapshot`] the PostgreSQL side takes, so `lockgraph live --url mysql://…` draws the
//! blocking trees, finds the root blockers and cycles, and runs the live rules (LG402–LG405)
//! exactly as for PostgreSQL.
//!
//! Principal items and how they connect:
//!
//! - [`Target`]: a `mysql://` or `mariadb://` URL read into the `mysql` driver's options;
//!   `Display` leaves the password out (`mysql://root@127.0.0.1:3306/test`), and so does every
//!   [`Error`]. [`is_mysql_url`] tells the CLI which side a URL belongs to.
//! - [`snapshot`] / [`snapshot_of`]: connect, make the session harmless (read-only, 1 s lock
//!   waits, a statement time limit), read the transactions, the locks involved in waits, the
//!   waits and the process list, and assemble a [`LockSnapshot`]:
//!   transactions' connections become [`Backend`](lockgraph_core::Backend)s (pid = connection
//!   id), InnoDB's locks [`HeldLock`](lockgraph_core::HeldLock) rows (`locktype` `RECORD` or
//!   `TABLE`, InnoDB's mode text such as `X`, `X,GAP`, `S,REC_NOT_GAP`,
//!   `X,GAP,INSERT_INTENTION`, relation `db.table`), and the lock waits
//!   [`BlockedBy`](lockgraph_core::BlockedBy) lists. `lockgraph_graph::WaitGraph` takes it
//!   from there. The full mapping is in the `assemble` module's table (and docs/innodb.md).
//!
//! Which tables are read depends on the server, detected from `VERSION()`:
//!
//! | server | transactions | locks and waits |
//! |---|---|---|
//! | MariaDB (any version) | `information_schema.INNODB_TRX` | `information_schema.INNODB_LOCKS`, `INNODB_LOCK_WAITS` |
//! | MySQL 5.6 / 5.7 | the same | the same |
//! | MySQL 8.0 and later | `information_schema.INNODB_TRX` | `performance_schema.data_locks`, `data_lock_waits` (+ `threads`) |
//!
//! and `information_schema.PROCESSLIST` for the sessions everywhere. The MariaDB path is tested
//! against a real MariaDB 10.11 (`tests/real_mariadb.rs`); the MySQL 8 path is written from the
//! MySQL 8.0 reference manual and tested only on rows shaped like its examples (no MySQL server
//! here): treat it as untested against a real MySQL.
//!
//! Reproductions:
//!
//! - [`run_repro`] / [`run_repro_on`]: play a [`Repro`] written for InnoDB (from a finding on
//!   MySQL code, or read back with [`parse_script`]) in a scratch database, one connection and
//!   thread per session, and return the same [`ReproOutcome`] as `lockgraph_pg`'s runner, with
//!   the [`DeadlockSeen`] when InnoDB rolled a session back with error 1213
//!   ([`DEADLOCK_ERROR`]). [`format_script`] writes a [`Repro`] as a script for `mysql` client
//!   sessions (what `lockgraph check --emit-repro DIR` writes for MySQL findings).
//!
//! ```no_run
//! let snapshot = lockgraph_mysql::snapshot("mysql://root@127.0.0.1:3306/test")?;
//! for b in &snapshot.blocked_by {
//!     println!("connection {} waits for {:?}", b.pid, b.blockers);
//! }
//! # Ok::<(), lockgraph_mysql::Error>(())
//! ```
//!
//! # Design notes
//!
//! - **Read-only by construction.** Before any read, `SET SESSION TRANSACTION READ ONLY`,
//!   `innodb_lock_wait_timeout = 1`, `lock_wait_timeout = 1`, and `max_statement_time = 10`
//!   (MariaDB) or `max_execution_time = 10000` (MySQL); then only plain `SELECT`s on
//!   `information_schema` / `performance_schema`. A unit test checks every query for that.
//! - **SQL text is returned as the server shows it.** Redacting literals is the front-end's
//!   job, the same call for both servers (`lockgraph live` runs `lockgraph_sql::redact` over
//!   every session's query unless `--show-literals`), as with `lockgraph_pg`. InnoDB's key
//!   values (`lock_data`) are user data and are never read into the snapshot: MySQL 8's is
//!   hashed on the server to tell records apart.
//! - **Synchronous.** The `mysql` crate is blocking; one snapshot is a handful of queries on
//!   one connection. There is no `watch` loop here (the CLI's `--watch` is PostgreSQL-only).
//! - **Only InnoDB's waits.** Metadata-lock waits (`Waiting for table metadata lock`, an
//!   `ALTER TABLE` queued behind a long transaction) are not in InnoDB's tables and are not
//!   shown.

#![warn(missing_docs)]

/// Rows read from the server → [`LockSnapshot`] (pure).
mod assemble;
/// [`Error`].
mod error;
/// The read-only session and its queries.
mod read;
/// The reproduction runner.
pub mod repro;
/// Reproduction scripts for the `mysql` client: format and parse.
pub mod script;
/// [`Target`] and [`is_mysql_url`].
mod target;

pub use error::Error;
pub use lockgraph_core::{DeadlockSeen, Repro, ReproOutcome, ReproStep, StepError, StepResult};
pub use repro::{DEADLOCK_ERROR, DEADLOCK_SQLSTATE, ReproOptions, run_repro, run_repro_on};
pub use script::{format_script, parse_script};
pub use target::{Target, is_mysql_url};

use lockgraph_core::LockSnapshot;

/// Takes one snapshot of the server at `url` (`mysql://user:password@host:port/db`, or
/// `mariadb://…`).
pub fn snapshot(url: &str) -> Result<LockSnapshot, Error> {
    snapshot_of(&Target::parse(url)?)
}

/// Takes one snapshot of `target`.
pub fn snapshot_of(target: &Target) -> Result<LockSnapshot, Error> {
    read::read(target).map(assemble::assemble)
}
