//! Helpers shared by rules: how locks, statements and places are described in findings.

use lockgraph_core::{
    Fingerprint, Label, Location, LockAcquisition, LockMode, LockTarget, Statement, Transaction,
};
use std::sync::Arc;

/// The statement text a report may show: redacted unless literals were asked for.
pub fn shown_statement(stmt: &Statement, show_literals: bool) -> String {
    let text: &str = if show_literals {
        &stmt.text
    } else {
        &stmt.redacted
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `FOR NO KEY UPDATE on accounts (id = ?)` / `ROW EXCLUSIVE on accounts`.
pub fn describe_lock(lock: &LockAcquisition, show_literals: bool) -> String {
    let target = match &lock.target {
        LockTarget::Rows {
            relation,
            key: Some(k),
        } => {
            let values: Vec<String> = k
                .values
                .iter()
                .map(|v| {
                    if show_literals || !looks_literal(v) {
                        v.to_string()
                    } else {
                        "?".into()
                    }
                })
                .collect();
            let pairs: Vec<String> = k
                .columns
                .iter()
                .zip(&values)
                .map(|(c, v)| {
                    if k.single_row {
                        format!("{c} = {v}")
                    } else {
                        format!("{c} ∈ {v}")
                    }
                })
                .collect();
            format!("{relation} rows ({})", pairs.join(", "))
        }
        LockTarget::Rows {
            relation,
            key: None,
        } => format!("{relation} rows"),
        LockTarget::Relation { relation } => relation.to_string(),
        // Advisory keys are lock identifiers chosen by the code, like table names: shown.
        LockTarget::Advisory { key } => {
            let strength = match lock.mode {
                LockMode::Advisory(lockgraph_core::AdvisoryMode::Shared) => "shared",
                _ => "exclusive",
            };
            return format!("advisory lock {key} ({strength})");
        }
    };
    let mode = match lock.mode {
        LockMode::Table(m) => format!("{m}"),
        other => other.to_string(),
    };
    let implicit = match &lock.implicit {
        Some(lockgraph_core::Implicit::ForeignKeyCheck { from }) => {
            format!(" (foreign-key check from {from})")
        }
        Some(lockgraph_core::Implicit::ForeignKeyAction { from }) => {
            format!(" (cascade from {from})")
        }
        Some(lockgraph_core::Implicit::Other { reason }) => format!(" ({reason})"),
        None => String::new(),
    };
    format!("{mode} on {target}{implicit}")
}

fn looks_literal(v: &str) -> bool {
    let v = v.trim();
    v.starts_with('\'') || v.starts_with("E'") || v.parse::<f64>().is_ok() || v.starts_with('(')
}

/// Index of the statement that takes `lock` within `txn.statements`.
pub fn statement_index(txn: &Transaction, lock: &LockAcquisition) -> usize {
    txn.statements
        .iter()
        .position(|s| Arc::ptr_eq(s, &lock.statement))
        .or_else(|| {
            txn.statements
                .iter()
                .position(|s| s.location == lock.statement.location)
        })
        .unwrap_or(0)
}

/// Where the transaction's own code takes `lock`: the statement, or the outermost call that
/// reached it (application code).
pub fn written_at(lock: &LockAcquisition) -> &Location {
    lock.via
        .as_ref()
        .and_then(|v| v.first())
        .unwrap_or(&lock.statement.location)
}

/// `line 12` for a statement in the transaction's own code, `app/service.py:14` (the call
/// site) when calls reached it: how a suggestion points at the place to edit.
pub fn place_to_edit(lock: &LockAcquisition) -> String {
    match &lock.via {
        Some(via) if !via.is_empty() => written_at(lock).to_string(),
        _ => format!("line {}", lock.statement.location.line),
    }
}

/// A label at the statement that takes `lock`; when calls reached it, the message names them.
pub fn label_at(
    lock: &LockAcquisition,
    message: String,
    primary: bool,
    show_literals: bool,
) -> Label {
    let message = match &lock.via {
        Some(via) if !via.is_empty() => {
            let calls: Vec<String> = via.iter().map(|l| l.to_string()).collect();
            format!("{message} (called from {})", calls.join(" → "))
        }
        _ => message,
    };
    Label {
        location: lock.statement.location.clone(),
        message,
        primary,
        statement: Some(shown_statement(&lock.statement, show_literals)),
    }
}

/// Fingerprint of a set of locks: their nodes, modes and normalized statements — never lines.
pub fn locks_fingerprint<'a>(
    code: &str,
    locks: impl IntoIterator<Item = &'a LockAcquisition>,
) -> Fingerprint {
    let mut parts = vec![Fingerprint::of([code.as_bytes()])];
    for l in locks {
        parts.push(Fingerprint::of([
            l.target.node().to_string().as_bytes(),
            l.mode.to_string().as_bytes(),
        ]));
        parts.push(l.statement.fingerprint);
    }
    Fingerprint::combine(parts)
}

/// `transfer.sql:3` style name plus where it starts, for messages.
pub fn txn_name(txn: &Transaction) -> String {
    txn.name.to_string()
}

/// ` on `a`, `b`` for a finding message, or nothing when no relation is known.
pub fn on_relations(relations: &[String]) -> String {
    if relations.is_empty() {
        return String::new();
    }
    let quoted: Vec<String> = relations.iter().map(|r| format!("`{r}`")).collect();
    format!(" on {}", quoted.join(", "))
}
