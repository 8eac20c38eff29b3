"""督查通报: the snapshot on hand-made data (red projects with their reasons, overdue letters and
problems as of the day it is made, the pre-screening timeliness of the period in county days), one
bulletin per period, the ranking stored as it came and shown generically, the pages, the Word file
(GB/T 9704), the on-demand form and its refusals, the papers settings."""
from __future__ import annotations

import io
from datetime import date, datetime, timezone

import pytest
from docx import Document
from sqlalchemy import func, select

from crm.audit.models import AuditEntry
from crm.bulletins import services
from crm.bulletins.jobs import due_period, first_working_day
from crm.bulletins.models import Bulletin
from crm.dashboard.period import Period
from crm.extensions import db
from crm.letters.models import Letter
from crm.lights.models import LightChange, ProjectLight
from crm.papers.models import DocumentNumber, PaperKind
from crm.papers.services import number_for, save_settings
from crm.problems.models import Problem
from crm.screening import services as screening
from crm.screening.calendar import UnknownYearError, WorkCalendar
from tests import factories

D = date.fromisoformat
MADE = "2026-12-01T02:00:00+08:00"     # a Tuesday, the first working day of December 2026
NOVEMBER = Period.month(2026, 11)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def _light(lead, colour, reasons, since, computed="2026-12-01T01:00:00+08:00"):
    db.session.add(ProjectLight(lead_id=lead.id, colour=colour, reasons=reasons, since=D(since),
                                computed_at=_utc(computed)))


def _change(lead, to, reasons, on, previous=None):
    db.session.add(LightChange(lead_id=lead.id, from_colour=previous, to_colour=to, reasons=reasons,
                               changed_on=D(on), changed_at=_utc(f"{on}T01:00:00+08:00")))


def _letter(lead, unit, kind, issued, due, replied=None):
    letter = Letter(lead_id=lead.id, kind=kind, milestone="start" if kind != "supervision" else "project",
                    unit_id=unit.id, issued_on=D(issued), reply_due_on=D(due), planned_on=D("2026-10-15"))
    if replied:
        letter.replied_at, letter.replied_on, letter.reply = _utc(f"{replied}T10:00:00+08:00"), D(replied), "已推进"
    db.session.add(letter)
    db.session.flush()
    number_for(PaperKind.LETTER, letter.id, letter.issued_on)
    return letter


def _problem(lead, unit, due, status="open", solved=None, category="land", description="用地指标\n尚未落实"):
    problem = Problem(lead_id=lead.id, category=category, description=description, responsible_unit_id=unit.id,
                      due_on=D(due), status=status, solved_on=D(solved) if solved else None,
                      raised_on=D("2026-11-01"))
    db.session.add(problem)
    db.session.flush()
    return problem


def _make(app, period, **kwargs) -> Bulletin:
    """services.make inside a request's context (the language, the clock), kept like a request keeps it."""
    with app.test_request_context():
        bulletin = services.make(period, **kwargs)
        db.session.commit()
        return bulletin


LATE_START = {"code": "milestone_late", "colour": "red",
              "params": {"milestone": "start", "planned_on": "2026-06-01", "months": 3}}
PROBLEMS = {"code": "problems_overdue", "colour": "yellow", "params": {"count": 1, "earliest_due": "2026-11-20"}}
BEHIND = {"code": "investment_behind", "colour": "red",
          "params": {"invested": "1000.00", "planned": "5000.00", "behind_pct": "80.0", "threshold": 30}}


