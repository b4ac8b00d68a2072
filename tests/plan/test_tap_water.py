"""Tap water's carbonate buffer in plan predictions (ionto.plan.predict.tap_water): the
scenario carries the sourced carbonate system, the trays' pH follows the carbonate
equilibria, and a plan sets the water's alkalinity."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from plan_helpers import plan_of
from scipy.optimize import brentq

from ionto.core.errors import ConfigError
from ionto.plan.library import builtin_library
from ionto.plan.predict.defaults import DEFAULTS_FILE, Defaults, builtin_defaults
from ionto.plan.predict.run import Prediction, predict
from ionto.plan.predict.scenario import plan_scenario, scenario_toml
from ionto.plan.predict.tap_water import Carbonate, TapWater
from ionto.simulate.scenario import load_problem, problem_from_dict

pytestmark = pytest.mark.engine

FARADAY = 96485.33212


def _mol_m3(text: str) -> float:
    value, unit = text.split(maxsplit=1)
    assert unit == "mol/m^3"
    return float(value)


def _ph_of(carbonate: Carbonate, dic: float, proton: float) -> float:
    """pH of water with ``dic`` carbonate and proton total H+ - OH- + HCO3- + 2 CO2
    (mol/m^3), pKw 14: the closed-form state of a well-mixed bath."""

    def excess(ph: float) -> float:
        h, k1, k2 = 10.0**-ph, 10.0**-carbonate.pk1, 10.0**-carbonate.pk2
        d = h * h + k1 * h + k1 * k2
        bound = dic * (k1 * h + 2.0 * h * h) / d
        return 1000.0 * (h - 1e-14 / h) + bound - proton

    return float(brentq(excess, 2.0, 13.0, xtol=1e-10))


def test_carbonate_data_is_sourced_and_textbook() -> None:
    d = builtin_defaults()
    c = d.carbonate()
    assert c.pk1 == pytest.approx(6.35) and c.pk2 == pytest.approx(10.33)
    assert c.diffusivity == pytest.approx({"HCO3-": 1.185e-9, "CO3--": 0.923e-9, "CO2": 1.91e-9})
    sources = builtin_library().sources
    entries = [*d.data.defaults.values(), d.data.carbonate.pK1, d.data.carbonate.pK2]
    entries += d.data.carbonate.diffusivity.values()
    for entry in entries:  # every value of prediction.toml names sources of the library
        assert all(key in sources for key in entry.source), entry
    alkalinity = d.entry("tap_water_alkalinity")
    assert alkalinity.confidence == "I" and "0.5-5 mM" in alkalinity.note
    assert 0.5 <= d.value("tap_water_alkalinity") <= 5.0


def test_speciation_holds_the_alkalinity_and_the_mass_action() -> None:
    c = builtin_defaults().carbonate()
    for alkalinity, ph in ((2.0, 8.0), (0.5, 7.0), (60.0, 9.5)):
        co2, hco3, co3 = c.speciation(alkalinity, ph)
        assert hco3 + 2 * co3 == pytest.approx(alkalinity, rel=1e-12)
        assert ph == pytest.approx(c.pk1 + math.log10(hco3 / co2), abs=1e-12)
        assert ph == pytest.approx(c.pk2 + math.log10(co3 / hco3), abs=1e-12)
    # the proton total of the scenario gives back the pH it was computed at
    water = TapWater(3.0, 2.0, 8.0, c)
    initial = {k: _mol_m3(v) for k, v in water.initial().items()}
    assert _ph_of(c, initial["CO3--"], initial["H+"]) == pytest.approx(8.0, abs=1e-9)
    # electroneutrality leaves the NaCl as Cl- (up to the water's own H+ - OH-)
    co2, hco3, co3 = c.speciation(2.0, 8.0)
    chloride = initial["Na+"] + 1e-5 - 1e-3 - hco3 - 2 * co3
    assert chloride == pytest.approx(3.0, abs=2e-3)


def test_tap_water_scenario_carries_the_carbonate_system(tmp_path: Path) -> None:
    d = builtin_defaults()
    c = d.carbonate()
    scenario = plan_scenario(plan_of("tap-water-palms"))
    data = scenario.data
    path = tmp_path / "scenario.toml"  # a scenario file that runs on its own
    path.write_text(scenario_toml(scenario))
    assert load_problem(path) == problem_from_dict(data)
    species = {s["name"]: s for s in data["species"]}
    assert species["HCO3-"]["charge"] == -1 and species["CO3--"]["charge"] == -2
    assert species["CO2"]["charge"] == 0
    for name, value in c.diffusivity.items():
        assert float(species[name]["diffusivity"].split()[0]) == pytest.approx(value)
    equilibria = {e["name"]: e for e in data["equilibria"]}
    assert equilibria["bicarbonate"] == {
        "name": "bicarbonate",
        "kind": "acid",
        "acid": "HCO3-",
        "base": "CO3--",
        "pK": c.pk2,
    }
    carbonic = equilibria["carbonic acid"]
    assert carbonic["product"] == "CO2" and carbonic["reactants"] == {"CO3--": 1, "H+": 2}
    value, unit = carbonic["constant"].split()
    assert unit == "M^-2" and math.log10(float(value)) == pytest.approx(c.pk1 + c.pk2)
    # the same water in both trays, their unstirred layers and the scenario's pad
    alkalinity, salt = d.value("tap_water_alkalinity"), d.value("tap_water_salt")
    expected = TapWater(salt, alkalinity, d.value("tap_water_pH"), c).initial()
    assert _mol_m3(expected["Na+"]) == pytest.approx(salt + alkalinity)
    assert _mol_m3(expected["CO3--"]) == pytest.approx(sum(c.speciation(alkalinity, 8.0)))
    for side in ("left", "right"):
        assert data["boundary"][side]["initial"] == expected
        assert data["boundary"][side]["initial_pH"] == d.value("tap_water_pH")
    assert data["layers"][0]["initial"] == expected
    assert data["circuit"]["indifferent"]["layers"][0]["initial"] == expected
    used = {a.name: a for a in scenario.assumptions}
    assert used["tap_water_alkalinity"].source == (
        "textbook:water-chemistry",
        "rafischer-md1a",
        "sweathelp",
    )
    assert used["carbonate pK1 (25 C)"].value == "6.35"
    assert used["free diffusivity of HCO3- (25 C)"].source == ("crc-vanysek",)
    assert any("CO2 escaping" in n for n in scenario.notes)
    # a drug plan carries no carbonate
    drug = plan_scenario(plan_of("lidocaine-forearm")).data
    assert not {"HCO3-", "CO3--", "CO2"} & {s["name"] for s in drug["species"]}


@pytest.fixture(scope="module")
def soft() -> Prediction:
    return predict(plan_of("tap-water-palms", prediction={"tap_water_alkalinity": "0.5 mM"}))


@pytest.fixture(scope="module")
def hard() -> Prediction:
    return predict(plan_of("tap-water-palms", prediction={"tap_water_alkalinity": "5 mM"}))


def test_harder_water_holds_both_trays_nearer_their_start(
    soft: Prediction, hard: Prediction
) -> None:
    for p in (soft, hard):
        assert p.pH_electrode[0] == pytest.approx(8.0, abs=1e-6)
        assert p.pH_indifferent_electrode[0] == pytest.approx(8.0, abs=1e-6)
    # the cathode (indifferent) tray: OH- is taken up by HCO3- -> CO3--
    assert hard.pH_indifferent_electrode.max() < soft.pH_indifferent_electrode.max() - 0.5
    assert hard.pH_indifferent_skin_surface.max() < soft.pH_indifferent_skin_surface.max() - 0.5
    # the anode (active) tray: H+ is taken up by HCO3- -> CO2
    assert hard.pH_electrode.min() > soft.pH_electrode.min() + 0.5
    assert hard.pH_skin_surface.min() > soft.pH_skin_surface.min() + 0.5


def test_the_cathode_tray_follows_the_carbonate_equilibrium(hard: Prediction) -> None:
    """The well-mixed cathode tray at the end of the current is the carbonate water that
    took up all the charge's OH- (closed form): a check of the buffer, not of a fit."""
    d = builtin_defaults()
    c = d.carbonate()
    volume = (d.mixed_reservoir("tray") or (1.0, 0.0))[0]
    start = {k: _mol_m3(v) for k, v in TapWater(3.0, 5.0, 8.0, c).initial().items()}
    hydroxide = hard.dose[hard.end] / FARADAY / volume
    expected = _ph_of(c, start["CO3--"], start["H+"] - hydroxide)
    assert hard.pH_indifferent_electrode[hard.end] == pytest.approx(expected, abs=0.02)
    acid = _ph_of(c, start["CO3--"], start["H+"] + hydroxide)
    assert hard.pH_electrode[hard.end] == pytest.approx(acid, abs=0.02)


