"""Issue 14, findings 3, 4 and part of 8: amounts, dates, company names and text in range behind
every door (form, API, import, chain targets), and pages that still render a bad stored value."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from crm.auth.models import User
from crm.extensions import db
from crm.leads.models import Lead
from tests import factories
from tests.import_files import csv_bytes, row

BASE_NAME = "福建永盛铝业有限公司"
# The 14 variants of the finding: invisible, combining, compatibility and traditional forms.
VARIANTS = [
    "福建永\u200b盛铝业有限公司",      # zero-width space
    "福建永\u200d盛铝业有限公司",      # zero-width joiner
    "福建永\u200c盛铝业有限公司",      # zero-width non-joiner
    "福建\u2060永盛铝业有限公司",      # word joiner
    "福建永\u00ad盛铝业有限公司",      # soft hyphen
    "\ufeff福建永盛铝业有限公司",      # BOM
    "\u200f福建永盛铝业有限公司",      # RTL mark
    "福建永盛\ufe0f铝业有限公司",      # variation selector
    "福建永盛\u0301铝业有限公司",      # combining acute accent
    "福建永盛鋁業有限公司",            # traditional characters
    "福建永盛铝业有限責任公司",        # traditional legal form
    "福建永盛铝业\u3000有限公司",      # ideographic space
    "福建永盛铝业\u00a0有限公司",      # no-break space
    "福建永盛铝业（中国）有限公司",    # (中国) and full-width parentheses
]


def _token(user):
    from crm.auth.services import issue_api_token

    _t, raw = issue_api_token(user, "test", 30)
    return {"Authorization": f"Bearer {raw}"}


def _lead_form(**overrides):
    data = {"company_name": "福建富远铝业有限公司", "uscc": "", "project_name": "年产5万吨再生铝项目",
            "chain_id": "", "chain_node_id": "", "source_id": "", "source_kind": "",
            "planned_investment_wan": "50000", "fixed_asset_investment_wan": "42000",
            "land_area_mu": "120", "expected_output_wan": "", "expected_tax_wan": "900",
            "high_tech": "1", "specialized": "", "owner_id": "", "created_on": "2026-03-05"}
    data.update(overrides)
    return data


def _settle():
    """Commit the test's records (to its savepoint): a refused token request rolls back the rest."""
    db.session.commit()


def _count():
    return db.session.scalar(select(func.count()).select_from(Lead))


@pytest.fixture()
def officer(client, db_session):
    user = factories.user(roles=["officer"])
    client.login(user)
    return user


# --- finding 3: amounts ---------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["1e30", "Infinity", "-Infinity", "NaN", "1000000000000", "-1"])
def test_amounts_out_of_range_are_refused_on_the_form(client, officer, value):
    response = client.post("/leads/new", _lead_form(fixed_asset_investment_wan=value, land_area_mu="1"))
    assert response.status_code == 400
    assert _count() == 0


@pytest.mark.parametrize("value", [1e30, "Infinity", "NaN", 1e12, "1E+12", -1])
def test_amounts_out_of_range_are_refused_by_the_api(app, db_session, value):
    officer = factories.user()
    response = app.test_client().post("/api/v1/leads", headers=_token(officer), json={
        "company_name": "甲公司", "fixed_asset_investment_wan": value, "land_area_mu": 1})
    assert response.status_code == 422, response.json
    assert "fixed_asset_investment_wan" in response.json["error"]["fields"]
    assert _count() == 0


def test_the_largest_amount_a_column_holds_is_accepted(client, officer):
    response = client.post("/leads/new", _lead_form(fixed_asset_investment_wan="999999999999.99",
                                                    land_area_mu="0.01"))
    assert response.status_code == 302
    lead = db.session.scalars(select(Lead)).one()
    assert lead.fixed_asset_investment_wan == Decimal("999999999999.99")
    assert client.get(f"/leads/{lead.id}").status_code == 200


def _bad_values():
    """What an older row may hold: SQLite stores anything; PostgreSQL's numeric(14, 2) holds NaN."""
    if db.engine.dialect.name == "postgresql":
        return ["NaN"]
    return [1e30, float("inf"), float("nan")]


