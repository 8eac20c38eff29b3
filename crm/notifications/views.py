"""The notification list: newest first, unread marked; opening one marks it read."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from sqlalchemy import select

from crm.auth.permissions import acting_user, require_permission
from crm.extensions import db
from crm.notifications import services
from crm.notifications.models import Notification

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.route("/")
@require_permission()
def index():
    """Any logged-in user: their own notifications."""
    user = acting_user()
    rows = db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                              .order_by(Notification.id.desc()).limit(200)).all()
    return render_template("notifications/index.html", notifications=rows)


@bp.route("/<int:notification_id>/open", methods=["POST"])
@require_permission()
def open_one(notification_id: int):
    """Any logged-in user: mark one of their own notifications read and go to its page."""
    user = acting_user()
    note = db.session.get(Notification, notification_id)
    if note is None or note.user_id != user.id:
        return redirect(url_for("notifications.index"))
    services.mark_read(user.id, note.id)
    # Links are made by the app itself (relative paths), never taken from input.
    return redirect(note.link if note.link and note.link.startswith("/") else url_for("notifications.index"))


@bp.route("/read-all", methods=["POST"])
@require_permission()
def read_all():
    """Any logged-in user: mark all their notifications read."""
    services.mark_read(acting_user().id)
    return redirect(url_for("notifications.index"))
