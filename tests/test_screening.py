"""The three-day instant pre-screening: submitting, opinions, closing, the notice, settings."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from crm.audit.models import AuditEntry
from crm.extensions import db
from crm.notifications.models import Notification
from crm.screening import services
from crm.screening.indicators import Thresholds, compute
from crm.screening.models import (CaseUnit, ScreeningCase, ScreeningOpinion, ScreeningThreshold)
from tests import factories

FRIDAY_BEFORE_NATIONAL_DAY = "2024-09-27T10:00:00+08:00"  # 2024: Oct 1–7 off, Sep 29 and Oct 12 worked


@pytest.fixture()
def county(db_session):
    """An officer's lead in negotiation and two member units with their screeners."""
    fagai, fagai_screener = factories.member_unit("县发改局")
    ziran, ziran_screener = factories.member_unit("县自然资源局")
    services.set_member_units([fagai.id, ziran.id], {})
    officer = factories.user()
    lead = factories.negotiating_lead(owner=officer, company_name="福建永盛铝业有限公司",
                                      planned_investment_wan=Decimal("50000"))
    return {"officer": officer, "lead": lead, "units": (fagai, ziran),
            "screeners": (fagai_screener, ziran_screener)}


def _submit(client, lead, unit_ids, **extra):
    return client.post(f"/screening/leads/{lead.id}/submit",
                       {"unit_ids": [str(u) for u in unit_ids], "version": str(lead.version), **extra})


def _case_of(lead) -> ScreeningCase:
    db.session.expire_all()
    return db.session.scalars(select(ScreeningCase).where(ScreeningCase.lead_id == lead.id)
                              .order_by(ScreeningCase.round.desc())).first()


def _open_case(client, county, clock_at, moment=FRIDAY_BEFORE_NATIONAL_DAY):
    clock_at(moment)
    client.login(county["officer"])
    response = _submit(client, county["lead"], [u.id for u in county["units"]])
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return _case_of(county["lead"])


def _answer(make_client, screener, case, **form):
    c = make_client()
    c.login(screener)
    return c.post(f"/screening/cases/{case.id}/opinion", factories.opinion_form(**form))


# --- submitting -------------------------------------------------------------------------------

def test_officer_submits_and_the_deadline_skips_national_day(client, county, clock_at):
    case = _open_case(client, county, clock_at)
    # Working days after Fri 2024-09-27: Sun 29 (make-up), Mon 30, then Tue Oct 8.
    assert case.due_on == date(2024, 10, 8)
    assert case.due_at == datetime(2024, 10, 8, 16, 0, tzinfo=timezone.utc)  # 24:00 Beijing time
    assert {cu.unit_id for cu in case.units} == {u.id for u in county["units"]}
    assert case.submitted_by_id == county["officer"].id and case.round == 1
    assert factories.reload(county["lead"]).stage == "screening"
    page = client.get(f"/screening/cases/{case.id}").get_data(as_text=True)
    assert "2024年10月8日（星期二）24:00 前" in page and "县发改局" in page  # the end of the day, one way
    told = db.session.scalars(select(Notification.user_id).where(Notification.kind == "screening_asked")).all()
    assert sorted(told) == sorted(s.id for s in county["screeners"])
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.entity_type == "screening_cases", AuditEntry.entity_id == case.id)) >= 1


def test_calendar_day_setting_counts_plain_days(client, county, clock_at):
    services.get_settings().working_days = False
    case = _open_case(client, county, clock_at)
    assert case.due_on == date(2024, 9, 30) and not case.working_days


def test_units_can_be_changed_before_sending(client, county, clock_at):
    clock_at(FRIDAY_BEFORE_NATIONAL_DAY)
    client.login(county["officer"])
    form = client.get(f"/screening/leads/{county['lead'].id}/submit").get_data(as_text=True)
    assert 'checked' in form and "县自然资源局" in form  # the defaults are pre-ticked
    extra, _s = factories.member_unit("县应急管理局")
    assert _submit(client, county["lead"], [county["units"][0].id, extra.id]).status_code == 302
    assert {cu.unit.name for cu in _case_of(county["lead"]).units} == {"县发改局", "县应急管理局"}


