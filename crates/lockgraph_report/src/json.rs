use crate::Report;
use lockgraph_core::{Finding, Severity};
use serde_json::{Value, json};

/// Version of the JSON contract (docs/json.md). Bumped on any incompatible change.
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// Renders the report as pretty JSON (`schema_version`, `summary`, `findings`, `graph`).
pub fn render_json(report: &Report<'_>) -> String {
    let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
    let doc = json!({
        "schema_version": JSON_SCHEMA_VERSION,
        "tool": { "name": "lockgraph", "version": env!("CARGO_PKG_VERSION") },
        "summary": {
            "findings": report.findings.len(),
            "errors": count(Severity::Error),
            "warnings": count(Severity::Warning),
            "infos": count(Severity::Info),
            "transactions": report.transactions,
            "files": report.files,
        },
        "findings": report.findings.iter().map(finding_json).collect::<Vec<_>>(),
        "graph": report.graph,
    });
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into());
    out.push('\n');
    out
}

fn finding_json(f: &Finding) -> Value {
    let docs_url = lockgraph_rules::find_rule(f.code).map(|r| r.info().docs_url());
    json!({
        "code": f.code,
        "name": f.name,
        "severity": f.severity,
        "message": f.message,
        "relations": f.relations,
        "locations": f.labels.iter().map(|l| json!({"path": l.location.path, "line": l.location.line}))
            .collect::<Vec<_>>(),
        "labels": f.labels,
        "fingerprint": f.fingerprint.to_hex(),
        "suggestion": f.suggestion.as_ref().map(|s| json!({
            "order": s.order, "edits": s.edits, "summary": s.summary(),
        })),
        "repro_available": f.repro.is_some(),
        "notes": f.notes,
        "docs_url": docs_url,
    })
}
