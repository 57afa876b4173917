//! Rust: sqlx, tokio-postgres and diesel transactions.
//!
//! # What is recognised
//!
//! - **sqlx.** `pool.begin()` / `conn.begin()` starts a transaction (a [`Op::Begin`]),
//!   `tx.commit()` / `tx.rollback()` end it; a transaction never committed ends with the root
//!   (sqlx rolls it back on drop). `sqlx::query("…")`, `query_as::<_, T>(…)`,
//!   `query_scalar(…)` build a query; `.bind(a).bind(b)` give its `$1, $2` in order; it runs at
//!   `.execute(…)`, `.fetch_one/fetch_optional/fetch_all/fetch(…)`. The macros `query!("…", a)`,
//!   `query_as!(T, "…", a)`, `query_scalar!("…", a)` (and their `_unchecked` forms) take the
//!   arguments after the SQL. `conn.transaction(|tx| Box::pin(async move { … }))` is a scope.
//! - **tokio-postgres.** `client.transaction()` starts a transaction; `tx.execute("…", &[&a,
//!   &b])`, `query`, `query_one`, `query_opt`, `query_raw`, `execute_raw` run SQL whose `$n`
//!   are the items of the slice; `prepare("…")` gives a statement usable later;
//!   `batch_execute("BEGIN; …; COMMIT")` / `simple_query` run each statement of the string.
//! - **diesel.** `conn.transaction(|conn| …)` (with or without a turbofish) and
//!   `conn.build_transaction()….run(|conn| …)` are transaction scopes (the closure body).
//!   Queries are read from their DSL chain: a table (`accounts::table`, `schema::accounts::table`,
//!   or a `dsl` table name such as `accounts`), `.filter(col.eq(x).and(…))` (`eq`, `eq_any`,
//!   `ne`, `gt`, `ge`, `lt`, `le`, `is_null`), `.find(id)`, `.for_update()`,
//!   `.for_no_key_update()`, `.for_share()`, `.for_key_share()`, `.skip_locked()`,
//!   `.no_wait()`, `.order(…)`; `diesel::update(q).set(col.eq(col - x))`,
//!   `diesel::delete(q)`, `diesel::insert_into(t).values((col.eq(x), …))`; the statement runs at
//!   `.execute(conn)`, `.first(conn)`, `.load(conn)`, `.get_result(s)(conn)`.
//!   `diesel::sql_query("…").bind::<BigInt, _>(x)` is raw SQL with `$n` arguments. The
//!   `table!` / `diesel::table!` macros declare the models (the macro's name is the table, the
//!   parenthesised columns its primary key, the column types map to PostgreSQL types).
//! - **Code structure.** A module is a file from its crate's `src/` (see [`module_path`]);
//!   `use crate::…`, `use super::…`, `use self::…`, `use x::{a, b as c}`, `mod x;` become
//!   imports, and `crate::a::f(…)` / `super::f(…)` paths are resolved the same way. Free
//!   functions, `impl T { … }` methods (classes named after the type), trait impls (the trait is a
//!   base of the type, so default methods resolve), struct fields with a concrete type
//!   (`accounts: AccountRepo`, `Arc<AccountRepo>`: `self.accounts.debit()` resolves to
//!   `AccountRepo::debit`), parameters and locals of a known type (`repo: &AccountRepo`,
//!   `let repo = AccountRepo::new(…)`), `Self::f()`. A receiver of an unknown type (a generic, a
//!   `dyn Trait`) resolves by method name when one scanned method has that name.
//! - **SQL text** in string literals (escapes decoded), raw strings `r#"…"#`, `const` / `static`
//!   items (also associated consts, `Self::X`), local `let` bindings, `format!` (fields become
//!   holes: a hole where a table name goes is a dynamic relation), `concat!`, `+`.
//! - **Control flow.** `.await` and `?` are transparent; `if` / `if let` / `match` fork paths;
//!   `for`, `while`, `loop` and closures passed to iterator adapters
//!   (`ids.iter().for_each(|id| …)`) are loops; `return` ends a path. Loops over a vector sorted
//!   earlier (`ids.sort()`, `sort_unstable()`, `sort_by_key(…)`), a `BTreeSet` / `BTreeMap`, or
//!   an itertools `.sorted()` take their row locks in key order, and so do statements keyed on a
//!   sorted pair (`let (lo, hi) = (a.min(b), a.max(b))`, `if a < b { (a, b) } else { (b, a) }`).
//!
//! # Design choices
//!
//! Types are not checked: any `x.begin()` with no arguments begins, any `.commit()` commits,
//! any `.execute("SQL", …)` runs SQL (as the Python front-end's loose receivers). A helper
//! taking `tx: &mut Transaction<'_, Postgres>` or `conn: &mut PgConnection` is replayed inside
//! its callers' transactions. Items under `#[cfg(test)]` are not read (unit tests would mix
//! their fixtures' transactions with the service's).
//!
//! # Known limits
//!
//! A query run on the pool (`.execute(&pool)`) while a transaction of the same function is open
//! is counted in that transaction, although sqlx runs it on another connection. Calls inside
//! other macros (`tokio::join!(a(), b())`, `println!`) are not seen, since macro arguments are
//! token trees. Inline `mod x { … }` blocks are read as part of their file. A `dyn Trait` field
//! whose method several types implement is not resolved.

use crate::ir::{CallTarget, ClassIr, FieldDecl, FuncIr, ModelDecl, ModuleIr, Op, OrmKind};
use crate::ir::{SiteBody, SiteIr};
use crate::lang::common::{self, MAX_DEPTH, Ordered};
use crate::orm::{Filter, FilterOp, LockSpec, OrmStmt, Strength, Value};
use crate::sqltext::{self, Arg, Args, Part, SqlExpr};
use rustc_hash::{FxHashMap, FxHashSet};
use tree_sitter::Node;

/// Longest method chain (`a.b().c()…`) read at once.
const MAX_CHAIN: usize = 64;

/// The crate directory name and the module segments of a display path, as Rust sees them
/// (`self` of the file): `lib.rs` / `main.rs` are the crate root (no segments), `x/mod.rs` is
/// `x`.
fn rust_segments(name: &str) -> (Option<String>, Vec<String>, bool) {
    let segs = common::path_segments(name);
    let (krate, inner) = match segs.iter().rposition(|s| *s == "src") {
        Some(i) => (
            i.checked_sub(1)
                .and_then(|k| segs.get(k))
                .map(|k| k.replace('-', "_")),
            segs.get(i + 1..).unwrap_or(&[]),
        ),
        None => (None, &segs[..]),
    };
    let mut inner: Vec<String> = inner.iter().map(|s| s.to_string()).collect();
    if inner.last().is_some_and(|s| s == "mod") {
        inner.pop();
    }
    let root = matches!(inner.as_slice(), [only] if only == "lib" || only == "main");
    if root {
        inner.clear();
    }
    (krate, inner, root)
}

/// A module is its file, from the crate root: `svc/src/repo/accounts.rs` → `repo.accounts`,
/// `src/repo/mod.rs` → `repo`, `src/lib.rs` / `src/main.rs` → the crate (`svc`).
pub(crate) fn module_path(name: &str) -> String {
    let (krate, inner, root) = rust_segments(name);
    if root {
        return krate.unwrap_or_else(|| "crate".to_string());
    }
    inner.join(".")
}

/// Lowers one Rust file.
pub(crate) fn lower(src: &str, path: &str, module: &str, root: Node<'_>) -> ModuleIr {
    let (krate, modpath, _) = rust_segments(path);
    let mut l = Lowerer {
        src,
        ir: common::module_ir(module),
        modpath,
        krate: krate.unwrap_or_else(|| "crate".to_string()),
        short: common::short_module(module).to_string(),
        cur: 0,
        class: None,
        vars: FxHashMap::default(),
        generics: FxHashSet::default(),
        ordered: Ordered::default(),
    };
    l.prepass(root, 0);
    l.items(root, 0);
    l.ir
}

/// What a local name is known to hold.
#[derive(Clone, Debug)]
enum Val {
    /// SQL text.
    Str(SqlExpr),
    /// A value of a (user) type, as written.
    Inst(String),
    /// A sqlx / `sql_query` query built but not run yet.
    Query(Query),
    /// A diesel query built but not run yet, and the line it starts on.
    Diesel(OrmStmt, u32),
    /// Anything else (a parameter, a loop variable): shadows constants.
    Unknown,
}

#[derive(Clone, Debug)]
struct Query {
    sql: SqlExpr,
    args: Vec<Arg>,
    line: u32,
}

/// One link of a method chain.
#[derive(Clone, Copy)]
enum Link<'t> {
    /// `.name`
    Field(Node<'t>),
    /// `.name(args)` (the name node, the arguments node).
    Call(Node<'t>, Node<'t>),
}

/// Methods that run a built query (sqlx, diesel).
const RUN: &[&str] = &[
    "execute",
    "fetch",
    "fetch_one",
    "fetch_optional",
    "fetch_all",
    "fetch_many",
    "load",
    "load_iter",
    "first",
    "get_result",
    "get_results",
];

/// Methods of an executor that take the SQL as their first argument (tokio-postgres, sqlx).
const SQL_FIRST: &[&str] = &[
    "execute",
    "query",
    "query_one",
    "query_opt",
    "query_raw",
    "execute_raw",
    "fetch_one",
    "fetch_all",
    "fetch_optional",
    "fetch",
];

/// Methods taking a closure that runs once per item.
const LOOP_METHODS: &[&str] = &[
    "for_each",
    "try_for_each",
    "for_each_concurrent",
    "try_for_each_concurrent",
    "map",
    "filter_map",
    "flat_map",
    "then",
    "fold",
    "try_fold",
];

/// Methods that start iterating a sequence.
const ITER_METHODS: &[&str] = &["iter", "into_iter", "iter_mut", "drain", "chunks", "values"];

