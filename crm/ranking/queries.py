"""月晒季考: the units ranked for a month, quarter, year or two dates.

Figures per unit (each counted in SQL, GROUP BY unit, current and previous period in one pass):
- signings, starts, completions, productions, 上规: leads owned by the unit that reached the stage
  in the period (the `stage_reached` table; a stage implied by a later one counts, as everywhere);
- signed amount (亿元): of those signings, the agreement's total investment, else the lead's
  planned investment;
- 23-step points: StepRecord.points by StepRecord.unit_id (frozen with the unit that owned the
  project that day), reached in the period;
- screening on-time rate: of the unit's CaseUnit rows for cases submitted in the period (not
  withdrawn), answered on time ÷ answered or due (late, or missing when the case closed) — the
  definition of crm.screening.queries.timeliness; None ("—") when it was asked nothing due;
- letters received: letters (三函) addressed to the unit, issued in the period;
- problems solved: problems the unit is responsible for, marked solved in the period.

Which units: every active unit (towns, investment groups, parks, departments: any of them can
score), also with nothing in the period (zeros, at the bottom); a deactivated unit only for a
period in which it has a figure. Places: equal values share a place (1, 1, 3); a unit with no
rate (None) sorts last and has no place on that rate. The change of places is against the
previous period of the same kind (Period.previous), ranked by the same sort.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select

from crm import clock
from crm.auth.models import UNIT_KIND_LABELS, Unit
from crm.auth.roles import Permission
from crm.dashboard import period as periods
from crm.dashboard.period import Period
from crm.dashboard.sections import rate
from crm.extensions import db
from crm.leads.models import Lead, StageReached
from crm.leads.pipeline import Stage
from crm.letters.models import Letter
from crm.problems.models import Problem, ProblemStatus
from crm.screening.models import CaseStatus, CaseUnit, ScreeningCase
from crm.tracking.models import Agreement, StepRecord

WAN_PER_YI = Decimal(10000)


@dataclass(frozen=True)
class Metric:
    key: str
    label: object          # the column's name (lazy: the reader's language)
    header: str            # the column's Chinese header in the Excel file
    kind: str              # count | amount | points | rate
    how: object            # one line: how it is counted
    stage: str | None = None  # the stage counted (links to the leads list)
    unit: str = ""         # "亿元" or "%"


METRICS: tuple[Metric, ...] = (
    Metric("signings", _l("Signings"), "签约数", "count",
           _l("Leads owned by the unit that were signed in the period."), Stage.SIGNED.value),
    Metric("signed_yi", _l("Signed investment"), "签约额（亿元）", "amount",
           _l("Total investment of those signings: the agreement's, else the lead's planned investment, "
              "in 100 million yuan."), Stage.SIGNED.value, "亿元"),
    Metric("starts", _l("Starts"), "开工数", "count",
           _l("Leads owned by the unit that started construction in the period."), Stage.STARTED.value),
    Metric("completions", _l("Completions"), "竣工数", "count",
           _l("Leads owned by the unit that were completed in the period."), Stage.COMPLETED.value),
    Metric("productions", _l("Productions"), "投产数", "count",
           _l("Leads owned by the unit that went into production in the period."), Stage.PRODUCING.value),
    Metric("above_scale", _l("Above designated size"), "上规数", "count",
           _l("Leads owned by the unit that reached designated size (上规) in the period."),
           Stage.ABOVE_SCALE.value),
    Metric("points", _l("Step points"), "23步积分", "points",
           _l("Points of the 23 steps reached in the period, counted for the unit that owned the project "
              "on the day each step was reached.")),
    Metric("on_time_rate", _l("Screening on time"), "初审按时率", "rate",
           _l("Member units: of their opinions asked on cases submitted in the period, the share given on "
              "time, of those given or due (late, or missing when the case closed); — when none was due."),
           unit="%"),
    Metric("letters", _l("Letters received"), "收函数", "count",
           _l("Reminder, assignment and supervision letters addressed to the unit, issued in the period.")),
    Metric("problems_solved", _l("Problems solved"), "解决问题数", "count",
           _l("Problems the unit is responsible for, marked solved in the period.")),
)
METRIC_BY_KEY = {m.key: m for m in METRICS}
SORT_KEYS = tuple(METRIC_BY_KEY)
DEFAULT_SORT = "points"
DIRECTIONS = {"desc": True, "asc": False}
_STAGE_KEYS = {m.stage: m.key for m in METRICS if m.stage and m.kind == "count"}
_COUNTED = ("signings", "starts", "completions", "productions", "above_scale", "points", "letters",
            "problems_solved")


class RankingError(ValueError):
    """The ranking asked for cannot be made; str() is the user's message (answered with 400)."""


