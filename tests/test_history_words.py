"""History in words: the lead's 变更记录 and the admin audit log show labels and names in the
reader's language, never internal columns, no bookkeeping-only entries, and name the import an
entry came from."""
from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select, update

from crm.audit.models import AuditEntry
from crm.extensions import db
from crm.leads.models import Lead
from tests import factories
from tests.import_files import xlsx
from tests.import_files import row as sheet_row

INTERNAL = ("company_key", "score_pending", "p_sign", "p_land", "score_grade", "score_source",
            "score_model_version", "scored_at", "updated_by_id", "version", "imported_history", "import_batch")


def _history(page: str) -> str:
    """The text of the lead page's change history table."""
    table = re.search(r'<table[^>]*data-testid="history".*?</table>', page, re.S).group(0)
    return _words(table)


def _words(html: str) -> str:
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    return text.replace(" : ", ": ")


def _lead_form(lead, **overrides):
    data = {"company_name": lead.company_name, "uscc": lead.uscc or "", "project_name": lead.project_name or "",
            "chain_id": lead.chain_id or "", "chain_node_id": lead.chain_node_id or "",
            "source_id": lead.source_id or "", "source_kind": lead.source_kind or "",
            "planned_investment_wan": "", "fixed_asset_investment_wan": str(lead.fixed_asset_investment_wan or ""),
            "land_area_mu": str(lead.land_area_mu or ""), "expected_output_wan": "",
            "expected_tax_wan": str(lead.expected_tax_wan or ""), "high_tech": "", "specialized": "",
            "owner_id": lead.owner_id or "", "created_on": lead.created_on.isoformat(), "version": lead.version}
    data.update(overrides)
    return data


@pytest.fixture()
def officer(client, db_session):
    user = factories.user(roles=["officer"], full_name="林招商")
    client.login(user)
    return user


def test_a_changed_chain_shows_the_chain_and_node_names(client, officer):
    new_energy = factories.chain("新能源", nodes=("锂电池", "光伏组件"))
    forestry = factories.chain("森林康养", nodes=("康养旅居",))
    lead = factories.lead(owner=officer, chain_id=new_energy.id, chain_node_id=new_energy.nodes[0].id)
    response = client.post(f"/leads/{lead.id}/edit", _lead_form(lead, chain_id=forestry.id,
                                                                chain_node_id=forestry.nodes[0].id))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    history = _history(client.get(f"/leads/{lead.id}").get_data(as_text=True))
    assert "产业链: 新能源 → 森林康养" in history
    assert "产业链环节: 锂电池 → 康养旅居" in history
    assert f"→ {forestry.id} " not in history and "chain_id" not in history and "chain_node_id" not in history


def test_created_entry_shows_unit_officer_and_source_by_name_and_no_internal_column(client, officer):
    source = factories.source("上海将乐商会", kind="chamber")
    lead = factories.lead(owner=officer, source_id=source.id, planned_investment_wan=Decimal("12000"),
                          land_area_mu=Decimal("40"))
    history = _history(client.get(f"/leads/{lead.id}").get_data(as_text=True))
    assert "新建" in history and "林招商" in history
    assert "线索来源: 上海将乐商会" in history and "线索来源类型: 商会" in history
    assert f"单位: {officer.unit.name}" in history and "责任人: 林招商" in history
    assert "计划总投资: 12,000 万元" in history and "用地面积: 40 亩" in history
    assert "阶段: 线索" in history
    for internal in INTERNAL + ("owner_unit_id", "owner_id", "source_id"):
        assert internal not in history


@pytest.mark.parametrize("field, before, after, shown", [
    ("high_tech", None, "1", "高新技术企业: — → 是"),
    ("high_tech", True, "0", "高新技术企业: 是 → 否"),
    ("specialized", False, "1", "专精特新: 否 → 是"),
])
def test_true_and_false_are_shown_as_yes_and_no(client, officer, field, before, after, shown):
    lead = factories.lead(owner=officer, **{field: before})
    response = client.post(f"/leads/{lead.id}/edit", _lead_form(lead, **{field: after}))
    assert response.status_code == 302
    history = _history(client.get(f"/leads/{lead.id}").get_data(as_text=True))
    assert shown in history and "True" not in history and "False" not in history


