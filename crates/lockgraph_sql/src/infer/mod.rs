//! Statement → locks: classification, dispatch, and the cache.
//!
//! Dispatch, in order: transaction control (from tokens) → commands read from tokens
//! ([`command`]: the ones sqlparser rejects, and single-table maintenance commands) → sqlparser's
//! AST ([`walk`] for queries and DML, [`ddl`] for DDL) → for text sqlparser rejects, a tolerant
//! token scan ([`fallback`]) plus an `UnparseableStatement` problem.

/// Commands read from tokens, with their lock tables.
mod command;
/// DDL statements from the AST, with their lock tables.
mod ddl;
/// Tolerant token scan for statements sqlparser rejects.
mod fallback;
/// Implicit foreign-key locks: checks on parents, actions on children.
mod fk;
/// MySQL/MariaDB statements → InnoDB locks, from the same walk.
mod innodb;
/// Lock accumulator.
mod locks;
/// The AST walker for queries and DML.
mod walk;

use crate::lexer::{Kind, Token, tokenize};
use crate::normalize::{Prepared, fold_ident, hide_markers, prepare, reattach};
use lockgraph_core::{
    DiagnosticKind, Fingerprint, Implicit, KeyPredicate, LockMode, LockTarget, RelationName,
    Schema, TableLockMode,
};
use rustc_hash::FxHashMap;
use sqlparser::dialect::{Dialect, PostgreSqlDialect};
use sqlparser::parser::Parser;
use std::sync::Arc;

pub use innodb::{infer_statement_innodb, redact_mysql, reinfer_innodb};
pub(crate) use locks::Locks;
pub(crate) use walk::{ident, last_ident, relation_name};

/// What kind of statement it is, as far as transaction boundaries go.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum StatementKind {
    /// `BEGIN`, `START TRANSACTION`.
    Begin,
    /// `COMMIT`, `END`, `PREPARE TRANSACTION` (the session's transaction ends there).
    Commit,
    /// `ROLLBACK`, `ABORT`.
    Rollback,
    /// `SAVEPOINT name` (name folded like an identifier).
    Savepoint(String),
    /// `ROLLBACK TO [SAVEPOINT] name`: locks taken after the savepoint are released.
    RollbackToSavepoint(String),
    /// `RELEASE [SAVEPOINT] name`.
    ReleaseSavepoint(String),
    /// Anything else.
    Other,
}

/// One lock a statement takes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct InferredLock {
    /// What is locked.
    pub target: LockTarget,
    /// In which mode.
    pub mode: LockMode,
    /// Why, when the statement does not name it (foreign-key checks and actions).
    pub implicit: Option<Implicit>,
}

/// What lockgraph infers from one statement.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Inference {
    /// Transaction-control classification.
    pub kind: StatementKind,
    /// Locks in acquisition order: the statement's table locks, then its row and advisory locks,
    /// then implicit (foreign-key) locks.
    pub locks: Vec<InferredLock>,
    /// Set when the statement could not be parsed or is not modelled; `locks` then holds what a
    /// tolerant scan could still find.
    pub problem: Option<(DiagnosticKind, String)>,
    /// Relations the statement creates: later locks on them in the same transaction are
    /// invisible to other sessions (see [`crate::build_transactions`]).
    pub created: Vec<RelationName>,
}

impl Inference {
    fn none(kind: StatementKind) -> Self {
        Inference {
            kind,
            locks: Vec::new(),
            problem: None,
            created: Vec::new(),
        }
    }

    /// The table-level locks, in order.
    pub fn table_locks(&self) -> impl Iterator<Item = (&RelationName, TableLockMode)> {
        self.locks.iter().filter_map(|l| match (&l.target, l.mode) {
            (LockTarget::Relation { relation }, LockMode::Table(m)) => Some((relation, m)),
            _ => None,
        })
    }
}

/// Classifies `sql` and infers the locks it takes (PostgreSQL semantics).
///
/// `sql` is one statement (cut files with [`split_statements`](crate::split_statements) first).
/// Driver placeholders (`?`, `%s`, `%(name)s`) are read as `$n`. Never panics; statements the
/// parser rejects get a best-effort result and a problem.
///
/// ```
/// use lockgraph_core::{LockMode, RowLockMode, Schema, TableLockMode};
/// use lockgraph_sql::infer_statement;
///
/// let inf = infer_statement("UPDATE accounts SET balance = balance - 1 WHERE id = $1", &Schema::default());
/// assert_eq!(inf.locks[0].mode, LockMode::Table(TableLockMode::RowExclusive));
/// assert_eq!(inf.locks[1].mode, LockMode::Row(RowLockMode::NoKeyUpdate));
/// assert_eq!(inf.locks[1].target.to_string(), "accounts rows (id = $1)");
/// assert!(inf.problem.is_none());
/// ```
pub fn infer_statement(sql: &str, schema: &Schema) -> Inference {
    let p = prepare(sql);
    with_literals(&infer_prepared(&p, schema), &p.literals)
}

