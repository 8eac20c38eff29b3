"""Importing the interchange file: preview, duplicates, all-or-nothing, report, undo, bad input."""
from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.interchange.models import ImportBatch
from crm.leads.models import Lead, Source
from tests import factories
from tests.import_files import HEADERS, csv_bytes, row, xlsx, zip_bomb


def _leads():
    return db.session.scalar(select(func.count()).select_from(Lead))


def _upload(client, content: bytes, name="线索.xlsx", mode="create", unit_id=None, user=None):
    data = {"file": (io.BytesIO(content), name), "mode": mode}
    if unit_id or user:
        data["unit_id"] = unit_id or user.unit_id
    return client.post("/imports/new", data, content_type="multipart/form-data")


def _run_confirmed(app, batch_id):
    """What the worker does (its own tests run a real worker): run the queued import."""
    from crm.interchange.jobs import run_import_job

    with app.app_context():
        return run_import_job(batch_id)


@pytest.fixture()
def team_lead(client, db_session):
    user = factories.user(roles=["team_lead"])
    factories.source("上海将乐商会", kind="chamber")
    client.login(user)
    return user


def _preview(client, team_lead, content, name="线索.xlsx", mode="create"):
    response = _upload(client, content, name, mode, user=team_lead)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    page = client.get(response.location)
    return page, int(response.location.rsplit("/", 1)[1])


def _confirm(client, batch_id, **form):
    response = client.post(f"/imports/{batch_id}/confirm", form)
    assert response.status_code == 302
    return _run_confirmed(client.raw.application, batch_id)


def test_xlsx_import_with_title_row_chinese_amounts_and_dates(client, team_lead):
    content = xlsx([row(), row(name="三明富硒食品有限公司", planned="五千万", created="2024/3/5", stage="lead"),
                    row(name="厦门某科技有限公司", planned="约5亿", created="2024-03-05", high_tech="×")],
                   title="将乐县招商线索台账（2024年）")
    page, batch_id = _preview(client, team_lead, content)
    text = page.get_data(as_text=True)
    import re

    counts = re.search(r'data-testid="counts">([^<]+)<', text).group(1)
    assert page.status_code == 200 and counts.startswith("共 3 行") and "新建 3" in counts, counts
    assert _confirm(client, batch_id) == "done"
    leads = {l.company_name: l for l in db.session.scalars(select(Lead))}
    assert leads["福建富远铝业有限公司"].planned_investment_wan == Decimal("12000")
    assert leads["三明富硒食品有限公司"].planned_investment_wan == Decimal("5000")
    assert leads["厦门某科技有限公司"].planned_investment_wan == Decimal("50000")
    assert leads["厦门某科技有限公司"].high_tech is False
    assert leads["福建富远铝业有限公司"].stage == "negotiating"
    assert leads["福建富远铝业有限公司"].source.name == "上海将乐商会"
    assert all(l.owner_unit_id == team_lead.unit_id for l in leads.values())
    assert str(leads["三明富硒食品有限公司"].created_on) == "2024-03-05"


def test_csv_in_gb18030_and_english_keys_in_any_order(client, team_lead):
    headers = ["project_name", "company_name", "planned_investment_wan", "land_area_mu"]
    content = csv_bytes([["富硒香菇三产融合项目", "将乐县富硒香菇有限公司", "3000万元", "25"]], headers, "gb18030")
    page, batch_id = _preview(client, team_lead, content, name="线索.csv")
    assert "将乐县富硒香菇有限公司" in page.get_data(as_text=True)
    assert _confirm(client, batch_id) == "done"
    lead = db.session.scalar(select(Lead))
    assert lead.company_name == "将乐县富硒香菇有限公司" and lead.project_name == "富硒香菇三产融合项目"


def test_unknown_columns_are_reported_and_ignored(client, team_lead):
    content = csv_bytes([["甲公司", "对接人张三"]], ["企业名称", "备注（内部）"])
    page, batch_id = _preview(client, team_lead, content, name="a.csv")
    assert "备注（内部）" in page.get_data(as_text=True)
    assert _confirm(client, batch_id) == "done" and _leads() == 1


