"""督查通报: the monthly bulletin, kept as issued (a public record): its figures are a snapshot taken
when it was made, so the page and the Word file say the same thing years later."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.auth.models import User
from crm.database import Base, utcnow


class Bulletin(Base):
    __tablename__ = "bulletins"
    __audit__ = True
    __table_args__ = (UniqueConstraint("period_start", "period_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_kind: Mapped[str] = mapped_column(String(10))  # crm.dashboard.period KINDS
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    issued_on: Mapped[date] = mapped_column(Date)
    # The figures as they stood when it was made: ranking, red projects with reasons, overdue
    # letters and problems, screening timeliness (JSON-ready, written by crm.bulletins.services).
    content: Mapped[dict] = mapped_column(JSON, default=dict)
    made_by_job: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    created_by: Mapped[User | None] = relationship()
