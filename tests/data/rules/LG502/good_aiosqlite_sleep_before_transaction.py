"""LG502 good: the back-off happens before the transaction; it holds no lock while sleeping."""

import asyncio

import aiosqlite


async def claim(job_id: int, attempt: int) -> None:
    await asyncio.sleep(2**attempt)
    async with aiosqlite.connect("jobs.db") as db:
        await db.execute("INSERT INTO attempts (job_id, n) VALUES (?, ?)", (job_id, attempt))
        await db.execute("UPDATE jobs SET state = 'running' WHERE id = ?", (job_id,))
        await db.commit()
