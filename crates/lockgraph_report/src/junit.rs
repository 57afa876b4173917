//! JUnit XML: what Jenkins, GitLab (`artifacts: reports: junit`), Azure Pipelines and most CI
//! test tabs read.
//!
//! One `<testsuite>` per rule that has findings, named `LG101 lock-order-inversion` — per rule
//! rather than per file because a rule is a fixed set CI can track from run to run, and a
//! deadlock spans files. One failing `<testcase>` per finding. A clean run has one testsuite
//! `lockgraph` with one passing testcase, so the CI shows that the check ran.

use crate::Report;
use crate::github::details;
use crate::sarif::{is_file_line, repo_path};
use lockgraph_core::Finding;
use std::fmt::Write;

/// Renders the report as a JUnit XML document.
pub fn render_junit(report: &Report<'_>) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let total = report.findings.len().max(1);
    let failures = report.findings.len();
    let _ = writeln!(
        out,
        "<testsuites name=\"lockgraph\" tests=\"{total}\" failures=\"{failures}\" errors=\"0\">"
    );
    if report.findings.is_empty() {
        out.push_str(
            "  <testsuite name=\"lockgraph\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"0\">\n",
        );
        // A stable name, so CI history tracks one test; the counts go to its output.
        let _ = writeln!(
            out,
            "    <testcase name=\"no findings\" classname=\"lockgraph\">\n      \
             <system-out>{}</system-out>\n    </testcase>",
            escape_text(&clean_summary(report))
        );
        out.push_str("  </testsuite>\n");
    }
    // Rules in registry order; findings of codes the registry does not know go last.
    let mut codes: Vec<&str> = lockgraph_rules::REGISTRY
        .iter()
        .map(|r| r.info().code)
        .collect();
    for f in report.findings {
        if !codes.contains(&f.code) {
            codes.push(f.code);
        }
    }
    for code in codes {
        let findings: Vec<&Finding> = report.findings.iter().filter(|f| f.code == code).collect();
        let Some(first) = findings.first() else {
            continue;
        };
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{n}\" failures=\"{n}\" errors=\"0\" skipped=\"0\">",
            escape(&format!("{} {}", first.code, first.name)),
            n = findings.len(),
        );
        for f in findings {
            testcase(&mut out, f);
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// `no findings in 12 transactions across 3 files`.
fn clean_summary(report: &Report<'_>) -> String {
    if report.transactions == 0 && report.files == 0 {
        return "no findings".to_string();
    }
    format!(
        "no findings in {} transaction{} across {} file{}",
        report.transactions,
        if report.transactions == 1 { "" } else { "s" },
        report.files,
        if report.files == 1 { "" } else { "s" },
    )
}

/// `<testcase name="PLACE (FINGERPRINT)" classname="lockgraph.CODE" file=… line=…>` with a
/// `<failure>` whose message is the finding's and whose body is the details.
fn testcase(out: &mut String, f: &Finding) {
    let place = f
        .primary_location()
        .map(|l| l.to_string())
        .unwrap_or_default();
    let name = format!("{place} ({})", f.fingerprint.to_hex());
    let _ = write!(
        out,
        "    <testcase name=\"{}\" classname=\"lockgraph.{}\"",
        escape(name.trim_start()),
        escape(f.code)
    );
    if let Some(l) = f.primary_location().filter(|l| is_file_line(l)) {
        let _ = write!(
            out,
            " file=\"{}\" line=\"{}\"",
            escape(&repo_path(&l.path)),
            l.line
        );
    }
    out.push_str(">\n");
    let _ = writeln!(
        out,
        "      <failure message=\"{}\" type=\"{}\">{}</failure>",
        escape(&f.message),
        f.severity,
        escape_text(&details(f, true))
    );
    out.push_str("    </testcase>\n");
}

/// Escapes text for an XML attribute value: the five special characters, line breaks as
/// character references (a parser would turn them into spaces), and characters XML 1.0 does not
/// allow at all (control characters but tab, LF, CR) as U+FFFD.
pub(crate) fn escape(s: &str) -> String {
    escape_xml(s, true)
}

/// Escapes text for XML element content: `&`, `<`, `>`, CR and the characters XML 1.0 does not
/// allow; line feeds, tabs and quotes stay as they are.
pub(crate) fn escape_text(s: &str) -> String {
    escape_xml(s, false)
}

fn escape_xml(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            '\n' | '\t' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{escape, escape_text};

    #[test]
    fn escapes_xml() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;"
        );
        assert_eq!(escape("x\u{1}y\nz"), "x\u{FFFD}y&#10;z");
        assert_eq!(escape_text("x\n'y'\r\"<"), "x\n'y'&#13;\"&lt;");
    }
}
