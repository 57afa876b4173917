//! The AST walker: which relations a query or DML statement touches, in which table mode, and
//! which rows it locks.
//!
//! The walk follows PostgreSQL's parse analysis, which is where table locks are taken: `WITH`
//! queries first, then the target of INSERT/UPDATE/DELETE/MERGE, then `FROM`/`USING`, then the
//! target list and `WHERE` (subqueries included). Row locks are taken while the statement runs,
//! implicit foreign-key locks when its after-row triggers fire at the end.

use super::{Locks, ddl, fk};
use crate::normalize::LockClauseText;
use lockgraph_core::{
    AdvisoryMode, DiagnosticKind, KeyPredicate, RelationName, RowLockMode, Schema, TableLockMode,
};
use sqlparser::ast::{
    Assignment, AssignmentTarget, BinaryOperator, ConflictTarget, CopySource, Delete, Expr,
    FromTable, Function, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr, Ident,
    InTarget, Insert, JoinConstraint, JoinOperator, LockClause, LockType, Merge, MergeAction,
    MergeInsertKind, MergeUpdateKind, ObjectName, OnConflictAction, OnInsert, Query, Select,
    SelectItem, SetExpr, Statement, TableFactor, TableObject, TableWithJoins, Update,
    UpdateTableFromKind,
};
use std::sync::Arc;

use RowLockMode as Row;
use TableLockMode as Mode;

/// Deepest query/expression nesting followed (sqlparser's own recursion limit is lower, except for
/// operator chains, which are walked iteratively).
const MAX_DEPTH: usize = 200;

/// Advisory lock functions, docs 9.28.10 "Advisory Lock Functions": `_shared` variants take a
/// shared lock (pg_locks `ShareLock`), the others an exclusive one (`ExclusiveLock`). The
/// session-level forms outlive the transaction; the `try` forms do not wait.
const ADVISORY_FUNCTIONS: &[(&str, AdvisoryMode)] = &[
    ("pg_advisory_lock", AdvisoryMode::Exclusive),
    ("pg_advisory_lock_shared", AdvisoryMode::Shared),
    ("pg_advisory_xact_lock", AdvisoryMode::Exclusive),
    ("pg_advisory_xact_lock_shared", AdvisoryMode::Shared),
    ("pg_try_advisory_lock", AdvisoryMode::Exclusive),
    ("pg_try_advisory_lock_shared", AdvisoryMode::Shared),
    ("pg_try_advisory_xact_lock", AdvisoryMode::Exclusive),
    ("pg_try_advisory_xact_lock_shared", AdvisoryMode::Shared),
];

/// A locking clause in force for a query level.
#[derive(Clone, Debug)]
pub(crate) struct RowLocking {
    strength: RowLockMode,
    of: Option<String>,
}

/// A relation in a `FROM` list (or a DML target), with the name the query refers to it by.
#[derive(Clone, Debug)]
pub(crate) struct FromRel {
    pub relation: RelationName,
    pub refname: String,
    strength: Option<RowLockMode>,
}

/// How to read an unqualified column in a `WHERE` clause.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unqualified {
    /// It belongs to the relation (the only one, or a DML target).
    Ours,
    /// It belongs to the relation only if the schema says the relation has that column.
    IfKnown,
}

/// What an INSERT or UPDATE gives a column: value texts (one per row), or unknown.
pub(crate) type Given = Vec<(String, Option<Vec<String>>)>;

pub(crate) struct Walker<'a> {
    pub schema: &'a Schema,
    pub locks: Locks,
    pub problem: Option<(DiagnosticKind, String)>,
    /// The statement's leading words (`CALL`, `CREATE AGGREGATE`), for messages.
    pub lead: String,
    /// Relations the statement creates (CREATE TABLE / VIEW / MATERIALIZED VIEW, SELECT INTO):
    /// invisible to other sessions until commit, so later locks on them in the same
    /// transaction cannot be waited for either.
    pub created: Vec<RelationName>,
    clauses: Vec<(LockClauseText, bool)>,
    ctes: Vec<String>,
    depth: usize,
}

/// An identifier folded like PostgreSQL does.
pub(crate) fn ident(i: &Ident) -> String {
    if i.quote_style.is_some() {
        i.value.clone()
    } else {
        i.value.to_lowercase()
    }
}

/// The last part of a name, folded.
pub(crate) fn last_ident(name: &ObjectName) -> Option<String> {
    name.0.last().and_then(|p| p.as_ident()).map(ident)
}

/// A relation name from an object name (no CTE check).
pub(crate) fn relation_name(name: &ObjectName) -> Option<RelationName> {
    let parts: Vec<&Ident> = name.0.iter().filter_map(|p| p.as_ident()).collect();
    if parts.is_empty() || parts.len() != name.0.len() {
        return None;
    }
    Some(RelationName::from_parts(
        parts
            .iter()
            .map(|i| (i.value.as_str(), i.quote_style.is_some())),
    ))
}

impl<'a> Walker<'a> {
    pub(crate) fn new(schema: &'a Schema, clauses: &[LockClauseText], lead: String) -> Self {
        Walker {
            schema,
            locks: Locks::default(),
            problem: None,
            lead,
            created: Vec::new(),
            clauses: clauses.iter().map(|c| (c.clone(), false)).collect(),
            ctes: Vec::new(),
            depth: 0,
        }
    }

