//! Live inspection: an [`Inspector`] is one read-only session that takes [`LockSnapshot`]s,
//! and reconnects with backoff when its connection drops (watch mode).
//!
//! The inspecting session is made harmless before its first query: `default_transaction_read_only`
//! on, a short `statement_timeout` and `lock_timeout` (it reads views and catalogs only, so a
//! lock wait would mean something unusual, like a pending `ACCESS EXCLUSIVE` on a catalog; it
//! gives up instead of joining a queue), and `idle_in_transaction_session_timeout` so it can
//! never sit on a snapshot.

use crate::connect::query_error;
use crate::session::Session;
use crate::snapshot::take_snapshot;
use crate::{ConnectionSpec, Error, runtime};
use lockgraph_core::LockSnapshot;
use std::time::Duration;

/// Settings of an [`Inspector`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct InspectOptions {
    /// `statement_timeout` of the inspecting session.
    pub statement_timeout: Duration,
    /// `lock_timeout` of the inspecting session.
    pub lock_timeout: Duration,
    /// First delay before reconnecting after a dropped connection; doubled per failed attempt.
    pub reconnect_initial: Duration,
    /// Longest delay between reconnection attempts.
    pub reconnect_max: Duration,
    /// Give up after this many failed reconnection attempts in a row.
    pub reconnect_attempts: u32,
}

impl Default for InspectOptions {
    fn default() -> Self {
        InspectOptions {
            statement_timeout: Duration::from_secs(5),
            lock_timeout: Duration::from_millis(500),
            reconnect_initial: Duration::from_millis(200),
            reconnect_max: Duration::from_secs(5),
            reconnect_attempts: 10,
        }
    }
}

/// One read-only inspecting session.
pub struct Inspector {
    spec: ConnectionSpec,
    options: InspectOptions,
    session: Option<Session>,
    version_num: i32,
    reconnects: u32,
}

impl Inspector {
    /// Connects and makes the session read-only with short timeouts.
    pub async fn connect(
        spec: &ConnectionSpec,
        options: InspectOptions,
    ) -> Result<Inspector, Error> {
        let mut me = Inspector {
            spec: spec.clone(),
            options,
            session: None,
            version_num: 0,
            reconnects: 0,
        };
        me.open().await?;
        Ok(me)
    }

    async fn open(&mut self) -> Result<(), Error> {
        let ms = |d: Duration| format!("{}ms", d.as_millis().max(1));
        let session = Session::open(
            &self.spec,
            "live",
            &[
                ("default_transaction_read_only", "on".to_string()),
                ("statement_timeout", ms(self.options.statement_timeout)),
                ("lock_timeout", ms(self.options.lock_timeout)),
                ("idle_in_transaction_session_timeout", "10s".to_string()),
            ],
        )
        .await?;
        let version: i32 = session
            .client
            .query_one("SELECT current_setting('server_version_num')::int4", &[])
            .await
            .map_err(|e| query_error("reading the server version", &e))?
            .get(0);
        self.version_num = version;
        self.session = Some(session);
        Ok(())
    }

    /// The inspecting session's backend pid (left out of every snapshot).
    pub fn pid(&self) -> Option<u32> {
        self.session.as_ref().map(|s| s.pid as u32)
    }

    /// `server_version_num`.
    pub fn server_version_num(&self) -> i32 {
        self.version_num
    }

    /// How many times [`Inspector::snapshot_or_reconnect`] reconnected.
    pub fn reconnects(&self) -> u32 {
        self.reconnects
    }

    /// Takes one snapshot. Fails if the connection is gone (see
    /// [`Inspector::snapshot_or_reconnect`]).
    pub async fn snapshot(&mut self) -> Result<LockSnapshot, Error> {
        let Some(session) = &self.session else {
            return Err(Error::Query {
                context: "taking a snapshot".into(),
                sqlstate: None,
                message: "not connected".into(),
            });
        };
        take_snapshot(&session.client, self.version_num, &self.spec.to_string()).await
    }

    /// Takes one snapshot; when the connection has dropped (server restart, the backend was
    /// terminated, network), reconnects with exponential backoff first. `on_retry` is told about
    /// each failed attempt (attempt number, the error, the delay before the next one).
    pub async fn snapshot_or_reconnect(
        &mut self,
        mut on_retry: impl FnMut(u32, &Error, Duration),
    ) -> Result<LockSnapshot, Error> {
        match self.snapshot().await {
            Ok(s) => return Ok(s),
            Err(e) if !self.connection_lost() => return Err(e),
            Err(e) => on_retry(0, &e, Duration::ZERO),
        }
        let mut delay = self.options.reconnect_initial;
        let mut attempt = 1;
        loop {
            self.session = None;
            match self.open().await {
                Ok(()) => {
                    self.reconnects += 1;
                    return self.snapshot().await;
                }
                Err(e) if attempt >= self.options.reconnect_attempts => return Err(e),
                Err(e) => {
                    on_retry(attempt, &e, delay);
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(self.options.reconnect_max);
                    attempt += 1;
                }
            }
        }
    }

