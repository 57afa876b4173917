//! Differential deadlock test against real PostgreSQL: every deadlock lockgraph predicts in the
//! rule fixtures (SQL and Python), in `samples/shop` and in every `samples/<language>-service`
//! (one per source language) is run as its emitted two-session reproduction and must end in
//! SQLSTATE 40P01; the fixed variants (`…-fixed`), run with the same interleaving, must complete.
//!
//! A Python fixture has no DDL, and a reproduction's setup only creates the tables the input's DDL
//! defines (the ORM models give the analysis a schema, but no `CREATE TABLE`), so each Python
//! fixture is checked together with `tests/data/rules/python_schema.sql`.
//!
//! Server: 127.0.0.1:5432 user postgres database test, or `LOCKGRAPH_TEST_PG`. Under `CI=true`
//! an unreachable server fails the test; elsewhere the test prints a note and returns.

use assert_cmd::Command;
use lockgraph_cli::pipeline::{LoadOptions, Loaded, load};
use lockgraph_core::Location;
use lockgraph_pg::{ConnectionSpec, ReproOptions};
use lockgraph_rules::{Analysis, CheckOptions};
use std::path::{Path, PathBuf};

const DEADLOCK_RULES: [&str; 3] = ["LG101", "LG102", "LG103"];

/// The tables of the Python fixtures (see the module docs).
const PYTHON_SCHEMA: &str = "tests/data/rules/python_schema.sql";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn server() -> Option<ConnectionSpec> {
    let conn = std::env::var("LOCKGRAPH_TEST_PG")
        .unwrap_or_else(|_| "host=127.0.0.1 port=5432 user=postgres dbname=test".into());
    let spec = ConnectionSpec::parse(&conn).expect("LOCKGRAPH_TEST_PG parses");
    match lockgraph_pg::probe_blocking(&spec) {
        Ok(_) => Some(spec),
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true and PostgreSQL is unreachable ({spec}): {e}")
        }
        Err(e) => {
            eprintln!(
                "NOTE: differential deadlock test not run: PostgreSQL unreachable ({spec}): {e}"
            );
            None
        }
    }
}

/// The `samples/<language>-service` directories (each has a `-fixed` sibling), sorted.
fn service_samples() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(root().join("samples"))
        .expect("samples/")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with("-service"))
        .map(|n| format!("samples/{n}"))
        .collect();
    out.sort();
    assert!(out.iter().any(|s| s == "samples/python-service"));
    out
}

/// The deadlock findings a service sample is written to show: LG101 in each, and the Python
/// service's LG102 as well.
fn expected_codes(sample: &str) -> Vec<String> {
    let mut codes = vec!["LG101".to_string()];
    if sample == "samples/python-service" {
        codes.push("LG102".into());
    }
    codes
}

/// `(code, path)` of the bad or good SQL and Python fixtures of the deadlock rules.
fn fixtures(prefix: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for code in DEADLOCK_RULES {
        let dir = root().join("tests/data/rules").join(code);
        for f in std::fs::read_dir(&dir).expect("fixture dir") {
            let name = f.unwrap().file_name().to_string_lossy().into_owned();
            if name.starts_with(prefix) && (name.ends_with(".sql") || name.ends_with(".py")) {
                out.push((code.to_string(), format!("tests/data/rules/{code}/{name}")));
            }
        }
    }
    out.sort();
    out
}

/// The paths to check for a fixture: a Python fixture with the schema of its tables.
fn with_schema(path: &str) -> Vec<String> {
    let mut paths = vec![path.to_string()];
    if path.ends_with(".py") {
        paths.push(PYTHON_SCHEMA.to_string());
    }
    paths
}

/// What `lockgraph check PATHS --emit-repro DIR` predicted.
struct Emitted {
    /// `(code, script path)` per reproduction written.
    repros: Vec<(String, PathBuf)>,
    /// Codes of the findings that say they have no reproduction (`repro_available: false`).
    without_repro: Vec<String>,
}

