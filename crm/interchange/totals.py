"""Totals and subtotal rows of an office's sheet (合计, 小计, 总计, 累计, or a row of sums): skipped
by the import and listed as such, never imported as a company called 合计 nor counted as errors.

A row is a totals row when
- its company name, or its first cell, says so: 合计, 小计, 总计, 累计 (spaces inside allowed, "合 计";
  with a prefix such as 本页/全县 or a unit in brackets, "合计（万元）"); or
- it has no company name and every value it holds is a sum: a SUM/SUBTOTAL formula (seen in the
  .xlsx's XML, crm.interchange.readers), or a number equal to the sum of the rows above it in that
  column (since the previous totals row, or since the first row: a 总计 under 小计 rows).
A row without a company name that is not a totals row stays a row error, as before.
"""
from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal

SUMS_ONLY = "=SUM"  # the label of a totals row that names none: it holds sums only

_LABEL = re.compile(r"^[(（\[【]?(?:本页|本表|本月|本季|本年|全年|全县|全部|各项|总)?(?:合计|小计|总计|累计|总合计)"
                    r"(?:数|金额)?[)）\]】]?(?:[(（][^)）]{0,12}[)）])?[:：]?$")


def label_of(value) -> str | None:
    """The totals label a cell holds (合计, 小 计, 本页合计 …), as written; None if it holds none."""
    if not isinstance(value, str):
        return None
    folded = "".join(unicodedata.normalize("NFKC", value).split())
    return value.strip() if folded and _LABEL.match(folded) else None


# What float() can start with once commas are gone: a decimal digit (any script's: float reads
# them), a sign, a point, or inf/nan. Other text is no number, and is told so without the
# exception float() would raise (most cells of a sheet are names and words).
_FLOAT_START = frozenset("+-.,iInN")
MEMO_LIMIT = 10000  # texts whose number (or None) add() keeps


def _number(value) -> float | None:
    if type(value) is str:
        text = value.lstrip()
        if not text or not (text[0] in _FLOAT_START or text[0].isdecimal()):
            return None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float, Decimal)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().replace(",", ""))
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 0.005 + 1e-9 * abs(b)


class TotalsDetector:
    """Walks along the file: told each data row (add) and asked about each row (check)."""

    def __init__(self, company_position: int | None, sum_cells: dict[int, frozenset[int]] | None = None):
        self.company = company_position
        self.sum_cells = sum_cells or {}
        self.since_last: dict[int, float] = {}
        self.since_start: dict[int, float] = {}
        self._numbers: dict[str, float | None] = {}

    def check(self, number: int, cells: list) -> str | None:
        """The row's label (合计 …, or "=SUM" for a row of sums only) if it is a totals row."""
        company = cells[self.company] if self.company is not None and self.company < len(cells) else None
        for value in (company, cells[0] if cells else None):
            label = label_of(value)
            if label:
                self._reset()
                return label
        if not _blank(company):
            return None
        sums = self.sum_cells.get(number, frozenset())
        filled = {pos for pos, value in enumerate(cells) if not _blank(value)} | set(sums)
        if not filled:
            return None
        for pos in filled:
            if pos in sums:
                continue
            number_ = _number(cells[pos])
            if number_ is None or not any(_same(number_, total.get(pos, math.nan))
                                          for total in (self.since_last, self.since_start)):
                return None
        self._reset()
        return SUMS_ONLY

    def add(self, cells: list) -> None:
        """A data row: its numbers count towards the sums a later totals row may hold."""
        since_last, since_start, memo = self.since_last, self.since_start, self._numbers
        for pos, value in enumerate(cells):
            if type(value) is str:  # a text read before (dates, amounts, codes) is not read again
                number = memo.get(value, memo)
                if number is memo:
                    number = _number(value)
                    if len(memo) < MEMO_LIMIT:
                        memo[value] = number
            else:
                number = _number(value)
            if number is not None:
                since_last[pos] = since_last.get(pos, 0.0) + number
                since_start[pos] = since_start.get(pos, 0.0) + number

    def _reset(self) -> None:
        self.since_last = {}
