"""Phone numbers as offices write them, checked and normalised the same way behind every door
(the lead page, the API, the import).

Accepted: spaces, dashes, dots and brackets anywhere; a +86 / 0086 / (86) country prefix; an
extension after 转, ext or #. Kept as:
- a mobile number: 11 digits starting with 1 (then 3–9): 13812345678;
- a landline with its area code: 0598-1234567 (010 and 02x have three digits, the others four;
  the number itself 7 or 8 digits), with 转123 for an extension.
Anything else raises PhoneError with a message saying what a number looks like.
"""
from __future__ import annotations

import re
import unicodedata

from flask_babel import gettext as _

_SEPARATORS = re.compile(r"[\s\-–—.()（）/]+")
_EXTENSION = re.compile(r"(?:转|分机|ext\.?|x|#)\s*(\d{1,6})$", re.IGNORECASE)
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_THREE_DIGIT_AREAS = ("010", "020", "021", "022", "023", "024", "025", "027", "028", "029")


class PhoneError(ValueError):
    pass


def _problem(raw: str) -> PhoneError:
    return PhoneError(_("“%(v)s” is not a phone number: write an 11-digit mobile number starting with 1 "
                        "(e.g. 138 1234 5678) or a landline with its area code (e.g. 0598-1234567).",
                        v=raw[:40]))


def normalize_phone(value) -> str | None:
    """The number in its kept form, None for an empty value; PhoneError otherwise."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise _problem(str(value))
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a sheet's number cell: 13812345678.0
    raw = unicodedata.normalize("NFKC", str(value)).strip()
    if not raw:
        return None
    text = raw
    extension = None
    found = _EXTENSION.search(text)
    if found:
        extension = found.group(1)
        text = text[:found.start()]
    international = False
    compact = _SEPARATORS.sub("", text)
    for prefix in ("+86", "0086"):
        if compact.startswith(prefix):
            compact, international = compact[len(prefix):], True
            break
    else:
        if re.match(r"^\(?\+?86[\s\-)]", text) or (compact.startswith("86") and len(compact) == 13
                                                    and _MOBILE.match(compact[2:])):
            compact, international = compact[2:], True
    if not compact.isdigit() or not compact.isascii():
        raise _problem(raw)
    if _MOBILE.match(compact):
        if extension:
            raise _problem(raw)
        return compact
    if international and not compact.startswith("0"):
        compact = "0" + compact  # +86 598 1234567: the area code's trunk 0 is left out abroad
    if not compact.startswith("0") or compact.startswith("00"):
        raise _problem(raw)
    area_length = 3 if compact.startswith(_THREE_DIGIT_AREAS) else 4
    area, number = compact[:area_length], compact[area_length:]
    if len(number) not in (7, 8) or number[0] == "0":
        raise _problem(raw)
    return f"{area}-{number}" + (f"转{extension}" if extension else "")


def mask(value: str | None) -> str | None:
    """What a reader who may not see personal data sees: 138****5678, 0598****567, z***@qq.com."""
    if value is None or value == "":
        return value
    value = str(value)
    if "@" in value:
        local, _at, domain = value.partition("@")
        return (local[:1] or "") + "***@" + domain
    digits = re.sub(r"\D", "", value)
    if re.fullmatch(r"[\d\-+ 转]+", value) and len(digits) >= 7:
        if len(digits) == 11 and digits[0] == "1":  # a mobile number
            return digits[:3] + "****" + digits[-4:]
        return digits[:4] + "****" + digits[-3:]
    if len(value) <= 2:
        return "**"
    return value[0] + "***" + value[-1]
