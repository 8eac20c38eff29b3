"""Lead endpoints: the same rules and visibility as the pages, in JSON."""
from __future__ import annotations

import math
from decimal import Decimal

from flask import jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from crm.api import bp
from crm.api.errors import ApiError, api_error
from crm.auth.permissions import acting_user, require_permission
from crm.auth.roles import Permission
from crm.extensions import db
from crm.leads import services
from crm.leads.forms import LeadForm, fill_lead_choices
from crm.leads.models import Lead
from crm.leads.queries import LeadFilters, get_lead_or_404, lead_page

READ = (Permission.LEADS_READ_UNIT, Permission.LEADS_READ_ALL)


def _num(value):
    """JSON has no ∞ or NaN: a value stored before the ranges were enforced reads as unknown."""
    if isinstance(value, Decimal):
        number = float(value)
        return number if math.isfinite(number) else None
    return value


def lead_json(lead: Lead) -> dict:
    return {
        "id": lead.id, "company_name": lead.company_name, "uscc": lead.uscc,
        "project_name": lead.project_name,
        "chain_id": lead.chain_id, "industry": lead.chain.code if lead.chain else None,
        "chain_node_id": lead.chain_node_id, "chain_node": lead.chain_node.name if lead.chain_node else None,
        "source_id": lead.source_id, "source_name": lead.source.name if lead.source else None,
        "source_kind": lead.source_kind, "origin_region": lead.origin_region,
        "planned_investment_wan": _num(lead.planned_investment_wan),
        "fixed_asset_investment_wan": _num(lead.fixed_asset_investment_wan),
        "land_area_mu": _num(lead.land_area_mu), "expected_output_wan": _num(lead.expected_output_wan),
        "expected_tax_wan": _num(lead.expected_tax_wan), "high_tech": lead.high_tech,
        "specialized": lead.specialized, "patents": lead.patents, "rd_ratio": _num(lead.rd_ratio),
        "jobs": lead.jobs, "owner_unit_id": lead.owner_unit_id, "owner_unit": lead.owner_unit.name,
        "owner_id": lead.owner_id, "stage": lead.stage, "stage_label": lead.stage_label,
        "created_on": lead.created_on.isoformat() if lead.created_on else None,
        "signed_on": lead.signed_on.isoformat() if lead.signed_on else None,
        "started_on": lead.started_on.isoformat() if lead.started_on else None,
        "lost_reason": lead.lost_reason, "note": lead.note,
        "investment_intensity": _num(lead.investment_intensity), "tax_per_mu": _num(lead.tax_per_mu),
        "p_sign": lead.p_sign, "p_land": lead.p_land, "score_grade": lead.score_grade,
        "score_source": lead.score_source, "model_version": lead.score_model_version,
        "scored_at": lead.scored_at.isoformat() if lead.scored_at else None, "score_pending": lead.score_pending,
        "version": lead.version, "updated_at": lead.updated_at.isoformat(),
        "url": url_for("leads.show", lead_id=lead.id),
    }


def _as_formdata(payload: dict) -> MultiDict:
    out = MultiDict()
    for key, value in payload.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "1" if value else "0"
        out.add(key, str(value))
    return out


def _validated(payload, base: dict | None = None, unit_id: int | None = None) -> tuple[LeadForm, dict]:
    if not isinstance(payload, dict):
        raise ApiError(400, _("Send a JSON object."))
    unknown = sorted(set(payload) - set(LeadForm.LEAD_FIELDS) - {"version", "confirm_duplicate"})
    if unknown:
        raise ApiError(400, _("Unknown fields: %(names)s.", names=", ".join(unknown)))
    merged = dict(base or {})
    merged.update(payload)
    form = LeadForm(formdata=_as_formdata(merged), meta={"csrf": False})
    fill_lead_choices(form, unit_id, acting_user())
    if not form.validate():
        errors = {k: [str(m) for m in v] for k, v in form.errors.items()}
        raise ApiError(422, _("Some fields are invalid."), fields=errors)
    return form, form.lead_data()


def _base_of(lead: Lead) -> dict:
    data = {k: getattr(lead, k) for k in LeadForm.LEAD_FIELDS}
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}


