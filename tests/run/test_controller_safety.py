"""Pause with ramps, every exit path, the precheck (contact, electrical polarity, plan
safety clearance) and per-electrode dose limits."""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from ionto.plan.plan import load_plan, plan_from_dict
from ionto.plan.protocol import parse
from ionto.run.clearance import (
    REQUIRED_RULES,
    ElectrodeLimit,
    SafetyClearance,
    clear_plan,
    electrode_limits,
)
from ionto.run.controller import Controller, Sample
from ionto.run.devices import Fault, SimulatedCurrentSource

MakeController = Callable[..., Controller]
ROOT = Path(__file__).resolve().parents[2]
PLANS = ROOT / "examples" / "plans"
HOLD = "ramp to 2 mA over 10 s; hold 2 mA for 1 min; ramp to 0 mA over 10 s"


def transitions(ctl: Controller) -> list[str]:
    return [e.message.split(":")[0] for e in ctl.events if e.kind == "transition"]


def scripted(actions: dict[int, Callable[[Controller], None]], log: list[Sample]):  # type: ignore[no-untyped-def]
    def script(ctl: Controller, s: Sample) -> None:
        log.append(s)
        action = actions.get(len(log))
        if action is not None:
            action(ctl)

    return script


# ------------------------------------------------------------------ pause


def test_pause_ramps_down_and_resume_ramps_back_up(make_controller: MakeController) -> None:
    log: list[Sample] = []
    actions = {300: Controller.pause, 450: Controller.resume}
    ctl = make_controller(HOLD, on_period=scripted(actions, log))
    out = ctl.run()
    assert out.exit_status == "success"
    assert transitions(ctl)[3:] == [
        "ramp_up -> deliver",
        "deliver -> ramp_down",  # the pause ramp
        "ramp_down -> paused",
        "paused -> ramp_up",  # back up to the set current
        "ramp_up -> deliver",
        "deliver -> ramp_down",
        "ramp_down -> complete",
    ]
    k = next(i for i, s in enumerate(log) if s.state == "ramp_down")
    down = [s for s in log[k:] if s.state == "ramp_down"]
    down = down[: next(i for i, s in enumerate(down[1:], 1) if s.t - down[i - 1].t > 0.15)]
    assert len(down) == pytest.approx(50, abs=2)  # 5 s at 0.1 s
    levels = [s.setpoint_A for s in down]
    assert levels == sorted(levels, reverse=True) and levels[0] < 2e-3
    # the dose keeps counting from the measured current during the ramp
    assert down[-1].dose_mAmin - down[0].dose_mAmin == pytest.approx(
        sum(abs(s.current_A or 0) for s in down[1:]) * 0.1 / 0.06, rel=0.02
    )
    assert down[-1].dose_mAmin > down[0].dose_mAmin + 0.05
    paused = [s for s in log if s.state == "paused"]
    assert paused and all(s.setpoint_A == 0 for s in paused)
    assert paused[-1].dose_mAmin - paused[1].dose_mAmin < 1e-3  # meter noise only
    j = next(i for i, s in enumerate(log) if s.state == "paused")
    up = [s.setpoint_A for s in log[j:] if s.state == "ramp_up"]
    assert len(up) == pytest.approx(50, abs=2) and up == sorted(up)
    assert up[-1] == pytest.approx(2e-3, rel=0.03)
    # the plan's dose target (2 mA for 70 s in all) is met; the pause ramps count in it
    assert out.delivered_mAmin == pytest.approx(2 * 70 / 60, abs=0.01)


def test_pause_refused_where_it_makes_no_sense(make_controller: MakeController) -> None:
    log: list[Sample] = []
    actions = {
        200: Controller.pause,
        210: Controller.pause,  # refused: already ramping down
        220: Controller.resume,  # refused: not paused yet
        260: Controller.resume,
        270: Controller.resume,  # refused: ramping up
    }
    ctl = make_controller(HOLD, on_period=scripted(actions, log))
    assert ctl.run().exit_status == "success"
    refused = [e.message for e in ctl.events if e.kind == "refused"]
    assert len(refused) == 3 and all("ramp_down" in m for m in refused[:2])
    assert "ramp_up" in refused[2]


PAUSE_EXITS: list[tuple[str, Callable[[Controller, SimulatedCurrentSource], None], str]] = [
    ("abort", lambda c, s: c.abort("operator abort"), "abort"),
    ("stop", lambda c, s: c.stop("patient stop"), "abort"),
    ("fault", lambda c, s: s.inject(Fault.LEAD_BREAK), "fault"),
    ("exception", lambda c, s: (_ for _ in ()).throw(RuntimeError("display died")), "fault"),
    ("ctrl-c", lambda c, s: (_ for _ in ()).throw(KeyboardInterrupt()), "abort"),
]


