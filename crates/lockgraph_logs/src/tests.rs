//! End-to-end tests of the analyzer on small hand-written logs (real-server logs are checked in
//! `tests/real_server.rs`).

use crate::analyzer::tests_support::analyze_str;
use crate::{LogAnalysis, LogAnalyzer, LogFormat, LogOptions, WarningKind};
use lockgraph_core::{LockMode, TransactionKind, WaitOutcome};

const P: &str = "2024-05-01 10:00:00.000 UTC";

/// A stderr log with prefix `%m [%p] %q%u@%d ` from `(pid, "SEVERITY:  message")` lines; lines
/// starting with a TAB are kept as they are.
fn log(lines: &[(u32, &str)]) -> String {
    let mut out = String::new();
    for (pid, text) in lines {
        if text.starts_with('\t') {
            out.push_str(text);
        } else {
            out.push_str(&format!("{P} [{pid}] app@shop {text}"));
        }
        out.push('\n');
    }
    out
}

fn run(lines: &[(u32, &str)]) -> LogAnalysis {
    analyze_str(&log(lines), LogOptions::default())
}

fn shapes(a: &LogAnalysis) -> Vec<(Vec<String>, u64)> {
    a.transactions
        .iter()
        .zip(&a.shape_counts)
        .map(|(t, c)| {
            (
                t.statements
                    .iter()
                    .map(|s| s.redacted.to_string())
                    .collect(),
                *c,
            )
        })
        .collect()
}

fn locks(t: &lockgraph_core::Transaction) -> Vec<String> {
    t.locks
        .iter()
        .map(|l| format!("{} {}", l.target, l.mode))
        .collect()
}

#[test]
fn blocks_autocommit_and_shapes() {
    let mut lines = Vec::new();
    for i in 0..50 {
        let pid = 100 + (i % 3);
        lines.push((pid, "LOG:  statement: BEGIN".to_string()));
        lines.push((
            pid,
            format!("LOG:  statement: UPDATE accounts SET balance = balance - {i} WHERE id = {i}"),
        ));
        lines.push((
            pid,
            format!(
                "LOG:  statement: update LEDGER set amount = amount + {i} where id = {}",
                i + 1
            ),
        ));
        lines.push((pid, "LOG:  statement: COMMIT".to_string()));
        lines.push((
            pid,
            format!("LOG:  statement: SELECT * FROM accounts WHERE id = {i}"),
        ));
        lines.push((pid, "LOG:  statement: SELECT 1".to_string()));
    }
    let refs: Vec<(u32, &str)> = lines.iter().map(|(p, s)| (*p, s.as_str())).collect();
    let a = run(&refs);
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    let got = shapes(&a);
    assert_eq!(got.len(), 2, "{got:#?}");
    assert_eq!(got[0].1, 50);
    assert_eq!(got[0].0.len(), 4);
    assert_eq!(a.transactions[0].kind, TransactionKind::Explicit);
    assert_eq!(
        locks(&a.transactions[0]),
        [
            "accounts ROW EXCLUSIVE",
            "accounts rows (id = 0) FOR NO KEY UPDATE",
            "ledger ROW EXCLUSIVE",
            "ledger rows (id = 1) FOR NO KEY UPDATE"
        ]
    );
    assert_eq!(
        a.transactions[0].locks[0].statement.location.to_string(),
        "pg.log:2"
    );
    assert_eq!(&*a.transactions[0].name, "pg.log:1 (pid 100)");
    // `SELECT 1` takes no lock: counted, not listed.
    assert_eq!(a.transactions[1].kind, TransactionKind::Autocommit);
    assert_eq!(got[1].1, 50);
    assert_eq!(a.stats.transactions, 150);
    assert_eq!(a.stats.statements, 300);
    assert_eq!(a.stats.sessions, 3);
}

#[test]
fn errors_abort_until_rollback_and_savepoints_recover() {
    let a = run(&[
        (1, "LOG:  statement: BEGIN"),
        (1, "LOG:  statement: UPDATE a SET x = 1 WHERE id = 1"),
        (1, "LOG:  statement: INSERT INTO b VALUES (1)"),
        (
            1,
            "ERROR:  duplicate key value violates unique constraint \"b_pkey\"",
        ),
        (1, "DETAIL:  Key (id)=(1) already exists."),
        (1, "STATEMENT:  INSERT INTO b VALUES (1)"),
        (1, "LOG:  statement: UPDATE c SET x = 1"),
        (
            1,
            "ERROR:  current transaction is aborted, commands ignored until end of transaction block",
        ),
        (1, "STATEMENT:  UPDATE c SET x = 1"),
        (1, "LOG:  statement: ROLLBACK"),
        (2, "LOG:  statement: BEGIN"),
        (2, "LOG:  statement: SAVEPOINT s1"),
        (2, "LOG:  statement: UPDATE d SET x = 1"),
        (2, "ERROR:  division by zero"),
        (2, "STATEMENT:  UPDATE d SET x = 1"),
        (2, "LOG:  statement: ROLLBACK TO SAVEPOINT s1"),
        (2, "LOG:  statement: UPDATE e SET x = 1"),
        (2, "LOG:  statement: COMMIT"),
    ]);
    let t = &a.transactions;
    assert_eq!(t.len(), 2, "{:#?}", shapes(&a));
    // The failing INSERT counts (it took its locks up to the error); UPDATE c never ran.
    let rels: Vec<String> = t[0]
        .locks
        .iter()
        .filter(|l| matches!(l.mode, LockMode::Table(_)))
        .map(|l| l.target.to_string())
        .collect();
    assert_eq!(rels, ["a", "b"]);
    assert_eq!(t[0].statements.len(), 4);
    // ROLLBACK TO releases d's locks and the transaction goes on.
    let rels: Vec<String> = t[1]
        .locks
        .iter()
        .filter(|l| matches!(l.mode, LockMode::Table(_)))
        .map(|l| l.target.to_string())
        .collect();
    assert_eq!(rels, ["e"]);
}