@pytest.fixture()
def county(app, db_session, clock_at):
    """万全乡's projects: one red now (a late start, and a yellow reason named after it), one yellow,
    one whose light was recomputed after the bulletin's day (red that day by its history), one red
    only after that day; letters and problems on both sides of their dates; three pre-screening
    cases around November's bounds in county time."""
    with app.test_request_context():
        town = factories.unit("万全乡")
        officer = factories.user(unit_=town)
        fagai, fagai_screener = factories.member_unit("县发改局")
        ziran, _ziran_screener = factories.member_unit("县自然资源局")
        projects = {name: factories.lead(owner=officer, project_name=name, company_name=f"{name}有限公司")
                    for name in ("铝型材项目", "竹木加工项目", "新材料项目", "光伏组件项目")}
        red, yellow, was_red, red_later = projects.values()
        _light(red, "red", [LATE_START, PROBLEMS], "2026-09-02")
        _light(yellow, "yellow", [PROBLEMS], "2026-11-21")
        # Lights computed after the bulletin's day: the colour they had on it comes from their history.
        _light(was_red, "green", [], "2026-12-02", computed="2026-12-03T01:00:00+08:00")
        _change(was_red, "red", [BEHIND], "2026-11-15", previous="green")
        _change(was_red, "green", [], "2026-12-02", previous="red")
        _light(red_later, "red", [LATE_START], "2026-12-02", computed="2026-12-03T01:00:00+08:00")
        _change(red_later, "yellow", [PROBLEMS], "2026-11-01")
        _change(red_later, "red", [LATE_START], "2026-12-02", previous="yellow")

        save_settings({"letter_prefix": "将招函"})
        letters = {
            "overdue": _letter(red, town, "assignment", "2026-11-01", "2026-11-07"),
            "answered": _letter(red, town, "reminder", "2026-10-20", "2026-10-27", replied="2026-10-26"),
            "due_today": _letter(red, town, "supervision", "2026-11-24", "2026-12-01"),
            "answered_after": _letter(yellow, town, "assignment", "2026-11-13", "2026-11-20", replied="2026-12-03"),
        }
        problems = {
            "overdue": _problem(red, ziran, "2026-11-20"),
            "solved": _problem(red, ziran, "2026-11-20", status="solved", solved="2026-11-19", category="funding"),
            "not_due": _problem(red, ziran, "2026-12-05", category="planning"),
            "solving": _problem(yellow, fagai, "2026-11-25", status="solving", category="utilities",
                                description="供电线路未接入"),
            "closed": _problem(yellow, fagai, "2026-11-10", status="closed_unsolved", category="other"),
        }

        screening.set_member_units([fagai.id, ziran.id], {})
        cases = {}
        for name, submitted in (("october", "2026-10-31T23:30:00+08:00"), ("november", "2026-11-10T10:00:00+08:00"),
                                ("last_night", "2026-11-30T23:30:00+08:00")):
            clock_at(submitted)
            lead = factories.negotiating_lead(owner=officer)
            cases[name] = screening.submit(lead, officer, [fagai.id, ziran.id])
        clock_at("2026-11-11T15:00:00+08:00")
        screening.submit_opinion(cases["november"], fagai.id, fagai_screener, {
            "verdict": "approve", "materials": [], **{f"rating_{d}": 4 for d in
                                                        ("scale", "intensity", "tech", "prospects", "compliance")}})
        clock_at("2026-11-14T09:00:00+08:00")
        screening.close_case(cases["november"], by_deadline=True)
        clock_at(MADE)
        db.session.commit()  # the savepoint's: the context's teardown removes the session
    return {"town": town, "projects": projects, "letters": letters, "problems": problems, "cases": cases,
            "fagai": fagai, "ziran": ziran}


# --- the snapshot ------------------------------------------------------------------------------------

