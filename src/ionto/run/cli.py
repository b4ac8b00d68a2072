"""The ``run``, ``analyze`` and ``sessions`` commands (a typer sub-application; the
top-level ``ionto`` command mounts them).

* ``run PLAN.toml --device sim --confirm [--speed N] [--json] [--dir sessions]
  [--compliance extend|alarm] [--inject FAULT@SECONDS] [--skin human]``: check the
  plan, run it on a device (the simulated one on the plan's site and electrodes) with a
  live display (plain lines when not a terminal) and log the session; exit 0 when
  complete, 1 when refused or aborted, 3 on a fault.
* ``analyze TRACE.csv [--claimed MODALITY] [--json]``: classify a recorded trace.
* ``sessions list|show|export|resume``: the JSONL session logs in ``--dir``;
  ``sessions resume UID --acknowledge --run --confirm`` delivers the remainder of an
  interrupted session.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from ionto.run.controller import Controller, Event, Sample
    from ionto.run.session_log import Recovery

EXIT_REFUSED = 1
EXIT_CONFIG = 2
EXIT_FAULT = 3

app = typer.Typer(
    name="run",
    help="Run treatments on a device, analyse traces, read session logs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
sessions_app = typer.Typer(
    help="Session logs: list, show, export, resume.", no_args_is_help=True, add_completion=False
)
app.add_typer(sessions_app, name="sessions")


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, soft_wrap=True, highlight=False)


def _fail(message: str, code: int) -> typer.Exit:
    _console(stderr=True).print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def _fmt(value: float | None, scale: float, unit: str, digits: int = 4) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value * scale:.{digits}g} {unit}"


# ------------------------------------------------------------------ run


class _Display:
    """Live rich panel on a terminal, plain lines (every 10 s and on events) otherwise."""

    def __init__(self, console: Console, live: bool, quiet: bool) -> None:
        self.console = console
        self.quiet = quiet
        self.live = None
        self._next_line = 0.0
        if live and not quiet:
            from rich.live import Live

            self.live = Live(console=console, auto_refresh=False, transient=False)
            self.live.start()

    def event(self, event: Event) -> None:
        if self.quiet:
            return
        text = f"{event.t:8.1f} s  {event.kind:10s} {event.message}"
        if self.live is not None:
            self.live.console.print(text)
        else:
            print(text, flush=True)

    def sample(self, ctl: Controller, s: Sample) -> None:
        if self.quiet:
            return
        target = ctl.target_mAmin
        if self.live is not None:
            self.live.update(self._panel(ctl, s), refresh=True)
        elif s.t >= self._next_line:
            self._next_line = s.t + 10.0
            dose = f"{s.dose_mAmin:.2f}" + (f"/{target:.4g}" if target else "")
            print(
                f"{s.t:8.1f} s  {s.state:9s} I {_fmt(s.current_A, 1e3, 'mA')}  "
                f"V {_fmt(s.voltage_V, 1, 'V')}  Z {_fmt(s.impedance_ohm, 1e-3, 'kohm')}  "
                f"dose {dose} mA*min",
                flush=True,
            )

    def _panel(self, ctl: Controller, s: Sample) -> Any:
        from rich.progress_bar import ProgressBar
        from rich.table import Table

        table = Table.grid(padding=(0, 2))
        table.add_row("state", f"[bold]{s.state}[/]  {s.step}")
        table.add_row("time", f"{s.t:.1f} s")
        table.add_row(
            "current", f"{_fmt(s.current_A, 1e3, 'mA')} (set {s.setpoint_A * 1e3:.3g} mA)"
        )
        table.add_row(
            "voltage", _fmt(s.voltage_V, 1, "V") + ("  COMPLIANCE" if s.compliance else "")
        )
        table.add_row("impedance", _fmt(s.impedance_ohm, 1e-3, "kohm"))
        target = ctl.target_mAmin
        bar = ProgressBar(total=target or 1.0, completed=min(s.dose_mAmin, target or 0.0), width=30)
        table.add_row("dose", f"{s.dose_mAmin:.3f} / {target or '-'} mA*min")
        table.add_row("", bar)
        return table

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()


class _DisplayListener:
    def __init__(self, display: _Display) -> None:
        self.display = display

    def on_start(self, info: dict[str, Any]) -> None:
        pass

    def on_sample(self, sample: Sample) -> None:
        pass

    def on_event(self, event: Event) -> None:
        self.display.event(event)

    def on_stop(self, outcome: Any) -> None:
        pass


def _device_options(
    plan: Any,
    device: str,
    port: str | None,
    speed: float,
    inject: list[str] | None,
    seed: int,
    skin: str,
) -> tuple[Any, Any, list[tuple[float, Any]]]:
    """The clock, the connected source and the faults to inject, from the options."""
    from ionto.core.errors import ConfigError
    from ionto.run.clock import Clock, MonotonicClock, SimClock
    from ionto.run.devices import CurrentSource, Fault, SimulatedCurrentSource
    from ionto.run.session import plan_load

    faults: list[tuple[float, Fault]] = []
    for item in inject or []:
        name, _, when = item.partition("@")
        try:
            faults.append((float(when or 0), Fault(name)))
        except ValueError:
            names = ", ".join(f.value for f in Fault)
            raise _fail(f"--inject {item!r}: use FAULT@SECONDS with FAULT in {names}", 2) from None
    clock: Clock = SimClock() if speed == 0 else MonotonicClock(speed)
    source: CurrentSource
    if device == "sim":
        try:
            load = plan_load(plan, skin)
        except ConfigError as exc:
            raise _fail(str(exc), EXIT_CONFIG) from None
        source = SimulatedCurrentSource(load, clock=clock, seed=seed)
    elif device == "serial":
        from ionto.run.serial_driver import SerialCurrentSource

        if port is None or speed != 1.0 or faults:
            raise _fail("--device serial needs --port, runs in real time, no --inject", 2)
        source = SerialCurrentSource(port)
    else:
        raise _fail(f"--device {device!r}: use sim or serial", EXIT_CONFIG)
    return clock, source, sorted(faults, key=lambda f: f[0])


def _execute(
    plan: Any,
    *,
    device: str,
    port: str | None,
    confirm: bool,
    speed: float,
    compliance: str,
    period: float,
    inject: list[str] | None,
    seed: int,
    skin: str,
    directory: Path,
    as_json: bool,
    resume: Any = None,
    fresh_electrodes: bool = False,
) -> None:
    """Run a plan (or the remainder of a session) and exit with the outcome's code."""
    from ionto.run.controller import ControllerConfig
    from ionto.run.devices import SimulatedCurrentSource
    from ionto.run.session import run_plan

    if compliance not in ("extend", "alarm"):
        raise _fail(f"--compliance: {compliance!r} is not one of extend, alarm", EXIT_CONFIG)
    clock, source, pending = _device_options(plan, device, port, speed, inject, seed, skin)
    console = _console()
    display = _Display(console, live=console.is_terminal and not as_json, quiet=as_json)

    def on_period(ctl: Controller, sample: Sample) -> None:
        while pending and sample.t >= pending[0][0] and isinstance(source, SimulatedCurrentSource):
            source.inject(pending.pop(0)[1])
        display.sample(ctl, sample)

    try:
        source.connect()
        result = run_plan(
            plan,
            source,
            clock=clock,
            directory=directory,
            confirm=confirm,
            config=ControllerConfig(period=period, compliance=compliance),  # type: ignore[arg-type]
            listeners=(_DisplayListener(display),),
            on_period=on_period,
            resume=resume,
            fresh_electrodes=fresh_electrodes,
        )
    finally:
        display.close()
        source.close()
    outcome = result.outcome
    if as_json:
        print(json.dumps({**outcome.__dict__, "uid": result.uid, "log": str(result.path)}))
    else:
        console.print(
            f"{outcome.exit_status}: {outcome.reason}; delivered {outcome.delivered_mAmin:.3f}"
            f" mA*min in {outcome.duration_s:.1f} s; log {result.path}"
        )
        if outcome.reason.startswith("overrun") and speed > 1:
            console.print(
                f"hint: this machine cannot keep the {period:g} s control period at --speed "
                f"{speed:g}; use a lower speed, or --speed 0 for simulated time"
            )
    code = {"success": 0, "abort": EXIT_REFUSED, "fault": EXIT_FAULT}[outcome.exit_status]
    raise typer.Exit(code)


