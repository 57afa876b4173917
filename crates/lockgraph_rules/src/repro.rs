//! Reproductions: turn a predicted deadlock into a script that makes it happen on a real server.
//!
//! A reproduction has three parts:
//! 1. **setup** — the DDL seen in the input (minus the statements under test), then seed rows for
//!    every row the steps lock, generated from the schema: key values from the statements, type-
//!    appropriate values for other `NOT NULL` columns, parent rows first for foreign keys;
//! 2. **phase one** — each session begins its transaction and runs up to the lock it will hold;
//! 3. **phase two** — each session runs on to the lock that the next session holds; every step
//!    but the last blocks, and the last closes the cycle, so the server reports the deadlock
//!    (PostgreSQL: SQLSTATE 40P01; MySQL/MariaDB: error 1213, SQLSTATE 40001).
//!
//! The script is written for the engine of its transactions (`Repro::engine`): all of them
//! must run on one engine, and only engines with a runner get one (PostgreSQL, MySQL/MariaDB;
//! never SQLite). What differs between engines is one row of a small table (`Dialect`): how a
//! transaction begins, which DDL is replayed, how a seed row is inserted without failing on an
//! existing one, how identifiers are quoted, how placeholders are bound, and the values of
//! seeded columns. The DDL is replayed as the input wrote it, so a MySQL script creates its
//! tables with MySQL's syntax; DDL of transactions on another engine is left out.
//!
//! Placeholders are bound so that both sessions lock the same rows — except where two runs of
//! one transaction must lock two different rows (LG103): there the key placeholder of the second
//! row gets value `2` (`Bind`). On PostgreSQL a value is the untyped literal `'1'` (it fits
//! integer, text and boolean columns alike; `= ANY($1)` gets `'{1}'`); on MySQL the driver's
//! `%s`, `%(name)s` and `?` are bound too, with a literal that fits the column
//! (`mysql` module).

/// MySQL/MariaDB placeholders, literals and seed values.
mod mysql;

use crate::Analysis;
use crate::evidence::statement_index;
use lockgraph_core::{
    Engine, InnoDbSx, LockAcquisition, LockMode, LockTarget, RelationName, Repro, ReproStep,
    Schema, Statement, Transaction, TransactionKind, quote_ident,
};
use lockgraph_graph::Cycle;
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, LazyLock};

/// Values for placeholders: `1` unless overridden (`$3` → `2`); each [`Dialect`] turns the
/// value into a literal.
#[derive(Default)]
struct Bind {
    overrides: Vec<(String, String)>,
}

impl Bind {
    fn value(&self, placeholder: &str) -> &str {
        self.overrides
            .iter()
            .find(|(p, _)| p == placeholder)
            .map_or("1", |(_, v)| v.as_str())
    }
}

