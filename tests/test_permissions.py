"""Who sees what: roles by capability, records by unit, on pages and the API."""
import pytest

from tests import factories

PUBLIC = {"static", "auth.login", "auth.set_language", "api.openapi", "ops.healthz"}


def test_every_view_declares_who_it_serves(app):
    """Each endpoint is public on purpose, or guarded by a permission / login."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        view = app.view_functions[rule.endpoint]
        assert hasattr(view, "required_permissions"), f"{rule.endpoint} checks no permission"
        assert view.__doc__, f"{rule.endpoint} must say in its docstring whom it serves"


@pytest.fixture()
def two_units(db_session):
    mine, theirs = factories.unit("古镛镇"), factories.unit("高唐镇")
    officer = factories.user(unit_=mine)
    their_lead = factories.lead(unit_=theirs, company_name="高唐某公司", planned_investment_wan=1000)
    return officer, their_lead


def test_officer_cannot_open_or_edit_another_units_lead_by_url(client, two_units):
    officer, lead = two_units
    client.login(officer)
    assert client.get(f"/leads/{lead.id}").status_code == 403
    assert client.get(f"/leads/{lead.id}/edit").status_code == 403
    response = client.post(f"/leads/{lead.id}/edit", {"company_name": "改名", "version": lead.version})
    assert response.status_code == 403
    response = client.post(f"/leads/{lead.id}/stage", {"to_stage": "lost", "reason": "x"})
    assert response.status_code == 403
    assert "高唐某公司" not in client.get("/leads").get_data(as_text=True)
    stored = factories.reload(lead)
    assert stored.company_name == "高唐某公司" and stored.stage == "lead"


def test_officer_cannot_read_or_change_another_units_lead_by_api(client, two_units):
    officer, lead = two_units
    client.login(officer)
    assert client.get(f"/api/v1/leads/{lead.id}").status_code == 403
    response = client.raw.patch(f"/api/v1/leads/{lead.id}", json={"company_name": "改名"},
                                headers={"X-CSRFToken": client.csrf_token()})
    assert response.status_code == 403
    assert response.json["error"]["message"]
    assert client.get("/api/v1/leads").json["total"] == 0
    assert factories.reload(lead).company_name == "高唐某公司"


@pytest.mark.parametrize("role", ["leader", "viewer", "admin"])
def test_readers_of_all_units_see_but_cannot_change(client, two_units, role):
    _officer, lead = two_units
    reader = factories.user(roles=[role])
    client.login(reader)
    assert client.get(f"/leads/{lead.id}").status_code == 200
    assert client.get(f"/leads/{lead.id}/edit").status_code == 403
    assert client.get("/leads/new").status_code == 403
    assert client.post(f"/leads/{lead.id}/stage", {"to_stage": "negotiating"}).status_code == 403


@pytest.mark.parametrize("path", ["/admin/users", "/admin/units", "/admin/audit", "/admin/users/new"])
def test_admin_pages_refuse_other_roles(client, db_session, path):
    client.login(factories.user(roles=["officer", "team_lead", "leader", "viewer", "screener"]))
    assert client.get(path).status_code == 403


def test_screener_sees_no_leads_yet(client, two_units):
    client.login(factories.user(roles=["screener"]))
    assert client.get("/leads").status_code == 403


def test_officer_cannot_assign_a_lead_to_a_colleague_but_team_lead_can(make_client, db_session):
    unit = factories.unit()
    officer, colleague = factories.user(unit_=unit), factories.user(unit_=unit)
    lead_ = factories.lead(owner=officer)
    team_lead = factories.user(roles=["team_lead"], unit_=unit)
    form = {"company_name": lead_.company_name, "owner_id": colleague.id, "version": lead_.version}
    c = make_client()
    c.login(officer)
    assert c.post(f"/leads/{lead_.id}/edit", form).status_code == 400
    assert factories.reload(lead_).owner_id == officer.id
    t = make_client()
    t.login(team_lead)
    assert t.post(f"/leads/{lead_.id}/edit", form).status_code == 302
    assert factories.reload(lead_).owner_id == colleague.id


def test_admin_manages_users_and_units(client, db_session):
    admin = factories.user(roles=["admin"])
    client.login(admin)
    response = client.post("/admin/units/new", {"name": "万全乡", "kind": "town", "active": "y"})
    assert response.status_code == 302
    from sqlalchemy import select

    from crm.auth.models import Unit, User
    from crm.extensions import db

    unit = db.session.scalar(select(Unit).where(Unit.name == "万全乡"))
    response = client.post("/admin/users/new", {"username": "wq_officer", "full_name": "王强", "unit_id": unit.id,
                                                "roles": ["officer", "team_lead"], "password": "long-enough-1",
                                                "active": "y"})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.username == "wq_officer"))
    assert sorted(user.roles) == ["officer", "team_lead"] and user.unit_id == unit.id
    duplicate = client.post("/admin/units/new", {"name": "万全乡", "kind": "town"})
    assert duplicate.status_code == 400 and "已存在" in duplicate.get_data(as_text=True)
    page = client.get("/admin/audit?entity_type=users").get_data(as_text=True)
    assert "wq_officer" in page
