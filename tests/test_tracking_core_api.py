"""Tracking core through /api/v1: the same rules as the pages (agreement with replans kept, actual
dates in order with the stage following, 到资 limits, the project list), and who may."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.tracking.models import InvestmentEntry, MilestoneActual, MilestonePlan
from tests import factories

NOW = "2026-12-05T10:00:00+08:00"


@pytest.fixture(autouse=True)
def _clock(clock_at):
    clock_at(NOW)


def _token(user) -> dict:
    from crm.auth.services import issue_api_token

    _t, raw = issue_api_token(user, "test", 30)
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture()
def officer(db_session):
    return factories.user(roles=["officer"])


@pytest.fixture()
def project(officer):
    lead = factories.lead(owner=officer, planned_investment_wan=Decimal("50000"))
    lead.stage = "admitted"
    db.session.flush()
    return lead


def _agreement(**overrides):
    body = {"total_investment_wan": 50000, "fixed_asset_investment_wan": 30000, "land_area_mu": 100,
            "promised_output_wan": 80000, "promised_tax_wan": 800, "jobs": 120,
            "planned": {"sign": "2026-12-20", "start": "2027-03-01", "complete": "2028-03-01"}}
    body.update(overrides)
    return body


def test_agreement_prefill_save_and_replan(client, officer, project):
    h = _token(officer)
    got = client.get(f"/api/v1/projects/{project.id}/agreement", headers=h).get_json()
    assert got["exists"] is False and got["total_investment_wan"] == 50000.0
    saved = client.put(f"/api/v1/projects/{project.id}/agreement", json=_agreement(), headers=h)
    assert saved.status_code == 200, saved.get_json()
    body = saved.get_json()
    assert body["exists"] and body["planned"]["start"] == "2027-03-01"
    replan = {"planned": {"start": "2027-05-01"}, "version": body["version"]}
    refused = client.put(f"/api/v1/projects/{project.id}/agreement", json=replan, headers=h)
    assert refused.status_code == 422 and "reason" in refused.get_json()["error"]["fields"]
    ok = client.put(f"/api/v1/projects/{project.id}/agreement", json={**replan, "reason": "规划调整"}, headers=h)
    assert ok.status_code == 200
    timeline = client.get(f"/api/v1/projects/{project.id}/milestones", headers=h).get_json()
    start = next(i for i in timeline["items"] if i["milestone"] == "start")
    assert [p["planned_on"] for p in start["plans"]] == ["2027-03-01", "2027-05-01"]
    assert start["plans"][1]["reason"] == "规划调整" and start["plans"][0]["superseded_at"]


def test_stale_version_is_409(client, officer, project):
    h = _token(officer)
    client.put(f"/api/v1/projects/{project.id}/agreement", json=_agreement(), headers=h)
    response = client.put(f"/api/v1/projects/{project.id}/agreement", json={"jobs": 5, "version": 42}, headers=h)
    assert response.status_code == 409


def test_planned_start_before_signing_is_422(client, officer, project):
    response = client.put(f"/api/v1/projects/{project.id}/agreement", headers=_token(officer),
                          json=_agreement(planned={"sign": "2027-05-01", "start": "2027-03-01"}))
    assert response.status_code == 422
    assert "plan_start" in response.get_json()["error"]["fields"]
    assert db.session.scalar(select(MilestonePlan).where(MilestonePlan.lead_id == project.id)) is None


def test_plan_one_milestone_by_post(client, officer, project):
    response = client.post(f"/api/v1/projects/{project.id}/milestones", headers=_token(officer),
                           json={"milestone": "land", "planned_on": "2027-01-10"})
    assert response.status_code == 201
    land = next(i for i in response.get_json()["items"] if i["milestone"] == "land")
    assert land["planned_on"] == "2027-01-10"


def test_actual_dates_move_the_stage_and_keep_the_order(client, officer, project):
    h = _token(officer)
    url = f"/api/v1/projects/{project.id}/milestones"
    assert client.post(url, json={"milestone": "sign", "actual_on": "2026-11-20"}, headers=h).status_code == 201
    assert factories.reload(project).stage == "signed"
    early = client.post(url, json={"milestone": "start", "actual_on": "2026-11-10"}, headers=h)
    assert early.status_code == 422 and "actual_on" in early.get_json()["error"]["fields"]
    skip = client.post(url, json={"milestone": "complete", "actual_on": "2026-11-30"}, headers=h)
    assert skip.status_code == 422
    future = client.post(url, json={"milestone": "start", "actual_on": "2026-12-06"}, headers=h)
    assert future.status_code == 422
    ok = client.post(url, json={"milestone": "start", "actual_on": "2026-11-25"}, headers=h)
    assert ok.status_code == 201 and ok.get_json()["stage"] == "started"


def test_stage_move_through_the_api_records_the_actual(client, officer, project):
    h = _token(officer)
    response = client.post(f"/api/v1/leads/{project.id}/stage", json={"stage": "signed", "date": "2026-11-03"},
                           headers=h)
    assert response.status_code == 200
    actual = db.session.scalar(select(MilestoneActual).where(MilestoneActual.lead_id == project.id))
    assert (actual.milestone, actual.actual_on) == ("sign", date(2026, 11, 3))


@pytest.mark.parametrize("body, field", [
    ({"amount_wan": -5, "paid_on": "2026-12-01"}, "amount_wan"),
    ({"amount_wan": 0, "paid_on": "2026-12-01"}, "amount_wan"),
    ({"amount_wan": 5, "paid_on": "2026-12-09"}, "paid_on"),
])
def test_bad_investment_is_422(client, officer, project, body, field):
    response = client.post(f"/api/v1/projects/{project.id}/investments", json=body, headers=_token(officer))
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert db.session.scalar(select(InvestmentEntry).where(InvestmentEntry.lead_id == project.id)) is None


def test_investment_over_total_needs_confirm(client, officer, project):
    h = _token(officer)
    client.put(f"/api/v1/projects/{project.id}/agreement", json=_agreement(), headers=h)
    url = f"/api/v1/projects/{project.id}/investments"
    refused = client.post(url, json={"amount_wan": 60000, "paid_on": "2026-12-01"}, headers=h)
    assert refused.status_code == 422 and "confirm_over_total" in refused.get_json()["error"]["fields"]
    ok = client.post(url, json={"amount_wan": 60000, "paid_on": "2026-12-01", "confirm_over_total": True},
                     headers=h)
    assert ok.status_code == 201 and ok.get_json()["total_wan"] == 60000.0


def test_another_units_officer_gets_403(client, project):
    client.login(factories.user(roles=["officer"]))
    csrf = {"X-CSRFToken": client.csrf_token()}
    assert client.get(f"/api/v1/projects/{project.id}/agreement").status_code == 403
    assert client.raw.put(f"/api/v1/projects/{project.id}/agreement", json=_agreement(),
                          headers=csrf).status_code == 403
    assert client.post(f"/api/v1/projects/{project.id}/investments",
                       json={"amount_wan": 5, "paid_on": "2026-12-01"}).status_code == 403
    assert client.post(f"/api/v1/projects/{project.id}/milestones",
                       json={"milestone": "sign", "actual_on": "2026-12-01"}).status_code == 403
    listing = client.get("/api/v1/projects").get_json()
    assert project.id not in [p["id"] for p in listing["items"]]
    assert db.session.scalar(select(MilestoneActual).where(MilestoneActual.lead_id == project.id)) is None


def test_viewer_reads_but_cannot_write(client, project):
    h = _token(factories.user(roles=["viewer"]))
    assert client.get(f"/api/v1/projects/{project.id}/milestones", headers=h).status_code == 200
    assert client.put(f"/api/v1/projects/{project.id}/agreement", json=_agreement(), headers=h).status_code == 403


def test_project_list_with_filters(client, officer, project):
    h = _token(officer)
    db.session.add(MilestonePlan(lead_id=project.id, milestone="sign", planned_on=date(2026, 11, 1)))
    db.session.flush()
    items = client.get("/api/v1/projects", headers=h).get_json()["items"]
    assert [(p["id"], p["overdue"]) for p in items] == [(project.id, ["sign"])]
    assert client.get("/api/v1/projects?overdue=1", headers=h).get_json()["total"] == 1
    assert client.get("/api/v1/projects?colour=red", headers=h).get_json()["total"] == 0
    assert client.get("/api/v1/projects?stage=nonsense", headers=h).status_code == 400


def test_a_lead_not_yet_admitted_has_no_project(client, officer):
    lead = factories.negotiating_lead(owner=officer)
    client.login(officer)
    for path in ("agreement", "milestones", "investments"):
        assert client.get(f"/api/v1/projects/{lead.id}/{path}").status_code == 404
    assert client.get(f"/projects/{lead.id}").status_code == 404
    assert client.get(f"/projects/{lead.id}/agreement").status_code == 404
