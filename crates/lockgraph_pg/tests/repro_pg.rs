//! Real-PostgreSQL tests of the reproduction runner and of connection errors.
//!
//! The server is `host=127.0.0.1 port=5432 user=postgres dbname=test` unless the environment
//! variable `LOCKGRAPH_TEST_PG` gives another connection string. When the server cannot be
//! reached, a test prints a note to stderr (past the harness's capture) and returns — except
//! under `CI=true`, where it fails.
//!
//! The tests that run reproductions hold one lock, so that "no scratch schema is left" can be
//! checked for the whole `lockgraph_repro_%` pattern without seeing another test's schema.

use lockgraph_pg::{
    ConnectionSpec, DEADLOCK_SQLSTATE, Error, Repro, ReproOptions, ReproOutcome, ReproStep,
    probe_blocking, run_repro_blocking,
};
use std::io::Write as _;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

const DEFAULT_SERVER: &str = "host=127.0.0.1 port=5432 user=postgres dbname=test";

static REPRO_LOCK: Mutex<()> = Mutex::new(());

fn server_text() -> String {
    std::env::var("LOCKGRAPH_TEST_PG").unwrap_or_else(|_| DEFAULT_SERVER.to_string())
}

/// The test server, or `None` (with a note on stderr) when it is unreachable outside CI.
fn server(test: &str) -> Option<(ConnectionSpec, ReproOptions)> {
    let spec = ConnectionSpec::parse(&server_text()).expect("LOCKGRAPH_TEST_PG must parse");
    match probe_blocking(&spec) {
        Ok(info) => {
            let mut opts = ReproOptions::default();
            // Deadlocks are found after deadlock_timeout; a short one keeps the tests fast.
            if info.superuser {
                opts.deadlock_timeout = Some(Duration::from_millis(100));
            }
            Some((spec, opts))
        }
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{test}: the PostgreSQL test server is required under CI=true: {e}")
        }
        Err(e) => {
            // Straight to stderr: the test harness captures `eprintln!` of passing tests.
            let _ = writeln!(
                std::io::stderr(),
                "note: {test} did not run: no PostgreSQL test server ({e}); start one at \
                 127.0.0.1:5432 or set LOCKGRAPH_TEST_PG"
            );
            None
        }
    }
}

fn lock() -> MutexGuard<'static, ()> {
    REPRO_LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// Scratch schemas left on the server.
fn leftover_schemas() -> Vec<String> {
    let config: tokio_postgres::Config = server_text().parse().expect("tokio-postgres config");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, conn) = config.connect(tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        client
            .query(
                "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'lockgraph\\_repro\\_%'",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    })
}

fn step(session: usize, sql: &str) -> ReproStep {
    ReproStep {
        session,
        sql: sql.to_string(),
        origin: None,
        expect_block: false,
    }
}

fn two_tables() -> Vec<String> {
    vec![
        "CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL)".to_string(),
        "CREATE TABLE ledger (id int PRIMARY KEY, amount int NOT NULL)".to_string(),
        "INSERT INTO accounts VALUES (1, 100), (2, 100); INSERT INTO ledger VALUES (1, 0), (2, 0)"
            .to_string(),
    ]
}

fn run(spec: &ConnectionSpec, repro: &Repro, opts: &ReproOptions) -> ReproOutcome {
    let outcome = run_repro_blocking(spec, repro, opts).expect("the run itself succeeds");
    assert_eq!(
        leftover_schemas(),
        Vec::<String>::new(),
        "scratch schema left behind"
    );
    outcome
}

