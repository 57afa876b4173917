//! `lockgraph trace FILE.sql --url …`: run a migration's statements in one transaction that is
//! always rolled back, read the locks each statement really took from `pg_locks`, and compare
//! them with what static inference predicts for the same statements.
//!
//! The observing is `lockgraph_pg::trace`; this module splits and infers the file
//! (`lockgraph_sql`), lines the two up statement by statement, and renders the result.
//!
//! # Comparison rules
//!
//! Compared, per statement: the server's `relation` locks on relations that existed before the
//! run and that queries name (tables, partitioned tables, views, materialized views, foreign
//! tables), and its advisory locks, against the inferred table-level and advisory locks.
//!
//! - An inferred lock *matches* when the transaction holds that exact mode on the relation
//!   after the statement (taken now, or already held since an earlier statement), and is
//!   *covered* — also a match, reported as such — when it holds a stronger mode that conflicts
//!   with everything the inferred one does. Otherwise: "inference predicted X that the server
//!   did not take".
//! - A lock the server took that inference did not predict, in that mode or a covering one:
//!   "inference missed X".
//! - Not compared: locks on indexes, sequences and TOAST tables (taken along with their table;
//!   inference models tables); locks on relations the script created (nobody else can see them
//!   before COMMIT), on both sides; row locks (PostgreSQL keeps them in the rows, not in
//!   `pg_locks`; they show there only as `tuple`/`transactionid` locks while a session waits),
//!   which are listed as inferred only; system catalogs the statement does not name itself (DDL
//!   keeps e.g. ROW EXCLUSIVE on `pg_description`); `object` and other lock types.
//!
//! Relation names are compared as written: an unqualified inferred name matches the server's
//! relation of that name in any schema (the statement found it through `search_path`), a
//! qualified one only that schema's.
//!
//! # Exit codes
//!
//! 0: every statement traced (or skipped on purpose) and inference matched the server; 1: at
//! least one difference between inference and server; 2: the file could not be read, the
//! server could not be reached, or a statement failed (a lock timeout included). Statements
//! that cannot be traced (`CREATE INDEX CONCURRENTLY`, …) are reported with their inferred
//! locks and do not change the exit code.
//!
//! # JSON (`--format json`, `schema_version` 1)
//!
//! ```text
//! {
//!   "schema_version": 1,
//!   "file": "migrations/0042.sql",
//!   "server": "postgres://postgres@127.0.0.1:5432/test",     (password never shown)
//!   "server_version": "15.20 (Debian 15.20-0+deb12u1)",
//!   "server_version_num": 150020,
//!   "lock_timeout_ms": 2000, "statement_timeout_ms": 30000,
//!   "rolled_back": true,            (the traced backend held no lock after the ROLLBACK)
//!   "tracer_locks": [{"locktype", "relation", "mode", "description"}],
//!                                   (the tracer's own catalog locks, filtered out)
//!   "statements": [{
//!     "index": 1,                   (1-based)
//!     "line": 3,
//!     "sql": "ALTER TABLE orders ADD COLUMN note text",   (redacted unless --show-literals)
//!     "status": "traced" | "skipped" | "failed" | "not_run",
//!     "skip_reason": null | "…",
//!     "error": null | {"sqlstate", "message", "detail", "lock_timeout": bool},
//!     "waited_for": null | {"locktype", "relation", "mode", "description",
//!                           "blockers": [{"pid", "application", "state", "modes"}]},
//!     "elapsed_ms": 1.25,
//!     "locks_taken": [lock],
//!     "locks_released": [lock],
//!     "inferred": [{"kind": "table" | "row" | "advisory", "target", "mode", "implicit": bool,
//!                   "result": "match" | "already_held" | "covered" | "not_taken"
//!                             | "created_relation" | "not_compared",
//!                   "covered_by": null | mode}],
//!     "differences": [{"kind": "missed" | "not_taken", "relation", "mode", "message"}],
//!     "blocks": [{"relation", "modes", "strongest", "reads": bool, "locking_reads": bool,
//!                 "writes": bool, "message"}],
//!     "verdict": "matches" | "differs" | "not_compared",
//!     "notes": ["…"]
//!   }],
//!   "summary": {"statements", "traced", "skipped", "failed", "not_run", "matched",
//!               "differed", "exit_code"}
//! }
//! lock = {"locktype", "relation": null | name, "relkind": null | "table" | "index" | …,
//!         "created_by_script": bool, "mode", "description"}
//!        (created_by_script: the relation, or the `object`, did not exist before the run)
//! ```
//!
//! Modes are spelled as `pg_locks` does (`AccessExclusiveLock`); arrays keep the order the text
//! output shows. Fields are only ever added within a schema version.

use crate::args::ColorChoice;
use crate::output::{print, use_color};
use anyhow::Context;
use lockgraph_core::{AdvisoryMode, LockMode, LockTarget, RelationName, Schema, TableLockMode};
use lockgraph_pg::ConnectionSpec;
use lockgraph_pg::trace::{
    SkipReason, StatementError, TraceOptions, TraceOutcome, TraceStatus, TracedLock,
    TracedStatement, run_trace_blocking,
};
use lockgraph_sql::{Inference, infer_statement};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

/// Options of `lockgraph trace`.
#[derive(Debug, clap::Args)]
pub struct TraceArgs {
    /// The SQL file (a migration) to trace. Run as one transaction, always rolled back.
    pub file: PathBuf,
    /// Connection string or URL of the database to run it on. Required, and never taken from
    /// the environment: trace runs the file's statements (then rolls them back), so the
    /// database must be named on purpose.
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// Give up on any lock not granted within this time (SQLSTATE 55P03), so the trace never
    /// queues behind other sessions for longer: `500ms`, `2s`, `1min`.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
    pub lock_timeout: Duration,
    /// Cancel any statement running longer than this.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub statement_timeout: Duration,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = TraceFormat::Text)]
    pub format: TraceFormat,
    /// Show SQL literals in output (statements are redacted by default).
    #[arg(long)]
    pub show_literals: bool,
}

/// `--format` of `trace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TraceFormat {
    /// Per-statement report for people.
    Text,
    /// The report as JSON (shape in the module docs and docs/trace.md).
    Json,
}

