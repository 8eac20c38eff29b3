"""GET /api/v1/leads/export: the lead list as an .xlsx or .csv file, as on the page."""
from __future__ import annotations

from crm.api import bp
from crm.api.errors import ApiError
from crm.auth.permissions import acting_user, require_permission
from crm.interchange.export_views import READ, export_request, export_response, request_problem


@bp.get("/leads/export")
@require_permission(*READ)
def export_leads():
    """Officers/team leads: their own unit's leads; leaders, viewers, admins: every unit's.
    Same filters and sort as GET /leads (no paging); ?format=xlsx|csv, english=1 for keys."""
    fmt, english, filters = export_request()
    problem = request_problem(fmt, filters)
    if problem:
        raise ApiError(400, problem)
    return export_response(acting_user(), filters, fmt, english)
