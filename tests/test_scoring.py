"""Scoring: labels, training and the registry, safe model files, the prior, explanations."""
from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.leads.models import Lead
from crm.scoring.models import ScoringModel
from tests import factories


def history(n: int, seed: int = 1, owner=None, only=None):
    """n ended leads whose chance of signing rises with investment intensity (万元/亩)."""
    rng = random.Random(seed)
    owner = owner or factories.user()
    start = date(2021, 1, 1)
    leads = []
    for i in range(n):
        intensity = rng.uniform(100, 600)
        signed = rng.random() < 1 / (1 + math.exp(-(intensity - 350) / 40))
        if only is not None:
            signed = only
        stage = ("started" if rng.random() < 0.6 else "signed") if signed else rng.choice(["lost", "rejected"])
        created = start + timedelta(days=i * 3)
        leads.append(Lead(company_name=f"历史企业{seed}-{i}", company_key=f"历史企业{seed}-{i}",
                          owner_unit_id=owner.unit_id, owner_id=owner.id, stage=stage, created_on=created,
                          fixed_asset_investment_wan=Decimal(int(intensity * 50)), land_area_mu=Decimal(50),
                          planned_investment_wan=Decimal(rng.randint(3000, 40000)),
                          signed_on=created + timedelta(days=60) if signed else None,
                          started_on=created + timedelta(days=120) if stage == "started" else None,
                          lost_reason="投资方放弃" if stage == "lost" else None))
    db.session.add_all(leads)
    db.session.flush()
    return leads


@pytest.fixture()
def ctx(app, db_session):
    """Training and scoring need the app (its instance folder holds the model files)."""
    with app.test_request_context():
        yield


def test_labels_follow_the_issue():

    from crm.scoring import features as F
    assert F.SIGNED_RANK < F.STARTED_RANK


def test_labels_and_censoring(ctx):
    from crm.scoring.features import load_rows

    owner = factories.user()
    open_lead = factories.negotiating_lead(owner=owner)
    lost_after_signing = history(1, seed=9, owner=owner, only=True)[0]
    lost_after_signing.stage, lost_after_signing.started_on = "lost", None
    db.session.flush()
    rows = {r.id: r for r in load_rows()}
    assert rows[open_lead.id].signed is None and rows[open_lead.id].landed is None  # censored
    assert rows[lost_after_signing.id].signed == 1 and rows[lost_after_signing.id].landed == 0


def test_training_without_labels_is_refused_and_changes_nothing(ctx):
    from crm.scoring.models import ScoringModel
    from crm.scoring.training import TrainingError, train

    factories.negotiating_lead()
    with pytest.raises(TrainingError, match="还没有线索有此目标的结果"):
        train("sign")
    history(30, only=False)
    with pytest.raises(TrainingError, match="结果都相同"):
        train("sign")
    assert db.session.scalar(select(func.count()).select_from(ScoringModel)) == 0


def test_a_trained_version_is_registered_with_its_metrics_and_activated(ctx):
    from crm.scoring.registry import active_model, load_model, model_path
    from crm.scoring.training import train

    history(240)
    entry = train("sign")
    assert entry.status == "active" and entry.version == 1
    assert entry.positives >= 40 and entry.negatives >= 40 and entry.holdout_size == 48
    assert entry.roc_auc > 0.75 and 0 <= entry.brier < 0.25
    assert entry.calibration and entry.importances[0]["feature"] == "intensity"
    assert entry.library_versions["scikit-learn"] and entry.window_start == date(2021, 1, 1)
    import hashlib
    assert hashlib.sha256(model_path(entry).read_bytes()).hexdigest() == entry.sha256
    model, spec = load_model(entry)
    assert active_model("sign").id == entry.id and hasattr(model, "predict_proba")


def test_too_few_labels_stay_a_candidate_with_the_reason(ctx):
    from crm.scoring.training import train

    history(60)
    entry = train("sign")
    assert entry.status == "candidate" and "标签太少" in entry.reason


