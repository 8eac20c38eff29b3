"""Who sees and keeps the collective decision (issue 14, finding 1): the secretariat keeps the
agenda; another town sees a meeting only as far as its own projects go, and proposes them."""
from __future__ import annotations

import io
from datetime import date

import docx
import pytest
from sqlalchemy import func, select

from crm.decisions import services
from crm.decisions.models import AgendaItem, Meeting, Proposal
from crm.extensions import db
from crm.notifications.models import Notification
from tests import factories
from tests.test_decisions import _as, _attendance_form, awaiting_lead


@pytest.fixture()
def county(db_session):
    """The secretariat (县招商服务中心) with its team lead, two towns with a team lead, an officer and a
    project awaiting the decision each, a leader, a viewer; a meeting with both projects."""
    office = factories.unit("县招商服务中心", kind="investment_group")
    services.save_secretariat(office.id)
    keeper = factories.user(roles=("team_lead",), unit_=office)
    towns = {}
    for name, company in (("古镛镇", "福建永盛铝业有限公司"), ("高唐镇", "三明市绿源生物科技有限公司")):
        town = factories.unit(name)
        lead_ = factories.user(roles=("team_lead",), unit_=town)
        officer = factories.user(unit_=town)
        towns[name] = {"unit": town, "team_lead": lead_, "officer": officer,
                       "lead": awaiting_lead(officer, company_name=company)}
    leader = factories.user(roles=("leader",))
    services.set_membership([(leader.id, "县长")], leader.id)
    meeting = services.schedule_meeting("县招商引资工作领导小组第7次会议", date(2026, 12, 9), "县行政服务中心三楼会议室",
                                        keeper)
    items = {name: services.add_item(meeting, t["lead"]) for name, t in towns.items()}
    db.session.flush()
    return {"keeper": keeper, "towns": towns, "leader": leader, "viewer": factories.user(roles=("viewer",)),
            "meeting": meeting, "items": items}


def test_a_town_sees_only_its_own_projects_at_a_meeting(make_client, county):
    meeting = county["meeting"]
    gy, gt = county["towns"]["古镛镇"], county["towns"]["高唐镇"]
    for user in (gy["team_lead"], gy["officer"]):
        client = _as(make_client, user)
        page = client.get(f"/decisions/meetings/{meeting.id}").get_data(as_text=True)
        assert "福建永盛铝业有限公司" in page and "三明市绿源生物科技" not in page
        assert 'name="lead_id"' not in page  # no agenda picker naming every unit's projects
        api = client.get(f"/api/v1/meetings/{meeting.id}").get_json()
        assert [i["company_name"] for i in api["items"]] == ["福建永盛铝业有限公司"]
        other = county["items"]["高唐镇"]
        assert client.get(f"/decisions/items/{other.id}/close").status_code in (403, 404)
        assert client.get(f"/api/v1/items/{other.id}/close-preview").status_code in (403, 404)
    for user in (county["leader"], county["viewer"], county["keeper"]):
        page = _as(make_client, user).get(f"/decisions/meetings/{meeting.id}").get_data(as_text=True)
        assert "福建永盛铝业有限公司" in page and "三明市绿源生物科技" in page
    assert gt["lead"].company_name not in _as(make_client, gy["team_lead"]).get("/decisions/").get_data(as_text=True)


def test_the_minutes_show_a_town_only_its_own_items(make_client, county):
    meeting = county["meeting"]
    services.open_meeting(meeting, {county["leader"].id: {"present": True}})
    db.session.flush()
    gy = _as(make_client, county["towns"]["古镛镇"]["team_lead"])
    page = gy.get(f"/decisions/meetings/{meeting.id}/minutes").get_data(as_text=True)
    assert "福建永盛铝业有限公司" in page and "三明市绿源生物科技" not in page
    word = docx.Document(io.BytesIO(gy.get(f"/decisions/meetings/{meeting.id}/minutes.docx").data))
    text = "\n".join(p.text for p in word.paragraphs)
    assert "福建永盛铝业" in text and "绿源生物" not in text
    full = _as(make_client, county["leader"]).get(f"/decisions/meetings/{meeting.id}/minutes").get_data(as_text=True)
    assert "福建永盛铝业有限公司" in full and "三明市绿源生物科技有限公司" in full


def test_only_the_secretariat_changes_the_agenda(make_client, county):
    meeting, gy = county["meeting"], county["towns"]["古镛镇"]
    town_lead = _as(make_client, gy["team_lead"])
    other = county["items"]["高唐镇"]
    assert town_lead.post(f"/decisions/items/{other.id}/remove").status_code == 403
    assert town_lead.post(f"/decisions/items/{county['items']['古镛镇'].id}/remove").status_code == 403
    assert town_lead.post("/decisions/meetings", {"title": "擅自安排", "meeting_on": "2026-12-09"}).status_code == 403
    assert town_lead.post(f"/decisions/meetings/{meeting.id}/open", _attendance_form([county["leader"]])).status_code == 403
    extra = awaiting_lead(county["towns"]["高唐镇"]["officer"], company_name="南平市闽江新能源有限公司")
    assert town_lead.post(f"/api/v1/meetings/{meeting.id}/items", json={"lead_id": extra.id}).status_code == 403
    assert town_lead.post(f"/decisions/meetings/{meeting.id}/items", {"lead_id": str(extra.id)}).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(AgendaItem)) == 2
    assert db.session.scalar(select(func.count()).select_from(Meeting)) == 1
    keeper = _as(make_client, county["keeper"])
    assert keeper.post(f"/api/v1/meetings/{meeting.id}/items", json={"lead_id": extra.id}).status_code == 201


