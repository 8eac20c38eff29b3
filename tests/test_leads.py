"""Leads through the pages: create, derived figures, bad input, stages, concurrency, history."""
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEntry
from crm.extensions import db
from crm.leads.models import Lead, LeadStageChange
from tests import factories


def _lead_form(**overrides):
    data = {"company_name": "福建富远铝业有限公司", "uscc": "", "project_name": "年产5万吨再生铝项目",
            "chain_id": "", "chain_node_id": "", "source_id": "", "source_kind": "",
            "planned_investment_wan": "50000", "fixed_asset_investment_wan": "42000",
            "land_area_mu": "120", "expected_output_wan": "", "expected_tax_wan": "900",
            "high_tech": "1", "specialized": "", "owner_id": "", "created_on": "2026-03-05"}
    data.update(overrides)
    return data


def _lead_count():
    return db.session.scalar(select(func.count()).select_from(Lead))


@pytest.fixture()
def officer(client, db_session):
    user = factories.user(roles=["officer"])
    client.login(user)
    return user


def test_create_lead_shows_intensity_and_tax_per_mu(client, officer):
    response = client.post("/leads/new", _lead_form(uscc="91110000600037341L"))
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert 'data-testid="intensity">350<' in page      # 42000 / 120
    assert 'data-testid="tax-per-mu">7.5<' in page     # 900 / 120
    lead = db.session.scalar(select(Lead))
    assert lead.uscc == "91110000600037341L"
    assert lead.owner_unit_id == officer.unit_id and lead.owner_id == officer.id
    assert lead.stage == "lead"
    assert lead.high_tech is True and lead.specialized is None  # unknown stays unknown
    listing = client.get("/leads").get_data(as_text=True)
    assert "350" in listing and "7.5" in listing


def test_missing_land_area_shows_unknown_intensity_not_zero(client, officer):
    response = client.post("/leads/new", _lead_form(land_area_mu=""))
    page = client.get(response.location).get_data(as_text=True)
    assert 'data-testid="intensity">—<' in page


@pytest.mark.parametrize("uscc, message", [
    ("91110000600037341X", "校验位错误"),
    ("9111000060003734", "18"),
    ("91110000600037341!", "统一社会信用代码"),
])
def test_invalid_uscc_is_refused_with_a_reason(client, officer, uscc, message):
    response = client.post("/leads/new", _lead_form(uscc=uscc))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _lead_count() == 0


@pytest.mark.parametrize("field, value, message", [
    ("planned_investment_wan", "-5", "不小于 0"),
    ("fixed_asset_investment_wan", "五千万", "数"),
    ("expected_tax_wan", "abc", "数"),
    ("land_area_mu", "0", "用地面积必须大于 0"),
    ("rd_ratio", "120", "0"),
    ("patents", "-1", "不小于 0"),
])
def test_bad_amounts_are_refused(client, officer, field, value, message):
    response = client.post("/leads/new", _lead_form(**{field: value}))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _lead_count() == 0


def test_english_user_gets_english_messages(client, db_session):
    user = factories.user(locale="en")
    client.login(user)
    response = client.post("/leads/new", _lead_form(uscc="91110000600037341X", land_area_mu="0"))
    text = response.get_data(as_text=True)
    assert "check digit" in text and "greater than 0" in text


def test_company_followed_by_another_unit_names_only_that_unit(client, officer):
    other_unit = factories.unit("水南镇")
    factories.lead(unit_=other_unit, company_name="厦门金达新材料股份有限公司",
                           project_name="秘密项目", uscc="91110000600037341L")
    response = client.post("/leads/new", _lead_form(company_name="厦门金达新材料有限公司"))
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "该企业已由水南镇跟进" in text
    assert "秘密项目" not in text
    assert _lead_count() == 1
    # Same USCC, other name: still caught; confirmed: recorded.
    response = client.post("/leads/new", _lead_form(company_name="别名公司", uscc="91110000600037341L"))
    assert "水南镇" in response.get_data(as_text=True)
    response = client.post("/leads/new", _lead_form(company_name="别名公司", uscc="91110000600037341L",
                                                    confirm_duplicate="y"))
    assert response.status_code == 302
    assert _lead_count() == 2


