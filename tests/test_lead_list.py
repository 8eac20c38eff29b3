"""The lead list: search, filters, every sort, and keyset pages that neither skip nor repeat."""
from decimal import Decimal

import pytest

from crm.auth.roles import Role
from crm.leads.queries import SORTS, LeadFilters, lead_page
from tests import factories


class Args(dict):
    def get(self, key, default=None, type=None):
        value = super().get(key, default)
        return type(value) if (type and value not in (None, "")) else value


@pytest.fixture()
def unit_leads(db_session):
    unit = factories.unit()
    officer = factories.user(unit_=unit)
    amounts = [None, Decimal(5), Decimal(5), Decimal(100), None, Decimal(7), Decimal(5), Decimal(2000)]
    leads = [factories.lead(owner=officer, company_name=f"公司{i:02d}", planned_investment_wan=a)
             for i, a in enumerate(amounts * 3)]
    return officer, leads


@pytest.mark.parametrize("sort", sorted(SORTS))
def test_keyset_pages_cover_every_lead_once_in_order(unit_leads, sort):
    officer, leads = unit_leads
    seen, cursor = [], ""
    while True:
        page = lead_page(officer, LeadFilters.from_args(Args(sort=sort, cursor=cursor)), per_page=5)
        seen.extend(page.leads)
        assert page.total == len(leads)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert sorted(l.id for l in seen) == sorted(l.id for l in leads)  # none skipped, none twice
    if sort == "investment":
        amounts = [l.planned_investment_wan for l in seen]
        known = [a for a in amounts if a is not None]
        assert known == sorted(known, reverse=True) and amounts[len(known):] == [None] * (len(amounts) - len(known))
    if sort == "company":
        assert [l.company_name for l in seen] == sorted(l.company_name for l in seen)


def test_search_by_company_project_and_uscc(client, db_session):
    officer = factories.user()
    code = factories.valid_uscc()
    factories.lead(owner=officer, company_name="福建将乐富远铝业有限公司", project_name="再生铝项目")
    factories.lead(owner=officer, company_name="三明某食品有限公司", project_name="富硒香菇项目", uscc=code)
    client.login(officer)
    for query, expected, absent in [("富远", "富远铝业", "某食品"), ("香菇", "某食品", "富远铝业"),
                                    (code.lower(), "某食品", "富远铝业")]:
        page = client.get("/leads", query_string={"q": query}).get_data(as_text=True)
        assert expected in page and absent not in page, query


def test_filters_by_stage_chain_source_kind_and_owner(client, db_session):
    unit = factories.unit()
    officer, colleague = factories.user(unit_=unit), factories.user(unit_=unit)
    team_lead = factories.user(roles=[Role.TEAM_LEAD], unit_=unit)
    chain = factories.chain("轻合金")
    chamber = factories.source(kind="chamber")
    factories.lead(owner=officer, company_name="甲铝业公司", chain_id=chain.id, source_id=chamber.id)
    factories.lead(owner=colleague, company_name="乙食品公司", source_kind="hometown")
    client.login(team_lead)

    def names(**args):
        page = client.get("/leads", query_string=args).get_data(as_text=True)
        return {n for n in ("甲铝业公司", "乙食品公司") if n in page}

    assert names() == {"甲铝业公司", "乙食品公司"}
    assert names(chain_id=chain.id) == {"甲铝业公司"}
    assert names(source_kind="hometown") == {"乙食品公司"}
    assert names(owner_id=colleague.id) == {"乙食品公司"}
    assert names(stage="negotiating") == set()
    assert names(stage="not-a-stage", sort="bogus") == {"甲铝业公司", "乙食品公司"}  # ignored, not an error page


def test_api_list_rejects_unknown_filters_with_a_message(client, db_session):
    client.login(factories.user())
    response = client.get("/api/v1/leads?stage=flying")
    assert response.status_code == 400 and "stage" in response.json["error"]["message"]


def test_the_records_behind_a_cockpit_figure_say_which_they_are(client, db_session):
    """A figure's link (reached / then / source) lists exactly its leads and says so above them."""
    from datetime import date

    leader = factories.user(roles=["leader"])
    chamber = factories.source(name="福州将乐商会")
    signed = factories.lead(company_name="甲竹木公司", source_id=chamber.id)
    factories.stage_reached(signed, "signed", date(2026, 4, 1))
    factories.stage_reached(signed, "started", date(2026, 6, 1))
    factories.lead(company_name="乙食品公司", source_id=chamber.id)
    client.login(leader)
    page = client.get("/leads", query_string={"reached": "signed", "reached_from": "2026-01-01",
                                               "reached_to": "2026-12-31", "then": "started",
                                               "then_by": "2026-12-31", "source_id": chamber.id}).get_data(as_text=True)
    assert "甲竹木公司" in page and "乙食品公司" not in page
    note = page[page.index('data-testid="figure-filter"'):]
    note = note[:note.index("</div>")]
    assert "仅显示 2026-01-01 – 2026-12-31 进入“签约”阶段的线索" in note
    assert "其中截至 2026-12-31 已进入“开工”阶段的" in note and "福州将乐商会" in note and "显示全部线索" in note
    assert 'data-testid="figure-filter"' not in client.get("/leads").get_data(as_text=True)


def test_rows_name_their_chain_source_unit_and_officer_and_the_filters_offer_the_right_choices(make_client, db_session):
    """The names and the filters' choices come from one lookup (crm.leads.list_rows._lookups):
    each kind lands where it belongs, for a unit's reader and for a reader of every unit."""
    import re

    unit, other_unit = factories.unit("古镛镇"), factories.unit("白莲镇")
    officer = factories.user(unit_=unit, full_name="陈招商")
    factories.user(unit_=unit, full_name="林同事")
    factories.user(unit_=other_unit, full_name="别镇干部")
    leader = factories.user(roles=[Role.LEADER])
    chain = factories.chain("轻合金", nodes=("再生铝",))
    chamber = factories.source("福州将乐商会", kind="chamber")
    factories.lead(owner=officer, company_name="甲铝业公司", chain_id=chain.id, chain_node_id=chain.nodes[0].id,
                   source_id=chamber.id)

    def options(page, select_id):
        block = re.search(rf'<select[^>]*id="{select_id}".*?</select>', page, re.S)
        return re.findall(r"<option value=\"\d+\"[^>]*>([^<]+)</option>", block.group(0)) if block else None

    client = make_client()
    client.login(officer)
    page = client.get("/leads").get_data(as_text=True)
    row = re.search(r"<tr[^>]*data-lead-id.*?</tr>", page, re.S).group(0)
    assert all(name in row for name in ("轻合金", "再生铝", "福州将乐商会", "陈招商")), row
    assert "轻合金" in options(page, "chain_filter")
    assert sorted(options(page, "owner_id")) == ["林同事", "陈招商"]  # the own unit's officers only
    assert options(page, "unit_id") is None  # a unit's reader filters by officer, not unit

    client = make_client()
    client.login(leader)
    page = client.get("/leads").get_data(as_text=True)
    assert {"古镛镇", "白莲镇"} <= set(options(page, "unit_id"))
    assert "古镛镇" in re.search(r"<tr[^>]*data-lead-id.*?</tr>", page, re.S).group(0)
