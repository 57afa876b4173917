"""The payment service fixed: one lock order (accounts first), strongest lock first."""
import pymysql


def transfer(conn, account_id, amount):
    with conn.cursor() as cur:
        cur.execute("UPDATE accounts SET balance = balance - %s WHERE id = %s", (amount, account_id))
        cur.execute("UPDATE audit SET note = %s, seen_at = %s WHERE id = %s", ("transfer", "2024-01-01 10:00:00", account_id))
    conn.commit()


def audit_then_pay(conn, account_id, amount):
    # Same order as transfer: accounts, then audit.
    with conn.cursor() as cur:
        cur.execute("UPDATE accounts SET balance = balance + %s WHERE id = %s", (amount, account_id))
        cur.execute("UPDATE audit SET note = %s WHERE id = %s", ("pay", account_id))
    conn.commit()


def record_payment(conn, account_id, amount, booked_at):
    # X on the account row first: the foreign-key check's S lock is then already covered.
    with conn.cursor() as cur:
        cur.execute("SELECT balance FROM accounts WHERE id = %s FOR UPDATE", (account_id,))
        cur.execute(
            "INSERT INTO ledger (account_id, amount, booked_at) VALUES (%s, %s, %s)",
            (account_id, amount, booked_at),
        )
        cur.execute("UPDATE accounts SET balance = balance + %s WHERE id = %s", (amount, account_id))
    conn.commit()


def move_between(conn, src, dst, amount):
    # Both rows locked by one statement in key order, before either is changed.
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM accounts WHERE id IN (%s, %s) ORDER BY id FOR UPDATE", (src, dst))
        cur.execute("UPDATE accounts SET balance = balance - %s WHERE id = %s", (amount, src))
        cur.execute("UPDATE accounts SET balance = balance + %s WHERE id = %s", (amount, dst))
    conn.commit()
