"""`crm export-leads`: the county's leads to an .xlsx or .csv file, with the list's filters."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import or_, select

from crm.leads.queries import DEFAULT_SORT, SORTS, LeadFilters


def register(app) -> None:
    app.cli.add_command(export_leads_command)


@click.command("export-leads")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (.xlsx or .csv).")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]),
              help="Default: from the file name's suffix.")
@click.option("--english", is_flag=True, help="English column keys and codes instead of Chinese.")
@click.option("--stage", help="Only this stage (code, e.g. negotiating, or Chinese name, e.g. 洽谈).")
@click.option("--chain", help="Only this industry chain (code or name).")
@click.option("--source-kind", help="Only this source kind (code, e.g. chamber, or Chinese, e.g. 商会).")
@click.option("--unit", "unit_name", help="Only the leads of this unit (name).")
@click.option("--q", default="", help="Search company, project or credit code.")
@click.option("--sort", type=click.Choice(sorted(SORTS)), default=DEFAULT_SORT, show_default=True)
@with_appcontext
def export_leads_command(out, fmt, english, stage, chain, source_kind, unit_name, q, sort):
    """Export every lead in the county (no unit restriction) matching the filters."""
    from crm.interchange.export import CountyWideReader, export_rows, write_csv, write_xlsx

    fmt = fmt or _format_from_suffix(out)
    filters = LeadFilters(q=q.strip(), stage=_stage_code(stage), chain_id=_chain_id(chain),
                          source_kind=_source_kind_code(source_kind), unit_id=_unit_id(unit_name),
                          sort=sort)
    rows = export_rows(CountyWideReader(), filters, english)
    # Written next to the target and renamed at the end: a failed run leaves no half file.
    out = out.resolve()
    handle, partial = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    try:
        with os.fdopen(handle, "wb") as fh:
            count = write_xlsx(rows, fh) if fmt == "xlsx" else write_csv(rows, fh)
        os.replace(partial, out)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    click.echo(f"Exported {count} leads to {out}.")


def _format_from_suffix(out: Path) -> str:
    suffix = out.suffix.lower().lstrip(".")
    if suffix not in ("xlsx", "csv"):
        raise click.UsageError("Give --format xlsx|csv, or an --out file ending in .xlsx or .csv.")
    return suffix


def _stage_code(value: str | None) -> str:
    from crm.leads.pipeline import STAGE_CHINESE, Stage

    return _code(value, {s.value for s in Stage}, STAGE_CHINESE, "--stage")


def _source_kind_code(value: str | None) -> str:
    from crm.leads.models import SOURCE_KIND_CHINESE, SourceKind

    return _code(value, {k.value for k in SourceKind}, SOURCE_KIND_CHINESE, "--source-kind")


def _code(value: str | None, codes: set[str], chinese: dict, option: str) -> str:
    """The code for a code or a Chinese name; a usage error for anything else."""
    if not value:
        return ""
    value = value.strip()
    if value in codes:
        return value
    by_name = {name: str(code) for code, name in chinese.items()}
    if value in by_name:
        return by_name[value]
    raise click.BadParameter(f"{value!r} is none of: {', '.join(sorted(codes))}", param_hint=option)


def _chain_id(value: str | None) -> int | None:
    from crm.chains.models import Chain
    from crm.extensions import db

    if not value:
        return None
    chain_id = db.session.scalar(select(Chain.id).where(or_(Chain.code == value, Chain.name == value)))
    if chain_id is None:
        raise click.BadParameter(f"no industry chain with code or name {value!r}", param_hint="--chain")
    return chain_id


def _unit_id(value: str | None) -> int | None:
    from crm.auth.models import Unit
    from crm.extensions import db

    if not value:
        return None
    unit_id = db.session.scalar(select(Unit.id).where(Unit.name == value))
    if unit_id is None:
        raise click.BadParameter(f"no unit named {value!r}", param_hint="--unit")
    return unit_id
