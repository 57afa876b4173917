"""LG501 good: BEGIN IMMEDIATE takes the write lock before the read.

A second withdrawal waits in its BEGIN IMMEDIATE (busy timeout, 5 s by default) and then runs.
"""

import sqlite3


def withdraw(account_id: int, amount: int) -> bool:
    conn = sqlite3.connect("bank.db", isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    (balance,) = conn.execute(
        "SELECT balance FROM accounts WHERE id = ?", (account_id,)
    ).fetchone()
    if balance < amount:
        conn.execute("ROLLBACK")
        return False
    conn.execute(
        "UPDATE accounts SET balance = balance - ? WHERE id = ?", (amount, account_id)
    )
    conn.execute("COMMIT")
    return True