    fn enter(&mut self) -> bool {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.problem.get_or_insert((
                DiagnosticKind::UnparseableStatement,
                format!(
                    "statement nests deeper than {MAX_DEPTH} levels; the rest was not analysed"
                ),
            ));
            self.depth -= 1;
            return false;
        }
        true
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Records that the statement is not modelled (the first reason wins).
    pub(crate) fn unmodelled(&mut self, message: String) {
        self.problem
            .get_or_insert((DiagnosticKind::UnmodelledStatement, message));
    }

    /// A relation referenced in a query, unless it is a visible CTE.
    pub(crate) fn relation(&self, name: &ObjectName) -> Option<RelationName> {
        if name.0.len() == 1
            && let Some(single) = last_ident(name)
            && self.ctes.contains(&single)
        {
            return None;
        }
        relation_name(name)
    }

    /// One top-level (or data-modifying CTE) statement.
    pub(crate) fn statement(&mut self, st: &Statement) {
        match st {
            Statement::Query(q) => self.query(q, &[]),
            Statement::Insert(i) => self.insert(i),
            Statement::Update(u) => self.update(u),
            Statement::Delete(d) => self.delete(d),
            Statement::Merge(m) => self.merge(m),
            Statement::Explain {
                statement,
                analyze,
                options,
                ..
            } => {
                let runs = *analyze
                    || options.iter().flatten().any(|o| {
                        o.name.value.eq_ignore_ascii_case("analyze")
                            && o.arg
                                .as_ref()
                                .is_none_or(|a| !a.to_string().eq_ignore_ascii_case("false"))
                    });
                self.planned_only(statement, runs);
            }
            // PREPARE analyses its statement (taking its table locks) without running it.
            Statement::Prepare { statement, .. } => self.planned_only(statement, false),
            Statement::Declare { stmts, .. } => {
                for d in stmts {
                    if let Some(q) = &d.for_query {
                        self.query(q, &[]);
                    }
                }
            }
            Statement::Copy {
                source: CopySource::Query(q),
                ..
            } => self.query(q, &[]),
            Statement::Copy {
                source: CopySource::Table { table_name, .. },
                to,
                ..
            } => {
                if let Some(rel) = self.relation(table_name) {
                    if *to {
                        self.locks.table(&rel, Mode::AccessShare);
                    } else {
                        // COPY FROM inserts rows: ROW EXCLUSIVE, and foreign-key checks per row.
                        self.locks.table(&rel, Mode::RowExclusive);
                        let given = self.all_columns_unknown(&rel);
                        fk::insert_checks(self, &rel, &given);
                    }
                }
            }
            other => ddl::statement(self, other),
        }
    }

    /// Walks `st` but keeps only its table locks unless it also runs (`EXPLAIN ANALYZE`).
    fn planned_only(&mut self, st: &Statement, runs: bool) {
        let outer = std::mem::take(&mut self.locks);
        self.statement(st);
        let mut inner = std::mem::replace(&mut self.locks, outer);
        if !runs {
            inner.retain_tables();
        }
        self.locks.extend(inner);
    }

    pub(crate) fn query(&mut self, q: &Query, inherited: &[RowLocking]) {
        if !self.enter() {
            return;
        }
        let scope = self.ctes.len();
        if let Some(with) = &q.with {
            for cte in &with.cte_tables {
                let name = ident(&cte.alias.name);
                if with.recursive {
                    self.ctes.push(name.clone());
                }
                self.query(&cte.query, &[]);
                if !with.recursive {
                    self.ctes.push(name);
                }
            }
        }
        let mut locking = inherited.to_vec();
        for lc in &q.locks {
            locking.push(self.lock_clause(lc));
        }
        let order_by: Vec<&Expr> = match q.order_by.as_ref().map(|o| &o.kind) {
            Some(sqlparser::ast::OrderByKind::Expressions(v)) => {
                v.iter().map(|o| &o.expr).collect()
            }
            _ => Vec::new(),
        };
        self.set_expr(&q.body, &locking, &order_by);
        for e in &order_by {
            self.expr(e);
        }
        self.ctes.truncate(scope);
        self.leave();
    }

    /// The true strength of a parsed locking clause (sqlparser only knows UPDATE and SHARE; the
    /// template rewrite recorded what was written).
    fn lock_clause(&mut self, lc: &LockClause) -> RowLocking {
        let of = lc.of.as_ref().and_then(last_ident);
        let written_update = matches!(lc.lock_type, LockType::Update);
        let found = self.clauses.iter_mut().find(|(c, used)| {
            !*used
                && c.of == of
                && matches!(c.strength, Row::Update | Row::NoKeyUpdate) == written_update
        });
        let strength = match found {
            Some((c, used)) => {
                *used = true;
                c.strength
            }
            None if written_update => Row::Update,
            None => Row::Share,
        };
        RowLocking { strength, of }
    }

