"""Yearly output and tax (typed in, and the tax bureau's sheet: all or nothing), and the
after-production panel (履约, 亩均) with its pure rules as tables."""
from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEntry
from crm.extensions import db
from crm.tracking import performance, results
from crm.tracking.models import Agreement, InvestmentEntry, Milestone, MilestoneActual, YearlyResult
from crm.tracking.performance import Facts
from tests import factories

NOW = "2026-11-25T10:00:00+08:00"
D = Decimal


# --- the pure rules -------------------------------------------------------------------------------
def _facts(**kw):
    base = dict(land_mu=D(100), promised_fixed_wan=D(30000), promised_output_wan=D(50000), promised_tax_wan=D(1000),
                invested_wan=D(30000), planned_complete=date(2025, 6, 30), completed_on=date(2025, 6, 1),
                produced_on=date(2025, 9, 1), latest_year=2026, latest_output_wan=D(60000), latest_tax_wan=D(1200))
    base.update(kw)
    return Facts(**base)


TODAY = date(2026, 11, 25)


@pytest.mark.parametrize("facts, today, statuses, low", [
    # everything met: 300 万元/亩 invested of 300 promised; 600 output and 12 tax per mu of 500 and 10
    (_facts(), TODAY, ("met", "met", "met"), False),
    # 到资 at 90% of the promise is met (the 履约 line), below it behind once completion was due
    (_facts(invested_wan=D(27000)), TODAY, ("met", "met", "met"), False),
    (_facts(invested_wan=D(26000)), TODAY, ("behind", "met", "met"), False),
    # … but before the planned completion it is not yet due
    (_facts(invested_wan=D(10000)), date(2025, 6, 1), ("not_due", "met", "met"), False),
    # no planned completion: due from the actual completion; neither: not yet due
    (_facts(invested_wan=D(10000), planned_complete=None), TODAY, ("behind", "met", "met"), False),
    (_facts(invested_wan=D(10000), planned_complete=None, completed_on=None), TODAY, ("not_due", "met", "met"), False),
    # tax per mu 4 万元/亩 < 5: behind the promise of 10 and flagged low-efficiency
    (_facts(latest_tax_wan=D(400)), TODAY, ("met", "met", "behind"), True),
    (_facts(latest_tax_wan=D(500)), TODAY, ("met", "met", "behind"), False),  # exactly 5 is not below
    # produced in September 2025: only the production year's figures → the first full year (2026)
    # is not yet over: not due; from 2027 on without figures for 2026: behind
    (_facts(latest_year=2025, latest_output_wan=D(100), latest_tax_wan=D(1)), TODAY,
     ("met", "not_due", "not_due"), True),
    (_facts(latest_year=2025, latest_output_wan=D(100), latest_tax_wan=D(1)), date(2027, 1, 1),
     ("met", "behind", "behind"), True),
    (_facts(latest_year=None, latest_output_wan=None, latest_tax_wan=None), date(2027, 1, 1),
     ("met", "behind", "behind"), False),
    # produced on 1 January: that year is the first full year
    (_facts(produced_on=date(2026, 1, 1), latest_year=2026, latest_tax_wan=D(900)), TODAY,
     ("met", "met", "behind"), False),
    # nothing promised: no status; no land: nothing per mu
    (_facts(promised_fixed_wan=None, promised_output_wan=None, promised_tax_wan=None), TODAY,
     (None, None, None), False),
    (_facts(land_mu=None), TODAY, (None, None, None), False),
    (_facts(land_mu=D(0)), TODAY, (None, None, None), False),
])
def test_commitments_and_low_efficiency(facts, today, statuses, low):
    result = performance.evaluate(facts, today, D(5), 90)
    assert tuple(c.status.value if c.status else None for c in result.commitments) == statuses
    assert result.low_efficiency is low


