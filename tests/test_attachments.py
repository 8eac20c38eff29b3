"""Attachments: files on a screening case and on a unit's opinion, checked by content, stored
outside the static folder under random names, readable only by those who may read the case,
every upload and download audited."""
from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crm.attachments import storage
from crm.attachments.models import Attachment
from crm.audit.models import AuditEntry
from crm.demo.screening import minimal_pdf
from crm.extensions import db
from crm.screening import services
from crm.screening.models import ScreeningCase
from tests import factories

MOMENT = "2024-09-27T10:00:00+08:00"
PDF = minimal_pdf(["Feasibility study", "Fujian Yongsheng Aluminium"])
PNG = bytes.fromhex("89504E470D0A1A0A0000000D49484452000000010000000108060000001F15C489"
                    "0000000D4944415478DA63F8FFFF3F0005FE02FEA7D6A4A30000000049454E44AE426082")
OLE = bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 504
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\0" * 200 + b"This program cannot be run in DOS mode"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\0" * 200


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


DOCX = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})


@pytest.fixture()
def county(db_session, app, clock_at):
    """An open case on an officer's lead, asked of two units; a third unit not asked; another
    town's officer."""
    clock_at(MOMENT)
    fagai, fagai_screener = factories.member_unit("县发改局")
    ziran, ziran_screener = factories.member_unit("县自然资源局")
    other_unit, other_screener = factories.member_unit("县林业局")
    officer = factories.user()
    lead = factories.negotiating_lead(owner=officer, company_name="福建永盛铝业有限公司",
                                      planned_investment_wan=Decimal("50000"))
    case = services.submit(lead, officer, [fagai.id, ziran.id])
    return {"officer": officer, "lead": lead, "case": case, "units": (fagai, ziran),
            "screeners": (fagai_screener, ziran_screener), "outsider_screener": other_screener,
            "other_officer": factories.user(), "leader": factories.user(roles=("leader",)),
            "admin": factories.user(roles=("admin",))}


def _as(make_client, user):
    c = make_client()
    c.login(user)
    return c


def _upload(c, kind, owner_id, data, name, csrf=True, note=""):
    return c.post(f"/attachments/{kind}/{owner_id}", {"file": (io.BytesIO(data), name), "note": note},
                  csrf=csrf, content_type="multipart/form-data")


def _rows() -> list[Attachment]:
    db.session.expire_all()
    return list(db.session.scalars(select(Attachment).order_by(Attachment.id)))


def _stored_files() -> set[str]:
    base = storage_dir()
    return {p.name for p in base.rglob("*") if p.is_file()} if base.exists() else set()


def storage_dir() -> Path:
    from tests.conftest import _TMP  # the suite's instance folder; ATTACHMENTS_DIR is not set

    return Path(_TMP) / "attachments"


def _audit(action: str, entity_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.entity_type == "attachments", AuditEntry.action == action, AuditEntry.entity_id == entity_id))


# --- the happy path -----------------------------------------------------------------------------

def test_officer_uploads_and_a_screener_of_an_asked_unit_downloads(make_client, county):
    case = county["case"]
    officer = _as(make_client, county["officer"])
    before = _stored_files()
    response = _upload(officer, "screening_case", case.id, PDF, "项目可行性研究报告.pdf", note="客商 11 月提供")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/screening/cases/{case.id}")
    [row] = _rows()
    assert (row.original_name, row.content_type, row.size, row.owner_kind, row.owner_id) == \
        ("项目可行性研究报告.pdf", "application/pdf", len(PDF), "screening_case", case.id)
    assert row.uploaded_by_id == county["officer"].id and row.note == "客商 11 月提供"
    assert len(row.stored_name) == 32 and _stored_files() - before == {row.stored_name}
    assert _audit("create", row.id) == 1
    screener = _as(make_client, county["screeners"][1])
    page = screener.get(f"/screening/cases/{case.id}").get_data(as_text=True)
    assert "项目可行性研究报告.pdf" in page and f"/attachments/{row.id}/download" in page
    download = screener.get(f"/attachments/{row.id}/download")
    assert download.status_code == 200 and download.data == PDF
    assert download.mimetype == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "filename*=UTF-8''%E9%A1%B9%E7%9B%AE" in disposition
    assert _audit("download", row.id) == 1
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "download")).one()
    assert entry.actor_id == county["screeners"][1].id


