"""The monthly bulletin job on a real `crm worker`, with the clock fixed: on the first working day of
a month it writes last month's bulletin once (run twice: one), not on the days before it, and a
missed first day is caught up later in the month; a year with no holiday schedule gets nothing."""
from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import func, select

from crm.bulletins.models import Bulletin
from crm.extensions import db
from crm.papers.models import DocumentNumber
from crm.periodic import PERIODIC_JOBS
from tests import factories
from tests.conftest import run_worker


def test_the_job_is_scheduled_daily_at_two_beijing_time():
    spec = {job.id: job for job in PERIODIC_JOBS}["bulletins-monthly"]
    assert (spec.func, spec.every, spec.offset, spec.queue) == ("crm.bulletins.jobs.monthly", 86400, 18 * 3600, "quick")


def _day(app, moment, deliveries=1):
    """The job's run(s) of one night; `deliveries` > 1: the same run delivered again (RQ delivers
    at least once)."""
    from crm.queue import get_queue

    for _n in range(deliveries):
        get_queue("quick").enqueue("crm.bulletins.jobs.monthly")
    run_worker(app, queues="quick", env_extra={"CRM_CLOCK_NOW": moment})
    db.session.rollback()  # end the read transaction: see what the worker committed


def _bulletins():
    return db.session.execute(select(Bulletin.period_start, Bulletin.period_end, Bulletin.issued_on,
                                     Bulletin.made_by_job, Bulletin.title).order_by(Bulletin.id)).all()


def _county(app):
    """Something to report: an overdue problem on a project. Committed, for the worker to see."""
    from crm.problems.models import Problem

    with app.test_request_context():
        unit, department = factories.unit("万全乡"), factories.unit("县自然资源局", kind="department")
        lead = factories.lead(owner=factories.user(unit_=unit), project_name="年产5万吨高端铝型材项目")
        db.session.add(Problem(lead_id=lead.id, category="land", description="用地指标尚未落实",
                               responsible_unit_id=department.id, due_on=date(2025, 9, 20), status="open",
                               raised_on=date(2025, 9, 1)))
        db.session.commit()


def test_the_first_working_day_makes_last_months_bulletin_once(app, committed):
    _county(app)
    _day(app, "2025-10-08T02:00:00+08:00")   # the last day of the National Day holiday
    assert _bulletins() == []
    _day(app, "2025-10-09T02:00:00+08:00", deliveries=2)   # the first working day of October 2025
    _day(app, "2025-10-10T02:00:00+08:00")   # the next night: already made
    assert _bulletins() == [(date(2025, 9, 1), date(2025, 9, 30), date(2025, 10, 9), True,
                             "2025年9月招商引资工作督查通报")]
    bulletin = db.session.scalar(select(Bulletin))
    assert [p["description"] for p in bulletin.content["overdue_problems"]] == ["用地指标尚未落实"]
    assert bulletin.content["overdue_problems"][0]["days_overdue"] == 19   # as of 9 October
    assert db.session.scalar(select(func.count()).select_from(DocumentNumber).where(
        DocumentNumber.kind == "bulletin")) == 1


def test_a_missed_first_day_is_caught_up_later_in_the_month(app, committed):
    _day(app, "2025-11-19T02:00:00+08:00")   # the job did not run on 3 November: now it does
    assert [(start, issued, by_job) for start, _end, issued, by_job, _title in _bulletins()] == [
        (date(2025, 10, 1), date(2025, 11, 19), True)]


def test_a_bulletin_made_on_demand_is_not_made_again_by_the_job(app, committed):
    from crm.bulletins import services
    from crm.dashboard.period import Period

    with app.test_request_context():
        app.config["CLOCK_NOW"] = "2025-10-05T10:00:00+08:00"
        try:
            services.make(Period.month(2025, 9), actor=None)
            db.session.commit()
        finally:
            app.config["CLOCK_NOW"] = None
    _day(app, "2025-10-09T02:00:00+08:00")
    assert [(issued, by_job) for _s, _e, issued, by_job, _t in _bulletins()] == [(date(2025, 10, 5), False)]


def test_a_year_without_a_holiday_schedule_writes_nothing_and_says_so(app, db_session, clock_at, caplog):
    from crm.bulletins.jobs import monthly

    clock_at("2027-01-04T02:00:00+08:00")   # 2027: beyond the package, no admin table yet
    with app.app_context(), caplog.at_level(logging.WARNING):
        assert monthly() == {"made": None, "no_calendar": 2027}
    assert "no holiday schedule for 2027" in caplog.text
    assert db.session.scalar(select(func.count()).select_from(Bulletin)) == 0


def test_with_the_admins_holiday_table_the_job_runs_in_a_new_year(app, db_session, clock_at):
    from crm.bulletins.jobs import monthly
    from crm.screening.models import CalendarDay, CalendarYear

    db.session.add_all([CalendarYear(year=2027), CalendarDay(day=date(2027, 1, 1), is_workday=False, name="元旦")])
    db.session.commit()  # the savepoint's: each app context below ends its session
    clock_at("2027-01-01T02:00:00+08:00")
    with app.app_context():
        assert monthly() == {"made": None, "due": False}
    clock_at("2027-01-04T02:00:00+08:00")
    with app.app_context():
        made = monthly()["made"]
        assert db.session.get(Bulletin, made).title == "2026年12月招商引资工作督查通报"
