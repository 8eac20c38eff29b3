"""Cockpit section 'headline': the period's counts and amounts, each beside the same figure a
year earlier (同比). Every count is one SQL aggregate over stage_reached (or leads / 到资 entries)
joined to the leads in scope: no loop over leads.

The year-earlier figure covers `ctx.period.year_earlier()`; while the period is still running, it
stops on the same day a year before today, so both sides count the same days."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import and_, case, func, or_, select

from crm.dashboard import sql
from crm.dashboard.period import Period, _shift_year, format_day
from crm.dashboard.sections import Context, figure
from crm.extensions import db
from crm.leads.models import Lead, StageReached
from crm.leads.pipeline import Stage, stage_label
from crm.tracking.models import Agreement, InvestmentEntry

# The stages the headline counts, in the pipeline's order (the signed amount follows 'signed').
HEADLINE_STAGES = (Stage.SCREENING, Stage.ADMITTED, Stage.SIGNED, Stage.STARTED, Stage.COMPLETED,
                   Stage.PRODUCING, Stage.ABOVE_SCALE)


@dataclass(frozen=True)
class Window:
    """Two days, both counted."""
    start: date
    end: date

    def holds(self, column):
        return and_(column >= self.start, column <= self.end)

    @property
    def label(self) -> str:
        return _("%(start)s to %(end)s", start=format_day(self.start), end=format_day(self.end))

    def as_json(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "label": self.label}


def current_window(ctx: Context) -> Window:
    return Window(ctx.period.start, ctx.period.end)


def year_earlier(ctx: Context) -> Window:
    """The same days a year earlier; a running period is compared up to the same day last year."""
    earlier: Period = ctx.period.year_earlier()
    end = earlier.end
    if ctx.period.end > ctx.today:
        end = min(end, _shift_year(ctx.today, -1))
    return Window(earlier.start, end)


def yi(wan) -> float:
    """万元 → 亿元, two decimals (half up)."""
    return float((Decimal(str(wan or 0)) / 10000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def number(value) -> int:
    return int(value or 0)


def link(endpoint: str, **args) -> str:
    """A URL to a list with these filters (empty ones left out)."""
    clean = {k: v for k, v in args.items() if v not in (None, "")}
    return url_for(endpoint) + ("?" + urlencode(clean) if clean else "")


def leads_link(ctx: Context, stage: str, window: Window | None = None, then: str | None = None,
               then_by: date | None = None) -> str:
    """The leads list: the leads in scope that reached `stage` in the window (`lead`: created)."""
    window = window or current_window(ctx)
    return link("leads.index", reached=stage, reached_from=window.start.isoformat(),
                reached_to=window.end.isoformat(), then=then, then_by=then_by.isoformat() if then_by else None,
                **ctx.scope.args())


def projects_link(ctx: Context, **filters) -> str:
    return link("tracking.projects", **ctx.scope.args(), **filters)


def _either(window: Window, other: Window, column):
    """In either window; the bounds around both first, so an index on `column` reads only the
    days between them (an OR alone made PostgreSQL read every row of the index)."""
    return and_(column >= min(window.start, other.start), column <= max(window.end, other.end),
                or_(window.holds(column), other.holds(column)))


def _both(window: Window, other: Window, column, value=1):
    return (func.sum(case((window.holds(column), value), else_=0)),
            func.sum(case((other.holds(column), value), else_=0)))


def stage_counts(ctx: Context, now: Window, then: Window) -> dict[str, tuple]:
    """{stage: (count now, count then, amount now, amount then)}. Counts: stage_reached alone (its
    index) unless the scope needs the leads; the amount (万元, signed only) is the agreement's total
    investment, else the lead's planned investment."""
    either = _either(now, then, StageReached.reached_on)
    stmt = (select(StageReached.stage, *_both(now, then, StageReached.reached_on))
            .where(StageReached.stage.in_([s.value for s in HEADLINE_STAGES]), either)
            .group_by(StageReached.stage))
    if ctx.scope.is_filtered:
        stmt = stmt.join(Lead, Lead.id == StageReached.lead_id).where(*ctx.scope.lead_conditions())
    counts = {row[0]: (row[1], row[2]) for row in db.session.execute(stmt)}
    amount = func.coalesce(Agreement.total_investment_wan, Lead.planned_investment_wan, 0)
    signed = db.session.execute(
        select(*_both(now, then, StageReached.reached_on, amount))
        .select_from(StageReached)
        .join(Lead, Lead.id == StageReached.lead_id)
        .outerjoin(Agreement, Agreement.lead_id == StageReached.lead_id)
        .where(StageReached.stage == Stage.SIGNED.value, either, *ctx.scope.lead_conditions())).one()
    out = {stage: (c[0], c[1], 0, 0) for stage, c in counts.items()}
    now_count, then_count = counts.get(Stage.SIGNED.value, (0, 0))
    out[Stage.SIGNED.value] = (now_count, then_count, signed[0] or 0, signed[1] or 0)
    return out


def created_counts(ctx: Context, now: Window, then: Window) -> tuple[int, int]:
    row = db.session.execute(select(*_both(now, then, Lead.created_on)).where(
        _either(now, then, Lead.created_on), *ctx.scope.lead_conditions())).one()
    return number(row[0]), number(row[1])


def invested_amounts(ctx: Context, now: Window, then: Window) -> tuple:
    """到资 paid in each window (万元), of the projects in scope."""
    stmt = select(*_both(now, then, InvestmentEntry.paid_on, InvestmentEntry.amount_wan)).where(
        _either(now, then, InvestmentEntry.paid_on))
    if ctx.scope.is_filtered:
        stmt = stmt.join(Lead, Lead.id == InvestmentEntry.lead_id).where(*ctx.scope.lead_conditions())
    row = db.session.execute(stmt).one()
    return row[0] or 0, row[1] or 0


def headline(ctx: Context) -> dict:
    sql.plain_planning()
    now, then = current_window(ctx), year_earlier(ctx)
    period = {"start": format_day(now.start), "end": format_day(now.end)}
    figures = []
    created = created_counts(ctx, now, then)
    figures.append(figure(
        "new_leads", _("New leads"), created[0], _("Leads recorded (creation date) from %(start)s to %(end)s.", **period),
        leads_link(ctx, Stage.LEAD.value), previous=created[1]))
    counts = stage_counts(ctx, now, then)
    for stage in HEADLINE_STAGES:
        row = counts.get(stage.value, (0, 0, 0, 0))
        figures.append(figure(
            stage.value, stage_label(stage), number(row[0]),
            _("Leads that first reached %(stage)s from %(start)s to %(end)s (a skipped stage counts on the day "
              "of the later one).", stage=stage_label(stage), **period),
            leads_link(ctx, stage.value), previous=number(row[1])))
        if stage == Stage.SIGNED:
            figures.append(figure(
                "signed_investment", _("Signed investment"), yi(row[2]),
                _("Total investment of the leads signed from %(start)s to %(end)s: the agreement's total, "
                  "else the lead's planned investment.", **period),
                leads_link(ctx, stage.value), unit=_("100 million yuan"), previous=yi(row[3])))
    paid = invested_amounts(ctx, now, then)
    figures.append(figure(
        "invested", _("Investment arrived"), yi(paid[0]),
        _("Investment entries (到资) paid from %(start)s to %(end)s, projects in scope.", **period),
        projects_link(ctx), unit=_("100 million yuan"), previous=yi(paid[1])))
    return {"figures": figures, "period": now.as_json(), "compared_with": then.as_json(),
            "compared_how": _("A year earlier: %(period)s (while the period runs, up to the same day last year).",
                              period=then.label)}
