"""The run / analyze / sessions commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ionto.run.cli import app

ROOT = Path(__file__).resolve().parents[2]
PLANS = ROOT / "examples" / "plans"
TRACES = ROOT / "examples" / "traces"
runner = CliRunner()


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def sessions(tmp_path: Path) -> Path:
    return tmp_path / "sessions"


def test_run_lidocaine_then_read_the_session(sessions: Path, tmp_path: Path) -> None:
    plan = PLANS / "lidocaine-forearm.toml"
    result = run("run", plan, "--confirm", "--speed", "0", "--json", "--dir", sessions)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output.strip().splitlines()[-1])
    assert out["exit_status"] == "success" and out["delivered_mAmin"] == pytest.approx(40, 1e-3)
    listed = json.loads(run("sessions", "list", "--dir", sessions, "--json").output)
    assert [s["uid"] for s in listed] == [out["uid"]] and listed[0]["status"] == "success"
    shown = run("sessions", "show", out["uid"][:8], "--dir", sessions, "--json")
    assert "ramp_down -> complete" in shown.output
    csv = tmp_path / "trace.csv"
    run("sessions", "export", out["uid"][:8], "--dir", sessions, "--out", csv)
    header, *rows = csv.read_text().splitlines()
    assert header.startswith("t_s,setpoint_A,current_A") and len(rows) > 6000
    text = run("sessions", "show", out["uid"][:8], "--dir", sessions).output
    assert "protocol:" in text and "hold 4 mA until 38 mA*min" in text


def test_plain_lines_when_not_a_terminal(sessions: Path, tmp_path: Path) -> None:
    text = (PLANS / "microcurrent-face.toml").read_text()
    plan = tmp_path / "short.toml"
    plan.write_text(text.replace("for 20 min", "for 30 s"))
    result = run("run", plan, "--confirm", "--speed", "0", "--dir", sessions)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(" deliver " in line and " I " in line and "dose" in line for line in lines)
    assert "success: " in lines[-1]


def test_the_plan_chooses_the_load_and_the_log_says_so(sessions: Path, tmp_path: Path) -> None:
    from ionto.run.session_log import read_documents

    plan = tmp_path / "short.toml"
    text = (PLANS / "lidocaine-forearm.toml").read_text()
    plan.write_text(text.replace("until 38 mA*min", "until 2 mA*min"))
    result = run("run", plan, "--confirm", "--speed", "0", "--json", "--dir", sessions)
    out = json.loads(result.output.strip().splitlines()[-1])
    start = read_documents(out["log"])[0][0]
    assert start["load"]["description"] == "human forearm"
    assert start["load"]["provenance"]["r_series_ohm"] == "body-resistance, C"
    assert start["clearance"]["kind"] == "plan" and not start["clearance"]["refused"]
    assert "polarity.substance" in start["clearance"]["rules_checked"]
    assert start["site"] == "forearm" and start["polarity"] == "anode"
    bad = run("run", plan, "--confirm", "--speed", "0", "--skin", "martian", "--dir", sessions)
    assert bad.exit_code == 2 and "martian" in bad.output
    swapped = run(
        "run", plan, "--confirm", "--speed", "0", "--inject", "leads_swapped@0", "--dir", sessions
    )
    # injected after the first period: the precheck passed, the polarity monitor trips
    assert swapped.exit_code == 3 and "polarity" in swapped.output


def test_fault_injection_exit_code(sessions: Path) -> None:
    plan = PLANS / "lidocaine-forearm.toml"
    result = run(
        "run", plan, "--confirm", "--speed", "0", "--inject", "sweat_short@60", "--dir", sessions
    )
    assert result.exit_code == 3 and "collapse" in result.output


def test_refusals(sessions: Path) -> None:
    plan = PLANS / "lidocaine-forearm.toml"
    result = run("run", plan, "--speed", "0", "--dir", sessions)
    assert result.exit_code == 1 and "polarity not confirmed" in result.output
    refused = run("run", PLANS / "refused-dexamethasone-anode.toml", "--confirm", "--speed", "0")
    assert refused.exit_code == 1 and "refused by the safety check" in refused.output
    bad = run("run", plan, "--confirm", "--inject", "gremlins@3", "--dir", sessions)
    assert bad.exit_code == 2 and "FAULT@SECONDS" in bad.output


def test_analyze(tmp_path: Path) -> None:
    ok = run("analyze", TRACES / "microcurrent-face.csv", "--claimed", "microcurrent", "--json")
    assert ok.exit_code == 0 and json.loads(ok.output)["kind"] == "microcurrent"
    fake = run("analyze", TRACES / "fake-microcurrent.csv", "--claimed", "microcurrent")
    assert fake.exit_code == 1 and "mismatch" in fake.output
    dc = run("analyze", TRACES / "galvanic-4mA.csv")
    assert dc.exit_code == 0 and "galvanic-dc" in dc.output
    missing = run("analyze", tmp_path / "nope.csv")
    assert missing.exit_code == 2