def test_a_stage_move_shows_stage_names(client, officer):
    lead = factories.lead(owner=officer)
    assert client.post(f"/leads/{lead.id}/stage", {"to_stage": "negotiating", "version": lead.version}).status_code == 302
    history = _history(client.get(f"/leads/{lead.id}").get_data(as_text=True))
    assert "阶段变更" in history and "阶段: 线索 → 洽谈" in history and "negotiating" not in history


def test_a_follow_up_adds_no_score_pending_entry(client, officer):
    lead = factories.lead(owner=officer)
    # As the scoring job leaves it: scored, nothing pending (a Core update, not audited).
    db.session.execute(update(Lead).where(Lead.id == lead.id).values(score_pending=False, p_sign=0.4, p_land=0.2,
                                                                     score_grade="B"))
    before = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.entity_type == "leads", AuditEntry.entity_id == lead.id))
    response = client.post(f"/leads/{lead.id}/activities", {"kind": "visit", "occurred_on": "2026-03-05",
                                                            "summary": "实地考察厂址"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).score_pending is True  # still rescored
    after = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.entity_type == "leads", AuditEntry.entity_id == lead.id))
    assert after == before
    history = _history(client.get(f"/leads/{lead.id}").get_data(as_text=True))
    assert "score_pending" not in history and "修改" not in history


def test_old_bookkeeping_entries_are_not_shown_and_internal_fields_are_left_out(client, officer):
    """Entries written before the listener left bookkeeping out are filtered when shown."""
    lead = factories.lead(owner=officer)
    db.session.add_all([
        AuditEntry(actor_id=None, action="update", entity_type="leads", entity_id=lead.id,
                   changes={"score_pending": [False, True]}),
        AuditEntry(actor_id=officer.id, action="update", entity_type="leads", entity_id=lead.id,
                   changes={"company_key": ["甲", "乙"], "updated_by_id": [1, officer.id]}),
        AuditEntry(actor_id=officer.id, action="update", entity_type="leads", entity_id=lead.id,
                   changes={"jobs": [None, 120], "company_key": ["甲", "乙"], "version": [1, 2]}),
    ])
    db.session.flush()
    history = _history(client.get(f"/leads/{lead.id}").get_data(as_text=True))
    assert history.count("修改") == 1 and "预计用工: — → 120" in history
    for internal in INTERNAL:
        assert internal not in history


def test_the_owner_unit_and_officer_changes_show_names(app, db_session):
    from crm.audit.words import describe

    town_a, town_b = factories.unit("古镛镇"), factories.unit("高唐镇")
    alice = factories.user(unit_=town_a, full_name="王小明")
    bob = factories.user(unit_=town_b, full_name="李大华")
    lead = factories.lead(owner=alice)
    entry = AuditEntry(actor_id=bob.id, action="update", entity_type="leads", entity_id=lead.id,
                       changes={"owner_unit_id": [town_a.id, town_b.id], "owner_id": [alice.id, bob.id],
                                "planned_investment_wan": ["100", "250.5"], "rd_ratio": [None, "4.5"],
                                "created_on": ["2026-03-05", "2026-03-06"]})
    db.session.add(entry)
    db.session.flush()
    with app.test_request_context():
        [shown] = describe([entry], factories.user(roles=["admin"]))
    lines = {l.label: (l.before, l.after) for l in shown.lines}
    assert lines["单位"] == ("古镛镇", "高唐镇") and lines["责任人"] == ("王小明", "李大华")
    assert lines["计划总投资"] == ("100 万元", "250.5 万元")
    assert lines["研发投入占比(%)"] == ("—", "4.5%")
    assert shown.actor == "李大华" and shown.record.endswith(lead.company_name)