/// `500ms`, `2s`, `1.5s`, `1min`: a positive duration with a unit.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (examples: 500ms, 2s, 1min)"))?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "s" => value,
        "min" => value * 60.0,
        "" => return Err(format!("`{s}` needs a unit: ms, s or min (e.g. 2s)")),
        other => return Err(format!("unknown unit `{other}` (use ms, s or min)")),
    };
    let d = Duration::try_from_secs_f64(seconds).map_err(|e| format!("`{s}`: {e}"))?;
    if d < Duration::from_millis(1) {
        return Err(format!("`{s}` is too short (at least 1ms)"));
    }
    Ok(d)
}

/// Runs `trace`; returns the exit code.
pub fn run(args: &TraceArgs, color: ColorChoice) -> anyhow::Result<u8> {
    let path = args.file.display().to_string();
    let bytes = std::fs::read(&args.file).with_context(|| format!("cannot read {path}"))?;
    let text =
        String::from_utf8(bytes).map_err(|e| anyhow::anyhow!("{path}: not UTF-8 text ({e})"))?;
    if args.url.trim().is_empty() {
        anyhow::bail!("--url is empty: name the database to trace on");
    }
    let spec = ConnectionSpec::resolve(Some(&args.url)).map_err(|e| anyhow::anyhow!("{e}"))?;
    let raw = lockgraph_sql::split_statements(&text);
    let (schema, _) = lockgraph_sql::parse_schema(&[(path.as_str(), text.as_str())]);
    let sqls: Vec<String> = raw.iter().map(|r| r.text.clone()).collect();
    let opts = TraceOptions::default()
        .with_lock_timeout(args.lock_timeout)
        .with_statement_timeout(args.statement_timeout);
    let outcome = run_trace_blocking(&spec, &sqls, &opts).map_err(|e| anyhow::anyhow!("{e}"))?;
    if !outcome.released_all {
        eprintln!(
            "lockgraph: warning: the traced session (pid {}) still held locks after the \
             rollback",
            outcome.pid
        );
    }
    let inputs: Vec<Input> = raw
        .iter()
        .map(|r| Input {
            line: r.line,
            sql: display_sql(&r.text, args.show_literals),
        })
        .collect();
    let report = build_report(&inputs, &sqls, &schema, &outcome, args.show_literals);
    let header = Header {
        file: path,
        server: spec.to_string(),
        lock_timeout: args.lock_timeout,
        statement_timeout: args.statement_timeout,
    };
    match args.format {
        TraceFormat::Text => print(&render_text(&header, &outcome, &report, use_color(color)))?,
        TraceFormat::Json => {
            let mut s = serde_json::to_string_pretty(&render_json(&header, &outcome, &report))?;
            s.push('\n');
            print(&s)?;
        }
    }
    Ok(report.exit_code())
}

/// What the report says about the run as a whole.
struct Header {
    file: String,
    server: String,
    lock_timeout: Duration,
    statement_timeout: Duration,
}

/// One statement as the report shows it.
struct Input {
    line: u32,
    sql: String,
}

/// The statement text as shown: literals redacted unless asked for, whitespace collapsed.
fn display_sql(text: &str, show_literals: bool) -> String {
    if show_literals {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        lockgraph_sql::redact(text)
    }
}

/// How one inferred lock fared against the server.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    /// Taken by this statement, in this mode.
    Match,
    /// Already held (since an earlier statement), in this mode.
    AlreadyHeld,
    /// Not taken, but a stronger mode that covers it is held.
    Covered(TableLockMode),
    /// Not held in this or a covering mode.
    NotTaken,
    /// On a relation the script created: not compared.
    CreatedRelation,
    /// Row locks, and anything when the statement was not traced.
    NotCompared,
}

impl Outcome {
    fn key(&self) -> &'static str {
        match self {
            Outcome::Match => "match",
            Outcome::AlreadyHeld => "already_held",
            Outcome::Covered(_) => "covered",
            Outcome::NotTaken => "not_taken",
            Outcome::CreatedRelation => "created_relation",
            Outcome::NotCompared => "not_compared",
        }
    }
}

/// One inferred lock and its outcome.
#[derive(Clone, Debug)]
struct InferredView {
    target: LockTarget,
    mode: LockMode,
    implicit: bool,
    outcome: Outcome,
}

/// A difference between inference and server.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Difference {
    /// `missed` (the server took it) or `not_taken` (only inferred).
    kind: &'static str,
    relation: String,
    /// As `pg_locks` spells it.
    mode: String,
    message: String,
}

/// What one statement's new locks on one relation block.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Block {
    relation: String,
    /// New modes on the relation, strongest first.
    modes: Vec<TableLockMode>,
    blocked: Blocked,
}

/// The ordinary statements a table lock blocks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Blocked {
    /// `SELECT` (ACCESS SHARE).
    reads: bool,
    /// `SELECT … FOR UPDATE/SHARE`, foreign-key checks (ROW SHARE).
    locking_reads: bool,
    /// `INSERT`/`UPDATE`/`DELETE`/`MERGE` (ROW EXCLUSIVE).
    writes: bool,
}

impl Blocked {
    fn of(mode: TableLockMode) -> Blocked {
        Blocked {
            reads: mode.conflicts_with(TableLockMode::AccessShare),
            locking_reads: mode.conflicts_with(TableLockMode::RowShare),
            writes: mode.conflicts_with(TableLockMode::RowExclusive),
        }
    }

    /// `blocks reads and writes of orders until COMMIT`.
    fn phrase(self, relation: &str) -> String {
        match (self.reads, self.locking_reads, self.writes) {
            (true, _, _) => format!("blocks reads and writes of {relation} until COMMIT"),
            (false, true, true) => format!(
                "blocks writes and SELECT … FOR UPDATE/SHARE of {relation} until COMMIT \
                 (plain reads go on)"
            ),
            (false, false, true) => format!(
                "blocks writes (INSERT/UPDATE/DELETE) of {relation} until COMMIT (reads go on)"
            ),
            (false, true, false) => {
                format!("blocks SELECT … FOR UPDATE/SHARE of {relation} until COMMIT")
            }
            (false, false, false) => "blocks no ordinary reads or writes".to_string(),
        }
    }
}

impl Block {
    fn strongest(&self) -> TableLockMode {
        self.modes[0]
    }

    fn message(&self) -> String {
        format!(
            "{} on {} — {}",
            self.strongest(),
            self.relation,
            self.blocked.phrase(&self.relation)
        )
    }
}

/// Whether the statement's inference agreed with the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Matches,
    Differs,
    NotCompared,
}

/// The comparison for one statement.
struct StatementReport {
    inferred: Vec<InferredView>,
    differences: Vec<Difference>,
    blocks: Vec<Block>,
    notes: Vec<String>,
    verdict: Verdict,
}

