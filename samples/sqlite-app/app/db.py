"""Database settings shared by the service: one SQLite file, opened with aiosqlite."""

import aiosqlite

DB_PATH = "shop.db"

SCHEMA = """
CREATE TABLE IF NOT EXISTS stock (sku TEXT PRIMARY KEY, qty INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS payments (order_id INTEGER PRIMARY KEY, amount INTEGER, status TEXT);
"""


async def init_db() -> None:
    async with aiosqlite.connect(DB_PATH) as db:
        await db.execute("PRAGMA journal_mode=WAL")
        await db.executescript(SCHEMA)