    fn set_expr(&mut self, body: &SetExpr, locking: &[RowLocking], order_by: &[&Expr]) {
        match body {
            SetExpr::Select(s) => self.select(s, locking, order_by),
            SetExpr::Query(q) => self.query(q, locking),
            SetExpr::SetOperation { left, right, .. } => {
                self.set_expr(left, locking, &[]);
                self.set_expr(right, locking, &[]);
            }
            SetExpr::Values(v) => {
                for row in &v.rows {
                    for e in &row.content {
                        self.expr(e);
                    }
                }
            }
            SetExpr::Insert(st)
            | SetExpr::Update(st)
            | SetExpr::Delete(st)
            | SetExpr::Merge(st) => self.statement(st),
            SetExpr::Table(t) => {
                if let Some(name) = &t.table_name {
                    let parts: Vec<(&str, bool)> = t
                        .schema_name
                        .iter()
                        .chain(std::iter::once(name))
                        .map(|i| (i.value.as_str(), i.quote_style.is_some()))
                        .collect();
                    let folded = name.value.to_lowercase();
                    if t.schema_name.is_some() || !self.ctes.contains(&folded) {
                        self.locks
                            .table(&RelationName::from_parts(parts), Mode::AccessShare);
                    }
                }
            }
        }
    }

    fn select(&mut self, s: &Select, locking: &[RowLocking], order_by: &[&Expr]) {
        let mut from = Vec::new();
        for twj in &s.from {
            self.table_with_joins(twj, locking, &mut from);
        }
        for item in &s.projection {
            match item {
                SelectItem::UnnamedExpr(e)
                | SelectItem::ExprWithAlias { expr: e, .. }
                | SelectItem::ExprWithAliases { expr: e, .. } => self.expr(e),
                _ => {}
            }
        }
        if let Some(w) = &s.selection {
            self.expr(w);
        }
        if let GroupByExpr::Expressions(v, _) = &s.group_by {
            for e in v {
                self.expr(e);
            }
        }
        if let Some(h) = &s.having {
            self.expr(h);
        }
        // `SELECT … INTO t` creates t: no lock others can wait for (see `ddl::create_table`).
        let unqualified = if from.len() == 1 {
            Unqualified::Ours
        } else {
            Unqualified::IfKnown
        };
        for f in &from {
            if let Some(strength) = f.strength {
                let key = self.key_predicate(s.selection.as_ref(), f, unqualified, order_by);
                self.locks.rows(&f.relation, strength, key);
            }
        }
    }

    pub(crate) fn table_with_joins(
        &mut self,
        twj: &TableWithJoins,
        locking: &[RowLocking],
        out: &mut Vec<FromRel>,
    ) {
        self.table_factor(&twj.relation, locking, out);
        for j in &twj.joins {
            self.table_factor(&j.relation, locking, out);
            if let Some(JoinConstraint::On(e)) = join_constraint(&j.join_operator) {
                self.expr(e);
            }
        }
    }

    pub(crate) fn table_factor(
        &mut self,
        tf: &TableFactor,
        locking: &[RowLocking],
        out: &mut Vec<FromRel>,
    ) {
        match tf {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                if let Some(args) = args {
                    // A set-returning function in FROM (`generate_series(1, 3)`), not a relation.
                    self.function_args(&args.args);
                    return;
                }
                let Some(relation) = self.relation(name) else {
                    return;
                };
                let refname = alias
                    .as_ref()
                    .map(|a| ident(&a.name))
                    .or_else(|| last_ident(name))
                    .unwrap_or_default();
                let strength = strongest(locking, &refname);
                // 13.3.1: SELECT … FOR <lock strength> takes ROW SHARE on the locked tables.
                let mode = if strength.is_some() {
                    Mode::RowShare
                } else {
                    Mode::AccessShare
                };
                self.locks.table(&relation, mode);
                out.push(FromRel {
                    relation,
                    refname,
                    strength,
                });
            }
            TableFactor::Derived {
                subquery, alias, ..
            } => {
                // A locking clause that names the subquery (or none) applies to all its tables.
                let refname = alias.as_ref().map(|a| ident(&a.name)).unwrap_or_default();
                let inner: Vec<RowLocking> = strongest(locking, &refname)
                    .map(|strength| vec![RowLocking { strength, of: None }])
                    .unwrap_or_default();
                self.query(subquery, &inner);
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => self.table_with_joins(table_with_joins, locking, out),
            TableFactor::Function { args, .. } => self.function_args(args),
            TableFactor::TableFunction { expr, .. } => self.expr(expr),
            TableFactor::UNNEST { array_exprs, .. } => {
                for e in array_exprs {
                    self.expr(e);
                }
            }
            TableFactor::JsonTable { json_expr, .. } => self.expr(json_expr),
            _ => {}
        }
    }

    fn function_args(&mut self, args: &[FunctionArg]) {
        for a in args {
            let (FunctionArg::Named { arg, .. }
            | FunctionArg::ExprNamed { arg, .. }
            | FunctionArg::Unnamed(arg)) = a;
            if let FunctionArgExpr::Expr(e) = arg {
                self.expr(e);
            }
        }
    }

