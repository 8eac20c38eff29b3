"""Sources with their leads and track record; the audit page's filters (the home page: tests/test_home.py)."""

from sqlalchemy import select

from crm.leads.models import Source
from crm.leads.services import change_stage
from crm.extensions import db
from tests import factories


def test_source_lists_its_visible_leads_with_figures_and_county_counts(client, db_session):
    chamber = factories.source("上海将乐商会", kind="chamber")
    officer = factories.user()
    mine = factories.lead(owner=officer, source_id=chamber.id, company_name="上海某科技有限公司")
    other_unit_lead = factories.lead(unit_=factories.unit(), source_id=chamber.id, company_name="别镇的公司")
    for stage, workflow in (("negotiating", False), ("screening", True), ("awaiting_decision", True),
                            ("admitted", True), ("signed", False), ("started", False)):
        change_stage(other_unit_lead, stage, other_unit_lead.owner, workflow=workflow)
    client.login(officer)
    page = client.get(f"/sources/{chamber.id}").get_data(as_text=True)
    assert "上海某科技有限公司" in page and "别镇的公司" not in page
    assert "300" in page and "8" in page  # intensity 30000/100, tax per mu 800/100
    assert "全县共 2 条线索，已签约 1 条，已落地 1 条。" in page
    assert mine.source_kind == "chamber"  # the kind follows the chosen source


def test_officer_creates_a_source(client, db_session):
    client.login(factories.user())
    response = client.post("/sources/new", {"name": "深圳将乐商会", "kind": "chamber", "contact": "秘书长 陈先生"})
    assert response.status_code == 302
    assert db.session.scalar(select(Source).where(Source.name == "深圳将乐商会")).kind == "chamber"
    again = client.post("/sources/new", {"name": "深圳将乐商会", "kind": "event"})
    assert again.status_code == 400


def test_viewer_cannot_create_sources(client, db_session):
    client.login(factories.user(roles=["viewer"]))
    assert client.post("/sources/new", {"name": "某商会", "kind": "chamber"}).status_code == 403


def test_admin_filters_the_audit_log_by_entity_and_user(client, db_session):
    admin = factories.user(roles=["admin"])
    alice, bob = factories.user(), factories.user()
    from crm.audit.listener import set_actor

    set_actor(alice.id)
    a_lead = factories.lead(owner=alice, company_name="甲公司")
    set_actor(bob.id)
    factories.lead(owner=bob, company_name="乙公司")
    set_actor(None)
    client.login(admin)
    page = client.get(f"/admin/audit?entity_type=leads&entity_id={a_lead.id}").get_data(as_text=True)
    assert "甲公司" in page and "乙公司" not in page
    page = client.get(f"/admin/audit?actor_id={bob.id}").get_data(as_text=True)
    assert "乙公司" in page and "甲公司" not in page


def test_lead_form_without_csrf_token_stores_nothing(client, db_session):
    from crm.leads.models import Lead

    client.login(factories.user())
    response = client.post("/leads/new", {"company_name": "无令牌公司"}, csrf=False)
    assert response.status_code == 400 and "安全令牌" in response.get_data(as_text=True)
    assert db.session.scalar(select(Lead).where(Lead.company_name == "无令牌公司")) is None
