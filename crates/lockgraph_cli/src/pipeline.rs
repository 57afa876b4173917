//! Files → [`Loaded`]: the schema (pass 1, from every file's DDL), then each file's transactions
//! and statements (pass 2). Unreadable files are recorded and skipped; invalid UTF-8 is replaced
//! with a warning naming the line, and the file is still analysed.

use crate::discover::{InputFile, discover, in_migrations_dir};
use lockgraph_core::{Diagnostic, Schema, Statement, Transaction};
use lockgraph_report::Sources;
use lockgraph_sql::SqlFileOptions;
use std::path::PathBuf;
use std::sync::Arc;

/// How files map to transactions.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Every file under these paths is one transaction.
    pub file_transaction: Vec<PathBuf>,
    /// Files under a `migrations` directory are one transaction each, in the `migrations` group.
    pub migration_transactions: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            file_transaction: Vec::new(),
            migration_transactions: true,
        }
    }
}

/// Everything read from the input.
#[derive(Debug, Default)]
pub struct Loaded {
    /// File texts by display name.
    pub sources: Sources,
    /// Tables, keys and foreign keys from the DDL.
    pub schema: Schema,
    /// Transactions of every file, in file order.
    pub transactions: Vec<Transaction>,
    /// Unparseable or unmodelled statements.
    pub diagnostics: Vec<Diagnostic>,
    /// Every statement in input order.
    pub statements: Vec<Arc<Statement>>,
    /// Number of files read.
    pub files: usize,
    /// Input errors (missing or unreadable files): the exit code becomes 2.
    pub errors: Vec<String>,
    /// Warnings about input that was still analysed.
    pub warnings: Vec<String>,
}

/// Reads and analyses every SQL file under `paths`.
pub fn load_sql(paths: &[PathBuf], opts: &LoadOptions) -> Loaded {
    let (files, mut errors) = discover(paths);
    let mut loaded = Loaded::default();
    let mut texts: Vec<(&InputFile, String)> = Vec::new();
    for file in &files {
        match std::fs::read(&file.path) {
            Ok(bytes) => {
                let (text, warning) = decode(&file.name, bytes);
                loaded.warnings.extend(warning);
                texts.push((file, text));
            }
            Err(e) => errors.push(format!("{}: cannot read: {e}", file.name)),
        }
    }
    loaded.errors = errors;

    let schema_input: Vec<(&str, &str)> = texts
        .iter()
        .map(|(f, t)| (f.name.as_str(), t.as_str()))
        .collect();
    let (schema, diagnostics) = lockgraph_sql::parse_schema(&schema_input);
    loaded.diagnostics = diagnostics;

    for (file, text) in &texts {
        let whole_file = opts
            .file_transaction
            .iter()
            .any(|p| file.path.starts_with(p))
            || (opts.migration_transactions && in_migrations_dir(&file.name));
        let sql_opts = SqlFileOptions {
            file_is_transaction: whole_file,
            group: whole_file.then(|| Arc::from("migrations")),
        };
        let (txns, diags) = lockgraph_sql::build_transactions(&file.name, text, &schema, &sql_opts);
        loaded.transactions.extend(txns);
        loaded.diagnostics.extend(diags);
        for raw in lockgraph_sql::split_statements(text) {
            loaded.statements.push(lockgraph_sql::make_statement(
                &file.name, raw.line, &raw.text,
            ));
        }
        loaded.sources.insert(file.name.as_str(), text.as_str());
    }
    // The schema pass and the transaction pass both meet a statement the parser rejects.
    loaded.diagnostics.sort();
    loaded
        .diagnostics
        .dedup_by(|a, b| a.location == b.location && a.kind == b.kind);
    loaded.schema = schema;
    loaded.files = texts.len();
    loaded
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
