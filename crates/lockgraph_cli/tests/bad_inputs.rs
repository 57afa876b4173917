//! The bad-input corpus (`tests/data/bad/`, described case by case in its `cases.toml`): every
//! input is run through the `lockgraph` binary, which must not panic, must print the case's
//! warnings with file:line, must exit with the documented code, and must still analyse the rest
//! of the input (the case's findings and number of transactions).

use assert_cmd::Command;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
struct Cases {
    case: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    input: String,
    #[serde(default)]
    generate: Option<String>,
    about: String,
    command: String,
    exit: i32,
    warnings: Vec<String>,
    findings: Vec<String>,
    #[serde(default)]
    diagnostics: Vec<String>,
    transactions: u64,
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/bad")
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(corpus().join("cases.toml")).unwrap();
    toml::from_str::<Cases>(&text).unwrap().case
}

/// One deadlock between two sessions, as PostgreSQL logs it (pids and minute vary).
fn deadlock(a: u32, b: u32, minute: u32) -> String {
    let t = format!("2024-05-01 10:{minute:02}:01");
    format!(
        "{t}.001 UTC [{a}] app@shop LOG:  statement: BEGIN
{t}.002 UTC [{a}] app@shop LOG:  statement: UPDATE accounts SET balance = balance - 1 WHERE id = 1
{t}.003 UTC [{b}] app@shop LOG:  statement: BEGIN
{t}.004 UTC [{b}] app@shop LOG:  statement: UPDATE ledger SET amount = amount + 1 WHERE id = 2
{t}.005 UTC [{a}] app@shop LOG:  statement: UPDATE ledger SET amount = amount + 1 WHERE id = 2
{t}.006 UTC [{b}] app@shop LOG:  statement: UPDATE accounts SET balance = balance - 1 WHERE id = 1
{t}.907 UTC [{b}] app@shop ERROR:  deadlock detected
{t}.907 UTC [{b}] app@shop DETAIL:  Process {b} waits for ShareLock on transaction 728; blocked by process {a}.
\tProcess {a} waits for ShareLock on transaction 729; blocked by process {b}.
\tProcess {b}: UPDATE accounts SET balance = balance - 1 WHERE id = 1
\tProcess {a}: UPDATE ledger SET amount = amount + 1 WHERE id = 2
{t}.907 UTC [{b}] app@shop HINT:  See server log for query details.
{t}.907 UTC [{b}] app@shop CONTEXT:  while updating tuple (0,1) in relation \"accounts\"
{t}.907 UTC [{b}] app@shop STATEMENT:  UPDATE accounts SET balance = balance - 1 WHERE id = 1
{t}.908 UTC [{b}] app@shop LOG:  statement: ROLLBACK
{t}.909 UTC [{a}] app@shop LOG:  statement: COMMIT
"
    )
}

/// Writes a generated input into `dir`.
fn generate(kind: &str, path: &Path) {
    match kind {
        "huge_line" => {
            let mut log = deadlock(101, 102, 0).into_bytes();
            log.extend_from_slice(
                b"2024-05-01 10:00:30.000 UTC [7000] app@shop LOG:  statement: SELECT '",
            );
            log.resize(log.len() + 50_000_000, b'x');
            log.extend_from_slice(b"'\n");
            log.extend_from_slice(deadlock(5477, 5478, 1).as_bytes());
            std::fs::write(path, log).unwrap();
        }
        other => panic!("cases.toml: unknown generated input {other}"),
    }
}

#[test]
fn every_bad_input_is_survived_and_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for case in cases() {
        let path = match &case.generate {
            Some(kind) => {
                let p = tmp.path().join(&case.input);
                generate(kind, &p);
                p
            }
            None => corpus().join(&case.input),
        };
        let out = Command::cargo_bin("lockgraph")
            .unwrap()
            .args([case.command.as_str(), "--format", "json"])
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code().unwrap_or(-1);
        let mut problems = Vec::new();
        if stderr.contains("panicked") || code == 101 {
            problems.push(format!("panicked: {stderr}"));
        }
        if code != case.exit {
            problems.push(format!("exit {code}, expected {}", case.exit));
        }
        for w in &case.warnings {
            // Warnings name the file as given: a generated one lives in the temporary dir.
            if !stderr.contains(w.as_str()) {
                problems.push(format!("no warning `{w}`"));
            }
        }
        match serde_json::from_slice::<serde_json::Value>(&out.stdout) {
            Err(e) => problems.push(format!("stdout is not JSON: {e}")),
            Ok(v) => {
                let codes: std::collections::BTreeSet<&str> = v["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|f| f["code"].as_str())
                    .collect();
                let want: std::collections::BTreeSet<&str> =
                    case.findings.iter().map(String::as_str).collect();
                if codes != want {
                    problems.push(format!("findings {codes:?}, expected {want:?}"));
                }
                let tx = v["summary"]["transactions"].as_u64().unwrap_or(0);
                if tx != case.transactions {
                    problems.push(format!("{tx} transactions, expected {}", case.transactions));
                }
                for d in &case.diagnostics {
                    let (place, message) = d.split_once(": ").unwrap();
                    let found = v["findings"].as_array().unwrap().iter().any(|f| {
                        f["message"].as_str().unwrap_or("").contains(message)
                            && f["locations"].as_array().unwrap().iter().any(|l| {
                                format!(
                                    "{}:{}",
                                    l["path"].as_str().unwrap_or("").rsplit('/').next().unwrap(),
                                    l["line"]
                                ) == place
                            })
                    });
                    if !found {
                        problems.push(format!("no diagnostic `{d}`"));
                    }
                }
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{} ({}):\n  {}\n  stderr: {}",
                case.input,
                case.about,
                problems.join("\n  "),
                stderr.chars().take(2000).collect::<String>()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_corpus_file_is_a_case() {
    let listed: Vec<String> = cases().into_iter().map(|c| c.input).collect();
    for e in std::fs::read_dir(corpus()).unwrap().flatten() {
        let name = e.file_name().into_string().unwrap();
        if name == "cases.toml" || name == "README.md" {
            continue;
        }
        assert!(
            listed.contains(&name),
            "tests/data/bad/{name} has no case in cases.toml"
        );
    }
}
