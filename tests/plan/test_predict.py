"""Plan -> scenario -> simulation (ionto.plan.predict): the generated scenario is a real
scenario file, and the predicted treatment obeys the physics it should."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from plan_helpers import DELETE, plan_of

from ionto.core.errors import ConfigError
from ionto.plan.predict.run import Prediction, predict
from ionto.plan.predict.scenario import plan_scenario, scenario_toml
from ionto.simulate.scenario import load_problem, problem_from_dict

pytestmark = pytest.mark.engine

FARADAY = 96485.33212


@pytest.fixture(scope="module")
def lidocaine() -> Prediction:
    return predict(plan_of("lidocaine-forearm"))


def test_scenario_file_round_trips_through_the_scenario_loader(tmp_path: Path) -> None:
    scenario = plan_scenario(plan_of("lidocaine-forearm"))
    path = tmp_path / "scenario.toml"
    path.write_text(scenario_toml(scenario))
    assert load_problem(path) == problem_from_dict(scenario.data)
    data = scenario.data
    assert data["skin"]["type"] == "human" and data["skin"]["site"] == "forearm"
    assert data["boundary"]["left"]["electrode"] == "Ag/AgCl"
    names = {s["name"]: s["charge"] for s in data["species"]}
    assert names["lidocaine+"] == 1 and names["lidocaine"] == 0  # pKa 7.9: both forms
    # 2 % = 20 kg/m^3 of a 235.35 g/mol ion
    conc = float(data["layers"][0]["initial"]["lidocaine"].split()[0])
    assert conc == pytest.approx(20.0 / 0.23535, rel=1e-6)
    assert not any("not simulated" in n for n in scenario.notes)
    # the whole circuit: the indifferent Ag/AgCl gel electrode on the forearm
    indifferent = data["circuit"]["indifferent"]
    assert indifferent["area"] == "0.001 m^2" and indifferent["site"] == "forearm"
    assert data["boundary"]["right"] == {"type": "electrode", "electrode": "Ag/AgCl"}
    assert indifferent["layers"][0]["initial"] == {"Na+": "150 mol/m^3"}
    assert data["compliance_voltage"] == "40 V"


def test_control_follows_the_protocol(lidocaine: Prediction) -> None:
    plan = lidocaine.plan
    assert lidocaine.scenario.protocol_end == pytest.approx(plan.protocol.duration)
    assert lidocaine.dose[-1] == pytest.approx(plan.protocol.charge.absolute, rel=1e-9)
    end = lidocaine.end
    assert lidocaine.current[end // 2] == pytest.approx(4e-3, rel=1e-9)  # the hold, into the skin
    assert np.all(lidocaine.current[end + 1 :] == 0.0)
    assert np.all(np.diff(lidocaine.dose) >= -1e-15)
    # no compliance hold: the charge that flowed is the set program's, at every time
    # (the first ramp to 4 mA over 30 s, then 4 mA)
    t = lidocaine.times
    ramp = t <= 30.0
    assert lidocaine.dose[ramp] == pytest.approx(0.5 * 4e-3 * t[ramp] ** 2 / 30.0, rel=1e-9)
    hold = (t >= 30.0) & (t <= 600.0)
    assert lidocaine.dose[hold] == pytest.approx(0.06 + 4e-3 * (t[hold] - 30.0), rel=1e-9)


def test_amounts_balance_and_follow_the_charge(lidocaine: Prediction) -> None:
    e = lidocaine.end
    released, delivered, cleared = lidocaine.released, lidocaine.delivered, lidocaine.cleared
    # what left the reservoir is in the skin, in the blood or out through the deep tissue
    assert delivered[e] + cleared[e] <= released[e] * (1 + 1e-9)
    assert delivered[e] + cleared[e] > 0.9 * released[e]
    # transport number of the drug between 0 and 1 (charge carried by the drug / charge)
    t = FARADAY * released[e] / lidocaine.dose[e]
    assert 0.05 < t < 1.0
    # after the current the depot spreads and clears: the skin amount falls, blood rises
    assert delivered[-1] < delivered[e] and cleared[-1] > cleared[e]
    assert lidocaine.plasma is not None
    assert np.all(lidocaine.plasma >= -1e-12 * lidocaine.plasma.max())  # round-off only
    assert lidocaine.balance_error < 1e-10


def test_ph_holds_under_silver_and_falls_under_an_inert_anode(lidocaine: Prediction) -> None:
    assert np.ptp(lidocaine.pH_skin_surface) < 0.3
    carbon = predict(plan_of("lidocaine-forearm", electrodes={"active": {"type": "return-pad-20"}}))
    assert carbon.scenario.electrode == "inert"
    assert carbon.pH_electrode.min() < 3.0
    # the lidocaine base buffers the acid on its way through the 2 mm gel
    assert carbon.pH_skin_surface.min() < lidocaine.pH_skin_surface.min() - 0.2


def test_cathode_drug_at_the_knee() -> None:
    p = predict(plan_of("dexamethasone-knee"))
    data = p.scenario.data
    assert data["skin"]["site"] == "knee"
    species = {s["name"]: s["charge"] for s in data["species"]}
    assert species["dexamethasone-phosphate--"] == -2
    assert p.current.max() == pytest.approx(2e-3, rel=1e-9)  # into the skin at the cathode
    assert p.delivered[p.end] > 0
    # the buffered electrode holds the pH within its rated 80 mA*min (40 used)
    assert p.pH_skin_surface.min() > 6.0 and p.pH_skin_surface.max() < 8.0


def test_spent_buffered_electrode_turns_alkaline_under_the_cathode() -> None:
    plan = plan_of(
        "dexamethasone-knee",
        protocol="ramp to 4 mA over 30 s\nhold 4 mA until 150 mA*min\nramp to 0 mA over 30 s",
        prediction={"observe": "0 s"},
    )
    p = predict(plan)
    assert any("rated capacity 80 mA*min" in n for n in p.notes)
    spent = 80 * 0.06  # C
    before = p.times[p.dose < 0.9 * spent]
    after = p.dose > 1.2 * spent
    assert p.pH_electrode[: before.size].max() < 8.0
    assert p.pH_electrode[after].max() > 10.0


def test_site_without_parameters_uses_the_reference_site_and_says_so() -> None:
    scenario = plan_scenario(plan_of("lidocaine-forearm", site="upper-arm"))
    assert scenario.skin_site == "forearm"
    assert any("upper-arm" in n and "stand in" in n for n in scenario.notes)


def test_prediction_settings_override_the_defaults() -> None:
    scenario = plan_scenario(
        plan_of("lidocaine-forearm", prediction={"observe": "5 min", "reservoir_thickness": "1 mm"})
    )
    assert scenario.duration == pytest.approx(630.0 + 300.0)
    assert scenario.data["layers"][0]["thickness"] == "0.001 m"


def test_substance_without_data_leaves_a_saline_reservoir_and_says_so() -> None:
    scenario = plan_scenario(plan_of("vitamin-c-face"))
    assert scenario.drug is None
    assert any("ascorbate is not simulated" in n and "concentration" in n for n in scenario.notes)
    assert scenario.data["layers"][0]["initial"] == {"Na+": "150 mol/m^3"}


def test_unbounded_protocol_cannot_be_predicted() -> None:
    with pytest.raises(ConfigError, match="unbounded"):
        plan_scenario(plan_of("lidocaine-forearm", protocol="hold 2 mA until 40 V"))


def test_fast_pulses_are_averaged_and_say_so() -> None:
    scenario = plan_scenario(plan_of("microcurrent-face"))
    assert any("cycle average" in n for n in scenario.notes)
    assert len(scenario.data["control"]) <= 3


def test_progress_is_reported_up_to_the_end() -> None:
    seen: list[tuple[float, float]] = []
    p = predict(plan_of("dexamethasone-knee"), progress=lambda t, end: seen.append((t, end)))
    assert seen and all(end == pytest.approx(p.scenario.duration) for _, end in seen)
    assert seen[-1][0] == pytest.approx(p.scenario.duration, rel=1e-6)
    assert [t for t, _ in seen] == sorted(t for t, _ in seen)


# ------------------------------------------------------------------ both electrodes


CARBON_RETURN = {"indifferent": {"type": "return-pad-20", "area": DELETE}}


def test_indifferent_site_and_electrode_come_from_the_plan() -> None:
    scenario = plan_scenario(
        plan_of(
            "lidocaine-forearm",
            electrodes={"indifferent": {"type": "return-pad-20", "site": "palms"}},
        )
    )
    indifferent = scenario.data["circuit"]["indifferent"]
    assert indifferent["site"] == "palm" and scenario.indifferent_site == "palm"
    assert indifferent["area"] == "0.002 m^2"  # the library's 20 cm^2
    assert scenario.indifferent_electrode == "inert"
    assert scenario.data["boundary"]["right"]["electrode"] == "inert"
    # without a site the indifferent electrode sits on the active site, and the notes say so
    default = plan_scenario(
        plan_of("lidocaine-forearm", electrodes={"indifferent": {"site": DELETE}})
    )
    assert default.indifferent_site == "forearm"
    assert any("no [electrodes.indifferent] site" in n for n in default.notes)


def test_the_active_electrode_takes_the_plan_site() -> None:
    with pytest.raises(ConfigError, match=r"electrodes\.active\.site"):
        plan_of("lidocaine-forearm", electrodes={"active": {"site": "palms"}})


def test_compliance_voltage_by_modality_and_from_the_plan() -> None:
    assert plan_scenario(plan_of("lidocaine-forearm")).compliance_voltage == 40.0
    assert plan_scenario(plan_of("tap-water-palms")).compliance_voltage == 60.0
    own = plan_scenario(plan_of("lidocaine-forearm", prediction={"compliance_voltage": "25 V"}))
    assert own.compliance_voltage == 25.0 and own.data["compliance_voltage"] == "25 V"
    with pytest.raises(ConfigError, match="compliance_voltage"):
        plan_of("lidocaine-forearm", prediction={"compliance_voltage": "-3 V"})


def test_compliance_left_out_where_the_engine_cannot_combine_it() -> None:
    pulsed = plan_scenario(plan_of("microcurrent-face"))  # kHz trains, cycle-averaged
    assert pulsed.compliance_voltage is None and "compliance_voltage" not in pulsed.data
    assert any("compliance voltage (14 V) is left out" in n for n in pulsed.notes)


def test_compliance_and_electrode_capacity_are_simulated_together() -> None:
    # a capacity the planned charge cannot exhaust and one it can: both kept, and the
    # compliance voltage with them (the engine follows the charge actually passed)
    within = plan_scenario(plan_of("dexamethasone-knee"))
    beyond = plan_scenario(
        plan_of(
            "dexamethasone-knee",
            protocol="ramp to 4 mA over 30 s\nhold 4 mA until 150 mA*min\nramp to 0 mA over 30 s",
        )
    )
    for scenario in (within, beyond):
        assert scenario.compliance_voltage == 40.0
        assert scenario.data["compliance_voltage"] == "40 V"
        assert scenario.data["boundary"]["left"]["cathodic_capacity"] == "4.8 C"
        assert any("rated capacity" in n and "then water electrolysis" in n for n in scenario.notes)
        assert not any("compliance voltage" in n for n in scenario.notes)


def test_physiology_switches_default_and_override() -> None:
    from ionto.plan.predict.defaults import builtin_defaults

    d = builtin_defaults()
    skin = plan_scenario(plan_of("lidocaine-forearm")).data["skin"]
    for name in ("conductance_activation", "hyperaemia", "sc_capacitance"):
        assert skin[name] is d.physiology(name).value
        assert d.physiology(name).note  # every choice is justified in prediction.toml
    off = plan_scenario(plan_of("lidocaine-forearm", prediction={"conductance_activation": False}))
    assert off.data["skin"]["conductance_activation"] is False
    assert any(
        a.name == "conductance_activation" and a.source == ("plan",) for a in off.assumptions
    )


def test_ph_under_both_electrodes(lidocaine: Prediction) -> None:
    # Ag/AgCl on both sides: the pH holds at both skin surfaces
    assert np.ptp(lidocaine.pH_indifferent_skin_surface) < 0.3
    assert lidocaine.pH_indifferent_electrode.shape == lidocaine.times.shape
    # an inert (carbon) return cathode makes alkali: at its surface first, then at the skin
    carbon = predict(plan_of("lidocaine-forearm", electrodes=CARBON_RETURN))
    assert carbon.scenario.indifferent_electrode == "inert"
    assert carbon.pH_indifferent_electrode.max() > 11.0
    assert carbon.pH_indifferent_skin_surface.max() > 10.0
    e = carbon.end
    assert carbon.pH_indifferent_skin_surface[e] < carbon.pH_indifferent_electrode[e]
    # the active side is unaffected by what the return electrode is made of
    assert np.ptp(carbon.pH_skin_surface) < 0.3


@pytest.mark.slow
def test_resting_skin_drives_the_source_to_its_compliance() -> None:
    """Without conductance activation the resting forearm SC needs far more than the
    40 V the source has: it sits at the compliance voltage and passes less charge (1.35 C
    of the set 2.4 C), which the dose reports; with activation (the default) the set
    current flows well below it."""
    stiff = predict(plan_of("lidocaine-forearm", prediction={"conductance_activation": False}))
    assert stiff.compliance_intervals and stiff.time_at_compliance > 60.0
    # held within 0.1 %: an output voltage is re-solved from the output state's
    # concentrations and current, so it carries the last step's residual in the face
    # potentials (measured 40.015 V; 40.15 V before projections re-solved the current)
    assert np.abs(stiff.voltage).max() <= 40.0 * (1 + 1e-3)
    density = stiff.exposure["charge density at the left (active) electrode [C/m^2]"]
    assert density < 0.95 * (stiff.plan.protocol.charge.absolute / stiff.area)
    # the dose is the charge that flowed, not the set one: the exposure's at the end, the
    # integral of the current that flowed all along (trapezoids of the output times)
    assert stiff.summary()["charge passed [C]"] == pytest.approx(density * stiff.area, rel=1e-12)
    assert stiff.dose[-1] < 0.95 * stiff.plan.protocol.charge.absolute
    assert np.all(np.diff(stiff.dose) >= 0.0)
    flowed = np.concatenate(
        [
            [0.0],
            np.cumsum(0.5 * np.diff(stiff.times) * np.abs(stiff.current[1:] + stiff.current[:-1])),
        ]
    )
    assert np.max(np.abs(stiff.dose - flowed)) < 0.01 * stiff.dose[-1]  # measured 0.2 %
    default = predict(plan_of("lidocaine-forearm"))
    assert default.time_at_compliance == 0.0
    assert np.abs(default.voltage).max() < 40.0


def test_exposure_is_the_engines_per_site(lidocaine: Prediction) -> None:
    act, ind = lidocaine.site_exposure("active"), lidocaine.site_exposure("indifferent")
    assert act["current density"] == pytest.approx(4e-3 / lidocaine.area, rel=1e-6)
    assert ind["current density"] == pytest.approx(4e-3 / lidocaine.indifferent_area, rel=1e-6)
    charge = lidocaine.plan.protocol.charge.absolute
    assert act["charge density"] == pytest.approx(charge / lidocaine.area, rel=1e-6)
    assert ind["charge density"] == pytest.approx(charge / lidocaine.indifferent_area, rel=1e-6)


def test_a_tray_is_a_well_mixed_bath_of_the_stated_volume() -> None:
    """Tap-water trays: the electrode sits in a mixed bath (mixed_reservoir.tray), not
    under a thin column of water; a plan's reservoir thickness still makes a column."""
    from ionto.plan.predict.defaults import builtin_defaults

    volume, layer = builtin_defaults().mixed_reservoir("tray") or (0.0, 0.0)
    assert volume > 0 and layer > 0
    scenario = plan_scenario(plan_of("tap-water-palms"))
    data = scenario.data
    for side in ("left", "right"):
        boundary = data["boundary"][side]
        assert boundary["type"] == "reservoir" and boundary["electrode"] == "inert"
        assert float(boundary["volume"].split()[0]) == pytest.approx(volume)
        assert boundary["initial"]["Na+"] == "5 mol/m^3"  # tap water: 3 mM NaCl, 2 mM NaHCO3
        assert "CO3--" in boundary["initial"]  # its carbonate (tests/plan/test_tap_water.py)
    assert float(data["layers"][0]["thickness"].split()[0]) == pytest.approx(layer)
    pad = data["circuit"]["indifferent"]["layers"][0]
    assert float(pad["thickness"].split()[0]) == pytest.approx(layer)
    assert sum("well-mixed" in n for n in scenario.notes) == 2
    assert any("volume (tray, well mixed)" in a.name for a in scenario.assumptions)
    column = plan_scenario(plan_of("tap-water-palms", prediction={"reservoir_thickness": "5 mm"}))
    assert column.data["boundary"]["left"]["type"] == "electrode"
    assert column.data["layers"][0]["thickness"] == "0.005 m"
    # a gel electrode stays a column
    assert plan_scenario(plan_of("lidocaine-forearm")).data["boundary"]["left"]["type"] == (
        "electrode"
    )


