"""Mesh and tolerance study of the session benchmark (benchmarks/session.toml).

Runs the file with every cell divided by 1, 2 and 4 (observed order and a Richardson
estimate of the converged value of each report), then candidate meshes ([mesh] min_cell
and growth) and tolerances, each compared with the refine-4 run. pH values are compared
in pH units, the others relatively. Prints Markdown tables; used for
docs/verification.md and for the choice of the benchmark's [mesh].

Usage: ``python benchmarks/session_refinement.py`` (about a minute on a quiet machine).
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Any

from ionto.simulate.problem import MeshSpec
from ionto.simulate.scenario import load_problem
from ionto.simulate.simulation import simulate

ROOT = Path(__file__).resolve().parent


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


def main() -> None:
    problem = load_problem(ROOT / "session.toml")
    runs = {refine: run(problem, refine) for refine in (1.0, 2.0, 4.0)}
    print("## Grid refinement (every cell divided by 1, 2, 4; benchmark rtol)\n")
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
    print("\n## Candidate meshes and tolerances (difference from refine 4)\n")
    keys = [k for k in ref if "plasma" not in k]
    print("| min_cell [um] | growth | rtol | cells | steps | wall [s] | " + " | ".join(keys) + " |")
    print("|---" * (6 + len(keys)) + "|")
    base = problem.mesh
    rtol0 = problem.solver.rtol
    for min_cell, growth, rtol in [
        (base.min_cell, base.growth, rtol0),
        (base.min_cell, base.growth, rtol0 / 100),
        (2 * base.min_cell, base.growth, rtol0),
        (4 * base.min_cell, base.growth, rtol0),
        (base.min_cell, 1.15, rtol0),
        (0.025e-6, 1.15, rtol0),  # the mesh of examples/two_site_lidocaine.toml
    ]:
        mesh = MeshSpec(min_cell=min_cell, max_cell=base.max_cell, growth=growth)
        p = dataclasses.replace(
            problem, mesh=mesh, solver=dataclasses.replace(problem.solver, rtol=rtol)
        )
        values, cells, steps, wall = run(p)
        diffs = " | ".join(f"{difference(k, values[k], ref[k]):.1e}" for k in keys)
        print(
            f"| {min_cell * 1e6:g} | {growth:g} | {rtol:g} | {cells} | {steps} | {wall:.2f} "
            f"| {diffs} |"
        )


if __name__ == "__main__":
    main()
