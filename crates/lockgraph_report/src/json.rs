use crate::Report;
use lockgraph_core::{Finding, Severity};
use serde_json::{Value, json};

/// Version of the JSON contract (docs/json.md). Bumped on any incompatible change.
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// Renders the report as pretty JSON (`schema_version`, `summary`, `findings`, `graph`).
pub fn render_json(report: &Report<'_>) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail, and every value serializes.
    let _ = write_json(report, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Writes the JSON report (the text [`render_json`] returns) to `out` as it goes: one finding is
/// turned into a JSON value at a time, so memory does not grow with the size of the report.
pub fn write_json(report: &Report<'_>, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
    let doc = Document {
        schema_version: JSON_SCHEMA_VERSION,
        tool: json!({ "name": "lockgraph", "version": env!("CARGO_PKG_VERSION") }),
        summary: json!({
            "findings": report.findings.len(),
            "errors": count(Severity::Error),
            "warnings": count(Severity::Warning),
            "infos": count(Severity::Info),
            "transactions": report.transactions,
            "files": report.files,
        }),
        findings: Findings(report.findings),
        graph: report.graph,
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(std::io::Error::other)?;
    out.write_all(b"\n")
}

/// The document's top level, in field order.
#[derive(serde::Serialize)]
struct Document<'a> {
    schema_version: u32,
    tool: Value,
    summary: Value,
    findings: Findings<'a>,
    graph: &'a crate::GraphView,
}

/// The findings, each made a JSON value only while it is written.
struct Findings<'a>(&'a [Finding]);

impl serde::Serialize for Findings<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for f in self.0 {
            seq.serialize_element(&finding_json(f))?;
        }
        seq.end()
    }
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
