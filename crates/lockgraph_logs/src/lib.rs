//! Streaming PostgreSQL log analysis: server logs → transactions per session, reported
//! deadlocks joined with the statements behind them, and lock waits.
//!
//! - [`LogAnalyzer`] takes [`LogOptions`] and a [`Schema`](lockgraph_core::Schema), is
//!   [`feed`](LogAnalyzer::feed) one input after another (any `BufRead`; [`open_input`] opens
//!   plain, gzip and zstd files and stdin, [`order_inputs`] puts a rotated set in time order), and
//!   [`finish`](LogAnalyzer::finish)es into a [`LogAnalysis`].
//! - Formats ([`LogFormat`]): stderr with any `log_line_prefix` ([`Prefix`], compiled from the
//!   escapes or detected from the first lines), csvlog and jsonlog; and MySQL/MariaDB InnoDB
//!   deadlock reports (`SHOW ENGINE INNODB STATUS`, error logs), read into the same deadlocks.
//! - [`LogAnalysis::transactions`]: one representative [`Transaction`](lockgraph_core::Transaction)
//!   per distinct shape (its statements' fingerprints and locks) with
//!   [`LogAnalysis::shape_counts`]; the locks come from `lockgraph_sql`'s inference, each tied to
//!   the log line of its statement.
//! - [`LogAnalysis::deadlocks`]: [`ObservedDeadlock`](lockgraph_core::ObservedDeadlock)s grouped by
//!   signature; [`LogAnalysis::lock_waits`]: [`LockWait`](lockgraph_core::LockWait)s with their
//!   outcome, and [`root_blockers`] over them.
//! - Problems in the input are [`LogWarning`]s, counted per [`WarningKind`] in [`LogStats`]; SQL
//!   that cannot be parsed becomes a [`Diagnostic`](lockgraph_core::Diagnostic).
//!
//! ```
//! use lockgraph_logs::{LogAnalyzer, LogOptions};
//!
//! let log = "\
//! 2024-05-01 10:00:00.001 UTC [5477] app@shop LOG:  statement: BEGIN
//! 2024-05-01 10:00:00.002 UTC [5477] app@shop LOG:  statement: UPDATE accounts SET balance = balance - 1 WHERE id = 1
//! 2024-05-01 10:00:00.003 UTC [5478] app@shop LOG:  statement: BEGIN
//! 2024-05-01 10:00:00.004 UTC [5478] app@shop LOG:  statement: UPDATE ledger SET amount = amount + 1 WHERE id = 2
//! 2024-05-01 10:00:00.005 UTC [5477] app@shop LOG:  statement: UPDATE ledger SET amount = amount + 1 WHERE id = 2
//! 2024-05-01 10:00:00.006 UTC [5478] app@shop LOG:  statement: UPDATE accounts SET balance = balance - 1 WHERE id = 1
//! 2024-05-01 10:00:01.007 UTC [5478] app@shop ERROR:  deadlock detected
//! 2024-05-01 10:00:01.007 UTC [5478] app@shop DETAIL:  Process 5478 waits for ShareLock on transaction 728; blocked by process 5477.
//! \tProcess 5477 waits for ShareLock on transaction 729; blocked by process 5478.
//! \tProcess 5478: UPDATE accounts SET balance = balance - 1 WHERE id = 1
//! \tProcess 5477: UPDATE ledger SET amount = amount + 1 WHERE id = 2
//! 2024-05-01 10:00:01.007 UTC [5478] app@shop HINT:  See server log for query details.
//! 2024-05-01 10:00:01.007 UTC [5478] app@shop CONTEXT:  while updating tuple (0,1) in relation \"accounts\"
//! 2024-05-01 10:00:01.007 UTC [5478] app@shop STATEMENT:  UPDATE accounts SET balance = balance - 1 WHERE id = 1
//! 2024-05-01 10:00:01.008 UTC [5478] app@shop LOG:  statement: ROLLBACK
//! 2024-05-01 10:00:01.009 UTC [5477] app@shop LOG:  statement: COMMIT
//! ";
//! let mut analyzer = LogAnalyzer::new(LogOptions::default(), Default::default());
//! analyzer.feed("postgresql.log", log.as_bytes())?;
//! let analysis = analyzer.finish();
//!
//! let d = &analysis.deadlocks[0];
//! let relations: Vec<&str> = d.relations.iter().map(|r| r.as_str()).collect();
//! assert_eq!(relations, ["accounts", "ledger"]);
//! // Each process's whole transaction, from statement logging:
//! let p5477 = d.participants.iter().find(|p| p.pid == 5477).unwrap();
//! assert_eq!(p5477.statements.len(), 3); // BEGIN, UPDATE accounts, UPDATE ledger
//! assert!(d.participants.iter().any(|p| p.victim && p.pid == 5478));
//! // Two transactions of two shapes, each taking its locks in the order logged:
//! assert_eq!(analysis.transactions.len(), 2);
//! assert_eq!(analysis.shape_counts, [1, 1]);
//! # Ok::<(), lockgraph_logs::Error>(())
//! ```
//!
//! # Design notes
//!
//! - **Streaming, bounded.** Lines are read from the reader's buffer; only a line that spans two
//!   reads is copied, and at most [`MAX_LINE`] bytes of a line are kept. A transaction is collapsed into its shape as soon as it ends: only one
//!   representative per shape is built. Past [`SHAPES_KEPT`] shapes, a new shape is kept only
//!   when it takes a pair of locks no kept shape takes (else it is folded: counted in
//!   [`LogStats::folded_shapes`]), and sessions with no open transaction are forgotten, least
//!   recently active first, beyond a few thousand: memory follows the lock orders and the
//!   concurrency in the log, not its size. Open sessions are capped
//!   ([`LogOptions::max_open_transactions`]), and so are the statements kept per open
//!   transaction, the shapes, the lock waits and the stored warnings (all with counted warnings).
//! - **Fast path.** A known `log_line_prefix` is matched without backtracking when it can be. A statement costs one byte
//!   scan that copies its text with literals as `?` and comments dropped (its shape key), hashed
//!   to 64 bits; texts without literals (prepared statements, `BEGIN`, `COMMIT`) skip even that
//!   after their first time, and bind parameters are substituted only when a text is needed. A
//!   transaction's shape is the sequence of its statements' hashes. `lockgraph_sql`'s parser and
//!   lock inference (memoized by its `InferenceCache`) run only when a shape is new; shapes that
//!   differ only in case or spacing are merged at the end by their fingerprints.
//! - **Errors.** A statement that fails still counts (it took locks up to the error); an
//!   `ERROR` inside a block aborts it, and later statements are ignored until `ROLLBACK` (or
//!   `ROLLBACK TO SAVEPOINT`). A failing statement that statement logging did not show (only
//!   `log_min_duration_statement`) is taken from the error's `STATEMENT` line.
//! - **Deadlocks.** Each process in a report is joined with its session's open transaction
//!   (by pid, or `%c` session id when the prefix has it). OIDs are mapped to names from the
//!   victim's CONTEXT, the processes' statements and other reports — best effort, deterministic.
//!
//! # Limitations
//!
//! - Messages must be in English (`lc_messages = 'C'` or `en_*`): translated severities and
//!   messages are not recognised.
//! - `syslog` and `eventlog` destinations are not read (their own line prefixes and `[n-m]`
//!   continuation numbering).
//! - A detected `log_line_prefix` is looked for again after 20 lines in a row it does not read
//!   (a reload changed it: a `prefix_changed` warning); a prefix given in [`LogOptions`] is
//!   never replaced.
//! - Statements not logged (`log_statement = 'ddl'`/`'mod'` without
//!   `log_min_duration_statement = 0`) are missing from transactions; the deadlock report's
//!   current statements still are there.
#![warn(missing_docs)]