def test_the_snapshot_on_hand_made_data(county, app):
    save_settings({"bulletin_issuer": "将乐县招商引资工作领导小组办公室", "bulletin_prefix": "将招督查"})
    bulletin = _make(app, NOVEMBER)
    assert bulletin.title == "2026年11月招商引资工作督查通报"
    assert (bulletin.period_kind, bulletin.period_start, bulletin.period_end) == ("month", D("2026-11-01"), D("2026-11-30"))
    assert bulletin.issued_on == D("2026-12-01") and not bulletin.made_by_job
    content = bulletin.content
    assert content["as_of"] == "2026-12-01" and content["issuer"] == "将乐县招商引资工作领导小组办公室"
    assert content["period"] == {"kind": "month", "start": "2026-11-01", "end": "2026-11-30"}

    projects = county["projects"]
    red = content["red_projects"]
    assert [r["project"] for r in red] == ["铝型材项目", "新材料项目"]   # by unit, then red since
    assert red[0] == {"lead_id": projects["铝型材项目"].id, "project": "铝型材项目", "company": "铝型材项目有限公司",
                      "unit": "万全乡", "since": "2026-09-02", "codes": ["milestone_late", "problems_overdue"],
                      "reasons": ["开工 计划 2026年6月1日，已逾期 183 天（超过 3 个月）",   # 1 June → 1 December
                                  "1 个问题已过办结期限（最早于 2026年11月20日 到期）"]}
    assert red[1]["since"] == "2026-11-15" and red[1]["codes"] == ["investment_behind"]   # from its history
    assert "1,000" in red[1]["reasons"][0] and "80.0" in red[1]["reasons"][0]

    letters = county["letters"]
    assert content["overdue_letters"] == [
        {"letter_id": letters["overdue"].id, "number": "将招函〔2026〕1号", "kind": "assignment",
         "project": "铝型材项目", "unit": "万全乡", "issued_on": "2026-11-01", "reply_due_on": "2026-11-07",
         "days_overdue": 24},
        # answered on 3 December: still unanswered on the bulletin's day
        {"letter_id": letters["answered_after"].id, "number": "将招函〔2026〕4号", "kind": "assignment",
         "project": "竹木加工项目", "unit": "万全乡", "issued_on": "2026-11-13", "reply_due_on": "2026-11-20",
         "days_overdue": 11}]

    problems = county["problems"]
    assert content["overdue_problems"] == [
        {"problem_id": problems["overdue"].id, "project": "铝型材项目", "category": "land",
         "description": "用地指标 尚未落实", "unit": "县自然资源局", "due_on": "2026-11-20", "days_overdue": 11,
         "status": "open"},
        {"problem_id": problems["solving"].id, "project": "竹木加工项目", "category": "utilities",
         "description": "供电线路未接入", "unit": "县发改局", "due_on": "2026-11-25", "days_overdue": 6,
         "status": "solving"}]

    # November in county time: 31 October 23:30 is out, 30 November 23:30 (15:30 UTC) is in.
    assert content["timeliness"] == [
        {"unit_id": county["fagai"].id, "unit": "县发改局", "cases": 2, "on_time": 1, "late": 0, "missing": 0,
         "pending": 1, "on_time_rate": 100.0, "median_hours": 29.0},
        {"unit_id": county["ziran"].id, "unit": "县自然资源局", "cases": 2, "on_time": 0, "late": 0, "missing": 1,
         "pending": 1, "on_time_rate": 0.0, "median_hours": None}]
    ranking = content["ranking"]  # crm.ranking's figures for November, as they stood (its own tests check the numbers)
    assert {"signings", "starts", "points"} <= set(ranking["columns"]) and ranking["labels"]["signings"] == "签约数"
    assert {row["unit"] for row in ranking["rows"]} == {"万全乡", "县发改局", "县自然资源局"}

    number = db.session.scalar(select(DocumentNumber).where(DocumentNumber.kind == "bulletin"))
    assert (number.subject_id, number.year, number.number, number.prefix) == (bulletin.id, 2026, 1, "将招督查")
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "bulletins",
                                                        AuditEntry.entity_id == bulletin.id)).all()
    assert [entry.action for entry in audit] == ["create"]


def test_the_snapshot_is_in_the_countys_language_whoever_makes_it(county, app):
    from flask_babel import gettext

    with app.test_request_context(headers={"Cookie": "lang=en"}):
        assert gettext("Yes") == "Yes"   # this request reads English
        bulletin = services.make(NOVEMBER)
    assert bulletin.title == "2026年11月招商引资工作督查通报"
    assert bulletin.content["red_projects"][0]["reasons"][0].startswith("开工 计划")


def test_made_twice_it_is_one_bulletin_with_one_number(county, app):
    first = _make(app, NOVEMBER)
    again = _make(app, NOVEMBER, by_job=True)
    same_days = _make(app, Period.dates(D("2026-11-01"), D("2026-11-30")))
    assert first.id == again.id == same_days.id
    assert db.session.scalar(select(func.count()).select_from(Bulletin)) == 1
    assert db.session.scalar(select(func.count()).select_from(DocumentNumber).where(
        DocumentNumber.kind == "bulletin")) == 1


