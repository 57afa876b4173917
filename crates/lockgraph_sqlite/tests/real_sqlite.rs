//! The model against the real thing: SQLite (rusqlite, bundled) on a temporary database file.
//!
//! - The deferred read-then-write pair fails with `SQLITE_BUSY` in rollback-journal and WAL
//!   mode, at once even with a busy timeout set (SQLite does not wait in its deadlock case).
//! - In WAL mode, a reader whose snapshot is older than the last commit gets
//!   `SQLITE_BUSY_SNAPSHOT` when it starts writing.
//! - The fix, `BEGIN IMMEDIATE`, makes the second transaction wait (busy timeout) and then
//!   complete.
//! - Differential: for every interleaving of pairs of small transactions, the simulator's answer
//!   to each step (done / busy after the busy handler / busy at once) equals SQLite's.

use lockgraph_sqlite::{BeginMode, JournalMode, Op, Outcome, Sim, explore};
use rusqlite::{Connection, ffi};
use std::cell::Cell;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const READ: &str = "SELECT n FROM stock WHERE id = 1";
const WRITE: &str = "UPDATE stock SET n = n - 1 WHERE id = 1";

fn create(dir: &Path, journal: JournalMode) -> std::path::PathBuf {
    let path = dir.join(format!("{journal}.db").replace(' ', "_"));
    let c = Connection::open(&path).expect("open");
    let mode: String = c
        .query_row(
            match journal {
                JournalMode::Wal => "PRAGMA journal_mode=WAL",
                JournalMode::Rollback => "PRAGMA journal_mode=DELETE",
            },
            [],
            |r| r.get(0),
        )
        .expect("journal_mode");
    assert_eq!(
        mode,
        match journal {
            JournalMode::Wal => "wal",
            JournalMode::Rollback => "delete",
        }
    );
    c.execute_batch(
        "CREATE TABLE stock (id INTEGER PRIMARY KEY, n INTEGER NOT NULL);
         INSERT INTO stock VALUES (1, 1000000);",
    )
    .expect("schema");
    path
}

fn connect(path: &Path, timeout: Duration) -> Connection {
    let c = Connection::open(path).expect("open");
    c.busy_timeout(timeout).expect("busy_timeout");
    c.execute_batch("PRAGMA synchronous=OFF").expect("pragma");
    c
}

/// Runs one op; `Err` carries SQLite's extended result code.
fn run(c: &Connection, op: Op) -> Result<(), i32> {
    let r = match op {
        Op::Read => c.query_row(READ, [], |r| r.get::<_, i64>(0)).map(|_| ()),
        Op::Write => c.execute(WRITE, []).map(|_| ()),
        Op::Begin(m) => match m.sql() {
            Some(sql) => c.execute_batch(sql),
            None => Ok(()),
        },
        Op::Commit | Op::Rollback if c.is_autocommit() => Ok(()),
        Op::Commit => c.execute_batch("COMMIT"),
        Op::Rollback => c.execute_batch("ROLLBACK"),
    };
    r.map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _) => f.extended_code,
        other => panic!("unexpected error {other}"),
    })
}

fn is_busy(code: i32) -> bool {
    code & 0xff == ffi::SQLITE_BUSY
}

#[test]
fn rusqlite_and_python_defaults() {
    // rusqlite sets a 5 s busy timeout on every connection it opens (Python's sqlite3 does the
    // same with its default timeout=5.0).
    let dir = tempfile::tempdir().expect("tempdir");
    let c = Connection::open(dir.path().join("d.db")).expect("open");
    let ms: i64 = c
        .query_row("PRAGMA busy_timeout", [], |r| r.get(0))
        .expect("pragma");
    assert_eq!(ms, 5000);
    println!("SQLite {}", rusqlite::version());
}

