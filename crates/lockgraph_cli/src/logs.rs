//! `lockgraph logs`: server logs → transactions per session, deadlock reports, lock waits →
//! the same rules as `check` (LG1xx predicted from observed orders, LG401 for reported
//! deadlocks) → report → exit code.

use crate::args::{ColorChoice, Format, LogFormatArg, LogsArgs};
use crate::check::{RuleSettings, config_for, emit};
use lockgraph_cli::pipeline::{LoadOptions, load};
use lockgraph_logs::{LogAnalyzer, LogFormat, LogOptions};
use lockgraph_report::{GraphView, Report, Sources};
use lockgraph_rules::Analysis;
use std::io::{BufRead, IsTerminal, Read};

/// Runs the log analysis; returns the exit code.
pub fn run(args: &LogsArgs, color: ColorChoice) -> anyhow::Result<u8> {
    let config = match config_for(&args.config, &args.files) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let settings = RuleSettings::new(config.as_ref(), &args.select, &args.ignore, args.fail_on)?;
    // `--schema` replaces the configuration's `schema`.
    let schema_paths = match &config {
        Some(c) if args.schema.is_empty() => c.schema.clone(),
        _ => args.schema.clone(),
    };
    let schema = if schema_paths.is_empty() {
        lockgraph_core::Schema::default()
    } else {
        let loaded = load(&schema_paths, &LoadOptions::default());
        for e in &loaded.errors {
            eprintln!("lockgraph: error: {e}");
        }
        loaded.schema
    };
    let opts = LogOptions {
        format: args.log_format.map(|f| match f {
            LogFormatArg::Stderr => LogFormat::Stderr,
            LogFormatArg::Csv => LogFormat::Csv,
            LogFormatArg::Json => LogFormat::Json,
            LogFormatArg::Innodb => LogFormat::InnoDb,
        }),
        prefix: args.prefix.clone(),
        ..LogOptions::default()
    };
    if let Some(store) = &args.store {
        return crate::store::logs(args, color, store, opts, &schema, &settings);
    }
    let mut analyzer = LogAnalyzer::new(opts, schema.clone());
    let mut input_error = false;
    let progress = !args.no_progress && std::io::stderr().is_terminal();
    for path in lockgraph_logs::order_inputs(args.files.clone()) {
        let name = path.to_string_lossy().into_owned();
        let reader = match lockgraph_logs::open_input(&path) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("lockgraph: error: {name}: {e}");
                input_error = true;
                continue;
            }
        };
        let total = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let result = if progress {
            let bar = indicatif::ProgressBar::new(total).with_style(
                indicatif::ProgressStyle::with_template(
                    "{msg} {wide_bar} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.set_message(name.clone());
            let counted = std::io::BufReader::with_capacity(
                1 << 20,
                Counting {
                    inner: reader,
                    bar: bar.clone(),
                },
            );
            let r = analyzer.feed(&name, counted);
            bar.finish_and_clear();
            r
        } else {
            analyzer.feed(&name, reader)
        };
        if let Err(e) = result {
            eprintln!("lockgraph: error: {name}: {e}");
            input_error = true;
        }
    }
    let mut analysis = analyzer.finish();
    if let Some(url) = &args.url
        && !name_from_catalog(url, &mut analysis)
    {
        input_error = true;
    }
    for w in &analysis.warnings {
        eprintln!("lockgraph: warning: {}: {}", w.location, w.message);
    }
    let stored = analysis.warnings.len() as u64;
    let total_warnings = analysis.stats.warnings_total();
    if total_warnings > stored {
        eprintln!(
            "lockgraph: warning: {} more warnings not shown",
            total_warnings - stored
        );
    }

    let options = settings.options(args.show_literals);
    let rules = Analysis::new(
        &analysis.transactions,
        &analysis.diagnostics,
        &schema,
        &[],
        options,
    )
    .with_deadlocks(&analysis.deadlocks);
    let mut findings = settings.check(&rules);
    if schema_paths.is_empty() {
        // Without the DDL a reproduction cannot create the tables: do not offer one.
        for f in &mut findings {
            f.repro = None;
        }
    }
    let graph = GraphView::build(&rules.graph, &analysis.transactions, &findings);
    let sources = Sources::default();
    let report = Report {
        findings: &findings,
        graph: &graph,
        sources: &sources,
        // Transactions that took a lock: those of the kept shapes and the folded ones.
        transactions: (analysis.shape_counts.iter().sum::<u64>()
            + analysis.stats.folded_transactions) as usize,
        files: args.files.len(),
    };
    let trailer = if args.format == Format::Text {
        lock_wait_summary(&analysis.lock_waits, &analysis.stats)
    } else {
        String::new()
    };
    if args.format == Format::Html {
        let blockers = lockgraph_logs::root_blockers(&analysis.lock_waits);
        let mut input = lockgraph_report::HtmlInput::new("lockgraph logs", &report);
        input.deadlocks = &analysis.deadlocks;
        input.lock_waits = &analysis.lock_waits;
        input.lock_waits_total = analysis.stats.lock_waits;
        input.root_blockers = &blockers;
        crate::output::print(&lockgraph_report::render_html(&input))?;
    } else {
        emit(args.format, &report, color, &trailer)?;
    }
    if input_error {
        return Ok(2);
    }
    Ok(u8::from(settings.fails(&findings)))
}

