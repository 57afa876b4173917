//! A live server's lock state at one instant: [`LockSnapshot`] = the sessions of
//! `pg_stat_activity` ([`Backend`]), the rows of `pg_locks` ([`HeldLock`]) and, for each waiting
//! backend, `pg_blocking_pids()`.
//!
//! `lockgraph_pg` fills it from a server in one round trip; `lockgraph live --save` writes it as
//! JSON and `lockgraph live --snapshot FILE` reads it back, so an incident can be captured once
//! and analysed (or shared, literals redacted) later. The wait-for analysis over it lives in
//! `lockgraph_graph::waits`, the findings in the 4xx rules. Nothing here does I/O.

use crate::mode::TableLockMode;
use crate::target::RelationName;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One sample of a server's locks and sessions.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LockSnapshot {
    /// Where it was taken: the connection without its password (`postgres://app@db:5432/shop`).
    pub server: String,
    /// `server_version_num` of the server (`150020`).
    pub server_version_num: i32,
    /// When it was taken, as the server's `clock_timestamp()` printed it (ISO 8601).
    pub taken_at: String,
    /// How long the snapshot query ran on the server, in milliseconds.
    pub server_ms: f64,
    /// The inspecting session's own pid (left out of the analysis).
    pub own_pid: u32,
    /// The database the inspecting session is connected to (relation names resolve only there).
    pub database: String,
    /// Every client backend and the background workers that hold or wait for locks.
    pub backends: Vec<Backend>,
    /// The `pg_locks` rows: every one except the transaction-id and virtual-transaction-id
    /// locks each transaction holds on itself that nobody waits for.
    pub locks: Vec<HeldLock>,
    /// `pg_blocking_pids(pid)` of each backend waiting for a heavyweight lock, in the order the
    /// server returned them.
    pub blocked_by: Vec<BlockedBy>,
    /// Sessions of other roles whose state and query the inspecting role may not see (it lacks
    /// `pg_read_all_stats`); the analysis of their waits is partial.
    #[serde(default)]
    pub hidden_sessions: u32,
    /// The server's engine: PostgreSQL, or MySQL/MariaDB (InnoDB's lock tables mapped onto the
    /// same shape: connection ids as pids, `X,REC_NOT_GAP`-style modes).
    #[serde(default)]
    pub engine: crate::Engine,
}

/// `pg_blocking_pids()` of one waiting backend.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockedBy {
    /// The waiting backend.
    pub pid: u32,
    /// The backends it waits for: holders of conflicting locks and, ahead of it in the queue,
    /// requesters of conflicting modes.
    pub blockers: Vec<u32>,
}

/// One row of `pg_stat_activity`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Backend {
    /// Backend pid.
    pub pid: u32,
    /// `usename`.
    pub user: Option<String>,
    /// `datname`.
    pub database: Option<String>,
    /// `application_name` (empty when unset).
    pub application: String,
    /// `client_addr` (`None` for Unix sockets and background workers).
    pub client: Option<String>,
    /// `backend_type` (`client backend`, `autovacuum worker`, …).
    pub backend_type: String,
    /// `state` (`active`, `idle in transaction`, …); `None` when not visible to the inspecting
    /// role.
    pub state: Option<String>,
    /// Seconds since `xact_start`, when in a transaction.
    pub xact_age_s: Option<f64>,
    /// Seconds since `state_change`.
    pub state_age_s: Option<f64>,
    /// Seconds since `query_start`.
    pub query_age_s: Option<f64>,
    /// `query_start` as ISO 8601 (identifies a statement between samples).
    pub query_start: Option<String>,
    /// `xact_start` as ISO 8601 (identifies a transaction between samples).
    pub xact_start: Option<String>,
    /// `wait_event_type` (`Lock`, `LWLock`, `Client`, …).
    pub wait_event_type: Option<String>,
    /// `wait_event` (`relation`, `transactionid`, `tuple`, `advisory`, …).
    pub wait_event: Option<String>,
    /// `backend_xid`, when the transaction has one.
    pub xid: Option<String>,
    /// The current (or, when idle, the last) statement; `None` when not visible to the
    /// inspecting role (`<insufficient privilege>`).
    pub query: Option<String>,
}

impl Backend {
    /// Whether the session sits idle inside an open transaction (holding its locks while the
    /// application does something else).
    pub fn idle_in_transaction(&self) -> bool {
        matches!(
            self.state.as_deref(),
            Some("idle in transaction" | "idle in transaction (aborted)")
        )
    }

    /// Whether it waits for a heavyweight lock.
    pub fn waiting_for_lock(&self) -> bool {
        self.wait_event_type.as_deref() == Some("Lock")
    }
}

