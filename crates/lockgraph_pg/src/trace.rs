//! `trace`: run a script's statements in one transaction that is always rolled back, and record
//! after each statement the locks its backend holds (`pg_locks`), so a migration's real locks can
//! be read statement by statement — and compared with what static inference predicted (the CLI does
//! that; this module only observes).
//!
//! How a run goes ([`run_trace`]):
//!
//! 1. Two sessions: the **traced** one (`application_name` `<spec's>/trace`, `lock_timeout`,
//!    `statement_timeout` and `idle_in_transaction_session_timeout` from
//!    [`TraceOptions`]) and a read-only **monitor** with short timeouts
//!    of its own.
//! 2. `BEGIN` on the traced session, then a *baseline*: the traced session reads its own `pg_locks`
//!    rows twice. Reading `pg_locks` takes `AccessShareLock` on the `pg_locks` view and on the
//!    catalogs (and their indexes) that name relations: `pg_class`, `pg_namespace`, `pg_database`.
//!    Locks are held to the end of the transaction, so after the baseline the tracer's own reads
//!    take nothing new; what the baseline shows is recorded as
//!    [`TraceOutcome::tracer_locks`] and left out of
//!    every statement.
//! 3. Each statement in order. Statements that must not or cannot run inside the transaction are
//!    skipped and reported ([`SkipReason`]): the script's own transaction
//!    control (`BEGIN`, `COMMIT`, `ROLLBACK`, `END`, `START TRANSACTION`, `PREPARE TRANSACTION`,
//!    `SET TRANSACTION`), so a migration wrapped in `BEGIN … COMMIT` still traces and is still
//!    rolled back; commands PostgreSQL refuses inside a transaction block (`CREATE INDEX
//!    CONCURRENTLY`, `VACUUM`, `CREATE DATABASE`, `ALTER TYPE … ADD VALUE` before PostgreSQL 12,
//!    …); and commands whose effects a rollback does not undo or that need psql (subscriptions,
//!    `COPY … FROM STDIN`, psql meta-commands). Before every statement the traced session's
//!    `lock_timeout` and `statement_timeout` are set again (`set_config(…, true)`), so a script's
//!    own `SET lock_timeout = 0` cannot make the trace queue behind other sessions.
//! 4. While a statement runs longer than a few milliseconds, the monitor looks for an ungranted
//!    `pg_locks` row of the traced backend; the first one it sees is recorded with
//!    `pg_blocking_pids()` ([`LockWaitSeen`]) — who the statement would
//!    have queued behind.
//! 5. After the statement, the traced session reads its `pg_locks` rows again. Its
//!    [`TracedStatement::taken`] locks are those held now and
//!    not before it (same lock tag and mode),
//!    [`TracedStatement::released`] the reverse (`ROLLBACK
//!    TO SAVEPOINT`).
//! 6. A statement that fails (a `55P03` lock timeout, a syntax error, …) ends the run: the
//!    transaction is aborted, the rest is
//!    [`TraceStatus::NotRun`].
//! 7. `ROLLBACK`, always — after the last statement, after a failed one, and when anything above
//!    fails (connection lost, monitor error). The monitor then checks that the traced backend holds
//!    no lock any more ([`TraceOutcome::released_all`]).
//! 8. The monitor names what the traced session could not: relations the script dropped (gone from
//!    its own catalog view), each relation's kind (table, index, …), whether it existed before the
//!    run ([`TracedLock::created_here`] when not: another
//!    session can never wait for a relation created by an uncommitted transaction), and `object`
//!    locks (`pg_describe_object`, PostgreSQL 14+).
//!
//! What is filtered from the per-statement locks, exactly:
//!
//! - the traced transaction's own `virtualxid` `ExclusiveLock` and `transactionid` `ExclusiveLock`s
//!   (every transaction holds them on itself; the second appears with the first write, and one more
//!   per subtransaction that writes);
//! - the baseline's locks (step 2): `AccessShareLock` on `pg_catalog.pg_locks`, `pg_class`,
//!   `pg_namespace`, `pg_database` and their indexes. A statement that takes one of these exact
//!   locks itself is not seen taking it: it was already held.
//!
//! Safety: the traced session holds every lock a statement took until the rollback — other sessions
//! queue behind them for the rest of the run, exactly as they would behind the migration.
//! `lock_timeout` bounds how long the trace itself waits (it never joins a queue for longer),
//! `statement_timeout` how long one statement runs, and `idle_in_transaction_session_timeout` how
//! long the server keeps the transaction if lockgraph stops talking to it. If the future of
//! [`run_trace`] is dropped (or panics) before its own `ROLLBACK`, its
//! connections close and PostgreSQL rolls the transaction back; the blocking wrapper never drops
//! it. A rollback does not undo what PostgreSQL never rolls back: sequence increments (`nextval`),
//! and effects outside the database (`dblink`, `COPY … TO PROGRAM`).

use crate::connect::query_error;
use crate::session::Session;
use crate::snapshot::locks_of_backend;
use crate::split::{Piece, split};
use crate::{ConnectionSpec, Error, runtime};
use lockgraph_core::{HeldLock, RelationName};
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// SQLSTATE of "canceling statement due to lock timeout" (and of `NOWAIT` failures).
pub const LOCK_NOT_AVAILABLE: &str = "55P03";

/// How a trace runs. `TraceOptions::default()` is meant for a shared database: it gives up on
/// any lock it cannot get within two seconds.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TraceOptions {
    /// `lock_timeout` of the traced session: a statement that would wait longer for a lock fails
    /// with SQLSTATE 55P03 and the run stops. Must be positive (0 would mean "wait forever").
    pub lock_timeout: Duration,
    /// `statement_timeout` of the traced session. Must be positive.
    pub statement_timeout: Duration,
    /// `idle_in_transaction_session_timeout` of the traced session: the server aborts the
    /// transaction (releasing its locks) if lockgraph stops talking to it this long.
    pub idle_timeout: Duration,
    /// First delay before the monitor looks for a lock wait of a running statement; doubled
    /// after each look, up to 250 ms.
    pub poll_interval: Duration,
}

impl Default for TraceOptions {
    fn default() -> Self {
        TraceOptions {
            lock_timeout: Duration::from_secs(2),
            statement_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(30),
            poll_interval: Duration::from_millis(10),
        }
    }
}

