"""The letters' panels: on the project page (the project's letters) and on the unit desk (the
letters waiting for the unit's 签收 / 反馈, overdue first)."""
from __future__ import annotations

from crm import clock
from crm.auth.permissions import can_read_unit_records
from crm.letters import queries
from crm.tracking.access import can_open_unit_page
from crm.tracking.panels import Panel, register_panel


def project_panel(lead, user) -> dict | None:
    if not can_read_unit_records(user, lead.owner_unit_id):
        return None
    letters = queries.project_letters(lead.id)
    today = clock.today()
    return {"letters": letters, "numbers": queries.numbers_for(l.id for l in letters), "today": today,
            "state_of": queries.state_of}


def unit_panel(unit, user) -> dict | None:
    if not can_open_unit_page(user, unit.id):
        return None
    today = clock.today()
    letters, counts = queries.waiting_for_unit(unit.id, today)
    return {"letters": letters, "counts": counts, "numbers": queries.numbers_for(l.id for l in letters),
            "today": today, "state_of": queries.state_of, "unit": unit}


def register_panels(app) -> None:
    register_panel(app, "project", Panel("letters", "letters/_project_panel.html", project_panel, order=60))
    register_panel(app, "unit", Panel("letters", "letters/_unit_panel.html", unit_panel, order=10))
