//! The analyzer: entries → sessions → transactions (collapsed into shapes), deadlocks, lock waits.

use crate::format::{
    CsvReader, Entry, FormatReader, JsonReader, LogFormat, StderrReader, detect_format,
};
use crate::input::LineReader;
use crate::prefix::{Prefix, Severity};
use crate::statement::{
    Control, EMPTY_SHAPE, control, expand_execute, normalize_into, parse_parameters,
    parse_statement_message, shape_hash, substitute_parameters, text_hash,
};
use crate::warning::{LogStats, LogWarning, WarningKind};
use crate::{Error, LogAnalysis};
use lockgraph_core::{
    Diagnostic, Fingerprint, Location, LockAcquisition, LockTarget, ObservedDeadlock, RelationName,
    Schema, Statement, Transaction, TransactionKind,
};
use lockgraph_sql::{InferenceCache, TransactionLocks, make_statement, split_statements};
use rustc_hash::{FxHashMap, FxHashSet};
use std::io::BufRead;
use std::sync::Arc;

/// Warnings kept in the list (every warning is counted in [`LogStats::warnings`]).
const MAX_STORED_WARNINGS: usize = 1000;
/// Statements kept per open transaction.
const MAX_TX_STATEMENTS: usize = 10_000;
/// Statement text kept per open transaction.
const MAX_TX_BYTES: usize = 16 << 20;
/// Distinct transaction shapes kept; further shapes are only counted (with a warning).
pub const MAX_SHAPES: usize = 100_000;
/// Shapes kept whatever they hold. Beyond them a new shape is kept only when it takes a pair of
/// locks (in that order) that no kept shape takes; the others are folded: counted, not kept.
/// Their lock orders are already in the kept shapes, so the predictions are the same, and memory
/// stops growing with the long tail of statement combinations in big logs.
pub const SHAPES_KEPT: usize = 4096;
/// Keys of folded shapes remembered, so that their next occurrences are not rebuilt.
const FOLDED_KEYS: usize = 65_536;
/// Sessions with no open transaction kept before the least recently active are forgotten (pids
/// are reused, and logs without `log_disconnections` never say a session ended).
const IDLE_SESSIONS: usize = 2048;
/// First word of an autocommit transaction's shape key (then the statement's shape hash).
const AUTOCOMMIT: u64 = 0x4155_544f_434f_4d4d;
/// First word of an explicit transaction's shape key (then one shape hash per statement).
const EXPLICIT: u64 = 0x4558_504c_4943_4954;

/// Statement shapes whose redacted text and fingerprint are remembered.
const STATEMENT_INFO: usize = 100_000;
/// Statement texts whose shape key is remembered.
const NORM_CACHE: usize = 65_536;
/// Open-transaction buffers kept for reuse, and the largest arena / statement list reused.
const POOLED_TXS: usize = 64;
const POOLED_ARENA_BYTES: usize = 16 << 10;
const POOLED_STATEMENTS: usize = 128;
/// Statement text kept by all open transactions together.
const MAX_OPEN_BYTES: usize = 1 << 30;
/// Lock waits kept in full (the longest; every wait is counted): see [`crate::wait::Waits`].
pub(crate) const MAX_LOCK_WAITS: usize = 500;
/// Lines (and bytes) read ahead to detect the format and prefix.
const SAMPLE_LINES: usize = 2000;
const SAMPLE_BYTES: usize = 2 << 20;

/// How to read logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogOptions {
    /// The format; `None` detects it per input (first lines, then the file name).
    pub format: Option<LogFormat>,
    /// `log_line_prefix` of stderr logs; `None` detects it per input.
    pub prefix: Option<String>,
    /// Open transactions (and sessions) kept at once; the least recently active are dropped
    /// beyond it, with a counted warning for each open transaction lost. Default 100,000.
    pub max_open_transactions: usize,
    /// Resuming an incremental read (`lockgraph_store`): in the first input, what becomes final
    /// at an entry starting on or before this line (a transaction's end, a deadlock report, a
    /// lock wait's end) was counted by the previous read and is not counted again; the entries
    /// are still read, to rebuild the sessions. 0 (the default) counts everything.
    pub count_after_line: u32,
    /// Leave what is still open at the end of the input uncounted (transactions, lock waits,
    /// `detected deadlock` messages without their report) and report where the oldest of them
    /// starts in [`LogAnalysis::resume_line`](crate::LogAnalysis::resume_line): a later read of
    /// the grown file resumes there. Default false: they are counted at the end.
    pub hold_open: bool,
    /// With `hold_open`: the input ends at an arbitrary line, not where the log ends, so its
    /// last entry may continue (DETAIL, TAB lines) past it: leave that entry unread, and resume
    /// at it. Default false.
    pub hold_last_entry: bool,
    /// Record every deadlock report's place and time in
    /// [`LogAnalysis::deadlock_occurrences`](crate::LogAnalysis::deadlock_occurrences) (the
    /// store's timeline needs them). Default false: an analysis that only reports needs the
    /// grouped deadlocks, and its memory stays independent of how many reports the log holds.
    pub record_occurrences: bool,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            format: None,
            prefix: None,
            max_open_transactions: 100_000,
            count_after_line: 0,
            hold_open: false,
            hold_last_entry: false,
            record_occurrences: false,
        }
    }
}

/// Streams PostgreSQL logs into transactions, deadlocks and lock waits. Feed inputs oldest
/// first (see [`order_inputs`](crate::order_inputs)); sessions carry over from one input to the
/// next, as in a rotated set.
pub struct LogAnalyzer {
    opts: LogOptions,
    last_prefix: Option<Prefix>,
    st: State,
}

impl LogAnalyzer {
    /// An analyzer; `schema` (tables, keys, foreign keys from DDL) sharpens lock inference.
    pub fn new(opts: LogOptions, schema: Schema) -> Self {
        let st = State::new(&opts, schema);
        LogAnalyzer {
            opts,
            last_prefix: None,
            st,
        }
    }

    /// Streams one input; `source` is its display name for locations (`file:line`).
    ///
    /// Never panics on any bytes: garbage lines, invalid UTF-8, overlong lines and read errors
    /// part-way (a truncated `.gz`) become counted [`LogWarning`]s and the rest is analysed. An
    /// input that fails before its first byte is an [`Error::Read`].
    pub fn feed(&mut self, source: &str, reader: impl BufRead) -> Result<(), Error> {
        self.feed_from(source, reader, 1)
    }

