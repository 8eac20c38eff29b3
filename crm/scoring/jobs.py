"""Scoring jobs. Training runs on the slow queue; scoring on the quick one.

One pending rescore per lead, however many edits: a Redis key (SET NX) stands for "a job is
queued for this lead" and the job deletes it when it starts, so an edit during scoring queues
one more. If Redis is unreachable when a lead is saved, the save still succeeds: the lead keeps
`score_pending` and the periodic sweep scores it once Redis is back.
"""
from __future__ import annotations

from flask import current_app
from redis.exceptions import RedisError
from rq import get_current_job
from sqlalchemy import select

from crm.audit.listener import set_actor
from crm.extensions import db, redis_store
from crm.leads.models import Lead
from crm.scoring import scoring
from crm.scoring.models import Target

SWEEP_BATCH = 2000


def _pending_key(lead_id: int) -> str:
    return f"{current_app.config['REDIS_PREFIX']}:scoring:pending:{lead_id}"


def enqueue_rescore(lead_ids) -> int:
    """Queue a rescore for each lead that has none queued (after the commit that changed it)."""
    from crm.queue import get_queue

    queued = 0
    for lead_id in lead_ids:
        if redis_store.client.set(_pending_key(lead_id), "1", nx=True, ex=3600):
            get_queue("quick").enqueue(rescore_lead, lead_id, job_id=f"rescore-{lead_id}-{_token()}",
                                       result_ttl=60)
            queued += 1
    return queued


def _token() -> str:
    import secrets

    return secrets.token_hex(4)


def rescore_lead(lead_id: int) -> bool:
    """Score one lead now (idempotent: scoring twice stores the same figures)."""
    set_actor(None)
    redis_store.client.delete(_pending_key(lead_id))
    if db.session.get(Lead, lead_id) is None:
        return False
    scoring.score_leads([lead_id])
    db.session.commit()
    return True


def score_all(explain: bool = True, force: bool = False) -> int:
    """Every lead, in batches (after a version activates, nightly, `crm score --all`); `force`
    writes every score again with its factors (`crm score --all --rewrite`)."""
    set_actor(None)
    ids = list(db.session.scalars(select(Lead.id).order_by(Lead.id)))
    done = 0
    for start in range(0, len(ids), 20000):
        done += scoring.score_leads(ids[start:start + 20000], explain=explain, force=force)
        db.session.commit()
        _progress({"done": done, "total": len(ids)})
    return done


def score_pending() -> int:
    """The periodic catch-up: leads still marked pending (e.g. saved while Redis was away)."""
    set_actor(None)
    ids = list(db.session.scalars(select(Lead.id).where(Lead.score_pending.is_(True)).limit(SWEEP_BATCH)))
    if ids:
        scoring.score_leads(ids)
        db.session.commit()
    return len(ids)


def _progress(data: dict) -> None:
    job = get_current_job()
    if job is not None:
        job.meta.update(data)
        job.save_meta()


def preload() -> None:
    """Registered in create_app (crm.queue.register_preload): before each fork, the worker loads
    scikit-learn and the active versions, so a job's horse inherits them."""
    from crm.scoring.registry import warm

    warm()


def start_training(target: str | None = None) -> str:
    """Queue the training (both targets, or one) after this transaction commits, through the
    outbox: it runs even if Redis was away, and again (at most twice more) if its worker dies.
    Returns the job id the progress page follows."""
    from crm.outbox import new_job_id
    from crm.queue import enqueue_after_commit

    args = (target,) if target else ()
    return enqueue_after_commit("slow", train_model, *args, job_id=new_job_id("train"), retries=2,
                                job_timeout=3600, result_ttl=3600)


def train_model(target: str | None = None) -> dict:
    """Train both targets (or one) as one unit, in one transaction: the new versions that earned it
    become active together, and none does if a target could not be trained (the outcome says, per
    target, what happened). A killed worker registers nothing and the outbox runs it again. An
    activation queues the rescoring of every lead in the same transaction (the outbox), so it
    always follows, even if this worker dies right after the commit."""
    from flask_babel import gettext as _

    from crm.outbox import new_job_id
    from crm.queue import enqueue_after_commit
    from crm.scoring.models import TARGET_LABELS
    from crm.scoring.registry import activate
    from crm.scoring.training import TrainingError, train

    set_actor(None)
    targets = [target] if target else [Target.SIGN.value, Target.LAND.value]
    outcome, entries, failed = {}, {}, []
    for name in targets:
        _progress({"target": name, "step": "start"})
        try:
            entries[name] = train(name, activate=False,
                                  progress=lambda step, n=name: _progress({"target": n, "step": str(step)}))
        except TrainingError as exc:  # raised before anything is written
            outcome[name] = {"error": str(exc)}
            failed.append(name)
    activated = []
    for name, entry in entries.items():
        if entry.eligible and failed:
            entry.reason = _("Not activated: %(other)s could not be trained in the same run, and the two "
                             "versions become active only together.",
                             other="、".join(str(TARGET_LABELS[Target(f)]) for f in failed))
        elif entry.eligible:
            activate(entry)
            activated.append(name)
        outcome[name] = {"version": entry.version, "status": entry.status, "reason": entry.reason,
                         "roc_auc": entry.roc_auc}
    if activated:
        enqueue_after_commit("slow", score_all, job_id=new_job_id("score-all"), retries=2, job_timeout=3600)
    db.session.commit()  # every version registered, and activated, together or not at all
    _progress({"step": "done", "outcome": outcome})
    return outcome


def after_commit_rescore(lead_ids) -> None:
    """Called after a commit that changed leads: queue their rescore, tolerate Redis away."""
    from flask import has_app_context

    if not has_app_context():  # a script without the app: the periodic sweep scores them
        return
    try:
        enqueue_rescore(lead_ids)
    except (RedisError, OSError) as exc:
        current_app.logger.warning("scoring: Redis unreachable, %s leads stay pending (%s)", len(lead_ids), exc)