/// Two DEFERRED transactions read, then write: the second write fails with SQLITE_BUSY without
/// waiting for the 2 s busy timeout.
#[test]
fn deferred_upgrade_is_busy_at_once_in_both_journal_modes() {
    for journal in [JournalMode::Rollback, JournalMode::Wal] {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = create(dir.path(), journal);
        let timeout = Duration::from_secs(2);
        let (a, b) = (connect(&path, timeout), connect(&path, timeout));
        run(&a, Op::Begin(BeginMode::Deferred)).unwrap();
        run(&b, Op::Begin(BeginMode::Deferred)).unwrap();
        run(&a, Op::Read).unwrap();
        run(&b, Op::Read).unwrap();
        run(&a, Op::Write).unwrap();
        let started = Instant::now();
        let err = run(&b, Op::Write).expect_err("the second upgrade must fail");
        let waited = started.elapsed();
        assert_eq!(err, ffi::SQLITE_BUSY, "{journal}: plain SQLITE_BUSY");
        assert!(
            waited < timeout / 2,
            "{journal}: failed after {waited:?}: SQLite waited for the busy timeout"
        );
        match journal {
            // A's commit needs EXCLUSIVE: it waits for B's SHARED lock, which B still holds.
            JournalMode::Rollback => {
                a.busy_timeout(Duration::from_millis(100)).unwrap();
                assert!(is_busy(
                    run(&a, Op::Commit).expect_err("readers block the commit")
                ));
                run(&b, Op::Rollback).unwrap();
                run(&a, Op::Commit).unwrap();
            }
            // WAL readers never block a commit.
            JournalMode::Wal => {
                run(&a, Op::Commit).unwrap();
                run(&b, Op::Rollback).unwrap();
            }
        }
    }
}

/// In WAL mode, when the first writer commits before the second reader writes, the second gets
/// SQLITE_BUSY_SNAPSHOT — again at once.
#[test]
fn wal_stale_snapshot_is_busy_snapshot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = create(dir.path(), JournalMode::Wal);
    let timeout = Duration::from_secs(2);
    let (a, b) = (connect(&path, timeout), connect(&path, timeout));
    for c in [&a, &b] {
        run(c, Op::Begin(BeginMode::Deferred)).unwrap();
        run(c, Op::Read).unwrap();
    }
    run(&a, Op::Write).unwrap();
    run(&a, Op::Commit).unwrap();
    let started = Instant::now();
    assert_eq!(run(&b, Op::Write), Err(ffi::SQLITE_BUSY_SNAPSHOT));
    assert!(started.elapsed() < timeout / 2);
    // The simulator says the same.
    let mut sim = Sim::new(JournalMode::Wal);
    for who in [0, 1] {
        sim.step(who, Op::Begin(BeginMode::Deferred));
        sim.step(who, Op::Read);
    }
    sim.step(0, Op::Write);
    sim.step(0, Op::Commit);
    assert_eq!(sim.step(1, Op::Write).code(), ffi::SQLITE_BUSY_SNAPSHOT);
}

/// The fix: with BEGIN IMMEDIATE the second transaction waits in BEGIN (busy timeout) until the
/// first commits, then reads, writes and commits.
#[test]
fn begin_immediate_pair_completes_both() {
    for journal in [JournalMode::Rollback, JournalMode::Wal] {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = create(dir.path(), journal);
        let a = connect(&path, Duration::from_secs(10));
        run(&a, Op::Begin(BeginMode::Immediate)).unwrap();
        run(&a, Op::Read).unwrap();
        let (tx, rx) = mpsc::channel();
        let p = path.clone();
        let second = std::thread::spawn(move || {
            let b = connect(&p, Duration::from_secs(10));
            tx.send(()).unwrap();
            let started = Instant::now();
            let ops = [
                Op::Begin(BeginMode::Immediate),
                Op::Read,
                Op::Write,
                Op::Commit,
            ];
            let results: Vec<Result<(), i32>> = ops.iter().map(|op| run(&b, *op)).collect();
            (results, started.elapsed())
        });
        rx.recv().unwrap();
        // Let B reach its BEGIN IMMEDIATE and wait in it.
        std::thread::sleep(Duration::from_millis(300));
        run(&a, Op::Write).unwrap();
        run(&a, Op::Commit).unwrap();
        let (results, waited) = second.join().expect("second transaction");
        assert!(results.iter().all(Result::is_ok), "{journal}: {results:?}");
        assert!(
            waited >= Duration::from_millis(250),
            "{journal}: B did not wait ({waited:?})"
        );
        let n: i64 = a.query_row(READ, [], |r| r.get(0)).unwrap();
        assert_eq!(n, 1_000_000 - 2, "{journal}: both writes committed");
        // The simulator: no interleaving fails at once.
        let t = [
            Op::Begin(BeginMode::Immediate),
            Op::Read,
            Op::Write,
            Op::Commit,
        ];
        let e = explore(journal, &t, &t);
        assert!(e.fails_at_once.is_none() && e.completes, "{journal}: {e:?}");
    }
}

