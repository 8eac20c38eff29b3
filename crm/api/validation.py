"""JSON bodies checked against the OpenAPI document before the view runs, so the document and
the check cannot drift: a wrong type, a missing field or a number beyond the database's range is a
422 naming the field, never a 500 further in."""
from __future__ import annotations

import math
import re
from functools import lru_cache

from flask import request
from flask_babel import gettext as _
from jsonschema import Draft202012Validator, validators

from crm.api import bp
from crm.api.errors import api_error
from crm.request_guard import DB_INT_MAX

# "integer" in the document means what an INTEGER column holds, on every backend.
_Validator = validators.extend(Draft202012Validator, type_checker=Draft202012Validator.TYPE_CHECKER.redefine(
    "integer", lambda checker, value: Draft202012Validator.TYPE_CHECKER.is_type(value, "integer")
    and abs(value) <= DB_INT_MAX))
_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def _document_path(rule: str) -> str:
    return _PARAM.sub(r"{\1}", rule.removeprefix(bp.url_prefix))


@lru_cache(maxsize=None)
def _body_schema(path: str, method: str):
    """(validator, required) of the operation's JSON body, or None when it takes none."""
    from crm.api.openapi import DOCUMENT

    body = DOCUMENT["paths"].get(path, {}).get(method, {}).get("requestBody")
    schema = (body or {}).get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return None
    # The references (#/components/…) resolve against this root.
    root = {**schema, "components": DOCUMENT["components"]}
    return _Validator(root), bool(body.get("required"))


def _where(path) -> str:
    return ".".join(str(p) for p in path) or "body"


def _explain(error) -> tuple[str, str]:
    """(field, message in the request's language) for one schema error."""
    kind = error.validator
    if kind == "required":
        missing = [n for n in error.validator_value if n not in error.instance]
        field = ".".join(filter(None, [_where(error.absolute_path) if error.absolute_path else "", missing[0]]))
        return field, _("This field is required.")
    field = _where(error.absolute_path)
    if kind == "type" and isinstance(error.instance, int) and not isinstance(error.instance, bool):
        return field, _("The number is out of range.")
    if kind == "type":
        types = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return field, _("Must be of type %(types)s.", types=" / ".join(types))
    if kind == "enum":
        return field, _("Must be one of: %(values)s.",
                        values=", ".join("null" if v is None else str(v) for v in error.validator_value))
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return field, _("The number is out of range.")
    if kind in ("maxLength", "maxItems"):
        return field, _("Too long.")
    return field, _("This value is invalid.")


def _out_of_range(value, path=()):
    """The first integer beyond a database column, or non-finite number, with its path."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and abs(value) > 2**63 - 1:  # beyond any column: cannot even be bound
        return path
    if isinstance(value, float) and not math.isfinite(value):
        return path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _out_of_range(item, (*path, key))
        if found is not None:
            return found
    return None


@bp.before_request
def _check_json_body():
    if request.url_rule is None or request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    checked = _body_schema(_document_path(request.url_rule.rule), request.method.lower())
    if checked is None:
        return None
    validator, required = checked
    if not request.get_data(cache=True).strip():
        if not required:
            return None
        payload = {}  # an empty body: every required field is reported missing
    elif not request.is_json:
        return api_error(400, _("Send a JSON object (Content-Type: application/json)."))
    else:
        payload = request.get_json(silent=True)
        if payload is None:
            return api_error(400, _("The body is not valid JSON."))
    fields: dict[str, list[str]] = {}
    for error in sorted(validator.iter_errors(payload), key=lambda e: list(map(str, e.absolute_path))):
        field, message = _explain(error)
        fields.setdefault(field, []).append(message)
    beyond = _out_of_range(payload)
    if beyond is not None:
        fields.setdefault(_where(beyond), []).append(_("The number is out of range."))
    if fields:
        return api_error(422, _("Some fields are invalid."), fields=fields)
    return None