impl TraceOptions {
    /// Default options with this `lock_timeout`.
    pub fn with_lock_timeout(mut self, lock_timeout: Duration) -> Self {
        self.lock_timeout = lock_timeout;
        self
    }

    /// These options with this `statement_timeout`.
    pub fn with_statement_timeout(mut self, statement_timeout: Duration) -> Self {
        self.statement_timeout = statement_timeout;
        self
    }
}

/// One statement of a script, as [`script_statements`] cuts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptStatement {
    /// 1-based line where it starts.
    pub line: usize,
    /// The statement without its `;`.
    pub sql: String,
}

/// Cuts a script into statements the way psql does (`;` outside quotes, dollar quotes and
/// comments). Lines starting with `\` are not understood: they stay part of a statement, which
/// [`run_trace`] then skips as a psql meta-command when it starts with one.
pub fn script_statements(text: &str) -> Result<Vec<ScriptStatement>, Error> {
    let pieces = split(text).map_err(|e| Error::Script {
        line: e.line,
        message: e.message,
    })?;
    Ok(pieces
        .into_iter()
        .filter_map(|p| match p {
            Piece::Statement { line, text } => Some(ScriptStatement {
                line,
                sql: text.to_string(),
            }),
            Piece::Comment { .. } => None,
        })
        .collect())
}

/// What a trace saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceOutcome {
    /// `server_version`, e.g. `15.20 (Debian 15.20-0+deb12u1)`.
    pub server_version: String,
    /// `server_version_num`, e.g. `150020`.
    pub server_version_num: i32,
    /// The traced session's backend pid.
    pub pid: u32,
    /// One entry per input statement, in order.
    pub statements: Vec<TracedStatement>,
    /// Index of the statement that failed, if one did (the run stopped there).
    pub failed: Option<usize>,
    /// The locks the tracer's own `pg_locks` reads hold (the baseline), left out of every
    /// statement's locks.
    pub tracer_locks: Vec<HeldLock>,
    /// After the rollback, the monitor saw no lock held by the traced backend.
    pub released_all: bool,
}

impl TraceOutcome {
    /// Whether every statement ran or was deliberately skipped (none failed).
    pub fn completed(&self) -> bool {
        self.failed.is_none()
    }
}

/// What happened to one statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TracedStatement {
    /// 0-based position in the input.
    pub index: usize,
    /// Ran, failed, skipped or not run.
    pub status: TraceStatus,
    /// Locks held after the statement that were not held before it (filtered, see the module
    /// docs), ordered by lock type, relation name and mode.
    pub taken: Vec<TracedLock>,
    /// Locks held before the statement and not after it (`ROLLBACK TO SAVEPOINT`).
    pub released: Vec<TracedLock>,
    /// Every lock the transaction holds after the statement (filtered).
    pub held: Vec<TracedLock>,
    /// The first lock wait the monitor saw while the statement ran.
    pub waited: Option<LockWaitSeen>,
    /// How long the statement ran (zero when it did not run).
    pub elapsed: Duration,
}

/// What happened to one statement.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TraceStatus {
    /// It ran; its locks were read.
    Traced,
    /// The server rejected it; the transaction is aborted and the run stopped here.
    Failed(StatementError),
    /// Not run, deliberately.
    Skipped(SkipReason),
    /// Not run because an earlier statement failed.
    NotRun,
}

/// A statement's failure as the server reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementError {
    /// SQLSTATE, e.g. `55P03`.
    pub sqlstate: String,
    /// Primary message.
    pub message: String,
    /// DETAIL, if any.
    pub detail: Option<String>,
    /// HINT, if any.
    pub hint: Option<String>,
}

impl StatementError {
    /// Whether it gave up waiting for a lock (`lock_timeout`, or `NOWAIT`): in production the
    /// statement would have queued behind another session.
    pub fn is_lock_timeout(&self) -> bool {
        self.sqlstate == LOCK_NOT_AVAILABLE
    }
}

impl fmt::Display for StatementError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (SQLSTATE {})", self.message, self.sqlstate)
    }
}

/// Why a statement was not run.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// The script's own transaction control: the trace runs everything in one transaction of
    /// its own and always rolls it back.
    TransactionControl {
        /// The command (`BEGIN`, `COMMIT`, `SET TRANSACTION`, …).
        command: String,
    },
    /// PostgreSQL refuses to run it inside a transaction block, so it cannot be traced.
    NotInTransactionBlock {
        /// The command (`CREATE INDEX CONCURRENTLY`, `VACUUM`, …).
        command: String,
    },
    /// Running it would do something a rollback does not undo, or needs what only psql gives.
    Unsupported {
        /// The command.
        command: String,
        /// Why it is not run.
        why: String,
    },
}

impl SkipReason {
    /// The command the reason is about.
    pub fn command(&self) -> &str {
        match self {
            SkipReason::TransactionControl { command }
            | SkipReason::NotInTransactionBlock { command }
            | SkipReason::Unsupported { command, .. } => command,
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::TransactionControl { command } => write!(
                f,
                "{command}: transaction control (the trace runs the script in a transaction of \
                 its own and rolls it back)"
            ),
            SkipReason::NotInTransactionBlock { command } => write!(
                f,
                "{command} cannot run inside a transaction block, so it cannot be traced"
            ),
            SkipReason::Unsupported { command, why } => write!(f, "{command}: {why}"),
        }
    }
}

/// One lock of the traced session, with what the monitor learned about its object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TracedLock {
    /// The `pg_locks` row; `relation_name` is filled in by the monitor for relations the script
    /// dropped.
    pub lock: HeldLock,
    /// For relation-bound locks: the relation's kind (from the committed catalog, or from the
    /// traced session for relations the script created).
    pub relkind: Option<RelKind>,
    /// The script created the locked relation (or, for `object` locks on PostgreSQL 14+, the
    /// object): it does not exist for other sessions, so nobody else can wait for this lock.
    pub created_here: bool,
    /// For `object` locks: `pg_describe_object()` (PostgreSQL 14+), e.g. `schema billing`.
    pub object: Option<String>,
}

impl TracedLock {
    /// The table-level mode of a `relation` lock.
    pub fn table_mode(&self) -> Option<lockgraph_core::TableLockMode> {
        self.lock.table_mode()
    }

    /// The relation's name (`orders`, `billing.ledger`), for relation-bound lock types.
    pub fn relation_name(&self) -> Option<&RelationName> {
        self.lock.relation_name.as_ref()
    }

