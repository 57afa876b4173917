//! Go: database/sql, pgx and sqlx transactions, lowered from tree-sitter-go syntax to the IR.
//!
//! # What is recognised
//!
//! - **Transactions.** `x.Begin()`, `x.BeginTx(ctx, opts)`, `x.Beginx()`, `x.BeginTxx(…)`,
//!   `x.MustBegin()`, `x.MustBeginTx(…)` (database/sql, sqlx; pgx `pool.Begin(ctx)`,
//!   `conn.Begin(ctx)`) start a transaction ([`Op::Begin`]); `x.Commit()` / `x.Rollback()`
//!   (with or without `ctx`) end it. `pgx.BeginFunc` / `pgx.BeginTxFunc` and any call of a
//!   transaction helper taking a function literal (`WithTx`, `execTx`, `RunInTransaction`,
//!   `Transaction`, …: a name ending in `Tx` or containing `transact`) make the literal's body a
//!   transaction [`Op::Scope`].
//! - **`defer`.** A deferred `Commit`/`Rollback` (`defer tx.Rollback()`, or inside a deferred
//!   function literal) does not end the transaction where it is written: it runs at every
//!   `return` of the function after it, and at its end. Other deferred calls are ignored.
//! - **Statements.** `Exec`, `ExecContext`, `Query`, `QueryContext`, `QueryRow`,
//!   `QueryRowContext` (database/sql, pgx), sqlx's `MustExec`, `Queryx`, `QueryRowx`, `Get`,
//!   `Select`, `NamedExec`, `NamedQuery` (and their `…Context` forms), pgx `Batch.Queue`,
//!   `pgxscan`/`sqlscan`/`sqlx` package functions `Get`/`Select`, and prepared statements
//!   (`stmt := tx.Prepare(sql)`, then `stmt.Exec(args…)`). Leading `ctx` arguments and the
//!   `&dst` of `Get`/`Select` are skipped; the next argument is the SQL. Receivers are loose
//!   (any value whose type is not a scanned struct), as in the Python front-end.
//! - **SQL text.** String literals (interpreted and raw), constants (`const q = "…"`, in any
//!   file of the package or in an imported package: `queries.Debit`), local variables, `+`
//!   concatenation (and `+=`), `fmt.Sprintf` (verbs become holes). A hole where a table name
//!   goes is a dynamic-relation diagnostic.
//! - **Arguments.** The arguments after the SQL are both the `$n` (lib/pq, pgx) and the `?`
//!   (MySQL drivers) parameters, numbered program-wide by their source text; a literal is
//!   written into the statement; `args...` hides them. `NamedExec(sql, arg)` binds each
//!   `:name` to the field of `arg` Go naming gives it (`:team_id` → `arg.TeamID`), or to the
//!   value of a `map[string]any{"name": v}` or struct literal.
//! - **Calls across files and packages.** `pkg.F(…)` through the file's imports (an import
//!   path is mapped to the directory-based module name by dropping the module prefix:
//!   `example.com/shop/internal/repo` → `internal.repo`, matched as a suffix of the scanned
//!   directories), same-package functions by name, methods (`func (r *Repo) M()` is method `M`
//!   of class `Repo`; a type's methods may be spread over the package's files), `r.M()` on
//!   the receiver, `r.field.M()` on a struct field (its declared type, possibly from another
//!   package), `v.M()` on a local whose type is known (a parameter `v *repo.Repo`, `v :=
//!   &Repo{…}`, `v := repo.NewRepo(…)`, `var v Repo`), embedded structs as bases. Other
//!   receivers resolve by method name when it is unique in the program.
//! - **Control flow.** `if`/`else`, `switch`, type switches and `select` fork the replay
//!   (a `switch` without `default` may run no case); `for` loops (three-clause, condition,
//!   `range`) are [`Op::Loop`]s; `return` and `panic(…)` end a path. A function literal is a
//!   nested function called where it is written (its `return` ends only the literal).
//! - **Error checks do not fork.** An `if` without `else` whose condition mentions an error
//!   variable (`err != nil`, `errors.Is(err, …)`, `txErr != nil`) and whose body ends the path
//!   (`return`, `panic`, `continue`, `break`) is the failure path and is not replayed: a
//!   repository function with five error checks is one lock sequence, not six. Likewise a
//!   `case` of that shape in a `switch`.
//! - **Key order.** Row locks taken in a loop over keys sorted before it (`sort.Ints(ids)`,
//!   `sort.Slice(ids, …)`, `slices.Sort(ids)`, `for … range slices.Sorted(…)`), keyed on
//!   `min(a, b)` / `max(a, b)`, or on a pair swapped into order (`if a > b { a, b = b, a }`) are
//!   marked ordered.
//!
//! # Limits
//!
//! No type checking: a statement on the pool (`db.Exec`) inside an open transaction is counted
//! in that transaction (it really runs on another connection). Interface-typed fields and
//! parameters resolve only by unique method name. Calls through function values (other than
//! the transaction helpers above) are not followed. Error paths are not replayed, so locks
//! taken only on them (compensating writes) are not seen. Query builders (squirrel, goqu) and
//! ORMs (gorm, ent, bun) are not read.

use crate::ir::{CallTarget, ClassIr, FuncIr, ModuleIr, Op, SiteBody, SiteIr};
use crate::lang::common::{self, MAX_DEPTH, Ordered, line};
use crate::sqltext::{self, Arg, Args, Part, SqlExpr, concat, percent_format};
use rustc_hash::{FxHashMap, FxHashSet};
use tree_sitter::Node;

/// A Go package is its directory: `svc/repo/accounts.go` → `svc.repo`.
pub(crate) fn module_path(name: &str) -> String {
    let mut segs = common::path_segments(name);
    segs.pop();
    segs.join(".")
}

/// Lowers one Go file.
pub(crate) fn lower(src: &str, _path: &str, module: &str, root: Node<'_>) -> ModuleIr {
    let mut l = Lower::new(src, module);
    l.prepass(root);
    l.lower_file(root);
    l.ir
}

/// Methods that start a transaction.
const BEGIN_METHODS: &[&str] = &[
    "Begin",
    "BeginTx",
    "Beginx",
    "BeginTxx",
    "MustBegin",
    "MustBeginTx",
];

/// Methods that run the SQL given as their first argument (after a `ctx`).
const EXEC_METHODS: &[&str] = &[
    "Exec",
    "ExecContext",
    "Query",
    "QueryContext",
    "QueryRow",
    "QueryRowContext",
    "MustExec",
    "MustExecContext",
    "Queryx",
    "QueryxContext",
    "QueryRowx",
    "QueryRowxContext",
    "NamedExec",
    "NamedExecContext",
    "NamedQuery",
    "NamedQueryContext",
    "Queue",
];

/// Methods (and scanning-package functions) whose SQL follows a destination argument.
const SCAN_METHODS: &[&str] = &["Get", "GetContext", "Select", "SelectContext"];

/// Methods that prepare a statement run later by `stmt.Exec(args…)`.
const PREPARE_METHODS: &[&str] = &["Prepare", "PrepareContext", "Preparex", "PreparexContext"];

/// Packages whose `Get`/`Select` functions take a querier, a destination, then the SQL.
const SCAN_PACKAGES: &[&str] = &["pgxscan", "sqlscan", "sqlx", "scany"];

/// Packages of the database handles (`*sql.DB`, `pgx.Tx`, `*pgxpool.Pool`, `*sqlx.Tx`…).
const DB_PACKAGES: &[&str] = &["sql", "pgx", "pgxpool", "pgconn", "sqlx"];

/// Functions that sort their first argument in place.
const SORT_FUNCS: &[&str] = &[
    "sort.Ints",
    "sort.Strings",
    "sort.Float64s",
    "sort.Slice",
    "sort.SliceStable",
    "sort.Sort",
    "sort.Stable",
    "slices.Sort",
    "slices.SortFunc",
    "slices.SortStableFunc",
];

/// Builtins (never scanned functions).
const BUILTINS: &[&str] = &[
    "append", "cap", "clear", "close", "complex", "copy", "delete", "imag", "len", "make", "max",
    "min", "new", "print", "println", "real", "recover",
];

