//! The server's lock messages: lock targets, lock-wait lines, deadlock reports, CONTEXT lines.

use crate::prefix::parse_u32;
use lockgraph_core::RelationName;

/// The kind of a lock target as the server prints it (`DescribeLockTag`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum TargetKind {
    /// `relation R of database D`.
    Relation,
    /// `tuple (b,o) of relation R of database D`.
    Tuple,
    /// `page P of relation R of database D`.
    Page,
    /// `extension of relation R of database D`.
    Extension,
    /// `transaction X` (a row lock wait: the holder's transaction id).
    Transaction,
    /// `virtual transaction 5/123`.
    VirtualTransaction,
    /// `speculative token T of transaction X`.
    SpeculativeToken,
    /// `object O of class C of database D`.
    Object,
    /// `advisory lock [db,k1,k2,n]`.
    Advisory,
    /// `user lock [a,b,c]`.
    UserLock,
    /// Anything else (`remote transaction …`, `frozen IDs …`, unknown).
    Other,
}

impl TargetKind {
    /// A short stable word (used in signatures).
    pub(crate) fn word(self) -> &'static str {
        match self {
            TargetKind::Relation => "relation",
            TargetKind::Tuple => "tuple",
            TargetKind::Page => "page",
            TargetKind::Extension => "extension",
            TargetKind::Transaction => "transaction",
            TargetKind::VirtualTransaction => "virtual transaction",
            TargetKind::SpeculativeToken => "speculative token",
            TargetKind::Object => "object",
            TargetKind::Advisory => "advisory lock",
            TargetKind::UserLock => "user lock",
            TargetKind::Other => "other",
        }
    }

    /// Whether waiting on it means waiting for a row (of some relation).
    pub(crate) fn is_row(self) -> bool {
        matches!(
            self,
            TargetKind::Tuple | TargetKind::Transaction | TargetKind::SpeculativeToken
        )
    }
}

/// A lock target, parsed: its kind and, when printed, `(database OID, relation OID)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    pub kind: TargetKind,
    pub relation: Option<(u32, u32)>,
}

/// Parses a target as printed (`tuple (0,3) of relation 16400 of database 16384`).
pub(crate) fn parse_target(t: &str) -> Target {
    let t = t.trim();
    let kind = if t.starts_with("relation ") {
        TargetKind::Relation
    } else if t.starts_with("tuple ") {
        TargetKind::Tuple
    } else if t.starts_with("page ") {
        TargetKind::Page
    } else if t.starts_with("extension of ") {
        TargetKind::Extension
    } else if t.starts_with("transaction ") {
        TargetKind::Transaction
    } else if t.starts_with("virtual transaction ") {
        TargetKind::VirtualTransaction
    } else if t.starts_with("speculative token ") {
        TargetKind::SpeculativeToken
    } else if t.starts_with("object ") {
        TargetKind::Object
    } else if t.starts_with("advisory lock ") {
        TargetKind::Advisory
    } else if t.starts_with("user lock ") {
        TargetKind::UserLock
    } else {
        TargetKind::Other
    };
    let relation = t.find("relation ").and_then(|p| {
        let rest = &t[p + 9..];
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        let rel = parse_u32(&rest.as_bytes()[..n])?;
        let db_rest = rest[n..].strip_prefix(" of database ")?;
        let m = db_rest.bytes().take_while(u8::is_ascii_digit).count();
        let db = parse_u32(&db_rest.as_bytes()[..m])?;
        Some((db, rel))
    });
    Target { kind, relation }
}

/// Which lock-wait message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WaitKind {
    StillWaiting,
    Acquired,
    DetectedDeadlock,
    AvoidedDeadlock,
    FailedToAcquire,
}

/// `process N still waiting for MODE on TARGET after X ms` and its siblings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct WaitMessage<'a> {
    pub kind: WaitKind,
    pub pid: u32,
    pub mode: &'a str,
    pub target: &'a str,
    pub ms: f64,
}

