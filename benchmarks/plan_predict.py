"""Time a typical ``ionto plan`` prediction as a whole process (start-up included).

Usage: ``python benchmarks/plan_predict.py [--repeat N]``. Runs
``ionto plan PLAN --json`` for the example plans below (check + prediction + course),
then ``ionto plan PLAN --report ... --pdf ...`` (reports written) and
``ionto dose PLAN --target "2 umol" --json`` (the dose finder), and prints the best and
median wall time of each with the simulation's own wall time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLANS = ["lidocaine-forearm", "dexamethasone-knee"]


def _time(args: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(args)} failed:\n{done.stderr}")
    return wall, done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (default 3)")
    args = parser.parse_args(argv)
    ionto = str(ROOT / ".venv" / "bin" / "ionto")
    out = Path(tempfile.mkdtemp())
    for name in PLANS:
        plan = str(ROOT / "examples" / "plans" / f"{name}.toml")
        cases = {
            "plan --json": [ionto, "plan", plan, "--json"],
            "plan + HTML/PDF": [
                ionto,
                "plan",
                plan,
                "--report",
                str(out / "r.html"),
                "--pdf",
                str(out / "r.pdf"),
            ],  # fmt: skip
        }
        if name == "lidocaine-forearm":
            cases["dose --target 2 umol"] = [ionto, "dose", plan, "--target", "2 umol", "--json"]
        for label, command in cases.items():
            walls = []
            sim = float("nan")
            for _ in range(args.repeat):
                wall, stdout = _time(command)
                walls.append(wall)
                if label == "plan --json":
                    sim = json.loads(stdout)["prediction"]["summary"]["simulation wall time [s]"]
            extra = f", simulation {sim:.2f} s" if label == "plan --json" else ""
            print(
                f"{name:20s} {label:22s} best {min(walls):6.2f} s, "
                f"median {statistics.median(walls):6.2f} s{extra}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
