import psycopg


def reserve(conn: psycopg.Connection, sku, order_id):
    with conn.transaction():
        conn.execute("SELECT * FROM stock WHERE sku = %s FOR UPDATE", (sku,))
        conn.execute("UPDATE orders SET reserved = true WHERE id = %s", (order_id,))


def cancel(conn, sku, order_id):
    cur = conn.cursor()
    cur.execute("BEGIN")
    cur.execute("SELECT * FROM orders WHERE id = %s FOR UPDATE", (order_id,))
    cur.execute("UPDATE stock SET qty = qty + 1 WHERE sku = %s", (sku,))
    cur.execute("COMMIT")
