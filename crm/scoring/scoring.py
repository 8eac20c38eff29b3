"""Scoring leads: the active models (or the rule-based prior), grades, and the factors.

Factors add up: the county's base chance (the model's mean chance over the background rows kept
with the version) plus each group's exact Shapley value (features.GROUPS, in percentage points)
is the lead's chance (crm.scoring.shapley). They are computed in the scoring job for the leads
whose score is written, stored as figures with the score, and worded when shown, in the reader's
language (crm.scoring.wording). With too little history (no active model) the prior below is
used and labelled as such; it is additive by construction.

The prior (transparent, from the screening thresholds): sign = 20% + 10 points per indicator
that meets its threshold − 10 per indicator below it, + 5 points per stage reached beyond
negotiation, within 2%..95%; land = 60% of sign.

The leave-one-group-out contributions (the score minus the score with a group unknown, tree by
tree: _TreeExplainer, contributions) remain for the models page's importances (training).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select, update

from crm import clock
from crm.bulk import bulk_insert
from crm.extensions import db
from crm.leads.models import Lead
from crm.scoring import features as F
from crm.scoring.cell_rates import cell_rates, cell_totals_from_db, rescore_totals
from crm.scoring.models import LeadScore, Target

DEFAULT_CUTOFFS = {"A": 0.6, "B": 0.35, "C": 0.15}  # p_sign at least this → grade; else D


def grade_for(p_sign: float, cutoffs: dict | None = None) -> str:
    cutoffs = cutoffs or current_cutoffs()
    for grade in ("A", "B", "C"):
        if p_sign >= cutoffs[grade]:
            return grade
    return "D"


def current_cutoffs() -> dict:
    from crm.scoring.settings import get_cutoffs

    return get_cutoffs()


@dataclass
class Scored:
    lead_id: int
    p_sign: float
    p_land: float
    source: str
    model_version: str
    factors: dict


# --- the factors, stored as data ---------------------------------------------------------------
#
# A score's factors are stored as figures, not sentences, and worded when shown in the reader's
# language (crm.scoring.wording): {"method", "base": {target: chance}, "sign": [{"group",
# "points"}, …], "land": […], "values": {the lead's figures}, "reference": {the county's medians}}.
# base + the points (percentage points) = the chance: exact Shapley values over features.GROUPS
# against the model's background rows (crm.scoring.shapley). Older scores carry the earlier form.

def _r(value, places=2):
    return None if value is None else round(float(value), places)


def _per_mu(amount, land):
    return None if amount is None or not land else amount / land


def _threshold(value) -> float | None:
    return None if value is None else float(value)


def _values_for(group: str, row: F.LeadRow, thresholds, names: dict, out: dict) -> None:
    """The lead's figures behind one group, added to `out` (what the wording shows)."""
    if group == "intensity":
        out["intensity"] = _r(_per_mu(row.fixed, row.land))
        out["intensity_threshold"] = _threshold(thresholds.min_intensity_wan_per_mu)
        out["tax_per_mu"] = _r(_per_mu(row.tax, row.land))
        out["tax_per_mu_threshold"] = _threshold(thresholds.min_tax_per_mu_wan)
        out["output_per_mu"] = _r(_per_mu(row.output, row.land))
        out["output_per_mu_threshold"] = _threshold(thresholds.min_output_per_mu_wan)
    elif group == "scale":
        out.update(planned=_r(row.planned), land=_r(row.land), jobs=row.jobs)
    elif group == "chain":  # by name, never the code
        out["chain"] = names["chains"].get(row.chain_id)
        out["node"] = row.node
    elif group == "source":
        from crm.leads.models import SOURCE_KIND_LABELS

        out["source"] = names["sources"].get(row.source_id)
        out["source_kind"] = row.source_kind
        out["source_kind_label"] = str(SOURCE_KIND_LABELS.get(row.source_kind, row.source_kind or "")) or None
        out["source_rate"] = _r(row.source_rate, 4)
        out["region"] = row.origin_region
        out["channel_chain_rate"] = _r(row.channel_chain_rate, 4)
        out["region_chain_rate"] = _r(row.region_chain_rate, 4)
    elif group == "tech":
        out.update(high_tech=row.high_tech, specialized=row.specialized, patents=row.patents,
                   rd_ratio=_r(row.rd_ratio))
    elif group == "follow_up":
        out["activities"] = row.activities
        out["days_since_activity"] = (row.cutoff - row.last_activity).days if row.last_activity else None
    elif group == "stage":
        out["stage"] = F.MAIN_LINE[row.stage_reached].value
        out["days_in_stage"] = F.days_since_move(row) if row.history_known else None
    elif group == "screening":
        out.update(screening_result=row.screening_result, screening_rounds=row.screening_rounds,
                   screening_rejects=row.screening_rejects)