/// The comparison for the whole file.
struct Report<'a> {
    inputs: &'a [Input],
    statements: Vec<StatementReport>,
    /// A statement failed (the run stopped there).
    failed: bool,
}

impl Report<'_> {
    fn exit_code(&self) -> u8 {
        if self.failed {
            2
        } else if self
            .statements
            .iter()
            .any(|s| s.verdict == Verdict::Differs)
        {
            1
        } else {
            0
        }
    }
}

/// Whether an inferred relation name denotes the server's relation: equal, or the inferred
/// name is unqualified and equals the server's name without its schema.
fn names_match(inferred: &RelationName, real: &RelationName) -> bool {
    let (i, r) = (inferred.as_str(), real.as_str());
    i == r || (!i.contains('.') && r.rsplit_once('.').is_some_and(|(_, bare)| bare == i))
}

/// A table-level lock of the server on a relation that existed before the run and that queries
/// name (system catalogs included).
fn table_lock(l: &TracedLock) -> Option<(&RelationName, TableLockMode)> {
    if l.lock.locktype != "relation" || !l.lock.granted || l.created_here {
        return None;
    }
    if l.relkind.is_some_and(|k| !k.is_queried()) {
        return None;
    }
    Some((l.relation_name()?, l.table_mode()?))
}

/// Whether a relation is a system catalog: DDL updates them (and keeps e.g. ROW EXCLUSIVE on
/// `pg_description`), which inference does not model and ordinary traffic never waits for.
fn is_catalog(r: &RelationName) -> bool {
    r.as_str().starts_with("pg_catalog.") || r.as_str().starts_with("information_schema.")
}

/// A lock of the server that takes part in the comparison and in "blocks": a table lock
/// ([`table_lock`]) on a relation that is not a system catalog.
fn comparable(l: &TracedLock) -> Option<(&RelationName, TableLockMode)> {
    table_lock(l).filter(|(r, _)| !is_catalog(r))
}

/// The advisory key and strength of a server lock.
fn advisory(l: &TracedLock) -> Option<(String, AdvisoryMode)> {
    let key = l.lock.advisory_key()?;
    let mode = match l.lock.mode.as_str() {
        "ShareLock" => AdvisoryMode::Shared,
        _ => AdvisoryMode::Exclusive,
    };
    Some((key, mode))
}

/// Whether an inferred advisory key denotes a server key: equal, or computed by the query
/// (not a constant), which matches any key.
fn advisory_keys_match(inferred: &str, real: &str) -> bool {
    let constant = inferred.split(',').all(|p| p.trim().parse::<i64>().is_ok());
    !constant || inferred.replace(' ', "") == real
}

/// `ACCESS EXCLUSIVE`, `FOR UPDATE`, `exclusive`.
fn mode_text(mode: LockMode) -> String {
    match mode {
        LockMode::Table(m) => m.sql_name().to_string(),
        LockMode::Row(m) => m.sql_name().to_string(),
        LockMode::Advisory(AdvisoryMode::Shared) => "shared".to_string(),
        LockMode::Advisory(AdvisoryMode::Exclusive) => "exclusive".to_string(),
        LockMode::InnoDbTable(_) | LockMode::InnoDbRecord(_) => mode.to_string(),
    }
}

/// The mode as `pg_locks` spells it (row modes keep their SQL spelling).
fn mode_pg(mode: LockMode) -> String {
    match mode {
        LockMode::Table(m) => m.pg_name().to_string(),
        LockMode::Row(m) => m.sql_name().to_string(),
        LockMode::Advisory(AdvisoryMode::Shared) => "ShareLock".to_string(),
        LockMode::Advisory(AdvisoryMode::Exclusive) => "ExclusiveLock".to_string(),
        LockMode::InnoDbTable(_) | LockMode::InnoDbRecord(_) => mode.to_string(),
    }
}

/// A lock target as shown: key values of row targets redacted unless asked for.
fn target_text(target: &LockTarget, show_literals: bool) -> String {
    match target {
        LockTarget::Rows {
            relation,
            key: Some(k),
        } if !show_literals => {
            let cols: Vec<String> = k
                .columns
                .iter()
                .zip(&k.values)
                .map(|(c, v)| {
                    let v = lockgraph_sql::redact(v);
                    if k.single_row {
                        format!("{c} = {v}")
                    } else {
                        format!("{c} IN {v}")
                    }
                })
                .collect();
            format!("{relation} rows ({})", cols.join(" AND "))
        }
        other => other.to_string(),
    }
}

/// Lines the server's locks up with the inference, statement by statement.
fn build_report<'a>(
    inputs: &'a [Input],
    sqls: &[String],
    schema: &Schema,
    outcome: &TraceOutcome,
    show_literals: bool,
) -> Report<'a> {
    // Relations the script created (by inference or as the server saw them), so far.
    let mut created: Vec<RelationName> = Vec::new();
    // When each (relation, mode) was first taken: for "already held since #k".
    let mut first_taken: Vec<(RelationName, TableLockMode, usize)> = Vec::new();
    let mut statements = Vec::with_capacity(outcome.statements.len());
    for (st, sql) in outcome.statements.iter().zip(sqls) {
        let inf = infer_statement(sql, schema);
        created.extend(inf.created.iter().cloned());
        for l in &st.taken {
            if l.created_here
                && let Some(n) = l.relation_name()
                && !created.contains(n)
            {
                created.push(n.clone());
            }
            if let Some((n, m)) = comparable(l)
                && !first_taken.iter().any(|(fn_, fm, _)| fn_ == n && *fm == m)
            {
                first_taken.push((n.clone(), m, st.index));
            }
        }
        statements.push(compare(st, &inf, &created, &first_taken, show_literals));
    }
    Report {
        inputs,
        statements,
        failed: outcome.failed.is_some(),
    }
}

