"""Training: a calibrated gradient-boosted model per target, chosen on a time-ordered holdout.

The newest 20% of the labelled leads (by the date they were recorded) are held out; each lead
counts once per pipeline stage it reached before its outcome, on a day within its stay there
(see `snapshots`). Of the older 80%, the newest fifth is set aside too: the SETTINGS of
scikit-learn's HistGradientBoostingClassifier (native missing values and categories; a simpler
one for a short history) are fitted once each on the rest, the one with the best ROC AUC on the
set-aside leads is kept, and it is calibrated on them (isotonic, or Platt scaling where
isotonic's ties cost ranking) so that 0.3 means 30%. Calibrating on newer leads than the trees
learnt from also corrects for drift, and costs one fit per setting instead of a
cross-validation. A small history (fewer than MIN_CALIBRATION snapshots to set aside) is
calibrated by cross-validation instead. Snapshots are taken at ages in the stage drawn from one
fixed spread of ages, each weighed by the square root of the chance of that spread falling within
its stay (snapshot_day, stay_weight), in the fit and in the calibration: at every age the leads
learnt from are then mixed nearly as the leads sitting open at that age are. Open leads
that have sat at their stage longer than any lead that moved on from it are counted as lost
(stale_as_lost): nobody closed them. Leads still open count for the stages they have already
passed, at the shares of the labelled leads that got as far (open_leads_so_far): their outcome
is on its way. The file is written with skops and registered only when
everything succeeded: a crash or a killed worker leaves no half-registered version.
"""
from __future__ import annotations

import hashlib
import math
import os
import platform
import tempfile
import time
import warnings
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from crm import clock
from crm.extensions import db
from crm.scoring.features import SIGNED_RANK, FeatureSpec, LeadRow, at_signed_stage, load_rows, source_rates_as_of
from crm.scoring.models import ModelStatus, ScoringModel

HOLDOUT_SHARE = 0.2
CALIBRATION_SHARE = 0.2   # of the training leads, the newest: choosing the setting, calibrating
MIN_CALIBRATION = 500     # snapshots; with fewer (or one outcome among them) cross-validation is used
ISOTONIC_TIE_LOSS = 0.02  # holdout AUC an isotonic calibration may lose to ties before Platt is used
CHANCE_AUC = 0.5          # a model no better than this on the holdout is never activated
MIN_PER_CLASS = 40  # labels of each class a version needs before it may become active
CALIBRATION_BINS = 10
SETTINGS = (
    {"max_iter": 200, "learning_rate": 0.08, "max_leaf_nodes": 31, "min_samples_leaf": 20},
    {"max_iter": 300, "learning_rate": 0.05, "max_leaf_nodes": 15, "min_samples_leaf": 40, "l2_regularization": 1.0},
    # For a short history (a county's first few thousand leads): the two above learn its noise.
    {"max_iter": 100, "learning_rate": 0.05, "max_leaf_nodes": 7, "min_samples_leaf": 80, "l2_regularization": 5.0},
)


class TrainingError(ValueError):
    """Training cannot produce a model (no labels, one class only); the active model stays."""


def models_dir() -> Path:
    path = Path(current_app.instance_path) / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class Dataset:
    train: list[LeadRow]
    holdout: list[LeadRow]
    y_train: np.ndarray
    y_holdout: np.ndarray
    # train[:fit_size] are the older leads' snapshots the trees learn from, train[fit_size:] the
    # newer ones the settings are chosen and the probabilities calibrated on.
    fit_size: int = 0
    # The training snapshots' weights (stay_weight), scaled to a mean of 1 within the fitted and
    # the calibration part each; None: equal.
    w_train: np.ndarray | None = None


SCREENING_RANK = 2  # crm.leads.pipeline MAIN_LINE: lead 0, negotiating 1, screening 2, …
# For `land`, the share of a signed lead's last stage before signing given to its snapshot as of
# the signing; the rest goes to a day within its stay. Seen at the signing only, the signers sat
# at that stage as long as they took to sign, so a freshly admitted lead looked like the ones
# that sat there and failed: at 100,000 labelled leads (benchmark, issue 19) the model gave
# leads admitted under 30 days ago 0.37 where 0.49 land. Half and half brought that to 0.47 and
# the open leads' land Brier from 0.0408 to 0.0403 (the in-stay day alone: the same; shares of
# 0.3 and 0.7 in the stay, within 0.0001), at a cost of 0.0014 to the holdout's, where signers
# are also seen on the day they signed.
AT_SIGNING_SHARE = 0.5


