"""Per-layer mesh sizes, ``[mesh.layers.<name>]``: where the fine cells go, the fallback
from a layer's entry to its own max_cell and the global [mesh], bad input, the problem
cache, and that a coarse indifferent side leaves a two-site session's reports unchanged.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ionto.core.errors import ConfigError
from ionto.simulate.mesh import build_mesh
from ionto.simulate.problem import LayerMesh, MeshSpec, Problem
from ionto.simulate.problem_io import cached_problem, problem_from_dict, problem_to_dict
from ionto.simulate.scenario import load_problem
from ionto.simulate.scenario import problem_from_dict as scenario_problem

ROOT = Path(__file__).resolve().parents[2]
R1 = tomllib.loads((ROOT / "benchmarks" / "R1.toml").read_text())  # donor | barrier | tissue
TWO_SITE = ROOT / "examples" / "two_site_lidocaine.toml"
UM = 1e-6


def _r1(layers: dict[str, Any]) -> Problem:
    data = copy.deepcopy(R1)
    data["mesh"]["layers"] = layers
    return scenario_problem(data)


def _layer_cells(problem: Problem, name: str, refine: float = 1.0) -> np.ndarray:
    mesh = build_mesh(problem, refine)
    index = [layer.name for layer in problem.layers].index(name)
    return np.asarray(mesh.widths[mesh.layer_of_cell == index])


def _entries(mesh: MeshSpec) -> list[tuple[Any, ...]]:
    return [(m.name, m.min_cell, m.max_cell) for m in mesh.layers]


def _two_site(mesh: str) -> dict[str, Any]:
    text = TWO_SITE.read_text()
    start = text.index("[mesh]")
    end = text.index("[solver]")
    return tomllib.loads(text[:start] + mesh + "\n" + text[end:])


def test_a_layers_min_cell_sets_both_of_its_ends_and_nothing_else() -> None:
    # R1: min_cell 0.1 um, max_cell 30 um; the barrier has its own max_cell 0.15 um
    plain = _r1({})
    fine = _r1({"tissue": {"min_cell": "0.01 um"}})
    tissue = _layer_cells(fine, "tissue")
    # (the last cell of a layer absorbs the rounding of its grading: within 20 %)
    assert tissue[0] == pytest.approx(0.01 * UM, rel=0.2)
    assert tissue[-1] == pytest.approx(0.01 * UM, rel=0.2)
    assert tissue.min() == pytest.approx(0.01 * UM, rel=0.2)
    assert tissue.max() == pytest.approx(30 * UM, rel=0.1)
    assert _layer_cells(plain, "tissue").min() == pytest.approx(0.1 * UM, rel=0.2)
    # the other layers' cells are exactly those of the plain mesh: 0.1 um at their ends,
    # also at the barrier | tissue interface where the tissue starts at 0.01 um
    for name in ("donor", "barrier"):
        assert np.array_equal(_layer_cells(fine, name), _layer_cells(plain, name)), name
    barrier = _layer_cells(fine, "barrier")
    assert barrier[-1] == pytest.approx(0.1 * UM, rel=0.2)
    assert build_mesh(fine).n_cells > build_mesh(plain).n_cells


def test_a_layers_max_cell_and_refine() -> None:
    problem = _r1({"tissue": {"max_cell": "5 um"}})
    tissue = _layer_cells(problem, "tissue")
    assert tissue.max() == pytest.approx(5 * UM, rel=0.05)
    assert tissue.min() == pytest.approx(0.1 * UM, rel=0.05)
    assert _layer_cells(problem, "donor").max() == pytest.approx(30 * UM, rel=0.1)
    # refine divides every size, the per-layer ones included
    halved = _layer_cells(problem, "tissue", refine=2.0)
    assert halved.max() == pytest.approx(2.5 * UM, rel=0.05)
    assert halved.min() == pytest.approx(0.05 * UM, rel=0.05)


def test_fallback_entry_then_own_max_cell_then_global() -> None:
    problem = _r1({"barrier": {"min_cell": "0.05 um"}, "tissue": {"min_cell": "0.5 um"}})
    layers = {layer.name: layer for layer in problem.layers}
    mesh = problem.mesh
    # barrier: min from its entry, max from its own [[layers]] max_cell (0.15 um)
    assert mesh.cells(layers["barrier"]) == pytest.approx((0.05 * UM, 0.15 * UM))
    # tissue: min from its entry, max from the global [mesh]
    assert mesh.cells(layers["tissue"]) == pytest.approx((0.5 * UM, 30 * UM))
    # donor: no entry, global values
    assert mesh.cells(layers["donor"]) == pytest.approx((0.1 * UM, 30 * UM))
    assert _entries(mesh) == [
        ("barrier", pytest.approx(0.05 * UM), None),
        ("tissue", pytest.approx(0.5 * UM), None),
    ]
    # a generated layer's own max_cell (the body's, a twentieth of its length) is a
    # default that an entry overrides; the generated skin layers take the global values
    two = scenario_problem(
        _two_site(
            '[mesh]\nmin_cell = "1 um"\nmax_cell = "20 um"\n'
            '[mesh.layers.body]\nmax_cell = "1 mm"\n'
            '[mesh.layers.indifferent_stratum_corneum]\nmin_cell = "0.1 um"\n'
        )
    )
    named = {layer.name: layer for layer in two.layers}
    assert named["body"].max_cell == pytest.approx(named["body"].thickness / 20)
    assert two.mesh.cells(named["body"]) == pytest.approx((1 * UM, 1e-3))
    assert two.mesh.cells(named["indifferent_stratum_corneum"]) == pytest.approx(
        (0.1 * UM, 20 * UM)
    )
    assert two.mesh.cells(named["stratum_corneum"]) == pytest.approx((1 * UM, 20 * UM))
    assert two.mesh.cells(named["sponge"]) == pytest.approx((1 * UM, 50 * UM))


def test_an_empty_entry_changes_nothing() -> None:
    """An entry that sets neither size keeps the global sizes: the same faces."""
    problem = load_problem(ROOT / "benchmarks" / "R1.toml")
    assert problem.mesh.layers == ()
    same = dataclasses.replace(
        problem,
        mesh=dataclasses.replace(problem.mesh, layers=(LayerMesh("donor", None, None),)),
    )
    assert np.array_equal(build_mesh(same).faces, build_mesh(problem).faces)


def test_unknown_layer_in_a_programmatic_mesh_spec() -> None:
    problem = _r1({})
    bad = dataclasses.replace(
        problem, mesh=MeshSpec(0.1 * UM, 30 * UM, 1.1, (LayerMesh("skin", 1e-9, None),))
    )
    with pytest.raises(ValueError, match="unknown layers: skin"):
        build_mesh(bad)


# (id, [mesh.layers] table, field the message starts with, words in the message)
BAD: list[tuple[str, dict[str, Any], str, list[str]]] = [
    (
        "unknown-layer",
        {"barier": {"min_cell": "0.01 um"}},
        "mesh.layers.barier",
        ["unknown layer 'barier'", "did you mean 'barrier'", "one of: donor, barrier, tissue"],
    ),
    (
        "min-above-global-max",
        {"tissue": {"min_cell": "50 um"}},
        "mesh.layers.tissue.min_cell",
        ["5e-05 m", "unit: m", "<= mesh.max_cell = 3e-05 m"],
    ),
    (
        "min-above-own-max",
        {"tissue": {"min_cell": "5 um", "max_cell": "1 um"}},
        "mesh.layers.tissue.min_cell",
        ["5e-06 m", "<= mesh.layers.tissue.max_cell = 1e-06 m"],
    ),
    (
        "min-above-layers-max",
        {"barrier": {"min_cell": "0.2 um"}},
        "layers[1].max_cell",
        ["1.5e-07 m", ">= mesh.layers.barrier.min_cell = 2e-07 m"],
    ),
    (
        "max-below-global-min",
        {"tissue": {"max_cell": "0.05 um"}},
        "mesh.layers.tissue.max_cell",
        ["5e-08 m", ">= mesh.min_cell = 1e-07 m"],
    ),
    (
        "max-cell-twice",
        {"barrier": {"max_cell": "0.2 um"}},
        "mesh.layers.barrier.max_cell",
        ["layers[1]", "one place only", "unset, as layers[1].max_cell gives it"],
    ),
    (
        "not-a-length",
        {"tissue": {"min_cell": "1 s"}},
        "mesh.layers.tissue.min_cell",
        ["dimension", "unit: m"],
    ),
    ("zero", {"tissue": {"max_cell": "0 um"}}, "mesh.layers.tissue.max_cell", ["> 0"]),
    ("no-unit", {"tissue": {"min_cell": 0.01}}, "mesh.layers.tissue.min_cell", ["no unit"]),
    (
        "unknown-key",
        {"tissue": {"min_cel": "0.01 um"}},
        "mesh.layers.tissue.min_cel",
        ["did you mean 'min_cell'"],
    ),
]


@pytest.mark.parametrize(
    ("layers", "field", "words"), [c[1:] for c in BAD], ids=[c[0] for c in BAD]
)
def test_bad_layer_mesh(layers: dict[str, Any], field: str, words: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        _r1(layers)
    text = str(info.value)
    assert info.value.field == field, text
    assert "\n" not in text
    for word in words:
        assert word in text, text


def test_generated_layer_names_are_allowed_and_listed() -> None:
    ok = scenario_problem(
        _two_site('[mesh]\n[mesh.layers.indifferent_viable_epidermis]\nmin_cell = "2 um"')
    )
    assert _entries(ok.mesh) == [("indifferent_viable_epidermis", pytest.approx(2 * UM), None)]
    with pytest.raises(ConfigError) as info:
        scenario_problem(_two_site("[mesh]\nlayers = { indiferent_stratum_corneum = {} }"))
    text = str(info.value)
    assert info.value.field == "mesh.layers.indiferent_stratum_corneum"
    assert "did you mean 'indifferent_stratum_corneum'" in text
    for name in ("gel", "stratum_corneum", "dermis", "body", "indifferent_dermis", "sponge"):
        assert name in str(info.value.allowed)


def test_skin_max_cell_and_a_dermis_entry_conflict() -> None:
    data = _two_site('[mesh]\n[mesh.layers.indifferent_dermis]\nmax_cell = "50 um"')
    data["skin"]["max_cell"] = "40 um"
    with pytest.raises(ConfigError) as info:
        scenario_problem(data)
    assert info.value.field == "mesh.layers.indifferent_dermis.max_cell"
    assert "skin.max_cell" in str(info.value) and "one place only" in str(info.value)
    # a min_cell for the dermis does not conflict with [skin] max_cell
    data = _two_site('[mesh]\n[mesh.layers.dermis]\nmin_cell = "1 um"')
    data["skin"]["max_cell"] = "40 um"
    problem = scenario_problem(data)
    dermis = next(layer for layer in problem.layers if layer.name == "dermis")
    assert problem.mesh.cells(dermis) == pytest.approx((1 * UM, 40 * UM))


def test_layer_mesh_survives_the_problem_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = TWO_SITE.read_text()
    mesh = (
        '[mesh]\nmin_cell = "1 um"\n[mesh.layers.stratum_corneum]\nmin_cell = "0.01 um"\n'
        'max_cell = "2 um"\n\n[mesh.layers.body]\nmin_cell = "30 um"\n\n'
    )
    path = tmp_path / "two_site.toml"
    path.write_text(text[: text.index("[mesh]")] + mesh + text[text.index("[solver]") :])
    monkeypatch.setenv("IONTO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("IONTO_NO_CACHE", raising=False)
    first = cached_problem(path, load_problem)
    assert _entries(first.mesh) == [
        ("stratum_corneum", pytest.approx(0.01 * UM), pytest.approx(2 * UM)),
        ("body", pytest.approx(30 * UM), None),
    ]
    assert len(list((tmp_path / "cache").glob("*.json"))) == 1

    def refuse(_: Path) -> Problem:
        raise AssertionError("the second load must come from the cache")

    second = cached_problem(path, refuse)
    assert second == first
    assert second.mesh == first.mesh
    assert problem_from_dict(json.loads(json.dumps(problem_to_dict(first)))) == first
    assert np.array_equal(build_mesh(second).faces, build_mesh(first).faces)


# reports of the two-site lidocaine example over its first 3 minutes (30 s ramp up, 2 min
# at 4 mA, 30 s ramp down): (name, tolerance, relative or absolute)
SHORT_CONTROL = """
[[control]]
duration = "30 s"
current = ["0 mA", "4 mA"]

