//! `lockgraph live` against the real local PostgreSQL: sessions are made to block each other
//! for real, and the command's JSON is checked for the right root, cycles, queues, advisory
//! locks, the orders learned in `--watch --report`, reconnection, and clear connection errors.
//!
//! Server: 127.0.0.1:5432 user postgres database test, or `LOCKGRAPH_TEST_PG` (key=value). Under
//! `CI=true` an unreachable server fails the tests; elsewhere they print a note and pass.
//! The tests of this file run one at a time (a lock): each snapshot sees the whole server, and
//! every assertion is about the pids the test itself started.
//!
//! With `LOCKGRAPH_REGENERATE_SNAPSHOTS=1` the scenarios also write the rule fixtures
//! `tests/data/rules/LG40x/*.json` (`live --save`), from the real server.

use assert_cmd::Command;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio_postgres::Client;

fn conn() -> String {
    std::env::var("LOCKGRAPH_TEST_PG")
        .unwrap_or_else(|_| "host=127.0.0.1 port=5432 user=postgres dbname=test".into())
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sessions of one test, on a runtime of their own.
struct Pg {
    rt: tokio::runtime::Runtime,
    admin: Arc<Client>,
    sessions: Vec<(Arc<Client>, i32)>,
    tables: Vec<String>,
}

impl Pg {
    /// Connects the admin session, or `None` (with a note) when there is no server outside CI.
    fn new(test: &str) -> Option<Pg> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let admin = match rt.block_on(Self::connect_app("lockgraph-test-admin")) {
            Ok(c) => c,
            Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!(
                    "{test}: CI=true and PostgreSQL is unreachable ({}): {e}",
                    conn()
                )
            }
            Err(e) => {
                eprintln!(
                    "NOTE: {test} not run: PostgreSQL unreachable ({}): {e}",
                    conn()
                );
                return None;
            }
        };
        Some(Pg {
            rt,
            admin: Arc::new(admin),
            sessions: Vec::new(),
            tables: Vec::new(),
        })
    }

    async fn connect_app(app: &str) -> Result<Client, tokio_postgres::Error> {
        let (client, connection) = tokio_postgres::connect(
            &format!("{} application_name={app}", conn()),
            tokio_postgres::NoTls,
        )
        .await?;
        tokio::spawn(connection);
        Ok(client)
    }

    fn admin(&self, sql: &str) {
        self.rt
            .block_on(self.admin.batch_execute(sql))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Creates `name (id int primary key, n int)` with rows 1 and 2.
    fn table(&mut self, name: &str) {
        self.admin(&format!(
            "DROP TABLE IF EXISTS {name}; CREATE TABLE {name} (id int PRIMARY KEY, n int);
             INSERT INTO {name} VALUES (1, 0), (2, 0);"
        ));
        self.tables.push(name.to_string());
    }

    /// Opens session `i` (returned index) with `deadlock_timeout` high, so a cycle stays.
    fn session(&mut self) -> usize {
        let client = self
            .rt
            .block_on(Self::connect_app("lockgraph-test"))
            .expect("session");
        self.rt
            .block_on(client.batch_execute("SET deadlock_timeout = '60s'"))
            .expect("set deadlock_timeout");
        let pid: i32 = self
            .rt
            .block_on(client.query_one("SELECT pg_backend_pid()", &[]))
            .expect("pid")
            .get(0);
        self.sessions.push((Arc::new(client), pid));
        self.sessions.len() - 1
    }

    fn pid(&self, i: usize) -> u32 {
        self.sessions[i].1 as u32
    }

    /// Runs SQL in session `i` and waits for it.
    fn run(&self, i: usize, sql: &str) {
        self.rt
            .block_on(self.sessions[i].0.batch_execute(sql))
            .unwrap_or_else(|e| panic!("session {i}: {sql}: {e}"));
    }

    /// Starts SQL in session `i` that is expected to block; returns once the server shows it
    /// waiting for a lock.
    fn block(&self, i: usize, sql: &str) {
        let client = self.sessions[i].0.clone();
        let owned = sql.to_string();
        self.rt.spawn(async move {
            // Ends when the test cancels or releases it; the outcome does not matter.
            let _ = client.batch_execute(&owned).await;
        });
        let pid = self.sessions[i].1;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let waiting: bool = self
                .rt
                .block_on(self.admin.query_one(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = $1 AND NOT granted)",
                    &[&pid],
                ))
                .expect("poll pg_locks")
                .get(0);
            if waiting {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "session {i} never blocked on: {sql}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let pids: Vec<i32> = self.sessions.iter().map(|s| s.1).collect();
        let _ = self.rt.block_on(self.admin.execute(
            "SELECT pg_terminate_backend(p) FROM unnest($1::int4[]) p",
            &[&pids],
        ));
        for t in &self.tables {
            let _ = self.rt.block_on(
                self.admin
                    .batch_execute(&format!("DROP TABLE IF EXISTS {t}")),
            );
        }
    }
}

