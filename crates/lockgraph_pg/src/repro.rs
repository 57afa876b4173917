//! The reproduction runner: play a [`Repro`] against a real server, one connection per session,
//! and report which steps blocked and whether PostgreSQL detected a deadlock (SQLSTATE 40P01).
//!
//! How a run goes:
//!
//! 1. A monitor connection creates a scratch schema `lockgraph_repro_<random>`.
//! 2. A setup connection runs `Repro::setup` there, statement by statement, in autocommit.
//!    A failure is [`Error::Setup`].
//! 3. One connection per session, `search_path` set to the scratch schema, with `lock_timeout`
//!    and `statement_timeout` so nothing waits forever.
//! 4. Steps are issued in order. Each statement starts in a task of its own; the runner waits
//!    until it finishes or until the monitor sees its backend waiting for a lock (an ungranted
//!    row in `pg_locks`), then goes on with the next step.
//! 5. A step for a session whose previous statement is still waiting is *deferred*: queued on
//!    that session and run as soon as the statement before it finishes — what psql does with a
//!    statement typed while it waits. Meanwhile the other sessions' steps go on, so a script
//!    whose blocked session is released by a later step of another session (commit, then
//!    continue) runs as written instead of stalling until `lock_timeout`.
//! 6. At the end, outstanding statements are awaited (bounded by the server-side timeouts plus
//!    a grace period, then cancelled), every session is rolled back, and the scratch schema is
//!    dropped with `CASCADE` — also when anything above failed.

use crate::connect::query_error;
use crate::session::{Session, quote_ident};
use crate::{ConnectionSpec, Error, runtime};
use lockgraph_core::Repro;
pub use lockgraph_core::{DeadlockSeen, ReproOutcome, StepError, StepResult};
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tokio_postgres::Statement;

/// SQLSTATE of "deadlock detected".
pub const DEADLOCK_SQLSTATE: &str = "40P01";

/// How the runner behaves. `ReproOptions::default()` suits a local or test server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReproOptions {
    /// `lock_timeout` of every session: a statement waiting longer fails with 55P03.
    pub lock_timeout: Duration,
    /// `statement_timeout` of every session: a statement running longer fails with 57014.
    pub statement_timeout: Duration,
    /// `SET deadlock_timeout` on every session (superuser only). `None` keeps the server's
    /// (1 s by default): PostgreSQL looks for a deadlock after a lock wait this long.
    pub deadlock_timeout: Option<Duration>,
    /// How often the monitor looks at `pg_locks` while a step runs.
    pub poll_interval: Duration,
    /// Scratch schema name prefix; 16 random hex digits are appended. Lower-case ASCII letters,
    /// digits and `_`, at most 40 characters.
    pub schema_prefix: String,
}

impl Default for ReproOptions {
    fn default() -> Self {
        ReproOptions {
            lock_timeout: Duration::from_secs(10),
            statement_timeout: Duration::from_secs(30),
            deadlock_timeout: None,
            poll_interval: Duration::from_millis(5),
            schema_prefix: "lockgraph_repro_".to_string(),
        }
    }
}

/// Runs `repro` against the server `spec` points at, in a scratch schema that is dropped
/// afterwards. See the [module docs](self) for the steps.
///
/// Statement errors during the steps are results, not errors. `Err` means the run could not
/// happen: no connection, a failing setup statement, an invalid repro, a broken connection.
pub async fn run_repro(
    spec: &ConnectionSpec,
    repro: &Repro,
    opts: &ReproOptions,
) -> Result<ReproOutcome, Error> {
    validate(repro, opts)?;
    let schema = format!(
        "{}{:016x}",
        opts.schema_prefix,
        lockgraph_core::outcome::scratch_id()
    );
    let monitor_settings = [
        ("lock_timeout", millis(opts.lock_timeout)),
        ("statement_timeout", millis(opts.statement_timeout)),
    ];
    let monitor = Session::open(spec, "monitor", &monitor_settings).await?;
    monitor
        .run(
            &format!("CREATE SCHEMA {}", quote_ident(&schema)),
            "creating the scratch schema",
        )
        .await?;
    let result = Runner::new(spec, repro, opts, &schema, &monitor)
        .run()
        .await;
    let dropped = monitor
        .run(
            &format!("DROP SCHEMA IF EXISTS {} CASCADE", quote_ident(&schema)),
            "dropping the scratch schema",
        )
        .await;
    match (result, dropped) {
        (Err(e), _) => Err(e),
        (Ok(_), Err(e)) => Err(Error::Cleanup {
            schema,
            message: e.to_string(),
        }),
        (Ok(outcome), Ok(())) => Ok(outcome),
    }
}

