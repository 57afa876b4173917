//! MySQL / MariaDB InnoDB lock modes and their compatibility rules, kept as documented data.
//!
//! Sources (facts, not code): the MySQL reference manual, "InnoDB Locking"
//! (<https://dev.mysql.com/doc/refman/8.4/en/innodb-locking.html>: intention locks and the
//! table-level compatibility matrix, record / gap / next-key / insert-intention locks, AUTO-INC
//! locks), and the rules InnoDB's `lock0lock.cc` applies: its table-lock compatibility matrix
//! (`lock_compatibility_matrix`, which adds the AUTO-INC row and column) and the record-lock
//! has-to-wait test (`lock_rec_has_to_wait`). `crates/lockgraph_sql/tests/innodb_oracle.rs`
//! checks the rules the inference relies on against a real MariaDB server.
//!
//! InnoDB has two lock spaces:
//!
//! - **Table locks** ([`InnoDbTableMode`]): `IS`, `IX` (intention locks every locking read or
//!   write takes first), `S`, `X` (`LOCK TABLES … READ/WRITE`, some DDL) and `AUTO_INC` (held to
//!   the end of the *statement*, not the transaction). The compatibility matrix is symmetric.
//! - **Record locks** ([`InnoDbRecordMode`]): `S` or `X`, each of four kinds — record only
//!   (`REC_NOT_GAP`), gap only (`GAP`), next-key (the record and the gap before it; InnoDB's
//!   default `LOCK_ORDINARY`) and insert intention (a gap lock an `INSERT` waits in). Gap locks
//!   make the rules **asymmetric**: whether a *requested* lock waits for a *held* one is not the
//!   same question with the roles swapped (a held gap lock blocks a requested insert intention,
//!   a held insert intention blocks nothing). [`InnoDbRecordMode::has_to_wait_for`] and
//!   [`INNODB_RECORD_WAITS`] are always read *requested × held*.
//!
//! Spelling: [`std::fmt::Display`] prints the `LOCK_MODE` values of MySQL 8's
//! `performance_schema.data_locks` (`IX`, `X`, `X,REC_NOT_GAP`, `S,GAP`,
//! `X,GAP,INSERT_INTENTION`, `AUTO_INC`): one token list that keeps every distinction.
//! [`InnoDbRecordMode::innodb_locks_name`] gives the coarser spelling of MariaDB's
//! `information_schema.INNODB_LOCKS` (record-only and next-key are both `X`; gap and insert
//! intention both `X,GAP`). The parsers read both, and the words of InnoDB's deadlock reports and
//! `SHOW ENGINE INNODB STATUS` (`lock_mode X locks rec but not gap`, `lock mode S`,
//! `lock_mode X locks gap before rec insert intention`, `lock mode IX`, `lock mode AUTO-INC`).

use crate::mode::LockMode;
use serde::{Deserialize, Serialize};
use std::fmt;

/// InnoDB's table-level lock modes (manual: "Intention Locks", "AUTO-INC Locks").
///
/// The discriminant is the row/column index into [`INNODB_TABLE_CONFLICTS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum InnoDbTableMode {
    /// Intention shared: taken before `S` record locks (`SELECT … FOR SHARE`, foreign-key checks).
    IS = 0,
    /// Intention exclusive: taken before `X` record locks (`UPDATE`, `DELETE`, `INSERT`,
    /// `SELECT … FOR UPDATE`).
    IX = 1,
    /// Shared table lock: `LOCK TABLES t READ`.
    S = 2,
    /// Exclusive table lock: `LOCK TABLES t WRITE`, table-rebuilding DDL.
    X = 3,
    /// `AUTO-INC`: inserts into a table with an `AUTO_INCREMENT` column when the number of rows
    /// is not known in advance (`innodb_autoinc_lock_mode` 0 or 1); released at the end of the
    /// statement.
    #[serde(rename = "AUTO_INC")]
    AutoInc = 4,
}