/// Reads a `log_lock_waits` message.
pub(crate) fn parse_wait_message(msg: &str) -> Option<WaitMessage<'_>> {
    let rest = msg.strip_prefix("process ")?;
    let n = rest.bytes().take_while(u8::is_ascii_digit).count();
    let pid = parse_u32(&rest.as_bytes()[..n])?;
    let rest = rest[n..].strip_prefix(' ')?;
    let (kind, rest) = if let Some(r) = rest.strip_prefix("still waiting for ") {
        (WaitKind::StillWaiting, r)
    } else if let Some(r) = rest.strip_prefix("acquired ") {
        (WaitKind::Acquired, r)
    } else if let Some(r) = rest.strip_prefix("detected deadlock while waiting for ") {
        (WaitKind::DetectedDeadlock, r)
    } else if let Some(r) = rest.strip_prefix("avoided deadlock for ") {
        (WaitKind::AvoidedDeadlock, r)
    } else if let Some(r) = rest.strip_prefix("failed to acquire ") {
        (WaitKind::FailedToAcquire, r)
    } else {
        return None;
    };
    let on = rest.find(" on ")?;
    let mode = &rest[..on];
    let rest = &rest[on + 4..];
    let after = rest.rfind(" after ")?;
    let mut target = &rest[..after];
    if kind == WaitKind::AvoidedDeadlock {
        target = target
            .strip_suffix(" by rearranging queue order")
            .unwrap_or(target);
    }
    // `after 200.110 ms` (maybe followed by ` at character 8`).
    let ms_text = &rest[after + 7..];
    let ms = ms_text
        .find(" ms")
        .and_then(|e| ms_text[..e].trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    Some(WaitMessage {
        kind,
        pid,
        mode,
        target,
        ms,
    })
}