def _run_rule(lead_id: int, action):
    """Run a service call; rules broken or a concurrent edit become JSON errors."""
    try:
        action()
    except StaleDataError:
        db.session.rollback()
        return _rule_error(services.ConcurrentEditError(db.session.get(Lead, lead_id)))
    except services.LeadError as exc:
        return _rule_error(exc)
    return jsonify(lead_json(db.session.get(Lead, lead_id)))


def _rule_error(exc: services.LeadError):
    fields = {exc.field: [str(exc)]} if exc.field else {}
    status = 409 if isinstance(exc, services.ConcurrentEditError) or "company_name" in fields else 422
    return api_error(status, str(exc), fields=fields)


@bp.get("/leads")
@require_permission(*READ)
def list_leads():
    """Officers/team leads: own unit; leaders, viewers, admins: all. Same filters as the page."""
    filters = LeadFilters.from_args(request.args)
    if filters.errors:
        return api_error(400, _("Invalid filter: %(names)s.", names=", ".join(filters.errors)))
    per_page = min(max(request.args.get("per_page", 50, type=int), 1), 200)
    page = lead_page(acting_user(), filters, per_page=per_page)
    return jsonify({"items": [lead_json(l) for l in page.leads], "total": page.total,
                    "next_cursor": page.next_cursor})


@bp.get("/leads/<int:lead_id>")
@require_permission(*READ)
def get_lead(lead_id: int):
    """Officers/team leads of the owning unit; leaders, viewers, admins. With the latest score's
    factors (score_factors: {sign, land}: [{group, points, text}], worded in the request's language, and
    base: the county's base chance each adds up from)."""
    lead = get_lead_or_404(lead_id)
    return jsonify({**lead_json(lead), "score_factors": _score_factors(lead.id)})


def _score_factors(lead_id: int) -> dict:
    from sqlalchemy import select

    from crm.scoring.models import LeadScore

    latest = db.session.scalar(select(LeadScore).where(LeadScore.lead_id == lead_id)
                               .order_by(LeadScore.scored_at.desc(), LeadScore.id.desc()).limit(1))
    if latest is None:
        return {"sign": [], "land": [], "base": {"sign": None, "land": None}}
    base = (latest.factors or {}).get("base") or {}
    return {"sign": latest.factor_lines("sign"), "land": latest.factor_lines("land"),
            "base": {"sign": base.get("sign"), "land": base.get("land")}}


@bp.post("/leads")
@require_permission(Permission.LEADS_EDIT_UNIT)
def create_lead():
    """Officers and team leads, into their own unit."""
    user = acting_user()
    payload = request.get_json(silent=True)
    form, data = _validated(payload, unit_id=user.unit_id)
    try:
        lead = services.create_lead(data, user.unit, user, confirmed_duplicate=bool(payload.get("confirm_duplicate")))
    except services.LeadError as exc:
        return _rule_error(exc)
    return jsonify(lead_json(lead)), 201


@bp.route("/leads/<int:lead_id>", methods=["PATCH", "PUT"])
@require_permission(Permission.LEADS_EDIT_UNIT)
def update_lead(lead_id: int):
    """Officers and team leads of the owning unit; send `version` to guard against overwriting."""
    user = acting_user()
    lead = get_lead_or_404(lead_id, write=True)
    payload = request.get_json(silent=True)
    form, data = _validated(payload, base=_base_of(lead), unit_id=lead.owner_unit_id)
    return _run_rule(lead_id, lambda: services.update_lead(
        lead, data, user, payload.get("version"), confirmed_duplicate=bool(payload.get("confirm_duplicate"))))


@bp.post("/leads/<int:lead_id>/stage")
@require_permission(Permission.LEADS_EDIT_UNIT)
def change_stage(lead_id: int):
    """Body: {"stage": code, "reason": text (required for lost), "date": "YYYY-MM-DD", "version": n}."""
    from datetime import date

    user = acting_user()
    lead = get_lead_or_404(lead_id, write=True)
    payload = request.get_json(silent=True) or {}
    on_date = None
    if payload.get("date"):
        try:
            on_date = date.fromisoformat(str(payload["date"]))
        except ValueError:
            return api_error(422, _("The date must look like 2024-03-05."), fields={"date": ["invalid"]})
    return _run_rule(lead_id, lambda: services.change_stage(
        lead, str(payload.get("stage") or ""), user, payload.get("reason"), on_date, payload.get("version")))
