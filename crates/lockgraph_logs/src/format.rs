//! The three log formats, read into [`Entry`]s: stderr (with a `log_line_prefix`), csvlog, jsonlog.

use crate::analyzer::State;
use crate::prefix::{Prefix, Severity, parse_severity};
use crate::warning::WarningKind;
use serde::Deserialize;
use std::borrow::Cow;

/// Which log format an input is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LogFormat {
    /// `log_destination = stderr` (also what `syslog`-less file logging and `docker logs` show):
    /// one line per message, a `log_line_prefix`, TAB-indented continuation lines.
    Stderr,
    /// `log_destination = csvlog`: 23–26 quoted columns, newlines inside quotes.
    Csv,
    /// `log_destination = jsonlog` (PostgreSQL 15+): one JSON object per line.
    Json,
    /// MySQL/MariaDB InnoDB deadlock reports: `SHOW ENGINE INNODB STATUS` output or an error log
    /// written with `innodb_print_all_deadlocks = ON` (see `docs/innodb.md`).
    InnoDb,
}

/// Guesses the format from the first non-blank lines (and the file name as a tie-breaker).
pub(crate) fn detect_format(sample: &[&[u8]], source: &str) -> LogFormat {
    if crate::innodb::looks_like_innodb(sample) {
        return LogFormat::InnoDb;
    }
    for line in sample
        .iter()
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
    {
        let t = line.trim_ascii_start();
        if t.starts_with(b"{") {
            return LogFormat::Json;
        }
        if let Some(end) = crate::prefix::parse_timestamp(t, 0)
            && t.get(end) == Some(&b',')
        {
            return LogFormat::Csv;
        }
        if crate::prefix::parse_timestamp(t, 0).is_some() || t.starts_with(b"\t") {
            return LogFormat::Stderr;
        }
    }
    let name = source
        .trim_end_matches(".gz")
        .trim_end_matches(".zst")
        .to_ascii_lowercase();
    if name.ends_with(".csv") {
        LogFormat::Csv
    } else if name.ends_with(".json") || name.ends_with(".jsonl") {
        LogFormat::Json
    } else {
        LogFormat::Stderr
    }
}

/// Where continuation lines of an entry go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Slot {
    #[default]
    Message,
    Detail,
    Context,
    Statement,
    Ignored,
}

/// One log entry: a message with the DETAIL, CONTEXT and STATEMENT lines of the same process that
/// follow it. Buffers are reused from entry to entry.
#[derive(Debug, Default)]
pub(crate) struct Entry {
    /// Line of the entry's first line.
    pub line: u32,
    pub severity: Option<Severity>,
    /// As printed; empty when the prefix has no timestamp.
    pub timestamp: String,
    pub pid: u32,
    /// Session key: a hash of `%c` / `session_id`, or the pid.
    pub session: u64,
    pub sqlstate: Option<[u8; 5]>,
    pub message: String,
    pub detail: String,
    pub detail_line: u32,
    pub context: String,
    pub statement: String,
    pub statement_line: u32,
    slot: Slot,
}

impl Entry {
    fn reset(&mut self) {
        self.severity = None;
        self.timestamp.clear();
        self.pid = 0;
        self.session = 0;
        self.sqlstate = None;
        self.message.clear();
        self.detail.clear();
        self.detail_line = 0;
        self.context.clear();
        self.statement.clear();
        self.statement_line = 0;
        self.slot = Slot::Message;
    }

    /// The SQLSTATE, when known.
    pub(crate) fn sqlstate_is(&self, code: &[u8; 5]) -> bool {
        self.sqlstate.as_ref() == Some(code)
    }

    fn set(&mut self, sev: Severity, text: &str, line: u32) {
        let slot = match sev {
            Severity::Detail => {
                self.detail_line = line;
                Slot::Detail
            }
            Severity::Context => Slot::Context,
            Severity::Statement => {
                self.statement_line = line;
                Slot::Statement
            }
            _ => Slot::Ignored,
        };
        self.slot = slot;
        if let Some(f) = self.field(slot) {
            f.clear();
            f.push_str(text);
        }
    }

