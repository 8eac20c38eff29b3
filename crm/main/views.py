"""The home page (each role's work for today) and the full list of follow-ups due. Thin: the
blocks are read in crm.main.workbench."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, redirect, render_template, url_for

from crm import clock
from crm.auth.permissions import acting_user, require_permission
from crm.auth.roles import Permission
from crm.leads.pipeline import STAGE_LABELS
from crm.main import workbench

bp = Blueprint("main", __name__)


def _user():
    """The acting user itself, not the request-bound proxy (the cockpit's context keeps it)."""
    user = acting_user()
    return user._get_current_object() if hasattr(user, "_get_current_object") else user


@bp.route("/")
@require_permission()
def home():
    """Any logged-in user: one block per role held. Those who only read the county's figures
    (viewers) land on the cockpit itself."""
    user = _user()
    if workbench.cockpit_only(user):
        return redirect(url_for("dashboard.index"))
    return render_template("main/home.html", w=workbench.build(user), stages=workbench.PIPELINE_STAGES,
                           stage_labels=STAGE_LABELS)


@bp.route("/follow-ups")
@require_permission(Permission.LEADS_EDIT_UNIT)
def follow_ups():
    """Officers (their own leads) and team leads (their unit's): every follow-up overdue or due
    within a week, overdue first."""
    user = _user()
    return render_template("main/follow_ups.html", groups=workbench.full_follow_ups(user),
                           whole_unit=workbench.sees_whole_unit(user), today=clock.today(),
                           week=timedelta(days=workbench.WEEK))
