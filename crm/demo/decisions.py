"""Collective-decision (集体决策) demo data: the leadership group, its rules, and the meetings at
which the demo leads were admitted (or not), as the county would have recorded them.

Called by crm.demo.seed.seed_demo after seed_screening; it flushes and never commits.
Deterministic for a seed, `today` and the clock (CRM_CLOCK_NOW).

* The group (data.DECISION_GROUP, leader1 chairs) decides by the default rules (议事规则): more than
  half of the members present, approvals more than half of the members entitled to vote (members
  minus those who recuse), the chair states a view last. Absent members have their reason (出差,
  请假, 其他 with a note); every member present votes, now and then one is marked 未表决 by the chair;
  each meeting has its time, a recorder (记录人) and those attending without a vote (列席).
* It meets on the 2nd and 4th Tuesday of the month (the next working day when that is a holiday).
  Every decision of the generator (a move awaiting_decision → admitted/rejected) is taken at the
  first such meeting after the day the lead started awaiting it and before the day of the lead's
  next move (for a rejected lead, also not before its last follow-up: nobody follows up a closed
  lead). A meeting takes AGENDA_CAP items; when the regular ones in time are full, an extra
  meeting is called on a 1st, 3rd or 5th Tuesday, and in a crowded season (the generator's last
  months are) the least crowded meeting in time takes it. When no meeting fits at all, the group
  met on the move's own day, keeping its time when that day is the awaiting or next move's day.
* The move is re-dated to the item's closing (items are taken from about 09:30 to 12:00 local),
  made by the chair, with the reason the app writes (crm.decisions.services.close_item, in
  Chinese); the generator's follow-up of the decision moves with it.
* A few decisions (DEFER_SHARE) were deferred once: left undecided at the end of a meeting and
  decided at the next one.
* Every result is counting.decide() on the item's count under the meeting's frozen rules.
* Today a meeting is in session (opened 09:30, or just before the seeding moment when that is
  earlier) with the 2–3 projects that have waited longest, two votes cast on the first; the next
  Tuesday (or working day after it) a meeting is scheduled with up to 4 more. Without at least
  three awaiting projects there is no meeting in session.
"""
from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crm import clock
from crm.auth.models import Unit, User
from crm.chains.models import Chain
from crm.decisions.counting import Count, Rules, decide
from crm.decisions.models import (AgendaItem, Attendee, Choice, DecisionRules, GroupMember, ItemResult,
                                  ItemStatus, Meeting, MeetingStatus, PassBasis, Proposal, ProposalStatus, Vote)
from crm.demo import data
from crm.extensions import db
from crm.leads.models import Lead, LeadStageChange
from crm.screening.calendar import UnknownYearError, WorkCalendar
from crm.screening.models import CaseStatus, ScreeningCase

__all__ = ["seed_decisions"]

TZ = ZoneInfo("Asia/Shanghai")
QUORUM, PASS, ABSTAIN_CAST = Decimal("0.5"), Decimal("0.5"), True
RULES = Rules(quorum_fraction=QUORUM, pass_fraction=PASS, pass_basis=PassBasis.MEMBERS.value,
              abstain_counts_as_cast=ABSTAIN_CAST, chair_votes_last=True)
NOT_VOTED_SHARE = 0.03   # items on which the chair marks one member 未表决
# Who writes the minutes, and who attends without a vote (列席), as the county's office records them.
RECORDERS = ["县招商服务中心 林晓燕", "县委办 陈丽娟", "县招商服务中心 吴志强"]
OBSERVERS = [
    "县招商服务中心主任 黄建平，县发改局局长 张国华，县自然资源局局长 李振宇，项目所在乡镇（园区）主要负责人",
    "县招商服务中心主任 黄建平，县工信局局长 邱文斌，县生态环境局局长 罗晓东，县应急管理局局长 肖勇",
    "县招商服务中心主任 黄建平，县财政局局长 何伟，县税务局局长 谢志明，项目所在乡镇（园区）主要负责人",
]
PROPOSAL_NOTES = ["客商已完成注册准备，盼尽快上会", "初审意见已全部落实，请安排上会",
                  "项目用地已与园区对接，申请列入下次会议", None]
