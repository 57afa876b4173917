//! Reading a server's lock state: [`take_snapshot`] (everything, one round trip) and
//! [`locks_of_backend`] (one backend's `pg_locks` rows, for `trace`).
//!
//! Both read only `pg_locks`, `pg_stat_activity`, `pg_blocking_pids()` and the catalogs that
//! name relations. Reading `pg_locks` takes the lock manager's partition LWLocks for a moment,
//! never a heavyweight lock, so the inspected sessions cannot queue behind lockgraph. Relations
//! are named with a join on `pg_class` (an `AccessShareLock` on the catalog only) and only when
//! the lock belongs to the connected database or is a shared catalog: OIDs of other databases
//! mean other relations.

use crate::Error;
use crate::connect::query_error;
use lockgraph_core::{Backend, BlockedBy, HeldLock, LockSnapshot, RelationName};
use serde::Deserialize;
use std::time::SystemTime;
use tokio_postgres::Client;

/// The `pg_locks` columns named like [`HeldLock`]'s fields, with the relation's schema, name and
/// kind. `SOURCE` is `pg_catalog.pg_locks` or a CTE of it, `FILTER` a condition on its rows.
const LOCK_ROWS: &str = "\
SELECT l.pid, l.locktype, l.database::int8 AS database, l.relation::int8 AS relation, \
       n.nspname::text AS nspname, c.relname::text AS relname, c.relkind::text AS relkind, \
       l.page, l.tuple::int4 AS tuple, l.virtualxid, l.transactionid::text AS transactionid, \
       l.classid::int8 AS classid, l.objid::int8 AS objid, l.objsubid::int4 AS objsubid, \
       l.virtualtransaction, l.mode, l.granted, WAITSTART AS waitstart \
FROM SOURCE l \
LEFT JOIN pg_catalog.pg_class c ON c.oid = l.relation \
     AND l.database IN (0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())) \
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
WHERE FILTER";

/// `waitstart` exists from PostgreSQL 14.
fn lock_rows_sql(version_num: i32, source: &str, filter: &str) -> String {
    let waitstart = if version_num >= 140000 {
        "to_char(l.waitstart AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    } else {
        "NULL::text"
    };
    LOCK_ROWS
        .replace("WAITSTART", waitstart)
        .replace("SOURCE", source)
        .replace("FILTER", filter)
}

