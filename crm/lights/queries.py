"""The facts the light is computed from, for one project or for every lit project at once: a
handful of grouped queries whatever the number of projects (the nightly job lights 20,000)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import case, func, select

from crm import clock
from crm.extensions import db
from crm.leads.models import Lead, LeadStageChange
from crm.leads.pipeline import Stage
from crm.lights.models import LightChange, ProjectLight
from crm.lights.rules import LIT_STAGES, Facts
from crm.problems.models import OPEN_STATUSES, Problem
from crm.tracking.models import Agreement, InvestmentEntry, MilestoneActual, MilestonePlan, StepRecord
from crm.tracking.plan import investment_basis

_LIT = [s.value for s in LIT_STAGES]


def _scope(column, lead_ids):
    """Restrict a query to the given leads, or to every lit lead (a join-free subquery)."""
    if lead_ids is not None:
        return column.in_(list(lead_ids))
    return column.in_(select(Lead.id).where(Lead.stage.in_(_LIT)))


def _local_date(moment: datetime | None) -> date | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(clock.local_zone()).date()


def _as_date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])  # SQLite's MAX() of a DATE column is text


def gather_facts(today: date, lead_ids=None) -> dict[int, Facts]:
    """lead id → Facts, for the lit leads among `lead_ids` (None: every lit lead)."""
    leads = db.session.execute(
        select(Lead.id, Lead.stage, Lead.signed_on, Lead.started_on, Lead.created_on)
        .where(Lead.stage.in_(_LIT), *([Lead.id.in_(list(lead_ids))] if lead_ids is not None else []))).all()
    if not leads:
        return {}
    planned: dict[int, dict[str, date]] = {}
    for lead_id, milestone, planned_on in db.session.execute(
            select(MilestonePlan.lead_id, MilestonePlan.milestone, MilestonePlan.planned_on)
            .where(_scope(MilestonePlan.lead_id, lead_ids), MilestonePlan.superseded_at.is_(None))
            .order_by(MilestonePlan.id)):
        planned.setdefault(lead_id, {})[milestone] = planned_on  # the newest current row wins
    actual: dict[int, dict[str, date]] = {}
    for lead_id, milestone, actual_on in db.session.execute(
            select(MilestoneActual.lead_id, MilestoneActual.milestone, MilestoneActual.actual_on)
            .where(_scope(MilestoneActual.lead_id, lead_ids))):
        actual.setdefault(lead_id, {})[milestone] = actual_on
    invested = {lead_id: (Decimal(total or 0), _as_date(last)) for lead_id, total, last in db.session.execute(
        select(InvestmentEntry.lead_id, func.sum(InvestmentEntry.amount_wan), func.max(InvestmentEntry.paid_on))
        .where(_scope(InvestmentEntry.lead_id, lead_ids), InvestmentEntry.paid_on <= today)
        .group_by(InvestmentEntry.lead_id))}
    steps = {lead_id: _as_date(last) for lead_id, last in db.session.execute(
        select(StepRecord.lead_id, func.max(StepRecord.reached_on))
        .where(_scope(StepRecord.lead_id, lead_ids), StepRecord.reached_on <= today)
        .group_by(StepRecord.lead_id))}
    admitted = {lead_id: _local_date(moment if not isinstance(moment, str) else datetime.fromisoformat(moment))
                for lead_id, moment in db.session.execute(
                    select(LeadStageChange.lead_id, func.max(LeadStageChange.changed_at))
                    .where(_scope(LeadStageChange.lead_id, lead_ids),
                           LeadStageChange.to_stage == Stage.ADMITTED.value)
                    .group_by(LeadStageChange.lead_id))}
    problems: dict[int, list[date]] = {}
    for lead_id, due_on in db.session.execute(
            select(Problem.lead_id, Problem.due_on)
            .where(_scope(Problem.lead_id, lead_ids), Problem.status.in_([s.value for s in OPEN_STATUSES]))):
        problems.setdefault(lead_id, []).append(due_on)
    basis = {row.lead_id: investment_basis(row) for row in db.session.execute(
        select(Agreement.lead_id, Agreement.fixed_asset_investment_wan, Agreement.total_investment_wan)
        .where(_scope(Agreement.lead_id, lead_ids)))}

    facts = {}
    for lead_id, stage, signed_on, started_on, created_on in leads:
        acts = actual.get(lead_id, {})
        total, last_paid = invested.get(lead_id, (Decimal(0), None))
        floor = admitted.get(lead_id) or signed_on or created_on
        progress = [d for d in (steps.get(lead_id), last_paid, floor, *acts.values()) if d is not None and d <= today]
        facts[lead_id] = Facts(
            lead_id=lead_id, stage=stage, planned=planned.get(lead_id, {}), actual=acts, invested_wan=total,
            investment_basis_wan=basis.get(lead_id), last_progress_on=max(progress) if progress else None,
            open_problem_dues=tuple(problems.get(lead_id, ())), signed_on=signed_on, started_on=started_on)
    return facts


def light_of(lead_id: int) -> ProjectLight | None:
    return db.session.get(ProjectLight, lead_id)


def history(lead_id: int, limit: int = 50) -> list[LightChange]:
    return list(db.session.scalars(select(LightChange).where(LightChange.lead_id == lead_id)
                                   .order_by(LightChange.changed_at.desc(), LightChange.id.desc()).limit(limit)))


def lights_for(user, colour: str | None = None, limit: int = 500):
    """(ProjectLight, Lead) rows of the projects the user may read, worst first."""
    from crm.leads.queries import visible_leads_filter

    visible = visible_leads_filter(user)
    severity = case({"red": 0, "yellow": 1}, value=ProjectLight.colour, else_=2)
    conditions = [c for c in (visible, ProjectLight.colour == colour if colour else None) if c is not None]
    query = (select(ProjectLight, Lead).join(Lead, Lead.id == ProjectLight.lead_id).where(*conditions)
             .order_by(severity, ProjectLight.since, Lead.id).limit(limit))
    return db.session.execute(query).all()
