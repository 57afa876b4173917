use super::super::repo::{Audited, PayoutRepo, WalletRepo};
use sqlx::PgPool;
use std::sync::Arc;

pub struct PayoutService {
    pool: PgPool,
    wallets: Arc<WalletRepo>,
    payouts: PayoutRepo,
}

impl Audited for PayoutService {}

impl PayoutService {
    pub async fn approve(&self, payout_id: i64, wallet_id: i64) -> sqlx::Result<()> {
        let mut tx = self.pool.begin().await?;
        self.wallets.lock_wallet(&mut tx, wallet_id).await?;
        self.payouts.lock_payout(&mut tx, payout_id).await?;
        self.audit(&mut tx, payout_id).await?;
        tx.commit().await
    }

    pub async fn reject(&self, payout_id: i64, wallet_id: i64) -> sqlx::Result<()> {
        let mut tx = self.pool.begin().await?;
        self.lock_for_reject(&mut tx, payout_id, wallet_id).await?;
        tx.commit().await
    }

    async fn lock_for_reject(&self, tx: &mut PgConnection, payout_id: i64, wallet_id: i64) -> sqlx::Result<()> {
        self.payouts.lock_payout(tx, payout_id).await?;
        let wallets = WalletRepo::new(self.pool.clone());
        wallets.lock_wallet(tx, wallet_id).await
    }
}