def test_an_empty_period_has_empty_sections_never_an_error(app, db_session, clock_at, client):
    clock_at(MADE)
    bulletin = _make(app, Period.year(1995))
    assert bulletin.title == "1995年度招商引资工作督查通报"
    assert {k: bulletin.content[k] for k in ("red_projects", "overdue_letters", "overdue_problems", "timeliness")} == {
        "red_projects": [], "overdue_letters": [], "overdue_problems": [], "timeliness": []}
    client.login(factories.user(roles=["viewer"]))
    page = client.get(f"/bulletins/{bulletin.id}").get_data(as_text=True)
    assert "截至2026年12月1日，全县无亮红灯项目。" in page
    assert "1995年度无提交即时初审的项目。" in page
    assert 'data-testid="table-' not in page
    doc = Document(io.BytesIO(client.get(f"/bulletins/{bulletin.id}.docx").data))
    assert doc.tables == []


@pytest.mark.parametrize("period, title", [
    (Period.month(2026, 3), "2026年3月招商引资工作督查通报"),
    (Period.quarter(2026, 3), "2026年第三季度招商引资工作督查通报"),
    (Period.year(2025), "2025年度招商引资工作督查通报"),
    (Period.dates(D("2026-03-01"), D("2026-05-31")), "2026年3月1日至2026年5月31日招商引资工作督查通报"),
])
def test_titles(app, period, title):
    with app.test_request_context():
        assert services.title_for(period) == title


# --- the ranking, stored as it came -------------------------------------------------------------------

def test_the_ranking_is_stored_as_it_came_and_shown_with_tolerant_labels(county, app, client, monkeypatch):
    from decimal import Decimal

    from crm.ranking.queries import RankRow

    def ranking(period, sort="points", descending=True):
        assert period == NOVEMBER
        return [RankRow(1, "万全乡", place=1, previous_place=3,
                        figures={"signings": 2, "signed_yi": Decimal("1.25"), "points": 35, "brand_new": 7}),
                RankRow(2, "高唐镇", place=2, previous_place=None,
                        figures={"signings": 1, "signed_yi": Decimal("0.5"), "points": 20, "brand_new": None}),
                RankRow(3, "古镛镇", place=3, previous_place=2,
                        figures={"signings": 0, "signed_yi": Decimal("0"), "points": 12, "brand_new": 1})]

    monkeypatch.setattr("crm.ranking.queries.ranking", ranking)
    bulletin = _make(app, NOVEMBER)
    stored = bulletin.content["ranking"]
    assert stored["columns"] == ["signings", "signed_yi", "points", "brand_new"]
    assert stored["rows"][0] == {"unit_id": 1, "unit": "万全乡", "place": 1, "previous_place": 3, "change": 2,
                                 "figures": {"signings": 2, "signed_yi": 1.25, "points": 35, "brand_new": 7}}
    assert [r["change"] for r in stored["rows"]] == [2, None, -1]
    monkeypatch.undo()  # the page reads the snapshot only

    client.login(factories.user(roles=["leader"]))
    page = client.get(f"/bulletins/{bulletin.id}").get_data(as_text=True)
    table = page[page.index('data-testid="table-ranking"'):]
    table = table[:table.index("</table>")]
    for text in ("名次", "升降", "签约项目数", "签约额（亿元）", "积分", "brand_new", "↑2", "↓1", "1.25", "0.5"):
        assert text in table, text
    doc = Document(io.BytesIO(client.get(f"/bulletins/{bulletin.id}.docx").data))
    ranking_table = doc.tables[0]
    assert [c.text for c in ranking_table.rows[0].cells] == ["名次", "单位", "升降", "签约项目数", "签约额（亿元）",
                                                             "积分", "brand_new"]
    assert [c.text for c in ranking_table.rows[2].cells] == ["2", "高唐镇", "—", "1", "0.5", "20", "—"]


