"""/api/v1 routes of crm.lights, with their OpenAPI paths (added to crm.api.openapi.DOCUMENT here)."""
from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _

from crm import clock
from crm.api import bp
from crm.api.errors import ApiError
from crm.api.openapi import DOCUMENT, _ERRORS, _resp
from crm.auth.permissions import acting_user, require_permission
from crm.auth.roles import Permission
from crm.lights import queries
from crm.lights.models import Colour
from crm.lights.panels import colour_label, current
from crm.lights.rules import describe, overdue_days
from crm.tracking.access import is_tracked, project_or_404

READ = (Permission.LEADS_READ_UNIT, Permission.LEADS_READ_ALL)


def _reasons_json(reasons, on=None) -> list[dict]:
    """Each reason with its words; a milestone's days late are counted to `on` (default today)."""
    on = on or clock.today()
    return [{"code": r.get("code"), "colour": r.get("colour"), "params": r.get("params") or {},
             "days_overdue": overdue_days(r, on), "text": describe(r, on)} for r in reasons or []]


@bp.get("/projects/<int:lead_id>/light")
@require_permission(*READ)
def api_project_light(lead_id: int):
    """Readers of the owner unit's leads (officers and team leads of the unit, leaders, viewers,
    admins): the project's light, every reason in words, and the history of its colours."""
    lead = project_or_404(lead_id)
    if not is_tracked(lead):
        raise ApiError(404, _("The page or record does not exist."))
    light = current(lead)
    return jsonify({
        "lead_id": lead.id, "colour": light["colour"], "colour_label": colour_label(light["colour"]),
        "since": light["since"].isoformat() if light["since"] else None, "reasons": _reasons_json(light["reasons"]),
        "history": [{"from_colour": c.from_colour, "to_colour": c.to_colour, "changed_on": c.changed_on.isoformat(),
                     "reasons": _reasons_json(c.reasons, c.changed_on)} for c in queries.history(lead.id)]})


@bp.get("/lights")
@require_permission(*READ)
def api_lights():
    """Officers and team leads: their unit's projects; leaders, viewers, admins: every project.
    Each with its colour, worst first; ?colour=green|yellow|red filters."""
    colour = request.args.get("colour") or None
    if colour is not None and colour not in {c.value for c in Colour}:
        raise ApiError(400, _("Unknown colour: use green, yellow or red."))
    rows = queries.lights_for(acting_user(), colour)
    return jsonify({"items": [{
        "lead_id": lead.id, "company_name": lead.company_name, "project_name": lead.project_name,
        "owner_unit_id": lead.owner_unit_id, "stage": lead.stage, "colour": light.colour,
        "colour_label": colour_label(light.colour), "since": light.since.isoformat(),
        "reasons": _reasons_json(light.reasons), "url": f"/projects/{lead.id}"} for light, lead in rows]})


_COLOUR = {"enum": ["green", "yellow", "red"]}
_REASON = {"type": "object", "properties": {
    "code": {"enum": ["milestone_overdue", "milestone_late", "investment_behind", "not_started",
                      "started_not_completed", "completed_not_producing", "no_progress", "problems_overdue"]},
    "colour": _COLOUR, "params": {"type": "object", "description": "the figures of the rule (dates ISO, amounts 万元)"},
    "days_overdue": {"type": ["integer", "null"], "description": "a milestone reason: days past the planned date "
                                                                    "(today; in the history, on the day of the change)"},
    "text": {"type": "string", "description": "the reason in words, in the request's language"}}}
_REASONS = {"type": "array", "items": _REASON}
DOCUMENT["components"]["schemas"]["LightReason"] = _REASON
_LIGHT_ID = [{"name": "lead_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
DOCUMENT["paths"]["/projects/{lead_id}/light"] = {"parameters": _LIGHT_ID, "get": {
    "summary": "A tracked project's traffic light (亮灯预警): colour, every reason in words, history of colours",
    "responses": {"200": _resp("the light (colour null: terminated or finished, not lit)", {
        "type": "object", "properties": {
            "lead_id": {"type": "integer"}, "colour": {"enum": ["green", "yellow", "red", None]},
            "colour_label": {"type": "string"}, "since": {"type": ["string", "null"], "format": "date"},
            "reasons": {"type": "array", "items": {"$ref": "#/components/schemas/LightReason"}},
            "history": {"type": "array", "items": {"type": "object", "properties": {
                "from_colour": {"enum": ["green", "yellow", "red", None]}, "to_colour": _COLOUR,
                "changed_on": {"type": "string", "format": "date"},
                "reasons": {"type": "array", "items": {"$ref": "#/components/schemas/LightReason"}}}}}}}),
        **_ERRORS}}}
DOCUMENT["paths"]["/lights"] = {"get": {
    "summary": "The lit projects the caller may read, with their colour, worst first (at most 500)",
    "parameters": [{"name": "colour", "in": "query", "schema": _COLOUR}],
    "responses": {"200": _resp("the projects", {"type": "object", "properties": {"items": {"type": "array", "items": {
        "type": "object", "properties": {
            "lead_id": {"type": "integer"}, "company_name": {"type": "string"}, "project_name": {"type": ["string", "null"]},
            "owner_unit_id": {"type": "integer"}, "stage": {"type": "string"}, "colour": _COLOUR,
            "colour_label": {"type": "string"}, "since": {"type": "string", "format": "date"},
            "reasons": {"type": "array", "items": {"$ref": "#/components/schemas/LightReason"}},
            "url": {"type": "string"}}}}}}),
        "400": _resp("unknown colour", {"$ref": "#/components/schemas/Error"}),
        **{k: v for k, v in _ERRORS.items() if k != "404"}}}}
