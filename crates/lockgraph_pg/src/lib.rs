//! lockgraph's live PostgreSQL side: connect to a real server and make a predicted deadlock
//! happen there.
//!
//! This is the only async crate of lockgraph (tokio + tokio-postgres); every entry point also has
//! a blocking wrapper that runs it on a current-thread runtime of its own, so the rest of the
//! workspace stays synchronous. No tokio-postgres type appears in the public API.
//!
//! Principal types:
//!
//! - [`ConnectionSpec`]: where to connect, parsed from a `postgres://` URL or a libpq
//!   `key=value` list. `Display` and `Debug` show the password as `****`;
//!   `application_name=lockgraph` unless given.
//! - [`run_repro`] / [`run_repro_blocking`]: play a [`Repro`] (from a finding, or read back with
//!   [`parse_script`]) against the server in a scratch schema, one connection per session, and
//!   return a [`ReproOutcome`]: per-step [`StepResult`]s (blocked? error?) and the
//!   [`DeadlockSeen`] when PostgreSQL aborted a statement with SQLSTATE 40P01.
//! - [`format_script`] / [`parse_script`]: a [`Repro`] as a SQL script a person can run by hand
//!   in psql sessions (what `lockgraph --emit-repro DIR` writes), and back.
//! - [`snapshot`] / [`watch`]: live inspection; [`run_trace`]: the real locks of a script.
//! - [`probe`]: check a server and learn its version; [`relation_names`]: name the relation
//!   OIDs a log printed, from `pg_class` (read-only).
//! - [`Error`]: one enum; every message is one line without the password.
//!
//! ```no_run
//! use lockgraph_core::{Repro, ReproStep};
//! use lockgraph_pg::{ConnectionSpec, ReproOptions, run_repro_blocking};
//!
//! let spec: ConnectionSpec = "postgres://postgres@127.0.0.1:5432/test".parse()?;
//! let step = |session, sql: &str| ReproStep {
//!     session,
//!     sql: sql.to_string(),
//!     origin: None,
//!     expect_block: false,
//! };
//! let repro = Repro {
//!     setup: vec![
//!         "CREATE TABLE a (id int PRIMARY KEY)".into(),
//!         "CREATE TABLE b (id int PRIMARY KEY)".into(),
//!         "INSERT INTO a VALUES (1); INSERT INTO b VALUES (1)".into(),
//!     ],
//!     steps: vec![
//!         step(1, "BEGIN"),
//!         step(2, "BEGIN"),
//!         step(1, "UPDATE a SET id = id WHERE id = 1"),
//!         step(2, "UPDATE b SET id = id WHERE id = 1"),
//!         step(1, "UPDATE b SET id = id WHERE id = 1"), // waits for session 2
//!         step(2, "UPDATE a SET id = id WHERE id = 1"), // closes the cycle
//!     ],
//!     sessions: 2,
//!     ..Repro::default()
//! };
//! let outcome = run_repro_blocking(&spec, &repro, &ReproOptions::default())?;
//! if let Some(d) = &outcome.deadlock {
//!     println!("session {} was aborted: {}", d.session, d.message);
//! }
//! # Ok::<(), lockgraph_pg::Error>(())
//! ```
//!
//! Design notes:
//!
//! - Blocking is observed, not guessed: a monitor connection looks for an ungranted `pg_locks`
//!   row of the step's backend. A step that is still waiting stays outstanding while the next
//!   steps run, exactly like a person leaving a psql session waiting; a later step for that
//!   session is queued behind it (as psql does with typed input) and marked `deferred`, so a
//!   script where another session's COMMIT releases the wait runs as written.
//! - Isolation is a scratch schema on the caller's database (`search_path` points at it), always
//!   dropped at the end, also after an error. Dropping the future of [`run_repro`] before it
//!   finishes skips that cleanup; the blocking wrapper never does.
//! - Live modes are modules next to `repro` on the same `connect` and `session` layers:
//!   [`live`] (an [`Inspector`] takes a [`LockSnapshot`](lockgraph_core::LockSnapshot) of
//!   `pg_locks` + `pg_stat_activity` + `pg_blocking_pids()` in one statement, on a read-only
//!   session with short `statement_timeout`/`lock_timeout`; [`watch`] repeats it, reconnecting
//!   with backoff, until Ctrl-C) and [`trace`] ([`run_trace`]: a script's statements in a
//!   transaction that is always rolled back, with each statement's new `pg_locks` rows).
//! - Settings are resolved the libpq way by [`ConnectionSpec::resolve`] (what the CLI calls):
//!   given, then the `PG*` environment variables, then the defaults, and the password file
//!   (`PGPASSFILE` or `~/.pgpass`) when no password was given; [`ConnectionSpec::resolve_with`]
//!   takes the environment as a function for tests. `parse` / `FromStr` read only the string.
//! - TLS is rustls (*ring*) through `tokio-postgres-rustls`, with libpq's `sslmode` semantics
//!   (see [`SslMode`]): `require` encrypts without checks unless a root certificate file exists,
//!   `verify-ca` checks the chain against `sslrootcert` (`~/.postgresql/root.crt` by default,
//!   `system` for the platform's CAs), `verify-full` also the host name. Cancel requests use the
//!   session's TLS. A failed handshake is an [`Error::Connect`] whose reason says why (not
//!   trusted, wrong host name, no SSL on the server); bad local TLS files are [`Error::Tls`].
#![warn(missing_docs)]

/// Catalog look-ups (relation OIDs to names).
mod catalog;
/// Opening connections and describing connection errors; [`probe`].
mod connect;
/// Errors of this crate.
mod error;
pub mod live;
/// The reproduction runner.
pub mod repro;
/// Reproduction scripts: format and parse.
pub mod script;
/// One open server session (client, backend pid, cancel token).
mod session;
/// Reading `pg_locks` and `pg_stat_activity`.
mod snapshot;
/// Connection settings.
pub mod spec;
/// Splitting SQL text into statements, psql-style.
mod split;
pub mod trace;

pub use catalog::{RelationNames, relation_names, relation_names_blocking};
pub use connect::{ServerInfo, probe, probe_blocking};
pub use error::Error;
pub use live::{
    InspectOptions, Inspector, WatchEnd, WatchEvent, WatchLimits, snapshot, snapshot_blocking,
    watch, watch_blocking,
};
pub use lockgraph_core::{Repro, ReproStep};
pub use repro::{
    DEADLOCK_SQLSTATE, DeadlockSeen, ReproOptions, ReproOutcome, StepError, StepResult, run_repro,
    run_repro_blocking,
};
pub use script::{format_script, parse_script};
pub use snapshot::snapshot_sql;
pub use spec::{ConnectionSpec, SslMode};
pub use trace::{TraceOptions, TraceOutcome, run_trace, run_trace_blocking};

/// A current-thread runtime for the blocking wrappers.
fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)
}
