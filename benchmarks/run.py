"""Time the whole process ``.venv/bin/ionto bench NAME --json`` (start-up included).

Usage: ``python benchmarks/run.py [NAME] [--repeat N]`` (default R1, 5 runs). The first
run starts with an empty scenario cache (so it validates the TOML file with pint and
pydantic); the others reuse the cache, as repeated runs of a scenario do. Prints each
time, the best and median of the warm runs and the report values, and checks that every
run gave the same values.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _ionto() -> str:
    local = ROOT / ".venv" / "bin" / "ionto"
    if local.exists():
        return str(local)
    found = shutil.which("ionto")
    if found is None:
        sys.exit("ionto is not installed: run `make bench` (it sets up .venv) first")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", nargs="?", default="R1", help="benchmark name (default R1)")
    parser.add_argument("--repeat", type=int, default=5, help="number of runs (default 5)")
    args = parser.parse_args(argv)
    command = [_ionto(), "bench", args.name, "--json"]
    walls: list[float] = []
    values: dict[str, float | None] = {}
    cache = tempfile.mkdtemp(prefix="ionto-bench-cache-")
    env = dict(os.environ, IONTO_CACHE_DIR=cache)
    cold = 0.0
    for k in range(args.repeat + 1):
        start = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr)
            print(f"run {k + 1}: `{' '.join(command)}` failed with code {proc.returncode}")
            return proc.returncode
        run_values = json.loads(proc.stdout)
        if values and run_values != values:
            print(f"warning: run {k + 1} gave different values from run 1")
        values = run_values
        if k == 0:
            cold = wall
            print(f"cold run (empty scenario cache): {wall:.3f} s")
            continue
        walls.append(wall)
        print(f"run {k}/{args.repeat}: {wall:.3f} s")
    print(
        f"\n{args.name}: best {min(walls):.3f} s, median {statistics.median(walls):.3f} s "
        f"(whole process `ionto bench {args.name} --json`, {len(walls)} warm runs); "
        f"cold {cold:.3f} s"
    )
    width = max((len(key) for key in values), default=0)
    for key, value in values.items():
        shown = "null" if value is None else f"{value:.10g}"
        print(f"  {key:<{width}}  {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
