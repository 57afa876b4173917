//! Lock modes and their conflict matrices, kept as documented data.
//!
//! Every table here comes from the PostgreSQL documentation, chapter 13.3 "Explicit Locking"
//! (<https://www.postgresql.org/docs/current/explicit-locking.html>): table 13.2 "Conflicting Lock
//! Modes" for table-level locks and table 13.3 "Conflicting Row-Level Locks" for row-level locks.
//! The integration test `crates/lockgraph_sql/tests/pg_oracle.rs` compares what the inference says
//! with `pg_locks` on a real server, and `crates/lockgraph_pg/tests` confirms conflicts with real
//! two-session runs.
//!
//! [`LockMode`] also carries MySQL/MariaDB InnoDB's modes ([`crate::innodb`]): their own table
//! and record lock spaces, never conflicting with PostgreSQL's.

use crate::innodb::{InnoDbRecordMode, InnoDbTableMode};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The eight PostgreSQL table-level lock modes, weakest first (13.3.1 "Table-Level Locks").
///
/// The discriminant is the row/column index into [`TABLE_CONFLICTS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableLockMode {
    /// `ACCESS SHARE`: plain `SELECT`, and tables only read by other statements.
    AccessShare = 0,
    /// `ROW SHARE`: `SELECT … FOR UPDATE/NO KEY UPDATE/SHARE/KEY SHARE`.
    RowShare = 1,
    /// `ROW EXCLUSIVE`: `INSERT`, `UPDATE`, `DELETE`, `MERGE` on the target table.
    RowExclusive = 2,
    /// `SHARE UPDATE EXCLUSIVE`: `VACUUM`, `ANALYZE`, `CREATE INDEX CONCURRENTLY`, some `ALTER TABLE`.
    ShareUpdateExclusive = 3,
    /// `SHARE`: `CREATE INDEX` (not concurrently).
    Share = 4,
    /// `SHARE ROW EXCLUSIVE`: `CREATE TRIGGER`, `ALTER TABLE … ADD FOREIGN KEY` (both tables).
    ShareRowExclusive = 5,
    /// `EXCLUSIVE`: `REFRESH MATERIALIZED VIEW CONCURRENTLY`.
    Exclusive = 6,
    /// `ACCESS EXCLUSIVE`: `DROP`, `TRUNCATE`, `VACUUM FULL`, most `ALTER TABLE`, bare `LOCK TABLE`.
    AccessExclusive = 7,
}

/// Bit `j` of entry `i` is set when table mode `i` conflicts with table mode `j`.
///
/// Transcribed from PostgreSQL docs, table 13.2 "Conflicting Lock Modes" (rows: requested mode,
/// columns: current mode). Bit order follows [`TableLockMode`]: bit 0 = ACCESS SHARE … bit 7 =
/// ACCESS EXCLUSIVE. The matrix is symmetric (unit test `table_matrix_is_symmetric`).
pub const TABLE_CONFLICTS: [u8; 8] = [
    // ACCESS SHARE conflicts with: ACCESS EXCLUSIVE
    0b1000_0000,
    // ROW SHARE conflicts with: EXCLUSIVE, ACCESS EXCLUSIVE
    0b1100_0000,
    // ROW EXCLUSIVE conflicts with: SHARE, SHARE ROW EXCLUSIVE, EXCLUSIVE, ACCESS EXCLUSIVE
    0b1111_0000,
    // SHARE UPDATE EXCLUSIVE conflicts with: SHARE UPDATE EXCLUSIVE, SHARE, SHARE ROW EXCLUSIVE,
    // EXCLUSIVE, ACCESS EXCLUSIVE
    0b1111_1000,
    // SHARE conflicts with: ROW EXCLUSIVE, SHARE UPDATE EXCLUSIVE, SHARE ROW EXCLUSIVE, EXCLUSIVE,
    // ACCESS EXCLUSIVE (SHARE does not conflict with itself)
    0b1110_1100,
    // SHARE ROW EXCLUSIVE conflicts with: ROW EXCLUSIVE and everything stronger
    0b1111_1100,
    // EXCLUSIVE conflicts with: ROW SHARE and everything stronger
    0b1111_1110,
    // ACCESS EXCLUSIVE conflicts with all eight modes
    0b1111_1111,
];

impl TableLockMode {
    /// All modes, weakest first.
    pub const ALL: [TableLockMode; 8] = [
        TableLockMode::AccessShare,
        TableLockMode::RowShare,
        TableLockMode::RowExclusive,
        TableLockMode::ShareUpdateExclusive,
        TableLockMode::Share,
        TableLockMode::ShareRowExclusive,
        TableLockMode::Exclusive,
        TableLockMode::AccessExclusive,
    ];