/// Blocking [`run_repro`], on a current-thread runtime of its own. Do not call it from async
/// code (it would panic inside another runtime).
pub fn run_repro_blocking(
    spec: &ConnectionSpec,
    repro: &Repro,
    opts: &ReproOptions,
) -> Result<ReproOutcome, Error> {
    runtime()?.block_on(run_repro(spec, repro, opts))
}

fn validate(repro: &Repro, opts: &ReproOptions) -> Result<(), Error> {
    lockgraph_core::outcome::check_repro(repro, lockgraph_core::Engine::Postgres, "PostgreSQL")
        .map_err(Error::InvalidRepro)?;
    let p = &opts.schema_prefix;
    if !lockgraph_core::outcome::valid_scratch_prefix(p) {
        return Err(Error::InvalidOptions(format!(
            "schema prefix `{p}` must be 1 to 40 lower-case letters, digits or `_`, not starting \
             with a digit"
        )));
    }
    if opts.poll_interval.is_zero() {
        return Err(Error::InvalidOptions(
            "poll interval must be positive".to_string(),
        ));
    }
    Ok(())
}

/// A statement started but not yet finished.
struct Pending {
    step: usize,
    handle: JoinHandle<Result<(), tokio_postgres::Error>>,
}

struct Runner<'a> {
    spec: &'a ConnectionSpec,
    repro: &'a Repro,
    opts: &'a ReproOptions,
    schema: &'a str,
    monitor: &'a Session,
    sessions: Vec<Session>,
    /// Per session: the statement still running (waiting for a lock).
    pending: Vec<Option<Pending>>,
    /// Per session: steps issued while the session was busy, to run when it is free again.
    queued: Vec<VecDeque<usize>>,
    results: Vec<StepResult>,
}

impl<'a> Runner<'a> {
    fn new(
        spec: &'a ConnectionSpec,
        repro: &'a Repro,
        opts: &'a ReproOptions,
        schema: &'a str,
        monitor: &'a Session,
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
        Runner {
            spec,
            repro,
            opts,
            schema,
            monitor,
            sessions: Vec::new(),
            pending: Vec::new(),
            queued: Vec::new(),
            results,
        }
    }

    async fn run(mut self) -> Result<ReproOutcome, Error> {
        let result = self.play().await;
        self.shutdown().await;
        result?;
        Ok(ReproOutcome::from_steps(self.results, |e| {
            e.sqlstate == DEADLOCK_SQLSTATE
        }))
    }

    /// Setup, sessions, steps, and waiting for what is still running.
    async fn play(&mut self) -> Result<(), Error> {
        let mut settings = vec![
            ("search_path", quote_ident(self.schema)),
            ("lock_timeout", millis(self.opts.lock_timeout)),
            ("statement_timeout", millis(self.opts.statement_timeout)),
        ];
        self.setup(&settings).await?;
        if let Some(d) = self.opts.deadlock_timeout {
            settings.push(("deadlock_timeout", millis(d)));
        }
        for n in 1..=self.repro.sessions {
            let session = Session::open(self.spec, &format!("session {n}"), &settings).await?;
            self.sessions.push(session);
            self.pending.push(None);
            self.queued.push(VecDeque::new());
        }
        let waiting = self
            .monitor
            .client
            .prepare(
                "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_locks WHERE pid = $1 AND NOT granted)",
            )
            .await
            .map_err(|e| query_error("monitor: preparing the lock query", &e))?;
        for i in 0..self.repro.steps.len() {
            self.pump(&waiting).await?;
            let s = self.repro.steps[i].session - 1;
            if self.pending[s].is_some() || !self.queued[s].is_empty() {
                // Like typing into a psql that is waiting: it runs when the session is free.
                self.results[i].deferred = true;
                self.queued[s].push_back(i);
            } else {
                self.start(i, &waiting).await?;
            }
        }
        self.drain(&waiting).await
    }