def test_a_stored_bad_amount_still_renders_everywhere_and_can_be_corrected(make_client, db_session):
    from tests.test_export import read_csv, read_xlsx

    officer = factories.user()
    leader = factories.user(roles=["leader"])
    viewer = factories.user(roles=["viewer"])
    lead = factories.lead(owner=officer, company_name="福建坏值测试有限公司", land_area_mu=Decimal("1"))
    web, readers = make_client(), [make_client(), make_client()]
    web.login(officer)
    readers[0].login(leader)
    readers[1].login(viewer)
    for bad in _bad_values():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("UPDATE leads SET fixed_asset_investment_wan = 'NaN'::numeric, "
                                    "expected_tax_wan = 'NaN'::numeric WHERE id = :id"), {"id": lead.id})
        else:
            db.session.execute(text("UPDATE leads SET fixed_asset_investment_wan = :v, expected_tax_wan = :v "
                                    "WHERE id = :id"), {"v": bad, "id": lead.id})
        for url in ("/leads", f"/leads/{lead.id}", f"/leads/{lead.id}/edit", "/api/v1/leads",
                    f"/api/v1/leads/{lead.id}"):
            response = web.get(url)
            assert response.status_code == 200, (bad, url)
        xlsx = web.get("/leads/export?format=xlsx")
        assert xlsx.status_code == 200
        rows, _sheet = read_xlsx(xlsx.data)
        assert any("福建坏值测试有限公司" in str(r) for r in rows)
        csv_rows = read_csv(web.get("/leads/export?format=csv").data)
        assert any(r and r[0] == "福建坏值测试有限公司" for r in csv_rows), bad  # not cut off
        for reader in readers:
            assert reader.get("/leads").status_code == 200
            assert reader.get(f"/leads/{lead.id}").status_code == 200
    # The value is corrected through the edit form.
    lead = factories.reload(lead)
    response = web.post(f"/leads/{lead.id}/edit", _lead_form(
        company_name="福建坏值测试有限公司", fixed_asset_investment_wan="3000", expected_tax_wan="100",
        land_area_mu="1", version=str(lead.version)))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    fixed = factories.reload(lead)
    assert fixed.fixed_asset_investment_wan == Decimal("3000") and fixed.investment_intensity == Decimal("3000")


def test_derived_figures_never_raise():
    from crm.screening.indicators import Thresholds, compute

    lead = Lead(fixed_asset_investment_wan=Decimal("1e30"), land_area_mu=Decimal("1"),
                expected_tax_wan=Decimal("Infinity"), expected_output_wan=Decimal("NaN"),
                planned_investment_wan=Decimal("NaN"))
    assert lead.investment_intensity is None and lead.tax_per_mu is None and lead.output_per_mu is None
    rows = compute(lead, Thresholds(min_total_investment_wan=Decimal(1)))
    assert {r.key: r.status for r in rows}["intensity"] == "unknown"
    lead.land_area_mu = Decimal("NaN")
    assert lead.investment_intensity is None


# --- dates ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("day", ["9999-12-31", "1989-12-31"])
def test_recorded_dates_out_of_range_are_refused_on_the_form_and_api(app, client, officer, day):
    assert client.post("/leads/new", _lead_form(created_on=day)).status_code == 400
    response = app.test_client().post("/api/v1/leads", headers=_token(officer),
                                      json={"company_name": "甲公司", "created_on": day})
    assert response.status_code == 422 and "created_on" in response.json["error"]["fields"]
    assert _count() == 0


def test_planned_dates_go_up_to_twenty_years_ahead(client, officer, clock_at):
    clock_at("2026-12-05T09:00:00+08:00")
    lead = factories.lead(owner=officer)
    base = {"kind": "visit", "occurred_on": "2026-01-10", "summary": "拜访"}
    assert client.post(f"/leads/{lead.id}/activities", {**base, "next_follow_up_on": "2046-12-05"}).status_code == 302
    assert client.post(f"/leads/{lead.id}/activities", {**base, "next_follow_up_on": "2046-12-06"}).status_code == 400
    assert client.post(f"/leads/{lead.id}/activities", {**base, "occurred_on": "1989-01-01"}).status_code == 400
    assert len(factories.reload(lead).activities) == 1


