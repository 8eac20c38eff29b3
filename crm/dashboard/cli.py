"""`crm dashboard rebuild-stage-dates`: recompute the stage_reached projection from the sources of
truth — after loading data by hand (SQL, COPY) that bypassed the app, or to check it."""
from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext


@click.command("rebuild-stage-dates")
@with_appcontext
def rebuild_stage_dates_command():
    """Every lead's stage dates, rebuilt in one transaction."""
    from crm.dashboard.stage_dates import rebuild
    from crm.extensions import db

    rows = rebuild()
    db.session.commit()
    click.echo(f"stage dates rebuilt: {rows} rows")


def register(app) -> None:
    group = AppGroup("dashboard", help="The cockpit's figures.")
    group.add_command(rebuild_stage_dates_command)
    app.cli.add_command(group)
