"""Administration: users, units and the audit log. Admins only (MANAGE_ACCOUNTS / AUDIT_READ)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_babel import gettext as _
from sqlalchemy import func, select

from crm.admin.forms import UnitForm, UserForm
from crm.audit.models import AuditEntry
from crm.audit.words import describe, entity_label
from crm.auth import services, throttle
from crm.auth.models import Unit, User
from crm.auth.permissions import require_permission
from crm.auth.roles import Permission
from crm.extensions import db
from crm.services import save_named

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _unit_choices():
    return [(u.id, f"{u.name}（{u.kind_label}）") for u in
            db.session.scalars(select(Unit).order_by(Unit.kind, Unit.name))]


@bp.route("/users")
@require_permission(Permission.MANAGE_ACCOUNTS)
def users():
    """Admins: every user with unit, roles and status."""
    q = (request.args.get("q") or "").strip()
    stmt = select(User).join(User.unit).order_by(Unit.name, User.username)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(User.username.ilike(like) | User.full_name.ilike(like) | Unit.name.ilike(like))
    return render_template("admin/users.html", users=db.session.scalars(stmt).unique().all(), q=q)


@bp.route("/users/new", methods=["GET", "POST"])
@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@require_permission(Permission.MANAGE_ACCOUNTS)
def edit_user(user_id: int | None = None):
    """Admins: create a user or change one's unit, roles, password and status."""
    user = db.session.get(User, user_id) if user_id else None
    if user_id and user is None:
        abort(404)
    form = UserForm(obj=user)
    form.unit_id.choices = _unit_choices()
    if request.method == "GET" and user is not None:
        form.roles.data = user.roles
    if form.validate_on_submit():
        unit = db.session.get(Unit, form.unit_id.data)
        try:
            if user is None:
                if not form.password.data:
                    raise services.AccountError(_("A new user needs a password."))
                user = services.create_user(form.username.data, form.password.data, unit,
                                            form.roles.data, form.full_name.data, form.email.data)
                services.set_active(user, form.active.data)
            else:
                clash = services.find_user(form.username.data)
                if clash is not None and clash.id != user.id:
                    raise services.AccountError(_("The username %(name)s is taken.", name=form.username.data))
                user.username = form.username.data.strip()
                user.full_name = form.full_name.data or ""
                user.email = form.email.data or None
                user.unit = unit
                user.roles = form.roles.data
                if form.password.data:
                    services.change_password(user, form.password.data)
                services.set_active(user, form.active.data)
        except services.AccountError as exc:
            form.username.errors.append(str(exc))
        else:
            flash(_("User %(name)s saved.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    failures = throttle.failures(user.username) if user is not None else 0
    return render_template("admin/user_form.html", form=form, user=user, login_failures=failures), (
        400 if form.errors else 200)


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@require_permission(Permission.MANAGE_ACCOUNTS)
def unlock_user(user_id: int):
    """Admins: forget the account's failed logins, so every address may try again at once."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    services.unlock_logins(user)
    flash(_("Logins of %(name)s unlocked.", name=user.username), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/units")
@require_permission(Permission.MANAGE_ACCOUNTS)
def units():
    """Admins: the units (towns, departments, investment groups, parks) and their user counts."""
    counts = dict(db.session.execute(select(User.unit_id, func.count()).group_by(User.unit_id)).all())
    rows = db.session.scalars(select(Unit).order_by(Unit.kind, Unit.name)).all()
    return render_template("admin/units.html", units=rows, counts=counts)


@bp.route("/units/new", methods=["GET", "POST"])
@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
@require_permission(Permission.MANAGE_ACCOUNTS)
def edit_unit(unit_id: int | None = None):
    """Admins: create or rename a unit, change its kind, deactivate it."""
    unit = db.session.get(Unit, unit_id) if unit_id else None
    if unit_id and unit is None:
        abort(404)
    form = UnitForm(obj=unit)
    if form.validate_on_submit():
        name = form.name.data.strip()
        saved = save_named(Unit, unit, name, kind=form.kind.data, active=form.active.data)
        if saved is None:
            form.name.errors.append(_("A unit named %(name)s exists already.", name=name))
        else:
            unit = saved
            flash(_("Unit %(name)s saved.", name=unit.name), "success")
            return redirect(url_for("admin.units"))
    return render_template("admin/unit_form.html", form=form, unit=unit), (400 if form.errors else 200)


@bp.route("/audit")
@require_permission(Permission.AUDIT_READ)
def audit():
    """Admins: the audit log, newest first, filtered by entity and user."""
    entity_type = request.args.get("entity_type") or ""
    entity_id = request.args.get("entity_id", type=int)
    actor_id = request.args.get("actor_id", type=int)
    before = request.args.get("before", type=int)
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(100)
    if entity_type:
        stmt = stmt.where(AuditEntry.entity_type == entity_type)
    if entity_id:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    if actor_id:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    if before:
        stmt = stmt.where(AuditEntry.id < before)
    entries = db.session.scalars(stmt).all()
    entity_types = db.session.scalars(select(AuditEntry.entity_type).distinct().order_by(AuditEntry.entity_type)).all()
    actors = db.session.scalars(select(User).order_by(User.username)).all()
    # In words (field labels, names for ids, masked personal data); the page's last raw id pages on.
    return render_template("admin/audit.html", history=describe(entries, current_user),
                           last_id=entries[-1].id if len(entries) == 100 else None,
                           entity_types=[(t, entity_label(t)) for t in entity_types],
                           actors=actors, entity_type=entity_type, entity_id=entity_id,
                           actor_id=actor_id)
