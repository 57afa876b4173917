//! The reproduction runner for MySQL/MariaDB: play a [`Repro`] written for InnoDB against a real
//! server, one connection per session, and report which steps blocked and whether InnoDB
//! detected a deadlock (error 1213 `ER_LOCK_DEADLOCK`, SQLSTATE 40001).
//!
//! It behaves like `lockgraph_pg`'s runner and returns the same [`ReproOutcome`]:
//!
//! 1. A monitor connection creates a scratch database `lockgraph_repro_<random>`.
//! 2. A setup connection runs `Repro::setup` there, statement by statement, in autocommit.
//!    A failure is [`Error::Setup`].
//! 3. One connection per session, each served by a thread of its own (the driver is blocking),
//!    with the scratch database as default, REPEATABLE READ (the isolation level lockgraph's
//!    InnoDB model assumes), `innodb_lock_wait_timeout` / `lock_wait_timeout` and a statement
//!    time limit so nothing waits forever.
//! 4. Steps are issued in order. The runner waits until a step finishes or until the monitor
//!    sees its connection waiting for a lock — a `LOCK WAIT` transaction of that thread in
//!    `SHOW ENGINE INNODB STATUS`, or a `Waiting for … lock` state in the process list (metadata
//!    and table locks) — then goes on with the next step. (`information_schema.INNODB_TRX` is
//!    not used for this: InnoDB refreshes it only when nobody read it for 0.1 s, so polling it
//!    keeps showing an old state.)
//! 5. A step for a session whose previous statement still waits is *deferred*: queued and run
//!    as soon as that statement finishes, as the `mysql` client runs what is typed while it
//!    waits.
//! 6. At the end, outstanding statements are awaited (bounded by the timeouts plus a grace
//!    period, then killed), every session's connection is closed (which rolls it back; one that
//!    still runs a statement is killed), and the scratch database is dropped — also when
//!    anything above failed or panicked (a guard drops it).
//!
//! InnoDB finds a deadlock the moment a lock wait closes a cycle and rolls back the transaction
//! it considers cheapest (fewest rows changed), so the victim is either the step that closed the
//! cycle or the one of another session that was already waiting in it.

use crate::error::describe;
use crate::read::Flavor;
use crate::{Error, Target};
use lockgraph_core::{Engine, Repro, ReproOutcome, StepError, StepResult};
use mysql::prelude::Queryable;
use mysql::{Conn, OptsBuilder};
use std::collections::{BTreeSet, VecDeque};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// MySQL's error number for "Deadlock found when trying to get lock" (`ER_LOCK_DEADLOCK`).
pub const DEADLOCK_ERROR: u32 = 1213;

/// The SQLSTATE that comes with [`DEADLOCK_ERROR`].
pub const DEADLOCK_SQLSTATE: &str = "40001";

/// How the runner behaves. `ReproOptions::default()` suits a local or test server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReproOptions {
    /// `innodb_lock_wait_timeout` and `lock_wait_timeout` of every session, in whole seconds
    /// (at least 1): a statement waiting longer for a row, table or metadata lock fails with
    /// error 1205.
    pub lock_wait_timeout: Duration,
    /// Time limit of every statement (`max_statement_time` on MariaDB, `max_execution_time`
    /// on MySQL, where it covers `SELECT` only).
    pub statement_timeout: Duration,
    /// How often the monitor looks for lock waits while a step runs.
    pub poll_interval: Duration,
    /// Scratch database name prefix; 16 random hex digits are appended. Lower-case ASCII
    /// letters, digits and `_`, at most 40 characters.
    pub database_prefix: String,
}

impl Default for ReproOptions {
    fn default() -> Self {
        ReproOptions {
            lock_wait_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
            poll_interval: Duration::from_millis(10),
            database_prefix: "lockgraph_repro_".to_string(),
        }
    }
}

/// Runs `repro` against the server at `url` (`mysql://…` or `mariadb://…`); see [`run_repro_on`].
pub fn run_repro(url: &str, repro: &Repro, opts: &ReproOptions) -> Result<ReproOutcome, Error> {
    run_repro_on(&Target::parse(url)?, repro, opts)
}