/// What differs between the engines' scripts.
struct Dialect {
    engine: Engine,
    /// The step that opens a transaction.
    begin: &'static str,
    /// First keywords of the input's statements replayed as setup DDL.
    ddl: &'static [&'static str],
    /// A seed row's insert up to the table name, between the column list and the values, and
    /// after the values: together, an insert that does nothing when the row exists.
    seed: [&'static str; 3],
    /// Quotes one part of a dotted name.
    quote: fn(&str) -> String,
    /// A statement as it can be run: trailing semicolon dropped, placeholders bound (with the
    /// types of the columns they meet, where the engine needs them).
    bind: fn(&str, &Bind, &mysql::ColumnTypes<'_>) -> String,
    /// The literal for placeholder value `n` in a column of a type (if known).
    literal: fn(&str, Option<&str>) -> String,
    /// A value of a data type for a seeded row's other columns (relation, row number).
    dummy: fn(&str, &str, usize) -> Option<String>,
}

/// PostgreSQL.
static POSTGRES: Dialect = Dialect {
    engine: Engine::Postgres,
    begin: "BEGIN",
    ddl: &["CREATE", "ALTER", "COMMENT"],
    seed: [
        "INSERT INTO",
        "OVERRIDING SYSTEM VALUE VALUES",
        " ON CONFLICT DO NOTHING",
    ],
    quote: quote_ident,
    bind: |text, bind, _| runnable_with(text, bind),
    literal: |n, _| format!("'{n}'"),
    dummy: dummy_value,
};

/// MySQL and MariaDB (InnoDB).
static MYSQL: Dialect = Dialect {
    engine: Engine::Mysql,
    begin: "START TRANSACTION",
    ddl: &["CREATE", "ALTER"],
    seed: ["INSERT IGNORE INTO", "VALUES", ""],
    quote: |ident| format!("`{}`", ident.replace('`', "``")),
    bind: mysql::bind,
    literal: mysql::literal,
    dummy: mysql::dummy_value,
};

impl Dialect {
    /// The dialect of transactions that all run on one engine with a runner.
    fn of(txns: &[&Transaction]) -> Option<&'static Dialect> {
        let engine = txns.first()?.engine;
        if txns.iter().any(|t| t.engine != engine) {
            return None;
        }
        match engine {
            Engine::Postgres => Some(&POSTGRES),
            Engine::Mysql => Some(&MYSQL),
            Engine::Sqlite => None,
        }
    }

    fn relation(&self, r: &RelationName) -> String {
        r.as_str()
            .split('.')
            .map(self.quote)
            .collect::<Vec<_>>()
            .join(".")
    }
}

/// One session's part: which transaction, and the statement ranges of its two phases.
struct SessionPlan<'a> {
    txn: &'a Transaction,
    /// Statements run in phase one (after BEGIN).
    first: Vec<usize>,
    /// Statements run in phase two.
    second: Vec<usize>,
}

/// The reproduction of a lock-order cycle: session `k` runs the transaction of edge `k`.
pub fn for_cycle(a: &Analysis<'_>, cycle: &Cycle) -> Option<Repro> {
    let mut plans = Vec::new();
    for edge in &cycle.edges {
        let txn = &a.transactions[edge.witness.txn as usize];
        let held = statement_index(txn, &txn.locks[edge.witness.held as usize]);
        let acquired = statement_index(txn, &txn.locks[edge.witness.acquired as usize]);
        // When one statement takes both locks (a cascade, a foreign-key check), that statement
        // holds the first and waits for the second by itself: it runs in phase one.
        let second = if held == acquired {
            Vec::new()
        } else {
            (held + 1..=acquired).collect()
        };
        plans.push(SessionPlan {
            txn,
            first: (0..=held).collect(),
            second,
        });
    }
    assemble(a, plans, Bind::default())
}

/// Two runs of one transaction that both take lock `i`, then both ask for the stronger lock `j`.
pub fn for_upgrade(a: &Analysis<'_>, t: usize, i: usize, j: usize) -> Option<Repro> {
    let (txn, si, sj) = statement_pair(a, t, i, j)?;
    let plan = || SessionPlan {
        txn,
        first: (0..=si).collect(),
        second: (si + 1..=sj).collect(),
    };
    assemble(a, vec![plan(), plan()], Bind::default())
}

/// Transaction `t` and the statement indices of its locks `i` and `j`, when `i`'s comes first.
fn statement_pair<'a>(
    a: &Analysis<'a>,
    t: usize,
    i: usize,
    j: usize,
) -> Option<(&'a Transaction, usize, usize)> {
    let txn = &a.transactions[t];
    let (si, sj) = (
        statement_index(txn, &txn.locks[i]),
        statement_index(txn, &txn.locks[j]),
    );
    (si < sj).then_some((txn, si, sj))
}

