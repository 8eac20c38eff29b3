"""The counting rules, as one pure function (each case of the rules table is a test).

Taking part: a member present at the meeting who has not recused on the item. Quorum: more
than `quorum_fraction` of the members take part. Votes cast: approvals and rejections, plus
abstentions when they count as cast (the default). Passed: approvals are more than
`pass_fraction` of the votes cast. "More than" is strict: with one half, a tie fails.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Rules:
    quorum_fraction: Decimal = Decimal("0.5")
    pass_fraction: Decimal = Decimal("0.5")
    abstain_counts_as_cast: bool = True


@dataclass(frozen=True)
class Count:
    members: int
    present: int
    recused: int
    approve: int
    reject: int
    abstain: int

    @property
    def taking_part(self) -> int:
        return self.present - self.recused


@dataclass(frozen=True)
class Outcome:
    quorum: bool
    passed: bool
    cast: int


def decide(count: Count, rules: Rules) -> Outcome:
    quorum = count.members > 0 and Decimal(count.taking_part) > rules.quorum_fraction * count.members
    cast = count.approve + count.reject + (count.abstain if rules.abstain_counts_as_cast else 0)
    passed = quorum and cast > 0 and Decimal(count.approve) > rules.pass_fraction * cast
    return Outcome(quorum=quorum, passed=passed, cast=cast)
