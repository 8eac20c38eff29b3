"""The demo's chain map and 招商作战表 (crm.demo.chains): descriptions, intents, the three coverage
colours, local firms and targets that hang together with the demo leads."""
from collections import Counter
from datetime import date

from sqlalchemy import select
from stdnum.cn import uscc

from crm.chains.models import (PRIORITY_ORDER, Chain, ChainNode, Intent, LocalEnterprise, Priority, Target,
                               TargetStatus)
from crm.chains.queries import COVERED, GAP, IN_PROGRESS, node_figures
from crm.demo import data
from crm.demo.chains import leave_chain_gaps
from crm.demo.generate import generate_leads
from crm.demo.seed import seed_demo
from crm.extensions import db
from crm.leads.models import Lead, normalize_company_name


def test_leave_chain_gaps_keeps_the_uncovered_nodes_open():
    rows = generate_leads(600, seed=7, today=date(2026, 3, 2))
    leave_chain_gaps(rows)
    for row in rows:
        kind = data.UNCOVERED_NODES.get(row["chain_node"])
        if kind:
            assert row["started_on"] is None and row["stage"] not in ("started", "completed", "producing",
                                                                      "above_scale")
        if kind == "gap":
            assert row["stage"] in ("lost", "rejected")


def test_demo_chain_map_and_targets(app, db_session):
    with app.app_context():
        assert seed_demo(leads=400, seed=2026, today=date(2026, 3, 2))
        chains = list(db.session.scalars(select(Chain).order_by(Chain.position)))
        assert [c.code for c in chains] == [c["code"] for c in data.CHAINS]
        for chain in chains:
            assert chain.description
            assert chain.nodes and all(n.intent in set(Intent) and n.note for n in chain.nodes)

        figures = node_figures()
        coverage = {fig.node_id: fig.coverage for fig in figures.values()}
        assert {COVERED, IN_PROGRESS, GAP} <= set(coverage.values())
        nodes = {n.id: n for n in db.session.scalars(select(ChainNode))}
        for node_id, kind in coverage.items():
            expected = data.UNCOVERED_NODES.get(nodes[node_id].name)
            if expected is None:
                assert kind == COVERED and figures[node_id].firms, nodes[node_id].name
            elif expected == "gap":
                assert kind == GAP, nodes[node_id].name
            else:
                assert kind in (IN_PROGRESS, GAP) and figures[node_id].firms == 0

        firms = list(db.session.scalars(select(LocalEnterprise)))
        assert len(firms) >= 60
        targets = list(db.session.scalars(select(Target)))
        assert 300 <= len(targets) <= 500
        for item in firms + [t for t in targets if t.uscc]:
            assert uscc.is_valid(item.uscc), item.uscc
        assert all(f.uscc[2:8] == data.COUNTY_REGION_CODE and f.output_wan > 0 for f in firms)

        per_chain = Counter(nodes[t.node_id].chain_id for t in targets)
        assert set(per_chain) == {c.id for c in chains}
        for t in targets:
            assert t.priority_rank == PRIORITY_ORDER[Priority(t.priority)]
            assert t.company_key == normalize_company_name(t.company_name)
            assert t.reason in set(Intent) and t.note and t.location
            if t.officer is not None:
                assert t.officer.unit_id == t.unit_id
        converted = [t for t in targets if t.status == TargetStatus.CONVERTED]
        assert len(converted) >= 30
        for t in converted:
            lead = db.session.get(Lead, t.lead_id)
            assert lead.company_name == t.company_name and lead.owner_unit_id == t.unit_id
            assert lead.chain_node_id == t.node_id
        assert all(t.lead_id is None for t in targets if t.status != TargetStatus.CONVERTED)
        statuses = Counter(t.status for t in targets)
        assert statuses[TargetStatus.NOT_CONTACTED] and statuses[TargetStatus.CONTACTED]
        assert 0.05 <= statuses[TargetStatus.DROPPED] / len(targets) <= 0.18
        assert 0.15 <= Counter(t.priority for t in targets)[Priority.HIGH] / len(targets) <= 0.35
        assert len({t.company_key for t in targets}) == len(targets)
        # weighted to what the chain misses: more targets at a gap node than at a strong one
        by_intent = Counter(nodes[t.node_id].intent for t in targets)
        intents = Counter(n.intent for n in nodes.values())
        assert by_intent["fill"] / intents["fill"] > by_intent["strengthen"] / intents["strengthen"]
