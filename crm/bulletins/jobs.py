"""The bulletin's periodic job (crm.periodic "bulletins-monthly", daily at 02:00 Beijing).

On the first working day of a month (the State Council schedule, or the admin's holiday table:
crm.screening.calendar), or on any later day of that month if that day was missed, it makes last
month's bulletin, once. A month whose year has no known holiday schedule gets nothing until the
admin enters it (logged; the admin's home warns about missing years): never a silent guess.

Idempotent under RQ's at-least-once delivery: a bulletin that exists is not made again, and two
runs at once make one (the unique period, checked in a savepoint by crm.bulletins.services.make)."""
from __future__ import annotations

from datetime import date, timedelta

from flask import current_app

from crm import clock
from crm.audit.listener import set_actor
from crm.dashboard.period import Period
from crm.extensions import db
from crm.screening.calendar import UnknownYearError, WorkCalendar


def first_working_day(year: int, month: int, calendar: WorkCalendar) -> date:
    """The month's first working day (UnknownYearError when its year has no schedule)."""
    day = date(year, month, 1)
    while not calendar.is_workday(day):
        day += timedelta(days=1)
        if day.month != month:  # no working day at all: never happens with a real schedule
            raise UnknownYearError(year)
    return day


def due_period(today: date, calendar: WorkCalendar) -> Period | None:
    """Last month, once this month's first working day has come; None before it."""
    if not calendar.knows(today.year):
        raise UnknownYearError(today.year)
    if today < first_working_day(today.year, today.month, calendar):
        return None
    last = today.replace(day=1) - timedelta(days=1)
    return Period.month(last.year, last.month)


def monthly() -> dict:
    """On the month's first working day (or later that month): last month's bulletin, once."""
    from crm.bulletins import services
    from crm.screening.services import load_calendar

    set_actor(None)
    today = clock.today()
    try:
        period = due_period(today, load_calendar())
    except UnknownYearError as exc:
        current_app.logger.warning("bulletins: no holiday schedule for %s; last month's bulletin waits until "
                                   "the admin enters it", exc.year)
        return {"made": None, "no_calendar": exc.year}
    if period is None:
        return {"made": None, "due": False}
    existing = services.find(period)
    if existing is not None:
        return {"made": None, "exists": existing.id}
    bulletin = services.make(period, by_job=True)
    db.session.commit()
    current_app.logger.info("bulletins: made %s (%s)", bulletin.id, bulletin.title)
    return {"made": bulletin.id}
