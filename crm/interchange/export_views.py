"""Export routes: the lead list, as filtered on the page, downloaded as .xlsx or .csv."""
from __future__ import annotations

import tempfile
import unicodedata
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Response, current_app, request, send_file, stream_with_context
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest

from crm.auth.permissions import acting_user, require_permission
from crm.auth.roles import Permission
from crm.interchange import bp
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
    rows = export_rows(user, filters, english)
    name = download_name(fmt, english)
    if fmt == "csv":
        # Read from the database while the body is sent: memory stays flat, the first bytes
        # leave at once. The query runs in the streaming context's session (see export_rows).
        response = Response(stream_with_context(csv_chunks(rows)), mimetype=FORMATS["csv"])
        _attachment(response, name)
        return response
    # XlsxWriter must seek back to write the zip directory, so the file is built first; an
    # unnamed temp file disappears by itself when send_file closes it after the last byte.
    spool = tempfile.TemporaryFile(suffix=".xlsx")
    try:
        write_xlsx(rows, spool)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return send_file(spool, mimetype=FORMATS["xlsx"], as_attachment=True, download_name=name,
                     max_age=0)


def download_name(fmt: str, english: bool) -> str:
    """线索导出_20261121.xlsx (leads_export_… with English keys), dated in the county's time."""
    today = datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).strftime("%Y%m%d")
    return f"{'leads_export' if english else '线索导出'}_{today}.{fmt}"


def _attachment(response: Response, name: str) -> None:
    """Content-Disposition as send_file writes it: an ASCII fallback and the UTF-8 name
    (RFC 6266 / RFC 5987 filename*), so both formats are named the same way."""
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    response.headers.set("Content-Disposition", "attachment", filename=fallback,
                         **{"filename*": "UTF-8''" + quote(name, safe="!#$&+^`|~")})
