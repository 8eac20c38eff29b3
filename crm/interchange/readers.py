"""Opening an uploaded interchange file (.xlsx or .csv) safely, and finding its header row."""
from __future__ import annotations

import codecs
import csv
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from crm.interchange.columns import DERIVED_COLUMNS, HEADER_LOOKUP, Column, header_key

DERIVED_KEYS = {c.key for c in DERIVED_COLUMNS}

MAX_UNZIPPED = 300 * 1024 * 1024   # an .xlsx may not unpack to more than this …
MAX_MEMBERS = 2000                 # … or hold more files than this (zip bombs)
MAX_RATIO = 200                    # nor compress one member more than this
HEADER_SEARCH_ROWS = 5             # offices often put a title row above the headers


class FileError(ValueError):
    """The file as a whole cannot be imported; the message says why."""


@dataclass
class Table:
    columns: dict[int, Column]                 # position → interchange column
    unknown: list[str]                         # headers we ignore (reported)
    header_row: int                            # 1-based row number of the headers
    rows: Iterator[tuple[int, list]]           # (row number, cells)
    headers: list[str] = field(default_factory=list)
    # .xlsx: row number → positions of the cells holding a SUM/SUBTOTAL formula (a totals row's
    # cells, which may carry no value when the file was written by a program that does not
    # compute formulas).
    sum_cells: dict[int, frozenset[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class HeaderSpec:
    """Which headers a file may carry: the lead interchange file by default, or another list
    (the target list, crm.chains) read with the same care."""

    lookup: dict[str, Column]
    required: str = "company_name"
    ignored: frozenset[str] = frozenset()
    missing_headers: object = None  # a lazy message


LEAD_HEADERS = HeaderSpec(HEADER_LOOKUP, ignored=frozenset(DERIVED_KEYS), missing_headers=_l(
    "No known column headers were found in the first rows (e.g. 企业名称, 项目名称)."))


def open_table(path: Path, filename: str, spec: HeaderSpec = LEAD_HEADERS, preview_rows: int | None = None) -> Table:
    """The file's header row found and its rows streamed. `preview_rows`: the caller reads about
    this many rows only (a preview in a web request), so the sheet's XML is scanned (sums,
    merged header cells) no further than they go; without it, the whole sheet is scanned."""
    suffix = Path(filename).suffix.lower()
    if path.stat().st_size == 0:
        raise FileError(_("The file is empty."))
    if suffix == ".xlsx":
        raw_rows = _xlsx_rows(path)
    elif suffix == ".csv":
        raw_rows = _csv_rows(path)
    else:
        raise FileError(_("Upload an .xlsx or .csv file."))
    until_row = None if preview_rows is None else 2 * preview_rows + 100  # blank rows and totals between
    scan = _scan_sheet(path, until_row) if suffix == ".xlsx" else SheetScan()
    return _with_headers(raw_rows, merged=scan.merged, spec=spec, sum_cells=scan.sum_cells)


def _limit(name: str, default: int) -> int:
    from flask import current_app, has_app_context

    return int(current_app.config.get(name, default)) if has_app_context() else default


def max_rows() -> int:
    return _limit("IMPORT_MAX_ROWS", 200000)


def too_many_rows() -> FileError:
    limit = max_rows()
    return FileError(_("The file has more than %(limit)s rows, more than one import takes. Split it into files "
                       "of at most %(limit)s rows each and import them one after the other.", limit=limit))


def estimated_rows(path: Path, filename: str) -> int | None:
    """About how many rows the file holds, without parsing it: an .xlsx's own dimension
    (<dimension ref="A1:L5000"/>, at the start of the sheet), a CSV's line count (in a job only:
    it reads the whole file). None when the file does not say."""
    suffix = Path(filename).suffix.lower()
    try:
        if suffix == ".xlsx":
            with zipfile.ZipFile(path) as archive:
                name = _first_sheet_name(archive)
                if name is None:
                    return None
                with archive.open(name) as fh:
                    match = re.search(rb'<dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"', fh.read(4096))
            return int(match.group(1)) if match else None
        if suffix == ".csv":
            lines = 0
            with path.open("rb") as fh:
                while chunk := fh.read(1 << 20):
                    lines += chunk.count(b"\n")
            return lines
    except (OSError, zipfile.BadZipFile):
        return None
    return None


def _check_zip(path: Path) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise FileError(_("This is not an Excel workbook (.xlsx). Save it again from Excel as .xlsx or .csv."))
    members = archive.infolist()
    if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_UNZIPPED or any(
            m.compress_size and m.file_size / m.compress_size > MAX_RATIO for m in members):
        raise FileError(_("The workbook unpacks to far more data than it holds (a zip bomb?); it was not opened."))
    if "xl/workbook.xml" not in {m.filename for m in members}:
        raise FileError(_("This is not an Excel workbook (.xlsx). Save it again from Excel as .xlsx or .csv."))
    _check_unpacked_parts(archive)
    return archive


def _check_unpacked_parts(archive: zipfile.ZipFile) -> None:
    """The parts openpyxl reads whole or row by row, by their unpacked size as the zip
    directory gives it, before any is parsed: a 28 MB workbook whose shared strings unpack to
    213 MB held a web process for half a minute and near a gigabyte."""
    limit_mb = _limit("IMPORT_MAX_UNPACKED_MB", 100)
    sheet = _first_sheet_name(archive)
    members = {m.filename: m for m in archive.infolist()}
    for name in ("xl/sharedStrings.xml", sheet):
        member = members.get(name)
        if member is None or member.file_size <= limit_mb * 1024 * 1024:
            continue
        part = (_("its shared strings (sharedStrings.xml)") if name == "xl/sharedStrings.xml"
                else _("its first worksheet (%(name)s)", name=Path(name).name))
        raise FileError(_("The workbook is too large to import: %(part)s unpacks to %(size)s MB, more than the "
                          "limit of %(limit)s MB. Split it into several smaller files (or save it as CSV) and "
                          "import them one after the other.", part=part,
                          size=f"{member.file_size / (1024 * 1024):.1f}", limit=limit_mb))


def _first_sheet_name(archive: zipfile.ZipFile) -> str | None:
    names = sorted(n for n in archive.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n))
    return names[0] if names else None


@dataclass
class SheetScan:
    merged: list[str] = field(default_factory=list)               # merged ranges in the first rows
    sum_cells: dict[int, frozenset[int]] = field(default_factory=dict)


_ROW_START = re.compile(rb'<row r="(\d+)"')


_MERGE = re.compile(rb'<mergeCell ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
# A cell with a formula: <c r="F12" …><f …>SUM(F2:F11)</f> or a shared one, <f t="shared" si="0"/>.
_FORMULA_CELL = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"[^>]*>\s*<f((?:\s[^>]*?)?)(/>|>([^<]*)</f>)')
_SHARED_INDEX = re.compile(rb'si="(\d+)"')
_SUM_FORMULA = re.compile(rb'^\s*(?:_xlfn\.)?(?:SUM|SUBTOTAL|AGGREGATE)\s*\(', re.IGNORECASE)


def _column_index(letters: bytes) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + (ch - 64)
    return index - 1


def _scan_sheet(path: Path, until_row: int | None = None) -> SheetScan:
    """One streamed pass over the first sheet's XML (read_only mode sees neither merges nor
    formulas): ranges merged within the first rows, and the cells holding a sum. With
    until_row, the pass stops once the sheet's rows go past it (the merges, written after the
    rows, are then seen only in a sheet that short)."""
    scan = SheetScan()
    with zipfile.ZipFile(path) as archive:
        name = _first_sheet_name(archive)
        if name is None:
            return scan
        found, sums, shared, tail = set(), {}, {}, b""
        with archive.open(name) as fh:
            while chunk := fh.read(1 << 20):
                # The previous chunk's tail is read again, so a tag cut in two is seen whole
                # (a tag seen twice changes nothing: every finding goes into a set).
                data = tail + chunk
                for match in _MERGE.finditer(data):
                    if int(match.group(2)) <= HEADER_SEARCH_ROWS:
                        found.add(match.group(0).decode())
                for match in _FORMULA_CELL.finditer(data):
                    attributes, text = match.group(3), match.group(5)
                    index = _SHARED_INDEX.search(attributes or b"")
                    if text:  # a formula of its own, or the master of a shared one
                        is_sum = bool(_SUM_FORMULA.match(text))
                        if index:
                            shared[index.group(1)] = is_sum
                    else:     # a shared formula's other cells: the master's kind
                        is_sum = bool(index) and shared.get(index.group(1), False)
                    if is_sum:
                        row = int(match.group(2))
                        sums.setdefault(row, set()).add(_column_index(match.group(1)))
                tail = data[-4096:]
                if until_row is not None:
                    rows = _ROW_START.findall(chunk)
                    if rows and int(rows[-1]) > until_row:
                        break
        scan.merged = sorted(found)
        scan.sum_cells = {row: frozenset(cols) for row, cols in sums.items()}
        return scan


def _xlsx_rows(path: Path) -> Iterator[list]:
    import openpyxl

    _check_zip(path).close()
    try:
        workbook = _open_workbook(path)
    except Exception:  # openpyxl raises many kinds for damaged files
        raise FileError(_("The workbook could not be read; it may be damaged. Save it again from Excel."))

    def rows():
        try:
            sheet = workbook.worksheets[0]
            for values in sheet.iter_rows(values_only=True):
                yield list(values)
        finally:
            workbook.close()

    return rows()


def _open_workbook(path: Path):
    """openpyxl's read-only workbook, its shared strings read as far as the rows read so far
    need (openpyxl reads them all when it opens the file, before the first row)."""
    from openpyxl.reader.excel import SHARED_STRINGS, ExcelReader

    reader = ExcelReader(path, read_only=True, data_only=True)

    def read_strings():
        part = reader.package.find(SHARED_STRINGS)
        reader.shared_strings = _LazyStrings(reader.archive, part.PartName[1:]) if part is not None else []

    reader.read_strings = read_strings
    reader.read()
    return reader.wb


class _LazyStrings:
    """The shared strings table as openpyxl's sheet reader indexes it, parsed on demand: Excel
    numbers strings in the order it first meets them, so the first rows need the first few."""

    def __init__(self, archive: zipfile.ZipFile, member: str):
        from openpyxl.xml.constants import SHEET_MAIN_NS
        from openpyxl.xml.functions import iterparse

        self._tag = "{%s}si" % SHEET_MAIN_NS
        self._source = archive.open(member)
        self._events = iterparse(self._source)
        self._strings: list[str] = []

    def __getitem__(self, index: int) -> str:
        from openpyxl.cell.text import Text

        while index >= len(self._strings) and self._events is not None:
            try:
                _event, node = next(self._events)
            except StopIteration:
                self._source.close()
                self._events = None
                break
            if node.tag == self._tag:
                self._strings.append(Text.from_tree(node).content.replace("x005F_", ""))
                node.clear()
        return self._strings[index]


def _csv_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) if the first megabyte reads as such, else GB18030 — what
    Excel in China writes."""
    with path.open("rb") as fh:
        head = fh.read(1 << 20)
    try:
        codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "gb18030"


def _csv_rows(path: Path) -> Iterator[list]:
    encoding = _csv_encoding(path)

    def rows():  # streamed: a large file is never held in memory whole
        with path.open(encoding=encoding, newline="") as fh:
            try:
                for values in csv.reader(fh):
                    yield [_unwrap_text(v) if v.startswith('="') else v for v in values]
            except UnicodeDecodeError:
                raise FileError(_("The CSV file mixes encodings: save it again as UTF-8 or GB18030 text."))
            except csv.Error:
                raise FileError(_("This is not a CSV text file."))

    return rows()


_KEPT_TEXT = re.compile(r'^="([^"]*)"$')


def _unwrap_text(value: str) -> str:
    """="0123…" is how a CSV keeps a long digit string text in Excel and WPS (our exports write
    codes so, crm.interchange.export.csv_text); it reads back as the text inside."""
    if value.startswith('="'):
        match = _KEPT_TEXT.match(value)
        if match:
            return match.group(1)
    return value


def _looks_like_headers(values: list, spec: HeaderSpec) -> bool:
    keys = [header_key(v) for v in values if v is not None]
    known = [k for k in keys if k in spec.lookup]
    return len(known) >= 2 or any(spec.lookup[k].key == spec.required for k in known)


def _with_headers(raw_rows: Iterator[list], merged: list[str], spec: HeaderSpec = LEAD_HEADERS,
                  sum_cells: dict[int, frozenset[int]] | None = None) -> Table:
    numbered = enumerate(raw_rows, start=1)
    buffered = []
    for number, values in numbered:
        buffered.append((number, values))
        if _looks_like_headers(values, spec) or number >= HEADER_SEARCH_ROWS:
            break
    if not buffered or all(all(v is None or str(v).strip() == "" for v in vals) for _n, vals in buffered):
        raise FileError(_("The file is empty."))
    header_row, headers = buffered[-1]
    if not any(header_key(v) in spec.lookup for v in headers):
        raise FileError(str(spec.missing_headers))
    if merged:
        raise FileError(_("The header row has merged cells (%(cells)s). Unmerge them so each column has its own header.",
                          cells=", ".join(m.split('"')[1] for m in merged)))
    columns, unknown, seen = {}, [], {}
    for position, value in enumerate(headers):
        if value is None or str(value).strip() == "":
            continue
        column = spec.lookup.get(header_key(value))
        if column is None:
            unknown.append(str(value).strip())
        elif column.key in seen:
            raise FileError(_("The column %(name)s appears twice.", name=column.header))
        elif column.key in spec.ignored:
            continue  # derived and scored columns of an export: ignored on import
        else:
            seen[column.key] = position
            columns[position] = column
    for column in spec.lookup.values():
        if column.required and column.key not in seen:
            raise FileError(_("The required column %(header)s (%(key)s) is missing.",
                              header=column.header, key=column.key))
    sum_cells = sum_cells or {}
    return Table(columns=columns, unknown=unknown, header_row=header_row,
                 rows=_non_empty(numbered, sum_cells), headers=[str(h or "") for h in headers],
                 sum_cells=sum_cells)


def _non_empty(raw_rows, sum_cells=None):
    """Rows with a value, and rows of sums whose formulas carry no stored value (a totals row
    is reported as such rather than dropped without a word)."""
    for number, values in raw_rows:
        if any(v is not None and str(v).strip() != "" for v in values) or (sum_cells and number in sum_cells):
            yield number, values
