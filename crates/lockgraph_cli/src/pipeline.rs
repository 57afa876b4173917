//! Files → [`Loaded`]: the schema (pass 1: every SQL file's DDL, then the ORM models of the
//! source files for tables the DDL does not define), then the transactions and statements of each
//! SQL file and of the application code as a whole, all languages together (pass 2; calls are
//! followed across files). Unreadable files are recorded and skipped; invalid UTF-8 is replaced
//! with a warning naming the line, and the file is still analysed; a source file with syntax
//! errors is skipped with a warning.

use crate::config::{PathFilter, PathGlobs};
use crate::discover::{FileKind, Filter, InputFile, discover, in_migrations_dir};
use lockgraph_core::{
    Diagnostic, DiagnosticKind, Engine, Schema, Statement, Suppression, Transaction,
};
use lockgraph_report::Sources;
use lockgraph_source::{EngineSet, Lang, SourceFile, SourceOptions};
use lockgraph_sql::SqlFileOptions;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Source files larger than this are skipped with a warning: generated code (protobuf, vendored
/// bundles) holds no transactions worth the parse.
pub const MAX_SOURCE_BYTES: u64 = 8 << 20;

/// How files map to transactions, and which files are read.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Every file under these paths is one transaction.
    pub file_transaction: Vec<PathBuf>,
    /// Files under a `migrations` directory are one transaction each, in the `migrations` group.
    pub migration_transactions: bool,
    /// `--include`/`--exclude` globs for the files found by walking directories.
    pub filter: Filter,
    /// Bounds on following calls in application code.
    pub source: SourceOptions,
    /// `include`/`exclude` of a configuration file, applied to walked files on top of `filter`
    /// (files named on the command line are always read).
    pub config_filter: PathFilter,
    /// Transaction groups (`[[groups]]` of a configuration file): the first group whose globs
    /// match a file decides the group of its transactions, before the `migrations` default.
    pub groups: Vec<GroupSpec>,
    /// SQL files (or directories of them) read only for their DDL — keys and foreign keys — and
    /// not checked.
    pub schema: Vec<PathBuf>,
    /// Per-path engines (`[[engines]]`): the first whose globs match a transaction's file decides
    /// its engine, before what its drivers say.
    pub engines: Vec<EngineSpec>,
    /// The engine of transactions whose files name none (`--engine`, `engine`).
    pub engine: Option<Engine>,
}

/// A configured engine for some paths.
#[derive(Debug, Clone)]
pub struct EngineSpec {
    /// Which files.
    pub paths: PathGlobs,
    /// Their engine.
    pub engine: Engine,
}

/// A transaction group: transactions from matching files never run concurrently with each other.
#[derive(Debug, Clone)]
pub struct GroupSpec {
    /// The group's name ([`Transaction::group`]).
    pub name: Arc<str>,
    /// Which files' transactions belong to it.
    pub paths: PathGlobs,
    /// `true` declares that these transactions *may* run concurrently with each other: they get
    /// no group (not even `migrations`).
    pub concurrent: bool,
}

impl GroupSpec {
    /// The group for transactions of the file at `path` shown as `name`: `Some(Some(g))` for a
    /// serialized group, `Some(None)` for a group declared concurrent, `None` when no spec
    /// matches.
    pub fn group_of(specs: &[GroupSpec], path: &Path, name: &str) -> Option<Option<Arc<str>>> {
        specs
            .iter()
            .find(|g| g.paths.matches(path, name))
            .map(|g| (!g.concurrent).then(|| g.name.clone()))
    }
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            file_transaction: Vec::new(),
            migration_transactions: true,
            filter: Filter::default(),
            source: SourceOptions::default(),
            config_filter: PathFilter::default(),
            groups: Vec::new(),
            schema: Vec::new(),
            engines: Vec::new(),
            engine: None,
        }
    }
}

/// Everything read from the input.
#[derive(Debug, Default)]
pub struct Loaded {
    /// File texts by display name.
    pub sources: Sources,
    /// Tables, keys and foreign keys from the DDL and the ORM models.
    pub schema: Schema,
    /// Transactions of every file, in file order.
    pub transactions: Vec<Transaction>,
    /// Unparseable or unmodelled statements, dynamic relations.
    pub diagnostics: Vec<Diagnostic>,
    /// The transactions that run on SQLite (moved out of `transactions`) and their connections.
    pub sqlite: lockgraph_sqlite::SqliteModel,
    /// Every statement in input order.
    pub statements: Vec<Arc<Statement>>,
    /// `lockgraph: ignore[…]` comments.
    pub suppressions: Vec<Suppression>,
    /// Number of files read.
    pub files: usize,
    /// Input errors (missing or unreadable files): the exit code becomes 2.
    pub errors: Vec<String>,
    /// Warnings about input that was still analysed (or skipped and the run went on).
    pub warnings: Vec<String>,
}

