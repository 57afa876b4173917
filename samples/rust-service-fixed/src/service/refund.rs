//! Refunds of settled entries.

use crate::repo::{accounts, ledger::LedgerRepo};
use sqlx::PgPool;

/// Gives the entry's amount back to the account, then locks the entry and marks it refunded:
/// accounts before ledger entries, the order every transaction of the service uses.
pub async fn refund_entry(
    pool: &PgPool,
    ledger: &LedgerRepo,
    entry_id: i64,
    account_id: i64,
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    let entry = ledger.find_entry(&mut tx, entry_id).await?;
    if entry.status != "settled" {
        tx.rollback().await?;
        return Ok(());
    }
    accounts::credit(&mut *tx, account_id, entry.amount_cents).await?;
    ledger.lock_entry(&mut tx, entry_id).await?;
    ledger.set_status(&mut tx, entry_id, "refunded").await?;
    tx.commit().await?;
    Ok(())
}
