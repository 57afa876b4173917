//! GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` line per finding, which
//! the runner turns into an annotation on the pull request's diff.

use crate::Report;
use crate::sarif::{is_file_line, repo_path};
use lockgraph_core::{Finding, Severity};

/// Renders one workflow command per finding:
/// `::error file=PATH,line=N,title=LG101 lock-order-inversion::MESSAGE`.
///
/// The message holds the finding's message, then one line per label (the path through the
/// deadlock), notes, the suggested fix and the docs link (newlines escaped, as the runner wants). A finding whose place is not a line of
/// a file (a live session) gets an annotation without `file`/`line`. A clean run prints nothing.
pub fn render_github(report: &Report<'_>) -> String {
    let mut out = String::new();
    for f in report.findings {
        out.push_str(&command(f));
        out.push('\n');
    }
    out
}

fn command(f: &Finding) -> String {
    let kind = match f.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    };
    let mut props = Vec::new();
    if let Some(loc) = f.primary_location().filter(|l| is_file_line(l)) {
        props.push(format!("file={}", escape_property(&repo_path(&loc.path))));
        props.push(format!("line={}", loc.line));
    }
    props.push(format!(
        "title={}",
        escape_property(&format!("{} {}", f.code, f.name))
    ));
    format!(
        "::{kind} {}::{}",
        props.join(","),
        escape_data(&details(f, false))
    )
}

/// The finding as plain text: message, every label (`path:line: what happens there`, with the
/// statement when `statements`), notes, the suggested fix and the docs link.
pub(crate) fn details(f: &Finding, statements: bool) -> String {
    let mut out = f.message.clone();
    for l in &f.labels {
        out.push_str(&format!("\n{}: {}", l.location, l.message));
        if statements && let Some(stmt) = &l.statement {
            out.push_str(&format!("\n    {stmt}"));
        }
    }
    for note in &f.notes {
        out.push_str(&format!("\nnote: {note}"));
    }
    if let Some(s) = f.suggestion.as_ref().map(|s| s.summary())
        && !s.is_empty()
    {
        out.push_str(&format!("\nhelp: {s}"));
    }
    if let Some(rule) = lockgraph_rules::find_rule(f.code) {
        out.push_str(&format!("\ndocs: {}", rule.info().docs_url()));
    }
    out
}

/// Escapes a command's data (after `::`): `%`, CR and LF.
pub(crate) fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command property's value: as data, plus `:` and `,`.
pub(crate) fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_github_documents() {
        assert_eq!(escape_data("50% a\r\nb: c, d"), "50%25 a%0D%0Ab: c, d");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }
}
