"""问题清单 (issue 15): raising a problem on a tracked project, the responsible unit (often a
department) solving it, who may change it, the list with its filters, overdue problems, the
statistics per unit with the median days to solve, and the API."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from crm import signals
from crm.audit.models import AuditEntry
from crm.extensions import db
from crm.notifications.models import Notification
from crm.problems import queries, services
from crm.problems.models import Problem
from tests import factories

MOMENT = "2026-03-02T10:00:00+08:00"  # today = 2026-03-02
TODAY = date(2026, 3, 2)


def _as(make_client, user):
    c = make_client()
    c.login(user)
    return c


def admitted(owner, **fields):
    created = factories.lead(owner=owner, **fields)
    created.stage = "admitted"
    db.session.flush()
    return created


@pytest.fixture()
def county(app, db_session, clock_at):
    """古镛镇 owns an admitted project (officer, team lead); 县自然资源局 (a department) has a
    liaison and is responsible for land; 高唐镇 has an officer of its own; a leader, a viewer, an
    admin; 县旧机构 is inactive."""
    clock_at(MOMENT)
    town = factories.unit("古镛镇")
    officer = factories.user(unit_=town)
    team_lead = factories.user(roles=("team_lead",), unit_=town)
    land = factories.unit("县自然资源局", kind="department")
    liaison = factories.user(roles=("screener",), unit_=land)
    other_town = factories.unit("高唐镇")
    other_officer = factories.user(unit_=other_town)
    old = factories.unit("县旧机构", kind="department")
    old.active = False
    lead = admitted(officer, company_name="福建永盛铝业有限公司", project_name="年产5万吨铝型材项目",
                    note="联系人王建国 13905981234")
    other_lead = admitted(other_officer, company_name="三明市绿源生物科技有限公司")
    db.session.commit()  # releases the test's savepoint: the rows outlive each request's session
    return {"app": app, "town": town, "officer": officer, "team_lead": team_lead, "land": land, "liaison": liaison,
            "other_town": other_town, "other_officer": other_officer, "old": old, "lead": lead,
            "other_lead": other_lead, "leader": factories.user(roles=("leader",)),
            "viewer": factories.user(roles=("viewer",)), "admin": factories.user(roles=("admin",))}


def make_problem(county, lead=None, unit=None, category="land", due=date(2026, 3, 20), raised_by=None,
                 description="供地指标尚未落实"):
    with county["app"].test_request_context():  # as a request would: commit at the end
        problem = services.raise_problem(lead or county["lead"], raised_by or county["officer"], category,
                                         description, (unit or county["land"]).id, due)
        db.session.commit()
    return factories.reload(problem)


def _form(unit_id, category="land", description="项目用地规划调整尚未批复", due="2026-03-31"):
    return {"category": category, "description": description, "responsible_unit_id": str(unit_id),
            "due_on": due}


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Problem))


@pytest.fixture()
def changed_projects():
    seen: list[int] = []

    def receiver(sender=None, **kwargs):
        seen.append(kwargs["lead_id"])

    signals.project_changed.connect(receiver)
    yield seen
    signals.project_changed.disconnect(receiver)


# --- raising ------------------------------------------------------------------------------------

def test_an_officer_raises_a_problem_and_the_responsible_unit_is_told(make_client, county, changed_projects):
    client = _as(make_client, county["officer"])
    response = client.post(f"/projects/{county['lead'].id}/problems", _form(county["land"].id))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    problem = db.session.scalars(select(Problem)).one()
    assert (problem.category, problem.status, problem.responsible_unit_id, problem.due_on) == \
        ("land", "open", county["land"].id, date(2026, 3, 31))
    assert problem.raised_by_id == county["officer"].id and problem.raised_on == TODAY
    assert response.headers["Location"].endswith(f"/problems/{problem.id}")
    assert changed_projects == [county["lead"].id]
    told = db.session.scalars(select(Notification).where(Notification.kind == "problem_assigned")).all()
    assert [n.user_id for n in told] == [county["liaison"].id]
    assert told[0].link == f"/problems/{problem.id}"
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.entity_type == "project_problems")) >= 1
    page = client.get(f"/projects/{county['lead'].id}").get_data(as_text=True)
    assert "项目用地规划调整尚未批复" in page and "县自然资源局" in page


@pytest.mark.parametrize("change, message", [
    ({"responsible_unit_id": "OLD"}, "已停用"),                  # an inactive unit is refused by name
    ({"responsible_unit_id": "999999"}, "请选择负责解决的责任单位"),
    ({"responsible_unit_id": ""}, "请选择负责解决的责任单位"),
    ({"due_on": "2026-03-01"}, "办结时限不能早于今天"),
    ({"due_on": ""}, "请填写办结时限"),
    ({"description": "   "}, "请填写问题描述"),
    ({"category": "weather"}, "请选择问题类别"),
])
def test_raising_with_bad_input_is_refused_and_nothing_is_written(make_client, county, change, message):
    data = _form(county["land"].id)
    data.update(change)
    if data["responsible_unit_id"] == "OLD":
        data["responsible_unit_id"] = str(county["old"].id)
    response = _as(make_client, county["officer"]).post(f"/projects/{county['lead'].id}/problems", data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert _count() == 0
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


def test_inactive_unit_is_refused_with_its_name(make_client, county):
    response = _as(make_client, county["officer"]).post(f"/projects/{county['lead'].id}/problems",
                                                        _form(county["old"].id))
    assert response.status_code == 400
    assert "县旧机构 已停用" in response.get_data(as_text=True)
    assert _count() == 0


def test_a_due_date_of_today_is_accepted(make_client, county):
    response = _as(make_client, county["officer"]).post(f"/projects/{county['lead'].id}/problems",
                                                        _form(county["land"].id, due="2026-03-02"))
    assert response.status_code == 302
    assert _count() == 1


def test_the_raise_form_offers_only_active_units(make_client, county):
    page = _as(make_client, county["officer"]).get(f"/projects/{county['lead'].id}").get_data(as_text=True)
    form = page.split('name="responsible_unit_id"', 1)[1].split("</select>", 1)[0]
    assert "县自然资源局" in form and "县旧机构" not in form


def test_another_unit_cannot_raise_on_a_project_it_may_not_read(make_client, county):
    response = _as(make_client, county["other_officer"]).post(f"/projects/{county['lead'].id}/problems",
                                                              _form(county["land"].id))
    assert response.status_code == 403
    assert _count() == 0


def test_the_viewer_reads_the_project_but_raises_nothing(make_client, county):
    """The 督查 viewer changes nothing: no form on the project page, a 403 for a forged post."""
    viewer = _as(make_client, county["viewer"])
    page = viewer.get(f"/projects/{county['lead'].id}")
    assert page.status_code == 200 and "problems.raise" not in page.get_data(as_text=True)
    assert f"/projects/{county['lead'].id}/problems" not in page.get_data(as_text=True)
    assert viewer.post(f"/projects/{county['lead'].id}/problems", _form(county["land"].id)).status_code == 403
    assert _count() == 0
    leader = _as(make_client, county["leader"])  # a leader may put a problem on the list
    assert leader.post(f"/projects/{county['lead'].id}/problems", _form(county["land"].id)).status_code == 302
    assert _count() == 1


def test_no_problem_on_a_lead_not_yet_admitted(make_client, county):
    lead = factories.lead(owner=county["officer"])
    client = _as(make_client, county["officer"])
    assert client.post(f"/projects/{lead.id}/problems", _form(county["land"].id)).status_code == 404
    assert client.post(f"/api/v1/projects/{lead.id}/problems", json={
        "category": "land", "description": "x", "responsible_unit_id": county["land"].id,
        "due_on": "2026-03-31"}).status_code == 404
    assert _count() == 0


# --- working on it ------------------------------------------------------------------------------

def _change(client, problem, **data):
    form = {"status": problem.status, "resolution": "", "due_on": problem.due_on.isoformat(),
            "version": str(problem.version)}
    form.update(data)
    return client.post(f"/problems/{problem.id}", form)


def test_the_liaison_of_the_responsible_unit_solves_it(make_client, county, changed_projects):
    problem = make_problem(county)
    liaison = _as(make_client, county["liaison"])
    page = liaison.get(f"/problems/{problem.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # the project's name and company only: no link to the project or the lead, no personal data
    assert "年产5万吨铝型材项目" in html and "福建永盛铝业有限公司" in html
    assert f"/projects/{county['lead'].id}" not in html and f"/leads/{county['lead'].id}" not in html
    assert "王建国" not in html and "13905981234" not in html
    assert liaison.get(f"/projects/{county['lead'].id}").status_code == 403
    assert _change(liaison, problem, status="solving").status_code == 302
    problem = factories.reload(problem)
    response = _change(liaison, problem, status="solved", resolution="已调整用地指标，完成预审")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    problem = factories.reload(problem)
    assert (problem.status, problem.resolution, problem.solved_by_id, problem.solved_on) == \
        ("solved", "已调整用地指标，完成预审", county["liaison"].id, TODAY)
    assert changed_projects.count(county["lead"].id) == 3  # raised, solving, solved
    solved = db.session.scalars(select(Notification).where(Notification.kind == "problem_solved")).all()
    assert [n.user_id for n in solved] == [county["officer"].id]


@pytest.mark.parametrize("status, message", [
    ("solved", "请填写问题的解决情况"),
    ("closed_unsolved", "请填写未解决即关闭的理由"),
])
def test_closing_without_resolution_or_reason_is_refused(make_client, county, status, message):
    problem = make_problem(county)
    response = _change(_as(make_client, county["liaison"]), problem, status=status, resolution="  ")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert factories.reload(problem).status == "open"


@pytest.mark.parametrize("who, allowed", [
    ("liaison", True),         # the responsible unit's liaison
    ("officer", True),         # the owner unit's officer
    ("team_lead", True),       # the owner unit's team lead
    ("admin", True),
    ("other_officer", False),  # another unit's officer
    ("leader", False),         # reads every project, changes nothing
    ("viewer", False),
])
def test_who_may_change_a_problem(make_client, county, who, allowed):
    problem = make_problem(county)
    client = _as(make_client, county[who])
    response = _change(client, problem, status="solving")
    assert response.status_code == (302 if allowed else 403)
    assert factories.reload(problem).status == ("solving" if allowed else "open")
    api = client.patch(f"/api/v1/problems/{problem.id}", json={"version": factories.reload(problem).version,
                                                               "status": "open"},
                       headers={"X-CSRFToken": client.csrf_token()})
    assert api.status_code == (200 if allowed else 403)


def test_another_units_officer_cannot_open_or_change_it(make_client, county):
    problem = make_problem(county)
    client = _as(make_client, county["other_officer"])
    assert client.get(f"/problems/{problem.id}").status_code == 403
    assert _change(client, problem, status="solved", resolution="x").status_code == 403
    assert client.get(f"/api/v1/problems/{problem.id}").status_code == 403
    assert factories.reload(problem).status == "open"


def test_a_liaison_of_another_department_cannot_change_it(make_client, county):
    _unit, other_liaison = factories.member_unit("县生态环境局")
    problem = make_problem(county)
    client = _as(make_client, other_liaison)
    assert client.get(f"/problems/{problem.id}").status_code == 403
    assert _change(client, problem, status="solving").status_code == 403


@pytest.mark.parametrize("start, target, ok", [
    ("open", "solving", True), ("open", "solved", True), ("open", "closed_unsolved", True),
    ("solving", "open", True), ("solving", "solved", True), ("solving", "closed_unsolved", True),
    ("solved", "open", True), ("closed_unsolved", "open", True),          # reopening
    ("solved", "solving", False), ("solved", "closed_unsolved", False), ("closed_unsolved", "solved", False),
])
def test_status_moves(app, county, start, target, ok):
    problem = make_problem(county)
    with app.test_request_context():
        if start != "open":
            services.change_problem(problem, county["liaison"], problem.version, status=start, resolution="办结")
        try:
            services.change_problem(problem, county["liaison"], problem.version, status=target, resolution="办结")
        except services.ProblemError as exc:
            assert not ok and exc.status == 409
        else:
            assert ok and problem.status == target


def test_reopening_clears_the_resolution(app, county):
    problem = make_problem(county)
    with app.test_request_context():
        services.change_problem(problem, county["liaison"], problem.version, status="solved", resolution="已解决")
        services.change_problem(problem, county["officer"], problem.version, status="open")
    assert (problem.status, problem.resolution, problem.solved_by_id, problem.solved_on) == ("open", None, None, None)


def test_a_stale_version_is_refused(make_client, county):
    problem = make_problem(county)
    stale = problem.version
    client = _as(make_client, county["liaison"])
    assert _change(client, problem, status="solving").status_code == 302
    response = client.post(f"/problems/{problem.id}", {"status": "solved", "resolution": "已解决",
                                                       "due_on": "2026-03-20", "version": str(stale)})
    assert response.status_code == 409
    assert factories.reload(problem).status == "solving"
    api = client.patch(f"/api/v1/problems/{problem.id}", json={"version": stale, "status": "open"},
                       headers={"X-CSRFToken": client.csrf_token()})
    assert api.status_code == 409


def test_the_due_date_moves_but_not_before_today(make_client, county):
    problem = make_problem(county)
    client = _as(make_client, county["officer"])
    response = _change(client, problem, due_on="2026-02-28")
    assert response.status_code == 400 and "办结时限不能早于今天" in response.get_data(as_text=True)
    assert _change(client, factories.reload(problem), due_on="2026-04-30").status_code == 302
    assert factories.reload(problem).due_on == date(2026, 4, 30)


# --- the list, overdue, the unit desk -------------------------------------------------------------

@pytest.fixture()
def several(county, clock_at):
    """Raised on 2026-02-01: land to 县自然资源局 (overdue), funding to 高唐镇 (due later), planning to
    县自然资源局 solved; and one on 高唐镇's own project addressed to 高唐镇."""
    clock_at("2026-02-01T10:00:00+08:00")
    overdue = make_problem(county, category="land", due=date(2026, 2, 20), description="用地逾期")
    funding = make_problem(county, unit=county["other_town"], category="funding", due=date(2026, 4, 1),
                           description="资金缺口")
    solved = make_problem(county, category="planning", due=date(2026, 3, 1), description="规划已解决")
    foreign = make_problem(county, lead=county["other_lead"], unit=county["other_town"], category="utilities",
                           due=date(2026, 5, 1), raised_by=county["other_officer"], description="水电气配套")
    clock_at("2026-02-10T10:00:00+08:00")
    with county["app"].test_request_context():
        solved = db.session.get(Problem, solved.id)
        services.change_problem(solved, county["liaison"], solved.version, status="solved",
                                resolution="规划调整完成")
        db.session.commit()
    clock_at(MOMENT)
    # ids: each request's end detaches the objects of the test's session
    return {"overdue": overdue.id, "funding": funding.id, "solved": solved.id, "foreign": foreign.id}


