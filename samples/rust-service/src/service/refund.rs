//! Refunds of settled entries.

use crate::repo::{accounts, ledger::LedgerRepo};
use sqlx::PgPool;

/// Locks the entry, gives its amount back to the account and marks it refunded.
pub async fn refund_entry(
    pool: &PgPool,
    ledger: &LedgerRepo,
    entry_id: i64,
    account_id: i64,
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    let entry = ledger.lock_entry(&mut tx, entry_id).await?;
    if entry.status != "settled" {
        tx.rollback().await?;
        return Ok(());
    }
    accounts::credit(&mut *tx, account_id, entry.amount_cents).await?;
    ledger.set_status(&mut tx, entry_id, "refunded").await?;
    tx.commit().await?;
    Ok(())
}
