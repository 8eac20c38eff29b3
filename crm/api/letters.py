"""/api/v1 routes of crm.letters, with their OpenAPI paths (added to crm.api.openapi.DOCUMENT here)."""
from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _

from crm import clock
from crm.api import bp
from crm.api.errors import ApiError
from crm.api.openapi import DOCUMENT, _ERRORS, _resp
from crm.auth.permissions import acting_user, require_permission
from crm.auth.roles import Permission
from crm.extensions import db
from crm.letters import access, queries, services
from crm.letters.models import Letter, LetterKind

READ = (Permission.LEADS_READ_UNIT, Permission.LEADS_READ_ALL, Permission.TRACKING_RESPOND)


def _iso(value):
    return value.isoformat() if value else None


def letter_json(letter: Letter, number: str, today, user) -> dict:
    sees = access.sees_project(user, letter)
    return {"id": letter.id, "number": number, "kind": letter.kind, "kind_label": letter.kind_label,
            "milestone": letter.milestone, "lead_id": letter.lead_id if sees else None,
            "project_name": letter.lead.project_name, "company_name": letter.lead.company_name,
            "unit_id": letter.unit_id, "unit": letter.unit.name, "issued_on": _iso(letter.issued_on),
            "planned_on": _iso(letter.planned_on), "reasons": letter.reasons,
            "reply_due_on": _iso(letter.reply_due_on), "state": queries.state_of(letter, today),
            "overdue": queries.is_overdue(letter, today),
            "acknowledged_by": letter.acknowledged_by.display_name if letter.acknowledged_by else None,
            "acknowledged_at": _iso(letter.acknowledged_at), "reply": letter.reply,
            "replied_by": letter.replied_by.display_name if letter.replied_by else None,
            "replied_at": _iso(letter.replied_at), "url": services.letter_path(letter.id)}


def _letter(letter_id: int) -> Letter:
    letter = db.session.get(Letter, letter_id)
    if letter is None:
        raise ApiError(404, _("The page or record does not exist."))
    if not access.may_read(acting_user(), letter):
        raise ApiError(403, _("This letter is addressed to another unit."))
    return letter


def _one(letter: Letter):
    return jsonify(letter_json(letter, queries.numbers_for([letter.id]).get(letter.id, ""), clock.today(),
                               acting_user()))


def _raise(exc: services.LetterError):
    raise ApiError(exc.status, str(exc), **({"fields": {exc.field: [str(exc)]}} if exc.field else {}))


@bp.route("/letters")
@require_permission(*READ)
def api_letters():
    """The letters the caller may read, overdue first; filters kind and state; 50 a page (keyset: cursor)."""
    kind = request.args.get("kind") or None
    state = request.args.get("state") or None
    if kind is not None and kind not in {k.value for k in LetterKind}:
        raise ApiError(422, _("Unknown kind of letter."), fields={"kind": [_("Unknown kind of letter.")]})
    if state is not None and state not in queries.STATES:
        raise ApiError(422, _("Unknown state of letter."), fields={"state": [_("Unknown state of letter.")]})
    today = clock.today()
    user = acting_user()
    try:
        result = queries.letter_page(user, today, kind=kind, state=state, cursor=request.args.get("cursor") or None)
    except queries.BadCursor:
        raise ApiError(422, _("The cursor is invalid: start again without it."),
                       fields={"cursor": [_("The cursor is invalid: start again without it.")]})
    return jsonify({"items": [letter_json(l, result.numbers.get(l.id, ""), today, user) for l in result.letters],
                    "total": result.total, "next_cursor": result.next_cursor, "counts": result.counts})


@bp.route("/letters/<int:letter_id>")
@require_permission(*READ)
def api_letter(letter_id: int):
    """One letter (department liaisons: without the project's id)."""
    return _one(_letter(letter_id))


@bp.route("/letters/<int:letter_id>/acknowledge", methods=["POST"])
@require_permission(Permission.TRACKING_RESPOND)
def api_acknowledge(letter_id: int):
    """签收: a responder of the addressed unit, once."""
    letter = _letter(letter_id)
    try:
        services.acknowledge(letter, acting_user())
    except services.LetterError as exc:
        _raise(exc)
    return _one(letter)


