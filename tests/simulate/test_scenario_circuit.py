"""``[circuit]`` and ``compliance_voltage`` in the scenario format: a treatment with an
active and an indifferent site in series through the body (claim P3)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from ionto.core.errors import ConfigError
from ionto.simulate.scenario import load_problem, problem_from_dict
from ionto.simulate.simulation import simulate

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "two_site_lidocaine.toml"


def test_P3_chain_of_the_example() -> None:
    """Active gel and skin on 10 cm^2, the body, the indifferent skin reversed (dermis
    first) and its sponge on 40 cm^2; the body's cross-section gives 500 ohm with the
    blood's conductivity."""
    problem = load_problem(EXAMPLE)
    names = [layer.name for layer in problem.layers]
    assert names == [
        "gel",
        "stratum_corneum",
        "viable_epidermis",
        "dermis",
        "body",
        "indifferent_dermis",
        "indifferent_viable_epidermis",
        "indifferent_stratum_corneum",
        "sponge",
    ]
    areas = [layer.area for layer in problem.layers]
    assert areas[:4] == [pytest.approx(10e-4)] * 4
    assert areas[5:] == [pytest.approx(40e-4)] * 4
    assert problem.reference_area == pytest.approx(10e-4)
    assert problem.compliance_voltage == pytest.approx(40.0)
    assert problem.layers[4].exchange_rate > 0


@pytest.fixture(scope="module")
def example_result() -> Any:
    return simulate(load_problem(EXAMPLE))


def test_P3_both_sites_have_their_own_pH_and_the_body_its_resistance(
    example_result: Any,
) -> None:
    """The silver anode holds the active site's pH; the carbon cathode makes the
    indifferent site alkaline, through its sponge to its skin. The potential drop across
    the body over the current is the body resistance (500 ohm) to 2 %, the rest falls
    across the two skins. Every balance closes to round-off, and the drug does not
    reach the indifferent site."""
    r = example_result.reports
    assert 7.0 < r["pH_active_electrode_10min"] < 7.8
    assert r["pH_indifferent_electrode_10min"] > 10.0
    assert 8.0 < r["pH_indifferent_skin_surface_10min"] < r["pH_indifferent_electrode_10min"]
    current = r["current_5min"] * 10e-4  # A/m^2 of the active electrode -> A
    body = (r["potential_body_top_5min"] - r["potential_body_bottom_5min"]) / current
    assert body == pytest.approx(500.0, rel=0.02)
    assert r["voltage_5min"] > 10 * body * current  # the skins dominate
    assert max(example_result.balance.values()) < 1e-12
    assert r["lidocaine_reaching_indifferent_site"] < 1e-9 * r["lidocaine_into_skin_end"]
    # each site has its own impedance: the indifferent skin (saline, 40 cm^2) keeps a
    # specific resistance near the forearm's 30 kohm cm^2 at rest (per active m^2 x 4),
    # the active one (loaded with the less mobile lidocaine) is far higher
    specific_indifferent = 4.0 * r["resistance_indifferent_skin_5min"]  # ohm m^2
    assert 1.0 < specific_indifferent < 10.0
    assert r["resistance_active_skin_5min"] > 2.0 * specific_indifferent


def test_P3_compliance_limits_the_example(example_result: Any) -> None:
    """4 mA into two skins in series needs more than 40 V here: the source holds 40 V
    and passes less than the set charge (40 mA*min on 10 cm^2 = 2400 C/m^2)."""
    assert example_result.reports["voltage_5min"] == pytest.approx(40.0, rel=1e-9)
    summary = example_result.summary()
    assert summary["time at the source's limit [s]"] > 60.0
    assert summary["charge passed [C/m^2]"] < 2400.0
    # the exposure's charge densities: the same charge over each site's own area (P10)
    left = summary["charge density at the left (active) electrode [C/m^2]"]
    right = summary["charge density at the right (indifferent) electrode [C/m^2]"]
    assert left == pytest.approx(summary["charge passed [C/m^2]"], rel=1e-12)
    assert right == pytest.approx(left / 4.0, rel=1e-12)


