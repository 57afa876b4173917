//! DDL and utility statements read from sqlparser's AST.
//!
//! Lock modes come from each command's reference page ("Notes" / lock level) and
//! chapter 13.3.1 "Table-Level Locks"; every entry is pinned against `pg_locks` by the oracle test
//! (PostgreSQL 15). Where the server takes more than the page says (an index build's SHARE on the
//! heap), the data follows the server. Locks on a relation the statement itself creates are left
//! out: no other session can see that relation before commit, so none can wait for them.

use super::fk;
use super::walk::{Walker, relation_name};
use lockgraph_core::{RelationName, Schema, TableLockMode};
use sqlparser::ast::{
    CascadeOption, ColumnOption, LockTableMode, ObjectType, Statement, TableConstraint,
};

use TableLockMode as Mode;

/// `LOCK TABLE … IN <mode> MODE` takes exactly that mode (sql-lock.html).
fn lock_table_mode(m: &LockTableMode) -> Mode {
    match m {
        LockTableMode::AccessShare => Mode::AccessShare,
        LockTableMode::RowShare => Mode::RowShare,
        LockTableMode::RowExclusive => Mode::RowExclusive,
        LockTableMode::ShareUpdateExclusive => Mode::ShareUpdateExclusive,
        LockTableMode::Share => Mode::Share,
        LockTableMode::ShareRowExclusive => Mode::ShareRowExclusive,
        LockTableMode::Exclusive => Mode::Exclusive,
        LockTableMode::AccessExclusive => Mode::AccessExclusive,
    }
}

/// Locks on a table whose index is rebuilt (TRUNCATE, CLUSTER, REINDEX, table rewrites): the
/// index build takes SHARE on the table (pg_locks, PostgreSQL 15).
pub(crate) const INDEX_BUILD: Mode = Mode::Share;

/// Statements that take no lock on user tables: session settings, notifications, and objects
/// other than tables. They are not problems.
fn takes_no_table_locks(st: &Statement) -> bool {
    matches!(
        st,
        Statement::Set(_)
            | Statement::ShowVariable { .. }
            | Statement::ShowVariables { .. }
            | Statement::ShowStatus { .. }
            | Statement::Discard { .. }
            | Statement::LISTEN { .. }
            | Statement::UNLISTEN { .. }
            | Statement::NOTIFY { .. }
            | Statement::Deallocate { .. }
            | Statement::Reset(_)
            | Statement::Fetch { .. }
            | Statement::Close { .. }
            | Statement::CreateSchema { .. }
            | Statement::CreateDatabase { .. }
            | Statement::CreateExtension(_)
            | Statement::DropExtension(_)
            | Statement::CreateFunction(_)
            | Statement::DropFunction(_)
            | Statement::CreateProcedure { .. }
            | Statement::DropProcedure { .. }
            | Statement::CreateRole(_)
            | Statement::AlterRole { .. }
            | Statement::CreateUser(_)
            | Statement::AlterUser(_)
            | Statement::Grant(_)
            | Statement::Revoke(_)
            | Statement::GrantRole(_)
            | Statement::RevokeRole(_)
            | Statement::AlterDefaultPrivileges(_)
            | Statement::CreateSequence { .. }
            | Statement::CreateType { .. }
            | Statement::AlterType(_)
            | Statement::CreateDomain(_)
            | Statement::DropDomain(_)
            | Statement::AlterSchema(_)
            | Statement::CreateCollation(_)
            | Statement::AlterFunction(_)
            | Statement::AlterIndex { .. }
            | Statement::AlterView(_)
            | Statement::Use(_)
            | Statement::StartTransaction { .. }
            | Statement::Commit { .. }
            | Statement::Rollback { .. }
            | Statement::Savepoint { .. }
            | Statement::ReleaseSavepoint { .. }
    )
}

pub(crate) fn statement(w: &mut Walker<'_>, st: &Statement) {
    match st {
        // sql-truncate.html: ACCESS EXCLUSIVE on each table (and, with CASCADE, on every table
        // referencing one); the indexes are rebuilt empty (SHARE on the table).
        Statement::Truncate(t) => {
            for target in &t.table_names {
                let Some(rel) = relation_name(&target.name) else {
                    continue;
                };
                let mut all = vec![rel.clone()];
                if matches!(t.cascade, Some(CascadeOption::Cascade)) {
                    all.extend(fk::referencing_closure(w, &rel));
                }
                for r in all {
                    w.locks.table(&r, Mode::AccessExclusive);
                    w.locks.table(&r, INDEX_BUILD);
                }
            }
        }
        Statement::Lock(l) => {
            let mode = l
                .lock_mode
                .as_ref()
                .map(lock_table_mode)
                .unwrap_or(Mode::AccessExclusive);
            for t in &l.tables {
                if let Some(rel) = relation_name(&t.name) {
                    w.locks.table(&rel, mode);
                }
            }
        }
        // sql-createindex.html: SHARE; CONCURRENTLY: SHARE UPDATE EXCLUSIVE.
        Statement::CreateIndex(ci) => {
            if let Some(rel) = relation_name(&ci.table_name) {
                let mode = if ci.concurrently {
                    Mode::ShareUpdateExclusive
                } else {
                    Mode::Share
                };
                w.locks.table(&rel, mode);
            }
        }
        Statement::CreateTable(ct) => create_table(w, ct),
        // CREATE [MATERIALIZED] VIEW reads its query's tables (ACCESS SHARE); the new relation's
        // own locks are left out (see `create_table`).
        Statement::CreateView(cv) => {
            w.created.extend(relation_name(&cv.name));
            w.query(&cv.query, &[])
        }
        Statement::Drop {
            object_type,
            names,
            cascade,
            ..
        } => drop(w, *object_type, names, *cascade),
        _ if takes_no_table_locks(st) => {}
        _ => {
            let message = format!(
                "lockgraph does not model the locks of `{}` statements",
                w.lead
            );
            w.unmodelled(message);
        }
    }
}

