//! The rows read from the server ([`Rows`]) turned into a [`LockSnapshot`] — no I/O, so the
//! mapping is tested without a server, for both the MariaDB / MySQL 5.7 tables and MySQL 8's
//! performance_schema ones.
//!
//! | lockgraph | from |
//! |---|---|
//! | [`Backend`] `pid` | the connection id (`PROCESSLIST.ID` = `INNODB_TRX.trx_mysql_thread_id`) |
//! | `state` | `COMMAND`: `Query`/`Execute` → `active`; `Sleep` → `idle in transaction` when the connection has an InnoDB transaction, else `idle`; others lower-cased |
//! | `wait_event_type` / `wait_event` | `Lock` / `record` or `table` while `trx_state` is `LOCK WAIT` |
//! | `xid`, `xact_start`, `xact_age_s` | `trx_id`, `trx_started` |
//! | `query`, `query_age_s` | `PROCESSLIST.INFO` (else `trx_query`), `TIME_MS` / `TIME` of a running statement |
//! | [`HeldLock`] `locktype` | InnoDB's `RECORD` / `TABLE` |
//! | `mode` | InnoDB's mode verbatim: `X`, `S,GAP`, `X,REC_NOT_GAP`, `X,GAP,INSERT_INTENTION`, `IX`, `AUTO_INC` |
//! | `relation_name` | `db.table` |
//! | `page`, `tuple` | page number and heap number of a record (MariaDB / MySQL 5.7 only) |
//! | `objid` | the locked object, numbered within the snapshot (see below) |
//! | `granted` | MySQL 8: `LOCK_STATUS = 'GRANTED'`; MariaDB: not the lock its transaction waits for |
//! | [`BlockedBy`] | `INNODB_LOCK_WAITS` / `data_lock_waits`, by requesting connection |
//!
//! The wait-for analysis compares locks by their tag fields
//! ([`HeldLock::same_object`]); InnoDB's object is a table, or a record of an index (space,
//! page, heap number — or, on MySQL 8, table, index and key value). Lock ids must not be parsed
//! (the manuals say so), so each distinct object gets a number in `objid`; the key value itself
//! (`lock_data`, user data) is never stored.

use lockgraph_core::{Backend, BlockedBy, HeldLock, LockSnapshot, RelationName};
use std::collections::{BTreeMap, BTreeSet};

/// Everything one snapshot read, as plain values.
#[derive(Clone, Debug, Default)]
pub(crate) struct Rows {
    pub server: String,
    pub version_num: i32,
    pub taken_at: String,
    pub server_ms: f64,
    pub own_pid: u32,
    pub database: String,
    pub trx: Vec<TrxRow>,
    pub locks: Vec<LockRow>,
    pub waits: Vec<WaitRow>,
    pub procs: Vec<ProcRow>,
}

/// One row of `INNODB_TRX`.
#[derive(Clone, Debug, Default)]
pub(crate) struct TrxRow {
    pub trx_id: String,
    pub thread: u64,
    /// `RUNNING`, `LOCK WAIT`, `ROLLING BACK`, `COMMITTING`.
    pub state: String,
    pub started: Option<String>,
    pub age_s: Option<f64>,
    pub requested_lock_id: Option<String>,
    pub query: Option<String>,
}

/// One lock, from `INNODB_LOCKS` or `data_locks`.
#[derive(Clone, Debug, Default)]
pub(crate) struct LockRow {
    pub lock_id: String,
    pub trx_id: String,
    /// The connection, when the server said (MySQL 8 through `performance_schema.threads`).
    pub thread: Option<u64>,
    pub mode: String,
    /// `RECORD` or `TABLE`.
    pub lock_type: String,
    /// `db.table`.
    pub table: Option<String>,
    /// What identifies the locked object among this snapshot's locks (type, table, index and
    /// position or key).
    pub object: String,
    pub page: Option<u32>,
    pub rec: Option<u32>,
    /// MySQL 8 says; MariaDB / MySQL 5.7 do not (`None`).
    pub granted: Option<bool>,
    /// When its transaction started waiting, for a waiting lock.
    pub wait_started: Option<String>,
}

/// One row of `INNODB_LOCK_WAITS` or `data_lock_waits`.
#[derive(Clone, Debug, Default)]
pub(crate) struct WaitRow {
    pub requesting_trx: String,
    pub requested_lock: String,
    pub blocking_trx: String,
    /// The connections, when the server said (MySQL 8).
    pub requesting_thread: Option<u64>,
    pub blocking_thread: Option<u64>,
}

