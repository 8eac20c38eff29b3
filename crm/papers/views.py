"""Official papers: the issuer and number settings (admins)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from crm.auth.permissions import require_permission
from crm.auth.roles import Permission
from crm.papers import services
from crm.papers.forms import PaperSettingsForm

bp = Blueprint("papers", __name__, url_prefix="/papers")


@bp.route("/settings", methods=["GET", "POST"])
@require_permission(Permission.PAPERS_SETTINGS)
def settings():
    """Admins: who issues the one-time notice and the minutes, and their number prefixes."""
    current = services.peek_settings()
    form = PaperSettingsForm(obj=current if request.method == "GET" else None)
    status = 200
    if form.validate_on_submit():
        services.save_settings(form.settings_data())
        flash(_("Official papers settings saved. Numbers already given keep their prefix."), "success")
        return redirect(url_for("papers.settings"))
    elif request.method == "POST":
        status = 400
    return render_template("papers/settings.html", form=form, recent=services.recent_numbers()), status
