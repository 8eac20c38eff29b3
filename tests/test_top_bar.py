"""Every page's top bar reads the user's unread notifications, and list pages the grade cut-offs,
in the statement that loads the session user (crm.formatting._top_bar_figures), again only when
the session wrote since."""
from __future__ import annotations

import re

from crm.extensions import db
from tests import factories
from tests.statements import recorded_statements


def test_the_lead_list_reads_the_unread_count_and_the_cutoffs_with_the_session_user(client, db_session):
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
    # It is the statement that reads the session user by its token: none of their own.
    assert "session_token" in notifications[0], seen


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


def test_figures_read_with_the_user_are_read_again_after_the_session_wrote(app, db_session):
    from flask_login import login_user

    from crm.formatting import _top_bar_figures, keep_top_bar_figures
    from crm.notifications.services import mark_read, notify

    officer = factories.user()
    notify([officer.id], "letters_no_calendar", {"year": 2027, "count": 2})
    db.session.flush()
    with app.test_request_context("/"):
        login_user(officer)
        keep_top_bar_figures((5, 0.7, 0.4, 0.2))  # as the user's statement would have read them
        assert _top_bar_figures() == {"unread": 5, "cutoffs": {"A": 0.7, "B": 0.4, "C": 0.2}}
        mark_read(officer.id)  # a Core UPDATE through the session
        assert _top_bar_figures()["unread"] == 0
        keep_top_bar_figures((5, None, None, None))
        notify([officer.id], "letters_no_calendar", {"year": 2028, "count": 1})
        db.session.flush()  # an ORM flush
        assert _top_bar_figures()["unread"] == 1


def test_a_bulk_write_counts_as_a_write(app, db_session):
    from crm import clock
    from crm.bulk import bulk_insert
    from crm.database import writes
    from crm.notifications.models import Notification

    officer = factories.user()
    before = writes(db.session())
    bulk_insert(db.session, Notification.__table__, [
        {"user_id": officer.id, "kind": "letters_no_calendar", "params": {"year": 2029, "count": 1},
         "created_at": clock.now()}])
    assert writes(db.session()) > before
