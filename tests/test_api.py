"""The JSON API: tokens, the same rules as the pages, errors as JSON, the OpenAPI document."""
from datetime import timedelta

import pytest

from crm.auth.models import ApiToken
from crm.database import utcnow
from crm.extensions import db
from tests import factories


@pytest.fixture()
def officer(db_session):
    return factories.user()


def _token(user, days=30):
    from crm.auth.services import issue_api_token

    token, raw = issue_api_token(user, "test", days)
    return token, {"Authorization": f"Bearer {raw}"}


def test_token_created_on_profile_is_stored_hashed_and_works(client, officer):
    client.login(officer)
    page = client.post("/profile", {"token-name": "ERP sync", "token-days": "30", "token-submit": "1"})
    import re

    raw = re.search(r'data-testid="new-token">([^<]+)<', page.get_data(as_text=True)).group(1)
    stored = db.session.query(ApiToken).one()
    assert raw not in (stored.token_hash, stored.prefix) and stored.token_hash != raw
    api = client.raw.application.test_client()
    response = api.get("/api/v1/leads", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200 and response.json["total"] == 0


def test_create_update_and_stage_through_the_api(app, officer):
    _t, auth = _token(officer)
    api = app.test_client()
    response = api.post("/api/v1/leads", json={
        "company_name": "福建将乐富硒食品有限公司", "uscc": "91110000600037341L",
        "fixed_asset_investment_wan": 8000, "land_area_mu": 40, "expected_tax_wan": 300,
        "high_tech": True}, headers=auth)
    assert response.status_code == 201, response.json
    lead = response.json
    assert lead["investment_intensity"] == 200 and lead["tax_per_mu"] == 7.5
    assert lead["owner_unit_id"] == officer.unit_id
    response = api.patch(f"/api/v1/leads/{lead['id']}", json={"jobs": 120, "version": lead["version"]},
                         headers=auth)
    assert response.status_code == 200 and response.json["jobs"] == 120
    stale = api.patch(f"/api/v1/leads/{lead['id']}", json={"jobs": 5, "version": lead["version"]},
                      headers=auth)
    assert stale.status_code == 409 and "修改" in stale.json["error"]["message"]
    moved = api.post(f"/api/v1/leads/{lead['id']}/stage", json={"stage": "negotiating"}, headers=auth)
    assert moved.status_code == 200 and moved.json["stage"] == "negotiating"
    jump = api.post(f"/api/v1/leads/{lead['id']}/stage", json={"stage": "producing"}, headers=auth)
    assert jump.status_code == 422 and jump.json["error"]["message"]
    listing = api.get("/api/v1/leads?stage=negotiating", headers=auth).json
    assert [item["id"] for item in listing["items"]] == [lead["id"]]


@pytest.mark.parametrize("payload, field", [
    ({"company_name": "甲公司", "uscc": "91110000600037341X"}, "uscc"),
    ({"company_name": "甲公司", "land_area_mu": 0}, "land_area_mu"),
    ({"company_name": "甲公司", "planned_investment_wan": -1}, "planned_investment_wan"),
    ({"company_name": "甲公司", "expected_tax_wan": "abc"}, "expected_tax_wan"),
    ({"company_name": ""}, "company_name"),
])
def test_bad_input_gives_json_field_errors_and_stores_nothing(app, officer, payload, field):
    _t, auth = _token(officer)
    response = app.test_client().post("/api/v1/leads", json=payload, headers=auth)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]
    from crm.leads.models import Lead

    assert db.session.query(Lead).count() == 0


def test_unknown_fields_are_refused(app, officer):
    _t, auth = _token(officer)
    response = app.test_client().post("/api/v1/leads", json={"company_name": "甲", "owner_unit_id": 99},
                                      headers=auth)
    assert response.status_code == 400 and "owner_unit_id" in response.json["error"]["message"]


def test_expired_and_revoked_tokens_are_refused(app, officer):
    expired, expired_auth = _token(officer)
    expired.expires_at = utcnow() - timedelta(minutes=1)
    revoked, revoked_auth = _token(officer)
    revoked.revoked_at = utcnow()
    db.session.flush()
    api = app.test_client()
    for auth in (expired_auth, revoked_auth, {"Authorization": "Bearer crm_made_up"}):
        response = api.get("/api/v1/leads", headers=auth)
        assert response.status_code == 401
        assert "令牌" in response.json["error"]["message"]


def test_revoking_on_the_profile_page(client, officer):
    token, auth = _token(officer)
    client.login(officer)
    assert client.post(f"/profile/tokens/{token.id}/revoke").status_code == 302
    assert client.raw.application.test_client().get("/api/v1/leads", headers=auth).status_code == 401


def test_disabled_users_token_stops_working(app, officer):
    _t, auth = _token(officer)
    officer.active = False
    db.session.flush()
    assert app.test_client().get("/api/v1/leads", headers=auth).status_code == 401


def test_session_api_changes_need_the_csrf_header(client, officer):
    client.login(officer)
    response = client.raw.post("/api/v1/leads", json={"company_name": "甲公司"})
    assert response.status_code == 400 and "CSRF" in response.json["error"]["message"]
    response = client.post("/api/v1/leads", json={"company_name": "甲公司"})
    assert response.status_code == 201


def test_anonymous_api_call_gets_json_401(app, db_session):
    response = app.test_client().get("/api/v1/leads")
    assert response.status_code == 401 and response.is_json


def test_openapi_document_lists_the_lead_endpoints(app, db_session):
    doc = app.test_client().get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    assert {"/leads", "/leads/{lead_id}", "/leads/{lead_id}/stage"} <= set(doc["paths"])
    routes = {r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/")}
    import re

    documented = {"/api/v1" + re.sub(r"\{(\w+)\}", r"<int:\1>", p) for p in doc["paths"]}
    assert routes - {"/api/v1/openapi.json"} <= documented
