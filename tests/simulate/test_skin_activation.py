"""Skin resistance that falls under current and recovers after (claim P4; validation
case curdy2000_impedance_recovery_in_vivo): a layer's conduction opens with the charge
passed through it and closes with a recovery time constant."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
from nacl_barrier_helpers import NACL, T, gel_barrier_tissue

from ionto.simulate.problem import (
    FARADAY,
    GAS_CONSTANT,
    Activation,
    ElectrodeBoundary,
    ElectrodeReaction,
    Layer,
    MeshSpec,
    Problem,
    Reaction,
    ReportSpec,
    ReservoirBoundary,
    Segment,
    SolverSpec,
    Species,
)
from ionto.simulate.scenario import load_problem
from ionto.simulate.simulation import simulate

F_T = FARADAY / (GAS_CONSTANT * T)
ACT = Activation(gain=20.0, charge=50.0, tau_off=300.0)
I_ON, T_ON, T_OFF = 5.0, 60.0, 600.0
SC = (20e-6, 1e-3)  # thickness, hindrance


def _alpha(t: float) -> float:
    """Exact activation under I_ON for T_ON s, then rest."""
    rate = I_ON / ACT.charge
    a_inf = rate / (rate + 1.0 / ACT.tau_off)
    if t <= T_ON:
        return a_inf * (1.0 - math.exp(-(rate + 1.0 / ACT.tau_off) * t))
    return _alpha(T_ON) * math.exp(-(t - T_ON) / ACT.tau_off)


def _uniform(control: tuple[Segment, ...], reports: tuple[ReportSpec, ...]) -> Problem:
    barrier = Layer("sc", SC[0], SC[1], initial={"Na+": 150.0}, activation=ACT)
    return gel_barrier_tissue(barrier, control, reports)


def test_P4_current_alone_opens_the_barrier_exactly_as_its_activation_law() -> None:
    """Uniform saline (no drug) between baths, 5 A/m^2 for 60 s, then 10 min of rest:
    the barrier's resistance is R_rest / (1 + gain a(t)) with the exact a(t) of
    da/dt = (i/q)(1 - a) - a/tau, and the voltage under current follows."""
    reports = (
        ReportSpec("r0", "resistance", 0.0, region=(100e-6, 120e-6)),
        ReportSpec("r_on", "resistance", T_ON, region=(100e-6, 120e-6), side="before"),
        ReportSpec("r_off", "resistance", T_ON + T_OFF, region=(100e-6, 120e-6)),
        ReportSpec("v_30", "voltage", 30.0),
    )
    result = simulate(_uniform((Segment(T_ON, I_ON, I_ON), Segment(T_OFF, 0.0, 0.0)), reports))
    r = result.reports
    sigma = F_T * FARADAY * (1.33e-9 + 2.03e-9) * 150.0
    assert r["r0"] == pytest.approx(SC[0] / (sigma * SC[1]), rel=1e-12)
    for key, t in (("r_on", T_ON), ("r_off", T_ON + T_OFF)):
        assert r["r0"] / r[key] - 1.0 == pytest.approx(ACT.gain * _alpha(t), rel=1e-6)
    other = (100e-6 + 200e-6 / 0.5) / sigma
    v_exact = I_ON * (other + r["r0"] / (1.0 + ACT.gain * _alpha(30.0)))
    assert r["v_30"] == pytest.approx(v_exact, rel=1e-6)
    assert r["r_on"] < r["r0"] / 5  # current alone lowered the impedance (P4)
    assert max(result.balance.values()) < 1e-12


def test_P4_voltage_control_self_reinforces() -> None:
    """Under a constant voltage, opening the barrier raises the current, which opens it
    faster (van Boxtel 1977): the current rises over time, and the balances close."""
    reports = (ReportSpec("i0", "current", 0.0), ReportSpec("i_end", "current", 60.0))
    result = simulate(_uniform((Segment(60.0, 0.05, 0.05, mode="voltage"),), reports))
    assert result.reports["i_end"] > 3.0 * result.reports["i0"]
    assert max(result.balance.values()) < 1e-12


def test_P4_activation_in_a_two_site_circuit_balances_to_round_off() -> None:
    """Both sites' barriers open with their own current densities (10 and 25 cm^2)
    under ramps, pulses, reversal, voltage control and rest; every balance closes to
    round-off and the smaller (active) site opens more."""
    agcl = ElectrodeReaction("Ag/AgCl", {"Cl-": -1.0}, {"Cl-": 1.0})
    species = (Species("D+", 1, 6e-10), Species("M+", 1, 6e-10), *NACL)
    barrier = Layer(
        "barrier",
        20e-6,
        1e-3,
        fixed_charge=-30.0,
        initial={"Na+": 150.0},
        reaction_rates={"met": 2e-3},
        activation=ACT,
    )
    tissue = Layer("tissue", 300e-6, 0.5, exchange_rate=1e-3, initial={"Na+": 150.0})
    a1, a2 = 10e-4, 25e-4
    layers = (
        Layer("gel", 300e-6, initial={"D+": 50.0, "Na+": 10.0}, area=a1),
        dataclasses.replace(barrier, area=a1),
        dataclasses.replace(tissue, area=a1),
        Layer("body", 2e-3, exchange_rate=1e-2, initial={"Na+": 150.0}, area=2e-4),
        dataclasses.replace(tissue, name="i_tissue", area=a2),
        dataclasses.replace(barrier, name="i_barrier", area=a2),
        Layer("i_gel", 300e-6, initial={"Na+": 150.0}, area=a2),
    )
    control = (
        Segment(10.0, 0.0, 5.0),
        Segment(30.0, 5.0, 5.0),
        *[Segment(2.0, 8.0 * (k % 2 == 0), 8.0 * (k % 2 == 0)) for k in range(6)],
        Segment(20.0, 0.3, 0.3, mode="voltage"),
        Segment(20.0, -3.0, -3.0),
        Segment(60.0, 0.0, 0.0),
    )
    problem = Problem(
        species=species,
        electroneutral_species="Cl-",
        layers=layers,
        left=ReservoirBoundary(1e-3, {"D+": 50.0, "Na+": 10.0}, agcl),
        right=ElectrodeBoundary(agcl),
        control=control,
        mesh=MeshSpec(min_cell=0.5e-6, max_cell=40e-6, growth=1.3),
        electroosmotic_coefficient=3e-9,
        exchange_concentrations={"Na+": 150.0},
        reactions=(Reaction("met", "D+", "M+"),),
        solver=SolverSpec(rtol=1e-5, atol=1e-6),
        reports=(
            ReportSpec("r_act", "resistance", 96.0, region=(300e-6, 320e-6), side="before"),
            ReportSpec("r_act0", "resistance", 0.0, region=(300e-6, 320e-6)),
        ),
    )
    result = simulate(problem)
    assert max(result.balance.values()) < 1e-12
    assert result.reports["r_act"] < 0.5 * result.reports["r_act0"]


ROOT = Path(__file__).resolve().parents[2]


def test_P4_curdy2000_impedance_recovers_about_threefold_in_30_min(tmp_path: Path) -> None:
    """Validation case curdy2000_impedance_recovery_in_vivo: skin impedance 30 min after
    iontophoresis is ~3x the value right after the current stops. The human forearm set
    (R_rest/R_min = 37.5 from rosell1988/ccac, recovery time 30 min as read from Curdy,
    activation charge [U]) after 40 mA*min on 10 cm^2 of NaCl predicts a ratio of about
    2.5: reported, not fitted."""
    text = (ROOT / "examples" / "lidocaine_forearm.toml").read_text()
    text = text.replace('initial = { "Lid+" = "74 mM" }', 'initial = { "Na+" = "133 mM" }')
    text = text.replace(
        'tissue = { "Na+" = "140 mM" }',
        'tissue = { "Na+" = "140 mM" }\nconductance_activation = true',
    )
    lid = '[[species]]\nname = "Lid+"\ncharge = 1\ndiffusivity = "6.0e-10 m^2/s"\n\n'
    assert lid in text
    text = text.replace(lid, "")
    cut = text.index("[[systemic]]")
    end = text.index("[exchange]")
    text = text[:cut] + text[end:]
    text = text[: text.index("[[report]]")]
    text = text.replace('"Lid+" = "0 mM", ', "")
    text += """
