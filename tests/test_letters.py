"""三函 (衡东): the letter triggers (a table of cases on a fixed clock), once per project, milestone
and kind, 签收 / 反馈 with their refusals, the reply deadline in working days, the pages, the
official paper (printable and .docx) and the API."""
from __future__ import annotations

import io
from datetime import date, datetime, timezone

import pytest
from docx import Document
from sqlalchemy import func, select

from crm.extensions import db
from crm.letters import services
from crm.letters.jobs import write_due_letters
from crm.letters.models import PROJECT_KEY, Letter
from crm.lights.models import ProjectLight
from crm.notifications.models import Notification
from crm.papers.models import DocumentNumber
from crm.papers.services import save_settings
from crm.tracking.models import MilestoneActual, MilestonePlan
from tests import factories

TODAY = "2025-06-10T02:00:00+08:00"  # a Tuesday; the letters of this run are dated 2025年6月10日
D = date.fromisoformat


def _project(stage="signed", unit=None, officer=None, **fields):
    unit = unit or factories.unit()
    officer = officer or factories.user(unit_=unit)
    lead = factories.lead(owner=officer, project_name=fields.pop("project_name", "年产10万吨新材料项目"), **fields)
    lead.stage = stage
    db.session.flush()
    return lead


def _plan(lead, milestone, day, superseded=False):
    plan = MilestonePlan(lead_id=lead.id, milestone=milestone, planned_on=D(day),
                         superseded_at=datetime(2025, 1, 1, tzinfo=timezone.utc) if superseded else None)
    db.session.add(plan)
    db.session.flush()
    return plan


def _actual(lead, milestone, day):
    db.session.add(MilestoneActual(lead_id=lead.id, milestone=milestone, actual_on=D(day)))
    db.session.flush()


def _light(lead, colour, reasons=None):
    db.session.add(ProjectLight(lead_id=lead.id, colour=colour, since=D("2025-06-01"),
                                reasons=reasons if reasons is not None else [{"code": "milestone_late", "colour": colour,
                                                                               "params": {"months": 4}}]))
    db.session.flush()


def _run(app, clock_at, moment=TODAY):
    clock_at(moment)
    with app.app_context():
        return write_due_letters()


def _letters(lead):
    return {(l.kind, l.milestone) for l in db.session.scalars(select(Letter).where(Letter.lead_id == lead.id))}


# --- the triggers -------------------------------------------------------------------------------

def _setup(case, lead):
    """Each case sets up one project; the expected letters are listed with it."""
    kind, *args = case
    if kind == "plan":
        for milestone, day in args:
            _plan(lead, milestone, day)
    elif kind == "plan+actual":
        (milestone, day), actual = args
        _plan(lead, milestone, day)
        _actual(lead, milestone, actual)
    elif kind == "replanned":
        (milestone, old), new = args
        _plan(lead, milestone, old, superseded=True)
        _plan(lead, milestone, new)
    elif kind == "light":
        _light(lead, args[0])


TRIGGERS = [
    # (stage, setup, expected letters) — today is 2025-06-10; reminder 30 days before, assignment 15 days after
    ("signed", ("plan", ("start", "2025-07-10")), {("reminder", "start")}),             # exactly 30 days ahead
    ("signed", ("plan", ("start", "2025-07-11")), set()),                                # 31 days ahead: not yet
    ("signed", ("plan", ("start", "2025-06-11")), {("reminder", "start")}),             # tomorrow
    ("signed", ("plan", ("start", "2025-06-10")), set()),                                # today: no longer "before"
    ("signed", ("plan", ("start", "2025-05-27")), set()),                                # 14 days overdue: not yet
    ("signed", ("plan", ("start", "2025-05-26")), {("assignment", "start")}),           # 15 days overdue
    ("admitted", ("plan", ("start", "2024-01-01")), {("assignment", "start")}),         # long overdue
    ("signed", ("plan+actual", ("start", "2025-05-01"), "2025-05-20"), set()),          # started (actual recorded)
    ("signed", ("plan+actual", ("start", "2025-07-01"), "2025-06-01"), set()),          # started early
    ("started", ("plan", ("start", "2025-05-01")), set()),                               # the stage says started
    ("started", ("plan", ("produce", "2025-07-01")), {("reminder", "produce")}),
    ("completed", ("plan", ("produce", "2025-05-01")), {("assignment", "produce")}),
    ("producing", ("plan", ("produce", "2025-05-01")), set()),                           # already producing
    ("signed", ("plan", ("complete", "2025-06-20"), ("land", "2025-05-01")), set()),    # other milestones: no letter
    ("signed", ("plan", ("start", "2025-07-01"), ("produce", "2025-06-20")),
     {("reminder", "start"), ("reminder", "produce")}),
    ("signed", ("replanned", ("start", "2025-05-01"), "2025-12-01"), set()),            # the current plan counts
    ("signed", ("replanned", ("start", "2025-12-01"), "2025-06-20"), {("reminder", "start")}),
    ("lost", ("plan", ("start", "2025-05-01")), set()),                                  # terminated
    ("negotiating", ("plan", ("start", "2025-06-20")), set()),                           # not tracked yet
    ("above_scale", ("light", "red"), set()),                                            # past producing
    ("started", ("light", "red"), {("supervision", PROJECT_KEY)}),
    ("admitted", ("light", "red"), {("supervision", PROJECT_KEY)}),
    ("started", ("light", "yellow"), set()),
    ("started", ("light", "green"), set()),
    ("lost", ("light", "red"), set()),
]


