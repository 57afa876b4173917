"""LG502 bad: a job queue worker backs off with asyncio.sleep while its write is uncommitted.

The INSERT makes the sqlite3 module open a transaction and take the write lock; every other
writer of jobs.db waits for the whole sleep.
"""

import asyncio

import aiosqlite


async def claim(job_id: int, attempt: int) -> None:
    async with aiosqlite.connect("jobs.db") as db:
        await db.execute("INSERT INTO attempts (job_id, n) VALUES (?, ?)", (job_id, attempt))
        await asyncio.sleep(2**attempt)
        await db.execute("UPDATE jobs SET state = 'running' WHERE id = ?", (job_id,))
        await db.commit()
