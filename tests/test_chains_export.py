"""The 招商作战表 export: workbooks that open again (openpyxl, LibreOffice when installed), the
summary sheet's gap list and counts, filters, names Excel dislikes, CSV, `crm export-targets`
and the API."""
import csv
import io
import shutil
from pathlib import Path
import subprocess

import openpyxl
import pytest
from openpyxl.utils.escape import unescape

from crm.chains.columns import TARGET_COLUMNS
from crm.chains.export import (
    EXCEL_CELL_MAX, MAX_WIDTH, FilterError, TargetFilters, csv_chunks, export_rows, filters_from_args,
    resolve_filters, sheet_name, write_xlsx)
from tests import factories

HEADERS = [c.header for c in TARGET_COLUMNS]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- helpers and data ---------------------------------------------------------------------------
def make_chain(name, nodes, position=0, code=None):
    """A chain with nodes given as (name, tier) pairs."""
    from crm.chains.models import Chain, ChainNode
    from crm.extensions import db

    chain = Chain(code=code or f"c{factories._seq.__next__()}", name=name, position=position)
    chain.nodes = [ChainNode(name=n, tier=tier, position=i) for i, (n, tier) in enumerate(nodes)]
    db.session.add(chain)
    db.session.flush()
    return chain


def make_firm(node, name="本地企业"):
    from crm.chains.models import LocalEnterprise
    from crm.extensions import db

    firm = LocalEnterprise(node_id=node.id, name=name)
    db.session.add(firm)
    db.session.flush()
    return firm


def make_target(node, company, unit, *, priority="medium", status="not_contacted", reason="fill",
                officer=None, lead=None, uscc=None, location=None, note=None):
    from crm.chains.models import PRIORITY_ORDER, Target
    from crm.extensions import db
    from crm.leads.models import normalize_company_name

    target = Target(node_id=node.id, company_name=company, company_key=normalize_company_name(company),
                    uscc=uscc, location=location, reason=reason, note=note, priority=priority,
                    priority_rank=PRIORITY_ORDER[priority], unit_id=unit.id,
                    officer_id=officer.id if officer else None, status=status,
                    lead_id=lead.id if lead else None)
    db.session.add(target)
    db.session.flush()
    return target


def read_book(data):
    return openpyxl.load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data)


def values(sheet) -> list[list]:
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def xlsx_bytes(filters=TargetFilters()) -> tuple[bytes, int]:
    buffer = io.BytesIO()
    count = write_xlsx(buffer, filters)
    return buffer.getvalue(), count


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "CSV needs the UTF-8 BOM for Excel"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def summary_table(sheet, title: str) -> list[list]:
    """The rows under a section title of the summary sheet, up to the next empty row."""
    rows = values(sheet)
    start = next(i for i, r in enumerate(rows) if r and r[0] == title)
    out = []
    for row in rows[start + 1:]:
        if not any(v is not None for v in row):
            break
        while row and row[-1] is None:
            row = row[:-1]
        out.append(list(row))
    return out


@pytest.fixture()
def county(db_session):
    """新能源 (position 1): 锂电材料 a gap, 电池制造 covered by a local firm, 储能应用 in progress
    (an open lead); 数字经济 (position 2): one target of the other town; 特色农林 (position 3):
    no targets at all."""
    from crm.extensions import db

    mine, theirs = factories.unit("古镛镇"), factories.unit("高唐镇")
    officer = factories.user(unit_=mine, full_name="张三")
    nameless = factories.user(unit_=theirs, username="gaotang1")
    nameless.full_name = ""
    energy = make_chain("新能源", [("锂电材料", "upstream"), ("电池制造", "midstream"), ("储能应用", "downstream")],
                        position=1, code="energy")
    digital = make_chain("数字经济", [("芯片设计", "upstream"), ("数据中心", "midstream")], position=2,
                         code="digital")
    farm = make_chain("特色农林", [("种植", "upstream")], position=3, code="farm")
    lithium, battery, storage = energy.nodes
    make_firm(battery, "将乐电池有限公司")
    lead = factories.lead(owner=officer, company_name="福建储能科技有限公司", chain_id=energy.id,
                          chain_node_id=storage.id)
    uscc = factories.valid_uscc()
    targets = {
        "low": make_target(lithium, "宁德锂矿有限公司", theirs, priority="low", status="contacted",
                           reason="extend", officer=nameless),
        "high": make_target(lithium, "福建锂源科技有限公司", mine, priority="high", officer=officer, uscc=uscc,
                            location="上海市", note="正极材料龙头，补齐锂电材料环节"),
        "medium": make_target(lithium, "江西赣锋示例公司", mine, priority="medium", status="dropped",
                              reason="strengthen"),
        "converted": make_target(storage, "福建储能科技有限公司", mine, priority="high", status="converted",
                                 lead=lead, officer=officer),
        "digital": make_target(digital.nodes[1], "数据港示例公司", theirs, priority="medium"),
    }
    ids = {"energy_id": energy.id, "digital_id": digital.id, "farm_id": farm.id, "farm_node_id": farm.nodes[0].id,
           "mine_id": mine.id, "theirs_id": theirs.id, "lead_id": lead.id}
    # Into the test's outer transaction (still rolled back at the end): a refused request rolls
    # its session back and a CLI run closes it, either of which would drop unsaved fixtures.
    db.session.commit()
    return {"mine": mine, "theirs": theirs, "officer": officer, "energy": energy, "digital": digital,
            "farm": farm, "lead": lead, "targets": targets, "uscc": uscc, **ids}