    fn field(&mut self, slot: Slot) -> Option<&mut String> {
        match slot {
            Slot::Message => Some(&mut self.message),
            Slot::Detail => Some(&mut self.detail),
            Slot::Context => Some(&mut self.context),
            Slot::Statement => Some(&mut self.statement),
            Slot::Ignored => None,
        }
    }

    fn continue_with(&mut self, text: &str) {
        if let Some(f) = self.field(self.slot)
            && f.len() < crate::input::MAX_LINE
        {
            f.push('\n');
            f.push_str(text);
        }
    }
}

/// Session key of a session id (`%c`) or a pid: hashed session ids have the top bit set, so
/// they never equal a pid.
pub(crate) fn session_key(session: Option<&[u8]>, pid: u32) -> u64 {
    match session {
        Some(s) if !s.is_empty() => {
            use std::hash::Hasher;
            let mut h = rustc_hash::FxHasher::default();
            h.write(s);
            h.finish() | (1 << 63)
        }
        _ => u64::from(pid),
    }
}

/// The pid inside a `%c` session id (`65f1a2b3.15a5` → 0x15a5).
pub(crate) fn pid_of_session(id: &[u8]) -> Option<u32> {
    let dot = memchr::memchr(b'.', id)?;
    let hex = std::str::from_utf8(&id[dot + 1..]).ok()?;
    u32::from_str_radix(hex, 16).ok()
}

/// Reads one input in one format.
pub(crate) enum FormatReader {
    Stderr(StderrReader),
    Csv(CsvReader),
    Json(JsonReader),
    InnoDb(crate::innodb::InnoDbReader),
}

impl FormatReader {
    pub(crate) fn line(&mut self, line: &str, no: u32, st: &mut State) {
        match self {
            FormatReader::Stderr(r) => r.line(line, no, st),
            FormatReader::Csv(r) => r.line(line, no, st),
            FormatReader::Json(r) => r.line(line, no, st),
            FormatReader::InnoDb(r) => r.line(line, no, st),
        }
    }

    pub(crate) fn finish(&mut self, st: &mut State) {
        match self {
            FormatReader::Stderr(r) => r.finish(st),
            FormatReader::Csv(r) => r.finish(st),
            FormatReader::Json(_) => {}
            FormatReader::InnoDb(r) => r.finish(st),
        }
    }
}

/// stderr: prefix + severity + message; TAB continuation lines; DETAIL/CONTEXT/… lines of the
/// same process attach to the message before them.
pub(crate) struct StderrReader {
    prefix: Prefix,
    entry: Entry,
    active: bool,
    /// The prefix was detected (not given): a run of lines it does not match makes it look again.
    adaptive: bool,
    /// Lines the prefix did not match (and the TAB lines after them), held back to look for a
    /// changed prefix before they are reported.
    misses: Vec<(String, u32)>,
    miss_count: usize,
}

/// Unmatched lines in a row that make a detected prefix be looked for again.
const REDETECT_AFTER: usize = 20;

impl StderrReader {
    pub(crate) fn new(prefix: Prefix, adaptive: bool) -> Self {
        StderrReader {
            prefix,
            entry: Entry::default(),
            active: false,
            adaptive,
            misses: Vec::new(),
            miss_count: 0,
        }
    }

    fn flush(&mut self, st: &mut State) {
        if self.active {
            st.process_entry(&self.entry);
            self.active = false;
        }
    }

    /// Ends the input: the pending entry is processed, held-back lines are reported.
    fn finish(&mut self, st: &mut State) {
        self.report_misses(st);
        if st.hold_last && self.active {
            st.held_entry = Some(self.entry.line);
            self.active = false;
            return;
        }
        self.flush(st);
    }

    fn report_misses(&mut self, st: &mut State) {
        for (line, no) in std::mem::take(&mut self.misses) {
            if line.starts_with('\t') {
                st.warn_at(
                    no,
                    WarningKind::OrphanLine,
                    "continuation line without a message before it",
                );
            } else {
                st.warn_at(
                    no,
                    WarningKind::UnrecognizedLine,
                    format!("not a log entry: {}", excerpt(&line)),
                );
            }
        }
        self.miss_count = 0;
    }