/// Runs `repro` against `target` in a scratch database that is dropped afterwards. See the
/// [module docs](self) for the steps.
///
/// Statement errors during the steps are results, not errors. `Err` means the run could not
/// happen: no connection, a failing setup statement, an invalid repro (one written for another
/// engine), a broken connection, or a scratch database that could not be dropped.
pub fn run_repro_on(
    target: &Target,
    repro: &Repro,
    opts: &ReproOptions,
) -> Result<ReproOutcome, Error> {
    validate(repro, opts)?;
    let server = target.to_string();
    let mut monitor = Conn::new(target.opts().clone()).map_err(|e| Error::Connect {
        target: server.clone(),
        reason: describe(&e),
    })?;
    let version: String = monitor
        .query_first("SELECT VERSION()")
        .map_err(query_error(&server, "reading the version"))?
        .unwrap_or_default();
    let flavor = Flavor::detect(&version);
    let settings = session_settings(flavor, opts);
    // The monitor's own statements (DROP DATABASE) may wait for metadata locks: bounded too.
    for s in &settings[2..] {
        monitor
            .query_drop(s)
            .map_err(query_error(&server, &format!("monitor: `{s}`")))?;
    }
    let name = format!(
        "{}{:016x}",
        opts.database_prefix,
        lockgraph_core::outcome::scratch_id()
    );
    monitor
        .query_drop(format!("CREATE DATABASE `{name}`"))
        .map_err(query_error(&server, "creating the scratch database"))?;
    let mut scratch = Scratch {
        monitor,
        server,
        name,
        dropped: false,
    };
    let result = {
        let mut runner = Runner::new(target, repro, opts, &settings, &mut scratch);
        let played = runner.play();
        runner.shutdown();
        played.map(|()| runner.outcome())
    };
    let dropped = scratch.drop_database();
    match (result, dropped) {
        (Err(e), _) => Err(e),
        (Ok(_), Err(e)) => Err(e),
        (Ok(outcome), Ok(())) => Ok(outcome),
    }
}

fn validate(repro: &Repro, opts: &ReproOptions) -> Result<(), Error> {
    lockgraph_core::outcome::check_repro(repro, Engine::Mysql, "MySQL/MariaDB")
        .map_err(Error::InvalidRepro)?;
    let p = &opts.database_prefix;
    if !lockgraph_core::outcome::valid_scratch_prefix(p) {
        return Err(Error::InvalidRepro(format!(
            "database prefix `{p}` must be 1 to 40 lower-case letters, digits or `_`, not \
             starting with a digit"
        )));
    }
    if opts.poll_interval.is_zero() {
        return Err(Error::InvalidRepro(
            "poll interval must be positive".to_string(),
        ));
    }
    Ok(())
}

/// The settings of every connection of a run: isolation level, lock waits, statement limit.
/// The first two are for the sessions only.
fn session_settings(flavor: Flavor, opts: &ReproOptions) -> Vec<String> {
    let lock_s = opts.lock_wait_timeout.as_secs().max(1);
    let limit = match flavor {
        Flavor::MariaDb => format!(
            "SET SESSION max_statement_time = {}",
            opts.statement_timeout.as_secs_f64()
        ),
        Flavor::MySql57 | Flavor::MySql8 => format!(
            "SET SESSION max_execution_time = {}",
            opts.statement_timeout.as_millis()
        ),
    };
    vec![
        "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ".to_string(),
        format!("SET SESSION innodb_lock_wait_timeout = {lock_s}"),
        format!("SET SESSION lock_wait_timeout = {lock_s}"),
        limit,
    ]
}

fn query_error(server: &str, context: &str) -> impl FnOnce(mysql::Error) -> Error {
    let (target, context) = (server.to_string(), context.to_string());
    move |e| Error::Query {
        target,
        context,
        reason: describe(&e),
    }
}

/// The scratch database and the monitor connection; dropping it drops the database (when
/// [`Scratch::drop_database`] has not), so a panic leaves nothing behind.
struct Scratch {
    monitor: Conn,
    server: String,
    name: String,
    dropped: bool,
}

impl Scratch {
    fn drop_database(&mut self) -> Result<(), Error> {
        self.dropped = true;
        self.monitor
            .query_drop(format!("DROP DATABASE IF EXISTS `{}`", self.name))
            .map_err(|e| Error::Cleanup {
                target: self.server.clone(),
                database: self.name.clone(),
                reason: describe(&e),
            })
    }

