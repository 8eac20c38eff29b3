"""The ranking's Excel file (issue 16), read back with openpyxl: the page's table for the same
period and sort, a title row naming the period, Chinese headers, numbers as numbers (亿元 with two
decimals, the on-time rate as a percentage), and a sheet saying how each column is counted."""
from __future__ import annotations

import io
from datetime import date
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from crm.dashboard.period import Period
from crm.ranking import export
from tests import factories
from tests.test_ranking import asked, at, letter, points, reached

MOMENT = "2026-12-05T10:00:00+08:00"


@pytest.fixture()
def county(app, db_session, clock_at):
    clock_at(MOMENT)
    town, dept = factories.unit("古镛镇"), factories.unit("县发改局", "department")
    viewer = factories.user(roles=["viewer"], unit_=dept)
    reached(town, "signed", "2026-11-05", planned=12345)
    reached(town, "signed", "2026-11-06", total=20000)
    reached(town, "started", "2026-11-07")
    points(town, "2026-11-08", 13)
    points(dept, "2026-10-08", 20)   # October: the department led on points
    letter(town, "2026-11-09")
    asked(dept, at("2026-11-02 09:00"), at("2026-11-02 10:00"))
    asked(dept, at("2026-11-03 09:00"), at("2026-11-09 10:00"), late=True)
    asked(dept, at("2026-11-04 09:00"), missing=True)
    return {"town": town, "dept": dept, "viewer": viewer}


def _book(client, query):
    response = client.get(f"/ranking.xlsx?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return response, load_workbook(io.BytesIO(response.data))


def _rows(sheet):
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    header = values.index(export.HEADERS)
    return values[:header], [dict(zip(export.HEADERS, r)) for r in values[header + 1:]], header


def test_the_file_is_the_table_of_the_page_with_numbers_as_numbers(client, county):
    client.login(county["viewer"])
    response, book = _book(client, "period=month&year=2026&month=11&sort=points&dir=desc")
    assert quote("月晒季考_2026年11月.xlsx") in response.headers["Content-Disposition"]
    sheet = book[export.SHEET]
    top, rows, header = _rows(sheet)
    assert top[0][0] == "月晒季考 · 各单位排名（2026年11月）"
    assert "按23步积分从高到低排名" in top[1][0] and "2026年10月" in top[1][0] and "2026年12月5日" in top[1][0]
    assert "列入单位" in top[2][0]
    town, dept = rows[0], rows[1]
    assert (town["单位"], town["名次"], town["上期名次"], town["名次变化"]) == ("古镛镇", 1, 2, 1)
    assert (dept["单位"], dept["名次"], dept["上期名次"], dept["名次变化"]) == ("县发改局", 2, 1, -1)
    assert town["单位类型"] == "乡镇" and dept["单位类型"] == "部门"
    assert (town["签约数"], town["签约额（亿元）"], town["开工数"], town["23步积分"], town["收函数"]) == (2, 3.23, 1, 13, 1)
    assert isinstance(town["签约数"], int) and isinstance(town["签约额（亿元）"], float)
    assert town["初审按时率"] == "—" and dept["初审按时率"] == pytest.approx(0.333)
    # Formats: 亿元 with two decimals, the rate as a percentage, the change with its sign.
    cols = {h: i + 1 for i, h in enumerate(export.HEADERS)}
    first = header + 2
    assert sheet.cell(first, cols["签约额（亿元）"]).number_format == "0.00"
    assert sheet.cell(first + 1, cols["初审按时率"]).number_format == "0.0%"
    assert sheet.cell(first, cols["名次变化"]).number_format == "+0;-0;0"
    notes = book[export.NOTES_SHEET]
    how = {r[0].value: r[1].value for r in notes.iter_rows(min_row=2)}
    assert set(how) >= {h for h in export.HEADERS[len(export.LEAD_HEADERS):]} and "按时" in how["初审按时率"]


def test_the_file_follows_the_sort_and_period_of_the_request(client, county):
    client.login(county["viewer"])
    _response, book = _book(client, "period=quarter&year=2026&quarter=4&sort=on_time_rate&dir=asc")
    top, rows, _h = _rows(book[export.SHEET])
    assert top[0][0] == "月晒季考 · 各单位排名（2026年第4季度）"
    assert "按初审按时率从低到高排名" in top[1][0] and "2026年第3季度" in top[1][0]
    assert rows[0]["单位"] == "县发改局" and rows[0]["名次"] == 1
    assert all(r["名次"] == "—" and r["初审按时率"] == "—" for r in rows[1:])


def test_the_page_links_to_the_file_of_the_same_request(client, county):
    client.login(county["viewer"])
    html = client.get("/ranking?period=year&year=2026&sort=letters&dir=asc").get_data(as_text=True)
    assert "/ranking.xlsx?period=year&amp;year=2026&amp;sort=letters&amp;dir=asc" in html


@pytest.mark.parametrize("period, label", [
    (Period.year(2026), "2026年"), (Period.quarter(2026, 1), "2026年第1季度"), (Period.month(2026, 2), "2026年2月"),
    (Period.dates(date(2026, 1, 5), date(2026, 2, 3)), "2026年1月5日至2026年2月3日")])
def test_the_period_is_written_as_an_official_paper_writes_it(period, label):
    assert export.chinese_label(period) == label


def test_a_dangerous_unit_name_stays_text(client, county):
    county["town"].name = "=HYPERLINK(\"x\")镇"
    from crm.extensions import db

    db.session.flush()
    client.login(county["viewer"])
    _response, book = _book(client, "period=month&year=2026&month=11")
    _top, rows, _h = _rows(book[export.SHEET])
    assert rows[0]["单位"].startswith("'=")