    /// A run of unmatched lines: if another prefix reads most of them, switch to it (the server's
    /// `log_line_prefix` changed, or logs of two servers were joined) and read them again.
    fn redetect(&mut self, st: &mut State) {
        let sample: Vec<&[u8]> = self.misses.iter().map(|(l, _)| l.as_bytes()).collect();
        let found = crate::prefix::detect(&sample, None)
            .filter(|(p, matched, _)| !p.is_loose() && *matched * 4 >= self.miss_count * 3);
        let Some((prefix, ..)) = found else {
            self.report_misses(st);
            return;
        };
        let first = self.misses.first().map(|m| m.1).unwrap_or(0);
        st.warn_at(
            first,
            WarningKind::PrefixChanged,
            format!(
                "log_line_prefix changed from `{}` to `{}`",
                self.prefix.as_str(),
                prefix.as_str()
            ),
        );
        self.prefix = prefix;
        self.miss_count = 0;
        for (line, no) in std::mem::take(&mut self.misses) {
            self.line(&line, no, st);
        }
    }

    fn line(&mut self, line: &str, no: u32, st: &mut State) {
        let b = line.as_bytes();
        if b.is_empty() {
            return;
        }
        if !self.misses.is_empty() && (b[0] == b'\t' || self.prefix.matches(b).is_none()) {
            if b[0] != b'\t' && b.iter().all(u8::is_ascii_whitespace) {
                return;
            }
            self.misses.push((line.to_string(), no));
            if b[0] != b'\t' {
                self.miss_count += 1;
                if self.miss_count >= REDETECT_AFTER {
                    self.redetect(st);
                }
            }
            return;
        }
        if !self.misses.is_empty() {
            self.report_misses(st);
        }
        if b[0] == b'\t' {
            if self.active {
                self.entry.continue_with(&line[1..]);
            } else {
                st.warn_at(
                    no,
                    WarningKind::OrphanLine,
                    "continuation line without a message before it",
                );
            }
            return;
        }
        let Some(m) = self.prefix.matches(b) else {
            if b.iter().all(u8::is_ascii_whitespace) {
                return;
            }
            // The entry before is complete: TAB lines after this one are not its own.
            self.flush(st);
            if self.adaptive {
                // What follows may be of another prefix: hold it back and look.
                self.misses.push((line.to_string(), no));
                self.miss_count = 1;
                return;
            }
            st.warn_at(
                no,
                WarningKind::UnrecognizedLine,
                format!("not a log entry: {}", excerpt(line)),
            );
            return;
        };
        let Some((sev, len)) = parse_severity(&b[m.end..]) else {
            return;
        };
        let mut start = m.end + len;
        let mut sqlstate = m.sqlstate.and_then(|(a, z)| b[a..z].try_into().ok());
        // `log_error_verbosity = verbose`: `ERROR:  40P01: deadlock detected`.
        if let Some(code) = b.get(start..start + 7)
            && code[5] == b':'
            && code[6] == b' '
            && code[..5]
                .iter()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        {
            sqlstate = code[..5].try_into().ok();
            start += 7;
        }
        let text = &line[start..];
        let session_id = m.session.map(|(a, z)| &b[a..z]);
        // `%c` is `<start time hex>.<pid hex>`: the pid when the prefix has no `%p`.
        let pid = m
            .pid
            .or_else(|| session_id.and_then(pid_of_session))
            .unwrap_or(0);
        let session = session_key(session_id, pid);
        if sev.is_secondary() {
            if self.active && self.entry.session == session {
                self.entry.set(sev, text, no);
            } else {
                st.warn_at(
                    no,
                    WarningKind::OrphanLine,
                    format!("{sev:?} line without a message of its process before it"),
                );
            }
            return;
        }
        self.flush(st);
        let e = &mut self.entry;
        e.reset();
        e.line = no;
        e.severity = Some(sev);
        if let Some((a, z)) = m.timestamp {
            e.timestamp.push_str(&line[a..z]);
        }
        e.pid = pid;
        e.session = session;
        e.sqlstate = sqlstate;
        e.message.push_str(text);
        self.active = true;
    }
}

fn excerpt(line: &str) -> String {
    let mut end = line.len().min(80);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    if end < line.len() {
        format!("{}…", &line[..end])
    } else {
        line.to_string()
    }
}

/// csvlog: records may span lines (newlines inside quoted fields).
pub(crate) struct CsvReader {
    record: String,
    start_line: u32,
    quotes: usize,
    fields: Vec<(usize, usize, bool)>,
    entry: Entry,
}

