"""Every validation scenario of examples/validation/ runs on the engine, its prediction
comes from the engine's reports, and docs/validation.md shows the command's table.

One run of the whole folder (about 13 s on one core) serves the module; a second run
perturbs every report to prove that no prediction is hard-coded.
"""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path
from typing import Any

import pytest

from ionto.simulate.problem import Problem
from ionto.simulate.result import Result
from ionto.simulate.simulation import simulate
from ionto.simulate.validation.runner import ValidationReport, run_folder
from ionto.simulate.validation.table import markdown

pytestmark = [pytest.mark.slow, pytest.mark.validation, pytest.mark.engine]

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "examples" / "validation"
DOC = ROOT / "docs" / "validation.md"
TABLE = re.compile(r"<!-- validation-table -->\n(.*?)<!-- /validation-table -->", re.DOTALL)


@pytest.fixture(scope="module")
def report() -> ValidationReport:
    return run_folder(FOLDER)


def test_every_scenario_gives_a_prediction(report: ValidationReport) -> None:
    assert len(report.results) == len(list(FOLDER.glob("*.toml"))) - 1  # minus uncovered.toml
    for r in report.results:
        c = r.comparison
        assert c.misfit is not None and math.isfinite(c.misfit), r.path.name
        assert c.predicted is not None and math.isfinite(c.predicted), r.path.name
        assert r.balance_error < 1e-8, r.path.name


def test_the_document_shows_the_commands_table(report: ValidationReport) -> None:
    match = TABLE.search(DOC.read_text())
    assert match, "docs/validation.md has the table between <!-- validation-table --> markers"
    assert match.group(1) == markdown(report), (
        "docs/validation.md is out of date: regenerate the table with "
        "`ionto validate --markdown` and update the text that explains it"
    )


class _Perturbed:
    """The engine, with every report of every run scaled by its own factor."""

    def __init__(self) -> None:
        self.calls = itertools.count(1)

    def __call__(self, problem: Problem) -> Any:
        result: Result = simulate(problem)
        n = next(self.calls)
        result.reports = {
            name: value * (1.0 + 0.013 * n + 0.007 * k)
            for k, (name, value) in enumerate(result.reports.items())
        }
        return result


def test_predictions_come_from_the_engine_reports(report: ValidationReport) -> None:
    perturbed = run_folder(FOLDER, simulator=_Perturbed())
    for real, fake in zip(report.results, perturbed.results, strict=True):
        assert real.path == fake.path
        a = (real.comparison.predicted, *(v.y for v in real.sweep))
        b = (fake.comparison.predicted, *(v.y for v in fake.sweep))
        assert a != pytest.approx(b, rel=1e-6), real.path.name
