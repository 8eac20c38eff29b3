"""A lead's contacts: phone rules, the lead page, the new-lead form, the API, the interchange file,
and who sees the personal data (phone, WeChat, e-mail) — on the page, in the API, the export and
the audit log."""
from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEntry
from crm.contacts.models import LeadContact
from crm.contacts.phones import PhoneError, mask, normalize_phone
from crm.extensions import db
from crm.leads.models import Lead
from tests import factories
from tests.import_files import HEADERS, xlsx
from tests.import_files import row as sheet_row


def _contacts(lead):
    db.session.expire_all()
    return db.session.scalars(select(LeadContact).where(LeadContact.lead_id == lead.id)
                              .order_by(LeadContact.id)).all()


def _add(lead, actor, **data):
    from crm.contacts.services import add_contact

    data.setdefault("name", "张伟")
    primary = data.pop("is_primary", None)
    return add_contact(lead, data, actor, primary=primary)


def _token(user):
    from crm.auth.services import issue_api_token

    _t, raw = issue_api_token(user, "contacts test", 30)
    db.session.commit()  # into the test's outer transaction: survives a refused request's rollback
    return {"Authorization": f"Bearer {raw}"}


# --- phone numbers -------------------------------------------------------------------------------
@pytest.mark.parametrize("written, kept", [
    ("13812345678", "13812345678"),
    ("138 1234 5678", "13812345678"),
    ("138-1234-5678", "13812345678"),
    ("+86 138 1234 5678", "13812345678"),
    ("+86-13812345678", "13812345678"),
    ("0086 138 1234 5678", "13812345678"),
    ("(+86) 138 1234 5678", "13812345678"),
    ("86 138 1234 5678", "13812345678"),
    ("１３８１２３４５６７８", "13812345678"),          # full-width digits
    (13812345678, "13812345678"),                    # a sheet's number cell
    (13812345678.0, "13812345678"),
    ("0598-1234567", "0598-1234567"),
    ("0598 12345678", "0598-12345678"),
    ("(0598)1234567", "0598-1234567"),
    ("05981234567", "0598-1234567"),
    ("010-12345678", "010-12345678"),
    ("02112345678", "021-12345678"),
    ("+86 598 1234567", "0598-1234567"),            # abroad, without the trunk 0
    ("0598-1234567转8001", "0598-1234567转8001"),
    ("0598-1234567 ext. 12", "0598-1234567转12"),
    ("", None),
    ("   ", None),
    (None, None),
])
def test_phone_numbers_are_normalised(app, written, kept):
    with app.test_request_context():
        assert normalize_phone(written) == kept
        if kept:
            assert normalize_phone(kept) == kept  # normalising twice changes nothing


@pytest.mark.parametrize("written", [
    "12345", "1381234567", "138123456789", "23812345678", "12812345678", "1234567", "0598-123",
    "0598-0123456", "abc", "138 1234 567a", "+1 415 555 1234", "13812345678转12", "00",
])
def test_bad_phone_numbers_are_refused_with_what_a_number_looks_like(app, written):
    with app.test_request_context(), pytest.raises(PhoneError) as refused:
        normalize_phone(written)
    assert "11 位手机号码" in str(refused.value) and "区号" in str(refused.value)


@pytest.mark.parametrize("value, masked", [
    ("13812345678", "138****5678"), ("0598-1234567", "0598****567"), ("zhangwei@qq.com", "z***@qq.com"),
    ("zhangwei_88", "z***8"), (None, None), ("ab", "**"),
])
def test_masks(value, masked):
    assert mask(value) == masked


# --- who sees personal data ---------------------------------------------------------------------
@pytest.mark.parametrize("roles, own_unit, sees", [
    (("officer",), True, True), (("officer",), False, False), (("team_lead",), True, True),
    (("team_lead",), False, False), (("viewer",), True, True), (("viewer",), False, False),
    (("leader",), False, True), (("admin",), False, True), (("screener",), True, False),
    (("screener",), False, False),
])
def test_personal_data_is_for_the_owner_unit_leaders_and_admins(db_session, roles, own_unit, sees):
    from crm.contacts.access import sees_personal_data

    town = factories.unit()
    user = factories.user(roles=roles, unit_=town if own_unit else factories.unit())
    assert sees_personal_data(user, town.id) is sees


