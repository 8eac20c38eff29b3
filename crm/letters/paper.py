"""A letter (提醒函, 交办函, 督办函) as an official paper (GB/T 9704): the printable page
(templates/letters/paper.html) and the Word file read the same content from `letter_content`."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import Response
from flask_babel import gettext as _
from flask_babel import pgettext

from crm.documents import docx_response
from crm.formatting import cn_date, deadline
from crm.letters.models import Letter, LetterKind
from crm.papers.docx import OfficialPaper
from crm.papers.services import PaperHead, letter_head
from crm.tracking.models import Milestone


def milestone_words(value: str) -> str:
    """The milestone as the letter's sentences say it (开工, 投产)."""
    return {Milestone.START.value: pgettext("letter", "construction start"),
            Milestone.PRODUCE.value: pgettext("letter", "production")}.get(value, value)


@dataclass
class LetterContent:
    head: PaperHead
    title: str
    addressee: str
    paragraphs: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    ask: str = ""
    closing: str = ""


def letter_content(letter: Letter) -> LetterContent:
    lead = letter.lead
    project = lead.project_name or lead.company_name
    company = lead.company_name if lead.project_name else ""  # never the company's name twice
    words = milestone_words(letter.milestone)
    planned = cn_date(letter.planned_on)
    reasons: list[str] = []
    if letter.kind == LetterKind.REMINDER:
        title = _("On the %(milestone)s of %(project)s: reminder letter", project=project, milestone=words)
        body = _("Under the investment agreement, %(project)s of %(company)s is planned to reach %(milestone)s "
                 "on %(planned)s. Your unit is asked to prepare for it in good time and see that it happens as "
                 "planned.", project=project, company=company, milestone=words, planned=planned)
    elif letter.kind == LetterKind.ASSIGNMENT:
        days = (letter.issued_on - letter.planned_on).days if letter.planned_on else 0
        title = _("On the %(milestone)s of %(project)s: assignment letter", project=project, milestone=words)
        body = _("Under the investment agreement, %(project)s of %(company)s was planned to reach %(milestone)s "
                 "on %(planned)s; %(days)s days later it has not. The matter is hereby assigned to your unit: "
                 "find out why, take effective measures to move it forward, and report on what was done.",
                 project=project, company=company, milestone=words, planned=planned, days=days)
    else:
        title = _("On %(project)s: supervision letter", project=project)
        body = _("%(project)s of %(company)s lags seriously behind its agreement and its light is red, for "
                 "these reasons:", project=project, company=company)
        reasons = [f"{n}. {line}" for n, line in enumerate(
            [r for r in (letter.reasons or "").splitlines() if r.strip()], 1)]
    paragraphs = [body]
    if letter.kind == LetterKind.SUPERVISION:
        after = _("Your unit is asked to give this its full attention, correct what is behind and bring the "
                  "project back on schedule.")
    else:
        after = ""
    ask = _("Please acknowledge this letter and reply in writing with the progress %(due)s.",
            due=deadline(letter.reply_due_on))
    content = LetterContent(head=letter_head(letter), title=title, addressee=letter.unit.name,
                            paragraphs=paragraphs, reasons=reasons, ask=(after + ask) if after else ask,
                            closing=_("This letter is hereby sent."))
    return content


def build_letter(letter: Letter) -> OfficialPaper:
    content = letter_content(letter)
    head = content.head
    paper = OfficialPaper(content.title)
    paper.header(head.issuer_line, head.number, missing_issuer=head.issuer_missing)
    paper.title(content.title)
    paper.addressee(content.addressee)
    for text in content.paragraphs:
        paper.para(text)
    for line in content.reasons:
        paper.para(line)
    paper.para(content.ask)
    paper.para(content.closing)
    paper.sign(head.issuer_line, cn_date(head.issued_on))
    return paper


def letter_docx_response(letter: Letter) -> Response:
    name = letter.lead.project_name or letter.lead.company_name
    return docx_response(build_letter(letter).doc, f"letter-{letter.id}.docx",
                         f"{letter.kind_label}-{name}.docx")
