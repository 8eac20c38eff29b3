"""Cockpit section 'funnel' (转化率): for each main-line stage from 线索 to 投产, of the leads that
reached it in the period, the share that reached the next main-line stage so far, and the median
days it took. One SQL query whatever the number of leads, grouped by stage and by the days a
step took: the counts are sums of those groups and the median is read off that histogram (the
middle one or two averaged).

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
from crm.dashboard.stage_dates import NEXT_STAGE
from crm.extensions import db
from crm.leads.models import Lead, StageReached
from crm.leads.pipeline import MAIN_LINE, Stage, stage_label

# 线索 → … → 投产, each with the next main-line stage (投产's is 上规).
FUNNEL_STAGES = [s.value for s in MAIN_LINE[:MAIN_LINE.index(Stage.PRODUCING) + 1]]
NEXT = NEXT_STAGE


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
    # Each stage_reached row carries its next main-line stage's day (next_on): no self-join.
    cohort = StageReached.__table__.alias("cohort")
    source = cohort.join(Lead, Lead.id == cohort.c.lead_id) if ctx.scope.is_filtered else cohort
    reached = (select(cohort.c.stage, cohort.c.reached_on, cohort.c.implied, cohort.c.next_on,
                      cohort.c.next_implied)
               .select_from(source)
               .where(cohort.c.stage.in_(FUNNEL_STAGES[1:]), window.holds(cohort.c.reached_on), *scope))
    return union_all(created, reached).subquery("steps")


def _median(histogram: list[tuple[int, int]]) -> tuple[int, float | None]:
    """(how many, their median) of values given as (value, how many times): the middle one, or the
    mean of the two middle ones."""
    histogram = sorted(histogram)
    seen = sum(n for _days, n in histogram)
    if not seen:
        return 0, None
    wanted = ((seen + 1) // 2, (seen + 2) // 2)  # 1-based positions of the middle value(s)
    found, position = [], 0
    for days, n in histogram:
        first, position = position + 1, position + n
        found += [days for w in wanted if first <= w <= position]
        if len(found) == 2:
            break
    return seen, (found[0] + found[1]) / 2


def funnel(ctx: Context) -> dict:
    sql.plain_planning()
    window = Window(ctx.period.start, ctx.period.end)
    steps = _steps(ctx, window)
    # One pass, grouped by stage and by the days each seen step took: a few hundred rows per stage
    # (one per distinct number of days), never one per lead. The counts are their sums and the
    # median is read off that histogram in Python. (Window functions over every step sorted all
    # of them, on disk at 100,000 leads.)
    seen_days = case((and_(steps.c.next_on.is_not(None), steps.c.implied.is_(False),
                           steps.c.next_implied.is_(False)), sql.days_between(steps.c.reached_on, steps.c.next_on)))
    timed = select(steps.c.stage, seen_days.label("days"), steps.c.next_on).subquery("timed")
    rows = db.session.execute(
        select(timed.c.stage, timed.c.days, func.count().label("reached"),
               func.count(timed.c.next_on).label("converted"))
        .group_by(timed.c.stage, timed.c.days))
    counts: dict[str, list] = {}
    histograms: dict[str, list[tuple[int, int]]] = {}
    for row in rows:  # (stage, days) groups
        total = counts.setdefault(row.stage, [0, 0])
        total[0] += int(row.reached)
        total[1] += int(row.converted)
        if row.days is not None:
            histograms.setdefault(row.stage, []).append((int(row.days), int(row.reached)))
    medians = {stage: _median(histogram) for stage, histogram in histograms.items()}
    result = []
    for stage in FUNNEL_STAGES:
        reached, converted = counts.get(stage, (0, 0))
        seen, median = medians.get(stage, (0, None))
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
