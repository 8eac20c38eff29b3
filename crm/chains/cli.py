"""`crm export-targets`: the 招商作战表 (target companies per chain) to an .xlsx or .csv file."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click
from flask.cli import with_appcontext


def register(app) -> None:
    app.cli.add_command(export_targets_command)


@click.command("export-targets")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (.xlsx or .csv).")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]),
              help="Default: from the file name's suffix.")
@click.option("--chain", "chains", multiple=True,
              help="Only this industry chain (code or name); repeat for several. Default: every chain.")
@click.option("--priority", "priorities", multiple=True,
              help="Only this priority (high, medium, low or 高, 中, 低); repeatable.")
@click.option("--unit", "units", multiple=True, help="Only the targets of this unit (name); repeatable.")
@click.option("--status", "statuses", multiple=True,
              help="Only this status (not_contacted, contacted, converted, dropped or 未接触, 已接触, "
                   "已转线索, 已放弃); repeatable.")
@with_appcontext
def export_targets_command(out, fmt, chains, priorities, units, statuses):
    """Export the target companies of the chosen chains (every unit's), one sheet per chain."""
    from crm.chains import export

    fmt = fmt or _format_from_suffix(out)
    filters = export.TargetFilters(
        chain_ids=_resolved(export.chain_ids_for, chains, "--chain"),
        priorities=_resolved(export.priority_codes, priorities, "--priority"),
        unit_ids=_resolved(export.unit_ids_for, units, "--unit"),
        statuses=_resolved(export.status_codes, statuses, "--status"))
    # Written next to the target and renamed at the end: a failed run leaves no half file.
    out = out.resolve()
    handle, partial = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    try:
        with os.fdopen(handle, "w+b") as fh:
            count = export.write_xlsx(fh, filters) if fmt == "xlsx" else export.write_csv(fh, filters)
        os.replace(partial, out)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    click.echo(f"Exported {count} targets to {out}.")


def _resolved(resolve, values, option: str):
    from crm.chains.export import FilterError

    try:
        return resolve(values)
    except FilterError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def _format_from_suffix(out: Path) -> str:
    suffix = out.suffix.lower().lstrip(".")
    if suffix not in ("xlsx", "csv"):
        raise click.UsageError("Give --format xlsx|csv, or an --out file ending in .xlsx or .csv.")
    return suffix