/// Reuses inferences across statements that differ only in literals (and case, whitespace,
/// comments, placeholder style): server logs repeat a few thousand statement shapes millions of
/// times.
///
/// Entries are keyed by the fingerprint of the literal-free template, computed once per shape;
/// key values and advisory keys are re-attached from each statement's own literals, so results are
/// exactly those of [`infer_statement`]. A cache belongs to one [`Schema`]: call
/// [`InferenceCache::clear`] if the schema changes.
#[derive(Debug)]
pub struct InferenceCache {
    entries: FxHashMap<Fingerprint, Arc<Inference>>,
    capacity: usize,
    hits: u64,
    misses: u64,
}

impl Default for InferenceCache {
    fn default() -> Self {
        Self::with_capacity(100_000)
    }
}

impl InferenceCache {
    /// An empty cache holding up to 100,000 shapes.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty cache holding up to `capacity` shapes (it starts over when full).
    pub fn with_capacity(capacity: usize) -> Self {
        InferenceCache {
            entries: FxHashMap::default(),
            capacity: capacity.max(1),
            hits: 0,
            misses: 0,
        }
    }

    /// Same as [`infer_statement`], memoized by statement shape.
    pub fn infer(&mut self, sql: &str, schema: &Schema) -> Inference {
        let p = prepare(sql);
        let key = Fingerprint::of([p.template.as_bytes()]);
        let shape = match self.entries.get(&key) {
            Some(hit) => {
                self.hits += 1;
                hit.clone()
            }
            None => {
                self.misses += 1;
                let fresh = Arc::new(infer_prepared(&p, schema));
                if self.entries.len() >= self.capacity {
                    self.entries.clear();
                }
                self.entries.insert(key, fresh.clone());
                fresh
            }
        };
        with_literals(&shape, &p.literals)
    }

    /// Number of shapes held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no shape is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Lookups answered from the cache.
    pub fn hits(&self) -> u64 {
        self.hits
    }

    /// Lookups that ran the inference.
    pub fn misses(&self) -> u64 {
        self.misses
    }

