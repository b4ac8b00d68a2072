"""Perfusion that rises under current and with a vasodilator (claims P9, P13, P19): a
layer's exchange with the blood scales by 1 + gain p, with p driven by the local charge
passed and by a drug's level, and relaxing after."""

from __future__ import annotations

import dataclasses
import math

import pytest

from ionto.simulate.problem import (
    ElectrodeBoundary,
    ElectrodeReaction,
    Hyperaemia,
    Layer,
    MeshSpec,
    Problem,
    ReportSpec,
    ReservoirBoundary,
    Segment,
    SolverSpec,
    Species,
    Systemic,
)
from ionto.simulate.simulation import simulate

AGCL = ElectrodeReaction("Ag/AgCl", {"Cl-": -1.0}, {"Cl-": 1.0})
NACL = (Species("Na+", 1, 1.33e-9), Species("Cl-", -1, 2.03e-9))
HYP = Hyperaemia(gain=4.0, charge=100.0, tau_off=600.0)
CM2 = 1e-4


def _circuit(hyp: Hyperaemia | None, control: tuple[Segment, ...], **kw: object) -> Problem:
    """gel | barrier | dermis (10 cm^2) | body | dermis | barrier | gel (40 cm^2)."""
    species = (Species("D+", 1, 6e-10), *NACL)
    site = (
        Layer("barrier", 20e-6, 1e-3, fixed_charge=-30.0, initial={"Na+": 150.0}),
        Layer("dermis", 500e-6, 0.4, exchange_rate=1e-3, initial={"Na+": 150.0}, hyperaemia=hyp),
    )
    a1, a2 = 10 * CM2, 40 * CM2
    layers = (
        Layer("gel", 500e-6, initial={"D+": 50.0, "Na+": 100.0}, area=a1),
        *(dataclasses.replace(la, area=a1) for la in site),
        Layer("body", 2e-3, exchange_rate=1e-2, initial={"Na+": 150.0}, area=2 * CM2),
        *(dataclasses.replace(la, name="i_" + la.name, area=a2) for la in reversed(site)),
        Layer("i_gel", 500e-6, initial={"Na+": 150.0}, area=a2),
    )
    base = Problem(
        species=species,
        electroneutral_species="Cl-",
        layers=layers,
        left=ElectrodeBoundary(AGCL),
        right=ElectrodeBoundary(AGCL),
        control=control,
        mesh=MeshSpec(min_cell=0.5e-6, max_cell=40e-6, growth=1.3),
        electroosmotic_coefficient=2e-9,
        exchange_concentrations={"Na+": 150.0},
        solver=SolverSpec(rtol=1e-6, atol=1e-8),
    )
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


ACTIVE = (520e-6, 1020e-6)
INDIFFERENT = (3020e-6, 3520e-6)


def test_P9_perfusion_rises_under_both_electrodes_and_decays_after() -> None:
    """Reactive hyperaemia under both electrodes: 5 A/m^2 (of the active area) for 5 min,
    then 20 min of rest. The active dermis, with four times the current density, dilates
    more than the indifferent one; both follow p' = (|i_local|/q)(1 - p) - p/tau exactly,
    and relax after the current stops. Every balance closes to round-off."""
    t_on, t_off = 300.0, 1200.0
    reports = tuple(
        ReportSpec(f"{name}_{t:g}", "perfusion", t, region=region)
        for name, region in (("act", ACTIVE), ("ind", INDIFFERENT))
        for t in (t_on, t_on + t_off)
    )
    result = simulate(
        _circuit(HYP, (Segment(t_on, 5.0, 5.0), Segment(t_off, 0.0, 0.0)), reports=reports)
    )
    r = result.reports

    def exact(i_local: float, t: float) -> float:
        rate = i_local / HYP.charge + 1.0 / HYP.tau_off
        p_on = i_local / HYP.charge / rate * (1.0 - math.exp(-rate * min(t, t_on)))
        p = p_on * math.exp(-max(t - t_on, 0.0) / HYP.tau_off)
        return 1.0 + HYP.gain * p

    for name, local in (("act", 5.0), ("ind", 5.0 / 4.0)):
        for t in (t_on, t_on + t_off):
            assert r[f"{name}_{t:g}"] == pytest.approx(exact(local, t), rel=1e-6)
    assert r[f"act_{t_on:g}"] > r[f"ind_{t_on:g}"] > 1.5
    assert r[f"act_{t_on + t_off:g}"] < r[f"act_{t_on:g}"]
    assert max(result.balance.values()) < 1e-12


def test_P13_hyperaemia_lowers_deep_tissue_drug_and_raises_uptake() -> None:
    """With current-induced hyperaemia the dermis clears more drug to the blood (plasma
    rises) and less of it reaches the deep dermis than with a fixed perfusion."""
    control = (Segment(600.0, 5.0, 5.0), Segment(600.0, 0.0, 0.0))
    deep = (820e-6, 1020e-6)
    kw = {
        "systemic": (Systemic("D+", 0.01, 1e-6),),
        "treated_area": 10 * CM2,
        "reports": (
            ReportSpec("deep", "amount", 1200.0, "D+", region=deep),
            ReportSpec("plasma", "plasma", 1200.0, "D+"),
        ),
    }
    fixed = simulate(_circuit(None, control, **kw))
    dilated = simulate(_circuit(HYP, control, **kw))
    assert dilated.reports["plasma"] > 1.2 * fixed.reports["plasma"]
    assert dilated.reports["deep"] < 0.9 * fixed.reports["deep"]
    assert max(dilated.balance.values()) < 1e-12


def test_P19_acetylcholine_steps_dilate_beyond_the_current_alone() -> None:
    """Stepped anodal currents with acetylcholine under the anode (a reservoir) and a
    perfusion response: the vasodilator adds to the current's own hyperaemia, and the
    response saturates with the drug level (Emax)."""
    ach = Hyperaemia(gain=4.0, charge=1e6, tau_off=600.0, drug="D+", drug_ec50=0.05, drug_rate=0.02)
    steps = tuple(
        seg for k in range(4) for seg in (Segment(20.0, 1.0, 1.0), Segment(60.0, 0.0, 0.0))
    ) + (Segment(600.0, 0.0, 0.0),)
    reports = tuple(
        ReportSpec(f"p_{t:g}", "perfusion", t, region=ACTIVE) for t in (80.0, 320.0, 920.0)
    )
    left = ReservoirBoundary(0.5e-3, {"D+": 10.0, "Na+": 140.0}, AGCL)
    with_ach = simulate(_circuit(ach, steps, reports=reports, left=left)).reports
    current_only = dataclasses.replace(ach, drug=None, drug_rate=0.0)
    without = simulate(_circuit(current_only, steps, reports=reports, left=left)).reports
    assert with_ach["p_80"] > without["p_80"]
    assert with_ach["p_320"] > with_ach["p_80"] > 1.0  # each step adds
    assert with_ach["p_320"] < 1.0 + ach.gain  # bounded by the maximal dilation
    assert abs(without["p_320"] - 1.0) < 1e-3  # 80 C/m^2 does little on its own here
