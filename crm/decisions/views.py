"""Leadership-group pages: meetings, the agenda, voting, closing items, minutes, the group."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crm import clock
from crm.auth.models import Unit, User
from crm.auth.permissions import acting_user, require_permission
from crm.auth.roles import Permission
from crm.decisions import access, services, voting
from crm.decisions.counting import decide
from crm.decisions import queries
from crm.decisions.forms import (ATTENDANCE_CHOICES, AttendanceForm, CloseItemForm, MarkNotVotedForm,
                                 MeetingForm, ProposeForm, RulesForm, SecretariatForm, VoteForm)
from crm.decisions.models import PASS_BASIS_LABELS, AgendaItem, Attendee, Meeting, MeetingStatus, Proposal
from crm.extensions import db
from crm.leads.queries import get_lead_or_404
from crm.forms import attach_error
from crm.leads.models import Lead
from crm.screening import indicators
from crm.screening import services as screening_services
from crm.screening.models import ScreeningCase

bp = Blueprint("decisions", __name__, url_prefix="/decisions")


def _meeting_or_404(meeting_id: int) -> Meeting:
    meeting = db.session.scalar(
        select(Meeting).where(Meeting.id == meeting_id)
        .options(selectinload(Meeting.attendees).joinedload(Attendee.user),
                 selectinload(Meeting.items).selectinload(AgendaItem.votes)))
    if meeting is None:
        abort(404)
    return meeting


def _item_or_404(item_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if item is None:
        abort(404)
    access.require_item(acting_user(), item)
    return item


def _meetings_page(form: MeetingForm | None, status: int = 200):
    user = acting_user()
    rows = db.session.scalars(select(Meeting).options(selectinload(Meeting.items))
                              .order_by(Meeting.meeting_on.desc(), Meeting.id.desc()).limit(200)).all()
    keeper = access.keeps_agenda(user)
    visible = {m.id: len(access.visible_items(m, user)) for m in rows}
    own = [] if keeper or not user.can(Permission.DECISIONS_PROPOSE) else queries.own_awaiting(user.unit_id)
    return render_template("decisions/meetings.html", meetings=rows, form=form, keeper=keeper, visible=visible,
                           waiting=len(services.awaiting_leads()) if keeper else None,
                           proposals=services.pending_proposals() if keeper else [], own=own,
                           propose_form=ProposeForm()), status


@bp.route("/")
@require_permission(Permission.DECISIONS_READ)
def meetings():
    """Everyone who reads meetings; the secretariat schedules them and sees the units' proposals,
    other units see their own projects awaiting the decision and propose them."""
    return _meetings_page(MeetingForm() if access.keeps_agenda(acting_user()) else None)


@bp.route("/meetings", methods=["POST"])
@require_permission(Permission.DECISIONS_MANAGE)
def schedule():
    """The secretariat: schedule a meeting (members are notified)."""
    access.require_keeper(acting_user())
    form = MeetingForm()
    if form.validate_on_submit():
        try:
            details = form.details()
            meeting = services.schedule_meeting(details.pop("title"), details.pop("meeting_on"),
                                                details.pop("location"), acting_user(), **details)
        except services.DecisionError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            flash(_("Meeting scheduled; the members have been notified."), "success")
            return redirect(url_for("decisions.meeting", meeting_id=meeting.id))
    return _meetings_page(form, 400)


@bp.route("/proposals", methods=["POST"])
@require_permission(Permission.DECISIONS_PROPOSE)
def propose():
    """Officers and team leads: propose their own unit's project awaiting the decision."""
    form = ProposeForm()
    if not form.validate_on_submit():
        abort(400)
    lead = get_lead_or_404(form.lead_id.data, write=True)
    try:
        services.propose(lead, acting_user(), form.note.data)
    except services.DecisionError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for("decisions.meetings")), 303
    flash(_("Proposed: the secretariat puts %(company)s on a meeting's agenda.", company=lead.company_name),
          "success")
    return redirect(url_for("decisions.meetings"))


@bp.route("/proposals/<int:proposal_id>/withdraw", methods=["POST"])
@require_permission(Permission.DECISIONS_PROPOSE)
def withdraw_proposal(proposal_id: int):
    """The proposing unit takes its proposal back while the secretariat has not acted on it."""
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None:
        abort(404)
    get_lead_or_404(proposal.lead_id, write=True)
    try:
        services.withdraw_proposal(proposal)
    except services.DecisionError as exc:
        return _decision_error_response(exc, None)
    flash(_("Proposal withdrawn."), "success")
    return redirect(url_for("decisions.meetings"))


