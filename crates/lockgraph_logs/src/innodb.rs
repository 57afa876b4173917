//! MySQL/MariaDB InnoDB deadlock reports, read into the same
//! [`ObservedDeadlock`](lockgraph_core::ObservedDeadlock)s as PostgreSQL's.
//!
//! Two inputs carry them (see `docs/innodb.md`):
//!
//! - **`SHOW ENGINE INNODB STATUS` output**, saved as the client printed it (`\G`, with the
//!   `=====` banners, tabular `mysql -e` output with `\n` escapes, or just the text): its
//!   `LATEST DETECTED DEADLOCK` section holds the last deadlock.
//! - **The error log** with `innodb_print_all_deadlocks = ON`: every deadlock, each starting
//!   with `Transactions deadlock detected, dumping detailed information.` Its section lines carry
//!   the log prefix (MariaDB and MySQL 5.7: `TS THREAD [Note] InnoDB: …`; MySQL 8.0:
//!   `TS THREAD [Note] [MY-012469] [InnoDB] …`), the lines between them do not.
//!
//! A report lists the transactions (`*** (N) TRANSACTION:` with the trx id, the thread id and
//! the statement), the locks each waits for and holds (MySQL: `*** (N) HOLDS THE LOCK(S):` /
//! `*** (N) WAITING FOR THIS LOCK TO BE GRANTED:`; MariaDB 10.6+: `*** WAITING FOR THIS LOCK TO
//! BE GRANTED:` / `*** CONFLICTING WITH:`, the conflicting lock naming its holder by trx id),
//! and the victim (`*** WE ROLL BACK TRANSACTION (N)`). Each waiting lock becomes an edge from
//! its transaction's thread to the thread holding the conflicting lock; the participants' pids
//! are MySQL thread ids. Lines of an error log outside a report are ordinary server messages
//! and are skipped without a warning.

use crate::analyzer::State;
use crate::deadlock::signature;
use crate::warning::WarningKind;
use lockgraph_core::{
    DeadlockEdge, DeadlockParticipant, Fingerprint, LockAcquisition, LockMode, LockTarget,
    ObservedDeadlock, RelationName, Statement,
};
use std::sync::Arc;

/// Whether sample lines are InnoDB output: a deadlock or monitor marker anywhere, or a first
/// line shaped like a MySQL/MariaDB error-log line.
pub(crate) fn looks_like_innodb(sample: &[&[u8]]) -> bool {
    const MARKERS: [&[u8]; 4] = [
        b"LATEST DETECTED DEADLOCK",
        b"INNODB MONITOR OUTPUT",
        b"Transactions deadlock detected",
        b"*** (1) TRANSACTION",
    ];
    if sample.iter().any(|line| {
        MARKERS
            .iter()
            .any(|m| memchr::memmem::find(line, m).is_some())
    }) {
        return true;
    }
    sample
        .iter()
        .find(|l| !l.iter().all(u8::is_ascii_whitespace))
        .is_some_and(|l| split_errlog(&String::from_utf8_lossy(l)).is_some())
}

/// Labels of error-log lines (`[Note]`, MySQL 8.0's `[System]`, …).
const LABELS: [&str; 6] = ["Note", "Warning", "ERROR", "Error", "System", "Info"];

/// Splits an error-log line into its timestamp and message: `TS [THREAD] [Label] InnoDB: msg`
/// (MariaDB, MySQL 5.7) or `TS THREAD [Label] [MY-nnnnnn] [Subsystem] msg` (MySQL 8.0).
fn split_errlog(line: &str) -> Option<(&str, &str)> {
    if !line.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let window = &line[..floor_boundary(line, 96)];
    let (at, after) = window.match_indices(" [").find_map(|(at, _)| {
        let rest = &line[at + 2..];
        LABELS.iter().find_map(|label| {
            rest.strip_prefix(label)
                .and_then(|r| r.strip_prefix(']'))
                .map(|r| (at, r))
        })
    })?;
    let head = line[..at].trim_end();
    // The thread id after the timestamp, when there is one.
    let timestamp = match head.rfind(' ') {
        Some(sp) if head[sp + 1..].bytes().all(|b| b.is_ascii_digit()) => head[..sp].trim_end(),
        _ => head,
    };
    let mut msg = after.strip_prefix(' ').unwrap_or(after);
    if msg.starts_with("[MY-") {
        // `[MY-012469] [InnoDB] msg`
        msg = msg.split_once("] ").map_or("", |(_, r)| r);
        if msg.starts_with('[') {
            msg = msg.split_once(']').map_or("", |(_, r)| r);
        }
    } else if let Some(rest) = msg.strip_prefix("InnoDB:") {
        msg = rest;
    }
    Some((timestamp, msg))
}