@pytest.mark.parametrize("stage, setup, expected", TRIGGERS)
def test_letter_triggers(app, db_session, clock_at, stage, setup, expected):
    lead = _project(stage)
    _setup(setup, lead)
    _run(app, clock_at)
    assert _letters(lead) == expected


def test_thresholds_are_settings(app, db_session, clock_at):
    from crm.tracking.settings import save_settings as save_tracking

    save_tracking({"reminder_days_before": 10, "assignment_days_overdue": 5})
    near, far, late = _project(), _project(), _project()
    _plan(near, "start", "2025-06-20")
    _plan(far, "start", "2025-06-21")
    _plan(late, "start", "2025-06-05")
    _run(app, clock_at)
    assert (_letters(near), _letters(far), _letters(late)) == ({("reminder", "start")}, set(), {("assignment", "start")})


def test_a_letter_is_written_once_per_project_milestone_and_kind(app, db_session, clock_at):
    lead = _project()
    _plan(lead, "start", "2025-06-20")
    _light(lead, "red")
    assert _run(app, clock_at)["written"] == 2
    assert _run(app, clock_at)["written"] == 0                      # the job run twice: one letter each
    # Later: the reminder is not repeated, the start now overdue gets its assignment letter once.
    assert _run(app, clock_at, "2025-07-06T02:00:00+08:00")["written"] == 1
    assert _run(app, clock_at, "2025-07-07T02:00:00+08:00")["written"] == 0
    assert _letters(lead) == {("reminder", "start"), ("assignment", "start"), ("supervision", PROJECT_KEY)}


def test_the_unique_constraint_stops_a_concurrent_second_letter(app, db_session, clock_at):
    """Two runs that both found the letter due: the second one's insert is refused, not doubled."""
    from crm.letters.triggers import due_letters
    from crm.tracking.settings import peek_settings

    lead = _project()
    _plan(lead, "start", "2025-06-20")
    clock_at(TODAY)
    with app.app_context():
        due = due_letters(D("2025-06-10"), peek_settings())
        assert len(due) == 1
        first = services.write_letter(due[0], D("2025-06-10"), D("2025-06-17"))
        second = services.write_letter(due[0], D("2025-06-10"), D("2025-06-17"))
        assert first is not None and second is None
        assert db.session.scalar(select(func.count()).select_from(Letter).where(Letter.lead_id == lead.id)) == 1
        assert db.session.scalar(select(func.count()).select_from(DocumentNumber)
                                 .where(DocumentNumber.kind == "letter")) == 1


def test_a_batch_refused_by_a_concurrent_run_is_written_one_by_one(app, db_session, clock_at):
    from crm.letters.triggers import due_letters
    from crm.tracking.settings import peek_settings

    a, b = _project(), _project()
    _plan(a, "start", "2025-06-20")
    _plan(b, "start", "2025-06-21")
    clock_at(TODAY)
    with app.app_context():
        due = due_letters(D("2025-06-10"), peek_settings())
        services.write_letter(due[0], D("2025-06-10"), D("2025-06-17"))   # the other run was first
        made = services.write_letters(due, D("2025-06-10"), D("2025-06-17"))
        assert [(letter.lead_id, item.lead_id) for letter, item in made] == [(b.id, b.id)]
        numbers = db.session.scalars(select(DocumentNumber.number).where(DocumentNumber.kind == "letter")
                                     .order_by(DocumentNumber.number)).all()
        assert numbers == [1, 2]