@pytest.mark.parametrize("content, name, message", [
    (b"", "a.csv", "空"),
    (csv_bytes([]), "a.csv", "没有数据行"),
    (csv_bytes([["项目A", "1000"]], ["项目名称", "计划总投资(万元)"]), "a.csv", "企业名称"),
    (zip_bomb(), "a.xlsx", "zip"),
    (b"this is text, not a workbook", "a.xlsx", ".xlsx"),
    (xlsx([row()], merge="A1:B1"), "a.xlsx", "合并"),
])
def test_files_that_cannot_be_imported_get_a_clear_message(client, team_lead, content, name, message):
    response = _upload(client, content, name, user=team_lead)
    page = client.get(response.location)
    assert page.status_code == 400
    assert message in page.get_data(as_text=True)
    assert _leads() == 0


def test_csv_that_switches_encoding_midway_is_refused_whole(client, team_lead):
    utf8 = csv_bytes([row(name=f"甲{i}公司", source="", kind="") for i in range(14000)])  # > 1 MB of UTF-8
    content = utf8 + "乙公司,,,,,,,,,,,\r\n".encode("gb18030")
    assert len(utf8) > 1 << 20
    response = _upload(client, content, "mixed.csv", user=team_lead)
    # The preview reads the first rows only; the job, reading them all, refuses the file.
    assert client.get(response.location).status_code == 200
    batch_id = int(response.location.rsplit("/", 1)[1])
    assert _confirm(client, batch_id) == "failed"
    page = client.get(response.location)
    assert "混用了多种编码" in page.get_data(as_text=True)
    assert _leads() == 0


def test_upload_over_the_limit_is_refused(client, team_lead):
    response = _upload(client, b"x" * (60 * 1024 * 1024), "big.csv", user=team_lead)
    assert response.status_code == 413
    assert "上传文件超过允许的大小。" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_bad_rows_block_the_whole_file_and_come_back_in_a_report(client, team_lead):
    content = xlsx([row(), row(name="乙公司", uscc="91110000600037341X"), row(name="丙公司", planned="abc"),
                    row(name="丁公司", land="0")])
    page, batch_id = _preview(client, team_lead, content)
    text = page.get_data(as_text=True)
    assert "校验位错误" in text and "abc" in text and "用地面积必须大于 0" in text
    assert _confirm(client, batch_id) == "failed"
    assert _leads() == 0  # all or nothing
    report = client.get(f"/imports/{batch_id}/report")
    assert report.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(report.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:len(HEADERS)] == tuple(HEADERS)
    assert [r[0] for r in values[1:]] == ["乙公司", "丙公司", "丁公司"]
    assert values[1][len(HEADERS)] == 3  # original row number (header is row 1)
    assert "统一社会信用代码" in values[1][-1]
    # The report, fixed, imports again (its extra columns are ignored).
    wb = openpyxl.load_workbook(io.BytesIO(report.data))
    ws = wb.active
    ws.cell(2, 2).value, ws.cell(3, 6).value, ws.cell(4, 8).value = "91110000600037341L", "500", "12"
    fixed = io.BytesIO()
    wb.save(fixed)
    _page, again = _preview(client, team_lead, fixed.getvalue())
    assert _confirm(client, again) == "done" and _leads() == 3


def test_import_the_valid_rows_only_when_asked(client, team_lead):
    content = xlsx([row(), row(name="乙公司", planned="abc")])
    _page, batch_id = _preview(client, team_lead, content)
    assert _confirm(client, batch_id, valid_rows_only="y") == "done"
    batch = db.session.get(ImportBatch, batch_id)
    assert (batch.created_count, batch.rejected_count) == (1, 1) and batch.report_path
    assert _leads() == 1


def test_duplicates_in_the_file_and_in_the_database(client, team_lead):
    factories.lead(owner=team_lead, company_name="福建富远铝业股份有限公司", planned_investment_wan=Decimal(1))
    other = factories.unit("水南镇")
    factories.lead(unit_=other, company_name="厦门金达新材料有限公司", uscc="91110000600037341L")
    content = xlsx([row(name="福建富远铝业有限公司"), row(name="三明新公司"), row(name=" 三明新公司（中国）"),
                    row(name="金达新材料科技", uscc="91110000600037341L")])
    page, batch_id = _preview(client, team_lead, content)
    text = page.get_data(as_text=True)
    assert "本文件第 3 行" in text                         # the pair inside the file
    assert "由水南镇跟进" in text                            # another unit: its name, nothing more
    assert _confirm(client, batch_id) == "done"
    assert _leads() == 3  # two existing + 三明新公司 once; the others skipped