def test_a_worse_version_stays_a_candidate(ctx):
    from crm.scoring.training import train

    history(240)
    first = train("sign")
    # Noise added to the newest leads: the same holdout, a worse fit for the new version.
    for lead in db.session.scalars(select(Lead).order_by(Lead.created_on.desc()).limit(200)):
        lead.fixed_asset_investment_wan = Decimal(random.Random(lead.id).randint(5000, 30000))
    db.session.flush()
    second = train("sign")
    if second.status == "candidate":
        # Worse than the active version on the same holdout, or (the noise can do that) no
        # better than chance: either keeps it a candidate, with the reason.
        assert second.previous_auc is not None
        assert second.roc_auc < second.previous_auc or second.roc_auc <= 0.5
        assert second.reason
        assert first.status == "active"
    else:
        assert second.roc_auc >= second.previous_auc


def test_a_model_no_better_than_chance_stays_a_candidate(ctx):
    from crm.scoring.training import train

    history(240)
    # In the newest leads (the holdout) the relation is turned round: low intensity signed.
    for lead in db.session.scalars(select(Lead).order_by(Lead.created_on.desc()).limit(60)):
        lead.fixed_asset_investment_wan = Decimal(700 * 50) - lead.fixed_asset_investment_wan
    db.session.flush()
    entry = train("sign")
    assert entry.roc_auc < 0.5
    assert entry.status == "candidate" and "随机" in entry.reason
    assert db.session.scalar(select(func.count()).select_from(ScoringModel).where(
        ScoringModel.status == "active")) == 0


def test_a_tampered_model_file_is_refused_and_the_previous_version_returns(ctx):
    from crm.scoring.registry import model_path, usable_active
    from crm.scoring.training import train

    history(240)
    first = train("sign")
    history(60, seed=2)
    second = train("sign")
    assert second.status == "active" and first.status == "retired"
    path = model_path(second)
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")  # tampered
    entry, _model, _spec = usable_active("sign")
    assert entry.id == first.id and first.status == "active"
    assert second.status == "failed" and "SHA-256" in second.reason


def test_a_file_with_untrusted_types_is_refused(ctx):
    import hashlib

    import skops.io as sio

    from crm.scoring.registry import ModelFileError, load_model, model_path
    from crm.scoring.training import train

    history(240)
    entry = train("sign")
    path = model_path(entry)
    from fractions import Fraction
    sio.dump({"payload": Fraction(1, 3)}, path)  # a type outside the trusted list
    entry.sha256 = hashlib.sha256(path.read_bytes()).hexdigest()  # even with a matching checksum
    from crm.scoring import registry
    registry._cache.clear()
    with pytest.raises(ModelFileError, match="does not trust"):
        load_model(entry)


def test_without_a_model_the_prior_scores_and_says_so(ctx):
    from crm.scoring.scoring import score_leads

    lead = factories.negotiating_lead()  # tax per mu 8 ≥ 5: the one indicator with a threshold
    score_leads([lead.id])
    lead = factories.reload(lead)
    assert lead.score_source == "prior" and lead.score_model_version == "prior"
    assert lead.p_sign == pytest.approx(0.30) and lead.p_land == pytest.approx(0.18)  # 20 + 10 points
    assert lead.score_grade == "C" and lead.score_pending is False
    from crm.scoring.models import LeadScore
    stored = db.session.scalars(select(LeadScore).where(LeadScore.lead_id == lead.id)).one()
    assert stored.factors["basis"] == "prior" and {"group": "tax_per_mu", "points": 10.0} in stored.factors["sign"]
    lines = stored.factor_lines("sign")
    assert any(f["group"] == "tax_per_mu" and "+10" in f["text"] and "达到" in f["text"] for f in lines)