/// The largest char boundary at or below `at`.
fn floor_boundary(s: &str, at: usize) -> usize {
    let mut end = at.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    end
}

/// MariaDB pads the hour with a space (`2024-05-01  9:00:00`): zero-pad it, so the timestamp
/// sorts and parses like the others.
fn normalize_timestamp(ts: &str) -> String {
    let b = ts.as_bytes();
    if b.len() > 12 && b[10] == b' ' && b[11] == b' ' && b[12].is_ascii_digit() {
        format!("{} 0{}", &ts[..10], &ts[12..])
    } else {
        ts.to_string()
    }
}

/// A lock line's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LockKind {
    /// `RECORD LOCKS … index I of table T …`.
    Record,
    /// `TABLE LOCK table T …`.
    Table,
}

/// One `RECORD LOCKS` / `TABLE LOCK` line.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Lock {
    kind: LockKind,
    /// `db.table` (unquoted).
    relation: String,
    /// The table as printed (`` `db`.`table` ``).
    table_text: String,
    index: Option<String>,
    trx_id: String,
    /// `space id`, `page no` of a record lock.
    page: Option<(u64, u64)>,
    /// The mode words as printed, without `waiting` (`lock_mode X locks rec but not gap`).
    mode: String,
    /// `X`, `S`, `IX`, `IS`, `AUTO-INC`.
    strength: String,
}

impl Lock {
    /// The target as InnoDB names it.
    fn target(&self) -> String {
        match (&self.kind, &self.index) {
            (LockKind::Record, Some(i)) => format!("index {i} of table {}", self.table_text),
            _ => format!("table {}", self.table_text),
        }
    }

    /// Whether two lock lines are on the same thing (table, index, page).
    fn same_place(&self, other: &Lock) -> bool {
        self.kind == other.kind
            && self.relation == other.relation
            && self.index == other.index
            && (self.page.is_none() || other.page.is_none() || self.page == other.page)
    }

    /// The lock in lockgraph's InnoDB model: record locks on rows of the table (unknown keys)
    /// with their gap, record-only and insert-intention flags, table locks as printed.
    fn core_lock(&self) -> Option<(LockTarget, LockMode)> {
        let relation = RelationName::new(self.relation.as_str());
        match self.kind {
            LockKind::Record => Some((
                LockTarget::Rows {
                    relation,
                    key: None,
                },
                lockgraph_core::parse_innodb_mode("RECORD", &self.mode)?,
            )),
            LockKind::Table => Some((
                LockTarget::Relation { relation },
                lockgraph_core::parse_innodb_mode("TABLE", &self.mode)?,
            )),
        }
    }
}

/// Reads a table name as printed: `` `db`.`t` `` (backticks doubled inside), or bare `db.t`.
/// Returns `(db.t unquoted, as printed, rest)`.
fn parse_table(s: &str) -> Option<(String, &str, &str)> {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    let b = s.as_bytes();
    loop {
        if b.get(i) == Some(&b'`') {
            let mut name = String::new();
            let mut j = i + 1;
            loop {
                let off = memchr::memchr(b'`', &b[j..])?;
                name.push_str(&s[j..j + off]);
                if b.get(j + off + 1) == Some(&b'`') {
                    name.push('`');
                    j += off + 2;
                } else {
                    j += off + 1;
                    break;
                }
            }
            parts.push(name);
            i = j;
        } else {
            let n = s[i..]
                .find(|c: char| c.is_whitespace() || c == '.')
                .unwrap_or(s.len() - i);
            if n == 0 {
                return None;
            }
            parts.push(s[i..i + n].to_string());
            i += n;
        }
        if b.get(i) == Some(&b'.') && parts.len() < 2 {
            i += 1;
        } else {
            break;
        }
    }
    Some((parts.join("."), &s[..i], &s[i..]))
}

