"""Reading tracked projects: the list with its filters (page, API and Excel export share it), the
milestone timeline (planned, replans, actual, days late or early) and 到资 against the plan."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import selectinload

from crm import clock
from crm.extensions import db
from crm.leads.models import Lead
from crm.leads.pipeline import MAIN_LINE, Stage, rank
from crm.leads.queries import visible_leads_filter
from crm.lights.models import Colour, ProjectLight
from crm.problems.models import Problem, ProblemStatus
from crm.request_guard import DB_INT_MAX
from crm.tracking import services
from crm.tracking.models import (MILESTONE_ORDER, Agreement, InvestmentEntry, MilestoneActual, MilestonePlan,
                                 milestone_label)
from crm.tracking.plan import investment_basis, planned_investment_by

TRACKED_STAGES = [s.value for s in MAIN_LINE if rank(s) >= rank(Stage.ADMITTED)]
OPEN_PROBLEM = (ProblemStatus.OPEN.value, ProblemStatus.SOLVING.value)
PER_PAGE = 50


def tracked_condition():
    return or_(Lead.stage.in_(TRACKED_STAGES), and_(Lead.stage == Stage.LOST.value, Lead.signed_on.is_not(None)))


def overdue_condition(today: date):
    """A current plan date passed without the milestone's actual. (The inner test names the
    plan's lead, not Lead: a second-level subquery does not correlate to the outer leads, and
    `leads` would join in uncorrelated — any project's actual would then hide every overdue plan.)"""
    return exists().where(
        MilestonePlan.lead_id == Lead.id, MilestonePlan.superseded_at.is_(None), MilestonePlan.planned_on < today,
        ~exists().where(MilestoneActual.lead_id == MilestonePlan.lead_id,
                        MilestoneActual.milestone == MilestonePlan.milestone))


def open_problems_condition():
    return exists().where(Problem.lead_id == Lead.id, Problem.status.in_(OPEN_PROBLEM))


def _int(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError
    if not 0 < number <= DB_INT_MAX:
        raise ValueError
    return number


@dataclass
class ProjectFilters:
    colour: str = ""
    chain_id: int | None = None
    unit_id: int | None = None
    stage: str = ""
    overdue: bool = False
    open_problems: bool = False
    # The records behind a cockpit rate (crm.dashboard.rates): a current planned date of `planned`
    # in [planned_from, planned_to]; `reached` (a stage) in [reached_from, reached_to]; a commitment
    # due in [kept_from, kept_to] (kept=met: and every one met); an agreement that plans 到资.
    planned: str = ""
    planned_from: date | None = None
    planned_to: date | None = None
    reached: str = ""
    reached_from: date | None = None
    reached_to: date | None = None
    kept_from: date | None = None
    kept_to: date | None = None
    kept: str = ""
    invest_plan: bool = False
    page: int = 1
    per_page: int = PER_PAGE
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args) -> "ProjectFilters":
        f = cls()
        colour = args.get("colour") or ""
        if colour and colour not in {c.value for c in Colour}:
            f.errors.append("colour")
        else:
            f.colour = colour
        stage = args.get("stage") or ""
        if stage and stage not in TRACKED_STAGES + [Stage.LOST.value]:
            f.errors.append("stage")
        else:
            f.stage = stage
        for name in ("chain_id", "unit_id"):
            try:
                setattr(f, name, _int(args.get(name)))
            except ValueError:
                f.errors.append(name)
        planned = args.get("planned") or ""
        if planned and planned not in {m.value for m in MILESTONE_ORDER}:
            f.errors.append("planned")
        else:
            f.planned = planned
        reached = args.get("reached") or ""
        if reached and reached not in {s.value for s in Stage}:
            f.errors.append("reached")
        else:
            f.reached = reached
        kept = args.get("kept") or ""
        if kept and kept != "met":
            f.errors.append("kept")
        else:
            f.kept = kept
        for name in ("planned_from", "planned_to", "reached_from", "reached_to", "kept_from", "kept_to"):
            value = (args.get(name) or "").strip()
            if value:
                try:
                    setattr(f, name, date.fromisoformat(value))
                except ValueError:
                    f.errors.append(name)
        if f.kept and (f.kept_from is None or f.kept_to is None):
            f.errors.append("kept")
        for name in ("overdue", "open_problems", "invest_plan"):
            value = (args.get(name) or "").lower()
            if value not in ("", "0", "1", "true", "false", "on"):
                f.errors.append(name)
            setattr(f, name, value in ("1", "true", "on"))
        try:
            f.page = _int(args.get("page")) or 1
        except ValueError:
            f.errors.append("page")
        try:
            f.per_page = min(_int(args.get("per_page")) or PER_PAGE, 200)
        except ValueError:
            f.errors.append("per_page")
        return f

    def args(self) -> dict:
        """The filters as query arguments (for the export link and the pager)."""
        out = {"colour": self.colour, "chain_id": self.chain_id, "unit_id": self.unit_id, "stage": self.stage,
               "overdue": "1" if self.overdue else "", "open_problems": "1" if self.open_problems else ""}
        out.update(self.cockpit_args())
        return {k: v for k, v in out.items() if v not in (None, "")}

    def cockpit_args(self) -> dict:
        """The filters a cockpit rate links with (kept through the list's own form as hidden fields)."""
        out = {"planned": self.planned, "reached": self.reached, "kept": self.kept,
               "invest_plan": "1" if self.invest_plan else ""}
        for name in ("planned_from", "planned_to", "reached_from", "reached_to", "kept_from", "kept_to"):
            value = getattr(self, name)
            out[name] = value.isoformat() if value else None
        return {k: v for k, v in out.items() if v not in (None, "")}

    def cockpit_notes(self) -> list[str]:
        """The cockpit's filters in words, shown above the list they narrowed."""
        from flask_babel import gettext as _

        from crm.leads.pipeline import stage_label

        def span(start, end):
            return _("from %(start)s to %(end)s", start=start.isoformat() if start else "…",
                     end=end.isoformat() if end else "…")

        notes = []
        if self.planned or self.planned_from or self.planned_to:
            notes.append(_("Current planned %(milestone)s %(span)s",
                           milestone=milestone_label(self.planned) if self.planned else _("milestone"),
                           span=span(self.planned_from, self.planned_to)))
        if self.reached:
            notes.append(_("Reached %(stage)s %(span)s", stage=stage_label(self.reached),
                           span=span(self.reached_from, self.reached_to)))
        if self.kept_from and self.kept_to:
            notes.append(_("Met every commitment due %(span)s", span=span(self.kept_from, self.kept_to))
                         if self.kept == "met" else
                         _("A commitment due %(span)s", span=span(self.kept_from, self.kept_to)))
        if self.invest_plan:
            notes.append(_("The agreement plans 到资"))
        return notes


