"""/api/v1/dashboard: the cockpit's figures as JSON, with the page's query arguments, and its
OpenAPI path (added to crm.api.openapi.DOCUMENT here)."""
from __future__ import annotations

from flask import jsonify, request

from crm.api import bp
from crm.api.errors import ApiError
from crm.api.openapi import DOCUMENT, _ERRORS, _resp
from crm.auth.permissions import acting_user, require_permission
from crm.auth.roles import Permission
from crm.dashboard import queries

READ = (Permission.DASHBOARD_READ_ALL, Permission.DASHBOARD_READ_UNIT)


@bp.get("/dashboard")
@require_permission(*READ)
def api_dashboard():
    """Leaders, viewers and admins: the county, or one unit and/or chain; team leads: their own
    unit (another unit's figures: 403). Bad period: 400; unknown unit or chain: 404."""
    req = queries.read(request.args, acting_user())
    if req.ctx is None:
        raise ApiError(req.status, req.error)
    return jsonify(queries.as_json(req.ctx))


_NUMBER = {"type": ["number", "null"]}
_LINK = {"type": ["string", "null"], "description": "the records behind the figure: a filtered list of the app"}
_FIGURE = {"type": "object", "required": ["key", "label", "value", "how", "url"], "properties": {
    "key": {"type": "string"}, "label": {"type": "string"},
    "value": {**_NUMBER, "description": "null: nothing counted (shown —)"},
    "unit": {"type": "string", "description": "'' for counts, '%' for rates, else the amount's unit (亿元)"},
    "how": {"type": "string", "description": "how it is computed, naming the cohort and the period"},
    "url": _LINK, "previous": {**_NUMBER, "description": "headline: the same figure a year earlier"},
    "numerator": _NUMBER, "denominator": _NUMBER, "numerator_url": _LINK}}
_WINDOW = {"type": "object", "properties": {"start": {"type": "string", "format": "date"},
                                            "end": {"type": "string", "format": "date"}, "label": {"type": "string"}}}
_STEP = {"type": "object", "properties": {
    "key": {"type": "string"}, "stage": {"type": "string"}, "label": {"type": "string"},
    "next": {"type": "string"}, "next_label": {"type": "string"},
    "reached": {"type": "integer", "description": "leads that reached the stage in the period"},
    "converted": {"type": "integer", "description": "of those, reached the next main-line stage so far"},
    "value": {**_NUMBER, "description": "converted ÷ reached, percent"},
    "median_days": {**_NUMBER, "description": "median days to the next stage (implied stages left out)"},
    "median_of": {"type": "integer"}, "how": {"type": "string"}, "url": _LINK, "converted_url": _LINK}}
DOCUMENT["components"]["schemas"]["DashboardFigure"] = _FIGURE
_FIGURE_REF = {"$ref": "#/components/schemas/DashboardFigure"}
_SECTIONS = {"type": "object", "description": "each section of the cockpit by key, as the page shows it",
             "properties": {
                 "headline": {"type": "object", "properties": {
                     "figures": {"type": "array", "items": _FIGURE_REF}, "period": _WINDOW,
                     "compared_with": _WINDOW, "compared_how": {"type": "string"}}},
                 "rates": {"type": "object", "properties": {
                     "rates": {"type": "array", "items": _FIGURE_REF},
                     "until": {"type": "string", "format": "date"}}},
                 "funnel": {"type": "object", "properties": {"steps": {"type": "array", "items": _STEP}}}},
             "additionalProperties": {"type": "object"}}
_QUERY = [
    {"name": "period", "in": "query", "schema": {"enum": ["year", "quarter", "month", "range"]},
     "description": "default: this year"},
    {"name": "year", "in": "query", "schema": {"type": "integer"}},
    {"name": "quarter", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 4}},
    {"name": "month", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 12}},
    {"name": "start", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "period=range"},
    {"name": "end", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "period=range"},
    {"name": "unit_id", "in": "query", "schema": {"type": "integer"}},
    {"name": "chain_id", "in": "query", "schema": {"type": "integer"}},
]
DOCUMENT["paths"]["/dashboard"] = {"get": {
    "summary": "The cockpit (驾驶舱): headline figures with a year earlier, the rates, the funnel and the other "
               "sections, for a period, a unit and a chain; every figure with how it is computed and its records' URL",
    "parameters": _QUERY,
    "responses": {
        "200": _resp("the cockpit", {"type": "object", "properties": {
            "period": {"type": "object", "properties": {
                "kind": {"enum": ["year", "quarter", "month", "range"]},
                "start": {"type": "string", "format": "date"}, "end": {"type": "string", "format": "date"},
                "until": {"type": "string", "format": "date", "description": "the last day counted: min(end, today)"},
                "label": {"type": "string"}}},
            "scope": {"type": "object", "properties": {
                "unit_id": {"type": ["integer", "null"]}, "unit_name": {"type": ["string", "null"]},
                "chain_id": {"type": ["integer", "null"]}, "chain_name": {"type": ["string", "null"]}}},
            "sections": _SECTIONS}}),
        "400": _resp("a period that cannot be counted (not begun, end before start, not a date)",
                     {"$ref": "#/components/schemas/Error"}),
        **{k: v for k, v in _ERRORS.items() if k != "404"},
        "403": _resp("not allowed for your role, or a team lead asking for another unit",
                     {"$ref": "#/components/schemas/Error"}),
        "404": _resp("no such unit or industry chain", {"$ref": "#/components/schemas/Error"})}}}