def _unit(lead_id: int, stage: int) -> float:
    """A fixed pseudo-random number in [0, 1) per lead and stage: the same snapshots each run."""
    return ((lead_id * 2654435761 + stage * 40503 + 12345) % 4294967296) / 4294967296


def snapshots(rows: list[LeadRow], target: str = "sign") -> list[LeadRow]:
    """Each labelled lead once per main-line stage it reached before its outcome (as Odoo's
    lead scoring counts a won lead at every stage it passed). An open lead is scored at its
    furthest stage, so the model must learn the chance from each stage, not only from the
    last one before the outcome (which alone would give every signed lead "admitted").

    Each snapshot is taken on a day within the lead's stay at that stage, drawn at random (fixed
    per lead and stage; snapshot_day), with what was known that day: the follow-ups so far, the days since the
    last one and since the lead last moved. That is how an open lead is seen when it is scored,
    somewhere in the middle of its stay. Taken when the lead left the stage, a lead would always
    look as it did on its way out (the closing call, the meeting before the move), and a lead
    that has sat for a year where leads sit for weeks would look like any other.
    For `land`, a signed lead's last stage before signing is seen twice, each at half the weight:
    as of the signing, and on a day within its stay there like every other stage (see
    AT_SIGNING_SHARE); and one more snapshot is taken at `signed` on a day of its wait to start
    (features.at_signed_stage, as an open signed lead's land score is computed). A lead whose
    moves the app did not record (an imported history) is taken at its cutoff, as there is no stay
    to draw from."""
    from bisect import bisect_left, bisect_right
    from copy import copy

    out = []
    for r in rows:
        activity_days = sorted(r.activity_days)
        moves = sorted(r.move_days)
        entered = r.created_on
        for stage in range(0, r.stage_reached + 1):
            entered = max(entered, r.stage_days.get(stage, entered))
            if not r.history_known:
                out.append(r)
                continue
            left = min((d for rank, d in r.stage_days.items() if rank > stage), default=r.cutoff)
            stay = (left - entered).days
            share = 1.0
            if stage == r.stage_reached and target == "land" and r.signed == 1:
                # The lead as of its signing, and again on a day within the stay that ended there
                # (below): the stay's weight shared between the two by AT_SIGNING_SHARE.
                r.weight = stay_weight(stay) * AT_SIGNING_SHARE
                out.append(r)
                share = 1 - AT_SIGNING_SHARE
            if stay > 0:  # a day in [entered, left): what that day's end knew
                day = entered + timedelta(days=snapshot_day(_unit(r.id, stage), stay))
                n, m = bisect_right(activity_days, day), bisect_right(moves, day)
            else:  # passed through the same day: what was known before it
                day = left
                n, m = bisect_left(activity_days, day), bisect_left(moves, day)
            early = copy(r)  # a shallow copy (dataclasses.replace runs __init__: slow at 300,000 rows)
            early.stage_reached, early.cutoff, early.activities = stage, day, n
            early.weight = stay_weight(stay) * share
            early.last_activity = activity_days[n - 1] if n else None
            early.last_move = moves[m - 1] if m else None
            if stage <= SCREENING_RANK:  # before pre-screening closed: what its rounds had shown by then
                screening_as_of(early, r, day, before=stay <= 0)
            out.append(early)
        if target == "land" and r.signed == 1 and r.land_end is not None:
            # Once more at `signed`, on a day of its wait to start, as an open signed lead is
            # scored (features.at_signed_stage): the wait is what tells landing from not.
            stay = (r.land_end - r.signed_day).days if r.signed_day is not None else 0
            if stay > 0:
                late = at_signed_stage(r, r.signed_day + timedelta(days=snapshot_day(_unit(r.id, SIGNED_RANK), stay)))
                if late is not r:
                    late.weight = stay_weight(stay)
                    out.append(late)
    return out