    fn function(&mut self, f: &Function) {
        let name = last_ident(&f.name).unwrap_or_default();
        if let Some((_, mode)) = ADVISORY_FUNCTIONS.iter().find(|(n, _)| *n == name)
            && let FunctionArguments::List(list) = &f.args
        {
            let key: Vec<String> = list.args.iter().map(arg_text).collect();
            self.locks.advisory(key.join(","), *mode);
        }
        match &f.args {
            FunctionArguments::Subquery(q) => self.query(q, &[]),
            FunctionArguments::List(list) => self.function_args(&list.args),
            FunctionArguments::None => {}
        }
        if let Some(filter) = &f.filter {
            self.expr(filter);
        }
    }

    /// Finds subqueries and advisory-lock calls in an expression.
    pub(crate) fn expr(&mut self, e: &Expr) {
        // Operator chains (`a OR b OR c …`) are left-deep and unbounded: walk their spine in a loop.
        let mut spine = Vec::new();
        let mut cur = e;
        while let Expr::BinaryOp { left, right, .. } = cur {
            spine.push(&**right);
            cur = left;
        }
        if !spine.is_empty() {
            self.expr(cur);
            for r in spine.into_iter().rev() {
                self.expr(r);
            }
            return;
        }
        if !self.enter() {
            return;
        }
        match e {
            Expr::Subquery(q) | Expr::Exists { subquery: q, .. } => self.query(q, &[]),
            Expr::In { expr, target, .. } => {
                self.expr(expr);
                match target {
                    InTarget::List(list) => list.iter().for_each(|x| self.expr(x)),
                    InTarget::Subquery(q) => self.query(q, &[]),
                    InTarget::Unnest(x) => self.expr(x),
                    InTarget::Table { .. } => {}
                }
            }
            Expr::Function(f) => self.function(f),
            Expr::Nested(x)
            | Expr::IsFalse(x)
            | Expr::IsNotFalse(x)
            | Expr::IsTrue(x)
            | Expr::IsNotTrue(x)
            | Expr::IsNull(x)
            | Expr::IsNotNull(x)
            | Expr::IsUnknown(x)
            | Expr::IsNotUnknown(x)
            | Expr::UnaryOp { expr: x, .. }
            | Expr::Cast { expr: x, .. }
            | Expr::Convert { expr: x, .. }
            | Expr::Extract { expr: x, .. }
            | Expr::Ceil { expr: x, .. }
            | Expr::Floor { expr: x, .. }
            | Expr::Collate { expr: x, .. }
            | Expr::Named { expr: x, .. }
            | Expr::Prefixed { value: x, .. }
            | Expr::IsJson { expr: x, .. }
            | Expr::IsNormalized { expr: x, .. }
            | Expr::JsonAccess { value: x, .. }
            | Expr::CompoundFieldAccess { root: x, .. }
            | Expr::OuterJoin(x)
            | Expr::Prior(x) => self.expr(x),
            Expr::IsDistinctFrom(a, b)
            | Expr::IsNotDistinctFrom(a, b)
            | Expr::AnyOp {
                left: a, right: b, ..
            }
            | Expr::AllOp {
                left: a, right: b, ..
            }
            | Expr::AtTimeZone {
                timestamp: a,
                time_zone: b,
            }
            | Expr::Position { expr: a, r#in: b }
            | Expr::Like {
                expr: a,
                pattern: b,
                ..
            }
            | Expr::ILike {
                expr: a,
                pattern: b,
                ..
            }
            | Expr::SimilarTo {
                expr: a,
                pattern: b,
                ..
            }
            | Expr::RLike {
                expr: a,
                pattern: b,
                ..
            } => {
                self.expr(a);
                self.expr(b);
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                self.expr(expr);
                self.expr(low);
                self.expr(high);
            }
            Expr::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                self.expr(expr);
                substring_from
                    .iter()
                    .chain(substring_for)
                    .for_each(|x| self.expr(x));
            }
            Expr::Trim {
                expr, trim_what, ..
            } => {
                self.expr(expr);
                trim_what.iter().for_each(|x| self.expr(x));
            }
            Expr::Overlay {
                expr,
                overlay_what,
                overlay_from,
                overlay_for,
            } => {
                self.expr(expr);
                self.expr(overlay_what);
                self.expr(overlay_from);
                overlay_for.iter().for_each(|x| self.expr(x));
            }
            Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                operand.iter().for_each(|x| self.expr(x));
                for c in conditions {
                    self.expr(&c.condition);
                    self.expr(&c.result);
                }
                else_result.iter().for_each(|x| self.expr(x));
            }
            Expr::Tuple(v) => v.iter().for_each(|x| self.expr(x)),
            Expr::Array(a) => a.elem.iter().for_each(|x| self.expr(x)),
            Expr::GroupingSets(v) | Expr::Cube(v) | Expr::Rollup(v) => {
                v.iter().flatten().for_each(|x| self.expr(x));
            }
            _ => {}
        }
        self.leave();
    }

    // ----- DML ---------------------------------------------------------------------------------

    fn insert(&mut self, ins: &Insert) {
        let TableObject::TableName(name) = &ins.table else {
            return;
        };
        let Some(rel) = self.relation(name) else {
            return;
        };
        // 13.3.1: INSERT takes ROW EXCLUSIVE on its target.
        self.locks.table(&rel, Mode::RowExclusive);
        if let Some(src) = &ins.source {
            self.query(src, &[]);
        }
        let columns: Vec<String> = if ins.source.is_none() {
            Vec::new() // DEFAULT VALUES
        } else if ins.columns.is_empty() {
            self.schema
                .table(&rel)
                .map(|t| t.columns.iter().map(|c| c.name.to_string()).collect())
                .unwrap_or_default()
        } else {
            ins.columns.iter().filter_map(last_ident).collect()
        };
        let given = inserted_values(&columns, ins.source.as_deref());
        if let Some(OnInsert::OnConflict(oc)) = &ins.on
            && let OnConflictAction::DoUpdate(du) = &oc.action
        {
            for a in &du.assignments {
                self.expr(&a.value);
            }
            if let Some(s) = &du.selection {
                self.expr(s);
            }
            // The conflicting row is locked like an UPDATE would lock it.
            let set = assigned(&du.assignments, Some(&given));
            let mode = self.update_mode(&rel, &set);
            let key_cols = match &oc.conflict_target {
                Some(ConflictTarget::Columns { columns, .. }) => {
                    columns.iter().map(ident).collect()
                }
                _ => self.primary_key(&rel),
            };
            let key = key_from_given(&key_cols, &given, self.is_unique(&rel, &key_cols));
            self.locks.rows(&rel, mode, key.clone());
            fk::update_checks(self, &rel, &set);
            fk::update_actions(self, &rel, &set, key.as_ref());
        }
        self.returning(ins.returning.as_deref());
        fk::insert_checks(self, &rel, &given);
    }

    fn update(&mut self, u: &Update) {
        let TableFactor::Table { name, alias, .. } = &u.table.relation else {
            return;
        };
        let Some(rel) = self.relation(name) else {
            return;
        };
        // 13.3.1: UPDATE takes ROW EXCLUSIVE on its target, ACCESS SHARE on tables it only reads.
        self.locks.table(&rel, Mode::RowExclusive);
        let mut from = Vec::new();
        if let Some(UpdateTableFromKind::BeforeSet(v) | UpdateTableFromKind::AfterSet(v)) = &u.from
        {
            for twj in v {
                self.table_with_joins(twj, &[], &mut from);
            }
        }
        for a in &u.assignments {
            self.expr(&a.value);
        }
        if let Some(s) = &u.selection {
            self.expr(s);
        }
        self.returning(u.returning.as_deref());
        let target = FromRel {
            refname: alias
                .as_ref()
                .map(|a| ident(&a.name))
                .or_else(|| last_ident(name))
                .unwrap_or_default(),
            relation: rel.clone(),
            strength: None,
        };
        let set = assigned(&u.assignments, None);
        // 13.3.2: FOR UPDATE when a key column changes, else FOR NO KEY UPDATE.
        let mode = self.update_mode(&rel, &set);
        let key = self.key_predicate(u.selection.as_ref(), &target, Unqualified::Ours, &[]);
        self.locks.rows(&rel, mode, key.clone());
        fk::update_checks(self, &rel, &set);
        fk::update_actions(self, &rel, &set, key.as_ref());
    }

    fn delete(&mut self, d: &Delete) {
        let (FromTable::WithFromKeyword(tables) | FromTable::WithoutKeyword(tables)) = &d.from;
        let Some(TableFactor::Table { name, alias, .. }) = tables.first().map(|t| &t.relation)
        else {
            return;
        };
        let Some(rel) = self.relation(name) else {
            return;
        };
        self.locks.table(&rel, Mode::RowExclusive);
        let mut from = Vec::new();
        for twj in d.using.iter().flatten() {
            self.table_with_joins(twj, &[], &mut from);
        }
        if let Some(s) = &d.selection {
            self.expr(s);
        }
        self.returning(d.returning.as_deref());
        let target = FromRel {
            refname: alias
                .as_ref()
                .map(|a| ident(&a.name))
                .or_else(|| last_ident(name))
                .unwrap_or_default(),
            relation: rel.clone(),
            strength: None,
        };
        let key = self.key_predicate(d.selection.as_ref(), &target, Unqualified::Ours, &[]);
        // 13.3.2: DELETE locks its rows FOR UPDATE.
        self.locks.rows(&rel, Row::Update, key.clone());
        fk::delete_actions(self, &rel, key.as_ref());
    }

    fn merge(&mut self, m: &Merge) {
        let TableFactor::Table { name, .. } = &m.table else {
            return;
        };
        let Some(rel) = self.relation(name) else {
            return;
        };
        self.locks.table(&rel, Mode::RowExclusive);
        let mut from = Vec::new();
        self.table_factor(&m.source, &[], &mut from);
        self.expr(&m.on);
        for clause in &m.clauses {
            if let Some(p) = &clause.predicate {
                self.expr(p);
            }
            match &clause.action {
                MergeAction::Update(u) => {
                    if let MergeUpdateKind::Set(assignments) = &u.kind {
                        for a in assignments {
                            self.expr(&a.value);
                        }
                        let set = assigned(assignments, None);
                        let mode = self.update_mode(&rel, &set);
                        self.locks.rows(&rel, mode, None);
                        fk::update_checks(self, &rel, &set);
                        fk::update_actions(self, &rel, &set, None);
                    }
                }
                MergeAction::Delete { .. } => {
                    self.locks.rows(&rel, Row::Update, None);
                    fk::delete_actions(self, &rel, None);
                }
                MergeAction::Insert(ins) => {
                    let columns: Vec<String> = if ins.columns.is_empty() {
                        self.schema
                            .table(&rel)
                            .map(|t| t.columns.iter().map(|c| c.name.to_string()).collect())
                            .unwrap_or_default()
                    } else {
                        ins.columns.iter().filter_map(last_ident).collect()
                    };
                    let rows: Vec<Vec<Expr>> = match &ins.kind {
                        MergeInsertKind::Values(v) => {
                            v.rows.iter().map(|r| r.content.clone()).collect()
                        }
                        _ => Vec::new(),
                    };
                    for e in rows.iter().flatten() {
                        self.expr(e);
                    }
                    let given = given_from_rows(&columns, Some(&rows));
                    fk::insert_checks(self, &rel, &given);
                }
                MergeAction::DoNothing { .. } => {}
            }
        }
    }

    fn returning(&mut self, items: Option<&[SelectItem]>) {
        for item in items.unwrap_or_default() {
            if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } = item {
                self.expr(e);
            }
        }
    }

    /// Every column of a known table, with unknown values (COPY FROM).
    fn all_columns_unknown(&self, rel: &RelationName) -> Given {
        self.schema
            .table(rel)
            .map(|t| {
                t.columns
                    .iter()
                    .map(|c| (c.name.to_string(), None))
                    .collect()
            })
            .unwrap_or_default()
    }

    // ----- keys --------------------------------------------------------------------------------

    /// Whether `column` is part of a key a foreign key could reference (schema), or is `id` when
    /// the table is unknown.
    pub(crate) fn is_key_column(&self, rel: &RelationName, column: &str) -> bool {
        match self.schema.table(rel) {
            Some(t) => t.is_key_column(column),
            None => column == "id",
        }
    }

    /// Whether `columns` cover a primary or unique key (schema), or include `id` when unknown.
    pub(crate) fn is_unique(&self, rel: &RelationName, columns: &[String]) -> bool {
        let cols: Vec<&str> = columns.iter().map(String::as_str).collect();
        match self.schema.table(rel) {
            Some(t) => t.is_unique_key(&cols),
            None => cols.contains(&"id"),
        }
    }

    /// The primary key columns (schema), or `id`.
    pub(crate) fn primary_key(&self, rel: &RelationName) -> Vec<String> {
        match self.schema.table(rel) {
            Some(t) if !t.primary_key.is_empty() => {
                t.primary_key.iter().map(|c| c.to_string()).collect()
            }
            _ => vec!["id".to_string()],
        }
    }

    fn update_mode(&self, rel: &RelationName, set: &Given) -> RowLockMode {
        if set.iter().any(|(c, _)| self.is_key_column(rel, c)) {
            Row::Update
        } else {
            Row::NoKeyUpdate
        }
    }

    fn has_column(&self, rel: &RelationName, column: &str, unqualified: Unqualified) -> bool {
        match self.schema.table(rel) {
            Some(t) if !t.columns.is_empty() => t.column(column).is_some(),
            _ => unqualified == Unqualified::Ours,
        }
    }

    /// The column of `target` that `e` names, if it names one.
    fn column_of(&self, e: &Expr, target: &FromRel, unqualified: Unqualified) -> Option<String> {
        match e {
            Expr::Identifier(i) => {
                let c = ident(i);
                self.has_column(&target.relation, &c, unqualified)
                    .then_some(c)
            }
            Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                let qualifier = ident(&parts[parts.len() - 2]);
                let bare = target
                    .relation
                    .as_str()
                    .rsplit('.')
                    .next()
                    .unwrap_or_default();
                (qualifier == target.refname || qualifier == bare)
                    .then(|| ident(&parts[parts.len() - 1]))
            }
            Expr::Nested(x) => self.column_of(x, target, unqualified),
            _ => None,
        }
    }

    /// The key predicate a `WHERE` clause pins on `target` (see [`KeyPredicate`]).
    fn key_predicate(
        &self,
        selection: Option<&Expr>,
        target: &FromRel,
        unqualified: Unqualified,
        order_by: &[&Expr],
    ) -> Option<KeyPredicate> {
        let mut eq: Vec<(String, String)> = Vec::new();
        let mut sets: Vec<(String, String)> = Vec::new();
        for c in conjuncts(selection?) {
            match c {
                Expr::BinaryOp { left, op, right } if is_equality(op) => {
                    if let (Some(col), Some(v)) =
                        (self.column_of(left, target, unqualified), value_text(right))
                    {
                        eq.push((col, v));
                    } else if let (Some(col), Some(v)) =
                        (self.column_of(right, target, unqualified), value_text(left))
                    {
                        eq.push((col, v));
                    }
                }
                Expr::BinaryOp { left, op, right }
                    if matches!(
                        op,
                        BinaryOperator::Lt
                            | BinaryOperator::LtEq
                            | BinaryOperator::Gt
                            | BinaryOperator::GtEq
                    ) =>
                {
                    if let (Some(col), Some(v)) =
                        (self.column_of(left, target, unqualified), value_text(right))
                    {
                        sets.push((col, format!("{op} {v}")));
                    }
                }
                Expr::In {
                    expr,
                    target: InTarget::List(list),
                    negated: false,
                    ..
                } => {
                    if let Some(col) = self.column_of(expr, target, unqualified) {
                        let vals: Option<Vec<String>> = list.iter().map(value_text).collect();
                        let text = vals
                            .map(|v| format!("({})", v.join(", ")))
                            .unwrap_or_else(|| "(…)".into());
                        sets.push((col, text));
                    }
                }
                Expr::In {
                    expr,
                    target: InTarget::Subquery(_),
                    negated: false,
                    ..
                } => {
                    if let Some(col) = self.column_of(expr, target, unqualified) {
                        sets.push((col, "(SELECT …)".into()));
                    }
                }
                Expr::AnyOp {
                    left,
                    compare_op,
                    right,
                    ..
                } if is_equality(compare_op) => {
                    if let Some(col) = self.column_of(left, target, unqualified) {
                        sets.push((col, value_text(right).unwrap_or_else(|| "(…)".into())));
                    }
                }
                Expr::Between {
                    expr,
                    low,
                    high,
                    negated: false,
                } => {
                    if let (Some(col), Some(lo), Some(hi)) = (
                        self.column_of(expr, target, unqualified),
                        value_text(low),
                        value_text(high),
                    ) {
                        sets.push((col, format!("BETWEEN {lo} AND {hi}")));
                    }
                }
                _ => {}
            }
        }
        let eq_cols: Vec<String> = eq.iter().map(|(c, _)| c.clone()).collect();
        let key: Option<Vec<String>> = match self.schema.table(&target.relation) {
            Some(t) => std::iter::once(&t.primary_key)
                .chain(&t.unique_keys)
                .find(|k| !k.is_empty() && k.iter().all(|c| eq_cols.iter().any(|e| e == &**c)))
                .map(|k| k.iter().map(|c| c.to_string()).collect()),
            None => eq_cols
                .iter()
                .any(|c| c == "id")
                .then(|| vec!["id".to_string()]),
        };
        let mut filters = Vec::new();
        let (pairs, single_row) = match key {
            Some(k) => {
                let (pairs, rest): (Vec<_>, Vec<_>) =
                    eq.into_iter().partition(|(c, _)| k.contains(c));
                filters = rest;
                (pairs, true)
            }
            None if eq.is_empty() && sets.is_empty() => return None,
            None => (eq.into_iter().chain(sets).collect(), false),
        };
        let first_order = order_by
            .first()
            .and_then(|e| self.column_of(e, target, unqualified));
        let ordered = first_order.is_some_and(|c| {
            pairs.iter().any(|(p, _)| *p == c) || self.is_key_column(&target.relation, &c)
        });
        Some(KeyPredicate {
            columns: pairs.iter().map(|(c, _)| Arc::from(c.as_str())).collect(),
            values: pairs.iter().map(|(_, v)| Arc::from(v.as_str())).collect(),
            single_row,
            ordered,
            filters: filters
                .iter()
                .map(|(c, v)| (Arc::from(c.as_str()), Arc::from(v.as_str())))
                .collect(),
        })
    }
}

