"""Collective-decision endpoints: meetings, agenda items, votes, closing an item."""
from __future__ import annotations

from datetime import date, time

from flask import jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select

from crm.api import bp
from crm.api.errors import ApiError
from crm.auth.permissions import acting_user, require_permission
from crm.auth.roles import Permission
from crm.decisions import access, services, voting
from crm.decisions.models import Proposal
from crm.decisions.models import AgendaItem, Meeting
from crm.extensions import db
from crm.leads.models import Lead


def _iso(value):
    return value.isoformat() if value else None


def _fraction(value):
    return None if value is None else float(value)


def _count_json(count) -> dict:
    return {"members": count.members, "present": count.present, "absent": count.absent, "recused": count.recused,
            "entitled": count.entitled, "approve": count.approve, "reject": count.reject, "abstain": count.abstain,
            "not_voted": count.not_voted}


def item_json(item: AgendaItem, viewer) -> dict:
    """Votes are sealed: before the close the caller sees only their own vote and the progress."""
    out = {"id": item.id, "meeting_id": item.meeting_id, "lead_id": item.lead_id,
           "company_name": item.lead.company_name, "screening_case_id": item.screening_case_id,
           "status": item.status, "result": item.result, "version": item.version,
           "members": item.members, "present": item.present, "recused": item.recused, "approve": item.approve,
           "reject": item.reject, "abstain": item.abstain, "not_voted": item.not_voted,
           "conditions": item.conditions, "closed_at": _iso(item.closed_at),
           "votes": [{"user_id": v.user_id, "name": v.user.display_name, "choice": v.choice, "reason": v.reason,
                      "version": v.version} for v in voting.visible_votes(item, viewer)]}
    if item.meeting.status != "scheduled":
        progress = voting.progress(item)
        out["progress"] = {"voted": progress.voted, "present": progress.present}
    if not item.is_open and item.meeting.attendees:
        out["member_lines"] = [{"name": line.name, "title": line.title, "status": line.status,
                                "label": line.label, "detail": line.detail} for line in voting.member_lines(item)]
    return out


def meeting_json(meeting: Meeting, viewer, full: bool = False) -> dict:
    out = {"id": meeting.id, "title": meeting.title, "meeting_on": _iso(meeting.meeting_on),
           "start_time": meeting.start_time.strftime("%H:%M") if meeting.start_time else None,
           "location": meeting.location, "recorder": meeting.recorder, "observers": meeting.observers,
           "status": meeting.status, "chair_id": meeting.chair_id,
           "member_count": meeting.member_count, "quorum_fraction": _fraction(meeting.quorum_fraction),
           "pass_fraction": _fraction(meeting.pass_fraction), "pass_basis": meeting.pass_basis,
           "abstain_counts_as_cast": meeting.abstain_counts_as_cast, "chair_votes_last": meeting.chair_votes_last,
           "url": services.meeting_path(meeting.id)}
    if full:
        out["attendees"] = [{"user_id": a.user_id, "name": a.user.display_name, "title": a.title,
                             "present": a.present, "absence_reason": a.absence_reason,
                             "absence_note": a.absence_note} for a in meeting.attendees]
        out["items"] = [item_json(i, viewer) for i in access.visible_items(meeting, viewer)]
    return out


def _raise(exc: services.DecisionError):
    raise ApiError(exc.status, str(exc), **({"fields": {exc.field: [str(exc)]}} if exc.field else {}))


def _payload() -> dict:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ApiError(400, _("Send a JSON object."))
    return payload


