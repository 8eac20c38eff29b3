"""Pre-screening (即时初审): settings, thresholds, the holiday table, cases and opinions."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, Numeric,
                        String, Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.auth.models import Unit, User
from crm.chains.models import Chain
from crm.database import Base, utcnow
from crm.leads.models import Lead


class Verdict(StrEnum):
    APPROVE = "approve"
    CONDITIONAL = "conditional"
    REJECT = "reject"


VERDICT_LABELS = {Verdict.APPROVE: _l("Approve"), Verdict.CONDITIONAL: _l("Approve with conditions"),
                  Verdict.REJECT: _l("Reject")}


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"  # the lead was terminated while the case was open


CASE_STATUS_LABELS = {CaseStatus.OPEN: _l("Open"), CaseStatus.CLOSED: _l("Closed"),
                      CaseStatus.WITHDRAWN: _l("Withdrawn")}


class CaseResult(StrEnum):
    PASS = "pass"
    CONDITIONAL = "conditional"
    FAIL = "fail"


RESULT_LABELS = {CaseResult.PASS: _l("Passed"), CaseResult.CONDITIONAL: _l("Passed with conditions"),
                 CaseResult.FAIL: _l("Not passed")}

# The dimensions every member unit rates (DOMAIN.md), 1 (poor) to 5 (excellent).
RATING_DIMENSIONS = ("scale", "intensity", "tech", "prospects", "compliance")
RATING_LABELS = {"scale": _l("Investment scale"), "intensity": _l("Investment intensity"),
                 "tech": _l("Tech content"), "prospects": _l("Prospects"), "compliance": _l("Compliance")}


class ScreeningSettings(Base):
    """The county's one row of settings (id 1)."""

    __tablename__ = "screening_settings"
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    working_days: Mapped[bool] = mapped_column(Boolean, default=True)  # False: calendar days
    period_days: Mapped[int] = mapped_column(Integer, default=3)


class ScreeningDefaultUnit(Base):
    """A member unit asked for its opinion on every case."""

    __tablename__ = "screening_default_units"
    __audit__ = True

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), primary_key=True)
    unit: Mapped[Unit] = relationship()


