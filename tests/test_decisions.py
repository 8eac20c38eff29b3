"""The leadership group's collective decision: rules, meetings, votes, closing, minutes."""
from __future__ import annotations

import io
import re
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

HALF = Rules()  # the norm: more than half present; approvals more than half of those entitled to vote
CAST = Rules(pass_basis="cast")
PRESENT = Rules(pass_basis="present")


# --- the counting rules, as a table -------------------------------------------------------------
# members, present, recused, approve, reject, abstain, rules → decidable, passed
@pytest.mark.parametrize("members, present, recused, approve, reject, abstain, rules, decidable, passed", [
    (7, 7, 0, 4, 3, 0, HALF, True, True),     # 4 of 7 entitled: more than half
    (7, 7, 0, 3, 3, 1, HALF, True, False),    # 3 of 7 is not more than half
    (6, 6, 0, 3, 3, 0, HALF, True, False),    # a tie fails
    (6, 6, 0, 2, 1, 0, HALF, True, False),    # 3 of 6 vote 2:1: 2 is not more than half of 6 …
    (6, 6, 0, 2, 1, 0, CAST, True, True),     # … but is more than half of the 3 votes cast
    (6, 6, 0, 2, 1, 0, PRESENT, True, False),  # and not more than half of the 6 present
    (7, 4, 0, 3, 1, 0, HALF, True, False),    # quorum, but 3 approvals of 7 entitled fail
    (7, 4, 0, 4, 0, 0, HALF, True, True),     # 4 of 7 entitled pass
    (7, 4, 0, 3, 1, 0, PRESENT, True, True),  # 3 of the 4 present pass under "present"
    (7, 3, 0, 3, 0, 0, HALF, False, False),   # 3 of 7 present: no quorum, however they vote
    (6, 3, 0, 3, 0, 0, HALF, False, False),   # exactly half present is not more than half
    (6, 6, 1, 3, 1, 1, HALF, True, True),     # one recusal: 5 entitled, 3 > 2.5 passes …
    (6, 6, 0, 3, 2, 1, HALF, True, False),    # … without it 3 of 6 fails
    (5, 5, 0, 0, 0, 5, HALF, True, False),    # all abstain: no approvals
    (5, 5, 0, 0, 0, 0, HALF, False, False),   # no vote cast: can never be decided
    (5, 5, 0, 0, 0, 0, CAST, False, False),   # … under any basis
    (1, 1, 0, 1, 0, 0, HALF, True, True),     # a group of one
])
def test_counting_rules(members, present, recused, approve, reject, abstain, rules, decidable, passed):
    outcome = decide(Count(members, present, recused, approve, reject, abstain), rules)
    assert (outcome.decidable, outcome.passed) == (decidable, passed)


def test_members_who_did_not_vote_never_count_as_approvals():
    count = Count(members=5, present=5, recused=0, approve=2, reject=0, abstain=0, not_voted=3)
    assert decide(count, HALF).passed is False
    assert decide(count, CAST).passed is True  # 2 of the 2 cast
    assert decide(count, HALF).needed == 3


def test_abstentions_can_be_left_out_of_the_votes_cast():
    count = Count(members=7, present=7, recused=0, approve=3, reject=2, abstain=2)
    assert decide(count, CAST).passed is False
    assert decide(count, Rules(pass_basis="cast", abstain_counts_as_cast=False)).passed is True  # 3 of 5


def test_two_thirds_rule():
    rules = Rules(quorum_fraction=Decimal("0.666"), pass_fraction=Decimal("0.666"))
    assert decide(Count(9, 7, 0, 6, 1, 0), rules).passed is True     # 7 > 5.99; 6 > 5.99
    assert decide(Count(9, 7, 0, 5, 2, 0), rules).passed is False
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
    services.save_secretariat(organiser.unit_id)  # the organiser's unit keeps the agenda
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


def _attendance_form(present, absent=None) -> dict:
    """present: users; absent: {user: (reason, note)}."""
    data = {f"attendance_{u.id}": "present" for u in present}
    for user, (reason, note) in (absent or {}).items():
        data[f"attendance_{user.id}"] = reason
        data[f"note_{user.id}"] = note
    return data


