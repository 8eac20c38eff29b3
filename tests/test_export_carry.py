"""Exports teams carry (issue 17): 线索编号 (the 作战表's), 责任人, 最近跟进 and 下次跟进, probabilities
as percentages in the .xlsx, codes and long digit strings that stay text when Excel or WPS opens
the CSV (and come back unchanged through the import), the lead number on the pages and in the
search, and no per-lead query however many leads."""
from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import event, func, select
from stdnum.cn import uscc as uscc_rules

from crm.extensions import db
from crm.interchange.columns import COLUMNS, DERIVED_COLUMNS
from crm.interchange.export import csv_text
from crm.interchange.models import ImportBatch
from crm.leads.models import Lead
from crm.leads.services import add_activity
from tests import factories

HEADERS = [c.header for c in COLUMNS + DERIVED_COLUMNS]


def digits_only_uscc() -> str:
    """A valid 统一社会信用代码 of 18 digits (its check character a digit too)."""
    for n in range(1000):
        body = f"91350428{n:09d}"
        check = uscc_rules.calc_check_digit(body)
        if check.isdigit():
            return body + check
    raise AssertionError("no all-digit code found")


def read_csv(data: bytes) -> list[dict]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == HEADERS
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def read_xlsx(data: bytes):
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == HEADERS
    return [dict(zip(rows[0], r)) for r in rows[1:]], sheet


@pytest.fixture()
def office(db_session, clock_at):
    clock_at("2026-11-25T10:00:00+08:00")
    town = factories.unit("古镛镇")
    officer = factories.user(unit_=town, full_name="林晓峰")
    code = digits_only_uscc()
    followed = factories.lead(owner=officer, company_name="福建氟新材料有限公司", uscc=code,
                              project_name="年产5万吨含氟新材料项目", origin_region="上海市",
                              planned_investment_wan=Decimal("52000"), note="座谈会上接洽",
                              created_on=date(2026, 10, 8))
    quiet = factories.lead(owner=officer, company_name="将乐空白科技有限公司", created_on=date(2026, 10, 9))
    quiet.owner = None
    add_activity(followed, officer, "call", date(2026, 11, 2), "电话约访", date(2026, 11, 10))
    add_activity(followed, officer, "visit", date(2026, 11, 20), "实地走访", date(2026, 12, 3))
    # Recorded later, dated earlier: the latest follow-up is still the one of 11-20.
    add_activity(followed, officer, "meeting", date(2026, 11, 15), "补记的会谈", None)
    followed.p_sign, followed.p_land, followed.score_grade = 0.4537, 0.2, "B"
    db.session.commit()  # into the test's outer transaction (rolled back at the end)
    return {"officer": officer, "followed": followed, "quiet": quiet, "code": code, "town": town}


# --- the new columns -----------------------------------------------------------------------------

def test_lead_number_officer_and_follow_ups_in_both_formats(client, office):
    client.login(office["officer"])
    rows = {r["企业名称"]: r for r in read_csv(client.get("/leads/export?format=csv").data)}
    followed, quiet = rows["福建氟新材料有限公司"], rows["将乐空白科技有限公司"]
    assert followed["线索编号"] == str(office["followed"].id)
    assert followed["责任人"] == "林晓峰"
    assert followed["最近跟进"] == "2026-11-20 走访" and followed["下次跟进"] == "2026-12-03"
    assert followed["备注"] == "座谈会上接洽"
    assert (quiet["责任人"], quiet["最近跟进"], quiet["下次跟进"]) == ("", "", "")
    assert quiet["线索编号"] == str(office["quiet"].id)

    xrows, sheet = read_xlsx(client.get("/leads/export?format=xlsx").data)
    by_name = {r["企业名称"]: r for r in xrows}
    assert by_name["福建氟新材料有限公司"]["线索编号"] == office["followed"].id
    assert by_name["福建氟新材料有限公司"]["下次跟进"].date() == date(2026, 12, 3)
    assert by_name["福建氟新材料有限公司"]["最近跟进"] == "2026-11-20 走访"

    english = list(csv.reader(io.StringIO(client.get("/leads/export?format=csv&english=1").data.decode("utf-8-sig"))))
    keys = english[0]
    assert keys[-10:-6] == ["lead_number", "officer", "last_follow_up", "next_follow_up"]
    row = next(r for r in english[1:] if r[0] == "福建氟新材料有限公司")
    assert row[keys.index("last_follow_up")] == "2026-11-20 visit"


