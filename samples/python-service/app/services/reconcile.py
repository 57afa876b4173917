"""Nightly reconciliation of the ledger against the bank statement."""

from __future__ import annotations

import asyncpg

from app.repositories import accounts, ledger


async def apply_correction(pool: asyncpg.Pool, entry_id: int, booked_cents: int) -> None:
    """Sets an entry to the amount the bank booked and moves the difference on its account."""
    async with pool.acquire() as conn:
        async with conn.transaction():
            entry = await ledger.lock_entry(conn, entry_id)
            await ledger.correct_amount(conn, entry_id, booked_cents)
            await accounts.adjust_balance(
                conn, entry["account_id"], booked_cents - entry["amount_cents"]
            )
