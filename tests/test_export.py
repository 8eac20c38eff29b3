"""Export of the lead list: files that open again, the list's filters and visibility, formula
injection, the web route, the API and `crm export-leads`."""
import csv
import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from crm.interchange.columns import COLUMNS, DERIVED_COLUMNS
from crm.interchange.export import export_rows, write_xlsx
from crm.leads.queries import LeadFilters
from tests import factories

HEADERS = [c.header for c in COLUMNS + DERIVED_COLUMNS]
KEYS = [c.key for c in COLUMNS + DERIVED_COLUMNS]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def read_xlsx(data: bytes) -> tuple[list[list], object]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.active
    return [list(r) for r in sheet.iter_rows(values_only=True)], sheet


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "CSV needs the UTF-8 BOM for Excel"
    assert b"\r\n" in data
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def by_company(rows: list[list], headers=HEADERS) -> dict[str, dict]:
    assert rows[0] == headers
    return {r[0]: dict(zip(headers, r)) for r in rows[1:]}


def _token(user):
    from crm.auth.services import issue_api_token
    from crm.extensions import db

    _t, raw = issue_api_token(user, "export test", 30)
    db.session.commit()  # kept when a refused request rolls its session back (see `county`)
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture()
def county(db_session):
    """Two towns; a full lead and a sparse one in the first, one lead in the second."""
    from crm.extensions import db

    mine, theirs = factories.unit("古镛镇"), factories.unit("高唐镇")
    chain = factories.chain("新材料", nodes=("氟化工", "石墨烯"))
    source = factories.source("上海将乐商会", kind="chamber")
    officer = factories.user(unit_=mine)
    full = factories.lead(
        owner=officer, company_name="福建氟新材料有限公司", uscc=factories.valid_uscc(),
        project_name="年产5万吨含氟新材料项目", chain_id=chain.id, chain_node_id=chain.nodes[0].id,
        source_kind="chamber", source_id=source.id, origin_region="上海市",
        planned_investment_wan=Decimal("52000"), fixed_asset_investment_wan=Decimal("30000"),
        land_area_mu=Decimal("120"), expected_output_wan=Decimal("80000"),
        expected_tax_wan=Decimal("900"), high_tech=True, specialized=False, patents=12,
        rd_ratio=Decimal("4.5"), jobs=300, created_on=date(2026, 3, 5))
    full.stage, full.signed_on = "signed", date(2026, 6, 1)
    sparse = factories.lead(owner=officer, company_name="将乐空白科技有限公司",
                            fixed_asset_investment_wan=None, land_area_mu=None, expected_tax_wan=None)
    other = factories.lead(unit_=theirs, company_name="高唐某食品有限公司", chain_id=chain.id)
    other.stage = "negotiating"
    # Into the test's outer transaction (still rolled back at the end): a refused request rolls
    # its session back and a CLI run closes it, either of which would drop unsaved fixtures.
    db.session.commit()
    return {"officer": officer, "chain": chain, "full": full, "sparse": sparse, "other": other,
            "theirs": theirs}


