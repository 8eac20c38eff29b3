"""The problems' panels on the project page and on the unit desk (crm.tracking.panels)."""
from __future__ import annotations

from flask import g

from crm import clock
from crm.auth.roles import Permission
from crm.problems import queries, services
from crm.problems.forms import RaiseForm


def project_panel(lead, user) -> dict | None:
    """The project's problems and the form to raise one (the page already checked the reader)."""
    form = getattr(g, "problem_raise_form", None)
    if form is None:
        form = RaiseForm(formdata=None)
        form.due_on.data = None
    form.responsible_unit_id.choices = [("", "—")] + [(u.id, u.name) for u in queries.active_units()]
    return {"problems": queries.for_project(lead.id), "form": form, "today": clock.today(),
            "can_raise": user.can(Permission.PROBLEMS_RAISE),
            "may_read_project": lambda problem: True}


def unit_panel(unit, user) -> dict | None:
    """The unit's open problems, overdue first."""
    if not (user.can(Permission.LEADS_READ_ALL) or services.responds_for_unit(user, unit.id)):
        return None
    return {"problems": queries.to_solve(unit.id), "today": clock.today(), "unit": unit,
            "may_read_project": lambda problem: services.may_read_project(user, problem)}