def test_alkalinity_is_checked_and_only_for_tap_water() -> None:
    with pytest.raises(ConfigError) as bad:
        plan_of("tap-water-palms", prediction={"tap_water_alkalinity": "-1 mM"})
    text = str(bad.value)
    assert "prediction.tap_water_alkalinity" in text and "-1 mM" in text
    assert "mol/m^3" in text and "1000" in text
    with pytest.raises(ConfigError, match="tap_water_alkalinity"):
        plan_of("tap-water-palms", prediction={"tap_water_alkalinity": "2 mA"})
    with pytest.raises(ConfigError, match="not tap water"):
        plan_scenario(plan_of("lidocaine-forearm", prediction={"tap_water_alkalinity": "2 mM"}))
    # baking soda: 1 tsp (about 5 g of NaHCO3, 84 g/mol) in a 1 L tray
    soda = plan_scenario(plan_of("tap-water-palms", prediction={"tap_water_alkalinity": "60 mM"}))
    assert _mol_m3(soda.data["boundary"]["left"]["initial"]["Na+"]) == pytest.approx(63.0)
    # no alkalinity: unbuffered NaCl, no carbonate species
    plain = plan_scenario(plan_of("tap-water-palms", prediction={"tap_water_alkalinity": "0 mM"}))
    assert plain.data["boundary"]["left"]["initial"] == {"Na+": "3 mol/m^3"}
    assert "CO3--" not in {s["name"] for s in plain.data["species"]}


