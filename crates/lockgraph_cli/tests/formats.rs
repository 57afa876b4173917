//! End-to-end: the CI formats (`--format sarif|github|gitlab|junit`) from the `lockgraph` binary
//! on the samples — exit codes as with every other format, SARIF valid against the official
//! SARIF 2.1.0 schema, and log locations from `lockgraph logs`.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn lockgraph() -> Command {
    let mut cmd = Command::cargo_bin("lockgraph").expect("binary");
    cmd.current_dir(root()).env("NO_COLOR", "1");
    cmd
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let out = lockgraph().args(args).output().expect("run lockgraph");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `args` with `--format FORMAT`.
fn run_as(args: &[&str], format: &str) -> Run {
    let mut all = args.to_vec();
    all.extend(["--format", format]);
    run(&all)
}

/// The native JSON report: exit code and findings, to compare the other formats with.
fn native(args: &[&str]) -> (i32, Vec<Value>) {
    let r = run_as(args, "json");
    let v: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}\n{}", r.stdout, r.stderr));
    (r.code, v["findings"].as_array().expect("findings").clone())
}

fn assert_valid_sarif(text: &str) -> Value {
    let path = root().join("crates/lockgraph_report/tests/data/sarif-schema-2.1.0.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("schema")).expect("JSON");
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles");
    let log: Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("bad SARIF JSON ({e}): {text}"));
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF schema errors:\n{}",
        errors.join("\n")
    );
    log
}

const SHOP: &[&str] = &["check", "samples/shop"];

#[test]
fn check_sarif_is_valid_and_keeps_the_exit_code() {
    let (code, findings) = native(SHOP);
    assert_eq!(code, 1, "samples/shop has findings");
    let r = run_as(SHOP, "sarif");
    assert_eq!(r.code, code, "{}", r.stderr);
    let log = assert_valid_sarif(&r.stdout);
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), findings.len());
    for (result, finding) in results.iter().zip(&findings) {
        assert_eq!(result["ruleId"], finding["code"]);
        assert_eq!(
            result["partialFingerprints"]["lockgraph/v1"],
            finding["fingerprint"]
        );
        let artifact = &result["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(artifact["uriBaseId"], "%SRCROOT%");
        assert!(
            artifact["uri"]
                .as_str()
                .is_some_and(|u| u.starts_with("samples/shop/")),
            "{artifact}"
        );
    }
    let cycle = results
        .iter()
        .find(|r| r["ruleId"] == "LG101")
        .expect("an LG101 finding");
    let flows = cycle["codeFlows"][0]["threadFlows"]
        .as_array()
        .expect("threadFlows");
    assert!(flows.len() >= 2, "one thread flow per transaction: {cycle}");
}

#[test]
fn check_github_one_annotation_per_finding() {
    let (code, findings) = native(SHOP);
    let r = run_as(SHOP, "github");
    assert_eq!(r.code, code, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), findings.len(), "{}", r.stdout);
    for (line, finding) in lines.iter().zip(&findings) {
        let kind = match finding["severity"].as_str() {
            Some("error") => "::error ",
            Some("warning") => "::warning ",
            _ => "::notice ",
        };
        assert!(line.starts_with(kind), "{line}");
        assert!(line.contains(",title=LG"), "{line}");
        assert!(line.contains("file=samples/shop/"), "{line}");
    }
    insta::assert_snapshot!("check_shop_github", r.stdout);
}

#[test]
fn check_gitlab_code_quality() {
    let (code, findings) = native(SHOP);
    let r = run_as(SHOP, "gitlab");
    assert_eq!(r.code, code, "{}", r.stderr);
    let issues: Value = serde_json::from_str(&r.stdout).expect("JSON");
    let issues = issues.as_array().expect("an array");
    assert_eq!(issues.len(), findings.len());
    for (issue, finding) in issues.iter().zip(&findings) {
        assert_eq!(issue["check_name"], finding["code"]);
        assert!(issue["description"].is_string());
        assert!(issue["fingerprint"].is_string());
        assert!(issue["severity"].is_string());
        assert_eq!(issue["location"]["path"], finding["locations"][0]["path"]);
        assert!(issue["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
    }
}

#[test]
fn check_junit_fails_a_testcase_per_finding() {
    let (code, findings) = native(SHOP);
    let r = run_as(SHOP, "junit");
    assert_eq!(r.code, code, "{}", r.stderr);
    assert!(
        r.stdout
            .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites ")
    );
    assert!(r.stdout.trim_end().ends_with("</testsuites>"));
    assert_eq!(r.stdout.matches("<testcase ").count(), findings.len());
    assert_eq!(r.stdout.matches("<failure ").count(), findings.len());
}

#[test]
fn clean_junit_has_a_passing_testcase() {
    let args = ["check", "samples/shop", "--select", "LG904"];
    let (code, findings) = native(&args);
    assert_eq!(
        (code, findings.len()),
        (0, 0),
        "no unused suppressions in samples/shop"
    );
    let r = run_as(&args, "junit");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.matches("<testcase ").count(), 1, "{}", r.stdout);
    assert_eq!(r.stdout.matches("<failure ").count(), 0);
    let r = run_as(&args, "github");
    assert_eq!((r.code, r.stdout.as_str()), (0, ""));
    let r = run_as(&args, "sarif");
    assert_eq!(r.code, 0);
    let log = assert_valid_sarif(&r.stdout);
    assert_eq!(log["runs"][0]["results"], serde_json::json!([]));
}

#[test]
fn logs_sarif_points_into_the_log() {
    let args = ["logs", "samples/logs/postgresql.log", "--no-progress"];
    let (code, findings) = native(&args);
    assert!(!findings.is_empty(), "the sample log has findings");
    let r = run_as(&args, "sarif");
    assert_eq!(r.code, code, "{}", r.stderr);
    let log = assert_valid_sarif(&r.stdout);
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), findings.len());
    let in_log = results.iter().any(|r| {
        let loc = &r["locations"][0]["physicalLocation"];
        loc["artifactLocation"]["uri"] == "samples/logs/postgresql.log"
            && loc["region"]["startLine"].as_u64().is_some_and(|l| l > 0)
    });
    assert!(in_log, "a result points at a line of the log");
    // A deadlock the server reported: one thread flow per process, each through its statements.
    let observed = results
        .iter()
        .find(|r| r["ruleId"] == "LG401")
        .expect("an LG401 finding");
    let flows = observed["codeFlows"][0]["threadFlows"]
        .as_array()
        .expect("threadFlows");
    assert!(flows.len() >= 2, "{observed}");
    for flow in flows {
        let name = flow["message"]["text"].as_str().unwrap_or_default();
        assert!(name.starts_with("process "), "{name}");
    }
}
