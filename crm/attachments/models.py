"""A file attached to a record (a screening case, a unit's opinion, an agenda item, …)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.auth.models import User
from crm.database import Base


class Attachment(Base):
    """One stored file. `original_name` is for display and the download's name only, never a
    path; the bytes live under the attachments directory as `stored_name` (random)."""

    __tablename__ = "attachments"
    __audit__ = True
    __table_args__ = (
        Index("ix_attachments_owner", "owner_kind", "owner_id"),
        CheckConstraint("size >= 0", name="size_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_kind: Mapped[str] = mapped_column(String(40))   # a kind registered in crm.attachments.registry
    owner_id: Mapped[int] = mapped_column(Integer)
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(120))  # detected from the content
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column()
    note: Mapped[str | None] = mapped_column(Text)

    uploaded_by: Mapped[User | None] = relationship()