def test_the_files_live_outside_the_static_folder(app, make_client, county):
    _upload(_as(make_client, county["officer"]), "screening_case", county["case"].id, PDF, "a.pdf")
    [row] = _rows()
    with app.app_context():
        path = storage.path_for(row.stored_name).resolve()
    static = Path(app.static_folder).resolve()
    assert static not in path.parents and path.is_file()
    assert make_client().get(f"/static/{row.stored_name}").status_code == 404


def test_accepted_types_by_content(make_client, county):
    officer = _as(make_client, county["officer"])
    case_id = county["case"].id
    for data, name in ((PNG, "现场照片.png"), (OLE, "申请表.doc"), (OLE, "汇总表.et"), (DOCX, "说明.docx"),
                       (DOCX, "说明.wps"), (_zip({"a.pdf": PDF, "b.png": PNG, "c/说明.docx": DOCX}), "材料.zip")):
        response = _upload(officer, "screening_case", case_id, data, name)
        assert response.status_code == 303
    assert [(r.original_name, r.content_type) for r in _rows()] == [
        ("现场照片.png", "image/png"), ("申请表.doc", "application/msword"), ("汇总表.et", "application/kset"),
        ("说明.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("说明.wps", "application/kswps"), ("材料.zip", "application/zip")]


# --- bad input: a clear message, nothing stored ----------------------------------------------

@pytest.mark.parametrize("data,name,message", [
    (EXE, "可研报告.pdf", "文件内容不是允许的类型"),
    (ELF, "报告.pdf", "文件内容不是允许的类型"),
    (EXE, "setup.exe", "文件内容不是允许的类型"),
    (PNG, "报告.pdf", "文件内容是PNG 图片，与扩展名“.pdf”不符"),
    (PDF, "报告", "文件名没有扩展名"),
    (b"", "空.pdf", "文件是空的"),
    (b"<html><script>alert(1)</script></html>", "a.pdf", "文件内容不是允许的类型"),
    (_zip({"a.pdf": PDF, "run.exe": EXE}), "材料.zip", "压缩包中的“run.exe”不是允许的文件类型"),
    (_zip({"a.pdf": EXE}), "材料.zip", "压缩包中的“a.pdf”内容不是允许的类型"),
    (_zip({"inner.zip": _zip({"a.pdf": PDF})}), "材料.zip", "压缩包中还套有压缩包"),
    (_zip({"a.png": PDF}), "材料.zip", "与其扩展名不符"),
    (_zip({f"{i}.pdf": PDF for i in range(501)}), "多.zip", "压缩包中的文件超过 500 个"),
    (_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"x"}), "a.xlsx", "与扩展名“.xlsx”不符"),
    (b"PK\x03\x04broken", "坏.zip", "已损坏"),
])
def test_a_refused_file_is_not_stored(make_client, county, data, name, message):
    officer = _as(make_client, county["officer"])
    before = _stored_files()
    response = _upload(officer, "screening_case", county["case"].id, data, name)
    assert response.status_code == 303
    page = officer.get(response.headers["Location"]).get_data(as_text=True)
    assert message in page, page[:3000]
    assert _rows() == [] and _stored_files() == before


def test_a_zip_bomb_is_refused_by_what_it_unpacks_to(make_client, county, monkeypatch):
    from crm.attachments import detect

    monkeypatch.setattr(detect, "ZIP_MAX_TOTAL", 1024 * 1024)  # 1 MB for the test
    bomb = _zip({"a.pdf": PDF + b"\0" * (2 * 1024 * 1024)})
    assert len(bomb) < 20 * 1024
    response = _upload(_as(make_client, county["officer"]), "screening_case", county["case"].id, bomb, "炸弹.zip")
    assert response.status_code == 303 and _rows() == []