def test_letters_are_addressed_numbered_dated_and_notified(app, db_session, clock_at):
    save_settings({"letter_issuer": "将乐县招商引资工作领导小组办公室", "letter_prefix": "将招函"})
    unit = factories.unit("万全乡")
    team_lead = factories.user(roles=["team_lead"], unit_=unit)
    officer = factories.user(unit_=unit)
    other_officer = factories.user(unit_=unit)
    a, b = _project(unit=unit, officer=officer), _project(unit=unit, officer=officer)
    _plan(a, "start", "2025-06-20")
    _plan(b, "produce", "2025-05-01")
    _run(app, clock_at)
    letters = db.session.scalars(select(Letter).order_by(Letter.id)).all()
    assert [(l.unit_id, l.issued_on, l.reply_due_on) for l in letters] == [
        (unit.id, D("2025-06-10"), D("2025-06-17"))] * 2               # 5 working days after Tue 10 June
    numbers = db.session.scalars(select(DocumentNumber.number).where(DocumentNumber.kind == "letter")
                                 .order_by(DocumentNumber.number)).all()
    assert numbers == [1, 2]                                            # one series for the three kinds
    notes = db.session.scalars(select(Notification).where(Notification.kind.like("letter_%"))).all()
    assert sorted((n.user_id, n.kind) for n in notes) == sorted(
        [(team_lead.id, "letter_reminder"), (officer.id, "letter_reminder"),
         (team_lead.id, "letter_assignment"), (officer.id, "letter_assignment")])
    assert other_officer.id not in {n.user_id for n in notes}
    assert all(n.params["number"].startswith("将招函〔2025〕") for n in notes)


def test_supervision_letter_carries_the_reasons_in_words(app, db_session, clock_at):
    lead = _project("started")
    _light(lead, "red", [{"code": "milestone_late", "colour": "red", "params": {"months": 4}},
                         {"code": "investment_behind", "colour": "red", "params": {"pct": 45}}])
    _run(app, clock_at)
    letter = db.session.scalar(select(Letter).where(Letter.lead_id == lead.id))
    assert letter.kind == "supervision" and letter.planned_on is None
    lines = letter.reasons.splitlines()
    assert len(lines) == 2 and all(line.strip() for line in lines)  # one line a reason, in words


# --- reply deadline by working days -------------------------------------------------------------

def test_reply_deadline_skips_national_day_and_counts_the_make_up_saturday(app, db_session, clock_at):
    """Written Tue 30 Sep 2025: 1–8 Oct are holidays, Sat 11 Oct is a make-up working day, so the
    5th working day is Tue 14 Oct; the reply is overdue from 15 Oct."""
    lead = _project()
    _plan(lead, "start", "2025-10-20")
    _run(app, clock_at, "2025-09-30T02:00:00+08:00")
    letter = db.session.scalar(select(Letter).where(Letter.lead_id == lead.id))
    assert letter.reply_due_on == D("2025-10-14")
    from crm.letters.queries import is_overdue, state_of

    assert not is_overdue(letter, D("2025-10-14")) and is_overdue(letter, D("2025-10-15"))
    assert state_of(letter, D("2025-10-15")) == "overdue"


def test_admin_holiday_table_decides_an_unknown_year(app, db_session, clock_at):
    from crm.screening.models import CalendarDay, CalendarYear

    db.session.add(CalendarYear(year=2027))
    db.session.add(CalendarDay(day=D("2027-01-01"), is_workday=False, name="元旦"))
    db.session.flush()
    lead = _project()
    _plan(lead, "start", "2027-01-20")
    _run(app, clock_at, "2026-12-31T02:00:00+08:00")  # Thu; 1 Jan holiday, weekend 2–3 Jan
    letter = db.session.scalar(select(Letter).where(Letter.lead_id == lead.id))
    assert letter.reply_due_on == D("2027-01-08")


