//! `lockgraph check`: SQL files → transactions → lock-order graph → rules → report → exit code.

use crate::args::{CheckArgs, ColorChoice, ConfigArgs, FailOn, Format};
use crate::output::{print, use_color};
use anyhow::Context;
use lockgraph_cli::baseline::Baseline;
use lockgraph_cli::config::{self, Config, ConfigError, FailThreshold, PathGlobs};
use lockgraph_cli::diffbase;
use lockgraph_cli::discover::Filter;
use lockgraph_cli::pipeline::{EngineSpec, GroupSpec, LoadOptions, load};
use lockgraph_core::{Finding, Severity};
use lockgraph_report::{GraphView, Report, TextOptions};
use lockgraph_rules::{Analysis, CheckOptions};
use lockgraph_source::SourceOptions;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Runs the check; returns the exit code.
///
/// Order of work: configuration (flags over the file over defaults) → load → rules → severity
/// overrides → `--write-baseline` (every finding) → `--baseline` and `--diff-base` filters →
/// report → exit code over what is reported.
pub fn run(args: &CheckArgs, color: ColorChoice) -> anyhow::Result<u8> {
    let config = match config_for(&args.config, &args.paths) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let rules = RuleSettings::new(config.as_ref(), &args.select, &args.ignore, args.fail_on)?;
    let load_opts = load_options(args, config.as_ref())?;
    let mut loaded = load(&args.paths, &load_opts);
    if let Some(store) = &args.store {
        crate::store::add_production(store, &mut loaded.transactions)?;
    }
    for e in &loaded.errors {
        eprintln!("lockgraph: error: {e}");
    }
    for w in &loaded.warnings {
        eprintln!("lockgraph: warning: {w}");
    }

    let analysis = Analysis::new(
        &loaded.transactions,
        &loaded.diagnostics,
        &loaded.schema,
        &loaded.statements,
        rules.options(args.show_literals),
    )
    .with_suppressions(&loaded.suppressions)
    .with_sqlite(&loaded.sqlite);
    let mut findings = rules.check(&analysis);

    if let Some(path) = &args.write_baseline {
        Baseline::from_findings(&findings).write(path)?;
        eprintln!(
            "lockgraph: wrote {} finding{} to the baseline {}",
            findings.len(),
            if findings.len() == 1 { "" } else { "s" },
            path.display()
        );
    }
    if let Some(path) = &args.baseline {
        let baseline = Baseline::read(path)?;
        let stale = baseline.filter(&mut findings);
        if stale > 0 {
            eprintln!(
                "lockgraph: note: {stale} baseline entr{} of {} no longer match a finding (fixed?); --write-baseline rewrites it",
                if stale == 1 { "y" } else { "ies" },
                path.display()
            );
        }
    }
    if let Some(rev) = &args.diff_base {
        let cwd = std::env::current_dir().context("cannot read the working directory")?;
        let first = args
            .paths
            .first()
            .map(|p| cwd.join(p))
            .unwrap_or(cwd.clone());
        let dir = if first.is_dir() {
            first
        } else {
            first
                .parent()
                .map(std::path::Path::to_path_buf)
                .unwrap_or(cwd.clone())
        };
        let changed = diffbase::changed_lines(rev, &dir, &cwd)?;
        findings.retain(|f| changed.involves(f));
    }

    if let Some(dir) = &args.emit_repro {
        emit_repros(dir, &findings)?;
    }

    let graph = GraphView::build(&analysis.graph, &loaded.transactions, &findings);
    // Snippets quote the files' lines: their literals are hidden like the statements'.
    let redacted;
    let sources = if args.show_literals {
        &loaded.sources
    } else {
        redacted = loaded.sources.map(|path, text| {
            let lang = lockgraph_source::Lang::of(std::path::Path::new(path));
            lockgraph_sql::redact_source(text, lang.map(|l| l.comment_marker()))
        });
        &redacted
    };
    let report = Report {
        findings: &findings,
        graph: &graph,
        sources,
        transactions: loaded.transactions.len() + loaded.sqlite.transactions.len(),
        files: loaded.files,
    };
    emit(args.format, &report, color, "")?;

    if !loaded.errors.is_empty() {
        return Ok(2);
    }
    if args.write_baseline.is_some() {
        return Ok(0);
    }
    Ok(u8::from(rules.fails(&findings)))
}

