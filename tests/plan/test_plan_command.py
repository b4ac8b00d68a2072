"""ionto plan FILE and ionto dose: check + predict + schedule, reports, exit codes."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from plan_helpers import EXAMPLES, changed, example
from typer.testing import CliRunner

from ionto.plan.cli import app
from ionto.simulate.scenario import load_problem

pytestmark = pytest.mark.engine

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def write_plan(tmp_path: Path, name: str, **changes: object) -> Path:
    import tomli_w

    data = changed(example(name), changes)
    path = tmp_path / f"{name}.toml"
    path.write_text(tomli_w.dumps(data))
    return path


def test_plan_json_has_check_prediction_and_course(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.toml"
    code, out, _ = run(
        "plan", str(EXAMPLES / "dexamethasone-knee.toml"), "--json", "--scenario", str(scenario)
    )
    assert code == 0
    data = json.loads(out)
    assert data["refused"] is False
    assert {f["id"] for f in data["findings"]} >= {"sim.burn-risk"}
    prediction = data["prediction"]
    # the thigh has no parameters of its own: the forearm stands in
    assert prediction["skin"] == {"type": "human", "site": "knee", "indifferent_site": "forearm"}
    assert prediction["summary"]["charge passed [C]"] == pytest.approx(2.4, rel=1e-9)
    # both electrodes are simulated: no caveat, the pH under each is predicted
    assert not any("not simulated yet" in n for n in prediction["notes"])
    summary = prediction["summary"]
    assert 6.0 < summary["min pH at the indifferent skin surface [-]"] <= 7.0 + 1e-9
    assert summary["time at the compliance voltage [s]"] == 0.0
    assert prediction["compliance_voltage"] == pytest.approx(40.0)
    assert len(prediction["series"]["pH_indifferent_skin_surface"]) == len(
        prediction["series"]["times"]
    )
    assert len(data["course"]["sessions"]) == 6
    assert load_problem(scenario).title.startswith("Dexamethasone phosphate at the knee")
    assert tomllib.loads(scenario.read_text())["skin"]["site"] == "knee"


def test_plan_refused_by_a_simulation_rule_exits_1(tmp_path: Path) -> None:
    path = write_plan(
        tmp_path,
        "dexamethasone-knee",
        electrodes={"active": {"type": "return-pad-20", "area": "10 cm^2"}},
        protocol="ramp to 4 mA over 30 s\nhold 4 mA until 79 mA*min\nramp to 0 mA over 30 s",
    )
    code, out, _ = run("plan", str(path))
    assert code == 1
    assert "sim.ph" in out and "REFUSED" in out


def test_plan_without_a_possible_prediction_still_checks(tmp_path: Path) -> None:
    path = write_plan(tmp_path, "lidocaine-forearm", protocol="hold 2 mA until 40 V")
    code, out, _ = run("plan", str(path), "--json")
    data = json.loads(out)
    assert code == 1 and data["prediction"] is None  # refused by protocol.bounded
    assert "unbounded protocol cannot be simulated" in data["prediction_error"]
    assert "protocol.bounded" in {f["id"] for f in data["findings"]}


def test_galvanic_desincrustation_predicts_alkali_under_the_cathode() -> None:
    code, out, _ = run("plan", str(EXAMPLES / "desincrustation-face.toml"), "--json")
    data = json.loads(out)
    summary = data["prediction"]["summary"]
    assert summary["max pH at the electrode [-]"] > 8.0  # the alkali it works by
    assert any("not simulated" in n for n in data["prediction"]["notes"])


def test_plan_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    path = write_plan(tmp_path, "lidocaine-forearm", prediction={"observe": "-5 min"})
    code, out, err = run("plan", str(path))
    assert code == 2 and out == ""
    assert "prediction.observe" in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_plan_with_target_finds_the_dose() -> None:
    code, out, _ = run(
        "plan", str(EXAMPLES / "lidocaine-forearm.toml"), "--target", "2 umol", "--json"
    )
    assert code == 0
    data = json.loads(out)
    found = data["dose_finder"]
    assert found["refused"] is False
    assert found["delivered_mol"] == pytest.approx(2e-6, rel=0.01)
    assert data["protocol"] == found["protocol"]
    assert data["prediction"]["summary"]["delivered into skin at end of current [mol]"] == (
        pytest.approx(2e-6, rel=0.01)
    )


def test_dose_unreachable_is_refused_with_the_reason() -> None:
    code, out, _ = run("dose", str(EXAMPLES / "lidocaine-forearm.toml"), "--target", "20 umol")
    assert code == 1
    assert "unreachable within the rules" in " ".join(out.split())
    assert "80 mA*min" in out


def test_dose_calculator_both_ways() -> None:
    code, out, _ = run("dose", "--current", "4 mA", "--dose", "40 mA*min", "--json")
    assert code == 0 and json.loads(out)["duration"] == pytest.approx(600.0)
    code, out, _ = run(
        "dose", "--duration", "20 min", "--dose", "40 mA*min", "--density", "0.5 mA/cm^2"
    )
    assert code == 0
    assert "current: 2 mA" in out and "electrode area: 4 cm^2" in out
    code, _, err = run("dose", "--current", "4 mA")
    assert code == 2 and "exactly two" in err
