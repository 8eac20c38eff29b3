"""Sources (乡贤, 商会, advisors, agencies, events): the channels leads come from, with their
track record. Anyone who reads leads reads sources; officers, team leads and admins edit them."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from crm.auth.permissions import require_permission
from crm.auth.roles import Permission
from crm.extensions import db
from crm.services import save_named
from crm.leads.models import SOURCE_KIND_LABELS, Lead, Source
from crm.leads.pipeline import MAIN_LINE, Stage
from crm.leads.queries import visible_leads_filter
from crm.sources.forms import SourceForm

bp = Blueprint("sources", __name__, url_prefix="/sources")
READ = (Permission.LEADS_READ_UNIT, Permission.LEADS_READ_ALL)
_SIGNED_OR_LATER = [s.value for s in MAIN_LINE[MAIN_LINE.index(Stage.SIGNED):]]
_STARTED_OR_LATER = [s.value for s in MAIN_LINE[MAIN_LINE.index(Stage.STARTED):]]


def _track_record(source_id: int | None = None):
    """Per source: leads, signed, landed (started construction) — county-wide counts."""
    signed = case((Lead.signed_on.is_not(None) | Lead.stage.in_(_SIGNED_OR_LATER), 1), else_=0)
    landed = case((Lead.started_on.is_not(None) | Lead.stage.in_(_STARTED_OR_LATER), 1), else_=0)
    stmt = (select(Lead.source_id, func.count(), func.sum(signed), func.sum(landed))
            .where(Lead.source_id.is_not(None)).group_by(Lead.source_id))
    if source_id is not None:
        stmt = stmt.where(Lead.source_id == source_id)
    rows = db.session.execute(stmt).all()
    return {sid: (n, s or 0, l or 0) for sid, n, s, l in rows}


@bp.route("")
@require_permission(*READ)
def index():
    """Everyone who reads leads: the sources and how many of their leads signed and landed."""
    kind = request.args.get("kind") or ""
    stmt = select(Source).order_by(Source.kind, Source.name)
    if kind:
        stmt = stmt.where(Source.kind == kind)
    return render_template("sources/index.html", sources=db.session.scalars(stmt).all(),
                           record=_track_record(), kind=kind, kinds=SOURCE_KIND_LABELS)


@bp.route("/<int:source_id>")
@require_permission(*READ)
def show(source_id: int):
    """Everyone who reads leads; the lead list shows only the leads the user may read."""
    source = db.session.get(Source, source_id)
    if source is None:
        abort(404)
    stmt = (select(Lead).where(Lead.source_id == source.id).order_by(Lead.updated_at.desc()).limit(200)
            .options(selectinload(Lead.owner_unit)))
    visible = visible_leads_filter(current_user)
    if visible is not None:
        stmt = stmt.where(visible)
    return render_template("sources/show.html", source=source, leads=db.session.scalars(stmt).all(),
                           record=_track_record(source.id).get(source.id, (0, 0, 0)))


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:source_id>/edit", methods=["GET", "POST"])
@require_permission(Permission.SOURCES_EDIT)
def edit(source_id: int | None = None):
    """Officers, team leads and admins."""
    source = db.session.get(Source, source_id) if source_id else None
    if source_id and source is None:
        abort(404)
    form = SourceForm(obj=source)
    if form.validate_on_submit():
        name = form.name.data.strip()
        saved = save_named(Source, source, name, kind=form.kind.data, contact=form.contact.data or None,
                           note=form.note.data or None)
        if saved is None:
            form.name.errors.append(_("A source named %(name)s exists already.", name=name))
        else:
            source = saved
            flash(_("Source saved."), "success")
            return redirect(url_for("sources.show", source_id=source.id))
    return render_template("sources/form.html", form=form, source=source), (400 if form.errors else 200)