/// The snapshot query for a server of `version_num` (what `lockgraph live` runs, for anyone
/// who wants to read it): one statement, one row, one array per column.
///
/// Column-wise arrays, because the server encodes them in binary almost for free: building JSON
/// (`json_agg` of the `pg_locks` rows) cost 19 of 31 ms server time with 1,000 sessions holding
/// 6,700 locks (`scripts/bench-live.sh`). `pg_stat_activity` is read once (`sa`) and
/// `pg_blocking_pids()` runs only for sessions waiting for a heavyweight lock.
pub fn snapshot_sql(version_num: i32) -> String {
    let iso = |col: &str| {
        format!("to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
    };
    let agg = |cols: &[&str], prefix: &str| {
        cols.iter()
            .map(|c| format!("array_agg({c}) AS {prefix}{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "WITH sa AS MATERIALIZED (SELECT * FROM pg_catalog.pg_stat_activity), \
         me AS (SELECT oid::int8 AS db_oid FROM pg_catalog.pg_database WHERE datname = current_database()), \
         raw AS MATERIALIZED (SELECT * FROM pg_catalog.pg_locks), \
         locks AS MATERIALIZED ( \
           SELECT l.pid, l.locktype, l.database::int8 AS database, l.relation::int8 AS relation, \
                  l.page, l.tuple::int4 AS tuple, l.virtualxid, l.transactionid::text AS transactionid, \
                  l.classid::int8 AS classid, l.objid::int8 AS objid, l.objsubid::int4 AS objsubid, \
                  l.virtualtransaction, l.mode, l.granted, {waitstart} AS waitstart \
           FROM raw l WHERE {filter}), \
         rels AS ( \
           SELECT c.oid::int8 AS oid, n.nspname::text AS nspname, c.relname::text AS relname, \
                  c.relkind::text AS relkind \
           FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
           WHERE c.oid IN (SELECT relation FROM locks WHERE database IN (0, (SELECT db_oid FROM me)))), \
         activity AS ( \
           SELECT a.pid::int8 AS pid, a.usename::text AS usr, a.datname::text AS database, \
                  coalesce(a.application_name, '') AS application, \
                  host(a.client_addr) AS client, coalesce(a.backend_type, '') AS backend_type, \
                  a.state, a.state_change, a.query_start, a.xact_start, \
                  a.wait_event_type, a.wait_event, \
                  a.backend_xid::text AS xid, \
                  CASE WHEN a.query = '<insufficient privilege>' THEN NULL ELSE a.query END AS query \
           FROM sa a \
           WHERE a.pid <> pg_catalog.pg_backend_pid() \
             AND (a.backend_type = 'client backend' OR a.xact_start IS NOT NULL \
                  OR a.pid IN (SELECT pid FROM locks WHERE pid IS NOT NULL))), \
         blocked AS ( \
           SELECT s.pid::int8 AS pid, b.blocker::int8 AS blocker, b.ord \
           FROM sa s CROSS JOIN LATERAL \
                unnest(pg_catalog.pg_blocking_pids(s.pid)) WITH ORDINALITY AS b(blocker, ord) \
           WHERE s.wait_event_type = 'Lock') \
         SELECT clock_timestamp() AS taken_at, pg_catalog.pg_backend_pid() AS own_pid, \
                current_database()::text AS database, (SELECT db_oid FROM me) AS db_oid, \
                l.*, r.*, a.*, b.*, \
                (SELECT count(*) FROM sa \
                  WHERE query = '<insufficient privilege>' AND usename IS NOT NULL)::int4 AS hidden, \
                {server_ms} AS server_ms \
         FROM (SELECT {lock_cols} FROM locks) l, \
              (SELECT array_agg(oid) AS r_oid, array_agg(nspname) AS r_nspname, \
                      array_agg(relname) AS r_relname, array_agg(relkind) AS r_relkind FROM rels) r, \
              (SELECT {activity_cols} FROM activity) a, \
              (SELECT array_agg(pid ORDER BY pid, ord) AS b_pid, \
                      array_agg(blocker ORDER BY pid, ord) AS b_blocker FROM blocked) b",
        waitstart = if version_num >= 140000 {
            iso("l.waitstart")
        } else {
            "NULL::text".to_string()
        },
        filter = AWAITED_OR_NOT_XID,
        lock_cols = agg(LOCK_COLUMNS, "l_"),
        activity_cols = agg(ACTIVITY_COLUMNS, "a_"),
        server_ms =
            "(extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000)::float8",
    )
}

/// Every lock except the transaction-id and virtual-transaction-id locks each transaction holds
/// on itself, unless someone waits for them: with 1,000 sessions in transactions they were a
/// sixth of all rows, and only an awaited one says who blocks whom.
const AWAITED_OR_NOT_XID: &str = "NOT l.granted OR l.locktype NOT IN ('transactionid', 'virtualxid') \
     OR (l.locktype, coalesce(l.transactionid::text, l.virtualxid)) IN \
        (SELECT w.locktype, coalesce(w.transactionid::text, w.virtualxid) FROM raw w WHERE NOT w.granted)";

/// The columns of the `locks` part of the snapshot query (relations are named once per OID, in
/// `rels`: joining `pg_class` per lock row and aggregating the names doubled the cost of the
/// lock columns).
const LOCK_COLUMNS: &[&str] = &[
    "pid",
    "locktype",
    "database",
    "relation",
    "page",
    "tuple",
    "virtualxid",
    "transactionid",
    "classid",
    "objid",
    "objsubid",
    "virtualtransaction",
    "mode",
    "granted",
    "waitstart",
];

/// The columns of the `activity` part of the snapshot query.
const ACTIVITY_COLUMNS: &[&str] = &[
    "pid",
    "usr",
    "database",
    "application",
    "client",
    "backend_type",
    "state",
    "state_change",
    "query_start",
    "xact_start",
    "wait_event_type",
    "wait_event",
    "xid",
    "query",
];

/// One column of the snapshot row: an array (NULL when no row matched) of nullable values.
fn column<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a tokio_postgres::Row,
    name: &str,
) -> Result<Vec<Option<T>>, Error> {
    row.try_get::<_, Option<Vec<Option<T>>>>(name)
        .map(Option::unwrap_or_default)
        .map_err(|e| Error::Query {
            context: format!("reading snapshot column {name}"),
            sqlstate: None,
            message: crate::connect::describe(&e),
        })
}

/// A `pg_locks` row as the query returns it.
#[derive(Deserialize)]
struct LockRow {
    pid: Option<i64>,
    locktype: String,
    database: Option<i64>,
    relation: Option<i64>,
    nspname: Option<String>,
    relname: Option<String>,
    relkind: Option<String>,
    page: Option<i32>,
    tuple: Option<i32>,
    virtualxid: Option<String>,
    transactionid: Option<String>,
    classid: Option<i64>,
    objid: Option<i64>,
    objsubid: Option<i32>,
    virtualtransaction: Option<String>,
    mode: Option<String>,
    granted: bool,
    waitstart: Option<String>,
}

impl From<LockRow> for HeldLock {
    fn from(r: LockRow) -> HeldLock {
        let oid = |v: Option<i64>| v.and_then(|v| u32::try_from(v).ok());
        let relation_name = match (&r.nspname, &r.relname) {
            (Some(n), Some(c)) => Some(RelationName::from_parts([
                (n.as_str(), true),
                (c.as_str(), true),
            ])),
            _ => None,
        };
        HeldLock {
            pid: r.pid.and_then(|p| u32::try_from(p).ok()),
            locktype: r.locktype,
            database: oid(r.database),
            relation: oid(r.relation),
            relation_name,
            relation_kind: r.relkind,
            page: r.page,
            tuple: r.tuple,
            virtualxid: r.virtualxid,
            transactionid: r.transactionid,
            classid: oid(r.classid),
            objid: oid(r.objid),
            objsubid: r.objsubid,
            virtualtransaction: r.virtualtransaction,
            mode: r.mode.unwrap_or_default(),
            granted: r.granted,
            waitstart: r.waitstart,
        }
    }
}

fn pid(p: i64) -> u32 {
    u32::try_from(p).unwrap_or(0)
}

fn parse_json<T: serde::de::DeserializeOwned>(
    what: &str,
    v: serde_json::Value,
) -> Result<T, Error> {
    serde_json::from_value(v).map_err(|e| Error::Query {
        context: format!("reading {what}"),
        sqlstate: None,
        message: format!("unexpected shape: {e}"),
    })
}

/// Takes one [`LockSnapshot`] over `client` (one statement, one round trip). `server` is what
/// the snapshot records as its origin (a redacted connection string).
pub(crate) async fn take_snapshot(
    client: &Client,
    version_num: i32,
    server: &str,
) -> Result<LockSnapshot, Error> {
    let row = client
        .query_one(&snapshot_sql(version_num), &[])
        .await
        .map_err(|e| query_error("reading pg_locks and pg_stat_activity", &e))?;
    let own_pid: i32 = row.get("own_pid");
    let oid = |v: Option<i64>| v.and_then(|v| u32::try_from(v).ok());
    let text = |name: &str| column::<String>(&row, name);
    let int8 = |name: &str| column::<i64>(&row, name);
    let int4 = |name: &str| column::<i32>(&row, name);

    let (l_pid, l_type, l_db, l_rel) = (
        int4("l_pid")?,
        text("l_locktype")?,
        int8("l_database")?,
        int8("l_relation")?,
    );
    // Relation names by OID, for locks in this database (or on shared catalogs).
    let db_oid: Option<i64> = row.get("db_oid");
    let (r_oid, r_nsp, r_name, r_kind) = (
        int8("r_oid")?,
        text("r_nspname")?,
        text("r_relname")?,
        text("r_relkind")?,
    );
    let mut names: std::collections::HashMap<i64, (RelationName, Option<String>)> =
        std::collections::HashMap::with_capacity(r_oid.len());
    for (i, o) in r_oid.iter().enumerate() {
        if let (Some(o), Some(Some(n)), Some(Some(c))) = (o, r_nsp.get(i), r_name.get(i)) {
            let name = RelationName::from_parts([(n.as_str(), true), (c.as_str(), true)]);
            names.insert(*o, (name, r_kind.get(i).cloned().flatten()));
        }
    }
    let (l_page, l_tuple, l_vxid, l_xid) = (
        int4("l_page")?,
        int4("l_tuple")?,
        text("l_virtualxid")?,
        text("l_transactionid")?,
    );
    let (l_class, l_obj, l_sub) = (int8("l_classid")?, int8("l_objid")?, int4("l_objsubid")?);
    let (l_vtx, l_mode, l_granted, l_wait) = (
        text("l_virtualtransaction")?,
        text("l_mode")?,
        column::<bool>(&row, "l_granted")?,
        text("l_waitstart")?,
    );
    let mut locks = Vec::with_capacity(l_pid.len());
    for (i, lock_pid) in l_pid.iter().enumerate() {
        let at = |v: &Vec<Option<String>>| v.get(i).cloned().flatten();
        let named = match (
            l_db.get(i).copied().flatten(),
            l_rel.get(i).copied().flatten(),
        ) {
            (Some(db), Some(rel)) if db == 0 || Some(db) == db_oid => names.get(&rel),
            _ => None,
        };
        let pid = lock_pid.and_then(|p| u32::try_from(p).ok());
        if pid == Some(own_pid as u32) {
            continue;
        }
        locks.push(HeldLock {
            pid,
            locktype: at(&l_type).unwrap_or_default(),
            database: oid(l_db.get(i).copied().flatten()),
            relation: oid(l_rel.get(i).copied().flatten()),
            relation_name: named.map(|(n, _)| n.clone()),
            relation_kind: named.and_then(|(_, k)| k.clone()),
            page: l_page.get(i).copied().flatten(),
            tuple: l_tuple.get(i).copied().flatten(),
            virtualxid: at(&l_vxid),
            transactionid: at(&l_xid),
            classid: oid(l_class.get(i).copied().flatten()),
            objid: oid(l_obj.get(i).copied().flatten()),
            objsubid: l_sub.get(i).copied().flatten(),
            virtualtransaction: at(&l_vtx),
            mode: at(&l_mode).unwrap_or_default(),
            granted: l_granted.get(i).copied().flatten().unwrap_or(false),
            waitstart: at(&l_wait),
        });
    }

    let a_pid = int8("a_pid")?;
    let (user, database, application, client_addr) = (
        text("a_usr")?,
        text("a_database")?,
        text("a_application")?,
        text("a_client")?,
    );
    // Timestamps come binary (`timestamptz`), ages are computed here from the server's clock
    // at the end of the statement: `to_char` and `extract` per session were a tenth of the
    // statement's time with 1,000 sessions.
    let taken_at: SystemTime = row.get("taken_at");
    let time = |name: &str| column::<SystemTime>(&row, name);
    let age = |t: Option<SystemTime>| {
        t.map(|t| taken_at.duration_since(t).unwrap_or_default().as_secs_f64())
    };
    let iso = |t: Option<SystemTime>| t.map(|t| humantime::format_rfc3339_micros(t).to_string());
    let (backend_type, state, state_change) = (
        text("a_backend_type")?,
        text("a_state")?,
        time("a_state_change")?,
    );
    let (query_start, xact_start, wait_type, wait_event, xid, query) = (
        time("a_query_start")?,
        time("a_xact_start")?,
        text("a_wait_event_type")?,
        text("a_wait_event")?,
        text("a_xid")?,
        text("a_query")?,
    );
    let backends = (0..a_pid.len())
        .map(|i| {
            let at = |v: &Vec<Option<String>>| v.get(i).cloned().flatten();
            let ts = |v: &Vec<Option<SystemTime>>| v.get(i).copied().flatten();
            Backend {
                pid: pid(a_pid[i].unwrap_or(0)),
                user: at(&user),
                database: at(&database),
                application: at(&application).unwrap_or_default(),
                client: at(&client_addr),
                backend_type: at(&backend_type).unwrap_or_default(),
                state: at(&state),
                xact_age_s: age(ts(&xact_start)),
                state_age_s: age(ts(&state_change)),
                query_age_s: age(ts(&query_start)),
                query_start: iso(ts(&query_start)),
                xact_start: iso(ts(&xact_start)),
                wait_event_type: at(&wait_type),
                wait_event: at(&wait_event),
                xid: at(&xid),
                query: at(&query),
            }
        })
        .collect();

    let (b_pid, b_blocker) = (int8("b_pid")?, int8("b_blocker")?);
    let mut blocked_by: Vec<BlockedBy> = Vec::new();
    for (w, b) in b_pid.iter().zip(&b_blocker) {
        let (w, b) = (pid(w.unwrap_or(0)), pid(b.unwrap_or(0)));
        match blocked_by.last_mut() {
            Some(last) if last.pid == w => last.blockers.push(b),
            _ => blocked_by.push(BlockedBy {
                pid: w,
                blockers: vec![b],
            }),
        }
    }

    Ok(LockSnapshot {
        server: server.to_string(),
        server_version_num: version_num,
        taken_at: humantime::format_rfc3339_micros(taken_at).to_string(),
        server_ms: row.get("server_ms"),
        own_pid: own_pid as u32,
        database: row.get("database"),
        locks,
        backends,
        blocked_by,
        hidden_sessions: row.get::<_, i32>("hidden") as u32,
        engine: lockgraph_core::Engine::Postgres,
    })
}

/// The `pg_locks` rows of one backend (`pid`), relations named, in a stable order (lock type,
/// relation name, mode). `trace` calls it after each statement of its own session.
pub(crate) async fn locks_of_backend(
    client: &Client,
    version_num: i32,
    pid: i32,
) -> Result<Vec<HeldLock>, Error> {
    let sql = format!(
        "SELECT coalesce(json_agg(x), '[]') FROM ({}) x",
        lock_rows_sql(
            version_num,
            "pg_catalog.pg_locks",
            &format!("l.pid = {pid}")
        )
    );
    let row = client
        .query_one(&sql, &[])
        .await
        .map_err(|e| query_error("reading pg_locks", &e))?;
    let rows: Vec<LockRow> = parse_json("pg_locks", row.get(0))?;
    let mut locks: Vec<HeldLock> = rows.into_iter().map(HeldLock::from).collect();
    locks.sort_by(|a, b| {
        (
            &a.locktype,
            a.relation_name.as_ref().map(|r| r.as_str()),
            &a.mode,
        )
            .cmp(&(
                &b.locktype,
                b.relation_name.as_ref().map(|r| r.as_str()),
                &b.mode,
            ))
    });
    Ok(locks)
}
