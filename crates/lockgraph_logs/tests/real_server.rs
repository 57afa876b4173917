//! The log parser against logs a real PostgreSQL server wrote.
//!
//! Two sources of logs, checked the same way:
//!
//! - **live**: once per test binary, a throwaway cluster (`tests/support/cluster.rs`) plays every
//!   scenario of `tests/support/scenarios.rs` with `log_statement = all` and all three log
//!   destinations, then plays the two-table cycle again under two other `log_line_prefix`es.
//!   Without PostgreSQL binaries these tests print a note and pass; under `CI=true` they fail.
//! - **committed**: the logs of such a run kept in `tests/data/real/` (no server needed).
//!   Regenerate them (and `samples/logs/`) with
//!   `LOCKGRAPH_REGENERATE_LOGS=1 cargo test -p lockgraph_logs --test real_server regenerate_real_logs`.
//!
//! Each log is cut into scenarios at the marker statements (`SELECT 'lockgraph-scenario:<name>'`)
//! and each piece is analysed on its own: one deadlock with the expected relations (names, also
//! where the report only has OIDs) and, per participant, its transaction's statements in order
//! ending with the one that waited; for the sequential run no deadlock but both transaction
//! shapes; for the lock-wait run the waits and how they ended.

mod support;

use lockgraph_core::{LockWait, ObservedDeadlock, Transaction, WaitOutcome};
use lockgraph_logs::{LogAnalyzer, LogFormat, LogOptions, open_input};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use support::scenarios::{self, Expected, Scenario};
use support::{OTHER_PREFIXES, Produced, ProducedLogs};

// ---------------------------------------------------------------------------------------------
// Where logs come from

/// Logs to check, from a fresh run or from the committed files.
struct Logs {
    /// `live` or `committed`, for messages.
    source: &'static str,
    prefix: String,
    stderr: String,
    csv: String,
    json: String,
    /// `(prefix, stderr log)`.
    other_prefixes: Vec<(String, String)>,
}

impl Logs {
    fn from_run(p: &ProducedLogs) -> Logs {
        Logs {
            source: "live",
            prefix: p.prefix.clone(),
            stderr: p.stderr.clone(),
            csv: p.csv.clone(),
            json: p.json.clone(),
            other_prefixes: p
                .other_prefixes
                .iter()
                .map(|o| (o.prefix.clone(), o.text.clone()))
                .collect(),
        }
    }

    fn committed() -> Logs {
        let read = |name: &str| {
            let path = data_dir().join(name);
            std::fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!(
                    "{}: {e}; regenerate with LOCKGRAPH_REGENERATE_LOGS=1 cargo test -p \
                     lockgraph_logs --test real_server regenerate_real_logs",
                    path.display()
                )
            })
        };
        Logs {
            source: "committed",
            prefix: support::cluster::DEFAULT_PREFIX.to_string(),
            stderr: read(STDERR_FILE),
            csv: read(CSV_FILE),
            json: read(JSON_FILE),
            other_prefixes: OTHER_PREFIXES
                .iter()
                .map(|(p, f)| (p.to_string(), read(f)))
                .collect(),
        }
    }

    fn text(&self, format: Format) -> &str {
        match format {
            Format::Stderr => &self.stderr,
            Format::Csv => &self.csv,
            Format::Json => &self.json,
        }
    }

    /// The prefix to configure for `format` (only stderr has one).
    fn prefix_for(&self, format: Format) -> Option<&str> {
        (format == Format::Stderr).then_some(self.prefix.as_str())
    }
}

const STDERR_FILE: &str = "pg15-stderr.log";
const CSV_FILE: &str = "pg15.csv";
const JSON_FILE: &str = "pg15.json";

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/real")
}

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/logs")
}

/// The fresh run, shared by every test of this binary.
static LIVE: OnceLock<Produced> = OnceLock::new();
static LIVE_LOGS: OnceLock<Option<Logs>> = OnceLock::new();

/// The fresh run's logs; `None` (after a note on stderr) when no cluster can start outside CI.
fn live(test: &str) -> Option<&'static Logs> {
    let logs = LIVE_LOGS.get_or_init(|| match LIVE.get_or_init(support::produce) {
        Produced::Ready(p) => Some(Logs::from_run(p)),
        _ => None,
    });
    match LIVE.get().expect("initialised above") {
        Produced::Ready(_) => logs.as_ref(),
        Produced::Unavailable(reason) => {
            support::cluster::skip_or_fail(test, reason);
            None
        }
        Produced::Failed(e) => panic!("{test}: the scenarios did not run as planned: {e}"),
    }
}

