import psycopg


def reserve(conn: psycopg.Connection, sku, order_id):
    with conn.transaction():
        conn.execute("SELECT * FROM stock WHERE sku = %s FOR UPDATE", (sku,))
        conn.execute("UPDATE orders SET reserved = true WHERE id = %s", (order_id,))


def cancel(conn, sku, order_id):
    cur = conn.cursor()
    cur.execute("BEGIN")
    cur.execute("SELECT * FROM stock WHERE sku = %s FOR UPDATE", (sku,))
    cur.execute("UPDATE orders SET reserved = false WHERE id = %s", (order_id,))
    cur.execute("COMMIT")