/// `Process holding the lock: 8444. Wait queue: 8443.` (also `Processes holding the lock: a, b.`)
/// → (holders, queue).
pub(crate) fn parse_holders(detail: &str) -> (Vec<u32>, Vec<u32>) {
    let list = |key: &str| -> Vec<u32> {
        detail
            .find(key)
            .map(|p| {
                let rest = &detail[p + key.len()..];
                let end = rest.find('.').unwrap_or(rest.len());
                rest[..end]
                    .split(',')
                    .filter_map(|s| parse_u32(s.trim().as_bytes()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let holders = if detail.contains("holding the lock: ") {
        list("holding the lock: ")
    } else {
        Vec::new()
    };
    (holders, list("Wait queue: "))
}

/// One `Process A waits for MODE on TARGET; blocked by process B.` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RawEdge {
    pub waiter: u32,
    pub mode: String,
    pub target: String,
    pub blocker: u32,
}

/// One `Process N: <statement>` part of a deadlock report (possibly several lines).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RawProcess {
    pub pid: u32,
    pub text: String,
    /// Line offset of its first line within the DETAIL text.
    pub line_offset: u32,
}

/// A deadlock report's DETAIL, parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct DeadlockDetail {
    pub edges: Vec<RawEdge>,
    pub processes: Vec<RawProcess>,
}

impl DeadlockDetail {
    /// Whether the report is whole: a closed cycle with every process's statement.
    pub(crate) fn is_complete(&self) -> bool {
        let e = &self.edges;
        !e.is_empty()
            && e.windows(2).all(|w| w[0].blocker == w[1].waiter)
            && e.last().map(|l| l.blocker) == e.first().map(|f| f.waiter)
            && e.iter()
                .all(|edge| self.processes.iter().any(|p| p.pid == edge.waiter))
    }
}

/// Parses the DETAIL of `ERROR:  deadlock detected`.
pub(crate) fn parse_deadlock_detail(detail: &str) -> DeadlockDetail {
    let mut out = DeadlockDetail::default();
    let mut current: Option<RawProcess> = None;
    for (k, raw) in detail.split('\n').enumerate() {
        let line = raw.trim_end_matches('\r');
        let trimmed = line.trim_start_matches(['\t', ' ']);
        if let Some(edge) = parse_edge(trimmed) {
            if let Some(p) = current.take() {
                out.processes.push(p);
            }
            out.edges.push(edge);
            continue;
        }
        if let Some((pid, text)) = parse_process_line(trimmed) {
            if let Some(p) = current.take() {
                out.processes.push(p);
            }
            current = Some(RawProcess {
                pid,
                text: text.to_string(),
                line_offset: k as u32,
            });
            continue;
        }
        if let Some(p) = current.as_mut() {
            p.text.push('\n');
            p.text.push_str(line.strip_prefix('\t').unwrap_or(line));
        }
    }
    if let Some(p) = current.take() {
        out.processes.push(p);
    }
    for p in &mut out.processes {
        let t = p.text.trim_end().len();
        p.text.truncate(t);
    }
    out
}

fn parse_edge(line: &str) -> Option<RawEdge> {
    let rest = line.strip_prefix("Process ")?;
    let n = rest.bytes().take_while(u8::is_ascii_digit).count();
    let waiter = parse_u32(&rest.as_bytes()[..n])?;
    let rest = rest[n..].strip_prefix(" waits for ")?;
    let on = rest.find(" on ")?;
    let mode = &rest[..on];
    let rest = &rest[on + 4..];
    let blocked = rest.rfind("; blocked by process ")?;
    let target = &rest[..blocked];
    let tail = &rest[blocked + 21..];
    let m = tail.bytes().take_while(u8::is_ascii_digit).count();
    let blocker = parse_u32(&tail.as_bytes()[..m])?;
    Some(RawEdge {
        waiter,
        mode: mode.to_string(),
        target: target.to_string(),
        blocker,
    })
}

fn parse_process_line(line: &str) -> Option<(u32, &str)> {
    let rest = line.strip_prefix("Process ")?;
    let n = rest.bytes().take_while(u8::is_ascii_digit).count();
    let pid = parse_u32(&rest.as_bytes()[..n])?;
    let text = rest[n..].strip_prefix(':')?;
    Some((pid, text.strip_prefix(' ').unwrap_or(text)))
}

/// Relations named by a CONTEXT: `while updating tuple (0,2) in relation "ledger"` (the relation
/// of the row waited for) and, for foreign-key checks and actions, the relation of the internal
/// `SQL statement "SELECT 1 FROM ONLY "public"."parent" x …"`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ContextRelations {
    /// From `… in relation "t"`.
    pub tuple: Option<RelationName>,
    /// From an internal `SQL statement "… ONLY <relation> …"`.
    pub internal: Option<RelationName>,
}

impl ContextRelations {
    /// The best single answer: the tuple's relation, else the internal statement's.
    pub(crate) fn best(&self) -> Option<&RelationName> {
        self.tuple.as_ref().or(self.internal.as_ref())
    }
}

/// Reads the relations a CONTEXT names.
pub(crate) fn parse_context(context: &str) -> ContextRelations {
    let mut out = ContextRelations::default();
    if let Some(p) = context.find(" in relation \"") {
        let rest = &context[p + 14..];
        let end = rest
            .find("\"\n")
            .or_else(|| rest.rfind('"'))
            .unwrap_or(rest.len());
        let name = &rest[..end];
        if !name.is_empty() {
            out.tuple = Some(RelationName::from_parts([(name, true)]));
        }
    }
    if let Some(p) = context.find("SQL statement \"") {
        let rest = &context[p + 15..];
        if let Some(o) = rest.find(" ONLY ") {
            let after = &rest[o + 6..];
            out.internal = read_qualified_name(after);
        }
    }
    out
}

/// Reads `"public"."parent"` or `public.parent` at the start of `s`.
fn read_qualified_name(s: &str) -> Option<RelationName> {
    let b = s.as_bytes();
    let mut parts: Vec<(String, bool)> = Vec::new();
    let mut i = 0;
    loop {
        if b.get(i) == Some(&b'"') {
            let mut name = String::new();
            let mut j = i + 1;
            loop {
                match b.get(j) {
                    Some(b'"') if b.get(j + 1) == Some(&b'"') => {
                        name.push('"');
                        j += 2;
                    }
                    Some(b'"') => break,
                    Some(_) => {
                        let ch = s[j..].chars().next()?;
                        name.push(ch);
                        j += ch.len_utf8();
                    }
                    None => return None,
                }
            }
            parts.push((name, true));
            i = j + 1;
        } else {
            let n = s[i..]
                .bytes()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'$' || *c >= 0x80)
                .count();
            if n == 0 {
                break;
            }
            parts.push((s[i..i + n].to_string(), false));
            i += n;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
        } else {
            break;
        }
    }
    (!parts.is_empty())
        .then(|| RelationName::from_parts(parts.iter().map(|(p, q)| (p.as_str(), *q))))
}

