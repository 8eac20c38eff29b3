"""The 招商作战表 export (DOMAIN.md, "Industry chains"): the target companies of one chain, several
or all, filtered by priority, unit and status, as .xlsx or .csv.

The rows come out of one query, ordered by chain position, node position, priority (high first)
and id, streamed (a server-side cursor on PostgreSQL, YIELD_PER rows at a time) and written one by
one, so memory stays flat however many targets there are:

- .xlsx (write_xlsx): XlsxWriter in constant_memory mode. The summary sheet (汇总) comes first:
  per chain its gap figures (crm.chains.queries: nodes without local firms, landed projects or
  live leads, listed by name), then the exported targets counted per node × status and per
  unit × status. Then one sheet per selected chain (every chain when none is chosen), also when
  it has no rows: a valid sheet with the headers. Headers bold and frozen, a filter on the
  header row. Column widths fit the longest value seen while streaming (CJK counted as two,
  capped at MAX_WIDTH): XlsxWriter writes the <cols> element when the workbook closes, so
  set_column() after the rows is honoured in constant_memory mode (only cells must come in row
  order), and the summary sheet, added first, is filled last with the counts of the rows
  actually written.
- .csv (csv_chunks / write_csv): one file, UTF-8 with a BOM, the same columns and order.

Values are those of TARGET_COLUMNS (crm.chains.columns) in Chinese: 上游/中游/下游, 补链/延链/强链,
高/中/低, 未接触/已接触/已转线索/已放弃, the unit's name, the officer's full name (user name when
empty), the lead's id as a number. Text is made safe (safe_cell: a leading = + - @ tab or CR gets
a ') and cut to Excel's 32,767 characters per cell; XlsxWriter escapes control characters.
"""
from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import xlsxwriter
from flask import Response
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from crm import clock
from crm.request_guard import DB_INT_MAX
from crm.auth.models import Unit, User
from crm.chains.columns import TARGET_COLUMNS
from crm.chains.models import (
    INTENT_CHINESE, PRIORITY_CHINESE, TARGET_STATUS_CHINESE, TIER_CHINESE, Chain, ChainNode, Target,
    TargetStatus)
from crm.chains.queries import COVERED, GAP, IN_PROGRESS, chain_gaps, node_figures
from crm.documents import spreadsheet_response
from crm.extensions import db
from crm.interchange import export as interchange
from crm.interchange.columns import FORMULA_PREFIXES, safe_cell

YIELD_PER = 2000
FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
SUMMARY_SHEET = "汇总"
EXCEL_CELL_MAX = 32_767   # characters in one cell
SHEET_NAME_MAX = 31       # characters in a sheet name
MAX_WIDTH = 60            # widest column, in Excel character units
MIN_WIDTH = 6
HEADERS = [c.header for c in TARGET_COLUMNS]
STATUS_ORDER = [TargetStatus.NOT_CONTACTED, TargetStatus.CONTACTED, TargetStatus.CONVERTED, TargetStatus.DROPPED]
COVERAGE_CHINESE = {COVERED: "已覆盖", IN_PROGRESS: "在谈", GAP: "缺口"}


# --- filters ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TargetFilters:
    """Which targets to export; an empty tuple means all (every chain, priority, unit, status)."""

    chain_ids: tuple[int, ...] = ()
    priorities: tuple[str, ...] = ()   # Priority codes
    unit_ids: tuple[int, ...] = ()
    statuses: tuple[str, ...] = ()     # TargetStatus codes

    def __post_init__(self):
        for name in ("chain_ids", "priorities", "unit_ids", "statuses"):
            object.__setattr__(self, name, tuple(dict.fromkeys(getattr(self, name))))  # tuple, no repeats

    def conditions(self) -> list:
        out = []
        if self.chain_ids:
            out.append(ChainNode.chain_id.in_(self.chain_ids))
        if self.priorities:
            out.append(Target.priority.in_(self.priorities))
        if self.unit_ids:
            out.append(Target.unit_id.in_(self.unit_ids))
        if self.statuses:
            out.append(Target.status.in_(self.statuses))
        return out


class FilterError(ValueError):
    """A filter value that names nothing; the message is for the user (translated)."""


def _values(values: Iterable) -> list[str]:
    if values is None or isinstance(values, (str, int)):
        values = [] if values is None else [values]
    return [str(v).strip() for v in values if v is not None and str(v).strip()]


def _shown(values: list[str]) -> str:
    return ", ".join(v[:60] for v in values[:5])


