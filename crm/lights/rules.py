"""The light's rules (DOMAIN.md "Traffic light"), as a pure function of a project's facts: no
database, no clock. `evaluate(facts, settings, today)` gives the colour and every reason; the
worst reason wins. Each threshold is a TrackingSettings field.

- green: every milestone due so far was met and something progressed in the last
  `stale_months` months (no reason at all);
- yellow: a milestone past its planned date without an actual date (`milestone_overdue`); no
  step, milestone or 到资 recorded for more than `stale_months` months (`no_progress`); a
  problem (open or being solved) past its due date (`problems_overdue`);
- red: a milestone more than `red_late_months` months late (`milestone_late`); 到资 more than
  `investment_behind_pct` % below the plan for this date once construction has started
  (`investment_behind`, the plan is crm.tracking.plan's); started `started_not_completed_years` years ago (or longer) and not
  completed; completed `completed_not_producing_years` years ago (or longer) and not producing;
  signed and not started `not_started_months` months (or longer) after the planned start.

Edges: "more than N months late / N % behind" is strict (exactly 3 months late is still yellow);
"N years ago" and "N months after the planned start" are reached on the anniversary itself.
A month is a calendar month (31 January + 1 month = 28/29 February).

Not lit (colour None): projects terminated (终止) or rejected, and finished ones (上规,
above_scale): there is nothing left to track; stages before admission are not tracked at all.
A producing project stays lit (its 上规 date, its problems, its 到资) but is not flagged for "no
progress": there is nothing left to build.

A milestone counts as reached with an actual date, or when the lead's stage is at or past the
stage it leads to (a ledger import may move the stage without dates); land supply (供地) counts
as reached once construction started.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_pgettext

from crm.leads.pipeline import Stage, rank
from crm.lights.models import SEVERITY, Colour
from crm.tracking.models import MILESTONE_ORDER, MILESTONE_STAGE, Milestone
from crm.tracking.plan import planned_investment_by

LIT_STAGES = frozenset({Stage.ADMITTED, Stage.SIGNED, Stage.STARTED, Stage.COMPLETED, Stage.PRODUCING})

# The milestone's name inside a reason (own context: the tracking package owns the plain labels).
_MILESTONE_NAMES = {
    Milestone.SIGN: lazy_pgettext("light", "Signing"),
    Milestone.LAND: lazy_pgettext("light", "Land supply"),
    Milestone.START: lazy_pgettext("light", "Construction start"),
    Milestone.COMPLETE: lazy_pgettext("light", "Completion"),
    Milestone.PRODUCE: lazy_pgettext("light", "Production"),
    Milestone.ABOVE_SCALE: lazy_pgettext("light", "Above designated size"),
}


@dataclass(frozen=True)
class Facts:
    """What the light of one project is computed from (crm.lights.queries gathers it)."""
    lead_id: int
    stage: str
    planned: dict[str, date] = field(default_factory=dict)    # current plan per milestone
    actual: dict[str, date] = field(default_factory=dict)     # actual date per milestone
    invested_wan: Decimal = Decimal(0)                         # 到资 paid on or before today
    investment_basis_wan: Decimal | None = None                # the agreement's fixed (else total) investment
    last_progress_on: date | None = None                       # latest step / actual / 到资 / admission
    open_problem_dues: tuple[date, ...] = ()                   # due dates of problems open or being solved
    signed_on: date | None = None
    started_on: date | None = None


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_years(day: date, years: int) -> date:
    return add_months(day, 12 * years)


def is_lit(stage: str) -> bool:
    return stage in LIT_STAGES


def reached(facts: Facts, milestone: Milestone) -> bool:
    if milestone.value in facts.actual:
        return True
    if milestone == Milestone.LAND:
        return rank(facts.stage) >= rank(Stage.STARTED)
    if milestone == Milestone.SIGN and facts.signed_on is not None:
        return True
    if milestone == Milestone.START and facts.started_on is not None:
        return True
    stage = MILESTONE_STAGE.get(milestone)
    return stage is not None and rank(facts.stage) >= rank(stage)


def _reason(code: str, colour: Colour, **params) -> dict:
    return {"code": code, "colour": colour.value,
            "params": {k: (v.isoformat() if isinstance(v, date) else str(v) if isinstance(v, Decimal) else v)
                       for k, v in params.items()}}


def evaluate(facts: Facts, settings, today: date) -> tuple[str | None, list[dict]]:
    """(colour, reasons): colour None when the project is not lit; reasons worst first."""
    if not is_lit(facts.stage):
        return None, []
    reasons: list[dict] = []
    # Milestones past their planned date without an actual date.
    for milestone in MILESTONE_ORDER:
        planned = facts.planned.get(milestone.value)
        if planned is None or planned >= today or reached(facts, milestone):
            continue
        # No day count in the stored reason (it would change every night): describe() counts.
        if today > add_months(planned, settings.red_late_months):
            reasons.append(_reason("milestone_late", Colour.RED, milestone=milestone.value, planned_on=planned,
                                   months=settings.red_late_months))
        else:
            reasons.append(_reason("milestone_overdue", Colour.YELLOW, milestone=milestone.value,
                                   planned_on=planned))
    # 到资 behind the plan for this date, once construction has started: before that a late start
    # is the start milestone's lateness (yellow, red after red_late_months), not a second red.
    planned_wan = None if not reached(facts, Milestone.START) else planned_investment_by(today, facts.investment_basis_wan, facts.planned.get(Milestone.START.value),
                                        facts.planned.get(Milestone.COMPLETE.value))
    if planned_wan is not None and planned_wan > 0:
        invested = Decimal(facts.invested_wan or 0)
        behind = (planned_wan - invested) / planned_wan * 100
        if behind > settings.investment_behind_pct:
            reasons.append(_reason("investment_behind", Colour.RED, invested=invested.quantize(Decimal("0.01")),
                                   planned=planned_wan, behind_pct=behind.quantize(Decimal("0.1"), ROUND_HALF_UP),
                                   threshold=settings.investment_behind_pct))
    # Signed and not started long after the planned start.
    planned_start = facts.planned.get(Milestone.START.value)
    if (planned_start is not None and reached(facts, Milestone.SIGN) and not reached(facts, Milestone.START)
            and today >= add_months(planned_start, settings.not_started_months)):
        reasons.append(_reason("not_started", Colour.RED, planned_on=planned_start,
                               months=settings.not_started_months))
    # Started N years ago and not completed.
    started = facts.actual.get(Milestone.START.value) or facts.started_on
    if (started is not None and not reached(facts, Milestone.COMPLETE)
            and today >= add_years(started, settings.started_not_completed_years)):
        reasons.append(_reason("started_not_completed", Colour.RED, started_on=started,
                               years=settings.started_not_completed_years))
    # Completed N years ago and not producing.
    completed = facts.actual.get(Milestone.COMPLETE.value)
    if (completed is not None and not reached(facts, Milestone.PRODUCE)
            and today >= add_years(completed, settings.completed_not_producing_years)):
        reasons.append(_reason("completed_not_producing", Colour.RED, completed_on=completed,
                               years=settings.completed_not_producing_years))
    # No progress recorded for a while (not once producing: nothing is left to build).
    if (facts.last_progress_on is not None and rank(facts.stage) < rank(Stage.PRODUCING)
            and today > add_months(facts.last_progress_on, settings.stale_months)):
        reasons.append(_reason("no_progress", Colour.YELLOW, last_on=facts.last_progress_on,
                               months=settings.stale_months))
    # Problems past their due date.
    overdue = sorted(d for d in facts.open_problem_dues if d < today)
    if overdue:
        reasons.append(_reason("problems_overdue", Colour.YELLOW, count=len(overdue), earliest_due=overdue[0]))
    reasons.sort(key=lambda r: -SEVERITY[Colour(r["colour"])])  # stable: rule order within a colour
    colour = reasons[0]["colour"] if reasons else Colour.GREEN.value
    return colour, reasons


# --- in words -------------------------------------------------------------------------------------

def _day(value: str | None) -> str:
    if not value:
        return "—"
    day = date.fromisoformat(value)
    if str(get_locale() or "zh").startswith("zh"):
        return f"{day.year}年{day.month}月{day.day}日"
    return day.isoformat()


def _milestone(value: str) -> str:
    try:
        return str(_MILESTONE_NAMES[Milestone(value)])
    except ValueError:
        return value


def _amount(value) -> str:
    from crm.formatting import amount

    return amount(Decimal(value)) if value is not None else "—"


def overdue_days(reason: dict, on: date) -> int | None:
    """How many days late a milestone reason's plan is on the given day."""
    planned = (reason.get("params") or {}).get("planned_on")
    if reason.get("code") not in ("milestone_overdue", "milestone_late") or not planned:
        return None
    return (on - date.fromisoformat(planned)).days


