"""Cockpit section 'funnel' (转化率): for each main-line stage from 线索 to 投产, of the leads that
reached it in the period, the share that reached the next main-line stage so far, and the median
days it took. One SQL query whatever the number of leads: window functions over each stage give
the counts and the median (ROW_NUMBER over the seen days, the middle one or two averaged).

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
    source = cohort.join(Lead, Lead.id == cohort.c.lead_id) if ctx.scope.is_filtered else cohort
    reached = (select(cohort.c.stage, cohort.c.reached_on, cohort.c.implied,
                      following.c.reached_on.label("next_on"), following.c.implied.label("next_implied"))
               .select_from(source.outerjoin(following, and_(following.c.lead_id == cohort.c.lead_id,
                                                             following.c.stage == next_stage)))
               .where(cohort.c.stage.in_(FUNNEL_STAGES[1:]), window.holds(cohort.c.reached_on), *scope))
    return union_all(created, reached).subquery("steps")


def funnel(ctx: Context) -> dict:
    sql.plain_planning()
    window = Window(ctx.period.start, ctx.period.end)
    steps = _steps(ctx, window)
    # One pass: per stage, the leads counted, those gone on, and the median of the days each seen
    # step took — ROW_NUMBER over the seen days (sorted), the middle one or the two middle ones.
    seen_days = case((and_(steps.c.next_on.is_not(None), steps.c.implied.is_(False),
                           steps.c.next_implied.is_(False)), sql.days_between(steps.c.reached_on, steps.c.next_on)))
    ranked = select(
        steps.c.stage, seen_days.label("days"),
        func.row_number().over(partition_by=[steps.c.stage, seen_days.is_(None)], order_by=seen_days).label("n"),
        func.count(seen_days).over(partition_by=steps.c.stage).label("seen"),
        func.count().over(partition_by=steps.c.stage).label("reached"),
        func.count(steps.c.next_on).over(partition_by=steps.c.stage).label("converted")).subquery("ranked")
    middle = and_(ranked.c.days.is_not(None), ranked.c.n.in_([(ranked.c.seen + 1) // 2, (ranked.c.seen + 2) // 2]))
    rows = db.session.execute(
        select(ranked.c.stage, func.max(ranked.c.reached).label("reached"),
               func.max(ranked.c.converted).label("converted"), func.max(ranked.c.seen).label("seen"),
               func.avg(case((middle, ranked.c.days))).label("median"))
        .group_by(ranked.c.stage))
    counts = {row.stage: (int(row.reached), int(row.converted), int(row.seen),
                          None if row.median is None else float(row.median)) for row in rows}
    result = []
    for stage in FUNNEL_STAGES:
        reached, converted, seen, median = counts.get(stage, (0, 0, 0, None))
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
