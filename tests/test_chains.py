"""Industry chains: the map and its gaps, nodes and local firms, target companies, converting a
target into a lead, and importing a target list."""
from __future__ import annotations

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEntry
from crm.chains import services
from crm.chains.models import ChainNode, LocalEnterprise, Target
from crm.chains.queries import COVERED, GAP, IN_PROGRESS, node_figures
from crm.extensions import db
from crm.leads.models import Lead
from crm.leads.services import change_stage
from tests import factories


def make_target(node, unit, company_name=None, **fields):
    data = {"node_id": node.id, "company_name": company_name or f"广东佛山测试铝材有限公司{node.id}",
            "uscc": None, "location": "广东省佛山市", "reason": "fill", "note": None, "priority": "high",
            "unit_id": unit.id, "officer_id": None, "status": "not_contacted"}
    data.update(fields)
    return services.save_target(None, data, None, confirmed=True)


@pytest.fixture()
def county(db_session):
    """A chain of three nodes: one with a local firm (covered), one with an open lead (in
    progress), one with nothing (gap); a town with an officer and a team lead, another town."""
    town = factories.unit("万安镇")
    other_town = factories.unit("高唐镇")
    officer = factories.user(unit_=town, full_name="张志强")
    team_lead = factories.user(roles=("team_lead",), unit_=town)
    other_officer = factories.user(unit_=other_town)
    chain = factories.chain(name="轻合金", nodes=("再生铝熔炼", "型材挤压", "表面处理"))
    melt, extrude, surface = chain.nodes
    melt.tier, extrude.tier, surface.tier = "upstream", "midstream", "midstream"
    surface.intent = "fill"
    db.session.add(LocalEnterprise(node=melt, name="福建省将乐县富远铝业有限公司", uscc=factories.valid_uscc(),
                                   output_wan=Decimal("52000")))
    lead = factories.lead(owner=other_officer, company_name="江西新铝型材有限公司", chain_id=chain.id,
                          chain_node_id=extrude.id)
    db.session.flush()
    return {"town": town, "other_town": other_town, "officer": officer, "team_lead": team_lead,
            "other_officer": other_officer, "chain": chain, "melt": melt, "extrude": extrude,
            "surface": surface, "lead": lead}


# --- the map and the gap figures ----------------------------------------------------------------
def test_coverage_and_gap_figures(county):
    figures = node_figures([county["chain"].id])
    assert figures[county["melt"].id].coverage == COVERED
    assert figures[county["melt"].id].firms == 1
    assert figures[county["extrude"].id].coverage == IN_PROGRESS
    assert figures[county["extrude"].id].live_leads == 1
    assert figures[county["surface"].id].coverage == GAP
    # A lost lead no longer counts as live: the node becomes a gap.
    change_stage(county["lead"], "lost", county["other_officer"], reason="投资方战略调整")
    db.session.flush()
    assert node_figures([county["chain"].id])[county["extrude"].id].coverage == GAP


def test_signed_and_landed_counts(county):
    lead = factories.lead(owner=county["officer"], chain_id=county["chain"].id, chain_node_id=county["surface"].id,
                          signed_on=factories_date(2025, 3, 1), started_on=factories_date(2025, 9, 1))
    fig = node_figures([county["chain"].id])[county["surface"].id]
    assert (fig.signed, fig.landed, fig.coverage) == (1, 1, COVERED)
    assert lead.id


def factories_date(*args):
    from datetime import date

    return date(*args)


