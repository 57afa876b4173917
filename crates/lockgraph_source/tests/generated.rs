//! The benchmark generator's code extracts cleanly: no warnings, no diagnostics, transactions
//! from every pattern it writes.

mod common;

#[allow(dead_code)]
#[path = "../examples/gen_python.rs"]
mod gen_python;

use lockgraph_core::TransactionKind;
use lockgraph_source::SourceFile;

#[test]
fn generated_corpus_extracts_cleanly() {
    let files: Vec<SourceFile> = gen_python::generate(1_000)
        .into_iter()
        .map(|(name, text)| SourceFile { name, text })
        .collect();
    let ext = common::run(&files);
    assert!(ext.warnings.is_empty(), "{:?}", ext.warnings);
    assert!(ext.diagnostics.is_empty(), "{:?}", ext.diagnostics);
    let app0: Vec<String> = ext
        .transactions
        .iter()
        .filter(|t| t.location.path.starts_with("app0/"))
        .map(|t| format!("{} {:?} {}", t.name, t.kind, t.locks.len()))
        .collect();
    insta::assert_snapshot!(app0.join("\n"));
    assert!(
        ext.transactions
            .iter()
            .any(|t| t.kind == TransactionKind::Autocommit)
    );
    assert!(
        ext.transactions
            .iter()
            .any(|t| t.locks.iter().any(|l| l.repeated))
    );
}