/// Two runs of one transaction with the keys the other way round: the second run takes the row
/// of statement `j` first, then the row of statement `i`.
pub fn for_unordered_pair(a: &Analysis<'_>, t: usize, i: usize, j: usize) -> Option<Repro> {
    let (txn, si, sj) = statement_pair(a, t, i, j)?;
    let first = SessionPlan {
        txn,
        first: (0..=si).collect(),
        second: (si + 1..=sj).collect(),
    };
    let mut reversed_prefix: Vec<usize> = (0..si).collect();
    reversed_prefix.push(sj);
    let second = SessionPlan {
        txn,
        first: reversed_prefix,
        second: vec![si],
    };
    // Placeholder keys (`id = $1` … `id = $3`): the second statement's row is another row.
    let keys = |l: usize| -> Vec<String> {
        txn.locks[l]
            .target
            .key()
            .map(|k| {
                k.values
                    .iter()
                    .filter(|v| PLACEHOLDER.is_match(v))
                    .map(|v| v.to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let first_keys = keys(i);
    let bind = Bind {
        overrides: keys(j)
            .into_iter()
            .filter(|k| !first_keys.contains(k))
            .map(|k| (k, "2".to_string()))
            .collect(),
    };
    assemble(a, vec![first, second], bind)
}

/// The round-robin interleaving of whole transactions: every session begins, then the sessions
/// take turns running one statement each. This is the schedule that deadlocks an inversion of
/// equal-length transactions, so running it against the *fixed* transactions shows the fix holds.
pub fn interleaved(a: &Analysis<'_>, txns: &[usize]) -> Option<Repro> {
    let used: Vec<&Transaction> = txns.iter().map(|&t| &a.transactions[t]).collect();
    let w = Writer::new(a, &used, Bind::default())?;
    let mut steps = Vec::new();
    for (s, txn) in used.iter().enumerate() {
        if needs_begin(txn) {
            steps.push(w.begin(s + 1));
        }
    }
    let longest = used.iter().map(|t| t.statements.len()).max().unwrap_or(0);
    for k in 0..longest {
        for (s, txn) in used.iter().enumerate() {
            if k < txn.statements.len() {
                steps.push(w.step(s + 1, txn, k, false));
            }
        }
    }
    for (s, txn) in used.iter().enumerate() {
        let ends = txn.statements.last().is_some_and(|st| {
            matches!(
                first_keyword(st).as_str(),
                "COMMIT" | "END" | "ROLLBACK" | "ABORT"
            )
        });
        if txn.kind != TransactionKind::Autocommit && !ends {
            steps.push(ReproStep {
                session: s + 1,
                sql: "COMMIT".into(),
                origin: None,
                expect_block: false,
            });
        }
    }
    let stmts: Vec<&Arc<Statement>> = used.iter().flat_map(|t| t.statements.iter()).collect();
    Some(w.finish(&used, &stmts, steps))
}

fn assemble(a: &Analysis<'_>, plans: Vec<SessionPlan<'_>>, bind: Bind) -> Option<Repro> {
    if plans.iter().all(|p| p.second.is_empty())
        && plans.len() > 1
        && plans.iter().any(|p| p.first.is_empty())
    {
        return None;
    }
    let used: Vec<&Transaction> = plans.iter().map(|p| p.txn).collect();
    let w = Writer::new(a, &used, bind)?;
    let mut steps = Vec::new();
    // Phase one: sessions that hold their lock between statements go first; sessions whose one
    // statement holds and waits go after them (that statement blocks on the previous session).
    let (waiting_in_first, normal): (Vec<usize>, Vec<usize>) =
        (0..plans.len()).partition(|&s| plans[s].second.is_empty());
    for &s in normal.iter().chain(&waiting_in_first) {
        let plan = &plans[s];
        if needs_begin(plan.txn) {
            steps.push(w.begin(s + 1));
        }
        let blocks_at_end = plan.second.is_empty();
        for (n, &k) in plan.first.iter().enumerate() {
            let blocks = blocks_at_end && n + 1 == plan.first.len();
            steps.push(w.step(s + 1, plan.txn, k, blocks));
        }
    }
    // Phase two: each session runs on to the lock the next one holds; the last closes the cycle.
    let last = normal.last().copied();
    for &s in &normal {
        let plan = &plans[s];
        for (n, &k) in plan.second.iter().enumerate() {
            let blocks = Some(s) != last && n + 1 == plan.second.len();
            steps.push(w.step(s + 1, plan.txn, k, blocks));
        }
    }
    if let Some(final_step) = steps.last_mut() {
        final_step.expect_block = false;
    }
    let stmts: Vec<&Arc<Statement>> = plans
        .iter()
        .flat_map(|p| {
            p.first
                .iter()
                .chain(&p.second)
                .map(|&k| &p.txn.statements[k])
        })
        .collect();
    Some(w.finish(&used, &stmts, steps))
}

/// Writes one reproduction's steps and setup in its engine's dialect.
struct Writer<'a> {
    a: &'a Analysis<'a>,
    d: &'static Dialect,
    bind: Bind,
}

impl<'a> Writer<'a> {
    /// `None` when the transactions do not share one engine that has a runner.
    fn new(a: &'a Analysis<'a>, used: &[&Transaction], bind: Bind) -> Option<Self> {
        Some(Writer {
            a,
            d: Dialect::of(used)?,
            bind,
        })
    }

    fn begin(&self, session: usize) -> ReproStep {
        ReproStep {
            session,
            sql: self.d.begin.into(),
            origin: None,
            expect_block: false,
        }
    }

    /// Statement `k` of `txn` as a step of `session`.
    fn step(&self, session: usize, txn: &Transaction, k: usize, expect_block: bool) -> ReproStep {
        let stmt = &txn.statements[k];
        // The tables this statement locks, for the types of the columns its placeholders meet.
        let tables: Vec<_> = txn
            .locks
            .iter()
            .filter(|l| Arc::ptr_eq(&l.statement, stmt))
            .filter_map(|l| self.a.schema.table(l.target.relation()?))
            .collect();
        let types = |column: &str| {
            tables
                .iter()
                .find_map(|t| t.column(column))
                .map(|c| &*c.data_type)
        };
        ReproStep {
            session,
            sql: (self.d.bind)(&stmt.text, &self.bind, &types),
            origin: Some(stmt.location.clone()),
            expect_block,
        }
    }

    /// The repro: `steps`, with the setup the statements `stmts` of `used` need.
    fn finish(
        self,
        used: &[&Transaction],
        stmts: &[&Arc<Statement>],
        steps: Vec<ReproStep>,
    ) -> Repro {
        let mut setup = self.setup_ddl(used);
        setup.extend(self.seed_rows(used, stmts));
        Repro {
            setup,
            steps,
            sessions: used.len(),
            engine: self.d.engine,
        }
    }

    /// The input's schema DDL, in input order, minus the statements of the transactions under
    /// test (they run as steps) and the DDL of transactions on other engines.
    fn setup_ddl(&self, under_test: &[&Transaction]) -> Vec<String> {
        let place = |s: &Statement| (s.location.path.clone(), s.location.line);
        let excluded: BTreeSet<_> = under_test
            .iter()
            .flat_map(|t| t.statements.iter().map(|s| place(s)))
            .chain(
                self.a
                    .transactions
                    .iter()
                    .filter(|t| t.engine != self.d.engine)
                    .flat_map(|t| t.statements.iter().map(|s| place(s))),
            )
            .collect();
        let no_types = |_: &str| None;
        self.a
            .statements
            .iter()
            .filter(|s| !excluded.contains(&place(s)))
            .filter(|s| self.d.ddl.contains(&first_keyword(s).as_str()))
            .map(|s| (self.d.bind)(&s.text, &Bind::default(), &no_types))
            .collect()
    }

    /// A key or filter value of a seeded row: a placeholder becomes the literal that fits the
    /// column; anything else is bound as statement text.
    fn value(&self, written: &str, data_type: Option<&str>) -> String {
        if PLACEHOLDER_ONLY.is_match(written.trim()) {
            (self.d.literal)(self.bind.value(written.trim()), data_type)
        } else {
            (self.d.bind)(written, &self.bind, &|_| None)
        }
    }

    /// An insert that does nothing when the row exists, for every row the steps lock by a key.
    fn seed_rows(&self, txns: &[&Transaction], stmts: &[&Arc<Statement>]) -> Vec<String> {
        let schema = self.a.schema;
        let mut rows: Vec<Row> = Vec::new();
        let mut filters: BTreeMap<Row, Vec<(String, String)>> = BTreeMap::new();
        for txn in txns {
            for lock in &txn.locks {
                if !stmts.iter().any(|s| Arc::ptr_eq(s, &lock.statement)) || writes_new_row(lock) {
                    continue;
                }
                let LockTarget::Rows {
                    relation,
                    key: Some(key),
                } = &lock.target
                else {
                    continue;
                };
                if !key.single_row {
                    continue;
                }
                let column_type = |c: &str| {
                    schema
                        .table(relation)
                        .and_then(|t| t.column(c))
                        .map(|c| c.data_type.to_string())
                };
                let pairs: Vec<(String, String)> = key
                    .columns
                    .iter()
                    .zip(&key.values)
                    .map(|(c, v)| (c.to_string(), self.value(v, column_type(c).as_deref())))
                    .collect();
                let row = (relation.clone(), pairs);
                // The statements' other equality filters (status = 'placed') on the same row are
                // merged, so the seeded row is one every statement really locks.
                let wanted = filters.entry(row.clone()).or_default();
                for (c, v) in &key.filters {
                    if !wanted.iter().any(|(w, _)| **w == **c) {
                        wanted.push((c.to_string(), self.value(v, column_type(c).as_deref())));
                    }
                }
                if !rows.contains(&row) {
                    rows.push(row);
                }
            }
        }
        let mut seeder = Seeder {
            schema,
            d: self.d,
            out: Vec::new(),
            seen: BTreeSet::new(),
            filters,
        };
        for (relation, key) in rows {
            seeder.seed(&relation, key, 0);
        }
        seeder.out
    }
}

/// Whether `lock` is on the row its own `INSERT` writes (InnoDB's `X` lock on the new row):
/// seeding that row would make the insert fail on a duplicate key. Rows an insert only checks
/// (a foreign key's parent) are seeded.
fn writes_new_row(lock: &LockAcquisition) -> bool {
    lock.implicit.is_none()
        && matches!(
            lock.mode,
            LockMode::InnoDbRecord(m) if m.shared_or_exclusive == InnoDbSx::X
        )
        && matches!(
            first_keyword(&lock.statement).as_str(),
            "INSERT" | "REPLACE"
        )
}

/// Upper-cased first word of a statement.
fn first_keyword(stmt: &Statement) -> String {
    stmt.redacted
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_end_matches(';')
        .to_ascii_uppercase()
}

/// Whether the script must open the transaction itself (its own statements do not start with
/// BEGIN: migration files run by a runner, or a framework's transaction scope).
fn needs_begin(txn: &Transaction) -> bool {
    txn.kind != TransactionKind::Autocommit
        && !txn
            .statements
            .first()
            .is_some_and(|s| matches!(first_keyword(s).as_str(), "BEGIN" | "START"))
}

static PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\$\d+\b").expect("static regex"));
static PLACEHOLDER_ONLY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\$\d+$").expect("static regex"));
/// `ANY($n)` (a list parameter) or a bare `$n`.
static BINDABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(ANY|ALL)\s*\(\s*(\$\d+)\s*\)|(\$\d+)\b").expect("static regex")
});

/// The statement as PostgreSQL can run it: trailing semicolon dropped, `$n` placeholders bound
/// to `bind`'s values as untyped literals (`'1'`, `ANY('{1}')`).
fn runnable_with(text: &str, bind: &Bind) -> String {
    let t = text.trim().trim_end_matches(';').trim_end();
    BINDABLE
        .replace_all(t, |c: &regex::Captures<'_>| {
            match (c.get(1), c.get(2), c.get(3)) {
                (Some(f), Some(p), _) => {
                    format!("{}('{{{}}}')", f.as_str(), bind.value(p.as_str()))
                }
                (_, _, Some(p)) => format!("'{}'", bind.value(p.as_str())),
                _ => c[0].to_string(),
            }
        })
        .into_owned()
}

