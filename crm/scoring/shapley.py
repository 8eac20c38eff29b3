"""Factors that add up: exact Shapley values over the groups of fields (features.GROUPS).

The value of a set S of groups is the model's expected chance when the lead's own figures are
known for the groups in S and the other groups take the values of a background set of training
rows (the "interventional" value): v(S) = mean over b of f(x_S, b_rest). With nothing known,
v(∅) is the model's mean chance over the background: the county's base chance. With every group
known, v(all) is the lead's chance, whatever the background. Each group's Shapley value is its
contribution averaged over every order in which the groups could be revealed,

    phi_g = sum over S without g of |S|! (G - |S| - 1)! / G! * (v(S + g) - v(S)),

so the factors add up exactly: base + sum of phi_g = the lead's chance (the "efficiency" of
Shapley values). With G groups that takes v at all 2^G sets, each an average over the background:
2^G x B predictions per lead. `direct_values` does exactly that with the model's predict_proba
(any model; the reference). `TreeValues` gets the same numbers from the trees of the model this
app trains (a calibrated HistGradientBoosting) without the 2^G x B predictions: see its doc.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

MAX_GROUPS = 8  # 2^8 = 256 sets per lead; the fast path's tables are built for at most this
BACKGROUND_SIZE = 32  # training rows the absent groups are drawn from


@lru_cache(maxsize=None)
def shapley_matrix(g: int) -> np.ndarray:
    """W (2^g x g) with phi = v @ W for v indexed by the bitmask of the known groups."""
    n = 1 << g
    w = np.zeros((n, g))
    fact = [math.factorial(k) for k in range(g + 1)]
    sizes = [bin(s).count("1") for s in range(n)]
    for i in range(g):
        bit = 1 << i
        for s in range(n):
            if s & bit:
                continue
            k = sizes[s]
            weight = fact[k] * fact[g - k - 1] / fact[g]
            w[s | bit, i] += weight
            w[s, i] -= weight
    return w


def shapley_from_values(values: np.ndarray) -> np.ndarray:
    """(n x 2^g) set values → (n x g) Shapley values."""
    g = int(round(math.log2(values.shape[1])))
    return values @ shapley_matrix(g)


def hybrid_rows(x: np.ndarray, background: np.ndarray, group_columns: list[list[int]]) -> np.ndarray:
    """(2^g * B x m): for each set S (bitmask order), the background rows with the lead's own
    values in the columns of the groups in S."""
    g = len(group_columns)
    b, m = background.shape
    out = np.repeat(background[None], 1 << g, axis=0)
    for s in range(1 << g):
        cols = [c for i in range(g) if s >> i & 1 for c in group_columns[i]]
        if cols:
            out[s][:, cols] = x[cols]
    return out.reshape(-1, m)


def direct_values(predict, X: np.ndarray, background: np.ndarray, group_columns: list[list[int]],
                  post=None) -> np.ndarray:
    """v (n x 2^g): every set of every lead predicted against every background row (predict:
    rows → chances; post: applied to each chance before averaging, e.g. the clip)."""
    g = len(group_columns)
    out = np.empty((len(X), 1 << g))
    for i, x in enumerate(X):
        p = np.asarray(predict(hybrid_rows(x, background, group_columns)), dtype=np.float64)
        if post is not None:
            p = post(p)
        out[i] = p.reshape(1 << g, len(background)).mean(axis=1)
    return out


# --- the trees ---------------------------------------------------------------------------------

def _bits(bitsets: np.ndarray, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Whether each value (0..255) is in the bitset of its row (uint32 words, as sklearn keeps them)."""
    v = values.astype(np.int64) & 255
    return ((bitsets[rows, v >> 5] >> (v & 31).astype(np.uint32)) & 1).astype(bool)


