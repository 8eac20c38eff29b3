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


def train_model(target: str | None = None) -> dict:
    """Train both targets (or one); a new active version triggers rescoring every lead."""
    from crm.scoring.training import TrainingError, train

    set_actor(None)
    targets = [target] if target else [Target.SIGN.value, Target.LAND.value]
    outcome = {}
    activated = False
    for name in targets:
        _progress({"target": name, "step": "start"})
        try:
            entry = train(name, progress=lambda step, n=name: _progress({"target": n, "step": str(step)}))
        except TrainingError as exc:
            db.session.rollback()
            outcome[name] = {"error": str(exc)}
            continue
        db.session.commit()  # the version is registered in one transaction, or not at all
        outcome[name] = {"version": entry.version, "status": entry.status, "reason": entry.reason,
                         "roc_auc": entry.roc_auc}
        activated = activated or entry.status == "active"
    if activated:
        score_all()
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
