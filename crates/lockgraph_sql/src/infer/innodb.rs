//! MySQL / MariaDB statements → the InnoDB locks they take, at REPEATABLE READ (the default).
//!
//! There is no second walker: the statement is made readable by the PostgreSQL pipeline (MySQL's
//! lexical rules translated — backtick identifiers, double-quoted and backslash-escaped strings,
//! `#` comments, `LOCK IN SHARE MODE`), walked by the same code as [`super::infer_statement`]
//! with sqlparser's generic dialect (which also reads `REPLACE`, `INSERT IGNORE`,
//! `ON DUPLICATE KEY UPDATE`, `UPDATE … ORDER BY … LIMIT`), and its result is mapped onto
//! InnoDB's modes ([`lockgraph_core::innodb`]). Transaction control is classified by the shared
//! code; `LOCK TABLES` is read from tokens.
//!
//! | statement | InnoDB locks (manual: "Locks Set by Different SQL Statements in InnoDB") |
//! |---|---|
//! | plain `SELECT` | none (consistent read from a snapshot) |
//! | `SELECT … FOR UPDATE` | `IX` + `X` record locks |
//! | `SELECT … FOR SHARE` / `LOCK IN SHARE MODE` | `IS` + `S` record locks |
//! | `UPDATE`, `DELETE` | `IX` + `X` record locks |
//! | `INSERT` | `IX`, then `X,GAP,INSERT_INTENTION` on the gap and `X,REC_NOT_GAP` on the new row (after the foreign-key checks, which InnoDB runs before inserting) |
//! | `INSERT … ON DUPLICATE KEY UPDATE`, `REPLACE` | as `INSERT`; a duplicate row is locked `X,REC_NOT_GAP` — the same lock as the new row's |
//! | tables only read by a DML statement (`INSERT … SELECT`, subqueries of `UPDATE`/`DELETE`) | `IS` + `S` next-key locks on the rows read |
//! | foreign-key check (child insert, or update of its key) | parent `IS` + `S,REC_NOT_GAP` on the parent row — it conflicts with a parent `UPDATE` of any column |
//! | parent delete / key update, `CASCADE` / `SET NULL` | child `IX` + `X,REC_NOT_GAP` on the referencing rows |
//! | parent delete / key update, `RESTRICT` / `NO ACTION` | child `IS` + `S,GAP` where referencing rows would be |
//! | `LOCK TABLES t WRITE` / `READ` | table `X` / `S` |
//! | DDL | none; an `UnmodelledStatement` problem (metadata locks are not modelled) |
//!
//! Record kind: equality on every column of a primary or unique key (one value, or an `IN` list)
//! takes record-only locks (`REC_NOT_GAP`); anything else — ranges, non-unique columns, scans
//! without a usable key — takes next-key locks on the rows it reads (and InnoDB also locks the
//! gap after the last one). Foreign-key checks always lock only the record. The model assumes
//! the rows a statement names exist: a unique-key search that finds nothing takes a gap lock
//! instead.

use super::walk::{Given, key_from_given, relation_name, value_text};
use super::{
    Inference, InferredLock, MAX_OPERATORS, StatementKind, infer_prepared_in, with_literals,
};
use crate::lexer::{Kind, Token, tokenize};
use crate::normalize::{Prepared, fold_ident, prepare, reattach};
use crate::transaction::TransactionLocks;
use lockgraph_core::{
    Diagnostic, DiagnosticKind, Implicit, InnoDbRecordKind, InnoDbRecordMode, InnoDbSx,
    InnoDbTableMode, KeyPredicate, LockAcquisition, LockMode, LockTarget, ReferentialAction,
    RelationName, RowLockMode, Schema, TableLockMode, Transaction,
};
use rustc_hash::FxHashMap;
use sqlparser::ast::{SetExpr, Statement, TableObject};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;
use std::sync::Arc;

/// Classifies a MySQL/MariaDB statement and infers the InnoDB locks it takes (REPEATABLE READ).
///
/// Same contract as [`super::infer_statement`]: one statement, driver placeholders (`?`, `%s`)
/// read as `$n`, never panics, a `problem` for text it cannot parse or does not model. Locks come
/// in acquisition order; see the module table for what each statement takes.
///
/// ```
/// use lockgraph_core::{InnoDbRecordMode, InnoDbTableMode, LockMode, Schema};
/// use lockgraph_sql::infer_statement_innodb;
///
/// let inf = infer_statement_innodb("UPDATE `accounts` SET balance = balance - ? WHERE id = ?", &Schema::default());
/// let locks: Vec<String> = inf.locks.iter().map(|l| format!("{} {}", l.target, l.mode)).collect();
/// assert_eq!(locks, ["accounts IX", "accounts rows (id = $2) X,REC_NOT_GAP"]);
/// assert!(infer_statement_innodb("SELECT * FROM accounts WHERE id = 1", &Schema::default()).locks.is_empty());
/// ```
pub fn infer_statement_innodb(sql: &str, schema: &Schema) -> Inference {
    let text = mysql_to_postgres_text(sql);
    let tokens = tokenize(&text);
    if let Some(inf) = lock_tables(&tokens) {
        return inf;
    }
    let p = prepare(&text);
    let pg = with_literals(
        &infer_prepared_in(&p, schema, &GenericDialect {}),
        &p.literals,
    );
    if pg.kind != StatementKind::Other {
        return pg;
    }
    let lead = tokens
        .first()
        .filter(|t| t.kind == Kind::Word)
        .map(|t| t.text.to_ascii_lowercase())
        .unwrap_or_default();
    if matches!(
        lead.as_str(),
        "create" | "alter" | "drop" | "truncate" | "rename"
    ) {
        return Inference {
            kind: StatementKind::Other,
            locks: Vec::new(),
            problem: pg.problem.or_else(|| {
                Some((
                    DiagnosticKind::UnmodelledStatement,
                    format!(
                        "{} in MySQL takes metadata locks and commits the open transaction; \
                         lockgraph does not model them",
                        lead.to_uppercase()
                    ),
                ))
            }),
            created: pg.created,
        };
    }
    let insert = insert_shape(&p, schema);
    map_locks(pg, insert.as_ref(), &lead, schema)
}

