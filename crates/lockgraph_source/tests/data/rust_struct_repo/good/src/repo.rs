use sqlx::{PgConnection, PgPool};

pub struct WalletRepo {
    pool: PgPool,
}

impl WalletRepo {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    pub async fn lock_wallet(&self, conn: &mut PgConnection, wallet_id: i64) -> sqlx::Result<()> {
        sqlx::query("SELECT 1 FROM wallets WHERE id = $1 FOR UPDATE")
            .bind(wallet_id)
            .execute(conn)
            .await?;
        Ok(())
    }
}

pub struct PayoutRepo;

impl PayoutRepo {
    pub async fn lock_payout(&self, conn: &mut PgConnection, payout_id: i64) -> sqlx::Result<()> {
        sqlx::query("SELECT 1 FROM payouts WHERE id = $1 FOR UPDATE")
            .bind(payout_id)
            .execute(conn)
            .await?;
        Ok(())
    }
}

pub trait Audited {
    async fn audit(&self, conn: &mut PgConnection, payout_id: i64) -> sqlx::Result<()> {
        sqlx::query("INSERT INTO audit_log (payout_id) VALUES ($1)")
            .bind(payout_id)
            .execute(conn)
            .await?;
        Ok(())
    }
}
