"""Who sees and keeps what of the collective decision.

The agenda is kept by the decision secretariat: admins, and the team leads of the unit an admin
names (by default the county's 招商服务中心). Leaders, viewers and admins read every item, as they
read every lead. Any other officer or team lead sees a meeting only as far as their own unit's
projects go, and proposes those projects for an agenda. Pages, Word files and the API all ask here.
"""
from __future__ import annotations

from flask import abort
from sqlalchemy import select

from crm.auth.models import Unit
from crm.auth.roles import Permission, Role
from crm.decisions.models import AgendaItem, DecisionRules, Meeting
from crm.extensions import db

DEFAULT_SECRETARIAT_SUFFIX = "招商服务中心"


def secretariat_unit_id() -> int | None:
    """The unit an admin named; else the county's one 招商服务中心 when there is exactly one."""
    named = db.session.scalar(select(DecisionRules.secretariat_unit_id).where(DecisionRules.id == 1))
    if named is not None:
        return named
    found = db.session.scalars(select(Unit.id).where(Unit.name.endswith(DEFAULT_SECRETARIAT_SUFFIX),
                                                     Unit.active.is_(True)).limit(2)).all()
    return found[0] if len(found) == 1 else None


def keeps_agenda(user) -> bool:
    """Schedules, opens and ends meetings, and puts projects on or off an agenda."""
    if not user.is_authenticated:
        return False
    if user.has_role(Role.ADMIN):
        return True
    return user.can(Permission.DECISIONS_MANAGE) and user.unit_id is not None \
        and user.unit_id == secretariat_unit_id()


def reads_every_item(user) -> bool:
    return user.can(Permission.LEADS_READ_ALL) or keeps_agenda(user)


def may_read_item(user, item: AgendaItem) -> bool:
    return reads_every_item(user) or (user.unit_id is not None and item.lead.owner_unit_id == user.unit_id)


def visible_items(meeting: Meeting, user) -> list[AgendaItem]:
    """The items this user may see: all of them, or those of the user's own unit's projects."""
    if reads_every_item(user):
        return list(meeting.items)
    return [item for item in meeting.items if item.lead.owner_unit_id == user.unit_id]


def require_keeper(user) -> None:
    if not keeps_agenda(user):
        abort(403)


def require_item(user, item: AgendaItem) -> None:
    """Another unit's item is not there for this user (404, not a hint that it exists)."""
    if not may_read_item(user, item):
        abort(404)