fn join_constraint(op: &JoinOperator) -> Option<&JoinConstraint> {
    use JoinOperator as J;
    match op {
        J::Join(c)
        | J::Inner(c)
        | J::Left(c)
        | J::LeftOuter(c)
        | J::Right(c)
        | J::RightOuter(c)
        | J::FullOuter(c)
        | J::CrossJoin(c)
        | J::Semi(c)
        | J::LeftSemi(c)
        | J::RightSemi(c)
        | J::Anti(c)
        | J::LeftAnti(c)
        | J::RightAnti(c)
        | J::StraightJoin(c)
        | J::AsOf { constraint: c, .. } => Some(c),
        _ => None,
    }
}

/// The strongest locking clause that applies to a relation referred to as `refname`.
fn strongest(locking: &[RowLocking], refname: &str) -> Option<RowLockMode> {
    locking
        .iter()
        .filter(|l| l.of.as_deref().is_none_or(|of| of == refname))
        .map(|l| l.strength)
        .max()
}

/// `=`, including the `OPERATOR(pg_catalog.=)` spelling of PostgreSQL's own RI queries.
fn is_equality(op: &BinaryOperator) -> bool {
    match op {
        BinaryOperator::Eq => true,
        BinaryOperator::PGCustomBinaryOperator(parts) => parts.last().is_some_and(|p| p == "="),
        _ => false,
    }
}

