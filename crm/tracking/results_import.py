"""The tax bureau's sheet of yearly output and tax, keyed by 统一社会信用代码 (.xlsx or .csv, Chinese
headers: 统一社会信用代码, 年度/年份, 产值/工业产值 (万元), 税收/纳税额 (万元)).

All or nothing: every row is checked first (`check_sheet`); if any row is rejected nothing is
written, and the report lists each rejected row and why. A year a project already has is replaced
(the audit log keeps the old figures) and the preview says so. Read with the lead import's safe
reader (zip-bomb checks, header-row search, GB18030 CSV)."""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm.extensions import db
from crm.interchange import parsing
from crm.interchange.columns import Column, header_key
from crm.interchange.readers import FileError, HeaderSpec, open_table
from crm.leads.models import Lead
from crm.tracking import results

MAX_ROWS = 20_000
SOURCE = "tax_bureau"

_COLUMNS = (
    (Column("uscc", "统一社会信用代码", "uscc", required=True), ("uscc", "统一社会信用代码", "信用代码")),
    (Column("year", "年度", "int", required=True), ("year", "年度", "年份")),
    (Column("output_wan", "产值(万元)", "amount"),
     ("output_wan", "产值(万元)", "产值", "工业产值(万元)", "工业产值")),
    (Column("tax_wan", "税收(万元)", "amount"),
     ("tax_wan", "税收(万元)", "税收", "纳税额(万元)", "纳税额")),
)
LOOKUP = {header_key(name): column for column, names in _COLUMNS for name in names}
SHEET_HEADERS = HeaderSpec(LOOKUP, required="uscc", missing_headers=_l(
    "No known column headers were found in the first rows (统一社会信用代码, 年度, 产值(万元), 税收(万元))."))


@dataclass
class Rejected:
    row: int
    uscc: str
    reasons: list[str]


@dataclass
class Accepted:
    row: int
    lead_id: int
    company: str
    uscc: str
    year: int
    output_wan: Decimal | None
    tax_wan: Decimal | None
    replaces: bool        # the project already has this year: it is replaced
    old_output_wan: Decimal | None = None
    old_tax_wan: Decimal | None = None


@dataclass
class SheetReport:
    accepted: list[Accepted] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    unknown_headers: list[str] = field(default_factory=list)
    written: int = 0

    @property
    def ok(self) -> bool:
        return not self.rejected and bool(self.accepted)

    @property
    def replaced(self) -> int:
        return sum(1 for a in self.accepted if a.replaces)


def _number(value) -> tuple[Decimal | None, str | None]:
    """An amount in 万元 (blank → None), or why it cannot be read; negatives are named."""
    if parsing.is_blank(value):
        return None, None
    if isinstance(value, bool):
        return None, _("“%(v)s” is not a number.", v=value)
    if isinstance(value, (int, float, Decimal)):
        number = Decimal(str(value))
    else:
        text = parsing._text(value).replace(",", "").replace(" ", "").removesuffix("万元")
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None, _("“%(v)s” is not a number.", v=parsing._text(value)[:50])
    if number.is_finite() and number < 0:
        return None, _("A negative amount (%(v)s) cannot be output or tax.", v=parsing._text(value)[:50])
    return results.amount_problem(number)


def _year(value) -> tuple[int | None, str | None]:
    if parsing.is_blank(value):
        return None, _("The year is missing.")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        year = value
    else:
        text = re.sub(r"年(度)?$", "", parsing._text(value))
        if not re.fullmatch(r"[0-9]{1,6}", text):
            return None, _("“%(v)s” is not a year.", v=parsing._text(value)[:50])
        year = int(text)
    problem = results.year_problem(year)
    return (None, problem) if problem else (year, None)


