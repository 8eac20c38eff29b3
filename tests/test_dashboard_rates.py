"""The cockpit's numbers against hand-counted cases: every headline figure (with the year-earlier
figure, scope by unit and chain, implied rows), every rate (签约率, 落地率, 开工率, 履约率 with the
到资 plan, 到资率) and the funnel with its medians. Rows of stage_reached are written by hand
(factories.stage_reached); agreements, plans, actuals and 到资 as rows, so each case is exactly
what the table says. The clock stands at 2026-06-15 (a running year)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

from uuid import uuid4

import pytest
from werkzeug.datastructures import MultiDict

from crm.dashboard import figures, funnel, queries, rates
from crm.extensions import db
from crm.tracking.models import Agreement, InvestmentEntry, MilestoneActual, MilestonePlan, TrackingSettings
from tests import factories

NOW = "2026-06-15T10:00:00+08:00"
D = date


@pytest.fixture(autouse=True)
def _clock(clock_at):
    clock_at(NOW)


_ACTOR: list = []


@pytest.fixture()
def viewer(db_session):
    """The reader of the figures, and the one who records every lead of the test (one password
    hash per test: hashing one per lead or town would make the suite slow)."""
    user = factories.user(roles=["viewer"])
    _ACTOR[:] = [user]
    yield user
    _ACTOR.clear()


def compute(app, user, fn, **args):
    """fn(ctx) for the cockpit's query arguments, inside a request (links and words need one)."""
    with app.test_request_context():
        req = queries.read(MultiDict({k: str(v) for k, v in args.items()}), user)
        assert req.ctx is not None, req.error
        return fn(req.ctx)


def make_lead(unit, created=D(2024, 1, 1), stage="lead", chain=None, planned=None, signed_on=None):
    lead = factories.lead(unit_=unit, owner=_ACTOR[0], company_name=f"测试企业-{uuid4().hex[:10]}-公司")
    lead.created_on = created
    lead.stage = stage
    lead.chain_id = chain.id if chain else None
    lead.planned_investment_wan = planned
    lead.signed_on = signed_on
    db.session.flush()
    return lead


def reached(lead, **days):
    """stage=day, or stage=(day, True) for an implied row."""
    for stage, day in days.items():
        if isinstance(day, tuple):
            factories.stage_reached(lead, stage, day[0], implied=day[1])
        else:
            factories.stage_reached(lead, stage, day)


def agreement(lead, total=None, fixed=None):
    db.session.add(Agreement(lead_id=lead.id, total_investment_wan=total, fixed_asset_investment_wan=fixed))
    db.session.flush()


def plan(lead, milestone, day, superseded=False):
    from datetime import datetime, timezone

    db.session.add(MilestonePlan(lead_id=lead.id, milestone=milestone, planned_on=day,
                                 superseded_at=datetime(2026, 1, 1, tzinfo=timezone.utc) if superseded else None))
    db.session.flush()


def actual(lead, milestone, day):
    db.session.add(MilestoneActual(lead_id=lead.id, milestone=milestone, actual_on=day))
    db.session.flush()


def paid(lead, day, amount):
    db.session.add(InvestmentEntry(lead_id=lead.id, paid_on=day, amount_wan=Decimal(str(amount))))
    db.session.flush()


def by_key(items):
    return {item["key"]: item for item in items}


def query(url):
    parts = urlsplit(url)
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


# --- headline figures ----------------------------------------------------------------------------

