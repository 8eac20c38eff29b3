"""Scoring (issue 19): training snapshots weighed by the stay they were drawn from, and the
columns the screening units' judgement and the chain's lines add."""
from __future__ import annotations

import math
from copy import copy
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pytest

from crm.extensions import db
from tests import factories


def _row(**kw):
    from crm.scoring.features import LeadRow

    base = dict(id=1, created_on=date(2025, 1, 1), cutoff=date(2025, 6, 1), chain=None, node=None,
                source_kind=None, source_id=None, origin_region=None, planned=None, fixed=None, land=None,
                output=None, tax=None, high_tech=None, specialized=None, patents=None, rd_ratio=None, jobs=None)
    return LeadRow(**{**base, **kw})


def test_each_snapshot_weighs_the_chance_of_its_age_within_the_stay():
    """A quick mover's snapshot weighs little, a long sitter's nearly 1 (stay_weight: the square
    root of the chance that the spread of ages falls within the stay)."""
    from crm.scoring.training import AGE_SCALE, snapshots, stay_weight

    # Three days as a lead, then 148 days in negotiation until signed on 1 June.
    quick = _row(id=7, stage_reached=1, signed=1, landed=1, stage_days={0: date(2025, 1, 1), 1: date(2025, 1, 4)},
                 move_days=[date(2025, 1, 4)])
    first, second = snapshots([quick])
    assert (first.weight, second.weight) == (stay_weight(3), stay_weight(148))
    assert first.weight == pytest.approx((1 - math.exp(-3 / AGE_SCALE)) ** 0.5)
    assert 0 < first.weight < second.weight < 1
    assert quick.weight == 1.0  # the lead itself is not changed
    # Passed through a stage the same day: one day, not nothing.
    same_day = _row(id=8, stage_reached=1, signed=0, landed=0, stage_days={0: date(2025, 1, 1), 1: date(2025, 1, 1)})
    assert snapshots([same_day])[0].weight == stay_weight(1) > 0
    # Sat for four years: nearly 1, and never more.
    sitter = _row(id=9, stage_reached=0, signed=0, landed=0, cutoff=date(2029, 1, 1))
    assert 0.99 < snapshots([sitter])[0].weight < 1
    # For `land`, the extra snapshot at `signed` weighs its wait to start (signed 1 June, started 30 Aug).
    signed = _row(id=10, stage_reached=1, signed=1, landed=1, stage_days={0: date(2025, 1, 1), 1: date(2025, 1, 4)},
                  signed_day=date(2025, 6, 1), land_end=date(2025, 8, 30))
    late = snapshots([signed], "land")[-1]
    assert late.stage_reached == 5 and late.weight == stay_weight(90)
    # An imported history (no stay to measure) counts once.
    imported = _row(id=11, stage_reached=1, signed=1, landed=1, history_known=False)
    assert {s.weight for s in snapshots([imported])} == {1.0}


def test_at_every_age_each_lead_still_at_the_stage_counts_once():
    """The leads open at a stage at an age of d days are those that sat there longer than d, each
    once. A quick mover and a lead that sat for years, both still there at d, must then bring the
    same weight of snapshots younger than d: drawn evenly over the stay, the sitter would bring a
    fraction of the mover's (and the quick movers, most of them signing, would set fresh leads'
    chances too high)."""
    from crm.scoring.training import age_within, snapshot_day

    draws = [(i + 0.5) / 4000 for i in range(4000)]
    for stay in (1, 2, 30, 400, 3000):
        days = [snapshot_day(u, stay) for u in draws]
        assert min(days) == 0 and max(days) <= stay - 1
    for age in (10, 60, 200):
        young = {stay: age_within(stay) * sum(snapshot_day(u, stay) < age for u in draws) / len(draws)
                 for stay in (age + 40, 900, 3000)}
        assert max(young.values()) - min(young.values()) < 0.01, young
    # Most of a long sitter's snapshots fall in its first years at the stage, where chances are open.
    assert sum(snapshot_day(u, 3000) < 730 for u in draws) / len(draws) > 0.85


