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


def open_table(path: Path, filename: str, spec: HeaderSpec = LEAD_HEADERS) -> Table:
    suffix = Path(filename).suffix.lower()
    if path.stat().st_size == 0:
        raise FileError(_("The file is empty."))
    if suffix == ".xlsx":
        raw_rows = _xlsx_rows(path)
    elif suffix == ".csv":
        raw_rows = _csv_rows(path)
    else:
        raise FileError(_("Upload an .xlsx or .csv file."))
    return _with_headers(raw_rows, merged=_merged_header_cells(path) if suffix == ".xlsx" else [], spec=spec)


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
    return archive


def _first_sheet_name(archive: zipfile.ZipFile) -> str | None:
    names = sorted(n for n in archive.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n))
    return names[0] if names else None


def _merged_header_cells(path: Path) -> list[str]:
    """Ranges merged within the first rows (read_only mode cannot see merges; scan the XML)."""
    with zipfile.ZipFile(path) as archive:
        name = _first_sheet_name(archive)
        if name is None:
            return []
        found, tail = [], b""
        with archive.open(name) as fh:
            while chunk := fh.read(1 << 20):
                data = tail + chunk
                for match in re.finditer(rb'<mergeCell ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"', data):
                    if int(match.group(2)) <= HEADER_SEARCH_ROWS:
                        found.append(match.group(0).decode())
                tail = data[-200:]
        return sorted(set(found))


def _xlsx_rows(path: Path) -> Iterator[list]:
    import openpyxl

    _check_zip(path).close()
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
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
                yield from csv.reader(fh)
            except UnicodeDecodeError:
                raise FileError(_("The CSV file mixes encodings: save it again as UTF-8 or GB18030 text."))
            except csv.Error:
                raise FileError(_("This is not a CSV text file."))

    return rows()


def _looks_like_headers(values: list, spec: HeaderSpec) -> bool:
    keys = [header_key(v) for v in values if v is not None]
    known = [k for k in keys if k in spec.lookup]
    return len(known) >= 2 or any(spec.lookup[k].key == spec.required for k in known)


def _with_headers(raw_rows: Iterator[list], merged: list[str], spec: HeaderSpec = LEAD_HEADERS) -> Table:
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
    return Table(columns=columns, unknown=unknown, header_row=header_row,
                 rows=_non_empty(numbered), headers=[str(h or "") for h in headers])


def _non_empty(raw_rows):
    for number, values in raw_rows:
        if any(v is not None and str(v).strip() != "" for v in values):
            yield number, values
