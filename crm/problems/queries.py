"""Reading problems: who sees which, the filtered list, the unit's desk, the statistics."""
from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from flask import abort
from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import joinedload

from crm import clock
from crm.auth.models import Unit
from crm.auth.roles import Permission
from crm.extensions import db
from crm.leads.models import Lead
from crm.problems.models import OPEN_STATUSES, Problem, ProblemStatus
from crm.problems.services import may_read

LIST_LIMIT = 500
_OPEN = [s.value for s in OPEN_STATUSES]


def visible(user):
    """The condition on Problem (joined with Lead) for the problems `user` may read."""
    if user.can(Permission.LEADS_READ_ALL):
        return None
    parts = []
    if user.can(Permission.LEADS_READ_UNIT):
        parts.append(Lead.owner_unit_id == user.unit_id)
    if user.can(Permission.TRACKING_RESPOND):
        parts.append(Problem.responsible_unit_id == user.unit_id)
    return or_(*parts) if parts else false()


def _base():
    return (select(Problem).join(Lead, Lead.id == Problem.lead_id)
            .options(joinedload(Problem.lead), joinedload(Problem.responsible_unit)))


def overdue_condition(today=None):
    return and_(Problem.status.in_(_OPEN), Problem.due_on < (today or clock.today()))


def problem_list(user, status=None, category=None, unit_id=None, overdue=False, lead_id=None,
                 limit=LIST_LIMIT, open_only=False, owner_unit_id=None, chain_id=None) -> list[Problem]:
    """The problems `user` may read, filtered; overdue first, then by due date. `unit_id`: the
    responsible unit; `owner_unit_id`/`chain_id`: the project's owner unit / chain; `open_only`:
    awaiting solution or being solved."""
    query = _base()
    condition = visible(user)
    if condition is not None:
        query = query.where(condition)
    if status:
        query = query.where(Problem.status == status)
    if open_only:
        query = query.where(Problem.status.in_(_OPEN))
    if owner_unit_id:
        query = query.where(Lead.owner_unit_id == owner_unit_id)
    if chain_id:
        query = query.where(Lead.chain_id == chain_id)
    if category:
        query = query.where(Problem.category == category)
    if unit_id:
        query = query.where(Problem.responsible_unit_id == unit_id)
    if lead_id:
        query = query.where(Problem.lead_id == lead_id)
    if overdue:
        query = query.where(overdue_condition())
    query = query.order_by(Problem.status.in_(_OPEN).desc(), Problem.due_on, Problem.id).limit(limit)
    return list(db.session.scalars(query).unique())


def for_project(lead_id: int) -> list[Problem]:
    query = (_base().where(Problem.lead_id == lead_id)
             .order_by(Problem.status.in_(_OPEN).desc(), Problem.due_on, Problem.id))
    return list(db.session.scalars(query).unique())


def to_solve(unit_id: int) -> list[Problem]:
    """The unit's open problems, overdue first (the earliest due date first)."""
    query = (_base().where(Problem.responsible_unit_id == unit_id, Problem.status.in_(_OPEN))
             .order_by(Problem.due_on, Problem.id))
    return list(db.session.scalars(query).unique())


def get_or_404(problem_id: int, user) -> Problem:
    problem = db.session.get(Problem, problem_id)
    if problem is None:
        abort(404)
    if not may_read(user, problem):
        abort(403)
    return problem


def active_units() -> list[Unit]:
    return list(db.session.scalars(select(Unit).where(Unit.active.is_(True)).order_by(Unit.kind, Unit.name)))


def units_with_problems() -> list[Unit]:
    ids = select(Problem.responsible_unit_id).distinct()
    return list(db.session.scalars(select(Unit).where(or_(Unit.active.is_(True), Unit.id.in_(ids)))
                                   .order_by(Unit.kind, Unit.name)))


@dataclass
class UnitStats:
    unit: Unit
    open: int = 0
    overdue: int = 0
    solved: int = 0
    closed_unsolved: int = 0
    median_days: float | None = None

    @property
    def raised(self) -> int:
        return self.open + self.solved + self.closed_unsolved


def stats() -> list[UnitStats]:
    """Per responsible unit: open (open or solving), overdue among them, solved, closed unsolved,
    and the median days from raising to solving of the solved ones (computed in Python, so the
    same on SQLite and PostgreSQL). Units with the most open problems first."""
    today = clock.today()
    rows = db.session.execute(select(Problem.responsible_unit_id, Problem.status, Problem.due_on,
                                     Problem.raised_on, Problem.solved_on)).all()
    by_unit: dict[int, UnitStats] = {}
    days: dict[int, list[int]] = {}
    units = {u.id: u for u in db.session.scalars(select(Unit).where(
        Unit.id.in_({r.responsible_unit_id for r in rows})))} if rows else {}
    for unit_id, status, due_on, raised_on, solved_on in rows:
        entry = by_unit.setdefault(unit_id, UnitStats(units[unit_id]))
        if status in _OPEN:
            entry.open += 1
            if due_on < today:
                entry.overdue += 1
        elif status == ProblemStatus.SOLVED:
            entry.solved += 1
            if solved_on is not None and raised_on is not None:
                days.setdefault(unit_id, []).append((solved_on - raised_on).days)
        elif status == ProblemStatus.CLOSED_UNSOLVED:
            entry.closed_unsolved += 1
    for unit_id, values in days.items():
        by_unit[unit_id].median_days = float(median(values))
    return sorted(by_unit.values(), key=lambda s: (-s.open, -s.overdue, s.unit.name))
