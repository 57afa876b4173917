//! SARIF 2.1.0: the format GitHub code scanning, Azure DevOps and most SAST dashboards read.
//!
//! One run; `tool.driver.rules` lists the whole registry (so `ruleIndex` is the rule's position in
//! [`lockgraph_rules::REGISTRY`] and every rule's help travels with the log); one result per
//! finding. The contract, field by field, is in `docs/formats.md`.

use crate::Report;
use lockgraph_core::{Finding, Label, Location, Severity};
use lockgraph_rules::{REGISTRY, RuleInfo};
use serde_json::{Map, Value, json};

/// The schema a SARIF log names in `$schema` (the OASIS 2.1.0 schema with errata 01).
pub const SARIF_SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The key of `result.partialFingerprints` that holds the finding's fingerprint. The `/v1` is
/// the recipe's version: a change to how fingerprints are computed gets a new key.
pub const SARIF_FINGERPRINT_KEY: &str = "lockgraph/v1";

/// The `uriBaseId` of every relative file location (GitHub code scanning resolves it to the
/// checkout).
const SRCROOT: &str = "%SRCROOT%";

/// Renders the report as a SARIF 2.1.0 log (pretty JSON, one run).
pub fn render_sarif(report: &Report<'_>) -> String {
    let log = json!({
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "lockgraph",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://github.com/lockgraph/lockgraph",
                    "rules": REGISTRY.iter().map(|r| rule_json(r.info())).collect::<Vec<_>>(),
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": report.findings.iter().map(result_json).collect::<Vec<_>>(),
        }],
    });
    // Serializing a `Value` cannot fail.
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}

/// `error`, `warning`, `note`.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A `reportingDescriptor`: short description from the summary, full description from the
/// rule's "What it detects" section, help from its whole documentation.
fn rule_json(info: &RuleInfo) -> Value {
    let doc = lockgraph_rules::rule_doc_markdown(info);
    let detects = section(&doc, "What it detects").unwrap_or_else(|| info.summary.to_string());
    json!({
        "id": info.code,
        "name": info.name,
        "shortDescription": { "text": info.summary },
        "fullDescription": { "text": markdown_to_text(&detects), "markdown": detects },
        "help": { "text": markdown_to_text(&doc), "markdown": doc.trim_end() },
        "helpUri": info.docs_url(),
        "defaultConfiguration": { "level": level(info.severity) },
        "properties": { "tags": ["lockgraph", family(info.code)] },
    })
}

/// The rule family of a code, from its hundreds digit (docs/rules.md).
fn family(code: &str) -> &'static str {
    match code.as_bytes().get(2) {
        Some(b'1') => "lock-order",
        Some(b'2') => "lock-hazard",
        Some(b'3') => "transaction-shape",
        Some(b'4') => "runtime",
        _ => "tool",
    }
}

/// The text under `### {heading}` up to the next heading, trimmed.
fn section(doc: &str, heading: &str) -> Option<String> {
    let start = doc.find(&format!("### {heading}\n"))? + heading.len() + 5;
    let rest = &doc[start..];
    let end = rest.find("\n### ").unwrap_or(rest.len());
    let text = rest[..end].trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// Markdown made readable as plain text: heading marks and code fences dropped.
fn markdown_to_text(md: &str) -> String {
    let lines: Vec<&str> = md
        .lines()
        .filter(|l| !l.starts_with("```"))
        .map(|l| l.trim_start_matches('#').trim_start_matches(' '))
        .collect();
    lines.join("\n").trim().to_string()
}

fn result_json(f: &Finding) -> Value {
    let mut result = Map::new();
    result.insert("ruleId".into(), json!(f.code));
    if let Some(index) = REGISTRY.iter().position(|r| r.info().code == f.code) {
        result.insert("ruleIndex".into(), json!(index));
    }
    result.insert("level".into(), json!(level(f.severity)));
    let mut text = f.message.clone();
    if let Some(s) = f.suggestion.as_ref().map(|s| s.summary())
        && !s.is_empty()
    {
        text.push_str("\nhelp: ");
        text.push_str(&s);
    }
    result.insert("message".into(), json!({ "text": text }));

    let anchor = f
        .labels
        .iter()
        .position(|l| l.primary)
        .or((!f.labels.is_empty()).then_some(0));
    if let Some(i) = anchor {
        let label = &f.labels[i];
        result.insert(
            "locations".into(),
            json!([location_json(&label.location, Some(&label.message), None)]),
        );
    }
    let related: Vec<Value> = f
        .labels
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != anchor)
        .enumerate()
        .map(|(n, (_, l))| location_json(&l.location, Some(&l.message), Some(n + 1)))
        .collect();
    if !related.is_empty() {
        result.insert("relatedLocations".into(), Value::Array(related));
    }
    result.insert(
        "partialFingerprints".into(),
        json!({ SARIF_FINGERPRINT_KEY: f.fingerprint.to_hex() }),
    );
    let threads = threads(&f.labels);
    if threads.len() >= 2 {
        result.insert("codeFlows".into(), json!([code_flow(&threads)]));
    }

    let mut props = Map::new();
    props.insert("name".into(), json!(f.name));
    props.insert("severity".into(), json!(f.severity));
    if !f.relations.is_empty() {
        props.insert("relations".into(), json!(f.relations));
    }
    if let Some(s) = &f.suggestion {
        props.insert(
            "suggestion".into(),
            json!({ "order": s.order, "edits": s.edits, "summary": s.summary() }),
        );
    }
    if !f.notes.is_empty() {
        props.insert("notes".into(), json!(f.notes));
    }
    props.insert("reproAvailable".into(), json!(f.repro.is_some()));
    result.insert("properties".into(), Value::Object(props));
    Value::Object(result)
}

