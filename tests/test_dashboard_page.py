"""/dashboard as people open it: who may, the sections in order with every figure linked and its
"how" line, the charts' data attributes and their tables, and every way the request can be wrong
(a period with no data, in the future, an end before its start, an unknown unit or chain, a team
lead asking for another unit, a viewer trying to change anything)."""
from __future__ import annotations

import html
import json
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEntry
from crm.chains.models import Chain
from crm.extensions import db
from crm.leads.models import Lead, Source
from crm.tracking.models import Agreement, InvestmentEntry, MilestoneActual, TrackingSettings
from tests import factories

NOW = "2026-06-15T10:00:00+08:00"


@pytest.fixture(autouse=True)
def _clock(clock_at):
    clock_at(NOW)


@pytest.fixture()
def town(db_session):
    return factories.unit("古镛镇")


@pytest.fixture()
def signed_lead(town):
    lead = factories.lead(unit_=town, owner=factories.user(unit_=town), company_name="福建金森新材料有限公司",
                          planned_investment_wan=Decimal("26000"))
    lead.created_on = date(2026, 2, 1)
    lead.stage = "signed"
    db.session.flush()
    factories.stage_reached(lead, "admitted", date(2026, 3, 1))
    factories.stage_reached(lead, "signed", date(2026, 4, 1))
    return lead


def login(client, *roles, unit=None):
    user = factories.user(roles=list(roles), unit_=unit)
    client.login(user)
    return user


def page(client, url="/dashboard"):
    response = client.get(url)
    return response, response.get_data(as_text=True)


def charts(text: str) -> dict[str, dict]:
    """The chart specs on the page, by data-testid."""
    found = {}
    for tag in re.findall(r"<div class=\"crm-chart[^>]*>", text):
        spec = json.loads(html.unescape(re.search(r'data-chart="([^"]*)"', tag).group(1)))
        found[re.search(r'data-testid="([^"]*)"', tag).group(1)] = spec
    return found


# --- who may open it ---------------------------------------------------------------------------

@pytest.mark.parametrize("role,status", [("viewer", 200), ("leader", 200), ("admin", 200), ("team_lead", 200),
                                         ("officer", 403), ("screener", 403)])
def test_who_may_open_the_cockpit(client, db_session, role, status):
    login(client, role)
    assert client.get("/dashboard").status_code == status


def test_anonymous_is_sent_to_log_in(client, db_session):
    response = client.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- the page ----------------------------------------------------------------------------------

def test_viewer_sees_the_sections_in_order_each_figure_linked_with_how(client, signed_lead):
    login(client, "viewer")
    response, text = page(client)
    assert response.status_code == 200
    order = [text.index(f'data-testid="section-{key}"') for key in ("headline", "rates", "funnel")]
    assert order == sorted(order)
    assert "驾驶舱" in text and "2026年" in text and "主要指标" in text and "主要比率" in text
    for label in ("签约率", "落地率", "开工率", "履约率", "到资率", "转化率", "上年同期"):
        assert label in text, label
    signed = re.search(r'data-testid="figure-signed".*?</div>\s*</div>\s*</div>', text, re.S).group(0)
    assert 'href="/leads?reached=signed&amp;reached_from=2026-01-01&amp;reached_to=2026-12-31"' in signed
    assert ">1</a>" in signed and "2026年1月1日至2026年12月31日首次进入“签约”阶段的线索" in signed
    amount = re.search(r'data-testid="figure-signed_investment".*?</div>\s*</div>\s*</div>', text, re.S).group(0)
    assert ">2.60</a>" in amount and "亿元" in amount
    # Every figure card has a link and a "how" line.
    assert text.count('data-testid="figure-link"') == text.count('data-testid="figure-how"') == 10
    assert text.count('data-testid="rate-how"') == 5
    # The signing rate: 1 of 1 admitted, linked to the signed ones and to the cohort.
    signing = re.search(r'data-testid="rate-signing".*?</div>\s*</div>\s*</div>', text, re.S).group(0)
    assert ">100.0%</a>" in signing and "then=signed" in signing
    # Nothing is drawn by an inline script or styled by an attribute (CSP).
    assert "<script>" not in text and " style=" not in text
    assert 'src="/static/vendor/echarts/echarts.min.js"' in text and 'src="/static/js/charts.js"' in text


