//! ORM calls: knex query builders, Prisma model operations, Sequelize models (declarations,
//! static and row operations).

use super::expr::KNEXISH;
use super::{Link, Lowerer, Val, is_class_name, unwrap};
use crate::ir::{CallTarget, FieldDecl, ModelDecl, Op, OrmKind, SiteBody};
use crate::lang::common;
use crate::orm::{Action, Filter, FilterOp, LockSpec, OrmStmt, Strength, Value};
use tree_sitter::Node;

/// knex builder methods (one of them marks a chain on an unusual receiver as knex).
const KNEX_METHODS: &[&str] = &[
    "where",
    "andWhere",
    "orWhere",
    "whereIn",
    "whereNot",
    "whereNull",
    "first",
    "select",
    "update",
    "insert",
    "del",
    "delete",
    "forUpdate",
    "forShare",
    "forNoKeyUpdate",
    "forKeyShare",
    "noWait",
    "skipLocked",
    "increment",
    "decrement",
    "orderBy",
    "returning",
    "limit",
    "offset",
    "count",
    "pluck",
    "join",
    "leftJoin",
    "onConflict",
    "transacting",
    "columns",
    "distinct",
    "groupBy",
];

/// Prisma model operations.
const PRISMA_OPS: &[&str] = &[
    "findUnique",
    "findUniqueOrThrow",
    "findFirst",
    "findFirstOrThrow",
    "findMany",
    "create",
    "createMany",
    "update",
    "updateMany",
    "upsert",
    "delete",
    "deleteMany",
    "count",
    "aggregate",
    "groupBy",
];

/// Sequelize model (static) operations.
const SEQUELIZE_OPS: &[&str] = &[
    "findOne",
    "findByPk",
    "findAll",
    "findAndCountAll",
    "findOrCreate",
    "count",
    "create",
    "bulkCreate",
    "update",
    "destroy",
    "increment",
    "decrement",
    "upsert",
    "max",
    "min",
    "sum",
];

/// A comparison operator written as a string (`where('n', '<', x)`).
fn cmp_op(s: &str) -> Option<FilterOp> {
    Some(match s.trim() {
        "=" | "==" => FilterOp::Eq,
        "<" => FilterOp::Cmp("<"),
        "<=" => FilterOp::Cmp("<="),
        ">" => FilterOp::Cmp(">"),
        ">=" => FilterOp::Cmp(">="),
        "<>" | "!=" => FilterOp::Cmp("<>"),
        _ => return None,
    })
}

