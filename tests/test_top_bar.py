"""Every page's top bar reads the user's unread notifications, and list pages the grade cut-offs,
in one statement per request (crm.formatting._top_bar_figures)."""
from __future__ import annotations

import re

from crm.extensions import db
from tests import factories
from tests.statements import recorded_statements


def test_the_lead_list_reads_the_unread_count_and_the_cutoffs_in_one_statement(client, db_session):
    from crm.notifications.services import notify
    from crm.scoring.settings import save_cutoffs

    officer = factories.user()
    save_cutoffs(0.55, 0.3, 0.1)
    notify([officer.id], "letters_no_calendar", {"year": 2027, "count": 2})
    notify([officer.id], "letters_no_calendar", {"year": 2028, "count": 1})
    db.session.flush()
    client.login(officer)
    with recorded_statements() as seen:
        html = client.get("/leads").get_data(as_text=True)
    assert 'data-testid="unread-count">2<' in html
    assert re.search(r'data-testid="grade-cutoffs">[^<]*55%', html)
    notifications = [s for s in seen if "notifications" in s]
    settings = [s for s in seen if "scoring_settings" in s]
    assert len(notifications) == 1 and notifications == settings, seen


def test_a_page_without_grades_still_counts_the_unread(client, db_session):
    from crm.notifications.services import mark_read, notify

    officer = factories.user()
    notify([officer.id], "letters_no_calendar", {"year": 2027, "count": 2})
    db.session.flush()
    client.login(officer)
    assert 'data-testid="unread-count">1<' in client.get("/").get_data(as_text=True)
    mark_read(officer.id)
    db.session.flush()
    assert 'data-testid="unread-count"' not in client.get("/").get_data(as_text=True)