def test_probabilities_are_percentages_in_xlsx_and_0_to_1_in_csv(client, office):
    client.login(office["officer"])
    rows, sheet = read_xlsx(client.get("/leads/export?format=xlsx").data)
    index = next(i for i, r in enumerate(rows) if r["企业名称"] == "福建氟新材料有限公司")
    cell = sheet.cell(index + 2, HEADERS.index("签约概率") + 1)
    assert cell.value == pytest.approx(0.4537) and cell.number_format == "0%"
    assert sheet.cell(index + 2, HEADERS.index("落地概率") + 1).number_format == "0%"
    assert sheet.cell(index + 2, HEADERS.index("计划总投资(万元)") + 1).number_format == "General"
    csv_row = next(r for r in read_csv(client.get("/leads/export?format=csv").data)
                   if r["企业名称"] == "福建氟新材料有限公司")
    assert csv_row["签约概率"] == "0.4537" and csv_row["落地概率"] == "0.2"


def test_the_lead_number_is_the_one_the_target_list_writes(client, office):
    from crm.chains.export import HEADERS as TARGET_HEADERS
    from crm.chains.export import TargetFilters, csv_chunks
    from crm.chains.models import PRIORITY_ORDER, Target

    chain = factories.chain("新材料", nodes=("氟化工",))
    db.session.add(Target(node_id=chain.nodes[0].id, company_name="福建氟新材料有限公司", company_key="福建氟新材料",
                          reason="fill", priority="high", priority_rank=PRIORITY_ORDER["high"],
                          unit_id=office["town"].id, status="converted", lead_id=office["followed"].id))
    db.session.flush()
    targets = list(csv.reader(io.StringIO(b"".join(csv_chunks(TargetFilters())).decode("utf-8-sig"))))
    target_number = targets[1][TARGET_HEADERS.index("线索编号")]
    client.login(office["officer"])
    lead_row = next(r for r in read_csv(client.get("/leads/export?format=csv").data)
                    if r["企业名称"] == "福建氟新材料有限公司")
    assert lead_row["线索编号"] == target_number == str(office["followed"].id)


# --- codes stay text -------------------------------------------------------------------------------

@pytest.mark.parametrize("value, written", [
    ("913504281234567890", '="913504281234567890"'),   # an all-digit 统一社会信用代码
    ("91350428MA2YQ7K31E", '="91350428MA2YQ7K31E"'),   # any 18-character code (…E1 would be a power of ten)
    ("13805981234", '="13805981234"'),                 # a mobile number
    ("059812345678", '="059812345678"'),               # a leading 0
    ("2024", "2024"), ("福建氟新材料有限公司", "福建氟新材料有限公司"),
    ("=1+1", "'=1+1"), ('="1"', '\'="1"'),            # formulas of the data's making stay text
])
def test_which_text_is_kept_as_text(value, written):
    assert csv_text(value) == written


