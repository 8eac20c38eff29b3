"""问题清单 rules: raise a problem on a tracked project, work on it, solve or close it, reopen it.
They flush, never commit; every change sends project_changed (an overdue problem turns the light
yellow) and is audited by the model's __audit__.

Status: open → solving → solved (resolution required) or closed_unsolved (reason required, kept in
`resolution`); open ↔ solving both ways. A solved or closed problem may be reopened (back to open):
the resolution, who solved it and when are cleared (the audit log keeps them), because a problem
that comes back is the same problem, not a new one."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _

from crm import clock, signals
from crm.auth.models import Unit
from crm.auth.permissions import can_edit_unit_records, can_read_unit_records
from crm.auth.roles import ROLE_PERMISSIONS, Permission
from crm.extensions import db
from crm.leads.models import Lead
from crm.notifications.services import notify, unit_users_with_role
from crm.problems.models import OPEN_STATUSES, Problem, ProblemCategory, ProblemStatus
from crm.tracking.access import is_tracked
from crm.validation import OutOfRange, check_date, check_text

DESCRIPTION_LIMIT = 4000
RESOLUTION_LIMIT = 4000

# status → the statuses it may move to
TRANSITIONS: dict[str, frozenset[str]] = {
    ProblemStatus.OPEN: frozenset({ProblemStatus.SOLVING, ProblemStatus.SOLVED, ProblemStatus.CLOSED_UNSOLVED}),
    ProblemStatus.SOLVING: frozenset({ProblemStatus.OPEN, ProblemStatus.SOLVED, ProblemStatus.CLOSED_UNSOLVED}),
    ProblemStatus.SOLVED: frozenset({ProblemStatus.OPEN}),
    ProblemStatus.CLOSED_UNSOLVED: frozenset({ProblemStatus.OPEN}),
}
CLOSED = frozenset({ProblemStatus.SOLVED.value, ProblemStatus.CLOSED_UNSOLVED.value})


class ProblemError(ValueError):
    """A rule was broken; the message is for the user, `field` names the form/JSON field if any."""

    def __init__(self, message: str, field: str | None = None, status: int = 422):
        super().__init__(message)
        self.field = field
        self.status = status


# --- who may do what ---------------------------------------------------------------------------

def is_admin(user) -> bool:
    # Admins are the only holders of the tracking settings capability.
    return user.can(Permission.TRACKING_SETTINGS)


def responds_for_unit(user, unit_id: int) -> bool:
    return user.can(Permission.TRACKING_RESPOND) and user.unit_id == unit_id


def responds_for(user, problem: Problem) -> bool:
    return responds_for_unit(user, problem.responsible_unit_id)


def may_read(user, problem: Problem) -> bool:
    """Readers of the project, and the members of the responsible unit who respond."""
    return can_read_unit_records(user, problem.lead.owner_unit_id) or responds_for(user, problem)


def may_read_project(user, problem: Problem) -> bool:
    """Whether the user sees the project behind it (the liaison sees only its name and company)."""
    return can_read_unit_records(user, problem.lead.owner_unit_id)


def may_change(user, problem: Problem) -> bool:
    """Members of the responsible unit who respond, the owner unit's officers and team lead, admins."""
    return (responds_for(user, problem) or can_edit_unit_records(user, problem.lead.owner_unit_id)
            or is_admin(user))


# --- checks ------------------------------------------------------------------------------------

def _category(value) -> str:
    if value not in {c.value for c in ProblemCategory}:
        raise ProblemError(_("Choose a category."), "category")
    return value


def _description(value) -> str:
    text = (value or "").strip() if isinstance(value, str) else ""
    if not text:
        raise ProblemError(_("Describe the problem."), "description")
    try:
        return check_text(text, DESCRIPTION_LIMIT)
    except OutOfRange as exc:
        raise ProblemError(str(exc), "description")


def _responsible_unit(unit_id) -> Unit:
    unit = db.session.get(Unit, unit_id) if isinstance(unit_id, int) and not isinstance(unit_id, bool) else None
    if unit is None:
        raise ProblemError(_("Choose the unit responsible for solving it."), "responsible_unit_id")
    if not unit.active:
        raise ProblemError(_("%(unit)s is no longer active: choose an active unit.", unit=unit.name),
                           "responsible_unit_id")
    return unit


def _due_on(value) -> date:
    if not isinstance(value, date):
        raise ProblemError(_("Give the due date."), "due_on")
    if value < clock.today():
        raise ProblemError(_("The due date cannot be before today."), "due_on")
    try:
        return check_date(value, planned=True)
    except OutOfRange as exc:
        raise ProblemError(str(exc), "due_on")


