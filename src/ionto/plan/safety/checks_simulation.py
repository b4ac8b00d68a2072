"""Rules checked on the simulated treatment (``prediction = true`` in rules.toml).

They see the :class:`ionto.plan.predict.run.Prediction` of the plan at its active
electrode: the pH of the reservoir at the skin surface over time, the current and the
charge passed. Units: pH dimensionless, current density A/m^2, charge density C/m^2.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from ionto.plan.safety.context import Context, show
from ionto.plan.safety.registry import Hit, prediction_rule

if TYPE_CHECKING:
    from ionto.plan.predict.run import Prediction

DIMENSIONLESS = "dimensionless"


def _value(ctx: Context, rule_id: str, name: str) -> float:
    picked = ctx.param(rule_id, name)
    assert picked is not None, f"{rule_id}.{name} has a default in rules.toml"
    return picked.si


def _at(p: Prediction, index: int) -> str:
    return show(float(p.times[index]), "s")


@prediction_rule(
    "sim.ph",
    required={
        "acid_burn": DIMENSIONLESS,
        "alkaline_burn": DIMENSIONLESS,
        "acid_irritation": DIMENSIONLESS,
        "alkaline_irritation": DIMENSIONLESS,
    },
)
def sim_ph(ctx: Context, p: Prediction) -> Iterator[Hit]:
    rule = "sim.ph"
    ph = p.pH_skin_surface
    low, high = int(np.argmin(ph)), int(np.argmax(ph))
    where = f"at the skin surface under the active electrode ({p.scenario.electrode})"
    acid_burn, alkaline_burn = _value(ctx, rule, "acid_burn"), _value(ctx, rule, "alkaline_burn")
    acid_irr = _value(ctx, rule, "acid_irritation")
    alkaline_irr = _value(ctx, rule, "alkaline_irritation")
    if ph[low] < acid_burn:
        yield Hit(
            f"predicted pH {ph[low]:.2f} {where} at {_at(p, low)} is below the acid burn "
            f"limit {acid_burn:g}"
        )
    elif ph[low] < acid_irr:
        yield Hit(
            f"predicted pH {ph[low]:.2f} {where} at {_at(p, low)} is below {acid_irr:g} "
            "(outside the range buffered electrodes hold)",
            severity="warning",
        )
    if ph[high] > alkaline_burn:
        yield Hit(
            f"predicted pH {ph[high]:.2f} {where} at {_at(p, high)} is above the alkaline "
            f"burn limit {alkaline_burn:g}"
        )
    elif ph[high] > alkaline_irr:
        yield Hit(
            f"predicted pH {ph[high]:.2f} {where} at {_at(p, high)} is above "
            f"{alkaline_irr:g} (outside the range buffered electrodes hold)",
            severity="warning",
        )


def burn_index(ctx: Context, p: Prediction) -> tuple[float, dict[str, float]]:
    """The burn-risk indicator (-) and its three terms (each value / its reference)."""
    rule = "sim.burn-risk"
    density = float(np.max(np.abs(p.current))) / p.area
    charge = float(p.dose[-1]) / p.area
    excursion = float(np.max(np.abs(p.pH_skin_surface - p.pH_skin_surface[0])))
    terms = {
        "current density": density / _value(ctx, rule, "current_density_ref"),
        "charge density": charge / _value(ctx, rule, "charge_density_ref"),
        "pH excursion": excursion / _value(ctx, rule, "ph_excursion_ref"),
    }
    return sum(terms.values()) / len(terms), terms


@prediction_rule(
    "sim.burn-risk",
    required={
        "current_density_ref": "A/m^2",
        "charge_density_ref": "C/m^2",
        "ph_excursion_ref": DIMENSIONLESS,
        "warning_level": DIMENSIONLESS,
        "error_level": DIMENSIONLESS,
    },
)
def sim_burn_risk(ctx: Context, p: Prediction) -> Iterator[Hit]:
    rule = "sim.burn-risk"
    index, terms = burn_index(ctx, p)
    parts = ", ".join(f"{k} {v:.2f}" for k, v in terms.items())
    text = f"burn-risk indicator {index:.2f} (mean of {parts})"
    error, warning = _value(ctx, rule, "error_level"), _value(ctx, rule, "warning_level")
    if index >= error:
        yield Hit(f"{text} reaches the error level {error:g}")
    elif index >= warning:
        yield Hit(f"{text} reaches the warning level {warning:g}", severity="warning")
    else:
        yield Hit(f"{text} is below the warning level {warning:g}", severity="info")
