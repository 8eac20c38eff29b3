"""Collective-decision rules: membership, meetings, agenda, votes, closing. Flush, never commit."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from crm import clock, signals
from crm.auth.models import User
from crm.auth.roles import Role
from crm.decisions.counting import Rules
from crm.validation import OutOfRange, check_date, check_text
from crm.decisions.models import (AbsenceReason, AgendaItem, Attendee, DecisionRules, GroupMember, ItemStatus,
                                  Meeting, MeetingStatus, PassBasis, Proposal, ProposalStatus, Vote)
from crm.extensions import db
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
                              pass_basis=PassBasis.MEMBERS.value, abstain_counts_as_cast=True,
                              chair_votes_last=True)
        db.session.add(rules)
        db.session.flush()
    return rules


def save_secretariat(unit_id: int | None) -> DecisionRules:
    """The unit whose team leads keep the agenda (None: the county's 招商服务中心, or admins only)."""
    from crm.auth.models import Unit

    if unit_id is not None and (db.session.get(Unit, unit_id) is None):
        raise DecisionError(_("Choose a unit."), "secretariat_unit_id")
    rules = get_rules()
    rules.secretariat_unit_id = unit_id
    db.session.flush()
    return rules


def save_rules(quorum_fraction: Decimal, pass_fraction: Decimal, abstain_counts_as_cast: bool,
               pass_basis: str = PassBasis.MEMBERS.value, chair_votes_last: bool = True) -> DecisionRules:
    """Change the county's rules; meetings already open keep the rules they opened with."""
    for value, field in ((quorum_fraction, "quorum_fraction"), (pass_fraction, "pass_fraction")):
        if value is None or not Decimal(0) <= value < Decimal(1):
            raise DecisionError(_("Give a share from 0 up to (not including) 1, e.g. 0.5 for “more than half”."),
                                field)
    if pass_basis not in {b.value for b in PassBasis}:
        raise DecisionError(_("Choose what the approvals are counted against."), "pass_basis")
    rules = get_rules()
    rules.quorum_fraction, rules.pass_fraction = quorum_fraction, pass_fraction
    rules.pass_basis, rules.chair_votes_last = pass_basis, bool(chair_votes_last)
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

def _meeting_details(meeting: Meeting, title: str, meeting_on: date, start_time, location: str | None,
                     recorder: str | None = None, observers: str | None = None) -> None:
    title = (title or "").strip()
    if not title:
        raise DecisionError(_("Give the meeting a title."), "title")
    if meeting_on is None:
        raise DecisionError(_("Give a date."), "meeting_on")
    texts = {"title": (title, 200, True), "location": (location, 200, True), "recorder": (recorder, 60, True),
             "observers": (observers, 2000, False)}
    for field, (value, limit, one_line) in texts.items():
        try:
            check_text(value, limit, one_line)
        except OutOfRange as exc:
            raise DecisionError(str(exc), field)
    try:
        check_date(meeting_on, planned=True)
    except OutOfRange as exc:
        raise DecisionError(str(exc), "meeting_on")
    meeting.title, meeting.meeting_on, meeting.start_time = title, meeting_on, start_time
    meeting.location = (location or "").strip() or None
    meeting.recorder = (recorder or "").strip() or None
    meeting.observers = (observers or "").strip() or None


def schedule_meeting(title: str, meeting_on: date, location: str | None, actor: User, start_time=None,
                     recorder: str | None = None, observers: str | None = None) -> Meeting:
    meeting = Meeting(scheduled_by_id=actor.id, status=MeetingStatus.SCHEDULED.value)
    _meeting_details(meeting, title, meeting_on, start_time, location, recorder, observers)
    db.session.add(meeting)
    db.session.flush()
    for lead in deferred_leads():  # what earlier meetings could not decide comes first
        add_item(meeting, lead)
    notify([m.user_id for m in members()], "meeting_scheduled",
           {"title": meeting.title, "day": meeting_on.isoformat()}, meeting_path(meeting.id))
    return meeting


def update_meeting(meeting: Meeting, title: str, meeting_on: date, start_time, location: str | None,
                   recorder: str | None, observers: str | None) -> Meeting:
    """Time, place, 记录人 and 列席 can be corrected until the meeting ends (the minutes use them)."""
    if meeting.status == MeetingStatus.CLOSED:
        raise DecisionError(_("This meeting has closed; its record no longer changes."), status=409)
    _meeting_details(meeting, title, meeting_on, start_time, location, recorder, observers)
    db.session.flush()
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
    for proposal in db.session.scalars(select(Proposal).where(Proposal.lead_id == lead.id,
                                                               Proposal.status == ProposalStatus.PENDING.value)):
        proposal.status, proposal.meeting_id, proposal.decided_at = ProposalStatus.ACCEPTED.value, meeting.id, clock.now()
    db.session.flush()
    return item


def add_items(meeting: Meeting, leads: list[Lead]) -> tuple[list[AgendaItem], list[tuple[Lead, str]]]:
    """Several projects at once (the agenda picker): each one that can go on the agenda does, in
    its own savepoint; the others come back with the reason, and nothing of theirs is kept."""
    added, refused = [], []
    for lead in leads:
        try:
            with db.session.begin_nested():
                added.append(add_item(meeting, lead))
        except DecisionError as exc:
            refused.append((lead, str(exc)))
    return added, refused


# --- proposals: a unit asks the secretariat to put its project on an agenda -------------------

def pending_proposal(lead_id: int) -> Proposal | None:
    return db.session.scalar(select(Proposal).where(Proposal.lead_id == lead_id,
                                                    Proposal.status == ProposalStatus.PENDING.value))


def propose(lead: Lead, actor: User, note: str | None = None) -> Proposal:
    """The lead's own unit proposes it (the caller checked the unit); the secretariat is told."""
    from crm.decisions.access import secretariat_unit_id

    if lead.stage != Stage.AWAITING_DECISION:
        raise DecisionError(_("Only a project awaiting the collective decision can be proposed; this one is at "
                              "“%(stage)s”.", stage=stage_label(lead.stage)), "lead_id")
    if items_pending_for(lead.id) is not None:
        raise DecisionError(_("This project is already on the agenda of a meeting."), "lead_id", status=409)
    if pending_proposal(lead.id) is not None:
        raise DecisionError(_("This project has been proposed already; the secretariat has it."), "lead_id",
                            status=409)
    proposal = Proposal(lead_id=lead.id, unit_id=lead.owner_unit_id, proposed_by_id=actor.id,
                        note=(note or "").strip()[:2000] or None, status=ProposalStatus.PENDING.value,
                        created_at=clock.now())
    db.session.add(proposal)
    db.session.flush()
    from crm.notifications.services import unit_users_with_role, users_with_role

    keepers = set(users_with_role(Role.ADMIN))
    unit_id = secretariat_unit_id()
    if unit_id is not None:
        keepers |= set(unit_users_with_role([unit_id], Role.TEAM_LEAD).get(unit_id, []))
    notify(keepers, "decision_proposed", {"company": lead.company_name}, "/decisions/")
    return proposal


def withdraw_proposal(proposal: Proposal) -> Proposal:
    if proposal.status != ProposalStatus.PENDING:
        raise DecisionError(_("Only a proposal still waiting for the secretariat can be withdrawn."), status=409)
    proposal.status, proposal.decided_at = ProposalStatus.WITHDRAWN.value, clock.now()
    db.session.flush()
    return proposal


def pending_proposals() -> list[Proposal]:
    """What units proposed and the secretariat has not put on an agenda yet (still awaiting)."""
    return list(db.session.scalars(select(Proposal).join(Lead, Lead.id == Proposal.lead_id).where(
        Proposal.status == ProposalStatus.PENDING.value, Lead.stage == Stage.AWAITING_DECISION.value)
        .order_by(Proposal.created_at)))


def remove_item(item: AgendaItem) -> None:
    if item.meeting.status != MeetingStatus.SCHEDULED:
        raise DecisionError(_("Items can be taken off the agenda only before the meeting opens."), status=409)
    db.session.delete(item)
    db.session.flush()


def _check_attendance(group_ids: list[int], attendance: dict[int, dict]) -> None:
    """Every member is present, or absent with a reason (其他 with a note)."""
    unknown = set(attendance) - set(group_ids)
    if unknown:
        raise DecisionError(_("Only members of the leadership group are on the attendance list."), "attendance")
    for uid in group_ids:
        entry = attendance.get(uid)
        if entry is None or entry.get("present") is None:
            raise DecisionError(_("Record every member as present or absent (away on business, on leave, "
                                  "other) before the meeting opens."), "attendance")
        if entry["present"]:
            continue
        if entry.get("reason") not in {r.value for r in AbsenceReason}:
            raise DecisionError(_("Give the reason for each absence: away on business, on leave or other."),
                                "attendance")
        if entry["reason"] == AbsenceReason.OTHER and not (entry.get("note") or "").strip():
            raise DecisionError(_("Say what the other reason for an absence is."), "attendance")


def _apply_attendance(attendee: Attendee, entry: dict) -> None:
    attendee.present = bool(entry["present"])
    attendee.absence_reason = None if attendee.present else entry["reason"]
    attendee.absence_note = None if attendee.present else ((entry.get("note") or "").strip()[:200] or None)


def open_meeting(meeting: Meeting, attendance: dict[int, dict]) -> Meeting:
    """Take attendance and freeze the chair, the members and the rules.

    `attendance`: user id → {"present": bool, "reason": AbsenceReason (when absent), "note": str}.
    Nobody is present by default: each member is recorded one way or the other.
    """
    if meeting.status != MeetingStatus.SCHEDULED:
        raise DecisionError(_("This meeting is already open or closed."), status=409)
    group = members()
    chair = next((m for m in group if m.is_chair), None)
    if chair is None:
        raise DecisionError(_("The leadership group has no chair: an administrator must set the group first."),
                            status=409)
    _check_attendance([m.user_id for m in group], attendance)
    rules = get_rules()
    meeting.status = MeetingStatus.OPEN.value
    meeting.opened_at = clock.now()
    meeting.chair_id = chair.user_id
    meeting.member_count = len(group)
    meeting.quorum_fraction = rules.quorum_fraction
    meeting.pass_fraction = rules.pass_fraction
    meeting.pass_basis = rules.pass_basis
    meeting.abstain_counts_as_cast = rules.abstain_counts_as_cast
    meeting.chair_votes_last = rules.chair_votes_last
    meeting.attendees = [Attendee(user_id=m.user_id, title=m.title, position=i) for i, m in enumerate(group)]
    for attendee in meeting.attendees:
        _apply_attendance(attendee, attendance[attendee.user_id])
    db.session.flush()
    return meeting


def votes_cast_in(meeting: Meeting) -> int:
    from sqlalchemy import func

    return db.session.scalar(select(func.count()).select_from(Vote).join(AgendaItem, AgendaItem.id == Vote.item_id)
                             .where(AgendaItem.meeting_id == meeting.id)) or 0


def update_attendance(meeting: Meeting, attendance: dict[int, dict]) -> Meeting:
    """Correct the attendance (a member arrives late) while no vote has been cast at the meeting."""
    if meeting.status != MeetingStatus.OPEN:
        raise DecisionError(_("Attendance is taken when the meeting opens and corrected while it is in "
                              "session."), status=409)
    if votes_cast_in(meeting):
        raise DecisionError(_("Voting has begun: the attendance can no longer change."), "attendance",
                            status=409)
    _check_attendance([a.user_id for a in meeting.attendees], attendance)
    for attendee in meeting.attendees:
        _apply_attendance(attendee, attendance[attendee.user_id])
    db.session.flush()
    return meeting


def meeting_rules(meeting: Meeting) -> Rules:
    return Rules(quorum_fraction=meeting.quorum_fraction, pass_fraction=meeting.pass_fraction,
                 pass_basis=meeting.pass_basis or PassBasis.CAST.value,
                 abstain_counts_as_cast=bool(meeting.abstain_counts_as_cast),
                 chair_votes_last=bool(meeting.chair_votes_last))


def attendee_of(meeting: Meeting, user_id: int) -> Attendee | None:
    return next((a for a in meeting.attendees if a.user_id == user_id), None)


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
    signals.meeting_closed.send(meeting_id=meeting.id)  # e.g. the minutes take their number
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


def awaiting_leads() -> list[Lead]:
    """Projects awaiting the decision and not on an undecided item of a meeting that is not closed."""
    on_agenda = (select(AgendaItem.lead_id).join(Meeting, Meeting.id == AgendaItem.meeting_id)
                 .where(AgendaItem.status == ItemStatus.OPEN.value, Meeting.status != MeetingStatus.CLOSED.value))
    return list(db.session.scalars(select(Lead).where(Lead.stage == Stage.AWAITING_DECISION.value,
                                                      Lead.id.not_in(on_agenda)).order_by(Lead.updated_at)))
