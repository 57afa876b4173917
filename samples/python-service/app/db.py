"""The asyncpg connection pool shared by the services."""

from __future__ import annotations

import os

import asyncpg

DSN = os.environ.get("LEDGER_DSN", "postgresql://ledger@localhost:5432/ledger")


async def create_pool() -> asyncpg.Pool:
    """Opens the pool; each service call borrows one connection for one transaction."""
    return await asyncpg.create_pool(DSN, min_size=2, max_size=20, command_timeout=10)