def test_map_shows_nodes_coloured_and_the_node_panel(client, county):
    make_target(county["surface"], county["town"], "佛山市南海区金辉表面处理有限公司")
    client.login(county["officer"])
    page = client.get(f"/chains/{county['chain'].id}").get_data(as_text=True)
    assert 'data-node="再生铝熔炼" data-coverage="covered"' in page
    assert 'data-node="型材挤压" data-coverage="in_progress"' in page
    assert 'data-node="表面处理" data-coverage="gap"' in page
    assert "表面处理" in page.split('data-testid="gap-summary"')[1].split("</p>")[0]
    # Clicking a node lists its firms, targets and leads (only the leads the user may read).
    extrude = client.get(f"/chains/{county['chain'].id}?node={county['extrude'].id}").get_data(as_text=True)
    assert 'data-testid="node-panel"' in extrude
    assert "江西新铝型材有限公司" not in extrude  # another town's lead: counted, not shown
    assert "0 you can see of 1" in extrude or "可查看 0 条，共 1 条" in extrude
    surface = client.get(f"/chains/{county['chain'].id}?node={county['surface'].id}").get_data(as_text=True)
    assert "佛山市南海区金辉表面处理有限公司" in surface
    melt = client.get(f"/chains/{county['chain'].id}?node={county['melt'].id}").get_data(as_text=True)
    assert "福建省将乐县富远铝业有限公司" in melt
    # The chain list carries the gap count and names.
    index = client.get("/chains/").get_data(as_text=True)
    row = index.split('data-chain="' + county["chain"].code + '"')[1].split("</tr>")[0]
    assert "表面处理" in row


def test_node_of_another_chain_is_404(client, county):
    other = factories.chain()
    client.login(county["officer"])
    assert client.get(f"/chains/{county['chain'].id}?node={other.nodes[0].id}").status_code == 404


def test_permissions(client, county, make_client):
    screener = factories.user(roles=("screener",))
    client.login(screener)
    assert client.get("/chains/").status_code == 403
    viewer = factories.user(roles=("viewer",))
    c2 = make_client()
    c2.login(viewer)
    assert c2.get(f"/chains/{county['chain'].id}").status_code == 200
    assert c2.get("/chains/targets").status_code == 200
    assert c2.get(f"/chains/{county['chain'].id}/nodes/new").status_code == 403
    assert c2.get("/chains/targets/new").status_code == 403
    c3 = make_client()
    c3.login(county["officer"])
    assert c3.get(f"/chains/{county['chain'].id}/edit").status_code == 403  # officers don't edit chains


# --- chains, nodes, local firms -----------------------------------------------------------------
def test_team_lead_adds_a_node_and_a_local_firm(client, county):
    client.login(county["team_lead"])
    chain = county["chain"]
    response = client.post(f"/chains/{chain.id}/nodes/new", {
        "chain_id": str(chain.id), "name": "铝制品精深加工", "tier": "downstream", "position": "5",
        "intent": "extend", "note": "系统门窗、压铸件"})
    assert response.status_code == 302
    node = db.session.scalar(select(ChainNode).where(ChainNode.name == "铝制品精深加工"))
    assert (node.tier, node.intent) == ("downstream", "extend")
    bad = client.post(f"/chains/nodes/{node.id}/firms/new", {"name": "将乐县鑫盛门窗有限公司",
                                                             "uscc": "91350428MA1234567X", "output_wan": "1200"})
    assert bad.status_code == 400
    assert "校验位" in bad.get_data(as_text=True)
    negative = client.post(f"/chains/nodes/{node.id}/firms/new", {"name": "将乐县鑫盛门窗有限公司", "output_wan": "-5"})
    assert negative.status_code == 400
    ok = client.post(f"/chains/nodes/{node.id}/firms/new", {"name": "将乐县鑫盛门窗有限公司",
                                                            "uscc": factories.valid_uscc(), "output_wan": "1200"})
    assert ok.status_code == 302
    firm = db.session.scalar(select(LocalEnterprise).where(LocalEnterprise.node_id == node.id))
    assert firm.output_wan == Decimal("1200")
    audited = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.entity_type == "chain_enterprises", AuditEntry.entity_id == firm.id))
    assert audited == 1
    assert node_figures([chain.id])[node.id].coverage == COVERED


