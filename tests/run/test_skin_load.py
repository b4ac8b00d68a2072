"""The simulated load from the physiology parameter sets: values and their sources,
scaling with area and site, the fall under current and the recovery after it
(validation case curdy2000_impedance_recovery_in_vivo)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ionto.core.errors import ConfigError
from ionto.plan.plan import load_plan
from ionto.run.clock import SimClock
from ionto.run.devices import SimulatedCurrentSource, SkinLoad
from ionto.run.devices.skin import load_data
from ionto.run.session import plan_load
from ionto.simulate.params import load_skin, pores

ROOT = Path(__file__).resolve().parents[2]


def test_values_come_from_the_parameter_sets() -> None:
    load = SkinLoad.from_physiology("human", "forearm", 10.0, 20.0)
    skin = load_skin("human", "forearm")
    assert load.r_sc_ohm_cm2 == pytest.approx(pores.sc_resistance(skin) / 1e-4)
    assert 10e3 <= load.r_sc_ohm_cm2 <= 1e6  # Rosell 1988's range
    assert load.r_series_ohm == skin.body_resistance == 500.0
    assert load.r_sc_min_ohm_cm2 == pytest.approx(skin.sc_resistance_min / 1e-4)
    assert load.c_sc_F_cm2 == pytest.approx(skin.sc_capacitance * 1e-4)
    assert load.areas == (10.0, 20.0)
    assert load.provenance["r_series_ohm"] == "body-resistance, C"
    # the activation's charge and recovery time are the simulator's (one source for both)
    assert load.provenance["recovery_s"] == "curdy2000, I"
    assert load.provenance["activation_C_cm2"] == "vanboxtel1977, U"  # marked unconfirmed
    assert skin.sc_recovery_time is not None and skin.sc_activation_charge is not None
    assert load.recovery_s == skin.sc_recovery_time == 1800.0
    assert load.activation_C_cm2 == pytest.approx(skin.sc_activation_charge * 1e-4)
    assert load.activation_C_cm2 == pytest.approx(0.03)  # 30 mC/cm^2 in skin.toml


def test_a_skin_type_without_activation_data_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ionto.simulate.params.loader import ParameterSet

    real = ParameterSet.load_skin

    def without(self: ParameterSet, *args: object, **kwargs: object) -> object:
        skin = real(self, *args, **kwargs)  # type: ignore[arg-type]
        return dataclasses.replace(skin, sc_activation_charge=None)

    monkeypatch.setattr(ParameterSet, "load_skin", without)
    with pytest.raises(ConfigError, match="sc_activation_charge"):
        SkinLoad.from_physiology("human", "forearm", 10.0)


def test_site_and_area_choose_the_load() -> None:
    forearm = SkinLoad.from_physiology("human", "forearm", 10.0)
    palm = SkinLoad.from_physiology("human", "palms", 10.0)  # a plan's site name
    face = SkinLoad.from_physiology("human", "face", 10.0)
    assert palm.r_sc_ohm_cm2 > 3 * forearm.r_sc_ohm_cm2 > 9 * face.r_sc_ohm_cm2
    assert "palm" in palm.description
    chest = SkinLoad.from_physiology("human", "chest", 10.0)
    assert "reference site used" in chest.description
    assert chest.r_sc_ohm_cm2 == forearm.r_sc_ohm_cm2
    small = SkinLoad.from_physiology("human", "forearm", 5.0)
    assert small.interface_ohm(0.0, 5.0) == pytest.approx(2 * forearm.interface_ohm(0.0, 10.0))
    with pytest.raises(ConfigError, match="body_resistance"):
        SkinLoad.from_physiology("porcine", "ear", 10.0)  # excised skin has no body
    with pytest.raises(ConfigError, match="not a skin type"):
        SkinLoad.from_physiology("martian", None, 10.0)


def test_a_plan_chooses_the_load() -> None:
    plan = load_plan(ROOT / "examples" / "plans" / "lidocaine-forearm.toml")
    load = plan_load(plan)
    assert load.areas == (plan.active.area_cm2, plan.indifferent.area_cm2)
    assert load.description.startswith("human forearm")
    tap = load_plan(ROOT / "examples" / "plans" / "tap-water-palms.toml")
    assert "palm" in plan_load(tap).description


def measured_impedance(source: SimulatedCurrentSource, clock: SimClock, amps: float) -> float:
    source.set_current(amps)
    clock.sleep(0.5)
    return source.read().impedance_ohm


def test_impedance_scales_with_area() -> None:
    z = {}
    for area in (5.0, 20.0):
        clock = SimClock()
        dev = SimulatedCurrentSource(
            SkinLoad.from_physiology("human", "forearm", area), clock=clock, noise_A=0, noise_V=0
        )
        dev.connect()
        dev.output(True)
        z[area] = measured_impedance(dev, clock, 10e-6) - dev.load.r_series_ohm
    assert z[5.0] == pytest.approx(4 * z[20.0], rel=1e-3)


@pytest.mark.validation
def test_resistance_falls_under_current_and_recovers_after() -> None:
    """Curdy 2000 (in vivo, human): 30 min after iontophoresis the skin impedance is about
    3 times the value right after the current stops. Neither time constant is fitted to
    it; the model gives about 2.6 for the SC (1.2 with the body's 500 ohm in series),
    and this test accepts a factor 2 either way for the SC, as the study's current
    density is not known."""
    clock = SimClock()
    dev = SimulatedCurrentSource(clock=clock, noise_A=0, noise_V=0)  # forearm, 10 cm^2
    dev.connect()
    dev.output(True)
    rest = dev.skin_resistance()
    dev.set_current(4e-3)
    trace = []
    for _ in range(10):  # 40 mA*min in 10 min
        clock.sleep(60)
        dev.read()
        trace.append(dev.skin_resistance())
    assert trace == sorted(trace, reverse=True)  # falls all along
    assert trace[-1] < 0.1 * rest
    dev.set_current(0.0)
    clock.sleep(0.1)
    dev.read()
    after = dev.skin_resistance()
    recovery = []
    for _ in range(30):
        clock.sleep(60)
        dev.read()
        recovery.append(dev.skin_resistance())
    assert recovery == sorted(recovery)  # climbs back
    ratio = recovery[-1] / after
    assert 1.5 <= ratio <= 6.0, ratio
    assert recovery[-1] < rest  # still short of the resting value


def test_a_bad_data_file_is_one_clear_error(tmp_path: Path) -> None:
    text = (Path(load_data.__wrapped__.__defaults__[0])).read_text()  # type: ignore[attr-defined]
    bad = tmp_path / "load.toml"
    bad.write_text(text.replace('value = "20 ohm"', 'value = "20 mA"'))
    with pytest.raises(ConfigError, match="sweat_short_resistance"):
        load_data(bad)
    bad.write_text(text.replace('source = "rosell1988"', 'source = "nobody2099"'))
    with pytest.raises(ConfigError, match="nobody2099"):
        load_data(bad)


def test_loads_are_frozen_and_checked() -> None:
    load = SkinLoad.from_physiology()
    with pytest.raises(dataclasses.FrozenInstanceError):
        load.area_cm2 = 1.0  # type: ignore[misc]
    with pytest.raises(ConfigError, match="area_cm2"):
        dataclasses.replace(load, area_cm2=0.0)
