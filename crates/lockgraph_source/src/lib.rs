//! lockgraph's application-source front-end: application code → the [`Transaction`]s it runs,
//! with every lock pointing at the source line that takes it, followed across files. Python,
//! Go, Java, Kotlin, JavaScript, TypeScript, Ruby and Rust are read ([`Lang`]).
//!
//! - [`SourceFile`]s (display path + text) go in; [`is_source`] says which paths to read and
//!   [`Lang::of`] in which language.
//! - [`parse_files`] (per file, independent — parallelisable) parses each file with its
//!   language's tree-sitter grammar and lowers it (`lower` for Python, `lang::*` for the
//!   others) to a [`ParsedFile`] holding the same language-neutral IR: functions as trees of
//!   database operations (SQL sites, calls, transaction scopes, branches, loops), classes,
//!   imports, string constants, ORM models. Files with syntax errors are skipped with a warning.
//! - [`model_schema`] reads the ORM models (Django, SQLAlchemy) as a [`Schema`]; the caller
//!   merges it with the schema of the SQL migrations.
//! - [`extract_parsed`] links the files (module/function/method index, call resolution), turns
//!   every SQL site into a [`Statement`] (raw SQL with placeholders normalised to `$n`, or SQL
//!   synthesised from the ORM call) run through `lockgraph_sql`'s inference, and replays each
//!   root function — inlining calls — into [`Transaction`]s. [`extract`] is both steps.
//! - The [`Extraction`] holds the transactions, diagnostics (unparseable/unmodelled SQL,
//!   [`DiagnosticKind::DynamicRelation`](lockgraph_core::DiagnosticKind::DynamicRelation)),
//!   statements, [`Suppression`] comments and warnings.
//!
//! ```
//! use lockgraph_core::{Schema, TransactionKind};
//! use lockgraph_source::{extract, SourceFile, SourceOptions};
//!
//! let repo = SourceFile { name: "app/repo.py".into(), text: "\
//! async def debit(conn, id):
//!     await conn.execute(\"UPDATE accounts SET balance = balance - 1 WHERE id = $1\", id)
//! ".into() };
//! let service = SourceFile { name: "app/service.py".into(), text: "\
//! from app import repo
//!
//! async def pay(pool, id):
//!     async with pool.acquire() as conn:
//!         async with conn.transaction():
//!             await repo.debit(conn, id)
//! ".into() };
//! let out = extract(&[repo, service], &Schema::default(), &SourceOptions::default());
//! assert_eq!(out.transactions.len(), 1);
//! let tx = &out.transactions[0];
//! assert_eq!((&*tx.name, tx.kind), ("service.pay (app/service.py:5)", TransactionKind::Explicit));
//! // The lock points at the SQL in repo.py, not at the call in service.py.
//! assert_eq!(tx.locks[1].statement.location.to_string(), "app/repo.py:2");
//! assert_eq!(tx.locks[1].target.to_string(), "accounts rows (id = $1)");
//! ```
//!
//! # Design notes
//!
//! The notes below are written for Python; every language follows them with its own forms
//! (the `//!` docs of each `lang::<language>` module and `docs/languages/<language>.md` say which):
//! Go `BeginTx`/`Commit` and `pgx.BeginFunc`, Java/Kotlin `setAutoCommit(false)` and Spring
//! `@Transactional`, JS/TS `BEGIN` strings, `knex.transaction`, Prisma `$transaction` and
//! Sequelize, Ruby `transaction do`/`with_lock`, Rust sqlx `begin()`, tokio-postgres
//! `transaction()` and diesel `transaction(|c| …)`. Packages that span files (Go, Java, Kotlin)
//! are one module per directory; an interface call goes to its single implementing class.
//!
//! - **Loose receivers.** Python types are unknown, so any `x.execute(sql, …)` whose first
//!   argument builds SQL text is SQL; `X.objects.…` is a Django queryset; `select(X)…`,
//!   `session.query(X)…`, `session.get(X, …)` are SQLAlchemy. SQL built with f-strings, `%`,
//!   `.format()` or `+` keeps its static parts; holes become parameters, or a `DynamicRelation`
//!   diagnostic (and no statement) when a hole is where a table name goes.
//! - **Transactions.** Scopes are `with transaction.atomic()` / `@transaction.atomic`,
//!   `(async) with conn.transaction()`, `with engine.begin()` / `session.begin()`, psycopg2's
//!   `with conn:`; `BEGIN`/`COMMIT`/`ROLLBACK` strings and `commit()` / `rollback()` calls end
//!   and start them. A scope inside an open transaction is a savepoint and adds nothing.
//!   Outside any scope a statement is its own autocommit transaction — except when a function on
//!   the call stack calls `commit()`/`rollback()` itself (psycopg2, SQLAlchemy sessions): then
//!   its statements are one implicit transaction up to the `commit()` (named after that
//!   function, starting at the first statement).
//! - **Roots.** Only *root* functions are replayed: functions no scanned function calls (entry
//!   points: handlers, tasks, module code) plus functions no entry point reaches (call cycles).
//!   A helper taking a `conn` is replayed inside its callers, so its SQL appears where it
//!   really runs, once per calling transaction — never as a stray autocommit of its own.
//! - **Paths.** `if`/`elif`/`else`, `try`/`except`, `match` fork the replay; identical paths
//!   merge; at most [`SourceOptions::max_paths`] are kept. A place with several distinct lock
//!   sequences yields one transaction per sequence, named `… path i/n`. A loop body is replayed
//!   once with its locks marked `repeated`. `return`/`raise` end a path (an exception is
//!   modelled like a return). Calls are inlined up to [`SourceOptions::max_call_depth`];
//!   recursion is cut off.
//! - **Parameters.** Placeholders become `$n`, numbered program-wide by the Python expression
//!   passed for them wherever the call shows its arguments (asyncpg `execute(sql, a, b)`,
//!   psycopg/Django `execute(sql, (a, b))` and `{"name": a}`, SQLAlchemy `text()` with a dict or
//!   `.bindparams(name=a)`), sharing the numbers of the ORM statements' filters: `id = src` and
//!   `id = dst` are different rows, the same variable (or a helper's parameter of the same
//!   name — calls carry no data flow) is the same row. A literal argument is
//!   written into the text. Arguments not visible (a variable holding a tuple, `executemany`)
//!   keep per-statement numbering.
//! - **Key order.** Row locks taken in a loop over sorted keys (`for k in sorted(…)`, a list
//!   sorted earlier with `sorted()` / `.sort()`, an `order_by` queryset) or keyed on a sorted pair
//!   (`first, second = sorted([a, b])`, `min(a, b), max(a, b)`) have
//!   [`KeyPredicate::ordered`](lockgraph_core::KeyPredicate::ordered) set. Lexical only: a
//!   helper called from such a loop is not marked.
//! - **ORM unit of work.** SQLAlchemy `session.add(obj)` / `session.delete(obj)` / attribute
//!   assignments on loaded objects are queued and run at `flush()`, `commit()`, the end of a
//!   `session.begin()` scope, or before the next statement (autoflush).
//! - **Bounded.** Syntax nesting deeper than 150 is skipped, chains longer than 64 links are not
//!   read, and one root replays at most 200,000 operations (a warning says when it was cut).
#![warn(missing_docs)]

