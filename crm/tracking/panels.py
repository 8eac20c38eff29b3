"""The registry the project page and the unit page are built from. Each tracking feature adds its
panels in its init_app (called from create_app): the page knows no feature by name.

A panel is a template included with `panel_context` — what `context(lead, user)` (project page)
or `context(unit, user)` (unit page) returns — or skipped when that returns None (nothing to
show, or the user may not see it)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import Flask, current_app


@dataclass(frozen=True)
class Panel:
    key: str
    template: str
    context: Callable[[Any, Any], dict | None]
    order: int = 100


def _panels(app: Flask, page: str) -> list[Panel]:
    return app.extensions.setdefault("tracking_panels", {}).setdefault(page, [])


def register_panel(app: Flask, page: str, panel: Panel) -> None:
    """page: "project" or "unit"."""
    panels = _panels(app, page)
    panels[:] = sorted([p for p in panels if p.key != panel.key] + [panel], key=lambda p: (p.order, p.key))


def panels_for(page: str, subject, user) -> list[tuple[Panel, dict]]:
    out = []
    for panel in _panels(current_app, page):
        context = panel.context(subject, user)
        if context is not None:
            out.append((panel, context))
    return out
