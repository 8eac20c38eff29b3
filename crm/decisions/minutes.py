"""The minutes (会议纪要) of a meeting as an official paper: the printable page
(templates/decisions/minutes.html) and the Word file read the same content from
`minutes_content`. A meeting in session has draft minutes (草稿, no number); a closed meeting's
minutes carry their number (将招纪要〔2026〕3号)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time

from flask import Response
from flask_babel import get_locale, pgettext
from flask_babel import gettext as _

from crm.decisions.models import Attendee, ItemResult, ItemStatus, Meeting, MeetingStatus
from crm.documents import docx_response
from crm.formatting import cn_date
from crm.papers.docx import OfficialPaper
from crm.papers.services import PaperHead, minutes_head

CN_NUMERALS = "一二三四五六七八九十"
LINE_WIDTHS_MM = [34, 44, 26, 52]  # name, title, vote, detail: 156 mm


@dataclass
class MinutesLine:
    name: str
    title: str
    label: str   # 同意 / 不同意 / 弃权 / 回避 / 未表决 / 缺席
    detail: str  # the stated conflict, the reason, why absent
    status: str


@dataclass
class MinutesItem:
    heading: str            # 一、福建永盛铝业有限公司年产5万吨铝型材项目
    decided: bool
    count: str              # 应到 6 人，实到 5 人 …; "" before the item is decided
    decision: str           # 同意落地 / 不同意落地 / 未决定，转下次会议
    conditions: str
    lines: list[MinutesLine] = field(default_factory=list)


@dataclass
class MinutesContent:
    head: PaperHead
    title: str
    facts: list[tuple[str, str]]  # (时间, 2026年12月5日上午9:30), (地点, …), …
    intro: str
    items: list[MinutesItem]
    line_header: list[str] = field(default_factory=list)  # 姓名 / 职务 / 表决意见 / 说明


def _zh() -> bool:
    return str(get_locale() or "zh").startswith("zh")


def minutes_title(title: str) -> str:
    """X会议纪要 from the meeting's title, without doubling 会议 or 纪要."""
    title = (title or "").strip()
    if not _zh():
        return _("Minutes: %(title)s", title=title)
    if title.endswith("纪要"):
        return title
    if title.endswith("会议") or title.endswith("会"):
        return title + "纪要"
    return title + "会议纪要"


def time_of_day(value: time | None) -> str:
    """上午9:30 / 下午2:30 (Chinese), 09:30 otherwise; "" when the meeting has no time."""
    if value is None:
        return ""
    if not _zh():
        return value.strftime("%H:%M")
    part = "上午" if value.hour < 12 else ("中午" if value.hour == 12 else "下午")
    hour = value.hour if value.hour <= 12 else value.hour - 12
    return f"{part}{hour}:{value.minute:02d}"


def project_title(lead) -> str:
    """The company and its project as one name, never doubled: 福建永盛铝业有限公司年产5万吨铝型材项目."""
    company = (lead.company_name or "").strip()
    project = (lead.project_name or "").strip()
    if not project or project == company:
        return company
    if project.startswith(company):
        return project
    return f"{company}{project}"


def _person(attendee: Attendee, *extra: str) -> str:
    inside = "，".join(part for part in (attendee.title or "", *extra) if part)
    return f"{attendee.user.display_name}（{inside}）" if inside else attendee.user.display_name


def _listing(parts: list[str]) -> str:
    return "、".join(parts) if parts else pgettext("official paper", "None")


def _facts(meeting: Meeting) -> list[tuple[str, str]]:
    attendees = list(meeting.attendees)
    chair = next((a for a in attendees if a.user_id == meeting.chair_id), None)
    present = [_person(a) for a in attendees if a.present]
    absent = [_person(a, a.absence_label) for a in attendees if not a.present]
    observers = "、".join(line.strip() for line in (getattr(meeting, "observers", None) or "").splitlines()
                         if line.strip())
    recorder = (getattr(meeting, "recorder", None) or "").strip()
    when = cn_date(meeting.meeting_on) + time_of_day(getattr(meeting, "start_time", None))
    chair_text = _person(chair) if chair else (meeting.chair.display_name if meeting.chair else "")
    return [
        (pgettext("official paper", "Time"), when),
        (pgettext("official paper", "Place"), meeting.location or pgettext("official paper", "Not recorded")),
        (pgettext("official paper", "Chair"), chair_text or pgettext("official paper", "Not recorded")),
        (pgettext("official paper", "Present"), _listing(present)),
        (pgettext("official paper", "Absent"), _listing(absent)),
        (pgettext("official paper", "Attending without a vote"), observers or pgettext("official paper", "None")),
        (pgettext("official paper", "Recorder"), recorder or pgettext("official paper", "Not recorded")),
    ]


