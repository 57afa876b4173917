use sqlx::PgConnection;

pub async fn lock_order(conn: &mut PgConnection, order_id: i64) -> sqlx::Result<Order> {
    sqlx::query_as::<_, Order>("SELECT * FROM orders WHERE id = $1 FOR UPDATE")
        .bind(order_id)
        .fetch_one(conn)
        .await
}