/// The comparison for one statement.
fn compare(
    st: &TracedStatement,
    inf: &Inference,
    created: &[RelationName],
    first_taken: &[(RelationName, TableLockMode, usize)],
    show_literals: bool,
) -> StatementReport {
    let is_created = |r: &RelationName| created.iter().any(|c| names_match(r, c) || c == r);
    let mut notes = Vec::new();
    if let Some((_, message)) = &inf.problem {
        notes.push(format!("inference: {message}"));
    }
    let traced = st.status == TraceStatus::Traced;
    // System catalogs take part only when the statement names them itself.
    let named =
        |r: &RelationName| !is_catalog(r) || inf.table_locks().any(|(ir, _)| names_match(ir, r));
    let held: Vec<(&RelationName, TableLockMode)> = st
        .held
        .iter()
        .filter_map(table_lock)
        .filter(|(r, _)| named(r))
        .collect();
    let taken: Vec<(&RelationName, TableLockMode)> = st
        .taken
        .iter()
        .filter_map(table_lock)
        .filter(|(r, _)| named(r))
        .collect();
    let mut inferred = Vec::new();
    let mut differences = Vec::new();
    let mut rows = Vec::new();
    for l in &inf.locks {
        let outcome = if !traced {
            Outcome::NotCompared
        } else {
            match (&l.target, l.mode) {
                (LockTarget::Relation { relation }, LockMode::Table(m)) => {
                    if is_created(relation) {
                        Outcome::CreatedRelation
                    } else if taken
                        .iter()
                        .any(|(r, tm)| *tm == m && names_match(relation, r))
                    {
                        Outcome::Match
                    } else if held
                        .iter()
                        .any(|(r, tm)| *tm == m && names_match(relation, r))
                    {
                        Outcome::AlreadyHeld
                    } else if let Some((_, strong)) = held
                        .iter()
                        .filter(|(r, tm)| tm.covers(m) && names_match(relation, r))
                        .max_by_key(|(_, tm)| *tm)
                    {
                        Outcome::Covered(*strong)
                    } else {
                        Outcome::NotTaken
                    }
                }
                (LockTarget::Advisory { key }, LockMode::Advisory(m)) => {
                    let seen = st.held.iter().filter_map(advisory).any(|(k, am)| {
                        (am == m || am == AdvisoryMode::Exclusive) && advisory_keys_match(key, &k)
                    });
                    if seen {
                        Outcome::Match
                    } else {
                        Outcome::NotTaken
                    }
                }
                (LockTarget::Rows { .. }, _) => {
                    rows.push(format!(
                        "{} on {}",
                        mode_text(l.mode),
                        target_text(&l.target, show_literals)
                    ));
                    Outcome::NotCompared
                }
                _ => Outcome::NotCompared,
            }
        };
        if outcome == Outcome::NotTaken {
            let relation = match &l.target {
                LockTarget::Advisory { key } => format!("advisory lock {key}"),
                t => t.relation().map(|r| r.to_string()).unwrap_or_default(),
            };
            differences.push(Difference {
                kind: "not_taken",
                message: format!(
                    "inference predicted {} on {relation}, which the server did not take",
                    mode_text(l.mode)
                ),
                relation,
                mode: mode_pg(l.mode),
            });
        }
        inferred.push(InferredView {
            target: l.target.clone(),
            mode: l.mode,
            implicit: l.implicit.is_some(),
            outcome,
        });
    }
    if traced {
        let inferred_tables: Vec<(&RelationName, TableLockMode)> = inf.table_locks().collect();
        for (r, m) in &taken {
            let predicted = inferred_tables
                .iter()
                .any(|(ir, im)| (*im == *m || im.covers(*m)) && names_match(ir, r));
            if !predicted {
                differences.push(Difference {
                    kind: "missed",
                    relation: r.to_string(),
                    mode: m.pg_name().to_string(),
                    message: format!("inference missed {m} on {r} (the server took it)"),
                });
            }
        }
        for l in &st.taken {
            if let Some((key, m)) = advisory(l) {
                let predicted = inf.locks.iter().any(|il| match (&il.target, il.mode) {
                    (LockTarget::Advisory { key: ik }, LockMode::Advisory(im)) => {
                        (im == m || im == AdvisoryMode::Exclusive) && advisory_keys_match(ik, &key)
                    }
                    _ => false,
                });
                if !predicted {
                    differences.push(Difference {
                        kind: "missed",
                        relation: format!("advisory lock {key}"),
                        mode: l.lock.mode.clone(),
                        message: format!(
                            "inference missed the {} advisory lock {key} (the server took it)",
                            mode_text(LockMode::Advisory(m))
                        ),
                    });
                }
            }
        }
        for i in &inferred {
            if i.outcome == Outcome::AlreadyHeld
                && let (LockTarget::Relation { relation }, LockMode::Table(m)) = (&i.target, i.mode)
                && let Some((_, _, k)) = first_taken
                    .iter()
                    .find(|(r, fm, _)| *fm == m && names_match(relation, r))
            {
                notes.push(format!(
                    "{m} on {relation} was already held since statement #{}",
                    k + 1
                ));
            }
        }
        if !rows.is_empty() {
            notes.push(format!(
                "row locks ({}) are not visible in pg_locks (PostgreSQL keeps them in the rows; \
                 they show only as tuple/transactionid locks while a session waits): not compared",
                rows.join(", ")
            ));
        }
    }
    let verdict = if !traced {
        Verdict::NotCompared
    } else if differences.is_empty() {
        Verdict::Matches
    } else {
        Verdict::Differs
    };
    let ordinary: Vec<(&RelationName, TableLockMode)> = taken
        .iter()
        .filter(|(r, _)| !is_catalog(r))
        .copied()
        .collect();
    StatementReport {
        inferred,
        differences,
        blocks: blocks(&ordinary),
        notes,
        verdict,
    }
}

/// What the new table locks of a statement block, per relation, in order of appearance.
fn blocks(taken: &[(&RelationName, TableLockMode)]) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    for (r, m) in taken {
        let name = r.to_string();
        match out.iter_mut().find(|b| b.relation == name) {
            Some(b) => b.modes.push(*m),
            None => out.push(Block {
                relation: name,
                modes: vec![*m],
                blocked: Blocked::default(),
            }),
        }
    }
    for b in &mut out {
        b.modes.sort_by(|a, b| b.cmp(a));
        b.modes.dedup();
        b.blocked = Blocked::of(b.strongest());
    }
    out
}

/// ANSI styling when colour is on.
struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
    fn green(&self, s: &str) -> String {
        self.wrap("32", s)
    }
    fn yellow(&self, s: &str) -> String {
        self.wrap("33", s)
    }
    fn red(&self, s: &str) -> String {
        self.wrap("1;31", s)
    }
}

