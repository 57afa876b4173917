"""LG503 good: no timeout given, so sqlite3's default applies: a locked database is retried for
5 seconds (SQLAlchemy's aiosqlite and pysqlite dialects pass connect_args through to it).
"""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

engine = create_async_engine("sqlite+aiosqlite:///app.db")


async def bump(counter: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE counters SET n = n + 1 WHERE name = :name"), {"name": counter}
        )
