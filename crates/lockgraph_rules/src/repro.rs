//! Reproductions: turn a predicted deadlock into a script that makes it happen on a real server.
//!
//! A reproduction has three parts:
//! 1. **setup** — the DDL seen in the input (minus the statements under test), then seed rows for
//!    every row the steps lock, generated from the schema: key values from the statements, type-
//!    appropriate values for other `NOT NULL` columns, parent rows first for foreign keys;
//! 2. **phase one** — each session begins its transaction and runs up to the lock it will hold;
//! 3. **phase two** — each session runs on to the lock that the next session holds; every step
//!    but the last blocks, and the last closes the cycle, so the server reports SQLSTATE 40P01.
//!
//! Placeholders (`$1`) are bound to `'1'` (an untyped literal, so it fits integer, text and
//! boolean columns alike; `= ANY($1)` gets `'{1}'`) so that both sessions lock the same rows —
//! except where two runs of one transaction must lock two different rows (LG103): there the
//! key placeholder of the second row is bound to `'2'` ([`Bind`]).

use crate::Analysis;
use crate::evidence::statement_index;
use lockgraph_core::{
    LockTarget, RelationName, Repro, ReproStep, Schema, Statement, Transaction, TransactionKind,
    quote_ident,
};
use lockgraph_graph::Cycle;
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, LazyLock};

/// Values for placeholders: `'1'` unless overridden (`$3` → `'2'`).
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
    assemble(a, plans, &Bind::default())
}

/// Two runs of one transaction that both take lock `i`, then both ask for the stronger lock `j`.
pub fn for_upgrade(a: &Analysis<'_>, t: usize, i: usize, j: usize) -> Option<Repro> {
    let (txn, si, sj) = statement_pair(a, t, i, j)?;
    let plan = || SessionPlan {
        txn,
        first: (0..=si).collect(),
        second: (si + 1..=sj).collect(),
    };
    assemble(a, vec![plan(), plan()], &Bind::default())
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
    assemble(a, vec![first, second], &bind)
}

