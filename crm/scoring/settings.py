"""The grade cut-offs, set by an admin."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from crm.extensions import db
from crm.scoring.models import ScoringSettings


def get_settings() -> ScoringSettings:
    row = db.session.get(ScoringSettings, 1)
    if row is None:
        row = ScoringSettings(id=1, grade_a=0.6, grade_b=0.35, grade_c=0.15)
        db.session.add(row)
        db.session.flush()
    return row


DEFAULT_CUTOFFS = {"A": 0.6, "B": 0.35, "C": 0.15}


def get_cutoffs() -> dict:
    row = db.session.get(ScoringSettings, 1)
    if row is None:
        return dict(DEFAULT_CUTOFFS)
    return {"A": row.grade_a, "B": row.grade_b, "C": row.grade_c}


def cutoff_expressions() -> tuple:
    """The cut-offs A, B and C as scalar subqueries (NULL before an admin saved any), for a
    statement that reads them beside other figures (crm.formatting's top bar)."""
    return tuple(select(column).where(ScoringSettings.id == 1).scalar_subquery()
                 for column in (ScoringSettings.grade_a, ScoringSettings.grade_b, ScoringSettings.grade_c))


def cutoffs_from(a, b, c) -> dict:
    return dict(DEFAULT_CUTOFFS) if a is None else {"A": a, "B": b, "C": c}


def save_cutoffs(a: float, b: float, c: float) -> ScoringSettings:
    if not (1 >= a > b > c > 0):
        raise ValueError(_("The cut-offs must fall from A to C, each between 0 and 1 (e.g. 0.6, 0.35, 0.15)."))
    row = get_settings()
    row.grade_a, row.grade_b, row.grade_c = a, b, c
    db.session.flush()
    return row
