use sqlx::PgPool;

const LOCK_SEAT: &str = concat!("SELECT id FROM seats ", "WHERE id = $1 FOR UPDATE");

pub async fn hold_seats(pool: &PgPool, seat_ids: Vec<i64>) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    for seat_id in &seat_ids {
        sqlx::query(LOCK_SEAT).bind(seat_id).fetch_one(&mut *tx).await?;
    }
    tx.commit().await
}
