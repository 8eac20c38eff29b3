"""The leadership group's collective decision (集体决策): members, rules, meetings, items, votes."""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import (Boolean, CheckConstraint, Date, ForeignKey, Integer, Numeric, String, Text, Time,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.auth.models import User
from crm.database import Base, utcnow
from crm.leads.models import Lead


class Choice(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    ABSTAIN = "abstain"
    RECUSE = "recuse"
    NOT_VOTED = "not_voted"  # marked by the chair: present, but stated no view (未表决)


# What a member chooses; 未表决 is only ever marked by the chair.
MEMBER_CHOICES = (Choice.APPROVE, Choice.REJECT, Choice.ABSTAIN, Choice.RECUSE)
CHOICE_LABELS = {Choice.APPROVE: _l("Approve"), Choice.REJECT: _l("Reject"), Choice.ABSTAIN: _l("Abstain"),
                 Choice.RECUSE: _l("Recuse (conflict of interest)"), Choice.NOT_VOTED: _l("Did not vote")}
# The word the tally and the minutes print beside a member's name.
CHOICE_WORDS = {Choice.APPROVE: _l("For"), Choice.REJECT: _l("Against"), Choice.ABSTAIN: _l("Abstained"),
                Choice.RECUSE: _l("Recused"), Choice.NOT_VOTED: _l("Did not vote")}


class PassBasis(StrEnum):
    """Approvals must be more than the pass share of: """
    MEMBERS = "members"  # the members entitled to vote: 应到 minus those who recused (the norm)
    PRESENT = "present"  # those present, minus those who recused
    CAST = "cast"        # the votes cast


PASS_BASIS_LABELS = {
    PassBasis.MEMBERS: _l("the members entitled to vote (all members minus those who recused)"),
    PassBasis.PRESENT: _l("the members present and entitled to vote"),
    PassBasis.CAST: _l("the votes cast"),
}


class AbsenceReason(StrEnum):
    BUSINESS_TRIP = "business_trip"
    LEAVE = "leave"
    OTHER = "other"


ABSENCE_LABELS = {AbsenceReason.BUSINESS_TRIP: _l("Away on business"), AbsenceReason.LEAVE: _l("On leave"),
                  AbsenceReason.OTHER: _l("Other reason")}


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"


# A meeting's own words (未开始 / 进行中 / 已结束), never a case's (已结案).
MEETING_STATUS_LABELS = {MeetingStatus.SCHEDULED: lazy_pgettext("meeting", "Not started"),
                         MeetingStatus.OPEN: lazy_pgettext("meeting", "In session"),
                         MeetingStatus.CLOSED: lazy_pgettext("meeting", "Ended")}


class ItemStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    DEFERRED = "deferred"  # the meeting ended without deciding it: back to the next meeting


class ItemResult(StrEnum):
    PASSED = "passed"
    FAILED = "failed"


# An agenda item's own words: before the meeting opens 未开始, while it sits 表决中, then its decision.
ITEM_LABELS = {ItemStatus.OPEN: lazy_pgettext("agenda item", "Voting"), ItemStatus.CLOSED: _l("Decided"),
               ItemStatus.DEFERRED: _l("Deferred to the next meeting"),
               ItemResult.PASSED: _l("Admitted"), ItemResult.FAILED: _l("Not admitted")}
ITEM_NOT_STARTED = lazy_pgettext("agenda item", "Not started")

Fraction = Numeric(4, 3)


class DecisionRules(Base):
    """The county's rules (one row, id 1); each meeting copies them when it opens."""

    __tablename__ = "decision_rules"
    __audit__ = True
    __table_args__ = (
        CheckConstraint("quorum_fraction >= 0 AND quorum_fraction < 1", name="quorum_fraction_range"),
        CheckConstraint("pass_fraction >= 0 AND pass_fraction < 1", name="pass_fraction_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Quorum: more than this share of the members (应到) present (实到). Passing: approvals more
    # than this share of the pass basis. "More than" is strict, so with one half a tie fails.
    quorum_fraction: Mapped[Decimal] = mapped_column(Fraction, default=Decimal("0.5"))
    pass_fraction: Mapped[Decimal] = mapped_column(Fraction, default=Decimal("0.5"))
    pass_basis: Mapped[str] = mapped_column(String(10), default=PassBasis.MEMBERS.value)
    abstain_counts_as_cast: Mapped[bool] = mapped_column(Boolean, default=True)  # basis "cast" only
    chair_votes_last: Mapped[bool] = mapped_column(Boolean, default=True)  # 末位表态
    # The unit whose team leads keep the agenda (the decision secretariat); admins always do.
    secretariat_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))


class GroupMember(Base):
    """A member of the leadership group (a user with the leader role); one of them chairs."""

    __tablename__ = "group_members"
    __audit__ = True

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    is_chair: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str] = mapped_column(String(60), default="")  # e.g. 县委书记、组长
    position: Mapped[int] = mapped_column(Integer, default=0)

    user: Mapped[User] = relationship()


class Meeting(Base):
    __tablename__ = "meetings"
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    meeting_on: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time | None] = mapped_column(Time)  # local time of day
    location: Mapped[str | None] = mapped_column(String(200))
    recorder: Mapped[str | None] = mapped_column(String(60))  # 记录人
    observers: Mapped[str | None] = mapped_column(Text)  # 列席: those attending without a vote
    status: Mapped[str] = mapped_column(String(12), default=MeetingStatus.SCHEDULED.value)
    scheduled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Frozen when the meeting opens: the chair, the members and the rules it decides by.
    chair_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    member_count: Mapped[int | None] = mapped_column(Integer)
    quorum_fraction: Mapped[Decimal | None] = mapped_column(Fraction)
    pass_fraction: Mapped[Decimal | None] = mapped_column(Fraction)
    pass_basis: Mapped[str | None] = mapped_column(String(10))
    abstain_counts_as_cast: Mapped[bool | None] = mapped_column(Boolean)
    chair_votes_last: Mapped[bool | None] = mapped_column(Boolean)
    opened_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    scheduled_by: Mapped[User | None] = relationship(foreign_keys=[scheduled_by_id])
    chair: Mapped[User | None] = relationship(foreign_keys=[chair_id])
    attendees: Mapped[list["Attendee"]] = relationship(back_populates="meeting", cascade="all, delete-orphan",
                                                       order_by="Attendee.position")
    items: Mapped[list["AgendaItem"]] = relationship(back_populates="meeting", cascade="all, delete-orphan",
                                                     order_by="AgendaItem.position, AgendaItem.id")

    @property
    def status_label(self) -> str:
        return str(MEETING_STATUS_LABELS.get(self.status, self.status))


