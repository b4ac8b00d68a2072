"""Run validation scenarios and compare their predictions with the published values.

* :func:`load_case` reads a scenario file with a ``[validation]`` table, applies each
  ``[[validation.sweep]]`` entry's overrides and builds every problem up front (so a bad
  file fails before anything runs);
* :func:`run_case` simulates the problems, evaluates the ``predicted`` expression on the
  reports and compares it (:mod:`.compare`);
* :func:`run_folder` runs every ``*.toml`` of a folder (``examples/validation/``) and
  lists the cases of ``cases.json`` that no file covers, with the reasons given in
  ``uncovered.toml``.

Units: reports are SI (their units from ``Result.report_units``); predicted and measured
values are shown in the table's ``unit``.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ionto.core.config import StrictModel, config_error, load_toml
from ionto.core.errors import ConfigError, IontoError, SolverError
from ionto.simulate.validation.compare import (
    Comparison,
    compare_independent,
    compare_proportional,
    compare_trend,
    compare_value,
    crossing,
    line_crossing,
)
from ionto.simulate.validation.expression import (
    evaluate,
    names_in,
    quantity_of,
    to_unit,
)
from ionto.simulate.validation.spec import ValidationSpec

if TYPE_CHECKING:
    from ionto.simulate.problem import Problem
    from ionto.simulate.result import Result

__all__ = [
    "CaseResult",
    "ValidationCase",
    "ValidationReport",
    "apply_overrides",
    "load_case",
    "run_case",
    "run_folder",
]

UNCOVERED_FILE = "uncovered.toml"
CASES_FILE = "cases.json"


# ------------------------------------------------------------------ overrides


def apply_overrides(data: Mapping[str, Any], overrides: Mapping[str, Any], field: str) -> dict:
    """A deep copy of the parsed scenario ``data`` with ``overrides`` applied.

    Keys are dotted paths: ``"skin.tissue.Li+"``, ``"boundary.right.concentrations.glucose"``,
    ``"layers.donor.initial.Na+"`` (a list is entered by the ``name`` of an element, or by
    its index: ``"control.0.current"``). Missing tables and keys are created (the
    scenario schema then rejects a misspelt one); a list element must exist and a value
    cannot be entered. ConfigError naming ``field`` and the path otherwise."""
    out = copy.deepcopy(dict(data))
    for path, value in overrides.items():
        parts = path.split(".")
        where = f'{field}["{path}"]'
        node: Any = out
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if isinstance(node, list):
                index = _list_index(node, part, where, ".".join(parts[: depth + 1]))
                if last:
                    node[index] = copy.deepcopy(value)
                else:
                    node = node[index]
            elif isinstance(node, dict):
                if last:
                    node[part] = copy.deepcopy(value)
                else:
                    node = node.setdefault(part, {})
            else:
                raise ConfigError(
                    where,
                    path,
                    None,
                    "a path to a key of the scenario",
                    f"{'.'.join(parts[:depth])!r} is a value, not a table",
                )
    return out


def _list_index(items: list, part: str, where: str, so_far: str) -> int:
    if part.isdigit():
        if int(part) < len(items):
            return int(part)
    else:
        for i, item in enumerate(items):
            if isinstance(item, dict) and item.get("name") == part:
                return i
    names = [str(it.get("name")) for it in items if isinstance(it, dict) and "name" in it]
    raise ConfigError(
        where,
        so_far,
        None,
        "an element's name or index: " + (", ".join(names) or f"0..{len(items) - 1}"),
        f"no element {part!r} in this list",
    )


# ------------------------------------------------------------------ cases


@dataclass(frozen=True)
class Run:
    """One simulation of a case: its sweep label (None without a sweep), swept x (a pint
    Quantity or None) and its Problem."""

    label: str | None
    x: Any
    problem: Problem


@dataclass(frozen=True)
class ValidationCase:
    """A validation scenario: its file, the ``[validation]`` table and the problems to run."""

    path: Path
    spec: ValidationSpec
    runs: tuple[Run, ...]


def load_case(path: str | Path, known_cases: Mapping[str, Any] | None = None) -> ValidationCase:
    """Read and check a validation scenario; build its problems (one per sweep entry).

    ``known_cases``: the entries of ``cases.json`` by id; when given, the table's ``case``
    must be one of them and its ``quantity`` one of that case's measured or derived
    quantities. Raises ConfigError (field prefixed with the file name)."""
    from ionto.simulate.scenario import problem_from_dict, resolve_paths

    p = Path(path)
    data = load_toml(p)
    try:
        if "validation" not in data:
            raise ConfigError("validation", message="is missing: not a validation scenario")
        try:
            spec = ValidationSpec.model_validate(data["validation"])
        except ValidationError as exc:
            raise config_error(exc, "validation") from None
        if known_cases is not None:
            _check_known(spec, known_cases)
        scenario = {k: v for k, v in data.items() if k != "validation"}
        resolve_paths(scenario, p.parent)
        runs: list[Run] = []
        if not spec.sweep:
            runs.append(Run(None, None, problem_from_dict(scenario)))
        for i, entry in enumerate(spec.sweep):
            where = f"validation.sweep[{i}]"
            variant = apply_overrides(scenario, entry.set, f"{where}.set")
            try:
                problem = problem_from_dict(variant)
            except ConfigError as exc:
                raise ConfigError(
                    f"{where} ({entry.label!r}): {exc.field}",
                    exc.value,
                    exc.unit,
                    exc.allowed,
                    exc.message,
                ) from None
            x = None if entry.x is None else _quantity(entry.x, f"{where}.x")
            runs.append(Run(entry.label, x, problem))
        _check_names(spec, runs)
    except ConfigError as exc:
        raise ConfigError(
            f"{p}: {exc.field}" if exc.field else str(p),
            exc.value,
            exc.unit,
            exc.allowed,
            exc.message,
        ) from None
    return ValidationCase(p, spec, tuple(runs))


def _quantity(text: str | float, field: str) -> Any:
    try:
        return quantity_of(text)
    except Exception as exc:
        raise ConfigError(field, text, None, 'a quantity such as "0.6 mM"', str(exc)) from None


def _check_known(spec: ValidationSpec, known: Mapping[str, Any]) -> None:
    from ionto.core.config import suggest

    if spec.case not in known:
        raise ConfigError(
            "validation.case",
            spec.case,
            None,
            f"an id of {CASES_FILE}",
            f"unknown case {spec.case!r}{suggest(spec.case, known)}",
        )
    entry = known[spec.case]
    quantities = [m["quantity"] for m in entry.get("measured", [])]
    quantities += [d["quantity"] for d in entry.get("derived", [])]
    if spec.quantity not in quantities:
        raise ConfigError(
            "validation.quantity",
            spec.quantity,
            None,
            "one of: " + "; ".join(quantities),
            f"not a quantity of case {spec.case!r}",
        )


def _check_names(spec: ValidationSpec, runs: Sequence[Run]) -> None:
    """Every name of the expression is a report of the runs or a constant, and sweep
    labels are used where (and only where) the check needs them."""
    field = "validation.predicted"
    labels = {r.label for r in runs}
    for name, label in names_in(spec.predicted, field):
        if label is not None:
            if spec.check != "value":
                raise ConfigError(
                    field,
                    spec.predicted,
                    None,
                    "plain report names",
                    f"check {spec.check!r} evaluates the expression per sweep entry; "
                    f'drop ["{label}"]',
                )
            if label not in labels:
                raise ConfigError(
                    field, label, None, "a sweep label: " + ", ".join(map(str, labels))
                )
        elif spec.check == "value" and spec.sweep and name not in spec.constants:
            raise ConfigError(
                field,
                name,
                None,
                'name["label"] for a report of a sweep entry',
                f"{name!r} needs the sweep entry it comes from",
            )
        if name in spec.constants:
            continue
        for run in runs:
            if label is not None and run.label != label:
                continue
            if name not in {rep.name for rep in run.problem.reports}:
                raise ConfigError(
                    field,
                    name,
                    None,
                    "a report name or a constant: "
                    + ", ".join([r.name for r in run.problem.reports] + list(spec.constants)),
                    f"unknown name {name!r}",
                )


# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class SweepValue:
    """One sweep entry's prediction: label, x (in its unit as written) and y (in the
    table's unit; for crossing checks in the unit of ``level``)."""

    label: str
    x: str
    y: float
    x_value: float = 0.0  # x as a number (in the unit of the first entry's x)


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one validation scenario."""

    path: Path
    spec: ValidationSpec
    comparison: Comparison
    sweep: tuple[SweepValue, ...] = ()
    wall_time: float = 0.0
    balance_error: float = 0.0

    def to_json(self) -> dict[str, Any]:
        s, c = self.spec, self.comparison
        measured: dict[str, Any] = {"text": s.measured.text}
        for key in ("value", "uncertainty", "limit"):
            if getattr(s.measured, key) is not None:
                measured[key] = getattr(s.measured, key)
        if s.measured.range is not None:
            measured["range"] = list(s.measured.range)
        return {
            "id": s.case,
            "file": self.path.name,
            "quantity": s.quantity,
            "check": s.check,
            "unit": s.unit,
            "predicted": c.predicted,
            "measured": measured,
            "misfit": c.misfit,
            "misfit_unit": c.misfit_unit,
            "within_tolerance": c.within,
            "independent": s.independent,
            "rule": c.rule,
            "detail": c.detail,
            "note": " ".join(s.note.split()),
            "sweep": [{"label": v.label, "x": v.x, "value": v.y} for v in self.sweep],
            "wall_time_s": self.wall_time,
            "max_balance_error": self.balance_error,
        }


Simulator = Callable[["Problem"], "Result"]


def _default_simulator(problem: Problem) -> Result:
    from ionto.simulate.simulation import simulate

    return simulate(problem)


def _where(case: ValidationCase, run: Run) -> str:
    return f"{case.path}" + (f" (sweep {run.label!r})" if run.label is not None else "")


def run_case(case: ValidationCase, simulator: Simulator | None = None) -> CaseResult:
    """Simulate every run of ``case`` and compare its prediction with the measurement."""
    sim = simulator or _default_simulator
    spec = case.spec
    start = time.perf_counter()
    reports: dict[str | None, dict[str, Any]] = {}
    balance = 0.0
    for run in case.runs:
        try:
            result = sim(run.problem)
        except ConfigError as exc:
            raise exc.with_prefix(_where(case, run)) from None
        except IontoError as exc:
            raise SolverError(f"{_where(case, run)}: {exc}") from None
        units = result.report_units
        reports[run.label] = {
            name: quantity_of(value, units.get(name, "-")) for name, value in result.reports.items()
        }
        balance = max(balance, float(result.summary().get("max relative balance error [-]", 0.0)))
    constants = {
        name: _quantity(text, f"validation.constants.{name}")
        for name, text in spec.constants.items()
    }
    field = f"{case.path}: validation.predicted"

    def lookup_for(default: str | None) -> Callable[[str, str | None], Any]:
        def lookup(name: str, label: str | None) -> Any:
            if label is None and name in constants:
                return constants[name]
            values = reports.get(label if label is not None else default, {})
            if name not in values:
                raise KeyError(f"unknown name {name!r}")
            return values[name]

        return lookup

    sweep: list[SweepValue] = []
    if spec.check == "value":
        value = evaluate(spec.predicted, lookup_for(None), field)
        comparison = compare_value(to_unit(value, spec.unit, field), spec.measured, spec.tolerance)
    else:
        xs: list[float] = []
        ys: list[float] = []
        x_unit = case.runs[0].x.units
        level = _quantity(spec.level, "validation.level") if spec.level is not None else None
        y_unit = spec.unit if level is None else str(level.units)
        for run in case.runs:
            y = to_unit(evaluate(spec.predicted, lookup_for(run.label), field), y_unit, field)
            if spec.check in ("crossing", "line_crossing"):
                x = to_unit(run.x, spec.unit, f"{case.path}: validation.sweep.x")
            else:
                x = to_unit(run.x, str(x_unit), f"{case.path}: validation.sweep.x")
            xs.append(x)
            ys.append(y)
            assert run.label is not None
            sweep.append(SweepValue(run.label, f"{run.x:~P}", y, x))
        if spec.check in ("crossing", "line_crossing"):
            assert level is not None
            lv = float(level.magnitude)
            at = crossing(xs, ys, lv) if spec.check == "crossing" else line_crossing(xs, ys, lv)
            comparison = compare_value(at, spec.measured, spec.tolerance)
            if at is None:
                comparison = Comparison(
                    None, None, "", False, comparison.rule, f"no crossing of {lv:g} in the sweep"
                )
        elif spec.check == "proportional":
            comparison = compare_proportional(xs, ys, spec.tolerance)
        elif spec.check in ("increasing", "decreasing"):
            comparison = compare_trend(xs, ys, spec.check)
        else:
            comparison = compare_independent(ys, spec.tolerance)
    return CaseResult(
        case.path,
        spec,
        comparison,
        tuple(sweep),
        time.perf_counter() - start,
        balance,
    )


# ------------------------------------------------------------------ folders


class _Uncovered(StrictModel):
    id: str
    reason: str
    needs: str = ""


class _UncoveredFile(StrictModel):
    case: list[_Uncovered]


@dataclass(frozen=True)
class Uncovered:
    """A case of cases.json without a scenario, and why."""

    id: str
    reason: str
    needs: str = ""


@dataclass
class ValidationReport:
    """All results of a folder, the cases not covered, and the cases.json entries."""

    results: list[CaseResult] = field(default_factory=list)
    uncovered: list[Uncovered] = field(default_factory=list)
    cases: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "cases": [r.to_json() for r in self.results],
            "uncovered": [
                {"id": u.id, "reason": u.reason, "needs": u.needs} for u in self.uncovered
            ],
            "summary": {
                "covered": len({r.spec.case for r in self.results}),
                "comparisons": len(self.results),
                "within_tolerance": sum(r.comparison.within for r in self.results),
                "uncovered": len(self.uncovered),
            },
        }


def load_known_cases(folder: Path) -> dict[str, Any] | None:
    """``cases.json`` of the folder by id, or None if the folder has none."""
    path = folder / CASES_FILE
    if not path.is_file():
        return None
    try:
        entries = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(str(path), message=f"cannot be read as JSON ({exc})") from None
    return {e["id"]: e for e in entries}


def load_uncovered(folder: Path) -> list[Uncovered]:
    """The ``[[case]]`` entries of ``uncovered.toml`` (empty if the file is missing)."""
    path = folder / UNCOVERED_FILE
    if not path.is_file():
        return []
    try:
        parsed = _UncoveredFile.model_validate(load_toml(path))
    except ValidationError as exc:
        raise config_error(exc, str(path)) from None
    return [Uncovered(u.id, " ".join(u.reason.split()), u.needs) for u in parsed.case]


def scenario_files(folder: Path) -> list[Path]:
    """The validation scenarios of a folder, sorted by name."""
    return sorted(p for p in folder.glob("*.toml") if p.name != UNCOVERED_FILE)


def load_folder(
    folder: Path, only: Sequence[str] = ()
) -> tuple[list[ValidationCase], ValidationReport]:
    """Load every scenario of ``folder`` (or those whose case id or file stem is in
    ``only``), checked against its cases.json, and the uncovered list."""
    known = load_known_cases(folder)
    cases = [load_case(p, known) for p in scenario_files(folder)]
    if only:
        cases = [c for c in cases if c.spec.case in only or c.path.stem in only]
    report = ValidationReport(uncovered=load_uncovered(folder), cases=known or {})
    return cases, report


def run_folder(
    folder: str | Path,
    only: Sequence[str] = (),
    simulator: Simulator | None = None,
    progress: Callable[[ValidationCase], None] | None = None,
) -> ValidationReport:
    """Run the validation scenarios of ``folder`` and collect the report."""
    cases, report = load_folder(Path(folder), only)
    for case in cases:
        if progress is not None:
            progress(case)
        report.results.append(run_case(case, simulator))
    return report