@pytest.mark.parametrize("query, expected", [
    ("", {"overdue", "funding", "solved", "foreign"}),
    ("?status=open", {"overdue", "funding", "foreign"}),
    ("?status=solved", {"solved"}),
    ("?category=funding", {"funding"}),
    ("?unit_id=LAND", {"overdue", "solved"}),
    ("?overdue=1", {"overdue"}),
    ("?unit_id=LAND&overdue=1", {"overdue"}),
    ("?status=bogus", {"overdue", "funding", "solved", "foreign"}),  # unknown filter values are ignored
])
def test_list_filters(make_client, county, several, query, expected):
    query = query.replace("LAND", str(county["land"].id))
    client = _as(make_client, county["leader"])
    html = client.get("/problems" + query).get_data(as_text=True)
    shown = {k for k, p in several.items() if f'data-problem="{p}"' in html}
    assert shown == expected
    api_query = query.replace("overdue=1", "overdue=true").replace("status=bogus", "")
    api = client.get("/api/v1/problems" + api_query).get_json()
    assert {k for k, p in several.items() if p in {i["id"] for i in api["items"]}} == expected


@pytest.mark.parametrize("who, expected", [
    ("leader", {"overdue", "funding", "solved", "foreign"}),
    ("admin", {"overdue", "funding", "solved", "foreign"}),
    ("officer", {"overdue", "funding", "solved"}),            # the own unit's projects
    ("other_officer", {"funding", "foreign"}),                # addressed to the own unit + own project
    ("liaison", {"overdue", "solved"}),                       # addressed to the own unit only
])
def test_who_sees_which_problems(make_client, county, several, who, expected):
    html = _as(make_client, county[who]).get("/problems").get_data(as_text=True)
    assert {k for k, p in several.items() if f'data-problem="{p}"' in html} == expected