def test_defaults_file_checks_the_carbonate_system(tmp_path: Path) -> None:
    text = DEFAULTS_FILE.read_text()
    swapped = tmp_path / "prediction.toml"
    swapped.write_text(text.replace("value = 10.33,", "value = 5.0,"))
    with pytest.raises(ConfigError, match=r"carbonate\.pK2"):
        Defaults.load(swapped)
    missing = tmp_path / "missing.toml"
    missing.write_text("\n".join(ln for ln in text.splitlines() if not ln.startswith('"CO3--"')))
    with pytest.raises(ConfigError, match="CO3--"):
        Defaults.load(missing)


def test_the_example_passes_with_typical_water_and_not_without_a_buffer() -> None:
    """tap-water-palms.toml with the default 2 mM: accepted, the cathode's palm above the
    pH 8 a buffered electrode holds (a warning); unbuffered water is refused (pH > 10)."""
    from ionto.plan.predict.checks import SimulationCheck
    from ionto.plan.safety import check_plan

    typical = check_plan(plan_of("tap-water-palms"), extra=[SimulationCheck()])
    assert not typical.refused
    ph = [f for f in typical.findings if f.id == "sim.ph"]
    assert [f.severity for f in ph] == ["warning"] and "indifferent" in ph[0].message
    plain = plan_of("tap-water-palms", prediction={"tap_water_alkalinity": "0 mM"})
    unbuffered = check_plan(plain, extra=[SimulationCheck()])
    assert unbuffered.refused
    assert any(f.id == "sim.ph" and f.severity == "error" for f in unbuffered.findings)