/// Method names never worth a call on an unknown receiver (std, futures, sqlx plumbing).
const PLAIN_METHODS: &[&str] = &[
    "unwrap",
    "expect",
    "clone",
    "to_string",
    "to_owned",
    "into",
    "as_ref",
    "as_mut",
    "as_str",
    "map_err",
    "ok",
    "ok_or",
    "ok_or_else",
    "unwrap_or",
    "unwrap_or_default",
    "unwrap_or_else",
    "and_then",
    "collect",
    "len",
    "is_empty",
    "push",
    "get",
    "insert",
    "contains",
    "iter",
    "into_iter",
    "await",
    "bind",
    "eq",
    "ne",
    "and",
    "or",
    "lock",
    "acquire",
    "fmt",
    "from",
    "try_into",
    "try_from",
    "is_some",
    "is_none",
    "context",
    "with_context",
    "min",
    "max",
    "sum",
    "copied",
    "cloned",
    "next",
    "await_holder",
];

/// Type wrappers whose first argument is the type that matters.
const WRAPPERS: &[&str] = &[
    "Arc", "Rc", "Box", "Option", "Mutex", "RwLock", "Cow", "RefCell", "Cell",
];

struct Lowerer<'s> {
    src: &'s str,
    ir: ModuleIr,
    /// `self` of this file as module segments (crate root: none).
    modpath: Vec<String>,
    /// The dotted name of the crate root module (`lib.rs` / `main.rs`).
    krate: String,
    short: String,
    cur: u32,
    class: Option<u32>,
    vars: FxHashMap<String, Val>,
    /// Generic type parameters in scope (a receiver of such a type is unknown).
    generics: FxHashSet<String>,
    ordered: Ordered,
}

