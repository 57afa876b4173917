//! JavaScript and TypeScript (and TSX): node-postgres, knex, Prisma, Sequelize.
//!
//! # What is recognised
//!
//! - **Modules.** A module is its file (`src/repo/accounts.ts` → `src.repo.accounts`, an
//!   `index` file is its directory). ES imports (`import { a, b as c } from './x'`,
//!   `import * as x from '../x'`, `import x from './x'`) and CommonJS (`const x = require('./x')`,
//!   `const { a } = require('./x')`) become [`ModuleIr::imports`]: relative specifiers are
//!   resolved against the importing file's directory (extension optional, `index` files);
//!   other specifiers (`@/repo/x`, `src/repo/x`) are dotted and matched by module suffix.
//!   A default import names `<module>.default`; the exporting module records what `default`
//!   is (`export default class X` / `function f` → that name; `export default {…}`,
//!   `module.exports = {…}` → the module itself, so `x.debit()` finds its function `debit`).
//! - **Functions.** Declarations, arrow functions and function expressions assigned to
//!   `const`/`let`, `exports.f = …`, methods of `module.exports = { … }` (top-level functions),
//!   class methods and arrow-function fields, methods of a module-level object literal
//!   (`const repo = { async debit() {…} }`, modelled as a class with one instance). Other
//!   function values (route handlers, timers) are functions of their own, replayed as roots.
//! - **Calls.** `f()`, `mod.f()`, `this.m()`, `this.repo.m()` (the class field's class comes from
//!   `this.repo = new Repo(…)`, a field `repo = new Repo()` / `repo: Repo`, or a TypeScript
//!   parameter property `constructor(private repo: Repo)`), `x.m()` where `x = new X()` or a
//!   parameter typed `x: X`, otherwise by method name when unambiguous. `await` is ignored.
//! - **node-postgres / mysql-style drivers.** `x.query(sql, [a, b])` (`$1` or `?`
//!   placeholders, the array gives the arguments), `x.query({ text, values })`, `x.execute(…)`;
//!   `BEGIN` / `COMMIT` / `ROLLBACK` strings open and close transactions. `pool.query(…)` outside
//!   one is autocommit. Helpers taking `client` are replayed inside their caller's transaction.
//! - **knex.** `knex.transaction(async (trx) => {…})` is a transaction scope (as is
//!   `db.transaction(trx => …)`); `const trx = await knex.transaction()` … `trx.commit()` /
//!   `trx.rollback()` too. Builder chains `trx('accounts').where({ id }).update({…})`,
//!   `.where('id', id)`, `.whereIn`, `.forUpdate()` / `.forShare()` / `.forNoKeyUpdate()` /
//!   `.forKeyShare()`, `.noWait()` / `.skipLocked()`, `.select()` / `.first()`, `.insert()`,
//!   `.del()`, `.increment()` / `.decrement()`, `.orderBy()` become ORM statements on the table
//!   given; `trx.raw(sql, [bindings])` is raw SQL (`?` placeholders).
//! - **Prisma.** `prisma.$transaction(async (tx) => {…})` is a scope and
//!   `prisma.$transaction([a, b])` runs the array's operations in order in one transaction (an
//!   operation assigned to a variable without `await` runs where it is awaited or batched:
//!   Prisma queries are lazy). `$executeRaw` / `$queryRaw` tagged templates (substitutions are
//!   parameters), `$executeRawUnsafe(sql, ...args)` / `$queryRawUnsafe`, and model operations
//!   `tx.account.update({ where: { id }, data: { balance: { decrement: n } } })`, `findUnique`,
//!   `findFirst`, `findMany`, `create`, `delete`, `upsert`, `…Many`.
//! - **Sequelize.** `sequelize.transaction(async (t) => {…})` (a scope) or
//!   `const t = await sequelize.transaction()` … `t.commit()`; `Model.findOne({ where, lock:
//!   t.LOCK.UPDATE, transaction: t })`, `findByPk(id, { lock })`, `findAll`, `update(values, {
//!   where })`, `increment` / `decrement`, `create`, `destroy`, and the same on a loaded row
//!   (`row.update({…})`, `row.save()`, `row.destroy()`); `sequelize.query(sql, { replacements,
//!   bind })` (`?`, `:name`, `$1`). Models: `sequelize.define('Account', attrs, { tableName })`
//!   and `class Account extends Model` + `Account.init(attrs, { tableName })`.
//! - **postgres.js** style tagged templates (`` sql`UPDATE …` ``) and `sql.begin(async (sql) =>
//!   {…})`.
//! - **Control flow.** `if`/`else`, `switch`, `try`/`catch`/`finally`, `?:` fork paths; `for`,
//!   `for…of`, `while`, `do`, `.forEach` / `.map` callbacks are loops; `return` / `throw` end a
//!   path. A callback run in place (transaction bodies, `.forEach`, `.then`) is lowered inline:
//!   its `return` ends the callback, not the enclosing function (its `throw` too — the
//!   transaction rolls back and the caller is assumed to go on).
//! - **Key order.** `ids.sort()`, `[...ids].sort()`, `ids.toSorted()`, `_.sortBy(ids)` make a
//!   sorted sequence; `for (const id of sorted)` (or of `x.sort()` directly) and
//!   `sorted.forEach(…)` mark the row locks inside as ordered, as do values of a sorted pair
//!   (`const [lo, hi] = [a, b].sort()`, `Math.min(a, b)` / `Math.max(a, b)`).
//! - **SQL text.** String literals, template literals (`${}` holes are run-time values, or a
//!   dynamic relation where a table name goes), `+` concatenation, `[…].join(' ')`, string
//!   constants of any module (`const SQL = '…'`, `import { SQL } from './queries'`,
//!   `import * as q …; q.SQL`) and same-file object constants (`SQL.debit`).
//!
//! # Model → table naming
//!
//! Every ORM call names its model: knex the table itself, Prisma the client accessor
//! (`tx.account` → model `Account`), Sequelize the model variable. A use implies a model
//! ([`ModelDecl::implied`]) with the table by that ORM's convention, used only where no
//! declaration exists: knex → the string as written; Prisma → the model name as written (the
//! Prisma default; `schema.prisma` and `@@map` are not read); Sequelize → the pluralised model
//! name (`Account` → `Accounts`, simple English rules). A Sequelize declaration's `tableName`
//! wins (`freezeTableName: true` keeps the model name); attribute `field:` options map columns.
//!
//! # Limits
//!
//! Types are not inferred beyond `new X()`, annotations and parameter properties; calls carry
//! no data flow (the same name is the same value); knex query builders run where they are
//! written (a builder kept in a variable and run later is not followed); `export * from` and
//! object-constant imports across files are not followed; dynamic `import()` is ignored.