def _meeting_with_item(make_client, group, open_with=None, absent=None):
    organiser = _as(make_client, group["organiser"])
    response = organiser.post("/decisions/meetings", {"title": "县招商引资工作领导小组第5次会议",
                                                      "meeting_on": "2026-11-25", "start_time": "09:30",
                                                      "location": "县政府三楼会议室", "recorder": "王秘书",
                                                      "observers": "县招商服务中心主任李明"})
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    meeting = db.session.scalars(select(Meeting)).one()
    assert organiser.post(f"/decisions/meetings/{meeting.id}/items",
                          {"lead_id": str(group["lead"].id)}).status_code == 302
    if open_with is not None:
        if absent is None:  # everyone not listed is away on business
            absent = {u: ("business_trip", "") for u in group["members"] if u not in open_with}
        opened = organiser.post(f"/decisions/meetings/{meeting.id}/open", _attendance_form(open_with, absent))
        assert opened.status_code == 302, opened.get_data(as_text=True)[:1000]
    db.session.expire_all()
    return meeting, db.session.scalars(select(AgendaItem)).one()


def _vote(make_client, user, item, choice, reason="", version=None):
    data = {"choice": choice, "reason": reason}
    if version is not None:
        data["based_on_version"] = str(version)
    return _as(make_client, user).post(f"/decisions/items/{item.id}/vote", data, follow_redirects=True)


def _close(client, item, conditions=""):
    """The chair opens the confirmation page (it shows the count) and confirms what it showed."""
    page = client.get(f"/decisions/items/{item.id}/close")
    if page.status_code != 200:
        return page
    version = re.search(r'name="confirmed_version"[^>]*value="(\d+)"', page.get_data(as_text=True)).group(1)
    return client.post(f"/decisions/items/{item.id}/close", {"conditions": conditions, "confirmed_version": version})


def _assert_undecided(item, group):
    item = factories.reload(item)
    assert item.status == "open" and item.result is None
    assert factories.reload(group["lead"]).stage == "awaiting_decision"


def _all_vote(make_client, group, item, choices):
    """Members vote in the group's order with the chair last: choices is (chair, second, third)."""
    chair, second, third = group["members"]
    for user, choice in ((second, choices[1]), (third, choices[2]), (chair, choices[0])):
        if choice:
            reason = choice[1] if isinstance(choice, tuple) else ""
            response = _vote(make_client, user, item, choice[0] if isinstance(choice, tuple) else choice, reason)
            assert response.status_code == 200


def test_scheduling_notifies_the_members(make_client, group):
    _meeting_with_item(make_client, group)
    told = db.session.scalars(select(Notification.user_id).where(Notification.kind == "meeting_scheduled")).all()
    assert sorted(told) == sorted(u.id for u in group["members"])


def test_three_members_vote_and_the_chair_closes(make_client, group):
    meeting, item = _meeting_with_item(make_client, group, open_with=group["members"])
    chair, second, third = group["members"]
    page = _as(make_client, second).get(f"/decisions/meetings/{meeting.id}").get_data(as_text=True)
    assert group["lead"].company_name in page and "用地指标不足" not in page
    _all_vote(make_client, group, item, ("approve", "approve", ("reject", "用地指标不足")))
    chair_client = _as(make_client, chair)
    confirm = chair_client.get(f"/decisions/items/{item.id}/close").get_data(as_text=True)
    assert "现在结束将记录为" in confirm and "同意落地" in confirm and "不可更改" in confirm
    closed = _close(chair_client, item, "须在一年内开工")
    assert closed.status_code == 302
    item = factories.reload(item)
    assert (item.status, item.result, item.approve, item.reject, item.abstain) == ("closed", "passed", 2, 1, 0)
    assert factories.reload(group["lead"]).stage == "admitted"
    minutes = _as(make_client, group["organiser"]).get(f"/decisions/meetings/{meeting.id}/minutes")
    text = minutes.get_data(as_text=True)
    assert "须在一年内开工" in text and "用地指标不足" in text and "同意落地" in text
    docx = _as(make_client, group["organiser"]).get(f"/decisions/meetings/{meeting.id}/minutes.docx")
    assert docx.status_code == 200 and docx.data[:2] == b"PK"


def test_the_owner_unit_is_told_the_decision_and_its_conditions(make_client, group):
    lead = group["lead"]
    officer = factories.user(unit_=lead.owner_unit)
    lead.owner_id = officer.id
    db.session.flush()
    _meeting, item = _meeting_with_item(make_client, group, open_with=group["members"])
    _all_vote(make_client, group, item, ("approve", "approve", "approve"))
    _close(_as(make_client, group["chair"]), item, "须在一年内开工")
    told = {n.user_id: n for n in db.session.scalars(select(Notification).where(
        Notification.kind == "decision_admitted"))}
    assert set(told) == {officer.id, group["organiser"].id}  # the owner and the unit's team lead
    inbox = _as(make_client, officer).get("/notifications/").get_data(as_text=True)
    assert lead.company_name in inbox and "须在一年内开工" in inbox