/// One row of `pg_locks`, with the relation named when it belongs to the inspected database
/// (or is a shared catalog).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldLock {
    /// Holding or requesting backend (`None` for prepared transactions).
    pub pid: Option<u32>,
    /// `locktype`: `relation`, `tuple`, `transactionid`, `virtualxid`, `advisory`, `object`,
    /// `extend`, `page`, …
    pub locktype: String,
    /// `database` OID (0 for shared objects).
    pub database: Option<u32>,
    /// `relation` OID.
    pub relation: Option<u32>,
    /// The relation's name, resolved in the inspected database.
    pub relation_name: Option<RelationName>,
    /// The relation's `pg_class.relkind` (`r` table, `i` index, `S` sequence, …), when named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation_kind: Option<String>,
    /// `page`.
    pub page: Option<i32>,
    /// `tuple`.
    pub tuple: Option<i32>,
    /// `virtualxid`.
    pub virtualxid: Option<String>,
    /// `transactionid`.
    pub transactionid: Option<String>,
    /// `classid`.
    pub classid: Option<u32>,
    /// `objid` (for advisory locks: the low key half, or the second int4 key).
    pub objid: Option<u32>,
    /// `objsubid` (for advisory locks: 1 for a bigint key, 2 for two int4 keys).
    pub objsubid: Option<i32>,
    /// `virtualtransaction` of the holder or requester.
    pub virtualtransaction: Option<String>,
    /// `mode` (`RowExclusiveLock`, `ShareLock`, `ExclusiveLock`, …).
    pub mode: String,
    /// Whether held (`true`) or awaited (`false`).
    pub granted: bool,
    /// `waitstart` (PostgreSQL 14+) as ISO 8601, for awaited locks.
    pub waitstart: Option<String>,
}

impl HeldLock {
    /// Whether two rows are about the same lockable object (the lock tag fields match).
    pub fn same_object(&self, other: &HeldLock) -> bool {
        self.locktype == other.locktype
            && self.database == other.database
            && self.relation == other.relation
            && self.page == other.page
            && self.tuple == other.tuple
            && self.virtualxid == other.virtualxid
            && self.transactionid == other.transactionid
            && self.classid == other.classid
            && self.objid == other.objid
            && self.objsubid == other.objsubid
    }

    /// Whether the lock is on an index (`relkind` `i` or `I`): indexes are locked along with
    /// their table, so summaries leave them out.
    pub fn on_index(&self) -> bool {
        matches!(self.relation_kind.as_deref(), Some("i" | "I"))
    }

    /// The table-level mode, for `relation` locks.
    pub fn table_mode(&self) -> Option<TableLockMode> {
        if self.locktype == "relation" {
            TableLockMode::parse(&self.mode)
        } else {
            None
        }
    }

    /// Whether this lock's mode conflicts with `other`'s mode on the same object. Heavyweight
    /// locks of every type share the table-level conflict table (transaction ids are locked in
    /// `ShareLock`/`ExclusiveLock`, advisory locks in `ShareLock`/`ExclusiveLock`, tuples in the
    /// four row-lock spellings mapped onto it by the server).
    pub fn conflicts_with(&self, other: &HeldLock) -> bool {
        match (
            TableLockMode::parse(&self.mode),
            TableLockMode::parse(&other.mode),
        ) {
            (Some(a), Some(b)) => a.conflicts_with(b),
            _ => true,
        }
    }

    /// The advisory key as `pg_advisory_lock` takes it: one bigint (`42`) or two int4 (`1,2`).
    pub fn advisory_key(&self) -> Option<String> {
        if self.locktype != "advisory" {
            return None;
        }
        let (hi, lo) = (self.classid?, self.objid?);
        Some(if self.objsubid == Some(2) {
            format!("{},{}", hi as i32, lo as i32)
        } else {
            (((hi as u64) << 32 | lo as u64) as i64).to_string()
        })
    }

    /// The object as PostgreSQL's messages describe it, with the relation's name when known:
    /// `relation orders`, `tuple (0,3) of relation orders`, `transaction 729`,
    /// `advisory lock 42`, `relation 16400 of database 16384`.
    pub fn describe(&self) -> String {
        DescribeLock(self).to_string()
    }
}

struct DescribeLock<'a>(&'a HeldLock);

