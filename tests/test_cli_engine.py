"""The ionto command line end to end, with the numerical engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn

import pytest
from typer.testing import CliRunner

from ionto.cli import app

ROOT = Path(__file__).resolve().parents[1]
R1_KEYS = [
    "Q_out_1200", "Q_out_3600", "Q_skin_1200", "Q_skin_3600", "Q_blood_3600", "t_Lid_1200",
    "V_600", "V_1200", "c_100um_1200", "c_500um_1200", "c_100um_3600", "c_500um_3600",
]  # fmt: skip

pytestmark = [pytest.mark.engine, pytest.mark.slow]
runner = CliRunner()


def test_bench_r1_json_is_one_object(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # found through the repository root, not the cwd
    result = runner.invoke(app, ["bench", "R1", "--json"])
    assert result.exit_code == 0, result.stderr
    values = json.loads(result.stdout)
    assert list(values) == R1_KEYS
    assert all(isinstance(v, float) for v in values.values())
    assert 0 < values["t_Lid_1200"] < 1


def test_bench_prepare_caches_the_problem_without_running(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("IONTO_CACHE_DIR", str(cache))
    monkeypatch.delenv("IONTO_NO_CACHE", raising=False)
    result = runner.invoke(app, ["bench", "session", "--prepare"])
    assert result.exit_code == 0, result.stderr
    assert "validated and cached" in result.stdout and "{" not in result.stdout
    (entry,) = cache.glob("*.json")
    # the fast path of ``ionto bench session --json`` reads exactly this entry
    from ionto.simulate.problem_io import cached_problem

    def refuse(path: Path) -> NoReturn:
        raise AssertionError("the prepared problem should come from the cache")

    problem = cached_problem(ROOT / "benchmarks" / "session.toml", refuse)
    assert problem.title.startswith("DEX-P session")
    assert entry.stat().st_size > 0


def test_simulate_example_outputs(tmp_path: Path) -> None:
    plot = tmp_path / "figs" / "profiles.png"
    out = tmp_path / "result.json"
    result = runner.invoke(
        app,
        [
            "simulate",
            str(ROOT / "examples" / "lidocaine_anode.toml"),
            "--json",
            "--plot",
            str(plot),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert set(payload) == {"title", "reports", "summary"}
    assert payload["reports"]["delivered_into_skin_end"] > 0
    assert payload["summary"]["charge passed [C/m^2]"] == pytest.approx(2400.0)
    assert plot.read_bytes()[:4] == b"\x89PNG"
    assert json.loads(out.read_text())["species"] == ["Lid+", "Na+", "Cl-"]


def test_simulate_table_output() -> None:
    result = runner.invoke(app, ["simulate", str(ROOT / "benchmarks" / "R1.toml")])
    assert result.exit_code == 0, result.stderr
    assert "Q_out_1200" in result.stdout
    assert "[mol/m^2]" in result.stdout or "[V]" in result.stdout


def test_failed_integration_is_one_line_with_a_hint(tmp_path: Path) -> None:
    text = (ROOT / "benchmarks" / "R1.toml").read_text()
    text = text.replace("[solver]\n", "[solver]\nmax_steps = 3\n")
    scenario = tmp_path / "tight.toml"
    scenario.write_text(text)
    result = runner.invoke(app, ["simulate", str(scenario)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "max_steps" in lines[0] and "t = " in lines[0]
