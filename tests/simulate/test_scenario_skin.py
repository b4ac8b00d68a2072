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