/// Parses `RECORD LOCKS space id S page no P n bits B index I of table T trx id X MODE` or
/// `TABLE LOCK table T trx id X MODE` (each maybe ending in `waiting`).
fn parse_lock(line: &str) -> Option<(Lock, bool)> {
    let (kind, rest) = if let Some(r) = line.strip_prefix("RECORD LOCKS ") {
        (LockKind::Record, r)
    } else {
        (LockKind::Table, line.strip_prefix("TABLE LOCK ")?)
    };
    let (index, table_at) = match kind {
        LockKind::Record => {
            let i = rest.find("index ")?;
            let after = &rest[i + 6..];
            let end = after.find(" of table ")?;
            let name = after[..end].trim().trim_matches('`').to_string();
            (Some(name), &after[end + 10..])
        }
        LockKind::Table => (None, rest.strip_prefix("table ")?),
    };
    let (relation, table_text, after_table) = parse_table(table_at)?;
    let trx_at = after_table.find("trx id ")?;
    let after_trx = &after_table[trx_at + 7..];
    let (trx_id, mode) = after_trx
        .split_once(char::is_whitespace)
        .unwrap_or((after_trx, ""));
    let mut words: Vec<&str> = mode.split_whitespace().collect();
    let waiting = words.last() == Some(&"waiting");
    if waiting {
        words.pop();
    }
    let mode = words.join(" ");
    let strength = ["lock_mode ", "lock mode "]
        .iter()
        .find_map(|p| mode.find(p).map(|at| &mode[at + p.len()..]))
        .map(|s| {
            s.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect()
        })
        .unwrap_or_default();
    let page = (|| {
        let s = rest.strip_prefix("space id ")?;
        let (space, s) = s.split_once(' ')?;
        let s = s.strip_prefix("page no ")?;
        let page = s.split(' ').next()?;
        Some((space.parse().ok()?, page.parse().ok()?))
    })();
    Some((
        Lock {
            kind,
            relation,
            table_text: table_text.to_string(),
            index,
            trx_id: trx_id.trim_end_matches(',').to_string(),
            page,
            mode,
            strength,
        },
        waiting,
    ))
}

/// `(N) rest` → `(Some(N), rest)`.
fn paren_number(s: &str) -> (Option<u32>, &str) {
    if let Some(r) = s.strip_prefix('(')
        && let Some((n, rest)) = r.split_once(')')
        && let Ok(n) = n.trim().parse()
    {
        return (Some(n), rest.trim_start());
    }
    (None, s)
}

/// Which list the lock lines after a `***` marker go to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Section {
    #[default]
    None,
    /// The transaction's header: trx id, thread, statement.
    Header,
    Holds,
    Waiting,
    /// MariaDB: locks of other transactions the waiting lock conflicts with.
    Conflicting,
}

/// One `*** (N) TRANSACTION:` block.
#[derive(Debug, Default)]
struct Trx {
    number: u32,
    trx_id: Option<String>,
    thread: Option<u32>,
    /// The thread line was read: the lines up to the next marker are the statement.
    in_statement: bool,
    statement: String,
    statement_line: u32,
    holds: Vec<Lock>,
    waiting: Option<Lock>,
    conflicting: Vec<Lock>,
}

/// Where a report came from (how it ends).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    /// `LATEST DETECTED DEADLOCK` of a status output: ends at the next dashed rule.
    Status,
    /// An error log: ends at the next log line that is not part of it.
    ErrorLog,
    /// A report pasted without its header.
    Bare,
}

/// A report being read.
#[derive(Debug)]
struct Report {
    origin: Origin,
    start: u32,
    last_line: u32,
    timestamp: Option<String>,
    /// A `***` marker was read (so a dashed rule now ends the section).
    seen_marker: bool,
    trxs: Vec<Trx>,
    section: Section,
    /// Index in `trxs` the section's lock lines belong to.
    section_trx: usize,
    victim: Option<u32>,
    /// `… WE WILL ROLL BACK FOLLOWING TRANSACTION` (search too deep): the next one is the victim.
    rollback_next: bool,
}

impl Report {
    fn new(origin: Origin, start: u32, timestamp: Option<String>) -> Self {
        Report {
            origin,
            start,
            last_line: start,
            timestamp,
            seen_marker: false,
            trxs: Vec::new(),
            section: Section::None,
            section_trx: 0,
            victim: None,
            rollback_next: false,
        }
    }
}