def test_a_wide_ranking_continues_in_a_second_table(app, db_session, clock_at, client, monkeypatch):
    from crm.ranking.queries import RankRow

    keys = [f"m{n}" for n in range(8)]
    monkeypatch.setattr("crm.ranking.queries.ranking",
                        lambda period, **kw: [RankRow(1, "万全乡", place=1, figures={k: n for n, k in enumerate(keys)})])
    clock_at(MADE)
    bulletin = _make(app, NOVEMBER)
    client.login(factories.user(roles=["viewer"]))
    doc = Document(io.BytesIO(client.get(f"/bulletins/{bulletin.id}.docx").data))
    first, second = doc.tables[:2]
    assert [c.text for c in first.rows[0].cells] == ["名次", "单位", "升降", "m0", "m1", "m2", "m3", "m4"]
    assert [c.text for c in second.rows[0].cells] == ["名次", "单位", "m5", "m6", "m7"]
    assert "（续表）" in "\n".join(p.text for p in doc.paragraphs)


# --- the pages and the Word file -----------------------------------------------------------------------

@pytest.mark.parametrize("roles, status", [
    (["leader"], 200), (["viewer"], 200), (["admin"], 200),
    (["officer"], 403), (["team_lead"], 403), (["screener"], 403)])
def test_who_opens_the_bulletins(county, app, client, roles, status):
    bulletin = _make(app, NOVEMBER)
    client.login(factories.user(roles=roles))
    for path in ("/bulletins", f"/bulletins/{bulletin.id}", f"/bulletins/{bulletin.id}.docx"):
        assert client.get(path).status_code == status, path


def test_anonymous_is_sent_to_log_in_and_an_unknown_bulletin_is_404(client, db_session):
    assert client.get("/bulletins").status_code == 302
    client.login(factories.user(roles=["viewer"]))
    assert client.get("/bulletins/999999").status_code == 404
    assert client.get("/bulletins/999999.docx").status_code == 404


def test_the_list_is_newest_first_with_numbers_and_links(county, app, client, clock_at):
    save_settings({"bulletin_prefix": "将招督查"})
    october = _make(app, Period.month(2026, 10), by_job=True)
    november = _make(app, NOVEMBER)
    client.login(factories.user(roles=["viewer"]))
    page = client.get("/bulletins").get_data(as_text=True)
    assert page.index(f'data-bulletin="{november.id}"') < page.index(f'data-bulletin="{october.id}"')
    assert "将招督查〔2026〕1号" in page and "将招督查〔2026〕2号" in page
    assert f"/bulletins/{november.id}.docx" in page and "2026年10月招商引资工作督查通报" in page
    assert 'data-testid="make-bulletin-form"' not in page   # viewers do not make bulletins


def test_the_printable_page_in_the_official_format(county, app, client):
    save_settings({"bulletin_issuer": "将乐县招商引资工作领导小组办公室", "bulletin_prefix": "将招督查"})
    bulletin = _make(app, NOVEMBER)
    client.login(factories.user(roles=["leader"]))
    response = client.get(f"/bulletins/{bulletin.id}")
    page = response.get_data(as_text=True)
    assert "css/print.css" in page and 'class="paper"' in page
    assert "将招督查〔2026〕1号" in page and "2026年11月招商引资工作督查通报" in page
    assert "将乐县招商引资工作领导小组办公室" in page and "2026年12月1日" in page
    assert "各乡镇、县直有关单位：" in page
    for key in ("red", "letters", "problems", "timeliness"):
        assert f'data-testid="table-{key}"' in page
    assert "开工 计划 2026年6月1日，已逾期 183 天（超过 3 个月）" in page
    assert "交办函" in page and "将招函〔2026〕1号" in page and "用地指标 尚未落实" in page
    assert "100%" in page and "县自然资源局" in page
    assert 'data-testid="issuer-missing"' not in page
    assert "style=" not in page and "<script" not in page   # CSP: no inline style or script


