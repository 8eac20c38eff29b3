"""Signal receivers: a project whose facts or stage changed gets its light recomputed before the
transaction commits — once per project and transaction, in one batch, however many changes (a
ledger import moving hundreds of leads, a milestone that also moves the stage). A rollback forgets
them. `services.recompute(lead_id)` recomputes at once when a caller needs it sooner."""
from __future__ import annotations

from sqlalchemy.orm import Session

from crm.leads.models import Lead
from crm.lights.rules import is_lit

_PENDING = "lights_pending"


def _mark(lead_id: int | None) -> None:
    from crm.extensions import db

    if lead_id is None:
        return
    db.session.info.setdefault(_PENDING, set()).add(lead_id)


def on_project_changed(sender=None, lead_id: int | None = None, **_kw) -> None:
    _mark(lead_id)


def on_stage_changed(sender=None, lead: Lead | None = None, old_stage: str | None = None, **_kw) -> None:
    # A lead that is lit now, or was lit (terminated or finished: its light goes out).
    if lead is not None and (is_lit(lead.stage) or (old_stage is not None and is_lit(old_stage))):
        _mark(lead.id)


def _recompute_pending(session: Session) -> None:
    ids = session.info.pop(_PENDING, None)
    if not ids:
        return
    from crm.lights import services

    ids = sorted(ids)
    for start in range(0, len(ids), 1000):
        services.recompute_many(ids[start:start + 1000])


def _forget(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


def connect_session() -> None:
    """Called from crm.lights.init_app: marked leads get their light recomputed before the commit."""
    from crm.database import listen_once

    listen_once(Session, "before_commit", _recompute_pending)
    listen_once(Session, "after_soft_rollback", _forget)
