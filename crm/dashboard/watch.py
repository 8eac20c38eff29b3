"""Cockpit section 'watch': the projects in trouble now — traffic-light counts, overdue
milestones, letters without reply, open problems. These are as of today, not bound to the
period; the scope (unit, chain) selects the projects by their owner unit and chain.

Each count selects what the list it links to selects (crm.tracking.queries for projects,
crm.letters.queries for letters, crm.problems.queries for problems), so the link shows exactly
the records counted; the tests check both sides."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import pgettext
from sqlalchemy import case, func, select

from crm.dashboard.breakdown_helpers import as_int, link, scope_note
from crm.dashboard.sections import Context, figure
from crm.extensions import db
from crm.leads.models import Lead
from crm.letters.models import Letter
from crm.lights.models import COLOUR_LABELS, Colour, ProjectLight
from crm.problems import queries as problem_queries
from crm.problems.models import OPEN_STATUSES, Problem
from crm.tracking.models import MilestoneActual, MilestonePlan
from crm.tracking.queries import tracked_condition

_OPEN = [s.value for s in OPEN_STATUSES]


def _scope_args(ctx: Context, unit_key: str = "unit_id") -> dict:
    return {unit_key: ctx.scope.unit_id, "chain_id": ctx.scope.chain_id}


def light_counts(ctx: Context) -> dict[str, int]:
    """Tracked projects in scope by the colour of their light today (one grouped query)."""
    rows = db.session.execute(
        select(ProjectLight.colour, func.count()).join(Lead, Lead.id == ProjectLight.lead_id)
        .where(tracked_condition(), *ctx.scope.lead_conditions()).group_by(ProjectLight.colour)).all()
    counts = {c.value: 0 for c in Colour}
    counts.update({colour: as_int(n) for colour, n in rows if colour in counts})
    return counts


def overdue_projects(ctx: Context) -> int:
    """Tracked projects in scope with a current plan date before today and no actual date for
    that milestone: the list's overdue_condition, counted from the plans (few) to the leads."""
    return as_int(db.session.scalar(
        select(func.count(func.distinct(MilestonePlan.lead_id))).select_from(MilestonePlan)
        .join(Lead, Lead.id == MilestonePlan.lead_id)
        .where(MilestonePlan.superseded_at.is_(None), MilestonePlan.planned_on < ctx.today,
               ~select(MilestoneActual.id).where(MilestoneActual.lead_id == MilestonePlan.lead_id,
                                                 MilestoneActual.milestone == MilestonePlan.milestone).exists(),
               tracked_condition(), *ctx.scope.lead_conditions())))


def letter_counts(ctx: Context) -> tuple[int, int]:
    """(letters not answered, of them past their reply date) about projects in scope."""
    waiting = Letter.replied_at.is_(None)
    stmt = select(func.count(), func.sum(case((Letter.reply_due_on < ctx.today, 1), else_=0))).select_from(Letter)
    if ctx.scope.is_filtered:  # every letter has its lead (NOT NULL, foreign key): joined for the scope only
        stmt = stmt.join(Lead, Lead.id == Letter.lead_id)
    row = db.session.execute(stmt.where(waiting, *ctx.scope.lead_conditions())).one()
    return as_int(row[0]), as_int(row[1])


def problem_counts(ctx: Context) -> tuple[int, int]:
    """(problems open or being solved, of them past their due date) on projects in scope."""
    stmt = select(func.count(), func.sum(case((problem_queries.overdue_condition(ctx.today), 1), else_=0))) \
        .select_from(Problem)
    if ctx.scope.is_filtered:  # every problem has its lead (NOT NULL, foreign key): joined for the scope only
        stmt = stmt.join(Lead, Lead.id == Problem.lead_id)
    row = db.session.execute(stmt.where(Problem.status.in_(_OPEN), *ctx.scope.lead_conditions())).one()
    return as_int(row[0]), as_int(row[1])


def watch(ctx: Context) -> dict:
    today = ctx.today.isoformat()
    note = scope_note(ctx.scope)
    as_of = _("As of today (%(day)s), whatever the period.", day=today)
    lights = light_counts(ctx)
    light_figures = [
        figure(f"light_{colour.value}", COLOUR_LABELS[colour], lights[colour.value],
               " ".join([_("Tracked projects (admitted or later, or terminated after signing) whose traffic "
                           "light is %(colour)s.", colour=COLOUR_LABELS[colour]), as_of, note]),
               link("tracking.projects", colour=colour.value, **_scope_args(ctx)), colour=colour.value)
        for colour in (Colour.RED, Colour.YELLOW, Colour.GREEN)]
    overdue = overdue_projects(ctx)
    letters, letters_late = letter_counts(ctx)
    problems, problems_late = problem_counts(ctx)
    scope = _scope_args(ctx, "owner_unit_id")
    figures = [
        figure("overdue_milestones", pgettext("breakdown", "Projects with an overdue milestone"), overdue,
               " ".join([_("Tracked projects with a current planned milestone date before today and no actual "
                           "date recorded for it."), as_of, note]),
               link("tracking.projects", overdue="1", **_scope_args(ctx))),
        figure("letters_unanswered", pgettext("breakdown", "Letters without reply"), letters,
               " ".join([_("Reminder, assignment and supervision letters about these projects not yet answered "
                           "(反馈)."), as_of, note]),
               link("letters.index", state="unanswered", **scope)),
        figure("letters_overdue", pgettext("breakdown", "Letters past their reply date"), letters_late,
               " ".join([_("Of the letters without reply, those whose reply date is before today."), as_of, note]),
               link("letters.index", state="overdue", **scope)),
        figure("problems_open", _("Open problems"), problems,
               " ".join([_("Problems on these projects awaiting solution or being solved."), as_of, note]),
               link("problems.index", open="1", **scope)),
        figure("problems_overdue", pgettext("breakdown", "Problems past their due date"), problems_late,
               " ".join([_("Of the open problems, those whose due date is before today."), as_of, note]),
               link("problems.index", overdue="1", **scope)),
    ]
    chart = {"type": "pie", "categories": [f["label"] for f in light_figures],
             "series": [{"name": _("Traffic light"), "data": [f["value"] for f in light_figures]}],
             "links": [f["url"] for f in light_figures], "colours": [f["colour"] for f in light_figures]}
    return {"as_of": today, "how": as_of, "scope": note, "lights": light_figures,
            "lights_total": sum(lights.values()), "figures": figures, "chart": chart}
