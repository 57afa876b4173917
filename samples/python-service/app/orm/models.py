"""SQLAlchemy models of the warehouse tables (created by migrations/0002_stock_levels.sql)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of the warehouse models."""


class StockLevel(Base):
    """Units of one SKU on hand, and how many of them are promised to open orders."""

    __tablename__ = "stock_levels"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    on_hand: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)

    @property
    def available(self) -> int:
        """Units that can still be promised."""
        return self.on_hand - self.reserved