    /// Ends a session's connection (and so its transaction); errors are ignored (it may be
    /// gone already).
    fn kill(&mut self, connection: u32) {
        let _ = self
            .monitor
            .query_drop(format!("KILL CONNECTION {connection}"));
    }

    /// Whether `connection` waits for a lock: a metadata or table lock (process list state), or
    /// an InnoDB row or table lock (`LOCK WAIT` in `SHOW ENGINE INNODB STATUS`).
    fn waiting(&mut self, connection: u32) -> Result<bool, Error> {
        let state: Option<Option<String>> = self
            .monitor
            .query_first(format!(
                "SELECT STATE FROM information_schema.PROCESSLIST WHERE ID = {connection}"
            ))
            .map_err(query_error(
                &self.server,
                "monitor: reading the process list",
            ))?;
        if let Some(Some(s)) = state {
            let s = s.to_ascii_lowercase();
            if s.starts_with("waiting for") && s.contains("lock") {
                return Ok(true);
            }
        }
        let status: Option<(String, String, String)> = self
            .monitor
            .query_first("SHOW ENGINE INNODB STATUS")
            .map_err(query_error(
                &self.server,
                "monitor: SHOW ENGINE INNODB STATUS",
            ))?;
        Ok(status.is_some_and(|(_, _, text)| lock_waits(&text).contains(&u64::from(connection))))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !self.dropped {
            let _ = self.drop_database();
        }
    }
}

/// The connection ids of the transactions in `LOCK WAIT` in the transaction list of
/// `SHOW ENGINE INNODB STATUS` (not in its `LATEST DETECTED DEADLOCK` section, which is history).
fn lock_waits(status: &str) -> BTreeSet<u64> {
    let mut out = BTreeSet::new();
    let Some(start) = status.find("LIST OF TRANSACTIONS FOR EACH SESSION:") else {
        return out;
    };
    let mut waiting = false;
    for line in status[start..].lines() {
        if line == "FILE I/O" || line.starts_with("END OF INNODB MONITOR OUTPUT") {
            break;
        }
        if line.starts_with("---TRANSACTION") {
            waiting = false;
        } else if line.starts_with("LOCK WAIT") {
            waiting = true;
        } else if let Some((_, rest)) = line.split_once(" thread id ")
            && waiting
            && (line.starts_with("MySQL") || line.starts_with("MariaDB"))
            && let Ok(id) = rest
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap_or("")
                .parse::<u64>()
        {
            out.insert(id);
        }
    }
    out
}

/// What a session thread reports for one statement.
enum Failure {
    /// The server's error: a result of the step.
    Server(StepError),
    /// The connection broke: the run cannot go on.
    Connection(String),
}

type Reply = (usize, Result<(), Failure>);

/// One session: its connection id and the thread that runs its statements.
struct Session {
    id: u32,
    commands: Option<Sender<(usize, String)>>,
    thread: Option<JoinHandle<()>>,
}

/// Runs the statements it receives on `conn`, one at a time, and reports each outcome.
fn serve(mut conn: Conn, commands: Receiver<(usize, String)>, replies: Sender<Reply>) {
    while let Ok((step, sql)) = commands.recv() {
        let result = conn.query_drop(&sql).map_err(|e| match e {
            mysql::Error::MySqlError(m) => Failure::Server(StepError {
                sqlstate: m.state,
                code: Some(u32::from(m.code)),
                message: m.message,
                detail: None,
            }),
            other => Failure::Connection(describe(&other)),
        });
        if replies.send((step, result)).is_err() {
            break;
        }
    }
}

struct Runner<'a> {
    target: &'a Target,
    repro: &'a Repro,
    opts: &'a ReproOptions,
    settings: &'a [String],
    scratch: &'a mut Scratch,
    sessions: Vec<Session>,
    replies: Receiver<Reply>,
    reply_to: Sender<Reply>,
    /// Per session: the step still running (waiting for a lock).
    pending: Vec<Option<usize>>,
    /// Per session: steps issued while the session was busy, to run when it is free again.
    queued: Vec<VecDeque<usize>>,
    results: Vec<StepResult>,
}