# --- the workbook -------------------------------------------------------------------------------
def test_workbook_has_summary_then_one_sheet_per_chain_with_values_in_order(county):
    data, count = xlsx_bytes()
    assert count == 5
    book = read_book(data)
    assert book.sheetnames == ["汇总", "新能源", "数字经济", "特色农林"]
    energy = book["新能源"]
    rows = values(energy)
    assert rows[0] == HEADERS
    # node order, then high → medium → low within a node
    assert [r[3] for r in rows[1:]] == ["福建锂源科技有限公司", "江西赣锋示例公司", "宁德锂矿有限公司", "福建储能科技有限公司"]
    first = dict(zip(HEADERS, rows[1]))
    assert first == {"产业链": "新能源", "产业链环节": "锂电材料", "链位": "上游", "目标企业名称": "福建锂源科技有限公司",
                     "统一社会信用代码": county["uscc"], "企业所在地": "上海市", "招商方向": "补链",
                     "招引理由": "正极材料龙头，补齐锂电材料环节", "优先级": "高", "责任单位": "古镛镇",
                     "责任人": "张三", "对接状态": "未接触", "线索编号": None}
    low = dict(zip(HEADERS, rows[3]))
    assert (low["招商方向"], low["优先级"], low["责任单位"], low["责任人"], low["对接状态"]) == (
        "延链", "低", "高唐镇", "gaotang1", "已接触")  # no full name: the user name
    assert dict(zip(HEADERS, rows[2]))["对接状态"] == "已放弃"
    converted = dict(zip(HEADERS, rows[4]))
    assert (converted["链位"], converted["对接状态"], converted["线索编号"]) == ("下游", "已转线索", county["lead_id"])
    assert isinstance(converted["线索编号"], int)  # a number cell, not text
    assert values(book["数字经济"])[1][3] == "数据港示例公司"


def test_every_chain_sheet_has_a_frozen_bold_header_a_filter_and_fitted_widths(county):
    book = read_book(xlsx_bytes()[0])
    for name in ("新能源", "数字经济", "特色农林"):
        sheet = book[name]
        assert sheet.freeze_panes == "A2"
        assert sheet["A1"].font.b
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:M")
    energy = book["新能源"]
    width = {c.key: energy.column_dimensions[chr(ord("A") + i)].width for i, c in enumerate(TARGET_COLUMNS)}
    # 福建锂源科技有限公司: 10 CJK characters = 20 units; the header 目标企业名称 is 12 (+2)
    assert 20 <= width["company_name"] <= 24
    # the note: 14 CJK characters and a full-width comma = 30 units, wider than its header
    assert 30 <= width["note"] <= 33
    # 18 ASCII characters: wider than the header (16 + 2) would need only if the code were longer
    assert 18 <= width["uscc"] <= 22
    assert all(w <= MAX_WIDTH + 1 for w in width.values())


