"""Words (issue 17): a deadline said one way everywhere; meetings and items in their own words;
同意 / 不同意 / 弃权 throughout the decision; shares as 过半数 / 三分之二以上; the agenda picker
(searchable, the longest waiting first, several at once)."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, update

from crm.extensions import db
from crm.notifications.models import Notification
from tests import factories


@pytest.fixture()
def zh(app, db_session):
    with app.test_request_context():
        yield


# --- deadlines -----------------------------------------------------------------------------------

DEADLINES = [  # (value, Chinese, English) — the weekdays counted by hand on a calendar
    (date(2026, 12, 9), "2026年12月9日（星期三）24:00 前", "by 24:00 on Wednesday 9 December 2026"),
    (date(2024, 10, 8), "2024年10月8日（星期二）24:00 前", "by 24:00 on Tuesday 8 October 2024"),
    (date(2025, 6, 22), "2025年6月22日（星期日）24:00 前", "by 24:00 on Sunday 22 June 2025"),
    ("2026-12-09", "2026年12月9日（星期三）24:00 前", "by 24:00 on Wednesday 9 December 2026"),
    ("2026年12月9日", "2026年12月9日（星期三）24:00 前", "by 24:00 on Wednesday 9 December 2026"),  # older params
    (datetime(2026, 12, 9, 15, 59, tzinfo=timezone.utc), "2026年12月9日（星期三）24:00 前",
     "by 24:00 on Wednesday 9 December 2026"),  # 23:59 in the county
    (None, "—", "—"),
    ("", "—", "—"),
    ("下周", "下周", "下周"),  # not a date: shown as it is, never guessed
]


@pytest.mark.parametrize(("value", "chinese", "english"), DEADLINES)
def test_a_deadline_is_the_end_of_its_day_with_the_weekday(app, db_session, value, chinese, english):
    from crm.formatting import deadline

    with app.test_request_context(headers={"Cookie": "lang=zh"}):
        assert deadline(value) == chinese
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        assert deadline(value) == english


def test_pre_screening_says_its_deadline_the_one_way(make_client, clock_at):
    """Submitted on the Friday before National Day 2024: due Tuesday 8 October, end of day."""
    from crm.notifications.messages import render
    from crm.screening import services

    fagai, screener = factories.member_unit("县发改局")
    services.set_member_units([fagai.id], {})
    officer = factories.user()
    lead = factories.negotiating_lead(owner=officer, company_name="福建永盛铝业有限公司")
    clock_at("2024-09-27T10:00:00+08:00")
    client = make_client()
    client.login(officer)
    sent = client.post(f"/screening/leads/{lead.id}/submit", {"unit_ids": [str(fagai.id)], "version": str(lead.version)},
                       follow_redirects=True).get_data(as_text=True)
    wanted = "2024年10月8日（星期二）24:00 前"
    assert f"成员单位将于{wanted}反馈" in sent
    due = sent.split('data-testid="due"', 1)[1].split("</dd>", 1)[0]
    assert wanted in due and "2024-10-08" not in due
    assert wanted in client.get("/screening/").get_data(as_text=True)
    liaison = make_client()
    liaison.login(screener)
    assert wanted in liaison.get("/screening/todo").get_data(as_text=True)
    asked = db.session.scalars(select(Notification).where(Notification.kind == "screening_asked")).one()
    with client.application.test_request_context():
        assert render(asked.kind, asked.params) == f"即时初审：福建永盛铝业有限公司 已提交贵单位审查，请于{wanted}反馈意见。"


def test_letters_say_the_reply_deadline_the_one_way(app, client, clock_at):
    from crm.letters.jobs import write_due_letters
    from crm.letters.models import Letter
    from crm.letters.paper import letter_content
    from crm.notifications.messages import render
    from crm.tracking.models import MilestonePlan

    unit = factories.unit("万全乡")
    officer = factories.user(unit_=unit)
    lead = factories.lead(owner=officer, company_name="福建永盛铝业有限公司", project_name="年产5万吨高端铝型材项目")
    lead.stage = "signed"
    db.session.add(MilestonePlan(lead_id=lead.id, milestone="start", planned_on=date(2025, 6, 20)))
    db.session.flush()
    clock_at("2025-06-10T02:00:00+08:00")  # a Tuesday: the reply is due five working days later
    with app.app_context():
        write_due_letters()
    letter = db.session.scalar(select(Letter).where(Letter.lead_id == lead.id))
    wanted = "2025年6月17日（星期二）24:00 前"
    with app.test_request_context():
        assert letter_content(letter).ask == f"请于{wanted}签收本函，并书面反馈工作进展。"
        told = db.session.scalars(select(Notification).where(Notification.kind.like("letter_%"))).first()
        assert f"于{wanted}反馈" in render(told.kind, told.params)
        # An older notification kept the date as 2025年6月17日: said the same way now.
        assert f"于{wanted}反馈" in render(told.kind, {**told.params, "due": "2025年6月17日"})
    client.login(factories.user(roles=("admin",)))
    page = client.get(f"/letters/{letter.id}").get_data(as_text=True)
    assert wanted in page.split('data-testid="reply-due"', 1)[1].split("</dd>", 1)[0]
    assert wanted in client.get("/letters").get_data(as_text=True)


def test_problems_say_the_due_date_the_one_way(app, client, clock_at):
    from crm.notifications.messages import render
    from crm.problems import services

    clock_at("2026-03-02T10:00:00+08:00")
    officer = factories.user()
    land = factories.unit("县自然资源局", kind="department")
    factories.user(roles=("screener",), unit_=land)  # the unit's liaison is told
    lead = factories.lead(owner=officer, company_name="福建永盛铝业有限公司")
    lead.stage = "admitted"
    db.session.flush()
    with app.test_request_context():
        problem = services.raise_problem(lead, officer, "land", "供地指标尚未落实", land.id, date(2026, 3, 20))
        told = db.session.scalars(select(Notification).where(Notification.kind == "problem_assigned")).first()
        assert "请于2026年3月20日（星期五）24:00 前解决" in render(told.kind, told.params)
        db.session.commit()  # as a request would (the test's savepoint): the rows outlive the context
    client.login(officer)
    assert "2026年3月20日（星期五）24:00 前" in client.get(f"/problems/{problem.id}").get_data(as_text=True)
    assert "2026年3月20日（星期五）24:00 前" in client.get("/problems").get_data(as_text=True)


# --- meetings, items, votes ------------------------------------------------------------------------

@pytest.fixture()
def group(db_session):
    from crm.decisions import services

    office = factories.unit("县政府办公室", kind="department")
    chair, second, third = (factories.user(roles=("leader",), unit_=office) for _ in range(3))
    services.set_membership([(chair.id, "县长、组长"), (second.id, "常务副县长"), (third.id, "副县长")], chair.id)
    organiser = factories.user(roles=("team_lead",))
    services.save_secretariat(organiser.unit_id)
    return {"chair": chair, "members": (chair, second, third), "organiser": organiser}


def awaiting(owner, days_ago=0, **fields):
    """A project awaiting the decision since `days_ago` days (its stage change dated so)."""
    from crm.leads.models import LeadStageChange
    from crm.leads.services import change_stage

    lead = factories.negotiating_lead(owner=owner, **fields)
    change_stage(lead, "screening", owner, workflow=True)
    change_stage(lead, "awaiting_decision", owner, workflow=True)
    moment = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc) - timedelta(days=days_ago)
    db.session.execute(update(LeadStageChange).where(LeadStageChange.lead_id == lead.id,
                                                     LeadStageChange.to_stage == "awaiting_decision")
                       .values(changed_at=moment))
    db.session.flush()
    return lead


def _as(make_client, user):
    client = make_client()
    client.login(user)
    return client


def _schedule(organiser):
    response = organiser.post("/decisions/meetings", {"title": "县招商引资工作领导小组第5次会议",
                                                      "meeting_on": "2026-11-25", "location": "县政府三楼会议室"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    from crm.decisions.models import Meeting

    return db.session.scalars(select(Meeting)).one()


def test_meetings_and_items_have_their_own_states_and_votes_their_words(make_client, group, clock_at):
    from crm.decisions.models import AgendaItem

    clock_at("2026-11-25T09:00:00+08:00")
    organiser = _as(make_client, group["organiser"])
    lead = awaiting(group["organiser"], company_name="福建永盛铝业有限公司")
    meeting = _schedule(organiser)
    assert organiser.post(f"/decisions/meetings/{meeting.id}/items", {"lead_id": str(lead.id)}).status_code == 302

    def states():
        page = organiser.get(f"/decisions/meetings/{meeting.id}").get_data(as_text=True)
        status = re.search(r'data-testid="meeting-status">([^<]*)<', page).group(1)
        items = re.findall(r'data-testid="item-status">([^<]*)<', page)
        listed = organiser.get("/decisions/").get_data(as_text=True)
        return status, items, page, listed

    status, items, page, listed = states()
    assert (status, items) == ("未开始", ["未开始"]) and "未开始" in listed and "2026年11月25日（星期三）" in page
    attendance = {f"attendance_{u.id}": "present" for u in group["members"]}
    assert organiser.post(f"/decisions/meetings/{meeting.id}/open", attendance).status_code == 302
    status, items, page, _listed = states()
    assert (status, items) == ("会议进行中", ["表决中"])
    chair, second, third = group["members"]
    item = db.session.scalars(select(AgendaItem)).one()
    voting = _as(make_client, second).get(f"/decisions/meetings/{meeting.id}").get_data(as_text=True)
    buttons = re.findall(r'<label class="form-check-label" for="choice-\d+-\w+">([^<]*)</label>', voting)
    assert buttons == ["同意", "不同意", "弃权", "回避（利益冲突）"]
    for user, choice in ((second, "approve"), (third, "reject"), (chair, "abstain")):
        assert _as(make_client, user).post(f"/decisions/items/{item.id}/vote", {"choice": choice}).status_code == 302
    chair_client = _as(make_client, chair)
    confirm = chair_client.get(f"/decisions/items/{item.id}/close").get_data(as_text=True)
    count = confirm.split('data-testid="close-count"', 1)[1].split("</table>", 1)[0]
    assert ["同意", "不同意", "弃权"] == [w for w in re.findall(r"<th>([^<]*)</th>", count) if w in ("同意", "不同意", "弃权")]
    version = re.search(r'name="confirmed_version"[^>]*value="(\d+)"', confirm).group(1)
    assert chair_client.post(f"/decisions/items/{item.id}/close", {"confirmed_version": version}).status_code == 302
    assert chair_client.post(f"/decisions/meetings/{meeting.id}/close").status_code == 302
    status, items, page, listed = states()
    assert status == "已结束" and items == ["不同意落地"] and "已结案" not in page and "已结案" not in listed
    tally = page.split('data-testid="tally"', 1)[1].split("</p>", 1)[0]
    assert "同意 1 票，不同意 1 票，弃权 1 票" in tally and "反对" not in page
    assert "不同意" in page.split('data-testid="member-lines"', 1)[1].split("</ul>", 1)[0]
    minutes = organiser.get(f"/decisions/meetings/{meeting.id}/minutes").get_data(as_text=True)
    assert "同意1票，不同意1票，弃权1票" in minutes and "反对" not in minutes


def test_no_decision_word_says_against_as_反对():
    """The catalogue's decision words are 同意 / 不同意 / 弃权, never 反对."""
    from babel.messages.pofile import read_po

    po = Path(__file__).resolve().parents[1] / "crm" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fh:
        catalog = read_po(fh)
    assert [m.id for m in catalog if m.string and "反对" in str(m.string)] == []


