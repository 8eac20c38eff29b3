"""Cockpit section 'screening': pre-screening timeliness per member unit, in SQL.

The definitions are those of crm.screening.queries.timeliness (which loops in Python), for the
cases submitted in the period (county-local days), withdrawn cases left out; per member unit
asked on a case (screening_case_units):
- on time: its first opinion came and was not late; late: it came after the deadline;
- missing: no opinion, and the case closed (or the unit was marked missing when it closed);
- waiting: no opinion yet on a case still open;
- on-time rate: on time ÷ (on time + late + missing), — when nothing was due;
- median hours from the case's submission to the unit's first opinion, of the answered ones
  (the middle one, or the mean of the two middle ones), computed with window functions.

`per_unit(period)` is the plain function the ranking and the bulletin call."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import pgettext
from sqlalchemy import case, func, select

from crm.auth.models import Unit
from crm.dashboard.breakdown_helpers import as_int, day_after, day_start, hours_between, link, scope_note
from crm.dashboard.period import Period
from crm.dashboard.scope import Scope
from crm.dashboard.sections import Context, rate
from crm.extensions import db
from crm.leads.models import Lead
from crm.screening.models import CaseStatus, CaseUnit, ScreeningCase
from crm.screening.queries import ANSWERS, answer_condition

def _where(period: Period, scope: Scope | None) -> list:
    conds = [ScreeningCase.status != CaseStatus.WITHDRAWN.value,
             ScreeningCase.submitted_at >= day_start(period.start),
             ScreeningCase.submitted_at < day_after(period.end)]
    if scope is not None:
        conds += scope.lead_conditions()
    return conds


def _joined(stmt, scope: Scope | None):
    stmt = stmt.select_from(CaseUnit).join(ScreeningCase, ScreeningCase.id == CaseUnit.case_id)
    if scope is not None and scope.is_filtered:
        stmt = stmt.join(Lead, Lead.id == ScreeningCase.lead_id)
    return stmt


def _medians(period: Period, scope: Scope | None) -> dict[int, float]:
    """unit id → median hours to the first opinion (the answered ones), with window functions."""
    hours = hours_between(ScreeningCase.submitted_at, CaseUnit.answered_at)
    ranked = _joined(select(
        CaseUnit.unit_id.label("unit_id"), hours.label("hours"),
        func.row_number().over(partition_by=CaseUnit.unit_id, order_by=hours).label("n"),
        func.count().over(partition_by=CaseUnit.unit_id).label("total")), scope) \
        .where(*_where(period, scope), CaseUnit.answered_at.is_not(None)).subquery()
    # The middle row (odd count) or the two middle rows (even count): 2n between total and total + 2.
    middle = select(ranked.c.unit_id, func.avg(ranked.c.hours)).where(
        2 * ranked.c.n >= ranked.c.total, 2 * ranked.c.n <= ranked.c.total + 2).group_by(ranked.c.unit_id)
    return {unit_id: round(float(value), 1) for unit_id, value in db.session.execute(middle) if value is not None}


def per_unit(period: Period, scope: Scope | None = None) -> list[dict]:
    """Per member unit asked on the cases submitted in `period` (of `scope`'s leads, if given):
    {unit_id, unit_name, cases, on_time, late, missing, pending, on_time_rate, median_hours};
    the best on-time rate first (units with nothing due last), then by name."""
    counts = {answer: func.sum(case((answer_condition(answer), 1), else_=0)).label(answer)
              for answer in ANSWERS[1:]}
    rows = db.session.execute(
        _joined(select(CaseUnit.unit_id, Unit.name, func.count().label("cases"), *counts.values()), scope)
        .join(Unit, Unit.id == CaseUnit.unit_id)
        .where(*_where(period, scope)).group_by(CaseUnit.unit_id, Unit.name)).all()
    medians = _medians(period, scope) if rows else {}
    out = []
    for r in rows:
        on_time, late, missing = as_int(r.on_time), as_int(r.late), as_int(r.missing)
        out.append({"unit_id": r.unit_id, "unit_name": r.name, "cases": as_int(r.cases), "on_time": on_time,
                    "late": late, "missing": missing, "pending": as_int(r.pending),
                    "on_time_rate": rate(on_time, on_time + late + missing),
                    "median_hours": medians.get(r.unit_id)})
    return sorted(out, key=lambda r: (r["on_time_rate"] is None, -(r["on_time_rate"] or 0), r["unit_name"]))


def _case_links(ctx: Context, unit_id: int | None) -> dict:
    p = ctx.period
    base = {"member_unit_id": unit_id, "submitted_from": p.start.isoformat(), "submitted_to": p.end.isoformat(),
            "owner_unit_id": ctx.scope.unit_id, "chain_id": ctx.scope.chain_id}
    return {answer: link("screening.cases", answer=answer, **base) for answer in ANSWERS}


def columns(ctx: Context) -> list[dict]:
    label = ctx.period.label
    note = scope_note(ctx.scope)
    cases = _("Of the pre-screening cases submitted in %(period)s (withdrawn ones left out), per member unit "
              "asked:", period=label)
    return [
        {"key": "cases", "label": pgettext("breakdown", "Cases asked"), "how": " ".join([cases, _("the cases it was asked on."), note])},
        {"key": "on_time", "label": _("On time"),
         "how": " ".join([cases, _("its first opinion came before the deadline."), note])},
        {"key": "late", "label": _("Late"), "how": " ".join([cases, _("its first opinion came after the deadline."),
                                                             note])},
        {"key": "missing", "label": _("No answer"),
         "how": " ".join([cases, _("the case closed without its opinion."), note])},
        {"key": "pending", "label": _("Waiting"),
         "how": " ".join([cases, _("no opinion yet, the case still open."), note])},
        {"key": "on_time_rate", "label": _("On-time rate"), "unit": "%",
         "how": " ".join([cases, _("on time ÷ (on time + late + no answer); — when nothing was due."), note])},
        {"key": "median_hours", "label": _("Median hours to answer"), "unit": "",
         "how": " ".join([cases, _("the median hours from submission to its first opinion, of the answered "
                                   "ones."), note])},
    ]


def screening(ctx: Context) -> dict:
    rows = per_unit(ctx.period, ctx.scope)
    for row in rows:
        row["key"], row["label"] = f"unit-{row['unit_id']}", row["unit_name"]
        row["urls"] = _case_links(ctx, row["unit_id"])
        row["urls"].update(cases=row["urls"]["asked"], on_time_rate=row["urls"]["asked"],
                           median_hours=row["urls"]["asked"])
        row["url"] = row["urls"]["asked"]
        row["how"] = _("Pre-screening cases %(unit)s was asked on, submitted in %(period)s.",
                       unit=row["unit_name"], period=ctx.period.label)
    on_time = sum(r["on_time"] for r in rows)  # a sum over member units, not leads
    due = on_time + sum(r["late"] + r["missing"] for r in rows)
    return {
        "period": ctx.period.label,
        "scope": scope_note(ctx.scope),
        "how": _("Pre-screening timeliness per member unit for the cases submitted in %(period)s: the three-day "
                 "opinion, on time or not.", period=ctx.period.label),
        "url": _case_links(ctx, None)["asked"],
        "timeliness_url": link("screening.timeliness"),
        "columns": columns(ctx),
        "rows": rows,
        "total": {"on_time": on_time, "due": due, "on_time_rate": rate(on_time, due)},
        "chart": {"type": "hbar", "categories": [r["unit_name"] for r in rows],
                  "series": [{"name": str(_("On-time rate")), "data": [r["on_time_rate"] for r in rows]}],
                  "unit": "%", "links": [r["url"] for r in rows]},
    }
