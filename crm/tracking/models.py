"""The tracked project: its agreement, milestone plans (every replan kept) and actual dates,
investment actually made (到资), yearly output and tax, and the 23 steps reached with points."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import (Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, Numeric, String, Text,
                        UniqueConstraint, text, true)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.auth.models import Unit, User
from crm.database import Base, utcnow
from crm.leads.models import Lead
from crm.leads.pipeline import Stage

Money = Numeric(14, 2)


class Milestone(StrEnum):
    """The milestones an agreement plans, in their order (DOMAIN.md: 签约, 供地, 开工, 竣工, 投产, 上规)."""
    SIGN = "sign"
    LAND = "land"
    START = "start"
    COMPLETE = "complete"
    PRODUCE = "produce"
    ABOVE_SCALE = "above_scale"


MILESTONE_ORDER: tuple[Milestone, ...] = tuple(Milestone)

MILESTONE_LABELS = {
    Milestone.SIGN: _l("Signing"),
    Milestone.LAND: _l("Land supply"),
    Milestone.START: _l("Construction start"),
    Milestone.COMPLETE: _l("Completion"),
    Milestone.PRODUCE: _l("Production"),
    Milestone.ABOVE_SCALE: _l("Above designated size"),
}

# Recording a milestone's actual date moves the lead to this stage (one truth: the stage follows).
MILESTONE_STAGE = {
    Milestone.SIGN: Stage.SIGNED,
    Milestone.START: Stage.STARTED,
    Milestone.COMPLETE: Stage.COMPLETED,
    Milestone.PRODUCE: Stage.PRODUCING,
    Milestone.ABOVE_SCALE: Stage.ABOVE_SCALE,
}


def milestone_label(value: str) -> str:
    try:
        return str(MILESTONE_LABELS[Milestone(value)])
    except ValueError:
        return value


class Agreement(Base):
    """投资协议 of an admitted (or later) project: one per lead. Amounts in 万元, land in 亩."""

    __tablename__ = "agreements"
    __audit__ = True
    __table_args__ = (
        CheckConstraint("total_investment_wan >= 0", name="total_nonnegative"),
        CheckConstraint("fixed_asset_investment_wan >= 0", name="fixed_nonnegative"),
        CheckConstraint("land_area_mu >= 0", name="land_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), unique=True)
    total_investment_wan: Mapped[Decimal | None] = mapped_column(Money)
    fixed_asset_investment_wan: Mapped[Decimal | None] = mapped_column(Money)
    land_area_mu: Mapped[Decimal | None] = mapped_column(Money)
    promised_output_wan: Mapped[Decimal | None] = mapped_column(Money)  # per year once producing
    promised_tax_wan: Mapped[Decimal | None] = mapped_column(Money)     # per year once producing
    jobs: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    lead: Mapped[Lead] = relationship()
    updated_by: Mapped[User | None] = relationship()


class MilestonePlan(Base):
    """A planned date. A replan adds a row and marks the earlier one superseded: the first plan
    is never erased (current = superseded_at IS NULL)."""

    __tablename__ = "milestone_plans"
    __audit__ = True
    __table_args__ = (
        Index("ix_milestone_plans_lead_milestone", "lead_id", "milestone"),
        # The current plans by milestone and by date (the cockpit's 开工率, 履约率, 到资率 and
        # overdue milestones read them without the superseded ones).
        Index("ix_milestone_plans_current_milestone", "milestone", "planned_on", "lead_id",
              postgresql_where=text("superseded_at IS NULL"), sqlite_where=text("superseded_at IS NULL")),
        Index("ix_milestone_plans_current_on", "planned_on", "lead_id", "milestone",
              postgresql_where=text("superseded_at IS NULL"), sqlite_where=text("superseded_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    milestone: Mapped[str] = mapped_column(String(20))
    planned_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(500))  # why it was replanned
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    superseded_at: Mapped[datetime | None] = mapped_column()

    created_by: Mapped[User | None] = relationship()

    @property
    def milestone_label(self) -> str:
        return milestone_label(self.milestone)


class MilestoneActual(Base):
    """The day a milestone was really reached; evidence files are attachments of kind
    'milestone' owned by this row."""

    __tablename__ = "milestone_actuals"
    __audit__ = True
    __table_args__ = (UniqueConstraint("lead_id", "milestone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    milestone: Mapped[str] = mapped_column(String(20))
    actual_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    recorded_by: Mapped[User | None] = relationship()

    @property
    def milestone_label(self) -> str:
        return milestone_label(self.milestone)


class InvestmentEntry(Base):
    """到资: an amount of investment actually made, on a date (万元)."""

    __tablename__ = "investment_entries"
    __audit__ = True
    __table_args__ = (
        Index("ix_investment_entries_lead_paid", "lead_id", "paid_on"),
        CheckConstraint("amount_wan > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    paid_on: Mapped[date] = mapped_column(Date)
    amount_wan: Mapped[Decimal] = mapped_column(Money)
    note: Mapped[str | None] = mapped_column(String(500))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    recorded_by: Mapped[User | None] = relationship()


class YearlyResult(Base):
    """Output and tax of a producing project for one year (万元): typed in, or from the sheet the
    tax bureau sends (source 'tax_bureau', with the import's batch id)."""

    __tablename__ = "yearly_results"
    __audit__ = True
    __table_args__ = (
        UniqueConstraint("lead_id", "year"),
        CheckConstraint("output_wan >= 0", name="output_nonnegative"),
        CheckConstraint("tax_wan >= 0", name="tax_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    output_wan: Mapped[Decimal | None] = mapped_column(Money)
    tax_wan: Mapped[Decimal | None] = mapped_column(Money)
    source: Mapped[str] = mapped_column(String(20), default="manual")
    import_ref: Mapped[str | None] = mapped_column(String(64))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class StepPhase(StrEnum):
    NEGOTIATION = "negotiation"
    SIGNING = "signing"
    PREPARATION = "preparation"
    CONSTRUCTION = "construction"
    PRODUCTION = "production"


STEP_PHASE_LABELS = {
    StepPhase.NEGOTIATION: _l("Negotiation"),
    StepPhase.SIGNING: _l("Signing"),
    StepPhase.PREPARATION: _l("Preparing to build"),
    StepPhase.CONSTRUCTION: _l("Construction"),
    StepPhase.PRODUCTION: _l("Production"),
}


class StepDefinition(Base):
    """One of the 23 steps (将乐): the catalogue administrators edit. A step is retired
    (active False), never deleted, so points earned on it keep their name."""

    __tablename__ = "step_definitions"
    __audit__ = True
    __table_args__ = (CheckConstraint("points >= 0", name="points_nonnegative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    phase: Mapped[str] = mapped_column(String(20))
    points: Mapped[int] = mapped_column(Integer)
    evidence_required: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    @property
    def phase_label(self) -> str:
        try:
            return str(STEP_PHASE_LABELS[StepPhase(self.phase)])
        except ValueError:
            return self.phase


class StepRecord(Base):
    """A step reached: when, by whom, and the points, frozen with the unit that owned the project
    that day (a later move to another unit leaves earned points where they were earned).
    Evidence files are attachments of kind 'step' owned by this row."""

    __tablename__ = "step_records"
    __audit__ = True
    __table_args__ = (
        UniqueConstraint("lead_id", "step_id"),
        Index("ix_step_records_unit_reached", "unit_id", "reached_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("step_definitions.id"))
    reached_on: Mapped[date] = mapped_column(Date)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    points: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(500))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    step: Mapped[StepDefinition] = relationship()
    unit: Mapped[Unit] = relationship()
    recorded_by: Mapped[User | None] = relationship()


class TrackingSettings(Base):
    """The thresholds of the light, letter and efficiency rules (one row, id 1; DOMAIN.md's
    defaults). Each is a setting an administrator changes on /tracking/settings."""

    __tablename__ = "tracking_settings"
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    stale_months: Mapped[int] = mapped_column(Integer, default=2)             # no progress → yellow
    red_late_months: Mapped[int] = mapped_column(Integer, default=3)          # milestone late → red
    investment_behind_pct: Mapped[int] = mapped_column(Integer, default=30)   # 到资 behind plan → red
    started_not_completed_years: Mapped[int] = mapped_column(Integer, default=2)
    completed_not_producing_years: Mapped[int] = mapped_column(Integer, default=2)
    not_started_months: Mapped[int] = mapped_column(Integer, default=6)       # after planned start → red
    low_tax_per_mu_wan: Mapped[Decimal] = mapped_column(Money, default=Decimal(5))
    reminder_days_before: Mapped[int] = mapped_column(Integer, default=30)    # 提醒函
    assignment_days_overdue: Mapped[int] = mapped_column(Integer, default=15) # 交办函
    reply_working_days: Mapped[int] = mapped_column(Integer, default=5)       # 反馈 due
    investment_met_pct: Mapped[int] = mapped_column(Integer, default=90)      # 履约: 到资 ≥ 90% of plan