def test_charts_carry_their_data_and_links_and_have_tables(client, signed_lead):
    login(client, "viewer")
    _response, text = page(client)
    specs = charts(text)
    assert {"chart-headline", "chart-rates", "chart-funnel"} <= set(specs)  # and the other sections' charts
    head = specs["chart-headline"]
    assert head["type"] == "bar" and head["categories"][0] == "新增线索" and len(head["series"]) == 2
    assert head["series"][0]["data"][head["categories"].index("签约")] == 1
    assert head["links"][head["categories"].index("签约")].startswith("/leads?reached=signed")
    assert specs["chart-rates"]["unit"] == "%" and specs["chart-rates"]["series"][0]["data"][0] == 100.0
    assert specs["chart-funnel"]["type"] == "funnel" and specs["chart-funnel"]["categories"][0] == "线索"
    for table in ("table-headline", "table-rates", "table-funnel"):
        assert f'data-testid="{table}"' in text
    # Charts are not printed (the tables are).
    assert all("d-print-none" in tag for tag in re.findall(r"<div class=\"crm-chart[^>]*>", text))


def test_chart_library_is_loaded_only_where_charts_are(client, db_session):
    login(client, "viewer")
    _response, text = page(client, "/leads")
    assert "echarts" not in text and "charts.js" not in text


def test_the_vendored_echarts_is_served_locally(client, db_session):
    response = client.get("/static/vendor/echarts/echarts.min.js")
    assert response.status_code == 200 and len(response.data) > 500_000
    assert client.get("/static/js/charts.js").status_code == 200


def test_funnel_table_links_reached_and_went_on(client, signed_lead):
    login(client, "viewer")
    _response, text = page(client)
    row = re.search(r'data-testid="funnel-admitted".*?</tr>', text, re.S).group(0)
    assert 'href="/leads?reached=admitted&amp;reached_from=2026-01-01&amp;reached_to=2026-12-31"' in row
    assert "then=signed" in row and "100.0%" in row and "31" in row  # 03-01 → 04-01


def test_a_team_lead_sees_the_own_unit(client, town, signed_lead):
    other = factories.unit("高唐镇")
    login(client, "team_lead", unit=town)
    response, text = page(client)
    assert response.status_code == 200 and "古镛镇" in re.search(r"<h1.*?</h1>", text, re.S).group(0)
    assert f"unit_id={town.id}" in text
    response, text = page(client, f"/dashboard?unit_id={other.id}")
    assert response.status_code == 403 and "您只能查看本单位的数据" in text
    assert page(client, f"/dashboard?unit_id={town.id}")[0].status_code == 200


def test_scope_by_unit_and_chain_in_the_title_and_the_links(client, town, signed_lead):
    chain = factories.chain("新材料")
    signed_lead.chain_id = chain.id
    db.session.flush()
    login(client, "viewer")
    response, text = page(client, f"/dashboard?unit_id={town.id}&chain_id={chain.id}")
    assert response.status_code == 200
    title = re.search(r"<h1.*?</h1>", text, re.S).group(0)
    assert "古镛镇" in title and "新材料" in title
    assert f"unit_id={town.id}&amp;chain_id={chain.id}" in text


# --- bad input ---------------------------------------------------------------------------------

