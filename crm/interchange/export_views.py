"""Export routes: the lead list, as filtered on the page, downloaded as .xlsx or .csv."""
from __future__ import annotations


from flask import Response, request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest

from crm import clock
from crm.auth.permissions import acting_user, require_permission
from crm.auth.roles import Permission
from crm.interchange import bp
from crm.documents import spreadsheet_response
from crm.interchange.export import csv_chunks, export_rows, write_xlsx
from crm.leads.queries import LeadFilters

READ = (Permission.LEADS_READ_UNIT, Permission.LEADS_READ_ALL)
FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
_TRUE = ("1", "true", "yes", "y", "on")


@bp.get("/leads/export")
@require_permission(*READ)
def export_leads():
    """Officers/team leads: their own unit's leads; leaders, viewers, admins: every unit's.
    The list page's filters and sort apply (?format=xlsx|csv&english=1&stage=…)."""
    fmt, english, filters = export_request()
    problem = request_problem(fmt, filters)
    if problem:
        error = BadRequest(problem)
        error.crm_message = problem  # shown on the error page (crm.create_app's handlers)
        raise error
    return export_response(acting_user(), filters, fmt, english)


def export_request() -> tuple[str, bool, LeadFilters]:
    """(format, english, filters) from the query string; format defaults to xlsx."""
    fmt = (request.args.get("format") or "xlsx").strip().lower()
    english = (request.args.get("english") or "").strip().lower() in _TRUE
    return fmt, english, LeadFilters.from_args(request.args)


def request_problem(fmt: str, filters: LeadFilters) -> str | None:
    """The message for a request that cannot be answered, or None."""
    if fmt not in FORMATS:
        return _("Unknown export format “%(format)s”: use xlsx or csv.", format=fmt[:20])
    if filters.errors:
        return _("Invalid filter: %(names)s.", names=", ".join(filters.errors))
    return None


def export_response(user, filters: LeadFilters, fmt: str, english: bool) -> Response:
    rows = export_rows(user, filters, english)  # the query runs in the streaming context's session
    return spreadsheet_response(fmt, download_name(fmt, english), lambda: csv_chunks(rows),
                                lambda spool: write_xlsx(rows, spool))


def download_name(fmt: str, english: bool) -> str:
    """线索导出_20261121.xlsx (leads_export_… with English keys), dated in the county's time."""
    today = clock.today().strftime("%Y%m%d")
    return f"{'leads_export' if english else '线索导出'}_{today}.{fmt}"