def test_names_are_loaded_in_bulk_not_per_entry(app, db_session):
    """The number of queries does not grow with the number of entries."""
    from crm.audit.words import describe

    chains = [factories.chain() for _ in range(12)]
    units = [factories.unit() for _ in range(12)]
    entries = []
    for i in range(12):
        lead = factories.lead(unit_=units[i], owner=factories.user(unit_=units[i]))
        entry = AuditEntry(actor_id=lead.owner_id, action="update", entity_type="leads", entity_id=lead.id,
                           changes={"chain_id": [chains[i - 1].id, chains[i].id], "owner_unit_id": [units[0].id, units[i].id],
                                    "chain_node_id": [None, chains[i].nodes[0].id], "import_batch": [None, 999999]})
        db.session.add(entry)
        entries.append(entry)
    reader = factories.user(roles=["admin"])
    db.session.commit()  # into the test's outer transaction: each request context's end rolls back

    def queries(some):
        count = [0]

        def counted(*_args):
            count[0] += 1

        engine = db.session.get_bind().engine
        event.listen(engine, "before_cursor_execute", counted)
        try:
            with app.test_request_context():
                described = describe(some, reader)
        finally:
            event.remove(engine, "before_cursor_execute", counted)
        return count[0], described

    queries(entries[:1])  # the reader's roles, loaded once
    few, _ = queries(entries[:2])
    many, described = queries(entries)
    assert many == few and many <= 9  # users, leads, units, chains, nodes, imports (+ savepoints)
    assert {d.lines[0].after for d in described} == {c.name for c in chains}


def _import(client, user, content):
    from crm.interchange.jobs import run_import_job

    response = client.post("/imports/new", {"file": (io.BytesIO(content), "古镛镇线索台账.xlsx"), "mode": "upsert",
                                            "unit_id": user.unit_id}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    batch_id = int(response.location.rsplit("/", 1)[1])
    client.get(response.location)
    assert client.post(f"/imports/{batch_id}/confirm").status_code == 302
    with client.raw.application.app_context():
        assert run_import_job(batch_id) == "done"
    return batch_id


def test_import_entries_name_the_file_and_date_with_a_link(client, db_session):
    team_lead = factories.user(roles=["team_lead"])
    factories.source("上海将乐商会", kind="chamber")
    updated = factories.lead(owner=team_lead, company_name="三明新公司", planned_investment_wan=Decimal(100))
    client.login(team_lead)
    batch_id = _import(client, team_lead, xlsx([sheet_row(), sheet_row(name="三明新公司", planned="2亿")]))
    created = db.session.scalar(select(Lead).where(Lead.company_name == "福建富远铝业有限公司"))
    for lead in (created, updated):
        page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
        ref = re.search(r'data-testid="import-ref">(.*?)</div>', page, re.S).group(1)
        assert "古镛镇线索台账.xlsx" in ref and f'href="/imports/{batch_id}"' in ref
        assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", ref)
    history = _history(client.get(f"/leads/{updated.id}").get_data(as_text=True))
    assert "计划总投资: 100 万元 → 20,000 万元" in history
    # A reader who may not open the import sees its name and date, without a link.
    client.post("/logout")
    client.login(factories.user(roles=["viewer"]))
    db.session.commit()
    page = client.get(f"/leads/{created.id}").get_data(as_text=True)
    ref = re.search(r'data-testid="import-ref">(.*?)</div>', page, re.S).group(1)
    assert "古镛镇线索台账.xlsx" in ref and "href" not in ref


def test_admin_audit_log_shows_words_and_record_names(client, db_session):
    admin = factories.user(roles=["admin"])
    chain = factories.chain("新能源")
    officer = factories.user(full_name="林招商")
    from crm.audit.listener import set_actor

    set_actor(officer.id)
    lead = factories.lead(owner=officer, company_name="福建富远铝业有限公司", chain_id=chain.id, high_tech=True)
    set_actor(None)
    client.login(admin)
    page = client.get(f"/admin/audit?entity_type=leads&entity_id={lead.id}").get_data(as_text=True)
    table = _words(re.search(r'data-testid="audit".*?</table>', page, re.S).group(0))
    assert "林招商" in table and "线索 #%d 福建富远铝业有限公司" % lead.id in table
    assert "产业链: 新能源" in table and "高新技术企业: 是" in table
    for internal in INTERNAL + ("chain_id",):
        assert internal not in table
    assert "线索（leads）" in page  # the record type filter in words