def project_query(user, filters: ProjectFilters):
    stmt = select(Lead).where(tracked_condition())
    visible = visible_leads_filter(user)
    if visible is not None:
        stmt = stmt.where(visible)
    if filters.colour:
        stmt = stmt.where(exists().where(ProjectLight.lead_id == Lead.id, ProjectLight.colour == filters.colour))
    if filters.chain_id:
        stmt = stmt.where(Lead.chain_id == filters.chain_id)
    if filters.unit_id:
        stmt = stmt.where(Lead.owner_unit_id == filters.unit_id)
    if filters.stage:
        stmt = stmt.where(Lead.stage == filters.stage)
    if filters.overdue:
        stmt = stmt.where(overdue_condition(clock.today()))
    if filters.open_problems:
        stmt = stmt.where(open_problems_condition())
    return stmt.where(*cockpit_conditions(filters))


def cockpit_conditions(filters: ProjectFilters) -> list:
    """The conditions of the cockpit's filters: the same SQL its rates count with."""
    from crm.dashboard import sql
    from crm.leads.models import StageReached
    from crm.tracking.settings import peek_settings

    conds = []
    if filters.planned or filters.planned_from or filters.planned_to:
        plan = [MilestonePlan.lead_id == Lead.id, MilestonePlan.superseded_at.is_(None)]
        if filters.planned:
            plan.append(MilestonePlan.milestone == filters.planned)
        if filters.planned_from:
            plan.append(MilestonePlan.planned_on >= filters.planned_from)
        if filters.planned_to:
            plan.append(MilestonePlan.planned_on <= filters.planned_to)
        conds.append(exists().where(*plan))
    if filters.reached:
        reached = [StageReached.lead_id == Lead.id, StageReached.stage == filters.reached]
        if filters.reached_from:
            reached.append(StageReached.reached_on >= filters.reached_from)
        if filters.reached_to:
            reached.append(StageReached.reached_on <= filters.reached_to)
        conds.append(exists().where(*reached))
    if filters.kept_from and filters.kept_to:
        kept = sql.keeping(filters.kept_from, filters.kept_to, peek_settings().investment_met_pct).subquery("kept")
        ids = select(kept.c.lead_id)
        if filters.kept == "met":
            ids = ids.where(kept.c.met == 1)
        conds.append(Lead.id.in_(ids))
    if filters.invest_plan:
        planned = sql.investment_plan(clock.today())
        conds.append(Lead.id.in_(select(planned.c.lead_id)))
    return conds


@dataclass
class ProjectRow:
    lead: Lead
    colour: str | None
    contracted_wan: Decimal | None
    invested_wan: Decimal
    overdue: list[str]
    open_problems: int

    @property
    def overdue_text(self) -> str:
        return "、".join(milestone_label(m) for m in self.overdue)