impl<'s> Lowerer<'s> {
    fn text(&self, n: Node<'_>) -> &'s str {
        common::text(self.src, n)
    }

    fn named<'t>(n: Node<'t>) -> Vec<Node<'t>> {
        let mut c = n.walk();
        n.named_children(&mut c)
            .filter(|c| !c.kind().ends_with("comment"))
            .collect()
    }

    // ----- names and modules -------------------------------------------------------------------

    /// Dotted module name of module segments (the crate root is the crate's name).
    fn dotted(&self, segs: &[String]) -> String {
        if segs.is_empty() {
            self.krate.clone()
        } else {
            segs.join(".")
        }
    }

    /// A `::` path as written → absolute segments (`crate`, `self`, `super`, an imported first
    /// name resolved); `None` when the head is neither (an external crate or a local name).
    fn absolute(&self, segs: &[&str]) -> Vec<String> {
        let mut out: Vec<String>;
        let mut rest = segs;
        match segs.first() {
            Some(&"crate") => {
                out = Vec::new();
                rest = &segs[1..];
            }
            Some(&"self") => {
                out = self.modpath.clone();
                rest = &segs[1..];
            }
            Some(&"super") => {
                out = self.modpath.clone();
                while rest.first() == Some(&"super") {
                    out.pop();
                    rest = &rest[1..];
                }
            }
            Some(head) => match self.ir.imports.get(*head) {
                Some(t) if !t.contains("::") => {
                    out = t.split('.').map(str::to_string).collect();
                    rest = &segs[1..];
                }
                _ => out = Vec::new(),
            },
            None => out = Vec::new(),
        }
        out.extend(rest.iter().map(|s| s.to_string()));
        out
    }

    /// The first segment to use in a [`CallTarget::Path`] or [`Part::Ref`] for the prefix
    /// `segs` (all but the last name): one plain name stays as written; a longer or `crate` /
    /// `self` / `super` prefix gets an import of its own, keyed by the prefix as written.
    fn prefix_key(&mut self, segs: &[&str]) -> String {
        if let [one] = segs
            && !matches!(*one, "crate" | "self" | "super")
        {
            return one.to_string();
        }
        let key = segs.join("::");
        if !self.ir.imports.contains_key(&key) {
            let abs = self.absolute(segs);
            let dotted = self.dotted(&abs);
            self.ir.imports.insert(key.clone(), dotted);
        }
        key
    }

    /// Segments of a path node (`a::b::<T>::c` → `a, b, c`).
    fn path_segs(&self, n: Node<'_>) -> Vec<&'s str> {
        let n = if n.kind() == "generic_function" {
            n.child_by_field_name("function").unwrap_or(n)
        } else {
            n
        };
        let mut out = Vec::new();
        for s in self.text(n).split("::") {
            let s = s.trim();
            if s.is_empty() || s.starts_with('<') {
                continue;
            }
            let s = s.split('<').next().unwrap_or(s).trim();
            out.push(s);
        }
        out
    }

    // ----- items --------------------------------------------------------------------------------

    /// First pass: imports and struct fields, which the function bodies use.
    fn prepass(&mut self, node: Node<'_>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let mut skip = false;
        for c in Self::named(node) {
            match c.kind() {
                "attribute_item" => {
                    skip |= self.text(c).contains("cfg(test)");
                    continue;
                }
                _ if skip => {}
                "use_declaration" => {
                    if let Some(a) = c.child_by_field_name("argument") {
                        self.use_tree(a, &[], 0);
                    }
                }
                "struct_item" => self.struct_fields(c),
                "mod_item" => match c.child_by_field_name("body") {
                    Some(b) => self.prepass(b, depth + 1),
                    None => {
                        if let Some(n) = c.child_by_field_name("name") {
                            let name = self.text(n).to_string();
                            let mut segs = self.modpath.clone();
                            segs.push(name.clone());
                            let d = self.dotted(&segs);
                            self.ir.imports.insert(name, d);
                        }
                    }
                },
                _ => {}
            }
            skip = false;
        }
    }

    fn use_tree(&mut self, n: Node<'_>, prefix: &[&'s str], depth: usize) {
        if depth > 16 {
            return;
        }
        match n.kind() {
            "identifier" | "scoped_identifier" | "self" | "crate" | "super" => {
                let mut segs: Vec<&str> = prefix.to_vec();
                segs.extend(self.path_segs(n));
                if segs.last() == Some(&"self") {
                    segs.pop();
                }
                let Some(local) = segs.last().copied() else {
                    return;
                };
                if matches!(local, "crate" | "super") {
                    return;
                }
                let abs = self.absolute(&segs);
                let d = self.dotted(&abs);
                self.ir.imports.insert(local.to_string(), d);
            }
            "use_as_clause" => {
                let (Some(p), Some(a)) = (
                    n.child_by_field_name("path"),
                    n.child_by_field_name("alias"),
                ) else {
                    return;
                };
                let mut segs: Vec<&str> = prefix.to_vec();
                segs.extend(self.path_segs(p));
                if segs.last() == Some(&"self") {
                    segs.pop();
                }
                let abs = self.absolute(&segs);
                let d = self.dotted(&abs);
                self.ir.imports.insert(self.text(a).to_string(), d);
            }
            "scoped_use_list" => {
                let mut segs: Vec<&str> = prefix.to_vec();
                if let Some(p) = n.child_by_field_name("path") {
                    segs.extend(self.path_segs(p));
                }
                if let Some(l) = n.child_by_field_name("list") {
                    self.use_tree(l, &segs, depth + 1);
                }
            }
            "use_list" => {
                for c in Self::named(n) {
                    self.use_tree(c, prefix, depth + 1);
                }
            }
            _ => {}
        }
    }

    /// The class index of a type name in this file (made when first seen).
    fn class_idx(&mut self, name: &str) -> u32 {
        if let Some(i) = self.ir.classes.iter().position(|c| c.name == name) {
            return i as u32;
        }
        self.ir.classes.push(ClassIr {
            name: name.to_string(),
            ..ClassIr::default()
        });
        (self.ir.classes.len() - 1) as u32
    }

    fn struct_fields(&mut self, node: Node<'_>) {
        let Some(name) = node.child_by_field_name("name") else {
            return;
        };
        let name = self.text(name).to_string();
        let ci = self.class_idx(&name);
        let Some(body) = node.child_by_field_name("body") else {
            return;
        };
        if body.kind() != "field_declaration_list" {
            return;
        }
        for f in Self::named(body) {
            if f.kind() != "field_declaration" {
                continue;
            }
            let (Some(fname), Some(ty)) =
                (f.child_by_field_name("name"), f.child_by_field_name("type"))
            else {
                continue;
            };
            if let Some(class) = self.class_of_type(ty, 0) {
                let fname = self.text(fname).to_string();
                if let Some(c) = self.ir.classes.get_mut(ci as usize) {
                    c.attrs.insert(fname, class);
                }
            }
        }
    }

    /// The user type a type expression names (through references and `Arc`/`Box`/…), as the
    /// class name written for linking; `None` for generics, `dyn` / `impl` traits, primitives.
    fn class_of_type(&mut self, ty: Node<'_>, depth: usize) -> Option<String> {
        if depth > 8 {
            return None;
        }
        match ty.kind() {
            "reference_type" | "pointer_type" => {
                self.class_of_type(ty.child_by_field_name("type")?, depth + 1)
            }
            "generic_type" => {
                let base = ty.child_by_field_name("type")?;
                let base_name = self.path_segs(base).last().copied().unwrap_or("");
                if WRAPPERS.contains(&base_name) {
                    let args = ty.child_by_field_name("type_arguments")?;
                    let first = Self::named(args)
                        .into_iter()
                        .find(|a| a.kind() != "lifetime")?;
                    return self.class_of_type(first, depth + 1);
                }
                self.class_of_type(base, depth + 1)
            }
            "type_identifier" => {
                let t = self.text(ty);
                (t.starts_with(|c: char| c.is_ascii_uppercase())
                    && !self.generics.contains(t)
                    && t != "Self")
                    .then(|| t.to_string())
                    .or_else(|| (t == "Self").then(|| self.class_name()).flatten())
            }
            "scoped_type_identifier" => {
                let segs = self.path_segs(ty);
                let (last, prefix) = segs.split_last()?;
                if !last.starts_with(|c: char| c.is_ascii_uppercase()) {
                    return None;
                }
                let key = self.prefix_key(prefix);
                Some(format!("{key}.{last}"))
            }
            _ => None,
        }
    }

    fn class_name(&self) -> Option<String> {
        self.class
            .and_then(|c| self.ir.classes.get(c as usize))
            .map(|c| c.name.clone())
    }

    /// Items of a file, module body, `impl` or `trait` body.
    fn items(&mut self, node: Node<'_>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let mut skip = false;
        for c in Self::named(node) {
            if c.kind() == "attribute_item" {
                skip |= self.text(c).contains("cfg(test)");
                continue;
            }
            if std::mem::take(&mut skip) {
                continue;
            }
            self.item(c, depth + 1);
        }
    }

    fn item(&mut self, c: Node<'_>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match c.kind() {
            "function_item" => self.function(c, depth),
            "impl_item" => self.impl_item(c, depth),
            "trait_item" => {
                let Some(name) = c.child_by_field_name("name") else {
                    return;
                };
                let ci = self.class_idx(self.text(name));
                self.in_class(ci, c.child_by_field_name("body"), depth);
            }
            "mod_item" => {
                if let Some(b) = c.child_by_field_name("body") {
                    self.items(b, depth + 1);
                }
            }
            "const_item" | "static_item" => {
                let (Some(n), Some(v)) = (
                    c.child_by_field_name("name"),
                    c.child_by_field_name("value"),
                ) else {
                    return;
                };
                if let Some(e) = self.eval_str(v, depth + 1) {
                    self.ir.consts.insert(self.text(n).to_string(), e);
                }
            }
            "macro_invocation" => self.table_macro(c),
            "expression_statement" => {
                if let Some(m) = c.named_child(0).filter(|m| m.kind() == "macro_invocation") {
                    self.table_macro(m);
                }
            }
            _ => {}
        }
    }

    fn impl_item(&mut self, node: Node<'_>, depth: usize) {
        let Some(ty) = node.child_by_field_name("type") else {
            return;
        };
        let segs = self.path_segs(ty);
        let Some(name) = segs.last().copied() else {
            return;
        };
        let ci = self.class_idx(name);
        if let Some(t) = node.child_by_field_name("trait") {
            let base = self.path_segs(t).join(".");
            if let Some(c) = self.ir.classes.get_mut(ci as usize)
                && !c.bases.contains(&base)
            {
                c.bases.push(base);
            }
        }
        let saved = std::mem::take(&mut self.generics);
        if let Some(tp) = node.child_by_field_name("type_parameters") {
            self.type_params(tp);
        }
        self.in_class(ci, node.child_by_field_name("body"), depth);
        self.generics = saved;
    }

    fn type_params(&mut self, tp: Node<'_>) {
        for p in Self::named(tp) {
            let name = p
                .child_by_field_name("name")
                .or_else(|| p.named_child(0))
                .filter(|n| n.kind() == "type_identifier");
            if let Some(n) = name {
                self.generics.insert(self.text(n).to_string());
            }
        }
    }

    fn in_class(&mut self, ci: u32, body: Option<Node<'_>>, depth: usize) {
        let Some(body) = body else { return };
        let saved_class = self.class.replace(ci);
        let saved_cur = std::mem::replace(&mut self.cur, 0);
        let mut skip = false;
        for c in Self::named(body) {
            if c.kind() == "attribute_item" {
                skip |= self.text(c).contains("cfg(test)");
                continue;
            }
            if std::mem::take(&mut skip) {
                continue;
            }
            match c.kind() {
                "function_item" => self.function(c, depth + 1),
                "const_item" => self.item(c, depth + 1),
                _ => {}
            }
        }
        self.class = saved_class;
        self.cur = saved_cur;
    }

    fn function(&mut self, node: Node<'_>, depth: usize) {
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
        let class = if parent.is_some() { None } else { self.class };
        let display = match (parent, class) {
            (Some(p), _) => format!(
                "{}.{name}",
                self.ir
                    .funcs
                    .get(p as usize)
                    .map_or("", |f| f.display.as_str())
            ),
            (None, Some(c)) => format!(
                "{}.{name}",
                self.ir
                    .classes
                    .get(c as usize)
                    .map_or("", |c| c.name.as_str())
            ),
            (None, None) => format!("{}.{name}", self.short),
        };
        self.ir.funcs.push(FuncIr {
            name: name.clone(),
            class,
            parent,
            display,
            line: common::line(node),
            body: Vec::new(),
            autobegin: false,
            is_module: false,
        });
        if let Some(c) = class.and_then(|c| self.ir.classes.get_mut(c as usize)) {
            c.methods.insert(name, idx);
        }
        let saved_cur = std::mem::replace(&mut self.cur, idx);
        let saved_vars = std::mem::take(&mut self.vars);
        let saved_ordered = std::mem::take(&mut self.ordered);
        let saved_generics = self.generics.clone();
        if let Some(tp) = node.child_by_field_name("type_parameters") {
            self.type_params(tp);
        }
        if let Some(params) = node.child_by_field_name("parameters") {
            self.bind_params(params);
        }
        let body = self.block(node.child_by_field_name("body"), depth);
        if let Some(f) = self.ir.funcs.get_mut(idx as usize) {
            f.body = body;
        }
        self.cur = saved_cur;
        self.vars = saved_vars;
        self.ordered = saved_ordered;
        self.generics = saved_generics;
    }

    fn bind_params(&mut self, params: Node<'_>) {
        for p in Self::named(params) {
            if p.kind() != "parameter" {
                continue;
            }
            let Some(pat) = p.child_by_field_name("pattern") else {
                continue;
            };
            let val = match p.child_by_field_name("type") {
                Some(t) => match self.class_of_type(t, 0) {
                    Some(c) => Val::Inst(c),
                    None => Val::Unknown,
                },
                None => Val::Unknown,
            };
            let mut names = Vec::new();
            self.pattern_names(pat, &mut names, 0);
            if let [one] = names.as_slice() {
                self.vars.insert(one.to_string(), val);
            } else {
                for n in names {
                    self.vars.insert(n.to_string(), Val::Unknown);
                }
            }
        }
    }

    /// The names a pattern binds.
    fn pattern_names(&self, pat: Node<'_>, out: &mut Vec<&'s str>, depth: usize) {
        if depth > 32 {
            return;
        }
        match pat.kind() {
            "identifier" => out.push(self.text(pat)),
            "field_identifier" | "shorthand_field_identifier" => out.push(self.text(pat)),
            _ => {
                let mut c = pat.walk();
                for (i, ch) in pat.children(&mut c).enumerate() {
                    // `Some(x)`: the constructor name is not a binding.
                    if pat.field_name_for_child(i as u32) == Some("type") {
                        continue;
                    }
                    if ch.is_named() {
                        self.pattern_names(ch, out, depth + 1);
                    }
                }
            }
        }
    }

    // ----- statements ---------------------------------------------------------------------------

    fn block(&mut self, node: Option<Node<'_>>, depth: usize) -> Vec<Op> {
        let mut ops = Vec::new();
        if let Some(n) = node {
            self.stmts(n, &mut ops, depth + 1);
        }
        ops
    }

    /// The statements of a block (or one expression used as a body) into `ops`.
    fn stmts(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        if node.kind() != "block" {
            self.expr(node, ops, depth + 1);
            return;
        }
        let mut skip = false;
        for c in Self::named(node) {
            if c.kind() == "attribute_item" {
                skip |= self.text(c).contains("cfg(test)");
                continue;
            }
            if std::mem::take(&mut skip) {
                continue;
            }
            match c.kind() {
                "let_declaration" => self.let_decl(c, ops, depth + 1),
                "expression_statement" => {
                    for e in Self::named(c) {
                        self.expr(e, ops, depth + 1);
                    }
                }
                "const_item" | "static_item" => {
                    if let (Some(n), Some(v)) = (
                        c.child_by_field_name("name"),
                        c.child_by_field_name("value"),
                    ) && let Some(e) = self.eval_str(v, depth + 1)
                    {
                        self.vars.insert(self.text(n).to_string(), Val::Str(e));
                    }
                }
                "use_declaration" => {
                    if let Some(a) = c.child_by_field_name("argument") {
                        self.use_tree(a, &[], 0);
                    }
                }
                "function_item" => self.function(c, depth + 1),
                "impl_item" | "trait_item" | "struct_item" | "mod_item" | "enum_item"
                | "type_item" | "union_item" | "macro_definition" | "empty_statement" => {
                    if matches!(c.kind(), "impl_item" | "trait_item") {
                        let saved = std::mem::replace(&mut self.cur, 0);
                        self.item(c, depth + 1);
                        self.cur = saved;
                    }
                }
                _ => {
                    self.expr(c, ops, depth + 1);
                }
            }
        }
    }

    fn let_decl(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        let val = node
            .child_by_field_name("value")
            .and_then(|v| self.expr(v, ops, depth + 1));
        let Some(pat) = node.child_by_field_name("pattern") else {
            return;
        };
        let mut names = Vec::new();
        self.pattern_names(pat, &mut names, 0);
        let ty = node.child_by_field_name("type");
        let value_text = node
            .child_by_field_name("value")
            .map_or("", |v| self.text(v));
        let ty_text = ty.map_or("", |t| self.text(t));
        if let [one] = names.as_slice() {
            let typed = ty.and_then(|t| self.class_of_type(t, 0));
            let v = match (typed, val) {
                (Some(c), _) => Val::Inst(c),
                (None, Some(v)) => v,
                (None, None) => Val::Unknown,
            };
            self.vars.insert(one.to_string(), v);
            if ty_text.starts_with("BTree")
                || value_text.contains("BTreeSet")
                || value_text.contains("BTreeMap")
                || value_text.contains(".sorted")
            {
                self.ordered.seqs.insert(one.to_string());
            } else {
                self.ordered.seqs.remove(*one);
            }
        } else {
            for n in &names {
                self.vars.insert(n.to_string(), Val::Unknown);
            }
            if names.len() == 2 && self.is_sorted_pair(node.child_by_field_name("value")) {
                self.ordered
                    .vals
                    .extend(names.iter().map(|n| n.to_string()));
            }
        }
        if let Some(alt) = node.child_by_field_name("alternative") {
            let arm = self.block(Some(alt), depth);
            push_branch(ops, vec![arm, Vec::new()]);
        }
    }

    /// `(a.min(b), a.max(b))`, `(min(a, b), max(a, b))` or `if a < b { (a, b) } else { (b, a) }`.
    fn is_sorted_pair(&self, value: Option<Node<'_>>) -> bool {
        let Some(v) = value else { return false };
        let t = self.text(v);
        match v.kind() {
            "tuple_expression" => t.contains("min") && t.contains("max"),
            "if_expression" => {
                let cond = v
                    .child_by_field_name("condition")
                    .map_or("", |c| self.text(c));
                (cond.contains('<') || cond.contains('>')) && t.contains("else")
            }
            _ => false,
        }
    }

    // ----- expressions --------------------------------------------------------------------------

    fn expr(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) -> Option<Val> {
        if depth > MAX_DEPTH {
            return None;
        }
        match node.kind() {
            "call_expression" | "field_expression" | "await_expression" | "try_expression"
            | "macro_invocation" => Some(self.chain(node, ops, depth)),
            "identifier" => self.vars.get(self.text(node)).cloned(),
            "string_literal" | "raw_string_literal" => self.eval_str(node, depth).map(Val::Str),
            "scoped_identifier" => {
                if self.path_segs(node).last() == Some(&"table") {
                    return Some(self.chain(node, ops, depth));
                }
                self.eval_str(node, depth).map(Val::Str)
            }
            "reference_expression"
            | "parenthesized_expression"
            | "unary_expression"
            | "type_cast_expression" => {
                let inner = node
                    .child_by_field_name("value")
                    .or_else(|| node.named_child(0))?;
                self.expr(inner, ops, depth + 1)
            }
            "binary_expression" => {
                if let Some(e) = self.eval_str(node, depth) {
                    return Some(Val::Str(e));
                }
                for c in Self::named(node) {
                    self.expr(c, ops, depth + 1);
                }
                None
            }
            "if_expression" => {
                self.if_expr(node, ops, depth);
                None
            }
            "match_expression" => {
                if let Some(v) = node.child_by_field_name("value") {
                    self.expr(v, ops, depth + 1);
                }
                let mut arms = Vec::new();
                if let Some(body) = node.child_by_field_name("body") {
                    for arm in Self::named(body) {
                        if arm.kind() != "match_arm" {
                            continue;
                        }
                        let mut a = Vec::new();
                        if let Some(pat) = arm.child_by_field_name("pattern") {
                            let mut names = Vec::new();
                            self.pattern_names(pat, &mut names, 0);
                            for n in names {
                                self.vars.insert(n.to_string(), Val::Unknown);
                            }
                        }
                        if let Some(v) = arm.child_by_field_name("value") {
                            self.stmts(v, &mut a, depth + 1);
                        }
                        arms.push(a);
                    }
                }
                push_branch(ops, arms);
                None
            }
            "for_expression" => {
                self.for_expr(node, ops, depth);
                None
            }
            "while_expression" => {
                let mut body = Vec::new();
                if let Some(c) = node.child_by_field_name("condition") {
                    self.expr(c, &mut body, depth + 1);
                }
                body.extend(self.block(node.child_by_field_name("body"), depth));
                if !body.is_empty() {
                    ops.push(Op::Loop(body));
                }
                None
            }
            "loop_expression" => {
                let body = self.block(node.child_by_field_name("body"), depth);
                if !body.is_empty() {
                    ops.push(Op::Loop(body));
                }
                None
            }
            "block" => {
                self.stmts(node, ops, depth + 1);
                None
            }
            "async_block" | "unsafe_block" | "try_block" | "const_block" | "gen_block" => {
                for c in Self::named(node) {
                    if c.kind() == "block" {
                        self.stmts(c, ops, depth + 1);
                    }
                }
                None
            }
            "closure_expression" => {
                self.closure_body(node, ops, depth);
                None
            }
            "return_expression" => {
                for c in Self::named(node) {
                    self.expr(c, ops, depth + 1);
                }
                ops.push(Op::Return);
                None
            }
            "assignment_expression" => {
                let val = node
                    .child_by_field_name("right")
                    .and_then(|r| self.expr(r, ops, depth + 1));
                if let Some(l) = node.child_by_field_name("left")
                    && l.kind() == "identifier"
                {
                    self.vars
                        .insert(self.text(l).to_string(), val.unwrap_or(Val::Unknown));
                }
                None
            }
            "let_condition" => {
                if let Some(v) = node.child_by_field_name("value") {
                    self.expr(v, ops, depth + 1);
                }
                if let Some(p) = node.child_by_field_name("pattern") {
                    let mut names = Vec::new();
                    self.pattern_names(p, &mut names, 0);
                    for n in names {
                        self.vars.insert(n.to_string(), Val::Unknown);
                    }
                }
                None
            }
            "struct_expression" => {
                if let Some(b) = node.child_by_field_name("body") {
                    for f in Self::named(b) {
                        if let Some(v) = f.child_by_field_name("value") {
                            self.expr(v, ops, depth + 1);
                        }
                    }
                }
                let name = node.child_by_field_name("name")?;
                let segs = self.path_segs(name);
                match segs.as_slice() {
                    ["Self"] => self.class_name().map(Val::Inst),
                    [one] => Some(Val::Inst(one.to_string())),
                    [prefix @ .., last] => {
                        let key = self.prefix_key(prefix);
                        Some(Val::Inst(format!("{key}.{last}")))
                    }
                    [] => None,
                }
            }
            "function_item" | "line_comment" | "block_comment" | "attribute_item" => None,
            _ => {
                for c in Self::named(node) {
                    self.expr(c, ops, depth + 1);
                }
                None
            }
        }
    }

    fn if_expr(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        if let Some(c) = node.child_by_field_name("condition") {
            self.expr(c, ops, depth + 1);
        }
        let mut arms = vec![self.block(node.child_by_field_name("consequence"), depth)];
        match node
            .child_by_field_name("alternative")
            .and_then(|e| e.named_child(0))
        {
            Some(alt) if alt.kind() == "if_expression" => {
                let mut arm = Vec::new();
                self.if_expr(alt, &mut arm, depth + 1);
                arms.push(arm);
            }
            Some(alt) => arms.push(self.block(Some(alt), depth)),
            None => arms.push(Vec::new()),
        }
        push_branch(ops, arms);
    }

    fn for_expr(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        let value = node.child_by_field_name("value");
        if let Some(v) = value {
            self.expr(v, ops, depth + 1);
        }
        let sorted = value.is_some_and(|v| self.is_sorted_seq(v));
        if let Some(p) = node.child_by_field_name("pattern") {
            let mut names = Vec::new();
            self.pattern_names(p, &mut names, 0);
            for n in names {
                self.vars.insert(n.to_string(), Val::Unknown);
                if sorted {
                    self.ordered.vals.insert(n.to_string());
                }
            }
        }
        self.ordered.loops += usize::from(sorted);
        let body = self.block(node.child_by_field_name("body"), depth);
        self.ordered.loops -= usize::from(sorted);
        if !body.is_empty() {
            ops.push(Op::Loop(body));
        }
    }

    /// Whether an iterated expression is in key order: a sorted vector or B-tree named at its
    /// head (`ids`, `&ids`, `ids.iter()`), or an itertools `.sorted()`.
    fn is_sorted_seq(&self, v: Node<'_>) -> bool {
        let t = self.text(v);
        if t.contains(".sorted") || t.contains("BTreeSet") || t.contains("BTreeMap") {
            return true;
        }
        let head = t
            .trim_start_matches(['&', '*', ' '])
            .trim_start_matches("mut ")
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .next()
            .unwrap_or("");
        self.ordered.seqs.contains(head)
    }

    /// A closure's body inline (its parameters are unknown locals).
    fn closure_body(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        if let Some(p) = node.child_by_field_name("parameters") {
            let mut names = Vec::new();
            self.pattern_names(p, &mut names, 0);
            for n in names {
                self.vars.insert(n.to_string(), Val::Unknown);
            }
        }
        if let Some(b) = node.child_by_field_name("body") {
            self.stmts(b, ops, depth + 1);
        }
    }

    // ----- chains -------------------------------------------------------------------------------

    /// A method chain `root.a(x).b(y)?.await` (or a plain call, a macro): runs what it runs,
    /// returns what it builds.
    fn chain(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) -> Val {
        if depth > MAX_DEPTH {
            return Val::Unknown;
        }
        let mut links: Vec<Link<'_>> = Vec::new();
        let mut n = node;
        while links.len() < MAX_CHAIN {
            match n.kind() {
                "await_expression" | "try_expression" | "parenthesized_expression" => {
                    match n.named_child(0) {
                        Some(c) => n = c,
                        None => break,
                    }
                }
                "call_expression" => {
                    let (Some(f), Some(args)) = (
                        n.child_by_field_name("function"),
                        n.child_by_field_name("arguments"),
                    ) else {
                        break;
                    };
                    let f = if f.kind() == "generic_function" {
                        f.child_by_field_name("function").unwrap_or(f)
                    } else {
                        f
                    };
                    if f.kind() != "field_expression" {
                        break;
                    }
                    let (Some(v), Some(name)) = (
                        f.child_by_field_name("value"),
                        f.child_by_field_name("field"),
                    ) else {
                        break;
                    };
                    links.push(Link::Call(name, args));
                    n = v;
                }
                "field_expression" => {
                    let (Some(v), Some(name)) = (
                        n.child_by_field_name("value"),
                        n.child_by_field_name("field"),
                    ) else {
                        break;
                    };
                    links.push(Link::Field(name));
                    n = v;
                }
                _ => break,
            }
        }
        links.reverse();
        let root = n;
        // `path`: the receiver as names while it is one (`self.accounts`, `repo`).
        let (mut val, mut path, local_root): (Val, Option<Vec<&'s str>>, bool) = match root.kind() {
            "call_expression" => (self.fn_call(root, ops, depth + 1), None, false),
            "macro_invocation" => (self.macro_val(root, depth + 1), None, false),
            "self" => (Val::Unknown, Some(vec!["self"]), true),
            "identifier" => {
                let name = self.text(root);
                match self.vars.get(name) {
                    Some(v) => (v.clone(), Some(vec![name]), true),
                    None => (Val::Unknown, Some(vec![name]), false),
                }
            }
            "scoped_identifier" => {
                let segs = self.path_segs(root);
                match segs.as_slice() {
                    [.., table, "table"] => (
                        Val::Diesel(OrmStmt::select(*table), common::line(root)),
                        None,
                        false,
                    ),
                    _ => (Val::Unknown, None, false),
                }
            }
            _ => (
                self.expr(root, ops, depth + 1).unwrap_or(Val::Unknown),
                None,
                false,
            ),
        };
        let mut iterating = match &path {
            Some(p) if p.len() == 1 => self.ordered.seqs.contains(p[0]).then_some(true),
            _ => None,
        };
        let mut first = true;
        for link in links {
            match link {
                Link::Field(f) => {
                    if let Some(p) = path.as_mut() {
                        p.push(self.text(f));
                    }
                    if !matches!(val, Val::Str(_)) {
                        val = Val::Unknown;
                    }
                }
                Link::Call(name, args) => {
                    let m = self.text(name);
                    // A diesel `dsl` table used by name: `accounts.filter(…)`.
                    if first
                        && !local_root
                        && matches!(path.as_deref(), Some([_]))
                        && matches!(
                            m,
                            "filter"
                                | "find"
                                | "for_update"
                                | "for_no_key_update"
                                | "for_share"
                                | "order"
                                | "order_by"
                                | "select"
                                | "into_boxed"
                        )
                        && let Some([t]) = path.as_deref()
                    {
                        val = Val::Diesel(OrmStmt::select(*t), common::line(root));
                    }
                    if ITER_METHODS.contains(&m) && iterating.is_none() {
                        iterating = Some(false);
                    }
                    val = self.method(val, path.take(), name, args, iterating, ops, depth + 1);
                    first = false;
                }
            }
        }
        val
    }

    /// A method call on a receiver holding `val` (named `path` when it is a plain name).
    #[allow(clippy::too_many_arguments)]
    fn method(
        &mut self,
        mut val: Val,
        path: Option<Vec<&'s str>>,
        name: Node<'_>,
        args: Node<'_>,
        iterating: Option<bool>,
        ops: &mut Vec<Op>,
        depth: usize,
    ) -> Val {
        let m = self.text(name);
        let line = common::line(name);
        let argv = Self::named(args);
        match &mut val {
            Val::Query(q) => {
                if m == "bind" {
                    if let Some(a) = argv.first() {
                        q.args.push(self.arg_of(*a));
                    }
                    return val;
                }
                if RUN.contains(&m) && !argv.is_empty() {
                    let q = q.clone();
                    for a in &argv {
                        self.expr(*a, ops, depth + 1);
                    }
                    let args = Args {
                        positional: Some(q.args),
                        ..Args::default()
                    };
                    let id = self.raw_site(q.line, q.sql, Some(args));
                    ops.push(Op::Sql(id));
                    return Val::Unknown;
                }
                return val;
            }
            Val::Diesel(stmt, at) => {
                if RUN.contains(&m) && !argv.is_empty() {
                    let (stmt, at) = (stmt.clone(), *at);
                    let id = self.orm_site(at, stmt);
                    ops.push(Op::Sql(id));
                    return Val::Unknown;
                }
                self.diesel_method(stmt, m, &argv);
                return val;
            }
            Val::Str(_) => {
                if matches!(m, "to_string" | "to_owned" | "as_str" | "into" | "clone") {
                    return val;
                }
            }
            _ => {}
        }
        match m {
            "begin" | "transaction" if argv.is_empty() => {
                ops.push(Op::Begin(line));
                return Val::Unknown;
            }
            "transaction" | "run" | "transaction_async" => {
                if let Some(cl) = argv.iter().find(|a| a.kind() == "closure_expression") {
                    let mut body = Vec::new();
                    self.closure_body(*cl, &mut body, depth + 1);
                    ops.push(Op::Scope { line, body });
                    return Val::Unknown;
                }
            }
            "build_transaction" => return Val::Unknown,
            "commit" if argv.is_empty() => {
                ops.push(Op::Commit);
                return Val::Unknown;
            }
            "rollback" if argv.is_empty() => {
                ops.push(Op::Rollback);
                return Val::Unknown;
            }
            "prepare" | "prepare_cached" => {
                if let Some(s) = argv.first().and_then(|a| self.eval_str(*a, depth + 1)) {
                    return Val::Str(s);
                }
            }
            "batch_execute" | "simple_query" => {
                if let Some(s) = argv.first().and_then(|a| self.eval_str(*a, depth + 1)) {
                    for stmt in split_statements(s) {
                        let id = self.raw_site(line, stmt, None);
                        ops.push(Op::Sql(id));
                    }
                    return Val::Unknown;
                }
            }
            "sort"
            | "sort_unstable"
            | "sort_by"
            | "sort_by_key"
            | "sort_unstable_by"
            | "sort_unstable_by_key" => {
                if let Some([v]) = path.as_deref() {
                    self.ordered.seqs.insert(v.to_string());
                }
                return Val::Unknown;
            }
            _ => {}
        }
        if SQL_FIRST.contains(&m)
            && let Some(first) = argv.first()
            && let Some(sql) = self.eval_str(*first, depth + 1)
        {
            let positional = argv.get(1).and_then(|p| self.slice_args(*p));
            for a in argv.iter().skip(1) {
                self.expr(*a, ops, depth + 1);
            }
            let args = Args {
                positional,
                ..Args::default()
            };
            let id = self.raw_site(line, sql, Some(args));
            ops.push(Op::Sql(id));
            return Val::Unknown;
        }
        // A user method: arguments first, closures inline (a loop for iterator adapters).
        for a in &argv {
            if a.kind() == "closure_expression" {
                let is_loop = iterating.is_some() && LOOP_METHODS.contains(&m);
                let sorted = iterating == Some(true);
                if is_loop {
                    if sorted && let Some(p) = a.child_by_field_name("parameters") {
                        let mut names = Vec::new();
                        self.pattern_names(p, &mut names, 0);
                        self.ordered
                            .vals
                            .extend(names.iter().map(|n| n.to_string()));
                    }
                    self.ordered.loops += usize::from(sorted);
                    let mut body = Vec::new();
                    self.closure_body(*a, &mut body, depth + 1);
                    self.ordered.loops -= usize::from(sorted);
                    if !body.is_empty() {
                        ops.push(Op::Loop(body));
                    }
                } else {
                    self.closure_body(*a, ops, depth + 1);
                }
            } else {
                self.expr(*a, ops, depth + 1);
            }
        }
        let target = match path.as_deref() {
            Some(["self"]) => Some(CallTarget::SelfMethod(m.to_string())),
            Some(["self", a]) => {
                let known = self
                    .class
                    .and_then(|c| self.ir.classes.get(c as usize))
                    .is_some_and(|c| c.attrs.contains_key(*a));
                if known {
                    Some(CallTarget::SelfAttr(a.to_string(), m.to_string()))
                } else {
                    self.unknown_receiver(m)
                }
            }
            Some([v]) => match self.vars.get(*v) {
                Some(Val::Inst(c)) => Some(CallTarget::ClassMethod(c.clone(), m.to_string())),
                Some(_) => self.unknown_receiver(m),
                None => Some(CallTarget::Path(vec![v.to_string(), m.to_string()])),
            },
            _ => self.unknown_receiver(m),
        };
        if let Some(t) = target {
            let id = self.call(t, line);
            ops.push(Op::Call(id));
        }
        Val::Unknown
    }

    fn unknown_receiver(&self, m: &str) -> Option<CallTarget> {
        (!PLAIN_METHODS.contains(&m) && !RUN.contains(&m))
            .then(|| CallTarget::Path(vec!["?".into(), m.to_string()]))
    }

    /// A call of a function by path: sqlx / diesel builders, constructors, user functions.
    fn fn_call(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) -> Val {
        if depth > MAX_DEPTH {
            return Val::Unknown;
        }
        let (Some(f), Some(args)) = (
            node.child_by_field_name("function"),
            node.child_by_field_name("arguments"),
        ) else {
            return Val::Unknown;
        };
        let argv = Self::named(args);
        let line = common::line(node);
        if !matches!(
            f.kind(),
            "identifier" | "scoped_identifier" | "generic_function"
        ) {
            self.expr(f, ops, depth + 1);
            for a in &argv {
                self.expr(*a, ops, depth + 1);
            }
            return Val::Unknown;
        }
        let segs = self.path_segs(f);
        let Some((&last, prefix)) = segs.split_last() else {
            return Val::Unknown;
        };
        let from = |lib: &str| {
            prefix.first() == Some(&lib)
                || (prefix.is_empty()
                    && self
                        .ir
                        .imports
                        .get(last)
                        .is_some_and(|t| t.starts_with(&format!("{lib}."))))
        };
        let sqlx = from("sqlx");
        let diesel = from("diesel");
        if matches!(
            last,
            "query" | "query_as" | "query_scalar" | "query_with" | "query_as_with"
        ) && sqlx
            || last == "sql_query" && (diesel || prefix.is_empty())
        {
            return match argv.first().and_then(|a| self.eval_str(*a, depth + 1)) {
                Some(sql) => Val::Query(Query {
                    sql,
                    args: Vec::new(),
                    line,
                }),
                None => Val::Unknown,
            };
        }
        let local_fn = prefix.is_empty()
            && self
                .ir
                .funcs
                .iter()
                .any(|f| f.class.is_none() && f.name == last);
        if matches!(last, "update" | "delete" | "insert_into" | "replace_into")
            && (diesel || (prefix.is_empty() && !local_fn))
            && let Some(a) = argv.first()
        {
            match self.expr(*a, ops, depth + 1) {
                Some(Val::Diesel(mut stmt, _)) => {
                    stmt.action = match last {
                        "update" => crate::orm::Action::Update,
                        "delete" => crate::orm::Action::Delete,
                        _ => crate::orm::Action::Insert,
                    };
                    stmt.lock = None;
                    return Val::Diesel(stmt, line);
                }
                _ if diesel => return Val::Unknown,
                _ => {
                    for a in argv.iter().skip(1) {
                        self.expr(*a, ops, depth + 1);
                    }
                    return self.user_call(&segs, line, ops);
                }
            }
        }
        // Wrappers pass their argument's value through.
        let wrapper = matches!(
            (prefix, last),
            ([], "Ok" | "Some") | (["Box" | "Arc" | "Rc" | "Pin"], "new" | "pin")
        );
        let mut inner = None;
        for a in &argv {
            let v = self.expr(*a, ops, depth + 1);
            if inner.is_none() {
                inner = v;
            }
        }
        if wrapper {
            return inner.unwrap_or(Val::Unknown);
        }
        self.user_call(&segs, line, ops)
    }

    /// A call of a user function or associated function by path; its value when it constructs a
    /// type (`Repo::new(…)`).
    fn user_call(&mut self, segs: &[&'s str], line: u32, ops: &mut Vec<Op>) -> Val {
        let Some((&last, prefix)) = segs.split_last() else {
            return Val::Unknown;
        };
        if matches!(last, "Ok" | "Some" | "Err" | "None") {
            return Val::Unknown;
        }
        let target = match prefix {
            [] => CallTarget::Path(vec![last.to_string()]),
            ["Self"] => CallTarget::SelfMethod(last.to_string()),
            _ => {
                let key = self.prefix_key(prefix);
                CallTarget::Path(vec![key, last.to_string()])
            }
        };
        let id = self.call(target, line);
        ops.push(Op::Call(id));
        let ctor = last == "new"
            || last.starts_with("new_")
            || last.starts_with("with_")
            || last.starts_with("from_")
            || matches!(last, "default" | "connect" | "build" | "create");
        match prefix {
            ["Self"] if ctor => self.class_name().map_or(Val::Unknown, Val::Inst),
            [.., ty] if ctor && ty.starts_with(|c: char| c.is_ascii_uppercase()) => {
                if self.generics.contains(*ty) {
                    return Val::Unknown;
                }
                let written = if prefix.len() == 1 {
                    ty.to_string()
                } else {
                    let key = self.prefix_key(&prefix[..prefix.len() - 1]);
                    format!("{key}.{ty}")
                };
                Val::Inst(written)
            }
            _ => Val::Unknown,
        }
    }

    fn call(&mut self, target: CallTarget, line: u32) -> u32 {
        common::push_call(&mut self.ir, self.cur, target, line)
    }

    // ----- macros -------------------------------------------------------------------------------

    /// The comma-separated arguments of a macro's token tree, as nodes.
    fn macro_args<'t>(tt: Node<'t>) -> Vec<Vec<Node<'t>>> {
        let mut out: Vec<Vec<Node<'t>>> = vec![Vec::new()];
        let mut c = tt.walk();
        let children: Vec<Node<'t>> = tt.children(&mut c).collect();
        let inner = children
            .get(1..children.len().saturating_sub(1))
            .unwrap_or(&[]);
        for ch in inner {
            if ch.kind() == "," {
                out.push(Vec::new());
            } else if !ch.kind().ends_with("comment")
                && let Some(last) = out.last_mut()
            {
                last.push(*ch);
            }
        }
        out.retain(|g| !g.is_empty());
        out
    }

    /// The source text of a macro argument.
    fn group_text(&self, g: &[Node<'_>]) -> &'s str {
        match (g.first(), g.last()) {
            (Some(a), Some(b)) => self.src.get(a.start_byte()..b.end_byte()).unwrap_or(""),
            _ => "",
        }
    }

    fn group_str(&mut self, g: &[Node<'_>], depth: usize) -> Option<SqlExpr> {
        match g {
            [one] => self.eval_str(*one, depth + 1),
            [first, ..] if first.kind() == "identifier" => {
                // `a::B` in a token tree.
                let t = self.group_text(g);
                if t.chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == ':')
                {
                    Some(self.path_ref(&t.split("::").collect::<Vec<_>>()))
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    fn macro_val(&mut self, node: Node<'_>, depth: usize) -> Val {
        let Some(mac) = node.child_by_field_name("macro") else {
            return Val::Unknown;
        };
        let name = self.path_segs(mac).last().copied().unwrap_or("");
        let Some(tt) = Self::named(node)
            .into_iter()
            .find(|n| n.kind() == "token_tree")
        else {
            return Val::Unknown;
        };
        let groups = Self::macro_args(tt);
        let sql_at = match name {
            "query" | "query_unchecked" | "query_scalar" | "query_scalar_unchecked" => 0,
            "query_as" | "query_as_unchecked" => 1,
            "format" | "concat" | "formatcp" | "concatcp" | "indoc" => {
                return self.eval_str(node, depth).map_or(Val::Unknown, Val::Str);
            }
            _ => return Val::Unknown,
        };
        let Some(sql) = groups.get(sql_at).and_then(|g| self.group_str(g, depth)) else {
            return Val::Unknown;
        };
        let args = groups
            .get(sql_at + 1..)
            .unwrap_or(&[])
            .iter()
            .map(|g| match g.as_slice() {
                [one] => self.arg_of(*one),
                _ => Arg::Expr(normalize(self.group_text(g))),
            })
            .collect();
        Val::Query(Query {
            sql,
            args,
            line: common::line(node),
        })
    }

    /// `table! { accounts (id) { id -> Int8, … } }`: one model per table.
    fn table_macro(&mut self, node: Node<'_>) {
        let Some(mac) = node.child_by_field_name("macro") else {
            return;
        };
        if self.path_segs(mac).last() != Some(&"table") {
            return;
        }
        let Some(tt) = Self::named(node)
            .into_iter()
            .find(|n| n.kind() == "token_tree")
        else {
            return;
        };
        let mut c = tt.walk();
        let toks: Vec<Node<'_>> = tt.children(&mut c).collect();
        let mut i = 0;
        while i < toks.len() {
            let t = toks[i];
            let next = toks.get(i + 1).copied();
            let is_tt = |n: Option<Node<'_>>, open: &str| {
                n.is_some_and(|n| n.kind() == "token_tree" && self.text(n).starts_with(open))
            };
            // `#[…]` attributes before a table are skipped with their bracket tree.
            if t.kind() == "identifier" && (is_tt(next, "(") || is_tt(next, "{")) {
                let (pk_tree, body) = if is_tt(next, "(") {
                    (
                        next,
                        toks.get(i + 2).copied().filter(|n| is_tt(Some(*n), "{")),
                    )
                } else {
                    (None, next)
                };
                if let Some(body) = body {
                    let pk: Vec<String> = pk_tree
                        .map(|p| {
                            Self::named(p)
                                .into_iter()
                                .filter(|n| n.kind() == "identifier")
                                .map(|n| self.text(n).to_string())
                                .collect()
                        })
                        .unwrap_or_else(|| vec!["id".to_string()]);
                    let decl = self.table_decl(self.text(t), &pk, body, common::line(t));
                    self.ir.models.push(decl);
                    i += if pk_tree.is_some() { 3 } else { 2 };
                    continue;
                }
            }
            i += 1;
        }
    }

    fn table_decl(&self, table: &str, pk: &[String], body: Node<'_>, line: u32) -> ModelDecl {
        let mut c = body.walk();
        let toks: Vec<Node<'_>> = body.children(&mut c).collect();
        let mut fields = Vec::new();
        let mut i = 1;
        while i + 2 < toks.len() {
            if toks[i].kind() == "identifier" && toks[i + 1].kind() == "->" {
                let name = self.text(toks[i]).to_string();
                let mut j = i + 2;
                let mut ty = String::new();
                while j < toks.len() && !matches!(toks[j].kind(), "," | "}") {
                    ty.push_str(self.text(toks[j]));
                    j += 1;
                }
                let nullable = ty.starts_with("Nullable");
                let base = ty
                    .trim_start_matches("Nullable<")
                    .trim_end_matches('>')
                    .to_string();
                fields.push(FieldDecl {
                    name: name.clone(),
                    column: name.clone(),
                    data_type: diesel_type(&base).to_string(),
                    primary_key: pk.contains(&name),
                    unique: false,
                    not_null: !nullable,
                    has_default: pk.contains(&name),
                    fk: None,
                });
                i = j;
            } else {
                i += 1;
            }
        }
        ModelDecl {
            class: table.to_string(),
            kind: OrmKind::Declared,
            table: Some(table.to_string()),
            app: String::new(),
            is_abstract: false,
            bases: Vec::new(),
            fields,
            line,
            implied: false,
        }
    }

    // ----- diesel -------------------------------------------------------------------------------

    fn diesel_method(&mut self, stmt: &mut OrmStmt, m: &str, argv: &[Node<'_>]) {
        let lock = |s: Strength| LockSpec {
            strength: s,
            of: Vec::new(),
            nowait: false,
            skip_locked: false,
        };
        match m {
            "filter" => {
                if let Some(a) = argv.first() {
                    self.diesel_conds(*a, &mut stmt.filters, 0);
                }
            }
            "find" => {
                if let Some(a) = argv.first() {
                    stmt.filters.push(Filter {
                        field: "pk".into(),
                        op: FilterOp::Eq,
                        value: Some(normalize(self.text(*a))),
                    });
                }
            }
            "for_update" => stmt.lock = Some(lock(Strength::Update)),
            "for_no_key_update" => stmt.lock = Some(lock(Strength::NoKeyUpdate)),
            "for_share" => stmt.lock = Some(lock(Strength::Share)),
            "for_key_share" => stmt.lock = Some(lock(Strength::KeyShare)),
            "skip_locked" => {
                if let Some(l) = stmt.lock.as_mut() {
                    l.skip_locked = true;
                }
            }
            "no_wait" => {
                if let Some(l) = stmt.lock.as_mut() {
                    l.nowait = true;
                }
            }
            "order" | "order_by" | "then_order_by" => {
                for a in argv {
                    let items = if a.kind() == "tuple_expression" {
                        Self::named(*a)
                    } else {
                        vec![*a]
                    };
                    for it in items {
                        let t = self.text(it);
                        let col = t.split('.').next().unwrap_or(t);
                        let col = col.rsplit("::").next().unwrap_or(col).trim();
                        if !col.is_empty() {
                            stmt.order.push(col.to_string());
                        }
                    }
                }
            }
            "set" | "values" => {
                if let Some(a) = argv.first() {
                    let items = match a.kind() {
                        "tuple_expression" => Self::named(*a),
                        "reference_expression" => Vec::new(),
                        _ => vec![*a],
                    };
                    for it in items {
                        if let Some((col, v)) = self.diesel_assign(it, m == "set") {
                            stmt.sets.push((col, v));
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// `col.eq(value)` → the column (last path segment) and the value node.
    fn diesel_cmp<'t>(&self, n: Node<'t>) -> Option<(String, &'s str, Option<Node<'t>>)> {
        if n.kind() != "call_expression" {
            return None;
        }
        let f = n.child_by_field_name("function")?;
        let f = if f.kind() == "generic_function" {
            f.child_by_field_name("function")?
        } else {
            f
        };
        if f.kind() != "field_expression" {
            return None;
        }
        let recv = f.child_by_field_name("value")?;
        let m = self.text(f.child_by_field_name("field")?);
        let col = self.text(recv);
        let col = col.rsplit("::").next().unwrap_or(col).trim().to_string();
        let arg = n
            .child_by_field_name("arguments")
            .and_then(|a| Self::named(a).into_iter().next());
        Some((col, m, arg))
    }

    fn diesel_conds(&self, n: Node<'_>, out: &mut Vec<Filter>, depth: usize) {
        if depth > 16 {
            return;
        }
        if n.kind() == "parenthesized_expression" {
            if let Some(c) = n.named_child(0) {
                self.diesel_conds(c, out, depth + 1);
            }
            return;
        }
        let Some((col, m, arg)) = self.diesel_cmp(n) else {
            return;
        };
        if m == "and" {
            if let Some(f) = n
                .child_by_field_name("function")
                .and_then(|f| f.child_by_field_name("value"))
            {
                self.diesel_conds(f, out, depth + 1);
            }
            if let Some(a) = arg {
                self.diesel_conds(a, out, depth + 1);
            }
            return;
        }
        let op = match m {
            "eq" => FilterOp::Eq,
            "eq_any" => FilterOp::In,
            "is_null" => FilterOp::IsNull,
            "ne" => FilterOp::Cmp("<>"),
            "gt" => FilterOp::Cmp(">"),
            "ge" => FilterOp::Cmp(">="),
            "lt" => FilterOp::Cmp("<"),
            "le" => FilterOp::Cmp("<="),
            _ => return,
        };
        out.push(Filter {
            field: col,
            op,
            value: arg.map(|a| normalize(self.text(a))),
        });
    }

    /// `col.eq(value)` of a `set` (where a column may be on the right) or `values` (where
    /// everything on the right is a value).
    fn diesel_assign(&self, n: Node<'_>, update: bool) -> Option<(String, Value)> {
        let (col, m, arg) = self.diesel_cmp(n)?;
        if m != "eq" {
            return None;
        }
        let v = match arg {
            Some(a) if update => self.diesel_value(a, &col, 0),
            Some(a)
                if !matches!(
                    a.kind(),
                    "integer_literal" | "float_literal" | "string_literal" | "boolean_literal"
                ) =>
            {
                Value::Expr(normalize(self.text(a)))
            }
            _ => Value::Param,
        };
        Some((col, v))
    }

    fn diesel_value(&self, n: Node<'_>, col: &str, depth: usize) -> Value {
        if depth > 16 {
            return Value::Param;
        }
        match n.kind() {
            "binary_expression" => {
                let op = n
                    .child_by_field_name("operator")
                    .map_or("", |o| self.text(o));
                let op: &'static str = match op {
                    "+" => "+",
                    "-" => "-",
                    "*" => "*",
                    "/" => "/",
                    _ => return Value::Param,
                };
                let (Some(l), Some(r)) = (
                    n.child_by_field_name("left"),
                    n.child_by_field_name("right"),
                ) else {
                    return Value::Param;
                };
                Value::Bin(
                    Box::new(self.diesel_value(l, col, depth + 1)),
                    op,
                    Box::new(self.diesel_value(r, col, depth + 1)),
                )
            }
            "parenthesized_expression" => n
                .named_child(0)
                .map_or(Value::Param, |c| self.diesel_value(c, col, depth + 1)),
            "integer_literal" | "float_literal" | "string_literal" | "boolean_literal" => {
                Value::Param
            }
            "scoped_identifier" => {
                let t = self.text(n);
                Value::Col(t.rsplit("::").next().unwrap_or(t).to_string())
            }
            "identifier" if self.text(n) == col => Value::Col(col.to_string()),
            _ => Value::Expr(normalize(self.text(n))),
        }
    }

    // ----- sites and arguments ------------------------------------------------------------------

    fn raw_site(&mut self, line: u32, sql: SqlExpr, args: Option<Args>) -> u32 {
        self.push_site(line, SiteBody::Raw(sql), args)
    }

    fn orm_site(&mut self, line: u32, stmt: OrmStmt) -> u32 {
        self.push_site(line, SiteBody::Orm(stmt), None)
    }

    fn push_site(&mut self, line: u32, body: SiteBody, args: Option<Args>) -> u32 {
        let ordered = self.ordered.site(&body, args.as_ref(), &[]);
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

    /// One argument: a literal as SQL text, else the expression (references and derefs
    /// dropped, so `&id` and `id` are the same value).
    fn arg_of(&self, n: Node<'_>) -> Arg {
        match n.kind() {
            "reference_expression" | "parenthesized_expression" => {
                match n.child_by_field_name("value").or_else(|| n.named_child(0)) {
                    Some(inner) => self.arg_of(inner),
                    None => Arg::Expr(normalize(self.text(n))),
                }
            }
            "integer_literal" | "float_literal" => {
                let t = self.text(n).replace('_', "");
                let suffixes = [
                    "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128",
                    "usize", "f32", "f64",
                ];
                let t = suffixes
                    .iter()
                    .find_map(|s| t.strip_suffix(s))
                    .unwrap_or(&t)
                    .to_string();
                Arg::Lit(t)
            }
            "boolean_literal" => Arg::Lit(self.text(n).to_string()),
            "string_literal" | "raw_string_literal" => match self.literal(n) {
                Some(s) => Arg::Lit(format!("'{}'", s.replace('\'', "''"))),
                None => Arg::Expr(normalize(self.text(n))),
            },
            _ => Arg::Expr(normalize(self.text(n))),
        }
    }

    /// `&[&a, &b]` → its items.
    fn slice_args(&self, n: Node<'_>) -> Option<Vec<Arg>> {
        match n.kind() {
            "reference_expression" => self.slice_args(n.child_by_field_name("value")?),
            "array_expression" => {
                Some(Self::named(n).into_iter().map(|a| self.arg_of(a)).collect())
            }
            _ => None,
        }
    }

    // ----- strings ------------------------------------------------------------------------------

    /// A reference to a constant by path as written. An associated constant (`Q::CLAIM`,
    /// `queries::Q::CLAIM`) is looked up in the module of its type.
    fn path_ref(&mut self, segs: &[&str]) -> SqlExpr {
        match segs {
            [one] => vec![Part::Ref(vec![one.to_string()])],
            ["Self", name] => vec![Part::Ref(vec![name.to_string()])],
            [prefix @ .., ty, name] if ty.starts_with(|c: char| c.is_ascii_uppercase()) => {
                if prefix.is_empty() && !self.ir.imports.contains_key(*ty) {
                    return vec![Part::Ref(vec![name.to_string()])];
                }
                let mut all: Vec<&str> = prefix.to_vec();
                all.push(ty);
                let mut abs = self.absolute(&all);
                abs.pop();
                let key = format!("{}::", all.join("::"));
                let dotted = self.dotted(&abs);
                self.ir.imports.entry(key.clone()).or_insert(dotted);
                vec![Part::Ref(vec![key, name.to_string()])]
            }
            [prefix @ .., name] => {
                let key = self.prefix_key(prefix);
                vec![Part::Ref(vec![key, name.to_string()])]
            }
            [] => Vec::new(),
        }
    }

    /// `format!("… {} … {name} …", a)`: fields become the text of the constants or local
    /// strings they name, else holes.
    fn format_str(&mut self, groups: &[Vec<Node<'_>>], depth: usize) -> Option<SqlExpr> {
        let template = self.group_str(groups.first()?, depth)?;
        let mut next_arg = 1;
        let mut out: SqlExpr = Vec::new();
        for p in template {
            let Part::Lit(text) = p else {
                sqltext::push(&mut out, p);
                continue;
            };
            let mut lit = String::new();
            let mut chars = text.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '{' if chars.peek() == Some(&'{') => {
                        chars.next();
                        lit.push('{');
                    }
                    '}' if chars.peek() == Some(&'}') => {
                        chars.next();
                        lit.push('}');
                    }
                    '{' => {
                        let mut field = String::new();
                        for d in chars.by_ref() {
                            if d == '}' {
                                break;
                            }
                            field.push(d);
                        }
                        let name = field.split(':').next().unwrap_or("").trim().to_string();
                        sqltext::push(&mut out, Part::Lit(std::mem::take(&mut lit)));
                        let value = if name.is_empty() || name.parse::<usize>().is_ok() {
                            let at = name.parse::<usize>().map_or(next_arg, |i| i + 1);
                            if name.is_empty() {
                                next_arg += 1;
                            }
                            groups.get(at).and_then(|g| self.group_str(g, depth))
                        } else {
                            match self.vars.get(&name) {
                                Some(Val::Str(s)) => Some(s.clone()),
                                Some(_) => None,
                                None => Some(vec![Part::Ref(vec![name])]),
                            }
                        };
                        match value {
                            Some(v) => out = sqltext::concat(out, v),
                            None => sqltext::push(&mut out, Part::Hole),
                        }
                    }
                    _ => lit.push(c),
                }
            }
            if !lit.is_empty() {
                sqltext::push(&mut out, Part::Lit(lit));
            }
        }
        out.retain(|p| !matches!(p, Part::Lit(s) if s.is_empty()));
        Some(out)
    }

    /// The value of a string literal (escapes decoded) or raw string literal.
    fn literal(&self, n: Node<'_>) -> Option<String> {
        let t = self.text(n);
        match n.kind() {
            "string_literal" => {
                let inner = t
                    .trim_start_matches('b')
                    .strip_prefix('"')?
                    .strip_suffix('"')?;
                Some(unescape(inner))
            }
            "raw_string_literal" => {
                let start = t.find('"')? + 1;
                let end = t.rfind('"')?;
                Some(t.get(start..end)?.to_string())
            }
            _ => None,
        }
    }

    /// The SQL text an expression builds, when it builds text.
    fn eval_str(&mut self, n: Node<'_>, depth: usize) -> Option<SqlExpr> {
        if depth > MAX_DEPTH {
            return None;
        }
        match n.kind() {
            "string_literal" | "raw_string_literal" => Some(vec![Part::Lit(self.literal(n)?)]),
            "identifier" => match self.vars.get(self.text(n)) {
                Some(Val::Str(s)) => Some(s.clone()),
                Some(_) => None,
                None => Some(vec![Part::Ref(vec![self.text(n).to_string()])]),
            },
            "scoped_identifier" => {
                let segs = self.path_segs(n);
                Some(self.path_ref(&segs))
            }
            "reference_expression" | "parenthesized_expression" => {
                let inner = n
                    .child_by_field_name("value")
                    .or_else(|| n.named_child(0))?;
                self.eval_str(inner, depth + 1)
            }
            "binary_expression" => {
                let op = n
                    .child_by_field_name("operator")
                    .map_or("", |o| self.text(o));
                if op != "+" {
                    return None;
                }
                let l = self.eval_str(n.child_by_field_name("left")?, depth + 1)?;
                let r = self.eval_str(n.child_by_field_name("right")?, depth + 1)?;
                Some(sqltext::concat(l, r))
            }
            "call_expression" => {
                let f = n.child_by_field_name("function")?;
                let args = Self::named(n.child_by_field_name("arguments")?);
                match f.kind() {
                    "field_expression" => {
                        let m = self.text(f.child_by_field_name("field")?);
                        if matches!(m, "to_string" | "to_owned" | "as_str" | "into" | "clone")
                            && args.is_empty()
                        {
                            return self.eval_str(f.child_by_field_name("value")?, depth + 1);
                        }
                        None
                    }
                    "scoped_identifier" if self.text(f).ends_with("String::from") => {
                        self.eval_str(*args.first()?, depth + 1)
                    }
                    _ => None,
                }
            }
            "macro_invocation" => {
                let mac = n.child_by_field_name("macro")?;
                let name = self.path_segs(mac).last().copied().unwrap_or("");
                let tt = Self::named(n)
                    .into_iter()
                    .find(|c| c.kind() == "token_tree")?;
                let groups = Self::macro_args(tt);
                match name {
                    "format" | "formatcp" => self.format_str(&groups, depth),
                    "indoc" => self.group_str(groups.first()?, depth),
                    "concat" | "concatcp" => {
                        let mut out = Vec::new();
                        for g in &groups {
                            match self.group_str(g, depth) {
                                Some(e) => out = sqltext::concat(out, e),
                                None => sqltext::push(&mut out, Part::Hole),
                            }
                        }
                        Some(out)
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// An argument's source text without references, derefs, `.clone()` or a cast, whitespace
/// collapsed: `&mut *from` → `from`.
fn normalize(t: &str) -> String {
    let mut s = t.trim();
    loop {
        let before = s;
        s = s.trim_start_matches('&').trim_start();
        s = s.strip_prefix("mut ").unwrap_or(s).trim_start();
        s = s.trim_start_matches('*').trim_start();
        if s == before {
            break;
        }
    }
    for suffix in [".clone()", ".to_owned()", ".to_string()"] {
        s = s.strip_suffix(suffix).unwrap_or(s);
    }
    if let Some((head, _)) = s.split_once(" as ") {
        s = head.trim();
    }
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Decodes the escapes of a Rust string literal (`\n`, `\"`, `\\`, line continuations…).
fn unescape(s: &str) -> String {
    sqltext::unescape_with(s, |o, chars, out| match o {
        Some('0') => out.push('\0'),
        Some('\n') => {
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
        }
        Some('u') => {
            let mut hex = String::new();
            for d in chars.by_ref() {
                if d == '}' {
                    break;
                }
                if d != '{' {
                    hex.push(d);
                }
            }
            if let Some(ch) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                out.push(ch);
            }
        }
        Some('x') => {
            let hex: String = chars.by_ref().take(2).collect();
            if let Some(ch) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                out.push(ch);
            }
        }
        Some(o) => out.push(o),
        None => out.push('\\'),
    })
}

/// The statements of a `batch_execute` string, split at `;` outside quotes (a hole stays in
/// its statement).
fn split_statements(s: SqlExpr) -> Vec<SqlExpr> {
    let mut out: Vec<SqlExpr> = Vec::new();
    let mut cur: SqlExpr = Vec::new();
    for p in s {
        let Part::Lit(text) = p else {
            sqltext::push(&mut cur, p);
            continue;
        };
        let mut lit = String::new();
        let mut quote = false;
        for c in text.chars() {
            match c {
                '\'' => {
                    quote = !quote;
                    lit.push(c);
                }
                ';' if !quote => {
                    sqltext::push(&mut cur, Part::Lit(std::mem::take(&mut lit)));
                    out.push(std::mem::take(&mut cur));
                }
                _ => lit.push(c),
            }
        }
        if !lit.is_empty() {
            sqltext::push(&mut cur, Part::Lit(lit));
        }
    }
    out.push(cur);
    out.retain(|e| {
        e.iter().any(|p| match p {
            Part::Lit(s) => !s.trim().is_empty(),
            _ => true,
        })
    });
    out
}

/// A diesel SQL type → a PostgreSQL type.
fn diesel_type(t: &str) -> &'static str {
    match t.rsplit("::").next().unwrap_or(t) {
        "Int2" | "SmallInt" => "smallint",
        "Int4" | "Integer" => "integer",
        "Int8" | "BigInt" => "bigint",
        "Bool" => "boolean",
        "Float4" | "Float" => "real",
        "Float8" | "Double" => "double precision",
        "Numeric" => "numeric",
        "Timestamp" => "timestamp",
        "Timestamptz" => "timestamptz",
        "Date" => "date",
        "Uuid" => "uuid",
        "Jsonb" => "jsonb",
        "Json" => "json",
        "Bytea" | "Binary" => "bytea",
        _ => "text",
    }
}

/// Pushes a branch unless every arm is empty.
fn push_branch(ops: &mut Vec<Op>, arms: Vec<Vec<Op>>) {
    if arms.iter().any(|a| !a.is_empty()) {
        ops.push(Op::Branch(arms));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_paths() {
        assert_eq!(module_path("svc/src/repo/accounts.rs"), "repo.accounts");
        assert_eq!(module_path("svc/src/repo/mod.rs"), "repo");
        assert_eq!(module_path("my-svc/src/lib.rs"), "my_svc");
        assert_eq!(module_path("src/main.rs"), "crate");
        assert_eq!(module_path("tools/x.rs"), "tools.x");
    }

    #[test]
    fn escapes_and_arguments() {
        assert_eq!(unescape(r"a\nb\\c\u{41}"), "a\nb\\cA");
        assert_eq!(unescape("a \\\n     b"), "a b");
        assert_eq!(normalize("&mut *tx"), "tx");
        assert_eq!(normalize("&req.from_id"), "req.from_id");
        assert_eq!(normalize("amount as i64"), "amount");
        let parts = split_statements(vec![Part::Lit(
            "BEGIN; UPDATE a SET x = ';'; COMMIT".into(),
        )]);
        assert_eq!(parts.len(), 3);
    }
}
