"""The steps, yearly results and 履约/亩均 panels of the project page, and the evidence files of a
step (attachment kind 'step'). `init_steps(app)` is called once from crm.tracking.init_app."""
from __future__ import annotations

from decimal import Decimal

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from crm import clock
from crm.attachments.registry import AttachmentKind, register_kind
from crm.auth.permissions import can_edit_unit_records, can_read_unit_records
from crm.extensions import db
from crm.leads.models import Lead
from crm.tracking import performance, results, steps
from crm.tracking.models import InvestmentEntry, Milestone, MilestoneActual, MilestonePlan, StepRecord
from crm.tracking.panels import Panel, register_panel
from crm.tracking.plan import investment_basis
from crm.tracking.settings import peek_settings


def _load_record(owner_id: int):
    return db.session.get(StepRecord, owner_id)


def _lead_of(record) -> Lead | None:
    return db.session.get(Lead, record.lead_id)


def _may_read(user, record) -> bool:
    lead = _lead_of(record)
    return lead is not None and can_read_unit_records(user, lead.owner_unit_id)


def _may_upload(user, record) -> bool:
    lead = _lead_of(record)
    return lead is not None and can_edit_unit_records(user, lead.owner_unit_id)


STEP_ATTACHMENTS = AttachmentKind(
    name=steps.STEP_KIND,
    load=_load_record,
    may_read=_may_read,
    may_upload=_may_upload,
    is_open=lambda record: False,  # evidence stays with the step reached
    label=lambda record: _("Step: %(step)s · %(company)s", step=record.step.name,
                           company=_lead_of(record).company_name),
    link=lambda record: url_for("tracking.project", lead_id=record.lead_id) + "#steps",
)


def steps_context(lead, user) -> dict:
    from crm.tracking.step_forms import ReachStepForm

    lines = steps.project_steps(lead.id)
    can_edit = can_edit_unit_records(user, lead.owner_unit_id)
    form = None
    if can_edit:
        form = ReachStepForm(prefix="step")
        form.step_id.choices = [(line.step.id, f"{line.step.position}. {line.step.name}"
                                 + (" *" if line.step.evidence_required else ""))
                                for line in lines if line.record is None and line.step.active]
        if form.reached_on.data is None:
            form.reached_on.data = clock.today()
    from crm.attachments.queries import panels

    # Every reached step's evidence in one query (not one per row of the table).
    files = panels(steps.STEP_KIND, {line.record.id: line.record for line in lines if line.record}, user)
    return {"lines": lines, "form": form, "can_edit": can_edit, "files": files,
            "points": sum(line.record.points for line in lines if line.record)}


def _producing(lead) -> bool:
    return results.is_producing(lead)


def results_context(lead, user) -> dict | None:
    if not _producing(lead) and not results.results_for(lead.id):
        return None
    from crm.tracking.results_forms import YearlyResultForm

    can_edit = _producing(lead) and can_edit_unit_records(user, lead.owner_unit_id)
    form = YearlyResultForm(prefix="result") if can_edit else None
    return {"rows": results.results_for(lead.id), "form": form}


def _actual(lead_id: int, milestone: Milestone):
    return db.session.scalar(select(MilestoneActual.actual_on).where(MilestoneActual.lead_id == lead_id,
                                                                     MilestoneActual.milestone == milestone.value))


def _planned(lead_id: int, milestone: Milestone):
    return db.session.scalar(select(MilestonePlan.planned_on).where(
        MilestonePlan.lead_id == lead_id, MilestonePlan.milestone == milestone.value,
        MilestonePlan.superseded_at.is_(None)).order_by(MilestonePlan.id.desc()).limit(1))


def performance_facts(lead) -> performance.Facts:
    from crm.tracking.models import Agreement

    agreement = db.session.scalar(select(Agreement).where(Agreement.lead_id == lead.id))
    invested = db.session.scalar(select(func.coalesce(func.sum(InvestmentEntry.amount_wan), 0))
                                 .where(InvestmentEntry.lead_id == lead.id))
    latest = results.latest_result(lead.id)
    land = agreement.land_area_mu if agreement and agreement.land_area_mu is not None else lead.land_area_mu
    return performance.Facts(
        land_mu=land,
        promised_fixed_wan=investment_basis(agreement),
        promised_output_wan=agreement.promised_output_wan if agreement else None,
        promised_tax_wan=agreement.promised_tax_wan if agreement else None,
        invested_wan=Decimal(invested or 0),
        planned_complete=_planned(lead.id, Milestone.COMPLETE),
        completed_on=_actual(lead.id, Milestone.COMPLETE),
        produced_on=_actual(lead.id, Milestone.PRODUCE),
        latest_year=latest.year if latest else None,
        latest_output_wan=latest.output_wan if latest else None,
        latest_tax_wan=latest.tax_wan if latest else None,
    )


def performance_context(lead, user) -> dict | None:
    if not _producing(lead):
        return None
    settings = peek_settings()
    facts = performance_facts(lead)
    result = performance.evaluate(facts, clock.today(), settings.low_tax_per_mu_wan, settings.investment_met_pct)
    return {"perf": result, "facts": facts}


def init_steps(app) -> None:
    register_kind(app, STEP_ATTACHMENTS)
    register_panel(app, "project", Panel("steps", "tracking/_steps.html", steps_context, order=60))
    register_panel(app, "project", Panel("results", "tracking/_performance_results.html", results_context, order=70))
    register_panel(app, "project", Panel("performance", "tracking/_performance.html", performance_context, order=75))
