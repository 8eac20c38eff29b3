"""/api/v1/dashboard: the cockpit's sections as JSON with the page's arguments, the API's JSON errors
(400 bad period, 403 role or another unit, 404 unknown unit or chain, 401 anonymous), tokens,
and its place in the OpenAPI document."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crm.extensions import db
from tests import factories

NOW = "2026-06-15T10:00:00+08:00"


@pytest.fixture(autouse=True)
def _clock(clock_at):
    clock_at(NOW)


def _token(user) -> dict:
    from crm.auth.services import issue_api_token

    _t, raw = issue_api_token(user, "test", 30)
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture()
def town(db_session):
    return factories.unit("古镛镇")


@pytest.fixture()
def signed(town):
    lead = factories.lead(unit_=town, owner=factories.user(unit_=town), planned_investment_wan=Decimal("26000"))
    lead.created_on = date(2026, 2, 1)
    lead.stage = "signed"
    db.session.flush()
    factories.stage_reached(lead, "admitted", date(2026, 3, 1))
    factories.stage_reached(lead, "signed", date(2026, 4, 1))
    return lead


def _figures(body):
    return {f["key"]: f for f in body["sections"]["headline"]["figures"]}


def test_a_viewer_reads_the_cockpit_as_json(client, signed):
    client.login(factories.user(roles=["viewer"]))
    response = client.get("/api/v1/dashboard")
    assert response.status_code == 200
    body = response.json
    assert body["period"] == {"kind": "year", "start": "2026-01-01", "end": "2026-12-31", "until": "2026-06-15",
                              "label": "2026年"}
    assert body["scope"] == {"unit_id": None, "unit_name": None, "chain_id": None, "chain_name": None}
    assert {"headline", "rates", "funnel"} <= set(body["sections"])
    signed_figure = _figures(body)["signed"]
    assert (signed_figure["value"], signed_figure["previous"]) == (1, 0)
    assert signed_figure["url"] == "/leads?reached=signed&reached_from=2026-01-01&reached_to=2026-12-31"
    assert _figures(body)["signed_investment"]["value"] == 2.6
    rates = {r["key"]: r for r in body["sections"]["rates"]["rates"]}
    assert (rates["signing"]["numerator"], rates["signing"]["denominator"], rates["signing"]["value"]) == (1, 1, 100.0)
    assert rates["start"]["value"] is None  # nothing planned: null, shown "—"
    steps = {s["key"]: s for s in body["sections"]["funnel"]["steps"]}
    assert (steps["admitted"]["converted"], steps["admitted"]["median_days"]) == (1, 31.0)


def test_same_arguments_as_the_page(client, town, signed):
    chain = factories.chain("新材料")
    signed.chain_id = chain.id
    db.session.flush()
    client.login(factories.user(roles=["leader"]))
    body = client.get(f"/api/v1/dashboard?period=quarter&year=2026&quarter=2&unit_id={town.id}"
                      f"&chain_id={chain.id}").json
    assert body["period"]["kind"] == "quarter" and body["period"]["start"] == "2026-04-01"
    assert body["scope"] == {"unit_id": town.id, "unit_name": "古镛镇", "chain_id": chain.id, "chain_name": "新材料"}
    assert _figures(body)["signed"]["value"] == 1 and _figures(body)["admitted"]["value"] == 0
    assert f"unit_id={town.id}&chain_id={chain.id}" in _figures(body)["signed"]["url"]


def test_a_leader_with_a_token(app, db_session, signed):
    leader = factories.user(roles=["leader"])
    response = app.test_client().get("/api/v1/dashboard?period=month&year=2026&month=4", headers=_token(leader))
    assert response.status_code == 200 and _figures(response.json)["signed"]["value"] == 1


def test_a_team_lead_gets_the_own_unit_and_no_other(client, town, signed):
    other = factories.unit("高唐镇")
    client.login(factories.user(roles=["team_lead"], unit_=town))
    body = client.get("/api/v1/dashboard").json
    assert body["scope"]["unit_id"] == town.id and _figures(body)["signed"]["value"] == 1
    response = client.get(f"/api/v1/dashboard?unit_id={other.id}")
    assert response.status_code == 403 and response.json["error"]["message"] == "您只能查看本单位的数据。"


@pytest.mark.parametrize("query,status,message", [
    ("period=year&year=2027", 400, "尚未开始"),
    ("period=range&start=2026-05-01&end=2026-04-01", 400, "早于开始日期"),
    ("period=range&start=x&end=2026-04-01", 400, "不是有效日期"),
    ("period=week", 400, "请选择"),
    ("unit_id=424242", 404, "没有编号为424242的单位"),
    ("chain_id=424242", 404, "没有编号为424242的产业链"),
    ("unit_id=99999999999", 400, "unit_id"),
])
def test_errors_are_the_apis_json_errors(client, db_session, query, status, message):
    client.login(factories.user(roles=["viewer"]))
    response = client.get("/api/v1/dashboard?" + query)
    assert response.status_code == status and response.is_json
    assert response.json["error"]["status"] == status and message in response.json["error"]["message"]


def test_roles_without_the_cockpit_are_refused(client, db_session):
    assert client.get("/api/v1/dashboard").status_code == 401
    client.login(factories.user(roles=["officer"]))
    response = client.get("/api/v1/dashboard")
    assert response.status_code == 403 and response.is_json


def test_an_empty_period_has_zeros_and_nulls(client, db_session):
    client.login(factories.user(roles=["admin"]))
    body = client.get("/api/v1/dashboard?period=year&year=2001").json
    assert all(f["value"] == 0 for f in body["sections"]["headline"]["figures"])
    assert all(r["value"] is None for r in body["sections"]["rates"]["rates"])


def test_the_openapi_document_describes_it(app, db_session):
    doc = app.test_client().get("/api/v1/openapi.json").json
    operation = doc["paths"]["/dashboard"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"period", "year", "quarter", "month", "start", "end",
                                                           "unit_id", "chain_id"}
    assert {"200", "400", "401", "403", "404"} <= set(operation["responses"])
    assert "DashboardFigure" in doc["components"]["schemas"]
