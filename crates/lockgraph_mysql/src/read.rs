//! Reading the server: the read-only session, which tables each server has, and the queries.
//!
//! The session is made harmless before anything is read: `SET SESSION TRANSACTION READ ONLY`,
//! `innodb_lock_wait_timeout` and `lock_wait_timeout` of 1 s (so the session itself could never
//! queue for long behind a row or metadata lock), and a statement time limit
//! (`max_statement_time` on MariaDB, `max_execution_time` on MySQL). Then only plain `SELECT`s
//! on `information_schema` and `performance_schema` run, each its own autocommit statement.
//! Reading InnoDB's lock tables takes InnoDB's lock-system latch for a moment, as
//! `SHOW ENGINE INNODB STATUS` does, never a lock a transaction could wait for.

use crate::assemble::{LockRow, ProcRow, Rows, TrxRow, WaitRow, unquote_table, version_num};
use crate::error::describe;
use crate::{Error, Target};
use mysql::prelude::Queryable;
use mysql::{Conn, Row};
use std::time::Instant;

/// How long one statement of the snapshot may run on the server.
const STATEMENT_LIMIT_S: u32 = 10;

/// Which lock tables a server has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// MariaDB (every version with InnoDB's information_schema tables).
    MariaDb,
    /// MySQL 5.6 / 5.7: `information_schema.INNODB_LOCKS` and `INNODB_LOCK_WAITS`, like MariaDB.
    MySql57,
    /// MySQL 8.0 and later: `performance_schema.data_locks` and `data_lock_waits`.
    MySql8,
}

impl Flavor {
    /// From `SELECT VERSION()`.
    pub(crate) fn detect(version: &str) -> Flavor {
        if version.to_ascii_lowercase().contains("mariadb") {
            Flavor::MariaDb
        } else if version_num(version) >= 80000 {
            Flavor::MySql8
        } else {
            Flavor::MySql57
        }
    }
}

/// The session settings, before anything is read.
fn session_settings(flavor: Flavor) -> Vec<String> {
    let mut v = vec![
        "SET SESSION TRANSACTION READ ONLY".to_string(),
        "SET SESSION innodb_lock_wait_timeout = 1".to_string(),
        "SET SESSION lock_wait_timeout = 1".to_string(),
        // INNODB_TRX prints its times in the server's system time zone: read NOW() in it too.
        "SET SESSION time_zone = 'SYSTEM'".to_string(),
    ];
    v.push(match flavor {
        Flavor::MariaDb => format!("SET SESSION max_statement_time = {STATEMENT_LIMIT_S}"),
        // SELECTs only, in milliseconds (MySQL 5.7.8+).
        Flavor::MySql57 | Flavor::MySql8 => {
            format!(
                "SET SESSION max_execution_time = {}",
                STATEMENT_LIMIT_S * 1000
            )
        }
    });
    v
}

const ISO_S: &str = "'%Y-%m-%dT%H:%i:%sZ'";

/// `INNODB_TRX` (all servers; MySQL 8 still has it).
fn trx_sql() -> String {
    format!(
        "SELECT CAST(trx_id AS CHAR), trx_mysql_thread_id, trx_state, \
                DATE_FORMAT(CONVERT_TZ(trx_started, 'SYSTEM', '+00:00'), {ISO_S}), \
                TIMESTAMPDIFF(MICROSECOND, trx_started, NOW(6)) / 1000000, \
                trx_requested_lock_id, \
                DATE_FORMAT(CONVERT_TZ(trx_wait_started, 'SYSTEM', '+00:00'), {ISO_S}), \
                trx_query \
         FROM information_schema.INNODB_TRX"
    )
}

/// MariaDB / MySQL 5.7 locks: only those some transaction waits for or that block one.
/// `lock_data` (the key value: user data) is not read; space, page and heap number identify
/// the record.
const LOCKS_57: &str = "\
SELECT lock_id, CAST(lock_trx_id AS CHAR), lock_mode, lock_type, lock_table, lock_index, \
       lock_space, lock_page, lock_rec \
FROM information_schema.INNODB_LOCKS";

const WAITS_57: &str = "\
SELECT CAST(requesting_trx_id AS CHAR), requested_lock_id, CAST(blocking_trx_id AS CHAR) \
FROM information_schema.INNODB_LOCK_WAITS";