def test_summary_lists_gap_nodes_and_counts_per_node_and_unit(county):
    book = read_book(xlsx_bytes()[0])
    summary = book["汇总"]
    assert summary["A1"].value == "招商作战表汇总"
    gaps = summary_table(summary, "产业链缺口（缺口环节：无本地企业、无落地项目、无在谈线索）")
    assert gaps[0] == ["产业链", "环节数", "已覆盖环节", "在谈环节", "缺口环节数", "缺口环节", "在谈环节名称", "目标企业数"]
    by_chain = {r[0]: r for r in gaps[1:]}
    assert by_chain["新能源"][1:8] == [3, 1, 1, 1, "锂电材料", "储能应用", 4]
    assert by_chain["数字经济"][1:6] == [2, 0, 0, 2, "芯片设计、数据中心"]
    assert by_chain["特色农林"][1:6] == [1, 0, 0, 1, "种植"]

    nodes = summary_table(summary, "按环节统计目标企业")
    assert nodes[0] == ["产业链", "产业链环节", "链位", "覆盖情况", "本地企业", "在谈线索",
                        "未接触", "已接触", "已转线索", "已放弃", "合计"]
    by_node = {(r[0], r[1]): r[2:11] for r in nodes[1:]}
    assert by_node[("新能源", "锂电材料")] == ["上游", "缺口", 0, 0, 1, 1, 0, 1, 3]
    assert by_node[("新能源", "电池制造")] == ["中游", "已覆盖", 1, 0, 0, 0, 0, 0, 0]
    assert by_node[("新能源", "储能应用")] == ["下游", "在谈", 0, 1, 0, 0, 1, 0, 1]
    assert by_node[("特色农林", "种植")][-1] == 0
    assert len(by_node) == 6  # every node of every chain, zeros included

    units = summary_table(summary, "按责任单位统计目标企业")
    assert units[0] == ["责任单位", "未接触", "已接触", "已转线索", "已放弃", "合计"]
    assert {r[0]: r[1:] for r in units[1:]} == {"古镛镇": [1, 0, 1, 1, 3], "高唐镇": [1, 1, 0, 0, 2],
                                                 "合计": [2, 1, 1, 1, 5]}


def test_filters_choose_chains_priorities_units_and_statuses(county):
    energy_id = county["energy_id"]
    book = read_book(xlsx_bytes(TargetFilters(chain_ids=(energy_id,), priorities=("high",)))[0])
    assert book.sheetnames == ["汇总", "新能源"]
    assert [r[3] for r in values(book["新能源"])[1:]] == ["福建锂源科技有限公司", "福建储能科技有限公司"]
    assert "优先级：高" in book["汇总"]["B3"].value and "产业链：新能源" in book["汇总"]["B3"].value

    data, count = xlsx_bytes(TargetFilters(unit_ids=(county["theirs_id"],), statuses=("not_contacted", "contacted")))
    book = read_book(data)
    assert count == 2 and book.sheetnames == ["汇总", "新能源", "数字经济", "特色农林"]
    assert [r[3] for r in values(book["新能源"])[1:]] == ["宁德锂矿有限公司"]
    units = summary_table(book["汇总"], "按责任单位统计目标企业")
    assert [r[0] for r in units[1:]] == ["高唐镇", "合计"]


def test_filters_from_names_codes_and_ids_and_clear_errors(county):
    from werkzeug.datastructures import MultiDict

    filters = resolve_filters(chains=["energy", "数字经济", str(county["farm_id"])], priorities=["高", "low"],
                              units=["古镛镇", str(county["theirs_id"])], statuses=["未接触", "dropped"])
    assert filters == TargetFilters(chain_ids=(county["energy_id"], county["digital_id"], county["farm_id"]),
                                    priorities=("high", "low"), unit_ids=(county["mine_id"], county["theirs_id"]),
                                    statuses=("not_contacted", "dropped"))
    args = MultiDict([("chain", "digital"), ("priority", ""), ("status", "contacted"), ("status", "已转线索")])
    assert filters_from_args(args, chain_id=county["energy_id"]) == TargetFilters(
        chain_ids=(county["energy_id"],), statuses=("contacted", "converted"))
    for kwargs, word in (({"chains": ["不存在链"]}, "不存在链"), ({"units": ["不存在镇"]}, "不存在镇"),
                         ({"priorities": ["urgent"]}, "urgent"), ({"statuses": ["signed"]}, "signed")):
        with pytest.raises(FilterError, match=word):
            resolve_filters(**kwargs)