def _resolution_text(value, status: str) -> str:
    text = (value or "").strip() if isinstance(value, str) else ""
    if not text:
        if status == ProblemStatus.SOLVED:
            raise ProblemError(_("Write how the problem was solved."), "resolution")
        raise ProblemError(_("Give the reason for closing it unsolved."), "resolution")
    try:
        return check_text(text, RESOLUTION_LIMIT)
    except OutOfRange as exc:
        raise ProblemError(str(exc), "resolution")


# --- changes -----------------------------------------------------------------------------------

def _responders(unit_id: int) -> set[int]:
    roles = [role for role, perms in ROLE_PERMISSIONS.items() if Permission.TRACKING_RESPOND in perms]
    ids: set[int] = set()
    for role in roles:
        ids.update(unit_users_with_role([unit_id], role.value).get(unit_id, []))
    return ids


def problem_path(problem_id: int) -> str:
    return f"/problems/{problem_id}"


def raise_problem(lead: Lead, user, category, description, responsible_unit_id, due_on) -> Problem:
    """Record a problem on a tracked project; the responsible unit's responders are told."""
    if not is_tracked(lead):
        raise ProblemError(_("Problems are raised on admitted projects only."), status=409)
    problem = Problem(lead_id=lead.id, category=_category(category), description=_description(description),
                      responsible_unit_id=_responsible_unit(responsible_unit_id).id, due_on=_due_on(due_on),
                      status=ProblemStatus.OPEN.value, raised_by_id=user.id, raised_on=clock.today())
    db.session.add(problem)
    db.session.flush()
    notify(_responders(problem.responsible_unit_id) - {user.id}, "problem_assigned",
           {"company": lead.company_name, "due": problem.due_on.isoformat()}, problem_path(problem.id))
    signals.project_changed.send(lead_id=lead.id)
    return problem


def change_problem(problem: Problem, user, expected_version, *, status=None, resolution=None,
                   due_on=None) -> Problem:
    """Move the status, write the resolution (or the reason for closing unsolved), move the due
    date. `expected_version` is the version the user read: a stale one is refused (409)."""
    if not may_change(user, problem):
        raise ProblemError(_("Only the responsible unit, the project's unit and administrators change a "
                             "problem."), status=403)
    if isinstance(expected_version, bool) or not isinstance(expected_version, int):
        raise ProblemError(_("Send the version you read."), "version")
    if expected_version != problem.version:
        raise ProblemError(_("This problem was changed by someone else since you opened it. Reload and try "
                             "again."), "version", status=409)
    old_status = problem.status
    new_status = old_status if status in (None, "") else status
    if new_status not in {s.value for s in ProblemStatus}:
        raise ProblemError(_("Choose a status."), "status")
    changed = False
    if new_status != old_status:
        if new_status not in TRANSITIONS[ProblemStatus(old_status)]:
            raise ProblemError(_("A problem cannot go from “%(old)s” to “%(new)s”.",
                                 old=problem.status_label, new=_status_label(new_status)), "status", status=409)
        if new_status in CLOSED:
            problem.resolution = _resolution_text(resolution, new_status)
            problem.solved_by_id = user.id
            problem.solved_on = clock.today()
        elif old_status in CLOSED:  # reopened
            problem.resolution = None
            problem.solved_by_id = None
            problem.solved_on = None
        problem.status = new_status
        changed = True
    elif new_status in CLOSED and resolution is not None:
        text = _resolution_text(resolution, new_status)
        if text != problem.resolution:
            problem.resolution = text
            changed = True
    if due_on is not None and due_on != problem.due_on:
        if problem.status in CLOSED:
            raise ProblemError(_("Reopen the problem before moving its due date."), "due_on", status=409)
        problem.due_on = _due_on(due_on)
        changed = True
    if changed:
        db.session.flush()
        if new_status == ProblemStatus.SOLVED and old_status != new_status and problem.raised_by_id \
                and problem.raised_by_id != user.id:
            notify([problem.raised_by_id], "problem_solved", {"company": problem.lead.company_name},
                   problem_path(problem.id))
        signals.project_changed.send(lead_id=problem.lead_id)
    return problem


def _status_label(value: str) -> str:
    from crm.problems.models import PROBLEM_STATUS_LABELS

    return str(PROBLEM_STATUS_LABELS.get(value, value))


def is_overdue(problem: Problem, today: date | None = None) -> bool:
    return problem.status in OPEN_STATUSES and problem.due_on < (today or clock.today())
