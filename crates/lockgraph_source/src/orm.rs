//! ORM calls as data, and the SQL they stand for.
//!
//! Lowering turns a Django queryset chain or a SQLAlchemy construct into an [`OrmStmt`] (model
//! named as written, filters, assignments, lock clause); linking looks the model up in the
//! [`ModelIndex`] and [`synthesize`]s the SQL text PostgreSQL would receive — only as much of it
//! as decides locks: the relation, the key predicate (`WHERE id = $1`), the assigned columns,
//! `ORDER BY` and the row-locking clause.

use crate::model::Scoped;
use rustc_hash::FxHashMap;

/// What the statement does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// `SELECT`.
    Select,
    /// `UPDATE`.
    Update,
    /// `DELETE`.
    Delete,
    /// `INSERT`.
    Insert,
}

/// A comparison in a filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FilterOp {
    /// `=` (Django `field=`, `__exact`; SQLAlchemy `==`).
    Eq,
    /// `= ANY($n)` (`__in`, `.in_()`).
    In,
    /// `IS NULL`.
    IsNull,
    /// Any other comparison, rendered with this operator.
    Cmp(&'static str),
}

/// One filter: a field (`pk` for the primary key) and how it is compared to a parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Filter {
    /// Field (attribute) name, `pk`, or a column name.
    pub field: String,
    /// Comparison.
    pub op: FilterOp,
    /// The Python expression compared with (`account_id`, `obj.pk`): statements of one function
    /// comparing a key with the same expression get the same `$n`, so the same row is seen as
    /// the same row.
    pub value: Option<String>,
}

/// A value assigned to a column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Value {
    /// A run-time value.
    Param,
    /// A run-time value named by a Python expression (`wallet_id`): numbered like filter values.
    Expr(String),
    /// Another column of the row (`F("balance")`, `Account.balance`).
    Col(String),
    /// Arithmetic on values.
    Bin(Box<Value>, &'static str, Box<Value>),
    /// A literal the code writes, as SQL text (`'refunded'`, `42`, `now()`): kept in the
    /// statement, so a reproduction writes a value the column accepts (added for the Ruby
    /// front-end, whose `update!(status: "refunded")` names its values).
    Lit(String),
}

/// Row-lock strength of a `FOR …` clause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Strength {
    /// `FOR UPDATE`.
    Update,
    /// `FOR NO KEY UPDATE`.
    NoKeyUpdate,
    /// `FOR SHARE`.
    Share,
    /// `FOR KEY SHARE`.
    KeyShare,
}

/// A row-locking clause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LockSpec {
    /// Strength.
    pub strength: Strength,
    /// `OF` models as written (`self` for the queried model).
    pub of: Vec<String>,
    /// `NOWAIT`.
    pub nowait: bool,
    /// `SKIP LOCKED`.
    pub skip_locked: bool,
}

/// An ORM statement: model as written plus what lowering understood.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OrmStmt {
    /// Model class name as written (last dotted part).
    pub model: String,
    /// What it does.
    pub action: Action,
    /// `WHERE` conditions, joined with `AND`.
    pub filters: Vec<Filter>,
    /// Assigned columns (`UPDATE … SET`, `INSERT` columns).
    pub sets: Vec<(String, Value)>,
    /// `ORDER BY` fields (a leading `-` is dropped).
    pub order: Vec<String>,
    /// Row-locking clause.
    pub lock: Option<LockSpec>,
    /// A Django queryset (runs when evaluated) rather than a SQLAlchemy construct (runs only
    /// when passed to `execute`).
    pub django: bool,
    /// A SQLAlchemy `session.query(...)` (runs when evaluated, like a queryset).
    pub query: bool,
}

impl OrmStmt {
    /// A `SELECT * FROM model` with nothing else.
    pub fn select(model: impl Into<String>) -> Self {
        OrmStmt {
            model: model.into(),
            action: Action::Select,
            filters: Vec::new(),
            sets: Vec::new(),
            order: Vec::new(),
            lock: None,
            django: false,
            query: false,
        }
    }

    /// The same statement with `action`.
    pub fn with_action(mut self, action: Action) -> Self {
        self.action = action;
        self
    }

    /// Adds a `pk = $n` filter comparing with the Python expression `value`.
    pub fn by_pk(mut self, value: Option<String>) -> Self {
        self.filters.push(Filter {
            field: "pk".into(),
            op: FilterOp::Eq,
            value,
        });
        self
    }

    /// The expression an equality filter on the primary key (`pk`, `id`) compares with.
    pub fn pk_value(&self) -> Option<String> {
        self.filters
            .iter()
            .find(|f| f.op == FilterOp::Eq && (f.field == "pk" || f.field == "id"))
            .and_then(|f| f.value.clone())
    }
}

/// Numbers parameters as SQL is written.
struct Params(usize);

impl Params {
    fn next(&mut self) -> String {
        self.0 += 1;
        format!("${}", self.0)
    }
}

struct Render<'m> {
    models: Scoped<'m>,
    model: &'m str,
    keys: &'m FxHashMap<String, usize>,
    p: Params,
}