def screening_as_of(snap: LeadRow, r: LeadRow, day, before: bool = False) -> None:
    """The pre-screening figures of a snapshot as they stood on `day` (before it: `before`): the
    rounds submitted, the last result out, the opinions given. A lead in its second round, or
    sent back for materials (returned, which counts as the screening stage), is scored with its
    failed round known; learnt from with nothing known, it would look like a fresh submission."""
    def known(d):
        return d < day if before else d <= day

    cases = [c for c in r.screening_log if known(c[0])]
    closed = [c for c in cases if c[1] is not None and c[2] and known(c[1])]
    opinions = [o for o in r.opinion_log if known(o[0])]
    given = sum(o[3] for o in opinions)
    snap.screening_rounds = len(cases)
    snap.screening_result = closed[-1][2] if closed else None
    snap.screening_rejects = sum(1 for o in opinions if o[1] == "reject")
    snap.screening_approve_share = (sum(1 for o in opinions if o[1] == "approve") / len(opinions)
                                    if opinions else None)
    snap.screening_rating = sum(o[2] for o in opinions) / given if given else None


AGE_SCALE = 365  # days: the mean of the spread of ages in a stage that snapshots are drawn from


def snapshot_day(u: float, stay: int) -> int:
    """The day of a stay of `stay` days (0 … stay - 1) a snapshot is taken on, for `u` uniform
    in [0, 1): an age drawn from an exponential spread of mean AGE_SCALE, cut at the stay.

    The leads open at a stage at an age of d days are every lead that sat there longer than d,
    each once; those are the leads scored at that age. Snapshots drawn from one fixed spread of
    ages cut at their stays, each weighed by the chance of that spread falling within its stay
    (age_within), give at every age that same mix: each lead still there counts once. Drawn
    evenly over the whole stay instead, a lead that sat for years was seen at a young age once
    in a hundred draws, so among young snapshots the quick movers (most of them signing)
    outweighed the long sitters (most of them failing quietly) and fresh open leads' chances came
    out too high; and most snapshots of long sitters fell at ages no open lead with a chance has.
    The spread of a year puts most snapshots within a lead's first year at a stage."""
    return min(stay - 1, int(-AGE_SCALE * math.log1p(-u * age_within(stay))))


def age_within(days: int) -> float:
    """The chance that an age drawn from snapshot_day's spread falls within a stay of `days`
    days (at least one): small for a stay of days, near 1 for one of years."""
    return -math.expm1(-max(days, 1) / AGE_SCALE)


def stay_weight(days: int) -> float:
    """A snapshot's weight: the square root of age_within. Weighed by age_within itself, the
    open leads' mix is exact, but a quick mover's snapshot weighs a hundredth of a sitter's and
    the holdout, where each lead's snapshot counts once, is scored worse; at 100,000 labelled
    leads (benchmark, issue 19) the open leads' Brier was 0.0001 lower than with the square
    root for each target, the holdout's 0.002 higher for sign. The square root keeps the holdout
    as it was and brings about half of the open leads' gain over the even draw. Counted once
    each, the quick movers would weigh as much as the long sitters."""
    return age_within(days) ** 0.5


MIN_MOVERS = 100  # leads that moved on from a stage before its longest stay counts (stale_as_lost)


def stale_as_lost(rows: list[LeadRow], target: str, today) -> list[LeadRow]:
    """Open leads that have sat at their stage longer than any lead that moved on from it ever
    sat there, as not signed (and not landed) today: leads nobody closed (every ledger has
    them). Left out, the model learns only from leads that were closed within weeks and gives a
    lead that has sat for years what a lead sitting for a few months gets. Only where at least
    MIN_MOVERS leads moved on from the stage (the longest stay is then known); the leads
    themselves stay open (only training counts them so)."""
    from copy import copy

    longest: dict[int, int] = {}
    movers: dict[int, int] = {}
    for r in rows:
        if not r.history_known:
            continue
        if target == "land" and r.signed_day is not None and r.landed == 1 and r.land_end is not None:
            stay = (r.land_end - r.signed_day).days
            longest[SIGNED_RANK] = max(longest.get(SIGNED_RANK, 0), stay)
            movers[SIGNED_RANK] = movers.get(SIGNED_RANK, 0) + 1
        for stage, entered in _stays(r):
            left = min((d for rank, d in r.stage_days.items() if rank > stage),
                       default=r.signed_day if stage == SIGNED_RANK - 1 else None)
            if left is None:
                continue
            longest[stage] = max(longest.get(stage, 0), (left - entered).days)
            movers[stage] = movers.get(stage, 0) + 1
    out = []
    for r in rows:
        if r.label(target) is not None or not r.history_known:
            continue
        if r.signed == 1:  # signed, waiting to start (the land target)
            stage, entered = SIGNED_RANK, r.signed_day
        else:
            stage = r.stage_reached
            entered = r.created_on if stage == 0 else r.stage_days.get(stage, r.created_on)
        if entered is None or movers.get(stage, 0) < MIN_MOVERS or (today - entered).days <= longest[stage]:
            continue
        stale = copy(r)
        stale.landed = 0
        if r.signed is None:
            stale.signed = 0
        else:
            stale.land_end = today  # its wait so far: snapshots draws a day of it
        out.append(stale)
    return out