#[test]
fn classic_inversion_deadlocks() {
    let Some((spec, opts)) = server("classic_inversion_deadlocks") else {
        return;
    };
    let _guard = lock();
    let repro = Repro {
        setup: two_tables(),
        steps: vec![
            step(1, "BEGIN"),
            step(2, "BEGIN"),
            step(1, "UPDATE accounts SET balance = balance - 1 WHERE id = 1"),
            step(2, "UPDATE ledger SET amount = amount + 1 WHERE id = 1"),
            step(1, "UPDATE ledger SET amount = amount + 1 WHERE id = 1"),
            step(2, "UPDATE accounts SET balance = balance - 1 WHERE id = 1"),
            step(1, "COMMIT"),
            step(2, "COMMIT"),
        ],
        sessions: 2,
        ..Repro::default()
    };
    let outcome = run(&spec, &repro, &opts);
    let deadlock = outcome.deadlock.as_ref().expect("a deadlock is reported");
    assert!(
        deadlock.step_index == 4 || deadlock.step_index == 5,
        "{outcome:#?}"
    );
    assert_eq!(deadlock.session, repro.steps[deadlock.step_index].session);
    assert_eq!(deadlock.message, "deadlock detected");
    let detail = deadlock.detail.as_deref().unwrap_or_default();
    assert!(
        detail.contains("waits for ShareLock on transaction"),
        "{detail}"
    );
    let victim = &outcome.steps[deadlock.step_index];
    assert_eq!(victim.error.as_ref().unwrap().sqlstate, DEADLOCK_SQLSTATE);
    assert!(outcome.steps[4].blocked, "{outcome:#?}");
    // The other statement of the cycle went through once the victim was aborted.
    let survivor = 9 - deadlock.step_index;
    assert!(outcome.steps[survivor].error.is_none(), "{outcome:#?}");
    assert!(!outcome.completed);
}

#[test]
fn fixed_order_completes_with_a_blocked_step() {
    let Some((spec, opts)) = server("fixed_order_completes_with_a_blocked_step") else {
        return;
    };
    let _guard = lock();
    // Same interleaving, both sessions lock accounts before ledger.
    let repro = Repro {
        setup: two_tables(),
        steps: vec![
            step(1, "BEGIN"),
            step(2, "BEGIN"),
            step(1, "UPDATE accounts SET balance = balance - 1 WHERE id = 1"),
            step(2, "UPDATE accounts SET balance = balance - 1 WHERE id = 1"),
            step(1, "UPDATE ledger SET amount = amount + 1 WHERE id = 1"),
            step(2, "UPDATE ledger SET amount = amount + 1 WHERE id = 1"),
            step(1, "COMMIT"),
            step(2, "COMMIT"),
        ],
        sessions: 2,
        ..Repro::default()
    };
    let outcome = run(&spec, &repro, &opts);
    assert_eq!(outcome.deadlock, None, "{outcome:#?}");
    assert!(outcome.completed, "{outcome:#?}");
    let blocked: Vec<usize> = (0..8).filter(|&i| outcome.steps[i].blocked).collect();
    assert_eq!(blocked, [3], "{outcome:#?}");
    // Session 2 was waiting, so its next statements ran after session 1 committed.
    assert!(outcome.steps[5].deferred, "{outcome:#?}");
    assert!(!outcome.steps[4].deferred && !outcome.steps[6].deferred);
}

#[test]
fn share_lock_upgrade_deadlocks() {
    let Some((spec, opts)) = server("share_lock_upgrade_deadlocks") else {
        return;
    };
    let _guard = lock();
    let repro = Repro {
        setup: vec![
            "CREATE TABLE items (id int PRIMARY KEY, qty int NOT NULL)".to_string(),
            "INSERT INTO items VALUES (1, 10)".to_string(),
        ],
        steps: vec![
            step(1, "BEGIN"),
            step(2, "BEGIN"),
            step(1, "SELECT qty FROM items WHERE id = 1 FOR SHARE"),
            step(2, "SELECT qty FROM items WHERE id = 1 FOR SHARE"),
            step(1, "UPDATE items SET qty = qty - 1 WHERE id = 1"),
            step(2, "UPDATE items SET qty = qty - 1 WHERE id = 1"),
            step(1, "COMMIT"),
            step(2, "COMMIT"),
        ],
        sessions: 2,
        ..Repro::default()
    };
    let outcome = run(&spec, &repro, &opts);
    let deadlock = outcome.deadlock.as_ref().expect("a deadlock is reported");
    assert!(
        deadlock.step_index == 4 || deadlock.step_index == 5,
        "{outcome:#?}"
    );
    assert!(outcome.steps[4].blocked, "{outcome:#?}");
    assert!(!outcome.steps[2].blocked && !outcome.steps[3].blocked);
}

