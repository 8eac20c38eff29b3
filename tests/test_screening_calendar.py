"""Working-day arithmetic for the three-day pre-screening deadline (crm.screening.calendar).

The explicit expectations rely on the State Council notices (国务院办公厅关于20XX年部分节假日安排的
通知) for 2024, 2025 and 2026, quoted in the comments, and were cross-checked day by day against
chinese_calendar 1.11 before being written down.
"""
from __future__ import annotations

import pickle
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm.screening.calendar import Deadline, UnknownYearError, WorkCalendar, deadline

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc

# No example database: the suite must not leave a .hypothesis directory in the tree.
PROPERTY = settings(max_examples=200, deadline=None, database=None)
DATES = st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 20))


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def d(text: str) -> date:
    return date.fromisoformat(text)


# --- explicit cases against the published schedules -------------------------------------------

# Every row: (submitted on, local date; due on = 3rd working day strictly after it).
SCHEDULE_CASES = [
    # 2024 National Day: holiday Tue Oct 1 - Mon Oct 7; make-up working days Sun Sep 29, Sat Oct 12.
    pytest.param("2024-09-27", "2024-10-08", id="2024-national-day-fri-before"),  # Sep 29, Sep 30, Oct 8
    pytest.param("2024-09-30", "2024-10-10", id="2024-national-day-last-day-before"),  # Oct 8, 9, 10
    pytest.param("2024-10-03", "2024-10-10", id="2024-national-day-on-holiday"),  # Oct 8, 9, 10
    pytest.param("2024-10-09", "2024-10-12", id="2024-national-day-makeup-sat"),  # Oct 10, 11, Sat 12
    # 2024 Spring Festival: holiday Sat Feb 10 - Sat Feb 17; make-up Sun Feb 4 and Sun Feb 18.
    # 除夕 Fri Feb 9 is officially a working day (only "encouraged" as leave).
    pytest.param("2024-02-02", "2024-02-06", id="2024-spring-festival-makeup-sun"),  # Sun 4, 5, 6
    pytest.param("2024-02-08", "2024-02-19", id="2024-spring-festival-across"),  # Fri 9, Sun 18, 19
    # 2025 Spring Festival: holiday Tue Jan 28 - Tue Feb 4; make-up Sun Jan 26 and Sat Feb 8.
    pytest.param("2025-01-24", "2025-02-05", id="2025-spring-festival-across"),  # Sun 26, 27, Feb 5
    pytest.param("2025-02-06", "2025-02-10", id="2025-spring-festival-makeup-sat"),  # 7, Sat 8, 10
    # 2025 National Day + Mid-Autumn: holiday Wed Oct 1 - Wed Oct 8; make-up Sun Sep 28, Sat Oct 11.
    pytest.param("2025-09-26", "2025-09-30", id="2025-national-day-makeup-sun"),  # Sun 28, 29, 30
    pytest.param("2025-09-29", "2025-10-10", id="2025-national-day-across"),  # Sep 30, Oct 9, 10
    pytest.param("2025-10-09", "2025-10-13", id="2025-national-day-makeup-sat"),  # 10, Sat 11, 13
    # 2026 New Year: holiday Thu Jan 1 - Sat Jan 3; make-up Sun Jan 4 (and across the year end).
    pytest.param("2025-12-31", "2026-01-06", id="2026-new-year-across-year-end"),  # Sun 4, 5, 6
    # 2026 Spring Festival: holiday Sun Feb 15 - Mon Feb 23; make-up Sat Feb 14 and Sat Feb 28.
    pytest.param("2026-02-12", "2026-02-24", id="2026-spring-festival-across"),  # 13, Sat 14, 24
    pytest.param("2026-02-26", "2026-03-02", id="2026-spring-festival-makeup-sat"),  # 27, Sat 28, Mar 2
    # 2026 Mid-Autumn: holiday Fri Sep 25 - Sun Sep 27.
    # 2026 National Day: holiday Thu Oct 1 - Wed Oct 7; make-up Sun Sep 20 and Sat Oct 10.
    pytest.param("2026-09-18", "2026-09-22", id="2026-national-day-makeup-sun"),  # Sun 20, 21, 22
    pytest.param("2026-09-23", "2026-09-29", id="2026-mid-autumn"),  # 24, 28, 29
    pytest.param("2026-09-30", "2026-10-10", id="2026-national-day-makeup-sat"),  # Oct 8, 9, Sat 10
]


