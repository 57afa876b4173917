"""Payments: record the attempt, ask the payment provider, store its answer."""

import aiosqlite
import httpx

from app.db import DB_PATH

PROVIDER_URL = "https://payments.example.com/charge"


async def charge(order_id: int, amount: int) -> str:
    async with aiosqlite.connect(DB_PATH) as db:
        # The sqlite3 module opens a DEFERRED transaction before this INSERT: the write lock
        # is taken here and held until commit().
        await db.execute(
            "INSERT INTO payments (order_id, amount, status) VALUES (?, ?, 'pending')",
            (order_id, amount),
        )
        async with httpx.AsyncClient() as client:
            resp = await client.post(PROVIDER_URL, json={"order": order_id, "amount": amount})
        status = "paid" if resp.status_code == 200 else "failed"
        await db.execute(
            "UPDATE payments SET status = ? WHERE order_id = ?", (status, order_id)
        )
        await db.commit()
        return status