@dataclass
class RankRow:
    unit_id: int
    unit_name: str
    place: int | None = 0                # None: no value to rank on (a rate with nothing due)
    previous_place: int | None = None    # in the previous period, by the same sort
    figures: dict = field(default_factory=dict)  # metric key -> value (see METRICS)
    unit_kind: str = ""
    detail: dict = field(default_factory=dict)   # signed_wan, on_time, answered_or_due

    @property
    def change(self) -> int | None:
        """Places up (+) or down (−) against the previous period; None: not ranked then."""
        if self.previous_place is None or self.place is None:
            return None
        return self.previous_place - self.place

    @property
    def unit_kind_label(self) -> str:
        return str(UNIT_KIND_LABELS.get(self.unit_kind, self.unit_kind))

    @property
    def has_figures(self) -> bool:
        """Anything counted in the period (else the unit is listed with zeros, at the bottom)."""
        return any(self.figures.get(k) for k in _COUNTED) or bool(self.detail.get("answered_or_due"))


# --- reading the request --------------------------------------------------------------------------
def parse_sort(args) -> tuple[str, bool]:
    """`?sort=<metric>&dir=desc|asc` → (key, descending). Raises RankingError."""
    sort = (args.get("sort") or "").strip() or DEFAULT_SORT
    if sort not in METRIC_BY_KEY:
        raise RankingError(_("The ranking cannot be sorted by “%(key)s”: choose one of its columns.", key=sort[:40]))
    direction = (args.get("dir") or "").strip() or "desc"
    if direction not in DIRECTIONS:
        raise RankingError(_("The order must be “desc” (most first) or “asc” (fewest first)."))
    return sort, DIRECTIONS[direction]


def default_period() -> Period:
    """The last full month (月晒: last month's results)."""
    return Period.last_month()


@dataclass
class Request:
    period: Period | None = None
    sort: str = DEFAULT_SORT
    descending: bool = True
    rows: list[RankRow] = field(default_factory=list)
    error: str | None = None
    status: int = 200

    @property
    def direction(self) -> str:
        return "desc" if self.descending else "asc"

    @property
    def previous(self) -> Period | None:
        return self.period.previous() if self.period else None

    def args(self, **overrides) -> dict:
        """The request's period and sort as query arguments (links, the export)."""
        out = {**(self.period.args() if self.period else {}), "sort": self.sort, "dir": self.direction}
        out.update(overrides)
        return out

    def form_args(self) -> dict:
        """What the period filter shows: the period counted, as strings."""
        return {k: str(v) for k, v in (self.period.args() if self.period else {}).items()}


def read(args) -> Request:
    """The ranking asked for by `args`, or the message and status that refuse it."""
    try:
        period = periods.parse(args, default=default_period())
        sort, descending = parse_sort(args)
    except (periods.PeriodError, RankingError) as exc:
        return Request(error=str(exc), status=400)
    return Request(period, sort, descending, ranking(period, sort, descending))


# --- the ranking ----------------------------------------------------------------------------------
def ranking(period: Period, sort: str = "points", descending: bool = True) -> list[RankRow]:
    """Every active unit, and any other unit with a figure in the period, ranked by `sort`
    (most first when `descending`), with its place in the previous period by the same sort."""
    if sort not in METRIC_BY_KEY:
        raise RankingError(_("The ranking cannot be sorted by “%(key)s”: choose one of its columns.", key=sort))
    previous = period.previous()
    raw = _collect(previous, period)
    units = list(db.session.execute(select(Unit.id, Unit.name, Unit.kind, Unit.active)))
    current = _rank(_rows(units, raw[1]), sort, descending)
    before = {r.unit_id: r.place for r in _rank(_rows(units, raw[0]), sort, descending)}
    for row in current:
        row.previous_place = before.get(row.unit_id)
    return current


