"""/healthz (no login, for a load balancer) and the admins' operations page."""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from crm.auth.permissions import require_permission
from crm.auth.roles import Permission
from crm.ops import queries, services

bp = Blueprint("ops", __name__)

QUEUE_LABELS = {"quick": _l("Quick queue"), "slow": _l("Slow queue")}
STATUS_LABELS = {
    "idle": _l("Idle"), "busy": _l("Busy"), "started": _l("Running"), "suspended": _l("Suspended"),
    "finished": _l("Finished"), "failed": _l("Failed"), "queued": _l("Queued"),
    "scheduled": _l("Scheduled"), "deferred": _l("Deferred"), "stopped": _l("Stopped"),
    "canceled": _l("Canceled"),
}
PERIODIC_LABELS = {
    "screening-sweep": _l("Pre-screening reminders and closing"),
    "score-pending": _l("Scoring leads that wait for a score"),
    "score-nightly": _l("Rescoring every lead (nightly)"),
    "import-files-purge": _l("Deleting old import files"),
    "lights-nightly": _l("Traffic lights (nightly)"),
    "letters-nightly": _l("Letters due today (nightly)"),
    "bulletins-monthly": _l("Monthly bulletin"),
}
# An idle RQ worker blocks up to worker_ttl - 15 s (405 s) between heartbeats; later than
# worker_ttl plus a minute means it is gone.
HEARTBEAT_OVERDUE = 480


def _every_text(seconds: int) -> str:
    if seconds % 86400 == 0:
        return _("%(n)s d", n=seconds // 86400)
    if seconds % 3600 == 0:
        return _("%(n)s h", n=seconds // 3600)
    if seconds % 60 == 0:
        return _("%(n)s min", n=seconds // 60)
    return _("%(n)s s", n=seconds)


@bp.route("/healthz")
def healthz():
    """Anyone (a load balancer): 200 when the database and Redis answer, 503 otherwise; counts
    only, no personal data."""
    body, healthy = queries.health()
    response = jsonify(body)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/admin/operations")
@require_permission(Permission.OPS_READ)
def index():
    """Admins: queues, workers, failed jobs and the periodic jobs' last runs."""
    return render_template("ops/index.html", depths=queries.queue_depths(), running=queries.running_count(),
                           workers=queries.workers(), failed=queries.failed_jobs(),
                           periodic=queries.periodic_runs(), queue_labels=QUEUE_LABELS,
                           status_labels=STATUS_LABELS, periodic_labels=PERIODIC_LABELS,
                           heartbeat_overdue=HEARTBEAT_OVERDUE, every_text=_every_text)


@bp.route("/admin/operations/failed/<job_id>/retry", methods=["POST"])
@require_permission(Permission.OPS_MANAGE)
def retry(job_id: str):
    """Admins: run a failed job again."""
    try:
        services.retry_failed(job_id)
    except services.JobNotFound:
        abort(404)
    flash(_("The job was put back on its queue."), "success")
    return redirect(url_for("ops.index"))


@bp.route("/admin/operations/failed/<job_id>/discard", methods=["POST"])
@require_permission(Permission.OPS_MANAGE)
def discard(job_id: str):
    """Admins: forget a failed job."""
    try:
        services.discard_failed(job_id)
    except services.JobNotFound:
        abort(404)
    flash(_("The failed job was discarded."), "success")
    return redirect(url_for("ops.index"))
