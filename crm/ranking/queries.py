"""The ranking's figures per unit (placeholder: filled in by its part of issue 16)."""
from __future__ import annotations

from dataclasses import dataclass, field

from crm.dashboard.period import Period


@dataclass
class RankRow:
    unit_id: int
    unit_name: str
    place: int = 0
    previous_place: int | None = None   # in the previous period, by the same sort
    figures: dict = field(default_factory=dict)  # metric key -> value (see METRICS)

    @property
    def change(self) -> int | None:
        """Places up (+) or down (−) against the previous period; None: not ranked then."""
        return None if self.previous_place is None else self.previous_place - self.place


def ranking(period: Period, sort: str = "points", descending: bool = True) -> list[RankRow]:
    """Every unit with a figure in the period (or the one before), ranked by `sort`."""
    return []
