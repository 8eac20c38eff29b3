"""What the agreement planned by a given day: the one definition the light (到资 behind plan),
履约率 and the project page share.

到资 plan: the contracted fixed-asset investment (else the total) is planned to arrive evenly
from the planned start to the planned completion: nothing is due before the start, all of it by
the completion. Without both dates (or without an amount) no 到资 is planned yet."""
from __future__ import annotations

from datetime import date
from decimal import Decimal


def planned_investment_by(day: date, amount: Decimal | None, planned_start: date | None,
                          planned_complete: date | None) -> Decimal | None:
    if amount is None or planned_start is None or planned_complete is None:
        return None
    amount = Decimal(amount)
    if day < planned_start:
        return Decimal(0)
    if day >= planned_complete or planned_complete <= planned_start:
        return amount
    share = Decimal((day - planned_start).days) / Decimal((planned_complete - planned_start).days)
    return (amount * share).quantize(Decimal("0.01"))


def investment_basis(agreement) -> Decimal | None:
    """The amount the 到资 plan is about: fixed-asset investment, else the total."""
    if agreement is None:
        return None
    if agreement.fixed_asset_investment_wan is not None:
        return agreement.fixed_asset_investment_wan
    return agreement.total_investment_wan
