//! From the front-ends' [`Transaction`]s and the Python files to the [`SqliteModel`]: which
//! transactions run on SQLite, their steps as SQLite sees them (with the `BEGIN` the `sqlite3`
//! module sends where it sends it), their connections, and the external calls made while they
//! hold the write lock.

use crate::lock::BeginMode;
use crate::model::{BusyTimeout, Isolation, SqliteModel, SqliteTxn, Step, StepKind};
use crate::scan::{FileFacts, scan_python};
use lockgraph_core::{
    Diagnostic, DiagnosticKind, Engine, Location, Statement, Transaction, TransactionKind,
};
use lockgraph_sql::StatementKind;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a statement does to SQLite's locks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Begin(BeginMode),
    Commit,
    Rollback,
    Read,
    /// `INSERT`/`UPDATE`/`DELETE`/`REPLACE`: the `sqlite3` module's implicit `BEGIN` comes first.
    Dml,
    /// DDL: writes, but (Python 3.6+) no implicit `BEGIN`.
    Ddl,
    /// Savepoints, `PRAGMA`, anything else: no lock modelled.
    None,
}

fn classify(stmt: &Statement) -> Class {
    let text = &*stmt.text;
    match lockgraph_sql::infer_statement(text, &lockgraph_core::Schema::default()).kind {
        StatementKind::Begin => {
            return Class::Begin(
                BeginMode::of_begin_statement(text).unwrap_or(BeginMode::Deferred),
            );
        }
        StatementKind::Commit => return Class::Commit,
        StatementKind::Rollback => return Class::Rollback,
        StatementKind::Other => {}
        _ => return Class::None,
    }
    let upper = text.to_ascii_uppercase();
    let words: Vec<&str> = upper
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let dml = ["INSERT", "UPDATE", "DELETE", "REPLACE"];
    match words.first().copied() {
        Some("SELECT" | "VALUES") => Class::Read,
        Some("WITH") if words.iter().any(|w| dml.contains(w)) => Class::Dml,
        Some("WITH") => Class::Read,
        Some(w) if dml.contains(&w) => Class::Dml,
        Some("CREATE" | "DROP" | "ALTER") => Class::Ddl,
        _ => Class::None,
    }
}

/// Moves the transactions that run on SQLite ([`Transaction::engine`]) out of `transactions`
/// into a [`SqliteModel`], reading the Python files among `files` (display name, text) for their
/// connections, busy timeouts and external calls. Diagnostics the PostgreSQL parser raised
/// (unparseable or unmodelled statements: `PRAGMA`, `REPLACE INTO`) on the statements of those
/// transactions and in `sqlite_files` (files that run on SQLite) are dropped: SQLite's grammar is
/// not PostgreSQL's.
///
/// Python transactions follow the `sqlite3` module's implicit `BEGIN` (see the crate docs);
/// transactions of other files (SQL files configured as SQLite, other languages) open only with
/// an explicit `BEGIN`, as the `sqlite3` shell and most drivers do, or (a file run as one
/// transaction) with the runner's `BEGIN` before the first statement.
pub fn split_sqlite(
    transactions: &mut Vec<Transaction>,
    diagnostics: &mut Vec<Diagnostic>,
    files: &[(&str, &str)],
    sqlite_files: &[&str],
) -> SqliteModel {
    let mut model = SqliteModel::default();
    let mut sqlite_files: Vec<Arc<str>> = sqlite_files.iter().map(|f| Arc::from(*f)).collect();
    if transactions.iter().any(|t| t.engine == Engine::Sqlite) {
        take_sqlite(transactions, files, &mut model, &mut sqlite_files);
    }
    sqlite_files.sort();
    sqlite_files.dedup();
    diagnostics.retain(|d| {
        !(matches!(
            d.kind,
            DiagnosticKind::UnparseableStatement | DiagnosticKind::UnmodelledStatement
        ) && sqlite_files.binary_search(&d.location.path).is_ok())
    });
    model
}

