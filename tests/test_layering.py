"""Lower layers never import higher ones: core < simulate < plan < run < record < serve < scale.

Every module under src/ionto is parsed with ``ast`` (nothing is imported). ``ionto.cli``
and ``ionto.__main__`` sit on top and may import anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "ionto"
ORDER = ["core", "simulate", "plan", "run", "record", "serve", "scale"]
TOP = {"cli", "launcher", "__main__"}  # entry points: may import every layer
RANK = {name: i for i, name in enumerate(ORDER)}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def rank(module: str) -> int | None:
    """Layer rank of an ``ionto...`` module; None for modules outside ionto."""
    parts = module.split(".")
    if parts[0] != "ionto":
        return None
    if len(parts) == 1:
        return 0  # the ionto package itself: the version only
    head = parts[1]
    if head in TOP:
        return len(ORDER)
    if head not in RANK:
        raise AssertionError(f"ionto.{head} is not in the layer order {ORDER}; add it there")
    return RANK[head]


def imports(text: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in ``text``, relative imports resolved."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # ``from ionto import plan`` or ``from . import run`` import subpackages
            found.extend((node.lineno, f"{target}.{alias.name}") for alias in node.names)
    return found


def upward_imports(text: str, module: str, is_package: bool = False) -> list[str]:
    own = rank(module)
    assert own is not None
    bad: dict[int, str] = {}  # one entry per offending line
    for line, target in imports(text, module, is_package):
        head = target.split(".")
        if len(head) > 1 and head[0] == "ionto" and head[1] not in RANK and head[1] not in TOP:
            continue  # ``from ionto import __version__`` and similar names
        other = rank(target)
        if other is not None and other > own:
            bad.setdefault(line, f"line {line}: imports {target}")
    return list(bad.values())


MODULES = sorted(SRC.rglob("*.py"))


def test_modules_found() -> None:
    assert any(p.name == "cli.py" for p in MODULES)
    assert any(p.parent.name == "core" for p in MODULES)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_upward_imports(path: Path) -> None:
    bad = upward_imports(path.read_text(), module_name(path), path.name == "__init__.py")
    assert not bad, f"{path.relative_to(SRC)} imports a higher layer: {bad}"


@pytest.mark.parametrize(
    ("text", "module", "expected_bad"),
    [
        ("from ionto.simulate.problem import Problem\n", "ionto.core.units", 1),
        ("import ionto.plan.steps\n", "ionto.simulate.model", 1),
        ("from ..run import devices\n", "ionto.plan.x", 1),
        ("from ionto import scale\n", "ionto.serve.app", 1),
        ("from ionto.cli import main\n", "ionto.core.x", 1),
        ("from ionto.core.units import parse_quantity\n", "ionto.simulate.x", 0),
        ("from ionto import __version__\n", "ionto.core.x", 0),
        ("from ionto.scale import cohort\n", "ionto.cli", 0),
        ("import numpy as np\n", "ionto.core.x", 0),
    ],
)
def test_checker(text: str, module: str, expected_bad: int) -> None:
    assert len(upward_imports(text, module)) == expected_bad


def test_unknown_layer_is_reported() -> None:
    with pytest.raises(AssertionError, match="layer order"):
        rank("ionto.gadgets.thing")