def test_split_scales_the_weights_within_each_part():
    from crm.scoring.training import split

    rows = []
    for i in range(1, 201):
        created = date(2022, 1, 1) + timedelta(days=i)
        stay = 1 + (i * 37) % 300
        rows.append(_row(id=i, created_on=created, cutoff=created + timedelta(days=stay), stage_reached=0,
                         signed=i % 3 == 0, landed=0))
    data = split(rows, "sign", today=date(2026, 1, 1))
    k = data.fit_size
    w = data.w_train
    assert len(w) == len(data.train) and 0 < k < len(w)
    assert w[:k].mean() == pytest.approx(1.0) and w[k:].mean() == pytest.approx(1.0)
    raw = np.array([r.weight for r in data.train])
    assert np.allclose(w[:k] / w[0], raw[:k] / raw[0])  # in proportion to the stays


def test_the_trees_and_the_calibration_use_the_weights():
    """Same columns, half signed: counted equally the chance is one half; with the unsigned
    snapshots weighing nine times as much (long sitters), one tenth."""
    from crm.scoring.features import FeatureSpec
    from crm.scoring.training import SETTINGS, _calibrate, _fit

    spec = FeatureSpec.fit([_row(id=i) for i in range(1, 30)])
    X = spec.matrix([_row(id=i, stage_reached=i % 2) for i in range(1, 401)])
    y = np.array([1] * 200 + [0] * 200)
    w = np.where(y == 1, 1.0, 9.0)
    w /= w.mean()
    plain = _fit(spec, X, y, SETTINGS[2], False)
    weighted = _fit(spec, X, y, SETTINGS[2], False, weight=w)
    assert plain.predict_proba(X[:1])[0, 1] == pytest.approx(0.5, abs=0.05)
    assert weighted.predict_proba(X[:1])[0, 1] == pytest.approx(0.1, abs=0.03)
    calibrated = _calibrate(plain, X, y, "sigmoid", w)
    assert calibrated.predict_proba(X[:1])[0, 1] == pytest.approx(0.1, abs=0.03)


@pytest.fixture()
def ctx(app, db_session):
    with app.test_request_context():
        yield


