//! End-to-end: configuration files. One test per key of `lockgraph.toml` (each runs the binary in
//! `tests/data/config/<key>/` with and without the file), discovery and precedence, errors that
//! point into the file, the configuration applied to `logs` and `live`, and the exit codes
//! 0 / 1 / 2.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn data(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/config")
        .join(case)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

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

    /// `(code, first location's path)` of every finding, from JSON output.
    fn found(&self) -> Vec<(String, String)> {
        self.json()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["code"].as_str().unwrap().to_string(),
                    f["locations"][0]["path"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    fn codes(&self) -> Vec<String> {
        self.found().into_iter().map(|(c, _)| c).collect()
    }

    /// What users see: exit code, stdout, stderr.
    fn shown(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn run_in(dir: &Path, args: &[&str]) -> Run {
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

/// `lockgraph check -f json ARGS .` in `tests/data/config/<case>`.
fn check(case: &str, args: &[&str]) -> Run {
    check_paths(case, &["."], args)
}

/// `lockgraph check -f json ARGS PATHS` in `tests/data/config/<case>`.
fn check_paths(case: &str, paths: &[&str], args: &[&str]) -> Run {
    let mut all = vec!["check", "-f", "json"];
    all.extend(args);
    all.extend(paths);
    run_in(&data(case), &all)
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

// ---- one test per key ------------------------------------------------------------------------

#[test]
fn key_include() {
    assert_eq!(
        check("include", &[]).found(),
        pairs(&[("LG102", "db/stock.sql")])
    );
    assert_eq!(
        check("include", &["--no-config"]).found(),
        pairs(&[("LG102", "db/stock.sql"), ("LG103", "scratch/transfer.sql")])
    );
    // A flag replaces the key.
    assert_eq!(
        check("include", &["--include", "scratch/**"]).found(),
        pairs(&[("LG103", "scratch/transfer.sql")])
    );
    // Files named on the command line are read whatever `include` says.
    assert_eq!(
        check_paths("include", &["scratch/transfer.sql"], &[]).codes(),
        ["LG103"]
    );
}

#[test]
fn key_exclude() {
    assert_eq!(
        check("exclude", &[]).found(),
        pairs(&[("LG102", "db/stock.sql")])
    );
    assert_eq!(check("exclude", &["--no-config"]).found().len(), 2);
    assert_eq!(
        check("exclude", &["--exclude", "db/**"]).found(),
        pairs(&[("LG103", "scratch/transfer.sql")])
    );
}

#[test]
fn key_exclude_is_relative_to_the_config_directory() {
    // Run from a subdirectory: the globs still mean paths from the file's directory.
    let r = run_in(&data("exclude/scratch"), &["check", "-f", "json", "."]);
    assert_eq!(r.codes(), Vec::<String>::new(), "{}", r.stderr);
    let r = run_in(&data("exclude/db"), &["check", "-f", "json", "."]);
    assert_eq!(r.codes(), ["LG102"]);
}

#[test]
fn key_file_transaction() {
    let r = check("file-transaction", &[]);
    assert_eq!(r.codes(), ["LG101"], "{}", r.stdout);
    let labels = r.json()["findings"][0]["locations"].to_string();
    assert!(labels.contains("deploy/0001_rebalance.sql"), "{labels}");
    assert!(
        check("file-transaction", &["--no-config"])
            .codes()
            .is_empty()
    );
}

#[test]
fn key_migration_transactions() {
    assert!(check("migration-transactions", &[]).codes().is_empty());
    assert_eq!(
        check("migration-transactions", &["--no-config"]).codes(),
        ["LG101"]
    );
}

#[test]
fn key_schema() {
    // The foreign key is in ddl/schema.sql, outside the checked directory; the file itself is not
    // checked (its broken statement is not reported).
    let r = check_paths("schema", &["app"], &[]);
    assert_eq!(r.found(), pairs(&[("LG102", "app/checkout.sql")]));
    assert!(
        check_paths("schema", &["app"], &["--no-config"])
            .codes()
            .is_empty()
    );
}

#[test]
fn key_select() {
    assert_eq!(check("select", &[]).codes(), ["LG102"]);
    assert_eq!(
        check("select", &["--no-config"]).codes(),
        ["LG102", "LG103"]
    );
    assert_eq!(check("select", &["--select", "LG103"]).codes(), ["LG103"]);
}

#[test]
fn key_ignore() {
    assert_eq!(check("ignore", &[]).codes(), ["LG102"]);
    assert_eq!(check("ignore", &["--ignore", "LG102"]).codes(), ["LG103"]);
}

#[test]
fn key_fail_on() {
    // One LG103 finding, a warning: the configuration makes it fail the run.
    assert_eq!(check("fail-on", &[]).code, 1);
    assert_eq!(check("fail-on", &["--no-config"]).code, 0);
    assert_eq!(check("fail-on", &["--fail-on", "error"]).code, 0);
}

#[test]
fn key_severity() {
    let r = check("severity", &[]);
    let severities: Vec<(String, String)> = r.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(severities, pairs(&[("LG102", "info"), ("LG103", "error")]));
    assert_eq!(r.json()["summary"]["errors"], 1);
    // The overrides count for the exit code: only LG103 is an error now.
    assert_eq!(r.code, 1);
    assert_eq!(
        check("severity", &["--ignore", "LG103"]).code,
        0,
        "LG102 is info here"
    );
}

#[test]
fn key_order() {
    let r = check("order", &[]);
    assert_eq!(r.codes(), ["LG104"]);
    assert_eq!(r.code, 1);
    let f = &r.json()["findings"][0];
    assert_eq!(f["relations"], serde_json::json!(["accounts", "orders"]));
    assert_eq!(
        f["suggestion"]["edits"][0],
        "in `pay.sql:2`: lock accounts before orders: move line 4 above line 3 (pay.sql)"
    );
    assert!(check("order", &["--no-config"]).codes().is_empty());
}

#[test]
fn key_groups() {
    // jobs/ is serialized (no self-deadlock); migrations/ is declared concurrent (it can).
    assert_eq!(
        check("groups", &[]).found(),
        pairs(&[("LG102", "migrations/0003_restock.sql")])
    );
    assert_eq!(
        check("groups", &["--no-config"]).found(),
        pairs(&[("LG102", "jobs/restock.sql")])
    );
}

// ---- discovery and precedence ----------------------------------------------------------------

#[test]
fn pyproject_tool_lockgraph_is_read() {
    assert!(check("pyproject", &[]).codes().is_empty());
    assert_eq!(check("pyproject", &["--no-config"]).codes(), ["LG102"]);
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const UPGRADE: &str = "BEGIN;\nSELECT qty FROM inventory WHERE sku_id = 7 FOR SHARE;\n\
                       UPDATE inventory SET qty = qty - 1 WHERE sku_id = 7;\nCOMMIT;\n";

#[test]
fn discovery_from_the_checked_path_then_the_working_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    write(t, "proj/lockgraph.toml", "ignore = [\"LG102\"]\n");
    write(t, "proj/db/stock.sql", UPGRADE);
    write(t, "other/stock.sql", UPGRADE);
    write(t, "cwd/lockgraph.toml", "fail-on = \"never\"\n");
    // Upward from the checked file's directory, though the working directory has none.
    let r = run_in(t, &["check", "-f", "json", "proj/db/stock.sql"]);
    assert!(r.codes().is_empty(), "{}", r.stdout);
    // A path with no configuration above it uses the working directory's.
    let r = run_in(&t.join("cwd"), &["check", "../other"]);
    assert_eq!(r.code, 0, "{}", r.shown());
    assert!(r.stdout.contains("LG102"));
    // --config names the file; --no-config ignores them all.
    let r = run_in(
        t,
        &[
            "check",
            "other",
            "--config",
            "proj/lockgraph.toml",
            "-f",
            "json",
        ],
    );
    assert!(r.codes().is_empty());
    let r = run_in(t, &["check", "proj", "--no-config", "-f", "json"]);
    assert_eq!(r.codes(), ["LG102"]);
    // lockgraph.toml wins over pyproject.toml in one directory.
    write(
        t,
        "proj/pyproject.toml",
        "[tool.lockgraph]\nselect = [\"LG103\"]\n",
    );
    let r = run_in(t, &["check", "proj", "-f", "json"]);
    assert!(r.codes().is_empty(), "{}", r.stdout);
    // Inputs under different configuration files: one run has one configuration.
    write(t, "proj2/lockgraph.toml", "\n");
    write(t, "proj2/stock.sql", UPGRADE);
    let r = run_in(t, &["check", "proj", "proj2"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(
            "governed by different configuration files: proj/lockgraph.toml, proj2/lockgraph.toml"
        ),
        "{}",
        r.stderr
    );
    // A pyproject.toml without [tool.lockgraph] is not a configuration: discovery goes on.
    write(t, "py/pyproject.toml", "[project]\nname = \"x\"\n");
    write(t, "py/stock.sql", UPGRADE);
    let r = run_in(&t.join("py"), &["check", "-f", "json", "."]);
    assert_eq!(r.codes(), ["LG102"]);
    let r = run_in(&t.join("py"), &["check", "--config", "pyproject.toml", "."]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no [tool.lockgraph] table"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_lg104_fixtures_find_their_configuration() {
    // As the fixture test runs them: from the workspace root, no --config.
    let r = run_in(
        &root(),
        &[
            "check",
            "-f",
            "json",
            "tests/data/rules/LG104/bad_update_order_then_account.sql",
        ],
    );
    assert_eq!(r.codes(), ["LG104"], "{}", r.stderr);
}

// ---- errors point into the file ----------------------------------------------------------------

#[test]
fn unknown_keys_are_all_reported_with_their_place() {
    let r = run_in(&data("unknown-keys"), &["check", "."]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty(), "nothing is checked: {}", r.stdout);
    insta::assert_snapshot!("unknown_keys", r.shown());
}

#[test]
fn rules_and_values_that_match_nothing_are_errors() {
    let r = run_in(&data("bad-values"), &["check", "."]);
    assert_eq!(r.code, 2);
    insta::assert_snapshot!("bad_values", r.shown());
}

#[test]
fn type_errors_and_broken_toml_point_into_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "lockgraph.toml", "select = \"LG101\"\n");
    write(tmp.path(), "a.sql", UPGRADE);
    let r = run_in(tmp.path(), &["check", "."]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .starts_with("lockgraph: error: lockgraph.toml:1:10: invalid type: string \"LG101\", expected a sequence"),
        "{}",
        r.stderr
    );
    write(tmp.path(), "lockgraph.toml", "order = [\"a\",\n");
    let r = run_in(tmp.path(), &["check", "."]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with("lockgraph: error: lockgraph.toml:"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("invalid TOML"), "{}", r.stderr);
    // In a pyproject.toml the place is in the whole file.
    write(
        tmp.path(),
        "pyproject.toml",
        "[project]\nname = \"x\"\n\n[tool.lockgraph]\nfail-on = \"warning\"\nselct = []\n",
    );
    std::fs::remove_file(tmp.path().join("lockgraph.toml")).unwrap();
    let r = run_in(tmp.path(), &["check", "."]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .starts_with("lockgraph: error: pyproject.toml:6:1: unknown key `selct`"),
        "{}",
        r.stderr
    );
}

// ---- logs and live ---------------------------------------------------------------------------

#[test]
fn logs_and_live_apply_select_ignore_severity_and_fail_on() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("lockgraph.toml");
    let log = root().join("tests/data/rules/LG401/bad_two_table_cycle.log");
    let log = log.to_str().unwrap();
    let cfg_s = cfg.to_str().unwrap();

    std::fs::write(&cfg, "[severity]\ndeadlock-observed = \"warning\"\n").unwrap();
    let r = run_in(tmp.path(), &["logs", log, "-f", "json"]);
    let v = r.json();
    let lg401: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "LG401")
        .map(|f| &f["severity"])
        .collect();
    assert!(
        !lg401.is_empty() && lg401.iter().all(|s| *s == "warning"),
        "{lg401:?}"
    );
    std::fs::write(
        &cfg,
        "ignore = [\"LG401\", \"LG101\", \"unmodelled-statement\"]\n",
    )
    .unwrap();
    let r = run_in(tmp.path(), &["logs", log, "-f", "json"]);
    assert!(r.codes().is_empty(), "{}", r.stdout);
    assert_eq!(r.code, 0);
    // Explicit --config from elsewhere, and fail-on.
    std::fs::write(&cfg, "fail-on = \"never\"\n").unwrap();
    let r = run_in(&root(), &["logs", log, "--config", cfg_s]);
    assert_eq!(r.code, 0, "{}", r.shown());
    let r = run_in(&root(), &["logs", log, "--no-config"]);
    assert_eq!(r.code, 1);

    let snapshot = "tests/data/rules/LG403/bad_active_root.json";
    std::fs::write(&cfg, "ignore = [\"root-blocker\"]\n").unwrap();
    let r = run_in(
        &root(),
        &[
            "live",
            "--snapshot",
            snapshot,
            "-f",
            "json",
            "--config",
            cfg_s,
        ],
    );
    assert!(!r.codes().contains(&"LG403".to_string()), "{}", r.stdout);
    let r = run_in(&root(), &["live", "--snapshot", snapshot, "-f", "json"]);
    assert!(r.codes().contains(&"LG403".to_string()), "{}", r.stdout);
    // A broken configuration stops logs and live with exit 2 too.
    std::fs::write(&cfg, "fail-on = 3\n").unwrap();
    let r = run_in(&root(), &["logs", log, "--config", cfg_s]);
    assert_eq!(r.code, 2);
    let r = run_in(
        &root(),
        &["live", "--snapshot", snapshot, "--config", cfg_s],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("lockgraph.toml:1:11"), "{}", r.stderr);
}

// ---- exit codes ------------------------------------------------------------------------------

/// 0: no finding at or above fail-on; 1: findings; 2: usage, input or configuration error.
#[test]
fn exit_codes() {
    // 0
    assert_eq!(check("order", &["--no-config"]).code, 0);
    assert_eq!(check("select", &["--fail-on", "never"]).code, 0);
    // 1
    assert_eq!(check("order", &[]).code, 1);
    // 2: configuration errors
    assert_eq!(check("unknown-keys", &[]).code, 2);
    assert_eq!(check("bad-values", &[]).code, 2);
    assert_eq!(check("order", &["--config", "missing.toml"]).code, 2);
    // 2: usage errors (clap)
    assert_eq!(
        check("order", &["--config", "lockgraph.toml", "--no-config"]).code,
        2
    );
    assert_eq!(check("order", &["--fail-on", "sometimes"]).code, 2);
    // 2: input errors, even with findings
    assert_eq!(check_paths("order", &[".", "missing.sql"], &[]).code, 2);
    assert_eq!(check("order", &["--select", "LG000"]).code, 2);
}