@pytest.mark.parametrize("when", [310, 400])  # during the pause ramp, while paused
@pytest.mark.parametrize(("name", "action", "status"), PAUSE_EXITS)
def test_every_exit_during_a_pause_zeroes_the_output(
    make_controller: MakeController, source, when, name, action, status
) -> None:
    log: list[Sample] = []
    actions = {300: Controller.pause, when: lambda c: action(c, source)}
    ctl = make_controller(HOLD, on_period=scripted(actions, log), max_pause_s=30.0)
    out = ctl.run()
    if name == "fault" and when == 400:
        # no current while paused, so nothing to detect: the pause limit ends the session
        assert out.exit_status == "abort" and "pause longer than 30 s" in out.reason
    else:
        assert out.exit_status == status, (name, out)
    assert log[-1].state in ("ramp_down", "paused", "aborted", "fault")
    assert not source.output_enabled and source.setpoint == 0.0


def test_a_fault_while_paused_is_met_on_the_way_back_up(make_controller, source) -> None:
    log: list[Sample] = []
    actions = {
        300: Controller.pause,
        400: lambda c: source.inject(Fault.LEAD_BREAK),
        420: Controller.resume,
    }
    out = make_controller(HOLD, on_period=scripted(actions, log)).run()
    assert out.exit_status == "fault" and out.reason.startswith("open_circuit")
    assert not source.output_enabled and source.setpoint == 0.0


# ------------------------------------------------------------------ precheck


def test_precheck_logs_the_contact_and_polarity_test(make_controller, source) -> None:
    samples: list[Sample] = []

    class Keep:
        def on_start(self, info):  # type: ignore[no-untyped-def]
            self.info = info

        def on_sample(self, s):  # type: ignore[no-untyped-def]
            samples.append(s)

        def on_event(self, e):  # type: ignore[no-untyped-def]
            pass

        def on_stop(self, o):  # type: ignore[no-untyped-def]
            pass

    keep = Keep()
    ctl = make_controller("hold 1 mA for 5 s", listeners=(keep,))
    ctl.run()
    pre = [s for s in samples if s.state == "precheck"]
    assert len(pre) == 5 and all(s.setpoint_A == pytest.approx(100e-6) for s in pre)
    assert all(s.voltage_V is not None and s.voltage_V > 0.2 for s in pre)  # 3.5 kohm
    steps = [e.message for e in ctl.events if e.kind == "step"]
    assert any(m.startswith("polarity check:") and "as planned" in m for m in steps)
    assert keep.info["clearance"]["kind"] == "bench"
    assert ctl.periods == len(samples)


def test_leads_swapped_are_refused_at_the_precheck(make_controller, source) -> None:
    source.inject(Fault.LEADS_SWAPPED)
    ctl = make_controller(HOLD)
    out = ctl.run()
    assert out.exit_status == "abort" and out.reason.startswith("polarity check failed")
    assert "leads swapped" in out.reason and out.delivered_mAmin < 1e-3
    assert not source.output_enabled and source.setpoint == 0.0
    source.clear()
    ctl.reset()
    assert ctl.run().exit_status == "success"


def test_cathode_plans_drive_the_active_lead_negative(make_controller, source) -> None:
    text = "ramp to 2 mA over 5 s; hold 2 mA for 30 s; ramp to 0 mA over 5 s"
    bench = SafetyClearance.bench(parse(text), "cathode", polarity="cathode")
    log: list[Sample] = []
    ctl = make_controller(text, clearance=bench, on_period=lambda c, s: log.append(s))
    out = ctl.run()
    assert out.exit_status == "success"
    assert out.delivered_mAmin == pytest.approx(2 * 35 / 60, abs=0.01)
    held = [s for s in log if s.state == "deliver"]
    assert all(s.setpoint_A == pytest.approx(-2e-3) for s in held)
    assert all(s.voltage_V is not None and s.voltage_V < 0 for s in held[2:])
    # the same plan with the leads crossed: the active electrode would be the anode
    source.inject(Fault.LEADS_SWAPPED)
    ctl.reset()
    assert ctl.run().reason.startswith("polarity check failed")


def test_a_polarity_too_small_to_judge_is_left_to_the_monitor(make_controller, source) -> None:
    source.with_load(r_sc_ohm_cm2=1.0, r_sc_min_ohm_cm2=1.0, r_series_ohm=150.0)
    ctl = make_controller("hold 1 mA for 5 s")  # 100 uA * 150 ohm = 15 mV < 50 mV
    assert ctl.run().exit_status == "success"
    assert any(e.kind == "warning" and "too small to judge" in e.message for e in ctl.events)


def test_leads_crossed_during_delivery_trip_the_polarity_monitor(make_controller, source):
    log: list[Sample] = []
    ctl = make_controller(
        HOLD, on_period=scripted({250: lambda c: source.inject("leads_swapped")}, log)
    )
    out = ctl.run()
    assert out.exit_status == "fault" and out.reason.startswith("polarity")
    trip = next(e for e in ctl.events if e.kind == "trip")
    assert round((trip.t - log[249].t) / 0.1) == 1


