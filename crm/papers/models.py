"""Official papers: who issues them (a county setting) and the document numbers given out."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.database import Base, utcnow


class PaperKind(StrEnum):
    NOTICE = "notice"    # 一次性告知书: one per closed screening case (subject = the case's id)
    MINUTES = "minutes"  # 会议纪要: one per closed meeting (subject = the meeting's id)
    LETTER = "letter"    # 三函 (提醒函, 交办函, 督办函): one series a year (subject = the letter's id)
    BULLETIN = "bulletin"  # 督查通报: one per bulletin (subject = the bulletin's id)


class PaperSettings(Base):
    """The county's issuers and number prefixes (one row, id 1). Empty until an admin sets them:
    the papers then say so instead of printing an empty issuer line."""

    __tablename__ = "paper_settings"
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_issuer: Mapped[str] = mapped_column(String(100), default="")    # 将乐县招商服务中心
    minutes_issuer: Mapped[str] = mapped_column(String(100), default="")   # 将乐县招商引资工作领导小组办公室
    notice_prefix: Mapped[str] = mapped_column(String(20), default="")     # 将招初审
    minutes_prefix: Mapped[str] = mapped_column(String(20), default="")    # 将招纪要
    letter_issuer: Mapped[str] = mapped_column(String(100), default="")    # 将乐县招商引资工作领导小组办公室
    letter_prefix: Mapped[str] = mapped_column(String(20), default="")     # 将招函
    bulletin_issuer: Mapped[str] = mapped_column(String(100), default="")  # 将乐县招商引资工作领导小组办公室
    bulletin_prefix: Mapped[str] = mapped_column(String(20), default="")   # 将招督

    def issuer(self, kind: str) -> str:
        return (getattr(self, f"{PaperKind(kind).value}_issuer") or "").strip()

    def prefix(self, kind: str) -> str:
        return (getattr(self, f"{PaperKind(kind).value}_prefix") or "").strip()


class DocumentCounter(Base):
    """The last number given out per kind and year; only ever incremented (never reused)."""

    __tablename__ = "document_counters"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class DocumentNumber(Base):
    """A number given to one paper: unique per kind and year, one per subject, kept forever
    (subject_id is no foreign key: the number stays taken even if its subject goes)."""

    __tablename__ = "document_numbers"
    __audit__ = True
    __table_args__ = (
        UniqueConstraint("kind", "year", "number"),
        UniqueConstraint("kind", "subject_id"),
        CheckConstraint("number > 0", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    subject_id: Mapped[int] = mapped_column(Integer)
    # The prefix as it stood when the number was given (a later rename does not rewrite it);
    # empty when none was set then, and the current one is shown.
    prefix: Mapped[str] = mapped_column(String(20), default="")
    issued_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def text(self, current_prefix: str = "") -> str:
        """将招初审〔2026〕12号 (GB/T 9704: hexagonal brackets, no leading zeros, no 第)."""
        return f"{self.prefix or current_prefix}〔{self.year}〕{self.number}号"