def test_the_named_factor_moves_the_score_the_stated_way(ctx):
    from crm.scoring.scoring import compute_scores, factor_lines
    from crm.scoring.training import train

    owner = factories.user()
    history(300, owner=owner)
    assert train("sign").status == "active"
    lead = factories.negotiating_lead(owner=owner, fixed_asset_investment_wan=Decimal(27500),
                                      land_area_mu=Decimal(50), planned_investment_wan=Decimal(33000))
    scored = compute_scores([lead.id])[0]
    top = max(scored.factors["sign"], key=lambda item: item["points"])  # the largest up
    assert top["group"] in ("intensity", "scale") and top["points"] > 0  # 550 万元/亩: well above
    line = next(line for line in factor_lines(scored.factors, "sign") if line["group"] == top["group"])
    assert ("万元/亩" in line["text"] or "万元" in line["text"]) and "+" in line["text"] and "个百分点" in line["text"]
    assert ("550" in line["text"]) if top["group"] == "intensity" else ("33,000" in line["text"])
    # The stated points are the model's own: the exact Shapley value of that group, every set of
    # the other groups predicted against the version's background rows.
    import numpy as np

    from crm.scoring import features as F
    from crm.scoring import shapley
    from crm.scoring.registry import usable_active

    entry, model, spec = usable_active("sign")
    rows = F.load_rows([lead.id])
    F.source_rates(rows, *F.source_totals_from_db())
    X = spec.matrix(rows)
    background = np.array(entry.feature_spec["background"], dtype=float)
    columns = [spec.indexes(g) for g in F.GROUPS]
    values = shapley.direct_values(lambda Z: np.clip(model.predict_proba(Z)[:, 1], 0.01, 0.99), X, background,
                                   columns)
    k = list(F.GROUPS).index(top["group"])
    assert shapley.shapley_from_values(values)[0, k] * 100 == pytest.approx(top["points"], abs=0.001)
    # Take the named factor away on the lead itself: the score falls, as the factor said it would.
    lead.fixed_asset_investment_wan = None
    lead.planned_investment_wan = None
    db.session.flush()
    assert compute_scores([lead.id])[0].p_sign < scored.p_sign


def test_factors_tree_by_tree_equal_the_stacked_re_predictions(ctx):
    """The batch path (tree by tree, only where a path meets the group) gives the same
    contributions as predicting every row again with each group unknown."""
    import numpy as np

    from crm.scoring import features as F
    from crm.scoring import scoring
    from crm.scoring.registry import usable_active
    from crm.scoring.training import train

    owner = factories.user()
    leads = history(300, owner=owner)
    for i, lead in enumerate(leads[::3]):  # some figures unknown, some tech filled in
        lead.expected_tax_wan = Decimal(400 + i) if i % 2 else None
        lead.high_tech = bool(i % 3) if i % 4 else None
        lead.patents = i % 7 if i % 5 else None
    db.session.flush()
    assert train("sign").status == "active"
    _entry, model, spec = usable_active("sign")
    rows = F.load_rows()
    F.source_rates(rows, *F.source_totals_from_db())
    X = spec.matrix(rows)
    explainer = scoring._explainer(model, spec)
    assert explainer is not None
    p_tree, c_tree = explainer.explain(X)
    p_stack, c_stack = scoring.stacked_contributions(model, X, spec)
    assert np.array_equal(p_tree, model.predict_proba(X)[:, 1])
    assert np.allclose(c_tree, c_stack, atol=1e-8) and np.abs(c_stack).max() > 1
    p_all, c_all = scoring.contributions(model, np.concatenate([X] * 3), spec)  # chunks side by side
    assert np.allclose(c_all, np.concatenate([c_stack] * 3), atol=1e-8)


