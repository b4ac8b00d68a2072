"""Rules checked on the simulated treatment (``prediction = true`` in rules.toml).

They see the :class:`ionto.plan.predict.run.Prediction` of the whole circuit and check
each electrode: ``sim.ph`` the pH of the pad at the skin surface under the active and
under the indifferent electrode; ``sim.burn-risk`` the engine's exposure indicators of
each site (``Result.exposure``: peak local current density and local charge density)
with the largest pH excursion at that site's skin surface. The engine's own pH
excursion is taken at the electrode face, the far side of a millimetre of pad, which is
not what the skin sees; the skin-surface pH is the one ``sim.ph`` also judges. Units:
pH dimensionless, current density A/m^2, charge density C/m^2.
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


SIDES = ("active", "indifferent")


def _where(p: Prediction, side: str) -> str:
    s = p.scenario
    if side == "active":
        return f"at the skin surface under the active electrode ({s.polarity}, {s.electrode})"
    other = "cathode" if s.polarity == "anode" else "anode"
    return (
        f"at the skin surface under the indifferent electrode ({other}, {s.indifferent_electrode})"
    )


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
    acid_burn, alkaline_burn = _value(ctx, rule, "acid_burn"), _value(ctx, rule, "alkaline_burn")
    acid_irr = _value(ctx, rule, "acid_irritation")
    alkaline_irr = _value(ctx, rule, "alkaline_irritation")
    for side in SIDES:
        ph = p.pH_skin_surface if side == "active" else p.pH_indifferent_skin_surface
        where = _where(p, side)
        low, high = int(np.argmin(ph)), int(np.argmax(ph))
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
                f"predicted pH {ph[high]:.2f} {where} at {_at(p, high)} is above the "
                f"alkaline burn limit {alkaline_burn:g}"
            )
        elif ph[high] > alkaline_irr:
            yield Hit(
                f"predicted pH {ph[high]:.2f} {where} at {_at(p, high)} is above "
                f"{alkaline_irr:g} (outside the range buffered electrodes hold)",
                severity="warning",
            )


def burn_index(ctx: Context, p: Prediction, side: str = "active") -> tuple[float, dict[str, float]]:
    """The burn-risk indicator (-) at one electrode (``"active"`` or ``"indifferent"``)
    and its three terms (each value / its reference): the engine's peak local current
    density and local charge density there, and the pH excursion at its skin surface."""
    rule = "sim.burn-risk"
    exposure = p.site_exposure(side)
    terms = {
        "current density": exposure["current density"] / _value(ctx, rule, "current_density_ref"),
        "charge density": exposure["charge density"] / _value(ctx, rule, "charge_density_ref"),
        "pH excursion": p.skin_ph_excursion(side) / _value(ctx, rule, "ph_excursion_ref"),
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
    error, warning = _value(ctx, rule, "error_level"), _value(ctx, rule, "warning_level")
    for side in SIDES:
        index, terms = burn_index(ctx, p, side)
        parts = ", ".join(f"{k} {v:.2f}" for k, v in terms.items())
        text = f"burn-risk indicator under the {side} electrode {index:.2f} (mean of {parts})"
        if index >= error:
            yield Hit(f"{text} reaches the error level {error:g}")
        elif index >= warning:
            yield Hit(f"{text} reaches the warning level {warning:g}", severity="warning")
        else:
            yield Hit(f"{text} is below the warning level {warning:g}", severity="info")
