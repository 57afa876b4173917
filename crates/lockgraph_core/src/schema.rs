//! What lockgraph knows about tables: columns, keys and foreign keys, learned from the
//! `CREATE TABLE` / `ALTER TABLE` statements in the input (a migrations folder, a schema dump).
//!
//! The schema makes inference precise: a child insert implies `FOR KEY SHARE` on the parent row,
//! a parent delete cascades to its children, and an `UPDATE` of a key column is `FOR UPDATE`
//! rather than `FOR NO KEY UPDATE`.

use crate::target::RelationName;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A referential action (`ON DELETE …` / `ON UPDATE …`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferentialAction {
    /// `NO ACTION` (the default): checked, nothing changed in the child.
    #[default]
    NoAction,
    /// `RESTRICT`.
    Restrict,
    /// `CASCADE`: child rows are deleted/updated too.
    Cascade,
    /// `SET NULL`: child rows are updated.
    SetNull,
    /// `SET DEFAULT`: child rows are updated.
    SetDefault,
}

impl ReferentialAction {
    /// Whether the action writes child rows (and so locks them).
    pub fn writes_child(self) -> bool {
        matches!(
            self,
            ReferentialAction::Cascade | ReferentialAction::SetNull | ReferentialAction::SetDefault
        )
    }
}

/// A foreign key from a child table to a parent table.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ForeignKey {
    /// Referencing columns in the child.
    pub columns: Vec<Arc<str>>,
    /// The referenced (parent) table.
    pub parent: RelationName,
    /// Referenced columns in the parent (empty means its primary key).
    pub parent_columns: Vec<Arc<str>>,
    /// `ON DELETE` action.
    pub on_delete: ReferentialAction,
    /// `ON UPDATE` action.
    pub on_update: ReferentialAction,
}

/// A column.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Column {
    /// Column name, folded like identifiers.
    pub name: Arc<str>,
    /// The type as written (`bigint`, `text`, `numeric(12,2)`).
    pub data_type: Arc<str>,
    /// `NOT NULL` (or part of the primary key).
    pub not_null: bool,
    /// Has a `DEFAULT`, or is `serial`/identity/generated.
    pub has_default: bool,
}

/// One table's definition.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// Columns in declaration order.
    pub columns: Vec<Column>,
    /// Primary key columns (empty when none).
    pub primary_key: Vec<Arc<str>>,
    /// Other unique keys (`UNIQUE` constraints and unique indexes).
    pub unique_keys: Vec<Vec<Arc<str>>>,
    /// Foreign keys this table holds (it is the child).
    pub foreign_keys: Vec<ForeignKey>,
    /// Where the table was defined, for messages.
    pub defined_at: Option<crate::transaction::Location>,
}

impl Table {
    /// Whether `column` belongs to a key that a foreign key could reference (primary or unique).
    /// PostgreSQL takes `FOR UPDATE` (not `FOR NO KEY UPDATE`) when an UPDATE changes such a column.
    pub fn is_key_column(&self, column: &str) -> bool {
        self.primary_key.iter().any(|c| &**c == column)
            || self.unique_keys.iter().flatten().any(|c| &**c == column)
    }

    /// Whether `columns` (as a set) covers a primary or unique key, so equality pins one row.
    pub fn is_unique_key(&self, columns: &[&str]) -> bool {
        let covers =
            |key: &Vec<Arc<str>>| !key.is_empty() && key.iter().all(|k| columns.contains(&&**k));
        covers(&self.primary_key) || self.unique_keys.iter().any(covers)
    }

    /// Looks up a column.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| &*c.name == name)
    }
}

/// Every table seen in the input. Deterministic iteration order (sorted by name).
///
/// Build it completely before asking [`Schema::referencing`]: the first call indexes the foreign
/// keys by parent (inference asks it for every statement, and a scan per call is quadratic on
/// big trees). A schema whose table count changed afterwards is scanned again instead, so adding
/// tables late is only slower; editing the foreign keys of a table already indexed is not seen.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Schema {
    /// Tables by normalized name.
    pub tables: BTreeMap<RelationName, Table>,
    /// Foreign keys by parent, built on the first [`Schema::referencing`].
    #[serde(skip)]
    referenced: std::sync::OnceLock<ReferenceIndex>,
}