#[test]
fn duration_logging_and_failing_statements_from_error_lines() {
    let a = run(&[
        (7, "LOG:  duration: 0.010 ms  statement: BEGIN"),
        (
            7,
            "LOG:  duration: 0.050 ms  parse <unnamed>: UPDATE a SET x = $1 WHERE id = $2",
        ),
        (
            7,
            "LOG:  duration: 0.020 ms  bind <unnamed>: UPDATE a SET x = $1 WHERE id = $2",
        ),
        (7, "DETAIL:  parameters: $1 = '5', $2 = '42'"),
        (
            7,
            "LOG:  duration: 0.100 ms  execute <unnamed>: UPDATE a SET x = $1 WHERE id = $2",
        ),
        (7, "DETAIL:  parameters: $1 = '5', $2 = '42'"),
        (7, "ERROR:  canceling statement due to statement timeout"),
        (7, "STATEMENT:  UPDATE b SET x = 1 WHERE id = 3"),
        (7, "LOG:  duration: 0.010 ms  statement: ROLLBACK"),
        (7, "LOG:  duration: 0.300 ms"),
    ]);
    assert_eq!(a.transactions.len(), 1);
    assert_eq!(
        locks(&a.transactions[0]),
        [
            "a ROW EXCLUSIVE",
            "a rows (id = '42') FOR NO KEY UPDATE",
            "b ROW EXCLUSIVE",
            "b rows (id = 3) FOR NO KEY UPDATE"
        ]
    );
    assert_eq!(a.stats.statements, 4);
}

#[test]
fn execute_with_parameters_and_multi_statement_strings() {
    let a = run(&[
        (3, "LOG:  execute S_1: BEGIN"),
        (
            3,
            "LOG:  execute S_2: SELECT * FROM jobs WHERE id = $1 FOR UPDATE",
        ),
        (3, "DETAIL:  parameters: $1 = '9'"),
        (3, "LOG:  execute S_3: COMMIT"),
        (
            4,
            "LOG:  statement: BEGIN; UPDATE t SET a = ';' WHERE id = 1; COMMIT;",
        ),
        (5, "LOG:  execute fetch from S_1/C_2: SELECT * FROM jobs"),
        (6, "LOG:  statement: EXECUTE upd(7)"),
        (
            6,
            "DETAIL:  prepare: PREPARE upd (int) AS DELETE FROM queue WHERE id = $1",
        ),
    ]);
    let t = &a.transactions;
    assert_eq!(t.len(), 3, "{:#?}", shapes(&a));
    assert!(locks(&t[0]).contains(&"jobs rows (id = '9') FOR UPDATE".to_string()));
    assert_eq!(t[1].statements.len(), 3);
    assert_eq!(t[1].kind, TransactionKind::Explicit);
    assert!(locks(&t[2]).contains(&"queue rows (id = 7) FOR UPDATE".to_string()));
}

#[test]
fn continuation_lines_and_interleaved_sessions() {
    let a = run(&[
        (1, "LOG:  statement: BEGIN"),
        (2, "LOG:  statement: BEGIN"),
        (1, "LOG:  statement: UPDATE accounts"),
        (0, "\t   SET balance = 0"),
        (0, "\t WHERE id = 1"),
        (2, "LOG:  statement: DELETE FROM ledger WHERE id = 2"),
        (1, "LOG:  statement: COMMIT"),
        (2, "LOG:  statement: COMMIT"),
    ]);
    let t = &a.transactions;
    assert_eq!(t.len(), 2);
    assert_eq!(
        &*t[0].statements[1].text,
        "UPDATE accounts\n   SET balance = 0\n WHERE id = 1"
    );
    assert!(locks(&t[0]).contains(&"accounts rows (id = 1) FOR NO KEY UPDATE".to_string()));
    assert!(locks(&t[1]).contains(&"ledger rows (id = 2) FOR UPDATE".to_string()));
}

#[test]
fn eviction_is_bounded_and_warned() {
    let mut lines = Vec::new();
    for pid in 0..20u32 {
        lines.push((pid + 1, "LOG:  statement: BEGIN".to_string()));
        lines.push((pid + 1, "LOG:  statement: UPDATE t SET a = 1".to_string()));
    }
    let refs: Vec<(u32, &str)> = lines.iter().map(|(p, s)| (*p, s.as_str())).collect();
    let opts = LogOptions {
        max_open_transactions: 8,
        ..LogOptions::default()
    };
    let a = analyze_str(&log(&refs), opts);
    let evicted = a.stats.warnings_of(WarningKind::EvictedTransaction);
    assert!(evicted >= 12, "{evicted}");
    // The rest end open at the end of the log and are still counted.
    assert_eq!(a.stats.transactions + evicted, 20);
    assert_eq!(a.warnings[0].location.to_string(), "pg.log:1");
}

#[test]
fn disconnection_and_pid_reuse_end_sessions() {
    let a = run(&[
        (1, "LOG:  statement: BEGIN"),
        (1, "LOG:  statement: UPDATE t SET a = 1"),
        (
            1,
            "LOG:  disconnection: session time: 0:00:01.000 user=app database=shop host=[local]",
        ),
        (1, "LOG:  statement: UPDATE u SET a = 1"),
        (1, "LOG:  connection received: host=[local]"),
        (1, "LOG:  statement: UPDATE v SET a = 1"),
    ]);
    let names: Vec<usize> = a.transactions.iter().map(|t| t.statements.len()).collect();
    assert_eq!(names, [2, 1, 1]);
}

