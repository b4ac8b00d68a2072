"""Grid and time refinement study of R1 with ionto's own engine.

Runs benchmarks/R1.toml with every cell divided by 1, 2, 4 (fixed tight time tolerance)
and with rtol 1e-3 ... 1e-7 on the benchmark mesh, and prints Markdown tables: values,
observed order, Richardson extrapolation, and the difference from the independent
reference (benchmarks/reference/R1_reference.json). Used for docs/verification.md.

Usage: ``python benchmarks/r1_refinement.py`` (about a minute).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path

from ionto.simulate.scenario import load_problem
from ionto.simulate.simulation import simulate

ROOT = Path(__file__).resolve().parent
REF = {
    k: v["value"]
    for k, v in json.loads((ROOT / "reference" / "R1_reference.json").read_text())["keys"].items()
}


def main() -> None:
    problem = load_problem(ROOT / "R1.toml")
    tight = dataclasses.replace(
        problem, solver=dataclasses.replace(problem.solver, rtol=1e-7, atol=1e-7)
    )
    runs = {}
    print("## Grid refinement (rtol 1e-7)\n")
    print("| refine | cells | steps | wall [s] | max rel. diff. from reference |")
    print("|---|---|---|---|---|")
    for refine in (1.0, 2.0, 4.0):
        start = time.perf_counter()
        result = simulate(tight, refine=refine)
        wall = time.perf_counter() - start
        runs[refine] = result.reports
        worst = max(abs(result.reports[k] / REF[k] - 1) for k in REF)
        print(f"| {refine:g} | {result.x.size} | {result.stats.steps} | {wall:.2f} | {worst:.1e} |")
    head = "| quantity | refine 1 | refine 2 | refine 4 | order | Richardson | reference | diff. |"
    print("\n" + head)
    print("|---|---|---|---|---|---|---|---|")
    for key, ref in REF.items():
        a, b, c = (runs[r][key] for r in (1.0, 2.0, 4.0))
        order = math.log2(abs((b - a) / (c - b)))
        extrap = c + (c - b) / (2.0**order - 1.0)
        print(
            f"| {key} | {a:.7g} | {b:.7g} | {c:.7g} | {order:.2f} | {extrap:.8g} | {ref:.8g} "
            f"| {abs(extrap / ref - 1):.1e} |"
        )
    print("\n## Time refinement (benchmark mesh)\n")
    base = simulate(
        dataclasses.replace(
            problem, solver=dataclasses.replace(problem.solver, rtol=1e-8, atol=1e-8)
        )
    )
    print("| rtol | steps | max rel. change vs rtol 1e-8 | max rel. diff. from reference |")
    print("|---|---|---|---|")
    for rtol in (1e-3, 1e-4, 1e-5, 1e-6, 1e-7):
        q = dataclasses.replace(
            problem, solver=dataclasses.replace(problem.solver, rtol=rtol, atol=rtol)
        )
        result = simulate(q)
        change = max(abs(result.reports[k] / base.reports[k] - 1) for k in REF)
        worst = max(abs(result.reports[k] / REF[k] - 1) for k in REF)
        print(f"| {rtol:g} | {result.stats.steps} | {change:.1e} | {worst:.1e} |")


if __name__ == "__main__":
    main()