MIN_REACHED = 20  # labelled leads that got as far as an open lead stands before their share stands for it


def open_leads_so_far(rows: list[LeadRow], labelled: list[LeadRow], target: str, calibration_from=None,
                      holdout_from=None) -> tuple[list[LeadRow], list[LeadRow]]:
    """The stays an open lead has already passed (not the one it sits in), for the fitted part and
    the calibration part, each snapshot counted as a success and as a failure in the shares of
    the labelled leads that got as far as the lead stands now (a signed lead waiting to start:
    how many of the decided signers started).

    Left out, the newest leads learnt from are those whose outcome came quickly, which early on
    is mostly a drop: their winners are still on their way. With three years of history (the
    demo county) the newest fifth of the labelled leads, on which the model is calibrated, held a
    quarter as many successes as the older leads at the same stages, and signed leads waiting to
    start got 0.38 to land where most decided signers started. Leads recorded in the holdout's
    time are left out, as its labelled ones are; so are the leads counted as lost by
    stale_as_lost (in `labelled`) and the leads that have not moved yet (no stay passed)."""
    from copy import copy

    def reached(r: LeadRow) -> int:
        return SIGNED_RANK if r.signed == 1 else r.stage_reached

    hits = [0] * (SIGNED_RANK + 1)
    got_there = [0] * (SIGNED_RANK + 1)
    for r in labelled:
        for stage in range(min(reached(r), SIGNED_RANK) + 1):
            hits[stage] += r.label(target)
            got_there[stage] += 1
    counted = {r.id for r in labelled}
    fit, calibration = [], []
    for r in rows:
        if (r.label(target) is not None or r.id in counted or not r.history_known
                or (holdout_from is not None and r.created_on >= holdout_from)):
            continue
        now = min(reached(r), SIGNED_RANK)
        if now == 0 or got_there[now] < MIN_REACHED:
            continue
        share = hits[now] / got_there[now]
        part = fit if calibration_from is None or r.created_on < calibration_from else calibration
        for snap in snapshots([r], target):
            if r.signed != 1 and snap.stage_reached >= now:  # the stay it sits in: what is scored
                continue
            for outcome, weight in ((1, share), (0, 1 - share)):
                if not weight:
                    continue
                counted_as = copy(snap)
                if target == "sign":
                    counted_as.signed = outcome
                else:
                    counted_as.landed = outcome
                counted_as.weight = snap.weight * weight
                part.append(counted_as)
    return fit, calibration


def _stays(r: LeadRow):
    """(main-line rank, the day the lead reached it) for each rank it reached before its cutoff."""
    for stage in range(0, r.stage_reached + 1):
        entered = r.created_on if stage == 0 else r.stage_days.get(stage)
        if entered is not None:
            yield stage, entered