def test_a_failed_item_rejects_the_project_with_the_reasons(make_client, group):
    _meeting, item = _meeting_with_item(make_client, group, open_with=group["members"])
    _all_vote(make_client, group, item, ("approve", ("reject", "亩均税收偏低"), "abstain"))
    assert _close(_as(make_client, group["chair"]), item).status_code == 302
    lead = factories.reload(group["lead"])
    assert lead.stage == "rejected"
    assert "亩均税收偏低" in lead.stage_changes[-1].reason


def test_a_member_changes_the_vote_until_the_close(make_client, group):
    _meeting, item = _meeting_with_item(make_client, group, open_with=group["members"])
    second = group["members"][1]
    _vote(make_client, second, item, "reject", "再议")
    _vote(make_client, second, item, "approve", version=1)
    votes = db.session.scalars(select(Vote)).all()
    assert [(v.choice, v.version) for v in votes] == [("approve", 2)]


def test_votes_are_sealed_until_the_item_closes(make_client, group):
    meeting, item = _meeting_with_item(make_client, group, open_with=group["members"])
    chair, second, third = group["members"]
    _vote(make_client, second, item, "reject", "秘密的理由")
    for viewer in (third, chair, group["organiser"]):
        page = _as(make_client, viewer).get(f"/decisions/meetings/{meeting.id}").get_data(as_text=True)
        assert "秘密的理由" not in page and "出席 3 人，1 人已表决" in page
    api = _as(make_client, third).get(f"/api/v1/meetings/{meeting.id}").get_json()["items"][0]
    assert api["votes"] == [] and api["progress"] == {"voted": 1, "present": 3}
    own = _as(make_client, second).get(f"/api/v1/meetings/{meeting.id}").get_json()["items"][0]
    assert [v["choice"] for v in own["votes"]] == ["reject"]
    _vote(make_client, third, item, "approve")
    _vote(make_client, chair, item, "approve")
    _close(_as(make_client, chair), item)
    page = _as(make_client, third).get(f"/decisions/meetings/{meeting.id}").get_data(as_text=True)
    assert "秘密的理由" in page


def test_the_chair_votes_last(make_client, group):
    _meeting, item = _meeting_with_item(make_client, group, open_with=group["members"])
    chair, second, third = group["members"]
    early = _vote(make_client, chair, item, "approve")
    assert "末位表态" in early.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 0
    _vote(make_client, second, item, "approve")
    assert _as(make_client, chair).post(f"/decisions/items/{item.id}/not-voted",
                                        {"user_id": str(third.id)}).status_code == 302
    assert _vote(make_client, chair, item, "approve").status_code == 200
    assert db.session.scalar(select(Vote.choice).where(Vote.user_id == chair.id)) == "approve"


def test_closing_with_a_present_member_not_voted_is_refused(make_client, group):
    _meeting, item = _meeting_with_item(make_client, group, open_with=group["members"])
    chair, second, third = group["members"]
    _vote(make_client, second, item, "approve")
    response = _as(make_client, chair).get(f"/decisions/items/{item.id}/close", follow_redirects=True)
    assert "尚未表决" in response.get_data(as_text=True) and third.display_name in response.get_data(as_text=True)
    forced = _as(make_client, chair).post(f"/decisions/items/{item.id}/close",
                                          {"confirmed_version": str(factories.reload(item).version)},
                                          follow_redirects=True)
    assert "尚未表决" in forced.get_data(as_text=True)
    assert factories.reload(item).status == "open"


def test_closing_with_no_votes_is_refused(make_client, group):
    _meeting, item = _meeting_with_item(make_client, group, open_with=group["members"])
    chair, second, third = group["members"]
    chair_client = _as(make_client, chair)
    response = chair_client.get(f"/decisions/items/{item.id}/close", follow_redirects=True)
    assert "尚未表决" in response.get_data(as_text=True)
    for member in (second, third):
        chair_client.post(f"/decisions/items/{item.id}/not-voted", {"user_id": str(member.id)})
    _vote(make_client, chair, item, "recuse", "本人亲属在该企业任职")
    refused = chair_client.get(f"/decisions/items/{item.id}/close", follow_redirects=True)
    assert "没有人投票" in refused.get_data(as_text=True)
    _assert_undecided(item, group)


