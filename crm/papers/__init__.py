"""Official papers (公文): the GB/T 9704 Word builder (`docx.py`), the issuers and number
prefixes (a county setting) and the document numbers (`models.py`, `services.py`)."""
from __future__ import annotations


def init_app(app) -> None:
    """Number papers when their subject closes (crm.signals), and let the printable pages read
    the same content as the Word files."""
    from crm.papers.services import connect_signals

    connect_signals()

    def notice_paper(case):
        from crm.screening.notice import notice_content

        return notice_content(case)

    def minutes_paper(meeting):
        from crm.decisions.minutes import minutes_content

        return minutes_content(meeting)

    app.jinja_env.globals.update(notice_paper=notice_paper, minutes_paper=minutes_paper)