def test_xlsx_has_chinese_headers_values_and_derived_figures(client, county):
    client.login(county["officer"])
    response = client.get("/leads/export?format=xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    assert "filename*=UTF-8''%E7%BA%BF%E7%B4%A2%E5%AF%BC%E5%87%BA_" in response.headers["Content-Disposition"]
    rows, sheet = read_xlsx(response.data)
    assert sheet.title == "线索" and sheet.freeze_panes == "A2"
    assert sheet.cell(1, 1).font.b
    leads = by_company(rows)
    full = leads["福建氟新材料有限公司"]
    assert full["产业链"] == "新材料" and full["产业链环节"] == "氟化工"
    assert full["线索来源类型"] == "商会" and full["线索来源"] == "上海将乐商会"
    assert full["责任单位"] == "古镛镇" and full["阶段"] == "签约"
    assert full["高新技术企业"] == "是" and full["专精特新"] == "否"
    assert full["计划总投资(万元)"] == 52000 and full["研发投入占比(%)"] == 4.5
    assert full["专利数"] == 12 and full["预计用工"] == 300
    assert full["录入日期"].date() == date(2026, 3, 5) and full["签约日期"].date() == date(2026, 6, 1)
    assert sheet.cell(2, HEADERS.index("录入日期") + 1).number_format == "yyyy-mm-dd"
    assert full["投资强度(万元/亩)"] == 250 and full["亩均税收(万元/亩)"] == 7.5
    assert full["开工日期"] is None and full["签约概率"] is None and full["评级"] is None
    sparse = leads["将乐空白科技有限公司"]
    assert sparse["投资强度(万元/亩)"] is None and sparse["高新技术企业"] is None
    assert "高唐某食品有限公司" not in leads  # an officer exports their own unit only


def test_csv_is_utf8_with_bom_and_the_same_values(client, county):
    client.login(county["officer"])
    response = client.get("/leads/export?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv" and response.is_streamed
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "UTF-8''%E7%BA%BF" in response.headers["Content-Disposition"]
    leads = by_company(read_csv(response.data))
    assert set(leads) == {"福建氟新材料有限公司", "将乐空白科技有限公司"}
    full = leads["福建氟新材料有限公司"]
    assert full["计划总投资(万元)"] == "52000" and full["研发投入占比(%)"] == "4.5"
    assert full["投资强度(万元/亩)"] == "250" and full["亩均税收(万元/亩)"] == "7.5"
    assert full["录入日期"] == "2026-03-05" and full["签约日期"] == "2026-06-01"
    assert full["阶段"] == "签约" and full["高新技术企业"] == "是" and full["开工日期"] == ""


def test_english_keys_and_codes_on_request(client, county):
    client.login(county["officer"])
    response = client.get("/leads/export?format=csv&english=1")
    assert "leads_export_" in response.headers["Content-Disposition"]
    full = by_company(read_csv(response.data), KEYS)["福建氟新材料有限公司"]
    assert full["stage"] == "signed" and full["source_kind"] == "chamber"
    assert full["high_tech"] == "yes" and full["specialized"] == "no"
    rows, _sheet = read_xlsx(client.get("/leads/export?format=xlsx&english=1").data)
    assert rows[0] == KEYS


def test_leaders_export_every_unit_with_the_list_filters(client, county):
    leader = factories.user(roles=("leader",), unit_=county["theirs"])
    client.login(leader)

    def companies(query):
        rows = read_csv(client.get(f"/leads/export?format=csv&{query}").data)
        return [r[0] for r in rows[1:]]

    assert set(companies("")) == {"福建氟新材料有限公司", "将乐空白科技有限公司", "高唐某食品有限公司"}
    assert companies("stage=negotiating") == ["高唐某食品有限公司"]
    assert set(companies(f"chain_id={county['chain'].id}")) == {"福建氟新材料有限公司", "高唐某食品有限公司"}
    assert companies("q=空白") == ["将乐空白科技有限公司"]
    assert companies(f"unit_id={county['theirs'].id}") == ["高唐某食品有限公司"]
    assert companies("sort=company") == sorted(companies("sort=company"))


def test_the_list_page_links_to_the_export_with_its_filters(client, county):
    client.login(county["officer"])
    html = client.get("/leads?stage=signed&q=氟").get_data(as_text=True)
    assert 'href="/leads/export?format=xlsx&amp;q=%E6%B0%9F&amp;stage=signed' in html
    assert 'href="/leads/export?format=csv&amp;q=%E6%B0%9F&amp;stage=signed' in html


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x","点我")', "+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_like_text_is_written_as_text(client, db_session, name):
    officer = factories.user()
    lead = factories.lead(owner=officer, project_name=name)
    lead.company_name = name  # "\rx" is refused as a company name now; an older row may hold it
    factories._db().flush()
    client.login(officer)
    _rows, sheet = read_xlsx(client.get("/leads/export?format=xlsx").data)
    cell = sheet.cell(2, 1)
    # XlsxWriter stores a CR as the OOXML escape _x000D_, which openpyxl leaves as it is.
    assert cell.data_type == "s" and cell.value.replace("_x000D_", "\r") == "'" + name
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    csv_rows = read_csv(client.get("/leads/export?format=csv").data)
    assert csv_rows[1][0] == "'" + name and csv_rows[1][2] == "'" + name


def test_an_export_matching_nothing_is_a_valid_file_with_headers(client, county):
    client.login(county["officer"])
    rows, _sheet = read_xlsx(client.get("/leads/export?format=xlsx&q=没有这家公司").data)
    assert rows == [HEADERS]
    assert read_csv(client.get("/leads/export?format=csv&q=没有这家公司").data) == [HEADERS]


def test_bad_format_or_filter_is_a_400_page(client, county):
    client.login(county["officer"])
    response = client.get("/leads/export?format=pdf")
    assert response.status_code == 400 and "pdf" in response.get_data(as_text=True)
    assert client.get("/leads/export?format=csv&stage=nope").status_code == 400


def test_anonymous_users_are_sent_to_log_in(client, db_session):
    response = client.get("/leads/export?format=csv")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_screeners_may_not_export(client, db_session):
    client.login(factories.user(roles=("screener",)))
    assert client.get("/leads/export?format=csv").status_code == 403


def test_api_export_with_a_token(app, county):
    api = app.test_client()
    auth = _token(county["officer"])
    response = api.get("/api/v1/leads/export?format=xlsx&stage=signed", headers=auth)
    assert response.status_code == 200 and response.mimetype == XLSX
    rows, _sheet = read_xlsx(response.data)
    assert [r[0] for r in rows[1:]] == ["福建氟新材料有限公司"]
    response = api.get("/api/v1/leads/export?format=csv&english=1", headers=auth)
    assert response.status_code == 200 and read_csv(response.data)[0] == KEYS


def test_api_export_refuses_bad_requests_with_json(app, county):
    api = app.test_client()
    auth = _token(county["officer"])
    response = api.get("/api/v1/leads/export?format=docx", headers=auth)
    assert response.status_code == 400 and response.is_json and "docx" in response.json["error"]["message"]
    response = api.get("/api/v1/leads/export?format=csv&sort=nonsense", headers=auth)
    assert response.status_code == 400 and "sort" in response.json["error"]["message"]
    response = api.get("/api/v1/leads/export?format=csv")
    assert response.status_code == 401 and response.is_json


def test_export_rows_streams_in_interchange_order(county):
    rows = export_rows(county["officer"], LeadFilters(sort="company"))
    assert next(rows) == HEADERS
    first = next(rows)
    assert len(first) == len(HEADERS)
    rows.close()  # stopping early ends the cursor


def test_more_rows_than_one_fetch_all_arrive_in_order(client, db_session):
    """Several server-side cursor fetches on PostgreSQL (YIELD_PER rows each), while streaming."""
    from sqlalchemy import insert

    from crm.extensions import db
    from crm.interchange.export import YIELD_PER
    from crm.leads.models import Lead

    officer = factories.user()
    n = YIELD_PER + 345
    db.session.execute(insert(Lead), [
        {"company_name": f"批量公司{i:05d}", "company_key": f"批量{i:05d}", "owner_unit_id": officer.unit_id,
         "stage": "lead", "created_on": date(2026, 1, 1), "land_area_mu": Decimal("10"),
         "expected_tax_wan": Decimal(i)} for i in range(n)])
    db.session.commit()
    client.login(officer)
    rows = read_csv(client.get("/leads/export?format=csv&sort=company").data)
    assert len(rows) == n + 1
    assert [r[0] for r in rows[1:]] == [f"批量公司{i:05d}" for i in range(n)]
    assert rows[-1][HEADERS.index("亩均税收(万元/亩)")] == str((n - 1) / 10)


def test_write_xlsx_accepts_a_path_and_counts_rows(tmp_path, county):
    target = tmp_path / "out.xlsx"
    count = write_xlsx(export_rows(county["officer"], LeadFilters()), target)
    assert count == 2
    assert len(list(openpyxl.load_workbook(target).active.iter_rows())) == 3


def test_cli_exports_every_unit_to_xlsx_and_csv(app, county, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "全县线索.xlsx"
    result = runner.invoke(args=["export-leads", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Exported 3 leads" in result.output
    rows, _sheet = read_xlsx(out.read_bytes())
    assert len(rows) == 4 and rows[0] == HEADERS
    out_csv = tmp_path / "signed.csv"
    result = runner.invoke(args=["export-leads", "--out", str(out_csv), "--stage", "签约",
                                 "--chain", "新材料", "--unit", "古镛镇", "--english"])
    assert result.exit_code == 0, result.output
    rows = read_csv(out_csv.read_bytes())
    assert rows[0] == KEYS and [r[0] for r in rows[1:]] == ["福建氟新材料有限公司"]


def test_cli_refuses_unknown_filters_and_suffixes(app, county, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["export-leads", "--out", str(tmp_path / "x.xlsx"), "--unit", "不存在镇"])
    assert result.exit_code != 0 and "不存在镇" in result.output
    result = runner.invoke(args=["export-leads", "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code != 0 and "--format" in result.output
    assert list(tmp_path.iterdir()) == []
