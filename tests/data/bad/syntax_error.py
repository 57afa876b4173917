import psycopg


def transfer(conn, a, b):
    with conn.transaction():
        conn.execute("UPDATE accounts SET balance = balance - 1 WHERE id = %s", (a,))
        conn.execute("UPDATE ledger SET amount = amount + 1 WHERE id = %s", (b,))


def broken(conn):
    with conn.transaction():
        if conn.execute("UPDATE ledger SET amount = 0 WHERE id = 2") = None:
            return ) 1


def refund(conn, a, b):
    with conn.transaction():
        conn.execute("UPDATE ledger SET amount = amount - 1 WHERE id = %s", (b,))
        conn.execute("UPDATE accounts SET balance = balance + 1 WHERE id = %s", (a,))
