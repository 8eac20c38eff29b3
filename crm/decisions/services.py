"""Collective-decision rules: membership, meetings, agenda, votes, closing. Flush, never commit."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from crm import clock
from crm.auth.models import User
from crm.auth.roles import Role
from crm.decisions.counting import Count, Outcome, Rules, decide
from crm.decisions.models import (AgendaItem, Attendee, Choice, DecisionRules, GroupMember, ItemResult,
                                  ItemStatus, Meeting, MeetingStatus, Vote)
from crm.extensions import db
from crm.leads import services as lead_services
from crm.leads.models import Lead
from crm.leads.pipeline import Stage, stage_label
from crm.notifications.services import notify
from crm.screening.models import ScreeningCase


class DecisionError(ValueError):
    def __init__(self, message: str, field: str | None = None, status: int = 400):
        super().__init__(message)
        self.field = field
        self.status = status


def meeting_path(meeting_id: int) -> str:
    return f"/decisions/meetings/{meeting_id}"


# --- the group and its rules -----------------------------------------------------------------

def get_rules() -> DecisionRules:
    rules = db.session.get(DecisionRules, 1)
    if rules is None:
        rules = DecisionRules(id=1, quorum_fraction=Decimal("0.5"), pass_fraction=Decimal("0.5"),
                              abstain_counts_as_cast=True)
        db.session.add(rules)
        db.session.flush()
    return rules


def save_rules(quorum_fraction: Decimal, pass_fraction: Decimal, abstain_counts_as_cast: bool) -> DecisionRules:
    """Change the county's rules; meetings already open keep the rules they opened with."""
    for value, field in ((quorum_fraction, "quorum_fraction"), (pass_fraction, "pass_fraction")):
        if value is None or not Decimal(0) <= value < Decimal(1):
            raise DecisionError(_("Give a share from 0 up to (not including) 1, e.g. 0.5 for “more than half”."),
                                field)
    rules = get_rules()
    rules.quorum_fraction, rules.pass_fraction = quorum_fraction, pass_fraction
    rules.abstain_counts_as_cast = abstain_counts_as_cast
    db.session.flush()
    return rules


def members() -> list[GroupMember]:
    return list(db.session.scalars(select(GroupMember).join(User, User.id == GroupMember.user_id)
                                   .where(User.active.is_(True)).order_by(GroupMember.position, User.id)))


def leader_candidates() -> list[User]:
    from crm.auth.models import UserRole

    return list(db.session.scalars(select(User).join(UserRole, UserRole.user_id == User.id)
                                   .where(UserRole.role == Role.LEADER, User.active.is_(True)).order_by(User.id)))


def set_membership(entries: list[tuple[int, str]], chair_id: int | None) -> None:
    """Replace the group: (user id, title) in order; the chair must be one of them."""
    ids = [uid for uid, _title in entries]
    allowed = {u.id for u in leader_candidates()}
    if any(uid not in allowed for uid in ids):
        raise DecisionError(_("Only active users with the leadership-group role can be members."), "members")
    if chair_id is not None and chair_id not in ids:
        raise DecisionError(_("The chair must be a member of the group."), "chair_id")
    if ids and chair_id is None:
        raise DecisionError(_("Choose the chair."), "chair_id")
    db.session.execute(delete(GroupMember))
    db.session.add_all(GroupMember(user_id=uid, title=(title or "").strip(), position=i, is_chair=uid == chair_id)
                       for i, (uid, title) in enumerate(entries))
    db.session.flush()


def is_member(user) -> bool:
    return db.session.get(GroupMember, user.id) is not None


# --- meetings and the agenda -----------------------------------------------------------------