const DEADLOCK: &[(u32, &str)] = &[
    (11, "LOG:  statement: BEGIN"),
    (
        11,
        "LOG:  statement: UPDATE accounts SET balance = balance - 1 WHERE id = 1",
    ),
    (12, "LOG:  statement: BEGIN"),
    (
        12,
        "LOG:  statement: UPDATE ledger SET amount = amount + 1 WHERE id = 2",
    ),
    (
        11,
        "LOG:  statement: UPDATE ledger SET amount = amount + 1 WHERE id = 2",
    ),
    (
        12,
        "LOG:  statement: UPDATE accounts SET balance = balance - 1 WHERE id = 1",
    ),
    (
        11,
        "LOG:  process 11 detected deadlock while waiting for ShareLock on transaction 744 after 200.482 ms",
    ),
    (11, "DETAIL:  Process holding the lock: 12. Wait queue: ."),
    (
        11,
        "CONTEXT:  while updating tuple (0,2) in relation \"ledger\"",
    ),
    (11, "ERROR:  deadlock detected"),
    (
        11,
        "DETAIL:  Process 11 waits for ShareLock on transaction 744; blocked by process 12.",
    ),
    (
        0,
        "\tProcess 12 waits for ShareLock on transaction 743; blocked by process 11.",
    ),
    (
        0,
        "\tProcess 11: UPDATE ledger SET amount = amount + 1 WHERE id = 2",
    ),
    (
        0,
        "\tProcess 12: UPDATE accounts SET balance = balance - 1 WHERE id = 1",
    ),
    (11, "HINT:  See server log for query details."),
    (
        11,
        "CONTEXT:  while updating tuple (0,2) in relation \"ledger\"",
    ),
    (
        11,
        "STATEMENT:  UPDATE ledger SET amount = amount + 1 WHERE id = 2",
    ),
    (11, "LOG:  statement: ROLLBACK"),
    (12, "LOG:  statement: COMMIT"),
];

#[test]
fn deadlock_joined_with_transactions() {
    let a = run(DEADLOCK);
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    assert_eq!(a.deadlocks.len(), 1);
    let d = &a.deadlocks[0];
    assert_eq!(d.count, 1);
    assert_eq!(d.location.to_string(), "pg.log:10");
    assert_eq!(d.first_seen.as_deref(), Some(P));
    let rel: Vec<&str> = d.relations.iter().map(|r| r.as_str()).collect();
    assert_eq!(rel, ["ledger", "accounts"]);
    assert_eq!(
        d.edges[0].relation.as_ref().map(|r| r.as_str()),
        Some("ledger")
    );
    assert_eq!(
        d.edges[1].relation.as_ref().map(|r| r.as_str()),
        Some("accounts")
    );
    let p11 = &d.participants[0];
    assert_eq!((p11.pid, p11.victim), (11, true));
    let texts: Vec<&str> = p11.statements.iter().map(|s| &*s.text).collect();
    assert_eq!(
        texts,
        [
            "BEGIN",
            "UPDATE accounts SET balance = balance - 1 WHERE id = 1",
            "UPDATE ledger SET amount = amount + 1 WHERE id = 2"
        ]
    );
    assert_eq!(p11.statements[1].location.to_string(), "pg.log:2");
    assert_eq!(
        p11.current.as_ref().unwrap().location.to_string(),
        "pg.log:13"
    );
    assert_eq!(p11.locks.len(), 4);
    let p12 = &d.participants[1];
    assert!(!p12.victim);
    assert_eq!(p12.statements.len(), 3);
    // The wait that ended in the deadlock, and both transactions.
    assert_eq!(a.lock_waits.len(), 1);
    assert_eq!(a.lock_waits[0].outcome, WaitOutcome::Deadlock);
    assert_eq!(a.transactions.len(), 2);
}

#[test]
fn repeated_deadlocks_group_whoever_is_the_victim() {
    let first = log(DEADLOCK);
    // Same deadlock, other pids, the other process is the victim and printed first.
    let second = log(&[
        (21, "LOG:  statement: BEGIN"),
        (
            21,
            "LOG:  statement: UPDATE accounts SET balance = balance - 1 WHERE id = 5",
        ),
        (22, "LOG:  statement: BEGIN"),
        (
            22,
            "LOG:  statement: UPDATE ledger SET amount = amount + 1 WHERE id = 6",
        ),
        (
            21,
            "LOG:  statement: UPDATE ledger SET amount = amount + 1 WHERE id = 6",
        ),
        (
            22,
            "LOG:  statement: UPDATE accounts SET balance = balance - 1 WHERE id = 5",
        ),
        (22, "ERROR:  deadlock detected"),
        (
            22,
            "DETAIL:  Process 22 waits for ShareLock on transaction 900; blocked by process 21.",
        ),
        (
            0,
            "\tProcess 21 waits for ShareLock on transaction 901; blocked by process 22.",
        ),
        (
            0,
            "\tProcess 22: UPDATE accounts SET balance = balance - 1 WHERE id = 5",
        ),
        (
            0,
            "\tProcess 21: UPDATE ledger SET amount = amount + 1 WHERE id = 6",
        ),
        (
            22,
            "CONTEXT:  while updating tuple (0,5) in relation \"accounts\"",
        ),
        (
            22,
            "STATEMENT:  UPDATE accounts SET balance = balance - 1 WHERE id = 5",
        ),
    ])
    .replace("10:00:00.000", "11:00:00.000");
    let a = analyze_str(&(first + &second), LogOptions::default());
    assert_eq!(a.deadlocks.len(), 1, "{:#?}", a.deadlocks);
    let d = &a.deadlocks[0];
    assert_eq!(d.count, 2);
    assert_eq!(d.last_seen.as_deref(), Some("2024-05-01 11:00:00.000 UTC"));
}

