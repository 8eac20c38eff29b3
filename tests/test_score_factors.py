"""Factors that add up (issue 17): exact Shapley values over the groups of fields, from the
county's base chance to the lead's chance; words that agree with their sign; names, not codes;
the grade cut-offs under every grade."""
from __future__ import annotations

import math
import random
import re
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.leads.models import Lead
from tests import factories


@pytest.fixture()
def ctx(app, db_session):
    with app.test_request_context():
        yield


def _threshold(**figures):
    from crm.screening.models import ScreeningThreshold

    row = ScreeningThreshold(**{k: Decimal(str(v)) if k != "min_tech_score" else v for k, v in figures.items()})
    db.session.add(row)
    db.session.flush()
    return row


def _history(n, owner, chains, sources, seed=7):
    """n ended leads whose outcome rises with intensity, high-tech and the first chain and source."""
    rng = random.Random(seed)
    start = date(2021, 1, 1)
    leads = []
    for i in range(n):
        intensity = rng.uniform(100, 600)
        chain, source = rng.choice(chains), rng.choice(sources)
        high = rng.random() < 0.4
        z = (intensity - 350) / 60 + (0.8 if high else -0.2) + (0.7 if chain is chains[0] else -0.3) \
            + (0.5 if source is sources[0] else 0)
        signed = rng.random() < 1 / (1 + math.exp(-z))
        stage = ("started" if rng.random() < 0.6 else "signed") if signed else rng.choice(["lost", "rejected"])
        created = start + timedelta(days=i * 3)
        leads.append(Lead(
            company_name=f"历史企业{i}", company_key=f"历史企业{i}", owner_unit_id=owner.unit_id, owner_id=owner.id,
            stage=stage, created_on=created, chain_id=chain.id, chain_node_id=chain.nodes[i % 2].id,
            source_id=source.id, source_kind=source.kind, high_tech=high,
            patents=rng.randint(0, 20) if rng.random() < 0.7 else None,
            fixed_asset_investment_wan=Decimal(int(intensity * 50)), land_area_mu=Decimal(50),
            expected_tax_wan=Decimal(rng.randint(100, 900)), planned_investment_wan=Decimal(rng.randint(3000, 40000)),
            signed_on=created + timedelta(days=60) if signed else None,
            started_on=created + timedelta(days=120) if stage == "started" else None,
            lost_reason="投资方放弃" if stage == "lost" else None))
    db.session.add_all(leads)
    db.session.flush()
    return leads


def _open_leads(owner, chains, sources, n=24, seed=3):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        fields = {"fixed_asset_investment_wan": Decimal(rng.choice([5000, 12000, 16000, 27500])),
                  "land_area_mu": Decimal(50), "planned_investment_wan": Decimal(rng.randint(3000, 40000)),
                  "chain_id": chains[i % len(chains)].id, "source_id": sources[i % len(sources)].id,
                  "chain_node_id": chains[i % len(chains)].nodes[0].id if i % 3 else None,
                  "high_tech": [True, False, None][i % 3], "patents": [12, None, 0][i % 3],
                  "expected_tax_wan": Decimal(rng.randint(100, 900)) if i % 4 else None}
        out.append(factories.negotiating_lead(owner=owner, **fields) if i % 5 else factories.lead(owner=owner, **fields))
    return out


