//! SQLite's locks as data: the five rollback-journal lock states, their compatibility table, the
//! journal modes and the ways a transaction begins.
//!
//! Source: the SQLite documentation "File Locking And Concurrency In SQLite Version 3"
//! (lockingv3.html), "Write-Ahead Logging" (wal.html) and "BEGIN TRANSACTION"
//! (lang_transaction.html). `tests/real_sqlite.rs` checks the behaviour that follows from these
//! tables against the SQLite library itself.

use std::fmt;

/// The lock one connection holds on one database file in rollback-journal mode
/// (lockingv3.html §3). A connection moves up this list while its transaction reads, writes and
/// commits, and drops to `Unlocked` when the transaction ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SqliteLock {
    /// No lock: the connection neither reads nor writes.
    Unlocked,
    /// May read; any number of connections may hold SHARED at once.
    Shared,
    /// Plans to write: at most one connection holds RESERVED, alongside any SHARED holders.
    Reserved,
    /// Waits for the SHARED holders to finish so it can commit; no new SHARED lock is granted.
    Pending,
    /// Writes the database file; no other connection holds any lock.
    Exclusive,
}

impl SqliteLock {
    /// Every state, in the order of [`LOCK_COMPATIBLE`]'s rows and columns.
    pub const ALL: [SqliteLock; 5] = [
        SqliteLock::Unlocked,
        SqliteLock::Shared,
        SqliteLock::Reserved,
        SqliteLock::Pending,
        SqliteLock::Exclusive,
    ];

    /// Whether a connection may move to `self` while another connection holds `held`.
    pub fn compatible_with(self, held: SqliteLock) -> bool {
        LOCK_COMPATIBLE[held as usize][self as usize]
    }
}

impl fmt::Display for SqliteLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SqliteLock::Unlocked => "UNLOCKED",
            SqliteLock::Shared => "SHARED",
            SqliteLock::Reserved => "RESERVED",
            SqliteLock::Pending => "PENDING",
            SqliteLock::Exclusive => "EXCLUSIVE",
        })
    }
}

/// `LOCK_COMPATIBLE[held][wanted]`: may a connection acquire `wanted` while another connection
/// holds `held`? Rows and columns in [`SqliteLock::ALL`] order (lockingv3.html §3):
/// SHARED is refused only while someone holds PENDING or EXCLUSIVE; RESERVED and PENDING exist
/// once per database; EXCLUSIVE needs every other connection to hold nothing.
pub const LOCK_COMPATIBLE: [[bool; 5]; 5] = [
    //   wanted: UNLOCKED SHARED RESERVED PENDING EXCLUSIVE
    /* held UNLOCKED  */
    [true, true, true, true, true],
    /* held SHARED    */ [true, true, true, true, false],
    /* held RESERVED  */ [true, true, false, false, false],
    /* held PENDING   */ [true, false, false, false, false],
    /* held EXCLUSIVE */ [true, false, false, false, false],
];

/// How the database file keeps its journal (`PRAGMA journal_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JournalMode {
    /// DELETE (the default), TRUNCATE, PERSIST, MEMORY: the [`SqliteLock`] protocol; a commit
    /// needs EXCLUSIVE, so it waits for readers.
    Rollback,
    /// WAL: readers read a snapshot and never block the single writer; a reader whose snapshot
    /// is older than the last commit cannot start writing (`SQLITE_BUSY_SNAPSHOT`).
    Wal,
}

impl fmt::Display for JournalMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JournalMode::Rollback => "rollback-journal",
            JournalMode::Wal => "WAL",
        })
    }
}

/// How a transaction begins (lang_transaction.html).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BeginMode {
    /// No transaction is open: every statement is its own transaction, its locks released when
    /// it ends.
    Autocommit,
    /// `BEGIN` / `BEGIN DEFERRED`: no lock until the first read (SHARED, or a WAL snapshot) or
    /// write (RESERVED, or the WAL write lock).
    Deferred,
    /// `BEGIN IMMEDIATE`: the write lock at once (RESERVED, or the WAL write lock).
    Immediate,
    /// `BEGIN EXCLUSIVE`: EXCLUSIVE at once in rollback-journal mode; in WAL mode the same as
    /// IMMEDIATE.
    Exclusive,
}

impl BeginMode {
    /// The mode of a `BEGIN …` statement's text; `None` when the text is not a `BEGIN`.
    pub fn of_begin_statement(text: &str) -> Option<BeginMode> {
        let mut words = text
            .split(|c: char| c.is_whitespace() || c == ';')
            .filter(|w| !w.is_empty());
        let first = words.next()?;
        if !first.eq_ignore_ascii_case("begin") {
            return None;
        }
        Some(match words.next() {
            Some(w) if w.eq_ignore_ascii_case("immediate") => BeginMode::Immediate,
            Some(w) if w.eq_ignore_ascii_case("exclusive") => BeginMode::Exclusive,
            _ => BeginMode::Deferred,
        })
    }

    /// The SQL that starts a transaction in this mode (`None` for autocommit).
    pub fn sql(self) -> Option<&'static str> {
        match self {
            BeginMode::Autocommit => None,
            BeginMode::Deferred => Some("BEGIN"),
            BeginMode::Immediate => Some("BEGIN IMMEDIATE"),
            BeginMode::Exclusive => Some("BEGIN EXCLUSIVE"),
        }
    }
}

impl fmt::Display for BeginMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BeginMode::Autocommit => "autocommit",
            BeginMode::Deferred => "DEFERRED",
            BeginMode::Immediate => "IMMEDIATE",
            BeginMode::Exclusive => "EXCLUSIVE",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_cells() {
        use SqliteLock::*;
        // Readers share.
        assert!(Shared.compatible_with(Shared));
        // One writer-to-be alongside readers, never two.
        assert!(Reserved.compatible_with(Shared));
        assert!(!Reserved.compatible_with(Reserved));
        // PENDING keeps new readers out; EXCLUSIVE needs everyone gone.
        assert!(!Shared.compatible_with(Pending));
        assert!(!Exclusive.compatible_with(Shared));
        for l in SqliteLock::ALL {
            assert!(Unlocked.compatible_with(l) && l.compatible_with(Unlocked));
            assert!(!Exclusive.compatible_with(l) || l == Unlocked);
        }
    }

    #[test]
    fn begin_statements() {
        assert_eq!(
            BeginMode::of_begin_statement("BEGIN"),
            Some(BeginMode::Deferred)
        );
        assert_eq!(
            BeginMode::of_begin_statement("begin  immediate transaction;"),
            Some(BeginMode::Immediate)
        );
        assert_eq!(
            BeginMode::of_begin_statement("BEGIN EXCLUSIVE"),
            Some(BeginMode::Exclusive)
        );
        assert_eq!(
            BeginMode::of_begin_statement("BEGIN DEFERRED"),
            Some(BeginMode::Deferred)
        );
        assert_eq!(BeginMode::of_begin_statement("SELECT 1"), None);
    }
}
