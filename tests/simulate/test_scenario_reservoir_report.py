"""Report key ``reservoir = "left" | "right"``: the amount held by an end reservoir (a
diffusion cell's chamber), per m^2 of electrode."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from ionto.core.errors import ConfigError
from ionto.simulate.scenario import load_problem
from ionto.simulate.simulation import simulate

CELL: dict[str, Any] = {
    "schema_version": 1,
    "electroneutral_species": "Cl-",
    "species": [
        {"name": "Na+", "charge": 1, "diffusivity": "1.33e-9 m^2/s"},
        {"name": "Cl-", "charge": -1, "diffusivity": "2.03e-9 m^2/s"},
        {"name": "glucose", "charge": 0, "diffusivity": "6.7e-10 m^2/s"},
    ],
    "layers": [
        {"name": "membrane", "thickness": "100 um", "initial": {"Na+": "100 mM"}},
    ],
    "boundary": {
        "left": {
            "type": "reservoir",
            "electrode": "Ag/AgCl",
            "volume_per_area": "5 mm",
            "initial": {"Na+": "100 mM"},
        },
        "right": {"type": "fixed", "concentrations": {"Na+": "100 mM", "glucose": "10 mM"}},
    },
    "control": [{"duration": "30 min", "current_density": "-2 A/m^2"}],
    "mesh": {"min_cell": "0.5 um", "max_cell": "10 um"},
    "report": [
        {
            "name": "collected",
            "quantity": "amount",
            "species": "glucose",
            "reservoir": "left",
            "time": "30 min",
        },
        {
            "name": "gained",
            "quantity": "change",
            "species": "Na+",
            "reservoir": "left",
            "time": "30 min",
        },
        {
            "name": "in_membrane",
            "quantity": "amount",
            "species": "glucose",
            "region": "membrane",
            "time": "30 min",
        },
    ],
}


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "cell.toml"
    path.write_text(tomli_w.dumps(data))
    return path


def test_reservoir_amount_is_what_crossed_into_it(tmp_path: Path) -> None:
    result = simulate(load_problem(_write(tmp_path, copy.deepcopy(CELL))))
    collected = result.reports["collected"]
    assert collected > 0
    # the glucose that left the bath is in the membrane or in the chamber
    k = result.balance_names.index("glucose")
    assert collected + result.reports["in_membrane"] == pytest.approx(
        float(result.totals["final"][k]), rel=1e-9
    )
    # cations migrate into the cathode chamber
    assert result.reports["gained"] > 0


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: d["report"][0].update(quantity="flux"), "quantity amount, change or withdrawn"),
        (lambda d: d["report"][0].update(reservoir="right"), "boundary.right is not a reservoir"),
        (lambda d: d["report"][0].update(region="membrane"), "not used with reservoir"),
        (lambda d: d["report"][0].update(reservoir="middle"), "reservoir"),
    ],
)
def test_bad_reservoir_reports(tmp_path: Path, change: Any, words: str) -> None:
    data = copy.deepcopy(CELL)
    change(data)
    with pytest.raises(ConfigError, match=words):
        load_problem(_write(tmp_path, data))
