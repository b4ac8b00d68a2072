"""The validation runner: files, overrides, sweeps, real engine runs, JSON and the CLI.

The scenario here is the concentration-polarisation problem of docs/engine.md (a NaCl
solution in front of an Ag/AgCl anode), whose steady state is known exactly:
c(0) = c0 - i L / (2 F D_Cl), so the runner's prediction can be checked against physics.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from typer.testing import CliRunner

from ionto.cli import app
from ionto.core.errors import ConfigError
from ionto.simulate.problem import FARADAY
from ionto.simulate.scenario import load_problem
from ionto.simulate.validation.runner import (
    apply_overrides,
    load_case,
    run_case,
    run_folder,
)
from ionto.simulate.validation.table import markdown, rows

D_CL = 2.03e-9
L = 200e-6
CURRENT = 2.0  # A/m^2


def exact(c0: float) -> float:
    """Steady concentration (mol/m^3) at the anode for bulk c0 (mol/m^3)."""
    return c0 - CURRENT * L / (2 * FARADAY * D_CL)


BASE: dict[str, Any] = {
    "schema_version": 1,
    "title": "polarisation",
    "electroneutral_species": "Cl-",
    "species": [
        {"name": "Na+", "charge": 1, "diffusivity": "1.33e-9 m^2/s"},
        {"name": "Cl-", "charge": -1, "diffusivity": f"{D_CL} m^2/s"},
    ],
    "layers": [{"name": "solution", "thickness": "200 um", "initial": {"Na+": "10 mM"}}],
    "boundary": {
        "left": {"type": "electrode", "electrode": "Ag/AgCl"},
        "right": {"type": "fixed", "concentrations": {"Na+": "10 mM"}},
    },
    "control": [{"duration": "300 s", "current_density": f"{CURRENT} A/m^2"}],
    "mesh": {"min_cell": "0.5 um", "max_cell": "4 um", "growth": 1.1},
    "report": [
        {
            "name": "c_anode",
            "quantity": "concentration",
            "species": "Na+",
            "at": {"layer": "solution", "depth": "0 um"},
            "time": "300 s",
            "side": "before",
        }
    ],
    "validation": {
        "case": "polarisation",
        "quantity": "steady concentration at the anode",
        "predicted": "c_anode",
        "unit": "mM",
        "measured": {"value": round(exact(10.0), 6), "uncertainty": 0.01},
    },
}


def _sweep(values: list[float]) -> list[dict[str, Any]]:
    return [
        {
            "label": f"{c:g} mM",
            "x": f"{c:g} mM",
            "set": {
                "layers.solution.initial.Na+": f"{c:g} mM",
                "boundary.right.concentrations.Na+": f"{c:g} mM",
            },
        }
        for c in values
    ]


@pytest.fixture
def scenario() -> dict[str, Any]:
    return copy.deepcopy(BASE)


@pytest.fixture
def write(tmp_path: Path) -> Callable[[dict[str, Any], str], Path]:
    def _write(data: dict[str, Any], name: str = "case.toml") -> Path:
        path = tmp_path / name
        path.write_text(tomli_w.dumps(data))
        return path

    return _write


def test_prediction_is_the_engine_output(scenario: dict[str, Any], write: Any) -> None:
    result = run_case(load_case(write(scenario)))
    assert result.comparison.predicted == pytest.approx(exact(10.0), rel=1e-3)
    assert result.comparison.within and result.comparison.misfit_unit == "sigma"
    assert abs(result.comparison.misfit or 0.0) < 1.0
    assert result.balance_error < 1e-10
    js = result.to_json()
    assert js["id"] == "polarisation" and js["within_tolerance"] is True
    assert set(js) >= {"id", "quantity", "predicted", "measured", "misfit", "within_tolerance"}
    json.dumps(js)


def test_a_wrong_measurement_disagrees(scenario: dict[str, Any], write: Any) -> None:
    scenario["validation"]["measured"] = {"value": 10.0, "uncertainty": 0.01}
    c = run_case(load_case(write(scenario))).comparison
    assert not c.within
    assert c.misfit == pytest.approx((exact(10.0) - 10.0) / 0.01, rel=1e-3)


def test_sweep_checks_on_real_runs(scenario: dict[str, Any], write: Any) -> None:
    """The anode concentration is linear in c0 but not proportional (its intercept is
    -iL/2FD); the depletion c0 - c(0) does not depend on c0."""
    scenario["validation"].update(check="proportional", sweep=_sweep([5.0, 10.0, 20.0]))
    scenario["validation"]["measured"] = {"text": "proportional"}
    proportional = run_case(load_case(write(scenario, "p.toml")))
    assert [v.y for v in proportional.sweep] == pytest.approx(
        [exact(5.0), exact(10.0), exact(20.0)], rel=1e-3
    )
    assert not proportional.comparison.within  # intercept ~ 1.0 mM of 19 mM
    scenario["validation"].update(check="independent", predicted="c0 - c_anode", unit="mM")
    scenario["report"].append(
        {
            "name": "c0",
            "quantity": "concentration",
            "species": "Na+",
            "at": {"layer": "solution", "depth": "200 um"},
            "time": "300 s",
        }
    )
    independent = run_case(load_case(write(scenario, "i.toml")))
    assert independent.comparison.within
    assert independent.sweep[0].y == pytest.approx(10.0 - exact(10.0), rel=2e-3)


def test_value_check_over_labelled_runs(scenario: dict[str, Any], write: Any) -> None:
    scenario["validation"].update(
        predicted='c_anode["20 mM"] - c_anode["5 mM"]', sweep=_sweep([5.0, 20.0])
    )
    scenario["validation"]["measured"] = {"value": 15.0, "uncertainty": 0.1}
    c = run_case(load_case(write(scenario))).comparison
    assert c.predicted == pytest.approx(15.0, rel=1e-3) and c.within


def test_crossing_over_a_sweep(scenario: dict[str, Any], write: Any) -> None:
    """c(0) = c0 - 1.02 mM reaches 4 mM at c0 = 5.02 mM."""
    scenario["validation"].update(
        check="crossing", level="4 mM", unit="mM", sweep=_sweep([3.0, 6.0, 9.0])
    )
    scenario["validation"]["measured"] = {"value": 5.0, "text": "c0"}
    scenario["validation"]["tolerance"] = {"absolute": 0.1}
    c = run_case(load_case(write(scenario))).comparison
    assert c.predicted == pytest.approx(4.0 + (10.0 - exact(10.0)), rel=1e-3)


# ------------------------------------------------------------------ overrides


def test_overrides_by_name_index_and_new_keys() -> None:
    out = apply_overrides(
        BASE,
        {
            "layers.solution.initial.Na+": "5 mM",
            "control.0.duration": "10 s",
            "boundary.right.concentrations.K+": "1 mM",
            "skin.tissue.Na+": "1 mM",
        },
        "set",
    )
    assert out["layers"][0]["initial"]["Na+"] == "5 mM"
    assert out["control"][0]["duration"] == "10 s"
    assert out["boundary"]["right"]["concentrations"]["K+"] == "1 mM"
    assert out["skin"] == {"tissue": {"Na+": "1 mM"}}
    assert BASE["layers"][0]["initial"]["Na+"] == "10 mM"  # the original is untouched


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("layers.gel.initial.Na+", "no element 'gel'"),
        ("control.3.duration", "no element '3'"),
        ("title.x", "is a value"),
    ],
)
def test_bad_override_paths(path: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        apply_overrides(BASE, {path: "1"}, "validation.sweep[0].set")


# ------------------------------------------------------------------ file errors


def _broken(scenario: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict:
    change(scenario)
    return scenario


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda s: s.pop("validation"), "validation: is missing"),
        (lambda s: s["validation"].update(predicted="c_cathode"), "unknown name 'c_cathode'"),
        (lambda s: s["validation"].update(predicted='c_anode["x"]'), "a sweep label"),
        (lambda s: s["validation"].update(check="proportional"), "needs a sweep"),
        (lambda s: s["validation"].update(chek="value"), "unknown key"),
        (lambda s: s["validation"]["measured"].pop("uncertainty"), "stated tolerance"),
        (
            lambda s: s["validation"].update(sweep=_sweep([5.0]) + [{"label": "5 mM"}]),
            "unique sweep labels",
        ),
        (
            lambda s: s["validation"].update(
                sweep=[{"label": "a", "set": {"layers.solution.thickness": "-1 um"}}],
                predicted='c_anode["a"]',
            ),
            "validation.sweep[0] ('a'): layers[0].thickness",
        ),
        (lambda s: s["validation"].update(sweep=_sweep([5.0, 10.0])), "needs the sweep entry"),
    ],
)
def test_bad_validation_tables(
    scenario: dict[str, Any], write: Any, change: Any, words: str
) -> None:
    path = write(_broken(scenario, change))
    with pytest.raises(ConfigError) as info:
        load_case(path)
    assert words in str(info.value)
    assert str(path) in str(info.value)


def test_case_and_quantity_are_checked_against_cases_json(
    scenario: dict[str, Any], write: Any
) -> None:
    known = {"polarisation": {"measured": [{"quantity": "steady concentration at the anode"}]}}
    load_case(write(scenario), known)
    with pytest.raises(ConfigError, match="unknown case 'polarisatoin'.*did you mean"):
        scenario["validation"]["case"] = "polarisatoin"
        load_case(write(scenario), known)
    scenario["validation"]["case"] = "polarisation"
    scenario["validation"]["quantity"] = "something else"
    with pytest.raises(ConfigError, match="not a quantity of case"):
        load_case(write(scenario), known)


def test_simulate_accepts_a_validation_file(scenario: dict[str, Any], write: Any) -> None:
    assert load_problem(write(scenario)).reports[0].name == "c_anode"
    scenario["validation"]["check"] = "maybe"
    with pytest.raises(ConfigError, match="validation.check"):
        load_problem(write(scenario))


# ------------------------------------------------------------------ folders and CLI


@pytest.fixture
def folder(tmp_path: Path, scenario: dict[str, Any]) -> Path:
    root = tmp_path / "validation"
    root.mkdir()
    (root / "polarisation.toml").write_text(tomli_w.dumps(scenario))
    (root / "cases.json").write_text(
        json.dumps(
            [
                {
                    "id": "polarisation",
                    "measured": [{"quantity": "steady concentration at the anode"}],
                },
                {"id": "other", "measured": []},
            ]
        )
    )
    (root / "uncovered.toml").write_text(
        '[[case]]\nid = "other"\nreason = """needs a model\n of something"""\n'
    )
    return root


def test_folder_report(folder: Path) -> None:
    report = run_folder(folder)
    js = report.to_json()
    assert js["summary"] == {"covered": 1, "comparisons": 1, "within_tolerance": 1, "uncovered": 1}
    assert js["uncovered"] == [{"id": "other", "reason": "needs a model of something", "needs": ""}]
    assert rows(report)[0][0] == "polarisation" and rows(report)[0][-1] == "agrees"
    text = markdown(report)
    assert "| polarisation |" in text and "| other | needs a model of something |" in text


def test_cli_validate_json_markdown_and_table(folder: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["validate", str(folder), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    case = data["cases"][0]
    assert case["id"] == "polarisation" and case["within_tolerance"] is True
    assert math.isclose(case["predicted"], exact(10.0), rel_tol=1e-3)
    md = runner.invoke(app, ["validate", str(folder), "--markdown"])
    assert md.exit_code == 0 and md.stdout.startswith("| case | quantity |")
    table = runner.invoke(app, ["validate", str(folder)])
    assert table.exit_code == 0 and "1 of 1 comparisons within tolerance" in table.stdout
    one = runner.invoke(app, ["validate", str(folder / "polarisation.toml"), "--json"])
    assert one.exit_code == 0 and len(json.loads(one.stdout)["cases"]) == 1


def test_cli_validate_errors(folder: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["validate", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "FOLDER" in missing.stderr
    unknown = runner.invoke(app, ["validate", str(folder), "--case", "nothing"])
    assert unknown.exit_code == 2 and "--case" in unknown.stderr
    (folder / "broken.toml").write_text('title = "x"\n')
    broken = runner.invoke(app, ["validate", str(folder)])
    assert broken.exit_code == 2 and "broken.toml" in broken.stderr
    assert "Traceback" not in broken.output