#[test]
fn deadlock_on_relation_oids_three_processes_and_advisory_locks() {
    let a = run(&[
        (1, "LOG:  statement: BEGIN"),
        (1, "LOG:  statement: UPDATE orders SET n = 1 WHERE id = 1"),
        (2, "LOG:  statement: BEGIN"),
        (
            2,
            "LOG:  statement: LOCK TABLE customers IN ACCESS EXCLUSIVE MODE",
        ),
        (
            1,
            "LOG:  statement: UPDATE customers SET name = 'Anna' WHERE id = 1",
        ),
        (
            2,
            "LOG:  statement: ALTER TABLE orders ADD COLUMN note text",
        ),
        (1, "ERROR:  deadlock detected at character 8"),
        (
            1,
            "DETAIL:  Process 1 waits for RowExclusiveLock on relation 16471 of database 16385; blocked by process 2.",
        ),
        (
            0,
            "\tProcess 2 waits for AccessExclusiveLock on relation 16478 of database 16385; blocked by process 1.",
        ),
        (
            0,
            "\tProcess 1: UPDATE customers SET name = 'Anna' WHERE id = 1",
        ),
        (0, "\tProcess 2: ALTER TABLE orders ADD COLUMN note text"),
        (
            1,
            "STATEMENT:  UPDATE customers SET name = 'Anna' WHERE id = 1",
        ),
        // An advisory-lock deadlock and a three-process cycle with every target form.
        (5, "ERROR:  deadlock detected"),
        (
            5,
            "DETAIL:  Process 5 waits for ExclusiveLock on advisory lock [16385,0,2,1]; blocked by process 6.",
        ),
        (
            0,
            "\tProcess 6 waits for ExclusiveLock on advisory lock [16385,0,1,1]; blocked by process 5.",
        ),
        (0, "\tProcess 5: SELECT pg_advisory_xact_lock(2)"),
        (0, "\tProcess 6: <insufficient privilege>"),
        (7, "ERROR:  deadlock detected"),
        (
            7,
            "DETAIL:  Process 7 waits for ExclusiveLock on tuple (0,1) of relation 16471 of database 16385; blocked by process 8.",
        ),
        (
            0,
            "\tProcess 8 waits for ShareLock on virtual transaction 5/123; blocked by process 9.",
        ),
        (
            0,
            "\tProcess 9 waits for ExclusiveLock on extension of relation 16478 of database 16385; blocked by process 7.",
        ),
        (
            0,
            "\tProcess 7: UPDATE customers SET name = 'x' WHERE id = 2",
        ),
        (0, "\tProcess 8: CREATE INDEX CONCURRENTLY i ON t (a)"),
        (0, "\tProcess 9: INSERT INTO orders VALUES (1)"),
    ]);
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    assert_eq!(a.deadlocks.len(), 3);
    let rel = |i: usize| -> Vec<String> {
        a.deadlocks[i]
            .edges
            .iter()
            .map(|e| {
                e.relation
                    .as_ref()
                    .map(|r| r.to_string())
                    .unwrap_or_default()
            })
            .collect()
    };
    assert_eq!(rel(0), ["customers", "orders"]);
    assert_eq!(rel(1), ["", ""]);
    assert!(a.deadlocks[1].participants[1].current.is_none());
    // OIDs learned from the first report name the third one's relations.
    assert_eq!(rel(2), ["customers", "", "orders"]);
    let p1 = &a.deadlocks[0].participants[0];
    assert_eq!(p1.statements.len(), 3);
}

#[test]
fn foreign_key_check_context_names_the_parent() {
    let a = run(&[
        (1, "ERROR:  deadlock detected"),
        (
            1,
            "DETAIL:  Process 1 waits for ShareLock on transaction 769; blocked by process 2.",
        ),
        (
            0,
            "\tProcess 2 waits for ShareLock on transaction 768; blocked by process 1.",
        ),
        (
            0,
            "\tProcess 1: INSERT INTO books (id, author_id, title) VALUES (11, 1, 'Second')",
        ),
        (
            0,
            "\tProcess 2: UPDATE books SET title = 'Gone' WHERE id = 10",
        ),
        (
            1,
            "CONTEXT:  SQL statement \"SELECT 1 FROM ONLY \"public\".\"authors\" x WHERE \"id\" OPERATOR(pg_catalog.=) $1 FOR KEY SHARE OF x\"",
        ),
        (
            1,
            "STATEMENT:  INSERT INTO books (id, author_id, title) VALUES (11, 1, 'Second')",
        ),
    ]);
    let d = &a.deadlocks[0];
    let rel: Vec<&str> = d.relations.iter().map(|r| r.as_str()).collect();
    assert_eq!(rel, ["authors", "books"]);
}

#[test]
fn cut_deadlock_reports_warn_and_keep_what_was_read() {
    let text = log(&DEADLOCK[..12]);
    let a = analyze_str(&text, LogOptions::default());
    assert_eq!(a.deadlocks.len(), 1);
    assert_eq!(a.deadlocks[0].edges.len(), 2);
    assert_eq!(a.stats.warnings_of(WarningKind::CutDeadlockReport), 1);
    assert_eq!(a.warnings[0].location.to_string(), "pg.log:10");
    // Terse logs: no DETAIL at all.
    let a = run(&[
        (1, "ERROR:  deadlock detected"),
        (1, "STATEMENT:  UPDATE t SET a = 1 WHERE id = 1"),
    ]);
    assert_eq!(a.deadlocks.len(), 1);
    assert_eq!(a.deadlocks[0].participants.len(), 1);
    assert!(a.deadlocks[0].participants[0].victim);
    assert_eq!(a.stats.warnings_of(WarningKind::CutDeadlockReport), 1);
}

