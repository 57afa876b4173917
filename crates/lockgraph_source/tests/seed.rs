//! The seed case: two asyncpg services locking `a` and `b` in opposite orders through helpers
//! in another file.

mod common;

use common::{files, finding_codes, render, run, table_order};
use lockgraph_core::{Schema, TransactionKind};

const REPO: &str = r#"
async def update_a(conn):
    await conn.execute("UPDATE a SET v = v + 1 WHERE id = $1", 1)


async def update_b(conn):
    await conn.execute("UPDATE b SET v = v + 1 WHERE id = $1", 1)
"#;

const SERVICE_BAD: &str = r#"
import repo


async def update_a_then_b(pool):
    async with pool.acquire() as conn:
        async with conn.transaction():
            await repo.update_a(conn)
            await repo.update_b(conn)


async def update_b_then_a(pool):
    async with pool.acquire() as conn:
        async with conn.transaction():
            await repo.update_b(conn)
            await repo.update_a(conn)
"#;

const SERVICE_GOOD: &str = r#"
from repo import update_a, update_b


async def update_a_then_b(pool):
    async with pool.acquire() as conn:
        async with conn.transaction():
            await update_a(conn)
            await update_b(conn)


async def update_both(pool):
    async with pool.acquire() as conn:
        async with conn.transaction():
            await update_a(conn)
            await update_b(conn)
"#;

#[test]
fn seed_case_gives_two_transactions_in_opposite_orders() {
    let ext = run(&files(&[("repo.py", REPO), ("service.py", SERVICE_BAD)]));
    assert_eq!(ext.transactions.len(), 2, "{}", render(&ext));
    let t0 = &ext.transactions[0];
    let t1 = &ext.transactions[1];
    assert_eq!(&*t0.name, "service.update_a_then_b (service.py:7)");
    assert_eq!(&*t1.name, "service.update_b_then_a (service.py:14)");
    for t in [t0, t1] {
        assert_eq!(t.kind, TransactionKind::Explicit);
        for l in &t.locks {
            let loc = l.statement.location.to_string();
            assert!(loc == "repo.py:3" || loc == "repo.py:7", "{loc}");
        }
    }
    assert_eq!(table_order(t0), ["a", "b"]);
    assert_eq!(table_order(t1), ["b", "a"]);
    assert!(ext.diagnostics.is_empty(), "{:?}", ext.diagnostics);
    assert!(ext.warnings.is_empty(), "{:?}", ext.warnings);
    assert!(finding_codes(&ext, &Schema::default()).contains(&"LG101".to_string()));
}

#[test]
fn seed_case_fixed_has_no_inversion() {
    let ext = run(&files(&[("repo.py", REPO), ("service.py", SERVICE_GOOD)]));
    assert_eq!(ext.transactions.len(), 2, "{}", render(&ext));
    for t in &ext.transactions {
        assert_eq!(table_order(t), ["a", "b"]);
    }
    assert!(!finding_codes(&ext, &Schema::default()).contains(&"LG101".to_string()));
}

#[test]
fn statements_are_listed_once_per_place() {
    let ext = run(&files(&[("repo.py", REPO), ("service.py", SERVICE_BAD)]));
    let places: Vec<String> = ext
        .statements
        .iter()
        .map(|s| s.location.to_string())
        .collect();
    assert_eq!(places, ["repo.py:3", "repo.py:7"]);
}
