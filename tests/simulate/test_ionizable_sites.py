"""Fixed charge that follows the local pH: immobile ionizable sites (D = 0) in fast
equilibrium with H+, with an isoelectric point; the membrane's permselectivity reverses
below it (Marro 2001: human skin pI ~4.8)."""

from __future__ import annotations

import math

import pytest

from ionto.simulate.problem import (
    Equilibrium,
    FixedBoundary,
    Layer,
    MeshSpec,
    Problem,
    ReportSpec,
    Segment,
    SolverSpec,
    Species,
)
from ionto.simulate.simulation import simulate

KW = 1e-8
# carboxylate (pKa 4.0) and amine (pKa 5.6) sites: X = 0 at pH (4.0 + 5.6) / 2 = 4.8
KA_ACID = 1000.0 * 10**-4.0
KA_BASE = 1000.0 * 10**-5.6
SPECIES = (
    Species("Na+", 1, 1.33e-9),
    Species("Cl-", -1, 2.03e-9),
    Species("H+", 1, 9.31e-9),
    Species("OH-", -1, 5.27e-9),
    Species("COO-", -1, 0.0),  # immobile sites
    Species("COOH", 0, 0.0),
    Species("NH2", 0, 0.0),
    Species("NH3+", 1, 0.0),
)
EQUILIBRIA = (
    Equilibrium("water", "OH-", {"H+": -1.0}, KW),
    Equilibrium("carboxyl", "COOH", {"COO-": 1.0, "H+": 1.0}, 1.0 / KA_ACID),
    Equilibrium("amine", "NH3+", {"NH2": 1.0, "H+": 1.0}, 1.0 / KA_BASE),
)


def _sites_charge(ph: float, n: float = 50.0) -> float:
    h = 1000.0 * 10**-ph
    return -n * KA_ACID / (KA_ACID + h) + n * h / (KA_BASE + h)


def _transport_number_na(ph: float) -> float:
    """Na+ transport number through the charged membrane between two 10 mM NaCl baths
    held at a pH, under a small current."""
    salt = {"Na+": 10.0}
    # start near the Donnan state: enough Na+ to balance negative sites
    sites = {"COO-": 50.0, "NH2": 50.0, "Na+": 10.0 + max(0.0, -_sites_charge(ph))}
    problem = Problem(
        species=SPECIES,
        electroneutral_species="Cl-",
        layers=(
            Layer("bath1", 50e-6, initial=salt, initial_pH=ph),
            Layer("membrane", 30e-6, 0.1, initial=sites, initial_pH=ph),
            Layer("bath2", 50e-6, initial=salt, initial_pH=ph),
        ),
        left=FixedBoundary(salt, pH=ph),
        right=FixedBoundary(salt, pH=ph),
        control=(Segment(3000.0, 0.5, 0.5),),
        mesh=MeshSpec(0.5e-6, 5e-6, 1.2),
        equilibria=EQUILIBRIA,
        reports=(
            ReportSpec("t_na", "transport_number", 3000.0, "Na+", position=80e-6, side="before"),
        ),
        solver=SolverSpec(rtol=1e-5, atol=1e-8),
    )
    return simulate(problem).reports["t_na"]


def test_site_charge_has_its_isoelectric_point() -> None:
    assert _sites_charge(4.8) == pytest.approx(0.0, abs=1e-9)
    assert _sites_charge(7.4) < -40.0 and _sites_charge(3.0) > 20.0


def test_permselectivity_reverses_below_the_isoelectric_point() -> None:
    """Free solution: t_Na = D_Na / (D_Na + D_Cl) = 0.40. Above the pI the negative
    membrane favours Na+, below it the positive membrane favours Cl-."""
    free = 1.33 / (1.33 + 2.03)
    t_high, t_low = _transport_number_na(7.4), _transport_number_na(3.0)
    assert t_high > free + 0.3
    assert t_low < free - 0.2
    assert math.isfinite(t_high) and math.isfinite(t_low)
