"""The one-time notice (一次性告知书) as a Word file: offices edit, stamp and send it."""
from __future__ import annotations

from docx import Document
from docx.shared import Pt
from flask import Response
from flask_babel import gettext as _

from crm import clock
from crm.documents import docx_response
from crm.screening.models import ScreeningCase


def build_notice(case: ScreeningCase):
    lead = case.lead
    issued = case.closed_at.astimezone(clock.local_zone()).date()
    doc = Document()
    style = doc.styles["Normal"]
    style.font.size = Pt(12)
    doc.add_heading(_("One-time notice of materials required"), level=1)
    doc.add_paragraph(_("To: %(company)s", company=lead.company_name))
    doc.add_paragraph(_("Project: %(project)s (pre-screening round %(round)s, result: %(result)s)",
                        project=lead.project_name or lead.company_name, round=case.round,
                        result=case.result_label))
    items = case.notice_items or []
    if items:
        doc.add_paragraph(_("To continue, please supply all of the following materials at once:"))
        table = doc.add_table(rows=1, cols=3)
        table.style = "Table Grid"
        head = table.rows[0].cells
        head[0].text, head[1].text, head[2].text = "#", _("Material"), _("Asked for by")
        for number, entry in enumerate(items, 1):
            cells = table.add_row().cells
            cells[0].text, cells[1].text, cells[2].text = str(number), entry["item"], "、".join(entry["units"])
    else:
        doc.add_paragraph(_("No further materials are required."))
    conditions = case.remarks()
    if conditions:
        doc.add_paragraph(_("Conditions and reasons given by the member units:"))
        for name, opinion in conditions:
            doc.add_paragraph(f"{name}（{opinion.verdict_label}）：{opinion.conditions or opinion.comment or ''}",
                              style="List Bullet")
    doc.add_paragraph(_("Issued on %(day)s", day=issued.isoformat()))
    return doc


def notice_docx_response(case: ScreeningCase) -> Response:
    return docx_response(build_notice(case), f"notice-{case.id}.docx",
                         f"一次性告知书-{case.lead.company_name}-第{case.round}轮.docx")