/// Bit `j` of entry `i` is set when a request for table mode `i` conflicts with a held table mode
/// `j` (bit order follows [`InnoDbTableMode`]: bit 0 = IS … bit 4 = AUTO_INC). Symmetric.
///
/// Rows and columns IS/IX/S/X are the manual's "Table-level lock type compatibility matrix"
/// ("InnoDB Locking", section "Intention Locks"); the AUTO_INC row and column come from
/// `lock_compatibility_matrix` in `lock0lock.cc` (AUTO_INC is compatible with IS and IX only).
pub const INNODB_TABLE_CONFLICTS: [u8; 5] = [
    // IS conflicts with: X                        (manual: IS compatible with IX, S, IS)
    0b0_1000,
    // IX conflicts with: S, X                     (manual: IX compatible with IX, IS)
    0b0_1100,
    // S conflicts with: IX, X, AUTO_INC           (manual: S compatible with S, IS)
    0b1_1010,
    // X conflicts with: everything                (manual: X conflicts with all four)
    0b1_1111,
    // AUTO_INC conflicts with: S, X, AUTO_INC     (lock0lock.cc: compatible with IS, IX)
    0b1_1100,
];

impl InnoDbTableMode {
    /// All modes in discriminant order.
    pub const ALL: [InnoDbTableMode; 5] = [
        InnoDbTableMode::IS,
        InnoDbTableMode::IX,
        InnoDbTableMode::S,
        InnoDbTableMode::X,
        InnoDbTableMode::AutoInc,
    ];

    /// Whether a transaction requesting `self` must wait for another transaction holding `held`.
    pub fn conflicts_with(self, held: InnoDbTableMode) -> bool {
        INNODB_TABLE_CONFLICTS[self as usize] & (1 << held as u8) != 0
    }

    /// Whether holding `self` covers a later request for `other` in the same transaction: every
    /// mode that conflicts with `other` conflicts with `self`. `AUTO_INC` covers nothing: it is
    /// released when its statement ends.
    pub fn covers(self, other: InnoDbTableMode) -> bool {
        if self == InnoDbTableMode::AutoInc {
            return false;
        }
        let (held, wanted) = (
            INNODB_TABLE_CONFLICTS[self as usize],
            INNODB_TABLE_CONFLICTS[other as usize],
        );
        held & wanted == wanted
    }

    /// The `data_locks` / `INNODB_LOCKS` spelling: `IS`, `IX`, `S`, `X`, `AUTO_INC`.
    pub fn name(self) -> &'static str {
        match self {
            InnoDbTableMode::IS => "IS",
            InnoDbTableMode::IX => "IX",
            InnoDbTableMode::S => "S",
            InnoDbTableMode::X => "X",
            InnoDbTableMode::AutoInc => "AUTO_INC",
        }
    }

    /// Parses a table lock mode as InnoDB prints it: `IX`, `AUTO_INC` (`data_locks`,
    /// `INNODB_LOCKS`) or `lock mode IX`, `lock mode AUTO-INC` (deadlock reports), with or
    /// without a trailing `waiting`; case-insensitive.
    pub fn parse(text: &str) -> Option<InnoDbTableMode> {
        let words = words(text);
        let words: Vec<&str> = words
            .iter()
            .map(String::as_str)
            .filter(|w| !matches!(*w, "LOCK" | "MODE" | "LOCK_MODE" | "WAITING"))
            .collect();
        match words.as_slice() {
            ["IS"] => Some(InnoDbTableMode::IS),
            ["IX"] => Some(InnoDbTableMode::IX),
            ["S"] => Some(InnoDbTableMode::S),
            ["X"] => Some(InnoDbTableMode::X),
            ["AUTO_INC" | "AUTO-INC"] => Some(InnoDbTableMode::AutoInc),
            _ => None,
        }
    }
}

