"""问题清单 pages: the list, one problem, the statistics; raising one from the project page."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from crm import clock
from crm.auth.permissions import acting_user, require_permission
from crm.auth.roles import Permission
from crm.extensions import db
from crm.forms import attach_error
from crm.problems import queries, services
from crm.problems.forms import ChangeForm, RaiseForm
from crm.problems.models import PROBLEM_CATEGORY_LABELS, PROBLEM_STATUS_LABELS
from crm.tracking.access import is_tracked, project_or_404
from crm.tracking.panels import panels_for

bp = Blueprint("problems", __name__)
READ = (Permission.LEADS_READ_UNIT, Permission.LEADS_READ_ALL, Permission.TRACKING_RESPOND)


def list_filters(args) -> dict:
    """The list's filters from query arguments; unknown values are ignored."""
    status = args.get("status") or None
    category = args.get("category") or None
    unit_id = args.get("unit_id") or ""
    owner_unit_id = args.get("owner_unit_id") or ""
    chain_id = args.get("chain_id") or ""
    return {"status": status if status in PROBLEM_STATUS_LABELS else None,
            "category": category if category in PROBLEM_CATEGORY_LABELS else None,
            "unit_id": int(unit_id) if unit_id.isdigit() else None,
            "overdue": args.get("overdue") in ("1", "true", "on"),
            "open_only": args.get("open") in ("1", "true", "on"),
            # The cockpit's links: the problems on one owner unit's / one chain's projects.
            "owner_unit_id": int(owner_unit_id) if owner_unit_id.isdigit() else None,
            "chain_id": int(chain_id) if chain_id.isdigit() else None}


@bp.route("/problems")
@require_permission(*READ)
def index():
    """Officers, team leads (their unit's projects and what is addressed to their unit), liaisons
    (what is addressed to their unit), leaders, viewers and admins (every problem)."""
    filters = list_filters(request.args)
    user = acting_user()
    rows = queries.problem_list(user, **filters)
    return render_template("problems/index.html", problems=rows, filters=filters, today=clock.today(),
                           may_read_project=lambda problem: services.may_read_project(user, problem),
                           units=queries.units_with_problems(), status_labels=PROBLEM_STATUS_LABELS,
                           category_labels=PROBLEM_CATEGORY_LABELS)


@bp.route("/problems/stats")
@require_permission(Permission.LEADS_READ_ALL)
def stats():
    """County-wide readers (leaders, viewers) and admins: per responsible unit."""
    return render_template("problems/stats.html", rows=queries.stats(), today=clock.today())


def _render(problem, form: ChangeForm | None = None, status: int = 200):
    user = acting_user()
    can_change = services.may_change(user, problem)
    if can_change and form is None:
        form = ChangeForm()
        form.status.data = problem.status
        form.resolution.data = problem.resolution
        form.due_on.data = problem.due_on
        form.version.data = problem.version
    return render_template("problems/show.html", problem=problem, form=form if can_change else None,
                           can_read_project=services.may_read_project(user, problem),
                           overdue=services.is_overdue(problem)), status


@bp.route("/problems/<int:problem_id>")
@require_permission(*READ)
def show(problem_id: int):
    """Who may read the project, and the members of the responsible unit who respond."""
    return _render(queries.get_or_404(problem_id, acting_user()))


@bp.route("/problems/<int:problem_id>", methods=["POST"])
@require_permission(*READ)
def change(problem_id: int):
    """The responsible unit's responders, the owner unit's officers and team lead, admins."""
    user = acting_user()
    problem = queries.get_or_404(problem_id, user)
    if not services.may_change(user, problem):
        abort(403)
    form = ChangeForm()
    if form.validate_on_submit():
        version = int(form.version.data) if (form.version.data or "").isdigit() else None
        try:
            services.change_problem(problem, user, version, status=form.status.data,
                                    resolution=form.resolution.data, due_on=form.due_on.data)
        except StaleDataError:
            db.session.rollback()
            flash(_("This problem was changed by someone else since you opened it. Reload and try again."),
                  "danger")
            return _render(queries.get_or_404(problem_id, user), status=409)
        except services.ProblemError as exc:
            db.session.rollback()
            if exc.status == 409:
                flash(str(exc), "danger")
                return _render(queries.get_or_404(problem_id, user), status=409)
            problem = queries.get_or_404(problem_id, user)
            attach_error(form, exc)
            return _render(problem, form, status=400)
        flash(_("Problem updated."), "success")
        return redirect(url_for("problems.show", problem_id=problem_id))
    db.session.rollback()
    return _render(queries.get_or_404(problem_id, user), form, status=400)


@bp.route("/projects/<int:lead_id>/problems", methods=["POST"])
@require_permission(Permission.PROBLEMS_RAISE)
def raise_problem(lead_id: int):
    """Who may read the project and raise problems (not the 督查 viewer, who changes nothing)."""
    lead = project_or_404(lead_id)
    if not is_tracked(lead):
        abort(404)
    form = RaiseForm()
    form.responsible_unit_id.choices = [(u.id, u.name) for u in queries.active_units()]
    if form.validate_on_submit():
        try:
            problem = services.raise_problem(lead, acting_user(), form.category.data, form.description.data,
                                             form.responsible_unit_id.data, form.due_on.data)
        except services.ProblemError as exc:
            db.session.rollback()
            lead = project_or_404(lead_id)
            attach_error(form, exc)
        else:
            flash(_("Problem raised; the responsible unit has been told."), "success")
            return redirect(url_for("problems.show", problem_id=problem.id))
    # The project page again, with the form as typed and its errors (the panel picks it up).
    g.problem_raise_form = form
    return render_template("tracking/project.html", lead=lead,
                           panels=panels_for("project", lead, acting_user())), 400
