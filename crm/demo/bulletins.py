"""Bulletins (督查通报) in the demo county: the last three months' bulletins, each made as the
monthly job would have made it, on the first working day of the month after (the clock fixed to
that day, so its letters and problems are overdue as of then and its lights are those of then).

Called by crm.demo.seed.seed_demo once the stage dates are rebuilt; it flushes, never commits."""
from __future__ import annotations

from datetime import date, timedelta

from crm import clock
from crm.bulletins import services
from crm.bulletins.jobs import first_working_day
from crm.dashboard.period import Period
from crm.extensions import db
from crm.papers import services as papers
from crm.screening.calendar import UnknownYearError

ISSUER = {"bulletin_issuer": "将乐县招商引资工作领导小组办公室", "bulletin_prefix": "将招督查"}


def _month_before(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def seed_bulletins(today: date, months: int = 3) -> list[int]:
    """The bulletins of the last `months` months whose job day has come; their ids, oldest first."""
    from crm.screening.services import load_calendar

    settings = papers.get_settings()
    if not settings.bulletin_issuer and not settings.bulletin_prefix:
        papers.save_settings(ISSUER)
    calendar = load_calendar()
    firsts = [today.replace(day=1)]
    for _n in range(months):
        firsts.append(_month_before(firsts[-1]))
    made = []
    # Each month's bulletin is made on the first working day of the month after it.
    for month_start, job_month in reversed(list(zip(firsts[1:], firsts[:-1]))):
        try:
            job_day = first_working_day(job_month.year, job_month.month, calendar)
        except UnknownYearError:
            continue  # as the job: no schedule, no bulletin
        if job_day > today:
            continue
        with clock.fixed_at(job_day):
            bulletin = services.make(Period.month(month_start.year, month_start.month), by_job=True)
        made.append(bulletin.id)
    db.session.flush()
    return made