fn take_sqlite(
    transactions: &mut Vec<Transaction>,
    files: &[(&str, &str)],
    model: &mut SqliteModel,
    sqlite_files: &mut Vec<Arc<str>>,
) {
    // Only the Python files that hold SQLite transactions' code are parsed.
    let mut wanted: Vec<&str> = transactions
        .iter()
        .filter(|t| t.engine == Engine::Sqlite)
        .flat_map(|t| {
            std::iter::once(&*t.location.path).chain(t.statements.iter().map(|s| &*s.location.path))
        })
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut facts: BTreeMap<&str, FileFacts> = BTreeMap::new();
    for (name, text) in files {
        if (name.ends_with(".py") || name.ends_with(".pyi")) && wanted.binary_search(name).is_ok() {
            facts.insert(name, scan_python(name, text));
        }
    }

    // Connections, per file, with the file's PRAGMA busy_timeout applied.
    let mut conn_index: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (name, f) in &facts {
        for c in &f.connections {
            let mut c = c.clone();
            if let Some(&(line, ms)) = f.pragma_timeouts.last() {
                c.busy_timeout = BusyTimeout::Millis(ms);
                c.timeout_at = Some(Location::new(c.location.path.clone(), line));
            }
            conn_index
                .entry(name)
                .or_default()
                .push(model.connections.len());
            model.connections.push(c);
        }
    }

    let mut kept = Vec::with_capacity(transactions.len());
    for t in transactions.drain(..) {
        if t.engine != Engine::Sqlite {
            kept.push(t);
            continue;
        }
        sqlite_files.extend(t.statements.iter().map(|s| s.location.path.clone()));
        let root = facts.get(&*t.location.path);
        let connection = root.and_then(|f| pick_connection(&t, f, &conn_index, model));
        let python = t.location.path.ends_with(".py");
        let isolation = connection
            .and_then(|c| model.connections.get(c))
            .map(|c| c.isolation.clone())
            .unwrap_or(if python {
                Isolation::Legacy(BeginMode::Deferred)
            } else if t.kind == TransactionKind::File {
                // A file run as one transaction: the runner's BEGIN opens it.
                Isolation::AlwaysOpen
            } else {
                Isolation::Autocommit
            });
        let mut steps = steps_of(&t, &isolation);
        if let Some(f) = root {
            add_external_calls(&t, f, &mut steps);
        }
        model.transactions.push(SqliteTxn {
            name: t.name.clone(),
            location: t.location.clone(),
            group: t.group.clone(),
            steps,
            connection,
        });
    }
    *transactions = kept;
}

/// The connection a transaction runs on: the nearest `connect` before it in its function, else
/// the only one of its file, else the only one of the project.
fn pick_connection(
    t: &Transaction,
    f: &FileFacts,
    index: &BTreeMap<&str, Vec<usize>>,
    model: &SqliteModel,
) -> Option<usize> {
    let line = t.location.line;
    let in_file = index.get(&*t.location.path).cloned().unwrap_or_default();
    if let Some(func) = f.function_at(line) {
        let nearest = in_file
            .iter()
            .copied()
            .filter(|&c| {
                let l = model.connections[c].location.line;
                func.contains(l) && l <= line
            })
            .max_by_key(|&c| model.connections[c].location.line);
        if nearest.is_some() {
            return nearest;
        }
    }
    if in_file.len() == 1 {
        return in_file.first().copied();
    }
    (model.connections.len() == 1).then_some(0)
}