#[test]
fn setup_error_is_an_error_and_the_schema_is_dropped() {
    let Some((spec, opts)) = server("setup_error_is_an_error_and_the_schema_is_dropped") else {
        return;
    };
    let _guard = lock();
    let repro = Repro {
        setup: vec![
            "CREATE TABLE t (id int PRIMARY KEY)".to_string(),
            "INSERT INTO missing_table VALUES (1)".to_string(),
        ],
        steps: vec![step(1, "SELECT 1")],
        sessions: 1,
        ..Repro::default()
    };
    let err = run_repro_blocking(&spec, &repro, &opts).expect_err("setup fails");
    assert!(matches!(err, Error::Setup { index: 2, .. }), "{err:?}");
    let msg = err.to_string();
    assert_eq!(
        msg,
        "setup statement 2 failed: relation \"missing_table\" does not exist (SQLSTATE 42P01); \
         statement: INSERT INTO missing_table VALUES (1)"
    );
    assert_eq!(leftover_schemas(), Vec::<String>::new());
}

#[test]
fn steps_run_in_the_scratch_schema_and_errors_are_results() {
    let Some((spec, opts)) = server("steps_run_in_the_scratch_schema_and_errors_are_results")
    else {
        return;
    };
    let _guard = lock();
    let repro = Repro {
        setup: vec!["CREATE TABLE t (id int PRIMARY KEY)".to_string()],
        steps: vec![
            step(1, "INSERT INTO t VALUES (1)"),
            step(1, "INSERT INTO t VALUES (1)"),
            step(
                2,
                "DO $$ BEGIN IF current_schema() NOT LIKE 'lockgraph\\_repro\\_%' THEN RAISE 'wrong schema %', current_schema(); END IF; END $$",
            ),
        ],
        sessions: 2,
        ..Repro::default()
    };
    let outcome = run(&spec, &repro, &opts);
    assert_eq!(outcome.steps[0].error, None);
    let dup = outcome.steps[1].error.as_ref().expect("duplicate key");
    assert_eq!(dup.sqlstate, "23505");
    assert_eq!(outcome.steps[2].error, None, "{outcome:#?}");
    assert!(!outcome.completed);
    assert_eq!(outcome.deadlock, None);
}

#[test]
fn connection_errors_are_one_line_without_the_password() {
    let Some((spec, _)) = server("connection_errors_are_one_line_without_the_password") else {
        return;
    };
    let secret = "Zq9-very-secret";
    // A database that does not exist: the server refuses the login.
    let text = format!(
        "postgres://{}:{secret}@{}:{}/lockgraph_no_such_db",
        spec.user(),
        bracket(spec.host()),
        spec.port()
    );
    let err = probe_blocking(&ConnectionSpec::parse(&text).unwrap()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("cannot connect to postgres://"), "{msg}");
    assert!(msg.contains(":****@"), "{msg}");
    assert!(
        msg.contains("lockgraph_no_such_db\" does not exist"),
        "{msg}"
    );
    assert!(
        !msg.contains(secret) && !format!("{err:?}").contains(secret),
        "{msg}"
    );
    assert!(!msg.contains('\n'), "{msg}");
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

#[test]
fn unreachable_and_non_postgres_servers() {
    let secret = "Zq9-very-secret";
    // Nothing listens on a port we just released.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let spec = ConnectionSpec::parse(&format!("postgres://u:{secret}@127.0.0.1:{port}/d")).unwrap();
    let msg = probe_blocking(&spec).unwrap_err().to_string();
    assert!(msg.contains("is the server running"), "{msg}");
    assert!(!msg.contains(secret) && !msg.contains('\n'), "{msg}");

    // Something that is not PostgreSQL answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let fake = std::thread::spawn(move || {
        use std::io::{Read, Write};
        if let Ok((mut stream, _)) = listener.accept() {
            let mut buf = [0u8; 64];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.2\r\n");
        }
    });
    let spec = ConnectionSpec::parse(&format!(
        "host=127.0.0.1 port={port} user=u password={secret}"
    ))
    .unwrap();
    let msg = probe_blocking(&spec).unwrap_err().to_string();
    fake.join().unwrap();
    assert!(msg.contains("is that a PostgreSQL server?"), "{msg}");
    assert!(!msg.contains(secret) && !msg.contains('\n'), "{msg}");
}
