"""/api/v1/ranking (月晒季考): the page's table as JSON, with its OpenAPI path (added to
crm.api.openapi.DOCUMENT here)."""
from __future__ import annotations

from flask import jsonify, request

from crm.api import bp
from crm.api.errors import ApiError
from crm.api.openapi import DOCUMENT, _ERRORS, _resp
from crm.auth.permissions import acting_user, require_permission
from crm.auth.roles import Permission
from crm.dashboard.period import Period
from crm.ranking import queries

READ = (Permission.DASHBOARD_READ_ALL, Permission.DASHBOARD_READ_UNIT)


def _period_json(period: Period) -> dict:
    return {"kind": period.kind, "start": period.start.isoformat(), "end": period.end.isoformat(),
            "label": str(period.label)}


@bp.get("/ranking")
@require_permission(*READ)
def api_ranking():
    """Leaders, viewers, admins and team leads (the ranking is published to every unit): every
    unit's figures, place and change of place, for the period and sort of /ranking."""
    req = queries.read(request.args)
    if req.error:
        raise ApiError(req.status, req.error)
    user = acting_user()
    return jsonify({
        "period": _period_json(req.period), "previous_period": _period_json(req.previous),
        "sort": req.sort, "dir": req.direction,
        "metrics": [{"key": m.key, "label": str(m.label), "unit": m.unit, "kind": m.kind, "how": str(m.how)}
                    for m in queries.METRICS],
        "items": [{"unit_id": r.unit_id, "unit_name": r.unit_name, "unit_kind": r.unit_kind, "place": r.place,
                   "previous_place": r.previous_place, "change": r.change, "figures": r.figures,
                   "detail": r.detail, "urls": queries.record_links(r, req.period, user)} for r in req.rows]})


_INT_OR_NULL = {"type": ["integer", "null"]}
_FIGURES = {"type": "object", "properties": {
    m.key: ({"type": ["number", "null"], "description": "percent, one decimal; null when nothing was due"}
            if m.kind == "rate" else {"type": "number", "description": "亿元, two decimals"}
            if m.kind == "amount" else {"type": "integer"}) for m in queries.METRICS}}
_PERIOD = {"type": "object", "properties": {
    "kind": {"enum": ["year", "quarter", "month", "range"]}, "start": {"type": "string", "format": "date"},
    "end": {"type": "string", "format": "date"}, "label": {"type": "string"}}}
_RANK_ROW = {"type": "object", "properties": {
    "unit_id": {"type": "integer"}, "unit_name": {"type": "string"},
    "unit_kind": {"enum": ["town", "department", "investment_group", "park"]},
    "place": {**_INT_OR_NULL, "description": "equal values share a place (1, 1, 3); null: no value to rank on"},
    "previous_place": {**_INT_OR_NULL, "description": "in the previous period, by the same sort"},
    "change": {**_INT_OR_NULL, "description": "places up (+) or down (−); null: no place in one of the periods"},
    "figures": _FIGURES,
    "detail": {"type": "object", "properties": {
        "signed_wan": {"type": "number", "description": "signed investment, 万元"},
        "on_time": {"type": "integer"}, "answered_or_due": {"type": "integer"}}},
    "urls": {"type": "object", "additionalProperties": {"type": "string"},
             "description": "metric key → the list of the records behind the figure (where one exists and "
                            "the caller may read that unit's records)"}}}
DOCUMENT["components"]["schemas"]["RankRow"] = _RANK_ROW
DOCUMENT["paths"]["/ranking"] = {"get": {
    "summary": "月晒季考: every active unit (and any other with a figure) ranked for a period, with the change "
               "of places against the previous period",
    "parameters": [
        {"name": "period", "in": "query", "schema": {"enum": ["year", "quarter", "month", "range"]},
         "description": "default: the last full month"},
        {"name": "year", "in": "query", "schema": {"type": "integer"}},
        {"name": "quarter", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 4}},
        {"name": "month", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 12}},
        {"name": "start", "in": "query", "schema": {"type": "string", "format": "date"}},
        {"name": "end", "in": "query", "schema": {"type": "string", "format": "date"}},
        {"name": "sort", "in": "query", "schema": {"enum": list(queries.SORT_KEYS)}, "description": "default: points"},
        {"name": "dir", "in": "query", "schema": {"enum": ["desc", "asc"]}, "description": "default: desc (most first)"}],
    "responses": {"200": _resp("the ranking", {"type": "object", "properties": {
        "period": _PERIOD, "previous_period": _PERIOD, "sort": {"enum": list(queries.SORT_KEYS)},
        "dir": {"enum": ["desc", "asc"]},
        "metrics": {"type": "array", "items": {"type": "object", "properties": {
            "key": {"enum": list(queries.SORT_KEYS)}, "label": {"type": "string"}, "unit": {"type": "string"},
            "kind": {"enum": ["count", "amount", "points", "rate"]}, "how": {"type": "string"}}}},
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/RankRow"}}}}),
        "400": _resp("a period that cannot be counted (in the future, end before start, not a date) or an "
                     "unknown sort key or direction: the message says which", {"$ref": "#/components/schemas/Error"}),
        **{k: v for k, v in _ERRORS.items() if k != "404"}}}}
