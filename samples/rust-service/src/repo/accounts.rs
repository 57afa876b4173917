//! Account balances.

use sqlx::{PgConnection, PgPool, Postgres, Transaction};

const DEBIT: &str = "UPDATE accounts SET balance_cents = balance_cents - $1 WHERE id = $2";

/// Takes money from an account, inside the caller's transaction.
pub async fn debit(
    tx: &mut Transaction<'_, Postgres>,
    account_id: i64,
    amount_cents: i64,
) -> sqlx::Result<()> {
    sqlx::query(DEBIT)
        .bind(amount_cents)
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Gives money back to an account.
pub async fn credit(
    conn: &mut PgConnection,
    account_id: i64,
    amount_cents: i64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE accounts SET balance_cents = balance_cents + $1 WHERE id = $2",
        amount_cents,
        account_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The current balance (its own autocommit statement).
pub async fn balance(pool: &PgPool, account_id: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar::<_, i64>("SELECT balance_cents FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(pool)
        .await
}