    /// Whether a transaction requesting `self` must wait for another transaction holding `other`.
    pub fn conflicts_with(self, other: TableLockMode) -> bool {
        TABLE_CONFLICTS[self as usize] & (1 << other as u8) != 0
    }

    /// The name `pg_locks.mode` uses, e.g. `AccessShareLock`.
    pub fn pg_name(self) -> &'static str {
        match self {
            TableLockMode::AccessShare => "AccessShareLock",
            TableLockMode::RowShare => "RowShareLock",
            TableLockMode::RowExclusive => "RowExclusiveLock",
            TableLockMode::ShareUpdateExclusive => "ShareUpdateExclusiveLock",
            TableLockMode::Share => "ShareLock",
            TableLockMode::ShareRowExclusive => "ShareRowExclusiveLock",
            TableLockMode::Exclusive => "ExclusiveLock",
            TableLockMode::AccessExclusive => "AccessExclusiveLock",
        }
    }

    /// The SQL spelling used by `LOCK TABLE … IN <mode> MODE`, e.g. `ACCESS SHARE`.
    pub fn sql_name(self) -> &'static str {
        match self {
            TableLockMode::AccessShare => "ACCESS SHARE",
            TableLockMode::RowShare => "ROW SHARE",
            TableLockMode::RowExclusive => "ROW EXCLUSIVE",
            TableLockMode::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            TableLockMode::Share => "SHARE",
            TableLockMode::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            TableLockMode::Exclusive => "EXCLUSIVE",
            TableLockMode::AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }

    /// Parses `pg_locks.mode` (`RowExclusiveLock`) or the SQL spelling (`row exclusive`).
    pub fn parse(name: &str) -> Option<TableLockMode> {
        let squashed: String = name
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '_')
            .flat_map(char::to_lowercase)
            .collect();
        let squashed = squashed.strip_suffix("lock").unwrap_or(&squashed);
        TableLockMode::ALL.into_iter().find(|m| {
            m.sql_name()
                .chars()
                .filter(|c| !c.is_whitespace())
                .flat_map(char::to_lowercase)
                .eq(squashed.chars())
        })
    }

    /// Whether holding `self` already covers a request for `other`: every mode that conflicts with
    /// `other` also conflicts with `self`, so re-requesting `other` adds nothing a peer could block.
    pub fn covers(self, other: TableLockMode) -> bool {
        let (held, wanted) = (
            TABLE_CONFLICTS[self as usize],
            TABLE_CONFLICTS[other as usize],
        );
        held & wanted == wanted
    }
}

impl fmt::Display for TableLockMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sql_name())
    }
}

/// The four PostgreSQL row-level lock modes, weakest first (13.3.2 "Row-Level Locks").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowLockMode {
    /// `FOR KEY SHARE`; also the foreign-key check on the referenced parent row.
    KeyShare = 0,
    /// `FOR SHARE`.
    Share = 1,
    /// `FOR NO KEY UPDATE`; `UPDATE` that changes no key column.
    NoKeyUpdate = 2,
    /// `FOR UPDATE`; `DELETE`; `UPDATE` of a column in a unique index usable by a foreign key.
    Update = 3,
}

/// Bit `j` of entry `i` is set when row mode `i` conflicts with row mode `j`.
///
/// Transcribed from PostgreSQL docs, table 13.3 "Conflicting Row-Level Locks". Symmetric.
pub const ROW_CONFLICTS: [u8; 4] = [
    // FOR KEY SHARE conflicts with: FOR UPDATE
    0b1000, // FOR SHARE conflicts with: FOR NO KEY UPDATE, FOR UPDATE
    0b1100,
    // FOR NO KEY UPDATE conflicts with: FOR SHARE, FOR NO KEY UPDATE, FOR UPDATE
    0b1110, // FOR UPDATE conflicts with all four
    0b1111,
];

impl RowLockMode {
    /// All modes, weakest first.
    pub const ALL: [RowLockMode; 4] = [
        RowLockMode::KeyShare,
        RowLockMode::Share,
        RowLockMode::NoKeyUpdate,
        RowLockMode::Update,
    ];

    /// Whether a transaction requesting `self` on a row must wait for another holding `other` on it.
    pub fn conflicts_with(self, other: RowLockMode) -> bool {
        ROW_CONFLICTS[self as usize] & (1 << other as u8) != 0
    }