impl fmt::Display for InnoDbTableMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The shared/exclusive part of a record lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum InnoDbSx {
    /// Shared (`LOCK_S`): locking reads in share mode, foreign-key checks, duplicate-key checks.
    S = 0,
    /// Exclusive (`LOCK_X`): `UPDATE`, `DELETE`, `SELECT … FOR UPDATE`, inserted rows.
    X = 1,
}

impl InnoDbSx {
    /// Whether a request for `self` and a held `other` are compatible as plain modes
    /// (`lock_mode_compatible`): only S with S.
    pub fn compatible(self, other: InnoDbSx) -> bool {
        self == InnoDbSx::S && other == InnoDbSx::S
    }
}

/// What part of the index a record lock covers (manual: "Record Locks", "Gap Locks",
/// "Next-Key Locks", "Insert Intention Locks").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InnoDbRecordKind {
    /// The index record only (`LOCK_REC_NOT_GAP`, printed `REC_NOT_GAP`): equality on a unique
    /// key that finds its row, foreign-key checks on the parent, inserted rows.
    RecordOnly = 0,
    /// The gap before the record only (`LOCK_GAP`, printed `GAP`): a search that ends between
    /// records; it only blocks inserts into the gap.
    Gap = 1,
    /// The record and the gap before it (`LOCK_ORDINARY`, printed with no suffix): what
    /// REPEATABLE READ scans and range conditions take.
    NextKey = 2,
    /// The gap lock an `INSERT` requests (`LOCK_GAP | LOCK_INSERT_INTENTION`, printed
    /// `GAP,INSERT_INTENTION`): it waits for gap and next-key locks others hold on the gap,
    /// and blocks nobody.
    InsertIntention = 3,
}

/// A record lock: shared or exclusive, and which part of the index it covers.
///
/// The code ([`InnoDbRecordMode::code`]) is `2 × kind + sx`, the index into
/// [`INNODB_RECORD_WAITS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InnoDbRecordMode {
    /// `S` or `X`.
    pub shared_or_exclusive: InnoDbSx,
    /// Record only, gap, next-key or insert intention.
    pub kind: InnoDbRecordKind,
}

/// Bit `h` of entry `r` is set when a *requested* record lock with code `r` has to wait for a
/// record lock with code `h` that another transaction *holds* on the same record (codes:
/// `2 × kind + sx`, see [`InnoDbRecordMode::code`]; bit order S,REC_NOT_GAP · X,REC_NOT_GAP ·
/// S,GAP · X,GAP · S · X · S,INSERT_INTENTION · X,INSERT_INTENTION). Not symmetric.
///
/// Each row follows from the has-to-wait rules of `lock_rec_has_to_wait` (`lock0lock.cc`),
/// applied in this order (the unit test `record_table_follows_the_rules` re-derives every cell):
///
/// 1. S and S are compatible: never wait.
/// 2. A gap request (`GAP`, or any lock on the supremum) that is not an insert intention never
///    waits ("Gap locks in InnoDB are purely inhibitive").
/// 3. A request that is not an insert intention does not wait for a held gap lock.
/// 4. A gap-type request (an insert intention, after rule 2) does not wait for a held
///    record-only lock.
/// 5. Nobody waits for a held insert intention.
/// 6. Otherwise, wait.
pub const INNODB_RECORD_WAITS: [u8; 8] = [
    // S,REC_NOT_GAP waits for: X,REC_NOT_GAP, X (rule 1 spares S holders; rule 3 spares gaps)
    0b0010_0010,
    // X,REC_NOT_GAP waits for: S,REC_NOT_GAP, X,REC_NOT_GAP, S, X
    0b0011_0011,
    // S,GAP waits for nothing (rule 2)
    0b0000_0000,
    // X,GAP waits for nothing (rule 2)
    0b0000_0000,
    // S (next-key) waits for: X,REC_NOT_GAP, X
    0b0010_0010,
    // X (next-key) waits for: S,REC_NOT_GAP, X,REC_NOT_GAP, S, X
    0b0011_0011,
    // S,INSERT_INTENTION waits for: X,GAP, X (never requested by InnoDB; same rules)
    0b0010_1000,
    // X,INSERT_INTENTION waits for: S,GAP, X,GAP, S, X (rule 4 spares record-only, rule 5 II)
    0b0011_1100,
];