def _item_context(item: AgendaItem, viewer: User) -> dict:
    lead = item.lead
    case = db.session.get(ScreeningCase, item.screening_case_id) if item.screening_case_id else None
    thresholds = screening_services.thresholds_for(lead.chain_id, case.park_unit_id if case else None)
    context = {"item": item, "lead": lead, "case": case, "indicators": indicators.compute(lead, thresholds),
               "votes": voting.visible_votes(item, viewer),
               "own": next((v for v in item.votes if v.user_id == viewer.id), None)}
    if item.meeting.status != MeetingStatus.SCHEDULED:
        tally = voting.recorded_count(item)
        context.update(tally=tally, outcome=decide(tally, services.meeting_rules(item.meeting)),
                       progress=voting.progress(item), waiting=voting.waiting_for(item),
                       chair_may_vote=voting.chair_may_vote(item),
                       lines=None if item.is_open else voting.member_lines(item))
    return context


def _attendance_rows(meeting: Meeting) -> list[dict]:
    """The attendance list: the frozen attendees once open, the group's members before."""
    if meeting.attendees:
        return [{"user_id": a.user_id, "name": a.user.display_name, "title": a.title,
                 "value": "present" if a.present else (a.absence_reason or ""), "note": a.absence_note or ""}
                for a in meeting.attendees]
    return [{"user_id": m.user_id, "name": m.user.display_name, "title": m.title, "value": "", "note": ""}
            for m in services.members()]


@bp.route("/meetings/<int:meeting_id>")
@require_permission(Permission.DECISIONS_READ)
def meeting(meeting_id: int):
    """Team leads, leaders, viewers, admins: the agenda with each project's screening and votes."""
    meeting = _meeting_or_404(meeting_id)
    user = acting_user()
    manage = access.keeps_agenda(user)
    candidates = details_form = None
    if manage and meeting.status != MeetingStatus.CLOSED:
        candidates = queries.agenda_candidates(clock.today())
        details_form = MeetingForm(obj=meeting)
    attendance_open = manage and (meeting.status == MeetingStatus.SCHEDULED or (
        meeting.status == MeetingStatus.OPEN and not services.votes_cast_in(meeting)))
    attendee = services.attendee_of(meeting, user.id) if meeting.attendees else None
    items = [_item_context(item, user) for item in access.visible_items(meeting, user)]
    return render_template("decisions/meeting.html", meeting=meeting, items=items, candidates=candidates,
                           details_form=details_form, attendance_form=AttendanceForm() if attendance_open else None,
                           attendance_rows=_attendance_rows(meeting), attendance_choices=ATTENDANCE_CHOICES,
                           attendee=attendee, is_chair=meeting.chair_id == user.id, vote_form=VoteForm(),
                           mark_form=MarkNotVotedForm(), manage=manage,
                           basis_label=PASS_BASIS_LABELS.get(meeting.pass_basis or "cast"))


@bp.route("/meetings/<int:meeting_id>/details", methods=["POST"])
@require_permission(Permission.DECISIONS_MANAGE)
def update_details(meeting_id: int):
    """Team leads and admins: time, place, recorder and observers, until the meeting ends."""
    access.require_keeper(acting_user())
    meeting = _meeting_or_404(meeting_id)
    form = MeetingForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "danger")
        return redirect(url_for("decisions.meeting", meeting_id=meeting_id)), 303
    try:
        services.update_meeting(meeting, **form.details())
    except services.DecisionError as exc:
        return _decision_error_response(exc, meeting_id)
    flash(_("Meeting details saved."), "success")
    return redirect(url_for("decisions.meeting", meeting_id=meeting_id))


@bp.route("/meetings/<int:meeting_id>/items", methods=["POST"])
@require_permission(Permission.DECISIONS_MANAGE)
def add_item(meeting_id: int):
    """Team leads and admins: put one or several projects awaiting decision on the agenda (the
    picker posts one lead_id per ticked project)."""
    access.require_keeper(acting_user())
    meeting = _meeting_or_404(meeting_id)
    ids = [int(v) for v in request.form.getlist("lead_id") if v.strip().isdigit() and len(v.strip()) < 10]
    leads = [lead for lead in (db.session.get(Lead, i) for i in dict.fromkeys(ids)) if lead is not None]
    if not leads:
        flash(_("Choose a project."), "danger")
        return redirect(url_for("decisions.meeting", meeting_id=meeting_id)), 303
    added, refused = services.add_items(meeting, leads)
    if added:
        flash(_("On the agenda now: %(companies)s.", companies="、".join(i.lead.company_name for i in added))
              if len(added) > 1 else _("%(company)s is on the agenda.", company=added[0].lead.company_name), "success")
    for lead, reason in refused:
        flash(_("%(company)s was not put on the agenda: %(reason)s", company=lead.company_name, reason=reason),
              "danger")
    status = 303 if refused else 302
    return redirect(url_for("decisions.meeting", meeting_id=meeting_id)), status


