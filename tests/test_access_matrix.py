"""Every GET route × every role, with real records of the own unit and of another unit filled in,
against the table below. A route without an entry fails, so a new page gets its row on purpose.

Each row: "<rule> <variant>" → the roles that may open it. `own`: the ids are the officer's unit's
records (古镛镇), `other`: another town's (高唐镇); `any`: a county-wide record or no id. Allowed
means any answer but 401/403/404 and a redirect to the login page (a rule's refusal such as 409,
or a redirect elsewhere, still shows the person may be there); a server error always fails.

Maintenance: `CRM_PRINT_MATRIX=1 pytest tests/test_access_matrix.py -s` prints the table as it is
now; read every change before pasting it in.
"""
from __future__ import annotations

import io
import os
import re
from datetime import date

import pytest
from sqlalchemy import select
from crm.extensions import db
from tests import factories
from tests.test_decisions import awaiting_lead

ROLES = ("anonymous", "officer", "team_lead", "officer_b", "screener", "secretariat", "leader", "viewer", "admin")
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")

# Routes that need a record in another state than the default one of their argument.
ROUTE_RECORDS = {"screening.notice": {"case_id": "closed_case_id"},
                 "screening.notice_docx": {"case_id": "closed_case_id"}}

_TABLE = """
/ any = officer team_lead officer_b screener secretariat leader viewer admin
/admin/audit any = admin
/admin/operations any = admin
/admin/units any = admin
/admin/units/<int:unit_id> any = admin
/admin/units/new any = admin
/admin/users any = admin
/admin/users/<int:user_id> any = admin
/admin/users/new any = admin
/api/v1/attachments any = officer team_lead officer_b screener secretariat leader viewer admin
/api/v1/attachments/<int:attachment_id>/download other = officer_b leader viewer admin
/api/v1/attachments/<int:attachment_id>/download own = officer team_lead screener leader viewer admin
/api/v1/chains any = officer team_lead officer_b secretariat leader viewer admin
/api/v1/chains/<int:chain_id>/targets/export any = officer team_lead officer_b secretariat leader viewer admin
/api/v1/imports/<int:batch_id> other = officer_b admin
/api/v1/imports/<int:batch_id> own = officer team_lead admin
/api/v1/items/<int:item_id>/close-preview other = leader
/api/v1/items/<int:item_id>/close-preview own = leader
/api/v1/leads any = officer team_lead officer_b secretariat leader viewer admin
/api/v1/leads/<int:lead_id> other = officer_b leader viewer admin
/api/v1/leads/<int:lead_id> own = officer team_lead leader viewer admin
/api/v1/leads/export any = officer team_lead officer_b secretariat leader viewer admin
/api/v1/letters any = officer team_lead officer_b screener secretariat leader viewer admin
/api/v1/letters/<int:letter_id> other = officer_b leader viewer admin
/api/v1/letters/<int:letter_id> own = officer team_lead leader viewer admin
/api/v1/lights any = officer team_lead officer_b secretariat leader viewer admin
/api/v1/meetings any = officer team_lead officer_b secretariat leader viewer admin
/api/v1/meetings/<int:meeting_id> any = officer team_lead officer_b secretariat leader viewer admin
/api/v1/openapi.json any = anonymous officer team_lead officer_b screener secretariat leader viewer admin
/api/v1/problems any = officer team_lead officer_b screener secretariat leader viewer admin
/api/v1/problems/<int:problem_id> other = officer_b leader viewer admin
/api/v1/problems/<int:problem_id> own = officer team_lead screener leader viewer admin
/api/v1/projects any = officer team_lead officer_b secretariat leader viewer admin
/api/v1/projects/<int:lead_id>/agreement other = officer_b leader viewer admin
/api/v1/projects/<int:lead_id>/agreement own = officer team_lead leader viewer admin
/api/v1/projects/<int:lead_id>/investments other = officer_b leader viewer admin
/api/v1/projects/<int:lead_id>/investments own = officer team_lead leader viewer admin
/api/v1/projects/<int:lead_id>/light other = officer_b leader viewer admin
/api/v1/projects/<int:lead_id>/light own = officer team_lead leader viewer admin
/api/v1/projects/<int:lead_id>/milestones other = officer_b leader viewer admin
/api/v1/projects/<int:lead_id>/milestones own = officer team_lead leader viewer admin
/api/v1/projects/<int:lead_id>/results other = officer_b leader viewer admin
/api/v1/projects/<int:lead_id>/results own = officer team_lead leader viewer admin
/api/v1/projects/<int:lead_id>/steps other = officer_b leader viewer admin
/api/v1/projects/<int:lead_id>/steps own = officer team_lead leader viewer admin
/api/v1/proposals any = officer team_lead officer_b secretariat leader viewer admin
/api/v1/scoring/models any = leader admin
/api/v1/screening/cases any = officer team_lead officer_b screener secretariat leader viewer admin
/api/v1/screening/cases/<int:case_id> other = officer_b leader viewer admin
/api/v1/screening/cases/<int:case_id> own = officer team_lead screener leader viewer admin
/api/v1/screening/cases/<int:case_id>/opinions other = officer_b leader viewer admin
/api/v1/screening/cases/<int:case_id>/opinions own = officer team_lead screener leader viewer admin
/api/v1/steps any = officer team_lead officer_b secretariat leader viewer admin
/attachments/<int:attachment_id>/download other = officer_b leader viewer admin
/attachments/<int:attachment_id>/download own = officer team_lead screener leader viewer admin
/chains/ any = officer team_lead officer_b secretariat leader viewer admin
/chains/<int:chain_id> any = officer team_lead officer_b secretariat leader viewer admin
/chains/<int:chain_id>/edit any = team_lead secretariat admin
/chains/<int:chain_id>/nodes/new any = team_lead secretariat admin
/chains/export any = officer team_lead officer_b secretariat leader viewer admin
/chains/firms/<int:firm_id>/edit any = team_lead secretariat admin
/chains/new any = team_lead secretariat admin
/chains/nodes/<int:node_id>/edit any = team_lead secretariat admin
/chains/nodes/<int:node_id>/firms/new any = team_lead secretariat admin
/chains/targets any = officer team_lead officer_b secretariat leader viewer admin
/chains/targets/<int:target_id> other = officer team_lead officer_b secretariat leader viewer admin
/chains/targets/<int:target_id> own = officer team_lead officer_b secretariat leader viewer admin
/chains/targets/<int:target_id>/edit other = officer_b admin
/chains/targets/<int:target_id>/edit own = officer team_lead admin
/chains/targets/import any = officer team_lead officer_b secretariat admin
/chains/targets/new any = officer team_lead officer_b secretariat admin
/decisions/ any = officer team_lead officer_b secretariat leader viewer admin
/decisions/items/<int:item_id>/close other = leader
/decisions/items/<int:item_id>/close own = leader
/decisions/meetings/<int:meeting_id> any = officer team_lead officer_b secretariat leader viewer admin
/decisions/meetings/<int:meeting_id>/minutes any = officer team_lead officer_b secretariat leader viewer admin
/decisions/meetings/<int:meeting_id>/minutes.docx any = officer team_lead officer_b secretariat leader viewer admin
/decisions/settings any = admin
/healthz any = anonymous officer team_lead officer_b screener secretariat leader viewer admin
/imports any = officer team_lead officer_b secretariat admin
/imports/<int:batch_id> other = officer_b admin
/imports/<int:batch_id> own = officer team_lead admin
/imports/<int:batch_id>/progress other = officer_b admin
/imports/<int:batch_id>/progress own = officer team_lead admin
/imports/<int:batch_id>/report other = -
/imports/<int:batch_id>/report own = -
/imports/new any = officer team_lead officer_b secretariat admin
/leads any = officer team_lead officer_b secretariat leader viewer admin
/leads/<int:lead_id> other = officer_b leader viewer admin
/leads/<int:lead_id> own = officer team_lead leader viewer admin
/leads/<int:lead_id>/edit other = officer_b
/leads/<int:lead_id>/edit own = officer team_lead
/leads/export any = officer team_lead officer_b secretariat leader viewer admin
/leads/new any = officer team_lead officer_b secretariat
/letters any = officer team_lead officer_b screener secretariat leader viewer admin
/letters/<int:letter_id> other = officer_b leader viewer admin
/letters/<int:letter_id> own = officer team_lead leader viewer admin
/letters/<int:letter_id>/paper other = officer_b leader viewer admin
/letters/<int:letter_id>/paper own = officer team_lead leader viewer admin
/letters/<int:letter_id>/paper.docx other = officer_b leader viewer admin
/letters/<int:letter_id>/paper.docx own = officer team_lead leader viewer admin
/login any = anonymous officer team_lead officer_b screener secretariat leader viewer admin
/notifications/ any = officer team_lead officer_b screener secretariat leader viewer admin
/papers/settings any = admin
/problems any = officer team_lead officer_b screener secretariat leader viewer admin
/problems/<int:problem_id> other = officer_b leader viewer admin
/problems/<int:problem_id> own = officer team_lead screener leader viewer admin
/problems/stats any = leader viewer admin
/dashboard any = team_lead secretariat leader viewer admin
/api/v1/dashboard any = team_lead secretariat leader viewer admin
/api/v1/ranking any = team_lead secretariat leader viewer admin
/bulletins/<int:bulletin_id> any = leader viewer admin
/bulletins/<int:bulletin_id>.docx any = leader viewer admin
/follow-ups any = officer team_lead officer_b secretariat
/imports/template.xlsx any = officer team_lead officer_b secretariat admin
/ranking.xlsx any = team_lead secretariat leader viewer admin
/ranking any = team_lead secretariat leader viewer admin
/bulletins any = leader viewer admin
/profile any = officer team_lead officer_b screener secretariat leader viewer admin
/projects any = officer team_lead officer_b secretariat leader viewer admin
/projects/<int:lead_id> other = officer_b leader viewer admin
/projects/<int:lead_id> own = officer team_lead leader viewer admin
/projects/<int:lead_id>/agreement other = officer_b
/projects/<int:lead_id>/agreement own = officer team_lead
/projects/export any = officer team_lead officer_b secretariat leader viewer admin
/scoring/ any = leader admin
/scoring/jobs/<job_id> any = leader admin
/screening/ any = officer team_lead officer_b secretariat leader viewer admin
/screening/calendar any = admin
/screening/cases/<int:case_id> other = officer_b leader viewer admin
/screening/cases/<int:case_id> own = officer team_lead screener leader viewer admin
/screening/cases/<int:case_id>/notice other = officer_b leader viewer admin
/screening/cases/<int:case_id>/notice own = officer team_lead screener leader viewer admin
/screening/cases/<int:case_id>/notice.docx other = officer_b leader viewer admin
/screening/cases/<int:case_id>/notice.docx own = officer team_lead screener leader viewer admin
/screening/leads/<int:lead_id>/submit other = officer_b
/screening/leads/<int:lead_id>/submit own = officer team_lead
/screening/settings any = admin
/screening/thresholds any = admin
/screening/thresholds/<int:threshold_id> any = admin
/screening/timeliness any = leader viewer admin
/screening/todo any = screener
/sources any = officer team_lead officer_b secretariat leader viewer admin
/sources/<int:source_id> any = officer team_lead officer_b secretariat leader viewer admin
/sources/<int:source_id>/edit any = officer team_lead officer_b secretariat admin
/sources/new any = officer team_lead officer_b secretariat admin
/tracking/points any = team_lead secretariat leader viewer admin
/tracking/results/import any = admin
/tracking/settings any = admin
/tracking/steps any = admin
/tracking/steps/<int:step_id> any = admin
/units/<int:unit_id>/desk any = officer team_lead leader viewer admin
"""