/// The analyzer: sessions, transactions, shapes.
mod analyzer;
/// Deadlock reports.
mod deadlock;
/// stderr, csvlog and jsonlog readers.
mod format;
/// MySQL/MariaDB InnoDB deadlock reports (status output, error logs).
mod innodb;
/// Opening and ordering inputs; bounded line reading.
mod input;
/// Lock targets, wait messages, deadlock details, CONTEXT lines.
mod lockmsg;
/// `log_line_prefix` compiler and detector.
mod prefix;
/// Statement-logging forms, bind parameters, shape keys.
mod statement;
/// Lock waits and the wait-for graph.
mod wait;
/// Warnings and counters.
mod warning;

#[cfg(test)]
mod tests;

pub use analyzer::{LogAnalyzer, LogOptions, SHAPES_KEPT};
pub use format::LogFormat;
pub use input::{MAX_LINE, open_input, order_inputs};
pub use prefix::{COMMON_PREFIXES, Prefix};
pub use wait::root_blockers;
pub use warning::{LogStats, LogWarning, WarningKind};

use serde::Serialize;

/// Errors of this crate. Problems inside an input are [`LogWarning`]s, not errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input could not be opened.
    #[error("cannot open {path}: {source}")]
    Open {
        /// The path as given.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// An input failed before its first line could be read.
    #[error("cannot read {source_name}: {error}")]
    Read {
        /// The input's display name.
        source_name: String,
        /// The cause.
        error: std::io::Error,
    },
}