    /// What is locked, as PostgreSQL's messages put it, with `object` locks described:
    /// `relation orders`, `object schema billing`, `transaction 729`.
    pub fn describe(&self) -> String {
        match (&self.object, self.lock.locktype.as_str()) {
            (Some(o), "object") => format!("object {o}"),
            _ => self.lock.describe(),
        }
    }
}

/// `pg_class.relkind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RelKind {
    /// `r`: an ordinary table.
    Table,
    /// `p`: a partitioned table.
    PartitionedTable,
    /// `m`: a materialized view.
    MaterializedView,
    /// `v`: a view.
    View,
    /// `f`: a foreign table.
    ForeignTable,
    /// `i`: an index.
    Index,
    /// `I`: a partitioned index.
    PartitionedIndex,
    /// `S`: a sequence.
    Sequence,
    /// `t`: a TOAST table.
    Toast,
    /// `c`: a composite type.
    CompositeType,
    /// Anything else.
    Other(char),
}

impl RelKind {
    /// From `pg_class.relkind`.
    pub fn from_code(c: char) -> RelKind {
        match c {
            'r' => RelKind::Table,
            'p' => RelKind::PartitionedTable,
            'm' => RelKind::MaterializedView,
            'v' => RelKind::View,
            'f' => RelKind::ForeignTable,
            'i' => RelKind::Index,
            'I' => RelKind::PartitionedIndex,
            'S' => RelKind::Sequence,
            't' => RelKind::Toast,
            'c' => RelKind::CompositeType,
            other => RelKind::Other(other),
        }
    }

    /// A short English name: `table`, `index`, `sequence`, …
    pub fn name(self) -> &'static str {
        match self {
            RelKind::Table => "table",
            RelKind::PartitionedTable => "partitioned table",
            RelKind::MaterializedView => "materialized view",
            RelKind::View => "view",
            RelKind::ForeignTable => "foreign table",
            RelKind::Index => "index",
            RelKind::PartitionedIndex => "partitioned index",
            RelKind::Sequence => "sequence",
            RelKind::Toast => "TOAST table",
            RelKind::CompositeType => "composite type",
            RelKind::Other(_) => "relation",
        }
    }

    /// Whether application queries name it directly (tables, partitioned tables, views,
    /// materialized views, foreign tables), as opposed to indexes, sequences and TOAST tables
    /// that are locked along with their table.
    pub fn is_queried(self) -> bool {
        matches!(
            self,
            RelKind::Table
                | RelKind::PartitionedTable
                | RelKind::MaterializedView
                | RelKind::View
                | RelKind::ForeignTable
        )
    }
}

/// A lock the traced statement waited for, as the monitor saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockWaitSeen {
    /// The ungranted `pg_locks` row (relation named by the monitor).
    pub lock: HeldLock,
    /// `pg_blocking_pids()` of the traced backend, with what each holds on the same object.
    pub blockers: Vec<Blocker>,
    /// How long after the statement started the wait was seen.
    pub seen_after: Duration,
}

/// A session the traced statement waited for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blocker {
    /// Its backend pid.
    pub pid: u32,
    /// Its `application_name` (empty when unset).
    pub application: String,
    /// Its `state` (`idle in transaction`, `active`, …), when visible.
    pub state: Option<String>,
    /// Modes it holds (granted) or awaits ahead in the queue on the awaited object.
    pub modes: Vec<String>,
}

/// Runs `statements` on the server `spec` points at, inside one transaction that is always
/// rolled back, and records the locks after each. See the [module docs](self).
///
/// Statement failures are results ([`TraceStatus::Failed`]), not errors. `Err` means the trace
/// could not happen or broke: no connection, invalid options, the connection lost mid-run.
pub async fn run_trace(
    spec: &ConnectionSpec,
    statements: &[String],
    opts: &TraceOptions,
) -> Result<TraceOutcome, Error> {
    validate(opts)?;
    let ms = |d: Duration| format!("{}ms", d.as_millis().max(1));
    let monitor = Session::open(
        spec,
        "trace-monitor",
        &[
            ("default_transaction_read_only", "on".to_string()),
            ("lock_timeout", "1000ms".to_string()),
            ("statement_timeout", "10000ms".to_string()),
        ],
    )
    .await?;
    let version = monitor
        .client
        .query_one(
            "SELECT current_setting('server_version'), \
                    current_setting('server_version_num')::int4",
            &[],
        )
        .await
        .map_err(|e| query_error("trace-monitor: reading the server version", &e))?;
    let (server_version, version_num): (String, i32) = (version.get(0), version.get(1));
    let traced = Session::open(
        spec,
        "trace",
        &[
            ("lock_timeout", ms(opts.lock_timeout)),
            ("statement_timeout", ms(opts.statement_timeout)),
            ("idle_in_transaction_session_timeout", ms(opts.idle_timeout)),
        ],
    )
    .await?;
    let mut tracer = Tracer {
        traced: &traced,
        monitor: &monitor,
        opts,
        version_num,
        in_flight: None,
    };
    traced.run("BEGIN", "starting the transaction").await?;
    // From here on, every path goes through the ROLLBACK below (the guard for early returns
    // inside `trace` is the connection itself: see the module docs).
    let result = tracer.trace(statements).await;
    tracer.stop_in_flight().await;
    let rolled_back = traced.run("ROLLBACK", "rolling back").await;
    let (statements_out, failed, tracer_locks) = result?;
    rolled_back?;
    let released_all = tracer.holds_nothing().await?;
    let mut outcome = TraceOutcome {
        server_version,
        server_version_num: version_num,
        pid: traced.pid as u32,
        statements: statements_out,
        failed,
        tracer_locks: tracer_locks.into_iter().map(|t| t.lock).collect(),
        released_all,
    };
    tracer.name_objects(&mut outcome).await?;
    Ok(outcome)
}

/// Blocking [`run_trace`], on a current-thread runtime of its own. Do not call it from async
/// code (it would panic inside another runtime).
pub fn run_trace_blocking(
    spec: &ConnectionSpec,
    statements: &[String],
    opts: &TraceOptions,
) -> Result<TraceOutcome, Error> {
    runtime()?.block_on(run_trace(spec, statements, opts))
}

