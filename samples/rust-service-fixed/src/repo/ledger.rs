//! Ledger entries.

use sqlx::{FromRow, Postgres, Transaction};

#[derive(Debug, FromRow)]
pub struct Entry {
    pub id: i64,
    pub account_id: i64,
    pub amount_cents: i64,
    pub status: String,
}

pub struct LedgerRepo;

impl LedgerRepo {
    /// Reads an entry without locking it.
    pub async fn find_entry(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        entry_id: i64,
    ) -> sqlx::Result<Entry> {
        sqlx::query_as::<_, Entry>(
            "SELECT id, account_id, amount_cents, status FROM ledger_entries WHERE id = $1",
        )
        .bind(entry_id)
        .fetch_one(&mut **tx)
        .await
    }

    /// Reads an entry and locks it until the transaction ends.
    pub async fn lock_entry(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        entry_id: i64,
    ) -> sqlx::Result<Entry> {
        sqlx::query_as::<_, Entry>(
            r#"SELECT id, account_id, amount_cents, status
               FROM ledger_entries
               WHERE id = $1
               FOR UPDATE"#,
        )
        .bind(entry_id)
        .fetch_one(&mut **tx)
        .await
    }

    pub async fn set_status(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        entry_id: i64,
        status: &str,
    ) -> sqlx::Result<()> {
        sqlx::query("UPDATE ledger_entries SET status = $1 WHERE id = $2")
            .bind(status)
            .bind(entry_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}