@pytest.fixture()
def county(viewer):
    """Two towns (A, B), one chain; five leads whose days are written out below."""
    a, b = factories.unit("甲镇"), factories.unit("乙镇")
    chain = factories.chain("新材料")
    l1 = make_lead(a, D(2026, 2, 1), "started", chain)
    reached(l1, screening=D(2026, 3, 1), admitted=D(2026, 4, 1), signed=D(2026, 5, 1), started=D(2026, 6, 1))
    agreement(l1, total=Decimal("30000"))
    l2 = make_lead(b, D(2025, 3, 1), "signed", planned=Decimal("12000"))  # no agreement: planned investment
    reached(l2, screening=D(2025, 4, 1), admitted=D(2025, 5, 1), signed=D(2026, 1, 10))
    l3 = make_lead(a, D(2025, 1, 15), "started", planned=Decimal("5000"))  # an imported ledger row
    reached(l3, admitted=(D(2025, 2, 1), True), signed=D(2025, 2, 1), started=D(2025, 6, 20))
    l4 = make_lead(b, D(2026, 6, 10), "lead", chain)
    l5 = make_lead(a, D(2024, 1, 1), "above_scale")
    reached(l5, completed=D(2026, 3, 3), producing=D(2026, 5, 5), above_scale=D(2026, 6, 6))
    paid(l1, D(2026, 5, 10), 5000)
    paid(l1, D(2025, 6, 1), 1000)
    paid(l3, D(2025, 7, 1), 2000)  # after 15 June 2025: outside the running year's comparison
    return {"a": a, "b": b, "chain": chain, "leads": (l1, l2, l3, l4, l5)}


# (scope, period args, figure, value, a year earlier)
HEADLINE_CASES = [
    ("county", {}, "new_leads", 2, 2),                 # L1, L4 | L2, L3 (to 2025-06-15)
    ("county", {}, "screening", 1, 1),                 # L1 | L2
    ("county", {}, "admitted", 1, 2),                  # L1 | L2, L3 (implied row counts)
    ("county", {}, "signed", 2, 1),                    # L1, L2 | L3
    ("county", {}, "signed_investment", 4.2, 0.5),     # 30000 (agreement) + 12000 (planned) | 5000
    ("county", {}, "started", 1, 0),                   # L1 | L3 started 2025-06-20, after the same day
    ("county", {}, "completed", 1, 0),
    ("county", {}, "producing", 1, 0),
    ("county", {}, "above_scale", 1, 0),
    ("county", {}, "invested", 0.5, 0.1),              # 5000 | 1000 (2000 paid 2025-07-01 left out)
    ("county", {"period": "year", "year": 2025}, "new_leads", 2, 1),   # L2, L3 | L5 (2024)
    ("county", {"period": "year", "year": 2025}, "started", 1, 0),     # a closed year: all of it
    ("county", {"period": "year", "year": 2025}, "invested", 0.3, 0.0),
    ("county", {"period": "year", "year": 2025}, "admitted", 2, 0),
    ("county", {"period": "quarter", "year": 2026, "quarter": 2}, "signed", 1, 0),
    ("county", {"period": "quarter", "year": 2026, "quarter": 2}, "signed_investment", 3.0, 0.0),
    ("county", {"period": "month", "year": 2026, "month": 6}, "new_leads", 1, 0),
    ("county", {"period": "range", "start": "2026-01-01", "end": "2026-01-31"}, "signed", 1, 0),
    ("county", {"period": "range", "start": "2025-02-01", "end": "2025-02-01"}, "admitted", 1, 0),
    ("a", {}, "new_leads", 1, 1),                      # L1 | L3
    ("a", {}, "signed", 1, 1),
    ("a", {}, "signed_investment", 3.0, 0.5),
    ("a", {}, "invested", 0.5, 0.1),
    ("b", {}, "signed_investment", 1.2, 0.0),
    ("b", {}, "invested", 0.0, 0.0),
    ("chain", {}, "new_leads", 2, 0),                  # L1, L4
    ("chain", {}, "signed", 1, 0),
    ("b+chain", {}, "new_leads", 1, 0),                # L4
    ("b+chain", {}, "signed", 0, 0),
]


@pytest.mark.parametrize("scope,args,key,value,previous", HEADLINE_CASES)
def test_headline_figures_against_hand_counts(app, viewer, county, scope, args, key, value, previous):
    scope_args = {"county": {}, "a": {"unit_id": county["a"].id}, "b": {"unit_id": county["b"].id},
                  "chain": {"chain_id": county["chain"].id},
                  "b+chain": {"unit_id": county["b"].id, "chain_id": county["chain"].id}}[scope]
    result = compute(app, viewer, figures.headline, **args, **scope_args)
    fig = by_key(result["figures"])[key]
    assert (fig["value"], fig["previous"]) == (value, previous)
    assert fig["how"] and fig["url"]