/// The `AND`-ed conditions of a `WHERE` clause (iteratively: chains can be long).
fn conjuncts(e: &Expr) -> Vec<&Expr> {
    let mut out = Vec::new();
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        match e {
            Expr::BinaryOp {
                left,
                op: BinaryOperator::And,
                right,
            } => {
                stack.push(right);
                stack.push(left);
            }
            Expr::Nested(inner) => stack.push(inner),
            other => out.push(other),
        }
        if out.len() + stack.len() > 1_000 {
            break;
        }
    }
    out
}

/// Whether an expression is a value (no column references): literals, parameters, and
/// functions, casts and arithmetic over them.
fn is_value(e: &Expr, depth: usize) -> bool {
    if depth > 32 {
        return false;
    }
    let v = |x: &Expr| is_value(x, depth + 1);
    match e {
        Expr::Value(_) | Expr::TypedString(_) | Expr::Interval(_) => true,
        Expr::Cast { expr, .. }
        | Expr::Nested(expr)
        | Expr::UnaryOp { expr, .. }
        | Expr::Collate { expr, .. } => v(expr),
        Expr::BinaryOp { left, right, .. } => v(left) && v(right),
        Expr::Array(a) => a.elem.iter().all(v),
        Expr::Tuple(t) => t.iter().all(v),
        Expr::Function(f) => match &f.args {
            FunctionArguments::None => true,
            FunctionArguments::Subquery(_) => false,
            FunctionArguments::List(l) => l.args.iter().all(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(x))
                | FunctionArg::Named {
                    arg: FunctionArgExpr::Expr(x),
                    ..
                } => v(x),
                _ => false,
            }),
        },
        _ => false,
    }
}

