"""/bulletins: list, page, Word file and on-demand making (filled in by its part of issue 16)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("bulletins", __name__)

from crm.auth.permissions import require_permission  # noqa: E402
from crm.auth.roles import Permission  # noqa: E402


@bp.get("/bulletins")
@require_permission(Permission.DASHBOARD_READ_ALL)
def index():
    """Leaders, viewers and admins: the bulletins (placeholder)."""
    return "", 204
