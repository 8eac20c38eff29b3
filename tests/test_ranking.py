"""月晒季考 (issue 16): the units ranked per month, quarter, year or dates — each figure against
hand-made cases, places with ties, None rates last, units with nothing, the change of places
against the previous period, every sort and direction, the page, the API, bad input and who may
read it. The Excel export is in tests/test_ranking_export.py."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from crm.auth.models import Unit
from crm.dashboard.period import Period
from crm.extensions import db
from crm.letters.models import Letter
from crm.problems.models import Problem
from crm.ranking import queries
from crm.screening.models import CaseUnit, ScreeningCase
from crm.tracking.models import Agreement, StepDefinition, StepRecord
from tests import factories

MOMENT = "2026-12-05T10:00:00+08:00"  # today = 5 December 2026
NOV = Period.month(2026, 11)
CN = timezone(timedelta(hours=8))


# --- hand-made records ------------------------------------------------------------------------------
def D(text: str) -> date:
    return date.fromisoformat(text)


def lead_of(unit, **fields):
    return factories.lead(unit_=unit, owner=factories.user(unit_=unit), **fields)


def reached(unit, stage, day, planned=None, total=None, implied=False):
    """A lead owned by `unit` that reached `stage` on `day` (planned / agreement total in 万元)."""
    lead = lead_of(unit, planned_investment_wan=Decimal(planned) if planned is not None else None)
    factories.stage_reached(lead, stage, D(day), implied=implied)
    if total is not None:
        db.session.add(Agreement(lead_id=lead.id, total_investment_wan=Decimal(total)))
        db.session.flush()
    return lead


def points(unit, day, pts, lead_unit=None):
    """A step reached on `day`, its points frozen for `unit` (the project may be owned elsewhere now)."""
    step = db.session.scalars(select(StepDefinition).order_by(StepDefinition.position)).first()
    lead = lead_of(lead_unit or unit)
    db.session.add(StepRecord(lead_id=lead.id, step_id=step.id, reached_on=D(day), unit_id=unit.id, points=pts))
    db.session.flush()


def asked(unit, submitted: datetime, answered: datetime | None = None, late=False, missing=False,
          status="closed"):
    """`unit` asked for its opinion on a case submitted at `submitted` (county time)."""
    case = ScreeningCase(lead_id=lead_of(unit).id, round=1, submitted_at=submitted, status=status)
    case.units = [CaseUnit(unit_id=unit.id, answered_at=answered, late=late, missing=missing)]
    db.session.add(case)
    db.session.flush()


def letter(unit, day, kind="reminder"):
    db.session.add(Letter(lead_id=lead_of(unit).id, kind=kind, milestone="start", unit_id=unit.id,
                          issued_on=D(day), reply_due_on=D(day) + timedelta(days=7)))
    db.session.flush()


def problem(unit, status="solved", solved_on=None):
    db.session.add(Problem(lead_id=lead_of(unit).id, category="land", description="用地指标",
                           responsible_unit_id=unit.id, due_on=D("2026-12-31"), status=status,
                           raised_on=D("2026-09-01"), solved_on=D(solved_on) if solved_on else None))
    db.session.flush()


def at(text: str) -> datetime:
    """A county-local moment, '2026-11-30 23:30'."""
    return datetime.fromisoformat(text).replace(tzinfo=CN)


def row_of(rows, unit):
    return next(r for r in rows if r.unit_id == unit.id)


@pytest.fixture()
def today(app, db_session, clock_at):
    clock_at(MOMENT)


# --- each figure: a table of hand-made cases ---------------------------------------------------------
# (what, build(unit, other), the unit's figures in November 2026 that differ from zero / None)
FIGURE_CASES = [
    ("signed on the first day", lambda u, o: reached(u, "signed", "2026-11-01", planned=25000),
     {"signings": 1, "signed_yi": 2.5}),
    ("signed on the last day", lambda u, o: reached(u, "signed", "2026-11-30", planned=8000),
     {"signings": 1, "signed_yi": 0.8}),
    ("signed the day before: the previous month", lambda u, o: reached(u, "signed", "2026-10-31", planned=8000), {}),
    ("signed the day after", lambda u, o: reached(u, "signed", "2026-12-01", planned=8000), {}),
    ("the agreement's total wins over the planned investment",
     lambda u, o: reached(u, "signed", "2026-11-10", planned=25000, total=12345), {"signings": 1, "signed_yi": 1.23}),
    ("no amount: counted, 0 亿元", lambda u, o: reached(u, "signed", "2026-11-10"), {"signings": 1, "signed_yi": 0.0}),
    ("two signings add up", lambda u, o: (reached(u, "signed", "2026-11-02", planned=15000),
                                         reached(u, "signed", "2026-11-03", total=5050)),
     {"signings": 2, "signed_yi": 2.01}),
    ("an implied signing counts", lambda u, o: reached(u, "signed", "2026-11-05", planned=10000, implied=True),
     {"signings": 1, "signed_yi": 1.0}),
    ("another unit's signing is not ours", lambda u, o: reached(o, "signed", "2026-11-05", planned=10000), {}),
    ("a start", lambda u, o: reached(u, "started", "2026-11-15"), {"starts": 1}),
    ("a completion", lambda u, o: reached(u, "completed", "2026-11-15"), {"completions": 1}),
    ("a production", lambda u, o: reached(u, "producing", "2026-11-15"), {"productions": 1}),
    ("上规", lambda u, o: reached(u, "above_scale", "2026-11-15"), {"above_scale": 1}),
    ("an admission is not ranked", lambda u, o: reached(u, "admitted", "2026-11-15"), {}),
    ("step points add up", lambda u, o: (points(u, "2026-11-01", 5), points(u, "2026-11-30", 10)), {"points": 15}),
    ("points stay with the unit that earned them", lambda u, o: points(u, "2026-11-11", 8, lead_unit=o),
     {"points": 8}),
    ("points of October are not November's", lambda u, o: points(u, "2026-10-31", 8), {}),
    ("answered on time", lambda u, o: asked(u, at("2026-11-02 09:00"), at("2026-11-03 09:00")), {"on_time_rate": 100.0}),
    ("answered late", lambda u, o: asked(u, at("2026-11-02 09:00"), at("2026-11-09 09:00"), late=True),
     {"on_time_rate": 0.0}),
    ("missing when the case closed", lambda u, o: asked(u, at("2026-11-02 09:00"), missing=True), {"on_time_rate": 0.0}),
    ("closed unanswered without the flag: due", lambda u, o: asked(u, at("2026-11-02 09:00")), {"on_time_rate": 0.0}),
    ("still open and not due: no rate", lambda u, o: asked(u, at("2026-11-30 09:00"), status="open"), {}),
    ("withdrawn: not counted", lambda u, o: asked(u, at("2026-11-02 09:00"), status="withdrawn"), {}),
    ("2 on time of 3 due, 1 pending", lambda u, o: (
        asked(u, at("2026-11-02 09:00"), at("2026-11-03 09:00")), asked(u, at("2026-11-04 09:00"), at("2026-11-05 09:00")),
        asked(u, at("2026-11-06 09:00"), missing=True), asked(u, at("2026-11-29 09:00"), status="open")),
     {"on_time_rate": 66.7}),
    ("submitted 30 Nov 23:30 county time: November", lambda u, o: asked(u, at("2026-11-30 23:30"), at("2026-12-01 09:00")),
     {"on_time_rate": 100.0}),
    ("submitted 1 Dec 00:30 county time (30 Nov in UTC): not November",
     lambda u, o: asked(u, at("2026-12-01 00:30"), at("2026-12-01 09:00")), {}),
    ("submitted 1 Nov 00:30 county time (31 Oct in UTC): November",
     lambda u, o: asked(u, at("2026-11-01 00:30"), at("2026-11-01 09:00")), {"on_time_rate": 100.0}),
    ("letters received", lambda u, o: (letter(u, "2026-11-01"), letter(u, "2026-11-30", kind="assignment")),
     {"letters": 2}),
    ("a letter to another unit", lambda u, o: letter(o, "2026-11-11"), {}),
    ("a letter of October", lambda u, o: letter(u, "2026-10-31"), {}),
    ("problems solved", lambda u, o: (problem(u, "solved", "2026-11-01"), problem(u, "solved", "2026-11-30")),
     {"problems_solved": 2}),
    ("closed unsolved is not solved", lambda u, o: problem(u, "closed_unsolved", "2026-11-10"), {}),
    ("still being solved", lambda u, o: problem(u, "solving"), {}),
    ("solved in October", lambda u, o: problem(u, "solved", "2026-10-20"), {}),
]
ZERO = {"signings": 0, "signed_yi": 0.0, "starts": 0, "completions": 0, "productions": 0, "above_scale": 0,
        "points": 0, "on_time_rate": None, "letters": 0, "problems_solved": 0}


@pytest.mark.parametrize("what, build, expected", FIGURE_CASES, ids=[c[0] for c in FIGURE_CASES])
def test_each_figure_is_counted_for_its_unit_and_period(today, what, build, expected):
    unit, other = factories.unit("古镛镇"), factories.unit("高唐镇")
    build(unit, other)
    row = row_of(queries.ranking(NOV), unit)
    assert row.figures == {**ZERO, **expected}


def test_the_rate_says_what_it_counts(today):
    unit = factories.unit("县发改局", kind="department")
    asked(unit, at("2026-11-02 09:00"), at("2026-11-03 09:00"))
    asked(unit, at("2026-11-03 09:00"), at("2026-11-09 09:00"), late=True)
    asked(unit, at("2026-11-04 09:00"), missing=True)
    row = row_of(queries.ranking(NOV, "on_time_rate"), unit)
    assert row.figures["on_time_rate"] == 33.3 and row.detail["on_time"] == 1 and row.detail["answered_or_due"] == 3


def test_a_handful_of_queries_whatever_the_number_of_leads(today):
    unit = factories.unit()
    reached(unit, "signed", "2026-11-02", planned=100)

    def count():
        statements = []
        listener = lambda *a, **k: statements.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            queries.ranking(NOV)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    few = count()
    for n in range(15):
        reached(unit, ("signed", "started", "completed")[n % 3], f"2026-11-{n + 1:02d}", planned=100)
        points(unit, f"2026-10-{n + 1:02d}", 3)
        letter(unit, "2026-11-03")
    assert count() == few <= 6


# --- places ----------------------------------------------------------------------------------------
def test_equal_values_share_a_place(today):
    a, b, c, d = (factories.unit(n) for n in ("A镇", "B镇", "C镇", "D镇"))
    points(a, "2026-11-02", 10)
    points(b, "2026-11-02", 10)
    points(c, "2026-11-02", 4)
    rows = queries.ranking(NOV, "points")
    assert [(r.unit_name, r.place) for r in rows] == [("A镇", 1), ("B镇", 1), ("C镇", 3), ("D镇", 4)]
    rows = queries.ranking(NOV, "points", descending=False)
    assert [(r.unit_name, r.place) for r in rows] == [("D镇", 1), ("C镇", 2), ("A镇", 3), ("B镇", 3)]


def test_a_unit_without_a_rate_sorts_last_without_a_place(today):
    a, b, town = factories.unit("A局", "department"), factories.unit("B局", "department"), factories.unit("A镇")
    asked(a, at("2026-11-02 09:00"), at("2026-11-02 10:00"))
    asked(b, at("2026-11-02 09:00"), at("2026-11-09 10:00"), late=True)
    for descending, order in ((True, ["A局", "B局", "A镇"]), (False, ["B局", "A局", "A镇"])):
        rows = queries.ranking(NOV, "on_time_rate", descending)
        assert [(r.unit_name, r.place) for r in rows] == list(zip(order, [1, 2, None]))
        assert row_of(rows, town).change is None


def test_units_listed_every_active_unit_and_an_inactive_one_only_with_figures(today):
    busy, empty = factories.unit("A镇"), factories.unit("空白镇")
    park, group = factories.unit("工业园区", "park"), factories.unit("招商一组", "investment_group")
    gone, gone_busy = factories.unit("旧机构"), factories.unit("旧招商组", "investment_group")
    gone.active = gone_busy.active = False
    db.session.flush()
    points(busy, "2026-11-03", 2)
    letter(gone_busy, "2026-11-03")
    rows = queries.ranking(NOV)
    names = [r.unit_name for r in rows]
    assert names[0] == "A镇" and set(names) == {"A镇", "空白镇", "工业园区", "招商一组", "旧招商组"}
    nothing = row_of(rows, empty)
    assert nothing.figures == ZERO and not nothing.has_figures and nothing.place == 2
    assert row_of(rows, busy).has_figures and row_of(rows, gone_busy).has_figures
    # Ranked by letters, the deactivated group with its letter comes first.
    assert queries.ranking(NOV, "letters")[0].unit_id == gone_busy.id


def test_units_with_nothing_show_zeros_at_the_bottom(today):
    units = [factories.unit(n) for n in ("甲镇", "乙镇", "丙镇")]
    reached(units[2], "signed", "2026-11-20", planned=30000)
    rows = queries.ranking(NOV, "signings")
    assert rows[0].unit_id == units[2].id and rows[0].place == 1
    assert [r.place for r in rows[1:]] == [2, 2] and all(r.figures == ZERO for r in rows[1:])


# --- the change of places against the previous period ---------------------------------------------
CHANGE_CASES = [
    # period, a day in it, a day in the previous period of the same kind
    (Period.month(2026, 11), "2026-11-15", "2026-10-15"),
    (Period.month(2026, 1), "2026-01-15", "2025-12-15"),
    (Period.quarter(2026, 4), "2026-11-15", "2026-09-15"),
    (Period.quarter(2026, 1), "2026-02-15", "2025-12-15"),
    (Period.year(2026), "2026-03-15", "2025-11-15"),
    (Period.dates(D("2026-11-11"), D("2026-11-20")), "2026-11-11", "2026-11-01"),
]


@pytest.mark.parametrize("period, now, before", CHANGE_CASES, ids=[c[0].kind + c[1] for c in CHANGE_CASES])
def test_places_up_and_down_against_the_previous_period(today, period, now, before):
    riser, faller, steady, newcomer = (factories.unit(n) for n in ("A升镇", "B降镇", "C平镇", "D新镇"))
    # Before: faller 9 (1st), steady 5 (2nd), riser 1 (3rd), newcomer 0 (4th).
    points(faller, before, 9)
    points(steady, before, 5)
    points(riser, before, 1)
    # Now: riser 20 (1st), steady 5 (2nd), faller 2 (3rd), newcomer 0 (4th).
    points(riser, now, 20)
    points(steady, now, 5)
    points(faller, now, 2)
    rows = {r.unit_id: r for r in queries.ranking(period, "points")}
    assert (rows[riser.id].place, rows[riser.id].previous_place, rows[riser.id].change) == (1, 3, 2)
    assert (rows[faller.id].place, rows[faller.id].previous_place, rows[faller.id].change) == (3, 1, -2)
    assert (rows[steady.id].place, rows[steady.id].change) == (2, 0)
    assert (rows[newcomer.id].place, rows[newcomer.id].previous_place, rows[newcomer.id].change) == (4, 4, 0)


def test_the_previous_places_follow_the_same_sort(today):
    a, b = factories.unit("A镇"), factories.unit("B镇")
    points(a, "2026-10-10", 9)           # October: a first by points …
    letter(b, "2026-10-10")              # … b first by letters
    points(b, "2026-11-10", 9)           # November: b first by points, nobody has letters
    by_points = {r.unit_id: r for r in queries.ranking(NOV, "points")}
    assert by_points[b.id].change == 1 and by_points[a.id].change == -1
    by_letters = {r.unit_id: r for r in queries.ranking(NOV, "letters")}
    assert by_letters[b.id].previous_place == 1 and by_letters[a.id].previous_place == 2
    assert by_letters[a.id].place == by_letters[b.id].place == 1 and by_letters[a.id].change == 1


def test_no_place_then_means_no_change(today):
    """A rate with nothing due in the previous month gives no previous place, so no change."""
    dept, other = factories.unit("A局", "department"), factories.unit("B局", "department")
    asked(dept, at("2026-11-02 09:00"), at("2026-11-02 10:00"))
    asked(other, at("2026-10-02 09:00"), at("2026-10-02 10:00"))
    asked(other, at("2026-11-02 09:00"), at("2026-11-09 10:00"), late=True)
    rows = {r.unit_id: r for r in queries.ranking(NOV, "on_time_rate")}
    assert (rows[dept.id].place, rows[dept.id].previous_place, rows[dept.id].change) == (1, None, None)
    assert (rows[other.id].place, rows[other.id].previous_place, rows[other.id].change) == (2, 1, -1)


def test_a_deactivated_unit_not_listed_before_has_no_previous_place(today):
    gone = factories.unit("旧机构")
    gone.active = False
    db.session.flush()
    points(gone, "2026-11-02", 3)
    row = row_of(queries.ranking(NOV), gone)
    assert row.place == 1 and row.previous_place is None and row.change is None


# --- sorting by each figure, both ways -------------------------------------------------------------
def _two_and_one(key, first, second):
    """`first` gets more of `key` than `second` (for the rate: 100% against 50%)."""
    if key == "on_time_rate":
        asked(first, at("2026-11-02 09:00"), at("2026-11-02 10:00"))
        asked(second, at("2026-11-02 09:00"), at("2026-11-02 10:00"))
        asked(second, at("2026-11-03 09:00"), at("2026-11-09 10:00"), late=True)
        return
    for unit, n in ((first, 2), (second, 1)):
        for i in range(n):
            if key in ("signings", "signed_yi"):
                reached(unit, "signed", f"2026-11-0{i + 1}", planned=10000)
            elif key in ("starts", "completions", "productions", "above_scale"):
                stage = {"starts": "started", "completions": "completed", "productions": "producing",
                         "above_scale": "above_scale"}[key]
                reached(unit, stage, f"2026-11-0{i + 1}")
            elif key == "points":
                points(unit, f"2026-11-0{i + 1}", 5)
            elif key == "letters":
                letter(unit, f"2026-11-0{i + 1}")
            elif key == "problems_solved":
                problem(unit, "solved", f"2026-11-0{i + 1}")


@pytest.mark.parametrize("key", queries.SORT_KEYS)
@pytest.mark.parametrize("direction", ["desc", "asc"])
def test_sort_by_each_figure_and_direction(today, client, key, direction):
    most, less, none_ = factories.unit("Z多", "department"), factories.unit("Y少", "department"), \
        factories.unit("X无", "department")
    _two_and_one(key, most, less)
    rows = queries.ranking(NOV, key, direction == "desc")
    if key == "on_time_rate":
        expected = [("Z多", 1), ("Y少", 2), ("X无", None)] if direction == "desc" else \
            [("Y少", 1), ("Z多", 2), ("X无", None)]
    else:
        expected = [("Z多", 1), ("Y少", 2), ("X无", 3)] if direction == "desc" else \
            [("X无", 1), ("Y少", 2), ("Z多", 3)]
    assert [(r.unit_name, r.place) for r in rows] == expected
    # The page and the API follow the same order.
    client.login(factories.user(roles=["viewer"], unit_=none_))
    body = client.get(f"/api/v1/ranking?period=month&year=2026&month=11&sort={key}&dir={direction}").get_json()
    assert [(i["unit_name"], i["place"]) for i in body["items"]] == expected and body["sort"] == key
    html = client.get(f"/ranking?period=month&year=2026&month=11&sort={key}&dir={direction}").get_data(as_text=True)
    seen = sorted((html.index(f'data-testid="ranking-unit-{u.id}"'), u.name) for u in (most, less, none_))
    assert [name for _, name in seen] == [name for name, _ in expected]


# --- the page ----------------------------------------------------------------------------------------
@pytest.fixture()
def county(today):
    town, other = factories.unit("古镛镇"), factories.unit("高唐镇")
    people = {"viewer": factories.user(roles=["viewer"]), "leader": factories.user(roles=["leader"]),
              "admin": factories.user(roles=["admin"]), "team_lead": factories.user(roles=["team_lead"], unit_=town),
              "officer": factories.user(roles=["officer"], unit_=town),
              "screener": factories.user(roles=["screener"])}
    reached(town, "signed", "2026-11-05", planned=25000)
    reached(other, "signed", "2026-11-06", planned=5000)
    reached(other, "signed", "2026-11-07", planned=5000)
    points(town, "2026-10-05", 10)
    points(other, "2026-11-05", 4)
    problem(town, "solved", "2026-11-20")
    return {"town": town, "other": other, **people}


def test_the_page_shows_the_table_sorted_with_changes_and_links(client, county):
    client.login(county["viewer"])
    response = client.get("/ranking?period=month&year=2026&month=11&sort=signings")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    town, other = county["town"], county["other"]
    assert html.index(f'ranking-unit-{other.id}"') < html.index(f'ranking-unit-{town.id}"')
    assert 'aria-sort="descending"' in html and html.count("aria-sort=") == 1
    # The sorted column's header reverses the order; the others sort most first.
    assert "sort=signings&amp;dir=asc" in html and "sort=points&amp;dir=desc" in html
    assert "period=month" in html and "month=11" in html
    # The period filter without the unit and chain choices, showing November 2026.
    assert 'data-testid="period-filter"' in html and 'name="unit_id"' not in html and 'name="chain_id"' not in html
    assert '<option value="11" selected' in html and 'value="month" selected' in html
    # Places: other 1st, town 2nd; against October by signings (nobody signed: all 1st) town went down.
    town_row = html.split(f'ranking-unit-{town.id}"')[1].split("</tr>")[0]
    assert "▼</span>1" in town_row and "名次下降" in town_row
    # Figures link to their records.
    assert (f"/leads?unit_id={town.id}&amp;reached=signed&amp;reached_from=2026-11-01&amp;reached_to=2026-11-30"
            in html)
    assert f"/problems?unit_id={town.id}&amp;status=solved" in html
    assert "/tracking/points?month=2026-11" in html
    assert "2.50" in html and "1.00" in html
    assert "/ranking.xlsx?" in html
    assert 'data-testid="ranking-how"' in html


def test_the_page_defaults_to_last_month_and_says_which_units_are_listed(client, county):
    client.login(county["leader"])
    html = client.get("/ranking").get_data(as_text=True)
    assert '<option value="11" selected' in html and 'value="2026"' in html
    assert 'data-testid="ranking-explained"' in html
    assert f'ranking-unit-{county["town"].id}' in html


def test_a_team_lead_sees_every_unit_but_links_only_for_the_own_unit(client, county):
    client.login(county["team_lead"])
    response = client.get("/ranking?period=month&year=2026&month=11")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'ranking-unit-{county["other"].id}' in html
    assert f'/leads?unit_id={county["town"].id}' in html and f'/leads?unit_id={county["other"].id}' not in html
    body = client.get("/api/v1/ranking?period=month&year=2026&month=11").get_json()
    urls = {i["unit_id"]: i["urls"] for i in body["items"]}
    assert urls[county["other"].id] == {} and "signings" in urls[county["town"].id]


def test_the_change_is_shown_up_and_down(client, county):
    client.login(county["viewer"])
    html = client.get("/ranking?period=month&year=2026&month=11&sort=points").get_data(as_text=True)
    # October: town 10 points (1st), other 0 (2nd); November: other 4 (1st), town 0 (2nd).
    town_row = html.split(f'ranking-unit-{county["town"].id}"')[1].split("</tr>")[0]
    other_row = html.split(f'ranking-unit-{county["other"].id}"')[1].split("</tr>")[0]
    assert "▼</span>1" in town_row and "▲</span>1" in other_row


# --- the API -------------------------------------------------------------------------------------------
def test_the_api_gives_the_ranking_with_its_period_and_metrics(client, county):
    client.login(county["admin"])
    body = client.get("/api/v1/ranking?period=quarter&year=2026&quarter=4&sort=signed_yi&dir=desc").get_json()
    assert body["period"] == {"kind": "quarter", "start": "2026-10-01", "end": "2026-12-31", "label": body["period"]["label"]}
    assert body["previous_period"]["start"] == "2026-07-01" and body["sort"] == "signed_yi" and body["dir"] == "desc"
    assert [m["key"] for m in body["metrics"]] == list(queries.SORT_KEYS)
    first, second = body["items"][0], body["items"][1]
    assert first["unit_id"] == county["town"].id and first["figures"]["signed_yi"] == 2.5 and first["place"] == 1
    assert second["unit_id"] == county["other"].id and second["figures"]["signed_yi"] == 1.0
    assert first["figures"]["on_time_rate"] is None and first["detail"]["signed_wan"] == 25000.0
    assert first["previous_place"] == 1 and first["change"] == 0


def test_the_api_is_in_the_openapi_document(client, county):
    document = client.get("/api/v1/openapi.json").get_json()
    get = document["paths"]["/ranking"]["get"]
    assert {p["name"] for p in get["parameters"]} == {"period", "year", "quarter", "month", "start", "end", "sort", "dir"}
    assert {"200", "400", "401", "403"} <= set(get["responses"])
    assert "RankRow" in document["components"]["schemas"]


def test_the_api_with_a_token(client, county):
    from crm.auth.services import issue_api_token

    _t, raw = issue_api_token(county["viewer"], "test", 30)
    response = client.get("/api/v1/ranking", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200 and response.get_json()["period"]["start"] == "2026-11-01"


# --- bad input ---------------------------------------------------------------------------------------
BAD = [
    ("period=month&year=2027&month=1", "2027"),                 # not begun yet
    ("period=year&year=2030", "2030"),
    ("period=range&start=2026-11-20&end=2026-11-01", "2026-11-01"),  # end before start
    ("period=range&start=2026-11-31&end=2026-12-01", ""),      # not a date
    ("period=month&year=2026&month=13", "12"),
    ("period=week", ""),
    ("sort=popularity", "popularity"),
    ("sort=points&dir=sideways", ""),
]


@pytest.mark.parametrize("query, mentioned", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_a_message_never_a_500(client, county, query, mentioned):
    client.login(county["viewer"])
    page = client.get(f"/ranking?{query}")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert 'data-testid="ranking-error"' in html and mentioned in html.split('data-testid="ranking-error"')[1]
    assert 'data-testid="period-filter"' in html
    export = client.get(f"/ranking.xlsx?{query}")
    assert export.status_code == 400 and 'data-testid="ranking-error"' in export.get_data(as_text=True)
    api = client.get(f"/api/v1/ranking?{query}")
    assert api.status_code == 400 and api.get_json()["error"]["message"]


def test_an_unknown_sort_key_names_itself(client, county):
    client.login(county["viewer"])
    message = client.get("/api/v1/ranking?sort=popularity").get_json()["error"]["message"]
    assert "popularity" in message
    with pytest.raises(queries.RankingError):
        queries.ranking(NOV, "popularity")


def test_a_period_with_nothing_is_zeros_and_dashes(client, county):
    client.login(county["viewer"])
    response = client.get("/ranking?period=year&year=1995")
    assert response.status_code == 200
    body = client.get("/api/v1/ranking?period=year&year=1995").get_json()
    assert all(i["figures"] == ZERO for i in body["items"]) and {i["place"] for i in body["items"]} == {1}


# --- who may read it ---------------------------------------------------------------------------------
@pytest.mark.parametrize("who, status", [("officer", 403), ("screener", 403), ("team_lead", 200),
                                         ("viewer", 200), ("leader", 200), ("admin", 200)])
def test_who_may_read_the_ranking(client, county, who, status):
    client.login(county[who])
    for url in ("/ranking", "/ranking.xlsx?period=month&year=2026&month=11", "/api/v1/ranking"):
        assert client.get(url).status_code == status, url


def test_anonymous_users_log_in_first(client, county):
    assert client.get("/ranking").status_code == 302
    assert client.get("/ranking.xlsx").status_code == 302
    assert client.get("/api/v1/ranking").status_code == 401


def test_the_views_declare_their_permissions(app):
    from crm.auth.roles import Permission

    for endpoint in ("ranking.index", "ranking.xlsx", "api.api_ranking"):
        assert set(app.view_functions[endpoint].required_permissions) == {
            Permission.DASHBOARD_READ_ALL, Permission.DASHBOARD_READ_UNIT}


def test_letters_received_link_to_exactly_those_letters(client, county):
    """收函数 links to the letters addressed to the unit and issued in the period, and no others."""
    town, other = county["town"], county["other"]
    letter(town, "2026-11-10")
    letter(town, "2026-10-10", kind="assignment")   # before the period
    letter(other, "2026-11-12", kind="supervision")  # another unit
    client.login(county["viewer"])
    html = client.get("/ranking?period=month&year=2026&month=11").get_data(as_text=True)
    link = f"/letters?unit_id={town.id}&amp;issued_from=2026-11-01&amp;issued_to=2026-11-30"
    assert link in html
    page = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    rows = page[page.index('data-testid="letters"'):page.index("</table>")]
    assert rows.count("<tr") == 2  # the header and the one letter
    assert "督办" not in rows and "交办" not in rows and 'data-testid="letter-scope"' in page
    assert "仅显示发给排名中所选单位" in page