def _empty() -> dict:
    return {"signings": 0, "signed_wan": Decimal(0), "starts": 0, "completions": 0, "productions": 0,
            "above_scale": 0, "points": 0, "on_time": 0, "answered_or_due": 0, "letters": 0,
            "problems_solved": 0}


def _has_figures(raw: dict) -> bool:
    return any(raw[k] for k in _COUNTED) or bool(raw["answered_or_due"])


def _local_start(day: date) -> datetime:
    """The first moment of a county-local day, as an aware UTC datetime."""
    return datetime.combine(day, time(0), tzinfo=clock.local_zone()).astimezone(timezone.utc)


def _collect(previous: Period, period: Period) -> dict[int, dict[int, dict]]:
    """{1: this period, 0: the previous one} → unit id → raw figures. Five grouped queries; the
    previous period ends the day before this one starts, so one range covers both."""
    start, split, end = previous.start, period.start, period.end
    out: dict[int, dict[int, dict]] = {0: {}, 1: {}}

    def bucket(which: int, unit_id: int) -> dict:
        return out[which].setdefault(unit_id, _empty())

    def both(condition, value=1):
        """(sum in this period, sum in the previous one) of `value`."""
        return (func.sum(case((condition, value), else_=0)), func.sum(case((condition, 0), else_=value)))

    # Stages reached (one row per unit and stage), with the signed amount.
    amount = func.coalesce(Agreement.total_investment_wan, Lead.planned_investment_wan, 0)
    now_ = StageReached.reached_on >= split
    rows = db.session.execute(
        select(Lead.owner_unit_id, StageReached.stage, *both(now_), *both(now_, amount))
        .select_from(StageReached).join(Lead, Lead.id == StageReached.lead_id)
        .outerjoin(Agreement, Agreement.lead_id == Lead.id)
        .where(StageReached.stage.in_(list(_STAGE_KEYS)), StageReached.reached_on >= start,
               StageReached.reached_on <= end)
        .group_by(Lead.owner_unit_id, StageReached.stage))
    for unit_id, stage, n_now, n_before, wan_now, wan_before in rows:
        key = _STAGE_KEYS[stage]
        for which, n, wan in ((1, n_now, wan_now), (0, n_before, wan_before)):
            if n:
                figures = bucket(which, unit_id)
                figures[key] = int(n)
                if stage == Stage.SIGNED.value:
                    figures["signed_wan"] = Decimal(wan or 0)

    # 23-step points.
    now_ = StepRecord.reached_on >= split
    for unit_id, p_now, p_before in db.session.execute(
            select(StepRecord.unit_id, *both(now_, StepRecord.points))
            .where(StepRecord.reached_on >= start, StepRecord.reached_on <= end).group_by(StepRecord.unit_id)):
        for which, points in ((1, p_now), (0, p_before)):
            if points:
                bucket(which, unit_id)["points"] = int(points)

    # Screening on time (crm.screening.queries.timeliness, counted in SQL).
    answered = CaseUnit.answered_at.is_not(None)
    on_time = and_(answered, CaseUnit.late.is_(False))
    due = or_(answered, CaseUnit.missing.is_(True), ScreeningCase.status == CaseStatus.CLOSED.value)
    now_ = ScreeningCase.submitted_at >= _local_start(split)
    for unit_id, ok_now, due_now, ok_before, due_before in db.session.execute(
            select(CaseUnit.unit_id,
                   func.sum(case((and_(now_, on_time), 1), else_=0)), func.sum(case((and_(now_, due), 1), else_=0)),
                   func.sum(case((and_(~now_, on_time), 1), else_=0)), func.sum(case((and_(~now_, due), 1), else_=0)))
            .join(ScreeningCase, ScreeningCase.id == CaseUnit.case_id)
            .where(ScreeningCase.status != CaseStatus.WITHDRAWN.value,
                   ScreeningCase.submitted_at >= _local_start(start),
                   ScreeningCase.submitted_at < _local_start(end + timedelta(days=1)))
            .group_by(CaseUnit.unit_id)):
        for which, ok, asked in ((1, ok_now, due_now), (0, ok_before, due_before)):
            if asked:
                figures = bucket(which, unit_id)
                figures["on_time"], figures["answered_or_due"] = int(ok or 0), int(asked)

    # Letters received.
    now_ = Letter.issued_on >= split
    for unit_id, n_now, n_before in db.session.execute(
            select(Letter.unit_id, *both(now_)).where(Letter.issued_on >= start, Letter.issued_on <= end)
            .group_by(Letter.unit_id)):
        for which, n in ((1, n_now), (0, n_before)):
            if n:
                bucket(which, unit_id)["letters"] = int(n)

    # Problems solved.
    now_ = Problem.solved_on >= split
    for unit_id, n_now, n_before in db.session.execute(
            select(Problem.responsible_unit_id, *both(now_))
            .where(Problem.status == ProblemStatus.SOLVED.value, Problem.solved_on >= start, Problem.solved_on <= end)
            .group_by(Problem.responsible_unit_id)):
        for which, n in ((1, n_now), (0, n_before)):
            if n:
                bucket(which, unit_id)["problems_solved"] = int(n)
    return out