impl InnoDbRecordMode {
    /// `X,REC_NOT_GAP`: a row an `UPDATE`/`DELETE`/`FOR UPDATE` found by a unique key.
    pub const X_REC_NOT_GAP: Self = Self::new(InnoDbSx::X, InnoDbRecordKind::RecordOnly);
    /// `S,REC_NOT_GAP`: a foreign-key check's parent row; `FOR SHARE` by a unique key.
    pub const S_REC_NOT_GAP: Self = Self::new(InnoDbSx::S, InnoDbRecordKind::RecordOnly);
    /// `X`: next-key, what scans and ranges take for `UPDATE`/`DELETE`/`FOR UPDATE`.
    pub const X_NEXT_KEY: Self = Self::new(InnoDbSx::X, InnoDbRecordKind::NextKey);
    /// `S`: next-key in share mode.
    pub const S_NEXT_KEY: Self = Self::new(InnoDbSx::S, InnoDbRecordKind::NextKey);
    /// `X,GAP`.
    pub const X_GAP: Self = Self::new(InnoDbSx::X, InnoDbRecordKind::Gap);
    /// `S,GAP`.
    pub const S_GAP: Self = Self::new(InnoDbSx::S, InnoDbRecordKind::Gap);
    /// `X,GAP,INSERT_INTENTION`: what an `INSERT` requests on the gap it inserts into.
    pub const INSERT_INTENTION: Self = Self::new(InnoDbSx::X, InnoDbRecordKind::InsertIntention);

    /// All eight modes, in code order.
    pub const ALL: [InnoDbRecordMode; 8] = [
        Self::S_REC_NOT_GAP,
        Self::X_REC_NOT_GAP,
        Self::S_GAP,
        Self::X_GAP,
        Self::S_NEXT_KEY,
        Self::X_NEXT_KEY,
        Self::new(InnoDbSx::S, InnoDbRecordKind::InsertIntention),
        Self::INSERT_INTENTION,
    ];

    /// A record mode.
    pub const fn new(shared_or_exclusive: InnoDbSx, kind: InnoDbRecordKind) -> Self {
        InnoDbRecordMode {
            shared_or_exclusive,
            kind,
        }
    }

    /// `2 × kind + sx`: the index into [`INNODB_RECORD_WAITS`] (0..8).
    pub const fn code(self) -> u8 {
        2 * self.kind as u8 + self.shared_or_exclusive as u8
    }

    /// Whether a transaction *requesting* `self` on a record has to wait for another transaction
    /// *holding* `held` on the same record. Asymmetric: see [`INNODB_RECORD_WAITS`].
    pub fn has_to_wait_for(self, held: InnoDbRecordMode) -> bool {
        INNODB_RECORD_WAITS[usize::from(self.code())] & (1 << held.code()) != 0
    }

    /// Whether holding `self` makes a later request for `other` by the same transaction add
    /// nothing: every lock `other` would wait for is one `self` also waits for and that cannot
    /// be granted to another transaction while `self` is held, and every request `other` would
    /// block is blocked by `self` already. Derived from [`INNODB_RECORD_WAITS`]; e.g. a next-key
    /// lock covers the record-only and gap locks of the same strength or weaker, and nothing
    /// covers an insert intention (others may always take a gap lock).
    pub fn covers(self, other: InnoDbRecordMode) -> bool {
        Self::ALL.into_iter().all(|m| {
            let waits_ok =
                !other.has_to_wait_for(m) || (self.has_to_wait_for(m) && m.has_to_wait_for(self));
            let blocks_ok = !m.has_to_wait_for(other) || m.has_to_wait_for(self);
            waits_ok && blocks_ok
        })
    }

