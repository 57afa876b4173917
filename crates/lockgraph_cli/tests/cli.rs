//! End-to-end: the `lockgraph` binary on fixtures and samples — exit codes, every format, and
//! snapshots of exactly what users see.

use assert_cmd::Command;
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

fn json(args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let r = run(&all);
    let v = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}\n{}", r.stdout, r.stderr));
    (r.code, v)
}

fn codes(v: &serde_json::Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// Every `tests/data/rules/<CODE>/{bad,good}_*.{sql,py,log,json}` fixture: `(code, path, bad)`.
/// Files directly under `tests/data/rules` (`python_schema.sql`, scripts) are not fixtures.
fn fixtures() -> Vec<(String, String, bool)> {
    let dir = root().join("tests/data/rules");
    let mut out = Vec::new();
    for code_dir in std::fs::read_dir(&dir).expect("tests/data/rules") {
        let code_dir = code_dir.unwrap().path();
        if !code_dir.is_dir() {
            continue;
        }
        let code = code_dir.file_name().unwrap().to_string_lossy().into_owned();
        for f in std::fs::read_dir(&code_dir).unwrap() {
            let f = f.unwrap().path();
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            let input = [".sql", ".py", ".log", ".json"]
                .iter()
                .any(|ext| name.ends_with(ext));
            if input && (name.starts_with("bad_") || name.starts_with("good_")) {
                let rel = format!("tests/data/rules/{code}/{name}");
                out.push((code.clone(), rel, name.starts_with("bad_")));
            }
        }
    }
    out.sort();
    out
}

/// Server-log fixtures (runtime rules, 4xx) go through `lockgraph logs`, saved live snapshots
/// (`.json`, LG402–LG405) through `lockgraph live --snapshot`; SQL and Python through `check`.
fn command_for(path: &str) -> Vec<&str> {
    if path.ends_with(".log") {
        vec!["logs", path]
    } else if path.ends_with(".json") {
        vec!["live", "--snapshot", path]
    } else {
        vec!["check", path]
    }
}

/// Snapshot name of a fixture: `LG101__bad_two_table_rows` for SQL and logs, with the extension
/// kept for Python (`LG904__bad_stale_suppression.py`), which may share a stem with a SQL fixture.
fn snapshot_name(code: &str, path: &str) -> String {
    let p = Path::new(path);
    let name = if path.ends_with(".py") {
        p.file_name()
    } else {
        p.file_stem()
    };
    format!("{code}__{}", name.unwrap().to_string_lossy())
}

#[test]
fn every_rule_has_bad_and_good_fixtures() {
    let fx = fixtures();
    for rule in lockgraph_rules_codes() {
        assert!(
            fx.iter().any(|(c, _, bad)| c == &rule && *bad),
            "{rule} has no bad_* fixture in tests/data/rules/{rule}"
        );
        assert!(
            fx.iter().any(|(c, _, bad)| c == &rule && !*bad),
            "{rule} has no good_* fixture in tests/data/rules/{rule}"
        );
    }
}

fn lockgraph_rules_codes() -> Vec<String> {
    run(&["rules"])
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(String::from)
        .collect()
}

#[test]
fn bad_fixtures_report_their_rule_and_good_ones_do_not() {
    for (code, path, bad) in fixtures() {
        let mut args = command_for(&path);
        args.extend(["--fail-on", "info"]);
        let (exit, v) = json(&args);
        let found = codes(&v);
        if bad {
            assert!(
                found.contains(&code),
                "{path}: expected {code}, got {found:?}"
            );
            assert_eq!(exit, 1, "{path}: findings must exit 1");
        } else {
            assert!(!found.contains(&code), "{path}: unexpected {code}: {v:#}");
        }
    }
}

#[test]
fn bad_fixture_text_snapshots() {
    for (code, path, bad) in fixtures() {
        if !bad {
            continue;
        }
        let r = run(&command_for(&path));
        insta::assert_snapshot!(
            snapshot_name(&code, &path),
            format!("exit: {}\n{}", r.code, r.stdout)
        );
    }
}

#[test]
fn samples_report_inversion_upgrade_and_unordered_rows() {
    let (exit, v) = json(&["check", "samples/shop"]);
    assert_eq!(exit, 1);
    let found = codes(&v);
    for code in ["LG101", "LG102", "LG103"] {
        assert!(
            found.contains(&code.to_string()),
            "samples/shop lacks {code}: {found:?}"
        );
    }
    // Contract fields of docs/json.md.
    assert_eq!(v["schema_version"], 1);
    for f in v["findings"].as_array().unwrap() {
        for key in [
            "code",
            "name",
            "severity",
            "message",
            "relations",
            "locations",
            "fingerprint",
            "suggestion",
        ] {
            assert!(f.get(key).is_some(), "finding lacks `{key}`: {f:#}");
        }
        for loc in f["locations"].as_array().unwrap() {
            assert!(loc["path"].is_string() && loc["line"].is_u64());
        }
    }
    assert!(!v["graph"]["nodes"].as_array().unwrap().is_empty());
}

#[test]
fn fixed_samples_are_clean() {
    let (exit, v) = json(&["check", "samples/shop-fixed"]);
    let found = codes(&v);
    for code in ["LG101", "LG102", "LG103"] {
        assert!(
            !found.contains(&code.to_string()),
            "samples/shop-fixed reports {code}: {v:#}"
        );
    }
    assert_eq!(exit, 0, "{v:#}");
}

#[test]
fn samples_text_snapshot() {
    let r = run(&["check", "samples/shop"]);
    insta::assert_snapshot!(
        "samples_shop_text",
        format!("exit: {}\n{}", r.code, r.stdout)
    );
}

/// The Python fixtures cover every rule the Python front-end can trigger, with both a bad and a
/// good example.
#[test]
fn python_fixtures_cover_the_source_rules() {
    let fx = fixtures();
    for rule in ["LG101", "LG102", "LG103", "LG903", "LG904"] {
        for bad in [true, false] {
            assert!(
                fx.iter()
                    .any(|(c, p, b)| c == rule && *b == bad && p.ends_with(".py")),
                "{rule} has no Python {} fixture",
                if bad { "bad_*" } else { "good_*" }
            );
        }
    }
}

fn findings_of<'a>(v: &'a serde_json::Value, code: &str) -> Vec<&'a serde_json::Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .collect()
}

