use crate::queries::{self, CHARGE, CLOSE_INVOICE};
use tokio_postgres::{Client, Error};

pub async fn close_invoice(client: &mut Client, invoice_id: i64, customer_id: i64) -> Result<(), Error> {
    let tx = client.transaction().await?;
    tx.execute(CLOSE_INVOICE, &[&"closed", &invoice_id]).await?;
    tx.execute(CHARGE, &[&10i64, &customer_id]).await?;
    tx.commit().await
}

pub async fn refund(client: &Client, invoice_id: i64, customer_id: i64) -> Result<(), Error> {
    client.batch_execute("BEGIN").await?;
    client
        .execute(queries::CLOSE_INVOICE, &[&"refunded", &invoice_id])
        .await?;
    let stmt = client
        .prepare("SELECT balance FROM customers WHERE id = $1 FOR UPDATE")
        .await?;
    client.query_one(&stmt, &[&customer_id]).await?;
    client.batch_execute("COMMIT").await
}
