//! `lockgraph report --store F`: everything the history store holds → the same rules as
//! `logs --store` → one self-contained HTML page (graph, findings, deadlock signatures with
//! every occurrence on the timeline, top blockers, new and resolved signatures between two
//! windows), the graph alone (DOT, Mermaid) or the JSON contract.
//!
//! Windows: the later one is the last `--window` before the newest deadlock occurrence, the
//! earlier one the `--window` before it. A signature is *new* when it occurs in the later window
//! and never before it, *resolved* when it occurs in the earlier window and not since.

use crate::args::{ColorChoice, ConfigArgs, Format};
use crate::check::{RuleSettings, config_for, render};
use anyhow::Context;
use lockgraph_core::{ObservedDeadlock, Transaction};
use lockgraph_report::{
    GraphView, HtmlInput, Report, SignatureChange, Sources, TimeWindow, WindowComparison,
};
use lockgraph_rules::Analysis;
use lockgraph_store::{Store, StoredDeadlock};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Options of `lockgraph report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The history store (filled by `logs --store`, or by `merge`).
    #[arg(long, value_name = "FILE")]
    pub store: PathBuf,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Output: the HTML page, the lock-order graph alone (dot, mermaid) or JSON (docs/json.md).
    #[arg(long, short = 'f', value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// Length of the two windows compared for new and resolved deadlock signatures (`7d`,
    /// `12h`, `1w`).
    #[arg(long, value_name = "DURATION", default_value = "7d")]
    pub window: humantime::Duration,
    /// Only run these rules (codes or names, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Skip these rules (codes or names, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Configuration file options.
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// `report --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// One self-contained HTML page (docs/report.md).
    Html,
    /// The lock-order graph in Graphviz DOT.
    Dot,
    /// The lock-order graph as a Mermaid flowchart.
    Mermaid,
    /// Machine-readable JSON (docs/json.md).
    Json,
}

/// Runs the report; 0 when written, 2 on a missing store or an error.
pub fn run(args: &ReportArgs, color: ColorChoice) -> anyhow::Result<u8> {
    if !args.store.is_file() {
        eprintln!(
            "lockgraph: error: --store {}: no such store (fill it with `lockgraph logs --store` or `lockgraph merge`)",
            args.store.display()
        );
        return Ok(2);
    }
    let config = match config_for(&args.config, std::slice::from_ref(&args.store)) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let settings = RuleSettings::new(config.as_ref(), &args.select, &args.ignore, None)?;
    let st = Store::open(&args.store)?;
    if st.is_empty()? {
        eprintln!(
            "lockgraph: note: {}: the store is empty (no transaction shape, deadlock or lock wait yet)",
            args.store.display()
        );
    }
    let shapes = st.shapes()?;
    let transactions: Vec<Transaction> = shapes.iter().map(crate::store::production_tx).collect();
    let stored = st.deadlocks()?;
    let deadlocks: Vec<ObservedDeadlock> = stored.iter().map(|d| d.deadlock.clone()).collect();
    let schema = lockgraph_core::Schema::default();
    let rules = Analysis::new(&transactions, &[], &schema, &[], settings.options(false))
        .with_deadlocks(&deadlocks);
    let mut findings = settings.check(&rules);
    for f in &mut findings {
        // The store keeps no DDL: a reproduction could not create the tables.
        f.repro = None;
    }
    let graph = GraphView::build(&rules.graph, &transactions, &findings);
    let sources = Sources::default();
    let report = Report {
        findings: &findings,
        graph: &graph,
        sources: &sources,
        transactions: shapes.iter().map(|s| s.count).sum::<u64>() as usize,
        files: 0,
    };
    let text = match args.format {
        ReportFormat::Dot => render(Format::Dot, &report, color),
        ReportFormat::Mermaid => render(Format::Mermaid, &report, color),
        ReportFormat::Json => render(Format::Json, &report, color),
        ReportFormat::Html => {
            let waits = st.worst_waits()?;
            let waits_total: u64 = st.wait_stats()?.iter().map(|w| w.count).sum();
            let blockers = lockgraph_logs::root_blockers(&waits);
            let times: Vec<(usize, String)> = stored
                .iter()
                .enumerate()
                .flat_map(|(i, d)| {
                    d.occurrences
                        .iter()
                        .filter_map(move |(_, at)| at.clone().map(|at| (i, at)))
                })
                .collect();
            let windows = compare_windows(&stored, args.window.into());
            let title = format!("lockgraph report — {}", args.store.display());
            let mut input = HtmlInput::new(title, &report);
            input.deadlocks = &deadlocks;
            input.deadlock_times = &times;
            input.lock_waits = &waits;
            input.lock_waits_total = waits_total;
            input.root_blockers = &blockers;
            input.windows = windows.as_ref();
            lockgraph_report::render_html(&input)
        }
    };
    write_out(args.output.as_deref(), &text)?;
    Ok(0)
}

