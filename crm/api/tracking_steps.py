"""/api/v1 routes of the 23 steps and the yearly results (crm.tracking.steps / results), with their
OpenAPI paths (added to crm.api.openapi.DOCUMENT here)."""
from __future__ import annotations

from datetime import date

from flask import jsonify, request
from flask_babel import gettext as _

from crm.api import bp
from crm.api.errors import ApiError
from crm.api.openapi import DOCUMENT, _ERRORS, _ID, _resp
from crm.auth.permissions import acting_user, can_edit_unit_records, can_read_unit_records, require_permission
from crm.auth.roles import Permission
from crm.extensions import db
from crm.leads.models import Lead
from crm.tracking import results, steps
from crm.tracking.access import is_tracked

READ = (Permission.LEADS_READ_UNIT, Permission.LEADS_READ_ALL)


def _num(value):
    return None if value is None else float(value)


def step_json(step) -> dict:
    return {"id": step.id, "position": step.position, "name": step.name, "phase": step.phase,
            "phase_label": step.phase_label, "points": step.points, "evidence_required": step.evidence_required,
            "active": step.active}


def record_json(record) -> dict:
    return {"id": record.id, "lead_id": record.lead_id, "step_id": record.step_id, "step": record.step.name,
            "reached_on": record.reached_on.isoformat(), "unit_id": record.unit_id, "unit": record.unit.name,
            "points": record.points, "note": record.note, "recorded_by_id": record.recorded_by_id}


def result_json(row) -> dict:
    return {"lead_id": row.lead_id, "year": row.year, "output_wan": _num(row.output_wan), "tax_wan": _num(row.tax_wan),
            "source": row.source}


def _project(lead_id: int, write: bool = False) -> Lead:
    lead = db.session.get(Lead, lead_id)
    if lead is None or not is_tracked(lead):
        raise ApiError(404, _("The page or record does not exist."))
    user = acting_user()
    allowed = (can_edit_unit_records(user, lead.owner_unit_id) if write
               else can_read_unit_records(user, lead.owner_unit_id))
    if not allowed:
        raise ApiError(403, _("Only the unit that owns the project may change it.") if write
                       else _("You may not read this project."))
    return lead


def _payload() -> dict:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ApiError(400, _("Send a JSON object."))
    return payload


def _raise(exc) -> None:
    raise ApiError(exc.status, str(exc), **({"fields": {exc.field: [str(exc)]}} if exc.field else {}))


@bp.route("/steps")
@require_permission(*READ)
def api_steps():
    """The step catalogue (active and retired), in order."""
    return jsonify({"items": [step_json(s) for s in steps.catalogue()]})


@bp.route("/projects/<int:lead_id>/steps")
@require_permission(*READ)
def api_project_steps(lead_id: int):
    """The steps the project reached, with the points and the unit credited."""
    lead = _project(lead_id)
    lines = steps.project_steps(lead.id)
    records = [record_json(line.record) for line in lines if line.record]
    return jsonify({"items": records, "points": sum(r["points"] for r in records)})


@bp.route("/projects/<int:lead_id>/steps", methods=["POST"])
@require_permission(Permission.LEADS_EDIT_UNIT)
def api_reach_step(lead_id: int):
    """The owner unit: record a step reached (steps that need evidence are recorded on the
    project page, with the file)."""
    lead = _project(lead_id, write=True)
    payload = _payload()
    try:
        day = date.fromisoformat(str(payload.get("reached_on", "")))
    except ValueError:
        raise ApiError(422, _("Give the date the step was reached."),
                       fields={"reached_on": [_("Give the date the step was reached.")]})
    try:
        record = steps.record_step(lead, payload.get("step_id"), day, payload.get("note"), acting_user())
    except steps.StepError as exc:
        _raise(exc)
    return jsonify(record_json(record)), 201


@bp.route("/projects/<int:lead_id>/results")
@require_permission(*READ)
def api_project_results(lead_id: int):
    """The project's yearly output and tax, latest year first."""
    lead = _project(lead_id)
    return jsonify({"items": [result_json(r) for r in results.results_for(lead.id)]})