def _ids_for(model, columns, values: Iterable, unknown_message) -> tuple[int, ...]:
    """Rows of `model` by id or any of `columns`, in that order; FilterError names the unknown."""
    ids, unknown = [], []
    for value in _values(values):
        conditions = [column == value for column in columns]
        if value.isascii() and value.isdigit() and int(value) <= DB_INT_MAX:  # not ², nor past BIGINT
            conditions.insert(0, model.id == int(value))
        found = db.session.scalar(select(model.id).where(or_(*conditions)).limit(1))
        (ids if found is not None else unknown).append(found if found is not None else value)
    if unknown:
        raise FilterError(unknown_message(_shown(unknown)))
    return tuple(ids)


def chain_ids_for(values: Iterable) -> tuple[int, ...]:
    """Chains by id, code or name (in that order); FilterError names the unknown ones."""
    return _ids_for(Chain, (Chain.code, Chain.name), values,
                    lambda shown: _("Unknown industry chain: %(values)s.", values=shown))


def unit_ids_for(values: Iterable) -> tuple[int, ...]:
    """Units by id or name; FilterError names the unknown ones."""
    return _ids_for(Unit, (Unit.name,), values, lambda shown: _("Unknown unit: %(values)s.", values=shown))


def _codes(values: Iterable, chinese: dict) -> tuple[tuple[str, ...], list[str]]:
    by_name = {str(code): str(code) for code in chinese}
    by_name.update({name: str(code) for code, name in chinese.items()})
    codes, unknown = [], []
    for value in _values(values):
        code = by_name.get(value) or by_name.get(value.lower())
        (codes if code else unknown).append(code or value)
    return tuple(codes), unknown


def priority_codes(values: Iterable) -> tuple[str, ...]:
    """Priorities by code (high, medium, low) or Chinese name (高, 中, 低)."""
    codes, unknown = _codes(values, PRIORITY_CHINESE)
    if unknown:
        raise FilterError(_("Unknown priority: %(values)s (use high, medium or low).", values=_shown(unknown)))
    return codes


def status_codes(values: Iterable) -> tuple[str, ...]:
    """Target statuses by code (not_contacted, …) or Chinese name (未接触, …)."""
    codes, unknown = _codes(values, TARGET_STATUS_CHINESE)
    if unknown:
        raise FilterError(_("Unknown target status: %(values)s (use %(choices)s).", values=_shown(unknown),
                            choices=", ".join(s.value for s in STATUS_ORDER)))
    return codes


def resolve_filters(chains: Iterable = (), priorities: Iterable = (), units: Iterable = (),
                    statuses: Iterable = ()) -> TargetFilters:
    """TargetFilters from what a user typed (ids, codes or names); FilterError on the first
    kind that names something unknown."""
    return TargetFilters(chain_ids=chain_ids_for(chains), priorities=priority_codes(priorities),
                         unit_ids=unit_ids_for(units), statuses=status_codes(statuses))


def filters_from_args(args, chain_id: int | None = None) -> TargetFilters:
    """From a query string: repeatable chain=, priority=, unit=, status= (ids, codes or names;
    empty values ignored). chain_id (a URL's chain) replaces any chain= given."""
    chains = [chain_id] if chain_id is not None else args.getlist("chain")
    return resolve_filters(chains, args.getlist("priority"), args.getlist("unit"), args.getlist("status"))


def selected_chains(filters: TargetFilters) -> list[Chain]:
    """The chains the export covers, in chain order: the chosen ones, or every chain."""
    stmt = select(Chain).order_by(Chain.position, Chain.id)
    if filters.chain_ids:
        stmt = stmt.where(Chain.id.in_(filters.chain_ids))
    return list(db.session.scalars(stmt))


# --- rows ---------------------------------------------------------------------------------------
_OFFICER = func.coalesce(func.nullif(User.full_name, ""), User.username)


def target_query(filters: TargetFilters, chain_ids: Iterable[int] | None = None):
    """chain id, node id, status code, then the TARGET_COLUMNS values (codes not yet Chinese)."""
    stmt = (select(Chain.id, ChainNode.id, Target.status,
                   Chain.name, ChainNode.name, ChainNode.tier, Target.company_name, Target.uscc,
                   Target.location, Target.reason, Target.note, Target.priority, Unit.name, _OFFICER,
                   Target.status, Target.lead_id)
            .select_from(Target)
            .join(ChainNode, ChainNode.id == Target.node_id)
            .join(Chain, Chain.id == ChainNode.chain_id)
            .join(Unit, Unit.id == Target.unit_id)
            .outerjoin(User, User.id == Target.officer_id)
            .where(*filters.conditions())
            .order_by(Chain.position, Chain.id, ChainNode.position, ChainNode.id, Target.priority_rank,
                      Target.id))
    if chain_ids is not None:
        stmt = stmt.where(ChainNode.chain_id.in_(list(chain_ids)))
    return stmt