def test_stage_dates_before_1990_are_refused_through_the_api(app, db_session):
    officer = factories.user()
    lead_id = factories.negotiating_lead(owner=officer).id
    _settle()
    response = app.test_client().post(f"/api/v1/leads/{lead_id}/stage", headers=_token(officer),
                                      json={"stage": "lost", "reason": "外迁", "date": "1900-01-01"})
    assert response.status_code == 422
    assert db.session.get(Lead, lead_id).stage == "negotiating"


# --- finding 4: one company-name key --------------------------------------------------------------
@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_of_a_followed_company_is_caught_on_the_form(client, officer, variant):
    factories.lead(unit_=factories.unit("水南镇"), company_name=BASE_NAME)
    response = client.post("/leads/new", _lead_form(company_name=variant))
    assert response.status_code == 400
    assert "该企业已由水南镇跟进" in response.get_data(as_text=True)
    assert _count() == 1


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_of_a_followed_company_is_caught_by_the_api(app, db_session, variant):
    factories.lead(unit_=factories.unit("水南镇"), company_name=BASE_NAME)
    officer = factories.user()
    _settle()
    response = app.test_client().post("/api/v1/leads", headers=_token(officer),
                                      json={"company_name": variant})
    assert response.status_code == 409 and "水南镇" in response.json["error"]["message"]
    assert _count() == 1


def test_the_fuzzy_rule_holds_on_the_form_as_in_the_import(client, officer):
    factories.lead(unit_=factories.unit("水南镇"), company_name="厦门金达新材料科技股份有限公司")
    response = client.post("/leads/new", _lead_form(company_name="厦门金达新材科技有限公司"))
    assert response.status_code == 400 and "水南镇" in response.get_data(as_text=True)
    # A number apart: another firm.
    factories.lead(unit_=factories.unit("高唐镇"), company_name="将乐第一纸业有限公司")
    assert client.post("/leads/new", _lead_form(company_name="将乐第二纸业有限公司")).status_code == 302


def test_variants_are_caught_by_the_import_and_the_chain_targets(db_session):
    from crm.chains.services import lead_elsewhere
    from crm.interchange.rows import DuplicateIndex, Match
    from crm.leads.names import normalize_company_name

    other = factories.unit("水南镇")
    factories.lead(unit_=other, company_name=BASE_NAME)
    mine = factories.unit()
    index = DuplicateIndex()
    index.add(None, normalize_company_name(BASE_NAME), Match(1, other.id, other.name))
    for variant in VARIANTS:
        assert index.find(None, normalize_company_name(variant)) is not None, variant
        assert lead_elsewhere(variant, None, mine.id) == other, variant


def test_the_migration_key_is_the_services_key(db_session):
    lead = factories.lead(company_name="福建永盛鋁業有限公司")
    assert lead.company_key == "福建永盛铝业"


# --- text -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["福建永盛\n铝业有限公司", "福建永盛铝业有限公司\r\nBcc: x@example.com"])
def test_company_names_are_one_line(app, client, officer, name):
    response = client.post("/leads/new", _lead_form(company_name=name))
    assert response.status_code == 400 and "请在一行内填写" in response.get_data(as_text=True)
    api = app.test_client().post("/api/v1/leads", headers=_token(officer), json={"company_name": name})
    assert api.status_code == 422 and "company_name" in api.json["error"]["fields"]
    assert _count() == 0


def test_nul_bytes_are_refused_on_forms_and_in_the_api(app, client, officer):
    response = client.post("/leads/new", _lead_form(note="备注\x00"))
    assert response.status_code == 400 and "空字符" in response.get_data(as_text=True)
    api = app.test_client().post("/api/v1/leads", headers=_token(officer),
                                 json={"company_name": "甲公司", "project_name": "项目\u0000"})
    assert api.status_code == 400 and "NUL" in api.json["error"]["message"]
    # An escaped backslash followed by "u0000" is ordinary text.
    ok = app.test_client().post("/api/v1/leads", headers=_token(officer),
                                json={"company_name": "甲公司", "note": "路径 C:\\u0000"})
    assert ok.status_code == 201, ok.json
    assert _count() == 1