impl<'a> Runner<'a> {
    fn new(
        target: &'a Target,
        repro: &'a Repro,
        opts: &'a ReproOptions,
        settings: &'a [String],
        scratch: &'a mut Scratch,
    ) -> Self {
        let results = repro
            .steps
            .iter()
            .map(|s| StepResult {
                session: s.session,
                sql: s.sql.clone(),
                blocked: false,
                deferred: false,
                error: None,
            })
            .collect();
        let (reply_to, replies) = mpsc::channel();
        Runner {
            target,
            repro,
            opts,
            settings,
            scratch,
            sessions: Vec::new(),
            replies,
            reply_to,
            pending: Vec::new(),
            queued: Vec::new(),
            results,
        }
    }

    fn outcome(&mut self) -> ReproOutcome {
        ReproOutcome::from_steps(std::mem::take(&mut self.results), |e| {
            e.code == Some(DEADLOCK_ERROR)
        })
    }

    /// Setup, sessions, steps, and waiting for what is still running.
    fn play(&mut self) -> Result<(), Error> {
        self.setup()?;
        for n in 1..=self.repro.sessions {
            let (conn, id) = self.connect(&format!("session {n}"))?;
            let (commands, inbox) = mpsc::channel();
            let replies = self.reply_to.clone();
            let thread = std::thread::Builder::new()
                .name(format!("repro session {n}"))
                .spawn(move || serve(conn, inbox, replies))
                .map_err(|e| Error::Query {
                    target: self.scratch.server.clone(),
                    context: format!("session {n}: starting its thread"),
                    reason: e.to_string(),
                })?;
            self.sessions.push(Session {
                id,
                commands: Some(commands),
                thread: Some(thread),
            });
            self.pending.push(None);
            self.queued.push(VecDeque::new());
        }
        for i in 0..self.repro.steps.len() {
            self.pump()?;
            let s = self.repro.steps[i].session - 1;
            if self.pending[s].is_some() || !self.queued[s].is_empty() {
                self.results[i].deferred = true;
                self.queued[s].push_back(i);
            } else {
                self.start(i)?;
            }
        }
        self.drain()
    }

    /// A connection on the scratch database with the run's settings, and its id.
    fn connect(&mut self, what: &str) -> Result<(Conn, u32), Error> {
        let server = &self.scratch.server;
        let opts = OptsBuilder::from_opts(self.target.opts().clone())
            .db_name(Some(self.scratch.name.clone()));
        let mut conn = Conn::new(opts).map_err(|e| Error::Connect {
            target: server.clone(),
            reason: format!("{what}: {}", describe(&e)),
        })?;
        for s in self.settings {
            conn.query_drop(s)
                .map_err(query_error(server, &format!("{what}: `{s}`")))?;
        }
        let id: Option<u32> = conn
            .query_first("SELECT CONNECTION_ID()")
            .map_err(query_error(server, &format!("{what}: reading its id")))?;
        Ok((conn, id.unwrap_or(0)))
    }

    /// Runs the setup in a connection of its own, one autocommit statement at a time.
    fn setup(&mut self) -> Result<(), Error> {
        if self.repro.setup.is_empty() {
            return Ok(());
        }
        let (mut conn, _) = self.connect("setup")?;
        for (i, sql) in self.repro.setup.iter().enumerate() {
            conn.query_drop(sql).map_err(|e| Error::Setup {
                target: self.scratch.server.clone(),
                index: i + 1,
                statement: lockgraph_core::outcome::first_line(sql, 100),
                reason: describe(&e),
            })?;
        }
        Ok(())
    }

