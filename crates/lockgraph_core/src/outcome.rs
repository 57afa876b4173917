//! What happened when a [`Repro`](crate::Repro) ran on a real server: one [`StepResult`] per
//! step and the [`DeadlockSeen`], the same for every engine's runner (`lockgraph_pg`,
//! `lockgraph_mysql`).
//!
//! Only the test for "this error is the deadlock" differs between engines (PostgreSQL's
//! SQLSTATE `40P01`, MySQL's error 1213); [`ReproOutcome::from_steps`] takes it as a function.

/// What happened when a [`Repro`](crate::Repro) ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReproOutcome {
    /// The first step (in step order) that the server aborted as a deadlock victim, if any.
    pub deadlock: Option<DeadlockSeen>,
    /// Every step ran and none failed (no deadlock, no timeout, no other error).
    pub completed: bool,
    /// One result per step, in step order.
    pub steps: Vec<StepResult>,
}

impl ReproOutcome {
    /// The outcome of `steps`: the first step whose error `is_deadlock` accepts is the deadlock,
    /// and the run completed when no step failed.
    pub fn from_steps(steps: Vec<StepResult>, is_deadlock: impl Fn(&StepError) -> bool) -> Self {
        let deadlock = steps.iter().enumerate().find_map(|(i, r)| {
            let e = r.error.as_ref()?;
            is_deadlock(e).then(|| DeadlockSeen {
                session: r.session,
                step_index: i,
                message: e.message.clone(),
                detail: e.detail.clone(),
            })
        });
        ReproOutcome {
            deadlock,
            completed: steps.iter().all(|r| r.error.is_none()),
            steps,
        }
    }
}

/// The statement the server chose as the deadlock victim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadlockSeen {
    /// 1-based session number.
    pub session: usize,
    /// 0-based index into `Repro::steps`.
    pub step_index: usize,
    /// The server's message (`deadlock detected`, `Deadlock found when trying to get lock; …`).
    pub message: String,
    /// The server's DETAIL, when it sends one: PostgreSQL's wait-for cycle
    /// (`Process 1 waits for ShareLock on transaction …`).
    pub detail: Option<String>,
}

/// What one step did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepResult {
    /// 1-based session number.
    pub session: usize,
    /// The statement.
    pub sql: String,
    /// The runner saw the statement waiting for a lock.
    pub blocked: bool,
    /// The step was issued while its session was still waiting on an earlier statement, so it
    /// ran later, once the session was free (as psql or the mysql client runs what is typed
    /// while it waits).
    pub deferred: bool,
    /// The server's error, if the statement failed.
    pub error: Option<StepError>,
}

/// A statement's failure as the server reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepError {
    /// SQLSTATE, e.g. `40P01` (PostgreSQL) or `40001` (MySQL's deadlock).
    pub sqlstate: String,
    /// The server's error number, where it has one: MySQL's `1213` (`ER_LOCK_DEADLOCK`),
    /// `1205` (`ER_LOCK_WAIT_TIMEOUT`); `None` on PostgreSQL.
    pub code: Option<u32>,
    /// Primary message.
    pub message: String,
    /// DETAIL, if any.
    pub detail: Option<String>,
}

/// The checks every runner makes before it connects: the script is for `engine` (the server
/// shown as `server` in the message), it has steps and sessions, and every step's session is one
/// of them.
pub fn check_repro(
    repro: &crate::Repro,
    engine: crate::Engine,
    server: &str,
) -> Result<(), String> {
    if repro.engine != engine {
        return Err(format!(
            "the script is written for {}, not {server}",
            repro.engine
        ));
    }
    if repro.steps.is_empty() {
        return Err("no steps".to_string());
    }
    if repro.sessions == 0 {
        return Err("no sessions".to_string());
    }
    for (i, step) in repro.steps.iter().enumerate() {
        if step.session == 0 || step.session > repro.sessions {
            return Err(format!(
                "step {} is in session {}, but sessions are numbered 1 to {}",
                i + 1,
                step.session,
                repro.sessions
            ));
        }
    }
    Ok(())
}

/// Whether `prefix` is a safe start for a scratch schema or database name: 1 to 40 lower-case
/// letters, digits or `_`, not starting with a digit.
pub fn valid_scratch_prefix(prefix: &str) -> bool {
    !prefix.is_empty()
        && prefix.len() <= 40
        && prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !prefix.as_bytes()[0].is_ascii_digit()
}

/// The first line of `sql`, at most `max` characters, with `…` when shortened: how runners name
/// a failed setup statement.
pub fn first_line(sql: &str, max: usize) -> String {
    let trimmed = sql.trim();
    let first = trimmed.lines().next().unwrap_or("");
    let mut out: String = first.chars().take(max).collect();
    if out.len() < trimmed.len() {
        out.push('…');
    }
    out
}

/// 64 random bits for a scratch schema or database name, from the standard library's
/// per-process random hash keys mixed with the time and a counter (no extra dependency; not
/// cryptographic).
pub fn scratch_id() -> u64 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(session: usize, error: Option<(&str, Option<u32>)>) -> StepResult {
        StepResult {
            session,
            sql: "UPDATE t SET v = 1".into(),
            blocked: false,
            deferred: false,
            error: error.map(|(sqlstate, code)| StepError {
                sqlstate: sqlstate.into(),
                code,
                message: format!("error {sqlstate}"),
                detail: None,
            }),
        }
    }

    #[test]
    fn the_first_deadlock_error_is_the_deadlock() {
        let steps = vec![
            result(1, None),
            result(2, Some(("HY000", Some(1205)))),
            result(1, Some(("40001", Some(1213)))),
            result(2, Some(("40001", Some(1213)))),
        ];
        let o = ReproOutcome::from_steps(steps, |e| e.code == Some(1213));
        let d = o.deadlock.expect("a deadlock");
        assert_eq!((d.session, d.step_index), (1, 2));
        assert_eq!(d.message, "error 40001");
        assert!(!o.completed);

        let o = ReproOutcome::from_steps(vec![result(1, None), result(2, None)], |_| true);
        assert_eq!(o.deadlock, None);
        assert!(o.completed);

        let o = ReproOutcome::from_steps(vec![result(1, Some(("55P03", None)))], |e| {
            e.sqlstate == "40P01"
        });
        assert_eq!(o.deadlock, None);
        assert!(!o.completed);
    }
}

#[cfg(test)]
mod runner_helper_tests {
    use super::*;

    #[test]
    fn first_lines_and_scratch_ids() {
        assert_eq!(
            first_line("  CREATE TABLE t (\n id int)", 100),
            "CREATE TABLE t (…"
        );
        assert_eq!(first_line("SELECT 1", 100), "SELECT 1");
        assert_eq!(first_line("SELECT 12345", 6), "SELECT…");
        assert_ne!(scratch_id(), scratch_id());
    }
}