    /// Runs the setup in a connection of its own, one autocommit statement at a time.
    async fn setup(&self, settings: &[(&str, String)]) -> Result<(), Error> {
        if self.repro.setup.is_empty() {
            return Ok(());
        }
        let session = Session::open(self.spec, "setup", settings).await?;
        let client = &session.client;
        for (i, sql) in self.repro.setup.iter().enumerate() {
            if let Err(e) = client.batch_execute(sql).await {
                return Err(match e.as_db_error() {
                    Some(db) => Error::Setup {
                        index: i + 1,
                        sqlstate: db.code().code().to_string(),
                        message: db.message().to_string(),
                        statement: lockgraph_core::outcome::first_line(sql, 100),
                    },
                    None => query_error(&format!("setup statement {}", i + 1), &e),
                });
            }
        }
        Ok(())
    }

    /// Starts step `i` on its (free) session and returns once it finished or waits for a lock.
    async fn start(&mut self, i: usize, waiting: &Statement) -> Result<(), Error> {
        let s = self.repro.steps[i].session - 1;
        let client = self.sessions[s].client.clone();
        let sql = self.repro.steps[i].sql.clone();
        let mut handle = tokio::spawn(async move { client.batch_execute(&sql).await });
        let pid = self.sessions[s].pid;
        loop {
            tokio::select! {
                res = &mut handle => return self.record(i, res),
                _ = tokio::time::sleep(self.opts.poll_interval) => {}
            }
            let blocked: bool = self
                .monitor
                .client
                .query_one(waiting, &[&pid])
                .await
                .map_err(|e| query_error("monitor: reading pg_locks", &e))?
                .get(0);
            if blocked {
                self.results[i].blocked = true;
                self.pending[s] = Some(Pending { step: i, handle });
                return Ok(());
            }
        }
    }