/// Which engine a file and a transaction talk to.
pub mod engine;
/// Interpreter: operation trees → transactions.
mod interp;
/// Per-file intermediate form.
mod ir;
/// The languages read, and the lowering of each but Python.
mod lang;
/// Cross-file index, call resolution and statement sites.
mod link;
/// Lowering of Python syntax trees to the IR.
mod lower;
/// ORM models: table names, keys, schema.
mod model;
/// ORM statements and the SQL they stand for.
mod orm;
/// The per-file parse step.
mod parse;
/// SQL text built by Python expressions.
mod sqltext;
/// Suppression comments.
mod suppress;

pub use engine::{EngineSet, assign_engines, engines_named, engines_named_sql};
pub use lang::Lang;
pub use lockgraph_core::Suppression;
pub use lockgraph_core::{Diagnostic, Schema, Statement, Transaction};
pub use parse::{ParsedFile, parse_file, parse_files};

use std::path::Path;
use std::sync::Arc;

/// One source file: a display path (`/`-separated, also used for module names) and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// Display path, `/`-separated (`app/orders/service.py`).
    pub name: String,
    /// The file's text.
    pub text: String,
}

/// Bounds on the replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceOptions {
    /// How deep calls are inlined (default 8).
    pub max_call_depth: usize,
    /// Alternative paths kept per transaction (default 16).
    pub max_paths: usize,
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions {
            max_call_depth: 8,
            max_paths: 16,
        }
    }
}