    /// The `data_locks.LOCK_MODE` spelling (see the module docs), e.g. `X,REC_NOT_GAP`.
    pub fn name(self) -> &'static str {
        use InnoDbRecordKind as K;
        use InnoDbSx::{S, X};
        match (self.shared_or_exclusive, self.kind) {
            (S, K::RecordOnly) => "S,REC_NOT_GAP",
            (X, K::RecordOnly) => "X,REC_NOT_GAP",
            (S, K::Gap) => "S,GAP",
            (X, K::Gap) => "X,GAP",
            (S, K::NextKey) => "S",
            (X, K::NextKey) => "X",
            (S, K::InsertIntention) => "S,GAP,INSERT_INTENTION",
            (X, K::InsertIntention) => "X,GAP,INSERT_INTENTION",
        }
    }

    /// The spelling of MariaDB's `information_schema.INNODB_LOCKS.lock_mode`, which keeps only
    /// the gap flag: `X`/`S` for next-key and record-only locks, `X,GAP`/`S,GAP` for gap and
    /// insert-intention locks.
    pub fn innodb_locks_name(self) -> &'static str {
        use InnoDbRecordKind as K;
        match (self.shared_or_exclusive, self.kind) {
            (InnoDbSx::S, K::RecordOnly | K::NextKey) => "S",
            (InnoDbSx::X, K::RecordOnly | K::NextKey) => "X",
            (InnoDbSx::S, K::Gap | K::InsertIntention) => "S,GAP",
            (InnoDbSx::X, K::Gap | K::InsertIntention) => "X,GAP",
        }
    }

    /// The words of a deadlock report / `SHOW ENGINE INNODB STATUS` lock line, e.g.
    /// `lock_mode X locks rec but not gap` (InnoDB writes `lock_mode X` but `lock mode S`).
    pub fn report_words(self) -> String {
        let head = match self.shared_or_exclusive {
            InnoDbSx::S => "lock mode S",
            InnoDbSx::X => "lock_mode X",
        };
        let tail = match self.kind {
            InnoDbRecordKind::RecordOnly => " locks rec but not gap",
            InnoDbRecordKind::Gap => " locks gap before rec",
            InnoDbRecordKind::NextKey => "",
            InnoDbRecordKind::InsertIntention => " locks gap before rec insert intention",
        };
        format!("{head}{tail}")
    }

    /// Parses a record lock mode as InnoDB prints it, case-insensitive, a trailing `waiting`
    /// ignored:
    ///
    /// - `data_locks` / `INNODB_LOCKS`: `X`, `S,REC_NOT_GAP`, `X,GAP`, `X,INSERT_INTENTION`,
    ///   `X,GAP,INSERT_INTENTION` (a bare `X`/`S` is next-key, as `data_locks` means it;
    ///   MariaDB's `INNODB_LOCKS` also prints record-only locks that way, see
    ///   [`InnoDbRecordMode::innodb_locks_name`]);
    /// - deadlock reports: `lock_mode X locks rec but not gap`, `lock mode S locks gap before
    ///   rec`, `lock_mode X locks gap before rec insert intention`, `lock_mode X`, `lock mode S`.
    pub fn parse(text: &str) -> Option<InnoDbRecordMode> {
        let words = words(text);
        let mut sx = None;
        let (mut gap, mut rec_not_gap, mut insert_intention) = (false, false, false);
        let mut i = 0;
        while i < words.len() {
            let w = words[i].as_str();
            let next = |k: usize| words.get(i + k).map(String::as_str);
            match w {
                "LOCK" | "MODE" | "LOCK_MODE" | "WAITING" | "BEFORE" | "REC" => {}
                "S" | "X" if sx.is_none() => {
                    sx = Some(if w == "S" { InnoDbSx::S } else { InnoDbSx::X })
                }
                "GAP" => gap = true,
                "REC_NOT_GAP" => rec_not_gap = true,
                "INSERT_INTENTION" => insert_intention = true,
                // `locks rec but not gap`
                "LOCKS" if next(1) == Some("REC") && next(2) == Some("BUT") => {
                    rec_not_gap = true;
                    i += 4;
                }
                // `locks gap before rec`
                "LOCKS" if next(1) == Some("GAP") => {
                    gap = true;
                    i += 1;
                }
                "INSERT" if next(1) == Some("INTENTION") => {
                    insert_intention = true;
                    i += 1;
                }
                _ => return None,
            }
            i += 1;
        }
        let kind = match (gap, rec_not_gap, insert_intention) {
            (_, false, true) => InnoDbRecordKind::InsertIntention,
            (true, false, false) => InnoDbRecordKind::Gap,
            (false, true, false) => InnoDbRecordKind::RecordOnly,
            (false, false, false) => InnoDbRecordKind::NextKey,
            _ => return None,
        };
        Some(InnoDbRecordMode::new(sx?, kind))
    }
}