/// A duration as people write it: `300ms`, `2s`, `1.5s`.
fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 || !ms.is_multiple_of(100) {
        format!("{ms}ms")
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// At most `max` characters of `s`, with `…` when cut.
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

/// The server's new locks of a statement, grouped per object, as text lines; table locks say
/// what they block (`blocks`).
fn taken_lines(st: &TracedStatement, blocks: &[Block]) -> Vec<String> {
    // (rank, key, label, modes): relation-bound locks grouped by relation OID. Rank 0: tables
    // and the like that other sessions use (what matters most), 1: other relations (indexes,
    // TOAST, new ones, catalogs), 2: other lock types.
    let mut groups: Vec<(u8, String, String, Vec<String>)> = Vec::new();
    let mut sorted: Vec<&TracedLock> = st.taken.iter().collect();
    sorted.sort_by_key(|l| std::cmp::Reverse(l.table_mode()));
    const NEW: &str = "(new: invisible to other sessions until COMMIT)";
    for l in sorted {
        let rank = match (l.lock.locktype.as_str(), comparable(l)) {
            (_, Some(_)) => 0,
            ("relation", None) => 1,
            _ => 2,
        };
        let (key, label, mode) = match (l.lock.locktype.as_str(), l.lock.relation) {
            ("relation", Some(oid)) => {
                let name = l.relation_name().map(|n| n.to_string());
                let label = match (l.relkind, name) {
                    (_, Some(name)) if comparable(l).is_some() => {
                        match blocks.iter().find(|b| b.relation == name) {
                            Some(b) => format!("{name} — {}", b.blocked.phrase(&name)),
                            None => name,
                        }
                    }
                    (_, None) if l.created_here => {
                        format!("relation {oid} (created and dropped within the run)")
                    }
                    (_, None) => format!("relation {oid}"),
                    (Some(_), Some(name)) if table_lock(l).is_some() => {
                        format!("system catalog {name}")
                    }
                    (Some(k), Some(name)) if l.created_here => {
                        format!("{} {name} {NEW}", k.name())
                    }
                    (Some(k), Some(name)) => format!("{} {name}", k.name()),
                    (None, Some(name)) if l.created_here => format!("{name} {NEW}"),
                    (None, Some(name)) => name,
                };
                let mode = l
                    .table_mode()
                    .map(|m| m.sql_name().to_string())
                    .unwrap_or_else(|| l.lock.mode.clone());
                (format!("rel {oid}"), label, mode)
            }
            ("object", _) if l.created_here => (
                "new objects".to_string(),
                "objects the script created (types, constraints, …)".to_string(),
                l.lock.mode.clone(),
            ),
            _ => (l.describe(), l.describe(), l.lock.mode.clone()),
        };
        match groups.iter_mut().find(|g| g.1 == key) {
            Some(g) if !g.3.contains(&mode) => g.3.push(mode),
            Some(_) => {}
            None => groups.push((rank, key, label, vec![mode])),
        }
    }
    // Relations in the server's order (by name) within their rank; other lock types by what
    // they lock (their OIDs change from run to run).
    groups.sort_by(|a, b| {
        a.0.cmp(&b.0).then_with(|| {
            if a.0 == 2 {
                a.2.cmp(&b.2)
            } else {
                std::cmp::Ordering::Equal
            }
        })
    });
    groups
        .into_iter()
        .map(|(_, _, label, modes)| format!("{} on {label}", modes.join(", ")))
        .collect()
}

/// The text report.
fn render_text(
    header: &Header,
    outcome: &TraceOutcome,
    report: &Report<'_>,
    color: bool,
) -> String {
    let p = Paint(color);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        p.bold(&format!(
            "trace of {} on {} (PostgreSQL {})",
            header.file,
            header.server,
            outcome
                .server_version
                .split_whitespace()
                .next()
                .unwrap_or("?")
        ))
    );
    let _ = writeln!(
        out,
        "one transaction, always rolled back; lock_timeout {}, statement_timeout {}",
        human(header.lock_timeout),
        human(header.statement_timeout)
    );
    for ((st, rep), input) in outcome
        .statements
        .iter()
        .zip(&report.statements)
        .zip(report.inputs)
    {
        out.push('\n');
        let _ = writeln!(
            out,
            "{} {}",
            p.bold(&format!("#{} line {}:", st.index + 1, input.line)),
            shorten(&input.sql, 110)
        );
        match &st.status {
            TraceStatus::Skipped(reason) => {
                let _ = writeln!(out, "   skipped: {reason}");
                if matches!(reason, SkipReason::NotInTransactionBlock { .. }) {
                    let predicted: Vec<String> = rep
                        .inferred
                        .iter()
                        .map(|i| format!("{} on {}", mode_text(i.mode), i.target))
                        .collect();
                    if !predicted.is_empty() {
                        let _ = writeln!(out, "   inferred (not traced): {}", predicted.join(", "));
                    }
                }
                continue;
            }
            TraceStatus::NotRun => {
                let _ = writeln!(out, "   not run: an earlier statement failed");
                continue;
            }
            TraceStatus::Failed(e) => {
                let _ = writeln!(out, "   {} {e}", p.red("FAILED:"));
                for line in failure_explanation(st, e, header.lock_timeout) {
                    let _ = writeln!(out, "   {line}");
                }
                continue;
            }
            TraceStatus::Traced => {}
            _ => continue,
        }
        let lines = taken_lines(st, &rep.blocks);
        if lines.is_empty() {
            let _ = writeln!(out, "   took: no new locks");
        }
        for (i, line) in lines.iter().enumerate() {
            let _ = writeln!(out, "   {} {line}", if i == 0 { "took:" } else { "     " });
        }
        let compared: Vec<String> = rep
            .inferred
            .iter()
            .filter(|i| !matches!(i.outcome, Outcome::NotCompared))
            .map(|i| {
                let base = format!("{} on {}", mode_text(i.mode), i.target);
                match &i.outcome {
                    Outcome::AlreadyHeld => format!("{base} (already held)"),
                    Outcome::Covered(m) => format!("{base} (covered by the {m} it holds)"),
                    Outcome::CreatedRelation => format!("{base} (relation created by the script)"),
                    Outcome::NotTaken => format!("{base} (not taken)"),
                    _ => base,
                }
            })
            .collect();
        match rep.verdict {
            Verdict::Matches if compared.is_empty() => {
                let _ = writeln!(
                    out,
                    "   inference: {} (nothing to compare)",
                    p.green("matches")
                );
            }
            Verdict::Matches => {
                let _ = writeln!(
                    out,
                    "   inference: {} — predicted {}",
                    p.green("matches"),
                    compared.join(", ")
                );
            }
            _ => {
                let _ = writeln!(out, "   inference: {}", p.yellow("DIFFERS"));
                for d in &rep.differences {
                    let _ = writeln!(out, "     - {}", d.message);
                }
                if !compared.is_empty() {
                    let _ = writeln!(out, "     predicted: {}", compared.join(", "));
                }
            }
        }
        for n in &rep.notes {
            let _ = writeln!(out, "   note: {n}");
        }
    }
    out.push('\n');
    render_summary(&mut out, outcome, report, &p);
    out
}