def test_a_period_with_no_data_shows_zeros_and_dashes(client, signed_lead):
    login(client, "viewer")
    response, text = page(client, "/dashboard?period=year&year=2020")
    assert response.status_code == 200
    signed = re.search(r'data-testid="figure-signed".*?</div>\s*</div>\s*</div>', text, re.S).group(0)
    assert ">0</a>" in signed
    for key in ("signing", "landing", "start", "keeping", "investment"):
        card = re.search(rf'data-testid="rate-{key}".*?</div>\s*</div>\s*</div>', text, re.S).group(0)
        assert ">—</a>" in card, key
    assert re.search(r'data-testid="funnel-rate">—<', text)


def test_an_empty_county_divides_nothing(client, db_session):
    login(client, "admin")
    response, text = page(client)
    assert response.status_code == 200 and "—" in text


@pytest.mark.parametrize("query,status,message", [
    ("period=year&year=2027", 400, "尚未开始"),
    ("period=month&year=2026&month=7", 400, "尚未开始"),
    ("period=range&start=2026-05-01&end=2026-04-01", 400, "结束日期2026-04-01早于开始日期2026-05-01"),
    ("period=range&start=2026-05-01", 400, "请同时填写开始日期和结束日期"),
    ("period=range&start=2026-13-01&end=2026-12-01", 400, "不是有效日期"),
    ("period=month&year=2026&month=13", 400, "必须在1到12之间"),
    ("period=decade", 400, "请选择年度、季度、月份或起止日期"),
    ("year=abc", 400, "必须是整数"),
    ("unit_id=999999", 404, "没有编号为999999的单位"),
    ("chain_id=999999", 404, "没有编号为999999的产业链"),
    ("unit_id=abc", 400, "请从列表中选择单位"),
])
def test_bad_input_answers_with_a_message(client, db_session, query, status, message):
    login(client, "viewer")
    response, text = page(client, "/dashboard?" + query)
    assert response.status_code == status
    error = re.search(r'data-testid="dashboard-error">(.*?)</div>', text, re.S).group(1)
    assert message in error
    assert "echarts" not in text  # nothing to draw


def test_a_future_period_may_not_be_counted_but_a_running_one_may(client, db_session):
    login(client, "viewer")
    assert client.get("/dashboard?period=month&year=2026&month=6").status_code == 200
    assert client.get("/dashboard?period=range&start=2026-06-15&end=2027-06-14").status_code == 200
    assert client.get("/dashboard?period=range&start=2026-06-16&end=2026-06-20").status_code == 400


def _counts():
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Lead, Agreement, InvestmentEntry, MilestoneActual, Source, Chain, TrackingSettings,
                          AuditEntry)}


def test_a_viewer_can_change_nothing(client, signed_lead):
    """A sample of the app's change routes, pages and API. (Raising a problem on a project is open
    to whoever may read the project, viewers included, by crm.problems' design: not sampled.)"""
    login(client, "viewer")
    lead_id = signed_lead.id
    before, stage = _counts(), signed_lead.stage
    forms = {
        "/leads/new": {"company_name": "某公司"},
        f"/leads/{lead_id}/edit": {"company_name": "改名公司"},
        f"/leads/{lead_id}/stage": {"to_stage": "started"},
        f"/leads/{lead_id}/activities": {"kind": "visit", "occurred_on": "2026-06-01", "summary": "走访"},
        f"/projects/{lead_id}/agreement": {"total_investment_wan": "1"},
        f"/projects/{lead_id}/investments": {"amount_wan": "100", "paid_on": "2026-06-01"},
        f"/projects/{lead_id}/milestones": {"milestone": "start", "actual_on": "2026-06-01"},
        "/sources/new": {"name": "某商会", "kind": "chamber"},
        "/chains/new": {"code": "x", "name": "某产业链"},
        "/tracking/settings": {"investment_met_pct": "50"},
        "/decisions/meetings": {"title": "会议"},
        "/admin/users/new": {"username": "someone"},
        "/imports/new": {},
        "/scoring/train": {},
    }
    for url, data in forms.items():
        assert client.post(url, data).status_code == 403, url
    for url, payload in {"/api/v1/leads": {"company_name": "某公司"},
                         f"/api/v1/leads/{lead_id}/stage": {"stage": "started"},
                         f"/api/v1/projects/{lead_id}/investments": {"amount_wan": 100, "paid_on": "2026-06-01"}}.items():
        response = client.post(url, json=payload)
        assert response.status_code == 403 and response.is_json, url
    db.session.expire_all()
    assert _counts() == before
    assert db.session.get(Lead, lead_id).stage == stage