def _meeting(meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise ApiError(404, _("The page or record does not exist."))
    return meeting


def _item(item_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if item is None or not access.may_read_item(acting_user(), item):
        raise ApiError(404, _("The page or record does not exist."))
    return item


def _keeper() -> None:
    if not access.keeps_agenda(acting_user()):
        raise ApiError(403, _("Only the decision secretariat keeps the agenda; propose your unit's project "
                              "instead."))


@bp.route("/meetings")
@require_permission(Permission.DECISIONS_READ)
def api_meetings():
    """Meetings, newest first."""
    rows = db.session.scalars(select(Meeting).order_by(Meeting.meeting_on.desc(), Meeting.id.desc()).limit(200))
    return jsonify({"items": [meeting_json(m, acting_user()) for m in rows]})


@bp.route("/meetings", methods=["POST"])
@require_permission(Permission.DECISIONS_MANAGE)
def api_schedule_meeting():
    """Team leads and admins: schedule a meeting."""
    _keeper()
    payload = _payload()
    try:
        day = date.fromisoformat(str(payload.get("meeting_on", "")))
    except ValueError:
        raise ApiError(422, _("Give a date."), fields={"meeting_on": [_("Give a date.")]})
    start = payload.get("start_time")
    try:
        start = time.fromisoformat(str(start)) if start else None
    except ValueError:
        raise ApiError(422, _("Give the time as HH:MM."), fields={"start_time": [_("Give the time as HH:MM.")]})
    try:
        meeting = services.schedule_meeting(payload.get("title", ""), day, payload.get("location"), acting_user(),
                                            start_time=start, recorder=payload.get("recorder"),
                                            observers=payload.get("observers"))
    except services.DecisionError as exc:
        _raise(exc)
    return jsonify(meeting_json(meeting, acting_user(), full=True)), 201


@bp.route("/meetings/<int:meeting_id>")
@require_permission(Permission.DECISIONS_READ)
def api_meeting(meeting_id: int):
    """One meeting with its attendees and agenda items (votes as the caller may see them)."""
    return jsonify(meeting_json(_meeting(meeting_id), acting_user(), full=True))


@bp.route("/meetings/<int:meeting_id>/items", methods=["POST"])
@require_permission(Permission.DECISIONS_MANAGE)
def api_add_item(meeting_id: int):
    """Team leads and admins: put a project awaiting decision on the agenda."""
    _keeper()
    meeting = _meeting(meeting_id)
    lead = db.session.get(Lead, _payload().get("lead_id") or 0)
    if lead is None:
        raise ApiError(422, _("Choose a project."), fields={"lead_id": [_("Choose a project.")]})
    try:
        item = services.add_item(meeting, lead)
    except services.DecisionError as exc:
        _raise(exc)
    return jsonify(item_json(item, acting_user())), 201


def _attendance(payload: dict) -> dict[int, dict]:
    rows = payload.get("attendance")
    message = _("attendance must list every member: {\"user_id\": …, \"present\": true} or "
                "{\"user_id\": …, \"present\": false, \"absence_reason\": \"business_trip|leave|other\", "
                "\"absence_note\": …}.")
    if not isinstance(rows, list) or not all(isinstance(r, dict) and isinstance(r.get("user_id"), int)
                                             and isinstance(r.get("present"), bool) for r in rows):
        raise ApiError(422, message, fields={"attendance": [message]})
    return {r["user_id"]: {"present": r["present"], "reason": r.get("absence_reason"),
                           "note": r.get("absence_note") or ""} for r in rows}


@bp.route("/meetings/<int:meeting_id>/open", methods=["POST"])
@require_permission(Permission.DECISIONS_MANAGE)
def api_open_meeting(meeting_id: int):
    """Team leads and admins: take attendance (every member present or absent with a reason) and
    open the meeting (its rules freeze)."""
    _keeper()
    meeting = _meeting(meeting_id)
    attendance = _attendance(_payload())
    try:
        services.open_meeting(meeting, attendance)
    except services.DecisionError as exc:
        _raise(exc)
    return jsonify(meeting_json(meeting, acting_user(), full=True))


@bp.route("/meetings/<int:meeting_id>/attendance", methods=["POST"])
@require_permission(Permission.DECISIONS_MANAGE)
def api_update_attendance(meeting_id: int):
    """Team leads and admins: correct the attendance before the first vote (409 afterwards)."""
    _keeper()
    meeting = _meeting(meeting_id)
    attendance = _attendance(_payload())
    try:
        services.update_attendance(meeting, attendance)
    except services.DecisionError as exc:
        _raise(exc)
    return jsonify(meeting_json(meeting, acting_user(), full=True))


@bp.route("/items/<int:item_id>/votes", methods=["POST"])
@require_permission(Permission.DECISIONS_VOTE)
def api_vote(item_id: int):
    """Members present: vote, change the vote, or recuse (with the conflict as reason). The chair
    votes last when the meeting's rules say so."""
    item = _item(item_id)
    payload = _payload()
    based_on = payload.get("based_on_version")
    try:
        vote = voting.cast_vote(item, acting_user(), payload.get("choice"), payload.get("reason"),
                                based_on if isinstance(based_on, int) else None)
    except services.DecisionError as exc:
        _raise(exc)
    return jsonify({"user_id": vote.user_id, "choice": vote.choice, "reason": vote.reason,
                    "version": vote.version}), 201


@bp.route("/items/<int:item_id>/not-voted", methods=["POST"])
@require_permission(Permission.DECISIONS_VOTE)
def api_mark_not_voted(item_id: int):
    """The chair: record a present member who has not voted as 未表决."""
    item = _item(item_id)
    user_id = _payload().get("user_id")
    if not isinstance(user_id, int):
        raise ApiError(422, _("Give the member's user_id."), fields={"user_id": [_("Give the member's user_id.")]})
    try:
        voting.mark_not_voted(item, acting_user(), user_id)
    except services.DecisionError as exc:
        _raise(exc)
    return jsonify(item_json(item, acting_user())), 201


@bp.route("/items/<int:item_id>/close-preview")
@require_permission(Permission.DECISIONS_VOTE)
def api_close_preview(item_id: int):
    """The chair: the exact count and the outcome closing would record, with the version to confirm."""
    item = _item(item_id)
    try:
        tally, outcome = voting.close_preview(item, acting_user())
    except services.DecisionError as exc:
        _raise(exc)
    return jsonify({"count": _count_json(tally), "passed": outcome.passed, "base": outcome.base,
                    "needed": outcome.needed, "confirmed_version": item.version})


@bp.route("/items/<int:item_id>/close", methods=["POST"])
@require_permission(Permission.DECISIONS_VOTE)
def api_close_item(item_id: int):
    """The chair: close the item, confirming the count of `close-preview` by its `confirmed_version`."""
    item = _item(item_id)
    payload = _payload()
    confirmed = payload.get("confirmed_version")
    try:
        voting.close_item(item, acting_user(), payload.get("conditions"),
                          confirmed if isinstance(confirmed, int) else None)
    except services.DecisionError as exc:
        _raise(exc)
    return jsonify(item_json(item, acting_user()))


def proposal_json(proposal: Proposal) -> dict:
    return {"id": proposal.id, "lead_id": proposal.lead_id, "company_name": proposal.lead.company_name,
            "unit_id": proposal.unit_id, "status": proposal.status, "note": proposal.note,
            "meeting_id": proposal.meeting_id, "created_at": _iso(proposal.created_at)}


@bp.route("/proposals")
@require_permission(Permission.DECISIONS_READ)
def api_proposals():
    """The secretariat: the proposals waiting; a unit: its own proposals."""
    user = acting_user()
    if access.keeps_agenda(user):
        rows = services.pending_proposals()
    else:
        rows = db.session.scalars(select(Proposal).where(Proposal.unit_id == user.unit_id)
                                  .order_by(Proposal.created_at.desc()).limit(200)).all()
    return jsonify({"items": [proposal_json(p) for p in rows]})


@bp.route("/proposals", methods=["POST"])
@require_permission(Permission.DECISIONS_PROPOSE)
def api_propose():
    """Officers and team leads: propose their own unit's project awaiting the decision."""
    from crm.auth.permissions import can_edit_unit_records

    payload = _payload()
    lead_id = payload.get("lead_id")
    lead = db.session.get(Lead, lead_id) if isinstance(lead_id, int) and not isinstance(lead_id, bool) else None
    if lead is None or not can_edit_unit_records(acting_user(), lead.owner_unit_id):
        raise ApiError(404, _("The page or record does not exist."))
    note = payload.get("note")
    if note is not None and not isinstance(note, str):
        raise ApiError(422, _("note must be text."), fields={"note": [_("note must be text.")]})
    try:
        proposal = services.propose(lead, acting_user(), note)
    except services.DecisionError as exc:
        _raise(exc)
    return jsonify(proposal_json(proposal)), 201
