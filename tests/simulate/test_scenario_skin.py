"""``[skin]`` in the scenario format: layers and electroosmosis from the parameter sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from ionto.core.errors import ConfigError
from ionto.simulate.scenario import load_problem
from ionto.simulate.simulation import simulate

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "lidocaine_forearm.toml"


def test_skin_layers_follow_the_gel() -> None:
    problem = load_problem(EXAMPLE)
    names = [layer.name for layer in problem.layers]
    assert names == ["gel", "stratum_corneum", "viable_epidermis", "dermis"]
    sc = problem.layers[1]
    assert sc.fixed_charge < 0  # pores negatively charged at pH 7.4 (above the pI)
    assert 0 < sc.diffusivity_factors["Lid+"] < sc.diffusivity_factors["Na+"] < 1e-2
    assert problem.layers[3].exchange_rate > 0
    assert problem.electroosmotic_coefficient > 0  # flow from anode to cathode


def test_the_example_runs_with_closed_balances() -> None:
    result = simulate(load_problem(EXAMPLE))
    assert max(result.balance.values()) < 1e-12
    assert result.reports["delivered_into_skin_end"] > 0
    assert result.reports["plasma_lidocaine_end"] > 0


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        ('type = "human"', 'type = "horse"', "horse"),
        ('site = "forearm"', 'site = "elbow"', "elbow"),
        ('tissue = { "Na+" = "140 mM" }', 'tissue = { "K+" = "140 mM" }', "skin.tissue"),
    ],
)
def test_bad_skin_input(old: str, new: str, match: str, tmp_path: Path) -> None:
    path = tmp_path / "skin.toml"
    text = EXAMPLE.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ConfigError, match=match):
        load_problem(path)


def test_P1_sc_capacitance_from_the_skin_set_leaves_dc_delivery_unchanged(
    tmp_path: Path,
) -> None:
    """[skin] sc_capacitance: the forearm SC (0.03 uF/cm^2, RC about a millisecond) in
    parallel with its ionic path. Under the example's ramped DC the delivery equals the
    run without it to 1e-4, and every balance closes to round-off."""
    text = EXAMPLE.read_text().replace(
        'tissue = { "Na+" = "140 mM" }', 'tissue = { "Na+" = "140 mM" }\nsc_capacitance = true'
    )
    path = tmp_path / "cap.toml"
    path.write_text(text)
    problem = load_problem(path)
    assert problem.layers[1].capacitance == pytest.approx(0.03e-6 / 1e-4)
    with_cap = simulate(problem)
    plain = simulate(load_problem(EXAMPLE))
    key = "delivered_into_skin_end"
    assert with_cap.reports[key] == pytest.approx(plain.reports[key], rel=1e-4)
    assert max(with_cap.balance.values()) < 1e-12


def test_a_capacitive_first_layer_is_refused(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace(
        'max_cell = "50 um"', 'max_cell = "50 um"\ncapacitance = "1 uF/cm^2"', 1
    )
    path = tmp_path / "cap.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"layers\[0\].capacitance"):
        load_problem(path)
