"""The leadership group's collective decision: rules, meetings, votes, closing, minutes."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from crm.decisions import services
from crm.decisions.counting import Count, Rules, decide
from crm.decisions.models import AgendaItem, Meeting, Vote
from crm.extensions import db
from crm.leads.services import change_stage
from crm.notifications.models import Notification
from tests import factories

HALF = Rules()


# --- the counting rules, as a table -------------------------------------------------------------
# members, present, recused, approve, reject, abstain → quorum, passed
@pytest.mark.parametrize("members, present, recused, approve, reject, abstain, quorum, passed", [
    (7, 7, 0, 4, 3, 0, True, True),     # 4 of 7 cast: more than half
    (7, 7, 0, 3, 3, 1, True, False),    # abstain counts as cast: 3 of 7 is not more than half
    (6, 6, 0, 3, 3, 0, True, False),    # a tie fails
    (7, 4, 0, 3, 1, 0, True, True),     # 4 of 7 take part: quorum
    (7, 3, 0, 3, 0, 0, False, False),   # 3 of 7: no quorum, however they vote
    (6, 3, 0, 3, 0, 0, False, False),   # exactly half is not more than half
    (7, 5, 1, 3, 1, 0, True, True),     # recused: 4 of 7 take part; 3 of 4 cast approve
    (7, 5, 2, 3, 0, 0, False, False),   # two recusals break the quorum
    (5, 5, 0, 0, 0, 5, True, False),    # all abstain: no approvals
    (5, 5, 0, 0, 0, 0, True, False),    # nobody voted: nothing cast, not passed
    (1, 1, 0, 1, 0, 0, True, True),     # a group of one
])
def test_counting_rules(members, present, recused, approve, reject, abstain, quorum, passed):
    outcome = decide(Count(members, present, recused, approve, reject, abstain), HALF)
    assert (outcome.quorum, outcome.passed) == (quorum, passed)


def test_abstentions_can_be_left_out_of_the_votes_cast():
    count = Count(members=7, present=7, recused=0, approve=3, reject=2, abstain=2)
    assert decide(count, HALF).passed is False
    assert decide(count, Rules(abstain_counts_as_cast=False)).passed is True  # 3 of 5


def test_two_thirds_rule():
    rules = Rules(quorum_fraction=Decimal("0.666"), pass_fraction=Decimal("0.666"))
    assert decide(Count(9, 6, 0, 4, 2, 0), rules).passed is True     # 6 > 5.99; 4 > 3.996
    assert decide(Count(9, 5, 0, 5, 0, 0), rules).quorum is False


# --- the workflow ---------------------------------------------------------------------------------

@pytest.fixture()
def group(db_session):
    """Three leaders in the group (the first chairs), a fourth leader outside it, a team lead, and
    a project awaiting the decision."""
    office = factories.unit("县政府办公室", kind="department")
    chair, second, third, outsider = (factories.user(roles=("leader",), unit_=office) for _ in range(4))
    services.set_membership([(chair.id, "县长、组长"), (second.id, "常务副县长"), (third.id, "副县长")], chair.id)
    organiser = factories.user(roles=("team_lead",))
    lead = awaiting_lead(organiser)
    return {"chair": chair, "members": (chair, second, third), "outsider": outsider, "organiser": organiser,
            "lead": lead}


def awaiting_lead(owner, **fields):
    lead = factories.negotiating_lead(owner=owner, **fields)
    change_stage(lead, "screening", owner, workflow=True)
    change_stage(lead, "awaiting_decision", owner, workflow=True)
    return lead


def _as(make_client, user):
    client = make_client()
    client.login(user)
    return client


def _meeting_with_item(make_client, group, open_with=None):
    organiser = _as(make_client, group["organiser"])
    response = organiser.post("/decisions/meetings", {"title": "县招商引资工作领导小组第5次会议",
                                                      "meeting_on": "2026-11-25", "location": "县政府三楼会议室"})
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    meeting = db.session.scalars(select(Meeting)).one()
    assert organiser.post(f"/decisions/meetings/{meeting.id}/items",
                          {"lead_id": str(group["lead"].id)}).status_code == 302
    if open_with is not None:
        present = [str(u.id) for u in open_with]
        assert organiser.post(f"/decisions/meetings/{meeting.id}/open", {"present_ids": present}).status_code == 302
    db.session.expire_all()
    return meeting, db.session.scalars(select(AgendaItem)).one()


def _vote(make_client, user, item, choice, reason="", version=None):
    data = {"choice": choice, "reason": reason}
    if version is not None:
        data["based_on_version"] = str(version)
    return _as(make_client, user).post(f"/decisions/items/{item.id}/vote", data, follow_redirects=True)


def test_scheduling_notifies_the_members(make_client, group):
    _meeting_with_item(make_client, group)
    told = db.session.scalars(select(Notification.user_id).where(Notification.kind == "meeting_scheduled")).all()
    assert sorted(told) == sorted(u.id for u in group["members"])


def test_three_members_vote_and_the_chair_closes(make_client, group):
    meeting, item = _meeting_with_item(make_client, group, open_with=group["members"])
    chair, second, third = group["members"]
    page = _as(make_client, second).get(f"/decisions/meetings/{meeting.id}").get_data(as_text=True)
    assert group["lead"].company_name in page and "用地指标不足" not in page
    assert _vote(make_client, chair, item, "approve").status_code == 200
    assert _vote(make_client, second, item, "approve").status_code == 200
    assert _vote(make_client, third, item, "reject", "用地指标不足").status_code == 200
    closed = _as(make_client, chair).post(f"/decisions/items/{item.id}/close", {"conditions": "须在一年内开工"})
    assert closed.status_code == 302
    item = factories.reload(item)
    assert (item.status, item.result, item.approve, item.reject, item.abstain) == ("closed", "passed", 2, 1, 0)
    assert factories.reload(group["lead"]).stage == "admitted"
    minutes = _as(make_client, group["organiser"]).get(f"/decisions/meetings/{meeting.id}/minutes")
    text = minutes.get_data(as_text=True)
    assert "须在一年内开工" in text and "用地指标不足" in text and "同意落地" in text
    docx = _as(make_client, group["organiser"]).get(f"/decisions/meetings/{meeting.id}/minutes.docx")
    assert docx.status_code == 200 and docx.data[:2] == b"PK"


def test_a_failed_item_rejects_the_project_with_the_reasons(make_client, group):
    _meeting, item = _meeting_with_item(make_client, group, open_with=group["members"])
    chair, second, third = group["members"]
    _vote(make_client, chair, item, "approve")
    _vote(make_client, second, item, "reject", "亩均税收偏低")
    _vote(make_client, third, item, "abstain")
    assert _as(make_client, chair).post(f"/decisions/items/{item.id}/close", {}).status_code == 302
    lead = factories.reload(group["lead"])
    assert lead.stage == "rejected"
    assert "亩均税收偏低" in lead.stage_changes[-1].reason


def test_a_member_changes_the_vote_until_the_close(make_client, group):
    _meeting, item = _meeting_with_item(make_client, group, open_with=group["members"])
    chair = group["chair"]
    _vote(make_client, chair, item, "reject", "再议")
    _vote(make_client, chair, item, "approve", version=1)
    votes = db.session.scalars(select(Vote)).all()
    assert [(v.choice, v.version) for v in votes] == [("approve", 2)]


def test_a_non_member_cannot_vote(make_client, group):
    _meeting, item = _meeting_with_item(make_client, group, open_with=group["members"])
    assert _vote(make_client, group["outsider"], item, "approve").status_code == 403
    officer = factories.user()
    assert _as(make_client, officer).post(f"/decisions/items/{item.id}/vote", {"choice": "approve"}).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 0


def test_two_votes_from_one_member_at_the_same_moment(make_client, group):
    _meeting, item = _meeting_with_item(make_client, group, open_with=group["members"])
    chair = group["chair"]
    # Two windows both show "no vote yet" (version 0); the second to arrive is told.
    assert "已记录" in _vote(make_client, chair, item, "approve", version=0).get_data(as_text=True)
    second = _vote(make_client, chair, item, "reject", "x", version=0)
    assert "刚刚" in second.get_data(as_text=True)
    assert [(v.choice) for v in db.session.scalars(select(Vote))] == ["approve"]


def test_the_database_keeps_one_vote_per_member_and_item(make_client, group):
    _meeting, item = _meeting_with_item(make_client, group, open_with=group["members"])
    db.session.add(Vote(item_id=item.id, user_id=group["chair"].id, choice="approve"))
    db.session.flush()
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.add(Vote(item_id=item.id, user_id=group["chair"].id, choice="reject"))
            db.session.flush()


def test_a_recused_member_cannot_vote_or_see_the_votes(make_client, group):
    meeting, item = _meeting_with_item(make_client, group, open_with=group["members"])
    chair, second, third = group["members"]
    assert "请说明" in _vote(make_client, third, item, "recuse").get_data(as_text=True)  # reason required
    _vote(make_client, third, item, "recuse", "本人亲属在该企业任职")
    _vote(make_client, second, item, "reject", "秘密的理由")
    again = _vote(make_client, third, item, "approve", version=1)
    assert "已回避" in again.get_data(as_text=True)
    assert db.session.scalar(select(Vote.choice).where(Vote.user_id == third.id)) == "recuse"
    page = _as(make_client, third).get(f"/decisions/meetings/{meeting.id}").get_data(as_text=True)
    assert "秘密的理由" not in page
    assert "秘密的理由" in _as(make_client, chair).get(f"/decisions/meetings/{meeting.id}").get_data(as_text=True)


def test_closing_without_quorum_changes_nothing(make_client, group):
    chair, second, third = group["members"]
    _meeting, item = _meeting_with_item(make_client, group, open_with=[chair])  # 1 of 3 present
    _vote(make_client, chair, item, "approve")
    response = _as(make_client, chair).post(f"/decisions/items/{item.id}/close", {}, follow_redirects=True)
    assert "不足法定人数" in response.get_data(as_text=True)
    item = factories.reload(item)
    assert item.status == "open" and item.result is None
    assert factories.reload(group["lead"]).stage == "awaiting_decision"


def test_only_the_chair_closes_and_a_closed_item_never_changes(make_client, group):
    _meeting, item = _meeting_with_item(make_client, group, open_with=group["members"])
    chair, second, third = group["members"]
    for member in group["members"]:
        _vote(make_client, member, item, "approve")
    assert _as(make_client, second).post(f"/decisions/items/{item.id}/close", {}).status_code == 403
    assert _as(make_client, chair).post(f"/decisions/items/{item.id}/close", {}).status_code == 302
    late = _vote(make_client, second, item, "reject", "改主意", version=1)
    assert "已关闭" in late.get_data(as_text=True)
    again = _as(make_client, chair).post(f"/decisions/items/{item.id}/close", {}, follow_redirects=True)
    assert "决定不会再改变" in again.get_data(as_text=True)
    assert [v.choice for v in db.session.scalars(select(Vote))] == ["approve"] * 3
    assert factories.reload(item).approve == 3


def test_only_projects_awaiting_decision_go_on_the_agenda(make_client, group):
    organiser = _as(make_client, group["organiser"])
    meeting, _item = _meeting_with_item(make_client, group)
    negotiating = factories.negotiating_lead(owner=group["organiser"])
    response = organiser.post(f"/decisions/meetings/{meeting.id}/items", {"lead_id": str(negotiating.id)},
                              follow_redirects=True)
    assert "只有待集体决策的项目" in response.get_data(as_text=True)
    twice = organiser.post(f"/decisions/meetings/{meeting.id}/items", {"lead_id": str(group["lead"].id)},
                           follow_redirects=True)
    assert "已在会议议程上" in twice.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AgendaItem)) == 1


def test_rules_changed_after_opening_do_not_touch_the_meeting(make_client, group):
    meeting, item = _meeting_with_item(make_client, group, open_with=group["members"])
    admin = _as(make_client, factories.user(roles=("admin",)))
    response = admin.post("/decisions/settings", {"quorum_fraction": "0.9", "pass_fraction": "0.8",
                                                  "abstain_counts_as_cast": "y"})
    assert response.status_code == 302
    assert services.get_rules().pass_fraction == Decimal("0.8")
    meeting = factories.reload(meeting)
    assert meeting.quorum_fraction == Decimal("0.5") and meeting.pass_fraction == Decimal("0.5")
    chair, second, third = group["members"]
    _vote(make_client, chair, item, "approve")
    _vote(make_client, second, item, "approve")
    _vote(make_client, third, item, "reject", "不同意")
    _as(make_client, chair).post(f"/decisions/items/{item.id}/close", {})
    assert factories.reload(item).result == "passed"  # 2 of 3 > 1/2; under 0.8 it would fail


def test_rules_out_of_range_are_refused(client, db_session):
    client.login(factories.user(roles=("admin",)))
    response = client.post("/decisions/settings", {"quorum_fraction": "-0.1", "pass_fraction": "1"})
    assert response.status_code == 400
    assert services.get_rules().quorum_fraction == Decimal("0.5")


def test_ending_the_meeting_defers_undecided_items_to_the_next(make_client, group):
    meeting, item = _meeting_with_item(make_client, group, open_with=group["members"])
    assert _as(make_client, group["chair"]).post(f"/decisions/meetings/{meeting.id}/close").status_code == 302
    assert factories.reload(item).status == "deferred"
    assert factories.reload(group["lead"]).stage == "awaiting_decision"
    assert [lead.id for lead in services.awaiting_leads()] == [group["lead"].id]
    # The next meeting scheduled starts with it on its agenda.
    organiser = _as(make_client, group["organiser"])
    assert organiser.post("/decisions/meetings", {"title": "第6次会议", "meeting_on": "2026-12-02"}).status_code == 302
    following = db.session.scalars(select(Meeting).where(Meeting.title == "第6次会议")).one()
    assert [i.lead_id for i in following.items] == [group["lead"].id]


def test_ending_the_meeting_moves_undecided_items_to_a_meeting_already_scheduled(make_client, group):
    meeting, item = _meeting_with_item(make_client, group, open_with=group["members"])
    organiser = _as(make_client, group["organiser"])
    organiser.post("/decisions/meetings", {"title": "第6次会议", "meeting_on": "2026-12-02"})
    _as(make_client, group["chair"]).post(f"/decisions/meetings/{meeting.id}/close")
    following = db.session.scalars(select(Meeting).where(Meeting.title == "第6次会议")).one()
    assert [i.lead_id for i in factories.reload(following).items] == [group["lead"].id]


def test_members_see_pending_votes_on_their_home_page(make_client, group):
    _meeting, item = _meeting_with_item(make_client, group, open_with=group["members"])
    second = _as(make_client, group["members"][1])
    assert group["lead"].company_name in second.get("/").get_data(as_text=True)
    _vote(make_client, group["members"][1], item, "approve")
    assert "没有等待您投票的议题" in second.get("/").get_data(as_text=True)


def test_group_settings_need_an_admin_and_a_chair_among_members(make_client, group):
    assert _as(make_client, group["organiser"]).get("/decisions/settings").status_code == 403
    admin = _as(make_client, factories.user(roles=("admin",)))
    chair, second, _third = group["members"]
    response = admin.post("/decisions/settings", {"part": "members", "member": [str(second.id)],
                                                  "chair": str(chair.id)})
    assert response.status_code == 400
    assert services.members()[0].user_id == chair.id  # unchanged
    officer = factories.user()
    assert admin.post("/decisions/settings", {"part": "members", "member": [str(officer.id)],
                                              "chair": str(officer.id)}).status_code == 400


def test_api_schedule_add_open_vote_close(app, make_client, group):
    organiser = _as(make_client, group["organiser"])
    created = organiser.post("/api/v1/meetings", json={"title": "第6次会议", "meeting_on": "2026-12-02"})
    assert created.status_code == 201
    meeting_id = created.get_json()["id"]
    added = organiser.post(f"/api/v1/meetings/{meeting_id}/items", json={"lead_id": group["lead"].id})
    assert added.status_code == 201
    item_id = added.get_json()["id"]
    opened = organiser.post(f"/api/v1/meetings/{meeting_id}/open",
                            json={"present_ids": [u.id for u in group["members"]]})
    assert opened.status_code == 200 and opened.get_json()["quorum_fraction"] == 0.5
    for member in group["members"]:
        vote = _as(make_client, member).post(f"/api/v1/items/{item_id}/votes", json={"choice": "approve"})
        assert vote.status_code == 201
    outsider = _as(make_client, group["outsider"]).post(f"/api/v1/items/{item_id}/votes", json={"choice": "reject"})
    assert outsider.status_code == 403
    closed = _as(make_client, group["chair"]).post(f"/api/v1/items/{item_id}/close", json={})
    assert closed.status_code == 200 and closed.get_json()["result"] == "passed"
    assert _as(make_client, group["chair"]).post(f"/api/v1/items/{item_id}/close", json={}).status_code == 409
    assert organiser.get(f"/api/v1/meetings/{meeting_id}").get_json()["items"][0]["approve"] == 3
