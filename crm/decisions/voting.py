"""Votes on an agenda item: sealed until the close, the chair last, 未表决 marked by the chair,
closing by the meeting's frozen rules after a confirmation. Flush, never commit."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from crm import clock
from crm.auth.models import User
from crm.auth.roles import Role
from crm.decisions.counting import Count, Outcome, decide
from crm.decisions.models import (CHOICE_WORDS, MEMBER_CHOICES, AgendaItem, Attendee, Choice, ItemResult,
                                  ItemStatus, Meeting, MeetingStatus, Vote)
from crm.decisions.services import DecisionError, attendee_of, meeting_rules
from crm.extensions import db
from crm.leads import services as lead_services
from crm.leads.pipeline import Stage
from crm.notifications.services import notify, unit_users_with_role


def _own_vote(item: AgendaItem, user_id: int) -> Vote | None:
    return db.session.scalar(select(Vote).where(Vote.item_id == item.id, Vote.user_id == user_id))


def waiting_for(item: AgendaItem, *, besides_chair: bool = False) -> list[Attendee]:
    """Present members with no vote (nor a 未表决 mark) on the item, in the group's order."""
    answered = {v.user_id for v in item.votes}
    chair_id = item.meeting.chair_id
    return [a for a in item.meeting.attendees if a.present and a.user_id not in answered
            and not (besides_chair and a.user_id == chair_id)]


def chair_may_vote(item: AgendaItem) -> bool:
    """末位表态: the chair's vote opens once every other present member has voted or been marked."""
    return not item.meeting.chair_votes_last or not waiting_for(item, besides_chair=True)


def _check_open(item: AgendaItem) -> None:
    if item.meeting.status == MeetingStatus.SCHEDULED:
        raise DecisionError(_("Voting starts when the meeting opens."), status=409)
    if not item.is_open or item.meeting.status != MeetingStatus.OPEN:
        raise DecisionError(_("This item is closed; its votes can no longer change."), status=409)


def _bump(item: AgendaItem, now) -> None:
    item.last_vote_at = now  # bumps the item's version: a concurrent close or vote must retry


def cast_vote(item: AgendaItem, voter: User, choice: str, reason: str | None,
              based_on_version: int | None = None) -> Vote:
    meeting = item.meeting
    if meeting.status == MeetingStatus.SCHEDULED:
        raise DecisionError(_("Voting starts when the meeting opens."), status=409)
    attendee = attendee_of(meeting, voter.id)
    if attendee is None:
        raise DecisionError(_("Only members of the leadership group at this meeting can vote."), status=403)
    _check_open(item)
    if not attendee.present:
        raise DecisionError(_("You are recorded as absent from this meeting (%(reason)s), so you cannot vote. "
                              "Attendance can be corrected only before the first vote.",
                              reason=attendee.absence_label or _("absent")), status=409)
    if choice not in {c.value for c in MEMBER_CHOICES}:
        raise DecisionError(_("Choose approve, reject, abstain or recuse."), "choice")
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > 2000:
        raise DecisionError(_("Keep the reason within %(n)s characters.", n=2000), "reason")
    if choice == Choice.RECUSE and not reason:
        raise DecisionError(_("State the conflict of interest you recuse for."), "reason")
    if voter.id == meeting.chair_id and choice != Choice.RECUSE and not chair_may_vote(item):
        raise DecisionError(_("The chair states a view last: %(n)s member(s) present have not voted yet.",
                              n=len(waiting_for(item, besides_chair=True))), status=409)
    existing = _own_vote(item, voter.id)
    if existing is not None and existing.choice == Choice.RECUSE:
        raise DecisionError(_("You recused yourself on this item and cannot vote on it."), status=409)
    stale = (existing is None and based_on_version not in (None, 0)) or (
        existing is not None and based_on_version is not None and existing.version != based_on_version)
    if stale:
        raise DecisionError(_("Your vote was changed in another window a moment ago; reload to see it."),
                            status=409)
    now = clock.now()
    try:
        with db.session.begin_nested():
            if existing is None:
                existing = Vote(item_id=item.id, user_id=voter.id, choice=choice, reason=reason, updated_at=now)
                db.session.add(existing)
            else:  # a member marked 未表决 who then votes replaces the mark with the vote
                existing.choice, existing.reason, existing.updated_at = choice, reason, now
                existing.marked_by_id = None
            _bump(item, now)
            db.session.flush()
    except (IntegrityError, StaleDataError):
        status = db.session.scalar(select(AgendaItem.status).where(AgendaItem.id == item.id))
        if status != ItemStatus.OPEN:
            raise DecisionError(_("This item is closed; its votes can no longer change."), status=409)
        raise DecisionError(_("Another vote of yours on this item was recorded at the same moment; "
                              "reload to see it."), status=409)
    db.session.refresh(item)
    return existing