ABSENCES = [("business_trip", ["赴福州参加省招商推介会", "带队赴长三角招商", "赴京汇报工作", ""], 50),
            ("leave", ["", "病假", "事假"], 35),
            ("other", ["参加市委全会", "参加防汛值班", "陪同上级督查组检查"], 15)]
DEFER_SHARE = 0.04       # decisions deferred once to the next meeting
RECUSE_SHARE = 0.05      # items on which one member recuses
CONDITION_SHARE = 0.4    # admissions with conditions attached
AGENDA_CAP = (12, 16)    # items a meeting takes before an extra meeting is called
FLUSH_EVERY = 40         # meetings
_MIN = timedelta(minutes=1)
_DECIDED = {"admitted", "rejected"}
_ACTIVITY_MARKS = ("集体决策同意落地", "领导小组集体研究")  # the generator's follow-ups of a decision


@dataclass
class _Decision:
    lead: Lead
    entry: LeadStageChange          # the move into awaiting_decision
    change: LeadStageChange         # awaiting_decision → admitted / rejected
    after: LeadStageChange | None   # the lead's next move, if any
    lo_day: date                    # the meeting's day: from …
    hi_day: date                    # … to (inclusive)
    original: datetime = None       # the generator's time of the decision
    at: datetime | None = None      # the item's closing
    deferred: bool = False          # left undecided at an earlier meeting

    @property
    def passed(self) -> bool:
        return self.change.to_stage == "admitted"

    def fits(self, moment: datetime, now: datetime) -> bool:
        upper = min(_aware(self.after.changed_at), now) if self.after is not None else now
        return _aware(self.entry.changed_at) + _MIN < moment < upper - _MIN


@dataclass
class _Sitting:
    day: date
    decided: list[_Decision] = field(default_factory=list)
    deferred: list[_Decision] = field(default_factory=list)


def seed_decisions(users: dict[str, User], today: date, seed: int) -> None:
    """Rules, the group, past meetings for every decision of the demo leads, today's and the next."""
    rng = random.Random(seed + 5)
    calendar = WorkCalendar()
    now = _seeding_moment(today)
    secretariat = db.session.scalar(select(Unit.id).where(Unit.name == data.DECISION_SECRETARIAT))
    db.session.add(DecisionRules(id=1, quorum_fraction=QUORUM, pass_fraction=PASS, pass_basis=RULES.pass_basis,
                                 secretariat_unit_id=secretariat,
                                 abstain_counts_as_cast=ABSTAIN_CAST, chair_votes_last=True))
    group = [users[name] for name in data.DECISION_GROUP]
    titles = {u.id: data.USER_TITLES.get(u.username, "") for u in group}
    db.session.add_all(GroupMember(user_id=u.id, is_chair=i == 0, title=titles[u.id], position=i)
                       for i, u in enumerate(group))
    db.session.flush()

    leads = db.session.scalars(select(Lead).options(selectinload(Lead.stage_changes),
                                                    selectinload(Lead.activities))
                               .order_by(Lead.id)).all()
    cases = _closed_cases()
    decisions = _decisions(leads, today)
    first = min((d.lo_day for d in decisions), default=today)
    regular = _tuesdays(first, today - timedelta(days=1), calendar, (1, 3))
    extra = [day for day in _tuesdays(first, today - timedelta(days=1), calendar, (0, 2, 4))
             if day not in regular]
    sittings = _assign(decisions, regular, extra, rng)

    builder = _Builder(rng, group, titles, users["admin"], cases, now)
    awaiting = sorted((lead for lead in leads if lead.stage == "awaiting_decision"),
                      key=lambda lead: max(_aware(c.changed_at) for c in lead.stage_changes))
    opened_today = datetime.combine(today, time(9, 30), tzinfo=TZ).astimezone(timezone.utc)
    if opened_today > now - 10 * _MIN:
        opened_today = now - 15 * _MIN
    in_session: list[Lead] = []
    if len(awaiting) >= 3:
        ready = [lead for lead in awaiting
                 if max(_aware(c.changed_at) for c in lead.stage_changes) < opened_today - 30 * _MIN]
        in_session = ready[:min(rng.choice((2, 3)), len(awaiting) - 1)]
        if len(in_session) < 2:
            in_session = []
    upcoming = [lead for lead in awaiting if lead not in in_session][:4]
    next_day = _next_meeting_day(today, calendar)

    # Numbered per year in the order held: past meetings, today's, the next one.
    days = [s.day for s in sittings] + ([today] if in_session else []) + [next_day]
    numbers, seen = [], {}
    for day in days:
        seen[day.year] = seen.get(day.year, 0) + 1
        numbers.append(seen[day.year])
    for i, sitting in enumerate(sittings):
        builder.held(sitting, numbers[i])
        if i % FLUSH_EVERY == FLUSH_EVERY - 1:
            db.session.flush()
    db.session.flush()
    if in_session:
        builder.in_session(today, numbers[-2], opened_today, in_session)
    builder.scheduled(next_day, numbers[-1], upcoming)
    # The units proposed the next projects waiting; the secretariat has them for a later meeting.
    for lead in [lead for lead in awaiting if lead not in in_session and lead not in upcoming][:3]:
        db.session.add(Proposal(lead_id=lead.id, unit_id=lead.owner_unit_id, proposed_by_id=lead.owner_id,
                                status=ProposalStatus.PENDING.value, note=rng.choice(PROPOSAL_NOTES),
                                created_at=now - timedelta(days=rng.randint(1, 4), minutes=rng.randint(0, 600))))
    db.session.flush()


