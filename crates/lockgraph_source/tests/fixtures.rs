//! Fixture pairs: every driver/ORM pattern has a `bad` tree (the rule fires) and a `good` tree
//! (it does not), with a snapshot of what is extracted.

mod common;

use common::{finding_codes, load_dir, render, run};
use lockgraph_source::model_schema;
use std::path::PathBuf;

fn data(pattern: &str, variant: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(pattern)
        .join(variant)
}

/// Extracts both variants, checks `code` fires only for `bad`, and snapshots both renderings.
fn check_pair(pattern: &str, code: &str) {
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
    insta::assert_snapshot!(pattern, rendered);
}

#[test]
fn psycopg2_with_conn_and_commit() {
    check_pair("psycopg2", "LG101");
}

#[test]
fn psycopg3_transaction_and_begin_strings() {
    check_pair("psycopg3", "LG101");
}

#[test]
fn asyncpg_repository_class_across_files() {
    check_pair("asyncpg", "LG101");
}

#[test]
fn sqlalchemy_core_engine_begin() {
    check_pair("sqlalchemy_core", "LG101");
}

#[test]
fn sqlalchemy_orm_for_update_and_unit_of_work() {
    check_pair("sqlalchemy_orm", "LG101");
}

#[test]
fn django_atomic_select_for_update() {
    check_pair("django", "LG101");
}

#[test]
fn django_loop_marks_repeated() {
    check_pair("django_loop", "LG103");
}

#[test]
fn lock_upgrade_for_share_then_update() {
    check_pair("lock_upgrade", "LG102");
}