fn lockgraph(args: &[&str]) -> (i32, Value, String) {
    let out = Command::cargo_bin("lockgraph")
        .unwrap()
        .current_dir(root())
        .args(args)
        .env_remove("DATABASE_URL")
        .timeout(Duration::from_secs(60))
        .output()
        .expect("run lockgraph");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), v, stderr + &stdout)
}

/// `live --format json` (and `--save` to the fixture when regenerating).
/// The snapshot is saved to every fixture path when regenerating (a bad fixture of one rule is
/// often a good one of another).
/// Starts `lockgraph ARGS` in the background (no `DATABASE_URL`; stdout and stderr piped).
fn spawn_lockgraph(args: &[&str], what: &str) -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("lockgraph"))
        .args(args)
        .env_remove("DATABASE_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

fn live_json(fixtures: &[&str]) -> (i32, Value) {
    let url = conn();
    let mut args = vec![
        "live",
        "--url",
        &url,
        "--format",
        "json",
        "--fail-on",
        "never",
    ];
    let regenerate = std::env::var("LOCKGRAPH_REGENERATE_SNAPSHOTS").is_ok_and(|v| v == "1");
    let paths: Vec<PathBuf> = fixtures
        .iter()
        .map(|f| root().join("tests/data/rules").join(f))
        .collect();
    let first = paths.first().map(|p| p.to_str().unwrap().to_string());
    if regenerate && let Some(p) = &first {
        std::fs::create_dir_all(paths[0].parent().unwrap()).unwrap();
        args.push("--save");
        args.push(p);
    }
    let (code, v, text) = lockgraph(&args);
    assert!(v.is_object(), "no JSON (exit {code}): {text}");
    if regenerate {
        for p in paths.iter().skip(1) {
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::copy(&paths[0], p).unwrap();
        }
    }
    (code, v)
}

/// Findings of `code` whose labels point at one of `pids`.
fn findings_about<'a>(v: &'a Value, code: &str, pids: &[u32]) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .filter(|f| {
            f["locations"].as_array().unwrap().iter().any(|l| {
                pids.iter()
                    .any(|p| l["path"].as_str() == Some(&format!("pid {p}")))
            })
        })
        .collect()
}

fn edge(v: &Value, waiter: u32) -> Vec<&Value> {
    v["live"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["waiter"] == waiter)
        .collect()
}

#[test]
fn blocking_chain_with_idle_in_transaction_root() {
    let _g = serial();
    let Some(mut pg) = Pg::new("blocking_chain_with_idle_in_transaction_root") else {
        return;
    };
    pg.table("lg_live_chain");
    let (a, b, c) = (pg.session(), pg.session(), pg.session());
    pg.run(a, "BEGIN; UPDATE lg_live_chain SET n = 1 WHERE id = 1");
    pg.run(b, "BEGIN; UPDATE lg_live_chain SET n = 2 WHERE id = 2");
    pg.block(b, "UPDATE lg_live_chain SET n = 2 WHERE id = 1");
    pg.run(c, "BEGIN");
    pg.block(c, "UPDATE lg_live_chain SET n = 3 WHERE id = 2");
    std::thread::sleep(Duration::from_millis(1100)); // past the rules' one-second threshold
    let (code, v) = live_json(&[
        "LG404/bad_idle_root_chain.json",
        "LG403/good_idle_root_is_lg404.json",
        "LG402/good_chain_without_cycle.json",
    ]);
    let (ra, rb, rc) = (pg.pid(a), pg.pid(b), pg.pid(c));
    assert_eq!(code, 0, "--fail-on never");
    let roots = v["live"]["roots"].as_array().unwrap();
    assert!(roots.contains(&ra.into()), "root {ra} not in {roots:?}");
    assert!(!roots.contains(&rb.into()) && !roots.contains(&rc.into()));
    assert_eq!(edge(&v, rb)[0]["blocker"], ra);
    assert_eq!(edge(&v, rc)[0]["blocker"], rb);
    assert_eq!(edge(&v, rb)[0]["kind"], "hard");
    let f = findings_about(&v, "LG404", &[ra]);
    assert_eq!(f.len(), 1, "{v:#}");
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains("blocks 2 sessions"),
        "{}",
        f[0]["message"]
    );
    assert_eq!(f[0]["relations"][0], "lg_live_chain");
    assert!(findings_about(&v, "LG402", &[ra, rb, rc]).is_empty());
}