def test_factors_add_up_exactly_and_are_the_models_own(ctx, monkeypatch):
    """For many leads and both chances: base + factors = the chance (exactly, and as shown to 0.1);
    the fast tree path equals predicting every set against every background row; groups are named
    (chains, nodes, sources by name); landing held at signing's chance says so; only changed
    scores are explained again; a version trained before backgrounds were kept still adds up."""
    from crm.scoring import features as F
    from crm.scoring import scoring, shapley
    from crm.scoring.models import LeadScore
    from crm.scoring.registry import usable_active
    from crm.scoring.training import train
    from crm.scoring.wording import breakdown, factor_lines

    _threshold(min_intensity_wan_per_mu=300)
    owner = factories.user()
    chains = [factories.chain("新材料产业链", nodes=("铝型材", "铝箔")),
              factories.chain("森林康养产业链", nodes=("康养基地", "民宿"))]
    sources = [factories.source("上海将乐商会", "chamber"), factories.source("清明乡贤恳谈会", "event")]
    _history(320, owner, chains, sources)
    assert train("sign").status == "active" and train("land").status == "active"
    leads = _open_leads(owner, chains, sources)
    ids = [lead.id for lead in leads]
    scored = {s.lead_id: s for s in scoring.compute_scores(ids)}
    capped = 0
    for lead_id in ids:
        s = scored[lead_id]
        for target, chance in (("sign", s.p_sign), ("land", s.p_land)):
            base = s.factors["base"][target]
            assert 0 < base < 1
            total = base * 100 + sum(item["points"] for item in s.factors[target])
            assert total == pytest.approx(chance * 100, abs=0.01), (lead_id, target)
            table = breakdown(s.factors, target)
            shown = round(table["base"] * 10) + sum(line["tenths"] for line in table["lines"])
            assert shown == round(table["total"] * 10)  # the shown figures add up too
            assert abs(table["total"] - chance * 100) <= 0.06
            for line in factor_lines(s.factors, target):
                assert not re.search(r"chain\d+|chamber|event\b|agri_", line["text"]), line["text"]  # never codes
                if line["group"] == "chain":
                    chain = next(c for c in chains if c.name in line["text"])
                    lead = db.session.get(Lead, lead_id)
                    if lead.chain_node_id:
                        assert f"{chain.name} · {lead.chain_node.name}" in line["text"], line["text"]
                if line["group"] == "source":
                    assert "上海将乐商会" in line["text"] or "清明乡贤恳谈会" in line["text"]
        capped += any(item["group"] == "cap" for item in s.factors["land"])
    assert {item["group"] for s in scored.values() for item in s.factors["sign"]} >= {"intensity", "chain", "tech"}

    # The fast path is the definition: every set of groups against every background row.
    for target in ("sign", "land"):
        entry, model, spec = usable_active(target)
        explainer = scoring.group_explainer(entry, model, spec)
        assert explainer.tree is not None and len(explainer.background) == shapley.BACKGROUND_SIZE
        rows = F.load_rows(ids[:4])
        F.source_rates(rows, *F.source_totals_from_db())
        X = spec.matrix(rows)
        direct = shapley.direct_values(lambda Z: model.predict_proba(Z)[:, 1], X, explainer.background,
                                       explainer.group_columns)
        assert np.allclose(explainer.values(X), direct, atol=1e-9)
        assert np.allclose(direct[:, -1], model.predict_proba(X)[:, 1], atol=1e-12)  # all known: the chance
        # The base is the model's mean over its background rows, which sit evenly across its
        # training predictions: a representative sample of the county's past leads.
        assert direct[0, 0] == pytest.approx(model.predict_proba(explainer.background)[:, 1].mean())
        # A version trained before backgrounds were kept: built from the leads, still adds up.
        entry.feature_spec = {k: v for k, v in entry.feature_spec.items() if k not in ("background", "reference")}
        legacy = shapley.GroupExplainer.for_entry(entry, model, spec)
        p = model.predict_proba(X)[:, 1]
        base, contribs = legacy.explain(X, p)
        assert np.allclose(base * 100 + contribs.sum(axis=1), p * 100, atol=1e-6)
        db.session.expire(entry)

    # Stored, then rescored unchanged: nothing is explained again (the slow part) unless forced.
    scoring.store(list(scored.values()))
    assert db.session.scalar(select(LeadScore).where(LeadScore.lead_id == ids[1])).factors["method"] == "shapley"
    calls = []
    original = shapley.GroupExplainer.explain
    monkeypatch.setattr(shapley.GroupExplainer, "explain", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    scoring.score_leads(ids)
    assert calls == []
    scoring.score_leads(ids[:3], force=True)
    assert calls and len(db.session.scalars(select(LeadScore).where(LeadScore.lead_id == ids[1])).all()) == 2


def test_a_chance_held_at_signing_shows_the_cap(ctx):
    """Landing is never above signing: where the land model says more, a line of its own takes the
    difference, and the factors still add up to the chance stored."""
    from crm.scoring.wording import breakdown

    factors = {"method": "shapley", "base": {"sign": 0.3, "land": 0.2},
               "sign": [{"group": "stage", "points": -10.0}],
               "land": [{"group": "stage", "points": 5.0}, {"group": "cap", "points": -5.0}], "values": {},
               "reference": {}}
    table = breakdown(factors, "land")
    assert table["total"] == 20.0 and [line["group"] for line in table["lines"]] == ["stage", "cap"]
    assert "不高于签约概率" in table["lines"][1]["text"] and table["lines"][1]["sign"] == -1


PER_MU = {"intensity_threshold": 300.0, "tax_per_mu_threshold": 5.0}
WORDING_CASES = [  # (group, the lead's values, the county's medians, points, must contain, must not contain)
    ("intensity", {"intensity": 148.7, **PER_MU}, {"intensity": 120.0}, 2.0,
     "投资强度 148.7 万元/亩（低于标准 300，但高于全县线索的中位数 120）", None),
    ("intensity", {"intensity": 148.7, **PER_MU}, {"intensity": 250.0}, 2.0,
     "低于标准 300，但在本县以往线索中，这类线索的签约率高于基准", None),
    ("intensity", {"intensity": 420.0, **PER_MU}, {"intensity": 500.0}, -1.5,
     "（高于标准 300，但低于全县线索的中位数 500）", None),
    ("intensity", {"intensity": 420.0, **PER_MU}, {"intensity": 300.0}, -1.5,
     "高于标准 300，但在本县以往线索中，这类线索的签约率低于基准", None),
    ("intensity", {"intensity": 420.0, **PER_MU}, {}, 8.2, "投资强度 420 万元/亩（高于标准 300），+8.2 个百分点", "但"),
    ("intensity", {"intensity": 148.7, **PER_MU}, {}, -3.0, "投资强度 148.7 万元/亩（低于标准 300），-3.0 个百分点", "但"),
    ("intensity", {"output_per_mu": 148.7, "output_per_mu_threshold": 300.0}, {"output_per_mu": 100.0}, 27.0,
     "亩均产值 148.7 万元/亩（低于标准 300，但高于全县线索的中位数 100），+27.0 个百分点", None),
    ("tech", {"high_tech": True, "patents": 12}, {"patents": 3}, -12.0,
     "科技含量：高新技术企业、专利 12 项（但在本县以往线索中，这类线索的签约率低于基准）", None),
    ("tech", {"high_tech": False, "specialized": False}, {}, 1.0, "（均不具备，但在本县以往线索中", None),
    ("tech", {"high_tech": True, "patents": 12}, {"patents": 3}, 4.0, "高新技术企业、专利 12 项，+4.0 个百分点", "但"),
    ("chain", {"chain": "新材料产业链", "node": "铝型材"}, {}, 3.0, "产业链及环节：新材料产业链 · 铝型材", None),
    ("source", {"source": "上海将乐商会", "source_kind_label": "商会", "source_rate": 0.32, "region": "上海市"}, {}, -1.0,
     "上海将乐商会（商会，该来源签约率 32%）、客商来自上海市", None),
    ("source", {"source": "上海将乐商会", "source_kind_label": "商会", "source_rate": 0.32, "region": "上海市",
                "channel_chain_rate": 0.381, "region_chain_rate": 0.29}, {}, 2.0,
     "客商来自上海市、本产业链商会线索签约率 38%、该地客商在本产业链签约率 29%", None),
    ("stage", {"stage": "negotiating", "days_in_stage": 40}, {}, -5.0, "洽谈，已 40 天未推进", None),
    ("screening", {"screening_result": "conditional", "screening_rounds": 2, "screening_rejects": 1}, {}, 4.0,
     "有条件通过（2 轮，不同意意见 1 个）", None),
]


@pytest.mark.parametrize(("group", "values", "reference", "points", "wanted", "unwanted"), WORDING_CASES)
def test_the_words_agree_with_the_sign(ctx, group, values, reference, points, wanted, unwanted):
    from crm.scoring.wording import breakdown

    factors = {"method": "shapley", "base": {"sign": 0.25}, "sign": [{"group": group, "points": points}],
               "land": [], "values": values, "reference": reference}
    line = breakdown(factors, "sign")["lines"][0]
    assert wanted in line["text"], line["text"]
    if unwanted:
        assert unwanted not in line["text"], line["text"]
    # The general rule: a figure below its standard shown as a gain says why, and the reverse.
    for piece in re.findall(r"（[^）]*）", line["text"]):
        if "低于标准" in piece and line["sign"] > 0 or "高于标准" in piece and line["sign"] < 0:
            assert "但" in piece, line["text"]
    assert line["text"].endswith(f"{'+' if points > 0 else '-'}{abs(points):.1f} 个百分点")


def test_older_factors_keep_their_words_but_never_contradict_their_sign(ctx):
    from crm.scoring.wording import factor_lines

    old = {"sign": [{"group": "output_per_mu", "points": 27.0}],
           "values": {"output_per_mu": 148.7, "output_per_mu_threshold": 300.0}}
    text = factor_lines(old)[0]["text"]
    assert text.startswith("亩均产值 148.7 万元/亩（低于标准 300，但") and text.endswith("+27 分")
    coded = {"sign": [{"group": "chain", "points": 3.0}], "values": {"chain": "newmat", "node": "铝型材"}}
    chain = factories.chain("新材料产业链")
    chain.code = "newmat"
    db.session.flush()
    text = factor_lines(coded)[0]["text"]
    assert "新材料产业链 · 铝型材" in text and "newmat" not in text


def test_the_prior_adds_up_from_its_base_with_the_clip_as_a_line(ctx):
    from crm.scoring.scoring import compute_scores
    from crm.scoring.wording import breakdown

    _threshold(min_total_investment_wan=900000, min_intensity_wan_per_mu=900, min_tax_per_mu_wan=900,
               min_output_per_mu_wan=900, min_tech_score=99)
    lead = factories.negotiating_lead(planned_investment_wan=Decimal(1000), expected_output_wan=Decimal(100),
                                      patents=1)
    s = compute_scores([lead.id])[0]
    assert s.source == "prior" and s.p_sign == pytest.approx(0.02)
    groups = [item["group"] for item in s.factors["sign"]]
    assert "clip" in groups and s.factors["base"]["sign"] == pytest.approx(0.20)
    for target, chance in (("sign", s.p_sign), ("land", s.p_land)):
        total = s.factors["base"][target] * 100 + sum(item["points"] for item in s.factors[target])
        assert total == pytest.approx(chance * 100, abs=1e-6)
    table = breakdown(s.factors, "sign")
    assert table["base"] == 20.0 and table["total"] == 2.0
    assert any("概率限定在 2%–95% 之间" in line["text"] for line in table["lines"])
    assert all("低于标准" in line["text"] for line in table["lines"] if line["group"] not in ("clip", "stage"))


def test_the_lead_page_shows_the_base_the_factors_the_chance_the_method_and_the_cutoffs(app, client):
    from crm.scoring.scoring import score_leads
    from crm.scoring.settings import save_cutoffs

    officer = factories.user()
    lead = factories.negotiating_lead(owner=officer)  # tax per mu 8 ≥ 5: the prior's +10
    lead_id = lead.id
    with app.test_request_context():
        save_cutoffs(0.55, 0.3, 0.125)
        score_leads([lead_id])
        db.session.commit()
    client.login(officer)
    page = client.get(f"/leads/{lead_id}").get_data(as_text=True)
    card = page.split('data-testid="score-card"', 1)[1].split('data-testid="factor-method"', 1)[0]
    assert 'data-testid="base-row"' in card and "全县基准概率" in card and "20.0%" in card
    assert 'data-testid="total-row"' in card and "本线索签约概率" in card and "30.0%" in card
    assert 'data-group="tax_per_mu" data-sign="1"><td class="text-success">亩均税收 8 万元/亩（达到标准 5）' in card
    assert "+10.0" in card
    assert "评级按签约概率划分：A 为 55% 及以上，B 为 30% 及以上，C 为 12.5% 及以上，低于 12.5% 为 D。" in page
    assert "计算方法：规则先验，各项相加即为概率" in page and "从 20% 起" in page
    listing = client.get("/leads").get_data(as_text=True)
    assert 'data-testid="grade-cutoffs"' in listing and "A 为 55% 及以上" in listing
    api = client.get(f"/api/v1/leads/{lead_id}").get_json()["score_factors"]
    assert api["sign"] == [{"group": "tax_per_mu", "points": 10.0, "text": "亩均税收 8 万元/亩（达到标准 5），+10.0 个百分点"}]
    assert api["base"] == {"sign": pytest.approx(0.2), "land": pytest.approx(0.12)}  # 20% + 10 = 30%


def test_the_shown_figures_add_up_whatever_the_rounding():
    from crm.scoring.wording import shown_tenths

    rng = random.Random(5)
    for _ in range(500):
        points = [rng.uniform(-20, 20) for _ in range(rng.randint(1, 9))]
        base = rng.uniform(0.01, 0.9)
        total = base + sum(points) / 100
        base_t, total_t, shown = shown_tenths(points, base, total)
        assert base_t + sum(shown) == total_t
        assert total_t == round(total * 1000)
        for p, s in zip(points, shown):
            assert math.floor(p * 10) <= s <= math.ceil(p * 10)  # each its own value, rounded down or up
            assert not (p > 0 and s < 0) and not (p < 0 and s > 0)