    /// Starts step `i` on its (free) session and returns once it finished or waits for a lock.
    fn start(&mut self, i: usize) -> Result<(), Error> {
        let s = self.repro.steps[i].session - 1;
        let sent = self.sessions[s]
            .commands
            .as_ref()
            .is_some_and(|c| c.send((i, self.repro.steps[i].sql.clone())).is_ok());
        if !sent {
            return Err(self.broken(i, "its thread ended".to_string()));
        }
        self.pending[s] = Some(i);
        loop {
            match self.replies.recv_timeout(self.opts.poll_interval) {
                Ok(reply) => {
                    let done = reply.0;
                    self.record(reply)?;
                    if done == i {
                        return Ok(());
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    if self.scratch.waiting(self.sessions[s].id)? {
                        self.results[i].blocked = true;
                        return Ok(());
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(self.broken(i, "its thread ended".to_string()));
                }
            }
        }
    }

    /// Records a finished statement and frees its session. Server errors are results; a broken
    /// connection ends the run.
    fn record(&mut self, (i, result): Reply) -> Result<(), Error> {
        let s = self.repro.steps[i].session - 1;
        if self.pending[s] == Some(i) {
            self.pending[s] = None;
        }
        match result {
            Ok(()) => Ok(()),
            Err(Failure::Server(e)) => {
                self.results[i].error = Some(e);
                Ok(())
            }
            Err(Failure::Connection(reason)) => Err(self.broken(i, reason)),
        }
    }

    fn broken(&self, i: usize, reason: String) -> Error {
        Error::Query {
            target: self.scratch.server.clone(),
            context: format!("step {} (session {})", i + 1, self.repro.steps[i].session),
            reason,
        }
    }

    /// Records the statements that finished and starts the queued steps of the sessions that
    /// became free, until nothing moves. Returns whether anything did.
    fn pump(&mut self) -> Result<bool, Error> {
        let mut any = false;
        loop {
            let mut moved = false;
            while let Ok(reply) = self.replies.try_recv() {
                self.record(reply)?;
                moved = true;
            }
            for s in 0..self.sessions.len() {
                if self.pending[s].is_none()
                    && let Some(i) = self.queued[s].pop_front()
                {
                    self.start(i)?;
                    moved = true;
                }
            }
            if !moved {
                return Ok(any);
            }
            any = true;
        }
    }

    /// Waits until every step has run. The server's timeouts end any lock wait; if nothing
    /// moves for longer than they allow (plus a grace period), the waiting statements are
    /// killed, and if even that does not help the run fails.
    fn drain(&mut self) -> Result<(), Error> {
        let patience = self.opts.statement_timeout.max(self.opts.lock_wait_timeout) + GRACE;
        let mut last_move = Instant::now();
        let mut killed = false;
        loop {
            if self.pump()? {
                last_move = Instant::now();
            }
            let busy = self.pending.iter().any(Option::is_some)
                || self.queued.iter().any(|q| !q.is_empty());
            if !busy {
                return Ok(());
            }
            let idle = last_move.elapsed();
            if idle > patience + GRACE && killed {
                return Err(Error::Query {
                    target: self.scratch.server.clone(),
                    context: "waiting for the steps".to_string(),
                    reason: "statements still running after they were killed".to_string(),
                });
            }
            if idle > patience && !killed {
                for s in 0..self.sessions.len() {
                    if self.pending[s].is_some() {
                        let id = self.sessions[s].id;
                        let _ = self.scratch.monitor.query_drop(format!("KILL QUERY {id}"));
                    }
                }
                killed = true;
            }
            match self.replies.recv_timeout(self.opts.poll_interval) {
                Ok(reply) => {
                    self.record(reply)?;
                    last_move = Instant::now();
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(Error::Query {
                        target: self.scratch.server.clone(),
                        context: "waiting for the steps".to_string(),
                        reason: "the session threads ended".to_string(),
                    });
                }
            }
        }
    }

    /// Ends every session: closes its command channel (its thread then closes the connection,
    /// which rolls the transaction back), kills the connection of one still running a
    /// statement, and joins the threads.
    fn shutdown(&mut self) {
        for s in 0..self.sessions.len() {
            self.sessions[s].commands = None;
            if self.pending[s].take().is_some() {
                let id = self.sessions[s].id;
                self.scratch.kill(id);
            }
        }
        for session in &mut self.sessions {
            if let Some(t) = session.thread.take() {
                let _ = t.join();
            }
        }
    }
}

impl Drop for Runner<'_> {
    /// After a panic: kill every session's connection so its thread ends and the scratch
    /// database can be dropped.
    fn drop(&mut self) {
        if self.sessions.iter().any(|s| s.thread.is_some()) {
            for s in 0..self.sessions.len() {
                self.sessions[s].commands = None;
                let id = self.sessions[s].id;
                self.scratch.kill(id);
            }
            self.shutdown();
        }
    }
}

/// Extra time the runner allows beyond the server-side timeouts before it intervenes.
const GRACE: Duration = Duration::from_secs(5);

#[cfg(test)]
mod tests {
    use super::*;
    use lockgraph_core::ReproStep;

