//! End-to-end `lockgraph trace` against a real PostgreSQL: the report of a migration (text
//! snapshot and JSON), differences between inference and server, a lock timeout behind another
//! session, a statement that cannot be traced, and the refusal to run without `--url`.
//!
//! The server is `host=127.0.0.1 port=5432 user=postgres dbname=test` unless
//! `LOCKGRAPH_TEST_PG` gives another `key=value` connection string. When it cannot be reached,
//! a test prints a note to stderr and returns — except under `CI=true`, where it fails.
//!
//! Each test creates a scratch schema of its own (tests run concurrently with other suites on
//! the same server), points the traced connection's `search_path` at it with `options`, and
//! drops it at the end, also when the test fails.

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use tokio_postgres::{Client, NoTls};

const DEFAULT_SERVER: &str = "host=127.0.0.1 port=5432 user=postgres dbname=test";

/// The database the data files expect: `orders.customer_id` references `customers` (defined
/// here, not in the files).
const FIXTURE: &str = "
CREATE TABLE customers (id int PRIMARY KEY, name text);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers (id), total int);
INSERT INTO customers VALUES (1, 'a'), (2, 'b');
INSERT INTO orders VALUES (10, 1, 5), (11, 2, 7);
";

fn server_text() -> String {
    std::env::var("LOCKGRAPH_TEST_PG").unwrap_or_else(|_| DEFAULT_SERVER.to_string())
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn data(name: &str) -> String {
    format!("crates/lockgraph_cli/tests/data/trace/{name}")
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn lockgraph(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = cargo_bin_cmd!("lockgraph");
    cmd.current_dir(root()).env("NO_COLOR", "1").args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run lockgraph");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

async fn connect() -> Result<Client, tokio_postgres::Error> {
    let (client, conn) = tokio_postgres::connect(&server_text(), NoTls).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}

/// A scratch schema holding [`FIXTURE`]; dropped on drop.
struct Scratch {
    rt: tokio::runtime::Runtime,
    schema: String,
    setup: Client,
}

impl Scratch {
    /// The schema, or `None` (with a note) when there is no server outside CI.
    fn new(test: &str) -> Option<Scratch> {
        let rt = runtime();
        let setup = match rt.block_on(connect()) {
            Ok(c) => c,
            Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!("{test}: the PostgreSQL test server is required under CI=true: {e}")
            }
            Err(e) => {
                // Straight to stderr: the harness captures `eprintln!` of passing tests.
                let _ = writeln!(
                    std::io::stderr(),
                    "note: {test} did not run: no PostgreSQL test server ({e}); start one at \
                     127.0.0.1:5432 or set LOCKGRAPH_TEST_PG"
                );
                return None;
            }
        };
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let schema = format!(
            "lgtrace_cli_{}_{}_{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        rt.block_on(setup.batch_execute(&format!(
            "CREATE SCHEMA {schema}; SET search_path = {schema}; {FIXTURE}"
        )))
        .expect("fixture");
        Some(Scratch { rt, schema, setup })
    }

    /// The connection string `--url` gets: the test server, `search_path` = the schema.
    fn url(&self) -> String {
        format!("{} options='-c search_path={}'", server_text(), self.schema)
    }

    /// Runs `lockgraph trace FILE --url … ARGS`.
    fn trace(&self, file: &str, args: &[&str]) -> Run {
        let url = self.url();
        let path = data(file);
        let mut all = vec!["trace", path.as_str(), "--url", url.as_str()];
        all.extend(args);
        lockgraph(&all, &[])
    }

    fn json(&self, file: &str, args: &[&str]) -> (i32, Value) {
        let mut all = vec!["--format", "json"];
        all.extend(args);
        let r = self.trace(file, &all);
        let v = serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("bad JSON ({e}): {}\n{}", r.stdout, r.stderr));
        (r.code, v)
    }

    fn query_bool(&self, sql: &str) -> bool {
        self.rt
            .block_on(self.setup.query_one(sql, &[]))
            .expect("check query")
            .get(0)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = self.rt.block_on(
            self.setup
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema)),
        );
    }
}

