"""Who may see and change a tracked project, and whose unit page one may open."""
from __future__ import annotations

from flask import abort

from crm.auth.permissions import acting_user, can_edit_unit_records, can_read_unit_records
from crm.auth.roles import Permission
from crm.extensions import db
from crm.leads.models import Lead
from crm.leads.pipeline import Stage, rank

TRACKED_FROM = Stage.ADMITTED  # a project is tracked from admission (or a later stage) on


def is_tracked(lead: Lead) -> bool:
    return rank(lead.stage) >= rank(TRACKED_FROM) or (lead.stage == Stage.LOST and lead.signed_on is not None)


def project_or_404(lead_id: int, write: bool = False) -> Lead:
    """The lead behind a project page; readers of its unit's leads see it, the owner unit edits it."""
    lead = db.session.get(Lead, lead_id)
    if lead is None:
        abort(404)
    user = acting_user()
    allowed = (can_edit_unit_records(user, lead.owner_unit_id) if write
               else can_read_unit_records(user, lead.owner_unit_id))
    if not allowed:
        abort(403)
    return lead


def can_open_unit_page(user, unit_id: int) -> bool:
    """County-wide readers open every unit's page; a unit's own members who answer letters and
    solve problems (officers, team leads, department liaisons) open their own."""
    if user.can(Permission.LEADS_READ_ALL):
        return True
    return user.can(Permission.TRACKING_RESPOND) and user.unit_id == unit_id