def check_sheet(path: Path, filename: str) -> SheetReport:
    """Read and check every row; writes nothing. FileError when the file cannot be read at all."""
    table = open_table(path, filename, SHEET_HEADERS)
    if not {"output_wan", "tax_wan"} & {c.key for c in table.columns.values()}:
        raise FileError(_("The sheet needs a column 产值(万元) or 税收(万元) (or both)."))
    report = SheetReport(unknown_headers=table.unknown)
    parsed = []
    for number, cells in table.rows:
        if len(parsed) >= MAX_ROWS:
            raise FileError(_("The file has more than %(n)d rows: split it into smaller files.", n=MAX_ROWS))
        raw = {col.key: cells[pos] if pos < len(cells) else None for pos, col in table.columns.items()}
        reasons: list[str] = []
        uscc_text = "" if parsing.is_blank(raw.get("uscc")) else parsing._text(raw["uscc"])[:40]
        uscc = None
        if not uscc_text:
            reasons.append(_("The 统一社会信用代码 is missing."))
        else:
            try:
                uscc = parsing.parse_uscc(uscc_text)
            except parsing.CellError as exc:
                reasons.append(str(exc))
        year, problem = _year(raw.get("year"))
        if problem:
            reasons.append(problem)
        output, problem = _number(raw.get("output_wan"))
        if problem:
            reasons.append(_("产值: %(why)s", why=problem))
        tax, problem = _number(raw.get("tax_wan"))
        if problem:
            reasons.append(_("税收: %(why)s", why=problem))
        if output is None and tax is None and not any(r.startswith(("产值", "税收")) for r in reasons):
            reasons.append(_("Neither 产值 nor 税收 is given."))
        parsed.append((number, uscc_text, uscc, year, output, tax, reasons))
    if not parsed:
        raise FileError(_("The file has headers but no rows."))
    leads = _projects({p[2] for p in parsed if p[2]})
    rows_of: dict[tuple[str, int], list[int]] = {}
    for number, _text, uscc, year, *_rest in parsed:
        if uscc and year is not None:
            rows_of.setdefault((uscc, year), []).append(number)
    for number, uscc_text, uscc, year, output, tax, reasons in parsed:
        lead = None
        if uscc:
            found = leads.get(uscc, [])
            producing = [lead for lead in found if results.is_producing(lead)]
            if not found:
                reasons.append(_("Unknown 统一社会信用代码: no project has this code."))
            elif not producing:
                reasons.append(_("%(company)s is not a producing project (投产 or 上规); its stage is %(stage)s.",
                                 company=found[0].company_name, stage=found[0].stage_label))
            elif len(producing) > 1:
                reasons.append(_("Several producing projects have this code; enter the figures on the "
                                 "project page."))
            else:
                lead = producing[0]
        # A year twice for one code: every such row is rejected (which figure is right is not known).
        same = rows_of.get((uscc, year), []) if uscc and year is not None else []
        if len(same) > 1:
            reasons.append(_("Duplicate year: %(year)s of this code is on rows %(rows)s of the sheet.",
                             year=year, rows=", ".join(str(r) for r in same)))
        if reasons:
            report.rejected.append(Rejected(number, uscc_text, reasons))
            continue
        old = results.result_for_year(lead.id, year)
        report.accepted.append(Accepted(number, lead.id, lead.company_name, uscc, year, output, tax,
                                        replaces=old is not None,
                                        old_output_wan=old.output_wan if old else None,
                                        old_tax_wan=old.tax_wan if old else None))
    return report


def _projects(codes: set[str]) -> dict[str, list[Lead]]:
    out: dict[str, list[Lead]] = {}
    if not codes:
        return out
    for lead in db.session.scalars(select(Lead).where(Lead.uscc.in_(sorted(codes))).order_by(Lead.id)):
        out.setdefault(lead.uscc, []).append(lead)
    return out


def apply_sheet(path: Path, filename: str, actor) -> SheetReport:
    """Check the sheet again and, if no row is rejected, write every row (in the caller's one
    transaction). The report says what was written; with a rejected row nothing is."""
    report = check_sheet(path, filename)
    if not report.ok:
        return report
    ref = uuid.uuid4().hex[:16]
    for item in report.accepted:
        lead = db.session.get(Lead, item.lead_id)
        results.put_result(lead, item.year, item.output_wan, item.tax_wan, actor, source=SOURCE, import_ref=ref)
    report.written = len(report.accepted)
    return report


# --- the uploaded file between the preview and the confirmation ---------------------------------
_TOKEN = re.compile(r"^[0-9a-f]{32}$")
ALLOWED_SUFFIXES = (".xlsx", ".csv")


AREA = "tax_sheets"  # the uploads' folder in the app's storage (crm.storage)


def keep_upload(upload, filename: str) -> tuple[str, str]:
    """Save the uploaded sheet under a random token; returns (token, storage key)."""
    from crm.storage import storage

    suffix = Path(filename or "").suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise FileError(_("Upload an .xlsx or .csv file."))
    _forget_old_uploads()
    token = uuid.uuid4().hex
    key = f"{AREA}/{token}{suffix}"
    storage().put(key, upload.stream if hasattr(upload, "stream") else upload)
    return token, key


KEEP_SECONDS = 24 * 3600  # a previewed sheet not confirmed within a day is removed


def _forget_old_uploads() -> None:
    import time

    from crm.storage import storage

    limit = time.time() - KEEP_SECONDS
    for key, modified in storage().list_modified(AREA):
        if modified < limit:
            storage().delete(key)


def kept_upload(token: str | None) -> str | None:
    """The storage key of a kept sheet, or None when it is gone (or the token is not ours)."""
    from crm.storage import storage

    if not token or not _TOKEN.match(token):
        return None
    for suffix in ALLOWED_SUFFIXES:
        key = f"{AREA}/{token}{suffix}"
        if storage().exists(key):
            return key
    return None