DeviceOption = Annotated[str, typer.Option(help="sim, or serial (with --port).")]
PortOption = Annotated[str | None, typer.Option(help="Serial port for --device serial.")]
ConfirmOption = Annotated[
    bool, typer.Option(help="The operator confirms electrode placement and the questionnaire.")
]
SpeedOption = Annotated[
    float, typer.Option(help="Clock speed-up (sim only); 0 = simulated time, no waiting.")
]
ComplianceOption = Annotated[str, typer.Option(help="extend or alarm.")]
PeriodOption = Annotated[float, typer.Option(help="Control period (s).")]
InjectOption = Annotated[
    list[str] | None, typer.Option(help="Sim fault FAULT@SECONDS, e.g. lead_break@60.")
]
SeedOption = Annotated[int, typer.Option(help="Noise seed of the simulated source.")]
SkinOption = Annotated[
    str, typer.Option(help="Skin type of the simulated load (physiology parameter sets).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")]


@app.command("run")
def run_command(
    plan_file: Annotated[Path, typer.Argument(help="Plan TOML file.")],
    device: DeviceOption = "sim",
    port: PortOption = None,
    confirm: ConfirmOption = False,
    speed: SpeedOption = 1.0,
    compliance: ComplianceOption = "extend",
    period: PeriodOption = 0.1,
    inject: InjectOption = None,
    seed: SeedOption = 0,
    skin: SkinOption = "human",
    directory: Annotated[Path, typer.Option("--dir", help="Sessions directory.")] = Path(
        "sessions"
    ),
    as_json: JsonOption = False,
) -> None:
    """Check PLAN.toml, run it on the device, log the session."""
    from ionto.core.errors import ConfigError
    from ionto.plan.plan import load_plan
    from ionto.run.clearance import clear_plan

    try:
        plan = load_plan(plan_file)
        clearance = clear_plan(plan)
    except ConfigError as exc:
        raise _fail(str(exc), EXIT_CONFIG) from None
    if clearance.refused:
        reasons = "; ".join(clearance.reasons)
        raise _fail(f"{plan_file}: the plan is refused by the safety check: {reasons}", 1)
    _execute(
        plan,
        device=device,
        port=port,
        confirm=confirm,
        speed=speed,
        compliance=compliance,
        period=period,
        inject=inject,
        seed=seed,
        skin=skin,
        directory=directory,
        as_json=as_json,
    )


