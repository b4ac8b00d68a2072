"""The controller: state machine, schedule, dose from measured current, monitors, faults."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ionto.plan.protocol import parse
from ionto.run.clearance import SafetyClearance
from ionto.run.clock import SimClock
from ionto.run.controller import (
    TERMINAL,
    TRANSITIONS,
    Controller,
    ControllerConfig,
    IllegalTransition,
    Sample,
    State,
)
from ionto.run.devices import DeviceError, Fault, SimulatedCurrentSource
from ionto.run.monitors import Hysteresis
from ionto.run.schedule import Schedule

MakeController = Callable[..., Controller]
PERIOD = 0.1


def states(ctl: Controller) -> list[str]:
    return [e.message.split(":")[0] for e in ctl.events if e.kind == "transition"]


def test_transition_table_is_complete_and_terminal_states_only_reset() -> None:
    assert set(TRANSITIONS) == set(State)
    for state in TERMINAL:
        assert TRANSITIONS[state] == {State.IDLE}
    for state, targets in TRANSITIONS.items():
        if state not in TERMINAL | {State.IDLE}:
            assert {State.ABORTED, State.FAULT} <= targets, state


def test_lidocaine_runs_to_target_dose(make_controller: MakeController, source) -> None:
    samples: list[Sample] = []
    ctl = make_controller(on_period=lambda c, s: samples.append(s))
    out = ctl.run()
    assert out.exit_status == "success", out
    assert out.delivered_mAmin == pytest.approx(40.0, abs=0.02)
    assert states(ctl) == [
        "idle -> precheck",
        "precheck -> armed",
        "armed -> ramp_up",
        "ramp_up -> deliver",
        "deliver -> ramp_down",
        "ramp_down -> complete",
    ]
    # the ramps and the contact test deliver a little, so the target is reached just
    # before the planned end of the last ramp
    assert out.duration_s == pytest.approx(630.0, abs=3.0)
    # the dose is integrated from the measured current, not from the setpoint
    measured = sum(abs(s.current_A or 0) for s in samples) * PERIOD / 0.06 * 1e3 / 1e3
    assert measured == pytest.approx(out.delivered_mAmin, abs=0.01)
    assert not source.output_enabled and source.setpoint == 0.0  # output off at the end
    assert all(e.t >= 0 for e in ctl.events)


def test_dose_follows_measured_current_when_the_meter_reads_high(
    clock: SimClock, make_controller: MakeController, source
) -> None:
    """A source that delivers 10 % more than asked: the controller stops 10 % earlier."""
    real_read = source.read

    def high():  # type: ignore[no-untyped-def]
        r = real_read()
        return type(r)(r.t, r.current_A * 1.1, r.voltage_V, r.compliance, r.status)

    source.read = high
    out = make_controller("hold 1 mA until 10 mA*min", overcurrent_A=1e-3).run()
    assert out.delivered_mAmin == pytest.approx(10.0, abs=0.01)
    assert out.duration_s == pytest.approx(600 / 1.1, abs=0.3)


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"polarity_confirmed": False}, "polarity not confirmed"),
        ({"contraindications_confirmed": False}, "contraindications not confirmed"),
        ({"text": "hold 40 mA for 1 min"}, "exceeds the device maximum 30 mA"),
        ({"text": "pulse 2 mA at 1 kHz, 50% duty, for 1 min"}, "shorter than the 0.1 s"),
    ],
)
def test_refusals_with_reasons(make_controller: MakeController, source, kwargs, reason) -> None:
    ctl = make_controller(**kwargs)
    out = ctl.run()
    assert out.exit_status == "abort" and reason in out.reason
    assert any(e.kind == "refused" and reason in e.message for e in ctl.events)
    assert not source.output_enabled


def test_contact_check_fails_on_open_circuit(make_controller: MakeController, source) -> None:
    source.inject(Fault.LEAD_BREAK)
    out = make_controller().run()
    assert out.exit_status == "abort" and "no contact" in out.reason
    assert out.delivered_mAmin < 1e-3


def run_with_fault(
    make_controller: MakeController, source: SimulatedCurrentSource, fault: str, at: float = 60.0
) -> tuple[Controller, float]:
    injected: list[float] = []

    def inject(ctl: Controller, sample: Sample) -> None:
        if not injected and sample.t >= at:
            source.inject(fault)
            injected.append(sample.t)

    ctl = make_controller(on_period=inject)
    ctl.run()
    return ctl, injected[0]


@pytest.mark.parametrize(
    ("fault", "monitor", "max_periods"),
    [
        ("lead_break", "open_circuit", 2),
        ("electrode_lifted", "open_circuit", 3),
        ("sweat_short", "collapse", 2),
        ("over_current", "overcurrent", 2),
        ("driver_hang", "watchdog", 3),
    ],
)
def test_fault_detected_within_periods(
    make_controller: MakeController, source, fault, monitor, max_periods
) -> None:
    ctl, t_fault = run_with_fault(make_controller, source, fault)
    assert ctl.state is State.FAULT and ctl.outcome is not None
    assert ctl.outcome.exit_status == "fault" and ctl.outcome.reason.startswith(monitor)
    trip = next(e for e in ctl.events if e.kind == "trip")
    periods = round((trip.t - t_fault) / PERIOD)
    assert 1 <= periods <= max_periods, (fault, periods)
    assert not source.output_enabled and source.setpoint == 0.0
    # terminal until reset; after reset a new run starts from zero dose
    with pytest.raises(IllegalTransition):
        ctl.start()
    source.clear()
    ctl.reset()
    assert ctl.state is State.IDLE and ctl.dose_mAmin == 0.0
    assert ctl.run().exit_status == "success"


def test_driver_hang_that_blocks(make_controller: MakeController, source) -> None:
    source.hang = "block"
    ctl, t_fault = run_with_fault(make_controller, source, "driver_hang")
    assert ctl.outcome is not None and ctl.outcome.reason.startswith("watchdog")
    assert not source.output_enabled and source.setpoint == 0.0


HIGH_Z = {"r_sc_ohm_cm2": 300e3, "activation_C_cm2": 1e9}  # 30.5 kohm: 4 mA would need 122 V


def test_compliance_extend_delivers_the_dose_later(make_controller: MakeController, source):
    source.with_load(**HIGH_Z)
    ctl = make_controller("hold 4 mA until 4 mA*min", contact_max_ohm=1e6)
    out = ctl.run()
    assert out.exit_status == "success"
    assert out.delivered_mAmin == pytest.approx(4.0, abs=0.01)
    assert out.duration_s == pytest.approx(60 * 4 / (60 / 30.5e3 * 1e3), rel=0.01)
    assert any(e.kind == "trip" and "resistance limit" in e.message for e in ctl.events)
    assert any("exceeds the 60 V compliance" in e.message for e in ctl.events)


def test_compliance_extend_for_time_holds(make_controller: MakeController, source) -> None:
    source.with_load(**HIGH_Z)
    out = make_controller("hold 4 mA for 1 min", contact_max_ohm=1e6, extend_limit=10).run()
    assert out.delivered_mAmin == pytest.approx(4.0, abs=0.01)  # the planned 4 mA*min
    assert out.duration_s > 120


def test_compliance_alarm_refuses_or_faults(make_controller: MakeController, source) -> None:
    source.with_load(**HIGH_Z)
    out = make_controller("hold 4 mA for 1 min", contact_max_ohm=1e6, compliance="alarm").run()
    assert out.exit_status == "abort" and "compliance" in out.reason  # predicted at precheck
    source.with_load(r_sc_ohm_cm2=20e3, activation_C_cm2=1e9)
    hold = parse("hold 4 mA for 1 min")
    ctl = Controller(
        source,
        hold,
        clearance=SafetyClearance.bench(hold, "simulated load"),
        config=ControllerConfig(compliance="alarm"),
        clock=source.clock,
        polarity_confirmed=True,
        contraindications_confirmed=True,
        on_period=lambda c, s: s.t > 20 and source.with_load(r_sc_ohm_cm2=300e3),
    )
    out = ctl.run()
    assert out.exit_status == "fault" and out.reason.startswith("compliance")


def test_pause_resume(make_controller: MakeController, source) -> None:
    log: list[Sample] = []

    def script(ctl: Controller, s: Sample) -> None:
        log.append(s)
        if len(log) == 300:
            ctl.pause()
        if len(log) == 400:
            ctl.pause()  # refused: already paused
            ctl.resume()

    ctl = make_controller("ramp to 2 mA over 10 s; hold 2 mA for 1 min", on_period=script)
    out = ctl.run()
    assert out.exit_status == "success"
    paused = [s for s in log if s.state == "paused"]
    assert paused and all(s.setpoint_A == 0 for s in paused)
    assert paused[-1].dose_mAmin - paused[1].dose_mAmin < 1e-3  # nothing delivered
    # the resume ramp counts: the automatic stop at the planned dose ends the hold early
    assert out.delivered_mAmin == pytest.approx(2 * 65 / 60, abs=0.01)
    assert "paused -> ramp_up" in states(ctl)
    assert any(e.kind == "refused" for e in ctl.events)


def test_patient_stop_ramps_down_then_aborts(make_controller: MakeController, source) -> None:
    log: list[Sample] = []

    def script(ctl: Controller, s: Sample) -> None:
        log.append(s)
        if len(log) == 100:
            ctl.stop("patient pressed stop")

    out = make_controller("hold 3 mA for 5 min", on_period=script).run()
    assert out.exit_status == "abort" and out.reason == "patient pressed stop"
    down = [s.setpoint_A for s in log if s.state == "ramp_down"]
    assert len(down) == pytest.approx(50, abs=2)  # 5 s at 0.1 s
    assert down == sorted(down, reverse=True)


def test_exception_in_the_loop_faults_with_output_zero(make_controller, source) -> None:
    def boom(ctl: Controller, s: Sample) -> None:
        if s.t > 5:
            raise RuntimeError("display crashed")

    out = make_controller(on_period=boom).run()
    assert out.exit_status == "fault" and "display crashed" in out.reason
    assert not source.output_enabled and source.setpoint == 0.0


def test_read_errors_are_tolerated_below_the_watchdog(make_controller, source) -> None:
    real, count = source.read, [0]

    def flaky():  # type: ignore[no-untyped-def]
        count[0] += 1
        if count[0] % 50 == 0:
            raise DeviceError("checksum")
        return real()

    source.read = flaky
    ctl = make_controller("hold 1 mA for 1 min")
    assert ctl.run().exit_status == "success"
    assert sum("read failed" in e.message for e in ctl.events) >= 10


def test_microcurrent_pulses_and_reversal(make_controller, source) -> None:
    text = "pulse 300 uA at 0.5 Hz, 50% duty, biphasic, for 1 min"
    log: list[Sample] = []
    out = make_controller(text, on_period=lambda c, s: log.append(s)).run()
    assert out.delivered_mAmin == pytest.approx(parse(text).dose_mAmin, rel=0.02)
    assert {round(s.setpoint_A * 1e6) for s in log} == {300, -300, 0}
    text = "reverse polarity every 10 s at 2 mA for 40 s"
    log.clear()
    out = make_controller(text, on_period=lambda c, s: log.append(s)).run()
    signs = [s.setpoint_A > 0 for s in log if s.setpoint_A]
    assert sum(a != b for a, b in zip(signs, signs[1:], strict=False)) == 3
    assert out.delivered_mAmin == pytest.approx(80 / 60, rel=0.01)


def test_runtime_stops_voltage_and_impedance(make_controller, source) -> None:
    out = make_controller("hold 4 mA until 9 V", max_session_s=600).run()
    # R_skin falls with charge, so the voltage falls below 9 V after a while
    assert out.exit_status == "success" and out.reason == "protocol complete"
    out2 = make_controller("hold 4 mA until 1.5 kohm", max_session_s=3600)
    outcome = out2.run()
    z = source.load.r_series_ohm + source.skin_resistance()
    assert outcome.reason == "protocol complete" and z == pytest.approx(1500, rel=0.02)


def test_session_time_limit_for_unbounded_protocols(make_controller, source) -> None:
    out = make_controller("hold 1 mA until 1 ohm", max_session_s=30, stop_ramp_s=2).run()
    assert out.exit_status == "success" and "time limit" in out.reason


def test_hysteresis_trips_and_rearms_on_separate_thresholds() -> None:
    h = Hysteresis("z", trip=100.0, rearm=50.0, count=2)
    assert [h.update(v) for v in (120, 90, 120, 130, 90, 60, None, 40, 120)] == [
        None,
        None,
        None,
        "trip",
        None,
        None,
        None,
        "rearm",
        None,
    ]
    low = Hysteresis("c", trip=100.0, rearm=150.0, above=False)
    assert [low.update(v) for v in (200, 90, 120, 160)] == [None, "trip", None, "rearm"]
    with pytest.raises(ValueError, match="re-arm"):
        Hysteresis("bad", trip=1.0, rearm=2.0)


def test_schedule_phases() -> None:
    sch = Schedule(parse("ramp to 4 mA over 30 s; hold 4 mA for 1 min; ramp to 0 mA over 30 s"))
    assert sch.phase == "ramp_up" and sch.setpoint() == 0.0
    sch.advance(15.0, 0.0, None, None)
    assert sch.setpoint() == pytest.approx(2e-3)
    sch.advance(15.0, 0.0, None, None)
    assert sch.phase == "deliver" and sch.setpoint() == pytest.approx(4e-3)
    sch.advance(60.0, 0.0, None, None)
    assert sch.phase == "ramp_down"
    sch.advance(30.0, 0.0, None, None)
    assert sch.done and sch.setpoint() == 0.0


def test_illegal_transition_raises(make_controller) -> None:
    ctl = make_controller()
    with pytest.raises(IllegalTransition, match="idle -> deliver"):
        ctl._go(State.DELIVER, "test")
