"""Cockpit section 'funnel' (转化率): for each main-line stage from 线索 to 投产, of the leads that
reached it in the period, the share that reached the next main-line stage so far, and the median
days it took. Two SQL queries whatever the number of leads: the counts (GROUP BY stage) and the
medians (window functions: ROW_NUMBER and COUNT over each stage, the middle one or two averaged).

线索 is reached on the lead's creation day (leads.created_on); the other stages on their
stage_reached day. A step whose either end is implied (a stage skipped, dated like the later
one) counts as reached but is left out of the median: its days were not seen."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import and_, case, false, func, literal, select, union_all

from crm.dashboard import sql
from crm.dashboard.figures import Window, leads_link
from crm.dashboard.period import format_day
from crm.dashboard.sections import Context, rate
from crm.extensions import db
from crm.leads.models import Lead, StageReached
from crm.leads.pipeline import MAIN_LINE, Stage, stage_label

# 线索 → … → 投产, each with the next main-line stage (投产's is 上规).
FUNNEL_STAGES = [s.value for s in MAIN_LINE[:MAIN_LINE.index(Stage.PRODUCING) + 1]]
NEXT = {s.value: MAIN_LINE[i + 1].value for i, s in enumerate(MAIN_LINE[:-1])}


def _steps(ctx: Context, window: Window):
    """One row per lead and step begun in the window: stage, reached_on, implied, and the next
    stage's reached_on and implied (NULL when not reached)."""
    scope = ctx.scope.lead_conditions()
    following = StageReached.__table__.alias("following")
    created = (select(literal(Stage.LEAD.value).label("stage"), Lead.created_on.label("reached_on"),
                      false().label("implied"), following.c.reached_on.label("next_on"),
                      following.c.implied.label("next_implied"))
               .select_from(Lead.__table__.outerjoin(following, and_(
                   following.c.lead_id == Lead.id, following.c.stage == NEXT[Stage.LEAD.value])))
               .where(window.holds(Lead.created_on), *scope))
    cohort = StageReached.__table__.alias("cohort")
    next_stage = case({stage: NEXT[stage] for stage in FUNNEL_STAGES[1:]}, value=cohort.c.stage)
    reached = (select(cohort.c.stage, cohort.c.reached_on, cohort.c.implied,
                      following.c.reached_on.label("next_on"), following.c.implied.label("next_implied"))
               .select_from(cohort.join(Lead, Lead.id == cohort.c.lead_id)
                            .outerjoin(following, and_(following.c.lead_id == cohort.c.lead_id,
                                                       following.c.stage == next_stage)))
               .where(cohort.c.stage.in_(FUNNEL_STAGES[1:]), window.holds(cohort.c.reached_on), *scope))
    return union_all(created, reached).subquery("steps")


def funnel(ctx: Context) -> dict:
    window = Window(ctx.period.start, ctx.period.end)
    steps = _steps(ctx, window)
    counts = {row.stage: (int(row.reached), int(row.converted)) for row in db.session.execute(
        select(steps.c.stage, func.count().label("reached"), func.count(steps.c.next_on).label("converted"))
        .group_by(steps.c.stage))}
    # The median of the days each seen step took, per stage, in SQL on both backends.
    days = (select(steps.c.stage, sql.days_between(steps.c.reached_on, steps.c.next_on).label("days"))
            .where(steps.c.next_on.is_not(None), steps.c.implied.is_(False), steps.c.next_implied.is_(False))
            .subquery("days"))
    ranked = select(days.c.stage, days.c.days,
                    func.row_number().over(partition_by=days.c.stage, order_by=days.c.days).label("n"),
                    func.count().over(partition_by=days.c.stage).label("total")).subquery("ranked")
    medians = {row.stage: (float(row.median), int(row.seen)) for row in db.session.execute(
        select(ranked.c.stage, func.avg(ranked.c.days).label("median"), func.max(ranked.c.total).label("seen"))
        .where(ranked.c.n.in_([(ranked.c.total + 1) // 2, (ranked.c.total + 2) // 2]))
        .group_by(ranked.c.stage))}
    result = []
    for stage in FUNNEL_STAGES:
        reached, converted = counts.get(stage, (0, 0))
        median, seen = medians.get(stage, (None, 0))
        result.append({
            "key": stage, "stage": stage, "label": stage_label(stage), "next": NEXT[stage],
            "next_label": stage_label(NEXT[stage]), "reached": reached, "converted": converted,
            "value": rate(converted, reached), "unit": "%",
            "median_days": None if median is None else round(median, 1),
            "median_of": seen,
            "how": _("Of the leads that reached %(stage)s from %(start)s to %(end)s, the share that reached "
                     "%(next)s so far, and the median days it took (skipped stages left out of the median).",
                     stage=stage_label(stage), next=stage_label(NEXT[stage]), start=format_day(window.start),
                     end=format_day(window.end)),
            "url": leads_link(ctx, stage, window),
            "converted_url": leads_link(ctx, stage, window, then=NEXT[stage])})
    return {"steps": result}
