"""The scenario format for fast equilibria, pH and electrode capacity."""

from __future__ import annotations

from pathlib import Path

import pytest

from ionto.core.errors import ConfigError
from ionto.simulate.scenario import load_problem

ROOT = Path(__file__).resolve().parents[2]


def test_r2_file_expresses_the_benchmark() -> None:
    problem = load_problem(ROOT / "benchmarks" / "R2.toml")
    water, phosphate = problem.equilibria
    assert (water.product, water.reactants, water.constant) == (
        "OH-",
        {"H+": -1.0},
        pytest.approx(1e-8),
    )
    assert phosphate.product == "H2PO4-"
    assert phosphate.constant == pytest.approx(1.0 / (1000.0 * 10**-7.2), rel=1e-12)
    assert problem.layers[0].initial == {"Na+": 116.13, "HPO4--": 10.0}
    assert problem.exchange_pH == 7.4 and problem.right.pH == 7.4  # type: ignore[union-attr]
    reports = {r.name: r for r in problem.reports}
    assert reports["pH_skin_600"].region == pytest.approx((2e-3 - 10e-6, 2e-3))
    assert reports["t_pH4"].threshold == 4.0 and reports["t_pH4"].quantity == "time_below"
    assert reports["H_skin_1200"].total and reports["H_skin_1200"].region == pytest.approx(
        (2e-3, 4.02e-3)
    )


def _r2_text() -> str:
    return (ROOT / "benchmarks" / "R2.toml").read_text()


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('kind = "acid"  # H2PO4- <-> HPO4-- + H+', 'kind = "acid"', None),
        (
            'initial = { "Na+" = "116.13 mol/m^3", "HPO4--" = "10 mol/m^3" }',
            'initial = { "H2PO4-" = "10 mol/m^3" }',
            "layers[0].initial",
        ),
        ('base = "HPO4--"', 'base = "Cl-"', "equilibria[1]"),
        ("pK = 7.2", 'pK = "7.2 s"', "pK"),
        ('acid = "H2PO4-"', 'acid = "OH-"', "equilibria[1]"),
        (
            'initial_pH = 7.4\n\n[[layers]]\nname = "barrier"',
            'initial_pH = 17\n\n[[layers]]\nname = "barrier"',
            "initial_pH",
        ),
        ("below_pH = 4.0", 'below = "1 mM"', "report[11].below_pH"),
        ("below_pH = 4.0", "", "report[11].below_pH"),
        (
            'span = { layer = "donor", start = "0 um", end = "10 um" }\ntime = "60 s"',
            'span = { layer = "donor", start = "0 um", end = "3 mm" }\ntime = "60 s"',
            "report[0].span",
        ),
    ],
)
def test_bad_chemistry_input_names_the_field(
    old: str, new: str, field: str | None, tmp_path: Path
) -> None:
    text = _r2_text()
    assert old in text
    path = tmp_path / "r2.toml"
    path.write_text(text.replace(old, new, 1))
    if field is None:
        load_problem(path)  # still valid
        return
    with pytest.raises(ConfigError) as info:
        load_problem(path)
    assert field in str(info.value)


def test_capacity_needs_area_and_water(tmp_path: Path) -> None:
    text = (ROOT / "benchmarks" / "R1.toml").read_text()
    text = text.replace(
        'electrode = "Ag/AgCl"', 'electrode = "Ag/AgCl"\nanodic_capacity = "80 mA*min"'
    )
    path = tmp_path / "cap.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="electrode_area"):
        load_problem(path)
    path.write_text('electrode_area = "10 cm^2"\n' + text)
    with pytest.raises(ConfigError, match="H\\+"):
        load_problem(path)
