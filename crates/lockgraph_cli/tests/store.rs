//! `--store`: idempotent, incremental (appended and rotated logs), crash-safe ingest, and
//! `check --store` catching an inversion of a production lock order.

use assert_cmd::Command;
use lockgraph_store::Store;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// A PostgreSQL stderr log: `n` rounds; each round interleaves two sessions' explicit
/// transactions (accounts → ledger), an autocommit update, and every 50th round a deadlock
/// report. Returns the text; `pid_base` keeps sessions of different parts apart.
fn gen_log(rounds: usize, pid_base: u32, second: u64) -> String {
    let mut s = String::new();
    for i in 0..rounds {
        let t = second + i as u64;
        let ts = |ms: u32| {
            format!(
                "2024-05-01 {:02}:{:02}:{:02}.{ms:03} UTC",
                (t / 3600) % 24,
                (t / 60) % 60,
                t % 60
            )
        };
        let (a, b) = (pid_base + 1, pid_base + 2);
        let line = |s: &mut String, ms: u32, pid: u32, msg: &str| {
            s.push_str(&format!(
                "{} [{pid}] app@shop LOG:  statement: {msg}\n",
                ts(ms)
            ));
        };
        line(&mut s, 1, a, "BEGIN");
        line(
            &mut s,
            2,
            a,
            &format!("UPDATE accounts SET balance = balance - {i} WHERE id = {i}"),
        );
        line(&mut s, 3, b, "BEGIN");
        line(
            &mut s,
            4,
            b,
            &format!("UPDATE stock SET qty = qty - 1 WHERE id = {i}"),
        );
        line(
            &mut s,
            5,
            a,
            &format!("UPDATE ledger SET amount = {i} WHERE id = {i}"),
        );
        line(&mut s, 6, b, "COMMIT");
        line(
            &mut s,
            7,
            pid_base + 3,
            &format!("UPDATE jobs SET done = true WHERE id = {i}"),
        );
        line(&mut s, 8, a, "COMMIT");
        if i % 50 == 49 {
            let (x, y) = (pid_base + 4, pid_base + 5);
            line(&mut s, 10, x, "BEGIN");
            line(
                &mut s,
                11,
                x,
                "UPDATE accounts SET balance = 0 WHERE id = 1",
            );
            line(&mut s, 12, y, "BEGIN");
            line(&mut s, 13, y, "UPDATE ledger SET amount = 0 WHERE id = 2");
            line(&mut s, 14, x, "UPDATE ledger SET amount = 0 WHERE id = 2");
            line(
                &mut s,
                15,
                y,
                "UPDATE accounts SET balance = 0 WHERE id = 1",
            );
            let e = ts(16);
            s.push_str(&format!(
                "{e} [{y}] app@shop ERROR:  deadlock detected\n\
                 {e} [{y}] app@shop DETAIL:  Process {y} waits for ShareLock on transaction 728; blocked by process {x}.\n\
                 \tProcess {x} waits for ShareLock on transaction 729; blocked by process {y}.\n\
                 \tProcess {y}: UPDATE accounts SET balance = 0 WHERE id = 1\n\
                 \tProcess {x}: UPDATE ledger SET amount = 0 WHERE id = 2\n\
                 {e} [{y}] app@shop HINT:  See server log for query details.\n\
                 {e} [{y}] app@shop CONTEXT:  while updating tuple (0,1) in relation \"accounts\"\n\
                 {e} [{y}] app@shop STATEMENT:  UPDATE accounts SET balance = 0 WHERE id = 1\n"
            ));
            line(&mut s, 17, y, "ROLLBACK");
            line(&mut s, 18, x, "COMMIT");
        }
    }
    s
}

/// Everything the store counts, keyed, for comparison.
#[derive(Debug, PartialEq)]
struct Counts {
    shapes: BTreeMap<String, (u64, Option<String>, Option<String>)>,
    edges: Vec<(String, String, u64)>,
    deadlocks: BTreeMap<String, (u64, usize)>,
    waits: Vec<(String, String, u64)>,
}