def test_per_mu_figures():
    result = performance.evaluate(_facts(land_mu=D(30)), TODAY, D(5), 90)
    assert (result.intensity.promised, result.intensity.actual) == (D("1000.00"), D("1000.00"))
    assert (result.output_per_mu.actual, result.tax_per_mu.actual) == (D("2000.00"), D("40.00"))


# --- typed in on the project page -----------------------------------------------------------------
def _producing(stage="producing", **fields):
    lead = factories.lead(uscc=factories.valid_uscc(), **fields)
    lead.stage = stage
    db.session.add(Agreement(lead_id=lead.id, fixed_asset_investment_wan=D(30000), land_area_mu=D(100),
                             promised_output_wan=D(50000), promised_tax_wan=D(1000)))
    db.session.add(MilestoneActual(lead_id=lead.id, milestone=Milestone.PRODUCE.value, actual_on=date(2024, 3, 1)))
    db.session.add(InvestmentEntry(lead_id=lead.id, paid_on=date(2025, 1, 10), amount_wan=D(30000)))
    db.session.flush()
    return lead


def _rows(lead_id):
    return db.session.scalars(select(YearlyResult).where(YearlyResult.lead_id == lead_id)
                              .order_by(YearlyResult.year)).all()


def test_owner_unit_types_in_a_year_and_the_panel_shows_efficiency(client, db_session, clock_at):
    clock_at(NOW)
    lead = _producing()
    client.login(lead.owner)
    response = client.post(f"/projects/{lead.id}/results", {"result-year": "2025", "result-output_wan": "45000",
                                                           "result-tax_wan": "400"})
    assert response.status_code == 302
    [row] = _rows(lead.id)
    assert (row.year, row.output_wan, row.tax_wan, row.source) == (2025, D(45000), D(400), "manual")
    page = client.get(f"/projects/{lead.id}").get_data(as_text=True)
    assert 'data-panel="results"' in page and 'data-panel="performance"' in page
    assert 'data-testid="low-efficiency"' in page  # 4 万元/亩 < 5
    assert "已履约" in page and "未达承诺" in page, page[page.find("performance-table"):][:2500]


def test_a_year_typed_again_is_replaced_and_audited(client, db_session, clock_at):
    clock_at(NOW)
    lead = _producing()
    client.login(lead.owner)
    client.post(f"/projects/{lead.id}/results", {"result-year": "2025", "result-tax_wan": "400"})
    client.post(f"/projects/{lead.id}/results", {"result-year": "2025", "result-tax_wan": "650"})
    [row] = _rows(lead.id)
    assert row.tax_wan == D(650)
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.entity_type == "yearly_results", AuditEntry.entity_id == row.id, AuditEntry.action == "update")) == 1


@pytest.mark.parametrize("form, message", [
    ({"result-year": "2025", "result-tax_wan": "-3"}, "金额不能为负数"),
    ({"result-year": "2025", "result-output_wan": "-1"}, "金额不能为负数"),
    ({"result-year": "1989", "result-tax_wan": "3"}, "1990"),
    ({"result-year": "2027", "result-tax_wan": "3"}, "2026"),
    ({"result-year": "2025"}, "产值或税收"),
    ({"result-year": "", "result-tax_wan": "3"}, "请填写年度"),
])
def test_bad_yearly_results_are_refused(client, db_session, clock_at, form, message):
    clock_at(NOW)
    lead = _producing()
    client.login(lead.owner)
    response = client.post(f"/projects/{lead.id}/results", form)
    assert response.status_code == 303
    assert message in client.get(response.location).get_data(as_text=True)
    assert _rows(lead.id) == []


def test_results_only_for_producing_projects_and_the_owner_unit(client, make_client, db_session, clock_at):
    clock_at(NOW)
    signed = _producing(stage="signed")
    client.login(signed.owner)
    page = client.get(f"/projects/{signed.id}").get_data(as_text=True)
    assert 'data-panel="results"' not in page and 'data-panel="performance"' not in page
    response = client.post(f"/projects/{signed.id}/results", {"result-year": "2025", "result-tax_wan": "3"})
    assert response.status_code == 303 and _rows(signed.id) == []
    producing = _producing()
    other = make_client()
    other.login(factories.user(roles=["officer"]))
    assert other.post(f"/projects/{producing.id}/results", {"result-year": "2025", "result-tax_wan": "3"}).status_code == 403