/// One row of the process list.
#[derive(Clone, Debug, Default)]
pub(crate) struct ProcRow {
    pub id: u64,
    pub user: Option<String>,
    pub host: Option<String>,
    pub db: Option<String>,
    pub command: String,
    /// Seconds in the current command.
    pub time_s: Option<f64>,
    /// When the running statement started (ISO 8601), for `Query` / `Execute`.
    pub query_start: Option<String>,
    pub info: Option<String>,
}

/// A connection id as lockgraph's pid; 0 (a transaction without a connection, such as a
/// recovered XA transaction) and ids past `u32` have none.
fn pid(thread: u64) -> Option<u32> {
    u32::try_from(thread).ok().filter(|&p| p != 0)
}

/// `` `db`.`t` `` (InnoDB's spelling in `INNODB_LOCKS.lock_table`, possibly followed by a
/// partition comment) as `db.t`.
pub(crate) fn unquote_table(written: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut chars = written.trim().chars().peekable();
    loop {
        match chars.peek() {
            Some('`') => {
                chars.next();
                let mut part = String::new();
                while let Some(c) = chars.next() {
                    if c == '`' {
                        if chars.peek() == Some(&'`') {
                            chars.next();
                            part.push('`');
                        } else {
                            break;
                        }
                    } else {
                        part.push(c);
                    }
                }
                parts.push(part);
            }
            Some(c) if !c.is_whitespace() && *c != '.' && *c != '/' => {
                let mut part = String::new();
                while let Some(&c) = chars.peek() {
                    if c == '.' || c.is_whitespace() {
                        break;
                    }
                    part.push(c);
                    chars.next();
                }
                parts.push(part);
            }
            _ => break,
        }
        if chars.peek() == Some(&'.') {
            chars.next();
        } else {
            break;
        }
    }
    parts.join(".")
}