/// Reads InnoDB status output and error logs, one line at a time.
pub(crate) struct InnoDbReader {
    report: Option<Report>,
}

impl InnoDbReader {
    pub(crate) fn new() -> Self {
        InnoDbReader { report: None }
    }

    pub(crate) fn line(&mut self, line: &str, no: u32, st: &mut State) {
        // `mysql -e 'SHOW ENGINE INNODB STATUS'` (batch mode) prints the whole status on one
        // line with `\n` escapes.
        if line.contains("\\n")
            && (line.contains("LATEST DETECTED DEADLOCK") || line.contains("INNODB MONITOR OUTPUT"))
        {
            for piece in line.split("\\n") {
                self.one(&piece.replace("\\t", "\t"), no, st);
            }
            return;
        }
        self.one(line, no, st);
    }

    pub(crate) fn finish(&mut self, st: &mut State) {
        if st.hold_last
            && let Some(r) = self.report.take()
        {
            st.held_entry = Some(r.start);
            return;
        }
        self.close(st);
    }

    fn one(&mut self, raw: &str, no: u32, st: &mut State) {
        let line = raw.trim_end();
        if let Some((ts, msg)) = split_errlog(line) {
            let msg = msg.trim();
            if msg.starts_with("Transactions deadlock detected") {
                self.close(st);
                self.report = Some(Report::new(
                    Origin::ErrorLog,
                    no,
                    Some(normalize_timestamp(ts)),
                ));
            } else if self.report.is_some() {
                if msg.starts_with("***") {
                    self.body(msg, no, st);
                } else if !msg.is_empty() {
                    // Another server message: the report is over.
                    self.close(st);
                }
            }
            return;
        }
        let t = line.trim_start();
        if t == "LATEST DETECTED DEADLOCK" {
            self.close(st);
            self.report = Some(Report::new(Origin::Status, no, None));
            return;
        }
        let Some(r) = self.report.as_mut() else {
            if t.starts_with("*** (1) TRANSACTION") {
                self.report = Some(Report::new(Origin::Bare, no, None));
                self.body(line, no, st);
            }
            return;
        };
        if t.len() >= 3 && t.bytes().all(|b| b == b'-' || b == b'=') {
            // The dashed rule under the header, or the next section of the status output.
            if r.seen_marker {
                self.close(st);
            }
            return;
        }
        if r.origin == Origin::Status
            && !r.seen_marker
            && r.timestamp.is_none()
            && t.as_bytes().first().is_some_and(u8::is_ascii_digit)
        {
            // `2024-05-01 10:00:00 0x7f…`: the first two words.
            let mut words = t.split_whitespace();
            let ts = match (words.next(), words.next()) {
                (Some(d), Some(h)) => format!("{d} {h}"),
                (Some(d), None) => d.to_string(),
                _ => String::new(),
            };
            r.timestamp = Some(ts);
            return;
        }
        self.body(line, no, st);
    }

