"""/api/v1 routes of crm.tracking, with their OpenAPI paths (added to crm.api.openapi.DOCUMENT here).

The tracking core: the agreement (GET/PUT), milestone plans and actuals (GET/POST), 到资 (GET/POST)
and the project list (GET, the page's filters). Same rules as the pages (crm.tracking.services)."""
from __future__ import annotations

from datetime import date

from flask import jsonify, request
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from crm.api import bp
from crm.api.errors import ApiError
from crm.api.openapi import DOCUMENT, _ERRORS, _ID, _resp
from crm.auth.permissions import acting_user, can_edit_unit_records, can_read_unit_records, require_permission
from crm.auth.roles import Permission
from crm.extensions import db
from crm.leads.models import Lead
from crm.leads.pipeline import stage_label
from crm.tracking import queries, services
from crm.tracking.access import is_tracked
from crm.tracking.models import MILESTONE_ORDER

READ = (Permission.LEADS_READ_UNIT, Permission.LEADS_READ_ALL)
MILESTONES = [m.value for m in MILESTONE_ORDER]


def _num(value):
    return None if value is None else float(value)


def _iso(value):
    return value.isoformat() if value else None


def _project(lead_id: int, write: bool = False) -> Lead:
    lead = db.session.get(Lead, lead_id)
    if lead is None:
        raise ApiError(404, _("The page or record does not exist."))
    user = acting_user()
    allowed = (can_edit_unit_records(user, lead.owner_unit_id) if write
               else can_read_unit_records(user, lead.owner_unit_id))
    if not allowed:
        raise ApiError(403, _("You do not have permission to do this."))
    if not is_tracked(lead):  # as the page: another unit's lead is 403 whatever its stage
        raise ApiError(404, _("The page or record does not exist."))
    return lead


def _payload() -> dict:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ApiError(400, _("Send a JSON object."))
    return payload