def test_headline_compares_the_same_days_a_year_earlier_and_links_the_records(app, viewer, county):
    result = compute(app, viewer, figures.headline, unit_id=county["a"].id)
    assert result["compared_with"] == {"start": "2025-01-01", "end": "2025-06-15", "label": result["compared_with"]["label"]}
    assert [f["key"] for f in result["figures"]] == [
        "new_leads", "screening", "admitted", "signed", "signed_investment", "started", "completed", "producing",
        "above_scale", "invested"]
    path, args = query(by_key(result["figures"])["signed"]["url"])
    assert path == "/leads" and args == {"reached": "signed", "reached_from": "2026-01-01",
                                         "reached_to": "2026-12-31", "unit_id": str(county["a"].id)}
    assert query(by_key(result["figures"])["new_leads"]["url"])[1]["reached"] == "lead"
    assert query(by_key(result["figures"])["invested"]["url"]) == ("/projects", {"unit_id": str(county["a"].id)})
    closed = compute(app, viewer, figures.headline, period="year", year=2025)
    assert closed["compared_with"]["end"] == "2024-12-31"


def test_headline_link_lists_exactly_the_counted_leads(app, client, viewer, county):
    client.login(viewer)
    result = compute(app, viewer, figures.headline)
    l1, l2, *_ = county["leads"]
    page = client.get(by_key(result["figures"])["signed"]["url"]).get_data(as_text=True)
    assert l1.company_name in page and l2.company_name in page
    assert county["leads"][2].company_name not in page and county["leads"][3].company_name not in page


# --- 签约率 and 落地率 -----------------------------------------------------------------------------

@pytest.fixture()
def cohorts(county):
    a = county["a"]
    l6 = make_lead(a, D(2026, 1, 1), "admitted")
    reached(l6, admitted=D(2026, 3, 15))
    l7 = make_lead(a, D(2026, 1, 1), "lost")
    reached(l7, admitted=D(2026, 5, 20))
    return {**county, "leads": county["leads"] + (l6, l7)}


# (period args, scope, rate, numerator, denominator, value)
SIGN_LAND_CASES = [
    ({}, "county", "signing", 1, 3, 33.3),     # admitted 2026: L1 (signed), L6, L7 (lost)
    ({}, "county", "landing", 1, 2, 50.0),     # signed 2026: L1 (started), L2
    ({"period": "year", "year": 2025}, "county", "signing", 2, 2, 100.0),  # L2 (signed 2026: so far), L3 implied
    ({"period": "year", "year": 2025}, "county", "landing", 1, 1, 100.0),  # L3
    ({}, "b", "signing", 0, 0, None),          # nobody admitted: "—"
    ({}, "b", "landing", 0, 1, 0.0),           # L2 not started
    ({"period": "quarter", "year": 2026, "quarter": 1}, "county", "signing", 0, 1, 0.0),  # L6
    ({"period": "month", "year": 2026, "month": 5}, "county", "landing", 1, 1, 100.0),    # L1
]


@pytest.mark.parametrize("args,scope,key,num,den,value", SIGN_LAND_CASES)
def test_signing_and_landing_rates(app, viewer, cohorts, args, scope, key, num, den, value):
    scope_args = {"county": {}, "b": {"unit_id": cohorts["b"].id}}[scope]
    got = by_key(compute(app, viewer, rates.rates, **args, **scope_args)["rates"])[key]
    assert (got["numerator"], got["denominator"], got["value"]) == (num, den, value)