    /// [`feed`](Self::feed) for an input read from the middle of a file: its first line is line
    /// `first_line` of the file (for locations and [`LogOptions::count_after_line`]).
    pub fn feed_from(
        &mut self,
        source: &str,
        reader: impl BufRead,
        first_line: u32,
    ) -> Result<(), Error> {
        self.st.begin_source(source);
        self.st.hold_last = self.opts.hold_open && self.opts.hold_last_entry;
        let mut lines = LineReader::new(reader);
        lines.start_at(first_line);
        let mut sample: Vec<(Vec<u8>, crate::input::LineInfo)> = Vec::new();
        let mut sample_bytes = 0usize;
        let mut read_error: Option<(u32, std::io::Error)> = None;
        let mut buf = Vec::new();
        while sample.len() < SAMPLE_LINES && sample_bytes < SAMPLE_BYTES {
            match lines.next_line(&mut buf) {
                Ok(Some(info)) => {
                    sample_bytes += buf.len();
                    sample.push((std::mem::take(&mut buf), info));
                }
                Ok(None) => break,
                Err(e) => {
                    if sample.is_empty() {
                        return Err(Error::Read {
                            source_name: source.to_string(),
                            error: e,
                        });
                    }
                    read_error = Some((sample.len() as u32 + 1, e));
                    break;
                }
            }
        }
        let sample_refs: Vec<&[u8]> = sample.iter().map(|(l, _)| l.as_slice()).collect();
        let format = self
            .opts
            .format
            .unwrap_or_else(|| detect_format(&sample_refs, source));
        let mut reader = match format {
            LogFormat::Stderr => {
                let (prefix, adaptive) = match &self.opts.prefix {
                    Some(p) => (Prefix::compile(p), false),
                    None => (self.detect_prefix(&sample_refs), true),
                };
                if !prefix.has_pid() && !prefix.has_session() {
                    self.st.warn_at(
                        1,
                        WarningKind::NoSessionKey,
                        format!(
                            "log_line_prefix `{}` has neither %p nor %c: every entry is read as one session",
                            prefix.as_str()
                        ),
                    );
                }
                self.last_prefix = Some(prefix.clone());
                FormatReader::Stderr(StderrReader::new(prefix, adaptive))
            }
            LogFormat::Csv => FormatReader::Csv(CsvReader::new()),
            LogFormat::Json => FormatReader::Json(JsonReader::new()),
            LogFormat::InnoDb => FormatReader::InnoDb(crate::innodb::InnoDbReader::new()),
        };
        drop(sample_refs);
        for (line, info) in &sample {
            self.st.line(&mut reader, line, *info);
        }
        drop(sample);
        if read_error.is_none() {
            let st = &mut self.st;
            if let Err(e) = lines.for_each_line(|line, info| st.line(&mut reader, line, info)) {
                read_error = Some((lines.line() + 1, e));
            }
        }
        reader.finish(&mut self.st);
        if let Some((line, e)) = read_error {
            self.st.warn_at(
                line,
                WarningKind::ReadError,
                format!("input ends with a read error ({e}); everything before it was analysed"),
            );
        }
        self.st.core.stats.bytes += lines.bytes;
        Ok(())
    }

    fn detect_prefix(&mut self, sample: &[&[u8]]) -> Prefix {
        match crate::prefix::detect(sample, self.last_prefix.as_ref()) {
            Some((p, _, _)) if !p.is_loose() => p,
            Some((p, matched, of)) => {
                self.st.warn_at(
                    1,
                    WarningKind::UnknownPrefix,
                    format!(
                        "log_line_prefix not recognised ({matched} of {of} sample lines read loosely); pass it with --prefix for exact parsing"
                    ),
                );
                p
            }
            None => Prefix::loose(),
        }
    }

    /// Ends the analysis: transactions still open are counted, waits still open get outcome
    /// `unknown`, shapes are listed in first-seen order.
    pub fn finish(self) -> LogAnalysis {
        let hold = self.opts.hold_open;
        self.st.finish(hold)
    }
}

/// One statement of an open transaction: spans of the transaction's text arena (the text as
/// logged, then its parameters detail).
#[derive(Clone, Copy, Debug)]
struct Rec {
    start: u32,
    params: u32,
    end: u32,
    src: u32,
    line: u32,
}

/// An explicit transaction being read. Buffers are recycled.
#[derive(Debug, Default)]
pub(crate) struct OpenTx {
    /// Shape key: [`EXPLICIT`], then each statement's shape hash.
    key: Vec<u64>,
    arena: String,
    stmts: Vec<Rec>,
    pid: u32,
    full: bool,
}

impl OpenTx {
    /// The statements as they ran (bind parameters substituted now: only new shapes and
    /// deadlock reports need the text).
    fn texts(&self) -> Vec<(String, u32, u32)> {
        self.stmts
            .iter()
            .map(|r| {
                let sql = Sql {
                    text: &self.arena[r.start as usize..r.params as usize],
                    params: &self.arena[r.params as usize..r.end as usize],
                };
                (sql.resolved(), r.src, r.line)
            })
            .collect()
    }
}

/// A logged statement: its text as logged and, for an extended-protocol `execute`, the
/// `parameters: $1 = …` detail, substituted only when the text is needed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sql<'a> {
    pub text: &'a str,
    pub params: &'a str,
}

impl<'a> Sql<'a> {
    /// A statement without parameters.
    pub(crate) fn plain(text: &'a str) -> Self {
        Sql { text, params: "" }
    }

    /// The statement with its parameters in place.
    pub(crate) fn resolved(&self) -> String {
        let mut out = String::new();
        if self.params.is_empty() {
            out.push_str(self.text);
            return out;
        }
        let mut ranges = Vec::new();
        parse_parameters(self.params, &mut ranges);
        if ranges.is_empty() {
            out.push_str(self.text);
            return out;
        }
        let params = self.params;
        substitute_parameters(
            self.text,
            |n| {
                ranges
                    .get(n.checked_sub(1)?)
                    .copied()
                    .flatten()
                    .map(|(a, z)| &params[a..z])
            },
            &mut out,
        );
        out
    }
}