fn validate(opts: &TraceOptions) -> Result<(), Error> {
    let positive = [
        ("lock_timeout", opts.lock_timeout),
        ("statement_timeout", opts.statement_timeout),
        ("idle timeout", opts.idle_timeout),
        ("poll interval", opts.poll_interval),
    ];
    for (name, d) in positive {
        if d.as_millis() == 0 {
            return Err(Error::InvalidOptions(format!(
                "{name} must be at least 1 ms (0 would mean no limit)"
            )));
        }
    }
    Ok(())
}

/// Extra time allowed beyond the server-side timeouts before the tracer cancels a statement.
const GRACE: Duration = Duration::from_secs(5);

/// The longest pause between two looks at a running statement.
const MAX_POLL: Duration = Duration::from_millis(250);

/// A statement running in a task of its own; aborted if the tracer is dropped mid-statement, so
/// the task's handle on the connection goes too (and the server rolls back).
struct InFlight(JoinHandle<Result<(), tokio_postgres::Error>>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Per-statement results, the failed index, and the baseline.
type Traced = (Vec<TracedStatement>, Option<usize>, Vec<TracedLock>);

struct Tracer<'a> {
    traced: &'a Session,
    monitor: &'a Session,
    opts: &'a TraceOptions,
    version_num: i32,
    in_flight: Option<InFlight>,
}

