"""Session logs: documents, crash recovery after SIGKILL, refusal to resume silently."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ionto.core.errors import IontoError
from ionto.run.controller import Controller
from ionto.run.session_log import (
    InterruptedSessionError,
    SessionLog,
    mark_interrupted,
    read_documents,
    recover,
    resume_check,
)

MakeController = Callable[..., Controller]

ROOT = Path(__file__).resolve().parents[2]
PLAN = ROOT / "examples" / "plans" / "lidocaine-forearm.toml"


def test_documents_of_a_complete_session(make_controller: MakeController, tmp_path) -> None:
    log = SessionLog(tmp_path, sync=False)
    ctl = make_controller("ramp to 2 mA over 5 s; hold 2 mA for 20 s", listeners=(log,))
    out = ctl.run()
    docs, damaged = read_documents(log.path)
    assert damaged == 0
    types = [d["type"] for d in docs]
    assert types[:2] == ["session_start", "descriptor"] and types[-1] == "session_stop"
    start = docs[0]
    assert start["protocol"] == "ramp to 2 mA over 5 s\nhold 2 mA for 20 s"
    assert start["rules"]["compliance"] == "extend" and "SimulatedCurrentSource" in start["device"]
    events = [d for d in docs if d["type"] == "event"]
    assert [e["seq"] for e in events] == list(range(len(events)))
    assert events[-1]["dose_mAmin"] == pytest.approx(out.delivered_mAmin, abs=0.01)
    assert docs[-1]["exit_status"] == "success"
    rec = recover(log.path)
    assert rec.status == "success" and not rec.interrupted
    with pytest.raises(InterruptedSessionError, match="nothing to resume"):
        resume_check(log.path)
    with pytest.raises(FileExistsError):  # never overwritten
        open(log.path, "xb").close()


def test_not_a_log(tmp_path: Path) -> None:
    bad = tmp_path / "x.jsonl"
    bad.write_text('{"type": "event"}\n')
    with pytest.raises(IontoError, match="not a session log"):
        recover(bad)


def test_sigkill_mid_treatment_is_recovered_and_not_resumed_silently(tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    cmd = [sys.executable, "-m", "ionto.run.cli", "run", str(PLAN), "--confirm"]
    cmd += ["--speed", "0", "--json", "--dir", str(sessions)]
    err = tmp_path / "stderr.txt"
    with open(err, "wb") as stderr:
        proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        deadline = time.monotonic() + 30
        path = None
        while time.monotonic() < deadline:
            logs = list(sessions.glob("*.jsonl")) if sessions.exists() else []
            if logs and logs[0].read_bytes().count(b'"type":"event"') >= 300:
                path = logs[0]
                break
            time.sleep(0.01)
        assert path is not None, err.read_text()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    docs, damaged = read_documents(path)
    assert damaged <= 1  # at most the line being written when the process died
    events = [d for d in docs if d["type"] == "event"]
    assert [e["seq"] for e in events] == list(range(len(events)))  # nothing lost before
    assert not any(d["type"] == "session_stop" for d in docs)
    # the dose in the log is the integral of the measured current, period by period
    total, last_t = 0.0, None
    for e in events:
        if last_t is not None:
            total += abs(e["current_A"]) * (e["t"] - last_t) / 0.06
        last_t = e["t"]
    rec = recover(path)
    assert rec.interrupted and rec.events == len(events)
    assert rec.delivered_mAmin == events[-1]["dose_mAmin"]
    assert rec.delivered_mAmin == pytest.approx(total, abs=0.01)
    assert 0 < rec.delivered_mAmin < 40
    with pytest.raises(InterruptedSessionError, match="explicit acknowledgement"):
        resume_check(path)
    marked = mark_interrupted(path)
    stop = read_documents(path)[0][-1]
    assert stop["type"] == "session_stop" and stop["exit_status"] == "interrupted"
    assert marked.delivered_mAmin == rec.delivered_mAmin
    mark_interrupted(path)  # idempotent
    assert sum(d["type"] == "session_stop" for d in read_documents(path)[0]) == 1
    # the command line refuses too, then accepts an explicit acknowledgement
    cli = [sys.executable, "-m", "ionto.run.cli", "sessions", "resume", rec.uid[:8]]
    cli += ["--dir", str(sessions)]
    refused = subprocess.run(cli, capture_output=True, text=True, cwd=tmp_path)
    assert refused.returncode == 1 and "acknowledgement" in refused.stderr
    plan = resume_check(path, acknowledge=True, who="test")
    assert plan.remaining_mAmin == pytest.approx(40 - rec.delivered_mAmin)
    assert resume_check(path).delivered_mAmin == rec.delivered_mAmin  # remembered
    assert json.loads(path.read_text().splitlines()[-1])["type"] == "acknowledged"


def test_a_cut_last_line_is_skipped(make_controller: MakeController, tmp_path) -> None:
    log = SessionLog(tmp_path, sync=False)
    make_controller("hold 1 mA for 10 s", listeners=(log,)).run()
    lines = log.path.read_bytes().splitlines(keepends=True)
    log.path.write_bytes(b"".join(lines[:-3]) + lines[-3][:10])  # died mid-write
    rec = mark_interrupted(log.path)
    assert rec.interrupted and rec.damaged_lines == 1
    assert read_documents(log.path)[0][-1]["exit_status"] == "interrupted"


def test_replay_equals_the_counters_and_notices_a_lost_line(
    make_controller: MakeController, tmp_path
) -> None:
    from ionto.run.session_log import replay

    log = SessionLog(tmp_path, sync=False)
    ctl = make_controller("ramp to 2 mA over 5 s; hold 2 mA for 20 s", listeners=(log,))
    out = ctl.run()
    rep = replay(log.path)
    assert rep.sequence_ok and rep.periods == ctl.periods and rep.exit_status == "success"
    assert rep.dose_mAmin == ctl.dose_mAmin == out.delivered_mAmin  # exactly
    assert rep.occurrences == len(ctl.events)
    lines = log.path.read_bytes().splitlines(keepends=True)
    k = next(i for i, line in enumerate(lines) if b'"seq":100,' in line)
    log.path.write_bytes(b"".join(lines[:k] + lines[k + 1 :]))  # one period lost
    lost = replay(log.path)
    assert not lost.sequence_ok and lost.periods == ctl.periods - 1
    assert lost.dose_mAmin != ctl.dose_mAmin