/// The text of a function argument, unless it is an operator chain too deep to print (sqlparser
/// prints recursively).
fn arg_text(a: &FunctionArg) -> String {
    match a {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) if !is_shallow(e, 64) => "…".to_string(),
        other => other.to_string(),
    }
}

/// Whether an expression's operator chains are at most `budget` deep.
fn is_shallow(e: &Expr, budget: usize) -> bool {
    if budget == 0 {
        return false;
    }
    let s = |x: &Expr| is_shallow(x, budget - 1);
    match e {
        Expr::BinaryOp { left, right, .. } => s(left) && s(right),
        Expr::Nested(x) | Expr::UnaryOp { expr: x, .. } | Expr::Cast { expr: x, .. } => s(x),
        Expr::Function(f) => match &f.args {
            FunctionArguments::List(l) => l.args.iter().all(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => s(x),
                _ => true,
            }),
            _ => true,
        },
        Expr::Tuple(v) => v.iter().all(s),
        Expr::Array(a) => a.elem.iter().all(s),
        _ => true,
    }
}

/// The text of a value expression (markers included; re-attached later).
pub(crate) fn value_text(e: &Expr) -> Option<String> {
    is_value(e, 0).then(|| e.to_string())
}

/// The columns an assignment list sets, with the value each gets (`None`: not a plain value).
/// `EXCLUDED.col` (ON CONFLICT) takes the value inserted for `col` from `inserted`.
fn assigned(assignments: &[Assignment], inserted: Option<&Given>) -> Given {
    let mut out = Vec::new();
    for a in assignments {
        let value = match (&a.value, inserted) {
            (Expr::CompoundIdentifier(p), Some(ins))
                if p.len() == 2 && ident(&p[0]) == "excluded" =>
            {
                let col = ident(&p[1]);
                ins.iter()
                    .find(|(c, _)| *c == col)
                    .and_then(|(_, v)| v.clone())
            }
            (e, _) => value_text(e).map(|v| vec![v]),
        };
        match &a.target {
            AssignmentTarget::ColumnName(n) => {
                if let Some(c) = last_ident(n) {
                    out.push((c, value));
                }
            }
            AssignmentTarget::Tuple(names) => {
                for n in names {
                    if let Some(c) = last_ident(n) {
                        out.push((c, None));
                    }
                }
            }
        }
    }
    out
}

