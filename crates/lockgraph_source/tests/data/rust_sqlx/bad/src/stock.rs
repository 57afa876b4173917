use sqlx::{Postgres, Transaction};

pub async fn reserve(tx: &mut Transaction<'_, Postgres>, sku: &str, qty: i32) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE stock SET reserved = reserved + $1 WHERE sku = $2",
        qty,
        sku
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}
