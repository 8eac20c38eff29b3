"""The office's own sheet as it is (issue 17): the chains, nodes, sources and units it names that do
not exist yet are listed in the preview and created on confirm by team leads and administrators
(officers import only into what exists), totals rows are skipped and listed, 备注 is the note, and
a blank template is offered."""
from __future__ import annotations

import io
import re

import openpyxl
import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEntry
from crm.auth.models import Unit
from crm.chains.models import Chain, ChainNode
from crm.extensions import db
from crm.interchange.columns import COLUMNS
from crm.interchange.models import ImportBatch
from crm.leads.models import Lead
from tests import factories
from tests.import_files import csv_bytes, xlsx

SHEET = ["企业名称", "项目名称", "产业链", "产业链环节", "责任单位", "计划总投资(万元)", "阶段"]


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _upload(client, content, name="台账.xlsx", mode="create", unit_id=None):
    data = {"file": (io.BytesIO(content), name), "mode": mode}
    if unit_id:
        data["unit_id"] = unit_id
    return client.post("/imports/new", data, content_type="multipart/form-data")


def _preview(client, user, content, name="台账.xlsx", mode="create"):
    response = _upload(client, content, name, mode, user.unit_id)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    batch_id = int(response.location.rsplit("/", 1)[1])
    page = client.get(response.location)
    assert page.status_code == 200, page.get_data(as_text=True)[:2000]
    return page.get_data(as_text=True), batch_id


def _run(client, batch_id, **form):
    from crm.interchange.jobs import run_import_job

    response = client.post(f"/imports/{batch_id}/confirm", form)
    assert response.status_code == 302
    with client.raw.application.app_context():
        return run_import_job(batch_id)


def _pending(batch_id) -> dict:
    db.session.expire_all()
    return db.session.get(ImportBatch, batch_id).decisions["_pending"]


def _login(client, role):
    user = factories.user(roles=[role])
    client.login(user)
    return user


def _office_sheet(own_unit: str) -> bytes:
    """Only unknown chains, nodes and units: 森林康养 with its node, a new node of a known chain,
    驻沪招商联络处 (a unit whose kind its name does not say) and 水南镇 (a town, told by its name)."""
    return xlsx([["将乐森林康养旅游有限公司", "龙栖山森林康养基地", "森林康养", "康养基地", "驻沪招商联络处", "3亿", "洽谈"],
                 ["福建富硒茶业有限公司", "富硒茶精深加工", "特色农林", "茶叶精深加工", "水南镇", "5000", "线索"],
                 ["三明竹木制品有限公司", "竹木家具", "特色农林", "竹木加工", own_unit, "8000", "洽谈"]], SHEET)


@pytest.fixture()
def farm_chain(db_session):
    return factories.chain("特色农林", nodes=("竹木加工",))


# --- unknown chains and units --------------------------------------------------------------------

def test_an_officer_is_refused_the_rows_that_name_unknown_chains_and_units(client, farm_chain):
    officer = _login(client, "officer")
    page, batch_id = _preview(client, officer, _office_sheet(officer.unit.name))
    assert "未知的产业链“森林康养”：只有招商组组长或管理员可以新建。" in page
    assert "未知的单位“驻沪招商联络处”：只有招商组组长或管理员可以新建。" in page
    assert "未知的单位“水南镇”：只有招商组组长或管理员可以新建。" in page
    assert 'data-testid="new-references"' not in page and 'name="unit_kind-0"' not in page
    assert _run(client, batch_id) == "failed"  # all or nothing: nothing imported, nothing created
    assert _count(Lead) == 0 and _count(Chain, Chain.name == "森林康养") == 0
    assert _count(Unit, Unit.name.in_(["驻沪招商联络处", "水南镇"])) == 0
    # With "import the valid rows", only the row into what exists goes in.
    _page, again = _preview(client, officer, _office_sheet(officer.unit.name))
    assert _run(client, again, valid_rows_only="y") == "done"
    assert [lead.company_name for lead in db.session.scalars(select(Lead))] == ["三明竹木制品有限公司"]
    assert _count(Chain, Chain.name == "森林康养") == 0 and _count(Unit, Unit.name == "驻沪招商联络处") == 0


def test_an_officer_is_refused_an_unknown_node_of_a_known_chain_by_name(client, farm_chain):
    officer = _login(client, "officer")
    content = xlsx([["甲茶业有限公司", "", "特色农林", "茶叶精深加工", "", "", ""]], SHEET)
    page, _batch_id = _preview(client, officer, content)
    assert "未知的产业链环节“特色农林 · 茶叶精深加工”：只有招商组组长或管理员可以新建。" in page


