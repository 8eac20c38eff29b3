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
@click.option("--create-missing", is_flag=True,
              help="Create the industry chains, chain nodes and units the file names and nobody has (team leads "
                   "and administrators). New nodes are midstream (中游); a unit's kind is told by its name "
                   "(…镇, …园区, …局, …招商组) or given with --unit-kind.")
@click.option("--unit-kind", "unit_kinds", multiple=True, metavar="NAME=KIND",
              help="Kind of a new unit: town|department|investment_group|park (or 乡镇|部门|招商组|园区). Repeatable.")
@with_appcontext
def import_leads_command(path, mode, unit_name, username, valid_rows_only, history, create_missing, unit_kinds):
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
    from crm.interchange.importer import can_create_references

    if create_missing and not can_create_references(user):
        raise click.ClickException(f"--create-missing is for team leads and administrators; {username!r} is neither.")
    kinds = _unit_kinds(unit_kinds)
    with open(path, "rb") as fh:
        try:
            batch = services.store_upload(fh, Path(path).name, user, unit, mode, valid_rows_only, history,
                                          create_missing=create_missing, unit_kinds=kinds)
        except services.ImportError_ as exc:
            raise click.ClickException(str(exc))
    if create_missing:
        _check_new_references(batch, user)
    db.session.commit()
    status = jobs.execute(batch, echo=lambda n: click.echo(f"  {n} rows …", err=True))
    batch = db.session.get(type(batch), batch.id)
    click.echo(f"import #{batch.id}: {status}; {batch.total_rows} rows, {batch.created_count} created, "
               f"{batch.updated_count} updated, {batch.skipped_count} skipped, {batch.rejected_count} rejected")
    if batch.error:
        click.echo(f"  {batch.error}")
    if batch.report_path:
        click.echo(f"  rejected rows: {batch.report_path}")
        for line in _report_lines(batch.report_path):
            click.echo(f"    {line}")
    if status != "done":
        raise SystemExit(1)


_KIND_NAMES = {"乡镇": "town", "镇": "town", "乡": "town", "部门": "department", "招商组": "investment_group",
               "园区": "park"}


def _unit_kinds(values) -> dict[str, str]:
    from crm.auth.models import UnitKind

    kinds = {}
    for value in values:
        name, sep, kind = value.rpartition("=")
        kind = _KIND_NAMES.get(kind.strip(), kind.strip())
        if not sep or not name.strip() or kind not in {k.value for k in UnitKind}:
            raise click.BadParameter(f"{value!r}: write NAME=KIND, KIND one of town, department, investment_group, "
                                     "park (or 乡镇, 部门, 招商组, 园区)", param_hint="--unit-kind")
        kinds[name.strip()] = kind
    return kinds


def _check_new_references(batch, user) -> None:
    """Walk the file as the preview does: say what will be created, and refuse, naming them, the
    new units whose kind neither their name nor --unit-kind tells."""
    from crm.interchange import importer
    from crm.interchange.readers import FileError

    try:
        plan = importer.preview(batch, user)
    except FileError as exc:
        raise click.ClickException(str(exc))
    unclear = plan.unclear_units
    if unclear:
        raise click.ClickException(
            "The kind of these new units cannot be told from their names: " + ", ".join(unclear)
            + ". Give each with --unit-kind NAME=KIND (town, department, investment_group, park).")
    for label, names in (("industry chains", list(plan.new_chains)),
                         ("chain nodes (midstream)", [" · ".join(k) for k in plan.new_nodes]),
                         ("units", [f"{n} ({k})" for n, k in plan.new_units.items()]),
                         ("sources", list(plan.new_sources))):
        if names:
            click.echo(f"  new {label}: {', '.join(names)}", err=True)


def _report_lines(path: str, limit: int = 10) -> list[str]:
    """The first rejected rows of the report, each with its reasons (the report's last columns:
    原行号, 错误列, 错误原因)."""
    import openpyxl

    from crm.interchange.services import file_key
    from crm.storage import storage

    with storage().local_path(file_key(path)) as local:
        return _first_rejected(openpyxl.load_workbook(local, read_only=True), limit)


def _first_rejected(book, limit: int) -> list[str]:
    lines = []
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return []
        for values in rows:
            if len(lines) == limit:
                lines.append("…")
                break
            lines.append(f"row {values[len(header) - 3]}: {values[len(header) - 1]}")
    finally:
        book.close()
    return lines