    /// The SQL spelling of the locking clause, e.g. `FOR NO KEY UPDATE`.
    pub fn sql_name(self) -> &'static str {
        match self {
            RowLockMode::KeyShare => "FOR KEY SHARE",
            RowLockMode::Share => "FOR SHARE",
            RowLockMode::NoKeyUpdate => "FOR NO KEY UPDATE",
            RowLockMode::Update => "FOR UPDATE",
        }
    }

    /// Parses `FOR UPDATE`, `no key update`, `KeyShare`, … (case, spaces and `FOR` are ignored).
    pub fn parse(name: &str) -> Option<RowLockMode> {
        let squashed: String = name
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        let squashed = squashed.strip_prefix("for").unwrap_or(&squashed);
        RowLockMode::ALL.into_iter().find(|m| {
            m.sql_name()[4..]
                .chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .eq(squashed.chars())
        })
    }

    /// The table-level lock a `SELECT … FOR <mode>` takes on the locked table: always ROW SHARE.
    pub fn locking_clause_table_mode(self) -> TableLockMode {
        TableLockMode::RowShare
    }
}

impl fmt::Display for RowLockMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sql_name())
    }
}

/// Advisory lock strength (`pg_advisory_lock` is exclusive, `pg_advisory_lock_shared` is shared).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdvisoryMode {
    /// `pg_advisory[_xact]_lock_shared`: pg_locks shows `ShareLock`.
    Shared,
    /// `pg_advisory[_xact]_lock`: pg_locks shows `ExclusiveLock`.
    Exclusive,
}

impl AdvisoryMode {
    /// Shared conflicts only with exclusive; exclusive conflicts with both (docs 13.3.5).
    pub fn conflicts_with(self, other: AdvisoryMode) -> bool {
        self == AdvisoryMode::Exclusive || other == AdvisoryMode::Exclusive
    }
}

/// Any lock mode lockgraph models. Modes of different kinds never conflict with each other:
/// a row lock and a table lock live in different lock spaces, and so do PostgreSQL's and InnoDB's.
///
/// [`LockMode::conflicts_with`] is read *requested × held*: PostgreSQL's matrices are symmetric,
/// InnoDB's record rules are not (a held gap lock blocks a requested insert intention, not the
/// other way round; see [`crate::innodb`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "mode", rename_all = "snake_case")]
pub enum LockMode {
    /// A table-level (heavyweight relation) lock.
    Table(TableLockMode),
    /// A row-level lock.
    Row(RowLockMode),
    /// An advisory lock.
    Advisory(AdvisoryMode),
    /// An InnoDB (MySQL/MariaDB) table lock: `IS`, `IX`, `S`, `X`, `AUTO_INC`.
    #[serde(rename = "innodb_table")]
    InnoDbTable(InnoDbTableMode),
    /// An InnoDB record lock: `S`/`X`, record only, gap, next-key or insert intention.
    #[serde(rename = "innodb_record")]
    InnoDbRecord(InnoDbRecordMode),
}

impl LockMode {
    /// Whether requesting `self` waits for another transaction holding `other` on the same target.
    ///
    /// Symmetric for every PostgreSQL mode and InnoDB table mode; **not** for InnoDB record modes
    /// (`self` is the request, `other` the held lock: [`InnoDbRecordMode::has_to_wait_for`]).
    pub fn conflicts_with(self, other: LockMode) -> bool {
        match (self, other) {
            (LockMode::Table(a), LockMode::Table(b)) => a.conflicts_with(b),
            (LockMode::Row(a), LockMode::Row(b)) => a.conflicts_with(b),
            (LockMode::Advisory(a), LockMode::Advisory(b)) => a.conflicts_with(b),
            (LockMode::InnoDbTable(a), LockMode::InnoDbTable(b)) => a.conflicts_with(b),
            (LockMode::InnoDbRecord(a), LockMode::InnoDbRecord(b)) => a.has_to_wait_for(b),
            _ => false,
        }
    }

    /// Whether this is one of InnoDB's modes (MySQL/MariaDB) rather than PostgreSQL's.
    pub fn is_innodb(self) -> bool {
        matches!(self, LockMode::InnoDbTable(_) | LockMode::InnoDbRecord(_))
    }

