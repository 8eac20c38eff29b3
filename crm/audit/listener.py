"""Every insert, update and delete of an audited model (`__audit__ = True`) lands in audit_log.

Done in the session's after_flush, where ids exist and attribute history is still there, so no
service can forget it; rows go in through the same connection and transaction as the change.

A model may also declare:
- `__audit_secret__`: columns stored as *** (password hashes, tokens);
- `__audit_ignore__`: bookkeeping columns that are not a change of their own (a lead's score,
  its score-pending flag, its normalised name key): left out, so an update touching only them
  writes no entry;
- `__audit_parent__ = (entity_type, fk column, prefix)`: entries filed under the parent record
  (a lead's contact: entity "leads", the lead's id, action contact_create/_update/_delete, the
  contact's own id as `contact_id`), so the parent's history shows them;
- `__audit_always__`: columns named in every update entry, changed or not (which contact).
Personal data (crm.contacts) is stored as it is and masked when shown (crm.audit.words).
"""
from __future__ import annotations

import contextvars
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from crm.audit.models import AuditEntry
from crm.database import listen_once, utcnow

# The acting user's id when there is no request (CLI, jobs); requests use Flask-Login.
_cli_actor: contextvars.ContextVar[int | None] = contextvars.ContextVar("audit_actor", default=None)
# Added to every entry written meanwhile, e.g. {"import_batch": 12} while an import runs.
_note: contextvars.ContextVar[dict] = contextvars.ContextVar("audit_note", default={})
_SKIP = {"updated_at", "version", "created_at"}


def set_actor(user_id: int | None, **note):
    """The actor (and a note such as import_batch=…) of the entries written without a request;
    set_actor(None) clears both."""
    _note.set(dict(note))
    return _cli_actor.set(user_id)


def current_actor_id() -> int | None:
    from flask import has_request_context

    if has_request_context():
        from flask import g
        from flask_login import current_user

        user = getattr(g, "api_user", None) or current_user
        if user is not None and getattr(user, "is_authenticated", False):
            return user.id
    return _cli_actor.get()


_AS_IS = (str, int, float, bool, type(None))


def plain_value(value):
    """A column value as the audit log stores it (JSON): decimals and dates as text."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is Decimal:
        return format(value.normalize(), "f")
    if kind is date or kind is datetime:
        return value.isoformat()
    return str(value)


def _columns(obj):
    mapper = inspect(obj).mapper
    return [(attr.key, attr) for attr in mapper.column_attrs]


def _snapshot(obj) -> dict:
    secret = getattr(obj, "__audit_secret__", ())
    ignore = getattr(obj, "__audit_ignore__", ())
    out = {}
    for key, _attr in _columns(obj):
        if key in _SKIP or key == "id" or key in ignore:
            continue
        value = getattr(obj, key)
        if value is not None:
            out[key] = [None, "***" if key in secret else plain_value(value)]
    return out


def _diff(obj) -> dict:
    state = inspect(obj)
    secret = getattr(obj, "__audit_secret__", ())
    ignore = getattr(obj, "__audit_ignore__", ())
    out = {}
    for key, _attr in _columns(obj):
        if key in _SKIP or key in ignore:
            continue
        hist = state.attrs[key].history
        if not hist.has_changes():
            continue
        before = hist.deleted[0] if hist.deleted else None
        after = hist.added[0] if hist.added else None
        if plain_value(before) == plain_value(after):
            continue
        if key in secret:
            out[key] = ["***", "***"]
        else:
            out[key] = [plain_value(before), plain_value(after)]
    return out


def _write_audit(session: Session, _flush_context) -> None:
    rows = []
    actor = current_actor_id()
    note = {key: [None, value] for key, value in _note.get().items()}
    now = utcnow()
    for obj, action in ([(o, "create") for o in session.new] + [(o, "update") for o in session.dirty]
                        + [(o, "delete") for o in session.deleted]):
        if not getattr(type(obj), "__audit__", False):
            continue
        if action == "create":
            changes = _snapshot(obj)
        elif action == "delete":
            changes = {k: [v[1], None] for k, v in _snapshot(obj).items()}
        else:
            if not session.is_modified(obj, include_collections=False):
                continue
            changes = _diff(obj)
            if not changes:
                continue
            if "stage" in changes:
                action = "stage"
            for key in getattr(obj, "__audit_always__", ()):
                if key not in changes:
                    changes[key] = [plain_value(getattr(obj, key))] * 2
        entity_type, entity_id = obj.__tablename__, getattr(obj, "id", None)
        parent = getattr(type(obj), "__audit_parent__", None)
        if parent is not None:
            parent_type, fk, prefix = parent
            changes[f"{prefix}_id"] = [entity_id, entity_id]
            entity_type, entity_id, action = parent_type, getattr(obj, fk, None), f"{prefix}_{action}"
        if note:
            changes.update(note)
        rows.append({"at": now, "actor_id": actor, "action": action,
                     "entity_type": entity_type, "entity_id": entity_id, "changes": changes})
    if rows:
        session.connection().execute(AuditEntry.__table__.insert(), rows)


def record(session: Session, action: str, entity_type: str, entity_id: int | None,
           changes: dict | None = None) -> None:
    """An audit row for an event that is not a column change (login, logout, token use)."""
    session.add(AuditEntry(at=utcnow(), actor_id=current_actor_id(), action=action,
                           entity_type=entity_type, entity_id=entity_id, changes=changes or {}))


def connect() -> None:
    """Called from create_app: every flush writes its audit entries."""
    listen_once(Session, "after_flush", _write_audit)
