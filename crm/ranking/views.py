"""/ranking: the ranking page and its Excel export (filled in by its part of issue 16)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("ranking", __name__)

from crm.auth.permissions import require_permission  # noqa: E402
from crm.auth.roles import Permission  # noqa: E402


@bp.get("/ranking")
@require_permission(Permission.DASHBOARD_READ_ALL, Permission.DASHBOARD_READ_UNIT)
def index():
    """Leaders, viewers, admins and team leads: the ranking (placeholder)."""
    return "", 204
