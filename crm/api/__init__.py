"""JSON API at /api/v1: API tokens (Authorization: Bearer crm_…) or the browser session."""
from __future__ import annotations

from flask import Blueprint, g, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms.validators import ValidationError

from crm.api.errors import ApiError, api_error

bp = Blueprint("api", __name__, url_prefix="/api/v1")

_SAFE = {"GET", "HEAD", "OPTIONS"}


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return api_error(exc.status, exc.message, **exc.extra)


@bp.before_request
def _authenticate():
    from crm.auth.services import user_for_api_token

    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        user = user_for_api_token(header[7:].strip())
        if user is None:
            return api_error(401, _("The API token is invalid, expired or revoked."))
        g.api_user = user
        return None
    if request.endpoint == "api.openapi":
        return None
    if not current_user.is_authenticated:
        return api_error(401, _("Log in or send an API token (Authorization: Bearer …)."))
    if request.method not in _SAFE:
        # Cookie sessions need the CSRF token (header X-CSRFToken) for changes.
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except (ValidationError, CSRFError):
            return api_error(400, _("The CSRF token is missing or invalid."))
    return None


from crm.api import attachments, chains, decisions, exports, imports, leads, openapi, scoring, screening  # noqa: E402,F401,E501  (routes register on bp)
from crm.api import letters, lights, problems, tracking, tracking_steps  # noqa: E402,F401  (after issue 15)
from crm.api import ranking  # noqa: E402,F401  (issue 16)
from crm.api import dashboard  # noqa: E402,F401  (issue 16: the cockpit)
from crm.api import validation  # noqa: E402,F401  (after _authenticate: a 401 comes before a 422)