/// Reads and analyses every SQL and source file under `paths`.
pub fn load(paths: &[PathBuf], opts: &LoadOptions) -> Loaded {
    let (mut files, mut errors) = discover(paths, &opts.filter);
    if opts.config_filter.is_active() {
        files.retain(|f| paths.contains(&f.path) || opts.config_filter.accepts(&f.path, &f.name));
    }
    let mut loaded = Loaded::default();
    // SQL files with their text; source files as the source front-end takes them.
    let mut sql: Vec<(&InputFile, String)> = Vec::new();
    let mut source: Vec<SourceFile> = Vec::new();
    for file in &files {
        if file.kind == FileKind::Source
            && let Ok(meta) = std::fs::metadata(&file.path)
            && meta.len() > MAX_SOURCE_BYTES
        {
            loaded.warnings.push(format!(
                "{}:1: {} MiB of source code (generated code?): larger than {} MiB, skipped",
                file.name,
                meta.len() >> 20,
                MAX_SOURCE_BYTES >> 20
            ));
            continue;
        }
        match std::fs::read(&file.path) {
            Ok(bytes) => {
                let (text, warning) = decode(&file.name, bytes);
                loaded.warnings.extend(warning);
                match file.kind {
                    FileKind::Sql => sql.push((file, text)),
                    FileKind::Source => source.push(SourceFile {
                        name: file.name.clone(),
                        text,
                    }),
                }
            }
            Err(e) => errors.push(format!("{}: cannot read: {e}", file.name)),
        }
    }
    // Schema-only files: their DDL joins pass 1; they are not checked.
    let mut schema_only: Vec<(String, String)> = Vec::new();
    if !opts.schema.is_empty() {
        let (schema_files, schema_errors) = discover(&opts.schema, &Filter::default());
        errors.extend(schema_errors);
        for file in schema_files {
            if file.kind != FileKind::Sql || files.iter().any(|f| f.name == file.name) {
                continue;
            }
            match std::fs::read(&file.path) {
                Ok(bytes) => schema_only.push((file.name.clone(), decode(&file.name, bytes).0)),
                Err(e) => errors.push(format!("{}: cannot read: {e}", file.name)),
            }
        }
    }
    loaded.errors = errors;

    let schema_input: Vec<(&str, &str)> = sql
        .iter()
        .map(|(f, t)| (f.name.as_str(), t.as_str()))
        .chain(schema_only.iter().map(|(n, t)| (n.as_str(), t.as_str())))
        .collect();
    let (mut schema, mut diagnostics) = lockgraph_sql::parse_schema(&schema_input);
    diagnostics.retain(|d| !schema_only.iter().any(|(n, _)| *d.location.path == **n));
    loaded.diagnostics = diagnostics;
    let parsed = lockgraph_source::parse_files(&source);
    // The DDL is the truth where it defines a table; models fill in the rest.
    for (name, table) in lockgraph_source::model_schema_parsed(&parsed).tables {
        schema.tables.entry(name).or_insert(table);
    }

    // `--file-transaction` paths as given, and canonical (configuration paths are absolute).
    let file_transaction: Vec<(&PathBuf, Option<PathBuf>)> = opts
        .file_transaction
        .iter()
        .map(|p| (p, std::fs::canonicalize(p).ok()))
        .collect();
    for (file, text) in &sql {
        let canonical = std::fs::canonicalize(&file.path).ok();
        let whole_file = file_transaction.iter().any(|(p, c)| {
            file.path.starts_with(p)
                || matches!((&canonical, c), (Some(f), Some(c)) if f.starts_with(c))
        }) || (opts.migration_transactions && in_migrations_dir(&file.name));
        let group = GroupSpec::group_of(&opts.groups, &file.path, &file.name)
            .unwrap_or_else(|| whole_file.then(|| Arc::from("migrations")));
        let sql_opts = SqlFileOptions {
            file_is_transaction: whole_file,
            group,
        };
        let (txns, diags) = lockgraph_sql::build_transactions(&file.name, text, &schema, &sql_opts);
        loaded.transactions.extend(txns);
        loaded.diagnostics.extend(diags);
        for raw in lockgraph_sql::split_statements(text) {
            loaded.statements.push(lockgraph_sql::make_statement(
                &file.name, raw.line, &raw.text,
            ));
        }
        loaded
            .suppressions
            .extend(Suppression::scan(&file.name, text, "--", |_, _| true));
    }
    if !source.is_empty() {
        let mut ext = lockgraph_source::extract_parsed(&parsed, &schema, &opts.source);
        if !opts.groups.is_empty() {
            for t in &mut ext.transactions {
                let path = t.location.path.clone();
                if let Some(group) = GroupSpec::group_of(&opts.groups, Path::new(&*path), &path) {
                    t.group = group;
                }
            }
        }
        loaded.transactions.extend(ext.transactions);
        loaded.diagnostics.extend(ext.diagnostics);
        loaded.statements.extend(ext.statements);
        loaded.suppressions.extend(ext.suppressions);
        loaded.warnings.extend(ext.warnings);
    }
    assign_engines(&mut loaded, &sql, &source, opts, &schema);
    loaded.files = sql.len() + source.len();
    for (file, text) in &sql {
        loaded.sources.insert(file.name.as_str(), text.as_str());
    }
    for file in &source {
        loaded
            .sources
            .insert(file.name.as_str(), file.text.as_str());
    }
    // The schema pass and the transaction pass both meet a statement the parser rejects.
    loaded.diagnostics.sort();
    loaded
        .diagnostics
        .dedup_by(|a, b| a.location == b.location && a.kind == b.kind);
    loaded.schema = schema;
    loaded
}

