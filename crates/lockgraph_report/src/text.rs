use crate::Report;
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use lockgraph_core::{Finding, Label, Severity};
use std::collections::BTreeMap;

/// Text output options.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// ANSI colours.
    pub color: bool,
}

/// Renders findings rustc-style: a title per finding, a snippet per file with one label per edge,
/// then notes and the suggested fix; a summary line at the end.
pub fn render_text(report: &Report<'_>, opts: TextOptions) -> String {
    let renderer = if opts.color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for f in report.findings {
        out.push_str(&render_finding(report, f, &renderer));
        out.push_str("\n\n");
    }
    out.push_str(&summary_line(report));
    out.push('\n');
    out
}

fn level(sev: Severity) -> Level<'static> {
    match sev {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Info => Level::INFO,
    }
}

fn render_finding(report: &Report<'_>, f: &Finding, renderer: &Renderer) -> String {
    let title = format!("{}: {}", f.name, f.message);
    let mut group: Group<'_> = Group::with_title(level(f.severity).primary_title(title).id(f.code));

    // One snippet per file, files in order of first appearance; labels without a readable
    // source become notes naming their place.
    let mut by_file: BTreeMap<usize, (&str, Vec<&Label>)> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    let mut detached = Vec::new();
    for label in &f.labels {
        let path = &*label.location.path;
        if report.sources.get(path).is_none() {
            detached.push(label);
            continue;
        }
        let idx = order.iter().position(|p| *p == path).unwrap_or_else(|| {
            order.push(path);
            order.len() - 1
        });
        by_file
            .entry(idx)
            .or_insert((path, Vec::new()))
            .1
            .push(label);
    }
    for (path, labels) in by_file.into_values() {
        let Some(source) = report.sources.get(path) else {
            continue;
        };
        let mut snippet = Snippet::source(source).path(path).line_start(1).fold(true);
        for label in labels {
            let Some(span) = line_span(source, label.location.line) else {
                continue;
            };
            let kind = if label.primary {
                AnnotationKind::Primary
            } else {
                AnnotationKind::Context
            };
            snippet = snippet.annotation(kind.span(span).label(label.message.clone()));
        }
        group = group.element(snippet);
    }
    for label in detached {
        let mut text = format!("{}: {}", label.location, label.message);
        if let Some(stmt) = &label.statement {
            text.push_str(&format!("\n    {stmt}"));
        }
        group = group.element(Level::NOTE.message(text));
    }
    for note in &f.notes {
        group = group.element(Level::NOTE.message(note.clone()));
    }
    if let Some(s) = &f.suggestion {
        if !s.order.is_empty() {
            group = group.element(Level::HELP.message(format!(
                "always lock in this order: {}",
                s.order.join(" → ")
            )));
        }
        for e in &s.edits {
            group = group.element(Level::HELP.message(e.clone()));
        }
    }
    if f.repro.is_some() {
        group = group.element(Level::NOTE.message(
            "a reproduction is available: `--emit-repro DIR` writes it, `lockgraph repro` runs it",
        ));
    }
    if let Some(rule) = lockgraph_rules::find_rule(f.code) {
        group = group.element(Level::NOTE.message(format!("docs: {}", rule.info().docs_url())));
    }
    renderer.render(&[group])
}

/// Byte range of line `line` (1-based) without its indentation and trailing whitespace.
fn line_span(source: &str, line: u32) -> Option<std::ops::Range<usize>> {
    let mut start = 0;
    for (i, l) in source.split_inclusive('\n').enumerate() {
        if i + 1 == line as usize {
            let trimmed_start = l.len() - l.trim_start().len();
            let content = l.trim();
            if content.is_empty() {
                return Some(start..start);
            }
            return Some(start + trimmed_start..start + trimmed_start + content.len());
        }
        start += l.len();
    }
    None
}

fn summary_line(report: &Report<'_>) -> String {
    let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    let counts = format!(
        "{}, {}, {}",
        plural(count(Severity::Error), "error"),
        plural(count(Severity::Warning), "warning"),
        plural(count(Severity::Info), "info"),
    );
    if report.transactions == 0 && report.files == 0 {
        // A live snapshot: no transactions or files were read.
        return counts;
    }
    format!(
        "{counts} in {} across {}",
        plural(report.transactions, "transaction"),
        plural(report.files, "file"),
    )
}

#[cfg(test)]
mod tests {
    use super::line_span;

    #[test]
    fn line_spans_skip_indentation() {
        let src = "a\n  bcd  \nlast";
        assert_eq!(line_span(src, 2), Some(4..7));
        assert_eq!(line_span(src, 3), Some(10..14));
        assert_eq!(line_span(src, 4), None);
    }
}
