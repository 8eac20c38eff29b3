"""The one comparable key of a company name, and the one rule for "the same company", used by
the lead form, the API, the import and the chain targets alike."""
from __future__ import annotations

import re
import unicodedata
from functools import cache

from rapidfuzz import fuzz

KEY_LENGTH = 200  # Lead.company_key, Target.company_key

FUZZY_CUTOFF = 90  # rapidfuzz ratio of keys above which two companies are "the same"
# Fuzzy comparison only among keys sharing their first characters (the place and the start of
# the brand, e.g. 厦门金达…): comparing every name with every other would be quadratic.
BLOCK = 4
_DIGITS = re.compile(r"[0-9一二三四五六七八九十]+")

_COMPANY_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "股份公司", "集团", "公司")
_COMPANY_NOISE = re.compile(r"[\s()（）·,，.。\-]|中国")
# Format characters (zero-width space/joiner, word joiner, soft hyphen, BOM, direction marks),
# combining marks (accents, variation selectors are Mn too) carry nothing a person reads as
# part of the name.
_INVISIBLE = frozenset(("Cf", "Mn", "Me"))
# Text made only of printable ASCII and CJK ideographs and punctuation has none of those (no
# character in these ranges is Cf, Mn or Me): the character-by-character look-up is skipped.
_NONE_INVISIBLE = re.compile("[\x20-\x7e\u3000-\u3029\u3400-\u4dbf\u4e00-\u9fff]*")


@cache
def _to_simplified():
    import opencc

    return opencc.OpenCC("t2s")


def normalize_company_name(name: str | None) -> str:
    """Comparable form of a company name: compatibility forms folded (NFKC: full-width letters,
    ideographic spaces), invisible and combining characters dropped, traditional characters made
    simplified (OpenCC), lower case, spaces, punctuation, (中国) and legal forms gone."""
    text = unicodedata.normalize("NFKD", name or "")
    if _NONE_INVISIBLE.fullmatch(text) is None:
        text = "".join(c for c in text if unicodedata.category(c) not in _INVISIBLE)
    text = unicodedata.normalize("NFKC", text)
    if text:
        text = _to_simplified().convert(text)
    text = _COMPANY_NOISE.sub("", text.lower())
    changed = True
    while changed:
        changed = False
        for suffix in _COMPANY_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
                changed = True
    return text[:KEY_LENGTH]


def close_enough(key: str, other: str) -> bool:
    """The import's fuzzy rule: near-identical keys are one company, unless they differ in a
    number (一厂/二厂, 1号/2号: different firms)."""
    if not key or not other:
        return False
    if key == other:
        return True
    return (len(key) > BLOCK and key[:BLOCK] == other[:BLOCK]
            and fuzz.ratio(key, other) >= FUZZY_CUTOFF and _DIGITS.findall(other) == _DIGITS.findall(key))
