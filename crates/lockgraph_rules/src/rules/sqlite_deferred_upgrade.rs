use crate::evidence::shown_statement;
use crate::{Analysis, Rule, RuleInfo, declare_rule};
use lockgraph_core::{Finding, Fingerprint, Label, Suggestion};
use lockgraph_sqlite::{Exploration, JournalMode, SqliteModel, SqliteTxn, Step, StepKind, explore};

declare_rule! {
    /// ## What it detects
    /// A SQLite transaction that begins `DEFERRED` (a plain `BEGIN`, or Python's
    /// `autocommit=False`), reads, and then writes — when two runs of it, or it and another
    /// writing transaction on the same database file, can be in flight at once.
    ///
    /// ## Why it matters
    /// SQLite locks the whole database file. The read takes a SHARED lock (in WAL mode, a
    /// snapshot) that lasts until the transaction ends; the first write asks for the single
    /// RESERVED lock (the WAL write lock). When two runs have both read, the first to write gets
    /// it and the second cannot: it fails with `SQLITE_BUSY` ("database is locked") *at once* —
    /// SQLite does not call the busy handler in this deadlock case, so no busy timeout helps. In
    /// WAL mode, if the first run has already committed, the second fails with
    /// `SQLITE_BUSY_SNAPSHOT` instead. lockgraph's simulator finds the interleaving, and the
    /// simulator is checked against real SQLite in both journal modes.
    ///
    /// Python's `sqlite3` module (and `aiosqlite`, and SQLAlchemy's SQLite dialects) in their
    /// default mode send `BEGIN` only before the first `INSERT`/`UPDATE`/`DELETE`/`REPLACE`, so a
    /// `SELECT` before it is not part of the transaction: such code is not reported.
    ///
    /// ## Example
    /// ```python
    /// async with aiosqlite.connect("shop.db", isolation_level=None) as db:
    ///     await db.execute("BEGIN")
    ///     cur = await db.execute("SELECT qty FROM stock WHERE sku = ?", (sku,))
    ///     ...
    ///     await db.execute("UPDATE stock SET qty = qty - ? WHERE sku = ?", (n, sku))
    ///     await db.execute("COMMIT")
    /// ```
    ///
    /// ## How to fix
    /// Begin with `BEGIN IMMEDIATE`: the transaction takes the write lock before it reads, so a
    /// second run waits in its `BEGIN IMMEDIATE` (for up to the busy timeout) and then completes
    /// instead of failing. Keep such transactions short.
    pub struct SqliteDeferredUpgrade {
        code: "LG501",
        name: "sqlite-deferred-upgrade",
        severity: Error,
        engines: [Sqlite],
        summary: "A deferred SQLite transaction reads then writes; two runs fail with SQLITE_BUSY at once",
    }
}

impl Rule for SqliteDeferredUpgrade {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check(&self, a: &Analysis<'_>, out: &mut Vec<Finding>) {
        let Some(model) = a.sqlite else { return };
        for t in &model.transactions {
            let Some((read, write)) = t.deferred_upgrade() else {
                continue;
            };
            if model.connection_of(t).is_some_and(|c| c.private()) {
                continue;
            }
            let Some((other, journal, e)) = partner(model, t) else {
                continue;
            };
            out.push(finding(a, t, other, read, write, journal, &e));
        }
    }
}

/// The transaction `t` can fail against: itself when two runs can overlap, else the first
/// writing transaction on the same database — with the journal mode and exploration that shows
/// a step failing at once.
fn partner<'m>(
    model: &'m SqliteModel,
    t: &'m SqliteTxn,
) -> Option<(&'m SqliteTxn, JournalMode, Exploration)> {
    let candidates = std::iter::once(t)
        .filter(|t| t.may_run_concurrently_with(t))
        .chain(model.transactions.iter().filter(|u| {
            !std::ptr::eq(*u, t)
                && u.writes()
                && t.may_run_concurrently_with(u)
                && model.same_database(t, u)
        }));
    for u in candidates {
        for journal in [JournalMode::Rollback, JournalMode::Wal] {
            let e = explore(journal, &t.ops(), &u.ops());
            if e.fails_at_once.is_some() {
                return Some((u, journal, e));
            }
        }
    }
    None
}

/// A label at a step; a statement in a helper names the call that reached it.
pub(crate) fn step_label(step: &Step, message: String, primary: bool, show: bool) -> Label {
    let message = match &step.via {
        Some(via) => format!("{message} (called from {via})"),
        None => message,
    };
    Label {
        location: step.location.clone(),
        message,
        primary,
        statement: step.statement.as_deref().map(|s| shown_statement(s, show)),
    }
}

/// Fingerprint of a step: its normalized statement, or what it calls — never its line.
pub(crate) fn step_fingerprint(step: &Step) -> Fingerprint {
    match (&step.statement, &step.kind) {
        (Some(s), _) => s.fingerprint,
        (None, StepKind::External { call, .. }) => Fingerprint::of([call.as_bytes()]),
        (None, kind) => Fingerprint::of([format!("{kind:?}").as_bytes()]),
    }
}

/// The step behind op `i` of `t.ops()`.
fn step_of_op(t: &SqliteTxn, i: usize) -> Option<&Step> {
    t.steps.iter().filter(|s| s.op().is_some()).nth(i)
}

fn describe_op(t: &SqliteTxn, i: usize) -> String {
    match step_of_op(t, i) {
        Some(s) => {
            let what = s.op().map(|o| o.to_string()).unwrap_or_default();
            format!("{what} ({})", s.written_at())
        }
        None => "?".into(),
    }
}