def test_the_page_says_when_the_issuer_is_not_set(county, app, client):
    bulletin = _make(app, NOVEMBER)
    client.login(factories.user(roles=["admin"]))
    page = client.get(f"/bulletins/{bulletin.id}").get_data(as_text=True)
    assert 'data-testid="issuer-missing"' in page and "/papers/settings" in page
    assert "〔2026〕1号" in page
    # Set later, the issuer appears on the bulletin made before (none was stored with it).
    save_settings({"bulletin_issuer": "将乐县招商引资工作领导小组办公室"})
    page = client.get(f"/bulletins/{bulletin.id}").get_data(as_text=True)
    assert 'data-testid="issuer-missing"' not in page and "将乐县招商引资工作领导小组办公室" in page


def test_the_issuer_stored_with_the_bulletin_stays_when_the_setting_changes(county, app, client):
    save_settings({"bulletin_issuer": "将乐县招商引资工作领导小组办公室", "bulletin_prefix": "将招督查"})
    bulletin = _make(app, NOVEMBER)
    save_settings({"bulletin_issuer": "将乐县招商服务中心", "bulletin_prefix": "将招通报"})
    client.login(factories.user(roles=["viewer"]))
    page = client.get(f"/bulletins/{bulletin.id}").get_data(as_text=True)
    assert "将乐县招商引资工作领导小组办公室" in page and "将招督查〔2026〕1号" in page
    assert "将乐县招商服务中心" not in page


def test_the_word_file_in_the_official_format(county, app, client):
    from crm.papers.docx import BODY_FONT
    from tests.test_papers import _assert_gb9704_page, _east_asia, _title_run

    save_settings({"bulletin_issuer": "将乐县招商引资工作领导小组办公室", "bulletin_prefix": "将招督查"})
    bulletin = _make(app, NOVEMBER)
    client.login(factories.user(roles=["viewer"]))
    response = client.get(f"/bulletins/{bulletin.id}.docx")
    assert response.status_code == 200 and response.data[:2] == b"PK"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    doc = Document(io.BytesIO(response.data))
    _assert_gb9704_page(doc)
    title = _title_run(doc)
    assert _east_asia(title._r) == "方正小标宋简体" and title.font.size.pt == 22
    paragraphs = [p.text for p in doc.paragraphs]
    assert "2026年11月招商引资工作督查通报" in "".join(paragraphs)
    assert "将招督查〔2026〕1号" in paragraphs and "各乡镇、县直有关单位：" in paragraphs
    assert paragraphs[-2:] == ["将乐县招商引资工作领导小组办公室", "2026年12月1日"]
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["一、月晒季考排名情况", "二、亮红灯项目", "三、逾期未反馈的函件", "四、逾期未解决的问题",
                        "五、即时初审办理时效"]
    *ranking_tables, red, letters, problems, timeliness = doc.tables   # the ranking first (one or two tables)
    assert ranking_tables and [c.text for c in ranking_tables[0].rows[0].cells][:3] == ["名次", "单位", "升降"]
    assert [c.text for c in red.rows[0].cells] == ["序号", "项目", "责任单位", "亮红灯时间", "原因"]
    assert [c.text for c in red.rows[1].cells][:4] == ["1", "铝型材项目", "万全乡", "2026年9月2日"]
    assert red.rows[1].cells[4].text.splitlines() == ["1. 开工 计划 2026年6月1日，已逾期 183 天（超过 3 个月）",
                                                      "2. 1 个问题已过办结期限（最早于 2026年11月20日 到期）"]
    assert [c.text for c in letters.rows[1].cells] == ["1", "将招函〔2026〕1号", "交办函", "铝型材项目", "万全乡",
                                                       "2026年11月7日", "24"]
    assert [c.text for c in problems.rows[1].cells] == ["1", "铝型材项目", "用地", "用地指标 尚未落实",
                                                        "县自然资源局", "2026年11月20日", "11"]
    assert [c.text for c in timeliness.rows[1].cells] == ["县发改局", "2", "1", "0", "0", "1", "100%", "29"]
    assert len(timeliness.rows) == 3
    cell_run = letters.rows[1].cells[3].paragraphs[0].runs[0]
    assert _east_asia(cell_run._r) == BODY_FONT
    for table in doc.tables:   # as wide as the 156 mm text block
        assert round(sum(column.width.mm for column in table.columns)) == 156


# --- the on-demand form --------------------------------------------------------------------------------

