"""Notify users: rows in the same transaction as the change; e-mail after the commit."""
from __future__ import annotations

from flask import current_app, has_app_context
from sqlalchemy import insert, select, update

from crm import clock
from crm.auth.models import User, UserRole
from crm.extensions import db
from crm.notifications.models import Notification


def notify(user_ids, kind: str, params: dict, link: str | None = None) -> int:
    """Add one notification per user; returns how many. E-mail follows the commit."""
    return notify_many([(user_ids, kind, params, link)])


def notify_many(items) -> int:
    """Many notifications in one INSERT: items are (user ids, kind, params, link)."""
    created = clock.now()
    values = [{"user_id": uid, "kind": kind, "params": params, "link": link, "created_at": created}
              for user_ids, kind, params, link in items for uid in sorted(set(user_ids))]
    if not values:
        return 0
    rows = db.session.execute(insert(Notification).returning(Notification.id, Notification.user_id),
                              values).all()
    if has_app_context() and current_app.config.get("SMTP_HOST"):
        with_address = set(db.session.scalars(select(User.id).where(
            User.id.in_({uid for _nid, uid in rows}), User.email.is_not(None), User.email != "")))
        ids = [nid for nid, uid in rows if uid in with_address]
        if ids:
            from crm.notifications.jobs import send_emails
            from crm.queue import enqueue_after_commit

            enqueue_after_commit("quick", send_emails, ids, retries=3)
    return len(values)


def unit_users_with_role(unit_ids, role: str) -> dict[int, list[int]]:
    """unit id → active users of that unit holding `role`."""
    rows = db.session.execute(
        select(User.unit_id, User.id).join(UserRole, UserRole.user_id == User.id)
        .where(User.unit_id.in_(list(unit_ids)), User.active.is_(True), UserRole.role == role)).all()
    result: dict[int, list[int]] = {}
    for unit_id, user_id in rows:
        result.setdefault(unit_id, []).append(user_id)
    return result


def users_with_role(role: str) -> list[int]:
    return list(db.session.scalars(select(User.id).join(UserRole, UserRole.user_id == User.id)
                                   .where(User.active.is_(True), UserRole.role == role)))


def unread_count_expression(user_id: int):
    """The user's unread notifications as a scalar subquery (the top bar reads it with other
    figures in one statement: crm.formatting)."""
    from sqlalchemy import func

    return (select(func.count()).select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None)).scalar_subquery())


def mark_read(user_id: int, notification_id: int | None = None) -> int:
    stmt = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    result = db.session.execute(stmt.values(read_at=clock.now()))
    return result.rowcount
