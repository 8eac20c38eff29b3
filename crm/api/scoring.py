"""Scoring endpoints: start training, list the model versions."""
from __future__ import annotations

from flask import jsonify
from sqlalchemy import select

from crm.api import bp
from crm.auth.permissions import require_permission
from crm.auth.roles import Permission
from crm.extensions import db
from crm.scoring.models import ScoringModel


def model_json(m: ScoringModel) -> dict:
    return {"id": m.id, "target": m.target, "version": m.version, "label": m.label, "status": m.status,
            "reason": m.reason, "roc_auc": m.roc_auc, "pr_auc": m.pr_auc, "brier": m.brier,
            "previous_auc": m.previous_auc, "positives": m.positives, "negatives": m.negatives,
            "holdout_size": m.holdout_size, "window_start": m.window_start.isoformat() if m.window_start else None,
            "window_end": m.window_end.isoformat() if m.window_end else None, "calibration": m.calibration,
            "importances": m.importances, "training_seconds": m.training_seconds,
            "library_versions": m.library_versions, "sha256": m.sha256,
            "created_at": m.created_at.isoformat(), "activated_at": m.activated_at.isoformat() if m.activated_at else None}


@bp.route("/scoring/models")
@require_permission(Permission.SCORING_READ)
def api_scoring_models():
    """Every trained version with its metrics (leaders, admins)."""
    rows = db.session.scalars(select(ScoringModel).order_by(ScoringModel.target, ScoringModel.version.desc()))
    return jsonify({"items": [model_json(m) for m in rows]})


@bp.route("/scoring/train", methods=["POST"])
@require_permission(Permission.SCORING_MANAGE)
def api_scoring_train():
    """Admins: train both targets now on the slow queue; follow the job at GET /scoring/jobs/{id}."""
    from crm.scoring.jobs import start_training

    job_id = start_training()  # queued once this request commits (the outbox)
    return jsonify({"job_id": job_id, "progress_url": f"/scoring/jobs/{job_id}"}), 202