    fn step(session: usize, sql: &str) -> ReproStep {
        ReproStep {
            session,
            sql: sql.to_string(),
            origin: None,
            expect_block: false,
        }
    }

    fn mysql_repro(steps: Vec<ReproStep>, sessions: usize) -> Repro {
        Repro {
            steps,
            sessions,
            engine: Engine::Mysql,
            ..Repro::default()
        }
    }

    #[test]
    fn validation() {
        let opts = ReproOptions::default();
        let pg = Repro {
            steps: vec![step(1, "SELECT 1")],
            sessions: 1,
            ..Repro::default()
        };
        let msg = validate(&pg, &opts).unwrap_err().to_string();
        assert!(msg.contains("written for PostgreSQL"), "{msg}");
        assert!(validate(&mysql_repro(vec![], 1), &opts).is_err());
        let msg = validate(&mysql_repro(vec![step(3, "SELECT 1")], 2), &opts)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("step 1 is in session 3"), "{msg}");
        let ok = mysql_repro(vec![step(2, "SELECT 1")], 2);
        assert!(validate(&ok, &opts).is_ok());
        for prefix in ["", "Upper", "1abc", "has-dash", "a`b", &"x".repeat(41)] {
            let o = ReproOptions {
                database_prefix: prefix.to_string(),
                ..ReproOptions::default()
            };
            assert!(validate(&ok, &o).is_err(), "{prefix}");
        }
    }

    #[test]
    fn settings_bound_every_wait() {
        let opts = ReproOptions::default();
        let maria = session_settings(Flavor::MariaDb, &opts);
        assert_eq!(
            maria,
            [
                "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
                "SET SESSION innodb_lock_wait_timeout = 5",
                "SET SESSION lock_wait_timeout = 5",
                "SET SESSION max_statement_time = 30",
            ]
        );
        let mysql8 = session_settings(Flavor::MySql8, &opts);
        assert_eq!(mysql8[3], "SET SESSION max_execution_time = 30000");
    }

    /// The transaction section of `SHOW ENGINE INNODB STATUS` on MariaDB 10.11 with one
    /// transaction waiting for a row lock, and a deadlock section that must not count.
    const STATUS: &str = "\
------------------------
LATEST DETECTED DEADLOCK
------------------------
*** (1) TRANSACTION:
TRANSACTION 8590, ACTIVE 0 sec starting index read
LOCK WAIT 3 lock struct(s), heap size 1128, 2 row lock(s), undo log entries 1
MariaDB thread id 2300, OS thread handle 1, query id 5 127.0.0.1 root Updating
------------
TRANSACTIONS
------------
Trx id counter 8605
LIST OF TRANSACTIONS FOR EACH SESSION:
---TRANSACTION 8604, ACTIVE 0 sec starting index read
mysql tables in use 1, locked 1
LOCK WAIT 2 lock struct(s), heap size 1128, 1 row lock(s)
MariaDB thread id 2413, OS thread handle 131298565813952, query id 29224 127.0.0.1 root Updating
update zz_probe set v=2 where id=1
------- TRX HAS BEEN WAITING 302453 us FOR THIS LOCK TO BE GRANTED:
RECORD LOCKS space id 761 page no 3 n bits 320 index PRIMARY of table `test`.`zz_probe` trx id 8604 lock_mode X locks rec but not gap waiting
------------------
---TRANSACTION 8603, ACTIVE 0 sec
2 lock struct(s), heap size 1128, 1 row lock(s), undo log entries 1
MariaDB thread id 2412, OS thread handle 140094710339264, query id 29221 127.0.0.1 root User sleep
select sleep(2)
---TRANSACTION 8700, ACTIVE 3 sec starting index read
LOCK WAIT 2 lock struct(s), heap size 1136, 1 row lock(s)
MySQL thread id 17, OS thread handle 1, query id 9 localhost root updating
--------
FILE I/O
--------
LOCK WAIT 2 lock struct(s)
MariaDB thread id 99, OS thread handle 1
";

    #[test]
    fn lock_waits_come_from_the_transaction_list_only() {
        assert_eq!(lock_waits(STATUS), BTreeSet::from([2413, 17]));
        assert!(lock_waits("no transactions section").is_empty());
    }
}
