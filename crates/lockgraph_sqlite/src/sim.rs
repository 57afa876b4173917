//! A protocol simulator for two connections on one SQLite database file: which statement
//! succeeds, which fails with `SQLITE_BUSY` after consulting the busy handler (so a busy timeout
//! makes it wait), and which fails at once — SQLite's deadlock case, where the busy handler is
//! not called and no timeout helps.
//!
//! The rules SQLite follows (lockingv3.html, wal.html, the `sqlite3_busy_handler` page, and
//! `sqlite3BtreeBeginTrans`, which calls the busy handler only for a connection that holds no
//! read transaction yet):
//!
//! | step | rollback journal | WAL |
//! |---|---|---|
//! | read | SHARED (refused while another holds PENDING/EXCLUSIVE) | snapshot, never refused |
//! | first write | RESERVED (refused while another holds RESERVED+) | write lock (refused while another writes); a stale snapshot gives `SQLITE_BUSY_SNAPSHOT` |
//! | `BEGIN IMMEDIATE` | SHARED + RESERVED | snapshot + write lock |
//! | `BEGIN EXCLUSIVE` | EXCLUSIVE (refused while another holds any lock) | as IMMEDIATE |
//! | commit of a write | EXCLUSIVE (waits for readers) | never refused |
//!
//! A refused step calls the busy handler unless the connection already holds a read lock and
//! wants the write lock: then it fails at once. The simulator's policy after any `SQLITE_BUSY`
//! is the application's usual one: the transaction is rolled back.

use crate::lock::{BeginMode, JournalMode, SqliteLock};
use std::collections::HashSet;
use std::fmt;

/// One thing a connection asks of the database (a [`Step`](crate::Step) without its source).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `BEGIN [DEFERRED|IMMEDIATE|EXCLUSIVE]` (`Autocommit` is not a statement: not allowed).
    Begin(BeginMode),
    /// A statement that reads (`SELECT`).
    Read,
    /// A statement that writes (`INSERT`, `UPDATE`, `DELETE`, `REPLACE`, DDL).
    Write,
    /// `COMMIT`.
    Commit,
    /// `ROLLBACK`.
    Rollback,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Begin(m) => f.write_str(m.sql().unwrap_or("(autocommit)")),
            Op::Read => f.write_str("read"),
            Op::Write => f.write_str("write"),
            Op::Commit => f.write_str("COMMIT"),
            Op::Rollback => f.write_str("ROLLBACK"),
        }
    }
}

/// What SQLite answers to one [`Op`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Done.
    Ok,
    /// `SQLITE_BUSY` (5) or `SQLITE_BUSY_SNAPSHOT` (517, [`Outcome::code`]).
    Busy {
        /// The busy handler was consulted: with a busy timeout the step waits for the other
        /// connection and is retried. `false`: SQLite's deadlock case, it fails at once.
        handler: bool,
        /// The WAL snapshot is stale: `SQLITE_BUSY_SNAPSHOT`.
        snapshot: bool,
    },
}

impl Outcome {
    /// The extended result code SQLite returns: 0, 5 (`SQLITE_BUSY`) or 517
    /// (`SQLITE_BUSY_SNAPSHOT`).
    pub fn code(self) -> i32 {
        match self {
            Outcome::Ok => 0,
            Outcome::Busy { snapshot: true, .. } => 517,
            Outcome::Busy { .. } => 5,
        }
    }

    /// Fails at once whatever the busy timeout: the deadlock case.
    pub fn fails_at_once(self) -> bool {
        matches!(self, Outcome::Busy { handler: false, .. })
    }
}

/// One connection's state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
struct Conn {
    /// An explicit transaction is open (`BEGIN` ran).
    open: bool,
    /// Rollback journal: the lock held.
    lock: Option<SqliteLock>,
    /// WAL: the commit count of the snapshot being read, when a read transaction is open.
    snapshot: Option<u64>,
    /// WAL: holds the write lock.
    writer: bool,
    /// Wrote something: in WAL mode only such a commit makes a new snapshot (a `BEGIN
    /// IMMEDIATE` … `COMMIT` that wrote nothing leaves other readers' snapshots current).
    wrote: bool,
}