def test_a_team_lead_creates_them_on_confirm_with_the_kind_chosen(client, farm_chain):
    team_lead = _login(client, "team_lead")
    page, batch_id = _preview(client, team_lead, _office_sheet(team_lead.unit.name))
    counts = re.search(r'data-testid="counts">([^<]+)<', page).group(1)
    assert "新建 3 行" in counts and "未通过 0 行" in counts, counts
    assert "新产业链：森林康养" in page
    assert "森林康养 · 康养基地" in page and "特色农林 · 茶叶精深加工" in page
    pending = _pending(batch_id)
    units = [name for name, _kind in pending["units"]]
    assert units == ["驻沪招商联络处", "水南镇"]
    group, town = units.index("驻沪招商联络处"), units.index("水南镇")
    # 驻沪招商联络处 waits for its kind; 水南镇 is a town by its name.
    assert re.search(rf'name="unit_kind-{group}"[^>]*>\s*<option value="" selected>请选择类型', page)
    assert re.search(rf'name="unit_kind-{town}".*?<option value="town" selected', page, re.S)
    assert _count(Chain, Chain.name == "森林康养") == 0 and _count(Unit, Unit.name == "驻沪招商联络处") == 0

    # Confirming without the kind is refused by name; nothing starts.
    refused = client.post(f"/imports/{batch_id}/confirm", {}, follow_redirects=True)
    assert "请选择新单位“驻沪招商联络处”的类型" in refused.get_data(as_text=True)
    assert db.session.get(ImportBatch, batch_id).status == "previewed"

    nodes = [tuple(key) for key in _pending(batch_id)["nodes"]]
    tiers = {f"node_tier-{nodes.index(('森林康养', '康养基地'))}": "downstream",
             f"node_tier-{nodes.index(('特色农林', '茶叶精深加工'))}": "midstream"}
    assert _run(client, batch_id, **{f"unit_kind-{group}": "investment_group"}, **tiers) == "done"

    db.session.expire_all()
    chain = db.session.scalar(select(Chain).where(Chain.name == "森林康养"))
    assert chain is not None and re.fullmatch(r"[a-z0-9_]+", chain.code)
    assert [(n.name, n.tier) for n in chain.nodes] == [("康养基地", "downstream")]
    tea = db.session.scalar(select(ChainNode).where(ChainNode.name == "茶叶精深加工"))
    assert (tea.chain_id, tea.tier) == (farm_chain.id, "midstream")
    kinds = dict(db.session.execute(select(Unit.name, Unit.kind).where(Unit.name.in_(["驻沪招商联络处", "水南镇"]))).all())
    assert kinds == {"驻沪招商联络处": "investment_group", "水南镇": "town"}
    leads = {lead.company_name: lead for lead in db.session.scalars(select(Lead))}
    forest = leads["将乐森林康养旅游有限公司"]
    assert (forest.chain_id, forest.chain_node_id, forest.owner_unit.name) == (chain.id, chain.nodes[0].id, "驻沪招商联络处")
    assert leads["福建富硒茶业有限公司"].chain_node_id == tea.id
    assert leads["三明竹木制品有限公司"].owner_unit_id == team_lead.unit_id
    # Created once each, and audited as the team lead's.
    assert _count(Chain, Chain.name == "森林康养") == 1 and _count(ChainNode, ChainNode.name == "康养基地") == 1
    created = set(db.session.execute(select(AuditEntry.entity_type, AuditEntry.entity_id).where(
        AuditEntry.action == "create", AuditEntry.actor_id == team_lead.id)).all())
    assert {("chains", chain.id), ("chain_nodes", tea.id)} <= created
    assert ("units", db.session.scalar(select(Unit.id).where(Unit.name == "驻沪招商联络处"))) in created


def test_an_admin_may_change_a_kind_the_name_suggests(client, db_session):
    admin = _login(client, "admin")
    content = xlsx([["甲公司", "", "", "", "北郊工业园", "", ""], ["乙公司", "", "", "", "招商一组", "", ""]], SHEET)
    page, batch_id = _preview(client, admin, content)
    assert re.search(r'name="unit_kind-0".*?<option value="park" selected', page, re.S)
    assert re.search(r'name="unit_kind-1".*?<option value="investment_group" selected', page, re.S)
    assert _run(client, batch_id, **{"unit_kind-0": "investment_group"}) == "done"
    kinds = dict(db.session.execute(select(Unit.name, Unit.kind).where(Unit.name.in_(["北郊工业园", "招商一组"]))).all())
    assert kinds == {"北郊工业园": "investment_group", "招商一组": "investment_group"}