fn committed() -> &'static Logs {
    static COMMITTED: OnceLock<Logs> = OnceLock::new();
    COMMITTED.get_or_init(Logs::committed)
}

// ---------------------------------------------------------------------------------------------
// Running the parser

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Stderr,
    Csv,
    Json,
}

impl Format {
    fn log_format(self) -> LogFormat {
        match self {
            Format::Stderr => LogFormat::Stderr,
            Format::Csv => LogFormat::Csv,
            Format::Json => LogFormat::Json,
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Format::Stderr => "log",
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }
}

/// What the parser reported, taken out of its report.
struct Analysis {
    deadlocks: Vec<ObservedDeadlock>,
    transactions: Vec<Transaction>,
    shape_counts: Vec<u64>,
    lock_waits: Vec<LockWait>,
    warnings: usize,
}

/// Feeds `inputs` (`(file name, text)`, in order) to one analyzer, each through a file and
/// [`open_input`], as `lockgraph logs` reads files.
fn analyze(format: Option<Format>, prefix: Option<&str>, inputs: &[(&str, &[u8])]) -> Analysis {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut analyzer = LogAnalyzer::new(
        LogOptions {
            format: format.map(Format::log_format),
            prefix: prefix.map(str::to_string),
            max_open_transactions: 100_000,
            ..LogOptions::default()
        },
        lockgraph_core::Schema::default(),
    );
    for (name, bytes) in inputs {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("writing the input file");
        let input = open_input(&path).unwrap_or_else(|e| panic!("open_input({name}): {e}"));
        analyzer
            .feed(name, input)
            .unwrap_or_else(|e| panic!("feeding {name}: {e}"));
    }
    let report = analyzer.finish();
    Analysis {
        deadlocks: report.deadlocks,
        transactions: report.transactions,
        shape_counts: report.shape_counts,
        lock_waits: report.lock_waits,
        warnings: report.warnings.len(),
    }
}

fn scenario(name: &str) -> Scenario {
    scenarios::all()
        .into_iter()
        .chain([scenarios::two_table_cycle()])
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no scenario {name}"))
}

/// The piece of `log` from scenario `name`'s marker to the next marker.
fn piece(log: &str, name: &str) -> String {
    scenarios::split_by_marker(log)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, text)| text)
        .unwrap_or_else(|| panic!("no marker of scenario {name} in the log"))
}

// ---------------------------------------------------------------------------------------------
// Comparing

/// Whitespace collapsed, trailing `;` dropped.
fn norm(sql: &str) -> String {
    sql.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches(';')
        .trim_end()
        .to_string()
}

/// Numbers replaced by `?`: statements that differ only in numbers have one shape.
fn shape(sql: &str) -> String {
    let mut out = String::new();
    let mut in_number = false;
    for c in norm(sql).chars() {
        if c.is_ascii_digit() {
            if !in_number {
                out.push('?');
            }
            in_number = true;
        } else {
            out.push(c);
            in_number = false;
        }
    }
    out
}

fn is_transaction_control(sql: &str) -> bool {
    let first = sql
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_end_matches(';')
        .to_ascii_uppercase();
    matches!(
        first.as_str(),
        "BEGIN" | "START" | "COMMIT" | "ROLLBACK" | "END" | "ABORT"
    )
}

/// Statements without transaction control, normalized.
fn statements<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    texts
        .into_iter()
        .filter(|s| !is_transaction_control(s))
        .map(norm)
        .collect()
}