# --- the new-lead form and the lead page ---------------------------------------------------------
def _lead_form(**overrides):
    data = {"company_name": "福建富远铝业有限公司", "uscc": "", "project_name": "年产5万吨再生铝项目",
            "chain_id": "", "chain_node_id": "", "source_id": "", "source_kind": "",
            "planned_investment_wan": "50000", "fixed_asset_investment_wan": "42000", "land_area_mu": "120",
            "expected_output_wan": "", "expected_tax_wan": "900", "high_tech": "", "specialized": "",
            "owner_id": "", "created_on": "2026-03-05"}
    data.update(overrides)
    return data


def test_new_lead_form_takes_the_first_contact_with_a_normalised_phone(client, db_session):
    officer = factories.user()
    client.login(officer)
    response = client.post("/leads/new", _lead_form(contact_name="张伟", contact_title="总经理",
                                                    contact_phone="+86 138 1234 5678", contact_wechat="zhangwei_88"))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    lead = db.session.scalar(select(Lead))
    [contact] = _contacts(lead)
    assert (contact.name, contact.title, contact.phone, contact.wechat, contact.is_primary) == (
        "张伟", "总经理", "13812345678", "zhangwei_88", True)
    page = client.get(response.location).get_data(as_text=True)
    assert 'data-testid="contact-phone">13812345678<' in page and "总经理" in page


def test_new_lead_form_refuses_a_bad_phone_and_stores_nothing(client, db_session):
    client.login(factories.user())
    response = client.post("/leads/new", _lead_form(contact_name="张伟", contact_phone="138 1234 567"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "不是有效的电话号码" in page and "0598-1234567" in page
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 0


def test_new_lead_form_needs_a_name_for_a_phone(client, db_session):
    client.login(factories.user())
    response = client.post("/leads/new", _lead_form(contact_phone="13812345678"))
    assert response.status_code == 400 and "请填写联系人姓名" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 0


def test_contacts_are_added_edited_made_primary_and_removed_on_the_lead_page(client, db_session):
    officer = factories.user()
    lead = factories.lead(owner=officer)
    client.login(officer)
    base = f"/leads/{lead.id}/contacts"
    first = {"name": "张伟", "title": "总经理", "phone": "0598 1234567", "wechat": "", "email": "ZW@Example.com",
             "note": "春节座谈会上认识"}
    assert client.post(base, first).status_code == 302
    assert client.post(base, {"name": "李娜", "title": "财务总监", "phone": "13912345678"}).status_code == 302
    zhang, li = _contacts(lead)
    assert (zhang.phone, zhang.email, zhang.is_primary, li.is_primary) == ("0598-1234567", "ZW@example.com", True, False)
    # A third one asked to be primary takes it over: still exactly one primary.
    assert client.post(base, {"name": "王强", "phone": "13712345678", "is_primary": "y"}).status_code == 302
    assert [c.is_primary for c in _contacts(lead)] == [False, False, True]
    assert client.post(f"{base}/{li.id}/primary").status_code == 302
    assert [c.name for c in _contacts(lead) if c.is_primary] == ["李娜"]
    # Edit: a bad phone is refused with the message, the contact unchanged.
    refused = client.post(f"{base}/{zhang.id}", {"name": "张伟", "phone": "12345"})
    assert refused.status_code == 400 and "不是有效的电话号码" in refused.get_data(as_text=True)
    assert _contacts(lead)[0].phone == "0598-1234567"
    assert client.post(f"{base}/{zhang.id}", {"name": "张伟", "title": "董事长", "phone": "0598-7654321"}).status_code == 302
    assert (_contacts(lead)[0].title, _contacts(lead)[0].phone) == ("董事长", "0598-7654321")
    # Removing the primary makes the oldest remaining contact primary.
    assert client.post(f"{base}/{li.id}/delete").status_code == 302
    remaining = _contacts(lead)
    assert [c.name for c in remaining] == ["张伟", "王强"] and [c.is_primary for c in remaining] == [True, False]
    # Every change is audited under the lead and shown in its history.
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "leads",
                                                                 AuditEntry.entity_id == lead.id)).all()
    assert {"contact_create", "contact_update", "contact_delete"} <= set(actions)
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "添加联系人" in page and "删除联系人" in page and "职务" in page and "总经理 → 董事长" in page


