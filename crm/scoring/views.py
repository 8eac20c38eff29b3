"""The model page (versions, metrics, calibration, importances, train now) and grade cut-offs."""
from __future__ import annotations

import re

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from crm.auth.permissions import require_permission
from crm.auth.roles import Permission
from crm.extensions import db
from crm.request_guard import refuse
from crm.scoring import settings as scoring_settings
from crm.scoring.features import GROUP_LABELS, LEGACY_GROUP_LABELS
from crm.scoring.models import TARGET_LABELS, ScoringModel

bp = Blueprint("scoring", __name__, url_prefix="/scoring")
_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what rq accepts as a job id

TRAIN_STEPS = 6


def group_label(model: ScoringModel, group: str) -> str:
    """A group's name as that version grouped its fields (versions trained before issue 17 each
    figure on its own)."""
    labels = GROUP_LABELS if (model.feature_spec or {}).get("groups") else LEGACY_GROUP_LABELS
    return str(labels.get(group, group))


def chart_points(calibration: list[dict], size: int = 200, pad: int = 24) -> list[tuple[float, float, dict]]:
    """SVG coordinates of the calibration table (predicted → x, observed → y)."""
    span = size - 2 * pad
    return [(pad + row["predicted"] * span, size - pad - row["observed"] * span, row) for row in calibration]


@bp.route("/")
@require_permission(Permission.SCORING_READ)
def models():
    """Leaders and admins: every trained version, its metrics, calibration and importances."""
    rows = db.session.scalars(select(ScoringModel).order_by(ScoringModel.target, ScoringModel.version.desc())).all()
    active = {m.target: m for m in rows if m.status == "active"}
    job_id, outcome, notice = request.args.get("job"), None, None
    if job_id and not _JOB_ID.fullmatch(job_id):
        refuse(_("Unknown job"))
    if job_id:
        state = _job_state(job_id)
        if state["status"] != "running":
            job_id, outcome = None, state.get("outcome") or {"": {"error": _("The training job failed.")}}
        else:
            notice = state.get("notice")
    return render_template("scoring/models.html", rows=rows, active=active, targets=TARGET_LABELS,
                           group_label=group_label, chart_points=chart_points,
                           cutoffs=scoring_settings.get_cutoffs(), job_id=job_id, outcome=outcome,
                           notice=notice)


@bp.route("/train", methods=["POST"])
@require_permission(Permission.SCORING_MANAGE)
def train():
    """Admins: train both targets now (slow queue); the page follows its progress."""
    from crm.scoring.jobs import start_training

    job_id = start_training()  # queued once this request commits (the outbox: even with Redis away)
    flash(_("Training started. A better version becomes active by itself; this page shows the progress."), "info")
    return redirect(url_for("scoring.models", job=job_id))


@bp.route("/jobs/<job_id>")
@require_permission(Permission.SCORING_READ)
def job_progress(job_id: str):
    """Leaders and admins: a training job's progress as JSON (the page polls it)."""
    return jsonify(_job_state(job_id))


def _job_state(job_id: str) -> dict:
    """The training job's progress, and in words a dead worker, a retry or the queue away
    (crm.jobstatus)."""
    from crm import jobstatus

    if not _JOB_ID.fullmatch(job_id):  # rq refuses such ids with a ValueError
        return {"status": "failed", "done": 0, "total": TRAIN_STEPS, "text": _("Unknown job")}
    job = jobstatus.job_state(job_id)
    if job.state == jobstatus.UNKNOWN:
        return {"status": "failed", "done": 0, "total": TRAIN_STEPS, "text": _("Unknown job")}
    meta = job.meta
    steps = ("start", "Reading the leads", "Choosing the model on the holdout", "Calibrating", "Saving")
    done = sum(1 for _s in steps if meta.get("step")) if job.state != jobstatus.FINISHED else TRAIN_STEPS
    state = {jobstatus.FINISHED: "done", jobstatus.FAILED: "failed"}.get(job.state, "running")
    result = {"status": state, "done": min(done, TRAIN_STEPS), "total": TRAIN_STEPS,
              "text": f"{meta.get('target', '')} {meta.get('step', '')}".strip(), "outcome": meta.get("outcome"),
              "notice": job.notice}
    if state == "failed" and not result["outcome"]:
        result["outcome"] = {"": {"error": job.notice or _("The training job failed.")}}
    return result


@bp.route("/cutoffs", methods=["POST"])
@require_permission(Permission.SCORING_MANAGE)
def cutoffs():
    """Admins: the grade cut-offs on the chance of signing (applied at the next scoring)."""
    bad = _("The cut-offs must fall from A to C, each between 0 and 1 (e.g. 0.6, 0.35, 0.15).")
    try:
        a, b, c = (float(request.form.get(k, "")) for k in ("a", "b", "c"))
    except ValueError:
        flash(bad, "danger")
        return redirect(url_for("scoring.models")), 303
    try:
        scoring_settings.save_cutoffs(a, b, c)
    except ValueError:
        db.session.rollback()
        flash(bad, "danger")
        return redirect(url_for("scoring.models")), 303
    flash(_("Grade cut-offs saved; grades change as leads are rescored."), "success")
    return redirect(url_for("scoring.models"))