/// What is known about one session (a `%c` session id, or a pid).
#[derive(Debug, Default)]
pub(crate) struct Session {
    pub pid: u32,
    pub open: Option<OpenTx>,
    /// The open transaction hit an ERROR: statements are ignored until ROLLBACK (or ROLLBACK TO).
    pub aborted: bool,
    /// The last statement logged, where, and whether it was logged before it ran.
    pub last: String,
    pub last_at: (u32, u32),
    pub last_before: bool,
    pub has_last: bool,
    /// Hash of the last statement as logged (before parameter substitution).
    pub last_raw: u64,
    /// Activity sequence number (for eviction).
    seen: u64,
    /// Lock waits of this session whose statement is logged only when it completes.
    pub unresolved_waits: Vec<usize>,
}

impl Session {
    /// The statements of the open transaction: (text, source index, line).
    pub(crate) fn open_statements(&self) -> Vec<(String, u32, u32)> {
        match &self.open {
            Some(tx) => tx.texts(),
            None => Vec::new(),
        }
    }
}

/// Sessions by key, and the latest session of each pid.
pub(crate) struct Sessions {
    pub map: FxHashMap<u64, Session>,
    pub by_pid: FxHashMap<u32, u64>,
    seq: u64,
    /// Session count at which idle sessions are next swept.
    sweep_at: usize,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions {
            map: FxHashMap::default(),
            by_pid: FxHashMap::default(),
            seq: 0,
            sweep_at: 2 * IDLE_SESSIONS,
        }
    }
}

impl Sessions {
    /// Forgets the least recently active idle sessions (no open transaction, no lock wait waiting
    /// for its statement) beyond [`IDLE_SESSIONS`]. Runs when the map has doubled since the last
    /// sweep, so it costs O(1) per new session.
    fn sweep_idle(&mut self) {
        let mut idle: Vec<(u64, u64)> = self
            .map
            .iter()
            .filter(|(_, s)| s.open.is_none() && s.unresolved_waits.is_empty())
            .map(|(key, s)| (s.seen, *key))
            .collect();
        if idle.len() > IDLE_SESSIONS {
            let drop = idle.len() - IDLE_SESSIONS;
            idle.select_nth_unstable(drop - 1);
            for &(_, key) in &idle[..drop] {
                if let Some(s) = self.map.remove(&key)
                    && self.by_pid.get(&s.pid) == Some(&key)
                {
                    self.by_pid.remove(&s.pid);
                }
            }
        }
        self.sweep_at = (2 * self.map.len()).max(2 * IDLE_SESSIONS);
    }

    /// The session key of a pid (its latest `%c` session, or the pid itself).
    pub(crate) fn key_of(&self, pid: u32) -> u64 {
        self.by_pid.get(&pid).copied().unwrap_or(u64::from(pid))
    }

    pub(crate) fn of_pid(&self, pid: u32) -> Option<&Session> {
        self.map.get(&self.key_of(pid)).filter(|s| s.pid == pid)
    }
}

/// The session of `key`, created if new (dropping the least recently active sessions when
/// there are too many).
fn session_entry<'a>(
    sessions: &'a mut Sessions,
    core: &mut Core,
    max_open: usize,
    key: u64,
    pid: u32,
) -> &'a mut Session {
    sessions.seq += 1;
    let seq = sessions.seq;
    if !sessions.map.contains_key(&key) {
        if sessions.map.len() >= sessions.sweep_at {
            sessions.sweep_idle();
        }
        if sessions.map.len() >= max_open {
            evict(sessions, core, max_open);
        }
        core.stats.sessions += 1;
    }
    let s = sessions.map.entry(key).or_default();
    s.pid = pid;
    s.seen = seq;
    s
}

/// Drops the least recently active eighth of the sessions; open transactions lost are warned.
fn evict(sessions: &mut Sessions, core: &mut Core, max_open: usize) {
    let n = sessions.map.len();
    let k = (n / 8).max(1);
    let mut ages: Vec<(u64, u64)> = sessions.map.iter().map(|(key, s)| (s.seen, *key)).collect();
    ages.select_nth_unstable(k - 1);
    ages.truncate(k);
    ages.sort_unstable();
    for (_, key) in ages {
        if let Some(s) = sessions.map.remove(&key)
            && let Some(tx) = s.open
        {
            if let Some(first) = tx.stmts.first() {
                let loc = Location::new(core.sources[first.src as usize].clone(), first.line);
                core.warn(
                    loc,
                    WarningKind::EvictedTransaction,
                    format!(
                        "open transaction of process {} dropped: more than {max_open} sessions open at once",
                        s.pid
                    ),
                );
            }
            core.recycle(tx);
        }
    }
}

/// One distinct transaction shape: its first transaction and how many had it.
struct Shape {
    tx: Transaction,
    count: u64,
    first_seen: Option<String>,
    last_seen: Option<String>,
}

/// Everything but the sessions (so that a session and the rest can be borrowed together).
pub(crate) struct Core {
    pub schema: Schema,
    pub cache: InferenceCache,
    pub sources: Vec<Arc<str>>,
    pub src: u32,
    max_shapes: usize,
    /// Shapes kept before folding starts ([`SHAPES_KEPT`]).
    shapes_kept: usize,
    shape_index: FxHashMap<Box<[u64]>, u32>,
    shapes: Vec<Shape>,
    shapes_dropped: u64,
    /// Hashes of (lock, lock) pairs taken in that order by some kept shape.
    lock_pairs: FxHashSet<u64>,
    /// Hashes of the keys of folded shapes.
    folded: FxHashSet<u64>,
    diag_seen: FxHashSet<Fingerprint>,
    pub diagnostics: Vec<Diagnostic>,
    pub deadlocks: Vec<ObservedDeadlock>,
    pub deadlock_index: FxHashMap<Fingerprint, usize>,
    pub waits: crate::wait::Waits,
    pub open_waits: FxHashMap<u32, usize>,
    pub oids: FxHashMap<(u32, u32), RelationName>,
    pub pending_detected: FxHashMap<u32, crate::deadlock::Detected>,
    pub warnings: Vec<LogWarning>,
    pub stats: LogStats,
    pool: Vec<OpenTx>,
    /// Statement text held by all open transactions.
    open_bytes: usize,
    /// Redacted text and fingerprint by statement shape key.
    stmt_info: FxHashMap<u64, (Arc<str>, Fingerprint)>,
    info_key: Vec<u8>,
    /// Whether what becomes final now is counted (see [`LogOptions::count_after_line`]).
    pub counting: bool,
    /// [`LogOptions::count_after_line`], for the first input only.
    count_after: u32,
    /// The timestamp of the entry being processed (may be empty).
    pub cur_ts: String,
    /// Every counted deadlock report: (index in `deadlocks`, where, when), when
    /// [`LogOptions::record_occurrences`] asks for them.
    pub occurrences: Vec<crate::DeadlockOccurrence>,
    /// [`LogOptions::record_occurrences`].
    pub record_occurrences: bool,
}