@pytest.mark.parametrize(("submitted", "due"), SCHEDULE_CASES)
def test_three_working_days_follow_the_state_council_schedule(submitted, due):
    calendar = WorkCalendar()
    assert calendar.add_working_days(d(submitted), 3) == d(due)
    result = deadline(local(*d(submitted).timetuple()[:3], 10, 0), 3, True, calendar, SHANGHAI)
    assert result.due_on == d(due)


@pytest.mark.parametrize(("day", "working"), [
    ("2024-09-29", True),   # Sunday, make-up for National Day 2024
    ("2024-10-07", False),  # Monday, National Day 2024
    ("2024-10-12", True),   # Saturday, make-up for National Day 2024
    ("2024-02-09", True),   # 除夕 2024, officially a working day
    ("2025-02-04", False),  # Tuesday, Spring Festival 2025
    ("2025-02-08", True),   # Saturday, make-up for Spring Festival 2025
    ("2025-10-08", False),  # Wednesday, National Day 2025
    ("2026-01-04", True),   # Sunday, make-up for New Year 2026
    ("2026-02-23", False),  # Monday, Spring Festival 2026
    ("2026-02-28", True),   # Saturday, make-up for Spring Festival 2026
    ("2026-09-25", False),  # Friday, Mid-Autumn 2026
    ("2026-10-10", True),   # Saturday, make-up for National Day 2026
])
def test_is_workday_uses_the_package_schedule(day, working):
    assert WorkCalendar().is_workday(d(day)) is working


def test_start_day_never_counts_whatever_it_is():
    calendar = WorkCalendar()
    # Sat 2024-10-12 is a make-up working day, Mon 2024-10-07 a holiday, Wed 2024-10-09 a workday.
    assert calendar.add_working_days(d("2024-10-12"), 1) == d("2024-10-14")
    assert calendar.add_working_days(d("2024-10-07"), 1) == d("2024-10-08")
    assert calendar.add_working_days(d("2024-10-09"), 1) == d("2024-10-10")


@pytest.mark.parametrize("n", [0, -1, 1.0, True])
def test_add_working_days_wants_a_positive_integer(n):
    with pytest.raises(ValueError):
        WorkCalendar().add_working_days(d("2025-03-03"), n)


def test_datetimes_are_not_dates():
    with pytest.raises(TypeError):
        WorkCalendar().is_workday(datetime(2025, 3, 3, 10, 0))


# --- beyond the package: the admin's holiday table --------------------------------------------

def test_due_date_in_an_unknown_year_raises():
    calendar = WorkCalendar()
    # Wed 2026-12-30: Thu Dec 31 is the 1st working day, the 2nd would be in 2027.
    assert calendar.add_working_days(d("2026-12-30"), 1) == d("2026-12-31")
    with pytest.raises(UnknownYearError) as caught:
        calendar.add_working_days(d("2026-12-30"), 3)
    assert caught.value.year == 2027
    assert str(caught.value) == "No holiday schedule for 2027: enter it in the holiday table"
    with pytest.raises(UnknownYearError) as caught:
        deadline(local(2026, 12, 30, 10, 0), 3, True, calendar, SHANGHAI)
    assert caught.value.year == 2027
    with pytest.raises(UnknownYearError):
        calendar.is_workday(d("2027-01-04"))  # a plain Monday: still no weekends-only fallback


def test_unknown_year_error_survives_pickling():  # e.g. raised inside an RQ job
    error = pickle.loads(pickle.dumps(UnknownYearError(2027)))
    assert error.year == 2027
    assert "2027" in str(error)


def test_knows():
    assert WorkCalendar().knows(2024)
    assert WorkCalendar().knows(2026)
    assert WorkCalendar().knows(2004)
    assert not WorkCalendar().knows(2003)
    assert not WorkCalendar().knows(2027)
    assert WorkCalendar(covered_years={2027}).knows(2027)
    # An override alone does not make a year known.
    assert not WorkCalendar({d("2027-01-01"): False}).knows(2027)


# A made-up table for 2027 (not the real schedule, which the State Council had not published
# when this was written): New Year's Day Fri 2027-01-01 off.
def test_covered_year_with_admin_holiday():
    calendar = WorkCalendar({d("2027-01-01"): False}, covered_years={2027})
    # Wed 2026-12-30: Thu Dec 31 (1), Jan 1 off, weekend, Mon Jan 4 (2), Tue Jan 5 (3).
    assert calendar.add_working_days(d("2026-12-30"), 3) == d("2027-01-05")
    result = deadline(local(2026, 12, 30, 10, 0), 3, True, calendar, SHANGHAI)
    assert result.due_on == d("2027-01-05")


