"""The registry the cockpit (驾驶舱) is built from. Each section is a query function and a template:
`compute(ctx)` returns a JSON-ready dict (the page renders it, /api/v1/dashboard returns it as is).
Sections are registered in crm.dashboard.init_app; the page knows none by name.

Every figure a section returns carries `how` (one line: how it is computed, naming the cohort
and the period) and `url` (the records behind it, filtered), so the page can say both."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

from flask import Flask, current_app

from crm.dashboard.period import Period
from crm.dashboard.scope import Scope


@dataclass(frozen=True)
class Context:
    period: Period
    scope: Scope
    today: date
    user: Any = None


@dataclass(frozen=True)
class Section:
    key: str
    template: str
    compute: Callable[[Context], dict]
    order: int = 100
    # True: the dict depends only on ctx.period, ctx.scope and ctx.today (not on ctx.user) and is
    # JSON as it is (no date objects) — crm.dashboard.cache may keep it until the data changes.
    cache: bool = False
    # False: the figures are as of today whatever the period (the watch list), so a cached dict is
    # shared by every period of the same scope and day.
    period_bound: bool = True


def register_section(app: Flask, section: Section) -> None:
    sections = app.extensions.setdefault("dashboard_sections", [])
    sections[:] = sorted([s for s in sections if s.key != section.key] + [section], key=lambda s: (s.order, s.key))


def sections() -> list[Section]:
    return list(current_app.extensions.get("dashboard_sections", []))


def compute_all(ctx: Context, only: set[str] | None = None) -> dict[str, dict]:
    from crm.dashboard import cache

    return cache.compute(ctx, [s for s in sections() if only is None or s.key in only])


def rate(numerator: int, denominator: int) -> float | None:
    """A share in percent with one decimal, or None ("—") when nothing is counted: never 0/0."""
    if not denominator:
        return None
    return round(100.0 * numerator / denominator, 1)


def figure(key: str, label: str, value, how: str, url: str | None = None, unit: str = "",
           previous=None, **extra) -> dict:
    """One figure as every section returns it (JSON-ready: numbers as int/float, None for "—")."""
    out = {"key": key, "label": str(label), "value": value, "unit": str(unit), "how": str(how),
           "url": url, "previous": previous}
    out.update(extra)
    return out
