"""Letters (三函): the list, one letter, its official paper (page and Word), 签收 and 反馈."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from crm import clock
from crm.auth.permissions import acting_user, require_permission
from crm.auth.roles import Permission
from crm.extensions import db
from crm.letters import access, queries, services
from crm.letters.forms import AcknowledgeForm, ReplyForm
from crm.letters.models import LETTER_KIND_LABELS, Letter

bp = Blueprint("letters", __name__, url_prefix="/letters")
READ = (Permission.LEADS_READ_UNIT, Permission.LEADS_READ_ALL, Permission.TRACKING_RESPOND)


def _letter_or_404(letter_id: int) -> Letter:
    letter = db.session.get(Letter, letter_id)
    if letter is None:
        abort(404)
    if not access.may_read(acting_user(), letter):
        abort(403)
    return letter


def _iso_date(text: str) -> date:
    return date.fromisoformat(text)  # a ValueError makes request.args.get answer None


@bp.route("")
@require_permission(*READ)
def index():
    """Responders: their unit's letters; readers of the unit's leads: its projects' letters; county-wide readers: all."""
    kind = request.args.get("kind") or None
    state = request.args.get("state") or None
    if kind not in (None, *LETTER_KIND_LABELS):
        kind = None
    if state not in (None, *queries.FILTER_STATES):
        state = None
    # The cockpit's and the ranking's links: the letters about one owner unit's / one chain's
    # projects, or addressed to one unit (unit_id) and issued in a period.
    scope = {name: request.args.get(name, type=int) for name in ("owner_unit_id", "chain_id", "unit_id")}
    scope = {name: value for name, value in scope.items() if value is not None and value > 0}
    scope.update({name: value for name in ("issued_from", "issued_to")
                  if (value := request.args.get(name, type=_iso_date)) is not None})
    today = clock.today()
    cursor = request.args.get("cursor") or None
    try:
        page = queries.letter_page(acting_user(), today, kind=kind, state=state, cursor=cursor, **scope)
    except queries.BadCursor:
        cursor = None
        page = queries.letter_page(acting_user(), today, kind=kind, state=state, **scope)
    return render_template("letters/index.html", page=page, kind=kind, state=state, today=today, cursor=cursor,
                           kinds=LETTER_KIND_LABELS, state_of=queries.state_of, scope=scope)


@bp.route("/<int:letter_id>")
@require_permission(*READ)
def show(letter_id: int):
    """The addressed unit's responders and the project's readers (liaisons: the letter and the project's name only)."""
    return _show(_letter_or_404(letter_id), ReplyForm())


def _show(letter: Letter, reply_form: ReplyForm, status: int = 200):
    user = acting_user()
    today = clock.today()
    return render_template("letters/show.html", letter=letter, today=today, state=queries.state_of(letter, today),
                           number=queries.numbers_for([letter.id]).get(letter.id, ""),
                           may_respond=access.may_respond(user, letter), sees_project=access.sees_project(user, letter),
                           ack_form=AcknowledgeForm(), reply_form=reply_form), status


@bp.route("/<int:letter_id>/paper")
@require_permission(*READ)
def paper(letter_id: int):
    """Who may read the letter: the letter as a printable official paper."""
    letter = _letter_or_404(letter_id)
    return render_template("letters/paper.html", letter=letter)


@bp.route("/<int:letter_id>/paper.docx")
@require_permission(*READ)
def paper_docx(letter_id: int):
    """Who may read the letter: the letter as a Word file, to stamp and send."""
    from crm.letters.paper import letter_docx_response

    return letter_docx_response(_letter_or_404(letter_id))


@bp.route("/<int:letter_id>/acknowledge", methods=["POST"])
@require_permission(Permission.TRACKING_RESPOND)
def acknowledge(letter_id: int):
    """The addressed unit's responders (officers, team leads, department liaisons): 签收, once."""
    letter = _letter_or_404(letter_id)
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        flash(_("The form has expired; please try again."), "danger")
        return redirect(url_for("letters.show", letter_id=letter.id))
    try:
        services.acknowledge(letter, acting_user())
    except services.LetterError as exc:
        if exc.status == 403:
            abort(403)
        flash(str(exc), "warning")
        return redirect(url_for("letters.show", letter_id=letter.id))
    flash(_("Letter acknowledged."), "success")
    return redirect(url_for("letters.show", letter_id=letter.id))


@bp.route("/<int:letter_id>/reply", methods=["POST"])
@require_permission(Permission.TRACKING_RESPOND)
def reply(letter_id: int):
    """The addressed unit's responders: 反馈 with the progress, once (acknowledges too)."""
    letter = _letter_or_404(letter_id)
    if not access.may_respond(acting_user(), letter):
        abort(403)
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            services.reply(letter, acting_user(), form.reply.data)
        except services.LetterError as exc:
            if exc.status == 403:
                abort(403)
            flash(str(exc), "warning")
        else:
            flash(_("Reply sent."), "success")
            return redirect(url_for("letters.show", letter_id=letter.id))
    return _show(letter, form, 400)