def test_covered_year_without_overrides_is_monday_to_friday():
    calendar = WorkCalendar(covered_years=[2027])
    # Thu Dec 31 (1), Fri Jan 1 (2), Mon Jan 4 (3).
    assert calendar.add_working_days(d("2026-12-30"), 3) == d("2027-01-04")
    assert not calendar.is_workday(d("2027-01-02"))  # Saturday
    assert calendar.is_workday(d("2027-01-04"))       # Monday


def test_override_makes_a_saturday_a_working_day():
    plain = WorkCalendar(covered_years={2027})
    makeup = WorkCalendar({d("2027-01-09"): True}, covered_years={2027})
    # Fri 2027-01-08: plain Mon 11, Tue 12, Wed 13; with Sat Jan 9 worked: Sat 9, Mon 11, Tue 12.
    assert plain.add_working_days(d("2027-01-08"), 3) == d("2027-01-13")
    assert makeup.add_working_days(d("2027-01-08"), 3) == d("2027-01-12")
    assert makeup.is_workday(d("2027-01-09"))


def test_override_without_covered_year_answers_only_its_own_day():
    calendar = WorkCalendar({d("2027-01-01"): False})
    assert calendar.is_workday(d("2027-01-01")) is False
    with pytest.raises(UnknownYearError):
        calendar.add_working_days(d("2026-12-31"), 1)  # Jan 1 off, Jan 2 unknown


def test_override_beats_the_package():
    # A local deviation: Tue 2024-10-08 off, Sat 2024-10-05 (a National Day holiday) worked.
    calendar = WorkCalendar({d("2024-10-08"): False, d("2024-10-05"): True})
    assert not calendar.is_workday(d("2024-10-08"))
    assert calendar.is_workday(d("2024-10-05"))
    # Mon 2024-09-30: Sat Oct 5 (1), Oct 9 (2), Oct 10 (3).
    assert calendar.add_working_days(d("2024-09-30"), 3) == d("2024-10-10")
    # Fri 2024-09-27: Sun Sep 29 (1), Sep 30 (2), Sat Oct 5 (3).
    assert calendar.add_working_days(d("2024-09-27"), 3) == d("2024-10-05")


def test_overrides_are_copied():
    table = {d("2027-01-01"): False}
    calendar = WorkCalendar(table, covered_years={2027})
    table[d("2027-01-01")] = True
    assert calendar.is_workday(d("2027-01-01")) is False


# --- calendar-days mode -----------------------------------------------------------------------

def test_calendar_days_need_no_schedule():
    calendar = WorkCalendar()  # knows nothing about 2030
    result = deadline(local(2030, 3, 1, 10, 0), 3, False, calendar, SHANGHAI)
    assert result.due_on == d("2030-03-04")
    assert result.due_at == datetime(2030, 3, 4, 16, 0, tzinfo=UTC)
    # Across the year end into an unknown year, too.
    assert deadline(local(2026, 12, 30, 10, 0), 3, False, calendar, SHANGHAI).due_on == d("2027-01-02")


def test_calendar_days_ignore_holidays():
    # Mon 2024-09-30 + 3 calendar days = Thu 2024-10-03, a National Day holiday.
    result = deadline(local(2024, 9, 30, 10, 0), 3, False, WorkCalendar(), SHANGHAI)
    assert result.due_on == d("2024-10-03")


# --- times: due_at, remind_at and the local date ----------------------------------------------

def test_due_at_and_remind_at_in_utc():
    result = deadline(local(2024, 9, 27, 10, 0), 3, True, WorkCalendar(), SHANGHAI)
    assert result == Deadline(
        due_on=d("2024-10-08"),
        due_at=datetime(2024, 10, 8, 16, 0, tzinfo=UTC),    # = 2024-10-09 00:00 Shanghai
        remind_at=datetime(2024, 10, 8, 0, 30, tzinfo=UTC),  # = 2024-10-08 08:30 Shanghai
    )
    assert result.due_at.utcoffset() == timedelta(0)
    assert result.remind_at.utcoffset() == timedelta(0)
    assert result.due_at.astimezone(SHANGHAI) == local(2024, 10, 9, 0, 0)


def test_deadline_is_frozen():
    result = deadline(local(2024, 9, 27, 10, 0), 3, True, WorkCalendar(), SHANGHAI)
    with pytest.raises(AttributeError):
        result.due_on = d("2024-10-09")


