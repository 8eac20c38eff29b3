from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import (Boolean, Date, Float, ForeignKey, Index, Integer, Numeric, String, Text, and_, false, func,
                        or_, true)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm import clock
from crm.auth.models import Unit, User
from crm.chains.models import Chain, ChainNode
from crm.database import Base, utcnow
from crm.leads.names import normalize_company_name  # noqa: F401  (re-exported: the key's one home is names)
from crm.leads.pipeline import MAIN_LINE, Stage, rank, stage_label


class SourceKind(StrEnum):
    HOMETOWN = "hometown"
    CHAMBER = "chamber"
    ADVISOR = "advisor"
    INTERMEDIARY = "intermediary"
    CLIENT = "client"
    ONLINE = "online"
    EVENT = "event"


SOURCE_KIND_LABELS = {
    SourceKind.HOMETOWN: _l("Hometown network (xiangxian)"),
    SourceKind.CHAMBER: _l("Chamber of commerce"),
    SourceKind.ADVISOR: _l("Investment advisor"),
    SourceKind.INTERMEDIARY: _l("Intermediary agency"),
    SourceKind.CLIENT: _l("Direct client"),
    SourceKind.ONLINE: _l("Online negotiation"),
    SourceKind.EVENT: _l("Promotion event"),
}

SOURCE_KIND_CHINESE = {
    SourceKind.HOMETOWN: "乡贤", SourceKind.CHAMBER: "商会", SourceKind.ADVISOR: "招商顾问",
    SourceKind.INTERMEDIARY: "第三方中介机构", SourceKind.CLIENT: "客商",
    SourceKind.ONLINE: "云洽谈", SourceKind.EVENT: "推介会",
}


class ActivityKind(StrEnum):
    VISIT = "visit"
    CALL = "call"
    MEETING = "meeting"
    ONLINE = "online"
    EVENT = "event"


ACTIVITY_KIND_LABELS = {
    ActivityKind.VISIT: _l("Visit"),
    ActivityKind.CALL: _l("Call"),
    ActivityKind.MEETING: _l("Meeting"),
    ActivityKind.ONLINE: _l("Online negotiation"),
    ActivityKind.EVENT: _l("Event"),
}

class Source(Base):
    """A named channel of one kind: a chamber, a named 乡贤, an agency, an event."""

    __tablename__ = "sources"
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    contact: Mapped[str | None] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def kind_label(self) -> str:
        return str(SOURCE_KIND_LABELS.get(self.kind, self.kind))


Money = Numeric(14, 2)