/// How files are read: each flag given on the command line replaces the configuration's value.
fn load_options(args: &CheckArgs, config: Option<&Config>) -> anyhow::Result<LoadOptions> {
    let mut opts = LoadOptions {
        file_transaction: args.file_transaction.clone(),
        migration_transactions: !args.no_migration_transactions,
        filter: Filter::new(&args.include, &args.exclude).map_err(anyhow::Error::msg)?,
        source: SourceOptions {
            max_call_depth: args.max_call_depth,
            ..SourceOptions::default()
        },
        engine: args.engine,
        ..LoadOptions::default()
    };
    let Some(config) = config else {
        return Ok(opts);
    };
    let base = Some(config.base.as_path());
    let globs = |g: &[String]| -> anyhow::Result<Option<PathGlobs>> {
        if g.is_empty() {
            return Ok(None);
        }
        PathGlobs::new(g, base)
            .map(Some)
            .map_err(anyhow::Error::msg)
    };
    if args.include.is_empty() {
        opts.config_filter.include = globs(&config.include)?;
    }
    if args.exclude.is_empty() {
        opts.config_filter.exclude = globs(&config.exclude)?;
    }
    if args.file_transaction.is_empty() {
        opts.file_transaction = config.file_transaction.clone();
    }
    if !args.no_migration_transactions {
        opts.migration_transactions = config.migration_transactions.unwrap_or(true);
    }
    opts.schema = config.schema.clone();
    for g in &config.groups {
        opts.groups.push(GroupSpec {
            name: Arc::from(g.name.as_str()),
            paths: PathGlobs::new(&g.paths, base).map_err(anyhow::Error::msg)?,
            concurrent: g.concurrent,
        });
    }
    opts.engine = args.engine.or(config.engine);
    for e in &config.engines {
        opts.engines.push(EngineSpec {
            paths: PathGlobs::new(&e.paths, base).map_err(anyhow::Error::msg)?,
            engine: e.engine,
        });
    }
    Ok(opts)
}

/// The configuration of a run whose inputs are `inputs`: the `--config` file, none with
/// `--no-config`, else the discovered one. Problems are printed (every one, pointing into the
/// file) and `Err` carries the exit code, 2.
pub(crate) fn config_for(args: &ConfigArgs, inputs: &[PathBuf]) -> Result<Option<Config>, u8> {
    if args.no_config {
        return Ok(None);
    }
    let fail = |e: ConfigError| {
        match e {
            ConfigError::Invalid(diagnostics) => {
                for d in diagnostics {
                    eprintln!("lockgraph: error: {d}");
                }
            }
            other => eprintln!("lockgraph: error: {other}"),
        }
        2
    };
    let cwd = match std::env::current_dir() {
        Ok(cwd) => cwd,
        Err(e) => {
            eprintln!("lockgraph: error: cannot read the working directory: {e}");
            return Err(2);
        }
    };
    let path = match &args.path {
        Some(p) => p.clone(),
        None => match config::find(&cwd, inputs) {
            Ok(Some(p)) => p,
            Ok(None) => return Ok(None),
            Err(e) => return Err(fail(e)),
        },
    };
    config::load(&path, &cwd).map(Some).map_err(fail)
}