def _stream(filters: TargetFilters, chain_ids: Iterable[int] | None = None) -> Iterator[tuple]:
    """(chain id, node id, status code, values) per target, values in TARGET_COLUMNS order."""
    tier, intent, priority, status = (dict(TIER_CHINESE), dict(INTENT_CHINESE), dict(PRIORITY_CHINESE),
                                      dict(TARGET_STATUS_CHINESE))
    stmt = target_query(filters, chain_ids).execution_options(yield_per=YIELD_PER)
    # The session's connection: its transaction (and, in tests, the test's data). yield_per
    # makes a server-side cursor on PostgreSQL.
    result = db.session.connection().execute(stmt)
    try:
        for (chain_id, node_id, code, chain, node, t, company, uscc, location, reason, note, prio, unit,
             officer, st, lead_id) in result:
            yield chain_id, node_id, code, [
                chain, node, tier.get(t, t), company, uscc, location, intent.get(reason, reason), note,
                priority.get(prio, prio), unit, officer, status.get(st, st), lead_id]
    finally:
        result.close()  # ends the server-side cursor if the consumer stops early


def export_rows(filters: TargetFilters) -> Iterator[list]:
    """The header (Chinese), then one value list per target, in export order. Values are raw:
    the writers make text safe."""
    yield list(HEADERS)
    for _chain, _node, _status, values in _stream(filters):
        yield values


# --- CSV ----------------------------------------------------------------------------------------
def csv_chunks(filters: TargetFilters) -> Iterator[bytes]:
    """The whole export as one CSV: UTF-8 with a BOM, \\r\\n line ends, safe text, in chunks."""
    return interchange.csv_chunks(export_rows(filters))


def write_csv(out: BinaryIO, filters: TargetFilters) -> int:
    """Write the CSV to a binary file; returns the number of targets written."""
    return interchange.write_csv(export_rows(filters), out)


# --- XLSX ---------------------------------------------------------------------------------------
_WORKBOOK_OPTIONS = {
    "constant_memory": True,
    # write_string never makes formulas or links; keep XlsxWriter from guessing anywhere else.
    "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
}
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\\x00-\x1f\x7f]")


def display_width(text: str) -> int:
    """Width in Excel character units: CJK and full-width characters take two."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def excel_text(value: str) -> str:
    """Text as a cell may hold it: never a formula, at most 32,767 characters."""
    value = safe_cell(value)
    return value[:EXCEL_CELL_MAX] if len(value) > EXCEL_CELL_MAX else value


def sheet_name(name: str, used: set[str], fallback: str = "产业链") -> str:
    """A name Excel accepts: []:*?/\\ and control characters removed, no apostrophe at either
    end, at most 31 characters (UTF-16 units, as Excel counts), unique ignoring case."""
    base = _BAD_SHEET_CHARS.sub("", str(name or "")).strip().strip("'").strip() or fallback
    if base.lower() == "history":  # reserved by Excel
        base += "_"
    candidate, n = _cut_utf16(base, SHEET_NAME_MAX), 1
    while candidate.lower() in used:
        n += 1
        suffix = f"({n})"
        candidate = _cut_utf16(base, SHEET_NAME_MAX - len(suffix)).rstrip("'") + suffix
    used.add(candidate.lower())
    return candidate


def _cut_utf16(text: str, limit: int) -> str:
    out, size = [], 0
    for ch in text:
        size += 2 if ord(ch) > 0xFFFF else 1
        if size > limit:
            break
        out.append(ch)
    return "".join(out)


class _ChainSheet:
    """One chain's sheet: header, rows as they stream, widths fitted at the end."""

    def __init__(self, workbook, name: str, bold):
        self.sheet = workbook.add_worksheet(name)
        self.widths = [max(MIN_WIDTH, display_width(h) + 2) for h in HEADERS]
        self.rows = 0
        for col, header in enumerate(HEADERS):
            self.sheet.write_string(0, col, header, bold)
        self.sheet.freeze_panes(1, 0)

    def finish(self) -> None:
        for col, width in enumerate(self.widths):
            self.sheet.set_column(col, col, min(width + 1, MAX_WIDTH))
        self.sheet.autofilter(0, 0, self.rows, len(HEADERS) - 1)


