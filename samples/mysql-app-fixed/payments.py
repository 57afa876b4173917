"""Payments on MySQL through PyMySQL: the fixed version of samples/mysql-app."""

import pymysql


def connect():
    return pymysql.connect(host="db", user="app", database="shop", autocommit=False)


def charge(conn, account_id, amount):
    """Debit the account first (its exclusive lock), then record the charge: the INSERT's
    foreign-key check finds the row already locked by this transaction."""
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE accounts SET balance = balance - %s WHERE id = %s", (amount, account_id)
        )
        cur.execute(
            "INSERT INTO ledger (account_id, amount) VALUES (%s, %s)", (account_id, -amount)
        )
    conn.commit()


def transfer(conn, src, dst, amount):
    """Lock both accounts in key order before changing either."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT id FROM accounts WHERE id IN (%s, %s) ORDER BY id FOR UPDATE", (src, dst)
        )
        cur.execute("UPDATE accounts SET balance = balance - %s WHERE id = %s", (amount, src))
        cur.execute("UPDATE accounts SET balance = balance + %s WHERE id = %s", (amount, dst))
    conn.commit()
