"""Read-side of pre-screening: who may see a case, to-do lists, timeliness figures."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from crm.auth.models import Unit
from crm.auth.permissions import acting_user, can_edit_unit_records, can_read_unit_records
from crm.auth.roles import Permission
from crm.extensions import db
from crm.leads.models import Lead
from crm.screening.models import CaseStatus, CaseUnit, ScreeningCase, ScreeningOpinion


def can_read_case(user, case: ScreeningCase) -> bool:
    if user.can(Permission.SCREENING_READ_ALL) or can_read_unit_records(user, case.lead.owner_unit_id):
        return True
    return user.can(Permission.SCREENING_ANSWER) and any(cu.unit_id == user.unit_id for cu in case.units)


def can_answer_case(user, case: ScreeningCase) -> bool:
    return (user.can(Permission.SCREENING_ANSWER) and case.is_open
            and any(cu.unit_id == user.unit_id for cu in case.units))


def can_submit_lead(user, lead: Lead) -> bool:
    return user.can(Permission.SCREENING_SUBMIT) and can_edit_unit_records(user, lead.owner_unit_id)


def get_case_or_404(case_id: int) -> ScreeningCase:
    """The case with its units and opinions, if the acting user may read it (else 404/403)."""
    case = db.session.scalar(
        select(ScreeningCase).where(ScreeningCase.id == case_id)
        .options(selectinload(ScreeningCase.units).joinedload(CaseUnit.unit),
                 selectinload(ScreeningCase.opinions).joinedload(ScreeningOpinion.author),
                 joinedload(ScreeningCase.lead)))
    if case is None:
        abort(404)
    if not can_read_case(acting_user(), case):
        abort(403)
    return case


def returned_materials(lead: Lead) -> list[dict]:
    """A lead returned for materials: what its last round's one-time notice still asks for,
    [{"item": …, "units": [unit names]}]; [] for any other lead."""
    if lead.stage != "returned":
        return []
    last = db.session.scalar(select(ScreeningCase).where(ScreeningCase.lead_id == lead.id)
                             .order_by(ScreeningCase.round.desc()).limit(1))
    if last is None or last.status != CaseStatus.CLOSED.value:
        return []
    return list(last.notice_items or [])


def todo_for_unit(unit_id: int) -> list[tuple[ScreeningCase, CaseUnit]]:
    """Open cases waiting for this unit's first opinion, most urgent first (no deadline: last)."""
    rows = db.session.execute(
        select(ScreeningCase, CaseUnit).join(CaseUnit, CaseUnit.case_id == ScreeningCase.id)
        .where(CaseUnit.unit_id == unit_id, ScreeningCase.status == CaseStatus.OPEN.value,
               CaseUnit.answered_at.is_(None))
        .options(joinedload(ScreeningCase.lead))
        .order_by(ScreeningCase.due_at.is_(None), ScreeningCase.due_at, ScreeningCase.id)).all()
    return [(case, cu) for case, cu in rows]


def answered_open_for_unit(unit_id: int) -> list[ScreeningCase]:
    """Open cases this unit has answered (it may still amend)."""
    return list(db.session.scalars(
        select(ScreeningCase).join(CaseUnit, CaseUnit.case_id == ScreeningCase.id)
        .where(CaseUnit.unit_id == unit_id, ScreeningCase.status == CaseStatus.OPEN.value,
               CaseUnit.answered_at.is_not(None))
        .options(joinedload(ScreeningCase.lead)).order_by(ScreeningCase.due_at)))


def case_list(user, status: str | None = None, limit: int = 200) -> list[ScreeningCase]:
    stmt = (select(ScreeningCase).join(Lead, Lead.id == ScreeningCase.lead_id)
            .options(joinedload(ScreeningCase.lead).joinedload(Lead.owner_unit),
                     selectinload(ScreeningCase.units))
            .order_by(ScreeningCase.submitted_at.desc(), ScreeningCase.id.desc()).limit(limit))
    if not user.can(Permission.SCREENING_READ_ALL, Permission.LEADS_READ_ALL):
        stmt = stmt.where(Lead.owner_unit_id == user.unit_id)
    if status:
        stmt = stmt.where(ScreeningCase.status == status)
    return list(db.session.scalars(stmt))


@dataclass
class UnitTimeliness:
    unit_id: int
    unit_name: str
    cases: int = 0
    on_time: int = 0
    late: int = 0
    missing: int = 0
    pending: int = 0
    hours: list[float] = field(default_factory=list)

    @property
    def median_hours(self) -> float | None:
        return round(median(self.hours), 1) if self.hours else None

    @property
    def on_time_rate(self) -> float | None:
        answered_or_due = self.on_time + self.late + self.missing
        return round(100 * self.on_time / answered_or_due, 1) if answered_or_due else None


def timeliness(since: datetime | None = None, until: datetime | None = None) -> list[UnitTimeliness]:
    """Per member unit: cases asked, answered on time, late, missing, median hours to answer —
    of the cases submitted from `since` and before `until` (aware datetimes; None: no bound)."""
    stmt = (select(CaseUnit.unit_id, Unit.name, CaseUnit.answered_at, CaseUnit.late, CaseUnit.missing,
                   ScreeningCase.submitted_at, ScreeningCase.status)
            .join(ScreeningCase, ScreeningCase.id == CaseUnit.case_id).join(Unit, Unit.id == CaseUnit.unit_id)
            .where(ScreeningCase.status != CaseStatus.WITHDRAWN.value))
    if since is not None:
        stmt = stmt.where(ScreeningCase.submitted_at >= since)
    if until is not None:
        stmt = stmt.where(ScreeningCase.submitted_at < until)
    figures: dict[int, UnitTimeliness] = {}
    for unit_id, name, answered_at, late, missing, submitted_at, status in db.session.execute(stmt):
        row = figures.setdefault(unit_id, UnitTimeliness(unit_id, name))
        row.cases += 1
        if answered_at is not None:
            row.hours.append((answered_at - submitted_at).total_seconds() / 3600)
            if late:
                row.late += 1
            else:
                row.on_time += 1
        elif missing or status == CaseStatus.CLOSED.value:
            row.missing += 1
        else:
            row.pending += 1
    return sorted(figures.values(), key=lambda r: (-(r.on_time_rate or 0), r.unit_name))
