//! Engines in `lockgraph check`.
//!
//! SQLite: `samples/sqlite-app` reports the deferred upgrade (LG501) and the write lock held
//! across an awaited HTTP call (LG502) at the sample's lines, and the fixed sample reports
//! nothing; PostgreSQL rules stay off SQLite code and SQLite rules off PostgreSQL code; the
//! driver's transaction semantics and busy-timeout defaults are respected.
//!
//! MySQL: `samples/mysql-app` gets InnoDB's locks (its foreign-key check's `S,REC_NOT_GAP`
//! upgraded by an `UPDATE`: LG102, which PostgreSQL's model does not report); the engine comes
//! from the driver, else `[[engines]]`, `--engine` / `engine`, in that order.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn check_json(dir: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let out = Command::cargo_bin("lockgraph")
        .unwrap()
        .current_dir(dir)
        .arg("check")
        .args(args)
        .args(["--format", "json", "--no-config"])
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

fn codes(v: &serde_json::Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// `(path, line, the code on that line)` of every label of the finding with `code`.
fn labels(v: &serde_json::Value, code: &str) -> Vec<(String, u64, String)> {
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no {code}: {v:#}"));
    f["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let path = l["location"]["path"].as_str().unwrap().to_string();
            let line = l["location"]["line"].as_u64().unwrap();
            let text = std::fs::read_to_string(root().join(&path)).unwrap_or_default();
            let code = text
                .lines()
                .nth(line.saturating_sub(1) as usize)
                .unwrap_or("")
                .trim()
                .to_string();
            (path, line, code)
        })
        .collect()
}

fn edits(v: &serde_json::Value, code: &str) -> String {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .map(|f| f["suggestion"]["edits"].to_string())
        .collect()
}

#[test]
fn sample_reports_the_upgrade_and_the_await_with_their_lines() {
    let (exit, v) = check_json(&root(), &["samples/sqlite-app"]);
    assert_eq!(exit, 1, "{v:#}");
    assert_eq!(codes(&v), ["LG501", "LG502"], "{v:#}");

    let inv = "samples/sqlite-app/app/inventory.py";
    let lg501 = labels(&v, "LG501");
    let lines: Vec<(&str, u64)> = lg501.iter().map(|(p, l, _)| (p.as_str(), *l)).collect();
    assert_eq!(lines, [(inv, 11), (inv, 12), (inv, 17)]);
    assert!(lg501[0].2.contains("\"BEGIN\""), "{lg501:?}");
    assert!(lg501[1].2.contains("SELECT qty"), "{lg501:?}");
    assert!(lg501[2].2.contains("UPDATE stock"), "{lg501:?}");
    let fix = edits(&v, "LG501");
    assert!(
        fix.contains("BEGIN IMMEDIATE") && fix.contains(&format!("{inv}:11")),
        "{fix}"
    );

    let pay = "samples/sqlite-app/app/payments.py";
    let lg502 = labels(&v, "LG502");
    let lines: Vec<(&str, u64)> = lg502.iter().map(|(p, l, _)| (p.as_str(), *l)).collect();
    assert_eq!(lines, [(pay, 15), (pay, 20), (pay, 25)]);
    assert!(lg502[1].2.contains("await client.post("), "{lg502:?}");
    assert!(lg502[2].2.contains("await db.commit()"), "{lg502:?}");
    assert!(edits(&v, "LG502").contains(&format!("{pay}:20")));
}

#[test]
fn fixed_sample_reports_nothing() {
    let (exit, v) = check_json(&root(), &["samples/sqlite-app-fixed"]);
    assert_eq!((exit, codes(&v)), (0, Vec::<String>::new()), "{v:#}");
    // Its transactions were read (and judged as SQLite), not lost.
    assert_eq!(v["summary"]["transactions"], 3);
}

#[test]
fn text_report_shows_file_and_line() {
    let out = Command::cargo_bin("lockgraph")
        .unwrap()
        .current_dir(root())
        .args([
            "check",
            "samples/sqlite-app",
            "--no-config",
            "--color",
            "never",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("--> samples/sqlite-app/app/inventory.py:17")
            && text.contains("--> samples/sqlite-app/app/payments.py:20"),
        "{text}"
    );
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// Two transfers update the same two rows in opposite orders. On PostgreSQL that is a row-lock
/// cycle (LG101/LG103); on SQLite each deferred transaction writes first, so RESERVED serializes
/// them and nothing deadlocks: no finding.
#[test]
fn postgres_rules_stay_off_sqlite_code() {
    let body = |import: &str, ph: &str, begin: &str| {
        format!(
            "import {import}\n\n\
             async def a_to_b(db):\n    await db.execute(\"{begin}\")\n    \
             await db.execute(\"UPDATE accounts SET n = n - 1 WHERE id = {ph}\", 1)\n    \
             await db.execute(\"UPDATE accounts SET n = n + 1 WHERE id = {ph}\", 2)\n    \
             await db.execute(\"COMMIT\")\n\n\
             async def b_to_a(db):\n    await db.execute(\"{begin}\")\n    \
             await db.execute(\"UPDATE accounts SET n = n - 1 WHERE id = {ph}\", 2)\n    \
             await db.execute(\"UPDATE accounts SET n = n + 1 WHERE id = {ph}\", 1)\n    \
             await db.execute(\"COMMIT\")\n"
        )
    };
    let pg = tempfile::tempdir().unwrap();
    write(pg.path(), "transfer.py", &body("asyncpg", "$1", "BEGIN"));
    let (_, v) = check_json(pg.path(), &["."]);
    assert!(
        codes(&v).iter().any(|c| c.starts_with("LG1")),
        "PostgreSQL: expected a row-lock hazard: {v:#}"
    );
    let lite = tempfile::tempdir().unwrap();
    write(lite.path(), "transfer.py", &body("aiosqlite", "?", "BEGIN"));
    let (exit, v) = check_json(lite.path(), &["."]);
    assert_eq!((exit, codes(&v)), (0, Vec::<String>::new()), "{v:#}");
}

/// A read-then-write `BEGIN` transaction and a zero timeout in asyncpg code: no SQLite finding.
#[test]
fn sqlite_rules_stay_off_postgres_code() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "stock.py",
        "import asyncpg\nimport httpx\n\n\
         async def reserve(pool, sku):\n    conn = await asyncpg.connect(\"postgresql://x/y\", timeout=0)\n    \
         await conn.execute(\"BEGIN\")\n    \
         await conn.fetchval(\"SELECT qty FROM stock WHERE sku = $1\", sku)\n    \
         await conn.execute(\"UPDATE stock SET qty = qty - 1 WHERE sku = $1\", sku)\n    \
         await httpx.post(\"https://x\")\n    \
         await conn.execute(\"COMMIT\")\n",
    );
    let (_, v) = check_json(dir.path(), &["."]);
    assert!(!codes(&v).iter().any(|c| c.starts_with("LG5")), "{v:#}");
    // Nor on the PostgreSQL Python sample.
    let (_, v) = check_json(&root(), &["samples/python-service"]);
    assert!(!codes(&v).iter().any(|c| c.starts_with("LG5")), "{v:#}");
}

/// Python's sqlite3 module sends `BEGIN` only before the first INSERT/UPDATE/DELETE/REPLACE: in
/// the default mode a SELECT before it is not in the transaction (no LG501); with
/// `autocommit=False` (Python 3.12+) a transaction is always open and the same code upgrades.
#[test]
fn driver_transaction_semantics() {
    let code = |connect_args: &str| {
        format!(
            "import sqlite3\n\n\
             def reserve(sku):\n    conn = sqlite3.connect(\"shop.db\"{connect_args})\n    \
             row = conn.execute(\"SELECT qty FROM stock WHERE sku = ?\", (sku,)).fetchone()\n    \
             conn.execute(\"UPDATE stock SET qty = qty - 1 WHERE sku = ?\", (sku,))\n    \
             conn.commit()\n"
        )
    };
    let legacy = tempfile::tempdir().unwrap();
    write(legacy.path(), "stock.py", &code(""));
    let (_, v) = check_json(legacy.path(), &["."]);
    assert_eq!(codes(&v), Vec::<String>::new(), "{v:#}");

    let always_open = tempfile::tempdir().unwrap();
    write(always_open.path(), "stock.py", &code(", autocommit=False"));
    let (_, v) = check_json(always_open.path(), &["."]);
    assert_eq!(codes(&v), ["LG501"], "{v:#}");
    assert!(edits(&v, "LG501").contains("BEGIN IMMEDIATE"));
}

/// LG503 only for a timeout really set to zero (the default is 5 s), and not for `:memory:`.
#[test]
fn zero_busy_timeout() {
    let code = |db: &str, args: &str| {
        format!(
            "import aiosqlite\n\n\
             async def record(order_id):\n    async with aiosqlite.connect({db}{args}) as db:\n        \
             await db.execute(\"INSERT INTO orders (id) VALUES (?)\", (order_id,))\n        \
             await db.commit()\n"
        )
    };
    for (db, args, expected) in [
        ("\"shop.db\"", ", timeout=0", vec!["LG503"]),
        ("\"shop.db\"", "", vec![]),
        ("\"shop.db\"", ", timeout=10", vec![]),
        ("\":memory:\"", ", timeout=0", vec![]),
    ] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "orders.py", &code(db, args));
        let (_, v) = check_json(dir.path(), &["."]);
        assert_eq!(codes(&v), expected, "{db}{args}: {v:#}");
        if !expected.is_empty() {
            let f = &v["findings"][0];
            assert_eq!(f["labels"][0]["location"]["line"], 4, "{f:#}");
        }
    }
}