/// `parent → [(child, index of the foreign key in the child's list)]`, for a table count.
#[derive(Clone, Debug, Default)]
struct ReferenceIndex {
    tables: usize,
    by_parent: BTreeMap<RelationName, Vec<(RelationName, usize)>>,
}

impl PartialEq for Schema {
    fn eq(&self, other: &Self) -> bool {
        self.tables == other.tables
    }
}

impl Eq for Schema {}

impl Schema {
    /// Looks up a table.
    pub fn table(&self, name: &RelationName) -> Option<&Table> {
        self.tables.get(name)
    }

    /// Foreign keys that reference `parent`, with the child table holding each (children in name
    /// order, each child's keys in declaration order).
    pub fn referencing(
        &self,
        parent: &RelationName,
    ) -> impl Iterator<Item = (&RelationName, &ForeignKey)> {
        let index = self.referenced.get_or_init(|| self.index_references());
        let found: Vec<(&RelationName, &ForeignKey)> = if index.tables == self.tables.len() {
            index
                .by_parent
                .get(parent)
                .into_iter()
                .flatten()
                .filter_map(|(child, i)| {
                    let (name, table) = self.tables.get_key_value(child)?;
                    Some((name, table.foreign_keys.get(*i)?))
                })
                .collect()
        } else {
            self.tables
                .iter()
                .flat_map(|(child, t)| t.foreign_keys.iter().map(move |fk| (child, fk)))
                .filter(|(_, fk)| fk.parent == *parent)
                .collect()
        };
        found.into_iter()
    }

    fn index_references(&self) -> ReferenceIndex {
        let mut by_parent: BTreeMap<RelationName, Vec<(RelationName, usize)>> = BTreeMap::new();
        for (child, t) in &self.tables {
            for (i, fk) in t.foreign_keys.iter().enumerate() {
                by_parent
                    .entry(fk.parent.clone())
                    .or_default()
                    .push((child.clone(), i));
            }
        }
        ReferenceIndex {
            tables: self.tables.len(),
            by_parent,
        }
    }

    /// Whether the table is known.
    pub fn contains(&self, name: &RelationName) -> bool {
        self.tables.contains_key(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child_of(parent: &str) -> Table {
        Table {
            foreign_keys: vec![ForeignKey {
                columns: vec!["parent_id".into()],
                parent: RelationName::new(parent),
                parent_columns: vec!["id".into()],
                on_delete: ReferentialAction::Cascade,
                on_update: ReferentialAction::NoAction,
            }],
            ..Table::default()
        }
    }

    fn children(s: &Schema, parent: &str) -> Vec<String> {
        s.referencing(&RelationName::new(parent))
            .map(|(c, _)| c.to_string())
            .collect()
    }

    #[test]
    fn referencing_is_indexed_and_stays_right_when_tables_are_added_late() {
        let mut s = Schema::default();
        s.tables.insert(RelationName::new("b_child"), child_of("p"));
        s.tables.insert(RelationName::new("a_child"), child_of("p"));
        s.tables.insert(RelationName::new("other"), child_of("q"));
        assert_eq!(children(&s, "p"), ["a_child", "b_child"]);
        assert_eq!(children(&s, "q"), ["other"]);
        assert!(children(&s, "nobody").is_empty());
        // Added after the index was built: found by the scan.
        s.tables.insert(RelationName::new("c_child"), child_of("p"));
        assert_eq!(children(&s, "p"), ["a_child", "b_child", "c_child"]);
        // The cache is not part of equality.
        let fresh = s.clone();
        assert_eq!(
            s,
            Schema {
                tables: fresh.tables.clone(),
                ..Schema::default()
            }
        );
    }
}