/// A seeded row: its relation and key `(column, value)` pairs.
type Row = (RelationName, Vec<(String, String)>);

struct Seeder<'a> {
    schema: &'a Schema,
    d: &'static Dialect,
    out: Vec<String>,
    seen: BTreeSet<Row>,
    /// Extra column values per row (from the statements' filters).
    filters: BTreeMap<Row, Vec<(String, String)>>,
}

impl Seeder<'_> {
    fn seed(&mut self, relation: &RelationName, key: Vec<(String, String)>, depth: usize) {
        let Some(table) = self.schema.table(relation) else {
            return;
        };
        let row = (relation.clone(), key);
        if depth > 8 || !self.seen.insert(row.clone()) {
            return;
        }
        let extra = self.filters.get(&row).cloned().unwrap_or_default();
        let key = row.1;
        let mut cols: Vec<String> = key.iter().chain(&extra).map(|(c, _)| c.clone()).collect();
        let mut vals: Vec<String> = key.iter().chain(&extra).map(|(_, v)| v.clone()).collect();
        let serial = self.out.len() + 1;
        for col in &table.columns {
            if cols.iter().any(|c| c == &*col.name) {
                continue;
            }
            let fk = table
                .foreign_keys
                .iter()
                .find(|fk| fk.columns.len() == 1 && fk.columns[0] == col.name);
            // Columns of a unique key get a value of their own per row, so that two seeded rows
            // never collide on it (accounts: UNIQUE (customer_id, currency)).
            let unique = table.unique_keys.iter().flatten().any(|c| *c == col.name);
            // Numbers get a generous value even when they have a default, so that CHECK
            // constraints survive the decrements the steps make (balance - 1250 >= 0).
            let generous_number = fk.is_none() && is_numeric(&col.data_type);
            if !unique && !generous_number && (!col.not_null || col.has_default) {
                continue;
            }
            let value = match fk {
                Some(fk) => {
                    let parent_col = fk.parent_columns.first().cloned().or_else(|| {
                        self.schema
                            .table(&fk.parent)
                            .and_then(|p| p.primary_key.first().cloned())
                    });
                    let Some(parent_col) = parent_col else { return };
                    let n = if unique {
                        serial.to_string()
                    } else {
                        "1".to_string()
                    };
                    let value = if is_numeric(&col.data_type) {
                        n
                    } else {
                        format!("'{n}'")
                    };
                    self.seed(
                        &fk.parent.clone(),
                        vec![(parent_col.to_string(), value.clone())],
                        depth + 1,
                    );
                    value
                }
                None => match (self.d.dummy)(&col.data_type, relation.as_str(), serial) {
                    Some(v) => v,
                    None => return,
                },
            };
            cols.push(col.name.to_string());
            vals.push(value);
        }
        let [insert, values, suffix] = self.d.seed;
        self.out.push(format!(
            "{insert} {} ({}) {values} ({}){suffix}",
            self.d.relation(relation),
            cols.iter()
                .map(|c| (self.d.quote)(c))
                .collect::<Vec<_>>()
                .join(", "),
            vals.join(", ")
        ));
    }
}

