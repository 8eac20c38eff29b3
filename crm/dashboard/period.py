"""The period a figure covers: a year, a quarter, a month or two dates (inclusive), read from the
query string with a message in the user's language for every way it can be wrong."""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _

from crm import clock

KINDS = ("year", "quarter", "month", "range")
EARLIEST = date(1990, 1, 1)


def format_day(day: date) -> str:
    return _("%(year)s-%(month)s-%(day)s", year=day.year, month=day.month, day=day.day)


class PeriodError(ValueError):
    """The period asked for cannot be counted; str() is the message for the user."""


def _shift_year(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date  # inclusive

    # --- constructors ----------------------------------------------------------------------
    @classmethod
    def year(cls, year: int) -> "Period":
        return cls("year", date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> "Period":
        first = 3 * (quarter - 1) + 1
        return cls("quarter", date(year, first, 1),
                   date(year, first + 2, calendar.monthrange(year, first + 2)[1]))

    @classmethod
    def month(cls, year: int, month: int) -> "Period":
        return cls("month", date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))

    @classmethod
    def dates(cls, start: date, end: date) -> "Period":
        return cls("range", start, end)

    @classmethod
    def this_year(cls) -> "Period":
        return cls.year(clock.today().year)

    @classmethod
    def last_month(cls) -> "Period":
        first = clock.today().replace(day=1) - timedelta(days=1)
        return cls.month(first.year, first.month)

    # --- derived ---------------------------------------------------------------------------
    @property
    def quarter_number(self) -> int:
        return (self.start.month - 1) // 3 + 1

    @property
    def label(self) -> str:
        if self.kind == "year":
            return _("Year %(year)s", year=self.start.year)
        if self.kind == "quarter":
            return _("Q%(quarter)s %(year)s", quarter=self.quarter_number, year=self.start.year)
        if self.kind == "month":
            return _("%(year)s-%(month)s", year=self.start.year, month=self.start.month)
        return _("%(start)s to %(end)s", start=format_day(self.start), end=format_day(self.end))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def until(self, today: date | None = None) -> date:
        """The last day counted so far: the period's end, or today while it is running."""
        return min(self.end, today or clock.today())

    def previous(self) -> "Period":
        """The period just before, of the same kind (for places up or down in the ranking)."""
        if self.kind == "year":
            return Period.year(self.start.year - 1)
        if self.kind == "quarter":
            q, y = self.quarter_number - 1, self.start.year
            return Period.quarter(y - 1, 4) if q == 0 else Period.quarter(y, q)
        if self.kind == "month":
            last = self.start - timedelta(days=1)
            return Period.month(last.year, last.month)
        return Period.dates(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def year_earlier(self) -> "Period":
        return Period(self.kind, _shift_year(self.start, -1), _shift_year(self.end, -1))

    def args(self) -> dict:
        """The period as query arguments (links to the records behind a figure, exports)."""
        out = {"period": self.kind, "year": self.start.year}
        if self.kind == "quarter":
            out["quarter"] = self.quarter_number
        elif self.kind == "month":
            out["month"] = self.start.month
        elif self.kind == "range":
            out = {"period": "range", "start": self.start.isoformat(), "end": self.end.isoformat()}
        return out

    def range_args(self, prefix: str = "reached_") -> dict:
        """The period as the from/to arguments of the lists behind a figure."""
        return {f"{prefix}from": self.start.isoformat(), f"{prefix}to": self.end.isoformat()}


@dataclass
class PeriodChoice:
    """The period read from request args, or the errors that keep it from being counted."""
    period: Period
    errors: list[str] = field(default_factory=list)


def _int_arg(args, name: str, low: int, high: int, label: str) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise PeriodError(_("%(what)s must be a whole number.", what=label)) from None
    if not low <= value <= high:
        raise PeriodError(_("%(what)s must be between %(low)s and %(high)s.", what=label, low=low, high=high))
    return value


def _date_arg(args, name: str, label: str) -> date | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise PeriodError(_("%(what)s is not a date (use YYYY-MM-DD).", what=label)) from None


def parse(args, default: Period | None = None, allow_future: bool = False) -> Period:
    """The period of `?period=year|quarter|month|range&year=&quarter=&month=&start=&end=`.
    Raises PeriodError with the user's message: an end before its start, a period not begun yet,
    a year out of range, a month 13."""
    today = clock.today()
    kind = (args.get("period") or "").strip()
    if not kind:
        if not any(args.get(k) for k in ("year", "quarter", "month", "start", "end")):
            return default or Period.this_year()
        kind = "range" if (args.get("start") or args.get("end")) else (
            "month" if args.get("month") else "quarter" if args.get("quarter") else "year")
    if kind not in KINDS:
        raise PeriodError(_("Choose a year, a quarter, a month or two dates."))
    if kind == "range":
        start = _date_arg(args, "start", _("The start date"))
        end = _date_arg(args, "end", _("The end date"))
        if start is None or end is None:
            raise PeriodError(_("Give both the start and the end date."))
        if end < start:
            raise PeriodError(_("The end date %(end)s is before the start date %(start)s.",
                                end=end.isoformat(), start=start.isoformat()))
        if start < EARLIEST:
            raise PeriodError(_("Figures start in %(year)s.", year=EARLIEST.year))
        period = Period.dates(start, end)
    else:
        year = _int_arg(args, "year", EARLIEST.year, today.year + 50, _("The year")) or today.year
        if kind == "year":
            period = Period.year(year)
        elif kind == "quarter":
            quarter = _int_arg(args, "quarter", 1, 4, _("The quarter")) or (today.month - 1) // 3 + 1
            period = Period.quarter(year, quarter)
        else:
            month = _int_arg(args, "month", 1, 12, _("The month")) or today.month
            period = Period.month(year, month)
    if not allow_future and period.start > today:
        raise PeriodError(_("The period %(period)s has not begun yet: nothing can be counted in it.",
                            period=period.label))
    return period