/// First import-path elements of the standard library (kept whole, never matched locally).
const STDLIB: &[&str] = &[
    "archive",
    "bufio",
    "bytes",
    "cmp",
    "compress",
    "container",
    "context",
    "crypto",
    "database",
    "debug",
    "embed",
    "encoding",
    "errors",
    "expvar",
    "flag",
    "fmt",
    "go",
    "hash",
    "html",
    "image",
    "index",
    "io",
    "iter",
    "log",
    "maps",
    "math",
    "mime",
    "net",
    "os",
    "path",
    "plugin",
    "reflect",
    "regexp",
    "runtime",
    "slices",
    "sort",
    "strconv",
    "strings",
    "sync",
    "syscall",
    "testing",
    "text",
    "time",
    "unicode",
    "unique",
    "unsafe",
];

/// Hosts whose module paths have two elements after the host (`github.com/org/repo`).
const THREE_PART_HOSTS: &[&str] = &["github.com", "gitlab.com", "bitbucket.org", "codeberg.org"];

/// The dotted module name an import path names in the scanned tree, for a file of module
/// `importer`: the module prefix is dropped (`example.com/shop/internal/repo` →
/// `internal.repo`, `github.com/o/r/v2/db` → `db`) and `internal.…` / `pkg.…` are anchored at
/// the importer's module root (`svc/a/internal/x` importing it → `svc.a.internal.repo`);
/// standard-library paths stay whole (`database/sql` → `database.sql`).
fn import_target(path: &str, importer: &str) -> String {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let Some(first) = segs.first() else {
        return String::new();
    };
    let drop = if first.contains('.') {
        if THREE_PART_HOSTS.contains(first) {
            3
        } else {
            2
        }
    } else if STDLIB.contains(first) {
        0
    } else {
        1
    };
    let mut rest = segs.get(drop.min(segs.len())..).unwrap_or(&[]);
    if let Some((v, tail)) = rest.split_first()
        && is_major_version(v)
    {
        rest = tail;
    }
    if rest.is_empty() {
        return import_local_name(path).unwrap_or(path).to_string();
    }
    // `internal/…` and `pkg/…` sit at the module root: anchor them at the importer's root (its
    // directories before its own first `internal`, `pkg` or `cmd`), so that several modules of
    // one tree, each with an `internal/repo`, stay apart.
    let mut target = rest.join(".");
    if rest.first().is_some_and(|r| ROOT_DIRS.contains(r)) {
        let own: Vec<&str> = importer.split('.').collect();
        if let Some(root) = own
            .iter()
            .position(|s| ROOT_DIRS.contains(s) || *s == "cmd")
            && root > 0
        {
            target = format!("{}.{target}", own.get(..root).unwrap_or(&[]).join("."));
        }
    }
    target
}

/// Directories conventionally at a Go module's root that import paths go through.
const ROOT_DIRS: &[&str] = &["internal", "pkg"];

/// `v2`, `v10`: a module's major-version suffix.
fn is_major_version(s: &str) -> bool {
    s.strip_prefix('v')
        .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
}

/// The package name an import path binds when it has no alias (its last element, skipping a
/// major-version suffix: `github.com/jackc/pgx/v5` → `pgx`).
fn import_local_name(path: &str) -> Option<&str> {
    let mut segs = path.rsplit('/').filter(|s| !s.is_empty());
    let last = segs.next()?;
    if is_major_version(last) {
        return segs.next();
    }
    Some(last)
}

/// Whether a type as written is a database handle type.
fn is_db_type(t: &str) -> bool {
    t.split_once('.')
        .is_some_and(|(pkg, _)| DB_PACKAGES.contains(&pkg))
}

/// A transaction helper taking a function literal: `BeginFunc`, `WithTx`, `execTx`,
/// `RunInTransaction`, `Transaction`…
fn is_tx_helper(name: &str) -> bool {
    let lc = name.to_ascii_lowercase();
    name.ends_with("Tx")
        || name.ends_with("TX")
        || lc.ends_with("_tx")
        || lc.ends_with("txfunc")
        || lc.contains("transact")
        || lc == "beginfunc"
}

/// An identifier that names an error (`err`, `txErr`, `scanErr`).
fn is_error_name(s: &str) -> bool {
    s == "err" || s.ends_with("Err") || s.ends_with("err")
}

/// Decodes the escapes of an interpreted Go string literal's content.
fn unescape(s: &str) -> String {
    sqltext::unescape_with(s, |o, _, out| sqltext::quotes_escape(o, out))
}

/// What a local variable is known to hold.
#[derive(Clone, Debug)]
enum Val {
    /// SQL text.
    Str(SqlExpr),
    /// A value of a (scanned or unknown) type, as written (`repo.AccountRepo`).
    Type(String),
    /// A database handle: `*sql.DB`, `*sql.Tx`, `pgx.Tx`, …
    Db,
    /// A prepared statement and its SQL.
    Prepared(SqlExpr),
    /// Anything else (shadows package names and constants).
    Unknown,
}

/// What the receiver of a method call is.
enum Recv {
    /// A database handle.
    Db,
    /// A value of a scanned type: the call is a user call.
    User(CallTarget),
    /// An imported package.
    Pkg(String),
    /// A prepared statement.
    Prepared(SqlExpr),
    /// Not known: SQL when the method runs SQL, else a user call.
    Unknown(CallTarget),
}

/// One struct type declared in the file: field → type as written.
type Fields = FxHashMap<String, String>;

struct Lower<'s> {
    src: &'s str,
    /// Display prefix of top-level functions: the package clause's name.
    pkg: String,
    /// The file's dotted module name.
    module: String,
    ir: ModuleIr,
    cur: u32,
    class: Option<u32>,
    /// The receiver's name in the current method.
    recv: Option<String>,
    vars: FxHashMap<String, Val>,
    ordered: Ordered,
    /// `Commit`/`Rollback` deferred so far in the current function.
    deferred: Vec<Op>,
    /// Struct types of this file.
    structs: FxHashMap<String, Fields>,
    /// Interface types of this file.
    interfaces: FxHashSet<String>,
    /// Result types of this file's functions (a user type, pointer stripped).
    results: FxHashMap<String, String>,
    /// Function literals in the current top-level declaration.
    closures: u32,
}

impl<'s> Lower<'s> {
    fn new(src: &'s str, module: &str) -> Self {
        Lower {
            src,
            pkg: common::short_module(module).to_string(),
            module: module.to_string(),
            ir: common::module_ir(module),
            cur: 0,
            class: None,
            recv: None,
            vars: FxHashMap::default(),
            ordered: Ordered::default(),
            deferred: Vec::new(),
            structs: FxHashMap::default(),
            interfaces: FxHashSet::default(),
            results: FxHashMap::default(),
            closures: 0,
        }
    }