fn counts(path: &Path) -> Counts {
    let s = Store::open(path).unwrap();
    assert_eq!(s.integrity_check().unwrap(), "ok");
    Counts {
        shapes: s
            .shapes()
            .unwrap()
            .into_iter()
            .map(|x| (x.key, (x.count, x.first_seen, x.last_seen)))
            .collect(),
        edges: s.edges().unwrap(),
        deadlocks: s
            .deadlocks()
            .unwrap()
            .into_iter()
            .map(|d| {
                (
                    d.deadlock.signature.to_string(),
                    (d.deadlock.count, d.occurrences.len()),
                )
            })
            .collect(),
        waits: s
            .wait_stats()
            .unwrap()
            .into_iter()
            .map(|w| (w.outcome, w.relation, w.count))
            .collect(),
    }
}

fn ingest(store: &Path, files: &[&Path], chunk: Option<u64>) {
    let mut cmd = Command::cargo_bin("lockgraph").unwrap();
    cmd.arg("logs")
        .arg("--store")
        .arg(store)
        .args(files)
        .args(["-f", "json"]);
    if let Some(c) = chunk {
        cmd.env("LOCKGRAPH_STORE_CHUNK_BYTES", c.to_string());
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn total_tx(c: &Counts) -> u64 {
    c.shapes.values().map(|v| v.0).sum()
}

#[test]
fn same_file_twice_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("pg.log");
    std::fs::write(&log, gen_log(200, 100, 0)).unwrap();
    let store = dir.path().join("h.sqlite");
    ingest(&store, &[&log], None);
    let once = counts(&store);
    // 200 rounds × 3 transactions + 4 deadlock rounds × 2.
    assert_eq!(total_tx(&once), 608);
    assert_eq!(once.deadlocks.values().map(|d| d.0).sum::<u64>(), 4);
    ingest(&store, &[&log], None);
    assert_eq!(counts(&store), once);
    assert_eq!(Store::open(&store).unwrap().runs().unwrap().len(), 2);
}

#[test]
fn appended_log_counts_as_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let whole = gen_log(300, 100, 0);
    // Cut in the middle of a transaction (after `UPDATE accounts` of a round, before its COMMIT).
    let cut = whole
        .match_indices("UPDATE ledger SET amount = 150 ")
        .next()
        .unwrap()
        .0;
    let cut = whole[..cut].rfind('\n').unwrap() + 1;
    let log = dir.path().join("pg.log");
    std::fs::write(&log, &whole[..cut]).unwrap();
    let store = dir.path().join("h.sqlite");
    ingest(&store, &[&log], None);
    let first = counts(&store);
    // Append the rest, with a partial last line that must wait for the next run.
    let rest = &whole[cut..];
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(rest.as_bytes()).unwrap();
    f.write_all(b"2024-05-01 01:00:00.000 UTC [1] app@shop LOG:  statement: UPDATE jo")
        .unwrap();
    drop(f);
    ingest(&store, &[&log], None);
    // The partial line is completed: it, and the entry before it (held while a line after it
    // was incomplete), are counted now.
    let tail = b"bs SET done = true WHERE id = 1\n";
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(tail).unwrap();
    drop(f);
    ingest(&store, &[&log], None);

    let fresh_log = dir.path().join("whole.log");
    std::fs::copy(&log, &fresh_log).unwrap();
    let fresh = dir.path().join("fresh.sqlite");
    ingest(&fresh, &[&fresh_log], None);
    let (got, want) = (counts(&store), counts(&fresh));
    assert!(total_tx(&first) < total_tx(&want));
    assert_eq!(got, want);
}

