//! Rust: fixture pairs for sqlx, tokio-postgres and diesel, and the behaviour of the Rust
//! lowering on small inputs (lock order and lines, arguments, scopes, paths, loops, suppressions,
//! bounds).

#[macro_use]
mod common;

use common::{files, lock_list, ordered_flags, render, run};
use lockgraph_core::{DiagnosticKind, TransactionKind};

#[test]
fn sqlx_query_bind_macro_across_files() {
    check_pair!("rust_sqlx", "LG101");
}

#[test]
fn tokio_postgres_transaction_slices_and_batch_begin() {
    check_pair!("rust_tokio_postgres", "LG101");
}

#[test]
fn diesel_transaction_closures_dsl_and_sql_query() {
    check_pair!("rust_diesel", "LG101");
}

#[test]
fn struct_fields_trait_defaults_and_constructors() {
    check_pair!("rust_struct_repo", "LG101");
}

#[test]
fn loop_over_unsorted_ids_is_unordered() {
    check_pair!("rust_loop", "LG103");
}

/// `path:line` of every lock's statement, per transaction, with the lock.
fn lock_lines(ext: &lockgraph_source::Extraction) -> Vec<Vec<String>> {
    ext.transactions
        .iter()
        .map(|t| {
            t.locks
                .iter()
                .filter(|l| l.implicit.is_none())
                .map(|l| format!("{} {} @{}", l.target, l.mode, l.statement.location))
                .collect()
        })
        .collect()
}

#[test]
fn lock_order_and_lines_follow_calls_across_files() {
    let repo = r#"
use sqlx::{Postgres, Transaction};

pub async fn debit(tx: &mut Transaction<'_, Postgres>, account_id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE accounts SET balance = balance - 1 WHERE id = $1")
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
"#;
    let service = r#"
use crate::repo::accounts;

pub async fn pay(pool: &sqlx::PgPool, account_id: i64, order_id: i64) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT * FROM orders WHERE id = $1 FOR UPDATE").bind(order_id).fetch_one(&mut *tx).await?;
    accounts::debit(&mut tx, account_id).await?;
    tx.commit().await?;
    sqlx::query("UPDATE stats SET n = n + 1").execute(pool).await?;
    Ok(())
}
"#;
    let ext = run(&files(&[
        ("svc/src/repo/accounts.rs", repo),
        ("svc/src/service/pay.rs", service),
    ]));
    assert_eq!(ext.transactions.len(), 2, "{}", render(&ext));
    let tx = &ext.transactions[0];
    assert_eq!(&*tx.name, "pay.pay (svc/src/service/pay.rs:5)");
    assert_eq!(tx.kind, TransactionKind::Explicit);
    assert_eq!(
        lock_lines(&ext)[0],
        [
            "orders ROW SHARE @svc/src/service/pay.rs:6",
            "orders rows (id = $2) FOR UPDATE @svc/src/service/pay.rs:6",
            "accounts ROW EXCLUSIVE @svc/src/repo/accounts.rs:5",
            "accounts rows (id = $1) FOR NO KEY UPDATE @svc/src/repo/accounts.rs:5",
        ]
    );
    // The call that reached the helper's lock is recorded.
    let via = tx.locks[3].via.as_deref().unwrap_or(&[]);
    assert_eq!(via.len(), 1);
    assert_eq!(via[0].to_string(), "svc/src/service/pay.rs:7");
    // After `commit()` a statement on the pool is its own autocommit transaction.
    assert_eq!(ext.transactions[1].kind, TransactionKind::Autocommit);
    assert_eq!(ext.transactions[1].location.line, 9);
}