def test_unknown_year_writes_nothing_and_tells_the_admins(app, db_session, clock_at):
    admin = factories.user(roles=["admin"])
    lead = _project()
    _plan(lead, "start", "2027-01-20")
    result = _run(app, clock_at, "2026-12-31T02:00:00+08:00")
    assert result["written"] == 0 and result["no_calendar"] == 2027
    assert _letters(lead) == set()
    assert db.session.scalar(select(Notification).where(Notification.user_id == admin.id)).kind == "letters_no_calendar"


# --- 签收 / 反馈 ---------------------------------------------------------------------------------

@pytest.fixture()
def letter(app, db_session, clock_at):
    unit = factories.unit("万全乡")
    lead = _project(unit=unit, company_name="福建永盛铝业有限公司", project_name="年产5万吨高端铝型材项目")
    _plan(lead, "start", "2025-06-20")
    _run(app, clock_at)
    return db.session.scalar(select(Letter).where(Letter.lead_id == lead.id))


def test_acknowledge_records_who_and_when_and_twice_is_refused(client, letter, clock_at):
    responder = factories.user(roles=["officer"], unit_=letter.unit)
    client.login(responder)
    clock_at("2025-06-11T09:00:00+08:00")
    response = client.post(f"/letters/{letter.id}/acknowledge")
    assert response.status_code == 302
    stored = factories.reload(letter)
    assert stored.acknowledged_by_id == responder.id
    assert stored.acknowledged_at == datetime(2025, 6, 11, 1, 0, tzinfo=timezone.utc)
    colleague = factories.user(roles=["team_lead"], unit_=letter.unit)
    client.post("/logout")
    client.login(colleague)
    page = client.post(f"/letters/{letter.id}/acknowledge", follow_redirects=True).get_data(as_text=True)
    assert "已由" in page and "签收" in page                     # 该函件已由…于2025年6月11日签收
    assert factories.reload(letter).acknowledged_by_id == responder.id


@pytest.mark.parametrize("roles, same_unit, status", [
    (["officer"], False, 403),      # another unit's officer
    (["screener"], False, 403),     # another unit's liaison
    (["viewer"], False, 403),       # reads every letter, answers none
    (["leader"], False, 403),
])
def test_only_the_addressed_unit_acknowledges(client, letter, roles, same_unit, status):
    user = factories.user(roles=roles, unit_=letter.unit if same_unit else factories.unit())
    client.login(user)
    assert client.post(f"/letters/{letter.id}/acknowledge").status_code == status
    assert client.post(f"/letters/{letter.id}/reply", {"reply": "已开工"}).status_code == status
    assert factories.reload(letter).acknowledged_at is None


def test_a_department_liaison_of_the_addressed_unit_answers_with_minimum_project_info(client, letter):
    """Addressed to a department (the project moved there): its liaison reads no lead, answers the letter."""
    liaison = factories.user(roles=["screener"], unit_=letter.unit)
    client.login(liaison)
    page = client.get(f"/letters/{letter.id}").get_data(as_text=True)
    assert "年产5万吨高端铝型材项目" in page and "福建永盛铝业有限公司" in page
    assert f"/projects/{letter.lead_id}" not in page                    # no way into the project
    assert client.get(f"/projects/{letter.lead_id}").status_code == 403
    assert client.post(f"/letters/{letter.id}/acknowledge").status_code == 302


def test_reply_acknowledges_implicitly_and_twice_is_refused(client, letter, clock_at):
    responder = factories.user(roles=["officer"], unit_=letter.unit)
    client.login(responder)
    clock_at("2025-06-12T10:00:00+08:00")
    assert client.post(f"/letters/{letter.id}/reply", {"reply": "施工许可已办结，6月18日开工。"}).status_code == 302
    stored = factories.reload(letter)
    assert (stored.reply, stored.replied_by_id, stored.replied_on) == ("施工许可已办结，6月18日开工。", responder.id,
                                                                      D("2025-06-12"))
    assert stored.acknowledged_by_id == responder.id and stored.acknowledged_at == stored.replied_at
    again = client.post(f"/letters/{letter.id}/reply", {"reply": "补充"})
    assert again.status_code == 400 and "不能重复反馈" in again.get_data(as_text=True)
    assert client.post(f"/letters/{letter.id}/acknowledge", follow_redirects=True).status_code == 200
    assert factories.reload(letter).reply == "施工许可已办结，6月18日开工。"