def test_marking_not_voted_on_a_member_who_voted_is_refused(make_client, group):
    _meeting, item = _meeting_with_item(make_client, group, open_with=group["members"])
    chair, second, _third = group["members"]
    _vote(make_client, second, item, "reject", "不同意")
    response = _as(make_client, chair).post(f"/decisions/items/{item.id}/not-voted", {"user_id": str(second.id)},
                                            follow_redirects=True)
    assert "已表决" in response.get_data(as_text=True)
    assert db.session.scalar(select(Vote.choice).where(Vote.user_id == second.id)) == "reject"
    assert _as(make_client, second).post(f"/decisions/items/{item.id}/not-voted",
                                         {"user_id": str(chair.id)}).status_code == 403


def test_the_confirmation_is_for_the_count_shown(make_client, group):
    _meeting, item = _meeting_with_item(make_client, group, open_with=group["members"])
    chair, second, third = group["members"]
    _all_vote(make_client, group, item, ("approve", "approve", "reject"))
    shown = factories.reload(item).version
    _vote(make_client, third, item, "approve", version=1)  # changes after the count was shown
    stale = _as(make_client, chair).post(f"/decisions/items/{item.id}/close", {"confirmed_version": str(shown)},
                                         follow_redirects=True)
    assert "票数已变化" in stale.get_data(as_text=True)
    assert factories.reload(item).status == "open"


def test_a_non_member_cannot_vote(make_client, group):
    _meeting, item = _meeting_with_item(make_client, group, open_with=group["members"])
    assert _vote(make_client, group["outsider"], item, "approve").status_code == 403
    officer = factories.user()
    assert _as(make_client, officer).post(f"/decisions/items/{item.id}/vote", {"choice": "approve"}).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 0


def test_an_absent_member_cannot_vote(make_client, group):
    chair, second, third = group["members"]
    _meeting, item = _meeting_with_item(make_client, group, open_with=[chair, second],
                                        absent={third: ("leave", "")})
    response = _vote(make_client, third, item, "approve")
    assert "缺席" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 0
    assert factories.reload(item).meeting.attendees[2].present is False


def test_two_votes_from_one_member_at_the_same_moment(make_client, group):
    _meeting, item = _meeting_with_item(make_client, group, open_with=group["members"])
    second = group["members"][1]
    # Two windows both show "no vote yet" (version 0); the second to arrive is told.
    assert "已记录" in _vote(make_client, second, item, "approve", version=0).get_data(as_text=True)
    again = _vote(make_client, second, item, "reject", "x", version=0)
    assert "刚刚" in again.get_data(as_text=True)
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


def test_attendance_is_taken_with_reasons_and_nobody_is_present_by_default(make_client, group):
    chair, second, third = group["members"]
    meeting, _item = _meeting_with_item(make_client, group)
    organiser = _as(make_client, group["organiser"])
    page = organiser.get(f"/decisions/meetings/{meeting.id}").get_data(as_text=True)
    assert 'value="present" checked' not in page and "出差" in page and "请假" in page
    missing = organiser.post(f"/decisions/meetings/{meeting.id}/open", _attendance_form([chair, second]),
                             follow_redirects=True)
    assert "出席或缺席" in missing.get_data(as_text=True)
    no_reason = organiser.post(f"/decisions/meetings/{meeting.id}/open",
                               {**_attendance_form([chair, second]), f"attendance_{third.id}": "other"},
                               follow_redirects=True)
    assert "写明具体原因" in no_reason.get_data(as_text=True)
    assert factories.reload(meeting).status == "scheduled"
    organiser.post(f"/decisions/meetings/{meeting.id}/open",
                   _attendance_form([chair, second], {third: ("business_trip", "赴上海招商")}))
    meeting = factories.reload(meeting)
    assert meeting.status == "open"
    assert [(a.present, a.absence_reason, a.absence_note) for a in meeting.attendees] == [
        (True, None, None), (True, None, None), (False, "business_trip", "赴上海招商")]
    assert "出差：赴上海招商" in organiser.get(f"/decisions/meetings/{meeting.id}").get_data(as_text=True)