#[test]
fn bind_and_slice_arguments_number_placeholders_by_expression() {
    let src = r#"
pub async fn transfer(pool: &PgPool, client: &Client, from: i64, to: i64, amount: i64) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE accounts SET balance = balance - $1 WHERE id = $2").bind(amount).bind(from).execute(&mut *tx).await?;
    sqlx::query("UPDATE accounts SET balance = balance + $1 WHERE id = $2").bind(amount).bind(&to).execute(&mut *tx).await?;
    sqlx::query!("SELECT * FROM accounts WHERE id = $1 AND kind = $2", from, "checking").fetch_one(&mut *tx).await?;
    tx.commit().await?;
    client.execute("UPDATE limits SET used = used + $1 WHERE account_id = $2", &[&amount, &to]).await?;
    client.execute("UPDATE limits SET used = 0 WHERE account_id = $1", &[&5i64]).await?;
    Ok(())
}
"#;
    let ext = run(&files(&[("src/transfer.rs", src)]));
    let texts: Vec<&str> = ext.statements.iter().map(|s| &*s.text).collect();
    assert_eq!(
        texts,
        [
            "UPDATE accounts SET balance = balance - $1 WHERE id = $2",
            "UPDATE accounts SET balance = balance + $1 WHERE id = $3",
            "SELECT * FROM accounts WHERE id = $2 AND kind = 'checking'",
            "UPDATE limits SET used = used + $1 WHERE account_id = $3",
            "UPDATE limits SET used = 0 WHERE account_id = 5",
        ],
        "{}",
        render(&ext)
    );
}

#[test]
fn diesel_scope_is_the_closure_and_dsl_becomes_sql() {
    let schema = r#"
diesel::table! {
    wallets (wallet_id) {
        wallet_id -> Int8,
        cents -> Nullable<Int8>,
    }
}
"#;
    let src = r#"
use crate::schema::wallets;

pub fn spend(conn: &mut PgConnection, wid: i64, n: i64) -> QueryResult<()> {
    wallets::table.find(wid).for_no_key_update().skip_locked().first::<Wallet>(conn)?;
    conn.transaction(|conn| {
        wallets::table.filter(wallets::wallet_id.eq(wid).and(wallets::cents.gt(n))).for_share().load::<Wallet>(conn)?;
        diesel::update(wallets::table.find(wid)).set(wallets::cents.eq(wallets::cents - n)).execute(conn)?;
        Ok(())
    })
}
"#;
    let fs = files(&[("src/schema.rs", schema), ("src/spend.rs", src)]);
    let ext = run(&fs);
    let texts: Vec<&str> = ext.statements.iter().map(|s| &*s.text).collect();
    assert_eq!(
        texts,
        [
            "SELECT * FROM wallets WHERE wallet_id = $1 FOR NO KEY UPDATE SKIP LOCKED",
            "SELECT * FROM wallets WHERE wallet_id = $1 AND cents > $2 FOR SHARE",
            "UPDATE wallets SET cents = cents - $2 WHERE wallet_id = $1",
        ],
        "{}",
        render(&ext)
    );
    assert_eq!(ext.transactions.len(), 2, "{}", render(&ext));
    assert_eq!(ext.transactions[0].kind, TransactionKind::Autocommit);
    let scope = &ext.transactions[1];
    assert_eq!(scope.kind, TransactionKind::Explicit);
    assert_eq!(scope.location.line, 6);
    assert_eq!(scope.statements.len(), 2);
    // The table! macro is the schema: the key and the nullable column.
    let schema = lockgraph_source::model_schema(&fs);
    let t = schema.tables.values().next().expect("wallets from table!");
    assert_eq!(t.primary_key.len(), 1);
    assert_eq!(&*t.primary_key[0], "wallet_id");
    assert!(t.columns.iter().any(|c| &*c.name == "cents" && !c.not_null));
}

#[test]
fn branches_fork_and_loops_repeat() {
    let src = r#"
pub async fn settle(pool: &PgPool, ids: Vec<i64>, refund: bool) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    if refund {
        sqlx::query("UPDATE refunds SET n = 1 WHERE id = 1").execute(&mut *tx).await?;
    } else if let Some(x) = ids.first() {
        sqlx::query("UPDATE payments SET n = 1 WHERE id = 1").execute(&mut *tx).await?;
    }
    match ids.len() {
        0 => return Ok(()),
        _ => {}
    }
    for id in &ids {
        sqlx::query("UPDATE items SET n = 1 WHERE id = $1").bind(id).execute(&mut *tx).await?;
    }
    tx.commit().await
}
"#;
    let ext = run(&files(&[("src/settle.rs", src)]));
    let mut paths: Vec<Vec<String>> = ext.transactions.iter().map(lock_list).collect();
    paths.sort();
    let tables: Vec<Vec<&str>> = paths
        .iter()
        .map(|p| {
            p.iter()
                .filter(|l| l.contains(" rows "))
                .map(|l| l.split(' ').next().unwrap_or(""))
                .collect()
        })
        .collect();
    // Three ways through the `if` times two through the `match` (an early return); the path
    // that runs no statement is no transaction.
    assert_eq!(
        tables,
        [
            vec!["items"],
            vec!["payments"],
            vec!["payments", "items"],
            vec!["refunds"],
            vec!["refunds", "items"],
        ],
        "{}",
        render(&ext)
    );
    let looped = paths.iter().flatten().find(|l| l.starts_with("items rows"));
    assert!(looped.is_some_and(|l| l.ends_with(" *")), "{paths:?}");
}