def test_a_file_over_the_limit_is_refused(app, make_client, county):
    officer = _as(make_client, county["officer"])
    before = _stored_files()
    app.config["ATTACHMENT_MAX_MB"] = 1
    try:
        response = _upload(officer, "screening_case", county["case"].id, PDF + b"\0" * (1024 * 1024), "大.pdf")
        page = officer.get(response.headers["Location"]).get_data(as_text=True)
        api = officer.post("/api/v1/attachments",
                           data={"kind": "screening_case", "owner_id": str(county["case"].id),
                                 "file": (io.BytesIO(PDF + b"\0" * (1024 * 1024)), "大.pdf")},
                           content_type="multipart/form-data", headers={"X-CSRFToken": officer.csrf_token()})
    finally:
        app.config["ATTACHMENT_MAX_MB"] = 20
    assert "文件超过 1 MB，未保存" in page
    assert api.status_code == 413 and "文件超过 1 MB" in api.get_json()["error"]["message"]
    assert _rows() == [] and _stored_files() == before
    assert not any(p.name.startswith(".upload-") for p in storage_dir().iterdir())


def test_a_path_as_the_name_is_stored_safely(make_client, county, tmp_path):
    officer = _as(make_client, county["officer"])
    base = storage_dir()
    outside = {p for p in base.parent.parent.rglob("x.pdf")}
    response = _upload(officer, "screening_case", county["case"].id, PDF, "../../x.pdf")
    assert response.status_code == 303
    [row] = _rows()
    assert row.original_name == "x.pdf"
    assert {p for p in base.parent.parent.rglob("x.pdf")} == outside  # nothing named x.pdf anywhere
    assert (base / row.stored_name[:2] / row.stored_name).is_file()
    for name, shown in (("/etc/passwd.pdf", "passwd.pdf"), ("re\u202eport\u0000.pdf", "report.pdf")):
        _upload(officer, "screening_case", county["case"].id, PDF, name)
        assert _rows()[-1].original_name == shown
    from crm.attachments.services import safe_name

    assert safe_name("..\\..\\windows\\x.pdf") == "x.pdf" and safe_name("../..") == ""
    download = officer.get(f"/attachments/{row.id}/download")
    assert 'filename=x.pdf' in download.headers["Content-Disposition"]


def test_upload_without_csrf_is_refused(make_client, county):
    officer = _as(make_client, county["officer"])
    response = _upload(officer, "screening_case", county["case"].id, PDF, "a.pdf", csrf=False)
    assert response.status_code == 400 and "安全" in response.get_data(as_text=True)
    api = officer.post("/api/v1/attachments", data={"kind": "screening_case", "owner_id": str(county["case"].id),
                                                    "file": (io.BytesIO(PDF), "a.pdf")},
                       content_type="multipart/form-data")
    assert api.status_code == 400
    assert _rows() == []


# --- who may read and add ------------------------------------------------------------------------

def test_another_units_attachment_is_refused_by_id_and_url(make_client, county):
    _upload(_as(make_client, county["officer"]), "screening_case", county["case"].id, PDF, "a.pdf")
    [row] = _rows()
    for user in (county["other_officer"], county["outsider_screener"]):
        c = _as(make_client, user)
        assert c.get(f"/attachments/{row.id}/download").status_code == 404
        assert c.get(f"/api/v1/attachments/{row.id}/download").status_code == 404
        assert c.get(f"/api/v1/attachments?kind=screening_case&owner_id={county['case'].id}").status_code == 404
        assert _upload(c, "screening_case", county["case"].id, PDF, "b.pdf").status_code == 404
        assert c.post(f"/attachments/{row.id}/delete").status_code == 404
    assert _as(make_client, county["leader"]).get(f"/attachments/{row.id}/download").status_code == 200
    assert make_client().get(f"/attachments/{row.id}/download").status_code == 302  # log in first
    assert _audit("download", row.id) == 1  # the leader's only
    assert len(_rows()) == 1


