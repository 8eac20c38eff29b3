"""Export of the lead list (DOMAIN.md, "The lead interchange file"): every lead the list page
would show the same user with the same filters and sort, without pages, as .xlsx or .csv.

export_rows() streams the rows out of the database (a server-side cursor on PostgreSQL, fetched
2,000 at a time) and the writers consume them one by one, so memory stays flat as the row count
grows: csv_chunks() yields bytes for a streaming response, write_xlsx() uses XlsxWriter's
constant_memory mode (each row goes to a temp file as soon as the next one starts).

Values, in interchange order (COLUMNS, then DERIVED_COLUMNS):
- text as str; chain, node, source and unit by name; source kind and stage by their Chinese
  names (the codes with english=True); booleans as 是/否 (yes/no); empty cells as None;
- amounts, areas and percentages as float, counts as int, so spreadsheets can sum them;
- dates as datetime.date: real date cells shown as yyyy-mm-dd in .xlsx (Excel sorts and filters
  them as dates), ISO text (2026-11-21) in .csv.
After the interchange columns: 线索编号 (the lead's id, as the 作战表 writes it), 责任人 (the
officer's name), 最近跟进 ("2026-11-20 走访": the latest follow-up's date and kind), 下次跟进 (the date
that follow-up set); then the derived and scored columns. Probabilities stay 0–1 (the .xlsx shows
them with a percentage format).
The writers, not export_rows(), make text safe (safe_cell: a leading = + - @ tab or CR gets a
') so no file they write can carry a formula of the data's making, whatever rows they are given;
the one formula a CSV holds is our own ="…" around a code of digits and capitals (csv_text),
which keeps it text in Excel and WPS.
"""
from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from typing import BinaryIO

import xlsxwriter
from sqlalchemy import func, select

from crm.auth.models import Unit, User
from crm.auth.roles import Permission
from crm.chains.models import Chain, ChainNode
from crm.contacts.interchange import export_columns as contact_columns, primary_contact_join
from crm.contacts.models import LeadContact
from crm.extensions import db
from crm.interchange.columns import COLUMNS, DERIVED_COLUMNS, Column, safe_cell
from crm.leads.models import SOURCE_KIND_CHINESE, ActivityKind, Lead, LeadActivity, Source

# The Lead properties' own arithmetic (Decimal, rounded to 0.01), so the file and the page agree.
from crm.leads.models import per_mu
from crm.leads.pipeline import STAGE_CHINESE
from crm.leads.queries import SORTS, LeadFilters

YIELD_PER = 2000
SHEET_NAME = "线索"
CSV_BOM = "\ufeff".encode()  # Excel (zh-CN) reads a CSV without it as GBK and garbles it
CSV_CHUNK = 64 * 1024

# Where each interchange column comes from; the derived columns are computed from these.
_SQL = {
    "company_name": Lead.company_name, "uscc": Lead.uscc, "project_name": Lead.project_name,
    "industry": Chain.name, "chain_node": ChainNode.name, "source_kind": Lead.source_kind,
    "source_name": Source.name, "origin_region": Lead.origin_region,
    "planned_investment_wan": Lead.planned_investment_wan,
    "fixed_asset_investment_wan": Lead.fixed_asset_investment_wan,
    "land_area_mu": Lead.land_area_mu, "expected_output_wan": Lead.expected_output_wan,
    "expected_tax_wan": Lead.expected_tax_wan, "high_tech": Lead.high_tech,
    "specialized": Lead.specialized, "patents": Lead.patents, "rd_ratio": Lead.rd_ratio,
    "jobs": Lead.jobs, "owner_unit": Unit.name, "created_on": Lead.created_on, "stage": Lead.stage,
    "signed_on": Lead.signed_on, "started_on": Lead.started_on, "lost_reason": Lead.lost_reason,
    "note": Lead.note,
    # The primary contact; the phone only where the reader may see it (export_query).
    "contact_name": LeadContact.name, "contact_title": LeadContact.title, "contact_phone": LeadContact.phone,
}
assert list(_SQL) == [c.key for c in COLUMNS], "export query out of step with the column spec"
# Each row of the query: the lead's id and its officer's name, the interchange columns, the scores.
_HEAD = 2
_FIXED, _LAND, _TAX = (_HEAD + list(_SQL).index(k) for k in
                       ("fixed_asset_investment_wan", "land_area_mu", "expected_tax_wan"))
