"""The cockpit's stage_reached projection: the rule (a pure function, table of cases) and that every
writer keeps it true — a stage move by hand, a milestone actual recorded later, a bulk import."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from crm.dashboard.stage_dates import compute, rebuild
from crm.extensions import db
from crm.leads.models import StageReached
from tests import factories

NOW = "2026-11-30T10:00:00+08:00"


@pytest.fixture(autouse=True)
def _clock(clock_at):
    clock_at(NOW)


def utc(y, m, d, h=12):
    return datetime(y, m, d, h, tzinfo=timezone.utc)


CASES = [
    # (changes, actuals, lead dates, expected {stage: (day, implied)})
    ("first move into a stage counts, not a later return to it",
     [("negotiating", utc(2026, 1, 5)), ("screening", utc(2026, 2, 1)), ("returned", utc(2026, 2, 3)),
      ("negotiating", utc(2026, 2, 10)), ("screening", utc(2026, 3, 1))], [], {},
     {"negotiating": (date(2026, 1, 5), False), "screening": (date(2026, 2, 1), False),
      "returned": (date(2026, 2, 3), False)}),
    ("the county's date: 17:00 UTC is the next day in Beijing",
     [("negotiating", utc(2026, 3, 1, 17))], [], {}, {"negotiating": (date(2026, 3, 2), False)}),
    ("a recorded actual beats the day the stage was moved",
     [("negotiating", utc(2025, 1, 1)), ("screening", utc(2025, 2, 1)), ("awaiting_decision", utc(2025, 2, 5)),
      ("admitted", utc(2025, 3, 1)), ("signed", utc(2025, 6, 1))], [("sign", date(2025, 4, 20))], {},
     {"negotiating": (date(2025, 1, 1), False), "screening": (date(2025, 2, 1), False),
      "awaiting_decision": (date(2025, 2, 5), False), "admitted": (date(2025, 3, 1), False),
      "signed": (date(2025, 4, 20), False)}),
    ("the lead's own 签约/开工 dates beat the move's day; skipped stages are implied",
     [("signed", utc(2024, 9, 1)), ("started", utc(2024, 9, 1))], [],
     {"signed": date(2024, 5, 6), "started": date(2024, 8, 8)},
     {"negotiating": (date(2024, 5, 6), True), "screening": (date(2024, 5, 6), True),
      "awaiting_decision": (date(2024, 5, 6), True), "admitted": (date(2024, 5, 6), True),
      "signed": (date(2024, 5, 6), False), "started": (date(2024, 8, 8), False)}),
    ("side exits are kept; nothing implied below a lead that never got far",
     [("negotiating", utc(2026, 4, 1)), ("lost", utc(2026, 5, 1))], [], {"signed": None, "started": None},
     {"negotiating": (date(2026, 4, 1), False), "lost": (date(2026, 5, 1), False)}),
    ("an actual with no stage (供地) adds nothing",
     [("admitted", utc(2026, 1, 1))], [("land", date(2026, 2, 2))], {},
     {"negotiating": (date(2026, 1, 1), True), "screening": (date(2026, 1, 1), True),
      "awaiting_decision": (date(2026, 1, 1), True), "admitted": (date(2026, 1, 1), False)}),
]


@pytest.mark.parametrize("name,changes,actuals,lead_dates,expected", CASES, ids=[c[0] for c in CASES])
def test_compute(app, name, changes, actuals, lead_dates, expected):
    with app.app_context():
        assert compute(changes, actuals, lead_dates) == expected


def _rows(lead_id: int) -> dict:
    return {r.stage: (r.reached_on, r.implied) for r in db.session.scalars(
        select(StageReached).where(StageReached.lead_id == lead_id))}


def test_a_stage_move_by_hand_is_projected_at_the_commit(client, db_session):
    officer = factories.user(roles=["officer"])
    client.login(officer)
    lead = factories.lead(owner=officer)
    response = client.post(f"/leads/{lead.id}/stage", {"to_stage": "negotiating", "on_date": "2026-11-20",
                                                        "reason": "", "version": ""})
    assert response.status_code == 302
    # A move out of the milestone stages is dated the day it was recorded (the history's time).
    from crm.leads.models import LeadStageChange

    change = db.session.scalar(select(LeadStageChange).where(LeadStageChange.lead_id == lead.id))
    recorded = change.changed_at.replace(tzinfo=change.changed_at.tzinfo or timezone.utc)
    assert _rows(lead.id) == {"negotiating": (recorded.astimezone(timezone(timedelta(hours=8))).date(), False)}


def test_an_actual_recorded_after_the_move_corrects_the_day(client, db_session):
    officer = factories.user(roles=["officer"])
    client.login(officer)
    lead = factories.lead(owner=officer)
    lead.stage = "admitted"
    db.session.flush()
    assert client.post(f"/leads/{lead.id}/stage", {"to_stage": "signed", "on_date": "2026-11-02",
                                                    "reason": "", "version": ""}).status_code == 302
    assert _rows(lead.id)["signed"] == (date(2026, 11, 2), False)
    # 开工 recorded on the project page: the stage moves and the day is the actual's.
    response = client.post(f"/projects/{lead.id}/milestones", {"milestone": "start", "actual_on": "2026-11-25", "note": ""})
    assert response.status_code == 302
    assert _rows(lead.id)["started"] == (date(2026, 11, 25), False)


def test_rebuild_agrees_with_the_receivers_and_is_idempotent(client, db_session):
    officer = factories.user(roles=["officer"])
    client.login(officer)
    lead = factories.lead(owner=officer)
    client.post(f"/leads/{lead.id}/stage", {"to_stage": "negotiating", "on_date": "2026-11-20", "reason": "", "version": ""})
    before = _rows(lead.id)
    assert rebuild([lead.id]) == 1
    assert rebuild([lead.id]) == 1
    assert _rows(lead.id) == before


def test_a_bulk_import_projects_its_new_leads(client, db_session):
    """The importer inserts leads and their history in bulk (no change_stage): the signal it sends
    has them projected before the import's commit."""
    from crm.leads.models import Lead
    from tests.import_files import row, xlsx
    from tests.test_import import _confirm, _preview

    team_lead = factories.user(roles=["team_lead"])
    factories.source("上海将乐商会", kind="chamber")
    client.login(team_lead)
    _page, batch_id = _preview(client, team_lead, xlsx([row(), row(name="三明富硒食品有限公司", stage="线索")]))
    assert _confirm(client, batch_id) == "done"
    leads = {l.company_name: l.id for l in db.session.scalars(select(Lead))}
    assert set(_rows(leads["福建富远铝业有限公司"])) == {"negotiating"}
    assert _rows(leads["三明富硒食品有限公司"]) == {}
