//! Ruby: ActiveRecord (Rails) transactions, row locks, writes and raw SQL, plus the `pg` gem's
//! `exec_params`.
//!
//! # What is recognised
//!
//! - **Transactions.** Any `x.transaction do … end` / `{ … }` with a block —
//!   `ActiveRecord::Base.transaction`, `Model.transaction`, `record.transaction`,
//!   `ApplicationRecord.transaction`, a receiver-less `transaction do` inside a model, the pg
//!   gem's `conn.transaction do |c|` — is a scope; nested inside an open one it joins it
//!   (`requires_new: true` is a savepoint and adds nothing). `record.with_lock do … end` is a
//!   scope that first runs `SELECT … FOR UPDATE` on that row. `connection.begin_db_transaction`
//!   / `commit_db_transaction` / `rollback_db_transaction` and `BEGIN` / `COMMIT` strings start
//!   and end one.
//! - **Models.** `class Account < ApplicationRecord` (or `ActiveRecord::Base`, or any `*Record`
//!   base) declares a model whose table follows Rails' convention (last constant underscored,
//!   last word pluralised: `LedgerEntry` → `ledger_entries`, `Person` → `people`), or
//!   `self.table_name = "x"`. `belongs_to :account` is a foreign-key column `account_id` to the
//!   `Account` model's table (`class_name:`, `foreign_key:` respected); `self.primary_key`
//!   sets the key. A class deriving from a model of the same file that uses the model DSL is
//!   single-table inheritance (the base's table). `self.abstract_class = true` declares none. A
//!   model used (`Account.lock.find(id)`) but declared in no scanned file is implied with its
//!   conventional table.
//! - **Queries.** Chains on a model constant: `where(id: x)` / `where(id: [a, b])` /
//!   `where("balance > ? AND id = :id", …)` (simple fragments: `col op ?|:name`, joined by
//!   `AND`) / `where.not(…)`, `order(:id)`, `lock` / `lock(true)` / `lock("FOR SHARE")` /
//!   `lock("FOR UPDATE NOWAIT")`, run by `find`, `find_by`, `first`, `take`, `last`, `to_a`,
//!   `load`, `each` / `find_each` (its block is a loop over the loaded records), `pluck`,
//!   `count`, …. A relation is lazy: it runs when one of those forces it, or when it is the
//!   value a method returns (the caller loads it).
//! - **Writes.** `update_all`, `delete_all`, `destroy_all`, `update_counters`,
//!   `increment_counter`, `create` / `create!` / `insert_all` / `upsert_all`,
//!   `find_or_create_by`, `Model.delete(id)`; on a record whose model is known from where it
//!   came (`a = Account.find(id)`, `Account.new(…)`, a loop over a relation, `self` in a model):
//!   `update!` / `update` / `update_columns` / `save!` (the attributes assigned since it was
//!   loaded; an `INSERT` for a new record) / `increment!` / `decrement!` / `touch` / `destroy` /
//!   `lock!` / `reload`.
//! - **Raw SQL.** `Model.find_by_sql(["… ?", a])` / `find_by_sql("… #{x}")`,
//!   `connection.execute` / `exec_query(sql, "name", binds)` / `select_all` / …, the pg gem's
//!   `exec_params(sql, [a, b])`, with SQL built from string literals, heredocs (`<<~SQL`),
//!   `+`, `%` and string constants of the same file; `#{…}` interpolation is a hole.
//! - **Code structure.** Classes and modules (methods by name; `def self.m` too), instance
//!   variables assigned an instance (`@repo = AccountRepo.new`, or a parameter defaulting to
//!   one) become `ClassIr::attrs` so `@repo.debit(…)` resolves; `X.new.m(…)`, `X.m(…)`,
//!   `repo.m(…)` resolve by class name across files (Rails autoloads constants, so the linker's
//!   unique-class-by-name fallback is the rule); `require_relative` adds an import for
//!   disambiguation. `if` / `unless` / `case` / `begin … rescue` / modifiers / ternaries
//!   branch; `each`/`map`/`times`/`for`/`while` loop (over `ids.sort` / a sorted pair /
//!   an `order`ed relation: keys ordered); `return` / `raise` end a path.
//!
//! # Design choices
//!
//! Ruby has no static types, so a model is recognised by what is done with a constant: a
//! chain whose first link is an ActiveRecord method (`where`, `lock`, `find`, `create!`, …) or
//! an unknown name (a scope) followed by one is a model query. A single-link call
//! (`Account.find(id)`, `record.update!(…)`) is an `Op::CallOrSql`: if the scanned class (or
//! its bases) defines that method, the method runs, else the ActiveRecord statement.
//! Bare identifiers that are not locals are method calls on `self`.
//!
//! # Limits
//!
//! A record whose model cannot be told (a method parameter `account.lock!`) runs nothing;
//! associations (`account.ledger_entries.lock`) are followed by their conventional model name
//! only when the owner's model is known. Constants are read from the same file only.
//! Callbacks, `default_scope`, `lock_version` (optimistic locking) and `has_many dependent:`
//! cascades are not modelled. `where` fragments more complex than `col op ?` joined by `AND`
//! keep only the parts understood.

mod inflect;

use crate::ir::{
    CallTarget, ClassIr, FieldDecl, FuncIr, ModelDecl, ModuleIr, Op, OrmKind, SiteBody, SiteIr,
};
use crate::lang::common::{self, MAX_DEPTH, Ordered, line};
use crate::orm::{Action, Filter, FilterOp, LockSpec, OrmStmt, Strength, Value};
use crate::sqltext::{self, Arg, Args, Part, SqlExpr, concat, percent_format, push};
use rustc_hash::{FxHashMap, FxHashSet};
use tree_sitter::Node;

/// Longest method chain (`a.b.c…`) read.
const MAX_CHAIN: usize = 64;

/// A module is its file: `app/models/account.rb` → `app.models.account`.
pub(crate) fn module_path(name: &str) -> String {
    common::path_segments(name).join(".")
}

/// Lowers one Ruby file.
pub(crate) fn lower(src: &str, path: &str, module: &str, root: Node<'_>) -> ModuleIr {
    let mut l = Lowerer {
        src,
        path,
        ir: common::module_ir(module),
        cur: 0,
        class: None,
        model: None,
        vars: FxHashMap::default(),
        ordered: Ordered::default(),
        heredocs: FxHashMap::default(),
        used: Vec::new(),
        declared: FxHashSet::default(),
        singleton: false,
    };
    l.collect_heredocs(root);
    let ops = l.body(root, 1, false);
    if let Some(f) = l.ir.funcs.get_mut(0) {
        f.body = ops;
    }
    l.finish()
}

// ----- method tables ----------------------------------------------------------------------------

/// Relation methods that refine a query without running it.
const QUERY: &[&str] = &[
    "where",
    "rewhere",
    "not",
    "or",
    "and",
    "order",
    "reorder",
    "in_order_of",
    "lock",
    "limit",
    "offset",
    "includes",
    "joins",
    "left_joins",
    "left_outer_joins",
    "preload",
    "eager_load",
    "references",
    "distinct",
    "group",
    "regroup",
    "having",
    "unscope",
    "unscoped",
    "all",
    "none",
    "readonly",
    "merge",
    "extending",
    "from",
    "excluding",
    "without",
    "strict_loading",
    "annotate",
    "optimizer_hints",
    "create_with",
    "except",
    "only",
    "select",
];

/// Methods that load one record.
const FIND_ONE: &[&str] = &[
    "find",
    "find_by",
    "find_by!",
    "first",
    "first!",
    "last",
    "last!",
    "take",
    "take!",
    "sole",
    "find_sole_by",
    "second",
    "third",
];

/// Methods that load the records.
const LOAD: &[&str] = &["to_a", "load", "records", "to_ary", "entries", "reload"];

/// Methods that iterate over a collection with a block.
const ITER: &[&str] = &[
    "each",
    "find_each",
    "find_in_batches",
    "in_batches",
    "each_with_index",
    "each_with_object",
    "map",
    "flat_map",
    "collect",
    "filter_map",
    "each_slice",
    "each_entry",
    "sum",
    "reverse_each",
    "times",
    "upto",
    "downto",
    "each_pair",
    "each_key",
    "each_value",
    "each_cons",
    "step",
];

/// Methods that read without loading records.
const AGG: &[&str] = &[
    "count",
    "sum",
    "minimum",
    "maximum",
    "average",
    "calculate",
    "pluck",
    "pick",
    "ids",
    "exists?",
    "any?",
    "many?",
    "empty?",
    "none?",
    "one?",
    "size",
    "length",
];

/// Class-level writes.
const WRITE: &[&str] = &[
    "update_all",
    "delete_all",
    "destroy_all",
    "delete_by",
    "destroy_by",
    "update_counters",
    "increment_counter",
    "decrement_counter",
    "create",
    "create!",
    "insert",
    "insert!",
    "insert_all",
    "insert_all!",
    "upsert",
    "upsert_all",
    "find_or_create_by",
    "find_or_create_by!",
    "create_or_find_by",
    "create_or_find_by!",
    "find_or_initialize_by",
    "delete",
    "destroy",
    "update",
    "update!",
    "touch_all",
];

/// Raw SQL on a model class.
const MODEL_SQL: &[&str] = &["find_by_sql", "count_by_sql"];

/// Record methods that run SQL.
const RECORD: &[&str] = &[
    "update",
    "update!",
    "update_attribute",
    "update_attributes",
    "update_attributes!",
    "update_column",
    "update_columns",
    "save",
    "save!",
    "destroy",
    "destroy!",
    "delete",
    "increment!",
    "decrement!",
    "toggle!",
    "touch",
    "lock!",
    "reload",
    "with_lock",
];

/// Connection (and pg gem) methods whose first argument is SQL.
const EXECUTE: &[&str] = &[
    "execute",
    "exec_query",
    "exec_update",
    "exec_delete",
    "exec_insert",
    "select_all",
    "select_one",
    "select_value",
    "select_values",
    "select_rows",
    "exec",
    "exec_params",
    "async_exec",
    "async_exec_params",
    "query",
];

/// Methods on a string that keep its SQL text.
const STRING_KEEP: &[&str] = &[
    "squish",
    "strip",
    "chomp",
    "freeze",
    "dup",
    "to_s",
    "html_safe",
    "lstrip",
    "rstrip",
    "squeeze",
];

/// Methods that give a collection in a fixed order.
const SORTING: &[&str] = &["sort", "sort!", "sort_by", "sort_by!", "minmax", "uniq"];

// ----- values -----------------------------------------------------------------------------------

/// What an expression (or a local variable) is known to hold.
#[derive(Clone, Debug)]
enum Val {
    /// SQL text.
    Str(SqlExpr),
    /// A relation not run yet.
    Rel(OrmStmt),
    /// One object of a class: a model record or a plain instance.
    Obj(Obj),
    /// Loaded records of a model.
    Recs(String),
    /// A class named by a constant.
    Class(String),
    /// A database connection.
    Conn,
    /// A sorted sequence (`ids.sort`).
    Sorted,
    /// `self`.
    SelfRef,
    /// An instance variable not known to hold anything else (`@repo`).
    Attr(String),
    /// Anything else.
    Unknown,
}

/// Where an object came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    /// `X.new(…)`: not in the database yet.
    New,
    /// Loaded from the database (or `self` in a model).
    Loaded,
}

#[derive(Clone, Debug)]
struct Obj {
    class: String,
    origin: Origin,
    /// The expression its primary key was looked up with.
    key: Option<String>,
    /// Constructor attributes (an `INSERT`'s columns).
    cols: Vec<(String, Value)>,
    /// Attributes assigned since it was loaded (what `save` writes).
    attrs: Vec<(String, Value)>,
}