def test_factor_lines_word_the_stored_figures_and_old_texts(ctx):
    from crm.scoring.scoring import factor_lines

    factors = {"sign": [{"group": "intensity", "points": 8.2}, {"group": "follow_up", "points": -3.0}],
               "land": [], "values": {"intensity": 420.0, "intensity_threshold": 300.0, "activities": 2}}
    lines = factor_lines(factors, "sign")
    assert lines[0]["text"] == "投资强度 420 万元/亩（高于标准 300）: +8 分", lines[0]["text"]
    assert lines[1]["points"] == -3.0 and "2" in lines[1]["text"] and "-3 分" in lines[1]["text"]
    old = {"sign": [{"group": "scale", "points": 4.0, "text": "投资规模 5,000 万元: +4 分"}]}
    assert factor_lines(old, "sign")[0]["text"] == "投资规模 5,000 万元: +4 分"
    assert factor_lines(None) == [] and factor_lines({}, "land") == []


def test_the_worker_preloads_the_active_models_and_picks_up_a_new_version(ctx, monkeypatch):
    from crm.scoring import features

    monkeypatch.setattr(features, "_county_rate", None)  # warm() sets it: not for the next tests
    from crm.scoring import registry
    from crm.scoring.training import train

    registry._cache.clear()
    history(240)
    first = train("sign")
    assert registry.warm() == {"sign": first.label}
    assert registry._cache["sign"][0] == (first.id, first.sha256)
    history(60, seed=2)
    second = train("sign")
    assert second.status == "active"
    assert registry.warm() == {"sign": second.label}  # the next job's horse gets the new version
    assert registry._cache["sign"][0] == (second.id, second.sha256)