fn emitted_repros(paths: &[String], dir: &Path) -> Emitted {
    let out = Command::cargo_bin("lockgraph")
        .unwrap()
        .current_dir(root())
        .arg("check")
        .args(paths)
        .args(["--format", "json", "--emit-repro"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{paths:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let without_repro = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["repro_available"] == false)
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect();
    let mut repros: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_name().unwrap().to_string_lossy()[..5].to_string(), p))
        .collect();
    repros.sort();
    Emitted {
        repros,
        without_repro,
    }
}

fn run_script(spec: &ConnectionSpec, script: &Path) -> lockgraph_pg::ReproOutcome {
    let text = std::fs::read_to_string(script).unwrap();
    let repro =
        lockgraph_pg::parse_script(&text).unwrap_or_else(|e| panic!("{}: {e}", script.display()));
    lockgraph_pg::run_repro_blocking(spec, &repro, &ReproOptions::default())
        .unwrap_or_else(|e| panic!("{}: setup failed: {e}\n{text}", script.display()))
}

#[test]
fn predicted_deadlocks_really_deadlock() {
    let Some(spec) = server() else { return };
    // `(expected codes, label, paths to check)`.
    let mut inputs: Vec<(Vec<String>, String, Vec<String>)> = fixtures("bad_")
        .into_iter()
        .map(|(code, path)| (vec![code], path.clone(), with_schema(&path)))
        .collect();
    inputs.push((
        vec!["LG101".into()],
        "samples/shop".into(),
        vec!["samples/shop".into()],
    ));
    for sample in service_samples() {
        inputs.push((expected_codes(&sample), sample.clone(), vec![sample]));
    }
    let mut failures = Vec::new();
    let mut confirmed = 0;
    for (codes, label, paths) in &inputs {
        let dir = tempfile::tempdir().unwrap();
        let emitted = emitted_repros(paths, dir.path());
        for code in codes {
            // A finding that says why it has no script (a loop's row order) is not a failure.
            if !emitted.repros.iter().any(|(c, _)| c == code)
                && !emitted.without_repro.contains(code)
            {
                failures.push(format!("{label}: no {code} reproduction emitted"));
            }
        }
        for (c, script) in emitted
            .repros
            .iter()
            .filter(|(c, _)| DEADLOCK_RULES.contains(&c.as_str()))
        {
            let outcome = run_script(&spec, script);
            if outcome.deadlock.is_some() {
                confirmed += 1;
            } else {
                let text = std::fs::read_to_string(script).unwrap();
                failures.push(format!(
                    "{label}: {c} reproduction did not deadlock: {outcome:#?}\n{text}"
                ));
            }
        }
    }
    eprintln!("{confirmed} predicted deadlocks confirmed with SQLSTATE 40P01");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn analysis(loaded: &Loaded) -> Analysis<'_> {
    Analysis::new(
        &loaded.transactions,
        &loaded.diagnostics,
        &loaded.schema,
        &loaded.statements,
        CheckOptions::default(),
    )
}

/// Runs `txns` of `loaded` round-robin on the server; `Err` says how it failed to complete.
fn run_interleaved(
    spec: &ConnectionSpec,
    loaded: &Loaded,
    txns: &[usize],
    what: &str,
) -> Result<(), String> {
    let a = analysis(loaded);
    let repro = lockgraph_rules::repro::interleaved(&a, txns).expect("interleaving");
    let outcome = lockgraph_pg::run_repro_blocking(spec, &repro, &ReproOptions::default())
        .unwrap_or_else(|e| panic!("{what}: setup failed: {e}\n{repro:#?}"));
    if outcome.deadlock.is_none() && outcome.completed {
        Ok(())
    } else {
        Err(format!(
            "{what}: the fixed version must complete without deadlock: {outcome:#?}\n{}",
            lockgraph_pg::format_script(&repro)
        ))
    }
}

fn assert_completes(spec: &ConnectionSpec, loaded: &Loaded, txns: &[usize], what: &str) {
    if let Err(e) = run_interleaved(spec, loaded, txns, what) {
        panic!("{e}");
    }
}

