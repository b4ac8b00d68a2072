"""The examples in README.md and docs/ run: every ```python block is executed, every
complete ```toml scenario loads, and a file shown in full matches the file itself."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from ionto.simulate.scenario import load_problem

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)


def _blocks(language: str) -> list[tuple[str, str]]:
    found = []
    for path in DOCS:
        for k, match in enumerate(FENCE.finditer(path.read_text())):
            if match.group(1) == language:
                found.append((f"{path.name}#{k}", match.group(2)))
    return found


@pytest.mark.parametrize(("where", "code"), _blocks("python"), ids=lambda v: v if "#" in v else "")
def test_python_examples_run(
    where: str, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for folder in ("examples", "benchmarks"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, where, "exec"), {"__name__": "__docs__"})


@pytest.mark.parametrize(("where", "text"), _blocks("toml"), ids=lambda v: v if "#" in v else "")
def test_toml_examples_parse(where: str, text: str, tmp_path: Path) -> None:
    tomllib.loads(text)
    if "schema_version" in text:  # a complete scenario: it must validate
        path = tmp_path / "example.toml"
        path.write_text(text)
        load_problem(path)


def test_documented_r1_file_is_the_real_one() -> None:
    shown = [text for where, text in _blocks("toml") if "R1: anodal lidocaine" in text]
    assert shown, "docs/scenarios.md shows benchmarks/R1.toml in full"
    assert shown[0].strip() == (ROOT / "benchmarks" / "R1.toml").read_text().strip()
