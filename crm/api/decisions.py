"""Collective-decision endpoints: meetings, agenda items, votes, closing an item."""
from __future__ import annotations

from datetime import date

from flask import jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select

from crm.api import bp
from crm.api.errors import ApiError
from crm.auth.permissions import acting_user, require_permission
from crm.auth.roles import Permission
from crm.decisions import services
from crm.decisions.models import AgendaItem, Meeting
from crm.extensions import db
from crm.leads.models import Lead


def _iso(value):
    return value.isoformat() if value else None


def _fraction(value):
    return None if value is None else float(value)


def item_json(item: AgendaItem, viewer) -> dict:
    return {"id": item.id, "meeting_id": item.meeting_id, "lead_id": item.lead_id,
            "company_name": item.lead.company_name, "screening_case_id": item.screening_case_id,
            "status": item.status, "result": item.result, "members": item.members, "present": item.present,
            "recused": item.recused, "approve": item.approve, "reject": item.reject, "abstain": item.abstain,
            "conditions": item.conditions, "closed_at": _iso(item.closed_at),
            "votes": [{"user_id": v.user_id, "name": v.user.display_name, "choice": v.choice, "reason": v.reason,
                       "version": v.version} for v in services.visible_votes(item, viewer)]}


def meeting_json(meeting: Meeting, viewer, full: bool = False) -> dict:
    out = {"id": meeting.id, "title": meeting.title, "meeting_on": _iso(meeting.meeting_on),
           "location": meeting.location, "status": meeting.status, "chair_id": meeting.chair_id,
           "member_count": meeting.member_count, "quorum_fraction": _fraction(meeting.quorum_fraction),
           "pass_fraction": _fraction(meeting.pass_fraction),
           "abstain_counts_as_cast": meeting.abstain_counts_as_cast, "url": services.meeting_path(meeting.id)}
    if full:
        out["attendees"] = [{"user_id": a.user_id, "name": a.user.display_name, "present": a.present}
                            for a in meeting.attendees]
        out["items"] = [item_json(i, viewer) for i in meeting.items]
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
    if item is None:
        raise ApiError(404, _("The page or record does not exist."))
    return item


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
    payload = _payload()
    try:
        day = date.fromisoformat(str(payload.get("meeting_on", "")))
    except ValueError:
        raise ApiError(422, _("Give a date."), fields={"meeting_on": [_("Give a date.")]})
    try:
        meeting = services.schedule_meeting(payload.get("title", ""), day, payload.get("location"), acting_user())
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
    meeting = _meeting(meeting_id)
    lead = db.session.get(Lead, _payload().get("lead_id") or 0)
    if lead is None:
        raise ApiError(422, _("Choose a project."), fields={"lead_id": [_("Choose a project.")]})
    try:
        item = services.add_item(meeting, lead)
    except services.DecisionError as exc:
        _raise(exc)
    return jsonify(item_json(item, acting_user())), 201


@bp.route("/meetings/<int:meeting_id>/open", methods=["POST"])
@require_permission(Permission.DECISIONS_MANAGE)
def api_open_meeting(meeting_id: int):
    """Team leads and admins: open the meeting with the members present (rules freeze)."""
    meeting = _meeting(meeting_id)
    present = _payload().get("present_ids")
    if not isinstance(present, list) or not all(isinstance(i, int) for i in present):
        raise ApiError(422, _("present_ids must be a list of user ids."))
    try:
        services.open_meeting(meeting, present)
    except services.DecisionError as exc:
        _raise(exc)
    return jsonify(meeting_json(meeting, acting_user(), full=True))


@bp.route("/items/<int:item_id>/votes", methods=["POST"])
@require_permission(Permission.DECISIONS_VOTE)
def api_vote(item_id: int):
    """Members at the meeting: vote, change the vote, or recuse (with the conflict as reason)."""
    item = _item(item_id)
    payload = _payload()
    based_on = payload.get("based_on_version")
    try:
        vote = services.cast_vote(item, acting_user(), payload.get("choice"), payload.get("reason"),
                                  based_on if isinstance(based_on, int) else None)
    except services.DecisionError as exc:
        _raise(exc)
    return jsonify({"user_id": vote.user_id, "choice": vote.choice, "reason": vote.reason,
                    "version": vote.version}), 201


@bp.route("/items/<int:item_id>/close", methods=["POST"])
@require_permission(Permission.DECISIONS_VOTE)
def api_close_item(item_id: int):
    """The chair: close the item; the result follows the meeting's frozen rules."""
    item = _item(item_id)
    try:
        services.close_item(item, acting_user(), _payload().get("conditions"))
    except services.DecisionError as exc:
        _raise(exc)
    return jsonify(item_json(item, acting_user()))
