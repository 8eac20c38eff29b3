from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.auth.models import User
from crm.database import Base, utcnow


class Notification(Base):
    """A message for one user. Stored as a kind and parameters, worded in the reader's language."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    link: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column()
    emailed_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship()

    @property
    def message(self) -> str:
        from crm.notifications.messages import render

        return render(self.kind, self.params)