def test_the_tray_bath_takes_up_what_the_electrode_makes() -> None:
    """The OH- made at the indifferent (cathode) plate spreads through the whole bath:
    the pH of unbuffered water (no alkalinity) rises to at most that of all the charge's
    OH- in its volume."""
    from ionto.plan.predict.defaults import builtin_defaults

    p = predict(plan_of("tap-water-palms", prediction={"tap_water_alkalinity": "0 mM"}))
    volume = (builtin_defaults().mixed_reservoir("tray") or (1.0, 0.0))[0]
    hydroxide = p.dose[-1] / FARADAY / volume  # mol/m^3 = mM
    ceiling = 14.0 + np.log10(hydroxide * 1e-3)
    assert ceiling - 0.3 < p.pH_indifferent_electrode.max() <= ceiling + 0.05
    acid = 14.0 - ceiling  # the anode's bath, by symmetry
    assert acid - 0.05 <= p.pH_electrode.min() < acid + 0.3


def test_fine_cells_only_at_the_faces_of_each_sites_outer_skin_layer() -> None:
    """The prediction's mesh: 0.05 um cells at both faces of the stratum corneum of both
    sites (or the epithelium of a mucosa, which has none), 1 um cells elsewhere."""
    from ionto.simulate.mesh import build_mesh

    fine = {"min_cell": "0.05 um"}
    skin = plan_scenario(plan_of("lidocaine-forearm")).data["mesh"]
    assert skin["min_cell"] == "1 um"
    assert skin["layers"] == {"stratum_corneum": fine, "indifferent_stratum_corneum": fine}
    # a mucosa at the active site; the indifferent one stays on the plan's forearm
    mucosa = plan_scenario(plan_of("lidocaine-forearm", prediction={"skin_site": "mucosa"}))
    assert mucosa.data["mesh"]["layers"] == {
        "epithelium": fine,
        "indifferent_stratum_corneum": fine,
    }
    problem = problem_from_dict(mucosa.data)
    mesh = build_mesh(problem)
    names = [layer.name for layer in problem.layers]
    for name, size in [("reservoir", 1e-6), ("epithelium", 5e-8), ("dermis", 1e-6)]:
        widths = mesh.widths[mesh.layer_of_cell == names.index(name)]
        assert widths[0] == pytest.approx(size, rel=0.2), name
