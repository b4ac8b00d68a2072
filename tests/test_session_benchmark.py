"""The speed benchmark ``benchmarks/session.toml`` (a whole two-site DEX-P session) is
accurate at its own settings, not only fast.

Its report values must agree with a run of the same file on a mesh with every cell
halved at a 100x tighter tolerance: the drug taken up by the skin within 2 % (measured
0.1-0.3 %; the refinement study in docs/verification.md puts the benchmark's per-layer
mesh 0.3-0.5 % from the converged value, first-order convergence, and this reference
within 0.12 % of a 4x refined run), pH within 0.002, the voltage within 1e-3 (measured
3e-4), the perfusion within the benchmark's rtol 1e-4 (measured 1e-5: its time error at
that rtol, the same on every mesh). The plasma level is the tail of a front that
has not left the stratum corneum: only its bound (< 1e-10 mol/m^3) is checked. Every
balance closes to round-off, and ``ionto bench session --json`` prints the same values.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ionto.simulate.scenario import load_problem
from ionto.simulate.simulation import simulate

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.engine, pytest.mark.slow]


def test_session_benchmark_agrees_with_a_refined_tighter_run(tmp_path: Path) -> None:
    problem = load_problem(ROOT / "benchmarks" / "session.toml")
    bench = simulate(problem)
    tight = dataclasses.replace(
        problem, solver=dataclasses.replace(problem.solver, rtol=problem.solver.rtol / 100)
    )
    fine = simulate(tight, refine=2.0)
    assert bench.summary()["max relative balance error [-]"] < 1e-12
    assert fine.summary()["max relative balance error [-]"] < 1e-12
    got, ref = bench.reports, fine.reports
    for key in ("dexp_into_skin_10.5min", "dexp_into_skin_20min", "dexp_released_20min"):
        assert got[key] == pytest.approx(ref[key], rel=2e-2), key
        assert got[key] > 1e-6  # mol/m^2: micromoles per m^2 of the drug did enter
    for key in ("pH_cathode_10.5min", "pH_anode_10.5min"):
        assert got[key] == pytest.approx(ref[key], abs=2e-3), key
    assert got["voltage_5min"] == pytest.approx(ref["voltage_5min"], rel=1e-3)
    # perfusion is a state integrated in time at the file's rtol (1e-4); its difference
    # from the tight run (about 1e-5) is that time error and does not depend on the mesh
    assert got["perfusion_dermis_10.5min"] == pytest.approx(
        ref["perfusion_dermis_10.5min"], rel=1e-4
    )
    assert 0.0 <= got["dexp_plasma_20min"] < 1e-10
    assert abs(ref["dexp_plasma_20min"]) < 1e-10

    env = dict(os.environ, IONTO_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run(
        [sys.executable, "-m", "ionto", "bench", "session", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=True,
    )
    printed = json.loads(proc.stdout)
    assert set(printed) == set(got)
    for key, value in got.items():
        assert printed[key] == pytest.approx(value, rel=1e-12, abs=1e-300), key
