"""Values in range, checked the same way behind every door (pages, API, import): amounts that are
finite and fit their column, dates within a sane window, text without NUL bytes (company names
on one line), e-mail addresses. Each check returns the clean value or raises OutOfRange with a
message for the user; the WTForms validators below wrap the same checks."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import Numeric
from wtforms.validators import StopValidation, ValidationError

from crm import clock

HISTORY_START = date(1990, 1, 1)   # no office keeps records of projects before this
PLANNED_YEARS = 20                 # how far ahead a planned date may lie


class OutOfRange(ValueError):
    pass


def column_limit(column_type: Numeric) -> Decimal:
    """The largest value a Numeric(p, s) column holds: Numeric(14, 2) → 999999999999.99."""
    scale = column_type.scale or 0
    return Decimal(10) ** (column_type.precision - scale) - Decimal(1).scaleb(-scale)


AMOUNT_LIMIT = column_limit(Numeric(14, 2))  # every amount column (万元, 亩) is Numeric(14, 2)


def check_amount(value, limit: Decimal = AMOUNT_LIMIT, places: int = 2,
                 positive: bool = False, negative_message=None) -> Decimal | None:
    """A finite number ≥ 0 (> 0 if `positive`) that its column holds, rounded to its places."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise OutOfRange(_("Enter the amount as a number."))
    try:
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise OutOfRange(_("Enter the amount as a number."))
    if not number.is_finite():
        raise OutOfRange(_("Enter a finite amount (not Infinity or NaN)."))
    if number < 0:
        raise OutOfRange(str(negative_message or _("Must be a number of at least 0.")))
    if number > limit:
        raise OutOfRange(_("Must be at most %(limit)s.", limit=f"{limit:,}"))
    number = number.quantize(Decimal(1).scaleb(-places))
    if positive and number <= 0:
        raise OutOfRange(_("The land area must be greater than 0 (leave it empty if unknown)."))
    if number > limit:  # rounding up past the limit (999999999999.999)
        raise OutOfRange(_("Must be at most %(limit)s.", limit=f"{limit:,}"))
    return number


def latest_planned_date() -> date:
    today = clock.today()
    try:
        return today.replace(year=today.year + PLANNED_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year + PLANNED_YEARS, day=28)


def check_date(value: date | None, planned: bool = False) -> date | None:
    """A recorded date lies from 1990 to today; a planned one from 1990 to 20 years ahead."""
    if value is None:
        return None
    if value < HISTORY_START:
        raise OutOfRange(_("The date cannot be before %(day)s.", day=HISTORY_START.isoformat()))
    if planned and value > latest_planned_date():
        raise OutOfRange(_("The date cannot be more than %(n)s years ahead.", n=PLANNED_YEARS))
    if not planned and value > clock.today():
        raise OutOfRange(_("The date cannot be in the future."))
    return value


_LINE_BREAK = re.compile("[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]")  # what str.splitlines() splits at


def check_text(value: str | None, limit: int | None = None, one_line: bool = False) -> str | None:
    """No NUL bytes (PostgreSQL refuses them); no line breaks where `one_line`; at most `limit`."""
    if value is None:
        return None
    if "\x00" in value:
        raise OutOfRange(_("The text contains a NUL character: remove it."))
    if one_line and _LINE_BREAK.search(value):
        raise OutOfRange(_("Write this on one line, without line breaks."))
    if limit is not None and len(value) > limit:
        raise OutOfRange(_("Longer than %(n)s characters.", n=limit))
    return value


def check_email(value: str | None) -> str | None:
    """A deliverable-looking address (syntax only: no DNS look-up), normalised; no CR/LF ever."""
    from email_validator import EmailNotValidError, validate_email

    if value is None or not value.strip():
        return None
    value = value.strip()
    if any(c in value for c in "\r\n\x00"):
        raise OutOfRange(_("An e-mail address is one line."))
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        raise OutOfRange(_("“%(v)s” is not an e-mail address.", v=value[:100]))


# --- WTForms validators -------------------------------------------------------------------------
class AmountInRange:
    """For a DecimalField: stops at the first failure, so no later validator compares NaN."""

    def __init__(self, limit: Decimal = AMOUNT_LIMIT, places: int = 2, positive: bool = False,
                 negative_message=None):
        self.limit, self.places, self.positive = limit, places, positive
        self.negative_message = negative_message

    def __call__(self, form, field):
        if field.data is None:
            return
        try:
            field.data = check_amount(field.data, self.limit, self.places, self.positive, self.negative_message)
        except OutOfRange as exc:
            raise StopValidation(str(exc))


class DateInRange:
    def __init__(self, planned: bool = False):
        self.planned = planned

    def __call__(self, form, field):
        try:
            check_date(field.data, self.planned)
        except OutOfRange as exc:
            raise ValidationError(str(exc))


class CleanText:
    """No NUL bytes; with `one_line`, no line breaks either."""

    def __init__(self, one_line: bool = False):
        self.one_line = one_line

    def __call__(self, form, field):
        if isinstance(field.data, str):
            try:
                check_text(field.data, one_line=self.one_line)
            except OutOfRange as exc:
                raise StopValidation(str(exc))


class EmailAddress:
    def __call__(self, form, field):
        try:
            field.data = check_email(field.data)
        except OutOfRange as exc:
            raise ValidationError(str(exc))


# --- every request ------------------------------------------------------------------------------
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)


def register(app) -> None:
    """NUL bytes are refused in every form field, query value and JSON body before any view runs:
    PostgreSQL cannot store them and no office writes them."""
    from flask import request
    from werkzeug.exceptions import BadRequest

    @app.before_request
    def _refuse_nul():
        found = any("\x00" in v for _k, v in request.args.items(multi=True))
        if not found and request.method in ("POST", "PUT", "PATCH"):
            if request.is_json:
                found = bool(_JSON_NUL.search(request.get_data(cache=True)) or b"\x00" in request.get_data())
            elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                found = any("\x00" in v for _k, v in request.form.items(multi=True))
        if found:
            error = BadRequest()
            error.crm_message = _("The text contains a NUL character: remove it.")
            raise error