#[test]
fn sorted_keys_and_pairs_are_ordered() {
    for (setup, iter) in [
        ("ids.sort();", "&ids"),
        ("ids.sort_by_key(|k| *k);", "ids.iter()"),
        ("let ids: BTreeSet<i64> = ids.into_iter().collect();", "ids"),
        ("", "ids.iter().sorted()"),
        ("", "&ids"),
    ] {
        let src = format!(
            r#"
async fn bump(pool: &PgPool, mut ids: Vec<i64>) -> sqlx::Result<()> {{
    {setup}
    let mut tx = pool.begin().await?;
    for k in {iter} {{
        sqlx::query("UPDATE counters SET n = n + 1 WHERE id = $1").bind(k).execute(&mut *tx).await?;
    }}
    tx.commit().await
}}
"#
        );
        let sorted = !setup.is_empty() || iter.contains("sorted");
        assert_eq!(
            ordered_flags("src/app.rs", &src),
            [[("counters rows (id = $1)".to_string(), sorted)]],
            "{setup} {iter}"
        );
    }
    for pair in [
        "let (lo, hi) = (from.min(to), from.max(to));",
        "let (lo, hi) = if from < to { (from, to) } else { (to, from) };",
    ] {
        let src = format!(
            r#"
async fn swap(pool: &PgPool, from: i64, to: i64) -> sqlx::Result<()> {{
    {pair}
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE accounts SET n = 1 WHERE id = $1").bind(lo).execute(&mut *tx).await?;
    sqlx::query("UPDATE accounts SET n = 2 WHERE id = $1").bind(hi).execute(&mut *tx).await?;
    tx.commit().await
}}
"#
        );
        let flags = ordered_flags("src/app.rs", &src);
        assert!(
            flags.iter().flatten().all(|(_, o)| *o) && !flags.is_empty(),
            "{pair}: {flags:?}"
        );
    }
}

#[test]
fn constants_raw_strings_format_and_paths() {
    let queries = r##"
pub const TABLE_LOCK: &str = r#"LOCK TABLE "jobs" IN SHARE MODE"#;
pub struct Q;
impl Q {
    pub const CLAIM: &str = "UPDATE jobs SET owner = $1 \
                             WHERE id = $2";
}
"##;
    let src = r#"
use crate::sql::queries::{self, Q};

const PREFIX: &str = "SELECT * FROM jobs";

pub async fn claim(pool: &PgPool, table: &str, me: i64, job: i64) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(queries::TABLE_LOCK).execute(&mut *tx).await?;
    sqlx::query(Q::CLAIM).bind(me).bind(job).execute(&mut *tx).await?;
    sqlx::query(&format!("{PREFIX} WHERE id = $1 FOR UPDATE")).bind(job).fetch_one(&mut *tx).await?;
    sqlx::query(&format!("DELETE FROM {} WHERE id = $1", table)).bind(job).execute(&mut *tx).await?;
    crate::sql::queries::cleanup(&mut tx).await?;
    tx.commit().await
}
"#;
    let helper = r#"
