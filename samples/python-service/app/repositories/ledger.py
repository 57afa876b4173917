"""Ledger entries: one row per leg of a transfer, `pending` until it is settled."""

from __future__ import annotations

import asyncpg


async def add_entry(conn: asyncpg.Connection, account_id: int, amount_cents: int) -> int:
    """Records a pending entry and returns its id."""
    return await conn.fetchval(
        "INSERT INTO ledger_entries (account_id, amount_cents) VALUES ($1, $2) RETURNING id",
        account_id,
        amount_cents,
    )


async def lock_entry(conn: asyncpg.Connection, entry_id: int) -> asyncpg.Record:
    """Locks the entry for the rest of the transaction and returns it."""
    return await conn.fetchrow(
        "SELECT id, account_id, amount_cents, status FROM ledger_entries WHERE id = $1 FOR UPDATE",
        entry_id,
    )


async def mark_settled(conn: asyncpg.Connection, entry_id: int) -> None:
    """Marks a pending entry as settled."""
    await conn.execute(
        "UPDATE ledger_entries SET status = 'settled', settled_at = now() WHERE id = $1",
        entry_id,
    )


async def correct_amount(conn: asyncpg.Connection, entry_id: int, amount_cents: int) -> None:
    """Replaces the amount of an entry with the one the bank booked."""
    await conn.execute(
        "UPDATE ledger_entries SET amount_cents = $2, status = 'corrected' WHERE id = $1",
        entry_id,
        amount_cents,
    )
