//! The sample service of every source language (`samples/<language>-service`): `lockgraph check`
//! reports the lock-order inversion written into it across files (LG101), with every edge
//! labelled at a line of the sample that really runs SQL or an ORM call, and the fixed variant
//! (`…-fixed`) reports no deadlock hazard. The findings (code, relations, labelled places) are
//! snapshotted per sample so a change in what is reported, or where, shows up in review.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn check_json(args: &[&str]) -> (i32, serde_json::Value) {
    let out = Command::cargo_bin("lockgraph")
        .unwrap()
        .current_dir(root())
        .arg("check")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: bad JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), v)
}

/// `samples/<language>-service` directories other than Python's (which `cli.rs` checks in
/// detail), sorted.
fn services() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(root().join("samples"))
        .expect("samples/")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with("-service") && n != "python-service")
        .collect();
    out.sort();
    out
}

/// `path:line` of every label of a finding.
fn places(f: &serde_json::Value) -> Vec<(String, u64)> {
    f["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["location"]["path"].as_str().unwrap().to_string(),
                l["location"]["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn check_service(name: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let base = format!("samples/{name}");
    let (exit, v) = check_json(&[&base]);
    if exit != 1 {
        problems.push(format!("{base}: exit {exit}, expected 1"));
    }
    let findings: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"].as_str().is_some_and(|c| c.starts_with("LG1")))
        .collect();
    let lg101: Vec<_> = findings.iter().filter(|f| f["code"] == "LG101").collect();
    if lg101.is_empty() {
        problems.push(format!("{base}: no LG101: {v:#}"));
    }
    for f in &lg101 {
        let files: std::collections::BTreeSet<String> =
            places(f).into_iter().map(|(p, _)| p).collect();
        if files.len() < 2 {
            problems.push(format!(
                "{base}: LG101 is not across files: {:?}",
                places(f)
            ));
        }
    }
    let mut shown = String::new();
    for f in &findings {
        shown.push_str(&format!(
            "{} {}\n",
            f["code"].as_str().unwrap(),
            f["relations"]
        ));
        for (path, line) in places(f) {
            let text = std::fs::read_to_string(root().join(&path)).unwrap_or_default();
            let code = text
                .lines()
                .nth(line.saturating_sub(1) as usize)
                .unwrap_or("")
                .trim();
            if !path.starts_with(&format!("{base}/")) || code.is_empty() {
                problems.push(format!(
                    "{base}: label at {path}:{line} is not a line of code"
                ));
            }
            shown.push_str(&format!("  {path}:{line}  {code}\n"));
        }
    }
    insta::assert_snapshot!(format!("service_{name}"), shown);

    let fixed = format!("{base}-fixed");
    let (exit, v) = check_json(&[&fixed]);
    let hazards: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["code"].as_str())
        .filter(|c| c.starts_with("LG1"))
        .collect();
    if !hazards.is_empty() || exit != 0 {
        problems.push(format!("{fixed}: exit {exit}, hazards {hazards:?}: {v:#}"));
    }
    problems
}

/// The language samples each test below covers; a new `samples/*-service` needs a test here.
const COVERED: [&str; 5] = [
    "go-service",
    "java-service",
    "js-service",
    "ruby-service",
    "rust-service",
];

#[test]
fn every_service_sample_has_a_test() {
    assert_eq!(services(), COVERED, "add a test for the new sample");
}

fn assert_service(name: &str) {
    let problems = check_service(name);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn go_service() {
    assert_service("go-service");
}

#[test]
fn java_service() {
    assert_service("java-service");
}

#[test]
fn js_service() {
    assert_service("js-service");
}

#[test]
fn ruby_service() {
    assert_service("ruby-service");
}

#[test]
fn rust_service() {
    assert_service("rust-service");
}
