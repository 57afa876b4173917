//! `lockgraph live`: one read-only look at a server's `pg_locks` and `pg_stat_activity` —
//! blocking trees with their root, cycles, queues behind `ACCESS EXCLUSIVE`, advisory locks —
//! and the live rules (LG402–LG405) over it. `--watch` repeats it, and with `--report` ends with
//! the lock-order findings (LG1xx) of the transactions it followed. `--save` writes the snapshot
//! as JSON; `--snapshot FILE` analyses a saved one without a server. `--watch --store` writes
//! each sample's summary and the transactions followed into the history store, one SQLite
//! transaction per sample (`crate::store::live_shapes`, `lockgraph_store::Store::add_live`).

use crate::args::{ColorChoice, FailOn, Format};
use crate::check::{RuleSettings, config_for, render};
use anyhow::Context;
use lockgraph_cli::learn::Learner;
use lockgraph_cli::pipeline::{LoadOptions, load};
use lockgraph_core::{Finding, LockSnapshot, Schema};
use lockgraph_graph::WaitGraph;
use lockgraph_pg::{ConnectionSpec, InspectOptions, WatchEvent, WatchLimits};
use lockgraph_report::{GraphView, Report, Sources};
use lockgraph_rules::{Analysis, CheckOptions};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

/// Options of `lockgraph live`.
#[derive(Debug, clap::Args)]
pub struct LiveArgs {
    /// Connection string or URL of the server to inspect (else DATABASE_URL, else the PG*
    /// environment variables); a `mysql://` or `mariadb://` URL inspects InnoDB's lock waits.
    /// The session is read-only with short timeouts.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub url: Option<String>,
    /// Analyse a snapshot saved with `--save` instead of connecting.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["url", "watch"])]
    pub snapshot: Option<PathBuf>,
    /// Write the snapshot as JSON (literals redacted unless --show-literals); with --watch, the
    /// last one.
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// Keep looking: a new snapshot every INTERVAL (`2s`, `500ms`; default 2s) until Ctrl-C.
    #[arg(long, value_name = "INTERVAL", num_args = 0..=1, default_missing_value = "2s", value_parser = parse_duration)]
    pub watch: Option<Duration>,
    /// With --watch: stop after N snapshots.
    #[arg(long, value_name = "N", requires = "watch")]
    pub count: Option<u64>,
    /// With --watch: stop after this long (`30s`, `5m`).
    #[arg(long, value_name = "DURATION", requires = "watch", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// With --watch: at the end, report the lock-order findings (LG1xx) of the transactions
    /// seen, and every live finding seen on the way.
    #[arg(long, requires = "watch")]
    pub report: bool,
    /// With --watch: write into this history store (default without a value:
    /// `lockgraph/history.sqlite` in the user's data directory) each sample's summary and the
    /// transactions followed, as shapes `report --store` and `check --store` read. See
    /// docs/store.md.
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "", requires = "watch")]
    pub store: Option<PathBuf>,
    /// SQL files or directories (schema, migrations) giving keys and foreign keys for the
    /// statements learned in --watch.
    #[arg(long, value_name = "PATH")]
    pub schema: Vec<PathBuf>,
    /// Output format (dot and mermaid draw the wait-for graph).
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Lowest severity that makes the exit code 1 [default: `fail-on` of the configuration file,
    /// else error].
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// Only run these rules (codes or names, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Skip these rules (codes or names, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Show SQL literals of the sessions' queries (redacted by default).
    #[arg(long)]
    pub show_literals: bool,
    /// Go on when the role cannot see other sessions' queries and states (the analysis is then
    /// partial); by default that is an error.
    #[arg(long)]
    pub allow_partial: bool,
    /// Configuration file options.
    #[command(flatten)]
    pub config: crate::args::ConfigArgs,
}

