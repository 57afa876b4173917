use crate::{orders, stock};
use sqlx::PgPool;

pub async fn place(pool: &PgPool, order_id: i64, sku: &str) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    orders::lock_order(&mut tx, order_id).await?;
    stock::reserve(&mut tx, sku, 1).await?;
    tx.commit().await
}

pub async fn cancel(pool: &PgPool, order_id: i64, sku: &str) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    stock::reserve(&mut tx, sku, -1).await?;
    crate::orders::lock_order(&mut tx, order_id).await?;
    sqlx::query("UPDATE orders SET status = 'cancelled' WHERE id = $1")
        .bind(order_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}