    /// A line inside a report (without an error-log prefix).
    fn body(&mut self, line: &str, no: u32, st: &mut State) {
        let Some(r) = self.report.as_mut() else {
            return;
        };
        r.last_line = no;
        let t = line.trim();
        if let Some(marker) = t.strip_prefix("***") {
            r.seen_marker = true;
            let (number, what) = paren_number(marker.trim());
            let pick = |r: &Report| {
                number
                    .and_then(|n| r.trxs.iter().position(|x| x.number == n))
                    .unwrap_or(r.trxs.len().saturating_sub(1))
            };
            if what.starts_with("TRANSACTION:") {
                let n = number.unwrap_or(r.trxs.len() as u32 + 1);
                if r.rollback_next {
                    r.victim = Some(n);
                    r.rollback_next = false;
                }
                r.trxs.push(Trx {
                    number: n,
                    ..Trx::default()
                });
                r.section = Section::Header;
                r.section_trx = r.trxs.len() - 1;
            } else if let Some(victim) = what.strip_prefix("WE ROLL BACK TRANSACTION") {
                let (n, _) = paren_number(victim.trim());
                r.victim = n;
                self.close(st);
            } else {
                r.section = if what.starts_with("HOLDS THE LOCK") {
                    Section::Holds
                } else if what.starts_with("WAITING FOR THIS LOCK") {
                    Section::Waiting
                } else if what.starts_with("CONFLICTING WITH") {
                    Section::Conflicting
                } else {
                    Section::None
                };
                r.section_trx = pick(r);
            }
            return;
        }
        if t.contains("WE WILL ROLL BACK FOLLOWING TRANSACTION") {
            r.rollback_next = true;
            return;
        }
        let section = r.section;
        let Some(trx) = r.trxs.get_mut(r.section_trx) else {
            return;
        };
        match section {
            Section::Header if trx.in_statement => {
                if trx.statement.is_empty() {
                    if t.is_empty() {
                        return;
                    }
                    trx.statement_line = no;
                } else {
                    trx.statement.push('\n');
                }
                if trx.statement.len() < crate::input::MAX_LINE {
                    trx.statement.push_str(line);
                }
            }
            Section::Header => {
                if let Some(rest) = t.strip_prefix("TRANSACTION ") {
                    let id = rest.split([',', ' ']).next().unwrap_or("");
                    trx.trx_id = Some(id.to_string());
                } else if let Some(at) = t.find(" thread id ") {
                    let digits: String = t[at + 11..]
                        .chars()
                        .take_while(char::is_ascii_digit)
                        .collect();
                    trx.thread = digits.parse().ok();
                    trx.in_statement = true;
                }
            }
            Section::Holds | Section::Waiting | Section::Conflicting => {
                if !(t.starts_with("RECORD LOCKS ") || t.starts_with("TABLE LOCK ")) {
                    return; // `Record lock, heap no …` and the record's fields
                }
                let Some((lock, _waiting)) = parse_lock(t) else {
                    let end = floor_boundary(t, 100);
                    st.warn_at(
                        no,
                        WarningKind::MalformedRecord,
                        format!("InnoDB lock line not understood: {}", &t[..end]),
                    );
                    return;
                };
                match section {
                    Section::Holds => trx.holds.push(lock),
                    Section::Waiting => trx.waiting = Some(lock),
                    _ => trx.conflicting.push(lock),
                }
            }
            Section::None => {}
        }
    }

    /// Ends the report being read: warns when it was cut short, records what it holds.
    fn close(&mut self, st: &mut State) {
        let Some(r) = self.report.take() else {
            return;
        };
        if r.trxs.is_empty() {
            st.warn_at(
                r.start,
                WarningKind::CutDeadlockReport,
                format!(
                    "InnoDB deadlock report without any transaction (read up to line {})",
                    r.last_line
                ),
            );
            return;
        }
        if r.victim.is_none() {
            st.warn_at(
                r.start,
                WarningKind::CutDeadlockReport,
                format!(
                    "InnoDB deadlock report cut short at line {} ({} transaction(s), no `WE ROLL BACK TRANSACTION` line); what was read is kept",
                    r.last_line,
                    r.trxs.len()
                ),
            );
        }
        record(r, st);
    }
}

