//! The benchmark generator's code extracts cleanly: no warnings, no diagnostics, transactions
//! from every pattern it writes.

mod common;

#[allow(dead_code)]
#[path = "../examples/gen_python.rs"]
mod gen_python;

use lockgraph_core::TransactionKind;

#[test]
fn generated_corpus_extracts_cleanly() {
    let files = common::generated(gen_python::generate(1_000));
    let (ext, app0) = common::run_generated(&files, |t| t.locks.len().to_string());
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
