"""Read-side of pre-screening: who may see a case, to-do lists, timeliness figures."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from statistics import median

from flask import abort
from sqlalchemy import and_, not_, or_, select, true
from sqlalchemy.orm import joinedload, selectinload

from crm import clock
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


# How a member unit answered a case, as the timeliness figures count it (see timeliness below);
# "asked": every case it was asked on. Withdrawn cases are never counted.
ANSWERS = ("asked", "on_time", "late", "missing", "pending")


def answer_condition(answer: str):
    """The condition on CaseUnit (joined with its ScreeningCase) for one kind of answer: the
    cases list's filter and the cockpit's SQL figures (crm.dashboard.timeliness) share it."""
    answered = CaseUnit.answered_at.is_not(None)
    late = CaseUnit.late.is_(True)
    closed_unanswered = and_(CaseUnit.answered_at.is_(None),
                             or_(CaseUnit.missing.is_(True), ScreeningCase.status == CaseStatus.CLOSED.value))
    conditions = {
        "asked": true(),
        "on_time": and_(answered, not_(late)),
        "late": and_(answered, late),
        "missing": closed_unanswered,
        "pending": and_(CaseUnit.answered_at.is_(None), not_(closed_unanswered)),
    }
    return and_(ScreeningCase.status != CaseStatus.WITHDRAWN.value, conditions[answer])


@dataclass
class CaseFilters:
    """The cases list's filters beyond the status (the cockpit's timeliness links): the member
    unit asked and how it answered (ANSWERS), the county-local days the case was submitted
    between, the lead's owner unit and chain."""
    member_unit_id: int | None = None
    answer: str = ""
    submitted_from: date | None = None
    submitted_to: date | None = None
    owner_unit_id: int | None = None
    chain_id: int | None = None

    @property
    def active(self) -> bool:
        return any(v not in (None, "") for v in vars(self).values())

    def args(self) -> dict:
        out = {"member_unit_id": self.member_unit_id, "answer": self.answer, "owner_unit_id": self.owner_unit_id,
               "chain_id": self.chain_id,
               "submitted_from": self.submitted_from.isoformat() if self.submitted_from else None,
               "submitted_to": self.submitted_to.isoformat() if self.submitted_to else None}
        return {k: v for k, v in out.items() if v not in (None, "")}


def case_list(user, status: str | None = None, limit: int = 200,
              filters: CaseFilters | None = None) -> list[ScreeningCase]:
    stmt = (select(ScreeningCase).join(Lead, Lead.id == ScreeningCase.lead_id)
            .options(joinedload(ScreeningCase.lead).joinedload(Lead.owner_unit),
                     selectinload(ScreeningCase.units))
            .order_by(ScreeningCase.submitted_at.desc(), ScreeningCase.id.desc()).limit(limit))
    if not user.can(Permission.SCREENING_READ_ALL, Permission.LEADS_READ_ALL):
        stmt = stmt.where(Lead.owner_unit_id == user.unit_id)
    if status:
        stmt = stmt.where(ScreeningCase.status == status)
    if filters is not None:
        stmt = _filtered(stmt, filters)
    return list(db.session.scalars(stmt))


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=clock.local_zone()).astimezone(timezone.utc)


def _filtered(stmt, f: CaseFilters):
    if f.submitted_from:
        stmt = stmt.where(ScreeningCase.submitted_at >= _local_midnight(f.submitted_from))
    if f.submitted_to:
        stmt = stmt.where(ScreeningCase.submitted_at < _local_midnight(f.submitted_to + timedelta(days=1)))
    if f.owner_unit_id:
        stmt = stmt.where(Lead.owner_unit_id == f.owner_unit_id)
    if f.chain_id:
        stmt = stmt.where(Lead.chain_id == f.chain_id)
    if f.member_unit_id or f.answer:
        asked = select(CaseUnit.id).where(CaseUnit.case_id == ScreeningCase.id)
        if f.member_unit_id:
            asked = asked.where(CaseUnit.unit_id == f.member_unit_id)
        if f.answer:
            asked = asked.where(answer_condition(f.answer))
        stmt = stmt.where(asked.exists())
    return stmt


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