#[test]
fn detected_deadlock_without_a_report() {
    let a = run(&[
        (1, "LOG:  statement: SELECT f()"),
        (
            1,
            "LOG:  process 1 detected deadlock while waiting for ShareLock on transaction 5 after 1000.1 ms",
        ),
        (1, "DETAIL:  Process holding the lock: 2. Wait queue: ."),
        (
            1,
            "CONTEXT:  while updating tuple (0,2) in relation \"jobs\"",
        ),
        (1, "LOG:  statement: SELECT 2"),
    ]);
    assert_eq!(a.deadlocks.len(), 1);
    let d = &a.deadlocks[0];
    assert_eq!(d.edges.len(), 1);
    assert_eq!((d.edges[0].waiter, d.edges[0].blocker), (1, 2));
    assert_eq!(d.relations[0].as_str(), "jobs");
}

#[test]
fn lock_wait_forms() {
    let a = run(&[
        (1, "LOG:  statement: BEGIN"),
        (
            1,
            "LOG:  statement: UPDATE jobs SET state = 'x' WHERE id = 1",
        ),
        (
            2,
            "LOG:  statement: UPDATE jobs SET state = 'y' WHERE id = 1",
        ),
        (
            2,
            "LOG:  process 2 still waiting for ShareLock on transaction 794 after 200.171 ms",
        ),
        (2, "DETAIL:  Process holding the lock: 1. Wait queue: 2."),
        (
            2,
            "CONTEXT:  while updating tuple (0,1) in relation \"jobs\"",
        ),
        (
            3,
            "LOG:  process 3 still waiting for ExclusiveLock on tuple (0,1) of relation 16498 of database 16385 after 200.166 ms",
        ),
        (3, "DETAIL:  Process holding the lock: 2. Wait queue: 3."),
        (3, "STATEMENT:  UPDATE jobs SET state = 'z' WHERE id = 1"),
        (
            2,
            "LOG:  process 2 still waiting for ShareLock on transaction 794 after 1200.5 ms",
        ),
        (
            2,
            "DETAIL:  Processes holding the lock: 1, 4. Wait queue: 2, 3.",
        ),
        (
            2,
            "LOG:  process 2 acquired ShareLock on transaction 794 after 1605.797 ms",
        ),
        (3, "ERROR:  canceling statement due to lock timeout"),
        (3, "STATEMENT:  UPDATE jobs SET state = 'z' WHERE id = 1"),
        (
            5,
            "LOG:  process 5 avoided deadlock for AccessExclusiveLock on relation 16498 of database 16385 by rearranging queue order after 1000.1 ms",
        ),
        (5, "LOG:  statement: UPDATE other SET a = 1"),
        (5, "ERROR:  canceling statement due to statement timeout"),
        (
            6,
            "ERROR:  could not obtain lock on row in relation \"jobs\"",
        ),
        (
            6,
            "STATEMENT:  SELECT * FROM jobs WHERE id = 1 FOR UPDATE NOWAIT",
        ),
        (6, "ERROR:  could not obtain lock on relation \"jobs\""),
        (
            6,
            "STATEMENT:  LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE NOWAIT",
        ),
        (8, "ERROR:  canceling statement due to lock timeout"),
        (
            8,
            "CONTEXT:  while locking tuple (0,7) in relation \"queue\"",
        ),
        (8, "STATEMENT:  SELECT * FROM queue WHERE id = 7 FOR SHARE"),
        (
            9,
            "LOG:  process 9 still waiting for AccessShareLock on relation 16498 of database 16385 after 100.0 ms",
        ),
    ]);
    let w = &a.lock_waits;
    type Brief<'a> = (u32, &'a str, &'a str, WaitOutcome, f64, Option<&'a str>);
    let brief: Vec<Brief<'_>> = w
        .iter()
        .map(|w| {
            (
                w.waiter,
                w.mode.as_str(),
                w.target.as_str(),
                w.outcome,
                w.waited_ms,
                w.relation.as_ref().map(|r| r.as_str()),
            )
        })
        .collect();
    assert_eq!(
        brief,
        [
            (
                2,
                "ShareLock",
                "transaction 794",
                WaitOutcome::Acquired,
                1605.797,
                Some("jobs")
            ),
            (
                3,
                "ExclusiveLock",
                "tuple (0,1) of relation 16498 of database 16385",
                WaitOutcome::Timeout,
                200.166,
                Some("jobs")
            ),
            (
                5,
                "AccessExclusiveLock",
                "relation 16498 of database 16385",
                WaitOutcome::StatementTimeout,
                1000.1,
                Some("jobs")
            ),
            (
                6,
                "FOR UPDATE",
                "row in relation \"jobs\"",
                WaitOutcome::Timeout,
                0.0,
                Some("jobs")
            ),
            (
                6,
                "AccessExclusiveLock",
                "relation \"jobs\"",
                WaitOutcome::Timeout,
                0.0,
                Some("jobs")
            ),
            (
                8,
                "FOR SHARE",
                "row in relation \"queue\"",
                WaitOutcome::Timeout,
                0.0,
                Some("queue")
            ),
            (
                9,
                "AccessShareLock",
                "relation 16498 of database 16385",
                WaitOutcome::Unknown,
                100.0,
                Some("jobs")
            ),
        ]
    );
    assert_eq!(w[0].holders, [1, 4]);
    assert_eq!(w[0].queue, [2, 3]);
    assert_eq!(
        &*w[0].statement.as_ref().unwrap().text,
        "UPDATE jobs SET state = 'y' WHERE id = 1"
    );
    assert_eq!(crate::root_blockers(w), vec![(1, 2), (4, 2)]);
}

