"""Stock reservations: check the quantity, then take it."""

import aiosqlite

from app.db import DB_PATH


async def reserve(sku: str, qty: int) -> bool:
    # isolation_level=None: the sqlite3 module sends no BEGIN of its own. BEGIN IMMEDIATE takes
    # the write lock before the read, so a second reservation waits (busy timeout) instead of
    # failing with SQLITE_BUSY.
    async with aiosqlite.connect(DB_PATH, isolation_level=None) as db:
        await db.execute("BEGIN IMMEDIATE")
        cur = await db.execute("SELECT qty FROM stock WHERE sku = ?", (sku,))
        row = await cur.fetchone()
        if row is None or row[0] < qty:
            await db.execute("ROLLBACK")
            return False
        await db.execute("UPDATE stock SET qty = qty - ? WHERE sku = ?", (qty, sku))
        await db.execute("COMMIT")
        return True
