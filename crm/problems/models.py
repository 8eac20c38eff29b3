"""A problem on a project, owned by the unit responsible for solving it (often a department)."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.auth.models import Unit, User
from crm.database import Base, utcnow
from crm.leads.models import Lead


class ProblemCategory(StrEnum):
    LAND = "land"                  # 用地
    PLANNING = "planning"          # 规划
    ENVIRONMENT = "environment"    # 环评
    ENERGY = "energy"              # 能评
    FUNDING = "funding"            # 资金
    UTILITIES = "utilities"        # 水电气
    RELOCATION = "relocation"      # 征迁
    POLICY = "policy"              # 政策
    OTHER = "other"                # 其他


PROBLEM_CATEGORY_LABELS = {
    ProblemCategory.LAND: _l("Land use"),
    ProblemCategory.PLANNING: _l("Planning"),
    ProblemCategory.ENVIRONMENT: _l("Environmental assessment"),
    ProblemCategory.ENERGY: _l("Energy assessment"),
    ProblemCategory.FUNDING: _l("Funding"),
    ProblemCategory.UTILITIES: _l("Water, power and gas"),
    ProblemCategory.RELOCATION: _l("Land clearance and relocation"),
    ProblemCategory.POLICY: _l("Policy"),
    ProblemCategory.OTHER: _l("Other"),
}


class ProblemStatus(StrEnum):
    OPEN = "open"
    SOLVING = "solving"
    SOLVED = "solved"
    CLOSED_UNSOLVED = "closed_unsolved"


PROBLEM_STATUS_LABELS = {
    ProblemStatus.OPEN: _l("Awaiting solution"),
    ProblemStatus.SOLVING: _l("Being solved"),
    ProblemStatus.SOLVED: _l("Solved"),
    ProblemStatus.CLOSED_UNSOLVED: _l("Closed unsolved"),
}

OPEN_STATUSES = frozenset({ProblemStatus.OPEN, ProblemStatus.SOLVING})


class Problem(Base):
    __tablename__ = "project_problems"
    __audit__ = True
    __table_args__ = (
        Index("ix_project_problems_unit_status", "responsible_unit_id", "status"),
        Index("ix_project_problems_lead_status", "lead_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    responsible_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=ProblemStatus.OPEN.value)
    resolution: Mapped[str | None] = mapped_column(Text)
    solved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    solved_on: Mapped[date | None] = mapped_column(Date)
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    raised_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    lead: Mapped[Lead] = relationship()
    responsible_unit: Mapped[Unit] = relationship()
    solved_by: Mapped[User | None] = relationship(foreign_keys=[solved_by_id])
    raised_by: Mapped[User | None] = relationship(foreign_keys=[raised_by_id])

    @property
    def category_label(self) -> str:
        return str(PROBLEM_CATEGORY_LABELS.get(self.category, self.category))

    @property
    def status_label(self) -> str:
        return str(PROBLEM_STATUS_LABELS.get(self.status, self.status))
