"""Signal receivers: recompute a project's light when its facts or its stage change (inside the
sender's transaction: they flush, never commit)."""
from __future__ import annotations

from crm.extensions import db
from crm.leads.models import Lead
from crm.lights import services
from crm.lights.models import ProjectLight
from crm.lights.rules import is_lit


def _recompute_if_tracked(lead: Lead | None) -> None:
    if lead is None:
        return
    if is_lit(lead.stage) or db.session.get(ProjectLight, lead.id) is not None:
        services.recompute(lead.id)


def on_project_changed(sender=None, lead_id: int | None = None, **_kw) -> None:
    if lead_id is not None:
        _recompute_if_tracked(db.session.get(Lead, lead_id))


def on_stage_changed(sender=None, lead: Lead | None = None, **_kw) -> None:
    _recompute_if_tracked(lead)