mod expr;
mod orm;

use crate::ir::{CallTarget, ClassIr, FuncIr, ModelDecl, ModuleIr, Op, SiteBody, SiteIr};
use crate::lang::common::{self, MAX_DEPTH, Ordered};
use crate::orm::OrmStmt;
use crate::sqltext::{Args, Part, SqlExpr};
use rustc_hash::{FxHashMap, FxHashSet};
use tree_sitter::Node;

/// Longest member/call chain (`a.b().c()…`) read.
const MAX_CHAIN: usize = 64;

/// A module is its file: `src/repo/accounts.ts` → `src.repo.accounts`; `src/repo/index.js` →
/// `src.repo`.
pub(crate) fn module_path(name: &str) -> String {
    let mut segs = common::path_segments(name);
    if segs.last() == Some(&"index") && segs.len() > 1 {
        segs.pop();
    }
    segs.join(".")
}

/// Lowers one JavaScript or TypeScript file.
pub(crate) fn lower(src: &str, path: &str, module: &str, root: Node<'_>) -> ModuleIr {
    let mut segs = common::path_segments(path);
    segs.pop();
    let mut l = Lowerer {
        src,
        module: module.to_string(),
        dir: segs.into_iter().map(str::to_string).collect(),
        ir: common::module_ir(module),
        cur: 0,
        class: None,
        vars: FxHashMap::default(),
        ordered: Ordered::default(),
        implied: FxHashSet::default(),
        anon: 0,
    };
    let mut ops = Vec::new();
    let mut cursor = root.walk();
    for child in root.named_children(&mut cursor) {
        l.lower_stmt(child, &mut ops, 1);
    }
    if let Some(f) = l.ir.funcs.get_mut(0) {
        f.body = ops;
    }
    // A module without a default export: `require('./x')` and interop default imports mean the
    // module object.
    let own = l.module.clone();
    l.ir.imports.entry("default".into()).or_insert(own);
    l.ir
}

/// What a local variable is known to hold.
#[derive(Clone, Debug)]
enum Val {
    /// SQL text.
    Str(SqlExpr),
    /// An instance of a class as written (`new Repo()`, a parameter typed `Repo`).
    Inst(String),
    /// A row loaded by a Sequelize model: model, the key expression it was loaded by, and the
    /// attributes assigned since.
    Row(String, Option<String>, Vec<String>),
    /// A Prisma operation built but not run yet (a statement site).
    Lazy(u32),
    /// Something unknown (a parameter, a loop variable): shadows module constants.
    Unknown,
}