    /// Whether holding `self` already covers a later request for `other` on the same target: every
    /// mode that conflicts with `other` also conflicts with `self` (so the request can never make
    /// a peer wait longer). Modes of different kinds never cover each other.
    pub fn covers(self, other: LockMode) -> bool {
        match (self, other) {
            (LockMode::Table(a), LockMode::Table(b)) => a.covers(b),
            (LockMode::Row(a), LockMode::Row(b)) => {
                let (held, wanted) = (ROW_CONFLICTS[a as usize], ROW_CONFLICTS[b as usize]);
                held & wanted == wanted
            }
            (LockMode::Advisory(a), LockMode::Advisory(b)) => {
                a == b || a == AdvisoryMode::Exclusive
            }
            (LockMode::InnoDbTable(a), LockMode::InnoDbTable(b)) => a.covers(b),
            (LockMode::InnoDbRecord(a), LockMode::InnoDbRecord(b)) => a.covers(b),
            _ => false,
        }
    }

    /// Whether two transactions requesting this mode on the same target block each other.
    pub fn self_conflicting(self) -> bool {
        self.conflicts_with(self)
    }
}

impl fmt::Display for LockMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockMode::Table(m) => write!(f, "{m}"),
            LockMode::Row(m) => write!(f, "{m}"),
            LockMode::Advisory(AdvisoryMode::Shared) => f.write_str("advisory SHARE"),
            LockMode::Advisory(AdvisoryMode::Exclusive) => f.write_str("advisory EXCLUSIVE"),
            LockMode::InnoDbTable(m) => write!(f, "{m}"),
            LockMode::InnoDbRecord(m) => write!(f, "{m}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TableLockMode::*;

    #[test]
    fn table_matrix_is_symmetric() {
        for a in TableLockMode::ALL {
            for b in TableLockMode::ALL {
                assert_eq!(a.conflicts_with(b), b.conflicts_with(a), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn row_matrix_is_symmetric() {
        for a in RowLockMode::ALL {
            for b in RowLockMode::ALL {
                assert_eq!(a.conflicts_with(b), b.conflicts_with(a), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn documented_table_cells() {
        // Table 13.2: the cells users ask about most.
        assert!(!AccessShare.conflicts_with(RowExclusive));
        assert!(AccessShare.conflicts_with(AccessExclusive));
        assert!(!RowExclusive.conflicts_with(RowExclusive));
        assert!(RowExclusive.conflicts_with(Share));
        assert!(!Share.conflicts_with(Share));
        assert!(ShareUpdateExclusive.conflicts_with(ShareUpdateExclusive));
        assert!(ShareRowExclusive.conflicts_with(ShareRowExclusive));
        assert!(!RowShare.conflicts_with(ShareRowExclusive));
        assert!(RowShare.conflicts_with(Exclusive));
        assert!(!ShareUpdateExclusive.conflicts_with(RowExclusive));
        // ACCESS EXCLUSIVE conflicts with everything, ACCESS SHARE only with it.
        for m in TableLockMode::ALL {
            assert!(AccessExclusive.conflicts_with(m));
            assert_eq!(AccessShare.conflicts_with(m), m == AccessExclusive);
        }
        // Conflict sets grow with strength: a stronger mode conflicts with a superset.
        for w in TableLockMode::ALL.windows(2) {
            let (weak, strong) = (
                TABLE_CONFLICTS[w[0] as usize],
                TABLE_CONFLICTS[w[1] as usize],
            );
            if w[0] != ShareUpdateExclusive {
                assert_eq!(weak & strong, weak, "{} ⊄ {}", w[0], w[1]);
            }
        }
    }

    #[test]
    fn documented_row_cells() {
        use RowLockMode as R;
        assert!(!R::KeyShare.conflicts_with(R::NoKeyUpdate));
        assert!(R::KeyShare.conflicts_with(R::Update));
        assert!(!R::Share.conflicts_with(R::Share));
        assert!(R::Share.conflicts_with(R::NoKeyUpdate));
        assert!(R::NoKeyUpdate.conflicts_with(R::NoKeyUpdate));
        for m in RowLockMode::ALL {
            assert!(R::Update.conflicts_with(m));
        }
    }

    #[test]
    fn names_round_trip() {
        for m in TableLockMode::ALL {
            assert_eq!(TableLockMode::parse(m.pg_name()), Some(m));
            assert_eq!(TableLockMode::parse(m.sql_name()), Some(m));
            assert_eq!(TableLockMode::parse(&m.sql_name().to_lowercase()), Some(m));
        }
        for m in RowLockMode::ALL {
            assert_eq!(RowLockMode::parse(m.sql_name()), Some(m));
        }
        assert_eq!(TableLockMode::parse("ShareLock"), Some(Share));
        assert_eq!(TableLockMode::parse("bogus"), None);
        assert_eq!(
            RowLockMode::parse("no key update"),
            Some(RowLockMode::NoKeyUpdate)
        );
    }

    #[test]
    fn covering_follows_conflict_sets() {
        use RowLockMode as R;
        assert!(LockMode::Row(R::Update).covers(LockMode::Row(R::NoKeyUpdate)));
        assert!(LockMode::Row(R::NoKeyUpdate).covers(LockMode::Row(R::Share)));
        assert!(!LockMode::Row(R::Share).covers(LockMode::Row(R::NoKeyUpdate)));
        assert!(LockMode::Table(AccessExclusive).covers(LockMode::Table(Share)));
        assert!(!LockMode::Table(Share).covers(LockMode::Table(ShareUpdateExclusive)));
        assert!(!LockMode::Table(ShareUpdateExclusive).covers(LockMode::Table(Share)));
        assert!(LockMode::Table(ShareRowExclusive).covers(LockMode::Table(Share)));
    }

    #[test]
    fn innodb_modes_through_lock_mode() {
        use crate::innodb::{InnoDbRecordMode as R, InnoDbTableMode as T};
        let (ii, gap) = (
            LockMode::InnoDbRecord(R::INSERT_INTENTION),
            LockMode::InnoDbRecord(R::X_GAP),
        );
        // Asymmetric: requested insert intention waits for a held gap lock, not the reverse.
        assert!(ii.conflicts_with(gap));
        assert!(!gap.conflicts_with(ii));
        assert!(!gap.self_conflicting());
        assert!(LockMode::InnoDbRecord(R::X_REC_NOT_GAP).self_conflicting());
        assert!(LockMode::InnoDbTable(T::IX).conflicts_with(LockMode::InnoDbTable(T::S)));
        assert!(LockMode::InnoDbTable(T::IX).covers(LockMode::InnoDbTable(T::IS)));
        assert!(
            LockMode::InnoDbRecord(R::X_NEXT_KEY).covers(LockMode::InnoDbRecord(R::S_REC_NOT_GAP))
        );
        // Engines never meet.
        assert!(!LockMode::InnoDbTable(T::X).conflicts_with(LockMode::Table(AccessExclusive)));
        assert!(!LockMode::Table(AccessExclusive).conflicts_with(LockMode::InnoDbTable(T::X)));
        assert!(
            !LockMode::Row(RowLockMode::Update)
                .conflicts_with(LockMode::InnoDbRecord(R::X_NEXT_KEY))
        );
        assert_eq!(
            LockMode::InnoDbRecord(R::INSERT_INTENTION).to_string(),
            "X,GAP,INSERT_INTENTION"
        );
        assert_eq!(LockMode::InnoDbTable(T::AutoInc).to_string(), "AUTO_INC");
        assert!(ii.is_innodb() && !LockMode::Table(Share).is_innodb());
    }

    #[test]
    fn innodb_modes_serialize() {
        use crate::innodb::{InnoDbRecordMode as R, InnoDbTableMode as T};
        for m in [
            LockMode::InnoDbTable(T::IX),
            LockMode::InnoDbTable(T::AutoInc),
            LockMode::InnoDbRecord(R::X_REC_NOT_GAP),
            LockMode::InnoDbRecord(R::INSERT_INTENTION),
        ] {
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(
                serde_json::from_str::<LockMode>(&json).unwrap(),
                m,
                "{json}"
            );
        }
        assert_eq!(
            serde_json::to_string(&LockMode::InnoDbRecord(R::X_REC_NOT_GAP)).unwrap(),
            r#"{"kind":"innodb_record","mode":{"shared_or_exclusive":"X","kind":"record_only"}}"#
        );
        assert_eq!(
            serde_json::to_string(&LockMode::InnoDbTable(T::IX)).unwrap(),
            r#"{"kind":"innodb_table","mode":"IX"}"#
        );
    }

    #[test]
    fn kinds_do_not_conflict_across() {
        assert!(
            !LockMode::Table(AccessExclusive).conflicts_with(LockMode::Row(RowLockMode::Update))
        );
        assert!(
            LockMode::Advisory(AdvisoryMode::Shared)
                .conflicts_with(LockMode::Advisory(AdvisoryMode::Exclusive))
        );
        assert!(
            !LockMode::Advisory(AdvisoryMode::Shared)
                .conflicts_with(LockMode::Advisory(AdvisoryMode::Shared))
        );
    }
}