def mark_not_voted(item: AgendaItem, actor: User, user_id: int) -> Vote:
    """The chair records that a present member stated no view (未表决); only one who has not voted."""
    meeting = item.meeting
    if actor.id != meeting.chair_id:
        raise DecisionError(_("Only the chair marks a member as not voting."), status=403)
    _check_open(item)
    attendee = attendee_of(meeting, user_id)
    if attendee is None or not attendee.present:
        raise DecisionError(_("Only a member present at the meeting can be marked as not voting."), status=409)
    if user_id == meeting.chair_id:
        raise DecisionError(_("The chair votes (or abstains) and cannot mark themselves as not voting."),
                            status=409)
    if _own_vote(item, user_id) is not None:
        raise DecisionError(_("%(name)s has already voted on this item; a vote is never overwritten.",
                              name=attendee.user.display_name), status=409)
    now = clock.now()
    vote = Vote(item_id=item.id, user_id=user_id, choice=Choice.NOT_VOTED.value, marked_by_id=actor.id,
                updated_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(vote)
            _bump(item, now)
            db.session.flush()
    except (IntegrityError, StaleDataError):
        raise DecisionError(_("%(name)s voted at this very moment; reload to see the count.",
                              name=attendee.user.display_name), status=409)
    db.session.refresh(item)
    return vote


def visible_votes(item: AgendaItem, viewer: User) -> list[Vote]:
    """Sealed: until the item closes a member sees only their own vote; afterwards everyone's."""
    if not item.is_open:
        return list(item.votes)
    return [v for v in item.votes if v.user_id == viewer.id]


@dataclass(frozen=True)
class Progress:
    """What anyone may see of an open item: how many of those present have voted."""
    voted: int
    present: int


def progress(item: AgendaItem) -> Progress:
    present = {a.user_id for a in item.meeting.attendees if a.present}
    return Progress(voted=sum(1 for v in item.votes if v.user_id in present), present=len(present))


def count(item: AgendaItem) -> Count:
    meeting = item.meeting
    present = {a.user_id for a in meeting.attendees if a.present}
    votes = [v for v in item.votes if v.user_id in present]
    tally = {c: sum(1 for v in votes if v.choice == c) for c in Choice}
    return Count(members=meeting.member_count or 0, present=len(present), recused=tally[Choice.RECUSE],
                 approve=tally[Choice.APPROVE], reject=tally[Choice.REJECT], abstain=tally[Choice.ABSTAIN],
                 not_voted=tally[Choice.NOT_VOTED])


def recorded_count(item: AgendaItem) -> Count:
    """The count kept on a closed item (a closed item never changes), else the live one."""
    if item.is_open or item.members is None:
        return count(item)
    return Count(members=item.members, present=item.present, recused=item.recused, approve=item.approve,
                 reject=item.reject, abstain=item.abstain, not_voted=item.not_voted or 0)


def _check_closable(item: AgendaItem, actor: User) -> tuple[Count, Outcome]:
    meeting = item.meeting
    if meeting.status != MeetingStatus.OPEN:
        raise DecisionError(_("Items are closed during the meeting."), status=409)
    if actor.id != meeting.chair_id:
        raise DecisionError(_("Only the chair closes an item."), status=403)
    if not item.is_open:
        raise DecisionError(_("This item is closed already; a decision never changes."), status=409)
    tally = count(item)
    outcome = decide(tally, meeting_rules(meeting))
    if not outcome.quorum:
        raise DecisionError(_("No quorum: %(n)s of %(m)s members are present. It stays on the agenda; if the "
                              "meeting ends without it, it goes to the next meeting.",
                              n=tally.present, m=tally.members), status=409)
    waiting = waiting_for(item)
    if waiting:
        raise DecisionError(_("Not everyone present has voted: %(names)s. Wait for their votes, or mark them "
                              "as not voting.", names="、".join(a.user.display_name for a in waiting)),
                            status=409)
    if not outcome.decidable:
        raise DecisionError(_("No vote has been cast on this item, so it cannot be decided."), status=409)
    return tally, outcome


def close_preview(item: AgendaItem, actor: User) -> tuple[Count, Outcome]:
    """What closing would record now (for the confirmation); raises when it may not close."""
    return _check_closable(item, actor)


def close_item(item: AgendaItem, actor: User, conditions: str | None = None,
               confirmed_version: int | None = None) -> Outcome:
    """The chair closes an item after confirming the count shown (item version `confirmed_version`):
    the result by the meeting's frozen rules moves the lead, and its owner unit is told."""
    tally, outcome = _check_closable(item, actor)
    if confirmed_version is None or confirmed_version != item.version:
        raise DecisionError(_("The votes changed since the count was shown; check the new count and confirm "
                              "again."), status=409)
    meeting = item.meeting
    item.status = ItemStatus.CLOSED.value
    item.result = ItemResult.PASSED.value if outcome.passed else ItemResult.FAILED.value
    item.members, item.present, item.recused = tally.members, tally.present, tally.recused
    item.approve, item.reject, item.abstain = tally.approve, tally.reject, tally.abstain
    item.not_voted = tally.not_voted
    item.conditions = (conditions or "").strip() or None
    item.closed_at = clock.now()
    item.closed_by_id = actor.id
    lead = item.lead
    counts = dict(meeting=meeting.title, a=tally.approve, r=tally.reject, s=tally.abstain, m=tally.members,
                  p=tally.present)
    if outcome.passed:
        reason = _("Admitted by the leadership group (%(meeting)s): %(m)s members, %(p)s present; %(a)s for, "
                   "%(r)s against, %(s)s abstaining", **counts)
        target = Stage.ADMITTED
    else:
        reasons = "；".join(v.reason for v in item.votes if v.choice == Choice.REJECT and v.reason)
        reason = _("Not admitted by the leadership group (%(meeting)s): %(m)s members, %(p)s present; %(a)s "
                   "for, %(r)s against, %(s)s abstaining", **counts)
        if reasons:
            reason = f"{reason}。{reasons}"
        target = Stage.REJECTED
    try:
        with db.session.begin_nested():
            if lead.stage == Stage.AWAITING_DECISION:
                lead_services.change_stage(lead, target, actor, reason=reason[:500], workflow=True)
            db.session.flush()
    except StaleDataError:
        raise DecisionError(_("This item was closed a moment ago."), status=409)
    _tell_owner_unit(item)
    return outcome


def _tell_owner_unit(item: AgendaItem) -> None:
    """The officer who owns the project and the team leads of its unit learn the decision."""
    lead = item.lead
    team_leads = unit_users_with_role([lead.owner_unit_id], Role.TEAM_LEAD).get(lead.owner_unit_id, [])
    recipients = set(team_leads) | ({lead.owner_id} if lead.owner_id else set())
    kind = "decision_admitted" if item.result == ItemResult.PASSED else "decision_rejected"
    notify(recipients, kind, {"company": lead.company_name, "meeting": item.meeting.title,
                              "conditions": item.conditions or ""}, f"/leads/{lead.id}")


@dataclass(frozen=True)
class MemberLine:
    """One member's line on a decided item: 同意 / 不同意 / 弃权 / 回避 / 未表决 / 缺席."""
    name: str
    title: str
    status: str  # a Choice value, or "absent"
    label: str
    detail: str  # the reason, the stated conflict, or why absent


def member_lines(item: AgendaItem) -> list[MemberLine]:
    """Every member of the meeting, in the group's order, with what they did on the item.

    Only for a closed item (votes are sealed before): callers show it once `item.is_open` is false.
    """
    votes = {v.user_id: v for v in item.votes}
    lines = []
    for attendee in item.meeting.attendees:
        name, title = attendee.user.display_name, attendee.title or ""
        if not attendee.present:
            lines.append(MemberLine(name, title, "absent", _("Absent"), attendee.absence_label))
            continue
        vote = votes.get(attendee.user_id)
        choice = vote.choice if vote else Choice.NOT_VOTED.value  # kept from before every vote was asked for
        lines.append(MemberLine(name, title, choice, str(CHOICE_WORDS[Choice(choice)]),
                                (vote.reason or "") if vote else ""))
    return lines


def pending_votes_for(user: User) -> list[AgendaItem]:
    """Open items of meetings in session where this member is present and has not voted yet."""
    voted = select(Vote.item_id).where(Vote.user_id == user.id)
    return list(db.session.scalars(
        select(AgendaItem).join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .join(Attendee, (Attendee.meeting_id == Meeting.id) & (Attendee.user_id == user.id))
        .where(Meeting.status == MeetingStatus.OPEN.value, AgendaItem.status == ItemStatus.OPEN.value,
               Attendee.present.is_(True), AgendaItem.id.not_in(voted))
        .order_by(Meeting.meeting_on, AgendaItem.position)))