/// `path:line` of every label of a finding.
fn label_places(f: &serde_json::Value) -> Vec<String> {
    f["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            format!(
                "{}:{}",
                l["location"]["path"].as_str().unwrap(),
                l["location"]["line"]
            )
        })
        .collect()
}

/// The async Python service: the settle/reconcile inversion through the repository layer (LG101),
/// the SQLAlchemy share-then-update upgrade (LG102) and the Django checkout loop (LG103), each
/// pointing at the Python lines that take the locks.
#[test]
fn python_service_reports_inversion_upgrade_and_unordered_rows() {
    let (exit, v) = json(&["check", "samples/python-service"]);
    assert_eq!(exit, 1);
    let base = "samples/python-service";

    let lg101 = findings_of(&v, "LG101");
    assert_eq!(lg101.len(), 1, "{v:#}");
    assert_eq!(
        lg101[0]["relations"],
        serde_json::json!(["accounts", "ledger_entries"])
    );
    let places = label_places(lg101[0]);
    for file in ["app/repositories/accounts.py", "app/repositories/ledger.py"] {
        assert!(
            places
                .iter()
                .any(|p| p.starts_with(&format!("{base}/{file}:"))),
            "LG101 has no label in {file}: {places:?}"
        );
    }
    let message = lg101[0]["message"].as_str().unwrap();
    assert!(
        message.contains("transfers.settle_entry")
            && message.contains("reconcile.apply_correction"),
        "{message}"
    );

    let lg102 = findings_of(&v, "LG102");
    assert_eq!(lg102.len(), 1, "{v:#}");
    assert_eq!(lg102[0]["relations"], serde_json::json!(["stock_levels"]));
    assert!(
        label_places(lg102[0])
            .iter()
            .all(|p| p.starts_with(&format!("{base}/app/orm/inventory.py:"))),
        "{:#}",
        lg102[0]
    );

    let lg103 = findings_of(&v, "LG103");
    assert_eq!(lg103.len(), 1, "{v:#}");
    assert_eq!(lg103[0]["relations"], serde_json::json!(["shop_product"]));
    assert_eq!(label_places(lg103[0]), [format!("{base}/shop/views.py:25")]);
}

#[test]
fn python_service_fixed_is_clean() {
    let (exit, v) = json(&["check", "samples/python-service-fixed", "--fail-on", "info"]);
    assert!(
        codes(&v).iter().all(|c| !c.starts_with("LG1")),
        "samples/python-service-fixed reports a deadlock hazard: {v:#}"
    );
    assert_eq!(exit, 0, "{v:#}");
}

