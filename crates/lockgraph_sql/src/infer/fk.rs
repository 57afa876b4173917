//! Implicit locks of foreign keys (PostgreSQL's RI triggers, `ri_triggers.c`), checked against
//! `pg_locks` by the oracle test:
//!
//! | change | lock |
//! |---|---|
//! | insert / update of a child's FK columns | parent ROW SHARE + parent row FOR KEY SHARE (`SELECT 1 FROM ONLY parent x WHERE id = $1 FOR KEY SHARE OF x`) |
//! | delete / key update of a parent, `CASCADE` | child ROW EXCLUSIVE + child rows FOR UPDATE (delete) or FOR [NO KEY] UPDATE (update); a cascaded key update re-checks the parent (ROW SHARE) |
//! | … `SET NULL` | child ROW EXCLUSIVE + child rows FOR [NO KEY] UPDATE |
//! | … `SET DEFAULT` | as `SET NULL`, plus a re-check of the child (ROW SHARE) and a check of the parent for the default value (ROW SHARE) |
//! | … `NO ACTION` / `RESTRICT` | child ROW SHARE (`SELECT 1 FROM ONLY child x WHERE fk = $1 FOR KEY SHARE OF x`); `NO ACTION` also ROW SHARE on the parent (it first looks for another parent row with the old key) |
//!
//! The model assumes the statement changes at least one row and that referencing rows exist:
//! triggers fire per changed row, and cascades act only on rows that reference it.

use super::walk::{Given, Walker, key_from_given};
use lockgraph_core::{
    ForeignKey, Implicit, KeyPredicate, ReferentialAction, RelationName, RowLockMode, TableLockMode,
};

/// How deep cascades are followed (a chain of `ON DELETE CASCADE` tables).
const MAX_CASCADE_DEPTH: usize = 8;

/// The parent columns a foreign key references: as written, else the parent's primary key, else `id`.
fn referenced_columns(w: &Walker<'_>, fk: &ForeignKey) -> Vec<String> {
    if !fk.parent_columns.is_empty() {
        return fk.parent_columns.iter().map(|c| c.to_string()).collect();
    }
    w.primary_key(&fk.parent)
}

fn check(from: &RelationName) -> Implicit {
    Implicit::ForeignKeyCheck {
        from: from.as_str().into(),
    }
}

fn action(from: &RelationName) -> Implicit {
    Implicit::ForeignKeyAction {
        from: from.as_str().into(),
    }
}

/// The check a parent-side change makes on referencing rows (NO ACTION / RESTRICT, and the
/// re-check after SET DEFAULT).
fn restrict_check(parent: &RelationName, child: &RelationName) -> Implicit {
    Implicit::Other {
        reason: format!(
            "foreign-key check for {child} rows still referencing changed {parent} rows"
        )
        .into(),
    }
}

/// Locks the foreign-key checks of an INSERT take: one per foreign key whose columns are all
/// given a non-NULL value (MATCH SIMPLE skips a row with a NULL key column), or defaulted.
pub(crate) fn insert_checks(w: &mut Walker<'_>, child: &RelationName, given: &Given) {
    let Some(table) = w.schema.table(child) else {
        return;
    };
    for fk in table.foreign_keys.clone() {
        let mut values: Given = Vec::new();
        let mut skip = false;
        for col in &fk.columns {
            match given.iter().find(|(c, _)| **c == **col) {
                Some((_, Some(v))) if v.iter().all(|x| x.eq_ignore_ascii_case("null")) => {
                    skip = true
                }
                Some((c, v)) => values.push((c.clone(), v.clone())),
                // Not given: the column default, which is NULL unless one is declared.
                None if table.column(col).is_some_and(|c| c.has_default) => {
                    values.push((col.to_string(), None))
                }
                None => skip = true,
            }
        }
        if !skip {
            parent_check(w, child, &fk, &values);
        }
    }
}

/// Locks the foreign-key checks of an UPDATE take: one per foreign key one of whose columns is set.
pub(crate) fn update_checks(w: &mut Walker<'_>, child: &RelationName, set: &Given) {
    let Some(table) = w.schema.table(child) else {
        return;
    };
    for fk in table.foreign_keys.clone() {
        if !fk
            .columns
            .iter()
            .any(|c| set.iter().any(|(s, _)| **s == **c))
        {
            continue;
        }
        let values: Given = fk
            .columns
            .iter()
            .map(|c| {
                (
                    c.to_string(),
                    set.iter()
                        .find(|(s, _)| **s == **c)
                        .and_then(|(_, v)| v.clone()),
                )
            })
            .collect();
        let all_null = values.iter().all(|(_, v)| {
            v.as_ref()
                .is_some_and(|v| v.iter().all(|x| x.eq_ignore_ascii_case("null")))
        });
        if !all_null {
            parent_check(w, child, &fk, &values);
        }
    }
}