# The officer as the 作战表 names one (crm.chains.export): the full name, else the user name.
_OFFICER = func.coalesce(func.nullif(User.full_name, ""), User.username)
# The scored columns close the row (DOMAIN.md): p_sign, p_land (0–1), score_grade, model_version.
_SCORES = (Lead.p_sign, Lead.p_land, Lead.score_grade, Lead.score_model_version)
# Follow-up kinds as the lead page names them in Chinese (crm.leads.models.ACTIVITY_KIND_LABELS).
ACTIVITY_KIND_CHINESE = {ActivityKind.VISIT: "走访", ActivityKind.CALL: "电话联系", ActivityKind.MEETING: "会谈",
                         ActivityKind.ONLINE: "云洽谈", ActivityKind.EVENT: "活动"}


class CountyWideReader:
    """Stands in for a user who reads every unit's leads: the CLI exports county-wide."""

    unit_id = None

    def can(self, *perms) -> bool:
        return bool({Permission.LEADS_READ_ALL, Permission.LEADS_READ_UNIT, Permission.CONTACTS_READ_ALL} & set(perms))


# --- rows ---------------------------------------------------------------------------------------
def headers(english: bool = False) -> list[str]:
    return [c.key if english else c.header for c in COLUMNS + DERIVED_COLUMNS]


def export_query(user, filters: LeadFilters):
    """The list page's visibility, filters and sort (crm.leads.queries), every row."""
    key, desc, _value_of = SORTS[filters.sort]
    order = (key.desc(), Lead.id.desc()) if desc else (key.asc(), Lead.id.asc())
    columns = {**_SQL, **contact_columns(user, Lead.owner_unit_id)}
    return (select(Lead.id, _OFFICER, *columns.values(), *_SCORES)
            .select_from(Lead)
            .join(Unit, Unit.id == Lead.owner_unit_id)
            .outerjoin(Chain, Chain.id == Lead.chain_id)
            .outerjoin(ChainNode, ChainNode.id == Lead.chain_node_id)
            .outerjoin(Source, Source.id == Lead.source_id)
            .outerjoin(User, User.id == Lead.owner_id)
            .outerjoin(LeadContact, primary_contact_join(Lead.id))
            .where(*filters.conditions(user))
            .order_by(*order))


def export_rows(user, filters: LeadFilters, english: bool = False) -> Iterator[list]:
    """The header, then one value list per lead the user may read, as the list page sorts them.

    The statement is built now, with the user's visibility; it runs when the first lead is
    asked for, in the session current then. A streamed response reads it after Flask has torn
    the request's session down (stream_with_context re-pushes the contexts, and the teardown
    gives it a fresh session), so nothing here may depend on the request's transaction."""
    return _stream(export_query(user, filters), english)


def _stream(stmt, english: bool) -> Iterator[list]:
    convert = [_converter(c, english) for c in COLUMNS]
    n = _HEAD + len(COLUMNS)
    kinds = {k.value: k.value for k in ActivityKind} if english else ACTIVITY_KIND_CHINESE
    yield headers(english)
    # The session's connection: its transaction (and, in tests, the test's data). yield_per
    # makes a server-side cursor on PostgreSQL, fetched YIELD_PER rows at a time; each fetch
    # brings its leads' latest follow-ups in one more query (never one per lead).
    connection = db.session.connection()
    result = connection.execute(stmt.execution_options(yield_per=YIELD_PER))
    try:
        for chunk in result.partitions():
            follow_ups = latest_follow_ups(connection, [row[0] for row in chunk])
            for row in chunk:
                lead_id = row[0]
                values = [f(v) for f, v in zip(convert, row[_HEAD:n])]
                last = follow_ups.get(lead_id)
                values += [lead_id, row[1],
                           f"{last[0].isoformat()} {kinds.get(last[1], last[1])}" if last else None,
                           last[2] if last else None]
                values.append(_number(per_mu(row[_FIXED], row[_LAND])))
                values.append(_number(per_mu(row[_TAX], row[_LAND])))
                values.extend(row[n:n + 4])
                yield values
    finally:
        result.close()  # ends the server-side cursor if the consumer stops early


