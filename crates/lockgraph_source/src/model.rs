//! ORM models across files: table names, keys and foreign keys, as a [`ModelIndex`] (for SQL
//! synthesis) and as a [`Schema`] (for inference).

use crate::ir::{FieldDecl, ModelDecl, OrmKind};
use lockgraph_core::{
    Column, ForeignKey, Location, ReferentialAction, RelationName, Schema, Table, quote_ident,
};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// One resolved model.
#[derive(Clone, Debug)]
pub(crate) struct ModelInfo {
    /// Table name as stored (case kept).
    pub table: String,
    /// Primary key columns.
    pub pk: Vec<String>,
    /// Fields (attribute → column), with whether each is a key or foreign-key column.
    pub fields: Vec<FieldInfo>,
    /// Where it is declared.
    pub at: Location,
}

/// One resolved field.
#[derive(Clone, Debug)]
pub(crate) struct FieldInfo {
    pub name: String,
    pub column: String,
    pub key: bool,
    pub fk: bool,
    pub decl: FieldDecl,
    /// Referenced table and column, resolved.
    pub references: Option<(String, Option<String>)>,
}

/// Every model of the scanned tree, by class name. Several apps may declare a class of the same
/// name (`Account` in `billing/models.py` and `crm/models.py`): a use resolves to the one declared
/// closest to the using file (longest shared directory), see [`ModelIndex::scoped`].
#[derive(Clone, Debug, Default)]
pub(crate) struct ModelIndex {
    by_class: FxHashMap<String, Vec<ModelInfo>>,
    /// `(class, directory)` → the first model of that class declared in that directory or
    /// below it: a lookup walks the using file's directories upwards, O(depth).
    by_dir: FxHashMap<(String, String), usize>,
}

/// The directories holding `path`, deepest first, down to the root (`""`).
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.rmatch_indices('/')
        .map(move |(i, _)| &path[..i])
        .chain(std::iter::once(""))
}