/// The values an INSERT gives each column: from `VALUES` rows when it has them.
fn inserted_values(columns: &[String], source: Option<&Query>) -> Given {
    let rows: Option<Vec<Vec<Expr>>> = source.and_then(|q| match q.body.as_ref() {
        SetExpr::Values(v) if q.with.is_none() => {
            Some(v.rows.iter().map(|r| r.content.clone()).collect())
        }
        _ => None,
    });
    given_from_rows(columns, rows.as_ref())
}

fn given_from_rows(columns: &[String], rows: Option<&Vec<Vec<Expr>>>) -> Given {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let vals = rows.filter(|r| !r.is_empty()).and_then(|rows| {
                rows.iter()
                    .map(|r| r.get(i).and_then(value_text))
                    .collect::<Option<Vec<_>>>()
            });
            (c.clone(), vals)
        })
        .collect()
}

/// A key predicate on `key_cols` from given values (`None` when a value is unknown).
pub(crate) fn key_from_given(
    key_cols: &[String],
    given: &Given,
    unique: bool,
) -> Option<KeyPredicate> {
    let mut values = Vec::new();
    let mut single = true;
    for k in key_cols {
        let vals = given.iter().find(|(c, _)| c == k)?.1.as_ref()?;
        if vals.len() == 1 {
            values.push(Arc::from(vals[0].as_str()));
        } else {
            single = false;
            values.push(Arc::from(format!("({})", vals.join(", ")).as_str()));
        }
    }
    if key_cols.is_empty() {
        return None;
    }
    Some(KeyPredicate {
        columns: key_cols.iter().map(|c| Arc::from(c.as_str())).collect(),
        values,
        single_row: single && unique,
        ordered: false,
        filters: Vec::new(),
    })
}