#[test]
fn active_root_is_a_root_blocker_not_idle() {
    let _g = serial();
    let Some(mut pg) = Pg::new("active_root_is_a_root_blocker_not_idle") else {
        return;
    };
    pg.table("lg_live_active");
    let (a, b) = (pg.session(), pg.session());
    pg.run(a, "BEGIN; LOCK TABLE lg_live_active IN SHARE MODE");
    // The root is busy (active) while holding its lock.
    let client = pg.sessions[a].0.clone();
    pg.rt.spawn(async move {
        let _ = client.batch_execute("SELECT pg_sleep(30)").await;
    });
    pg.block(b, "UPDATE lg_live_active SET n = 1 WHERE id = 1");
    std::thread::sleep(Duration::from_millis(1100));
    let (_, v) = live_json(&["LG403/bad_active_root.json", "LG404/good_active_root.json"]);
    let (ra, rb) = (pg.pid(a), pg.pid(b));
    assert_eq!(findings_about(&v, "LG403", &[ra]).len(), 1, "{v:#}");
    assert!(findings_about(&v, "LG404", &[ra]).is_empty());
    assert_eq!(edge(&v, rb)[0]["mode"], "RowExclusiveLock");
    assert_eq!(edge(&v, rb)[0]["relation"], "lg_live_active");
}

#[test]
fn deadlock_caught_as_hard_cycle_before_the_server_breaks_it() {
    let _g = serial();
    let Some(mut pg) = Pg::new("deadlock_caught_as_hard_cycle_before_the_server_breaks_it") else {
        return;
    };
    pg.table("lg_live_acc");
    pg.table("lg_live_led");
    let (a, b) = (pg.session(), pg.session());
    pg.run(a, "BEGIN; UPDATE lg_live_acc SET n = 1 WHERE id = 1");
    pg.run(b, "BEGIN; UPDATE lg_live_led SET n = 1 WHERE id = 1");
    pg.block(a, "UPDATE lg_live_led SET n = 2 WHERE id = 1");
    pg.block(b, "UPDATE lg_live_acc SET n = 2 WHERE id = 1");
    let (code, v) = live_json(&["LG402/bad_two_table_cycle.json"]);
    assert_eq!(code, 0);
    let (ra, rb) = (pg.pid(a), pg.pid(b));
    let cycles = v["live"]["cycles"].as_array().unwrap();
    let ours: Vec<_> = cycles
        .iter()
        .filter(|c| c["pids"].as_array().unwrap().contains(&ra.into()))
        .collect();
    assert_eq!(ours.len(), 1, "{v:#}");
    assert_eq!(ours[0]["hard"], true);
    let f = findings_about(&v, "LG402", &[ra, rb]);
    assert_eq!(f.len(), 1, "{v:#}");
    let mut rels: Vec<_> = f[0]["relations"].as_array().unwrap().iter().collect();
    rels.sort_by_key(|r| r.as_str().unwrap().to_string());
    assert_eq!(rels, vec!["lg_live_acc", "lg_live_led"]);
    // The server has not broken it: both sessions are still waiting.
    let still: i64 = pg
        .rt
        .block_on(pg.admin.query_one(
            "SELECT count(*) FROM pg_locks WHERE NOT granted AND pid = ANY($1)",
            &[&vec![ra as i32, rb as i32]],
        ))
        .unwrap()
        .get(0);
    assert_eq!(still, 2);
}

