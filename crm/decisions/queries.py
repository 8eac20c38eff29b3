"""Read-only lists for the decision pages: the agenda picker and a unit's projects awaiting it."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from crm.decisions import services
from crm.decisions.models import Proposal
from crm.extensions import db
from crm.leads.models import Lead
from crm.leads.pipeline import Stage


def agenda_choices() -> list[tuple[int, str]]:
    """The secretariat's picker: projects awaiting the decision on no agenda, those proposed first."""
    proposed = {p.lead_id for p in services.pending_proposals()}
    leads = sorted(services.awaiting_leads(), key=lambda lead: lead.id not in proposed)
    mark = _("proposed by its unit")
    return [(lead.id, f"{lead.company_name} · {lead.project_name or ''} · {lead.owner_unit.name}"
             + (f"（{mark}）" if lead.id in proposed else "")) for lead in leads]


@dataclass(frozen=True)
class OwnProject:
    lead: Lead
    proposal: Proposal | None   # the latest proposal, if any
    on_agenda: bool


def own_awaiting(unit_id: int | None) -> list[OwnProject]:
    """A unit's projects awaiting the decision, with their proposal and whether an agenda has them."""
    if unit_id is None:
        return []
    leads = db.session.scalars(select(Lead).where(Lead.owner_unit_id == unit_id,
                                                  Lead.stage == Stage.AWAITING_DECISION.value)
                               .order_by(Lead.updated_at)).all()
    latest: dict[int, Proposal] = {}
    for proposal in db.session.scalars(select(Proposal).where(Proposal.lead_id.in_([l.id for l in leads]))
                                       .order_by(Proposal.created_at)):
        latest[proposal.lead_id] = proposal
    return [OwnProject(lead, latest.get(lead.id), services.items_pending_for(lead.id) is not None)
            for lead in leads]

