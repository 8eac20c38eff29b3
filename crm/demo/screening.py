"""Pre-screening (即时初审) demo data: settings, thresholds and a case for every round a demo lead
went through, with the member units' opinions, as the county would have recorded them.

Called by crm.demo.seed.seed_demo after the leads are flushed; it flushes and never commits.
Deterministic for a seed, `today` and the clock (CRM_CLOCK_NOW).

How a case is laid out (S = submission, D = deadline, C = close, N = the seeding moment):

* S is the lead's stage change into ``screening``; the case closes (C) at the next stage change,
  ``awaiting_decision`` (no materials asked: passed, or passed with conditions) or ``returned``
  (a one-time notice of materials, sometimes a rejection).
* About 45 % of the cases ran past D (a unit was slow): units answered in time, late (between D
  and C) or never (missing; the case closed by the deadline). If nobody is missing, the last late
  opinion closed the case. Such a close the generator dated before D moves to the next working
  morning, and with it the lead's stage change (and the "一次性告知" follow-up of a returned lead).
* Every other case closed on its last opinion, before D, every unit in time.
* A lead terminated from ``screening`` (months later in the generator) had its case closed by the
  deadline sweep; one terminated before its deadline withdrew the case.
* A lead still in ``screening`` has an open case; units whose (would-be) answer time is after N
  have not answered yet. A submission whose deadline already passed (or that is dated after N)
  moves to one of the last two working days before `today`, so that open cases are live to-do
  items and no lead stays in screening behind a closed case. Only if that cannot be done is the
  case closed as the sweep would have (the lead's stage is left alone).
* Answers fall in office hours (08:30-18:00, working days), 2 to 60 working hours after S for the
  units in time; 县税务局 answers first, 县自然资源局 and 三明市将乐生态环境局 last and most often late.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from crm import clock
from crm.auth.models import Unit, User
from crm.chains.models import Chain
from crm.demo import data
from crm.extensions import db
from crm.leads.models import Lead, LeadStageChange
from crm.screening.calendar import UnknownYearError, WorkCalendar, deadline
from crm.screening.indicators import tech_score
from crm.screening.materials import COMMON_MATERIALS
from crm.screening.models import (RATING_DIMENSIONS, CaseStatus, CaseUnit, ScreeningCase,
                                  ScreeningChainUnit, ScreeningDefaultUnit, ScreeningOpinion,
                                  ScreeningSettings, ScreeningThreshold, Verdict)
from crm.screening.services import clean_materials, consolidate

__all__ = ["seed_screening"]

TZ = ZoneInfo("Asia/Shanghai")
PERIOD_DAYS = 3
OFFICE_OPEN, OFFICE_SHUT = time(8, 30), time(18, 0)
MIN_LIVE_OPEN = 3          # open cases with a deadline still ahead
FLUSH_EVERY = 300
SLOW_SHARE = 0.45          # cases that waited for a late or silent unit past the deadline
_FIGURES = ("min_total_investment_wan", "min_intensity_wan_per_mu", "min_tax_per_mu_wan",
            "min_output_per_mu_wan", "min_tech_score")
_INDUSTRIAL = {"light_alloy", "fine_chemical", "new_energy", "high_end_equipment", "digital_economy",
               "biomedicine"}
_PARK_WEIGHTS = [("积善工业园区", 3), ("将乐经济开发区", 2), ("北郊工业园区", 1)]
_H = timedelta(hours=1)


@dataclass
class _Plan:
    lead: Lead
    change: LeadStageChange            # the move into screening (its time is the submission)
    after: LeadStageChange | None      # the next move, if any
    following: LeadStageChange | None  # the move after that (a moved close must stay before it)
    round: int
    previous: "_Plan | None"
    submitted_at: datetime = None
    due: object = None                 # calendar.Deadline or None
    due_problem_year: int | None = None
    status: str = CaseStatus.OPEN.value
    closed_at: datetime | None = None
    outcome: str = "pass"              # pass (→ awaiting decision) or materials (→ returned)
    slow: bool = False                 # ran past its deadline: some unit late or missing
    late_until: datetime | None = None  # a slow case: late answers come before this (the close)
    case: ScreeningCase | None = field(default=None, repr=False)

    @property
    def due_at(self):
        return self.due.due_at if self.due else None


def seed_screening(units: dict[str, Unit], users: dict[str, User], chains: dict[str, Chain],
                   today: date, seed: int) -> None:
    """Settings, thresholds, and the cases of every demo lead that reached pre-screening."""
    rng = random.Random(seed + 4)
    calendar = WorkCalendar()
    _settings(units, chains)
    now = _seeding_moment(today)
    screeners = {u.unit.name: u for u in users.values() if "screener" in u.roles}
    chain_code = {c.id: code for code, c in chains.items()}
    unit_by_id = {u.id: u for u in units.values()}
    members = {code: sorted([units[n] for n in data.SCREENING_DEFAULT_UNITS]
                            + [units[n] for n in data.SCREENING_CHAIN_UNITS.get(code, [])],
                            key=lambda u: u.name) for code in chains}

    leads = db.session.scalars(select(Lead).options(selectinload(Lead.stage_changes),
                                                    selectinload(Lead.activities))
                               .order_by(Lead.id)).all()
    plans = _plan_cases(leads, calendar, now, rng)
    _keep_open_cases_live(plans, calendar, now, today, rng)
    pace = _calibrated_pace(plans, members, chain_code)

    # A separate generator for what came later (absent ratings), so the rest stays as it was.
    builder = _CaseBuilder(rng, calendar, now, screeners, pace, random.Random(seed + 41))
    pending = []
    for plan in plans:
        code = chain_code.get(plan.lead.chain_id)
        park = _park_for(plan.lead, code, unit_by_id, units, rng)
        plan.case = builder.build(plan, members.get(code, []), code, park)
        pending.append(plan.case)
        if len(pending) >= FLUSH_EVERY:
            db.session.add_all(pending)
            db.session.flush()
            pending = []
    db.session.add_all(pending)
    db.session.flush()
    _attachments([p.case for p in plans], screeners, random.Random(seed + 43))


# --- attachments: the investor's materials and units' signed opinions on a few cases ------------

_CASE_FILES = ("项目可行性研究报告.pdf", "营业执照及法人身份证明.pdf", "项目用地需求说明.pdf", "企业近三年审计报告.pdf")
MAX_DEMO_FILE_CASES = 12


def minimal_pdf(lines: list[str]) -> bytes:
    """A small valid one-page PDF (A4) showing ASCII `lines`, written by hand (no download)."""
    text = "BT /F1 12 Tf 72 770 Td 16 TL " + " ".join(
        "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '" for line in lines) + " ET"
    stream = text.encode("ascii", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _attachments(cases: list[ScreeningCase], screeners: dict[str, User], rng: random.Random) -> None:
    """The newest cases with opinions get the investor's materials (uploaded by the officer when
    submitting) and, from some units, the signed opinion (uploaded with the answer)."""
    import hashlib
    import uuid

    from crm.attachments import storage
    from crm.attachments.models import Attachment

    chosen = sorted((c for c in cases if c.opinions and c.submitted_by_id),
                    key=lambda c: c.submitted_at, reverse=True)[:MAX_DEMO_FILE_CASES]
    rows = []

    def add(owner_kind, owner_id, name, lines, by, at, note=None):
        data = minimal_pdf(lines)
        stored = uuid.UUID(int=rng.getrandbits(128)).hex
        storage.write_bytes(data, stored)
        rows.append(Attachment(owner_kind=owner_kind, owner_id=owner_id, original_name=name, stored_name=stored,
                               content_type="application/pdf", size=len(data),
                               sha256=hashlib.sha256(data).hexdigest(), uploaded_by_id=by, uploaded_at=at,
                               note=note))

    for case in chosen:
        for i, name in enumerate(rng.sample(_CASE_FILES, rng.randint(1, 3))):
            add("screening_case", case.id, name, ["Jiangle demo county: investor materials",
                                                  f"Pre-screening case {case.id}, round {case.round}", f"File {i + 1}"],
                case.submitted_by_id, case.submitted_at + timedelta(minutes=3 + i))
        for opinion in case.opinions:
            cu = next(u for u in case.units if u.unit_id == opinion.unit_id)
            if opinion.version != 1 or rng.random() > 0.3:
                continue
            unit_name = cu.unit.name
            add("screening_opinion", cu.id, f"{unit_name}初审意见（盖章）.pdf",
                [f"Signed opinion, case {case.id}", f"verdict: {opinion.verdict}"],
                opinion.author_id, opinion.submitted_at + timedelta(minutes=1), "签字盖章的书面意见")
    db.session.add_all(rows)
    db.session.flush()


# --- settings and thresholds ------------------------------------------------------------------

def _settings(units: dict[str, Unit], chains: dict[str, Chain]) -> None:
    db.session.add(ScreeningSettings(id=1, working_days=True, period_days=PERIOD_DAYS))
    db.session.add_all(ScreeningDefaultUnit(unit=units[name]) for name in data.SCREENING_DEFAULT_UNITS)
    db.session.add_all(ScreeningChainUnit(chain=chains[code], unit=units[name])
                       for code, names in data.SCREENING_CHAIN_UNITS.items() for name in names)
    for spec in data.SCREENING_THRESHOLDS:
        db.session.add(ScreeningThreshold(
            chain=chains[spec["chain"]] if spec.get("chain") else None,
            park=units[spec["park"]] if spec.get("park") else None,
            **{f: (None if spec.get(f) is None else
                   int(spec[f]) if f == "min_tech_score" else Decimal(str(spec[f]))) for f in _FIGURES}))
    db.session.flush()


def _thresholds(code: str | None, park: str | None) -> dict:
    """The figures that apply to a chain in a park, most specific row first (as the service does)."""
    rows = [s for s in data.SCREENING_THRESHOLDS
            if s.get("chain") in (None, code) and s.get("park") in (None, park)]
    rows.sort(key=lambda s: (s.get("chain") is not None, s.get("park") is not None), reverse=True)
    out = {}
    for f in _FIGURES:
        out[f] = next((s[f] for s in rows if s.get(f) is not None), None)
    return out


def _seeding_moment(today: date) -> datetime:
    """Now when seeding for the real (or CRM_CLOCK_NOW's) today, else the end of `today` (local)."""
    now = clock.now().replace(microsecond=0)
    if now.astimezone(TZ).date() == today:
        return now
    return datetime.combine(today, time(23, 59), tzinfo=TZ).astimezone(timezone.utc)


# --- working time -----------------------------------------------------------------------------

def _is_workday(calendar: WorkCalendar, day: date) -> bool:
    try:
        return calendar.is_workday(day)
    except UnknownYearError:  # a year without a schedule: weekdays are near enough for seeding
        return day.weekday() < 5


def _office_spans(start: datetime, end: datetime,
                  calendar: WorkCalendar) -> list[tuple[datetime, datetime]]:
    spans = []
    day, last = start.astimezone(TZ).date(), end.astimezone(TZ).date()
    while day <= last:
        if _is_workday(calendar, day):
            a = max(start, datetime.combine(day, OFFICE_OPEN, tzinfo=TZ))
            b = min(end, datetime.combine(day, OFFICE_SHUT, tzinfo=TZ))
            if b > a:
                spans.append((a, b))
        day += timedelta(days=1)
    return spans


def _office_time(start: datetime, end: datetime, frac: float, calendar: WorkCalendar) -> datetime | None:
    """The moment `frac` (0–1) of the way through the office hours between start and end."""
    if end <= start:
        return None
    spans = _office_spans(start, end, calendar)
    total = sum((b - a).total_seconds() for a, b in spans)
    if not total:
        return None
    left = min(max(frac, 0.0), 1.0) * total
    for a, b in spans:
        length = (b - a).total_seconds()
        if left <= length:
            return (a + timedelta(seconds=int(left))).astimezone(timezone.utc)
        left -= length
    return spans[-1][1].astimezone(timezone.utc)


def _after_working_hours(start: datetime, hours: float, calendar: WorkCalendar) -> datetime:
    """`hours` after `start`, the hours of weekends and holidays not counted."""
    t, left = start.astimezone(TZ), timedelta(hours=hours)
    while left > timedelta(0):
        midnight = datetime.combine(t.date() + timedelta(days=1), time(0), tzinfo=TZ)
        chunk = min(left, midnight - t)
        if _is_workday(calendar, t.date()):
            left -= chunk
        t = t + chunk if chunk < midnight - t else midnight
    return t.astimezone(timezone.utc)


def _in_office(moment: datetime, calendar: WorkCalendar) -> bool:
    local = moment.astimezone(TZ)
    return _is_workday(calendar, local.date()) and OFFICE_OPEN <= local.time() <= OFFICE_SHUT


def _deadline(submitted_at: datetime, calendar: WorkCalendar):
    """(Deadline, None) or (None, the year without a holiday schedule)."""
    try:
        return deadline(submitted_at, PERIOD_DAYS, True, calendar, TZ), None
    except UnknownYearError as exc:
        return None, exc.year


# --- the plan: which cases, when they opened and closed ----------------------------------------

def _plan_cases(leads, calendar: WorkCalendar, now: datetime, rng: random.Random) -> list[_Plan]:
    plans = []
    for lead in leads:
        changes = sorted(lead.stage_changes, key=lambda c: (c.changed_at, c.id or 0))
        previous, rounds = None, 0
        for i, change in enumerate(changes):
            if change.to_stage != "screening":
                continue
            rounds += 1
            after = changes[i + 1] if i + 1 < len(changes) else None
            following = changes[i + 2] if i + 2 < len(changes) else None
            plan = _Plan(lead=lead, change=change, after=after, following=following, round=rounds,
                         previous=previous)
            plan.submitted_at = change.changed_at
            plan.due, plan.due_problem_year = _deadline(plan.submitted_at, calendar)
            _plan_close(plan, now, calendar, rng)
            plans.append(plan)
            previous = plan
    return plans


def _plan_close(plan: _Plan, now: datetime, calendar: WorkCalendar, rng: random.Random) -> None:
    """Status, (provisional) close and whether the case ran past its deadline."""
    after = plan.after
    if after is None:
        plan.status, plan.closed_at = CaseStatus.OPEN.value, None
        return
    when = after.changed_at
    if after.to_stage == "lost":
        if plan.due_at is not None and when > plan.due_at:   # the sweep closed it long before
            plan.status, plan.closed_at = CaseStatus.CLOSED.value, plan.due_at + timedelta(seconds=70)
            plan.slow, plan.late_until = True, plan.closed_at
            plan.outcome = "materials" if rng.random() < 0.4 else "pass"
        else:                                                 # terminated while open
            plan.status, plan.closed_at = CaseStatus.WITHDRAWN.value, when
        return
    if when > now:  # the generator dates a move of `today` at 11:00; seeding may run earlier
        when = after.changed_at = now - timedelta(minutes=30)
    plan.status, plan.closed_at = CaseStatus.CLOSED.value, when
    plan.outcome = "materials" if after.to_stage == "returned" else "pass"
    if plan.due_at is None or rng.random() >= SLOW_SHARE:
        return
    if when > plan.due_at:
        plan.slow, plan.late_until = True, when
        return
    # The generator closed it in time; this one waited for a slow unit: it closed the next
    # working morning (the lead moved then too).
    day = plan.due.due_on + timedelta(days=1)
    while not _is_workday(calendar, day):
        day += timedelta(days=1)
    close = (datetime.combine(day, time(9, 0), tzinfo=TZ)
             + timedelta(minutes=rng.randint(0, 150))).astimezone(timezone.utc)
    limit = min(now, plan.following.changed_at) if plan.following is not None else now
    if close < limit - timedelta(minutes=5):
        plan.slow, plan.late_until, plan.closed_at = True, close, close


def _move_close(plan: _Plan, when: datetime) -> None:
    """The case closed at `when`: the lead left pre-screening then (and was told then)."""
    old_day = plan.after.changed_at.astimezone(TZ).date()
    plan.closed_at = when
    plan.after.changed_at = when
    plan.lead.updated_at = max(plan.lead.updated_at, when)  # the lead changed when it moved
    new_day = when.astimezone(TZ).date()
    if new_day != old_day and plan.after.to_stage == "returned":
        for activity in plan.lead.activities:
            if activity.occurred_on == old_day and "一次性告知" in activity.summary:
                activity.occurred_on = new_day
                activity.created_at = (datetime.combine(new_day, time(16, 0), tzinfo=TZ)
                                       .astimezone(timezone.utc))


def _keep_open_cases_live(plans: list[_Plan], calendar: WorkCalendar, now: datetime, today: date,
                          rng: random.Random) -> None:
    """Open cases are live: due after now (at least MIN_LIVE_OPEN), none past its deadline."""
    open_plans = [p for p in plans if p.status == CaseStatus.OPEN.value]
    recent_days = []
    day = today - timedelta(days=1)
    while len(recent_days) < 2 and day > today - timedelta(days=30):
        if _is_workday(calendar, day):
            recent_days.append(day)
        day -= timedelta(days=1)

    def redate(plan: _Plan) -> bool:
        floor = max((c.changed_at for c in plan.lead.stage_changes if c is not plan.change
                     and c.changed_at <= plan.change.changed_at), default=None)
        day = rng.choice(recent_days)
        local = datetime.combine(day, time(9, 0), tzinfo=TZ) + timedelta(minutes=rng.randint(0, 8 * 60))
        when = local.astimezone(timezone.utc)
        if when > now - 2 * _H or (floor is not None and when <= floor):
            return False
        old_day, new_day = plan.change.changed_at.astimezone(TZ).date(), day
        for activity in plan.lead.activities:   # the follow-up that says it was sent in
            if activity.occurred_on == old_day and "提交即时初审" in activity.summary:
                activity.occurred_on = new_day
                activity.created_at = when
        plan.change.changed_at = plan.submitted_at = when
        plan.lead.updated_at = max(plan.lead.updated_at, when)
        plan.due, plan.due_problem_year = _deadline(when, calendar)
        return True

    for plan in open_plans:   # a submission dated after the seeding moment: move it back
        if plan.submitted_at > now - 2 * _H and recent_days:
            redate(plan)

    def live(p: _Plan) -> bool:
        return p.due_at is not None and p.due_at > now

    # A lead still in screening whose deadline passed would be stuck (its case closed by the
    # sweep, the lead not moved): send it in again on one of the last working days instead.
    # That also gives the demo its MIN_LIVE_OPEN live to-do items.
    if recent_days:
        for plan in sorted((p for p in open_plans if not live(p) and p.due_at is not None),
                           key=lambda p: p.submitted_at, reverse=True):
            redate(plan)
    if sum(1 for p in open_plans if live(p)) < MIN_LIVE_OPEN:
        current_app.logger.info("demo: only %d live pre-screening cases",
                                sum(1 for p in open_plans if live(p)))
    for plan in open_plans:   # still past its deadline: the sweep closed it
        if plan.due_at is not None and plan.due_at <= now:
            plan.status, plan.closed_at = CaseStatus.CLOSED.value, plan.due_at + timedelta(seconds=70)
            plan.slow, plan.late_until, plan.outcome = True, plan.closed_at, "sweep"


def _calibrated_pace(plans: list[_Plan], members: dict, chain_code: dict) -> dict[str, dict]:
    """Per unit late/missing probabilities within the slow cases, scaled so that over all closed
    cases the unit's shares come near data.SCREENING_UNIT_PACE."""
    asked, slow = {}, {}
    for plan in plans:
        if plan.status != CaseStatus.CLOSED.value:
            continue
        for unit in members.get(chain_code.get(plan.lead.chain_id), []):
            asked[unit.name] = asked.get(unit.name, 0) + 1
            slow[unit.name] = slow.get(unit.name, 0) + (1 if plan.slow else 0)
    out = {}
    for name, spec in data.SCREENING_UNIT_PACE.items():
        share = max((slow.get(name, 0) / asked[name]) if asked.get(name) else 1.0, 0.2)
        late, missing = spec["late"] / share, spec["missing"] / share
        scale = min(1.0, 0.8 / (late + missing)) if late + missing else 1.0
        out[name] = {"late": late * scale, "missing": missing * scale, "pace": spec["pace"]}
    return out


def _park_for(lead: Lead, code: str | None, unit_by_id: dict, units: dict, rng: random.Random) -> Unit | None:
    owner = unit_by_id.get(lead.owner_unit_id)
    if owner is not None and owner.kind == "park":
        return owner
    if code not in _INDUSTRIAL or (owner is not None and owner.kind == "town"):
        return None
    total = sum(w for _n, w in _PARK_WEIGHTS)
    x = rng.random() * total
    for name, weight in _PARK_WEIGHTS:
        x -= weight
        if x < 0:
            return units[name]
    return units[_PARK_WEIGHTS[-1][0]]


def _materials_from_activities(plan: _Plan) -> list[str]:
    """The items the generator's "一次性告知" follow-up names on the day the lead was returned."""
    if plan.after is None or plan.after.to_stage != "returned":
        return []
    day = plan.after.changed_at.astimezone(TZ).date()
    for activity in plan.lead.activities:
        if activity.occurred_on == day and "一次性告知" in activity.summary:
            text = activity.summary.split("补充：", 1)[-1]
            return [m for m in COMMON_MATERIALS if m in text]
    return []


# --- building one case ------------------------------------------------------------------------

class _CaseBuilder:
    def __init__(self, rng: random.Random, calendar: WorkCalendar, now: datetime,
                 screeners: dict[str, User], pace: dict[str, dict], blank_rng: random.Random):
        self.rng, self.calendar, self.now = rng, calendar, now
        self.screeners, self.pace = screeners, pace
        self.blank_rng = blank_rng

    def build(self, plan: _Plan, members: list[Unit], code: str | None, park: Unit | None) -> ScreeningCase:
        rng = self.rng
        lead = plan.lead
        due = plan.due
        note = None
        if plan.round > 1:
            note = rng.choice(data.SCREENING_RESUBMIT_NOTES).format(round=plan.round)
        elif rng.random() < 0.45:
            note = rng.choice(data.SCREENING_NOTES).format(park=park.name if park else "将乐")
        case = ScreeningCase(
            lead_id=lead.id, round=plan.round,
            previous_case=plan.previous.case if plan.previous else None,
            park_unit_id=park.id if park else None, submitted_by_id=lead.owner_id,
            submitted_at=plan.submitted_at, note=note,
            working_days=True, period_days=PERIOD_DAYS,
            due_on=due.due_on if due else None, due_at=due.due_at if due else None,
            remind_at=due.remind_at if due else None, due_problem_year=plan.due_problem_year,
            status=plan.status)
        case.units = [CaseUnit(unit_id=u.id, position=i) for i, u in enumerate(members)]
        for cu, unit in zip(case.units, members):   # for consolidate(); the id is what is saved
            set_committed_value(cu, "unit", unit)
        if not members:
            return case
        answers = self._answer_times(plan, members)
        self._reminders(plan, case, answers)
        opinions = self._opinions(plan, case, members, answers, code, park)
        case.opinions = opinions
        for cu in case.units:
            at = answers.get(cu.unit_id)
            cu.answered_at = at
            cu.late = bool(at and plan.due_at and at > plan.due_at)
            cu.missing = at is None and plan.status == CaseStatus.CLOSED.value
        if opinions:
            case.last_opinion_at = max(o.submitted_at for o in opinions)
        if plan.status == CaseStatus.CLOSED.value:
            case.closed_at = plan.closed_at
            case.closed_by_deadline = any(cu.missing for cu in case.units)
            case.result, case.notice_items = consolidate(case)
        elif plan.status == CaseStatus.WITHDRAWN.value:
            case.closed_at = plan.closed_at
        return case

    # -- when each unit answered -------------------------------------------------------------
    def _on_time(self, plan: _Plan, name: str, until: datetime) -> datetime | None:
        pace = self.pace.get(name, {"pace": 0.45})["pace"]
        a = 1.6
        frac = self.rng.betavariate(a, a * (1 - pace) / pace)
        start = plan.submitted_at + 2 * _H
        end = min(_after_working_hours(plan.submitted_at, 60, self.calendar), until)
        # a submission before a weekend or holiday: the first office hours after it
        return (_office_time(start, end, frac, self.calendar)
                or _office_time(start, until, frac / 4, self.calendar))

    def _answer_times(self, plan: _Plan, members: list[Unit]) -> dict[int, datetime | None]:
        """When each unit first answered (None: not yet, or never); settles the close too."""
        rng, due_at = self.rng, plan.due_at
        answers: dict[int, datetime | None] = {}
        if plan.status == CaseStatus.OPEN.value:
            until = due_at or plan.submitted_at + 5 * 24 * _H
            for u in members:
                spec = data.SCREENING_UNIT_PACE.get(u.name, {"late": 0.1, "missing": 0.08})
                dawdling = rng.random() < spec["late"] + spec["missing"]   # will answer late, or not
                at = None if dawdling else self._on_time(plan, u.name, until)
                answers[u.id] = at if at is not None and at <= self.now else None
            if all(answers.values()):  # everyone answered: it would have closed; the slowest has not
                slowest = max(members, key=lambda u: answers[u.id])
                answers[slowest.id] = None
            return answers

        close = plan.closed_at
        if plan.status == CaseStatus.WITHDRAWN.value or not plan.slow:
            # everyone answered in time; the last opinion closed the case
            until = close if due_at is None else min(close, due_at)
            if (due_at is not None and plan.status == CaseStatus.CLOSED.value
                    and plan.after.to_stage != "lost"
                    and not _office_spans(plan.submitted_at + 2 * _H, until, self.calendar)):
                # the generator closed it during a holiday: the units answered after it, in time
                limit = plan.following.changed_at if plan.following is not None else self.now
                until = min(due_at, limit - timedelta(minutes=5), self.now)
            for u in members:
                answers[u.id] = self._on_time(plan, u.name, until) or until
            if plan.status == CaseStatus.CLOSED.value:
                last = max(members, key=lambda u: answers[u.id])
                if close <= until and _in_office(close, self.calendar):
                    answers[last.id] = close
                elif plan.after is not None and plan.after.to_stage != "lost":
                    # it closed on this answer, in time (not on the generator's weekend date)
                    _move_close(plan, answers[last.id])
            return answers

        # ran past the deadline: on time, late (before the close), or never
        late_until = plan.late_until
        for u in members:
            spec = self.pace.get(u.name, {"late": 0.2, "missing": 0.15})
            x = rng.random()
            if x < spec["missing"]:
                answers[u.id] = None
            elif x < spec["missing"] + spec["late"]:
                answers[u.id] = self._late(plan, late_until)
            else:
                answers[u.id] = self._on_time(plan, u.name, due_at)
        if all(a is not None and a <= due_at for a in answers.values()):
            worst = max(members, key=lambda u: self.pace.get(u.name, {}).get("missing", 0) + rng.random() / 10)
            answers[worst.id] = self._late(plan, late_until) if rng.random() < 0.5 else None
        if plan.outcome == "materials" and not any(answers.values()):
            first = members[0]
            answers[first.id] = self._on_time(plan, first.name, due_at) or due_at - _H
        moves_lead = plan.after is not None and plan.after.to_stage in ("awaiting_decision", "returned")
        if all(answers.values()) and moves_lead:   # nobody missing: the last (late) opinion closed it
            _move_close(plan, max(answers.values()))
        elif moves_lead:
            _move_close(plan, late_until)
        return answers

    def _late(self, plan: _Plan, until: datetime) -> datetime | None:
        at = _office_time(plan.due_at, until, self.rng.random() ** 1.3, self.calendar)
        return at if at is not None and at < until else None

    def _reminders(self, plan: _Plan, case: ScreeningCase, answers: dict) -> None:
        remind = plan.due.remind_at if plan.due else None
        if remind is None:
            return
        horizon = plan.closed_at if plan.status != CaseStatus.OPEN.value else self.now
        if remind >= horizon:
            return
        sent = remind + timedelta(seconds=self.rng.randint(5, 55))
        for cu in case.units:
            at = answers.get(cu.unit_id)
            if at is None or at > remind:
                cu.reminded_at = sent

    # -- what each unit said -----------------------------------------------------------------
    def _opinions(self, plan: _Plan, case: ScreeningCase, members: list[Unit], answers: dict,
                  code: str | None, park: Unit | None) -> list[ScreeningOpinion]:
        rng = self.rng
        answered = [u for u in members if answers.get(u.id)]
        if not answered:
            return []
        outcome = plan.outcome
        if outcome == "sweep" or plan.status != CaseStatus.CLOSED.value:
            outcome = "materials" if rng.random() < 0.35 else "pass"
        verdicts = {u.id: Verdict.APPROVE.value for u in answered}
        conditions: dict[int, list[str]] = {}
        materials: dict[int, list[str]] = {}
        reject_reason: dict[int, str] = {}
        th = _thresholds(code, park.name if park else None)

        # conditions (any outcome): a few units, the cautious ones more often
        n_cond = rng.choices([0, 1, 2, 3], weights=[35, 32, 22, 11])[0]
        weights = [data.SCREENING_CONDITION_WEIGHT.get(u.name, 2) for u in answered]
        for u in _weighted_sample(rng, answered, weights, n_cond):
            verdicts[u.id] = Verdict.CONDITIONAL.value
            pool = data.SCREENING_CONDITIONS[u.name]
            conditions[u.id] = rng.sample(pool, 1 if rng.random() < 0.6 else 2)

        if outcome == "materials":
            items = _materials_from_activities(plan) or rng.sample(COMMON_MATERIALS, rng.randint(2, 4))
            if plan.status == CaseStatus.OPEN.value:
                items = items[:rng.randint(1, 2)]
            by_id = {u.id: u for u in answered}
            for item in items:
                candidates = [u for u in answered if u.name in data.SCREENING_MATERIAL_ASKERS.get(item, [])]
                if not candidates:
                    if plan.status == CaseStatus.OPEN.value:
                        continue
                    candidates = answered
                order = data.SCREENING_MATERIAL_ASKERS.get(item, [])
                candidates.sort(key=lambda u: order.index(u.name) if u.name in order else 99)
                askers = [candidates[0] if rng.random() < 0.75 else rng.choice(candidates)]
                others = [u for u in candidates if u not in askers]
                if others and rng.random() < 0.4:
                    askers.append(rng.choice(others))
                elif rng.random() < 0.12:
                    extra = [u for u in answered if u not in askers]
                    if extra:
                        askers.append(rng.choice(extra))
                for u in askers:
                    materials.setdefault(u.id, []).append(item)
                    verdicts[u.id] = Verdict.CONDITIONAL.value
            if plan.status == CaseStatus.CLOSED.value and not materials:
                u = rng.choice(answered)
                materials[u.id] = [items[0]]
                verdicts[u.id] = Verdict.CONDITIONAL.value
            if plan.status == CaseStatus.CLOSED.value and rng.random() < 0.2:
                unit, reason = self._rejecter(_lead_figures(plan.lead), th, code, by_id)
                if unit is not None:
                    verdicts[unit.id] = Verdict.REJECT.value
                    reject_reason[unit.id] = reason

        base = _base_ratings(plan.lead, th)
        result = []
        for u in answered:
            at = answers[u.id]
            verdict = verdicts[u.id]
            opinion = self._opinion(plan, u, verdict, at, base, conditions.get(u.id, []),
                                    materials.get(u.id, []), reject_reason.get(u.id))
            result.extend(self._maybe_amend(plan, opinion))
        return result

    def _rejecter(self, figures: dict, th: dict, code: str | None, by_id: dict) -> tuple[Unit | None, str]:
        rng = self.rng
        names = {u.name: u for u in by_id.values()}
        options = []
        tax_mu, intensity = figures["tax_per_mu"], figures["intensity"]
        if tax_mu is not None and th["min_tax_per_mu_wan"] and tax_mu < th["min_tax_per_mu_wan"]:
            options.append(("县税务局", "亩均税收承诺低于园区标准，建议调整用地规模"))
        min_intensity = th["min_intensity_wan_per_mu"]
        if intensity is not None and min_intensity and intensity < min_intensity:
            options.append(("县发改局", "固定资产投资强度低于园区准入标准"))
            options.append(("县自然资源局", "用地规模明显超出实际需要，亩均投资不达标"))
        if code in ("fine_chemical", "light_alloy"):
            env = "三明市将乐生态环境局"
            options.append((env, rng.choice(data.SCREENING_REJECT_REASONS[env])))
            options.append(("县应急管理局", rng.choice(data.SCREENING_REJECT_REASONS["县应急管理局"])))
        if code in ("agri_forestry", "forest_wellness"):
            options.append(("县林业局", data.SCREENING_REJECT_REASONS["县林业局"][0]))
        options.append(("县发改局", "项目属于《产业结构调整指导目录》限制类"))
        options.append(("县工信局", rng.choice(data.SCREENING_REJECT_REASONS["县工信局"])))
        options.append(("县商务局", data.SCREENING_REJECT_REASONS["县商务局"][0]))
        options = [(names[n], r) for n, r in options if n in names]
        if not options:
            return None, ""
        # the first options are the ones the lead's own figures call for
        return options[0] if rng.random() < 0.6 else rng.choice(options)

    def _opinion(self, plan: _Plan, unit: Unit, verdict: str, at: datetime, base: dict,
                 conditions: list[str], materials: list[str], reason: str | None) -> ScreeningOpinion:
        rng = self.rng
        ratings = {}
        lo, hi = {"approve": (2, 5), "conditional": (2, 5), "reject": (1, 4)}[verdict]
        for dim in RATING_DIMENSIONS:
            value = base[dim] + rng.choice((-1, 0, 0, 0, 1))
            ratings[dim] = min(hi, max(lo, value))
        ratings["compliance"] = {"approve": rng.choice((4, 5, 5)), "conditional": rng.choice((3, 3, 4)),
                                 "reject": rng.choice((1, 2))}[verdict]
        if verdict == Verdict.REJECT:
            comment = reason
            if "亩均税收" in reason:
                ratings["prospects"] = min(ratings["prospects"], 2)
            if "投资强度" in reason or "亩均投资" in reason:
                ratings["intensity"] = min(ratings["intensity"], 2)
        elif verdict == Verdict.CONDITIONAL and materials and rng.random() < 0.5:
            comment = rng.choice(("请企业补充{m}后再行研判", "需补充{m}", "材料不全，请补充{m}")).format(
                m="、".join(materials))
        elif verdict == Verdict.CONDITIONAL:
            concerns = data.SCREENING_COMMENTS[unit.name]["concern"]
            comment = rng.choice(concerns) if rng.random() < 0.8 else None
        else:
            comment = rng.choice(data.SCREENING_COMMENTS[unit.name]["ok"]) if rng.random() < 0.85 else None
        if verdict == Verdict.APPROVE:
            ratings = {d: max(v, 3) if d in ("scale", "prospects") else v for d, v in ratings.items()}
        ratings = self._leave_some_unrated(unit, verdict, ratings)
        return ScreeningOpinion(
            unit_id=unit.id, version=1, verdict=verdict, materials=clean_materials(materials),
            conditions="；".join(conditions) or None, comment=comment,
            author_id=self.screeners[unit.name].id if unit.name in self.screeners else None,
            submitted_at=at, late=bool(plan.due_at and at > plan.due_at),
            **{f"rating_{d}": ratings[d] for d in RATING_DIMENSIONS})

    def _leave_some_unrated(self, unit: Unit, verdict: str, ratings: dict) -> dict:
        """Some units only tick 同意 and rate nothing, others skip what is not theirs to judge
        (税务 the tech content, 自然资源 the prospects): those ratings stay absent (未评)."""
        x = self.blank_rng.random()
        if verdict == Verdict.APPROVE and x < 0.08:
            return {d: None for d in ratings}
        if x < 0.2:
            skip = {"县税务局": ("tech",), "县自然资源局": ("tech", "prospects")}.get(unit.name, ("tech",))
            return {d: None if d in skip else v for d, v in ratings.items()}
        return ratings

    def _maybe_amend(self, plan: _Plan, final: ScreeningOpinion) -> list[ScreeningOpinion]:
        """About one opinion in twenty is amended a few hours later: version 1 is the draft."""
        rng = self.rng
        if rng.random() >= 0.05:
            return [final]
        horizon = plan.closed_at if plan.status != CaseStatus.OPEN.value else self.now
        first_at = final.submitted_at
        later = _office_time(first_at + 45 * timedelta(minutes=1),
                             min(horizon - timedelta(minutes=2), first_at + 30 * _H),
                             rng.random() * 0.25, self.calendar)
        if later is None:
            return [final]
        draft = ScreeningOpinion(
            unit_id=final.unit_id, version=1, verdict=final.verdict,
            materials=list(final.materials), conditions=final.conditions, comment=final.comment,
            author_id=final.author_id, submitted_at=first_at,
            late=bool(plan.due_at and first_at > plan.due_at),
            **{f"rating_{d}": getattr(final, f"rating_{d}") for d in RATING_DIMENSIONS})
        if len(final.materials) > 1:
            draft.materials = final.materials[:-1]
            final.comment = "补充：还需提供" + final.materials[-1]
        elif final.conditions and final.verdict == Verdict.CONDITIONAL and not final.materials:
            draft.verdict, draft.conditions = Verdict.APPROVE.value, None
            if draft.rating_compliance is not None:
                draft.rating_compliance = max(draft.rating_compliance, 4)
            final.comment = "经进一步核实，补充附加条件"
        elif final.verdict == Verdict.APPROVE:
            draft.comment = "原则同意，具体意见稍后补充"
        else:
            return [final]
        final.version = 2
        final.submitted_at = later
        final.late = bool(plan.due_at and later > plan.due_at)
        return [draft, final]


def _weighted_sample(rng: random.Random, items: list, weights: list[float], k: int) -> list:
    items, weights, out = list(items), list(weights), []
    for _ in range(min(k, len(items))):
        i = rng.choices(range(len(items)), weights=weights)[0]
        out.append(items.pop(i))
        weights.pop(i)
    return out


def _lead_figures(lead: Lead) -> dict:
    return {"intensity": lead.investment_intensity, "tax_per_mu": lead.tax_per_mu,
            "output_per_mu": lead.output_per_mu}


def _band(value, threshold) -> int:
    """1–5 from a figure's ratio to its threshold; 3 when either is unknown."""
    if value is None or not threshold:
        return 3
    ratio = float(value) / float(threshold)
    return 5 if ratio >= 1.6 else 4 if ratio >= 1.2 else 3 if ratio >= 1.0 else 2 if ratio >= 0.75 else 1


def _base_ratings(lead: Lead, th: dict) -> dict[str, int]:
    planned = lead.planned_investment_wan or lead.fixed_asset_investment_wan
    if planned is None:
        scale = 3
    else:
        planned = float(planned)
        scale = 5 if planned >= 50000 else 4 if planned >= 15000 else 3 if planned >= 5000 else \
            2 if planned >= (th["min_total_investment_wan"] or 3000) else 1
    score, _complete = tech_score(lead)
    tech = 3 if score is None else 5 if score >= 70 else 4 if score >= 50 else 3 if score >= 30 else \
        2 if score >= 15 else 1
    prospects = round((_band(lead.output_per_mu, th["min_output_per_mu_wan"])
                       + _band(lead.tax_per_mu, th["min_tax_per_mu_wan"])) / 2)
    return {"scale": scale, "intensity": _band(lead.investment_intensity, th["min_intensity_wan_per_mu"]),
            "tech": tech, "prospects": prospects, "compliance": 4}
