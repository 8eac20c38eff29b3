"""Rules shared by several features."""
from __future__ import annotations

from sqlalchemy import select

from crm.extensions import db


def save_named(model, obj, name: str, **values):
    """Create (obj None) or update a row whose `name` is unique; None if another row has it."""
    clash = db.session.scalar(select(model).where(model.name == name))
    if clash is not None and clash is not obj:
        return None
    if obj is None:
        obj = model()
        db.session.add(obj)
    obj.name = name
    for key, value in values.items():
        setattr(obj, key, value)
    db.session.flush()
    return obj
