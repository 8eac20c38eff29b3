"""The home page as a workbench (issue 16): each role lands on what it must do today, in order
(overdue first), within its own unit — and what must not be there (another unit's leads, another
officer's follow-ups, county-wide lists for admins). Hand-made data on a fixed clock."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest

from crm.extensions import db
from crm.leads.services import add_activity
from tests import factories
from tests.statements import recorded_statements

TODAY = date(2026, 6, 10)  # a Wednesday
D = date.fromisoformat


@pytest.fixture(autouse=True)
def _clock(clock_at):
    clock_at("2026-06-10T10:00:00+08:00")


# --- helpers -------------------------------------------------------------------------------------

def _follow_up(lead, who, next_on, occurred="2026-03-01", summary="电话沟通"):
    return add_activity(lead, who, "call", D(occurred), summary, D(next_on) if next_on else None)


def _stage(lead, stage):
    lead.stage = stage
    db.session.flush()
    return lead


def _block(page: str, testid: str) -> str:
    """The HTML of the list (or section) marked data-testid=testid."""
    start = page.index(f'data-testid="{testid}"')
    return page[start:page.index("</ul>", start)]


def _order(html: str, *names: str) -> list[str]:
    """The names, in the order they appear in html (absent ones left out)."""
    found = [(html.index(n), n) for n in names if n in html]
    return [n for _, n in sorted(found)]


def _light(lead, colour, reasons):
    from crm.lights.models import ProjectLight

    db.session.add(ProjectLight(lead_id=lead.id, colour=colour, reasons=reasons, since=D("2026-05-01")))
    db.session.flush()


def _letter(lead, unit, kind="reminder", milestone="start", due="2026-06-20", replied=False, acknowledged=False):
    from crm.letters.models import Letter

    moment = datetime(2026, 6, 1, 2, tzinfo=timezone.utc)
    letter = Letter(lead_id=lead.id, kind=kind, milestone=milestone, unit_id=unit.id, issued_on=D("2026-06-01"),
                    reply_due_on=D(due), acknowledged_at=moment if acknowledged or replied else None,
                    replied_at=moment if replied else None, replied_on=D("2026-06-02") if replied else None,
                    reply="已推进" if replied else None)
    db.session.add(letter)
    db.session.flush()
    return letter


def _problem(lead, unit, description, due, status="open"):
    from crm.problems.models import Problem

    problem = Problem(lead_id=lead.id, category="land", description=description, responsible_unit_id=unit.id,
                      due_on=D(due), status=status, raised_on=D("2026-05-01"))
    db.session.add(problem)
    db.session.flush()
    return problem


def _closed_case(lead, items):
    from crm.screening.models import ScreeningCase

    moment = datetime(2026, 5, 20, 2, tzinfo=timezone.utc)
    case = ScreeningCase(lead_id=lead.id, round=1, submitted_at=moment, status="closed", result="fail",
                         closed_at=moment, notice_items=[{"item": i, "units": ["县发改局"]} for i in items])
    db.session.add(case)
    db.session.flush()
    return case


def _open_case(lead, unit, due_at):
    from crm.screening.models import CaseUnit, ScreeningCase

    case = ScreeningCase(lead_id=lead.id, round=1, submitted_at=datetime(2026, 6, 8, 2, tzinfo=timezone.utc),
                         status="open", due_at=due_at, due_on=due_at.date() if due_at else None)
    case.units = [CaseUnit(unit_id=unit.id, position=0)]
    db.session.add(case)
    db.session.flush()
    return case


@pytest.fixture()
def town(db_session):
    """古镛镇 with two officers and a team lead, 高唐镇 with its officer, a department and its liaison."""
    unit = factories.unit("古镛镇")
    other = factories.unit("高唐镇")
    dept, liaison = factories.member_unit("县自然资源局")
    return {"unit": unit, "other": other, "dept": dept, "liaison": liaison,
            "officer": factories.user(unit_=unit, full_name="张专员"),
            "colleague": factories.user(unit_=unit, full_name="李专员"),
            "team_lead": factories.user(roles=["team_lead"], unit_=unit, full_name="王组长"),
            "other_officer": factories.user(unit_=other, full_name="赵专员")}


@pytest.fixture()
def desk(town):
    """Hand-made follow-ups, returned leads, lights, letters and problems around 古镛镇."""
    t = town
    lead = lambda owner, name, **kw: factories.lead(owner=owner, company_name=name, **kw)  # noqa: E731
    mine_april = lead(t["officer"], "四月逾期公司")
    _follow_up(mine_april, t["officer"], "2026-04-02")
    mine_may = lead(t["officer"], "五月逾期公司")
    _follow_up(mine_may, t["officer"], "2026-05-28")
    mine_today = lead(t["officer"], "今天跟进公司")
    _follow_up(mine_today, t["officer"], "2026-06-10")
    mine_week = lead(t["officer"], "本周跟进公司")
    _follow_up(mine_week, t["officer"], "2026-06-15")
    mine_later = lead(t["officer"], "下月跟进公司")
    _follow_up(mine_later, t["officer"], "2026-07-15")
    replaced = lead(t["officer"], "已改期公司")  # an old plan replaced by a later activity
    _follow_up(replaced, t["officer"], "2026-04-01")
    _follow_up(replaced, t["officer"], "2026-06-30", occurred="2026-06-09")
    lost = _stage(lead(t["officer"], "已终止公司"), "lost")
    _follow_up(lost, t["officer"], "2026-05-01")
    colleagues = lead(t["colleague"], "同事逾期公司")
    _follow_up(colleagues, t["colleague"], "2026-05-15")
    other_unit = lead(t["other_officer"], "高唐逾期公司")
    _follow_up(other_unit, t["other_officer"], "2026-04-10")

    returned = _stage(lead(t["officer"], "退回补材料公司"), "returned")
    _closed_case(returned, ["用地红线图", "环评批复", "能评报告", "安全评价"])
    _stage(lead(t["colleague"], "同事退回公司"), "returned")
    _stage(lead(t["other_officer"], "高唐退回公司"), "returned")

    red = _stage(lead(t["officer"], "红灯公司", project_name="红灯项目"), "signed")
    _light(red, "red", [{"code": "milestone_late", "colour": "red",
                         "params": {"milestone": "start", "planned_on": "2026-02-01", "months": 3}},
                        {"code": "no_progress", "colour": "yellow", "params": {"last_on": "2026-01-01", "months": 2}}])
    yellow = _stage(lead(t["officer"], "黄灯公司", project_name="黄灯项目"), "started")
    _light(yellow, "yellow", [{"code": "problems_overdue", "colour": "yellow",
                               "params": {"count": 2, "earliest_due": "2026-05-01"}}])
    green = _stage(lead(t["officer"], "绿灯公司", project_name="绿灯项目"), "signed")
    _light(green, "green", [])
    colleague_red = _stage(lead(t["colleague"], "同事红灯公司", project_name="同事红灯项目"), "signed")
    _light(colleague_red, "red", [{"code": "not_started", "colour": "red",
                                   "params": {"planned_on": "2025-10-01", "months": 6}}])
    other_red = _stage(lead(t["other_officer"], "高唐红灯公司", project_name="高唐红灯项目"), "signed")
    _light(other_red, "red", [{"code": "not_started", "colour": "red",
                               "params": {"planned_on": "2025-10-01", "months": 6}}])

    _letter(red, t["unit"], kind="assignment", due="2026-06-20")           # waiting, not overdue
    _letter(yellow, t["unit"], kind="reminder", due="2026-06-05", acknowledged=True)  # overdue
    _letter(green, t["unit"], kind="reminder", due="2026-06-01", replied=True)        # answered
    _letter(other_red, t["other"], kind="supervision", milestone="project", due="2026-06-01")  # another unit

    _problem(red, t["unit"], "用地指标未落实", "2026-07-01")
    _problem(yellow, t["unit"], "电力增容迟迟未批", "2026-05-20")
    _problem(green, t["unit"], "已解决的道路问题", "2026-05-01", status="solved")
    _problem(other_red, t["other"], "高唐的供水问题", "2026-05-01")
    return t


# --- officers -------------------------------------------------------------------------------------

def test_home_shows_the_units_pipeline_counts_and_due_follow_ups(client, db_session):
    officer = factories.user()
    lead = factories.lead(owner=officer, company_name="待跟进的公司")
    add_activity(lead, officer, "call", TODAY, "电话沟通", TODAY + timedelta(days=3))
    factories.lead(owner=officer)
    factories.lead(unit_=officer.unit)  # a colleague's lead counts in the unit's pipeline
    factories.lead()  # another unit's does not
    client.login(officer)
    page = client.get("/").get_data(as_text=True)
    assert 'data-stage="lead">3<' in page
    assert "待跟进的公司" in _block(page, "home-follow-ups-week")


def test_officer_sees_own_follow_ups_overdue_first_then_this_week(client, desk):
    client.login(desk["officer"])
    page = client.get("/").get_data(as_text=True)
    overdue = _block(page, "home-follow-ups-overdue")
    week = _block(page, "home-follow-ups-week")
    assert _order(overdue, "四月逾期公司", "五月逾期公司") == ["四月逾期公司", "五月逾期公司"]
    assert "已逾期69天" in overdue  # 2 April → 10 June
    assert _order(week, "今天跟进公司", "本周跟进公司") == ["今天跟进公司", "本周跟进公司"]
    assert page.index('data-testid="home-follow-ups-overdue"') < page.index('data-testid="home-follow-ups-week"')
    assert 'data-testid="home-follow-ups-count">4<' in page
    for absent in ("下月跟进公司", "已改期公司", "已终止公司", "同事逾期公司", "高唐逾期公司"):
        assert absent not in overdue + week, absent
    assert 'href="/follow-ups"' in page
    assert "您的待办事项将显示在这里" not in page


def test_team_lead_sees_the_whole_units_follow_ups_and_no_other_unit(client, desk):
    client.login(desk["team_lead"])
    page = client.get("/").get_data(as_text=True)
    overdue = _block(page, "home-follow-ups-overdue")
    assert _order(overdue, "四月逾期公司", "同事逾期公司", "五月逾期公司") == ["四月逾期公司", "同事逾期公司", "五月逾期公司"]
    assert "李专员" in overdue  # whose follow-up it is
    assert "高唐逾期公司" not in page
    assert "本单位待跟进" in page


def test_officer_sees_returned_leads_with_the_notice(client, desk, make_client):
    client.login(desk["officer"])
    page = client.get("/").get_data(as_text=True)
    returned = _block(page, "home-returned")
    assert "退回补材料公司" in returned and "同事退回公司" not in returned and "高唐退回公司" not in page
    assert "/screening/cases/" in returned and "/notice" in returned
    assert "用地红线图" in returned and "安全评价" not in returned and "另有1项" in returned
    assert f"/leads?stage=returned&amp;owner_id={desk['officer'].id}" in page
    team_lead = make_client()
    team_lead.login(desk["team_lead"])
    returned = _block(team_lead.get("/").get_data(as_text=True), "home-returned")
    assert "退回补材料公司" in returned and "同事退回公司" in returned and "高唐退回公司" not in returned


def test_officer_sees_lit_projects_red_first_with_the_worst_reason(client, desk):
    client.login(desk["officer"])
    page = client.get("/").get_data(as_text=True)
    lights = _block(page, "home-lights")
    assert _order(lights, "黄灯项目", "红灯项目") == ["红灯项目", "黄灯项目"]
    assert "开工 计划 2026年2月1日，已逾期 129 天（超过 3 个月）" in lights  # the worst reason, in words
    assert "2026年1月1日" not in lights  # the milder reason of the red project is not the one shown
    assert "2 个问题已过办结期限（最早于 2026年5月1日 到期）" in lights
    for absent in ("绿灯项目", "同事红灯项目", "高唐红灯项目"):
        assert absent not in lights, absent
    counts = page.split('data-testid="home-lights-counts"')[1].split("</p>")[0]
    assert "/projects?colour=red" in counts and "/projects?colour=yellow" in counts


def test_officer_sees_the_units_letters_overdue_first_and_problems(client, desk):
    client.login(desk["officer"])
    page = client.get("/").get_data(as_text=True)
    letters = _block(page, "home-letters")
    assert _order(letters, "黄灯项目", "红灯项目") == ["黄灯项目", "红灯项目"]  # overdue first
    assert "绿灯项目" not in letters and "高唐红灯项目" not in letters
    assert 'data-testid="home-letters-count">2<' in page
    assert f'/units/{desk["unit"].id}/desk' in page
    problems = _block(page, "home-problems")
    assert _order(problems, "用地指标未落实", "电力增容迟迟未批") == ["电力增容迟迟未批", "用地指标未落实"]
    assert "已解决的道路问题" not in problems and "高唐的供水问题" not in problems
    assert 'data-testid="home-letters-overdue">1<' in page
    assert 'data-testid="home-problems-overdue"' in page
    assert f"/problems?unit_id={desk['unit'].id}" in page


def test_officer_of_another_unit_sees_none_of_it(client, desk):
    client.login(desk["other_officer"])
    page = client.get("/").get_data(as_text=True)
    for name in ("四月逾期公司", "退回补材料公司", ">红灯项目<", ">黄灯项目<", "用地指标未落实"):
        assert name not in page, name
    assert "高唐逾期公司" in page and "高唐红灯项目" in page and "高唐的供水问题" in page
    assert 'data-testid="home-cockpit"' not in page and 'data-testid="home-admin"' not in page


def test_the_full_follow_up_list(client, desk, make_client):
    client.login(desk["officer"])
    page = client.get("/follow-ups").get_data(as_text=True)
    assert _order(page, "四月逾期公司", "五月逾期公司", "今天跟进公司", "本周跟进公司") == [
        "四月逾期公司", "五月逾期公司", "今天跟进公司", "本周跟进公司"]
    assert "同事逾期公司" not in page and "高唐逾期公司" not in page and "下月跟进公司" not in page
    lead_client = make_client()
    lead_client.login(desk["team_lead"])
    assert "同事逾期公司" in lead_client.get("/follow-ups").get_data(as_text=True)
    for role in ("screener", "viewer", "leader", "admin"):
        other = make_client()
        other.login(factories.user(roles=[role]))
        assert other.get("/follow-ups").status_code == 403, role


def test_more_rows_than_the_block_shows_link_to_the_full_list(client, town):
    from crm.main.workbench import LIMIT

    for n in range(LIMIT + 3):
        _follow_up(factories.lead(owner=town["officer"], company_name=f"逾期公司{n:02d}"), town["officer"],
                   (TODAY - timedelta(days=30 - n)).isoformat())
    client.login(town["officer"])
    page = client.get("/").get_data(as_text=True)
    overdue = _block(page, "home-follow-ups-overdue")
    assert overdue.count("<li") == LIMIT and "逾期公司00" in overdue and f"逾期公司{LIMIT:02d}" not in overdue
    assert f'data-testid="home-follow-ups-count">{LIMIT + 3}<' in page
    full = client.get("/follow-ups").get_data(as_text=True)
    assert f"逾期公司{LIMIT + 2:02d}" in full


# --- screening liaisons ---------------------------------------------------------------------------

def test_screener_sees_cases_by_urgency_and_what_is_addressed_to_the_department(client, desk):
    dept = desk["dept"]
    later = _open_case(factories.negotiating_lead(company_name="后到期公司"), dept,
                       datetime(2026, 6, 12, 9, 30, tzinfo=timezone.utc))
    sooner = _open_case(factories.negotiating_lead(company_name="先到期公司"), dept,
                        datetime(2026, 6, 10, 9, 30, tzinfo=timezone.utc))
    _open_case(factories.negotiating_lead(company_name="别的局的公司"), factories.member_unit()[0],
               datetime(2026, 6, 10, 9, 30, tzinfo=timezone.utc))
    red = factories.lead(owner=desk["officer"], company_name="用地公司", project_name="用地项目")
    _letter(red, dept, kind="assignment", due="2026-06-09")
    _problem(red, dept, "土地报批卡在县局", "2026-06-30")
    client.login(desk["liaison"])
    page = client.get("/").get_data(as_text=True)
    cases = _block(page, "home-screening-todo")
    assert _order(cases, "后到期公司", "先到期公司") == ["先到期公司", "后到期公司"]
    assert "别的局的公司" not in page
    assert "剩余" in cases  # the time left
    assert f"/screening/cases/{sooner.id}" in cases and f"/screening/cases/{later.id}" in cases
    assert "用地项目" in _block(page, "home-letters") and "土地报批卡在县局" in _block(page, "home-problems")
    assert "用地指标未落实" not in page  # a problem of the town, not of the department
    assert 'data-testid="home-follow-ups"' not in page and 'data-testid="home-pipeline"' not in page
    assert "您的待办事项将显示在这里" not in page


# --- leaders and viewers --------------------------------------------------------------------------

def _fake_headline(monkeypatch, figures):
    import crm.dashboard.figures as module

    monkeypatch.setattr(module, "headline", lambda ctx: {"figures": figures} if figures is not None else {})


def test_leader_sees_votes_and_the_cockpit_summary(client, desk, monkeypatch):
    from crm.decisions.models import AgendaItem, Attendee, Meeting

    leader = factories.user(roles=["leader"])
    other_member = factories.user(roles=["leader"])
    lead = _stage(factories.lead(owner=desk["officer"], company_name="待表决公司"), "awaiting_decision")
    meeting = Meeting(title="第5次领导小组会议", meeting_on=TODAY, status="open")
    meeting.attendees = [Attendee(user_id=leader.id, present=True), Attendee(user_id=other_member.id, present=True)]
    meeting.items = [AgendaItem(lead_id=lead.id, position=1)]
    db.session.add(meeting)
    db.session.flush()
    seen = {}

    def headline(ctx):
        seen["ctx"] = ctx
        return {"figures": [
            {"key": "signed_amount", "label": "签约金额", "value": 12.34, "unit": "亿元",
             "how": "本期签约项目的协议投资额之和", "url": "/leads?reached=signed", "previous": 10.5},
            {"key": "signed", "label": "签约项目", "value": None, "unit": "个", "how": "本期签约的项目数",
             "url": None, "previous": None}]}

    import crm.dashboard.figures as module

    monkeypatch.setattr(module, "headline", headline)
    client.login(leader)
    page = client.get("/").get_data(as_text=True)
    assert "待表决公司" in _block(page, "home-pending-votes")
    figures = page.split('data-testid="home-figures"')[1]
    assert "签约金额" in figures and "12.34" in figures and "亿元" in figures and "10.5" in figures
    assert 'href="/leads?reached=signed"' in figures and "本期签约的项目数" in figures and "—" in figures
    assert 'href="/dashboard"' in page and 'href="/ranking"' in page
    ctx = seen["ctx"]
    assert (ctx.period.start, ctx.period.end) == (date(2026, 1, 1), date(2026, 12, 31))
    assert ctx.scope.unit_id is None and ctx.scope.chain_id is None and ctx.today == TODAY and ctx.user.id == leader.id
    for absent in ("四月逾期公司", "红灯项目", "用地指标未落实"):  # no unit desk for a leader
        assert absent not in page


@pytest.mark.parametrize("figures", [None, []])
def test_cockpit_summary_without_figures_renders_the_links_only(client, db_session, monkeypatch, figures):
    _fake_headline(monkeypatch, figures)
    client.login(factories.user(roles=["leader"]))
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-testid="home-cockpit"' in page and 'data-testid="home-figures"' not in page
    assert 'href="/dashboard"' in page and 'href="/ranking"' in page


def test_the_real_headline_placeholder_or_not_never_breaks_the_home_page(client, desk):
    client.login(factories.user(roles=["leader"]))
    assert client.get("/").status_code == 200


def test_a_viewer_lands_on_the_cockpit(client, db_session):
    client.login(factories.user(roles=["viewer"]))
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard")


def test_a_viewer_who_also_works_gets_the_workbench_with_the_summary(client, desk):
    both = factories.user(roles=["officer", "viewer"], unit_=desk["unit"])
    _follow_up(factories.lead(owner=both, company_name="兼任者的公司"), both, "2026-06-01")
    client.login(both)
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "兼任者的公司" in _block(page, "home-follow-ups-overdue")
    assert "四月逾期公司" not in page  # still an officer's own follow-ups only
    assert 'data-testid="home-cockpit"' in page


def test_officer_and_screener_gets_both_blocks(client, desk):
    both = factories.user(roles=["officer", "screener"], unit_=desk["dept"])
    _open_case(factories.negotiating_lead(company_name="兼任初审公司"), desk["dept"],
               datetime(2026, 6, 11, 9, 30, tzinfo=timezone.utc))
    _follow_up(factories.lead(owner=both, company_name="兼任跟进公司"), both, "2026-06-12")
    client.login(both)
    page = client.get("/").get_data(as_text=True)
    assert "兼任初审公司" in _block(page, "home-screening-todo")
    assert "兼任跟进公司" in _block(page, "home-follow-ups-week")


# --- administrators -------------------------------------------------------------------------------

def test_admin_sees_administration_and_not_the_countys_work(client, desk, monkeypatch):
    from crm.interchange.models import ImportBatch
    from crm.papers.services import save_settings

    _fake_headline(monkeypatch, None)
    admin = factories.user(roles=["admin"])
    now = datetime(2026, 6, 10, 2, tzinfo=timezone.utc)
    for name, status, created in (("坏文件.xlsx", "failed", now - timedelta(days=2)),
                                  ("待确认.xlsx", "previewed", now - timedelta(days=1)),
                                  ("旧的失败.xlsx", "failed", now - timedelta(days=90)),
                                  ("完成了.xlsx", "done", now)):
        db.session.add(ImportBatch(created_by_id=desk["officer"].id, unit_id=desk["unit"].id, filename=name,
                                   stored_path="/nonexistent", sha256="0" * 64, status=status, created_at=created))
    save_settings({"notice_issuer": "将乐县招商服务中心", "minutes_issuer": "", "letter_issuer": ""})
    db.session.flush()
    client.login(admin)
    page = client.get("/").get_data(as_text=True)
    admin_block = page.split('data-testid="home-admin"')[1].split("</section>")[0]
    assert 'data-task="imports"' in admin_block
    assert "坏文件.xlsx" in admin_block and "待确认.xlsx" in admin_block
    assert "旧的失败.xlsx" not in admin_block and "完成了.xlsx" not in admin_block
    assert 'data-task="scoring-sign"' in admin_block and 'data-task="scoring-land"' in admin_block
    papers = admin_block.split('data-task="papers"')[1].split("</li>")[0]
    assert "会议纪要" in papers and "函件" in papers and "一次性告知书" not in papers
    # Not the county's work: no follow-ups, returned leads, lights, letters, problems or pipeline.
    for name in ("四月逾期公司", "高唐逾期公司", "退回补材料公司", "红灯项目", "高唐红灯项目", "用地指标未落实"):
        assert name not in page, name
    for testid in ("home-follow-ups", "home-returned", "home-lights", "home-letters", "home-problems",
                   "home-pipeline"):
        assert f'data-testid="{testid}"' not in page, testid
    assert "一周内到期的跟进" not in page


def test_admin_with_nothing_to_do_is_told_so(client, db_session, monkeypatch):
    from crm.main import workbench

    monkeypatch.setattr(workbench, "admin_tasks", lambda user, today: [])
    _fake_headline(monkeypatch, None)
    client.login(factories.user(roles=["admin"]))
    page = client.get("/").get_data(as_text=True)
    assert "暂无需要管理员处理的事项" in page


def test_the_agenda_keeper_sees_the_units_proposals(client, desk, monkeypatch):
    from crm.decisions.models import Proposal

    _fake_headline(monkeypatch, None)
    lead = _stage(factories.lead(owner=desk["officer"], company_name="申请上会公司"), "awaiting_decision")
    db.session.add(Proposal(lead_id=lead.id, unit_id=desk["unit"].id, proposed_by_id=desk["officer"].id))
    db.session.flush()
    client.login(factories.user(roles=["admin"]))
    page = client.get("/").get_data(as_text=True)
    assert 'data-task="proposals"' in page and "1 个项目" in page


# --- bounded queries ------------------------------------------------------------------------------

def _home_queries(client) -> int:
    with recorded_statements() as seen:
        assert client.get("/").status_code == 200
    return len([s for s in seen if re.match(r"\s*SELECT", s, re.I)])


def test_the_number_of_queries_does_not_grow_with_the_rows(client, town):
    from crm.chains import services as chain_services

    t = town
    client.login(t["team_lead"])

    def add(n):
        chain = factories.chain(nodes=[f"环节{n}-{i}" for i in range(n)])
        for i in range(n):
            chain_services.save_target(None, {
                "node_id": chain.nodes[i].id, "company_name": f"目标企业{n}-{i}", "uscc": None, "location": None,
                "reason": "fill", "note": None, "priority": "high", "unit_id": t["unit"].id, "officer_id": None,
                "status": "not_contacted"}, None, confirmed=True)
            owner = t["officer"] if i % 2 else t["colleague"]
            lead = factories.lead(owner=owner, company_name=f"批量公司{n}-{i}", project_name=f"批量项目{n}-{i}")
            _follow_up(lead, owner, "2026-06-01")
            _stage(lead, "signed")
            _light(lead, "red", [{"code": "not_started", "colour": "red",
                                  "params": {"planned_on": "2025-10-01", "months": 6}}])
            _letter(lead, t["unit"], due="2026-06-01")
            _problem(lead, t["unit"], f"问题{n}-{i}", "2026-06-01")
            returned = _stage(factories.lead(owner=owner, company_name=f"退回公司{n}-{i}"), "returned")
            _closed_case(returned, ["材料甲"])

    add(1)
    few = _home_queries(client)
    add(8)
    many = _home_queries(client)
    assert many == few


def test_the_liaisons_and_leaders_queries_do_not_grow_either(client, make_client, town):
    from crm.decisions.models import AgendaItem, Attendee, Meeting

    dept = town["dept"]
    leader = factories.user(roles=["leader"])
    meeting = Meeting(title="第6次领导小组会议", meeting_on=TODAY, status="open")
    meeting.attendees = [Attendee(user_id=leader.id, present=True)]
    db.session.add(meeting)
    db.session.flush()
    meeting_id = meeting.id
    client.login(town["liaison"])
    member = make_client()
    member.login(leader)

    def add(n):
        for i in range(n):
            lead = factories.negotiating_lead(owner=town["officer"], company_name=f"初审公司{n}-{i}")
            _open_case(lead, dept, datetime(2026, 6, 11 + i % 3, 9, 30, tzinfo=timezone.utc))
            _letter(lead, dept, due="2026-06-01")
            _problem(lead, dept, f"部门问题{n}-{i}", "2026-06-01")
            db.session.add(AgendaItem(meeting_id=meeting_id, lead_id=lead.id, position=n * 10 + i))
        db.session.flush()

    add(1)
    few = (_home_queries(client), _home_queries(member))
    add(6)
    assert (_home_queries(client), _home_queries(member)) == few
