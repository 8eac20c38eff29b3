"""Lights written by crm.lights.services: current light, history, notifications, signals, the
bulk recomputation, the project page's panel and the API."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

from crm import signals
from crm.extensions import db
from crm.leads.models import LeadStageChange
from crm.lights import services
from crm.lights.models import LightChange, ProjectLight
from crm.lights.queries import gather_facts
from crm.notifications.models import Notification
from crm.problems.models import Problem
from crm.tracking.models import Agreement, InvestmentEntry, MilestoneActual, MilestonePlan, StepDefinition, StepRecord
from tests import factories

D = date.fromisoformat
NOW = "2026-06-15T10:00:00+08:00"


@pytest.fixture()
def today(app, clock_at, db_session):
    """The clock fixed at NOW, inside an app context (crm.clock reads the app's config)."""
    clock_at(NOW)
    with app.app_context():
        yield D("2026-06-15")


@pytest.fixture()
def web(app, clock_at, client):
    """For tests that also send requests: no app context stays pushed (each request has its own,
    with the fixed clock); service calls are given the day."""
    clock_at(NOW)
    return D("2026-06-15")


def project(stage="signed", owner=None, created_on="2026-06-01", **fields):
    lead = factories.lead(owner=owner, created_on=D(created_on), **fields)
    lead.stage = stage
    db.session.flush()
    return lead


def plan(lead, milestone, day, superseded=False):
    db.session.add(MilestonePlan(lead_id=lead.id, milestone=milestone, planned_on=D(day),
                                 superseded_at=datetime(2026, 1, 1, tzinfo=timezone.utc) if superseded else None))
    db.session.flush()


def light(lead):
    db.session.expire_all()
    return db.session.get(ProjectLight, lead.id)


def changes(lead):
    return [(c.from_colour, c.to_colour, c.changed_on) for c in db.session.scalars(
        select(LightChange).where(LightChange.lead_id == lead.id).order_by(LightChange.id))]


def notes(kind=None):
    query = select(Notification.user_id, Notification.kind).order_by(Notification.id)
    return [tuple(n) for n in db.session.execute(query) if kind is None or n[1] == kind]


def test_first_green_is_written_with_its_history_and_not_announced(today):
    lead = project()
    services.recompute(lead.id)
    stored = light(lead)
    assert (stored.colour, stored.reasons, stored.since) == ("green", [], today)
    assert changes(lead) == [(None, "green", today)]
    assert notes() == []


def test_a_change_of_colour_is_kept_and_told_to_the_owner_and_the_units_team_leads(today, clock_at):
    unit = factories.unit()
    owner = factories.user(unit_=unit)
    team_lead = factories.user(roles=["team_lead"], unit_=unit)
    factories.user(roles=["team_lead"])  # another unit's team lead hears nothing
    factories.user(unit_=unit)           # nor another officer of the unit
    lead = project(owner=owner)
    plan(lead, "start", "2026-06-10")
    services.recompute(lead.id)
    assert light(lead).colour == "yellow" and light(lead).since == today
    assert sorted(notes("light_yellow")) == sorted([(owner.id, "light_yellow"), (team_lead.id, "light_yellow")])
    # Time passes: more than 3 months late.
    clock_at("2026-09-11T10:00:00+08:00")
    services.recompute(lead.id)
    stored = light(lead)
    assert (stored.colour, stored.since) == ("red", D("2026-09-11"))
    assert [r["code"] for r in stored.reasons] == ["milestone_late", "no_progress"]
    assert changes(lead) == [(None, "yellow", today), ("yellow", "red", D("2026-09-11"))]
    assert len(notes("light_red")) == 2
    # Idempotent: the same day again writes no history and tells nobody.
    services.recompute(lead.id)
    services.recompute_all()
    assert len(changes(lead)) == 2 and len(notes()) == 4
    # Solved: the start is recorded, and the light is green again (announced).
    db.session.add(MilestoneActual(lead_id=lead.id, milestone="start", actual_on=D("2026-09-10")))
    lead.stage = "started"
    db.session.flush()
    services.recompute(lead.id)
    assert light(lead).colour == "green" and len(notes("light_green")) == 2


def test_new_reasons_of_the_same_colour_replace_the_old_and_keep_the_since(today, clock_at):
    lead = project()
    plan(lead, "land", "2026-06-10")
    services.recompute(lead.id)
    clock_at("2026-06-20T10:00:00+08:00")
    db.session.add(Problem(lead_id=lead.id, category="land", description="用地指标", due_on=D("2026-06-18"),
                           responsible_unit_id=lead.owner_unit_id, raised_on=D("2026-06-01"), status="open"))
    db.session.flush()
    services.recompute(lead.id)
    stored = light(lead)
    assert stored.since == today
    assert [r["code"] for r in stored.reasons] == ["milestone_overdue", "problems_overdue"]
    assert changes(lead) == [(None, "yellow", today)]


def test_the_light_follows_the_project_changed_signal_at_the_commit(today):
    lead = project()
    services.recompute(lead.id)
    plan(lead, "start", "2026-06-01")
    signals.project_changed.send(lead_id=lead.id)
    signals.project_changed.send(lead_id=lead.id)
    db.session.commit()  # the sender's transaction: recomputed once, before it commits
    assert light(lead).colour == "yellow"
    assert changes(lead) == [(None, "green", today), ("green", "yellow", today)]


def test_a_rolled_back_change_recomputes_nothing(today):
    lead = project()
    signals.project_changed.send(lead_id=lead.id)
    db.session.rollback()
    db.session.commit()
    assert light(lead) is None


def test_a_terminated_project_loses_its_light_and_keeps_its_history(today):
    from crm.leads.services import change_stage

    lead = project()
    plan(lead, "start", "2026-06-01")
    services.recompute(lead.id)
    change_stage(lead, "lost", lead.owner, reason="投资方撤资")  # the stage signal recomputes
    db.session.commit()
    assert light(lead) is None
    assert changes(lead) == [(None, "yellow", today)]


def test_a_stage_change_into_tracking_lights_the_project(today):
    from crm.leads.services import change_stage

    leads = [project("admitted") for _ in range(3)]
    for lead in leads:
        change_stage(lead, "signed", lead.owner)
    db.session.commit()
    assert [light(lead).colour for lead in leads] == ["green"] * 3


def test_an_untracked_lead_gets_no_light(today):
    lead = factories.negotiating_lead()
    services.recompute(lead.id)
    assert light(lead) is None and changes(lead) == []


def test_settings_are_read(today):
    from crm.tracking.settings import save_settings

    save_settings({"red_late_months": 1})
    lead = project()
    plan(lead, "start", "2026-05-14")
    services.recompute(lead.id)
    assert light(lead).colour == "red"


def test_the_facts_of_a_project(today):
    lead = project("started", created_on="2026-01-01")
    db.session.add(LeadStageChange(lead_id=lead.id, from_stage="awaiting_decision", to_stage="admitted",
                                   changed_at=datetime(2026, 2, 1, 2, 0, tzinfo=timezone.utc)))
    plan(lead, "start", "2026-01-01", superseded=True)  # replanned: the old date no longer counts
    plan(lead, "start", "2026-03-01")
    plan(lead, "complete", "2027-03-01")
    db.session.add_all([
        MilestoneActual(lead_id=lead.id, milestone="start", actual_on=D("2026-03-05")),
        InvestmentEntry(lead_id=lead.id, paid_on=D("2026-04-01"), amount_wan=Decimal("100")),
        InvestmentEntry(lead_id=lead.id, paid_on=D("2026-05-01"), amount_wan=Decimal("50.5")),
        InvestmentEntry(lead_id=lead.id, paid_on=D("2026-07-01"), amount_wan=Decimal("999")),  # not yet
        Agreement(lead_id=lead.id, total_investment_wan=Decimal(50000), fixed_asset_investment_wan=Decimal(30000)),
        Problem(lead_id=lead.id, category="land", description="用地指标", responsible_unit_id=lead.owner_unit_id,
                due_on=D("2026-06-01"), status="solving", raised_on=D("2026-05-01")),
        Problem(lead_id=lead.id, category="land", description="已解决", responsible_unit_id=lead.owner_unit_id,
                due_on=D("2026-05-01"), status="solved", raised_on=D("2026-04-01")),
    ])
    step = StepDefinition(position=99, name="测试步骤（亮灯）", phase="construction", points=1)
    db.session.add(step)
    db.session.flush()
    db.session.add(StepRecord(lead_id=lead.id, step_id=step.id, reached_on=D("2026-05-20"),
                              unit_id=lead.owner_unit_id, points=step.points))
    db.session.flush()
    facts = gather_facts(today, [lead.id])[lead.id]
    assert facts.planned == {"start": D("2026-03-01"), "complete": D("2027-03-01")}
    assert facts.actual == {"start": D("2026-03-05")}
    assert facts.invested_wan == Decimal("150.50") and facts.investment_basis_wan == Decimal(30000)
    assert facts.last_progress_on == D("2026-05-20")
    assert facts.open_problem_dues == (D("2026-06-01"),)


@pytest.mark.parametrize("extra, last", [
    ({}, "2026-02-01"),                      # the admission date is the floor (local date)
    ({"paid": "2026-03-03"}, "2026-03-03"),  # 到资
    ({"actual": "2026-03-04"}, "2026-03-04"),
])
def test_last_progress(today, extra, last):
    lead = project("signed", created_on="2026-01-01")
    db.session.add(LeadStageChange(lead_id=lead.id, from_stage="awaiting_decision", to_stage="admitted",
                                   changed_at=datetime(2026, 1, 31, 17, 0, tzinfo=timezone.utc)))  # 2月1日 01:00 北京
    if "paid" in extra:
        db.session.add(InvestmentEntry(lead_id=lead.id, paid_on=D(extra["paid"]), amount_wan=Decimal(1)))
    if "actual" in extra:
        db.session.add(MilestoneActual(lead_id=lead.id, milestone="land", actual_on=D(extra["actual"])))
    db.session.flush()
    assert gather_facts(today, [lead.id])[lead.id].last_progress_on == D(last)
    services.recompute(lead.id)
    assert light(lead).reasons[-1] == {"code": "no_progress", "colour": "yellow",
                                       "params": {"last_on": last, "months": 2}}


def _statements(app, action) -> int:
    count = [0]

    def before(*_args):
        count[0] += 1

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", before)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return count[0]


def test_recompute_all_needs_the_same_number_of_statements_for_3_or_30_projects(app, today):
    def county(n):
        unit = factories.unit()
        owner = factories.user(unit_=unit)
        factories.user(roles=["team_lead"], unit_=unit)
        for i in range(n):
            lead = project(["admitted", "signed", "started"][i % 3], owner=owner)
            plan(lead, "start", "2026-06-01" if i % 2 else "2026-01-01")
            db.session.add(InvestmentEntry(lead_id=lead.id, paid_on=D("2026-05-01"), amount_wan=Decimal(1)))
        db.session.flush()

    county(3)
    few = _statements(app, services.recompute_all)
    county(30)
    many = _statements(app, services.recompute_all)
    assert few == many
    assert db.session.scalar(select(func.count()).select_from(ProjectLight)) == 33
    # Nothing changed: a second run writes no history.
    before = db.session.scalar(select(func.count()).select_from(LightChange))
    assert services.recompute_all()["changed"] == 0
    assert db.session.scalar(select(func.count()).select_from(LightChange)) == before


# --- the project page's panel and the badge -------------------------------------------------------

def test_the_panel_shows_the_colour_every_reason_the_since_and_the_history(client, web, clock_at):
    officer = factories.user()
    lead = project(owner=officer)
    plan(lead, "start", "2026-05-01")
    services.recompute(lead.id, today=web)
    clock_at("2026-08-02T10:00:00+08:00")
    services.recompute(lead.id, today=D("2026-08-02"))
    client.login(officer)
    page = client.get(f"/projects/{lead.id}").get_data(as_text=True)
    assert 'data-panel="light"' in page
    assert 'data-light="red"' in page and "红灯" in page
    assert "开工 计划 2026年5月1日，已逾期 93 天（超过 3 个月）" in page
    assert "自 2026年8月2日 起" in page
    assert "亮灯记录" in page and 'data-light="yellow"' in page
    assert "开工 计划 2026年5月1日，已逾期 45 天" in page  # the history's reasons, as on the day of the change


def test_the_panel_before_the_first_computation_shows_the_rules_answer(client, web):
    officer = factories.user()
    lead = project(owner=officer)
    plan(lead, "land", "2026-06-01")
    client.login(officer)
    page = client.get(f"/projects/{lead.id}").get_data(as_text=True)
    assert 'data-light="yellow"' in page and "供地 计划 2026年6月1日，已逾期 14 天" in page
    assert light(lead) is None  # a page view writes nothing


def test_another_units_officer_does_not_see_the_project(client, web):
    lead = project()
    client.login(factories.user())
    assert client.get(f"/projects/{lead.id}").status_code == 403


def test_light_badge_is_a_template_global(app):
    with app.test_request_context("/"):
        render = app.jinja_env.from_string("{{ light_badge('red') }} {{ light_badge(None) }}").render
        html = render()
    assert 'class="badge text-bg-danger" data-light="red">红灯</span>' in html and 'data-light="none"' in html


# --- API ---------------------------------------------------------------------------------------------

def test_api_project_light(client, web, clock_at):
    officer = factories.user()
    lead = project(owner=officer)
    plan(lead, "start", "2026-06-01")
    services.recompute(lead.id, today=web)
    client.login(officer)
    body = client.get(f"/api/v1/projects/{lead.id}/light").get_json()
    assert body["colour"] == "yellow" and body["since"] == "2026-06-15" and body["colour_label"] == "黄灯"
    assert body["reasons"] == [{"code": "milestone_overdue", "colour": "yellow",
                                "params": {"milestone": "start", "planned_on": "2026-06-01"}, "days_overdue": 14,
                                "text": "开工 计划 2026年6月1日，已逾期 14 天"}]
    assert [(h["from_colour"], h["to_colour"], h["changed_on"]) for h in body["history"]] == [
        (None, "yellow", "2026-06-15")]


@pytest.mark.parametrize("who, status", [("other_officer", 403), ("screener", 403), ("viewer", 200),
                                         ("leader", 200), ("admin", 200), ("team_lead", 200)])
def test_api_project_light_access(client, web, who, status):
    unit = factories.unit()
    lead = project(owner=factories.user(unit_=unit))
    users = {"other_officer": lambda: factories.user(), "screener": lambda: factories.member_unit()[1],
             "viewer": lambda: factories.user(roles=["viewer"]), "leader": lambda: factories.user(roles=["leader"]),
             "admin": lambda: factories.user(roles=["admin"]),
             "team_lead": lambda: factories.user(roles=["team_lead"], unit_=unit)}
    client.login(users[who]())
    assert client.get(f"/api/v1/projects/{lead.id}/light").status_code == status


def test_api_project_light_of_an_untracked_lead_or_none(client, web):
    officer = factories.user()
    lead = factories.negotiating_lead(owner=officer)
    client.login(officer)
    assert client.get(f"/api/v1/projects/{lead.id}/light").status_code == 404
    assert client.get("/api/v1/projects/999999/light").status_code == 404


def test_api_lights_lists_the_projects_the_user_may_read_filtered_by_colour(client, make_client, web):
    unit = factories.unit()
    officer = factories.user(unit_=unit)
    red = project(owner=officer)
    plan(red, "start", "2026-01-01")
    green = project(owner=officer)
    elsewhere = project()
    plan(elsewhere, "start", "2026-01-01")
    services.recompute_all(today=web)
    client.login(officer)
    items = client.get("/api/v1/lights").get_json()["items"]
    assert [(i["lead_id"], i["colour"]) for i in items] == [(red.id, "red"), (green.id, "green")]
    items = client.get("/api/v1/lights?colour=red").get_json()["items"]
    assert [i["lead_id"] for i in items] == [red.id]
    assert items[0]["reasons"][0]["text"].startswith("开工 计划 2026年1月1日")
    assert client.get("/api/v1/lights?colour=blue").status_code == 400
    viewer = make_client()
    viewer.login(factories.user(roles=["viewer"]))
    assert {i["lead_id"] for i in viewer.get("/api/v1/lights?colour=red").get_json()["items"]} >= {red.id, elsewhere.id}


def test_api_lights_is_closed_to_screeners(client, web):
    client.login(factories.member_unit()[1])
    assert client.get("/api/v1/lights").status_code == 403


def test_a_request_that_moves_the_stage_lights_the_project(client, web):
    officer = factories.user()
    lead = project("admitted", owner=officer)
    plan(lead, "start", "2026-06-01")
    client.login(officer)
    response = client.post(f"/leads/{lead.id}/stage", {"to_stage": "signed", "on_date": "2026-06-10",
                                                         "version": str(lead.version)})
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    stored = light(lead)
    assert (stored.colour, stored.since) == ("yellow", D("2026-06-15"))
    page = client.get(f"/projects/{lead.id}").get_data(as_text=True)
    assert "开工 计划 2026年6月1日，已逾期 14 天" in page


def test_recompute_all_puts_out_the_light_of_a_terminated_project(today):
    lead = project()
    services.recompute_all()
    lead.stage = "lost"
    db.session.flush()
    assert services.recompute_all()["cleared"] == 1
    assert light(lead) is None and changes(lead) == [(None, "green", today)]


@pytest.mark.parametrize("kind, text", [
    ("light_red", "福建测试项目：亮红灯（2 项原因），详见项目页。"),
    ("light_yellow", "福建测试项目：亮黄灯（2 项原因），详见项目页。"),
    ("light_green", "福建测试项目：已恢复绿灯。"),
])
def test_notifications_in_words(app, kind, text):
    from crm.notifications.messages import render

    with app.test_request_context("/"):
        assert render(kind, {"company": "福建测试项目", "count": 2}) == text


def test_a_light_written_meanwhile_by_another_run_is_updated_not_duplicated(today):
    from crm.lights.services import _insert_lights

    lead = project()
    services.recompute(lead.id)  # green
    row = {"lead_id": lead.id, "colour": "red", "reasons": [], "since": today, "computed_at": datetime.now(timezone.utc)}
    _insert_lights([row])  # as if a concurrent run inserted the new project's light first
    assert light(lead).colour == "red"
