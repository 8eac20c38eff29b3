"""The `crm` command: create-user and seed-demo."""
from sqlalchemy import func, select

from crm.auth.models import User
from crm.extensions import db
from crm.leads.models import Lead


def test_create_user_reads_the_password_from_stdin(app, db_session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "gy_officer", "--role", "officer", "--role", "team_lead",
                                 "--unit", "古镛镇", "--unit-kind", "town", "--password-stdin"],
                           input="a-long-password\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "gy_officer"))
    assert sorted(user.roles) == ["officer", "team_lead"] and user.unit.name == "古镛镇"
    assert user.check_password("a-long-password")


def test_create_user_refuses_unknown_unit_and_short_password(app, db_session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "x1", "--role", "officer", "--unit", "不存在的乡"],
                           input="a-long-password\n")
    assert result.exit_code != 0 and "--unit-kind" in result.output
    result = runner.invoke(args=["create-user", "x2", "--role", "officer", "--unit", "古镛镇",
                                 "--unit-kind", "town"], input="short\n")
    assert result.exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_seed_demo_makes_a_county_once(app, db_session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--leads", "120"])
    assert result.exit_code == 0, result.output
    assert "admin" in result.output and "demo-2026" in result.output
    roles = {r for u in db.session.scalars(select(User)) for r in u.roles}
    assert roles == {"officer", "team_lead", "screener", "leader", "admin", "viewer"}
    stages = set(db.session.scalars(select(Lead.stage).distinct()))
    assert {"lead", "negotiating", "signed"} <= stages
    from crm.screening.models import ScreeningCase, ScreeningThreshold
    in_screening = set(db.session.scalars(select(Lead.id).where(Lead.stage == "screening")))
    open_cases = set(db.session.scalars(select(ScreeningCase.lead_id).where(ScreeningCase.status == "open")))
    assert in_screening == open_cases  # every lead in pre-screening has its open case
    assert db.session.scalar(select(func.count()).select_from(ScreeningCase).where(
        ScreeningCase.status == "closed")) > 0
    assert db.session.scalar(select(func.count()).select_from(ScreeningThreshold)) > 0
    from crm.decisions.models import AgendaItem, GroupMember
    decided = set(db.session.scalars(select(Lead.id).where(Lead.stage.in_(["admitted", "rejected"]))))
    closed_items = list(db.session.scalars(select(AgendaItem.lead_id).where(AgendaItem.status == "closed")))
    assert decided <= set(closed_items) and len(closed_items) == len(set(closed_items))
    assert db.session.scalar(select(func.count()).select_from(GroupMember)) == 6
    _demo_meetings_follow_the_rules()
    again = runner.invoke(args=["seed-demo", "--leads", "10"])
    assert "already" in again.output
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 120


def _demo_meetings_follow_the_rules():
    """The demo's meetings read as a county records them under the 议事规则: every absence has its
    reason, every member present answered each decided item, the chair spoke last, and each result
    is what the meeting's frozen rules give for its recorded count."""
    from crm.decisions import services, voting
    from crm.decisions.counting import decide
    from crm.decisions.models import Meeting

    meetings = db.session.scalars(select(Meeting).where(Meeting.status != "scheduled")).all()
    assert meetings and all(m.recorder and m.start_time and m.pass_basis == "members" for m in meetings)
    for meeting in meetings:
        assert all(a.present or a.absence_reason for a in meeting.attendees)
        present = {a.user_id for a in meeting.attendees if a.present}
        for item in meeting.items:
            if item.status != "closed":
                continue
            assert {v.user_id for v in item.votes} == present
            chair_vote = next(v for v in item.votes if v.user_id == meeting.chair_id)
            assert chair_vote.updated_at == max(v.updated_at for v in item.votes if v.choice != "recuse") \
                or chair_vote.choice == "recuse"
            outcome = decide(voting.recorded_count(item), services.meeting_rules(meeting))
            assert outcome.passed == (item.result == "passed")