    fn text(&self, n: Node<'_>) -> &'s str {
        common::text(self.src, n)
    }

    fn field(&self, n: Node<'_>, name: &str) -> Option<&'s str> {
        n.child_by_field_name(name).map(|c| self.text(c))
    }

    // ----- file level -------------------------------------------------------------------------

    /// Package name, imports, types, constants and result types (before any body is lowered,
    /// so a body may use what is declared after it).
    fn prepass(&mut self, root: Node<'_>) {
        let mut cursor = root.walk();
        let children: Vec<Node<'_>> = root.named_children(&mut cursor).collect();
        for c in children {
            match c.kind() {
                "package_clause" => {
                    if let Some(n) = c.named_child(0) {
                        let name = self.text(n);
                        if !name.is_empty() && name != "main" {
                            self.pkg = name.to_string();
                        }
                        if let Some(f) = self.ir.funcs.get_mut(0) {
                            f.display = self.pkg.clone();
                        }
                    }
                }
                "import_declaration" => self.imports(c),
                "type_declaration" => self.types(c),
                "const_declaration" | "var_declaration" => self.package_values(c),
                "function_declaration" => {
                    if let (Some(name), Some(t)) = (
                        self.field(c, "name"),
                        c.child_by_field_name("result")
                            .and_then(|r| self.type_name(r, 0)),
                    ) {
                        self.results.insert(name.to_string(), t);
                    }
                }
                _ => {}
            }
        }
    }

    fn imports(&mut self, decl: Node<'_>) {
        let mut specs = Vec::new();
        let mut cursor = decl.walk();
        for c in decl.named_children(&mut cursor) {
            match c.kind() {
                "import_spec" => specs.push(c),
                "import_spec_list" => {
                    let mut cc = c.walk();
                    specs.extend(
                        c.named_children(&mut cc)
                            .filter(|s| s.kind() == "import_spec"),
                    );
                }
                _ => {}
            }
        }
        for spec in specs {
            let Some(path) = spec.child_by_field_name("path") else {
                continue;
            };
            let path = self.text(path).trim_matches(|c| c == '"' || c == '`');
            let local = match spec.child_by_field_name("name") {
                Some(n) if n.kind() == "package_identifier" => Some(self.text(n)),
                Some(_) => None,
                None => import_local_name(path),
            };
            if let Some(local) = local {
                self.ir
                    .imports
                    .insert(local.to_string(), import_target(path, &self.module));
            }
        }
    }

    /// Struct types become classes (fields → `attrs`, embedded types → `bases`); interface
    /// names are remembered.
    fn types(&mut self, decl: Node<'_>) {
        let mut cursor = decl.walk();
        let specs: Vec<Node<'_>> = decl
            .named_children(&mut cursor)
            .filter(|s| s.kind() == "type_spec")
            .collect();
        for spec in specs {
            let (Some(name), Some(ty)) =
                (self.field(spec, "name"), spec.child_by_field_name("type"))
            else {
                continue;
            };
            match ty.kind() {
                "struct_type" => {
                    let mut fields = Fields::default();
                    let mut bases = Vec::new();
                    if let Some(list) = ty.named_child(0) {
                        let mut lc = list.walk();
                        for fd in list
                            .named_children(&mut lc)
                            .filter(|f| f.kind() == "field_declaration")
                        {
                            let Some(t) = fd
                                .child_by_field_name("type")
                                .and_then(|t| self.type_name(t, 0))
                            else {
                                continue;
                            };
                            let mut fc = fd.walk();
                            let names: Vec<&str> = fd
                                .children_by_field_name("name", &mut fc)
                                .map(|n| self.text(n))
                                .collect();
                            if names.is_empty() {
                                let short = t.rsplit('.').next().unwrap_or(&t).to_string();
                                fields.insert(short, t.clone());
                                bases.push(t);
                            } else {
                                for n in names {
                                    fields.insert(n.to_string(), t.clone());
                                }
                            }
                        }
                    }
                    let idx = self.class_index(name);
                    if let Some(c) = self.ir.classes.get_mut(idx as usize) {
                        c.bases = bases;
                        c.attrs = fields
                            .iter()
                            .filter(|(_, t)| !is_db_type(t))
                            .map(|(f, t)| (f.clone(), t.clone()))
                            .collect();
                    }
                    self.structs.insert(name.to_string(), fields);
                }
                "interface_type" => {
                    self.interfaces.insert(name.to_string());
                }
                _ => {}
            }
        }
    }

    /// Package-level `const` / `var` specs: string constants and instances.
    fn package_values(&mut self, decl: Node<'_>) {
        for spec in Self::specs(decl) {
            let mut nc = spec.walk();
            let names: Vec<&str> = spec
                .children_by_field_name("name", &mut nc)
                .map(|n| self.text(n))
                .collect();
            let values = spec
                .child_by_field_name("value")
                .map(Self::list_items)
                .unwrap_or_default();
            let declared = spec
                .child_by_field_name("type")
                .and_then(|t| self.type_name(t, 0));
            for (i, name) in names.iter().enumerate() {
                if let Some(v) = values.get(i) {
                    if let Some(e) = self.eval_str(*v, 0).filter(has_lit) {
                        self.ir.consts.insert(name.to_string(), e);
                        continue;
                    }
                    if let Some(t) = self.value_type(*v, 0) {
                        self.ir.instances.insert(name.to_string(), t);
                    }
                } else if let Some(t) = declared.as_ref().filter(|t| !is_db_type(t)) {
                    self.ir.instances.insert(name.to_string(), t.clone());
                }
            }
        }
    }

    /// The `const_spec` / `var_spec` nodes of a declaration.
    fn specs(decl: Node<'_>) -> Vec<Node<'_>> {
        let mut out = Vec::new();
        let mut cursor = decl.walk();
        for c in decl.named_children(&mut cursor) {
            match c.kind() {
                "const_spec" | "var_spec" => out.push(c),
                "var_spec_list" => {
                    let mut cc = c.walk();
                    out.extend(c.named_children(&mut cc).filter(|s| s.kind() == "var_spec"));
                }
                _ => {}
            }
        }
        out
    }

    /// The items of an `expression_list` (or the node itself).
    fn list_items(n: Node<'_>) -> Vec<Node<'_>> {
        if n.kind() != "expression_list" {
            return vec![n];
        }
        let mut cursor = n.walk();
        n.named_children(&mut cursor)
            .filter(|c| c.kind() != "comment")
            .collect()
    }

    /// The class entry of type `name` in this file (made when first needed).
    fn class_index(&mut self, name: &str) -> u32 {
        if let Some(i) = self.ir.classes.iter().position(|c| c.name == name) {
            return i as u32;
        }
        self.ir.classes.push(ClassIr {
            name: name.to_string(),
            ..ClassIr::default()
        });
        (self.ir.classes.len() - 1) as u32
    }

    /// A named type as written, pointers and type arguments dropped (`*repo.Repo` →
    /// `repo.Repo`); `None` for slices, maps, functions, literals.
    fn type_name(&self, t: Node<'_>, depth: usize) -> Option<String> {
        if depth > 8 {
            return None;
        }
        match t.kind() {
            "pointer_type" | "parenthesized_type" => self.type_name(t.named_child(0)?, depth + 1),
            "type_identifier" | "qualified_type" => Some(self.text(t).to_string()),
            "generic_type" => self.type_name(t.child_by_field_name("type")?, depth + 1),
            // A result list with one unnamed type: `(*Repo)`.
            "parameter_list" => {
                let mut cursor = t.walk();
                let params: Vec<Node<'_>> = t.named_children(&mut cursor).collect();
                match params.as_slice() {
                    [p] if p.child_by_field_name("name").is_none() => {
                        self.type_name(p.child_by_field_name("type")?, depth + 1)
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn lower_file(&mut self, root: Node<'_>) {
        let mut top = Vec::new();
        let mut cursor = root.walk();
        let children: Vec<Node<'_>> = root.named_children(&mut cursor).collect();
        for c in children {
            match c.kind() {
                "function_declaration" | "method_declaration" => self.lower_function(c),
                "var_declaration" => {
                    self.cur = 0;
                    self.vars.clear();
                    for spec in Self::specs(c) {
                        if let Some(v) = spec.child_by_field_name("value") {
                            self.lower_expr(v, &mut top, 1);
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some(f) = self.ir.funcs.get_mut(0) {
            f.body = top;
        }
    }

    fn lower_function(&mut self, node: Node<'_>) {
        let Some(name) = self.field(node, "name") else {
            return;
        };
        let mut recv = None;
        let mut class = None;
        if let Some(r) = node.child_by_field_name("receiver") {
            let mut cursor = r.walk();
            if let Some(p) = r
                .named_children(&mut cursor)
                .find(|p| p.kind() == "parameter_declaration")
            {
                if let Some(t) = p
                    .child_by_field_name("type")
                    .and_then(|t| self.type_name(t, 0))
                {
                    class = Some(self.class_index(&t));
                }
                recv = self.field(p, "name").map(str::to_string);
            }
        }
        let display = match class.and_then(|c| self.ir.classes.get(c as usize)) {
            Some(c) => format!("{}.{name}", c.name),
            None => format!("{}.{name}", self.pkg),
        };
        let idx = self.ir.funcs.len() as u32;
        self.ir.funcs.push(FuncIr {
            name: name.to_string(),
            class,
            parent: None,
            display,
            line: line(node),
            body: Vec::new(),
            autobegin: false,
            is_module: false,
        });
        if let Some(c) = class.and_then(|c| self.ir.classes.get_mut(c as usize)) {
            c.methods.insert(name.to_string(), idx);
        }
        self.cur = idx;
        self.class = class;
        self.recv = recv;
        self.vars.clear();
        self.ordered = Ordered::default();
        self.deferred.clear();
        self.closures = 0;
        if let Some(params) = node.child_by_field_name("parameters") {
            self.bind_params(params);
        }
        let mut body = Vec::new();
        self.block(node.child_by_field_name("body"), &mut body, 1);
        body.extend(self.deferred.iter().rev().cloned());
        if let Some(f) = self.ir.funcs.get_mut(idx as usize) {
            f.body = body;
        }
        self.cur = 0;
        self.class = None;
        self.recv = None;
    }

    fn bind_params(&mut self, params: Node<'_>) {
        let mut cursor = params.walk();
        let decls: Vec<Node<'_>> = params.named_children(&mut cursor).collect();
        for p in decls {
            let val = p
                .child_by_field_name("type")
                .map_or(Val::Unknown, |t| self.val_of_type(t));
            let mut nc = p.walk();
            let names: Vec<&str> = p
                .children_by_field_name("name", &mut nc)
                .map(|n| self.text(n))
                .collect();
            for n in names {
                self.vars.insert(n.to_string(), val.clone());
            }
        }
    }

    /// What a value of a declared type is.
    fn val_of_type(&self, t: Node<'_>) -> Val {
        match self.type_name(t, 0) {
            Some(t) if is_db_type(&t) => Val::Db,
            Some(t) if self.interfaces.contains(&t) => Val::Unknown,
            Some(t) => Val::Type(t),
            None => Val::Unknown,
        }
    }

    // ----- statements -------------------------------------------------------------------------

    /// The statements of a block (or statement list).
    fn block(&mut self, node: Option<Node<'_>>, ops: &mut Vec<Op>, depth: usize) {
        let Some(node) = node else { return };
        if depth > MAX_DEPTH {
            return;
        }
        let mut cursor = node.walk();
        let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
        for c in children {
            if c.kind() == "statement_list" {
                self.block(Some(c), ops, depth + 1);
            } else {
                self.lower_stmt(c, ops, depth + 1);
            }
        }
    }

    fn block_ops(&mut self, node: Option<Node<'_>>, depth: usize) -> Vec<Op> {
        let mut ops = Vec::new();
        self.block(node, &mut ops, depth);
        ops
    }

    fn lower_stmt(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match node.kind() {
            "expression_statement" => {
                let Some(e) = node.named_child(0) else { return };
                self.lower_expr(e, ops, depth + 1);
                if self.is_panic(e) {
                    self.end_path(ops);
                }
            }
            "short_var_declaration" | "assignment_statement" => self.lower_assign(node, ops, depth),
            "var_declaration" | "const_declaration" => self.lower_local_decl(node, ops, depth),
            "return_statement" => {
                if let Some(e) = node.named_child(0) {
                    self.lower_expr(e, ops, depth + 1);
                }
                self.end_path(ops);
            }
            "if_statement" => self.lower_if(node, ops, depth),
            "for_statement" => self.lower_for(node, ops, depth),
            "expression_switch_statement" | "type_switch_statement" => {
                self.lower_switch(node, ops, depth);
            }
            "select_statement" => self.lower_select(node, ops, depth),
            "block" | "statement_list" => self.block(Some(node), ops, depth),
            "defer_statement" => {
                if let Some(e) = node.named_child(0) {
                    self.collect_deferred(e, depth + 1);
                }
            }
            "labeled_statement" => {
                let mut cursor = node.walk();
                let inner: Vec<Node<'_>> = node
                    .named_children(&mut cursor)
                    .filter(|c| c.kind() != "label_name")
                    .collect();
                for c in inner {
                    self.lower_stmt(c, ops, depth + 1);
                }
            }
            "go_statement" | "inc_statement" | "dec_statement" | "send_statement" => {
                let mut cursor = node.walk();
                let inner: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
                for c in inner {
                    self.lower_expr(c, ops, depth + 1);
                }
            }
            _ => {}
        }
    }

    /// `return` / `panic`: the deferred commits and rollbacks run, then the path ends.
    fn end_path(&self, ops: &mut Vec<Op>) {
        ops.extend(self.deferred.iter().rev().cloned());
        ops.push(Op::Return);
    }

    fn is_panic(&self, e: Node<'_>) -> bool {
        e.kind() == "call_expression"
            && e.child_by_field_name("function").is_some_and(|f| {
                let t = self.text(f);
                t == "panic"
                    || t.starts_with("log.Fatal")
                    || t.starts_with("log.Panic")
                    || t == "os.Exit"
            })
    }

    fn lower_assign(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        let lefts = node
            .child_by_field_name("left")
            .map(Self::list_items)
            .unwrap_or_default();
        let rights = node
            .child_by_field_name("right")
            .map(Self::list_items)
            .unwrap_or_default();
        let op = self.field(node, "operator").unwrap_or(":=");
        // `a, b = b, a`: a pair swapped into order.
        if let ([l1, l2], [r1, r2]) = (lefts.as_slice(), rights.as_slice()) {
            let (a, b) = (self.text(*l1), self.text(*l2));
            if a == self.text(*r2) && b == self.text(*r1) && a != b {
                self.ordered.vals.insert(a.to_string());
                self.ordered.vals.insert(b.to_string());
                return;
            }
        }
        let mut vals = Vec::with_capacity(rights.len());
        for r in &rights {
            vals.push(self.lower_expr(*r, ops, depth + 1));
            if r.kind() == "call_expression"
                && let Some(f) = r.child_by_field_name("function")
            {
                let callee = self.text(f);
                let last = callee.rsplit('.').next().unwrap_or(callee);
                let is_min_max = callee == "min" || callee == "max";
                if (is_min_max && rights.len() == 2) || last.starts_with("Sorted") {
                    let name = lefts
                        .get(vals.len() - 1)
                        .map(|l| self.text(*l).to_string())
                        .unwrap_or_default();
                    if is_min_max {
                        self.ordered.vals.insert(name);
                    } else {
                        self.ordered.seqs.insert(name);
                    }
                }
            }
        }
        for (i, l) in lefts.iter().enumerate() {
            if l.kind() != "identifier" {
                continue;
            }
            let name = self.text(*l);
            if name == "_" {
                continue;
            }
            let val = if lefts.len() == rights.len() || i == 0 {
                vals.get(i).cloned().flatten()
            } else {
                None
            };
            let val = match (op, val) {
                ("+=", v) => match (self.vars.get(name), v) {
                    (Some(Val::Str(a)), Some(Val::Str(b))) => Val::Str(concat(a.clone(), b)),
                    (Some(Val::Str(a)), _) => Val::Str(concat(a.clone(), vec![Part::Hole])),
                    _ => Val::Unknown,
                },
                (_, Some(v)) => v,
                (_, None) => Val::Unknown,
            };
            self.vars.insert(name.to_string(), val);
        }
    }

    /// A local `var x T = v` / `const q = "…"`.
    fn lower_local_decl(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        for spec in Self::specs(node) {
            let mut nc = spec.walk();
            let names: Vec<&str> = spec
                .children_by_field_name("name", &mut nc)
                .map(|n| self.text(n))
                .collect();
            let values = spec
                .child_by_field_name("value")
                .map(Self::list_items)
                .unwrap_or_default();
            let declared = spec
                .child_by_field_name("type")
                .map(|t| self.val_of_type(t));
            let mut vals = Vec::new();
            for v in &values {
                vals.push(self.lower_expr(*v, ops, depth + 1));
            }
            for (i, n) in names.iter().enumerate() {
                let val = vals
                    .get(i)
                    .cloned()
                    .flatten()
                    .or_else(|| declared.clone())
                    .unwrap_or(Val::Unknown);
                self.vars.insert(n.to_string(), val);
            }
        }
    }

    fn lower_if(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        if let Some(init) = node.child_by_field_name("initializer") {
            self.lower_stmt(init, ops, depth + 1);
        }
        let cond = node.child_by_field_name("condition");
        if let Some(c) = cond {
            self.lower_expr(c, ops, depth + 1);
        }
        let consequence = node.child_by_field_name("consequence");
        let alternative = node.child_by_field_name("alternative");
        if alternative.is_none()
            && cond.is_some_and(|c| self.mentions_error(c, depth + 1))
            && consequence.is_some_and(|b| self.ends_path(b))
        {
            // The failure path of an error check: not replayed.
            return;
        }
        let mut arms = vec![self.block_ops(consequence, depth)];
        match alternative {
            Some(alt) if alt.kind() == "if_statement" => {
                let mut arm = Vec::new();
                self.lower_if(alt, &mut arm, depth + 1);
                arms.push(arm);
            }
            Some(alt) => arms.push(self.block_ops(Some(alt), depth)),
            None => arms.push(Vec::new()),
        }
        push_branch(ops, arms);
    }

    /// Whether an expression mentions an error variable (bounded walk).
    fn mentions_error(&self, n: Node<'_>, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        if n.kind() == "identifier" {
            return is_error_name(self.text(n));
        }
        let mut cursor = n.walk();
        let children: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
        children
            .into_iter()
            .any(|c| c.kind() != "func_literal" && self.mentions_error(c, depth + 1))
    }

    /// Whether a block (or case body) ends with `return`, `panic`, `continue` or `break`.
    fn ends_path(&self, block: Node<'_>) -> bool {
        let mut last = None;
        let mut node = block;
        for _ in 0..4 {
            let mut cursor = node.walk();
            let stmts: Vec<Node<'_>> = node
                .named_children(&mut cursor)
                .filter(|c| c.kind() != "comment")
                .collect();
            match stmts.last() {
                Some(s) if s.kind() == "statement_list" => node = *s,
                Some(s) => {
                    last = Some(*s);
                    break;
                }
                None => break,
            }
        }
        last.is_some_and(|s| match s.kind() {
            "return_statement" | "continue_statement" | "break_statement" => true,
            "expression_statement" => s.named_child(0).is_some_and(|e| self.is_panic(e)),
            _ => false,
        })
    }

    fn lower_for(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let mut body = Vec::new();
        let mut sorted = false;
        let mut cursor = node.walk();
        let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
        for c in &children {
            match c.kind() {
                "range_clause" => {
                    if let Some(right) = c.child_by_field_name("right") {
                        sorted = self.is_sorted_seq(right);
                        self.lower_expr(right, ops, depth + 1);
                    }
                    if let Some(left) = c.child_by_field_name("left") {
                        for l in Self::list_items(left) {
                            let name = self.text(l).to_string();
                            if sorted {
                                self.ordered.vals.insert(name.clone());
                            }
                            self.vars.insert(name, Val::Unknown);
                        }
                    }
                }
                "for_clause" => {
                    if let Some(init) = c.child_by_field_name("initializer") {
                        self.lower_stmt(init, ops, depth + 1);
                    }
                    if let Some(cond) = c.child_by_field_name("condition") {
                        self.lower_expr(cond, &mut body, depth + 1);
                    }
                }
                "block" | "comment" => {}
                _ => {
                    self.lower_expr(*c, &mut body, depth + 1);
                }
            }
        }
        self.ordered.loops += usize::from(sorted);
        self.block(node.child_by_field_name("body"), &mut body, depth);
        self.ordered.loops -= usize::from(sorted);
        if let Some(update) = children
            .iter()
            .find(|c| c.kind() == "for_clause")
            .and_then(|c| c.child_by_field_name("update"))
        {
            self.lower_stmt(update, &mut body, depth + 1);
        }
        if !body.is_empty() {
            ops.push(Op::Loop(body));
        }
    }

    /// `ids` sorted earlier, or `slices.Sorted(…)`.
    fn is_sorted_seq(&self, n: Node<'_>) -> bool {
        match n.kind() {
            "identifier" => self.ordered.seqs.contains(self.text(n)),
            "call_expression" => n.child_by_field_name("function").is_some_and(|f| {
                let t = self.text(f);
                t.rsplit('.').next().unwrap_or(t).starts_with("Sorted")
            }),
            _ => false,
        }
    }

    fn lower_switch(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        if let Some(init) = node.child_by_field_name("initializer") {
            self.lower_stmt(init, ops, depth + 1);
        }
        if let Some(v) = node.child_by_field_name("value") {
            self.lower_expr(v, ops, depth + 1);
        }
        let mut arms = Vec::new();
        let mut has_default = false;
        let mut cursor = node.walk();
        let cases: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
        for case in cases {
            match case.kind() {
                "expression_case" | "type_case" | "default_case" => {}
                _ => continue,
            }
            has_default |= case.kind() == "default_case";
            let value = case.child_by_field_name("value");
            if case.kind() == "expression_case"
                && value.is_some_and(|v| self.mentions_error(v, depth + 1))
                && self.ends_path(case)
            {
                continue;
            }
            let mut arm = Vec::new();
            if let Some(v) = value {
                self.lower_expr(v, &mut arm, depth + 1);
            }
            self.case_body(case, &mut arm, depth);
            arms.push(arm);
        }
        if !has_default {
            arms.push(Vec::new());
        }
        push_branch(ops, arms);
    }

    /// The statements of a `case`.
    fn case_body(&mut self, case: Node<'_>, arm: &mut Vec<Op>, depth: usize) {
        let mut cursor = case.walk();
        let lists: Vec<Node<'_>> = case
            .named_children(&mut cursor)
            .filter(|c| c.kind() == "statement_list")
            .collect();
        for l in lists {
            self.block(Some(l), arm, depth + 1);
        }
    }

    fn lower_select(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let mut arms = Vec::new();
        let mut cursor = node.walk();
        let cases: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
        for case in cases {
            if !matches!(case.kind(), "communication_case" | "default_case") {
                continue;
            }
            let mut arm = Vec::new();
            if let Some(c) = case.child_by_field_name("communication") {
                self.lower_stmt(c, &mut arm, depth + 1);
                if c.kind() == "receive_statement"
                    && let Some(r) = c.child_by_field_name("right")
                {
                    self.lower_expr(r, &mut arm, depth + 1);
                }
            }
            self.case_body(case, &mut arm, depth);
            arms.push(arm);
        }
        push_branch(ops, arms);
    }

    /// `defer …`: a `Commit`/`Rollback` in it runs at every later `return`.
    fn collect_deferred(&mut self, e: Node<'_>, depth: usize) {
        let mut found: Option<Op> = None;
        let mut stack = vec![(e, depth)];
        while let Some((n, d)) = stack.pop() {
            if d > MAX_DEPTH {
                continue;
            }
            if n.kind() == "call_expression"
                && let Some(f) = n.child_by_field_name("function")
                && f.kind() == "selector_expression"
            {
                match self.field(f, "field") {
                    Some("Commit") => found = Some(Op::Commit),
                    Some("Rollback") if found.is_none() => found = Some(Op::Rollback),
                    _ => {}
                }
            }
            let mut cursor = n.walk();
            stack.extend(n.named_children(&mut cursor).map(|c| (c, d + 1)));
        }
        if let Some(op) = found {
            self.deferred.push(op);
        }
    }

    // ----- expressions ------------------------------------------------------------------------

    /// Lowers the calls in an expression (in evaluation order) and says what its value is.
    fn lower_expr(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) -> Option<Val> {
        if depth > MAX_DEPTH {
            return None;
        }
        match node.kind() {
            "call_expression" => self.lower_call(node, ops, depth),
            "func_literal" => {
                self.lower_closure(node, ops, depth);
                None
            }
            "interpreted_string_literal" | "raw_string_literal" => {
                self.eval_str(node, depth).map(Val::Str)
            }
            // A package-level name may be a string constant (resolved when linking).
            "identifier" => {
                Some(self.vars.get(self.text(node)).cloned().unwrap_or_else(|| {
                    Val::Str(vec![Part::Ref(vec![self.text(node).to_string()])])
                }))
            }
            "parenthesized_expression" => self.lower_expr(node.named_child(0)?, ops, depth + 1),
            "unary_expression" => {
                let operand = node.child_by_field_name("operand")?;
                let v = self.lower_expr(operand, ops, depth + 1);
                (self.field(node, "operator") == Some("&"))
                    .then_some(v)
                    .flatten()
            }
            "binary_expression" => {
                for side in ["left", "right"] {
                    if let Some(s) = node.child_by_field_name(side) {
                        self.lower_expr(s, ops, depth + 1);
                    }
                }
                if self.field(node, "operator") == Some("+") {
                    return self.eval_str(node, depth).filter(has_lit).map(Val::Str);
                }
                None
            }
            "composite_literal" => {
                if let Some(b) = node.child_by_field_name("body") {
                    self.lower_expr(b, ops, depth + 1);
                }
                let t = node
                    .child_by_field_name("type")
                    .map_or(Val::Unknown, |t| self.val_of_type(t));
                Some(t)
            }
            _ => {
                let mut cursor = node.walk();
                let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
                for c in children {
                    self.lower_expr(c, ops, depth + 1);
                }
                None
            }
        }
    }

    /// The type a package-level value has: `&Repo{…}`, `NewRepo(…)`, `repo.NewRepo(…)`.
    fn value_type(&self, n: Node<'_>, depth: usize) -> Option<String> {
        if depth > MAX_DEPTH {
            return None;
        }
        match n.kind() {
            "unary_expression" => self.value_type(n.child_by_field_name("operand")?, depth + 1),
            "composite_literal" => self
                .type_name(n.child_by_field_name("type")?, 0)
                .filter(|t| !is_db_type(t)),
            "call_expression" => self.constructed(n.child_by_field_name("function")?),
            _ => None,
        }
    }

    /// The type a constructor call gives: a same-file function's declared result, or `NewX`
    /// → `X` (`pkg.NewX` → `pkg.X`).
    fn constructed(&self, callee: Node<'_>) -> Option<String> {
        let t = self.text(callee);
        if let Some(r) = self.results.get(t) {
            return Some(r.clone()).filter(|r| !is_db_type(r));
        }
        let (pkg, name) = match t.rsplit_once('.') {
            Some((p, n)) if self.ir.imports.contains_key(p) => (Some(p), n),
            Some(_) => return None,
            None => (None, t),
        };
        let ty = name.strip_prefix("New")?;
        if !ty.starts_with(|c: char| c.is_ascii_uppercase()) {
            return None;
        }
        let full = match pkg {
            Some(p) => format!("{p}.{ty}"),
            None => ty.to_string(),
        };
        (!is_db_type(&full)).then_some(full)
    }

    fn lower_call(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) -> Option<Val> {
        let func = node.child_by_field_name("function")?;
        let args: Vec<Node<'_>> = node
            .child_by_field_name("arguments")
            .map(|a| {
                let mut cursor = a.walk();
                a.named_children(&mut cursor)
                    .filter(|c| c.kind() != "comment")
                    .collect()
            })
            .unwrap_or_default();
        let ln = line(node);
        match func.kind() {
            "selector_expression" => {}
            "identifier" => {
                let name = self.text(func);
                self.lower_args(&args, ops, depth);
                if BUILTINS.contains(&name) || name == "panic" || self.vars.contains_key(name) {
                    return None;
                }
                let id = self.call(CallTarget::Path(vec![name.to_string()]), ln);
                ops.push(Op::Call(id));
                return self.constructed(func).map(Val::Type);
            }
            "func_literal" => {
                self.lower_args(&args, ops, depth);
                self.lower_closure(func, ops, depth);
                return None;
            }
            _ => {
                self.lower_expr(func, ops, depth + 1);
                self.lower_args(&args, ops, depth);
                return None;
            }
        }
        let operand = func.child_by_field_name("operand")?;
        let name = self.field(func, "field")?;
        self.lower_operand(operand, ops, depth + 1);
        let callee = self.text(func);
        if SORT_FUNCS.contains(&callee)
            && let Some(a) = args.first()
        {
            let seq = self.sorted_arg(*a);
            self.ordered.seqs.insert(seq);
        }
        if callee == "fmt.Sprintf" {
            self.lower_args(&args, ops, depth);
            return self.eval_str(node, depth).map(Val::Str);
        }
        // A transaction helper given the transaction's body as a function literal.
        if is_tx_helper(name)
            && let Some(lit) = args.iter().find(|a| a.kind() == "func_literal")
        {
            let others: Vec<Node<'_>> = args.iter().filter(|a| *a != lit).copied().collect();
            self.lower_args(&others, ops, depth);
            let mut body = Vec::new();
            self.lower_closure(*lit, &mut body, depth);
            ops.push(Op::Scope { line: ln, body });
            return None;
        }
        let recv = self.recv_kind(operand, name);
        let loose = matches!(recv, Recv::Db | Recv::Unknown(_));
        if loose && BEGIN_METHODS.contains(&name) && args.len() <= 2 {
            self.lower_args(&args, ops, depth);
            ops.push(Op::Begin(ln));
            return Some(Val::Db);
        }
        if loose && matches!(name, "Commit" | "Rollback") && args.len() <= 1 {
            self.lower_args(&args, ops, depth);
            ops.push(if name == "Commit" {
                Op::Commit
            } else {
                Op::Rollback
            });
            return None;
        }
        if loose && PREPARE_METHODS.contains(&name) {
            let (_, sql) = self.sql_arg(&args, 0)?;
            return Some(Val::Prepared(sql));
        }
        match recv {
            Recv::Prepared(ref sql) if EXEC_METHODS.contains(&name) => {
                let sql = sql.clone();
                let start = usize::from(args.first().is_some_and(|a| self.is_ctx(*a)));
                self.lower_args(&args, ops, depth);
                let rest = args.get(start..).unwrap_or(&[]);
                let a = self.args_of(rest, &sql);
                self.raw_site(ln, sql, a, ops);
                return None;
            }
            Recv::Db | Recv::Unknown(_)
                if EXEC_METHODS.contains(&name) || SCAN_METHODS.contains(&name) =>
            {
                let skip = usize::from(SCAN_METHODS.contains(&name));
                if let Some((i, sql)) = self.sql_arg(&args, skip) {
                    self.lower_args(&args, ops, depth);
                    let rest = args.get(i + 1..).unwrap_or(&[]);
                    let a = self.args_of(rest, &sql);
                    self.raw_site(ln, sql, a, ops);
                    return None;
                }
            }
            Recv::Pkg(ref p)
                if SCAN_PACKAGES.contains(&p.as_str()) && SCAN_METHODS.contains(&name) =>
            {
                if let Some((i, sql)) = self.sql_arg(&args, 2) {
                    self.lower_args(&args, ops, depth);
                    let rest = args.get(i + 1..).unwrap_or(&[]);
                    let a = self.args_of(rest, &sql);
                    self.raw_site(ln, sql, a, ops);
                    return None;
                }
            }
            _ => {}
        }
        self.lower_args(&args, ops, depth);
        let target = match recv {
            Recv::User(t) | Recv::Unknown(t) => t,
            Recv::Pkg(p) => CallTarget::Path(vec![p, name.to_string()]),
            Recv::Db | Recv::Prepared(_) => return None,
        };
        let id = self.call(target, ln);
        ops.push(Op::Call(id));
        self.constructed(func).map(Val::Type)
    }

    /// The name a sort call sorts (`ids` in `sort.Ints(ids)`, `sort.Sort(byID(ids))`).
    fn sorted_arg(&self, a: Node<'_>) -> String {
        let inner = if a.kind() == "call_expression" {
            a.child_by_field_name("arguments")
                .and_then(|l| l.named_child(0))
                .unwrap_or(a)
        } else {
            a
        };
        self.text(inner).to_string()
    }

    /// Lowers the calls inside a method call's receiver (`tx.QueryRow(…)` of
    /// `tx.QueryRow(…).Scan(…)`).
    fn lower_operand(&mut self, n: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match n.kind() {
            "identifier" => {}
            "selector_expression" => {
                if let Some(o) = n.child_by_field_name("operand") {
                    self.lower_operand(o, ops, depth + 1);
                }
            }
            _ => {
                self.lower_expr(n, ops, depth);
            }
        }
    }

    fn lower_args(&mut self, args: &[Node<'_>], ops: &mut Vec<Op>, depth: usize) {
        for a in args {
            self.lower_expr(*a, ops, depth + 1);
        }
    }

    /// What the receiver of `operand.name(…)` is.
    fn recv_kind(&self, operand: Node<'_>, name: &str) -> Recv {
        let m = name.to_string();
        let unknown = || Recv::Unknown(CallTarget::Path(vec!["?".into(), m.clone()]));
        match operand.kind() {
            "identifier" => {
                let x = self.text(operand);
                if self.recv.as_deref() == Some(x) {
                    return Recv::User(CallTarget::SelfMethod(m));
                }
                match self.vars.get(x) {
                    Some(Val::Type(t)) => Recv::User(CallTarget::ClassMethod(t.clone(), m)),
                    Some(Val::Db) => Recv::Db,
                    Some(Val::Prepared(sql)) => Recv::Prepared(sql.clone()),
                    Some(_) => unknown(),
                    None if self.ir.imports.contains_key(x) => Recv::Pkg(x.to_string()),
                    None => Recv::Unknown(CallTarget::Path(vec![x.to_string(), m])),
                }
            }
            "selector_expression" => {
                let (Some(inner), Some(f)) = (
                    operand.child_by_field_name("operand"),
                    self.field(operand, "field"),
                ) else {
                    return unknown();
                };
                let x = self.text(inner);
                if inner.kind() == "identifier" && self.recv.as_deref() == Some(x) {
                    let class = self
                        .class
                        .and_then(|c| self.ir.classes.get(c as usize))
                        .map(|c| c.name.as_str());
                    let ty = class
                        .and_then(|c| self.structs.get(c))
                        .and_then(|s| s.get(f));
                    return match ty {
                        Some(t) if is_db_type(t) => Recv::Db,
                        Some(t) if self.interfaces.contains(t) => unknown(),
                        Some(t) => Recv::User(CallTarget::ClassMethod(t.clone(), m)),
                        None => Recv::Unknown(CallTarget::SelfAttr(f.to_string(), m)),
                    };
                }
                if inner.kind() == "identifier"
                    && !self.vars.contains_key(x)
                    && self.ir.imports.contains_key(x)
                {
                    return Recv::Unknown(CallTarget::Path(vec![x.to_string(), f.to_string(), m]));
                }
                unknown()
            }
            _ => unknown(),
        }
    }

    /// Whether an argument is a context (`ctx`, `r.Context()`, `context.Background()`).
    fn is_ctx(&self, a: Node<'_>) -> bool {
        match a.kind() {
            "identifier" => {
                let t = self.text(a);
                t == "ctx" || t.ends_with("Ctx") || t.ends_with("ctx")
            }
            "call_expression" => a.child_by_field_name("function").is_some_and(|f| {
                let t = self.text(f);
                t.starts_with("context.") || t.ends_with(".Context")
            }),
            _ => false,
        }
    }

    /// The SQL argument of a call (after a leading `ctx` and `skip` more), with its index.
    fn sql_arg(&self, args: &[Node<'_>], skip: usize) -> Option<(usize, SqlExpr)> {
        let start = usize::from(args.first().is_some_and(|a| self.is_ctx(*a))) + skip;
        let a = *args.get(start)?;
        let e = self.eval_str(a, 0)?;
        e.iter()
            .any(|p| matches!(p, Part::Lit(_) | Part::Ref(_)))
            .then_some((start, e))
    }

    /// The parameters a call passes after its SQL: positional (`$n`) and sequence (`?`) alike,
    /// or named (`:name`) for a single struct or map argument of a statement using names.
    fn args_of(&self, rest: &[Node<'_>], sql: &SqlExpr) -> Option<Args> {
        if rest.iter().any(|a| a.kind() == "variadic_argument") {
            return None;
        }
        let names = named_placeholders(sql);
        if let ([one], false) = (rest, names.is_empty()) {
            let named: Vec<(String, Arg)> = if one.kind() == "composite_literal" {
                self.map_items(*one)
            } else if one.kind() == "identifier" || one.kind() == "selector_expression" {
                let base = self.text(*one);
                names
                    .iter()
                    .map(|n| (n.clone(), Arg::Expr(format!("{base}.{}", go_field(n)))))
                    .collect()
            } else {
                Vec::new()
            };
            return Some(Args {
                named: Some(named),
                ..Args::default()
            });
        }
        let items: Vec<Arg> = rest.iter().map(|a| self.arg_of(*a)).collect();
        Some(Args {
            positional: Some(items.clone()),
            seq: Some(items),
            named: None,
        })
    }

    /// `"name": value` items of a map literal, or `Name: value` of a struct literal (as
    /// `snake_case`: `TeamID` binds `:team_id`).
    fn map_items(&self, lit: Node<'_>) -> Vec<(String, Arg)> {
        let Some(body) = lit.child_by_field_name("body") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut cursor = body.walk();
        for kv in body
            .named_children(&mut cursor)
            .filter(|c| c.kind() == "keyed_element")
        {
            let (Some(k), Some(v)) = (kv.named_child(0), kv.named_child(1)) else {
                continue;
            };
            let written = self.text(k);
            let key = if written.starts_with(['"', '`']) {
                written.trim_matches(|c| c == '"' || c == '`').to_string()
            } else {
                snake(written)
            };
            let v = if v.kind() == "literal_element" {
                v.named_child(0).unwrap_or(v)
            } else {
                v
            };
            out.push((key, self.arg_of(v)));
        }
        out
    }

    /// One argument: a literal as SQL text, else the expression's text.
    fn arg_of(&self, a: Node<'_>) -> Arg {
        let t = self.text(a);
        match a.kind() {
            "int_literal" | "float_literal" => Arg::Lit(t.to_string()),
            "interpreted_string_literal" | "raw_string_literal" => {
                let s = self
                    .eval_str(a, 0)
                    .map(|e| lit_text(&e))
                    .unwrap_or_default();
                Arg::Lit(format!("'{}'", s.replace('\'', "''")))
            }
            "true" => Arg::Lit("TRUE".into()),
            "false" => Arg::Lit("FALSE".into()),
            "nil" => Arg::Lit("NULL".into()),
            "literal_element" => a
                .named_child(0)
                .map_or(Arg::Expr(t.into()), |c| self.arg_of(c)),
            _ => Arg::Expr(t.split_whitespace().collect::<String>()),
        }
    }

    /// SQL text an expression builds, when it builds text: literals, constants (references
    /// resolved when linking), local string variables, `+`, `fmt.Sprintf`.
    fn eval_str(&self, n: Node<'_>, depth: usize) -> Option<SqlExpr> {
        if depth > MAX_DEPTH {
            return None;
        }
        match n.kind() {
            "interpreted_string_literal" => {
                let t = self.text(n);
                let inner = t.get(1..t.len().saturating_sub(1)).unwrap_or("");
                Some(vec![Part::Lit(unescape(inner))])
            }
            "raw_string_literal" => {
                let t = self.text(n);
                let inner = t.get(1..t.len().saturating_sub(1)).unwrap_or("");
                Some(vec![Part::Lit(inner.replace('\r', ""))])
            }
            "parenthesized_expression" => self.eval_str(n.named_child(0)?, depth + 1),
            "binary_expression" if self.field(n, "operator") == Some("+") => {
                let l = n
                    .child_by_field_name("left")
                    .and_then(|l| self.eval_str(l, depth + 1));
                let r = n
                    .child_by_field_name("right")
                    .and_then(|r| self.eval_str(r, depth + 1));
                if l.is_none() && r.is_none() {
                    return None;
                }
                Some(concat(
                    l.unwrap_or_else(|| vec![Part::Hole]),
                    r.unwrap_or_else(|| vec![Part::Hole]),
                ))
            }
            "identifier" => match self.vars.get(self.text(n)) {
                Some(Val::Str(e)) => Some(e.clone()),
                Some(_) => None,
                None => Some(vec![Part::Ref(vec![self.text(n).to_string()])]),
            },
            "selector_expression" => {
                let op = n.child_by_field_name("operand")?;
                let f = self.field(n, "field")?;
                let x = self.text(op);
                (op.kind() == "identifier" && !self.vars.contains_key(x))
                    .then(|| vec![Part::Ref(vec![x.to_string(), f.to_string()])])
            }
            "call_expression" => {
                let f = n.child_by_field_name("function")?;
                if self.text(f) != "fmt.Sprintf" {
                    return None;
                }
                let fmt = n.child_by_field_name("arguments")?.named_child(0)?;
                self.eval_str(fmt, depth + 1).map(percent_format)
            }
            _ => None,
        }
    }

    /// A function literal: a nested function of the current one, called where it is written.
    fn lower_closure(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        self.closures += 1;
        let parent = self.cur;
        let display = format!(
            "{}.func{}",
            self.ir
                .funcs
                .get(parent as usize)
                .map_or("", |f| f.display.as_str()),
            self.closures
        );
        let idx = self.ir.funcs.len() as u32;
        self.ir.funcs.push(FuncIr {
            name: display.clone(),
            class: self.class,
            parent: Some(parent),
            display: display.clone(),
            line: line(node),
            body: Vec::new(),
            autobegin: false,
            is_module: false,
        });
        if let Some(c) = self.class.and_then(|c| self.ir.classes.get_mut(c as usize)) {
            c.methods.insert(display.clone(), idx);
        }
        let saved_vars = self.vars.clone();
        let saved_deferred = std::mem::take(&mut self.deferred);
        self.cur = idx;
        if let Some(params) = node.child_by_field_name("parameters") {
            self.bind_params(params);
        }
        let mut body = Vec::new();
        self.block(node.child_by_field_name("body"), &mut body, depth + 1);
        body.extend(self.deferred.iter().rev().cloned());
        if let Some(f) = self.ir.funcs.get_mut(idx as usize) {
            f.body = body;
        }
        self.cur = parent;
        self.vars = saved_vars;
        self.deferred = saved_deferred;
        let target = if self.class.is_some() {
            CallTarget::SelfMethod(display)
        } else {
            CallTarget::Path(vec![display])
        };
        let id = self.call(target, line(node));
        ops.push(Op::Call(id));
    }

    // ----- IR ---------------------------------------------------------------------------------

    fn call(&mut self, target: CallTarget, line: u32) -> u32 {
        common::push_call(&mut self.ir, self.cur, target, line)
    }

    fn raw_site(&mut self, line: u32, sql: SqlExpr, args: Option<Args>, ops: &mut Vec<Op>) {
        let body = SiteBody::Raw(sql);
        let ordered = self.ordered.site(&body, args.as_ref(), &[]);
        let site = SiteIr {
            line,
            func: self.cur,
            many: false,
            body,
            args,
            ordered,
        };
        ops.push(Op::Sql(common::push_site(&mut self.ir, site)));
    }
}

/// Whether an expression has literal text.
fn has_lit(e: &SqlExpr) -> bool {
    e.iter().any(|p| matches!(p, Part::Lit(_)))
}

/// The literal text of an expression (holes and references dropped).
fn lit_text(e: &SqlExpr) -> String {
    e.iter()
        .filter_map(|p| match p {
            Part::Lit(s) => Some(s.as_str()),
            _ => None,
        })
        .collect()
}

/// The `:name` placeholders of the literal text (outside quotes; `::` casts skipped).
fn named_placeholders(e: &SqlExpr) -> Vec<String> {
    let text = lit_text(e);
    let mut out: Vec<String> = Vec::new();
    let mut quoted = false;
    let mut prev = ' ';
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
        } else if !quoted && c == '-' && chars.peek() == Some(&'-') {
            // A `--` comment (sqlc's `-- name: X :exec` header) runs to the end of the line.
            for d in chars.by_ref() {
                if d == '\n' {
                    break;
                }
            }
            prev = '\n';
            continue;
        } else if !quoted && c == ':' {
            if chars.peek() == Some(&':') {
                chars.next();
                prev = ':';
                continue;
            }
            if !(prev.is_alphanumeric() || prev == '_') {
                let mut name = String::new();
                while let Some(&d) = chars.peek() {
                    if d.is_alphanumeric() || d == '_' {
                        name.push(d);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if name.starts_with(|d: char| d.is_alphabetic() || d == '_') && !out.contains(&name)
                {
                    out.push(name);
                }
                prev = 'x';
                continue;
            }
        }
        prev = c;
    }
    out
}

/// The Go field a sqlx `:name` binds by convention: `team_id` → `TeamID`, `name` → `Name`.
fn go_field(name: &str) -> String {
    const INITIALISMS: &[&str] = &[
        "id", "url", "uuid", "uid", "api", "http", "sql", "json", "ip",
    ];
    name.split('_')
        .map(|part| {
            if INITIALISMS.contains(&part) {
                part.to_ascii_uppercase()
            } else {
                let mut c = part.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            }
        })
        .collect()
}

/// A Go field name as a column name: `TeamID` → `team_id`, `Name` → `name`.
fn snake(field: &str) -> String {
    let chars: Vec<char> = field.chars().collect();
    let mut out = String::with_capacity(field.len() + 4);
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase()
            && let Some(&prev) = i.checked_sub(1).and_then(|j| chars.get(j))
        {
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
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
    fn import_paths_map_to_directory_modules() {
        let t = |p: &str| import_target(p, "internal.service");
        assert_eq!(t("example.com/shop/internal/repo"), "internal.repo");
        assert_eq!(t("github.com/acme/wallet/v2/store"), "store");
        assert_eq!(t("github.com/jackc/pgx/v5"), "pgx");
        assert_eq!(t("database/sql"), "database.sql");
        assert_eq!(t("shop/internal/repo"), "internal.repo");
        // Anchored at the importer's module root.
        let a = |p: &str, m: &str| import_target(p, m);
        assert_eq!(
            a("example.com/a/internal/repo", "svc.a.internal.service"),
            "svc.a.internal.repo"
        );
        assert_eq!(
            a("example.com/a/pkg/repo", "svc.a.cmd.server"),
            "svc.a.pkg.repo"
        );
        assert_eq!(a("example.com/a/api", "svc.a.cmd.server"), "api");
        assert_eq!(import_local_name("github.com/jackc/pgx/v5"), Some("pgx"));
        assert_eq!(
            import_local_name("example.com/shop/internal/repo"),
            Some("repo")
        );
    }

    #[test]
    fn named_placeholders_skip_casts_and_quotes() {
        let e = vec![Part::Lit(
            "-- name: Set :exec\nUPDATE a SET v = :v::int, s = ':no' WHERE id = :id OR p = :v"
                .into(),
        )];
        assert_eq!(named_placeholders(&e), ["v", "id"]);
        assert_eq!(go_field("team_id"), "TeamID");
        assert_eq!(go_field("owner_name"), "OwnerName");
        assert_eq!(snake("TeamID"), "team_id");
        assert_eq!(snake("HTTPServer"), "http_server");
        assert_eq!(snake("ID"), "id");
    }

    #[test]
    fn helpers_and_errors() {
        assert!(is_tx_helper("WithTx"));
        assert!(is_tx_helper("execTx"));
        assert!(is_tx_helper("RunInTransaction"));
        assert!(is_tx_helper("BeginFunc"));
        assert!(is_tx_helper("BeginTxFunc"));
        assert!(!is_tx_helper("withCtx"));
        assert!(is_error_name("err") && is_error_name("txErr") && !is_error_name("ErrNoRows"));
        assert_eq!(unescape(r#"a\tb\"c\\"#), "a\tb\"c\\");
    }
}
