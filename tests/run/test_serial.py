"""The serial driver: the byte exchange against a fake, then end to end through a pty
emulator with pyserial (including faults)."""

from __future__ import annotations

import pytest

from ionto.plan.protocol import parse
from ionto.run.clearance import SafetyClearance
from ionto.run.clock import MonotonicClock
from ionto.run.controller import Controller, ControllerConfig
from ionto.run.devices import (
    CurrentSource,
    DeviceError,
    DeviceTimeout,
    OutOfRangeError,
    SimulatedCurrentSource,
)
from ionto.run.emulator import DeviceEmulator
from ionto.run.serial_driver import SerialCurrentSource


class Expected:
    """A transport that checks every command against ``(command, reply)`` pairs in order
    (pymeasure's expected_protocol); ``reply=None`` means a timeout."""

    def __init__(self, pairs: list[tuple[str, str | None]]) -> None:
        self.pairs = list(pairs)
        self.reply: bytes = b""

    def write(self, data: bytes) -> int:
        assert self.pairs, f"unexpected command {data!r}"
        command, reply = self.pairs.pop(0)
        assert data == command.encode() + b"\n"
        self.reply = b"" if reply is None else reply.encode() + b"\n"
        return len(data)

    def readline(self) -> bytes:
        return self.reply


CONNECT = [("CAP?", "30,60,0.001"), ("OUTP OFF", "OK"), ("CURR 0", "OK")]


def test_expected_exchange() -> None:
    fake = Expected(
        [
            *CONNECT,
            ("*IDN?", "IONTO,X,1,1.0"),
            ("OUTP ON", "OK"),
            ("CURR 2.500000", "OK"),
            ("MEAS?", "2.499000,5.1000,OK,1.2500"),
            ("MEAS?", "1.000000,60.0000,CMPL,1.3500"),
            ("MEAS?", "1.000000,-2.5000,STOP,1.4500"),
            ("ABOR", "OK"),
        ]
    )
    dev = SerialCurrentSource("fake", transport=fake)
    dev.connect()
    assert isinstance(dev, CurrentSource)
    assert dev.capabilities.max_current_A == pytest.approx(0.03)
    assert dev.identify() == "IONTO,X,1,1.0"
    dev.output(True)
    dev.set_current(2.5e-3)
    r = dev.read()
    assert (r.t, r.current_A, r.voltage_V, r.status) == (1.25, pytest.approx(2.499e-3), 5.1, "ok")
    assert dev.read().compliance
    stop = dev.read()
    assert stop.status == "stop" and stop.voltage_V == -2.5  # the patient's stop button
    dev.abort()
    assert not fake.pairs
    with pytest.raises(OutOfRangeError, match="exceeds the device maximum"):
        dev.set_current(0.05)  # refused before anything is sent


@pytest.mark.parametrize(
    ("reply", "error", "match"),
    [
        (None, DeviceTimeout, "no reply"),
        ("ERR 2 |50 mA| exceeds 30 mA", OutOfRangeError, "device: |50 mA|"),
        ("ERR 1 unknown command", DeviceError, "device error 1"),
        ("1,2", DeviceError, "is not I_mA,V_V,STATUS,t_s"),
    ],
)
def test_error_replies(reply: str | None, error: type[Exception], match: str) -> None:
    dev = SerialCurrentSource("fake", transport=Expected([*CONNECT, ("MEAS?", reply)]))
    dev.connect()
    with pytest.raises(error, match=match):
        dev.read()


def test_emulator_answers_the_protocol() -> None:
    emu = DeviceEmulator(SimulatedCurrentSource(clock=MonotonicClock()))
    assert emu.handle("FOO") == "ERR 1 unknown command 'FOO'"
    emu.source.connect()
    assert emu.handle("CURR 50").startswith("ERR 2")
    assert emu.handle("CURR abc") == "ERR 3 bad argument 'abc'"
    assert emu.handle("OUTP ON") == "OK"
    assert emu.handle("MEAS?").count(",") == 3
    emu.stop()


def run_over_serial(fault: str | None = None, hang: str = "stale"):  # type: ignore[no-untyped-def]
    clock = MonotonicClock(speed=5.0)
    source = SimulatedCurrentSource(clock=clock, latency=0.05, hang=hang)
    with DeviceEmulator(source) as emu:
        dev = SerialCurrentSource(emu.port, timeout=0.1)
        dev.connect()
        assert dev.identify().startswith("IONTO,EMULATOR")

        def inject(ctl: Controller, sample) -> None:  # type: ignore[no-untyped-def]
            if fault and sample.t > 4 and not source.faults:
                source.inject(fault)

        protocol = parse("ramp to 2 mA over 2 s; hold 2 mA for 4 s; ramp to 0 mA over 2 s")
        ctl = Controller(
            dev,
            protocol,
            clearance=SafetyClearance.bench(protocol, "emulator"),
            config=ControllerConfig(period=0.1, resume_ramp_s=1),
            clock=clock,
            polarity_confirmed=True,
            contraindications_confirmed=True,
            on_period=inject,
        )
        out = ctl.run()
        dev.close()
        return out, emu.log, source


def test_end_to_end_over_a_pty() -> None:
    out, log, source = run_over_serial()
    assert out.exit_status == "success", out
    assert out.delivered_mAmin == pytest.approx(2 * 6 / 60, rel=0.03)
    assert ("OUTP OFF", "OK") in log[-3:]
    assert not source.output_enabled


def test_lead_break_through_the_emulator() -> None:
    out, _, source = run_over_serial("lead_break")
    assert out.exit_status == "fault" and out.reason.startswith("open_circuit")
    assert not source.output_enabled


def test_hung_device_trips_the_watchdog() -> None:
    out, log, source = run_over_serial("driver_hang", hang="block")
    assert out.exit_status == "fault" and out.reason.startswith("watchdog")
    assert ("MEAS?", None) in log
    assert not source.output_enabled  # ABOR / OUTP OFF still reached the output stage