# --- the cache ---------------------------------------------------------------------------------

@pytest.fixture()
def cache_on(app):
    app.config["DASHBOARD_CACHE_SECONDS"] = 600
    yield
    app.config.pop("DASHBOARD_CACHE_SECONDS", None)


def _cached_keys(app):
    from crm.extensions import redis_store

    with app.app_context():
        return sorted(k.decode() for k in redis_store.client.scan_iter(
            match=f"{app.config['REDIS_PREFIX']}:dashboard:v:*"))


def _signed_figure(text):
    card = re.search(r'data-testid="figure-signed".*?</div>\s*</div>\s*</div>', text, re.S).group(0)
    return re.search(r'data-testid="figure-link">([^<]*)<', card).group(1)


def test_cached_sections_are_kept_until_the_data_changes(app, client, signed_lead, cache_on):
    lead_id = signed_lead.id
    login(client, "viewer")
    assert _signed_figure(page(client)[1]) == "1"
    keys = _cached_keys(app)
    assert {k.split(":")[-2] for k in keys} == {"headline", "rates", "funnel", "watch", "by_origin", "screening", "targets"}
    assert _signed_figure(page(client)[1]) == "1" and _cached_keys(app) == keys  # read back, not stored again
    # A write the figures read (here: another signed lead), flushed by the app: a new data version.
    with app.app_context():
        first = db.session.get(Lead, lead_id)
        other = factories.lead(unit_=first.owner_unit, owner=first.owner)
        factories.stage_reached(other, "signed", date(2026, 5, 1))
        db.session.commit()  # (the test's savepoint; the outer transaction is still rolled back)
    assert _signed_figure(page(client)[1]) == "2"
    assert len(_cached_keys(app)) == 14  # seven sections under the old version, seven under the new


def test_the_watch_list_is_cached_once_for_every_period(app, client, signed_lead, cache_on):
    """The watch list is as of today whatever the period: another period reuses it, while every
    period-bound section is computed and kept for that period too."""
    login(client, "viewer")
    watch_before = re.search(r'data-testid="section-watch".*?</section>', page(client)[1], re.S).group(0)
    first = _cached_keys(app)
    _response, text = page(client, "/dashboard?period=month&year=2026&month=5")
    assert re.search(r'data-testid="section-watch".*?</section>', text, re.S).group(0) == watch_before
    added = sorted(set(_cached_keys(app)) - set(first))
    assert sorted(k.split(":")[-2] for k in added) == sorted(["headline", "rates", "funnel", "by_origin",
                                                              "screening", "targets"])


def test_writes_no_figure_reads_keep_the_cache(app, client, signed_lead, cache_on):
    from crm.dashboard import cache
    from crm.notifications.models import Notification

    lead_id = signed_lead.id
    user_id = login(client, "viewer").id
    page(client)
    with app.app_context():
        before = cache.version()
        db.session.add(Notification(user_id=user_id, kind="test", params={}))
        db.session.flush()
        assert cache.version() == before
        db.session.get(Lead, lead_id).note = "changed"
        db.session.flush()
        assert cache.version() == before + 1


def test_the_cache_can_be_turned_off(app, client, signed_lead):
    app.config["DASHBOARD_CACHE_SECONDS"] = 0
    try:
        login(client, "viewer")
        page(client)
        assert _cached_keys(app) == []
    finally:
        app.config.pop("DASHBOARD_CACHE_SECONDS", None)