def test_chain_extra_units_are_asked_by_default(county):
    chain = factories.chain("精细化工")
    env, _s = factories.member_unit("生态环境局")
    services.set_member_units([county["units"][0].id], {chain.id: [env.id]})
    lead = factories.negotiating_lead(chain_id=chain.id)
    assert [u.name for u in services.member_units_for(lead)] == sorted(["县发改局", "生态环境局"])


@pytest.mark.parametrize("stage", ["lead", "awaiting_decision"])
def test_only_leads_in_negotiation_can_be_submitted(client, county, clock_at, stage):
    lead = factories.lead(owner=county["officer"])
    if stage == "awaiting_decision":
        from crm.leads.services import change_stage
        change_stage(lead, "negotiating", lead.owner)
        change_stage(lead, "screening", lead.owner, workflow=True)
        change_stage(lead, "awaiting_decision", lead.owner, workflow=True)
    clock_at(FRIDAY_BEFORE_NATIONAL_DAY)
    client.login(county["officer"])
    response = _submit(client, lead, [county["units"][0].id])
    assert response.status_code == 400
    assert "只有洽谈中" in response.get_data(as_text=True)
    assert _case_of(lead) is None and factories.reload(lead).stage == stage


def test_a_lead_already_in_screening_is_not_submitted_twice(client, county, clock_at):
    case_id = _open_case(client, county, clock_at).id
    again = _submit(client, factories.reload(county["lead"]), [county["units"][0].id])
    assert again.status_code == 409
    assert "已在即时初审中" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ScreeningCase)) == 1
    assert _case_of(county["lead"]).id == case_id


def test_manual_moves_into_screening_are_refused(client, county):
    client.login(county["officer"])
    lead = county["lead"]
    response = client.post(f"/leads/{lead.id}/stage", {"to_stage": "screening", "version": lead.version})
    assert response.status_code == 400 and factories.reload(lead).stage == "negotiating"


def test_due_date_in_an_unknown_year_is_flagged_not_guessed(client, county, clock_at, make_client):
    admin = factories.user(roles=("admin",))
    # Wed 2026-12-30: the third working day lies in 2027, which the package does not know.
    case = _open_case(client, county, clock_at, "2026-12-30T10:00:00+08:00")
    assert case.due_on is None and case.due_at is None and case.due_problem_year == 2027
    page = client.get(f"/screening/cases/{case.id}").get_data(as_text=True)
    assert "2027 年的节假日安排尚未录入" in page
    warned = db.session.scalars(select(Notification).where(Notification.user_id == admin.id)).all()
    assert [n.kind for n in warned] == ["screening_no_calendar"]
    # The admin enters New Year's Day 2027 and marks the year complete: the deadline appears.
    admin_client = make_client()
    admin_client.login(admin)
    assert "2027" in admin_client.get("/screening/calendar").get_data(as_text=True)
    assert admin_client.post("/screening/calendar", {"day-day": "2027-01-01", "day-is_workday": "0",
                                                     "day-name": "元旦", "day-submit": "1"}).status_code == 302
    assert admin_client.post("/screening/calendar/confirm", {"year-year": "2027", "year-confirm": "y",
                                                             "year-submit": "1"}).status_code == 302
    case = _case_of(county["lead"])
    # Thu Dec 31, then Jan 1 (holiday) and the weekend are skipped: Mon Jan 4, Tue Jan 5.
    assert case.due_on == date(2027, 1, 5) and case.due_problem_year is None


def test_confirming_a_year_needs_the_tick(client, db_session):
    admin = factories.user(roles=("admin",))
    client.login(admin)
    response = client.post("/screening/calendar/confirm", {"year-year": "2027", "year-submit": "1"},
                           follow_redirects=True)
    assert "请勾选" in response.get_data(as_text=True)
    assert services.load_calendar().knows(2027) is False


# --- opinions ---------------------------------------------------------------------------------

def test_screener_sees_the_case_in_their_to_do_list(client, county, clock_at, make_client):
    case = _open_case(client, county, clock_at)
    screener = make_client()
    screener.login(county["screeners"][0])
    todo = screener.get("/screening/todo").get_data(as_text=True)
    assert "福建永盛铝业有限公司" in todo and f"/screening/cases/{case.id}" in todo
    home = screener.get("/").get_data(as_text=True)
    assert "待本单位反馈的即时初审案件" in home and "福建永盛铝业有限公司" in home


