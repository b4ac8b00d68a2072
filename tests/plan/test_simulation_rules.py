"""Simulation-based rules (prediction = true in rules.toml): sim.ph and sim.burn-risk,
each allowed and refused under each electrode, through
check_plan(plan, extra=[SimulationCheck()])."""

from __future__ import annotations

import pytest
from plan_helpers import plan_of

from ionto.plan.predict.checks import SimulationCheck
from ionto.plan.safety import check_plan, default_rules

pytestmark = pytest.mark.engine

CARBON = {"active": {"type": "return-pad-20", "area": "10 cm^2"}}
# a return electrode that holds the pH whatever the charge (Ag/AgCl, no rated capacity)
SILVER_RETURN = {"indifferent": {"type": "agcl-gel-10", "area": "20 cm^2"}}
CARBON_RETURN = {"indifferent": {"type": "return-pad-20", "area": "20 cm^2"}}
LONG = "ramp to 4 mA over 30 s\nhold 4 mA until 79 mA*min\nramp to 0 mA over 30 s"


def sim_findings(name: str, **changes: object) -> dict[str, list[tuple[str, str]]]:
    report = check_plan(plan_of(name, **changes), extra=[SimulationCheck()])
    out: dict[str, list[tuple[str, str]]] = {}
    for f in report.findings:
        if f.id.startswith("sim."):
            out.setdefault(f.id, []).append((f.severity, f.message))
    return out