/// What the rules do in a run: which run, with which severities, and which findings fail it —
/// command-line flags over the configuration file over defaults. Shared by `check`, `logs` and
/// `live`.
#[derive(Debug, Clone)]
pub(crate) struct RuleSettings {
    /// Rule codes to run.
    pub selected: Vec<&'static str>,
    /// Severity overrides by code (`[severity]`).
    pub severity: BTreeMap<&'static str, Severity>,
    /// Which findings make the exit code 1.
    pub fail_on: FailThreshold,
    /// The declared lock order (LG104).
    pub order: Vec<String>,
}

impl RuleSettings {
    /// Resolves the settings; an unknown rule on the command line is an error.
    pub fn new(
        config: Option<&Config>,
        select: &[String],
        ignore: &[String],
        fail_on: Option<FailOn>,
    ) -> anyhow::Result<RuleSettings> {
        let from_config = |codes: &[&'static str]| codes.iter().map(|c| c.to_string()).collect();
        let select: Vec<String> = match config {
            Some(c) if select.is_empty() => from_config(&c.select),
            _ => select.to_vec(),
        };
        let ignore: Vec<String> = match config {
            Some(c) if ignore.is_empty() => from_config(&c.ignore),
            _ => ignore.to_vec(),
        };
        let fail_on = match fail_on {
            Some(FailOn::Error) => FailThreshold::At(Severity::Error),
            Some(FailOn::Warning) => FailThreshold::At(Severity::Warning),
            Some(FailOn::Info) => FailThreshold::At(Severity::Info),
            Some(FailOn::Never) => FailThreshold::Never,
            None => config
                .and_then(|c| c.fail_on)
                .unwrap_or(FailThreshold::At(Severity::Error)),
        };
        Ok(RuleSettings {
            selected: selected_rules(&select, &ignore)?,
            severity: config.map(|c| c.severity.clone()).unwrap_or_default(),
            fail_on,
            order: config.map(|c| c.order.clone()).unwrap_or_default(),
        })
    }

    /// The options rules read.
    pub fn options(&self, show_literals: bool) -> CheckOptions {
        CheckOptions {
            show_literals,
            declared_order: self.order.clone(),
            ..CheckOptions::default()
        }
    }

    /// Runs the selected rules and applies the severity overrides.
    pub fn check(&self, analysis: &Analysis<'_>) -> Vec<Finding> {
        let mut findings = lockgraph_rules::check(analysis, &self.selected);
        self.apply_severity(&mut findings);
        findings
    }

    /// Applies the severity overrides to findings made elsewhere.
    pub fn apply_severity(&self, findings: &mut [Finding]) {
        for f in findings {
            if let Some(s) = self.severity.get(f.code) {
                f.severity = *s;
            }
        }
    }

    /// Whether the findings make the exit code 1.
    pub fn fails(&self, findings: &[Finding]) -> bool {
        self.fail_on.reached_by(findings)
    }
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
        Format::Sarif => lockgraph_report::render_sarif(report),
        Format::Github => lockgraph_report::render_github(report),
        Format::Gitlab => lockgraph_report::render_gitlab(report),
        Format::Junit => lockgraph_report::render_junit(report),
        Format::Html => lockgraph_report::render_html(&lockgraph_report::HtmlInput::new(
            "lockgraph check",
            report,
        )),
    }
}

fn emit_repros(dir: &std::path::Path, findings: &[Finding]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for f in findings {
        if let Some(repro) = &f.repro {
            let path = dir.join(format!("{}-{}.sql", f.code, f.fingerprint.to_hex()));
            let header = format!("-- {} {}: {}\n", f.code, f.name, f.message);
            // Each script names its engine (`-- engine: …`): `lockgraph repro` picks the runner
            // by it and refuses a URL of the other server.
            let script = match repro.engine {
                lockgraph_core::Engine::Mysql => lockgraph_mysql::format_script(repro),
                lockgraph_core::Engine::Postgres | lockgraph_core::Engine::Sqlite => {
                    lockgraph_pg::format_script(repro)
                }
            };
            std::fs::write(&path, header + &script)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    Ok(())
}