def test_a_node_with_targets_cannot_move_to_another_chain(client, county):
    other_chain = factories.chain(name="精细化工")
    surface = county["surface"]
    make_target(surface, county["town"], "佛山市南海区金辉表面处理有限公司")
    client.login(county["team_lead"])
    response = client.post(f"/chains/nodes/{surface.id}/edit", {
        "chain_id": str(other_chain.id), "name": "表面处理", "tier": "midstream", "position": "2", "intent": "fill"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "1" in page and ("目标企业" in page or "target companies" in page)
    assert factories.reload(surface).chain_id == county["chain"].id
    # A node with neither targets nor leads moves.
    free = ChainNode(chain=county["chain"], name="铝合金锭", tier="upstream", position=1)
    db.session.add(free)
    db.session.flush()
    moved = client.post(f"/chains/nodes/{free.id}/edit", {
        "chain_id": str(other_chain.id), "name": "铝合金锭", "tier": "upstream", "position": "1", "intent": ""})
    assert moved.status_code == 302
    assert factories.reload(free).chain_id == other_chain.id


def test_a_node_with_leads_cannot_be_deleted(client, county):
    client.login(county["team_lead"])
    response = client.post(f"/chains/nodes/{county['extrude'].id}/delete", follow_redirects=True)
    assert db.session.get(ChainNode, county["extrude"].id) is not None
    assert "江西" not in response.get_data(as_text=True) or response.status_code == 200
    empty = ChainNode(chain=county["chain"], name="废铝回收", tier="upstream", position=9)
    db.session.add(empty)
    db.session.flush()
    assert client.post(f"/chains/nodes/{empty.id}/delete").status_code == 302
    assert db.session.get(ChainNode, empty.id) is None


# --- targets ------------------------------------------------------------------------------------
def _target_form(county, **extra):
    data = {"node_id": str(county["surface"].id), "company_name": "佛山市南海区金辉表面处理有限公司",
            "uscc": "", "location": "广东省佛山市", "reason": "fill", "note": "补齐表面处理环节",
            "priority": "high", "unit_id": str(county["town"].id), "officer_id": str(county["officer"].id),
            "status": "not_contacted", "version": ""}
    data.update(extra)
    return data


def test_officer_adds_a_target_for_the_own_unit(client, county):
    client.login(county["officer"])
    response = client.post("/chains/targets/new", _target_form(county))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    target = db.session.scalar(select(Target))
    assert (target.unit_id, target.officer_id, target.priority_rank) == (county["town"].id, county["officer"].id, 1)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.entity_type == "chain_targets")) == 1
    # Another unit's officer cannot edit it, nor add targets for this unit.
    client.post("/logout")
    client.login(county["other_officer"])
    assert client.get(f"/chains/targets/{target.id}/edit").status_code == 403
    other = client.post("/chains/targets/new", _target_form(county, company_name="常州某某铝业有限公司"))
    assert other.status_code in (400, 403)
    assert db.session.scalar(select(func.count()).select_from(Target)) == 1


def test_target_for_a_company_already_a_lead_in_another_unit(client, county):
    client.login(county["officer"])
    response = client.post("/chains/targets/new", _target_form(county, company_name="江西新铝型材有限公司",
                                                               node_id=str(county["extrude"].id)))
    assert response.status_code == 400
    assert "高唐镇" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Target)) == 0
    # A near-identical name is caught too (as the import finds duplicates).
    near = client.post("/chains/targets/new", _target_form(county, company_name="江西新铝型材有限责任公司",
                                                           node_id=str(county["extrude"].id)))
    assert "高唐镇" in near.get_data(as_text=True)
    confirmed = client.post("/chains/targets/new", _target_form(
        county, company_name="江西新铝型材有限公司", node_id=str(county["extrude"].id), confirm_duplicate="y"))
    assert confirmed.status_code == 302


def test_the_same_company_twice_at_a_node_is_refused(client, county):
    make_target(county["surface"], county["town"], "佛山市南海区金辉表面处理有限公司")
    client.login(county["officer"])
    response = client.post("/chains/targets/new", _target_form(county, company_name="佛山市南海区金辉表面处理有限公司"))
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Target)) == 1


def test_two_edits_of_one_target_at_once(client, county):
    target = make_target(county["surface"], county["town"])
    client.login(county["officer"])
    first = client.post(f"/chains/targets/{target.id}/edit", _target_form(
        county, company_name=target.company_name, status="contacted", version=str(target.version)))
    assert first.status_code == 302
    stale = client.post(f"/chains/targets/{target.id}/edit", _target_form(
        county, company_name=target.company_name, status="dropped", version="1"))
    assert stale.status_code == 409
    assert factories.reload(target).status == "contacted"