def test_an_export_matching_nothing_is_a_valid_workbook_with_headers(county):
    data, count = xlsx_bytes(TargetFilters(chain_ids=(county["energy_id"],), statuses=("dropped",),
                                           unit_ids=(county["theirs_id"],)))
    assert count == 0
    book = read_book(data)
    assert book.sheetnames == ["汇总", "新能源"]
    assert values(book["新能源"]) == [HEADERS] and book["新能源"].freeze_panes == "A2"
    units = summary_table(book["汇总"], "按责任单位统计目标企业")
    assert units[1:] == [["合计", 0, 0, 0, 0, 0]]
    assert read_csv(b"".join(csv_chunks(TargetFilters(statuses=("dropped",), unit_ids=(county["theirs_id"],))))) \
        == [HEADERS]


def test_a_county_without_chains_gets_a_summary_sheet_only(db_session):
    data, count = xlsx_bytes()
    book = read_book(data)
    assert count == 0 and book.sheetnames == ["汇总"]


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://x\",\"点我\")", "+86-591-1234", "@SUM(A1)", "-1+2",
                                  "\t隐藏公司", "\r回车公司"])
def test_formula_like_text_is_written_as_text(county, name):
    node = county["farm"].nodes[0]
    make_target(node, name, county["mine"], note=name)
    book = read_book(xlsx_bytes(TargetFilters(chain_ids=(county["farm_id"],)))[0])
    cell = book["特色农林"]["D2"]
    # XlsxWriter writes a CR as _x000D_ (Excel reads it back as CR; openpyxl leaves it escaped)
    assert cell.data_type == "s" and unescape(cell.value) == "'" + name
    assert unescape(book["特色农林"]["H2"].value) == "'" + name
    rows = read_csv(b"".join(csv_chunks(TargetFilters(chain_ids=(county["farm_id"],)))))
    assert rows[1][3] == "'" + name


def test_tabs_inside_names_and_long_names_keep_their_text_and_widths_stay_capped(county):
    node = county["farm"].nodes[0]
    long_name = "将乐" * 100  # the longest a company name may be (200 characters)
    make_target(node, "福建\t制表符\t公司", county["mine"], note="说明" * 500)
    make_target(node, long_name, county["mine"])
    book = read_book(xlsx_bytes(TargetFilters(chain_ids=(county["farm_id"],)))[0])
    sheet = book["特色农林"]
    assert [r[3] for r in values(sheet)[1:]] == ["福建\t制表符\t公司", long_name]
    assert sheet["H2"].value == "说明" * 500
    assert sheet.column_dimensions["D"].width <= MAX_WIDTH + 1
    assert sheet.column_dimensions["H"].width <= MAX_WIDTH + 1
    assert sheet.column_dimensions["D"].width >= MAX_WIDTH - 1


def test_very_long_text_is_cut_to_excels_cell_limit(county, monkeypatch):
    """Text past Excel's 32,767 characters cannot come from the database on PostgreSQL (the
    columns are shorter), so the rows are handed to the writer directly."""
    from crm.chains import export

    node = county["farm"].nodes[0]
    ten_thousand = "长" * 10_000
    rows = [(county["farm_id"], node.id, "not_contacted",
             ["特色农林", "种植", "上游", ten_thousand, None, None, "补链", "=" + "x" * 40_000, "高", "古镛镇",
              None, "未接触", None])]
    monkeypatch.setattr(export, "_stream", lambda filters, chain_ids=None: iter(rows))
    data, count = xlsx_bytes(TargetFilters(chain_ids=(county["farm_id"],)))
    sheet = read_book(data)["特色农林"]
    assert count == 1
    assert sheet["D2"].value == ten_thousand
    assert len(sheet["H2"].value) == EXCEL_CELL_MAX and sheet["H2"].value.startswith("'=xxx")
    assert sheet.column_dimensions["D"].width <= MAX_WIDTH + 1


def test_sheet_names_are_made_acceptable_to_excel_and_unique(county):
    used = {"汇总"}
    assert sheet_name("新能源/储能:[一期]*?\\", used) == "新能源储能一期"
    assert sheet_name("新能源储能一期", used) == "新能源储能一期(2)"
    assert sheet_name("汇总", used) == "汇总(2)"
    assert sheet_name("'''", used) == "产业链"
    assert len(sheet_name("很长的产业链名称" * 10, used)) == 31
    assert sheet_name("很长的产业链名称" * 10, used).endswith("(2)")
    assert len(sheet_name("很长的产业链名称" * 10, used)) == 31
    assert sheet_name("History", used) == "History_"
    assert sheet_name("A\tB", used) == "AB"

    # chains whose names clash once cleaned still get a sheet each, in chain order
    make_chain("光伏/储能", [("组件", "midstream")], position=4)
    make_chain("光伏储能", [("电站", "downstream")], position=5)
    make_chain("=" + "长" * 59, [("节点", "upstream")], position=6)
    book = read_book(xlsx_bytes()[0])
    assert book.sheetnames[-3:] == ["光伏储能", "光伏储能(2)", "=" + "长" * 30]
    assert all(values(book[n]) == [HEADERS] for n in book.sheetnames[-3:])