def test_a_town_proposes_its_project_and_the_secretariat_puts_it_on(make_client, county):
    gy, gt = county["towns"]["古镛镇"], county["towns"]["高唐镇"]
    own = awaiting_lead(gy["officer"], company_name="将乐县金森竹木制品有限公司")
    theirs = awaiting_lead(gt["officer"], company_name="南平市闽江新能源有限公司")
    officer = _as(make_client, gy["officer"])
    listing = officer.get("/decisions/").get_data(as_text=True)
    assert "将乐县金森竹木制品有限公司" in listing and "南平市闽江新能源" not in listing
    assert officer.post("/decisions/proposals", {"lead_id": str(own.id), "note": "请安排上会"}).status_code == 302
    assert officer.post("/decisions/proposals", {"lead_id": str(theirs.id)}).status_code in (403, 404)
    assert officer.post("/api/v1/proposals", json={"lead_id": theirs.id}).status_code == 404
    proposal = db.session.scalars(select(Proposal)).one()
    assert (proposal.lead_id, proposal.status, proposal.note) == (own.id, "pending", "请安排上会")
    told = set(db.session.scalars(select(Notification.user_id).where(Notification.kind == "decision_proposed")))
    assert county["keeper"].id in told and gy["team_lead"].id not in told
    twice = officer.post("/decisions/proposals", {"lead_id": str(own.id)}, follow_redirects=True)
    assert "已提请" in twice.get_data(as_text=True)
    keeper = _as(make_client, county["keeper"])
    picker = keeper.get(f"/decisions/meetings/{county['meeting'].id}").get_data(as_text=True)
    assert "将乐县金森竹木制品有限公司" in picker and "单位已提请" in picker
    keeper.post(f"/decisions/meetings/{county['meeting'].id}/items", {"lead_id": str(own.id)})
    proposal = factories.reload(proposal)
    assert (proposal.status, proposal.meeting_id) == ("accepted", county["meeting"].id)


def test_an_admin_names_the_secretariat(make_client, county):
    gy = county["towns"]["古镛镇"]
    admin = _as(make_client, factories.user(roles=("admin",)))
    assert _as(make_client, gy["team_lead"]).post("/decisions/settings", {
        "part": "secretariat", "sec-secretariat_unit_id": str(gy["unit"].id)}).status_code == 403
    assert admin.post("/decisions/settings", {"part": "secretariat",
                                              "sec-secretariat_unit_id": str(gy["unit"].id)}).status_code == 302
    town_lead = _as(make_client, gy["team_lead"])
    assert town_lead.post("/decisions/meetings", {"title": "第8次会议", "meeting_on": "2026-12-16"}).status_code == 302
    assert _as(make_client, county["keeper"]).post("/decisions/meetings", {
        "title": "第9次会议", "meeting_on": "2026-12-23"}).status_code == 403


def test_api_lengths_and_dates_of_a_meeting_are_bounded(make_client, county):
    """Issue 14, finding 8: a 1 MB title was stored; a meeting on 9999-12-31 was accepted."""
    keeper = _as(make_client, county["keeper"])
    long_title = keeper.post("/api/v1/meetings", json={"title": "会" * 1_000_000, "meeting_on": "2026-12-16"})
    far = keeper.post("/api/v1/meetings", json={"title": "第8次会议", "meeting_on": "9999-12-31"})
    assert long_title.status_code in (400, 413, 422) and far.status_code in (400, 422)
    assert db.session.scalar(select(func.count()).select_from(Meeting)) == 1


def test_a_town_withdraws_its_own_proposal_only(make_client, county):
    gy, gt = county["towns"]["古镛镇"], county["towns"]["高唐镇"]
    own = awaiting_lead(gy["officer"], company_name="将乐县金森竹木制品有限公司")
    _as(make_client, gy["officer"]).post("/decisions/proposals", {"lead_id": str(own.id)})
    proposal = db.session.scalars(select(Proposal)).one()
    other = _as(make_client, gt["officer"]).post(f"/decisions/proposals/{proposal.id}/withdraw")
    assert other.status_code in (403, 404) and factories.reload(proposal).status == "pending"
    mine = _as(make_client, gy["team_lead"]).post(f"/decisions/proposals/{proposal.id}/withdraw")
    assert mine.status_code == 302 and factories.reload(proposal).status == "withdrawn"
    again = _as(make_client, gy["officer"]).post(f"/decisions/proposals/{proposal.id}/withdraw", follow_redirects=True)
    assert "只有尚未安排的提请可以撤回" in again.get_data(as_text=True)
