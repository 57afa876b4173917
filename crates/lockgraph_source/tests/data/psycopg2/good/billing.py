import psycopg2

UPDATE_INVOICE = "UPDATE invoices SET status = %s WHERE id = %s"


def close_invoice(conn, invoice_id, customer_id):
    with conn:
        with conn.cursor() as cur:
            cur.execute(UPDATE_INVOICE, ("closed", invoice_id))
            cur.execute(
                "UPDATE customers SET balance = balance - %(amount)s WHERE id = %(id)s",
                {"amount": 10, "id": customer_id},
            )


def refund(conn, invoice_id, customer_id):
    cur = conn.cursor()
    cur.execute("UPDATE invoices SET status = 'refunded' WHERE id = %s", (invoice_id,))
    cur.execute("UPDATE customers SET balance = balance + 10 WHERE id = %s", (customer_id,))
    conn.commit()