/// The statements LG501 labels in the sample (with their literals), run on real SQLite in the
/// interleaving the finding describes: the second UPDATE fails with SQLITE_BUSY at once, though
/// the busy timeout is 2 s. With the suggested edit (`BEGIN IMMEDIATE`) the same two runs both
/// commit: the second waits in its BEGIN until the first commits.
#[test]
fn sample_upgrade_fails_on_real_sqlite_and_the_fix_completes() {
    use rusqlite::{Connection, ffi};
    use std::time::{Duration, Instant};

    let (_, v) = check_json(&root(), &["samples/sqlite-app", "--show-literals"]);
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "LG501")
        .expect("LG501");
    let sql: Vec<String> = f["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["statement"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sql.len(), 3, "BEGIN, read, write: {sql:?}");
    let (begin, read, write) = (&sql[0], &sql[1], &sql[2]);
    assert_eq!(begin, "BEGIN");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let setup = Connection::open(&path).unwrap();
    setup
        .execute_batch(
            "PRAGMA journal_mode=WAL;
             CREATE TABLE stock (sku TEXT PRIMARY KEY, qty INTEGER NOT NULL);
             INSERT INTO stock VALUES ('1', 100);",
        )
        .unwrap();
    let open = || {
        let c = Connection::open(&path).unwrap();
        c.busy_timeout(Duration::from_secs(2)).unwrap();
        c
    };
    // Every parameter of the sample's statements (`$4`, `$5`: sku, qty) bound to 1.
    let exec = |c: &Connection, sql: &str| -> Result<(), i32> {
        let mut stmt = c.prepare(sql).map_err(|_| -1)?;
        for i in 1..=stmt.parameter_count() {
            stmt.raw_bind_parameter(i, 1).unwrap();
        }
        let r = if stmt.column_count() > 0 {
            stmt.raw_query().next().map(|_| ())
        } else {
            if stmt.column_count() > 0 {
                stmt.raw_query().next().map(|_| ())
            } else {
                stmt.raw_execute().map(|_| ())
            }
        };
        r.map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _) => f.extended_code,
            _ => -1,
        })
    };

    let (a, b) = (open(), open());
    for c in [&a, &b] {
        exec(c, begin).unwrap();
        exec(c, read).unwrap();
    }
    exec(&a, write).unwrap();
    let started = Instant::now();
    assert_eq!(exec(&b, write), Err(ffi::SQLITE_BUSY));
    assert!(started.elapsed() < Duration::from_secs(1), "SQLite waited");
    exec(&a, "COMMIT").unwrap();
    exec(&b, "ROLLBACK").unwrap();

    // The fix the finding suggests, which samples/sqlite-app-fixed applies.
    let fixed =
        std::fs::read_to_string(root().join("samples/sqlite-app-fixed/app/inventory.py")).unwrap();
    assert!(fixed.contains("await db.execute(\"BEGIN IMMEDIATE\")"));
    let immediate = "BEGIN IMMEDIATE";
    let a = open();
    exec(&a, immediate).unwrap();
    exec(&a, read).unwrap();
    let (read2, write2) = (read.clone(), write.clone());
    let p = path.clone();
    let second = std::thread::spawn(move || {
        let b = Connection::open(&p).unwrap();
        b.busy_timeout(Duration::from_secs(10)).unwrap();
        let run = |sql: &str| {
            let mut stmt = b.prepare(sql).unwrap();
            for i in 1..=stmt.parameter_count() {
                stmt.raw_bind_parameter(i, 1).unwrap();
            }
            if stmt.column_count() > 0 {
                stmt.raw_query().next().map(|_| ())
            } else {
                stmt.raw_execute().map(|_| ())
            }
        };
        let started = Instant::now();
        let results = [run(immediate), run(&read2), run(&write2), run("COMMIT")];
        (results.iter().all(Result::is_ok), started.elapsed())
    });
    std::thread::sleep(Duration::from_millis(300));
    exec(&a, write).unwrap();
    exec(&a, "COMMIT").unwrap();
    let (ok, waited) = second.join().unwrap();
    assert!(
        ok && waited >= Duration::from_millis(250),
        "{ok} {waited:?}"
    );
    let qty: i64 = a
        .query_row("SELECT qty FROM stock WHERE sku = '1'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(qty, 100 - 1 - 2, "the first pair's A, then both fixed runs");
}

