"""`crm import-leads FILE`: the same checks and all-or-nothing rule as the web import."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select


@click.command("import-leads")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--mode", type=click.Choice(["create", "upsert"]), default="create", show_default=True)
@click.option("--unit", "unit_name", help="Unit for rows without 责任单位 (default: the user's unit).")
@click.option("--user", "username", default="admin", show_default=True,
              help="Whose rights apply and who is recorded as the importer.")
@click.option("--valid-rows-only", is_flag=True, help="Import the valid rows even if others are rejected.")
@click.option("--history", is_flag=True,
              help="Historical ledger import (administrators only): outcomes such as 签约/开工/终止 with the "
                   "file's dates, marked as history; no pre-screening case or vote.")
@with_appcontext
def import_leads_command(path, mode, unit_name, username, valid_rows_only, history):
    """Import an interchange file (.xlsx or .csv); prints progress and the outcome."""
    from crm.auth.models import Unit
    from crm.auth.roles import Permission
    from crm.auth.services import find_user
    from crm.extensions import db
    from crm.interchange import jobs, services

    user = find_user(username)
    if user is None or not user.active or not user.can(Permission.LEADS_IMPORT):
        raise click.ClickException(f"{username!r} is not an active user who may import leads.")
    from crm.interchange.importer import can_import_history

    if history and not can_import_history(user):
        raise click.ClickException(f"--history is for administrators; {username!r} is not one.")
    unit = user.unit
    if unit_name:
        unit = db.session.scalar(select(Unit).where(Unit.name == unit_name))
        if unit is None:
            raise click.ClickException(f"No unit named {unit_name!r}.")
    with open(path, "rb") as fh:
        try:
            batch = services.store_upload(fh, Path(path).name, user, unit, mode, valid_rows_only, history)
        except services.ImportError_ as exc:
            raise click.ClickException(str(exc))
    db.session.commit()
    status = jobs.execute(batch, echo=lambda n: click.echo(f"  {n} rows …", err=True))
    batch = db.session.get(type(batch), batch.id)
    click.echo(f"import #{batch.id}: {status}; {batch.total_rows} rows, {batch.created_count} created, "
               f"{batch.updated_count} updated, {batch.skipped_count} skipped, {batch.rejected_count} rejected")
    if batch.error:
        click.echo(f"  {batch.error}")
    if batch.report_path:
        click.echo(f"  rejected rows: {batch.report_path}")
    if status != "done":
        raise SystemExit(1)