def test_signing_rate_links_the_cohort_and_the_signed(app, client, viewer, cohorts):
    client.login(viewer)
    got = by_key(compute(app, viewer, rates.rates)["rates"])["signing"]
    assert query(got["url"])[1] == {"reached": "admitted", "reached_from": "2026-01-01", "reached_to": "2026-12-31"}
    assert query(got["numerator_url"])[1]["then"] == "signed"
    names = {f"l{i}": lead.company_name for i, lead in enumerate(cohorts["leads"], 1)}
    cohort = client.get(got["url"]).get_data(as_text=True)
    signed = client.get(got["numerator_url"]).get_data(as_text=True)
    assert {k for k, name in names.items() if name in cohort} == {"l1", "l6", "l7"}
    assert {k for k, name in names.items() if name in signed} == {"l1"}


# --- 开工率 --------------------------------------------------------------------------------------

@pytest.fixture()
def starts(viewer):
    a, b = factories.unit("丙镇"), factories.unit("丁镇")
    s1 = make_lead(a, stage="started")
    plan(s1, "start", D(2026, 5, 20))
    reached(s1, started=D(2026, 6, 1))
    s2 = make_lead(a, stage="signed")                     # replanned out of the first half
    plan(s2, "start", D(2026, 3, 1), superseded=True)
    plan(s2, "start", D(2026, 9, 1))
    s8 = make_lead(b, stage="signed")                     # due, not started
    plan(s8, "start", D(2026, 4, 1))
    s9 = make_lead(a, stage="started")                    # started before its plan: counts
    plan(s9, "start", D(2026, 2, 1))
    reached(s9, started=D(2025, 12, 20))
    s10 = make_lead(a, stage="lost")                      # terminated before signing: not followed
    plan(s10, "start", D(2026, 3, 10))
    s11 = make_lead(a, stage="signed")                    # planned after today
    plan(s11, "start", D(2026, 7, 1))
    s12 = make_lead(b, stage="started")                   # started after its period ended
    plan(s12, "start", D(2025, 11, 15))
    reached(s12, started=D(2026, 1, 5))
    s13 = make_lead(b, stage="lost", signed_on=D(2025, 1, 1))  # terminated after signing: still counted
    plan(s13, "start", D(2025, 3, 1))
    return {"a": a, "b": b, "leads": {"s1": s1, "s2": s2, "s8": s8, "s9": s9, "s10": s10, "s11": s11, "s12": s12,
                                      "s13": s13}}


START_CASES = [
    ({}, None, 2, 3, 66.7),                                          # S1, S8, S9 (to 06-15) | S1, S9
    ({"period": "quarter", "year": 2026, "quarter": 2}, None, 1, 2, 50.0),   # S1, S8
    ({"period": "quarter", "year": 2026, "quarter": 1}, None, 1, 1, 100.0),  # S9 (S10 left out)
    ({"period": "month", "year": 2026, "month": 6}, None, 0, 0, None),
    ({"period": "year", "year": 2025}, None, 0, 2, 0.0),              # S12 started 2026-01-05; S13
    ({}, "a", 2, 2, 100.0),
    ({}, "b", 0, 1, 0.0),
]


@pytest.mark.parametrize("args,unit,num,den,value", START_CASES)
def test_start_rate(app, viewer, starts, args, unit, num, den, value):
    scope = {"unit_id": starts[unit].id} if unit else {}
    got = by_key(compute(app, viewer, rates.rates, **args, **scope)["rates"])["start"]
    assert (got["numerator"], got["denominator"], got["value"]) == (num, den, value)


def test_start_rate_links_list_the_same_projects(app, client, viewer, starts):
    client.login(viewer)
    got = by_key(compute(app, viewer, rates.rates)["rates"])["start"]
    leads = starts["leads"]
    cohort = client.get(got["url"])
    assert cohort.status_code == 200
    text = cohort.get_data(as_text=True)
    assert {n for n, lead in leads.items() if lead.company_name in text} == {"s1", "s8", "s9"}
    text = client.get(got["numerator_url"]).get_data(as_text=True)
    assert {n for n, lead in leads.items() if lead.company_name in text} == {"s1", "s9"}
    assert "data-testid=\"cockpit-filter\"" in text


# --- 履约率 and 到资率 ------------------------------------------------------------------------------

