"""A bulletin (督查通报) as an official paper (GB/T 9704): the printable page
(templates/bulletins/paper.html) and the Word file read the same content from `bulletin_content`,
which reads only the bulletin's stored snapshot (and its document number and issuer)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import Response
from flask_babel import gettext as _
from flask_babel import pgettext

from crm.bulletins.models import Bulletin
from crm.bulletins.services import period_of, period_words
from crm.documents import docx_response
from crm.formatting import cn_date
from crm.papers.docx import OfficialPaper
from crm.papers.services import PaperHead, bulletin_head

TEXT_WIDTH_MM = 156
FIGURES_PER_TABLE = 5  # a ranking wider than this continues in a second table (续表)


def metric_label(key: str, stored: dict | None = None) -> str:
    """A ranking metric's column heading; a key this map does not know keeps the label the
    ranking gave when the bulletin was made, else the key itself."""
    labels = {
        "signed": pgettext("bulletin", "Signed"),
        "signed_count": pgettext("bulletin", "Signed"),
        "signings": pgettext("bulletin", "Signed"),
        "signed_wan": pgettext("bulletin", "Signed (万元)"),
        "signed_amount_wan": pgettext("bulletin", "Signed (万元)"),
        "signed_yi": pgettext("bulletin", "Signed (亿元)"),
        "signed_amount_yi": pgettext("bulletin", "Signed (亿元)"),
        "signed_amount": pgettext("bulletin", "Signed (亿元)"),
        "started": pgettext("bulletin", "Started"),
        "starts": pgettext("bulletin", "Started"),
        "completed": pgettext("bulletin", "Completed"),
        "completions": pgettext("bulletin", "Completed"),
        "producing": pgettext("bulletin", "In production"),
        "produced": pgettext("bulletin", "In production"),
        "productions": pgettext("bulletin", "In production"),
        "above_scale": pgettext("bulletin", "Above scale (上规)"),
        "points": pgettext("bulletin", "Step points"),
        "step_points": pgettext("bulletin", "Step points"),
        "screening_on_time_rate": pgettext("bulletin", "Screening on time (%)"),
        "on_time_rate": pgettext("bulletin", "Screening on time (%)"),
        "letters": pgettext("bulletin", "Letters received"),
        "letters_received": pgettext("bulletin", "Letters received"),
        "problems_solved": pgettext("bulletin", "Problems solved"),
    }
    if key in labels:
        return labels[key]
    return str((stored or {}).get(key) or key)


def figure_text(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
        return text or "0"
    return str(value)


def change_text(change) -> str:
    """Places up ↑ or down ↓ against the previous period; — when not ranked then."""
    if change is None or isinstance(change, bool) or not isinstance(change, (int, float)):
        return "—"
    if change > 0:
        return f"↑{int(change)}"
    if change < 0:
        return f"↓{int(-change)}"
    return pgettext("bulletin", "no change")


def rate_text(value) -> str:
    return "—" if value is None else f"{figure_text(float(value))}%"


def _day(value: str | None) -> str:
    return cn_date(date.fromisoformat(value)) if value else "—"


@dataclass
class PaperTable:
    key: str
    header: list[str]
    rows: list[list[str]]
    widths: list[float]  # mm, summing to the text block's 156
    caption: str = ""


@dataclass
class PaperPart:
    key: str
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[PaperTable] = field(default_factory=list)


@dataclass
class BulletinContent:
    head: PaperHead
    title: str
    addressee: str
    opening: str
    parts: list[PaperPart]
    closing: str


def _ranking_tables(ranking: dict) -> list[PaperTable]:
    rows, columns, stored = ranking.get("rows") or [], list(ranking.get("columns") or []), ranking.get("labels") or {}
    if not rows:
        return []
    groups = [columns[i:i + FIGURES_PER_TABLE] for i in range(0, len(columns), FIGURES_PER_TABLE)] or [[]]
    tables = []
    for n, group in enumerate(groups):
        lead = [12.0, 36.0, 14.0] if n == 0 else [12.0, 36.0]
        header = ([pgettext("bulletin", "Place"), pgettext("bulletin", "Unit")]
                  + ([pgettext("bulletin", "Change")] if n == 0 else [])
                  + [metric_label(key, stored) for key in group])
        rest = TEXT_WIDTH_MM - sum(lead)
        widths = lead + [round(rest / len(group), 1)] * len(group) if group else [12.0, TEXT_WIDTH_MM - 26.0, 14.0]
        body = []
        for row in rows:
            figures = row.get("figures") or {}
            cells = [figure_text(row.get("place")), str(row.get("unit") or "")]
            if n == 0:
                cells.append(change_text(row.get("change")))
            cells += [figure_text(figures.get(key)) for key in group]
            body.append(cells)
        tables.append(PaperTable("ranking" if n == 0 else f"ranking-{n + 1}", header, body, widths,
                                 caption="" if n == 0 else pgettext("bulletin", "(table continued)")))
    return tables


def bulletin_content(bulletin: Bulletin) -> BulletinContent:
    from crm.letters.models import LETTER_KIND_LABELS
    from crm.problems.models import PROBLEM_CATEGORY_LABELS

    content = bulletin.content or {}
    period = period_of(bulletin)
    words = period_words(period)
    as_of = _day(content.get("as_of")) if content.get("as_of") else cn_date(bulletin.issued_on)
    head = bulletin_head(bulletin, content.get("issuer") or "")
    parts: list[PaperPart] = []

    # 一、月晒季考
    ranking = content.get("ranking") or {}
    part = PaperPart("ranking", pgettext("bulletin", "1. The ranking of the units (月晒季考)"))
    tables = _ranking_tables(ranking)
    if tables:
        part.paragraphs.append(pgettext(
            "bulletin", "The units ranked for %(period)s; the change is the places gained (↑) or lost (↓) against "
                        "the previous period:", period=words))
        part.tables = tables
    else:
        part.paragraphs.append(pgettext("bulletin", "No unit has figures to rank for %(period)s.", period=words))
    parts.append(part)

    # 二、亮红灯项目
    red = content.get("red_projects") or []
    part = PaperPart("red", pgettext("bulletin", "2. Projects with a red light"))
    if red:
        part.paragraphs.append(pgettext(
            "bulletin", "As of %(day)s, %(count)s projects have a red light (亮灯预警), for the reasons below:",
            day=as_of, count=len(red)))
        part.tables.append(PaperTable(
            "red", [pgettext("bulletin", "No."), pgettext("bulletin", "Project"), pgettext("bulletin", "Responsible unit"),
                    pgettext("bulletin", "Red since"), pgettext("bulletin", "Reasons")],
            [[str(n), row.get("project") or "", row.get("unit") or "", _day(row.get("since")),
              "\n".join(f"{i}. {text}" if len(row.get("reasons") or []) > 1 else text
                        for i, text in enumerate(row.get("reasons") or [], 1))]
             for n, row in enumerate(red, 1)],
            [10, 40, 26, 24, 56]))
    else:
        part.paragraphs.append(pgettext("bulletin", "As of %(day)s, no project has a red light.", day=as_of))
    parts.append(part)

    # 三、逾期未反馈的函件
    letters = content.get("overdue_letters") or []
    part = PaperPart("letters", pgettext("bulletin", "3. Letters not answered by their reply date"))
    if letters:
        part.paragraphs.append(pgettext(
            "bulletin", "As of %(day)s, %(count)s reminder, assignment and supervision letters (三函) have passed "
                        "their reply date without a reply:", day=as_of, count=len(letters)))
        part.tables.append(PaperTable(
            "letters", [pgettext("bulletin", "No."), pgettext("bulletin", "Document number"),
                        pgettext("bulletin", "Kind"), pgettext("bulletin", "Project"),
                        pgettext("bulletin", "Addressed to"), pgettext("bulletin", "Reply by"),
                        pgettext("bulletin", "Days overdue")],
            [[str(n), row.get("number") or "", str(LETTER_KIND_LABELS.get(row.get("kind"), row.get("kind") or "")),
              row.get("project") or "", row.get("unit") or "", _day(row.get("reply_due_on")),
              figure_text(row.get("days_overdue"))]
             for n, row in enumerate(letters, 1)],
            [10, 32, 18, 36, 26, 20, 14]))
    else:
        part.paragraphs.append(pgettext("bulletin", "As of %(day)s, no letter is past its reply date.", day=as_of))
    parts.append(part)

    # 四、逾期未解决的问题
    problems = content.get("overdue_problems") or []
    part = PaperPart("problems", pgettext("bulletin", "4. Problems past their due date"))
    if problems:
        part.paragraphs.append(pgettext(
            "bulletin", "As of %(day)s, %(count)s problems raised on projects (问题清单) are past their due date "
                        "and not solved:", day=as_of, count=len(problems)))
        part.tables.append(PaperTable(
            "problems", [pgettext("bulletin", "No."), pgettext("bulletin", "Project"),
                         pgettext("bulletin", "Category"), pgettext("bulletin", "Problem"),
                         pgettext("bulletin", "Responsible unit"), pgettext("bulletin", "Due"),
                         pgettext("bulletin", "Days overdue")],
            [[str(n), row.get("project") or "",
              str(PROBLEM_CATEGORY_LABELS.get(row.get("category"), row.get("category") or "")),
              row.get("description") or "", row.get("unit") or "", _day(row.get("due_on")),
              figure_text(row.get("days_overdue"))]
             for n, row in enumerate(problems, 1)],
            [10, 32, 18, 38, 24, 20, 14]))
    else:
        part.paragraphs.append(pgettext("bulletin", "As of %(day)s, no problem is past its due date.", day=as_of))
    parts.append(part)

    # 五、即时初审时效
    timeliness = content.get("timeliness") or []
    part = PaperPart("timeliness", pgettext("bulletin", "5. Timeliness of the instant pre-screening"))
    if timeliness:
        cases = sum(row.get("cases") or 0 for row in timeliness)
        on_time = sum(row.get("on_time") or 0 for row in timeliness)
        due = sum((row.get("on_time") or 0) + (row.get("late") or 0) + (row.get("missing") or 0) for row in timeliness)
        from crm.dashboard.sections import rate

        part.paragraphs.append(pgettext(
            "bulletin", "For the cases submitted in %(period)s the member units were asked %(cases)s times for "
                        "their opinion and answered %(on_time)s times on time; the on-time rate (answered on time ÷ "
                        "answered or due) is %(rate)s. Per member unit:",
            period=words, cases=cases, on_time=on_time, rate=rate_text(rate(on_time, due))))
        part.tables.append(PaperTable(
            "timeliness", [pgettext("bulletin", "Member unit"), pgettext("bulletin", "Opinions asked"),
                           pgettext("bulletin", "On time"), pgettext("bulletin", "Late"),
                           pgettext("bulletin", "Not answered"), pgettext("bulletin", "Pending"),
                           pgettext("bulletin", "On-time rate"), pgettext("bulletin", "Median hours")],
            [[row.get("unit") or "", figure_text(row.get("cases")), figure_text(row.get("on_time")),
              figure_text(row.get("late")), figure_text(row.get("missing")), figure_text(row.get("pending")),
              rate_text(row.get("on_time_rate")), figure_text(row.get("median_hours"))]
             for row in timeliness],
            [40, 16, 16, 16, 16, 16, 18, 18]))
    else:
        part.paragraphs.append(pgettext("bulletin", "No case was submitted for pre-screening in %(period)s.",
                                        period=words))
    parts.append(part)

    return BulletinContent(
        head=head, title=bulletin.title, addressee=pgettext("bulletin", "Every town and county department concerned"),
        opening=pgettext("bulletin", "The investment attraction work of %(period)s has been checked, with the "
                                     "figures as they stood on %(day)s. The results are announced as follows.",
                         period=words, day=as_of),
        parts=parts,
        closing=pgettext("bulletin", "Each unit is asked to check its work against this bulletin, find the causes "
                                     "of what is behind and correct it within the set time; the projects with a red "
                                     "light and the letters and problems overdue will be followed in the next "
                                     "bulletin."))


def build_bulletin(bulletin: Bulletin) -> OfficialPaper:
    content = bulletin_content(bulletin)
    head = content.head
    paper = OfficialPaper(content.title)
    paper.header(head.issuer_line, head.number, missing_issuer=head.issuer_missing)
    paper.title(content.title)
    paper.addressee(content.addressee)
    paper.para(content.opening)
    for part in content.parts:
        paper.heading(part.heading)
        for text in part.paragraphs:
            paper.para(text)
        for table in part.tables:
            if table.caption:
                paper.para(table.caption, indent=False)
            paper.table(table.header, table.rows, table.widths)
    paper.para(content.closing)
    paper.sign(head.issuer_line, cn_date(head.issued_on))
    return paper


def bulletin_docx_response(bulletin: Bulletin) -> Response:
    return docx_response(build_bulletin(bulletin).doc, f"bulletin-{bulletin.id}.docx", f"{bulletin.title}.docx")
