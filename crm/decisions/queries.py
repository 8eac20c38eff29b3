"""Read-only lists for the decision pages: the agenda picker and a unit's projects awaiting it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import select

from crm.decisions import services
from crm.decisions.models import Proposal
from crm.extensions import db
from crm.leads.models import Lead
from crm.leads.pipeline import Stage


@dataclass(frozen=True)
class Candidate:
    """A project the secretariat may put on an agenda, with how long it has waited."""
    lead: Lead
    waiting_since: date | None  # the day it came to await the decision (county time)
    waiting_days: int | None
    proposed: bool              # its unit proposed it

    @property
    def search_text(self) -> str:
        return " ".join(part for part in (self.lead.company_name, self.lead.project_name or "",
                                          self.lead.owner_unit.name if self.lead.owner_unit else "") if part).lower()


def agenda_candidates(today: date) -> list[Candidate]:
    """The agenda picker: every project awaiting the decision and on no open agenda, the longest
    waiting first (then those proposed by their unit, then by name)."""
    from sqlalchemy import func

    from crm.formatting import as_day
    from crm.leads.models import LeadStageChange

    leads = services.awaiting_leads()
    since: dict[int, date] = {}
    ids = [lead.id for lead in leads]
    for start in range(0, len(ids), 5000):
        chunk = ids[start:start + 5000]
        for lead_id, changed_at in db.session.execute(
                select(LeadStageChange.lead_id, func.max(LeadStageChange.changed_at))
                .where(LeadStageChange.lead_id.in_(chunk),
                       LeadStageChange.to_stage == Stage.AWAITING_DECISION.value)
                .group_by(LeadStageChange.lead_id)):
            since[lead_id] = as_day(_aware(changed_at))
    proposed = {p.lead_id for p in services.pending_proposals()}
    rows = []
    for lead in leads:
        day = since.get(lead.id) or lead.created_on
        rows.append(Candidate(lead, day, (today - day).days if day else None, lead.id in proposed))
    rows.sort(key=lambda c: (c.waiting_since or today, not c.proposed, c.lead.company_name, c.lead.id))
    return rows


def _aware(value: datetime) -> datetime:
    """Stored times are UTC (naive on SQLite)."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


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