def test_upsert_updates_matching_leads_and_a_second_run_adds_nothing(client, team_lead):
    content = xlsx([row(planned="2亿"), row(name="三明新公司")])
    _page, first = _preview(client, team_lead, content, mode="upsert")
    assert _confirm(client, first) == "done" and _leads() == 2
    changed = xlsx([row(planned="3亿"), row(name="三明新公司")])
    _page, second = _preview(client, team_lead, changed, mode="upsert")
    assert _confirm(client, second) == "done"
    assert _leads() == 2
    lead = db.session.scalar(select(Lead).where(Lead.company_name == "福建富远铝业有限公司"))
    assert lead.planned_investment_wan == Decimal("30000")
    batch = db.session.get(ImportBatch, second)
    assert (batch.created_count, batch.updated_count) == (0, 1)  # 三明新公司 unchanged


def test_undo_removes_created_and_restores_updated_leads_until_one_changes(client, team_lead):
    existing = factories.lead(owner=team_lead, company_name="福建富远铝业有限公司",
                              planned_investment_wan=Decimal(100))
    _page, batch_id = _preview(client, team_lead, xlsx([row(planned="2亿"), row(name="三明新公司")]), mode="upsert")
    assert _confirm(client, batch_id) == "done"
    assert client.post(f"/imports/{batch_id}/undo").status_code == 302
    assert _leads() == 1
    assert factories.reload(existing).planned_investment_wan == Decimal(100)
    # A second import, then someone edits one of its leads: undo is refused, nothing changes.
    _page, again = _preview(client, team_lead, xlsx([row(name="三明新公司")]))
    assert _confirm(client, again) == "done"
    new = db.session.scalar(select(Lead).where(Lead.company_name == "三明新公司"))
    moved = client.post(f"/leads/{new.id}/stage", {"to_stage": "lost", "reason": "投资方放弃", "version": new.version})
    assert moved.status_code == 302
    response = client.post(f"/imports/{again}/undo", follow_redirects=True)
    assert "已不能再撤销" in response.get_data(as_text=True)
    assert _leads() == 2


def test_new_sources_and_units_are_listed_and_created_on_confirm_by_a_team_lead(client, team_lead):
    headers = HEADERS + ["责任单位"]
    content = xlsx([row(source="深圳将乐商会") + [team_lead.unit.name]], headers)
    page, batch_id = _preview(client, team_lead, content)
    assert "深圳将乐商会" in page.get_data(as_text=True)
    assert db.session.scalar(select(Source).where(Source.name == "深圳将乐商会")) is None
    assert _confirm(client, batch_id) == "done"
    assert db.session.scalar(select(Source).where(Source.name == "深圳将乐商会")).kind == "chamber"


def test_officer_cannot_create_sources_or_import_into_another_unit(client, db_session):
    officer = factories.user(roles=["officer"])
    factories.unit("高唐镇")
    client.login(officer)
    headers = HEADERS + ["责任单位"]
    content = xlsx([row(source="新商会") + [officer.unit.name], row(name="乙公司", source="") + ["高唐镇"]], headers)
    response = _upload(client, content, user=officer)
    text = client.get(response.location).get_data(as_text=True)
    assert "未知的线索来源“新商会”：只有招商组组长或管理员可以新建。" in text
    assert f"只能导入本单位（{officer.unit.name}）的线索。" in text


def test_cli_import_leads(app, db_session, tmp_path):
    factories.user(roles=["admin"], username="admin")
    path = tmp_path / "线索.csv"
    path.write_bytes(csv_bytes([row(source="")]))
    result = app.test_cli_runner().invoke(args=["import-leads", str(path), "--user", "admin"])
    assert result.exit_code == 0, result.output
    assert "1 created" in result.output and _leads() == 1


def test_api_import_returns_the_job_and_its_status(app, db_session):
    from crm.auth.services import issue_api_token

    user = factories.user(roles=["team_lead"])
    _token, raw = issue_api_token(user, "t", 30)
    api = app.test_client()
    auth = {"Authorization": f"Bearer {raw}"}
    response = api.post("/api/v1/imports", data={"file": (io.BytesIO(csv_bytes([row(source="")])), "a.csv")},
                        headers=auth, content_type="multipart/form-data")
    assert response.status_code == 202, response.json
    assert response.json["status"] == "queued" and response.json["job_id"]
    bad = api.post("/api/v1/imports", data={"file": (io.BytesIO(b""), "a.csv")}, headers=auth,
                   content_type="multipart/form-data")
    assert bad.status_code == 400 and bad.json["error"]["message"]
    status = api.get(f"/api/v1/imports/{response.json['id']}", headers=auth)
    assert status.status_code == 200 and status.json["total"] == 1