/// Relation-lock `(relation without schema, mode)` pairs of a JSON statement's `locks_taken`
/// on tables that existed before the run.
fn table_locks(st: &Value, schema: &str) -> Vec<(String, String)> {
    st["locks_taken"]
        .as_array()
        .expect("locks_taken")
        .iter()
        .filter(|l| {
            l["locktype"] == "relation"
                && l["relkind"] == "table"
                && l["created_by_script"] == false
        })
        .map(|l| {
            let rel = l["relation"].as_str().expect("named");
            let bare = rel.strip_prefix(&format!("{schema}.")).unwrap_or(rel);
            (
                bare.to_string(),
                l["mode"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn trace_on_a_migration_matching_pg_locks() {
    let Some(s) = Scratch::new("trace_on_a_migration_matching_pg_locks") else {
        return;
    };
    let (code, v) = s.json("migration.sql", &[]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["rolled_back"], true);
    assert_eq!(v["summary"]["traced"], 6, "{:#}", v["summary"]);
    assert_eq!(v["summary"]["skipped"], 2);
    assert_eq!(v["summary"]["differed"], 0);
    let sts = v["statements"].as_array().expect("statements");
    let lines: Vec<u64> = sts.iter().map(|s| s["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [3, 4, 5, 6, 7, 9, 10, 11]);
    for i in [0, 7] {
        assert_eq!(sts[i]["status"], "skipped");
        assert!(
            sts[i]["skip_reason"]
                .as_str()
                .unwrap()
                .contains("transaction control"),
            "{:#}",
            sts[i]
        );
    }
    let schema = s.schema.as_str();
    let expected: [&[(&str, &str)]; 6] = [
        &[],
        &[("orders", "AccessExclusiveLock")],
        &[("orders", "ShareLock")],
        &[
            ("customers", "AccessShareLock"),
            ("customers", "RowShareLock"),
            ("customers", "ShareRowExclusiveLock"),
            ("orders", "AccessShareLock"),
            ("orders", "ShareRowExclusiveLock"),
        ],
        &[("orders", "RowExclusiveLock")],
        &[("customers", "ShareLock")],
    ];
    for (i, want) in expected.iter().enumerate() {
        let st = &sts[i + 1];
        assert_eq!(st["status"], "traced", "{st:#}");
        assert_eq!(
            table_locks(st, schema),
            pairs(want),
            "statement {}: {st:#}",
            i + 2
        );
        assert_eq!(st["verdict"], "matches", "{st:#}");
        assert_eq!(st["differences"], Value::Array(vec![]));
    }
    // The new table's own locks are reported, marked new, and not compared.
    let created: Vec<&Value> = sts[1]["locks_taken"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["created_by_script"] == true && l["relkind"] == "table")
        .collect();
    assert_eq!(created.len(), 2, "{:#}", sts[1]);
    // What ordinary traffic the ALTER TABLE blocks.
    let blocks = &sts[2]["blocks"][0];
    assert_eq!(blocks["strongest"], "AccessExclusiveLock");
    assert_eq!(
        (&blocks["reads"], &blocks["writes"]),
        (&Value::Bool(true), &Value::Bool(true))
    );
    assert_eq!(
        blocks["message"],
        format!(
            "ACCESS EXCLUSIVE on {schema}.orders — blocks reads and writes of {schema}.orders \
             until COMMIT"
        )
    );
    let fk_blocks: Vec<(&str, bool, bool)> = sts[4]["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["strongest"].as_str().unwrap(),
                b["reads"].as_bool().unwrap(),
                b["writes"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        fk_blocks,
        [
            ("ShareRowExclusiveLock", false, true),
            ("ShareRowExclusiveLock", false, true)
        ]
    );
    // Row locks are not in pg_locks: said, not flagged.
    let notes = sts[5]["notes"].to_string();
    assert!(notes.contains("not visible in pg_locks"), "{notes}");
    // Literals are redacted by default…
    assert_eq!(sts[5]["sql"], "UPDATE orders SET note = ? WHERE id = ?");
    // …and the run was rolled back.
    assert!(s.query_bool(&format!(
        "SELECT to_regclass('{schema}.shipments') IS NULL \
            AND to_regclass('{schema}.orders_total_idx') IS NULL \
            AND NOT EXISTS (SELECT 1 FROM pg_attribute \
                            WHERE attrelid = '{schema}.orders'::regclass AND attname = 'note')"
    )));
    let (_, shown) = s.json("migration.sql", &["--show-literals"]);
    assert_eq!(
        shown["statements"][5]["sql"],
        "UPDATE orders SET note = 'migrated' WHERE id = 10"
    );
}

#[test]
fn the_text_report_of_a_migration() {
    let Some(s) = Scratch::new("the_text_report_of_a_migration") else {
        return;
    };
    let r = s.trace("migration.sql", &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.stderr, "");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("crates/lockgraph_cli/tests/data/trace/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.add_filter(&regex_escape(&s.schema), "<schema>");
    settings.add_filter(
        r"trace of (\S+) on .* \(PostgreSQL [0-9.]+\)",
        "trace of $1 on <server>",
    );
    settings.add_filter(r"pg_toast_\d+", "pg_toast_<oid>");
    settings.bind(|| insta::assert_snapshot!("migration_text", r.stdout));
}

/// `s` as a regex matching itself (schema names are `[a-z0-9_]`, so only a guard).
fn regex_escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

#[test]
fn differences_between_inference_and_server_are_flagged() {
    let Some(s) = Scratch::new("differences_flagged") else {
        return;
    };
    let (code, v) = s.json("differs.sql", &[]);
    assert_eq!(code, 1, "{v:#}");
    let schema = s.schema.as_str();
    let diffs = |i: usize| -> Vec<(String, String, String)> {
        v["statements"][i]["differences"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["kind"].as_str().unwrap().to_string(),
                    d["relation"].as_str().unwrap().to_string(),
                    d["mode"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    // The foreign-key check of the INSERT (the FK is not in the file).
    assert_eq!(
        diffs(0),
        [(
            "missed".to_string(),
            format!("{schema}.customers"),
            "RowShareLock".to_string()
        )]
    );
    assert_eq!(v["statements"][0]["verdict"], "differs");
    // TRUNCATE … CASCADE also empties the referencing table.
    let truncate = diffs(1);
    assert!(
        truncate.contains(&(
            "missed".to_string(),
            format!("{schema}.orders"),
            "AccessExclusiveLock".to_string()
        )),
        "{truncate:?}"
    );
    let r = s.trace("differs.sql", &[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains(&format!(
            "inference missed ROW SHARE on {schema}.customers (the server took it)"
        )),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("inference: DIFFERS"), "{}", r.stdout);
}

#[test]
fn a_lock_held_by_another_session_fails_fast_with_55p03() {
    let Some(s) = Scratch::new("lock_timeout_55p03") else {
        return;
    };
    let holder = s.rt.block_on(connect()).expect("holder connection");
    s.rt.block_on(holder.batch_execute(&format!(
        "SET application_name = 'lockgraph-test-holder'; BEGIN; \
         LOCK TABLE {}.orders IN ACCESS EXCLUSIVE MODE",
        s.schema
    )))
    .expect("hold ACCESS EXCLUSIVE");
    let holder_pid: i32 =
        s.rt.block_on(holder.query_one("SELECT pg_backend_pid()", &[]))
            .unwrap()
            .get(0);
    let started = std::time::Instant::now();
    let (code, v) = s.json("migration.sql", &["--lock-timeout", "300ms"]);
    let took = started.elapsed();
    let r = s.trace("migration.sql", &["--lock-timeout", "300ms"]);
    s.rt.block_on(holder.batch_execute("ROLLBACK")).unwrap();
    assert_eq!(code, 2, "{v:#}");
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    assert_eq!(v["lock_timeout_ms"], 300);
    let sts = v["statements"].as_array().unwrap();
    // CREATE TABLE runs; ALTER TABLE orders waits for the holder and gives up.
    assert_eq!(sts[1]["status"], "traced");
    let failed = &sts[2];
    assert_eq!(failed["status"], "failed", "{failed:#}");
    assert_eq!(failed["error"]["sqlstate"], "55P03");
    assert_eq!(failed["error"]["lock_timeout"], true);
    assert_eq!(failed["waited_for"]["mode"], "AccessExclusiveLock");
    assert_eq!(
        failed["waited_for"]["relation"],
        format!("{}.orders", s.schema)
    );
    let blocker = &failed["waited_for"]["blockers"][0];
    assert_eq!(blocker["pid"], holder_pid);
    assert_eq!(blocker["application"], "lockgraph-test-holder");
    assert_eq!(blocker["modes"][0], "AccessExclusiveLock");
    for st in &sts[3..] {
        assert_eq!(st["status"], "not_run", "{st:#}");
    }
    assert_eq!(v["summary"]["failed"], 1);
    assert_eq!(v["rolled_back"], true);
    // The text says who it would have queued behind.
    assert_eq!(r.code, 2);
    assert!(
        r.stdout
            .contains("FAILED: canceling statement due to lock timeout (SQLSTATE 55P03)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&format!(
            "it waited 300ms for ACCESS EXCLUSIVE on {}.orders, held by pid {holder_pid} \
             (lockgraph-test-holder, idle in transaction, AccessExclusiveLock)",
            s.schema
        )),
        "{}",
        r.stdout
    );
    // Nothing of the part that ran is left.
    assert!(s.query_bool(&format!(
        "SELECT to_regclass('{}.shipments') IS NULL",
        s.schema
    )));
}

#[test]
fn create_index_concurrently_is_reported_as_not_traceable() {
    let Some(s) = Scratch::new("not_traceable") else {
        return;
    };
    let (code, v) = s.json("not_traceable.sql", &[]);
    assert_eq!(code, 0, "{v:#}");
    let st = &v["statements"][0];
    assert_eq!(st["status"], "skipped");
    assert_eq!(st["verdict"], "not_compared");
    assert!(
        st["skip_reason"]
            .as_str()
            .unwrap()
            .contains("CREATE INDEX CONCURRENTLY cannot run inside a transaction block"),
        "{st:#}"
    );
    // Its inferred locks are still shown.
    assert_eq!(
        st["inferred"][0]["mode"], "ShareUpdateExclusiveLock",
        "{st:#}"
    );
    assert_eq!(st["inferred"][0]["result"], "not_compared");
    assert_eq!(v["statements"][1]["status"], "traced");
    assert!(s.query_bool(&format!(
        "SELECT to_regclass('{}.orders_customer_idx') IS NULL",
        s.schema
    )));
    let r = s.trace("not_traceable.sql", &[]);
    assert!(
        r.stdout
            .contains("inferred (not traced): SHARE UPDATE EXCLUSIVE on orders"),
        "{}",
        r.stdout
    );
}

#[test]
fn trace_refuses_to_run_without_an_explicit_url() {
    // Not even with DATABASE_URL set: the database must be named on the command line.
    let r = lockgraph(
        &["trace", &data("migration.sql")],
        &[("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")],
    );
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr
            .contains("the following required arguments were not provided")
            && r.stderr.contains("--url <URL>"),
        "{}",
        r.stderr
    );
}

#[test]
fn bad_input_exits_2() {
    let r = lockgraph(
        &["trace", &data("no_such_file.sql"), "--url", &server_text()],
        &[],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot read"), "{}", r.stderr);
    let r = lockgraph(
        &[
            "trace",
            &data("migration.sql"),
            "--url",
            "host=127.0.0.1 port=1 user=postgres dbname=test",
        ],
        &[],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot connect"), "{}", r.stderr);
    let r = lockgraph(
        &[
            "trace",
            &data("migration.sql"),
            "--url",
            &server_text(),
            "--lock-timeout",
            "2",
        ],
        &[],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("needs a unit"), "{}", r.stderr);
}
