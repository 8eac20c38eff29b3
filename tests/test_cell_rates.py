"""The cell rates: how leads of the same channel, and of the same region, signed in the same chain."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from crm.extensions import db
from crm.scoring import features as F
from crm.scoring.cell_rates import PRIOR_WEIGHT, cell_rates, cell_totals, cell_totals_from_db
from tests import factories


def row(i, day, kind="chamber", chain_id=1, region="厦门市", signed=None):
    return F.LeadRow(id=i, created_on=day, cutoff=day, chain=None, node=None, source_kind=kind, source_id=None,
                     origin_region=region, planned=None, fixed=None, land=None, output=None, tax=None,
                     high_tech=None, specialized=None, patents=None, rd_ratio=None, jobs=None, signed=signed,
                     chain_id=chain_id)


def smoothed(hits, n, prior):
    return (hits + prior * PRIOR_WEIGHT) / (n + PRIOR_WEIGHT)


def test_training_counts_only_leads_recorded_before_each_lead():
    d = date(2024, 3, 1)
    rows = [row(1, d, signed=1), row(2, d, signed=0),                                   # the first day
            row(3, d + timedelta(days=1), signed=1),                                    # same cell
            row(4, d + timedelta(days=1), kind="event", signed=0),                      # other channel
            row(5, d + timedelta(days=1), chain_id=2, region="上海市", signed=1),         # other chain
            row(6, d + timedelta(days=2), kind=None, region=None),                      # no cell
            row(7, d + timedelta(days=2))]                                              # open, same cell
    F.source_rates_as_of(rows)
    by_id = {r.id: r for r in rows}
    # The first day knows nothing yet (the county's rate is 0.2 then); a lead's own outcome never counts.
    assert by_id[1].channel_chain_rate == by_id[2].channel_chain_rate == pytest.approx(0.2)
    assert by_id[3].channel_chain_rate == pytest.approx(smoothed(1, 2, 0.5))
    assert by_id[4].channel_chain_rate == pytest.approx(0.5)     # an empty cell: the county's rate then
    assert by_id[5].region_chain_rate == pytest.approx(0.5)
    assert by_id[3].region_chain_rate == pytest.approx(smoothed(1, 2, 0.5))
    assert by_id[6].channel_chain_rate is None and by_id[6].region_chain_rate is None
    # Day three: the channel's cell holds 1, 2 and 3 (two signed), the region's 4 as well; 5 is
    # in neither (another chain) and counts for the county's rate only.
    assert by_id[7].channel_chain_rate == pytest.approx(smoothed(2, 3, 3 / 5))
    assert by_id[7].region_chain_rate == pytest.approx(smoothed(2, 4, 3 / 5))
    # They are model columns, in the source group the explanations move together.
    block = F.numeric_block([by_id[7]])
    assert block[0, F.NUMERIC.index("channel_chain_rate")] == pytest.approx(by_id[7].channel_chain_rate)
    assert {"channel_chain_rate", "region_chain_rate"} <= set(F.GROUPS["source"])


def test_scoring_leaves_each_leads_own_outcome_out():
    d = date(2024, 3, 1)
    rows = [row(1, d, signed=1), row(2, d, signed=1), row(3, d, signed=0), row(4, d)]
    cell_rates(rows, *cell_totals(rows))
    prior = 2 / 3
    assert rows[0].channel_chain_rate == pytest.approx(smoothed(1, 2, prior))
    assert rows[2].channel_chain_rate == pytest.approx(smoothed(2, 2, prior))
    assert rows[3].channel_chain_rate == pytest.approx(smoothed(2, 3, prior))   # open: every outcome
    # Totals of other leads (the benchmark's holdout rated from the training leads): nothing to leave out.
    others = [row(9, d, signed=1), row(10, d, signed=0)]
    cell_rates(others, *cell_totals(rows), own_counted=False)
    assert others[0].channel_chain_rate == others[1].channel_chain_rate == pytest.approx(smoothed(2, 3, prior))


@pytest.fixture()
def ctx(app, db_session):
    with app.test_request_context():
        yield


def test_the_database_counts_the_same_cells_and_a_rescore_only_its_chains(ctx, monkeypatch):
    from crm.scoring import cell_rates as C
    from crm.scoring.scoring import track_records

    # No totals or county rate a worker warmed earlier in this process (another test's county).
    monkeypatch.setattr(C, "_warm", None)
    monkeypatch.setattr(F, "_county_rate", None)

    from crm.leads.models import Lead

    owner = factories.user()
    materials, food = factories.chain(), factories.chain()
    day = date(2024, 5, 6)
    made = iter(range(100))

    def lead(chain, kind, region, stage, **fields):
        name = f"福建测试材料有限公司{next(made)}"
        db.session.add(lead := Lead(company_name=name, company_key=name, owner_unit_id=owner.unit_id,
                                    owner_id=owner.id, chain_id=chain.id, source_kind=kind, origin_region=region,
                                    stage=stage, created_on=day, **fields))
        return lead

    for stage in ("signed", "signed", "lost"):
        lead(materials, "chamber", "厦门市", stage, signed_on=day if stage == "signed" else None)
    lead(materials, "event", "厦门市", "rejected")
    lead(food, "chamber", "上海市", "signed", signed_on=day)
    open_lead = lead(materials, "chamber", "厦门市", "negotiating")
    db.session.flush()

    rows = F.load_rows()
    by_db = cell_totals_from_db()
    by_rows, _prior = cell_totals(rows)
    assert by_db == by_rows
    assert by_db["channel_chain_rate"][("chamber", materials.id)] == (2, 3)
    assert by_db["region_chain_rate"][("厦门市", materials.id)] == (2, 4)
    only = cell_totals_from_db({materials.id})
    assert ("chamber", food.id) not in only["channel_chain_rate"]
    assert only["channel_chain_rate"][("chamber", materials.id)] == (2, 3)

    # Scoring (a batch, and a rescore of one lead) gives the open lead its cells' records.
    county = 3 / 5
    for few, scored in ((False, rows), (True, F.load_rows([open_lead.id]))):
        track_records(scored, few=few)
        mine = next(r for r in scored if r.id == open_lead.id)
        assert mine.channel_chain_rate == pytest.approx(smoothed(2, 3, county))
        assert mine.region_chain_rate == pytest.approx(smoothed(2, 4, county))


def test_a_rescore_uses_the_totals_the_worker_warmed_while_fresh(ctx, monkeypatch):
    from crm.leads.models import Lead
    from crm.scoring import cell_rates as C

    owner = factories.user()
    chain = factories.chain()

    def signed_lead(i):
        name = f"福建测试装备有限公司{i}"
        db.session.add(Lead(company_name=name, company_key=name, owner_unit_id=owner.unit_id, owner_id=owner.id,
                            chain_id=chain.id, source_kind="hometown", stage="signed", signed_on=date(2024, 5, 6),
                            created_on=date(2024, 1, 2)))
        db.session.flush()

    signed_lead(1)
    monkeypatch.setattr(C, "_warm", None)
    C.warm_cell_totals()
    warmed = C.rescore_totals({chain.id})
    assert warmed["channel_chain_rate"][("hometown", chain.id)] == (1, 1)
    signed_lead(2)
    assert C.rescore_totals({chain.id}) is warmed  # the worker's parent counts again only when stale
    monkeypatch.setattr(C, "WARM_SECONDS", 0)
    assert C.rescore_totals({chain.id})["channel_chain_rate"][("hometown", chain.id)] == (2, 2)
