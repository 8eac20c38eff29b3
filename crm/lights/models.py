"""The current light of a project and every change of colour (kept as history)."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.database import Base, utcnow


class Colour(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


COLOUR_LABELS = {Colour.GREEN: _l("Green"), Colour.YELLOW: _l("Yellow"), Colour.RED: _l("Red")}
SEVERITY = {Colour.GREEN: 0, Colour.YELLOW: 1, Colour.RED: 2}


class ProjectLight(Base):
    """The light as last computed. reasons: [{"code": …, "colour": …, "params": {…}}], shown
    in words by crm.lights.rules.describe; since: the day it took this colour."""

    __tablename__ = "project_lights"

    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True)
    colour: Mapped[str] = mapped_column(String(10), index=True)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    since: Mapped[date] = mapped_column(Date)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class LightChange(Base):
    """A change of colour, with the reasons that made it."""

    __tablename__ = "light_changes"
    __table_args__ = (Index("ix_light_changes_lead_changed", "lead_id", "changed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    from_colour: Mapped[str | None] = mapped_column(String(10))
    to_colour: Mapped[str] = mapped_column(String(10))
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    changed_on: Mapped[date] = mapped_column(Date)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