impl Conn {
    fn lock(&self) -> SqliteLock {
        self.lock.unwrap_or(SqliteLock::Unlocked)
    }
    fn holds_read(&self, journal: JournalMode) -> bool {
        match journal {
            JournalMode::Rollback => self.lock() >= SqliteLock::Shared,
            JournalMode::Wal => self.snapshot.is_some(),
        }
    }
}

/// Two connections on one database file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Sim {
    journal: JournalMode,
    conns: [Conn; 2],
    /// Commits so far (WAL snapshots are compared with it).
    commits: u64,
}

impl Sim {
    /// A fresh database in `journal` mode, both connections idle.
    pub fn new(journal: JournalMode) -> Sim {
        Sim {
            journal,
            conns: [Conn::default(); 2],
            commits: 0,
        }
    }

    /// The rollback-journal lock connection `who` (0 or 1) holds.
    pub fn lock_of(&self, who: usize) -> SqliteLock {
        self.conns[who & 1].lock()
    }

    /// Whether connection `who` has an explicit transaction open.
    pub fn in_transaction(&self, who: usize) -> bool {
        self.conns[who & 1].open
    }

    /// Runs `op` on connection `who` (0 or 1). After `SQLITE_BUSY` the connection's transaction
    /// is rolled back (what the application does with the error), so it holds nothing.
    pub fn step(&mut self, who: usize, op: Op) -> Outcome {
        let who = who & 1;
        let out = self.apply(who, op);
        if out != Outcome::Ok {
            self.release(who);
        }
        out
    }

    fn other(&self, who: usize) -> Conn {
        self.conns[1 - who]
    }

    fn busy(handler: bool) -> Outcome {
        Outcome::Busy {
            handler,
            snapshot: false,
        }
    }

    fn release(&mut self, who: usize) {
        self.conns[who] = Conn::default();
    }

    /// Rollback journal: move `who` up to `want`, if the other connection's lock allows it.
    fn raise(&mut self, who: usize, want: SqliteLock) -> bool {
        if self.conns[who].lock() >= want {
            return true;
        }
        if !want.compatible_with(self.other(who).lock()) {
            return false;
        }
        self.conns[who].lock = Some(want);
        true
    }

    fn apply(&mut self, who: usize, op: Op) -> Outcome {
        let j = self.journal;
        match op {
            Op::Begin(BeginMode::Autocommit) => Outcome::Ok,
            Op::Begin(mode) => {
                if self.conns[who].open {
                    // "cannot start a transaction within a transaction": not modelled.
                    return Outcome::Ok;
                }
                let ok = match (mode, j) {
                    (BeginMode::Deferred | BeginMode::Autocommit, _) => true,
                    (BeginMode::Immediate, JournalMode::Rollback) => {
                        self.raise(who, SqliteLock::Shared) && self.raise(who, SqliteLock::Reserved)
                    }
                    (BeginMode::Exclusive, JournalMode::Rollback) => {
                        self.raise(who, SqliteLock::Shared)
                            && self.raise(who, SqliteLock::Reserved)
                            && self.raise(who, SqliteLock::Exclusive)
                    }
                    (_, JournalMode::Wal) => self.wal_write_lock(who),
                };
                if !ok {
                    // No read transaction was held: the busy handler is consulted.
                    return Sim::busy(true);
                }
                self.conns[who].open = true;
                Outcome::Ok
            }
            Op::Read => {
                let out = self.read(who);
                if out == Outcome::Ok && !self.conns[who].open {
                    self.release(who);
                }
                out
            }
            Op::Write => {
                let out = self.write(who);
                if out == Outcome::Ok {
                    self.conns[who].wrote = true;
                }
                if out == Outcome::Ok && !self.conns[who].open {
                    // Autocommit: the statement commits.
                    return self.commit(who);
                }
                out
            }
            Op::Commit => {
                if !self.conns[who].open {
                    return Outcome::Ok;
                }
                self.commit(who)
            }
            Op::Rollback => {
                self.release(who);
                Outcome::Ok
            }
        }
    }