/// The analyzer's state.
pub(crate) struct State {
    pub sessions: Sessions,
    pub core: Core,
    max_open: usize,
    norm: Vec<u8>,
    subst: String,
    /// Shape hash, multi-statement flag and control kind of statement texts without literals,
    /// by text hash.
    norm_cache: FxHashMap<u64, (u64, bool, Control)>,
    /// Leave the input's last entry unread ([`LogOptions::hold_last_entry`]).
    pub hold_last: bool,
    /// The line of the entry left unread, in the last input.
    pub held_entry: Option<u32>,
}

impl State {
    fn new(opts: &LogOptions, schema: Schema) -> Self {
        Self::with_limits(opts, schema, MAX_SHAPES, SHAPES_KEPT)
    }

    fn with_limits(
        opts: &LogOptions,
        schema: Schema,
        max_shapes: usize,
        shapes_kept: usize,
    ) -> Self {
        State {
            sessions: Sessions::default(),
            core: Core {
                schema,
                cache: InferenceCache::new(),
                sources: Vec::new(),
                src: 0,
                max_shapes: max_shapes.max(1),
                shapes_kept,
                shape_index: FxHashMap::default(),
                shapes: Vec::new(),
                shapes_dropped: 0,
                lock_pairs: FxHashSet::default(),
                folded: FxHashSet::default(),
                diag_seen: FxHashSet::default(),
                diagnostics: Vec::new(),
                deadlocks: Vec::new(),
                deadlock_index: FxHashMap::default(),
                waits: crate::wait::Waits::default(),
                open_waits: FxHashMap::default(),
                oids: FxHashMap::default(),
                pending_detected: FxHashMap::default(),
                warnings: Vec::new(),
                stats: LogStats::default(),
                pool: Vec::new(),
                open_bytes: 0,
                stmt_info: FxHashMap::default(),
                info_key: Vec::new(),
                counting: true,
                count_after: opts.count_after_line,
                cur_ts: String::new(),
                occurrences: Vec::new(),
                record_occurrences: opts.record_occurrences,
            },
            max_open: opts.max_open_transactions.max(1),
            norm: Vec::new(),
            subst: String::new(),
            norm_cache: FxHashMap::default(),
            hold_last: false,
            held_entry: None,
        }
    }

    fn begin_source(&mut self, source: &str) {
        self.core.sources.push(source.into());
        self.core.src = (self.core.sources.len() - 1) as u32;
        if self.core.src > 0 {
            self.core.count_after = 0;
        }
        self.core.stats.inputs += 1;
    }

    /// Warns at a line of the current input.
    pub(crate) fn warn_at(&mut self, line: u32, kind: WarningKind, message: impl Into<String>) {
        self.core.warn_at(line, kind, message);
    }

    fn line(&mut self, reader: &mut FormatReader, bytes: &[u8], info: crate::input::LineInfo) {
        self.core.stats.lines += 1;
        if info.truncated {
            self.warn_at(
                info.number,
                WarningKind::OverlongLine,
                format!(
                    "line longer than {} bytes; only its start was read",
                    crate::input::MAX_LINE
                ),
            );
        }
        // Every line is validated: simdutf8's SIMD check is a few times faster than the standard
        // library's (which was 6% of a run), and the standard one only runs on the rare bad line
        // to say where it goes wrong.
        match simdutf8::basic::from_utf8(bytes) {
            Ok(s) => reader.line(s, info.number, self),
            Err(_) => {
                let at = std::str::from_utf8(bytes).map_or_else(|e| e.valid_up_to(), |s| s.len());
                self.warn_at(
                    info.number,
                    WarningKind::InvalidUtf8,
                    format!("invalid UTF-8 at byte {at}; read with replacement characters"),
                );
                let s = String::from_utf8_lossy(bytes);
                reader.line(&s, info.number, self);
            }
        }
    }

    /// Processes one log entry.
    pub(crate) fn process_entry(&mut self, e: &Entry) {
        self.core.stats.entries += 1;
        self.core.counting = e.line > self.core.count_after;
        self.core.cur_ts.clear();
        self.core.cur_ts.push_str(&e.timestamp);
        let Some(sev) = e.severity else {
            return;
        };
        if e.session != u64::from(e.pid) {
            self.sessions.by_pid.insert(e.pid, e.session);
        }
        let deadlock_error = matches!(sev, Severity::Error | Severity::Fatal)
            && (e.sqlstate_is(b"40P01") || e.message.starts_with("deadlock detected"));
        if !self.core.pending_detected.is_empty()
            && let Some(d) = self.core.pending_detected.remove(&e.pid)
            && !deadlock_error
        {
            // `detected deadlock while waiting` with no report after it (caught by a handler).
            self.core.deadlock_from_detected(&self.sessions, d);
        }
        match sev {
            Severity::Log => {
                let m = e.message.as_str();
                if let Some(sm) = parse_statement_message(m) {
                    let raw = text_hash(sm.text);
                    if sm.execute {
                        let sql = Sql {
                            text: sm.text,
                            params: &e.detail,
                        };
                        self.on_statement(e.session, e.pid, sql, e.line, sm.before, raw);
                    } else if e.detail.starts_with("prepare: ") {
                        let mut subst = std::mem::take(&mut self.subst);
                        let sql = if expand_execute(sm.text, &e.detail, &mut subst) {
                            // The key stays that of the EXECUTE as logged.
                            Sql::plain(&subst)
                        } else {
                            Sql::plain(sm.text)
                        };
                        self.on_statement_keyed(
                            e.session, e.pid, sql, sm.text, e.line, sm.before, raw,
                        );
                        self.subst = subst;
                    } else {
                        self.on_statement(
                            e.session,
                            e.pid,
                            Sql::plain(sm.text),
                            e.line,
                            sm.before,
                            raw,
                        );
                    }
                } else if let Some(w) = crate::lockmsg::parse_wait_message(m) {
                    let sess = session_entry(
                        &mut self.sessions,
                        &mut self.core,
                        self.max_open,
                        e.session,
                        e.pid,
                    );
                    self.core.on_wait(Some(sess), e, &w);
                } else if m.starts_with("disconnection: ") || m.starts_with("connection received: ")
                {
                    self.end_session(e.session);
                }
            }
            Severity::Error | Severity::Fatal => {
                self.on_error(e, deadlock_error);
                if sev == Severity::Fatal {
                    self.end_session(e.session);
                }
            }
            _ => {}
        }
    }

