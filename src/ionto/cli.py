"""The ``ionto`` command line (typer + rich).

Commands: ``ionto simulate FILE [--json] [--plot PNG] [--out result.json|.csv|.nc]``,
``ionto bench NAME [--json]``, ``ionto validate [FOLDER] [--json] [--markdown]`` and
``ionto --version``. Heavy modules (numpy, pint,
pydantic, matplotlib, the engine) are imported inside the commands so ``ionto --help``
stays fast. A bad input prints one red line to stderr and exits with code 2; any other
ionto error exits with code 1; neither shows a traceback.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import typer

from ionto import __version__
from ionto.simulate.plot import ProfileResult

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from ionto.simulate.problem import Problem

EXIT_CONFIG = 2
EXIT_FAILURE = 1
RESULT_SUFFIXES = (".json", ".csv", ".nc")
PROGRESS_DELAY = 1.0  # s of wall time before a progress bar appears


class _Result(ProfileResult, Protocol):
    """The parts of the engine's result the CLI uses (see ionto.simulate.result)."""

    @property
    def reports(self) -> Mapping[str, Any]: ...

    @property
    def report_units(self) -> Mapping[str, str]: ...

    def summary(self) -> Mapping[str, Any]: ...

    def save(self, path: Path) -> Any: ...


app = typer.Typer(
    name="ionto",
    help="ionto: simulate, plan and run iontophoresis.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True, highlight=False)


def _fail(message: str, code: int) -> typer.Exit:
    from rich.text import Text

    _stderr().print(Text("error: " + " ".join(message.split()), style="bold red"))
    return typer.Exit(code)


@contextmanager
def _user_errors(source: Path | None = None) -> Iterator[None]:
    """Turn ionto errors into one red line on stderr and an exit code (2 for bad input)."""
    from ionto.core.errors import ConfigError, IontoError

    try:
        yield
    except ConfigError as exc:
        text = str(exc)
        if source is not None and not text.startswith(str(source)):
            text = f"{source}: {text}"
        raise _fail(text, EXIT_CONFIG) from None
    except IontoError as exc:
        raise _fail(str(exc), EXIT_FAILURE) from None


class _LazyProgress:
    """Progress callback for the engine: shows a rich bar only once a run passes ~1 s."""

    def __init__(self, console: Console, delay: float = PROGRESS_DELAY) -> None:
        self._console = console
        self._delay = delay
        self._start = time.perf_counter()
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __call__(self, t_current: float, t_end: float) -> None:
        if self._progress is None:
            if time.perf_counter() - self._start < self._delay:
                return
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("simulating"),
                BarColumn(),
                TextColumn("t = {task.completed:.0f} / {task.total:.0f} s"),
                TimeElapsedColumn(),
                console=self._console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("simulate", total=t_end)
        assert self._task is not None
        self._progress.update(self._task, completed=t_current, total=t_end)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()


def _run(problem: Problem) -> _Result:
    """Run the engine, with a progress bar on an interactive stderr."""
    from ionto.simulate.simulation import simulate

    console = _stderr()
    if not console.is_terminal:
        return simulate(problem, progress=None)
    progress = _LazyProgress(console)
    try:
        return simulate(problem, progress=progress)
    finally:
        progress.close()


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    """Plain Python floats (numpy scalars converted); None and NaN become None."""
    from ionto.launcher import reports_json

    return dict(json.loads(reports_json(values)))


def _print_json(obj: object) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def _print_table(
    title: str, values: Mapping[str, Any], units: Mapping[str, str] | None = None
) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(title), title_justify="left")
    table.add_column("name")
    table.add_column("value", justify="right")
    if units is not None:
        table.add_column("unit")
    for key, value in values.items():
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        shown = "-" if missing else f"{float(value):.6g}"
        if units is not None:
            table.add_row(Text(key), shown, Text(units.get(key, "")))
        else:
            table.add_row(Text(key), shown)
    Console().print(table)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"ionto {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Show the version."
        ),
    ] = False,
) -> None:
    """ionto: simulate, plan and run iontophoresis."""