/// MySQL 8 locks: `data_locks` lists every lock of every transaction (one row per locked
/// record), so only the rows `data_lock_waits` names are read, through its lock ids (an indexed
/// lookup). The key value (`LOCK_DATA`) identifies the record; it is hashed on the server and
/// never stored.
const LOCKS_8: &str = "\
SELECT l.ENGINE_LOCK_ID, CAST(l.ENGINE_TRANSACTION_ID AS CHAR), l.LOCK_MODE, l.LOCK_TYPE, \
       l.OBJECT_SCHEMA, l.OBJECT_NAME, l.PARTITION_NAME, l.SUBPARTITION_NAME, l.INDEX_NAME, \
       l.LOCK_STATUS, SHA2(l.LOCK_DATA, 256), t.PROCESSLIST_ID \
FROM performance_schema.data_lock_waits w \
JOIN performance_schema.data_locks l \
  ON l.ENGINE = w.ENGINE AND l.ENGINE_LOCK_ID = w.REQUESTING_ENGINE_LOCK_ID \
LEFT JOIN performance_schema.threads t ON t.THREAD_ID = l.THREAD_ID \
WHERE w.ENGINE = 'INNODB' \
UNION \
SELECT l.ENGINE_LOCK_ID, CAST(l.ENGINE_TRANSACTION_ID AS CHAR), l.LOCK_MODE, l.LOCK_TYPE, \
       l.OBJECT_SCHEMA, l.OBJECT_NAME, l.PARTITION_NAME, l.SUBPARTITION_NAME, l.INDEX_NAME, \
       l.LOCK_STATUS, SHA2(l.LOCK_DATA, 256), t.PROCESSLIST_ID \
FROM performance_schema.data_lock_waits w \
JOIN performance_schema.data_locks l \
  ON l.ENGINE = w.ENGINE AND l.ENGINE_LOCK_ID = w.BLOCKING_ENGINE_LOCK_ID \
LEFT JOIN performance_schema.threads t ON t.THREAD_ID = l.THREAD_ID \
WHERE w.ENGINE = 'INNODB'";

const WAITS_8: &str = "\
SELECT CAST(w.REQUESTING_ENGINE_TRANSACTION_ID AS CHAR), w.REQUESTING_ENGINE_LOCK_ID, \
       CAST(w.BLOCKING_ENGINE_TRANSACTION_ID AS CHAR), rt.PROCESSLIST_ID, bt.PROCESSLIST_ID \
FROM performance_schema.data_lock_waits w \
LEFT JOIN performance_schema.threads rt ON rt.THREAD_ID = w.REQUESTING_THREAD_ID \
LEFT JOIN performance_schema.threads bt ON bt.THREAD_ID = w.BLOCKING_THREAD_ID \
WHERE w.ENGINE = 'INNODB'";

/// The process list; MariaDB has the time in milliseconds (`TIME_MS`), MySQL in seconds.
fn procs_sql(flavor: Flavor) -> String {
    let (secs, start) = match flavor {
        Flavor::MariaDb => (
            "TIME_MS / 1000",
            "UTC_TIMESTAMP(6) - INTERVAL ROUND(TIME_MS * 1000) MICROSECOND",
        ),
        Flavor::MySql57 | Flavor::MySql8 => ("TIME", "UTC_TIMESTAMP() - INTERVAL TIME SECOND"),
    };
    format!(
        "SELECT ID, USER, HOST, DB, COMMAND, {secs}, \
                CASE WHEN COMMAND IN ('Query', 'Execute') \
                     THEN DATE_FORMAT({start}, '%Y-%m-%dT%H:%i:%s.%fZ') END, \
                INFO \
         FROM information_schema.PROCESSLIST"
    )
}

/// Column `i` of a row as `T` (NULL as `None` when `T` is an `Option`).
fn col<T: mysql::prelude::FromValue>(row: &Row, i: usize) -> Result<T, String> {
    match row.get_opt::<T, usize>(i) {
        Some(Ok(v)) => Ok(v),
        Some(Err(e)) => Err(format!("column {}: {e}", i + 1)),
        None => Err(format!("column {} missing", i + 1)),
    }
}

