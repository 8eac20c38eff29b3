"""Pages of a tracked project and of a unit's tracking desk; each section is a panel that a
tracking feature registered (crm.tracking.panels)."""
from __future__ import annotations

from flask import Blueprint, abort, render_template

from crm.auth.models import Unit
from crm.auth.permissions import acting_user, require_permission
from crm.auth.roles import Permission
from crm.extensions import db
from crm.tracking.access import can_open_unit_page, is_tracked, project_or_404
from crm.tracking.panels import panels_for

bp = Blueprint("tracking", __name__)
READ = (Permission.LEADS_READ_UNIT, Permission.LEADS_READ_ALL)


@bp.route("/projects/<int:lead_id>")
@require_permission(*READ)
def project(lead_id: int):
    """Readers of the owner unit's leads (officers and team leads of the unit, leaders, viewers, admins)."""
    lead = project_or_404(lead_id)
    if not is_tracked(lead):
        abort(404)
    user = acting_user()
    return render_template("tracking/project.html", lead=lead, panels=panels_for("project", lead, user))


@bp.route("/units/<int:unit_id>/desk")
@require_permission(Permission.LEADS_READ_ALL, Permission.TRACKING_RESPOND)
def unit_desk(unit_id: int):
    """A unit's letters to acknowledge and answer and its problems to solve: its own members
    who respond (officers, team leads, department liaisons), and county-wide readers."""
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        abort(404)
    user = acting_user()
    if not can_open_unit_page(user, unit.id):
        abort(403)
    return render_template("tracking/unit.html", unit=unit, panels=panels_for("unit", unit, user))
