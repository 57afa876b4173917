//! `lockgraph check`: SQL files → transactions → lock-order graph → rules → report → exit code.

use crate::args::{CheckArgs, ColorChoice, FailOn, Format};
use crate::output::{print, use_color};
use anyhow::Context;
use lockgraph_cli::discover::Filter;
use lockgraph_cli::pipeline::{LoadOptions, load};
use lockgraph_core::{Finding, Severity};
use lockgraph_report::{GraphView, Report, TextOptions};
use lockgraph_rules::{Analysis, CheckOptions};
use lockgraph_source::SourceOptions;

/// Runs the check; returns the exit code.
pub fn run(args: &CheckArgs, color: ColorChoice) -> anyhow::Result<u8> {
    let selected = selected_rules(&args.select, &args.ignore)?;
    let load_opts = LoadOptions {
        file_transaction: args.file_transaction.clone(),
        migration_transactions: !args.no_migration_transactions,
        filter: Filter::new(&args.include, &args.exclude).map_err(anyhow::Error::msg)?,
        source: SourceOptions {
            max_call_depth: args.max_call_depth,
            ..SourceOptions::default()
        },
    };
    let loaded = load(&args.paths, &load_opts);
    for e in &loaded.errors {
        eprintln!("lockgraph: error: {e}");
    }
    for w in &loaded.warnings {
        eprintln!("lockgraph: warning: {w}");
    }

    let options = CheckOptions {
        show_literals: args.show_literals,
        ..CheckOptions::default()
    };
    let analysis = Analysis::new(
        &loaded.transactions,
        &loaded.diagnostics,
        &loaded.schema,
        &loaded.statements,
        options,
    )
    .with_suppressions(&loaded.suppressions);
    let findings = lockgraph_rules::check(&analysis, &selected);

    if let Some(dir) = &args.emit_repro {
        emit_repros(dir, &findings)?;
    }

    let graph = GraphView::build(&analysis.graph, &loaded.transactions, &findings);
    let report = Report {
        findings: &findings,
        graph: &graph,
        sources: &loaded.sources,
        transactions: loaded.transactions.len(),
        files: loaded.files,
    };
    emit(args.format, &report, color, "")?;

    if !loaded.errors.is_empty() {
        return Ok(2);
    }
    Ok(if fails(&findings, args.fail_on) { 1 } else { 0 })
}

/// The rule codes to run: `--select` (default: all) minus `--ignore`.
pub(crate) fn selected_rules(
    select: &[String],
    ignore: &[String],
) -> anyhow::Result<Vec<&'static str>> {
    let resolve = |names: &[String]| -> anyhow::Result<Vec<&'static str>> {
        names
            .iter()
            .map(|n| {
                lockgraph_rules::find_rule(n.trim())
                    .map(|r| r.info().code)
                    .with_context(|| format!("unknown rule `{n}`; `lockgraph rules` lists them"))
            })
            .collect()
    };
    let mut selected = if select.is_empty() {
        lockgraph_rules::REGISTRY
            .iter()
            .map(|r| r.info().code)
            .collect()
    } else {
        resolve(select)?
    };
    let ignored = resolve(ignore)?;
    selected.retain(|c| !ignored.contains(c));
    Ok(selected)
}

/// Renders a report in the chosen format.
/// Writes the report to stdout; `text_trailer` follows a text report. JSON is streamed.
pub(crate) fn emit(
    format: Format,
    report: &Report<'_>,
    color: ColorChoice,
    text_trailer: &str,
) -> anyhow::Result<()> {
    if format == Format::Json {
        use std::io::Write;
        let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        lockgraph_report::write_json(report, &mut out)?;
        out.flush()?;
        return Ok(());
    }
    let mut text = render(format, report, color);
    if format == Format::Text {
        text.push_str(text_trailer);
    }
    print(&text)
}

pub(crate) fn render(format: Format, report: &Report<'_>, color: ColorChoice) -> String {
    match format {
        Format::Text => lockgraph_report::render_text(
            report,
            TextOptions {
                color: use_color(color),
            },
        ),
        Format::Json => lockgraph_report::render_json(report),
        Format::Dot => lockgraph_report::render_dot(report),
        Format::Mermaid => lockgraph_report::render_mermaid(report),
    }
}

/// Whether findings reach `--fail-on`.
pub(crate) fn fails(findings: &[Finding], fail_on: FailOn) -> bool {
    let threshold = match fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
        FailOn::Info => Severity::Info,
        FailOn::Never => return false,
    };
    findings.iter().any(|f| f.severity >= threshold)
}

fn emit_repros(dir: &std::path::Path, findings: &[Finding]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for f in findings {
        if let Some(repro) = &f.repro {
            let path = dir.join(format!("{}-{}.sql", f.code, f.fingerprint.to_hex()));
            let header = format!("-- {} {}: {}\n", f.code, f.name, f.message);
            std::fs::write(&path, header + &lockgraph_pg::format_script(repro))
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    Ok(())
}