def test_ratios_to_the_chains_lines_the_units_ratings_and_the_follow_up_rate(ctx):
    from crm.leads.models import LeadActivity
    from crm.scoring import features as F
    from crm.screening.models import ScreeningCase, ScreeningOpinion, ScreeningThreshold

    owner = factories.user()
    chain = factories.chain()
    other_chain = factories.chain()
    db.session.add(ScreeningThreshold(chain_id=chain.id, min_intensity_wan_per_mu=Decimal(200),
                                      min_tax_per_mu_wan=Decimal(10)))
    # intensity 30000/100 = 300 万元/亩, tax 800/100 = 8 万元/亩
    lead = factories.negotiating_lead(owner=owner, chain_id=chain.id)
    plain = factories.negotiating_lead(owner=owner, chain_id=other_chain.id)
    unrated = factories.negotiating_lead(owner=owner, chain_id=chain.id)
    db.session.flush()
    lead.created_on = plain.created_on = unrated.created_on = date(2025, 1, 1)
    for day in (date(2025, 1, 10), date(2025, 2, 1), date(2025, 3, 1)):
        db.session.add(LeadActivity(lead_id=lead.id, kind="call", occurred_on=day, summary="电话",
                                    created_by_id=owner.id))
    (member_a, _a), (member_b, _b) = factories.member_unit(), factories.member_unit()
    submitted = datetime(2025, 3, 2, 2, tzinfo=timezone.utc)
    for target, marks in ((lead, (4, 2)), (unrated, (None, None))):
        case = ScreeningCase(lead_id=target.id, round=1, submitted_at=submitted, status="closed",
                             result="conditional", closed_at=submitted + timedelta(days=2))
        db.session.add(case)
        db.session.flush()
        for unit, verdict, mark in ((member_a, "approve", marks[0]), (member_b, "conditional", marks[1])):
            ratings = {f"rating_{d}": mark for d in ("scale", "intensity", "tech", "prospects", "compliance")}
            db.session.add(ScreeningOpinion(case_id=case.id, unit_id=unit.id, version=1, verdict=verdict,
                                            materials=[], submitted_at=submitted + timedelta(hours=5), **ratings))
    db.session.flush()
    today = date(2025, 3, 31)
    rows = {r.id: r for r in F.load_rows([lead.id, plain.id, unrated.id], today=today)}
    block = F.numeric_block([rows[lead.id], rows[plain.id], rows[unrated.id]])

    def col(name):
        return block[:, F.NUMERIC.index(name)]

    assert col("intensity_ratio")[0] == pytest.approx(1.5)
    assert col("tax_ratio")[0] == pytest.approx(0.8)
    # No chain row: the county's own tax line (5 万元/亩) and no intensity line.
    assert math.isnan(col("intensity_ratio")[1]) and col("tax_ratio")[1] == pytest.approx(8 / 5)
    assert col("screening_rating")[0] == pytest.approx(3.0)
    assert col("screening_approve_share")[0] == pytest.approx(0.5)
    assert math.isnan(col("screening_rating")[1]) and math.isnan(col("screening_approve_share")[1])
    assert math.isnan(col("screening_rating")[2]) and col("screening_approve_share")[2] == pytest.approx(0.5)
    assert col("activity_rate")[0] == pytest.approx(30 * 3 / (today - date(2025, 1, 1)).days)
    assert col("activity_rate")[1] == 0.0
    # A training snapshot knows the units' judgement from the day it was given: none while in
    # negotiation, the opinions (given 2 March) during pre-screening.
    from crm.scoring.training import screening_as_of, snapshots

    row = rows[lead.id]
    row.signed, row.landed, row.stage_reached = 0, 0, 2
    row.stage_days = {0: date(2025, 1, 1), 1: date(2025, 1, 20), 2: date(2025, 3, 2)}
    first, second, third = snapshots([row])
    for snap in (first, second):
        assert snap.screening_rating is None and snap.screening_approve_share is None
        assert snap.screening_rounds == 0 and snap.screening_result is None
    assert third.cutoff >= date(2025, 3, 2) and third.screening_rounds == 1
    assert third.screening_rating == pytest.approx(3.0) and third.screening_approve_share == pytest.approx(0.5)
    assert third.screening_result == ("conditional" if third.cutoff >= date(2025, 3, 4) else None)
    early = copy(row)
    screening_as_of(early, row, date(2025, 3, 3))  # submitted, opinions in, not closed yet
    assert (early.screening_rounds, early.screening_result, early.screening_rating) == (1, None, pytest.approx(3.0))
    screening_as_of(early, row, date(2025, 3, 2), before=True)
    assert (early.screening_rounds, early.screening_rating) == (0, None)


def test_a_signed_leads_last_stage_for_land_is_seen_at_the_signing_and_within_its_stay():
    """For `land` a signed lead's stage before signing is seen twice, each at half the weight of
    the stay that ended with the signing: as of the signing, and on a day within that stay like
    every other stage. Seen at the signing only, the signers would all have sat there as long as
    they took to sign, and a freshly admitted lead would look like the ones that failed there."""
    from crm.scoring.training import AT_SIGNING_SHARE, snapshots, stay_weight

    for lead_id in range(12, 40):
        row = _row(id=lead_id, stage_reached=4, signed=1, landed=1,
                   stage_days={0: date(2025, 1, 1), 4: date(2025, 3, 1)}, cutoff=date(2025, 6, 1),
                   signed_day=date(2025, 6, 1), land_end=date(2025, 7, 1), activity_days=[date(2025, 5, 20)])
        snaps = snapshots([row], "land")
        at_stage = [s for s in snaps if s.stage_reached == 4]
        assert len(at_stage) == 2
        at_signing, within = at_stage
        full = stay_weight((date(2025, 6, 1) - date(2025, 3, 1)).days)
        assert at_signing is row and at_signing.weight == pytest.approx(full * AT_SIGNING_SHARE)
        assert date(2025, 3, 1) <= within.cutoff < date(2025, 6, 1) and within is not row
        assert within.weight == pytest.approx(full * (1 - AT_SIGNING_SHARE))
        assert within.activities == (1 if within.cutoff >= date(2025, 5, 20) else 0)  # what was known that day
        assert at_signing.weight + within.weight == pytest.approx(full)
        # The sign target sees that stage once, within the stay, at the whole weight.
        assert [s.weight for s in snapshots([row]) if s.stage_reached == 4] == [full]


