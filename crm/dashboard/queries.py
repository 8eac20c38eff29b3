"""Reading the cockpit's request: period and scope from the query string, for one user."""
from __future__ import annotations

from dataclasses import dataclass

from crm import clock
from crm.auth.models import Unit
from crm.chains.models import Chain
from crm.dashboard import period as periods
from crm.dashboard import scope as scopes
from crm.dashboard.sections import Context, compute_all
from crm.extensions import db
from sqlalchemy import select


@dataclass
class Request:
    ctx: Context | None
    error: str | None = None
    status: int = 200


def read(args, user) -> Request:
    """The context of `args` for `user`, or the message and status that refuse it."""
    try:
        period = periods.parse(args)
        scope = scopes.parse(args, user)
    except periods.PeriodError as exc:
        return Request(None, str(exc), 400)
    except scopes.ScopeError as exc:
        return Request(None, str(exc), exc.status)
    return Request(Context(period=period, scope=scope, today=clock.today(), user=user))


def cockpit(ctx: Context, only: set[str] | None = None) -> dict[str, dict]:
    return compute_all(ctx, only)


def as_json(ctx: Context, only: set[str] | None = None) -> dict:
    """The cockpit as /api/v1/dashboard answers it: the period, the scope and every section's dict."""
    period, scope = ctx.period, ctx.scope
    return {"period": {"kind": period.kind, "start": period.start.isoformat(), "end": period.end.isoformat(),
                       "until": period.until(ctx.today).isoformat(), "label": str(period.label)},
            "scope": {"unit_id": scope.unit_id, "unit_name": scope.unit_name,
                      "chain_id": scope.chain_id, "chain_name": scope.chain_name},
            "sections": cockpit(ctx, only)}


def filter_choices(user) -> dict:
    """The units and chains the filter offers this user."""
    units = list(db.session.execute(select(Unit.id, Unit.name).order_by(Unit.name)))
    if not scopes.can_read_all(user):
        units = [u for u in units if u.id == user.unit_id]
    chains = list(db.session.execute(select(Chain.id, Chain.name).order_by(Chain.position, Chain.id)))
    return {"units": units, "chains": chains}