#[test]
fn lock_wait_statement_filled_in_by_duration_logging() {
    let a = run(&[
        (
            2,
            "LOG:  process 2 still waiting for ShareLock on transaction 794 after 1000.1 ms",
        ),
        (2, "DETAIL:  Process holding the lock: 1. Wait queue: 2."),
        (
            2,
            "LOG:  process 2 acquired ShareLock on transaction 794 after 1500.0 ms",
        ),
        (
            2,
            "LOG:  duration: 1500.5 ms  statement: UPDATE jobs SET a = 1 WHERE id = 1",
        ),
    ]);
    let w = &a.lock_waits[0];
    assert_eq!(w.relation.as_ref().map(|r| r.as_str()), Some("jobs"));
    assert_eq!(w.statement.as_ref().map(|s| s.location.line), Some(4));
}

#[test]
fn csv_and_json_deadlocks() {
    let csv = "\
2024-05-01 10:00:00.001 UTC,\"app\",\"shop\",11,\"[local]\",6632a0.b,1,\"idle\",2024-05-01 09:00:00 UTC,3/1,0,LOG,00000,\"statement: BEGIN\",,,,,,,,,\"psql\",\"client backend\",,0
2024-05-01 10:00:00.002 UTC,\"app\",\"shop\",11,\"[local]\",6632a0.b,2,\"UPDATE\",2024-05-01 09:00:00 UTC,3/1,0,LOG,00000,\"statement: UPDATE accounts SET note = 'a,\"\"b\"\"' WHERE id = 1\",,,,,,,,,\"psql\",\"client backend\",,0
2024-05-01 10:00:01.000 UTC,\"app\",\"shop\",11,\"[local]\",6632a0.b,3,\"UPDATE\",2024-05-01 09:00:00 UTC,3/1,744,ERROR,40P01,\"deadlock detected\",\"Process 11 waits for ShareLock on transaction 744; blocked by process 12.
Process 12 waits for ShareLock on transaction 743; blocked by process 11.
Process 11: UPDATE ledger SET amount = 1 WHERE id = 2
Process 12: UPDATE accounts SET note = 'x' WHERE id = 1\",\"See server log for query details.\",,,\"while updating tuple (0,2) in relation \"\"ledger\"\"\",\"UPDATE ledger SET amount = 1 WHERE id = 2\",,,\"psql\",\"client backend\",,0
";
    let a = analyze_str(csv, LogOptions::default());
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    assert_eq!(a.stats.entries, 3);
    let d = &a.deadlocks[0];
    assert_eq!(d.edges[0].relation.as_ref().unwrap().as_str(), "ledger");
    assert_eq!(d.participants[0].statements.len(), 3);
    assert_eq!(d.participants[0].current.as_ref().unwrap().location.line, 5);
    assert_eq!(
        &*d.participants[0].statements[1].text,
        "UPDATE accounts SET note = 'a,\"b\"' WHERE id = 1"
    );

    let json = r#"{"timestamp":"2024-05-01 10:00:00.001 UTC","user":"app","dbname":"shop","pid":11,"session_id":"6632a0.b","line_num":1,"error_severity":"LOG","message":"statement: BEGIN"}
{"timestamp":"2024-05-01 10:00:00.002 UTC","pid":11,"session_id":"6632a0.b","error_severity":"LOG","message":"statement: UPDATE accounts SET a = 1 WHERE id = 1"}
{"timestamp":"2024-05-01 10:00:01.000 UTC","pid":11,"session_id":"6632a0.b","error_severity":"ERROR","state_code":"40P01","message":"deadlock detected","detail":"Process 11 waits for ShareLock on transaction 744; blocked by process 12.\nProcess 12 waits for ShareLock on transaction 743; blocked by process 11.\nProcess 11: UPDATE ledger SET amount = 1 WHERE id = 2\nProcess 12: UPDATE accounts SET a = 2 WHERE id = 1","context":"while updating tuple (0,2) in relation \"ledger\"","statement":"UPDATE ledger SET amount = 1 WHERE id = 2"}
not json
{"broken":
"#;
    let a = analyze_str(json, LogOptions::default());
    assert_eq!(a.deadlocks.len(), 1);
    assert_eq!(a.deadlocks[0].participants[0].statements.len(), 3);
    assert_eq!(a.stats.warnings_of(WarningKind::UnrecognizedLine), 1);
    assert_eq!(a.stats.warnings_of(WarningKind::MalformedRecord), 1);
}

#[test]
fn prefixes_given_or_detected() {
    let text = "\
2024-05-01 10:00:00 UTC:10.0.0.1(5432):app@shop:[77]:LOG:  statement: BEGIN
2024-05-01 10:00:00 UTC:10.0.0.1(5432):app@shop:[77]:LOG:  statement: LOCK TABLE t
2024-05-01 10:00:00 UTC:10.0.0.1(5432):app@shop:[77]:LOG:  statement: COMMIT
";
    let a = analyze_str(text, LogOptions::default());
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    assert_eq!(a.transactions.len(), 1);
    let given = LogOptions {
        prefix: Some("%t:%r:%u@%d:[%p]:".into()),
        format: Some(LogFormat::Stderr),
        ..LogOptions::default()
    };
    let b = analyze_str(text, given);
    assert_eq!(b.transactions.len(), 1);
    // A wrong prefix: every line is unrecognised, counted, nothing panics.
    let wrong = LogOptions {
        prefix: Some("%m [%p] ".into()),
        ..LogOptions::default()
    };
    let c = analyze_str(text, wrong);
    assert_eq!(c.stats.warnings_of(WarningKind::UnrecognizedLine), 3);
    // A prefix without %p or %c.
    let d = analyze_str(
        "2024-05-01 10:00:00 UTC LOG:  statement: LOCK t\n",
        LogOptions {
            prefix: Some("%t ".into()),
            ..LogOptions::default()
        },
    );
    assert_eq!(d.stats.warnings_of(WarningKind::NoSessionKey), 1);
    assert_eq!(d.transactions.len(), 1);
}

#[test]
fn sessions_carry_over_rotated_inputs() {
    let one = log(&DEADLOCK[..6]);
    let two = log(&DEADLOCK[6..]);
    let mut an = LogAnalyzer::new(LogOptions::default(), Default::default());
    an.feed("pg.log.1", one.as_bytes()).unwrap();
    an.feed("pg.log", two.as_bytes()).unwrap();
    let a = an.finish();
    let d = &a.deadlocks[0];
    assert_eq!(d.participants[0].statements.len(), 3);
    assert_eq!(
        d.participants[0].statements[0].location.to_string(),
        "pg.log.1:1"
    );
    assert_eq!(d.location.to_string(), "pg.log:4");
    assert_eq!(a.stats.inputs, 2);
}

#[test]
fn too_many_shapes_are_counted() {
    let mut st = crate::analyzer::tests_support::limited_analyzer(3, crate::SHAPES_KEPT);
    let mut text = String::new();
    for i in 0..10 {
        text.push_str(&format!("{P} [1] LOG:  statement: UPDATE t{i} SET a = 1\n"));
    }
    st.feed("pg.log", text.as_bytes()).unwrap();
    let a = st.finish();
    assert_eq!(a.transactions.len(), 3);
    assert_eq!(a.stats.transactions, 10);
    assert_eq!(a.stats.warnings_of(WarningKind::TooManyShapes), 7);
}

#[test]
fn shapes_past_the_kept_ones_are_folded_unless_they_take_a_new_lock_order() {
    let mut st = crate::analyzer::tests_support::limited_analyzer(100, 2);
    let mut text = String::new();
    let mut tx = |pid: u32, stmts: &[&str]| {
        text.push_str(&format!("{P} [{pid}] LOG:  statement: BEGIN\n"));
        for s in stmts {
            text.push_str(&format!("{P} [{pid}] LOG:  statement: {s}\n"));
        }
        text.push_str(&format!("{P} [{pid}] LOG:  statement: COMMIT\n"));
    };
    tx(
        1,
        &[
            "UPDATE a SET x = 1 WHERE id = 1",
            "UPDATE b SET x = 1 WHERE id = 1",
        ],
    );
    tx(1, &["UPDATE c SET x = 1 WHERE id = 1"]);
    // Other statements, same lock pairs (a then b): folded, twice.
    tx(
        2,
        &[
            "UPDATE a SET y = 1 WHERE id = 1",
            "UPDATE b SET y = 1 WHERE id = 1",
        ],
    );
    tx(
        2,
        &[
            "UPDATE a SET y = 2 WHERE id = 3",
            "UPDATE b SET y = 2 WHERE id = 4",
        ],
    );
    // b then a is a lock order no kept shape takes: kept.
    tx(
        3,
        &[
            "UPDATE b SET z = 1 WHERE id = 1",
            "UPDATE a SET z = 1 WHERE id = 1",
        ],
    );
    st.feed("pg.log", text.as_bytes()).unwrap();
    let a = st.finish();
    assert_eq!(a.transactions.len(), 3, "{:#?}", a.transactions);
    assert_eq!(a.stats.transactions, 5);
    assert_eq!((a.stats.folded_shapes, a.stats.folded_transactions), (1, 2));
    let order: Vec<String> = a.transactions[2]
        .locks
        .iter()
        .filter_map(|l| l.target.relation().map(|r| r.to_string()))
        .collect();
    assert_eq!(order.first().map(String::as_str), Some("b"));
    assert_eq!(a.stats.warnings_total(), 0);
}

#[test]
fn idle_sessions_are_forgotten_and_open_transactions_kept() {
    let idle = crate::analyzer::tests_support::IDLE;
    let mut text = format!("{P} [1] LOG:  statement: BEGIN\n");
    text.push_str(&format!(
        "{P} [1] LOG:  statement: UPDATE a SET x = 1 WHERE id = 1\n"
    ));
    for pid in 2..(4 * idle as u32) {
        text.push_str(&format!(
            "{P} [{pid}] LOG:  statement: UPDATE c SET x = 1\n"
        ));
    }
    text.push_str(&format!(
        "{P} [1] LOG:  statement: UPDATE b SET x = 1 WHERE id = 1\n"
    ));
    text.push_str(&format!("{P} [1] LOG:  statement: COMMIT\n"));
    let mut st = LogAnalyzer::new(LogOptions::default(), Default::default());
    st.feed("pg.log", text.as_bytes()).unwrap();
    let remembered = crate::analyzer::tests_support::session_count(&st);
    assert!(
        remembered <= 2 * idle + 1,
        "{remembered} sessions remembered"
    );
    let a = st.finish();
    assert_eq!(a.stats.sessions, 4 * idle as u64 - 1);
    let explicit = a
        .transactions
        .iter()
        .find(|t| t.kind == lockgraph_core::TransactionKind::Explicit)
        .expect("the open transaction survived");
    let order: Vec<String> = explicit
        .locks
        .iter()
        .filter_map(|l| l.target.relation().map(|r| r.to_string()))
        .collect();
    assert_eq!(order.first().map(String::as_str), Some("a"));
    assert_eq!(order.last().map(String::as_str), Some("b"));
    assert_eq!(a.stats.warnings_total(), 0);
}

#[test]
fn unparseable_statements_become_diagnostics_once() {
    let a = run(&[
        (1, "LOG:  statement: SELEC * FORM t WHERE id = 1"),
        (1, "LOG:  statement: SELEC * FORM t WHERE id = 2"),
    ]);
    assert_eq!(a.diagnostics.len(), 1);
    assert_eq!(a.diagnostics[0].location.to_string(), "pg.log:1");
}

#[test]
fn a_changed_prefix_is_detected_again() {
    let mut text = String::new();
    for i in 0..30 {
        text.push_str(&format!(
            "{P} [7] app@shop LOG:  statement: UPDATE a SET x = {i}\n"
        ));
    }
    // A reload switched to the pgBadger-style prefix.
    for i in 0..30 {
        text.push_str(&format!(
            "2024-05-01 11:00:00 UTC [8]: [{i}-1] user=app,db=shop,app=psql,client=[local] LOG:  statement: UPDATE b SET x = {i}\n"
        ));
        text.push_str("\tAND y = 1\n");
    }
    text.push_str("garbage at the end\n");
    let a = analyze_str(&text, LogOptions::default());
    assert_eq!(a.stats.statements, 60);
    assert_eq!(a.stats.warnings_of(WarningKind::PrefixChanged), 1);
    assert_eq!(a.stats.warnings_of(WarningKind::UnrecognizedLine), 1);
    assert_eq!(a.warnings[0].location.to_string(), "pg.log:31");
    assert_eq!(a.transactions.len(), 2);
    assert!(
        a.transactions[1].statements[0]
            .text
            .ends_with("\nAND y = 1")
    );
    // A prefix given explicitly is never replaced.
    let given = LogOptions {
        prefix: Some("%m [%p] %q%u@%d ".into()),
        ..LogOptions::default()
    };
    let b = analyze_str(&text, given);
    assert_eq!(b.stats.statements, 30);
    assert_eq!(b.stats.warnings_of(WarningKind::UnrecognizedLine), 31);
    assert_eq!(b.stats.warnings_of(WarningKind::OrphanLine), 30);
}

/// A log with many lock waits keeps the longest ones in full and counts every one: memory does
/// not grow with the number of waits.
#[test]
fn lock_waits_are_bounded_and_the_longest_kept() {
    let n = 3 * crate::analyzer::MAX_LOCK_WAITS + 7;
    let mut lines: Vec<(u32, String)> = Vec::new();
    for i in 0..n {
        let pid = 10 + i as u32;
        // Wait lengths vary; wait number 123 is by far the longest.
        let ms = if i == 123 {
            99_999.0
        } else {
            (i * 7919 % 1000) as f64
        };
        lines.push((
            pid,
            format!(
                "LOG:  process {pid} still waiting for ShareLock on transaction {} after {ms:.1} ms",
                1000 + i
            ),
        ));
        lines.push((
            pid,
            format!("STATEMENT:  UPDATE t SET a = {i} WHERE id = 1"),
        ));
        lines.push((
            pid,
            format!(
                "LOG:  process {pid} acquired ShareLock on transaction {} after {:.1} ms",
                1000 + i,
                ms + 1.0
            ),
        ));
    }
    let borrowed: Vec<(u32, &str)> = lines.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let a = run(&borrowed);
    assert_eq!(a.stats.lock_waits, n as u64);
    let kept = a.lock_waits.len();
    assert!(
        (crate::analyzer::MAX_LOCK_WAITS..=crate::analyzer::MAX_LOCK_WAITS * 3 / 2).contains(&kept),
        "{kept} kept"
    );
    assert_eq!(a.stats.lock_waits_dropped, (n - kept) as u64);
    assert!(a.lock_waits.iter().any(|w| w.waited_ms > 99_999.0));
    assert!(
        a.lock_waits
            .iter()
            .all(|w| w.outcome == WaitOutcome::Acquired && w.statement.is_some())
    );
    // Kept in log order.
    assert!(a.lock_waits.windows(2).all(|p| p[0].waiter < p[1].waiter));
    assert_eq!(a.stats.warnings_total(), 0);
}

/// Advisory locks keyed by literal ids (`pg_advisory_xact_lock(81723)`) count by the statement
/// that takes them: past the kept shapes, a transaction that differs only in the id is folded,
/// not kept as a new lock order.
#[test]
fn advisory_keys_do_not_keep_new_shapes() {
    let mut st = crate::analyzer::tests_support::limited_analyzer(100, 1);
    let mut text = String::new();
    let mut tx = |pid: u32, stmts: &[String]| {
        text.push_str(&format!("{P} [{pid}] LOG:  statement: BEGIN\n"));
        for s in stmts {
            text.push_str(&format!("{P} [{pid}] LOG:  statement: {s}\n"));
        }
        text.push_str(&format!("{P} [{pid}] LOG:  statement: COMMIT\n"));
    };
    tx(
        1,
        &[
            "SELECT pg_advisory_xact_lock(1)".into(),
            "UPDATE a SET x = 1 WHERE id = 1".into(),
        ],
    );
    // New shapes (an extra statement) with a new advisory key each: same lock order.
    for k in 2..20 {
        tx(
            2,
            &[
                format!("SELECT pg_advisory_xact_lock({k})"),
                "SELECT 1".into(),
                format!("UPDATE a SET x = 1 WHERE id = {k}"),
            ],
        );
    }
    // The other order is new: kept.
    tx(
        3,
        &[
            "UPDATE a SET x = 1 WHERE id = 1".into(),
            "SELECT pg_advisory_xact_lock(1)".into(),
        ],
    );
    st.feed("pg.log", text.as_bytes()).unwrap();
    let a = st.finish();
    assert_eq!(a.transactions.len(), 2, "{:#?}", a.transactions);
    assert_eq!(a.stats.transactions, 20);
    assert_eq!(a.stats.folded_transactions, 18);
}