/// Why a failed statement failed, in words; for a lock timeout, whom it waited for.
fn failure_explanation(
    st: &TracedStatement,
    e: &StatementError,
    lock_timeout: Duration,
) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(d) = &e.detail {
        lines.push(format!("detail: {d}"));
    }
    if e.is_lock_timeout() {
        match &st.waited {
            Some(w) => {
                let what = match (w.lock.table_mode(), &w.lock.relation_name) {
                    (Some(m), Some(r)) => format!("{m} on {r}"),
                    _ => format!("{} on {}", w.lock.mode, w.lock.describe()),
                };
                let holders: Vec<String> = w
                    .blockers
                    .iter()
                    .map(|b| {
                        let app = if b.application.is_empty() {
                            "no application_name".to_string()
                        } else {
                            b.application.clone()
                        };
                        let state = b.state.as_deref().unwrap_or("state unknown");
                        if b.modes.is_empty() {
                            format!("pid {} ({app}, {state})", b.pid)
                        } else {
                            format!("pid {} ({app}, {state}, {})", b.pid, b.modes.join(", "))
                        }
                    })
                    .collect();
                lines.push(format!(
                    "it waited {} for {what}, held by {}",
                    human(lock_timeout),
                    if holders.is_empty() {
                        "another session".to_string()
                    } else {
                        holders.join(" and ")
                    }
                ));
                let behind = match (w.lock.table_mode(), &w.lock.relation_name) {
                    (Some(m), Some(r)) => {
                        let b = Blocked::of(m);
                        if b.reads {
                            format!("every later read and write of {r}")
                        } else if b.writes {
                            format!("every later write to {r}")
                        } else {
                            format!("later conflicting requests on {r}")
                        }
                    }
                    _ => "later conflicting requests on the same object".to_string(),
                };
                lines.push(format!(
                    "in production it would have queued behind {}, and {behind} would have \
                     queued behind it",
                    if w.blockers.len() > 1 {
                        "those sessions"
                    } else {
                        "that session"
                    }
                ));
            }
            None => lines.push(format!(
                "it waited longer than lock_timeout ({}) for a lock another session holds: in \
                 production it would have queued behind that session",
                human(lock_timeout)
            )),
        }
    }
    lines.push("the run stopped here; the transaction was rolled back".to_string());
    lines
}

/// Totals, the traffic the migration blocks, the rollback.
fn render_summary(out: &mut String, outcome: &TraceOutcome, report: &Report<'_>, p: &Paint) {
    let count = |f: &dyn Fn(&TraceStatus) -> bool| {
        outcome.statements.iter().filter(|s| f(&s.status)).count()
    };
    let traced = count(&|s| *s == TraceStatus::Traced);
    let skipped = count(&|s| matches!(s, TraceStatus::Skipped(_)));
    let failed = count(&|s| matches!(s, TraceStatus::Failed(_)));
    let not_run = count(&|s| *s == TraceStatus::NotRun);
    let matched = report
        .statements
        .iter()
        .filter(|s| s.verdict == Verdict::Matches)
        .count();
    let differed = report
        .statements
        .iter()
        .filter(|s| s.verdict == Verdict::Differs)
        .count();
    let _ = writeln!(
        out,
        "{} {} statement{}: {traced} traced, {skipped} skipped, {failed} failed, {not_run} not run; \
         inference matched {matched}, differed on {differed}",
        p.bold("summary:"),
        outcome.statements.len(),
        if outcome.statements.len() == 1 {
            ""
        } else {
            "s"
        }
    );
    let summary = blocked_summary(outcome, report);
    if !summary.is_empty() {
        let _ = writeln!(out, "blocked until COMMIT:");
        for line in summary {
            let _ = writeln!(out, "  {line}");
        }
    }
    let _ = writeln!(
        out,
        "{}",
        if outcome.released_all {
            "rolled back: the traced session held no locks afterwards"
        } else {
            "rolled back, but the traced session still held locks afterwards"
        }
    );
}

/// Per relation: from which statement each kind of ordinary traffic is blocked.
fn blocked_summary(outcome: &TraceOutcome, report: &Report<'_>) -> Vec<String> {
    // relation → (reads, locking reads, writes): first statement index blocking each.
    let mut firsts: Vec<(String, [Option<usize>; 3])> = Vec::new();
    for (st, rep) in outcome.statements.iter().zip(&report.statements) {
        for b in &rep.blocks {
            let entry = match firsts.iter_mut().position(|(r, _)| *r == b.relation) {
                Some(i) => &mut firsts[i].1,
                None => {
                    firsts.push((b.relation.clone(), [None; 3]));
                    &mut firsts.last_mut().expect("just pushed").1
                }
            };
            let flags = [b.blocked.reads, b.blocked.locking_reads, b.blocked.writes];
            for (slot, on) in entry.iter_mut().zip(flags) {
                if on && slot.is_none() {
                    *slot = Some(st.index);
                }
            }
        }
    }
    let line_of = |i: usize| report.inputs.get(i).map(|x| x.line).unwrap_or(0);
    // In the order the traffic gets blocked (a stable sort keeps ties in order of appearance).
    firsts.sort_by_key(|(_, f)| f.iter().flatten().min().copied());
    firsts
        .into_iter()
        .filter(|(_, f)| f.iter().any(Option::is_some))
        .map(|(rel, [reads, locking, writes])| {
            let mut parts = Vec::new();
            match (reads, writes) {
                (Some(r), Some(w)) if r == w => parts.push(format!(
                    "reads and writes from #{} (line {})",
                    r + 1,
                    line_of(r)
                )),
                _ => {
                    if let Some(w) = writes {
                        parts.push(format!("writes from #{} (line {})", w + 1, line_of(w)));
                    }
                    if let Some(l) = locking.filter(|l| Some(*l) != reads) {
                        parts.push(format!(
                            "SELECT … FOR UPDATE/SHARE from #{} (line {})",
                            l + 1,
                            line_of(l)
                        ));
                    }
                    if let Some(r) = reads {
                        parts.push(format!("reads from #{} (line {})", r + 1, line_of(r)));
                    }
                }
            }
            format!("{rel}: {}", parts.join(", "))
        })
        .collect()
}