@pytest.fixture()
def commitments(viewer):
    """Plans for the second quarter of 2026 (counted to 06-15). The 到资 plan of K5, K6, K7, K10:
    20000 from 2026-01-01 to 2026-07-20 (200 days): by 06-15 (165 days) 16500, 90% = 14850;
    by 03-31 (89 days) 8900, 90% = 8010."""
    a, b = factories.unit("戊镇"), factories.unit("己镇")
    k = {}
    k["k1"] = make_lead(a, stage="signed")                 # signed before its plan: met
    plan(k["k1"], "sign", D(2026, 4, 10))
    actual(k["k1"], "sign", D(2026, 4, 8))
    paid(k["k1"], D(2026, 5, 5), 999)                      # 到资 without a plan: not in 到资率
    k["k2"] = make_lead(a, stage="signed")                 # signed two days late
    plan(k["k2"], "sign", D(2026, 5, 1))
    actual(k["k2"], "sign", D(2026, 5, 3))
    k["k3"] = make_lead(a, stage="signed")                 # land due 06-10, not recorded
    plan(k["k3"], "land", D(2026, 6, 10))
    k["k4"] = make_lead(a, stage="signed")                 # start after today: nothing due yet
    agreement(k["k4"], fixed=Decimal("5000"))
    plan(k["k4"], "start", D(2026, 6, 20))
    plan(k["k4"], "complete", D(2026, 12, 31))
    paid(k["k4"], D(2026, 6, 1), 100)
    for name, entries, started in (("k5", [(D(2026, 3, 1), 8000), (D(2026, 5, 1), 6850)], True),
                                   ("k6", [(D(2026, 5, 1), "14849.99")], True),
                                   ("k7", [(D(2026, 6, 15), 14850)], False),
                                   ("k10", [(D(2026, 2, 1), 10000)], True)):
        lead = k[name] = make_lead(a, stage="started")
        agreement(lead, total=Decimal("20000") if name == "k7" else None,
                  fixed=None if name == "k7" else Decimal("20000"))
        plan(lead, "start", D(2026, 1, 1))
        plan(lead, "complete", D(2026, 7, 20))
        if started:
            actual(lead, "start", D(2026, 1, 1))
        for day, amount in entries:
            paid(lead, day, amount)
    plan(k["k10"], "sign", D(2026, 4, 15))                 # on the day: met; but 到资 behind
    actual(k["k10"], "sign", D(2026, 4, 15))
    k["k11"] = make_lead(a, stage="lost")                  # terminated before signing
    plan(k["k11"], "sign", D(2026, 5, 5))
    k["k12"] = make_lead(b, stage="started")               # another town, met
    plan(k["k12"], "start", D(2026, 5, 5))
    actual(k["k12"], "start", D(2026, 5, 5))
    k["k13"] = make_lead(a, stage="admitted")              # replanned out of the window
    plan(k["k13"], "sign", D(2026, 4, 5), superseded=True)
    plan(k["k13"], "sign", D(2026, 7, 1))
    return {"a": a, "b": b, "k": k}


Q2 = {"period": "quarter", "year": 2026, "quarter": 2}
Q1 = {"period": "quarter", "year": 2026, "quarter": 1}

# (period, unit, met pct setting, met, due, value)
KEEPING_CASES = [
    (Q2, None, None, 4, 8, 50.0),      # due: K1 K2 K3 K5 K6 K7 K10 K12; met: K1 K5 K7 (14850 = 90%) K12
    (Q2, "a", None, 3, 7, 42.9),
    (Q2, "b", None, 1, 1, 100.0),
    (Q2, None, 80, 5, 8, 62.5),        # 80%: 13200 — K6 (14849.99) meets it, K10 (10000) does not
    (Q1, None, None, 1, 4, 25.0),      # due: start 01-01 and 到资 of K5 K6 K7 K10; K7 not started, K5 8000 < 8010
    ({"period": "month", "year": 2026, "month": 1}, None, None, 0, 4, 0.0),  # 到资 by 01-31: 3000, nobody paid yet
    ({"period": "year", "year": 2025}, None, None, 0, 0, None),
]


