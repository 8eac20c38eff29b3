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
from crm.contacts.services import ContactError
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


def contact_json(contact, personal: bool) -> dict:
    """A contact; phone, WeChat, e-mail and note only for readers who may see personal data
    (crm.contacts.access): for the others the keys are absent, not empty."""
    out = {"id": contact.id, "name": contact.name, "title": contact.title, "is_primary": contact.is_primary}
    if personal:
        out.update(phone=contact.phone, wechat=contact.wechat, email=contact.email, note=contact.note)
    return out


def _contacts_json(lead: Lead, contacts=None) -> dict:
    from crm.contacts.access import sees_personal_data
    from crm.contacts.services import contacts_for

    if contacts is None:
        contacts = contacts_for([lead.id])[lead.id]
    personal = sees_personal_data(acting_user(), lead.owner_unit_id)
    return {"contacts": [contact_json(c, personal) for c in contacts], "contacts_personal_data": personal}


def lead_json(lead: Lead, contacts=None) -> dict:
    """The lead as the API shows it; `contacts`: its contacts loaded already (a page of leads
    loads them in one query)."""
    return {**_lead_fields(lead), **_contacts_json(lead, contacts)}


def _lead_fields(lead: Lead) -> dict:
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
    unknown = sorted(set(payload) - set(LeadForm.LEAD_FIELDS) - {"version", "confirm_duplicate", "contacts"})
    if unknown:
        raise ApiError(400, _("Unknown fields: %(names)s.", names=", ".join(unknown)))
    merged = dict(base or {})
    merged.update({k: v for k, v in payload.items() if k != "contacts"})
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
    from crm.contacts.services import contacts_for

    contacts = contacts_for(l.id for l in page.leads)  # one query for the page
    return jsonify({"items": [lead_json(l, contacts[l.id]) for l in page.leads], "total": page.total,
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
    contacts = payload.get("contacts") or []
    if not isinstance(contacts, list):
        raise ApiError(422, _("Some fields are invalid."), fields={"contacts": [_("Send a list of contacts.")]})
    for index, contact in enumerate(contacts):
        unknown = sorted(set(contact) - _CONTACT_KEYS) if isinstance(contact, dict) else []
        if unknown:
            raise ApiError(422, _("Unknown fields: %(names)s.", names=", ".join(unknown)),
                           fields={f"contacts[{index}]": [_("Unknown fields: %(names)s.", names=", ".join(unknown))]})
    try:
        lead = services.create_lead(data, user.unit, user, confirmed_duplicate=bool(payload.get("confirm_duplicate")),
                                    contacts=contacts)
    except ContactError as exc:  # the answer's status rolls the lead back too
        return _contact_error(exc)
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
    if isinstance(payload, dict) and "contacts" in payload:
        raise ApiError(400, _("Change contacts through /leads/%(id)s/contacts.", id=lead_id))
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


# --- contacts (crm.contacts): read with the lead, written here --------------------------------
_CONTACT_KEYS = {"name", "title", "phone", "wechat", "email", "note", "is_primary"}


def _contact_error(exc: ContactError):
    key = f"contacts[{exc.index}].{exc.field}" if exc.index is not None else (exc.field or "contact")
    return api_error(422, str(exc), fields={key: [str(exc)]})


def _contact_payload(partial: bool) -> dict:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ApiError(400, _("Send a JSON object."))
    unknown = sorted(set(payload) - _CONTACT_KEYS)
    if unknown:
        raise ApiError(400, _("Unknown fields: %(names)s.", names=", ".join(unknown)))
    if "is_primary" in payload and not isinstance(payload["is_primary"], bool):
        raise ApiError(422, _("Some fields are invalid."), fields={"is_primary": [_("true or false")]})
    return payload


def _contact_or_404(lead: Lead, contact_id: int):
    from crm.contacts.services import contact_of

    contact = contact_of(lead, contact_id)
    if contact is None:
        raise ApiError(404, _("No such contact on this lead."))
    return contact


@bp.post("/leads/<int:lead_id>/contacts")
@require_permission(Permission.LEADS_EDIT_UNIT)
def add_contact(lead_id: int):
    """Officers and team leads of the owning unit: add a contact (the lead's first is primary)."""
    from crm.contacts import services as contacts

    lead = get_lead_or_404(lead_id, write=True)
    payload = _contact_payload(partial=False)
    try:
        contact = contacts.add_contact(lead, payload, acting_user(), primary=payload.get("is_primary"))
    except ContactError as exc:
        return _contact_error(exc)
    return jsonify(contact_json(contact, personal=True)), 201


@bp.route("/leads/<int:lead_id>/contacts/<int:contact_id>", methods=["PATCH", "PUT"])
@require_permission(Permission.LEADS_EDIT_UNIT)
def update_contact(lead_id: int, contact_id: int):
    """Officers and team leads of the owning unit: change the fields sent; is_primary: true
    makes it the primary contact."""
    from crm.contacts import services as contacts

    lead = get_lead_or_404(lead_id, write=True)
    contact = _contact_or_404(lead, contact_id)
    payload = _contact_payload(partial=True)
    try:
        contacts.update_contact(contact, {k: v for k, v in payload.items() if k != "is_primary"},
                                primary=payload.get("is_primary"))
    except ContactError as exc:
        return _contact_error(exc)
    return jsonify(contact_json(contact, personal=True))


@bp.delete("/leads/<int:lead_id>/contacts/<int:contact_id>")
@require_permission(Permission.LEADS_EDIT_UNIT)
def remove_contact(lead_id: int, contact_id: int):
    """Officers and team leads of the owning unit: remove a contact (if it was the primary, the
    oldest remaining one becomes primary). Answers the lead's contacts."""
    from crm.contacts import services as contacts

    lead = get_lead_or_404(lead_id, write=True)
    contacts.remove_contact(_contact_or_404(lead, contact_id))
    return jsonify(_contacts_json(lead))