/// Sequelize's default table name: the model name pluralised (simple English rules).
pub(super) fn pluralize(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|e| lower.ends_with(e))
    {
        return format!("{name}es");
    }
    if let Some(stem) = name.strip_suffix(['y', 'Y'])
        && stem
            .chars()
            .last()
            .is_some_and(|c| !"aeiouAEIOU".contains(c))
    {
        return format!("{stem}ies");
    }
    format!("{name}s")
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn snake(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

impl Lowerer<'_> {
    // ----- knex -------------------------------------------------------------------------------

    /// A knex builder chain: `trx('accounts').where({ id }).update({…})`,
    /// `knex.from('accounts')…`. `Some(result)` when it is one.
    pub(super) fn knex_chain(
        &mut self,
        root: Node<'_>,
        root_name: Option<&str>,
        links: &[Link<'_>],
        line: u32,
        ops: &mut Vec<Op>,
    ) -> Option<Option<Val>> {
        let (mut table, rest, name) = match (root_name, links) {
            (Some(n), [Link::Call(a), rest @ ..]) if root.kind() == "identifier" => {
                (self.first_string(*a), rest, n)
            }
            (Some("this"), [Link::Attr(f), Link::Call(a), rest @ ..]) => {
                (self.first_string(*a), rest, self.text(*f))
            }
            (Some(n), _) => (None, links, n),
            _ => return None,
        };
        if table.is_none() && !std::ptr::eq(rest, links) {
            return None;
        }
        let pairs = self.pairs(rest);
        if pairs.is_empty() && table.is_none() {
            return None;
        }
        let knexish = KNEXISH.contains(&name);
        let mut has_method = false;
        let mut stmt = OrmStmt::select(String::new());
        for (m, args) in &pairs {
            let pos = self.positional(*args);
            has_method |= KNEX_METHODS.contains(m);
            match *m {
                "table" | "from" | "into" | "queryBuilder" => {
                    if let Some(t) = self.first_string(*args) {
                        table = Some(t);
                    }
                }
                "where" | "andWhere" | "orWhere" | "whereNot" => self.knex_where(&pos, &mut stmt),
                "whereIn" => {
                    if let (Some(col), Some(v)) =
                        (pos.first().and_then(|c| self.string_value(*c)), pos.get(1))
                    {
                        stmt.filters.push(Filter {
                            field: col,
                            op: FilterOp::In,
                            value: Some(self.expr_text(*v)),
                        });
                    }
                }
                "whereNull" => {
                    if let Some(col) = pos.first().and_then(|c| self.string_value(*c)) {
                        stmt.filters.push(Filter {
                            field: col,
                            op: FilterOp::IsNull,
                            value: None,
                        });
                    }
                }
                "update" => {
                    stmt.action = Action::Update;
                    self.knex_sets(&pos, &mut stmt);
                }
                "insert" => {
                    stmt.action = Action::Insert;
                    let obj = pos.first().map(|o| unwrap(*o));
                    let obj = match obj {
                        Some(a) if a.kind() == "array" => a.named_child(0),
                        o => o,
                    };
                    if let Some(o) = obj {
                        stmt.sets = self
                            .object_members(o)
                            .into_iter()
                            .map(|(k, v)| (k, self.value_of(v, 0)))
                            .collect();
                    }
                }
                "del" | "delete" => stmt.action = Action::Delete,
                "increment" | "decrement" => {
                    stmt.action = Action::Update;
                    let op = if *m == "increment" { "+" } else { "-" };
                    let mut bump = |col: String, v: Option<Node<'_>>, s: &Self| {
                        let by = v.map_or(Value::Param, |v| s.value_of(v, 0));
                        stmt.sets.push((
                            col.clone(),
                            Value::Bin(Box::new(Value::Col(col)), op, Box::new(by)),
                        ));
                    };
                    match pos.first().map(|p| unwrap(*p)) {
                        Some(o) if o.kind() == "object" => {
                            for (k, v) in self.object_members(o) {
                                bump(k, Some(v), self);
                            }
                        }
                        Some(c) => {
                            if let Some(col) = self.string_value(c) {
                                bump(col, pos.get(1).copied(), self);
                            }
                        }
                        None => {}
                    }
                }
                "forUpdate" => stmt.lock = Some(lock(Strength::Update)),
                "forShare" => stmt.lock = Some(lock(Strength::Share)),
                "forNoKeyUpdate" => stmt.lock = Some(lock(Strength::NoKeyUpdate)),
                "forKeyShare" => stmt.lock = Some(lock(Strength::KeyShare)),
                "noWait" => {
                    if let Some(l) = &mut stmt.lock {
                        l.nowait = true;
                    }
                }
                "skipLocked" => {
                    if let Some(l) = &mut stmt.lock {
                        l.skip_locked = true;
                    }
                }
                "orderBy" => {
                    if let Some(c) = self.first_string(*args) {
                        stmt.order.push(c);
                    }
                }
                _ => {}
            }
        }
        let table = table?;
        if !(knexish || has_method) {
            return None;
        }
        // `accounts as a`, `accounts a`: the table.
        let table = table.split_whitespace().next().unwrap_or("").to_string();
        if table.is_empty() {
            return None;
        }
        stmt.model = table.clone();
        self.imply_model(&table, table.clone(), line);
        self.run_orm(stmt, line, None, ops);
        Some(None)
    }

    fn first_string(&self, args: Node<'_>) -> Option<String> {
        self.positional(args)
            .first()
            .and_then(|a| self.string_value(*a))
    }

    /// `where({ id, n: x })`, `where('id', id)`, `where('n', '<', x)`.
    fn knex_where(&self, pos: &[Node<'_>], stmt: &mut OrmStmt) {
        match pos {
            [o] if unwrap(*o).kind() == "object" => stmt.filters.extend(self.filters_of(*o)),
            [c, v] => {
                if let Some(col) = self.string_value(*c) {
                    stmt.filters.push(Filter {
                        field: col,
                        op: FilterOp::Eq,
                        value: self.filter_value(*v),
                    });
                }
            }
            [c, op, v] => {
                if let (Some(col), Some(op)) = (
                    self.string_value(*c),
                    self.string_value(*op).and_then(|o| cmp_op(&o)),
                ) {
                    stmt.filters.push(Filter {
                        field: col,
                        op,
                        value: self.filter_value(*v),
                    });
                }
            }
            _ => {}
        }
    }

    /// `update({ a: x })`, `update('a', x)`.
    fn knex_sets(&self, pos: &[Node<'_>], stmt: &mut OrmStmt) {
        match pos {
            [o, ..] if unwrap(*o).kind() == "object" => {
                stmt.sets = self
                    .object_members(*o)
                    .into_iter()
                    .map(|(k, v)| (k, self.value_of(v, 0)))
                    .collect();
            }
            [c, v, ..] => {
                if let Some(col) = self.string_value(*c) {
                    stmt.sets.push((col, self.value_of(*v, 0)));
                }
            }
            _ => {}
        }
    }

    /// Equality filters of an object (`{ id, status: 'open' }`, Prisma/Sequelize
    /// `{ id: { in: ids } }`).
    fn filters_of(&self, obj: Node<'_>) -> Vec<Filter> {
        self.object_members(obj)
            .into_iter()
            .filter(|(k, _)| !k.starts_with('['))
            .map(|(field, v)| {
                let v = unwrap(v);
                if v.kind() == "object" {
                    let nested = self.object_members(v);
                    let op_in = nested.iter().find(|(k, _)| k == "in");
                    return match op_in {
                        Some((_, x)) => Filter {
                            field,
                            op: FilterOp::In,
                            value: Some(self.expr_text(*x)),
                        },
                        None => {
                            // Sequelize `{ [Op.in]: ids }` and other operators.
                            let mut c = v.walk();
                            let computed_in = v.named_children(&mut c).any(|m| {
                                m.kind() == "pair"
                                    && m.child_by_field_name("key")
                                        .is_some_and(|k| self.text(k).contains(".in]"))
                            });
                            Filter {
                                field,
                                op: if computed_in {
                                    FilterOp::In
                                } else {
                                    FilterOp::Eq
                                },
                                value: None,
                            }
                        }
                    };
                }
                if v.kind() == "null" {
                    return Filter {
                        field,
                        op: FilterOp::IsNull,
                        value: None,
                    };
                }
                Filter {
                    field,
                    op: FilterOp::Eq,
                    value: self.filter_value(v),
                }
            })
            .collect()
    }

    /// The expression a filter compares with (`None` for a literal: a fresh parameter).
    fn filter_value(&self, v: Node<'_>) -> Option<String> {
        let v = unwrap(v);
        match v.kind() {
            "number" | "string" | "template_string" | "true" | "false" => None,
            _ => Some(self.expr_text(v)),
        }
    }

    /// A value assigned to a column: Prisma `{ decrement: n }`, knex `trx.raw('balance - ?',
    /// [n])`, Sequelize `sequelize.literal('balance - 1')`, or a run-time value.
    fn value_of(&self, v: Node<'_>, depth: usize) -> Value {
        let v = unwrap(v);
        if depth > 8 {
            return Value::Param;
        }
        match v.kind() {
            "object" => {
                for (k, x) in self.object_members(v) {
                    match k.as_str() {
                        "increment" | "decrement" | "multiply" | "divide" => {
                            let op = match k.as_str() {
                                "increment" => "+",
                                "decrement" => "-",
                                "multiply" => "*",
                                _ => "/",
                            };
                            return Value::Bin(
                                Box::new(Value::Param),
                                op,
                                Box::new(self.value_of(x, depth + 1)),
                            );
                        }
                        "set" => return self.value_of(x, depth + 1),
                        _ => {}
                    }
                }
                Value::Param
            }
            "call_expression" => {
                // `raw('balance - ?', [n])`, `literal('balance - 1')`.
                let Some(f) = v.child_by_field_name("function") else {
                    return Value::Param;
                };
                let name = self.text(f).rsplit('.').next().unwrap_or("");
                let Some(args) = v.child_by_field_name("arguments") else {
                    return Value::Param;
                };
                let pos = self.positional(args);
                if !matches!(name, "raw" | "literal") {
                    return Value::Param;
                }
                let Some(text) = pos.first().and_then(|t| self.string_value(*t)) else {
                    return Value::Param;
                };
                let words: Vec<&str> = text.split_whitespace().collect();
                match words.as_slice() {
                    [col, op @ ("+" | "-" | "*" | "/"), rhs]
                        if col.chars().all(|c| c.is_alphanumeric() || c == '_') =>
                    {
                        let op: &'static str = match *op {
                            "+" => "+",
                            "-" => "-",
                            "*" => "*",
                            _ => "/",
                        };
                        let rhs = match (*rhs, pos.get(1).and_then(|b| self.array_args(*b))) {
                            ("?", Some(b)) => match b.first() {
                                Some(crate::sqltext::Arg::Expr(e)) => Value::Expr(e.clone()),
                                _ => Value::Param,
                            },
                            _ => Value::Param,
                        };
                        Value::Bin(Box::new(Value::Col((*col).to_string())), op, Box::new(rhs))
                    }
                    _ => Value::Param,
                }
            }
            "number" | "string" | "template_string" | "true" | "false" | "null" => Value::Param,
            _ => Value::Expr(self.expr_text(v)),
        }
    }

    /// Fixes `{ decrement: n }` values (written with an unknown column) to the column itself.
    fn own_column(sets: Vec<(String, Value)>) -> Vec<(String, Value)> {
        sets.into_iter()
            .map(|(k, v)| match v {
                Value::Bin(a, op, b) if matches!(*a, Value::Param) => {
                    let col = Value::Col(k.clone());
                    (k, Value::Bin(Box::new(col), op, b))
                }
                v => (k, v),
            })
            .collect()
    }

    // ----- Prisma -----------------------------------------------------------------------------

    /// `x.account.update({ where, data })`: the statement, and the call it may really be
    /// (`this.accounts.update(…)` on a scanned class).
    fn prisma_op(
        &mut self,
        root: Node<'_>,
        links: &[Link<'_>],
        line: u32,
    ) -> Option<(OrmStmt, Option<CallTarget>)> {
        let n = links.len();
        let (Some(Link::Attr(acc)), Some(Link::Attr(op)), Some(Link::Call(args))) = (
            links.get(n.wrapping_sub(3)),
            links.get(n.wrapping_sub(2)),
            links.get(n.wrapping_sub(1)),
        ) else {
            return None;
        };
        let (acc, op) = (self.text(*acc), self.text(*op));
        if !PRISMA_OPS.contains(&op) || !acc.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        {
            return None;
        }
        let pos = self.positional(*args);
        let arg = pos.first().map(|a| unwrap(*a));
        let shaped = match arg {
            None => matches!(op, "findMany" | "findFirst" | "count" | "deleteMany"),
            Some(a) if a.kind() == "object" => {
                ["where", "data", "select", "include", "create", "orderBy"]
                    .iter()
                    .any(|k| self.object_field(a, k).is_some())
            }
            _ => false,
        };
        if !shaped {
            return None;
        }
        let model = capitalize(acc);
        let action = match op {
            "create" | "createMany" | "upsert" => Action::Insert,
            "update" | "updateMany" => Action::Update,
            "delete" | "deleteMany" => Action::Delete,
            _ => Action::Select,
        };
        let mut stmt = OrmStmt::select(model.clone()).with_action(action);
        if let Some(a) = arg {
            if let Some(w) = self.object_field(a, "where") {
                stmt.filters = self.filters_of(w);
            }
            let data = if op == "upsert" {
                self.object_field(a, "create")
            } else {
                self.object_field(a, "data")
            };
            if let Some(d) = data {
                let d = match unwrap(d) {
                    arr if arr.kind() == "array" => arr.named_child(0).unwrap_or(arr),
                    d => d,
                };
                let sets = self
                    .object_members(d)
                    .into_iter()
                    .map(|(k, v)| (k, self.value_of(v, 0)))
                    .collect();
                stmt.sets = Self::own_column(sets);
            }
            if let Some(o) = self.object_field(a, "orderBy") {
                stmt.order = self.object_members(o).into_iter().map(|(k, _)| k).collect();
            }
        }
        self.imply_model(&model, model.clone(), line);
        let target = (root.kind() == "this" && n == 3)
            .then(|| CallTarget::SelfAttr(acc.to_string(), op.to_string()));
        Some((stmt, target))
    }

    /// A Prisma model operation run now. `Some(result)` when it is one.
    pub(super) fn prisma_call(
        &mut self,
        root: Node<'_>,
        _root_name: Option<&str>,
        links: &[Link<'_>],
        line: u32,
        ops: &mut Vec<Op>,
    ) -> Option<Option<Val>> {
        let (stmt, target) = self.prisma_op(root, links, line)?;
        self.run_orm(stmt, line, target, ops);
        Some(None)
    }

    /// A Prisma operation assigned without `await` (`const a = tx.account.update(…)`): its site,
    /// run where it is awaited or batched.
    pub(super) fn prisma_lazy(&mut self, value: Node<'_>, _ops: &mut Vec<Op>) -> Option<u32> {
        let (root, links) = Self::flatten(value)?;
        let line = common::line(value);
        // `` tx.$executeRaw`…` `` is lazy too.
        if let [.., Link::Attr(m), Link::Call(t)] = links.as_slice()
            && t.kind() == "template_string"
            && matches!(self.text(*m), "$executeRaw" | "$queryRaw")
        {
            let (sql, args) = self.template_parts(*t, true);
            let args = crate::sqltext::Args {
                positional: Some(args.clone()),
                seq: Some(args),
                named: None,
            };
            return Some(self.site(line, SiteBody::Raw(sql), Some(args)));
        }
        let (stmt, _) = self.prisma_op(root, &links, line)?;
        Some(self.site(line, SiteBody::Orm(stmt), None))
    }

    // ----- Sequelize --------------------------------------------------------------------------

    /// `Model.findOne({…})`, `db.Model.update(…)`, `row.update(…)`, `Model.init(…)`.
    /// `Some(result)` when handled.
    pub(super) fn sequelize_call(
        &mut self,
        root: Node<'_>,
        root_name: Option<&str>,
        links: &[Link<'_>],
        line: u32,
        ops: &mut Vec<Op>,
    ) -> Option<Option<Val>> {
        let name = root_name.filter(|_| root.kind() == "identifier")?;
        if let Some(Val::Row(model, key, attrs)) = self.vars.get(name).cloned() {
            let [Link::Attr(m), Link::Call(args)] = links else {
                return None;
            };
            return self.sequelize_row(name, &model, key, &attrs, self.text(*m), *args, line, ops);
        }
        let (model, op, args) = match links {
            [Link::Attr(op), Link::Call(args), ..] if is_class_name(name) => {
                (name.to_string(), self.text(*op), *args)
            }
            [Link::Attr(m), Link::Attr(op), Link::Call(args), ..]
                if is_class_name(self.text(*m)) && !self.vars.contains_key(name) =>
            {
                (self.text(*m).to_string(), self.text(*op), *args)
            }
            _ => return None,
        };
        if self.vars.contains_key(&model) {
            return None;
        }
        let pos = self.positional(args);
        let obj = |i: usize| {
            pos.get(i)
                .map(|a| unwrap(*a))
                .filter(|a| a.kind() == "object")
        };
        if op == "init" && links.len() == 2 {
            let (Some(attrs), Some(opts)) = (obj(0), obj(1)) else {
                return None;
            };
            let decl = self.sequelize_model(&model, &model, attrs, Some(opts), line);
            self.ir.models.push(decl);
            return Some(None);
        }
        if !SEQUELIZE_OPS.contains(&op) {
            return None;
        }
        let has_where =
            |o: Option<Node<'_>>| o.is_some_and(|o| self.object_field(o, "where").is_some());
        let (action, options) = match op {
            "findOne" | "findAll" | "findAndCountAll" | "count" | "max" | "min" | "sum" => {
                if !(pos.is_empty() || obj(0).is_some()) {
                    return None;
                }
                (Action::Select, obj(0))
            }
            "findOrCreate" => (Action::Select, obj(0)),
            "findByPk" if !pos.is_empty() => (Action::Select, obj(1)),
            "update" if has_where(obj(1)) => (Action::Update, obj(1)),
            "increment" | "decrement" if has_where(obj(1)) => (Action::Update, obj(1)),
            "destroy" if has_where(obj(0)) => (Action::Delete, obj(0)),
            "create" | "bulkCreate" | "upsert" if !pos.is_empty() => (Action::Insert, obj(1)),
            _ => return None,
        };
        let mut stmt = OrmStmt::select(model.clone()).with_action(action);
        match op {
            "findByPk" => stmt = stmt.by_pk(pos.first().map(|k| self.expr_text(*k))),
            "update" => {
                if let Some(v) = obj(0) {
                    stmt.sets = self
                        .object_members(v)
                        .into_iter()
                        .map(|(k, v)| (k, self.value_of(v, 0)))
                        .collect();
                }
            }
            "increment" | "decrement" => stmt.sets = self.bumps(op, pos.first().copied(), options),
            "create" | "bulkCreate" | "upsert" => {
                let v = pos.first().map(|v| unwrap(*v));
                let v = match v {
                    Some(a) if a.kind() == "array" => a.named_child(0),
                    v => v,
                };
                if let Some(v) = v {
                    stmt.sets = self
                        .object_members(v)
                        .into_iter()
                        .map(|(k, v)| (k, self.value_of(v, 0)))
                        .collect();
                }
            }
            _ => {}
        }
        if let Some(o) = options {
            self.sequelize_options(o, &mut stmt);
        }
        let key = stmt.pk_value();
        self.imply_model(&model, pluralize(&model), line);
        let target = CallTarget::ClassMethod(model.clone(), op.to_string());
        self.run_orm(stmt, line, Some(target), ops);
        let loads_row = matches!(op, "findOne" | "findByPk" | "findOrCreate");
        Some(loads_row.then(|| Val::Row(model, key, Vec::new())))
    }

    /// `where`, `lock`, `skipLocked`, `order` of a Sequelize options object.
    fn sequelize_options(&self, o: Node<'_>, stmt: &mut OrmStmt) {
        if let Some(w) = self.object_field(o, "where") {
            stmt.filters.extend(self.filters_of(w));
        }
        if stmt.action == Action::Select
            && let Some(l) = self.object_field(o, "lock")
        {
            let level = self.object_field(l, "level").unwrap_or(l);
            let t = self.text(level);
            let strength = if t.contains("NO_KEY_UPDATE") {
                Some(Strength::NoKeyUpdate)
            } else if t.contains("KEY_SHARE") {
                Some(Strength::KeyShare)
            } else if t.contains("SHARE") {
                Some(Strength::Share)
            } else if t.contains("UPDATE") || t == "true" {
                Some(Strength::Update)
            } else {
                None
            };
            if let Some(s) = strength {
                let mut spec = lock(s);
                spec.skip_locked = self
                    .object_field(o, "skipLocked")
                    .is_some_and(|v| v.kind() == "true");
                stmt.lock = Some(spec);
            }
        }
    }

    /// `increment('balance', { by: n })`, `increment({ balance: n }, …)`.
    fn bumps(
        &self,
        op: &str,
        first: Option<Node<'_>>,
        options: Option<Node<'_>>,
    ) -> Vec<(String, Value)> {
        let sign = if op == "increment" { "+" } else { "-" };
        let bump = |col: String, by: Value| {
            (
                col.clone(),
                Value::Bin(Box::new(Value::Col(col)), sign, Box::new(by)),
            )
        };
        let Some(first) = first.map(unwrap) else {
            return Vec::new();
        };
        if first.kind() == "object" {
            return self
                .object_members(first)
                .into_iter()
                .map(|(k, v)| bump(k, self.value_of(v, 0)))
                .collect();
        }
        let by = options
            .and_then(|o| self.object_field(o, "by"))
            .map_or(Value::Param, |v| self.value_of(v, 0));
        match self.string_value(first) {
            Some(col) => vec![bump(col, by)],
            None => Vec::new(),
        }
    }

    /// An operation on a row a Sequelize model loaded.
    #[allow(clippy::too_many_arguments)]
    fn sequelize_row(
        &mut self,
        var: &str,
        model: &str,
        key: Option<String>,
        attrs: &[String],
        m: &str,
        args: Node<'_>,
        line: u32,
        ops: &mut Vec<Op>,
    ) -> Option<Option<Val>> {
        let pos = self.positional(args);
        let key = key.or_else(|| Some(format!("{var}.id")));
        let base = OrmStmt::select(model.to_string());
        let stmt = match m {
            "update" => {
                let mut s = base.with_action(Action::Update).by_pk(key.clone());
                if let Some(v) = pos.first() {
                    s.sets = self
                        .object_members(*v)
                        .into_iter()
                        .map(|(k, v)| (k, self.value_of(v, 0)))
                        .collect();
                }
                s
            }
            "increment" | "decrement" => {
                let mut s = base.with_action(Action::Update).by_pk(key.clone());
                s.sets = self.bumps(m, pos.first().copied(), pos.get(1).copied());
                s
            }
            "save" => {
                let mut s = base.with_action(Action::Update).by_pk(key.clone());
                s.sets = attrs.iter().map(|a| (a.clone(), Value::Param)).collect();
                if let Some(Val::Row(_, _, a)) = self.vars.get_mut(var) {
                    a.clear();
                }
                s
            }
            "destroy" => base.with_action(Action::Delete).by_pk(key.clone()),
            "reload" => {
                let mut s = base.by_pk(key.clone());
                if let Some(o) = pos.first() {
                    self.sequelize_options(*o, &mut s);
                }
                s
            }
            _ => return None,
        };
        self.run_orm(stmt, line, None, ops);
        Some(None)
    }

    /// `const Account = sequelize.define('Account', attrs, options)`: a model declaration.
    pub(super) fn sequelize_define(&mut self, var: &str, value: Node<'_>) -> bool {
        if value.kind() != "call_expression" {
            return false;
        }
        let (Some(f), Some(args)) = (
            value.child_by_field_name("function"),
            value.child_by_field_name("arguments"),
        ) else {
            return false;
        };
        if f.kind() != "member_expression"
            || f.child_by_field_name("property").map(|p| self.text(p)) != Some("define")
        {
            return false;
        }
        let pos = self.positional(args);
        let (Some(name), Some(attrs)) = (
            pos.first().and_then(|n| self.string_value(*n)),
            pos.get(1)
                .map(|a| unwrap(*a))
                .filter(|a| a.kind() == "object"),
        ) else {
            return false;
        };
        let opts = pos
            .get(2)
            .map(|o| unwrap(*o))
            .filter(|o| o.kind() == "object");
        let decl = self.sequelize_model(var, &name, attrs, opts, common::line(value));
        self.ir.models.push(decl);
        true
    }

    /// A Sequelize model: `class` is how the code names it, `name` the model name.
    fn sequelize_model(
        &self,
        class: &str,
        name: &str,
        attrs: Node<'_>,
        opts: Option<Node<'_>>,
        line: u32,
    ) -> ModelDecl {
        let opt_str = |k: &str| {
            opts.and_then(|o| self.object_field(o, k))
                .and_then(|v| self.string_value(v))
        };
        let opt_true = |k: &str| {
            opts.and_then(|o| self.object_field(o, k))
                .is_some_and(|v| v.kind() == "true")
        };
        let model_name = opt_str("modelName").unwrap_or_else(|| name.to_string());
        let underscored = opt_true("underscored");
        let table = opt_str("tableName").unwrap_or_else(|| {
            if opt_true("freezeTableName") {
                model_name.clone()
            } else {
                pluralize(&model_name)
            }
        });
        let mut fields = Vec::new();
        for (attr, def) in self.object_members(attrs) {
            let def = unwrap(def);
            let (ty, options) = if def.kind() == "object" {
                (self.object_field(def, "type"), Some(def))
            } else {
                (Some(def), None)
            };
            let flag = |k: &str| {
                options
                    .and_then(|o| self.object_field(o, k))
                    .is_some_and(|v| v.kind() == "true")
            };
            let column = options
                .and_then(|o| self.object_field(o, "field"))
                .and_then(|v| self.string_value(v))
                .unwrap_or_else(|| {
                    if underscored {
                        snake(&attr)
                    } else {
                        attr.clone()
                    }
                });
            let refs = options.and_then(|o| self.object_field(o, "references"));
            let fk = refs.map(|r| {
                let target = self
                    .object_field(r, "model")
                    .map(|m| {
                        self.string_value(m)
                            .unwrap_or_else(|| self.text(m).to_string())
                    })
                    .unwrap_or_default();
                let key = self
                    .object_field(r, "key")
                    .and_then(|k| self.string_value(k));
                let on_delete = options
                    .and_then(|o| self.object_field(o, "onDelete"))
                    .and_then(|v| self.string_value(v))
                    .unwrap_or_default();
                (target, key, on_delete)
            });
            fields.push(FieldDecl {
                name: attr,
                column,
                data_type: ty
                    .map_or("text", |t| sequelize_type(self.text(t)))
                    .to_string(),
                primary_key: flag("primaryKey"),
                unique: flag("unique"),
                not_null: options
                    .and_then(|o| self.object_field(o, "allowNull"))
                    .is_some_and(|v| v.kind() == "false"),
                has_default: flag("autoIncrement")
                    || options
                        .and_then(|o| self.object_field(o, "defaultValue"))
                        .is_some(),
                fk,
            });
        }
        ModelDecl {
            class: class.to_string(),
            kind: OrmKind::Declared,
            table: Some(table),
            app: String::new(),
            is_abstract: false,
            bases: Vec::new(),
            fields,
            line,
            implied: false,
        }
    }
}

fn lock(strength: Strength) -> LockSpec {
    LockSpec {
        strength,
        of: Vec::new(),
        nowait: false,
        skip_locked: false,
    }
}

/// `DataTypes.DECIMAL(12, 2)` → `numeric`.
fn sequelize_type(t: &str) -> &'static str {
    let name = t
        .split('(')
        .next()
        .unwrap_or(t)
        .rsplit('.')
        .next()
        .unwrap_or(t)
        .to_ascii_uppercase();
    match name.as_str() {
        "INTEGER" | "SMALLINT" | "TINYINT" | "MEDIUMINT" => "integer",
        "BIGINT" => "bigint",
        "STRING" | "CHAR" | "CITEXT" => "varchar",
        "DECIMAL" | "NUMBER" => "numeric",
        "FLOAT" | "DOUBLE" | "REAL" => "double precision",
        "BOOLEAN" => "boolean",
        "DATE" => "timestamptz",
        "DATEONLY" => "date",
        "UUID" | "UUIDV4" => "uuid",
        "JSON" | "JSONB" => "jsonb",
        _ => "text",
    }
}