@bp.route("/projects/<int:lead_id>/results", methods=["POST"])
@require_permission(Permission.LEADS_EDIT_UNIT)
def api_put_result(lead_id: int):
    """The owner unit: a year's output and tax of a producing project (an existing year is replaced)."""
    lead = _project(lead_id, write=True)
    payload = _payload()
    try:
        row, replaced = results.put_result(lead, payload.get("year"), payload.get("output_wan"),
                                           payload.get("tax_wan"), acting_user())
    except results.ResultError as exc:
        _raise(exc)
    return jsonify({**result_json(row), "replaced": replaced}), 200 if replaced else 201


# --- OpenAPI ------------------------------------------------------------------------------------
_INT = {"type": "integer"}
_STR = {"type": ["string", "null"]}
_NUM = {"type": ["number", "null"]}
_STEP = {"type": "object", "properties": {
    "id": _INT, "position": _INT, "name": {"type": "string"},
    "phase": {"enum": ["negotiation", "signing", "preparation", "construction", "production"]},
    "phase_label": {"type": "string"}, "points": _INT, "evidence_required": {"type": "boolean"},
    "active": {"type": "boolean"}}}
_STEP_RECORD = {"type": "object", "properties": {
    "id": _INT, "lead_id": _INT, "step_id": _INT, "step": {"type": "string"},
    "reached_on": {"type": "string", "format": "date"}, "unit_id": _INT,
    "unit": {"type": "string", "description": "the unit that owned the project that day: it keeps the points"},
    "points": _INT, "note": _STR, "recorded_by_id": {"type": ["integer", "null"]}}}
_RESULT = {"type": "object", "properties": {
    "lead_id": _INT, "year": _INT, "output_wan": {**_NUM, "description": "万元"},
    "tax_wan": {**_NUM, "description": "万元"}, "source": {"enum": ["manual", "tax_bureau"]},
    "replaced": {"type": "boolean"}}}
DOCUMENT["components"]["schemas"].update(Step=_STEP, StepRecord=_STEP_RECORD, YearlyResult=_RESULT)
_ERR = {"$ref": "#/components/schemas/Error"}
_NO_404 = {k: v for k, v in _ERRORS.items() if k != "404"}
_PROJECT_ERRORS = {**_ERRORS, "404": _resp("no such project (a lead admitted or later)", _ERR)}
DOCUMENT["paths"]["/steps"] = {"get": {
    "summary": "The catalogue of the work steps (将乐) and their points",
    "responses": {"200": _resp("the steps", {"type": "object", "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Step"}}}}), **_NO_404}}}
DOCUMENT["paths"]["/projects/{lead_id}/steps"] = {"parameters": _ID, "get": {
    "summary": "The steps a project reached, with the points and the unit credited",
    "responses": {"200": _resp("the steps reached", {"type": "object", "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/StepRecord"}},
        "points": _INT}}), **_PROJECT_ERRORS}},
    "post": {
    "summary": "The owner unit records a step reached (not in the future; once per step; the points go to "
               "the unit owning the project today). Steps needing evidence are recorded on the project page.",
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["step_id", "reached_on"], "properties": {
            "step_id": _INT, "reached_on": {"type": "string", "format": "date"},
            "note": {"type": ["string", "null"], "maxLength": 500}}}}}},
    "responses": {"201": _resp("recorded", {"$ref": "#/components/schemas/StepRecord"}),
                  "400": _resp("not a JSON object", _ERR),
                  "409": _resp("the step was already reached on this project", _ERR),
                  "422": _resp("invalid fields (unknown step, bad or future date, evidence needed)", _ERR),
                  **_PROJECT_ERRORS}}}
DOCUMENT["paths"]["/projects/{lead_id}/results"] = {"parameters": _ID, "get": {
    "summary": "A project's yearly output and tax (万元), latest year first",
    "responses": {"200": _resp("the results", {"type": "object", "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/YearlyResult"}}}}), **_PROJECT_ERRORS}},
    "post": {
    "summary": "The owner unit records a year's output and tax of a producing project; an existing year "
               "is replaced (audited)",
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["year"], "properties": {
            "year": _INT, "output_wan": {**_NUM, "minimum": 0}, "tax_wan": {**_NUM, "minimum": 0}}}}}},
    "responses": {"200": _resp("an existing year replaced", {"$ref": "#/components/schemas/YearlyResult"}),
                  "201": _resp("recorded", {"$ref": "#/components/schemas/YearlyResult"}),
                  "400": _resp("not a JSON object", _ERR),
                  "409": _resp("the project is not producing", _ERR),
                  "422": _resp("invalid fields (year, negative or too large amounts)", _ERR),
                  **_PROJECT_ERRORS}}}
