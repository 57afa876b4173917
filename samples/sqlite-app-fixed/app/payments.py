"""Payments: ask the payment provider first, then record the attempt and its answer."""

import aiosqlite
import httpx

from app.db import DB_PATH

PROVIDER_URL = "https://payments.example.com/charge"


async def charge(order_id: int, amount: int) -> str:
    # The provider is called before the transaction: no lock is held while we wait for it.
    async with httpx.AsyncClient() as client:
        resp = await client.post(PROVIDER_URL, json={"order": order_id, "amount": amount})
    status = "paid" if resp.status_code == 200 else "failed"
    async with aiosqlite.connect(DB_PATH) as db:
        await db.execute(
            "INSERT INTO payments (order_id, amount, status) VALUES (?, ?, 'pending')",
            (order_id, amount),
        )
        await db.execute(
            "UPDATE payments SET status = ? WHERE order_id = ?", (status, order_id)
        )
        await db.commit()
        return status