[[control]]
duration = "2 min"
current = "4 mA"

[[control]]
duration = "30 s"
current = ["4 mA", "0 mA"]
"""


def _short_two_site(mesh: str) -> Problem:
    data = _two_site(mesh)
    data["control"] = tomllib.loads(SHORT_CONTROL)["control"]
    data["skin"]["conductance_activation"] = True  # 4 mA at a few volts, as in the clinic
    data["output"] = {"times": []}
    data["report"] = [
        {"name": "drug_in_skin", "quantity": "amount", "species": "Lid+",
         "region": ["stratum_corneum", "dermis"], "time": "3 min"},
        {"name": "drug_released", "quantity": "released", "species": "Lid+", "region": "gel",
         "time": "3 min"},
        {"name": "pH_active", "quantity": "pH", "species": "H+",
         "at": {"layer": "gel", "depth": "0 um"}, "time": "2.5 min"},
        {"name": "pH_indifferent", "quantity": "pH", "species": "H+",
         "at": {"layer": "sponge", "depth": "3 mm"}, "time": "2.5 min"},
        {"name": "voltage", "quantity": "voltage", "time": "2 min"},
    ]  # fmt: skip
    return scenario_problem(data)


@pytest.mark.engine
@pytest.mark.slow
def test_coarse_indifferent_side_gives_the_fine_meshs_reports() -> None:
    """Fine cells (0.01 um) only where the drug enters, the active stratum corneum, 0.1 um
    in the indifferent one and 1 um elsewhere: the reports of the two-site example agree
    with the mesh that is fine everywhere on two thirds of the cells (measured: drug 5e-6
    relative, pH 5e-6, voltage 7e-5; asserted: 1e-3 each), while 1 um everywhere is off
    by 8 % in the drug and 11 % in the voltage."""
    from ionto.simulate.simulation import simulate

    fine = _short_two_site('[mesh]\nmin_cell = "0.01 um"\nmax_cell = "20 um"\ngrowth = 1.3')
    coarse_text = '[mesh]\nmin_cell = "1 um"\nmax_cell = "20 um"\ngrowth = 1.3\n'
    mixed = _short_two_site(
        coarse_text + '[mesh.layers.stratum_corneum]\nmin_cell = "0.01 um"\n'
        '[mesh.layers.indifferent_stratum_corneum]\nmin_cell = "0.1 um"'
    )
    assert build_mesh(mixed).n_cells < 0.7 * build_mesh(fine).n_cells
    ref, got = simulate(fine).reports, simulate(mixed).reports
    assert ref["drug_in_skin"] > 1e-3  # mol/m^2: the drug did enter
    for key in ("drug_in_skin", "drug_released"):
        assert got[key] == pytest.approx(ref[key], rel=1e-3), key
    for key in ("pH_active", "pH_indifferent"):
        assert got[key] == pytest.approx(ref[key], abs=1e-3), key
    assert got["voltage"] == pytest.approx(ref["voltage"], rel=1e-3)
    assert 1.0 < ref["voltage"] < 40.0  # V: the skin conducts (activation), no compliance
    coarse = simulate(_short_two_site(coarse_text)).reports
    assert abs(coarse["drug_in_skin"] / ref["drug_in_skin"] - 1) > 0.02
    assert abs(coarse["voltage"] / ref["voltage"] - 1) > 0.02