def test_attendance_changes_until_the_first_vote_only(make_client, group):
    chair, second, third = group["members"]
    meeting, item = _meeting_with_item(make_client, group, open_with=[chair, second],
                                       absent={third: ("leave", "")})
    organiser = _as(make_client, group["organiser"])
    assert organiser.post(f"/decisions/meetings/{meeting.id}/attendance",
                          _attendance_form([chair, second, third])).status_code == 302
    assert all(a.present for a in factories.reload(meeting).attendees)
    _vote(make_client, second, item, "approve")
    late = organiser.post(f"/decisions/meetings/{meeting.id}/attendance",
                          _attendance_form([chair, second], {third: ("leave", "")}), follow_redirects=True)
    assert "投票已开始" in late.get_data(as_text=True)
    assert all(a.present for a in factories.reload(meeting).attendees)


def test_closing_without_quorum_changes_nothing(make_client, group):
    chair, second, third = group["members"]
    _meeting, item = _meeting_with_item(make_client, group, open_with=[chair])  # 1 of 3 present
    _vote(make_client, chair, item, "approve")
    response = _as(make_client, chair).get(f"/decisions/items/{item.id}/close", follow_redirects=True)
    assert "不足法定人数" in response.get_data(as_text=True)
    _assert_undecided(item, group)


def test_only_the_chair_closes_and_a_closed_item_never_changes(make_client, group):
    _meeting, item = _meeting_with_item(make_client, group, open_with=group["members"])
    chair, second, third = group["members"]
    _all_vote(make_client, group, item, ("approve", "approve", "approve"))
    version = str(factories.reload(item).version)
    assert _as(make_client, second).get(f"/decisions/items/{item.id}/close").status_code == 403
    assert _as(make_client, second).post(f"/decisions/items/{item.id}/close",
                                         {"confirmed_version": version}).status_code == 403
    assert _close(_as(make_client, chair), item).status_code == 302
    late = _vote(make_client, second, item, "reject", "改主意", version=1)
    assert "已关闭" in late.get_data(as_text=True)
    again = _as(make_client, chair).post(f"/decisions/items/{item.id}/close", {"confirmed_version": version},
                                         follow_redirects=True)
    assert "决定不会再改变" in again.get_data(as_text=True)
    assert [v.choice for v in db.session.scalars(select(Vote))] == ["approve"] * 3
    assert factories.reload(item).approve == 3


def test_six_members_three_voting_two_to_one_fails_by_default(make_client, group):
    """The case the issue found: 6 present, 3 vote 2:1, three silent — not admitted by the norm."""
    office = group["members"][0].unit
    extra = [factories.user(roles=("leader",), unit_=office) for _ in range(3)]
    everyone = list(group["members"]) + extra
    services.set_membership([(u.id, "") for u in everyone], group["chair"].id)
    meeting, item = _meeting_with_item(make_client, group, open_with=everyone)
    chair, second, third = group["members"]
    _vote(make_client, second, item, "approve")
    _vote(make_client, third, item, "reject", "不同意")
    chair_client = _as(make_client, chair)
    for member in extra:
        chair_client.post(f"/decisions/items/{item.id}/not-voted", {"user_id": str(member.id)})
    _vote(make_client, chair, item, "approve")
    assert _close(chair_client, item).status_code == 302
    item = factories.reload(item)
    assert (item.result, item.approve, item.reject, item.not_voted, item.present) == ("failed", 2, 1, 3, 6)
    minutes = _as(make_client, group["organiser"]).get(f"/decisions/meetings/{meeting.id}/minutes")
    text = minutes.get_data(as_text=True)
    assert all(u.display_name in text for u in everyone)
    assert text.count("未表决") >= 3


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
                                                  "pass_basis": "cast", "abstain_counts_as_cast": "y"})
    assert response.status_code == 302
    rules = services.get_rules()
    assert (rules.pass_fraction, rules.pass_basis, rules.chair_votes_last) == (Decimal("0.8"), "cast", False)
    meeting = factories.reload(meeting)
    assert meeting.quorum_fraction == Decimal("0.5") and meeting.pass_fraction == Decimal("0.5")
    assert (meeting.pass_basis, meeting.chair_votes_last) == ("members", True)
    _all_vote(make_client, group, item, ("approve", "approve", ("reject", "不同意")))
    _close(_as(make_client, group["chair"]), item)
    assert factories.reload(item).result == "passed"  # 2 of 3 > 1/2; under 0.8 it would fail


