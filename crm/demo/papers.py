"""Official papers in the demo county: 将乐's issuers and number prefixes, and the numbers of the
papers already issued (every closed pre-screening case's notice and every closed meeting's
minutes, numbered per year in the order they closed, as the office would have numbered them).

Called by crm.demo.seed.seed_demo after the cases and meetings exist; it flushes, never commits.
"""
from __future__ import annotations

from sqlalchemy import select

from crm.decisions.models import Meeting, MeetingStatus
from crm.extensions import db
from crm.papers import services
from crm.screening.models import CaseStatus, ScreeningCase

ISSUERS = {
    "notice_issuer": "将乐县招商服务中心",
    "minutes_issuer": "将乐县招商引资工作领导小组办公室",
    "notice_prefix": "将招初审",
    "minutes_prefix": "将招纪要",
    "letter_issuer": "将乐县招商引资工作领导小组办公室",
    "letter_prefix": "将招督",
}


def seed_papers() -> None:
    services.save_settings(ISSUERS)
    cases = db.session.scalars(select(ScreeningCase).where(ScreeningCase.status == CaseStatus.CLOSED.value,
                                                           ScreeningCase.closed_at.is_not(None))
                               .order_by(ScreeningCase.closed_at, ScreeningCase.id))
    for case in cases:
        services.number_closed_case(case)
    meetings = db.session.scalars(select(Meeting).where(Meeting.status == MeetingStatus.CLOSED.value)
                                  .order_by(Meeting.closed_at, Meeting.meeting_on, Meeting.id))
    for meeting in meetings:
        services.number_closed_meeting(meeting)
    db.session.flush()