/// CREATE TABLE locks the tables it reads or attaches to. The new table's own locks (ACCESS
/// EXCLUSIVE, SHARE for its index builds, …) are left out: a relation is invisible to other
/// sessions until its creating transaction commits, so nobody can ever wait for them, and
/// modelling them would only add lock-order edges that cannot close a cycle.
fn create_table(w: &mut Walker<'_>, ct: &sqlparser::ast::CreateTable) {
    w.created.extend(relation_name(&ct.name));
    // PARTITION OF takes ACCESS EXCLUSIVE on the parent (sql-createtable.html).
    if let Some(parent) = ct.partition_of.as_ref().and_then(relation_name) {
        w.locks.table(&parent, Mode::AccessExclusive);
    }
    // INHERITS takes SHARE UPDATE EXCLUSIVE on each parent.
    for parent in ct.inherits.iter().flatten().filter_map(relation_name) {
        w.locks.table(&parent, Mode::ShareUpdateExclusive);
    }
    // LIKE reads the source.
    if let Some(like) = &ct.like {
        let (sqlparser::ast::CreateTableLikeKind::Parenthesized(l)
        | sqlparser::ast::CreateTableLikeKind::Plain(l)) = like;
        if let Some(src) = relation_name(&l.name) {
            w.locks.table(&src, Mode::AccessShare);
        }
    }
    if let Some(q) = &ct.query {
        w.query(q, &[]);
    }
    let mut parents: Vec<RelationName> = Vec::new();
    for c in &ct.columns {
        for o in &c.options {
            if let ColumnOption::ForeignKey(f) = &o.option {
                parents.extend(relation_name(&f.foreign_table));
            }
        }
    }
    for con in &ct.constraints {
        if let TableConstraint::ForeignKey(f) = con {
            parents.extend(relation_name(&f.foreign_table));
        }
    }
    // A foreign key takes SHARE ROW EXCLUSIVE on the referenced table (sql-altertable.html),
    // which is also opened for reading (ACCESS SHARE) while the constraint is created.
    for p in parents {
        w.locks.table(&p, Mode::AccessShare);
        w.locks.table(&p, Mode::ShareRowExclusive);
    }
}

fn drop(
    w: &mut Walker<'_>,
    object_type: ObjectType,
    names: &[sqlparser::ast::ObjectName],
    cascade: bool,
) {
    match object_type {
        // sql-droptable.html: ACCESS EXCLUSIVE on the table; dropping its foreign keys removes
        // their triggers from the referenced tables (ACCESS EXCLUSIVE there too), and CASCADE drops
        // the foreign keys of referencing tables (ACCESS EXCLUSIVE on them).
        ObjectType::Table => {
            for rel in names.iter().filter_map(relation_name) {
                w.locks.table(&rel, Mode::AccessExclusive);
                for p in fk::parents_of(w, &rel) {
                    w.locks.table(&p, Mode::AccessExclusive);
                }
                if cascade {
                    let children: Vec<RelationName> = w
                        .schema
                        .referencing(&rel)
                        .map(|(c, _)| c.clone())
                        .filter(|c| *c != rel)
                        .collect();
                    for c in children {
                        w.locks.table(&c, Mode::AccessExclusive);
                    }
                }
            }
        }
        ObjectType::View | ObjectType::MaterializedView => {
            for rel in names.iter().filter_map(relation_name) {
                w.locks.table(&rel, Mode::AccessExclusive);
            }
        }
        // sql-dropindex.html: ACCESS EXCLUSIVE on the index's table.
        ObjectType::Index => {
            for idx in names.iter().filter_map(relation_name) {
                let table = index_table(w.schema, &idx).unwrap_or(idx);
                w.locks.table(&table, Mode::AccessExclusive);
            }
        }
        ObjectType::Schema if cascade => {
            w.unmodelled("DROP SCHEMA … CASCADE drops tables lockgraph cannot list".into());
        }
        _ => {}
    }
}

/// The table an index belongs to, guessed from PostgreSQL's default index names
/// (`<table>_pkey`, `<table>_<columns>_key`, `<table>_<columns>_idx`, `…_excl`) against the
/// tables in the schema. Falls back to the index itself (which is what `pg_locks` shows it as).
pub(crate) fn index_table(schema: &Schema, index: &RelationName) -> Option<RelationName> {
    let full = index.as_str();
    let (prefix, name) = match full.rsplit_once('.') {
        Some((s, n)) => (format!("{s}."), n),
        None => (String::new(), full),
    };
    let stem = ["_pkey", "_key", "_idx", "_excl"]
        .iter()
        .find_map(|s| name.strip_suffix(s))?;
    let mut cut = stem.len();
    loop {
        let candidate = RelationName::new(format!("{prefix}{}", &stem[..cut]));
        if schema.contains(&candidate) {
            return Some(candidate);
        }
        cut = stem[..cut].rfind('_')?;
    }
}