    fn on_error(&mut self, e: &Entry, deadlock: bool) {
        let m = e.message.as_str();
        if deadlock {
            self.core.on_deadlock(&self.sessions, e);
            self.core
                .close_wait(e.pid, lockgraph_core::WaitOutcome::Deadlock);
        } else if m.starts_with("canceling statement due to lock timeout") {
            if !self
                .core
                .close_wait(e.pid, lockgraph_core::WaitOutcome::Timeout)
            {
                let sess = self.sessions.map.get_mut(&e.session);
                self.core.timeout_without_wait(sess, e, None);
            }
        } else if let Some(nowait) = crate::lockmsg::parse_nowait(m) {
            let sess = self.sessions.map.get_mut(&e.session);
            self.core.timeout_without_wait(sess, e, Some(nowait));
        } else if m.starts_with("canceling statement due to statement timeout") {
            self.core
                .close_wait(e.pid, lockgraph_core::WaitOutcome::StatementTimeout);
        }
        // A statement ignored in an aborted transaction, or one the parser rejected, took no lock.
        let ignored = e.sqlstate_is(b"25P02") || m.starts_with("current transaction is aborted");
        let rejected = e.sqlstate.is_some_and(|s| s.starts_with(b"42"))
            || (e.sqlstate.is_none()
                && (m.starts_with("syntax error") || m.contains("does not exist")));
        if ignored {
            return;
        }
        if !e.statement.is_empty() && !rejected {
            let raw = text_hash(&e.statement);
            let logged = self
                .sessions
                .map
                .get(&e.session)
                .is_some_and(|s| s.has_last && s.last_raw == raw);
            if !logged {
                let line = if e.statement_line > 0 {
                    e.statement_line
                } else {
                    e.line
                };
                self.on_statement(e.session, e.pid, Sql::plain(&e.statement), line, false, raw);
            }
        }
        if let Some(s) = self.sessions.map.get_mut(&e.session)
            && s.open.is_some()
        {
            s.aborted = true;
        }
    }

    fn end_session(&mut self, key: u64) {
        if let Some(mut s) = self.sessions.map.remove(&key)
            && let Some(tx) = s.open.take()
        {
            self.core.finish_tx(tx);
        }
    }

    /// One logged statement (maybe several, in a multi-statement query string).
    /// One logged statement: `sql` as logged, `raw` the hash of its text.
    fn on_statement(
        &mut self,
        key: u64,
        pid: u32,
        sql: Sql<'_>,
        line: u32,
        before: bool,
        raw: u64,
    ) {
        self.on_statement_keyed(key, pid, sql, sql.text, line, before, raw);
    }

    /// `key_text` is the text the shape key is computed from (its hash is `raw`): once per
    /// distinct text when it has no literals (prepared statements, BEGIN, COMMIT).
    #[allow(clippy::too_many_arguments)]
    fn on_statement_keyed(
        &mut self,
        key: u64,
        pid: u32,
        sql: Sql<'_>,
        key_text: &str,
        line: u32,
        before: bool,
        raw: u64,
    ) {
        self.core.stats.statements += 1;
        let src = self.core.src;
        let (shape, multi, ctl) = match self.norm_cache.get(&raw) {
            Some(&cached) => cached,
            None => {
                self.norm.clear();
                let multi = normalize_into(key_text, &mut self.norm);
                let found = (shape_hash(&self.norm), multi, control(&self.norm));
                // Texts without literals repeat (prepared statements, BEGIN, COMMIT): remember them.
                if memchr::memchr(b'?', &self.norm).is_none() {
                    if self.norm_cache.len() >= NORM_CACHE {
                        self.norm_cache.clear();
                    }
                    self.norm_cache.insert(raw, found);
                }
                found
            }
        };
        let sess = session_entry(&mut self.sessions, &mut self.core, self.max_open, key, pid);
        let text = sql.text;
        sess.last.clear();
        let keep = text.len().min(crate::input::MAX_LINE);
        let mut keep_end = keep;
        while !text.is_char_boundary(keep_end) {
            keep_end -= 1;
        }
        sess.last.push_str(&text[..keep_end]);
        sess.last_at = (src, line);
        sess.last_before = before;
        sess.has_last = true;
        sess.last_raw = raw;
        if !before && !sess.unresolved_waits.is_empty() {
            let stmt = make_statement(&self.core.sources[src as usize], line, text);
            for idx in std::mem::take(&mut sess.unresolved_waits) {
                self.core.fill_wait_statement(idx, &stmt);
            }
        }
        if multi {
            let whole = sql.resolved();
            for piece in split_statements(&whole) {
                self.norm.clear();
                normalize_into(&piece.text, &mut self.norm);
                let (h, c) = (shape_hash(&self.norm), control(&self.norm));
                self.core.apply(
                    sess,
                    Sql::plain(&piece.text),
                    line.saturating_add(piece.line.saturating_sub(1)),
                    h,
                    c,
                );
            }
        } else {
            self.core.apply(sess, sql, line, shape, ctl);
        }
    }