def test_the_liaison_list_shows_no_link_to_the_project(make_client, county, several):
    html = _as(make_client, county["liaison"]).get("/problems").get_data(as_text=True)
    assert "福建永盛铝业有限公司" in html and f"/projects/{county['lead'].id}" not in html
    assert "王建国" not in html


def test_an_overdue_problem_is_shown_as_overdue(make_client, county, several):
    client = _as(make_client, county["officer"])
    html = client.get("/problems").get_data(as_text=True)
    row = html.split(f'data-problem="{several["overdue"]}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-testid="overdue"' in row
    other = html.split(f'data-problem="{several["funding"]}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-testid="overdue"' not in other
    assert 'data-testid="overdue"' in client.get(f"/problems/{several['overdue']}").get_data(as_text=True)
    assert client.get(f"/api/v1/problems/{several['overdue']}").get_json()["overdue"] is True
    project = client.get(f"/projects/{county['lead'].id}").get_data(as_text=True)
    assert 'data-testid="overdue"' in project.split('data-panel="problems"', 1)[1]


def test_the_unit_desk_lists_open_problems_overdue_first(make_client, county, several):
    later = make_problem(county, due=date(2026, 6, 1), description="后到期")
    html = _as(make_client, county["liaison"]).get(f"/units/{county['land'].id}/desk").get_data(as_text=True)
    panel = html.split('data-panel="problems"', 1)[1]
    assert panel.index(f'data-problem="{several["overdue"]}"') < panel.index(f'data-problem="{later.id}"')
    assert f'data-problem="{several["solved"]}"' not in panel  # solved: nothing to do
    assert f"/projects/{county['lead'].id}" not in panel


# --- statistics ---------------------------------------------------------------------------------

def test_stats_per_unit_with_the_median_days_to_solve(app, make_client, county, clock_at):
    """县自然资源局 solves in 2, 4 and 10 days (median 4) and has one open overdue and one open on
    time; 高唐镇 solves in 1 and 2 days (median 1.5) and closed one unsolved."""
    def solve(unit, raised, solved, status="solved"):
        clock_at(f"{raised}T09:00:00+08:00")
        p = make_problem(county, unit=unit, due=date.fromisoformat(raised))
        clock_at(f"{solved}T09:00:00+08:00")
        with app.test_request_context():
            services.change_problem(p, county["admin"], p.version, status=status, resolution="办结")
            db.session.commit()
        return p

    for raised, solved in (("2026-01-05", "2026-01-07"), ("2026-01-05", "2026-01-09"), ("2026-01-10", "2026-01-20")):
        solve(county["land"], raised, solved)
    for raised, solved in (("2026-01-05", "2026-01-06"), ("2026-01-05", "2026-01-07")):
        solve(county["other_town"], raised, solved)
    solve(county["other_town"], "2026-01-05", "2026-01-30", status="closed_unsolved")
    clock_at("2026-02-01T09:00:00+08:00")
    make_problem(county, due=date(2026, 2, 15))
    make_problem(county, due=date(2026, 4, 15))
    clock_at(MOMENT)
    with app.test_request_context():
        rows = {s.unit.name: s for s in queries.stats()}
    land, town = rows["县自然资源局"], rows["高唐镇"]
    assert (land.open, land.overdue, land.solved, land.closed_unsolved, land.median_days) == (2, 1, 3, 0, 4.0)
    assert (town.open, town.overdue, town.solved, town.closed_unsolved, town.median_days) == (0, 0, 2, 1, 1.5)
    html = _as(make_client, county["leader"]).get("/problems/stats").get_data(as_text=True)
    row = html.split(f'data-unit="{county["land"].id}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-col="median">4<' in row and 'data-col="overdue"><a' in row
    row = html.split(f'data-unit="{county["other_town"].id}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-col="median">1.5<' in row


@pytest.mark.parametrize("who, status", [("leader", 200), ("viewer", 200), ("admin", 200),
                                         ("officer", 403), ("team_lead", 403), ("liaison", 403)])
def test_stats_are_for_county_wide_readers(make_client, county, who, status):
    assert _as(make_client, county[who]).get("/problems/stats").status_code == status


# --- API ----------------------------------------------------------------------------------------

def _api(client, method, url, body):
    return getattr(client, method)(url, json=body, headers={"X-CSRFToken": client.csrf_token()})


def test_api_raise_read_and_solve(make_client, county):
    officer = _as(make_client, county["officer"])
    response = _api(officer, "post", f"/api/v1/projects/{county['lead'].id}/problems", {
        "category": "utilities", "description": "园区供电容量不足", "responsible_unit_id": county["land"].id,
        "due_on": "2026-03-15"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["status"], body["category"], body["due_on"], body["overdue"]) == \
        ("open", "utilities", "2026-03-15", False)
    liaison = _as(make_client, county["liaison"])
    got = liaison.get(f"/api/v1/problems/{body['id']}").get_json()
    assert got["company_name"] == "福建永盛铝业有限公司" and "contact_name" not in got
    refused = _api(liaison, "patch", f"/api/v1/problems/{body['id']}", {"version": got["version"],
                                                                         "status": "solved"})
    assert refused.status_code == 422 and "resolution" in refused.get_json()["error"]["fields"]
    solved = _api(liaison, "patch", f"/api/v1/problems/{body['id']}", {
        "version": got["version"], "status": "solved", "resolution": "已增容"})
    assert solved.status_code == 200
    assert solved.get_json()["solved_by_id"] == county["liaison"].id
    assert solved.get_json()["solved_on"] == "2026-03-02"


@pytest.mark.parametrize("change, field", [
    ({"responsible_unit_id": "OLD"}, "responsible_unit_id"),
    ({"due_on": "2026-03-01"}, "due_on"),
    ({"due_on": "next week"}, "due_on"),
    ({"description": ""}, "description"),
    ({"category": "weather"}, "category"),
])
def test_api_bad_input_names_the_field(make_client, county, change, field):
    body = {"category": "land", "description": "用地问题", "responsible_unit_id": county["land"].id,
            "due_on": "2026-03-31", **change}
    if body["responsible_unit_id"] == "OLD":
        body["responsible_unit_id"] = county["old"].id
    response = _api(_as(make_client, county["officer"]), "post",
                    f"/api/v1/projects/{county['lead'].id}/problems", body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert _count() == 0


def test_api_raise_on_another_units_project_is_refused(make_client, county):
    response = _api(_as(make_client, county["other_officer"]), "post",
                    f"/api/v1/projects/{county['lead'].id}/problems",
                    {"category": "land", "description": "x", "responsible_unit_id": county["land"].id,
                     "due_on": "2026-03-31"})
    assert response.status_code == 403
    assert _count() == 0


def test_the_nav_links_the_problem_list(make_client, county):
    for who in ("officer", "liaison", "leader"):
        assert 'href="/problems"' in _as(make_client, county[who]).get("/problems").get_data(as_text=True)
