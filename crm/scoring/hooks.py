"""A lead created or changed is marked "score pending" in the same flush, and its rescore is
queued after the commit (never before: the worker must see the change)."""
from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from crm.database import listen_once
from crm.leads.models import Lead, LeadActivity

_SCORE_COLUMNS = {"p_sign", "p_land", "score_grade", "score_source", "score_model_version", "scored_at",
                  "score_pending", "updated_at", "version"}


def _changed(lead: Lead) -> bool:
    state = inspect(lead)
    return any(attr.history.has_changes() for attr in state.attrs if attr.key not in _SCORE_COLUMNS
               and attr.key in state.mapper.column_attrs)


def _mark_pending(session: Session, _context, _instances) -> None:
    touched = session.info.setdefault("rescore", set())
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Lead) and (obj in session.new or _changed(obj)):
            obj.score_pending = True
            touched.add(obj)
        elif isinstance(obj, LeadActivity) and obj.lead is not None:  # follow-ups are features too
            obj.lead.score_pending = True
            touched.add(obj.lead)


def _queue_rescore(session: Session) -> None:
    leads = session.info.pop("rescore", set())
    ids = [lead.id for lead in leads if lead.id is not None]
    if ids:
        from crm.scoring.jobs import after_commit_rescore

        after_commit_rescore(ids)


def _forget(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop("rescore", None)


def connect() -> None:
    """Called from create_app."""
    listen_once(Session, "before_flush", _mark_pending)
    listen_once(Session, "after_commit", _queue_rescore)
    listen_once(Session, "after_soft_rollback", _forget)