def describe(reason: dict, on: date | None = None) -> str:
    """One reason in words, in the request's language, with the days late counted to `on`
    (default: today), e.g. 开工 计划 2026年3月1日，已逾期 45 天."""
    code, p = reason.get("code"), reason.get("params") or {}
    try:
        if code in ("milestone_overdue", "milestone_late"):
            if on is None:
                from crm import clock

                on = clock.today()
            days = overdue_days(reason, on)
            if code == "milestone_overdue":
                return _("%(milestone)s planned for %(date)s, %(days)s days overdue",
                         milestone=_milestone(p["milestone"]), date=_day(p["planned_on"]), days=days)
            return _("%(milestone)s planned for %(date)s, %(days)s days overdue (more than %(months)s months)",
                     milestone=_milestone(p["milestone"]), date=_day(p["planned_on"]), days=days,
                     months=p["months"])
        if code == "investment_behind":
            return _("Investment made %(invested)s 万元 against %(planned)s 万元 planned by now: %(pct)s%% "
                     "behind (more than %(threshold)s%%)", invested=_amount(p["invested"]),
                     planned=_amount(p["planned"]), pct=p["behind_pct"], threshold=p["threshold"])
        if code == "not_started":
            return _("Signed and not started %(months)s months after the planned start (%(date)s)",
                     months=p["months"], date=_day(p["planned_on"]))
        if code == "started_not_completed":
            return _("Construction started on %(date)s and not completed after %(years)s years",
                     date=_day(p["started_on"]), years=p["years"])
        if code == "completed_not_producing":
            return _("Completed on %(date)s and not in production after %(years)s years",
                     date=_day(p["completed_on"]), years=p["years"])
        if code == "no_progress":
            return _("No step, milestone or investment recorded since %(date)s (more than %(months)s months)",
                     date=_day(p["last_on"]), months=p["months"])
        if code == "problems_overdue":
            return _("%(count)s problems past their due date (the earliest due %(date)s)",
                     count=p["count"], date=_day(p["earliest_due"]))
    except (KeyError, TypeError, ValueError):
        pass
    return str(code)
