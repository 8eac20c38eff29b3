"""Industry chains and their nodes; leads point at them (the chains issue adds targets and maps)."""
from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.database import Base


class Tier(StrEnum):
    UPSTREAM = "upstream"
    MIDSTREAM = "midstream"
    DOWNSTREAM = "downstream"


TIER_LABELS = {Tier.UPSTREAM: _l("Upstream"), Tier.MIDSTREAM: _l("Midstream"),
               Tier.DOWNSTREAM: _l("Downstream")}


class Chain(Base):
    __tablename__ = "chains"
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    nodes: Mapped[list["ChainNode"]] = relationship(
        back_populates="chain", order_by="ChainNode.position", cascade="all, delete-orphan")

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

    chain: Mapped[Chain] = relationship(back_populates="nodes")

    @property
    def tier_label(self) -> str:
        return str(TIER_LABELS.get(self.tier, self.tier))