/// Re-infers a transaction's locks from its statements with InnoDB semantics, replacing
/// `tx.locks`; returns a diagnostic for every statement it could not parse or does not model.
///
/// Statements are replayed through [`TransactionLocks`] like a SQL file's, with one difference:
/// `ROLLBACK TO SAVEPOINT` releases nothing, because InnoDB keeps the row locks taken after the
/// savepoint (manual: "SAVEPOINT, ROLLBACK TO SAVEPOINT, and RELEASE SAVEPOINT"). A new lock
/// keeps `repeated` and `via` from the old locks of the same statement (source front-ends set
/// them for statements in loops and called functions).
pub fn reinfer_innodb(tx: &mut Transaction, schema: &Schema) -> Vec<Diagnostic> {
    // The front-ends redacted with PostgreSQL's lexical rules, under which a MySQL
    // `"double-quoted string"` is an identifier and `'it\'s'` ends early: redact again.
    let old_statements = tx.statements.clone();
    for stmt in &mut tx.statements {
        let redacted = redact_mysql(&stmt.text);
        if *stmt.redacted != *redacted {
            let mut s = (**stmt).clone();
            s.redacted = redacted.into();
            *stmt = Arc::new(s);
        }
    }
    let mut held = TransactionLocks::default();
    let mut diagnostics = Vec::new();
    let mut memo: FxHashMap<Arc<str>, Inference> = FxHashMap::default();
    for stmt in &tx.statements {
        let mut inf = memo
            .entry(stmt.text.clone())
            .or_insert_with(|| infer_statement_innodb(&stmt.text, schema))
            .clone();
        if let Some((kind, message)) = &inf.problem {
            diagnostics.push(Diagnostic {
                location: stmt.location.clone(),
                kind: *kind,
                message: message.clone(),
                statement: Some(stmt.redacted.to_string()),
            });
        }
        if matches!(inf.kind, StatementKind::RollbackToSavepoint(_)) {
            inf.kind = StatementKind::Other;
        }
        held.apply(stmt, inf);
    }
    let old = std::mem::take(&mut tx.locks);
    let mut locks: Vec<LockAcquisition> = held.into_locks();
    for l in &mut locks {
        // The statement this lock's statement replaced (same place, same text).
        let before = tx
            .statements
            .iter()
            .position(|s| Arc::ptr_eq(s, &l.statement))
            .map(|i| &old_statements[i]);
        let same = |o: &&LockAcquisition| {
            before.is_some_and(|b| Arc::ptr_eq(&o.statement, b))
                || o.statement.location == l.statement.location
                    && o.statement.text == l.statement.text
        };
        if let Some(o) = old.iter().find(same) {
            l.repeated = o.repeated;
            l.via = o.via.clone();
        }
    }
    tx.locks = locks;
    diagnostics
}

// ----- MySQL text → text the PostgreSQL pipeline reads -------------------------------------------

/// A MySQL statement with its literals replaced by `?` (as [`crate::redact`] does for
/// PostgreSQL): MySQL's `"double-quoted"` and backslash-escaped strings are literals too.
///
/// ```
/// assert_eq!(
///     lockgraph_sql::redact_mysql(r#"UPDATE t SET v = "secret", w = 'it\'s' WHERE `id` = 7"#),
///     r#"UPDATE t SET v = ?, w = ? WHERE "id" = ?"#
/// );
/// ```
pub fn redact_mysql(sql: &str) -> String {
    crate::redact(&mysql_to_postgres_text(sql))
}

