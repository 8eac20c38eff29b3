"""Pre-screening pages: submit, the case, opinions, the one-time notice, timeliness, settings."""
from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from crm import clock
from crm.auth.models import Unit, UnitKind
from crm.auth.permissions import acting_user, can_read_unit_records, require_permission
from crm.auth.roles import Permission
from crm.chains.models import Chain
from crm.extensions import db
from crm.formatting import deadline
from crm.forms import attach_error
from crm.leads import services as lead_services
from crm.leads.models import Lead
from crm.leads.queries import get_lead_or_404
from crm.attachments.queries import panels as attachment_panels
from crm.screening import indicators, queries, services
from crm.screening.attachments import CASE_KIND, OPINION_KIND
from crm.screening.forms import CalendarDayForm, ConfirmYearForm, OpinionForm, SettingsForm, SubmitForm, ThresholdForm
from crm.screening.models import (CASE_STATUS_LABELS, RATING_DIMENSIONS, CalendarDay, CalendarYear,
                                  ScreeningCase, ScreeningThreshold)

bp = Blueprint("screening", __name__, url_prefix="/screening")


def _parks() -> list[Unit]:
    return list(db.session.scalars(select(Unit).where(Unit.kind == UnitKind.PARK, Unit.active.is_(True))
                                   .order_by(Unit.name)))


def _member_choices() -> list[tuple[int, str]]:
    units = db.session.scalars(select(Unit).where(Unit.active.is_(True), Unit.kind == UnitKind.DEPARTMENT)
                               .order_by(Unit.name))
    return [(u.id, u.name) for u in units]


# --- lists ----------------------------------------------------------------------------------

@bp.route("/")
@require_permission(Permission.SCREENING_SUBMIT, Permission.SCREENING_READ_ALL)
def cases():
    """Officers/team leads: their unit's cases; leaders, viewers, admins: every case."""
    status = request.args.get("status") or None
    if status not in (None, *CASE_STATUS_LABELS):
        status = None
    filters = _case_filters(request.args)
    rows = queries.case_list(acting_user(), status, filters=filters)
    return render_template("screening/cases.html", cases=rows, status=status, filters=filters,
                           status_labels=CASE_STATUS_LABELS, now=clock.now())


def _case_filters(args) -> queries.CaseFilters:
    """The cockpit's filters of the cases list; a value that cannot be read is refused (400)."""
    from crm.request_guard import refuse

    f = queries.CaseFilters()
    for name in ("member_unit_id", "owner_unit_id", "chain_id"):
        raw = (args.get(name) or "").strip()
        if raw:
            if not raw.isdigit() or not 0 < int(raw) < 2**31:
                refuse(_("The list's link is damaged (%(name)s). Open it again from the cockpit.", name=name))
            setattr(f, name, int(raw))
    for name in ("submitted_from", "submitted_to"):
        raw = (args.get(name) or "").strip()
        if raw:
            try:
                setattr(f, name, date.fromisoformat(raw))
            except ValueError:
                refuse(_("The list's link is damaged (%(name)s). Open it again from the cockpit.", name=name))
    answer = (args.get("answer") or "").strip()
    if answer and answer not in queries.ANSWERS:
        refuse(_("The list's link is damaged (%(name)s). Open it again from the cockpit.", name="answer"))
    f.answer = answer
    return f


@bp.route("/todo")
@require_permission(Permission.SCREENING_ANSWER)
def todo():
    """Screening liaisons: the cases waiting for their unit's opinion, most urgent first."""
    user = acting_user()
    return render_template("screening/todo.html", waiting=queries.todo_for_unit(user.unit_id),
                           answered=queries.answered_open_for_unit(user.unit_id), now=clock.now())


# --- submitting -----------------------------------------------------------------------------