impl Tracer<'_> {
    /// The body of the transaction: baseline, then every statement.
    async fn trace(&mut self, statements: &[String]) -> Result<Traced, Error> {
        // Twice: the second read shows what the first one's query locked, and takes nothing new.
        self.own_locks().await?;
        let baseline = self.own_locks().await?;
        let mut before = Vec::new();
        let mut out = Vec::with_capacity(statements.len());
        let mut failed = None;
        for (index, sql) in statements.iter().enumerate() {
            let mut st = TracedStatement {
                index,
                status: TraceStatus::NotRun,
                taken: Vec::new(),
                released: Vec::new(),
                held: Vec::new(),
                waited: None,
                elapsed: Duration::ZERO,
            };
            if failed.is_some() {
                out.push(st);
                continue;
            }
            if let Some(reason) = classify(sql, self.version_num) {
                st.status = TraceStatus::Skipped(reason);
                st.held = before.clone();
                out.push(st);
                continue;
            }
            self.reassert_timeouts().await?;
            let started = Instant::now();
            let (result, waited) = self.execute(sql).await?;
            st.elapsed = started.elapsed();
            st.waited = waited;
            match result {
                Ok(()) => {
                    let after = without(self.own_locks().await?, &baseline);
                    st.taken = difference(&after, &before);
                    st.released = difference(&before, &after);
                    st.held = after.clone();
                    st.status = TraceStatus::Traced;
                    before = after;
                }
                Err(e) => {
                    st.status = TraceStatus::Failed(e);
                    st.held = before.clone();
                    failed = Some(index);
                }
            }
            out.push(st);
        }
        Ok((out, failed, baseline))
    }

    /// The traced backend's locks, without its own transaction ids.
    async fn own_locks(&self) -> Result<Vec<TracedLock>, Error> {
        let locks = locks_of_backend(&self.traced.client, self.version_num, self.traced.pid)
            .await
            .map_err(|e| match e {
                Error::Query {
                    context,
                    sqlstate,
                    message,
                } => Error::Query {
                    context: format!("trace: {context}"),
                    sqlstate,
                    message,
                },
                other => other,
            })?;
        let mut locks: Vec<HeldLock> = locks
            .into_iter()
            .filter(|l| !is_own_transaction_lock(l))
            .collect();
        locks.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
        Ok(locks
            .into_iter()
            .map(|lock| TracedLock {
                lock,
                relkind: None,
                created_here: false,
                object: None,
            })
            .collect())
    }

    /// Sets the traced session's timeouts again (a statement may have changed them).
    async fn reassert_timeouts(&self) -> Result<(), Error> {
        let ms = |d: Duration| format!("{}ms", d.as_millis().max(1));
        self.traced
            .client
            .execute(
                "SELECT pg_catalog.set_config('lock_timeout', $1, true), \
                        pg_catalog.set_config('statement_timeout', $2, true)",
                &[
                    &ms(self.opts.lock_timeout),
                    &ms(self.opts.statement_timeout),
                ],
            )
            .await
            .map_err(|e| query_error("trace: setting lock_timeout", &e))?;
        Ok(())
    }

    /// Runs one statement, watching for a lock wait while it runs. The outer `Err` is a broken
    /// connection or monitor; the inner one the server's answer.
    async fn execute(
        &mut self,
        sql: &str,
    ) -> Result<(Result<(), StatementError>, Option<LockWaitSeen>), Error> {
        let client = self.traced.client.clone();
        let text = sql.to_string();
        self.in_flight = Some(InFlight(tokio::spawn(async move {
            client.batch_execute(&text).await
        })));
        let started = Instant::now();
        let patience = self.opts.statement_timeout.max(self.opts.lock_timeout) + GRACE;
        let mut pause = self.opts.poll_interval;
        let mut waited = None;
        let mut cancelled = false;
        let res = loop {
            let Some(InFlight(handle)) = self.in_flight.as_mut() else {
                unreachable!("a statement is in flight")
            };
            tokio::select! {
                res = handle => break res,
                _ = tokio::time::sleep(pause) => {}
            }
            pause = (pause * 2).min(MAX_POLL);
            if waited.is_none() {
                waited = self.wait_of_traced(started).await?;
            }
            if started.elapsed() > patience + GRACE && cancelled {
                return Err(Error::Timeout(
                    "the traced statement is still running after it was cancelled".into(),
                ));
            }
            if started.elapsed() > patience && !cancelled {
                self.traced.cancel().await?;
                cancelled = true;
            }
        };
        // Finished: aborting a finished task does nothing.
        self.in_flight = None;
        match res {
            Ok(Ok(())) => Ok((Ok(()), waited)),
            Ok(Err(e)) => match e.as_db_error() {
                Some(db) => Ok((
                    Err(StatementError {
                        sqlstate: db.code().code().to_string(),
                        message: db.message().to_string(),
                        detail: db.detail().map(str::to_string),
                        hint: db.hint().map(str::to_string),
                    }),
                    waited,
                )),
                None => Err(query_error("trace: running a statement", &e)),
            },
            Err(join) => Err(Error::Query {
                context: "trace: running a statement".into(),
                sqlstate: None,
                message: join.to_string(),
            }),
        }
    }

    /// After an error inside `trace`: cancel a statement still running so ROLLBACK can go.
    async fn stop_in_flight(&mut self) {
        if let Some(f) = self.in_flight.take() {
            let _ = self.traced.cancel().await;
            drop(f);
        }
    }

    /// The traced backend's ungranted lock and who blocks it, if it waits.
    async fn wait_of_traced(&self, started: Instant) -> Result<Option<LockWaitSeen>, Error> {
        // No row when the backend waits for nothing (any more: the wait can end between the
        // monitor's decision to look and its query).
        let Some(row) = self
            .monitor
            .client
            .query_opt(WAIT_SQL, &[&self.traced.pid])
            .await
            .map_err(|e| query_error("trace-monitor: reading pg_locks", &e))?
        else {
            return Ok(None);
        };
        let value: Option<serde_json::Value> = row.get(0);
        let Some(value) = value else {
            return Ok(None);
        };
        let w: WaitRow = serde_json::from_value(value).map_err(|e| Error::Query {
            context: "trace-monitor: reading pg_locks".into(),
            sqlstate: None,
            message: format!("unexpected shape: {e}"),
        })?;
        let oid = |v: Option<i64>| v.and_then(|v| u32::try_from(v).ok());
        let lock = HeldLock {
            pid: Some(self.traced.pid as u32),
            locktype: w.locktype,
            database: oid(w.database),
            relation: oid(w.relation),
            relation_name: match (&w.nspname, &w.relname) {
                (Some(n), Some(r)) => Some(RelationName::from_parts([
                    (n.as_str(), true),
                    (r.as_str(), true),
                ])),
                _ => None,
            },
            page: w.page,
            tuple: w.tuple,
            virtualxid: w.virtualxid,
            transactionid: w.transactionid,
            classid: oid(w.classid),
            objid: oid(w.objid),
            objsubid: w.objsubid,
            mode: w.mode,
            granted: false,
            ..HeldLock::default()
        };
        Ok(Some(LockWaitSeen {
            lock,
            blockers: w
                .blockers
                .into_iter()
                .map(|b| Blocker {
                    pid: u32::try_from(b.pid).unwrap_or(0),
                    application: b.application,
                    state: b.state,
                    modes: b.modes,
                })
                .collect(),
            seen_after: started.elapsed(),
        }))
    }

    /// After the rollback: whether the traced backend holds no lock.
    async fn holds_nothing(&self) -> Result<bool, Error> {
        let n: i64 = self
            .monitor
            .client
            .query_one(
                "SELECT count(*) FROM pg_catalog.pg_locks WHERE pid = $1",
                &[&self.traced.pid],
            )
            .await
            .map_err(|e| query_error("trace-monitor: checking the rollback", &e))?
            .get(0);
        Ok(n == 0)
    }

    /// Fills in relation kinds, names of dropped relations, `created_here` and object
    /// descriptions, from the committed catalog (one query on the monitor).
    async fn name_objects(&self, outcome: &mut TraceOutcome) -> Result<(), Error> {
        let mut oids: Vec<u32> = Vec::new();
        let mut objects: Vec<(u32, u32, i32)> = Vec::new();
        for st in &outcome.statements {
            for l in st.taken.iter().chain(&st.released).chain(&st.held) {
                collect_ids(&l.lock, &mut oids, &mut objects);
            }
        }
        oids.sort_unstable();
        oids.dedup();
        objects.sort_unstable();
        objects.dedup();
        let describe = if self.version_num >= 140000 {
            "pg_catalog.pg_describe_object(o.c, o.o, o.s)"
        } else {
            "NULL::text"
        };
        let sql = format!(
            "SELECT coalesce((SELECT json_agg(json_build_object('oid', c.oid::int8, \
                      'relkind', c.relkind::text, 'nspname', n.nspname::text, \
                      'relname', c.relname::text)) \
                    FROM pg_catalog.pg_class c \
                    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                    WHERE c.oid = ANY($1::oid[])), '[]'), \
                    coalesce((SELECT json_agg(json_build_object('c', o.c::int8, 'o', o.o::int8, \
                      's', o.s, 'd', {describe})) \
                    FROM unnest($2::oid[], $3::oid[], $4::int4[]) AS o(c, o, s)), '[]')"
        );
        let classids: Vec<u32> = objects.iter().map(|o| o.0).collect();
        let objids: Vec<u32> = objects.iter().map(|o| o.1).collect();
        let subids: Vec<i32> = objects.iter().map(|o| o.2).collect();
        let row = self
            .monitor
            .client
            .query_one(&sql, &[&oids, &classids, &objids, &subids])
            .await
            .map_err(|e| query_error("trace-monitor: naming relations", &e))?;
        let bad = |e: serde_json::Error| Error::Query {
            context: "trace-monitor: naming relations".into(),
            sqlstate: None,
            message: format!("unexpected shape: {e}"),
        };
        let rels: Vec<RelRow> = serde_json::from_value(row.get(0)).map_err(bad)?;
        let objs: Vec<ObjRow> = serde_json::from_value(row.get(1)).map_err(bad)?;
        let rels: HashMap<u32, RelRow> = rels
            .into_iter()
            .filter_map(|r| Some((u32::try_from(r.oid).ok()?, r)))
            .collect();
        let objs: HashMap<(u32, u32, i32), String> = objs
            .into_iter()
            .filter_map(|o| {
                Some((
                    (u32::try_from(o.c).ok()?, u32::try_from(o.o).ok()?, o.s),
                    o.d?,
                ))
            })
            .collect();
        let fill = |l: &mut TracedLock| {
            if let Some(oid) = l.lock.relation.filter(|_| is_relation_bound(&l.lock)) {
                match rels.get(&oid) {
                    Some(r) => {
                        l.relkind = r.relkind.chars().next().map(RelKind::from_code);
                        if l.lock.relation_name.is_none() {
                            l.lock.relation_name = Some(RelationName::from_parts([
                                (r.nspname.as_str(), true),
                                (r.relname.as_str(), true),
                            ]));
                        }
                    }
                    None => {
                        l.created_here = true;
                        // The traced session saw it while it existed.
                        l.relkind = l
                            .lock
                            .relation_kind
                            .as_deref()
                            .and_then(|k| k.chars().next())
                            .map(RelKind::from_code);
                    }
                }
            }
            if l.lock.locktype == "object"
                && let (Some(c), Some(o)) = (l.lock.classid, l.lock.objid)
            {
                l.object = objs.get(&(c, o, l.lock.objsubid.unwrap_or(0))).cloned();
                // pg_describe_object() is NULL for an object the committed catalog lacks.
                l.created_here = self.version_num >= 140000 && l.object.is_none();
            }
        };
        for st in &mut outcome.statements {
            for l in st
                .taken
                .iter_mut()
                .chain(st.released.iter_mut())
                .chain(st.held.iter_mut())
            {
                fill(l);
            }
        }
        Ok(())
    }
}

