//! Findings: what rules report, with the evidence, a suggestion and a reproduction.

use crate::transaction::{Fingerprint, Location};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing; never fails a build by default.
    Info,
    /// A likely problem.
    Warning,
    /// A deadlock waiting to happen, or an input that could not be analysed.
    Error,
}

impl Severity {
    /// Parses `info`, `warning`/`warn`, `error`.
    pub fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "info" | "note" => Some(Severity::Info),
            "warning" | "warn" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One labelled place in the input that supports a finding (one per edge of a cycle).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Label {
    /// Where.
    pub location: Location,
    /// What happens there (`locks ledger (ROW EXCLUSIVE) while holding accounts`).
    pub message: String,
    /// The primary label is where the deadlock closes; the others explain how it got there.
    pub primary: bool,
    /// The statement at that place, redacted unless literals were asked for.
    pub statement: Option<String>,
}

/// How to fix a finding.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    /// A global order of the involved relations that breaks the fewest observed edges.
    pub order: Vec<String>,
    /// Concrete edits, one per offending transaction
    /// (`in transfer.sql: lock ledger after accounts: move line 14 above line 9`).
    pub edits: Vec<String>,
}

impl Suggestion {
    /// One line for text output: the order, then the edits.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        if !self.order.is_empty() {
            out.push_str("always lock in this order: ");
            out.push_str(&self.order.join(" → "));
        }
        for e in &self.edits {
            if !out.is_empty() {
                out.push_str("; ");
            }
            out.push_str(e);
        }
        out
    }
}

/// One step of a reproduction: a statement run in one session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReproStep {
    /// 1-based session number.
    pub session: usize,
    /// SQL to run (one statement, no trailing semicolon needed).
    pub sql: String,
    /// Where the statement comes from, when it is from the input.
    pub origin: Option<Location>,
    /// The step is expected to block (wait for a lock held by another session).
    pub expect_block: bool,
}

/// A script that makes the predicted deadlock happen on a real server: a setup run once in its
/// own session, then steps interleaved across sessions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repro {
    /// Statements that create the tables and rows the steps need (run before, autocommit).
    pub setup: Vec<String>,
    /// The interleaved steps, in the order to issue them.
    pub steps: Vec<ReproStep>,
    /// Number of sessions.
    pub sessions: usize,
    /// The server the script is written for: its SQL dialect, and the runner that plays it
    /// (`lockgraph_pg` for PostgreSQL, `lockgraph_mysql` for MySQL/MariaDB).
    #[serde(default)]
    pub engine: crate::Engine,
}

/// A problem found by a rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule code, `LG101`.
    pub code: &'static str,
    /// Stable rule name, `lock-order-inversion`.
    pub name: &'static str,
    /// Severity after configuration.
    pub severity: Severity,
    /// One sentence.
    pub message: String,
    /// Relations (or advisory keys) involved, in cycle order.
    pub relations: Vec<String>,
    /// Evidence, one label per edge or statement; the first primary label is the anchor.
    pub labels: Vec<Label>,
    /// Stable identity for baselines and grouping (relations, modes, normalized statements).
    pub fingerprint: Fingerprint,
    /// How to fix it.
    pub suggestion: Option<Suggestion>,
    /// How to make it happen on a real server.
    pub repro: Option<Repro>,
    /// Extra notes (secondary facts shown after the labels).
    pub notes: Vec<String>,
}

impl Finding {
    /// The anchor location: the first primary label, else the first label.
    pub fn primary_location(&self) -> Option<&Location> {
        self.labels
            .iter()
            .find(|l| l.primary)
            .or(self.labels.first())
            .map(|l| &l.location)
    }

    /// Sort key for deterministic output: location, then code, then fingerprint.
    pub fn sort_key(&self) -> (Option<Location>, &'static str, Fingerprint) {
        (
            self.primary_location().cloned(),
            self.code,
            self.fingerprint,
        )
    }
}