impl Render<'_> {
    fn value(&mut self, v: &Value, depth: usize) -> String {
        match v {
            Value::Param => self.p.next(),
            Value::Expr(e) => match self.keys.get(e) {
                Some(n) => format!("${n}"),
                None => self.p.next(),
            },
            Value::Col(c) => self.models.column(self.model, c),
            Value::Bin(a, op, b) if depth < 16 => {
                let a = self.value(a, depth + 1);
                let b = self.value(b, depth + 1);
                format!("{a} {op} {b}")
            }
            Value::Bin(..) => self.p.next(),
            Value::Lit(l) => l.clone(),
        }
    }
}

/// Registers the Python expressions of `v` in `keys`.
fn register(v: &Value, keys: &mut FxHashMap<String, usize>, depth: usize) {
    match v {
        Value::Expr(e) => {
            let next = keys.len() + 1;
            keys.entry(e.clone()).or_insert(next);
        }
        Value::Bin(a, _, b) if depth < 16 => {
            register(a, keys, depth + 1);
            register(b, keys, depth + 1);
        }
        _ => {}
    }
}

/// The SQL an ORM statement sends (see the module docs).
///
/// `keys` numbers the Python expressions filters compare with, program-wide: a filter on
/// `account_id` is the same `$n` in every statement; other parameters are numbered after
/// the expressions known so far.
pub(crate) fn synthesize(
    s: &OrmStmt,
    models: Scoped<'_>,
    keys: &mut FxHashMap<String, usize>,
) -> String {
    let table = models.table(&s.model);
    let numbers: Vec<Option<usize>> = s
        .filters
        .iter()
        .map(|f| {
            let v = f.value.as_ref()?;
            let next = keys.len() + 1;
            Some(*keys.entry(v.clone()).or_insert(next))
        })
        .collect();
    for (_, v) in &s.sets {
        register(v, keys, 0);
    }
    let mut r = Render {
        models,
        model: &s.model,
        keys,
        p: Params(keys.len()),
    };
    let mut sql = match s.action {
        Action::Select => format!("SELECT * FROM {table}"),
        Action::Delete => format!("DELETE FROM {table}"),
        Action::Update => {
            let mut sets: Vec<String> = s
                .sets
                .iter()
                .map(|(c, v)| format!("{} = {}", models.column(&s.model, c), r.value(v, 0)))
                .collect();
            if sets.is_empty() {
                // `obj.save()` with nothing known: Django writes every non-key field.
                sets = models
                    .plain_columns(&s.model)
                    .into_iter()
                    .map(|c| format!("{c} = {}", r.p.next()))
                    .collect();
            }
            if sets.is_empty() {
                let pk = models.column(&s.model, "pk");
                sets.push(format!("{pk} = {pk}"));
            }
            format!("UPDATE {table} SET {}", sets.join(", "))
        }
        Action::Insert => {
            if s.sets.is_empty() {
                return format!("INSERT INTO {table} DEFAULT VALUES");
            }
            let cols: Vec<String> = s
                .sets
                .iter()
                .map(|(c, _)| models.column(&s.model, c))
                .collect();
            let vals: Vec<String> = s.sets.iter().map(|(_, v)| r.value(v, 0)).collect();
            return format!(
                "INSERT INTO {table} ({}) VALUES ({})",
                cols.join(", "),
                vals.join(", ")
            );
        }
    };
    if !s.filters.is_empty() {
        let conds: Vec<String> = s
            .filters
            .iter()
            .zip(&numbers)
            .map(|(f, n)| {
                let col = models.column(&s.model, &f.field);
                let mut param = || match n {
                    Some(n) => format!("${n}"),
                    None => r.p.next(),
                };
                match f.op {
                    FilterOp::Eq => format!("{col} = {}", param()),
                    FilterOp::In => format!("{col} = ANY({})", param()),
                    FilterOp::IsNull => format!("{col} IS NULL"),
                    FilterOp::Cmp(op) => format!("{col} {op} {}", param()),
                }
            })
            .collect();
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    if s.action == Action::Select {
        if !s.order.is_empty() {
            let cols: Vec<String> = s
                .order
                .iter()
                .map(|o| models.column(&s.model, o.trim_start_matches('-')))
                .collect();
            sql.push_str(" ORDER BY ");
            sql.push_str(&cols.join(", "));
        }
        if let Some(l) = &s.lock {
            sql.push_str(match l.strength {
                Strength::Update => " FOR UPDATE",
                Strength::NoKeyUpdate => " FOR NO KEY UPDATE",
                Strength::Share => " FOR SHARE",
                Strength::KeyShare => " FOR KEY SHARE",
            });
            if !l.of.is_empty() {
                let of: Vec<String> = l.of.iter().map(|m| models.of_table(&s.model, m)).collect();
                sql.push_str(" OF ");
                sql.push_str(&of.join(", "));
            }
            if l.nowait {
                sql.push_str(" NOWAIT");
            } else if l.skip_locked {
                sql.push_str(" SKIP LOCKED");
            }
        }
    }
    sql
}
