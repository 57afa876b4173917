"""LG102 good: the seat is locked FOR UPDATE (the strongest lock the transaction needs) before the
update, so a second hold waits before it holds anything."""

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
            select(Seat).where(Seat.id == seat_id).with_for_update()
        ).scalar_one()
        if seat.status != "free":
            return False
        seat.status = "held"
    return True