fn is_numeric(data_type: &str) -> bool {
    let t = data_type.to_ascii_lowercase();
    [
        "int", "serial", "numeric", "decimal", "real", "double", "float", "money",
    ]
    .iter()
    .any(|k| t.contains(k))
}

/// Seed text for row `n` of `relation`, at most `max` characters (`'seed-orders-3'`): it ends
/// with the row number so that seeded values stay distinct when truncated.
fn seed_text(relation: &str, n: usize, max: Option<usize>) -> String {
    let suffix = format!("-{n}");
    let mut s = format!("seed-{}", relation.replace('.', "-"));
    if let Some(max) = max {
        s.truncate(max.saturating_sub(suffix.len()));
    }
    s.push_str(&suffix);
    if let Some(max) = max {
        s = s.split_off(s.len().saturating_sub(max));
    }
    format!("'{}'", s.replace('\'', "''"))
}

/// A PostgreSQL value of `data_type` that satisfies common CHECK constraints (positive numbers,
/// short text).
fn dummy_value(data_type: &str, relation: &str, n: usize) -> Option<String> {
    let t = data_type.to_ascii_lowercase();
    let declared_len = t.split_once('(').and_then(|(_, rest)| {
        rest.trim_end_matches(')')
            .split(',')
            .next()?
            .trim()
            .parse::<usize>()
            .ok()
    });
    if is_numeric(&t) {
        Some("1000000".into())
    } else if t.starts_with("bool") {
        Some("false".into())
    } else if t.contains("timestamp") || t == "date" || t.starts_with("time") {
        Some("now()".into())
    } else if t == "uuid" {
        Some("gen_random_uuid()".into())
    } else if t.starts_with("json") {
        Some("'{}'".into())
    } else if t == "bytea" {
        Some("'\\x00'".into())
    } else if t.contains("char") || t == "text" || t == "citext" || t == "name" {
        Some(seed_text(relation, n, declared_len))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runnable(text: &str) -> String {
        runnable_with(text, &Bind::default())
    }

    #[test]
    fn placeholders_are_bound_and_semicolons_dropped() {
        assert_eq!(
            runnable("UPDATE t SET a = $1 WHERE id = $2;  "),
            "UPDATE t SET a = '1' WHERE id = '1'"
        );
        assert_eq!(
            runnable("SELECT 1 FROM t WHERE id = any( $1 ) FOR UPDATE"),
            "SELECT 1 FROM t WHERE id = any('{1}') FOR UPDATE"
        );
        let bind = Bind {
            overrides: vec![("$3".into(), "2".into())],
        };
        assert_eq!(
            runnable_with("UPDATE t SET n = $1 WHERE id = $3", &bind),
            "UPDATE t SET n = '1' WHERE id = '2'"
        );
    }

    #[test]
    fn dummy_values_fit_declared_lengths() {
        assert_eq!(
            dummy_value("varchar(5)", "customers", 3).as_deref(),
            Some("'see-3'")
        );
        assert_eq!(
            dummy_value("char(3)", "customers", 12).as_deref(),
            Some("'-12'")
        );
        assert_eq!(
            dummy_value("text", "customers", 2).as_deref(),
            Some("'seed-customers-2'")
        );
        assert_eq!(
            dummy_value("bigint", "customers", 0).as_deref(),
            Some("1000000")
        );
        assert_eq!(
            dummy_value("numeric(12,2)", "customers", 0).as_deref(),
            Some("1000000")
        );
        assert_eq!(dummy_value("mood_enum", "customers", 0), None);
    }

    #[test]
    fn dialects_quote_and_seed_their_own_way() {
        let r = RelationName::new("billing.Ledger");
        assert_eq!(POSTGRES.relation(&r), "billing.\"Ledger\"");
        assert_eq!(MYSQL.relation(&r), "`billing`.`Ledger`");
        assert_eq!((MYSQL.quote)("a`b"), "`a``b`");
        assert_eq!(POSTGRES.begin, "BEGIN");
        assert_eq!(MYSQL.begin, "START TRANSACTION");
    }
}