/// Builds the snapshot.
pub(crate) fn assemble(rows: Rows) -> LockSnapshot {
    let trx_by_id: BTreeMap<&str, &TrxRow> =
        rows.trx.iter().map(|t| (t.trx_id.as_str(), t)).collect();
    let thread_of = |trx_id: &str, fallback: Option<u64>| -> Option<u32> {
        trx_by_id
            .get(trx_id)
            .and_then(|t| pid(t.thread))
            .or_else(|| fallback.and_then(pid))
    };

    // The locks each transaction waits for: (trx id, lock id).
    let mut requested: BTreeSet<(&str, &str)> = rows
        .waits
        .iter()
        .map(|w| (w.requesting_trx.as_str(), w.requested_lock.as_str()))
        .collect();
    for t in &rows.trx {
        if let Some(l) = &t.requested_lock_id {
            requested.insert((t.trx_id.as_str(), l.as_str()));
        }
    }

    let mut objects: BTreeMap<&str, u32> = BTreeMap::new();
    let mut locks = Vec::with_capacity(rows.locks.len());
    // A transaction may hold one lock and wait for another on the same record, under one lock
    // id; only the first row of a requested id is the waiting one.
    let mut waiting_marked: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut seen_ids: BTreeSet<(&str, &str, &str)> = BTreeSet::new();
    for l in &rows.locks {
        if !seen_ids.insert((&l.trx_id, &l.lock_id, &l.mode)) {
            continue;
        }
        let granted = match l.granted {
            Some(g) => g,
            None => {
                let key = (l.trx_id.as_str(), l.lock_id.as_str());
                !(requested.contains(&key) && waiting_marked.insert(key))
            }
        };
        let next = objects.len() as u32 + 1;
        let objid = *objects.entry(l.object.as_str()).or_insert(next);
        let waitstart = if granted {
            None
        } else {
            l.wait_started.clone()
        };
        locks.push(HeldLock {
            pid: thread_of(&l.trx_id, l.thread),
            locktype: l.lock_type.clone(),
            relation_name: l.table.as_deref().map(RelationName::new),
            page: l.page.map(|p| p as i32),
            tuple: l.rec.map(|r| r as i32),
            objid: Some(objid),
            mode: l.mode.clone(),
            granted,
            waitstart,
            ..HeldLock::default()
        });
    }

    // pg_blocking_pids() per waiting connection, in the server's order, each blocker once.
    let mut blocked_by: Vec<BlockedBy> = Vec::new();
    for w in &rows.waits {
        let (Some(waiter), Some(blocker)) = (
            thread_of(&w.requesting_trx, w.requesting_thread),
            thread_of(&w.blocking_trx, w.blocking_thread),
        ) else {
            continue;
        };
        if waiter == blocker {
            continue;
        }
        match blocked_by.iter_mut().find(|b| b.pid == waiter) {
            Some(b) if !b.blockers.contains(&blocker) => b.blockers.push(blocker),
            Some(_) => {}
            None => blocked_by.push(BlockedBy {
                pid: waiter,
                blockers: vec![blocker],
            }),
        }
    }

    let trx_by_thread: BTreeMap<u32, &TrxRow> = rows
        .trx
        .iter()
        .filter_map(|t| pid(t.thread).map(|p| (p, t)))
        .collect();
    let waited_type = |p: u32| -> String {
        locks
            .iter()
            .find(|l| l.pid == Some(p) && !l.granted)
            .map_or_else(|| "lock".to_string(), |l| l.locktype.to_lowercase())
    };
    let mut backends = Vec::new();
    for pr in &rows.procs {
        let Some(p) = pid(pr.id) else { continue };
        if p == rows.own_pid {
            continue;
        }
        let trx = trx_by_thread.get(&p).copied();
        let running = matches!(pr.command.as_str(), "Query" | "Execute");
        let state = match pr.command.as_str() {
            "Query" | "Execute" => "active".to_string(),
            "Sleep" if trx.is_some() => "idle in transaction".to_string(),
            "Sleep" => "idle".to_string(),
            other => other.to_lowercase(),
        };
        let background = pr.command == "Daemon"
            || matches!(pr.user.as_deref(), Some("system user" | "event_scheduler"));
        let mut b = Backend {
            pid: p,
            user: pr.user.clone(),
            database: pr.db.clone(),
            application: String::new(),
            client: pr.host.clone().filter(|h| !h.is_empty()),
            backend_type: if background {
                "background worker".into()
            } else {
                "client backend".into()
            },
            state: Some(state),
            state_age_s: pr.time_s,
            query_age_s: if running { pr.time_s } else { None },
            query_start: if running {
                pr.query_start.clone()
            } else {
                None
            },
            query: pr
                .info
                .clone()
                .or_else(|| trx.and_then(|t| t.query.clone())),
            ..Backend::default()
        };
        if let Some(t) = trx {
            fill_trx(&mut b, t, &waited_type);
        }
        backends.push(b);
    }
    // Transactions whose connection the process list did not show (it ended between the reads,
    // or the login lacks PROCESS and sees only its own connections).
    for (&p, t) in &trx_by_thread {
        if p == rows.own_pid || backends.iter().any(|b| b.pid == p) {
            continue;
        }
        let mut b = Backend {
            pid: p,
            backend_type: "client backend".into(),
            query: t.query.clone(),
            ..Backend::default()
        };
        fill_trx(&mut b, t, &waited_type);
        backends.push(b);
    }
    backends.sort_by_key(|b| b.pid);

    LockSnapshot {
        server: rows.server,
        server_version_num: rows.version_num,
        taken_at: rows.taken_at,
        server_ms: rows.server_ms,
        own_pid: rows.own_pid,
        database: rows.database,
        backends,
        locks,
        blocked_by,
        hidden_sessions: 0,
        engine: lockgraph_core::Engine::Mysql,
    }
}

fn fill_trx(b: &mut Backend, t: &TrxRow, waited_type: &impl Fn(u32) -> String) {
    b.xid = Some(t.trx_id.clone());
    b.xact_start = t.started.clone();
    b.xact_age_s = t.age_s;
    if t.state == "LOCK WAIT" {
        b.wait_event_type = Some("Lock".into());
        b.wait_event = Some(waited_type(b.pid));
    }
}

