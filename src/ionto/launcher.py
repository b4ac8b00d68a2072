"""Entry point of the ``ionto`` command: a fast path for ``ionto bench NAME --json``.

A reference run takes a fraction of a second, so start-up matters: typer, rich, pint and
pydantic together cost more to import than the simulation itself. ``bench NAME --json``
therefore runs here with only numpy and the engine, reading the validated problem from the
scenario cache (``ionto.simulate.problem_io``; the file is validated in full on a cache
miss). Everything else, and any error, goes through the full typer CLI in ``ionto.cli``,
so messages and exit codes are the same on both paths.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def reports_json(values: Mapping[str, Any]) -> str:
    """One JSON object of report values; NaN and missing values become null."""
    clean: dict[str, float | None] = {}
    for key, value in values.items():
        number = None if value is None else float(value)
        clean[key] = None if number is None or math.isnan(number) else number
    return json.dumps(clean)


def _bench_file(name: str) -> Path | None:
    direct = Path(name)
    if direct.suffix == ".toml" and direct.is_file():
        return direct
    for folder in (Path.cwd() / "benchmarks", Path(__file__).resolve().parents[2] / "benchmarks"):
        candidate = folder / f"{name}.toml"
        if candidate.is_file():
            return candidate
    return None


def _fast_bench(name: str) -> bool:
    """Run ``bench NAME --json``; False when the full CLI must handle it instead."""
    path = _bench_file(name)
    if path is None:
        return False
    from ionto.simulate.problem_io import cached_problem

    def load(p: Path) -> Any:
        from ionto.simulate.scenario import load_problem

        return load_problem(p)

    try:
        problem = cached_problem(path, load)
    except Exception:  # any input error: let the full CLI report it properly
        return False
    from ionto.simulate.simulation import simulate

    try:
        result = simulate(problem)
    except Exception:
        return False
    sys.stdout.write(reports_json(result.reports) + "\n")
    sys.stdout.flush()
    return True


def main() -> None:
    """Run the ``ionto`` command."""
    # The engine's linear algebra is banded and small: BLAS threads only cost start-up
    # time (about 0.05 s) and contend with the process's own work. A user's setting wins.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "bench" and "--json" in args[1:]:
        name = args[2] if args[1] == "--json" else args[1]
        if not name.startswith("-") and _fast_bench(name):
            return
    from ionto.cli import main as cli_main

    cli_main()