def test_cli_create_missing_names_the_units_whose_kind_is_unclear(app, farm_chain, tmp_path):
    factories.user(roles=["admin"], username="admin")
    db.session.commit()  # the CLI's own session sees the admin (rolled back with the test)
    path = tmp_path / "台账.xlsx"
    path.write_bytes(_office_sheet("水南镇"))
    runner = app.test_cli_runner()

    without = runner.invoke(args=["import-leads", str(path), "--user", "admin"])
    assert without.exit_code != 0 and "森林康养" in without.output and "--create-missing" in without.output
    unclear = runner.invoke(args=["import-leads", str(path), "--user", "admin", "--create-missing"])
    assert unclear.exit_code != 0 and "驻沪招商联络处" in unclear.output and "--unit-kind" in unclear.output
    assert _count(Lead) == 0 and _count(Unit, Unit.name == "驻沪招商联络处") == 0

    done = runner.invoke(args=["import-leads", str(path), "--user", "admin", "--create-missing",
                               "--unit-kind", "驻沪招商联络处=招商组"])
    assert done.exit_code == 0, done.output
    assert "3 created" in done.output and "森林康养" in done.output
    assert db.session.scalar(select(Unit.kind).where(Unit.name == "驻沪招商联络处")) == "investment_group"
    assert db.session.scalar(select(ChainNode.tier).where(ChainNode.name == "康养基地")) == "midstream"


def test_api_create_missing_refuses_a_unit_whose_kind_is_unclear(app, db_session):
    from crm.auth.services import issue_api_token

    user = factories.user(roles=["team_lead"])
    _token, raw = issue_api_token(user, "t", 30)
    db.session.commit()
    api = app.test_client()
    auth = {"Authorization": f"Bearer {raw}"}
    content = csv_bytes([["甲公司", "", "", "", "驻沪招商联络处", "", ""]], SHEET)
    response = api.post("/api/v1/imports", data={"file": (io.BytesIO(content), "a.csv"), "create_missing": "1"},
                        headers=auth, content_type="multipart/form-data")
    assert response.status_code == 400 and "驻沪招商联络处" in response.json["error"]["message"]


# --- totals rows ---------------------------------------------------------------------------------

def test_totals_rows_with_sum_formulas_are_skipped_and_listed(client, db_session):
    team_lead = _login(client, "team_lead")
    headers = ["序号", "企业名称", "计划总投资(万元)", "用地面积(亩)"]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["将乐县2026年招商线索台账"])
    ws.append(headers)
    ws.append([1, "甲新材料有限公司", 30000, 100])
    ws.append([2, "乙食品有限公司", 5000, 20])
    ws.append(["", "合 计", "=SUM(C3:C4)", "=SUM(D3:D4)"])        # row 5: labelled, formulas only
    ws.append([3, "丙科技有限公司", 1000, 5])
    ws.append(["小计", None, "=SUBTOTAL(9,C6:C6)", None])          # row 7: the label in the first cell
    ws.append([None, None, "=SUM(C3:C6)", "=SUM(D3:D6)"])         # row 8: sums and nothing else
    ws.append([None, "", 36000, 125])                              # row 9: the values of sums (as a CSV has them)
    out = io.BytesIO()
    wb.save(out)
    page, batch_id = _preview(client, team_lead, out.getvalue())
    counts = re.search(r'data-testid="counts">([^<]+)<', page).group(1)
    assert counts.startswith("共 3 行") and "新建 3 行" in counts and "未通过 0 行" in counts, counts
    totals = re.search(r'data-testid="totals-rows">(.*?)</div>', page, re.S).group(1)
    assert "第 5 行（合 计）" in totals and "第 7 行（小计）" in totals
    assert "第 8 行（只有求和数）" in totals and "第 9 行（只有求和数）" in totals
    assert _run(client, batch_id) == "done"
    assert sorted(db.session.scalars(select(Lead.company_name))) == ["丙科技有限公司", "乙食品有限公司", "甲新材料有限公司"]
    batch = db.session.get(ImportBatch, batch_id)
    assert (batch.created_count, batch.rejected_count, batch.total_rows) == (3, 0, 3)
    status = client.get(f"/imports/{batch_id}").get_data(as_text=True)
    assert "第 5 行（合 计）" in status
    report = openpyxl.load_workbook(io.BytesIO(client.get(f"/imports/{batch_id}/report").data))
    skipped = [list(r) for r in report["跳过的合计行"].iter_rows(values_only=True)]
    assert [r[:2] for r in skipped[1:]] == [[5, "合 计"], [7, "小计"], [8, "（只有求和数）"], [9, "（只有求和数）"]]