/// ROW SHARE on the parent and FOR KEY SHARE on the referenced row(s).
fn parent_check(w: &mut Walker<'_>, child: &RelationName, fk: &ForeignKey, values: &Given) {
    let parent_cols = referenced_columns(w, fk);
    // Values are given per child column; the key is on the matching parent columns.
    let renamed: Given = fk
        .columns
        .iter()
        .zip(&parent_cols)
        .map(|(c, p)| {
            (
                p.clone(),
                values
                    .iter()
                    .find(|(v, _)| **v == **c)
                    .and_then(|(_, x)| x.clone()),
            )
        })
        .collect();
    let key = key_from_given(&parent_cols, &renamed, true);
    let why = check(child);
    w.locks
        .implicit_table(&fk.parent, TableLockMode::RowShare, &why);
    w.locks
        .implicit_rows(&fk.parent, RowLockMode::KeyShare, key, &why);
}

/// The child rows a parent-side change reaches, when the parent's key predicate is on exactly
/// the referenced columns.
fn child_key(
    w: &Walker<'_>,
    child: &RelationName,
    fk: &ForeignKey,
    referenced: &[String],
    parent_key: Option<&KeyPredicate>,
) -> Option<KeyPredicate> {
    let k = parent_key?;
    if k.columns.len() != referenced.len()
        || !referenced
            .iter()
            .all(|r| k.columns.iter().any(|c| **c == **r))
    {
        return None;
    }
    let values = fk
        .columns
        .iter()
        .zip(referenced)
        .map(|(_, r)| {
            let i = k.columns.iter().position(|c| **c == **r).unwrap_or(0);
            k.values[i].clone()
        })
        .collect();
    let cols: Vec<String> = fk.columns.iter().map(|c| c.to_string()).collect();
    Some(KeyPredicate {
        columns: fk.columns.clone(),
        values,
        single_row: k.single_row && w.is_unique(child, &cols),
        ordered: false,
        filters: Vec::new(),
    })
}

/// The row mode an RI action's UPDATE of the child's FK columns takes.
fn child_update_mode(w: &Walker<'_>, child: &RelationName, fk: &ForeignKey) -> RowLockMode {
    if fk.columns.iter().any(|c| w.is_key_column(child, c)) {
        RowLockMode::Update
    } else {
        RowLockMode::NoKeyUpdate
    }
}

/// Locks the RI triggers of a DELETE on `parent` take on referencing tables, recursively for
/// `ON DELETE CASCADE` chains.
pub(crate) fn delete_actions(
    w: &mut Walker<'_>,
    parent: &RelationName,
    key: Option<&KeyPredicate>,
) {
    let mut visited = vec![parent.clone()];
    delete_actions_rec(w, parent, key, 0, &mut visited);
}

fn delete_actions_rec(
    w: &mut Walker<'_>,
    parent: &RelationName,
    key: Option<&KeyPredicate>,
    depth: usize,
    visited: &mut Vec<RelationName>,
) {
    let children: Vec<(RelationName, ForeignKey)> = w
        .schema
        .referencing(parent)
        .map(|(c, fk)| (c.clone(), fk.clone()))
        .collect();
    for (child, fk) in children {
        let referenced = referenced_columns(w, &fk);
        let ckey = child_key(w, &child, &fk, &referenced, key);
        let why = action(parent);
        match fk.on_delete {
            ReferentialAction::Cascade => {
                w.locks
                    .implicit_table(&child, TableLockMode::RowExclusive, &why);
                w.locks
                    .implicit_rows(&child, RowLockMode::Update, ckey.clone(), &why);
                if depth < MAX_CASCADE_DEPTH && !visited.contains(&child) {
                    visited.push(child.clone());
                    delete_actions_rec(w, &child, ckey.as_ref(), depth + 1, visited);
                }
            }
            ReferentialAction::SetNull | ReferentialAction::SetDefault => {
                w.locks
                    .implicit_table(&child, TableLockMode::RowExclusive, &why);
                let mode = child_update_mode(w, &child, &fk);
                w.locks.implicit_rows(&child, mode, ckey, &why);
                if fk.on_delete == ReferentialAction::SetDefault {
                    set_default_checks(w, parent, &child, &fk);
                }
            }
            ReferentialAction::NoAction | ReferentialAction::Restrict => {
                no_action_check(w, parent, &child, fk.on_delete);
            }
        }
    }
}