def test_scores_on_the_list_page_api_and_export(app, client):
    from crm.scoring.scoring import score_leads

    officer = factories.user()
    lead = factories.negotiating_lead(owner=officer)
    lead_id = lead.id
    with app.test_request_context():
        score_leads([lead_id])
        db.session.commit()  # a savepoint of the test's transaction; the context's end closes the session
    lead = db.session.get(Lead, lead_id)
    client.login(officer)
    page = client.get("/leads?sort=score&grade=C").get_data(as_text=True)
    assert f'data-lead-id="{lead.id}"' in page and "30% / 18%" in page
    assert f'data-lead-id="{lead.id}"' not in client.get("/leads?grade=A").get_data(as_text=True)
    assert 'data-testid="grade">C<' in client.get(f"/leads/{lead.id}").get_data(as_text=True)
    api = client.get(f"/api/v1/leads/{lead.id}").get_json()
    assert api["p_sign"] == pytest.approx(0.30) and api["score_grade"] == "C" and api["model_version"] == "prior"
    assert [f["group"] for f in api["score_factors"]["sign"]] == ["tax_per_mu"]
    assert "+10" in api["score_factors"]["sign"][0]["text"]
    doc = client.get("/api/v1/openapi.json").get_json()  # the factors are in the API's document
    detail = doc["components"]["schemas"]["LeadDetail"]["allOf"][1]["properties"]["score_factors"]
    factor = detail["properties"]["sign"]["items"]["properties"]
    assert set(api["score_factors"]["sign"][0]) == set(factor)
    assert api["score_factors"]["sign"][0]["group"] in factor["group"]["enum"]
    assert doc["paths"]["/leads/{lead_id}"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"] == {"$ref": "#/components/schemas/LeadDetail"}
    from crm.interchange.export import export_rows
    from crm.leads.queries import LeadFilters
    header, row = list(export_rows(officer, LeadFilters()))[:2]
    values = dict(zip(header, row))
    assert values["签约概率"] == pytest.approx(0.30) and values["评级"] == "C" and values["模型版本"] == "prior"


def test_editing_a_lead_marks_it_pending(client, db_session):
    officer = factories.user()
    lead = factories.negotiating_lead(owner=officer)
    lead.score_pending = False
    db.session.flush()
    client.login(officer)
    response = client.post(f"/leads/{lead.id}/activities", {"kind": "visit", "occurred_on": "2026-11-20",
                                                           "summary": "拜访企业负责人"})
    assert response.status_code == 302
    assert factories.reload(lead).score_pending is True


def test_model_page_and_cutoffs(client, db_session):
    admin = factories.user(roles=("admin",))
    client.login(admin)
    assert "评分模型" in client.get("/scoring/").get_data(as_text=True)
    bad = client.post("/scoring/cutoffs", {"a": "0.2", "b": "0.5", "c": "0.1"}, follow_redirects=True)
    assert "从 A 到 C" in bad.get_data(as_text=True)
    assert client.post("/scoring/cutoffs", {"a": "0.7", "b": "0.4", "c": "0.2"}).status_code == 302
    from crm.scoring.settings import get_cutoffs
    assert get_cutoffs() == {"A": 0.7, "B": 0.4, "C": 0.2}
    officer = factories.user()
    other = client.raw.application.test_client()
    from tests.conftest import CSRFClient
    officer_client = CSRFClient(other)
    officer_client.login(officer)
    assert officer_client.get("/scoring/").status_code == 403
    assert officer_client.post("/api/v1/scoring/train", json={}).status_code == 403


def _row(**kw):
    from crm.scoring.features import LeadRow

    base = dict(id=1, created_on=date(2025, 1, 1), cutoff=date(2025, 6, 1), chain=None, node=None,
                source_kind=None, source_id=None, origin_region=None, planned=None, fixed=None, land=None,
                output=None, tax=None, high_tech=None, specialized=None, patents=None, rd_ratio=None, jobs=None)
    return LeadRow(**{**base, **kw})


def test_each_stage_snapshot_is_a_day_within_its_stay_with_what_was_known_that_day():
    from bisect import bisect_right

    from crm.scoring.features import days_since_move
    from crm.scoring.training import snapshots

    activity_days = [date(2025, 1, 5), date(2025, 2, 10), date(2025, 3, 1), date(2025, 4, 2), date(2025, 5, 30)]
    for lead_id in range(1, 40):
        row = _row(id=lead_id, activities=5, last_activity=date(2025, 5, 30), stage_reached=1, signed=1, landed=1,
                   stage_days={0: date(2025, 1, 1), 1: date(2025, 3, 1)}, activity_days=activity_days,
                   move_days=[date(2025, 3, 1)], last_move=date(2025, 3, 1))
        first, last = snapshots([row])
        assert first.stage_reached == 0 and date(2025, 1, 1) <= first.cutoff < date(2025, 3, 1)
        assert last.stage_reached == 1 and date(2025, 3, 1) <= last.cutoff < date(2025, 6, 1)
        for snap in (first, last):  # the follow-ups up to that day, nothing later
            n = bisect_right(activity_days, snap.cutoff)
            assert snap.activities == n and snap.last_activity == (activity_days[n - 1] if n else None)
        assert days_since_move(first) == (first.cutoff - date(2025, 1, 1)).days
        assert days_since_move(last) == (last.cutoff - date(2025, 3, 1)).days
        assert snapshots([row]) == [first, last]  # the same days every run
        # For `land`, a signed lead's last snapshot is the lead as of its signing (as it is scored).
        assert snapshots([row], "land")[1] is row
    days = {snapshots([_row(id=i, stage_reached=0, signed=0, landed=0)])[0].cutoff for i in range(1, 60)}
    assert len(days) > 20  # spread over the stay, not always its last day


def test_an_imported_history_has_no_time_in_stage(ctx):
    """Leads recorded as signed or lost in one go (an import: no move between stages) have no
    stay to measure, so days_since_move stays unknown for them; a lead whose moves the app
    recorded has it, and an open lead always does."""
    import math

    from crm.leads.models import LeadStageChange
    from crm.scoring import features as F

    owner = factories.user()
    imported = history(2, owner=owner)
    moved = history(1, seed=3, owner=owner, only=False)[0]
    db.session.add(LeadStageChange(lead_id=moved.id, from_stage="negotiating", to_stage="lost",
                                   changed_at=datetime(2021, 5, 1, 9, tzinfo=timezone.utc)))
    open_lead = factories.negotiating_lead(owner=owner)
    db.session.flush()
    rows = {r.id: r for r in F.load_rows()}
    block = F.numeric_block(list(rows.values()))
    column = dict(zip(rows, block[:, F.NUMERIC.index("days_since_move")]))
    assert all(math.isnan(column[lead.id]) for lead in imported)
    assert column[moved.id] == (date(2021, 5, 1) - moved.created_on).days  # sat in negotiation till lost
    assert not math.isnan(column[open_lead.id])


def test_a_known_outcome_is_stored_as_certain(ctx):
    from crm.scoring.scoring import compute_scores
    from crm.scoring.training import train

    leads = history(240)
    train("sign")
    signed = next(lead for lead in leads if lead.stage == "started")
    lost = next(lead for lead in leads if lead.stage == "lost")
    scores = {s.lead_id: s for s in compute_scores([signed.id, lost.id])}
    assert (scores[signed.id].p_sign, scores[signed.id].p_land) == (1.0, 1.0)
    assert (scores[lost.id].p_sign, scores[lost.id].p_land) == (0.0, 0.0)
    assert scores[signed.id].factors["sign"] == [] and scores[lost.id].factors["sign"] == []


def test_an_unchanged_score_adds_no_history_row_and_a_large_batch_is_written_whole(ctx):
    """Scoring again with nothing changed writes nothing but the cleared pending flag;
    a batch of BULK_FROM or more changed leads goes through the temporary table, with the same
    result as one UPDATE per lead."""
    from crm.scoring import scoring
    from crm.scoring.models import LeadScore

    def count():
        return db.session.scalar(select(func.count()).select_from(LeadScore))

    leads = history(240)
    ids = [lead.id for lead in leads]
    scored = scoring.compute_scores(ids)
    assert scoring.store(scored) == 240 and count() == 240
    db.session.expire_all()
    lead = db.session.get(Lead, ids[0])
    first_scored_at = lead.scored_at
    assert first_scored_at is not None
    lead.score_pending = True
    db.session.flush()
    assert scoring.store(scoring.compute_scores(ids)) == 240
    assert count() == 240  # nothing changed: no new history
    db.session.expire_all()
    lead = db.session.get(Lead, ids[0])
    assert lead.score_pending is False and lead.scored_at == first_scored_at  # the time it took that value
    old = scoring.BULK_FROM
    scoring.BULK_FROM = 100
    try:
        changed = [scoring.Scored(s.lead_id, 0.5, 0.25, "model", "sign-v9/land-v9", {}) for s in scored]
        scoring.store(changed)
    finally:
        scoring.BULK_FROM = old
    db.session.expire_all()
    assert count() == 480
    stored = db.session.execute(select(Lead.p_sign, Lead.p_land, Lead.score_grade, Lead.score_model_version)
                                .where(Lead.id.in_(ids))).all()
    assert set(stored) == {(0.5, 0.25, "B", "sign-v9/land-v9")}


def test_a_rescore_counts_only_its_own_source_and_the_warmed_county_rate(ctx, monkeypatch):
    from crm.leads.models import Source
    from crm.scoring import features as F

    owner = factories.user()
    sources = [Source(name=f"商会{i}", kind="chamber") for i in range(2)]
    db.session.add_all(sources)
    db.session.flush()
    for i, lead in enumerate(history(60, owner=owner)):
        lead.source_id = sources[i % 2].id
    db.session.flush()
    monkeypatch.setattr(F, "_county_rate", None)
    everything, prior = F.source_totals_from_db()
    own, county = F.source_totals_from_db({sources[0].id})
    assert own == {sources[0].id: everything[sources[0].id]} and county == pytest.approx(prior)
    monkeypatch.setattr(F, "_county_rate", None)
    assert F.warm_county_rate() == pytest.approx(prior)
    history(30, seed=5, owner=owner, only=True)  # the county's rate moves …
    assert F.county_rate() == pytest.approx(prior)  # … the warmed one serves while fresh
    monkeypatch.setattr(F, "COUNTY_RATE_SECONDS", 0)
    assert F.county_rate() > prior