def test_bad_email_and_missing_name_are_refused_on_the_lead_page(client, db_session):
    officer = factories.user()
    lead = factories.lead(owner=officer)
    client.login(officer)
    response = client.post(f"/leads/{lead.id}/contacts", {"name": "张伟", "email": "not-an-address"})
    assert response.status_code == 400 and "不是有效的电子邮箱地址" in response.get_data(as_text=True)
    response = client.post(f"/leads/{lead.id}/contacts", {"name": "", "phone": "13812345678"})
    assert response.status_code == 400 and "请填写联系人姓名" in response.get_data(as_text=True)
    assert _contacts(lead) == []


def test_another_units_officer_cannot_change_or_read_contacts(client, db_session):
    lead = factories.lead()
    contact = _add(lead, lead.owner, phone="13812345678")
    client.login(factories.user())
    assert client.get(f"/leads/{lead.id}").status_code == 403
    assert client.post(f"/leads/{lead.id}/contacts", {"name": "外单位"}).status_code == 403
    assert client.post(f"/leads/{lead.id}/contacts/{contact.id}/delete").status_code == 403
    assert len(_contacts(lead)) == 1


def test_a_contact_of_another_lead_is_not_found(client, db_session):
    officer = factories.user()
    mine, other = factories.lead(owner=officer), factories.lead(owner=officer)
    contact = _add(other, officer)
    client.login(officer)
    assert client.post(f"/leads/{mine.id}/contacts/{contact.id}", {"name": "改名"}).status_code == 404


# --- a viewer of another unit: name and title only, everywhere ----------------------------------
@pytest.fixture()
def contact_elsewhere(db_session):
    town = factories.unit("古镛镇")
    officer = factories.user(unit_=town)
    lead = factories.lead(owner=officer, company_name="福建氟新材料有限公司")
    contact = _add(lead, officer, title="总经理", phone="+86 138 1234 5678", wechat="zhangwei_88",
                   email="zw@example.com")
    from crm.contacts.services import update_contact

    update_contact(contact, {"phone": "13912345678"})  # an audited change of the phone
    db.session.commit()
    return {"lead": lead, "officer": officer, "contact": contact}


def test_viewer_of_another_unit_sees_no_phone_or_wechat_on_the_page(client, contact_elsewhere):
    lead = contact_elsewhere["lead"]
    client.login(factories.user(roles=["viewer"]))
    db.session.commit()
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "张伟" in page and "总经理" in page
    for secret in ("13812345678", "13912345678", "zhangwei_88", "zw@example.com"):
        assert secret not in page
    assert 'data-testid="contacts-personal-hidden"' in page
    # The history masks the phone change instead of hiding that it happened.
    assert "138****5678 → 139****5678" in page


def test_leader_and_owner_unit_see_the_phone(client, contact_elsewhere):
    lead = contact_elsewhere["lead"]
    for user in (factories.user(roles=["leader"]), contact_elsewhere["officer"]):
        db.session.commit()
        client.login(user)
        page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
        assert 'data-testid="contact-phone">13912345678<' in page and "zhangwei_88" in page
        assert "13812345678 → 13912345678" in page
        client.post("/logout")