def test_opinions_close_the_case_and_merge_the_notice(client, county, clock_at, make_client):
    case = _open_case(client, county, clock_at)
    fagai, ziran = county["screeners"]
    clock_at("2024-09-29T11:00:00+08:00")
    assert _answer(make_client, fagai, case, verdict="conditional",
                   materials=["项目可行性研究报告", "环境影响初步分析"]).status_code == 302
    assert _case_of(county["lead"]).status == "open"
    assert _answer(make_client, ziran, case, verdict="approve",
                   materials=["项目可行性研究报告。", "项目用地需求说明及总平面布置图"]).status_code == 302
    case = _case_of(county["lead"])
    assert case.status == "closed" and case.result == "conditional" and not case.closed_by_deadline
    assert case.notice_items == [
        {"item": "项目可行性研究报告", "units": ["县发改局", "县自然资源局"]},
        {"item": "环境影响初步分析", "units": ["县发改局"]},
        {"item": "项目用地需求说明及总平面布置图", "units": ["县自然资源局"]}]
    assert factories.reload(county["lead"]).stage == "returned"  # materials first
    notice = client.get(f"/screening/cases/{case.id}/notice").get_data(as_text=True)
    assert notice.count("项目可行性研究报告") == 1 and "县发改局、县自然资源局" in notice
    docx = client.get(f"/screening/cases/{case.id}/notice.docx")
    assert docx.status_code == 200 and docx.data[:2] == b"PK"


def test_all_approve_without_materials_goes_to_the_leadership(client, county, clock_at, make_client):
    case = _open_case(client, county, clock_at)
    for screener in county["screeners"]:
        assert _answer(make_client, screener, case, verdict="approve").status_code == 302
    case = _case_of(county["lead"])
    assert case.result == "pass" and case.notice_items == []
    assert factories.reload(county["lead"]).stage == "awaiting_decision"


def test_a_reject_fails_the_case_with_its_reasons(client, county, clock_at, make_client):
    case = _open_case(client, county, clock_at)
    fagai, ziran = county["screeners"]
    assert _answer(make_client, fagai, case, verdict="reject").status_code == 400  # reasons required
    assert _answer(make_client, fagai, case, verdict="reject",
                   comment="项目属于《产业结构调整指导目录》限制类").status_code == 302
    assert _answer(make_client, ziran, case, verdict="approve").status_code == 302
    case = _case_of(county["lead"])
    assert case.result == "fail" and factories.reload(county["lead"]).stage == "returned"
    assert "限制类" in client.get(f"/screening/cases/{case.id}/notice").get_data(as_text=True)


@pytest.mark.parametrize("verdicts, expected", [
    (["approve", "approve"], "pass"), (["approve", "conditional"], "conditional"),
    (["conditional", "reject"], "fail"), ([], "conditional")])
def test_consolidation_rules(county, verdicts, expected):
    case = ScreeningCase(lead=county["lead"], round=1, submitted_at=datetime.now(timezone.utc))
    case.units = [CaseUnit(unit=u, unit_id=u.id) for u in county["units"]]
    case.opinions = [ScreeningOpinion(unit_id=u.id, version=1, verdict=v, materials=[])
                     for u, v in zip(county["units"], verdicts)]
    assert services.consolidate(case)[0] == expected


def test_a_unit_not_asked_cannot_answer(client, county, clock_at, make_client):
    case = _open_case(client, county, clock_at)
    _other, outsider = factories.member_unit("县林业局")
    assert _answer(make_client, outsider, case).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(ScreeningOpinion)) == 0
    officer_client = make_client()
    officer_client.login(county["officer"])
    assert officer_client.post(f"/screening/cases/{case.id}/opinion",
                               factories.opinion_form()).status_code == 403


