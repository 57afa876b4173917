//! End-to-end: `--write-baseline` / `--baseline` (only new findings are reported) and
//! `--diff-base REV` on temporary git repositories (only findings on changed lines are reported).

use assert_cmd::Command;
use std::path::Path;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("bad JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }

    /// `code file:line` of each finding's primary label.
    fn found(&self) -> Vec<String> {
        self.json()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let labels = f["labels"].as_array().unwrap();
                let primary = labels.iter().find(|l| l["primary"] == true).unwrap();
                format!(
                    "{} {}:{}",
                    f["code"].as_str().unwrap(),
                    primary["location"]["path"].as_str().unwrap(),
                    primary["location"]["line"]
                )
            })
            .collect()
    }
}

fn lockgraph(dir: &Path, args: &[&str]) -> Run {
    let out = Command::cargo_bin("lockgraph")
        .expect("binary")
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("run lockgraph");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// Two concurrent runs deadlock on one row (LG102).
const UPGRADE: &str = "BEGIN;\nSELECT qty FROM inventory WHERE sku_id = 7 FOR SHARE;\n\
                       UPDATE inventory SET qty = qty - 1 WHERE sku_id = 7;\nCOMMIT;\n";
/// accounts, then ledger.
const TRANSFER: &str = "BEGIN;\nUPDATE accounts SET n = n - 1 WHERE id = 1;\n\
                        UPDATE ledger SET n = n + 1 WHERE id = 1;\nCOMMIT;\n";
/// ledger, then accounts: with TRANSFER, a cycle (LG101).
const REFUND: &str = "BEGIN;\nUPDATE ledger SET n = n - 1 WHERE id = 1;\n\
                      UPDATE accounts SET n = n + 1 WHERE id = 1;\nCOMMIT;\n";

#[test]
fn baseline_round_trip_reports_only_new_findings() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    write(t, "db/stock.sql", UPGRADE);
    write(t, "db/transfer.sql", TRANSFER);

    // Writing: the run succeeds whatever it finds, and records it.
    let w = lockgraph(
        t,
        &["check", "db", "--write-baseline", "lockgraph-baseline.json"],
    );
    assert_eq!(w.code, 0, "{}", w.stderr);
    assert!(
        w.stderr
            .contains("wrote 1 finding to the baseline lockgraph-baseline.json"),
        "{}",
        w.stderr
    );
    assert!(w.stdout.contains("LG102"), "the report is still shown");
    let text = std::fs::read_to_string(t.join("lockgraph-baseline.json")).unwrap();
    let b: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(b["schema_version"], 1);
    let entry = &b["entries"][0];
    assert_eq!(entry["code"], "LG102");
    assert_eq!(entry["name"], "lock-upgrade");
    assert_eq!(entry["relations"], serde_json::json!(["inventory"]));
    assert_eq!(
        entry["location"],
        serde_json::json!({"path": "db/stock.sql", "line": 3})
    );
    assert!(entry["message"].as_str().unwrap().contains("upgrades"));
    let fingerprint = entry["fingerprint"].as_str().unwrap();
    assert_eq!(fingerprint.len(), 16);

    // Nothing new: clean.
    let r = lockgraph(
        t,
        &[
            "check",
            "db",
            "--baseline",
            "lockgraph-baseline.json",
            "-f",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.found().is_empty());

    // The baselined finding moves (lines above it): still baselined. A new finding appears:
    // only it is reported, and it fails the run.
    write(t, "db/stock.sql", &format!("-- restock\n\n{UPGRADE}"));
    write(t, "db/refund.sql", REFUND);
    let r = lockgraph(
        t,
        &[
            "check",
            "db",
            "--baseline",
            "lockgraph-baseline.json",
            "-f",
            "json",
        ],
    );
    assert_eq!(r.found(), ["LG101 db/transfer.sql:3"], "{}", r.stdout);
    assert_eq!(r.code, 1);
    // Without the baseline both are there, and the old one has the recorded fingerprint.
    let all = lockgraph(t, &["check", "db", "-f", "json"]);
    assert_eq!(all.found().len(), 2);
    assert!(all.stdout.contains(fingerprint));

    // The baselined statement is fixed: the entry is stale, and the run says so.
    write(t, "db/stock.sql", "SELECT 1;\n");
    let r = lockgraph(t, &["check", "db", "--baseline", "lockgraph-baseline.json"]);
    assert!(
        r.stderr
            .contains("1 baseline entry of lockgraph-baseline.json no longer match"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_bad_baseline_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    write(t, "a.sql", UPGRADE);
    let r = lockgraph(t, &["check", "a.sql", "--baseline", "missing.json"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("missing.json"), "{}", r.stderr);
    write(t, "b.json", "{\"findings\": []}");
    let r = lockgraph(t, &["check", "a.sql", "--baseline", "b.json"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("b.json is not a lockgraph baseline: no schema_version"),
        "{}",
        r.stderr
    );
}

// ---- --diff-base ---------------------------------------------------------------------------

/// Runs git in `dir` without the user's or the system's configuration.
fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "lockgraph tests")
        .env("GIT_AUTHOR_EMAIL", "tests@lockgraph.invalid")
        .env("GIT_COMMITTER_NAME", "lockgraph tests")
        .env("GIT_COMMITTER_EMAIL", "tests@lockgraph.invalid")
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "core.autocrlf=false",
        ])
        .args(args)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn diff_base_reports_findings_on_changed_lines_only() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    git(t, &["init", "-q"]);
    // Committed: an old hazard (LG102) and the first half of a future cycle.
    write(t, "db/stock.sql", UPGRADE);
    write(t, "db/transfer.sql", TRANSFER);
    write(t, ".gitignore", "scratch/\n");
    git(t, &["add", "."]);
    git(t, &["commit", "-q", "-m", "base"]);

    // Nothing changed: nothing to report.
    let r = lockgraph(t, &["check", "db", "--diff-base", "HEAD", "-f", "json"]);
    assert!(r.found().is_empty(), "{}", r.stdout);
    assert_eq!(r.code, 0);

    // A new, untracked file closes the cycle: reported, because one of its labels is on a
    // changed line (the other half is old code). The old LG102 is not.
    write(t, "db/refund.sql", REFUND);
    let r = lockgraph(t, &["check", "db", "--diff-base", "HEAD", "-f", "json"]);
    assert_eq!(r.found(), ["LG101 db/transfer.sql:3"], "{}", r.stdout);
    assert_eq!(r.code, 1);
    let full = lockgraph(t, &["check", "db", "-f", "json"]);
    assert_eq!(full.found().len(), 2);

    // Edits to a tracked file, committed or not, against an older revision: a new hazard
    // appended to stock.sql is reported; the old one in the same file is not.
    git(t, &["add", "db/refund.sql"]);
    git(t, &["commit", "-q", "-m", "refund"]);
    write(
        t,
        "db/stock.sql",
        &format!(
            "{UPGRADE}\nBEGIN;\nSELECT n FROM counters WHERE id = 1 FOR KEY SHARE;\nDELETE FROM counters WHERE id = 1;\nCOMMIT;\n"
        ),
    );
    let r = lockgraph(t, &["check", "db", "--diff-base", "HEAD~1", "-f", "json"]);
    assert_eq!(
        r.found(),
        ["LG102 db/stock.sql:8", "LG101 db/transfer.sql:3"],
        "{}",
        r.stdout
    );
    let r = lockgraph(t, &["check", "db", "--diff-base", "HEAD", "-f", "json"]);
    assert_eq!(r.found(), ["LG102 db/stock.sql:8"], "{}", r.stdout);

    // Run from a subdirectory, on a file: paths resolve against the repository.
    let r = lockgraph(
        &t.join("db"),
        &["check", "stock.sql", "--diff-base", "HEAD", "-f", "json"],
    );
    assert_eq!(r.found(), ["LG102 stock.sql:8"], "{}", r.stdout);

    // Ignored files are not "new".
    write(t, "scratch/x.sql", UPGRADE);
    let r = lockgraph(t, &["check", ".", "--diff-base", "HEAD", "-f", "json"]);
    assert_eq!(r.found(), ["LG102 db/stock.sql:8"], "{}", r.stdout);
}

#[test]
fn diff_base_errors_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    write(t, "repo/a.sql", UPGRADE);
    // Not a repository.
    let r = lockgraph(t, &["check", "repo", "--diff-base", "HEAD"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("is not inside a git repository"),
        "{}",
        r.stderr
    );
    // A revision that names no commit.
    git(&t.join("repo"), &["init", "-q"]);
    let r = lockgraph(t, &["check", "repo", "--diff-base", "HEAD"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--diff-base: `HEAD` is not a commit in"),
        "{}",
        r.stderr
    );
    git(&t.join("repo"), &["add", "."]);
    git(&t.join("repo"), &["commit", "-q", "-m", "one"]);
    let r = lockgraph(t, &["check", "repo", "--diff-base", "no-such-branch"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("`no-such-branch` is not a commit"),
        "{}",
        r.stderr
    );
    let r = lockgraph(t, &["check", "repo", "--diff-base=--output=/tmp/x"]);
    assert_eq!(r.code, 2, "an option is not a revision: {}", r.stderr);
    assert_eq!(
        lockgraph(t, &["check", "repo", "--diff-base", "HEAD"]).code,
        0
    );
}
