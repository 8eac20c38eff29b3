"""The nightly light run (crm.periodic "lights-nightly", 01:00 Beijing): time alone turns lights
yellow and red (a date passes, a project stalls), so every lit project is recomputed once a night.
Idempotent: a second run the same day finds every colour unchanged and writes no history."""
from __future__ import annotations

from crm.audit.listener import set_actor
from crm.extensions import db
from crm.lights import services


def nightly() -> dict:
    set_actor(None)
    result = services.recompute_all()
    db.session.commit()
    return result