def test_precheck_needs_a_safety_clearance(make_controller, source) -> None:
    out = make_controller(HOLD, clearance=None).run()
    assert out.exit_status == "abort" and "no safety clearance" in out.reason
    other = SafetyClearance.bench(parse("hold 1 mA for 1 min"), "another protocol")
    out = make_controller(HOLD, clearance=other).run()
    assert "protocol differs" in out.reason
    partial = dataclasses.replace(
        SafetyClearance.bench(parse(HOLD), "x"), kind="plan", rules_checked=("polarity.required",)
    )
    out = make_controller(HOLD, clearance=partial).run()
    assert (
        "did not run polarity.substance" in out.reason and "contraindication.answer" in out.reason
    )
    assert not source.output_enabled


def test_clearance_from_the_plan_safety_checker() -> None:
    ok = clear_plan(load_plan(PLANS / "lidocaine-forearm.toml"))
    assert ok.kind == "plan" and not ok.refused and ok.polarity == "anode"
    assert set(REQUIRED_RULES) <= set(ok.rules_checked)
    assert not ok.problems(load_plan(PLANS / "lidocaine-forearm.toml").protocol)
    bad_plan = load_plan(PLANS / "refused-dexamethasone-anode.toml")
    bad = clear_plan(bad_plan)
    assert bad.refused and any(r.startswith("polarity.substance") for r in bad.reasons)
    assert any("polarity.substance" in p for p in bad.problems(bad_plan.protocol))


# ------------------------------------------------------------------ electrode limits


def plan_with(electrode: str, protocol: str, **options: str):  # type: ignore[no-untyped-def]
    data = tomllib.loads((PLANS / "lidocaine-forearm.toml").read_text())
    data["electrodes"]["active"] = {"type": electrode, "area": "10 cm^2"}
    data["protocol"] = protocol
    data["options"] = dict(options)
    return plan_from_dict(data, source="test-plan")


def test_electrode_limits_come_from_the_library() -> None:
    limits = electrode_limits(plan_with("dupel-blue", HOLD))
    assert [(x.role, x.name, x.capacity_mAmin) for x in limits] == [
        ("active", "dupel-blue", pytest.approx(80.0))
    ]
    assert "cardiva-dupel-blue" in limits[0].source
    wider = electrode_limits(plan_with("dupel-blue", HOLD, electrode_capacity="510k"))
    assert wider[0].capacity_mAmin == pytest.approx(160.0)
    assert electrode_limits(load_plan(PLANS / "lidocaine-forearm.toml")) == ()


def test_a_dose_beyond_an_electrode_is_refused_before_start(make_controller, source) -> None:
    limit = ElectrodeLimit("active", "test-pad", 20.0, "test")
    out = make_controller("hold 2 mA for 15 min", electrodes=(limit,)).run()  # 30 mA*min
    assert out.exit_status == "abort" and "exceeds the capacity left" in out.reason
    assert "test-pad" in out.reason and out.delivered_mAmin == 0.0
    used = dataclasses.replace(limit, used_mAmin=15.0)
    out = make_controller("hold 2 mA for 4 min", electrodes=(used,)).run()  # 8 > 5 left
    assert out.exit_status == "abort" and "15 already used" in out.reason
    assert make_controller("hold 2 mA for 4 min", electrodes=(limit,)).run().exit_status == (
        "success"
    )


def test_reaching_an_electrode_capacity_is_a_controlled_stop(make_controller, source) -> None:
    log: list[Sample] = []
    limit = ElectrodeLimit("active", "test-pad", 5.0, "test")
    ctl = make_controller(
        "ramp to 2 mA over 5 s; hold 2 mA until 1 ohm",  # unbounded: only the limit stops it
        electrodes=(limit,),
        on_period=lambda c, s: log.append(s),
    )
    out = ctl.run()
    assert out.exit_status == "abort" and out.reason.startswith("electrode capacity reached")
    assert 4.9 <= out.delivered_mAmin <= 5.0
    down = [s.setpoint_A for s in log if s.state == "ramp_down"]
    assert len(down) == pytest.approx(50, abs=2) and down == sorted(down, reverse=True)
    assert not source.output_enabled and source.setpoint == 0.0


def test_C3_controller_refuses_microcurrent_above_the_cap(make_controller, source) -> None:
    """The controller runs only what the plan's safety check cleared: a microcurrent plan
    at 610 uA (above the 600 uA cap) is refused by the planner, and the controller given
    that clearance aborts at the precheck with the cap as the reason and never enables
    its output; at 600 uA the same plan runs."""
    data = tomllib.loads((PLANS / "microcurrent-face.toml").read_text())
    for amplitude, refused in (("610 uA", True), ("600 uA", False)):
        data["protocol"] = f"pulse {amplitude} at 0.5 Hz, 50% duty, biphasic, for 10 s"
        plan = plan_from_dict(data, source="microcurrent-test")
        clearance = clear_plan(plan)
        assert clearance.refused is refused, clearance.reasons
        ctl = make_controller(str(plan.protocol), clearance=clearance, polarity_confirmed=True)
        out = ctl.run()
        if refused:
            assert out.exit_status == "abort" and "microcurrent.cap" in out.reason
            assert not source.output_enabled
        else:
            assert out.exit_status != "abort", out.reason