def factor_lines(factors: dict | None, target: str = "sign") -> list[dict]:
    """A stored score's factors for `target`, worded now: [{group, points, text}] (crm.scoring.wording)."""
    from crm.scoring.wording import factor_lines as lines

    return lines(factors, target)


def _names(rows: list[F.LeadRow]) -> dict:
    """Chain and source names of these rows (factors name them, never by code)."""
    from crm.chains.models import Chain
    from crm.leads.models import Source

    chain_ids = {r.chain_id for r in rows if r.chain_id}
    source_ids = {r.source_id for r in rows if r.source_id}
    chains = dict(db.session.execute(select(Chain.id, Chain.name).where(Chain.id.in_(chain_ids))).all()) \
        if chain_ids else {}
    sources = {}
    for chunk in F.id_chunks(sorted(source_ids)):
        sources.update(db.session.execute(select(Source.id, Source.name).where(Source.id.in_(chunk))).all())
    return {"chains": chains, "sources": sources}


FACTOR_KEYS = list(F.GROUPS) + ["total_investment", "tax_per_mu", "output_per_mu", "tech_score", "cap", "clip"]


# --- the prior ---------------------------------------------------------------------------------

PRIOR_BASE = 20.0  # the prior's starting chance of signing, in percent
PRIOR_LAND_SHARE = 0.6


def prior_scores(rows: list[F.LeadRow]) -> list[Scored]:
    """The rule-based prior: additive by construction, so its items add up from its base (20%;
    12% for landing, 60% of it) to the chance, with the clip to 2%–95% as an item of its own."""
    from crm.screening import services as screening
    from crm.screening.indicators import FAIL, PASS, compute

    leads = {lead.id: lead for lead in db.session.scalars(select(Lead).where(Lead.id.in_([r.id for r in rows])))}
    out = []
    for row in rows:
        lead = leads[row.id]
        thresholds = screening.thresholds_for(lead.chain_id, None)
        items, values, points = [], {}, PRIOR_BASE
        for indicator in compute(lead, thresholds):
            if indicator.status in (PASS, FAIL):
                delta = 10.0 if indicator.status == PASS else -10.0
                points += delta
                items.append({"group": indicator.key, "points": delta})
                values[indicator.key] = _r(indicator.value)
                values[f"{indicator.key}_threshold"] = _threshold(indicator.threshold)
        beyond = max(0, row.stage_reached - 1)
        if beyond:
            points += 5 * beyond
            items.append({"group": "stage", "points": 5.0 * beyond})
            values["stage"] = F.MAIN_LINE[row.stage_reached].value
        p_sign = min(0.95, max(0.02, points / 100))
        if round(p_sign * 100 - points, 6):
            items.append({"group": "clip", "points": round(p_sign * 100 - points, 6)})
        p_land = p_sign * PRIOR_LAND_SHARE
        land_items = [{"group": i["group"], "points": round(i["points"] * PRIOR_LAND_SHARE, 6)} for i in items]
        base = {"sign": PRIOR_BASE / 100, "land": PRIOR_BASE * PRIOR_LAND_SHARE / 100}
        if row.signed is not None:  # the outcome is known: nothing to estimate
            p_sign, items = float(row.signed), []
        if row.landed is not None:
            p_land, land_items = float(row.landed), []
        out.append(Scored(row.id, p_sign, p_land, "prior", "prior",
                          {"method": "prior", "basis": "prior", "base": base, "sign": items, "land": land_items,
                           "values": values}))
    return out


# --- the model ---------------------------------------------------------------------------------

GROUP_NAMES = list(F.GROUPS)
STACK_BELOW = 500  # rows: fewer are explained with one stacked prediction, more tree by tree
EXPLAIN_CHUNK = 20000


def _trees(estimator):
    """The gradient-boosted trees inside a calibrator's estimator (frozen when calibrated on a
    newer slice of the history, crm.scoring.training._calibrate)."""
    from sklearn.frozen import FrozenEstimator

    return estimator.estimator if isinstance(estimator, FrozenEstimator) else estimator