def test_an_open_lead_counts_the_stays_it_passed_at_the_share_of_the_leads_that_got_as_far():
    """A lead still open has passed stays whose outcome is on its way: each counts as a success
    and as a failure in the shares of the labelled leads that got as far as it stands (20 of the
    25 that reached admitted signed). Not the stay it sits in, not a lead that has not moved, not
    one recorded in the holdout's time, not one already counted (stale_as_lost)."""
    from crm.scoring.training import SIGNED_RANK, open_leads_so_far, snapshots

    def path(lead_id, created, stages, **kw):
        days = {s: created + timedelta(days=30 * s) for s in range(stages + 1)}
        return _row(id=lead_id, created_on=created, stage_reached=stages, stage_days=days,
                    move_days=sorted(days.values())[1:], **kw)

    start = date(2024, 1, 1)
    labelled = [path(i, start, 4, signed=int(i <= 20), landed=int(i <= 15), cutoff=start + timedelta(days=150),
                     signed_day=start + timedelta(days=150) if i <= 20 else None,
                     land_end=start + timedelta(days=240) if i <= 20 else None) for i in range(1, 26)]
    labelled += [path(i, start, 0, signed=0, landed=0, cutoff=start + timedelta(days=20)) for i in range(26, 46)]
    today = date(2026, 1, 1)
    admitted = path(100, date(2025, 1, 1), 4, cutoff=today)
    newer = path(101, date(2025, 5, 1), 4, cutoff=today)
    fresh = path(102, date(2025, 1, 1), 0, cutoff=today)
    in_holdout_time = path(103, date(2025, 9, 1), 4, cutoff=today)
    stale = path(104, date(2025, 1, 1), 2, cutoff=today)
    counted_stale = copy(stale)
    counted_stale.signed = counted_stale.landed = 0
    rows = labelled + [admitted, newer, fresh, in_holdout_time, stale]

    fit, calibration = open_leads_so_far(rows, labelled + [counted_stale], "sign", date(2025, 3, 1), date(2025, 8, 1))
    assert {r.id for r in fit} == {100} and {r.id for r in calibration} == {101}
    passed = snapshots([path(100, date(2025, 1, 1), 4, cutoff=today)])[:4]  # lead … awaiting decision
    assert [r.stage_reached for r in fit] == [0, 0, 1, 1, 2, 2, 3, 3]
    assert [r.signed for r in fit] == [1, 0] * 4
    share = 20 / 25
    for k, snap in enumerate(passed):
        assert (fit[2 * k].cutoff, fit[2 * k].activities) == (snap.cutoff, snap.activities)
        assert fit[2 * k].weight == pytest.approx(snap.weight * share)
        assert fit[2 * k + 1].weight == pytest.approx(snap.weight * (1 - share))
    assert admitted.signed is None  # the lead itself is not changed

    # For `land`, a signed lead waiting to start: every stay before the signing, at the share of
    # the decided signers that started (15 of 20).
    waiting = path(105, date(2025, 1, 1), 4, cutoff=date(2025, 5, 1), signed=1, signed_day=date(2025, 5, 1))
    fit, _ = open_leads_so_far(labelled + [waiting], labelled, "land", date(2025, 3, 1), None)
    assert {r.id for r in fit} == {105} and len(fit) == 2 * len(snapshots([waiting], "land"))
    assert all(r.stage_reached < SIGNED_RANK for r in fit)
    assert sum(r.weight for r in fit if r.landed) / sum(r.weight for r in fit) == pytest.approx(15 / 20)
