"""Malformed requests stop here with a 4xx, before a view or the database sees them.

- integer path parameters beyond what a database column holds do not match the route (404);
- integer query parameters beyond it are refused (400), naming the parameter, and so is a NUL;
- JSON bodies larger or nested deeper than the settings allow are refused (413 / 400) before they
  are parsed, so Python's recursion limit is never reached.
"""
from __future__ import annotations

import re

from flask import Flask, current_app, request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

DB_INT_MAX = 2**31 - 1  # an INTEGER column on PostgreSQL (ids, counts); SQLite holds more
_INTEGER = re.compile(r"\s*[+-]?\d+\s*")
_FREE_TEXT = {"q"}  # search words may be long digit strings (a bank account, a phone number)
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_BRACKET = re.compile(rb"[\[\]{}]")


class DatabaseIntConverter(IntegerConverter):
    """`<int:…>` everywhere: ids above the column's range are "no such record"."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", DB_INT_MAX)
        super().__init__(map, *args, **kwargs)


def out_of_range(value: str) -> bool:
    return bool(_INTEGER.fullmatch(value)) and abs(int(value)) > DB_INT_MAX


def json_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in a JSON text (strings skipped, without parsing)."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def refuse(message: str, error=BadRequest):
    """Raise a 4xx whose message the error page and the API's JSON show."""
    exc = error()
    exc.crm_message = message
    raise exc


def _check_request():
    for name, value in request.args.items(multi=True):
        if "\x00" in name or "\x00" in value:  # PostgreSQL text cannot hold it: refused, not a 500
            refuse(_("The request contains a NUL character."))
        if name not in _FREE_TEXT and out_of_range(value):
            refuse(_("The number in %(name)s is too large.", name=name))
    if request.mimetype == "application/json" or request.mimetype.endswith("+json"):
        limit = current_app.config["API_MAX_JSON_KB"] * 1024
        too_large = _("The JSON body is larger than %(n)s KB.", n=current_app.config["API_MAX_JSON_KB"])
        if (request.content_length or 0) > limit:
            refuse(too_large, RequestEntityTooLarge)
        raw = request.get_data(cache=True)
        if len(raw) > limit:
            refuse(too_large, RequestEntityTooLarge)
        if json_depth(raw) > current_app.config["API_MAX_JSON_DEPTH"]:
            refuse(_("The JSON body nests too deeply (at most %(n)s levels).",
                     n=current_app.config["API_MAX_JSON_DEPTH"]))


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = DatabaseIntConverter
    app.before_request(_check_request)
