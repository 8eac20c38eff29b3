"""问题清单 endpoints: the list, one problem, raising one on a project, changing it."""
from __future__ import annotations

from datetime import date

from flask import jsonify, request
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from crm.api import bp
from crm.api.errors import ApiError
from crm.api.openapi import DOCUMENT, _ERRORS, _STR, _resp
from crm.auth.permissions import acting_user, can_read_unit_records, require_permission
from crm.auth.roles import Permission
from crm.extensions import db
from crm.leads.models import Lead
from crm.problems import queries, services
from crm.problems.models import (PROBLEM_CATEGORY_LABELS, PROBLEM_STATUS_LABELS, Problem, ProblemCategory,
                                 ProblemStatus)
from crm.tracking.access import is_tracked

READ = (Permission.LEADS_READ_UNIT, Permission.LEADS_READ_ALL, Permission.TRACKING_RESPOND)


def _iso(value):
    return value.isoformat() if value else None


def problem_json(problem: Problem) -> dict:
    """The project appears by id, name and company only (the liaison may not read the lead)."""
    return {"id": problem.id, "lead_id": problem.lead_id, "company_name": problem.lead.company_name,
            "project_name": problem.lead.project_name, "category": problem.category,
            "category_label": problem.category_label, "description": problem.description,
            "responsible_unit_id": problem.responsible_unit_id,
            "responsible_unit": problem.responsible_unit.name, "due_on": _iso(problem.due_on),
            "status": problem.status, "status_label": problem.status_label,
            "overdue": services.is_overdue(problem), "resolution": problem.resolution,
            "solved_by_id": problem.solved_by_id, "solved_on": _iso(problem.solved_on),
            "raised_by_id": problem.raised_by_id, "raised_on": _iso(problem.raised_on),
            "version": problem.version, "url": services.problem_path(problem.id)}


def _raise(exc: services.ProblemError):
    raise ApiError(exc.status, str(exc), **({"fields": {exc.field: [str(exc)]}} if exc.field else {}))


def _payload() -> dict:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ApiError(400, _("Send a JSON object."))
    return payload


def _date(payload: dict, name: str) -> date | None:
    value = payload.get(name)
    if value is None:
        return None
    try:
        if isinstance(value, str):
            return date.fromisoformat(value)
    except ValueError:
        pass
    message = _("Give the date as YYYY-MM-DD.")
    raise ApiError(422, message, fields={name: [message]})


def _problem(problem_id: int) -> Problem:
    problem = db.session.get(Problem, problem_id)
    if problem is None:
        raise ApiError(404, _("The page or record does not exist."))
    if not services.may_read(acting_user(), problem):
        raise ApiError(403, _("You may not open this problem."))
    return problem


def _filter_arg(name: str, allowed) -> str | None:
    value = request.args.get(name) or None
    if value is not None and value not in allowed:
        message = _("Must be one of: %(values)s.", values=", ".join(allowed))
        raise ApiError(422, message, fields={name: [message]})
    return value


@bp.route("/problems")
@require_permission(*READ)
def api_problems():
    """Problems the caller may read (liaisons: those addressed to their unit), filtered."""
    status = _filter_arg("status", list(PROBLEM_STATUS_LABELS))
    category = _filter_arg("category", list(PROBLEM_CATEGORY_LABELS))
    numbers = {}
    for name in ("unit_id", "lead_id"):
        raw = (request.args.get(name) or "").strip()
        if raw and not raw.isdigit():
            message = _("Must be of type %(types)s.", types="integer")
            raise ApiError(422, message, fields={name: [message]})
        numbers[name] = int(raw) if raw else None
    overdue = _filter_arg("overdue", ["true", "false"]) == "true"
    rows = queries.problem_list(acting_user(), status=status, category=category, overdue=overdue, **numbers)
    return jsonify({"items": [problem_json(p) for p in rows]})


@bp.route("/projects/<int:lead_id>/problems", methods=["POST"])
@require_permission(Permission.LEADS_READ_UNIT, Permission.LEADS_READ_ALL)
def api_raise_problem(lead_id: int):
    """Who may read the project: raise a problem; the responsible unit's responders are told."""
    lead = db.session.get(Lead, lead_id)
    if lead is None or not is_tracked(lead):
        raise ApiError(404, _("The page or record does not exist."))
    if not can_read_unit_records(acting_user(), lead.owner_unit_id):
        raise ApiError(403, _("You may not read this project."))
    payload = _payload()
    due_on = _date(payload, "due_on")
    try:
        problem = services.raise_problem(lead, acting_user(), payload.get("category"), payload.get("description"),
                                         payload.get("responsible_unit_id"), due_on)
    except services.ProblemError as exc:
        _raise(exc)
    return jsonify(problem_json(problem)), 201


@bp.route("/problems/<int:problem_id>")
@require_permission(*READ)
def api_problem(problem_id: int):
    """One problem: readers of the project and the responsible unit's responders."""
    return jsonify(problem_json(_problem(problem_id)))


