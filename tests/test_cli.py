"""The ionto command line without running the engine: version, help, bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ionto import __version__
from ionto.cli import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"ionto {__version__}"


def test_help_lists_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "simulate" in result.stdout
    assert "bench" in result.stdout


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02\xff\xfe garbage", "binary"),
        (b"title = \n", "line 1"),
        (b'schema_version = 1\ntemprature = "300 K"\n', "did you mean 'temperature'"),
    ],
)
def test_bad_file_one_line_exit_2(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    result = runner.invoke(app, ["simulate", str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {path}")
    assert words in lines[0]
    assert "Traceback" not in result.stderr


def test_field_error_names_field(tmp_path: Path) -> None:
    text = (ROOT / "benchmarks" / "R1.toml").read_text()
    path = tmp_path / "thin.toml"
    path.write_text(text.replace('thickness = "20 um"', 'thickness = "-20 um"'))
    result = runner.invoke(app, ["simulate", str(path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: {path}: layers[1].thickness: -20 um is not allowed (unit: m; allowed: > 0)"
    )


def test_missing_file_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", str(tmp_path / "none.toml")])
    assert result.exit_code == 2
    assert "not found" in result.stderr


def test_bad_out_suffix_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["simulate", str(ROOT / "benchmarks" / "R1.toml"), "--out", "x.xlsx"]
    )
    assert result.exit_code == 2
    assert "--out" in result.stderr


def test_unknown_benchmark_exit_2() -> None:
    result = runner.invoke(app, ["bench", "R1x"])
    assert result.exit_code == 2
    assert "no benchmark called 'R1x'" in result.stderr
    assert "R1" in result.stderr


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_real_process_bad_file_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "garbage.toml"
    path.write_bytes(os.urandom(64) + b"\x00")
    proc = subprocess.run(
        [sys.executable, "-m", "ionto", "simulate", str(path)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys, ionto.cli\n"
        "heavy = [m for m in ('numpy', 'pint', 'pydantic', 'matplotlib', 'scipy') "
        "if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_progress_bar_appears_only_after_delay() -> None:
    import io

    from rich.console import Console

    from ionto.cli import _LazyProgress

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=80)
    slow = _LazyProgress(console, delay=3600.0)
    slow(1.0, 10.0)
    slow.close()
    assert buffer.getvalue() == ""
    fast = _LazyProgress(console, delay=0.0)
    fast(5.0, 10.0)
    fast(10.0, 10.0)
    fast.close()
    assert "simulating" in buffer.getvalue()