/// Rewrites MySQL's lexical rules into PostgreSQL's, keeping everything else as written:
/// `` `ident` `` → `"ident"` (folded to lower case, as lockgraph compares unquoted names),
/// `"string"` and backslash-escaped `'string'` → standard `'string'`, a `_charset` introducer
/// dropped, `#` and `/* */` comments → a space, and `LOCK IN SHARE MODE` → `FOR SHARE`.
fn mysql_to_postgres_text(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' => {
                let mut name = String::new();
                while let Some(n) = chars.next() {
                    if n == '`' {
                        if chars.peek() == Some(&'`') {
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    name.push(n);
                }
                out.push('"');
                out.push_str(&name.to_lowercase().replace('"', "\"\""));
                out.push('"');
            }
            '\'' | '"' => {
                let mut value = String::new();
                while let Some(n) = chars.next() {
                    if n == '\\' {
                        match chars.next() {
                            Some('0') => value.push('\0'),
                            Some('n') => value.push('\n'),
                            Some('r') => value.push('\r'),
                            Some('t') => value.push('\t'),
                            Some('b') => value.push('\u{8}'),
                            Some('Z') => value.push('\u{1a}'),
                            // `\%` and `\_` keep their backslash (LIKE patterns).
                            Some(e @ ('%' | '_')) => {
                                value.push('\\');
                                value.push(e);
                            }
                            Some(e) => value.push(e),
                            None => {}
                        }
                    } else if n == c {
                        if chars.peek() == Some(&c) {
                            chars.next();
                            value.push(c);
                        } else {
                            break;
                        }
                    } else {
                        value.push(n);
                    }
                }
                drop_charset_introducer(&mut out);
                out.push('\'');
                out.push_str(&value.replace('\'', "''"));
                out.push('\'');
            }
            '#' => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
                out.push('\n');
            }
            '-' if chars.peek() == Some(&'-') => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
                out.push('\n');
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for n in chars.by_ref() {
                    if prev == '*' && n == '/' {
                        break;
                    }
                    prev = n;
                }
                out.push(' ');
            }
            _ => out.push(c),
        }
    }
    insert_set_to_values(share_mode_to_for_share(out))
}

/// Drops a `_utf8mb4` (any `_charset`) introducer written right before a string literal.
fn drop_charset_introducer(out: &mut String) {
    let word_len = out
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .count();
    if word_len > 1 && out[out.len() - word_len..].starts_with('_') {
        out.truncate(out.len() - word_len);
    }
}