/// Connects, sets the session up read-only, and reads everything.
pub(crate) fn read(target: &Target) -> Result<Rows, Error> {
    let name = target.to_string();
    let mut conn = Conn::new(target.opts().clone()).map_err(|e| Error::Connect {
        target: name.clone(),
        reason: describe(&e),
    })?;
    let q = |context: &str| {
        let target = name.clone();
        let context = context.to_string();
        move |e: mysql::Error| Error::Query {
            target,
            context,
            reason: describe(&e),
        }
    };
    let version: String = conn
        .query_first("SELECT VERSION()")
        .map_err(q("reading the version"))?
        .unwrap_or_default();
    let flavor = Flavor::detect(&version);
    if flavor != Flavor::MariaDb && version_num(&version) < 50600 {
        return Err(Error::Unsupported {
            target: name.clone(),
            reason: format!("MySQL {version} has no InnoDB lock tables (5.6 or later is needed)"),
        });
    }
    for s in session_settings(flavor) {
        conn.query_drop(&s).map_err(q(&format!("`{s}`")))?;
    }
    if flavor == Flavor::MySql8 {
        let on: Option<u32> = conn
            .query_first("SELECT @@performance_schema")
            .map_err(q("reading @@performance_schema"))?;
        if on != Some(1) {
            return Err(Error::Unsupported {
                target: name.clone(),
                reason: "performance_schema is OFF, so MySQL shows no lock waits \
                         (performance_schema.data_locks is empty); start the server with \
                         performance_schema=ON"
                    .into(),
            });
        }
    }
    let started = Instant::now();
    let meta: Option<(u64, Option<String>, String)> = conn
        .query_first(
            "SELECT CONNECTION_ID(), DATABASE(), \
             DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%dT%H:%i:%s.%fZ')",
        )
        .map_err(q("reading the connection id"))?;
    let (own, database, taken_at) = meta.unwrap_or_default();
    let bad = |what: &str| {
        let target = name.clone();
        let context = format!("reading {what}");
        move |reason: String| Error::Query {
            target,
            context,
            reason,
        }
    };

    let trx_rows: Vec<Row> = conn
        .query(trx_sql())
        .map_err(q("reading information_schema.INNODB_TRX"))?;
    let trx = trx_rows
        .iter()
        .map(|r| {
            Ok(TrxRow {
                trx_id: col(r, 0)?,
                thread: col(r, 1)?,
                state: col(r, 2)?,
                started: col(r, 3)?,
                age_s: col(r, 4)?,
                requested_lock_id: col(r, 5)?,
                query: col(r, 7)?,
            })
        })
        .collect::<Result<Vec<_>, String>>()
        .map_err(bad("information_schema.INNODB_TRX"))?;
    let wait_started: std::collections::BTreeMap<String, Option<String>> = trx_rows
        .iter()
        .filter_map(|r| Some((col(r, 0).ok()?, col(r, 6).ok()?)))
        .collect();

    let (locks, waits) = match flavor {
        Flavor::MariaDb | Flavor::MySql57 => {
            let locks = read_rows(
                &mut conn,
                &name,
                LOCKS_57,
                "information_schema.INNODB_LOCKS",
                |r| {
                    let lock_type: String = col(r, 3)?;
                    let written: String = col(r, 4)?;
                    let table = unquote_table(&written);
                    let index: Option<String> = col(r, 5)?;
                    let (space, page, rec): (Option<u32>, Option<u32>, Option<u32>) =
                        (col(r, 6)?, col(r, 7)?, col(r, 8)?);
                    let object = match (space, page, rec) {
                        (Some(s), Some(p), Some(h)) => format!("{lock_type} {s}:{p}:{h}"),
                        _ => format!("{lock_type} {written}\0{}", index.as_deref().unwrap_or("")),
                    };
                    let trx_id: String = col(r, 1)?;
                    Ok(LockRow {
                        lock_id: col(r, 0)?,
                        wait_started: wait_started.get(&trx_id).cloned().flatten(),
                        trx_id,
                        thread: None,
                        mode: col(r, 2)?,
                        lock_type,
                        table: Some(table).filter(|t| !t.is_empty()),
                        object,
                        page,
                        rec,
                        granted: None,
                    })
                },
            )?;
            let waits = read_rows(
                &mut conn,
                &name,
                WAITS_57,
                "information_schema.INNODB_LOCK_WAITS",
                |r| {
                    Ok(WaitRow {
                        requesting_trx: col(r, 0)?,
                        requested_lock: col(r, 1)?,
                        blocking_trx: col(r, 2)?,
                        requesting_thread: None,
                        blocking_thread: None,
                    })
                },
            )?;
            (locks, waits)
        }
        Flavor::MySql8 => {
            let locks = read_rows(
                &mut conn,
                &name,
                LOCKS_8,
                "performance_schema.data_locks",
                |r| {
                    let lock_type: String = col(r, 3)?;
                    let schema: Option<String> = col(r, 4)?;
                    let name: Option<String> = col(r, 5)?;
                    let parts: [Option<String>; 3] = [col(r, 6)?, col(r, 7)?, col(r, 8)?];
                    let key: Option<String> = col(r, 10)?;
                    let table = match (&schema, &name) {
                        (Some(s), Some(n)) => Some(format!("{s}.{n}")),
                        (None, Some(n)) => Some(n.clone()),
                        _ => None,
                    };
                    let mut object = format!("{lock_type} {}", table.as_deref().unwrap_or(""));
                    for p in &parts {
                        object.push('\0');
                        object.push_str(p.as_deref().unwrap_or(""));
                    }
                    if lock_type == "RECORD" {
                        object.push('\0');
                        object.push_str(key.as_deref().unwrap_or(""));
                    }
                    let status: String = col(r, 9)?;
                    let trx_id: String = col(r, 1)?;
                    Ok(LockRow {
                        lock_id: col(r, 0)?,
                        wait_started: wait_started.get(&trx_id).cloned().flatten(),
                        trx_id,
                        thread: col(r, 11)?,
                        mode: col(r, 2)?,
                        lock_type,
                        table,
                        object,
                        page: None,
                        rec: None,
                        granted: Some(status == "GRANTED"),
                    })
                },
            )?;
            let waits = read_rows(
                &mut conn,
                &name,
                WAITS_8,
                "performance_schema.data_lock_waits",
                |r| {
                    Ok(WaitRow {
                        requesting_trx: col(r, 0)?,
                        requested_lock: col(r, 1)?,
                        blocking_trx: col(r, 2)?,
                        requesting_thread: col(r, 3)?,
                        blocking_thread: col(r, 4)?,
                    })
                },
            )?;
            (locks, waits)
        }
    };

    let procs = read_rows(
        &mut conn,
        &name,
        &procs_sql(flavor),
        "information_schema.PROCESSLIST",
        |r| {
            Ok(ProcRow {
                id: col(r, 0)?,
                user: col(r, 1)?,
                host: col(r, 2)?,
                db: col(r, 3)?,
                command: col(r, 4)?,
                time_s: col(r, 5)?,
                query_start: col(r, 6)?,
                info: col(r, 7)?,
            })
        },
    )?;
    let server_ms = started.elapsed().as_secs_f64() * 1000.0;

    Ok(Rows {
        server: name,
        version_num: version_num(&version),
        taken_at,
        server_ms,
        own_pid: u32::try_from(own).unwrap_or(0),
        database: database.unwrap_or_default(),
        trx,
        locks,
        waits,
        procs,
    })
}

