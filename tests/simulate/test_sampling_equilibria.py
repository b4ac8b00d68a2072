"""Sampling a receptor whose contents are in fast acid-base equilibrium: the totals mix
exactly (a tenth replaced by fresh buffer), the free concentrations are re-solved from
them, so the receptor's pH jumps towards the fresh buffer's, and every balance, the
proton total included, stays closed to round-off."""

from __future__ import annotations

import math
import tomllib
from typing import Any

import pytest

from ionto.simulate.scenario import problem_from_dict
from ionto.simulate.simulation import simulate

pytestmark = pytest.mark.engine

# an inert anode in the donor makes acid that crosses a membrane into a buffered receptor
CELL = """
schema_version = 1
title = "donor (inert anode) | membrane | phosphate-buffered receptor, sampled at 2 h"
temperature = "32 degC"
electroneutral_species = "Cl-"
electrode_area = "1 cm^2"

[[species]]
name = "Na+"
charge = 1
diffusivity = "1.33e-9 m^2/s"

[[species]]
name = "Cl-"
charge = -1
diffusivity = "2.03e-9 m^2/s"

[[species]]
name = "H+"
charge = 1
diffusivity = "9.31e-9 m^2/s"

[[species]]
name = "OH-"
charge = -1
diffusivity = "5.27e-9 m^2/s"

[[species]]
name = "H2PO4-"
charge = -1
diffusivity = "0.959e-9 m^2/s"

[[species]]
name = "HPO4--"
charge = -2
diffusivity = "0.759e-9 m^2/s"

[[equilibria]]
name = "water"
kind = "water"

[[equilibria]]
name = "phosphate"
kind = "acid"
acid = "H2PO4-"
base = "HPO4--"
pK = 7.2

[[layers]]
name = "membrane"
thickness = "100 um"
diffusivity_factor = 0.1
initial = { "Na+" = "150 mM", "HPO4--" = "2 mM" }
initial_pH = 7.4

[boundary.left]
type = "reservoir"
electrode = "inert"
volume = "1 mL"
initial = { "Na+" = "150 mM", "HPO4--" = "2 mM" }
initial_pH = 7.4

[boundary.right]
type = "reservoir"
electrode = "Ag/AgCl"
volume = "5 mL"
initial = { "Na+" = "150 mM", "HPO4--" = "2 mM" }
initial_pH = 7.4

[[control]]
duration = "4 h"
current_density = "0.1 mA/cm^2"

[[sampling]]
times = ["2 h"]
volume = "0.5 mL"

[solver]
rtol = 1e-6
atol = "1e-9 mol/m^3"
"""


def _report(name: str, quantity: str, side: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "quantity": quantity, "time": "2 h", "side": side, **extra}


@pytest.fixture(scope="module")
def result() -> Any:
    data = tomllib.loads(CELL)
    at_receptor = {"layer": "membrane", "depth": "100 um"}
    data["report"] = [
        *(_report(f"pH_{s}", "pH", s, at=at_receptor) for s in ("before", "after")),
        *(
            _report(f"{name}_{s}", "amount", s, species=sp, total=True, reservoir="right")
            for s in ("before", "after")
            for name, sp in (("protons", "H+"), ("phosphate", "HPO4--"), ("sodium", "Na+"))
        ),
    ]
    return simulate(problem_from_dict(data))


def test_the_receptor_had_acidified_before_the_sample(result: Any) -> None:
    r = result.reports
    assert r["pH_before"] < 7.4 - 0.05  # the acid of the anode reached the receptor
    assert r["protons_before"] > 0.0


def test_totals_mix_exactly_and_the_ph_moves_towards_the_fresh_buffer(result: Any) -> None:
    """A tenth of the receptor (0.5 of 5 mL) is replaced by fresh buffer of the initial
    composition, whose amounts per electrode area are 0.5 mL x concentration / 1 cm^2:
    each conserved total after the sample is 0.9 x before + the fresh tenth. The free
    H+ is re-solved from the mixed totals, so the pH lands between the acidified
    receptor's and the fresh buffer's (7.4), nearer the former."""
    r = result.reports
    tenth = 0.5e-6 / 1e-4  # m^3 per m^2: the fresh solution's volume per area
    # fresh buffer at pH 7.4: its proton total is H2PO4- + H+ - OH- (the phosphate acid
    # fraction at pK 7.2), sodium 150 mM, phosphate 2 mM
    acid = 2.0 / (1.0 + 10 ** (7.4 - 7.2))
    h, oh = 1000 * 10**-7.4, 1000 * 10 ** (7.4 - 14.0)  # mol/m^3 (Kw at 25 C: 1e-14)
    fresh_protons = acid + h - oh
    assert r["phosphate_after"] == pytest.approx(
        0.9 * r["phosphate_before"] + tenth * 2.0, rel=1e-12
    )
    assert r["sodium_after"] == pytest.approx(0.9 * r["sodium_before"] + tenth * 150.0, rel=1e-12)
    assert r["protons_after"] == pytest.approx(
        0.9 * r["protons_before"] + tenth * fresh_protons, rel=1e-4
    )
    assert r["pH_before"] < r["pH_after"] < 7.4
    assert (r["pH_after"] - r["pH_before"]) < (7.4 - r["pH_after"])


def test_every_balance_closes_with_equilibria_and_sampling(result: Any) -> None:
    assert set(result.balance) >= {"H+", "HPO4--", "Na+"}
    assert max(result.balance.values()) < 1e-12
    assert all(math.isfinite(v) for v in result.reports.values())