/// One lock as JSON.
fn lock_json(l: &TracedLock) -> Value {
    json!({
        "locktype": l.lock.locktype,
        "relation": l.relation_name().map(|n| n.to_string()),
        "relkind": l.relkind.map(|k| k.name()),
        "created_by_script": l.created_here,
        "mode": l.lock.mode,
        "description": l.describe(),
    })
}

/// The JSON report (shape in the module docs).
fn render_json(header: &Header, outcome: &TraceOutcome, report: &Report<'_>) -> Value {
    let statements: Vec<Value> = outcome
        .statements
        .iter()
        .zip(&report.statements)
        .zip(report.inputs)
        .map(|((st, rep), input)| {
            let (status, skip_reason, error) = match &st.status {
                TraceStatus::Traced => ("traced", None, Value::Null),
                TraceStatus::Skipped(r) => ("skipped", Some(r.to_string()), Value::Null),
                TraceStatus::Failed(e) => (
                    "failed",
                    None,
                    json!({
                        "sqlstate": e.sqlstate,
                        "message": e.message,
                        "detail": e.detail,
                        "lock_timeout": e.is_lock_timeout(),
                    }),
                ),
                _ => ("not_run", None, Value::Null),
            };
            let waited = st.waited.as_ref().map(|w| {
                json!({
                    "locktype": w.lock.locktype,
                    "relation": w.lock.relation_name.as_ref().map(|n| n.to_string()),
                    "mode": w.lock.mode,
                    "description": w.lock.describe(),
                    "blockers": w.blockers.iter().map(|b| json!({
                        "pid": b.pid,
                        "application": b.application,
                        "state": b.state,
                        "modes": b.modes,
                    })).collect::<Vec<_>>(),
                })
            });
            json!({
                "index": st.index + 1,
                "line": input.line,
                "sql": input.sql,
                "status": status,
                "skip_reason": skip_reason,
                "error": error,
                "waited_for": waited,
                "elapsed_ms": (st.elapsed.as_secs_f64() * 1000.0 * 100.0).round() / 100.0,
                "locks_taken": st.taken.iter().map(lock_json).collect::<Vec<_>>(),
                "locks_released": st.released.iter().map(lock_json).collect::<Vec<_>>(),
                "inferred": rep.inferred.iter().map(|i| json!({
                    "kind": match i.mode {
                        LockMode::Table(_) => "table",
                        LockMode::Row(_) => "row",
                        LockMode::Advisory(_) => "advisory",
                        LockMode::InnoDbTable(_) => "innodb_table",
                        LockMode::InnoDbRecord(_) => "innodb_record",
                    },
                    "target": i.target.to_string(),
                    "mode": mode_pg(i.mode),
                    "implicit": i.implicit,
                    "result": i.outcome.key(),
                    "covered_by": match i.outcome {
                        Outcome::Covered(m) => Some(m.pg_name()),
                        _ => None,
                    },
                })).collect::<Vec<_>>(),
                "differences": rep.differences.iter().map(|d| json!({
                    "kind": d.kind,
                    "relation": d.relation,
                    "mode": d.mode,
                    "message": d.message,
                })).collect::<Vec<_>>(),
                "blocks": rep.blocks.iter().map(|b| json!({
                    "relation": b.relation,
                    "modes": b.modes.iter().map(|m| m.pg_name()).collect::<Vec<_>>(),
                    "strongest": b.strongest().pg_name(),
                    "reads": b.blocked.reads,
                    "locking_reads": b.blocked.locking_reads,
                    "writes": b.blocked.writes,
                    "message": b.message(),
                })).collect::<Vec<_>>(),
                "verdict": match rep.verdict {
                    Verdict::Matches => "matches",
                    Verdict::Differs => "differs",
                    Verdict::NotCompared => "not_compared",
                },
                "notes": rep.notes,
            })
        })
        .collect();
    let count = |f: &dyn Fn(&TraceStatus) -> bool| {
        outcome.statements.iter().filter(|s| f(&s.status)).count()
    };
    json!({
        "schema_version": 1,
        "file": header.file,
        "server": header.server,
        "server_version": outcome.server_version,
        "server_version_num": outcome.server_version_num,
        "lock_timeout_ms": header.lock_timeout.as_millis() as u64,
        "statement_timeout_ms": header.statement_timeout.as_millis() as u64,
        "rolled_back": outcome.released_all,
        "tracer_locks": outcome.tracer_locks.iter().map(|l| json!({
            "locktype": l.locktype,
            "relation": l.relation_name.as_ref().map(|n| n.to_string()),
            "mode": l.mode,
            "description": l.describe(),
        })).collect::<Vec<_>>(),
        "statements": statements,
        "summary": {
            "statements": outcome.statements.len(),
            "traced": count(&|s| *s == TraceStatus::Traced),
            "skipped": count(&|s| matches!(s, TraceStatus::Skipped(_))),
            "failed": count(&|s| matches!(s, TraceStatus::Failed(_))),
            "not_run": count(&|s| *s == TraceStatus::NotRun),
            "matched": report.statements.iter().filter(|s| s.verdict == Verdict::Matches).count(),
            "differed": report.statements.iter().filter(|s| s.verdict == Verdict::Differs).count(),
            "exit_code": report.exit_code(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockgraph_core::HeldLock;
    use lockgraph_pg::trace::RelKind;

    fn lock(relation: &str, mode: TableLockMode) -> TracedLock {
        TracedLock {
            lock: HeldLock {
                locktype: "relation".into(),
                relation: Some(1),
                relation_name: Some(RelationName::new(relation)),
                mode: mode.pg_name().into(),
                granted: true,
                ..HeldLock::default()
            },
            relkind: Some(RelKind::Table),
            created_here: false,
            object: None,
        }
    }

    fn statement(taken: Vec<TracedLock>, earlier: Vec<TracedLock>) -> TracedStatement {
        let mut held = earlier;
        held.extend(taken.iter().cloned());
        TracedStatement {
            index: 0,
            status: TraceStatus::Traced,
            taken,
            released: Vec::new(),
            held,
            waited: None,
            elapsed: Duration::ZERO,
        }
    }

    fn run(sql: &str, st: &TracedStatement, created: &[RelationName]) -> StatementReport {
        let inf = infer_statement(sql, &Schema::default());
        compare(st, &inf, created, &[], false)
    }

    fn differences(r: &StatementReport) -> Vec<String> {
        r.differences.iter().map(|d| d.message.clone()).collect()
    }

    #[test]
    fn a_statement_that_takes_what_was_inferred_matches() {
        use TableLockMode::*;
        let st = statement(vec![lock("app.orders", RowExclusive)], vec![]);
        let r = run("UPDATE orders SET total = 1 WHERE id = 2", &st, &[]);
        assert_eq!(r.verdict, Verdict::Matches);
        assert_eq!(r.inferred[0].outcome, Outcome::Match);
        // The row lock is listed, not compared, and said to be invisible.
        assert_eq!(r.inferred[1].outcome, Outcome::NotCompared);
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("not visible in pg_locks")),
            "{:?}",
            r.notes
        );
        assert_eq!(
            r.blocks[0].message(),
            "ROW EXCLUSIVE on app.orders — blocks no ordinary reads or writes"
        );
    }

    #[test]
    fn held_and_covering_locks_count_as_matches_and_say_so() {
        use TableLockMode::*;
        // ANALYZE takes SHARE UPDATE EXCLUSIVE; the transaction already holds it…
        let st = statement(vec![], vec![lock("orders", ShareUpdateExclusive)]);
        let r = run("ANALYZE orders", &st, &[]);
        assert_eq!(r.inferred[0].outcome, Outcome::AlreadyHeld);
        assert_eq!(r.verdict, Verdict::Matches);
        // …or holds only ACCESS EXCLUSIVE, which covers it.
        let st = statement(vec![], vec![lock("orders", AccessExclusive)]);
        let r = run("ANALYZE orders", &st, &[]);
        assert_eq!(r.inferred[0].outcome, Outcome::Covered(AccessExclusive));
        assert_eq!(r.verdict, Verdict::Matches);
        // A weaker real lock under a stronger inferred one is no difference either.
        let st = statement(
            vec![lock("orders", AccessShare), lock("orders", AccessExclusive)],
            vec![],
        );
        let r = run("ALTER TABLE orders ADD COLUMN c int", &st, &[]);
        assert_eq!(differences(&r), Vec::<String>::new());
    }

    #[test]
    fn missed_and_untaken_locks_are_differences() {
        use TableLockMode::*;
        let st = statement(
            vec![lock("orders", RowExclusive), lock("customers", RowShare)],
            vec![],
        );
        let r = run("INSERT INTO orders (id) VALUES (1)", &st, &[]);
        assert_eq!(r.verdict, Verdict::Differs);
        assert_eq!(
            differences(&r),
            ["inference missed ROW SHARE on customers (the server took it)"]
        );
        let st = statement(vec![], vec![]);
        let r = run("LOCK TABLE orders IN SHARE MODE", &st, &[]);
        assert_eq!(
            differences(&r),
            ["inference predicted SHARE on orders, which the server did not take"]
        );
        assert_eq!(r.differences[0].mode, "ShareLock");
    }

    #[test]
    fn created_relations_and_catalogs_are_not_compared() {
        use TableLockMode::*;
        let mut new_table = lock("app.shipments", AccessExclusive);
        new_table.created_here = true;
        let st = statement(vec![new_table], vec![]);
        let created = [RelationName::new("app.shipments")];
        let r = run("ALTER TABLE shipments ADD COLUMN c int", &st, &created);
        assert_eq!(r.inferred[0].outcome, Outcome::CreatedRelation);
        assert_eq!(r.verdict, Verdict::Matches);
        assert!(r.blocks.is_empty());
        // DDL keeps ROW EXCLUSIVE on the catalogs it changes: not a difference.
        let st = statement(
            vec![
                lock("orders", ShareUpdateExclusive),
                lock("pg_catalog.pg_description", RowExclusive),
            ],
            vec![],
        );
        let r = run("COMMENT ON TABLE orders IS 'x'", &st, &[]);
        assert_eq!(differences(&r), Vec::<String>::new());
        assert_eq!(r.blocks.len(), 1);
        // A catalog the statement names is compared like any table.
        let st = statement(vec![lock("pg_catalog.pg_class", AccessShare)], vec![]);
        let r = run("SELECT * FROM pg_class", &st, &[]);
        assert_eq!(r.inferred[0].outcome, Outcome::Match, "{:?}", r.inferred);
    }

    #[test]
    fn names_compare_through_the_search_path() {
        let n = RelationName::new;
        assert!(names_match(&n("orders"), &n("orders")));
        assert!(names_match(&n("orders"), &n("billing.orders")));
        assert!(names_match(&n("billing.orders"), &n("billing.orders")));
        assert!(!names_match(&n("billing.orders"), &n("orders")));
        assert!(!names_match(&n("billing.orders"), &n("shop.orders")));
        assert!(!names_match(&n("orders"), &n("billing.orders_old")));
    }

    #[test]
    fn blocked_traffic_follows_the_conflict_matrix() {
        use TableLockMode::*;
        let phrase = |m| Blocked::of(m).phrase("orders");
        assert_eq!(
            phrase(AccessExclusive),
            "blocks reads and writes of orders until COMMIT"
        );
        assert_eq!(
            phrase(Exclusive),
            "blocks writes and SELECT … FOR UPDATE/SHARE of orders until COMMIT (plain reads go on)"
        );
        for m in [Share, ShareRowExclusive] {
            assert_eq!(
                phrase(m),
                "blocks writes (INSERT/UPDATE/DELETE) of orders until COMMIT (reads go on)"
            );
        }
        for m in [AccessShare, RowShare, RowExclusive, ShareUpdateExclusive] {
            assert_eq!(phrase(m), "blocks no ordinary reads or writes");
        }
    }

    #[test]
    fn durations_need_a_unit() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1min"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("2").unwrap_err().contains("needs a unit"));
        assert!(parse_duration("0ms").is_err());
        assert!(parse_duration("2h").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("fast").is_err());
        assert_eq!(human(Duration::from_millis(300)), "300ms");
        assert_eq!(human(Duration::from_secs(2)), "2s");
        assert_eq!(human(Duration::from_millis(1500)), "1.5s");
    }

    #[test]
    fn row_keys_are_redacted_unless_asked_for() {
        let inf = infer_statement(
            "UPDATE orders SET total = 1 WHERE id = 42",
            &lockgraph_sql::parse_schema(&[(
                "s.sql",
                "CREATE TABLE orders (id int PRIMARY KEY, total int)",
            )])
            .0,
        );
        let rows = &inf.locks[1].target;
        assert_eq!(target_text(rows, false), "orders rows (id = ?)");
        assert_eq!(target_text(rows, true), "orders rows (id = 42)");
    }
}