def _date(value, field: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        message = _("The date must look like 2024-03-05.")
        raise ApiError(422, message, fields={field: [message]})


def _rule(exc: services.TrackingError):
    status = 409 if isinstance(exc, services.ConcurrentAgreementEdit) else 422
    raise ApiError(status, str(exc), **({"fields": {exc.field: [str(exc)]}} if exc.field else {}))


def agreement_json(lead: Lead) -> dict:
    agreement = services.agreement_of(lead.id)
    plans = services.current_plans(lead.id)
    out = {"lead_id": lead.id, "exists": agreement is not None,
           "planned": {m: _iso(plans[m].planned_on) if m in plans else None for m in MILESTONES}}
    if agreement is None:
        prefill = services.prefill_from_lead(lead)
        out.update({k: _num(v) if k != "jobs" else v for k, v in prefill.items()})
        out.update({"note": None, "version": None})
    else:
        out.update({k: _num(getattr(agreement, k)) for k in services.AGREEMENT_AMOUNTS})
        out.update({"jobs": agreement.jobs, "note": agreement.note, "version": agreement.version})
    return out


def milestones_json(lead: Lead) -> dict:
    items = []
    for line in queries.timeline(lead.id):
        items.append({
            "milestone": line.milestone, "label": line.label,
            "planned_on": _iso(line.current.planned_on) if line.current else None,
            "plans": [{"id": p.id, "planned_on": p.planned_on.isoformat(), "reason": p.reason,
                       "created_at": _iso(p.created_at), "superseded_at": _iso(p.superseded_at)}
                      for p in line.plans],
            "actual": ({"id": line.actual.id, "actual_on": line.actual.actual_on.isoformat(),
                        "note": line.actual.note} if line.actual else None),
            "days_late": line.days_late, "overdue": line.overdue})
    return {"lead_id": lead.id, "stage": lead.stage, "items": items}


def investments_json(lead: Lead) -> dict:
    s = queries.investment_summary(lead.id)
    return {"lead_id": lead.id, "total_wan": float(s.total), "contracted_wan": _num(s.contracted),
            "planned_by_today_wan": _num(s.planned_by_today),
            "items": [{"id": e.id, "paid_on": e.paid_on.isoformat(), "amount_wan": float(e.amount_wan),
                       "note": e.note} for e in s.entries]}


@bp.get("/projects/<int:lead_id>/agreement")
@require_permission(*READ)
def api_agreement(lead_id: int):
    """Readers of the owner unit's leads; without an agreement yet, the lead's figures (exists: false)."""
    return jsonify(agreement_json(_project(lead_id)))


@bp.put("/projects/<int:lead_id>/agreement")
@require_permission(Permission.LEADS_EDIT_UNIT)
def api_save_agreement(lead_id: int):
    """Officers and team leads of the owner unit; send the `version` you read."""
    lead = _project(lead_id, write=True)
    payload = _payload()
    planned = payload.get("planned") or {}
    plans = {m: _date(planned.get(m), f"planned.{m}") for m in MILESTONES if m in planned}
    data = {k: payload[k] for k in services.AGREEMENT_FIELDS if k in payload}
    try:
        services.save_agreement(lead, data, acting_user(), payload.get("version"), plans, payload.get("reason"))
    except StaleDataError:
        db.session.rollback()
        raise ApiError(409, _("The record was changed by someone else. Reload and try again."))
    except services.TrackingError as exc:
        _rule(exc)
    return jsonify(agreement_json(lead))


@bp.get("/projects/<int:lead_id>/milestones")
@require_permission(*READ)
def api_milestones(lead_id: int):
    """Readers of the owner unit's leads: every plan (replans kept, with reasons) and the actual dates."""
    return jsonify(milestones_json(_project(lead_id)))


@bp.post("/projects/<int:lead_id>/milestones")
@require_permission(Permission.LEADS_EDIT_UNIT)
def api_record_milestone(lead_id: int):
    """Officers and team leads of the owner unit. Body: {"milestone", "planned_on", "reason"} plans or
    replans a date; {"milestone", "actual_on", "note"} records the actual date (the stage follows)."""
    lead = _project(lead_id, write=True)
    payload = _payload()
    milestone = payload.get("milestone")
    planned_on = _date(payload.get("planned_on"), "planned_on")
    actual_on = _date(payload.get("actual_on"), "actual_on")
    if (planned_on is None) == (actual_on is None):
        message = _("Give either planned_on or actual_on.")
        raise ApiError(422, message, fields={"planned_on": [message]})
    try:
        if planned_on is not None:
            services.set_plans(lead, {milestone: planned_on}, acting_user(), payload.get("reason"))
        else:
            services.record_actual(lead, milestone, actual_on, acting_user(), payload.get("note"))
    except StaleDataError:
        db.session.rollback()
        raise ApiError(409, _("The record was changed by someone else. Reload and try again."))
    except services.TrackingError as exc:
        _rule(exc)
    return jsonify(milestones_json(lead)), 201


@bp.get("/projects/<int:lead_id>/investments")
@require_permission(*READ)
def api_investments(lead_id: int):
    """Readers of the owner unit's leads: 到资 entries, the total and the plan for today."""
    return jsonify(investments_json(_project(lead_id)))


@bp.post("/projects/<int:lead_id>/investments")
@require_permission(Permission.LEADS_EDIT_UNIT)
def api_add_investment(lead_id: int):
    """Officers and team leads of the owner unit. Above the contracted total only with confirm_over_total."""
    lead = _project(lead_id, write=True)
    payload = _payload()
    paid_on = _date(payload.get("paid_on"), "paid_on")
    try:
        services.add_investment(lead, payload.get("amount_wan"), paid_on, acting_user(), payload.get("note"),
                                confirm_over_total=bool(payload.get("confirm_over_total")))
    except services.TrackingError as exc:
        _rule(exc)
    return jsonify(investments_json(lead)), 201


def project_json(row) -> dict:
    lead = row.lead
    return {"id": lead.id, "company_name": lead.company_name, "project_name": lead.project_name,
            "owner_unit_id": lead.owner_unit_id, "owner_unit": lead.owner_unit.name, "chain_id": lead.chain_id,
            "stage": lead.stage, "stage_label": stage_label(lead.stage), "colour": row.colour,
            "contracted_wan": _num(row.contracted_wan), "invested_wan": float(row.invested_wan),
            "overdue": row.overdue, "open_problems": row.open_problems, "url": f"/projects/{lead.id}"}


@bp.get("/projects")
@require_permission(*READ)
def api_projects():
    """Tracked projects the caller may read, with the list page's filters, paginated."""
    filters = queries.ProjectFilters.from_args(request.args)
    if filters.errors:
        raise ApiError(400, _("Invalid filter: %(names)s.", names=", ".join(filters.errors)))
    rows, total = queries.project_page(acting_user(), filters)
    return jsonify({"items": [project_json(r) for r in rows], "total": total, "page": filters.page,
                    "per_page": filters.per_page})


# --- OpenAPI -------------------------------------------------------------------------------------
_NUM = {"type": ["number", "null"]}
_STR = {"type": ["string", "null"]}
_DATE = {"type": ["string", "null"], "format": "date"}
_AMOUNT_IN = {"type": ["number", "null"], "minimum": 0, "maximum": 999999999999.99}
_AGREEMENT = {"type": "object", "properties": {
    "lead_id": {"type": "integer"}, "exists": {"type": "boolean"},
    **{k: _NUM for k in services.AGREEMENT_AMOUNTS}, "jobs": {"type": ["integer", "null"]}, "note": _STR,
    "version": {"type": ["integer", "null"]},
    "planned": {"type": "object", "properties": {m: _STR for m in MILESTONES}}}}
_AGREEMENT_INPUT = {"type": "object", "properties": {
    **{k: _AMOUNT_IN for k in services.AGREEMENT_AMOUNTS},
    "jobs": {"type": ["integer", "null"], "minimum": 0, "maximum": services.JOBS_LIMIT},
    "note": {**_STR, "maxLength": 5000},
    "planned": {"type": "object", "properties": {m: _DATE for m in MILESTONES},
                "description": "planned date of each milestone; a change of an existing one needs `reason`"},
    "reason": {**_STR, "maxLength": 500}, "version": {"type": ["integer", "null"]}}}
_PLAN = {"type": "object", "properties": {"id": {"type": "integer"}, "planned_on": {"type": "string"},
                                          "reason": _STR, "created_at": _STR, "superseded_at": _STR}}
_MILESTONES = {"type": "object", "properties": {
    "lead_id": {"type": "integer"}, "stage": {"type": "string"},
    "items": {"type": "array", "items": {"type": "object", "properties": {
        "milestone": {"enum": MILESTONES}, "label": {"type": "string"}, "planned_on": _STR,
        "plans": {"type": "array", "items": _PLAN},
        "actual": {"type": ["object", "null"], "properties": {
            "id": {"type": "integer"}, "actual_on": {"type": "string"}, "note": _STR}},
        "days_late": {"type": ["integer", "null"]}, "overdue": {"type": "boolean"}}}}}}
_INVESTMENTS = {"type": "object", "properties": {
    "lead_id": {"type": "integer"}, "total_wan": {"type": "number"}, "contracted_wan": _NUM,
    "planned_by_today_wan": {**_NUM, "description": "crm.tracking.plan: fixed-asset (else total) investment "
                                                    "evenly from the planned start to the planned completion"},
    "items": {"type": "array", "items": {"type": "object", "properties": {
        "id": {"type": "integer"}, "paid_on": {"type": "string"}, "amount_wan": {"type": "number"},
        "note": _STR}}}}}
_PROJECT = {"type": "object", "properties": {
    "id": {"type": "integer"}, "company_name": {"type": "string"}, "project_name": _STR,
    "owner_unit_id": {"type": "integer"}, "owner_unit": {"type": "string"},
    "chain_id": {"type": ["integer", "null"]},
    "stage": {"type": "string"}, "stage_label": {"type": "string"}, "colour": {"enum": ["green", "yellow", "red", None]},
    "contracted_wan": _NUM, "invested_wan": {"type": "number"},
    "overdue": {"type": "array", "items": {"enum": MILESTONES}}, "open_problems": {"type": "integer"},
    "url": {"type": "string"}}}
_RULE_ERRORS = {"409": _resp("changed by someone else since `version`"),
                "422": _resp("invalid fields or a rule broken (the field is named)"), **_ERRORS}

DOCUMENT["paths"]["/projects"] = {
    "get": {"summary": "Tracked projects (admitted or later) the caller may read, filtered, paginated",
            "parameters": [{"name": n, "in": "query", "schema": s} for n, s in [
                ("colour", {"enum": ["green", "yellow", "red"]}),
                ("chain_id", {"type": "integer", "minimum": 1}), ("unit_id", {"type": "integer", "minimum": 1}),
                ("stage", {"enum": queries.TRACKED_STAGES + ["lost"]}),
                ("overdue", {"enum": ["0", "1"], "description": "a current planned date passed without its actual"}),
                ("open_problems", {"enum": ["0", "1"], "description": "with a problem open or being solved"}),
                ("page", {"type": "integer", "minimum": 1}),
                ("per_page", {"type": "integer", "minimum": 1, "maximum": 200})]],
            "responses": {"200": _resp("a page", {"type": "object", "properties": {
                "items": {"type": "array", "items": _PROJECT}, "total": {"type": "integer"},
                "page": {"type": "integer"}, "per_page": {"type": "integer"}}}),
                "400": _resp("an invalid filter"), **_ERRORS}},
}
DOCUMENT["paths"]["/projects/{lead_id}/agreement"] = {
    "parameters": _ID,
    "get": {"summary": "The agreement (投资协议) and the current planned dates; before one exists, the "
                       "lead's figures as the prefill (exists: false)",
            "responses": {"200": _resp("the agreement", _AGREEMENT), **_ERRORS}},
    "put": {"summary": "Create or change the agreement and its planned dates (replans keep the earlier plan)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": _AGREEMENT_INPUT}}},
            "responses": {"200": _resp("saved", _AGREEMENT), **_RULE_ERRORS}},
}
DOCUMENT["paths"]["/projects/{lead_id}/milestones"] = {
    "parameters": _ID,
    "get": {"summary": "Milestones: every plan (replans with reasons), the actual date, days late or early",
            "responses": {"200": _resp("the timeline", _MILESTONES), **_ERRORS}},
    "post": {"summary": "Plan a milestone (planned_on, reason for a replan) or record its actual date "
                        "(actual_on, note; the lead's stage follows)",
             "requestBody": {"required": True, "content": {"application/json": {"schema": {
                 "type": "object", "required": ["milestone"], "properties": {
                     "milestone": {"enum": MILESTONES}, "planned_on": _DATE, "actual_on": _DATE,
                     "reason": {**_STR, "maxLength": 500}, "note": {**_STR, "maxLength": 5000}}}}}},
             "responses": {"201": _resp("recorded", _MILESTONES), **_RULE_ERRORS}},
}
DOCUMENT["paths"]["/projects/{lead_id}/investments"] = {
    "parameters": _ID,
    "get": {"summary": "到资 entries, the cumulative total and the plan for today",
            "responses": {"200": _resp("the entries", _INVESTMENTS), **_ERRORS}},
    "post": {"summary": "Record an amount of investment actually made (万元); above the contracted total "
                        "only with confirm_over_total",
             "requestBody": {"required": True, "content": {"application/json": {"schema": {
                 "type": "object", "required": ["amount_wan", "paid_on"], "properties": {
                     "amount_wan": {"type": "number", "exclusiveMinimum": 0, "maximum": 999999999999.99},
                     "paid_on": {"type": "string", "format": "date"}, "note": {**_STR, "maxLength": 500},
                     "confirm_over_total": {"type": "boolean"}}}}}},
             "responses": {"201": _resp("recorded", _INVESTMENTS), **_RULE_ERRORS}},
}