@bp.route("/leads/<int:lead_id>/submit", methods=["GET", "POST"])
@require_permission(Permission.SCREENING_SUBMIT)
def submit(lead_id: int):
    """Officers and team leads of the lead's unit: send it to pre-screening (units editable)."""
    lead = get_lead_or_404(lead_id, write=True)
    form = SubmitForm()
    form.unit_ids.choices = _member_choices()
    form.park_unit_id.choices = [("", "—")] + [(p.id, p.name) for p in _parks()]
    missing = queries.returned_materials(lead)
    form.supplied.choices = [(e["item"], f"{e['item']}（{'、'.join(e['units'])}）" if e.get("units") else e["item"])
                             for e in missing]
    if request.method == "GET":
        form.unit_ids.data = [u.id for u in services.member_units_for(lead)]
        form.park_unit_id.data = lead.owner_unit_id if lead.owner_unit.kind == UnitKind.PARK else None
        form.version.data = lead.version
    status = 200
    if form.validate_on_submit():
        try:
            case = services.submit(lead, acting_user(), form.unit_ids.data, form.park_unit_id.data,
                                   form.note.data, expected_version=form.version.data,
                                   supplied=(form.supplied.data or []) if missing else None)
        except (lead_services.ConcurrentEditError, StaleDataError):
            db.session.rollback()
            flash(_("This lead was changed by someone else since you opened it. Reload and try again."), "danger")
            status = 409
        except services.ScreeningError as exc:
            db.session.rollback()
            attach_error(form, exc)
            status = exc.status
        else:
            if case.due_on is None:
                flash(_("Sent to pre-screening, but the deadline cannot be computed: the holiday schedule "
                        "for %(year)s is not entered. The administrators have been told.",
                        year=case.due_problem_year), "warning")
            else:
                flash(_("Sent to pre-screening. The member units answer %(due)s.",
                        due=deadline(case.due_on)), "success")
            return redirect(url_for("screening.case", case_id=case.id))
    elif request.method == "POST":
        status = 400
    lead = db.session.get(Lead, lead_id)
    if request.method == "GET" and lead.stage not in services.SUBMITTABLE:
        flash(_("Only a lead in negotiation (or returned for materials) can be sent to pre-screening."), "warning")
    thresholds = services.thresholds_for(lead.chain_id, form.park_unit_id.data)
    return render_template("screening/submit.html", lead=lead, form=form, missing=missing,
                           indicators=indicators.compute(lead, thresholds), thresholds=thresholds), status


# --- the case -------------------------------------------------------------------------------

def _render_case(case: ScreeningCase, form: OpinionForm | None = None, status: int = 200):
    user = acting_user()
    thresholds = services.thresholds_for(case.lead.chain_id, case.park_unit_id)
    latest = case.latest_opinions()
    own_unit_case = next((cu for cu in case.units if cu.unit_id == user.unit_id), None)
    can_answer = queries.can_answer_case(user, case)
    if can_answer and form is None:
        own = latest.get(user.unit_id)
        form = OpinionForm()
        if own is not None:  # amending: start from the unit's current opinion
            form.verdict.data = own.verdict
            for d in RATING_DIMENSIONS:
                getattr(form, f"rating_{d}").data = getattr(own, f"rating_{d}")
            ticked, other = services.split_materials(own.materials)
            form.materials_common.data = ticked
            form.materials_other.data = "\n".join(other)
            form.conditions.data = own.conditions
            form.comment.data = own.comment
        form.based_on_version.data = own.version if own else 0
    rounds = services.cases_for_lead(case.lead_id)
    case_files = attachment_panels(CASE_KIND, {case.id: case}, user).get(case.id)
    unit_files = attachment_panels(OPINION_KIND, {cu.id: cu for cu in case.units}, user)
    return render_template(
        "screening/case.html", case=case, lead=case.lead, latest=latest, form=form,
        case_files=case_files, unit_files=unit_files, supplied_report=case.supplied_report(),
        can_answer=can_answer, own_unit_case=own_unit_case,
        can_resubmit=queries.can_submit_lead(user, case.lead) and case.lead.stage in services.SUBMITTABLE,
        indicators=indicators.compute(case.lead, thresholds), thresholds=thresholds, rounds=rounds,
        now=clock.now(), dimensions=RATING_DIMENSIONS,
        can_read_lead=can_read_unit_records(user, case.lead.owner_unit_id)), status


@bp.route("/cases/<int:case_id>")
@require_permission()
def case(case_id: int):
    """The lead's unit, the member units asked, leaders, viewers and admins."""
    return _render_case(queries.get_case_or_404(case_id))