/// Turns a report into an [`ObservedDeadlock`] and groups it.
fn record(r: Report, st: &mut State) {
    let core = &mut st.core;
    core.set_counting_at(r.start);
    if !core.counting {
        return;
    }
    core.stats.deadlock_reports += 1;
    core.stats.entries += 1;
    let src = core.src;
    let pid = |t: &Trx| t.thread.unwrap_or(0);

    // Who holds what: MySQL prints each transaction's held locks, MariaDB the locks a waiting
    // one conflicts with (each naming its holder by trx id).
    fn held_by<'a>(t: &'a Trx, all: &'a [Trx]) -> Vec<&'a Lock> {
        let mut out: Vec<&Lock> = t.holds.iter().collect();
        for other in all {
            for l in &other.conflicting {
                if Some(&l.trx_id) == t.trx_id.as_ref() && !out.contains(&l) {
                    out.push(l);
                }
            }
        }
        out
    }

    let mut participants: Vec<DeadlockParticipant> = Vec::with_capacity(r.trxs.len());
    for t in &r.trxs {
        let text = t.statement.trim();
        let current: Option<Arc<Statement>> =
            (!text.is_empty()).then(|| core.statement(text, src, t.statement_line));
        let mut locks = Vec::new();
        if let Some(stmt) = &current {
            // InnoDB does not say which earlier statement took a held lock: it is tied to the
            // statement the transaction was running.
            for l in held_by(t, &r.trxs).into_iter().chain(t.waiting.as_ref()) {
                if let Some((target, mode)) = l.core_lock() {
                    locks.push(LockAcquisition {
                        target,
                        mode,
                        statement: stmt.clone(),
                        implicit: None,
                        repeated: false,
                        via: None,
                    });
                }
            }
        }
        participants.push(DeadlockParticipant {
            pid: pid(t),
            current: current.clone(),
            statements: current.into_iter().collect(),
            locks,
            victim: r.victim == Some(t.number),
        });
    }

    let mut edges: Vec<DeadlockEdge> = Vec::new();
    let trxs = &r.trxs;
    for (i, t) in trxs.iter().enumerate() {
        let Some(w) = &t.waiting else {
            continue;
        };
        let others = || {
            let n = trxs.len();
            (1..n).map(move |k| &trxs[(i + k) % n])
        };
        let blocker = t
            .conflicting
            .iter()
            .find_map(|c| others().find(|o| o.trx_id.as_ref() == Some(&c.trx_id)))
            .or_else(|| others().find(|o| o.holds.iter().any(|h| h.same_place(w))))
            // Else the next one printed: InnoDB prints the cycle in order.
            .or_else(|| others().next());
        edges.push(DeadlockEdge {
            waiter: pid(t),
            mode: w.mode.clone(),
            target: w.target(),
            relation: Some(RelationName::new(w.relation.as_str())),
            blocker: blocker.map_or(0, pid),
        });
    }
    let mut relations: Vec<RelationName> = Vec::new();
    let lock_relations = r
        .trxs
        .iter()
        .flat_map(|t| t.waiting.iter().chain(&t.holds).chain(&t.conflicting));
    for rel in edges
        .iter()
        .filter_map(|e| e.relation.clone())
        .chain(lock_relations.map(|l| RelationName::new(l.relation.as_str())))
    {
        if !relations.contains(&rel) {
            relations.push(rel);
        }
    }

    // Modes, relations and statements (rotation-free), plus the indexes of the locks: no thread,
    // trx or space ids.
    let base = signature(&edges, &participants);
    let mut places: Vec<String> = r
        .trxs
        .iter()
        .flat_map(|t| t.waiting.iter().chain(&t.holds).chain(&t.conflicting))
        .map(|l| format!("{}|{}", l.target(), l.mode))
        .collect();
    places.sort_unstable();
    places.dedup();
    let base_bytes = base.0.to_le_bytes();
    let signature = Fingerprint::of(
        std::iter::once(&base_bytes[..])
            .chain(std::iter::once(&b"innodb"[..]))
            .chain(places.iter().map(|p| p.as_bytes())),
    );
    let location = core.location(r.start);
    core.group_deadlock(ObservedDeadlock {
        signature,
        count: 1,
        first_seen: r.timestamp.clone(),
        last_seen: r.timestamp,
        location,
        edges,
        participants,
        relations,
        engine: lockgraph_core::Engine::Mysql,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyzer::tests_support::analyze_str;
    use lockgraph_core::{InnoDbRecordKind, InnoDbRecordMode, InnoDbSx, InnoDbTableMode};

    #[test]
    fn error_log_lines_split() {
        let (ts, msg) = split_errlog(
            "2026-12-05  0:10:53 6 [Note] InnoDB: Transactions deadlock detected, dumping detailed information.",
        )
        .unwrap();
        assert_eq!(ts, "2026-12-05  0:10:53");
        assert_eq!(normalize_timestamp(ts), "2026-12-05 00:10:53");
        assert!(msg.trim().starts_with("Transactions deadlock detected"));
        let (ts, msg) = split_errlog(
            "2024-01-01T10:00:00.123456Z 12 [Note] [MY-012469] [InnoDB] *** (1) TRANSACTION:",
        )
        .unwrap();
        assert_eq!(ts, "2024-01-01T10:00:00.123456Z");
        assert_eq!(msg.trim(), "*** (1) TRANSACTION:");
        assert!(split_errlog("2024-05-01 10:00:00.001 UTC [5477] app@shop LOG:  x").is_none());
        assert!(split_errlog("RECORD LOCKS space id 5").is_none());
    }

    #[test]
    fn lock_lines() {
        let (l, waiting) = parse_lock(
            "RECORD LOCKS space id 5 page no 3 n bits 320 index PRIMARY of table `test`.`a` trx id 28 lock_mode X locks rec but not gap waiting",
        )
        .unwrap();
        assert!(waiting);
        assert_eq!(l.relation, "test.a");
        assert_eq!(l.index.as_deref(), Some("PRIMARY"));
        assert_eq!(l.trx_id, "28");
        assert_eq!(l.page, Some((5, 3)));
        assert_eq!(l.mode, "lock_mode X locks rec but not gap");
        assert_eq!(l.target(), "index PRIMARY of table `test`.`a`");
        assert_eq!(
            l.core_lock().map(|(_, m)| m),
            Some(LockMode::InnoDbRecord(InnoDbRecordMode::X_REC_NOT_GAP))
        );
        let (l, waiting) =
            parse_lock("TABLE LOCK table `shop`.`odd``name` trx id 7 lock mode IX").unwrap();
        assert!(!waiting);
        assert_eq!(l.relation, "shop.odd`name");
        assert_eq!(
            l.core_lock().map(|(_, m)| m),
            Some(LockMode::InnoDbTable(InnoDbTableMode::IX))
        );
        let (l, _) = parse_lock(
            "RECORD LOCKS space id 9 page no 4 n bits 72 index c1 of table `test`.`tt` trx id 231106 lock mode S locks gap before rec",
        )
        .unwrap();
        assert_eq!(l.strength, "S");
        assert!(parse_lock("RECORD LOCKS space id 9 garbage").is_none());
        assert!(parse_lock("TABLE LOCK table").is_none());
    }

    /// One MariaDB-style error-log report, with the ids of one occurrence.
    fn errlog_report(ts: &str, t1: u32, t2: u32, trx1: u32, trx2: u32) -> String {
        format!(
            "{ts} {t1} [Note] InnoDB: Transactions deadlock detected, dumping detailed information.
{ts} {t1} [Note] InnoDB: 
*** (1) TRANSACTION:

TRANSACTION {trx1}, ACTIVE 1 sec starting index read
MariaDB thread id {t1}, OS thread handle 1, query id 5 localhost root Updating
UPDATE a SET v = v + 1 WHERE id = {t1}
{ts} {t1} [Note] InnoDB: *** WAITING FOR THIS LOCK TO BE GRANTED:

RECORD LOCKS space id {t1} page no 3 n bits 8 index PRIMARY of table `test`.`a` trx id {trx1} lock_mode X locks rec but not gap waiting
{ts} {t1} [Note] InnoDB: *** CONFLICTING WITH:

RECORD LOCKS space id {t1} page no 3 n bits 8 index PRIMARY of table `test`.`a` trx id {trx2} lock_mode X locks rec but not gap
{ts} {t1} [Note] InnoDB: 
*** (2) TRANSACTION:

TRANSACTION {trx2}, ACTIVE 2 sec starting index read
MariaDB thread id {t2}, OS thread handle 2, query id 6 localhost root Updating
UPDATE b SET v = v + 1 WHERE id = {t2}
{ts} {t1} [Note] InnoDB: *** WAITING FOR THIS LOCK TO BE GRANTED:

RECORD LOCKS space id {t2} page no 3 n bits 8 index PRIMARY of table `test`.`b` trx id {trx2} lock_mode X locks rec but not gap waiting
{ts} {t1} [Note] InnoDB: *** CONFLICTING WITH:

RECORD LOCKS space id {t2} page no 3 n bits 8 index PRIMARY of table `test`.`b` trx id {trx1} lock_mode X locks rec but not gap
{ts} {t1} [Note] InnoDB: *** WE ROLL BACK TRANSACTION (1)
{ts} 0 [Note] InnoDB: Buffer pool(s) load completed
"
        )
    }

    #[test]
    fn repeats_group_into_one_with_a_count() {
        let log = errlog_report("2024-05-01 10:00:00", 11, 12, 501, 502)
            + &errlog_report("2024-05-01 11:30:00", 40, 41, 900, 901);
        let a = analyze_str(&log, Default::default());
        assert!(a.warnings.is_empty(), "{:?}", a.warnings);
        assert_eq!(a.stats.deadlock_reports, 2);
        assert_eq!(a.deadlocks.len(), 1);
        let d = &a.deadlocks[0];
        assert_eq!(d.count, 2);
        assert_eq!(d.first_seen.as_deref(), Some("2024-05-01 10:00:00"));
        assert_eq!(d.last_seen.as_deref(), Some("2024-05-01 11:30:00"));
        // The first occurrence's threads, and who waits for whom.
        let edges: Vec<(u32, u32)> = d.edges.iter().map(|e| (e.waiter, e.blocker)).collect();
        assert_eq!(edges, [(11, 12), (12, 11)]);
        assert!(d.participants.iter().any(|p| p.victim && p.pid == 11));
        let rels: Vec<&str> = d.relations.iter().map(|r| r.as_str()).collect();
        assert_eq!(rels, ["test.a", "test.b"]);

        // Another statement is another deadlock.
        let other = errlog_report("2024-05-01 10:00:00", 11, 12, 501, 502)
            .replace("UPDATE b SET v = v + 1", "DELETE FROM b WHERE v = 0 OR");
        let a = analyze_str(&(log + &other), Default::default());
        assert_eq!(a.deadlocks.len(), 2);
        assert_eq!(a.deadlocks[0].count, 2);
    }

    #[test]
    fn status_without_timestamp_and_bare_reports() {
        let report = "*** (1) TRANSACTION:
TRANSACTION 5, ACTIVE 1 sec
MySQL thread id 7, OS thread handle 1, query id 2 localhost u updating
UPDATE t SET v = 1 WHERE id = 2
*** (1) WAITING FOR THIS LOCK TO BE GRANTED:
TABLE LOCK table `db`.`t` trx id 5 lock mode IX waiting
*** (2) TRANSACTION:
TRANSACTION 6, ACTIVE 2 sec
MySQL thread id 8, OS thread handle 1, query id 3 localhost u
LOCK TABLES t WRITE
*** (2) HOLDS THE LOCK(S):
TABLE LOCK table `db`.`t` trx id 6 lock mode X
*** (2) WAITING FOR THIS LOCK TO BE GRANTED:
RECORD LOCKS space id 1 page no 2 n bits 8 index PRIMARY of table `db`.`u` trx id 6 lock_mode X waiting
*** WE ROLL BACK TRANSACTION (1)
";
        for text in [
            format!("LATEST DETECTED DEADLOCK\n------------------------\n{report}------------\n"),
            report.to_string(),
        ] {
            let a = analyze_str(&text, Default::default());
            assert!(a.warnings.is_empty(), "{:?}", a.warnings);
            let d = &a.deadlocks[0];
            let edges: Vec<(u32, &str, u32)> = d
                .edges
                .iter()
                .map(|e| (e.waiter, e.mode.as_str(), e.blocker))
                .collect();
            assert_eq!(edges, [(7, "lock mode IX", 8), (8, "lock_mode X", 7)]);
            assert_eq!(d.edges[0].target, "table `db`.`t`");
            assert!(d.participants.iter().any(|p| p.victim && p.pid == 7));
            let p8 = d.participants.iter().find(|p| p.pid == 8).unwrap();
            let modes: Vec<LockMode> = p8.locks.iter().map(|l| l.mode).collect();
            assert_eq!(
                modes,
                [
                    LockMode::InnoDbTable(InnoDbTableMode::X),
                    LockMode::InnoDbRecord(InnoDbRecordMode::new(
                        InnoDbSx::X,
                        InnoDbRecordKind::NextKey
                    ))
                ]
            );
        }
    }

    #[test]
    fn detection() {
        let d = |s: &str| {
            let lines: Vec<&[u8]> = s.lines().map(str::as_bytes).collect();
            crate::format::detect_format(&lines, "x.log")
        };
        use crate::LogFormat;
        assert_eq!(
            d("2026-12-05  0:10:49 0 [Note] Starting MariaDB"),
            LogFormat::InnoDb
        );
        assert_eq!(
            d("2024-01-01T10:00:00.123456Z 0 [System] [MY-010116] [Server] starting"),
            LogFormat::InnoDb
        );
        assert_eq!(
            d(
                "*************************** 1. row\n  Type: InnoDB\nStatus: \n=====\n2024-01-01 10:00:00 0x7f INNODB MONITOR OUTPUT"
            ),
            LogFormat::InnoDb
        );
        assert_eq!(
            d("2024-05-01 10:00:00.001 UTC [5477] app@shop LOG:  statement: BEGIN"),
            LogFormat::Stderr
        );
    }
}
