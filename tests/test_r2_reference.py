"""R2 against an independent converged solution (benchmarks/reference/r2_reference.py:
central differences, species from local equilibrium, SciPy BDF, nested meshes,
Richardson). ``ionto bench R2 --json``, run as a user runs it, must give every pH within
0.002 and every other value within 1e-3 relative."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_FILE = ROOT / "benchmarks" / "reference" / "R2_reference.json"

pytestmark = [pytest.mark.engine, pytest.mark.slow]


def test_bench_r2_agrees_with_the_independent_reference(tmp_path: Path) -> None:
    reference = json.loads(REFERENCE_FILE.read_text())["keys"]
    env = dict(os.environ, IONTO_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run(
        [sys.executable, "-m", "ionto", "bench", "R2", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=True,
    )
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    values = json.loads(lines[0])
    assert set(values) == set(reference)
    for key, ref in reference.items():
        if ref["value"] is None:
            assert values[key] is None, key
        elif key.startswith("pH_"):
            assert abs(values[key] - ref["value"]) < 0.002, key
        else:
            assert values[key] == pytest.approx(ref["value"], rel=1e-3), key
