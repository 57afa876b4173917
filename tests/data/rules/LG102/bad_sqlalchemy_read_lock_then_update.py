"""LG102 bad: SQLAlchemy reads a seat with `with_for_update(read=True)` (FOR SHARE), then updates it.

Two requests for the same seat both take the share lock; each UPDATE waits for the other's.
"""

from sqlalchemy import String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Seat(Base):
    __tablename__ = "seats"
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="free")


def hold(session: Session, seat_id: int) -> bool:
    with session.begin():
        seat = session.execute(
            select(Seat).where(Seat.id == seat_id).with_for_update(read=True)
        ).scalar_one()
        if seat.status != "free":
            return False
        seat.status = "held"
    return True
