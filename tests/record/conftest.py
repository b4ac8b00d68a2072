"""Record-test fixtures: every test that takes ``db_url`` (or ``db``) runs twice, on a
fresh SQLite file and on a fresh schema of a real PostgreSQL server.

The PostgreSQL server is started once per test session (``pg_server.start``) and
stopped at the end. Where no server can be started the PostgreSQL half is skipped,
except under CI (``CI=true``), where that is a failure. Session logs come from the run
layer itself: the simulated current source driven by the controller, logged by
``SessionLog``, generated once per test session and copied for each test.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pg_server
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from ionto.plan.protocol import parse
from ionto.record import migrate
from ionto.record.database import make_engine
from ionto.run.clearance import SafetyClearance
from ionto.run.clock import SimClock
from ionto.run.controller import Controller, ControllerConfig
from ionto.run.devices import Fault, SimulatedCurrentSource
from ionto.run.session_log import SessionLog

ROOT = Path(__file__).resolve().parents[2]
BACKENDS = ["sqlite", "postgresql"]
SHORT = "ramp to 2 mA over 5 s; hold 2 mA for 20 s; ramp to 0 mA over 5 s"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a database on a PostgreSQL server for the whole test session."""
    external = os.environ.get("IONTO_TEST_PG_URL")
    if external:
        yield external
        return
    try:
        server = pg_server.start()
    except pg_server.Unavailable as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI needs PostgreSQL for the record tests: {exc}")
        pytest.skip(f"PostgreSQL is not available: {exc}")
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or a new PostgreSQL schema (dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'records.sqlite3'}"
        return
    base: str = request.getfixturevalue("pg_url")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the test database, at the newest schema revision."""
    eng = make_engine(db_url)
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """An ORM session on the migrated test database."""
    with Session(engine) as session:
        yield session


# ------------------------------------------------------------------ session logs


def run_logged(
    directory: Path,
    protocol: str = SHORT,
    *,
    fault_at: float | None = None,
    info: dict[str, str] | None = None,
) -> Path:
    """Run ``protocol`` on the simulated source in simulated time; the log's path."""
    clock = SimClock()
    source = SimulatedCurrentSource(clock=clock, latency=0.05, seed=3)
    source.connect()
    log = SessionLog(directory, sync=False)

    def inject(ctl: Controller, sample: object) -> None:
        if fault_at is not None and clock.now() >= fault_at and not source.faults:
            source.inject(Fault.LEAD_BREAK)

    treatment = parse(protocol)
    Controller(
        source,
        treatment,
        clearance=SafetyClearance.bench(treatment, "record tests on the simulated load"),
        config=ControllerConfig(period=0.1),
        clock=clock,
        polarity_confirmed=True,
        contraindications_confirmed=True,
        listeners=(log,),
        on_period=inject,
        info=info or {"title": "short test", "modality": "galvanic"},
    ).run()
    log.close()
    return log.path


def cut(path: Path, out: Path, events: int) -> Path:
    """``out``: the log as if the process had died while writing period ``events``
    (everything before it kept, that line half written, no session_stop)."""
    lines = path.read_bytes().splitlines(keepends=True)
    kept, seen = [], 0
    for line in lines:
        if b'"type":"event"' in line:
            if seen == events:
                kept.append(line[: len(line) // 2])
                break
            seen += 1
        kept.append(line)
    out.write_bytes(b"".join(kept))
    return out


@pytest.fixture(scope="session")
def log_store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Logs made once: ``complete``, ``fault`` (lead break at 12 s), ``interrupted``
    (the complete log cut at period 150) and ``lidocaine`` (the example plan, with the
    start document ``ionto run`` writes: plan file, title, modality)."""
    from ionto.plan.plan import load_plan

    folder = tmp_path_factory.mktemp("logs")
    complete = run_logged(folder / "complete")
    fault = run_logged(folder / "fault", "hold 2 mA for 60 s", fault_at=12.0)
    interrupted = cut(complete, folder / "interrupted.jsonl", 150)
    plan_file = ROOT / "examples" / "plans" / "lidocaine-forearm.toml"
    plan = load_plan(plan_file)
    info = {"plan": str(plan_file), "title": plan.title, "modality": plan.modality.name}
    lidocaine = run_logged(folder / "lidocaine", str(plan.protocol), info=info)
    return {
        "complete": complete,
        "fault": fault,
        "interrupted": interrupted,
        "lidocaine": lidocaine,
    }


@pytest.fixture
def logs(log_store: dict[str, Path], tmp_path: Path) -> Callable[[str], Path]:
    """A private copy of one of the stored logs (tests may append to it)."""

    def copy(name: str) -> Path:
        src = log_store[name]
        dst = tmp_path / "logs" / src.name
        dst.parent.mkdir(exist_ok=True)
        if not dst.exists():
            shutil.copy(src, dst)
        return dst

    return copy


@pytest.fixture(scope="session")
def killed_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The log of a real ``ionto run`` process killed with SIGKILL mid-treatment (after
    at least 200 periods), as tests/run/test_session_log.py makes it."""
    import signal
    import subprocess
    import sys
    import time

    folder = tmp_path_factory.mktemp("killed")
    plan = ROOT / "examples" / "plans" / "lidocaine-forearm.toml"
    cmd = [sys.executable, "-m", "ionto.run.cli", "run", str(plan), "--confirm"]
    cmd += ["--speed", "0", "--json", "--dir", str(folder / "sessions")]
    proc = subprocess.Popen(cmd, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = list((folder / "sessions").glob("*.jsonl"))
            if found and found[0].read_bytes().count(b'"type":"event"') >= 200:
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.01)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    err = b""
    if proc.stderr:
        err = proc.stderr.read()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL, err
    (path,) = (folder / "sessions").glob("*.jsonl")
    return path