    /// Forgets every shape.
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

/// sqlparser builds `a + b + c …` chains iteratively but drops them recursively: past this many
/// operators a statement is scanned from tokens instead of parsed, so no input can overflow the
/// stack.
const MAX_OPERATORS: usize = 10_000;

/// Infers from a template (literals still as markers).
fn infer_prepared(p: &Prepared, schema: &Schema) -> Inference {
    infer_prepared_in(p, schema, &PostgreSqlDialect {})
}

/// [`infer_prepared`], parsing with `dialect`.
fn infer_prepared_in(p: &Prepared, schema: &Schema, dialect: &dyn Dialect) -> Inference {
    let mut inf = infer_template(p, schema, dialect);
    if p.unterminated && inf.problem.is_none() {
        inf.problem = Some((
            DiagnosticKind::UnparseableStatement,
            "a quoted string, quoted identifier or comment is not terminated".into(),
        ));
    }
    inf
}

/// Classifies and walks a template, parsing it with `dialect` (PostgreSQL's; the InnoDB
/// inference passes a MySQL-tolerant one).
fn infer_template(p: &Prepared, schema: &Schema, dialect: &dyn Dialect) -> Inference {
    let tokens = tokenize(&p.template);
    if tokens.is_empty() {
        return Inference::none(StatementKind::Other);
    }
    if let Some(kind) = transaction_kind(&tokens) {
        return Inference::none(kind);
    }
    if let Some(found) = command::infer(&tokens, schema) {
        return Inference {
            kind: StatementKind::Other,
            locks: found.locks.finish(),
            problem: found.problem,
            created: Vec::new(),
        };
    }
    let parsed = if p.operators > MAX_OPERATORS {
        Err(format!(
            "statement has {} operators, more than lockgraph parses ({MAX_OPERATORS})",
            p.operators
        ))
    } else {
        Parser::new(dialect)
            .try_with_sql(&p.template)
            .and_then(|mut parser| parser.parse_statements())
            .map_err(|e| parser_message(&e.to_string()))
    };
    match parsed {
        Ok(statements) => {
            // `CALL`, `CREATE AGGREGATE`: the command's words, for messages.
            let ddl = ["create", "alter", "drop"]
                .iter()
                .any(|w| tokens[0].is_word(w));
            let lead: Vec<String> = tokens
                .iter()
                .take(if ddl { 2 } else { 1 })
                .map(|t| t.text.to_uppercase())
                .collect();
            let mut walker = walk::Walker::new(schema, &p.lock_clauses, lead.join(" "));
            for st in &statements {
                walker.statement(st);
            }
            let problem = walker.problem.take();
            Inference {
                kind: StatementKind::Other,
                locks: walker.locks.finish(),
                problem,
                created: std::mem::take(&mut walker.created),
            }
        }
        Err(message) => {
            let locks = fallback::infer(&tokens, &p.lock_clauses);
            Inference {
                kind: StatementKind::Other,
                locks: locks.finish(),
                problem: Some((DiagnosticKind::UnparseableStatement, message)),
                created: Vec::new(),
            }
        }
    }
}

/// The parser's message without its position (which refers to the template, not the input) and
/// without literal markers.
fn parser_message(raw: &str) -> String {
    let msg = raw.strip_prefix("sql parser error: ").unwrap_or(raw);
    let msg = match msg.rfind(" at Line: ") {
        Some(i) => &msg[..i],
        None => msg,
    };
    hide_markers(msg)
}

/// Swaps literal markers in key values and advisory keys back to this statement's literals.
fn with_literals(shape: &Inference, literals: &[String]) -> Inference {
    if literals.is_empty() {
        return shape.clone();
    }
    let fix_key = |k: &KeyPredicate| KeyPredicate {
        values: k
            .values
            .iter()
            .map(|v| reattach(v, literals).into())
            .collect(),
        filters: k
            .filters
            .iter()
            .map(|(c, v)| (c.clone(), reattach(v, literals).into()))
            .collect(),
        ..k.clone()
    };
    let locks = shape
        .locks
        .iter()
        .map(|l| InferredLock {
            target: match &l.target {
                LockTarget::Rows { relation, key } => LockTarget::Rows {
                    relation: relation.clone(),
                    key: key.as_ref().map(fix_key),
                },
                LockTarget::Advisory { key } => LockTarget::Advisory {
                    key: reattach(key, literals).into(),
                },
                other => other.clone(),
            },
            ..l.clone()
        })
        .collect();
    Inference {
        kind: shape.kind.clone(),
        locks,
        problem: shape.problem.clone(),
        created: shape.created.clone(),
    }
}

/// Transaction control, read from the leading words.
fn transaction_kind(tokens: &[Token<'_>]) -> Option<StatementKind> {
    let w = |i: usize, kw: &str| tokens.get(i).is_some_and(|t| t.is_word(kw));
    let name_at = |i: usize| -> String {
        tokens
            .get(i)
            .filter(|t| matches!(t.kind, Kind::Word | Kind::QuotedIdent))
            .map(fold_ident)
            .unwrap_or_default()
    };
    // `WORK` / `TRANSACTION` are noise after BEGIN, COMMIT, END, ROLLBACK, ABORT.
    let noise = |i: usize| {
        if w(i, "work") || w(i, "transaction") {
            i + 1
        } else {
            i
        }
    };
    let first = tokens.first()?;
    if first.kind != Kind::Word {
        return None;
    }
    let kw = first.text.to_ascii_lowercase();
    Some(match kw.as_str() {
        "begin" if !w(1, "atomic") => StatementKind::Begin,
        "start" if w(1, "transaction") => StatementKind::Begin,
        "commit" | "end" if !w(1, "prepared") => StatementKind::Commit,
        "prepare" if w(1, "transaction") => StatementKind::Commit,
        "rollback" | "abort" if !w(1, "prepared") => {
            let i = noise(1);
            if w(i, "to") {
                let i = if w(i + 1, "savepoint") { i + 2 } else { i + 1 };
                StatementKind::RollbackToSavepoint(name_at(i))
            } else {
                StatementKind::Rollback
            }
        }
        "savepoint" => StatementKind::Savepoint(name_at(1)),
        "release" => {
            StatementKind::ReleaseSavepoint(name_at(if w(1, "savepoint") { 2 } else { 1 }))
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