def split(rows: list[LeadRow], target: str, today=None) -> Dataset:
    labelled = [r for r in rows if r.label(target) is not None]
    if labelled:
        labelled += stale_as_lost(rows, target, today or clock.today())
    if not labelled:
        raise TrainingError(_("No lead has an outcome for this target yet (signed, started, lost or rejected): "
                              "nothing to learn from."))
    classes = {r.label(target) for r in labelled}
    if len(classes) < 2:
        raise TrainingError(_("Every labelled lead has the same outcome; a model needs both outcomes."))
    labelled.sort(key=lambda r: (r.created_on, r.id))
    cut = max(1, int(round(len(labelled) * (1 - HOLDOUT_SHARE))))
    calibration_cut = int(round(cut * (1 - CALIBRATION_SHARE)))
    # By lead, then expanded: all snapshots of one lead fall on the same side of each cut.
    fit_part = snapshots(labelled[:calibration_cut], target)
    calibration_part = snapshots(labelled[calibration_cut:cut], target)

    def recorded(i):
        return labelled[i].created_on if i < len(labelled) else None

    fit_open, calibration_open = open_leads_so_far(rows, labelled, target, recorded(calibration_cut), recorded(cut))
    fit_part += fit_open
    calibration_part += calibration_open
    train = fit_part + calibration_part
    holdout = snapshots(labelled[cut:], target)
    y_train = np.array([r.label(target) for r in train])
    y_holdout = np.array([r.label(target) for r in holdout])
    if len(set(y_train)) < 2:
        raise TrainingError(_("The older leads have only one outcome; a model needs both outcomes to learn."))
    k = len(fit_part)
    w = np.array([r.weight for r in train], dtype=float)
    for part in (slice(0, k), slice(k, len(train))):
        if len(w[part]):
            w[part] /= w[part].mean()
    return Dataset(train, holdout, y_train, y_holdout, k, w)


def _base(spec: FeatureSpec, setting: dict):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(categorical_features=spec.categorical_mask(), random_state=0,
                                          early_stopping=False, **setting)


def _fit(spec: FeatureSpec, X, y, setting: dict, calibrated: bool, method: str | None = None, weight=None):
    """The trees alone, or (calibrated) the trees with a calibrator fitted on cross-validated
    predictions: the way for a small history, where no newer slice can be set aside."""
    from sklearn.calibration import CalibratedClassifierCV

    base = _base(spec, setting)
    if not calibrated:
        return base.fit(X, y, sample_weight=weight)
    method = method or ("isotonic" if len(y) >= 1000 else "sigmoid")
    folds = max(2, min(3, int(min(np.bincount(y)))))
    # One model with a calibrator fitted on cross-validated predictions (ensemble=False): one
    # prediction per call, which keeps explanations and batch scoring fast.
    return CalibratedClassifierCV(base, method=method, cv=folds, ensemble=False).fit(X, y, sample_weight=weight)


def _calibrate(base, X, y, method: str, weight=None):
    """The fitted trees, frozen, with a calibrator fitted on these (newer, unseen) rows."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    with warnings.catch_warnings():
        # The weights are meant for the calibrator alone: the frozen trees are not refitted.
        warnings.filterwarnings("ignore", message="Since FrozenEstimator does not appear to accept sample_weight")
        return CalibratedClassifierCV(FrozenEstimator(base), method=method).fit(X, y, sample_weight=weight)


def _choose_and_calibrate(spec: FeatureSpec, data: Dataset, X_train, X_hold, say):
    """(model, setting). With a newer slice of the training leads large enough and holding both
    outcomes: each setting is fitted once on the older leads and judged on that slice, and the
    best is calibrated on it (see _keep_ranking). Otherwise: chosen on the holdout and calibrated
    by cross-validation, as a small history needs."""
    k = data.fit_size
    y_fit, y_cal = data.y_train[:k], data.y_train[k:]
    w = data.w_train
    w_fit, w_cal = (None, None) if w is None else (w[:k], w[k:])
    say(_("Choosing the model"))
    if len(y_cal) >= MIN_CALIBRATION and len(set(y_cal)) == 2 and len(set(y_fit)) == 2:
        X_fit, X_cal = X_train[:k], X_train[k:]
        best = best_auc = None
        for setting in SETTINGS:
            base = _base(spec, setting).fit(X_fit, y_fit, sample_weight=w_fit)
            auc = evaluate(y_cal, base.predict_proba(X_cal)[:, 1])["roc_auc"]
            if best_auc is None or auc > best_auc:
                best, best_auc, best_base = setting, auc, base
        say(_("Calibrating"))
        raw_auc = None
        if len(set(data.y_holdout)) == 2:
            raw_auc = evaluate(data.y_holdout, best_base.predict_proba(X_hold)[:, 1])["roc_auc"]
        model = _keep_ranking(_calibrate(best_base, X_cal, y_cal, "isotonic", w_cal), raw_auc, data.y_holdout, X_hold,
                              lambda: _calibrate(best_base, X_cal, y_cal, "sigmoid", w_cal))
        return model, best
    best, best_auc = SETTINGS[0], None
    if len(set(data.y_holdout)) == 2 and len(SETTINGS) > 1:
        for setting in SETTINGS:
            auc = evaluate(data.y_holdout, _fit(spec, X_train, data.y_train, setting, False, weight=w)
                           .predict_proba(X_hold)[:, 1])["roc_auc"]
            if best_auc is None or auc > best_auc:
                best, best_auc = setting, auc
    say(_("Calibrating"))
    model = _keep_ranking(_fit(spec, X_train, data.y_train, best, True, weight=w), best_auc, data.y_holdout, X_hold,
                          lambda: _fit(spec, X_train, data.y_train, best, True, method="sigmoid", weight=w))
    return model, best


def _keep_ranking(model, raw_auc: float | None, y_hold, X_hold, platt):
    """The calibrated model, or platt() where isotonic ties cost more than ISOTONIC_TIE_LOSS
    of the uncalibrated trees' holdout AUC: isotonic steps can flatten a whole region (e.g.
    recent, early-stage leads) into one value, and Platt scaling keeps the trees' order."""
    if raw_auc is None:
        return model
    if evaluate(y_hold, model.predict_proba(X_hold)[:, 1])["roc_auc"] < raw_auc - ISOTONIC_TIE_LOSS:
        return platt()
    return model