@pytest.mark.parametrize("args,unit,pct,num,den,value", KEEPING_CASES)
def test_keeping_rate(app, viewer, commitments, args, unit, pct, num, den, value):
    if pct is not None:
        db.session.add(TrackingSettings(id=1, investment_met_pct=pct))
        db.session.flush()
    scope = {"unit_id": commitments[unit].id} if unit else {}
    got = by_key(compute(app, viewer, rates.rates, **args, **scope)["rates"])["keeping"]
    assert (got["numerator"], got["denominator"], got["value"]) == (num, den, value)


def test_keeping_links_list_the_same_projects(app, client, viewer, commitments):
    client.login(viewer)
    got = by_key(compute(app, viewer, rates.rates, **Q2)["rates"])["keeping"]
    k = commitments["k"]
    text = client.get(got["url"]).get_data(as_text=True)
    assert {n for n, lead in k.items() if lead.company_name in text} == {"k1", "k2", "k3", "k5", "k6", "k7", "k10", "k12"}
    text = client.get(got["numerator_url"]).get_data(as_text=True)
    assert {n for n, lead in k.items() if lead.company_name in text} == {"k1", "k5", "k7", "k12"}


# (period, unit, 到资 made, planned — 万元, value)
INVESTMENT_CASES = [
    (Q2, None, 54649.99, 66000, 82.8),   # 14850 + 14849.99 + 14850 + 10000 + K4's 100 | 4 × 16500 + K4 0
    (Q1, None, 18000, 35600, 50.6),      # K5 8000 + K10 10000 | 4 × 8900
    ({"period": "year", "year": 2025}, None, 0, 0, None),
    (Q2, "b", 0, 0, None),
    ({"period": "range", "start": "2026-01-01", "end": "2026-12-31"}, "a", 54649.99, 66000, 82.8),
]


@pytest.mark.parametrize("args,unit,num,den,value", INVESTMENT_CASES)
def test_investment_rate(app, viewer, commitments, args, unit, num, den, value):
    scope = {"unit_id": commitments[unit].id} if unit else {}
    got = by_key(compute(app, viewer, rates.rates, **args, **scope)["rates"])["investment"]
    assert (got["numerator_wan"], got["denominator_wan"], got["value"]) == (num, den, value)
    assert got["numerator"] == round(num / 10000 + 1e-9, 2) and got["denominator"] == round(den / 10000, 2)


def test_investment_plan_in_sql_matches_the_python_definition(app, commitments):
    from sqlalchemy import select

    from crm.dashboard import sql
    from crm.tracking.plan import planned_investment_by

    for day in (D(2025, 12, 31), D(2026, 1, 1), D(2026, 2, 14), D(2026, 3, 31), D(2026, 6, 15), D(2026, 7, 20),
                D(2026, 8, 1)):
        sub = sql.investment_plan(day)
        rows = dict(db.session.execute(select(sub.c.lead_id, sub.c.planned)).all())
        k5 = commitments["k"]["k5"]
        expected = planned_investment_by(day, Decimal("20000"), D(2026, 1, 1), D(2026, 7, 20))
        assert Decimal(str(rows[k5.id])).quantize(Decimal("0.01")) == expected, day


# --- the funnel ----------------------------------------------------------------------------------

@pytest.fixture()
def pipeline(viewer):
    a, b = factories.unit("庚镇"), factories.unit("辛镇")
    f1 = make_lead(a, D(2026, 1, 10), "signed")
    reached(f1, negotiating=D(2026, 1, 20), screening=D(2026, 2, 1), awaiting_decision=D(2026, 2, 4),
            admitted=D(2026, 2, 20), signed=D(2026, 3, 1))
    f2 = make_lead(a, D(2026, 1, 5), "signed")
    reached(f2, negotiating=D(2026, 1, 6), screening=D(2026, 1, 31), awaiting_decision=D(2026, 2, 5),
            admitted=(D(2026, 3, 10), True), signed=D(2026, 3, 10))
    f3 = make_lead(a, D(2026, 2, 1), "negotiating")
    reached(f3, negotiating=D(2026, 2, 11))
    f4 = make_lead(b, D(2025, 12, 1), "screening")
    reached(f4, negotiating=D(2026, 1, 1), screening=D(2026, 1, 8))
    make_lead(a, D(2026, 3, 1))
    return {"a": a, "b": b}


