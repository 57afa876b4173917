//! Transactions: ordered lock acquisitions, each tied to the statement (and place) that took it.

use crate::mode::LockMode;
use crate::target::LockTarget;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// Where something was seen: a file and 1-based line, or a log file and its line.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    /// The source id: a path as given on the command line, `<stdin>`, or a log file name.
    pub path: Arc<str>,
    /// 1-based line number; 0 when the place is not a line of a file (a live session,
    /// `pid 5477`), and then `Display` prints the path alone.
    pub line: u32,
}

impl Location {
    /// A location in `path` at 1-based `line`.
    pub fn new(path: impl Into<Arc<str>>, line: u32) -> Self {
        Location {
            path: path.into(),
            line,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            // Not a line of a file: a live session (`pid 5477`).
            f.write_str(&self.path)
        } else {
            write!(f, "{}:{}", self.path, self.line)
        }
    }
}

/// A 64-bit stable hash (FNV-1a) used for fingerprints: the same input gives the same value on
/// every platform and every run, unlike `std`'s randomized hasher.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(pub u64);

impl Fingerprint {
    /// Hashes a sequence of byte strings (each is length-prefixed so `["ab","c"] != ["a","bc"]`).
    pub fn of<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> Fingerprint {
        let mut h = FnvHasher::default();
        for p in parts {
            h.write(&(p.len() as u64).to_le_bytes());
            h.write(p);
        }
        Fingerprint(h.0)
    }

    /// Combines fingerprints, order-sensitive.
    pub fn combine(items: impl IntoIterator<Item = Fingerprint>) -> Fingerprint {
        let mut h = FnvHasher::default();
        for f in items {
            h.write(&f.0.to_le_bytes());
        }
        Fingerprint(h.0)
    }

    /// 16 lower-case hex digits.
    pub fn to_hex(self) -> String {
        format!("{:016x}", self.0)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

struct FnvHasher(u64);

impl Default for FnvHasher {
    fn default() -> Self {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl FnvHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// One SQL statement as a front-end saw it. Shared (`Arc`) by every lock it takes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Statement {
    /// Where the statement starts.
    pub location: Location,
    /// The statement as written (may carry literals: never print it unless asked to).
    pub text: Arc<str>,
    /// The statement with literals replaced by `?` and whitespace collapsed; safe to print.
    pub redacted: Arc<str>,
    /// Hash of the normalized statement: equal for statements that differ only in literals,
    /// whitespace, comments or keyword case.
    pub fingerprint: Fingerprint,
}

/// Why a lock is taken when the statement does not name it directly.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Implicit {
    /// Foreign-key check on the referenced parent (`FOR KEY SHARE` on its row, `ROW SHARE` on it).
    ForeignKeyCheck {
        /// The referencing (child) relation whose write triggered the check.
        from: Arc<str>,
    },
    /// `ON DELETE/UPDATE CASCADE | SET NULL | SET DEFAULT` action on a referencing child.
    ForeignKeyAction {
        /// The referenced (parent) relation whose change triggered the action.
        from: Arc<str>,
    },
    /// Any other implied lock, described in words.
    Other {
        /// What implies it.
        reason: Arc<str>,
    },
}

/// One lock taken by a transaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LockAcquisition {
    /// What is locked.
    pub target: LockTarget,
    /// In which mode.
    pub mode: LockMode,
    /// The statement that takes it.
    pub statement: Arc<Statement>,
    /// Set when the lock is implied (foreign keys, cascades) rather than named by the statement.
    pub implicit: Option<Implicit>,
    /// Whether the statement runs repeatedly in the transaction (inside a loop in source code).
    pub repeated: bool,
    /// The calls through which the transaction's own code reached the statement, outermost
    /// first (application code: `service.py:14` calls `repo.update_b`, whose SQL is the
    /// statement). `None` when the statement is in the transaction's own code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<Arc<[Location]>>,
}

/// How a transaction's boundaries were found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionKind {
    /// `BEGIN` … `COMMIT`/`ROLLBACK` (or a framework's transaction scope).
    Explicit,
    /// A statement outside any block: its own transaction, locks released when it ends.
    Autocommit,
    /// A whole file run as one transaction (migration runners do this).
    File,
}

/// A transaction: the locks it takes, in the order it takes them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// A short human name (`transfer.sql:3`, a function name, `pid 5477 xact 12`).
    pub name: Arc<str>,
    /// Where it begins.
    pub location: Location,
    /// How its boundaries were found.
    pub kind: TransactionKind,
    /// Transactions sharing a group never run at the same time as each other (e.g. migrations run
    /// one after another); `None` means it may run concurrently with anything, itself included.
    pub group: Option<Arc<str>>,
    /// Every statement, in order, including those that take no lock worth modelling.
    pub statements: Vec<Arc<Statement>>,
    /// Lock acquisitions in order of acquisition.
    pub locks: Vec<LockAcquisition>,
    /// The database it runs on; its lock model made `locks`.
    #[serde(default)]
    pub engine: crate::Engine,
}

impl Transaction {
    /// Whether lock `j` adds nothing: an earlier lock of this transaction on the same target
    /// already covers its mode, so acquiring it can never wait for anyone. Row locks whose rows
    /// are unknown (no key predicate) are never redundant: they may be other rows.
    pub fn is_redundant(&self, j: usize) -> bool {
        let lj = &self.locks[j];
        if matches!(lj.target, crate::LockTarget::Rows { key: None, .. }) {
            return false;
        }
        self.locks[..j]
            .iter()
            .any(|k| k.target == lj.target && k.mode.covers(lj.mode))
    }

    /// Whether two transactions (or two instances of one) can be in flight at the same time.
    pub fn may_run_concurrently_with(&self, other: &Transaction) -> bool {
        match (&self.group, &other.group) {
            (Some(a), Some(b)) => a != b,
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_stable_and_length_prefixed() {
        let a = Fingerprint::of([b"ab".as_slice(), b"c".as_slice()]);
        let b = Fingerprint::of([b"a".as_slice(), b"bc".as_slice()]);
        assert_ne!(a, b);
        // Pinned value: a change here breaks users' baselines.
        assert_eq!(
            Fingerprint::of([b"accounts".as_slice()]).to_hex(),
            "6febf9f91bd82a05"
        );
    }
}