@lru_cache(maxsize=None)
def _compat(k: int) -> np.ndarray:
    """C (3^k x 2^k): whether a leaf condition (per group: 0 free, 1 must be known, 2 must be
    unknown) holds for a set of known groups."""
    out = np.ones((3 ** k, 1 << k))
    for code in range(3 ** k):
        digits = [(code // 3 ** i) % 3 for i in range(k)]
        for s in range(1 << k):
            for i, d in enumerate(digits):
                known = s >> i & 1
                if (d == 1 and not known) or (d == 2 and known):
                    out[code, s] = 0.0
                    break
    return out


class TreeValues:
    """The set values v(S) of the calibrated gradient-boosted trees, from the trees' structure.

    The model's chance is calibrator(baseline + the sum of the trees' leaf values). A row mixed
    from the lead (groups in S) and a background row b (the rest) reaches, in each tree, the
    leaf whose path it follows at every split: at a split on a column of group g it goes the
    lead's way if g is in S, b's way otherwise. So a leaf is reached exactly when S contains
    every group at whose splits b leaves the path (its "in" set) and none of the groups at whose
    splits the lead leaves it (its "out" set); a leaf both leave at the same group is never
    reached. These two sets are computed once per row and leaf (the lead's from its own
    values, the background's once per model), and the raw score of every set S is then the sum
    of the leaf values whose conditions S meets: leaf values are added up per condition (a
    ternary code over the groups) and spread over the 2^G sets by two small matrix products
    (the groups split in two halves). The calibrator maps the 2^G x B raw scores to chances
    exactly as predict_proba does; a test checks the result against direct_values."""

    def __init__(self, model, spec, background: np.ndarray, group_columns: list[list[int]]):
        from crm.scoring.scoring import _trees

        cc = model.calibrated_classifiers_[0]
        self.estimator, self.calibrator = _trees(cc.estimator), cc.calibrators[0]
        est = self.estimator
        self.g = g = len(group_columns)
        if g > MAX_GROUPS:
            raise ValueError("too many groups")
        n = len(spec.columns)
        if est._preprocessor is not None:
            layout = list(np.flatnonzero(est.is_categorical_)) + list(np.flatnonzero(~est.is_categorical_))
            position = {int(col): k for k, col in enumerate(layout)}
        else:
            position = {j: j for j in range(n)}
        group_of = {}
        for i, cols in enumerate(group_columns):
            for c in cols:
                group_of[position[c]] = i
        self.known_bitsets, self.f_idx_map = est._bin_mapper.make_known_categories_bitsets()
        raw_bitsets, features, thresholds, missing_left, categorical, bitset_rows, node_group = [], [], [], [], [], [], []
        leaf_values, path_nodes, path_want, path_bits, leaf_starts = [], [], [], [], []
        constant = float(est._baseline_prediction.ravel()[0])
        offset = bitset_offset = 0
        for iteration in est._predictors:
            tree = iteration[0]
            nodes = tree.nodes
            if nodes["is_leaf"][0]:  # a single leaf: the same for every row
                constant += float(nodes["value"][0])
                continue
            internal = np.flatnonzero(~nodes["is_leaf"].astype(bool))
            index = {int(node): offset + k for k, node in enumerate(internal)}
            for node in internal:
                f = int(nodes["feature_idx"][node])
                features.append(f)
                thresholds.append(float(nodes["num_threshold"][node]))
                missing_left.append(bool(nodes["missing_go_to_left"][node]))
                categorical.append(bool(nodes["is_categorical"][node]))
                bitset_rows.append(bitset_offset + int(nodes["bitset_idx"][node]))
                node_group.append(group_of[f])
            raw_bitsets.append(np.asarray(tree.raw_left_cat_bitsets, dtype=np.uint32).reshape(-1, 8))
            bitset_offset += raw_bitsets[-1].shape[0]
            stack = [(0, [])]
            while stack:  # each leaf with the (node, goes left) pairs on its path
                i, path = stack.pop()
                if nodes["is_leaf"][i]:
                    leaf_starts.append(len(path_nodes))
                    leaf_values.append(float(nodes["value"][i]))
                    for node, left in path:
                        path_nodes.append(index[node])
                        path_want.append(left)
                        path_bits.append(1 << group_of[int(nodes["feature_idx"][node])])
                    continue
                stack.append((int(nodes["right"][i]), path + [(i, False)]))
                stack.append((int(nodes["left"][i]), path + [(i, True)]))
            offset += len(internal)
        self.constant = constant
        self.features = np.array(features, dtype=np.intp)
        self.thresholds = np.array(thresholds)
        self.missing_left = np.array(missing_left, dtype=bool)
        self.categorical = np.array(categorical, dtype=bool)
        self.bitset_rows = np.array(bitset_rows, dtype=np.intp)
        self.raw_bitsets = np.concatenate(raw_bitsets) if raw_bitsets else np.zeros((0, 8), np.uint32)
        self.f_idx = np.array([int(self.f_idx_map[f]) if self.categorical[k] else 0
                               for k, f in enumerate(self.features)], dtype=np.intp)
        self.leaf_values = np.array(leaf_values)
        self.path_nodes = np.array(path_nodes, dtype=np.intp)
        self.path_want = np.array(path_want, dtype=bool)
        self.path_bits = np.array(path_bits, dtype=np.uint8)
        self.leaf_starts = np.array(leaf_starts, dtype=np.intp)
        # Ternary codes: group i "must be known" adds 3^i, "must be unknown" 2 * 3^i.
        powers = np.array([3 ** i for i in range(g)])
        masks = np.arange(256)
        member = ((masks[:, None] >> np.arange(g)) & 1) if g else np.zeros((256, 0), int)
        self.code_in = (member @ powers).astype(np.int32)
        self.code_out = (2 * member @ powers).astype(np.int32)
        self.lo = g // 2
        self.hi = g - self.lo
        lo_part, hi_part = _compat(self.lo), _compat(self.hi)
        self.compat = (hi_part[:, None, :, None] * lo_part[None, :, None, :]).reshape(3 ** g, 1 << g)
        self._table = self._seen = None  # scratch space of _raw_chunk, zero between calls
        bg = self._preprocess(background)
        self.background_out = self._leave_masks(bg)  # the groups at which b leaves each path
        self.background_code = self.code_in[self.background_out]
        self.b = len(background)

    def _preprocess(self, X: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(self.estimator._preprocess_X(X, reset=False), dtype=np.float64)

    def directions(self, Xp: np.ndarray) -> np.ndarray:
        """(n x internal nodes): whether each row goes left at each split, as the predictor decides."""
        values = Xp[:, self.features]
        nan = np.isnan(values)
        with np.errstate(invalid="ignore"):
            left = values <= self.thresholds
        if self.categorical.any():
            cols = np.flatnonzero(self.categorical)
            v = values[:, cols]
            valid = ~np.isnan(v) & (v >= 0)
            safe = np.where(valid, v, 0)
            rows = np.broadcast_to(self.bitset_rows[cols], v.shape)
            in_left = _bits(self.raw_bitsets, rows, safe)
            known = _bits(self.known_bitsets, np.broadcast_to(self.f_idx[cols], v.shape), safe)
            miss = self.missing_left[cols]
            cat_left = np.where(valid, np.where(in_left, True, np.where(known, False, miss)), miss)
            left[:, cols] = cat_left
        return np.where(nan, self.missing_left, left)

    def _leave_masks(self, Xp: np.ndarray) -> np.ndarray:
        """(n x leaves) uint8: the groups at whose splits the row leaves the path to each leaf."""
        d = self.directions(Xp)
        off = (d[:, self.path_nodes] != self.path_want).astype(np.uint8) * self.path_bits
        return np.bitwise_or.reduceat(off, self.leaf_starts, axis=1)

    def _raw_chunk(self, lead_out: np.ndarray) -> np.ndarray:
        """(c x B x 2^g) raw scores of these leads' sets against every background row."""
        import scipy.sparse as sparse

        c, b, leaves, codes = len(lead_out), self.b, len(self.leaf_values), 3 ** self.g
        reachable = (lead_out[:, None, :] & self.background_out[None, :, :]) == 0
        flat = np.flatnonzero(reachable)
        pair, leaf = np.divmod(flat, leaves)
        lead, row = np.divmod(pair, b)
        # The lead leaves the path at a group: that group must be unknown; b leaves: known.
        code = self.code_out[lead_out[lead, leaf]] + self.background_code[row, leaf]
        size = c * b * codes
        if self._table is None or len(self._table) < size:
            self._table, self._seen = np.zeros(size), np.zeros(size, dtype=np.int32)
        keys = pair * codes + code
        np.add.at(self._table, keys, self.leaf_values[leaf])
        # One entry per distinct (pair, condition), without scanning the whole table: the last
        # writer of each key marks it, and the table is zeroed again where it was written.
        order = np.arange(len(keys), dtype=np.int32)
        self._seen[keys] = order
        unique = keys[self._seen[keys] == order]
        sums = self._table[unique]
        self._table[unique] = 0.0
        rows, cols = np.divmod(unique, codes)
        indptr = np.searchsorted(rows, np.arange(c * b + 1))
        conditions = sparse.csr_matrix((sums, cols, indptr), shape=(c * b, codes))
        raw = np.asarray(conditions @ self.compat)  # set index = lo bits + (hi bits << lo)
        return raw.reshape(c, b, 1 << self.g) + self.constant

    def values(self, X: np.ndarray, post=None) -> np.ndarray:
        """v (n x 2^g), as direct_values with the model's predict_proba."""
        out = np.empty((len(X), 1 << self.g))
        chunk = max(1, 2_000_000 // max(1, self.b * len(self.leaf_values)))
        lead_out = self._leave_masks(self._preprocess(X)) if len(X) else None
        for start in range(0, len(X), chunk):
            raw = self._raw_chunk(lead_out[start:start + chunk])
            p = self.calibrator.predict(raw.ravel())
            p = np.where((p > 1.0) & (p <= 1.0 + 1e-5), 1.0, p)  # as predict_proba
            if post is not None:
                p = post(p)
            out[start:start + chunk] = p.reshape(raw.shape).mean(axis=1)
        return out

    @staticmethod
    def fits(model, spec) -> bool:
        from crm.scoring.scoring import _TreeExplainer

        return _TreeExplainer.fits(model, spec)


# --- the background, the county's medians, and the explainer of a version ------------------------

REFERENCE_COLUMNS = {  # the figures the wording compares with the county's median: column → value key
    "planned_log": "planned", "land": "land", "jobs": "jobs", "intensity": "intensity", "tax_per_mu": "tax_per_mu",
    "output_per_mu": "output_per_mu", "patents": "patents", "rd_ratio": "rd_ratio", "activities": "activities",
    "source_rate": "source_rate"}


def choose_background(p: np.ndarray, size: int = BACKGROUND_SIZE) -> np.ndarray:
    """Indexes of `size` training rows at evenly spaced quantiles of the model's chance (the
    midpoints of `size` equal slices): their mean chance is the training data's mean to within a
    slice, where a random sample of this size would miss it by a few points."""
    if len(p) <= size:
        return np.arange(len(p))
    order = np.argsort(p, kind="stable")
    return order[((np.arange(size) + 0.5) / size * len(p)).astype(int)]


def reference_figures(X: np.ndarray, spec) -> dict:
    """The county's medians of the figures the wording compares with (over the training rows)."""
    out = {}
    for column, key in REFERENCE_COLUMNS.items():
        if column not in spec.columns or column in spec.constant:
            continue
        values = X[:, spec.columns.index(column)]
        values = values[~np.isnan(values)]
        if not len(values):
            continue
        median = float(np.median(values))
        out[key] = round(math.expm1(median) if column == "planned_log" else median, 4)
    return out


def background_json(X: np.ndarray) -> list[list]:
    return [[None if math.isnan(x) else float(x) for x in row] for row in X.tolist()]


def _legacy_background(entry, spec) -> tuple[np.ndarray, dict]:
    """A version trained before backgrounds were kept with it: rows of the same kind as its
    training rows, from the leads as they are now (every k-th labelled lead, up to 1,000, as
    training sees them), spread evenly over outcome and stage. Nothing is predicted here, so a
    worker can build it before it forks (crm.scoring.registry.warm)."""
    from sqlalchemy import select

    from crm import clock
    from crm.extensions import db
    from crm.leads.models import Lead
    from crm.scoring import features as F
    from crm.scoring.training import snapshots

    ids = list(db.session.scalars(select(Lead.id).order_by(Lead.id)))
    rows = [r for r in F.load_rows(ids[::max(1, len(ids) // 2000)] if ids else [], today=clock.today())
            if r.label(entry.target) is not None]
    rows = rows[::max(1, len(rows) // 1000)]
    if not rows:
        return np.zeros((0, len(spec.columns))), {}
    F.source_rates_as_of(rows)
    snaps = snapshots(rows, entry.target)
    X = spec.matrix(snaps)
    order = sorted(range(len(snaps)), key=lambda i: (snaps[i].label(entry.target), snaps[i].stage_reached,
                                                     snaps[i].created_on, snaps[i].id))
    picked = np.array(order)[choose_background(np.arange(len(order), dtype=float))]
    return X[picked], reference_figures(X, spec)


class GroupExplainer:
    """Exact Shapley values of one version over features.GROUPS, against its background."""

    def __init__(self, model, spec, background: np.ndarray, reference: dict):
        from crm.scoring import features as F

        self.model, self.spec = model, spec
        self.background = np.asarray(background, dtype=np.float64).reshape(-1, len(spec.columns))
        self.reference = reference
        self.group_columns = [spec.indexes(g) for g in F.GROUPS]
        self.tree = None
        if len(self.background) and TreeValues.fits(model, spec):
            self.tree = TreeValues(model, spec, self.background, self.group_columns)

    @classmethod
    def for_entry(cls, entry, model, spec) -> "GroupExplainer":
        stored = (entry.feature_spec or {}).get("background")
        if stored:
            background = np.array(stored, dtype=np.float64)
            reference = dict((entry.feature_spec or {}).get("reference") or {})
        else:
            background, reference = _legacy_background(entry, spec)
        return cls(model, spec, background, reference)

    def values(self, X: np.ndarray, post=None) -> np.ndarray:
        if self.tree is not None:
            return self.tree.values(X, post)
        return direct_values(lambda Z: self.model.predict_proba(Z)[:, 1], X, self.background,
                             self.group_columns, post)

    def explain(self, X: np.ndarray, p: np.ndarray, post=None) -> tuple[float, np.ndarray]:
        """(base chance, n x groups contributions in percentage points) for the rows of X whose
        chances (after `post`) are p: base + each row's contributions = its p."""
        if not len(self.background):  # nothing to compare with: the whole chance is unexplained
            return float("nan"), np.zeros((len(X), len(self.group_columns)))
        v = self.values(X, post)
        v[:, -1] = p  # every group known: the lead's own chance, exactly as stored
        return float(v[0, 0]) if len(v) else float("nan"), shapley_from_values(v) * 100