def schedule_meeting(title: str, meeting_on: date, location: str | None, actor: User) -> Meeting:
    title = (title or "").strip()
    if not title:
        raise DecisionError(_("Give the meeting a title."), "title")
    meeting = Meeting(title=title, meeting_on=meeting_on, location=(location or "").strip() or None,
                      scheduled_by_id=actor.id, status=MeetingStatus.SCHEDULED.value)
    db.session.add(meeting)
    db.session.flush()
    for lead in deferred_leads():  # what earlier meetings could not decide comes first
        add_item(meeting, lead)
    notify([m.user_id for m in members()], "meeting_scheduled",
           {"title": meeting.title, "day": meeting_on.isoformat()}, meeting_path(meeting.id))
    return meeting


def items_pending_for(lead_id: int) -> AgendaItem | None:
    """An undecided item for the lead on a meeting that has not closed."""
    return db.session.scalar(select(AgendaItem).join(Meeting, Meeting.id == AgendaItem.meeting_id).where(
        AgendaItem.lead_id == lead_id, AgendaItem.status == ItemStatus.OPEN.value,
        Meeting.status != MeetingStatus.CLOSED.value))


def add_item(meeting: Meeting, lead: Lead) -> AgendaItem:
    if meeting.status == MeetingStatus.CLOSED:
        raise DecisionError(_("This meeting has closed; put the project on another meeting."), status=409)
    if lead.stage != Stage.AWAITING_DECISION:
        raise DecisionError(_("Only a project awaiting the collective decision can be put on the agenda; "
                              "this one is at “%(stage)s”.", stage=stage_label(lead.stage)), "lead_id")
    if items_pending_for(lead.id) is not None:
        raise DecisionError(_("This project is already on the agenda of a meeting."), "lead_id", status=409)
    case = db.session.scalar(select(ScreeningCase).where(ScreeningCase.lead_id == lead.id,
                                                         ScreeningCase.status == "closed")
                             .order_by(ScreeningCase.round.desc()).limit(1))
    item = AgendaItem(meeting=meeting, lead=lead, screening_case_id=case.id if case else None,
                      position=len(meeting.items), status=ItemStatus.OPEN.value)
    db.session.add(item)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise DecisionError(_("This project is already on the agenda of a meeting."), "lead_id", status=409)
    return item


def remove_item(item: AgendaItem) -> None:
    if item.meeting.status != MeetingStatus.SCHEDULED:
        raise DecisionError(_("Items can be taken off the agenda only before the meeting opens."), status=409)
    db.session.delete(item)
    db.session.flush()


def open_meeting(meeting: Meeting, present_ids) -> Meeting:
    """Freeze the chair, the members and the rules; record who attends."""
    if meeting.status != MeetingStatus.SCHEDULED:
        raise DecisionError(_("This meeting is already open or closed."), status=409)
    group = members()
    chair = next((m for m in group if m.is_chair), None)
    if chair is None:
        raise DecisionError(_("The leadership group has no chair: an administrator must set the group first."),
                            status=409)
    rules = get_rules()
    present_ids = {int(i) for i in present_ids}
    meeting.status = MeetingStatus.OPEN.value
    meeting.opened_at = clock.now()
    meeting.chair_id = chair.user_id
    meeting.member_count = len(group)
    meeting.quorum_fraction = rules.quorum_fraction
    meeting.pass_fraction = rules.pass_fraction
    meeting.abstain_counts_as_cast = rules.abstain_counts_as_cast
    meeting.attendees = [Attendee(user_id=m.user_id, title=m.title, position=i, present=m.user_id in present_ids)
                         for i, m in enumerate(group)]
    db.session.flush()
    return meeting


def meeting_rules(meeting: Meeting) -> Rules:
    return Rules(quorum_fraction=meeting.quorum_fraction, pass_fraction=meeting.pass_fraction,
                 abstain_counts_as_cast=meeting.abstain_counts_as_cast)


def attendee_of(meeting: Meeting, user_id: int) -> Attendee | None:
    return next((a for a in meeting.attendees if a.user_id == user_id), None)


# --- votes -----------------------------------------------------------------------------------

