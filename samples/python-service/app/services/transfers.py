"""Settlement of pending transfers (called by the payments worker)."""

from __future__ import annotations

import asyncpg

from app.repositories import accounts, ledger


async def settle_entry(pool: asyncpg.Pool, entry_id: int, account_id: int, amount_cents: int) -> None:
    """Books a pending entry: moves the money on the account, then marks the entry settled."""
    async with pool.acquire() as conn:
        async with conn.transaction():
            await accounts.adjust_balance(conn, account_id, amount_cents)
            await ledger.mark_settled(conn, entry_id)


async def request_payout(pool: asyncpg.Pool, account_id: int, amount_cents: int) -> int:
    """Records a pending payout and returns its entry id; `settle_entry` books it later."""
    async with pool.acquire() as conn:
        return await ledger.add_entry(conn, account_id, -amount_cents)
