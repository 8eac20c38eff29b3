"""A letter: written once per project, milestone and kind by the nightly job; acknowledged
(签收) and answered (反馈) by the unit it is addressed to."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.auth.models import Unit, User
from crm.database import Base, utcnow
from crm.leads.models import Lead


class LetterKind(StrEnum):
    REMINDER = "reminder"        # 提醒函: a month before a planned start or production
    ASSIGNMENT = "assignment"    # 交办函: a start or production 15 days overdue
    SUPERVISION = "supervision"  # 督办函: the project turned red


LETTER_KIND_LABELS = {
    LetterKind.REMINDER: _l("Reminder letter"),
    LetterKind.ASSIGNMENT: _l("Assignment letter"),
    LetterKind.SUPERVISION: _l("Supervision letter"),
}

# The supervision letter is about the project, not one milestone: its key in the unique triple.
PROJECT_KEY = "project"


class Letter(Base):
    __tablename__ = "tracking_letters"
    __audit__ = True
    __table_args__ = (
        UniqueConstraint("lead_id", "milestone", "kind"),
        Index("ix_tracking_letters_unit_state", "unit_id", "acknowledged_at", "replied_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    milestone: Mapped[str] = mapped_column(String(20))  # a Milestone value, or PROJECT_KEY
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    issued_on: Mapped[date] = mapped_column(Date)
    planned_on: Mapped[date | None] = mapped_column(Date)  # the milestone's planned date it is about
    reasons: Mapped[str | None] = mapped_column(Text)     # for 督办函: the red reasons in words
    reply_due_on: Mapped[date] = mapped_column(Date)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    reply: Mapped[str | None] = mapped_column(Text)
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    replied_at: Mapped[datetime | None] = mapped_column()
    replied_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lead: Mapped[Lead] = relationship()
    unit: Mapped[Unit] = relationship()
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    replied_by: Mapped[User | None] = relationship(foreign_keys=[replied_by_id])

    @property
    def kind_label(self) -> str:
        return str(LETTER_KIND_LABELS.get(self.kind, self.kind))