/// Sets every transaction's engine (configured per path, else what its files' drivers name,
/// see `lockgraph_source::engine`); re-infers the locks of MySQL transactions with InnoDB's lock
/// model (the front-ends infer PostgreSQL's); moves the SQLite transactions into
/// [`Loaded::sqlite`].
fn assign_engines(
    loaded: &mut Loaded,
    sql: &[(&InputFile, String)],
    source: &[SourceFile],
    opts: &LoadOptions,
    schema: &Schema,
) {
    let mut named: BTreeMap<String, EngineSet> = BTreeMap::new();
    for (file, text) in sql {
        named.insert(file.name.clone(), lockgraph_source::engines_named_sql(text));
    }
    for f in source {
        if let Some(lang) = Lang::of(Path::new(&f.name)) {
            named.insert(
                f.name.clone(),
                lockgraph_source::engines_named(lang, &f.text),
            );
        }
    }
    let configured = |name: &str| {
        opts.engines
            .iter()
            .find(|e| e.paths.matches(Path::new(name), name))
            .map(|e| e.engine)
    };
    let is_source = |name: &str| lockgraph_source::is_source(Path::new(name));
    lockgraph_source::assign_engines(
        &mut loaded.transactions,
        &named,
        is_source,
        configured,
        opts.engine,
    );
    // Files that run on one engine whether or not a transaction of theirs was found.
    let files_on = |engine: Engine| -> Vec<&str> {
        named
            .iter()
            .filter(|(name, set)| configured(name).or_else(|| set.single()) == Some(engine))
            .map(|(name, _)| name.as_str())
            .collect()
    };
    // MySQL: the PostgreSQL inference's problems with these statements give way to InnoDB's.
    let mut mysql_places: Vec<(Arc<str>, u32)> = Vec::new();
    let mut mysql_diagnostics = Vec::new();
    for t in loaded
        .transactions
        .iter_mut()
        .filter(|t| t.engine == Engine::Mysql)
    {
        mysql_places.extend(
            t.statements
                .iter()
                .map(|s| (s.location.path.clone(), s.location.line)),
        );
        mysql_diagnostics.extend(lockgraph_sql::reinfer_innodb(t, schema));
    }
    let mysql_files = files_on(Engine::Mysql);
    if !mysql_places.is_empty() || !mysql_files.is_empty() {
        mysql_places.sort();
        loaded.diagnostics.retain(|d| {
            !(matches!(
                d.kind,
                DiagnosticKind::UnparseableStatement | DiagnosticKind::UnmodelledStatement
            ) && (mysql_files.contains(&&*d.location.path)
                || mysql_places
                    .binary_search(&(d.location.path.clone(), d.location.line))
                    .is_ok()))
        });
        mysql_diagnostics.sort();
        mysql_diagnostics.dedup();
        loaded.diagnostics.extend(mysql_diagnostics);
    }
    // SQLite: the PostgreSQL parser's complaints about its files do not apply.
    let sqlite_files = files_on(Engine::Sqlite);
    let texts: Vec<(&str, &str)> = source
        .iter()
        .map(|f| (f.name.as_str(), f.text.as_str()))
        .collect();
    loaded.sqlite = lockgraph_sqlite::split_sqlite(
        &mut loaded.transactions,
        &mut loaded.diagnostics,
        &texts,
        &sqlite_files,
    );
}

/// UTF-8 text of a file; invalid bytes are replaced and reported with their line.
fn decode(name: &str, bytes: Vec<u8>) -> (String, Option<String>) {
    match String::from_utf8(bytes) {
        Ok(text) => (text, None),
        Err(e) => {
            let bytes = e.into_bytes();
            let bad = std::str::from_utf8(&bytes)
                .err()
                .map(|e| e.valid_up_to())
                .unwrap_or(0);
            let line = bytes[..bad].iter().filter(|&&b| b == b'\n').count() + 1;
            let warning = format!(
                "{name}:{line}: invalid UTF-8; the bytes were replaced and the file analysed"
            );
            (String::from_utf8_lossy(&bytes).into_owned(), Some(warning))
        }
    }
}