def _admin(locale="en"):
    return factories.user(roles=["admin"], locale=locale)


def test_an_admin_makes_a_bulletin_on_demand(app, db_session, client, clock_at):
    clock_at(MADE)
    admin = _admin("zh")
    client.login(admin)
    form = client.get("/bulletins").get_data(as_text=True)
    assert 'data-testid="make-bulletin-form"' in form
    assert 'name="month"' in form and '<option value="11" selected>' in form   # last month by default
    response = client.post("/bulletins", {"period": "quarter", "year": "2026", "quarter": "3"})
    assert response.status_code == 302
    bulletin = db.session.scalar(select(Bulletin))
    assert (bulletin.period_kind, bulletin.period_start, bulletin.period_end) == (
        "quarter", D("2026-07-01"), D("2026-09-30"))
    assert bulletin.created_by_id == admin.id and not bulletin.made_by_job
    assert bulletin.title == "2026年第三季度招商引资工作督查通报"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2026年第三季度招商引资工作督查通报" in page


def test_a_period_that_exists_is_not_made_again_but_linked(app, db_session, client, clock_at):
    clock_at(MADE)
    client.login(_admin())
    assert client.post("/bulletins", {"period": "month", "year": "2026", "month": "11"}).status_code == 302
    first = db.session.scalar(select(Bulletin))
    response = client.post("/bulletins", {"period": "range", "start": "2026-11-01", "end": "2026-11-30"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-testid="bulletin-exists"' in page and f'href="/bulletins/{first.id}"' in page
    assert db.session.scalar(select(func.count()).select_from(Bulletin)) == 1


@pytest.mark.parametrize("form, message", [
    ({"period": "range", "start": "2026-11-20", "end": "2026-11-01"}, "is before the start date"),
    ({"period": "month", "year": "2027", "month": "1"}, "has not begun yet"),
    ({"period": "month", "year": "2026", "month": "13"}, "must be between 1 and 12"),
    ({"period": "year", "year": "twenty"}, "must be a whole number"),
    ({"period": "range", "start": "2026-11-01", "end": ""}, "Give both the start and the end date"),
    ({"period": "range", "start": "1.11.2026", "end": "2026-11-30"}, "is not a date"),
    ({"period": "week"}, "Choose a year, a quarter, a month or two dates"),
    ({"period": "month", "year": "2026", "month": "12"}, "is not over yet"),     # December is running
    ({"period": "year", "year": "2026"}, "is not over yet"),
    ({"period": "range", "start": "2026-11-01", "end": "2026-12-01"}, "is not over yet"),  # today is not over
])
def test_bad_periods_are_refused_with_a_message(app, db_session, client, clock_at, form, message):
    clock_at(MADE)
    client.login(_admin())
    response = client.post("/bulletins", form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'data-testid="bulletin-error"' in page and message in page
    assert db.session.scalar(select(func.count()).select_from(Bulletin)) == 0


def test_a_range_ending_yesterday_is_made(app, db_session, client, clock_at):
    clock_at(MADE)
    client.login(_admin())
    assert client.post("/bulletins", {"period": "range", "start": "2026-01-01", "end": "2026-11-30"}).status_code == 302
    bulletin = db.session.scalar(select(Bulletin))
    assert bulletin.title == "2026年1月1日至2026年11月30日招商引资工作督查通报"


@pytest.mark.parametrize("roles", [["viewer"], ["leader"], ["officer"], ["team_lead"]])
def test_only_admins_make_bulletins(app, db_session, client, clock_at, roles):
    clock_at(MADE)
    client.login(factories.user(roles=roles))
    assert client.post("/bulletins", {"period": "month", "year": "2026", "month": "11"}).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Bulletin)) == 0


def test_the_form_needs_its_csrf_token(app, db_session, client, clock_at):
    clock_at(MADE)
    client.login(_admin())
    response = client.post("/bulletins", {"period": "month", "year": "2026", "month": "11"}, csrf=False)
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Bulletin)) == 0


# --- the papers settings ---------------------------------------------------------------------------------