@app.command()
def simulate(
    file: Annotated[Path, typer.Argument(help="Scenario TOML file (see docs/scenarios.md).")],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print reports and summary as one JSON object.")
    ] = False,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Save depth profiles to this image (PNG).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Save the result (.json, .csv or .nc).")
    ] = None,
) -> None:
    """Simulate a scenario file and print its reports."""
    with _user_errors():
        from ionto.core.errors import ConfigError

        if out is not None and out.suffix.lower() not in RESULT_SUFFIXES:
            raise ConfigError("--out", str(out), None, "a file name ending in .json, .csv or .nc")
    with _user_errors(file):
        from ionto.simulate.scenario import load_problem

        problem = load_problem(file)
    with _user_errors():
        result = _run(problem)
        info = _stderr() if json_output else None
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            result.save(out)
            _note(f"result written to {out}", info)
        if plot is not None:
            from ionto.simulate.plot import plot_profiles

            interfaces = [end for _, end in problem.layer_bounds()[:-1]]
            figure = plot_profiles(result, boundaries=interfaces)
            plot.parent.mkdir(parents=True, exist_ok=True)
            figure.savefig(plot, dpi=150)
            _note(f"profiles plotted to {plot}", info)
    if json_output:
        _print_json(
            {
                "title": problem.title,
                "reports": _jsonable(result.reports),
                "summary": _jsonable(result.summary()),
            }
        )
        return
    reports = result.reports
    if reports:
        _print_table(f"Reports ({file.name})", reports, result.report_units)
    _print_table("Summary", result.summary())


def _note(text: str, console: Console | None) -> None:
    if console is not None:
        console.print(text)
    else:
        typer.echo(text)


def _benchmark_dirs() -> list[Path]:
    """Where benchmarks are looked up: ./benchmarks, then the repository's benchmarks/."""
    repo = Path(__file__).resolve().parents[2] / "benchmarks"
    here = Path.cwd() / "benchmarks"
    return [here] if here.resolve() == repo.resolve() else [here, repo]


def find_benchmark(name: str) -> Path:
    """``benchmarks/NAME.toml`` relative to the current directory or the repository root."""
    from ionto.core.config import suggest
    from ionto.core.errors import ConfigError

    direct = Path(name)
    if direct.suffix == ".toml" and direct.is_file():
        return direct
    available: set[str] = set()
    for folder in _benchmark_dirs():
        candidate = folder / f"{name}.toml"
        if candidate.is_file():
            return candidate
        if folder.is_dir():
            available |= {p.stem for p in folder.glob("*.toml")}
    choices = ", ".join(sorted(available)) or "(no benchmarks/ folder found)"
    raise ConfigError(
        "NAME",
        name,
        None,
        f"one of: {choices}",
        f"no benchmark called {name!r}{suggest(name, available)}",
    )


@app.command()
def bench(
    name: Annotated[str, typer.Argument(help="Benchmark name, e.g. R1 (benchmarks/R1.toml).")],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print only the report values as one JSON object.")
    ] = False,
    prepare: Annotated[
        bool,
        typer.Option(
            "--prepare",
            help="Only validate the file and store it in the scenario cache, so the next "
            "run starts without pint and pydantic (make venv prepares every benchmark).",
        ),
    ] = False,
) -> None:
    """Run a reference benchmark and print its report values."""
    with _user_errors():
        path = find_benchmark(name)
    with _user_errors(path):
        from ionto.simulate.problem_io import cached_problem
        from ionto.simulate.scenario import load_problem

        problem = cached_problem(path, load_problem)
    if prepare:
        typer.echo(f"{name}: {path} validated and cached")
        return
    with _user_errors():
        start = time.perf_counter()
        result = _run(problem)
        wall = time.perf_counter() - start
    if json_output:
        _print_json(_jsonable(result.reports))
        return
    _print_table(f"{name}: {problem.title}", result.reports, result.report_units)
    typer.echo(f"simulated in {wall:.3f} s")