#[test]
fn rotated_log_is_read_on() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("pg.log");
    let part1 = gen_log(120, 100, 0);
    let part2 = gen_log(80, 200, 1000);
    std::fs::write(&log, &part1).unwrap();
    let store = dir.path().join("h.sqlite");
    ingest(&store, &[&log], None);
    // Rotate: the old file is renamed, a new one starts.
    let old = dir.path().join("pg.log.1");
    std::fs::rename(&log, &old).unwrap();
    std::fs::write(&log, &part2).unwrap();
    ingest(&store, &[&old, &log], None);
    ingest(&store, &[&old, &log], None);

    let fresh = dir.path().join("fresh.sqlite");
    let whole = dir.path().join("whole.log");
    std::fs::write(&whole, format!("{part1}{part2}")).unwrap();
    ingest(&fresh, &[&whole], None);
    assert_eq!(counts(&store), counts(&fresh));
}

#[test]
fn chunked_ingest_counts_as_one_read() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("pg.log");
    std::fs::write(&log, gen_log(400, 100, 0)).unwrap();
    let (a, b) = (dir.path().join("a.sqlite"), dir.path().join("b.sqlite"));
    ingest(&a, &[&log], None);
    ingest(&b, &[&log], Some(777));
    assert_eq!(counts(&a), counts(&b));
}

#[test]
fn sigkill_mid_ingest_leaves_a_consistent_store() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("big.log");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&log).unwrap());
        for part in 0..40u32 {
            f.write_all(gen_log(2000, 100 + part * 10, u64::from(part) * 2000).as_bytes())
                .unwrap();
        }
    }
    let size = std::fs::metadata(&log).unwrap().len();
    let chunk = (size / 40).to_string();
    let killed = dir.path().join("killed.sqlite");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("lockgraph"))
        .arg("logs")
        .arg("--store")
        .arg(&killed)
        .arg(&log)
        .env("LOCKGRAPH_STORE_CHUNK_BYTES", &chunk)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until a few chunks are committed, then SIGKILL.
    let started = std::time::Instant::now();
    loop {
        std::thread::sleep(std::time::Duration::from_millis(20));
        let committed = Store::open(&killed)
            .ok()
            .and_then(|s| s.shapes().ok())
            .is_some_and(|s| s.iter().map(|x| x.count).sum::<u64>() > 3 * 6000);
        if committed {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 60,
            "no chunk committed within 60 s"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "ingest ended before it could be killed"
        );
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let partial = counts(&killed);
    assert!(
        Store::open(&killed).unwrap().runs().unwrap().is_empty(),
        "the killed run must not have finished"
    );
    ingest(&killed, &[&log], Some(size / 40));
    let fresh = dir.path().join("fresh.sqlite");
    ingest(&fresh, &[&log], Some(size / 40));
    let (got, want) = (counts(&killed), counts(&fresh));
    assert!(total_tx(&partial) < total_tx(&want));
    assert_eq!(total_tx(&want), 40 * (2000 * 3 + 40 * 2));
    assert_eq!(got, want);
}

#[test]
fn check_store_catches_an_inversion_of_a_production_order() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("pg.log");
    std::fs::write(&log, gen_log(10, 100, 0)).unwrap();
    let store = dir.path().join("h.sqlite");
    ingest(&store, &[&log], None);
    // Source code takes ledger, then accounts: the reverse of production's order.
    let sql = dir.path().join("transfer.sql");
    std::fs::write(
        &sql,
        "BEGIN;\nUPDATE ledger SET amount = 1 WHERE id = 1;\nUPDATE accounts SET balance = 1 WHERE id = 1;\nCOMMIT;\n",
    )
    .unwrap();
    let without = Command::cargo_bin("lockgraph")
        .unwrap()
        .args(["check", "--no-config"])
        .arg(&sql)
        .output()
        .unwrap();
    let with = Command::cargo_bin("lockgraph")
        .unwrap()
        .args(["check", "--no-config", "--store"])
        .arg(&store)
        .arg(&sql)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&with.stdout);
    assert_eq!(
        without.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&without.stdout)
    );
    assert_eq!(with.status.code(), Some(1), "{text}");
    assert!(text.contains("LG101"), "{text}");
    assert!(text.contains("transfer.sql"), "{text}");
    assert!(text.contains("pg.log:"), "{text}");
    assert!(text.contains("production "), "{text}");
}