def latest_follow_ups(connection, lead_ids: list[int]) -> dict[int, tuple]:
    """lead id → (date, kind, next follow-up date) of each lead's latest follow-up (the last by
    date, then the last recorded), for a chunk of leads in one query."""
    if not lead_ids:
        return {}
    ranked = (select(LeadActivity.lead_id, LeadActivity.occurred_on, LeadActivity.kind,
                     LeadActivity.next_follow_up_on,
                     func.row_number().over(partition_by=LeadActivity.lead_id,
                                            order_by=(LeadActivity.occurred_on.desc(), LeadActivity.id.desc()))
                     .label("n"))
              .where(LeadActivity.lead_id.in_(lead_ids))
              .subquery())
    rows = connection.execute(select(ranked.c.lead_id, ranked.c.occurred_on, ranked.c.kind,
                                     ranked.c.next_follow_up_on).where(ranked.c.n == 1))
    return {lead_id: (occurred, kind, upcoming) for lead_id, occurred, kind, upcoming in rows}


def _converter(column: Column, english: bool):
    if column.kind in ("amount", "area", "percent"):
        return _number
    if column.kind == "bool":
        yes, no = ("yes", "no") if english else ("是", "否")
        return lambda v: None if v is None else yes if v else no
    if column.kind == "source_kind" and not english:
        return lambda v: SOURCE_KIND_CHINESE.get(v, v)
    if column.kind == "stage" and not english:
        return lambda v: STAGE_CHINESE.get(v, v)
    return _same  # text, codes, ints and dates go out as they are


def _same(value):
    return value


def _number(value):
    """A float for the sheet; a value no sheet can hold as a number (∞, NaN, stored before the
    ranges were enforced) goes out as its text, so the file stays whole and shows what to fix."""
    if not isinstance(value, Decimal):
        return value
    number = float(value)
    return number if math.isfinite(number) else str(value)


