"""Domain claims of ../shared/domain/seed-claims.md that the planning layer shows: the
modalities (P8 desincrustation, P17 tap water, C1 galvanic, C2 EMS), electrode materials
and reservoirs (P16) and what the planner says of them. Each test is named after its
claim; tests/test_claims_covered.py checks that every claim has one."""

from __future__ import annotations

import pytest
from plan_helpers import DELETE, check, plan_of

from ionto.plan.library import builtin_library
from ionto.plan.protocol import parse

LIB = builtin_library()


@pytest.mark.engine
def test_P8_galvanic_desincrustation_cathode_alkali_and_burn_check() -> None:
    """Galvanic desincrustation is a modality: the cathode must be on the skin (an anode
    is refused), the prediction is alkaline under the cathode (pH > 10 at the electrode
    and above 8 at the skin surface after 3 min at 0.8 mA), the simulation rules check
    the pH and the burn risk, and less current makes less alkali."""
    from ionto.plan.predict.checks import SimulationCheck
    from ionto.plan.predict.run import predict
    from ionto.plan.safety import check_plan

    modality = LIB.modality("galvanic-desincrustation")
    assert modality.polarity_required and modality.active_polarity is not None
    assert modality.active_polarity.value == "cathode"
    assert not check("desincrustation-face").refused
    wrong = check("desincrustation-face", polarity="anode")
    assert wrong.refused and "polarity.modality" in {f.id for f in wrong.of("error")}

    plan = plan_of("desincrustation-face")
    prediction = predict(plan)
    assert prediction.scenario.electrode == "inert"  # water electrolysis: OH- at the cathode
    assert prediction.pH_electrode.max() > 10.0
    assert prediction.pH_skin_surface.max() > 8.0
    gentle = predict(
        plan_of(
            "desincrustation-face",
            protocol="ramp to 0.2 mA over 10 s\nhold 0.2 mA for 3 min\nramp to 0 mA over 10 s",
        )
    )
    assert gentle.pH_skin_surface.max() < prediction.pH_skin_surface.max()

    findings = check_plan(plan, extra=[SimulationCheck()]).findings
    ids = {f.id for f in findings}
    assert {"sim.ph", "sim.burn-risk"} <= ids
    # one sim.ph finding per electrode: the active cathode's alkali is the error
    (ph,) = [f for f in findings if f.id == "sim.ph" and "active electrode" in f.message]
    assert "alkaline" in ph.message and "cathode" in ph.message and ph.severity == "error"


@pytest.mark.engine
def test_P16_carbon_electrodes_and_reservoir_kinds() -> None:
    """The library holds carbon electrodes and gel, pad, sponge and tray reservoirs; the
    planner simulates a carbon electrode as an inert one (water electrolysis), so a carbon
    anode turns the gel acid where a silver one holds the pH. (The stirred cup and the
    mucosa site: tests/simulate/test_claims.py.)"""
    from ionto.plan.predict.run import predict

    materials = {e.material for e in LIB.electrodes.values()}
    reservoirs = {e.reservoir for e in LIB.electrodes.values()}
    assert {"carbon", "Ag/AgCl"} <= materials
    assert {"gel", "pad", "sponge", "tray"} <= reservoirs
    assert LIB.electrode("return-pad-20").material == "carbon"
    silver = predict(plan_of("lidocaine-forearm"))
    carbon = predict(plan_of("lidocaine-forearm", electrodes={"active": {"type": "return-pad-20"}}))
    assert silver.scenario.electrode == "Ag/AgCl" and carbon.scenario.electrode == "inert"
    assert carbon.pH_electrode.min() < 3.0 < silver.pH_electrode.min()


def test_P17_tap_water_iontophoresis_of_palms_and_soles_is_a_modality() -> None:
    """Tap-water iontophoresis of the palms and soles (hyperhidrosis) is a modality: tap
    water is its only substance (a drug is refused), palms and soles are accepted sites,
    it has its own current limit (20 mA) and course (three a week). (The voltage-controlled
    two-tray circuit: tests/simulate/test_scenario_circuit.py.)"""
    twi = LIB.modality("tap-water-iontophoresis")
    assert twi.substances == ["water"] and twi.substance_required
    assert twi.current_max.si == pytest.approx(0.020)
    for site in ("palms", "soles"):
        report = check("tap-water-palms", site=site)
        assert not report.refused, report.findings
    drug = check("tap-water-palms", drug="lidocaine")
    assert drug.refused and "substance.required" in {f.id for f in drug.of("error")}
    over = check(
        "tap-water-palms",
        protocol="ramp to 25 mA over 30 s\nhold 25 mA for 20 min\nramp to 0 mA over 30 s",
    )
    assert "current.max" in {f.id for f in over.of("error")}


def test_C1_galvanic_modalities_need_a_polarity_in_milliamperes() -> None:
    """Galvanic (DC) modalities use milliamperes and the polarity matters: each DC
    modality requires a polarity (a plan without one is refused) and allows currents of
    the order of 1 mA, not microamperes."""
    dc = [m for m in LIB.modalities.values() if m.waveform == "dc"]
    assert {m.name for m in dc} >= {"galvanic-desincrustation", "cosmetic-iontophoresis"}
    for modality in dc:
        assert modality.polarity_required, modality.name
        assert 1e-4 <= modality.current_max.si <= 0.1, modality.name
    missing = check("desincrustation-face", polarity=DELETE)
    assert missing.refused and "polarity.required" in {f.id for f in missing.of("error")}


def test_C2_ems_is_pulsed_milliamperes_with_no_drug_transport_claimed() -> None:
    """EMS uses pulses of milliamperes to contract muscles: the modality has pulse
    frequency and width ranges, needs no polarity and no substance, the example's
    biphasic pulses carry no net charge, and a drug under an EMS electrode draws the
    warning that no transport is claimed."""
    ems = LIB.modality("ems")
    assert ems.waveform == "pulsed" and not ems.substances and not ems.polarity_required
    assert ems.frequency_typical is not None and ems.pulse_width_typical is not None
    assert 0.01 <= ems.current_max.si <= 0.2
    plan = plan_of("ems-quadriceps")
    assert plan.protocol.peak_current >= 0.01
    assert plan.modality.name == "ems"
    assert not check("ems-quadriceps").refused
    biphasic = parse("pulse 60 mA at 40 Hz, 300 us wide, biphasic, for 10 s")
    assert abs(biphasic.charge.net) < 1e-12 < biphasic.charge.absolute
    drug = check("ems-quadriceps", drug="lidocaine")
    (finding,) = [f for f in drug.findings if f.id == "substance.unexpected"]
    assert "no transport" in finding.message


def test_P2_planner_flags_the_wrong_polarity_as_an_error() -> None:
    """A cation (lidocaine) belongs under the anode and an anion (dexamethasone phosphate)
    under the cathode: the swapped polarity is an error that refuses the plan."""
    assert not check("lidocaine-forearm").refused
    assert not check("dexamethasone-knee").refused
    for name, wrong in (("lidocaine-forearm", "cathode"), ("dexamethasone-knee", "anode")):
        report = check(name, polarity=wrong)
        assert report.refused and "polarity.substance" in {f.id for f in report.of("error")}