/// Whether a location is a line of a file: not a live session (`pid 5477`, line 0) and not
/// standard input (`-` or a pseudo-file such as `<stdin>`).
pub(crate) fn is_file_line(loc: &Location) -> bool {
    loc.line > 0 && !loc.path.starts_with('<') && !matches!(&*loc.path, "" | "-")
}

/// A path as CI systems want it: forward slashes, no leading `./`.
pub(crate) fn repo_path(path: &str) -> String {
    let mut p = path.replace('\\', "/");
    while let Some(rest) = p.strip_prefix("./") {
        p = rest.to_string();
    }
    p
}

/// A SARIF `location`: a physical location (relative file URI under `%SRCROOT%`, or an absolute
/// `file://` URI) with the line as its region; a logical location named after the place when it
/// is not a line of a file.
fn location_json(loc: &Location, message: Option<&str>, id: Option<usize>) -> Value {
    let mut out = Map::new();
    if let Some(id) = id {
        out.insert("id".into(), json!(id));
    }
    if is_file_line(loc) {
        let path = repo_path(&loc.path);
        let artifact = if let Some(abs) = absolute_uri(&path) {
            json!({ "uri": abs })
        } else {
            json!({ "uri": encode_uri_path(&path), "uriBaseId": SRCROOT })
        };
        out.insert(
            "physicalLocation".into(),
            json!({ "artifactLocation": artifact, "region": { "startLine": loc.line } }),
        );
    } else {
        out.insert(
            "logicalLocations".into(),
            json!([{ "name": loc.to_string() }]),
        );
    }
    if let Some(m) = message {
        out.insert("message".into(), json!({ "text": m }));
    }
    Value::Object(out)
}

/// `file:///abs/path` for an absolute path (`/x` or `C:/x`), `None` for a relative one.
fn absolute_uri(path: &str) -> Option<String> {
    if path.starts_with('/') {
        return Some(format!("file://{}", encode_uri_path(path)));
    }
    let b = path.as_bytes();
    if b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/' {
        return Some(format!(
            "file:///{}:{}",
            &path[..1],
            encode_uri_path(&path[2..])
        ));
    }
    None
}

/// Percent-encodes what may not appear in a URI path. `:` is encoded too, so a relative
/// reference's first segment is never read as a scheme.
fn encode_uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=@/".contains(&b);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One concurrent actor of a finding and the labels it passes through, in order.
struct Thread<'a> {
    name: String,
    labels: Vec<&'a Label>,
}

/// Splits a finding's labels into the paths of the concurrent transactions (or sessions) that
/// take part in it, from how the rules word their labels:
///
/// - `` `NAME` takes … `` opens a new path for transaction `NAME` (lock-order cycles: one pair
///   of labels per edge, so two runs of one transaction are two paths);
/// - a label starting with `…` continues the path before it;
/// - `process N …` (a deadlock from the server log) belongs to process N, whose labels are
///   consecutive;
/// - a place that is not a line of a file (`pid 5477`, live findings) is that session's path.
///
/// Labels that match none (the log line where the server reported the deadlock) stay out of the
/// paths; they are still the result's locations.
fn threads(labels: &[Label]) -> Vec<Thread<'_>> {
    let mut out: Vec<Thread<'_>> = Vec::new();
    for label in labels {
        let m = label.message.as_str();
        if m.starts_with('…') {
            if let Some(t) = out.last_mut() {
                t.labels.push(label);
            }
            continue;
        }
        if let Some(name) = transaction_actor(m) {
            out.push(Thread {
                name,
                labels: vec![label],
            });
            continue;
        }
        let actor = process_actor(m)
            .or_else(|| (label.location.line == 0).then(|| label.location.path.to_string()));
        if let Some(name) = actor {
            match out.last_mut() {
                Some(t) if t.name == name => t.labels.push(label),
                _ => out.push(Thread {
                    name,
                    labels: vec![label],
                }),
            }
        }
    }
    out
}