fn write_out(path: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match path {
        None => crate::output::print(text),
        Some(p) => std::fs::write(p, text).with_context(|| format!("cannot write {}", p.display())),
    }
}

/// Seconds since the epoch of a log timestamp (`2026-11-24 03:16:49.590 UTC`; the zone is
/// ignored, one fleet logs in one zone), and the zone text after it.
fn parse_time(s: &str) -> Option<(SystemTime, &str)> {
    let head = s.get(..19)?;
    let t = humantime::parse_rfc3339_weak(head).ok()?;
    let rest = s[19..].trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    Some((t, rest))
}

fn show(t: SystemTime, zone: &str) -> String {
    let text = humantime::format_rfc3339_seconds(t).to_string();
    format!("{}{zone}", text.trim_end_matches('Z').replacen('T', " ", 1))
}

/// The two windows before the newest occurrence and the signatures that differ; `None`
/// without any timestamped occurrence.
fn compare_windows(stored: &[StoredDeadlock], window: Duration) -> Option<WindowComparison> {
    let mut zone = "";
    let mut per_sig: Vec<Vec<SystemTime>> = Vec::with_capacity(stored.len());
    for d in stored {
        let mut times = Vec::new();
        for (_, at) in &d.occurrences {
            if let Some((t, z)) = at.as_deref().and_then(parse_time) {
                zone = z;
                times.push(t);
            }
        }
        per_sig.push(times);
    }
    let newest = per_sig.iter().flatten().max().copied()?;
    let later_from = newest.checked_sub(window).unwrap_or(UNIX_EPOCH);
    let earlier_from = later_from.checked_sub(window).unwrap_or(UNIX_EPOCH);
    let change = |d: &StoredDeadlock, times: &[SystemTime], from: SystemTime, to: SystemTime| {
        let inside: Vec<SystemTime> = times
            .iter()
            .copied()
            .filter(|t| *t >= from && *t <= to)
            .collect();
        SignatureChange {
            signature: d.deadlock.signature.to_hex(),
            relations: d
                .deadlock
                .relations
                .iter()
                .map(ToString::to_string)
                .collect(),
            count: inside.len() as u64,
            last_seen: inside.iter().max().map(|t| show(*t, zone)),
        }
    };
    let mut cmp = WindowComparison {
        earlier: TimeWindow {
            from: show(earlier_from, zone),
            to: show(later_from, zone),
        },
        later: TimeWindow {
            from: show(later_from, zone),
            to: show(newest, zone),
        },
        new: Vec::new(),
        resolved: Vec::new(),
    };
    for (d, times) in stored.iter().zip(&per_sig) {
        let in_later = times.iter().any(|t| *t >= later_from);
        let before_later = times.iter().any(|t| *t < later_from);
        let in_earlier = times.iter().any(|t| *t >= earlier_from && *t < later_from);
        if in_later && !before_later {
            cmp.new.push(change(d, times, later_from, newest));
        } else if in_earlier && !in_later {
            cmp.resolved.push(change(
                d,
                times,
                earlier_from,
                later_from - Duration::from_nanos(1),
            ));
        }
    }
    Some(cmp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_and_print_in_the_log_form() {
        let (t, zone) = parse_time("2026-11-24 03:16:49.590 UTC").unwrap();
        assert_eq!(zone, " UTC");
        assert_eq!(show(t, zone), "2026-11-24 03:16:49 UTC");
        assert!(parse_time("yesterday").is_none());
    }
}
