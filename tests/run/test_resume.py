"""The remainder of an interrupted session: the protocol, the refusals and the resumed
run linked to the original in its log (Python and ``ionto sessions resume``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ionto.core.errors import ConfigError
from ionto.plan.plan import load_plan
from ionto.plan.protocol import Pulse, Ramp, parse
from ionto.run.cli import app
from ionto.run.clock import SimClock
from ionto.run.controller import Controller, Sample
from ionto.run.remainder import NothingToResume, remainder_protocol
from ionto.run.session import run_plan, simulated_source
from ionto.run.session_log import (
    InterruptedSessionError,
    plan_resume,
    read_documents,
    recover,
    replay,
)

ROOT = Path(__file__).resolve().parents[2]
PLAN = ROOT / "examples" / "plans" / "lidocaine-forearm.toml"
LIDOCAINE = "ramp to 4 mA over 30 s; hold 4 mA until 38 mA*min; ramp to 0 mA over 30 s"
MIXED = (
    "pulse 300 uA at 0.5 Hz, 50% duty, biphasic, for 1 min; "
    "reverse polarity every 10 s at 2 mA for 40 s; hold 1 mA for 1 min; ramp to 0 mA over 5 s"
)


@pytest.mark.parametrize("text", [LIDOCAINE, MIXED])
@pytest.mark.parametrize("fraction", [0.004, 0.02, 0.3, 0.5, 0.9, 0.97, 0.995])
def test_the_remainder_delivers_only_the_dose_left(text: str, fraction: float) -> None:
    original = parse(text)
    delivered = original.dose_mAmin * fraction
    rest = remainder_protocol(original, delivered)
    assert rest.dose_mAmin == pytest.approx(original.dose_mAmin - delivered, abs=2e-3)
    assert rest.peak_current <= original.peak_current + 1e-12
    assert parse(str(rest)) == rest  # the logged text is the protocol
    first = rest.timeline()[0]
    # DC restarts with a ramp from zero, never a jump; a pulse train starts from zero anyway
    assert isinstance(first.step, (Ramp, Pulse)), first
    assert isinstance(first.step, Pulse) or first.start_level == 0.0


def test_the_remainder_of_a_hold_ramps_up_then_holds() -> None:
    rest = remainder_protocol(parse(LIDOCAINE), 20.0)
    assert rest.inline() == (
        "ramp to 4 mA over 30 s; hold 4 mA until 18 mA*min; ramp to 0 mA over 30 s"
    )
    short = remainder_protocol(parse(LIDOCAINE), 39.5)  # less left than a 30 s ramp holds
    assert short.inline() == "ramp to 2 mA over 15 s; ramp to 0 mA over 15 s"


def test_nothing_left_or_unbounded_is_refused() -> None:
    with pytest.raises(NothingToResume, match="nothing to resume"):
        remainder_protocol(parse(LIDOCAINE), 39.995)
    with pytest.raises(ConfigError, match="no time or dose stop"):
        remainder_protocol(parse("hold 1 mA until 10 V"), 1.0)


class Crash(BaseException):
    """The process dies: no ``finally`` of the caller writes a stop document."""


def interrupted_session(directory: Path, at_mAmin: float = 12.0) -> Path:
    plan = load_plan(PLAN)
    clock = SimClock()
    source = simulated_source(plan, clock)

    def die(ctl: Controller, s: Sample) -> None:
        if s.dose_mAmin >= at_mAmin:
            raise Crash

    with pytest.raises(Crash):
        run_plan(
            plan, source, clock=clock, directory=directory, confirm=True, on_period=die, sync=False
        )
    assert not source.output_enabled  # the controller's finally still zeroed the output
    (path,) = directory.glob("*.jsonl")
    return path


def test_resume_an_acknowledged_interruption(tmp_path: Path) -> None:
    path = interrupted_session(tmp_path)
    rec = recover(path)
    assert rec.interrupted and 12.0 <= rec.delivered_mAmin < 12.1
    with pytest.raises(InterruptedSessionError, match="acknowledgement"):
        plan_resume(path)
    resume = plan_resume(path, acknowledge=True, who="test")
    assert resume.remaining_mAmin == pytest.approx(40 - rec.delivered_mAmin)
    assert resume.protocol.dose_mAmin == pytest.approx(resume.remaining_mAmin, abs=2e-3)
    assert str(resume.protocol).startswith("ramp to 4 mA over 30 s")  # a fresh ramp up

    plan = load_plan(PLAN)
    clock = SimClock()
    source = simulated_source(plan, clock, seed=3)
    result = run_plan(
        plan, source, clock=clock, directory=tmp_path, confirm=True, resume=resume, sync=False
    )
    out = result.outcome
    assert out.exit_status == "success", out
    assert out.delivered_mAmin == pytest.approx(resume.remaining_mAmin, abs=0.02)
    assert rec.delivered_mAmin + out.delivered_mAmin == pytest.approx(40.0, abs=0.02)
    start = read_documents(result.path)[0][0]
    assert start["resumes"] == rec.uid
    assert start["clearance"]["remainder_of"] == rec.uid
    assert start["target_dose_mAmin"] == pytest.approx(resume.remaining_mAmin)
    assert start["load"]["description"].startswith("human forearm")
    assert recover(path).resumed_by == result.uid
    with pytest.raises(InterruptedSessionError, match="already resumed"):
        plan_resume(path, acknowledge=True)
    rep = replay(result.path)
    assert rep.periods == result.controller.periods
    assert rep.dose_mAmin == result.controller.dose_mAmin


def test_resumed_electrodes_count_the_charge_already_passed(tmp_path: Path) -> None:
    import tomllib

    from ionto.plan.plan import plan_from_dict

    data = tomllib.loads(PLAN.read_text())
    data["electrodes"]["active"] = {"type": "activatek-trivarion", "area": "10 cm^2"}
    data["protocol"] = "ramp to 4 mA over 30 s; hold 4 mA until 78 mA*min; ramp to 0 mA over 30 s"
    data["drug"] = "lidocaine"
    plan = plan_from_dict(data, source=str(PLAN), base=PLAN.parent)
    clock = SimClock()
    source = simulated_source(plan, clock)

    def die(ctl: Controller, s: Sample) -> None:
        if s.dose_mAmin >= 30:
            raise Crash

    with pytest.raises(Crash):
        run_plan(
            plan, source, clock=clock, directory=tmp_path, confirm=True, on_period=die, sync=False
        )
    (path,) = tmp_path.glob("*.jsonl")
    resume = plan_resume(path, acknowledge=True)
    clock = SimClock()
    result = run_plan(
        plan,
        simulated_source(plan, clock),
        clock=clock,
        directory=tmp_path / "b",
        confirm=True,
        resume=resume,
        sync=False,
    )
    # 80 mA*min pad: 30 passed before, 50 asked now: fits exactly, so it runs
    assert result.outcome.exit_status == "success"
    limits = read_documents(result.path)[0][0]["electrodes"]
    assert limits[0]["used_mAmin"] == pytest.approx(resume.delivered_mAmin)


def test_sessions_resume_command(tmp_path: Path) -> None:
    path = interrupted_session(tmp_path, at_mAmin=30.0)
    uid = recover(path).uid[:8]
    runner = CliRunner()
    base = ["sessions", "resume", uid, "--dir", str(tmp_path)]
    refused = runner.invoke(app, base)
    assert refused.exit_code == 1 and "acknowledgement" in refused.output
    shown = runner.invoke(app, [*base, "--acknowledge"])
    assert shown.exit_code == 0 and "remainder: ramp to 4 mA over 30 s" in shown.output
    ran = runner.invoke(app, [*base, "--run", "--confirm", "--speed", "0", "--json"])
    assert ran.exit_code == 0, ran.output
    out = json.loads(ran.output.strip().splitlines()[-1])
    assert out["exit_status"] == "success"
    assert out["delivered_mAmin"] == pytest.approx(40 - recover(path).delivered_mAmin, abs=0.02)
    again = runner.invoke(app, [*base, "--run", "--confirm", "--speed", "0"])
    assert again.exit_code == 1 and "already resumed" in again.output
    done = runner.invoke(app, ["sessions", "resume", out["uid"][:8], "--dir", str(tmp_path)])
    assert done.exit_code == 1 and "nothing to resume" in done.output