/// The steps SQLite sees: statements classified, the driver's implicit `BEGIN` inserted where the
/// `sqlite3` module sends it, statements outside a transaction marked autocommit.
fn steps_of(t: &Transaction, isolation: &Isolation) -> Vec<Step> {
    let via_of = |s: &Arc<Statement>| -> Option<Location> {
        t.locks
            .iter()
            .find(|l| Arc::ptr_eq(&l.statement, s))
            .and_then(|l| l.via.as_ref())
            .and_then(|v| v.first().cloned())
    };
    let classes: Vec<(Class, &Arc<Statement>)> = t
        .statements
        .iter()
        .map(|s| (classify(s), s))
        .filter(|(c, _)| *c != Class::None)
        .collect();
    let explicit = classes.iter().any(|(c, _)| matches!(c, Class::Begin(_)));
    // Where the driver's BEGIN goes (index into `classes`), and in which mode.
    let implicit: Option<(usize, BeginMode)> = if explicit || t.kind == TransactionKind::Autocommit
    {
        None
    } else {
        match isolation {
            Isolation::Autocommit => None,
            Isolation::AlwaysOpen => (!classes.is_empty()).then_some((0, BeginMode::Deferred)),
            Isolation::Legacy(mode) => classes
                .iter()
                .position(|(c, _)| *c == Class::Dml)
                .map(|i| (i, *mode)),
        }
    };
    let mut steps = Vec::new();
    let mut open = false;
    for (i, (class, stmt)) in classes.iter().enumerate() {
        if let Some((at, mode)) = implicit
            && at == i
        {
            steps.push(Step {
                kind: StepKind::Begin(mode),
                location: stmt.location.clone(),
                statement: None,
                autocommit: false,
                via: via_of(stmt),
            });
            open = true;
        }
        let kind = match class {
            Class::Begin(m) => {
                open = true;
                StepKind::Begin(*m)
            }
            Class::Commit => StepKind::Commit,
            Class::Rollback => StepKind::Rollback,
            Class::Read => StepKind::Read,
            Class::Dml | Class::Ddl => StepKind::Write,
            Class::None => continue,
        };
        let ends = matches!(kind, StepKind::Commit | StepKind::Rollback);
        steps.push(Step {
            kind,
            location: stmt.location.clone(),
            statement: Some((*stmt).clone()),
            autocommit: !open,
            via: via_of(stmt),
        });
        if ends {
            open = false;
        }
    }
    if open {
        // The scope's end or the driver's commit(): where exactly is not known here.
        let location = steps
            .last()
            .map(|s: &Step| s.written_at().clone())
            .unwrap_or_else(|| t.location.clone());
        steps.push(Step {
            kind: StepKind::Commit,
            location,
            statement: None,
            autocommit: false,
            via: None,
        });
    }
    steps
}

