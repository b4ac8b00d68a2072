"""``[skin] hyperaemia`` and ``vasodilator`` in the scenario format (claims P9, P19)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ionto.core.errors import ConfigError
from ionto.simulate.scenario import load_problem
from ionto.simulate.simulation import simulate

ROOT = Path(__file__).resolve().parents[2]
ACH = ROOT / "examples" / "acetylcholine_perfusion.toml"
TWO_SITE = ROOT / "examples" / "two_site_lidocaine.toml"


def test_P19_stepped_acetylcholine_protocol_has_a_perfusion_response() -> None:
    """The christen2004-style protocol (anodal ACh, steps of 1, 2 and 5 mC/cm^2) is
    expressible: the dermis' perfusion rises after every step and relaxes at the end."""
    problem = load_problem(ACH)
    dermis = problem.layers[3]
    assert dermis.name == "dermis" and dermis.hyperaemia is not None
    assert dermis.hyperaemia.drug == "ACh+"
    result = simulate(problem)
    r = result.reports
    steps = [r[f"perfusion_after_step_{k}"] for k in (1, 2, 3)]
    assert 1.0 < steps[0] < steps[1] < steps[2] < 1.0 + dermis.hyperaemia.gain
    assert r["perfusion_end"] < steps[2]
    assert max(result.balance.values()) < 1e-12


def test_P9_hyperaemia_under_both_electrodes_of_the_two_site_example(tmp_path: Path) -> None:
    """In the two-site lidocaine example with hyperaemia, both dermises dilate; the
    active one (a quarter of the area, four times the current density) more."""
    text = TWO_SITE.read_text().replace(
        'tissue = { "Na+" = "140 mM" }', 'tissue = { "Na+" = "140 mM" }\nhyperaemia = true'
    )
    text += """
[[report]]
name = "perf_active"
quantity = "perfusion"
region = "dermis"
time = "10.5 min"

[[report]]
name = "perf_indifferent"
quantity = "perfusion"
region = "indifferent_dermis"
time = "10.5 min"
"""
    path = tmp_path / "two_site.toml"
    path.write_text(text)
    result = simulate(load_problem(path))
    r = result.reports
    assert r["perf_active"] > r["perf_indifferent"] > 1.2
    assert max(result.balance.values()) < 1e-12


def test_vasodilator_needs_hyperaemia(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(ACH.read_text().replace("hyperaemia = true\n", ""))
    with pytest.raises(ConfigError, match="hyperaemia"):
        load_problem(path)


@pytest.mark.parametrize("name", ["two_site_lidocaine.toml", "acetylcholine_perfusion.toml"])
def test_new_problem_fields_survive_the_cache(name: str, tmp_path: Path) -> None:
    """Areas, activations, hyperaemia, capacitance, cycle-averaged segments and source
    limits round-trip through the JSON of the scenario cache."""
    import dataclasses
    import json

    from ionto.simulate.problem import Segment
    from ionto.simulate.problem_io import problem_from_dict, problem_to_dict

    text = (
        (ROOT / "examples" / name)
        .read_text()
        .replace(
            'tissue = { "Na+" = "140 mM" }',
            'tissue = { "Na+" = "140 mM" }\nconductance_activation = true\nsc_capacitance = true',
        )
    )
    path = tmp_path / name
    path.write_text(text)
    problem = load_problem(path)
    problem = dataclasses.replace(
        problem,
        control=(*problem.control, Segment(1.0, 1.0, 1.0, cycle=(1.5, 0.5, 4.0))),
        current_limit=3.0,
    )
    again = problem_from_dict(json.loads(json.dumps(problem_to_dict(problem))))
    assert again == problem