/// Relation OIDs and `object` lock tags of a lock, for [`Tracer::name_objects`].
fn collect_ids(l: &HeldLock, oids: &mut Vec<u32>, objects: &mut Vec<(u32, u32, i32)>) {
    if is_relation_bound(l)
        && let Some(r) = l.relation
    {
        oids.push(r);
    }
    if l.locktype == "object"
        && let (Some(c), Some(o)) = (l.classid, l.objid)
    {
        objects.push((c, o, l.objsubid.unwrap_or(0)));
    }
}

/// Lock types whose `relation` column names a relation of the connected database.
fn is_relation_bound(l: &HeldLock) -> bool {
    matches!(
        l.locktype.as_str(),
        "relation" | "extend" | "page" | "tuple"
    ) && l.relation.is_some()
}

/// The monitor's look at a running statement: its ungranted lock (one JSON object) or NULL.
const WAIT_SQL: &str = "\
WITH w AS (SELECT * FROM pg_catalog.pg_locks WHERE pid = $1 AND NOT granted LIMIT 1) \
SELECT json_build_object( \
  'locktype', w.locktype, 'database', w.database::int8, 'relation', w.relation::int8, \
  'nspname', n.nspname::text, 'relname', c.relname::text, 'page', w.page, \
  'tuple', w.tuple::int4, 'virtualxid', w.virtualxid, 'transactionid', w.transactionid::text, \
  'classid', w.classid::int8, 'objid', w.objid::int8, 'objsubid', w.objsubid::int4, \
  'mode', w.mode, \
  'blockers', coalesce((SELECT json_agg(json_build_object( \
      'pid', b.pid, 'application', coalesce(a.application_name, ''), 'state', a.state, \
      'modes', coalesce((SELECT json_agg(DISTINCT h.mode) FROM pg_catalog.pg_locks h \
                 WHERE h.pid = b.pid AND h.locktype = w.locktype \
                   AND h.database IS NOT DISTINCT FROM w.database \
                   AND h.relation IS NOT DISTINCT FROM w.relation \
                   AND h.page IS NOT DISTINCT FROM w.page \
                   AND h.tuple IS NOT DISTINCT FROM w.tuple \
                   AND h.virtualxid IS NOT DISTINCT FROM w.virtualxid \
                   AND h.transactionid IS NOT DISTINCT FROM w.transactionid \
                   AND h.classid IS NOT DISTINCT FROM w.classid \
                   AND h.objid IS NOT DISTINCT FROM w.objid \
                   AND h.objsubid IS NOT DISTINCT FROM w.objsubid), '[]')) ORDER BY b.pid) \
    FROM unnest(pg_catalog.pg_blocking_pids($1)) AS b(pid) \
    LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = b.pid), '[]')) \
FROM w \
LEFT JOIN pg_catalog.pg_class c ON c.oid = w.relation \
     AND w.database IN (0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())) \
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace";

#[derive(Deserialize)]
struct WaitRow {
    locktype: String,
    database: Option<i64>,
    relation: Option<i64>,
    nspname: Option<String>,
    relname: Option<String>,
    page: Option<i32>,
    tuple: Option<i32>,
    virtualxid: Option<String>,
    transactionid: Option<String>,
    classid: Option<i64>,
    objid: Option<i64>,
    objsubid: Option<i32>,
    mode: String,
    blockers: Vec<BlockerRow>,
}

#[derive(Deserialize)]
struct BlockerRow {
    pid: i64,
    application: String,
    state: Option<String>,
    modes: Vec<String>,
}

#[derive(Deserialize)]
struct RelRow {
    oid: i64,
    relkind: String,
    nspname: String,
    relname: String,
}

#[derive(Deserialize)]
struct ObjRow {
    c: i64,
    o: i64,
    s: i32,
    d: Option<String>,
}

/// Every transaction holds `ExclusiveLock` on its own virtual transaction id, and on its
/// transaction id (and on each writing subtransaction's) once it has one.
fn is_own_transaction_lock(l: &HeldLock) -> bool {
    l.granted
        && l.mode == "ExclusiveLock"
        && matches!(l.locktype.as_str(), "virtualxid" | "transactionid")
}

/// A total order on lock rows: lock type, relation name, mode, then the rest of the lock tag
/// (the server returns rows in hash order).
#[allow(clippy::type_complexity)]
fn sort_key(
    l: &HeldLock,
) -> (
    &str,
    Option<&str>,
    &str,
    (Option<u32>, Option<u32>, Option<u32>, Option<i32>),
    (Option<i32>, Option<i32>, Option<&str>, Option<&str>),
) {
    (
        &l.locktype,
        l.relation_name.as_ref().map(|r| r.as_str()),
        &l.mode,
        (l.relation, l.classid, l.objid, l.objsubid),
        (
            l.page,
            l.tuple,
            l.transactionid.as_deref(),
            l.virtualxid.as_deref(),
        ),
    )
}

/// Whether two rows are the same lock: the same object in the same mode.
fn same_lock(a: &HeldLock, b: &HeldLock) -> bool {
    a.same_object(b) && a.mode == b.mode && a.granted == b.granted
}

/// `locks` without those in `known` (the baseline).
fn without(locks: Vec<TracedLock>, known: &[TracedLock]) -> Vec<TracedLock> {
    locks
        .into_iter()
        .filter(|l| !known.iter().any(|k| same_lock(&k.lock, &l.lock)))
        .collect()
}

/// The locks of `a` that are not in `b`.
fn difference(a: &[TracedLock], b: &[TracedLock]) -> Vec<TracedLock> {
    a.iter()
        .filter(|l| !b.iter().any(|k| same_lock(&k.lock, &l.lock)))
        .cloned()
        .collect()
}