def _yi(wan: Decimal) -> float:
    """万元 → 亿元, two decimals rounded half up (四舍五入)."""
    return float((Decimal(wan) / WAN_PER_YI).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _rows(units, raw: dict[int, dict]) -> list[RankRow]:
    rows = []
    for unit_id, name, kind, active in units:
        figures = raw.get(unit_id)
        if figures is None:
            if not active:
                continue
            figures = _empty()
        elif not active and not _has_figures(figures):
            continue
        rows.append(RankRow(
            unit_id=unit_id, unit_name=name, unit_kind=kind,
            figures={"signings": figures["signings"], "signed_yi": _yi(figures["signed_wan"]),
                     "starts": figures["starts"], "completions": figures["completions"],
                     "productions": figures["productions"], "above_scale": figures["above_scale"],
                     "points": figures["points"], "on_time_rate": rate(figures["on_time"], figures["answered_or_due"]),
                     "letters": figures["letters"], "problems_solved": figures["problems_solved"]},
            detail={"signed_wan": float(figures["signed_wan"]), "on_time": figures["on_time"],
                    "answered_or_due": figures["answered_or_due"]}))
    return rows


def _rank(rows: list[RankRow], sort: str, descending: bool) -> list[RankRow]:
    """Ordered by `sort` (ties by unit name), places shared by equal values (1, 1, 3); units
    without a value (None) last, without a place."""
    rows = sorted(rows, key=lambda r: (r.unit_name, r.unit_id))
    valued = sorted((r for r in rows if r.figures[sort] is not None), key=lambda r: r.figures[sort],
                    reverse=descending)
    unvalued = [r for r in rows if r.figures[sort] is None]
    last = object()
    for index, row in enumerate(valued, start=1):
        if row.figures[sort] != last:
            place, last = index, row.figures[sort]
        row.place = place
    for row in unvalued:
        row.place = None
    return valued + unvalued


# --- the records behind a figure ---------------------------------------------------------------------
def record_links(row: RankRow, period: Period, user) -> dict[str, str]:
    """Metric key → the list of the records behind the row's figure, where a list exists and the
    user may read that unit's records (team leads: their own unit's row)."""
    if not (user.can(Permission.LEADS_READ_ALL) or (user.can(Permission.LEADS_READ_UNIT)
                                                     and user.unit_id == row.unit_id)):
        return {}
    links = {}
    for metric in METRICS:
        if metric.stage:
            links[metric.key] = url_for("leads.index", unit_id=row.unit_id, reached=metric.stage,
                                        **period.range_args())
    if period.kind == "month" and user.can(Permission.LEADS_READ_ALL, Permission.LEADS_ASSIGN):
        links["points"] = url_for("tracking.points", month=f"{period.start:%Y-%m}")
    links["problems_solved"] = url_for("problems.index", unit_id=row.unit_id, status=ProblemStatus.SOLVED.value)
    links["letters"] = url_for("letters.index", unit_id=row.unit_id, **period.range_args("issued_"))
    return links
