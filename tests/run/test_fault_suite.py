"""Every fault through the simulated source and through the serial line protocol (pty
emulator): detected, output at zero within one control period of the detection, the
expected state, and a log whose replay equals the controller's counters."""

from __future__ import annotations

import pytest

from ionto.run.devices import Fault
from ionto.run.faults import FAULTS, drill, table

#: fault -> (monitor or reason that must end the run, state, most periods to detection)
EXPECTED = {
    Fault.ELECTRODE_LIFTED: ("open_circuit", "fault", 2),
    Fault.SWEAT_SHORT: ("collapse", "fault", 1),
    Fault.LEAD_BREAK: ("open_circuit", "fault", 1),
    Fault.DRIVER_HANG: ("watchdog", "fault", 3),  # the watchdog waits 3 periods
    Fault.OVER_CURRENT: ("overcurrent", "fault", 1),
    Fault.LEADS_SWAPPED: ("polarity", "fault", 1),
    Fault.COMPLIANCE_REACHED: ("compliance", "fault", 1),
    Fault.PATIENT_STOP: ("patient stop", "aborted", 1),
}


def test_every_fault_has_an_expectation() -> None:
    assert set(EXPECTED) == set(FAULTS) == set(Fault)


def check(fault: Fault, transport: str) -> None:
    result = drill(fault, transport)
    by, state, periods = EXPECTED[fault]
    assert result.state == state and result.reason.startswith(by), result
    assert result.latency_periods is not None and 1 <= result.latency_periods <= periods, result
    assert result.safe_after_s is not None and result.safe_after_s <= result.period, result
    assert result.output_zero, result
    assert result.replay_matches, result


@pytest.mark.parametrize("fault", list(Fault))
def test_fault_through_the_simulated_source(fault: Fault) -> None:
    check(fault, "sim")


@pytest.mark.slow
@pytest.mark.parametrize("fault", list(Fault))
def test_fault_through_the_serial_emulator(fault: Fault) -> None:
    check(fault, "serial")


def test_table_lists_every_fault() -> None:
    text = table(("sim",))
    assert text.count("\n") == len(FAULTS) + 1
    assert all(f"| {f.value} | sim |" in text for f in Fault)