impl fmt::Display for DescribeLock<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let l = self.0;
        let rel = |f: &mut fmt::Formatter<'_>| match (&l.relation_name, l.relation) {
            (Some(n), _) => write!(f, "relation {n}"),
            (None, Some(r)) => write!(f, "relation {r} of database {}", l.database.unwrap_or(0)),
            (None, None) => f.write_str("relation ?"),
        };
        match l.locktype.as_str() {
            "relation" => rel(f),
            "extend" => {
                f.write_str("extension of ")?;
                rel(f)
            }
            "page" => {
                write!(f, "page {} of ", l.page.unwrap_or(0))?;
                rel(f)
            }
            "tuple" => {
                write!(
                    f,
                    "tuple ({},{}) of ",
                    l.page.unwrap_or(0),
                    l.tuple.unwrap_or(0)
                )?;
                rel(f)
            }
            "transactionid" => write!(
                f,
                "transaction {}",
                l.transactionid.as_deref().unwrap_or("?")
            ),
            "virtualxid" => write!(
                f,
                "virtual transaction {}",
                l.virtualxid.as_deref().unwrap_or("?")
            ),
            "advisory" => write!(
                f,
                "advisory lock {}",
                l.advisory_key().unwrap_or_else(|| "?".into())
            ),
            "object" => write!(
                f,
                "object {} of class {} of database {}",
                l.objid.unwrap_or(0),
                l.classid.unwrap_or(0),
                l.database.unwrap_or(0)
            ),
            // InnoDB's two lock types (lockgraph_mysql): `table shop.orders`,
            // `record (page 3, heap no 2) of table shop.orders`.
            "TABLE" | "RECORD" => {
                let table = l.relation_name.as_ref().map_or("?", |n| n.as_str());
                match (l.locktype.as_str(), l.page, l.tuple) {
                    ("TABLE", ..) => write!(f, "table {table}"),
                    (_, Some(p), Some(h)) => {
                        write!(f, "record (page {p}, heap no {h}) of table {table}")
                    }
                    _ => write!(f, "record of table {table}"),
                }
            }
            other => write!(f, "{other} lock"),
        }
    }
}

impl LockSnapshot {
    /// The backend with this pid.
    pub fn backend(&self, pid: u32) -> Option<&Backend> {
        self.backends.iter().find(|b| b.pid == pid)
    }

    /// The locks a backend holds or awaits.
    pub fn locks_of(&self, pid: u32) -> impl Iterator<Item = &HeldLock> + '_ {
        self.locks.iter().filter(move |l| l.pid == Some(pid))
    }

    /// The relation a waiting backend is blocked on: its awaited lock's relation, or, for a row
    /// wait (`transaction N`), the relation of the tuple lock it holds while waiting.
    pub fn awaited_relation(&self, pid: u32) -> Option<&RelationName> {
        if let Some(n) = self.awaited_by(pid).and_then(|l| l.relation_name.as_ref()) {
            return Some(n);
        }
        self.locks_of(pid)
            .find(|l| l.granted && l.locktype == "tuple")
            .and_then(|l| l.relation_name.as_ref())
    }

    /// The lock a backend is waiting for (a backend waits for at most one).
    pub fn awaited_by(&self, pid: u32) -> Option<&HeldLock> {
        self.locks_of(pid).find(|l| !l.granted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(locktype: &str, mode: &str) -> HeldLock {
        HeldLock {
            locktype: locktype.into(),
            mode: mode.into(),
            granted: true,
            ..HeldLock::default()
        }
    }

    #[test]
    fn describes_like_the_server() {
        let mut l = lock("tuple", "ExclusiveLock");
        l.relation = Some(16400);
        l.database = Some(16384);
        l.page = Some(0);
        l.tuple = Some(3);
        assert_eq!(
            l.describe(),
            "tuple (0,3) of relation 16400 of database 16384"
        );
        l.relation_name = Some(RelationName::new("orders"));
        assert_eq!(l.describe(), "tuple (0,3) of relation orders");
        let mut t = lock("transactionid", "ShareLock");
        t.transactionid = Some("729".into());
        assert_eq!(t.describe(), "transaction 729");
    }

    #[test]
    fn advisory_keys_round_trip_both_forms() {
        let mut a = lock("advisory", "ExclusiveLock");
        // pg_advisory_lock(42): classid = high 32 bits, objid = low 32 bits, objsubid = 1.
        a.classid = Some(0);
        a.objid = Some(42);
        a.objsubid = Some(1);
        assert_eq!(a.advisory_key().as_deref(), Some("42"));
        // pg_advisory_lock(-1): all bits set.
        a.classid = Some(u32::MAX);
        a.objid = Some(u32::MAX);
        assert_eq!(a.advisory_key().as_deref(), Some("-1"));
        // pg_advisory_lock(1, 2): classid = key 1, objid = key 2, objsubid = 2.
        a.classid = Some(1);
        a.objid = Some(2);
        a.objsubid = Some(2);
        assert_eq!(a.advisory_key().as_deref(), Some("1,2"));
        assert_eq!(a.describe(), "advisory lock 1,2");
    }

    #[test]
    fn conflicts_follow_the_table_matrix() {
        let share = lock("transactionid", "ShareLock");
        let excl = lock("transactionid", "ExclusiveLock");
        assert!(share.conflicts_with(&excl));
        assert!(!share.conflicts_with(&share));
        let re = lock("relation", "RowExclusiveLock");
        assert!(!re.conflicts_with(&re));
        assert!(re.conflicts_with(&lock("relation", "AccessExclusiveLock")));
    }
}
