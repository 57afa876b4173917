"""Payments on MySQL through PyMySQL."""

import pymysql


def connect():
    return pymysql.connect(host="db", user="app", database="shop", autocommit=False)


def charge(conn, account_id, amount):
    """Record the charge, then debit the account.

    In InnoDB the INSERT's foreign-key check takes a shared lock on the account row; the UPDATE
    then needs an exclusive one. Two charges to one account both hold the shared lock and both
    wait for the exclusive one: a deadlock (PostgreSQL's KEY SHARE would not conflict here).
    """
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO ledger (account_id, amount) VALUES (%s, %s)", (account_id, -amount)
        )
        cur.execute(
            "UPDATE accounts SET balance = balance - %s WHERE id = %s", (amount, account_id)
        )
    conn.commit()


def transfer(conn, src, dst, amount):
    """Move money between two accounts, in the order the caller gives them."""
    with conn.cursor() as cur:
        cur.execute("UPDATE accounts SET balance = balance - %s WHERE id = %s", (amount, src))
        cur.execute("UPDATE accounts SET balance = balance + %s WHERE id = %s", (amount, dst))
    conn.commit()
