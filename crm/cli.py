"""`crm` console command: a Flask CLI group (crm run, crm db upgrade, crm create-user, …)."""
from __future__ import annotations

import sys
import time

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from redis import exceptions as redis_errors
from sqlalchemy import select


def _create_app():
    from crm import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def cli():
    """招商引资 CRM."""


def register_commands(app) -> None:
    app.cli.add_command(create_user_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(stop_embedded_redis_command)
    from crm.interchange.import_cli import import_leads_command

    app.cli.add_command(import_leads_command)
    from crm.interchange.cli import register as register_interchange; register_interchange(app)
    from crm.chains.cli import register as register_chains; register_chains(app)
    from crm.tracking.results_cli import register as register_tracking_results; register_tracking_results(app)
    from crm.dashboard.cli import register as register_dashboard; register_dashboard(app)
    from crm.backup.cli import register as register_backup; register_backup(app)
    from crm.scoring.cli import register as register_scoring

    register_scoring(app)


@click.command("create-user")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(["officer", "team_lead", "screener", "leader", "admin", "viewer"]))
@click.option("--unit", "unit_name", required=True, help="Name of an existing unit, or a new one (--unit-kind).")
@click.option("--unit-kind", type=click.Choice(["town", "department", "investment_group", "park"]),
              help="Create the unit with this kind if it does not exist.")
@click.option("--full-name", default="")
@click.option("--email", default=None, help="E-mail address (checked like the profile page's).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_user_command(username, roles, unit_name, unit_kind, full_name, email, password_stdin):
    """Create a user; the password comes from stdin or a prompt, never from the command line."""
    from crm.auth import services
    from crm.auth.models import Unit
    from crm.extensions import db

    unit = db.session.scalar(select(Unit).where(Unit.name == unit_name))
    if unit is None:
        if not unit_kind:
            raise click.UsageError(f"No unit named {unit_name!r}; give --unit-kind to create it.")
        unit = Unit(name=unit_name, kind=unit_kind)
        db.session.add(unit)
    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = services.create_user(username, password, unit, roles, full_name, email=email)
    except services.AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc))
    db.session.commit()
    click.echo(f"Created {user.username} ({', '.join(user.roles)}) in {unit.name}.")


@click.command("seed-demo")
@click.option("--leads", default=3000, show_default=True)
@click.option("--seed", default=2026, show_default=True)
@with_appcontext
def seed_demo_command(leads, seed):
    """Fill an empty database with a believable county (将乐县): units, users, chains, leads."""
    from crm.demo.seed import seed_demo

    logins = seed_demo(leads=leads, seed=seed)
    if logins is None:
        click.echo("The database already has users; demo data not added.")
        return
    click.echo("Demo logins (password for all: %s):" % logins["password"])
    for username, roles, unit in logins["users"]:
        click.echo(f"  {username:<16} {','.join(roles):<22} {unit}")


@click.command("worker")
@click.option("--queues", default="quick,slow", show_default=True)
@click.option("--burst", is_flag=True, help="Run the jobs waiting now, then exit.")
@click.option("--with-scheduler/--without-scheduler", default=True,
              help="Also run RQ's scheduler and enqueue the periodic jobs (crm.periodic).")
@click.option("--with-sweeper/--without-sweeper", default=True,
              help="Also put back on their queues the jobs of the outbox that have no live job (crm.outbox).")
@with_appcontext
def worker_command(queues, burst, with_scheduler, with_sweeper):
    """Run an RQ worker inside the app context (quick and slow queues, each with a timeout)."""
    from crm.outbox import sweep
    from crm.periodic import PeriodicThread, enqueue_due
    from crm.queue import make_worker

    names = [q.strip() for q in queues.split(",") if q.strip()]
    tasks = ([enqueue_due] if with_scheduler else []) + ([sweep] if with_sweeper else [])
    for task in tasks:  # once now (a burst worker runs what they enqueue), then every tick
        try:
            task()
        except Exception:  # noqa: BLE001  (the worker still starts; the next tick tries again)
            current_app.logger.exception("worker: %s failed at start", task.__name__)
        finally:
            db_session_remove()
    ticker = None
    if tasks and not burst:
        ticker = PeriodicThread(current_app._get_current_object(), current_app.config["PERIODIC_TICK"], tasks)
        ticker.start()
    try:
        while True:
            try:
                # Made inside the retry: RQ's Worker names its connection at birth, so making one
                # while Redis is still away raises as well.
                worker = make_worker(names)
                worker.preload()  # scikit-learn and the active models, once, before any job forks a horse
                current_app.logger.info("worker %s listening on %s", worker.name, queues)
                worker.work(burst=burst, with_scheduler=with_scheduler)
                break
            except (redis_errors.ConnectionError, redis_errors.TimeoutError):
                # Redis went away: RQ's worker ends. The process stays and starts a new worker
                # once Redis answers again (the outbox's sweeper puts back what was lost).
                if burst:
                    raise
                current_app.logger.warning("worker: Redis is unreachable; trying again in %s s",
                                           REDIS_RETRY_SECONDS)
                time.sleep(REDIS_RETRY_SECONDS)
    finally:
        if ticker:
            ticker.stopping.set()


REDIS_RETRY_SECONDS = 2


def db_session_remove() -> None:
    from crm.extensions import db

    db.session.remove()


@click.command("stop-embedded-redis")
@with_appcontext
def stop_embedded_redis_command():
    """Stop the zero-setup Redis under instance/ (demo and tests; not used with REDIS_URL)."""
    from crm.embedded_redis import stop_server

    if stop_server(current_app.config["INSTANCE_PATH"]):
        click.echo("Embedded Redis stopped.")
