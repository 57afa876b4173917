"""Wallet accounts."""

from __future__ import annotations

import asyncpg


async def adjust_balance(conn: asyncpg.Connection, account_id: int, delta_cents: int) -> None:
    """Adds `delta_cents` (negative for a debit) to the balance of the account."""
    await conn.execute(
        "UPDATE accounts SET balance_cents = balance_cents + $2, updated_at = now() WHERE id = $1",
        account_id,
        delta_cents,
    )