# --- CSV ----------------------------------------------------------------------------------------
def csv_chunks(rows: Iterable[list], chunk_size: int = CSV_CHUNK) -> Iterator[bytes]:
    """UTF-8 with a BOM, \\r\\n line ends, in chunks of about chunk_size bytes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    yield CSV_BOM
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
        if buffer.tell() >= chunk_size:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def write_csv(rows: Iterable[list], fh: BinaryIO) -> int:
    """Write the rows to a binary file; returns the number of data rows (header not counted)."""
    counted = _Counter(rows)
    fh.writelines(csv_chunks(counted))
    return counted.data_rows


# Text Excel would read as a number and change: an 18-character code (统一社会信用代码; all digits
# it becomes 9.13504E+17 and loses its last digits, with an E inside it can become a power of ten)
# and other long digit strings (Excel keeps 15 digits and shows 12 and more in E-notation), or
# digits with a leading 0 (a landline, 0598…, would lose it).
_KEEP_AS_TEXT = re.compile(r"[0-9A-Z]{18}|[0-9]{11,}|0[0-9]+")
_CODE_START = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def csv_text(value: str) -> str:
    """A CSV cell that Excel and WPS both open as this exact text.

    Written as the formula ="913504…": both evaluate it on opening a CSV, and its value is the
    text itself, so the cell shows every digit, sorts and filters as text, and a VLOOKUP against
    the tax bureau's sheet keyed by the same code matches. A leading tab (the other common trick)
    stays in the cell's value, breaks such lookups and is copied along; an apostrophe is shown as
    typed when it comes from a CSV. Only codes of digits and capitals are written so (nothing a
    formula could run), and our import reads ="…" back as the text inside
    (crm.interchange.readers._unwrap_text)."""
    if value[:1] in _CODE_START and _KEEP_AS_TEXT.fullmatch(value):  # the test first: most text is Chinese
        return f'="{value}"'
    return safe_cell(value)


def _csv_value(value):
    if isinstance(value, str):
        return csv_text(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)  # 30000, not 30000.0
    return value  # None → empty; date → 2026-11-21 (str() of a date is ISO)


# --- XLSX ---------------------------------------------------------------------------------------
_WORKBOOK_OPTIONS = {
    "constant_memory": True,
    # write_string never makes formulas or links, but keep XlsxWriter from guessing anywhere.
    "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
    "default_date_format": "yyyy-mm-dd",
}
_KIND_WIDTH = {"text": 24, "note": 36, "uscc": 21, "chain": 14, "node": 14, "source_kind": 14, "amount": 12,
               "area": 10, "bool": 8, "int": 8, "percent": 10, "probability": 10, "unit": 14, "date": 11,
               "stage": 10}
PROBABILITY_FORMAT = "0%"  # as the lead page shows a chance (45%); the cell keeps the exact 0–1 value


def write_xlsx(rows: Iterable[list], target) -> int:
    """Write the header and rows to an .xlsx path or binary file; returns the data row count.

    One sheet (线索), bold frozen header row with a filter, numbers as numbers, dates as date
    cells, text through safe_cell() with write_string (never a formula, never a link)."""
    workbook = xlsxwriter.Workbook(target, _WORKBOOK_OPTIONS)
    try:
        sheet = workbook.add_worksheet(SHEET_NAME)
        rows = iter(rows)
        header = next(rows)
        _set_widths(sheet, header)
        bold = workbook.add_format({"bold": True})
        for col, text in enumerate(header):
            sheet.write_string(0, col, safe_cell(str(text)), bold)
        sheet.freeze_panes(1, 0)
        # Probabilities are numbers shown as percentages (签约概率 0.45 → 45%).
        percent = workbook.add_format({"num_format": PROBABILITY_FORMAT})
        columns = COLUMNS + DERIVED_COLUMNS
        formats = [percent if col < len(columns) and columns[col].kind == "probability" else None
                   for col in range(len(header))]
        count = _write_body(sheet, rows, formats)
        # The filter range is written when the workbook closes, so it can be set last.
        sheet.autofilter(0, 0, count, len(header) - 1)
    finally:
        workbook.close()
    return count


def _write_body(sheet, rows: Iterator[list], formats: list | None = None) -> int:
    """The inner loop of every export: one typed write per non-empty cell (numbers with their
    column's format, if it has one)."""
    write_string, write_number, write_date = sheet.write_string, sheet.write_number, sheet.write_datetime
    formats = formats or []
    r = 0
    for r, row in enumerate(rows, 1):
        for c, value in enumerate(row):
            kind = type(value)
            if value is None:
                continue
            if kind is str:
                write_string(r, c, safe_cell(value))
            elif kind is float or kind is int:
                write_number(r, c, value, formats[c] if c < len(formats) else None)
            elif kind is date:
                write_date(r, c, value)
            elif kind is bool:  # not produced by export_rows; keep it a readable word
                write_string(r, c, "是" if value else "否")
            elif isinstance(value, Decimal):
                number = _number(value)
                (write_number if type(number) is float else write_string)(r, c, number)
            else:
                write_string(r, c, safe_cell(str(value)))
    return r


def _set_widths(sheet, header: list) -> None:
    """Column widths before any row is written (constant_memory writes rows as it goes)."""
    columns = COLUMNS + DERIVED_COLUMNS
    for col, text in enumerate(header):
        spec = columns[col] if col < len(columns) else None
        width = max(_display_width(str(text)) + 2, _KIND_WIDTH.get(spec.kind, 12) if spec else 12)
        if spec is not None and spec.key in ("company_name", "project_name"):
            width = max(width, 32)
        sheet.set_column(col, col, width)


def _display_width(text: str) -> int:
    """Width in Excel character units: CJK and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class _Counter:
    """Passes rows through and counts those after the header."""

    def __init__(self, rows: Iterable[list]):
        self._rows, self.data_rows = rows, 0

    def __iter__(self):
        for i, row in enumerate(self._rows):
            self.data_rows = i
            yield row
