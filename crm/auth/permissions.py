"""One decorator for capabilities, one check for the unit a record belongs to (Redash style)."""
from __future__ import annotations

from functools import wraps

from flask import abort, g
from flask_login import current_user

from crm.auth.roles import Permission


def acting_user():
    """The user of this request: API token holder or session user (or anonymous)."""
    return getattr(g, "api_user", None) or current_user


def require_permission(*perms: Permission):
    """Logged-in users holding any of `perms` pass; others get 403, anonymous users log in."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = acting_user()
            if not user.is_authenticated:
                from crm.extensions import login_manager

                return login_manager.unauthorized()
            if perms and not user.can(*perms):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permissions = perms  # documented per view; read by tests
        return wrapped

    return decorator


def can_read_unit_records(user, unit_id: int) -> bool:
    if user.can(Permission.LEADS_READ_ALL):
        return True
    return user.can(Permission.LEADS_READ_UNIT) and user.unit_id == unit_id


def can_edit_unit_records(user, unit_id: int) -> bool:
    return user.can(Permission.LEADS_EDIT_UNIT) and user.unit_id == unit_id


def require_lead_access(lead, write: bool = False) -> None:
    """Object-level check: officers and team leads touch only their own unit's leads."""
    user = acting_user()
    allowed = (can_edit_unit_records(user, lead.owner_unit_id) if write
               else can_read_unit_records(user, lead.owner_unit_id))
    if not allowed:
        abort(403)
