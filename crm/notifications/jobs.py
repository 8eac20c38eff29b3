"""E-mail for notifications (quick queue): claimed before sending, so at most once each."""
from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from crm import clock
from crm.extensions import db
from crm.notifications.models import Notification


def send_emails(notification_ids: list[int]) -> int:
    """Send these notifications to their users' addresses, each at most once; returns how many."""
    config = current_app.config
    if not config.get("SMTP_HOST"):
        return 0
    rows = db.session.scalars(
        select(Notification).options(joinedload(Notification.user))
        .where(Notification.id.in_(notification_ids), Notification.emailed_at.is_(None))
        .order_by(Notification.id)).all()
    if not rows:
        return 0
    sent = 0
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30) as smtp:
        if config.get("SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"] or "")
        for note in rows:
            # Claim, then send: a retried job never mails the same notification twice.
            claimed = db.session.execute(update(Notification).where(
                Notification.id == note.id, Notification.emailed_at.is_(None)).values(emailed_at=clock.now()))
            db.session.commit()
            if claimed.rowcount != 1 or not note.user.email:
                continue
            with force_locale(note.user.locale or "zh"):
                body = note.message
            message = EmailMessage()
            message["From"] = config["MAIL_FROM"]
            message["To"] = note.user.email
            message["Subject"] = body[:60]
            link = (config.get("BASE_URL") or "").rstrip("/") + (note.link or "")
            message.set_content(body + ("\n\n" + link if note.link else ""))
            smtp.send_message(message)
            sent += 1
    return sent
