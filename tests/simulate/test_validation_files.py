"""The validation scenarios of examples/validation/ against cases.json (no engine runs):
every case is covered by a scenario or listed with its reason, files load, and every
scenario's [validation] names a quantity of its case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ionto.simulate.validation.runner import (
    load_case,
    load_known_cases,
    load_uncovered,
    scenario_files,
)

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "examples" / "validation"
KNOWN = load_known_cases(FOLDER)
FILES = scenario_files(FOLDER)


def test_cases_json_is_the_shared_one_when_available() -> None:
    shared = Path("/work/shared/validation/cases.json")
    if not shared.is_file():
        pytest.skip("the shared validation folder is not on this machine")
    assert json.loads(shared.read_text()) == json.loads((FOLDER / "cases.json").read_text())


def test_every_case_is_covered_or_listed_with_a_reason() -> None:
    assert KNOWN is not None
    covered = {load_case(path, KNOWN).spec.case for path in FILES}
    uncovered = {u.id: u.reason for u in load_uncovered(FOLDER)}
    assert not covered & set(uncovered), "a case is both covered and listed as uncovered"
    assert covered | set(uncovered) == set(KNOWN), set(KNOWN) ^ (covered | set(uncovered))
    assert all(len(reason) > 40 for reason in uncovered.values())


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_scenario_loads_and_states_its_assumptions(path: Path) -> None:
    case = load_case(path, KNOWN)
    assert case.runs
    text = path.read_text()
    assert text.startswith("#"), "the file starts with its source and assumptions"
    assert "ssum" in text, "missing setup details are stated as assumptions"
