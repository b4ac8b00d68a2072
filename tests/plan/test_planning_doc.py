"""docs/planning.md is real: protocol blocks parse, TOML blocks validate, the rules table
matches rules.toml. (tests/test_docs.py runs its ```python blocks.)"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from ionto.plan.library import Library
from ionto.plan.library_schema import LibraryFile
from ionto.plan.plan import plan_from_dict
from ionto.plan.protocol import parse
from ionto.plan.safety import default_rules

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "planning.md").read_text()
FENCE = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)


def blocks(language: str) -> list[str]:
    return [m.group(2) for m in FENCE.finditer(DOC) if m.group(1) == language]


def test_protocol_blocks_parse_and_are_canonical() -> None:
    (text,) = blocks("protocol")
    assert str(parse(text)) == text.strip()


def test_toml_blocks_validate() -> None:
    plan_blocks = [b for b in blocks("toml") if "protocol =" in b]
    library_blocks = [b for b in blocks("toml") if "[[drug]]" in b]
    assert plan_blocks and library_blocks
    for text in plan_blocks:
        plan = plan_from_dict(tomllib.loads(text))
        assert plan.course is not None
    for text in library_blocks:
        lib = Library.from_files(
            [
                *((str(p), f) for p, f in _builtin()),
                ("doc", LibraryFile.model_validate(tomllib.loads(text))),
            ]
        )
        assert "lidocaine-5" in lib.drugs


def _builtin() -> list[tuple[str, LibraryFile]]:
    from ionto.plan.library import BUILTIN_FILES, read_library_file

    return [(str(p), read_library_file(p)) for p in BUILTIN_FILES]


def test_rules_table_lists_every_rule_with_its_severity() -> None:
    rows = dict(re.findall(r"^\| `([a-z.-]+)` \| (\w+)", DOC, re.MULTILINE))
    book = default_rules()
    assert set(rows) == set(book.rules)
    for rule_id, rule in book.rules.items():
        assert rows[rule_id] == rule.severity, rule_id