/// `10.11.19-MariaDB-0+deb12u1` → 101119, `8.0.36` → 80036 (MySQL's `MYSQL_VERSION_ID`
/// numbering); 0 when unreadable.
pub(crate) fn version_num(version: &str) -> i32 {
    let mut nums = version
        .split(|c: char| !c.is_ascii_digit())
        .take(3)
        .map(|n| n.parse::<i32>().unwrap_or(0));
    let (a, b, c) = (
        nums.next().unwrap_or(0),
        nums.next().unwrap_or(0),
        nums.next().unwrap_or(0),
    );
    a * 10000 + b.min(99) * 100 + c.min(99)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trx(id: &str, thread: u64, state: &str, requested: Option<&str>) -> TrxRow {
        TrxRow {
            trx_id: id.into(),
            thread,
            state: state.into(),
            started: Some("2026-01-01T00:00:00Z".into()),
            age_s: Some(3.0),
            requested_lock_id: requested.map(Into::into),
            query: None,
        }
    }

    fn proc(id: u64, command: &str, info: Option<&str>) -> ProcRow {
        ProcRow {
            id,
            user: Some("app".into()),
            host: Some("10.0.0.5:41000".into()),
            db: Some("shop".into()),
            command: command.into(),
            time_s: Some(2.5),
            query_start: Some("2026-01-01T00:00:01Z".into()),
            info: info.map(Into::into),
        }
    }

    /// MariaDB's rows for: 10 updated row 1 and sits idle; 11 and 12 update it too and wait.
    fn mariadb_chain() -> Rows {
        let rec = |id: &str, trx: &str| LockRow {
            lock_id: id.into(),
            trx_id: trx.into(),
            mode: "X".into(),
            lock_type: "RECORD".into(),
            table: Some(unquote_table("`shop`.`orders`")),
            object: "RECORD shop.orders PRIMARY 5:3:2".into(),
            page: Some(3),
            rec: Some(2),
            ..LockRow::default()
        };
        Rows {
            server: "mariadb://root@db:3306/shop".into(),
            version_num: version_num("10.11.19-MariaDB"),
            own_pid: 99,
            trx: vec![
                trx("25", 12, "LOCK WAIT", Some("25:5:3:2")),
                trx("24", 11, "LOCK WAIT", Some("24:5:3:2")),
                trx("23", 10, "RUNNING", None),
            ],
            locks: vec![
                rec("25:5:3:2", "25"),
                rec("24:5:3:2", "24"),
                rec("23:5:3:2", "23"),
            ],
            waits: vec![
                WaitRow {
                    requesting_trx: "25".into(),
                    requested_lock: "25:5:3:2".into(),
                    blocking_trx: "24".into(),
                    ..WaitRow::default()
                },
                WaitRow {
                    requesting_trx: "25".into(),
                    requested_lock: "25:5:3:2".into(),
                    blocking_trx: "23".into(),
                    ..WaitRow::default()
                },
                WaitRow {
                    requesting_trx: "24".into(),
                    requested_lock: "24:5:3:2".into(),
                    blocking_trx: "23".into(),
                    ..WaitRow::default()
                },
            ],
            procs: vec![
                proc(
                    99,
                    "Query",
                    Some("SELECT … FROM information_schema.INNODB_TRX"),
                ),
                proc(10, "Sleep", None),
                proc(11, "Query", Some("update orders set n = 2 where id = 1")),
                proc(
                    12,
                    "Query",
                    Some("select * from orders where id = 1 for update"),
                ),
                proc(13, "Sleep", None),
            ],
            ..Rows::default()
        }
    }

    #[test]
    fn mariadb_rows_make_the_blocking_tree() {
        let s = assemble(mariadb_chain());
        assert_eq!(s.server_version_num, 101119);
        // The inspecting connection is left out; 13 is idle without a transaction.
        assert_eq!(
            s.backends.iter().map(|b| b.pid).collect::<Vec<_>>(),
            [10, 11, 12, 13]
        );
        let b = |p| s.backend(p).unwrap();
        assert_eq!(b(10).state.as_deref(), Some("idle in transaction"));
        assert!(b(10).idle_in_transaction() && !b(10).waiting_for_lock());
        assert_eq!(b(10).query_age_s, None);
        assert_eq!(b(13).state.as_deref(), Some("idle"));
        assert_eq!(b(13).xid, None);
        assert!(b(11).waiting_for_lock());
        assert_eq!(b(11).wait_event.as_deref(), Some("record"));
        assert_eq!(b(11).xid.as_deref(), Some("24"));
        assert_eq!(b(11).query_age_s, Some(2.5));
        // Granted: only the holder's lock; all three on one object.
        let granted: Vec<(Option<u32>, bool)> =
            s.locks.iter().map(|l| (l.pid, l.granted)).collect();
        assert_eq!(
            granted,
            [(Some(12), false), (Some(11), false), (Some(10), true)]
        );
        assert!(s.locks[0].same_object(&s.locks[2]));
        assert_eq!(
            s.locks[0].describe(),
            "record (page 3, heap no 2) of table shop.orders"
        );
        assert_eq!(
            s.locks[0].relation_name.as_ref().unwrap().as_str(),
            "shop.orders"
        );
        assert_eq!(
            s.blocked_by,
            [
                BlockedBy {
                    pid: 12,
                    blockers: vec![11, 10]
                },
                BlockedBy {
                    pid: 11,
                    blockers: vec![10]
                }
            ]
        );
        let g = lockgraph_graph::WaitGraph::build(&s);
        assert_eq!(g.roots(), [10]);
        let tree = g.tree(10);
        let children: Vec<u32> = tree.children.iter().map(|c| c.pid).collect();
        assert_eq!(children, [11, 12]);
        assert_eq!(tree.children[1].also_blocked_by, [11]);
        // 12 → 10 is hard (10 holds the record), 12 → 11 soft (11 only asks for it).
        let kinds: Vec<_> = g.blockers_of(12).map(|e| (e.blocker, e.kind)).collect();
        assert_eq!(
            kinds,
            [
                (10, lockgraph_graph::WaitKind::Hard),
                (11, lockgraph_graph::WaitKind::Soft)
            ]
        );
    }

    /// MySQL 8's rows (performance_schema.data_locks / data_lock_waits, shaped as the manual's
    /// examples): the lock status is given, lock ids are opaque, threads come from the join.
    #[test]
    fn mysql8_rows_make_the_blocking_tree() {
        let rec = |id: &str, trx: &str, thread: u64, mode: &str, granted: bool| LockRow {
            lock_id: id.into(),
            trx_id: trx.into(),
            thread: Some(thread),
            mode: mode.into(),
            lock_type: "RECORD".into(),
            table: Some("test.t".into()),
            object: "RECORD test.t  PRIMARY 1".into(),
            granted: Some(granted),
            ..LockRow::default()
        };
        let rows = Rows {
            own_pid: 7,
            // INNODB_TRX read a moment earlier and missed transaction 2051.
            trx: vec![trx("2050", 21, "RUNNING", None)],
            locks: vec![
                rec("1:5:4:2:a", "2050", 21, "X,REC_NOT_GAP", true),
                rec("2:5:4:2:b", "2051", 22, "X,REC_NOT_GAP", false),
            ],
            waits: vec![WaitRow {
                requesting_trx: "2051".into(),
                requested_lock: "2:5:4:2:b".into(),
                blocking_trx: "2050".into(),
                requesting_thread: Some(22),
                blocking_thread: Some(21),
            }],
            procs: vec![
                proc(21, "Sleep", None),
                proc(22, "Query", Some("UPDATE t SET c = 1 WHERE id = 1")),
            ],
            ..Rows::default()
        };
        let s = assemble(rows);
        assert_eq!(s.locks[1].pid, Some(22));
        assert!(!s.locks[1].granted && s.locks[0].granted);
        assert_eq!(s.locks[0].page, None);
        assert_eq!(s.locks[0].describe(), "record of table test.t");
        let g = lockgraph_graph::WaitGraph::build(&s);
        assert_eq!(g.roots(), [21]);
        assert_eq!(g.edges[0].kind, lockgraph_graph::WaitKind::Hard);
        assert_eq!(s.awaited_by(22).unwrap().mode, "X,REC_NOT_GAP");
        // Without INNODB_TRX's row, 22 has no transaction facts but still a state.
        assert_eq!(s.backend(22).unwrap().state.as_deref(), Some("active"));
    }

    #[test]
    fn distinct_objects_are_distinct() {
        let mut rows = mariadb_chain();
        rows.locks[2].object = "RECORD shop.orders PRIMARY 5:3:3".into();
        let s = assemble(rows);
        assert!(s.locks[0].same_object(&s.locks[1]));
        assert!(!s.locks[0].same_object(&s.locks[2]));
    }

    #[test]
    fn names_and_versions() {
        assert_eq!(unquote_table("`test`.`lgx_t`"), "test.lgx_t");
        assert_eq!(unquote_table("`we``ird`.`a.b`"), "we`ird.a.b");
        assert_eq!(unquote_table("`test`.`t` /* Partition `p1` */"), "test.t");
        assert_eq!(unquote_table("test.t"), "test.t");
        assert_eq!(version_num("8.0.36"), 80036);
        assert_eq!(version_num("5.7.44-log"), 50744);
        assert_eq!(version_num("11.4.2-MariaDB-ubu2404"), 110402);
        assert_eq!(version_num("garbage"), 0);
    }

    #[test]
    fn connection_ids_outside_u32_or_zero_are_not_pids() {
        assert_eq!(pid(0), None);
        assert_eq!(pid(u64::from(u32::MAX) + 1), None);
        assert_eq!(pid(42), Some(42));
    }
}