/// What the logs showed.
#[derive(Clone, Debug, Serialize)]
pub struct LogAnalysis {
    /// One representative per distinct transaction shape (statement fingerprints + locks), in
    /// first-seen order. Transactions that take no lock are counted in [`LogStats::transactions`]
    /// but not listed.
    pub transactions: Vec<lockgraph_core::Transaction>,
    /// Parallel to `transactions`: how many transactions had that shape.
    pub shape_counts: Vec<u64>,
    /// Reported deadlocks, grouped by signature, in first-seen order.
    pub deadlocks: Vec<lockgraph_core::ObservedDeadlock>,
    /// Lock waits, in the order they started: the longest 500 (every wait is counted in
    /// [`LogStats::lock_waits`]).
    pub lock_waits: Vec<lockgraph_core::LockWait>,
    /// Statements that could not be parsed or are not modelled (once per fingerprint).
    pub diagnostics: Vec<lockgraph_core::Diagnostic>,
    /// Input problems (the first 1000; [`LogStats::warnings`] has exact counts).
    pub warnings: Vec<LogWarning>,
    /// Counters.
    pub stats: LogStats,
    /// Parallel to `transactions`: the log timestamps of the first and last transaction of that
    /// shape (`None` when the log has no timestamps).
    pub shape_seen: Vec<(Option<String>, Option<String>)>,
    /// Every deadlock report counted, in log order (the first [`MAX_OCCURRENCES`]), when
    /// [`LogOptions::record_occurrences`] is set; else empty.
    pub deadlock_occurrences: Vec<DeadlockOccurrence>,
    /// With [`LogOptions::hold_open`]: the line of the last input where the oldest thing still
    /// open at its end begins (`None`: nothing open).
    pub resume_line: Option<u32>,
    /// With [`LogOptions::hold_last_entry`]: the line of the last entry, left unread (a later
    /// read must count it: it counts only after the line before).
    pub unread_from: Option<u32>,
}

/// Deadlock occurrences kept in [`LogAnalysis::deadlock_occurrences`].
pub const MAX_OCCURRENCES: usize = 1_000_000;

/// One deadlock report.
#[derive(Clone, Debug, Serialize)]
pub struct DeadlockOccurrence {
    /// Index of its signature in [`LogAnalysis::deadlocks`].
    pub deadlock: usize,
    /// Where the report is.
    pub location: lockgraph_core::Location,
    /// Its log timestamp.
    pub timestamp: Option<String>,
}

impl LogAnalysis {
    /// Relation OIDs, as `(relation OID, database OID)`, of lock waits and deadlock edges that
    /// nothing in the log named (to look up in `pg_class`, see [`name_relations`](Self::name_relations)).
    pub fn unnamed_relations(&self) -> Vec<(u32, u32)> {
        // Inside, targets are keyed (database, relation).
        let mut out: Vec<(u32, u32)> = wait::unnamed_oids(&self.lock_waits, &self.deadlocks)
            .into_iter()
            .map(|(db, rel)| (rel, db))
            .collect();
        out.sort_unstable();
        out
    }

    /// Names the relations the log left as OIDs, from `names` (`(relation OID, database OID)` →
    /// name, e.g. read from the server's catalog), and rebuilds the affected deadlocks' relation
    /// lists.
    pub fn name_relations(&mut self, names: &[((u32, u32), lockgraph_core::RelationName)]) {
        wait::name_relations(&mut self.lock_waits, &mut self.deadlocks, |(db, rel)| {
            names
                .iter()
                .find(|(k, _)| *k == (rel, db))
                .map(|(_, n)| n.clone())
        });
    }
}
