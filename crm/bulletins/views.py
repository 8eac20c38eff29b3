"""/bulletins: the list (leaders, viewers, admins), the on-demand form (admins), one bulletin as a
printable official paper and as a Word file."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from crm import clock
from crm.auth.permissions import acting_user, require_permission
from crm.auth.roles import Permission
from crm.bulletins import services
from crm.bulletins.forms import MakeBulletinForm
from crm.bulletins.models import Bulletin
from crm.dashboard.period import Period, PeriodError, parse
from crm.extensions import db

bp = Blueprint("bulletins", __name__)


def _bulletin_or_404(bulletin_id: int) -> Bulletin:
    bulletin = db.session.get(Bulletin, bulletin_id)
    if bulletin is None:
        abort(404)
    return bulletin


def _list(form: MakeBulletinForm, status: int = 200, errors=(), existing: Bulletin | None = None):
    bulletins = services.bulletin_list()
    return render_template("bulletins/index.html", bulletins=bulletins, form=form, errors=list(errors),
                           existing=existing, numbers=services.numbers_for(b.id for b in bulletins),
                           period_of=services.period_of, period_words=services.period_words), status


def _default_form() -> MakeBulletinForm:
    last = Period.last_month()
    form = MakeBulletinForm(formdata=None)
    form.period.data, form.year.data, form.month.data = "month", str(last.start.year), str(last.start.month)
    return form


@bp.get("/bulletins")
@require_permission(Permission.DASHBOARD_READ_ALL)
def index():
    """Leaders, viewers and admins: every bulletin, newest first; admins also make one on demand."""
    return _list(_default_form())


@bp.post("/bulletins")
@require_permission(Permission.BULLETINS_MAKE)
def make():
    """Admins: the bulletin of any finished period, once (an existing one is shown, not made again)."""
    form = MakeBulletinForm()
    if not form.validate_on_submit():
        return _list(form, 400, [_("The form has expired; please try again.")])
    try:
        period = parse(form.period_args())
        services.check_period(period, clock.today())
    except (PeriodError, services.BulletinError) as exc:
        return _list(form, 400, [str(exc)])
    existing = services.find(period)
    if existing is not None:
        return _list(form, 200, existing=existing)
    bulletin = services.make(period, actor=acting_user())
    flash(_("The bulletin “%(title)s” is made.", title=bulletin.title), "success")
    return redirect(url_for("bulletins.index", _anchor=f"bulletin-{bulletin.id}"))


@bp.get("/bulletins/<int:bulletin_id>")
@require_permission(Permission.DASHBOARD_READ_ALL)
def show(bulletin_id: int):
    """Leaders, viewers and admins: the bulletin as a printable official paper."""
    return render_template("bulletins/paper.html", bulletin=_bulletin_or_404(bulletin_id))


@bp.get("/bulletins/<int:bulletin_id>.docx")
@require_permission(Permission.DASHBOARD_READ_ALL)
def docx(bulletin_id: int):
    """Leaders, viewers and admins: the bulletin as a Word file (GB/T 9704), to stamp and send."""
    from crm.bulletins.paper import bulletin_docx_response

    return bulletin_docx_response(_bulletin_or_404(bulletin_id))
