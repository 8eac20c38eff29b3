"""Big files never block the web (issue 18): the preview reads the first rows only and keeps what
it found, the job checks every row; caps on rows and on what a workbook unpacks to."""
from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.interchange.models import ImportBatch
from crm.leads.models import Lead
from tests import factories
from tests.import_files import HEADERS, csv_bytes, row


def _leads():
    return db.session.scalar(select(func.count()).select_from(Lead))


@pytest.fixture()
def team_lead(client, db_session):
    user = factories.user(roles=["team_lead"])
    client.login(user)
    return user


@pytest.fixture()
def small_preview(app, monkeypatch):
    """A preview of 50 rows, so a file of a few thousand rows is "big" (the rule is the same)."""
    monkeypatch.setitem(app.config, "IMPORT_PREVIEW_ROWS", 50)


def _upload(client, user, content: bytes, name: str):
    response = client.post("/imports/new", {"file": (io.BytesIO(content), name), "mode": "create",
                                            "unit_id": user.unit_id}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response.location, int(response.location.rsplit("/", 1)[1])


def _confirm(client, batch_id, **form):
    from crm.interchange.jobs import run_import_job

    assert client.post(f"/imports/{batch_id}/confirm", form).status_code == 302
    with client.raw.application.app_context():
        return run_import_job(batch_id)


def _rows(n, bad_at=None):
    return [row(name=f"福建测试{i}号科技有限公司", kind="", source="", planned="abc" if i == bad_at else "1000")
            for i in range(n)]


def _counts(page: str) -> str:
    return re.search(r'data-testid="counts">([^<]+)<', page).group(1)


def _workbook(rows, headers=HEADERS) -> bytes:
    """As Excel writes it: texts in the shared strings table (xl/sharedStrings.xml)."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"strings_to_numbers": False})
    sheet = book.add_worksheet()
    for r, values in enumerate([headers, *rows]):
        sheet.write_row(r, 0, values)
    book.close()
    return out.getvalue()


# --- the preview reads the first rows, once; the job reads them all --------------------------------

def test_the_preview_reads_the_first_rows_once_and_the_job_checks_every_row(client, team_lead, small_preview):
    location, batch_id = _upload(client, team_lead, csv_bytes(_rows(2000, bad_at=1500)), "台账.csv")
    page = client.get(location).get_data(as_text=True)
    assert _counts(page).startswith("共 50 行"), _counts(page)
    assert 'data-testid="partial-preview"' in page and "预览只检查了前 50 行" in page
    assert "abc" not in page  # row 1502 is further down than the preview reads
    # A second visit shows what the first kept: the file is not read again.
    batch = db.session.get(ImportBatch, batch_id)
    assert batch.preview["total"] == 50 and not batch.preview["complete"]
    from crm.interchange.services import file_key
    from crm.storage import storage

    stored = storage(client.application).path(file_key(batch.stored_path))  # the local folder's file
    stored.rename(stored.with_suffix(".away"))
    try:
        again = client.get(location)
        assert again.status_code == 200 and _counts(again.get_data(as_text=True)) == _counts(page)
    finally:
        stored.with_suffix(".away").rename(stored)
    # The job checks every row: the bad one far down stops the import (all or nothing).
    assert _confirm(client, batch_id) == "failed"
    db.session.expire_all()
    batch = db.session.get(ImportBatch, batch_id)
    assert (batch.total_rows, batch.rejected_count) == (2000, 1) and _leads() == 0
    assert batch.preview is None  # dropped on confirmation
    report = openpyxl.load_workbook(io.BytesIO(client.get(f"/imports/{batch_id}/report").data)).active
    rejected = list(report.iter_rows(min_row=2, values_only=True))
    assert [r[len(HEADERS)] for r in rejected] == [1502]


def test_a_short_file_is_previewed_whole_as_before(client, team_lead, small_preview):
    location, batch_id = _upload(client, team_lead, csv_bytes(_rows(30, bad_at=20)), "台账.csv")
    page = client.get(location).get_data(as_text=True)
    assert _counts(page).startswith("共 30 行") and "未通过 1 行" in _counts(page)
    assert 'data-testid="partial-preview"' not in page and "abc" in page
    assert _confirm(client, batch_id, valid_rows_only="y") == "done" and _leads() == 29


def test_a_workbook_preview_unpacks_only_the_shared_strings_its_rows_use(app, tmp_path):
    from crm.interchange.readers import _open_workbook

    path = tmp_path / "台账.xlsx"
    path.write_bytes(_workbook([[f"福建测试{i}号科技有限公司", f"第{i}号项目"] for i in range(20000)],
                               ["企业名称", "项目名称"]))
    book = _open_workbook(path)
    try:
        sheet = book.worksheets[0]
        first = [values for _n, values in zip(range(11), sheet.iter_rows(values_only=True))]
        assert first[10] == ("福建测试9号科技有限公司", "第9号项目")
        parsed = sheet._shared_strings._strings  # 40,000 strings in the file
        assert len(parsed) < 100, len(parsed)
    finally:
        book.close()


# --- caps ----------------------------------------------------------------------------------------

def test_a_workbook_with_more_rows_than_the_cap_is_refused_at_the_preview(app, client, team_lead, small_preview,
                                                                           monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 100)
    location, batch_id = _upload(client, team_lead, _workbook(_rows(150)), "台账.xlsx")
    page = client.get(location)
    text = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "文件超过 100 行，超出单次导入的上限。请拆分为每个不超过 100 行的文件，依次导入。" in text
    db.session.expire_all()
    assert db.session.get(ImportBatch, batch_id).status == "failed"


def test_a_csv_with_more_rows_than_the_cap_is_refused_by_the_job(app, client, team_lead, small_preview, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 100)
    location, batch_id = _upload(client, team_lead, csv_bytes(_rows(101)), "台账.csv")
    assert client.get(location).status_code == 200  # a CSV's length is known only by reading it all
    assert _confirm(client, batch_id) == "failed"
    page = client.get(location).get_data(as_text=True)
    assert "文件超过 100 行" in page and "请拆分为每个不超过 100 行的文件" in page
    assert _leads() == 0
    # At the cap, it imports.
    location, batch_id = _upload(client, team_lead, csv_bytes(_rows(100)), "台账.csv")
    client.get(location)
    assert _confirm(client, batch_id) == "done" and _leads() == 100


def test_a_workbook_whose_shared_strings_unpack_past_the_cap_is_refused_before_parsing(app, client, team_lead,
                                                                                      monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_UNPACKED_MB", 1)
    names = [[f"福建省三明市将乐县第{i}号新材料科技股份有限公司" + "（高新技术企业，专精特新）" * 40] for i in range(2000)]
    content = _workbook(names, ["企业名称"])
    assert len(content) < (1 << 20)  # small on the wire; its strings unpack to more than 1 MB
    location, batch_id = _upload(client, team_lead, content, "台账.xlsx")
    page = client.get(location)
    text = page.get_data(as_text=True)
    assert page.status_code == 400, text
    assert "工作簿过大，无法导入：其中的共享字符串（sharedStrings.xml）解压后约" in text, re.findall(r'alert[^>]*>([^<]+)', text)
    assert "超过 1 MB 的上限。请拆分为几个较小的文件（或另存为 CSV）后依次导入。" in text
