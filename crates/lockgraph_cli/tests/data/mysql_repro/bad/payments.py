"""Payment service on MySQL: every function is one transaction (pymysql, autocommit off)."""
import pymysql


def transfer(conn, account_id, amount):
    # accounts, then audit ...
    with conn.cursor() as cur:
        cur.execute("UPDATE accounts SET balance = balance - %s WHERE id = %s", (amount, account_id))
        cur.execute("UPDATE audit SET note = %s, seen_at = %s WHERE id = %s", ("transfer", "2024-01-01 10:00:00", account_id))
    conn.commit()


def audit_then_pay(conn, account_id, amount):
    # ... audit, then accounts: the opposite order (LG101).
    with conn.cursor() as cur:
        cur.execute("UPDATE audit SET note = %s WHERE id = %s", ("pay", account_id))
        cur.execute("UPDATE accounts SET balance = balance + %s WHERE id = %s", (amount, account_id))
    conn.commit()


def record_payment(conn, account_id, amount, booked_at):
    # The ledger row's foreign-key check takes S on the account row; the UPDATE then needs X
    # on it: two concurrent payments to one account deadlock on InnoDB (LG102).
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO ledger (account_id, amount, booked_at) VALUES (%s, %s, %s)",
            (account_id, amount, booked_at),
        )
        cur.execute("UPDATE accounts SET balance = balance + %s WHERE id = %s", (amount, account_id))
    conn.commit()


def move_between(conn, src, dst, amount):
    # Two rows of one table in the caller's order: move(1, 2) and move(2, 1) deadlock (LG103).
    with conn.cursor() as cur:
        cur.execute("UPDATE accounts SET balance = balance - %s WHERE id = %s", (amount, src))
        cur.execute("UPDATE accounts SET balance = balance + %s WHERE id = %s", (amount, dst))
    conn.commit()