@bp.route("/letters/<int:letter_id>/reply", methods=["POST"])
@require_permission(Permission.TRACKING_RESPOND)
def api_reply(letter_id: int):
    """反馈: a responder of the addressed unit, once (acknowledges too if not yet acknowledged)."""
    letter = _letter(letter_id)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ApiError(400, _("Send a JSON object."))
    try:
        services.reply(letter, acting_user(), payload.get("reply"))
    except services.LetterError as exc:
        _raise(exc)
    return _one(letter)


# --- OpenAPI ---------------------------------------------------------------------------------------
_NSTR = {"type": ["string", "null"]}
_LETTER = {"type": "object", "properties": {
    "id": {"type": "integer"}, "number": {"type": "string", "description": "document number, e.g. 将招函〔2026〕7号"},
    "kind": {"enum": [k.value for k in LetterKind]}, "kind_label": {"type": "string"},
    "milestone": {"type": "string", "description": "start, produce, or project (a supervision letter)"},
    "lead_id": {"type": ["integer", "null"], "description": "null for callers who do not read the project"},
    "project_name": _NSTR, "company_name": {"type": "string"}, "unit_id": {"type": "integer"},
    "unit": {"type": "string"}, "issued_on": {"type": "string", "format": "date"},
    "planned_on": _NSTR, "reasons": _NSTR, "reply_due_on": {"type": "string", "format": "date"},
    "state": {"enum": list(queries.STATES)}, "overdue": {"type": "boolean"},
    "acknowledged_by": _NSTR, "acknowledged_at": _NSTR, "reply": _NSTR, "replied_by": _NSTR,
    "replied_at": _NSTR, "url": {"type": "string"}}}
DOCUMENT["components"]["schemas"]["Letter"] = _LETTER
_L_REF = {"$ref": "#/components/schemas/Letter"}
_LETTER_ID = [{"name": "letter_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_L_ERRORS = {**_ERRORS, "404": _resp("no such letter", {"$ref": "#/components/schemas/Error"})}
_RULE = {"409": _resp("already acknowledged / answered (the message says by whom and when)",
                      {"$ref": "#/components/schemas/Error"}), **_L_ERRORS}
DOCUMENT["paths"]["/letters"] = {"get": {
    "summary": "Reminder, assignment and supervision letters (三函) the caller may read: responders their unit's, "
               "readers of a unit's leads its projects', county-wide readers all; overdue first",
    "parameters": [{"name": "kind", "in": "query", "schema": {"enum": [k.value for k in LetterKind]}},
                   {"name": "state", "in": "query", "schema": {"enum": list(queries.STATES)}},
                   {"name": "cursor", "in": "query", "schema": {"type": "string"},
                    "description": "next_cursor of the previous page"}],
    "responses": {"200": _resp("a page of letters", {"type": "object", "properties": {
        "items": {"type": "array", "items": _L_REF}, "total": {"type": "integer"},
        "next_cursor": {"type": ["string", "null"], "description": "null on the last page"},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}}}}),
        "422": _resp("unknown kind, state or cursor", {"$ref": "#/components/schemas/Error"}), **_ERRORS}}}
DOCUMENT["paths"]["/letters/{letter_id}"] = {"parameters": _LETTER_ID, "get": {
    "summary": "One letter", "responses": {"200": _resp("the letter", _L_REF), **_L_ERRORS}}}
DOCUMENT["paths"]["/letters/{letter_id}/acknowledge"] = {"parameters": _LETTER_ID, "post": {
    "summary": "签收: acknowledge a letter addressed to the caller's unit (once)",
    "responses": {"200": _resp("acknowledged", _L_REF), **_RULE}}}
DOCUMENT["paths"]["/letters/{letter_id}/reply"] = {"parameters": _LETTER_ID, "post": {
    "summary": "反馈: reply with the progress (once); acknowledges the letter too if it was not yet",
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["reply"], "properties": {
            "reply": {"type": "string", "minLength": 1, "maxLength": services.REPLY_LIMIT}}}}}},
    "responses": {"200": _resp("answered", _L_REF),
                  "422": _resp("the reply is empty or too long", {"$ref": "#/components/schemas/Error"}), **_RULE}}}