/// What [`extract`] found.
#[derive(Clone, Debug, Default)]
pub struct Extraction {
    /// Transactions, sorted by location.
    pub transactions: Vec<Transaction>,
    /// Problems with the SQL found: unparseable or unmodelled statements, dynamic relations.
    pub diagnostics: Vec<Diagnostic>,
    /// Every statement found (one per place in the code), in file and line order.
    pub statements: Vec<Arc<Statement>>,
    /// `# lockgraph: ignore[…]` comments.
    pub suppressions: Vec<Suppression>,
    /// Files skipped and replays cut short, as `path:line: message`.
    pub warnings: Vec<String>,
}

/// Whether `path` is a Python source file (`*.py`; stubs `*.pyi` are not).
pub fn is_python(path: &Path) -> bool {
    Lang::of(path) == Some(Lang::Python)
}

/// Whether `path` is a source file of any language read ([`Lang::of`]).
pub fn is_source(path: &Path) -> bool {
    Lang::of(path).is_some()
}

/// The tables, keys and foreign keys the ORM models of `files` declare.
pub fn model_schema(files: &[SourceFile]) -> Schema {
    model_schema_parsed(&parse_files(files))
}

/// [`model_schema`] over already parsed files.
pub fn model_schema_parsed(parsed: &[ParsedFile]) -> Schema {
    model_index(parsed).schema()
}

fn model_index(parsed: &[ParsedFile]) -> model::ModelIndex {
    let decls: Vec<(&str, &ir::ModelDecl)> = parsed
        .iter()
        .filter_map(|p| p.ir.as_ref().map(|ir| (&*p.name, ir)))
        .flat_map(|(name, ir)| ir.models.iter().map(move |m| (name, m)))
        .collect();
    model::ModelIndex::build(&decls)
}

/// Parses `files` and extracts their transactions (see the crate docs).
pub fn extract(files: &[SourceFile], schema: &Schema, opts: &SourceOptions) -> Extraction {
    extract_parsed(&parse_files(files), schema, opts)
}

/// Links already parsed files and extracts their transactions.
pub fn extract_parsed(parsed: &[ParsedFile], schema: &Schema, opts: &SourceOptions) -> Extraction {
    let models = model_index(parsed);
    let mut prog = link::Program::new(parsed);
    let mut diagnostics = prog.build_sites(schema, &models);
    prog.compute_roots();
    let mut interp = interp::Interp::new(&prog, opts);
    for root in prog.roots.clone() {
        interp.run_root(root);
    }
    let mut warnings: Vec<String> = parsed.iter().filter_map(|p| p.warning.clone()).collect();
    for root in &interp.truncated {
        if let (Some(f), Some((file, _))) = (prog.func(*root), prog.funcs.get(*root as usize)) {
            let path = prog.files.get(*file as usize).map_or("", |p| &*p.name);
            warnings.push(format!(
                "{path}:{}: `{}` has too many paths to replay in full; the rest was cut off",
                f.line, f.display
            ));
        }
    }
    let transactions = interp.finish();
    diagnostics.sort_by(|a, b| a.location.cmp(&b.location));
    Extraction {
        transactions,
        diagnostics,
        statements: prog.statements(),
        suppressions: parsed
            .iter()
            .flat_map(|p| p.suppressions.iter().cloned())
            .collect(),
        warnings,
    }
}