def test_viewer_of_another_unit_gets_no_personal_data_from_the_api(app, contact_elsewhere):
    lead = contact_elsewhere["lead"]
    viewer_auth = _token(factories.user(roles=["viewer"]))
    leader_auth = _token(factories.user(roles=["leader"]))
    api = app.test_client()
    seen = api.get(f"/api/v1/leads/{lead.id}", headers=viewer_auth).json
    assert seen["contacts"] == [{"id": contact_elsewhere["contact"].id, "name": "张伟", "title": "总经理",
                                 "is_primary": True}]
    assert seen["contacts_personal_data"] is False
    listed = api.get("/api/v1/leads", headers=viewer_auth).json["items"]
    assert all("phone" not in c and "wechat" not in c for item in listed for c in item["contacts"])
    full = api.get(f"/api/v1/leads/{lead.id}", headers=leader_auth).json["contacts"][0]
    assert (full["phone"], full["wechat"], full["email"]) == ("13912345678", "zhangwei_88", "zw@example.com")


def _export(client, fmt="csv"):
    response = client.get(f"/leads/export?format={fmt}")
    assert response.status_code == 200
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"), newline="")))
        # Long digit strings are written ="…" so Excel keeps them text (crm.interchange.export).
        rows = [[c[2:-1] if c.startswith('="') and c.endswith('"') else c for c in r] for r in rows]
    else:
        rows = [list(r) for r in openpyxl.load_workbook(io.BytesIO(response.get_data())).active.iter_rows(values_only=True)]
    header = rows[0]
    return {r[0]: dict(zip(header, r)) for r in rows[1:]}


def test_export_leaves_the_phone_empty_for_a_viewer_of_another_unit(client, contact_elsewhere):
    viewer, leader = factories.user(roles=["viewer"]), factories.user(roles=["leader"])
    db.session.commit()
    client.login(viewer)
    for fmt in ("csv", "xlsx"):
        row = _export(client, fmt)["福建氟新材料有限公司"]
        assert row["联系人"] == "张伟" and row["职务"] == "总经理"
        assert row["联系电话"] in ("", None)  # the column stays; its cell is empty
    client.post("/logout")
    client.login(leader)
    assert _export(client)["福建氟新材料有限公司"]["联系电话"] == "13912345678"
    client.post("/logout")
    client.login(contact_elsewhere["officer"])
    assert _export(client)["福建氟新材料有限公司"]["联系电话"] == "13912345678"


def test_audit_log_masks_personal_data_for_a_reader_who_may_not_see_it(app, contact_elsewhere):
    from crm.audit.words import describe

    lead = contact_elsewhere["lead"]
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "leads",
                                                          AuditEntry.entity_id == lead.id)).all()

    def shown(reader):
        with app.test_request_context():
            return " ".join(f"{l.label}:{l.before}>{l.after}" for e in describe(entries, reader) for l in e.lines)

    viewer_sees = shown(factories.user(roles=["viewer"]))
    assert "13812345678" not in viewer_sees and "zhangwei_88" not in viewer_sees and "zw@example.com" not in viewer_sees
    assert "138****5678" in viewer_sees and "z***8" in viewer_sees and "z***@example.com" in viewer_sees
    admin_sees = shown(factories.user(roles=["admin"]))
    assert "13812345678" in admin_sees and "zhangwei_88" in admin_sees


def test_admin_audit_log_names_the_contact_change(client, contact_elsewhere):
    client.login(factories.user(roles=["admin"]))
    db.session.commit()
    page = client.get(f"/admin/audit?entity_type=leads&entity_id={contact_elsewhere['lead'].id}").get_data(as_text=True)
    assert "修改联系人" in page and "13812345678 → 13912345678" in page and "福建氟新材料有限公司" in page