/// Longest csv record kept before it is given up as malformed.
const MAX_RECORD: usize = 4 * crate::input::MAX_LINE;

impl CsvReader {
    pub(crate) fn new() -> Self {
        CsvReader {
            record: String::new(),
            start_line: 0,
            quotes: 0,
            fields: Vec::new(),
            entry: Entry::default(),
        }
    }

    fn line(&mut self, line: &str, no: u32, st: &mut State) {
        if self.record.is_empty() {
            if line.is_empty() {
                return;
            }
            self.start_line = no;
        } else if starts_csv_record(line, &mut self.fields) {
            // Inside an open quote, a line that is a whole csvlog record of its own: the quote
            // was never closed (a record cut by a crash or a hand edit). Keep what the cut
            // record holds and go on with this one, instead of swallowing the log into it.
            st.warn_at(
                self.start_line,
                WarningKind::MalformedRecord,
                format!("csv record with an unterminated quoted field, cut where the record of line {no} starts"),
            );
            self.record.push('"');
            self.emit(st);
            self.start_line = no;
        } else {
            self.record.push('\n');
        }
        self.record.push_str(line);
        self.quotes += memchr::memchr_iter(b'"', line.as_bytes()).count();
        if self.quotes % 2 == 1 {
            if self.record.len() > MAX_RECORD {
                st.warn_at(
                    self.start_line,
                    WarningKind::MalformedRecord,
                    "csv record with an unterminated quoted field; skipped",
                );
                self.record.clear();
                self.quotes = 0;
            }
            return;
        }
        self.emit(st);
    }

    fn finish(&mut self, st: &mut State) {
        if st.hold_last && !self.record.is_empty() {
            st.held_entry = Some(self.start_line);
            return;
        }
        if !self.record.is_empty() {
            st.warn_at(
                self.start_line,
                WarningKind::MalformedRecord,
                "csv record cut at the end of the input",
            );
            // Keep what is there: close the open quote.
            self.record.push('"');
            self.emit(st);
        }
    }

    fn emit(&mut self, st: &mut State) {
        split_csv(&self.record, &mut self.fields);
        let rec = &self.record;
        let fields = &self.fields;
        if fields.len() < 14 {
            st.warn_at(
                self.start_line,
                WarningKind::MalformedRecord,
                format!(
                    "csv record with {} fields (csvlog has 23 to 26)",
                    fields.len()
                ),
            );
        } else {
            let get = |i: usize, out: &mut String| {
                out.clear();
                if let Some(&(a, z, escaped)) = fields.get(i) {
                    if escaped {
                        out.push_str(&rec[a..z].replace("\"\"", "\""));
                    } else {
                        out.push_str(&rec[a..z]);
                    }
                }
            };
            let line_of = |i: usize| -> u32 {
                let at = fields.get(i).map(|f| f.0).unwrap_or(0);
                self.start_line.saturating_add(memchr::memchr_iter(b'\n', &rec.as_bytes()[..at]).count() as u32)
            };
            let e = &mut self.entry;
            e.reset();
            e.line = self.start_line;
            get(0, &mut e.timestamp);
            let field = |i: usize| fields.get(i).map(|&(a, z, _)| &rec[a..z]).unwrap_or("");
            e.pid = crate::prefix::parse_u32(field(3).as_bytes()).unwrap_or(0);
            e.session = session_key(Some(field(5).as_bytes()), e.pid);
            e.severity = Severity::from_name(field(11).as_bytes());
            e.sqlstate = field(12).as_bytes().try_into().ok();
            get(13, &mut e.message);
            get(14, &mut e.detail);
            e.detail_line = line_of(14);
            get(18, &mut e.context);
            get(19, &mut e.statement);
            e.statement_line = line_of(19);
            if e.severity.is_none() {
                st.warn_at(
                    self.start_line,
                    WarningKind::MalformedRecord,
                    format!("csv record with unknown severity `{}`", excerpt(field(11))),
                );
            } else {
                st.process_entry(e);
            }
        }
        self.record.clear();
        self.quotes = 0;
        if self.record.capacity() > MAX_RECORD {
            self.record.shrink_to(1 << 16);
        }
    }
}

