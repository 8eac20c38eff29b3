"""The cockpit's breakdown sections (issue 16): the projects in trouble now (watch), where the
projects come from (by chain, source kind, named source), pre-screening timeliness per member
unit, and the 作战表's conversion per chain and gap node.

Every figure is checked against hand-counted cases (a table of cases each), with the scope by
unit and by chain, an empty period (zeros and "—"), and each figure's link: the list it opens
shows exactly the records counted."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from html import unescape

import pytest

from crm.chains.models import LocalEnterprise, Target
from crm.dashboard.period import Period
from crm.dashboard.scope import Scope
from crm.dashboard.sections import Context
from crm.extensions import db
from crm.leads.models import normalize_company_name
from crm.letters.models import Letter
from crm.lights.models import ProjectLight
from crm.problems.models import Problem
from crm.screening.models import CaseUnit, ScreeningCase
from crm.tracking.models import Agreement, MilestoneActual, MilestonePlan
from tests import factories

MOMENT = "2026-06-15T10:00:00+08:00"
TODAY = date(2026, 6, 15)
CN = timezone(timedelta(hours=8))
YEAR = Period.year(2026)
EMPTY = Period.year(2020)


# --- helpers ---------------------------------------------------------------------------------

@pytest.fixture()
def county(app, db_session, clock_at):
    """Two towns (A with an officer and a team lead, B), two chains, a leader and a viewer."""
    clock_at(MOMENT)
    a, b = factories.unit("古镛镇"), factories.unit("高唐镇")
    c1 = factories.chain("新能源", nodes=("锂电材料", "电芯制造", "储能系统"))
    c2 = factories.chain("特色农林", nodes=("竹木加工", "林下经济"))
    return {"app": app, "a": a, "b": b, "c1": c1, "c2": c2,
            "officer_a": factories.user(unit_=a), "officer_b": factories.user(unit_=b),
            "team_lead_a": factories.user(roles=("team_lead",), unit_=a),
            "leader": factories.user(roles=("leader",)), "viewer": factories.user(roles=("viewer",))}


def make_lead(county, name, unit="a", stage="lead", chain=None, **fields):
    """A lead named `name` (its company name, unique: the lists are checked by it)."""
    owner = county["officer_a" if unit == "a" else "officer_b"]
    if chain is not None:
        fields["chain_id"] = county[chain].id
    lead = factories.lead(owner=owner, company_name=name, **fields)
    lead.stage = stage
    db.session.flush()
    return lead


def ctx(county, period=YEAR, unit=None, chain=None, user=None):
    scope = Scope(county[unit].id if unit else None, county[chain].id if chain else None,
                  county[unit].name if unit else None, county[chain].name if chain else None)
    return Context(period=period, scope=scope, today=TODAY, user=user)


def compute(county, function, **kwargs):
    """The section's dict, computed as a request would (the rows are committed first: the
    request's end removes the session, which would roll back what was only flushed)."""
    db.session.commit()
    with county["app"].test_request_context():
        return function(ctx(county, **kwargs))


def as_client(make_client, user):
    c = make_client()
    c.login(user)
    return c