@pytest.mark.parametrize("text, message", [
    ("", "请在反馈中填写项目进展情况"),
    ("   ", "请在反馈中填写项目进展情况"),
    ("x" * 4001, "4000"),
    ("进展\x00", "NUL"),
])
def test_bad_replies_are_refused_with_a_clear_message(client, letter, text, message):
    client.login(factories.user(roles=["officer"], unit_=letter.unit))
    response = client.post(f"/letters/{letter.id}/reply", {"reply": text})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert factories.reload(letter).replied_at is None


# --- pages --------------------------------------------------------------------------------------

def test_letter_list_filters_and_counts_overdue(client, app, db_session, clock_at):
    unit = factories.unit()
    a, b, c = (_project(unit=unit) for _ in range(3))
    _plan(a, "start", "2025-06-20")
    _plan(b, "start", "2025-05-01")
    _light(c, "red")
    _run(app, clock_at)
    other = _project()
    _plan(other, "start", "2025-06-20")
    _run(app, clock_at)
    responder = factories.user(roles=["officer"], unit_=unit)
    client.login(responder)
    clock_at("2025-06-30T09:00:00+08:00")                               # every reply is overdue by now
    first = db.session.scalar(select(Letter).where(Letter.lead_id == a.id))
    client.post(f"/letters/{first.id}/reply", {"reply": "已开工"})
    page = client.get("/letters").get_data(as_text=True)
    assert page.count('data-letter="') == 3                             # own unit's only
    assert '<span data-testid="overdue-count">2</span>' in page
    assert client.get("/letters?state=overdue").get_data(as_text=True).count('data-letter="') == 2
    assert client.get("/letters?state=answered").get_data(as_text=True).count('data-letter="') == 1
    assert client.get("/letters?kind=supervision").get_data(as_text=True).count('data-letter="') == 1
    assert client.get("/letters?kind=bogus&state=bogus&cursor=x.y.z").status_code == 200
    client.post("/logout")
    client.login(factories.user(roles=["viewer"]))
    assert client.get("/letters").get_data(as_text=True).count('data-letter="') == 4   # LEADS_READ_ALL: all


def test_the_list_pages_by_keyset_overdue_first_then_newest(app, db_session, clock_at):
    from crm.letters.queries import letter_page

    unit = factories.unit()
    leads = [_project(unit=unit) for _ in range(5)]
    for n, lead in enumerate(leads):  # written on five nights, one letter each
        _plan(lead, "start", "2025-06-20")
        _run(app, clock_at, f"2025-06-0{n + 1}T02:00:00+08:00")
    viewer = factories.user(roles=["viewer"])
    # 5 working days (端午 31 May–2 June off): the letters of 1 and 2 June are due 9 June, of 3 June
    # the 10th, of 4 June the 11th, of 5 June the 12th; on 11 June the first three are overdue.
    clock_at("2025-06-11T09:00:00+08:00")
    with app.app_context():
        seen, cursor = [], None
        while True:
            page = letter_page(viewer, D("2025-06-11"), cursor=cursor, per_page=2)
            seen += [letter.issued_on.day for letter in page.letters]
            cursor = page.next_cursor
            if cursor is None:
                break
    assert page.total == 5
    assert seen == [3, 2, 1, 5, 4]  # the overdue ones first, each group newest first


@pytest.mark.parametrize("roles, own_unit, status", [
    (["officer"], True, 200), (["team_lead"], True, 200), (["screener"], True, 200),
    (["viewer"], False, 200), (["leader"], False, 200), (["admin"], False, 200),
    (["officer"], False, 403), (["screener"], False, 403),
])
def test_who_opens_a_letter_and_its_paper(client, letter, roles, own_unit, status):
    client.login(factories.user(roles=roles, unit_=letter.unit if own_unit else factories.unit()))
    for path in ("", "/paper", "/paper.docx"):
        assert client.get(f"/letters/{letter.id}{path}").status_code == status


def test_panels_on_the_project_page_and_the_unit_desk(client, app, letter, clock_at):
    officer = factories.user(roles=["officer"], unit_=letter.unit)
    client.login(officer)
    project = client.get(f"/projects/{letter.lead_id}").get_data(as_text=True)
    assert 'data-panel="letters"' in project and f"/letters/{letter.id}" in project
    clock_at("2025-06-30T09:00:00+08:00")
    desk = client.get(f"/units/{letter.unit_id}/desk").get_data(as_text=True)
    assert 'data-testid="unit-overdue-count"' in desk and f'data-letter="{letter.id}"' in desk