def test_an_all_digit_uscc_stays_text_in_the_csv_bytes_and_imports_back_unchanged(client, office):
    code = office["code"]
    assert code.isdigit() and len(code) == 18
    client.login(office["officer"])
    data = client.get("/leads/export?format=csv").data
    assert f'"=""{code}"""'.encode() in data          # ="913504…" for Excel and WPS
    assert code.encode() not in data.replace(f'"=""{code}"""'.encode(), b"")
    # Found by name: under the fixed clock both leads were last updated at the same moment.
    rows = {r["企业名称"]: r for r in read_csv(data)}
    assert rows["福建氟新材料有限公司"]["统一社会信用代码"] == f'="{code}"'

    # The app's own CSV, imported back by its unit: every row matches its lead and changes nothing.
    before = {lead.id: (lead.uscc, lead.company_name, lead.planned_investment_wan, lead.note, lead.version)
              for lead in db.session.scalars(select(Lead))}
    response = client.post("/imports/new", {"file": (io.BytesIO(data), "线索导出.csv"), "mode": "upsert",
                                            "unit_id": office["town"].id}, content_type="multipart/form-data")
    assert response.status_code == 302
    batch_id = int(response.location.rsplit("/", 1)[1])
    page = client.get(response.location).get_data(as_text=True)
    assert "未通过 0 行" in page and "新建 0 行" in page
    assert client.post(f"/imports/{batch_id}/confirm", {}).status_code == 302
    from crm.interchange.jobs import run_import_job

    with client.raw.application.app_context():
        assert run_import_job(batch_id) == "done"
    batch = db.session.get(ImportBatch, batch_id)
    assert (batch.created_count, batch.updated_count, batch.skipped_count) == (0, 0, 2)
    db.session.expire_all()
    after = {lead.id: (lead.uscc, lead.company_name, lead.planned_investment_wan, lead.note, lead.version)
             for lead in db.session.scalars(select(Lead))}
    assert after == before


def test_the_reader_unwraps_kept_text_only(tmp_path):
    from crm.interchange.readers import open_table

    path = tmp_path / "a.csv"
    path.write_bytes('\ufeff企业名称,统一社会信用代码,备注\r\n甲公司,"=""913504281234567890""","\'=""x"""\r\n'.encode())
    table = open_table(path, "a.csv")
    assert list(table.rows) == [(2, ["甲公司", "913504281234567890", "'=\"x\""])]


# --- no per-lead queries ---------------------------------------------------------------------------

def _statements(client, url) -> int:
    engine = db.engine
    count = [0]

    def count_it(*_args):
        count[0] += 1

    event.listen(engine, "before_cursor_execute", count_it)
    try:
        response = client.get(url)
        assert response.status_code == 200
        response.get_data()  # the CSV streams: its queries run while it is read
    finally:
        event.remove(engine, "before_cursor_execute", count_it)
    return count[0]


def test_the_export_runs_as_many_queries_for_many_leads_as_for_one(client, office):
    officer = office["officer"]
    client.login(officer)
    few = _statements(client, "/leads/export?format=csv")
    for i in range(40):
        lead = factories.lead(owner=officer, company_name=f"批量公司{i:02d}")
        add_activity(lead, officer, "visit", date(2026, 11, 1 + i % 20), "走访", date(2026, 12, 1))
    db.session.commit()
    many = _statements(client, "/leads/export?format=csv")
    assert many == few
    assert _statements(client, "/leads/export?format=xlsx") == _statements(client, "/leads/export?format=xlsx")


# --- the lead number on the pages and in the search -------------------------------------------------

def test_the_lead_number_is_shown_and_found(client, office):
    followed = office["followed"]
    client.login(office["officer"])
    page = client.get(f"/leads/{followed.id}").get_data(as_text=True)
    assert f'data-testid="lead-number">编号 {followed.id}<' in page
    listing = client.get("/leads").get_data(as_text=True)
    assert f"编号 {followed.id}" in listing
    for query in (str(followed.id), f"编号 {followed.id}", f"#{followed.id}", f"编号{followed.id}"):
        found = client.get("/leads", query_string={"q": query}).get_data(as_text=True)
        assert f'data-lead-id="{followed.id}"' in found, query
        assert f'data-lead-id="{office["quiet"].id}"' not in found, query


def test_another_units_lead_number_finds_nothing(client, office):
    other = factories.lead(unit_=factories.unit("高唐镇"), company_name="高唐某食品有限公司")
    db.session.commit()
    client.login(office["officer"])
    found = client.get("/leads", query_string={"q": str(other.id)}).get_data(as_text=True)
    assert f'data-lead-id="{other.id}"' not in found
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 3