/// Whether `line` is a complete csvlog record on its own: a timestamp, a comma, balanced quotes
/// and at least 23 fields (`fields` is scratch space).
fn starts_csv_record(line: &str, fields: &mut Vec<(usize, usize, bool)>) -> bool {
    let b = line.as_bytes();
    if !b.first().is_some_and(u8::is_ascii_digit) {
        return false;
    }
    let Some(end) = crate::prefix::parse_timestamp(b, 0) else {
        return false;
    };
    if b.get(end) != Some(&b',') || memchr::memchr_iter(b'"', b).count() % 2 == 1 {
        return false;
    }
    split_csv(line, fields);
    fields.len() >= 23
}

/// Splits one csv record into field ranges (without quotes) and whether `""` must be unescaped.
fn split_csv(rec: &str, out: &mut Vec<(usize, usize, bool)>) {
    out.clear();
    let b = rec.as_bytes();
    let mut i = 0;
    loop {
        if b.get(i) == Some(&b'"') {
            let start = i + 1;
            let mut j = start;
            let mut escaped = false;
            loop {
                match memchr::memchr(b'"', &b[j..]) {
                    Some(off) if b.get(j + off + 1) == Some(&b'"') => {
                        escaped = true;
                        j += off + 2;
                    }
                    Some(off) => {
                        j += off;
                        break;
                    }
                    None => {
                        j = b.len();
                        break;
                    }
                }
            }
            out.push((start, j, escaped));
            i = j + 1;
            // Skip anything up to the next comma (tolerant of junk after a closing quote).
            match memchr::memchr(b',', &b[i.min(b.len())..]) {
                Some(off) => i += off + 1,
                None => return,
            }
        } else {
            match memchr::memchr(b',', &b[i.min(b.len())..]) {
                Some(off) => {
                    out.push((i, i + off, false));
                    i += off + 1;
                }
                None => {
                    out.push((i.min(b.len()), b.len(), false));
                    return;
                }
            }
        }
    }
}

/// jsonlog: one object per line.
pub(crate) struct JsonReader {
    entry: Entry,
}

#[derive(Deserialize)]
struct JsonRecord<'a> {
    #[serde(borrow, default)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(default)]
    pid: Option<u32>,
    #[serde(borrow, default)]
    session_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    error_severity: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    state_code: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    detail: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    context: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    statement: Option<Cow<'a, str>>,
}

impl JsonRecord<'static> {
    /// The fields of the right type (a pid may also be a numeric string), and the names of
    /// those of a wrong type.
    fn lenient(map: &serde_json::Map<String, serde_json::Value>) -> (Self, Vec<&'static str>) {
        use serde_json::Value;
        let mut wrong = Vec::new();
        let mut text = |name: &'static str| match map.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(Cow::Owned(s.clone())),
            Some(_) => {
                wrong.push(name);
                None
            }
        };
        let mut rec = JsonRecord {
            timestamp: text("timestamp"),
            pid: None,
            session_id: text("session_id"),
            error_severity: text("error_severity"),
            state_code: text("state_code"),
            message: text("message"),
            detail: text("detail"),
            context: text("context"),
            statement: text("statement"),
        };
        let pid = map.get("pid").filter(|v| !v.is_null());
        rec.pid = pid.and_then(|v| match v {
            Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        });
        if pid.is_some() && rec.pid.is_none() {
            wrong.insert(0, "pid");
        }
        (rec, wrong)
    }
}

impl JsonReader {
    pub(crate) fn new() -> Self {
        JsonReader {
            entry: Entry::default(),
        }
    }

