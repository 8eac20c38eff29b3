"""Tracking core through the pages: the agreement (prefill, order of planned dates, replans kept,
optimistic locking), actual milestone dates (order, future, stage follows and vice versa), 到资
(positive, not in the future, over the contracted total only when confirmed), the project list
with its filters and Excel export, and who may do what."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.extensions import db
from crm.leads import services as lead_services
from crm.tracking import services
from crm.tracking.models import Agreement, InvestmentEntry, MilestoneActual, MilestonePlan
from tests import factories

NOW = "2026-12-05T10:00:00+08:00"


@pytest.fixture(autouse=True)
def _clock(clock_at):
    clock_at(NOW)


def admitted_lead(owner=None, stage="admitted", **fields):
    lead = factories.lead(owner=owner, **fields)
    lead.stage = stage
    db.session.flush()
    return lead


@pytest.fixture()
def officer(client, db_session):
    user = factories.user(roles=["officer"])
    client.login(user)
    return user


@pytest.fixture()
def project(officer):
    return admitted_lead(owner=officer, planned_investment_wan=Decimal("50000"), jobs=120)


def _agreement_form(**overrides):
    data = {"total_investment_wan": "50000", "fixed_asset_investment_wan": "30000", "land_area_mu": "100",
            "promised_output_wan": "80000", "promised_tax_wan": "800", "jobs": "120", "note": "",
            "plan_sign": "2026-12-20", "plan_land": "2027-02-01", "plan_start": "2027-03-01",
            "plan_complete": "2028-03-01", "plan_produce": "2028-06-01", "plan_above_scale": "",
            "reason": "", "version": ""}
    data.update(overrides)
    return data


def _plans(lead, milestone):
    return list(db.session.scalars(select(MilestonePlan).where(MilestonePlan.lead_id == lead.id,
                                                               MilestonePlan.milestone == milestone)
                                   .order_by(MilestonePlan.id)))


# --- the agreement -------------------------------------------------------------------------------

def test_new_agreement_form_is_prefilled_from_the_lead(client, project):
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert 'name="total_investment_wan" step="any" type="number" value="50000.00"' in page
    assert 'value="30000.00"' in page and 'name="jobs" type="number" value="120"' in page
    page = client.get(f"/projects/{project.id}/agreement")
    assert page.status_code == 200 and 'value="50000.00"' in page.get_data(as_text=True)


def test_agreement_saved_planned_and_audited(client, project):
    response = client.post(f"/projects/{project.id}/agreement", _agreement_form())
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    agreement = db.session.scalar(select(Agreement).where(Agreement.lead_id == project.id))
    assert agreement.total_investment_wan == Decimal("50000") and agreement.jobs == 120
    assert [p.planned_on for p in _plans(project, "start")] == [date(2027, 3, 1)]
    audited = set(db.session.scalars(select(AuditEntry.entity_type)))
    assert {"agreements", "milestone_plans"} <= audited
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert 'data-testid="agreement-total">50,000<' in page


def test_planned_start_before_signing_is_refused(client, project):
    response = client.post(f"/projects/{project.id}/agreement",
                           _agreement_form(plan_sign="2027-05-01", plan_land="", plan_start="2027-03-01"))
    assert response.status_code == 400
    assert "不能早于" in response.get_data(as_text=True)
    assert db.session.scalar(select(Agreement).where(Agreement.lead_id == project.id)) is None
    assert _plans(project, "start") == []


def test_replan_keeps_the_first_plan_and_needs_a_reason(client, project):
    assert client.post(f"/projects/{project.id}/agreement", _agreement_form()).status_code == 302
    version = db.session.scalar(select(Agreement.version).where(Agreement.lead_id == project.id))
    response = client.post(f"/projects/{project.id}/agreement",
                           _agreement_form(plan_start="2027-06-01", version=str(version)))
    assert response.status_code == 400 and "原因" in response.get_data(as_text=True)
    assert len(_plans(project, "start")) == 1
    response = client.post(f"/projects/{project.id}/agreement",
                           _agreement_form(plan_start="2027-06-01", reason="环评延期", version=str(version)))
    assert response.status_code == 302
    db.session.expire_all()
    plans = _plans(project, "start")
    assert [p.planned_on for p in plans] == [date(2027, 3, 1), date(2027, 6, 1)]
    assert plans[0].superseded_at is not None and plans[1].superseded_at is None
    assert plans[1].reason == "环评延期"
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "2027-03-01" in page and "环评延期" in page


def test_stale_agreement_version_is_refused(client, project):
    assert client.post(f"/projects/{project.id}/agreement", _agreement_form()).status_code == 302
    response = client.post(f"/projects/{project.id}/agreement",
                           _agreement_form(total_investment_wan="60000", version="99"))
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.scalar(select(Agreement.total_investment_wan)
                             .where(Agreement.lead_id == project.id)) == Decimal("50000")


@pytest.mark.parametrize("field, value", [("total_investment_wan", "-5"), ("land_area_mu", "-1"),
                                          ("jobs", "-3")])
def test_negative_agreement_values_are_refused(client, project, field, value):
    response = client.post(f"/projects/{project.id}/agreement", _agreement_form(**{field: value}))
    assert response.status_code == 400
    assert db.session.scalar(select(Agreement).where(Agreement.lead_id == project.id)) is None


# --- actual dates and the stage ------------------------------------------------------------------

def _actual(client, lead, milestone, day, note=""):
    return client.post(f"/projects/{lead.id}/milestones", {"milestone": milestone, "actual_on": day, "note": note})


def test_actual_signing_moves_the_stage_and_keeps_signed_on(client, project):
    response = _actual(client, project, "sign", "2026-11-20")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    lead = factories.reload(project)
    assert lead.stage == "signed" and lead.signed_on == date(2026, 11, 20)
    assert _actual(client, project, "start", "2026-12-01").status_code == 302
    lead = factories.reload(project)
    assert lead.stage == "started" and lead.started_on == date(2026, 12, 1)


@pytest.mark.parametrize("setup, milestone, day, message", [
    ([("sign", "2026-11-20")], "start", "2026-11-10", "不能早于"),         # start before signing
    ([("sign", "2026-11-20"), ("start", "2026-11-25")], "complete", "2026-11-24", "不能早于"),
    ([("sign", "2026-11-20")], "complete", "2026-11-30", "开工"),          # no 竣工 without 开工
    ([], "start", "2026-11-30", "签约"),                                    # no 开工 without 签约
    ([], "sign", "2026-12-06", "晚于今天"),                                     # in the future
])
def test_bad_actual_dates_are_refused(client, project, setup, milestone, day, message):
    for m, d in setup:
        assert _actual(client, project, m, d).status_code == 302
    stage = factories.reload(project).stage
    response = _actual(client, project, milestone, day)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(MilestoneActual).where(MilestoneActual.lead_id == project.id,
                                                           MilestoneActual.milestone == milestone)) is None
    assert factories.reload(project).stage == stage


def test_land_supply_has_no_stage(client, project):
    assert _actual(client, project, "sign", "2026-11-20").status_code == 302
    assert _actual(client, project, "land", "2026-11-25").status_code == 302
    assert factories.reload(project).stage == "signed"


def test_stage_form_records_the_milestone(client, project):
    response = client.post(f"/leads/{project.id}/stage", {"to_stage": "signed", "on_date": "2026-11-02",
                                                           "reason": "", "version": ""})
    assert response.status_code == 302
    actual = db.session.scalar(select(MilestoneActual).where(MilestoneActual.lead_id == project.id))
    assert actual.milestone == "sign" and actual.actual_on == date(2026, 11, 2)


def test_stage_form_cannot_contradict_the_milestones(client, officer):
    lead = admitted_lead(owner=officer)
    assert _actual(client, lead, "sign", "2026-11-20").status_code == 302
    assert _actual(client, lead, "start", "2026-11-25").status_code == 302
    response = client.post(f"/leads/{lead.id}/stage", {"to_stage": "completed", "on_date": "2026-11-21",
                                                        "reason": "", "version": ""})
    assert response.status_code == 400
    assert factories.reload(lead).stage == "started"
    assert db.session.scalar(select(MilestoneActual).where(MilestoneActual.lead_id == lead.id,
                                                           MilestoneActual.milestone == "complete")) is None


def test_stage_move_in_a_service_records_the_actual_once(db_session):
    lead = admitted_lead()
    lead_services.change_stage(lead, "signed", lead.owner, on_date=date(2026, 10, 1))
    services.record_actual(lead, "start", date(2026, 10, 5), lead.owner)
    assert lead.stage == "started"
    rows = db.session.scalars(select(MilestoneActual).where(MilestoneActual.lead_id == lead.id)).all()
    assert sorted((r.milestone, r.actual_on) for r in rows) == [("sign", date(2026, 10, 1)),
                                                                 ("start", date(2026, 10, 5))]


def test_project_changed_is_sent(db_session):
    from crm import signals

    lead = admitted_lead()
    seen = []

    def receiver(sender, **kw):
        seen.append(kw["lead_id"])

    signals.project_changed.connect(receiver)
    try:
        services.add_investment(lead, Decimal("10"), date(2026, 12, 1), lead.owner)
    finally:
        signals.project_changed.disconnect(receiver)
    assert seen == [lead.id]


# --- 到资 ----------------------------------------------------------------------------------------

def _invest(client, lead, amount, day="2026-12-01", confirm=False):
    data = {"amount_wan": amount, "paid_on": day, "note": ""}
    if confirm:
        data["confirm_over_total"] = "y"
    return client.post(f"/projects/{lead.id}/investments", data)


@pytest.mark.parametrize("amount, day, message", [
    ("-100", "2026-12-01", "大于0"),
    ("0", "2026-12-01", "大于0"),
    ("100", "2026-12-06", "晚于今天"),
])
def test_bad_investment_is_refused(client, project, amount, day, message):
    response = _invest(client, project, amount, day)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(InvestmentEntry).where(InvestmentEntry.lead_id == project.id)) is None


def test_investment_above_contracted_total_needs_confirmation(client, project):
    assert client.post(f"/projects/{project.id}/agreement", _agreement_form()).status_code == 302
    assert _invest(client, project, "40000").status_code == 302
    response = _invest(client, project, "20000")
    assert response.status_code == 400 and "超过" in response.get_data(as_text=True)
    assert len(db.session.scalars(select(InvestmentEntry).where(InvestmentEntry.lead_id == project.id)).all()) == 1
    assert _invest(client, project, "20000", confirm=True).status_code == 302
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert 'data-testid="investment-total">60,000<' in page


def test_investment_against_plan(client, project, clock_at):
    form = _agreement_form(plan_start="2026-06-01", plan_sign="2026-05-01", plan_land="2026-05-15",
                           plan_complete="2027-06-01", plan_produce="2027-09-01")
    assert client.post(f"/projects/{project.id}/agreement", form).status_code == 302
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    # 30000 fixed-asset, evenly 2026-06-01 → 2027-06-01 (365 days); 187 days by 2026-12-05
    assert 'data-testid="investment-planned">15,369.86<' in page


# --- who may -------------------------------------------------------------------------------------

def test_another_units_officer_is_refused(client, db_session):
    lead = admitted_lead()
    other = factories.user(roles=["officer"])
    client.login(other)
    assert client.get(f"/projects/{lead.id}").status_code == 403
    assert client.get(f"/projects/{lead.id}/agreement").status_code == 403
    assert client.post(f"/projects/{lead.id}/agreement", _agreement_form()).status_code == 403
    assert _actual(client, lead, "sign", "2026-11-20").status_code == 403
    assert _invest(client, lead, "10").status_code == 403
    assert db.session.scalar(select(Agreement).where(Agreement.lead_id == lead.id)) is None


@pytest.mark.parametrize("role, status", [("viewer", 200), ("leader", 200), ("admin", 200), ("screener", 403)])
def test_readers_see_but_do_not_edit(client, db_session, role, status):
    lead = admitted_lead()
    user = factories.user(roles=[role])
    client.login(user)
    response = client.get(f"/projects/{lead.id}")
    assert response.status_code == status
    if status == 200:
        assert 'data-testid="agreement-form"' not in response.get_data(as_text=True)
        assert client.post(f"/projects/{lead.id}/agreement", _agreement_form()).status_code == 403


def test_lead_page_links_the_project(client, project):
    assert f'href="/projects/{project.id}"' in client.get(f"/leads/{project.id}").get_data(as_text=True)


# --- the list ------------------------------------------------------------------------------------

def test_project_list_filters_and_visibility(client, officer):
    from crm.lights.models import ProjectLight
    from crm.problems.models import Problem

    late = admitted_lead(owner=officer, stage="signed")
    red = admitted_lead(owner=officer)
    with_problem = admitted_lead(owner=officer)
    factories.lead(owner=officer)  # not admitted: not a project
    foreign = admitted_lead()
    db.session.add(MilestonePlan(lead_id=late.id, milestone="start", planned_on=date(2026, 10, 1)))
    db.session.add(ProjectLight(lead_id=red.id, colour="red", reasons=[], since=date(2026, 12, 1)))
    db.session.add(Problem(lead_id=with_problem.id, category="land", description="用地指标",
                           responsible_unit_id=officer.unit_id, due_on=date(2027, 1, 1), status="open",
                           raised_on=date(2026, 12, 1)))
    db.session.flush()

    def ids(query=""):
        page = client.get("/projects" + query)
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        return {lead.id for lead in (late, red, with_problem, foreign) if f'href="/projects/{lead.id}"' in text}

    assert ids() == {late.id, red.id, with_problem.id}
    assert ids("?overdue=1") == {late.id}
    assert ids("?colour=red") == {red.id}
    assert ids("?open_problems=1") == {with_problem.id}
    assert ids("?stage=signed") == {late.id}
    assert client.get("/projects?colour=purple").status_code == 400


def test_project_export_is_an_xlsx_with_chinese_headers(client, project):
    from openpyxl import load_workbook

    response = client.get("/projects/export")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("项目ID", "企业名称", "项目名称")
    assert [r[0] for r in rows[1:]] == [project.id]


# --- evidence files ------------------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_milestone_evidence_is_added_by_the_owner_unit_and_read_by_readers(client, make_client, project):
    import io

    from crm.attachments.models import Attachment

    assert _actual(client, project, "sign", "2026-11-20").status_code == 302
    actual = db.session.scalar(select(MilestoneActual).where(MilestoneActual.lead_id == project.id))
    response = client.post(f"/attachments/milestone/{actual.id}", {"file": (io.BytesIO(PDF), "投资协议.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:1000]
    row = db.session.scalar(select(Attachment).where(Attachment.owner_kind == "milestone"))
    assert row is not None and row.owner_id == actual.id
    assert "投资协议.pdf" in client.get(f"/projects/{project.id}").get_data(as_text=True)
    outsider = make_client()
    outsider.login(factories.user(roles=["officer"]))
    assert outsider.get(f"/attachments/{row.id}/download").status_code in (403, 404)
    refused = outsider.post(f"/attachments/milestone/{actual.id}", {"file": (io.BytesIO(PDF), "x.pdf")},
                            content_type="multipart/form-data")
    assert refused.status_code in (403, 404)
    viewer = make_client()
    viewer.login(factories.user(roles=["viewer"]))
    assert viewer.get(f"/attachments/{row.id}/download").status_code == 200


def test_project_list_is_paginated(client, officer):
    leads = [admitted_lead(owner=officer) for _ in range(3)]
    first = client.get("/projects?per_page=2").get_data(as_text=True)
    second = client.get("/projects?per_page=2&page=2").get_data(as_text=True)
    shown = [[lead.id for lead in leads if f'href="/projects/{lead.id}"' in page] for page in (first, second)]
    assert sorted(shown[0] + shown[1]) == sorted(lead.id for lead in leads) and len(shown[0]) == 2
    assert "1 / 2" in first
    assert client.get("/projects?page=0").status_code == 400


def test_a_project_older_than_tracking_uses_the_leads_dates(db_session):
    lead = admitted_lead(stage="started")
    lead.signed_on, lead.started_on = date(2026, 10, 1), date(2026, 10, 10)
    db.session.flush()
    with pytest.raises(services.TrackingError):
        services.record_actual(lead, "sign", date(2026, 10, 20), lead.owner)  # after the start
    services.record_actual(lead, "complete", date(2026, 11, 1), lead.owner)
    assert lead.stage == "completed"
    services.record_actual(lead, "start", date(2026, 10, 10), lead.owner)
    assert lead.started_on == date(2026, 10, 10)
