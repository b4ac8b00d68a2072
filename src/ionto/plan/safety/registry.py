"""How rule code is registered: ``@rule("id", required={...}, optional={...})``.

A check is a function ``(ctx: Context) -> Iterator[Hit]``; each :class:`Hit` becomes a
finding with the rule's severity (or the hit's own), downgraded from error to warning
when the rule says ``downgrade_uncertain`` and the hit rests on a disputed or
unconfirmed value.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ionto.plan.safety.book import PREDICTION_RULES, SPECS, ParameterSpec, Severity

if TYPE_CHECKING:
    from ionto.plan.predict.run import Prediction
    from ionto.plan.safety.context import Context


@dataclass(frozen=True)
class Hit:
    """What a check found: a message, optionally its own severity and sources, and
    whether it rests on a disputed / unconfirmed value (``uncertain``)."""

    message: str
    severity: Severity | None = None
    source: tuple[str, ...] | None = None
    uncertain: bool = False


Check = Callable[["Context"], Iterator[Hit]]
PredictionCheck = Callable[["Context", "Prediction"], Iterator[Hit]]
CHECKS: dict[str, Check] = {}
PREDICTION_CHECKS: dict[str, PredictionCheck] = {}
CHECK_MODULES = (
    "ionto.plan.safety.checks_electrical",
    "ionto.plan.safety.checks_substance",
    "ionto.plan.safety.checks_patient",
    "ionto.plan.safety.checks_simulation",
)


def rule(
    rule_id: str,
    required: Mapping[str, str] | None = None,
    optional: Mapping[str, str] | None = None,
) -> Callable[[Check], Check]:
    """Register a check for ``rule_id`` with its parameters' SI units."""

    def register(check: Check) -> Check:
        CHECKS[rule_id] = check
        SPECS[rule_id] = ParameterSpec(dict(required or {}), dict(optional or {}))
        return check

    return register


def prediction_rule(
    rule_id: str,
    required: Mapping[str, str] | None = None,
    optional: Mapping[str, str] | None = None,
) -> Callable[[PredictionCheck], PredictionCheck]:
    """Register a check on a simulated treatment (``(ctx, prediction) -> hits``)."""

    def register(check: PredictionCheck) -> PredictionCheck:
        PREDICTION_CHECKS[rule_id] = check
        PREDICTION_RULES.add(rule_id)
        SPECS[rule_id] = ParameterSpec(dict(required or {}), dict(optional or {}))
        return check

    return register


def load_checks() -> dict[str, Check]:
    """Import every check module (they register themselves) and return the checks."""
    for module in CHECK_MODULES:
        importlib.import_module(module)
    return CHECKS