@bp.route("/items/<int:item_id>/remove", methods=["POST"])
@require_permission(Permission.DECISIONS_MANAGE)
def remove_item(item_id: int):
    """Team leads and admins: take an item off the agenda before the meeting opens."""
    access.require_keeper(acting_user())
    item = _item_or_404(item_id)
    meeting_id = item.meeting_id
    try:
        services.remove_item(item)
    except services.DecisionError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for("decisions.meeting", meeting_id=meeting_id)), 303
    return redirect(url_for("decisions.meeting", meeting_id=meeting_id))


@bp.route("/meetings/<int:meeting_id>/open", methods=["POST"])
@require_permission(Permission.DECISIONS_MANAGE)
def open_meeting(meeting_id: int):
    """Team leads and admins: take attendance (each member present or absent with the reason) and
    open the meeting; its rules freeze."""
    access.require_keeper(acting_user())
    meeting = _meeting_or_404(meeting_id)
    if not AttendanceForm().validate_on_submit():
        abort(400)
    attendance = AttendanceForm.entries(request.form, [m.user_id for m in services.members()])
    try:
        services.open_meeting(meeting, attendance)
    except services.DecisionError as exc:
        return _decision_error_response(exc, meeting_id)
    flash(_("The meeting is open. Members can vote."), "success")
    return redirect(url_for("decisions.meeting", meeting_id=meeting_id))


@bp.route("/meetings/<int:meeting_id>/attendance", methods=["POST"])
@require_permission(Permission.DECISIONS_MANAGE)
def update_attendance(meeting_id: int):
    """Team leads and admins: correct the attendance before the first vote."""
    access.require_keeper(acting_user())
    meeting = _meeting_or_404(meeting_id)
    if not AttendanceForm().validate_on_submit():
        abort(400)
    attendance = AttendanceForm.entries(request.form, [a.user_id for a in meeting.attendees])
    try:
        services.update_attendance(meeting, attendance)
    except services.DecisionError as exc:
        return _decision_error_response(exc, meeting_id)
    flash(_("Attendance corrected."), "success")
    return redirect(url_for("decisions.meeting", meeting_id=meeting_id))


def _decision_error_response(exc: services.DecisionError, meeting_id: int | None):
    db.session.rollback()
    if exc.status == 403:
        abort(403)
    flash(str(exc), "danger")
    if meeting_id is None:
        return redirect(url_for("decisions.meetings")), 303
    return redirect(url_for("decisions.meeting", meeting_id=meeting_id)), 303


@bp.route("/items/<int:item_id>/vote", methods=["POST"])
@require_permission(Permission.DECISIONS_VOTE)
def vote(item_id: int):
    """Members of the leadership group at the meeting: vote, change the vote, or recuse."""
    item = _item_or_404(item_id)
    form = VoteForm()
    if not form.validate_on_submit():
        flash(_("Choose approve, reject, abstain or recuse."), "danger")
        return redirect(url_for("decisions.meeting", meeting_id=item.meeting_id) + f"#item-{item.id}"), 303
    based_on = int(form.based_on_version.data) if (form.based_on_version.data or "").isdigit() else None
    try:
        voting.cast_vote(item, acting_user(), form.choice.data, form.reason.data, based_on)
    except services.DecisionError as exc:
        return _decision_error_response(exc, item.meeting_id)
    flash(_("Vote recorded."), "success")
    return redirect(url_for("decisions.meeting", meeting_id=item.meeting_id) + f"#item-{item.id}")


@bp.route("/items/<int:item_id>/not-voted", methods=["POST"])
@require_permission(Permission.DECISIONS_VOTE)
def mark_not_voted(item_id: int):
    """The chair: record that a present member states no view on the item (未表决)."""
    item = _item_or_404(item_id)
    form = MarkNotVotedForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        voting.mark_not_voted(item, acting_user(), form.user_id.data)
    except services.DecisionError as exc:
        return _decision_error_response(exc, item.meeting_id)
    flash(_("Recorded as not voting."), "success")
    return redirect(url_for("decisions.meeting", meeting_id=item.meeting_id) + f"#item-{item.id}")


