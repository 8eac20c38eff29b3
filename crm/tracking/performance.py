"""After production (履约, 亩均): the pure rules. Promised against actual investment intensity
(万元/亩), output and tax per mu of the latest year, the low-efficiency line (长兴: tax per mu
below settings.low_tax_per_mu_wan, default 5 万元/亩), and each commitment as met, behind or
not yet due. No database here: `crm.tracking.step_panels` gathers the facts.

When a commitment is due:
- investment intensity: from the planned completion (the 到资 plan has all of it by then,
  crm.tracking.plan), else from the actual completion; met when actual 到资 ÷ land reaches
  settings.investment_met_pct % of the promised fixed-asset investment ÷ land (the 履约 rule);
- output and tax per mu: for the first full calendar year of production (the year after the
  production date; the same year when production began on 1 January), due once that year has
  ended; met when the latest full year's figure reaches the promise. A full year's figures that
  arrive earlier are judged at once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from flask_babel import lazy_gettext as _l

PLACES = Decimal("0.01")


class Status(StrEnum):
    MET = "met"
    BEHIND = "behind"
    NOT_DUE = "not_due"


STATUS_LABELS = {Status.MET: _l("Commitment met"), Status.BEHIND: _l("Commitment behind"), Status.NOT_DUE: _l("Commitment not yet due")}


@dataclass(frozen=True)
class Facts:
    land_mu: Decimal | None
    promised_fixed_wan: Decimal | None
    promised_output_wan: Decimal | None
    promised_tax_wan: Decimal | None
    invested_wan: Decimal                 # 到资 so far
    planned_complete: date | None
    completed_on: date | None
    produced_on: date | None
    latest_year: int | None               # the latest yearly result
    latest_output_wan: Decimal | None
    latest_tax_wan: Decimal | None


@dataclass(frozen=True)
class Commitment:
    key: str                    # intensity, output_per_mu, tax_per_mu
    promised: Decimal | None    # 万元/亩
    actual: Decimal | None      # 万元/亩
    status: Status | None       # None: nothing was promised (or no land to divide by)

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status]) if self.status else ""


@dataclass(frozen=True)
class Performance:
    intensity: Commitment
    output_per_mu: Commitment
    tax_per_mu: Commitment
    low_efficiency: bool        # latest tax per mu below the line
    low_tax_line: Decimal
    latest_year: int | None

    @property
    def commitments(self) -> tuple[Commitment, ...]:
        return (self.intensity, self.output_per_mu, self.tax_per_mu)


def per_mu(amount: Decimal | None, land: Decimal | None) -> Decimal | None:
    if amount is None or land is None or Decimal(land) <= 0:
        return None
    return (Decimal(amount) / Decimal(land)).quantize(PLACES)


def first_full_year(produced_on: date | None) -> int | None:
    if produced_on is None:
        return None
    return produced_on.year if (produced_on.month, produced_on.day) == (1, 1) else produced_on.year + 1


def intensity_status(promised: Decimal | None, actual: Decimal | None, today: date, due_from: date | None,
                     met_pct: int) -> Status | None:
    if promised is None:
        return None
    if actual is not None and actual >= promised * Decimal(met_pct) / 100:
        return Status.MET
    if due_from is None or today < due_from:
        return Status.NOT_DUE
    return Status.BEHIND


def yearly_status(promised: Decimal | None, actual: Decimal | None, latest_year: int | None,
                  produced_on: date | None, today: date) -> Status | None:
    if promised is None:
        return None
    full = first_full_year(produced_on)
    judged = actual is not None and latest_year is not None and (full is None or latest_year >= full)
    if judged:
        return Status.MET if actual >= promised else Status.BEHIND
    if full is None or today <= date(full, 12, 31):
        return Status.NOT_DUE
    return Status.BEHIND


def evaluate(facts: Facts, today: date, low_tax_line: Decimal, met_pct: int) -> Performance:
    land = facts.land_mu
    promised_intensity = per_mu(facts.promised_fixed_wan, land)
    actual_intensity = per_mu(facts.invested_wan, land)
    due_from = facts.planned_complete or facts.completed_on
    output = per_mu(facts.latest_output_wan, land)
    tax = per_mu(facts.latest_tax_wan, land)
    return Performance(
        intensity=Commitment("intensity", promised_intensity, actual_intensity,
                             intensity_status(promised_intensity, actual_intensity, today, due_from, met_pct)),
        output_per_mu=Commitment("output_per_mu", per_mu(facts.promised_output_wan, land), output,
                                 yearly_status(per_mu(facts.promised_output_wan, land), output, facts.latest_year,
                                               facts.produced_on, today)),
        tax_per_mu=Commitment("tax_per_mu", per_mu(facts.promised_tax_wan, land), tax,
                              yearly_status(per_mu(facts.promised_tax_wan, land), tax, facts.latest_year,
                                            facts.produced_on, today)),
        low_efficiency=tax is not None and tax < Decimal(low_tax_line),
        low_tax_line=Decimal(low_tax_line),
        latest_year=facts.latest_year,
    )
