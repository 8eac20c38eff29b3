"""Loading registered models safely: the file's SHA-256 must match the registry, and skops loads
it with an explicit list of trusted types (never a bare pickle). A refused file leaves the
previous active version in charge."""
from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select

from crm.extensions import db
from crm.scoring.features import FeatureSpec
from crm.scoring.models import ModelStatus, ScoringModel

# What skops reports as "untrusted" in the files this app writes (CalibratedClassifierCV around
# HistGradientBoostingClassifier); these and skops' own defaults are all a file may contain.
TRUSTED_TYPES = [
    "functools.partial",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.utils.validation.check_array",
]

_cache: dict[str, tuple[tuple[int, str], object, FeatureSpec]] = {}  # target → (key, model, spec)


class ModelFileError(RuntimeError):
    """The file is missing, altered, or holds types the app does not trust."""


def active_model(target: str) -> ScoringModel | None:
    return db.session.scalar(select(ScoringModel).where(ScoringModel.target == target,
                                                        ScoringModel.status == ModelStatus.ACTIVE.value))


def activate(entry: ScoringModel) -> None:
    """Make `entry` its target's active version; the one active before is retired (flush, not
    commit: training activates both targets in one transaction)."""
    from crm import clock

    current = active_model(entry.target)
    if current is not None and current is not entry:
        current.status = ModelStatus.RETIRED.value
    entry.status = ModelStatus.ACTIVE.value
    entry.activated_at = clock.now()
    db.session.flush()


def model_path(entry: ScoringModel) -> Path:
    """Where the file is with the local storage (the default)."""
    from crm.scoring.training import models_dir

    return models_dir() / entry.file_name


def load_model(entry: ScoringModel):
    """(model, feature spec) of a registered version, verified; cached per process."""
    import skops.io as sio

    key = (entry.id, entry.sha256)
    cached = _cache.get(entry.target)
    if cached is not None and cached[0] == key:
        return cached[1], cached[2]
    from crm.storage import storage

    try:
        content = storage().get(f"models/{entry.file_name}")
    except Exception as exc:  # missing, unreadable, or the object store unreachable
        raise ModelFileError(f"model file {entry.file_name} cannot be read: {exc}") from exc
    if hashlib.sha256(content).hexdigest() != entry.sha256:
        raise ModelFileError(f"model file {entry.file_name} does not match its registered SHA-256")
    try:
        untrusted = sio.get_untrusted_types(data=content)
    except Exception as exc:
        raise ModelFileError(f"model file {entry.file_name} is not a readable skops file: {exc}") from exc
    unexpected = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if unexpected:
        raise ModelFileError(f"model file {entry.file_name} holds types the app does not trust: {unexpected}")
    model = sio.loads(content, trusted=TRUSTED_TYPES)
    spec = FeatureSpec.from_json(entry.feature_spec)
    _cache[entry.target] = (key, model, spec)  # one version per target in use: memory stays flat
    return model, spec


def warm() -> dict:
    """Import scikit-learn and skops and load the active versions into this process's cache.

    The worker calls this before each fork (crm.queue.AppWorker): a job's forked horse then
    inherits the libraries and models instead of importing and loading them itself (about a
    second per job), with the explainer of its factors (crm.scoring.shapley: for a version trained
    before backgrounds were kept, its background is read from the leads once). One query when
    nothing changed; a newly activated version (another id or SHA-256) is loaded then, so the next
    job already has it. Nothing here predicts: OpenMP is
    not started before a fork. A file that does not load is left to the job, which refuses it
    and falls back as usable_active says. The county's signing rate (the source rates'
    smoothing prior) and the cells' totals are counted here too, at most every ten minutes, so that
    a rescore counts only its own source's leads. Returns {target: label} of what is cached."""
    from flask import current_app

    import sklearn.calibration  # noqa: F401  (the types the model files hold)
    import sklearn.ensemble  # noqa: F401
    import sklearn.isotonic  # noqa: F401
    import skops.io  # noqa: F401

    from crm.scoring.cell_rates import warm_cell_totals
    from crm.scoring.features import warm_county_rate
    from crm.scoring.models import Target

    warm_county_rate()  # at most every COUNTY_RATE_SECONDS: one count over the leads
    warm_cell_totals()  # and the cells' (crm.scoring.cell_rates), as often
    loaded = {}
    entries = db.session.scalars(select(ScoringModel).where(ScoringModel.status == ModelStatus.ACTIVE.value)).all()
    for entry in entries:
        if entry.target not in {t.value for t in Target}:
            continue
        try:
            model, spec = load_model(entry)
            loaded[entry.target] = entry.label
            _warm_explainer(entry, model, spec)
        except ModelFileError as exc:
            current_app.logger.warning("worker: not preloading %s: %s", entry.label, exc)
    return loaded


def _warm_explainer(entry, model, spec) -> None:
    """The factors' explainer of a version (its background, the trees as tables; nothing is
    predicted, so no thread pool starts before the fork). A failure is left to the job."""
    from flask import current_app

    from crm.scoring.scoring import group_explainer

    try:
        group_explainer(entry, model, spec)
    except Exception as exc:  # noqa: BLE001  (the job builds it again and reports)
        current_app.logger.warning("worker: no explainer preloaded for %s: %s", entry.label, exc)


def usable_active(target: str):
    """(entry, model, spec) of the active version. A refused file is marked failed and the
    previous version whose file still verifies becomes active again; None if there is none."""
    from flask import current_app

    from crm import clock

    while True:
        entry = active_model(target)
        if entry is None:
            return None
        try:
            model, spec = load_model(entry)
        except ModelFileError as exc:
            current_app.logger.error("refusing %s: %s", entry.label, exc)
            entry.status = ModelStatus.FAILED.value
            entry.reason = f"refused at loading: {exc}"
            previous = db.session.scalar(select(ScoringModel).where(
                ScoringModel.target == target, ScoringModel.status == ModelStatus.RETIRED.value)
                .order_by(ScoringModel.version.desc()).limit(1))
            if previous is not None:
                previous.status = ModelStatus.ACTIVE.value
                previous.activated_at = clock.now()
            db.session.flush()
            continue
        return entry, model, spec