/// `could not obtain lock on row in relation "t"` / `could not obtain lock on relation "t"`
/// (NOWAIT) → (whether a row, relation).
pub(crate) fn parse_nowait(msg: &str) -> Option<(bool, RelationName)> {
    let rest = msg.strip_prefix("could not obtain lock on ")?;
    let (row, rest) = match rest.strip_prefix("row in relation \"") {
        Some(r) => (true, r),
        None => (false, rest.strip_prefix("relation \"")?),
    };
    let end = rest.rfind('"')?;
    Some((row, RelationName::from_parts([(&rest[..end], true)])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_form() {
        let cases = [
            (
                "relation 16400 of database 16384",
                TargetKind::Relation,
                Some((16384, 16400)),
            ),
            (
                "tuple (0,3) of relation 16400 of database 16384",
                TargetKind::Tuple,
                Some((16384, 16400)),
            ),
            (
                "page 7 of relation 16400 of database 16384",
                TargetKind::Page,
                Some((16384, 16400)),
            ),
            (
                "extension of relation 16400 of database 16384",
                TargetKind::Extension,
                Some((16384, 16400)),
            ),
            ("transaction 729", TargetKind::Transaction, None),
            (
                "virtual transaction 5/123",
                TargetKind::VirtualTransaction,
                None,
            ),
            (
                "speculative token 3 of transaction 812",
                TargetKind::SpeculativeToken,
                None,
            ),
            (
                "object 16500 of class 1259 of database 16384",
                TargetKind::Object,
                None,
            ),
            ("advisory lock [16384,0,42,1]", TargetKind::Advisory, None),
            ("user lock [1,2,3]", TargetKind::UserLock, None),
            (
                "remote transaction 5 of subscription 6 of database 7",
                TargetKind::Other,
                None,
            ),
        ];
        for (text, kind, rel) in cases {
            let t = parse_target(text);
            assert_eq!((t.kind, t.relation), (kind, rel), "{text}");
        }
        assert!(TargetKind::Transaction.is_row());
        assert!(!TargetKind::Relation.is_row());
    }

    #[test]
    fn wait_messages() {
        let w = parse_wait_message(
            "process 8443 still waiting for ShareLock on transaction 729 after 100.186 ms",
        )
        .unwrap();
        assert_eq!(
            (w.kind, w.pid, w.mode, w.target, w.ms),
            (
                WaitKind::StillWaiting,
                8443,
                "ShareLock",
                "transaction 729",
                100.186
            )
        );
        let w = parse_wait_message(
            "process 8444 acquired AccessExclusiveLock on relation 16400 of database 16384 after 453.408 ms",
        )
        .unwrap();
        assert_eq!(
            (w.kind, w.target),
            (WaitKind::Acquired, "relation 16400 of database 16384")
        );
        let w = parse_wait_message(
            "process 8445 detected deadlock while waiting for ShareLock on transaction 728 after 100.166 ms",
        )
        .unwrap();
        assert_eq!(w.kind, WaitKind::DetectedDeadlock);
        let w = parse_wait_message(
            "process 9 avoided deadlock for AccessExclusiveLock on relation 1 of database 2 by rearranging queue order after 1000.000 ms",
        )
        .unwrap();
        assert_eq!(
            (w.kind, w.target, w.ms),
            (
                WaitKind::AvoidedDeadlock,
                "relation 1 of database 2",
                1000.0
            )
        );
        let w = parse_wait_message(
            "process 9 failed to acquire ShareLock on tuple (1,2) of relation 3 of database 4 after 5.000 ms",
        )
        .unwrap();
        assert_eq!(w.kind, WaitKind::FailedToAcquire);
        let w = parse_wait_message(
            "process 7 detected deadlock while waiting for RowExclusiveLock on relation 1 of database 2 after 200.110 ms at character 8",
        )
        .unwrap();
        assert_eq!((w.target, w.ms), ("relation 1 of database 2", 200.11));
        assert!(parse_wait_message("process 9 did something").is_none());
        assert!(parse_wait_message("process x still waiting").is_none());
    }

    #[test]
    fn holders_and_queue() {
        assert_eq!(
            parse_holders("Process holding the lock: 8444. Wait queue: 8443."),
            (vec![8444], vec![8443])
        );
        assert_eq!(
            parse_holders("Processes holding the lock: 1, 2. Wait queue: 3, 4, 5."),
            (vec![1, 2], vec![3, 4, 5])
        );
        assert_eq!(parse_holders(""), (vec![], vec![]));
    }

    #[test]
    fn deadlock_detail() {
        let d = parse_deadlock_detail(
            "Process 5477 waits for ShareLock on transaction 729; blocked by process 5478.\n\
             Process 5478 waits for ShareLock on transaction 728; blocked by process 5477.\n\
             Process 5477: UPDATE ledger SET amount=amount+1\n  WHERE id=2;\n\
             Process 5478: UPDATE accounts SET balance=balance-1 WHERE id=1;",
        );
        assert_eq!(d.edges.len(), 2);
        assert_eq!(d.edges[0].waiter, 5477);
        assert_eq!(d.edges[0].blocker, 5478);
        assert_eq!(d.edges[1].target, "transaction 728");
        assert_eq!(
            d.processes[0].text,
            "UPDATE ledger SET amount=amount+1\n  WHERE id=2;"
        );
        assert_eq!(d.processes[1].line_offset, 4);
        assert!(d.is_complete());
        let cut = parse_deadlock_detail(
            "Process 5477 waits for ShareLock on transaction 729; blocked by process 5478.",
        );
        assert!(!cut.is_complete());
    }

    #[test]
    fn context_relations() {
        let c = parse_context("while updating tuple (0,2) in relation \"ledger\"");
        assert_eq!(c.tuple.unwrap().as_str(), "ledger");
        let c = parse_context(
            "SQL statement \"SELECT 1 FROM ONLY \"public\".\"parent\" x WHERE \"id\" OPERATOR(pg_catalog.=) $1 FOR KEY SHARE OF x\"",
        );
        assert_eq!(c.internal.as_ref().unwrap().as_str(), "parent");
        assert_eq!(c.best().unwrap().as_str(), "parent");
        let c = parse_context(
            "while locking tuple (3,1) in relation \"Mixed Case\"\nSQL function \"f\"",
        );
        assert_eq!(c.tuple.unwrap().as_str(), "Mixed Case");
        assert_eq!(
            parse_context("PL/pgSQL function f() line 3"),
            ContextRelations::default()
        );
    }

    #[test]
    fn nowait() {
        let (row, r) = parse_nowait("could not obtain lock on row in relation \"jobs\"").unwrap();
        assert!(row);
        assert_eq!(r.as_str(), "jobs");
        let (row, r) = parse_nowait("could not obtain lock on relation \"t\"").unwrap();
        assert!(!row);
        assert_eq!(r.as_str(), "t");
    }
}
