"""Mesh and tolerance study of the session benchmark (benchmarks/session.toml).

The reference is the file on a uniformly fine mesh: every layer's interface cells at the
smallest ``min_cell`` the file gives any layer (``[mesh]`` or ``[mesh.layers]``), the
file's growth and largest cells. That mesh is run with every cell divided by 1, 2 and 4
(observed order and a Richardson estimate of the converged value of each report); then
candidate meshes (global ``[mesh]`` sizes, per-layer ``min_cell`` of named layers, growth)
and tolerances, the file's own mesh among them, are each compared with the refine-4 run.
pH values are compared in pH units, the others relatively. Prints Markdown tables; used
for docs/verification.md and for the choice of the benchmark's [mesh].

Usage: ``python benchmarks/session_refinement.py`` (a few minutes on a quiet machine;
the refine-4 run has about 2,900 cells).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ionto.simulate.mesh import build_mesh
from ionto.simulate.problem import LayerMesh, MeshSpec, Problem
from ionto.simulate.scenario import load_problem
from ionto.simulate.simulation import simulate

ROOT = Path(__file__).resolve().parent
UM = 1e-6

SC = "stratum_corneum"
ISC = "indifferent_stratum_corneum"

# candidate meshes besides the file's own: (global min_cell (m), {layer: min_cell (m)},
# growth, global max_cell (m))
CANDIDATES: list[tuple[float, dict[str, float], float, float]] = [
    (0.003 * UM, {}, 1.3, 20 * UM),  # the benchmark's mesh before [mesh.layers]
    (1 * UM, {SC: 0.003 * UM, ISC: 0.1 * UM}, 1.3, 20 * UM),
    (1 * UM, {SC: 0.003 * UM}, 1.3, 20 * UM),
    (3 * UM, {SC: 0.003 * UM, ISC: 0.1 * UM}, 1.3, 40 * UM),
    (3 * UM, {SC: 0.0015 * UM, ISC: 0.1 * UM}, 1.3, 40 * UM),
    (3 * UM, {SC: 0.0015 * UM, ISC: 0.3 * UM}, 1.3, 40 * UM),
    (3 * UM, {SC: 0.0015 * UM, ISC: 0.03 * UM}, 1.3, 40 * UM),
    (3 * UM, {SC: 0.001 * UM, ISC: 0.03 * UM}, 1.3, 40 * UM),
    (1 * UM, {SC: 0.0015 * UM, ISC: 0.03 * UM}, 1.3, 20 * UM),
    (10 * UM, {SC: 0.0015 * UM, ISC: 0.03 * UM}, 1.3, 40 * UM),
    (3 * UM, {SC: 0.0015 * UM, ISC: 0.03 * UM, "body": 30 * UM}, 1.5, 40 * UM),
]


def difference(key: str, value: float, ref: float) -> float:
    """|value - ref| in pH units for pH reports, relative for the others."""
    return abs(value - ref) if key.startswith("pH") else abs(value / ref - 1.0)


def run(problem: Any, refine: float = 1.0) -> tuple[dict[str, float], int, int, float]:
    """Reports, cells, steps and wall time (s) of one run."""
    start = time.perf_counter()
    result = simulate(problem, refine=refine)
    wall = time.perf_counter() - start
    summary = result.summary()
    return dict(result.reports), int(result.x.size), int(summary["time steps [-]"]), wall


def with_mesh(
    problem: Problem,
    min_cell: float,
    layers: Mapping[str, float],
    growth: float,
    max_cell: float,
    rtol: float | None = None,
) -> Problem:
    """``problem`` on another mesh (per-layer ``min_cell`` by name) and rtol."""
    mesh = MeshSpec(
        min_cell=min_cell,
        max_cell=max_cell,
        growth=growth,
        layers=tuple(LayerMesh(name, h, None) for name, h in layers.items()),
    )
    solver = problem.solver if rtol is None else dataclasses.replace(problem.solver, rtol=rtol)
    return dataclasses.replace(problem, mesh=mesh, solver=solver)


def describe(mesh: MeshSpec) -> str:
    """``1 (stratum_corneum 0.003, ...)``: the mesh's min_cell values in um."""
    own = ", ".join(f"{m.name} {m.min_cell / UM:g}" for m in mesh.layers if m.min_cell)
    return f"{mesh.min_cell / UM:g}" + (f" ({own})" if own else "")


def main() -> None:
    problem = load_problem(ROOT / "session.toml")
    base = problem.mesh
    finest = min([base.min_cell, *(m.min_cell for m in base.layers if m.min_cell is not None)])
    uniform = with_mesh(problem, finest, {}, base.growth, base.max_cell)
    runs = {refine: run(uniform, refine) for refine in (1.0, 2.0, 4.0)}
    print(f"## Grid refinement of the uniform mesh {describe(uniform.mesh)} um\n")
    print("(every cell divided by 1, 2, 4; benchmark rtol)\n")
    print("| refine | cells | steps | wall [s] |")
    print("|---|---|---|---|")
    for refine, (_, cells, steps, wall) in runs.items():
        print(f"| {refine:g} | {cells} | {steps} | {wall:.2f} |")
    print("\n| report | refine 1 | refine 2 | refine 4 | order | Richardson | refine 1 error |")
    print("|---|---|---|---|---|---|---|")
    ref = runs[4.0][0]
    for key in ref:
        a, b, c = (runs[r][0][key] for r in (1.0, 2.0, 4.0))
        ratio = (a - b) / (b - c) if b != c else math.inf
        order = math.log2(ratio) if ratio > 0 and math.isfinite(ratio) else math.nan
        rich = c + (c - b) / (2**order - 1) if order == order and order > 0.3 else c
        print(
            f"| {key} | {a:.6g} | {b:.6g} | {c:.6g} | {order:.2f} | {rich:.6g} "
            f"| {difference(key, a, rich):.1e} |"
        )
    print("\n## Candidate meshes and tolerances (difference from the uniform refine-4 run)\n")
    keys = [k for k in ref if "plasma" not in k]
    print(
        "| min_cell [um] (per layer) | growth | max_cell [um] | rtol | refine | cells | steps "
        "| wall [s] | " + " | ".join(keys) + " |"
    )
    print("|---" * (8 + len(keys)) + "|")
    rtol0 = problem.solver.rtol
    rows: list[tuple[Problem, float, str]] = [
        (problem, 1.0, " (file)"),
        (
            dataclasses.replace(
                problem, solver=dataclasses.replace(problem.solver, rtol=rtol0 / 100)
            ),
            2.0,
            " (file: the test's reference)",
        ),
        (uniform, 1.0, " (uniform)"),
    ]
    candidates = (with_mesh(problem, *c) for c in CANDIDATES)
    rows += [(p, 1.0, "") for p in candidates if p.mesh != problem.mesh]
    for p, refine, note in rows:
        values, cells, steps, wall = run(p, refine)
        assert cells == build_mesh(p, refine).n_cells
        diffs = " | ".join(f"{difference(k, values[k], ref[k]):.1e}" for k in keys)
        print(
            f"| {describe(p.mesh)}{note} | {p.mesh.growth:g} | {p.mesh.max_cell / UM:g} "
            f"| {p.solver.rtol:g} | {refine:g} | {cells} | {steps} | {wall:.2f} | {diffs} |"
        )


if __name__ == "__main__":
    main()