/// The upper-case keywords of a statement, in order: quoted identifiers become `"`, strings
/// `'`, other punctuation its character; comments are skipped.
fn words(sql: &str) -> Vec<String> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'-' && b.get(i + 1) == Some(&b'-') {
            i = sql[i..].find('\n').map_or(b.len(), |n| i + n);
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 0usize;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == b'\'' || c == b'"' {
            let mut j = i + 1;
            while j < b.len() {
                if b[j] == c {
                    if b.get(j + 1) == Some(&c) {
                        j += 2;
                        continue;
                    }
                    break;
                }
                j += 1;
            }
            out.push((c as char).to_string());
            i = j + 1;
        } else if c == b'$'
            && let Some(end) = dollar_quote_end(sql, i)
        {
            out.push("'".to_string());
            i = end;
        } else if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            let start = i;
            while i < b.len()
                && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$' || b[i] >= 0x80)
            {
                i += 1;
            }
            out.push(sql[start..i].to_ascii_uppercase());
        } else {
            out.push((c as char).to_string());
            i += 1;
        }
    }
    out
}

/// The end (exclusive) of a dollar-quoted string starting at `i`, if one starts there.
fn dollar_quote_end(sql: &str, i: usize) -> Option<usize> {
    let rest = &sql[i + 1..];
    let close = rest.find('$')?;
    let tag = &rest[..close];
    if !tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        || tag.starts_with(|c: char| c.is_ascii_digit())
    {
        return None;
    }
    let delim = &sql[i..i + close + 2];
    let body = i + delim.len();
    sql[body..]
        .find(delim)
        .map(|n| body + n + delim.len())
        .or(Some(sql.len()))
}

/// Why `sql` must not be run by the tracer, if it must not. `version_num` is the server's
/// `server_version_num` (some commands became transactional in later versions).
pub(crate) fn classify(sql: &str, version_num: i32) -> Option<SkipReason> {
    if sql.trim_start().starts_with('\\') {
        return Some(SkipReason::Unsupported {
            command: sql.split_whitespace().next().unwrap_or("\\").to_string(),
            why: "a psql meta-command, not SQL".into(),
        });
    }
    let w = words(sql);
    let w: Vec<&str> = w.iter().map(String::as_str).collect();
    let has = |word: &str| w.contains(&word);
    let control = |command: &str| {
        Some(SkipReason::TransactionControl {
            command: command.to_string(),
        })
    };
    let not_in_block = |command: &str| {
        Some(SkipReason::NotInTransactionBlock {
            command: command.to_string(),
        })
    };
    match w.as_slice() {
        ["BEGIN", ..] => control("BEGIN"),
        ["START", "TRANSACTION", ..] => control("START TRANSACTION"),
        ["END", ..] => control("END"),
        ["ABORT", ..] => control("ABORT"),
        ["COMMIT", "PREPARED", ..] => not_in_block("COMMIT PREPARED"),
        ["COMMIT", ..] => control("COMMIT"),
        ["ROLLBACK", "PREPARED", ..] => not_in_block("ROLLBACK PREPARED"),
        // ROLLBACK TO SAVEPOINT stays inside the transaction and releases locks: run it.
        ["ROLLBACK", "TO", ..] => None,
        ["ROLLBACK", ..] => control("ROLLBACK"),
        ["PREPARE", "TRANSACTION", ..] => control("PREPARE TRANSACTION"),
        // Must be the first statement of a transaction; the tracer's reads come first.
        ["SET", "TRANSACTION", ..] => control("SET TRANSACTION"),
        ["VACUUM", ..] => not_in_block("VACUUM"),
        ["CREATE", "DATABASE", ..] => not_in_block("CREATE DATABASE"),
        ["DROP", "DATABASE", ..] => not_in_block("DROP DATABASE"),
        ["CREATE", "TABLESPACE", ..] => not_in_block("CREATE TABLESPACE"),
        ["DROP", "TABLESPACE", ..] => not_in_block("DROP TABLESPACE"),
        ["ALTER", "SYSTEM", ..] => not_in_block("ALTER SYSTEM"),
        ["ALTER", "DATABASE", _, "SET", "TABLESPACE", ..] => {
            not_in_block("ALTER DATABASE … SET TABLESPACE")
        }
        ["DISCARD", "ALL", ..] => not_in_block("DISCARD ALL"),
        ["CREATE", "INDEX", "CONCURRENTLY", ..]
        | ["CREATE", "UNIQUE", "INDEX", "CONCURRENTLY", ..] => {
            not_in_block("CREATE INDEX CONCURRENTLY")
        }
        ["DROP", "INDEX", "CONCURRENTLY", ..] => not_in_block("DROP INDEX CONCURRENTLY"),
        ["REINDEX", ..] if has("CONCURRENTLY") => not_in_block("REINDEX CONCURRENTLY"),
        ["REINDEX", ..] if has("DATABASE") || has("SYSTEM") => {
            not_in_block("REINDEX DATABASE/SYSTEM")
        }
        ["CLUSTER", rest @ ..] if !rest.iter().any(|x| is_name(x) && *x != "VERBOSE") => {
            not_in_block("CLUSTER (every table)")
        }
        ["ALTER", "TABLE", ..] if has("DETACH") && has("CONCURRENTLY") => {
            not_in_block("ALTER TABLE … DETACH PARTITION … CONCURRENTLY")
        }
        ["ALTER", "TYPE", ..] if version_num < 120000 && has("ADD") && has("VALUE") => {
            not_in_block("ALTER TYPE … ADD VALUE (before PostgreSQL 12)")
        }
        [verb @ ("CREATE" | "ALTER" | "DROP"), "SUBSCRIPTION", ..] => {
            Some(SkipReason::Unsupported {
                command: format!("{verb} SUBSCRIPTION"),
                why: "acts on the publisher (replication slots), which a rollback does not \
                      undo"
                    .into(),
            })
        }
        ["COPY", ..] if has("STDIN") || has("STDOUT") => Some(SkipReason::Unsupported {
            command: "COPY … STDIN/STDOUT".into(),
            why: "needs the data stream psql sends or receives".into(),
        }),
        _ => None,
    }
}

