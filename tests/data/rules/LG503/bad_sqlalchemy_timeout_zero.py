"""LG503 bad: the engine passes timeout=0 to sqlite3: a writer that finds the database locked
fails at once with "database is locked" instead of waiting for the other writer's commit.
"""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

engine = create_async_engine("sqlite+aiosqlite:///app.db", connect_args={"timeout": 0})


async def bump(counter: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE counters SET n = n + 1 WHERE name = :name"), {"name": counter}
        )