@pytest.fixture()
def county(app, db_session):
    """Two towns (own: 古镛镇, other: 高唐镇), a member unit asked on the own case, the secretariat,
    and one record of every kind the routes take, for each town where records belong to a unit."""
    from crm.chains.models import LocalEnterprise
    from crm.decisions import services as decisions
    from crm.interchange.models import ImportBatch
    from crm.screening import services as screening
    from crm.screening.models import ScreeningThreshold
    from tests.test_chains import make_target

    own, other = factories.unit("古镛镇"), factories.unit("高唐镇")
    member, _screener = factories.member_unit("县发改局")
    office = factories.unit("县招商服务中心", kind="investment_group")
    decisions.save_secretariat(office.id)
    users = {
        "officer": factories.user(unit_=own), "team_lead": factories.user(roles=("team_lead",), unit_=own),
        "officer_b": factories.user(unit_=other), "screener": _screener,
        "secretariat": factories.user(roles=("team_lead",), unit_=office),
        "leader": factories.user(roles=("leader",)), "viewer": factories.user(roles=("viewer",)),
        "admin": factories.user(roles=("admin",)),
    }
    decisions.set_membership([(users["leader"].id, "县长")], users["leader"].id)
    ids: dict[str, tuple] = {}

    leads = {side: factories.negotiating_lead(owner=users[u]) for side, u in (("own", "officer"), ("other", "officer_b"))}
    ids["lead_id"] = (leads["own"].id, leads["other"].id)
    elsewhere, _other_screener = factories.member_unit("县自然资源局")
    cases = {side: screening.submit(leads[side], leads[side].owner, [unit.id])
             for side, unit in (("own", member), ("other", elsewhere))}  # the screener's unit is asked on the own
    ids["case_id"] = (cases["own"].id, cases["other"].id)
    closed = {side: screening.submit(factories.negotiating_lead(owner=leads[side].owner), leads[side].owner, [unit.id])
              for side, unit in (("own", member), ("other", elsewhere))}
    for case in closed.values():
        screening.close_case(case, by_deadline=True)  # its notice exists
    ids["closed_case_id"] = (closed["own"].id, closed["other"].id)

    awaiting = {side: awaiting_lead(users[u]) for side, u in (("own", "officer"), ("other", "officer_b"))}
    meeting = decisions.schedule_meeting("县招商引资工作领导小组第7次会议", date(2026, 12, 9), "县政府", users["secretariat"])
    items = {side: decisions.add_item(meeting, awaiting[side]) for side in ("own", "other")}
    decisions.open_meeting(meeting, {users["leader"].id: {"present": True}})
    ids["meeting_id"] = (meeting.id,)
    ids["item_id"] = (items["own"].id, items["other"].id)

    chain = factories.chain()
    node = chain.nodes[0]
    firm = LocalEnterprise(node_id=node.id, name="将乐县金森竹木制品有限公司")
    db.session.add(firm)
    targets = {side: make_target(node, unit, company_name=name) for side, unit, name in (
        ("own", own, "广东佛山兴发铝材有限公司"), ("other", other, "浙江永康五金制品有限公司"))}
    ids["chain_id"], ids["node_id"], ids["firm_id"] = (chain.id,), (node.id,), (firm.id,)
    ids["target_id"] = (targets["own"].id, targets["other"].id)

    batches = {side: ImportBatch(created_by_id=users[u].id, unit_id=unit.id, filename="线索.xlsx",
                                 stored_path="/nonexistent/线索.xlsx", sha256="0" * 64, status="failed")
               for side, u, unit in (("own", "officer", own), ("other", "officer_b", other))}
    db.session.add_all(batches.values())
    threshold = ScreeningThreshold(min_tax_per_mu_wan=5)
    db.session.add(threshold)
    db.session.flush()
    ids["batch_id"] = (batches["own"].id, batches["other"].id)
    ids["threshold_id"] = (threshold.id,)
    ids["source_id"] = (factories.source().id,)
    ids["unit_id"] = (own.id,)
    ids["user_id"] = (users["officer"].id,)
    ids["job_id"] = ("no-such-job",)

    # Tracked projects (admitted, with an agreement), a letter and a problem on each side; the
    # own side's problem is addressed to the screener's department.
    from crm.letters.models import Letter
    from crm.problems import services as problems
    from crm.tracking import services as tracking
    from crm.tracking.models import StepDefinition

    projects = {side: factories.lead(owner=users[u]) for side, u in (("own", "officer"), ("other", "officer_b"))}
    for side, project in projects.items():
        project.stage = "admitted"
        db.session.flush()
        tracking.save_agreement(project, {"total_investment_wan": 12000, "fixed_asset_investment_wan": 9000,
                                          "land_area_mu": 60}, project.owner)
    ids["project_id"] = (projects["own"].id, projects["other"].id)
    letters = {side: Letter(lead_id=projects[side].id, kind="reminder", milestone="start",
                            unit_id=projects[side].owner_unit_id, issued_on=date(2026, 12, 1),
                            reply_due_on=date(2026, 12, 8)) for side in ("own", "other")}
    db.session.add_all(letters.values())
    db.session.flush()
    ids["letter_id"] = (letters["own"].id, letters["other"].id)
    found = {side: problems.raise_problem(projects[side], users[u], "land", "用地指标待落实", unit.id, date(2027, 1, 15))
             for side, unit, u in (("own", member, "officer"), ("other", elsewhere, "officer_b"))}
    ids["problem_id"] = (found["own"].id, found["other"].id)
    ids["step_id"] = (db.session.scalars(select(StepDefinition.id).order_by(StepDefinition.position)).first(),)
    from crm.bulletins import services as bulletins
    from crm.dashboard.period import Period

    with app.test_request_context():  # the bulletin's words need a request's language
        bulletin = bulletins.make(Period.month(2026, 11), users["admin"])
        db.session.commit()
        ids["bulletin_id"] = (bulletin.id,)
    return users, ids