impl ModelIndex {
    /// Builds the index from every file's declarations (`(display path, decl)`).
    pub fn build(decls: &[(&str, &ModelDecl)]) -> Self {
        let by_name: FxHashMap<&str, &ModelDecl> =
            decls.iter().map(|(_, d)| (d.class.as_str(), *d)).collect();
        let mut index = ModelIndex::default();
        // A use that implies a model counts only where no declaration of the class exists.
        let declared: rustc_hash::FxHashSet<&str> = decls
            .iter()
            .filter(|(_, d)| !d.implied)
            .map(|(_, d)| d.class.as_str())
            .collect();
        // First pass: tables and own fields (with abstract bases' fields).
        for (path, d) in decls {
            if d.is_abstract || (d.implied && declared.contains(d.class.as_str())) {
                continue;
            }
            let is_model = matches!(d.kind, OrmKind::SqlAlchemy | OrmKind::Declared)
                || d.bases.iter().any(|b| {
                    b == "models.Model"
                        || b == "Model"
                        || b.ends_with(".Model")
                        || by_name.contains_key(last(b))
                })
                || !d.fields.is_empty();
            if !is_model {
                continue;
            }
            let mut fields: Vec<FieldDecl> = Vec::new();
            let mut seen_bases = 0;
            let mut stack: Vec<&str> = d.bases.iter().map(|b| last(b)).collect();
            while let Some(b) = stack.pop() {
                seen_bases += 1;
                if seen_bases > 16 {
                    break;
                }
                if let Some(base) = by_name.get(b).filter(|x| x.is_abstract) {
                    fields.extend(base.fields.iter().cloned());
                    stack.extend(base.bases.iter().map(|x| last(x)));
                }
            }
            fields.extend(d.fields.iter().cloned());
            let table = match (&d.table, d.kind) {
                (Some(t), _) => t.clone(),
                (None, OrmKind::Django) => format!("{}_{}", d.app, d.class.to_lowercase()),
                (None, OrmKind::SqlAlchemy | OrmKind::Declared) => d.class.to_lowercase(),
            };
            let mut pk: Vec<String> = fields
                .iter()
                .filter(|f| f.primary_key)
                .map(|f| f.column.clone())
                .collect();
            if pk.is_empty() {
                pk.push("id".into());
                if d.kind == OrmKind::Django || !fields.iter().any(|f| f.column == "id") {
                    fields.insert(
                        0,
                        FieldDecl {
                            name: "id".into(),
                            column: "id".into(),
                            data_type: "bigint".into(),
                            primary_key: true,
                            not_null: true,
                            has_default: true,
                            ..FieldDecl::default()
                        },
                    );
                }
            }
            let fields = fields
                .into_iter()
                .map(|f| FieldInfo {
                    name: f.name.clone(),
                    column: f.column.clone(),
                    key: f.primary_key || f.unique,
                    fk: f.fk.is_some(),
                    decl: f,
                    references: None,
                })
                .collect();
            index
                .by_class
                .entry(d.class.clone())
                .or_default()
                .push(ModelInfo {
                    table,
                    pk,
                    fields,
                    at: Location::new(*path, d.line),
                });
        }
        for (class, models) in &index.by_class {
            for (i, m) in models.iter().enumerate() {
                for dir in ancestors(&m.at.path) {
                    index
                        .by_dir
                        .entry((class.clone(), dir.to_string()))
                        .or_insert(i);
                }
            }
        }
        // Second pass: foreign-key targets.
        let lookup = index.clone();
        for m in index.by_class.values_mut().flatten() {
            let from = m.at.path.clone();
            let own_table = m.table.clone();
            for f in &mut m.fields {
                let Some((target, to_field, _)) = &f.decl.fk else {
                    continue;
                };
                let target = target.trim();
                f.references = if target.contains('.') && !is_class_path(target) {
                    // SQLAlchemy "table.column".
                    let (t, c) = target.rsplit_once('.').unwrap_or((target, ""));
                    Some((t.to_string(), Some(c.to_string())))
                } else if target == "self" {
                    Some((own_table.clone(), to_field.clone()))
                } else {
                    let name = last(target);
                    // `"bank.Account"`: the app label picks the model; else the closest one.
                    let app = target
                        .rsplit_once('.')
                        .map(|(a, _)| a.rsplit('.').next().unwrap_or(a).to_lowercase() + "_");
                    lookup
                        .by_class
                        .get(name)
                        .and_then(|c| {
                            app.as_ref()
                                .and_then(|app| {
                                    c.iter().find(|m| m.table.starts_with(app.as_str()))
                                })
                                .or_else(|| lookup.resolve(name, &from))
                        })
                        .map(|m| (m.table.clone(), to_field.clone()))
                        .or_else(|| Some((name.to_lowercase(), to_field.clone())))
                };
            }
        }
        index
    }

    /// The index as seen from the file `from` (display path): which model a class name means.
    pub fn scoped<'a>(&'a self, from: &'a str) -> Scoped<'a> {
        Scoped { index: self, from }
    }

    fn get(&self, class: &str, from: &str) -> Option<&ModelInfo> {
        self.resolve(last(class), from)
    }

    /// The model of class `class` declared closest to the file `from` (longest shared
    /// directory, then the first declared).
    fn resolve(&self, class: &str, from: &str) -> Option<&ModelInfo> {
        let models = self.by_class.get(class)?;
        let mut key = (class.to_string(), String::new());
        ancestors(from).find_map(|dir| {
            dir.clone_into(&mut key.1);
            self.by_dir.get(&key).and_then(|&i| models.get(i))
        })
    }