# --- time -------------------------------------------------------------------------------------

def _seeding_moment(today: date) -> datetime:
    """Now when seeding for the real (or CRM_CLOCK_NOW's) today, else the end of `today` (local)."""
    now = clock.now().replace(microsecond=0)
    if now.astimezone(TZ).date() == today:
        return now
    return datetime.combine(today, time(23, 59), tzinfo=TZ).astimezone(timezone.utc)


def _local_day(moment: datetime) -> date:
    return _aware(moment).astimezone(TZ).date()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ).astimezone(timezone.utc)


def _is_workday(calendar: WorkCalendar, day: date) -> bool:
    try:
        return calendar.is_workday(day)
    except UnknownYearError:  # a year without a schedule: weekdays are near enough for seeding
        return day.weekday() < 5


def _workday_from(calendar: WorkCalendar, day: date) -> date:
    while not _is_workday(calendar, day):
        day += timedelta(days=1)
    return day


def _tuesdays(first: date, last: date, calendar: WorkCalendar, weeks: tuple[int, ...]) -> list[date]:
    """The given Tuesdays (0: the first) of every month (or the next working day), first to last."""
    out = []
    year, month = first.year, first.month
    while date(year, month, 1) <= last:
        tuesday = date(year, month, 1) + timedelta(days=(1 - date(year, month, 1).weekday()) % 7)
        for week in weeks:
            if (tuesday + timedelta(weeks=week)).month != month:
                continue
            day = _workday_from(calendar, tuesday + timedelta(weeks=week))
            if first <= day <= last:
                out.append(day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return sorted(set(out))


def _next_meeting_day(today: date, calendar: WorkCalendar) -> date:
    return _workday_from(calendar, today + timedelta(days=(1 - today.weekday()) % 7 or 7))


# --- which decisions, at which meeting --------------------------------------------------------

def _closed_cases() -> dict[int, list[tuple[int, datetime, int]]]:
    out: dict[int, list] = {}
    rows = db.session.execute(select(ScreeningCase.lead_id, ScreeningCase.round, ScreeningCase.closed_at,
                                     ScreeningCase.id).where(ScreeningCase.status == CaseStatus.CLOSED.value))
    for lead_id, round_, closed_at, case_id in rows:
        if closed_at is not None:
            out.setdefault(lead_id, []).append((round_, _aware(closed_at), case_id))
    return out


def _decisions(leads: list[Lead], today: date) -> list[_Decision]:
    out = []
    for lead in leads:
        changes = sorted(lead.stage_changes, key=lambda c: (_aware(c.changed_at), c.id or 0))
        for i, change in enumerate(changes):
            if i == 0 or change.from_stage != "awaiting_decision" or change.to_stage not in _DECIDED:
                continue
            entry, after = changes[i - 1], changes[i + 1] if i + 1 < len(changes) else None
            lo_day = _local_day(entry.changed_at) + timedelta(days=1)
            hi_day = today - timedelta(days=1)
            if after is not None:
                hi_day = min(hi_day, _local_day(after.changed_at) - timedelta(days=1))
            if change.to_stage == "rejected":  # no follow-up of the lead after it was turned down
                day = _local_day(change.changed_at)
                followed = [a.occurred_on for a in lead.activities if a.occurred_on <= day
                            and not any(m in a.summary for m in _ACTIVITY_MARKS)]
                if followed:
                    lo_day = max(lo_day, max(followed))
            out.append(_Decision(lead=lead, entry=entry, change=change, after=after, lo_day=lo_day,
                                 hi_day=hi_day, original=_aware(change.changed_at)))
    return out


def _assign(decisions: list[_Decision], regular: list[date], extra: list[date],
            rng: random.Random) -> list[_Sitting]:
    """Each decision to the first regular meeting in its window with room on the agenda, else to an
    extra meeting (a 1st, 3rd or 5th Tuesday), else to the least crowded of the next few, else to
    a meeting on the generator's own day."""
    sittings: dict[date, _Sitting] = {}
    caps: dict[date, int] = {}

    def sitting(day: date) -> _Sitting:
        return sittings.setdefault(day, _Sitting(day))

    def room(day: date) -> bool:
        if day not in caps:
            caps[day] = rng.randint(*AGENDA_CAP)
        held = sittings.get(day)
        return held is None or len(held.decided) + len(held.deferred) < caps[day]

    def load(day: date) -> int:
        held = sittings.get(day)
        return len(held.decided) + len(held.deferred) if held else 0

    def window(days: list[date], d: _Decision) -> list[date]:
        return days[bisect.bisect_left(days, d.lo_day):bisect.bisect_right(days, d.hi_day)]

    for d in sorted(decisions, key=lambda d: (d.entry.changed_at, d.lead.id)):
        fits = window(regular, d)
        free = [day for day in fits[:6] if room(day)]
        if len(free) >= 2 and rng.random() < DEFER_SHARE:
            d.deferred = True
            sitting(free[0]).deferred.append(d)
            sitting(free[1]).decided.append(d)
            continue
        if not free:
            free = [day for day in window(extra, d)[:4] if room(day)]
        if not free and fits:   # a crowded season: the least crowded meeting in time
            free = [min(sorted(fits[:3] + window(extra, d)[:3]), key=lambda day: load(day))]
        # no meeting in time: the group met on the day the generator says
        sitting(free[0] if free else _local_day(d.original)).decided.append(d)
    return [sittings[day] for day in sorted(sittings)]


# --- building the meetings --------------------------------------------------------------------

def _thresholds(code: str | None) -> dict:
    rows = [s for s in data.SCREENING_THRESHOLDS if s.get("park") is None and s.get("chain") in (None, code)]
    rows.sort(key=lambda s: s.get("chain") is not None, reverse=True)
    return {f: next((s[f] for s in rows if s.get(f) is not None), None)
            for f in ("min_tax_per_mu_wan", "min_intensity_wan_per_mu")}


def _concerns(lead: Lead, code: str | None) -> list[str]:
    """The reject reasons the project's figures and chain call for, most pressing first."""
    th = _thresholds(code)
    kinds = []
    if lead.tax_per_mu is not None and th["min_tax_per_mu_wan"] and lead.tax_per_mu < th["min_tax_per_mu_wan"]:
        kinds.append("tax")
    intensity = lead.investment_intensity
    if intensity is not None and th["min_intensity_wan_per_mu"] and intensity < th["min_intensity_wan_per_mu"]:
        kinds.append("intensity")
    kinds += {"fine_chemical": ["environment", "safety", "energy"], "light_alloy": ["energy", "environment"],
              "agri_forestry": ["forest"], "forest_wellness": ["forest"]}.get(code, [])
    return [r for k in kinds for r in data.DECISION_REJECT_REASONS[k]]


class _Builder:
    def __init__(self, rng: random.Random, group: list[User], titles: dict[int, str], admin: User,
                 cases: dict, now: datetime):
        self.rng, self.group, self.titles, self.admin, self.cases, self.now = rng, group, titles, admin, cases, now
        self.chair = group[0]
        self.chain_codes = dict(db.session.execute(select(Chain.id, Chain.code)).all())
        self._current_title = ""

    def _meeting(self, day: date, number: int, status: str, scheduled: datetime) -> Meeting:
        rng = self.rng
        names, weights = zip(*data.DECISION_LOCATIONS)
        meeting = Meeting(title=data.DECISION_MEETING_TITLE.format(year=day.year, n=number), meeting_on=day,
                          start_time=time(9, 30) if rng.random() < 0.8 else time(15, 0),
                          location=rng.choices(names, weights=weights)[0], status=status,
                          recorder=rng.choice(RECORDERS), observers=rng.choice(OBSERVERS),
                          scheduled_by_id=self.admin.id, created_at=min(scheduled, self.now - 2 * _MIN), version=1)
        if status != MeetingStatus.SCHEDULED:
            meeting.chair_id, meeting.member_count = self.chair.id, len(self.group)
            meeting.quorum_fraction, meeting.pass_fraction = QUORUM, PASS
            meeting.pass_basis, meeting.chair_votes_last = RULES.pass_basis, True
            meeting.abstain_counts_as_cast = ABSTAIN_CAST
        db.session.add(meeting)
        return meeting

    def _attendees(self, meeting: Meeting, present: set[int]) -> None:
        meeting.attendees = [Attendee(user_id=u.id, title=self.titles[u.id], position=i, present=u.id in present)
                             for i, u in enumerate(self.group)]
        kinds, weights = zip(*[(kind, weight) for kind, _notes, weight in ABSENCES])
        notes = {kind: pool for kind, pool, _weight in ABSENCES}
        for attendee in meeting.attendees:
            if not attendee.present:
                kind = self.rng.choices(kinds, weights=weights)[0]
                attendee.absence_reason = kind
                attendee.absence_note = self.rng.choice(notes[kind]) or None

    def _present(self, k: int) -> set[int]:
        others = self.rng.sample(self.group[1:], k - 1)   # the chair always attends
        return {self.chair.id} | {u.id for u in others}

    def _case_id(self, lead_id: int, before: datetime) -> int | None:
        rows = [r for r in self.cases.get(lead_id, []) if r[1] <= before]
        return max(rows)[2] if rows else None

    # -- a meeting held and closed -----------------------------------------------------------
    def held(self, sitting: _Sitting, number: int) -> None:
        rng, now = self.rng, self.now
        day = sitting.day
        opened = _at(day, 9) + timedelta(minutes=rng.randint(0, 30))
        t = opened + timedelta(minutes=rng.randint(12, 25))
        decided = sorted(sitting.decided, key=lambda d: (not d.deferred, d.entry.changed_at))
        step = min(10.0, 150 / max(len(decided), 1))   # a long agenda is taken briskly
        for d in decided:
            t += timedelta(minutes=rng.uniform(0.6, 1.4) * step)
            d.at = t
            if not d.fits(t, now):    # the generator's own time, or as near it as the history allows
                d.at = d.original
                if not d.fits(d.at, now):
                    d.at = max(_aware(d.entry.changed_at) + 2 * _MIN, min(d.original, now - 10 * _MIN))
        decided.sort(key=lambda d: d.at)
        opened = min([opened] + [d.at - timedelta(minutes=20) for d in decided])
        last = max([d.at for d in decided], default=opened + timedelta(minutes=40))
        closed = last + timedelta(minutes=rng.randint(8, 25))
        if closed >= now:
            closed = last + (now - last) / 2
        meeting = self._meeting(day, number, MeetingStatus.CLOSED.value,
                                _at(day - timedelta(days=rng.randint(6, 12)), 10, rng.randint(0, 59)))
        meeting.opened_at, meeting.closed_at = opened, closed
        self._current_title = meeting.title
        present = self._present(rng.choices((6, 5, 4), weights=(45, 40, 15))[0])
        self._attendees(meeting, present)
        previous = opened
        for position, d in enumerate(decided):
            meeting.items.append(self._decided_item(d, position, present, previous))
            previous = d.at
        for position, d in enumerate(sitting.deferred, start=len(decided)):
            meeting.items.append(AgendaItem(lead=d.lead, position=position, status=ItemStatus.DEFERRED.value,
                                            screening_case_id=self._case_id(d.lead.id, opened), version=1))

    def _decided_item(self, d: _Decision, position: int, present: set[int], since: datetime) -> AgendaItem:
        rng = self.rng
        lead = d.lead
        code = self.chain_codes.get(lead.chain_id)
        members = [u for u in self.group if u.id in present]
        recuser = None
        if len(members) >= 5 and rng.random() < RECUSE_SHARE:
            recuser = rng.choice(members[1:])
        voters = [u for u in members if u is not recuser]
        choices = self._choices(len(voters), d.passed, recused=recuser is not None)
        majority = Choice.APPROVE if d.passed else Choice.REJECT
        rest = choices[:]
        rest.remove(majority)
        rng.shuffle(rest)
        by_user = {voters[0].id: majority}           # the chair votes with the majority
        by_user.update({u.id: c for u, c in zip(voters[1:], rest)})
        silent = None  # now and then a member states no view and the chair marks it (未表决)
        if rng.random() < NOT_VOTED_SHARE:
            candidates = [u for u in voters[1:] if by_user[u.id] != majority]
            silent = candidates[0] if candidates else None
            if silent is not None:
                by_user[silent.id] = Choice.NOT_VOTED

        concerns = _concerns(lead, code)
        general = list(data.DECISION_REJECT_REASONS["general"])
        reasons_left = rng.sample(concerns, len(concerns)) if concerns else []
        reasons_left += rng.sample(general, len(general))
        approve_pool = data.DECISION_APPROVE_REASONS.get(code) or data.DECISION_APPROVE_REASONS[None]
        approve_said = False
        votes = []
        start = max(since, d.at - timedelta(minutes=15))
        span = max((d.at - start).total_seconds() - 30, 30)
        if recuser is not None:
            votes.append(Vote(user_id=recuser.id, choice=Choice.RECUSE.value, version=1,
                              reason=rng.choice(data.DECISION_RECUSAL_REASONS), updated_at=start))
        first_reject = True
        # The chair states a view last (末位表态): the chair's vote is the latest.
        chair_at = start + timedelta(seconds=span + 20)
        for u in voters:
            choice, reason = by_user[u.id], None
            if choice == Choice.REJECT:
                if (first_reject or rng.random() < 0.85) and reasons_left:
                    reason = reasons_left.pop(0)
                first_reject = False
            elif choice == Choice.ABSTAIN and rng.random() < 0.4:
                reason = rng.choice(data.DECISION_ABSTAIN_REASONS)
            elif choice == Choice.APPROVE and not approve_said and rng.random() < 0.12:
                reason, approve_said = rng.choice(approve_pool), True
            at = chair_at if u is self.chair else start + timedelta(seconds=rng.uniform(0, span))
            votes.append(Vote(user_id=u.id, choice=choice.value, reason=reason, version=1, updated_at=at,
                              marked_by_id=self.chair.id if choice == Choice.NOT_VOTED else None))
        tally = {c: sum(1 for v in votes if v.choice == c) for c in Choice}
        count = Count(members=len(self.group), present=len(members), recused=tally[Choice.RECUSE],
                      approve=tally[Choice.APPROVE], reject=tally[Choice.REJECT], abstain=tally[Choice.ABSTAIN],
                      not_voted=tally[Choice.NOT_VOTED])
        outcome = decide(count, RULES)
        assert outcome.quorum and outcome.passed == d.passed, (count, d.passed)

        conditions = None
        if d.passed and rng.random() < CONDITION_SHARE:
            pool = data.DECISION_CHAIN_CONDITIONS.get(code, []) + data.DECISION_CONDITIONS
            conditions = "；".join(rng.sample(pool, 1 if rng.random() < 0.7 else 2))
        item = AgendaItem(lead=lead, position=position, screening_case_id=self._case_id(lead.id, d.at),
                          status=ItemStatus.CLOSED.value,
                          result=(ItemResult.PASSED if outcome.passed else ItemResult.FAILED).value,
                          members=count.members, present=count.present, recused=count.recused,
                          approve=count.approve, reject=count.reject, abstain=count.abstain,
                          not_voted=count.not_voted,
                          conditions=conditions, last_vote_at=max(v.updated_at for v in votes),
                          closed_at=d.at, closed_by_id=self.chair.id, version=1)
        item.votes = votes
        self._move_lead(d, count, votes)
        return item

    def _choices(self, n: int, passed: bool, recused: bool = False) -> list[Choice]:
        rng = self.rng
        A, R, S = Choice.APPROVE, Choice.REJECT, Choice.ABSTAIN
        if passed:
            x = rng.random()
            shapes = ([A] * n if x < 0.68 else [A] * (n - 1) + [S] if x < 0.84 else
                      [A] * (n - 1) + [R] if x < 0.97 else [A] * (n - 2) + [R, S])
            fallback = [A] * n
        else:
            lo = n // 2 + 1
            rejects = rng.choices(range(lo, n + 1), weights=[3 if j == n else 4 if j == lo else 2
                                                             for j in range(lo, n + 1)])[0]
            shapes = [R] * rejects + [A if rng.random() < 0.7 else S for _ in range(n - rejects)]
            fallback = [R] * n
        for choices in (shapes, fallback):
            count = Count(members=len(self.group), present=n + recused, recused=int(recused),
                          approve=choices.count(A), reject=choices.count(R), abstain=choices.count(S))
            if decide(count, RULES).passed == passed:
                return choices
        raise AssertionError("no vote gives the result")  # pragma: no cover

    def _move_lead(self, d: _Decision, count: Count, votes: list[Vote]) -> None:
        """The lead's decision move: at the item's closing, by the chair, with the app's reason."""
        title = self._current_title
        figures = (f"应到 {count.members} 人，实到 {count.present} 人；"
                   f"同意 {count.approve} 票，不同意 {count.reject} 票，弃权 {count.abstain} 票")
        if d.passed:
            reason = f"领导小组集体决策同意落地（{title}）：{figures}"
        else:
            reason = f"领导小组集体决策不同意落地（{title}）：{figures}"
            said = "；".join(v.reason for v in votes if v.choice == Choice.REJECT and v.reason)
            if said:
                reason = f"{reason}。{said}"
        old_day, new_day = _local_day(d.original), _local_day(d.at)
        change = d.change
        change.changed_at, change.changed_by, change.reason = d.at, self.chair, reason[:500]
        lead = d.lead
        if new_day != old_day:
            for activity in lead.activities:
                if activity.occurred_on == old_day and any(m in activity.summary for m in _ACTIVITY_MARKS):
                    activity.occurred_on = new_day
                    activity.created_at = min(d.at + timedelta(hours=self.rng.randint(2, 5)), self.now)
        if lead.updated_at is None or _aware(lead.updated_at) < d.at:
            lead.updated_at = d.at

    # -- today's meeting and the next ----------------------------------------------------------
    def in_session(self, day: date, number: int, opened: datetime, leads: list[Lead]) -> None:
        rng, now = self.rng, self.now
        meeting = self._meeting(day, number, MeetingStatus.OPEN.value,
                                _at(day - timedelta(days=rng.randint(6, 9)), 10, rng.randint(0, 59)))
        meeting.opened_at = opened
        present = self._present(5)
        self._attendees(meeting, present)
        for position, lead in enumerate(leads):
            meeting.items.append(AgendaItem(lead=lead, position=position, status=ItemStatus.OPEN.value,
                                            screening_case_id=self._case_id(lead.id, opened), version=1))
        first = meeting.items[0]
        voters = rng.sample([u for u in self.group[1:] if u.id in present], 2)
        span = max((now - opened).total_seconds() - 60, 60)
        first.votes = [Vote(user_id=u.id, choice=Choice.APPROVE.value, version=1,
                            updated_at=opened + timedelta(seconds=min(rng.uniform(0.1, 0.6) * span, 40 * 60)))
                       for u in voters]
        first.last_vote_at = max(v.updated_at for v in first.votes)

    def scheduled(self, day: date, number: int, leads: list[Lead]) -> None:
        ago = timedelta(days=self.rng.randint(1, 3), minutes=self.rng.randint(0, 300))
        meeting = self._meeting(day, number, MeetingStatus.SCHEDULED.value, self.now - ago)
        for position, lead in enumerate(leads):
            meeting.items.append(AgendaItem(lead=lead, position=position, status=ItemStatus.OPEN.value,
                                            screening_case_id=self._case_id(lead.id, self.now), version=1))
