"""SQL pieces the cockpit's figures share, written once for SQLite and PostgreSQL.

- `days_between(a, b)`: whole days from date a to date b (SQLite julianday, PostgreSQL date − date);
- `ratio(a, b)`: a ÷ b as a non-integer division (SQLite REAL, PostgreSQL NUMERIC);
- `investment_plan(day)`: per project, what the agreement planned as 到资 by `day` — the definition
  of crm.tracking.plan.planned_investment_by, in SQL (a derived table, one row per project with a plan);
- `invested_by(day)`: per project, the 到资 actually made up to `day`;
- `keeping(start, stop, pct)`: per project with a commitment due in [start, stop], whether it met
  every one (履约率's cohort and numerator; the projects list filters by the same query).
Several are CTEs (WITH …): SQLAlchemy renders them at the top of whatever statement uses them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Date, Integer, Numeric, and_, case, cast, func, literal, or_, select, text, union
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


def investment_plan(on: date, name: str = "investment_plan"):
    """Per project whose agreement plans 到资 (an amount — fixed-asset investment, else the total —
    and current planned start and completion dates): lead_id, basis and `planned`, the amount due
    by `on` (nothing before the planned start, all of it from the completion, evenly between;
    rounded to 0.01 万元 as crm.tracking.plan does). A CTE: queries may read it twice."""
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
            .cte(name))


def invested_by(on: date, among=None, name: str = "invested_by"):
    """Per project with 到资 up to `on` (inclusive): lead_id, invested (万元); only the projects of
    the `among` CTE (a lead_id column) when given."""
    entry = InvestmentEntry.__table__
    stmt = select(entry.c.lead_id.label("lead_id"), func.sum(entry.c.amount_wan).label("invested")).where(
        entry.c.paid_on <= on)
    if among is not None:
        stmt = stmt.where(entry.c.lead_id.in_(select(among.c.lead_id)))
    return stmt.group_by(entry.c.lead_id).cte(name)


@dataclass
class Commitments:
    """The CTEs of 履约率 and 到资率 for one window, shared when one statement reads both."""
    investing: object   # investment_plan(stop): lead_id, basis, planned
    paid: object        # invested_by(stop) of those projects: lead_id, invested
    kept: object        # a select: lead_id, met — the projects with a commitment due, joined to leads


def commitments(start: date, stop: date, met_pct: int) -> Commitments:
    """Per project with a commitment due in [start, stop]: lead_id, met (1/0), joined to leads (the
    caller adds its conditions on Lead: tracked, scope).

    Due: a current planned milestone date in [start, stop]; or 到资, when the plan by `stop` is
    above zero. Met: every such milestone reached on or before its planned date, and 到资 up to
    `stop` at least `met_pct` % of the plan by `stop`. Grouped derived tables, no per-row subquery."""
    from crm.leads.models import Lead

    plan = MilestonePlan.__table__.alias("due_plan")
    actual = MilestoneActual.__table__.alias("due_actual")
    late = case((or_(actual.c.actual_on.is_(None), actual.c.actual_on > plan.c.planned_on), 1), else_=0)
    milestones = (select(plan.c.lead_id.label("lead_id"), func.max(late).label("missed"))
                  .select_from(plan.outerjoin(actual, and_(actual.c.lead_id == plan.c.lead_id,
                                                           actual.c.milestone == plan.c.milestone)))
                  .where(plan.c.superseded_at.is_(None), plan.c.planned_on >= start, plan.c.planned_on <= stop)
                  .group_by(plan.c.lead_id).cte("due_milestones"))
    investing = investment_plan(stop)
    # Every project's 到资, not only the planning ones': it is only read through outer joins on
    # those projects, and an IN (CTE) made PostgreSQL look the entries up project by project.
    paid = invested_by(stop)
    owing = select(investing.c.lead_id, investing.c.planned).where(investing.c.planned > 0).cte("owing")
    ids = union(select(milestones.c.lead_id), select(owing.c.lead_id)).cte("due_ids")
    met = and_(func.coalesce(milestones.c.missed, 0) == 0,
               or_(owing.c.lead_id.is_(None), func.coalesce(paid.c.invested, 0) * 100 >= owing.c.planned * met_pct))
    kept = (select(ids.c.lead_id.label("lead_id"), case((met, 1), else_=0).label("met"))
            .select_from(ids.join(Lead, Lead.id == ids.c.lead_id)
                         .outerjoin(milestones, milestones.c.lead_id == ids.c.lead_id)
                         .outerjoin(owing, owing.c.lead_id == ids.c.lead_id)
                         .outerjoin(paid, paid.c.lead_id == ids.c.lead_id)))
    return Commitments(investing, paid, kept)


def keeping(start: date, stop: date, met_pct: int):
    """The `kept` select of `commitments` (the projects list filters by it)."""
    return commitments(start, stop, met_pct).kept


def plain_planning() -> None:
    """PostgreSQL only: no JIT compilation for the rest of this transaction. The cockpit's
    aggregates are estimated above jit_above_cost and compiling them took longer than running
    them (seconds against a few hundred ms at 100,000 leads). SQLite: nothing to do."""
    from crm.extensions import db

    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL jit = off"))
