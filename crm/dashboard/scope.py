"""Whose figures: every unit and chain, or one unit and/or one chain — and who may ask for which.

Leaders, viewers and administrators read the whole county; a team lead reads only the own unit
(asking for another unit's figures is refused, not silently narrowed)."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from crm.auth.models import Unit
from crm.auth.roles import Permission
from crm.chains.models import Chain
from crm.extensions import db
from crm.leads.models import Lead


class ScopeError(ValueError):
    """str() is the user's message; status is the HTTP status to answer with (400, 403, 404)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Scope:
    unit_id: int | None = None
    chain_id: int | None = None
    unit_name: str | None = None
    chain_name: str | None = None

    def lead_conditions(self) -> list:
        """Conditions on Lead (its owner unit and chain) for every lead-based figure."""
        conds = []
        if self.unit_id is not None:
            conds.append(Lead.owner_unit_id == self.unit_id)
        if self.chain_id is not None:
            conds.append(Lead.chain_id == self.chain_id)
        return conds

    @property
    def is_filtered(self) -> bool:
        return self.unit_id is not None or self.chain_id is not None

    def args(self) -> dict:
        return {k: v for k, v in {"unit_id": self.unit_id, "chain_id": self.chain_id}.items() if v is not None}


def _id_arg(args, name: str, what: str) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ScopeError(_("%(what)s must be chosen from the list.", what=what)) from None
    if value <= 0:
        raise ScopeError(_("%(what)s must be chosen from the list.", what=what))
    return value


def can_read_all(user) -> bool:
    return user.can(Permission.DASHBOARD_READ_ALL)


def parse(args, user) -> Scope:
    """The scope of `?unit_id=&chain_id=` for this user. Raises ScopeError: an unknown unit or
    chain (404), a team lead asking for another unit (403)."""
    unit_id = _id_arg(args, "unit_id", _("The unit"))
    chain_id = _id_arg(args, "chain_id", _("The industry chain"))
    if not can_read_all(user):
        if unit_id is not None and unit_id != user.unit_id:
            raise ScopeError(_("You may read the figures of your own unit only."), 403)
        unit_id = user.unit_id
    unit_name = chain_name = None
    if unit_id is not None:
        unit = db.session.get(Unit, unit_id)
        if unit is None:
            raise ScopeError(_("There is no unit number %(id)s.", id=unit_id), 404)
        unit_name = unit.name
    if chain_id is not None:
        chain = db.session.get(Chain, chain_id)
        if chain is None:
            raise ScopeError(_("There is no industry chain number %(id)s.", id=chain_id), 404)
        chain_name = chain.name
    return Scope(unit_id, chain_id, unit_name, chain_name)