def test_a_screener_adds_the_signed_opinion_to_their_units_answer_only(make_client, county):
    case = county["case"]
    fagai_cu, ziran_cu = sorted(case.units, key=lambda cu: cu.position)
    fagai = _as(make_client, county["screeners"][0])
    page = fagai.get(f"/screening/cases/{case.id}").get_data(as_text=True)
    assert f'action="/attachments/screening_opinion/{fagai_cu.id}"' in page
    assert f'action="/attachments/screening_opinion/{ziran_cu.id}"' not in page
    assert 'action="/attachments/screening_case/' not in page  # the investor's materials: the officer's
    assert _upload(fagai, "screening_opinion", fagai_cu.id, PDF, "发改局意见（盖章）.pdf").status_code == 303
    assert _upload(fagai, "screening_opinion", ziran_cu.id, PDF, "冒充.pdf").status_code == 403
    assert _upload(fagai, "screening_case", case.id, PDF, "x.pdf").status_code == 403
    assert [r.original_name for r in _rows()] == ["发改局意见（盖章）.pdf"]
    officer_page = _as(make_client, county["officer"]).get(f"/screening/cases/{case.id}").get_data(as_text=True)
    assert "发改局意见（盖章）.pdf" in officer_page
    api = _as(make_client, county["officer"]).get(f"/api/v1/screening/cases/{case.id}").get_json()
    by_unit = {u["unit"]: [a["name"] for a in u["attachments"]] for u in api["units"]}
    assert by_unit == {"县发改局": ["发改局意见（盖章）.pdf"], "县自然资源局": []}


def test_files_are_removed_by_the_uploader_or_an_admin_while_open(make_client, county):
    officer = _as(make_client, county["officer"])
    case_id = county["case"].id
    _upload(officer, "screening_case", case_id, PDF, "a.pdf")
    _upload(officer, "screening_case", case_id, PDF, "b.pdf")
    first, second = _rows()
    leader = _as(make_client, county["leader"])
    assert leader.post(f"/attachments/{first.id}/delete").status_code == 403
    assert officer.post(f"/attachments/{first.id}/delete").status_code == 303
    assert [r.original_name for r in _rows()] == ["b.pdf"]
    assert _audit("delete", first.id) == 1 and first.stored_name not in _stored_files()
    # the case closes: the file stays for good
    db.session.get(ScreeningCase, case_id).status = "closed"
    db.session.flush()
    assert _as(make_client, county["admin"]).post(f"/attachments/{second.id}/delete").status_code == 403
    assert _upload(officer, "screening_case", case_id, PDF, "c.pdf").status_code == 403
    assert [r.original_name for r in _rows()] == ["b.pdf"]


def test_a_rolled_back_upload_leaves_no_file(app, county):
    from crm.attachments import services as attachment_services

    before = _stored_files()
    with app.test_request_context():  # its end removes the session: the last step of this test
        row = attachment_services.upload("screening_case", county["case"].id, io.BytesIO(PDF), "a.pdf",
                                         county["officer"])
        assert row.stored_name in _stored_files()
        db.session.rollback()
    assert _stored_files() == before


# --- API --------------------------------------------------------------------------------------

def _token(user):
    from crm.auth.services import issue_api_token

    _token_row, raw = issue_api_token(user, "test", 30)
    return {"Authorization": f"Bearer {raw}"}