def test_export_rows_yield_the_header_then_raw_values(county):
    rows = list(export_rows(TargetFilters(chain_ids=(county["digital_id"],))))
    assert rows[0] == HEADERS
    assert rows[1] == ["数字经济", "数据中心", "中游", "数据港示例公司", None, None, "补链", None, "中", "高唐镇",
                       None, "未接触", None]


# --- CSV ----------------------------------------------------------------------------------------
def test_csv_has_bom_crlf_the_same_columns_and_order(county):
    data = b"".join(csv_chunks(TargetFilters()))
    assert b"\r\n" in data
    rows = read_csv(data)
    assert rows[0] == HEADERS
    assert [r[3] for r in rows[1:]] == ["福建锂源科技有限公司", "江西赣锋示例公司", "宁德锂矿有限公司",
                                        "福建储能科技有限公司", "数据港示例公司"]
    assert rows[4][12] == str(county["lead_id"]) and rows[1][12] == ""


# --- CLI ----------------------------------------------------------------------------------------
def test_cli_exports_xlsx_and_csv_with_filters(app, county, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "作战表.xlsx"
    result = runner.invoke(args=["export-targets", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Exported 5 targets" in result.output
    assert read_book(out.read_bytes()).sheetnames == ["汇总", "新能源", "数字经济", "特色农林"]

    out_csv = tmp_path / "high.csv"
    result = runner.invoke(args=["export-targets", "--out", str(out_csv), "--chain", "energy", "--chain", "数字经济",
                                 "--priority", "high", "--priority", "中", "--unit", "古镛镇",
                                 "--status", "未接触", "--status", "converted"])
    assert result.exit_code == 0, result.output
    rows = read_csv(out_csv.read_bytes())
    assert [r[3] for r in rows[1:]] == ["福建锂源科技有限公司", "福建储能科技有限公司"]

    out_other = tmp_path / "targets.dat"
    result = runner.invoke(args=["export-targets", "--out", str(out_other), "--format", "xlsx", "--chain", "farm"])
    assert result.exit_code == 0, result.output
    assert read_book(out_other.read_bytes()).sheetnames == ["汇总", "特色农林"]


@pytest.mark.parametrize("option, value", [("--chain", "不存在链"), ("--unit", "不存在镇"),
                                           ("--priority", "urgent"), ("--status", "signed")])
def test_cli_refuses_unknown_filters_and_leaves_no_file(app, county, tmp_path, option, value):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["export-targets", "--out", str(tmp_path / "x.xlsx"), option, value])
    assert result.exit_code == 2 and value in result.output and option in result.output
    assert list(tmp_path.iterdir()) == []


def test_cli_refuses_an_unknown_suffix(app, county, tmp_path):
    result = app.test_cli_runner().invoke(args=["export-targets", "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code != 0 and "--format" in result.output
    assert list(tmp_path.iterdir()) == []


# --- API ----------------------------------------------------------------------------------------
def _token(user):
    from crm.auth.services import issue_api_token
    from crm.extensions import db

    _t, raw = issue_api_token(user, "chains export test", 30)
    db.session.commit()  # kept when a refused request rolls its session back
    return {"Authorization": f"Bearer {raw}"}


def test_api_lists_chains_with_nodes_and_gap_figures(app, county):
    response = app.test_client().get("/api/v1/chains", headers=_token(county["officer"]))
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [c["name"] for c in items] == ["新能源", "数字经济", "特色农林"]
    energy = items[0]
    assert energy["gap_figures"] == {"nodes": 3, "covered": 1, "in_progress": 1, "gaps": 1,
                                     "gap_nodes": ["锂电材料"], "in_progress_nodes": ["储能应用"]}
    assert [(n["name"], n["coverage"], n["targets_total"]) for n in energy["nodes"]] == [
        ("锂电材料", "gap", 3), ("电池制造", "covered", 0), ("储能应用", "in_progress", 1)]


def test_api_exports_one_chain_with_every_units_targets(app, county):
    api = app.test_client()
    auth = _token(county["officer"])  # an officer of 古镛镇 sees 高唐镇's targets too (CHAINS_READ)
    energy_id = county["energy_id"]
    response = api.get(f"/api/v1/chains/{energy_id}/targets/export?format=xlsx", headers=auth)
    assert response.status_code == 200 and response.mimetype == XLSX
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    book = read_book(response.data)
    assert book.sheetnames == ["汇总", "新能源"]
    assert len(values(book["新能源"])) == 5

    response = api.get(f"/api/v1/chains/{energy_id}/targets/export?format=csv&priority=high&priority=low"
                       f"&unit={county['theirs'].id}&unit=古镛镇&status=contacted&status=未接触", headers=auth)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert [r[3] for r in read_csv(response.data)[1:]] == ["福建锂源科技有限公司", "宁德锂矿有限公司"]

    response = api.get(f"/api/v1/chains/{energy_id}/targets/export", headers=auth)
    assert response.status_code == 200 and response.mimetype == XLSX  # xlsx by default


def test_api_export_refuses_bad_requests_with_json(app, county):
    api = app.test_client()
    auth = _token(county["officer"])
    energy_id = county["energy_id"]
    response = api.get("/api/v1/chains/999999/targets/export", headers=auth)
    assert response.status_code == 404 and response.get_json()["error"]["status"] == 404
    for query, word in (("format=pdf", "pdf"), ("priority=urgent", "urgent"), ("unit=不存在镇", "不存在镇"),
                        ("status=signed", "signed")):
        response = api.get(f"/api/v1/chains/{energy_id}/targets/export?{query}", headers=auth)
        assert response.status_code == 400, query
        assert word in response.get_json()["error"]["message"]


def test_api_needs_a_token_and_chains_read(app, county):
    api = app.test_client()
    energy_id = county["energy_id"]
    assert api.get(f"/api/v1/chains/{energy_id}/targets/export").status_code == 401
    assert api.get("/api/v1/chains").status_code == 401
    screener = _token(factories.user(roles=("screener",)))
    response = api.get(f"/api/v1/chains/{energy_id}/targets/export", headers=screener)
    assert response.status_code == 403 and response.get_json()["error"]["status"] == 403
    assert api.get("/api/v1/chains", headers=screener).status_code == 403
    viewer = _token(factories.user(roles=("viewer",)))
    assert api.get(f"/api/v1/chains/{energy_id}/targets/export?format=csv", headers=viewer).status_code == 200


def test_openapi_documents_the_chain_endpoints(app, db_session):
    paths = app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    assert "/chains" in paths and "/chains/{chain_id}/targets/export" in paths


# --- LibreOffice ----------------------------------------------------------------------------------
_SOFFICE = shutil.which("libreoffice") or shutil.which("soffice")
# Writer alone (libreoffice-writer-nogui) cannot load a workbook: Calc must be there too.
_CALC = _SOFFICE is not None and any(Path(d, "program", "libsclo.so").exists()
                                     for d in ("/usr/lib/libreoffice", "/opt/libreoffice"))


@pytest.mark.skipif(not _CALC, reason="LibreOffice Calc is not installed")
def test_libreoffice_opens_and_converts_the_workbook(county, tmp_path):
    node = county["farm"].nodes[0]
    make_target(node, "=1+1", county["mine"], note="\t制表")
    path = tmp_path / "作战表.xlsx"
    write_xlsx(str(path), TargetFilters())
    profile = tmp_path / "profile"
    result = subprocess.run([_SOFFICE, "--headless", "--norestore", f"-env:UserInstallation=file://{profile}",
                             "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(tmp_path / "out"),
                             str(path)], capture_output=True, text=True, timeout=180)
    converted = tmp_path / "out" / "作战表.xlsx"
    assert result.returncode == 0 and converted.exists(), result.stderr + result.stdout
    book = openpyxl.load_workbook(converted)
    assert book.sheetnames == ["汇总", "新能源", "数字经济", "特色农林"]
    assert values(book["新能源"])[0] == HEADERS
    farm = values(book["特色农林"])
    assert farm[1][3] == "'=1+1" and farm[1][7] == "'\t制表"  # still text, no formula
    assert values(book["汇总"])[0][0] == "招商作战表汇总"
