"""`crm train` and `crm score`: the same jobs as the web, from the command line."""
from __future__ import annotations

import time

import click
from flask.cli import with_appcontext


def _run(queue_name: str, func, *args, wait: bool, timeout: int):
    from rq import Worker

    from crm.extensions import redis_store
    from crm.queue import get_queue, make_worker

    queue = get_queue(queue_name)
    job = queue.enqueue(func, *args)
    click.echo(f"queued {job.id} on {queue_name}")
    if not wait:
        return None
    listening = [w for w in Worker.all(connection=redis_store.client) if queue.name in w.queue_names()]
    if listening:  # a worker that died recently still looks registered: give it a moment to start
        grace = time.monotonic() + 15
        while time.monotonic() < grace and job.get_status(refresh=True) == "queued":
            time.sleep(0.5)
    if not listening or job.get_status(refresh=True) == "queued":
        # nobody picks it up: run it here, in burst mode
        click.echo("no worker is listening: running it here")
        make_worker([queue_name]).work(burst=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = job.get_status(refresh=True)
        if status in ("finished", "failed", "stopped", "canceled"):
            break
        time.sleep(0.5)
    if job.get_status(refresh=True) != "finished":
        raise click.ClickException(f"job {job.id} ended as {job.get_status()}")
    return job.return_value()


@click.command("train")
@click.option("--target", type=click.Choice(["sign", "land"]), help="One target (default: both).")
@click.option("--wait", is_flag=True, help="Wait for the result (runs the job here if no worker listens).")
@with_appcontext
def train_command(target, wait):
    """Train the scoring models (slow queue); a better version becomes active and all leads are rescored."""
    from crm.scoring.jobs import train_model

    outcome = _run("slow", train_model, target, wait=wait, timeout=3600)
    for name, result in (outcome or {}).items():
        if "error" in result:
            click.echo(f"{name}: not trained — {result['error']}")
        else:
            auc = "—" if result["roc_auc"] is None else f"{result['roc_auc']:.3f}"
            click.echo(f"{name}: v{result['version']} {result['status']} (holdout ROC AUC {auc})"
                       + (f" — {result['reason']}" if result["reason"] else ""))


@click.command("score")
@click.option("--all", "all_leads", is_flag=True, help="Every lead (default: those marked pending).")
@click.option("--rewrite", is_flag=True, help="With --all: store every score again with its factors, changed or not.")
@click.option("--wait", is_flag=True, help="Wait for the result (runs the job here if no worker listens).")
@with_appcontext
def score_command(all_leads, rewrite, wait):
    """Score leads (quick queue for pending ones, slow queue for all)."""
    from crm.scoring.jobs import score_all, score_pending

    if all_leads:
        done = _run("slow", score_all, True, rewrite, wait=wait, timeout=3600)
    else:
        done = _run("quick", score_pending, wait=wait, timeout=600)
    if done is not None:
        click.echo(f"scored {done} leads")


def register(app) -> None:
    app.cli.add_command(train_command)
    app.cli.add_command(score_command)