fn finding(
    a: &Analysis<'_>,
    t: &SqliteTxn,
    other: &SqliteTxn,
    read: usize,
    write: usize,
    journal: JournalMode,
    e: &Exploration,
) -> Finding {
    let show = a.options.show_literals;
    let info = &SqliteDeferredUpgrade::INFO;
    let (r, w) = (&t.steps[read], &t.steps[write]);
    let begin = t.steps[..read]
        .iter()
        .rev()
        .find(|s| matches!(s.kind, StepKind::Begin(_)));
    let same = std::ptr::eq(t, other);
    let mut labels = Vec::new();
    if let Some(b) = begin.filter(|b| b.statement.is_some()) {
        labels.push(step_label(
            b,
            "begins DEFERRED: no lock yet".into(),
            false,
            show,
        ));
    }
    labels.push(step_label(
        r,
        "reads: takes SHARED (in WAL mode, a snapshot) and keeps it until the transaction ends …"
            .into(),
        false,
        show,
    ));
    labels.push(step_label(
        w,
        format!(
            "… then writes: asks for RESERVED (the WAL write lock); when {} holds it, this fails \
             with SQLITE_BUSY at once, whatever the busy timeout",
            if same {
                "a concurrent run".to_string()
            } else {
                format!("`{}`", other.name)
            }
        ),
        true,
        show,
    ));
    let edit = match begin {
        Some(b) if b.statement.is_some() => format!(
            "in `{}`: change `BEGIN` at {} to `BEGIN IMMEDIATE`",
            t.name,
            b.written_at()
        ),
        _ => format!(
            "in `{}`: open the transaction with `BEGIN IMMEDIATE` before the read at {} (with \
             isolation_level=None, execute \"BEGIN IMMEDIATE\"; SQLAlchemy: emit it in a \"begin\" \
             event)",
            t.name,
            r.written_at()
        ),
    };
    let mut notes = Vec::new();
    if let (Some(trace), Some(failure)) = (&e.fails_at_once, e.failure) {
        let names = if same {
            ["A", "B"].map(|n| format!("run {n}"))
        } else {
            [format!("`{}`", t.name), format!("`{}`", other.name)]
        };
        let steps: Vec<String> = trace
            .iter()
            .map(|&(who, i)| {
                let txn = if who == 0 { t } else { other };
                format!("{}: {}", names[who], describe_op(txn, i))
            })
            .collect();
        notes.push(format!(
            "interleaving ({journal} mode): {} → SQLite error {}{}",
            steps.join(" → "),
            failure.code(),
            if failure.code() == 5 {
                " (SQLITE_BUSY)"
            } else {
                " (SQLITE_BUSY_SNAPSHOT)"
            }
        ));
    }
    notes.push(
        "in WAL mode, when the other transaction commits before this write, the write fails \
         with SQLITE_BUSY_SNAPSHOT (517) instead"
            .into(),
    );
    let relations = a
        .sqlite
        .and_then(|m| m.connection_of(t))
        .and_then(|c| c.database.as_deref())
        .map(|d| vec![d.to_string()])
        .unwrap_or_default();
    Finding {
        code: info.code,
        name: info.name,
        severity: info.severity,
        message: format!(
            "`{}` reads and then writes in a DEFERRED SQLite transaction: {} fail with \
             SQLITE_BUSY at once",
            t.name,
            if same {
                "two concurrent runs".to_string()
            } else {
                format!("it and `{}`", other.name)
            }
        ),
        relations,
        labels,
        fingerprint: Fingerprint::combine([
            Fingerprint::of([info.code.as_bytes()]),
            step_fingerprint(r),
            step_fingerprint(w),
        ]),
        suggestion: Some(Suggestion {
            order: Vec::new(),
            edits: vec![edit],
        }),
        repro: None,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockgraph_core::{Location, Schema};
    use lockgraph_sqlite::{BeginMode, SqliteModel};

    fn step(kind: StepKind, line: u32) -> Step {
        Step {
            kind,
            location: Location::new("app.py", line),
            statement: None,
            autocommit: false,
            via: None,
        }
    }

    fn txn(steps: Vec<Step>) -> SqliteTxn {
        SqliteTxn {
            name: "reserve".into(),
            location: Location::new("app.py", 1),
            group: None,
            steps,
            connection: None,
        }
    }

    fn run(model: &SqliteModel) -> Vec<Finding> {
        let schema = Schema::default();
        let a = Analysis::new(&[], &[], &schema, &[], Default::default()).with_sqlite(model);
        let mut out = Vec::new();
        SqliteDeferredUpgrade.check(&a, &mut out);
        out
    }

    #[test]
    fn deferred_read_then_write_is_reported_immediate_is_not() {
        let shape = |m| {
            vec![
                step(StepKind::Begin(m), 2),
                step(StepKind::Read, 3),
                step(StepKind::Write, 4),
                step(StepKind::Commit, 5),
            ]
        };
        let bad = SqliteModel {
            transactions: vec![txn(shape(BeginMode::Deferred))],
            connections: Vec::new(),
        };
        let f = run(&bad);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].labels.last().map(|l| l.location.line), Some(4));
        assert!(f[0].notes[0].contains("SQLITE_BUSY"), "{:?}", f[0].notes);
        let good = SqliteModel {
            transactions: vec![txn(shape(BeginMode::Immediate))],
            connections: Vec::new(),
        };
        assert!(run(&good).is_empty());
        // A run that cannot overlap itself and no other writer: nothing to fail against.
        let mut alone = bad.clone();
        alone.transactions[0].group = Some("once".into());
        assert!(run(&alone).is_empty());
    }
}