/// One link of a chain `root.a(x).b(y)`.
#[derive(Clone, Copy)]
enum Link<'t> {
    /// `.name` (the property node).
    Attr(Node<'t>),
    /// `(args)` (the arguments node, or a template string for a tagged template).
    Call(Node<'t>),
}

/// Array methods whose callback runs once per item, in place.
const LOOP_CALLBACKS: &[&str] = &[
    "forEach",
    "map",
    "flatMap",
    "filter",
    "reduce",
    "some",
    "every",
    "find",
    "findIndex",
];
/// Methods whose callback runs in place, once.
const INLINE_CALLBACKS: &[&str] = &["then", "catch", "finally"];
/// Methods that run SQL given as their first argument.
const QUERY_METHODS: &[&str] = &[
    "query",
    "execute",
    "raw",
    "$queryRawUnsafe",
    "$executeRawUnsafe",
];

fn is_class_name(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

fn is_function(n: Node<'_>) -> bool {
    matches!(
        n.kind(),
        "arrow_function" | "function_expression" | "function" | "generator_function"
    )
}

/// Pushes a branch unless every arm is empty.
fn push_branch(ops: &mut Vec<Op>, arms: Vec<Vec<Op>>) {
    if arms.iter().any(|a| !a.is_empty()) {
        ops.push(Op::Branch(arms));
    }
}

/// The body of a callback run in place: its `return`s end the callback only. An arm of a
/// branch that returns drops the rest of the body; the other arms run it.
fn inline_body(ops: Vec<Op>, depth: usize) -> Vec<Op> {
    let mut out = Vec::with_capacity(ops.len());
    let mut iter = ops.into_iter();
    while let Some(op) = iter.next() {
        match op {
            Op::Return => return out,
            Op::Branch(arms) if depth < MAX_DEPTH => {
                if arms
                    .iter()
                    .any(|a| a.iter().any(|o| matches!(o, Op::Return)))
                {
                    let rest: Vec<Op> = iter.collect();
                    let arms = arms
                        .into_iter()
                        .map(|mut a| {
                            if !a.iter().any(|o| matches!(o, Op::Return)) {
                                a.extend(rest.iter().cloned());
                            }
                            inline_body(a, depth + 1)
                        })
                        .collect();
                    out.push(Op::Branch(arms));
                    return out;
                }
                let arms = arms
                    .into_iter()
                    .map(|a| inline_body(a, depth + 1))
                    .collect();
                out.push(Op::Branch(arms));
            }
            Op::Loop(body) if depth < MAX_DEPTH => out.push(Op::Loop(inline_body(body, depth + 1))),
            Op::Scope { line, body } if depth < MAX_DEPTH => out.push(Op::Scope {
                line,
                body: inline_body(body, depth + 1),
            }),
            Op::Branch(arms) => out.push(Op::Branch(
                arms.into_iter()
                    .map(|a| a.into_iter().filter(|o| !matches!(o, Op::Return)).collect())
                    .collect(),
            )),
            other => out.push(other),
        }
    }
    out
}

/// Reads one file.
pub(super) struct Lowerer<'s> {
    src: &'s str,
    /// Dotted module path.
    module: String,
    /// Path segments of the file's directory (for relative imports).
    dir: Vec<String>,
    ir: ModuleIr,
    cur: u32,
    class: Option<u32>,
    vars: FxHashMap<String, Val>,
    ordered: Ordered,
    /// Model classes an implied declaration was already made for.
    implied: FxHashSet<String>,
    /// Anonymous functions so far (for unique names).
    anon: u32,
}

impl<'s> Lowerer<'s> {
    fn text(&self, n: Node<'_>) -> &'s str {
        common::text(self.src, n)
    }

    /// An expression's text with whitespace collapsed and TypeScript wrappers (`x!`,
    /// `x as T`, parentheses, `await`) removed.
    fn expr_text(&self, n: Node<'_>) -> String {
        let n = unwrap(n);
        self.text(n)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    // ----- IR building ------------------------------------------------------------------------

    fn site(&mut self, line: u32, body: SiteBody, args: Option<Args>) -> u32 {
        let ordered = self.ordered.site(&body, args.as_ref(), &['$']);
        let site = SiteIr {
            line,
            func: self.cur,
            many: false,
            body,
            args,
            ordered,
        };
        common::push_site(&mut self.ir, site)
    }

    fn call(&mut self, target: CallTarget, line: u32) -> u32 {
        common::push_call(&mut self.ir, self.cur, target, line)
    }

    /// Records an implied model (a use names the table by convention) once per file.
    fn imply_model(&mut self, class: &str, table: String, line: u32) {
        if self.implied.insert(class.to_string()) {
            self.ir.models.push(ModelDecl {
                class: class.to_string(),
                kind: crate::ir::OrmKind::Declared,
                table: Some(table),
                app: String::new(),
                is_abstract: false,
                bases: Vec::new(),
                fields: Vec::new(),
                line,
                implied: true,
            });
        }
    }

    /// Runs an ORM statement: a statement site, or a call when a scanned method of the
    /// receiver's class is meant (`target`).
    fn run_orm(&mut self, stmt: OrmStmt, line: u32, target: Option<CallTarget>, ops: &mut Vec<Op>) {
        let site = self.site(line, SiteBody::Orm(stmt), None);
        match target {
            Some(t) => {
                let call = self.call(t, line);
                ops.push(Op::CallOrSql { call, site });
            }
            None => ops.push(Op::Sql(site)),
        }
    }

    /// A new function (its body lowered by the caller); returns its index.
    fn new_func(&mut self, name: &str, line: u32, in_class: bool) -> u32 {
        let idx = u32::try_from(self.ir.funcs.len()).unwrap_or(u32::MAX);
        let parent = (self.cur != 0).then_some(self.cur);
        let display =
            common::func_display(&self.ir, &self.module, parent, self.class, in_class, name);
        self.ir.funcs.push(FuncIr {
            name: name.to_string(),
            class: self.class,
            parent: if in_class { None } else { parent },
            display,
            line,
            body: Vec::new(),
            autobegin: false,
            is_module: false,
        });
        if in_class && let Some(c) = self.class.and_then(|c| self.ir.classes.get_mut(c as usize)) {
            c.methods.insert(name.to_string(), idx);
        }
        idx
    }

    /// Defines a function named `name` from a function node (declaration, arrow function,
    /// function expression, method).
    fn define_function(&mut self, name: &str, f: Node<'_>, in_class: bool, depth: usize) -> u32 {
        let idx = self.new_func(name, common::line(f), in_class);
        if depth > MAX_DEPTH {
            return idx;
        }
        let saved_cur = std::mem::replace(&mut self.cur, idx);
        let saved_vars = if in_class || saved_cur == 0 {
            std::mem::take(&mut self.vars)
        } else {
            // A closure sees its enclosing function's variables.
            self.vars.clone()
        };
        let saved_ordered = std::mem::take(&mut self.ordered);
        self.bind_params(f, name == "constructor");
        let body = self.function_body(f, depth);
        if let Some(func) = self.ir.funcs.get_mut(idx as usize) {
            func.body = body;
        }
        self.cur = saved_cur;
        self.vars = saved_vars;
        self.ordered = saved_ordered;
        idx
    }

    /// An anonymous function value (a handler passed somewhere): a function of its own.
    fn anonymous(&mut self, f: Node<'_>, hint: &str, depth: usize) {
        self.anon += 1;
        let name = format!("{hint}#{}", self.anon);
        let idx = self.define_function(&name, f, false, depth);
        // Shown as `parent.hint` (the name keeps a counter to stay unique).
        let display = match self.cur {
            0 => format!("{}.{hint}", common::short_module(&self.module)),
            p => format!(
                "{}.{hint}",
                self.ir
                    .funcs
                    .get(p as usize)
                    .map_or("", |f| f.display.as_str())
            ),
        };
        if let Some(func) = self.ir.funcs.get_mut(idx as usize) {
            func.display = display;
        }
    }

    /// The operations of a function node's body (a block, or an arrow function's expression).
    fn function_body(&mut self, f: Node<'_>, depth: usize) -> Vec<Op> {
        let Some(body) = f.child_by_field_name("body") else {
            return Vec::new();
        };
        let mut ops = Vec::new();
        if body.kind() == "statement_block" {
            ops = self.block(Some(body), depth + 1);
        } else {
            self.lower_expr(body, &mut ops, depth + 1);
        }
        ops
    }

    /// A callback run in place: its parameters shadow outer names, its body is inlined.
    fn inline_callback(&mut self, f: Node<'_>, depth: usize) -> Vec<Op> {
        self.bind_params(f, false);
        let body = self.function_body(f, depth);
        inline_body(body, 0)
    }

    fn bind_params(&mut self, f: Node<'_>, constructor: bool) {
        if let Some(p) = f.child_by_field_name("parameter") {
            self.bind_pattern(p, Val::Unknown, 0);
            return;
        }
        let Some(params) = f.child_by_field_name("parameters") else {
            return;
        };
        let mut cursor = params.walk();
        let list: Vec<Node<'_>> = params.named_children(&mut cursor).collect();
        for p in list {
            let (pattern, ty, property) = match p.kind() {
                "required_parameter" | "optional_parameter" => {
                    let mut c = p.walk();
                    let property = p.children(&mut c).any(|ch| {
                        matches!(
                            ch.kind(),
                            "accessibility_modifier" | "readonly" | "override_modifier"
                        )
                    });
                    (
                        p.child_by_field_name("pattern"),
                        p.child_by_field_name("type"),
                        property,
                    )
                }
                "assignment_pattern" => (p.child_by_field_name("left"), None, false),
                _ => (Some(p), None, false),
            };
            let Some(pattern) = pattern else { continue };
            let class = ty.and_then(|t| self.type_class(t));
            let val = class.clone().map_or(Val::Unknown, Val::Inst);
            let field = self.text(pattern).to_string();
            if constructor
                && property
                && pattern.kind() == "identifier"
                && let (Some(c), Some(ci)) = (class, self.class)
                && let Some(ci) = self.ir.classes.get_mut(ci as usize)
            {
                ci.attrs.insert(field, c);
            }
            self.bind_pattern(pattern, val, 0);
        }
    }

    /// The class a type annotation names (`: Repo`, `: repo.Repo`, `: Repo<T>`).
    fn type_class(&self, ty: Node<'_>) -> Option<String> {
        let t = if ty.kind() == "type_annotation" {
            ty.named_child(0)?
        } else {
            ty
        };
        let t = if t.kind() == "generic_type" {
            t.child_by_field_name("name")?
        } else {
            t
        };
        match t.kind() {
            "type_identifier" | "nested_type_identifier" | "identifier" => {
                let s = self.text(t);
                is_class_name(s.rsplit('.').next().unwrap_or(s)).then(|| s.to_string())
            }
            _ => None,
        }
    }

    /// Binds the names of a pattern (`x`, `{ a, b: c }`, `[a, b]`, `...r`, `x = 1`).
    fn bind_pattern(&mut self, p: Node<'_>, val: Val, depth: usize) {
        if depth > 16 {
            return;
        }
        match p.kind() {
            "identifier" | "shorthand_property_identifier_pattern" => {
                let name = self.text(p).to_string();
                self.ordered.vals.remove(&name);
                self.ordered.seqs.remove(&name);
                self.vars.insert(name, val);
            }
            "assignment_pattern" | "object_assignment_pattern" => {
                if let Some(l) = p.child_by_field_name("left") {
                    self.bind_pattern(l, val, depth + 1);
                }
            }
            "pair_pattern" => {
                if let Some(v) = p.child_by_field_name("value") {
                    self.bind_pattern(v, Val::Unknown, depth + 1);
                }
            }
            "object_pattern" | "array_pattern" | "rest_pattern" => {
                let mut c = p.walk();
                let items: Vec<Node<'_>> = p.named_children(&mut c).collect();
                for i in items {
                    self.bind_pattern(i, Val::Unknown, depth + 1);
                }
            }
            _ => {}
        }
    }

    // ----- statements -------------------------------------------------------------------------

    fn block(&mut self, node: Option<Node<'_>>, depth: usize) -> Vec<Op> {
        let mut ops = Vec::new();
        if let Some(node) = node {
            if node.kind() == "statement_block" {
                let mut cursor = node.walk();
                let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
                for child in children {
                    self.lower_stmt(child, &mut ops, depth + 1);
                }
            } else {
                self.lower_stmt(node, &mut ops, depth + 1);
            }
        }
        ops
    }

    fn lower_stmt(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let mut cursor = node.walk();
        match node.kind() {
            "expression_statement" => {
                let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
                for c in children {
                    self.lower_expr(c, ops, depth + 1);
                }
            }
            "lexical_declaration" | "variable_declaration" => {
                let decls: Vec<Node<'_>> = node
                    .named_children(&mut cursor)
                    .filter(|c| c.kind() == "variable_declarator")
                    .collect();
                for d in decls {
                    self.lower_declarator(d, ops, depth + 1);
                }
            }
            "return_statement" | "throw_statement" => {
                let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
                for c in children {
                    self.lower_expr(c, ops, depth + 1);
                }
                ops.push(Op::Return);
            }
            "if_statement" => self.lower_if(node, ops, depth),
            "switch_statement" => self.lower_switch(node, ops, depth),
            "for_in_statement" => self.lower_for_of(node, ops, depth),
            "for_statement" | "while_statement" | "do_statement" => {
                let mut body = Vec::new();
                for field in ["initializer", "condition", "increment"] {
                    if let Some(c) = node.child_by_field_name(field) {
                        if field == "initializer" {
                            self.lower_stmt(c, ops, depth + 1);
                        } else {
                            self.lower_expr(c, &mut body, depth + 1);
                        }
                    }
                }
                body.extend(self.block(node.child_by_field_name("body"), depth));
                if !body.is_empty() {
                    ops.push(Op::Loop(body));
                }
            }
            "try_statement" => self.lower_try(node, ops, depth),
            "statement_block" => ops.extend(self.block(Some(node), depth)),
            "labeled_statement" => {
                if let Some(b) = node.child_by_field_name("body") {
                    self.lower_stmt(b, ops, depth + 1);
                }
            }
            "function_declaration" | "generator_function_declaration" => {
                if let Some(n) = node.child_by_field_name("name") {
                    let name = self.text(n).to_string();
                    self.define_function(&name, node, false, depth);
                }
            }
            "class_declaration" | "abstract_class_declaration" => {
                self.lower_class(node, depth);
            }
            "export_statement" => self.lower_export(node, ops, depth),
            "import_statement" => self.lower_import(node),
            _ => {}
        }
    }

    fn lower_if(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        let mut arms = Vec::new();
        let mut cur = Some(node);
        let mut has_else = false;
        let mut guard = 0;
        while let Some(n) = cur.take() {
            guard += 1;
            if guard > MAX_DEPTH {
                break;
            }
            if let Some(c) = n.child_by_field_name("condition") {
                self.lower_expr(c, ops, depth + 1);
            }
            arms.push(self.block(n.child_by_field_name("consequence"), depth));
            if let Some(alt) = n.child_by_field_name("alternative") {
                // `else_clause` holds one statement: another `if` continues the chain.
                let stmt = if alt.kind() == "else_clause" {
                    alt.named_child(0)
                } else {
                    Some(alt)
                };
                match stmt {
                    Some(s) if s.kind() == "if_statement" => cur = Some(s),
                    Some(s) => {
                        has_else = true;
                        arms.push(self.block(Some(s), depth));
                    }
                    None => {}
                }
            }
        }
        if !has_else {
            arms.push(Vec::new());
        }
        push_branch(ops, arms);
    }

    fn lower_switch(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        if let Some(v) = node.child_by_field_name("value") {
            self.lower_expr(v, ops, depth + 1);
        }
        let mut arms = Vec::new();
        let mut has_default = false;
        if let Some(body) = node.child_by_field_name("body") {
            let mut cursor = body.walk();
            let cases: Vec<Node<'_>> = body.named_children(&mut cursor).collect();
            for case in cases {
                if !matches!(case.kind(), "switch_case" | "switch_default") {
                    continue;
                }
                has_default |= case.kind() == "switch_default";
                let mut arm = Vec::new();
                let mut c = case.walk();
                let stmts: Vec<Node<'_>> = case.children_by_field_name("body", &mut c).collect();
                for s in stmts {
                    self.lower_stmt(s, &mut arm, depth + 1);
                }
                arms.push(arm);
            }
        }
        if !has_default {
            arms.push(Vec::new());
        }
        push_branch(ops, arms);
    }

    fn lower_for_of(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        let right = node.child_by_field_name("right");
        let sorted = right.is_some_and(|r| self.is_sorted_seq(r));
        if let Some(r) = right {
            self.lower_expr(r, ops, depth + 1);
        }
        if let Some(left) = node.child_by_field_name("left") {
            self.bind_pattern(left, Val::Unknown, 0);
            if sorted {
                let mut names = Vec::new();
                self.pattern_names(left, &mut names, 0);
                self.ordered.vals.extend(names);
            }
        }
        self.ordered.loops += usize::from(sorted);
        let body = self.block(node.child_by_field_name("body"), depth);
        self.ordered.loops -= usize::from(sorted);
        if !body.is_empty() {
            ops.push(Op::Loop(body));
        }
    }

    fn pattern_names(&self, p: Node<'_>, out: &mut Vec<String>, depth: usize) {
        if depth > 16 {
            return;
        }
        match p.kind() {
            "identifier" | "shorthand_property_identifier_pattern" => {
                out.push(self.text(p).to_string());
            }
            _ => {
                let mut c = p.walk();
                for i in p.named_children(&mut c) {
                    self.pattern_names(i, out, depth + 1);
                }
            }
        }
    }

    fn lower_try(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        let main = self.block(node.child_by_field_name("body"), depth);
        let handler = node.child_by_field_name("handler").map(|h| {
            if let Some(p) = h.child_by_field_name("parameter") {
                self.bind_pattern(p, Val::Unknown, 0);
            }
            self.block(h.child_by_field_name("body"), depth)
        });
        let finally = node
            .child_by_field_name("finalizer")
            .map(|f| self.block(f.child_by_field_name("body"), depth))
            .unwrap_or_default();
        match handler {
            Some(h) => push_branch(ops, vec![main, h]),
            None => ops.extend(main),
        }
        ops.extend(finally);
    }

    fn lower_export(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        let mut cursor = node.walk();
        let is_default = node.children(&mut cursor).any(|c| c.kind() == "default");
        if let Some(src) = node.child_by_field_name("source") {
            // `export { a, b as c } from './x'`: re-exported names.
            let target = self.resolve_spec(&self.string_value(src).unwrap_or_default());
            let mut c = node.walk();
            let clauses: Vec<Node<'_>> = node
                .named_children(&mut c)
                .filter(|n| n.kind() == "export_clause")
                .collect();
            for clause in clauses {
                let mut cc = clause.walk();
                for spec in clause.named_children(&mut cc) {
                    let (Some(name), alias) = (
                        spec.child_by_field_name("name"),
                        spec.child_by_field_name("alias"),
                    ) else {
                        continue;
                    };
                    let name = self.text(name);
                    let local = alias.map_or(name, |a| self.text(a)).to_string();
                    self.ir.imports.insert(local, format!("{target}.{name}"));
                }
            }
            return;
        }
        if let Some(decl) = node.child_by_field_name("declaration") {
            if is_default {
                let name = decl.child_by_field_name("name").map(|n| self.text(n));
                match name {
                    Some(n) => {
                        let t = format!("{}.{n}", self.module);
                        self.ir.imports.insert("default".into(), t);
                    }
                    None if matches!(
                        decl.kind(),
                        "function_declaration" | "function_expression"
                    ) =>
                    {
                        self.define_function("default", decl, false, depth);
                        return;
                    }
                    None => {}
                }
            }
            self.lower_stmt(decl, ops, depth + 1);
            return;
        }
        if let Some(value) = node.child_by_field_name("value") {
            // `export default <expression>`.
            self.export_default_value(value, ops, depth);
        }
    }

    fn export_default_value(&mut self, value: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        let value = unwrap(value);
        match value.kind() {
            "identifier" => {
                let t = format!("{}.{}", self.module, self.text(value));
                self.ir.imports.insert("default".into(), t);
            }
            "object" => {
                let own = self.module.clone();
                self.ir.imports.insert("default".into(), own);
                self.module_object(value, depth);
            }
            "class" => {
                if let Some(n) = value.child_by_field_name("name") {
                    let t = format!("{}.{}", self.module, self.text(n));
                    self.ir.imports.insert("default".into(), t);
                }
                self.lower_class(value, depth);
            }
            k if is_function(value) || k == "function_declaration" => {
                self.define_function("default", value, false, depth);
            }
            _ => {
                self.lower_expr(value, ops, depth + 1);
            }
        }
    }

    /// The object of `module.exports = { … }` / `export default { … }`: methods and function
    /// values are the module's functions; `name: other` re-exports another name.
    fn module_object(&mut self, obj: Node<'_>, depth: usize) {
        let mut cursor = obj.walk();
        let members: Vec<Node<'_>> = obj.named_children(&mut cursor).collect();
        for m in members {
            match m.kind() {
                "method_definition" => {
                    if let Some(n) = m.child_by_field_name("name") {
                        let name = self.text(n).to_string();
                        self.define_function(&name, m, false, depth + 1);
                    }
                }
                "pair" => {
                    let (Some(k), Some(v)) =
                        (m.child_by_field_name("key"), m.child_by_field_name("value"))
                    else {
                        continue;
                    };
                    let key = self.prop_name(k);
                    if is_function(v) {
                        self.define_function(&key, v, false, depth + 1);
                    } else if matches!(v.kind(), "identifier" | "member_expression") {
                        let t = self.text(v);
                        if t != key {
                            let target = self
                                .ir
                                .imports
                                .get(t)
                                .cloned()
                                .unwrap_or_else(|| format!("{}.{t}", self.module));
                            self.ir.imports.insert(key, target);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// A property key as a name (`a`, `'a'`, `"a"`).
    fn prop_name(&self, k: Node<'_>) -> String {
        match k.kind() {
            "string" => self.string_value(k).unwrap_or_default(),
            _ => self.text(k).to_string(),
        }
    }

    fn lower_import(&mut self, node: Node<'_>) {
        let Some(src) = node.child_by_field_name("source") else {
            return;
        };
        let Some(spec) = self.string_value(src) else {
            return;
        };
        let target = self.resolve_spec(&spec);
        let mut cursor = node.walk();
        let clause = node
            .named_children(&mut cursor)
            .find(|c| c.kind() == "import_clause");
        let Some(clause) = clause else { return };
        let mut cc = clause.walk();
        let parts: Vec<Node<'_>> = clause.named_children(&mut cc).collect();
        for p in parts {
            match p.kind() {
                "identifier" => {
                    let local = self.text(p).to_string();
                    self.ir.imports.insert(local, format!("{target}.default"));
                }
                "namespace_import" => {
                    let mut c = p.walk();
                    if let Some(id) = p.named_children(&mut c).find(|n| n.kind() == "identifier") {
                        self.ir
                            .imports
                            .insert(self.text(id).to_string(), target.clone());
                    }
                }
                "named_imports" => {
                    let mut c = p.walk();
                    let specs: Vec<Node<'_>> = p
                        .named_children(&mut c)
                        .filter(|s| s.kind() == "import_specifier")
                        .collect();
                    for s in specs {
                        let Some(name) = s.child_by_field_name("name") else {
                            continue;
                        };
                        let name = self.prop_name(name);
                        let local = s
                            .child_by_field_name("alias")
                            .map_or_else(|| name.clone(), |a| self.text(a).to_string());
                        self.ir.imports.insert(local, format!("{target}.{name}"));
                    }
                }
                _ => {}
            }
        }
    }

    /// A module specifier as a dotted module name: relative ones against the file's directory,
    /// extension and `index` dropped.
    fn resolve_spec(&self, spec: &str) -> String {
        const EXTS: &[&str] = &[
            ".js", ".ts", ".mjs", ".cjs", ".jsx", ".tsx", ".mts", ".cts", ".json",
        ];
        let mut spec = spec.trim();
        for e in EXTS {
            if let Some(s) = spec.strip_suffix(e) {
                spec = s;
                break;
            }
        }
        let mut segs: Vec<String> = Vec::new();
        if spec == "." || spec == ".." || spec.starts_with("./") || spec.starts_with("../") {
            segs = self.dir.clone();
            for part in spec.split('/') {
                match part {
                    "" | "." => {}
                    ".." => {
                        segs.pop();
                    }
                    p => segs.push(p.to_string()),
                }
            }
        } else {
            let s = spec
                .trim_start_matches("@/")
                .trim_start_matches("~/")
                .trim_start_matches('#');
            segs.extend(s.split('/').filter(|p| !p.is_empty()).map(str::to_string));
        }
        if segs.last().is_some_and(|l| l == "index") && segs.len() > 1 {
            segs.pop();
        }
        segs.join(".")
    }

    /// `require('x')` → the specifier.
    fn require_spec(&self, n: Node<'_>) -> Option<String> {
        let n = unwrap(n);
        if n.kind() != "call_expression" {
            return None;
        }
        let f = n.child_by_field_name("function")?;
        if f.kind() != "identifier" || self.text(f) != "require" {
            return None;
        }
        let args = n.child_by_field_name("arguments")?;
        let first = args.named_child(0)?;
        self.string_value(first)
    }

    fn lower_declarator(&mut self, d: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        let Some(name_node) = d.child_by_field_name("name") else {
            return;
        };
        let value = d.child_by_field_name("value");
        let ty = d.child_by_field_name("type");
        let Some(value) = value else {
            let v = ty
                .and_then(|t| self.type_class(t))
                .map_or(Val::Unknown, Val::Inst);
            self.bind_pattern(name_node, v, 0);
            return;
        };
        // `const x = require('./x')`, `const { a, b: c } = require('./x')`.
        if let Some(spec) = self.require_spec(value) {
            let target = self.resolve_spec(&spec);
            self.import_pattern(name_node, &target);
            return;
        }
        let top = self.cur == 0 && self.class.is_none();
        if name_node.kind() == "identifier" {
            let name = self.text(name_node).to_string();
            let inner = unwrap(value);
            if is_function(inner) {
                self.define_function(&name, inner, false, depth);
                return;
            }
            if top && inner.kind() == "object" && self.object_has_methods(inner) {
                self.object_class(&name, inner, depth);
                return;
            }
            if top && inner.kind() == "object" {
                // String constants of an object (`SQL.debit`), same file only.
                self.object_consts(&name, inner);
            }
            if self.sequelize_define(&name, inner) {
                return;
            }
        }
        let val = match self.eval_str(value, 0) {
            Some(s) if s.iter().any(|p| matches!(p, Part::Lit(_))) => Some(Val::Str(s)),
            _ => self.lower_value(value, ops, depth + 1),
        };
        if top
            && name_node.kind() == "identifier"
            && let Some(v) = &val
        {
            let name = self.text(name_node).to_string();
            match v {
                Val::Str(s) => {
                    self.ir.consts.insert(name, s.clone());
                }
                Val::Inst(c) => {
                    self.ir.instances.insert(name, c.clone());
                }
                _ => {}
            }
        }
        let val = match (val, ty.and_then(|t| self.type_class(t))) {
            (Some(v), _) => v,
            (None, Some(c)) => Val::Inst(c),
            (None, None) => Val::Unknown,
        };
        self.bind_pattern(name_node, val, 0);
        self.finish_order(name_node, value);
    }

    /// The value of a declarator's initialiser: Prisma operations not awaited stay lazy.
    fn lower_value(&mut self, value: Node<'_>, ops: &mut Vec<Op>, depth: usize) -> Option<Val> {
        if value.kind() == "call_expression" {
            let mut scratch = Vec::new();
            if let Some(site) = self.prisma_lazy(value, &mut scratch) {
                return Some(Val::Lazy(site));
            }
        }
        self.lower_expr(value, ops, depth)
    }

    fn import_pattern(&mut self, p: Node<'_>, target: &str) {
        match p.kind() {
            "identifier" => {
                self.ir
                    .imports
                    .insert(self.text(p).to_string(), format!("{target}.default"));
            }
            "object_pattern" => {
                let mut c = p.walk();
                let items: Vec<Node<'_>> = p.named_children(&mut c).collect();
                for i in items {
                    match i.kind() {
                        "shorthand_property_identifier_pattern" => {
                            let n = self.text(i).to_string();
                            self.ir.imports.insert(n.clone(), format!("{target}.{n}"));
                        }
                        "pair_pattern" => {
                            if let (Some(k), Some(v)) =
                                (i.child_by_field_name("key"), i.child_by_field_name("value"))
                                && v.kind() == "identifier"
                            {
                                let k = self.prop_name(k);
                                self.ir
                                    .imports
                                    .insert(self.text(v).to_string(), format!("{target}.{k}"));
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    fn object_has_methods(&self, obj: Node<'_>) -> bool {
        let mut c = obj.walk();
        obj.named_children(&mut c).any(|m| {
            m.kind() == "method_definition"
                || (m.kind() == "pair" && m.child_by_field_name("value").is_some_and(is_function))
        })
    }

    /// `const repo = { async debit() {…} }` at module level: a class with one instance.
    fn object_class(&mut self, name: &str, obj: Node<'_>, depth: usize) {
        let idx = u32::try_from(self.ir.classes.len()).unwrap_or(u32::MAX);
        self.ir.classes.push(ClassIr {
            name: name.to_string(),
            ..ClassIr::default()
        });
        self.ir.instances.insert(name.to_string(), name.to_string());
        let saved = self.class.replace(idx);
        let mut cursor = obj.walk();
        let members: Vec<Node<'_>> = obj.named_children(&mut cursor).collect();
        for m in members {
            let (key, f) = match m.kind() {
                "method_definition" => (m.child_by_field_name("name"), Some(m)),
                "pair" => (
                    m.child_by_field_name("key"),
                    m.child_by_field_name("value").filter(|v| is_function(*v)),
                ),
                _ => (None, None),
            };
            if let (Some(k), Some(f)) = (key, f) {
                let key = self.prop_name(k);
                self.define_function(&key, f, true, depth + 1);
            }
        }
        self.class = saved;
    }

    fn object_consts(&mut self, name: &str, obj: Node<'_>) {
        let mut cursor = obj.walk();
        let pairs: Vec<Node<'_>> = obj
            .named_children(&mut cursor)
            .filter(|m| m.kind() == "pair")
            .collect();
        for p in pairs {
            if let (Some(k), Some(v)) =
                (p.child_by_field_name("key"), p.child_by_field_name("value"))
                && let Some(s) = self.eval_str(v, 0)
                && s.iter().any(|x| matches!(x, Part::Lit(_)))
            {
                let key = format!("{name}.{}", self.prop_name(k));
                self.ir.consts.insert(key, s);
            }
        }
    }

    // ----- classes ----------------------------------------------------------------------------

    fn lower_class(&mut self, node: Node<'_>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let name = node
            .child_by_field_name("name")
            .map_or("", |n| self.text(n))
            .to_string();
        let mut bases = Vec::new();
        let mut cursor = node.walk();
        let heritage: Vec<Node<'_>> = node
            .named_children(&mut cursor)
            .filter(|c| c.kind() == "class_heritage")
            .collect();
        for h in heritage {
            let mut c = h.walk();
            for b in h.named_children(&mut c) {
                let value = if b.kind() == "extends_clause" {
                    b.child_by_field_name("value")
                } else if b.kind() == "implements_clause" {
                    None
                } else {
                    Some(b)
                };
                if let Some(v) =
                    value.filter(|v| matches!(v.kind(), "identifier" | "member_expression"))
                {
                    bases.push(self.text(v).to_string());
                }
            }
        }
        let idx = u32::try_from(self.ir.classes.len()).unwrap_or(u32::MAX);
        self.ir.classes.push(ClassIr {
            name: name.clone(),
            bases,
            ..ClassIr::default()
        });
        let saved_class = self.class.replace(idx);
        let saved_cur = std::mem::replace(&mut self.cur, 0);
        let saved_vars = std::mem::take(&mut self.vars);
        if let Some(body) = node.child_by_field_name("body") {
            let mut c = body.walk();
            let members: Vec<Node<'_>> = body.named_children(&mut c).collect();
            for m in members {
                match m.kind() {
                    "method_definition" => {
                        if let Some(n) = m.child_by_field_name("name") {
                            let mname = self.prop_name(n);
                            self.define_function(&mname, m, true, depth + 1);
                        }
                    }
                    "public_field_definition" | "field_definition" => {
                        self.class_field(m, depth);
                    }
                    _ => {}
                }
            }
        }
        self.class = saved_class;
        self.cur = saved_cur;
        self.vars = saved_vars;
    }

    /// A class field: an arrow function is a method; `= new X()` or `: X` gives the field's
    /// class.
    fn class_field(&mut self, m: Node<'_>, depth: usize) {
        let name = m
            .child_by_field_name("name")
            .or_else(|| m.child_by_field_name("property"))
            .map(|n| self.prop_name(n));
        let Some(name) = name else { return };
        let value = m.child_by_field_name("value").map(unwrap);
        if let Some(v) = value.filter(|v| is_function(*v)) {
            self.define_function(&name, v, true, depth + 1);
            return;
        }
        let class = match value {
            Some(v) if v.kind() == "new_expression" => v
                .child_by_field_name("constructor")
                .map(|c| self.text(c).to_string()),
            _ => m
                .child_by_field_name("type")
                .and_then(|t| self.type_class(t)),
        };
        if let (Some(c), Some(ci)) = (class, self.class)
            && let Some(ci) = self.ir.classes.get_mut(ci as usize)
        {
            ci.attrs.insert(name, c);
        }
    }

    // ----- key order --------------------------------------------------------------------------

    /// Whether `node` is a sequence in sorted order: `x.sort()`, `x.toSorted()`,
    /// `_.sortBy(x)`, or a name holding one.
    fn is_sorted_seq(&self, node: Node<'_>) -> bool {
        let mut node = node;
        // `sorted.slice(0, n).filter(…)` keeps the order: walk down such calls, boundedly.
        for _ in 0..MAX_CHAIN {
            node = unwrap(node);
            match node.kind() {
                "identifier" => return self.ordered.seqs.contains(self.text(node)),
                "call_expression" => {
                    let Some(f) = node.child_by_field_name("function") else {
                        return false;
                    };
                    if f.kind() != "member_expression" {
                        return false;
                    }
                    let prop = f
                        .child_by_field_name("property")
                        .map_or("", |p| self.text(p));
                    let Some(obj) = f.child_by_field_name("object") else {
                        return false;
                    };
                    match prop {
                        "sort" | "toSorted" => return true,
                        "sortBy" | "orderBy" => {
                            return matches!(self.text(obj), "_" | "lodash");
                        }
                        "slice" | "filter" | "concat" => node = obj,
                        _ => return false,
                    }
                }
                _ => return false,
            }
        }
        false
    }

    /// After a declaration bound `left = right`: a sorted sequence, or values of a sorted pair.
    fn finish_order(&mut self, left: Node<'_>, right: Node<'_>) {
        let right = unwrap(right);
        let mut names = Vec::new();
        self.pattern_names(left, &mut names, 0);
        let min_max = |s: &Self, n: Node<'_>| {
            let n = unwrap(n);
            n.kind() == "call_expression"
                && n.child_by_field_name("function")
                    .is_some_and(|f| matches!(s.text(f), "Math.min" | "Math.max"))
        };
        if left.kind() == "identifier" {
            if self.is_sorted_seq(right) {
                self.ordered.seqs.extend(names);
            } else if min_max(self, right) {
                self.ordered.vals.extend(names);
            }
        } else if left.kind() == "array_pattern" {
            let pair = right.kind() == "array" && {
                let mut c = right.walk();
                let items: Vec<Node<'_>> = right.named_children(&mut c).collect();
                items.len() >= 2 && items.iter().all(|i| min_max(self, *i))
            };
            if pair || self.is_sorted_seq(right) {
                self.ordered.vals.extend(names);
            }
        }
    }
}

/// The expression inside `await`, parentheses, `x!`, `x as T`, `x satisfies T`, `<T>x`.
fn unwrap(n: Node<'_>) -> Node<'_> {
    let mut n = n;
    for _ in 0..MAX_CHAIN {
        match n.kind() {
            "await_expression"
            | "parenthesized_expression"
            | "non_null_expression"
            | "as_expression"
            | "satisfies_expression"
            | "type_assertion" => {
                let inner = if n.kind() == "type_assertion" {
                    n.named_child(1)
                } else {
                    n.named_child(0)
                };
                match inner {
                    Some(i) => n = i,
                    None => return n,
                }
            }
            _ => return n,
        }
    }
    n
}