/// The check of referencing rows for `NO ACTION` / `RESTRICT`: ROW SHARE on the child; for
/// `NO ACTION`, PostgreSQL first looks for another parent row with the old key
/// (`ri_Check_Pk_Match`), which takes ROW SHARE on the parent too.
fn no_action_check(
    w: &mut Walker<'_>,
    parent: &RelationName,
    child: &RelationName,
    action: ReferentialAction,
) {
    let why = restrict_check(parent, child);
    if action == ReferentialAction::NoAction {
        w.locks
            .implicit_table(parent, TableLockMode::RowShare, &why);
    }
    w.locks.implicit_table(child, TableLockMode::RowShare, &why);
}

/// After `SET DEFAULT`, PostgreSQL re-checks the child and checks the parent for the default.
fn set_default_checks(
    w: &mut Walker<'_>,
    parent: &RelationName,
    child: &RelationName,
    fk: &ForeignKey,
) {
    w.locks.implicit_table(
        child,
        TableLockMode::RowShare,
        &restrict_check(parent, child),
    );
    let has_default = w.schema.table(child).is_some_and(|t| {
        fk.columns
            .iter()
            .any(|c| t.column(c).is_some_and(|c| c.has_default))
    });
    if has_default {
        let why = check(child);
        w.locks
            .implicit_table(parent, TableLockMode::RowShare, &why);
        w.locks
            .implicit_rows(parent, RowLockMode::KeyShare, None, &why);
    }
}

/// Locks the RI triggers of an UPDATE on `parent` take when it changes referenced key columns.
pub(crate) fn update_actions(
    w: &mut Walker<'_>,
    parent: &RelationName,
    set: &Given,
    key: Option<&KeyPredicate>,
) {
    let children: Vec<(RelationName, ForeignKey)> = w
        .schema
        .referencing(parent)
        .map(|(c, fk)| (c.clone(), fk.clone()))
        .collect();
    for (child, fk) in children {
        let referenced = referenced_columns(w, &fk);
        if !set.iter().any(|(c, _)| referenced.contains(c)) {
            continue;
        }
        let ckey = child_key(w, &child, &fk, &referenced, key);
        let why = action(parent);
        match fk.on_update {
            ReferentialAction::Cascade => {
                w.locks
                    .implicit_table(&child, TableLockMode::RowExclusive, &why);
                let mode = child_update_mode(w, &child, &fk);
                w.locks.implicit_rows(&child, mode, ckey, &why);
                // The child's new key is checked against the parent.
                let check_why = check(&child);
                w.locks
                    .implicit_table(parent, TableLockMode::RowShare, &check_why);
            }
            ReferentialAction::SetNull | ReferentialAction::SetDefault => {
                w.locks
                    .implicit_table(&child, TableLockMode::RowExclusive, &why);
                let mode = child_update_mode(w, &child, &fk);
                w.locks.implicit_rows(&child, mode, ckey, &why);
                if fk.on_update == ReferentialAction::SetDefault {
                    set_default_checks(w, parent, &child, &fk);
                }
            }
            ReferentialAction::NoAction | ReferentialAction::Restrict => {
                no_action_check(w, parent, &child, fk.on_update);
            }
        }
    }
}

/// Every table whose rows reference `parent`, transitively (TRUNCATE … CASCADE, DROP … CASCADE).
pub(crate) fn referencing_closure(w: &Walker<'_>, parent: &RelationName) -> Vec<RelationName> {
    let mut out: Vec<RelationName> = Vec::new();
    let mut queue = vec![parent.clone()];
    while let Some(p) = queue.pop() {
        for (child, _) in w.schema.referencing(&p) {
            if child != parent && !out.contains(child) {
                out.push(child.clone());
                queue.push(child.clone());
            }
        }
        if out.len() > 1_000 {
            break;
        }
    }
    out
}

/// The tables a table's own foreign keys reference.
pub(crate) fn parents_of(w: &Walker<'_>, child: &RelationName) -> Vec<RelationName> {
    let mut out: Vec<RelationName> = Vec::new();
    for fk in w
        .schema
        .table(child)
        .map(|t| t.foreign_keys.as_slice())
        .unwrap_or_default()
    {
        if &fk.parent != child && !out.contains(&fk.parent) {
            out.push(fk.parent.clone());
        }
    }
    out
}