pub async fn cleanup(tx: &mut sqlx::PgConnection) -> sqlx::Result<()> {
    sqlx::query(super::super::sql::queries::TABLE_LOCK).execute(tx).await?;
    Ok(())
}
"#;
    let ext = run(&files(&[
        ("src/sql/queries/mod.rs", &format!("{queries}{helper}")),
        ("src/jobs.rs", src),
    ]));
    let texts: Vec<&str> = ext.statements.iter().map(|s| &*s.text).collect();
    assert_eq!(
        texts,
        [
            r#"LOCK TABLE "jobs" IN SHARE MODE"#,
            r#"LOCK TABLE "jobs" IN SHARE MODE"#,
            "UPDATE jobs SET owner = $1 WHERE id = $2",
            "SELECT * FROM jobs WHERE id = $2 FOR UPDATE",
        ],
        "{}",
        render(&ext)
    );
    let dynamic: Vec<u32> = ext
        .diagnostics
        .iter()
        .filter(|d| d.kind == DiagnosticKind::DynamicRelation)
        .map(|d| d.location.line)
        .collect();
    assert_eq!(dynamic, [11]);
    // The helper reached through `crate::sql::queries::cleanup` runs in the transaction.
    assert_eq!(ext.transactions.len(), 1, "{}", render(&ext));
    assert_eq!(ext.transactions[0].statements.len(), 4);
}

#[test]
fn suppression_comment_targets_the_next_statement() {
    let src = r#"
pub async fn f(pool: &PgPool) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    // lockgraph: ignore[LG101] the jobs table is only locked here
    sqlx::query("UPDATE jobs SET n = 1")
        .execute(&mut *tx)
        .await?;
    let s = "// lockgraph: ignore[LG999] not a comment";
    sqlx::query("UPDATE b SET v = 1").execute(&mut *tx).await?; // lockgraph: ignore[LG102]
    tx.commit().await
}
"#;
    let ext = run(&files(&[("src/s.rs", src)]));
    assert_eq!(ext.suppressions.len(), 2, "{}", render(&ext));
    let a = &ext.suppressions[0];
    assert_eq!((a.comment.line, a.target.line), (4, 5));
    assert_eq!(a.codes, ["LG101"]);
    assert_eq!(
        a.reason.as_deref(),
        Some("the jobs table is only locked here")
    );
    // The statement the suppression points at is that line.
    let lines: Vec<u32> = ext.statements.iter().map(|s| s.location.line).collect();
    assert_eq!(lines, [5, 9]);
    let b = &ext.suppressions[1];
    assert_eq!((b.comment.line, b.target.line), (9, 9));
}

#[test]
fn deep_and_huge_inputs_do_not_blow_up() {
    // A 10,000-deep expression, a long method chain, deeply nested blocks.
    let mut deep = String::from("fn f(pool: &PgPool) {\n    let x = ");
    for _ in 0..10_000 {
        deep.push('(');
    }
    deep.push('1');
    for _ in 0..10_000 {
        deep.push(')');
    }
    deep.push_str(";\n    let s = \"SELECT 1 FROM t\"");
    for _ in 0..10_000 {
        deep.push_str(" + \"a\"");
    }
    deep.push_str(";\n    let y = a");
    for _ in 0..5_000 {
        deep.push_str(".b()");
    }
    deep.push_str(";\n}\n");
    let mut nested = String::from("fn g(pool: &PgPool) {\n");
    for _ in 0..400 {
        nested.push_str("if x {\n");
    }
    nested.push_str("sqlx::query(\"UPDATE a SET v = 1\").execute(pool);\n");
    for _ in 0..400 {
        nested.push_str("}\n");
    }
    nested.push_str("}\n");
    let ext = run(&files(&[
        ("src/deep.rs", &deep),
        ("src/nested.rs", &nested),
    ]));
    assert!(ext.warnings.is_empty(), "{:?}", ext.warnings);
}

#[test]
fn syntax_errors_skip_the_file() {
    let ext = run(&files(&[("src/bad.rs", "fn f( {\n")]));
    assert_eq!(ext.warnings.len(), 1);
    assert!(
        ext.warnings[0].contains("Rust syntax error"),
        "{:?}",
        ext.warnings
    );
}

#[test]
fn test_modules_are_not_read() {
    let src = r#"
pub async fn f(pool: &PgPool) -> sqlx::Result<()> {
    sqlx::query("UPDATE a SET v = 1").execute(pool).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    async fn t(pool: &PgPool) {
        sqlx::query("UPDATE b SET v = 1").execute(pool).await.unwrap();
    }
}
"#;
    let ext = run(&files(&[("src/lib.rs", src)]));
    assert_eq!(ext.statements.len(), 1, "{}", render(&ext));
}