class Lead(Base):
    __tablename__ = "leads"
    __audit__ = True
    # Bookkeeping, not a person's change (crm.audit.listener): the name key follows the name, the
    # scores and their pending mark follow the scoring job, the editor is the entry's actor.
    __audit_ignore__ = frozenset({"company_key", "score_pending", "p_sign", "p_land", "score_grade",
                                  "score_source", "score_model_version", "scored_at", "updated_by_id"})
    __table_args__ = (
        # Keyset pagination: each sort key with id as the tie-breaker, filters first.
        Index("ix_leads_unit_updated", "owner_unit_id", "updated_at", "id"),
        Index("ix_leads_updated", "updated_at", "id"),
        Index("ix_leads_stage_updated", "stage", "updated_at", "id"),
        Index("ix_leads_created_on", "created_on", "id"),
        Index("ix_leads_company", "company_name", "id"),
        Index("ix_leads_score_pending", "score_pending"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_name: Mapped[str] = mapped_column(String(200))
    company_key: Mapped[str] = mapped_column(String(200), index=True)  # normalize_company_name
    uscc: Mapped[str | None] = mapped_column(String(18), index=True)
    project_name: Mapped[str | None] = mapped_column(String(200))
    chain_id: Mapped[int | None] = mapped_column(ForeignKey("chains.id"), index=True)
    chain_node_id: Mapped[int | None] = mapped_column(ForeignKey("chain_nodes.id"), index=True)
    source_kind: Mapped[str | None] = mapped_column(String(20), index=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"), index=True)
    origin_region: Mapped[str | None] = mapped_column(String(60))

    planned_investment_wan: Mapped[Decimal | None] = mapped_column(Money)
    fixed_asset_investment_wan: Mapped[Decimal | None] = mapped_column(Money)
    land_area_mu: Mapped[Decimal | None] = mapped_column(Money)
    expected_output_wan: Mapped[Decimal | None] = mapped_column(Money)
    expected_tax_wan: Mapped[Decimal | None] = mapped_column(Money)
    high_tech: Mapped[bool | None] = mapped_column(Boolean)
    specialized: Mapped[bool | None] = mapped_column(Boolean)
    patents: Mapped[int | None] = mapped_column(Integer)
    rd_ratio: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    jobs: Mapped[int | None] = mapped_column(Integer)

    owner_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    stage: Mapped[str] = mapped_column(String(20), default=Stage.LEAD.value)
    created_on: Mapped[date] = mapped_column(Date, default=lambda: clock.today())  # the county's today
    signed_on: Mapped[date | None] = mapped_column(Date)
    started_on: Mapped[date | None] = mapped_column(Date)
    lost_reason: Mapped[str | None] = mapped_column(String(500))
    note: Mapped[str | None] = mapped_column(Text)

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The latest scores (crm.scoring), kept here for the list's sort and filter; the history is
    # in lead_scores. score_pending: changed since last scored (rescored by a job).
    p_sign: Mapped[float | None] = mapped_column(Float)
    p_land: Mapped[float | None] = mapped_column(Float)
    score_grade: Mapped[str | None] = mapped_column(String(2))
    score_source: Mapped[str | None] = mapped_column(String(8))
    score_model_version: Mapped[str | None] = mapped_column(String(40))
    scored_at: Mapped[datetime | None] = mapped_column()
    score_pending: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Loaded by an administrator's historical ledger import (its outcomes were not reached in
    # this app: no pre-screening case or vote stands behind them).
    imported_history: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __mapper_args__ = {"version_id_col": version}

    chain: Mapped[Chain | None] = relationship()
    chain_node: Mapped[ChainNode | None] = relationship()
    source: Mapped[Source | None] = relationship()
    owner_unit: Mapped[Unit] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    activities: Mapped[list["LeadActivity"]] = relationship(
        back_populates="lead", order_by="LeadActivity.occurred_on.desc(), LeadActivity.id.desc()",
        cascade="all, delete-orphan")
    stage_changes: Mapped[list["LeadStageChange"]] = relationship(
        back_populates="lead", order_by="LeadStageChange.changed_at, LeadStageChange.id",
        cascade="all, delete-orphan")

    # --- derived figures ------------------------------------------------------------------
    @property
    def investment_intensity(self) -> Decimal | None:
        """万元/亩: fixed-asset investment ÷ land area; unknown when either is missing."""
        return per_mu(self.fixed_asset_investment_wan, self.land_area_mu)

    @property
    def tax_per_mu(self) -> Decimal | None:
        return per_mu(self.expected_tax_wan, self.land_area_mu)

    @property
    def output_per_mu(self) -> Decimal | None:
        return per_mu(self.expected_output_wan, self.land_area_mu)

    @property
    def stage_label(self) -> str:
        return stage_label(self.stage)

    @property
    def is_signed(self) -> bool:
        return self.signed_on is not None or rank(self.stage) >= rank(Stage.SIGNED)

    def __repr__(self) -> str:
        return f"<Lead {self.id} {self.company_name}>"


# The list sorts unknown planned investment last via COALESCE(…, -1) (crm.leads.queries.SORTS).
Index("ix_leads_planned", func.coalesce(Lead.planned_investment_wan, -1), Lead.id)
# The list sorts by the chance of signing, unscored leads last (crm.leads.queries.SORTS).
Index("ix_leads_p_sign", func.coalesce(Lead.p_sign, -1), Lead.id)
# The tracked projects (crm.tracking.queries.tracked_condition, the same predicate): the cockpit's
# watch and rates join a third of the leads by it; a partial index (with the scope's columns on
# PostgreSQL) reads them without scanning every lead. Its predicate must stay the query's.
_TRACKED = or_(Lead.stage.in_([s.value for s in MAIN_LINE if rank(s) >= rank(Stage.ADMITTED)]),
               and_(Lead.stage == Stage.LOST.value, Lead.signed_on.is_not(None)))
Index("ix_leads_tracked", Lead.id, postgresql_include=["owner_unit_id", "chain_id"],
      postgresql_where=_TRACKED, sqlite_where=_TRACKED)


def per_mu(amount: Decimal | None, area: Decimal | None) -> Decimal | None:
    """Unknown (not an error) when an input is missing, not finite or the result is absurd: a
    value stored before the ranges were enforced must still let the lead's pages render."""
    if amount is None or area is None:
        return None
    amount, area = Decimal(amount), Decimal(area)
    if not (amount.is_finite() and area.is_finite()) or area <= 0:
        return None
    try:
        return (amount / area).quantize(Decimal("0.01"))
    except InvalidOperation:  # more digits than the context holds (1e30 ÷ 1)
        return None


class LeadActivity(Base):
    """A follow-up: visit, call, meeting, 云洽谈 or event, with the next follow-up date."""

    __tablename__ = "lead_activities"
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    occurred_on: Mapped[date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text)
    next_follow_up_on: Mapped[date | None] = mapped_column(Date, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lead: Mapped[Lead] = relationship(back_populates="activities")
    created_by: Mapped[User | None] = relationship()

    @property
    def kind_label(self) -> str:
        return str(ACTIVITY_KIND_LABELS.get(self.kind, self.kind))


class LeadStageChange(Base):
    __tablename__ = "lead_stage_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(500))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Written by the historical ledger import, dated from the file: a recorded past, not a move
    # seen by the app (scoring does not read it as a known stay in a stage).
    history: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    lead: Mapped[Lead] = relationship(back_populates="stage_changes")
    changed_by: Mapped[User | None] = relationship()


class StageReached(Base):
    """The day a lead first reached a stage: a projection kept by crm.dashboard.stage_dates from
    the sources of truth (the stage history, the milestone actuals, the lead's 签约/开工 dates), so
    a figure for any period is one indexed count. Nothing else writes it."""

    __tablename__ = "stage_reached"
    __table_args__ = (Index("ix_stage_reached_stage_on", "stage", "reached_on", "lead_id"),)

    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True)
    stage: Mapped[str] = mapped_column(String(20), primary_key=True)
    reached_on: Mapped[date] = mapped_column(Date)
    # Not reached on its own: a later main-line stage was (an imported ledger row at 签约 implies
    # 同意落地 on or before that day). Counted as reached; left out of the median days.
    implied: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The next main-line stage's day and `implied` (NULL: not reached yet, or no next stage), from
    # the same rebuild: the funnel and the conversion rates read a step from one row, no self-join.
    next_on: Mapped[date | None] = mapped_column(Date)
    next_implied: Mapped[bool | None] = mapped_column(Boolean)