    fn finish(mut self, hold: bool) -> LogAnalysis {
        self.core.counting = true;
        self.core.cur_ts.clear();
        if hold {
            // Nothing open is counted; the next read resumes at the oldest of it.
            let last = self.core.src;
            let mut resume: Option<u32> = None;
            let mut at = |src: u32, line: u32| {
                if src == last {
                    resume = Some(resume.map_or(line, |r: u32| r.min(line)));
                }
            };
            for s in self.sessions.map.values() {
                if let Some(r) = s.open.as_ref().and_then(|t| t.stmts.first()) {
                    at(r.src, r.line);
                }
            }
            if let Some(line) = self.held_entry {
                at(last, line);
            }
            for (src, line) in self.core.hold_open_waits() {
                at(src, line);
            }
            for d in self.core.pending_detected.values() {
                let src = self.core.sources.iter().position(|s| *s == d.location.path);
                at(src.map_or(last, |p| p as u32), d.location.line);
            }
            self.core.pending_detected.clear();
            self.core.resolve_late();
            let mut analysis = self.core.into_analysis();
            analysis.resume_line = resume;
            analysis.unread_from = self.held_entry;
            return analysis;
        }
        // Transactions still open at the end of the log, oldest first.
        let mut open: Vec<(u32, u32, u64)> = self
            .sessions
            .map
            .iter()
            .filter_map(|(k, s)| {
                s.open
                    .as_ref()
                    .and_then(|t| t.stmts.first())
                    .map(|r| (r.src, r.line, *k))
            })
            .collect();
        open.sort_unstable();
        for (_, _, key) in open {
            if let Some(tx) = self.sessions.map.get_mut(&key).and_then(|s| s.open.take()) {
                self.core.finish_tx(tx);
            }
        }
        let mut pending: Vec<crate::deadlock::Detected> =
            self.core.pending_detected.drain().map(|(_, d)| d).collect();
        pending.sort_by(|a, b| a.location.cmp(&b.location));
        for d in pending {
            self.core.deadlock_from_detected(&self.sessions, d);
        }
        self.core.count_open_waits();
        self.core.resolve_late();
        self.core.into_analysis()
    }
}

impl Core {
    pub(crate) fn warn_at(&mut self, line: u32, kind: WarningKind, message: impl Into<String>) {
        let loc = Location::new(self.sources[self.src as usize].clone(), line);
        self.warn(loc, kind, message);
    }

    pub(crate) fn warn(
        &mut self,
        location: Location,
        kind: WarningKind,
        message: impl Into<String>,
    ) {
        *self.stats.warnings.entry(kind).or_insert(0) += 1;
        if self.warnings.len() < MAX_STORED_WARNINGS {
            self.warnings.push(LogWarning {
                location,
                kind,
                message: message.into(),
            });
        }
    }

    /// Whether what becomes final at `line` of the current input is counted (see
    /// [`LogOptions::count_after_line`]); for readers that do not go through `process_entry`.
    pub(crate) fn set_counting_at(&mut self, line: u32) {
        self.counting = line > self.count_after;
    }

    pub(crate) fn location(&self, line: u32) -> Location {
        Location::new(self.sources[self.src as usize].clone(), line)
    }

    fn new_tx(&mut self, pid: u32) -> OpenTx {
        let mut tx = self.pool.pop().unwrap_or_default();
        tx.key.push(EXPLICIT);
        tx.pid = pid;
        tx
    }

    fn recycle(&mut self, mut tx: OpenTx) {
        self.open_bytes = self.open_bytes.saturating_sub(tx.arena.len());
        // Only ordinary-sized buffers are reused: a pool that kept the biggest transaction's
        // buffers would grow with how long the log is (the longer the log, the bigger the
        // largest transaction seen), so bigger ones are freed.
        if self.pool.len() < POOLED_TXS
            && tx.arena.capacity() <= POOLED_ARENA_BYTES
            && tx.stmts.capacity() <= POOLED_STATEMENTS
        {
            tx.key.clear();
            tx.arena.clear();
            tx.stmts.clear();
            tx.full = false;
            self.pool.push(tx);
        }
    }

    /// Applies one statement to its session: transaction control, or a statement of the open
    /// transaction, or an autocommit transaction of its own.
    fn apply(&mut self, sess: &mut Session, text: Sql<'_>, line: u32, shape: u64, ctl: Control) {
        if shape == EMPTY_SHAPE {
            return;
        }
        match ctl {
            Control::Begin => {
                if sess.open.is_none() {
                    sess.open = Some(self.new_tx(sess.pid));
                    sess.aborted = false;
                }
                self.push(sess, text, line, shape);
            }
            Control::Commit | Control::Rollback => {
                if sess.open.is_some() {
                    self.push(sess, text, line, shape);
                    if let Some(tx) = sess.open.take() {
                        self.finish_tx(tx);
                    }
                    sess.aborted = false;
                }
            }
            Control::Chain => {
                if sess.open.is_some() {
                    self.push(sess, text, line, shape);
                    if let Some(tx) = sess.open.take() {
                        self.finish_tx(tx);
                    }
                    sess.open = Some(self.new_tx(sess.pid));
                    sess.aborted = false;
                }
            }
            Control::RollbackTo => {
                if sess.open.is_some() {
                    self.push(sess, text, line, shape);
                    sess.aborted = false;
                }
            }
            Control::Savepoint | Control::Release => {
                if sess.open.is_some() && !sess.aborted {
                    self.push(sess, text, line, shape);
                }
            }
            Control::Other => {
                if sess.open.is_some() {
                    if !sess.aborted {
                        self.push(sess, text, line, shape);
                    }
                } else {
                    self.autocommit(sess.pid, text, line, shape);
                }
            }
        }
    }

    fn push(&mut self, sess: &mut Session, sql: Sql<'_>, line: u32, shape: u64) {
        let src = self.src;
        let (text, params) = (sql.text, sql.params);
        let size = text.len() + params.len();
        let Some(tx) = sess.open.as_mut() else {
            return;
        };
        if tx.stmts.len() >= MAX_TX_STATEMENTS
            || tx.arena.len() + size > MAX_TX_BYTES
            || self.open_bytes + size > MAX_OPEN_BYTES
        {
            if !tx.full {
                tx.full = true;
                let pid = sess.pid;
                self.warn_at(
                    line,
                    WarningKind::LongTransaction,
                    format!(
                        "transaction of process {pid} has more than {MAX_TX_STATEMENTS} statements or {} MiB of text (or open transactions hold {} MiB); later statements are not kept",
                        MAX_TX_BYTES >> 20,
                        MAX_OPEN_BYTES >> 20
                    ),
                );
            }
            return;
        }
        self.open_bytes += size;
        let start = tx.arena.len() as u32;
        tx.arena.push_str(text);
        let params_at = tx.arena.len() as u32;
        tx.arena.push_str(params);
        tx.stmts.push(Rec {
            start,
            params: params_at,
            end: tx.arena.len() as u32,
            src,
            line,
        });
        tx.key.push(shape);
    }

