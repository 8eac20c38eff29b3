"""Small helpers shared by the cockpit's breakdown sections (watch, by origin, screening
timeliness, targets): links to the records behind a figure, the scope in words, amounts in 亿元,
county-local days as UTC moments, and SQL that needs a word per dialect."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from sqlalchemy import extract, func

from crm import clock
from crm.dashboard.scope import Scope
from crm.extensions import db


def link(endpoint: str, **args) -> str:
    """The URL of a list with these filters (None and "" left out). Outside a request (the
    bulletin job) a bare request context of the app builds the same path."""
    args = {k: v for k, v in args.items() if v not in (None, "")}
    if has_request_context():
        return url_for(endpoint, **args)
    with current_app.test_request_context():
        return url_for(endpoint, **args)


def day_start(day: date) -> datetime:
    """The county-local midnight that starts `day`, as an aware UTC moment."""
    return datetime.combine(day, time(0), tzinfo=clock.local_zone()).astimezone(timezone.utc)


def day_after(day: date) -> datetime:
    """The county-local midnight that ends `day` (exclusive bound), as an aware UTC moment."""
    return day_start(day + timedelta(days=1))


def yi(amount_wan) -> float:
    """万元 → 亿元, two decimals (a JSON number; unknown sums are 0)."""
    return float((Decimal(amount_wan or 0) / Decimal(10000)).quantize(Decimal("0.01")))


def as_int(value) -> int:
    return int(value or 0)


def scope_note(scope: Scope, unit_means: str = "lead") -> str:
    """The scope in one sentence, appended to each figure's `how`. `unit_means`: which unit the
    unit filter selects — the lead's owner unit ("lead") or the target's responsible unit ("target")."""
    unit = scope.unit_name or (str(scope.unit_id) if scope.unit_id else None)
    chain = scope.chain_name or (str(scope.chain_id) if scope.chain_id else None)
    if unit and unit_means == "target":
        unit_text = _("targets %(unit)s is responsible for", unit=unit)
    elif unit:
        unit_text = _("projects owned by %(unit)s", unit=unit)
    if unit and chain:
        return _("Scope: %(unit)s, %(chain)s chain.", unit=unit_text, chain=chain)
    if unit:
        return _("Scope: %(unit)s.", unit=unit_text)
    if chain:
        return _("Scope: the %(chain)s chain.", chain=chain)
    return _("Scope: every unit and chain.")


def hours_between(start, end):
    """SQL: the hours from `start` to `end` (two timestamp columns), on SQLite and PostgreSQL."""
    if db.session.get_bind().dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 24.0
    return extract("epoch", end - start) / 3600.0


def chart_links(rows: list[dict], key: str = "url") -> list:
    return [row.get(key) for row in rows]
