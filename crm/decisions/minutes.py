"""The minutes (会议纪要) of a meeting as a Word file."""
from __future__ import annotations

from docx import Document
from flask import Response
from flask_babel import gettext as _

from crm.decisions.models import Meeting
from crm.documents import docx_response


def build_minutes(meeting: Meeting):
    doc = Document()
    doc.add_heading(_("Minutes: %(title)s", title=meeting.title), level=1)
    place = _("Place")
    doc.add_paragraph(_("Date: %(day)s", day=meeting.meeting_on.isoformat())
                      + (f"　{place}: {meeting.location}" if meeting.location else ""))
    if meeting.chair:
        doc.add_paragraph(_("Chair: %(name)s", name=meeting.chair.display_name))
    present = [a for a in meeting.attendees if a.present]
    absent = [a for a in meeting.attendees if not a.present]
    doc.add_paragraph(_("Present: %(names)s", names="、".join(a.user.display_name for a in present) or "—"))
    if absent:
        doc.add_paragraph(_("Absent: %(names)s", names="、".join(a.user.display_name for a in absent)))
    for number, item in enumerate(meeting.items, 1):
        doc.add_heading(f"{number}. {item.lead.company_name} {item.lead.project_name or ''}", level=2)
        if item.status == "closed":
            doc.add_paragraph(_("Decision: %(result)s. Members %(m)s, present %(p)s, recused %(r)s; for %(a)s, "
                                "against %(x)s, abstaining %(s)s.", result=item.label, m=item.members,
                                p=item.present, r=item.recused, a=item.approve, x=item.reject, s=item.abstain))
            if item.conditions:
                doc.add_paragraph(_("Conditions: %(text)s", text=item.conditions))
            reasons = [f"{v.user.display_name}（{v.choice_label}）：{v.reason}" for v in item.votes if v.reason]
            for line in reasons:
                doc.add_paragraph(line, style="List Bullet")
        else:
            doc.add_paragraph(item.label)
    return doc


def minutes_docx_response(meeting: Meeting) -> Response:
    return docx_response(build_minutes(meeting), f"minutes-{meeting.id}.docx",
                         f"会议纪要-{meeting.meeting_on.isoformat()}-{meeting.title}.docx")
