"""LG501 bad: a DEFERRED transaction reads the balance, then writes it.

Two concurrent withdrawals both read (SHARED lock / WAL snapshot); the first UPDATE gets the
write lock and the second fails with SQLITE_BUSY at once, whatever the busy timeout.
"""

import sqlite3


def withdraw(account_id: int, amount: int) -> bool:
    conn = sqlite3.connect("bank.db", isolation_level=None)
    conn.execute("BEGIN")
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