TAP_WATER = """
schema_version = 1
title = "tap water, both palms in trays, 15 V"
electroneutral_species = "Cl-"
electrode_area = "100 cm^2"

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

[[equilibria]]
name = "water"
kind = "water"

[[layers]]
name = "tray_water"
thickness = "5 mm"
initial = { "Na+" = "2 mM" }
max_cell = "200 um"

[skin]
type = "human"
site = "palm"
tissue = { "Na+" = "140 mM" }
max_cell = "50 um"

[circuit]

[circuit.indifferent]
area = "100 cm^2"

[[circuit.indifferent.layers]]
name = "tray_water_2"
thickness = "5 mm"
initial = { "Na+" = "2 mM" }
max_cell = "200 um"

[exchange]
concentrations = { "Na+" = "140 mM" }

[boundary.left]
type = "electrode"
electrode = "inert"

[boundary.right]
type = "electrode"
electrode = "inert"

[[control]]
duration = "10 min"
voltage = "15 V"

[mesh]
min_cell = "0.2 um"
max_cell = "20 um"
growth = 1.2

[solver]
rtol = 1e-4
atol = "1e-4 mol/m^3"

[[report]]
name = "i_1"
quantity = "current"
time = "1 min"

[[report]]
name = "i_10"
quantity = "current"
time = "10 min"
side = "before"

[[report]]
name = "pH_anode"
quantity = "pH"
species = "H+"
at = { layer = "tray_water", depth = "0 mm" }
time = "10 min"
side = "before"

[[report]]
name = "pH_cathode"
quantity = "pH"
species = "H+"
at = { layer = "tray_water_2", depth = "5 mm" }
time = "10 min"
side = "before"
"""


def _data(text: str = TAP_WATER) -> dict[str, Any]:
    return tomllib.loads(text)


def test_P3_tap_water_under_voltage_control() -> None:
    """Tap water devices set a voltage: both palms in trays at 15 V; the current follows
    from the two palms' skins and the body in series (the body resistance from the skin
    set), acid forms at the anode tray and alkali at the cathode tray."""
    problem = problem_from_dict(_data())
    result = simulate(problem)
    r = result.reports
    current_ma = r["i_1"] * 100e-4 * 1e3
    assert 0.1 < current_ma < 100.0
    assert r["pH_anode"] < 5.0 and r["pH_cathode"] > 9.0
    assert max(result.balance.values()) < 1e-12


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda d: d.pop("skin"), "circuit"),
        (lambda d: d.pop("electrode_area"), "electrode_area"),
        (lambda d: d.pop("exchange"), "exchange"),
        (lambda d: d["boundary"].update(right={"type": "fixed", "concentrations": {}}), "right"),
        (lambda d: d["circuit"]["indifferent"].update(site="elbow"), "circuit.indifferent.site"),
        (lambda d: d["circuit"]["indifferent"].update(area="-3 cm^2"), "area"),
        (lambda d: d["circuit"].update(body_resistance="500 V"), "body_resistance"),
        (lambda d: d.update(compliance_voltage="0 V"), "compliance_voltage"),
        (
            lambda d: d["circuit"]["indifferent"]["layers"][0].update(name="tray_water"),
            "duplicate",
        ),
    ],
    ids=[
        "no-skin",
        "no-area",
        "no-blood",
        "fixed-right",
        "unknown-site",
        "negative-area",
        "resistance-unit",
        "zero-compliance",
        "duplicate-layer",
    ],
)
def test_bad_circuit_input(edit: Any, match: str) -> None:
    data = _data()
    edit(data)
    with pytest.raises(ConfigError, match=match):
        problem_from_dict(data)


def test_P3_tap_water_device_holds_its_current_limit() -> None:
    """The same trays behind a voltage source with a 2 mA current limit (Hidrex-style:
    a voltage setpoint with a hard current limit): the current is held at the limit
    while 15 V would drive more, and the exposure's peak is the limit."""
    data = _data()
    data["current_limit"] = "2 mA"
    result = simulate(problem_from_dict(data))
    r = result.reports
    assert r["i_1"] * 100e-4 == pytest.approx(2e-3, rel=1e-9)
    assert result.compliance_intervals and result.compliance_intervals[0][0] == 0.0
    peak = result.exposure["peak current density at the left (active) electrode [A/m^2]"]
    assert peak == pytest.approx(0.2, rel=1e-9)
    assert max(result.balance.values()) < 1e-12


@pytest.mark.engine
def test_P17_tap_water_iontophoresis_of_palms_and_soles() -> None:
    """Tap-water iontophoresis of the palms and of the soles (hyperhidrosis): trays of
    tap water, a voltage source, no drug. Both sites run as two skins and the body in
    series; the sole's stratum corneum (500 um against 250 um, with about the same duct
    density) passes less current at the same 15 V, and the trays turn acid at the anode
    and alkaline at the cathode at both sites."""
    currents = {}
    for site in ("palm", "sole"):
        data = _data()
        data["skin"]["site"] = site
        result = simulate(problem_from_dict(data))
        r = result.reports
        assert r["pH_anode"] < 5.0 and r["pH_cathode"] > 9.0, site
        assert max(result.balance.values()) < 1e-12
        currents[site] = r["i_10"]
    assert 0.2 * currents["palm"] < currents["sole"] < 0.8 * currents["palm"]