# --- the tax bureau's sheet ------------------------------------------------------------------------
def _csv(rows, headers=("统一社会信用代码", "年度", "产值(万元)", "税收(万元)")) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def _xlsx(rows, headers) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(client, content: bytes, name="税务数据.csv"):
    return client.post("/tracking/results/import", {"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def test_sheet_with_an_unknown_code_and_a_duplicate_year_writes_nothing(client, db_session, clock_at):
    clock_at(NOW)
    lead = _producing()
    unknown = factories.valid_uscc()
    client.login(factories.user(roles=["admin"]))
    content = _csv([[lead.uscc, "2025", "45000", "600"],
                    [unknown, "2025", "100", "10"],
                    [lead.uscc, "2024", "30000", "300"],
                    [lead.uscc, "2024", "31000", "310"]])
    response = _upload(client, content)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-testid="rejected-row-3"' in page and "未知的统一社会信用代码" in page
    assert 'data-testid="rejected-row-4"' in page and 'data-testid="rejected-row-5"' in page and "年度重复" in page
    assert 'data-testid="confirm-form"' not in page
    assert _rows(lead.id) == []


def test_sheet_preview_then_confirm_writes_and_replaces(client, db_session, clock_at):
    clock_at(NOW)
    lead = _producing()
    results.put_result(lead, 2025, D(40000), D(500), lead.owner)
    client.login(factories.user(roles=["admin"]))
    content = _xlsx([[lead.uscc, "2025年", 45000, 600], [lead.uscc, 2024, "30,000", ""]],
                    ("统一社会信用代码", "年份", "工业产值", "纳税额"))
    page = _upload(client, content, "2025年税收.xlsx").get_data(as_text=True)
    assert 'data-testid="accepted-row-2"' in page and 'data-testid="replaces"' in page
    assert 'data-testid="confirm-form"' in page
    assert [r.tax_wan for r in _rows(lead.id)] == [D(500)]  # the preview writes nothing
    token = re.search(r'name="token" type="hidden" value="([0-9a-f]{32})"', page).group(1)
    response = client.post("/tracking/results/import/confirm", {"token": token})
    assert response.status_code == 302
    rows = _rows(lead.id)
    assert [(r.year, r.output_wan, r.tax_wan, r.source) for r in rows] == [
        (2024, D(30000), None, "tax_bureau"), (2025, D(45000), D(600), "tax_bureau")]
    assert rows[0].import_ref == rows[1].import_ref
    # the kept file is gone: a second confirmation writes nothing
    assert client.post("/tracking/results/import/confirm", {"token": token}).status_code == 303


@pytest.mark.parametrize("row, reason", [
    (["CODE", "2025", "100", "-5"], "不能为负数"),
    (["CODE", "2025", "很多", "5"], "不是数字"),
    (["CODE", "20x5", "100", "5"], "不是年度"),
    (["CODE", "2030", "100", "5"], "1990"),
    (["CODE", "", "100", "5"], "缺少年度"),
    (["91350428MA0000000X", "2025", "100", "5"], "统一社会信用代码"),
    (["SIGNED", "2025", "100", "5"], "不是已投产项目"),
    (["CODE", "2025", "", ""], "都没有填写"),
])
def test_each_bad_row_is_reported_and_nothing_is_written(client, db_session, clock_at, row, reason):
    clock_at(NOW)
    lead = _producing()
    signed = _producing(stage="signed")
    good = [lead.uscc, "2024", "100", "5"]
    row = [{"CODE": lead.uscc, "SIGNED": signed.uscc}.get(row[0], row[0])] + row[1:]
    client.login(factories.user(roles=["admin"]))
    page = _upload(client, _csv([good, row])).get_data(as_text=True)
    assert 'data-testid="rejected-row-3"' in page and reason in page, page[page.find("import-report"):][:3000]
    assert 'data-testid="rejected-row-2"' not in page and 'data-testid="confirm-form"' not in page
    assert _rows(lead.id) == []


@pytest.mark.parametrize("content, name, message", [
    (b"", "a.csv", "空"), (b"hello", "a.txt", ".xlsx"), ("姓名,年龄\n张三,3\n".encode(), "a.csv", "统一社会信用代码"),
])
def test_unreadable_sheets(client, db_session, content, name, message):
    client.login(factories.user(roles=["admin"]))
    response = _upload(client, content, name)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["officer", "team_lead", "leader", "viewer", "screener"])
def test_only_admins_import_the_sheet(client, db_session, role):
    client.login(factories.user(roles=[role]))
    assert client.get("/tracking/results/import").status_code == 403


def test_cli_import_results(app, db_session, clock_at, tmp_path):
    clock_at(NOW)
    factories.user(roles=["admin"], username="admin")
    lead = _producing()
    lead_id, uscc = lead.id, lead.uscc
    db.session.commit()  # the test's savepoint: the refused import rolls back only its own writes
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv([[uscc, "2025", "1", "2"], [factories.valid_uscc(), "2025", "1", "2"]]))
    result = app.test_cli_runner().invoke(args=["tracking", "import-results", str(bad)])
    assert result.exit_code == 1 and "row 3: REJECTED" in result.output and _rows(lead_id) == []
    good = tmp_path / "good.csv"
    good.write_bytes(_csv([[uscc, "2025", "45000", "600"]]))
    result = app.test_cli_runner().invoke(args=["tracking", "import-results", str(good), "--dry-run"])
    assert result.exit_code == 0 and "dry run" in result.output and _rows(lead_id) == [], result.output
    result = app.test_cli_runner().invoke(args=["tracking", "import-results", str(good)])
    assert result.exit_code == 0, result.output
    assert [(r.year, r.tax_wan) for r in _rows(lead_id)] == [(2025, D(600))]


