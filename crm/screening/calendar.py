"""Working-day arithmetic for the three-day pre-screening deadline (即时初审).

Rules, in the order they are applied to one day:

1. The admin's holiday table (``overrides``) wins: a date marked True is a working day (e.g. a
   make-up Saturday, 调休上班), a date marked False is a holiday.
2. Otherwise the ``chinese_calendar`` package decides, for the years it ships data for.
3. Otherwise, for a year the admin has declared complete (``covered_years``), Monday-Friday are
   working days and weekends are not; the holidays and make-up days are in the overrides.
4. Otherwise the year is unknown and ``UnknownYearError`` is raised. There is deliberately no
   silent weekends-only fallback: a deadline computed that way would be wrong around every
   holiday, and nobody would notice.

Why a table at all: the State Council (国务院办公厅) publishes next year's holiday schedule
around November, and the package follows only with a later release. The admin's table covers
the gap (and any local deviation) so that deadlines running into January can still be computed.

The deadline is the whole ``due_on`` day in local (county) time: ``due_at`` is local midnight at
the start of the following day, and ``remind_at`` is 08:30 local on ``due_on`` ("one working day
left"). Both are returned in UTC. The submission's *local* date is what counts, and that day
itself never counts towards the period, whatever it is.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

__all__ = ["Deadline", "UnknownYearError", "WorkCalendar", "deadline"]

REMIND_AT_LOCAL = time(8, 30)
_ONE_DAY = timedelta(days=1)


class UnknownYearError(Exception):
    """No holiday schedule is known for ``year``: neither the package nor the admin's table."""

    def __init__(self, year: int):
        super().__init__(year)
        self.year = year

    def __str__(self) -> str:
        return f"No holiday schedule for {self.year}: enter it in the holiday table"


@lru_cache(maxsize=16384)
def _package_is_workday(d: date) -> bool | None:
    """The package's answer for ``d``, or None when it has no data for that year."""
    try:
        return bool(chinese_calendar.is_workday(d))
    except NotImplementedError:
        return None


@lru_cache(maxsize=None)
def _package_knows(year: int) -> bool:
    return _package_is_workday(date(year, 6, 1)) is not None


class WorkCalendar:
    """Which days are working days: admin overrides, then the package, then covered years."""

    def __init__(self, overrides: Mapping[date, bool] | None = None,
                 covered_years: Iterable[int] = ()):
        table: dict[date, bool] = {}
        for day, working in (overrides or {}).items():
            table[_as_date(day)] = bool(working)
        self._overrides = table
        self._covered_years = frozenset(int(year) for year in covered_years)

    @property
    def overrides(self) -> Mapping[date, bool]:
        return dict(self._overrides)

    @property
    def covered_years(self) -> frozenset[int]:
        return self._covered_years

    def knows(self, year: int) -> bool:
        """True when every day of ``year`` can be answered without raising."""
        return year in self._covered_years or _package_knows(year)

    def is_workday(self, d: date) -> bool:
        d = _as_date(d)
        override = self._overrides.get(d)
        if override is not None:
            return override
        package = _package_is_workday(d)
        if package is not None:
            return package
        if d.year in self._covered_years:
            return d.weekday() < 5
        raise UnknownYearError(d.year)

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day strictly after ``start`` (``start`` itself never counts)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive integer, not {n!r}")
        day = _as_date(start)
        remaining = n
        while remaining:
            day += _ONE_DAY
            if self.is_workday(day):
                remaining -= 1
        return day

    def __repr__(self) -> str:
        years = sorted(self._covered_years)
        return f"WorkCalendar({len(self._overrides)} overrides, covered_years={years})"


@dataclass(frozen=True)
class Deadline:
    due_on: date        # local date of the last day to answer
    due_at: datetime    # UTC: the end of due_on in local time (local midnight after it)
    remind_at: datetime  # UTC: 08:30 local on due_on


def deadline(submitted_at: datetime, days: int, working_days: bool, calendar: WorkCalendar,
             tz: ZoneInfo) -> Deadline:
    """When the answer to a submission made at ``submitted_at`` is due.

    ``days`` working days (``working_days=True``) or calendar days after the local submission
    date. Calendar-days mode never consults the calendar, so it never raises UnknownYearError.
    """
    if not isinstance(submitted_at, datetime):
        raise TypeError(f"submitted_at must be a datetime, not {type(submitted_at).__name__}")
    if submitted_at.tzinfo is None or submitted_at.utcoffset() is None:
        raise ValueError("submitted_at must be timezone-aware")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"days must be a positive integer, not {days!r}")
    local_date = submitted_at.astimezone(tz).date()
    if working_days:
        due_on = calendar.add_working_days(local_date, days)
    else:
        due_on = local_date + timedelta(days=days)
    due_at = datetime.combine(due_on + _ONE_DAY, time(0), tzinfo=tz).astimezone(timezone.utc)
    remind_at = datetime.combine(due_on, REMIND_AT_LOCAL, tzinfo=tz).astimezone(timezone.utc)
    return Deadline(due_on=due_on, due_at=due_at, remind_at=remind_at)


def _as_date(value: date) -> date:
    # A datetime is a date too, but it never equals one (so it would miss every override) and
    # its calendar day depends on a time zone: make the caller decide.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"expected a date, not {type(value).__name__}")
    return value