impl Obj {
    fn new(class: impl Into<String>, origin: Origin, key: Option<String>) -> Self {
        Obj {
            class: class.into(),
            origin,
            key,
            cols: Vec::new(),
            attrs: Vec::new(),
        }
    }
}

/// One call of a chain.
#[derive(Clone, Copy)]
struct Link<'t> {
    /// The whole call node.
    node: Node<'t>,
    /// The argument list, if written.
    args: Option<Node<'t>>,
    /// The block, if any.
    block: Option<Node<'t>>,
}

struct Lowerer<'s> {
    src: &'s str,
    path: &'s str,
    ir: ModuleIr,
    /// The function being lowered.
    cur: u32,
    /// The class being lowered.
    class: Option<u32>,
    /// The model the current class declares.
    model: Option<String>,
    vars: FxHashMap<String, Val>,
    ordered: Ordered,
    /// Heredoc bodies by the start byte of their `<<~TAG`.
    heredocs: FxHashMap<usize, SqlExpr>,
    /// Models used by ORM statements, in first-use order.
    used: Vec<String>,
    /// Models declared in this file.
    declared: FxHashSet<String>,
    /// In a class method (`def self.m`, `class << self`): `self` is the class.
    singleton: bool,
}

/// The last constant of `A::B::C` / `A.B.C`.
fn last_const(s: &str) -> &str {
    s.rsplit("::")
        .next()
        .unwrap_or(s)
        .rsplit('.')
        .next()
        .unwrap_or(s)
}

fn push_branch(ops: &mut Vec<Op>, arms: Vec<Vec<Op>>) {
    if arms.iter().any(|a| !a.is_empty()) {
        ops.push(Op::Branch(arms));
    }
}

fn push_loop(ops: &mut Vec<Op>, body: Vec<Op>) {
    if !body.is_empty() {
        ops.push(Op::Loop(body));
    }
}

/// Decodes the escapes of a double-quoted Ruby string piece (`\s` is a space; any other
/// escaped character stands for itself).
fn unescape(s: &str) -> String {
    sqltext::unescape_with(s, |o, _, out| match o {
        Some('s') => out.push(' '),
        Some('\n') | None => {}
        Some(o) => out.push(o),
    })
}

/// A row-locking clause as `lock(…)` / `lock!(…)` / `with_lock(…)` writes it.
fn lock_spec(clause: Option<&str>) -> Option<LockSpec> {
    let upper = clause.map(str::to_ascii_uppercase);
    let strength = match upper.as_deref() {
        None => Strength::Update,
        Some(u) if u.contains("NO KEY UPDATE") => Strength::NoKeyUpdate,
        Some(u) if u.contains("KEY SHARE") => Strength::KeyShare,
        Some(u) if u.contains("SHARE") => Strength::Share,
        Some(u) if u.contains("UPDATE") => Strength::Update,
        Some(_) => return None,
    };
    Some(LockSpec {
        strength,
        of: Vec::new(),
        nowait: upper.as_deref().is_some_and(|u| u.contains("NOWAIT")),
        skip_locked: upper.as_deref().is_some_and(|u| u.contains("SKIP LOCKED")),
    })
}

/// A comparison operator of a `where` fragment.
fn cmp_op(op: &str) -> Option<FilterOp> {
    Some(match op {
        "=" | "==" => FilterOp::Eq,
        "IN" => FilterOp::In,
        ">" => FilterOp::Cmp(">"),
        "<" => FilterOp::Cmp("<"),
        ">=" => FilterOp::Cmp(">="),
        "<=" => FilterOp::Cmp("<="),
        "<>" | "!=" => FilterOp::Cmp("<>"),
        "LIKE" => FilterOp::Cmp("LIKE"),
        "ILIKE" => FilterOp::Cmp("ILIKE"),
        _ => return None,
    })
}

/// Splits `s` at top-level `sep` (outside parentheses and quotes), case-insensitively.
fn split_top<'a>(s: &'a str, sep: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let (mut depth, mut quote, mut start, mut i) = (0i32, None::<u8>, 0, 0);
    let b = s.as_bytes();
    while i < b.len() {
        let c = b[i];
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'\'' | b'"') => quote = Some(c),
            (None, b'(') => depth += 1,
            (None, b')') => depth -= 1,
            (None, _)
                if depth == 0
                    && s.get(i..i + sep.len())
                        .is_some_and(|w| w.eq_ignore_ascii_case(sep)) =>
            {
                out.push(s.get(start..i).unwrap_or(""));
                i += sep.len();
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(s.get(start..).unwrap_or(""));
    out
}