def test_rules_out_of_range_are_refused(client, db_session):
    client.login(factories.user(roles=("admin",)))
    response = client.post("/decisions/settings", {"quorum_fraction": "-0.1", "pass_fraction": "1",
                                                   "pass_basis": "members"})
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
    created = organiser.post("/api/v1/meetings", json={"title": "第6次会议", "meeting_on": "2026-12-02",
                                                       "start_time": "15:00", "recorder": "王秘书"})
    assert created.status_code == 201 and created.get_json()["start_time"] == "15:00"
    meeting_id = created.get_json()["id"]
    added = organiser.post(f"/api/v1/meetings/{meeting_id}/items", json={"lead_id": group["lead"].id})
    assert added.status_code == 201
    item_id = added.get_json()["id"]
    chair, second, third = group["members"]
    legacy = organiser.post(f"/api/v1/meetings/{meeting_id}/open", json={"present_ids": [chair.id]})
    assert legacy.status_code == 422
    attendance = [{"user_id": u.id, "present": True} for u in (chair, second)]
    unreasoned = organiser.post(f"/api/v1/meetings/{meeting_id}/open",
                                json={"attendance": attendance + [{"user_id": third.id, "present": False}]})
    assert unreasoned.status_code == 400
    opened = organiser.post(f"/api/v1/meetings/{meeting_id}/open", json={"attendance": attendance + [
        {"user_id": third.id, "present": False, "absence_reason": "leave", "absence_note": "病假"}]})
    body = opened.get_json()
    assert opened.status_code == 200 and body["quorum_fraction"] == 0.5 and body["pass_basis"] == "members"
    assert body["attendees"][2]["absence_reason"] == "leave"
    assert _as(make_client, chair).post(f"/api/v1/items/{item_id}/votes", json={"choice": "approve"}).status_code == 409
    assert _as(make_client, second).post(f"/api/v1/items/{item_id}/votes", json={"choice": "approve"}).status_code == 201
    assert _as(make_client, third).post(f"/api/v1/items/{item_id}/votes", json={"choice": "approve"}).status_code == 409
    assert _as(make_client, chair).post(f"/api/v1/items/{item_id}/votes", json={"choice": "approve"}).status_code == 201
    outsider = _as(make_client, group["outsider"]).post(f"/api/v1/items/{item_id}/votes", json={"choice": "reject"})
    assert outsider.status_code == 403
    chair_client = _as(make_client, chair)
    preview = chair_client.get(f"/api/v1/items/{item_id}/close-preview").get_json()
    assert preview["passed"] is True and preview["count"]["approve"] == 2 and preview["needed"] == 2
    assert chair_client.post(f"/api/v1/items/{item_id}/close", json={}).status_code == 409
    closed = chair_client.post(f"/api/v1/items/{item_id}/close",
                               json={"confirmed_version": preview["confirmed_version"]})
    assert closed.status_code == 200 and closed.get_json()["result"] == "passed"
    lines = closed.get_json()["member_lines"]
    assert [line["status"] for line in lines] == ["approve", "approve", "absent"]
    assert chair_client.post(f"/api/v1/items/{item_id}/close",
                             json={"confirmed_version": preview["confirmed_version"]}).status_code == 409
    assert organiser.get(f"/api/v1/meetings/{meeting_id}").get_json()["items"][0]["approve"] == 2


def test_ending_the_meeting_numbers_its_minutes(make_client, group):
    from crm.papers import services as papers

    meeting, item = _meeting_with_item(make_client, group, open_with=group["members"])
    assert papers.existing_number("minutes", meeting.id) is None
    _all_vote(make_client, group, item, ("approve", "approve", "approve"))
    _close(_as(make_client, group["chair"]), item)
    assert _as(make_client, group["chair"]).post(f"/decisions/meetings/{meeting.id}/close").status_code == 302
    assert papers.existing_number("minutes", meeting.id) is not None  # at the close, not at the first print


def test_the_projects_report_is_attached_to_its_agenda_item(make_client, group):
    meeting, item = _meeting_with_item(make_client, group)
    organiser = _as(make_client, group["organiser"])
    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n" \
          b"trailer<</Root 1 0 R>>\n%%EOF\n"
    uploaded = organiser.post(f"/attachments/agenda_item/{item.id}",
                              {"file": (io.BytesIO(pdf), "项目汇报材料.pdf")}, content_type="multipart/form-data")
    assert uploaded.status_code in (302, 303), uploaded.get_data(as_text=True)[:500]
    page = _as(make_client, group["members"][1]).get(f"/decisions/meetings/{meeting.id}").get_data(as_text=True)
    assert "项目汇报材料.pdf" in page
    link = re.search(r'href="(/attachments/\d+/download)"', page).group(1)
    assert _as(make_client, group["members"][1]).get(link).data == pdf
    assert _as(make_client, factories.user()).get(link).status_code in (403, 404)  # another unit's officer
