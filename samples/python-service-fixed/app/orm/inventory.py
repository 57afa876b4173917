"""Stock reservations for incoming orders."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.orm.models import StockLevel


class OutOfStock(Exception):
    """Raised when fewer units are available than an order asks for."""


async def reserve(session: AsyncSession, stock_id: int, quantity: int) -> None:
    """Promises `quantity` units of a SKU to an order.

    The row is locked FOR UPDATE, the strongest lock the transaction needs, before the availability
    check: a second reservation of the same SKU waits here, holding nothing. The update is flushed
    when the `begin()` block commits.
    """
    async with session.begin():
        stock = await session.scalar(
            select(StockLevel).where(StockLevel.id == stock_id).with_for_update()
        )
        if stock is None or stock.available < quantity:
            raise OutOfStock(stock_id)
        stock.reserved += quantity