/// Whether a word token is a name or keyword (not punctuation, not a literal).
fn is_name(w: &str) -> bool {
    w == "\"" || w.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || !c.is_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(locktype: &str, relation: Option<u32>, mode: &str) -> TracedLock {
        TracedLock {
            lock: HeldLock {
                locktype: locktype.into(),
                relation,
                mode: mode.into(),
                granted: true,
                ..HeldLock::default()
            },
            relkind: None,
            created_here: false,
            object: None,
        }
    }

    fn skipped(sql: &str) -> Option<String> {
        classify(sql, 150000).map(|r| r.command().to_string())
    }

    #[test]
    fn transaction_control_is_skipped_but_savepoints_run() {
        for (sql, cmd) in [
            ("BEGIN", "BEGIN"),
            ("begin isolation level serializable", "BEGIN"),
            ("START TRANSACTION READ WRITE", "START TRANSACTION"),
            ("COMMIT", "COMMIT"),
            ("commit and chain", "COMMIT"),
            ("END", "END"),
            ("ABORT", "ABORT"),
            ("ROLLBACK", "ROLLBACK"),
            ("PREPARE TRANSACTION 'x'", "PREPARE TRANSACTION"),
            (
                "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
                "SET TRANSACTION",
            ),
            ("-- header\n/* c */ COMMIT", "COMMIT"),
        ] {
            assert_eq!(skipped(sql).as_deref(), Some(cmd), "{sql}");
        }
        for sql in [
            "SAVEPOINT a",
            "ROLLBACK TO SAVEPOINT a",
            "rollback to a",
            "RELEASE a",
            "SET lock_timeout = '5s'",
            "SET LOCAL statement_timeout = 0",
        ] {
            assert_eq!(skipped(sql), None, "{sql}");
        }
    }

    #[test]
    fn commands_outside_transaction_blocks_are_not_traceable() {
        for (sql, cmd) in [
            (
                "CREATE INDEX CONCURRENTLY i ON t (a)",
                "CREATE INDEX CONCURRENTLY",
            ),
            (
                "create unique index concurrently on t (a)",
                "CREATE INDEX CONCURRENTLY",
            ),
            ("DROP INDEX CONCURRENTLY i", "DROP INDEX CONCURRENTLY"),
            ("REINDEX TABLE CONCURRENTLY t", "REINDEX CONCURRENTLY"),
            ("REINDEX (VERBOSE) DATABASE d", "REINDEX DATABASE/SYSTEM"),
            ("VACUUM (ANALYZE) t", "VACUUM"),
            ("vacuum full", "VACUUM"),
            ("CLUSTER", "CLUSTER (every table)"),
            ("CLUSTER VERBOSE", "CLUSTER (every table)"),
            ("CREATE DATABASE x", "CREATE DATABASE"),
            ("DROP DATABASE IF EXISTS x", "DROP DATABASE"),
            ("ALTER SYSTEM SET work_mem = '1MB'", "ALTER SYSTEM"),
            (
                "ALTER TABLE m DETACH PARTITION \"m 1\" CONCURRENTLY",
                "ALTER TABLE … DETACH PARTITION … CONCURRENTLY",
            ),
            ("DISCARD ALL", "DISCARD ALL"),
            ("COMMIT PREPARED 'x'", "COMMIT PREPARED"),
            ("COPY t FROM STDIN", "COPY … STDIN/STDOUT"),
            (
                "CREATE SUBSCRIPTION s CONNECTION '' PUBLICATION p",
                "CREATE SUBSCRIPTION",
            ),
            ("\\set x 1", "\\set"),
        ] {
            assert_eq!(skipped(sql).as_deref(), Some(cmd), "{sql}");
        }
        for sql in [
            "CREATE INDEX i ON t (a)",
            "CREATE INDEX concurrently_named ON t (a)",
            "CLUSTER t USING i",
            "REINDEX TABLE t",
            "ALTER TABLE m DETACH PARTITION m1",
            "ALTER TYPE mood ADD VALUE 'meh'",
            "COPY t FROM '/tmp/x'",
            "SELECT 'VACUUM'",
            "ANALYZE t",
            "UPDATE t SET note = $$ COMMIT $$",
        ] {
            assert_eq!(skipped(sql), None, "{sql}");
        }
        assert!(classify("ALTER TYPE mood ADD VALUE 'meh'", 110000).is_some());
    }

    #[test]
    fn words_skip_comments_and_literals() {
        assert_eq!(
            words("/* a /* nested */ */ create -- x\n index \"Conc\" 'str''s' $q$ body $q$ ;"),
            ["CREATE", "INDEX", "\"", "'", "'", ";"]
        );
    }

    #[test]
    fn taken_and_released_are_set_differences() {
        let a = lock("relation", Some(1), "AccessExclusiveLock");
        let b = lock("relation", Some(1), "RowExclusiveLock");
        let c = lock("relation", Some(2), "AccessShareLock");
        let before = vec![a.clone(), c.clone()];
        let after = vec![a.clone(), b.clone()];
        assert_eq!(difference(&after, &before), [b]);
        assert_eq!(difference(&before, &after), std::slice::from_ref(&c));
        assert_eq!(
            without(vec![a.clone(), c.clone()], std::slice::from_ref(&c)),
            [a]
        );
    }

    #[test]
    fn own_transaction_ids_are_noise() {
        let mut v = lock("virtualxid", None, "ExclusiveLock").lock;
        assert!(is_own_transaction_lock(&v));
        v.locktype = "transactionid".into();
        assert!(is_own_transaction_lock(&v));
        v.mode = "ShareLock".into();
        assert!(!is_own_transaction_lock(&v));
        assert!(!is_own_transaction_lock(
            &lock("relation", Some(1), "ExclusiveLock").lock
        ));
    }

    #[test]
    fn options_must_bound_every_wait() {
        assert!(validate(&TraceOptions::default()).is_ok());
        let zero = TraceOptions::default().with_lock_timeout(Duration::ZERO);
        assert!(matches!(validate(&zero), Err(Error::InvalidOptions(_))));
    }

    #[test]
    fn the_future_can_move_between_threads() {
        fn assert_send<T: Send>(_: &T) {}
        let spec = ConnectionSpec::new();
        let opts = TraceOptions::default();
        assert_send(&run_trace(&spec, &[], &opts));
    }

    #[test]
    fn script_statements_keep_lines() {
        let s =
            script_statements("-- m\nBEGIN;\nALTER TABLE t\n  ADD COLUMN c int;\nCOMMIT;").unwrap();
        let got: Vec<(usize, &str)> = s.iter().map(|s| (s.line, s.sql.as_str())).collect();
        assert_eq!(
            got,
            [
                (2, "BEGIN"),
                (3, "ALTER TABLE t\n  ADD COLUMN c int"),
                (5, "COMMIT")
            ]
        );
        assert!(script_statements("SELECT 'x").is_err());
    }
}