def test_a_megabyte_title_is_refused_not_stored(app, db_session):
    officer = factories.user()
    # 3 MB of UTF-8: the request guard refuses the body's size (413) before any field is read …
    response = app.test_client().post("/api/v1/leads", headers=_token(officer),
                                      json={"company_name": "甲公司", "project_name": "项" * 1_000_000})
    assert response.status_code == 413 and response.json["error"]["message"]
    # … and a title within the body's size but over the column's length is a 422 naming the field.
    response = app.test_client().post("/api/v1/leads", headers=_token(officer),
                                      json={"company_name": "甲公司", "project_name": "项" * 100_000})
    assert response.status_code == 422 and "project_name" in response.json["error"]["fields"]
    assert _count() == 0


def test_the_import_refuses_bad_cells_row_by_row(client, db_session):
    team_lead = factories.user(roles=["team_lead"])
    factories.source("上海将乐商会", kind="chamber")
    client.login(team_lead)
    content = csv_bytes([
        row(name="甲公司", fixed="1e30"),
        row(name="乙公司", fixed="Infinity"),
        row(name="丙公司", fixed="1000000000000"),
        row(name="丁公司", created="9999-12-31"),
        row(name="戊公司", created="1989-12-31"),
        row(name="己公司\n第二行"),
        row(name="庚公司", project="项目\x00"),
        row(name="辛公司"),
    ])
    response = client.post("/imports/new", {"file": (io.BytesIO(content), "a.csv"), "mode": "create",
                                            "unit_id": team_lead.unit_id}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = client.get(response.location).get_data(as_text=True)
    import re

    counts = re.search(r'data-testid="counts">([^<]+)<', page).group(1)
    assert "新建 1" in counts, counts
    for message in ("不能超过", "不是有效金额", "日期不能早于", "请在一行内填写", "空字符"):
        assert message in page, message


def test_import_cells_use_the_same_checks():
    from crm.interchange import parsing

    for value in ("1e30", "inf", float("inf"), float("nan"), 1e12, "1000000000000", "1e12"):
        with pytest.raises(parsing.CellError):
            parsing.parse_amount(value)
    with pytest.raises(parsing.CellError):
        parsing.parse_area("0")
    assert parsing.parse_amount("999999999999.99")[0] == Decimal("999999999999.99")


# --- e-mail ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("email", ["wq@example.com\r\nBcc: all@example.com", "not-an-address", "a@b"])
def test_profile_email_is_validated(client, officer, email):
    response = client.post("/profile", {"profile-full_name": "王强", "profile-email": email,
                                        "profile-locale": "zh", "profile-submit": "1"})
    assert response.status_code in (200, 400)
    assert db.session.get(User, officer.id).email is None


def test_profile_email_is_stored_normalised(client, officer):
    response = client.post("/profile", {"profile-full_name": "王强", "profile-email": " WQ@Example.com ",
                                        "profile-locale": "zh", "profile-submit": "1"})
    assert response.status_code == 302
    assert db.session.get(User, officer.id).email == "WQ@example.com"


def test_admin_user_form_and_create_user_validate_email(client, db_session):
    from crm.auth.services import AccountError, create_user

    admin = factories.user(roles=["admin"])
    client.login(admin)
    unit = factories.unit()
    response = client.post("/admin/users/new", {"username": "wq_officer", "full_name": "王强", "unit_id": unit.id,
                                                "roles": ["officer"], "password": "long-enough-1",
                                                "email": "wq@example.com\nBcc: x@example.com", "active": "y"})
    assert response.status_code in (200, 400)
    assert db.session.scalar(select(User).where(User.username == "wq_officer")) is None
    with pytest.raises(AccountError):
        create_user("wq2", "long-enough-1", unit, ["officer"], "王强", email="x@y\r\nBcc: z@w.cn")