def test_csv_totals_row_and_a_row_without_a_name_that_is_not_one(client, db_session):
    team_lead = _login(client, "team_lead")
    headers = ["企业名称", "计划总投资(万元)", "用地面积(亩)"]
    content = csv_bytes([["甲公司", "3000", "10"], ["乙公司", "2000", "5"], ["", "4000", "7"],
                         ["总计", "5000", "15"]], headers)
    page, batch_id = _preview(client, team_lead, content, name="台账.csv")
    assert "第 5 行（总计）" in page
    # Row 4 has no name and its figures are not sums: still an error, not quietly skipped.
    assert re.search(r"<td>4</td><td>企业名称</td><td>请填写企业名称。</td>", page)
    assert "第 4 行" not in re.search(r'data-testid="totals-rows">(.*?)</div>', page, re.S).group(1)
    assert _run(client, batch_id, valid_rows_only="y") == "done"
    assert _count(Lead) == 2 and _count(Lead, Lead.company_name == "总计") == 0


# --- 备注 ------------------------------------------------------------------------------------------

def test_the_note_column_is_the_leads_note_on_import_and_update(client, db_session):
    team_lead = _login(client, "team_lead")
    headers = ["企业名称", "备注"]
    _page, batch_id = _preview(client, team_lead, xlsx([["甲公司", "春节乡贤座谈会上接洽\n四月来考察"]], headers))
    assert _run(client, batch_id) == "done"
    lead = db.session.scalar(select(Lead))
    assert lead.note == "春节乡贤座谈会上接洽\n四月来考察"
    _page, again = _preview(client, team_lead, xlsx([["甲公司", "已实地考察"]], headers), mode="upsert")
    assert _run(client, again) == "done"
    assert factories.reload(lead).note == "已实地考察"


# --- the blank template ----------------------------------------------------------------------------

def test_the_blank_template_downloads_with_headers_example_and_lists(client, db_session):
    _login(client, "officer")
    assert 'href="/imports/template.xlsx"' in client.get("/imports/new").get_data(as_text=True)
    response = client.get("/imports/template.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = book["线索"]
    headers = [c.value for c in sheet[1]]
    assert headers == [c.header for c in COLUMNS]
    example = dict(zip(headers, [c.value for c in sheet[2]]))
    assert "示例" in example["企业名称"] and example["阶段"] == "洽谈" and example["线索来源类型"] == "乡贤"
    assert example["计划总投资(万元)"] == 35000 and example["录入日期"] is not None
    lists = {}
    for validation in sheet.data_validations.dataValidation:
        assert validation.type == "list"
        column = headers[openpyxl.utils.column_index_from_string(str(validation.sqref).split(":")[0].rstrip("0123456789")) - 1]
        lists[column] = validation.formula1.strip('"').split(",")
    assert set(lists) == {"阶段", "线索来源类型"}
    assert {"线索", "洽谈", "终止"} <= set(lists["阶段"])
    assert set(lists["线索来源类型"]) == {"乡贤", "商会", "招商顾问", "第三方中介机构", "客商", "云洽谈", "推介会"}
    assert sheet.column_dimensions["A"].width >= 30  # 企业名称 readable
    assert "填写说明" in book.sheetnames


def test_the_template_filled_in_imports(client, db_session):
    team_lead = _login(client, "team_lead")
    book = openpyxl.load_workbook(io.BytesIO(client.get("/imports/template.xlsx").data))
    sheet = book["线索"]
    headers = [c.value for c in sheet[1]]
    sheet.cell(2, headers.index("企业名称") + 1).value = "福建将乐竹韵新材料有限公司"
    out = io.BytesIO()
    book.save(out)
    page, batch_id = _preview(client, team_lead, out.getvalue())
    assert "新产业链：特色农林" in page
    assert _run(client, batch_id) == "done"
    lead = db.session.scalar(select(Lead))
    assert lead.note and lead.source.kind == "hometown" and lead.chain.name == "特色农林"


def test_the_template_is_for_importers_only(client, db_session):
    _login(client, "viewer")
    assert client.get("/imports/template.xlsx").status_code == 403
