"""Shared fixtures: the repository root, the R1 scenario as a dict, a TOML writer."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomli_w

ROOT = Path(__file__).resolve().parents[1]
R1_PATH = ROOT / "benchmarks" / "R1.toml"
EXAMPLE_PATH = ROOT / "examples" / "lidocaine_anode.toml"

_R1 = tomllib.loads(R1_PATH.read_text())


@pytest.fixture
def r1() -> dict[str, Any]:
    """A fresh, mutable copy of benchmarks/R1.toml as parsed TOML."""
    return copy.deepcopy(_R1)


@pytest.fixture
def write_toml(tmp_path: Path) -> Callable[[dict[str, Any]], Path]:
    """Write a dict as TOML into tmp_path and return the file's path."""
    counter = iter(range(1_000_000))

    def write(data: dict[str, Any]) -> Path:
        path = tmp_path / f"scenario_{next(counter)}.toml"
        path.write_text(tomli_w.dumps(data))
        return path

    return write


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--device-port PORT``: run the ``hardware`` tests on a real current source."""
    parser.addoption(
        "--device-port",
        default=None,
        help="serial port of a real current source (line protocol of docs/device-protocol.md)"
        " with a 1 kohm test resistor across its leads; enables the hardware tests",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip ``hardware`` tests unless ``--device-port`` is given."""
    if config.getoption("--device-port"):
        return
    skip = pytest.mark.skip(reason="needs a real device: pytest --device-port PORT")
    for item in items:
        if "hardware" in item.keywords:
            item.add_marker(skip)
