//! Learning the schema (tables, keys, foreign keys) from DDL in the input.

use crate::infer::{ident, last_ident, relation_name};
use crate::lexer::tokenize;
use crate::split::split_statements;
use lockgraph_core::{
    Column, Diagnostic, DiagnosticKind, ForeignKey, Location, ReferentialAction, RelationName,
    Schema, Table,
};
use rustc_hash::FxHashMap;
use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnDef, ColumnOption, Expr, ForeignKeyConstraint,
    IndexColumn, ObjectType, RenameTableNameKind, Statement, TableConstraint,
};
use sqlparser::dialect::{MySqlDialect, PostgreSqlDialect};
use sqlparser::parser::Parser;
use std::sync::Arc;

/// Reads every `CREATE TABLE`, `ALTER TABLE`, `CREATE UNIQUE INDEX` and `DROP TABLE` in
/// `sources` (`(path, text)` pairs, applied in order) into a [`Schema`].
///
/// Other statements are ignored. A schema statement sqlparser rejects is reported as an
/// `UnparseableStatement` diagnostic (the same statement run through
/// [`build_transactions`](crate::build_transactions) is reported there too: deduplicate by
/// location and kind when showing both).
///
/// ```
/// let (schema, diags) = lockgraph_sql::parse_schema(&[(
///     "schema.sql",
///     "CREATE TABLE accounts (id bigserial PRIMARY KEY, email text UNIQUE NOT NULL);
///      CREATE TABLE ledger (id bigint PRIMARY KEY,
///                           account_id bigint REFERENCES accounts ON DELETE CASCADE);",
/// )]);
/// assert!(diags.is_empty());
/// let ledger = schema.table(&lockgraph_core::RelationName::new("ledger")).unwrap();
/// assert_eq!(ledger.foreign_keys[0].parent.as_str(), "accounts");
/// ```
pub fn parse_schema(sources: &[(&str, &str)]) -> (Schema, Vec<Diagnostic>) {
    let mut b = Builder::default();
    for (path, text) in sources {
        for raw in split_statements(text) {
            let Some(kind) = schema_statement(&raw.text) else {
                continue;
            };
            let location = Location::new(*path, raw.line);
            // MySQL's DDL (`ENGINE=InnoDB`, `KEY name (col)` inside `CREATE TABLE`, backticks)
            // when PostgreSQL's grammar rejects it; the PostgreSQL error is the one reported.
            let parsed = Parser::parse_sql(&PostgreSqlDialect {}, &raw.text)
                .or_else(|e| Parser::parse_sql(&MySqlDialect {}, &raw.text).map_err(|_| e));
            match parsed {
                Ok(statements) => {
                    for st in statements {
                        b.apply(st, &location);
                    }
                }
                Err(e) if kind.reports_errors() => b.diagnostics.push(Diagnostic {
                    location,
                    kind: DiagnosticKind::UnparseableStatement,
                    message: format!("schema statement not understood: {e}"),
                    statement: Some(crate::redact(&raw.text)),
                }),
                Err(_) => {}
            }
        }
    }
    (b.schema, b.diagnostics)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SchemaStatement {
    CreateTable,
    AlterTable { changes_keys: bool },
    UniqueIndex,
    DropTable,
}

impl SchemaStatement {
    /// Whether a parse failure loses schema facts (ALTER forms that only tune storage do not).
    fn reports_errors(self) -> bool {
        !matches!(
            self,
            SchemaStatement::AlterTable {
                changes_keys: false
            }
        )
    }
}

/// Which schema statement `sql` is, from its leading words.
fn schema_statement(sql: &str) -> Option<SchemaStatement> {
    let toks = tokenize(sql);
    let words: Vec<String> = toks
        .iter()
        .take(8)
        .map(|t| t.text.to_ascii_lowercase())
        .collect();
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    let skip_create = |w: &[&str]| -> usize {
        let mut i = 1;
        if w.get(i) == Some(&"or") && w.get(i + 1) == Some(&"replace") {
            i += 2;
        }
        while matches!(
            w.get(i),
            Some(&"global" | &"local" | &"temp" | &"temporary" | &"unlogged")
        ) {
            i += 1;
        }
        i
    };
    match w.first().copied()? {
        "create" => {
            let i = skip_create(&w);
            match w.get(i).copied()? {
                "table" => Some(SchemaStatement::CreateTable),
                "unique" if w.get(i + 1) == Some(&"index") => Some(SchemaStatement::UniqueIndex),
                _ => None,
            }
        }
        "alter" if w.get(1) == Some(&"table") => {
            let changes_keys = toks
                .iter()
                .any(|t| t.is_word("add") || t.is_word("rename") || t.is_word("drop"));
            Some(SchemaStatement::AlterTable { changes_keys })
        }
        "drop" if w.get(1) == Some(&"table") => Some(SchemaStatement::DropTable),
        _ => None,
    }
}

#[derive(Default)]
struct Builder {
    schema: Schema,
    diagnostics: Vec<Diagnostic>,
    /// Unique indexes by name, for `ADD CONSTRAINT … USING INDEX`.
    unique_indexes: FxHashMap<String, Vec<Arc<str>>>,
}

fn referential(a: Option<sqlparser::ast::ReferentialAction>) -> ReferentialAction {
    use sqlparser::ast::ReferentialAction as R;
    match a {
        None | Some(R::NoAction) => ReferentialAction::NoAction,
        Some(R::Restrict) => ReferentialAction::Restrict,
        Some(R::Cascade) => ReferentialAction::Cascade,
        Some(R::SetNull) => ReferentialAction::SetNull,
        Some(R::SetDefault) => ReferentialAction::SetDefault,
    }
}

fn foreign_key(columns: Vec<Arc<str>>, f: &ForeignKeyConstraint) -> Option<ForeignKey> {
    Some(ForeignKey {
        columns,
        parent: relation_name(&f.foreign_table)?,
        parent_columns: f
            .referred_columns
            .iter()
            .map(|c| Arc::from(ident(c).as_str()))
            .collect(),
        on_delete: referential(f.on_delete),
        on_update: referential(f.on_update),
    })
}

/// Plain column names of an index column list (`None` if one is an expression).
fn index_columns(cols: &[IndexColumn]) -> Option<Vec<Arc<str>>> {
    cols.iter()
        .map(|c| match &c.column.expr {
            Expr::Identifier(i) => Some(Arc::from(ident(i).as_str())),
            _ => None,
        })
        .collect()
}

impl Builder {
    fn apply(&mut self, st: Statement, location: &Location) {
        match st {
            Statement::CreateTable(ct) => {
                let Some(name) = relation_name(&ct.name) else {
                    return;
                };
                if ct.if_not_exists && self.schema.contains(&name) {
                    return;
                }
                let mut table = Table {
                    defined_at: Some(location.clone()),
                    ..Table::default()
                };
                let inherited = ct
                    .partition_of
                    .as_ref()
                    .or(ct.like.as_ref().map(|l| match l {
                        sqlparser::ast::CreateTableLikeKind::Parenthesized(l)
                        | sqlparser::ast::CreateTableLikeKind::Plain(l) => &l.name,
                    }));
                if let Some(src) = inherited
                    .and_then(relation_name)
                    .and_then(|s| self.schema.table(&s).cloned())
                {
                    table.columns = src.columns;
                    table.primary_key = src.primary_key;
                    table.unique_keys = src.unique_keys;
                    if ct.partition_of.is_some() {
                        table.foreign_keys = src.foreign_keys;
                    }
                }
                for c in &ct.columns {
                    add_column(&mut table, c);
                }
                for con in &ct.constraints {
                    self.add_constraint(&mut table, con);
                }
                mark_key_not_null(&mut table);
                self.schema.tables.insert(name, table);
            }
            Statement::AlterTable(at) => {
                let Some(name) = relation_name(&at.name) else {
                    return;
                };
                let mut table = self.schema.tables.remove(&name).unwrap_or_default();
                let mut new_name = name.clone();
                for op in &at.operations {
                    match op {
                        AlterTableOperation::AddColumn { column_def, .. } => {
                            add_column(&mut table, column_def)
                        }
                        AlterTableOperation::AddConstraint { constraint, .. } => {
                            self.add_constraint(&mut table, constraint)
                        }
                        AlterTableOperation::DropColumn { column_names, .. } => {
                            for c in column_names {
                                drop_column(&mut table, &ident(c));
                            }
                        }
                        AlterTableOperation::RenameColumn {
                            old_column_name,
                            new_column_name,
                        } => {
                            let (old, new) = (ident(old_column_name), ident(new_column_name));
                            rename_column(&mut table, &old, &new);
                            for other in self.schema.tables.values_mut() {
                                for fk in
                                    other.foreign_keys.iter_mut().filter(|fk| fk.parent == name)
                                {
                                    for c in fk.parent_columns.iter_mut().filter(|c| ***c == *old) {
                                        *c = Arc::from(new.as_str());
                                    }
                                }
                            }
                        }
                        AlterTableOperation::RenameTable {
                            table_name: RenameTableNameKind::As(n) | RenameTableNameKind::To(n),
                        } => {
                            // `ALTER TABLE s.t RENAME TO u` keeps the schema.
                            let bare = last_ident(n).unwrap_or_default();
                            new_name = match name.as_str().rsplit_once('.') {
                                Some((schema, _)) => RelationName::new(format!("{schema}.{bare}")),
                                None => RelationName::new(bare),
                            };
                        }
                        AlterTableOperation::AlterColumn { column_name, op } => {
                            let col = ident(column_name);
                            if let Some(c) = table.columns.iter_mut().find(|c| *c.name == *col) {
                                match op {
                                    AlterColumnOperation::SetNotNull => c.not_null = true,
                                    AlterColumnOperation::DropNotNull => c.not_null = false,
                                    AlterColumnOperation::SetDefault { .. }
                                    | AlterColumnOperation::AddGenerated { .. } => {
                                        c.has_default = true
                                    }
                                    AlterColumnOperation::DropDefault => c.has_default = false,
                                    AlterColumnOperation::SetDataType { data_type, .. } => {
                                        c.data_type = data_type.to_string().to_lowercase().into()
                                    }
                                    _ => {}
                                }
                            }
                        }
                        AlterTableOperation::DropPrimaryKey { .. } => table.primary_key.clear(),
                        AlterTableOperation::DropConstraint { name: con, .. } => {
                            drop_constraint(&mut table, &name, &ident(con))
                        }
                        _ => {}
                    }
                }
                if new_name != name {
                    for other in self.schema.tables.values_mut() {
                        for fk in other.foreign_keys.iter_mut().filter(|fk| fk.parent == name) {
                            fk.parent = new_name.clone();
                        }
                    }
                    for fk in table.foreign_keys.iter_mut().filter(|fk| fk.parent == name) {
                        fk.parent = new_name.clone();
                    }
                }
                self.schema.tables.insert(new_name, table);
            }
            Statement::CreateIndex(ci) if ci.unique && ci.predicate.is_none() => {
                let Some(rel) = relation_name(&ci.table_name) else {
                    return;
                };
                let Some(cols) = index_columns(&ci.columns) else {
                    return;
                };
                if let Some(n) = ci.name.as_ref().and_then(last_ident) {
                    self.unique_indexes.insert(n, cols.clone());
                }
                let table = self.schema.tables.entry(rel).or_default();
                if !table.unique_keys.contains(&cols) {
                    table.unique_keys.push(cols);
                }
            }
            Statement::Drop {
                object_type: ObjectType::Table,
                names,
                ..
            } => {
                for rel in names.iter().filter_map(relation_name) {
                    self.schema.tables.remove(&rel);
                }
            }
            _ => {}
        }
    }

    fn add_constraint(&self, table: &mut Table, con: &TableConstraint) {
        match con {
            TableConstraint::PrimaryKey(pk) => {
                if let Some(cols) = index_columns(&pk.columns) {
                    table.primary_key = cols;
                    mark_key_not_null(table);
                }
            }
            TableConstraint::Unique(u) => {
                if let Some(cols) = index_columns(&u.columns) {
                    table.unique_keys.push(cols);
                }
            }
            TableConstraint::ForeignKey(f) => {
                let cols = f
                    .columns
                    .iter()
                    .map(|c| Arc::from(ident(c).as_str()))
                    .collect();
                table.foreign_keys.extend(foreign_key(cols, f));
            }
            TableConstraint::PrimaryKeyUsingIndex(u) => {
                if let Some(cols) = self.unique_indexes.get(&ident(&u.index_name)) {
                    table.primary_key = cols.clone();
                    mark_key_not_null(table);
                }
            }
            TableConstraint::UniqueUsingIndex(u) => {
                if let Some(cols) = self.unique_indexes.get(&ident(&u.index_name))
                    && !table.unique_keys.contains(cols)
                {
                    table.unique_keys.push(cols.clone());
                }
            }
            _ => {}
        }
    }
}

const SERIAL_TYPES: &[&str] = &[
    "serial",
    "bigserial",
    "smallserial",
    "serial2",
    "serial4",
    "serial8",
];

fn add_column(table: &mut Table, c: &ColumnDef) {
    let name: Arc<str> = ident(&c.name).into();
    let data_type = c.data_type.to_string().to_lowercase();
    let mut column = Column {
        name: name.clone(),
        not_null: false,
        has_default: SERIAL_TYPES.contains(&data_type.as_str()),
        data_type: data_type.into(),
    };
    for o in &c.options {
        match &o.option {
            ColumnOption::NotNull => column.not_null = true,
            ColumnOption::Default(_)
            | ColumnOption::Generated { .. }
            | ColumnOption::Identity(_) => column.has_default = true,
            ColumnOption::PrimaryKey(_) => {
                column.not_null = true;
                table.primary_key = vec![name.clone()];
            }
            ColumnOption::Unique(_) => table.unique_keys.push(vec![name.clone()]),
            ColumnOption::ForeignKey(f) => table
                .foreign_keys
                .extend(foreign_key(vec![name.clone()], f)),
            _ => {}
        }
    }
    table.columns.retain(|c| c.name != name);
    table.columns.push(column);
}

fn mark_key_not_null(table: &mut Table) {
    for c in table.columns.iter_mut() {
        if table.primary_key.contains(&c.name) {
            c.not_null = true;
        }
    }
}

fn drop_column(table: &mut Table, col: &str) {
    table.columns.retain(|c| &*c.name != col);
    if table.primary_key.iter().any(|c| &**c == col) {
        table.primary_key.clear();
    }
    table.unique_keys.retain(|k| !k.iter().any(|c| &**c == col));
    table
        .foreign_keys
        .retain(|fk| !fk.columns.iter().any(|c| &**c == col));
}

fn rename_column(table: &mut Table, old: &str, new: &str) {
    let new: Arc<str> = new.into();
    let fix = |c: &mut Arc<str>| {
        if &**c == old {
            *c = new.clone();
        }
    };
    table.columns.iter_mut().for_each(|c| fix(&mut c.name));
    table.primary_key.iter_mut().for_each(fix);
    table.unique_keys.iter_mut().flatten().for_each(fix);
    table
        .foreign_keys
        .iter_mut()
        .flat_map(|fk| fk.columns.iter_mut())
        .for_each(fix);
}

/// Drops a constraint known only by name, recognising PostgreSQL's default constraint names
/// (`<table>_pkey`, `<table>_<cols>_key`, `<table>_<cols>_fkey`).
fn drop_constraint(table: &mut Table, name: &RelationName, con: &str) {
    let bare = name.as_str().rsplit('.').next().unwrap_or_default();
    if con == format!("{bare}_pkey") {
        table.primary_key.clear();
    }
    let joined = |cols: &[Arc<str>]| cols.iter().map(|c| &**c).collect::<Vec<_>>().join("_");
    table
        .unique_keys
        .retain(|k| con != format!("{bare}_{}_key", joined(k)));
    table
        .foreign_keys
        .retain(|fk| con != format!("{bare}_{}_fkey", joined(&fk.columns)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(sql: &str) -> Schema {
        let (s, d) = parse_schema(&[("s.sql", sql)]);
        assert!(d.is_empty(), "{d:?}");
        s
    }

    fn t<'s>(s: &'s Schema, name: &str) -> &'s Table {
        s.table(&RelationName::new(name))
            .unwrap_or_else(|| panic!("no table {name}"))
    }

    #[test]
    fn create_table_columns_keys_and_foreign_keys() {
        let s = schema(
            "CREATE TABLE parent (id serial PRIMARY KEY, code text UNIQUE, n int NOT NULL DEFAULT 0);
             CREATE TABLE \"Child\" (
                id bigint GENERATED ALWAYS AS IDENTITY,
                parent_id int NOT NULL REFERENCES parent(id) ON DELETE CASCADE,
                a int, b int,
                PRIMARY KEY (id), UNIQUE (a, b),
                FOREIGN KEY (a) REFERENCES parent ON UPDATE SET NULL ON DELETE RESTRICT);",
        );
        let p = t(&s, "parent");
        assert_eq!(p.primary_key, vec![Arc::from("id")]);
        assert_eq!(p.unique_keys, vec![vec![Arc::from("code")]]);
        assert!(p.column("id").unwrap().has_default && p.column("id").unwrap().not_null);
        assert!(p.column("n").unwrap().has_default && p.column("n").unwrap().not_null);
        assert!(!p.column("code").unwrap().not_null);
        let c = t(&s, "Child");
        assert!(c.is_unique_key(&["a", "b"]));
        assert_eq!(c.foreign_keys.len(), 2);
        assert_eq!(c.foreign_keys[0].on_delete, ReferentialAction::Cascade);
        assert_eq!(c.foreign_keys[0].parent_columns, vec![Arc::from("id")]);
        assert_eq!(c.foreign_keys[1].on_update, ReferentialAction::SetNull);
        assert_eq!(c.foreign_keys[1].on_delete, ReferentialAction::Restrict);
        assert!(c.foreign_keys[1].parent_columns.is_empty());
        assert!(c.column("id").unwrap().has_default);
        assert_eq!(s.referencing(&RelationName::new("parent")).count(), 2);
    }

    #[test]
    fn alter_table_and_indexes() {
        let s = schema(
            "CREATE TABLE a (id int, x int, y int);
             CREATE TABLE b (id int PRIMARY KEY);
             ALTER TABLE a ADD CONSTRAINT a_pkey PRIMARY KEY (id);
             ALTER TABLE a ADD COLUMN b_id int REFERENCES b(id) ON DELETE SET NULL;
             ALTER TABLE a ADD CONSTRAINT fk FOREIGN KEY (x) REFERENCES b (id) NOT VALID;
             CREATE UNIQUE INDEX a_y ON a (y);
             CREATE UNIQUE INDEX a_lower ON a (lower(y::text));
             CREATE UNIQUE INDEX a_part ON a (x) WHERE y > 0;
             ALTER TABLE a ALTER COLUMN y SET NOT NULL;
             ALTER TABLE a ALTER COLUMN x SET STATISTICS 100;",
        );
        let a = t(&s, "a");
        assert_eq!(a.primary_key, vec![Arc::from("id")]);
        assert_eq!(a.foreign_keys.len(), 2);
        assert_eq!(a.foreign_keys[0].on_delete, ReferentialAction::SetNull);
        assert_eq!(a.unique_keys, vec![vec![Arc::from("y")]]);
        assert!(a.column("y").unwrap().not_null);
    }

    #[test]
    fn renames_and_drops() {
        let s = schema(
            "CREATE TABLE p (id int PRIMARY KEY);
             CREATE TABLE c (id int PRIMARY KEY, pid int REFERENCES p);
             CREATE TABLE gone (id int);
             ALTER TABLE p RENAME TO parent;
             ALTER TABLE parent RENAME COLUMN id TO pk;
             ALTER TABLE c RENAME COLUMN pid TO parent_id;
             DROP TABLE gone;",
        );
        assert!(!s.contains(&RelationName::new("gone")));
        assert!(!s.contains(&RelationName::new("p")));
        assert_eq!(t(&s, "parent").primary_key, vec![Arc::from("pk")]);
        let fk = &t(&s, "c").foreign_keys[0];
        assert_eq!(
            (fk.parent.as_str(), &*fk.columns[0]),
            ("parent", "parent_id")
        );
    }

    #[test]
    fn partitions_inherit_keys() {
        let s = schema(
            "CREATE TABLE m (id int, k int, PRIMARY KEY (id, k)) PARTITION BY RANGE (k);
             CREATE TABLE m1 PARTITION OF m FOR VALUES FROM (0) TO (10);",
        );
        assert_eq!(t(&s, "m1").primary_key.len(), 2);
    }

    #[test]
    fn unparseable_schema_statements_are_reported() {
        let (_, d) = parse_schema(&[(
            "s.sql",
            "SELECT 1;\nCREATE TABLE broken (id int PRIMARY KEY,,);",
        )]);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].location.to_string(), "s.sql:2");
        assert_eq!(d[0].kind, DiagnosticKind::UnparseableStatement);
    }
}