def test_two_answers_at_the_same_moment_keep_one_and_tell_the_other(client, county, clock_at, make_client):
    case = _open_case(client, county, clock_at)
    colleague = factories.user(roles=("screener",), unit_=county["units"][0])
    # Both opened the empty form (version 0); the first to send wins.
    assert _answer(make_client, county["screeners"][0], case, version=0).status_code == 302
    second = _answer(make_client, colleague, case, version=0, verdict="reject", comment="不同意")
    assert second.status_code == 409
    assert "同一时刻" in second.get_data(as_text=True) or "您填写期间" in second.get_data(as_text=True)
    opinions = db.session.scalars(select(ScreeningOpinion)).all()
    assert [(o.version, o.verdict) for o in opinions] == [(1, "approve")]


def test_the_database_keeps_one_opinion_per_version(app, county, clock_at):
    clock_at(FRIDAY_BEFORE_NATIONAL_DAY)
    with app.test_request_context():  # the session lives as long as this context
        case = services.submit(county["lead"], county["officer"], [county["units"][0].id])
        row = dict(case_id=case.id, unit_id=county["units"][0].id, version=1, verdict="approve", materials=[],
                   submitted_at=datetime.now(timezone.utc),
                   **{f"rating_{d}": 3 for d in ("scale", "intensity", "tech", "prospects", "compliance")})
        db.session.add(ScreeningOpinion(**row))
        db.session.flush()
        with pytest.raises(IntegrityError):
            with db.session.begin_nested():
                db.session.add(ScreeningOpinion(**row))
                db.session.flush()


def test_amending_keeps_every_version(client, county, clock_at, make_client):
    case = _open_case(client, county, clock_at)
    fagai = county["screeners"][0]
    assert _answer(make_client, fagai, case, verdict="conditional", materials=["安全生产条件分析"]).status_code == 302
    assert _answer(make_client, fagai, case, verdict="approve", version=1).status_code == 302
    versions = db.session.scalars(select(ScreeningOpinion).order_by(ScreeningOpinion.version)).all()
    assert [(o.version, o.verdict) for o in versions] == [(1, "conditional"), (2, "approve")]
    page = client.get(f"/screening/cases/{case.id}").get_data(as_text=True)
    assert "早先版本" in page and "安全生产条件分析" in page


def test_no_opinion_after_the_case_closed(client, county, clock_at, make_client):
    case = _open_case(client, county, clock_at)
    for screener in county["screeners"]:
        _answer(make_client, screener, case)
    late = _answer(make_client, county["screeners"][0], case, verdict="reject", comment="改变意见", version=1)
    assert late.status_code == 409 and "不再接受意见" in late.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ScreeningOpinion)) == 2


def test_a_late_opinion_is_accepted_and_marked_late(client, county, clock_at, make_client):
    case = _open_case(client, county, clock_at)
    clock_at("2024-10-09T09:00:00+08:00")  # after 2024-10-08 24:00; no sweep has run yet
    assert _answer(make_client, county["screeners"][0], case).status_code == 302
    opinion = db.session.scalars(select(ScreeningOpinion)).one()
    unit_row = db.session.scalars(select(CaseUnit).where(CaseUnit.unit_id == county["units"][0].id)).one()
    assert opinion.late and unit_row.late


def test_resubmission_opens_a_linked_round(client, county, clock_at, make_client):
    case = _open_case(client, county, clock_at)
    for screener in county["screeners"]:
        _answer(make_client, screener, case, verdict="conditional", materials=["企业近三年审计报告"])
    assert factories.reload(county["lead"]).stage == "returned"
    page = client.get(f"/screening/cases/{case.id}").get_data(as_text=True)
    assert "补齐材料后重新提交" in page
    clock_at("2024-10-15T09:00:00+08:00")
    assert _submit(client, factories.reload(county["lead"]), [u.id for u in county["units"]]).status_code == 302
    second = _case_of(county["lead"])
    assert second.round == 2 and second.previous_case_id == case.id and second.status == "open"


def test_terminating_the_lead_withdraws_the_open_case(client, county, clock_at):
    case = _open_case(client, county, clock_at)
    lead = factories.reload(county["lead"])
    response = client.post(f"/leads/{lead.id}/stage", {"to_stage": "lost", "reason": "企业转投外省",
                                                       "version": lead.version})
    assert response.status_code == 302
    assert _case_of(county["lead"]).status == "withdrawn"


# --- indicators and thresholds ---------------------------------------------------------------