def evaluate(y, p) -> dict:
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    out = {"brier": float(brier_score_loss(y, p))}
    if len(set(y)) == 2:
        out["roc_auc"] = float(roc_auc_score(y, p))
        out["pr_auc"] = float(average_precision_score(y, p))
    else:
        out["roc_auc"] = out["pr_auc"] = None
    return out


def calibration_table(y, p, bins: int = CALIBRATION_BINS) -> list[dict]:
    edges = np.linspace(0, 1, bins + 1)
    table = []
    for i in range(bins):
        mask = (p >= edges[i]) & ((p < edges[i + 1]) if i < bins - 1 else (p <= 1))
        if mask.sum():
            table.append({"bin": f"{edges[i]:.1f}–{edges[i + 1]:.1f}", "predicted": float(p[mask].mean()),
                          "observed": float(y[mask].mean()), "n": int(mask.sum())})
    return table


def group_importances(model, X, y, base_auc: float | None, spec: FeatureSpec) -> list[dict]:
    """Drop in holdout AUC when a group of columns is unknown (the same groups and the same
    re-predictions as the explanations: p minus the group's contribution)."""
    from sklearn.metrics import roc_auc_score

    from crm.scoring.scoring import GROUP_NAMES, contributions

    if base_auc is None:
        return []
    p, contribs = contributions(model, X, spec)
    out = []
    for k, group in enumerate(GROUP_NAMES):
        auc = roc_auc_score(y, p - contribs[:, k] / 100)
        out.append({"feature": group, "importance": round(float(base_auc - auc), 4)})
    out.sort(key=lambda d: -d["importance"])
    return out


def background_spec(model, X_train, spec: FeatureSpec) -> dict:
    """What the factors are explained against, kept with the version: the background rows (the
    training rows at evenly spaced quantiles of the model's chance; their mean chance is the
    county's base), the county's medians of the figures the wording compares with, and the
    groups (crm.scoring.shapley)."""
    from crm.scoring.features import GROUPS
    from crm.scoring.shapley import background_json, choose_background, reference_figures

    p = model.predict_proba(X_train)[:, 1]
    return {"background": background_json(X_train[choose_background(p)]),
            "reference": reference_figures(X_train, spec), "groups": list(GROUPS)}


def library_versions() -> dict:
    import sklearn
    import skops

    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__,
            "numpy": np.__version__, "skops": skops.__version__}


def next_version(target: str) -> int:
    return (db.session.scalar(select(func.max(ScoringModel.version)).where(ScoringModel.target == target)) or 0) + 1