/// `2s`, `500ms`, `5m`, `1h`, or plain seconds (`1.5`).
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| c.is_ascii_alphabetic())
        .map_or((s, "s"), |i| (&s[..i], &s[i..]));
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (try 2s, 500ms, 5m)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (ms, s, m, h)")),
    };
    if !(secs > 0.0 && secs.is_finite()) {
        return Err(format!("`{s}` must be positive"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Runs `live`; returns the exit code.
pub fn run(args: &LiveArgs, color: ColorChoice) -> anyhow::Result<u8> {
    let inputs: Vec<PathBuf> = args.snapshot.iter().cloned().collect();
    let config = match config_for(&args.config, &inputs) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let selected = RuleSettings::new(config.as_ref(), &args.select, &args.ignore, args.fail_on)?;
    if let Some(path) = &args.snapshot {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let snapshot: LockSnapshot = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a lockgraph snapshot", path.display()))?;
        let findings = live_findings(&snapshot, &selected, args.show_literals);
        return one(args, &snapshot, &findings, &selected, color);
    }
    if let Some(url) = args
        .url
        .as_deref()
        .filter(|u| lockgraph_mysql::is_mysql_url(u))
    {
        return mysql(args, url, &selected, color);
    }
    let spec = connection(args)?;
    match args.watch {
        None => {
            let mut snapshot = lockgraph_pg::snapshot_blocking(&spec)?;
            prepare(args, &mut snapshot)?;
            let findings = live_findings(&snapshot, &selected, args.show_literals);
            one(args, &snapshot, &findings, &selected, color)
        }
        Some(interval) => watch(args, &spec, interval, &selected, color),
    }
}

/// `--url mysql://…` or `mariadb://…`: one snapshot of InnoDB's lock waits
/// (`lockgraph_mysql`), shown and checked like a PostgreSQL one.
fn mysql(
    args: &LiveArgs,
    url: &str,
    selected: &RuleSettings,
    color: ColorChoice,
) -> anyhow::Result<u8> {
    if args.watch.is_some() {
        anyhow::bail!(
            "--watch is PostgreSQL-only; with a MySQL/MariaDB URL `lockgraph live` takes one \
             snapshot (run it again to look again)"
        );
    }
    let mut snapshot = lockgraph_mysql::snapshot(url)?;
    prepare(args, &mut snapshot)?;
    let findings = live_findings(&snapshot, selected, args.show_literals);
    one(args, &snapshot, &findings, selected, color)
}

fn connection(args: &LiveArgs) -> anyhow::Result<ConnectionSpec> {
    Ok(ConnectionSpec::resolve(args.url.as_deref())?)
}

/// Checks visibility, redacts, saves.
fn prepare(args: &LiveArgs, snapshot: &mut LockSnapshot) -> anyhow::Result<()> {
    check_visible(args, snapshot)?;
    if !args.show_literals {
        let redact = match snapshot.engine {
            lockgraph_core::Engine::Mysql => lockgraph_sql::redact_mysql,
            lockgraph_core::Engine::Postgres | lockgraph_core::Engine::Sqlite => {
                lockgraph_sql::redact
            }
        };
        for b in &mut snapshot.backends {
            if let Some(q) = &b.query {
                b.query = Some(redact(q));
            }
        }
    }
    if let Some(path) = &args.save {
        let json = serde_json::to_string_pretty(&*snapshot)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Fails when the role cannot see other roles' sessions, unless --allow-partial.
fn check_visible(args: &LiveArgs, snapshot: &LockSnapshot) -> anyhow::Result<()> {
    let hidden = snapshot.hidden_sessions;
    if hidden > 0 && !args.allow_partial {
        anyhow::bail!(
            "this role cannot see the state and queries of {hidden} other session{} \
             (grant it pg_read_all_stats or pg_monitor, or connect as a superuser; \
             --allow-partial analyses what is visible)",
            if hidden == 1 { "" } else { "s" }
        );
    }
    Ok(())
}

/// The live findings of one snapshot.
fn live_findings(
    snapshot: &LockSnapshot,
    selected: &RuleSettings,
    show_literals: bool,
) -> Vec<Finding> {
    let schema = Schema::default();
    let analysis = Analysis::new(
        &[],
        &[],
        &schema,
        &[],
        CheckOptions {
            show_literals,
            ..CheckOptions::default()
        },
    )
    .with_snapshot(snapshot);
    selected.check(&analysis)
}

/// Prints one snapshot with its findings (from [`live_findings`]); returns the exit code.
fn one(
    args: &LiveArgs,
    snapshot: &LockSnapshot,
    findings: &[Finding],
    selected: &RuleSettings,
    color: ColorChoice,
) -> anyhow::Result<u8> {
    let waits = WaitGraph::build(snapshot);
    let graph = GraphView::default();
    let sources = Sources::default();
    let report = Report {
        findings,
        graph: &graph,
        sources: &sources,
        transactions: 0,
        files: 0,
    };
    let out = match args.format {
        Format::Text => {
            let mut text = lockgraph_report::render_waits_text(&waits);
            if !findings.is_empty() {
                text.push('\n');
                text.push_str(&render(Format::Text, &report, color));
            }
            text
        }
        Format::Json => {
            let mut v: serde_json::Value =
                serde_json::from_str(&lockgraph_report::render_json(&report))?;
            v["live"] = lockgraph_report::waits_json(&waits);
            serde_json::to_string_pretty(&v)? + "\n"
        }
        Format::Dot => lockgraph_report::render_waits_dot(&waits),
        Format::Mermaid => lockgraph_report::render_waits_mermaid(&waits),
        // CI formats carry the findings only; the wait-for graph has no place in them.
        Format::Sarif | Format::Github | Format::Gitlab | Format::Junit | Format::Html => {
            render(args.format, &report, color)
        }
    };
    crate::output::print(&out)?;
    Ok(u8::from(selected.fails(findings)))
}

fn watch(
    args: &LiveArgs,
    spec: &ConnectionSpec,
    interval: Duration,
    selected: &RuleSettings,
    color: ColorChoice,
) -> anyhow::Result<u8> {
    let schema = if args.schema.is_empty() {
        Schema::default()
    } else {
        let loaded = load(&args.schema, &LoadOptions::default());
        for e in &loaded.errors {
            eprintln!("lockgraph: error: {e}");
        }
        loaded.schema
    };
    let mut learner = Learner::new(schema.clone());
    let mut store = match &args.store {
        Some(p) => {
            let path = crate::store::resolve(p)?;
            learner.keep_finished = true;
            Some(lockgraph_store::Store::open(&path)?)
        }
        None => None,
    };
    // (origin, taken_at) of the last sample, for what the end of the watch finishes.
    let mut last_sample: Option<(String, String)> = None;
    let mut seen: Vec<Finding> = Vec::new();
    let redraw = std::io::stdout().is_terminal() && args.format == Format::Text && !args.report;
    let mut limits = WatchLimits::every(interval);
    limits.count = args.count;
    limits.duration = args.duration;
    let mut failure: Option<anyhow::Error> = None;
    let end = lockgraph_pg::watch_blocking(spec, InspectOptions::default(), &limits, |event| {
        match event {
            WatchEvent::Snapshot { n, snapshot } => {
                if let Err(e) = check_visible(args, snapshot) {
                    failure = Some(e);
                    return false;
                }
                // Learned statements keep their literals (keys tell rows apart); findings show
                // them redacted unless --show-literals.
                learner.observe(snapshot);
                if let Some(st) = store.as_mut() {
                    let origin = crate::store::live_origin(&snapshot.server);
                    let batch = lockgraph_store::LiveBatch {
                        source: origin.clone(),
                        samples: vec![(snapshot.taken_at.clone(), sample_summary(snapshot))],
                        shapes: crate::store::live_shapes(
                            &origin,
                            &snapshot.taken_at,
                            learner.take_finished(),
                        ),
                    };
                    if let Err(e) = st.add_live(&batch) {
                        failure = Some(e.into());
                        return false;
                    }
                    last_sample = Some((origin, snapshot.taken_at.clone()));
                }
                let mut snapshot = snapshot.clone();
                if let Err(e) = prepare(args, &mut snapshot) {
                    failure = Some(e);
                    return false;
                }
                let findings = live_findings(&snapshot, selected, args.show_literals);
                for f in &findings {
                    if !seen.iter().any(|s| s.fingerprint == f.fingerprint) {
                        seen.push(f.clone());
                    }
                }
                if !args.report {
                    if redraw {
                        print!("\x1b[2J\x1b[H");
                    } else if n > 1 {
                        println!("\n---");
                    }
                    if let Err(e) = one(args, &snapshot, &findings, selected, color) {
                        failure = Some(e);
                        return false;
                    }
                }
                true
            }
            WatchEvent::Reconnecting {
                attempt,
                error,
                delay,
            } => {
                if attempt == 0 {
                    eprintln!("lockgraph: connection lost ({error}); reconnecting");
                } else {
                    eprintln!(
                        "lockgraph: reconnect attempt {attempt} failed ({error}); retrying in {} ms",
                        delay.as_millis()
                    );
                }
                true
            }
            _ => true,
        }
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    if end == lockgraph_pg::WatchEnd::Interrupted {
        eprintln!("lockgraph: interrupted; stopping");
    }
    // The transactions still open when the watch ended are stored as they were last seen.
    if let (Some(st), Some((origin, at))) = (store.as_mut(), &last_sample) {
        learner.finish_open();
        let shapes = crate::store::live_shapes(origin, at, learner.take_finished());
        if !shapes.is_empty() {
            st.add_live(&lockgraph_store::LiveBatch {
                source: origin.clone(),
                samples: Vec::new(),
                shapes,
            })?;
        }
    }
    if !args.report {
        return Ok(u8::from(selected.fails(&seen)));
    }
    let samples = learner.samples;
    let transactions = learner.finish_all();
    let options = selected.options(args.show_literals);
    let analysis = Analysis::new(&transactions, &[], &schema, &[], options);
    let mut findings = selected.check(&analysis);
    findings.extend(seen);
    let graph = GraphView::build(&analysis.graph, &transactions, &findings);
    let sources = Sources::default();
    let report = Report {
        findings: &findings,
        graph: &graph,
        sources: &sources,
        transactions: transactions.len(),
        files: 0,
    };
    crate::check::emit(
        args.format,
        &report,
        color,
        &format!(
            "\nwatched {samples} snapshot{} and followed {} transaction{}\n",
            if samples == 1 { "" } else { "s" },
            transactions.len(),
            if transactions.len() == 1 { "" } else { "s" }
        ),
    )?;
    Ok(u8::from(selected.fails(&findings)))
}

/// What the store keeps of one sample (`live_samples`): counts, no SQL text.
fn sample_summary(snapshot: &LockSnapshot) -> serde_json::Value {
    let waits = WaitGraph::build(snapshot);
    let sessions = snapshot
        .backends
        .iter()
        .filter(|b| b.backend_type == "client backend" && b.pid != snapshot.own_pid)
        .count();
    let mut waiting: Vec<u32> = waits.edges.iter().map(|e| e.waiter).collect();
    waiting.sort_unstable();
    waiting.dedup();
    let hard = waits
        .edges
        .iter()
        .filter(|e| e.kind == lockgraph_graph::WaitKind::Hard)
        .count();
    let cycles = waits.cycles();
    serde_json::json!({
        "taken_at": snapshot.taken_at,
        "server": snapshot.server,
        "sessions": sessions,
        "waiting_sessions": waiting.len(),
        "hard_wait_edges": hard,
        "soft_wait_edges": waits.edges.len() - hard,
        "root_blockers": waits.roots(),
        "deadlock_in_progress": !cycles.is_empty(),
        "wait_cycles": cycles.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("2 parsecs").is_err());
    }
}
