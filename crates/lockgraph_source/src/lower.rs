//! Lowering: one tree-sitter syntax tree → [`ModuleIr`] (functions as operation trees, classes,
//! imports, string constants, ORM models).
//!
//! Receivers are recognised loosely, because Python types are unknown: any `x.execute(…)` whose
//! first argument builds SQL text is SQL; `X.objects.…` is a Django queryset; `select(X)…`,
//! `session.query(X)…`, `session.get(X, …)` are SQLAlchemy. Recursion over the tree is bounded
//! by [`MAX_DEPTH`]; deeper nesting is skipped rather than overflowing the stack.

use crate::ir::{
    CallTarget, ClassIr, FieldDecl, FuncIr, ModelDecl, ModuleIr, Op, OrmKind, SiteBody, SiteIr,
};
use crate::lang::common::{self, MAX_DEPTH, Ordered};
use crate::orm::{Action, Filter, FilterOp, LockSpec, OrmStmt, Strength, Value};
use crate::sqltext::{
    Arg, Args, Part, SqlExpr, brace_format, concat, percent_format, push, unescape,
};
use rustc_hash::FxHashMap;
use tree_sitter::Node;

/// Longest method chain (`a.b().c()…`) read.
const MAX_CHAIN: usize = 64;

/// What a local variable is known to hold.
#[derive(Clone, Debug)]
enum Val {
    /// SQL text.
    Str(SqlExpr),
    /// An ORM statement or queryset not run yet.
    Orm(OrmStmt),
    /// An instance of a class (a model row, a repository object).
    Inst(Inst),
    /// Something unknown (a parameter, a loop variable): shadows module constants.
    Unknown,
}

/// Where an instance came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    /// `Model(...)`: not in the database yet.
    New,
    /// Loaded by a Django queryset.
    Django,
    /// Loaded by a SQLAlchemy session.
    Sqla,
    /// A parameter with a type annotation.
    Unknown,
}

#[derive(Clone, Debug)]
struct Inst {
    class: String,
    origin: Origin,
    /// Constructor keyword arguments and assigned attributes (INSERT columns).
    cols: Vec<(String, Value)>,
    /// Attributes assigned since it was loaded (Django `save()` writes them).
    attrs: Vec<String>,
    /// The expression its primary key was looked up with (`account_id`), when known.
    key: Option<String>,
}

impl Inst {
    fn new(class: impl Into<String>, origin: Origin) -> Self {
        Inst {
            class: class.into(),
            origin,
            cols: Vec::new(),
            attrs: Vec::new(),
            key: None,
        }
    }

    fn keyed(mut self, key: Option<String>) -> Self {
        self.key = key;
        self
    }

    /// The key expression, or `var.pk` when it was not looked up by key.
    fn key_or(&self, var: &str) -> Option<String> {
        self.key.clone().or_else(|| Some(format!("{var}.pk")))
    }
}

/// One link of a method chain `root.a(x).b(y)`.
#[derive(Clone, Copy)]
enum Link<'t> {
    Attr(Node<'t>),
    Call(Node<'t>),
}

/// Reads one file.
pub(crate) struct Lowerer<'s> {
    src: &'s str,
    /// Dotted module path (`orders.service`).
    module: String,
    /// Path segments of the display path, for Django app labels.
    path: &'s str,
    pub(crate) ir: ModuleIr,
    cur: u32,
    class: Option<u32>,
    vars: FxHashMap<String, Val>,
    /// Key order in the current function (see [`Ordered`]).
    ordered: Ordered,
}

/// Methods of a SQLAlchemy result that give the loaded object(s).
const RESULT_METHODS: &[&str] = &[
    "scalar_one",
    "scalar_one_or_none",
    "scalar",
    "scalars",
    "first",
    "one",
    "one_or_none",
    "unique",
    "all",
];