def cast_vote(item: AgendaItem, voter: User, choice: str, reason: str | None,
              based_on_version: int | None = None) -> Vote:
    meeting = item.meeting
    attendee = attendee_of(meeting, voter.id) if meeting.status != MeetingStatus.SCHEDULED else None
    if meeting.status == MeetingStatus.SCHEDULED:
        raise DecisionError(_("Voting starts when the meeting opens."), status=409)
    if attendee is None:
        raise DecisionError(_("Only members of the leadership group at this meeting can vote."), status=403)
    if not item.is_open or meeting.status != MeetingStatus.OPEN:
        raise DecisionError(_("This item is closed; its votes can no longer change."), status=409)
    if choice not in {c.value for c in Choice}:
        raise DecisionError(_("Choose approve, reject, abstain or recuse."), "choice")
    reason = (reason or "").strip() or None
    if choice == Choice.RECUSE and not reason:
        raise DecisionError(_("State the conflict of interest you recuse for."), "reason")
    existing = db.session.scalar(select(Vote).where(Vote.item_id == item.id, Vote.user_id == voter.id))
    if existing is not None and existing.choice == Choice.RECUSE:
        raise DecisionError(_("You recused yourself on this item and cannot vote on it."), status=409)
    if existing is not None and based_on_version is not None and existing.version != based_on_version:
        raise DecisionError(_("Your vote was changed in another window a moment ago; reload to see it."),
                            status=409)
    if existing is None and based_on_version not in (None, 0):
        raise DecisionError(_("Your vote was changed in another window a moment ago; reload to see it."),
                            status=409)
    now = clock.now()
    try:
        with db.session.begin_nested():
            if existing is None:
                existing = Vote(item_id=item.id, user_id=voter.id, choice=choice, reason=reason, updated_at=now)
                db.session.add(existing)
            else:
                existing.choice, existing.reason, existing.updated_at = choice, reason, now
            attendee.present = True  # voting is taking part
            item.last_vote_at = now  # bumps the item's version: a concurrent close or vote must retry
            db.session.flush()
    except (IntegrityError, StaleDataError):
        status = db.session.scalar(select(AgendaItem.status).where(AgendaItem.id == item.id))
        if status != ItemStatus.OPEN:
            raise DecisionError(_("This item is closed; its votes can no longer change."), status=409)
        raise DecisionError(_("Another vote of yours on this item was recorded at the same moment; "
                              "reload to see it."), status=409)
    return existing


def visible_votes(item: AgendaItem, viewer: User) -> list[Vote]:
    """Everyone sees the votes once the item is closed; before that a recused member sees only
    their own (and so do non-members)."""
    if not item.is_open:
        return list(item.votes)
    own = [v for v in item.votes if v.user_id == viewer.id]
    attendee = attendee_of(item.meeting, viewer.id) if item.meeting.attendees else None
    if attendee is None or (own and own[0].choice == Choice.RECUSE):
        return own
    return list(item.votes)


def count(item: AgendaItem) -> Count:
    meeting = item.meeting
    present = {a.user_id for a in meeting.attendees if a.present}
    votes = [v for v in item.votes if v.user_id in present]
    tally = {c: sum(1 for v in votes if v.choice == c) for c in Choice}
    return Count(members=meeting.member_count or 0, present=len(present), recused=tally[Choice.RECUSE],
                 approve=tally[Choice.APPROVE], reject=tally[Choice.REJECT], abstain=tally[Choice.ABSTAIN])


