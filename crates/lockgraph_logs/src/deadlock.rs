//! Deadlock reports: the cycle, each process joined with its transaction's statements from the
//! log, relations resolved from OIDs, CONTEXT and statements, grouped by signature.

use crate::analyzer::{Core, Sessions};
use crate::format::Entry;
use crate::lockmsg::{
    ContextRelations, DeadlockDetail, RawEdge, Target, TargetKind, parse_context,
    parse_deadlock_detail, parse_target,
};
use crate::warning::WarningKind;
use lockgraph_core::{
    DeadlockEdge, DeadlockParticipant, Fingerprint, Location, LockMode, LockTarget,
    ObservedDeadlock, RelationName, TableLockMode,
};
use std::sync::Arc;

/// A `detected deadlock while waiting` line not (yet) followed by its `deadlock detected` report.
#[derive(Clone, Debug)]
pub(crate) struct Detected {
    pub location: Location,
    pub timestamp: Option<String>,
    pub waiter: u32,
    pub mode: String,
    pub target: String,
    pub holders: Vec<u32>,
    pub context: String,
    /// The waiter's statement (text, source, line) when known.
    pub statement: Option<(String, u32, u32)>,
}

/// One report, ready to be joined with the sessions.
struct Report<'a> {
    detail: DeadlockDetail,
    victim: u32,
    timestamp: Option<String>,
    location: Location,
    context: &'a str,
    victim_statement: Option<(String, u32, u32)>,
    detail_at: (u32, u32),
}

/// The text the server prints when it cannot show a statement (`<insufficient privilege>`).
fn is_placeholder(text: &str) -> bool {
    let t = text.trim();
    t.is_empty() || (t.starts_with('<') && t.ends_with('>'))
}

/// Whether a logged statement is the one a report shows (maybe cut at track_activity_query_size).
fn same_statement(logged: &str, shown: &str) -> bool {
    let clean = |s: &str| s.trim().trim_end_matches(';').trim_end().to_string();
    let (a, b) = (clean(logged), clean(shown));
    a == b || (b.len() >= 64 && a.starts_with(&b))
}

/// A lock as seen by relation resolution: target, mode, implicit.
type LockView<'a> = (&'a LockTarget, LockMode, bool);

