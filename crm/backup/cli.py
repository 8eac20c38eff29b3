"""`crm backup` and `crm restore`."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext


def register(app) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


@click.command("backup")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Archive to write (.tar.gz); default instance/backups/crm-backup-<time>.tar.gz.")
@with_appcontext
def backup_command(output):
    """One archive: the database, model files, uploads, attachments and the secret key."""
    from crm.backup.services import BackupError, make_backup

    try:
        made = make_backup(output)
    except BackupError as exc:
        raise click.ClickException(str(exc))
    manifest = made.manifest
    click.echo(f"Backup written: {made.path} ({made.path.stat().st_size} bytes, "
               f"{len(manifest['files'])} files, database revision {manifest['alembic_revision']}).")
    if manifest["secret_key"] == "environment":
        click.echo("Note: SECRET_KEY comes from the environment and is not in the archive; keep it "
                   "with your backups.")
    click.echo("Copy it off this host: a backup on the same disk is lost with the disk.")


@click.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(archive, yes):
    """Replace the database, the files and the secret key with a backup's (stop web and worker first)."""
    from crm.backup.services import BackupError, restore

    if not yes:
        click.confirm(f"This replaces the database ({current_app.config['DATABASE_URL'].split('@')[-1]}) "
                      f"and the files under {current_app.instance_path} with the backup's. Continue?",
                      abort=True)
    try:
        restored = restore(archive)
    except BackupError as exc:
        raise click.ClickException(f"{exc} Nothing was changed.")
    manifest = restored.manifest
    click.echo(f"Restored the backup of {manifest['created_at']} (version {manifest['version']}, "
               f"database revision {manifest['alembic_revision']}, {len(manifest['files'])} files).")
    if restored.revision_state == "older":
        click.echo("The database is at an older revision than this version: run `crm db upgrade` now.")
    if restored.secret_key == "environment":
        click.echo("The backup's SECRET_KEY came from the environment: set the same SECRET_KEY here.")
    click.echo("Start the web and worker processes again.")