[[report]]
name = "r_after"
quantity = "resistance"
region = "stratum_corneum"
time = "10.5 min"

[[report]]
name = "r_30"
quantity = "resistance"
region = "stratum_corneum"
time = "40.5 min"

[[report]]
name = "r_rest"
quantity = "resistance"
region = "stratum_corneum"
time = "0 min"
"""
    path = tmp_path / "curdy.toml"
    path.write_text(text)
    result = simulate(load_problem(path))
    r = result.reports
    ratio = r["r_30"] / r["r_after"]
    assert 2.0 < ratio < 4.0, ratio  # measured "approximately 3"
    assert r["r_after"] < r["r_rest"] / 10  # the barrier opened under current
    assert max(result.balance.values()) < 1e-12


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        ('smoothing = "0 um"', 'smoothing = "0.5 um"', "smoothing"),
        ('type = "human"', 'type = "no_activation"', "activation data"),
    ],
)
def test_bad_activation_input(old: str, new: str, match: str, tmp_path: Path) -> None:
    """Activation needs sharp layers and a skin type with activation data."""
    from ionto.core.errors import ConfigError

    text = (ROOT / "examples" / "lidocaine_forearm.toml").read_text()
    text = text.replace(
        'tissue = { "Na+" = "140 mM" }',
        'tissue = { "Na+" = "140 mM" }\nconductance_activation = true',
    )
    if new.startswith("type"):  # a user skin type: the porcine set without activation data
        import tomllib

        import tomli_w

        from ionto.simulate.params.loader import DATA

        porcine = tomllib.loads((DATA / "skin.toml").read_text())["skin"]["porcine"]
        for name in ("sc_activation_charge", "sc_recovery_time"):
            del porcine["values"][name]
        (tmp_path / "params.toml").write_text(tomli_w.dumps({"skin": {"no_activation": porcine}}))
        text = text.replace('site = "forearm"\n', 'file = "params.toml"\n', 1)
    assert old in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ConfigError, match=match):
        load_problem(path)
