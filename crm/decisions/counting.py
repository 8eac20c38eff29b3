"""The counting rules (议事规则), as one pure function (each case of the rules table is a test).

应到 (members): the group's members when the meeting opened. 实到 (present): those recorded present.
Quorum: more than `quorum_fraction` of 应到 present. Entitled to vote on an item: 应到 minus the
members who recused on it. Passed: approvals are more than `pass_fraction` of the pass basis —
by default the members entitled to vote (超过应到会成员半数同意); "present" (present and entitled)
and "cast" (approvals, rejections and, when they count, abstentions) are the alternatives.
Abstentions and members who did not vote never count as approvals. "More than" is strict: with
one half, a tie fails. An item with no vote cast can never be decided.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Rules:
    quorum_fraction: Decimal = Decimal("0.5")
    pass_fraction: Decimal = Decimal("0.5")
    pass_basis: str = "members"
    abstain_counts_as_cast: bool = True
    chair_votes_last: bool = True


@dataclass(frozen=True)
class Count:
    members: int
    present: int
    recused: int
    approve: int
    reject: int
    abstain: int
    not_voted: int = 0

    @property
    def entitled(self) -> int:
        """应到 minus those who recused: the members entitled to vote on the item."""
        return self.members - self.recused

    @property
    def taking_part(self) -> int:
        return self.present - self.recused

    @property
    def absent(self) -> int:
        return self.members - self.present


@dataclass(frozen=True)
class Outcome:
    quorum: bool
    passed: bool
    cast: int
    base: int      # what the approvals are compared with
    needed: int    # the fewest approvals that pass
    decidable: bool  # quorum and at least one vote cast

    @property
    def refusal(self) -> str | None:
        """Why the item cannot be decided (a code the services word), or None."""
        if not self.quorum:
            return "no_quorum"
        if not self.decidable:
            return "no_votes"
        return None


def decide(count: Count, rules: Rules) -> Outcome:
    quorum = count.members > 0 and Decimal(count.present) > rules.quorum_fraction * count.members
    abstentions = count.abstain if (rules.pass_basis != "cast" or rules.abstain_counts_as_cast) else 0
    cast = count.approve + count.reject + abstentions
    base = {"members": count.entitled, "present": count.taking_part}.get(rules.pass_basis, cast)
    threshold = rules.pass_fraction * base
    needed = math.floor(threshold) + 1  # strictly more than the share
    decidable = quorum and cast > 0
    passed = decidable and Decimal(count.approve) > threshold
    return Outcome(quorum=quorum, passed=passed, cast=cast, base=base, needed=needed, decidable=decidable)