#[test]
fn fixed_fixtures_complete_under_the_same_interleaving() {
    let Some(spec) = server() else { return };
    let mut failures = Vec::new();
    for (_, path) in fixtures("good_") {
        let paths: Vec<PathBuf> = with_schema(&path).iter().map(|p| root().join(p)).collect();
        let loaded = load(&paths, &LoadOptions::default());
        let explicit: Vec<usize> = loaded
            .transactions
            .iter()
            .enumerate()
            .filter(|(_, t)| t.kind != lockgraph_core::TransactionKind::Autocommit)
            .map(|(i, _)| i)
            .collect();
        // One transaction shape: two concurrent runs of it; several: one session each.
        let sessions = match explicit.as_slice() {
            [one] => vec![*one, *one],
            many => many.to_vec(),
        };
        if let Err(e) = run_interleaved(&spec, &loaded, &sessions, &path) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// `(file, ordinal of the transaction in its file)` of the first transaction that runs every
/// statement of `locs` (a Python function with several paths has one transaction per path).
fn txn_at(loaded: &Loaded, locs: &[Location]) -> Option<(String, usize)> {
    let t = loaded.transactions.iter().find(|t| {
        locs.iter()
            .all(|loc| t.statements.iter().any(|s| &s.location == loc))
    })?;
    let ordinal = loaded
        .transactions
        .iter()
        .filter(|u| u.location.path == t.location.path)
        .position(|u| std::ptr::eq(u, t))?;
    Some((t.location.path.to_string(), ordinal))
}

/// Every deadlock predicted in the sample `bad` is replayed, with the same interleaving, on the
/// corresponding transactions of `fixed` (same file, same ordinal), which must complete.
fn fixed_sample_completes(spec: &ConnectionSpec, bad: &str, fixed: &str) {
    let bad_loaded = load(&[root().join(bad)], &LoadOptions::default());
    let fixed_loaded = load(&[root().join(fixed)], &LoadOptions::default());
    let a = analysis(&bad_loaded);
    let findings = lockgraph_rules::check(&a, &DEADLOCK_RULES);
    assert!(!findings.is_empty(), "{bad} must have deadlock findings");
    let (bad_dir, fixed_dir) = (format!("/{bad}/"), format!("/{fixed}/"));
    let mut replayed = 0;
    for f in &findings {
        let Some(repro) = &f.repro else { continue };
        // The transaction each session runs, found in the fixed sample by file and ordinal.
        let mut sessions = Vec::new();
        for s in 1..=repro.sessions {
            let origins: Vec<Location> = repro
                .steps
                .iter()
                .filter(|st| st.session == s)
                .filter_map(|st| st.origin.clone())
                .collect();
            let (file, ordinal) = txn_at(&bad_loaded, &origins).expect("session origin");
            let fixed_file = file.replacen(&bad_dir, &fixed_dir, 1);
            let idx = fixed_loaded
                .transactions
                .iter()
                .enumerate()
                .filter(|(_, t)| *t.location.path == *fixed_file)
                .nth(ordinal)
                .map(|(i, _)| i)
                .unwrap_or_else(|| panic!("{fixed_file} lacks transaction #{ordinal}"));
            sessions.push(idx);
        }
        assert_completes(
            spec,
            &fixed_loaded,
            &sessions,
            &format!("{} {} in {fixed}", f.code, f.message),
        );
        replayed += 1;
    }
    assert!(replayed > 0, "{bad}: no reproduction to replay on {fixed}");
}

#[test]
fn fixed_samples_complete_under_the_predicted_interleavings() {
    let Some(spec) = server() else { return };
    fixed_sample_completes(&spec, "samples/shop", "samples/shop-fixed");
    for sample in service_samples() {
        fixed_sample_completes(&spec, &sample, &format!("{sample}-fixed"));
    }
}

/// The fixed service of every language predicts no deadlock at all.
#[test]
fn fixed_services_predict_no_deadlock() {
    let mut messages: Vec<String> = Vec::new();
    for sample in service_samples() {
        let loaded = load(
            &[root().join(format!("{sample}-fixed"))],
            &LoadOptions::default(),
        );
        assert!(
            !loaded.transactions.is_empty(),
            "{sample}-fixed: no transactions"
        );
        let a = analysis(&loaded);
        let findings = lockgraph_rules::check(&a, &DEADLOCK_RULES);
        messages.extend(
            findings
                .iter()
                .map(|f| format!("{sample}-fixed: {} {}", f.code, f.message)),
        );
    }
    assert!(messages.is_empty(), "{messages:#?}");
}
