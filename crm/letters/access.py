"""Who reads a letter and who answers it.

The addressed unit's responders (officers, team leads, department liaisons with
TRACKING_RESPOND) acknowledge and reply; the project's readers (its owner unit's readers and
county-wide readers) read it. A department liaison without lead access sees the letter and the
project's name and company only (`sees_project` is False for them)."""
from __future__ import annotations

from sqlalchemy import false, or_

from crm.auth.permissions import can_read_unit_records
from crm.auth.roles import Permission
from crm.leads.models import Lead
from crm.letters.models import Letter


def may_respond(user, letter: Letter) -> bool:
    return bool(user.can(Permission.TRACKING_RESPOND) and user.unit_id == letter.unit_id)


def sees_project(user, letter: Letter) -> bool:
    return can_read_unit_records(user, letter.lead.owner_unit_id)


def may_read(user, letter: Letter) -> bool:
    return may_respond(user, letter) or sees_project(user, letter)


def visible_clause(user):
    """The WHERE clause of the letters `user` may read (Letter joined with Lead)."""
    if user.can(Permission.LEADS_READ_ALL):
        return None
    clauses = []
    if user.can(Permission.TRACKING_RESPOND):
        clauses.append(Letter.unit_id == user.unit_id)
    if user.can(Permission.LEADS_READ_UNIT):
        clauses.append(Lead.owner_unit_id == user.unit_id)
    return or_(*clauses) if clauses else false()