    /// Records the statements that finished and starts the queued steps of the sessions that
    /// became free, until nothing moves. Returns whether anything did.
    async fn pump(&mut self, waiting: &Statement) -> Result<bool, Error> {
        let mut any = false;
        loop {
            let mut moved = false;
            for s in 0..self.sessions.len() {
                if self.pending[s]
                    .as_ref()
                    .is_some_and(|p| p.handle.is_finished())
                    && let Some(p) = self.pending[s].take()
                {
                    let res = p.handle.await;
                    self.record(p.step, res)?;
                    moved = true;
                }
                if self.pending[s].is_none()
                    && let Some(i) = self.queued[s].pop_front()
                {
                    self.start(i, waiting).await?;
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
    /// cancelled, and if even that does not help the run fails.
    async fn drain(&mut self, waiting: &Statement) -> Result<(), Error> {
        let patience = self.opts.statement_timeout.max(self.opts.lock_timeout) + GRACE;
        let mut last_move = Instant::now();
        let mut cancelled = false;
        loop {
            if self.pump(waiting).await? {
                last_move = Instant::now();
            }
            let busy = self.pending.iter().any(Option::is_some)
                || self.queued.iter().any(|q| !q.is_empty());
            if !busy {
                return Ok(());
            }
            let idle = last_move.elapsed();
            if idle > patience + GRACE && cancelled {
                return Err(Error::Timeout(
                    "statements still running after they were cancelled".to_string(),
                ));
            }
            if idle > patience && !cancelled {
                for s in 0..self.sessions.len() {
                    if self.pending[s].is_some() {
                        self.sessions[s].cancel().await?;
                    }
                }
                cancelled = true;
            }
            tokio::time::sleep(self.opts.poll_interval).await;
        }
    }

    /// Stores a finished statement's outcome. Server errors are results; anything else (a
    /// broken connection) ends the run.
    fn record(
        &mut self,
        i: usize,
        res: Result<Result<(), tokio_postgres::Error>, tokio::task::JoinError>,
    ) -> Result<(), Error> {
        let context = || format!("step {} (session {})", i + 1, self.repro.steps[i].session);
        match res {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => match e.as_db_error() {
                Some(db) => {
                    self.results[i].error = Some(StepError {
                        sqlstate: db.code().code().to_string(),
                        code: None,
                        message: db.message().to_string(),
                        detail: db.detail().map(str::to_string),
                    });
                    Ok(())
                }
                None => Err(query_error(&context(), &e)),
            },
            Err(join) => Err(Error::Query {
                context: context(),
                sqlstate: None,
                message: join.to_string(),
            }),
        }
    }

    /// Cancels what still runs (only after an error), then rolls every session back so the
    /// scratch schema can be dropped without waiting for their locks.
    async fn shutdown(&mut self) {
        for s in 0..self.sessions.len() {
            if let Some(mut p) = self.pending[s].take() {
                let _ = self.sessions[s].cancel().await;
                if tokio::time::timeout(GRACE, &mut p.handle).await.is_err() {
                    p.handle.abort();
                }
            }
            let _ = self.sessions[s].run("ROLLBACK", "rolling back").await;
        }
    }
}

/// Extra time the runner allows beyond the server-side timeouts before it intervenes.
const GRACE: Duration = Duration::from_secs(5);

/// A duration as a PostgreSQL setting value in milliseconds (`'1500ms'`).
fn millis(d: Duration) -> String {
    format!("{}ms", d.as_millis())
}

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

    #[test]
    fn validation() {
        let opts = ReproOptions::default();
        let empty = Repro::default();
        assert!(matches!(
            validate(&empty, &opts),
            Err(Error::InvalidRepro(_))
        ));
        let bad = Repro {
            setup: vec![],
            steps: vec![step(3, "SELECT 1")],
            sessions: 2,
            ..Repro::default()
        };
        let msg = validate(&bad, &opts).unwrap_err().to_string();
        assert!(msg.contains("step 1 is in session 3"), "{msg}");
        let mysql = Repro {
            steps: vec![step(1, "SELECT 1")],
            sessions: 1,
            engine: lockgraph_core::Engine::Mysql,
            ..Repro::default()
        };
        let msg = validate(&mysql, &opts).unwrap_err().to_string();
        assert!(msg.contains("written for MySQL/InnoDB"), "{msg}");
        let ok = Repro {
            steps: vec![step(2, "SELECT 1")],
            sessions: 2,
            ..Repro::default()
        };
        assert!(validate(&ok, &opts).is_ok());
        for prefix in ["", "Upper", "1abc", "has-dash", &"x".repeat(41)] {
            let o = ReproOptions {
                schema_prefix: prefix.to_string(),
                ..ReproOptions::default()
            };
            assert!(
                matches!(validate(&ok, &o), Err(Error::InvalidOptions(_))),
                "{prefix}"
            );
        }
    }

    #[test]
    fn the_future_can_move_between_threads() {
        fn assert_send<T: Send>(_: &T) {}
        let (spec, repro, opts) = (
            ConnectionSpec::new(),
            Repro::default(),
            ReproOptions::default(),
        );
        assert_send(&run_repro(&spec, &repro, &opts));
    }

    #[test]
    fn helpers() {
        assert_eq!(millis(Duration::from_secs(10)), "10000ms");
    }
}