#[test]
fn mysql_sample_gets_innodb_locks() {
    let (exit, v) = check_json(&root(), &["samples/mysql-app"]);
    assert_eq!(exit, 1, "{v:#}");
    assert_eq!(codes(&v), ["LG102", "LG103"], "{v:#}");
    let lg102 = labels(&v, "LG102");
    // The INSERT (line 18) and the UPDATE (line 21) of `charge`.
    let lines: Vec<(&str, u64)> = lg102.iter().map(|l| (l.0.as_str(), l.1)).collect();
    assert_eq!(
        lines,
        [
            ("samples/mysql-app/payments.py", 18),
            ("samples/mysql-app/payments.py", 21)
        ]
    );
    let message = v["findings"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("from S,REC_NOT_GAP to X,REC_NOT_GAP"),
        "{message}"
    );
    // The fix: no finding.
    let (exit, v) = check_json(&root(), &["samples/mysql-app-fixed"]);
    assert_eq!((exit, codes(&v)), (0, Vec::<String>::new()), "{v:#}");
}

/// The sample without its driver import and without `ENGINE=InnoDB`: nothing names an engine,
/// so it is PostgreSQL (the FK check's KEY SHARE does not conflict with a non-key UPDATE: no
/// LG102) until `--engine`, `engine` or `[[engines]]` says MySQL.
#[test]
fn configured_engine_decides_when_nothing_names_one() {
    let dir = tempfile::tempdir().unwrap();
    let code = std::fs::read_to_string(root().join("samples/mysql-app/payments.py"))
        .unwrap()
        .replace("import pymysql\n", "")
        .replace("pymysql.connect", "driver.connect");
    let schema = std::fs::read_to_string(root().join("samples/mysql-app/schema.sql"))
        .unwrap()
        .replace(" ENGINE=InnoDB", "")
        .replace("  KEY ledger_account (account_id),\n", "")
        .replace(" AUTO_INCREMENT", "");
    write(dir.path(), "payments.py", &code);
    write(dir.path(), "schema.sql", &schema);
    let lg102 = |v: &serde_json::Value| codes(v).iter().any(|c| c == "LG102");

    let (_, v) = check_json(dir.path(), &["."]);
    assert!(!lg102(&v), "PostgreSQL by default: {v:#}");
    let (_, v) = check_json(dir.path(), &[".", "--engine", "mysql"]);
    assert!(lg102(&v), "--engine mysql: {v:#}");
    let (_, v) = check_json(dir.path(), &[".", "--engine", "MariaDB"]);
    assert!(lg102(&v), "--engine MariaDB: {v:#}");

    // The configuration file: `[[engines]]` for the Python file.
    write(
        dir.path(),
        "lockgraph.toml",
        "[[engines]]\npaths = [\"*.py\"]\nengine = \"mysql\"\n",
    );
    let with_config = || -> serde_json::Value {
        let out = Command::cargo_bin("lockgraph")
            .unwrap()
            .current_dir(dir.path())
            .args(["check", ".", "--format", "json"])
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let v = with_config();
    assert!(lg102(&v), "[[engines]]: {v:#}");

    // A driver import wins over `engine`: the same code importing psycopg is PostgreSQL.
    write(dir.path(), "lockgraph.toml", "engine = \"mysql\"\n");
    write(
        dir.path(),
        "payments.py",
        &format!("import psycopg\n{code}"),
    );
    let v = with_config();
    assert!(!lg102(&v), "psycopg import: {v:#}");

    // A bad engine name is a usage error.
    let out = Command::cargo_bin("lockgraph")
        .unwrap()
        .current_dir(dir.path())
        .args(["check", ".", "--no-config", "--engine", "oracle"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`oracle` is not an engine"));
}

/// An SQL file has no driver: `--engine sqlite` makes its read-then-write transaction a
/// deferred upgrade (LG501) instead of PostgreSQL row locks.
#[test]
fn sql_files_follow_the_configured_engine() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "restock.sql",
        "BEGIN;\nSELECT qty FROM stock WHERE sku = 'a';\n\
         UPDATE stock SET qty = qty + 1 WHERE sku = 'a';\nCOMMIT;\n",
    );
    let (_, v) = check_json(dir.path(), &[".", "--engine", "sqlite"]);
    assert_eq!(codes(&v), ["LG501"], "{v:#}");
    let (_, v) = check_json(dir.path(), &["."]);
    assert!(!codes(&v).iter().any(|c| c.starts_with("LG5")), "{v:#}");
}