/// Whether a name looks like a class (`Account`, `OrderService`).
fn is_class_name(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

/// Methods that run SQL given as their first argument.
const EXECUTE_METHODS: &[&str] = &[
    "execute",
    "executemany",
    "executescript",
    "fetch",
    "fetchrow",
    "fetchval",
    "fetch_all",
    "fetch_one",
    "fetch_val",
    "exec_driver_sql",
    "scalars",
    "scalar",
    "copy_expert",
];

impl<'s> Lowerer<'s> {
    /// A lowerer for the file at display path `path` with source `src`.
    pub(crate) fn new(src: &'s str, path: &'s str, module: String) -> Self {
        Lowerer {
            src,
            module,
            path,
            ir: ModuleIr::default(),
            cur: 0,
            class: None,
            vars: FxHashMap::default(),
            ordered: Ordered::default(),
        }
    }

    fn text(&self, n: Node<'_>) -> &'s str {
        common::text(self.src, n)
    }

    fn line(n: Node<'_>) -> u32 {
        common::line(n)
    }

    /// Lowers the whole module.
    pub(crate) fn lower_module(&mut self, root: Node<'_>) {
        self.ir = common::module_ir(&self.module);
        let mut ops = Vec::new();
        let mut cursor = root.walk();
        for child in root.named_children(&mut cursor) {
            self.lower_stmt(child, &mut ops, 1);
        }
        if let Some(f) = self.ir.funcs.get_mut(0) {
            f.body = ops;
        }
    }

    fn block(&mut self, node: Option<Node<'_>>, depth: usize) -> Vec<Op> {
        let mut ops = Vec::new();
        if let Some(node) = node {
            let mut cursor = node.walk();
            for child in node.named_children(&mut cursor) {
                self.lower_stmt(child, &mut ops, depth + 1);
            }
        }
        ops
    }

    fn site(&mut self, line: u32, body: SiteBody, many: bool) -> u32 {
        self.site_with(line, body, many, None)
    }

    /// A raw SQL site with the parameters the call shows.
    fn raw_site(&mut self, line: u32, sql: SqlExpr, many: bool, args: Option<Args>) -> u32 {
        self.site_with(line, SiteBody::Raw(sql), many, args)
    }

    fn site_with(&mut self, line: u32, body: SiteBody, many: bool, args: Option<Args>) -> u32 {
        let ordered = self.ordered.site(&body, args.as_ref(), &[]);
        let site = SiteIr {
            line,
            func: self.cur,
            many,
            body,
            args,
            ordered,
        };
        common::push_site(&mut self.ir, site)
    }

    fn call(&mut self, target: CallTarget, line: u32) -> u32 {
        common::push_call(&mut self.ir, self.cur, target, line)
    }

    fn mark_autobegin(&mut self) {
        if let Some(f) = self.ir.funcs.get_mut(self.cur as usize) {
            f.autobegin = true;
        }
    }

    // ----- statements -------------------------------------------------------------------------

    fn lower_stmt(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let mut cursor = node.walk();
        match node.kind() {
            "expression_statement" => {
                for c in node.named_children(&mut cursor) {
                    match c.kind() {
                        "assignment" => self.lower_assignment(c, ops, depth + 1),
                        "augmented_assignment" => self.lower_augmented(c, ops, depth + 1),
                        _ => {
                            self.lower_expr(c, ops, depth + 1, false);
                        }
                    }
                }
            }
            "return_statement" | "raise_statement" => {
                for c in node.named_children(&mut cursor) {
                    self.lower_expr(c, ops, depth + 1, false);
                }
                ops.push(Op::Return);
            }
            "if_statement" => self.lower_if(node, ops, depth),
            "for_statement" => self.lower_for(node, ops, depth),
            "while_statement" => {
                let mut body = Vec::new();
                if let Some(c) = node.child_by_field_name("condition") {
                    self.lower_expr(c, &mut body, depth + 1, false);
                }
                body.extend(self.block(node.child_by_field_name("body"), depth));
                if !body.is_empty() {
                    ops.push(Op::Loop(body));
                }
                if let Some(e) = node.child_by_field_name("alternative") {
                    ops.extend(self.block(e.child_by_field_name("body"), depth));
                }
            }
            "try_statement" => self.lower_try(node, ops, depth),
            "with_statement" => self.lower_with(node, ops, depth),
            "match_statement" => self.lower_match(node, ops, depth),
            "function_definition" => self.lower_function(node, None, false, depth),
            "decorated_definition" => self.lower_decorated(node, false, depth),
            "class_definition" => self.lower_class(node, depth),
            "import_statement" | "import_from_statement" => self.lower_import(node),
            "block" => ops.extend(self.block(Some(node), depth)),
            "assert_statement" | "delete_statement" | "print_statement" => {
                for c in node.named_children(&mut cursor) {
                    self.lower_expr(c, ops, depth + 1, false);
                }
            }
            _ => {}
        }
    }

    fn lower_if(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        if let Some(c) = node.child_by_field_name("condition") {
            self.lower_expr(c, ops, depth + 1, false);
        }
        let mut arms = vec![self.block(node.child_by_field_name("consequence"), depth)];
        let mut has_else = false;
        let mut cursor = node.walk();
        let alternatives: Vec<Node<'_>> = node
            .children_by_field_name("alternative", &mut cursor)
            .collect();
        for alt in alternatives {
            match alt.kind() {
                "elif_clause" => {
                    let mut arm = Vec::new();
                    if let Some(c) = alt.child_by_field_name("condition") {
                        self.lower_expr(c, &mut arm, depth + 1, false);
                    }
                    arm.extend(self.block(alt.child_by_field_name("consequence"), depth));
                    arms.push(arm);
                }
                _ => {
                    has_else = true;
                    arms.push(self.block(alt.child_by_field_name("body"), depth));
                }
            }
        }
        if !has_else {
            arms.push(Vec::new());
        }
        push_branch(ops, arms);
    }

    fn lower_for(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        let right = node.child_by_field_name("right");
        let sorted_keys = right.is_some_and(|r| self.is_sorted_seq(r));
        let val = right.and_then(|r| self.lower_expr(r, ops, depth + 1, true));
        let sorted = sorted_keys || matches!(&val, Some(Val::Orm(s)) if !s.order.is_empty());
        if let Some(left) = node.child_by_field_name("left") {
            let bound = match val {
                Some(Val::Orm(s)) => Val::Inst(Inst::new(
                    s.model,
                    if s.django {
                        Origin::Django
                    } else {
                        Origin::Sqla
                    },
                )),
                // Objects of a SQLAlchemy result (`for o in result.scalars()`).
                Some(Val::Inst(i)) if i.origin == Origin::Sqla => {
                    Val::Inst(Inst::new(i.class, Origin::Sqla))
                }
                _ => Val::Unknown,
            };
            self.bind_target(left, bound);
            if sorted {
                self.mark_ordered_names(left);
            }
        }
        self.ordered.loops += usize::from(sorted);
        let body = self.block(node.child_by_field_name("body"), depth);
        self.ordered.loops -= usize::from(sorted);
        if !body.is_empty() {
            ops.push(Op::Loop(body));
        }
        if let Some(e) = node.child_by_field_name("alternative") {
            ops.extend(self.block(e.child_by_field_name("body"), depth));
        }
    }

    fn lower_try(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        let mut main = self.block(node.child_by_field_name("body"), depth);
        let mut handlers = Vec::new();
        let mut finally = Vec::new();
        let mut cursor = node.walk();
        let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
        for c in children {
            match c.kind() {
                "except_clause" | "except_group_clause" => {
                    let mut cc = c.walk();
                    let block = c
                        .named_children(&mut cc)
                        .filter(|n| n.kind() == "block")
                        .last();
                    handlers.push(self.block(block, depth));
                }
                "else_clause" => main.extend(self.block(c.child_by_field_name("body"), depth)),
                "finally_clause" => {
                    let mut cc = c.walk();
                    let block = c.named_children(&mut cc).find(|n| n.kind() == "block");
                    finally = self.block(block, depth);
                }
                _ => {}
            }
        }
        if handlers.is_empty() {
            ops.extend(main);
        } else {
            let mut arms = vec![main];
            arms.extend(handlers);
            push_branch(ops, arms);
        }
        ops.extend(finally);
    }

    fn lower_match(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        if let Some(s) = node.child_by_field_name("subject") {
            self.lower_expr(s, ops, depth + 1, false);
        }
        let mut arms = Vec::new();
        let mut wildcard = false;
        if let Some(body) = node.child_by_field_name("body") {
            let mut cursor = body.walk();
            let cases: Vec<Node<'_>> = body.named_children(&mut cursor).collect();
            for case in cases.into_iter().filter(|c| c.kind() == "case_clause") {
                let mut cc = case.walk();
                if case.child_by_field_name("guard").is_none()
                    && case
                        .named_children(&mut cc)
                        .any(|p| p.kind() == "case_pattern" && self.text(p).trim() == "_")
                {
                    wildcard = true;
                }
                arms.push(self.block(case.child_by_field_name("consequence"), depth));
            }
        }
        if !wildcard {
            arms.push(Vec::new());
        }
        push_branch(ops, arms);
    }

    fn lower_with(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        let mut scopes = Vec::new();
        let mut cursor = node.walk();
        let clauses: Vec<Node<'_>> = node
            .named_children(&mut cursor)
            .filter(|c| c.kind() == "with_clause")
            .collect();
        for clause in clauses {
            let mut cc = clause.walk();
            let items: Vec<Node<'_>> = clause
                .named_children(&mut cc)
                .filter(|c| c.kind() == "with_item")
                .collect();
            for item in items {
                let Some(mut value) = item.child_by_field_name("value") else {
                    continue;
                };
                let mut alias = None;
                if value.kind() == "as_pattern" {
                    alias = value.child_by_field_name("alias");
                    if let Some(v) = value.named_child(0) {
                        value = v;
                    }
                }
                if self.is_scope_expr(value) {
                    scopes.push(Self::line(value));
                    if let Some(a) = alias {
                        self.bind_target(a, Val::Unknown);
                    }
                } else {
                    let v = self.lower_expr(value, ops, depth + 1, false);
                    if let Some(a) = alias {
                        self.bind_target(a, v.unwrap_or(Val::Unknown));
                    }
                }
            }
        }
        let mut body = self.block(node.child_by_field_name("body"), depth);
        for line in scopes.into_iter().rev() {
            body = vec![Op::Scope { line, body }];
        }
        ops.extend(body);
    }

    /// Whether a `with` item (or decorator) opens a transaction scope.
    fn is_scope_expr(&self, value: Node<'_>) -> bool {
        match value.kind() {
            "call" => {
                let Some(f) = value.child_by_field_name("function") else {
                    return false;
                };
                let name = match f.kind() {
                    "attribute" => f
                        .child_by_field_name("attribute")
                        .map(|a| self.text(a))
                        .unwrap_or(""),
                    "identifier" => self.text(f),
                    _ => "",
                };
                match name {
                    // `pool.connection()` (psycopg_pool) commits at exit like psycopg2's `with conn:`.
                    "atomic" | "transaction" | "begin" | "begin_nested" | "connection" => true,
                    "connect" => {
                        let t = self.text(f);
                        t.starts_with("psycopg2.") || t.starts_with("psycopg.")
                    }
                    _ => false,
                }
            }
            "identifier" | "attribute" => {
                let t = self.text(value);
                let last = t.rsplit('.').next().unwrap_or(t).to_ascii_lowercase();
                last.contains("conn") || last == "atomic"
            }
            _ => false,
        }
    }

    fn lower_decorated(&mut self, node: Node<'_>, in_class: bool, depth: usize) {
        let mut scope = None;
        let mut cursor = node.walk();
        for d in node.named_children(&mut cursor) {
            if d.kind() != "decorator" {
                continue;
            }
            let Some(e) = d.named_child(0) else { continue };
            let target = if e.kind() == "call" {
                e.child_by_field_name("function").unwrap_or(e)
            } else {
                e
            };
            let t = self.text(target);
            if t == "atomic" || t.ends_with(".atomic") {
                scope = Some(Self::line(d));
            }
        }
        let Some(def) = node.child_by_field_name("definition") else {
            return;
        };
        match def.kind() {
            "function_definition" => self.lower_function(def, scope, in_class, depth),
            "class_definition" => self.lower_class(def, depth),
            _ => {}
        }
    }

    fn lower_function(&mut self, node: Node<'_>, scope: Option<u32>, in_class: bool, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let name = node
            .child_by_field_name("name")
            .map(|n| self.text(n))
            .unwrap_or("<anonymous>")
            .to_string();
        let idx = u32::try_from(self.ir.funcs.len()).unwrap_or(u32::MAX);
        let parent = (self.cur != 0).then_some(self.cur);
        let display =
            common::func_display(&self.ir, &self.module, parent, self.class, in_class, &name);
        self.ir.funcs.push(FuncIr {
            name: name.clone(),
            class: self.class,
            parent,
            display,
            line: Self::line(node),
            body: Vec::new(),
            autobegin: false,
            is_module: false,
        });
        if in_class && let Some(c) = self.class.and_then(|c| self.ir.classes.get_mut(c as usize)) {
            c.methods.insert(name, idx);
        }
        let saved_cur = std::mem::replace(&mut self.cur, idx);
        let saved_vars = std::mem::take(&mut self.vars);
        let saved_ordered = std::mem::take(&mut self.ordered);
        if let Some(params) = node.child_by_field_name("parameters") {
            self.bind_params(params);
        }
        let mut body = self.block(node.child_by_field_name("body"), depth);
        if let Some(line) = scope {
            body = vec![Op::Scope { line, body }];
        }
        if let Some(f) = self.ir.funcs.get_mut(idx as usize) {
            f.body = body;
        }
        self.cur = saved_cur;
        self.vars = saved_vars;
        self.ordered = saved_ordered;
    }

    fn bind_params(&mut self, params: Node<'_>) {
        let mut cursor = params.walk();
        for p in params.named_children(&mut cursor) {
            let (name, ty) = match p.kind() {
                "identifier" => (Some(self.text(p)), None),
                "typed_parameter" => (
                    p.named_child(0)
                        .filter(|n| n.kind() == "identifier")
                        .map(|n| self.text(n)),
                    p.child_by_field_name("type"),
                ),
                "default_parameter" | "typed_default_parameter" => (
                    p.child_by_field_name("name").map(|n| self.text(n)),
                    p.child_by_field_name("type"),
                ),
                _ => (None, None),
            };
            let Some(name) = name else { continue };
            let class = ty
                .and_then(|t| t.named_child(0))
                .filter(|t| matches!(t.kind(), "identifier" | "attribute"))
                .map(|t| self.text(t))
                .filter(|t| is_class_name(t.rsplit('.').next().unwrap_or(t)));
            let val = match class {
                Some(c) => Val::Inst(Inst::new(c, Origin::Unknown)),
                None => Val::Unknown,
            };
            self.vars.insert(name.to_string(), val);
        }
    }

    fn lower_class(&mut self, node: Node<'_>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let name = node
            .child_by_field_name("name")
            .map(|n| self.text(n))
            .unwrap_or("")
            .to_string();
        let mut bases = Vec::new();
        if let Some(sc) = node.child_by_field_name("superclasses") {
            let mut cursor = sc.walk();
            for b in sc.named_children(&mut cursor) {
                if matches!(b.kind(), "identifier" | "attribute") {
                    bases.push(self.text(b).to_string());
                }
            }
        }
        let idx = u32::try_from(self.ir.classes.len()).unwrap_or(u32::MAX);
        self.ir.classes.push(ClassIr {
            name: name.clone(),
            bases: bases.clone(),
            ..ClassIr::default()
        });
        let body = node.child_by_field_name("body");
        if let Some(body) = body
            && let Some(m) = self.model_decl(body, &name, &bases, Self::line(node))
        {
            self.ir.models.push(m);
        }
        let saved_class = self.class.replace(idx);
        let saved_cur = std::mem::replace(&mut self.cur, 0);
        if let Some(body) = body {
            let mut cursor = body.walk();
            let children: Vec<Node<'_>> = body.named_children(&mut cursor).collect();
            for c in children {
                match c.kind() {
                    "function_definition" => self.lower_function(c, None, true, depth + 1),
                    "decorated_definition" => self.lower_decorated(c, true, depth + 1),
                    "class_definition" => self.lower_class(c, depth + 1),
                    _ => {}
                }
            }
        }
        self.class = saved_class;
        self.cur = saved_cur;
    }

    fn lower_import(&mut self, node: Node<'_>) {
        let mut cursor = node.walk();
        if node.kind() == "import_statement" {
            let names: Vec<Node<'_>> = node.children_by_field_name("name", &mut cursor).collect();
            for n in names {
                if n.kind() == "aliased_import" {
                    if let (Some(name), Some(alias)) = (
                        n.child_by_field_name("name"),
                        n.child_by_field_name("alias"),
                    ) {
                        self.ir
                            .imports
                            .insert(self.text(alias).to_string(), self.text(name).to_string());
                    }
                } else {
                    let t = self.text(n);
                    let first = t.split('.').next().unwrap_or(t).to_string();
                    self.ir.imports.insert(first.clone(), first);
                }
            }
            return;
        }
        let base = match node.child_by_field_name("module_name") {
            Some(m) if m.kind() == "relative_import" => {
                let t = self.text(m);
                let dots = t.chars().take_while(|c| *c == '.').count();
                let rest = t.get(dots..).unwrap_or("").trim();
                let mut pkg: Vec<&str> = self.module.split('.').collect();
                for _ in 0..dots {
                    pkg.pop();
                }
                if !rest.is_empty() {
                    pkg.push(rest);
                }
                pkg.join(".")
            }
            Some(m) => self.text(m).to_string(),
            None => return,
        };
        let names: Vec<Node<'_>> = node.children_by_field_name("name", &mut cursor).collect();
        for n in names {
            let (name, alias) = if n.kind() == "aliased_import" {
                (
                    n.child_by_field_name("name").map(|x| self.text(x)),
                    n.child_by_field_name("alias").map(|x| self.text(x)),
                )
            } else {
                (Some(self.text(n)), None)
            };
            let Some(name) = name else { continue };
            let local = alias.unwrap_or(name).to_string();
            let target = if base.is_empty() {
                name.to_string()
            } else {
                format!("{base}.{name}")
            };
            self.ir.imports.insert(local, target);
        }
    }

    // ----- assignments ------------------------------------------------------------------------

    fn lower_assignment(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        let Some(left) = node.child_by_field_name("left") else {
            return;
        };
        let Some(right) = node.child_by_field_name("right") else {
            return;
        };
        let val = if right.kind() == "assignment" {
            self.lower_assignment(right, ops, depth + 1);
            None
        } else {
            match self.eval_str(right, 0) {
                Some(s) if s.iter().any(|p| matches!(p, Part::Lit(_))) => Some(Val::Str(s)),
                _ => self.lower_expr(right, ops, depth + 1, false),
            }
        };
        if left.kind() == "attribute" {
            self.assign_attribute(left, val, right, ops);
            return;
        }
        self.note_order(left, right);
        if self.cur == 0 && self.class.is_none() && left.kind() == "identifier" {
            let name = self.text(left).to_string();
            match &val {
                Some(Val::Str(s)) => {
                    self.ir.consts.insert(name, s.clone());
                }
                Some(Val::Inst(i)) if i.origin == Origin::New => {
                    self.ir.instances.insert(name, i.class.clone());
                }
                _ => {}
            }
        }
        self.bind_target(left, val.unwrap_or(Val::Unknown));
    }

    fn lower_augmented(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        let right = node.child_by_field_name("right");
        if let Some(r) = right {
            self.lower_expr(r, ops, depth + 1, false);
        }
        if let (Some(left), Some(r)) = (node.child_by_field_name("left"), right)
            && left.kind() == "attribute"
        {
            self.assign_attribute(left, None, r, ops);
        }
    }

    /// `obj.attr = value`: remembers assigned attributes; on a SQLAlchemy-loaded object queues
    /// an UPDATE for the next flush; `self.x = Cls()` records the attribute's class.
    fn assign_attribute(
        &mut self,
        left: Node<'_>,
        val: Option<Val>,
        right: Node<'_>,
        ops: &mut Vec<Op>,
    ) {
        let (Some(obj), Some(attr)) = (
            left.child_by_field_name("object"),
            left.child_by_field_name("attribute"),
        ) else {
            return;
        };
        if obj.kind() != "identifier" {
            return;
        }
        let obj_name = self.text(obj);
        let attr = self.text(attr).to_string();
        if obj_name == "self" {
            if let (Some(Val::Inst(i)), Some(c)) = (&val, self.class)
                && let Some(class) = self.ir.classes.get_mut(c as usize)
            {
                class.attrs.insert(attr, i.class.clone());
            }
            return;
        }
        let value = self.value_of(right, 0);
        let Some(Val::Inst(inst)) = self.vars.get_mut(obj_name) else {
            return;
        };
        inst.attrs.push(attr.clone());
        match inst.origin {
            Origin::New => inst.cols.push((attr, value)),
            Origin::Sqla => {
                let key = inst.key_or(obj_name);
                let stmt = OrmStmt {
                    sets: vec![(attr, value)],
                    ..OrmStmt::select(inst.class.clone()).with_action(Action::Update)
                }
                .by_pk(key);
                let site = self.site(Self::line(left), SiteBody::Orm(stmt), false);
                ops.push(Op::Pending(site));
            }
            _ => {}
        }
    }

    /// Records what an assignment says about key order: `ids = sorted(…)` is a sorted sequence;
    /// `first, second = sorted([a, b])` and `lo, hi = min(a, b), max(a, b)` are sorted values;
    /// any other assignment forgets the names.
    fn note_order(&mut self, left: Node<'_>, right: Node<'_>) {
        let mut names = Vec::new();
        self.target_names(left, &mut names, 0);
        for n in &names {
            self.ordered.vals.remove(*n);
            self.ordered.seqs.remove(*n);
        }
        let min_max = right.kind() == "expression_list" && {
            let mut c = right.walk();
            let items: Vec<Node<'_>> = right.named_children(&mut c).collect();
            items.len() >= 2 && items.iter().all(|i| self.callee_is(*i, &["min", "max"]))
        };
        if min_max || (left.kind() != "identifier" && self.callee_is(right, &["sorted"])) {
            self.ordered
                .vals
                .extend(names.iter().map(|n| n.to_string()));
        } else if left.kind() == "identifier" && self.is_sorted_seq(right) {
            self.ordered
                .seqs
                .extend(names.iter().map(|n| n.to_string()));
        }
    }

    /// Marks the names a loop binds as ordered values.
    fn mark_ordered_names(&mut self, target: Node<'_>) {
        let mut names = Vec::new();
        self.target_names(target, &mut names, 0);
        self.ordered
            .vals
            .extend(names.into_iter().map(str::to_string));
    }

    /// The identifiers an assignment target binds.
    fn target_names(&self, target: Node<'_>, out: &mut Vec<&'s str>, depth: usize) {
        if depth > 16 {
            return;
        }
        match target.kind() {
            "identifier" => out.push(self.text(target)),
            "pattern_list"
            | "tuple_pattern"
            | "tuple"
            | "list_pattern"
            | "list"
            | "parenthesized_expression"
            | "as_pattern_target" => {
                let mut c = target.walk();
                let items: Vec<Node<'_>> = target.named_children(&mut c).collect();
                for i in items {
                    self.target_names(i, out, depth + 1);
                }
            }
            _ => {}
        }
    }

    /// Whether `node` is a call of one of the plain functions `names`.
    fn callee_is(&self, node: Node<'_>, names: &[&str]) -> bool {
        node.kind() == "call"
            && node
                .child_by_field_name("function")
                .is_some_and(|f| f.kind() == "identifier" && names.contains(&self.text(f)))
    }

    /// Whether `node` is a sequence in sorted order: `sorted(…)` or a name holding one.
    fn is_sorted_seq(&self, node: Node<'_>) -> bool {
        match node.kind() {
            "identifier" => self.ordered.seqs.contains(self.text(node)),
            "parenthesized_expression" => {
                node.named_child(0).is_some_and(|n| self.is_sorted_seq(n))
            }
            _ => self.callee_is(node, &["sorted"]),
        }
    }

    fn bind_target(&mut self, target: Node<'_>, val: Val) {
        match target.kind() {
            "identifier" => {
                self.vars.insert(self.text(target).to_string(), val);
            }
            "as_pattern_target" => {
                if let Some(c) = target.named_child(0) {
                    self.bind_target(c, val);
                }
            }
            "pattern_list" | "tuple_pattern" | "tuple" | "list_pattern" => {
                let mut cursor = target.walk();
                let items: Vec<Node<'_>> = target.named_children(&mut cursor).collect();
                let mut val = Some(val);
                for item in items {
                    // `obj, created = X.objects.get_or_create(...)`: the object comes first.
                    let v = val.take().unwrap_or(Val::Unknown);
                    self.bind_target(item, v);
                }
            }
            _ => {}
        }
    }

    // ----- expressions ------------------------------------------------------------------------

    fn lower_expr(
        &mut self,
        node: Node<'_>,
        ops: &mut Vec<Op>,
        depth: usize,
        force: bool,
    ) -> Option<Val> {
        if depth > MAX_DEPTH {
            return None;
        }
        match node.kind() {
            "await" | "parenthesized_expression" => {
                let inner = node.named_child(0)?;
                self.lower_expr(inner, ops, depth + 1, force)
            }
            "call" => self.lower_call(node, ops, depth, force),
            "identifier" => {
                let v = self.vars.get(self.text(node)).cloned();
                if force && let Some(Val::Orm(s)) = &v {
                    self.run_lazy(s.clone(), Self::line(node), ops);
                }
                v
            }
            "list_comprehension"
            | "set_comprehension"
            | "generator_expression"
            | "dictionary_comprehension" => {
                let mut body = Vec::new();
                let mut cursor = node.walk();
                let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
                for c in children {
                    if c.kind() == "for_in_clause" {
                        let v = c
                            .child_by_field_name("right")
                            .and_then(|r| self.lower_expr(r, ops, depth + 1, true));
                        if let Some(l) = c.child_by_field_name("left") {
                            let bound = match v {
                                Some(Val::Orm(s)) => Val::Inst(Inst::new(
                                    s.model,
                                    if s.django {
                                        Origin::Django
                                    } else {
                                        Origin::Sqla
                                    },
                                )),
                                _ => Val::Unknown,
                            };
                            self.bind_target(l, bound);
                        }
                    } else {
                        self.lower_expr(c, &mut body, depth + 1, false);
                    }
                }
                if !body.is_empty() {
                    ops.push(Op::Loop(body));
                }
                None
            }
            "lambda"
            | "string"
            | "concatenated_string"
            | "integer"
            | "float"
            | "true"
            | "false"
            | "none"
            | "comment" => None,
            _ => {
                let mut cursor = node.walk();
                let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
                for c in children {
                    self.lower_expr(c, ops, depth + 1, false);
                }
                None
            }
        }
    }

    /// Flattens `root.a(x).b(y)` into the root and its links (`None` when too long).
    fn flatten<'t>(node: Node<'t>) -> Option<(Node<'t>, Vec<Link<'t>>)> {
        let mut links = Vec::new();
        let mut n = node;
        loop {
            if links.len() > MAX_CHAIN {
                return None;
            }
            match n.kind() {
                "call" => {
                    links.push(Link::Call(n.child_by_field_name("arguments")?));
                    n = n.child_by_field_name("function")?;
                }
                "attribute" => {
                    links.push(Link::Attr(n.child_by_field_name("attribute")?));
                    n = n.child_by_field_name("object")?;
                }
                _ => break,
            }
        }
        links.reverse();
        Some((n, links))
    }

    /// Pairs `.m(args)` of a chain, from link `from`; stops at the first link that is not one.
    fn method_pairs<'t>(&self, links: &[Link<'t>]) -> Vec<(&'s str, Node<'t>)> {
        let mut out = Vec::new();
        let mut i = 0;
        while let (Some(Link::Attr(a)), Some(Link::Call(args))) = (links.get(i), links.get(i + 1)) {
            out.push((self.text(*a), *args));
            i += 2;
        }
        out
    }

    fn lower_call(
        &mut self,
        node: Node<'_>,
        ops: &mut Vec<Op>,
        depth: usize,
        force: bool,
    ) -> Option<Val> {
        let line = Self::line(node);
        let (root, links) = Self::flatten(node)?;
        let root_name = (root.kind() == "identifier").then(|| self.text(root));

        // Django: Model.objects.<chain>
        if let (Some(model), Some(Link::Attr(a))) = (root_name, links.first())
            && self.text(*a) == "objects"
            && is_class_name(model)
        {
            let pairs = self.method_pairs(links.get(1..).unwrap_or(&[]));
            let stmt = OrmStmt {
                django: true,
                ..OrmStmt::select(model)
            };
            return self.django_chain(stmt, &pairs, line, ops, force);
        }
        // A variable holding a queryset / statement: qs.filter(...), stmt.where(...)
        if let Some(Val::Orm(stmt)) = root_name.and_then(|n| self.vars.get(n)).cloned() {
            let pairs = self.method_pairs(&links);
            if !pairs.is_empty() {
                return if stmt.django {
                    self.django_chain(stmt, &pairs, line, ops, force)
                } else {
                    self.sqla_chain(stmt, &pairs, line, ops, force)
                };
            }
        }
        // SQLAlchemy constructs: select(M)..., update(M)..., sa.select(M)...
        let (builder, rest) = match (root_name, links.first(), links.get(1)) {
            (Some(n @ ("select" | "update" | "delete" | "insert")), Some(Link::Call(args)), _) => {
                (Some((n, *args)), links.get(1..).unwrap_or(&[]))
            }
            (Some("sa" | "sqlalchemy"), Some(Link::Attr(a)), Some(Link::Call(args)))
                if matches!(self.text(*a), "select" | "update" | "delete" | "insert") =>
            {
                (Some((self.text(*a), *args)), links.get(2..).unwrap_or(&[]))
            }
            _ => (None, &links[..]),
        };
        if let Some((kind, args)) = builder {
            let model = self.first_model_arg(args)?;
            let action = match kind {
                "update" => Action::Update,
                "delete" => Action::Delete,
                "insert" => Action::Insert,
                _ => Action::Select,
            };
            let stmt = OrmStmt::select(model).with_action(action);
            let pairs = self.method_pairs(rest);
            return self.sqla_chain(stmt, &pairs, line, ops, force);
        }
        // Module-level helpers: execute_values(cur, sql, rows), list(qs), …
        if let (Some(name), Some(Link::Call(args))) = (root_name, links.first()) {
            match name {
                "execute_values" | "execute_batch" => {
                    let sql = self.positional(*args).get(1).copied();
                    if let Some(s) = sql.and_then(|a| self.eval_str(a, 0)) {
                        let site = self.site(line, SiteBody::Raw(s), true);
                        ops.push(Op::Sql(site));
                    }
                    return None;
                }
                "list" | "len" | "tuple" | "sorted" | "set" | "bool" | "any" | "all" | "sum"
                | "next" | "iter" | "enumerate" | "reversed" => {
                    let mut v = None;
                    for a in self.positional(*args) {
                        v = self.lower_expr(a, ops, depth + 1, true);
                    }
                    return if name == "list" || name == "sorted" || name == "tuple" {
                        v
                    } else {
                        None
                    };
                }
                "text" | "F" | "Q" | "super" | "print" | "isinstance" | "getattr" | "setattr" => {
                    return None;
                }
                _ => {}
            }
        }
        // `ids.sort()`: the list is in key order from here on.
        if let (Some(name), [Link::Attr(a), Link::Call(_)]) = (root_name, links.as_slice())
            && self.text(*a) == "sort"
        {
            self.ordered.seqs.insert(name.to_string());
        }
        // The objects of a SQLAlchemy result: `result.scalar_one()`,
        // `(await session.execute(…)).scalars().first()`.
        let pairs = self.method_pairs(&links);
        if !pairs.is_empty()
            && pairs.len() * 2 == links.len()
            && pairs.iter().all(|(m, _)| RESULT_METHODS.contains(m))
        {
            match root_name {
                Some(n) => {
                    if let Some(Val::Inst(i)) = self.vars.get(n)
                        && i.origin == Origin::Sqla
                    {
                        return Some(Val::Inst(i.clone()));
                    }
                }
                None if matches!(root.kind(), "parenthesized_expression" | "await") => {
                    return match self.lower_expr(root, ops, depth + 1, false) {
                        Some(Val::Inst(i)) if i.origin == Origin::Sqla => Some(Val::Inst(i)),
                        _ => None,
                    };
                }
                None => {}
            }
        }
        // Database methods on any receiver (`cur.execute`, `self.session.commit()`,
        // `conn.cursor().execute(...)`).
        let mut i = 0;
        while i + 1 < links.len() {
            if let (Link::Attr(a), Link::Call(args)) = (links[i], links[i + 1]) {
                let m = self.text(a);
                let receiver = if i == 0 { Some(root) } else { None };
                if let Some(v) =
                    self.db_method(receiver, m, args, &links[i + 2..], line, ops, force)
                {
                    return v;
                }
            }
            i += 1;
        }
        self.user_call(root, root_name, &links, ops, depth)
    }

    /// Methods that are database calls whatever the receiver. `Some(result)` when handled.
    #[allow(clippy::too_many_arguments)]
    fn db_method(
        &mut self,
        root: Option<Node<'_>>,
        m: &str,
        args: Node<'_>,
        rest: &[Link<'_>],
        line: u32,
        ops: &mut Vec<Op>,
        force: bool,
    ) -> Option<Option<Val>> {
        let pos = self.positional(args);
        let receiver_var = root
            .filter(|r| r.kind() == "identifier")
            .map(|r| self.text(r))
            .and_then(|n| self.vars.get(n).cloned().map(|v| (n, v)));
        if EXECUTE_METHODS.contains(&m) {
            let first = *pos.first()?;
            if let Some(stmt) = self.orm_of(first) {
                let model = stmt.model.clone();
                let key = stmt.pk_value();
                let select = stmt.action == Action::Select;
                let site = self.site(line, SiteBody::Orm(stmt), m == "executemany");
                ops.push(Op::Sql(site));
                return Some(select.then(|| Val::Inst(Inst::new(model, Origin::Sqla).keyed(key))));
            }
            let sql = self.eval_str(first, 0)?;
            let many = m == "executemany";
            let params = (!many).then(|| self.call_args(first, args, &pos));
            let site = self.raw_site(line, sql, many, params);
            ops.push(Op::Sql(site));
            return Some(None);
        }
        match m {
            "query" => {
                let model = self.model_name(*pos.first()?)?;
                let stmt = OrmStmt {
                    query: true,
                    ..OrmStmt::select(model)
                };
                let pairs = self.method_pairs(rest);
                Some(self.sqla_chain(stmt, &pairs, line, ops, force))
            }
            "get" if pos.len() >= 2 => {
                let model = self.model_name(pos[0])?;
                let key = Some(self.text(pos[1]).to_string());
                let mut stmt = OrmStmt::select(model.clone()).by_pk(key.clone());
                stmt.lock = self
                    .kw(args, "with_for_update")
                    .and_then(|v| self.lock_from_value(v));
                let site = self.site(line, SiteBody::Orm(stmt), false);
                ops.push(Op::Sql(site));
                Some(Some(Val::Inst(Inst::new(model, Origin::Sqla).keyed(key))))
            }
            "refresh" => {
                let Some(Val::Inst(i)) = pos.first().and_then(|p| self.var_of(*p)) else {
                    return Some(None);
                };
                let key = i.key_or(self.text(pos[0]));
                let mut stmt = OrmStmt::select(i.class).by_pk(key);
                stmt.lock = self
                    .kw(args, "with_for_update")
                    .and_then(|v| self.lock_from_value(v));
                let site = self.site(line, SiteBody::Orm(stmt), false);
                ops.push(Op::Sql(site));
                Some(None)
            }
            "add" | "add_all" if pos.len() == 1 => {
                let items: Vec<Node<'_>> = if m == "add_all" {
                    let mut c = pos[0].walk();
                    pos[0].named_children(&mut c).collect()
                } else {
                    vec![pos[0]]
                };
                for item in items {
                    let v = self.lower_expr(item, ops, 0, false);
                    if let Some(Val::Inst(i)) = v
                        && i.origin == Origin::New
                    {
                        let stmt = OrmStmt {
                            sets: i.cols,
                            ..OrmStmt::select(i.class).with_action(Action::Insert)
                        };
                        let site = self.site(line, SiteBody::Orm(stmt), false);
                        ops.push(Op::Pending(site));
                    }
                }
                Some(None)
            }
            "delete" if pos.len() == 1 => {
                if let Some(Val::Inst(i)) = self.var_of(pos[0]) {
                    let key = i.key_or(self.text(pos[0]));
                    let stmt = OrmStmt::select(i.class)
                        .with_action(Action::Delete)
                        .by_pk(key);
                    let site = self.site(line, SiteBody::Orm(stmt), false);
                    ops.push(Op::Pending(site));
                    return Some(None);
                }
                None
            }
            "flush" if pos.is_empty() => {
                ops.push(Op::Flush);
                Some(None)
            }
            "commit" if pos.is_empty() => {
                self.mark_autobegin();
                ops.push(Op::Commit);
                Some(None)
            }
            "rollback" if pos.is_empty() => {
                self.mark_autobegin();
                ops.push(Op::Rollback);
                Some(None)
            }
            "begin" if pos.is_empty() => {
                ops.push(Op::Begin(line));
                Some(None)
            }
            "save" | "delete" | "refresh_from_db" => {
                let (name, Val::Inst(i)) = receiver_var? else {
                    return None;
                };
                let stmt = match m {
                    "save" if i.origin == Origin::New => OrmStmt {
                        sets: i.cols.clone(),
                        django: true,
                        ..OrmStmt::select(i.class.clone()).with_action(Action::Insert)
                    },
                    "save" => {
                        let fields = self
                            .kw(args, "update_fields")
                            .map(|v| self.string_items(v))
                            .unwrap_or_else(|| i.attrs.clone());
                        let mut seen = Vec::new();
                        let sets = fields
                            .into_iter()
                            .filter(|f| {
                                let new = !seen.contains(f);
                                seen.push(f.clone());
                                new
                            })
                            .map(|f| (f, Value::Param))
                            .collect();
                        OrmStmt {
                            sets,
                            django: true,
                            ..OrmStmt::select(i.class.clone()).with_action(Action::Update)
                        }
                        .by_pk(i.key_or(name))
                    }
                    "delete" => OrmStmt::select(i.class.clone())
                        .with_action(Action::Delete)
                        .by_pk(i.key_or(name)),
                    _ => OrmStmt::select(i.class.clone()).by_pk(i.key_or(name)),
                };
                let site = self.site(line, SiteBody::Orm(stmt), false);
                if m == "save"
                    && i.origin == Origin::New
                    && let Some(Val::Inst(v)) = self.vars.get_mut(name)
                {
                    v.origin = Origin::Django;
                    v.attrs.clear();
                }
                if i.origin == Origin::Django {
                    ops.push(Op::Sql(site));
                } else {
                    let call = self.call(CallTarget::ClassMethod(i.class, m.to_string()), line);
                    ops.push(Op::CallOrSql { call, site });
                }
                Some(None)
            }
            _ => None,
        }
    }

    fn user_call(
        &mut self,
        root: Node<'_>,
        root_name: Option<&'s str>,
        links: &[Link<'_>],
        ops: &mut Vec<Op>,
        depth: usize,
    ) -> Option<Val> {
        let mut path: Vec<String> = match root_name {
            Some(n) => vec![n.to_string()],
            None => {
                self.lower_expr(root, ops, depth + 1, false);
                vec!["?".to_string()]
            }
        };
        let mut result = None;
        let n_calls = links.iter().filter(|l| matches!(l, Link::Call(_))).count();
        for link in links {
            match link {
                Link::Attr(a) => path.push(self.text(*a).to_string()),
                Link::Call(args) => {
                    let mut kwargs = Vec::new();
                    let mut cursor = args.walk();
                    let arg_nodes: Vec<Node<'_>> = args.named_children(&mut cursor).collect();
                    for a in arg_nodes {
                        if a.kind() == "keyword_argument" {
                            if let (Some(k), Some(v)) = (
                                a.child_by_field_name("name"),
                                a.child_by_field_name("value"),
                            ) {
                                kwargs.push((self.text(k).to_string(), self.value_of(v, 0)));
                                self.lower_expr(v, ops, depth + 1, false);
                            }
                        } else {
                            self.lower_expr(a, ops, depth + 1, false);
                        }
                    }
                    let last = path.last().map(String::as_str).unwrap_or("");
                    if is_class_name(last) && path.first().is_some_and(|f| f != "?") {
                        // A constructor: the instance's class is known.
                        let mut inst = Inst::new(path.join("."), Origin::New);
                        inst.cols = kwargs;
                        result = (n_calls == 1).then_some(Val::Inst(inst));
                    } else if let Some(target) = self.call_target(&path) {
                        let id = self.call(target, Self::line(*args));
                        ops.push(Op::Call(id));
                    }
                    path = vec!["?".to_string()];
                }
            }
        }
        result
    }

    fn call_target(&self, path: &[String]) -> Option<CallTarget> {
        match path {
            [] => None,
            [s, m] if s == "self" || s == "cls" => Some(CallTarget::SelfMethod(m.clone())),
            [s, a, m] if s == "self" => Some(CallTarget::SelfAttr(a.clone(), m.clone())),
            [v, m] if v != "?" => match self.vars.get(v) {
                Some(Val::Inst(i)) => Some(CallTarget::ClassMethod(i.class.clone(), m.clone())),
                Some(_) => Some(CallTarget::Path(vec!["?".into(), m.clone()])),
                None => Some(CallTarget::Path(path.to_vec())),
            },
            [v, ..] if v != "?" && self.vars.contains_key(v) => {
                let m = path.last().cloned().unwrap_or_default();
                Some(CallTarget::Path(vec!["?".into(), m]))
            }
            _ => Some(CallTarget::Path(path.to_vec())),
        }
    }

    // ----- ORM chains -------------------------------------------------------------------------

    /// Runs a lazy queryset / query now (it is iterated or forced).
    fn run_lazy(&mut self, stmt: OrmStmt, line: u32, ops: &mut Vec<Op>) {
        if stmt.django || stmt.query {
            let site = self.site(line, SiteBody::Orm(stmt), false);
            ops.push(Op::Sql(site));
        }
    }

    fn run(&mut self, stmt: OrmStmt, line: u32, ops: &mut Vec<Op>, many: bool) {
        let site = self.site(line, SiteBody::Orm(stmt), many);
        ops.push(Op::Sql(site));
    }

    fn django_chain(
        &mut self,
        mut stmt: OrmStmt,
        pairs: &[(&str, Node<'_>)],
        line: u32,
        ops: &mut Vec<Op>,
        force: bool,
    ) -> Option<Val> {
        let loaded = |model: &str, key: Option<String>| {
            Some(Val::Inst(Inst::new(model, Origin::Django).keyed(key)))
        };
        for (m, args) in pairs {
            match *m {
                "filter" => stmt.filters.extend(self.django_filters(*args)),
                "select_for_update" => {
                    let mut l = LockSpec {
                        strength: Strength::Update,
                        of: Vec::new(),
                        nowait: self.kw_true(*args, "nowait"),
                        skip_locked: self.kw_true(*args, "skip_locked"),
                    };
                    if self.kw_true(*args, "no_key") {
                        l.strength = Strength::NoKeyUpdate;
                    }
                    if let Some(of) = self.kw(*args, "of") {
                        l.of = self.string_items(of);
                    }
                    stmt.lock = Some(l);
                }
                "order_by" => {
                    stmt.order = self
                        .positional(*args)
                        .into_iter()
                        .filter_map(|a| self.string_value(a))
                        .collect();
                }
                "get" | "first" | "last" | "earliest" | "latest" => {
                    stmt.filters.extend(self.django_filters(*args));
                    let model = stmt.model.clone();
                    let key = stmt.pk_value();
                    self.run(stmt, line, ops, false);
                    return loaded(&model, key);
                }
                "count" | "exists" | "aggregate" | "in_bulk" | "iterator" | "explain"
                | "contains" => {
                    self.run(stmt, line, ops, false);
                    return None;
                }
                "create" => {
                    let model = stmt.model.clone();
                    let ins = OrmStmt {
                        sets: self.kwargs_values(*args, &[]),
                        ..stmt.with_action(Action::Insert)
                    };
                    self.run(ins, line, ops, false);
                    return loaded(&model, None);
                }
                "update" => {
                    stmt.sets = self.kwargs_values(*args, &[]);
                    stmt.action = Action::Update;
                    self.run(stmt, line, ops, false);
                    return None;
                }
                "delete" => {
                    self.run(stmt.with_action(Action::Delete), line, ops, false);
                    return None;
                }
                "get_or_create" | "update_or_create" => {
                    let model = stmt.model.clone();
                    let mut sel = stmt.clone();
                    sel.filters.extend(self.django_filters(*args));
                    let key = sel.pk_value();
                    let defaults = self.kw(*args, "defaults");
                    if *m == "update_or_create" {
                        sel.lock = Some(LockSpec {
                            strength: Strength::Update,
                            of: Vec::new(),
                            nowait: false,
                            skip_locked: false,
                        });
                    }
                    self.run(sel, line, ops, false);
                    let next = if *m == "get_or_create" {
                        let mut sets = self.kwargs_values(*args, &["defaults"]);
                        if let Some(d) = defaults {
                            sets.extend(self.dict_values(d));
                        }
                        OrmStmt {
                            sets,
                            ..stmt.with_action(Action::Insert)
                        }
                    } else {
                        OrmStmt {
                            sets: defaults.map(|d| self.dict_values(d)).unwrap_or_default(),
                            filters: Vec::new(),
                            ..stmt.with_action(Action::Update)
                        }
                        .by_pk(key.clone())
                    };
                    self.run(next, line, ops, false);
                    return loaded(&model, key);
                }
                "bulk_create" => {
                    self.run(stmt.with_action(Action::Insert), line, ops, false);
                    return None;
                }
                "bulk_update" => {
                    let fields = self
                        .positional(*args)
                        .get(1)
                        .map(|f| self.string_items(*f))
                        .unwrap_or_default();
                    let upd = OrmStmt {
                        sets: fields.into_iter().map(|f| (f, Value::Param)).collect(),
                        filters: vec![Filter {
                            field: "pk".into(),
                            op: FilterOp::In,
                            value: None,
                        }],
                        ..stmt.with_action(Action::Update)
                    };
                    self.run(upd, line, ops, false);
                    return None;
                }
                "raw" => {
                    let pos = self.positional(*args);
                    if let Some((first, s)) = pos
                        .first()
                        .and_then(|a| self.eval_str(*a, 0).map(|s| (*a, s)))
                    {
                        let params = Some(self.call_args(first, *args, &pos));
                        let site = self.raw_site(line, s, false, params);
                        ops.push(Op::Sql(site));
                    }
                    return None;
                }
                "all" | "only" | "defer" | "select_related" | "prefetch_related" | "using"
                | "distinct" | "annotate" | "values" | "values_list" | "reverse" | "alias"
                | "exclude" | "order_by_nulls" => {}
                _ => return None,
            }
        }
        if force {
            self.run_lazy(stmt.clone(), line, ops);
        }
        Some(Val::Orm(stmt))
    }

    fn sqla_chain(
        &mut self,
        mut stmt: OrmStmt,
        pairs: &[(&str, Node<'_>)],
        line: u32,
        ops: &mut Vec<Op>,
        force: bool,
    ) -> Option<Val> {
        for (m, args) in pairs {
            match *m {
                "where" | "filter" => {
                    for a in self.positional(*args) {
                        self.sqla_conditions(a, &mut stmt.filters, 0);
                    }
                }
                "filter_by" => stmt.filters.extend(self.django_filters(*args)),
                "with_for_update" => stmt.lock = Some(self.lock_from_args(*args)),
                "order_by" => {
                    stmt.order = self
                        .positional(*args)
                        .into_iter()
                        .filter_map(|a| self.order_field(a))
                        .collect();
                }
                "values" => {
                    stmt.sets = self.kwargs_values(*args, &[]);
                    if let Some(d) = self.positional(*args).first() {
                        stmt.sets.extend(self.dict_values(*d));
                    }
                }
                "all" | "first" | "one" | "one_or_none" | "scalar" | "count" | "exists" | "get"
                    if stmt.query =>
                {
                    if *m == "get" {
                        let key = self
                            .positional(*args)
                            .first()
                            .map(|a| self.text(*a).to_string());
                        stmt = stmt.by_pk(key);
                    }
                    let model = stmt.model.clone();
                    let key = stmt.pk_value();
                    self.run(stmt, line, ops, false);
                    return (!matches!(*m, "all" | "count" | "exists"))
                        .then(|| Val::Inst(Inst::new(model, Origin::Sqla).keyed(key)));
                }
                "update" if stmt.query => {
                    if let Some(d) = self.positional(*args).first() {
                        stmt.sets = self.dict_values(*d);
                    }
                    self.run(stmt.with_action(Action::Update), line, ops, false);
                    return None;
                }
                "delete" if stmt.query => {
                    self.run(stmt.with_action(Action::Delete), line, ops, false);
                    return None;
                }
                _ => {}
            }
        }
        if force {
            self.run_lazy(stmt.clone(), line, ops);
        }
        Some(Val::Orm(stmt))
    }

    /// An expression passed to `execute` that is a SQLAlchemy construct.
    fn orm_of(&mut self, node: Node<'_>) -> Option<OrmStmt> {
        let v = match node.kind() {
            "identifier" => self.vars.get(self.text(node)).cloned(),
            "call" => {
                let mut scratch = Vec::new();
                self.lower_call(node, &mut scratch, 0, false)
            }
            _ => None,
        };
        match v {
            Some(Val::Orm(s)) if !s.django => Some(s),
            _ => None,
        }
    }

    fn sqla_conditions(&self, node: Node<'_>, out: &mut Vec<Filter>, depth: usize) {
        if depth > 16 {
            return;
        }
        match node.kind() {
            "parenthesized_expression" => {
                if let Some(n) = node.named_child(0) {
                    self.sqla_conditions(n, out, depth + 1);
                }
            }
            "comparison_operator" => {
                let mut cursor = node.walk();
                let operands: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
                let op = node
                    .child_by_field_name("operators")
                    .map(|o| self.text(o))
                    .unwrap_or("");
                if let [l, r] = operands[..] {
                    let (field, other) = match (self.column_ref(l), self.column_ref(r)) {
                        (Some(f), _) => (f, r),
                        (None, Some(f)) => (f, l),
                        _ => return,
                    };
                    let op = match op {
                        "==" => FilterOp::Eq,
                        "!=" => FilterOp::Cmp("<>"),
                        "<" => FilterOp::Cmp("<"),
                        ">" => FilterOp::Cmp(">"),
                        "<=" => FilterOp::Cmp("<="),
                        ">=" => FilterOp::Cmp(">="),
                        _ => return,
                    };
                    let value = Some(self.text(other).to_string());
                    out.push(Filter { field, op, value });
                }
            }
            "binary_operator" => {
                let op = node
                    .child_by_field_name("operator")
                    .map(|o| self.text(o))
                    .unwrap_or("");
                if op == "&" {
                    for f in ["left", "right"] {
                        if let Some(n) = node.child_by_field_name(f) {
                            self.sqla_conditions(n, out, depth + 1);
                        }
                    }
                }
            }
            "call" => {
                let Some(f) = node.child_by_field_name("function") else {
                    return;
                };
                let args = node.child_by_field_name("arguments");
                match f.kind() {
                    "identifier" | "attribute"
                        if matches!(self.text(f).rsplit('.').next(), Some("and_")) =>
                    {
                        for a in args.map(|a| self.positional(a)).unwrap_or_default() {
                            self.sqla_conditions(a, out, depth + 1);
                        }
                    }
                    "attribute" => {
                        let method = f
                            .child_by_field_name("attribute")
                            .map(|a| self.text(a))
                            .unwrap_or("");
                        let Some(field) = f
                            .child_by_field_name("object")
                            .and_then(|o| self.column_ref(o))
                        else {
                            return;
                        };
                        let op = match method {
                            "in_" => FilterOp::In,
                            "is_" => FilterOp::IsNull,
                            "like" | "ilike" => FilterOp::Cmp("LIKE"),
                            "between" => FilterOp::Cmp(">="),
                            _ => return,
                        };
                        let value = args
                            .and_then(|a| self.positional(a).first().copied())
                            .map(|v| self.text(v).to_string());
                        out.push(Filter { field, op, value });
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    /// `Model.col` → `col`.
    fn column_ref(&self, node: Node<'_>) -> Option<String> {
        if node.kind() != "attribute" {
            return None;
        }
        let obj = node.child_by_field_name("object")?;
        let attr = node.child_by_field_name("attribute")?;
        let o = self.text(obj);
        is_class_name(o.rsplit('.').next().unwrap_or(o)).then(|| self.text(attr).to_string())
    }

    fn order_field(&self, node: Node<'_>) -> Option<String> {
        if let Some(s) = self.string_value(node) {
            return Some(s);
        }
        if let Some(c) = self.column_ref(node) {
            return Some(c);
        }
        if node.kind() == "call" {
            let f = node.child_by_field_name("function")?;
            if f.kind() == "attribute" {
                return self.column_ref(f.child_by_field_name("object")?);
            }
            let arg = self
                .positional(node.child_by_field_name("arguments")?)
                .first()
                .copied()?;
            return self.column_ref(arg);
        }
        None
    }

    fn lock_from_args(&self, args: Node<'_>) -> LockSpec {
        let read = self.kw_true(args, "read");
        let key_share = self.kw_true(args, "key_share");
        let strength = match (read, key_share) {
            (true, true) => Strength::KeyShare,
            (true, false) => Strength::Share,
            (false, true) => Strength::NoKeyUpdate,
            (false, false) => Strength::Update,
        };
        let of = self
            .kw(args, "of")
            .map(|o| {
                let items: Vec<Node<'_>> = if matches!(o.kind(), "list" | "tuple") {
                    let mut c = o.walk();
                    o.named_children(&mut c).collect()
                } else {
                    vec![o]
                };
                items
                    .into_iter()
                    .filter_map(|i| self.model_name(i))
                    .collect()
            })
            .unwrap_or_default();
        LockSpec {
            strength,
            of,
            nowait: self.kw_true(args, "nowait"),
            skip_locked: self.kw_true(args, "skip_locked"),
        }
    }

    /// `with_for_update=True` / `with_for_update={"nowait": True}`.
    fn lock_from_value(&self, v: Node<'_>) -> Option<LockSpec> {
        match v.kind() {
            "true" => Some(LockSpec {
                strength: Strength::Update,
                of: Vec::new(),
                nowait: false,
                skip_locked: false,
            }),
            "dictionary" => {
                let mut l = LockSpec {
                    strength: Strength::Update,
                    of: Vec::new(),
                    nowait: false,
                    skip_locked: false,
                };
                let mut read = false;
                let mut key_share = false;
                let mut c = v.walk();
                for p in v.named_children(&mut c) {
                    let (Some(k), Some(val)) =
                        (p.child_by_field_name("key"), p.child_by_field_name("value"))
                    else {
                        continue;
                    };
                    let on = val.kind() == "true";
                    match self.string_value(k).as_deref() {
                        Some("read") => read = on,
                        Some("key_share") => key_share = on,
                        Some("nowait") => l.nowait = on,
                        Some("skip_locked") => l.skip_locked = on,
                        _ => {}
                    }
                }
                l.strength = match (read, key_share) {
                    (true, true) => Strength::KeyShare,
                    (true, false) => Strength::Share,
                    (false, true) => Strength::NoKeyUpdate,
                    (false, false) => Strength::Update,
                };
                Some(l)
            }
            _ => None,
        }
    }

    fn django_filters(&self, args: Node<'_>) -> Vec<Filter> {
        let mut out = Vec::new();
        let mut cursor = args.walk();
        for a in args.named_children(&mut cursor) {
            if a.kind() != "keyword_argument" {
                continue;
            }
            let Some(k) = a.child_by_field_name("name") else {
                continue;
            };
            let key = self.text(k);
            if key == "defaults" || key == "create_defaults" {
                continue;
            }
            let mut parts: Vec<&str> = key.split("__").collect();
            let op = match parts.last().copied() {
                Some("in") => FilterOp::In,
                Some("isnull") => FilterOp::IsNull,
                Some("gt") => FilterOp::Cmp(">"),
                Some("gte") => FilterOp::Cmp(">="),
                Some("lt") => FilterOp::Cmp("<"),
                Some("lte") => FilterOp::Cmp("<="),
                Some("exact" | "iexact") => FilterOp::Eq,
                Some(
                    "contains" | "icontains" | "startswith" | "istartswith" | "endswith"
                    | "iendswith",
                ) => FilterOp::Cmp("LIKE"),
                _ => FilterOp::Eq,
            };
            if parts.len() > 1
                && matches!(
                    parts.last().copied(),
                    Some(
                        "in" | "isnull"
                            | "gt"
                            | "gte"
                            | "lt"
                            | "lte"
                            | "exact"
                            | "iexact"
                            | "contains"
                            | "icontains"
                            | "startswith"
                            | "istartswith"
                            | "endswith"
                            | "iendswith"
                    )
                )
            {
                parts.pop();
            }
            let field = match parts[..] {
                [f] => f.to_string(),
                [f, "id" | "pk"] => format!("{f}_id"),
                _ => continue,
            };
            let value = a
                .child_by_field_name("value")
                .map(|v| self.text(v).to_string());
            out.push(Filter { field, op, value });
        }
        out
    }

    fn kwargs_values(&self, args: Node<'_>, skip: &[&str]) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        let mut cursor = args.walk();
        for a in args.named_children(&mut cursor) {
            if a.kind() != "keyword_argument" {
                continue;
            }
            let (Some(k), Some(v)) = (
                a.child_by_field_name("name"),
                a.child_by_field_name("value"),
            ) else {
                continue;
            };
            let k = self.text(k);
            if !skip.contains(&k) {
                out.push((k.to_string(), self.value_of(v, 0)));
            }
        }
        out
    }

    /// `{"balance": …}` / `{Account.balance: …}` / `dict(balance=…)`.
    fn dict_values(&self, d: Node<'_>) -> Vec<(String, Value)> {
        match d.kind() {
            "dictionary" => {
                let mut out = Vec::new();
                let mut c = d.walk();
                for p in d.named_children(&mut c) {
                    let (Some(k), Some(v)) =
                        (p.child_by_field_name("key"), p.child_by_field_name("value"))
                    else {
                        continue;
                    };
                    if let Some(name) = self.string_value(k).or_else(|| self.column_ref(k)) {
                        out.push((name, self.value_of(v, 0)));
                    }
                }
                out
            }
            "call" => d
                .child_by_field_name("arguments")
                .map(|a| self.kwargs_values(a, &[]))
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    fn value_of(&self, node: Node<'_>, depth: usize) -> Value {
        if depth > 16 {
            return Value::Param;
        }
        match node.kind() {
            "parenthesized_expression" => node
                .named_child(0)
                .map_or(Value::Param, |n| self.value_of(n, depth + 1)),
            "call" => {
                let f = node.child_by_field_name("function").map(|f| self.text(f));
                if matches!(f, Some("F" | "models.F"))
                    && let Some(c) = node
                        .child_by_field_name("arguments")
                        .and_then(|a| self.positional(a).first().copied())
                        .and_then(|a| self.string_value(a))
                {
                    return Value::Col(c);
                }
                Value::Param
            }
            "attribute" => match self.column_ref(node) {
                Some(c) => Value::Col(c),
                None => Value::Expr(self.text(node).to_string()),
            },
            "identifier" => Value::Expr(self.text(node).to_string()),
            "binary_operator" => {
                let op = match node.child_by_field_name("operator").map(|o| self.text(o)) {
                    Some("+") => "+",
                    Some("-") => "-",
                    Some("*") => "*",
                    Some("/") => "/",
                    _ => return Value::Param,
                };
                let (Some(l), Some(r)) = (
                    node.child_by_field_name("left"),
                    node.child_by_field_name("right"),
                ) else {
                    return Value::Param;
                };
                let (l, r) = (self.value_of(l, depth + 1), self.value_of(r, depth + 1));
                if !matches!(l, Value::Col(_) | Value::Bin(..))
                    && !matches!(r, Value::Col(_) | Value::Bin(..))
                {
                    Value::Param
                } else {
                    Value::Bin(Box::new(l), op, Box::new(r))
                }
            }
            _ => Value::Param,
        }
    }

    // ----- driver parameters ------------------------------------------------------------------

    /// The parameters a call passes with its SQL `first` (see [`Args`]): the arguments after it
    /// (asyncpg), a tuple/list or dict as the second argument or `params=` (psycopg, Django,
    /// SQLAlchemy), and `.bindparams(name=…)` on the SQL.
    fn call_args(&self, first: Node<'_>, args: Node<'_>, pos: &[Node<'_>]) -> Args {
        let mut cursor = args.walk();
        let splat = args
            .named_children(&mut cursor)
            .any(|a| matches!(a.kind(), "list_splat" | "dictionary_splat"));
        let rest = pos.get(1..).unwrap_or(&[]);
        let positional = if splat {
            None
        } else {
            rest.iter().map(|a| self.arg_of(*a)).collect()
        };
        let params = pos
            .get(1)
            .copied()
            .or_else(|| self.kw(args, "params"))
            .or_else(|| self.kw(args, "parameters"));
        let mut named = params.and_then(|p| self.named_args(p));
        if first.kind() == "call"
            && let Some(f) = first.child_by_field_name("function")
            && f.kind() == "attribute"
            && f.child_by_field_name("attribute")
                .is_some_and(|a| self.text(a) == "bindparams")
            && let Some(b) = first.child_by_field_name("arguments")
        {
            let mut binds = self.keyword_args(b).unwrap_or_default();
            binds.extend(named.unwrap_or_default());
            named = Some(binds);
        }
        Args {
            positional,
            seq: params.and_then(|p| self.seq_args(p)),
            named,
        }
    }

    /// One parameter value: a literal as SQL text, else the Python expression; `None` for a
    /// splat.
    fn arg_of(&self, node: Node<'_>) -> Option<Arg> {
        let lit = |s: &str| Some(Arg::Lit(s.to_string()));
        match node.kind() {
            "integer" | "float" => lit(self.text(node)),
            "unary_operator"
                if node
                    .child_by_field_name("argument")
                    .is_some_and(|a| matches!(a.kind(), "integer" | "float")) =>
            {
                lit(&self.text(node).replace(char::is_whitespace, ""))
            }
            "true" => lit("true"),
            "false" => lit("false"),
            "none" => lit("NULL"),
            "string" => match self.string_value(node) {
                Some(v) => Some(Arg::Lit(format!("'{}'", v.replace('\'', "''")))),
                None => Some(Arg::Expr(self.text(node).to_string())),
            },
            "parenthesized_expression" => self.arg_of(node.named_child(0)?),
            "list_splat" | "dictionary_splat" | "keyword_argument" => None,
            _ => Some(Arg::Expr(
                self.text(node)
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            )),
        }
    }

    /// The items of a tuple or list of parameters (`(a, b)`, `[a]`).
    fn seq_args(&self, node: Node<'_>) -> Option<Vec<Arg>> {
        match node.kind() {
            "tuple" | "list" => {
                let mut c = node.walk();
                node.named_children(&mut c)
                    .filter(|i| i.kind() != "comment")
                    .map(|i| self.arg_of(i))
                    .collect()
            }
            "parenthesized_expression" => self.seq_args(node.named_child(0)?),
            _ => None,
        }
    }

    /// Named parameters: `{"id": x}` or `dict(id=x)`.
    fn named_args(&self, node: Node<'_>) -> Option<Vec<(String, Arg)>> {
        match node.kind() {
            "dictionary" => {
                let mut c = node.walk();
                node.named_children(&mut c)
                    .filter(|p| p.kind() != "comment")
                    .map(|p| {
                        let k = self.string_value(p.child_by_field_name("key")?)?;
                        Some((k, self.arg_of(p.child_by_field_name("value")?)?))
                    })
                    .collect()
            }
            "call" if self.callee_is(node, &["dict"]) => {
                self.keyword_args(node.child_by_field_name("arguments")?)
            }
            _ => None,
        }
    }

    /// The keyword arguments of a call (`None` when it has a `**` splat).
    fn keyword_args(&self, args: Node<'_>) -> Option<Vec<(String, Arg)>> {
        let mut c = args.walk();
        let mut out = Vec::new();
        for a in args.named_children(&mut c) {
            match a.kind() {
                "keyword_argument" => {
                    let k = self.text(a.child_by_field_name("name")?).to_string();
                    out.push((k, self.arg_of(a.child_by_field_name("value")?)?));
                }
                "dictionary_splat" => return None,
                _ => {}
            }
        }
        Some(out)
    }

    // ----- small readers ----------------------------------------------------------------------

    fn positional<'t>(&self, args: Node<'t>) -> Vec<Node<'t>> {
        let mut cursor = args.walk();
        args.named_children(&mut cursor)
            .filter(|a| {
                !matches!(
                    a.kind(),
                    "keyword_argument" | "comment" | "dictionary_splat" | "list_splat"
                )
            })
            .collect()
    }

    fn kw<'t>(&self, args: Node<'t>, name: &str) -> Option<Node<'t>> {
        let mut cursor = args.walk();
        args.named_children(&mut cursor)
            .filter(|a| a.kind() == "keyword_argument")
            .find(|a| {
                a.child_by_field_name("name")
                    .is_some_and(|n| self.text(n) == name)
            })
            .and_then(|a| a.child_by_field_name("value"))
    }

    fn kw_true(&self, args: Node<'_>, name: &str) -> bool {
        self.kw(args, name).is_some_and(|v| v.kind() == "true")
    }

    fn var_of(&self, node: Node<'_>) -> Option<Val> {
        (node.kind() == "identifier")
            .then(|| self.vars.get(self.text(node)).cloned())
            .flatten()
    }

    /// A model class name from `Account`, `models.Account`, `select(Account.id)`.
    fn model_name(&self, node: Node<'_>) -> Option<String> {
        let t = self.text(node);
        match node.kind() {
            "identifier" if is_class_name(t) => Some(t.to_string()),
            "attribute" => {
                let last = t.rsplit('.').next().unwrap_or(t);
                if is_class_name(last) {
                    Some(last.to_string())
                } else {
                    let obj = node.child_by_field_name("object")?;
                    self.model_name(obj)
                }
            }
            _ => None,
        }
    }

    fn first_model_arg(&self, args: Node<'_>) -> Option<String> {
        self.positional(args)
            .first()
            .and_then(|a| self.model_name(*a))
    }

    /// The value of a plain string literal.
    fn string_value(&self, node: Node<'_>) -> Option<String> {
        if node.kind() != "string" {
            return None;
        }
        match self.string_parts(node)?.as_slice() {
            [Part::Lit(s)] => Some(s.clone()),
            [] => Some(String::new()),
            _ => None,
        }
    }

    /// `["a", "b"]`, `("a",)`, `"a"` → the strings.
    fn string_items(&self, node: Node<'_>) -> Vec<String> {
        if let Some(s) = self.string_value(node) {
            return vec![s];
        }
        let mut c = node.walk();
        node.named_children(&mut c)
            .filter_map(|i| self.string_value(i))
            .collect()
    }

    // ----- SQL strings ------------------------------------------------------------------------

    /// The SQL text an expression builds, if it builds text.
    fn eval_str(&self, node: Node<'_>, depth: usize) -> Option<SqlExpr> {
        if depth > 48 {
            return None;
        }
        match node.kind() {
            "string" => self.string_parts(node),
            "concatenated_string" => {
                let mut out = Vec::new();
                let mut c = node.walk();
                for s in node.named_children(&mut c) {
                    out = concat(out, self.eval_str(s, depth + 1)?);
                }
                Some(out)
            }
            "parenthesized_expression" => self.eval_str(node.named_child(0)?, depth + 1),
            "binary_operator" => {
                let op = self.text(node.child_by_field_name("operator")?);
                let left = node.child_by_field_name("left")?;
                let right = node.child_by_field_name("right")?;
                match op {
                    "+" => match (
                        self.eval_str(left, depth + 1),
                        self.eval_str(right, depth + 1),
                    ) {
                        (Some(l), Some(r)) => Some(concat(l, r)),
                        (Some(l), None) => Some(concat(l, vec![Part::Hole])),
                        (None, Some(r)) => Some(concat(vec![Part::Hole], r)),
                        (None, None) => None,
                    },
                    "%" => self.eval_str(left, depth + 1).map(percent_format),
                    _ => None,
                }
            }
            "call" => {
                let f = node.child_by_field_name("function")?;
                let args = node.child_by_field_name("arguments")?;
                match f.kind() {
                    "attribute" => {
                        let attr = self.text(f.child_by_field_name("attribute")?);
                        let obj = f.child_by_field_name("object")?;
                        match attr {
                            "format" => self.eval_str(obj, depth + 1).map(brace_format),
                            "bindparams" => self.eval_str(obj, depth + 1),
                            "text" | "SQL" => {
                                self.eval_str(*self.positional(args).first()?, depth + 1)
                            }
                            "strip" | "lstrip" | "rstrip" => self.eval_str(obj, depth + 1),
                            _ => None,
                        }
                    }
                    "identifier" if matches!(self.text(f), "text" | "SQL" | "dedent") => {
                        self.eval_str(*self.positional(args).first()?, depth + 1)
                    }
                    _ => None,
                }
            }
            "identifier" => match self.vars.get(self.text(node)) {
                Some(Val::Str(s)) => Some(s.clone()),
                Some(_) => None,
                None => Some(vec![Part::Ref(vec![self.text(node).to_string()])]),
            },
            "attribute" => {
                let t = self.text(node);
                let parts: Vec<String> = t.split('.').map(|p| p.trim().to_string()).collect();
                if parts.first().is_some_and(|p| p == "self" || p == "cls")
                    || parts.iter().any(|p| {
                        p.is_empty() || !p.chars().all(|c| c.is_alphanumeric() || c == '_')
                    })
                    || self
                        .vars
                        .contains_key(parts.first().map_or("", String::as_str))
                {
                    return None;
                }
                Some(vec![Part::Ref(parts)])
            }
            _ => None,
        }
    }

    /// A string literal's pieces: literal text (escapes decoded unless raw) and f-string holes.
    fn string_parts(&self, node: Node<'_>) -> Option<SqlExpr> {
        let mut start = None;
        let mut end = None;
        let mut holes = Vec::new();
        let mut c = node.walk();
        for ch in node.children(&mut c) {
            match ch.kind() {
                "string_start" => start = Some(ch),
                "string_end" => end = Some(ch),
                "interpolation" => holes.push(ch.byte_range()),
                _ => {}
            }
        }
        let start = start?;
        let prefix = self.text(start).to_ascii_lowercase();
        let raw = prefix.contains('r');
        let fstr = prefix.contains('f');
        let (from, to) = (start.end_byte(), end?.start_byte());
        let decode = |s: &str| {
            let s = if raw { s.to_string() } else { unescape(s) };
            if fstr {
                s.replace("{{", "{").replace("}}", "}")
            } else {
                s
            }
        };
        let mut out = Vec::new();
        let mut pos = from;
        for h in holes {
            if let Some(s) = self.src.get(pos..h.start) {
                push(&mut out, Part::Lit(decode(s)));
            }
            push(&mut out, Part::Hole);
            pos = h.end;
        }
        if let Some(s) = self.src.get(pos..to.max(pos)) {
            push(&mut out, Part::Lit(decode(s)));
        }
        out.retain(|p| !matches!(p, Part::Lit(s) if s.is_empty()));
        Some(out)
    }

    // ----- models -----------------------------------------------------------------------------

    fn model_decl(
        &self,
        body: Node<'_>,
        class: &str,
        bases: &[String],
        line: u32,
    ) -> Option<ModelDecl> {
        let mut decl = ModelDecl {
            class: class.to_string(),
            kind: OrmKind::Django,
            table: None,
            app: self.django_app(),
            is_abstract: false,
            bases: bases.to_vec(),
            fields: Vec::new(),
            line,
            implied: false,
        };
        let mut sqla = false;
        let mut django_fields = false;
        let mut cursor = body.walk();
        for stmt in body.named_children(&mut cursor) {
            if stmt.kind() == "class_definition"
                && stmt
                    .child_by_field_name("name")
                    .is_some_and(|n| self.text(n) == "Meta")
            {
                if let Some(b) = stmt.child_by_field_name("body") {
                    self.read_meta(b, &mut decl);
                }
                continue;
            }
            if stmt.kind() != "expression_statement" {
                continue;
            }
            let Some(a) = stmt.named_child(0).filter(|a| a.kind() == "assignment") else {
                continue;
            };
            let Some(left) = a
                .child_by_field_name("left")
                .filter(|l| l.kind() == "identifier")
            else {
                continue;
            };
            let name = self.text(left);
            let Some(right) = a.child_by_field_name("right") else {
                continue;
            };
            if name == "__tablename__" {
                sqla = true;
                decl.table = self.string_value(right);
                continue;
            }
            if right.kind() != "call" {
                continue;
            }
            let Some(f) = right.child_by_field_name("function") else {
                continue;
            };
            let callee = self.text(f);
            let callee = callee.rsplit('.').next().unwrap_or(callee);
            let Some(args) = right.child_by_field_name("arguments") else {
                continue;
            };
            match callee {
                "Column" | "mapped_column" => {
                    sqla = true;
                    decl.fields.push(self.sqla_field(name, args));
                }
                "ManyToManyField" | "relationship" | "GenericForeignKey" => {}
                c if c.ends_with("Field") || c == "ForeignKey" || c == "OneToOneField" => {
                    django_fields = true;
                    decl.fields.push(self.django_field(name, c, args));
                }
                _ => {}
            }
        }
        if sqla {
            decl.kind = OrmKind::SqlAlchemy;
            decl.table.as_ref()?;
            return Some(decl);
        }
        let model_base = bases
            .iter()
            .any(|b| b == "models.Model" || b == "Model" || b.ends_with(".Model"));
        (django_fields || model_base).then_some(decl)
    }

    fn read_meta(&self, body: Node<'_>, decl: &mut ModelDecl) {
        let mut cursor = body.walk();
        for stmt in body.named_children(&mut cursor) {
            let Some(a) = stmt.named_child(0).filter(|a| a.kind() == "assignment") else {
                continue;
            };
            let (Some(l), Some(r)) = (
                a.child_by_field_name("left"),
                a.child_by_field_name("right"),
            ) else {
                continue;
            };
            match self.text(l) {
                "db_table" => decl.table = self.string_value(r),
                "abstract" => decl.is_abstract = r.kind() == "true",
                "app_label" => {
                    if let Some(s) = self.string_value(r) {
                        decl.app = s;
                    }
                }
                _ => {}
            }
        }
    }

    /// Django app label: the directory holding `models.py` (or the `models/` package).
    fn django_app(&self) -> String {
        let parts: Vec<&str> = self.path.split('/').filter(|p| !p.is_empty()).collect();
        let n = parts.len();
        let stem = parts
            .last()
            .map(|f| f.trim_end_matches(".py"))
            .unwrap_or("");
        let dir = |i: usize| n.checked_sub(i).and_then(|j| parts.get(j)).copied();
        let app = if stem != "models" && dir(2) == Some("models") {
            dir(3)
        } else {
            dir(2)
        };
        app.unwrap_or("app").to_string()
    }

    fn sqla_field(&self, name: &str, args: Node<'_>) -> FieldDecl {
        let mut f = FieldDecl {
            name: name.to_string(),
            column: name.to_string(),
            ..FieldDecl::default()
        };
        let mut nullable = None;
        for a in self.positional(args) {
            match a.kind() {
                "string" => {
                    if let Some(s) = self.string_value(a) {
                        f.column = s;
                    }
                }
                "call"
                    if a.child_by_field_name("function")
                        .is_some_and(|x| self.text(x).ends_with("ForeignKey")) =>
                {
                    let fa = a.child_by_field_name("arguments");
                    let target = fa
                        .and_then(|fa| self.positional(fa).first().copied())
                        .and_then(|t| self.string_value(t).or(Some(self.text(t).to_string())))
                        .unwrap_or_default();
                    let action = fa
                        .and_then(|fa| self.kw(fa, "ondelete"))
                        .and_then(|v| self.string_value(v))
                        .unwrap_or_default();
                    f.fk = Some((target, None, action));
                }
                "call" | "identifier" | "attribute" => {
                    let t = match a.kind() {
                        "call" => a.child_by_field_name("function").map(|x| self.text(x)),
                        _ => Some(self.text(a)),
                    };
                    if let Some(t) = t {
                        f.data_type = t.rsplit('.').next().unwrap_or(t).to_ascii_lowercase();
                    }
                }
                _ => {}
            }
        }
        f.primary_key = self.kw_true(args, "primary_key");
        f.unique = self.kw_true(args, "unique");
        if let Some(v) = self.kw(args, "nullable") {
            nullable = Some(v.kind() == "true");
        }
        f.not_null = f.primary_key || nullable == Some(false);
        f.has_default = f.primary_key
            || self.kw(args, "default").is_some()
            || self.kw(args, "server_default").is_some();
        if let Some(s) = self.kw(args, "name").and_then(|v| self.string_value(v)) {
            f.column = s;
        }
        f
    }

    fn django_field(&self, name: &str, callee: &str, args: Node<'_>) -> FieldDecl {
        let relation = callee == "ForeignKey" || callee == "OneToOneField";
        let mut f = FieldDecl {
            name: name.to_string(),
            column: if relation {
                format!("{name}_id")
            } else {
                name.to_string()
            },
            data_type: django_type(callee).to_string(),
            ..FieldDecl::default()
        };
        if relation {
            let target = self
                .kw(args, "to")
                .or_else(|| self.positional(args).first().copied())
                .map(|t| {
                    self.string_value(t)
                        .unwrap_or_else(|| self.text(t).to_string())
                })
                .unwrap_or_default();
            let action = self
                .kw(args, "on_delete")
                .map(|v| {
                    let t = self.text(v);
                    t.rsplit('.').next().unwrap_or(t).to_string()
                })
                .unwrap_or_default();
            let to_field = self.kw(args, "to_field").and_then(|v| self.string_value(v));
            f.fk = Some((target, to_field, action));
            f.unique = callee == "OneToOneField";
        }
        if let Some(c) = self
            .kw(args, "db_column")
            .and_then(|v| self.string_value(v))
        {
            f.column = c;
        }
        f.primary_key = self.kw_true(args, "primary_key");
        f.unique |= self.kw_true(args, "unique");
        f.not_null = !self.kw_true(args, "null");
        f.has_default = self.kw(args, "default").is_some()
            || callee.contains("AutoField")
            || self.kw_true(args, "auto_now")
            || self.kw_true(args, "auto_now_add");
        f
    }
}

/// A Django field class → a PostgreSQL type (for messages and reproductions).
fn django_type(callee: &str) -> &'static str {
    match callee {
        "AutoField" => "integer",
        "BigAutoField" | "BigIntegerField" | "ForeignKey" | "OneToOneField" => "bigint",
        "IntegerField" | "PositiveIntegerField" | "SmallIntegerField" => "integer",
        "DecimalField" => "numeric",
        "FloatField" => "double precision",
        "BooleanField" => "boolean",
        "DateTimeField" => "timestamptz",
        "DateField" => "date",
        "UUIDField" => "uuid",
        "JSONField" => "jsonb",
        _ => "text",
    }
}

/// Pushes a branch unless every arm is empty.
fn push_branch(ops: &mut Vec<Op>, arms: Vec<Vec<Op>>) {
    if arms.iter().any(|a| !a.is_empty()) {
        ops.push(Op::Branch(arms));
    }
}
