//! Reproductions of deadlocks predicted in MySQL code, run on a real MariaDB.
//!
//! `tests/data/mysql_repro/bad` is a payment service written with pymysql on InnoDB tables. It
//! has an LG101 (two functions update `accounts` and `audit` in opposite orders), an LG102 that
//! only InnoDB has (the ledger insert's foreign-key check takes S on the account row, then the
//! account's UPDATE asks for X: PostgreSQL's KEY SHARE would not conflict) and an LG103 (two
//! rows of `accounts` in the caller's order). Each finding's reproduction must be a MySQL script
//! (not PostgreSQL's) and must end in error 1213 at a step the script predicts — the step that
//! closes the cycle, or a step it marks as blocking — with every step marked as blocking seen
//! waiting. `tests/data/mysql_repro/fixed` is the same service with one lock order and the
//! strongest lock first: it has no finding, and its transactions, run with the interleaving of
//! each reproduction, complete.
//!
//! The CLI is tested end to end too: `check --emit-repro` writes scripts that say
//! `-- engine: mysql`, and `lockgraph repro` runs them on a `mysql://` URL and refuses a
//! PostgreSQL connection string.
//!
//! Server: root@127.0.0.1:3306, database `test`, or `LOCKGRAPH_MYSQL_URL`. Under `CI=true` an
//! unreachable server fails the tests; elsewhere they print a note and return.

use assert_cmd::Command;
use lockgraph_cli::pipeline::{LoadOptions, Loaded, load};
use lockgraph_core::{Engine, Finding, Location, Repro, ReproOutcome};
use lockgraph_mysql::{DEADLOCK_ERROR, ReproOptions};
use lockgraph_rules::{Analysis, CheckOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

const DEADLOCK_RULES: [&str; 3] = ["LG101", "LG102", "LG103"];

fn data(which: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/mysql_repro")
        .join(which)
}

fn url() -> String {
    std::env::var("LOCKGRAPH_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_string())
}

/// Whether the server answers; a note when not (a failure under `CI=true`).
fn server(test: &str) -> bool {
    let opts = mysql::Opts::from_url(&url()).expect("LOCKGRAPH_MYSQL_URL");
    match mysql::Conn::new(opts) {
        Ok(_) => true,
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{test}: CI=true and MariaDB is unreachable: {e}")
        }
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "NOTE: {test} not run: MariaDB unreachable ({e}); start one at 127.0.0.1:3306 \
                 or set LOCKGRAPH_MYSQL_URL"
            );
            false
        }
    }
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

fn findings(loaded: &Loaded) -> Vec<Finding> {
    lockgraph_rules::check(&analysis(loaded), &DEADLOCK_RULES)
}

fn run(repro: &Repro) -> ReproOutcome {
    lockgraph_mysql::run_repro(&url(), repro, &ReproOptions::default()).unwrap_or_else(|e| {
        panic!(
            "the run failed: {e}\n{}",
            lockgraph_mysql::format_script(repro)
        )
    })
}

#[test]
fn every_predicted_deadlock_happens_on_mariadb() {
    let loaded = load(&[data("bad")], &LoadOptions::default());
    let found = findings(&loaded);
    let mut codes: Vec<&str> = found.iter().map(|f| f.code).collect();
    codes.sort_unstable();
    assert_eq!(codes, DEADLOCK_RULES, "{found:#?}");
    for f in &found {
        let repro = f.repro.as_ref().expect("a reproduction");
        assert_eq!(repro.engine, Engine::Mysql, "{}", f.code);
        let script = lockgraph_mysql::format_script(repro);
        assert!(
            !script.contains("ON CONFLICT")
                && !script.contains("OVERRIDING")
                && script.contains("START TRANSACTION")
                && script.contains("ENGINE=InnoDB")
                && script.contains("INSERT IGNORE INTO `accounts`"),
            "{}: not MySQL:\n{script}",
            f.code
        );
    }
    if !server("every_predicted_deadlock_happens_on_mariadb") {
        return;
    }
    for f in &found {
        let repro = f.repro.as_ref().unwrap();
        let outcome = run(repro);
        let text = lockgraph_mysql::format_script(repro);
        let d = outcome
            .deadlock
            .as_ref()
            .unwrap_or_else(|| panic!("{}: no deadlock: {outcome:#?}\n{text}", f.code));
        let e = outcome.steps[d.step_index].error.as_ref().unwrap();
        assert_eq!(e.code, Some(DEADLOCK_ERROR), "{}", f.code);
        assert_eq!(e.sqlstate, "40001");
        // The victim is where the script says the cycle is: the closing step, or a step it
        // predicts to block (InnoDB rolls back the cheaper transaction of the cycle).
        let last = repro.steps.len() - 1;
        assert!(
            d.step_index == last || repro.steps[d.step_index].expect_block,
            "{}: 1213 at step {} is no predicted step: {outcome:#?}\n{text}",
            f.code,
            d.step_index + 1
        );
        assert_eq!(d.session, repro.steps[d.step_index].session);
        for (i, step) in repro.steps.iter().enumerate() {
            if step.expect_block {
                assert!(
                    outcome.steps[i].blocked,
                    "{}: step {} should have blocked: {outcome:#?}\n{text}",
                    f.code,
                    i + 1
                );
            }
            if i != d.step_index {
                assert!(
                    outcome.steps[i].error.is_none(),
                    "{}: step {} failed: {outcome:#?}\n{text}",
                    f.code,
                    i + 1
                );
            }
        }
        eprintln!(
            "{}: error 1213 at step {} of {} (session {}{})",
            f.code,
            d.step_index + 1,
            repro.steps.len(),
            d.session,
            if d.step_index == last {
                ", the step that closes the cycle"
            } else {
                ", a step that was waiting"
            }
        );
    }
}

