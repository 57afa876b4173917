//! Problems met while reading logs, and counters.

use lockgraph_core::Location;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// What kind of input problem a [`LogWarning`] reports. Every kind is counted exactly in
/// [`LogStats::warnings`], even when the stored list of warnings is capped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// A line that is neither a log entry (prefix + severity), a continuation, nor blank.
    UnrecognizedLine,
    /// Bytes that are not UTF-8; the line was read lossily.
    InvalidUtf8,
    /// A line longer than the limit; the stored text was truncated.
    OverlongLine,
    /// The input could not be read to its end (a truncated `.gz`, an I/O error).
    ReadError,
    /// A `DETAIL`/`HINT`/`CONTEXT`/`STATEMENT` line with no message of its process before it.
    OrphanLine,
    /// A csvlog or jsonlog record that could not be decoded.
    MalformedRecord,
    /// The `log_line_prefix` could not be recognised; entries are read loosely.
    UnknownPrefix,
    /// The prefix has neither `%p` nor `%c`: sessions cannot be told apart.
    NoSessionKey,
    /// The detected `log_line_prefix` stopped matching and another one was found (a reload
    /// changed it, or logs of two servers were joined).
    PrefixChanged,
    /// A deadlock report that ends early (log cut, `log_error_verbosity = terse`).
    CutDeadlockReport,
    /// An open transaction was dropped to keep memory bounded.
    EvictedTransaction,
    /// A transaction with more statements than can be kept; later statements were dropped.
    LongTransaction,
    /// More distinct transaction shapes than can be kept; the rest are only counted.
    TooManyShapes,
}

impl WarningKind {
    /// A stable snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            WarningKind::UnrecognizedLine => "unrecognized_line",
            WarningKind::InvalidUtf8 => "invalid_utf8",
            WarningKind::OverlongLine => "overlong_line",
            WarningKind::ReadError => "read_error",
            WarningKind::OrphanLine => "orphan_line",
            WarningKind::MalformedRecord => "malformed_record",
            WarningKind::UnknownPrefix => "unknown_prefix",
            WarningKind::NoSessionKey => "no_session_key",
            WarningKind::PrefixChanged => "prefix_changed",
            WarningKind::CutDeadlockReport => "cut_deadlock_report",
            WarningKind::EvictedTransaction => "evicted_transaction",
            WarningKind::LongTransaction => "long_transaction",
            WarningKind::TooManyShapes => "too_many_shapes",
        }
    }
}

impl fmt::Display for WarningKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One input problem, with where it is. The run goes on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogWarning {
    /// Where (`postgresql.log:17`).
    pub location: Location,
    /// What kind.
    pub kind: WarningKind,
    /// A sentence.
    pub message: String,
}

impl fmt::Display for LogWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} [{}]", self.location, self.message, self.kind)
    }
}

/// Counters of one analysis.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LogStats {
    /// Inputs fed.
    pub inputs: u64,
    /// Bytes read (decompressed).
    pub bytes: u64,
    /// Physical lines read.
    pub lines: u64,
    /// Log entries (messages with their DETAIL/CONTEXT/… lines, csv records, json objects).
    pub entries: u64,
    /// SQL statements seen in statement logging.
    pub statements: u64,
    /// Distinct sessions (`%c`, or pid when there is no session id).
    pub sessions: u64,
    /// Transactions reconstructed (explicit blocks and autocommit statements).
    pub transactions: u64,
    /// Distinct transaction shapes kept (see [`LogAnalysis::transactions`](crate::LogAnalysis)).
    pub shapes: u64,
    /// Distinct shapes folded: seen after the first
    /// [`SHAPES_KEPT`](crate::SHAPES_KEPT) shapes, taking no pair of locks that a kept shape does
    /// not take, so only counted.
    pub folded_shapes: u64,
    /// Transactions of folded shapes (counted in `transactions`, not in any shape count).
    pub folded_transactions: u64,
    /// Deadlock reports read (before grouping).
    pub deadlock_reports: u64,
    /// Lock-wait messages read.
    pub lock_wait_messages: u64,
    /// Lock waits seen (a `still waiting` episode, a lock timeout or a NOWAIT failure each
    /// count once). The longest are kept in [`LogAnalysis::lock_waits`](crate::LogAnalysis);
    /// `lock_waits_dropped` says how many shorter ones were only counted.
    pub lock_waits: u64,
    /// Lock waits not kept (shorter than the kept ones).
    pub lock_waits_dropped: u64,
    /// Warnings per kind, exact (the stored list is capped).
    pub warnings: BTreeMap<WarningKind, u64>,
}

impl LogStats {
    /// All warnings, every kind.
    pub fn warnings_total(&self) -> u64 {
        self.warnings.values().sum()
    }

    /// Warnings of one kind.
    pub fn warnings_of(&self, kind: WarningKind) -> u64 {
        self.warnings.get(&kind).copied().unwrap_or(0)
    }
}