def _write_targets(sheets: dict[int, _ChainSheet], rows: Iterator[tuple], by_node, by_unit) -> int:
    """The export's inner loop: each row to its chain's sheet, one typed write per non-empty
    cell, widths tracked with as little work per cell as possible, counts per node and unit."""
    total = 0
    current = None
    sheet = write_string = write_number = widths = None
    r = 0
    for chain_id, node_id, status, values in rows:
        if chain_id != current:
            if sheet is not None:
                sheet.rows = r
            current, sheet = chain_id, sheets[chain_id]
            write_string, write_number, widths, r = (sheet.sheet.write_string, sheet.sheet.write_number,
                                                     sheet.widths, sheet.rows)
        r += 1
        total += 1
        by_node[node_id][status] += 1
        by_unit[values[9]][status] += 1
        for c, value in enumerate(values):
            if value is None:
                continue
            if type(value) is str:
                if value.startswith(FORMULA_PREFIXES):
                    value = "'" + value
                n = len(value)
                if n > EXCEL_CELL_MAX:
                    value, n = value[:EXCEL_CELL_MAX], EXCEL_CELL_MAX
                write_string(r, c, value)
                # A string is at most twice its length wide: most cells skip the exact count.
                if n + n > widths[c] and widths[c] < MAX_WIDTH:
                    w = display_width(value[:MAX_WIDTH])
                    if w > widths[c]:
                        widths[c] = w
            else:
                write_number(r, c, value)
                if widths[c] < 12:
                    widths[c] = max(widths[c], len(str(value)))
    if sheet is not None:
        sheet.rows = r
    return total


def write_xlsx(out, filters: TargetFilters) -> int:
    """Write the workbook to a path or a seekable binary file; returns the number of targets.

    Sheets: 汇总 (gap figures and counts), then one per selected chain in chain order (every
    chain when filters.chain_ids is empty), each with the Chinese headers even when empty."""
    chains = selected_chains(filters)
    chain_ids = [c.id for c in chains]
    figures = node_figures(chain_ids)
    gaps = chain_gaps(chains, figures)
    filter_text = describe_filters(filters)
    by_node: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_unit: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    workbook = xlsxwriter.Workbook(out, _WORKBOOK_OPTIONS)
    try:
        bold = workbook.add_format({"bold": True})
        summary = workbook.add_worksheet(SUMMARY_SHEET)  # first in the book, filled last
        used = {SUMMARY_SHEET.lower()}
        sheets = {c.id: _ChainSheet(workbook, sheet_name(c.name, used, f"产业链{c.id}"), bold) for c in chains}
        total = _write_targets(sheets, _stream(filters, chain_ids), by_node, by_unit) if chains else 0
        for sheet in sheets.values():
            sheet.finish()
        _write_summary(workbook, summary, bold, gaps, figures, by_node, by_unit, filter_text, total)
    finally:
        workbook.close()
    return total


# --- summary sheet ------------------------------------------------------------------------------
def describe_filters(filters: TargetFilters) -> str:
    """产业链：全部；优先级：高、中；… — the filters in words, for the summary sheet."""
    def names(model, ids):
        if not ids:
            return "全部"
        found = dict(db.session.execute(select(model.id, model.name).where(model.id.in_(ids))).all())
        return "、".join(found.get(i, str(i)) for i in ids)

    parts = [("产业链", names(Chain, filters.chain_ids)),
             ("优先级", "、".join(PRIORITY_CHINESE.get(p, p) for p in filters.priorities) or "全部"),
             ("责任单位", names(Unit, filters.unit_ids)),
             ("对接状态", "、".join(TARGET_STATUS_CHINESE.get(s, s) for s in filters.statuses) or "全部")]
    return "；".join(f"{label}：{value}" for label, value in parts)


