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
use tokio_postgres::Client;

/// The `pg_locks` columns as JSON objects named like [`HeldLock`]'s fields, with the relation's
/// schema and name. `$pid` is replaced by a filter on the backend, or `true`.
const LOCK_ROWS: &str = "\
SELECT l.pid, l.locktype, l.database::int8 AS database, l.relation::int8 AS relation, \
       n.nspname::text AS nspname, c.relname::text AS relname, c.relkind::text AS relkind, \
       l.page, l.tuple::int4 AS tuple, l.virtualxid, l.transactionid::text AS transactionid, \
       l.classid::int8 AS classid, l.objid::int8 AS objid, l.objsubid::int4 AS objsubid, \
       l.virtualtransaction, l.mode, l.granted, WAITSTART AS waitstart \
FROM pg_catalog.pg_locks l \
LEFT JOIN pg_catalog.pg_class c ON c.oid = l.relation \
     AND l.database IN (0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())) \
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
WHERE FILTER";

/// `waitstart` exists from PostgreSQL 14.
fn lock_rows_sql(version_num: i32, filter: &str) -> String {
    let waitstart = if version_num >= 140000 {
        "to_char(l.waitstart AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    } else {
        "NULL::text"
    };
    LOCK_ROWS
        .replace("WAITSTART", waitstart)
        .replace("FILTER", filter)
}

/// The snapshot query: one statement, one row, three JSON arrays.
fn snapshot_sql(version_num: i32) -> String {
    let iso = |col: &str| {
        format!("to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
    };
    let age = |col: &str| format!("extract(epoch FROM clock_timestamp() - {col})::float8");
    format!(
        "WITH locks AS ({locks}), \
         activity AS ( \
           SELECT a.pid, a.usename::text AS \"user\", a.datname::text AS database, \
                  coalesce(a.application_name, '') AS application, \
                  host(a.client_addr) AS client, coalesce(a.backend_type, '') AS backend_type, \
                  a.state, {xact_age} AS xact_age_s, {state_age} AS state_age_s, \
                  {query_age} AS query_age_s, {query_start} AS query_start, \
                  {xact_start} AS xact_start, a.wait_event_type, a.wait_event, \
                  a.backend_xid::text AS xid, \
                  CASE WHEN a.query = '<insufficient privilege>' THEN NULL ELSE a.query END AS query \
           FROM pg_catalog.pg_stat_activity a \
           WHERE a.pid <> pg_catalog.pg_backend_pid() \
             AND (a.backend_type = 'client backend' OR a.xact_start IS NOT NULL \
                  OR a.pid IN (SELECT pid FROM locks WHERE pid IS NOT NULL))), \
         blocked AS ( \
           SELECT a.pid, pg_catalog.pg_blocking_pids(a.pid) AS blockers \
           FROM pg_catalog.pg_stat_activity a WHERE a.wait_event_type = 'Lock') \
         SELECT {now} AS taken_at, pg_catalog.pg_backend_pid() AS own_pid, \
                current_database()::text AS database, \
                coalesce((SELECT json_agg(l) FROM locks l), '[]') AS locks, \
                coalesce((SELECT json_agg(a) FROM activity a), '[]') AS backends, \
                coalesce((SELECT json_agg(b) FROM blocked b), '[]') AS blocked_by, \
                (SELECT count(*) FROM pg_catalog.pg_stat_activity \
                  WHERE query = '<insufficient privilege>' AND usename IS NOT NULL)::int4 AS hidden, \
                {server_ms} AS server_ms",
        locks = lock_rows_sql(version_num, "true"),
        xact_age = age("a.xact_start"),
        state_age = age("a.state_change"),
        query_age = age("a.query_start"),
        query_start = iso("a.query_start"),
        xact_start = iso("a.xact_start"),
        now = iso("clock_timestamp()"),
        server_ms =
            "(extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000)::float8",
    )
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

#[derive(Deserialize)]
struct BackendRow {
    pid: i64,
    user: Option<String>,
    database: Option<String>,
    application: String,
    client: Option<String>,
    backend_type: String,
    state: Option<String>,
    xact_age_s: Option<f64>,
    state_age_s: Option<f64>,
    query_age_s: Option<f64>,
    query_start: Option<String>,
    xact_start: Option<String>,
    wait_event_type: Option<String>,
    wait_event: Option<String>,
    xid: Option<String>,
    query: Option<String>,
}

#[derive(Deserialize)]
struct BlockedRow {
    pid: i64,
    blockers: Vec<i64>,
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
    let locks: Vec<LockRow> = parse_json("pg_locks", row.get("locks"))?;
    let backends: Vec<BackendRow> = parse_json("pg_stat_activity", row.get("backends"))?;
    let blocked: Vec<BlockedRow> = parse_json("pg_blocking_pids", row.get("blocked_by"))?;
    let own_pid: i32 = row.get("own_pid");
    Ok(LockSnapshot {
        server: server.to_string(),
        server_version_num: version_num,
        taken_at: row.get("taken_at"),
        server_ms: row.get("server_ms"),
        own_pid: own_pid as u32,
        database: row.get("database"),
        locks: locks
            .into_iter()
            .map(HeldLock::from)
            .filter(|l| l.pid != Some(own_pid as u32))
            .collect(),
        backends: backends
            .into_iter()
            .map(|b| Backend {
                pid: pid(b.pid),
                user: b.user,
                database: b.database,
                application: b.application,
                client: b.client,
                backend_type: b.backend_type,
                state: b.state,
                xact_age_s: b.xact_age_s,
                state_age_s: b.state_age_s,
                query_age_s: b.query_age_s,
                query_start: b.query_start,
                xact_start: b.xact_start,
                wait_event_type: b.wait_event_type,
                wait_event: b.wait_event,
                xid: b.xid,
                query: b.query,
            })
            .collect(),
        hidden_sessions: row.get::<_, i32>("hidden") as u32,
        blocked_by: blocked
            .into_iter()
            .map(|b| BlockedBy {
                pid: pid(b.pid),
                blockers: b.blockers.into_iter().map(pid).collect(),
            })
            .collect(),
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
        lock_rows_sql(version_num, &format!("l.pid = {pid}"))
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