def test_convert_a_target_into_a_lead(client, county):
    target = make_target(county["surface"], county["town"], "佛山市南海区金辉表面处理有限公司",
                         uscc=factories.valid_uscc(), officer_id=county["officer"].id)
    client.login(county["officer"])
    response = client.post(f"/chains/targets/{target.id}/convert")
    assert response.status_code == 302
    target = factories.reload(target)
    lead = db.session.get(Lead, target.lead_id)
    assert target.status == "converted"
    assert (lead.company_name, lead.uscc, lead.chain_node_id, lead.chain_id, lead.owner_unit_id, lead.owner_id) == (
        target.company_name, target.uscc, county["surface"].id, county["chain"].id, county["town"].id,
        county["officer"].id)
    assert lead.stage == "lead"
    assert response.headers["Location"].endswith(f"/leads/{lead.id}")
    lead_page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert f"/chains/targets/{target.id}" in lead_page.split('data-testid="lead-targets"')[1]
    # Converting again is refused; the node is now in progress.
    again = client.post(f"/chains/targets/{target.id}/convert")
    assert again.status_code == 409
    assert node_figures([county["chain"].id])[county["surface"].id].coverage == IN_PROGRESS


def test_convert_when_another_unit_follows_the_company(client, county):
    target = make_target(county["extrude"], county["town"], "江西新铝型材有限公司")
    client.login(county["officer"])
    response = client.post(f"/chains/targets/{target.id}/convert")
    assert response.status_code == 409
    assert "高唐镇" in response.get_data(as_text=True)
    assert factories.reload(target).status == "not_contacted"
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 1
    confirmed = client.post(f"/chains/targets/{target.id}/convert", {"confirm_duplicate": "y"})
    assert confirmed.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 2


def test_convert_links_the_own_units_existing_lead(client, county):
    own = factories.lead(owner=county["officer"], company_name="佛山市南海区金辉表面处理有限公司")
    target = make_target(county["surface"], county["town"], "佛山市南海区金辉表面处理有限公司")
    client.login(county["officer"])
    assert client.post(f"/chains/targets/{target.id}/convert").status_code == 302
    assert factories.reload(target).lead_id == own.id
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 2  # no third lead


def test_only_the_targets_unit_converts(client, county):
    target = make_target(county["surface"], county["town"])
    client.login(county["other_officer"])
    assert client.post(f"/chains/targets/{target.id}/convert").status_code == 403
    assert factories.reload(target).lead_id is None


def test_target_list_filters(client, county):
    make_target(county["surface"], county["town"], "佛山市南海区金辉表面处理有限公司", priority="high")
    make_target(county["melt"], county["other_town"], "广西某某再生资源有限公司", priority="low", status="contacted")
    client.login(county["officer"])
    page = client.get("/chains/targets?priority=low").get_data(as_text=True)
    assert "广西某某再生资源有限公司" in page and "金辉" not in page
    page = client.get(f"/chains/targets?unit={county['town'].id}").get_data(as_text=True)
    assert "金辉" in page and "广西" not in page
    page = client.get("/chains/targets?q=金辉").get_data(as_text=True)
    assert "金辉" in page and "广西" not in page
    page = client.get(f"/chains/targets?chain={county['chain'].id}&status=contacted").get_data(as_text=True)
    assert "广西" in page and "金辉" not in page


# --- import -------------------------------------------------------------------------------------
HEADERS = ["产业链", "产业链环节", "目标企业名称", "统一社会信用代码", "企业所在地", "招商方向", "招引理由",
           "优先级", "责任单位", "责任人", "对接状态"]


def _xlsx(rows, headers=HEADERS) -> io.BytesIO:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["将乐县轻合金产业链招商作战表"])  # offices put a title above the headers
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    return out


def _upload(client, content, name="targets.xlsx"):
    return client.post("/chains/targets/import", {"file": (content, name)}, content_type="multipart/form-data")