class _TreeExplainer:
    """The same "group unknown" re-predictions, computed tree by tree for the model this app
    trains (CalibratedClassifierCV, one calibrator, around a binary HistGradientBoosting).

    The raw score is the sum of the trees' leaf values. With a group unknown, a tree's value can
    change only where the lead's path through that tree passes a split on one of the group's
    columns (elsewhere the lead lands on the same leaf), and not at all where the group is
    unknown already. So each tree is run once on the leads as they are, noting the leaf each
    reaches, and then once more per group, only on the leads whose path in it meets the
    group, with the group blanked; the calibrator maps the raw scores to probabilities exactly
    as predict_proba does. The base probabilities are bit-for-bit predict_proba's; a test checks
    the contributions against the stacked re-predictions."""

    def __init__(self, model, spec: F.FeatureSpec):
        from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor

        cc = model.calibrated_classifiers_[0]
        self.estimator, self.calibrator = _trees(cc.estimator), cc.calibrators[0]
        est = self.estimator
        self.trees = [iteration[0] for iteration in est._predictors]
        self.bitsets, self.f_idx_map = est._bin_mapper.make_known_categories_bitsets()
        # Columns as the estimator's preprocessing (categorical first) lays them out.
        n = len(spec.columns)
        if est._preprocessor is not None:
            layout = list(np.flatnonzero(est.is_categorical_)) + list(np.flatnonzero(~est.is_categorical_))
            position = {int(col): k for k, col in enumerate(layout)}
        else:
            position = {j: j for j in range(n)}
        self.columns = {g: [position[j] for j in spec.indexes(g)] for g in GROUP_NAMES}
        group_bit = {}
        for k, g in enumerate(GROUP_NAMES):
            for col in self.columns[g]:
                group_bit[col] = 1 << k
        # Per tree: a twin whose leaves hold their own node number (to see where each lead
        # lands), the leaf values, and per node the groups split on along the path to it.
        self.leaf_finders, self.values, self.path_groups = [], [], []
        for tree in self.trees:
            nodes = tree.nodes
            twin = nodes.copy()
            twin["value"] = np.arange(len(nodes))
            self.leaf_finders.append(TreePredictor(twin, tree.binned_left_cat_bitsets, tree.raw_left_cat_bitsets))
            self.values.append(np.asarray(nodes["value"], dtype=np.float64))
            path = np.zeros(len(nodes), dtype=np.int16)
            stack = [0]
            while stack:
                i = stack.pop()
                if not nodes["is_leaf"][i]:
                    below = path[i] | group_bit[int(nodes["feature_idx"][i])]
                    for child in (int(nodes["left"][i]), int(nodes["right"][i])):
                        path[child] = below
                        stack.append(child)
            self.path_groups.append(path)
        self.trees_of = {g: [t for t, path in enumerate(self.path_groups) if (path & (1 << k)).any()]
                         for k, g in enumerate(GROUP_NAMES)}

    @staticmethod
    def fits(model, spec: F.FeatureSpec) -> bool:
        try:
            from sklearn.calibration import CalibratedClassifierCV
            from sklearn.ensemble import HistGradientBoostingClassifier

            cc = model.calibrated_classifiers_
            est = _trees(cc[0].estimator)
            return (isinstance(model, CalibratedClassifierCV) and len(cc) == 1 and len(cc[0].calibrators) == 1
                    and isinstance(est, HistGradientBoostingClassifier) and est.n_trees_per_iteration_ == 1
                    and list(model.classes_) == [0, 1] and list(est.classes_) == [0, 1]
                    and est.n_features_in_ == len(spec.columns))
        except (AttributeError, IndexError, TypeError):
            return False

    def explain(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # One thread per call: thousands of small calls, where OpenMP's start and barrier per call
        # cost more than they save (many times more on a busy machine); contributions() runs
        # chunks side by side instead.
        threads, bitsets, f_idx = 1, self.bitsets, self.f_idx_map
        Xp = np.ascontiguousarray(self.estimator._preprocess_X(X, reset=False), dtype=np.float64)
        n = len(Xp)
        per_tree = np.empty((len(self.trees), n))
        met_groups = np.empty((len(self.trees), n), dtype=np.int16)  # groups split on along each path
        raw = np.zeros(n) + self.estimator._baseline_prediction.ravel()[0]
        for t, finder in enumerate(self.leaf_finders):  # added up as _raw_predict does, in order
            leaves = finder.predict(Xp, bitsets, f_idx, threads).astype(np.intp)
            per_tree[t] = self.values[t][leaves]
            met_groups[t] = self.path_groups[t][leaves]
            raw += per_tree[t]
        p = self.calibrator.predict(raw)
        contribs = np.zeros((n, len(GROUP_NAMES)))
        for k, group in enumerate(GROUP_NAMES):
            cols, trees = self.columns[group], self.trees_of[group]
            known = ~np.isnan(Xp[:, cols]).all(axis=1)
            if not trees or not known.any():
                continue  # no tree asks, or already unknown: the score does not move
            meets = ((met_groups[trees] & (1 << k)) != 0) & known
            blank = Xp.copy()
            blank[:, cols] = np.nan
            delta = np.zeros(n)
            for t, meet in zip(trees, meets):
                rows = np.flatnonzero(meet)
                if len(rows):
                    delta[rows] += self.trees[t].predict(blank[rows], bitsets, f_idx, threads) - per_tree[t, rows]
            contribs[:, k] = (p - self.calibrator.predict(raw + delta)) * 100
        return p, contribs


_explainers: "weakref.WeakKeyDictionary" = None  # model → _TreeExplainer (set on first use)


def _explainer(model, spec: F.FeatureSpec):
    global _explainers
    import weakref

    if _explainers is None:
        _explainers = weakref.WeakKeyDictionary()
    try:
        found = _explainers.get(model)
    except TypeError:
        return None
    if found is None:
        if not _TreeExplainer.fits(model, spec):
            return None
        found = _explainers[model] = _TreeExplainer(model, spec)  # a model's spec never changes
    return found


def stacked_contributions(model, X: np.ndarray, spec: F.FeatureSpec) -> tuple[np.ndarray, np.ndarray]:
    """(p, contributions N × groups in points): every row once as it is and once per group with
    that group unknown, in one predict_proba call."""
    n, m = X.shape
    stacked = np.repeat(X[None], len(GROUP_NAMES) + 1, axis=0)
    for k, group in enumerate(GROUP_NAMES):
        stacked[k + 1][:, spec.indexes(group)] = np.nan
    probs = model.predict_proba(stacked.reshape(-1, m))[:, 1].reshape(len(GROUP_NAMES) + 1, n)
    return probs[0], (probs[0] - probs[1:]).T * 100


def contributions(model, X: np.ndarray, spec: F.FeatureSpec) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities, and each group's contribution in points: p minus p with the group unknown."""
    explainer = _explainer(model, spec) if len(X) >= STACK_BELOW else None
    if explainer is None:
        return stacked_contributions(model, X, spec)
    from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

    workers = max(1, min(_openmp_effective_n_threads(), 8))  # the CPUs (or OMP_NUM_THREADS)
    size = min(EXPLAIN_CHUNK, -(-len(X) // workers))
    chunks = [X[start:start + size] for start in range(0, len(X), size)]
    if workers == 1 or len(chunks) == 1:
        parts = [explainer.explain(chunk) for chunk in chunks]
    else:  # the trees' predict releases the GIL
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            parts = list(pool.map(explainer.explain, chunks))
    return np.concatenate([p for p, _c in parts]), np.concatenate([c for _p, c in parts])


# An open lead's chance is never stated as certain: isotonic calibration's end steps can be
# exactly 0 or 1, which no history of a few thousand leads can claim for a lead still open.
OPEN_RANGE = (0.01, 0.99)
FEW_LEADS = 100  # leads scored at once up to which only their own sources' records are counted


def split_decided(lead_ids) -> tuple[dict[int, tuple[int, int]], list[int]]:
    """Split the ids: {id: (signed, landed)} for leads whose two outcomes are both known (lost,
    rejected, construction started: nothing left to estimate), and the others' ids."""
    t = Lead.__table__.c
    ids = list(lead_ids) if lead_ids is not None else None
    decided, rest = {}, []
    for lead_id, stage, signed_on, started_on in F.rows_for_ids(select(t.id, t.stage, t.signed_on, t.started_on),
                                                                t.id, ids):
        signed, landed = F.outcomes(stage, signed_on, started_on)
        if signed is not None and landed is not None:
            decided[lead_id] = (signed, landed)
        else:
            rest.append(lead_id)
    return decided, rest


def track_records(rows: list[F.LeadRow], few: bool = False) -> None:
    """The rows' source and cell rates over every labelled lead (each row's own outcome left
    out). `few` (a rescore after a save): only the counts of their sources, and the cells'
    totals the worker keeps warm (else their chains')."""
    totals, county = F.source_totals_from_db({r.source_id for r in rows if r.source_id} if few else None)
    F.source_rates(rows, totals, county)
    cells = rescore_totals({r.chain_id for r in rows if r.chain_id}) if few else cell_totals_from_db()
    cell_rates(rows, cells, county)


def compute_scores(lead_ids, explain: bool = True, explain_if=None) -> list[Scored]:
    """Scores of these leads. A lead whose outcome is known has no chance left to estimate:
    signed is 1 and lost is 0, without factors; only the open parts are computed (the chance of
    signing of an open lead, the chance of starting of an open or signed one).
    `explain_if`: given the scores without factors, the ids worth explaining (those whose score
    will be written, see score_leads); the others keep no factors."""
    from crm.scoring.registry import usable_active
    from crm.screening import services as screening

    if db.session.autoflush:
        db.session.flush()
    decided, rest = split_decided(lead_ids)
    sign, land = usable_active(Target.SIGN), usable_active(Target.LAND)
    if sign is None:
        source, version = "prior", "prior"
    else:
        source, version = "model", f"{sign[0].label}/{land[0].label if land is not None else 'prior'}"
    out = [Scored(lead_id, float(s), float(l), source, version, {"sign": [], "land": [], "values": {}})
           for lead_id, (s, l) in decided.items()]
    today = clock.today()
    rows = F.load_rows(rest, today=today) if rest else []
    if not rows:
        return out
    # A few leads (a rescore after a save): their sources' counts only, not a pass over every lead.
    few = len(rows) <= FEW_LEADS
    track_records(rows, few)
    if sign is None:
        return out + prior_scores(rows)
    n = len(rows)
    numeric = F.numeric_block(rows)
    open_sign = np.array([r.signed is None for r in rows])
    open_land = np.array([r.landed is None for r in rows])
    p_sign = np.array([np.nan if r.signed is None else float(r.signed) for r in rows])
    p_land = np.array([np.nan if r.landed is None else float(r.landed) for r in rows])
    X_sign = X_land = None
    if open_sign.any():
        X_sign = sign[2].matrix([r for r, o in zip(rows, open_sign) if o], numeric[open_sign])
        p_sign[open_sign] = np.clip(sign[1].predict_proba(X_sign)[:, 1], *OPEN_RANGE)
    land_model = np.full(n, np.nan)  # the land model's own (clipped) chance, before the cap
    if land is not None and open_land.any():
        # A signed lead is seen at `signed`, sat there since its signing (features.at_signed_stage).
        land_rows = [F.at_signed_stage(r, today) for r, o in zip(rows, open_land) if o]
        X_land = land[2].matrix(land_rows, F.numeric_block(land_rows))
        land_model[open_land] = np.clip(land[1].predict_proba(X_land)[:, 1], *OPEN_RANGE)
        p_land[open_land] = np.minimum(land_model[open_land], p_sign[open_land])  # unconditional: not above signing's
    elif open_land.any():
        p_land[open_land] = p_sign[open_land] * 0.6
    p_sign_list, p_land_list = p_sign.tolist(), p_land.tolist()
    plain = [Scored(row.id, p_sign_list[i], p_land_list[i], "model", version, {}) for i, row in enumerate(rows)]
    if not explain:
        return out + plain
    if explain_if is not None:
        wanted = explain_if(plain)
        keep = np.array([row.id in wanted for row in rows], dtype=bool)
        if not keep.all():
            out += [s for s, k in zip(plain, keep) if not k]
            rows = [r for r, k in zip(rows, keep) if k]
            if not rows:
                return out
            X_sign = X_sign[keep[open_sign]] if X_sign is not None else None
            X_land = X_land[keep[open_land]] if X_land is not None else None
            open_sign, open_land = open_sign[keep], open_land[keep]
            p_sign, p_land, land_model = p_sign[keep], p_land[keep], land_model[keep]
            p_sign_list, p_land_list = p_sign.tolist(), p_land.tolist()
            n = len(rows)
            if X_sign is not None and not len(X_sign):
                X_sign = None
            if X_land is not None and not len(X_land):
                X_land = None
    groups = len(GROUP_NAMES)
    c_sign, c_land = np.zeros((n, groups)), np.zeros((n, groups))
    base = {"sign": None, "land": None}
    clip = _clip_open
    if X_sign is not None:
        b, c = group_explainer(*sign).explain(X_sign, p_sign[open_sign], post=clip)
        base["sign"], c_sign[open_sign] = (None if math.isnan(b) else b), c
    if X_land is not None:
        b, c = group_explainer(*land).explain(X_land, land_model[open_land], post=clip)
        base["land"], c_land[open_land] = (None if math.isnan(b) else b), c
    elif land is None and base["sign"] is not None:  # landing is 60% of signing: so are its base and factors
        base["land"] = base["sign"] * 0.6
        c_land[open_land & open_sign] = c_sign[open_land & open_sign] * 0.6
    reference = {}
    for entry in (sign, land):
        if entry is not None:
            reference = {**group_explainer(*entry).reference, **reference}
    names = _names(rows)
    thresholds_cache: dict = {}
    sign_lists = _items(c_sign)
    land_lists = _items(c_land)
    for i, row in enumerate(rows):
        t = thresholds_cache.get(row.chain_id)
        if t is None:
            t = thresholds_cache[row.chain_id] = screening.thresholds_for(row.chain_id, None)
        sign_items = sign_lists[i] if open_sign[i] else []  # a known outcome has no factors
        land_items = land_lists[i] if open_land[i] else []
        if open_land[i] and land is not None and p_land_list[i] < land_model[i]:
            land_items = land_items + [{"group": "cap", "points": round((p_land_list[i] - land_model[i]) * 100, 4)}]
        values: dict = {}
        seen = F.at_signed_stage(row, today) if open_land[i] else row  # the figures the land model saw
        for group in {item["group"] for item in sign_items + land_items} - {"cap"}:
            _values_for(group, seen, t, names, values)
        factors = {"method": "shapley", "base": {"sign": base["sign"] if open_sign[i] else None,
                                                 "land": base["land"] if open_land[i] else None},
                   "sign": sign_items, "land": land_items, "values": values, "reference": reference}
        out.append(Scored(row.id, p_sign_list[i], p_land_list[i], "model", version, factors))
    return out


def _clip_open(p: np.ndarray) -> np.ndarray:
    return np.clip(p, *OPEN_RANGE)


def _items(contribs: np.ndarray) -> list[list[dict]]:
    """Per row, every group's points (rounded to 1/10,000 of a point; exact zeros left out), the
    largest first."""
    rounded = np.round(contribs, 4)
    order = np.argsort(-np.abs(rounded), axis=1, kind="stable")
    out = []
    for row, idx in zip(rounded.tolist(), order.tolist()):
        out.append([{"group": GROUP_NAMES[k], "points": row[k]} for k in idx if row[k] != 0.0])
    return out


_group_explainers: dict = {}  # (model id, sha256) → GroupExplainer


def group_explainer(entry, model, spec):
    """The Shapley explainer of an active version (its background and the county's medians),
    built once per process and version."""
    from crm.scoring.shapley import GroupExplainer

    key = (entry.id, entry.sha256)
    found = _group_explainers.get(key)
    if found is None:
        if len(_group_explainers) >= 4:
            _group_explainers.clear()
        found = _group_explainers[key] = GroupExplainer.for_entry(entry, model, spec)
    return found


BULK_FROM = 2000  # changed leads from which their latest columns go through a temporary table

_batch_table = None


def _update_from_batch(latest: list[dict], now) -> None:
    """The leads' latest columns in one UPDATE … FROM a temporary table of the new values
    (PostgreSQL and SQLite ≥ 3.33): one statement instead of one per lead, which on PostgreSQL
    is most of the time a large batch takes. The table is dropped in the same transaction."""
    global _batch_table
    from sqlalchemy import Column, Float, Integer, MetaData, String, Table

    if _batch_table is None:
        _batch_table = Table("score_batch", MetaData(), Column("b_id", Integer, primary_key=True),
                             Column("p_sign", Float), Column("p_land", Float), Column("score_grade", String(2)),
                             Column("score_source", String(8)), Column("score_model_version", String(40)),
                             prefixes=["TEMPORARY"])
    conn = db.session.connection()
    _batch_table.drop(conn, checkfirst=True)
    _batch_table.create(conn)
    bulk_insert(db.session, _batch_table, latest)
    b, leads = _batch_table.c, Lead.__table__
    # Through the session, so the data version moves (the lead list counts by grade).
    db.session.execute(update(leads).where(leads.c.id == b.b_id)
                       .values(p_sign=b.p_sign, p_land=b.p_land, score_grade=b.score_grade,
                               score_source=b.score_source, score_model_version=b.score_model_version, scored_at=now,
                               score_pending=False))
    _batch_table.drop(conn)


def _stored(lead_ids) -> tuple[dict, set]:
    """{lead id: (p_sign, p_land, grade, source, version) as stored}, and the ids marked pending."""
    t = Lead.__table__.c
    stored, pending = {}, set()
    for lead_id, is_pending, *values in F.rows_for_ids(
            select(t.id, t.score_pending, t.p_sign, t.p_land, t.score_grade, t.score_source, t.score_model_version),
            t.id, list(lead_ids)):
        stored[lead_id] = tuple(values)
        if is_pending:
            pending.add(lead_id)
    return stored, pending


def _state(s: Scored, cutoffs: dict) -> tuple:
    return (round(s.p_sign, 4), round(s.p_land, 4), grade_for(s.p_sign, cutoffs), s.source, s.model_version)


def changed_ids(scored: list[Scored]) -> set[int]:
    """The leads whose score differs from the stored one (store() writes those)."""
    cutoffs = current_cutoffs()
    stored, _pending = _stored([s.lead_id for s in scored])
    return {s.lead_id for s in scored if stored.get(s.lead_id) != _state(s, cutoffs)}


def store(scored: list[Scored], force: bool = False) -> int:
    """Write the scores. A lead whose score changed (either chance, the grade, the source or the
    model version) gets a history row and its latest columns, `scored_at` being when the score
    took that value. An unchanged one is left alone, unless it was marked pending (edited since:
    the mark is cleared), so the nightly run writes only what moved; `force` writes every one
    (e.g. once after the factors' method changed). Returns how many were scored."""
    if not scored:
        return 0
    from sqlalchemy import bindparam

    now = clock.now()
    cutoffs = current_cutoffs()
    t = Lead.__table__.c
    stored, pending = _stored([s.lead_id for s in scored])
    history, latest, unchanged = [], [], []
    for s in scored:
        state = _state(s, cutoffs)
        p_sign, p_land, grade = state[:3]
        if not force and stored.get(s.lead_id) == state:
            if s.lead_id in pending:
                unchanged.append(s.lead_id)
            continue
        history.append({"lead_id": s.lead_id, "p_sign": p_sign, "p_land": p_land, "grade": grade,
                        "source": s.source, "model_version": s.model_version, "factors": s.factors,
                        "scored_at": now})
        latest.append({"b_id": s.lead_id, "p_sign": p_sign, "p_land": p_land, "score_grade": grade,
                       "score_source": s.source, "score_model_version": s.model_version})
    bulk_insert(db.session, LeadScore.__table__, history)  # COPY on PostgreSQL, executemany on SQLite
    # Core UPDATEs: scores are not an edit of the lead (no version bump, no audit entry).
    if latest and len(latest) < BULK_FROM:
        stmt = (update(Lead.__table__).where(t.id == bindparam("b_id"))
                .values(p_sign=bindparam("p_sign"), p_land=bindparam("p_land"), score_grade=bindparam("score_grade"),
                        score_source=bindparam("score_source"), score_model_version=bindparam("score_model_version"),
                        scored_at=now, score_pending=False))
        db.session.execute(stmt, latest)
    elif latest:
        _update_from_batch(latest, now)
    for chunk in F.id_chunks(sorted(unchanged)):  # edited, yet the same score: no longer pending
        db.session.execute(update(Lead.__table__).where(t.id.in_(chunk)).values(score_pending=False))
    return len(scored)


def score_leads(lead_ids, explain: bool = True, force: bool = False) -> int:
    """Score and store these leads; the factors (2^groups model evaluations per lead, the slow
    part) are computed only for the leads whose score will be written."""
    return store(compute_scores(lead_ids, explain, explain_if=None if force else changed_ids), force)