/// `LOCK IN SHARE MODE` → `FOR SHARE` (the words only, never inside strings or identifiers).
fn share_mode_to_for_share(text: String) -> String {
    let tokens = tokenize(&text);
    let mut cuts = Vec::new();
    for (i, w) in tokens.windows(4).enumerate() {
        if ["lock", "in", "share", "mode"]
            .iter()
            .zip(w)
            .all(|(kw, t)| t.is_word(kw))
        {
            cuts.push((tokens[i].start, w[3].end()));
        }
    }
    if cuts.is_empty() {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in cuts {
        out.push_str(&text[at..start]);
        out.push_str("FOR SHARE");
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// MySQL's `INSERT [INTO] t SET a = 1, b = 2 …` → `INSERT [INTO] t (a, b) VALUES (1, 2) …`
/// (also for `REPLACE`), which every dialect reads.
fn insert_set_to_values(text: String) -> String {
    let tokens = tokenize(&text);
    if !tokens
        .first()
        .is_some_and(|t| t.is_word("insert") || t.is_word("replace"))
    {
        return text;
    }
    let mut depth = 0usize;
    let mut set = None;
    let mut parts: Vec<(usize, usize)> = Vec::new(); // token ranges of `col = value`
    let mut end = tokens.len();
    for (i, t) in tokens.iter().enumerate() {
        if set.is_none() {
            // A column list, a subquery or VALUES before any SET: not the SET form.
            if t.is("(")
                || ["values", "value", "select", "with"]
                    .iter()
                    .any(|kw| t.is_word(kw))
            {
                return text;
            }
            if t.is_word("set") {
                set = Some(i);
                parts.push((i + 1, i + 1));
            }
            continue;
        }
        if t.is("(") {
            depth += 1;
        } else if t.is(")") {
            depth = depth.saturating_sub(1);
        }
        if depth == 0 && t.is_word("on") {
            end = i;
            break;
        }
        if depth == 0 && t.is(",") {
            parts.push((i + 1, i + 1));
        } else if let Some(last) = parts.last_mut() {
            last.1 = i + 1;
        }
    }
    let Some(set) = set else {
        return text;
    };
    let mut columns = Vec::new();
    let mut values = Vec::new();
    for (from, to) in parts {
        let Some(eq) = (from..to).find(|&i| tokens[i].is("=")) else {
            return text;
        };
        if eq == from || eq + 1 >= to {
            return text;
        }
        columns.push(&text[tokens[from].start..tokens[eq - 1].end()]);
        values.push(&text[tokens[eq + 1].start..tokens[to - 1].end()]);
    }
    let rest = tokens.get(end).map_or("", |t| &text[t.start..]);
    format!(
        "{}({}) VALUES ({}) {rest}",
        &text[..tokens[set].start],
        columns.join(", "),
        values.join(", ")
    )
}

/// `LOCK TABLE[S] t [[AS] a] {READ [LOCAL] | [LOW_PRIORITY] WRITE}, …` → table `S` / `X`;
/// `UNLOCK TABLES` → no lock. `None` for any other statement.
fn lock_tables(tokens: &[Token<'_>]) -> Option<Inference> {
    let w = |i: usize, kw: &str| tokens.get(i).is_some_and(|t| t.is_word(kw));
    if w(0, "unlock") && (w(1, "tables") || w(1, "table")) {
        return Some(Inference::none(StatementKind::Other));
    }
    if !(w(0, "lock") && (w(1, "tables") || w(1, "table"))) {
        return None;
    }
    let mut locks = Vec::new();
    let mut i = 2;
    while i < tokens.len() {
        let mut parts = Vec::new();
        while let Some(t) = tokens
            .get(i)
            .filter(|t| matches!(t.kind, Kind::Word | Kind::QuotedIdent))
        {
            parts.push(fold_ident(t));
            i += 1;
            if tokens.get(i).is_some_and(|t| t.is(".")) {
                i += 1;
            } else {
                break;
            }
        }
        let mut mode = None;
        while let Some(t) = tokens.get(i).filter(|t| !t.is(",")) {
            if t.is_word("read") {
                mode = Some(InnoDbTableMode::S);
            } else if t.is_word("write") {
                mode = Some(InnoDbTableMode::X);
            }
            i += 1;
        }
        if let (false, Some(mode)) = (parts.is_empty(), mode) {
            let relation = RelationName::from_parts(parts.iter().map(|p| (p.as_str(), true)));
            locks.push(table_lock(&relation, mode, None));
        }
        i += 1;
    }
    let problem = locks.is_empty().then(|| {
        (
            DiagnosticKind::UnparseableStatement,
            "LOCK TABLES names no table with READ or WRITE".to_string(),
        )
    });
    Some(Inference {
        kind: StatementKind::Other,
        locks,
        problem,
        created: Vec::new(),
    })
}

// ----- INSERT -------------------------------------------------------------------------------------

/// What an `INSERT`/`REPLACE` writes: its table and the primary-key values of the new rows.
struct InsertShape {
    table: RelationName,
    key: Option<KeyPredicate>,
}

/// Reads the INSERT (or REPLACE) a template holds, if it is one.
fn insert_shape(p: &Prepared, schema: &Schema) -> Option<InsertShape> {
    if p.operators > MAX_OPERATORS {
        return None;
    }
    let statements = Parser::new(&GenericDialect {})
        .try_with_sql(&p.template)
        .and_then(|mut parser| parser.parse_statements())
        .ok()?;
    let [Statement::Insert(ins)] = statements.as_slice() else {
        return None;
    };
    let TableObject::TableName(name) = &ins.table else {
        return None;
    };
    let table = relation_name(name)?;
    let known = schema.table(&table);
    let mut given: Given = {
        let columns: Vec<String> = if ins.columns.is_empty() {
            known
                .map(|t| t.columns.iter().map(|c| c.name.to_string()).collect())
                .unwrap_or_default()
        } else {
            ins.columns.iter().filter_map(super::last_ident).collect()
        };
        let rows = ins.source.as_deref().and_then(|q| match q.body.as_ref() {
            SetExpr::Values(v) if q.with.is_none() && !v.rows.is_empty() => Some(&v.rows),
            _ => None,
        });
        columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let values = rows.and_then(|rows| {
                    rows.iter()
                        .map(|r| {
                            r.content
                                .get(i)
                                .and_then(value_text)
                                .map(|v| reattach(&v, &p.literals))
                        })
                        .collect::<Option<Vec<_>>>()
                });
                (c.clone(), values)
            })
            .collect()
    };
    // `DEFAULT` and `NULL` for an AUTO_INCREMENT key: the server picks the value.
    for (_, values) in &mut given {
        if values.as_ref().is_some_and(|v| {
            v.iter()
                .any(|x| x.eq_ignore_ascii_case("null") || x.eq_ignore_ascii_case("default"))
        }) {
            *values = None;
        }
    }
    let pk: Vec<String> = match known {
        Some(t) if !t.primary_key.is_empty() => {
            t.primary_key.iter().map(|c| c.to_string()).collect()
        }
        _ => vec!["id".to_string()],
    };
    Some(InsertShape {
        key: key_from_given(&pk, &given, true),
        table,
    })
}

// ----- PostgreSQL modes → InnoDB modes -----------------------------------------------------------

fn table_lock(
    relation: &RelationName,
    mode: InnoDbTableMode,
    implicit: Option<Implicit>,
) -> InferredLock {
    InferredLock {
        target: LockTarget::Relation {
            relation: relation.clone(),
        },
        mode: LockMode::InnoDbTable(mode),
        implicit,
    }
}

fn record_lock(
    relation: &RelationName,
    key: Option<KeyPredicate>,
    sx: InnoDbSx,
    kind: InnoDbRecordKind,
    implicit: Option<Implicit>,
) -> InferredLock {
    InferredLock {
        target: LockTarget::Rows {
            relation: relation.clone(),
            key,
        },
        mode: LockMode::InnoDbRecord(InnoDbRecordMode::new(sx, kind)),
        implicit,
    }
}

/// Whether `columns` cover a primary or unique key (schema), or include `id` when the table is
/// unknown (the same guess the PostgreSQL inference makes).
fn is_unique(schema: &Schema, relation: &RelationName, columns: &[&str]) -> bool {
    match schema.table(relation) {
        Some(t) => t.is_unique_key(columns),
        None => columns.contains(&"id"),
    }
}

/// Record-only when the key pins rows of a unique key by equality (one value or an `IN` list of
/// values), next-key otherwise.
fn record_kind(
    schema: &Schema,
    relation: &RelationName,
    key: Option<&KeyPredicate>,
) -> InnoDbRecordKind {
    let Some(k) = key else {
        return InnoDbRecordKind::NextKey;
    };
    let equality = k.single_row
        || k.values
            .iter()
            .all(|v| v.starts_with('(') && !v.starts_with("(SELECT"));
    let columns: Vec<&str> = k.columns.iter().map(|c| &**c).collect();
    if equality && is_unique(schema, relation, &columns) {
        InnoDbRecordKind::RecordOnly
    } else {
        InnoDbRecordKind::NextKey
    }
}

/// The key a parent-side change reaches on a child: the parent key's values on the child's
/// foreign-key columns, when the parent key is exactly the referenced columns.
fn child_key(
    schema: &Schema,
    parent: &RelationName,
    parent_key: Option<&KeyPredicate>,
    fk: &lockgraph_core::ForeignKey,
) -> Option<KeyPredicate> {
    let k = parent_key?;
    let referenced: Vec<Arc<str>> = if fk.parent_columns.is_empty() {
        schema.table(parent)?.primary_key.clone()
    } else {
        fk.parent_columns.clone()
    };
    if referenced.len() != k.columns.len() || fk.columns.len() != referenced.len() {
        return None;
    }
    let values = referenced
        .iter()
        .map(|r| {
            let i = k.columns.iter().position(|c| c == r)?;
            Some(k.values[i].clone())
        })
        .collect::<Option<Vec<_>>>()?;
    Some(KeyPredicate {
        columns: fk.columns.clone(),
        values,
        single_row: false,
        ordered: false,
        filters: Vec::new(),
    })
}

/// Locks in three runs like the PostgreSQL accumulator (tables, rows, implicit), plus the
/// INSERT's own record locks, which come last: InnoDB checks foreign keys before inserting.
#[derive(Default)]
struct Mapped {
    tables: Vec<InferredLock>,
    rows: Vec<InferredLock>,
    implicit: Vec<InferredLock>,
    inserted: Vec<InferredLock>,
}

impl Mapped {
    fn push(list: &mut Vec<InferredLock>, lock: InferredLock) {
        if !list
            .iter()
            .any(|l| l.target == lock.target && l.mode == lock.mode)
        {
            list.push(lock);
        }
    }

    fn finish(self) -> Vec<InferredLock> {
        let mut out = self.tables;
        out.extend(self.rows);
        out.extend(self.implicit);
        out.extend(self.inserted);
        out
    }
}

/// Maps the PostgreSQL inference of a statement onto InnoDB's locks (see the module table).
/// `lead` is the statement's first word, lower case.
fn map_locks(
    pg: Inference,
    insert: Option<&InsertShape>,
    lead: &str,
    schema: &Schema,
) -> Inference {
    let dml = matches!(lead, "insert" | "replace" | "update" | "delete");
    let target: Option<RelationName> = pg.locks.iter().find_map(|l| match (&l.target, l.mode) {
        (LockTarget::Relation { relation }, LockMode::Table(TableLockMode::RowExclusive))
            if l.implicit.is_none() =>
        {
            Some(relation.clone())
        }
        _ => None,
    });
    let target_key: Option<KeyPredicate> = pg.locks.iter().find_map(|l| match &l.target {
        LockTarget::Rows { relation, key }
            if l.implicit.is_none() && Some(relation) == target.as_ref() =>
        {
            key.clone()
        }
        _ => None,
    });
    let exclusive_rows = |relation: &RelationName| {
        pg.locks.iter().any(|l| {
            l.target.relation() == Some(relation)
                && matches!(
                    l.mode,
                    LockMode::Row(RowLockMode::Update | RowLockMode::NoKeyUpdate)
                )
        })
    };
    let mut out = Mapped::default();
    let mut problem = pg.problem.clone();
    for l in &pg.locks {
        let why = l.implicit.clone();
        match (&l.target, l.mode, &l.implicit) {
            // The statement's own tables.
            (LockTarget::Relation { relation }, LockMode::Table(m), None) => match m {
                TableLockMode::RowExclusive => Mapped::push(
                    &mut out.tables,
                    table_lock(relation, InnoDbTableMode::IX, None),
                ),
                TableLockMode::RowShare => {
                    let mode = if exclusive_rows(relation) {
                        InnoDbTableMode::IX
                    } else {
                        InnoDbTableMode::IS
                    };
                    Mapped::push(&mut out.tables, table_lock(relation, mode, None));
                }
                // Read by a DML statement: shared next-key locks on the rows read. Read by a
                // plain SELECT: a consistent read, no lock.
                TableLockMode::AccessShare if dml => {
                    Mapped::push(
                        &mut out.tables,
                        table_lock(relation, InnoDbTableMode::IS, None),
                    );
                    Mapped::push(
                        &mut out.rows,
                        record_lock(relation, None, InnoDbSx::S, InnoDbRecordKind::NextKey, None),
                    );
                }
                TableLockMode::AccessShare => {}
                _ => {
                    problem.get_or_insert((
                        DiagnosticKind::UnmodelledStatement,
                        format!(
                            "the statement takes {m} on {relation} in PostgreSQL; its MySQL \
                             counterpart (metadata locks) is not modelled"
                        ),
                    ));
                }
            },
            (LockTarget::Rows { relation, key }, LockMode::Row(m), None) => {
                let sx = match m {
                    RowLockMode::Update | RowLockMode::NoKeyUpdate => InnoDbSx::X,
                    RowLockMode::Share | RowLockMode::KeyShare => InnoDbSx::S,
                };
                let kind = record_kind(schema, relation, key.as_ref());
                Mapped::push(
                    &mut out.rows,
                    record_lock(relation, key.clone(), sx, kind, None),
                );
            }
            // Foreign-key checks of the statement's own rows: the parent row, record only.
            (
                LockTarget::Relation { relation },
                LockMode::Table(_),
                Some(Implicit::ForeignKeyCheck { from }),
            ) if Some(&**from) == target.as_ref().map(RelationName::as_str) => {
                Mapped::push(
                    &mut out.implicit,
                    table_lock(relation, InnoDbTableMode::IS, why),
                );
            }
            (
                LockTarget::Rows { relation, key },
                LockMode::Row(_),
                Some(Implicit::ForeignKeyCheck { from }),
            ) if Some(&**from) == target.as_ref().map(RelationName::as_str) => {
                Mapped::push(
                    &mut out.implicit,
                    record_lock(
                        relation,
                        key.clone(),
                        InnoDbSx::S,
                        InnoDbRecordKind::RecordOnly,
                        why,
                    ),
                );
            }
            // Cascades: the child rows are updated or deleted, record by record.
            (
                LockTarget::Relation { relation },
                LockMode::Table(TableLockMode::RowExclusive),
                Some(Implicit::ForeignKeyAction { .. }),
            ) => Mapped::push(
                &mut out.implicit,
                table_lock(relation, InnoDbTableMode::IX, why),
            ),
            (
                LockTarget::Rows { relation, key },
                LockMode::Row(_),
                Some(Implicit::ForeignKeyAction { .. }),
            ) => Mapped::push(
                &mut out.implicit,
                record_lock(
                    relation,
                    key.clone(),
                    InnoDbSx::X,
                    InnoDbRecordKind::RecordOnly,
                    why,
                ),
            ),
            // RESTRICT / NO ACTION: InnoDB looks for referencing child rows with a shared lock;
            // finding none, it keeps a gap lock where they would be.
            (
                LockTarget::Relation { relation },
                LockMode::Table(_),
                Some(Implicit::Other { .. }),
            ) => {
                let Some(parent) = target.as_ref().filter(|t| *t != relation) else {
                    continue;
                };
                let fks: Vec<_> = schema
                    .referencing(parent)
                    .filter(|(c, fk)| {
                        let action = if lead == "delete" {
                            fk.on_delete
                        } else {
                            fk.on_update
                        };
                        *c == relation
                            && matches!(
                                action,
                                ReferentialAction::NoAction | ReferentialAction::Restrict
                            )
                    })
                    .map(|(_, fk)| fk.clone())
                    .collect();
                if fks.is_empty() {
                    continue;
                }
                Mapped::push(
                    &mut out.implicit,
                    table_lock(relation, InnoDbTableMode::IS, why.clone()),
                );
                for fk in fks {
                    let key = child_key(schema, parent, target_key.as_ref(), &fk);
                    Mapped::push(
                        &mut out.implicit,
                        record_lock(
                            relation,
                            key,
                            InnoDbSx::S,
                            InnoDbRecordKind::Gap,
                            why.clone(),
                        ),
                    );
                }
            }
            // Checks PostgreSQL makes that InnoDB does not (re-checks after cascades), and
            // advisory locks (PostgreSQL functions).
            _ => {}
        }
    }
    if let Some(ins) = insert {
        let why = None;
        Mapped::push(
            &mut out.inserted,
            record_lock(
                &ins.table,
                ins.key.clone(),
                InnoDbSx::X,
                InnoDbRecordKind::InsertIntention,
                why.clone(),
            ),
        );
        // The new row's own lock, when its key is written out. A key the server picks
        // (AUTO_INCREMENT) is a row no other transaction can name until this one commits: its lock
        // never makes anyone wait, and as a lock on "unknown rows" it would look like every other
        // insert's.
        if ins.key.is_some() {
            Mapped::push(
                &mut out.inserted,
                record_lock(
                    &ins.table,
                    ins.key.clone(),
                    InnoDbSx::X,
                    InnoDbRecordKind::RecordOnly,
                    why,
                ),
            );
        }
    }
    Inference {
        kind: pg.kind,
        locks: out.finish(),
        problem,
        created: pg.created,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SqlFileOptions, build_transactions, parse_schema};

    fn schema() -> Schema {
        parse_schema(&[(
            "schema.sql",
            "CREATE TABLE parent (id int PRIMARY KEY, v int);
             CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent (id));
             CREATE TABLE item (id int PRIMARY KEY, parent_id int REFERENCES parent (id) ON DELETE CASCADE);
             CREATE TABLE t (id int PRIMARY KEY, k int, email text UNIQUE, v int);",
        )])
        .0
    }

    fn locks(sql: &str) -> Vec<String> {
        let inf = infer_statement_innodb(sql, &schema());
        assert!(inf.problem.is_none(), "{sql}: {:?}", inf.problem);
        inf.locks
            .iter()
            .map(|l| format!("{} {}", l.target, l.mode))
            .collect()
    }

    #[test]
    fn reads() {
        assert!(locks("SELECT * FROM t WHERE id = 1").is_empty());
        assert!(locks("SELECT * FROM t JOIN parent p ON p.id = t.k").is_empty());
        assert_eq!(
            locks("SELECT * FROM t WHERE id = 1 FOR UPDATE"),
            ["t IX", "t rows (id = 1) X,REC_NOT_GAP"]
        );
        assert_eq!(
            locks("SELECT * FROM t WHERE id = 1 LOCK IN SHARE MODE"),
            ["t IS", "t rows (id = 1) S,REC_NOT_GAP"]
        );
        assert_eq!(
            locks("select * from t where id = 1 for share"),
            ["t IS", "t rows (id = 1) S,REC_NOT_GAP"]
        );
        assert_eq!(
            locks("SELECT * FROM t WHERE id > 5 FOR UPDATE"),
            ["t IX", "t rows (id IN > 5) X"]
        );
        assert_eq!(
            locks("SELECT * FROM t WHERE email = 'a@b' FOR UPDATE"),
            ["t IX", "t rows (email = 'a@b') X,REC_NOT_GAP"]
        );
    }

    #[test]
    fn writes() {
        assert_eq!(
            locks("UPDATE t SET v = v + 1 WHERE id = 7"),
            ["t IX", "t rows (id = 7) X,REC_NOT_GAP"]
        );
        assert_eq!(
            locks("UPDATE t SET v = 0 WHERE id IN (1, 2)"),
            ["t IX", "t rows (id IN (1, 2)) X,REC_NOT_GAP"]
        );
        assert_eq!(
            locks("UPDATE t SET v = 0 WHERE k = 3"),
            ["t IX", "t rows (k IN 3) X"]
        );
        assert_eq!(
            locks("UPDATE t SET v = 0 WHERE id BETWEEN 1 AND 9 ORDER BY id LIMIT 3"),
            ["t IX", "t rows (id IN BETWEEN 1 AND 9) X"]
        );
        assert_eq!(locks("DELETE FROM t"), ["t IX", "t rows X"]);
        assert_eq!(
            locks("DELETE FROM t WHERE id = 3"),
            ["t IX", "t rows (id = 3) X,REC_NOT_GAP"]
        );
        // Tables a DML statement only reads get shared next-key locks.
        assert_eq!(
            locks("UPDATE t SET v = 1 WHERE k IN (SELECT id FROM parent WHERE v = 2)"),
            [
                "t IX",
                "parent IS",
                "parent rows S",
                "t rows (k IN (SELECT …)) X"
            ]
        );
    }

    #[test]
    fn inserts() {
        assert_eq!(
            locks("INSERT INTO t (id, k) VALUES (5, 1)"),
            [
                "t IX",
                "t rows (id = 5) X,GAP,INSERT_INTENTION",
                "t rows (id = 5) X,REC_NOT_GAP"
            ]
        );
        // The foreign-key check locks the parent record before the row is inserted.
        assert_eq!(
            locks("INSERT INTO child (id, parent_id) VALUES (?, ?)"),
            [
                "child IX",
                "parent IS",
                "parent rows (id = $2) S,REC_NOT_GAP",
                "child rows (id = $1) X,GAP,INSERT_INTENTION",
                "child rows (id = $1) X,REC_NOT_GAP"
            ]
        );
        for upsert in [
            "INSERT INTO t (id, v) VALUES (5, 1) ON DUPLICATE KEY UPDATE v = v + 1",
            "REPLACE INTO t (id, v) VALUES (5, 1)",
            "INSERT IGNORE INTO t (id, v) VALUES (5, 1)",
            "INSERT INTO t SET id = 5, v = 1",
        ] {
            assert_eq!(
                locks(upsert),
                [
                    "t IX",
                    "t rows (id = 5) X,GAP,INSERT_INTENTION",
                    "t rows (id = 5) X,REC_NOT_GAP"
                ],
                "{upsert}"
            );
        }
        // Several rows; an AUTO_INCREMENT key the server picks; rows from a query.
        assert_eq!(
            locks("INSERT INTO t (id) VALUES (1), (2)")[2],
            "t rows (id IN (1, 2)) X,REC_NOT_GAP"
        );
        // The server picks the key: no lock on the new row (no one else can name it), so two
        // such inserts never look like a conflict.
        assert_eq!(
            locks("INSERT INTO t (id, v) VALUES (NULL, 1)"),
            ["t IX", "t rows X,GAP,INSERT_INTENTION"]
        );
        assert_eq!(
            locks("INSERT INTO t (id, v) SELECT id, v FROM parent"),
            [
                "t IX",
                "parent IS",
                "parent rows S",
                "t rows X,GAP,INSERT_INTENTION"
            ]
        );
    }

    #[test]
    fn foreign_key_check_conflicts_with_any_parent_update() {
        let s = schema();
        let check = infer_statement_innodb("INSERT INTO child (id, parent_id) VALUES (9, 1)", &s);
        let parent_update = infer_statement_innodb("UPDATE parent SET v = 2 WHERE id = 1", &s);
        let (c, u) = (check.locks[2].mode, parent_update.locks[1].mode);
        assert_eq!(check.locks[2].target, parent_update.locks[1].target);
        assert!(u.conflicts_with(c) && c.conflicts_with(u));
        // PostgreSQL: FOR KEY SHARE and FOR NO KEY UPDATE do not conflict.
        let pg_check =
            crate::infer_statement("INSERT INTO child (id, parent_id) VALUES (9, 1)", &s);
        let pg_update = crate::infer_statement("UPDATE parent SET v = 2 WHERE id = 1", &s);
        assert!(
            !pg_update.locks[1]
                .mode
                .conflicts_with(pg_check.locks[2].mode)
        );
    }

    #[test]
    fn parent_changes_reach_children() {
        assert_eq!(
            locks("DELETE FROM parent WHERE id = 4"),
            [
                "parent IX",
                "parent rows (id = 4) X,REC_NOT_GAP",
                "child IS",
                "child rows (parent_id IN 4) S,GAP",
                "item IX",
                "item rows (parent_id IN 4) X,REC_NOT_GAP"
            ]
        );
        // Not changing the referenced key: no child is looked at.
        assert_eq!(
            locks("UPDATE parent SET v = 1 WHERE id = 4"),
            ["parent IX", "parent rows (id = 4) X,REC_NOT_GAP"]
        );
    }

    #[test]
    fn mysql_lexical_rules() {
        assert_eq!(
            locks("UPDATE `T` SET `v` = \"it\\\"s\" WHERE `id` = ? # trailing comment"),
            ["t IX", "t rows (id = $1) X,REC_NOT_GAP"]
        );
        assert_eq!(
            locks("UPDATE t SET v = 'a\\'b' WHERE email = _utf8mb4'x@y' /* c */"),
            ["t IX", "t rows (email = 'x@y') X,REC_NOT_GAP"]
        );
        assert_eq!(
            locks("UPDATE t SET v = 1 WHERE id = %s"),
            ["t IX", "t rows (id = $1) X,REC_NOT_GAP"]
        );
        // A reserved word in backticks.
        assert_eq!(
            locks("DELETE FROM `order` WHERE `id` = 1"),
            ["order IX", "order rows (id = 1) X,REC_NOT_GAP"]
        );
        assert_eq!(
            mysql_to_postgres_text("SELECT 'lock in share mode' LOCK  IN SHARE MODE"),
            "SELECT 'lock in share mode' FOR SHARE"
        );
        assert_eq!(
            mysql_to_postgres_text(
                "INSERT INTO t SET id = ?, v = GREATEST(1, 2) ON DUPLICATE KEY UPDATE v = 3"
            ),
            "INSERT INTO t (id, v) VALUES (?, GREATEST(1, 2)) ON DUPLICATE KEY UPDATE v = 3"
        );
        // Not the SET form: left alone.
        for sql in [
            "INSERT INTO t (id) VALUES (1)",
            "INSERT INTO t SELECT * FROM u",
            "UPDATE t SET v = 1",
        ] {
            assert_eq!(mysql_to_postgres_text(sql), sql);
        }
    }

    #[test]
    fn lock_tables_and_transaction_control() {
        assert_eq!(
            locks("LOCK TABLES t WRITE, parent AS p READ LOCAL, `child` LOW_PRIORITY WRITE"),
            ["t X", "parent S", "child X"]
        );
        assert!(locks("UNLOCK TABLES").is_empty());
        let kind = |sql| infer_statement_innodb(sql, &schema()).kind;
        assert_eq!(
            kind("START TRANSACTION WITH CONSISTENT SNAPSHOT"),
            StatementKind::Begin
        );
        assert_eq!(kind("BEGIN WORK"), StatementKind::Begin);
        assert_eq!(kind("COMMIT"), StatementKind::Commit);
        assert_eq!(
            kind("ROLLBACK WORK TO SAVEPOINT `s1`"),
            StatementKind::RollbackToSavepoint("s1".into())
        );
    }

    #[test]
    fn ddl_is_reported_not_guessed() {
        let inf = infer_statement_innodb("ALTER TABLE t ADD COLUMN w int", &schema());
        assert!(inf.locks.is_empty());
        assert_eq!(
            inf.problem.map(|p| p.0),
            Some(DiagnosticKind::UnmodelledStatement)
        );
        let inf = infer_statement_innodb("UPDATE t SET", &schema());
        assert_eq!(
            inf.problem.map(|p| p.0),
            Some(DiagnosticKind::UnparseableStatement)
        );
    }

    #[test]
    fn reinfer_keeps_locks_after_rollback_to_savepoint() {
        let sql = "START TRANSACTION;\nSELECT * FROM t WHERE id = 1;\nSAVEPOINT s;\nUPDATE t SET v = 1 WHERE id = 2;\nROLLBACK TO SAVEPOINT s;\nINSERT INTO child (id, parent_id) VALUES (3, 1);\nALTER TABLE t ADD COLUMN x int;\nCOMMIT;";
        let s = schema();
        let (mut txs, _) = build_transactions("a.sql", sql, &s, &SqlFileOptions::default());
        // PostgreSQL semantics first: the UPDATE's locks are released by the rollback.
        assert!(
            !txs[0]
                .locks
                .iter()
                .any(|l| l.target.to_string() == "t rows (id = 2)")
        );
        txs[0].locks[0].repeated = true;
        let select = txs[0].locks[0].statement.clone();
        let diags = reinfer_innodb(&mut txs[0], &s);
        let got: Vec<String> = txs[0]
            .locks
            .iter()
            .map(|l| format!("{} {}", l.target, l.mode))
            .collect();
        assert_eq!(
            got,
            [
                "t IX",
                "t rows (id = 2) X,REC_NOT_GAP",
                "child IX",
                "parent IS",
                "parent rows (id = 1) S,REC_NOT_GAP",
                "child rows (id = 3) X,GAP,INSERT_INTENTION",
                "child rows (id = 3) X,REC_NOT_GAP"
            ]
        );
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].location.to_string(), "a.sql:7");
        // The plain SELECT takes no lock; flags of other statements' old locks do not leak.
        assert!(
            txs[0]
                .locks
                .iter()
                .all(|l| !l.repeated && l.statement != select)
        );
    }
}