def project_rows(leads: list[Lead]) -> list[ProjectRow]:
    """The list's columns for these leads, in a few grouped queries."""
    ids = [lead.id for lead in leads]
    if not ids:
        return []
    today = clock.today()
    colours = dict(db.session.execute(select(ProjectLight.lead_id, ProjectLight.colour)
                                      .where(ProjectLight.lead_id.in_(ids))).all())
    contracted = dict(db.session.execute(select(Agreement.lead_id, Agreement.total_investment_wan)
                                         .where(Agreement.lead_id.in_(ids))).all())
    invested = dict(db.session.execute(select(InvestmentEntry.lead_id, func.sum(InvestmentEntry.amount_wan))
                                       .where(InvestmentEntry.lead_id.in_(ids))
                                       .group_by(InvestmentEntry.lead_id)).all())
    problems = dict(db.session.execute(select(Problem.lead_id, func.count(Problem.id))
                                       .where(Problem.lead_id.in_(ids), Problem.status.in_(OPEN_PROBLEM))
                                       .group_by(Problem.lead_id)).all())
    reached = {(lid, m) for lid, m in db.session.execute(
        select(MilestoneActual.lead_id, MilestoneActual.milestone).where(MilestoneActual.lead_id.in_(ids)))}
    overdue: dict[int, list[str]] = {}
    order = {m.value: i for i, m in enumerate(MILESTONE_ORDER)}
    for lid, milestone, planned_on in db.session.execute(
            select(MilestonePlan.lead_id, MilestonePlan.milestone, MilestonePlan.planned_on)
            .where(MilestonePlan.lead_id.in_(ids), MilestonePlan.superseded_at.is_(None))):
        if planned_on < today and (lid, milestone) not in reached:
            overdue.setdefault(lid, []).append(milestone)
    for values in overdue.values():
        values.sort(key=lambda m: order.get(m, 99))
    return [ProjectRow(lead, colours.get(lead.id), contracted.get(lead.id),
                       Decimal(invested.get(lead.id) or 0).quantize(Decimal("0.01")),
                       overdue.get(lead.id, []), problems.get(lead.id, 0)) for lead in leads]


def project_page(user, filters: ProjectFilters) -> tuple[list[ProjectRow], int]:
    stmt = project_query(user, filters)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    leads = list(db.session.scalars(stmt.order_by(Lead.id.desc()).options(selectinload(Lead.owner_unit))
                                    .offset((filters.page - 1) * filters.per_page).limit(filters.per_page)))
    return project_rows(leads), total


def all_project_rows(user, filters: ProjectFilters, chunk: int = 500):
    """Every matching project (the export), in chunks."""
    offset = 0
    stmt = project_query(user, filters).order_by(Lead.id.desc()).options(
        selectinload(Lead.owner_unit), selectinload(Lead.chain))
    while True:
        leads = list(db.session.scalars(stmt.offset(offset).limit(chunk)))
        if not leads:
            return
        yield from project_rows(leads)
        offset += chunk


# --- one project ---------------------------------------------------------------------------------

@dataclass
class TimelineLine:
    milestone: str
    label: str
    plans: list[MilestonePlan]          # oldest first; the last is current
    actual: MilestoneActual | None
    days_late: int | None               # actual (or today, while still open) minus the current plan
    overdue: bool

    @property
    def current(self) -> MilestonePlan | None:
        return self.plans[-1] if self.plans else None

    @property
    def first(self) -> MilestonePlan | None:
        return self.plans[0] if self.plans else None


def timeline(lead_id: int) -> list[TimelineLine]:
    today = clock.today()
    plans: dict[str, list[MilestonePlan]] = {}
    for plan in services.all_plans(lead_id):
        plans.setdefault(plan.milestone, []).append(plan)
    for rows in plans.values():  # superseded ones first, by when they were made; the current last
        rows.sort(key=lambda p: (p.superseded_at is None, p.created_at, p.id))
    recorded = services.actuals(lead_id)
    lines = []
    for milestone in MILESTONE_ORDER:
        rows = plans.get(milestone.value, [])
        actual = recorded.get(milestone.value)
        current = rows[-1] if rows else None
        days = None
        overdue = False
        if current is not None and actual is not None:
            days = (actual.actual_on - current.planned_on).days
        elif current is not None and current.planned_on < today:
            days = (today - current.planned_on).days
            overdue = True
        lines.append(TimelineLine(milestone.value, milestone_label(milestone), rows, actual, days, overdue))
    return lines


@dataclass
class InvestmentSummary:
    entries: list[InvestmentEntry]
    total: Decimal
    contracted: Decimal | None
    basis: Decimal | None
    planned_by_today: Decimal | None

    @property
    def share_of_plan(self) -> Decimal | None:
        if not self.planned_by_today:
            return None
        return (self.total * 100 / self.planned_by_today).quantize(Decimal("0.1"))


def investment_summary(lead_id: int) -> InvestmentSummary:
    agreement = services.agreement_of(lead_id)
    current = services.current_plans(lead_id)
    start, complete = current.get("start"), current.get("complete")
    basis = investment_basis(agreement)
    planned = planned_investment_by(clock.today(), basis, start.planned_on if start else None,
                                    complete.planned_on if complete else None)
    entries = services.investments(lead_id)
    total = sum((e.amount_wan for e in entries), Decimal(0)).quantize(Decimal("0.01"))
    return InvestmentSummary(entries, total, agreement.total_investment_wan if agreement else None, basis, planned)
