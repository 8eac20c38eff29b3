"""The 23 steps (将乐): the catalogue administrators keep, a step reached on a project (points
frozen with the unit that owned the project that day), and points per unit over a period.
Rules flush, never commit."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from crm import signals
from crm.extensions import db
from crm.tracking.models import StepDefinition, StepPhase, StepRecord
from crm.validation import OutOfRange, check_date, check_text

STEP_KIND = "step"   # attachment kind: evidence files owned by a StepRecord
MAX_POINTS = 1000
NAME_MAX = 100
NOTE_MAX = 500


class StepError(ValueError):
    """A step or catalogue change refused; the message is for the user, `field` names the input."""

    def __init__(self, message: str, field: str | None = None, status: int = 422):
        super().__init__(message)
        self.field, self.status = field, status


# --- the catalogue ------------------------------------------------------------------------------
def catalogue(active_only: bool = False) -> list[StepDefinition]:
    query = select(StepDefinition).order_by(StepDefinition.position, StepDefinition.id)
    if active_only:
        query = query.where(StepDefinition.active.is_(True))
    return list(db.session.scalars(query))


def next_position() -> int:
    return (db.session.scalar(select(func.max(StepDefinition.position))) or 0) + 1


def _clean_definition(name, phase, points, position) -> tuple[str, str, int, int]:
    name = (name or "").strip()
    if not name:
        raise StepError(_("Give the step a name."), "name")
    try:
        check_text(name, NAME_MAX, one_line=True)
    except OutOfRange as exc:
        raise StepError(str(exc), "name")
    if phase not in {p.value for p in StepPhase}:
        raise StepError(_("Choose the stage group of the step."), "phase")
    if isinstance(points, bool) or not isinstance(points, int) or not 0 <= points <= MAX_POINTS:
        raise StepError(_("Points are a whole number from 0 to %(n)s.", n=MAX_POINTS), "points")
    if isinstance(position, bool) or not isinstance(position, int) or not 1 <= position <= 999:
        raise StepError(_("The order is a whole number from 1 to 999."), "position")
    return name, phase, points, position


def _name_taken(name: str, except_id: int | None = None) -> bool:
    query = select(StepDefinition.id).where(func.lower(StepDefinition.name) == name.lower())
    if except_id is not None:
        query = query.where(StepDefinition.id != except_id)
    return db.session.scalar(query) is not None


def add_step(name, phase, points, position, evidence_required: bool = False) -> StepDefinition:
    name, phase, points, position = _clean_definition(name, phase, points, position)
    if _name_taken(name):
        raise StepError(_("A step named “%(name)s” already exists.", name=name), "name")
    step = StepDefinition(name=name, phase=phase, points=points, position=position,
                          evidence_required=bool(evidence_required), active=True)
    db.session.add(step)
    db.session.flush()
    return step


def update_step(step: StepDefinition, name, phase, points, position, evidence_required: bool,
                active: bool) -> StepDefinition:
    """Edit a step; retiring (active False) keeps it and the points earned on it. A change of
    points applies to steps reached from now on: points already earned stay as they were."""
    name, phase, points, position = _clean_definition(name, phase, points, position)
    if _name_taken(name, step.id):
        raise StepError(_("A step named “%(name)s” already exists.", name=name), "name")
    step.name, step.phase, step.points, step.position = name, phase, points, position
    step.evidence_required, step.active = bool(evidence_required), bool(active)
    db.session.flush()
    return step


# --- a step reached on a project --------------------------------------------------------------
def reached(lead_id: int) -> dict[int, StepRecord]:
    """step id → its record on the project."""
    rows = db.session.scalars(select(StepRecord).where(StepRecord.lead_id == lead_id))
    return {r.step_id: r for r in rows}


@dataclass
class StepLine:
    step: StepDefinition
    record: StepRecord | None


def project_steps(lead_id: int) -> list[StepLine]:
    """Every active step, and retired ones the project reached, in catalogue order."""
    done = reached(lead_id)
    return [StepLine(s, done.get(s.id)) for s in catalogue() if s.active or s.id in done]


def record_step(lead, step_id, reached_on: date | None, note: str | None, actor,
                evidence=None) -> StepRecord:
    """The owner unit records a step reached. `evidence`: (stream, filename) or None. The points
    are frozen with the unit that owns the project now. Nothing is written if any check fails."""
    step = db.session.get(StepDefinition, step_id) if isinstance(step_id, int) and not isinstance(
        step_id, bool) else None
    if step is None or not step.active:
        raise StepError(_("Choose a step of the catalogue."), "step_id")
    if reached_on is None:
        raise StepError(_("Give the date the step was reached."), "reached_on")
    try:
        check_date(reached_on)
    except OutOfRange as exc:
        raise StepError(str(exc), "reached_on")
    note = (note or "").strip() or None
    try:
        check_text(note, NOTE_MAX)
    except OutOfRange as exc:
        raise StepError(str(exc), "note")
    existing = db.session.scalar(select(StepRecord).where(StepRecord.lead_id == lead.id,
                                                          StepRecord.step_id == step.id))
    if existing is not None:
        raise StepError(_("The step “%(name)s” was already reached on %(day)s; a step is recorded once.",
                          name=step.name, day=existing.reached_on.isoformat()), "step_id", status=409)
    has_file = evidence is not None and evidence[0] is not None and bool(evidence[1])
    if step.evidence_required and not has_file:
        raise StepError(_("The step “%(name)s” needs evidence: add the file (e.g. the permit or the "
                          "contract) in the same form.", name=step.name), "evidence")
    from crm.attachments.errors import AttachmentError
    from crm.attachments.services import upload

    try:
        with db.session.begin_nested():
            record = StepRecord(lead_id=lead.id, step_id=step.id, reached_on=reached_on,
                                unit_id=lead.owner_unit_id, points=step.points, note=note,
                                recorded_by_id=actor.id)
            db.session.add(record)
            db.session.flush()
            if has_file:
                upload(STEP_KIND, record.id, evidence[0], evidence[1], actor)
    except AttachmentError as exc:
        raise StepError(str(exc), "evidence", status=exc.status if exc.status in (403, 413) else 422)
    signals.project_changed.send(lead_id=lead.id)
    return record


# --- points -------------------------------------------------------------------------------------
def points_by_unit(start: date, end: date) -> dict[int, int]:
    """unit id → points of the steps reached from `start` to `end` (both included), counted for
    the unit that owned the project on the day each step was reached."""
    rows = db.session.execute(
        select(StepRecord.unit_id, func.sum(StepRecord.points))
        .where(StepRecord.reached_on >= start, StepRecord.reached_on <= end)
        .group_by(StepRecord.unit_id))
    return {unit_id: int(total or 0) for unit_id, total in rows}


def month_range(text: str | None, today: date) -> tuple[date, date]:
    """'2026-11' → (1 Nov, 30 Nov); anything else → the current month."""
    year, month = today.year, today.month
    if text:
        try:
            y, m = (int(p) for p in text.split("-", 1))
            if 1990 <= y <= 9999 and 1 <= m <= 12:
                year, month = y, m
        except ValueError:
            pass
    first = date(year, month, 1)
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return first, date.fromordinal(following.toordinal() - 1)


@dataclass
class RankedUnit:
    rank: int
    unit: object
    points: int


def ranking(start: date, end: date, unit_id: int | None = None) -> list[RankedUnit]:
    """Units with points in the period, most first (equal points share a rank); `unit_id`
    restricts the list to one unit (a team lead's own)."""
    from crm.auth.models import Unit

    totals = points_by_unit(start, end)
    if unit_id is not None:
        totals = {unit_id: totals.get(unit_id, 0)}
    units = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_(list(totals) or [0])))}
    ordered = sorted(totals.items(), key=lambda kv: (-kv[1], units[kv[0]].name if kv[0] in units else ""))
    out, last, position = [], None, 0
    for index, (uid, points) in enumerate(ordered, start=1):
        if points != last:
            position, last = index, points
        if uid in units:
            out.append(RankedUnit(position, units[uid], points))
    return out
