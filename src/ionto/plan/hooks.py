"""Interfaces of the simulation-based parts of planning.

* :func:`simulation_segments` turns a plan's protocol into the simulator's
  :class:`ionto.simulate.problem.Segment` list for its active electrode (A/m^2, signed
  by the plan's polarity), ready for a scenario built from the plan.
* :class:`Predictor` is the interface a simulation-based check implements: it takes a
  plan and returns findings; pass it to :func:`ionto.plan.safety.check_plan` as
  ``extra=[predictor]``. :class:`ionto.plan.predict.checks.SimulationCheck` is the
  implementation (rules ``sim.ph`` and ``sim.burn-risk``).
* :class:`DoseFinder` is the interface of the dose finder
  (:func:`ionto.plan.predict.dose.find_dose` implements it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol as TypingProtocol

from ionto.plan.plan import Plan
from ionto.plan.safety.findings import Finding
from ionto.simulate.problem import Segment


def simulation_segments(plan: Plan, average_above: float = 50.0) -> list[Segment]:
    """The protocol as simulator segments over the active electrode (current density A/m^2)."""
    active = plan.polarity or "anode"
    pieces = plan.protocol.to_segments(plan.active.area, active=active, average_above=average_above)
    return [Segment(duration=d, start=a, end=b) for d, a, b in pieces]


class Predictor(TypingProtocol):
    """A simulation-based check: ``predictor(plan)`` -> findings (e.g. id ``sim.ph``)."""

    def __call__(self, plan: Plan) -> Iterable[Finding]: ...


class DoseFinder(TypingProtocol):
    """Finds a protocol that delivers ``target`` (mol/m^2 at ``depth`` m) within the rules."""

    def __call__(self, plan: Plan, target: float, depth: float) -> Plan: ...