/// The round-robin interleaving of whole transactions: every session begins, then the sessions
/// take turns running one statement each. This is the schedule that deadlocks an inversion of
/// equal-length transactions, so running it against the *fixed* transactions shows the fix holds.
pub fn interleaved(a: &Analysis<'_>, txns: &[usize]) -> Option<Repro> {
    if txns.is_empty() {
        return None;
    }
    let used: Vec<&Transaction> = txns.iter().map(|&t| &a.transactions[t]).collect();
    let mut steps = Vec::new();
    for (s, txn) in used.iter().enumerate() {
        if needs_begin(txn) {
            steps.push(ReproStep {
                session: s + 1,
                sql: "BEGIN".into(),
                origin: None,
                expect_block: false,
            });
        }
    }
    let longest = used.iter().map(|t| t.statements.len()).max().unwrap_or(0);
    for k in 0..longest {
        for (s, txn) in used.iter().enumerate() {
            if let Some(stmt) = txn.statements.get(k) {
                steps.push(step(s + 1, stmt, false, &Bind::default()));
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
    let mut setup = setup_ddl(a.statements, &used);
    setup.extend(seed_rows(a.schema, &used, &stmts, &Bind::default()));
    Some(Repro {
        setup,
        steps,
        sessions: used.len(),
    })
}

fn assemble(a: &Analysis<'_>, plans: Vec<SessionPlan<'_>>, bind: &Bind) -> Option<Repro> {
    if plans.iter().all(|p| p.second.is_empty())
        && plans.len() > 1
        && plans.iter().any(|p| p.first.is_empty())
    {
        return None;
    }
    let mut steps = Vec::new();
    // Phase one: sessions that hold their lock between statements go first; sessions whose one
    // statement holds and waits go after them (that statement blocks on the previous session).
    let (waiting_in_first, normal): (Vec<usize>, Vec<usize>) =
        (0..plans.len()).partition(|&s| plans[s].second.is_empty());
    for &s in normal.iter().chain(&waiting_in_first) {
        let plan = &plans[s];
        if needs_begin(plan.txn) {
            steps.push(ReproStep {
                session: s + 1,
                sql: "BEGIN".into(),
                origin: None,
                expect_block: false,
            });
        }
        let blocks_at_end = plan.second.is_empty();
        for (n, &k) in plan.first.iter().enumerate() {
            let blocks = blocks_at_end && n + 1 == plan.first.len();
            steps.push(step(s + 1, &plan.txn.statements[k], blocks, bind));
        }
    }
    // Phase two: each session runs on to the lock the next one holds; the last closes the cycle.
    let last = normal.last().copied();
    for &s in &normal {
        let plan = &plans[s];
        for (n, &k) in plan.second.iter().enumerate() {
            let blocks = Some(s) != last && n + 1 == plan.second.len();
            steps.push(step(s + 1, &plan.txn.statements[k], blocks, bind));
        }
    }
    if let Some(final_step) = steps.last_mut() {
        final_step.expect_block = false;
    }
    let used: Vec<&Transaction> = plans.iter().map(|p| p.txn).collect();
    let stmts: Vec<&Arc<Statement>> = plans
        .iter()
        .flat_map(|p| {
            p.first
                .iter()
                .chain(&p.second)
                .map(|&k| &p.txn.statements[k])
        })
        .collect();
    let mut setup = setup_ddl(a.statements, &used);
    setup.extend(seed_rows(a.schema, &used, &stmts, bind));
    Some(Repro {
        setup,
        steps,
        sessions: plans.len(),
    })
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

fn step(session: usize, stmt: &Statement, expect_block: bool, bind: &Bind) -> ReproStep {
    ReproStep {
        session,
        sql: runnable_with(&stmt.text, bind),
        origin: Some(stmt.location.clone()),
        expect_block,
    }
}

static PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\$\d+\b").expect("static regex"));
/// `ANY($n)` (a list parameter) or a bare `$n`.
static BINDABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(ANY|ALL)\s*\(\s*(\$\d+)\s*\)|(\$\d+)\b").expect("static regex")
});

/// The statement as it can be run: trailing semicolon dropped, `$n` placeholders bound to `'1'`.
fn runnable(text: &str) -> String {
    runnable_with(text, &Bind::default())
}

/// [`runnable`] with `bind`'s values.
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

/// The input's schema DDL (CREATE/ALTER/COMMENT), in input order, minus the statements of the
/// transactions under test (they run as steps).
fn setup_ddl(all: &[Arc<Statement>], under_test: &[&Transaction]) -> Vec<String> {
    let excluded: BTreeSet<(&str, u32)> = under_test
        .iter()
        .flat_map(|t| {
            t.statements
                .iter()
                .map(|s| (&*s.location.path, s.location.line))
        })
        .collect();
    all.iter()
        .filter(|s| !excluded.contains(&(&*s.location.path, s.location.line)))
        .filter(|s| matches!(first_keyword(s).as_str(), "CREATE" | "ALTER" | "COMMENT"))
        .map(|s| runnable(&s.text))
        .collect()
}

/// A seeded row: its relation and key `(column, value)` pairs.
type Row = (RelationName, Vec<(String, String)>);

/// `INSERT … ON CONFLICT DO NOTHING` for every row the steps lock by a literal key.
fn seed_rows(
    schema: &Schema,
    txns: &[&Transaction],
    stmts: &[&Arc<Statement>],
    bind: &Bind,
) -> Vec<String> {
    let mut rows: Vec<Row> = Vec::new();
    let mut filters: BTreeMap<Row, Vec<(String, String)>> = BTreeMap::new();
    for txn in txns {
        for lock in &txn.locks {
            if !stmts.iter().any(|s| Arc::ptr_eq(s, &lock.statement)) {
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
            let pairs: Vec<(String, String)> = key
                .columns
                .iter()
                .zip(&key.values)
                .map(|(c, v)| (c.to_string(), runnable_with(v, bind)))
                .collect();
            let row = (relation.clone(), pairs);
            // The statements' other equality filters (status = 'placed') on the same row are
            // merged, so the seeded row is one every statement really locks.
            let wanted = filters.entry(row.clone()).or_default();
            for (c, v) in &key.filters {
                if !wanted.iter().any(|(w, _)| **w == **c) {
                    wanted.push((c.to_string(), runnable_with(v, bind)));
                }
            }
            if !rows.contains(&row) {
                rows.push(row);
            }
        }
    }
    let mut seeder = Seeder {
        schema,
        out: Vec::new(),
        seen: BTreeSet::new(),
        filters,
    };
    for (relation, key) in rows {
        seeder.seed(&relation, key, 0);
    }
    seeder.out
}

struct Seeder<'a> {
    schema: &'a Schema,
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
                None => match dummy_value(&col.data_type, relation, serial) {
                    Some(v) => v,
                    None => return,
                },
            };
            cols.push(col.name.to_string());
            vals.push(value);
        }
        self.out.push(format!(
            "INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE VALUES ({}) ON CONFLICT DO NOTHING",
            relation.to_sql(),
            cols.iter()
                .map(|c| quote_ident(c))
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

/// A value of `data_type` that satisfies common CHECK constraints (positive numbers, short text).
fn dummy_value(data_type: &str, relation: &RelationName, n: usize) -> Option<String> {
    let t = data_type.to_ascii_lowercase();
    // Text ends with the row number so that seeded values stay distinct when truncated.
    let text = |max: Option<usize>| {
        let suffix = format!("-{n}");
        let mut s = format!("seed-{}", relation.as_str().replace('.', "-"));
        if let Some(max) = max {
            s.truncate(max.saturating_sub(suffix.len()));
        }
        s.push_str(&suffix);
        if let Some(max) = max {
            s = s.split_off(s.len().saturating_sub(max));
        }
        Some(format!("'{}'", s.replace('\'', "''")))
    };
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
        text(declared_len)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let r = RelationName::new("customers");
        assert_eq!(dummy_value("varchar(5)", &r, 3).as_deref(), Some("'see-3'"));
        assert_eq!(dummy_value("char(3)", &r, 12).as_deref(), Some("'-12'"));
        assert_eq!(
            dummy_value("text", &r, 2).as_deref(),
            Some("'seed-customers-2'")
        );
        assert_eq!(dummy_value("bigint", &r, 0).as_deref(), Some("1000000"));
        assert_eq!(
            dummy_value("numeric(12,2)", &r, 0).as_deref(),
            Some("1000000")
        );
        assert_eq!(dummy_value("mood_enum", &r, 0), None);
    }
}