/// `` `transfer.sql:1` `` from `` `transfer.sql:1` takes … ``.
fn transaction_actor(message: &str) -> Option<String> {
    let rest = message.strip_prefix('`')?;
    let end = rest.find('`')?;
    rest[end + 1..]
        .starts_with(" takes ")
        .then(|| format!("`{}`", &rest[..end]))
}

/// `process 4242` from `process 4242 waits here …`.
fn process_actor(message: &str) -> Option<String> {
    let rest = message.strip_prefix("process ")?;
    let pid: String = rest.chars().take_while(char::is_ascii_digit).collect();
    (!pid.is_empty()).then(|| format!("process {pid}"))
}

/// One code flow with a thread flow per concurrent transaction.
fn code_flow(threads: &[Thread<'_>]) -> Value {
    let flows: Vec<Value> = threads
        .iter()
        .enumerate()
        .map(|(i, t)| {
            json!({
                "id": format!("{}", i + 1),
                "message": { "text": t.name },
                "locations": t.labels.iter().map(|l| json!({
                    "location": location_json(&l.location, Some(&l.message), None),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "message": {
            "text": format!("how the deadlock happens: {} concurrent transactions, one thread flow each", threads.len()),
        },
        "threadFlows": flows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(path: &str, line: u32, message: &str) -> Label {
        Label {
            location: Location::new(path, line),
            message: message.into(),
            primary: false,
            statement: None,
        }
    }

    #[test]
    fn uris_are_relative_and_encoded() {
        assert_eq!(repo_path("./a\\b c.sql"), "a/b c.sql");
        assert_eq!(encode_uri_path("a/b c:%.sql"), "a/b%20c%3A%25.sql");
        assert_eq!(
            absolute_uri("/srv/x y.sql").as_deref(),
            Some("file:///srv/x%20y.sql")
        );
        assert_eq!(
            absolute_uri("C:/x.sql").as_deref(),
            Some("file:///C:/x.sql")
        );
        assert_eq!(absolute_uri("migrations/x.sql"), None);
    }

    #[test]
    fn live_places_are_logical_locations() {
        let v = location_json(&Location::new("pid 5477", 0), None, None);
        assert_eq!(v["logicalLocations"][0]["name"], "pid 5477");
        assert!(v.get("physicalLocation").is_none());
        let v = location_json(&Location::new("<stdin>", 3), None, None);
        assert_eq!(v["logicalLocations"][0]["name"], "<stdin>:3");
        let v = location_json(&Location::new("-", 3), None, None);
        assert_eq!(v["logicalLocations"][0]["name"], "-:3");
    }

    #[test]
    fn labels_split_into_threads() {
        let labels = [
            label("a.sql", 2, "`a.sql:1` takes ROW EXCLUSIVE on a …"),
            label("a.sql", 3, "… then waits for ROW EXCLUSIVE on b"),
            label("a.sql", 6, "`a.sql:1` takes ROW EXCLUSIVE on b …"),
            label("a.sql", 7, "… then waits for ROW EXCLUSIVE on a"),
        ];
        let t = threads(&labels);
        assert_eq!(t.len(), 2, "two runs of one transaction are two paths");
        assert_eq!(t[1].labels[1].location.line, 7);

        let log = [
            label("pg.log", 9, "deadlock detected; process 2 was aborted"),
            label(
                "pg.log",
                3,
                "process 1 ran this earlier in its transaction (step 1)",
            ),
            label(
                "pg.log",
                5,
                "process 1 waits here for ShareLock on transaction 7",
            ),
            label(
                "pg.log",
                4,
                "process 2 waits here for ShareLock on transaction 8",
            ),
        ];
        let t = threads(&log);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].name, "process 1");
        assert_eq!(t[0].labels.len(), 2);

        let single = [
            label("a.sql", 2, "takes FOR SHARE on a rows …"),
            label("a.sql", 3, "… then asks for FOR UPDATE on a rows"),
        ];
        assert!(threads(&single).is_empty());
    }

    #[test]
    fn sections_of_rule_docs() {
        let doc = "### What it detects\nA thing.\n\n### Why it matters\nBecause.\n";
        assert_eq!(section(doc, "What it detects").as_deref(), Some("A thing."));
        assert_eq!(section(doc, "Why it matters").as_deref(), Some("Because."));
        assert_eq!(section(doc, "Example"), None);
        assert_eq!(
            markdown_to_text("### H\n```sql\nSELECT 1;\n```"),
            "H\nSELECT 1;"
        );
    }
}