# --- the API writes contacts by the same rules ---------------------------------------------------
def test_api_creates_a_lead_with_contacts_and_changes_them(app, db_session):
    officer = factories.user()
    auth = _token(officer)
    api = app.test_client()
    created = api.post("/api/v1/leads", json={"company_name": "福建将乐富硒食品有限公司", "contacts": [
        {"name": "张伟", "title": "总经理", "phone": "+86 138-1234-5678"},
        {"name": "李娜", "phone": "0598 1234567", "is_primary": True}]}, headers=auth)
    assert created.status_code == 201, created.json
    contacts = created.json["contacts"]
    assert [(c["name"], c["phone"], c["is_primary"]) for c in contacts] == [
        ("李娜", "0598-1234567", True), ("张伟", "13812345678", False)]
    lead_id, zhang = created.json["id"], contacts[1]["id"]
    changed = api.patch(f"/api/v1/leads/{lead_id}/contacts/{zhang}", json={"wechat": "zw88", "is_primary": True},
                        headers=auth)
    assert changed.status_code == 200 and changed.json["is_primary"] is True and changed.json["wechat"] == "zw88"
    added = api.post(f"/api/v1/leads/{lead_id}/contacts", json={"name": "王强", "phone": "13712345678"}, headers=auth)
    assert added.status_code == 201 and added.json["is_primary"] is False
    removed = api.delete(f"/api/v1/leads/{lead_id}/contacts/{zhang}", headers=auth)
    assert removed.status_code == 200
    assert [(c["name"], c["is_primary"]) for c in removed.json["contacts"]] == [("李娜", True), ("王强", False)]


def test_api_refuses_a_bad_phone_naming_the_contact_and_stores_nothing(app, db_session):
    auth = _token(factories.user())
    api = app.test_client()
    refused = api.post("/api/v1/leads", json={"company_name": "甲公司", "contacts": [
        {"name": "张伟", "phone": "13812345678"}, {"name": "李娜", "phone": "555-1234"}]}, headers=auth)
    assert refused.status_code == 422
    assert "不是有效的电话号码" in refused.json["error"]["fields"]["contacts[1].phone"][0]
    assert db.session.scalar(select(func.count()).select_from(Lead).where(Lead.company_name == "甲公司")) == 0
    lead = factories.lead(owner=factories.user())
    db.session.commit()
    other_unit = api.post(f"/api/v1/leads/{lead.id}/contacts", json={"name": "张伟"}, headers=auth)
    assert other_unit.status_code == 403
    unknown = api.post("/api/v1/leads", json={"company_name": "乙公司", "contacts": [{"name": "张伟", "qq": "1"}]},
                       headers=auth)
    assert unknown.status_code == 422


def test_api_refuses_contacts_in_a_lead_patch_and_unknown_contact_fields(app, db_session):
    officer = factories.user()
    lead_id = factories.lead(owner=officer).id
    auth = _token(officer)
    api = app.test_client()
    assert api.patch(f"/api/v1/leads/{lead_id}", json={"contacts": []}, headers=auth).status_code == 400
    assert api.post(f"/api/v1/leads/{lead_id}/contacts", json={"name": "张伟", "qq": "1"}, headers=auth).status_code == 400
    bad = api.post(f"/api/v1/leads/{lead_id}/contacts", json={"name": "张伟", "phone": "12345"}, headers=auth)
    assert bad.status_code == 422 and "phone" in bad.json["error"]["fields"]
    assert api.patch(f"/api/v1/leads/{lead_id}/contacts/999999", json={"name": "x"}, headers=auth).status_code == 404


def test_openapi_document_describes_contacts(app, db_session):
    doc = app.test_client().get("/api/v1/openapi.json").json
    assert "Contact" in doc["components"]["schemas"] and "contacts" in doc["components"]["schemas"]["Lead"]["properties"]
    assert {"post"} <= set(doc["paths"]["/leads/{lead_id}/contacts"])
    assert {"patch", "put", "delete"} <= set(doc["paths"]["/leads/{lead_id}/contacts/{contact_id}"])


# --- the interchange file --------------------------------------------------------------------------
@pytest.fixture()
def team_lead(client, db_session):
    user = factories.user(roles=["team_lead"])
    factories.source("上海将乐商会", kind="chamber")
    client.login(user)
    return user


