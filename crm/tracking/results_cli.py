"""`crm tracking import-results FILE`: the tax bureau's sheet, with the same checks and the same
all-or-nothing rule as the web import (crm.tracking.results_import)."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext


@click.command("import-results")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--user", "username", default="admin", show_default=True,
              help="Who is recorded as the importer (must hold the tax-sheet import right).")
@click.option("--dry-run", is_flag=True, help="Check and report only; write nothing.")
@with_appcontext
def import_results_command(path, username, dry_run):
    """Import yearly output and tax (.xlsx or .csv); any rejected row → nothing written (exit 1)."""
    from crm.auth.roles import Permission
    from crm.auth.services import find_user
    from crm.extensions import db
    from crm.interchange.readers import FileError
    from crm.tracking import results_import

    user = find_user(username)
    if user is None or not user.active or not user.can(Permission.TRACKING_IMPORT):
        raise click.ClickException(f"{username!r} is not an active user who may import the tax sheet.")
    name = Path(path).name
    try:
        report = (results_import.check_sheet if dry_run else
                  lambda p, n: results_import.apply_sheet(p, n, user))(Path(path), name)
    except FileError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc))
    for item in report.accepted:
        action = "replace" if item.replaces else "new"
        click.echo(f"  row {item.row}: {item.uscc} {item.year} output={item.output_wan} tax={item.tax_wan} ({action})")
    for rejected in report.rejected:
        click.echo(f"  row {rejected.row}: REJECTED {rejected.uscc}: {'; '.join(rejected.reasons)}", err=True)
    if report.rejected:
        db.session.rollback()
        click.echo(f"{len(report.rejected)} rows rejected: nothing was written.", err=True)
        raise SystemExit(1)
    if dry_run:
        db.session.rollback()
        click.echo(f"{len(report.accepted)} rows would be written ({report.replaced} replacing a year); dry run.")
        return
    db.session.commit()
    click.echo(f"{report.written} yearly results imported ({report.replaced} replaced).")


def register(app) -> None:
    """Adds the command to the `crm tracking` group (created here if no other feature made it)."""
    group = app.cli.commands.get("tracking")
    if group is None:
        group = AppGroup("tracking", help="Tracking after admission.")
        app.cli.add_command(group)
    group.add_command(import_results_command)
