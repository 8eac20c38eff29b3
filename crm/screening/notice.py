"""The one-time notice (一次性告知书) of a closed pre-screening case, as an official paper: the
printable page (templates/screening/notice.html) and the Word file offices edit, stamp and send
read the same content from `notice_content`."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import Response
from flask_babel import gettext as _
from flask_babel import pgettext

from crm.documents import docx_response
from crm.formatting import cn_date
from crm.papers.docx import OfficialPaper
from crm.papers.services import PaperHead, notice_head
from crm.screening.models import ScreeningCase


@dataclass
class NoticeContent:
    head: PaperHead
    title: str
    addressee: str
    intro: str
    materials: list[tuple[int, str, str]] = field(default_factory=list)  # (n, material, units asking)
    remarks: list[str] = field(default_factory=list)                     # "县发改局（不同意）：…"
    closing: str = ""


def notice_content(case: ScreeningCase) -> NoticeContent:
    lead = case.lead
    units = "、".join(cu.unit.name for cu in case.units)
    intro = _("Your %(project)s (pre-screening round %(round)s) was reviewed by the %(count)s member units "
              "%(units)s. Result: %(result)s.", project=lead.project_name or pgettext("official paper", "project"), round=case.round,
              count=len(case.units), units=units, result=case.result_label)
    materials = [(n, entry["item"], "、".join(entry["units"])) for n, entry in enumerate(case.notice_items or [], 1)]
    remarks = [f"{n}. {name}（{opinion.verdict_label}）：{opinion.conditions or opinion.comment or ''}"
               for n, (name, opinion) in enumerate(case.remarks(), 1)]
    return NoticeContent(head=notice_head(case), title=_("One-time notice of pre-screening"),
                         addressee=lead.company_name, intro=intro, materials=materials, remarks=remarks,
                         closing=_("We hereby notify you."))


def build_notice(case: ScreeningCase) -> OfficialPaper:
    content = notice_content(case)
    head = content.head
    paper = OfficialPaper(content.title)
    paper.header(head.issuer_line, head.number, missing_issuer=head.issuer_missing)
    paper.title(content.title)
    paper.addressee(content.addressee)
    paper.para(content.intro)
    if content.materials:
        paper.para(_("To continue, please supply all of the following materials at once:"))
        paper.table([pgettext("official paper", "No."), _("Material"), _("Asked for by")],
                    [[str(n), item, units] for n, item, units in content.materials], [16, 86, 54])
    else:
        paper.para(_("No further materials are required."))
    if content.remarks:
        paper.para(_("Conditions and reasons given by the member units:"))
        for line in content.remarks:
            paper.para(line)
    paper.para(content.closing)
    paper.sign(head.issuer_line, cn_date(head.issued_on))
    return paper


def notice_docx_response(case: ScreeningCase) -> Response:
    return docx_response(build_notice(case).doc, f"notice-{case.id}.docx",
                         f"一次性告知书-{case.lead.company_name}-第{case.round}轮.docx")
