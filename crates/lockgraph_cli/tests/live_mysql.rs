//! `lockgraph live --url mysql://…` against the real local MariaDB: three connections queue on
//! one row, and the command's text, JSON and DOT output must show the blocking tree (the holder
//! as the root, both waiters behind it, InnoDB's lock mode and the table), the live rules'
//! finding, redacted statements; `--watch` and a wrong password give clear errors.
//!
//! Server: root@127.0.0.1:3306 database `test`, or `LOCKGRAPH_MYSQL_URL`. Under `CI=true` an
//! unreachable server fails the tests; elsewhere they print a note and pass. The tests of this
//! file run one at a time (InnoDB refreshes its lock tables only when nobody read them for
//! 0.1 s); each uses a table of its own, and ends its connections and drops the table also when
//! an assertion fails.

use assert_cmd::Command;
use mysql::prelude::Queryable;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

fn url() -> String {
    std::env::var("LOCKGRAPH_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_string())
}

/// The server as lockgraph names it (no password).
fn server() -> String {
    lockgraph_mysql::Target::parse(&url())
        .expect("LOCKGRAPH_MYSQL_URL")
        .to_string()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A table and the connections of one test; dropping it ends them and drops the table.
struct Scene {
    admin: mysql::Conn,
    table: String,
    ids: Vec<u32>,
    waiting: Vec<JoinHandle<()>>,
    holders: Vec<mysql::Conn>,
}

impl Scene {
    /// `None` with a note when there is no server outside CI.
    fn new(test: &str) -> Option<Scene> {
        let opts = mysql::Opts::from_url(&url()).expect("LOCKGRAPH_MYSQL_URL");
        let mut admin = match mysql::Conn::new(opts) {
            Ok(c) => c,
            Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!(
                    "{test}: CI=true and MariaDB is unreachable ({}): {e}",
                    url()
                )
            }
            Err(e) => {
                eprintln!("NOTE: {test} not run: MariaDB unreachable ({}): {e}", url());
                return None;
            }
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let table = format!("lg_cli_live_{}_{nanos}", std::process::id());
        admin
            .query_drop(format!(
                "CREATE TABLE {table} (id INT PRIMARY KEY, v INT NOT NULL, note VARCHAR(40), other VARCHAR(40)) \
                 ENGINE=InnoDB"
            ))
            .expect("create table");
        let scene = Scene {
            admin,
            table,
            ids: Vec::new(),
            waiting: Vec::new(),
            holders: Vec::new(),
        };
        let mut scene = scene;
        let t = scene.table.clone();
        scene
            .admin
            .query_drop(format!(
                "INSERT INTO {t} VALUES (1, 0, NULL, NULL), (2, 0, NULL, NULL)"
            ))
            .expect("insert");
        Some(scene)
    }

    fn connect(&mut self) -> (mysql::Conn, u32) {
        let mut c = mysql::Conn::new(mysql::Opts::from_url(&url()).unwrap()).expect("session");
        let id: u32 = c
            .query_first("SELECT CONNECTION_ID()")
            .expect("connection id")
            .expect("a row");
        c.query_drop("SET SESSION innodb_lock_wait_timeout = 60")
            .expect("set timeout");
        self.ids.push(id);
        (c, id)
    }

    /// Runs `sql` in an open transaction left idle.
    fn hold(&mut self, sql: &str) -> u32 {
        let (mut c, id) = self.connect();
        c.query_drop("BEGIN").expect("begin");
        c.query_drop(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        self.holders.push(c);
        id
    }

    /// Runs `sql` in a transaction from a thread; returns once the process list shows it still
    /// running (waiting for its row) 200 ms later.
    fn wait(&mut self, sql: &str) -> u32 {
        let (mut c, id) = self.connect();
        let owned = sql.to_string();
        self.waiting.push(std::thread::spawn(move || {
            let _ = c.query_drop("BEGIN");
            let _ = c.query_drop(&owned);
        }));
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let info: Option<Option<String>> = self
                .admin
                .query_first(format!(
                    "SELECT INFO FROM information_schema.PROCESSLIST WHERE ID = {id}"
                ))
                .expect("poll the process list");
            if info.flatten().as_deref() == Some(sql) {
                std::thread::sleep(Duration::from_millis(200));
                return id;
            }
            assert!(
                Instant::now() < deadline,
                "connection {id} never started: {sql}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A holder and two waiters on row 1: (a, b, c). B's statement has string literals in
    /// MySQL's own quoting: double quotes, and a backslash-escaped quote.
    fn chain(&mut self) -> (u32, u32, u32) {
        let t = self.table.clone();
        let a = self.hold(&format!("UPDATE {t} SET v = 1 WHERE id = 1"));
        let b = self.wait(&format!(
            r#"UPDATE {t} SET v = 2, note = "secret-b", other = 'it\'s-secret' WHERE id = 1"#
        ));
        let c = self.wait(&format!("UPDATE {t} SET v = 3 WHERE id = 1"));
        // Past the live rules' one-second threshold.
        std::thread::sleep(Duration::from_millis(1100));
        (a, b, c)
    }
}

impl Drop for Scene {
    fn drop(&mut self) {
        for id in self.ids.iter().rev() {
            let _ = self.admin.query_drop(format!("KILL {id}"));
        }
        for h in self.waiting.drain(..) {
            let _ = h.join();
        }
        self.holders.clear();
        let _ = self
            .admin
            .query_drop(format!("DROP TABLE IF EXISTS {}", self.table));
    }
}

/// Runs `lockgraph ARGS`; (exit code, stdout, stderr).
fn lockgraph(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("lockgraph")
        .unwrap()
        .current_dir(root())
        .args(args)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(60))
        .output()
        .expect("run lockgraph");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `lockgraph live --url URL EXTRA…` until `ready(stdout)` (InnoDB's lock tables may be a
/// refresh behind), for at most 5 s; the last run's output.
fn live_until(extra: &[&str], ready: impl Fn(&str) -> bool) -> (i32, String, String) {
    let u = url();
    let mut args = vec!["live", "--url", &u];
    args.extend_from_slice(extra);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let out = lockgraph(&args);
        if ready(&out.1) || Instant::now() > deadline {
            return out;
        }
        std::thread::sleep(Duration::from_millis(150));
    }
}

#[test]
fn text_output_shows_the_tree() {
    let _g = serial();
    let Some(mut scene) = Scene::new("text_output_shows_the_tree") else {
        return;
    };
    let (a, b, c) = scene.chain();
    let t = scene.table.clone();
    let (code, out, err) = live_until(&[], |o| {
        o.contains(&format!("pid {b} ")) && o.contains(&format!("pid {c} "))
    });
    // LG404 (an idle-in-transaction root blocker) is an error: exit 1.
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.starts_with(&format!("{} · ", server())), "{out}");
    assert!(out.contains("blocking trees (root blocker first)"), "{out}");
    assert!(
        out.lines().any(|l| l.starts_with(&format!("pid {a} ("))
            && l.contains("idle in transaction")
            && l.ends_with("blocks 2 sessions")),
        "{out}"
    );
    let waits = "· waits for X on record (page ";
    let of = format!(") of table test.{t} held by pid {a}");
    for w in [b, c] {
        assert!(
            out.lines().any(|l| l.contains(&format!("── pid {w} ("))
                && l.contains(waits)
                && l.contains(&of)),
            "pid {w} under pid {a}:\n{out}"
        );
    }
    // Statements are shown redacted.
    assert!(
        out.contains(&format!(
            "UPDATE {t} SET v = ?, note = ?, other = ? WHERE id = ?"
        )),
        "{out}"
    );
    assert!(!out.contains("secret"), "{out}");
    assert!(out.contains("LG404"), "{out}");
}

#[test]
fn json_and_dot_output() {
    let _g = serial();
    let Some(mut scene) = Scene::new("json_and_dot_output") else {
        return;
    };
    let (a, b, c) = scene.chain();
    let relation = format!("test.{}", scene.table);
    let (code, out, err) = live_until(&["--format", "json", "--fail-on", "never"], |o| {
        serde_json::from_str::<Value>(o).is_ok_and(|v| {
            let edges = v["live"]["edges"].as_array().cloned().unwrap_or_default();
            [b, c]
                .iter()
                .all(|w| edges.iter().any(|e| e["waiter"] == *w))
        })
    });
    assert_eq!(code, 0, "--fail-on never: {err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let live = &v["live"];
    assert_eq!(live["server"], server().as_str());
    assert!(
        live["roots"].as_array().unwrap().contains(&a.into()),
        "{live:#}"
    );
    let edges: Vec<&Value> = live["edges"].as_array().unwrap().iter().collect();
    let from =
        |w: u32| -> Vec<&Value> { edges.iter().copied().filter(|e| e["waiter"] == w).collect() };
    assert_eq!(from(b).len(), 1, "{live:#}");
    assert_eq!(from(b)[0]["blocker"], a);
    assert_eq!(from(b)[0]["kind"], "hard");
    assert_eq!(from(b)[0]["mode"], "X");
    assert_eq!(from(b)[0]["relation"], relation.as_str());
    assert!(
        from(c)
            .iter()
            .any(|e| e["blocker"] == a && e["kind"] == "hard")
    );
    // The tree: A's children are B and C.
    let tree = live["trees"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["pid"] == a)
        .expect("A's tree");
    let mut children: Vec<u64> = tree["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["pid"].as_u64().unwrap())
        .collect();
    children.sort_unstable();
    assert_eq!(children, [u64::from(b), u64::from(c)]);
    // The live rules ran: LG404 names A and the table.
    let lg404: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["code"] == "LG404"
                && f["message"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("pid {a} "))
        })
        .collect();
    assert_eq!(lg404.len(), 1, "{:#}", v["findings"]);
    assert_eq!(lg404[0]["relations"][0], relation.as_str());
    assert!(!out.contains("secret-b"));

    let (_, dot, _) = live_until(&["--format", "dot", "--fail-on", "never"], |o| {
        o.contains(&format!("p{c} -> p{a}"))
    });
    assert!(dot.starts_with("digraph waits {"), "{dot}");
    assert!(
        dot.contains(&format!("p{b} -> p{a} [label=\"X record (page ")),
        "{dot}"
    );
    assert!(
        dot.contains(&format!(
            "p{a} [label=\"pid {a}\\nidle in transaction\", style=bold"
        )),
        "{dot}"
    );
}

#[test]
fn watch_and_bad_logins_are_clear_errors() {
    let _g = serial();
    let Some(_scene) = Scene::new("watch_and_bad_logins_are_clear_errors") else {
        return;
    };
    let (code, out, err) = lockgraph(&["live", "--url", &url(), "--watch", "--count", "1"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("--watch is PostgreSQL-only"), "{err}");

    let (code, out, err) = lockgraph(&[
        "live",
        "--url",
        "mariadb://root:Wr0ngPw@127.0.0.1:3306/test",
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("cannot connect to mariadb://root@127.0.0.1:3306/test: "),
        "{err}"
    );
    assert!(
        !err.contains("Wr0ngPw") && !out.contains("Wr0ngPw"),
        "{err}"
    );
}
