"""The nightly letter job (crm.periodic "letters-nightly", 01:30 Beijing, after the lights at 01:00).

Idempotent and race-safe: a letter already written is not due again (the query skips it), and
two runs at once cannot both write it (the unique project/milestone/kind constraint, checked in a
savepoint per chunk, then per letter if a chunk is refused). Commits per chunk, so a long first run keeps what it wrote."""
from __future__ import annotations

from flask import current_app

from crm import clock
from crm.audit.listener import set_actor
from crm.auth.roles import Role
from crm.extensions import db
from crm.letters import services, triggers
from crm.notifications.services import notify, users_with_role
from crm.screening.calendar import UnknownYearError
from crm.screening.services import load_calendar
from crm.tracking.settings import peek_settings

CHUNK = 500


def write_due_letters() -> dict:
    """Write every reminder, assignment and supervision letter due today; notify the units."""
    set_actor(None)
    today = clock.today()
    settings = peek_settings()
    due = triggers.due_letters(today, settings)
    if not due:
        return {"due": 0, "written": 0}
    try:
        reply_due_on = services.reply_due(today, int(settings.reply_working_days or 0), load_calendar())
    except UnknownYearError as exc:
        # Never a silent guess at the reply date: write nothing, tell the administrators.
        current_app.logger.warning("letters: no holiday schedule for %s; %s letters wait", exc.year, len(due))
        notify(users_with_role(Role.ADMIN), "letters_no_calendar", {"year": exc.year, "count": len(due)})
        db.session.commit()
        return {"due": len(due), "written": 0, "no_calendar": exc.year}
    written = 0
    for start in range(0, len(due), CHUNK):
        made = services.write_letters(due[start:start + CHUNK], today, reply_due_on)
        services.notify_written(made)
        db.session.commit()
        db.session.expunge_all()  # keep each flush's work (and the audit's scan) to one chunk
        written += len(made)
    return {"due": len(due), "written": written}