/// Names the relation OIDs the log left unnamed from the server's `pg_class`. Problems are
/// printed; returns false when the look-up failed.
fn name_from_catalog(url: &str, analysis: &mut lockgraph_logs::LogAnalysis) -> bool {
    let unnamed = analysis.unnamed_relations();
    if unnamed.is_empty() {
        return true;
    }
    let spec = match lockgraph_pg::ConnectionSpec::parse(url) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("lockgraph: error: --url: {e}");
            return false;
        }
    };
    match lockgraph_pg::relation_names_blocking(&spec, &unnamed) {
        Ok(found) => {
            let names: Vec<((u32, u32), lockgraph_core::RelationName)> = found
                .found
                .iter()
                .map(|(rel, db, schema, name)| {
                    (
                        (*rel, *db),
                        lockgraph_core::RelationName::from_parts([
                            (schema.as_str(), true),
                            (name.as_str(), true),
                        ]),
                    )
                })
                .collect();
            analysis.name_relations(&names);
            let list = |oids: &[(u32, u32)]| {
                oids.iter()
                    .map(|(r, d)| format!("{r} (database {d})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            if !found.other_database.is_empty() {
                eprintln!(
                    "lockgraph: warning: --url: relations {} belong to another database than {} (OID {}): connect to it to name them",
                    list(&found.other_database),
                    spec.dbname(),
                    found.database
                );
            }
            if !found.missing.is_empty() {
                eprintln!(
                    "lockgraph: warning: --url: relations {} are not in pg_class (dropped since the log was written?)",
                    list(&found.missing)
                );
            }
            true
        }
        Err(e) => {
            eprintln!("lockgraph: error: --url {spec}: {e}");
            false
        }
    }
}

/// Root blockers and the worst waits, for the text report.
pub(crate) fn lock_wait_summary(
    waits: &[lockgraph_core::LockWait],
    stats: &lockgraph_logs::LogStats,
) -> String {
    if waits.is_empty() {
        return String::new();
    }
    let mut out = format!("\nlock waits: {}\n", stats.lock_waits);
    if stats.lock_waits_dropped > 0 {
        out.push_str(&format!(
            "  (the {} longest are kept; root blockers and the worst waits are among them)\n",
            waits.len()
        ));
    }
    for (pid, behind) in lockgraph_logs::root_blockers(waits).into_iter().take(5) {
        out.push_str(&format!(
            "  root blocker: process {pid} ({behind} waiting behind it)\n"
        ));
    }
    let mut worst: Vec<&lockgraph_core::LockWait> = waits.iter().collect();
    worst.sort_by(|a, b| b.waited_ms.total_cmp(&a.waited_ms));
    for w in worst.into_iter().take(5) {
        let on = w
            .relation
            .as_ref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {}: process {} waited {:.0} ms for {} on {}{on}, outcome {:?}\n",
            w.location, w.waiter, w.waited_ms, w.mode, w.target, w.outcome
        ));
    }
    out
}

/// A reader that advances a progress bar by the bytes it reads.
struct Counting<R> {
    inner: R,
    bar: indicatif::ProgressBar,
}

impl<R: BufRead> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}