# --- API -------------------------------------------------------------------------------------------
def _api(app, user):
    from crm.auth.services import issue_api_token

    _t, raw = issue_api_token(user, "t", 30)
    db.session.commit()  # the test's savepoint: a refused request rolls back only its own writes
    return app.test_client(), {"Authorization": f"Bearer {raw}"}


def test_api_results(app, db_session, clock_at):
    clock_at(NOW)
    lead = _producing()
    lead_id = lead.id
    api, headers = _api(app, lead.owner)
    response = api.post(f"/api/v1/projects/{lead_id}/results", headers=headers,
                        json={"year": 2025, "output_wan": 45000, "tax_wan": 600.5})
    assert response.status_code == 201, response.get_json()
    again = api.post(f"/api/v1/projects/{lead_id}/results", headers=headers, json={"year": 2025, "tax_wan": 700})
    assert again.status_code == 200 and again.get_json()["replaced"] is True
    body = api.get(f"/api/v1/projects/{lead_id}/results", headers=headers).get_json()
    assert body["items"] == [{"lead_id": lead_id, "year": 2025, "output_wan": None, "tax_wan": 700.0,
                              "source": "manual"}]


@pytest.mark.parametrize("payload, field", [
    ({"year": 2025, "tax_wan": -1}, "tax_wan"),
    ({"year": 1800, "tax_wan": 1}, "year"),
    ({"year": 2025}, "output_wan"),
    ({"tax_wan": 1}, "year"),
])
def test_api_bad_results(app, db_session, clock_at, payload, field):
    clock_at(NOW)
    lead_id = _producing().id
    api, headers = _api(app, db.session.get(__import__("crm.leads.models", fromlist=["Lead"]).Lead, lead_id).owner)
    response = api.post(f"/api/v1/projects/{lead_id}/results", headers=headers, json=payload)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert _rows(lead_id) == []