#[test]
fn queue_behind_access_exclusive_is_soft_not_a_cycle() {
    let _g = serial();
    let Some(mut pg) = Pg::new("queue_behind_access_exclusive_is_soft_not_a_cycle") else {
        return;
    };
    pg.table("lg_live_ddl");
    let (a, b, c) = (pg.session(), pg.session(), pg.session());
    pg.run(a, "BEGIN; SELECT * FROM lg_live_ddl");
    pg.block(b, "ALTER TABLE lg_live_ddl ADD COLUMN extra int");
    pg.block(c, "SELECT * FROM lg_live_ddl");
    std::thread::sleep(Duration::from_millis(1100));
    let (_, v) = live_json(&[
        "LG405/bad_alter_table_queue.json",
        "LG402/good_soft_queue_wait.json",
    ]);
    let (ra, rb, rc) = (pg.pid(a), pg.pid(b), pg.pid(c));
    assert_eq!(edge(&v, rb)[0]["kind"], "hard");
    assert_eq!(edge(&v, rb)[0]["blocker"], ra);
    let soft = edge(&v, rc);
    assert_eq!(soft.len(), 1);
    assert_eq!(
        (soft[0]["blocker"].clone(), soft[0]["kind"].clone()),
        (rb.into(), "soft".into())
    );
    assert!(
        findings_about(&v, "LG402", &[ra, rb, rc]).is_empty(),
        "{v:#}"
    );
    assert!(
        !v["live"]["cycles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["pids"].as_array().unwrap().contains(&rc.into()))
    );
    let f = findings_about(&v, "LG405", &[rb]);
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["relations"][0], "lg_live_ddl");
}

#[test]
fn advisory_locks_are_shown_and_block() {
    let _g = serial();
    let Some(mut pg) = Pg::new("advisory_locks_are_shown_and_block") else {
        return;
    };
    let (a, b) = (pg.session(), pg.session());
    pg.run(a, "SELECT pg_advisory_lock(424242)");
    pg.block(b, "SELECT pg_advisory_lock(424242)");
    let (_, v) = live_json(&["LG405/good_advisory_wait.json"]);
    let (ra, rb) = (pg.pid(a), pg.pid(b));
    let adv = v["live"]["advisory"].as_array().unwrap();
    let held = adv
        .iter()
        .find(|l| l["pid"] == ra)
        .expect("advisory lock of a");
    assert_eq!(
        (held["key"].clone(), held["granted"].clone()),
        ("424242".into(), true.into())
    );
    assert!(adv.iter().any(|l| l["pid"] == rb && l["granted"] == false));
    let e = edge(&v, rb);
    assert_eq!(e[0]["blocker"], ra);
    assert_eq!(e[0]["target"], "advisory lock 424242");
    // Text output lists it too.
    let url = conn();
    let (_, _, text) = lockgraph(&["live", "--url", &url]);
    assert!(text.contains("advisory lock 424242"), "{text}");
}

#[test]
fn watch_learns_an_inversion_from_sessions_that_never_deadlocked() {
    let _g = serial();
    let Some(mut pg) = Pg::new("watch_learns_an_inversion_from_sessions_that_never_deadlocked")
    else {
        return;
    };
    pg.table("lg_live_pay");
    pg.table("lg_live_ref");
    let (a, b) = (pg.session(), pg.session());
    let url = conn();
    let child = spawn_lockgraph(
        &[
            "live",
            "--url",
            &url,
            "--watch",
            "100ms",
            "--duration",
            "6s",
            "--report",
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
        "start live --watch",
    );
    std::thread::sleep(Duration::from_millis(800));
    let step = Duration::from_millis(400);
    // a: pay then ref; b afterwards: ref then pay. They never overlap, so never deadlock.
    pg.run(a, "BEGIN; UPDATE lg_live_pay SET n = 1 WHERE id = 1");
    std::thread::sleep(step);
    pg.run(a, "UPDATE lg_live_ref SET n = 1 WHERE id = 1");
    std::thread::sleep(step);
    pg.run(a, "COMMIT");
    std::thread::sleep(step);
    pg.run(b, "BEGIN; UPDATE lg_live_ref SET n = 2 WHERE id = 2");
    std::thread::sleep(step);
    pg.run(b, "UPDATE lg_live_pay SET n = 2 WHERE id = 2");
    std::thread::sleep(step);
    pg.run(b, "COMMIT");
    let out = child.wait_with_output().expect("live --watch");
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text}\n{}", String::from_utf8_lossy(&out.stderr)));
    let inversion = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["code"] == "LG101"
                && f["relations"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r == "lg_live_pay")
        })
        .unwrap_or_else(|| panic!("no LG101 on lg_live_pay: {v:#}"));
    let mut rels: Vec<_> = inversion["relations"].as_array().unwrap().iter().collect();
    rels.sort_by_key(|r| r.as_str().unwrap().to_string());
    assert_eq!(rels, vec!["lg_live_pay", "lg_live_ref"]);
}

