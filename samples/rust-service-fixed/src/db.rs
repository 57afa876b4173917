//! The connection pool.

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

pub async fn connect() -> sqlx::Result<PgPool> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://localhost/wallet".into());
    PgPoolOptions::new().max_connections(8).connect(&url).await
}
