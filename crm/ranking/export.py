"""The ranking as an Excel file (月晒季考_<period>.xlsx): the page's table for the same period and
sort, Chinese headers, a title row naming the period, numbers as numbers (亿元 with two decimals,
the on-time rate as a percentage), and a second sheet saying how each column is counted."""
from __future__ import annotations

from typing import BinaryIO

import xlsxwriter
from flask_babel import force_locale

from crm import clock
from crm.dashboard.period import Period
from crm.documents import spreadsheet_response
from crm.interchange.columns import safe_cell
from crm.ranking.queries import METRIC_BY_KEY, METRICS, Request

SHEET = "单位排名"
NOTES_SHEET = "说明"
LEAD_HEADERS = ["名次", "单位", "单位类型", "上期名次", "名次变化"]
HEADERS = LEAD_HEADERS + [m.header for m in METRICS]
UNITS_NOTE = ("列入单位：全部在用单位（乡镇、招商组、园区、部门），本期无数据的单位以 0 列于末尾；"
              "已停用的单位仅在本期有数据时列入。名次相同数值并列（如 1、1、3）；无按时率（—）的单位不参与该项排名。")
EMPTY = "—"


def chinese_label(period: Period) -> str:
    """The period as an official paper writes it: 2026年11月, 2026年第4季度, 2026年, 2026年1月5日至2026年2月3日."""
    start, end = period.start, period.end
    if period.kind == "year":
        return f"{start.year}年"
    if period.kind == "quarter":
        return f"{start.year}年第{period.quarter_number}季度"
    if period.kind == "month":
        return f"{start.year}年{start.month}月"
    return f"{start.year}年{start.month}月{start.day}日至{end.year}年{end.month}月{end.day}日"


def _day(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def write_xlsx(out: BinaryIO, req: Request) -> int:
    workbook = xlsxwriter.Workbook(out, {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False})
    try:
        title = workbook.add_format({"bold": True, "font_size": 14})
        bold = workbook.add_format({"bold": True, "text_wrap": True, "valign": "vcenter", "border": 1})
        plain = workbook.add_format({"border": 1})
        formats = {"count": workbook.add_format({"num_format": "0", "border": 1}),
                   "points": workbook.add_format({"num_format": "0", "border": 1}),
                   "amount": workbook.add_format({"num_format": "0.00", "border": 1}),
                   "rate": workbook.add_format({"num_format": "0.0%", "border": 1}),
                   "change": workbook.add_format({"num_format": "+0;-0;0", "border": 1})}
        sheet = workbook.add_worksheet(SHEET)
        metric = METRIC_BY_KEY[req.sort]
        sheet.merge_range(0, 0, 0, len(HEADERS) - 1, f"月晒季考 · 各单位排名（{chinese_label(req.period)}）", title)
        order = "从高到低" if req.descending else "从低到高"
        sheet.merge_range(1, 0, 1, len(HEADERS) - 1,
                          f"按{metric.header}{order}排名；名次变化与上期（{chinese_label(req.previous)}）按同一指标的名次相比，"
                          f"升为正、降为负。制表日期：{_day(clock.today())}。")
        sheet.merge_range(2, 0, 2, len(HEADERS) - 1, UNITS_NOTE)
        header_row = 3
        for col, header in enumerate(HEADERS):
            sheet.write_string(header_row, col, header, bold)
        with force_locale("zh"):
            for n, row in enumerate(req.rows, start=header_row + 1):
                _number(sheet, n, 0, row.place, formats["count"], plain)
                sheet.write_string(n, 1, safe_cell(row.unit_name), plain)
                sheet.write_string(n, 2, row.unit_kind_label, plain)
                _number(sheet, n, 3, row.previous_place, formats["count"], plain)
                _number(sheet, n, 4, row.change, formats["change"], plain)
                for col, m in enumerate(METRICS, start=len(LEAD_HEADERS)):
                    value = row.figures.get(m.key)
                    if m.kind == "rate" and value is not None:
                        value = value / 100
                    _number(sheet, n, col, value, formats[m.kind], plain)
            sheet.set_column(0, 0, 6)
            sheet.set_column(1, 1, 22)
            sheet.set_column(2, 4, 9)
            sheet.set_column(len(LEAD_HEADERS), len(HEADERS) - 1, 11)
            sheet.set_row(header_row, 32)
            sheet.freeze_panes(header_row + 1, 2)
            notes = workbook.add_worksheet(NOTES_SHEET)
            notes.write_string(0, 0, "列", bold)
            notes.write_string(0, 1, "口径", bold)
            for n, m in enumerate(METRICS, start=1):
                notes.write_string(n, 0, m.header)
                notes.write_string(n, 1, str(m.how))
            notes.write_string(len(METRICS) + 1, 0, "列入单位")
            notes.write_string(len(METRICS) + 1, 1, UNITS_NOTE)
            notes.set_column(0, 0, 16)
            notes.set_column(1, 1, 100)
    finally:
        workbook.close()
    return len(req.rows)


def _number(sheet, row: int, col: int, value, fmt, plain) -> None:
    if value is None:
        sheet.write_string(row, col, EMPTY, plain)
    else:
        sheet.write_number(row, col, value, fmt)


def file_name(req: Request) -> str:
    return f"月晒季考_{chinese_label(req.period)}.xlsx"


def response(req: Request):
    return spreadsheet_response("xlsx", file_name(req), lambda: iter(()), lambda out: write_xlsx(out, req))