def _validation_folder() -> Path:
    """``examples/validation`` in the current directory, or else the repository's."""
    here = Path.cwd() / "examples" / "validation"
    return (
        here if here.is_dir() else Path(__file__).resolve().parents[2] / "examples" / "validation"
    )


@app.command()
def validate(
    folder: Annotated[
        Path | None,
        typer.Argument(
            help="Folder of validation scenarios (default: examples/validation), or one file."
        ),
    ] = None,
    case: Annotated[
        list[str] | None,
        typer.Option("--case", help="Only this case id or file stem (repeatable)."),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print every comparison and the uncovered cases.")
    ] = False,
    markdown_output: Annotated[
        bool, typer.Option("--markdown", help="Print the Markdown table of docs/validation.md.")
    ] = False,
) -> None:
    """Compare the model with published measurements (docs/validation.md). Misfits are
    results, not errors: the exit code is 0 whatever the verdicts."""
    where = folder if folder is not None else _validation_folder()
    with _user_errors():
        from ionto.core.errors import ConfigError
        from ionto.simulate.validation.runner import run_folder

        if where.is_file() and where.suffix == ".toml":  # one scenario, next to its cases
            case, where = [*(case or []), where.stem], where.parent
        if not where.is_dir():
            raise ConfigError(
                "FOLDER", str(where), None, "a folder of validation scenarios or a .toml file"
            )
        err = _stderr()

        def progress(c: Any) -> None:
            if err.is_terminal:
                err.print(f"running {c.path.name}", style="dim")

        report = run_folder(where, tuple(case or ()), progress=progress)
        if case and not report.results:
            raise ConfigError("--case", ", ".join(case), None, "a case id or file stem in FOLDER")
    if json_output:
        _print_json(report.to_json())
        return
    from ionto.simulate.validation.table import COLUMNS, markdown, rows

    if markdown_output:
        sys.stdout.write(markdown(report))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(f"Validation ({where})"), title_justify="left")
    for column in COLUMNS:
        table.add_column(column, overflow="fold")
    for row in rows(report):
        style = "green" if row[-1].startswith("agrees") else "red"
        table.add_row(*(Text(cell) for cell in row[:-1]), Text(row[-1], style=style))
    console = Console()
    if not console.is_terminal:  # a pipe or file: wide enough for the case ids
        console = Console(width=160)
    console.print(table)
    if report.uncovered and not case:
        missing = Table(title=Text("Cases not covered"), title_justify="left")
        missing.add_column("case")
        missing.add_column("why", overflow="fold")
        for u in report.uncovered:
            missing.add_row(Text(u.id), Text(u.reason))
        console.print(missing)
    summary = report.to_json()["summary"]
    typer.echo(
        f"{summary['within_tolerance']} of {summary['comparisons']} comparisons within "
        f"tolerance; {summary['covered']} cases covered, {summary['uncovered']} not covered"
    )


def _mount_plan() -> None:
    """The planning commands (``ionto check``, ``ionto schedule``, ``ionto library``) live
    in the plan layer's own typer app; they join the top level here."""
    from ionto.plan.cli import app as plan_app

    app.registered_commands.extend(plan_app.registered_commands)
    app.registered_groups.extend(plan_app.registered_groups)
    from ionto.run.cli import app as run_app  # ionto run / analyze / sessions

    app.registered_commands.extend(run_app.registered_commands)
    app.registered_groups.extend(run_app.registered_groups)
    from ionto.record.cli import app as record_app  # ionto db / records

    app.registered_groups.extend(record_app.registered_groups)


_mount_plan()


def main() -> None:
    """Entry point of the ``ionto`` console script."""
    app()
