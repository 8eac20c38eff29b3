"""The tracking core's side of the project page: its three panels (agreement; milestones planned
vs actual; 到资 against plan), the 'milestone' attachment kind and the receiver that keeps the
lead's stage and the milestones one truth. Wired by crm.tracking.init_app."""
from __future__ import annotations

from flask import g

from crm.auth.permissions import can_edit_unit_records
from crm.tracking import queries, services
from crm.tracking.forms import ActualForm, AgreementForm, InvestmentForm
from crm.tracking.panels import Panel, register_panel


def bound_form(key: str, form) -> None:
    """A submitted form with its errors, shown again in its panel instead of a blank one."""
    g.setdefault("tracking_forms", {})[key] = form


def _form(key: str, factory):
    return g.get("tracking_forms", {}).get(key) or factory()


def agreement_form(lead) -> AgreementForm:
    agreement = services.agreement_of(lead.id)
    if agreement is not None:
        data = {name: getattr(agreement, name) for name in AgreementForm.VALUE_FIELDS}
        data["version"] = agreement.version
    else:
        data = {**services.prefill_from_lead(lead), "version": ""}
    data.update({f"plan_{m}": p.planned_on for m, p in services.current_plans(lead.id).items()})
    return AgreementForm(formdata=None, data=data)


def _agreement_context(lead, user) -> dict:
    can_edit = can_edit_unit_records(user, lead.owner_unit_id)
    return {"agreement": services.agreement_of(lead.id), "can_edit": can_edit,
            "plans": services.current_plans(lead.id),
            "form": _form("agreement", lambda: agreement_form(lead)) if can_edit else None}


def _milestones_context(lead, user) -> dict:
    can_edit = can_edit_unit_records(user, lead.owner_unit_id)
    from crm.attachments.queries import panels
    from crm.tracking.milestone_attachments import MILESTONE_KIND

    lines = queries.timeline(lead.id)
    files = panels(MILESTONE_KIND, {line.actual.id: line.actual for line in lines if line.actual}, user)
    return {"lines": lines, "can_edit": can_edit, "files": files,
            "form": _form("actual", lambda: ActualForm(formdata=None)) if can_edit else None}


def _investment_context(lead, user) -> dict:
    can_edit = can_edit_unit_records(user, lead.owner_unit_id)
    return {"summary": queries.investment_summary(lead.id), "can_edit": can_edit,
            "form": _form("investment", lambda: InvestmentForm(formdata=None)) if can_edit else None}


def init_core(app) -> None:
    from crm import signals
    from crm.attachments.registry import register_kind
    from crm.tracking.milestone_attachments import MILESTONE

    register_panel(app, "project", Panel("agreement", "tracking/_agreement_panel.html", _agreement_context, 10))
    register_panel(app, "project", Panel("milestones", "tracking/_milestones_panel.html", _milestones_context, 20))
    register_panel(app, "project", Panel("investment", "tracking/_investment_panel.html", _investment_context, 30))
    register_kind(app, MILESTONE)
    signals.lead_stage_changed.connect(services.stage_moved)
    from crm.tracking.access import is_tracked

    app.jinja_env.globals["is_tracked"] = is_tracked  # the lead page links its project page