    /// Whether the session's connection is closed.
    fn connection_lost(&self) -> bool {
        self.session.as_ref().is_none_or(|s| s.client.is_closed())
    }
}

/// What [`watch`] reports to its caller.
#[derive(Debug)]
#[non_exhaustive]
pub enum WatchEvent<'a> {
    /// A new snapshot (the `n`th, from 1).
    Snapshot {
        /// Its number.
        n: u64,
        /// The snapshot.
        snapshot: &'a LockSnapshot,
    },
    /// The connection dropped; reconnecting (attempt 0 is the failed snapshot itself).
    Reconnecting {
        /// Attempt number.
        attempt: u32,
        /// What failed.
        error: &'a Error,
        /// Delay before the next attempt.
        delay: Duration,
    },
}

/// When [`watch`] stops.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct WatchLimits {
    /// Time between snapshots.
    pub interval: Duration,
    /// Stop after this many snapshots.
    pub count: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
}

impl WatchLimits {
    /// Every `interval`, until Ctrl-C.
    pub fn every(interval: Duration) -> Self {
        WatchLimits {
            interval,
            count: None,
            duration: None,
        }
    }
}

/// Why [`watch`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchEnd {
    /// Ctrl-C (SIGINT) or SIGTERM.
    Interrupted,
    /// `count` or `duration` reached.
    Limit,
    /// The callback asked to stop.
    Stopped,
}

/// Takes a snapshot every `limits.interval` on one read-only session, reconnecting with backoff
/// when the connection drops, and hands each one to `on_event` (return `false` to stop). Ends on
/// Ctrl-C or SIGTERM (between or during samples), on the limits, or when reconnecting fails for
/// good (the error).
pub async fn watch(
    spec: &ConnectionSpec,
    options: InspectOptions,
    limits: &WatchLimits,
    mut on_event: impl FnMut(WatchEvent<'_>) -> bool,
) -> Result<WatchEnd, Error> {
    let started = tokio::time::Instant::now();
    let interrupted = interrupt_signal();
    tokio::pin!(interrupted);
    let mut inspector = tokio::select! {
        i = Inspector::connect(spec, options) => i?,
        _ = &mut interrupted => return Ok(WatchEnd::Interrupted),
    };
    let mut n = 0u64;
    loop {
        let next = tokio::time::Instant::now() + limits.interval;
        let mut retries = Vec::new();
        let taken = tokio::select! {
            r = inspector.snapshot_or_reconnect(|attempt, e, delay| retries.push((attempt, e.to_string(), delay))) => r,
            _ = &mut interrupted => return Ok(WatchEnd::Interrupted),
        };
        for (attempt, message, delay) in retries {
            let error = Error::Query {
                context: "watching".into(),
                sqlstate: None,
                message,
            };
            if !on_event(WatchEvent::Reconnecting {
                attempt,
                error: &error,
                delay,
            }) {
                return Ok(WatchEnd::Stopped);
            }
        }
        let snapshot = taken?;
        n += 1;
        if !on_event(WatchEvent::Snapshot {
            n,
            snapshot: &snapshot,
        }) {
            return Ok(WatchEnd::Stopped);
        }
        if limits.count.is_some_and(|c| n >= c)
            || limits.duration.is_some_and(|d| started.elapsed() >= d)
        {
            return Ok(WatchEnd::Limit);
        }
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {}
            _ = &mut interrupted => return Ok(WatchEnd::Interrupted),
        }
    }
}

/// Blocking [`watch`], on a current-thread runtime of its own.
pub fn watch_blocking(
    spec: &ConnectionSpec,
    options: InspectOptions,
    limits: &WatchLimits,
    on_event: impl FnMut(WatchEvent<'_>) -> bool,
) -> Result<WatchEnd, Error> {
    runtime()?.block_on(watch(spec, options, limits, on_event))
}

/// Resolves on Ctrl-C, and on SIGTERM on Unix.
async fn interrupt_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// One snapshot on a fresh read-only session (what `lockgraph live` without `--watch` does).
pub async fn snapshot(spec: &ConnectionSpec) -> Result<LockSnapshot, Error> {
    Inspector::connect(spec, InspectOptions::default())
        .await?
        .snapshot()
        .await
}

/// Blocking [`snapshot`], on a current-thread runtime of its own.
pub fn snapshot_blocking(spec: &ConnectionSpec) -> Result<LockSnapshot, Error> {
    runtime()?.block_on(snapshot(spec))
}