@bp.route("/cases/<int:case_id>/opinion", methods=["POST"])
@require_permission(Permission.SCREENING_ANSWER)
def opinion(case_id: int):
    """Screening liaisons of a unit asked on the case: give or amend the unit's opinion."""
    case = queries.get_case_or_404(case_id)
    user = acting_user()
    form = OpinionForm()
    if not any(cu.unit_id == user.unit_id for cu in case.units):
        abort(403)
    if form.validate_on_submit():
        based_on = int(form.based_on_version.data) if (form.based_on_version.data or "").isdigit() else None
        try:
            services.submit_opinion(case, user.unit_id, user, form.opinion_data(), based_on)
        except services.ScreeningError as exc:
            db.session.rollback()
            if exc.status == 403:
                abort(403)
            if exc.status == 409:
                flash(str(exc), "danger")
                return _render_case(queries.get_case_or_404(case_id), status=409)
            attach_error(form, exc)
        else:
            if case.is_open:
                flash(_("Opinion recorded."), "success")
            else:
                flash(_("Opinion recorded. Every unit has answered: the case is closed."), "success")
            return redirect(url_for("screening.case", case_id=case_id))
    db.session.rollback()
    return _render_case(queries.get_case_or_404(case_id), form=form, status=400)


@bp.route("/cases/<int:case_id>/notice")
@require_permission()
def notice(case_id: int):
    """Who may read the case: the one-time notice (一次性告知书) as a printable page."""
    case = queries.get_case_or_404(case_id)
    if case.status != "closed":
        flash(_("The one-time notice exists once the case has closed."), "warning")
        return redirect(url_for("screening.case", case_id=case_id))
    return render_template("screening/notice.html", case=case, lead=case.lead, latest=case.latest_opinions(),
                           issued_on=case.closed_at.astimezone(clock.local_zone()).date())


@bp.route("/cases/<int:case_id>/notice.docx")
@require_permission()
def notice_docx(case_id: int):
    """Who may read the case: the one-time notice as a Word file, to edit and stamp."""
    from crm.screening.notice import notice_docx_response

    case = queries.get_case_or_404(case_id)
    if case.status != "closed":
        abort(404)
    return notice_docx_response(case)


# --- figures --------------------------------------------------------------------------------

@bp.route("/timeliness")
@require_permission(Permission.SCREENING_READ_ALL)
def timeliness():
    """Leaders, viewers and admins: each member unit's timeliness over a period."""
    days = request.args.get("days", "365")
    days = int(days) if days.isdigit() and 0 < int(days) <= 3650 else 365
    since = clock.now() - timedelta(days=days)
    return render_template("screening/timeliness.html", rows=queries.timeliness(since), days=days)


# --- settings (admin) -----------------------------------------------------------------------

@bp.route("/settings", methods=["GET", "POST"])
@require_permission(Permission.SCREENING_SETTINGS)
def settings():
    """Admins: day counting, default member units, each chain's extra units."""
    current = services.get_settings()
    form = SettingsForm(obj=None)
    choices = _member_choices()
    form.default_unit_ids.choices = choices
    chains = list(db.session.scalars(select(Chain).order_by(Chain.position, Chain.id)))
    valid_ids = {uid for uid, _ in choices}
    if request.method == "GET":
        form.working_days.data = current.working_days
        form.period_days.data = current.period_days
        form.default_unit_ids.data = services.default_unit_ids()
    status = 200
    if form.validate_on_submit():
        extras = {}
        for chain in chains:
            picked = [int(v) for v in request.form.getlist(f"chain_{chain.id}") if v.isdigit()]
            if any(uid not in valid_ids for uid in picked):
                abort(400)
            extras[chain.id] = picked
        current.working_days = bool(form.working_days.data)
        current.period_days = form.period_days.data
        services.set_member_units(form.default_unit_ids.data, extras)
        flash(_("Pre-screening settings saved. They apply to cases submitted from now on."), "success")
        return redirect(url_for("screening.settings"))
    elif request.method == "POST":
        status = 400
    chain_units = {c.id: set(services.chain_unit_ids(c.id)) for c in chains}
    return render_template("screening/settings.html", form=form, chains=chains, chain_units=chain_units,
                           choices=choices), status


def _threshold_form(row: ScreeningThreshold | None) -> ThresholdForm:
    form = ThresholdForm(obj=row)
    chains = db.session.scalars(select(Chain).order_by(Chain.position, Chain.id))
    form.chain_id.choices = [("", _("All chains"))] + [(c.id, c.name) for c in chains]
    form.park_unit_id.choices = [("", _("All parks"))] + [(p.id, p.name) for p in _parks()]
    return form