def _write_summary(workbook, sheet, bold, gaps, figures, by_node, by_unit, filter_text: str, total: int) -> None:
    title = workbook.add_format({"bold": True, "font_size": 14})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    widths: dict[int, int] = defaultdict(lambda: MIN_WIDTH)

    def put(row: int, col: int, value, fmt=None, wide: bool = False):
        if value is None or value == "":
            return
        if isinstance(value, str):
            value = excel_text(value)
            sheet.write_string(row, col, value, fmt)
            w = display_width(value[:MAX_WIDTH])
        else:
            sheet.write_number(row, col, value, fmt)
            w = len(str(value))
        if not wide:
            widths[col] = max(widths[col], w + 2)

    def header(row: int, labels: list[str]):
        for col, label in enumerate(labels):
            put(row, col, label, bold)

    now = clock.now().astimezone(clock.local_zone())
    sheet.write_string(0, 0, "招商作战表汇总", title)
    put(1, 0, "导出时间", bold, wide=True)
    put(1, 1, now.strftime("%Y-%m-%d %H:%M"), wide=True)
    put(2, 0, "筛选条件", bold, wide=True)
    put(2, 1, filter_text, wide=True)
    put(3, 0, "目标企业数", bold, wide=True)
    put(3, 1, total, wide=True)
    r = 5

    # 1. gaps per chain
    put(r, 0, "产业链缺口（缺口环节：无本地企业、无落地项目、无在谈线索）", bold, wide=True)
    r += 1
    header(r, ["产业链", "环节数", "已覆盖环节", "在谈环节", "缺口环节数", "缺口环节", "在谈环节名称", "目标企业数"])
    r += 1
    for g in gaps:
        covered = sum(1 for n in g.chain.nodes if figures.get(n.id) and figures[n.id].coverage == COVERED)
        chain_total = sum(sum(by_node[n.id].values()) for n in g.chain.nodes if n.id in by_node)
        put(r, 0, g.chain.name)
        put(r, 1, g.nodes)
        put(r, 2, covered)
        put(r, 3, len(g.in_progress))
        put(r, 4, len(g.gaps))
        put(r, 5, "、".join(n.name for n in g.gaps), wrap)
        put(r, 6, "、".join(n.name for n in g.in_progress), wrap)
        put(r, 7, chain_total)
        r += 1
    r += 1

    # 2. targets per node and status (every node of the selected chains, zeros included)
    statuses = [TARGET_STATUS_CHINESE[s] for s in STATUS_ORDER]
    put(r, 0, "按环节统计目标企业", bold, wide=True)
    r += 1
    header(r, ["产业链", "产业链环节", "链位", "覆盖情况", "本地企业", "在谈线索", *statuses, "合计"])
    r += 1
    for g in gaps:
        for node in g.chain.nodes:
            fig = figures.get(node.id)
            counts = by_node.get(node.id, {})
            put(r, 0, g.chain.name)
            put(r, 1, node.name)
            put(r, 2, TIER_CHINESE.get(node.tier, node.tier))
            put(r, 3, COVERAGE_CHINESE.get(fig.coverage) if fig else "")
            put(r, 4, fig.firms if fig else 0)
            put(r, 5, fig.live_leads if fig else 0)
            for i, status in enumerate(STATUS_ORDER):
                put(r, 6 + i, counts.get(status, 0))
            put(r, 6 + len(STATUS_ORDER), sum(counts.values()))
            r += 1
    r += 1

    # 3. targets per unit and status
    put(r, 0, "按责任单位统计目标企业", bold, wide=True)
    r += 1
    header(r, ["责任单位", *statuses, "合计"])
    r += 1
    sums = defaultdict(int)
    for unit in sorted(by_unit):
        counts = by_unit[unit]
        put(r, 0, unit)
        for i, status in enumerate(STATUS_ORDER):
            put(r, 1 + i, counts.get(status, 0))
            sums[status] += counts.get(status, 0)
        put(r, 1 + len(STATUS_ORDER), sum(counts.values()))
        r += 1
    put(r, 0, "合计", bold)
    for i, status in enumerate(STATUS_ORDER):
        put(r, 1 + i, sums[status], bold)
    put(r, 1 + len(STATUS_ORDER), sum(sums.values()), bold)

    for col, width in widths.items():
        sheet.set_column(col, col, min(width, MAX_WIDTH))


# --- web ----------------------------------------------------------------------------------------
_BAD_FILENAME_CHARS = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def download_name(filename_stem: str, fmt: str) -> str:
    """招商作战表_新能源_20261121.xlsx: the stem made safe for file systems, dated in the
    county's time."""
    stem = _BAD_FILENAME_CHARS.sub("_", str(filename_stem or "")).strip(" ._")[:80] or "招商作战表"
    today = clock.today().strftime("%Y%m%d")
    return f"{stem}_{today}.{fmt}"


def export_response(filters: TargetFilters, fmt: str, filename_stem: str) -> Response:
    """The download for a web or API view. csv is streamed while it is read from the database;
    xlsx is written to an unnamed temp file first (XlsxWriter seeks back to finish the zip),
    then sent from it; the file disappears when the response closes it.
    fmt must be one of FORMATS (ValueError otherwise: check it in the view)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    return spreadsheet_response(fmt, download_name(filename_stem, fmt), lambda: csv_chunks(filters),
                                lambda spool: write_xlsx(spool, filters))
