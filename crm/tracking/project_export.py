"""The project list as an Excel file (项目跟踪_YYYYMMDD.xlsx): the page's filters, Chinese headers."""
from __future__ import annotations

import xlsxwriter

from crm import clock
from crm.documents import spreadsheet_response
from crm.interchange.columns import safe_cell
from crm.lights.models import COLOUR_LABELS, Colour
from crm.leads.pipeline import STAGE_CHINESE, Stage
from crm.tracking.queries import ProjectFilters, all_project_rows

HEADERS = ["项目ID", "企业名称", "项目名称", "责任单位", "产业链", "阶段", "亮灯", "协议总投资（万元）",
           "累计到资（万元）", "逾期节点", "未解决问题数"]
COLOUR_CHINESE = {Colour.GREEN.value: "绿灯", Colour.YELLOW.value: "黄灯", Colour.RED.value: "红灯"}
assert set(COLOUR_CHINESE) == {c.value for c in COLOUR_LABELS}
OVERDUE_CHINESE = {"sign": "签约", "land": "供地", "start": "开工", "complete": "竣工", "produce": "投产",
                   "above_scale": "上规"}


def _row(r) -> list:
    lead = r.lead
    return [lead.id, lead.company_name, lead.project_name or "", lead.owner_unit.name,
            lead.chain.name if lead.chain else "", STAGE_CHINESE.get(Stage(lead.stage), lead.stage),
            COLOUR_CHINESE.get(r.colour or "", ""),
            float(r.contracted_wan) if r.contracted_wan is not None else "", float(r.invested_wan),
            "、".join(OVERDUE_CHINESE.get(m, m) for m in r.overdue), r.open_problems]


def write_xlsx(out, user, filters: ProjectFilters) -> int:
    workbook = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False,
                                         "strings_to_urls": False, "strings_to_numbers": False})
    count = 0
    try:
        bold = workbook.add_format({"bold": True})
        sheet = workbook.add_worksheet("项目跟踪")
        for col, header in enumerate(HEADERS):
            sheet.write_string(0, col, header, bold)
        for count, r in enumerate(all_project_rows(user, filters), start=1):
            for col, value in enumerate(_row(r)):
                if isinstance(value, str):
                    sheet.write_string(count, col, safe_cell(value))
                else:
                    sheet.write_number(count, col, value)
    finally:
        workbook.close()
    return count


def export_response(user, filters: ProjectFilters):
    name = f"项目跟踪_{clock.today():%Y%m%d}.xlsx"
    return spreadsheet_response("xlsx", name, lambda: iter(()), lambda out: write_xlsx(out, user, filters))
