"""The blank interchange file offered on the import page (/imports/template.xlsx): the Chinese
headers of every column an import reads, one example row of the kind of project a county such as
将乐 records, drop-down lists for 阶段 and 线索来源类型, widths to read the headers, and a second
sheet explaining each column. The example row is marked as one: delete it before importing."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import xlsxwriter

from crm import clock
from crm.interchange.columns import COLUMNS
from crm.interchange.export import _KIND_WIDTH, _display_width
from crm.leads.models import SOURCE_KIND_CHINESE
from crm.leads.pipeline import IMPORT_CREATE_STAGES, MAIN_LINE, STAGE_CHINESE, Stage

SHEET_NAME = "线索"
HELP_SHEET = "填写说明"
VALIDATED_ROWS = 5000  # the drop-down lists cover this many rows under the headers

# One lead as a county office would record it after a 乡贤 座谈会 (将乐: 竹木 and 特色农林).
EXAMPLE = {
    "company_name": "（示例，导入前请删除）福建将乐竹韵新材料有限公司",
    "project_name": "竹缠绕复合管道生产线项目",
    "industry": "特色农林",
    "chain_node": "竹木精深加工",
    "source_kind": "乡贤",
    "source_name": "春节乡贤座谈会",
    "origin_region": "浙江省杭州市",
    "planned_investment_wan": Decimal("35000"),
    "fixed_asset_investment_wan": Decimal("28000"),
    "land_area_mu": Decimal("80"),
    "expected_output_wan": Decimal("60000"),
    "expected_tax_wan": Decimal("1200"),
    "high_tech": "是",
    "specialized": "否",
    "patents": 8,
    "rd_ratio": Decimal("3.5"),
    "jobs": 150,
    "owner_unit": "古镛镇",
    "created_on": None,  # the day the template is downloaded (a recording date is never in the future)
    "stage": "洽谈",
    "contact_name": "张建国",
    "contact_title": "董事长",
    "note": "春节座谈会上初步接洽，拟于四月来将乐实地考察",
}

# Stages an ordinary import creates (线索, 洽谈, 终止), then the outcomes an administrator's
# historical ledger import records.
STAGE_CHOICES = ([STAGE_CHINESE[s] for s in MAIN_LINE if s in IMPORT_CREATE_STAGES] + [STAGE_CHINESE[Stage.LOST]]
                 + [STAGE_CHINESE[s] for s in (Stage.SIGNED, Stage.STARTED, Stage.COMPLETED, Stage.PRODUCING,
                                               Stage.ABOVE_SCALE)])
SOURCE_KIND_CHOICES = list(SOURCE_KIND_CHINESE.values())

_HELP = {
    "company_name": "必填；一行写完",
    "uscc": "18位统一社会信用代码，按校验位检查；可空",
    "industry": "产业链名称或代码；系统中没有的产业链，由招商组组长或管理员在导入预览中确认新建",
    "chain_node": "产业链环节名称；同时填写产业链",
    "source_kind": "下拉选择：" + "、".join(SOURCE_KIND_CHINESE.values()),
    "source_name": "如 上海将乐商会；新的来源须填写线索来源类型",
    "planned_investment_wan": "单位万元；也可写 1.2亿、3000万元、5,000",
    "fixed_asset_investment_wan": "单位万元",
    "land_area_mu": "单位亩，大于0",
    "expected_output_wan": "单位万元",
    "expected_tax_wan": "单位万元",
    "high_tech": "是/否",
    "specialized": "是/否",
    "patents": "整数",
    "rd_ratio": "0–100",
    "jobs": "整数",
    "owner_unit": "单位名称；空则为上传时选择的单位",
    "created_on": "日期，如 2026-03-05",
    "stage": "下拉选择；普通导入只接受 线索、洽谈、终止，签约及以后由管理员的历史台账导入",
    "signed_on": "仅历史台账导入",
    "started_on": "仅历史台账导入",
    "lost_reason": "阶段为终止时必填",
    "note": "备注，记入线索的备注",
}


def write_template() -> bytes:
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False})
    bold = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                                "valign": "vcenter"})
    example = workbook.add_format({"font_color": "#7F7F7F", "italic": True})
    example_date = workbook.add_format({"font_color": "#7F7F7F", "italic": True, "num_format": "yyyy-mm-dd"})
    sheet = workbook.add_worksheet(SHEET_NAME)
    for col, column in enumerate(COLUMNS):
        width = max(_display_width(column.header) + 2, _KIND_WIDTH.get(column.kind, 12))
        if column.key in ("company_name", "project_name", "note"):
            width = max(width, 36)
        sheet.set_column(col, col, width)
        sheet.write_string(0, col, column.header, bold)
        value = EXAMPLE.get(column.key) if column.key != "created_on" else clock.today()
        if isinstance(value, date):
            sheet.write_datetime(1, col, value, example_date)
        elif isinstance(value, (int, Decimal)):
            sheet.write_number(1, col, float(value), example)
        elif value is not None:
            sheet.write_string(1, col, value, example)
        if column.key == "stage":
            _list(sheet, col, STAGE_CHOICES, "阶段", "普通导入：线索、洽谈、终止；签约及以后的阶段由管理员的历史台账导入。")
        elif column.key == "source_kind":
            _list(sheet, col, SOURCE_KIND_CHOICES, "线索来源类型", "从列表中选择。")
    sheet.set_row(0, 30)
    sheet.freeze_panes(1, 1)
    _help_sheet(workbook, bold)
    workbook.close()
    return out.getvalue()


def _list(sheet, col: int, choices: list[str], title: str, message: str) -> None:
    sheet.data_validation(1, col, VALIDATED_ROWS, col, {
        "validate": "list", "source": choices, "input_title": title, "input_message": message,
        "error_title": title, "error_message": "请从下拉列表中选择：" + "、".join(choices), "error_type": "stop"})


def _help_sheet(workbook, bold) -> None:
    sheet = workbook.add_worksheet(HELP_SHEET)
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 1, 70)
    sheet.write_string(0, 0, "列", bold)
    sheet.write_string(0, 1, "怎么填", bold)
    row = 1
    for column in COLUMNS:
        sheet.write_string(row, 0, column.header)
        sheet.write_string(row, 1, _HELP.get(column.key, ""), wrap)
        row += 1
    for text in ("列的顺序可以调整，也可以只保留需要的列；表头可以写中文或英文键名。",
                 "合计、小计、总计、累计行会被跳过，不算错误。",
                 "第2行是示例，导入前请删除。"):
        row += 1
        sheet.write_string(row, 0, text)
