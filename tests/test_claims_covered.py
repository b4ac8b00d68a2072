"""Every domain claim (P1-P20, C1-C5 of ../shared/domain/seed-claims.md, listed in
tests/claims.txt) has at least one behavioural test named after it: a function
``test_<id>_...`` (several ids may lead the name: ``test_P7_P8_...``) in a test module
under tests/, whose body asserts something. Test names are read from the source with
``ast``, so a claim test that is renamed, deleted or emptied makes this fail."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
CLAIMS_FILE = TESTS / "claims.txt"
SEED = ROOT.parent / "shared" / "domain" / "seed-claims.md"
CLAIM_ID = re.compile(r"[PC][0-9]+")


def listed_claims() -> list[str]:
    """Claim ids of tests/claims.txt, in order."""
    ids = []
    for line in CLAIMS_FILE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            ids.append(line.split("|", 1)[0].strip())
    return ids


def _asserts(node: ast.FunctionDef) -> bool:
    """True when the function body checks something (assert, pytest.raises)."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Assert):
            return True
        if isinstance(sub, ast.Attribute) and sub.attr == "raises":
            return True
    return False


def claim_tests() -> dict[str, list[str]]:
    """Claim id -> ["path::test_name", ...] for every test function named after claims."""
    found: dict[str, list[str]] = {}
    for path in sorted(TESTS.rglob("test_*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test_"):
                continue
            tokens = node.name[len("test_") :].split("_")
            ids = []
            for token in tokens:
                if not CLAIM_ID.fullmatch(token):
                    break
                ids.append(token)
            if not ids or len(ids) == len(tokens) or not _asserts(node):
                continue  # not a claim test, a bare alias or one that checks nothing
            for claim in ids:
                found.setdefault(claim, []).append(f"{path.relative_to(ROOT)}::{node.name}")
    return found


def test_claims_list_is_complete() -> None:
    ids = listed_claims()
    assert ids == [f"P{k}" for k in range(1, 21)] + [f"C{k}" for k in range(1, 6)]


def test_every_claim_has_a_behavioural_test_named_after_it() -> None:
    found = claim_tests()
    missing = [claim for claim in listed_claims() if claim not in found]
    assert not missing, f"claims without a test named test_<claim>_...: {missing}"
    unknown = sorted(set(found) - set(listed_claims()))
    assert not unknown, f"tests named after claims that do not exist: {unknown}"


def test_claims_list_matches_the_shared_seed_claims() -> None:
    """tests/claims.txt is a copy of the ids of ../shared/domain/seed-claims.md; where the
    shared file is present (a checkout next to the project's shared folder) the two must
    agree. Skipped when the file is absent, except under CI (``CI=true``), where that is a
    failure (as the PostgreSQL record tests do)."""
    if not SEED.is_file():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI needs ../shared/domain/seed-claims.md next to the checkout: {SEED}")
        pytest.skip(f"{SEED} is not next to this checkout")
    rows = re.findall(r"^\| ([PC][0-9]+) \|", SEED.read_text(), re.MULTILINE)
    assert rows == listed_claims()