/// Runs `sql` and reads each row with `read`; `table` names the source in errors (`reading
/// TABLE` when the query fails, `TABLE` when a row does not read).
fn read_rows<T>(
    conn: &mut Conn,
    target: &str,
    sql: &str,
    table: &str,
    read: impl Fn(&Row) -> Result<T, String>,
) -> Result<Vec<T>, Error> {
    let rows: Vec<Row> = conn.query(sql).map_err(|e| Error::Query {
        target: target.to_string(),
        context: format!("reading {table}"),
        reason: describe(&e),
    })?;
    rows.iter()
        .map(read)
        .collect::<Result<Vec<_>, String>>()
        .map_err(|reason| Error::Query {
            target: target.to_string(),
            context: format!("reading {table}"),
            reason,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flavors() {
        assert_eq!(
            Flavor::detect("10.11.19-MariaDB-0+deb12u1"),
            Flavor::MariaDb
        );
        assert_eq!(Flavor::detect("11.4.2-MariaDB"), Flavor::MariaDb);
        assert_eq!(Flavor::detect("8.0.36"), Flavor::MySql8);
        assert_eq!(Flavor::detect("8.4.0-commercial"), Flavor::MySql8);
        assert_eq!(Flavor::detect("9.1.0"), Flavor::MySql8);
        assert_eq!(Flavor::detect("5.7.44-log"), Flavor::MySql57);
    }

    #[test]
    fn the_session_is_read_only_with_limits_before_any_read() {
        for (flavor, limit) in [
            (Flavor::MariaDb, "max_statement_time = 10"),
            (Flavor::MySql8, "max_execution_time = 10000"),
            (Flavor::MySql57, "max_execution_time = 10000"),
        ] {
            let s = session_settings(flavor);
            assert_eq!(s[0], "SET SESSION TRANSACTION READ ONLY");
            assert!(
                s.iter()
                    .any(|x| x.ends_with("innodb_lock_wait_timeout = 1"))
            );
            assert!(s.iter().any(|x| x.ends_with(" lock_wait_timeout = 1")));
            assert!(s.iter().any(|x| x.ends_with(limit)), "{flavor:?}: {s:?}");
        }
    }

    #[test]
    fn every_read_is_a_plain_select_on_the_system_schemas() {
        for sql in [
            trx_sql(),
            LOCKS_57.to_string(),
            WAITS_57.to_string(),
            LOCKS_8.to_string(),
            WAITS_8.to_string(),
            procs_sql(Flavor::MariaDb),
            procs_sql(Flavor::MySql8),
        ] {
            assert!(sql.starts_with("SELECT "), "{sql}");
            let upper = sql.to_uppercase();
            for word in [
                " FOR UPDATE",
                " LOCK IN SHARE MODE",
                " FOR SHARE",
                "INSERT ",
                "UPDATE ",
            ] {
                assert!(!upper.contains(word), "{word} in {sql}");
            }
            for from in upper
                .split(" FROM ")
                .skip(1)
                .chain(upper.split(" JOIN ").skip(1))
            {
                assert!(
                    from.starts_with("INFORMATION_SCHEMA.")
                        || from.starts_with("PERFORMANCE_SCHEMA."),
                    "{from}"
                );
            }
        }
    }
}