impl fmt::Display for InnoDbRecordMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses an InnoDB lock mode given its lock type, as the sources print both: `RECORD` / `TABLE`
/// (the `lock_type` column of `INNODB_LOCKS` and `data_locks`) or `RECORD LOCKS …` /
/// `TABLE LOCK …` (the start of a deadlock-report lock line). The type is needed because `S` and
/// `X` name both a table lock and a next-key record lock.
///
/// ```
/// use lockgraph_core::{InnoDbRecordMode, InnoDbTableMode, LockMode, parse_innodb_mode};
/// assert_eq!(parse_innodb_mode("RECORD", "lock_mode X locks rec but not gap"),
///            Some(LockMode::InnoDbRecord(InnoDbRecordMode::X_REC_NOT_GAP)));
/// assert_eq!(parse_innodb_mode("TABLE", "lock mode IX"), Some(LockMode::InnoDbTable(InnoDbTableMode::IX)));
/// ```
pub fn parse_innodb_mode(lock_type: &str, mode: &str) -> Option<LockMode> {
    let t = lock_type.trim_start().to_ascii_uppercase();
    if t.starts_with("RECORD") {
        InnoDbRecordMode::parse(mode).map(LockMode::InnoDbRecord)
    } else if t.starts_with("TABLE") {
        InnoDbTableMode::parse(mode).map(LockMode::InnoDbTable)
    } else {
        None
    }
}