def write_model_file(model, target: str, version: int) -> tuple[str, str]:
    """skops file, put in the storage (crm.storage) under models/: (file name, sha256)."""
    import skops.io as sio

    from crm.storage import storage

    fd, tmp = tempfile.mkstemp(prefix=f".{target}-v{version}-", suffix=".tmp")
    os.close(fd)
    try:
        sio.dump(model, tmp)
        digest = hashlib.sha256(Path(tmp).read_bytes()).hexdigest()
        name = f"{target}-v{version}-{digest[:12]}.skops"
        storage().put_file(f"models/{name}", Path(tmp))  # atomic: whole or not at all
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return name, digest


def train(target: str, rows: list[LeadRow] | None = None, progress=None, activate: bool = True) -> ScoringModel:
    """Train, evaluate and register a version of `target` ("sign" or "land"); flush, not commit.

    Eligible (`entry.eligible`) if it has MIN_PER_CLASS labels of each class and its holdout ROC
    AUC is not worse than the active version's on the same holdout; otherwise it stays a
    candidate with the reason. An eligible version becomes active now, or, with activate=False,
    when the caller activates it with the other target's (crm.scoring.jobs.train_model)."""
    from crm.scoring.registry import active_model, load_model
    from crm.scoring.registry import activate as make_active

    started = time.perf_counter()
    say = progress or (lambda *_: None)
    say(_("Reading the leads"))
    rows = rows if rows is not None else load_rows(today=clock.today())
    source_rates_as_of(rows)
    data = split(rows, target)
    spec = FeatureSpec.fit(data.train)
    X_train, X_hold = spec.matrix(data.train), spec.matrix(data.holdout)
    model, best = _choose_and_calibrate(spec, data, X_train, X_hold, say)
    p_hold = model.predict_proba(X_hold)[:, 1]
    metrics = evaluate(data.y_holdout, p_hold)
    importances = group_importances(model, X_hold, data.y_holdout, metrics["roc_auc"], spec)
    explanation = background_spec(model, X_train, spec)
    labels = [r.label(target) for r in rows if r.label(target) is not None]
    positives = sum(labels)
    negatives = len(labels) - positives
    version = next_version(target)
    say(_("Saving"))
    file_name, digest = write_model_file(model, target, version)
    created = [r.created_on for r in data.train + data.holdout]
    entry = ScoringModel(
        target=target, version=version, status=ModelStatus.CANDIDATE.value, file_name=file_name, sha256=digest,
        algorithm="HistGradientBoosting + CalibratedClassifierCV", window_start=min(created),
        window_end=max(created), positives=positives, negatives=negatives, holdout_size=len(data.holdout),
        roc_auc=metrics["roc_auc"], pr_auc=metrics["pr_auc"], brier=metrics["brier"],
        calibration=calibration_table(data.y_holdout, p_hold), importances=importances,
        feature_spec={**spec.to_json(), "setting": best, **explanation},
        training_seconds=round(time.perf_counter() - started, 2), library_versions=library_versions())
    reasons = []
    if positives < MIN_PER_CLASS or negatives < MIN_PER_CLASS:
        reasons.append(_("Too few labels: %(p)s positive and %(n)s negative (at least %(m)s of each needed).",
                         p=positives, n=negatives, m=MIN_PER_CLASS))
    current = active_model(target)
    if current is not None and metrics["roc_auc"] is not None:
        try:
            old_model, old_spec = load_model(current)
            entry.previous_auc = evaluate(data.y_holdout,
                                          old_model.predict_proba(old_spec.matrix(data.holdout))[:, 1])["roc_auc"]
        except Exception as exc:  # the active file is unreadable: it cannot be the yardstick
            current_app.logger.warning("active %s model unusable for comparison: %s", current.label, exc)
        if entry.previous_auc is not None and metrics["roc_auc"] < entry.previous_auc:
            reasons.append(_("Holdout ROC AUC %(new).3f is worse than the active version's %(old).3f on the "
                             "same holdout.", new=metrics["roc_auc"], old=entry.previous_auc))
    if metrics["roc_auc"] is None:
        reasons.append(_("The holdout has one outcome only, so the model cannot be compared."))
    elif metrics["roc_auc"] <= CHANCE_AUC:
        reasons.append(_("Holdout ROC AUC %(auc).3f: no better than chance.", auc=metrics["roc_auc"]))
    db.session.add(entry)
    entry.eligible = not reasons  # not a column: what the caller activating both targets reads
    if reasons:
        entry.reason = " ".join(reasons)
    elif activate:
        make_active(entry)
    db.session.flush()
    return entry