def _count(item) -> str:
    return _("Members %(members)s, present %(present)s, recused %(recused)s; for %(approve)s, against "
             "%(reject)s, abstaining %(abstain)s, not voting %(not_voted)s.",
             members=item.members or 0, present=item.present or 0, recused=item.recused or 0,
             approve=item.approve or 0, reject=item.reject or 0, abstain=item.abstain or 0,
             not_voted=getattr(item, "not_voted", None) or 0)


def _decision(item, meeting: Meeting) -> str:
    if item.status == ItemStatus.CLOSED:
        return (_("Admitted: the project may land") if item.result == ItemResult.PASSED
                else _("Not admitted: the project may not land"))
    if item.status == ItemStatus.DEFERRED or meeting.status == MeetingStatus.CLOSED:
        return _("Not decided; moved to the next meeting")
    return _("Not decided yet (the vote is still open)")


def _lines(item) -> list[MinutesLine]:
    from crm.decisions import voting

    return [MinutesLine(line.name, line.title, line.label, line.detail, line.status)
            for line in voting.member_lines(item)]


def minutes_content(meeting: Meeting, visible=None) -> MinutesContent:
    """`visible`: the items the reader may see (crm.decisions.access); all of them by default."""
    items = []
    for number, item in enumerate(meeting.items if visible is None else visible, 1):
        prefix = f"{CN_NUMERALS[number - 1]}、" if number <= len(CN_NUMERALS) else f"{number}. "
        decided = item.status == ItemStatus.CLOSED
        items.append(MinutesItem(heading=prefix + project_title(item.lead), decided=decided,
                                 count=_count(item) if decided else "", decision=_decision(item, meeting),
                                 conditions=(item.conditions or "").strip() if decided else "",
                                 lines=_lines(item) if decided else []))
    intro = _("The meeting reviewed %(count)s project(s) one by one and voted on each separately. "
              "The minutes follow.", count=len(items))
    return MinutesContent(head=minutes_head(meeting), title=minutes_title(meeting.title), facts=_facts(meeting),
                          intro=intro, items=items, line_header=line_header())


def line_header() -> list[str]:
    return [pgettext("official paper", "Member"), pgettext("official paper", "Position"),
            pgettext("official paper", "Vote"), pgettext("official paper", "Stated reason")]


def build_minutes(meeting: Meeting, visible=None) -> OfficialPaper:
    content = minutes_content(meeting, visible)
    head = content.head
    paper = OfficialPaper(content.title)
    paper.header(head.issuer_line, head.number, missing_issuer=head.issuer_missing,
                 draft_mark=_("Draft (numbered when the meeting closes)") if head.draft else "")
    paper.title(content.title)
    for label, text in content.facts:
        paper.labelled(label, text)
    paper.para(content.intro)
    for item in content.items:
        paper.heading(item.heading)
        if item.count:
            paper.para(item.count, bold_lead=pgettext("official paper", "Tally") + "：")
        paper.para(item.decision, bold_lead=pgettext("official paper", "Decision") + "：")
        if item.conditions:
            paper.para(item.conditions, bold_lead=pgettext("official paper", "Conditions") + "：")
        if item.lines:
            paper.table(content.line_header, [[line.name, line.title, line.label, line.detail] for line in item.lines],
                        LINE_WIDTHS_MM)
    paper.sign(head.issuer_line, cn_date(head.issued_on))
    return paper


def minutes_docx_response(meeting: Meeting, visible=None) -> Response:
    draft = "（草稿）" if meeting.status != MeetingStatus.CLOSED else ""
    return docx_response(build_minutes(meeting, visible).doc, f"minutes-{meeting.id}.docx",
                         f"会议纪要-{meeting.meeting_on.isoformat()}-{meeting.title}{draft}.docx")