/// Upper-case words split at spaces and commas.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_uppercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use InnoDbRecordKind as K;
    use InnoDbSx::{S, X};
    use InnoDbTableMode as T;

    #[test]
    fn table_matrix_matches_the_manual() {
        // Manual, "Table-level lock type compatibility matrix" (rows and columns X, IX, S, IS).
        let manual = [
            (
                T::X,
                [(T::X, false), (T::IX, false), (T::S, false), (T::IS, false)],
            ),
            (
                T::IX,
                [(T::X, false), (T::IX, true), (T::S, false), (T::IS, true)],
            ),
            (
                T::S,
                [(T::X, false), (T::IX, false), (T::S, true), (T::IS, true)],
            ),
            (
                T::IS,
                [(T::X, false), (T::IX, true), (T::S, true), (T::IS, true)],
            ),
        ];
        for (row, cells) in manual {
            for (col, compatible) in cells {
                assert_eq!(row.conflicts_with(col), !compatible, "{row} vs {col}");
            }
        }
        // lock0lock.cc's matrix adds AUTO_INC: compatible with IS and IX only.
        for m in T::ALL {
            let compatible = matches!(m, T::IS | T::IX);
            assert_eq!(T::AutoInc.conflicts_with(m), !compatible, "AUTO_INC vs {m}");
        }
        for a in T::ALL {
            for b in T::ALL {
                assert_eq!(a.conflicts_with(b), b.conflicts_with(a), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn table_covering() {
        assert!(T::X.covers(T::IX));
        assert!(T::IX.covers(T::IS));
        assert!(!T::IS.covers(T::IX));
        assert!(T::S.covers(T::IS));
        assert!(!T::S.covers(T::IX));
        assert!(!T::IX.covers(T::S));
        assert!(!T::AutoInc.covers(T::AutoInc));
    }

    /// `lock_rec_has_to_wait`, written out as the rules in [`INNODB_RECORD_WAITS`]'s docs.
    fn rules(requested: InnoDbRecordMode, held: InnoDbRecordMode) -> bool {
        let gap_kind = |k| matches!(k, K::Gap | K::InsertIntention);
        if requested
            .shared_or_exclusive
            .compatible(held.shared_or_exclusive)
        {
            return false; // 1
        }
        if requested.kind == K::Gap {
            return false; // 2
        }
        if requested.kind != K::InsertIntention && held.kind == K::Gap {
            return false; // 3
        }
        if gap_kind(requested.kind) && held.kind == K::RecordOnly {
            return false; // 4
        }
        if held.kind == K::InsertIntention {
            return false; // 5
        }
        true // 6
    }

    #[test]
    fn record_table_follows_the_rules() {
        for r in InnoDbRecordMode::ALL {
            for h in InnoDbRecordMode::ALL {
                assert_eq!(
                    r.has_to_wait_for(h),
                    rules(r, h),
                    "requested {r} vs held {h}"
                );
            }
        }
        for (i, m) in InnoDbRecordMode::ALL.iter().enumerate() {
            assert_eq!(usize::from(m.code()), i);
        }
    }

    #[test]
    fn documented_record_cells() {
        use InnoDbRecordMode as R;
        // Manual: "Gap locks can co-exist. A gap lock taken by one transaction does not prevent
        // another transaction from taking a gap lock on the same gap" — even S against X.
        for a in [R::S_GAP, R::X_GAP] {
            for b in [R::S_GAP, R::X_GAP] {
                assert!(!a.has_to_wait_for(b));
            }
        }
        // "Gap locks … are purely inhibitive": a gap request waits for nothing at all.
        for h in R::ALL {
            assert!(!R::X_GAP.has_to_wait_for(h));
        }
        // "Insert Intention Locks": inserts into the same gap at different positions do not
        // block each other…
        assert!(!R::INSERT_INTENTION.has_to_wait_for(R::INSERT_INTENTION));
        // …but an insert waits for a gap or next-key lock on its gap, shared or exclusive.
        for h in [R::S_GAP, R::X_GAP, R::S_NEXT_KEY, R::X_NEXT_KEY] {
            assert!(R::INSERT_INTENTION.has_to_wait_for(h), "{h}");
        }
        // An insert does not wait for a record-only lock on the next record.
        assert!(!R::INSERT_INTENTION.has_to_wait_for(R::X_REC_NOT_GAP));
        // Held insert intentions block nobody; held gap locks block only insert intentions.
        for r in R::ALL {
            assert!(!r.has_to_wait_for(R::INSERT_INTENTION));
            assert_eq!(r.has_to_wait_for(R::X_GAP), r.kind == K::InsertIntention);
        }
        // Shared record locks are compatible; X conflicts with both.
        assert!(!R::S_REC_NOT_GAP.has_to_wait_for(R::S_NEXT_KEY));
        assert!(R::S_REC_NOT_GAP.has_to_wait_for(R::X_REC_NOT_GAP));
        assert!(R::X_REC_NOT_GAP.has_to_wait_for(R::S_REC_NOT_GAP));
        assert!(R::X_NEXT_KEY.has_to_wait_for(R::X_REC_NOT_GAP));
        // The asymmetry: X,GAP held blocks an insert; the insert's lock held blocks no gap lock.
        assert!(R::INSERT_INTENTION.has_to_wait_for(R::X_GAP));
        assert!(!R::X_GAP.has_to_wait_for(R::INSERT_INTENTION));
    }

    #[test]
    fn record_covering() {
        use InnoDbRecordMode as R;
        assert!(R::X_NEXT_KEY.covers(R::X_REC_NOT_GAP));
        assert!(R::X_NEXT_KEY.covers(R::S_NEXT_KEY));
        assert!(R::X_NEXT_KEY.covers(R::X_GAP));
        assert!(R::X_REC_NOT_GAP.covers(R::S_REC_NOT_GAP));
        assert!(R::S_NEXT_KEY.covers(R::S_REC_NOT_GAP));
        // A record-only lock does not cover the gap part of a next-key lock.
        assert!(!R::X_REC_NOT_GAP.covers(R::X_NEXT_KEY));
        // S does not cover X.
        assert!(!R::S_NEXT_KEY.covers(R::X_REC_NOT_GAP));
        // Nothing covers an insert intention, not even X next-key on the record after the gap:
        // another transaction may take a gap lock on the gap meanwhile.
        for h in R::ALL {
            assert!(!h.covers(R::INSERT_INTENTION), "{h}");
        }
        for m in R::ALL {
            if m.kind != K::InsertIntention {
                assert!(m.covers(m), "{m}");
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for m in InnoDbRecordMode::ALL {
            assert_eq!(InnoDbRecordMode::parse(m.name()), Some(m), "{m}");
            assert_eq!(InnoDbRecordMode::parse(&m.report_words()), Some(m), "{m}");
            let waiting = format!("{} waiting", m.report_words());
            assert_eq!(InnoDbRecordMode::parse(&waiting), Some(m));
            // INNODB_LOCKS keeps S/X and the gap flag.
            let coarse = InnoDbRecordMode::parse(m.innodb_locks_name()).unwrap();
            assert_eq!(coarse.shared_or_exclusive, m.shared_or_exclusive);
            assert_eq!(
                coarse.kind == K::Gap,
                matches!(m.kind, K::Gap | K::InsertIntention)
            );
        }
        for m in T::ALL {
            assert_eq!(T::parse(m.name()), Some(m));
            assert_eq!(T::parse(&format!("lock mode {m}")), Some(m));
        }
        assert_eq!(T::parse("lock mode AUTO-INC waiting"), Some(T::AutoInc));
        assert_eq!(T::parse("lock mode IX locks"), None);
    }

    #[test]
    fn report_words_as_innodb_prints_them() {
        let p = |s| InnoDbRecordMode::parse(s);
        assert_eq!(
            p("lock_mode X locks rec but not gap"),
            Some(InnoDbRecordMode::X_REC_NOT_GAP)
        );
        assert_eq!(
            p("lock_mode X locks gap before rec insert intention waiting"),
            Some(InnoDbRecordMode::INSERT_INTENTION)
        );
        assert_eq!(p("lock mode S"), Some(InnoDbRecordMode::S_NEXT_KEY));
        assert_eq!(p("lock_mode X"), Some(InnoDbRecordMode::X_NEXT_KEY));
        assert_eq!(
            p("lock mode S locks gap before rec"),
            Some(InnoDbRecordMode::S_GAP)
        );
        assert_eq!(
            p("X,INSERT_INTENTION"),
            Some(InnoDbRecordMode::INSERT_INTENTION)
        );
        assert_eq!(p("x,rec_not_gap"), Some(InnoDbRecordMode::X_REC_NOT_GAP));
        assert_eq!(p("X,GAP,REC_NOT_GAP"), None);
        assert_eq!(p("lock mode IX"), None);
        assert_eq!(p("GAP"), None);
        assert_eq!(
            parse_innodb_mode("TABLE LOCK table `db`.`t`", "lock mode S"),
            Some(LockMode::InnoDbTable(T::S))
        );
        assert_eq!(
            parse_innodb_mode("record", "S"),
            Some(LockMode::InnoDbRecord(InnoDbRecordMode::new(S, K::NextKey)))
        );
        assert_eq!(parse_innodb_mode("page", "X"), None);
        let _ = X;
    }
}