/// Inserts the external calls the transaction's own function makes while it holds the write
/// lock: after the step that takes it and before the commit (a `COMMIT` statement, a
/// `commit()`/`rollback()` call, the end of a transaction scope, or the end of the function).
fn add_external_calls(t: &Transaction, f: &FileFacts, steps: &mut Vec<Step>) {
    let Some(from) = steps.iter().position(|s| match s.kind {
        StepKind::Begin(BeginMode::Immediate | BeginMode::Exclusive) => true,
        StepKind::Write => !s.autocommit,
        StepKind::Begin(_) => false,
        _ => false,
    }) else {
        return;
    };
    let path = &t.location.path;
    let start = steps[from].written_at();
    if start.path != *path {
        return;
    }
    let start = start.line;
    let Some(func) = f.function_at(start) else {
        return;
    };
    // The last step of the transaction's own code that is still in it.
    let last_in_txn = steps.iter().rposition(|s| {
        matches!(s.kind, StepKind::Commit | StepKind::Rollback) && s.statement.is_some()
    });
    let end = match last_in_txn {
        Some(i) if steps[i].written_at().path == *path => steps[i].written_at().line,
        _ => {
            let last = steps
                .iter()
                .rev()
                .find(|s| s.statement.is_some() && s.written_at().path == *path)
                .map_or(start, |s| s.written_at().line);
            f.ends
                .iter()
                .copied()
                .find(|&l| l >= last && func.contains(l))
                .or_else(|| {
                    f.scopes
                        .iter()
                        .filter(|s| s.contains(start) && func.contains(s.start))
                        .min_by_key(|s| s.end - s.start)
                        .map(|s| s.end)
                })
                .unwrap_or(func.end)
        }
    };
    if let Some(last) = steps.last_mut()
        && last.statement.is_none()
        && last.kind == StepKind::Commit
    {
        last.location = Location::new(path.clone(), end);
    }
    for e in &f.externals {
        if e.line <= start || e.line >= end || f.function_at(e.line) != Some(func) {
            continue;
        }
        let at = steps
            .iter()
            .enumerate()
            .skip(from + 1)
            .find(|(_, s)| {
                (s.statement.is_none() && matches!(s.kind, StepKind::Commit | StepKind::Rollback))
                    || (s.written_at().path == *path && s.written_at().line > e.line)
            })
            .map_or(steps.len(), |(i, _)| i);
        steps.insert(
            at,
            Step {
                kind: StepKind::External {
                    kind: e.kind,
                    call: e.call.clone(),
                    awaited: e.awaited,
                },
                location: Location::new(path.clone(), e.line),
                statement: None,
                autocommit: false,
                via: None,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockgraph_core::Schema;
    use lockgraph_sql::{SqlFileOptions, build_transactions};

    /// Transactions whose statements sit at `app.py` lines, as a front-end would give them, on
    /// `engine`.
    fn txns(sql: &str, whole_file: bool, engine: Engine) -> Vec<Transaction> {
        let opts = SqlFileOptions {
            file_is_transaction: whole_file,
            group: None,
        };
        let mut ts = build_transactions("app.py", sql, &Schema::default(), &opts).0;
        for t in &mut ts {
            t.engine = engine;
        }
        ts
    }

    fn kinds(t: &SqliteTxn) -> Vec<(String, bool)> {
        t.steps
            .iter()
            .map(|s| (format!("{:?}", s.kind), s.autocommit))
            .collect()
    }

    #[test]
    fn engine_decides_who_is_moved() {
        let sql =
            "BEGIN;\nSELECT n FROM t WHERE id = 1;\nUPDATE t SET n = 2 WHERE id = 1;\nCOMMIT;";
        let mut pg = txns(sql, false, Engine::Postgres);
        let m = split_sqlite(
            &mut pg,
            &mut Vec::new(),
            &[("app.py", "import asyncpg\n")],
            &[],
        );
        assert!(m.transactions.is_empty() && pg.len() == 1);

        let mut lite = txns(sql, false, Engine::Sqlite);
        let mut diags = vec![Diagnostic {
            location: Location::new("app.py", 3),
            kind: DiagnosticKind::UnmodelledStatement,
            message: "PRAGMA".into(),
            statement: None,
        }];
        let m = split_sqlite(
            &mut lite,
            &mut diags,
            &[("app.py", "import sqlite3\n")],
            &[],
        );
        assert!(lite.is_empty() && diags.is_empty());
        let t = &m.transactions[0];
        let f = |k: &str| (k.to_string(), false);
        assert_eq!(
            kinds(t),
            [f("Begin(Deferred)"), f("Read"), f("Write"), f("Commit")]
        );
        assert_eq!(t.deferred_upgrade(), Some((1, 2)));
    }

    #[test]
    fn the_sqlite3_module_begins_before_the_first_write() {
        let sql = "SELECT n FROM t WHERE id = 1;\nUPDATE t SET n = 2 WHERE id = 1;";
        let text = "import sqlite3\nconn = sqlite3.connect(\"x.db\")\n";
        let mut legacy = txns(sql, true, Engine::Sqlite);
        let m = split_sqlite(&mut legacy, &mut Vec::new(), &[("app.py", text)], &[]);
        let t = &m.transactions[0];
        assert_eq!(
            kinds(t),
            [
                ("Read".to_string(), true),
                ("Begin(Deferred)".to_string(), false),
                ("Write".to_string(), false),
                ("Commit".to_string(), false),
            ]
        );
        assert_eq!(t.deferred_upgrade(), None);

        let always_open = "import sqlite3\nconn = sqlite3.connect(\"x.db\", autocommit=False)\n";
        let mut open = txns(sql, true, Engine::Sqlite);
        let m = split_sqlite(&mut open, &mut Vec::new(), &[("app.py", always_open)], &[]);
        assert_eq!(m.transactions[0].deferred_upgrade(), Some((1, 2)));

        // Not Python (an SQL file configured as SQLite), run as one transaction: the runner's
        // BEGIN comes first, so the read holds SHARED when the write wants RESERVED.
        let opts = SqlFileOptions {
            file_is_transaction: true,
            group: None,
        };
        let mut file = build_transactions("q.sql", sql, &Schema::default(), &opts).0;
        file[0].engine = Engine::Sqlite;
        let m = split_sqlite(&mut file, &mut Vec::new(), &[], &[]);
        assert_eq!(m.transactions[0].deferred_upgrade(), Some((1, 2)));
    }
}