    fn read(&mut self, who: usize) -> Outcome {
        match self.journal {
            JournalMode::Rollback => {
                if self.raise(who, SqliteLock::Shared) {
                    Outcome::Ok
                } else {
                    Sim::busy(true)
                }
            }
            JournalMode::Wal => {
                if self.conns[who].snapshot.is_none() {
                    self.conns[who].snapshot = Some(self.commits);
                }
                Outcome::Ok
            }
        }
    }

    fn wal_write_lock(&mut self, who: usize) -> bool {
        if self.conns[who].writer {
            return true;
        }
        if self.other(who).writer {
            return false;
        }
        let c = &mut self.conns[who];
        c.writer = true;
        c.snapshot.get_or_insert(self.commits);
        true
    }

    fn write(&mut self, who: usize) -> Outcome {
        let had_read = self.conns[who].holds_read(self.journal);
        match self.journal {
            JournalMode::Rollback => {
                if self.raise(who, SqliteLock::Shared) && self.raise(who, SqliteLock::Reserved) {
                    Outcome::Ok
                } else {
                    Sim::busy(!had_read)
                }
            }
            JournalMode::Wal => {
                if self.conns[who].writer {
                    return Outcome::Ok;
                }
                if self.other(who).writer {
                    return Sim::busy(!had_read);
                }
                if self.conns[who].snapshot.is_some_and(|s| s != self.commits) {
                    return Outcome::Busy {
                        handler: false,
                        snapshot: true,
                    };
                }
                self.wal_write_lock(who);
                Outcome::Ok
            }
        }
    }

    fn commit(&mut self, who: usize) -> Outcome {
        let c = self.conns[who];
        let holds_write_lock = match self.journal {
            JournalMode::Rollback => c.lock() >= SqliteLock::Reserved,
            JournalMode::Wal => c.writer,
        };
        if holds_write_lock {
            if self.journal == JournalMode::Rollback && !self.raise(who, SqliteLock::Exclusive) {
                // PENDING, waiting for the readers: the busy handler is consulted.
                return Sim::busy(true);
            }
            if c.wrote {
                self.commits += 1;
            }
        }
        self.release(who);
        Outcome::Ok
    }
}

/// What can happen when two connections run `a` and `b` concurrently, every interleaving
/// considered and a busy timeout long enough for every wait: a step refused with the busy handler
/// consulted waits for the other connection instead of failing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exploration {
    /// An interleaving in which a step fails at once (no busy timeout helps), shortest first:
    /// `(connection, op index)` pairs in the order they ran, the last one the failing step.
    pub fails_at_once: Option<Vec<(usize, usize)>>,
    /// That failing step's outcome.
    pub failure: Option<Outcome>,
    /// Some interleaving completes both transactions.
    pub completes: bool,
    /// Some interleaving leaves both connections waiting for each other (until a timeout).
    pub both_wait: bool,
}

/// Explores every interleaving of `a` on connection 0 and `b` on connection 1 (breadth-first,
/// so the reported failing interleaving is a shortest one).
pub fn explore(journal: JournalMode, a: &[Op], b: &[Op]) -> Exploration {
    let ops = [a, b];
    let mut out = Exploration {
        fails_at_once: None,
        failure: None,
        completes: false,
        both_wait: false,
    };
    let mut seen: HashSet<(Sim, [usize; 2])> = HashSet::new();
    let mut queue = std::collections::VecDeque::new();
    queue.push_back((
        Sim::new(journal),
        [0usize, 0usize],
        Vec::<(usize, usize)>::new(),
    ));
    while let Some((sim, pos, trace)) = queue.pop_front() {
        if !seen.insert((sim.clone(), pos)) {
            continue;
        }
        if pos[0] == a.len() && pos[1] == b.len() {
            out.completes = true;
            continue;
        }
        let mut waiting = 0;
        let mut runnable = 0;
        for who in 0..2 {
            if pos[who] == ops[who].len() {
                continue;
            }
            runnable += 1;
            let mut next = sim.clone();
            let result = next.apply_no_release(who, ops[who][pos[who]]);
            let mut t = trace.clone();
            t.push((who, pos[who]));
            match result {
                Outcome::Ok => {
                    let mut p = pos;
                    p[who] += 1;
                    queue.push_back((next, p, t));
                }
                Outcome::Busy { handler: true, .. } => waiting += 1,
                failed => {
                    if out.fails_at_once.is_none() {
                        out.fails_at_once = Some(t);
                        out.failure = Some(failed);
                    }
                }
            }
        }
        if runnable > 0 && waiting == runnable {
            out.both_wait = true;
        }
    }
    out
}