# (period, unit, stage, reached, converted, rate, median days, median of)
FUNNEL_CASES = [
    ({}, None, "lead", 4, 3, 75.0, 10.0, 3),                  # days 10, 1, 10
    ({}, None, "negotiating", 4, 3, 75.0, 12.0, 3),           # days 12, 25, 7
    ({}, None, "screening", 3, 2, 66.7, 4.0, 2),              # days 3, 5: an even count averages
    ({}, None, "awaiting_decision", 2, 2, 100.0, 16.0, 1),    # F2's admission is implied: not in the median
    ({}, None, "admitted", 2, 2, 100.0, 9.0, 1),              # F2 implied: counted, not in the median
    ({}, None, "signed", 2, 0, 0.0, None, 0),
    ({}, None, "started", 0, 0, None, None, 0),
    ({}, None, "producing", 0, 0, None, None, 0),
    ({}, "b", "negotiating", 1, 1, 100.0, 7.0, 1),
    ({}, "b", "lead", 0, 0, None, None, 0),
    ({"period": "year", "year": 2025}, None, "lead", 1, 1, 100.0, 31.0, 1),
    ({"period": "month", "year": 2026, "month": 1}, None, "negotiating", 3, 3, 100.0, 12.0, 3),  # 12, 25, 7
]


@pytest.mark.parametrize("args,unit,stage,count,converted,value,median,seen", FUNNEL_CASES)
def test_funnel(app, viewer, pipeline, args, unit, stage, count, converted, value, median, seen):
    scope = {"unit_id": pipeline[unit].id} if unit else {}
    step = by_key(compute(app, viewer, funnel.funnel, **args, **scope)["steps"])[stage]
    assert (step["reached"], step["converted"], step["value"], step["median_days"], step["median_of"]) == (
        count, converted, value, median, seen)


def test_funnel_runs_from_lead_to_production_and_links(app, viewer, pipeline):
    steps = compute(app, viewer, funnel.funnel)["steps"]
    assert [s["key"] for s in steps] == ["lead", "negotiating", "screening", "awaiting_decision", "admitted",
                                         "signed", "started", "completed", "producing"]
    assert [s["next"] for s in steps][-1] == "above_scale"
    path, args = query(steps[2]["converted_url"])
    assert path == "/leads" and args == {"reached": "screening", "reached_from": "2026-01-01",
                                         "reached_to": "2026-12-31", "then": "awaiting_decision"}


def test_funnel_median_of_an_even_number_of_days_in_sql(app, viewer):
    unit = factories.unit()
    for created, negotiating in ((D(2026, 1, 1), D(2026, 1, 2)), (D(2026, 1, 1), D(2026, 1, 5)),
                                 (D(2026, 1, 1), D(2026, 1, 11)), (D(2026, 1, 1), D(2026, 3, 2))):
        reached(make_lead(unit, created), negotiating=negotiating)   # 1, 4, 10, 60 days → (4 + 10) / 2
    step = by_key(compute(app, viewer, funnel.funnel, unit_id=unit.id)["steps"])["lead"]
    assert (step["median_days"], step["median_of"]) == (7.0, 4)


# --- nothing to count ----------------------------------------------------------------------------

def test_a_period_with_no_data_gives_zeros_and_dashes(app, viewer, county):
    args = {"period": "year", "year": 2020}
    head = compute(app, viewer, figures.headline, **args)
    assert all(f["value"] == 0 and f["previous"] == 0 for f in head["figures"])
    got = compute(app, viewer, rates.rates, **args)
    assert all(r["value"] is None for r in got["rates"])
    assert all(s["value"] is None and s["median_days"] is None for s in compute(app, viewer, funnel.funnel, **args)["steps"])