@bp.route("/items/<int:item_id>/close", methods=["GET", "POST"])
@require_permission(Permission.DECISIONS_VOTE)
def close_item(item_id: int):
    """The chair: see the exact count and the outcome it will record, then confirm (irreversible)."""
    item = _item_or_404(item_id)
    user = acting_user()
    form = CloseItemForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            outcome = voting.close_item(item, user, form.conditions.data, form.confirmed_version.data)
        except services.DecisionError as exc:
            return _decision_error_response(exc, item.meeting_id)
        flash(_("Decided: admitted.") if outcome.passed else _("Decided: not admitted."), "success")
        return redirect(url_for("decisions.meeting", meeting_id=item.meeting_id) + f"#item-{item.id}")
    try:
        tally, outcome = voting.close_preview(item, user)
    except services.DecisionError as exc:
        return _decision_error_response(exc, item.meeting_id)
    form.confirmed_version.data = item.version
    return render_template("decisions/close.html", item=item, meeting=item.meeting, tally=tally, outcome=outcome,
                           form=form, basis_label=PASS_BASIS_LABELS.get(item.meeting.pass_basis or "cast"))


@bp.route("/meetings/<int:meeting_id>/close", methods=["POST"])
@require_permission(Permission.DECISIONS_VOTE, Permission.DECISIONS_SETTINGS)
def close_meeting(meeting_id: int):
    """The chair (or an admin): end the meeting; undecided items go to the next meeting."""
    meeting = _meeting_or_404(meeting_id)
    try:
        deferred = services.close_meeting(meeting, acting_user())
    except services.DecisionError as exc:
        return _decision_error_response(exc, meeting_id)
    flash(_("The meeting is closed; %(n)s undecided items go to the next meeting.", n=deferred), "success")
    return redirect(url_for("decisions.meeting", meeting_id=meeting_id))


@bp.route("/meetings/<int:meeting_id>/minutes")
@require_permission(Permission.DECISIONS_READ)
def minutes(meeting_id: int):
    """Readers of meetings: the minutes (会议纪要) as a printable page."""
    from crm.decisions.minutes import minutes_content

    meeting = _meeting_or_404(meeting_id)
    if meeting.status == MeetingStatus.SCHEDULED:
        abort(404)
    paper = minutes_content(meeting, access.visible_items(meeting, acting_user()))
    return render_template("decisions/minutes.html", meeting=meeting, paper=paper,
                           day=meeting.meeting_on, now=clock.now())


@bp.route("/meetings/<int:meeting_id>/minutes.docx")
@require_permission(Permission.DECISIONS_READ)
def minutes_docx(meeting_id: int):
    """Readers of meetings: the minutes as a Word file."""
    from crm.decisions.minutes import minutes_docx_response

    meeting = _meeting_or_404(meeting_id)
    if meeting.status == MeetingStatus.SCHEDULED:
        abort(404)
    return minutes_docx_response(meeting, access.visible_items(meeting, acting_user()))


@bp.route("/settings", methods=["GET", "POST"])
@require_permission(Permission.DECISIONS_SETTINGS)
def settings():
    """Admins: the group's members and chair, and the counting rules."""
    rules = services.get_rules()
    form = RulesForm(obj=rules)
    secretariat = SecretariatForm(prefix="sec")
    secretariat.secretariat_unit_id.choices = [("", _("The county's 招商服务中心 (default)"))] + [
        (u.id, u.name) for u in db.session.scalars(select(Unit).where(Unit.active.is_(True)).order_by(Unit.name))]
    if request.method == "GET":
        secretariat.secretariat_unit_id.data = rules.secretariat_unit_id
    status = 200
    if request.method == "POST" and request.form.get("part") == "secretariat":
        if secretariat.validate_on_submit():
            services.save_secretariat(secretariat.secretariat_unit_id.data)
            flash(_("Saved: the team leads of this unit keep the agenda."), "success")
            return redirect(url_for("decisions.settings"))
        status = 400
    elif request.method == "POST" and request.form.get("part") == "members":
        ids = [int(v) for v in request.form.getlist("member") if v.isdigit()]
        chair = request.form.get("chair", type=int)
        try:
            services.set_membership([(uid, request.form.get(f"title_{uid}", "")) for uid in ids], chair)
        except services.DecisionError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            status = 400
        else:
            flash(_("The leadership group is saved."), "success")
            return redirect(url_for("decisions.settings"))
    elif request.method == "POST":
        if form.validate_on_submit():
            try:
                services.save_rules(form.quorum_fraction.data, form.pass_fraction.data,
                                    form.abstain_counts_as_cast.data, form.pass_basis.data,
                                    form.chair_votes_last.data)
            except services.DecisionError as exc:
                db.session.rollback()
                attach_error(form, exc)
                status = 400
            else:
                flash(_("Rules saved. Meetings already open keep the rules they opened with."), "success")
                return redirect(url_for("decisions.settings"))
        else:
            status = 400
    current = {m.user_id: m for m in services.members()}
    return render_template("decisions/settings.html", form=form, candidates=services.leader_candidates(),
                           current=current, secretariat=secretariat, rules=rules,
                           secretariat_unit=db.session.get(Unit, access.secretariat_unit_id() or 0)), status
