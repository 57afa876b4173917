//! GitLab Code Quality: a JSON array of Code Climate issues, which GitLab shows in merge requests
//! (`artifacts: reports: codequality`).

use crate::Report;
use crate::sarif::{is_file_line, repo_path};
use lockgraph_core::{Finding, Fingerprint, Severity};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Renders the findings as a GitLab Code Quality report (pretty JSON array; `[]` when clean).
///
/// Each issue has `description`, `check_name` (the rule code), `fingerprint`, `severity`
/// (error → `critical`, warning → `major`, info → `info`) and `location` (`path`,
/// `lines.begin`), plus the Code Climate fields `type`, `categories` and `content.body` (the
/// details in Markdown). A place that is not a line of a file (a live session, `pid 5477`)
/// keeps its name as `path` and line 1, since GitLab requires a positive line.
pub fn render_gitlab(report: &Report<'_>) -> String {
    let mut seen: BTreeMap<(&str, Fingerprint), u32> = BTreeMap::new();
    let issues: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let n = seen.entry((f.code, f.fingerprint)).or_default();
            let issue = issue(f, *n);
            *n += 1;
            issue
        })
        .collect();
    let mut out = serde_json::to_string_pretty(&issues).unwrap_or_default();
    out.push('\n');
    out
}

/// GitLab's severity for a finding.
fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "critical",
        Severity::Warning => "major",
        Severity::Info => "info",
    }
}

/// 32 hex digits: the finding's fingerprint (the one in JSON output and baselines), then a hash
/// of the rule code and `occurrence` — the same finding gets the same value on every run, and two
/// findings with one fingerprint in a report still get different ones.
fn fingerprint(f: &Finding, occurrence: u32) -> String {
    let tail = Fingerprint::of([f.code.as_bytes(), occurrence.to_string().as_bytes()]);
    format!("{}{}", f.fingerprint.to_hex(), tail.to_hex())
}

fn issue(f: &Finding, occurrence: u32) -> Value {
    let (path, line) = match f.primary_location() {
        Some(l) if is_file_line(l) => (repo_path(&l.path), l.line),
        Some(l) => (l.path.to_string(), 1),
        None => (String::new(), 1),
    };
    json!({
        "type": "issue",
        "check_name": f.code,
        "description": format!("{} {}: {}", f.code, f.name, f.message),
        "content": { "body": body(f) },
        "categories": ["Bug Risk"],
        "fingerprint": fingerprint(f, occurrence),
        "severity": severity(f.severity),
        "location": { "path": path, "lines": { "begin": line } },
    })
}

/// The details in Markdown: labels with their places and statements, notes, fix, docs link.
fn body(f: &Finding) -> String {
    let mut md = String::new();
    for l in &f.labels {
        md.push_str(&format!("- `{}`: {}", l.location, l.message));
        if let Some(stmt) = &l.statement {
            md.push_str(&format!("\n  `{}`", stmt.replace('`', "'")));
        }
        md.push('\n');
    }
    for n in &f.notes {
        md.push_str(&format!("\nnote: {n}\n"));
    }
    if let Some(s) = f.suggestion.as_ref().map(|s| s.summary())
        && !s.is_empty()
    {
        md.push_str(&format!("\n**How to fix:** {s}\n"));
    }
    if let Some(rule) = lockgraph_rules::find_rule(f.code) {
        md.push_str(&format!(
            "\n[{} {}]({})\n",
            f.code,
            f.name,
            rule.info().docs_url()
        ));
    }
    md.trim().to_string()
}