def test_papers_settings_have_the_bulletin_issuer_and_prefix(client, db_session, app, clock_at):
    from crm.papers.models import PaperSettings

    client.login(factories.user(roles=["admin"]))
    page = client.get("/papers/settings").get_data(as_text=True)
    assert 'name="bulletin_issuer"' in page and 'name="bulletin_prefix"' in page
    response = client.post("/papers/settings", {"bulletin_issuer": "将乐县招商引资工作领导小组办公室",
                                                "bulletin_prefix": "将招督查"})
    assert response.status_code == 302
    assert client.post("/papers/settings", {"bulletin_prefix": "将招督查〔2026〕"}).status_code == 400
    db.session.expire_all()
    settings = db.session.get(PaperSettings, 1)
    assert (settings.bulletin_issuer, settings.bulletin_prefix) == ("将乐县招商引资工作领导小组办公室", "将招督查")
    clock_at(MADE)
    bulletin = _make(app, NOVEMBER)
    recent = client.get("/papers/settings").get_data(as_text=True)
    assert "将招督查〔2026〕1号" in recent and f"/bulletins/{bulletin.id}" in recent


# --- when the job is due (the worker test runs it for real) ---------------------------------------------

@pytest.mark.parametrize("today, expected", [
    ("2025-10-01", None),                 # National Day: not a working day
    ("2025-10-08", None),                 # still the holiday
    ("2025-10-09", Period.month(2025, 9)),  # the first working day of October 2025
    ("2025-10-31", Period.month(2025, 9)),  # missed: any later day of the month catches up
    ("2026-01-04", Period.month(2025, 12)),  # 1–3 January 2026 are holidays
    ("2026-01-03", None),
    ("2026-03-02", Period.month(2026, 2)),   # 1 March 2026 is a Sunday
    ("2026-03-01", None),
])
def test_the_job_is_due_from_the_first_working_day_of_the_month(today, expected):
    calendar = WorkCalendar()
    assert due_period(D(today), calendar) == expected


def test_a_year_without_a_schedule_is_not_guessed_but_the_admins_table_counts():
    with pytest.raises(UnknownYearError):
        due_period(D("2027-01-04"), WorkCalendar())
    admins = WorkCalendar({D("2027-01-01"): False}, covered_years=[2027])
    assert first_working_day(2027, 1, admins) == D("2027-01-04")
    assert due_period(D("2027-01-01"), admins) is None
    assert due_period(D("2027-01-04"), admins) == Period.month(2026, 12)


# --- the demo ----------------------------------------------------------------------------------------------

def test_the_demo_has_the_last_three_months_bulletins_as_the_job_made_them(app, db_session):
    from crm.demo.seed import seed_demo

    with app.app_context():
        assert seed_demo(leads=400, seed=2026, today=D("2026-12-05"))
        bulletins = list(db.session.scalars(select(Bulletin).order_by(Bulletin.id)))
        assert [(b.title, b.issued_on, b.made_by_job) for b in bulletins] == [
            ("2026年9月招商引资工作督查通报", D("2026-10-08"), True),   # after the National Day holiday
            ("2026年10月招商引资工作督查通报", D("2026-11-02"), True),
            ("2026年11月招商引资工作督查通报", D("2026-12-01"), True)]
        assert list(services.numbers_for(b.id for b in bulletins).values()) == [
            "将招督查〔2026〕1号", "将招督查〔2026〕2号", "将招督查〔2026〕3号"]
        for bulletin in bulletins:
            content, on = bulletin.content, bulletin.issued_on
            assert content["issuer"] == "将乐县招商引资工作领导小组办公室"
            # As of its own day: nothing from after it, no negative day counts.
            assert all(D(r["since"]) <= on and r["reasons"] for r in content["red_projects"])
            assert all(D(l["issued_on"]) <= on and l["days_overdue"] > 0 for l in content["overdue_letters"])
            assert all(p["days_overdue"] > 0 for p in content["overdue_problems"])
            assert "-" not in " ".join(r for p in content["red_projects"] for r in p["reasons"]).replace("—", "")
        last = bulletins[-1].content
        assert last["red_projects"] and last["overdue_letters"] and last["timeliness"]