impl Sim {
    /// [`Sim::step`] without the rollback after `SQLITE_BUSY` (a waiting step is retried from the
    /// state before it; a step that was refused changed nothing that matters to the search).
    fn apply_no_release(&mut self, who: usize, op: Op) -> Outcome {
        self.apply(who & 1, op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BeginMode::*;
    use JournalMode::*;

    const DEFERRED_RW: [Op; 4] = [Op::Begin(Deferred), Op::Read, Op::Write, Op::Commit];
    const IMMEDIATE_RW: [Op; 4] = [Op::Begin(Immediate), Op::Read, Op::Write, Op::Commit];

    #[test]
    fn deferred_upgrade_fails_at_once_in_both_modes() {
        for j in [Rollback, Wal] {
            let mut s = Sim::new(j);
            assert_eq!(s.step(0, Op::Begin(Deferred)), Outcome::Ok);
            assert_eq!(s.step(1, Op::Begin(Deferred)), Outcome::Ok);
            assert_eq!(s.step(0, Op::Read), Outcome::Ok);
            assert_eq!(s.step(1, Op::Read), Outcome::Ok);
            assert_eq!(s.step(0, Op::Write), Outcome::Ok);
            let out = s.step(1, Op::Write);
            assert!(out.fails_at_once(), "{j}: {out:?}");
            assert_eq!(out.code(), 5);
            // Connection 1 rolled back: 0 commits.
            assert_eq!(s.step(0, Op::Commit), Outcome::Ok);
            let e = explore(j, &DEFERRED_RW, &DEFERRED_RW);
            assert!(e.fails_at_once.is_some() && e.completes, "{j}: {e:?}");
        }
    }

    #[test]
    fn wal_stale_snapshot() {
        let mut s = Sim::new(Wal);
        s.step(0, Op::Begin(Deferred));
        s.step(0, Op::Read);
        assert_eq!(s.step(1, Op::Write), Outcome::Ok); // autocommit write commits
        let out = s.step(0, Op::Write);
        assert_eq!((out.code(), out.fails_at_once()), (517, true));
    }

    #[test]
    fn immediate_never_fails_at_once() {
        for j in [Rollback, Wal] {
            let e = explore(j, &IMMEDIATE_RW, &IMMEDIATE_RW);
            assert_eq!(e.fails_at_once, None, "{j}");
            assert!(e.completes && !e.both_wait);
            // A deferred write-only transaction never holds a read lock before its write.
            let w = [Op::Begin(Deferred), Op::Write, Op::Read, Op::Commit];
            assert_eq!(explore(j, &w, &w).fails_at_once, None, "{j}");
        }
    }

    #[test]
    fn rollback_commit_waits_for_readers() {
        let mut s = Sim::new(Rollback);
        s.step(0, Op::Begin(Immediate));
        s.step(1, Op::Begin(Deferred));
        s.step(1, Op::Read);
        assert_eq!(s.step(0, Op::Commit), Sim::busy(true));
        let mut w = Sim::new(Wal);
        w.step(0, Op::Begin(Immediate));
        w.step(1, Op::Begin(Deferred));
        w.step(1, Op::Read);
        assert_eq!(w.step(0, Op::Commit), Outcome::Ok);
    }
}
