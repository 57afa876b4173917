//! Shared helpers: load fixture trees, render extractions compactly, run the rules.
#![allow(dead_code)]

use lockgraph_core::{LockMode, Schema, Transaction};
use lockgraph_source::{Extraction, SourceFile, SourceOptions, extract, model_schema};
use std::fmt::Write as _;
use std::path::Path;

/// Every source file (any language read) under `dir`, named relative to `dir`, sorted.
pub fn load_dir(dir: &Path) -> Vec<SourceFile> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("fixture dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if lockgraph_source::is_source(&p) {
                let name = p
                    .strip_prefix(dir)
                    .expect("prefix")
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push(SourceFile {
                    name,
                    text: std::fs::read_to_string(&p).expect("utf-8 fixture"),
                });
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Files from `(name, text)` pairs.
pub fn files(items: &[(&str, &str)]) -> Vec<SourceFile> {
    items
        .iter()
        .map(|(n, t)| SourceFile {
            name: n.to_string(),
            text: t.to_string(),
        })
        .collect()
}

/// Extracts with the models' schema.
pub fn run(files: &[SourceFile]) -> Extraction {
    let schema = model_schema(files);
    extract(files, &schema, &SourceOptions::default())
}

/// `relation MODE` for every lock (row locks show their key), `*` when repeated.
pub fn lock_list(tx: &Transaction) -> Vec<String> {
    tx.locks
        .iter()
        .map(|l| {
            format!(
                "{} {}{}",
                l.target,
                l.mode,
                if l.repeated { " *" } else { "" }
            )
        })
        .collect()
}

/// Relations of table-level locks in order.
pub fn table_order(tx: &Transaction) -> Vec<String> {
    tx.locks
        .iter()
        .filter(|l| matches!(l.mode, LockMode::Table(_)) && l.implicit.is_none())
        .map(|l| l.target.to_string())
        .collect()
}

/// A compact, stable text rendering of everything extracted.
pub fn render(ext: &Extraction) -> String {
    let mut s = String::new();
    for tx in &ext.transactions {
        let _ = writeln!(s, "{} [{:?}] at {}", tx.name, tx.kind, tx.location);
        for st in &tx.statements {
            let _ = writeln!(s, "  sql {}: {}", st.location, st.redacted);
        }
        for l in &tx.locks {
            let _ = writeln!(
                s,
                "  lock {} {}{}{} <- {}",
                l.target,
                l.mode,
                if l.repeated { " repeated" } else { "" },
                if l.implicit.is_some() {
                    " implicit"
                } else {
                    ""
                },
                l.statement.location
            );
        }
    }
    for d in &ext.diagnostics {
        let _ = writeln!(s, "diagnostic {} {:?}: {}", d.location, d.kind, d.message);
    }
    for w in &ext.warnings {
        let _ = writeln!(s, "warning {w}");
    }
    for sup in &ext.suppressions {
        let _ = writeln!(
            s,
            "suppression {} -> {} {:?} {:?}",
            sup.comment, sup.target, sup.codes, sup.reason
        );
    }
    s
}

/// Codes of the findings the rules report.
pub fn finding_codes(ext: &Extraction, schema: &Schema) -> Vec<String> {
    use lockgraph_rules::{Analysis, CheckOptions, REGISTRY, check};
    let analysis = Analysis::new(
        &ext.transactions,
        &ext.diagnostics,
        schema,
        &ext.statements,
        CheckOptions::default(),
    );
    let codes: Vec<&str> = REGISTRY.iter().map(|r| r.info().code).collect();
    check(&analysis, &codes)
        .into_iter()
        .map(|f| f.code.to_string())
        .collect()
}

/// `tests/data/<pattern>/<variant>` of this crate.
pub fn data(pattern: &str, variant: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(pattern)
        .join(variant)
}

/// A fixture pair: extracts `tests/data/<pattern>/{bad,good}`, checks that neither has
/// warnings or diagnostics and that rule `code` fires for `bad` only; returns both renderings
/// (for the caller's snapshot).
pub fn check_pair(pattern: &str, code: &str) -> String {
    let mut rendered = String::new();
    for variant in ["bad", "good"] {
        let files = load_dir(&data(pattern, variant));
        assert!(!files.is_empty(), "no fixtures for {pattern}/{variant}");
        let ext = run(&files);
        let schema = model_schema(&files);
        assert!(
            ext.warnings.is_empty(),
            "{pattern}/{variant}: {:?}",
            ext.warnings
        );
        assert!(
            ext.diagnostics.is_empty(),
            "{pattern}/{variant}: {:?}",
            ext.diagnostics
        );
        let codes = finding_codes(&ext, &schema);
        let fired = codes.iter().any(|c| c == code);
        assert_eq!(
            fired,
            variant == "bad",
            "{pattern}/{variant}: {code} fired={fired}, findings {codes:?}\n{}",
            render(&ext)
        );
        rendered.push_str(&format!("== {variant}\n{}", render(&ext)));
    }
    rendered
}

/// `check_pair!(pattern, code)` (with `#[macro_use] mod common;`): [`check_pair`], with a
/// snapshot of both renderings named after the pattern and taken in the calling test file
/// (whose name the snapshot keeps).
#[allow(unused_macros)]
macro_rules! check_pair {
    ($pattern:expr, $code:expr) => {{
        let (pattern, code) = ($pattern, $code);
        insta::assert_snapshot!(pattern, common::check_pair(pattern, code))
    }};
}

/// A generator's files (`examples/gen_<lang>.rs`) as source files.
pub fn generated(items: Vec<(String, String)>) -> Vec<SourceFile> {
    items
        .into_iter()
        .map(|(name, text)| SourceFile { name, text })
        .collect()
}

/// Extracts generated code, checks it has no warnings or diagnostics, and returns the
/// extraction with one line per transaction of `app0/`: `name kind locks` (`locks` renders
/// the transaction's locks).
pub fn run_generated(
    files: &[SourceFile],
    locks: impl Fn(&Transaction) -> String,
) -> (Extraction, Vec<String>) {
    let ext = run(files);
    assert!(ext.warnings.is_empty(), "{:?}", ext.warnings);
    assert!(ext.diagnostics.is_empty(), "{:?}", ext.diagnostics);
    let app0: Vec<String> = ext
        .transactions
        .iter()
        .filter(|t| t.location.path.starts_with("app0/"))
        .map(|t| format!("{} {:?} {}", t.name, t.kind, locks(t)))
        .collect();
    (ext, app0)
}

/// Statement texts of an extraction, in file and line order.
pub fn texts(ext: &Extraction) -> Vec<String> {
    ext.statements.iter().map(|s| s.text.to_string()).collect()
}

/// `ordered` of every row lock with a key, per transaction, of one file `name` with `src`.
pub fn ordered_flags(name: &str, src: &str) -> Vec<Vec<(String, bool)>> {
    let ext = run(&files(&[(name, src)]));
    ext.transactions
        .iter()
        .map(|t| {
            t.locks
                .iter()
                .filter(|l| l.implicit.is_none())
                .filter_map(|l| Some((l.target.to_string(), l.target.key()?.ordered)))
                .collect()
        })
        .collect()
}