thread_local! {
    static HANDLER_CALLS: Cell<u32> = const { Cell::new(0) };
}

/// A busy handler that records that SQLite consulted it and gives up at once.
fn record_and_give_up(_count: i32) -> bool {
    HANDLER_CALLS.with(|c| c.set(c.get() + 1));
    false
}

fn observe(c: &Connection, op: Op) -> Outcome {
    HANDLER_CALLS.with(|h| h.set(0));
    match run(c, op) {
        Ok(()) => Outcome::Ok,
        Err(code) => {
            assert!(is_busy(code), "{op}: unexpected result code {code}");
            let handler = HANDLER_CALLS.with(Cell::get) > 0;
            // The application's answer to SQLITE_BUSY: roll back.
            if !c.is_autocommit() {
                c.execute_batch("ROLLBACK").expect("rollback");
            }
            Outcome::Busy {
                handler,
                snapshot: code == ffi::SQLITE_BUSY_SNAPSHOT,
            }
        }
    }
}

/// Every interleaving of `a` and `b` (as sequences of which connection goes next).
fn interleavings(na: usize, nb: usize) -> Vec<Vec<usize>> {
    if na == 0 && nb == 0 {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    if na > 0 {
        for mut rest in interleavings(na - 1, nb) {
            rest.insert(0, 0);
            out.push(rest);
        }
    }
    if nb > 0 {
        for mut rest in interleavings(na, nb - 1) {
            rest.insert(0, 1);
            out.push(rest);
        }
    }
    out
}

#[test]
fn simulator_predicts_what_sqlite_does() {
    use BeginMode::*;
    let mut shapes: Vec<Vec<Op>> = Vec::new();
    for m in [Deferred, Immediate, Exclusive] {
        shapes.push(vec![Op::Begin(m), Op::Read, Op::Write, Op::Commit]);
        shapes.push(vec![Op::Begin(m), Op::Write, Op::Read, Op::Commit]);
        shapes.push(vec![Op::Begin(m), Op::Read, Op::Commit]);
    }
    shapes.push(vec![Op::Begin(Deferred), Op::Write, Op::Rollback]);
    shapes.push(vec![Op::Read]);
    shapes.push(vec![Op::Write]);
    shapes.push(vec![Op::Read, Op::Write]);

    let mut compared = 0usize;
    let mut busy = [0usize; 3]; // [handler, at once, snapshot]
    for journal in [JournalMode::Rollback, JournalMode::Wal] {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = create(dir.path(), journal);
        let conns = [
            connect(&path, Duration::ZERO),
            connect(&path, Duration::ZERO),
        ];
        for c in &conns {
            c.busy_handler(Some(record_and_give_up))
                .expect("busy handler");
        }
        for a in &shapes {
            for b in &shapes {
                let ops = [a, b];
                for schedule in interleavings(a.len(), b.len()) {
                    let mut sim = Sim::new(journal);
                    let mut pos = [0usize; 2];
                    // After SQLITE_BUSY a transaction is over (rolled back): its later steps are
                    // not sent.
                    let mut failed = [false; 2];
                    let mut trace = Vec::new();
                    for who in schedule {
                        let op = ops[who][pos[who]];
                        pos[who] += 1;
                        if failed[who] {
                            continue;
                        }
                        let predicted = sim.step(who, op);
                        let observed = observe(&conns[who], op);
                        trace.push(format!("{}:{op}", ["A", "B"][who]));
                        assert_eq!(
                            predicted, observed,
                            "{journal}: A={a:?} B={b:?} after {trace:?}"
                        );
                        compared += 1;
                        if let Outcome::Busy { handler, snapshot } = observed {
                            failed[who] = true;
                            busy[if snapshot {
                                2
                            } else if handler {
                                0
                            } else {
                                1
                            }] += 1;
                        }
                    }
                    for c in &conns {
                        if !c.is_autocommit() {
                            c.execute_batch("ROLLBACK").expect("cleanup");
                        }
                    }
                }
            }
        }
    }
    println!(
        "compared {compared} steps: {} busy after the busy handler, {} busy at once, {} busy snapshot",
        busy[0], busy[1], busy[2]
    );
    // Every kind of answer occurred, so the comparison covered each.
    assert!(busy.iter().all(|&n| n > 0), "{busy:?}");
}