    fn autocommit(&mut self, pid: u32, sql: Sql<'_>, line: u32, shape: u64) {
        if !self.counting {
            return;
        }
        self.stats.transactions += 1;
        let key = [AUTOCOMMIT, shape];
        self.add_shape(&key, line, |core| {
            let text = sql.resolved();
            let src = core.src;
            core.build_transaction(
                TransactionKind::Autocommit,
                pid,
                &[(text.as_str(), src, line)],
            )
        });
    }

    /// Counts one finished transaction in its shape; a new shape is built (by `build`) and kept,
    /// or folded (see [`SHAPES_KEPT`]), or only counted past [`MAX_SHAPES`].
    fn add_shape(&mut self, key: &[u64], line: u32, build: impl FnOnce(&mut Core) -> Transaction) {
        if let Some(&i) = self.shape_index.get(key) {
            let s = &mut self.shapes[i as usize];
            s.count += 1;
            if !self.cur_ts.is_empty() {
                match &mut s.last_seen {
                    Some(t) => t.clone_from(&self.cur_ts),
                    None => s.last_seen = Some(self.cur_ts.clone()),
                }
                if s.first_seen.is_none() {
                    s.first_seen = s.last_seen.clone();
                }
            }
            return;
        }
        let hashed = hash_words(key);
        if self.folded.contains(&hashed) {
            self.stats.folded_transactions += 1;
            return;
        }
        if self.shapes.len() >= self.max_shapes {
            self.too_many_shapes(line);
            return;
        }
        let tx = build(self);
        let novel = note_lock_pairs(&tx, &mut self.lock_pairs);
        if !novel && self.shapes.len() >= self.shapes_kept {
            if self.folded.len() >= FOLDED_KEYS {
                self.folded.clear();
            }
            self.folded.insert(hashed);
            self.stats.folded_shapes += 1;
            self.stats.folded_transactions += 1;
            return;
        }
        self.shape_index
            .insert(key.into(), self.shapes.len() as u32);
        let seen = (!self.cur_ts.is_empty()).then(|| self.cur_ts.clone());
        self.shapes.push(Shape {
            tx,
            count: 1,
            first_seen: seen.clone(),
            last_seen: seen,
        });
    }

    fn too_many_shapes(&mut self, line: u32) {
        self.shapes_dropped += 1;
        let max = self.max_shapes;
        self.warn_at(
            line,
            WarningKind::TooManyShapes,
            format!("more than {max} distinct transaction shapes; this one is only counted"),
        );
    }

    /// A transaction ended (COMMIT/ROLLBACK, disconnection, end of log): count it in its shape.
    fn finish_tx(&mut self, tx: OpenTx) {
        if tx.stmts.is_empty() || !self.counting {
            self.recycle(tx);
            return;
        }
        self.stats.transactions += 1;
        let line = tx.stmts[0].line;
        self.add_shape(&tx.key, line, |core| {
            let owned = tx.texts();
            let texts: Vec<(&str, u32, u32)> =
                owned.iter().map(|(t, s, l)| (t.as_str(), *s, *l)).collect();
            core.build_transaction(TransactionKind::Explicit, tx.pid, &texts)
        });
        self.recycle(tx);
    }

    fn build_transaction(
        &mut self,
        kind: TransactionKind,
        pid: u32,
        texts: &[(&str, u32, u32)],
    ) -> Transaction {
        let (statements, locks) = self.infer_sequence(texts);
        let (src, line) = texts.first().map(|t| (t.1, t.2)).unwrap_or((self.src, 0));
        let path = self.sources[src as usize].clone();
        let file = path.rsplit(['/', '\\']).next().unwrap_or(&path).to_string();
        Transaction {
            name: format!("{file}:{line} (pid {pid})").into(),
            location: Location::new(path, line),
            kind,
            group: None,
            statements,
            locks,
            engine: lockgraph_core::Engine::Postgres,
        }
    }

    /// Statements → shared [`Statement`]s and the locks they take in order, with savepoints
    /// (`ROLLBACK TO` releases later locks) and relations created in the transaction (invisible
    /// to others) handled as `lockgraph_sql::build_transactions` does. Unparseable and unmodelled
    /// statements become diagnostics, once per fingerprint.
    pub(crate) fn infer_sequence(
        &mut self,
        texts: &[(&str, u32, u32)],
    ) -> (Vec<Arc<Statement>>, Vec<LockAcquisition>) {
        let mut statements = Vec::with_capacity(texts.len());
        let mut held = TransactionLocks::default();
        for &(text, src, line) in texts {
            let stmt = self.statement(text, src, line);
            // BEGIN, COMMIT, ROLLBACK take no lock: no need to ask the inference.
            if matches!(
                control(&self.info_key),
                Control::Begin | Control::Commit | Control::Rollback | Control::Chain
            ) {
                statements.push(stmt);
                continue;
            }
            let inf = self.cache.infer(text, &self.schema);
            if let Some((kind, message)) = &inf.problem
                && self.diag_seen.insert(stmt.fingerprint)
            {
                self.diagnostics.push(Diagnostic {
                    location: stmt.location.clone(),
                    kind: *kind,
                    message: message.clone(),
                    statement: Some(stmt.redacted.to_string()),
                });
            }
            held.apply(&stmt, inf);
            statements.push(stmt);
        }
        (statements, held.into_locks())
    }

