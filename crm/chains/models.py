"""Industry chains (产业链), their nodes, the local firms at each node and the target companies
the county goes after (招商目标企业, the rows of the 招商作战表)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.database import Base, utcnow

if TYPE_CHECKING:  # the leads and auth models import this module
    from crm.auth.models import Unit, User
    from crm.leads.models import Lead


class Tier(StrEnum):
    UPSTREAM = "upstream"
    MIDSTREAM = "midstream"
    DOWNSTREAM = "downstream"


TIER_LABELS = {Tier.UPSTREAM: _l("Upstream"), Tier.MIDSTREAM: _l("Midstream"),
               Tier.DOWNSTREAM: _l("Downstream")}
TIER_CHINESE = {Tier.UPSTREAM: "上游", Tier.MIDSTREAM: "中游", Tier.DOWNSTREAM: "下游"}


class Intent(StrEnum):
    """What the county means to do at a node (差什么引什么、弱什么补什么、强什么增什么)."""

    FILL = "fill"              # 补链: nobody local does it
    EXTEND = "extend"          # 延链: a step the chain does not reach yet
    STRENGTHEN = "strengthen"  # 强链: present but weak or small


INTENT_LABELS = {Intent.FILL: _l("Fill a gap (补链)"), Intent.EXTEND: _l("Extend (延链)"),
                 Intent.STRENGTHEN: _l("Strengthen (强链)")}
INTENT_CHINESE = {Intent.FILL: "补链", Intent.EXTEND: "延链", Intent.STRENGTHEN: "强链"}


class Priority(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


PRIORITY_LABELS = {Priority.HIGH: _l("High"), Priority.MEDIUM: _l("Medium"), Priority.LOW: _l("Low")}
PRIORITY_CHINESE = {Priority.HIGH: "高", Priority.MEDIUM: "中", Priority.LOW: "低"}
PRIORITY_ORDER = {Priority.HIGH: 1, Priority.MEDIUM: 2, Priority.LOW: 3}


class TargetStatus(StrEnum):
    NOT_CONTACTED = "not_contacted"
    CONTACTED = "contacted"
    CONVERTED = "converted"    # turned into a lead (lead_id set)
    DROPPED = "dropped"


TARGET_STATUS_LABELS = {TargetStatus.NOT_CONTACTED: _l("Not contacted"), TargetStatus.CONTACTED: _l("Contacted"),
                        TargetStatus.CONVERTED: _l("Converted to lead"), TargetStatus.DROPPED: _l("Dropped")}
TARGET_STATUS_CHINESE = {TargetStatus.NOT_CONTACTED: "未接触", TargetStatus.CONTACTED: "已接触",
                         TargetStatus.CONVERTED: "已转线索", TargetStatus.DROPPED: "已放弃"}


def _label(labels: dict, value) -> str:
    return str(labels.get(value, value or ""))


class Chain(Base):
    __tablename__ = "chains"
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str | None] = mapped_column(Text)

    nodes: Mapped[list["ChainNode"]] = relationship(
        back_populates="chain", order_by="ChainNode.position, ChainNode.id", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Chain {self.code}>"


class ChainNode(Base):
    __tablename__ = "chain_nodes"
    __audit__ = True
    __table_args__ = (UniqueConstraint("chain_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chain_id: Mapped[int] = mapped_column(ForeignKey("chains.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    tier: Mapped[str] = mapped_column(String(12))
    position: Mapped[int] = mapped_column(Integer, default=0)
    intent: Mapped[str | None] = mapped_column(String(12))  # Intent
    note: Mapped[str | None] = mapped_column(Text)

    chain: Mapped[Chain] = relationship(back_populates="nodes")
    enterprises: Mapped[list["LocalEnterprise"]] = relationship(
        back_populates="node", order_by="LocalEnterprise.id", cascade="all, delete-orphan")

    @property
    def tier_label(self) -> str:
        return _label(TIER_LABELS, self.tier)

    @property
    def intent_label(self) -> str:
        return _label(INTENT_LABELS, self.intent)


class LocalEnterprise(Base):
    """A firm already in the county at a node (名称, USCC, output): what makes a node covered."""

    __tablename__ = "chain_enterprises"
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("chain_nodes.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str | None] = mapped_column(String(18))
    output_wan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # annual output, 万元
    note: Mapped[str | None] = mapped_column(String(500))

    node: Mapped[ChainNode] = relationship(back_populates="enterprises")


class Target(Base):
    """A company the county means to attract to a node: one row of the 招商作战表."""

    __tablename__ = "chain_targets"
    __audit__ = True
    __table_args__ = (
        CheckConstraint("status <> 'converted' OR lead_id IS NOT NULL", name="converted_has_lead"),
        # The export walks one node after another, priority first.
        Index("ix_chain_targets_node_order", "node_id", "priority_rank", "id"),
        Index("ix_chain_targets_unit_status", "unit_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("chain_nodes.id"))
    company_name: Mapped[str] = mapped_column(String(200))
    company_key: Mapped[str] = mapped_column(String(200), index=True)  # normalize_company_name
    uscc: Mapped[str | None] = mapped_column(String(18), index=True)
    location: Mapped[str | None] = mapped_column(String(100))   # where the company is now
    reason: Mapped[str] = mapped_column(String(12))              # Intent
    note: Mapped[str | None] = mapped_column(String(1000))
    priority: Mapped[str] = mapped_column(String(8), default=Priority.MEDIUM.value)
    priority_rank: Mapped[int] = mapped_column(Integer, default=2)  # 1 high … 3 low, for sorting
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), default=TargetStatus.NOT_CONTACTED.value)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    node: Mapped[ChainNode] = relationship()
    unit: Mapped[Unit] = relationship()
    officer: Mapped[User | None] = relationship()
    lead: Mapped[Lead | None] = relationship()

    @property
    def reason_label(self) -> str:
        return _label(INTENT_LABELS, self.reason)

    @property
    def priority_label(self) -> str:
        return _label(PRIORITY_LABELS, self.priority)

    @property
    def status_label(self) -> str:
        return _label(TARGET_STATUS_LABELS, self.status)
