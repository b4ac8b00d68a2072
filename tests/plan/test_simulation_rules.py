"""Simulation-based rules (prediction = true in rules.toml): sim.ph and sim.burn-risk,
each allowed and refused, through check_plan(plan, extra=[SimulationCheck()])."""

from __future__ import annotations

import pytest
from plan_helpers import plan_of

from ionto.plan.predict.checks import SimulationCheck
from ionto.plan.safety import check_plan, default_rules

pytestmark = pytest.mark.engine

CARBON = {"active": {"type": "return-pad-20", "area": "10 cm^2"}}
LONG = "ramp to 4 mA over 30 s\nhold 4 mA until 79 mA*min\nramp to 0 mA over 30 s"


def sim_findings(name: str, **changes: object) -> dict[str, list[tuple[str, str]]]:
    report = check_plan(plan_of(name, **changes), extra=[SimulationCheck()])
    out: dict[str, list[tuple[str, str]]] = {}
    for f in report.findings:
        if f.id.startswith("sim."):
            out.setdefault(f.id, []).append((f.severity, f.message))
    return out


def test_prediction_rules_are_not_run_by_the_plain_check() -> None:
    book = default_rules()
    assert {r for r, rule in book.rules.items() if rule.prediction} == {"sim.ph", "sim.burn-risk"}
    report = check_plan(plan_of("lidocaine-forearm", electrodes=CARBON, protocol=LONG))
    assert not any(f.id.startswith("sim.") for f in report.findings)


def test_ph_allowed_under_silver() -> None:
    found = sim_findings("lidocaine-forearm")
    assert "sim.ph" not in found
    (burn,) = found["sim.burn-risk"]
    assert burn[0] == "info"


@pytest.mark.slow
def test_ph_refused_under_an_inert_anode_with_a_long_session() -> None:
    found = sim_findings("lidocaine-forearm", electrodes=CARBON, protocol=LONG)
    severities = [s for s, _ in found["sim.ph"]]
    assert severities == ["error"], found
    assert "below the acid burn limit 3" in found["sim.ph"][0][1]


def test_ph_limits_are_parameters_a_clinic_can_set() -> None:
    found = sim_findings(
        "dexamethasone-knee",
        electrodes=CARBON,
        protocol=LONG,
        parameters={"sim.ph": {"alkaline_burn": "13", "alkaline_irritation": "13"}},
    )
    assert "sim.ph" not in found


def test_alkali_under_an_inert_cathode_is_refused() -> None:
    found = sim_findings("dexamethasone-knee", electrodes=CARBON, protocol=LONG)
    assert any(s == "error" and "alkaline burn" in m for s, m in found["sim.ph"]), found


def test_burn_risk_refused_when_density_charge_and_ph_add_up() -> None:
    at_limits = sim_findings("dexamethasone-knee", electrodes=CARBON, protocol=LONG)
    ((severity, message),) = at_limits["sim.burn-risk"]
    assert severity == "warning" and "reaches the warning level 1" in message
    found = sim_findings(
        "dexamethasone-knee",
        electrodes=CARBON,
        protocol="ramp to 5 mA over 30 s\nhold 5 mA until 160 mA*min\nramp to 0 mA over 30 s",
    )
    ((severity, message),) = found["sim.burn-risk"]
    assert severity == "error" and "reaches the error level 1.5" in message


def test_burn_risk_grows_with_current_density_and_charge() -> None:
    """Claim P10: the indicator scales with current density, charge and pH excursion."""
    from ionto.plan.predict.run import predict
    from ionto.plan.safety.checks_simulation import burn_index
    from ionto.plan.safety.context import Context

    def index(protocol: str) -> float:
        plan = plan_of("lidocaine-forearm", protocol=protocol)
        return burn_index(Context(plan, default_rules()), predict(plan))[0]

    low = index("ramp to 2 mA over 30 s\nhold 2 mA until 19 mA*min\nramp to 0 mA over 30 s")
    mid = index("ramp to 4 mA over 30 s\nhold 4 mA until 38 mA*min\nramp to 0 mA over 30 s")
    assert 0 < low < mid