def test_api_lists_uploads_and_downloads(make_client, county):
    case_id = county["case"].id
    api = make_client()
    officer = _token(county["officer"])
    response = api.post("/api/v1/attachments", headers=officer, content_type="multipart/form-data",
                        data={"kind": "screening_case", "owner_id": str(case_id),
                              "file": (io.BytesIO(PDF), "可研.pdf"), "note": "第一版"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["name"] == "可研.pdf" and body["content_type"] == "application/pdf" and body["note"] == "第一版"
    bad = api.post("/api/v1/attachments", headers=officer, content_type="multipart/form-data",
                   data={"kind": "screening_case", "owner_id": str(case_id), "file": (io.BytesIO(EXE), "a.pdf")})
    assert bad.status_code == 400 and "文件内容不是允许的类型" in bad.get_json()["error"]["message"]
    assert bad.get_json()["error"]["fields"]["file"]
    screener = _token(county["screeners"][0])
    listed = api.get(f"/api/v1/attachments?kind=screening_case&owner_id={case_id}", headers=screener).get_json()
    assert [a["name"] for a in listed["items"]] == ["可研.pdf"] and listed["can_upload"] is False
    download = api.get(listed["items"][0]["download_url"], headers=screener)
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert api.get(f"/api/v1/attachments?kind=nonsense&owner_id={case_id}", headers=screener).status_code == 404
    assert api.get("/api/v1/attachments?kind=screening_case", headers=screener).status_code == 400
    spec = api.get("/api/v1/openapi.json").get_json()
    assert "/attachments" in spec["paths"] and "Attachment" in spec["components"]["schemas"]


def test_the_kinds_are_registered_in_create_app(app):
    from crm.attachments.registry import kind_names

    with app.app_context():
        assert kind_names() == ["agenda_item", "milestone", "screening_case", "screening_opinion", "step"]


# --- in a browser -----------------------------------------------------------------------------

from tests.test_browser import (CHROMIUM, _login, _login_as,  # noqa: E402
                                _send_to_screening, _watch, browser, live_server)  # noqa: F401  (fixtures)


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")
def test_officer_uploads_a_pdf_and_a_screener_downloads_it(live_server, browser, tmp_path):
    officer = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = _watch(officer)
    _login(officer, live_server)
    case_url = _send_to_screening(officer)
    pdf = tmp_path / "项目可行性研究报告.pdf"
    pdf.write_bytes(PDF)
    panel = officer.locator("#case-files")
    panel.locator("[data-testid=upload-file]").set_input_files(str(pdf))
    panel.locator("input[name=note]").fill("客商第一版")
    with officer.expect_navigation():
        panel.locator("[data-testid=upload-submit]").click()
    assert "已上传文件：项目可行性研究报告.pdf" in officer.locator(".alert-success").inner_text()
    assert panel.locator("[data-testid=attachment-link]").inner_text() == "项目可行性研究报告.pdf"
    exe = tmp_path / "报告.pdf"
    exe.write_bytes(EXE)
    panel.locator("[data-testid=upload-file]").set_input_files(str(exe))
    with officer.expect_navigation():
        panel.locator("[data-testid=upload-submit]").click()
    assert "文件内容不是允许的类型" in officer.locator(".alert-danger").inner_text()
    assert panel.locator("[data-testid=attachment]").count() == 1
    assert problems == [], problems

    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    screener = context.new_page()
    seen = _watch(screener)
    _login_as(screener, live_server, "fg_screener")
    screener.goto(case_url)
    with screener.expect_download() as info:
        screener.locator("#case-files [data-testid=attachment-link]").click()
    download = info.value
    assert download.suggested_filename == "项目可行性研究报告.pdf"
    assert Path(download.path()).read_bytes() == PDF
    mine = screener.locator("[data-testid=opinion-card][data-unit='县发改局']")
    assert mine.locator("[data-testid=upload-form]").count() == 1   # the unit's signed opinion goes here
    assert screener.locator("#case-files [data-testid=upload-form]").count() == 0
    screener.screenshot(path=str(Path(tempfile_dir()) / "crm-case-attachments.png"), full_page=True)
    assert seen == [], seen
    context.close()
    officer.close()


def tempfile_dir() -> str:
    import tempfile

    return tempfile.gettempdir()


def test_agenda_item_rule_read_as_the_item_added_by_the_secretariat_while_open(db_session):
    from types import SimpleNamespace

    from crm.decisions.attachments import AGENDA
    from crm.decisions.services import save_secretariat

    secretariat, town = factories.unit("县招商服务中心", kind="investment_group"), factories.unit("古镛镇")
    save_secretariat(secretariat.id)

    def item(status="open", meeting="open", unit=town):
        return SimpleNamespace(is_open=status == "open", meeting=SimpleNamespace(status=meeting),
                               lead=SimpleNamespace(company_name="福建永盛铝业有限公司", owner_unit_id=unit.id),
                               meeting_id=1, id=2)

    leader, keeper = factories.user(roles=("leader",)), factories.user(roles=("team_lead",), unit_=secretariat)
    own_officer, other_lead = factories.user(unit_=town), factories.user(roles=("team_lead",))
    screener = factories.user(roles=("screener",), unit_=town)
    assert AGENDA.may_read(leader, item()) and AGENDA.may_read(keeper, item()) and AGENDA.may_read(own_officer, item())
    assert not AGENDA.may_read(other_lead, item()) and not AGENDA.may_read(screener, item())
    assert AGENDA.may_upload(keeper, item()) and not AGENDA.may_upload(leader, item())
    assert not AGENDA.may_upload(other_lead, item()) and not AGENDA.may_upload(own_officer, item())
    assert not AGENDA.may_upload(keeper, item(status="closed"))
    assert not AGENDA.may_upload(keeper, item(meeting="closed"))
    assert AGENDA.is_open(item()) and not AGENDA.is_open(item(status="deferred"))