def _cases(app, ids):
    """(key, url) for every GET route and variant."""
    out = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        args = sorted(rule.arguments)
        source = {a: ROUTE_RECORDS.get(rule.endpoint, {}).get(a, a) for a in args}
        if "/projects/<" in rule.rule:
            source["lead_id"] = "project_id"  # a project page needs an admitted (tracked) lead
        variants = ["own", "other"] if any(len(ids[source[a]]) == 2 for a in args) else ["any"]
        for variant in variants:
            index = 1 if variant == "other" else 0
            values = {a: ids[source[a]][index if len(ids[source[a]]) == 2 else 0] for a in args}
            url = rule.rule
            for name, value in values.items():
                url = re.sub(r"<(?:[^:<>]+:)?" + name + ">", str(value), url)
            out.append((f"{rule.rule} {variant}", url))
    return out


def _upload(client, case_id: int) -> int:
    """The investor's material on a case, added as the lead's officer does (through the page)."""
    from crm.attachments.models import Attachment

    response = client.post(f"/attachments/screening_case/{case_id}", {"file": (io.BytesIO(PDF), "可研报告.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:300]
    return db.session.scalars(select(Attachment.id).where(Attachment.owner_kind == "screening_case",
                                                          Attachment.owner_id == case_id)).one()


def _allowed(response) -> bool:
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code in (401, 403, 404):
        return False
    return not (response.status_code in (301, 302, 303) and "/login" in response.headers.get("Location", ""))


def test_every_get_route_for_every_role(app, make_client, county):
    users, ids = county
    clients = {"anonymous": make_client()}
    for role, user in users.items():
        clients[role] = make_client()
        clients[role].login(user)
    ids["attachment_id"] = tuple(_upload(clients[role], ids["case_id"][i]) for i, role in enumerate(("officer", "officer_b")))
    cases = _cases(app, ids)
    actual = {key: {role for role, client in clients.items() if _allowed(client.get(url))} for key, url in cases}
    if os.environ.get("CRM_PRINT_MATRIX"):
        for key, roles in actual.items():
            print(f"{key} = {' '.join(r for r in ROLES if r in roles) or '-'}")
    table = _parse(_TABLE)
    missing = sorted(set(actual) - set(table))
    assert not missing, f"routes without an entry in the access table: {missing}"
    wrong = {key: (sorted(table[key]), sorted(actual[key])) for key in actual if actual[key] != table[key]}
    assert not wrong, f"expected vs actual roles: {wrong}"


def _parse(text: str) -> dict[str, set[str]]:
    table = {}
    for line in text.strip().splitlines():
        key, _, roles = line.partition(" = ")
        table[key.strip()] = set() if roles.strip() == "-" else set(roles.split())
    return table