    /// The models as tables.
    pub fn schema(&self) -> Schema {
        let mut schema = Schema::default();
        for m in self.by_class.values().flatten() {
            let mut t = Table {
                defined_at: Some(m.at.clone()),
                primary_key: m.pk.iter().map(|c| Arc::from(c.as_str())).collect(),
                ..Table::default()
            };
            for f in &m.fields {
                t.columns.push(Column {
                    name: f.column.as_str().into(),
                    data_type: if f.decl.data_type.is_empty() {
                        "text".into()
                    } else {
                        f.decl.data_type.as_str().into()
                    },
                    not_null: f.decl.not_null || f.decl.primary_key,
                    has_default: f.decl.has_default,
                });
                if f.decl.unique && !f.decl.primary_key {
                    t.unique_keys.push(vec![f.column.as_str().into()]);
                }
                if let (Some((parent, col)), Some((_, _, action))) = (&f.references, &f.decl.fk) {
                    t.foreign_keys.push(ForeignKey {
                        columns: vec![f.column.as_str().into()],
                        parent: relation(parent),
                        parent_columns: col.iter().map(|c| Arc::from(c.as_str())).collect(),
                        on_delete: action_of(action),
                        on_update: ReferentialAction::NoAction,
                    });
                }
            }
            schema.tables.insert(relation(&m.table), t);
        }
        schema
    }
}

/// A [`ModelIndex`] seen from one file.
#[derive(Clone, Copy)]
pub(crate) struct Scoped<'a> {
    index: &'a ModelIndex,
    from: &'a str,
}

impl Scoped<'_> {
    /// The table of a model as SQL text (quoted when needed); unknown classes map to their
    /// lower-cased name.
    pub fn table(&self, class: &str) -> String {
        match self.index.get(class, self.from) {
            Some(m) => m
                .table
                .split('.')
                .map(quote_ident)
                .collect::<Vec<_>>()
                .join("."),
            None => quote_ident(&last(class).to_lowercase()),
        }
    }

    /// The column a field refers to: `pk` → the primary key, a relation field → its `_id`
    /// column, anything else as written.
    pub fn column(&self, class: &str, field: &str) -> String {
        let m = self.index.get(class, self.from);
        let col = if field == "pk" {
            m.and_then(|m| m.pk.first().cloned())
                .unwrap_or_else(|| "id".into())
        } else {
            m.and_then(|m| m.fields.iter().find(|f| f.name == field))
                .map(|f| f.column.clone())
                .unwrap_or_else(|| field.to_string())
        };
        quote_ident(&col)
    }

    /// `select_for_update(of=("self", "account"))`: a relation field's target table, or a
    /// model's table.
    pub fn of_table(&self, class: &str, name: &str) -> String {
        if name == "self" {
            return self.table(class);
        }
        if let Some((t, _)) = self
            .index
            .get(class, self.from)
            .and_then(|m| m.fields.iter().find(|f| f.name == name))
            .and_then(|f| f.references.as_ref())
        {
            return quote_ident(t);
        }
        self.table(name)
    }

    /// Columns that are neither keys nor foreign keys (what a plain `save()` rewrites without
    /// changing any key).
    pub fn plain_columns(&self, class: &str) -> Vec<String> {
        self.index
            .get(class, self.from)
            .map(|m| {
                m.fields
                    .iter()
                    .filter(|f| !f.key && !f.fk)
                    .map(|f| quote_ident(&f.column))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A table name as stored → the name lockgraph compares (ORMs quote names, so case is kept).
fn relation(table: &str) -> RelationName {
    RelationName::from_parts(table.split('.').map(|p| (p, true)))
}

fn last(s: &str) -> &str {
    s.rsplit('.').next().unwrap_or(s)
}

/// `"bank.Account"` (a Django app.Model) rather than `"accounts.id"` (a table.column).
fn is_class_path(s: &str) -> bool {
    s.rsplit('.')
        .next()
        .and_then(|l| l.chars().next())
        .is_some_and(|c| c.is_ascii_uppercase())
}

/// `CASCADE`, `"SET NULL"`, `models.PROTECT` → the action.
fn action_of(written: &str) -> ReferentialAction {
    match written
        .trim()
        .to_ascii_uppercase()
        .replace([' ', '-'], "_")
        .as_str()
    {
        "CASCADE" => ReferentialAction::Cascade,
        "SET_NULL" => ReferentialAction::SetNull,
        "SET_DEFAULT" => ReferentialAction::SetDefault,
        "PROTECT" | "RESTRICT" => ReferentialAction::Restrict,
        _ => ReferentialAction::NoAction,
    }
}
