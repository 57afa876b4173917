"""Nightly reconciliation of the ledger against the bank statement."""

from __future__ import annotations

import asyncpg

from app.repositories import accounts, ledger


async def apply_correction(pool: asyncpg.Pool, entry_id: int, booked_cents: int) -> None:
    """Sets an entry to the amount the bank booked and moves the difference on its account.

    Locks the account before the entry, like `transfers.settle_entry`: every transaction of the
    service takes `accounts` before `ledger_entries`.
    """
    async with pool.acquire() as conn:
        async with conn.transaction():
            unlocked = await ledger.get_entry(conn, entry_id)
            await accounts.lock_account(conn, unlocked["account_id"])
            entry = await ledger.lock_entry(conn, entry_id)
            await ledger.correct_amount(conn, entry_id, booked_cents)
            await accounts.adjust_balance(
                conn, entry["account_id"], booked_cents - entry["amount_cents"]
            )