def _import(client, user, content, mode="create", **confirm):
    from crm.interchange.jobs import run_import_job

    response = client.post("/imports/new", {"file": (io.BytesIO(content), "线索.xlsx"), "mode": mode,
                                            "unit_id": user.unit_id}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    batch_id = int(response.location.rsplit("/", 1)[1])
    preview = client.get(response.location)
    assert client.post(f"/imports/{batch_id}/confirm", confirm).status_code == 302
    with client.raw.application.app_context():
        status = run_import_job(batch_id)
    return batch_id, status, preview.get_data(as_text=True)


CONTACT_HEADERS = HEADERS + ["联系人", "职务", "联系电话"]


def test_a_sheet_with_contact_columns_imports_the_primary_contact(client, team_lead):
    content = xlsx([sheet_row() + ["张伟", "总经理", "+86 138 1234 5678"],
                    sheet_row(name="三明新公司") + ["李娜", None, 13912345678],
                    sheet_row(name="无联系人公司") + [None, None, None]], CONTACT_HEADERS)
    _batch, status, _preview = _import(client, team_lead, content)
    assert status == "done"
    leads = {l.company_name: l for l in db.session.scalars(select(Lead))}
    [zhang] = _contacts(leads["福建富远铝业有限公司"])
    assert (zhang.name, zhang.title, zhang.phone, zhang.is_primary) == ("张伟", "总经理", "13812345678", True)
    assert [(c.name, c.phone) for c in _contacts(leads["三明新公司"])] == [("李娜", "13912345678")]
    assert _contacts(leads["无联系人公司"]) == []
    page = client.get(f"/leads/{leads['福建富远铝业有限公司'].id}").get_data(as_text=True)
    assert "添加联系人" in page and 'data-testid="import-ref"' in page


def test_a_bad_phone_or_a_phone_without_a_name_refuses_the_row_naming_the_column(client, team_lead):
    content = xlsx([sheet_row() + ["张伟", "总经理", "138 1234 567"],
                    sheet_row(name="三明新公司") + [None, "总经理", "13912345678"]], CONTACT_HEADERS)
    _batch, status, preview = _import(client, team_lead, content)
    assert "联系电话" in preview and "不是有效的电话号码" in preview and "联系人" in preview
    assert status == "failed"
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 0
    assert db.session.scalar(select(func.count()).select_from(LeadContact)) == 0


def test_an_update_adds_a_new_contact_keeps_an_existing_one_and_undo_removes_it(client, team_lead):
    existing = factories.lead(owner=team_lead, company_name="福建富远铝业有限公司")
    kept = _add(existing, team_lead, title="董事长", phone="13700000000")
    other = factories.lead(owner=team_lead, company_name="三明新公司")
    content = xlsx([sheet_row() + ["张伟", "总经理", "13812345678"],      # same name: kept as it is
                    sheet_row(name="三明新公司") + ["李娜", "财务总监", "13912345678"]], CONTACT_HEADERS)
    batch_id, status, _preview = _import(client, team_lead, content, mode="upsert")
    assert status == "done"
    assert [(c.name, c.title, c.phone) for c in _contacts(existing)] == [("张伟", "董事长", "13700000000")]
    assert [(c.name, c.is_primary, c.import_batch_id) for c in _contacts(other)] == [("李娜", True, batch_id)]
    assert client.post(f"/imports/{batch_id}/undo").status_code == 302
    assert _contacts(other) == [] and [c.id for c in _contacts(existing)] == [kept.id]


def test_export_writes_the_primary_contact_and_reimports_it(client, team_lead):
    lead = factories.lead(owner=team_lead, company_name="福建富远铝业有限公司")
    _add(lead, team_lead, name="张伟", title="总经理", phone="13812345678")
    _add(lead, team_lead, name="李娜", title="财务总监", phone="13912345678")
    row = _export(client, "xlsx")["福建富远铝业有限公司"]
    assert (row["联系人"], row["职务"], str(row["联系电话"])) == ("张伟", "总经理", "13812345678")