def close_item(item: AgendaItem, actor: User, conditions: str | None = None) -> Outcome:
    """The chair closes an item: the result by the meeting's frozen rules moves the lead."""
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
        raise DecisionError(_("No quorum: %(n)s of %(m)s members take part in this item. It stays on the agenda; "
                              "if the meeting ends without it, it goes to the next meeting.",
                              n=tally.taking_part, m=tally.members), status=409)
    item.status = ItemStatus.CLOSED.value
    item.result = ItemResult.PASSED.value if outcome.passed else ItemResult.FAILED.value
    item.members, item.present, item.recused = tally.members, tally.present, tally.recused
    item.approve, item.reject, item.abstain = tally.approve, tally.reject, tally.abstain
    item.conditions = (conditions or "").strip() or None
    item.closed_at = clock.now()
    item.closed_by_id = actor.id
    lead = item.lead
    if outcome.passed:
        reason = _("Admitted by the leadership group (%(meeting)s): %(a)s for, %(r)s against, %(s)s abstaining",
                   meeting=meeting.title, a=tally.approve, r=tally.reject, s=tally.abstain)
        target = Stage.ADMITTED
    else:
        reasons = "；".join(v.reason for v in item.votes if v.choice == Choice.REJECT and v.reason)
        reason = _("Not admitted by the leadership group (%(meeting)s): %(a)s for, %(r)s against, %(s)s "
                   "abstaining", meeting=meeting.title, a=tally.approve, r=tally.reject, s=tally.abstain)
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
    return outcome


def close_meeting(meeting: Meeting, actor: User) -> int:
    """End the meeting; undecided items are deferred (their projects go to the next meeting)."""
    if meeting.status != MeetingStatus.OPEN:
        raise DecisionError(_("Only a meeting in session can be closed."), status=409)
    if actor.id != meeting.chair_id and not actor.has_role(Role.ADMIN):
        raise DecisionError(_("Only the chair or an administrator ends the meeting."), status=403)
    deferred = []
    for item in meeting.items:
        if item.is_open:
            item.status = ItemStatus.DEFERRED.value
            deferred.append(item.lead)
    meeting.status = MeetingStatus.CLOSED.value
    meeting.closed_at = clock.now()
    db.session.flush()
    following = db.session.scalar(select(Meeting).where(Meeting.status == MeetingStatus.SCHEDULED.value,
                                                        Meeting.id != meeting.id)
                                  .order_by(Meeting.meeting_on, Meeting.id).limit(1))
    if following is not None:  # undecided projects go onto the next meeting's agenda
        for lead in deferred:
            if lead.stage == Stage.AWAITING_DECISION and items_pending_for(lead.id) is None:
                add_item(following, lead)
    return len(deferred)


def deferred_leads() -> list[Lead]:
    """Projects an earlier meeting ended without deciding, still awaiting and on no agenda."""
    deferred = select(AgendaItem.lead_id).where(AgendaItem.status == ItemStatus.DEFERRED.value)
    return [lead for lead in awaiting_leads() if lead.id in set(db.session.scalars(deferred))]


def pending_votes_for(user: User) -> list[AgendaItem]:
    """Open items of meetings in session where this member attends and has not voted yet."""
    voted = select(Vote.item_id).where(Vote.user_id == user.id)
    return list(db.session.scalars(
        select(AgendaItem).join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .join(Attendee, (Attendee.meeting_id == Meeting.id) & (Attendee.user_id == user.id))
        .where(Meeting.status == MeetingStatus.OPEN.value, AgendaItem.status == ItemStatus.OPEN.value,
               AgendaItem.id.not_in(voted))
        .order_by(Meeting.meeting_on, AgendaItem.position)))


def awaiting_leads() -> list[Lead]:
    """Projects awaiting the decision and not on an undecided item of a meeting that is not closed."""
    on_agenda = (select(AgendaItem.lead_id).join(Meeting, Meeting.id == AgendaItem.meeting_id)
                 .where(AgendaItem.status == ItemStatus.OPEN.value, Meeting.status != MeetingStatus.CLOSED.value))
    return list(db.session.scalars(select(Lead).where(Lead.stage == Stage.AWAITING_DECISION.value,
                                                      Lead.id.not_in(on_agenda)).order_by(Lead.updated_at)))
