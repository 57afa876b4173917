//! Settlement of pending ledger entries.

use crate::repo::accounts;
use crate::repo::ledger::LedgerRepo;
use sqlx::PgPool;

pub struct TransferService {
    pool: PgPool,
    ledger: LedgerRepo,
}

impl TransferService {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            ledger: LedgerRepo,
        }
    }

    /// The account pays the entry, then the entry is marked settled.
    pub async fn settle_entry(
        &self,
        entry_id: i64,
        account_id: i64,
        amount_cents: i64,
    ) -> sqlx::Result<()> {
        let mut tx = self.pool.begin().await?;
        accounts::debit(&mut tx, account_id, amount_cents).await?;
        self.ledger.set_status(&mut tx, entry_id, "settled").await?;
        tx.commit().await?;
        Ok(())
    }
}