    fn line(&mut self, line: &str, no: u32, st: &mut State) {
        let t = line.trim();
        if t.is_empty() {
            return;
        }
        if !t.starts_with('{') {
            st.warn_at(
                no,
                WarningKind::UnrecognizedLine,
                format!("not a jsonlog object: {}", excerpt(t)),
            );
            return;
        }
        let rec: JsonRecord<'_> = match serde_json::from_str(t) {
            Ok(r) => r,
            Err(err) => match serde_json::from_str::<serde_json::Value>(t) {
                // Valid JSON, but a field of the wrong type: read the record without it.
                Ok(serde_json::Value::Object(map)) => {
                    let (rec, wrong) = JsonRecord::lenient(&map);
                    let message = match &wrong[..] {
                        [] => format!("jsonlog record read leniently: {err}"),
                        [one] => {
                            format!(
                                "jsonlog field `{one}` has the wrong type; the record is read without it"
                            )
                        }
                        many => format!(
                            "jsonlog fields `{}` have the wrong type; the record is read without them",
                            many.join("`, `")
                        ),
                    };
                    st.warn_at(no, WarningKind::MalformedRecord, message);
                    rec
                }
                _ => {
                    st.warn_at(
                        no,
                        WarningKind::MalformedRecord,
                        format!("jsonlog line is not valid JSON: {err}"),
                    );
                    return;
                }
            },
        };
        let e = &mut self.entry;
        e.reset();
        e.line = no;
        e.detail_line = no;
        e.statement_line = no;
        let put = |v: &Option<Cow<'_, str>>, out: &mut String| {
            if let Some(v) = v {
                out.push_str(v);
            }
        };
        put(&rec.timestamp, &mut e.timestamp);
        e.pid = rec.pid.unwrap_or(0);
        e.session = session_key(rec.session_id.as_deref().map(str::as_bytes), e.pid);
        e.severity = rec
            .error_severity
            .as_deref()
            .and_then(|s| Severity::from_name(s.as_bytes()));
        e.sqlstate = rec
            .state_code
            .as_deref()
            .and_then(|s| s.as_bytes().try_into().ok());
        put(&rec.message, &mut e.message);
        put(&rec.detail, &mut e.detail);
        put(&rec.context, &mut e.context);
        put(&rec.statement, &mut e.statement);
        if e.severity.is_none() {
            st.warn_at(
                no,
                WarningKind::MalformedRecord,
                "jsonlog object without a known error_severity",
            );
            return;
        }
        st.process_entry(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_with_quotes_and_newlines() {
        let rec = "2024-05-01 12:00:00.000 UTC,\"app\",\"shop\",77,\"[local]\",65f1.4d,3,\"UPDATE\",,3/7,0,ERROR,40P01,\"deadlock \"\"detected\"\"\",\"Process 1 waits\nProcess 2: x\",,,,,\"UPDATE t, u\",,,\"psql\",client backend,,0";
        let mut f = Vec::new();
        split_csv(rec, &mut f);
        assert_eq!(f.len(), 26);
        let get = |i: usize| &rec[f[i].0..f[i].1];
        assert_eq!(get(3), "77");
        assert_eq!(get(8), "");
        assert_eq!(get(13), "deadlock \"\"detected\"\"");
        assert!(f[13].2);
        assert_eq!(get(14), "Process 1 waits\nProcess 2: x");
        assert_eq!(get(19), "UPDATE t, u");
        assert_eq!(get(25), "0");
        split_csv("", &mut f);
        assert_eq!(f.len(), 1);
        split_csv("\"unterminated", &mut f);
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn format_detection() {
        let d = |s: &str, name: &str| {
            let lines: Vec<&[u8]> = s.lines().map(str::as_bytes).collect();
            detect_format(&lines, name)
        };
        assert_eq!(d("{\"timestamp\":\"x\"}", "a.log"), LogFormat::Json);
        assert_eq!(
            d("2024-05-01 12:00:00.000 UTC,\"app\"", "a.log"),
            LogFormat::Csv
        );
        assert_eq!(
            d("\n2024-05-01 12:00:00.000 UTC [1] LOG:  x", "a.csv"),
            LogFormat::Stderr
        );
        assert_eq!(d("garbage", "pg.csv.gz"), LogFormat::Csv);
        assert_eq!(d("garbage", "pg.json"), LogFormat::Json);
        assert_eq!(d("LOG:  x", "pg.log"), LogFormat::Stderr);
    }

    #[test]
    fn session_keys_never_collide_with_pids() {
        assert_eq!(session_key(None, 42), 42);
        assert_eq!(session_key(Some(b""), 42), 42);
        assert!(session_key(Some(b"65f1a2b3.2a"), 42) >= 1 << 63);
        assert_eq!(pid_of_session(b"65f1a2b3.2a"), Some(42));
        assert_eq!(pid_of_session(b"65f1a2b3"), None);
    }
}
