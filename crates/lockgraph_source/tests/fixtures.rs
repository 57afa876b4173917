//! Fixture pairs: every driver/ORM pattern has a `bad` tree (the rule fires) and a `good` tree
//! (it does not), with a snapshot of what is extracted.

#[macro_use]
mod common;

#[test]
fn psycopg2_with_conn_and_commit() {
    check_pair!("psycopg2", "LG101");
}

#[test]
fn psycopg3_transaction_and_begin_strings() {
    check_pair!("psycopg3", "LG101");
}

#[test]
fn asyncpg_repository_class_across_files() {
    check_pair!("asyncpg", "LG101");
}

#[test]
fn sqlalchemy_core_engine_begin() {
    check_pair!("sqlalchemy_core", "LG101");
}

#[test]
fn sqlalchemy_orm_for_update_and_unit_of_work() {
    check_pair!("sqlalchemy_orm", "LG101");
}

#[test]
fn django_atomic_select_for_update() {
    check_pair!("django", "LG101");
}

#[test]
fn django_loop_marks_repeated() {
    check_pair!("django_loop", "LG103");
}

#[test]
fn lock_upgrade_for_share_then_update() {
    check_pair!("lock_upgrade", "LG102");
}
