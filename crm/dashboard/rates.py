"""Cockpit section 'rates': 签约率, 落地率, 开工率, 履约率 and 到资率 exactly as DOMAIN.md defines
them. Each is one SQL aggregate; each names its cohort and period in `how`, and links to the
cohort (`url`) and to the numerator's records (`numerator_url`).

Where DOMAIN.md leaves room, the choices (said in each `how`):
- "so far" is today; the last day a running period can be judged on is `until` = min(end, today);
- 开工率 counts the projects whose current planned start falls in [start, until] — the days of
  the period that have passed — and those started (开工) by `until`;
- 履约率, 开工率 and 到资率 count projects as the projects list does: admitted or later, or
  terminated after signing (a project terminated before signing is no longer followed);
- 履约率: a project's commitments due are its current planned milestone dates in [start, until]
  and, when the agreement's 到资 plan by `until` is above zero, 到资; it met them when every such
  milestone's actual date is on or before its planned date and 到资 up to `until` is at least
  TrackingSettings.investment_met_pct % of the plan by `until`;
- 到资率: 到资 made up to `until` ÷ 到资 planned by `until`, over the projects whose agreement
  plans 到资 (an amount and planned start and completion dates; crm.tracking.plan's definition).
"""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import and_, func, select, true

from crm.dashboard import sql
from crm.dashboard.figures import Window, leads_link, projects_link, yi
from crm.dashboard.period import format_day
from crm.dashboard.sections import Context, figure, rate
from crm.dashboard.stage_dates import NEXT_STAGE
from crm.extensions import db
from crm.leads.models import Lead, StageReached
from crm.leads.pipeline import Stage
from crm.tracking.models import MilestonePlan
from crm.tracking.queries import tracked_condition
from crm.tracking.settings import peek_settings


def until(ctx: Context) -> date:
    return ctx.period.until(ctx.today)


def conversion(ctx: Context, stage: str, next_stage: str, window: Window) -> tuple[int, int]:
    """(reached `stage` in the window, of those reached `next_stage` so far), leads in scope."""
    reached = StageReached.__table__.alias("cohort")
    source = reached.join(Lead, Lead.id == reached.c.lead_id) if ctx.scope.is_filtered else reached
    if NEXT_STAGE.get(stage) == next_stage:  # the row has the next stage's day: no self-join
        gone_on = reached.c.next_on
    else:
        following = StageReached.__table__.alias("following")
        source = source.outerjoin(following, and_(following.c.lead_id == reached.c.lead_id,
                                                  following.c.stage == next_stage))
        gone_on = following.c.lead_id
    stmt = (select(func.count(), func.count(gone_on)).select_from(source)
            .where(reached.c.stage == stage, window.holds(reached.c.reached_on), *ctx.scope.lead_conditions()))
    den, num = db.session.execute(stmt).one()
    return int(den or 0), int(num or 0)


def _rate(key: str, label: str, num, den, how: str, url: str, numerator_url: str, **extra) -> dict:
    return figure(key, label, rate(num, den), how, url, unit="%", numerator=num, denominator=den,
                  numerator_url=numerator_url, **extra)


def signing_rate(ctx: Context) -> dict:
    window = Window(ctx.period.start, ctx.period.end)
    den, num = conversion(ctx, Stage.ADMITTED.value, Stage.SIGNED.value, window)
    return _rate("signing", _("Signing rate"), num, den,
                 _("Of the projects admitted (同意落地) from %(start)s to %(end)s, the share signed so far.",
                   start=format_day(window.start), end=format_day(window.end)),
                 leads_link(ctx, Stage.ADMITTED.value, window),
                 leads_link(ctx, Stage.ADMITTED.value, window, then=Stage.SIGNED.value))


def landing_rate(ctx: Context) -> dict:
    window = Window(ctx.period.start, ctx.period.end)
    den, num = conversion(ctx, Stage.SIGNED.value, Stage.STARTED.value, window)
    return _rate("landing", _("Landing rate"), num, den,
                 _("Of the projects signed from %(start)s to %(end)s, the share that have started construction "
                   "(开工) so far.", start=format_day(window.start), end=format_day(window.end)),
                 leads_link(ctx, Stage.SIGNED.value, window),
                 leads_link(ctx, Stage.SIGNED.value, window, then=Stage.STARTED.value))