/// A relation name without schema and quotes: `"lockgraph_repro_1a2b"."authors"` → `authors`.
fn bare(name: &str) -> String {
    name.rsplit('.')
        .next()
        .unwrap_or(name)
        .trim_matches('"')
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// Checks per expectation

fn check_scenario(logs: &Logs, format: Format, name: &str) {
    let sc = scenario(name);
    let text = piece(logs.text(format), name);
    let file = format!("{name}.{}", format.extension());
    let an = analyze(
        Some(format),
        logs.prefix_for(format),
        &[(&file, text.as_bytes())],
    );
    let ctx = format!("{name}, {format:?}, {} log", logs.source);
    check_expected(&sc, &an, &ctx);
}

fn check_expected(sc: &Scenario, an: &Analysis, ctx: &str) {
    match &sc.expected {
        Expected::Deadlock { relations } => {
            assert_eq!(
                an.deadlocks.len(),
                1,
                "{ctx}: one deadlock expected, got {:#?} ({} warnings)",
                an.deadlocks,
                an.warnings
            );
            let d = &an.deadlocks[0];
            check_deadlock(sc, relations, d, ctx);
            // log_lock_waits: the victim logged `process N detected deadlock while waiting for
            // … after 200.1 ms` (in stderr followed by ` at character 8` when the statement has
            // a cursor position, as in ddl-vs-dml).
            let victim = d.participants.iter().find(|p| p.victim).map(|p| p.pid);
            assert!(
                an.lock_waits.iter().any(|w| Some(w.waiter) == victim
                    && w.outcome == WaitOutcome::Deadlock
                    && w.waited_ms >= 200.0),
                "{ctx}: the victim's `detected deadlock while waiting … after … ms` wait: {:#?}",
                an.lock_waits
            );
        }
        Expected::NoDeadlock { shapes, times } => check_no_deadlock(shapes, *times, an, ctx),
        Expected::LockWaits => check_lock_waits(an, ctx),
        Expected::LockTimeouts => check_lock_timeouts(an, ctx),
    }
}

fn check_deadlock(sc: &Scenario, relations: &[&str], d: &ObservedDeadlock, ctx: &str) {
    assert_eq!(d.count, 1, "{ctx}: count");

    // Relations, by name, also where the report has only OIDs.
    let mut got: Vec<String> = d.relations.iter().map(|r| bare(r.as_str())).collect();
    got.sort();
    got.dedup();
    assert_eq!(got, relations, "{ctx}: relations of {d:#?}");

    // The cycle: one edge per process, every waiter once, every blocker a participant.
    let sessions = sc.repro.sessions;
    assert_eq!(
        d.participants.len(),
        sessions,
        "{ctx}: participants of {d:#?}"
    );
    assert_eq!(d.edges.len(), sessions, "{ctx}: edges of {d:#?}");
    let mut pids: Vec<u32> = d.participants.iter().map(|p| p.pid).collect();
    pids.sort_unstable();
    let mut waiters: Vec<u32> = d.edges.iter().map(|e| e.waiter).collect();
    waiters.sort_unstable();
    assert_eq!(waiters, pids, "{ctx}: every participant waits once");
    for (i, e) in d.edges.iter().enumerate() {
        assert!(pids.contains(&e.blocker), "{ctx}: blocker of {e:?}");
        assert!(!e.mode.is_empty() && !e.target.is_empty(), "{ctx}: {e:?}");
        // The report prints the edges as a cycle: each blocker waits in the next edge.
        let next = &d.edges[(i + 1) % d.edges.len()];
        assert_eq!(
            e.blocker, next.waiter,
            "{ctx}: edges are not a cycle: {:?}",
            d.edges
        );
        if e.target.starts_with("relation ") || e.target.contains(" of relation ") {
            let rel = e
                .relation
                .as_ref()
                .unwrap_or_else(|| panic!("{ctx}: the OID in {e:?} was not resolved"));
            assert!(
                relations.contains(&bare(rel.as_str()).as_str()),
                "{ctx}: {e:?} resolved to {rel:?}, not one of {relations:?}"
            );
        }
        if relations.is_empty() {
            assert!(e.target.starts_with("advisory lock"), "{ctx}: {e:?}");
        }
    }
    assert_eq!(
        d.participants.iter().filter(|p| p.victim).count(),
        1,
        "{ctx}: exactly one victim in {d:#?}"
    );

    // Each participant's transaction: earlier statements in order, ending with the blocked one.
    let mut want: Vec<Vec<String>> = sc
        .blocked_transactions()
        .iter()
        .map(|t| statements(t.iter().map(String::as_str)))
        .collect();
    want.sort();
    let mut got: Vec<Vec<String>> = d
        .participants
        .iter()
        .map(|p| statements(p.statements.iter().map(|s| &*s.text)))
        .collect();
    got.sort();
    assert_eq!(got, want, "{ctx}: statements per participant");
    for p in &d.participants {
        let current = p
            .current
            .as_ref()
            .unwrap_or_else(|| panic!("{ctx}: no current statement for pid {}", p.pid));
        let last = p.statements.last().map(|s| norm(&s.text));
        assert_eq!(
            Some(norm(&current.text)),
            last,
            "{ctx}: pid {}: the current statement ends the transaction",
            p.pid
        );
    }
}

fn check_no_deadlock(shapes: &[Vec<String>], times: usize, an: &Analysis, ctx: &str) {
    assert!(an.deadlocks.is_empty(), "{ctx}: {:#?}", an.deadlocks);
    let parallel_counts = an.shape_counts.len() == an.transactions.len();
    for want in shapes {
        let want: Vec<String> = want.iter().map(|s| shape(s)).collect();
        let seen: u64 = an
            .transactions
            .iter()
            .enumerate()
            .filter(|(_, t)| {
                let got: Vec<String> = statements(t.statements.iter().map(|s| &*s.text))
                    .iter()
                    .map(|s| shape(s))
                    .collect();
                got == want
            })
            .map(|(i, _)| {
                if parallel_counts {
                    an.shape_counts[i]
                } else {
                    1
                }
            })
            .sum();
        assert_eq!(
            seen,
            times as u64,
            "{ctx}: transactions of shape {want:?}; got {:#?}",
            an.transactions
                .iter()
                .map(|t| statements(t.statements.iter().map(|s| &*s.text)))
                .collect::<Vec<_>>()
        );
    }
}

fn check_lock_waits(an: &Analysis, ctx: &str) {
    use scenarios::waits::*;
    assert!(an.deadlocks.is_empty(), "{ctx}: {:#?}", an.deadlocks);
    let of = |sql: &str| -> Vec<&LockWait> {
        an.lock_waits
            .iter()
            .filter(|w| w.statement.as_ref().is_some_and(|s| norm(&s.text) == sql))
            .collect()
    };
    for w in &an.lock_waits {
        assert!(!w.mode.is_empty() && !w.target.is_empty(), "{ctx}: {w:?}");
        assert!(!w.holders.contains(&w.waiter), "{ctx}: {w:?}");
    }

    // The chain: the first waiter waited > deadlock_timeout behind one holder, then got it.
    let first = of(FIRST_WAITER);
    let acquired = first
        .iter()
        .find(|w| w.outcome == WaitOutcome::Acquired)
        .unwrap_or_else(|| {
            panic!(
                "{ctx}: no acquired wait for {FIRST_WAITER}: {:#?}",
                an.lock_waits
            )
        });
    assert_eq!(acquired.holders.len(), 1, "{ctx}: {acquired:?}");
    assert!(
        acquired.queue.contains(&acquired.waiter),
        "{ctx}: {acquired:?}"
    );
    assert!(acquired.waited_ms >= 200.0, "{ctx}: {acquired:?}");
    assert_eq!(
        acquired
            .relation
            .as_ref()
            .map(|r| bare(r.as_str()))
            .as_deref(),
        Some("jobs"),
        "{ctx}: relation of {acquired:?} (CONTEXT names it)"
    );
    // The second waiter queued behind the first, and got the row in the end.
    let second = of(SECOND_WAITER);
    assert!(
        second.iter().any(|w| w.outcome == WaitOutcome::Acquired),
        "{ctx}: {SECOND_WAITER}: {second:#?}"
    );
    assert!(
        second.iter().all(|w| w.waiter != acquired.waiter),
        "{ctx}: two waiters, two pids"
    );
}

fn check_lock_timeouts(an: &Analysis, ctx: &str) {
    use scenarios::waits::*;
    assert!(an.deadlocks.is_empty(), "{ctx}: {:#?}", an.deadlocks);
    // lock_timeout: waited (a `still waiting` line after deadlock_timeout), then gave up.
    let timed_out: Vec<&LockWait> = an
        .lock_waits
        .iter()
        .filter(|w| {
            w.statement
                .as_ref()
                .is_some_and(|s| norm(&s.text) == TIMED_OUT)
        })
        .collect();
    assert!(
        timed_out
            .iter()
            .any(|w| w.outcome == WaitOutcome::Timeout && w.waited_ms >= 200.0),
        "{ctx}: {TIMED_OUT}: {:#?}",
        an.lock_waits
    );
    // NOWAIT failures never wait, so they need not be lock waits; if the parser records them,
    // they ended in a timeout (55P03), not with `acquired`.
    for w in &an.lock_waits {
        let sql = w.statement.as_ref().map(|s| norm(&s.text));
        if sql.as_deref() == Some(NOWAIT_ROW) || sql.as_deref() == Some(NOWAIT_TABLE) {
            assert_eq!(w.outcome, WaitOutcome::Timeout, "{ctx}: {w:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tests per scenario and format

macro_rules! scenario_tests {
    ($($module:ident => $name:literal,)*) => {$(
        mod $module {
            use super::*;

            #[test]
            fn live_stderr() {
                if let Some(logs) = live(concat!(stringify!($module), "::live_stderr")) {
                    check_scenario(logs, Format::Stderr, $name);
                }
            }

            #[test]
            fn live_csv() {
                if let Some(logs) = live(concat!(stringify!($module), "::live_csv")) {
                    check_scenario(logs, Format::Csv, $name);
                }
            }

            #[test]
            fn live_json() {
                if let Some(logs) = live(concat!(stringify!($module), "::live_json")) {
                    check_scenario(logs, Format::Json, $name);
                }
            }

            #[test]
            fn committed_stderr() {
                check_scenario(committed(), Format::Stderr, $name);
            }

            #[test]
            fn committed_csv() {
                check_scenario(committed(), Format::Csv, $name);
            }

            #[test]
            fn committed_json() {
                check_scenario(committed(), Format::Json, $name);
            }
        }
    )*};
}

scenario_tests! {
    sequential_orders => "sequential-orders",
    two_table_cycle => "two-table-cycle",
    three_table_cycle => "three-table-cycle",
    lock_upgrade => "lock-upgrade",
    foreign_key => "foreign-key",
    same_table_row_order => "same-table-row-order",
    ddl_vs_dml => "ddl-vs-dml",
    lock_table_share_row_exclusive => "lock-table-share-row-exclusive",
    advisory_locks => "advisory-locks",
    lock_waits => "lock-waits",
    lock_timeouts => "lock-timeouts",
}

#[test]
fn every_scenario_has_tests() {
    // Keep the macro list above in step with the scenarios.
    let names: Vec<&str> = scenarios::all().iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            "sequential-orders",
            "two-table-cycle",
            "three-table-cycle",
            "lock-upgrade",
            "foreign-key",
            "same-table-row-order",
            "ddl-vs-dml",
            "lock-table-share-row-exclusive",
            "advisory-locks",
            "lock-waits",
            "lock-timeouts",
        ]
    );
}

/// The scenarios' expectations against the raw stderr text, without the parser: each deadlock
/// scenario has exactly one report whose `Process N: …` lines are the last statements of the
/// blocked transactions; the others have none. Keeps the expectations honest when a scenario
/// or the server changes, whatever the parser does.
fn check_expectations_against_raw_log(logs: &Logs) {
    for sc in scenarios::all() {
        let text = piece(&logs.stderr, sc.name);
        let ctx = format!("{}, raw {} stderr log", sc.name, logs.source);
        let reports = text.matches("ERROR:  deadlock detected").count();
        match &sc.expected {
            Expected::Deadlock { .. } => {
                assert_eq!(reports, 1, "{ctx}: deadlock reports");
                let mut current: Vec<String> = text
                    .lines()
                    .filter_map(|l| l.strip_prefix("\tProcess "))
                    .filter_map(|l| l.split_once(": ").map(|(_, sql)| norm(sql)))
                    .collect();
                current.sort();
                let mut want: Vec<String> = sc
                    .blocked_transactions()
                    .iter()
                    .filter_map(|t| t.last().map(|s| norm(s)))
                    .collect();
                want.sort();
                assert_eq!(current, want, "{ctx}: statements in the DETAIL");
            }
            Expected::NoDeadlock { .. } => assert_eq!(reports, 0, "{ctx}"),
            Expected::LockWaits => {
                assert_eq!(reports, 0, "{ctx}");
                for needle in [
                    " still waiting for ShareLock on transaction ",
                    " still waiting for ExclusiveLock on tuple ",
                    " acquired ShareLock on transaction ",
                    " acquired ExclusiveLock on tuple ",
                ] {
                    assert!(text.contains(needle), "{ctx}: no `{needle}`");
                }
            }
            Expected::LockTimeouts => {
                assert_eq!(reports, 0, "{ctx}");
                for needle in [
                    " still waiting for ShareLock on transaction ",
                    "ERROR:  canceling statement due to lock timeout",
                    "ERROR:  could not obtain lock on row in relation \"jobs\"",
                    "ERROR:  could not obtain lock on relation \"jobs\"",
                ] {
                    assert!(text.contains(needle), "{ctx}: no `{needle}`");
                }
                assert!(!text.contains(" acquired "), "{ctx}: nothing is acquired");
            }
        }
    }
}

#[test]
fn live_expectations_match_raw_log() {
    if let Some(logs) = live("live_expectations_match_raw_log") {
        check_expectations_against_raw_log(logs);
    }
}

#[test]
fn committed_expectations_match_raw_log() {
    check_expectations_against_raw_log(committed());
}

// ---------------------------------------------------------------------------------------------
// Whole logs, other prefixes, format detection, samples

/// The whole main log at once: every deadlock scenario's deadlock, each once, nothing more.
fn check_whole_log(logs: &Logs, format: Format) {
    let ctx = format!("whole {format:?} {} log", logs.source);
    let file = format!("pg.{}", format.extension());
    let an = analyze(
        Some(format),
        logs.prefix_for(format),
        &[(&file, logs.text(format).as_bytes())],
    );
    check_all_deadlocks(&an, &ctx);
}

fn check_all_deadlocks(an: &Analysis, ctx: &str) {
    let mut want: Vec<Vec<String>> = scenarios::all()
        .iter()
        .filter_map(|s| match &s.expected {
            Expected::Deadlock { relations } => {
                Some(relations.iter().map(|r| r.to_string()).collect())
            }
            _ => None,
        })
        .collect();
    want.sort();
    let mut got: Vec<Vec<String>> = an
        .deadlocks
        .iter()
        .map(|d| {
            let mut r: Vec<String> = d.relations.iter().map(|r| bare(r.as_str())).collect();
            r.sort();
            r.dedup();
            r
        })
        .collect();
    got.sort();
    assert_eq!(got, want, "{ctx}: relations of each deadlock");
    assert!(an.deadlocks.iter().all(|d| d.count == 1), "{ctx}: counts");
}

#[test]
fn live_whole_logs() {
    if let Some(logs) = live("live_whole_logs") {
        for format in [Format::Stderr, Format::Csv, Format::Json] {
            check_whole_log(logs, format);
        }
    }
}

#[test]
fn committed_whole_logs() {
    for format in [Format::Stderr, Format::Csv, Format::Json] {
        check_whole_log(committed(), format);
    }
}

/// The two-table cycle under the other `log_line_prefix`es.
fn check_other_prefixes(logs: &Logs) {
    assert_eq!(logs.other_prefixes.len(), OTHER_PREFIXES.len());
    let sc = scenarios::two_table_cycle();
    for (prefix, text) in &logs.other_prefixes {
        let ctx = format!("two-table-cycle, prefix `{prefix}`, {} log", logs.source);
        let piece = piece(text, sc.name);
        let an = analyze(
            Some(Format::Stderr),
            Some(prefix),
            &[("prefix.log", piece.as_bytes())],
        );
        check_expected(&sc, &an, &ctx);
    }
}

#[test]
fn live_other_prefixes() {
    if let Some(logs) = live("live_other_prefixes") {
        check_other_prefixes(logs);
    }
}

#[test]
fn committed_other_prefixes() {
    check_other_prefixes(committed());
}

/// No format given: the parser tells stderr, csvlog and jsonlog apart by itself.
#[test]
fn committed_format_detected() {
    let logs = committed();
    for format in [Format::Stderr, Format::Csv, Format::Json] {
        let ctx = format!("{format:?} without a format option");
        let an = analyze(
            None,
            logs.prefix_for(format),
            &[(
                &format!("pg.{}", format.extension()),
                logs.text(format).as_bytes(),
            )],
        );
        check_all_deadlocks(&an, &ctx);
    }
}

/// `samples/logs/`: the rotated, gzipped log with the sequential run, then the current log.
#[test]
fn samples_logs() {
    let dir = samples_dir();
    let read = |name: &str| {
        std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("samples/logs/{name}: {e}"))
    };
    let old = read("postgresql-old.log.gz");
    let current = read("postgresql.log");
    let an = analyze(
        Some(Format::Stderr),
        Some(support::cluster::DEFAULT_PREFIX),
        &[
            ("postgresql-old.log.gz", &old),
            ("postgresql.log", &current),
        ],
    );
    check_all_deadlocks(&an, "samples/logs");
    match scenarios::sequential_orders().expected {
        Expected::NoDeadlock { shapes, times } => {
            let old_only = analyze(
                Some(Format::Stderr),
                Some(support::cluster::DEFAULT_PREFIX),
                &[("postgresql-old.log.gz", &old)],
            );
            check_no_deadlock(
                &shapes,
                times,
                &old_only,
                "samples/logs/postgresql-old.log.gz",
            );
        }
        _ => unreachable!(),
    }
}

// ---------------------------------------------------------------------------------------------
// Regenerating the committed logs

/// With `LOCKGRAPH_REGENERATE_LOGS=1`: run the scenarios and write `tests/data/real/` and
/// `samples/logs/`. Otherwise a no-op (with a note).
#[test]
fn regenerate_real_logs() {
    if std::env::var("LOCKGRAPH_REGENERATE_LOGS").as_deref() != Ok("1") {
        let _ = writeln!(
            std::io::stderr(),
            "note: regenerate_real_logs: set LOCKGRAPH_REGENERATE_LOGS=1 to rewrite \
             tests/data/real/ and samples/logs/"
        );
        return;
    }
    let p = match LIVE.get_or_init(support::produce) {
        Produced::Ready(p) => p,
        Produced::Unavailable(e) => panic!("regenerate_real_logs: no cluster: {e}"),
        Produced::Failed(e) => panic!("regenerate_real_logs: {e}"),
    };
    let major = p.server_version.split(['.', ' ']).next().unwrap_or("");
    assert_eq!(
        major, "15",
        "the committed logs are named pg15-*; this server is {}",
        p.server_version
    );
    let data = data_dir();
    std::fs::create_dir_all(&data).unwrap();
    write(&data.join(STDERR_FILE), p.stderr.as_bytes());
    write(&data.join(CSV_FILE), p.csv.as_bytes());
    write(&data.join(JSON_FILE), p.json.as_bytes());
    for o in &p.other_prefixes {
        write(&data.join(&o.file_name), o.text.as_bytes());
    }
    write(&data.join("README.md"), data_readme(p).as_bytes());

    // samples/logs: the log cut where the second scenario begins, as if rotated there.
    let samples = samples_dir();
    std::fs::create_dir_all(&samples).unwrap();
    let second = &scenarios::all()[1];
    let marker = format!("statement: SELECT '{}{}'", scenarios::MARKER, second.name);
    let at = p.stderr.find(&marker).expect("second marker");
    let cut = p.stderr[..at].rfind('\n').map_or(0, |i| i + 1);
    let (old, current) = p.stderr.split_at(cut);
    write(&samples.join("postgresql.log"), current.as_bytes());
    write(
        &samples.join("postgresql-old.log.gz"),
        &gzip(old.as_bytes()),
    );
    write(&samples.join("README.md"), samples_readme(p).as_bytes());
    let _ = writeln!(
        std::io::stderr(),
        "regenerate_real_logs: wrote {} and {} (PostgreSQL {}, {:.1} s)",
        data.canonicalize().unwrap_or(data.clone()).display(),
        samples.canonicalize().unwrap_or(samples.clone()).display(),
        p.server_version,
        p.elapsed.as_secs_f64()
    );
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// `gzip -n -9` (no name or time stamp in the header, so the bytes depend only on the input).
fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::process::{Command, Stdio};
    let mut child = Command::new("gzip")
        .args(["-n", "-9", "-c"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("running gzip");
    let mut stdin = child.stdin.take().expect("gzip stdin");
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("gzip output");
    writer
        .join()
        .expect("gzip writer")
        .expect("writing to gzip");
    assert!(out.status.success(), "gzip failed");
    out.stdout
}

fn scenario_table() -> String {
    let mut s = String::from("| scenario | in the log | what the sessions do |\n|---|---|---|\n");
    for sc in scenarios::all() {
        let what = match sc.expected {
            Expected::Deadlock { .. } => "deadlock detected",
            Expected::NoDeadlock { .. } => "no deadlock",
            Expected::LockWaits => "lock waits, no deadlock",
            Expected::LockTimeouts => "lock timeout, NOWAIT errors",
        };
        s.push_str(&format!(
            "| `{}` | {what} | {} |\n",
            sc.name,
            sc.summary.split_whitespace().collect::<Vec<_>>().join(" ")
        ));
    }
    s
}

fn data_readme(p: &ProducedLogs) -> String {
    let mut settings = String::new();
    for (k, v) in &p.settings {
        settings.push_str(&format!("{k} = '{v}'\n"));
    }
    let mut others = String::new();
    for o in &p.other_prefixes {
        others.push_str(&format!(
            "- `{}`: `log_line_prefix = '{}'`, the `two-table-cycle` scenario only.\n",
            o.file_name, o.prefix
        ));
    }
    format!(
        "# Real PostgreSQL logs\n\
         \n\
         Written by PostgreSQL {version} while `tests/support/scenarios.rs` played its scenarios \
         on a throwaway cluster (`tests/support/cluster.rs`). Generated — do not edit; \
         regenerate with\n\
         \n\
         ```sh\n\
         LOCKGRAPH_REGENERATE_LOGS=1 cargo test -p lockgraph_logs --test real_server regenerate_real_logs\n\
         ```\n\
         \n\
         (it needs `initdb` and `pg_ctl` on PATH or in `LOCKGRAPH_PG_BINDIR`; as root it runs them \
         as the `postgres` user). Pids, OIDs, transaction ids, timestamps and the scratch schema \
         names (`lockgraph_repro_<random>`) change on every run; tests must not depend on them.\n\
         \n\
         ## Files\n\
         \n\
         - `pg15-stderr.log`, `pg15.csv`, `pg15.json`: one run, all three destinations at once \
         (`log_destination = 'stderr,csvlog,jsonlog'`), `log_line_prefix = '{prefix}'`.\n\
         {others}\
         \n\
         Each scenario starts with a marker statement `SELECT 'lockgraph-scenario:<name>'` (from a \
         separate connection), so a log can be cut into scenarios. Before the first marker: startup, \
         `CREATE ROLE app`, `CREATE DATABASE shop`; the scenarios run as `app@shop`, each in a \
         scratch schema that `lockgraph_pg::run_repro` creates and drops.\n\
         \n\
         {table}\n\
         ## Settings of the main run\n\
         \n\
         ```\n\
         {settings}\
         ```\n\
         \n\
         `initdb --auth=trust --no-sync -U postgres --encoding=UTF8 --locale=C`. Everything not \
         listed is the default (`log_min_messages`, `client_min_messages`, `log_min_error_statement`, \
         `track_activity_query_size`, …). The other-prefix runs restart the same cluster with only \
         `log_line_prefix` and `log_filename` changed.\n",
        version = p.server_version,
        prefix = p.prefix,
        table = scenario_table(),
    )
}

fn samples_readme(p: &ProducedLogs) -> String {
    format!(
        "# Sample PostgreSQL logs\n\
         \n\
         Real logs, written by PostgreSQL {version} in the stderr format with \
         `log_line_prefix = '{prefix}'`, `log_statement = all`, `log_lock_waits = on`, \
         `deadlock_timeout = 200ms`, while lockgraph's test suite played lock scenarios on a \
         throwaway server (see `crates/lockgraph_logs/tests/data/real/README.md`).\n\
         \n\
         ```sh\n\
         lockgraph logs samples/logs/\n\
         ```\n\
         \n\
         - `postgresql-old.log.gz`: the older, rotated (and gzipped) part: server start and the \
         `sequential-orders` scenario — two transactions that update `accounts` then `ledger`, \
         and `ledger` then `accounts`, three times each, one after the other. No deadlock \
         happened, but the two lock orders are inverted: lockgraph predicts the deadlock \
         (LG101) from the statements alone.\n\
         - `postgresql.log`: the current log: every other scenario, then the server's shutdown. \
         Eight real deadlocks (`ERROR:  deadlock detected`, SQLSTATE 40P01, with the wait-for \
         cycle in DETAIL) and, at the end, lock waits without a deadlock (`still waiting`, \
         `acquired`, a lock timeout, NOWAIT failures).\n\
         \n\
         {table}\n\
         Each scenario begins with the statement `SELECT 'lockgraph-scenario:<name>'`. The sessions \
         run as `app@shop` in a scratch schema `lockgraph_repro_<random>`.\n",
        version = p.server_version,
        prefix = p.prefix,
        table = scenario_table(),
    )
}