    /// The shared [`Statement`] of `text` at `src:line`: what `lockgraph_sql::make_statement`
    /// builds, with the redacted text and fingerprint reused from an earlier statement of the same
    /// shape key (same tokens, literals aside, same spacing), which spares a tokenization. Leaves
    /// the shape key in `info_key`.
    pub(crate) fn statement(&mut self, text: &str, src: u32, line: u32) -> Arc<Statement> {
        let path = &self.sources[src as usize];
        let mut key = std::mem::take(&mut self.info_key);
        key.clear();
        normalize_into(text, &mut key);
        let shape = shape_hash(&key);
        let stmt = match self.stmt_info.get(&shape) {
            Some((redacted, fingerprint)) => Arc::new(Statement {
                location: Location::new(path.clone(), line),
                text: text.trim().into(),
                redacted: redacted.clone(),
                fingerprint: *fingerprint,
            }),
            None => {
                let s = make_statement(path, line, text);
                if self.stmt_info.len() >= STATEMENT_INFO {
                    self.stmt_info.clear();
                }
                self.stmt_info
                    .insert(shape, (s.redacted.clone(), s.fingerprint));
                s
            }
        };
        self.info_key = key;
        stmt
    }

    fn into_analysis(mut self) -> LogAnalysis {
        // Shapes that differ only in ways the fast key keeps apart (placeholder style, quoting)
        // but have the same fingerprints and locks are merged here.
        let mut merged: Vec<(Transaction, u64)> = Vec::new();
        let mut seen: Vec<(Option<String>, Option<String>)> = Vec::new();
        let mut index: FxHashMap<Vec<u8>, usize> = FxHashMap::default();
        for s in std::mem::take(&mut self.shapes) {
            if s.tx.locks.is_empty() {
                continue;
            }
            let key = true_shape_key(&s.tx);
            match index.get(&key) {
                Some(&i) => {
                    merged[i].1 += s.count;
                    let (first, last) = &mut seen[i];
                    if s.first_seen.is_some() && (first.is_none() || s.first_seen < *first) {
                        *first = s.first_seen;
                    }
                    if s.last_seen > *last {
                        *last = s.last_seen;
                    }
                }
                None => {
                    index.insert(key, merged.len());
                    merged.push((s.tx, s.count));
                    seen.push((s.first_seen, s.last_seen));
                }
            }
        }
        self.stats.shapes = merged.len() as u64;
        self.stats.lock_waits_dropped = self.waits.dropped;
        let (transactions, shape_counts) = merged.into_iter().unzip();
        LogAnalysis {
            transactions,
            shape_counts,
            shape_seen: seen,
            deadlock_occurrences: self.occurrences,
            resume_line: None,
            unread_from: None,
            deadlocks: self.deadlocks,
            lock_waits: self.waits.into_vec(),
            diagnostics: self.diagnostics,
            warnings: self.warnings,
            stats: self.stats,
        }
    }
}

/// 64-bit hash of a shape key.
fn hash_words(words: &[u64]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    words.hash(&mut h);
    h.finish()
}

/// Records every ordered pair of locks `tx` takes (each lock hashed with what the lock-order
/// rules look at: node, mode, loop, implied, which rows, whether a locking `SELECT`), plus each
/// lock alone, into `seen`; returns whether any was new. `O(n·d)` for `n` locks with `d`
/// distinct hashes (bounded by nodes × modes, whatever the number of rows).
///
/// An advisory lock counts by the statement that takes it, not by its key: logs show the key
/// as a literal (`pg_advisory_xact_lock(81723)`), usually an entity id, and a new id is no new
/// lock order — like a new row of a table. Counting keys would keep one more shape per id seen,
/// so memory would grow with the log.
fn note_lock_pairs(tx: &Transaction, seen: &mut FxHashSet<u64>) -> bool {
    use std::hash::{Hash, Hasher};
    let lock_hash = |l: &LockAcquisition| {
        let mut h = rustc_hash::FxHasher::default();
        match &l.target {
            LockTarget::Advisory { .. } => l.statement.fingerprint.hash(&mut h),
            other => other.node().hash(&mut h),
        }
        l.mode.hash(&mut h);
        l.repeated.hash(&mut h);
        l.implicit.is_some().hash(&mut h);
        l.target
            .key()
            .map(|k| (k.single_row, k.ordered))
            .hash(&mut h);
        l.statement
            .redacted
            .get(..6)
            .map(|w| w.eq_ignore_ascii_case("select"))
            .hash(&mut h);
        h.finish()
    };
    let mut novel = false;
    let mut distinct: Vec<(u64, &LockAcquisition)> = Vec::new();
    for l in &tx.locks {
        let h = lock_hash(l);
        for &(d, earlier) in &distinct {
            // Two locks on the same rows differ from two on different rows of one table.
            let same = earlier.target == l.target;
            novel |= seen.insert(hash_words(&[d, h, u64::from(same)]));
        }
        if !distinct.iter().any(|&(d, _)| d == h) {
            novel |= seen.insert(h);
            distinct.push((h, l));
        }
    }
    novel
}

/// Kind, statement fingerprints, and locks without key values.
fn true_shape_key(tx: &Transaction) -> Vec<u8> {
    let mut key = vec![tx.kind as u8];
    for s in &tx.statements {
        key.extend_from_slice(&s.fingerprint.0.to_le_bytes());
    }
    key.push(0xff);
    for l in &tx.locks {
        let target = match &l.target {
            lockgraph_core::LockTarget::Rows { relation, key: k } => format!(
                "rows {relation} {:?}",
                k.as_ref().map(|k| (&k.columns, k.single_row))
            ),
            other => other.node().to_string(),
        };
        key.extend_from_slice(format!("{target}|{}|{}\n", l.mode, l.implicit.is_some()).as_bytes());
    }
    key
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    /// An analyzer keeping at most `max_shapes` shapes, folding after `shapes_kept`.
    pub(crate) fn limited_analyzer(max_shapes: usize, shapes_kept: usize) -> LogAnalyzer {
        let opts = LogOptions::default();
        LogAnalyzer {
            st: State::with_limits(&opts, Schema::default(), max_shapes, shapes_kept),
            opts,
            last_prefix: None,
        }
    }

    /// Sessions the analyzer remembers.
    pub(crate) fn session_count(a: &LogAnalyzer) -> usize {
        a.st.sessions.map.len()
    }

    /// The idle-session limit.
    pub(crate) const IDLE: usize = IDLE_SESSIONS;

    /// Reads a whole input from a string.
    pub(crate) fn analyze_str(text: &str, opts: LogOptions) -> LogAnalysis {
        let mut a = LogAnalyzer::new(opts, Schema::default());
        a.feed("pg.log", text.as_bytes()).expect("in-memory input");
        a.finish()
    }
}
