"""A 150 mM NaCl gel | barrier | tissue stack between fixed NaCl baths at 37 C: the
problem the capacitance and conductance-activation tests vary one barrier property of;
and the NaCl + water species set the electrode-capacity tests share."""

from __future__ import annotations

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

NACL = (Species("Na+", 1, 1.33e-9), Species("Cl-", -1, 2.03e-9))
# NaCl with water's H+ and OH- (m^2/s) and the water equilibrium (Kw in (mol/m^3)^2), for
# problems whose electrodes make acid and alkali
NACL_WATER = (*NACL, Species("H+", 1, 9.31e-9), Species("OH-", -1, 5.27e-9))
WATER = (Equilibrium("water", "OH-", {"H+": -1.0}, 1e-8),)
T = 310.15  # K


def gel_barrier_tissue(
    barrier: Layer, control: tuple[Segment, ...], reports: tuple[ReportSpec, ...]
) -> Problem:
    """100 um gel, ``barrier``, 200 um tissue (hindrance 0.5), all 150 mM NaCl; tight
    tolerances (rtol 1e-8) for comparisons with exact laws."""
    return Problem(
        species=NACL,
        electroneutral_species="Cl-",
        layers=(
            Layer("gel", 100e-6, initial={"Na+": 150.0}),
            barrier,
            Layer("tissue", 200e-6, 0.5, initial={"Na+": 150.0}),
        ),
        left=FixedBoundary({"Na+": 150.0}),
        right=FixedBoundary({"Na+": 150.0}),
        control=control,
        mesh=MeshSpec(min_cell=0.5e-6, max_cell=20e-6, growth=1.2),
        reports=reports,
        solver=SolverSpec(rtol=1e-8, atol=1e-10),
        temperature=T,
    )