class ScreeningChainUnit(Base):
    """An extra member unit for one chain's cases (e.g. 生态环境 and 应急管理 for 精细化工)."""

    __tablename__ = "screening_chain_units"
    __audit__ = True

    chain_id: Mapped[int] = mapped_column(ForeignKey("chains.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), primary_key=True)
    unit: Mapped[Unit] = relationship()
    chain: Mapped[Chain] = relationship()


Amount = Numeric(14, 2)


class ScreeningThreshold(Base):
    """Minimum figures (标准地 indicators) for the county, a chain, a park, or a chain in a park.

    The most specific row wins per figure; an empty figure falls through to the next row.
    """

    __tablename__ = "screening_thresholds"
    __audit__ = True
    __table_args__ = tuple(
        CheckConstraint(f"{col} IS NULL OR {col} >= 0", name=f"{col}_not_negative")
        for col in ("min_total_investment_wan", "min_intensity_wan_per_mu", "min_tax_per_mu_wan",
                    "min_output_per_mu_wan", "min_tech_score"))

    id: Mapped[int] = mapped_column(primary_key=True)
    chain_id: Mapped[int | None] = mapped_column(ForeignKey("chains.id", ondelete="CASCADE"), index=True)
    park_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    min_total_investment_wan: Mapped[Decimal | None] = mapped_column(Amount)
    min_intensity_wan_per_mu: Mapped[Decimal | None] = mapped_column(Amount)
    min_tax_per_mu_wan: Mapped[Decimal | None] = mapped_column(Amount)
    min_output_per_mu_wan: Mapped[Decimal | None] = mapped_column(Amount)
    min_tech_score: Mapped[int | None] = mapped_column(Integer)

    chain: Mapped[Chain | None] = relationship()
    park: Mapped[Unit | None] = relationship()


class CalendarDay(Base):
    """The admin's holiday table: a holiday, or a make-up working day (调休上班)."""

    __tablename__ = "calendar_days"
    __audit__ = True

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(40), default="")


class CalendarYear(Base):
    """A year whose whole State Council schedule the admin has entered (its days above)."""

    __tablename__ = "calendar_years"
    __audit__ = True

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScreeningCase(Base):
    """One round of pre-screening of one lead. A resubmission opens a new round."""

    __tablename__ = "screening_cases"
    __audit__ = True
    __table_args__ = (
        UniqueConstraint("lead_id", "round"),
        Index("ix_screening_cases_status_due", "status", "due_at"),
        Index("ix_screening_cases_status_remind", "status", "remind_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer, default=1)
    previous_case_id: Mapped[int | None] = mapped_column(ForeignKey("screening_cases.id"))
    park_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column()
    note: Mapped[str | None] = mapped_column(Text)
    # Deadline: the end of the last day (local time) to answer, and when to remind. Both empty
    # when the holiday schedule of the due year is not known yet (`due_problem` says so).
    working_days: Mapped[bool] = mapped_column(Boolean, default=True)
    period_days: Mapped[int] = mapped_column(Integer, default=3)
    due_on: Mapped[date | None] = mapped_column(Date)
    due_at: Mapped[datetime | None] = mapped_column()
    remind_at: Mapped[datetime | None] = mapped_column()
    due_problem_year: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default=CaseStatus.OPEN.value)
    result: Mapped[str | None] = mapped_column(String(12))
    last_opinion_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    closed_by_deadline: Mapped[bool | None] = mapped_column(Boolean)
    # The 一次性告知书 as it stood at closing: [{"item": …, "units": [unit names]}]
    notice_items: Mapped[list | None] = mapped_column(JSON)
    # A resubmission: the items of the previous round's notice the officer ticked as supplied
    # (their texts); None on a first round.
    supplied_materials: Mapped[list | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    lead: Mapped[Lead] = relationship()
    previous_case: Mapped["ScreeningCase | None"] = relationship(remote_side=[id])
    park: Mapped[Unit | None] = relationship(foreign_keys=[park_unit_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    units: Mapped[list["CaseUnit"]] = relationship(back_populates="case", cascade="all, delete-orphan",
                                                   order_by="CaseUnit.position")
    opinions: Mapped[list["ScreeningOpinion"]] = relationship(
        back_populates="case", cascade="all, delete-orphan",
        order_by="ScreeningOpinion.unit_id, ScreeningOpinion.version")

    @property
    def is_open(self) -> bool:
        return self.status == CaseStatus.OPEN

    @property
    def status_label(self) -> str:
        return str(CASE_STATUS_LABELS.get(self.status, self.status))

    @property
    def result_label(self) -> str:
        return str(RESULT_LABELS.get(self.result, self.result or ""))

    def latest_opinions(self) -> dict[int, "ScreeningOpinion"]:
        """unit id → that unit's current opinion (its highest version)."""
        latest: dict[int, ScreeningOpinion] = {}
        for opinion in self.opinions:
            if opinion.unit_id not in latest or opinion.version > latest[opinion.unit_id].version:
                latest[opinion.unit_id] = opinion
        return latest

    def supplied_report(self) -> list[dict]:
        """A resubmission: each material the previous round's notice asked for, with the units
        that asked and whether the officer ticked it as supplied ([] on a first round)."""
        previous = self.previous_case
        if previous is None or not previous.notice_items:
            return []
        ticked = set(self.supplied_materials or [])
        return [{"item": e["item"], "units": e.get("units", []), "supplied": e["item"] in ticked}
                for e in previous.notice_items]

    def remarks(self) -> list[tuple[str, "ScreeningOpinion"]]:
        """(unit name, opinion) for the units that attached conditions or rejected."""
        latest = self.latest_opinions()
        return [(cu.unit.name, latest[cu.unit_id]) for cu in self.units if cu.unit_id in latest
                and (latest[cu.unit_id].conditions or latest[cu.unit_id].verdict == Verdict.REJECT)]


class CaseUnit(Base):
    """A member unit asked on a case, and how it answered (timeliness figures come from here)."""

    __tablename__ = "screening_case_units"
    __audit__ = True
    __table_args__ = (UniqueConstraint("case_id", "unit_id"),
                      Index("ix_screening_case_units_unit_pending", "unit_id", "answered_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("screening_cases.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    answered_at: Mapped[datetime | None] = mapped_column()   # the first opinion
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    missing: Mapped[bool] = mapped_column(Boolean, default=False)  # no opinion when the case closed
    reminded_at: Mapped[datetime | None] = mapped_column()

    case: Mapped[ScreeningCase] = relationship(back_populates="units")
    unit: Mapped[Unit] = relationship()


class ScreeningOpinion(Base):
    """One version of one unit's opinion; amending adds a version, the database keeps one per number."""

    __tablename__ = "screening_opinions"
    __audit__ = True
    __table_args__ = (
        UniqueConstraint("case_id", "unit_id", "version"),
        CheckConstraint("verdict IN ('approve', 'conditional', 'reject')", name="verdict_known"),
        # A rating is chosen (1-5) or absent (NULL: 未评); NULL passes the check.
        *(CheckConstraint(f"rating_{d} BETWEEN 1 AND 5", name=f"rating_{d}_range") for d in RATING_DIMENSIONS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("screening_cases.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    version: Mapped[int] = mapped_column(Integer)
    verdict: Mapped[str] = mapped_column(String(12))
    rating_scale: Mapped[int | None] = mapped_column(Integer)
    rating_intensity: Mapped[int | None] = mapped_column(Integer)
    rating_tech: Mapped[int | None] = mapped_column(Integer)
    rating_prospects: Mapped[int | None] = mapped_column(Integer)
    rating_compliance: Mapped[int | None] = mapped_column(Integer)
    materials: Mapped[list] = mapped_column(JSON, default=list)  # items the investor must supply
    conditions: Mapped[str | None] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column()
    late: Mapped[bool] = mapped_column(Boolean, default=False)

    case: Mapped[ScreeningCase] = relationship(back_populates="opinions")
    unit: Mapped[Unit] = relationship()
    author: Mapped[User | None] = relationship()

    @property
    def verdict_label(self) -> str:
        return str(VERDICT_LABELS.get(self.verdict, self.verdict))

    def ratings(self) -> list[tuple[str, int | None]]:
        """(label, 1-5 or None when the unit did not rate that dimension)."""
        return [(str(RATING_LABELS[d]), getattr(self, f"rating_{d}")) for d in RATING_DIMENSIONS]