#[test]
fn missing_store_for_check_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let sql = dir.path().join("a.sql");
    std::fs::write(&sql, "SELECT 1;\n").unwrap();
    Command::cargo_bin("lockgraph")
        .unwrap()
        .args(["check", "--no-config", "--store"])
        .arg(dir.path().join("nope.sqlite"))
        .arg(&sql)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("nope.sqlite"));
}

/// The store file keeps no literal of the log: distinctive values in statements, row keys,
/// advisory keys, lock waits and a deadlock report appear nowhere in the database or its WAL.
#[test]
fn the_store_keeps_no_literal() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("pg.log");
    let p = |ms: u32, pid: u32, msg: &str| {
        format!("2024-05-01 10:00:00.{ms:03} UTC [{pid}] app@shop {msg}\n")
    };
    let mut text = String::new();
    text += &p(1, 11, "LOG:  statement: BEGIN");
    text += &p(
        2,
        11,
        "LOG:  statement: SELECT pg_advisory_xact_lock(8675309)",
    );
    text += &p(
        3,
        11,
        "LOG:  statement: UPDATE accounts SET email = 'zed.secret@example.org' WHERE id = 7777001",
    );
    text += &p(4, 12, "LOG:  statement: BEGIN");
    text += &p(
        5,
        12,
        "LOG:  statement: UPDATE ledger SET note = 'Ssn 078-05-1120' WHERE id = 7777002",
    );
    text += &p(
        6,
        11,
        "LOG:  statement: UPDATE ledger SET note = 'x' WHERE id = 7777002",
    );
    text += &p(
        7,
        11,
        "LOG:  process 11 still waiting for ShareLock on transaction 900 after 1000.000 ms",
    );
    text += "\tDETAIL:  Process holding the lock: 12. Wait queue: 11.\n";
    text += &p(
        8,
        11,
        "STATEMENT:  UPDATE ledger SET note = 'x' WHERE id = 7777002",
    );
    text += &p(
        9,
        12,
        "LOG:  statement: UPDATE accounts SET email = 'zed.secret@example.org' WHERE id = 7777001",
    );
    text += &p(10, 12, "ERROR:  deadlock detected");
    text +=
        "\tDETAIL:  Process 12 waits for ShareLock on transaction 899; blocked by process 11.\n";
    text += "\tProcess 11 waits for ShareLock on transaction 900; blocked by process 12.\n";
    text +=
        "\tProcess 12: UPDATE accounts SET email = 'zed.secret@example.org' WHERE id = 7777001\n";
    text += "\tProcess 11: UPDATE ledger SET note = 'x' WHERE id = 7777002\n";
    text += "\tHINT:  See server log for query details.\n";
    text += &p(
        11,
        12,
        "STATEMENT:  UPDATE accounts SET email = 'zed.secret@example.org' WHERE id = 7777001",
    );
    text += &p(12, 12, "LOG:  statement: ROLLBACK");
    text += &p(13, 11, "LOG:  statement: COMMIT");
    std::fs::write(&log, text).unwrap();
    let store = dir.path().join("h.sqlite");
    ingest(&store, &[&log], None);
    assert!(
        counts(&store).deadlocks.values().map(|d| d.0).sum::<u64>() >= 1,
        "the deadlock was stored"
    );
    let mut bytes = Vec::new();
    for f in std::fs::read_dir(dir.path()).unwrap() {
        let f = f.unwrap().path();
        if f.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("h.sqlite")
        {
            bytes.extend(std::fs::read(&f).unwrap());
        }
    }
    let hay = String::from_utf8_lossy(&bytes);
    assert!(hay.contains("accounts"), "the store holds the shapes");
    for secret in [
        "zed.secret",
        "example.org",
        "078-05-1120",
        "7777001",
        "7777002",
        "8675309",
    ] {
        assert!(!hay.contains(secret), "{secret} is in the store file");
    }
}