def test_import_a_target_list(client, county):
    code = factories.valid_uscc()
    rows = [
        ["轻合金", "表面处理", "佛山市南海区金辉表面处理有限公司", code, "广东省佛山市", "补链", "配套本地型材挤压", "高",
         "万安镇", "张志强", "未接触"],
        ["轻合金", "再生铝熔炼", "@永康再生铝有限公司", None, "浙江省永康市", "强链", None, "低",
         "万安镇", None, None],
        ["轻合金", "表面处理", "\t常州涂装科技有限公司", None, None, None, None, None, "万安镇", None, "已接触"],
    ]
    client.login(county["officer"])
    response = _upload(client, _xlsx(rows))
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    targets = db.session.scalars(select(Target).order_by(Target.id)).all()
    assert len(targets) == 3
    first = targets[0]
    assert (first.uscc, first.reason, first.priority, first.officer_id) == (code, "fill", "high", county["officer"].id)
    assert targets[1].company_name == "@永康再生铝有限公司"  # stored as typed; exports make it text
    assert targets[2].reason == "fill"  # empty direction: the node's intent
    assert targets[2].status == "contacted"


def test_import_with_row_errors_writes_nothing(client, county):
    rows = [
        ["轻合金", "表面处理", "佛山市南海区金辉表面处理有限公司", None, None, "补链", None, "高", "万安镇", None, None],
        ["轻合金", "不存在的环节", "常州某某铝业有限公司", None, None, "补链", None, "高", "万安镇", None, None],
        ["轻合金", "表面处理", "上海某某涂装有限公司", "91350428MA1234567X", None, "补链", None, "很高", "万安镇", None, None],
        ["轻合金", "表面处理", "佛山市南海区金辉表面处理有限公司", None, None, "补链", None, "高", "万安镇", None, None],
        ["轻合金", "型材挤压", "江西新铝型材有限公司", None, None, "延链", None, "中", "万安镇", None, None],
        ["轻合金", "型材挤压", "浙江某某铝材有限公司", None, None, "延链", None, "中", "高唐镇", None, None],
        ["轻合金", "型材挤压", "浙江某某二铝材有限公司", None, None, "延链", None, "中", "万安镇", None, "已转线索"],
    ]
    client.login(county["officer"])
    response = _upload(client, _xlsx(rows))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Target)) == 0
    problems = page.split('data-testid="problem-table"')[1]
    for text in ("不存在的环节", "很高", "高唐镇", "校验位"):
        assert text in problems, text
    assert ">4<" in problems and ">6<" in problems  # row numbers (title row, headers, then data from row 3)


def test_import_csv_in_gb18030_and_bad_files(client, county):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    writer.writerow(["轻合金", "表面处理", "佛山市南海区金辉表面处理有限公司", "", "广东省佛山市", "补链", "", "中", "万安镇", "", ""])
    client.login(county["officer"])
    response = _upload(client, io.BytesIO(out.getvalue().encode("gb18030")), "targets.csv")
    assert response.status_code == 302
    assert db.session.scalar(select(Target.company_name)) == "佛山市南海区金辉表面处理有限公司"
    missing = _upload(client, _xlsx([["轻合金", "表面处理", "某某公司"]], headers=["产业链", "产业链环节", "目标企业名称"]))
    assert missing.status_code == 400
    assert "招商方向" in missing.get_data(as_text=True) or "责任单位" in missing.get_data(as_text=True)
    wrong = _upload(client, io.BytesIO(b"not a workbook"), "targets.xlsx")
    assert wrong.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Target)) == 1


def test_home_lists_the_units_open_targets(client, county):
    make_target(county["surface"], county["town"], "佛山市南海区金辉表面处理有限公司", priority="high")
    make_target(county["melt"], county["other_town"], "广西某某再生资源有限公司")
    client.login(county["officer"])
    page = client.get("/").get_data(as_text=True)
    targets = page.split('data-testid="home-targets"')[1].split("</ul>")[0]
    assert "金辉" in targets and "广西" not in targets


def test_export_view_refuses_unknown_filters(client, county):
    client.login(county["officer"])
    response = client.get("/chains/export?priority=urgent")
    assert response.status_code == 400
    assert "urgent" in response.get_data(as_text=True)
    ok = client.get(f"/chains/export?chain={county['chain'].id}&format=csv")
    assert ok.status_code == 200 and ok.headers["Content-Type"].startswith("text/csv")
    assert "轻合金" not in ok.get_data(as_text=True).splitlines()[0]  # headers only: no target yet
    ok.close()  # a streamed response keeps its request context until closed
