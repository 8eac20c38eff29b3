"""The light's panel on the project page, and the badge any page may show (`light_badge`)."""
from __future__ import annotations

from markupsafe import Markup, escape

from crm import clock
from crm.lights import queries
from crm.lights.models import COLOUR_LABELS, Colour
from crm.lights.rules import describe, evaluate, is_lit
from crm.tracking.settings import peek_settings

_BADGE_CLASSES = {Colour.GREEN.value: "text-bg-success", Colour.YELLOW.value: "text-bg-warning",
                  Colour.RED.value: "text-bg-danger"}


def colour_label(colour: str | None) -> str:
    try:
        return str(COLOUR_LABELS[Colour(colour)])
    except ValueError:
        return "—"


def light_badge(colour: str | None) -> Markup:
    """A Bootstrap badge for a colour ("green" / "yellow" / "red"); a dash when not lit."""
    if colour not in _BADGE_CLASSES:
        return Markup('<span class="text-muted" data-light="none">—</span>')
    return Markup('<span class="badge {cls}" data-light="{colour}">{label}</span>').format(
        cls=_BADGE_CLASSES[colour], colour=escape(colour), label=colour_label(colour))


def current(lead) -> dict:
    """The light as stored; before its first computation, as the rules give it now (not written)."""
    light = queries.light_of(lead.id)
    if light is not None:
        return {"colour": light.colour, "reasons": light.reasons or [], "since": light.since, "stored": True}
    if not is_lit(lead.stage):
        return {"colour": None, "reasons": [], "since": None, "stored": False}
    facts = queries.gather_facts(clock.today(), [lead.id]).get(lead.id)
    colour, reasons = evaluate(facts, peek_settings(), clock.today()) if facts else (None, [])
    return {"colour": colour, "reasons": reasons, "since": None, "stored": False}


def project_panel(lead, user) -> dict | None:
    """Every reader of the project page sees its light (the page already checked the reader)."""
    light = current(lead)
    history = [(change, [describe(r, change.changed_on) for r in change.reasons or []])
               for change in queries.history(lead.id)]
    return {**light, "texts": [(r.get("colour"), describe(r)) for r in light["reasons"]], "history": history}