def start_rate(ctx: Context) -> dict:
    stop = until(ctx)
    started = StageReached.__table__.alias("started")
    stmt = (select(func.count(), func.count(started.c.lead_id))
            .select_from(MilestonePlan.__table__.join(Lead, Lead.id == MilestonePlan.lead_id)
                         .outerjoin(started, and_(started.c.lead_id == MilestonePlan.lead_id,
                                                  started.c.stage == Stage.STARTED.value,
                                                  started.c.reached_on <= stop)))
            .where(MilestonePlan.milestone == "start", MilestonePlan.superseded_at.is_(None),
                   MilestonePlan.planned_on >= ctx.period.start, MilestonePlan.planned_on <= stop,
                   tracked_condition(), *ctx.scope.lead_conditions()))
    den, num = (int(v or 0) for v in db.session.execute(stmt).one())
    cohort = {"planned": "start", "planned_from": ctx.period.start.isoformat(), "planned_to": stop.isoformat()}
    return _rate("start", _("Start rate"), num, den,
                 _("Of the projects whose current planned start falls from %(start)s to %(until)s (the period's "
                   "days so far), the share started (开工) by %(until)s; projects terminated before signing are "
                   "left out.", start=format_day(ctx.period.start), until=format_day(stop)),
                 projects_link(ctx, **cohort),
                 projects_link(ctx, **cohort, reached="started", reached_to=stop.isoformat()))


def tracking_counts(ctx: Context) -> dict:
    """履约率's and 到资率's figures in one statement (their CTEs are computed once)."""
    stop = until(ctx)
    pct = peek_settings().investment_met_pct
    shared = sql.commitments(ctx.period.start, stop, pct)
    conditions = [tracked_condition(), *ctx.scope.lead_conditions()]
    kept = shared.kept.where(*conditions).subquery("kept")
    keeping = select(func.count().label("due"), func.sum(kept.c.met).label("met")).subquery("keeping")
    investing, paid = shared.investing, shared.paid
    invest = (select(func.sum(investing.c.planned).label("planned"),
                     func.sum(func.coalesce(paid.c.invested, 0)).label("paid"))
              .select_from(investing.join(Lead, Lead.id == investing.c.lead_id)
                           .outerjoin(paid, paid.c.lead_id == investing.c.lead_id))
              .where(*conditions).subquery("invest"))
    row = db.session.execute(select(keeping.c.due, keeping.c.met, invest.c.planned, invest.c.paid)
                             .select_from(keeping.join(invest, true()))).one()
    return {"stop": stop, "pct": pct, "due": int(row.due or 0), "met": int(row.met or 0),
            "planned": float(row.planned or 0), "paid": float(row.paid or 0)}


def keeping_rate(ctx: Context, counts: dict | None = None) -> dict:
    counts = counts or tracking_counts(ctx)
    stop, pct = counts["stop"], counts["pct"]
    cohort = {"kept_from": ctx.period.start.isoformat(), "kept_to": stop.isoformat()}
    return _rate("keeping", _("Performance rate"), counts["met"], counts["due"],
                 _("Of the projects with a commitment due from %(start)s to %(until)s — a current planned milestone "
                   "date in those days, or 到资 planned by %(until)s — the share that met every one: each milestone "
                   "reached on or before its planned date, and 到资 up to %(until)s at least %(pct)s%% of the plan "
                   "by then.", start=format_day(ctx.period.start), until=format_day(stop), pct=pct),
                 projects_link(ctx, **cohort), projects_link(ctx, **cohort, kept="met"), met_pct=pct)


def investment_rate(ctx: Context, counts: dict | None = None) -> dict:
    counts = counts or tracking_counts(ctx)
    stop, den, num = counts["stop"], counts["planned"], counts["paid"]
    url = projects_link(ctx, invest_plan="1")
    return figure("investment", _("Investment rate"), rate(num, den),
                  _("到资 made up to %(until)s ÷ 到资 the agreements planned by %(until)s (the fixed-asset investment, "
                    "else the total, evenly from the planned start to the planned completion), over the projects "
                    "whose agreement plans 到资.", until=format_day(stop)),
                  url, unit="%", numerator=yi(num), denominator=yi(den), numerator_url=url,
                  amounts_unit=_("100 million yuan"), numerator_wan=round(num, 2), denominator_wan=round(den, 2))


def rates(ctx: Context) -> dict:
    sql.plain_planning()
    counts = tracking_counts(ctx)
    return {"rates": [signing_rate(ctx), landing_rate(ctx), start_rate(ctx), keeping_rate(ctx, counts),
                      investment_rate(ctx, counts)],
            "until": until(ctx).isoformat()}
