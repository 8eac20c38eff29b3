"""/dashboard: the cockpit page. Thin: reading the request and the figures live in queries."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from crm.auth.permissions import require_permission
from crm.auth.roles import Permission
from crm.dashboard import queries
from crm.dashboard.period import format_day
from crm.dashboard.sections import sections

bp = Blueprint("dashboard", __name__)

READ = (Permission.DASHBOARD_READ_ALL, Permission.DASHBOARD_READ_UNIT)


@bp.get("/dashboard")
@require_permission(*READ)
def index():
    """Leaders, viewers and admins: the county (or one unit/chain); team leads: their own unit."""
    req = queries.read(request.args, current_user)
    data = queries.cockpit(req.ctx) if req.ctx else {}
    return render_template("dashboard/index.html", req=req, ctx=req.ctx, data=data, sections=sections(),
                           choices=queries.filter_choices(current_user), args=request.args,
                           format_day=format_day), req.status