def page_names(client, url, names) -> set[str]:
    """Which of `names` the page at `url` lists (it must open: 200)."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    html = unescape(response.get_data(as_text=True))
    return {n for n in names if n in html}


def row(rows, key):
    return next(r for r in rows if r["key"] == key)


def figures_of(r, keys):
    return {k: r[k] for k in keys}


# === 1. watch: the projects in trouble now ====================================================

# (name, unit, chain, stage, signed_on, light) → counted under that colour or not (None).
LIGHT_CASES = [
    ("红灯项目一", "a", "c1", "admitted", None, "red", "red"),
    ("黄灯项目一", "a", "c2", "started", None, "yellow", "yellow"),
    ("绿灯项目一", "b", "c1", "producing", None, "green", "green"),
    ("红灯终止已签约", "b", None, "lost", date(2025, 3, 1), "red", "red"),     # terminated after signing: tracked
    ("红灯终止未签约", "a", "c1", "lost", None, "red", None),                  # terminated before signing: not tracked
    ("洽谈中残留灯", "a", "c1", "negotiating", None, "red", None),              # not tracked
]


def _lights(county):
    for name, unit, chain, stage, signed_on, colour, _counted in LIGHT_CASES:
        lead = make_lead(county, name, unit, stage, chain, signed_on=signed_on)
        db.session.add(ProjectLight(lead_id=lead.id, colour=colour, reasons=[], since=date(2026, 5, 1)))
    db.session.flush()


def _expected_lights(unit=None, chain=None):
    out = {"red": set(), "yellow": set(), "green": set()}
    for name, u, c, _stage, _signed, _colour, counted in LIGHT_CASES:
        if counted and (unit is None or u == unit) and (chain is None or c == chain):
            out[counted].add(name)
    return out


@pytest.mark.parametrize("unit,chain", [(None, None), ("a", None), ("b", None), (None, "c1"), ("a", "c1")])
def test_light_counts_by_colour_in_scope(county, unit, chain):
    from crm.dashboard.watch import watch

    _lights(county)
    d = compute(county, watch, unit=unit, chain=chain)
    expected = _expected_lights(unit, chain)
    assert {f["colour"]: f["value"] for f in d["lights"]} == {k: len(v) for k, v in expected.items()}
    assert d["lights_total"] == sum(len(v) for v in expected.values())
    assert all(f["how"] and "2026-06-15" in f["how"] for f in d["lights"])


def test_light_links_open_the_projects_counted(county, make_client):
    from crm.dashboard.watch import watch

    _lights(county)
    db.session.commit()
    client = as_client(make_client, county["leader"])
    names = [c[0] for c in LIGHT_CASES]
    for unit, chain in [(None, None), ("a", None), (None, "c1")]:
        d = compute(county, watch, unit=unit, chain=chain)
        expected = _expected_lights(unit, chain)
        for f in d["lights"]:
            assert page_names(client, f["url"], names) == expected[f["colour"]], (unit, chain, f["colour"])


# (name, stage, [(milestone, planned, superseded)], [(milestone, actual)]) → overdue?
OVERDUE_CASES = [
    ("开工逾期项目", "signed", [("start", date(2026, 6, 1), False)], [], True),
    ("已按期开工项目", "started", [("start", date(2026, 6, 1), False)], [("start", date(2026, 6, 2))], False),
    ("已调整计划项目", "signed", [("start", date(2026, 5, 1), True), ("start", date(2026, 9, 1), False)], [], False),
    ("今日到期项目", "signed", [("start", TODAY, False)], [], False),
    ("竣工逾期项目", "started", [("start", date(2026, 1, 1), False), ("complete", date(2026, 6, 14), False)],
     [("start", date(2026, 1, 5))], True),
    ("未进入跟踪项目", "negotiating", [("start", date(2026, 1, 1), False)], [], False),
]


def _overdue(county, unit="a"):
    for name, stage, plans, actuals, _overdue in OVERDUE_CASES:
        lead = make_lead(county, name, unit, stage, "c1")
        for milestone, planned, superseded in plans:
            db.session.add(MilestonePlan(lead_id=lead.id, milestone=milestone, planned_on=planned,
                                         superseded_at=datetime(2026, 1, 1, tzinfo=timezone.utc) if superseded else None))
        for milestone, actual in actuals:
            db.session.add(MilestoneActual(lead_id=lead.id, milestone=milestone, actual_on=actual))
    db.session.flush()


def test_overdue_milestones_count_projects_and_link_to_them(county, make_client):
    from crm.dashboard.watch import watch

    _overdue(county)
    d = compute(county, watch)
    f = row(d["figures"], "overdue_milestones")
    expected = {c[0] for c in OVERDUE_CASES if c[4]}
    assert f["value"] == len(expected) == 2
    assert compute(county, watch, unit="b")["figures"][0]["value"] == 0
    assert compute(county, watch, chain="c2")["figures"][0]["value"] == 0
    db.session.commit()
    client = as_client(make_client, county["viewer"])
    assert page_names(client, f["url"], [c[0] for c in OVERDUE_CASES]) == expected


# (name, unit, reply_due_on, acknowledged, replied) → unanswered?, past reply date?
LETTER_CASES = [
    ("函件未答未到期", "a", date(2026, 6, 20), False, False, True, False),
    ("函件未答已逾期", "a", date(2026, 6, 10), False, False, True, True),
    ("函件已签收逾期", "a", date(2026, 6, 14), True, False, True, True),
    ("函件今日到期", "a", TODAY, True, False, True, False),
    ("函件已答复", "a", date(2026, 6, 1), True, True, False, False),
    ("函件外单位逾期", "b", date(2026, 6, 1), False, False, True, True),
]


def _letters(county):
    moment = datetime(2026, 6, 1, 2, tzinfo=timezone.utc)
    for i, (name, unit, due, acknowledged, replied, _open, _late) in enumerate(LETTER_CASES):
        lead = make_lead(county, name, unit, "signed", "c1" if unit == "a" else "c2")
        db.session.add(Letter(lead_id=lead.id, kind="reminder", milestone="start", unit_id=county[unit].id,
                              issued_on=date(2026, 5, 25), reply_due_on=due,
                              acknowledged_at=moment if acknowledged or replied else None,
                              replied_at=moment if replied else None, replied_on=date(2026, 6, 1) if replied else None,
                              reply="已开工" if replied else None))
    db.session.flush()


@pytest.mark.parametrize("unit,chain", [(None, None), ("a", None), ("b", None), (None, "c2")])
def test_letters_without_reply_and_past_their_date(county, make_client, unit, chain):
    from crm.dashboard.watch import watch

    _letters(county)
    d = compute(county, watch, unit=unit, chain=chain)
    chain_unit = {"c1": "a", "c2": "b"}
    selected = [c for c in LETTER_CASES if (unit is None or c[1] == unit) and (chain is None or chain_unit[chain] == c[1])]
    waiting = {c[0] for c in selected if c[5]}
    late = {c[0] for c in selected if c[6]}
    assert row(d["figures"], "letters_unanswered")["value"] == len(waiting)
    assert row(d["figures"], "letters_overdue")["value"] == len(late)
    db.session.commit()
    client = as_client(make_client, county["leader"])
    names = [c[0] for c in LETTER_CASES]
    assert page_names(client, row(d["figures"], "letters_unanswered")["url"], names) == waiting
    assert page_names(client, row(d["figures"], "letters_overdue")["url"], names) == late


# (name, unit, status, due_on) → open?, overdue?
PROBLEM_CASES = [
    ("问题待解决未到期", "a", "open", date(2026, 6, 30), True, False),
    ("问题解决中已逾期", "a", "solving", date(2026, 6, 1), True, True),
    ("问题待解决今日到期", "a", "open", TODAY, True, False),
    ("问题已解决", "a", "solved", date(2026, 6, 1), False, False),
    ("问题未解决关闭", "a", "closed_unsolved", date(2026, 5, 1), False, False),
    ("问题外单位逾期", "b", "open", date(2026, 6, 1), True, True),
]


def _problems(county):
    department = factories.unit("县自然资源局", kind="department")
    for name, unit, status, due, _open, _late in PROBLEM_CASES:
        lead = make_lead(county, name, unit, "signed", "c1" if unit == "a" else "c2")
        db.session.add(Problem(lead_id=lead.id, category="land", description="供地指标", status=status,
                               responsible_unit_id=department.id, due_on=due, raised_on=date(2026, 5, 1),
                               solved_on=date(2026, 6, 1) if status == "solved" else None))
    db.session.flush()


@pytest.mark.parametrize("unit,chain", [(None, None), ("a", None), ("b", None), ("a", "c2")])
def test_open_and_overdue_problems(county, make_client, unit, chain):
    from crm.dashboard.watch import watch

    _problems(county)
    d = compute(county, watch, unit=unit, chain=chain)
    chain_unit = {"c1": "a", "c2": "b"}
    selected = [c for c in PROBLEM_CASES if (unit is None or c[1] == unit) and (chain is None or chain_unit[chain] == c[1])]
    open_ = {c[0] for c in selected if c[4]}
    late = {c[0] for c in selected if c[5]}
    assert row(d["figures"], "problems_open")["value"] == len(open_)
    assert row(d["figures"], "problems_overdue")["value"] == len(late)
    db.session.commit()
    client = as_client(make_client, county["viewer"])
    names = [c[0] for c in PROBLEM_CASES]
    assert page_names(client, row(d["figures"], "problems_open")["url"], names) == open_
    assert page_names(client, row(d["figures"], "problems_overdue")["url"], names) == late


def test_watch_with_nothing_in_trouble_is_all_zeros(county):
    from crm.dashboard.watch import watch

    d = compute(county, watch, period=EMPTY)
    assert [f["value"] for f in d["lights"] + d["figures"]] == [0] * 8
    assert all(f["url"] for f in d["lights"] + d["figures"])


# === 2. by origin: chain, source kind, named source ===========================================

# (name, unit, chain, source, kind, created, signed, started, agreement total 万元, planned 万元)
ORIGIN_CASES = [
    ("来源甲一", "a", "c1", "s1", "chamber", date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1), 20000, 5000),
    ("来源甲二", "a", "c1", "s1", "chamber", date(2025, 11, 1), date(2026, 1, 10), None, None, 3000),
    ("来源乙一", "b", "c2", "s2", "hometown", date(2025, 5, 1), date(2025, 8, 1), date(2026, 5, 20), None, 8000),
    ("来源乙二", "b", None, "s2", "hometown", date(2026, 5, 1), None, None, None, None),
    ("无名来源", "a", "c2", None, "client", date(2026, 1, 5), date(2026, 2, 1), date(2026, 6, 10), None, None),
    ("往年项目", "a", "c1", "s3", "intermediary", date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1), 9000, 9000),
    ("来源甲三", "a", "c1", "s1", "chamber", date(2026, 3, 1), date(2026, 3, 15), None, None, 1000),
]
EXPECTED_TOTAL = {"new": 4, "signed": 4, "started": 3, "landed_yi": 2.8, "signed_landed": 2, "landing_rate": 50.0}
EXPECTED_BY = {
    "source-s1": {"new": 2, "signed": 3, "started": 1, "landed_yi": 2.0, "signed_landed": 1, "landing_rate": 33.3},
    "source-s2": {"new": 1, "signed": 0, "started": 1, "landed_yi": 0.8, "signed_landed": 0, "landing_rate": None},
    "source-none": {"new": 1, "signed": 1, "started": 1, "landed_yi": 0.0, "signed_landed": 1, "landing_rate": 100.0},
    "kind-chamber": {"new": 2, "signed": 3, "started": 1, "landed_yi": 2.0, "signed_landed": 1, "landing_rate": 33.3},
    "kind-hometown": {"new": 1, "signed": 0, "started": 1, "landed_yi": 0.8, "signed_landed": 0, "landing_rate": None},
    "kind-client": {"new": 1, "signed": 1, "started": 1, "landed_yi": 0.0, "signed_landed": 1, "landing_rate": 100.0},
    "kind-intermediary": {"new": 0, "signed": 0, "started": 0, "landed_yi": 0.0, "signed_landed": 0,
                          "landing_rate": None},
    "chain-c1": {"new": 2, "signed": 3, "started": 1, "landed_yi": 2.0, "signed_landed": 1, "landing_rate": 33.3},
    "chain-c2": {"new": 1, "signed": 1, "started": 2, "landed_yi": 0.8, "signed_landed": 1, "landing_rate": 100.0},
    "chain-none": {"new": 1, "signed": 0, "started": 0, "landed_yi": 0.0, "signed_landed": 0, "landing_rate": None},
}
KEYS = ("new", "signed", "started", "landed_yi", "signed_landed", "landing_rate")


def _origin(county):
    sources = {"s1": factories.source("上海将乐商会", "chamber"), "s2": factories.source("乡贤张三", "hometown"),
               "s3": factories.source("福州招商中介", "intermediary")}
    county.update(sources)
    leads = {}
    for name, unit, chain, source, kind, created, signed, started, total, planned in ORIGIN_CASES:
        lead = make_lead(county, name, unit, "started" if started else "signed" if signed else "negotiating", chain,
                         created_on=created, source_id=sources[source].id if source else None, source_kind=kind,
                         planned_investment_wan=Decimal(planned) if planned else None)
        if total:
            db.session.add(Agreement(lead_id=lead.id, total_investment_wan=Decimal(total)))
        for stage, day in (("signed", signed), ("started", started)):
            if day:
                factories.stage_reached(lead, stage, day)
        leads[name] = lead
    db.session.flush()
    return leads


def _key(county, key):
    """'source-s1' → 'source-<id>' as the section names it."""
    kind, _, ref = key.partition("-")
    if kind in ("source", "chain") and ref in county:
        return f"{kind}-{county[ref].id}"
    return key


def test_by_origin_per_chain_kind_and_named_source(county):
    from crm.dashboard.breakdowns import by_origin

    _origin(county)
    d = compute(county, by_origin)
    assert figures_of(d["total"], KEYS) == EXPECTED_TOTAL
    for key, expected in EXPECTED_BY.items():
        rows = d["by_source"] if key.startswith("source") else d["by_kind"] if key.startswith("kind") else d["by_chain"]
        assert figures_of(row(rows, _key(county, key)), KEYS) == expected, key
    # Named sources by investment landed, then started; a source with nothing in the period is absent.
    assert [r["key"] for r in d["by_source"]] == [f"source-{county['s1'].id}", f"source-{county['s2'].id}",
                                                  "source-none"]
    assert d["named_sources"] == 2
    assert len(d["by_kind"]) == 7 and len(d["by_chain"]) == 3  # every kind and chain, even with zeros
    assert all(c["how"] and "2026" in c["how"] for c in d["columns"])


@pytest.mark.parametrize("unit,chain,expected", [
    ("a", None, {"new": 3, "signed": 4, "started": 2, "landed_yi": 2.0, "signed_landed": 2, "landing_rate": 50.0}),
    ("b", None, {"new": 1, "signed": 0, "started": 1, "landed_yi": 0.8, "signed_landed": 0, "landing_rate": None}),
    (None, "c2", {"new": 1, "signed": 1, "started": 2, "landed_yi": 0.8, "signed_landed": 1, "landing_rate": 100.0}),
    ("a", "c2", {"new": 1, "signed": 1, "started": 1, "landed_yi": 0.0, "signed_landed": 1, "landing_rate": 100.0}),
])
def test_by_origin_in_scope(county, unit, chain, expected):
    from crm.dashboard.breakdowns import by_origin

    _origin(county)
    d = compute(county, by_origin, unit=unit, chain=chain)
    assert figures_of(d["total"], KEYS) == expected
    if chain:
        assert [r["key"] for r in d["by_chain"]] == [f"chain-{county[chain].id}"]


def test_by_origin_quarter_counts_only_its_days(county):
    from crm.dashboard.breakdowns import by_origin

    _origin(county)
    d = compute(county, by_origin, period=Period.quarter(2026, 2))  # April to June
    assert figures_of(d["total"], KEYS) == {"new": 1, "signed": 0, "started": 3, "landed_yi": 2.8,
                                            "signed_landed": 0, "landing_rate": None}


def test_by_origin_empty_period_is_zeros_and_dashes(county, make_client):
    from crm.dashboard.breakdowns import by_origin

    _origin(county)
    d = compute(county, by_origin, period=EMPTY)
    assert figures_of(d["total"], KEYS) == {"new": 0, "signed": 0, "started": 0, "landed_yi": 0.0,
                                            "signed_landed": 0, "landing_rate": None}
    assert [r["key"] for r in d["by_source"]] == []
    assert all(r["new"] == 0 and r["landing_rate"] is None for r in d["by_kind"] + d["by_chain"])
    db.session.commit()
    html = as_client(make_client, county["leader"]).get("/dashboard?period=year&year=2020").get_data(as_text=True)
    total = re.search(r'data-testid="origin-by-kind".*?<tfoot>(.*?)</tfoot>', html, re.S).group(1)
    cells = re.findall(r'data-col="(\w+)">\s*(?:<a [^>]*>)?([^<]*)', total)
    assert dict(cells) == {"new": "0", "signed": "0", "started": "0", "landed_yi": "0.00", "landing_rate": "—"}


def test_top_named_sources_and_the_rest_summed(county):
    from crm.dashboard.breakdowns import TOP_SOURCES, by_origin

    for i in range(TOP_SOURCES + 2):  # 17 chambers, each with one project started in 2026: i+1 亿元
        source = factories.source(f"商会{i:02d}", "chamber")
        lead = make_lead(county, f"商会项目{i:02d}", "a", "started", "c1", created_on=date(2025, 1, 1),
                         source_id=source.id, source_kind="chamber", planned_investment_wan=Decimal(10000 * (i + 1)))
        factories.stage_reached(lead, "started", date(2026, 3, 1))
    d = compute(county, by_origin)
    named = [r for r in d["by_source"] if "source_id" in r]
    assert len(named) == TOP_SOURCES
    assert [r["landed_yi"] for r in named] == [float(17 - i) for i in range(TOP_SOURCES)]
    rest = row(d["by_source"], "source-rest")
    assert (rest["started"], rest["landed_yi"], rest["url"]) == (2, 3.0, None)  # 1 + 2 亿元
    assert d["named_sources"] == TOP_SOURCES + 2


def test_by_origin_links_list_the_leads_counted(county, make_client):
    from crm.dashboard.breakdowns import by_origin

    _origin(county)
    db.session.commit()
    d = compute(county, by_origin)
    names = [c[0] for c in ORIGIN_CASES]
    client = as_client(make_client, county["viewer"])
    total = d["total"]["urls"]
    assert page_names(client, total["new"], names) == {"来源甲一", "来源乙二", "无名来源", "来源甲三"}
    assert page_names(client, total["signed"], names) == {"来源甲一", "来源甲二", "无名来源", "来源甲三"}
    assert page_names(client, total["started"], names) == {"来源甲一", "来源乙一", "无名来源"}
    assert page_names(client, total["landing_rate"], names) == {"来源甲一", "无名来源"}  # the numerator
    s1 = row(d["by_source"], f"source-{county['s1'].id}")
    assert f"source_id={county['s1'].id}" in s1["url"] and "reached=started" in s1["url"]
    assert page_names(client, s1["url"], names) == {"来源甲一"}
    assert page_names(client, s1["urls"]["signed"], names) == {"来源甲一", "来源甲二", "来源甲三"}
    kind = row(d["by_kind"], "kind-hometown")
    assert page_names(client, kind["urls"]["new"], names) == {"来源乙二"}
    chain = row(d["by_chain"], f"chain-{county['c2'].id}")
    assert page_names(client, chain["urls"]["started"], names) == {"来源乙一", "无名来源"}
    scoped = compute(county, by_origin, unit="a")
    assert page_names(client, scoped["total"]["urls"]["started"], names) == {"来源甲一", "无名来源"}


# === 3. pre-screening timeliness per member unit ==============================================

def _at(day_time: str) -> datetime:
    """A county-local moment 'YYYY-MM-DD HH:MM' as an aware UTC datetime."""
    return datetime.fromisoformat(day_time).replace(tzinfo=CN).astimezone(timezone.utc)


# case: (name, unit, chain, submitted local, status, {member: (hours to answer or None, late, missing)})
SCREENING_CASES = [
    ("初审甲", "a", "c1", "2026-03-02 09:00", "closed", {"m1": (10, False, False), "m2": (80, True, False),
                                                      "m3": (10, False, False)}),
    ("初审乙", "b", "c2", "2026-04-01 09:00", "closed", {"m1": (20, False, False), "m2": (None, False, True),
                                                      "m3": (15, False, False)}),
    ("初审丙", "a", "c1", "2026-06-14 09:00", "open", {"m1": (30, False, False), "m2": (None, False, False)}),
    ("初审撤回", "a", "c1", "2026-05-01 09:00", "withdrawn", {"m1": (5, False, False)}),
    ("初审元旦", "a", "c1", "2026-01-01 01:00", "closed", {"m1": (None, False, False)}),   # closed: no answer
    ("初审除夕", "a", "c1", "2025-12-31 23:00", "closed", {"m1": (4, False, False)}),      # the year before
]
# member: (cases, on_time, late, missing, pending, on_time_rate, median_hours)
EXPECTED_SCREENING = {
    None: {"m1": (4, 3, 0, 1, 0, 75.0, 20.0), "m2": (3, 0, 1, 1, 1, 0.0, 80.0), "m3": (2, 2, 0, 0, 0, 100.0, 12.5)},
    "a": {"m1": (3, 2, 0, 1, 0, 66.7, 20.0), "m2": (2, 0, 1, 0, 1, 0.0, 80.0), "m3": (1, 1, 0, 0, 0, 100.0, 10.0)},
    "c2": {"m1": (1, 1, 0, 0, 0, 100.0, 20.0), "m2": (1, 0, 0, 1, 0, 0.0, None), "m3": (1, 1, 0, 0, 0, 100.0, 15.0)},
}
FIELDS = ("cases", "on_time", "late", "missing", "pending", "on_time_rate", "median_hours")


def _screening(county):
    members = {"m1": factories.member_unit("县发改局")[0], "m2": factories.member_unit("县自然资源局")[0],
               "m3": factories.member_unit("县生态环境局")[0]}
    county.update(members)
    for name, unit, chain, submitted, status, answers in SCREENING_CASES:
        lead = make_lead(county, name, unit, "screening", chain)
        moment = _at(submitted)
        case = ScreeningCase(lead_id=lead.id, round=1, submitted_at=moment, status=status,
                             due_at=moment + timedelta(days=3))
        case.units = [CaseUnit(unit_id=members[m].id, position=i,
                               answered_at=moment + timedelta(hours=h) if h is not None else None,
                               late=late, missing=missing)
                      for i, (m, (h, late, missing)) in enumerate(answers.items())]
        db.session.add(case)
    db.session.flush()


@pytest.mark.parametrize("scope", [None, "a", "c2"])
def test_screening_timeliness_per_member_unit(county, scope):
    from crm.dashboard.timeliness import screening

    _screening(county)
    kwargs = {"chain": scope} if scope == "c2" else {"unit": scope}
    d = compute(county, screening, **kwargs)
    got = {r["unit_id"]: tuple(r[f] for f in FIELDS) for r in d["rows"]}
    assert got == {county[m].id: v for m, v in EXPECTED_SCREENING[scope].items()}
    # best on-time rate first
    assert [r["on_time_rate"] for r in d["rows"]] == sorted((r["on_time_rate"] for r in d["rows"]), reverse=True)


def test_per_unit_keeps_the_definitions_of_the_python_timeliness(county):
    """The SQL figures equal crm.screening.queries.timeliness (the loop it replaces) for the same days."""
    from crm.dashboard.timeliness import per_unit
    from crm.screening.queries import timeliness

    _screening(county)
    db.session.commit()
    with county["app"].test_request_context():
        sql = {r["unit_id"]: r for r in per_unit(YEAR)}
        python = timeliness(_at("2026-01-01 00:00"), _at("2027-01-01 00:00"))
    assert {r.unit_id: (r.cases, r.on_time, r.late, r.missing, r.pending, r.on_time_rate, r.median_hours)
            for r in python} == {u: tuple(r[f] for f in FIELDS) for u, r in sql.items()}


def test_screening_empty_period(county, make_client):
    from crm.dashboard.timeliness import per_unit, screening

    _screening(county)
    d = compute(county, screening, period=EMPTY)
    assert d["rows"] == [] and d["total"] == {"on_time": 0, "due": 0, "on_time_rate": None}
    db.session.commit()
    with county["app"].app_context():
        assert per_unit(EMPTY) == []
    db.session.commit()
    html = as_client(make_client, county["leader"]).get("/dashboard?period=year&year=2020").get_data(as_text=True)
    table = re.search(r'data-testid="screening-table".*?</table>', html, re.S).group(0)
    assert "<tbody>" in table and "<a " not in table.split("<tbody>")[1]  # no member unit row
    assert "—" in re.search(r'data-testid="screening-total">(.*?)</p>', html, re.S).group(1)


def test_screening_links_list_the_cases_counted(county, make_client):
    from crm.dashboard.timeliness import screening

    _screening(county)
    db.session.commit()
    names = [c[0] for c in SCREENING_CASES]
    client = as_client(make_client, county["viewer"])
    d = compute(county, screening)
    m1, m2 = (next(r for r in d["rows"] if r["unit_id"] == county[m].id) for m in ("m1", "m2"))
    assert page_names(client, m1["urls"]["cases"], names) == {"初审甲", "初审乙", "初审丙", "初审元旦"}
    assert page_names(client, m1["urls"]["missing"], names) == {"初审元旦"}
    assert page_names(client, m1["urls"]["on_time"], names) == {"初审甲", "初审乙", "初审丙"}
    assert page_names(client, m2["urls"]["late"], names) == {"初审甲"}
    assert page_names(client, m2["urls"]["pending"], names) == {"初审丙"}
    assert page_names(client, d["url"], names) == {"初审甲", "初审乙", "初审丙", "初审元旦"}
    scoped = compute(county, screening, unit="a")
    m1a = next(r for r in scoped["rows"] if r["unit_id"] == county["m1"].id)
    assert page_names(client, m1a["url"], names) == {"初审甲", "初审丙", "初审元旦"}


def test_the_cases_list_refuses_a_filter_it_cannot_read(county, make_client):
    client = as_client(make_client, county["viewer"])
    for query in ("answer=soon", "submitted_from=2026-13-01", "member_unit_id=abc", "chain_id=-1"):
        response = client.get(f"/screening/?{query}")
        assert response.status_code == 400, query


# === 4. the 作战表's conversion per chain and gap node ========================================

Q1 = Period.quarter(2026, 1)
# (name, chain, node, unit, listed local, lead created (None: not converted), lead signed)
TARGET_CASES = [
    ("目标一", "c1", 0, "a", "2025-10-01 10:00", None, None),
    ("目标二", "c1", 0, "a", "2026-02-01 10:00", date(2026, 2, 10), date(2026, 3, 20)),
    ("目标三", "c1", 1, "b", "2025-06-01 10:00", date(2025, 7, 1), date(2025, 12, 1)),
    ("目标四", "c1", 0, "b", "2026-03-01 10:00", date(2024, 1, 1), None),               # linked to an older lead
    ("目标五", "c1", 0, "a", "2026-01-15 10:00", date(2026, 4, 10), date(2026, 5, 1)),   # converted after Q1
    ("目标六", "c2", 0, "a", "2026-05-01 10:00", None, None),                           # listed after Q1
    ("目标七", "c2", 0, "a", "2025-12-31 23:30", None, None),                           # the day before Q1
    ("目标八", "c2", 0, "a", "2026-01-01 00:30", None, None),                           # Q1's first day
    ("目标九", "c1", 0, "a", "2025-11-01 10:00", date(2025, 11, 5), date(2026, 4, 2)),   # signed after Q1
]
TARGET_KEYS = ("listed", "listed_in_period", "leads", "leads_in_period", "signed", "signed_in_period",
               "lead_rate", "sign_rate")
EXPECTED_TARGETS = {
    # scope → {row: (listed, listed in Q1, leads, leads in Q1, signed, signed in Q1, lead rate, sign rate)}
    (None, None): {"chain-c1": (6, 3, 4, 2, 2, 1, 66.7, 50.0), "chain-c2": (2, 1, 0, 0, 0, 0, 0.0, None),
                   "node-c1-0": (5, 3, 3, 2, 1, 1, 60.0, 33.3), "node-c2-0": (2, 1, 0, 0, 0, 0, 0.0, None),
                   "node-c2-1": (0, 0, 0, 0, 0, 0, None, None), "total": (8, 4, 4, 2, 2, 1, 50.0, 50.0)},
    ("a", None): {"chain-c1": (4, 2, 2, 1, 1, 1, 50.0, 50.0), "chain-c2": (2, 1, 0, 0, 0, 0, 0.0, None),
                  "node-c1-0": (4, 2, 2, 1, 1, 1, 50.0, 50.0), "total": (6, 3, 2, 1, 1, 1, 33.3, 50.0)},
    (None, "c2"): {"chain-c2": (2, 1, 0, 0, 0, 0, 0.0, None), "node-c2-0": (2, 1, 0, 0, 0, 0, 0.0, None),
                   "total": (2, 1, 0, 0, 0, 0, 0.0, None)},
}


def _targets(county):
    c1, c2 = county["c1"], county["c2"]
    # c1: node 0 a gap (no firm, nothing landed), node 1 covered by a local firm, node 2 covered by a
    # landed project; c2: both nodes gaps.
    db.session.add(LocalEnterprise(node_id=c1.nodes[1].id, name="三明锂电材料有限公司"))
    make_lead(county, "已落地储能项目", "a", "started", "c1", chain_node_id=c1.nodes[2].id)
    for name, chain, node, unit, listed, lead_created, signed in TARGET_CASES:
        node_row = county[chain].nodes[node]
        lead = None
        if lead_created:
            lead = make_lead(county, f"{name}线索", unit, "signed" if signed else "negotiating", chain,
                             created_on=lead_created, chain_node_id=node_row.id)
            if signed:
                factories.stage_reached(lead, "signed", signed)
        db.session.add(Target(node_id=node_row.id, company_name=name, company_key=normalize_company_name(name),
                              reason="fill", unit_id=county[unit].id, status="converted" if lead else "contacted",
                              lead_id=lead.id if lead else None, created_at=_at(listed)))
    db.session.flush()


def _target_key(county, key):
    if key.startswith("chain-"):
        return f"chain-{county[key[6:]].id}"
    if key.startswith("node-"):
        _, chain, index = key.split("-")
        return f"node-{county[chain].nodes[int(index)].id}"
    return key


@pytest.mark.parametrize("scope", list(EXPECTED_TARGETS))
def test_targets_conversion_per_chain_and_gap_node(county, scope):
    from crm.dashboard.targets import targets

    _targets(county)
    unit, chain = scope
    d = compute(county, targets, period=Q1, unit=unit, chain=chain)
    rows = {r["key"]: r for r in d["by_chain"] + d["gap_nodes"] + [d["total"]]}
    for key, expected in EXPECTED_TARGETS[scope].items():
        assert tuple(rows[_target_key(county, key)][k] for k in TARGET_KEYS) == expected, key
    gaps = {r["key"] for r in d["gap_nodes"]}
    assert _target_key(county, "node-c1-1") not in gaps and _target_key(county, "node-c1-2") not in gaps
    if chain:
        assert [r["key"] for r in d["by_chain"]] == [_target_key(county, f"chain-{chain}")]
        assert gaps == {_target_key(county, f"node-{chain}-0"), _target_key(county, f"node-{chain}-1")}
    how = " ".join(c["how"] for c in d["columns"])
    assert "2026-03-31" in how


def test_targets_empty_period(county):
    from crm.dashboard.targets import targets

    _targets(county)
    d = compute(county, targets, period=EMPTY)
    assert tuple(d["total"][k] for k in TARGET_KEYS) == (0, 0, 0, 0, 0, 0, None, None)


def test_targets_links_list_the_targets_counted(county, make_client):
    from crm.dashboard.targets import targets

    _targets(county)
    db.session.commit()
    names = [c[0] for c in TARGET_CASES]
    client = as_client(make_client, county["viewer"])
    d = compute(county, targets, period=Q1)
    c1 = row(d["by_chain"], f"chain-{county['c1'].id}")
    expected = {"listed": {"目标一", "目标二", "目标三", "目标四", "目标五", "目标九"},
                "listed_in_period": {"目标二", "目标四", "目标五"},
                "leads": {"目标二", "目标三", "目标四", "目标九"}, "leads_in_period": {"目标二", "目标四"},
                "signed": {"目标二", "目标三"}, "signed_in_period": {"目标二"}}
    for key, wanted in expected.items():
        assert page_names(client, c1["urls"][key], names) == wanted, key
    c2 = row(d["by_chain"], f"chain-{county['c2'].id}")
    assert page_names(client, c2["urls"]["listed_in_period"], names) == {"目标八"}
    gap = row(d["gap_nodes"], f"node-{county['c1'].nodes[0].id}")
    assert page_names(client, gap["urls"]["leads"], names) == {"目标二", "目标四", "目标九"}
    scoped = compute(county, targets, period=Q1, unit="a")
    assert page_names(client, row(scoped["by_chain"], f"chain-{county['c1'].id}")["urls"]["listed"], names) == \
        {"目标一", "目标二", "目标五", "目标九"}


def test_the_target_list_refuses_a_date_it_cannot_read(county, make_client):
    client = as_client(make_client, county["viewer"])
    assert client.get("/chains/targets?listed_to=2026-02-30").status_code == 400
    assert client.get("/chains/targets?reached=soon").status_code == 400


# === 5. the page: every section, for a leader and for a team lead ============================

def test_the_cockpit_shows_the_four_sections_with_their_tables(county, make_client):
    _lights(county)
    _origin(county)
    _screening(county)
    _targets(county)
    db.session.commit()
    html = as_client(make_client, county["leader"]).get("/dashboard").get_data(as_text=True)
    for testid in ("section-watch", "watch-table", "section-by-origin", "origin-by-source", "origin-by-kind",
                   "origin-by-chain", "section-screening", "screening-table", "section-targets",
                   "targets-by-chain", "targets-by-gap", "chart-lights", "chart-by-kind", "chart-targets"):
        assert f'data-testid="{testid}"' in html, testid
    assert 'data-testid="watch-light_red">' in html
    assert "上海将乐商会" in html and "县发改局" in html and "锂电材料" in html
    assert "style=" not in re.sub(r"<(link|script)[^>]*>", "", html.split('data-testid="section-watch"')[1])


def test_a_team_lead_sees_the_own_units_figures_and_may_open_the_links(county, make_client):
    from crm.dashboard.watch import watch

    _lights(county)
    _letters(county)
    db.session.commit()
    client = as_client(make_client, county["team_lead_a"])
    html = client.get("/dashboard").get_data(as_text=True)
    red = re.search(r'data-testid="watch-light_red"><a href="([^"]+)">(\d+)</a>', html)
    assert red.group(2) == str(len(_expected_lights("a")["red"]))
    assert f"unit_id={county['a'].id}" in unescape(red.group(1))
    assert page_names(client, unescape(red.group(1)), [c[0] for c in LIGHT_CASES]) == _expected_lights("a")["red"]
    d = compute(county, watch, unit="a")
    letters = row(d["figures"], "letters_unanswered")
    assert page_names(client, letters["url"], [c[0] for c in LETTER_CASES]) == \
        {c[0] for c in LETTER_CASES if c[1] == "a" and c[5]}
    assert client.get(f"/dashboard?unit_id={county['b'].id}").status_code == 403


def test_every_section_is_json_ready_and_works_outside_a_request(county):
    """The API returns the dicts as they are; the bulletin job computes them without a request."""
    import json

    from crm.dashboard.breakdowns import by_origin
    from crm.dashboard.targets import targets
    from crm.dashboard.timeliness import screening
    from crm.dashboard.watch import watch

    _lights(county)
    _origin(county)
    _screening(county)
    _targets(county)
    db.session.commit()
    with county["app"].app_context():
        for function in (watch, by_origin, screening, targets):
            d = function(ctx(county))
            assert json.loads(json.dumps(d)) == d
            assert "/dashboard" not in json.dumps(d) and '"url": "/' in json.dumps(d)
