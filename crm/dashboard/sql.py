"""SQL pieces the cockpit's figures share, written once for SQLite and PostgreSQL.

- `days_between(a, b)`: whole days from date a to date b (SQLite julianday, PostgreSQL date − date);
- `ratio(a, b)`: a ÷ b as a non-integer division (SQLite REAL, PostgreSQL NUMERIC);
- `investment_plan(day)`: per project, what the agreement planned as 到资 by `day` — the definition
  of crm.tracking.plan.planned_investment_by, in SQL (a derived table, one row per project with a plan);
- `invested_by(day)`: per project, the 到资 actually made up to `day`;
- `keeping(start, stop, pct)`: per project with a commitment due in [start, stop], whether it met
  every one (履约率's cohort and numerator; the projects list filters by the same query).
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer, Numeric, and_, case, cast, exists, func, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from crm.tracking.models import Agreement, InvestmentEntry, MilestoneActual, MilestonePlan


class days_between(FunctionElement):  # noqa: N801  (reads as a SQL function)
    """Whole days from the first date to the second (negative when the second is earlier)."""
    type = Integer()
    inherit_cache = True
    name = "days_between"


@compiles(days_between)
def _days_default(element, compiler, **kw):
    first, second = list(element.clauses)
    return "(%s - %s)" % (compiler.process(cast(second, Date), **kw), compiler.process(cast(first, Date), **kw))


@compiles(days_between, "sqlite")
def _days_sqlite(element, compiler, **kw):
    first, second = list(element.clauses)
    return "CAST(ROUND(julianday(%s) - julianday(%s)) AS INTEGER)" % (
        compiler.process(second, **kw), compiler.process(first, **kw))


class ratio(FunctionElement):  # noqa: N801
    """a ÷ b, never an integer division (SQLite divides two integers as integers)."""
    type = Numeric()
    inherit_cache = True
    name = "ratio"


@compiles(ratio)
def _ratio_default(element, compiler, **kw):
    num, den = list(element.clauses)
    return "(CAST(%s AS NUMERIC) / %s)" % (compiler.process(num, **kw), compiler.process(den, **kw))


@compiles(ratio, "sqlite")
def _ratio_sqlite(element, compiler, **kw):
    num, den = list(element.clauses)
    return "(CAST(%s AS REAL) / %s)" % (compiler.process(num, **kw), compiler.process(den, **kw))


def day(value: date) -> ColumnElement:
    """A date as a typed bound value (days_between casts it for PostgreSQL; SQLite compares the
    ISO text, so no CAST there: CAST(... AS DATE) would make it a number)."""
    return literal(value, Date)


def current_plan(milestone: str):
    """The current planned dates of one milestone (aliased: a query may join several)."""
    plan = MilestonePlan.__table__.alias(f"plan_{milestone}")
    return plan, and_(plan.c.milestone == milestone, plan.c.superseded_at.is_(None))


def investment_plan(on: date):
    """Per project whose agreement plans 到资 (an amount — fixed-asset investment, else the total —
    and current planned start and completion dates): lead_id, basis and `planned`, the amount due
    by `on` (nothing before the planned start, all of it from the completion, evenly between;
    rounded to 0.01 万元 as crm.tracking.plan does)."""
    agreement = Agreement.__table__
    start, start_current = current_plan("start")
    complete, complete_current = current_plan("complete")
    basis = func.coalesce(agreement.c.fixed_asset_investment_wan, agreement.c.total_investment_wan)
    when = day(on)
    elapsed = days_between(start.c.planned_on, when)
    length = days_between(start.c.planned_on, complete.c.planned_on)
    planned = case(
        (when < start.c.planned_on, literal(0)),
        (or_(when >= complete.c.planned_on, complete.c.planned_on <= start.c.planned_on), basis),
        else_=func.round(ratio(basis * elapsed, length), 2))
    return (select(agreement.c.lead_id.label("lead_id"), basis.label("basis"), planned.label("planned"))
            .select_from(agreement
                         .join(start, and_(start.c.lead_id == agreement.c.lead_id, start_current))
                         .join(complete, and_(complete.c.lead_id == agreement.c.lead_id, complete_current)))
            .where(basis.is_not(None))
            .subquery("investment_plan"))


def invested_by(on: date):
    """Per project with 到资 up to `on` (inclusive): lead_id, invested (万元)."""
    entry = InvestmentEntry.__table__
    return (select(entry.c.lead_id.label("lead_id"), func.sum(entry.c.amount_wan).label("invested"))
            .where(entry.c.paid_on <= on).group_by(entry.c.lead_id).subquery("invested_by"))


def keeping(start: date, stop: date, met_pct: int):
    """Per project with a commitment due in [start, stop]: lead_id, met (1/0).

    Due: a current planned milestone date in [start, stop]; or 到资, when the plan by `stop` is
    above zero. Met: every such milestone reached on or before its planned date, and 到资 up to
    `stop` at least `met_pct` % of the plan by `stop`."""
    from crm.leads.models import Lead

    plan = MilestonePlan.__table__.alias("due_plan")
    actual = MilestoneActual.__table__.alias("due_actual")
    in_window = and_(plan.c.lead_id == Lead.id, plan.c.superseded_at.is_(None),
                     plan.c.planned_on >= start, plan.c.planned_on <= stop)
    milestone_due = exists().where(in_window)
    missed = exists().where(in_window, ~exists().where(
        actual.c.lead_id == plan.c.lead_id, actual.c.milestone == plan.c.milestone,
        actual.c.actual_on <= plan.c.planned_on))
    investing = investment_plan(stop)
    paid = invested_by(stop)
    invest_due = func.coalesce(investing.c.planned, 0) > 0
    invest_met = func.coalesce(paid.c.invested, 0) * 100 >= investing.c.planned * met_pct
    met = and_(~missed, or_(~invest_due, invest_met))
    return (select(Lead.id.label("lead_id"), case((met, 1), else_=0).label("met"))
            .select_from(Lead.__table__
                         .outerjoin(investing, investing.c.lead_id == Lead.id)
                         .outerjoin(paid, paid.c.lead_id == Lead.id))
            .where(or_(milestone_due, invest_due)))
