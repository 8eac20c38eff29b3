"""/ranking: the ranking page and its Excel export. Thin: reading the request and the figures
live in crm.ranking.queries, the workbook in crm.ranking.export."""
from __future__ import annotations

from flask import Blueprint, render_template, request

bp = Blueprint("ranking", __name__)

from crm.auth.permissions import acting_user, require_permission  # noqa: E402
from crm.auth.roles import Permission  # noqa: E402
from crm.ranking import export, queries  # noqa: E402

# Team leads read the county's ranking too: it is published to every unit.
READ = (Permission.DASHBOARD_READ_ALL, Permission.DASHBOARD_READ_UNIT)


def _page(req: queries.Request):
    user = acting_user()
    links = {row.unit_id: queries.record_links(row, req.period, user) for row in req.rows} if req.period else {}
    return render_template("ranking/index.html", req=req, ctx=req if req.period else None, choices=None, metrics=queries.METRICS,
                           links=links, args=req.form_args() if req.period else request.args), req.status


@bp.get("/ranking")
@require_permission(*READ)
def index():
    """Leaders, viewers, admins and team leads: every unit's figures and place for a period."""
    return _page(queries.read(request.args))


@bp.get("/ranking.xlsx")
@require_permission(*READ)
def xlsx():
    """The same table (period and sort of the page) as an .xlsx; a bad request gets the page's message."""
    req = queries.read(request.args)
    if req.error:
        return _page(req)
    return export.response(req)