def test_indicators_compare_with_the_most_specific_thresholds(county):
    chain = factories.chain("轻合金")
    park = factories.unit("将乐经济开发区", kind="park")
    services.save_threshold(None, {"chain_id": None, "park_unit_id": None, "min_intensity_wan_per_mu": Decimal(200),
                                   "min_total_investment_wan": Decimal(3000)})
    services.save_threshold(None, {"chain_id": chain.id, "park_unit_id": None, "min_intensity_wan_per_mu": Decimal(350)})
    services.save_threshold(None, {"chain_id": None, "park_unit_id": park.id, "min_tax_per_mu_wan": Decimal(10)})
    found = services.thresholds_for(chain.id, park.id)
    assert found.min_intensity_wan_per_mu == 350 and found.min_tax_per_mu_wan == 10
    assert found.min_total_investment_wan == 3000
    lead = factories.lead(chain_id=chain.id)  # intensity 300, tax per mu 8, no output, no tech
    by_key = {i.key: i for i in compute(lead, found)}
    assert by_key["intensity"].status == "fail" and by_key["intensity"].value == Decimal("300.00")
    assert by_key["tax_per_mu"].status == "fail"
    assert by_key["output_per_mu"].status == "unknown" and by_key["output_per_mu"].value is None
    assert by_key["tech_score"].status == "unknown" and by_key["tech_score"].value is None


def test_tech_score_is_a_floor_while_inputs_are_missing(db_session):
    lead = factories.lead(high_tech=True, patents=3)
    rows = {i.key: i for i in compute(lead, Thresholds(min_tech_score=30))}
    assert rows["tech_score"].value == 36 and rows["tech_score"].status == "pass"
    rows = {i.key: i for i in compute(lead, Thresholds(min_tech_score=60))}
    assert rows["tech_score"].status == "unknown"  # 专精特新 and R&D unknown could still lift it
    full = factories.lead(high_tech=False, specialized=False, patents=0, rd_ratio=Decimal("1"))
    assert {i.key: i for i in compute(full, Thresholds(min_tech_score=30))}["tech_score"].status == "fail"


def test_negative_thresholds_are_refused_and_nothing_is_stored(client, db_session):
    client.login(factories.user(roles=("admin",)))
    response = client.post("/screening/thresholds", {"chain_id": "", "park_unit_id": "",
                                                     "min_intensity_wan_per_mu": "-5", "min_tax_per_mu_wan": "5"})
    assert response.status_code == 400 and "门槛不能为负数" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ScreeningThreshold)) == 0
    with pytest.raises(services.ScreeningError):
        services.save_threshold(None, {"chain_id": None, "park_unit_id": None, "min_tax_per_mu_wan": Decimal(-1)})
    with pytest.raises(IntegrityError):  # and the database refuses it too
        with db.session.begin_nested():
            db.session.add(ScreeningThreshold(min_tax_per_mu_wan=Decimal(-1)))
            db.session.flush()


def test_admin_saves_settings_and_others_may_not(client, county, make_client):
    chain = factories.chain("精细化工")
    env, _s = factories.member_unit("生态环境局")
    admin = factories.user(roles=("admin",))
    client.login(admin)
    assert client.get("/screening/settings").status_code == 200
    response = client.post("/screening/settings", {"working_days": "0", "period_days": "3",
                                                   "default_unit_ids": [str(county["units"][0].id)],
                                                   f"chain_{chain.id}": [str(env.id)]})
    assert response.status_code == 302
    assert services.default_unit_ids() == [county["units"][0].id]
    assert services.chain_unit_ids(chain.id) == [env.id]
    assert services.get_settings().working_days is False
    officer = make_client()
    officer.login(county["officer"])
    assert officer.get("/screening/settings").status_code == 403
    assert officer.post("/screening/thresholds", {"min_tax_per_mu_wan": "1"}).status_code == 403


# --- figures, visibility, API ----------------------------------------------------------------