/// Picks the relation a wait on `kind` (in `mode`) is about, from a statement's locks.
pub(crate) fn pick_relation(
    kind: TargetKind,
    mode: &str,
    locks: &[LockView<'_>],
) -> Option<RelationName> {
    let relation_of = |t: &LockTarget| t.relation().cloned();
    if kind.is_row() {
        let explicit = locks
            .iter()
            .find(|(t, m, imp)| matches!(m, LockMode::Row(_)) && !imp && t.relation().is_some());
        let any = locks
            .iter()
            .find(|(t, m, _)| matches!(m, LockMode::Row(_)) && t.relation().is_some());
        return explicit.or(any).and_then(|(t, _, _)| relation_of(t));
    }
    match kind {
        TargetKind::Relation => {
            let wanted = TableLockMode::parse(mode);
            let mut found: Option<RelationName> = None;
            for (t, m, _) in locks {
                if let (LockMode::Table(tm), Some(w)) = (m, wanted)
                    && *tm == w
                    && let Some(r) = t.relation()
                {
                    match &found {
                        None => found = Some(r.clone()),
                        Some(f) if f == r => {}
                        Some(_) => return None,
                    }
                }
            }
            found
        }
        TargetKind::Page | TargetKind::Extension => locks
            .iter()
            .find(|(_, m, imp)| matches!(m, LockMode::Table(TableLockMode::RowExclusive)) && !imp)
            .and_then(|(t, _, _)| relation_of(t)),
        _ => None,
    }
}

/// Uses a qualified relation from `known` when a CONTEXT only gave its bare name.
fn qualify(name: RelationName, known: &[&RelationName]) -> RelationName {
    if known.contains(&&name) {
        return name;
    }
    known
        .iter()
        .find(|k| k.as_str().rsplit('.').next() == Some(name.as_str()))
        .map(|k| (*k).clone())
        .unwrap_or(name)
}

impl Core {
    /// `ERROR:  deadlock detected` with its DETAIL, CONTEXT and STATEMENT.
    pub(crate) fn on_deadlock(&mut self, sessions: &Sessions, e: &Entry) {
        if self.counting {
            self.stats.deadlock_reports += 1;
        }
        let location = self.location(e.line);
        let detail = parse_deadlock_detail(&e.detail);
        if e.detail.trim().is_empty() {
            self.warn(
                location.clone(),
                WarningKind::CutDeadlockReport,
                "deadlock report without its DETAIL (log cut, or log_error_verbosity = terse): only the victim is known",
            );
        } else if !detail.is_complete() {
            self.warn(
                location.clone(),
                WarningKind::CutDeadlockReport,
                format!(
                    "deadlock report cut short ({} wait lines, {} process lines, cycle not closed); what was read is kept",
                    detail.edges.len(),
                    detail.processes.len()
                ),
            );
        }
        let victim_statement = (!e.statement.trim().is_empty()).then(|| {
            let line = if e.statement_line > 0 {
                e.statement_line
            } else {
                e.line
            };
            (e.statement.clone(), self.src, line)
        });
        let detail_line = if e.detail_line > 0 {
            e.detail_line
        } else {
            e.line
        };
        self.record_deadlock(
            sessions,
            Report {
                detail,
                victim: e.pid,
                timestamp: (!e.timestamp.is_empty()).then(|| e.timestamp.clone()),
                location,
                context: &e.context,
                victim_statement,
                detail_at: (self.src, detail_line),
            },
        );
    }

    /// A deadlock known only from `detected deadlock while waiting` (its report never came:
    /// the error was caught by an exception handler, or the log ends).
    pub(crate) fn deadlock_from_detected(&mut self, sessions: &Sessions, d: Detected) {
        let edges = d
            .holders
            .first()
            .map(|&blocker| {
                vec![RawEdge {
                    waiter: d.waiter,
                    mode: d.mode.clone(),
                    target: d.target.clone(),
                    blocker,
                }]
            })
            .unwrap_or_default();
        let src = self
            .sources
            .iter()
            .position(|s| *s == d.location.path)
            .unwrap_or(self.src as usize) as u32;
        self.record_deadlock(
            sessions,
            Report {
                detail: DeadlockDetail {
                    edges,
                    processes: Vec::new(),
                },
                victim: d.waiter,
                timestamp: d.timestamp,
                location: d.location.clone(),
                context: &d.context,
                victim_statement: d.statement,
                detail_at: (src, d.location.line),
            },
        );
    }

    fn record_deadlock(&mut self, sessions: &Sessions, r: Report<'_>) {
        if !self.counting {
            return;
        }
        let mut pids: Vec<u32> = Vec::new();
        let mut add = |p: u32| {
            if !pids.contains(&p) {
                pids.push(p);
            }
        };
        r.detail.edges.iter().for_each(|e| add(e.waiter));
        r.detail.edges.iter().for_each(|e| add(e.blocker));
        r.detail.processes.iter().for_each(|p| add(p.pid));
        add(r.victim);
        let ctx = parse_context(r.context);

        let mut participants: Vec<DeadlockParticipant> = Vec::with_capacity(pids.len());
        for &pid in &pids {
            let shown = r
                .detail
                .processes
                .iter()
                .find(|p| p.pid == pid && !is_placeholder(&p.text))
                .map(|p| {
                    (
                        p.text.clone(),
                        r.detail_at.0,
                        r.detail_at.1.saturating_add(p.line_offset),
                    )
                });
            let current = shown.or_else(|| {
                (pid == r.victim)
                    .then(|| r.victim_statement.clone())
                    .flatten()
            });
            let mut owned: Vec<(String, u32, u32)> = sessions
                .of_pid(pid)
                .map(|s| s.open_statements())
                .unwrap_or_default();
            if let Some((text, src, line)) = &current
                && !owned.last().is_some_and(|l| same_statement(&l.0, text))
            {
                owned.push((text.clone(), *src, *line));
            }
            let seq: Vec<(&str, u32, u32)> =
                owned.iter().map(|(t, s, l)| (t.as_str(), *s, *l)).collect();
            let (statements, locks) = self.infer_sequence(&seq);
            let current = current.map(|(t, s, l)| self.statement(&t, s, l));
            participants.push(DeadlockParticipant {
                pid,
                current,
                statements,
                locks,
                victim: pid == r.victim,
            });
        }

        let mut edges: Vec<DeadlockEdge> = Vec::with_capacity(r.detail.edges.len());
        for raw in &r.detail.edges {
            let target = parse_target(&raw.target);
            let relation = self.resolve_edge(raw, target, r.victim, &ctx, &participants);
            edges.push(DeadlockEdge {
                waiter: raw.waiter,
                mode: raw.mode.clone(),
                target: raw.target.clone(),
                relation,
                blocker: raw.blocker,
            });
        }
        let mut relations: Vec<RelationName> = Vec::new();
        for rel in edges.iter().filter_map(|e| e.relation.clone()) {
            if !relations.contains(&rel) {
                relations.push(rel);
            }
        }
        if edges.is_empty()
            && let Some(rel) = ctx.best()
        {
            relations.push(rel.clone());
        }

        let signature = signature(&edges, &participants);
        self.group_deadlock(ObservedDeadlock {
            signature,
            count: 1,
            first_seen: r.timestamp.clone(),
            last_seen: r.timestamp,
            location: r.location,
            edges,
            participants,
            relations,
            engine: lockgraph_core::Engine::Postgres,
        });
    }

    /// Counts one reported deadlock (`d.count` is 1): a repeat of a known signature adds to its
    /// count and time span, a new one is kept. Shared by PostgreSQL and InnoDB reports.
    pub(crate) fn group_deadlock(&mut self, d: ObservedDeadlock) {
        let signature = d.signature;
        if self.record_occurrences && self.occurrences.len() < crate::MAX_OCCURRENCES {
            self.occurrences.push(crate::DeadlockOccurrence {
                deadlock: self
                    .deadlock_index
                    .get(&signature)
                    .copied()
                    .unwrap_or(self.deadlocks.len()),
                location: d.location.clone(),
                timestamp: d.first_seen.clone(),
            });
        }
        match self.deadlock_index.get(&signature) {
            Some(&i) => {
                let known = &mut self.deadlocks[i];
                known.count += 1;
                if d.last_seen.is_some() {
                    known.last_seen = d.last_seen;
                    if known.first_seen.is_none() {
                        known.first_seen = known.last_seen.clone();
                    }
                }
            }
            None => {
                self.deadlock_index.insert(signature, self.deadlocks.len());
                self.deadlocks.push(d);
            }
        }
    }

    /// The relation an edge's lock belongs to: a known OID, the victim's CONTEXT, the waiter's
    /// current statement, or (for table locks) the blocker's transaction. Learns OIDs on the way.
    fn resolve_edge(
        &mut self,
        edge: &RawEdge,
        target: Target,
        victim: u32,
        ctx: &ContextRelations,
        participants: &[DeadlockParticipant],
    ) -> Option<RelationName> {
        if let Some(oid) = target.relation
            && let Some(name) = self.oids.get(&oid)
        {
            return Some(name.clone());
        }
        if matches!(
            target.kind,
            TargetKind::Advisory
                | TargetKind::UserLock
                | TargetKind::VirtualTransaction
                | TargetKind::Object
        ) {
            return None;
        }
        let waiter = participants.iter().find(|p| p.pid == edge.waiter);
        let blocker = participants.iter().find(|p| p.pid == edge.blocker);
        let known: Vec<&RelationName> = participants
            .iter()
            .flat_map(|p| p.locks.iter().filter_map(|l| l.target.relation()))
            .collect();
        let mut found = None;
        if edge.waiter == victim {
            found = ctx.best().cloned().map(|n| qualify(n, &known));
        }
        if found.is_none()
            && let Some(w) = waiter
            && let Some(last) = w.statements.last()
            && w.current.is_some()
        {
            let current: Vec<LockView<'_>> = w
                .locks
                .iter()
                .filter(|l| Arc::ptr_eq(&l.statement, last))
                .map(|l| (&l.target, l.mode, l.implicit.is_some()))
                .collect();
            found = pick_relation(target.kind, &edge.mode, &current);
        }
        if found.is_none()
            && target.kind == TargetKind::Relation
            && let (Some(b), Some(wanted)) = (blocker, TableLockMode::parse(&edge.mode))
        {
            let mut candidates: Vec<&RelationName> = b
                .locks
                .iter()
                .filter(|l| matches!(l.mode, LockMode::Table(m) if m.conflicts_with(wanted)))
                .filter_map(|l| l.target.relation())
                .collect();
            candidates.dedup();
            if candidates.len() == 1 {
                found = Some(candidates[0].clone());
            }
        }
        if let (Some(oid), Some(name)) = (target.relation, &found) {
            self.oids.entry(oid).or_insert_with(|| name.clone());
        }
        found
    }
}

/// Normalized statements + relations + modes of the cycle, independent of which process the
/// server happened to print first.
pub(crate) fn signature(
    edges: &[DeadlockEdge],
    participants: &[DeadlockParticipant],
) -> Fingerprint {
    let current_fp = |pid: u32| {
        participants
            .iter()
            .find(|p| p.pid == pid)
            .and_then(|p| p.current.as_ref())
            .map(|s| s.fingerprint.0)
            .unwrap_or(0)
    };
    let mut keys: Vec<String> = edges
        .iter()
        .map(|e| {
            format!(
                "{}|{}|{}|{:016x}",
                e.mode,
                parse_target(&e.target).kind.word(),
                e.relation.as_ref().map(RelationName::as_str).unwrap_or(""),
                current_fp(e.waiter)
            )
        })
        .collect();
    if keys.is_empty() {
        keys = participants
            .iter()
            .map(|p| format!("victim|{:016x}", current_fp(p.pid)))
            .collect();
    }
    let n = keys.len();
    let best = (0..n)
        .min_by(|&a, &b| {
            let ra = keys[a..].iter().chain(&keys[..a]);
            let rb = keys[b..].iter().chain(&keys[..b]);
            ra.cmp(rb)
        })
        .unwrap_or(0);
    let rotated: Vec<&[u8]> = keys[best..]
        .iter()
        .chain(&keys[..best])
        .map(|k| k.as_bytes())
        .collect();
    Fingerprint::of(rotated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_match_when_cut_or_terminated() {
        assert!(same_statement("UPDATE t SET a = 1;", "UPDATE t SET a = 1"));
        let long =
            "UPDATE t SET a = 1 WHERE id IN (1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20)";
        assert!(same_statement(long, &long[..70]));
        assert!(!same_statement("UPDATE t SET a = 2", "UPDATE t SET a = 1"));
        assert!(is_placeholder("<insufficient privilege>"));
        assert!(!is_placeholder("SELECT 1"));
    }

    #[test]
    fn relations_from_statement_locks() {
        let t = |r: &str| LockTarget::Relation {
            relation: RelationName::new(r),
        };
        let rows = |r: &str| LockTarget::Rows {
            relation: RelationName::new(r),
            key: None,
        };
        let (ta, tb, rb, rp) = (t("a"), t("b"), rows("b"), rows("parent"));
        let locks: Vec<LockView<'_>> = vec![
            (&tb, LockMode::Table(TableLockMode::RowExclusive), false),
            (
                &rp,
                LockMode::Row(lockgraph_core::RowLockMode::KeyShare),
                true,
            ),
            (
                &rb,
                LockMode::Row(lockgraph_core::RowLockMode::NoKeyUpdate),
                false,
            ),
            (&ta, LockMode::Table(TableLockMode::AccessExclusive), false),
        ];
        let name = |k, m| pick_relation(k, m, &locks).map(|r| r.to_string());
        assert_eq!(
            name(TargetKind::Transaction, "ShareLock").as_deref(),
            Some("b")
        );
        assert_eq!(
            name(TargetKind::Relation, "AccessExclusiveLock").as_deref(),
            Some("a")
        );
        assert_eq!(name(TargetKind::Relation, "ShareLock"), None);
        assert_eq!(
            name(TargetKind::Extension, "ExclusiveLock").as_deref(),
            Some("b")
        );
        assert_eq!(name(TargetKind::Advisory, "ExclusiveLock"), None);
        assert_eq!(
            qualify(
                RelationName::new("ledger"),
                &[&RelationName::new("billing.ledger")]
            )
            .as_str(),
            "billing.ledger"
        );
    }
}