@bp.route("/problems/<int:problem_id>", methods=["PATCH"])
@require_permission(*READ)
def api_change_problem(problem_id: int):
    """Status, resolution (or reason), due date, with the version read (stale: 409)."""
    problem = _problem(problem_id)
    payload = _payload()
    due_on = _date(payload, "due_on")
    try:
        services.change_problem(problem, acting_user(), payload.get("version"), status=payload.get("status"),
                                resolution=payload.get("resolution"), due_on=due_on)
    except services.ProblemError as exc:
        _raise(exc)
    except StaleDataError:
        db.session.rollback()
        raise ApiError(409, _("This problem was changed by someone else since you opened it. Reload and try "
                              "again."))
    return jsonify(problem_json(problem))


# --- OpenAPI -------------------------------------------------------------------------------------
_INT = {"type": "integer"}
_DATE = {"type": "string", "format": "date"}
_CATEGORIES = [c.value for c in ProblemCategory]
_STATUSES = [s.value for s in ProblemStatus]
_PROBLEM = {"type": "object", "properties": {
    "id": _INT, "lead_id": _INT, "company_name": {"type": "string"}, "project_name": _STR,
    "category": {"enum": _CATEGORIES}, "category_label": {"type": "string"}, "description": {"type": "string"},
    "responsible_unit_id": _INT, "responsible_unit": {"type": "string"}, "due_on": _DATE,
    "status": {"enum": _STATUSES}, "status_label": {"type": "string"},
    "overdue": {"type": "boolean", "description": "open or being solved, and past its due date"},
    "resolution": {**_STR, "description": "how it was solved, or the reason for closing it unsolved"},
    "solved_by_id": {"type": ["integer", "null"]}, "solved_on": _STR, "raised_by_id": {"type": ["integer", "null"]},
    "raised_on": _DATE, "version": _INT, "url": {"type": "string"}}}
DOCUMENT["components"]["schemas"]["Problem"] = _PROBLEM
_REF = {"$ref": "#/components/schemas/Problem"}
_ERR = {"$ref": "#/components/schemas/Error"}
_PROBLEM_ERRORS = {**_ERRORS, "400": _resp("not a JSON object", _ERR),
                   "404": _resp("no such problem or project", _ERR),
                   "409": _resp("stale version, a forbidden status move, or a project not admitted", _ERR),
                   "422": _resp("a field missing or invalid (named in fields)", _ERR)}
_PROBLEM_ID = [{"name": "problem_id", "in": "path", "required": True, "schema": _INT}]
DOCUMENT["paths"]["/problems"] = {"get": {
    "summary": "Problems the caller may read (liaisons: those addressed to their unit), overdue first",
    "parameters": [{"name": "status", "in": "query", "schema": {"enum": _STATUSES}},
                   {"name": "category", "in": "query", "schema": {"enum": _CATEGORIES}},
                   {"name": "unit_id", "in": "query", "schema": _INT, "description": "the responsible unit"},
                   {"name": "lead_id", "in": "query", "schema": _INT},
                   {"name": "overdue", "in": "query", "schema": {"enum": ["true", "false"]}}],
    "responses": {"200": _resp("the problems", {"type": "object", "properties": {
        "items": {"type": "array", "items": _REF}}}), **_PROBLEM_ERRORS}}}
DOCUMENT["paths"]["/projects/{lead_id}/problems"] = {
    "parameters": [{"name": "lead_id", "in": "path", "required": True, "schema": _INT}],
    "post": {"summary": "Raise a problem on an admitted project (whoever may read it); the responsible unit "
                        "(any active unit) is notified",
             "requestBody": {"required": True, "content": {"application/json": {"schema": {
                 "type": "object", "required": ["category", "description", "responsible_unit_id", "due_on"],
                 "properties": {"category": {"enum": _CATEGORIES}, "description": {"type": "string"},
                                "responsible_unit_id": _INT,
                                "due_on": {**_DATE, "description": "not before today"}}}}}},
             "responses": {"201": _resp("raised", _REF), **_PROBLEM_ERRORS}}}
DOCUMENT["paths"]["/problems/{problem_id}"] = {
    "parameters": _PROBLEM_ID,
    "get": {"summary": "One problem", "responses": {"200": _resp("the problem", _REF), **_PROBLEM_ERRORS}},
    "patch": {"summary": "Change the status (open → solving → solved / closed_unsolved; reopen to open), the "
                         "resolution (required to solve; the reason to close unsolved) or the due date "
                         "(responders of the responsible unit, the owner unit's officers and team lead, admins)",
              "requestBody": {"required": True, "content": {"application/json": {"schema": {
                  "type": "object", "required": ["version"], "properties": {
                      "version": {**_INT, "description": "the version you read; a stale one gives 409"},
                      "status": {"enum": _STATUSES}, "resolution": _STR,
                      "due_on": {**_DATE, "description": "not before today; only while open"}}}}}},
              "responses": {"200": _resp("changed", _REF), **_PROBLEM_ERRORS}}}
