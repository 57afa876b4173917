//! `lockgraph check`: SQL files → transactions → lock-order graph → rules → report → exit code.

use crate::args::{CheckArgs, ColorChoice, FailOn, Format};
use crate::discover::{discover, in_migrations_dir, InputFile};
use crate::output::{print, use_color};
use anyhow::Context;
use lockgraph_core::{Finding, Severity, Statement, Transaction};
use lockgraph_report::{GraphSummary, Report, Sources, TextOptions};
use lockgraph_rules::{Analysis, CheckOptions};
use lockgraph_sql::SqlFileOptions;
use std::sync::Arc;

/// Runs the check; returns the exit code.
pub fn run(args: &CheckArgs, color: ColorChoice) -> anyhow::Result<u8> {
    let selected = selected_rules(args)?;
    let (files, walk_errors) = discover(&args.paths);
    let mut input_error = false;
    for e in &walk_errors {
        eprintln!("lockgraph: error: {e}");
        input_error = true;
    }

    let mut sources = Sources::default();
    let mut texts: Vec<(&InputFile, String)> = Vec::new();
    for file in &files {
        match read_text(file) {
            Ok(text) => texts.push((file, text)),
            Err(e) => {
                eprintln!("lockgraph: error: {e:#}");
                input_error = true;
            }
        }
    }

    // Pass 1: the schema from every file's DDL, so inference knows keys and foreign keys.
    let schema_input: Vec<(&str, &str)> = texts.iter().map(|(f, t)| (f.name.as_str(), t.as_str())).collect();
    let (schema, mut diagnostics) = lockgraph_sql::parse_schema(&schema_input);

    // Pass 2: transactions per file.
    let mut transactions: Vec<Transaction> = Vec::new();
    let mut statements: Vec<Arc<Statement>> = Vec::new();
    for (file, text) in &texts {
        let whole_file = args.file_transaction.iter().any(|p| file.path.starts_with(p))
            || (!args.no_migration_transactions && in_migrations_dir(&file.name));
        let opts = SqlFileOptions {
            file_is_transaction: whole_file,
            group: whole_file.then(|| Arc::from("migrations")),
        };
        let (txns, diags) = lockgraph_sql::build_transactions(&file.name, text, &schema, &opts);
        transactions.extend(txns);
        diagnostics.extend(diags);
        for raw in lockgraph_sql::split_statements(text) {
            statements.push(lockgraph_sql::make_statement(&file.name, raw.line, &raw.text));
        }
        sources.insert(file.name.as_str(), text.as_str());
    }

    let options = CheckOptions { show_literals: args.show_literals, ..CheckOptions::default() };
    let analysis = Analysis::new(&transactions, &diagnostics, &schema, &statements, options);
    let findings = lockgraph_rules::check(&analysis, &selected);

    if let Some(dir) = &args.emit_repro {
        emit_repros(dir, &findings)?;
    }

    let graph = GraphSummary::build(&analysis.graph, &transactions, &findings);
    let report = Report {
        findings: &findings,
        graph: &graph,
        sources: &sources,
        transactions: transactions.len(),
        files: texts.len(),
    };
    let rendered = match args.format {
        Format::Text => lockgraph_report::render_text(&report, TextOptions { color: use_color(color) }),
        Format::Json => lockgraph_report::render_json(&report),
        Format::Dot => lockgraph_report::render_dot(&report),
        Format::Mermaid => lockgraph_report::render_mermaid(&report),
    };
    print(&rendered)?;

    if input_error {
        return Ok(2);
    }
    Ok(if fails(&findings, args.fail_on) { 1 } else { 0 })
}

/// Reads a file; invalid UTF-8 is replaced (with a warning naming the line) so the run goes on.
fn read_text(file: &InputFile) -> anyhow::Result<String> {
    let bytes = std::fs::read(&file.path).with_context(|| format!("{}: cannot read", file.name))?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => {
            let bytes = e.into_bytes();
            let bad = std::str::from_utf8(&bytes).err().map(|e| e.valid_up_to()).unwrap_or(0);
            let line = bytes[..bad].iter().filter(|&&b| b == b'\n').count() + 1;
            eprintln!(
                "lockgraph: warning: {}:{line}: invalid UTF-8; the bytes were replaced and the file analysed",
                file.name
            );
            Ok(String::from_utf8_lossy(&bytes).into_owned())
        }
    }
}

fn selected_rules(args: &CheckArgs) -> anyhow::Result<Vec<&'static str>> {
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
    let mut selected = if args.select.is_empty() {
        lockgraph_rules::REGISTRY.iter().map(|r| r.info().code).collect()
    } else {
        resolve(&args.select)?
    };
    let ignored = resolve(&args.ignore)?;
    selected.retain(|c| !ignored.contains(c));
    Ok(selected)
}

fn fails(findings: &[Finding], fail_on: FailOn) -> bool {
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