impl<'s> Lowerer<'s> {
    fn text(&self, n: Node<'_>) -> &'s str {
        common::text(self.src, n)
    }

    fn named<'t>(n: Node<'t>) -> Vec<Node<'t>> {
        let mut c = n.walk();
        n.named_children(&mut c)
            .filter(|c| !matches!(c.kind(), "comment" | "heredoc_body"))
            .collect()
    }

    // ----- heredocs -----------------------------------------------------------------------------

    /// Pairs every `<<~TAG` with its body (bodies follow in the order the tags open), walking
    /// the tree without recursion.
    fn collect_heredocs(&mut self, root: Node<'_>) {
        let mut starts = Vec::new();
        let mut bodies = Vec::new();
        let mut cursor = root.walk();
        'walk: loop {
            let n = cursor.node();
            match n.kind() {
                "heredoc_beginning" => starts.push((n.start_byte(), self.text(n))),
                "heredoc_body" => bodies.push(n),
                _ => {}
            }
            if n.kind() != "heredoc_body" && cursor.goto_first_child() {
                continue;
            }
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    break 'walk;
                }
            }
        }
        for ((start, tag), body) in starts.into_iter().zip(bodies) {
            // `<<~'SQL'`: no escapes, no interpolation.
            let raw = tag.contains('\'');
            let mut expr = Vec::new();
            for c in Self::named(body) {
                match c.kind() {
                    "heredoc_content" if raw => push(&mut expr, Part::Lit(self.text(c).into())),
                    "heredoc_content" => push(&mut expr, Part::Lit(unescape(self.text(c)))),
                    "escape_sequence" => push(&mut expr, Part::Lit(unescape(self.text(c)))),
                    "interpolation" => push(&mut expr, Part::Hole),
                    _ => {}
                }
            }
            self.heredocs.insert(start, expr);
        }
    }

    // ----- IR helpers ---------------------------------------------------------------------------

    fn site(&mut self, line: u32, body: SiteBody, args: Option<Args>, ordered: bool) -> u32 {
        let ordered = ordered || self.ordered.site(&body, args.as_ref(), &['@']);
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

    fn use_model(&mut self, model: &str) {
        if !self.used.iter().any(|m| m == model) {
            self.used.push(model.to_string());
        }
    }

    /// Runs an ORM statement now; `fallback` is the call that runs instead when it resolves to
    /// a scanned method.
    fn run(&mut self, stmt: OrmStmt, line: u32, ops: &mut Vec<Op>, fallback: Option<CallTarget>) {
        self.use_model(&stmt.model);
        let ordered = stmt.lock.is_some() && !stmt.order.is_empty();
        let site = self.site(line, SiteBody::Orm(stmt), None, ordered);
        match fallback {
            Some(t) => {
                let call = self.call(t, line);
                ops.push(Op::CallOrSql { call, site });
            }
            None => ops.push(Op::Sql(site)),
        }
    }

    fn finish(mut self) -> ModuleIr {
        for m in std::mem::take(&mut self.used) {
            if self.declared.contains(&m) {
                continue;
            }
            self.ir.models.push(ModelDecl {
                table: Some(inflect::table_name(&m)),
                class: m,
                kind: OrmKind::Declared,
                app: String::new(),
                is_abstract: false,
                bases: Vec::new(),
                fields: Vec::new(),
                line: 1,
                implied: true,
            });
        }
        self.ir
    }

    // ----- statements ---------------------------------------------------------------------------

    /// The statements of a container node (`body_statement`, `then`, `do`, …) with its
    /// `rescue` / `else` / `ensure` clauses; with `tail`, a relation the last statement yields
    /// runs (a method's value: the caller loads it).
    fn body(&mut self, node: Node<'_>, depth: usize, tail: bool) -> Vec<Op> {
        let mut main = Vec::new();
        if depth > MAX_DEPTH {
            return main;
        }
        let mut handlers = Vec::new();
        let mut after = Vec::new();
        let children = Self::named(node);
        let last_stmt = children
            .iter()
            .rposition(|c| !matches!(c.kind(), "rescue" | "else" | "ensure"));
        for (i, c) in children.iter().enumerate() {
            match c.kind() {
                "rescue" => {
                    let ops = match c.child_by_field_name("body") {
                        Some(b) => self.body(b, depth + 1, false),
                        None => Vec::new(),
                    };
                    handlers.push(ops);
                }
                "else" if node.kind() != "case" => {
                    let ops = self.body(*c, depth + 1, false);
                    main.extend(ops);
                }
                "ensure" => after = self.body(*c, depth + 1, false),
                _ => {
                    let v = self.stmt(*c, &mut main, depth + 1);
                    if tail
                        && Some(i) == last_stmt
                        && let Some(Val::Rel(stmt)) = v
                    {
                        self.run(stmt, line(*c), &mut main, None);
                    }
                }
            }
        }
        if !handlers.is_empty() {
            let mut arms = vec![main];
            arms.extend(handlers);
            main = Vec::new();
            push_branch(&mut main, arms);
        }
        main.extend(after);
        main
    }

    /// Lowers one statement; returns the value of an expression statement.
    fn stmt(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) -> Option<Val> {
        if depth > MAX_DEPTH {
            return None;
        }
        match node.kind() {
            "method" => self.method(node, depth),
            "singleton_method" => self.method(node, depth),
            "class" | "module" => self.class(node, depth),
            "singleton_class" => {
                if let Some(b) = node.child_by_field_name("body") {
                    let saved = std::mem::replace(&mut self.singleton, true);
                    for c in Self::named(b) {
                        if matches!(c.kind(), "method" | "singleton_method" | "class" | "module") {
                            self.stmt(c, ops, depth + 1);
                        }
                    }
                    self.singleton = saved;
                }
            }
            "if" | "unless" => self.lower_if(node, ops, depth),
            "if_modifier" | "unless_modifier" => {
                if let Some(c) = node.child_by_field_name("condition") {
                    self.expr(c, ops, depth + 1);
                }
                let mut arm = Vec::new();
                if let Some(b) = node.child_by_field_name("body") {
                    self.stmt(b, &mut arm, depth + 1);
                }
                push_branch(ops, vec![arm, Vec::new()]);
            }
            "while" | "until" | "while_modifier" | "until_modifier" => {
                let mut body = Vec::new();
                if let Some(c) = node.child_by_field_name("condition") {
                    self.expr(c, &mut body, depth + 1);
                }
                if let Some(b) = node.child_by_field_name("body") {
                    if b.kind() == "do" || b.kind() == "begin" {
                        body.extend(self.body(b, depth + 1, false));
                    } else {
                        self.stmt(b, &mut body, depth + 1);
                    }
                }
                push_loop(ops, body);
            }
            "for" => self.lower_for(node, ops, depth),
            "case" | "case_match" => self.lower_case(node, ops, depth),
            "begin"
            | "parenthesized_statements"
            | "then"
            | "else"
            | "do"
            | "block_body"
            | "body_statement"
            | "ensure" => {
                let ops2 = self.body(node, depth + 1, false);
                ops.extend(ops2);
            }
            "return" => {
                let mut v = Val::Unknown;
                for c in Self::named(node) {
                    v = self.expr(c, ops, depth + 1);
                }
                // `return relation`: the caller loads it.
                if let Val::Rel(stmt) = v {
                    self.run(stmt, line(node), ops, None);
                }
                ops.push(Op::Return);
                return None;
            }
            "break" | "next" | "redo" | "retry" => {
                for c in Self::named(node) {
                    self.expr(c, ops, depth + 1);
                }
            }
            "rescue_modifier" => {
                let mut main = Vec::new();
                if let Some(b) = node.child_by_field_name("body") {
                    self.stmt(b, &mut main, depth + 1);
                }
                let mut handler = Vec::new();
                if let Some(h) = node.child_by_field_name("handler") {
                    self.stmt(h, &mut handler, depth + 1);
                }
                push_branch(ops, vec![main, handler]);
            }
            "heredoc_body" | "comment" | "uninterpreted" | "empty_statement" => {}
            _ => return Some(self.expr(node, ops, depth + 1)),
        }
        None
    }

    fn lower_if(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        if let Some(c) = node.child_by_field_name("condition") {
            self.expr(c, ops, depth + 1);
        }
        let then = match node.child_by_field_name("consequence") {
            Some(b) => self.body(b, depth + 1, false),
            None => Vec::new(),
        };
        let alt = match node.child_by_field_name("alternative") {
            Some(a) if a.kind() == "elsif" => {
                let mut alt = Vec::new();
                self.lower_if(a, &mut alt, depth + 1);
                alt
            }
            Some(a) => self.body(a, depth + 1, false),
            None => Vec::new(),
        };
        push_branch(ops, vec![then, alt]);
    }

    fn lower_case(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        if let Some(v) = node.child_by_field_name("value") {
            self.expr(v, ops, depth + 1);
        }
        let mut arms = Vec::new();
        let mut has_else = false;
        for c in Self::named(node) {
            match c.kind() {
                "when" | "in_clause" => {
                    let arm = match c.child_by_field_name("body") {
                        Some(b) => self.body(b, depth + 1, false),
                        None => Vec::new(),
                    };
                    arms.push(arm);
                }
                "else" => {
                    has_else = true;
                    arms.push(self.body(c, depth + 1, false));
                }
                _ => {}
            }
        }
        if !has_else {
            arms.push(Vec::new());
        }
        push_branch(ops, arms);
    }

    fn lower_for(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        let value = node
            .child_by_field_name("value")
            .and_then(|v| Self::named(v).into_iter().next());
        let val = value.map(|v| self.expr(v, ops, depth + 1));
        let sorted = matches!(val, Some(Val::Sorted))
            || matches!(&val, Some(Val::Rel(s)) if !s.order.is_empty());
        let pattern = node.child_by_field_name("pattern");
        let names = pattern.map(|p| self.names(p)).unwrap_or_default();
        let bound = match &val {
            Some(Val::Recs(m)) => Some(m.clone()),
            _ => None,
        };
        for n in &names {
            let v = match &bound {
                Some(m) => Val::Obj(Obj::new(m.clone(), Origin::Loaded, Some(format!("{n}.id")))),
                None => Val::Unknown,
            };
            self.vars.insert(n.clone(), v);
            if sorted {
                self.ordered.vals.insert(n.clone());
            }
        }
        self.ordered.loops += usize::from(sorted);
        let body = match node.child_by_field_name("body") {
            Some(b) => self.body(b, depth + 1, false),
            None => Vec::new(),
        };
        self.ordered.loops -= usize::from(sorted);
        push_loop(ops, body);
    }

    /// Identifiers bound by a pattern / block parameters / assignment list.
    fn names(&self, node: Node<'_>) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![(node, 0usize)];
        while let Some((n, d)) = stack.pop() {
            if d > 8 {
                continue;
            }
            match n.kind() {
                "identifier" => out.push(self.text(n).to_string()),
                "optional_parameter"
                | "keyword_parameter"
                | "splat_parameter"
                | "block_parameter"
                | "hash_splat_parameter" => {
                    if let Some(name) = n.child_by_field_name("name") {
                        out.push(self.text(name).to_string());
                    }
                }
                _ => {
                    let mut kids = Self::named(n);
                    kids.reverse();
                    stack.extend(kids.into_iter().map(|k| (k, d + 1)));
                }
            }
        }
        out
    }

    // ----- definitions --------------------------------------------------------------------------

    fn method(&mut self, node: Node<'_>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let singleton = node.kind() == "singleton_method" || self.singleton;
        let name = node
            .child_by_field_name("name")
            .map(|n| self.text(n))
            .unwrap_or("<anonymous>")
            .to_string();
        let idx = u32::try_from(self.ir.funcs.len()).unwrap_or(u32::MAX);
        let display = match self.class.and_then(|c| self.ir.classes.get(c as usize)) {
            Some(c) => format!("{}.{name}", c.name),
            None => {
                let module = self.ir.funcs.first().map_or("", |f| f.display.as_str());
                format!("{module}.{name}")
            }
        };
        self.ir.funcs.push(FuncIr {
            name: name.clone(),
            class: self.class,
            parent: None,
            display,
            line: line(node),
            body: Vec::new(),
            autobegin: false,
            is_module: false,
        });
        if let Some(c) = self.class.and_then(|c| self.ir.classes.get_mut(c as usize)) {
            // An instance method wins over `def self.m` of the same name (`def self.call =
            // new.call` must reach the instance method).
            if !singleton || !c.methods.contains_key(&name) {
                c.methods.insert(name, idx);
            }
        }
        let saved_cur = std::mem::replace(&mut self.cur, idx);
        let saved_vars = std::mem::take(&mut self.vars);
        let saved_ordered = std::mem::take(&mut self.ordered);
        let saved_singleton = std::mem::replace(&mut self.singleton, singleton);
        if let Some(params) = node.child_by_field_name("parameters") {
            self.params(params, depth);
        }
        let body = match node.child_by_field_name("body") {
            Some(b) if matches!(b.kind(), "body_statement") => self.body(b, depth + 1, true),
            Some(b) => {
                // `def m = expr`.
                let mut ops = Vec::new();
                if let Some(Val::Rel(stmt)) = self.stmt(b, &mut ops, depth + 1) {
                    self.run(stmt, line(b), &mut ops, None);
                }
                ops
            }
            None => Vec::new(),
        };
        if let Some(f) = self.ir.funcs.get_mut(idx as usize) {
            f.body = body;
        }
        self.cur = saved_cur;
        self.vars = saved_vars;
        self.ordered = saved_ordered;
        self.singleton = saved_singleton;
    }

    fn params(&mut self, params: Node<'_>, depth: usize) {
        for p in Self::named(params) {
            match p.kind() {
                "identifier" => {
                    self.vars.insert(self.text(p).to_string(), Val::Unknown);
                }
                "optional_parameter" | "keyword_parameter" => {
                    let Some(name) = p.child_by_field_name("name") else {
                        continue;
                    };
                    // A default value is evaluated only when the caller passes none: its
                    // calls are not operations, but its class is the parameter's.
                    let val = match p.child_by_field_name("value") {
                        Some(v) => {
                            let mut scratch = Vec::new();
                            match self.expr(v, &mut scratch, depth + 1) {
                                v @ Val::Obj(_) => v,
                                _ => Val::Unknown,
                            }
                        }
                        None => Val::Unknown,
                    };
                    self.vars.insert(self.text(name).to_string(), val);
                }
                _ => {
                    for n in self.names(p) {
                        self.vars.insert(n, Val::Unknown);
                    }
                }
            }
        }
    }

    fn class(&mut self, node: Node<'_>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let is_module = node.kind() == "module";
        let full = node
            .child_by_field_name("name")
            .map(|n| self.text(n))
            .unwrap_or("");
        let name = last_const(full).to_string();
        let base = node
            .child_by_field_name("superclass")
            .and_then(|s| Self::named(s).into_iter().next())
            .map(|b| self.text(b).replace("::", "."));
        let idx = u32::try_from(self.ir.classes.len()).unwrap_or(u32::MAX);
        self.ir.classes.push(ClassIr {
            name: name.clone(),
            bases: base.iter().cloned().collect(),
            ..ClassIr::default()
        });
        let body = node.child_by_field_name("body");
        let model = if is_module {
            None
        } else {
            self.model_decl(&name, base.as_deref(), body, line(node))
        };
        let saved_class = self.class.replace(idx);
        let saved_model = std::mem::replace(&mut self.model, model);
        let saved_cur = std::mem::replace(&mut self.cur, 0);
        let saved_vars = std::mem::take(&mut self.vars);
        let saved_singleton = std::mem::replace(&mut self.singleton, false);
        if let Some(body) = body {
            for c in Self::named(body) {
                match c.kind() {
                    "method" | "singleton_method" | "class" | "module" | "singleton_class" => {
                        let mut scratch = Vec::new();
                        self.stmt(c, &mut scratch, depth + 1);
                    }
                    "assignment" => self.constant(c),
                    _ => {}
                }
            }
        }
        self.class = saved_class;
        self.model = saved_model;
        self.cur = saved_cur;
        self.vars = saved_vars;
        self.singleton = saved_singleton;
    }

    /// `NAME = "…"` at module or class level: a string constant.
    fn constant(&mut self, node: Node<'_>) {
        let (Some(l), Some(r)) = (
            node.child_by_field_name("left"),
            node.child_by_field_name("right"),
        ) else {
            return;
        };
        if l.kind() == "constant"
            && let Some(e) = self.eval_str(r, 0)
        {
            self.ir.consts.insert(self.text(l).to_string(), e);
        }
    }

    /// The model a class declares (its name, for receiver-less ActiveRecord calls in it).
    fn model_decl(
        &mut self,
        name: &str,
        base: Option<&str>,
        body: Option<Node<'_>>,
        at: u32,
    ) -> Option<String> {
        let base = base?;
        let base_last = last_const(base);
        let record_base = base_last == "ApplicationRecord"
            || base == "ActiveRecord.Base"
            || (base_last.ends_with("Record") && base_last != "Record");
        let mut table = None;
        let mut pk = None;
        let mut is_abstract = false;
        let mut dsl = false;
        let mut fields = Vec::new();
        for c in body.map(Self::named).unwrap_or_default() {
            match c.kind() {
                "assignment" => {
                    let (Some(l), Some(r)) = (
                        c.child_by_field_name("left"),
                        c.child_by_field_name("right"),
                    ) else {
                        continue;
                    };
                    let attr = (l.kind() == "call"
                        && l.child_by_field_name("receiver")
                            .is_some_and(|r| r.kind() == "self"))
                    .then(|| l.child_by_field_name("method").map(|m| self.text(m)))
                    .flatten();
                    let value = self.literal(r);
                    match (attr, value) {
                        (Some("table_name"), Some(v)) => table = Some(v),
                        (Some("primary_key"), Some(v)) => pk = Some(v),
                        (Some("abstract_class"), _) => is_abstract = r.kind() == "true",
                        _ => {}
                    }
                    dsl |= attr.is_some();
                }
                "call" if c.child_by_field_name("receiver").is_none() => {
                    let m = c
                        .child_by_field_name("method")
                        .map(|m| self.text(m))
                        .unwrap_or("");
                    dsl |= matches!(
                        m,
                        "belongs_to"
                            | "has_many"
                            | "has_one"
                            | "has_and_belongs_to_many"
                            | "validates"
                            | "validate"
                            | "scope"
                            | "enum"
                            | "before_save"
                            | "after_commit"
                    );
                    if m == "belongs_to"
                        && let Some(f) = self.belongs_to(c)
                    {
                        fields.push(f);
                    }
                }
                _ => {}
            }
        }
        let base_model = self
            .ir
            .models
            .iter()
            .find(|m| m.class == base_last && !m.is_abstract)
            .and_then(|m| m.table.clone());
        let table = match (table, base_model) {
            (Some(t), _) => t,
            _ if record_base => inflect::table_name(name),
            (None, Some(t)) => t,
            // Single-table inheritance from a model of another file.
            (None, None) if dsl => inflect::table_name(base_last),
            _ => return None,
        };
        if let Some(pk) = pk {
            fields.insert(
                0,
                FieldDecl {
                    name: pk.clone(),
                    column: pk,
                    data_type: "bigint".into(),
                    primary_key: true,
                    not_null: true,
                    has_default: true,
                    ..FieldDecl::default()
                },
            );
        }
        self.declared.insert(name.to_string());
        self.ir.models.push(ModelDecl {
            class: name.to_string(),
            kind: OrmKind::Declared,
            table: Some(table),
            app: String::new(),
            is_abstract,
            bases: vec![base.to_string()],
            fields,
            line: at,
            implied: false,
        });
        (!is_abstract).then(|| name.to_string())
    }

    /// `belongs_to :account, class_name: "Owner", foreign_key: :owner_id`.
    fn belongs_to(&mut self, call: Node<'_>) -> Option<FieldDecl> {
        let args = call.child_by_field_name("arguments")?;
        let (pos, pairs) = self.split_args(args);
        let assoc = self.literal(*pos.first()?)?;
        let mut target = inflect::camelize(&assoc);
        let mut column = format!("{assoc}_id");
        let mut optional = false;
        for (k, v) in pairs {
            match (k.as_str(), self.literal(v)) {
                ("class_name", Some(c)) => target = last_const(&c).to_string(),
                ("foreign_key", Some(c)) => column = c,
                ("optional", _) => optional = v.kind() == "true",
                ("polymorphic", _) => return None,
                _ => {}
            }
        }
        self.use_model(&target);
        Some(FieldDecl {
            name: assoc,
            column,
            data_type: "bigint".into(),
            not_null: !optional,
            fk: Some((target, None, String::new())),
            ..FieldDecl::default()
        })
    }

    // ----- assignments --------------------------------------------------------------------------

    fn assignment(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) -> Val {
        let (Some(l), Some(r)) = (
            node.child_by_field_name("left"),
            node.child_by_field_name("right"),
        ) else {
            return Val::Unknown;
        };
        let op_assign = node.kind() == "operator_assignment";
        if l.kind() == "constant" && self.cur == 0 {
            self.constant(node);
        }
        let sorted_seq = self.is_sorted(r);
        let val = self.expr(r, ops, depth + 1);
        match l.kind() {
            "identifier" => {
                let name = self.text(l).to_string();
                if op_assign {
                    self.vars.entry(name).or_insert(Val::Unknown);
                    return Val::Unknown;
                }
                let val = match val {
                    Val::Obj(mut o) if o.key.is_none() && o.origin == Origin::Loaded => {
                        o.key = Some(format!("{name}.id"));
                        Val::Obj(o)
                    }
                    Val::Sorted => Val::Sorted,
                    v => v,
                };
                if sorted_seq || matches!(val, Val::Sorted) {
                    self.ordered.seqs.insert(name.clone());
                } else {
                    self.ordered.seqs.remove(&name);
                }
                self.ordered.vals.remove(&name);
                self.vars.insert(name, val.clone());
                val
            }
            "instance_variable" => {
                let name = self.text(l).to_string();
                if let (Val::Obj(o), Some(c)) = (&val, self.class)
                    && let Some(class) = self.ir.classes.get_mut(c as usize)
                {
                    class
                        .attrs
                        .insert(name.trim_start_matches('@').to_string(), o.class.clone());
                }
                self.vars.insert(name, val.clone());
                val
            }
            "call" => {
                // `record.balance = x` / `record.balance -= x`: an attribute `save` writes.
                let recv = l.child_by_field_name("receiver");
                let attr = l.child_by_field_name("method").map(|m| self.text(m));
                if let (Some(recv), Some(attr)) = (recv, attr) {
                    let key = match recv.kind() {
                        "identifier" | "instance_variable" => Some(self.text(recv).to_string()),
                        _ => None,
                    };
                    let value = if op_assign {
                        Value::Param
                    } else {
                        self.value_of(r)
                    };
                    if let Some(Val::Obj(o)) = key.and_then(|k| self.vars.get_mut(&k)) {
                        o.attrs.retain(|(a, _)| a != attr);
                        o.attrs.push((attr.to_string(), value.clone()));
                        if o.origin == Origin::New {
                            o.cols.retain(|(a, _)| a != attr);
                            o.cols.push((attr.to_string(), value));
                        }
                    } else if recv.kind() == "self" && self.model.is_some() {
                        // `self.balance = x` in a model: written by the next `save`.
                    } else {
                        self.expr(recv, ops, depth + 1);
                    }
                }
                Val::Unknown
            }
            "left_assignment_list" | "destructured_left_assignment" => {
                let sorted = sorted_seq || matches!(val, Val::Sorted);
                for n in self.names(l) {
                    if sorted {
                        self.ordered.vals.insert(n.clone());
                    } else {
                        self.ordered.vals.remove(&n);
                    }
                    self.vars.insert(n, Val::Unknown);
                }
                Val::Unknown
            }
            _ => {
                self.expr(l, ops, depth + 1);
                Val::Unknown
            }
        }
    }

    /// `ids.sort`, `[a, b].minmax`, a name holding a sorted sequence.
    fn is_sorted(&self, node: Node<'_>) -> bool {
        match node.kind() {
            "call" => node
                .child_by_field_name("method")
                .is_some_and(|m| SORTING.contains(&self.text(m)) && self.text(m) != "uniq"),
            "identifier" => self.ordered.seqs.contains(self.text(node)),
            _ => false,
        }
    }

    // ----- expressions --------------------------------------------------------------------------

    fn expr(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) -> Val {
        if depth > MAX_DEPTH {
            return Val::Unknown;
        }
        match node.kind() {
            "call" => self.chain(node, ops, depth),
            "assignment" | "operator_assignment" => self.assignment(node, ops, depth),
            "identifier" => {
                let name = self.text(node);
                match self.vars.get(name) {
                    Some(v) => v.clone(),
                    None => self.bare(node, ops, depth),
                }
            }
            "constant" => Val::Class(self.text(node).to_string()),
            "scope_resolution" => {
                let t = self.text(node);
                if t == "ActiveRecord::Base" {
                    Val::Class("ActiveRecord::Base".into())
                } else {
                    Val::Class(last_const(t).to_string())
                }
            }
            "self" => Val::SelfRef,
            "instance_variable" => {
                let t = self.text(node);
                match self.vars.get(t) {
                    Some(v) => v.clone(),
                    None => Val::Attr(t.trim_start_matches('@').to_string()),
                }
            }
            "string" | "chained_string" | "heredoc_beginning" => {
                self.interpolations(node, ops, depth);
                self.eval_str(node, 0).map_or(Val::Unknown, Val::Str)
            }
            "parenthesized_statements" => {
                let mut v = Val::Unknown;
                for c in Self::named(node) {
                    v = self.stmt(c, ops, depth + 1).unwrap_or(Val::Unknown);
                }
                v
            }
            "binary" => {
                let l = node.child_by_field_name("left");
                let r = node.child_by_field_name("right");
                let op = node.child_by_field_name("operator").map(|o| self.text(o));
                if matches!(op, Some("&&" | "||" | "and" | "or")) {
                    // The right side runs only sometimes.
                    if let Some(l) = l {
                        self.expr(l, ops, depth + 1);
                    }
                    let mut arm = Vec::new();
                    if let Some(r) = r {
                        self.expr(r, &mut arm, depth + 1);
                    }
                    push_branch(ops, vec![arm, Vec::new()]);
                    return Val::Unknown;
                }
                if let Some(l) = l {
                    self.expr(l, ops, depth + 1);
                }
                if let Some(r) = r {
                    self.expr(r, ops, depth + 1);
                }
                if matches!(op, Some("+" | "%")) {
                    return self.eval_str(node, 0).map_or(Val::Unknown, Val::Str);
                }
                Val::Unknown
            }
            "conditional" => {
                if let Some(c) = node.child_by_field_name("condition") {
                    self.expr(c, ops, depth + 1);
                }
                let mut a = Vec::new();
                let mut b = Vec::new();
                if let Some(c) = node.child_by_field_name("consequence") {
                    self.expr(c, &mut a, depth + 1);
                }
                if let Some(c) = node.child_by_field_name("alternative") {
                    self.expr(c, &mut b, depth + 1);
                }
                push_branch(ops, vec![a, b]);
                Val::Unknown
            }
            "if" | "unless" | "case" | "case_match" | "begin" | "while" | "until" | "for"
            | "if_modifier" | "unless_modifier" | "rescue_modifier" | "return" => {
                self.stmt(node, ops, depth + 1);
                Val::Unknown
            }
            // Code that runs later, if ever.
            "lambda" | "method" | "singleton_method" | "class" | "module" => {
                self.stmt(node, ops, depth + 1);
                Val::Unknown
            }
            "integer" | "float" | "simple_symbol" | "hash_key_symbol" | "true" | "false"
            | "nil" | "comment" | "heredoc_body" => Val::Unknown,
            _ => {
                for c in Self::named(node) {
                    self.expr(c, ops, depth + 1);
                }
                Val::Unknown
            }
        }
    }

    /// The calls inside `#{…}` of a string.
    fn interpolations(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        for c in Self::named(node) {
            match c.kind() {
                "interpolation" => {
                    for e in Self::named(c) {
                        self.expr(e, ops, depth + 1);
                    }
                }
                "string" => self.interpolations(c, ops, depth + 1),
                _ => {}
            }
        }
    }

    /// A bare identifier that is no local: a method call on `self` without arguments.
    fn bare(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) -> Val {
        let link = Link {
            node,
            args: None,
            block: None,
        };
        let name = self.text(node);
        self.implicit(name, link, ops, depth, true)
    }

    /// A method chain `root.a(x).b(y) { … }`, link by link.
    fn chain(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) -> Val {
        let mut links = Vec::new();
        let mut n = node;
        let root = loop {
            if n.kind() != "call" {
                break Some(n);
            }
            if links.len() >= MAX_CHAIN {
                return Val::Unknown;
            }
            links.push(Link {
                node: n,
                args: n.child_by_field_name("arguments"),
                block: n.child_by_field_name("block"),
            });
            match n.child_by_field_name("receiver") {
                Some(r) => n = r,
                None => break None,
            }
        };
        links.reverse();
        let single = links.len() == 1;
        let mut iter = links.into_iter();
        let mut cur = match root {
            Some(r) => self.expr(r, ops, depth + 1),
            None => {
                let Some(first) = iter.next() else {
                    return Val::Unknown;
                };
                let name = first
                    .node
                    .child_by_field_name("method")
                    .map(|m| self.text(m))
                    .unwrap_or("");
                self.implicit(name, first, ops, depth, single)
            }
        };
        let root_var = root
            .filter(|r| r.kind() == "identifier")
            .map(|r| self.text(r).to_string());
        let rest: Vec<Link<'_>> = iter.collect();
        let n_rest = rest.len();
        for (i, link) in rest.iter().enumerate() {
            let name = link
                .node
                .child_by_field_name("method")
                .map(|m| self.text(m))
                .unwrap_or("");
            let later: Vec<&str> = rest
                .get(i + 1..)
                .unwrap_or(&[])
                .iter()
                .filter_map(|l| l.node.child_by_field_name("method").map(|m| self.text(m)))
                .collect();
            cur = self.apply(cur, name, *link, &later, ops, depth, single && n_rest == 1);
            // `record.save!` clears the record's pending attributes.
            if i == 0
                && matches!(name, "save" | "save!" | "reload")
                && let Some(Val::Obj(o)) = root_var.as_ref().and_then(|v| self.vars.get_mut(v))
            {
                o.attrs.clear();
                o.cols.clear();
                o.origin = Origin::Loaded;
            }
        }
        cur
    }

    /// The arguments' nested calls (they run before the call).
    fn lower_args(&mut self, link: Link<'_>, ops: &mut Vec<Op>, depth: usize) {
        if let Some(a) = link.args {
            for c in Self::named(a) {
                self.expr(c, ops, depth + 1);
            }
        }
    }

    /// A block's body, with its parameters bound to `param`.
    fn block_body(&mut self, link: Link<'_>, param: Option<Val>, depth: usize) -> Vec<Op> {
        let Some(b) = link.block else {
            return Vec::new();
        };
        if let Some(p) = b.child_by_field_name("parameters") {
            for (i, n) in self.names(p).into_iter().enumerate() {
                let v = match (&param, i) {
                    (Some(Val::Obj(o)), 0) => {
                        let mut o = o.clone();
                        o.key = Some(format!("{n}.id"));
                        Val::Obj(o)
                    }
                    (Some(v @ (Val::Conn | Val::Str(_))), 0) => v.clone(),
                    _ => Val::Unknown,
                };
                self.ordered.vals.remove(&n);
                self.vars.insert(n, v);
            }
        }
        match b.child_by_field_name("body") {
            Some(body) => self.body(body, depth + 1, false),
            None => Vec::new(),
        }
    }

    /// A loop over a block; `sorted` when the collection's order is the key order.
    fn block_loop(
        &mut self,
        link: Link<'_>,
        param: Option<Val>,
        sorted: bool,
        ops: &mut Vec<Op>,
        depth: usize,
    ) {
        if sorted && let Some(p) = link.block.and_then(|b| b.child_by_field_name("parameters")) {
            for n in self.names(p) {
                self.ordered.vals.insert(n);
            }
        }
        self.ordered.loops += usize::from(sorted);
        let saved = self.ordered.vals.clone();
        let body = self.block_body(link, param, depth);
        if sorted {
            // `block_body` unbinds the parameters; a sorted loop's are ordered values.
            self.ordered.vals = saved;
        }
        self.ordered.loops -= usize::from(sorted);
        push_loop(ops, body);
    }

    /// A transaction block: a scope, with `first` run at its start (`with_lock`).
    fn scope(&mut self, link: Link<'_>, first: Vec<Op>, ops: &mut Vec<Op>, depth: usize) {
        let mut body = first;
        body.extend(self.block_body(link, Some(Val::Conn), depth));
        ops.push(Op::Scope {
            line: line(link.node),
            body,
        });
    }

    /// A receiver-less call `name(args) { … }` (or one on `self`).
    fn implicit(
        &mut self,
        name: &str,
        link: Link<'_>,
        ops: &mut Vec<Op>,
        depth: usize,
        single: bool,
    ) -> Val {
        let at = line(link.node);
        match name {
            "raise" | "fail" | "abort" | "exit" => {
                self.lower_args(link, ops, depth);
                ops.push(Op::Return);
                return Val::Unknown;
            }
            "require_relative" => {
                self.require_relative(link);
                return Val::Unknown;
            }
            "require" | "include" | "extend" | "prepend" | "puts" | "p" | "attr_reader"
            | "attr_accessor" | "attr_writer" | "private" | "protected" | "public" | "lambda"
            | "proc" | "binding" | "block_given?" => return Val::Unknown,
            "transaction" if link.block.is_some() => {
                self.lower_args(link, ops, depth);
                self.scope(link, Vec::new(), ops, depth);
                return Val::Unknown;
            }
            "connection" if link.args.is_none() => return Val::Conn,
            "loop" if link.block.is_some() => {
                self.block_loop(link, None, false, ops, depth);
                return Val::Unknown;
            }
            _ => {}
        }
        if let Some(model) = self.model.clone() {
            if !self.singleton && (RECORD.contains(&name) || name == "transaction") {
                let o = Obj::new(model, Origin::Loaded, Some("self.id".into()));
                return self.record(o, name, link, &[], ops, depth, single, true);
            }
            if is_model_method(name) {
                return self.apply(Val::Class(model), name, link, &[], ops, depth, single);
            }
        }
        if name == "new" {
            if let Some(c) = self.class.and_then(|c| self.ir.classes.get(c as usize)) {
                let class = c.name.clone();
                self.lower_args(link, ops, depth);
                return Val::Obj(Obj::new(class, Origin::New, None));
            }
            return Val::Unknown;
        }
        // `attr_reader :repo` … `repo.debit(x)`: the attribute's class.
        if link.args.is_none()
            && link.block.is_none()
            && let Some(c) = self.class.and_then(|c| self.ir.classes.get(c as usize))
            && c.attrs.contains_key(name)
            && !c.methods.contains_key(name)
        {
            return Val::Attr(name.to_string());
        }
        self.lower_args(link, ops, depth);
        let target = if self.class.is_some() {
            CallTarget::SelfMethod(name.to_string())
        } else {
            CallTarget::Path(vec![name.to_string()])
        };
        let call = self.call(target, at);
        ops.push(Op::Call(call));
        if link.block.is_some() {
            let body = self.block_body(link, None, depth);
            ops.extend(body);
        }
        Val::Unknown
    }

    /// `require_relative "../models/account"`: the file's class, for disambiguation.
    fn require_relative(&mut self, link: Link<'_>) {
        let Some(arg) = link.args.and_then(|a| Self::named(a).into_iter().next()) else {
            return;
        };
        let Some(rel) = self.literal(arg) else { return };
        let mut segs: Vec<String> = common::path_segments(self.path)
            .iter()
            .map(|s| s.to_string())
            .collect();
        segs.pop();
        for part in rel.trim_end_matches(".rb").split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    segs.pop();
                }
                p => segs.push(p.to_string()),
            }
        }
        let Some(file) = segs.last() else { return };
        let class = inflect::camelize(file);
        let target = format!("{}.{class}", segs.join("."));
        self.ir.imports.insert(class, target);
    }

    /// One link `.name(args) { … }` applied to the value so far.
    #[allow(clippy::too_many_arguments, reason = "one place that reads a link")]
    fn apply(
        &mut self,
        cur: Val,
        name: &str,
        link: Link<'_>,
        later: &[&str],
        ops: &mut Vec<Op>,
        depth: usize,
        single: bool,
    ) -> Val {
        let at = line(link.node);
        if name == "transaction" && link.block.is_some() {
            self.lower_args(link, ops, depth);
            self.scope(link, Vec::new(), ops, depth);
            return Val::Unknown;
        }
        match cur {
            Val::Class(class) => self.on_class(class, name, link, later, ops, depth, single),
            Val::Rel(stmt) => self.on_relation(stmt, name, link, ops, depth, None),
            Val::Obj(o) => self.record(o, name, link, later, ops, depth, single, false),
            Val::Recs(model) => {
                if ITER.contains(&name) && link.block.is_some() {
                    self.lower_args(link, ops, depth);
                    let o = Obj::new(model, Origin::Loaded, None);
                    self.block_loop(link, Some(Val::Obj(o)), false, ops, depth);
                    return Val::Unknown;
                }
                match name {
                    "first" | "last" | "find" | "detect" => {
                        self.lower_args(link, ops, depth);
                        Val::Obj(Obj::new(model, Origin::Loaded, None))
                    }
                    "sort_by" | "sort" | "reverse" | "select" | "reject" | "filter" => {
                        Val::Recs(model)
                    }
                    _ => {
                        self.lower_args(link, ops, depth);
                        Val::Unknown
                    }
                }
            }
            Val::Conn => self.on_conn(name, link, ops, depth),
            Val::SelfRef => self.implicit(name, link, ops, depth, single),
            Val::Attr(attr) => {
                if EXECUTE.contains(&name) && self.raw_call(name, link, ops, depth) {
                    return Val::Unknown;
                }
                self.lower_args(link, ops, depth);
                let call = self.call(CallTarget::SelfAttr(attr, name.to_string()), at);
                ops.push(Op::Call(call));
                self.after_call_block(link, ops, depth);
                Val::Unknown
            }
            Val::Str(e) if STRING_KEEP.contains(&name) => Val::Str(e),
            Val::Sorted | Val::Str(_) | Val::Unknown => {
                let sorted = matches!(cur, Val::Sorted);
                if EXECUTE.contains(&name) && self.raw_call(name, link, ops, depth) {
                    return Val::Unknown;
                }
                if SORTING.contains(&name) && name != "uniq" {
                    self.lower_args(link, ops, depth);
                    return Val::Sorted;
                }
                if ITER.contains(&name) && link.block.is_some() {
                    self.lower_args(link, ops, depth);
                    self.block_loop(link, None, sorted, ops, depth);
                    return Val::Unknown;
                }
                if matches!(name, "with_lock" | "lock!") {
                    // A record of an unknown model: the scope only.
                    self.lower_args(link, ops, depth);
                    if link.block.is_some() {
                        self.scope(link, Vec::new(), ops, depth);
                    }
                    return Val::Unknown;
                }
                if name == "uniq" || name == "freeze" || name == "to_a" {
                    return if sorted { Val::Sorted } else { Val::Unknown };
                }
                self.lower_args(link, ops, depth);
                // A method on an unknown receiver: resolved by its name when unique. An
                // argument-less call without `!` is most likely an attribute read.
                if link.args.is_some() || link.block.is_some() || name.ends_with('!') {
                    let call = self.call(CallTarget::Path(vec!["?".into(), name.into()]), at);
                    ops.push(Op::Call(call));
                }
                self.after_call_block(link, ops, depth);
                Val::Unknown
            }
        }
    }

    /// A block passed to a user method: it runs (once, inline) as far as we can tell.
    fn after_call_block(&mut self, link: Link<'_>, ops: &mut Vec<Op>, depth: usize) {
        if link.block.is_some() {
            let body = self.block_body(link, None, depth);
            ops.extend(body);
        }
    }

    /// `Const.name(…)`: a model query, a constructor, or a class method.
    #[allow(clippy::too_many_arguments, reason = "one place that reads a link")]
    fn on_class(
        &mut self,
        class: String,
        name: &str,
        link: Link<'_>,
        later: &[&str],
        ops: &mut Vec<Op>,
        depth: usize,
        single: bool,
    ) -> Val {
        let at = line(link.node);
        if class == "ActiveRecord::Base" || class == "Base" {
            return match name {
                "connection" | "lease_connection" | "with_connection" => {
                    if link.block.is_some() {
                        let body = self.block_body(link, Some(Val::Conn), depth);
                        ops.extend(body);
                        return Val::Unknown;
                    }
                    Val::Conn
                }
                _ => {
                    self.lower_args(link, ops, depth);
                    Val::Unknown
                }
            };
        }
        if name == "connection" || name == "lease_connection" {
            return Val::Conn;
        }
        if name == "new" || name == "build" {
            let mut o = Obj::new(class, Origin::New, None);
            o.cols = self.hash_values(link);
            self.lower_args(link, ops, depth);
            return Val::Obj(o);
        }
        let scope_chain =
            !is_model_method(name) && later.first().is_some_and(|m| is_model_method(m));
        if is_model_method(name) || scope_chain {
            let model = last_const(&class).to_string();
            let stmt = OrmStmt::select(model.clone());
            if scope_chain {
                // A scope (`Account.active.lock.find(id)`): its conditions are unknown.
                self.lower_args(link, ops, depth);
                self.use_model(&model);
                return Val::Rel(stmt);
            }
            let fallback = single.then(|| CallTarget::ClassMethod(class.clone(), name.into()));
            return self.on_relation(stmt, name, link, ops, depth, fallback);
        }
        self.lower_args(link, ops, depth);
        let call = self.call(CallTarget::ClassMethod(class, name.to_string()), at);
        ops.push(Op::Call(call));
        self.after_call_block(link, ops, depth);
        Val::Unknown
    }

    /// One link on a relation of `stmt.model`.
    fn on_relation(
        &mut self,
        mut stmt: OrmStmt,
        name: &str,
        link: Link<'_>,
        ops: &mut Vec<Op>,
        depth: usize,
        fallback: Option<CallTarget>,
    ) -> Val {
        let at = line(link.node);
        self.lower_args(link, ops, depth);
        let model = stmt.model.clone();
        self.use_model(&model);
        let (pos, pairs) = link.args.map(|a| self.split_args(a)).unwrap_or_default();
        match name {
            "where"
            | "rewhere"
            | "find_by"
            | "find_by!"
            | "not"
            | "delete_by"
            | "destroy_by"
            | "find_or_create_by"
            | "find_or_create_by!"
            | "find_or_initialize_by"
            | "create_or_find_by"
            | "create_or_find_by!" => {
                // With a SQL fragment, `key: value` pairs are its named binds.
                let mut filters: Vec<Filter> = match pos.first() {
                    Some(frag) => self.fragment_filters(*frag, &pos[1..], &pairs),
                    None => self.hash_filters(&pairs),
                };
                if name == "not" {
                    for f in &mut filters {
                        f.op = FilterOp::Cmp("<>");
                    }
                }
                let creates = name.contains("create") || name == "find_or_initialize_by";
                let sets: Vec<(String, Value)> = if creates {
                    pairs
                        .iter()
                        .map(|(k, v)| (k.clone(), self.value_of(*v)))
                        .collect()
                } else {
                    Vec::new()
                };
                stmt.filters.extend(filters);
                match name {
                    "find_by" | "find_by!" => {
                        let key = stmt.pk_value();
                        self.run(stmt, at, ops, fallback);
                        Val::Obj(Obj::new(model, Origin::Loaded, key))
                    }
                    "delete_by" | "destroy_by" => {
                        self.run(stmt.with_action(Action::Delete), at, ops, fallback);
                        Val::Unknown
                    }
                    _ if creates => {
                        // Look up, and insert when nothing is found.
                        self.run(stmt.clone(), at, ops, None);
                        let mut insert = OrmStmt::select(model.clone()).with_action(Action::Insert);
                        insert.sets = sets;
                        if name != "find_or_initialize_by" {
                            let mut arm = Vec::new();
                            self.run(insert, at, &mut arm, None);
                            push_branch(ops, vec![arm, Vec::new()]);
                        }
                        Val::Obj(Obj::new(model, Origin::Loaded, stmt.pk_value()))
                    }
                    _ => Val::Rel(stmt),
                }
            }
            "order" | "reorder" | "in_order_of" => {
                for p in &pos {
                    stmt.order.extend(self.order_fields(*p));
                }
                stmt.order.extend(pairs.iter().map(|(k, _)| k.clone()));
                Val::Rel(stmt)
            }
            "lock" => {
                stmt.lock = match pos.first() {
                    None => lock_spec(None),
                    Some(a) if a.kind() == "true" => lock_spec(None),
                    Some(a) if matches!(a.kind(), "false" | "nil") => None,
                    Some(a) => match self.literal(*a) {
                        Some(s) => lock_spec(Some(&s)),
                        None => lock_spec(None),
                    },
                };
                Val::Rel(stmt)
            }
            "find" => {
                let key = match pos.as_slice() {
                    [one] if one.kind() != "array" && !self.is_plural(*one) => {
                        Some(self.arg_text(*one))
                    }
                    _ => None,
                };
                let op = if key.is_some() {
                    FilterOp::Eq
                } else {
                    FilterOp::In
                };
                let value = match pos.as_slice() {
                    [one] => Some(self.arg_text(*one)),
                    _ => None,
                };
                stmt.filters.push(Filter {
                    field: "pk".into(),
                    op,
                    value,
                });
                self.run(stmt, at, ops, fallback);
                if key.is_some() {
                    Val::Obj(Obj::new(model, Origin::Loaded, key))
                } else {
                    Val::Recs(model)
                }
            }
            _ if FIND_ONE.contains(&name) => {
                let key = stmt.pk_value();
                self.run(stmt, at, ops, fallback);
                if pos.is_empty() {
                    Val::Obj(Obj::new(model, Origin::Loaded, key))
                } else {
                    Val::Recs(model)
                }
            }
            _ if LOAD.contains(&name) => {
                self.run(stmt, at, ops, fallback);
                Val::Recs(model)
            }
            _ if ITER.contains(&name) && link.block.is_some() => {
                // `find_each` / `find_in_batches` / `in_batches` walk the primary key in order.
                let sorted = !stmt.order.is_empty()
                    || matches!(name, "find_each" | "find_in_batches" | "in_batches");
                self.run(stmt, at, ops, None);
                let o = Obj::new(model, Origin::Loaded, None);
                self.block_loop(link, Some(Val::Obj(o)), sorted, ops, depth);
                Val::Unknown
            }
            _ if AGG.contains(&name) || ITER.contains(&name) => {
                self.run(stmt, at, ops, fallback);
                Val::Unknown
            }
            "update_all" => {
                stmt.sets = self.set_values(&pos, &pairs);
                self.run(stmt.with_action(Action::Update), at, ops, fallback);
                Val::Unknown
            }
            "delete_all" => {
                self.run(stmt.with_action(Action::Delete), at, ops, fallback);
                Val::Unknown
            }
            "destroy_all" => {
                // Loads the records, then deletes each.
                self.run(stmt.clone(), at, ops, None);
                let mut body = Vec::new();
                self.run(stmt.with_action(Action::Delete), at, &mut body, None);
                push_loop(ops, body);
                Val::Unknown
            }
            "touch_all" => {
                stmt.sets = vec![("updated_at".into(), Value::Param)];
                self.run(stmt.with_action(Action::Update), at, ops, fallback);
                Val::Unknown
            }
            "update_counters" | "increment_counter" | "decrement_counter" => {
                let (ids, sets) = if name == "update_counters" {
                    let sets = pairs
                        .iter()
                        .filter(|(k, _)| k != "touch")
                        .map(|(k, _)| {
                            let col = Value::Col(k.clone());
                            (
                                k.clone(),
                                Value::Bin(Box::new(col), "+", Box::new(Value::Param)),
                            )
                        })
                        .collect();
                    (pos.first().copied(), sets)
                } else {
                    let op = if name == "increment_counter" {
                        "+"
                    } else {
                        "-"
                    };
                    let col = pos
                        .first()
                        .and_then(|c| self.literal(*c))
                        .unwrap_or_default();
                    let v = Value::Bin(
                        Box::new(Value::Col(col.clone())),
                        op,
                        Box::new(Value::Param),
                    );
                    (pos.get(1).copied(), vec![(col, v)])
                };
                if let Some(id) = ids {
                    stmt.filters.push(self.pk_filter(id));
                }
                stmt.sets = sets;
                self.run(stmt.with_action(Action::Update), at, ops, fallback);
                Val::Unknown
            }
            "create" | "create!" | "insert" | "insert!" | "insert_all" | "insert_all!"
            | "upsert" | "upsert_all" => {
                let mut s = stmt.with_action(Action::Insert);
                s.filters.clear();
                s.sets = self.insert_values(&pos, &pairs);
                self.run(s, at, ops, fallback);
                if name.starts_with("create") {
                    Val::Obj(Obj::new(model, Origin::Loaded, None))
                } else {
                    Val::Unknown
                }
            }
            "delete" | "destroy" if !pos.is_empty() => {
                if let Some(id) = pos.first() {
                    stmt.filters.push(self.pk_filter(*id));
                }
                if name == "destroy" {
                    self.run(stmt.clone(), at, ops, None);
                }
                self.run(stmt.with_action(Action::Delete), at, ops, fallback);
                Val::Unknown
            }
            "update" | "update!" => {
                if let Some(id) = pos.first().filter(|p| p.kind() != "hash") {
                    // `Model.update(id, attrs)`: find, then save.
                    stmt.filters.push(self.pk_filter(*id));
                    self.run(stmt.clone(), at, ops, None);
                    let mut s = stmt.with_action(Action::Update);
                    s.sets = self.set_values(&pos[1..], &pairs);
                    self.run(s, at, ops, fallback);
                } else {
                    // `relation.update(attrs)`: load, then save each.
                    self.run(stmt.clone(), at, ops, None);
                    let mut s = stmt.with_action(Action::Update);
                    s.sets = self.set_values(&pos, &pairs);
                    let mut body = Vec::new();
                    self.run(s, at, &mut body, None);
                    push_loop(ops, body);
                }
                Val::Unknown
            }
            _ if MODEL_SQL.contains(&name) => {
                self.sql_with_array(link, ops);
                Val::Recs(model)
            }
            // Another relation method or a scope: the query goes on.
            _ => Val::Rel(stmt),
        }
    }

    /// A record method: ActiveRecord's, or the model's own (`CallOrSql` decides when linked).
    #[allow(clippy::too_many_arguments, reason = "one place that reads a link")]
    fn record(
        &mut self,
        o: Obj,
        name: &str,
        link: Link<'_>,
        later: &[&str],
        ops: &mut Vec<Op>,
        depth: usize,
        single: bool,
        on_self: bool,
    ) -> Val {
        let at = line(link.node);
        self.lower_args(link, ops, depth);
        let fallback = (single && !on_self)
            .then(|| CallTarget::ClassMethod(o.class.clone(), name.to_string()));
        let fallback = if on_self && single {
            Some(CallTarget::SelfMethod(name.to_string()))
        } else {
            fallback
        };
        let (pos, pairs) = link.args.map(|a| self.split_args(a)).unwrap_or_default();
        let model = last_const(&o.class).to_string();
        let key = o.key.clone();
        let by_pk = |action: Action| {
            OrmStmt::select(model.clone())
                .with_action(action)
                .by_pk(key.clone())
        };
        match name {
            "update" | "update!" | "update_attributes" | "update_attributes!"
            | "update_columns" => {
                let mut s = by_pk(Action::Update);
                s.sets = self.set_values(&pos, &pairs);
                self.run(s, at, ops, fallback);
                Val::Unknown
            }
            "update_column" | "update_attribute" | "toggle!" => {
                let col = pos
                    .first()
                    .and_then(|c| self.literal(*c))
                    .unwrap_or_default();
                let value = pos.get(1).map_or(Value::Param, |v| self.value_of(*v));
                let mut s = by_pk(Action::Update);
                s.sets = vec![(col, value)];
                self.run(s, at, ops, fallback);
                Val::Unknown
            }
            "increment!" | "decrement!" => {
                let col = pos
                    .first()
                    .and_then(|c| self.literal(*c))
                    .unwrap_or_default();
                let op = if name == "increment!" { "+" } else { "-" };
                let mut s = by_pk(Action::Update);
                s.sets = vec![(
                    col.clone(),
                    Value::Bin(Box::new(Value::Col(col)), op, Box::new(Value::Param)),
                )];
                self.run(s, at, ops, fallback);
                Val::Unknown
            }
            "touch" => {
                let mut s = by_pk(Action::Update);
                s.sets = vec![("updated_at".into(), Value::Param)];
                self.run(s, at, ops, fallback);
                Val::Unknown
            }
            "save" | "save!" => {
                if o.origin == Origin::New {
                    let mut s = OrmStmt::select(model.clone()).with_action(Action::Insert);
                    s.sets = o.cols.clone();
                    self.run(s, at, ops, fallback);
                } else {
                    let mut s = by_pk(Action::Update);
                    s.sets = o.attrs.clone();
                    self.run(s, at, ops, fallback);
                }
                Val::Unknown
            }
            "destroy" | "destroy!" | "delete" => {
                let s = by_pk(Action::Delete);
                self.run(s, at, ops, fallback);
                Val::Unknown
            }
            "lock!" | "reload" => {
                let mut s = by_pk(Action::Select);
                s.lock = if name == "lock!" {
                    match pos.first() {
                        Some(a) if a.kind() == "true" => lock_spec(None),
                        Some(a) => self.literal(*a).and_then(|l| lock_spec(Some(&l))),
                        None => lock_spec(None),
                    }
                } else {
                    pairs
                        .iter()
                        .find(|(k, _)| k == "lock")
                        .and_then(|_| lock_spec(None))
                };
                self.run(s, at, ops, fallback);
                Val::Obj(o)
            }
            "with_lock" => {
                let mut s = by_pk(Action::Select);
                s.lock = match pos.first() {
                    Some(a) if a.kind() != "true" => {
                        self.literal(*a).and_then(|l| lock_spec(Some(&l)))
                    }
                    _ => lock_spec(None),
                };
                let mut first = Vec::new();
                self.run(s, at, &mut first, None);
                if link.block.is_some() {
                    self.scope(link, first, ops, depth);
                } else {
                    ops.extend(first);
                }
                Val::Unknown
            }
            "transaction" if link.block.is_some() => {
                self.scope(link, Vec::new(), ops, depth);
                Val::Unknown
            }
            _ => {
                // An association followed by a query (`account.ledger_entries.lock.to_a`): a
                // relation of the model the name stands for, on the owner's key; a singular
                // one followed by a record method (`entry.account.lock!`): that model's row.
                let next = later.first().copied().unwrap_or("");
                if o.origin == Origin::Loaded && link.args.is_none() && link.block.is_none() {
                    let target = inflect::class_of_association(name);
                    if is_model_method(next) && !RECORD.contains(&next) {
                        let mut s = OrmStmt::select(target.clone());
                        s.filters.push(Filter {
                            field: format!("{}_id", inflect::underscore(&model)),
                            op: FilterOp::Eq,
                            value: o.key.clone(),
                        });
                        self.use_model(&target);
                        return Val::Rel(s);
                    }
                    if RECORD.contains(&next) && inflect::singularize(name) == name {
                        self.use_model(&target);
                        return Val::Obj(Obj::new(target, Origin::Loaded, None));
                    }
                }
                let target = if on_self {
                    CallTarget::SelfMethod(name.to_string())
                } else {
                    CallTarget::ClassMethod(o.class.clone(), name.to_string())
                };
                let call = self.call(target, at);
                ops.push(Op::Call(call));
                self.after_call_block(link, ops, depth);
                Val::Unknown
            }
        }
    }

    /// A connection method.
    fn on_conn(&mut self, name: &str, link: Link<'_>, ops: &mut Vec<Op>, depth: usize) -> Val {
        match name {
            "begin_db_transaction" | "begin_transaction" => {
                ops.push(Op::Begin(line(link.node)));
            }
            "commit_db_transaction" | "commit_transaction" => ops.push(Op::Commit),
            "rollback_db_transaction" | "rollback_transaction" => ops.push(Op::Rollback),
            _ if EXECUTE.contains(&name) || matches!(name, "update" | "delete" | "insert") => {
                if !self.raw_call(name, link, ops, depth) {
                    self.lower_args(link, ops, depth);
                }
            }
            _ => self.lower_args(link, ops, depth),
        }
        Val::Unknown
    }

    /// `x.execute(sql, …)`: a raw SQL site when the first argument builds text.
    fn raw_call(&mut self, name: &str, link: Link<'_>, ops: &mut Vec<Op>, depth: usize) -> bool {
        let Some(args) = link.args else { return false };
        let (pos, _) = self.split_args(args);
        let Some(first) = pos.first().copied() else {
            return false;
        };
        let Some(sql) = self.eval_str(first, 0) else {
            return false;
        };
        self.lower_args(link, ops, depth);
        // `exec_query(sql, "name", binds)`, `select_all(sql, name, binds)`; the pg gem's
        // `exec_params(sql, [a, b])`.
        let binds = match name {
            "exec_params" | "async_exec_params" => pos.get(1),
            _ => pos.get(2),
        };
        let args = binds.and_then(|b| self.seq(*b)).map(|items| Args {
            positional: Some(items),
            ..Args::default()
        });
        let site = self.site(line(link.node), SiteBody::Raw(sql), args, false);
        ops.push(Op::Sql(site));
        true
    }

    /// `find_by_sql(["… ?", a, b])`, `find_by_sql("…", binds)`.
    fn sql_with_array(&mut self, link: Link<'_>, ops: &mut Vec<Op>) {
        let Some(args) = link.args else { return };
        let (pos, _) = self.split_args(args);
        let Some(first) = pos.first().copied() else {
            return;
        };
        let (sql, args) = if first.kind() == "array" {
            let items = Self::named(first);
            let Some(sql) = items.first().and_then(|s| self.eval_str(*s, 0)) else {
                return;
            };
            let rest = items.get(1..).unwrap_or(&[]);
            let named = match rest {
                [h] if h.kind() == "hash" => Some(self.named_args(*h)),
                _ => None,
            };
            let seq = rest.iter().map(|a| self.arg_of(*a)).collect();
            (
                sql,
                Some(Args {
                    positional: None,
                    seq: if named.is_some() { None } else { seq },
                    named,
                }),
            )
        } else {
            let Some(sql) = self.eval_str(first, 0) else {
                return;
            };
            let binds = pos.get(1).and_then(|b| self.seq(*b)).map(|items| Args {
                positional: Some(items),
                ..Args::default()
            });
            (sql, binds)
        };
        let site = self.site(line(link.node), SiteBody::Raw(sql), args, false);
        ops.push(Op::Sql(site));
    }

    // ----- arguments ----------------------------------------------------------------------------

    /// Positional arguments and `key: value` pairs (of a trailing hash too).
    fn split_args<'t>(&self, args: Node<'t>) -> (Vec<Node<'t>>, Vec<(String, Node<'t>)>) {
        let mut pos = Vec::new();
        let mut pairs = Vec::new();
        for a in Self::named(args) {
            match a.kind() {
                "pair" => pairs.extend(self.pair(a)),
                "hash" if pairs.is_empty() => {
                    for p in Self::named(a) {
                        pairs.extend(self.pair(p));
                    }
                }
                "block_argument" | "splat_argument" | "hash_splat_argument" => {}
                _ => pos.push(a),
            }
        }
        (pos, pairs)
    }

    fn pair<'t>(&self, p: Node<'t>) -> Option<(String, Node<'t>)> {
        let k = p.child_by_field_name("key")?;
        let v = p.child_by_field_name("value")?;
        let key = match k.kind() {
            "hash_key_symbol" | "identifier" | "constant" => self.text(k).to_string(),
            _ => self.literal(k)?,
        };
        Some((key, v))
    }

    /// A literal's value: a string without interpolation, a symbol, a number.
    fn literal(&self, n: Node<'_>) -> Option<String> {
        match n.kind() {
            "string" => match self.eval_str(n, 0)?.as_slice() {
                [Part::Lit(s)] => Some(s.clone()),
                [] => Some(String::new()),
                _ => None,
            },
            "simple_symbol" => Some(self.text(n).trim_start_matches(':').to_string()),
            "delimited_symbol" => Some(
                self.text(n)
                    .trim_start_matches(':')
                    .trim_matches('"')
                    .to_string(),
            ),
            "hash_key_symbol" | "integer" | "identifier" => Some(self.text(n).to_string()),
            _ => None,
        }
    }

    /// The source text of an argument expression, whitespace collapsed.
    fn arg_text(&self, n: Node<'_>) -> String {
        self.text(n)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A parameter value: a literal as SQL text, else the Ruby expression.
    fn arg_of(&self, n: Node<'_>) -> Option<Arg> {
        let lit = |s: &str| Some(Arg::Lit(s.to_string()));
        match n.kind() {
            "integer" | "float" => lit(self.text(n)),
            "true" => lit("true"),
            "false" => lit("false"),
            "nil" => lit("NULL"),
            "string" | "simple_symbol" => match self.literal(n) {
                Some(v) => Some(Arg::Lit(format!("'{}'", v.replace('\'', "''")))),
                None => Some(Arg::Expr(self.arg_text(n))),
            },
            "splat_argument" | "hash_splat_argument" | "block_argument" => None,
            _ => Some(Arg::Expr(self.arg_text(n))),
        }
    }

    /// The items of an array literal of parameters.
    fn seq(&self, n: Node<'_>) -> Option<Vec<Arg>> {
        if n.kind() != "array" {
            return None;
        }
        Self::named(n).into_iter().map(|i| self.arg_of(i)).collect()
    }

    fn named_args(&self, h: Node<'_>) -> Vec<(String, Arg)> {
        Self::named(h)
            .into_iter()
            .filter_map(|p| self.pair(p))
            .filter_map(|(k, v)| Some((k, self.arg_of(v)?)))
            .collect()
    }

    /// Whether an expression holds several keys (`ids`, `account_ids`, `[a, b]`, a range).
    fn is_plural(&self, n: Node<'_>) -> bool {
        match n.kind() {
            "array" | "range" => true,
            "identifier" => {
                let t = self.text(n);
                t == "ids" || t.ends_with("_ids") || self.ordered.seqs.contains(t)
            }
            _ => false,
        }
    }

    fn pk_filter(&self, id: Node<'_>) -> Filter {
        let plural = self.is_plural(id);
        Filter {
            field: "pk".into(),
            op: if plural { FilterOp::In } else { FilterOp::Eq },
            value: Some(self.arg_text(id)),
        }
    }

    /// `where(id: x, status: "open", ids: [a, b], deleted_at: nil)`.
    fn hash_filters(&self, pairs: &[(String, Node<'_>)]) -> Vec<Filter> {
        pairs
            .iter()
            .filter(|(_, v)| v.kind() != "hash")
            .map(|(k, v)| {
                let (op, value) = match v.kind() {
                    "nil" => (FilterOp::IsNull, None),
                    "string" | "simple_symbol" | "integer" | "float" | "true" | "false" => {
                        (FilterOp::Eq, None)
                    }
                    _ if self.is_plural(*v) => (FilterOp::In, Some(self.arg_text(*v))),
                    _ => (FilterOp::Eq, Some(self.arg_text(*v))),
                };
                Filter {
                    field: k.clone(),
                    op,
                    value,
                }
            })
            .collect()
    }

    /// `where("balance > ? AND id = :id", amount, id: x)`: the simple comparisons.
    fn fragment_filters(
        &self,
        frag: Node<'_>,
        rest: &[Node<'_>],
        pairs: &[(String, Node<'_>)],
    ) -> Vec<Filter> {
        // `where(["id = ?", x])`.
        let (frag, rest): (Node<'_>, Vec<Node<'_>>) = if frag.kind() == "array" {
            let items = Self::named(frag);
            match items.split_first() {
                Some((f, r)) => (*f, r.to_vec()),
                None => return Vec::new(),
            }
        } else {
            (frag, rest.to_vec())
        };
        let Some(expr) = self.eval_str(frag, 0) else {
            return Vec::new();
        };
        let text: String = expr
            .iter()
            .map(|p| match p {
                Part::Lit(s) => s.as_str(),
                _ => "#",
            })
            .collect();
        let mut out = Vec::new();
        let mut positional = rest.iter();
        for part in split_top(&text, " and ") {
            let part = part
                .trim()
                .trim_start_matches('(')
                .trim_end_matches(')')
                .trim();
            let Some(f) = self.comparison(part, &mut positional, pairs) else {
                // Placeholders of a part not understood still take their argument.
                for _ in part.matches('?') {
                    positional.next();
                }
                continue;
            };
            out.push(f);
        }
        out
    }

    fn comparison<'t>(
        &self,
        part: &str,
        positional: &mut std::slice::Iter<'_, Node<'t>>,
        pairs: &[(String, Node<'t>)],
    ) -> Option<Filter> {
        let field_len = part
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '"'))
            .unwrap_or(part.len());
        let field = part.get(..field_len)?.trim_matches('"');
        let field = field.rsplit('.').next().unwrap_or(field).trim_matches('"');
        if field.is_empty() || field.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        let rest = part.get(field_len..)?.trim_start();
        let upper = rest.to_ascii_uppercase();
        if upper.starts_with("IS NULL") {
            return Some(Filter {
                field: field.into(),
                op: FilterOp::IsNull,
                value: None,
            });
        }
        let op_len = if upper.starts_with("IN") || upper.starts_with("LIKE") {
            rest.find(char::is_whitespace).unwrap_or(rest.len())
        } else if upper.starts_with("ILIKE") {
            5
        } else {
            rest.find(|c: char| !matches!(c, '=' | '<' | '>' | '!'))
                .unwrap_or(rest.len())
        };
        let op = cmp_op(upper.get(..op_len)?.trim())?;
        let value = rest.get(op_len..)?.trim();
        let value = value.trim_start_matches('(').trim_end_matches(')').trim();
        let arg = if value == "?" {
            positional.next().map(|n| self.arg_text(*n))
        } else if let Some(name) = value.strip_prefix(':') {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| self.arg_text(*v))
        } else {
            None
        };
        Some(Filter {
            field: field.into(),
            op,
            value: arg,
        })
    }

    /// `update_all(balance: x)`, `update_all("balance = balance - ?", x)` (columns only),
    /// `update!(balance: x)`.
    fn set_values(&self, pos: &[Node<'_>], pairs: &[(String, Node<'_>)]) -> Vec<(String, Value)> {
        let mut out: Vec<(String, Value)> = pairs
            .iter()
            .map(|(k, v)| (k.clone(), self.value_of(*v)))
            .collect();
        if let Some(first) = pos.first() {
            let frag = if first.kind() == "array" {
                Self::named(*first).into_iter().next()
            } else {
                Some(*first)
            };
            if let Some(expr) = frag.and_then(|f| self.eval_str(f, 0)) {
                let text: String = expr
                    .iter()
                    .map(|p| match p {
                        Part::Lit(s) => s.as_str(),
                        _ => "#",
                    })
                    .collect();
                for assign in split_top(&text, ",") {
                    let Some((col, rhs)) = assign.split_once('=') else {
                        continue;
                    };
                    let col = col.trim().trim_matches('"').to_string();
                    if col.is_empty() || !col.chars().all(|c| c.is_alphanumeric() || c == '_') {
                        continue;
                    }
                    let rhs = rhs.trim();
                    let v = match rhs.strip_prefix(col.as_str()).map(str::trim_start) {
                        Some(r) if r.starts_with('+') || r.starts_with('-') => {
                            let op = if r.starts_with('+') { "+" } else { "-" };
                            Value::Bin(
                                Box::new(Value::Col(col.clone())),
                                op,
                                Box::new(Value::Param),
                            )
                        }
                        _ => Value::Param,
                    };
                    out.push((col, v));
                }
            }
        }
        out
    }

    /// `create!(a: x)`, `insert_all([{a: x}])`: the inserted columns.
    fn insert_values(
        &self,
        pos: &[Node<'_>],
        pairs: &[(String, Node<'_>)],
    ) -> Vec<(String, Value)> {
        if !pairs.is_empty() {
            return pairs
                .iter()
                .map(|(k, v)| (k.clone(), self.value_of(*v)))
                .collect();
        }
        let first_hash = pos.first().and_then(|p| match p.kind() {
            "hash" => Some(*p),
            "array" => Self::named(*p).into_iter().find(|i| i.kind() == "hash"),
            _ => None,
        });
        first_hash
            .map(|h| {
                Self::named(h)
                    .into_iter()
                    .filter_map(|p| self.pair(p))
                    .map(|(k, v)| (k, self.value_of(v)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Constructor attributes `Model.new(a: x)`.
    fn hash_values(&self, link: Link<'_>) -> Vec<(String, Value)> {
        let Some(args) = link.args else {
            return Vec::new();
        };
        let (_, pairs) = self.split_args(args);
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), self.value_of(*v)))
            .collect()
    }

    /// A value written to a column.
    fn value_of(&self, n: Node<'_>) -> Value {
        if let Some(lit) = self.sql_literal(n) {
            return Value::Lit(lit);
        }
        match n.kind() {
            "identifier" | "instance_variable" => Value::Expr(self.text(n).to_string()),
            "call"
                if n.child_by_field_name("arguments").is_none()
                    && n.child_by_field_name("block").is_none()
                    && n.child_by_field_name("receiver").is_some_and(|r| {
                        matches!(r.kind(), "identifier" | "instance_variable")
                    }) =>
            {
                Value::Expr(self.arg_text(n))
            }
            _ => Value::Param,
        }
    }

    /// A Ruby literal as SQL text: strings and symbols quoted, numbers, booleans, `nil`, and
    /// the current time (`Time.current`, `Time.zone.now`, `DateTime.now`) as `now()`.
    fn sql_literal(&self, n: Node<'_>) -> Option<String> {
        match n.kind() {
            "integer" | "float" => Some(self.text(n).replace('_', "")),
            "true" => Some("true".into()),
            "false" => Some("false".into()),
            "nil" => Some("NULL".into()),
            "string" | "simple_symbol" => self
                .literal(n)
                .map(|v| format!("'{}'", v.replace('\'', "''"))),
            "unary" if self.text(n).starts_with('-') => {
                let inner = Self::named(n).into_iter().next()?;
                matches!(inner.kind(), "integer" | "float")
                    .then(|| format!("-{}", self.text(inner)))
            }
            "call" => {
                let t: String = self.text(n).split_whitespace().collect();
                matches!(
                    t.as_str(),
                    "Time.current"
                        | "Time.now"
                        | "Time.zone.now"
                        | "DateTime.now"
                        | "DateTime.current"
                        | "Time.now.utc"
                )
                .then(|| "now()".into())
            }
            _ => None,
        }
    }

    /// `order(:id)`, `order("id ASC, created_at")`, `order(id: :desc)`.
    fn order_fields(&self, n: Node<'_>) -> Vec<String> {
        match n.kind() {
            "simple_symbol" => vec![self.text(n).trim_start_matches(':').to_string()],
            "string" => self
                .literal(n)
                .map(|s| {
                    s.split(',')
                        .filter_map(|p| p.split_whitespace().next())
                        .map(|c| c.rsplit('.').next().unwrap_or(c).to_string())
                        .collect()
                })
                .unwrap_or_default(),
            "array" => Self::named(n)
                .into_iter()
                .flat_map(|i| self.order_fields(i))
                .collect(),
            _ => Vec::new(),
        }
    }

    // ----- SQL strings --------------------------------------------------------------------------

    /// The SQL text an expression builds, if it builds text.
    fn eval_str(&self, n: Node<'_>, depth: usize) -> Option<SqlExpr> {
        if depth > 48 {
            return None;
        }
        match n.kind() {
            "string" => {
                let raw = self.text(n).starts_with('\'') || self.text(n).starts_with("%q");
                let mut out = Vec::new();
                for c in Self::named(n) {
                    match c.kind() {
                        "string_content" if raw => {
                            let t = self.text(c).replace("\\'", "'").replace("\\\\", "\\");
                            push(&mut out, Part::Lit(t));
                        }
                        "string_content" | "escape_sequence" => {
                            push(&mut out, Part::Lit(unescape(self.text(c))));
                        }
                        "interpolation" => {
                            let inner = Self::named(c);
                            match inner.as_slice() {
                                [one] if one.kind() == "constant" => {
                                    push(&mut out, Part::Ref(vec![self.text(*one).to_string()]))
                                }
                                _ => push(&mut out, Part::Hole),
                            }
                        }
                        _ => {}
                    }
                }
                Some(out)
            }
            "chained_string" => {
                let mut out = Vec::new();
                for c in Self::named(n) {
                    out = concat(out, self.eval_str(c, depth + 1)?);
                }
                Some(out)
            }
            "heredoc_beginning" => self.heredocs.get(&n.start_byte()).cloned(),
            "constant" => Some(vec![Part::Ref(vec![self.text(n).to_string()])]),
            "scope_resolution" => Some(vec![Part::Ref(vec![last_const(self.text(n)).to_string()])]),
            "identifier" => match self.vars.get(self.text(n)) {
                Some(Val::Str(e)) => Some(e.clone()),
                _ => None,
            },
            "parenthesized_statements" => {
                let inner = Self::named(n);
                self.eval_str(*inner.last()?, depth + 1)
            }
            "binary" => {
                let op = n.child_by_field_name("operator").map(|o| self.text(o));
                let l = n.child_by_field_name("left")?;
                let r = n.child_by_field_name("right")?;
                match op {
                    Some("+") => {
                        let a = self.eval_str(l, depth + 1)?;
                        let b = self
                            .eval_str(r, depth + 1)
                            .unwrap_or_else(|| vec![Part::Hole]);
                        Some(concat(a, b))
                    }
                    Some("%") => Some(percent_format(self.eval_str(l, depth + 1)?)),
                    _ => None,
                }
            }
            "call" => {
                let m = n.child_by_field_name("method").map(|m| self.text(m))?;
                let recv = n.child_by_field_name("receiver")?;
                if STRING_KEEP.contains(&m) {
                    self.eval_str(recv, depth + 1)
                } else {
                    None
                }
            }
            _ => None,
        }
    }
}

/// Whether `name` is an ActiveRecord class-level method (query, finder, write, raw SQL).
fn is_model_method(name: &str) -> bool {
    QUERY.contains(&name)
        || FIND_ONE.contains(&name)
        || (LOAD.contains(&name) && name != "reload")
        || (ITER.contains(&name) && matches!(name, "find_each" | "find_in_batches" | "in_batches"))
        || (AGG.contains(&name) && !matches!(name, "size" | "length" | "sum"))
        || WRITE.contains(&name)
        || MODEL_SQL.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_is_the_file() {
        assert_eq!(module_path("app/models/account.rb"), "app.models.account");
        assert_eq!(module_path("./lib/money.rb"), "lib.money");
    }

    #[test]
    fn lock_clauses() {
        let s = |c| lock_spec(Some(c)).map(|l| (l.strength, l.nowait, l.skip_locked));
        assert_eq!(s("FOR SHARE"), Some((Strength::Share, false, false)));
        assert_eq!(
            s("FOR UPDATE NOWAIT"),
            Some((Strength::Update, true, false))
        );
        assert_eq!(
            s("FOR UPDATE SKIP LOCKED"),
            Some((Strength::Update, false, true))
        );
        assert_eq!(
            s("FOR NO KEY UPDATE"),
            Some((Strength::NoKeyUpdate, false, false))
        );
        assert_eq!(
            s("LOCK IN SHARE MODE"),
            Some((Strength::Share, false, false))
        );
        assert_eq!(s("garbage"), None);
    }

    #[test]
    fn fragments_split_at_top_level() {
        assert_eq!(
            split_top("a = ? AND (b = 1 and c = 2) AND d = 'x and y'", " and "),
            ["a = ?", "(b = 1 and c = 2)", "d = 'x and y'"]
        );
    }
}