/// One graph over SQL and Python: a migration that locks two tables in the opposite order to
/// the application code is an inversion; `--exclude` takes the migration out; the unreadable
/// inputs are reported and the scan goes on.
#[test]
fn migrations_and_python_share_one_graph() {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &[u8]| {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(
        "migrations/0001_init.sql",
        b"CREATE TABLE accounts (id int PRIMARY KEY, n int);\nCREATE TABLE ledger (id int PRIMARY KEY, n int);\n",
    );
    write(
        "migrations/0002_widen.sql",
        b"ALTER TABLE ledger ADD COLUMN note text;\nALTER TABLE accounts ADD COLUMN frozen boolean;\n",
    );
    write(
        "app/billing.py",
        b"async def charge(conn, id):\n    async with conn.transaction():\n        await conn.execute(\"UPDATE accounts SET n = n - 1 WHERE id = $1\", id)\n        await conn.execute(\"UPDATE ledger SET n = n + 1 WHERE id = $1\", id)\n",
    );
    write("app/broken.py", b"def f(:\n    pass\n");
    // Generated code over the size limit is skipped, not parsed.
    let generated = "X = 1\n".repeat((lockgraph_cli::pipeline::MAX_SOURCE_BYTES / 6 + 1) as usize);
    write("app/schema_pb2.py", generated.as_bytes());
    write("app/latin1.py", b"# caf\xe9\nX = 1\n");
    let root = dir.path().to_str().unwrap();
    let r = run(&["check", root, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    let inversion = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "LG101")
        .unwrap_or_else(|| panic!("no LG101: {v:#}"));
    let paths: Vec<&str> = inversion["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.iter().any(|p| p.ends_with("app/billing.py")),
        "{paths:?}"
    );
    assert!(
        paths
            .iter()
            .any(|p| p.ends_with("migrations/0002_widen.sql")),
        "{paths:?}"
    );
    assert!(
        r.stderr.contains("broken.py:1: Python syntax error"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("latin1.py:1: invalid UTF-8"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("schema_pb2.py:1: 8 MiB of source code (generated code?)"),
        "{}",
        r.stderr
    );
    assert_eq!(r.code, 1);

    let (_, v) = json(&["check", root, "--exclude", "migrations/0002_*"]);
    assert!(!codes(&v).contains(&"LG101".to_string()), "{v:#}");
    let (_, v) = json(&["check", root, "--include", "*.py"]);
    assert!(!codes(&v).contains(&"LG101".to_string()), "{v:#}");
}

#[test]
fn python_service_text_snapshot() {
    let r = run(&["check", "samples/python-service"]);
    insta::assert_snapshot!(
        "samples_python_service_text",
        format!("exit: {}\n{}", r.code, r.stdout)
    );
}

#[test]
fn graph_formats() {
    let dot = run(&["check", "samples/shop", "--format", "dot"]);
    assert!(
        dot.stdout.starts_with("digraph lockgraph {"),
        "{}",
        dot.stdout
    );
    assert!(
        dot.stdout.contains("color=red"),
        "cycle edges are highlighted"
    );
    assert_eq!(dot.code, 1);
    let mermaid = run(&["check", "samples/shop", "--format", "mermaid"]);
    assert!(mermaid.stdout.starts_with("flowchart LR"));
    assert!(mermaid.stdout.contains("==>"));
    insta::assert_snapshot!("samples_shop_dot", dot.stdout);
    insta::assert_snapshot!("samples_shop_mermaid", mermaid.stdout);
}

#[test]
fn exit_codes() {
    assert_eq!(
        run(&["check", "samples/shop", "--fail-on", "never"]).code,
        0
    );
    assert_eq!(
        run(&["check", "samples/shop-fixed", "--fail-on", "warning"]).code,
        0
    );
    let missing = run(&["check", "does/not/exist"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("does/not/exist"),
        "{}",
        missing.stderr
    );
    let bad_rule = run(&["check", "samples/shop", "--select", "LG999"]);
    assert_eq!(bad_rule.code, 2);
    assert!(bad_rule.stderr.contains("unknown rule"));
    assert_eq!(run(&["rules"]).code, 0);
    assert_eq!(run(&["rule", "lock-order-inversion"]).code, 0);
    assert_eq!(run(&["rule", "LG000"]).code, 2);
}

#[test]
fn literals_are_redacted_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("t.sql");
    std::fs::write(
        &f,
        "BEGIN;\nUPDATE a SET note = 'jane@example.com' WHERE id = 4242;\nUPDATE b SET n = 7 WHERE id = 4242;\nCOMMIT;\n\
         BEGIN;\nUPDATE b SET n = 8 WHERE id = 4242;\nUPDATE a SET note = 'x' WHERE id = 4242;\nCOMMIT;\n",
    )
    .unwrap();
    let path = f.to_str().unwrap();
    let redacted = run(&["check", path, "--format", "json"]);
    assert!(redacted.stdout.contains("LG101"));
    assert!(
        !redacted.stdout.contains("jane@example.com") && !redacted.stdout.contains("4242"),
        "{}",
        redacted.stdout
    );
    let shown = run(&["check", path, "--format", "json", "--show-literals"]);
    assert!(shown.stdout.contains("jane@example.com"));
}

#[test]
fn bad_input_is_reported_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.sql"), b"BEGIN;\nUPDATE a SET n = 1 WHERE id = 1;\nUPDATE b SET note = 'caf\xe9' WHERE id = 1;\nCOMMIT;\n").unwrap();
    std::fs::write(dir.path().join("b.sql"), "BEGIN;\nUPDATE b SET n = 1 WHERE id = 1;\nUPDATE a SET n = 1 WHERE id = 1;\nCOMMIT;\nSELEC broken FROM;\n").unwrap();
    let r = run(&["check", dir.path().to_str().unwrap(), "--format", "json"]);
    assert!(r.stderr.contains("a.sql:3: invalid UTF-8"), "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let found = codes(&v);
    assert!(
        found.contains(&"LG101".to_string()),
        "analysis continued past bad bytes: {found:?}"
    );
    assert!(
        found.contains(&"LG901".to_string()),
        "unparseable statement reported: {found:?}"
    );
    assert_eq!(r.code, 1);
}

/// README's rules table and example finding are generated: this test keeps them true
/// (`LOCKGRAPH_UPDATE_DOCS=1` rewrites them).
#[test]
fn readme_is_generated_from_the_program() {
    let path = root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let table = lockgraph_rules::rules_table_markdown("docs/rules.md");
    let sample = run(&["check", "samples/shop", "--select", "LG101"]).stdout;
    // The first finding of the sample report (up to the blank line that ends it).
    let example = sample
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .trim_end()
        .to_string();
    let mut expected = replace_between(
        &readme,
        "<!-- rules:start -->\n",
        "<!-- rules:end -->",
        &table,
    );
    expected = replace_between(
        &expected,
        "<!-- example:start -->\n",
        "<!-- example:end -->",
        &format!("```text\n$ lockgraph check samples/shop\n{example}\n```\n"),
    );
    if std::env::var_os("LOCKGRAPH_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &expected).unwrap();
        return;
    }
    assert!(
        readme == expected,
        "README.md is stale: run `LOCKGRAPH_UPDATE_DOCS=1 cargo test -p lockgraph_cli --test cli readme`"
    );
}

fn replace_between(text: &str, start: &str, end: &str, with: &str) -> String {
    let (Some(a), Some(b)) = (text.find(start), text.find(end)) else {
        panic!("markers {start:?} {end:?} missing")
    };
    format!("{}{start}{with}{}", &text[..a], &text[b..])
}

/// A log in which two transaction shapes ran in opposite orders without deadlocking yet: the
/// deadlock is predicted (LG101) from the observed orders, and no deadlock is reported (LG401).
#[test]
fn logs_predict_deadlocks_that_have_not_happened_yet() {
    let (exit, v) = json(&["logs", "samples/logs/postgresql-old.log.gz"]);
    assert_eq!(exit, 1);
    let findings = v["findings"].as_array().unwrap();
    let lg101: Vec<_> = findings.iter().filter(|f| f["code"] == "LG101").collect();
    assert_eq!(lg101.len(), 1, "{v:#}");
    assert_eq!(
        lg101[0]["relations"],
        serde_json::json!(["accounts", "ledger"])
    );
    assert!(
        lg101[0]["locations"][0]["path"]
            .as_str()
            .unwrap()
            .ends_with("postgresql-old.log.gz")
    );
    assert!(!findings.iter().any(|f| f["code"] == "LG401"));
}

/// Every deadlock of the sample log is reported with its relations, and the literals of the
/// statements (account ids, amounts) never reach the output unless asked for.
#[test]
fn logs_explain_reported_deadlocks_with_literals_redacted() {
    let (_, v) = json(&["logs", "samples/logs/postgresql.log"]);
    let lg401: Vec<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "LG401")
        .collect();
    assert_eq!(lg401.len(), 8, "{v:#}");
    let relations: Vec<String> = lg401.iter().map(|f| f["relations"].to_string()).collect();
    assert!(
        relations
            .iter()
            .any(|r| r.contains("accounts") && r.contains("ledger")),
        "{relations:?}"
    );
    let text = serde_json::to_string(&lg401).unwrap();
    assert!(!text.contains("balance - 1 "), "literals leaked: {text}");
    let shown = run(&[
        "logs",
        "samples/logs/postgresql.log",
        "--format",
        "json",
        "--show-literals",
    ])
    .stdout;
    assert!(
        shown.contains("balance - 1 WHERE id = 1"),
        "--show-literals shows statements as logged"
    );
}