class Attendee(Base):
    """A member as of the meeting's opening: present, or absent with the reason."""

    __tablename__ = "meeting_attendees"
    __audit__ = True
    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),
                      CheckConstraint("NOT (present AND absence_reason IS NOT NULL)", name="present_has_no_absence"))

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(60), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    present: Mapped[bool] = mapped_column(Boolean, default=False)
    absence_reason: Mapped[str | None] = mapped_column(String(16))
    absence_note: Mapped[str | None] = mapped_column(String(200))

    meeting: Mapped[Meeting] = relationship(back_populates="attendees")
    user: Mapped[User] = relationship()

    @property
    def absence_label(self) -> str:
        """出差 / 请假 / the stated reason; empty when present (or absent before reasons were kept)."""
        if self.present or not self.absence_reason:
            return ""
        label = str(ABSENCE_LABELS.get(self.absence_reason, self.absence_reason))
        return f"{label}：{self.absence_note}" if self.absence_note else label


class AgendaItem(Base):
    __tablename__ = "agenda_items"
    __audit__ = True
    __table_args__ = (UniqueConstraint("meeting_id", "lead_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    screening_case_id: Mapped[int | None] = mapped_column(ForeignKey("screening_cases.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), default=ItemStatus.OPEN.value)
    result: Mapped[str | None] = mapped_column(String(12))
    # The count at closing, kept as it was (a closed item never changes).
    members: Mapped[int | None] = mapped_column(Integer)
    present: Mapped[int | None] = mapped_column(Integer)
    recused: Mapped[int | None] = mapped_column(Integer)
    approve: Mapped[int | None] = mapped_column(Integer)
    reject: Mapped[int | None] = mapped_column(Integer)
    abstain: Mapped[int | None] = mapped_column(Integer)
    not_voted: Mapped[int | None] = mapped_column(Integer)
    conditions: Mapped[str | None] = mapped_column(Text)  # attached by the chair on closing
    last_vote_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    meeting: Mapped[Meeting] = relationship(back_populates="items")
    lead: Mapped[Lead] = relationship()
    votes: Mapped[list["Vote"]] = relationship(back_populates="item", cascade="all, delete-orphan",
                                               order_by="Vote.id")

    @property
    def is_open(self) -> bool:
        return self.status == ItemStatus.OPEN

    @property
    def label(self) -> str:
        if self.status == ItemStatus.OPEN and self.meeting is not None \
                and self.meeting.status == MeetingStatus.SCHEDULED:
            return str(ITEM_NOT_STARTED)
        return str(ITEM_LABELS.get(self.result or self.status, self.status))


class Vote(Base):
    """One member's vote on one item: the database keeps one per member and item."""

    __tablename__ = "votes"
    __audit__ = True
    __table_args__ = (
        UniqueConstraint("item_id", "user_id"),
        CheckConstraint("choice IN ('approve', 'reject', 'abstain', 'recuse', 'not_voted')", name="choice_known"),
        CheckConstraint("choice != 'recuse' OR reason IS NOT NULL", name="recusal_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    choice: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # the chair, for 未表决
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    item: Mapped[AgendaItem] = relationship(back_populates="votes")
    user: Mapped[User] = relationship(foreign_keys=[user_id])

    @property
    def choice_label(self) -> str:
        return str(CHOICE_LABELS.get(self.choice, self.choice))


class ProposalStatus(StrEnum):
    PENDING = "pending"      # waiting for the secretariat
    ACCEPTED = "accepted"    # put on a meeting's agenda
    WITHDRAWN = "withdrawn"  # taken back by its unit, or the project left 待集体决策


PROPOSAL_LABELS = {ProposalStatus.PENDING: _l("Proposed, waiting for the secretariat"),
                   ProposalStatus.ACCEPTED: _l("On a meeting's agenda"),
                   ProposalStatus.WITHDRAWN: _l("Withdrawn")}


class Proposal(Base):
    """A unit asks the secretariat to put its project awaiting the decision on an agenda."""

    __tablename__ = "decision_proposals"
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default=ProposalStatus.PENDING.value)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column()

    lead: Mapped[Lead] = relationship()
    proposed_by: Mapped[User | None] = relationship()
    meeting: Mapped[Meeting | None] = relationship()

    @property
    def status_label(self) -> str:
        return str(PROPOSAL_LABELS.get(self.status, self.status))