def test_stage_moves_along_the_pipeline_with_who_and_when(client, officer):
    lead = factories.lead(owner=officer)
    response = client.post(f"/leads/{lead.id}/stage", {"to_stage": "negotiating", "version": lead.version})
    assert response.status_code == 302
    lead = factories.reload(lead)
    assert lead.stage == "negotiating"
    change = db.session.scalar(select(LeadStageChange).where(LeadStageChange.to_stage == "negotiating"))
    assert change.changed_by_id == officer.id and change.from_stage == "lead"
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "stage"))
    assert audit.changes["stage"] == ["lead", "negotiating"] and audit.actor_id == officer.id


@pytest.mark.parametrize("target, message", [("signed", "不能从"), ("flying", "有效"), ("lost", "终止原因")])
def test_forbidden_or_unknown_stage_or_missing_reason_changes_nothing(client, officer, target, message):
    lead = factories.lead(owner=officer)
    response = client.post(f"/leads/{lead.id}/stage", {"to_stage": target, "version": lead.version})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert factories.reload(lead).stage == "lead"


def test_lost_needs_and_keeps_the_reason(client, officer):
    lead = factories.lead(owner=officer)
    client.post(f"/leads/{lead.id}/stage", {"to_stage": "lost", "reason": "被周边县市抢先落地",
                                             "version": lead.version})
    lead = factories.reload(lead)
    assert lead.stage == "lost" and lead.lost_reason == "被周边县市抢先落地"


def test_two_users_saving_the_same_lead_do_not_overwrite_each_other(make_client, db_session):
    unit = factories.unit()
    alice = factories.user(unit_=unit, full_name="张明")
    bob = factories.user(unit_=unit, full_name="李华")
    lead = factories.lead(owner=alice)
    version = lead.version
    a, b = make_client(), make_client()
    a.login(alice)
    b.login(bob)
    first = a.post(f"/leads/{lead.id}/edit", _lead_form(company_name=lead.company_name,
                                                         planned_investment_wan="60000", version=version))
    assert first.status_code == 302
    second = b.post(f"/leads/{lead.id}/edit", _lead_form(company_name=lead.company_name,
                                                          planned_investment_wan="1", version=version))
    assert second.status_code == 409
    assert "已被张明修改" in second.get_data(as_text=True)
    assert factories.reload(lead).planned_investment_wan == Decimal("60000")


def test_follow_up_activity_with_next_date(client, officer):
    lead = factories.lead(owner=officer)
    response = client.post(f"/leads/{lead.id}/activities", {
        "kind": "visit", "occurred_on": "2026-01-10", "summary": "赴上海拜访董事长，介绍积善工业园区用地",
        "next_follow_up_on": "2040-01-01"})
    assert response.status_code == 302
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "赴上海拜访董事长" in page and "2040-01-01" in page
    bad = client.post(f"/leads/{lead.id}/activities", {"kind": "visit", "occurred_on": "2026-01-10",
                                                        "summary": "", "next_follow_up_on": "2025-01-01"})
    assert bad.status_code == 400
    assert len(factories.reload(lead).activities) == 1


def test_edit_records_before_and_after_in_the_audit_log(client, officer):
    lead = factories.lead(owner=officer, planned_investment_wan=Decimal("100"))
    client.post(f"/leads/{lead.id}/edit", _lead_form(company_name=lead.company_name,
                                                     planned_investment_wan="250", version=lead.version))
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity_type == "leads",
                                                       AuditEntry.action == "update"))
    assert entry.changes["planned_investment_wan"] == ["100", "250"]
    assert entry.actor_id == officer.id
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "计划总投资" in page and "100 万元 → 250 万元" in page