# ------------------------------------------------------------------ analyze


@app.command("analyze")
def analyze_command(
    trace: Annotated[Path, typer.Argument(help="CSV with t_s,current_A[,voltage_V].")],
    claimed: Annotated[str | None, typer.Option(help="The modality the device claims.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Classify a recorded current trace; exit 1 if it does not match --claimed."""
    from ionto.run.waveform import analyze, read_trace

    try:
        t, i, v = read_trace(str(trace))
        result = analyze(t, i, v, claimed=claimed)
    except (OSError, ValueError) as exc:
        raise _fail(str(exc), EXIT_CONFIG) from None
    if as_json:
        print(json.dumps(result.to_dict()))
    else:
        console = _console()
        console.print(f"[bold]{result.kind}[/] ({trace})")
        console.print(
            f"DC {result.dc_A * 1e3:.4g} mA, RMS {result.rms_A * 1e3:.4g} mA, peak "
            f"{result.peak_A * 1e3:.4g} mA, {result.frequency_Hz:.4g} Hz, duty "
            f"{result.duty:.1%}, net {result.net_C_per_s * 1e3:.4g} mC/s over "
            f"{result.duration_s:g} s"
        )
        for m in result.mismatches:
            console.print(f"[bold red]mismatch:[/] {m}")
    raise typer.Exit(1 if result.mismatches else 0)


# ------------------------------------------------------------------ sessions

DirOption = Annotated[Path, typer.Option("--dir", help="Sessions directory.")]


def _find(directory: Path, uid: str) -> Recovery:
    from ionto.run.session_log import list_sessions

    found = [r for r in list_sessions(directory) if r.uid.startswith(uid) or r.path.stem == uid]
    if len(found) != 1:
        what = "no session" if not found else f"{len(found)} sessions"
        raise _fail(f"{what} matching {uid!r} in {directory}", EXIT_CONFIG)
    return found[0]


def _summary(r: Recovery) -> dict[str, Any]:
    return {
        "uid": r.uid,
        "time": r.start.get("time"),
        "title": r.start.get("title", ""),
        "status": r.status,
        "reason": r.reason,
        "delivered_mAmin": r.delivered_mAmin,
        "target_mAmin": r.target_mAmin,
        "duration_s": r.last_t,
        "events": r.events,
        "file": str(r.path),
    }


@sessions_app.command("list")
def sessions_list(
    directory: DirOption = Path("sessions"),
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Every session in the directory with its status and delivered dose."""
    from rich.table import Table

    from ionto.run.session_log import list_sessions

    rows = [_summary(r) for r in list_sessions(directory)]
    if as_json:
        print(json.dumps(rows))
        return
    table = Table("uid", "started", "title", "status", "dose mA*min", "time s")
    for row in rows:
        table.add_row(
            row["uid"][:8],
            str(row["time"])[:19],
            row["title"],
            row["status"],
            f"{row['delivered_mAmin']:.3f}",
            f"{row['duration_s']:.1f}",
        )
    _console().print(table)


@sessions_app.command("show")
def sessions_show(
    uid: Annotated[str, typer.Argument(help="Session uid (a prefix is enough).")],
    directory: DirOption = Path("sessions"),
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """One session: its start document, every occurrence and how it ended."""
    from ionto.run.session_log import read_documents

    rec = _find(directory, uid)
    docs, _ = read_documents(rec.path)
    occurrences = [d for d in docs if d.get("type") == "occurrence"]
    if as_json:
        print(json.dumps({**_summary(rec), "start": rec.start, "occurrences": occurrences}))
        return
    console = _console()
    for key, value in _summary(rec).items():
        console.print(f"{key:16s} {value}")
    console.print("protocol:\n  " + rec.protocol.replace("\n", "\n  "))
    for d in occurrences:
        console.print(f"{d['t']:8.1f} s  {d['kind']:10s} {d['message']}")


@sessions_app.command("export")
def sessions_export(
    uid: Annotated[str, typer.Argument(help="Session uid (a prefix is enough).")],
    directory: DirOption = Path("sessions"),
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    out: Annotated[Path | None, typer.Option(help="Output file (default stdout).")] = None,
) -> None:
    """The per-period events as CSV (t_s,current_A,voltage_V,...) or a JSON list."""
    from ionto.run.session_log import read_documents

    rec = _find(directory, uid)
    events = [d for d in read_documents(rec.path)[0] if d.get("type") == "event"]
    if fmt == "json":
        text = json.dumps(events)
    elif fmt == "csv":
        cols = ["t", "setpoint_A", "current_A", "voltage_V", "impedance_ohm", "dose_mAmin"]
        lines = ["t_s,setpoint_A,current_A,voltage_V,impedance_ohm,dose_mAmin,state"]
        for e in events:
            values = ["" if e.get(c) is None else repr(e[c]) for c in cols]
            lines.append(",".join([*values, str(e.get("state", ""))]))
        text = "\n".join(lines)
    else:
        raise _fail(f"--format {fmt!r}: use csv or json", EXIT_CONFIG)
    if out is None:
        sys.stdout.write(text + "\n")
    else:
        out.write_text(text + "\n")


@sessions_app.command("resume")
def sessions_resume(
    uid: Annotated[str, typer.Argument(help="Session uid (a prefix is enough).")],
    directory: DirOption = Path("sessions"),
    acknowledge: Annotated[
        bool, typer.Option(help="I checked the electrodes and the skin; allow continuing.")
    ] = False,
    run: Annotated[
        bool, typer.Option("--run", help="Run the remainder now (with the plan it ran).")
    ] = False,
    fresh_electrodes: Annotated[
        bool, typer.Option(help="New electrodes: their capacity starts from zero.")
    ] = False,
    device: DeviceOption = "sim",
    port: PortOption = None,
    confirm: ConfirmOption = False,
    speed: SpeedOption = 1.0,
    compliance: ComplianceOption = "extend",
    period: PeriodOption = 0.1,
    inject: InjectOption = None,
    seed: SeedOption = 0,
    skin: SkinOption = "human",
    as_json: JsonOption = False,
) -> None:
    """Mark an interrupted session, show its remainder (the dose left, with a fresh ramp
    up) and with --run deliver it; refused without --acknowledge or when nothing remains."""
    from ionto.core.errors import ConfigError
    from ionto.plan.plan import load_plan
    from ionto.run.session_log import InterruptedSessionError, plan_resume

    rec = _find(directory, uid)
    try:
        plan = plan_resume(rec.path, acknowledge=acknowledge)
    except InterruptedSessionError as exc:
        raise _fail(str(exc), EXIT_REFUSED) from None
    text = plan.protocol.inline()
    if not (run and as_json):
        _console().print(
            f"session {plan.resumes[:8]}: delivered {plan.delivered_mAmin:.3f} mA*min, "
            f"remaining {plan.remaining_mAmin:.3f} mA*min\nremainder: {text}"
        )
    if not run:
        return
    source = plan.start.get("plan")
    if not source:
        raise _fail(f"session {plan.resumes[:8]} names no plan file to resume with", 2)
    try:
        original = load_plan(Path(source))
    except ConfigError as exc:
        raise _fail(str(exc), EXIT_CONFIG) from None
    _execute(
        original,
        device=device,
        port=port,
        confirm=confirm,
        speed=speed,
        compliance=compliance,
        period=period,
        inject=inject,
        seed=seed,
        skin=skin,
        directory=directory,
        as_json=as_json,
        resume=plan,
        fresh_electrodes=fresh_electrodes,
    )


if __name__ == "__main__":  # pragma: no cover - used by the crash-recovery test
    app()
