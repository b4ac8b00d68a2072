"""A real current source behind ``pytest --device-port PORT`` (skipped without it).

Connect a 1 kohm resistor (>= 0.25 W) across the leads, active lead on the resistor's
marked end; no person. The tests speak the line protocol of docs/device-protocol.md.
"""

from __future__ import annotations

import pytest

from ionto.plan.protocol import parse
from ionto.run.clearance import SafetyClearance
from ionto.run.clock import MonotonicClock
from ionto.run.controller import Controller, ControllerConfig
from ionto.run.devices import OutOfRangeError
from ionto.run.serial_driver import SerialCurrentSource

pytestmark = pytest.mark.hardware
LOAD_OHM = 1000.0


@pytest.fixture
def device(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    dev = SerialCurrentSource(request.config.getoption("--device-port"))
    dev.connect()
    yield dev
    dev.abort()
    dev.close()


def test_identity_capabilities_and_range(device: SerialCurrentSource) -> None:
    assert len(device.identify().split(",")) == 4
    caps = device.capabilities
    assert caps.max_current_A > 0 and caps.compliance_V > 0 and caps.resolution_A > 0
    with pytest.raises(OutOfRangeError):
        device.protocol.query(f"CURR {caps.max_current_A * 2e3:g}")  # type: ignore[union-attr]
    reading = device.read()
    assert reading.status in ("off", "ok") and abs(reading.current_A) < 1e-5


def test_a_short_bench_run_on_the_test_resistor(device: SerialCurrentSource) -> None:
    protocol = parse("ramp to 1 mA over 2 s; hold 1 mA for 6 s; ramp to 0 mA over 2 s")
    ctl = Controller(
        device,
        protocol,
        config=ControllerConfig(period=0.1),
        clock=MonotonicClock(),
        polarity_confirmed=True,
        contraindications_confirmed=True,
        clearance=SafetyClearance.bench(protocol, f"{LOAD_OHM:g} ohm test resistor"),
    )
    out = ctl.run()
    assert out.exit_status == "success", out
    assert out.delivered_mAmin == pytest.approx(protocol.dose_mAmin, rel=0.05)
    z = ctl.last_reading.impedance_ohm if ctl.last_reading else 0.0
    assert z == pytest.approx(LOAD_OHM, rel=0.1)
    reading = device.read()
    assert reading.status in ("off", "aborted") and abs(reading.current_A) < 1e-5


def test_abort_stops_the_output_at_once(device: SerialCurrentSource) -> None:
    device.output(True)
    device.set_current(1e-3)
    device.abort()
    reading = device.read()
    assert reading.status in ("off", "aborted") and abs(reading.current_A) < 1e-5