@bp.route("/thresholds", methods=["GET", "POST"])
@bp.route("/thresholds/<int:threshold_id>", methods=["GET", "POST"])
@require_permission(Permission.SCREENING_SETTINGS)
def thresholds(threshold_id: int | None = None):
    """Admins: the county's, each chain's and each park's minimum figures."""
    row = db.session.get(ScreeningThreshold, threshold_id) if threshold_id else None
    if threshold_id and row is None:
        abort(404)
    form = _threshold_form(row)
    status = 200
    if form.validate_on_submit():
        try:
            services.save_threshold(row, form.threshold_data())
        except services.ScreeningError as exc:
            db.session.rollback()
            attach_error(form, exc)
            status = 400
        else:
            flash(_("Thresholds saved."), "success")
            return redirect(url_for("screening.thresholds"))
    elif request.method == "POST":
        status = 400
    rows = db.session.scalars(select(ScreeningThreshold)).all()
    rows.sort(key=lambda r: (r.chain_id is not None, r.chain.position if r.chain else 0,
                             r.park.name if r.park else ""))
    return render_template("screening/thresholds.html", form=form, rows=rows, editing=row,
                           scope=services.threshold_scope_label), status


@bp.route("/thresholds/<int:threshold_id>/delete", methods=["POST"])
@require_permission(Permission.SCREENING_SETTINGS)
def delete_threshold(threshold_id: int):
    """Admins: remove one row of thresholds (the next wider one applies)."""
    row = db.session.get(ScreeningThreshold, threshold_id)
    if row is None:
        abort(404)
    db.session.delete(row)
    flash(_("Thresholds removed."), "success")
    return redirect(url_for("screening.thresholds"))


@bp.route("/calendar", methods=["GET", "POST"])
@require_permission(Permission.SCREENING_SETTINGS)
def calendar():
    """Admins: the holiday and make-up working-day table, for years the package lacks."""
    form = CalendarDayForm(prefix="day")
    year_form = ConfirmYearForm(prefix="year")
    status = 200
    if form.submit.data and form.validate_on_submit():
        services.add_calendar_day(form.day.data, form.is_workday.data, form.name.data or "")
        flash(_("Saved %(day)s.", day=form.day.data.isoformat()), "success")
        return redirect(url_for("screening.calendar", year=form.day.data.year))
    elif request.method == "POST" and form.submit.data:
        status = 400
    today = clock.today()
    year = request.args.get("year", "")
    year = int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else today.year + 1
    if request.method == "GET":
        year_form.year.data = year
    days = db.session.scalars(select(CalendarDay).where(CalendarDay.day >= date(year, 1, 1),
                                                        CalendarDay.day <= date(year, 12, 31))
                              .order_by(CalendarDay.day)).all()
    confirmed = db.session.scalars(select(CalendarYear).order_by(CalendarYear.year)).all()
    waiting = db.session.scalars(select(ScreeningCase).where(ScreeningCase.status == "open",
                                                             ScreeningCase.due_problem_year.is_not(None))).all()
    return render_template("screening/calendar.html", form=form, year_form=year_form, year=year, days=days,
                           confirmed=confirmed, gaps=services.calendar_gaps(today), waiting=waiting,
                           calendar=services.load_calendar()), status


@bp.route("/calendar/confirm", methods=["POST"])
@require_permission(Permission.SCREENING_SETTINGS)
def confirm_year():
    """Admins: declare a year's schedule complete; waiting cases get their deadlines."""
    form = ConfirmYearForm(prefix="year")
    if form.validate_on_submit():
        try:
            services.confirm_year(form.year.data, acting_user())
        except services.ScreeningError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            flash(_("The %(year)s schedule is marked complete.", year=form.year.data), "success")
            return redirect(url_for("screening.calendar", year=form.year.data))
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(error, "danger")
    return redirect(url_for("screening.calendar")), 303


@bp.route("/calendar/<day>/delete", methods=["POST"])
@require_permission(Permission.SCREENING_SETTINGS)
def delete_day(day: str):
    """Admins: remove one day from the holiday table."""
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        abort(404)
    row = db.session.get(CalendarDay, parsed)
    if row is None:
        abort(404)
    db.session.delete(row)
    flash(_("Removed %(day)s.", day=day), "success")
    return redirect(url_for("screening.calendar", year=parsed.year))
