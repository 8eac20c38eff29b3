"""The import preview as the page shows it, kept with the batch: the file is read once, by the
first visit, and every later visit (or a confirmation sent back with an error) shows what was
kept. Plain JSON: numbers, texts, lists."""
from __future__ import annotations

from crm.interchange.importer import Plan
from crm.interchange.models import ImportBatch

VERSION = 1


def summarize(plan: Plan) -> dict:
    def company(row):
        return row.values.get("company_name")

    def planned(row):
        value = row.values.get("planned_investment_wan")
        return None if value is None else str(value)

    def owner_unit_id(row):
        unit = row.values.get("owner_unit")
        return unit.id if unit is not None else None

    return {
        "version": VERSION,
        "complete": plan.complete,
        "total": plan.total,
        "counts": dict(plan.counts),
        "columns": [[pos, col.header] for pos, col in plan.table.columns.items()],
        "headers": list(plan.table.headers),
        "unknown": list(plan.table.unknown),
        "totals": [list(t) for t in plan.totals],
        "new_units": dict(plan.new_units),
        "new_sources": dict(plan.new_sources),
        "new_chains": list(plan.new_chains),
        "new_nodes": [[chain, node, tier] for (chain, node), tier in plan.new_nodes.items()],
        "unclear_units": plan.unclear_units,
        "notes": plan.notes,
        "first_rows": [{"number": row.number, "company": company(row), "project": row.values.get("project_name"),
                        "planned": planned(row), "action": action} for row, action in plan.first_rows],
        "problems": [{"number": row.number, "errors": [list(e) for e in row.errors]} for row in plan.problems],
        "matches": [{"number": row.number, "company": company(row), "action": action,
                     "same_row": row.match.row, "lead_id": row.match.lead_id, "unit_id": row.match.unit_id,
                     "unit_name": row.match.unit_name, "owner_unit_id": owner_unit_id(row)}
                    for row, action in plan.matches],
    }


def stored(batch: ImportBatch) -> dict | None:
    kept = batch.preview
    return kept if isinstance(kept, dict) and kept.get("version") == VERSION else None


def keep(batch: ImportBatch, summary: dict) -> None:
    batch.preview = summary