# --- shares ----------------------------------------------------------------------------------------

SHARES = [  # (the stored share, Chinese, English); "more than" is strict, as counting.decide counts
    ("0.5", "过半数", "more than half"),
    ("0.666", "三分之二以上", "at least two thirds"),     # > 0.666·n is ≥ 2/3·n for every group up to 99
    ("0.667", "超过三分之二", "more than two thirds"),
    ("0.75", "超过四分之三", "more than three quarters"),
    ("0.6", "超过五分之三", "more than three fifths"),
    ("0.4999", "半数以上", "at least half"),
    ("0.55", "超过 55%", "more than 55%"),
    ("0", "超过 0%", "more than 0%"),
]


@pytest.mark.parametrize(("share", "chinese", "english"), SHARES)
def test_shares_read_as_councils_say_them(app, db_session, share, chinese, english):
    from crm.decisions.counting import Count, Rules, decide
    from crm.formatting import share_words

    with app.test_request_context(headers={"Cookie": "lang=zh"}):
        assert share_words(Decimal(share)) == chinese
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        assert share_words(Decimal(share)) == english
    if chinese == "三分之二以上":  # the words are what the counting does, for every group size
        for members in range(1, 40):
            needed = decide(Count(members, members, 0, 0, 0, 0), Rules(pass_fraction=Decimal(share))).needed
            assert needed == -(-2 * members // 3)


def test_the_rules_are_shown_in_words_never_as_decimals(make_client, group, clock_at):
    clock_at("2026-11-25T09:00:00+08:00")
    organiser = _as(make_client, group["organiser"])
    lead = awaiting(group["organiser"])
    meeting = _schedule(organiser)
    organiser.post(f"/decisions/meetings/{meeting.id}/items", {"lead_id": str(lead.id)})
    attendance = {f"attendance_{u.id}": "present" for u in group["members"]}
    organiser.post(f"/decisions/meetings/{meeting.id}/open", attendance)
    rules = organiser.get(f"/decisions/meetings/{meeting.id}").get_data(as_text=True)
    rules = rules.split('data-testid="rules"', 1)[1].split("</p>", 1)[0]
    assert "3 名成员中过半数出席方可议事" in rules and "的过半数同意方为通过" in rules
    assert "0.5" not in rules and "超过 0" not in rules
    from crm.decisions.models import AgendaItem

    item = db.session.scalars(select(AgendaItem)).one()
    chair, second, third = group["members"]
    for user in (second, third, chair):
        _as(make_client, user).post(f"/decisions/items/{item.id}/vote", {"choice": "approve"})
    confirm = _as(make_client, chair).get(f"/decisions/items/{item.id}/close").get_data(as_text=True)
    assert "的过半数同意，即至少 2 票" in confirm and "0.5" not in confirm.split("<main", 1)[-1]
    admin = _as(make_client, factories.user(roles=("admin",)))
    settings = admin.get("/decisions/settings").get_data(as_text=True)
    assert "当前：过半数出席" in settings and "当前：过半数同意" in settings
    assert "0.666 即三分之二以上" in settings and "0.667 即超过三分之二" in settings


# --- the agenda picker ----------------------------------------------------------------------------------

def test_the_agenda_picker_lists_the_longest_waiting_first_and_adds_several_at_once(make_client, group, clock_at):
    from crm.decisions.models import AgendaItem

    clock_at("2026-11-20T10:00:00+08:00")
    owner = group["organiser"]
    recent = awaiting(owner, days_ago=2, company_name="三明市绿源生物科技有限公司")
    oldest = awaiting(owner, days_ago=40, company_name="福建永盛铝业有限公司")
    middle = awaiting(owner, days_ago=11, company_name="将乐县金森竹业有限公司")
    negotiating = factories.negotiating_lead(owner=owner, company_name="尚在洽谈的企业")
    organiser = _as(make_client, owner)
    meeting = _schedule(organiser)
    page = organiser.get(f"/decisions/meetings/{meeting.id}").get_data(as_text=True)
    picker = page.split('data-testid="add-item-form"', 1)[1].split("</form>", 1)[0]
    order = [int(v) for v in re.findall(r'name="lead_id" value="(\d+)"', picker)]
    assert order == [oldest.id, middle.id, recent.id] and negotiating.id not in order
    assert 'type="checkbox" name="lead_id"' in picker and "data-agenda-filter" in picker
    waiting = re.findall(r'data-testid="waiting">([^<]*)<', picker)
    assert waiting[0] == "已等待 40 天（自2026年10月11日起）" and waiting[2].startswith("已等待 2 天")
    assert 'data-search="福建永盛铝业有限公司' in picker
    assert "<script>" not in page and 'src="/static/js/agenda_picker.js"' in page
    assert re.search(r'<p class="small text-muted mb-0" hidden data-agenda-none>', picker)  # only when nothing matches
    assert 'data-testid="no-candidates"' not in page

    # Three at once; one of them refused (not awaiting the decision) is named with the reason.
    response = organiser.post(f"/decisions/meetings/{meeting.id}/items",
                              {"lead_id": [str(oldest.id), str(recent.id), str(negotiating.id)]},
                              follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "已列入议程：福建永盛铝业有限公司、三明市绿源生物科技有限公司。" in text
    assert "尚在洽谈的企业 未列入议程：只有待集体决策的项目" in text
    assert sorted(i.lead_id for i in db.session.scalars(select(AgendaItem))) == sorted([oldest.id, recent.id])
    left = organiser.get(f"/decisions/meetings/{meeting.id}").get_data(as_text=True)
    left = left.split('data-testid="add-item-form"', 1)[1].split("</form>", 1)[0]
    assert [int(v) for v in re.findall(r'name="lead_id" value="(\d+)"', left)] == [middle.id]
    assert organiser.post(f"/decisions/meetings/{meeting.id}/items", {"lead_id": str(middle.id)}).status_code == 302
    empty = organiser.get(f"/decisions/meetings/{meeting.id}").get_data(as_text=True)
    assert 'data-testid="add-item-form"' not in empty and 'data-testid="no-candidates"' in empty
    nothing = organiser.post(f"/decisions/meetings/{meeting.id}/items", {}, follow_redirects=True)
    assert "请选择项目" in nothing.get_data(as_text=True)


def test_the_agenda_pickers_script_is_a_static_file(client):
    script = client.get("/static/js/agenda_picker.js")
    assert script.status_code == 200
    body = script.get_data(as_text=True)
    assert "data-agenda-filter" in body and "data-agenda-choice" in body