#[test]
fn watch_reconnects_after_its_backend_is_terminated() {
    let _g = serial();
    let Some(pg) = Pg::new("watch_reconnects_after_its_backend_is_terminated") else {
        return;
    };
    let url = conn();
    let child = spawn_lockgraph(
        &["live", "--url", &url, "--watch", "200ms", "--count", "8"],
        "start live --watch",
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let terminated = loop {
        let n: i64 = pg
            .rt
            .block_on(pg.admin.query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE application_name = 'lockgraph/live' AND query LIKE 'WITH sa %' \
                 AND pid <> pg_backend_pid()",
                &[],
            ))
            .unwrap()
            .get(0);
        if n > 0 {
            break n;
        }
        assert!(
            Instant::now() < deadline,
            "the watch session never showed up"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(terminated, 1);
    let out = child.wait_with_output().expect("live --watch");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}\n{stdout}");
    assert!(stderr.contains("reconnecting"), "{stderr}");
    assert_eq!(stdout.matches("snapshot took").count(), 8, "{stdout}");
}

#[test]
fn a_role_that_cannot_see_other_sessions_is_a_clear_error() {
    let _g = serial();
    let Some(mut pg) = Pg::new("a_role_that_cannot_see_other_sessions_is_a_clear_error") else {
        return;
    };
    pg.admin(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lockgraph_nopriv') \
         THEN CREATE ROLE lockgraph_nopriv LOGIN; END IF; END $$",
    );
    let a = pg.session(); // another session, owned by postgres
    pg.run(a, "SELECT 1");
    let url = format!(
        "{} user=lockgraph_nopriv",
        conn().replace("user=postgres", "")
    );
    let (code, _, text) = lockgraph(&["live", "--url", &url]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("pg_read_all_stats"), "{text}");
    assert_eq!(text.trim().lines().count(), 1, "{text}");
    let (code, _, text) = lockgraph(&["live", "--url", &url, "--allow-partial"]);
    assert_eq!(code, 0, "{text}");
}

#[test]
fn unreachable_and_wrong_servers_are_one_line_errors() {
    for url in [
        "postgres://postgres:s3cret@127.0.0.1:1/test",
        "postgres://postgres:s3cret@127.0.0.1:6379/test?connect_timeout=5",
    ] {
        let (code, _, text) = lockgraph(&["live", "--url", url]);
        assert_eq!(code, 2, "{url}: {text}");
        assert_eq!(text.trim().lines().count(), 1, "{text}");
        assert!(text.contains("cannot connect"), "{text}");
        assert!(!text.contains("s3cret"), "password leaked: {text}");
    }
}

#[test]
fn saved_snapshots_analyse_offline_the_same() {
    let dir = root().join("tests/data/rules");
    for (code, file) in [
        ("LG402", "LG402/bad_two_table_cycle.json"),
        ("LG404", "LG404/bad_idle_root_chain.json"),
    ] {
        let path = dir.join(file);
        let (exit, v, text) = lockgraph(&[
            "live",
            "--snapshot",
            path.to_str().unwrap(),
            "--format",
            "json",
        ]);
        assert_eq!(exit, 1, "{text}");
        assert!(
            v["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["code"] == code),
            "{file}: {v:#}"
        );
        // Literals were redacted when saved.
        let raw = std::fs::read_to_string(&path).unwrap();
        assert!(!raw.contains("n = 1 WHERE"), "{file} keeps literals");
    }
}

#[test]
fn watch_ends_cleanly_on_ctrl_c_with_its_report() {
    let _g = serial();
    let Some(_pg) = Pg::new("watch_ends_cleanly_on_ctrl_c_with_its_report") else {
        return;
    };
    let url = conn();
    let child = spawn_lockgraph(
        &["live", "--url", &url, "--watch", "100ms", "--report"],
        "start live --watch",
    );
    std::thread::sleep(Duration::from_millis(1500));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(status.success());
    let out = child.wait_with_output().expect("live --watch");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}\n{stdout}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(stdout.contains("snapshots and followed"), "{stdout}");
}

#[test]
fn watch_store_keeps_samples_and_learned_orders_for_check() {
    let _g = serial();
    let Some(mut pg) = Pg::new("watch_store_keeps_samples_and_learned_orders_for_check") else {
        return;
    };
    pg.table("lg_store_pay");
    pg.table("lg_store_ref");
    let (a, b) = (pg.session(), pg.session());
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("history.sqlite");
    let store_arg = store.to_str().unwrap().to_string();
    let url = conn();
    const SAMPLES: u64 = 45;
    let count = SAMPLES.to_string();
    let child = spawn_lockgraph(
        &[
            "live",
            "--url",
            &url,
            "--watch",
            "100ms",
            "--count",
            &count,
            "--store",
            &store_arg,
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
        "start live --watch --store",
    );
    std::thread::sleep(Duration::from_millis(800));
    let step = Duration::from_millis(400);
    // Both take pay then ref; b waits for a on the same pay row, so one sample sees a wait.
    pg.run(a, "BEGIN; UPDATE lg_store_pay SET n = 1 WHERE id = 1");
    pg.block(b, "BEGIN; UPDATE lg_store_pay SET n = 2 WHERE id = 1");
    std::thread::sleep(step);
    pg.run(a, "UPDATE lg_store_ref SET n = 1 WHERE id = 1");
    std::thread::sleep(step);
    pg.run(a, "COMMIT");
    std::thread::sleep(step);
    pg.run(b, "UPDATE lg_store_ref SET n = 2 WHERE id = 2");
    std::thread::sleep(step);
    pg.run(b, "COMMIT");
    let out = child.wait_with_output().expect("live --watch --store");
    assert!(
        out.status.success(),
        "live --watch --store failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let st = lockgraph_store::Store::open(&store).unwrap();
    let samples = st.live_samples().unwrap();
    assert_eq!(samples.len() as u64, SAMPLES, "one row per sample");
    assert!(
        samples
            .iter()
            .all(|(_, source, _)| source.starts_with("live "))
    );
    let (pa, pb) = (pg.pid(a), pg.pid(b));
    let waited = samples.iter().find(|(_, _, s)| {
        s["root_blockers"]
            .as_array()
            .is_some_and(|r| r.iter().any(|p| p == pa))
    });
    let (_, _, waited) =
        waited.unwrap_or_else(|| panic!("no sample shows pid {pa} blocking {pb}: {samples:#?}"));
    assert!(
        waited["waiting_sessions"].as_u64().unwrap() >= 1,
        "{waited}"
    );
    assert!(waited["hard_wait_edges"].as_u64().unwrap() >= 1, "{waited}");
    assert!(waited["sessions"].as_u64().unwrap() >= 2, "{waited}");
    assert_eq!(waited["deadlock_in_progress"], false, "{waited}");

    // The learned transactions: pay before ref, stored as one shape key of the logs' kind.
    let relations = |t: &lockgraph_core::Transaction| {
        let mut rels: Vec<String> = Vec::new();
        for l in &t.locks {
            if let Some(r) = l.target.relation() {
                let r = r.to_string();
                if rels.last() != Some(&r) {
                    rels.push(r);
                }
            }
        }
        rels
    };
    let shapes = st.shapes().unwrap();
    let learned: Vec<_> = shapes
        .iter()
        .filter(|s| relations(&s.transaction).contains(&"lg_store_pay".to_string()))
        .collect();
    let total: u64 = learned.iter().map(|s| s.count).sum();
    assert_eq!(total, 2, "a and b: {learned:#?}");
    for s in &learned {
        assert_eq!(
            relations(&s.transaction),
            vec!["lg_store_pay", "lg_store_ref"]
        );
        assert_eq!(s.key, lockgraph_store::shape_key(&s.transaction));
        assert!(
            s.transaction.location.path.starts_with("live postgres"),
            "{}",
            s.transaction.location
        );
        assert!(
            s.transaction
                .statements
                .iter()
                .all(|st| !st.text.contains("n = 1") && !st.text.contains("n = 2")),
            "literals stored: {:?}",
            s.transaction.statements
        );
    }
    drop(st);

    // Code taking the opposite order inverts the production order learned live.
    let sql = dir.path().join("refund.sql");
    std::fs::write(
        &sql,
        "BEGIN;\nUPDATE lg_store_ref SET n = 3 WHERE id = 1;\nUPDATE lg_store_pay SET n = 3 WHERE id = 1;\nCOMMIT;\n",
    )
    .unwrap();
    let (_, v, text) = lockgraph(&[
        "check",
        sql.to_str().unwrap(),
        "--store",
        &store_arg,
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    let inversion = v["findings"].as_array().and_then(|f| {
        f.iter().find(|f| {
            f["code"] == "LG101"
                && f["relations"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|r| r == "lg_store_pay"))
        })
    });
    assert!(inversion.is_some(), "no LG101 from the live store: {text}");
    // Without the store the file alone has no inversion.
    let (_, v, text) = lockgraph(&[
        "check",
        sql.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    assert!(
        !v["findings"]
            .as_array()
            .unwrap_or_else(|| panic!("{text}"))
            .iter()
            .any(|f| f["code"] == "LG101"),
        "{text}"
    );
}
