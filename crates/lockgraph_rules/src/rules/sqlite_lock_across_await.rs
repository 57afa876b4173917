use crate::rules::sqlite_deferred_upgrade::{step_fingerprint, step_label};
use crate::{Analysis, Rule, RuleInfo, declare_rule};
use lockgraph_core::{Finding, Fingerprint, Suggestion};
use lockgraph_sqlite::{BeginMode, Driver, SqliteModel, SqliteTxn, StepKind};

declare_rule! {
    /// ## What it detects
    /// A SQLite transaction that holds the write lock — after its first write, or from a
    /// `BEGIN IMMEDIATE` — while it awaits (or blocks on) something that is not the database:
    /// an HTTP or other network call, `asyncio.sleep`, a queue, a subprocess.
    ///
    /// ## Why it matters
    /// SQLite has one write lock per database file. While the transaction waits for the network,
    /// every other writer of the database waits too — up to its busy timeout — and then fails
    /// with `database is locked` (`SQLITE_BUSY`). The wait is as long as the slowest remote call.
    /// With the blocking `sqlite3` module inside `async` code it is worse: another task's busy
    /// wait blocks the event loop, so the awaited call cannot finish until that wait times out.
    ///
    /// ## Example
    /// ```python
    /// async with aiosqlite.connect("shop.db") as db:
    ///     await db.execute("INSERT INTO payments (order_id, status) VALUES (?, 'pending')", (oid,))
    ///     resp = await client.post(PROVIDER_URL, json=payload)   # write lock held
    ///     await db.execute("UPDATE payments SET status = ? WHERE order_id = ?", (s, oid))
    ///     await db.commit()
    /// ```
    ///
    /// ## How to fix
    /// Move the call out of the transaction: make it before the first write (or before
    /// `BEGIN`), or after the commit, and keep only database work between the two.
    pub struct SqliteLockAcrossAwait {
        code: "LG502",
        name: "sqlite-lock-across-await",
        severity: Warning,
        engines: [Sqlite],
        summary: "A SQLite transaction holds the write lock while it awaits something that is not the database",
    }
}

impl Rule for SqliteLockAcrossAwait {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check(&self, a: &Analysis<'_>, out: &mut Vec<Finding>) {
        let Some(model) = a.sqlite else { return };
        for t in &model.transactions {
            if model.connection_of(t).is_some_and(|c| c.private()) || !contended(model, t) {
                continue;
            }
            let Some(from) = t.write_lock_from() else {
                continue;
            };
            let until = t.steps[from..]
                .iter()
                .position(|s| matches!(s.kind, StepKind::Commit | StepKind::Rollback))
                .map_or(t.steps.len(), |i| from + i);
            for x in from + 1..until {
                if matches!(t.steps[x].kind, StepKind::External { .. }) {
                    out.push(finding(a, model, t, from, x, until));
                }
            }
        }
    }
}

/// Another writer can want the lock: a second run of `t`, or another transaction on the same
/// database.
fn contended(model: &SqliteModel, t: &SqliteTxn) -> bool {
    t.may_run_concurrently_with(t)
        || model.transactions.iter().any(|u| {
            !std::ptr::eq(u, t)
                && u.writes()
                && t.may_run_concurrently_with(u)
                && model.same_database(t, u)
        })
}

fn finding(
    a: &Analysis<'_>,
    model: &SqliteModel,
    t: &SqliteTxn,
    from: usize,
    x: usize,
    until: usize,
) -> Finding {
    let show = a.options.show_literals;
    let info = &SqliteLockAcrossAwait::INFO;
    let (lock, ext) = (&t.steps[from], &t.steps[x]);
    let StepKind::External {
        kind,
        call,
        awaited,
    } = &ext.kind
    else {
        unreachable!("checked by the caller")
    };
    let how = if *awaited { "awaits" } else { "blocks on" };
    let takes = match lock.kind {
        StepKind::Begin(BeginMode::Exclusive) => "takes the write lock (BEGIN EXCLUSIVE) …",
        StepKind::Begin(_) => "takes the write lock (BEGIN IMMEDIATE) …",
        _ => "writes: takes the write lock (RESERVED; in WAL mode the WAL write lock) …",
    };
    let mut labels = vec![
        step_label(lock, takes.into(), false, show),
        step_label(
            ext,
            format!(
                "… and {how} `{call}` ({kind}) while holding it: every other writer of the \
                 database waits, then fails with SQLITE_BUSY"
            ),
            true,
            show,
        ),
    ];
    if let Some(end) = t.steps.get(until) {
        labels.push(step_label(
            end,
            "the lock is released here".into(),
            false,
            show,
        ));
    }
    let mut notes = Vec::new();
    if *awaited
        && model
            .connection_of(t)
            .is_some_and(|c| c.driver == Driver::Sqlite3)
    {
        notes.push(
            "the connection is the blocking sqlite3 module used from async code: another task's \
             busy wait blocks the event loop, so this await cannot finish until that wait times \
             out"
            .into(),
        );
    }
    Finding {
        code: info.code,
        name: info.name,
        severity: info.severity,
        message: format!(
            "`{}` holds the SQLite write lock while it {how} `{call}` ({kind})",
            t.name
        ),
        relations: Vec::new(),
        labels,
        fingerprint: Fingerprint::combine([
            Fingerprint::of([info.code.as_bytes()]),
            step_fingerprint(lock),
            step_fingerprint(ext),
        ]),
        suggestion: Some(Suggestion {
            order: Vec::new(),
            edits: vec![format!(
                "in `{}`: move `{call}(…)` at {} out of the transaction — before {} or after the \
                 commit",
                t.name,
                ext.location,
                match lock.kind {
                    StepKind::Begin(_) => format!("the BEGIN at {}", lock.written_at()),
                    _ => format!("the first write at {}", lock.written_at()),
                }
            )],
        }),
        repro: None,
        notes,
    }
}
