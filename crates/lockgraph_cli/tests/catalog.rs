//! `lockgraph logs --url`: relation OIDs a deadlock report leaves unnamed are named from the
//! real server's `pg_class`.
//!
//! Server: 127.0.0.1:5432 user postgres database test, or `LOCKGRAPH_TEST_PG`. Under `CI=true`
//! an unreachable server fails the test; elsewhere it prints a note and passes.

use assert_cmd::Command;
use std::io::Write;

fn conn() -> String {
    std::env::var("LOCKGRAPH_TEST_PG")
        .unwrap_or_else(|_| "host=127.0.0.1 port=5432 user=postgres dbname=test".into())
}

/// Creates two tables in a schema of their own; returns their OIDs and the database's.
fn tables() -> Option<(u32, u32, u32)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (client, connection) =
            match tokio_postgres::connect(&conn(), tokio_postgres::NoTls).await {
                Ok(c) => c,
                Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                    panic!("CI=true and PostgreSQL is unreachable ({}): {e}", conn())
                }
                Err(e) => {
                    eprintln!("NOTE: --url test not run: PostgreSQL unreachable: {e}");
                    return None;
                }
            };
        tokio::spawn(connection);
        client
            .batch_execute(
                "DROP SCHEMA IF EXISTS lockgraph_catalog_test CASCADE;
                 CREATE SCHEMA lockgraph_catalog_test;
                 CREATE TABLE lockgraph_catalog_test.invoices (id int PRIMARY KEY);
                 CREATE TABLE lockgraph_catalog_test.\"Payments\" (id int PRIMARY KEY);",
            )
            .await
            .expect("create the tables");
        let row = client
            .query_one(
                "SELECT 'lockgraph_catalog_test.invoices'::regclass::oid,
                        'lockgraph_catalog_test.\"Payments\"'::regclass::oid,
                        (SELECT oid FROM pg_database WHERE datname = current_database())",
                &[],
            )
            .await
            .expect("read the OIDs");
        Some((row.get(0), row.get(1), row.get(2)))
    })
}

#[test]
fn unnamed_oids_are_named_from_pg_class() {
    let Some((a, b, db)) = tables() else {
        return;
    };
    let other_db = db + 100_000;
    // Statements that name no table and no CONTEXT: nothing in the log names the OIDs.
    let log = format!(
        "\
2024-05-01 10:00:00.001 UTC [10] LOG:  statement: BEGIN
2024-05-01 10:00:00.002 UTC [11] LOG:  statement: BEGIN
2024-05-01 10:00:00.003 UTC [10] LOG:  statement: SELECT lock_invoices()
2024-05-01 10:00:00.004 UTC [11] LOG:  statement: SELECT lock_payments()
2024-05-01 10:00:00.005 UTC [10] LOG:  statement: SELECT lock_payments()
2024-05-01 10:00:00.006 UTC [11] LOG:  statement: SELECT lock_invoices()
2024-05-01 10:00:01.007 UTC [11] ERROR:  deadlock detected
2024-05-01 10:00:01.007 UTC [11] DETAIL:  Process 11 waits for AccessExclusiveLock on relation {a} of database {db}; blocked by process 10.
\tProcess 10 waits for AccessExclusiveLock on relation {b} of database {db}; blocked by process 11.
\tProcess 11: SELECT lock_invoices()
\tProcess 10: SELECT lock_payments()
2024-05-01 10:00:01.007 UTC [11] HINT:  See server log for query details.
2024-05-01 10:00:01.007 UTC [11] STATEMENT:  SELECT lock_invoices()
2024-05-01 10:00:01.008 UTC [11] LOG:  statement: ROLLBACK
2024-05-01 10:00:01.009 UTC [10] LOG:  statement: COMMIT
2024-05-01 10:00:02.001 UTC [12] LOG:  process 12 still waiting for ShareLock on relation {a} of database {other_db} after 1000.123 ms
2024-05-01 10:00:02.001 UTC [12] DETAIL:  Process holding the lock: 13. Wait queue: 12.
"
    );
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(log.as_bytes()).expect("write the log");
    let relations = |url: Option<&str>| {
        let mut cmd = Command::cargo_bin("lockgraph").expect("binary");
        cmd.args(["logs", "--format", "json", "--no-progress"])
            .arg(file.path());
        if let Some(u) = url {
            cmd.args(["--url", u]);
        }
        let out = cmd.output().expect("run");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let lg401 = json["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["code"] == "LG401")
            .cloned()
            .expect("an LG401 finding");
        (
            lg401["relations"].clone(),
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (without, _, _) = relations(None);
    assert_eq!(
        without,
        serde_json::json!([]),
        "nothing in the log names them"
    );
    let (with, code, stderr) = relations(Some(&conn()));
    assert_eq!(
        with,
        serde_json::json!([
            "lockgraph_catalog_test.invoices",
            // Names are kept as PostgreSQL folds them (quotes dropped, case kept).
            "lockgraph_catalog_test.Payments"
        ]),
        "{stderr}"
    );
    assert_eq!(
        code,
        Some(1),
        "an observed deadlock fails the run: {stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "relations {a} (database {other_db}) belong to another database"
        )),
        "{stderr}"
    );

    // An unreachable server is an error (exit 2) that names it without a password; the report
    // is still written.
    let mut cmd = Command::cargo_bin("lockgraph").expect("binary");
    let out = cmd
        .args(["logs", "--format", "json", "--no-progress", "--url"])
        .arg("postgres://someone:s3cret@127.0.0.1:1/nowhere?connect_timeout=2")
        .arg(file.path())
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
    assert!(stderr.contains("--url"), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json still written");
    assert!(json["findings"].as_array().is_some_and(|f| !f.is_empty()));
}