@pytest.mark.parametrize("working_days", [True, False])
def test_naive_datetimes_are_rejected(working_days):
    with pytest.raises(ValueError):
        deadline(datetime(2024, 9, 27, 10, 0), 3, working_days, WorkCalendar(), SHANGHAI)


def test_the_same_instant_in_any_offset_gives_the_same_deadline():
    at_utc = datetime(2024, 9, 27, 2, 0, tzinfo=UTC)  # 10:00 Shanghai
    assert (deadline(at_utc, 3, True, WorkCalendar(), SHANGHAI)
            == deadline(local(2024, 9, 27, 10, 0), 3, True, WorkCalendar(), SHANGHAI))


def test_local_date_counts_not_utc_date_around_a_makeup_saturday():
    calendar = WorkCalendar()
    # Both instants are on Fri 2025-10-10 in UTC.
    friday_late = datetime(2025, 10, 10, 15, 30, tzinfo=UTC)      # Fri 23:30 Shanghai
    saturday_early = datetime(2025, 10, 10, 16, 30, tzinfo=UTC)   # Sat 2025-10-11 00:30 Shanghai
    # Sat 2025-10-11 is a make-up working day (National Day 2025): it counts after a Friday
    # submission, but not when it is the submission day itself.
    assert deadline(friday_late, 3, True, calendar, SHANGHAI).due_on == d("2025-10-14")  # 11, 13, 14
    assert deadline(saturday_early, 3, True, calendar, SHANGHAI).due_on == d("2025-10-15")  # 13, 14, 15


def test_local_date_counts_not_utc_date_around_a_plain_weekend():
    calendar = WorkCalendar()
    friday_late = datetime(2025, 3, 14, 15, 30, tzinfo=UTC)      # Fri 2025-03-14 23:30 Shanghai
    saturday_early = datetime(2025, 3, 14, 16, 30, tzinfo=UTC)   # Sat 2025-03-15 00:30 Shanghai
    assert deadline(friday_late, 3, False, calendar, SHANGHAI).due_on == d("2025-03-17")
    assert deadline(saturday_early, 3, False, calendar, SHANGHAI).due_on == d("2025-03-18")
    # Working days: the weekend does not count either way (Mon 17, Tue 18, Wed 19).
    assert deadline(friday_late, 3, True, calendar, SHANGHAI).due_on == d("2025-03-19")
    assert deadline(saturday_early, 3, True, calendar, SHANGHAI).due_on == d("2025-03-19")


# --- properties against chinese_calendar ------------------------------------------------------

@PROPERTY
@given(start=DATES, n=st.integers(min_value=1, max_value=5))
def test_result_is_the_nth_package_workday_after_start(start, n):
    result = WorkCalendar().add_working_days(start, n)
    assert result > start
    assert chinese_calendar.is_workday(result)
    # get_workdays includes both ends and, by default, make-up weekend days.
    assert len(chinese_calendar.get_workdays(start + timedelta(days=1), result)) == n


@PROPERTY
@given(first=DATES, second=DATES, n=st.integers(min_value=1, max_value=5))
def test_monotonic_in_the_start_date(first, second, n):
    calendar = WorkCalendar()
    early, late = sorted((first, second))
    assert calendar.add_working_days(early, n) <= calendar.add_working_days(late, n)


@PROPERTY
@given(start=DATES, n=st.integers(min_value=1, max_value=4))
def test_one_more_working_day_is_the_next_working_day(start, n):
    calendar = WorkCalendar()
    assert (calendar.add_working_days(start, n + 1)
            == calendar.add_working_days(calendar.add_working_days(start, n), 1))


@PROPERTY
@given(submitted=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 15),
                              timezones=st.just(UTC)))
def test_deadline_times_are_the_local_day_bounds(submitted):
    result = deadline(submitted, 3, True, WorkCalendar(), SHANGHAI)
    assert result.due_on == WorkCalendar().add_working_days(submitted.astimezone(SHANGHAI).date(), 3)
    next_day = result.due_on + timedelta(days=1)
    assert result.due_at.astimezone(SHANGHAI) == local(next_day.year, next_day.month, next_day.day)
    assert result.remind_at.astimezone(SHANGHAI) == local(*result.due_on.timetuple()[:3], 8, 30)
    assert result.due_at.tzinfo == UTC and result.remind_at.tzinfo == UTC
    assert result.due_at > submitted
