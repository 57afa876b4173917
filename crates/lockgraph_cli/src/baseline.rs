//! Baselines: the findings a project has accepted, recorded by fingerprint so that later runs
//! report only new ones (`check --write-baseline FILE`, then `check --baseline FILE`).
//!
//! A finding's fingerprint comes from its relations, lock modes and normalized statements, never
//! from line numbers, so a baselined finding stays baselined when code around it moves; it is
//! new again when the statements involved change. The file is JSON with a `schema_version`:
//!
//! ```json
//! {
//!   "schema_version": 1,
//!   "entries": [
//!     {
//!       "fingerprint": "9f2c4e0a1b3d5f67",
//!       "code": "LG101",
//!       "name": "lock-order-inversion",
//!       "relations": ["accounts", "ledger"],
//!       "message": "…",
//!       "location": { "path": "db/transfer.sql", "line": 15 }
//!     }
//!   ]
//! }
//! ```
//!
//! Only `code` and `fingerprint` decide whether a finding is baselined; the other fields are for
//! the humans who review the file. Entries are sorted by code and fingerprint, so the file diffs
//! well when it is rewritten.

use lockgraph_core::Finding;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;

/// The version of the baseline format this build writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// Why a baseline could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a baseline.
    #[error("{path} is not a lockgraph baseline: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// Where a baselined finding was first seen (informational).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryLocation {
    /// File (or log) as named in reports.
    pub path: String,
    /// 1-based line.
    pub line: u32,
}

/// One accepted finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineEntry {
    /// The finding's fingerprint, 16 hex digits.
    pub fingerprint: String,
    /// Rule code.
    pub code: String,
    /// Rule name.
    #[serde(default)]
    pub name: String,
    /// Relations involved.
    #[serde(default)]
    pub relations: Vec<String>,
    /// The finding's message when it was recorded.
    #[serde(default)]
    pub message: String,
    /// Its primary location when it was recorded.
    #[serde(default)]
    pub location: Option<EntryLocation>,
}

/// A set of accepted findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The accepted findings, sorted by code and fingerprint.
    pub entries: Vec<BaselineEntry>,
}

impl Baseline {
    /// A baseline accepting every one of `findings`.
    pub fn from_findings(findings: &[Finding]) -> Baseline {
        let mut entries: Vec<BaselineEntry> = findings
            .iter()
            .map(|f| BaselineEntry {
                fingerprint: f.fingerprint.to_hex(),
                code: f.code.to_string(),
                name: f.name.to_string(),
                relations: f.relations.clone(),
                message: f.message.clone(),
                location: f.primary_location().map(|l| EntryLocation {
                    path: l.path.to_string(),
                    line: l.line,
                }),
            })
            .collect();
        entries.sort_by(|a, b| (&a.code, &a.fingerprint).cmp(&(&b.code, &b.fingerprint)));
        entries.dedup_by(|a, b| a.code == b.code && a.fingerprint == b.fingerprint);
        Baseline {
            schema_version: SCHEMA_VERSION,
            entries,
        }
    }

    /// Parses a baseline file's text; `path` names it in errors.
    pub fn parse(text: &str, path: &str) -> Result<Baseline, BaselineError> {
        let invalid = |message: String| BaselineError::Invalid {
            path: path.to_string(),
            message,
        };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        match value.get("schema_version").and_then(|v| v.as_u64()) {
            Some(v) if v == u64::from(SCHEMA_VERSION) => {}
            Some(v) => {
                return Err(invalid(format!(
                    "schema_version {v}; this lockgraph reads version {SCHEMA_VERSION} (rewrite it with --write-baseline)"
                )));
            }
            None => return Err(invalid("no schema_version".into())),
        }
        let baseline: Baseline =
            serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
        for e in &baseline.entries {
            if e.fingerprint.len() != 16 || !e.fingerprint.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(invalid(format!(
                    "fingerprint `{}` is not 16 hex digits",
                    e.fingerprint
                )));
            }
        }
        Ok(baseline)
    }

    /// Reads a baseline file.
    pub fn read(path: &Path) -> Result<Baseline, BaselineError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Io {
            path: shown.clone(),
            source,
        })?;
        Baseline::parse(&text, &shown)
    }

    /// The baseline as pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        // Serializing plain strings and numbers cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// Writes the baseline to `path`.
    pub fn write(&self, path: &Path) -> Result<(), BaselineError> {
        std::fs::write(path, self.to_json()).map_err(|source| BaselineError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Removes the baselined findings from `findings`; returns how many entries matched no
    /// finding (fixed since, or changed so much that they are new findings now).
    pub fn filter(&self, findings: &mut Vec<Finding>) -> usize {
        let keys: BTreeSet<(&str, &str)> = self
            .entries
            .iter()
            .map(|e| (e.code.as_str(), e.fingerprint.as_str()))
            .collect();
        let mut matched: BTreeSet<(String, String)> = BTreeSet::new();
        findings.retain(|f| {
            let hex = f.fingerprint.to_hex();
            if keys.contains(&(f.code, hex.as_str())) {
                matched.insert((f.code.to_string(), hex));
                false
            } else {
                true
            }
        });
        self.entries.len() - matched.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockgraph_core::{Fingerprint, Label, Location, Severity};

    fn finding(code: &'static str, fp: u64, line: u32) -> Finding {
        Finding {
            code,
            name: "lock-order-inversion",
            severity: Severity::Error,
            message: "m".into(),
            relations: vec!["a".into()],
            labels: vec![Label {
                location: Location::new("x.sql", line),
                message: String::new(),
                primary: true,
                statement: None,
            }],
            fingerprint: Fingerprint(fp),
            suggestion: None,
            repro: None,
            notes: Vec::new(),
        }
    }

    #[test]
    fn round_trip_and_filter() {
        let b = Baseline::from_findings(&[finding("LG101", 2, 9), finding("LG101", 1, 3)]);
        assert_eq!(b.entries[0].fingerprint, "0000000000000001");
        let text = b.to_json();
        let back = Baseline::parse(&text, "b.json").unwrap();
        assert_eq!(back, b);
        // The same findings on other lines are still baselined; a new one is not; one entry is
        // stale.
        let mut now = vec![finding("LG101", 1, 30), finding("LG102", 2, 4)];
        assert_eq!(back.filter(&mut now), 1);
        assert_eq!(now.len(), 1);
        assert_eq!(now[0].code, "LG102");
    }

    #[test]
    fn rejects_what_is_not_a_baseline() {
        assert!(Baseline::parse("[]", "b").is_err());
        assert!(Baseline::parse("{\"schema_version\": 2, \"entries\": []}", "b").is_err());
        let bad = "{\"schema_version\": 1, \"entries\": [{\"fingerprint\": \"xyz\", \"code\": \"LG101\"}]}";
        assert!(Baseline::parse(bad, "b").is_err());
        let minimal = "{\"schema_version\": 1, \"entries\": [{\"fingerprint\": \"00000000000000ff\", \"code\": \"LG101\"}]}";
        assert_eq!(Baseline::parse(minimal, "b").unwrap().entries.len(), 1);
    }
}