def by_side(found: list[tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """sim.burn-risk findings by electrode (one each; the report orders by severity)."""
    out = {}
    for severity, message in found:
        side = "active" if "under the active electrode" in message else "indifferent"
        assert side not in out
        out[side] = (severity, message)
    assert set(out) == {"active", "indifferent"}
    return out


def test_prediction_rules_are_not_run_by_the_plain_check() -> None:
    book = default_rules()
    assert {r for r, rule in book.rules.items() if rule.prediction} == {"sim.ph", "sim.burn-risk"}
    report = check_plan(plan_of("lidocaine-forearm", electrodes=CARBON, protocol=LONG))
    assert not any(f.id.startswith("sim.") for f in report.findings)


def test_ph_allowed_under_silver() -> None:
    found = sim_findings("lidocaine-forearm")  # Ag/AgCl under both electrodes
    assert "sim.ph" not in found
    burn = by_side(found["sim.burn-risk"])
    assert burn["active"][0] == burn["indifferent"][0] == "info"


def test_ph_refused_under_an_inert_return_cathode() -> None:
    found = sim_findings("lidocaine-forearm", electrodes=CARBON_RETURN)
    ((severity, message),) = found["sim.ph"]
    assert severity == "error" and "alkaline burn limit 10" in message
    assert "under the indifferent electrode (cathode, inert)" in message


def test_ph_refused_under_an_inert_return_anode() -> None:
    found = sim_findings("dexamethasone-knee", electrodes=CARBON_RETURN)
    ((severity, message),) = found["sim.ph"]
    assert severity == "error" and "acid burn limit 3" in message
    assert "under the indifferent electrode (anode, inert)" in message


@pytest.mark.slow
def test_ph_refused_under_an_inert_anode_with_a_long_session() -> None:
    found = sim_findings("lidocaine-forearm", electrodes=CARBON | SILVER_RETURN, protocol=LONG)
    severities = [s for s, _ in found["sim.ph"]]
    assert severities == ["error"], found
    assert "below the acid burn limit 3" in found["sim.ph"][0][1]


def test_ph_limits_are_parameters_a_clinic_can_set() -> None:
    found = sim_findings(
        "dexamethasone-knee",
        electrodes=CARBON | SILVER_RETURN,
        protocol=LONG,
        parameters={"sim.ph": {"alkaline_burn": "13", "alkaline_irritation": "13"}},
    )
    assert "sim.ph" not in found


def test_alkali_under_an_inert_cathode_is_refused() -> None:
    found = sim_findings("dexamethasone-knee", electrodes=CARBON | SILVER_RETURN, protocol=LONG)
    ((severity, message),) = found["sim.ph"]
    assert severity == "error" and "alkaline burn" in message
    assert "under the active electrode (cathode, inert)" in message


def test_burn_risk_refused_when_density_charge_and_ph_add_up() -> None:
    at_limits = sim_findings("dexamethasone-knee", electrodes=CARBON | SILVER_RETURN, protocol=LONG)
    burn = by_side(at_limits["sim.burn-risk"])
    assert burn["active"][0] == "warning" and "reaches the warning level 1" in burn["active"][1]
    assert burn["indifferent"][0] == "info"  # twice the area, and the pH holds
    found = sim_findings(
        "dexamethasone-knee",
        electrodes=CARBON | SILVER_RETURN,
        protocol="ramp to 5 mA over 30 s\nhold 5 mA until 160 mA*min\nramp to 0 mA over 30 s",
    )
    burn = by_side(found["sim.burn-risk"])
    assert burn["active"][0] == "error" and "reaches the error level 1.5" in burn["active"][1]
    assert burn["indifferent"][0] != "error"


@pytest.mark.slow
def test_burn_risk_refused_under_the_indifferent_electrode() -> None:
    """A small inert return electrode takes the current density, the charge density and
    the pH excursion: the indicator under it reaches the error level, not the active one."""
    found = sim_findings(
        "dexamethasone-knee",
        electrodes={"indifferent": {"type": "return-pad-20", "area": "5 cm^2"}},
        protocol="ramp to 4 mA over 30 s\nhold 4 mA until 79 mA*min\nramp to 0 mA over 30 s",
    )
    burn = by_side(found["sim.burn-risk"])
    assert burn["indifferent"][0] == "error", burn
    assert burn["active"][0] != "error"


def test_burn_risk_grows_with_current_density_and_charge() -> None:
    """Claim P10: the indicator scales with current density, charge and pH excursion."""
    from ionto.plan.predict.run import predict
    from ionto.plan.safety.checks_simulation import burn_index
    from ionto.plan.safety.context import Context

    def index(protocol: str) -> float:
        plan = plan_of("lidocaine-forearm", protocol=protocol)
        return burn_index(Context(plan, default_rules()), predict(plan), "active")[0]

    low = index("ramp to 2 mA over 30 s\nhold 2 mA until 19 mA*min\nramp to 0 mA over 30 s")
    mid = index("ramp to 4 mA over 30 s\nhold 4 mA until 38 mA*min\nramp to 0 mA over 30 s")
    assert 0 < low < mid


def test_burn_risk_uses_the_engines_exposure_of_each_site() -> None:
    from ionto.plan.predict.run import predict
    from ionto.plan.safety.checks_simulation import burn_index
    from ionto.plan.safety.context import Context

    plan = plan_of("lidocaine-forearm", electrodes=SILVER_RETURN)
    p = predict(plan)
    ctx = Context(plan, default_rules())
    _, active = burn_index(ctx, p, "active")
    _, indifferent = burn_index(ctx, p, "indifferent")
    # 4 mA on 10 and on 20 cm^2, 40 mA*min: the references are 0.5 mA/cm^2, 8 mA*min/cm^2
    assert active["current density"] == pytest.approx(0.4 / 0.5, rel=1e-6)
    assert indifferent["current density"] == pytest.approx(0.2 / 0.5, rel=1e-6)
    assert active["charge density"] == pytest.approx(4.0 / 8.0, rel=1e-6)
    assert indifferent["charge density"] == pytest.approx(2.0 / 8.0, rel=1e-6)
    p.exposure["peak current density at the right (indifferent) electrode [A/m^2]"] *= 3
    _, tripled = burn_index(ctx, p, "indifferent")
    assert tripled["current density"] == pytest.approx(3 * indifferent["current density"])