def test_the_printable_letter_and_the_word_file_carry_the_number(client, letter):
    save_settings({"letter_issuer": "将乐县招商引资工作领导小组办公室", "letter_prefix": "将招函"})
    db.session.flush()
    client.login(factories.user(roles=["officer"], unit_=letter.unit))
    page = client.get(f"/letters/{letter.id}/paper").get_data(as_text=True)
    assert "将招函〔2025〕1号" in page
    assert "关于年产5万吨高端铝型材项目开工的提醒函" in page
    assert "2025年6月10日" in page and "2025年6月17日" in page          # dated; reply by
    assert "万全乡：" in page
    response = client.get(f"/letters/{letter.id}/paper.docx")
    assert response.status_code == 200
    doc = Document(io.BytesIO(response.data))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "将招函〔2025〕1号" in text and "关于年产5万吨高端铝型材项目开工的提醒函" in text.replace("\n", "")
    assert "将乐县招商引资工作领导小组办公室" in text and "万全乡：" in text


def test_papers_settings_form_has_the_letter_issuer_and_prefix(client):
    client.login(factories.user(roles=["admin"]))
    response = client.post("/papers/settings", {"letter_issuer": "将乐县招商引资工作领导小组办公室",
                                                "letter_prefix": "将招函"})
    assert response.status_code == 302
    assert client.post("/papers/settings", {"letter_prefix": "将招函〔2026〕"}).status_code == 400
    from crm.papers.models import PaperSettings

    db.session.expire_all()
    assert db.session.get(PaperSettings, 1).letter_prefix == "将招函"


# --- API ----------------------------------------------------------------------------------------

def _token(user):
    from crm.auth.services import issue_api_token

    _t, raw = issue_api_token(user, "test", 30)
    return {"Authorization": f"Bearer {raw}"}


def test_api_lists_reads_acknowledges_and_replies(client, letter):
    responder = factories.user(roles=["officer"], unit_=letter.unit)
    headers = _token(responder)
    listed = client.get("/api/v1/letters?state=to_acknowledge", headers=headers).get_json()
    assert [item["id"] for item in listed["items"]] == [letter.id] and listed["counts"]["to_acknowledge"] == 1
    one = client.get(f"/api/v1/letters/{letter.id}", headers=headers).get_json()
    assert one["number"] == "〔2025〕1号" and one["state"] == "to_acknowledge" and one["kind"] == "reminder"
    assert client.post(f"/api/v1/letters/{letter.id}/acknowledge", headers=headers).get_json()["state"] == "to_reply"
    twice = client.post(f"/api/v1/letters/{letter.id}/acknowledge", headers=headers)
    assert twice.status_code == 409
    empty = client.post(f"/api/v1/letters/{letter.id}/reply", headers=headers, json={"reply": "  "})
    assert empty.status_code == 422 and "reply" in empty.get_json()["error"]["fields"]
    answered = client.post(f"/api/v1/letters/{letter.id}/reply", headers=headers, json={"reply": "已开工"})
    assert answered.status_code == 200 and answered.get_json()["state"] == "answered"
    assert client.get("/api/v1/letters?kind=bogus", headers=headers).status_code == 422
    assert client.get("/api/v1/letters?cursor=1.2025-13-01.5", headers=headers).status_code == 422


def test_api_refuses_another_unit_and_hides_the_project_from_liaisons(client, letter):
    unit = letter.unit
    stranger = _token(factories.user(roles=["officer"]))
    assert client.post(f"/api/v1/letters/{letter.id}/acknowledge", headers=stranger).status_code == 403
    assert client.get(f"/api/v1/letters/{letter.id}", headers=stranger).status_code == 403
    assert client.get("/api/v1/letters", headers=stranger).get_json()["items"] == []
    liaison = _token(factories.user(roles=["screener"], unit_=unit))
    seen = client.get(f"/api/v1/letters/{letter.id}", headers=liaison).get_json()
    assert seen["lead_id"] is None and seen["company_name"] == "福建永盛铝业有限公司"
    assert client.get("/api/v1/letters/999999", headers=liaison).status_code == 404
