"""Reading one cell of the interchange file. Anything that cannot be read is an error, never a
guess: each parser returns the value or raises CellError with a message for the user."""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _

from crm.leads.models import SOURCE_KIND_CHINESE, SourceKind
from crm.leads.pipeline import STAGE_CHINESE, Stage
from crm.validation import OutOfRange, check_amount, check_date, check_text


class CellError(ValueError):
    pass


def _text(value) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip()


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


_UNITS = {"亿": Decimal(10000), "亿元": Decimal(10000), "万": Decimal(1), "万元": Decimal(1),
          "元": Decimal("0.0001"), "": Decimal(1)}
_AMOUNT = re.compile(r"^(约|大约|近|超)?\s*([0-9][0-9,]*(?:\.[0-9]+)?|[零〇一二两三四五六七八九十百千万亿点壹贰叁肆伍陆柒捌玖拾佰仟]+?)\s*(亿元|亿|万元|万|元)?$")


def parse_amount(value) -> tuple[Decimal, bool]:
    """An amount in 万元 and whether it was approximate (约…). 1.2亿 → 12000; 3000万元 → 3000."""
    if isinstance(value, bool):
        raise CellError(_("Not an amount."))
    if isinstance(value, (int, float, Decimal)):
        amount, approx = Decimal(str(value)), False
    else:
        match = _AMOUNT.match(_text(value).replace(" ", ""))
        if not match:
            raise CellError(_("“%(v)s” is not an amount: write e.g. 5000, 3000万元 or 1.2亿.", v=_text(value)))
        approx = bool(match.group(1))
        number, unit = match.group(2), match.group(3) or ""
        if re.match(r"^[0-9]", number):
            try:
                base = Decimal(number.replace(",", ""))
            except InvalidOperation:
                raise CellError(_("“%(v)s” is not an amount: write e.g. 5000, 3000万元 or 1.2亿.", v=_text(value)))
        else:
            base = _chinese_number(number, _text(value))
        amount = base * _UNITS[unit]
    if amount.is_finite() and amount < 0:
        raise CellError(_("An amount cannot be negative."))
    return _in_range(amount), approx


def _in_range(amount, positive: bool = False) -> Decimal:
    """The ranges the form and the API keep (crm.validation): finite, fits its column."""
    try:
        return check_amount(amount, positive=positive)
    except OutOfRange as exc:
        raise CellError(str(exc))


def _chinese_number(text: str, original: str) -> Decimal:
    """五千 → 5000 (with the unit after it: 五千万 → 5000 万元); cn2an reads only well-formed numerals."""
    import cn2an

    try:
        return Decimal(str(cn2an.cn2an(text, "strict")))
    except (ValueError, KeyError):
        raise CellError(_("“%(v)s” is not an amount: write e.g. 5000, 3000万元 or 1.2亿.", v=original))


def parse_area(value) -> Decimal:
    if isinstance(value, str):
        value = _text(value).removesuffix("亩").strip()
    try:
        area = Decimal(str(value).replace(",", "")) if not isinstance(value, bool) else None
    except InvalidOperation:
        area = None
    if area is None:
        raise CellError(_("“%(v)s” is not a land area in mu.", v=_text(value)))
    return _in_range(area, positive=True)


def parse_int(value) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = re.sub(r"(人|项|个|件)$", "", _text(value).replace(",", ""))
        if not re.fullmatch(r"[0-9]+", text):
            raise CellError(_("“%(v)s” is not a whole number.", v=_text(value)))
        number = int(text)
    if number < 0:
        raise CellError(_("Must be a whole number of at least 0."))
    return number


def parse_percent(value) -> Decimal:
    text = _text(value).removesuffix("%") if not isinstance(value, (int, float)) else str(value)
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise CellError(_("“%(v)s” is not a percentage.", v=_text(value)))
    if not 0 <= number <= 100:
        raise CellError(_("Must be between 0 and 100."))
    return number.quantize(Decimal("0.01"))


_TRUE = {"是", "yes", "y", "true", "1", "√", "✓", "有"}
_FALSE = {"否", "no", "n", "false", "0", "×", "✗", "无"}


def parse_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = _text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError(_("“%(v)s” is not yes or no: write 是/否.", v=_text(value)))


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def parse_date(value) -> date:
    """A date from 1990 to 20 years ahead (crm.validation); whether it may lie in the future is
    the row's rule (crm.interchange.rows)."""
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        match = _DATE.match(_text(value))
        try:
            parsed = date(int(match.group(1)), int(match.group(2)), int(match.group(3))) if match else None
        except ValueError:
            parsed = None
        if parsed is None:
            raise CellError(_("“%(v)s” is not a date: write e.g. 2024-03-05.", v=_text(value)))
        value = parsed
    try:
        return check_date(value, planned=True)
    except OutOfRange as exc:
        raise CellError(str(exc))


_STAGES = {s.value: s for s in Stage} | {name: s for s, name in STAGE_CHINESE.items()}


def parse_stage(value) -> str:
    stage = _STAGES.get(_text(value)) or _STAGES.get(_text(value).lower())
    if stage is None:
        raise CellError(_("“%(v)s” is not a pipeline stage.", v=_text(value)))
    return stage.value


_SOURCE_KINDS = ({k.value: k for k in SourceKind} | {name: k for k, name in SOURCE_KIND_CHINESE.items()}
                 | {"云签约": SourceKind.ONLINE, "专场座谈会": SourceKind.EVENT, "座谈会": SourceKind.EVENT,
                    "中介": SourceKind.INTERMEDIARY, "中介机构": SourceKind.INTERMEDIARY,
                    "顾问": SourceKind.ADVISOR})


def parse_source_kind(value) -> str:
    kind = _SOURCE_KINDS.get(_text(value)) or _SOURCE_KINDS.get(_text(value).lower())
    if kind is None:
        raise CellError(_("“%(v)s” is not a source kind (乡贤, 商会, 招商顾问, 第三方中介机构, 客商, 云洽谈, 推介会).", v=_text(value)))
    return kind.value


def parse_uscc(value) -> str:
    from wtforms.validators import ValidationError

    from crm.leads.forms import validate_uscc

    try:
        return validate_uscc(_text(value))
    except ValidationError as exc:
        raise CellError(str(exc))


def parse_text(value, limit: int = 200, one_line: bool = False) -> str:
    text = _text(value) if not isinstance(value, str) else value.strip()
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        text = text[1:]  # our exports write formula-like text as '=…; read it back as it was
    try:
        return check_text(text, limit, one_line)
    except OutOfRange as exc:
        raise CellError(str(exc))
