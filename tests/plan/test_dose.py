"""The dose finder (brentq on the simulator) and the calculator."""

from __future__ import annotations

import pytest
from plan_helpers import plan_of

from ionto.core.errors import ConfigError
from ionto.plan.predict.dose import calculate, electrode_area, find_dose

pytestmark = pytest.mark.engine


def test_calculator_gives_the_third_of_current_duration_dose() -> None:
    assert calculate(current=4e-3, duration=600.0)["dose"] == pytest.approx(2.4)
    assert calculate(current=2e-3, dose=2.4)["duration"] == pytest.approx(1200.0)
    assert calculate(duration=600.0, dose=2.4)["current"] == pytest.approx(4e-3)
    with pytest.raises(ConfigError, match="exactly two"):
        calculate(current=4e-3, duration=600.0, dose=2.4)
    with pytest.raises(ConfigError, match="duration"):
        calculate(current=4e-3, duration=-1.0)
    assert electrode_area(4e-3, 5.0) == pytest.approx(8e-4)  # 4 mA at 0.5 mA/cm^2: 8 cm^2


@pytest.mark.slow
def test_finds_the_protocol_for_a_target_within_the_rules() -> None:
    plan = plan_of("lidocaine-forearm")
    result = find_dose(plan, 3e-6)
    assert not result.refused, result.reason
    assert result.current == pytest.approx(4e-3)  # current_max 4 mA < 0.5 mA/cm^2 x 10 cm^2
    assert result.prediction is not None and result.plan is not None
    delivered = result.prediction.delivered[result.prediction.end]
    assert delivered == pytest.approx(3e-6, rel=5e-3)
    assert result.plan.protocol.dose_mAmin < 80.0
    assert result.report is not None and not result.report.refused
    # delivery grows with charge (P11): the simulations bracket the target in order
    runs = sorted(result.evaluations)
    assert all(b[1] > a[1] for a, b in zip(runs, runs[1:], strict=False))


@pytest.mark.slow
def test_the_allowed_density_sets_the_current() -> None:
    plan = plan_of("lidocaine-forearm", options={"current_density": "gbo-iontophoresis"})
    result = find_dose(plan, 0.5e-6)
    assert result.current == pytest.approx(1e-3)  # 0.1 mA/cm^2 x 10 cm^2
    assert "current density (active, anode)" in result.limits


def test_unreachable_target_is_refused_with_a_reason() -> None:
    result = find_dose(plan_of("lidocaine-forearm"), 50e-6)
    assert result.refused and result.plan is None
    assert "unreachable within the rules" in result.reason and "80 mA*min" in result.reason