/// The stem of a transaction's name: `payments.transfer` of `payments.transfer (path:8)`.
fn stem(name: &str) -> &str {
    name.split(" (").next().unwrap_or(name)
}

/// The transaction that runs every statement of `origins`.
fn txn_of<'a>(loaded: &'a Loaded, origins: &[Location]) -> &'a lockgraph_core::Transaction {
    loaded
        .transactions
        .iter()
        .find(|t| {
            origins
                .iter()
                .all(|o| t.statements.iter().any(|s| &s.location == o))
        })
        .unwrap_or_else(|| panic!("no transaction runs {origins:?}"))
}

#[test]
fn the_fixed_service_completes_under_the_same_interleavings() {
    let bad = load(&[data("bad")], &LoadOptions::default());
    let fixed = load(&[data("fixed")], &LoadOptions::default());
    assert_eq!(
        findings(&fixed),
        Vec::new(),
        "the fixed service has no finding"
    );
    let live = server("the_fixed_service_completes_under_the_same_interleavings");
    let a = analysis(&fixed);
    let mut replayed = 0;
    for f in findings(&bad) {
        let repro = f.repro.as_ref().expect("a reproduction");
        // The fixed version of the transaction each session runs (same function).
        let sessions: Vec<usize> = (1..=repro.sessions)
            .map(|s| {
                let origins: Vec<Location> = repro
                    .steps
                    .iter()
                    .filter(|st| st.session == s)
                    .filter_map(|st| st.origin.clone())
                    .collect();
                let name = stem(&txn_of(&bad, &origins).name).to_string();
                fixed
                    .transactions
                    .iter()
                    .position(|t| stem(&t.name) == name)
                    .unwrap_or_else(|| panic!("the fixed service lacks {name}"))
            })
            .collect();
        let interleaved =
            lockgraph_rules::repro::interleaved(&a, &sessions).expect("an interleaving");
        assert_eq!(interleaved.engine, Engine::Mysql);
        if !live {
            continue;
        }
        let outcome = run(&interleaved);
        assert!(
            outcome.deadlock.is_none() && outcome.completed,
            "{} fixed must complete: {outcome:#?}\n{}",
            f.code,
            lockgraph_mysql::format_script(&interleaved)
        );
        // The sessions really met: one waited for the other's lock, and then went on.
        assert!(
            outcome.steps.iter().any(|s| s.blocked),
            "{} fixed: no step waited: {outcome:#?}",
            f.code
        );
        replayed += 1;
    }
    assert!(!live || replayed == 3, "replayed {replayed}");
}

#[test]
fn emitted_scripts_say_mysql_and_run_only_on_mysql() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("lockgraph")
        .unwrap()
        .arg("check")
        .arg(data("bad"))
        .arg("--emit-repro")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    scripts.sort();
    assert_eq!(scripts.len(), 3, "{scripts:?}");
    for s in &scripts {
        let text = std::fs::read_to_string(s).unwrap();
        assert!(text.contains("\n-- engine: mysql\n"), "{text}");
        assert!(!text.contains("psql") && !text.contains("40P01"), "{text}");
    }
    // A PostgreSQL connection string is refused, naming the engine, before connecting.
    let refused = Command::cargo_bin("lockgraph")
        .unwrap()
        .arg("repro")
        .arg(&scripts[0])
        .args(["--url", "postgres://postgres@127.0.0.1:1/none"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("written for MySQL/InnoDB")
            && stderr.contains("give a mysql:// or mariadb:// URL"),
        "{stderr}"
    );
    if !server("emitted_scripts_say_mysql_and_run_only_on_mysql") {
        return;
    }
    for s in &scripts {
        let ran = Command::cargo_bin("lockgraph")
            .unwrap()
            .arg("repro")
            .arg(s)
            .args(["--url", &url()])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&ran.stdout);
        assert_eq!(
            ran.status.code(),
            Some(1),
            "{}: {stdout}{}",
            s.display(),
            String::from_utf8_lossy(&ran.stderr)
        );
        assert!(
            stdout.starts_with("deadlock reproduced: session ")
                && stdout.contains(" got error 1213 (SQLSTATE 40001) at step "),
            "{stdout}"
        );
    }
}
