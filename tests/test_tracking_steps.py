"""The 23 steps (将乐): the catalogue, a step reached on a project (points frozen with the unit that
owned the project that day), points per unit, the ranking page, the tracking settings, the API."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm import signals
from crm.attachments.models import Attachment
from crm.demo.screening import minimal_pdf
from crm.extensions import db
from crm.tracking import steps
from crm.tracking.models import StepDefinition, StepRecord, TrackingSettings
from tests import factories

NOW = "2026-11-25T10:00:00+08:00"
PDF = minimal_pdf(["施工许可证"])


def _project(stage="signed", owner=None):
    lead = factories.lead(owner=owner)
    lead.stage = stage
    db.session.flush()
    return lead


def _step(name):
    return db.session.scalar(select(StepDefinition).where(StepDefinition.name == name))


def _records(lead):
    lead_id = lead if isinstance(lead, int) else lead.id
    return db.session.scalars(select(StepRecord).where(StepRecord.lead_id == lead_id)).all()


def _reach(client, lead, step, day="2026-11-20", note="", file=None):
    data = {"step-step_id": str(step.id), "step-reached_on": day, "step-note": note}
    if file is not None:
        data["step-evidence"] = (io.BytesIO(file[0]), file[1])
    return client.post(f"/projects/{lead.id}/steps", data, content_type="multipart/form-data")


def _api(app, user):
    from crm.auth.services import issue_api_token

    _t, raw = issue_api_token(user, "t", 30)
    db.session.commit()  # the test's savepoint: a refused request rolls back only its own writes
    return app.test_client(), {"Authorization": f"Bearer {raw}"}


# --- the catalogue --------------------------------------------------------------------------------
def test_the_default_catalogue_is_seeded(db_session):
    catalogue = steps.catalogue()
    assert len(catalogue) == 23
    assert [s.name for s in catalogue[:2]] == ["首次接洽", "实地考察"]
    assert (catalogue[5].name, catalogue[5].points, catalogue[5].phase) == ("签订投资协议", 10, "signing")
    assert sum(s.points for s in catalogue) == 107


def test_admin_adds_edits_and_retires_a_step(client, db_session):
    admin = factories.user(roles=["admin"])
    client.login(admin)
    page = client.get("/tracking/steps").get_data(as_text=True)
    assert "首次接洽" in page and "签订投资协议" in page
    response = client.post("/tracking/steps", {"name": "人才引进备案", "phase": "production", "points": "4",
                                               "position": "24", "evidence_required": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    step = _step("人才引进备案")
    assert (step.points, step.phase, step.evidence_required, step.active) == (4, "production", True, True)
    response = client.post(f"/tracking/steps/{step.id}", {"name": "人才引进备案", "phase": "production",
                                                         "points": "6", "position": "24"})
    assert response.status_code == 302
    step = factories.reload(step)
    assert (step.points, step.active, step.evidence_required) == (6, False, False)  # retired, not deleted


@pytest.mark.parametrize("form, message", [
    ({"name": "首次接洽", "phase": "negotiation", "points": "2", "position": "30"}, "已存在"),
    ({"name": "新步骤", "phase": "negotiation", "points": "-1", "position": "30"}, ""),
    ({"name": "新步骤", "phase": "nonsense", "points": "1", "position": "30"}, ""),
    ({"name": "", "phase": "negotiation", "points": "1", "position": "30"}, ""),
])
def test_bad_catalogue_entries_are_refused(client, db_session, form, message):
    client.login(factories.user(roles=["admin"]))
    response = client.post("/tracking/steps", form)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(StepDefinition.id))) == 23


@pytest.mark.parametrize("role", ["officer", "team_lead", "leader", "viewer", "screener"])
def test_only_admins_open_the_catalogue_and_settings(client, db_session, role):
    client.login(factories.user(roles=[role]))
    assert client.get("/tracking/steps").status_code == 403
    assert client.get("/tracking/settings").status_code == 403


# --- a step reached -------------------------------------------------------------------------------
def test_the_owner_unit_records_a_step_and_its_points_are_frozen(client, db_session, clock_at):
    clock_at(NOW)
    lead = _project()
    changed = []
    receiver = lambda sender, **kw: changed.append(kw["lead_id"])  # noqa: E731
    signals.project_changed.connect(receiver)
    try:
        client.login(lead.owner)
        page = client.get(f"/projects/{lead.id}").get_data(as_text=True)
        assert 'data-panel="steps"' in page and "签订投资协议" in page
        response = _reach(client, lead, _step("签订投资协议"), note="县政府会议室签约")
    finally:
        signals.project_changed.disconnect(receiver)
    assert response.status_code == 302
    [record] = _records(lead)
    assert (record.reached_on, record.points, record.unit_id, record.note, record.recorded_by_id) == (
        date(2026, 11, 20), 10, lead.owner_unit_id, "县政府会议室签约", lead.owner.id)
    assert changed == [lead.id]
    _step("签订投资协议").points = 20  # a later change of the catalogue leaves earned points alone
    db.session.flush()
    assert steps.points_by_unit(date(2026, 11, 1), date(2026, 11, 30)) == {lead.owner_unit_id: 10}
    page = client.get(f"/projects/{lead.id}").get_data(as_text=True)
    assert 'data-testid="project-points"' in page and "10" in page


def test_a_step_reached_twice_is_refused(client, db_session, clock_at):
    clock_at(NOW)
    lead = _project()
    client.login(lead.owner)
    step = _step("项目公司注册")
    assert _reach(client, lead, step, day="2026-11-02").status_code == 302
    response = _reach(client, lead, step, day="2026-11-10")
    assert response.status_code == 303
    page = client.get(response.location).get_data(as_text=True)
    assert "已于 2026-11-02 完成" in page
    assert len(_records(lead)) == 1
    with pytest.raises(steps.StepError) as refused:
        steps.record_step(lead, step.id, date(2026, 11, 10), None, lead.owner)
    assert refused.value.status == 409


def test_a_step_needing_evidence_is_refused_without_a_file(client, db_session, clock_at):
    clock_at(NOW)
    lead = _project()
    step = _step("施工许可")
    step.evidence_required = True
    db.session.flush()
    client.login(lead.owner)
    response = _reach(client, lead, step)
    assert response.status_code == 303
    assert "需要证明材料" in client.get(response.location).get_data(as_text=True)
    assert _records(lead) == []
    response = _reach(client, lead, step, file=(PDF, "施工许可证.pdf"))
    assert response.status_code == 302
    [record] = _records(lead)
    [evidence] = db.session.scalars(select(Attachment).where(Attachment.owner_kind == "step",
                                                             Attachment.owner_id == record.id)).all()
    assert evidence.original_name == "施工许可证.pdf"
    page = client.get(f"/projects/{lead.id}").get_data(as_text=True)
    assert "施工许可证.pdf" in page


def test_a_refused_evidence_file_writes_nothing(client, db_session, clock_at):
    clock_at(NOW)
    lead = _project()
    step = _step("施工许可")
    step.evidence_required = True
    db.session.flush()
    client.login(lead.owner)
    response = _reach(client, lead, step, file=(b"#!/bin/sh\necho hi\n", "许可.pdf"))
    assert response.status_code == 303
    assert _records(lead) == []
    assert db.session.scalar(select(func.count(Attachment.id)).where(Attachment.owner_kind == "step")) == 0


@pytest.mark.parametrize("day, message", [("2026-11-26", "不能是将来"), ("1989-12-31", "1990-01-01")])
def test_a_step_date_in_the_future_or_too_old_is_refused(client, db_session, clock_at, day, message):
    clock_at(NOW)
    lead = _project()
    client.login(lead.owner)
    response = _reach(client, lead, _step("首次接洽"), day=day)
    assert response.status_code == 303
    assert _records(lead) == []


def test_another_unit_cannot_record_a_step(client, make_client, db_session, clock_at):
    clock_at(NOW)
    lead = _project()
    client.login(factories.user(roles=["team_lead"]))
    assert _reach(client, lead, _step("首次接洽")).status_code == 403
    client = make_client()
    client.login(factories.user(roles=["admin"]))  # reads every project, edits none
    assert _reach(client, lead, _step("首次接洽")).status_code == 403
    assert _records(lead) == []


def test_a_project_moved_mid_month_keeps_points_where_they_were_earned(db_session, clock_at):
    clock_at(NOW)
    lead = _project()
    first_unit = lead.owner_unit_id
    steps.record_step(lead, _step("签订投资协议").id, date(2026, 11, 5), None, lead.owner)
    other = factories.unit()
    lead.owner_unit_id = other.id  # handed to another unit on 12 November
    db.session.flush()
    steps.record_step(lead, _step("项目公司注册").id, date(2026, 11, 20), None, lead.owner)
    steps.record_step(lead, _step("首次接洽").id, date(2026, 10, 31), None, lead.owner)
    assert steps.points_by_unit(date(2026, 11, 1), date(2026, 11, 30)) == {first_unit: 10, other.id: 2}
    assert steps.points_by_unit(date(2026, 10, 1), date(2026, 10, 31)) == {other.id: 2}
    ranked = steps.ranking(date(2026, 11, 1), date(2026, 11, 30))
    assert [(r.rank, r.unit.id, r.points) for r in ranked] == [(1, first_unit, 10), (2, other.id, 2)]


@pytest.mark.parametrize("text, expected", [
    ("2026-02", (date(2026, 2, 1), date(2026, 2, 28))),
    ("2024-02", (date(2024, 2, 1), date(2024, 2, 29))),
    ("2026-12", (date(2026, 12, 1), date(2026, 12, 31))),
    ("nonsense", (date(2026, 11, 1), date(2026, 11, 30))),
    ("2026-13", (date(2026, 11, 1), date(2026, 11, 30))),
    (None, (date(2026, 11, 1), date(2026, 11, 30))),
])
def test_month_range(text, expected):
    assert steps.month_range(text, date(2026, 11, 25)) == expected


def test_points_page_ranks_units_for_readers_and_the_own_unit_for_team_leads(client, make_client, db_session,
                                                                             clock_at):
    clock_at(NOW)
    a, b = _project(), _project()
    steps.record_step(a, _step("签订投资协议").id, date(2026, 11, 5), None, a.owner)
    steps.record_step(b, _step("首次接洽").id, date(2026, 11, 6), None, b.owner)
    client.login(factories.user(roles=["leader"]))
    page = client.get("/tracking/points?month=2026-11").get_data(as_text=True)
    assert f'data-testid="points-unit-{a.owner_unit_id}"' in page and f'data-testid="points-unit-{b.owner_unit_id}"' in page
    assert page.index(a.owner_unit.name) < page.index(b.owner_unit.name)
    assert "points-unit-" not in client.get("/tracking/points?month=2026-10").get_data(as_text=True)
    client = make_client()
    client.login(factories.user(roles=["team_lead"], unit_=b.owner_unit))
    page = client.get("/tracking/points?month=2026-11").get_data(as_text=True)
    assert f'points-unit-{b.owner_unit_id}"' in page and f'points-unit-{a.owner_unit_id}"' not in page
    for role in ("officer", "screener"):
        client = make_client()
        client.login(factories.user(roles=[role]))
        assert client.get("/tracking/points").status_code == 403


# --- settings -------------------------------------------------------------------------------------
SETTINGS_FORM = {"stale_months": "3", "red_late_months": "4", "investment_behind_pct": "25",
                 "started_not_completed_years": "2", "completed_not_producing_years": "2",
                 "not_started_months": "6", "low_tax_per_mu_wan": "8.5", "reminder_days_before": "30",
                 "assignment_days_overdue": "15", "reply_working_days": "5", "investment_met_pct": "90"}


def test_admin_saves_the_tracking_settings(client, db_session):
    client.login(factories.user(roles=["admin"]))
    page = client.get("/tracking/settings").get_data(as_text=True)
    assert 'data-testid="tracking-settings-form"' in page and 'value="5.00"' in page
    assert client.post("/tracking/settings", SETTINGS_FORM).status_code == 302
    row = db.session.get(TrackingSettings, 1)
    assert (row.stale_months, row.red_late_months, row.investment_behind_pct, row.low_tax_per_mu_wan) == (
        3, 4, 25, Decimal("8.50"))


@pytest.mark.parametrize("key, value", [("stale_months", "0"), ("investment_behind_pct", "101"),
                                        ("low_tax_per_mu_wan", "-1"), ("reply_working_days", "abc"),
                                        ("low_tax_per_mu_wan", "NaN")])
def test_settings_out_of_range_are_refused(client, db_session, key, value):
    client.login(factories.user(roles=["admin"]))
    response = client.post("/tracking/settings", {**SETTINGS_FORM, key: value})
    assert response.status_code == 400
    row = db.session.get(TrackingSettings, 1)
    assert row is None or row.stale_months == 2


# --- API ------------------------------------------------------------------------------------------
def test_api_catalogue_and_steps(app, db_session, clock_at):
    clock_at(NOW)
    lead = _project()
    api, headers = _api(app, lead.owner)
    body = api.get("/api/v1/steps", headers=headers).get_json()
    assert len(body["items"]) == 23 and body["items"][0]["name"] == "首次接洽"
    step = _step("签订投资协议")
    response = api.post(f"/api/v1/projects/{lead.id}/steps", headers=headers,
                        json={"step_id": step.id, "reached_on": "2026-11-20", "note": "签约"})
    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["points"], response.get_json()["unit_id"]) == (10, lead.owner_unit_id)
    again = api.post(f"/api/v1/projects/{lead.id}/steps", headers=headers,
                     json={"step_id": step.id, "reached_on": "2026-11-21"})
    assert again.status_code == 409
    listed = api.get(f"/api/v1/projects/{lead.id}/steps", headers=headers).get_json()
    assert listed["points"] == 10 and [i["step"] for i in listed["items"]] == ["签订投资协议"]


@pytest.mark.parametrize("payload, status, field", [
    ({"step_id": 999999, "reached_on": "2026-11-20"}, 422, "step_id"),
    ({"step_id": "STEP", "reached_on": "2026-11-20"}, 422, "step_id"),
    ({"reached_on": "2026-11-20"}, 422, "step_id"),
    ("EVIDENCE", 422, "evidence"),
    ("FUTURE", 422, "reached_on"),
    ("BADDATE", 422, "reached_on"),
])
def test_api_bad_steps(app, db_session, clock_at, payload, status, field):
    clock_at(NOW)
    lead = _project()
    step = _step("施工许可")
    step.evidence_required = True
    db.session.flush()
    payload = {"EVIDENCE": {"step_id": step.id, "reached_on": "2026-11-20"},
               "FUTURE": {"step_id": step.id, "reached_on": "2026-12-20"},
               "BADDATE": {"step_id": step.id, "reached_on": "20.11.2026"}}.get(payload, payload) \
        if isinstance(payload, str) else payload
    lead_id = lead.id
    api, headers = _api(app, lead.owner)
    response = api.post(f"/api/v1/projects/{lead_id}/steps", headers=headers, json=payload)
    assert response.status_code == status, response.get_json()
    assert field in response.get_json()["error"].get("fields", {})
    assert _records(lead_id) == []


def test_api_other_units_project(app, db_session):
    lead_id = _project().id
    not_tracked = factories.lead(owner=factories.user())
    untracked_id = not_tracked.id
    api, headers = _api(app, factories.user(roles=["officer"]))
    own_api, own_headers = _api(app, not_tracked.owner)
    assert api.get(f"/api/v1/projects/{lead_id}/steps", headers=headers).status_code == 403
    assert api.post(f"/api/v1/projects/{lead_id}/steps", headers=headers,
                    json={"step_id": 1, "reached_on": "2026-11-20"}).status_code == 403
    assert own_api.get(f"/api/v1/projects/{untracked_id}/steps", headers=own_headers).status_code == 404


def test_readers_see_the_steps_without_the_form_and_admins_find_the_pages(client, make_client, db_session, clock_at):
    clock_at(NOW)
    lead = _project()
    steps.record_step(lead, _step("签订投资协议").id, date(2026, 11, 5), None, lead.owner)
    client.login(factories.user(roles=["leader"]))
    page = client.get(f"/projects/{lead.id}").get_data(as_text=True)
    assert 'data-panel="steps"' in page and 'data-testid="reach-step-form"' not in page
    admin = make_client()
    admin.login(factories.user(roles=["admin"]))
    home = admin.get("/tracking/settings").get_data(as_text=True)
    assert 'data-testid="tracking-settings-link"' in home and 'data-testid="step-points-link"' in home
    assert admin.get(f"/tracking/steps/{_step('首次接洽').id}").status_code == 200
    assert admin.get("/tracking/steps/999999").status_code == 404
    assert admin.get("/tracking/results/import").status_code == 200