def test_timeliness_figures_per_unit(client, county, clock_at, make_client):
    case = _open_case(client, county, clock_at)
    clock_at("2024-09-27T16:00:00+08:00")
    _answer(make_client, county["screeners"][0], case)       # 6 hours, on time
    clock_at("2024-10-09T10:00:00+08:00")
    _answer(make_client, county["screeners"][1], case)       # late
    leader = make_client()
    leader.login(factories.user(roles=("leader",)))
    page = leader.get("/screening/timeliness?days=3650").get_data(as_text=True)
    assert "县发改局" in page and "6.0" in page
    from crm.screening.queries import timeliness
    rows = {r.unit_name: r for r in timeliness()}
    assert (rows["县发改局"].on_time, rows["县发改局"].late, rows["县发改局"].median_hours) == (1, 0, 6.0)
    assert (rows["县自然资源局"].on_time, rows["县自然资源局"].late) == (0, 1)
    officer = make_client()
    officer.login(county["officer"])
    assert officer.get("/screening/timeliness").status_code == 403


def test_other_units_officers_cannot_read_a_case(client, county, clock_at, make_client):
    case = _open_case(client, county, clock_at)
    stranger = make_client()
    stranger.login(factories.user())
    assert stranger.get(f"/screening/cases/{case.id}").status_code == 403
    assert stranger.get(f"/api/v1/screening/cases/{case.id}").status_code == 403


def test_api_submit_answer_and_read(app, county, clock_at, make_client):
    clock_at(FRIDAY_BEFORE_NATIONAL_DAY)
    officer = make_client()
    officer.login(county["officer"])
    created = officer.post(f"/api/v1/leads/{county['lead'].id}/screening", json={})
    assert created.status_code == 201, created.get_json()
    case_id = created.get_json()["id"]
    assert created.get_json()["due_on"] == "2024-10-08"
    again = officer.post(f"/api/v1/leads/{county['lead'].id}/screening", json={})
    assert again.status_code == 409
    screener = make_client()
    screener.login(county["screeners"][0])
    ratings = {d: 4 for d in ("scale", "intensity", "tech", "prospects", "compliance")}
    bad = screener.post(f"/api/v1/screening/cases/{case_id}/opinions", json={"verdict": "maybe", "ratings": ratings})
    assert bad.status_code in (400, 422) and bad.get_json()["error"]["fields"]["verdict"]
    ok = screener.post(f"/api/v1/screening/cases/{case_id}/opinions",
                       json={"verdict": "conditional", "ratings": ratings, "materials": ["项目可行性研究报告"]})
    assert ok.status_code == 201 and ok.get_json()["opinion"]["version"] == 1
    listed = screener.get("/api/v1/screening/cases").get_json()["items"]
    assert [c["id"] for c in listed] == [case_id]
    full = officer.get(f"/api/v1/screening/cases/{case_id}").get_json()
    assert {i["key"]: i["status"] for i in full["indicators"]}["tax_per_mu"] == "pass"
    assert officer.get(f"/api/v1/screening/cases/{case_id}/opinions").get_json()["items"][0]["materials"] == ["项目可行性研究报告"]


def test_case_path_matches_the_route(app):
    with app.test_request_context():
        from flask import url_for
        assert url_for("screening.case", case_id=7) == services.case_path(7)


def test_notifications_list_and_mark_read(client, county, clock_at, make_client):
    _open_case(client, county, clock_at)
    screener = make_client()
    screener.login(county["screeners"][0])
    home = screener.get("/notifications/").get_data(as_text=True)
    assert "福建永盛铝业有限公司" in home and 'data-testid="unread-count">1<' in home
    note = db.session.scalars(select(Notification).where(Notification.user_id == county["screeners"][0].id)).one()
    opened = screener.post(f"/notifications/{note.id}/open")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/screening/cases/{_case_of(county['lead']).id}")
    assert 'data-testid="unread-count"' not in screener.get("/notifications/").get_data(as_text=True)


def test_a_town_is_never_asked_as_a_member_unit(app, county, make_client):
    """Issue 14, finding 8: the API took towns as member units."""
    officer = make_client()
    officer.login(county["officer"])
    town = factories.unit("高唐镇")
    refused = officer.post(f"/api/v1/leads/{county['lead'].id}/screening", json={"unit_ids": [town.id]})
    assert refused.status_code in (400, 422) and "高唐镇" in refused.get_json()["error"]["message"]
    assert factories.reload(county["lead"]).stage == "negotiating"
    assert db.session.scalar(select(func.count()).select_from(ScreeningCase)) == 0
