"""Time importing a session log into the records, on SQLite and PostgreSQL.

Usage: ``python benchmarks/record_import.py [--db URL ...] [--repeat N]``. The log is the
lidocaine example plan (10.5 min at 0.1 s: about 6300 periods) run on the simulated
source in simulated time. Without ``--db`` it uses a temporary SQLite file and, when one
can be started, a private PostgreSQL server (``tests/record/pg_server.py``). For each
database it prints the first import (a new session: every period and event written),
then the best of N re-imports of the same log (nothing written: read, hash, compare).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "record"))


def make_log(folder: Path) -> Path:
    """The lidocaine plan run in simulated time, logged without fsync."""
    from ionto.plan.plan import load_plan
    from ionto.run.clearance import clear_plan
    from ionto.run.clock import SimClock
    from ionto.run.controller import Controller
    from ionto.run.devices import SimulatedCurrentSource
    from ionto.run.session_log import SessionLog

    plan_file = ROOT / "examples" / "plans" / "lidocaine-forearm.toml"
    plan = load_plan(plan_file)
    clock = SimClock()
    source = SimulatedCurrentSource(clock=clock, seed=1)
    source.connect()
    log = SessionLog(folder, sync=False)
    outcome = Controller(
        source,
        plan.protocol,
        clock=clock,
        clearance=clear_plan(plan),
        polarity_confirmed=True,
        contraindications_confirmed=True,
        listeners=(log,),
        info={"plan": str(plan_file), "title": plan.title, "modality": plan.modality.name},
    ).run()
    log.close()
    if outcome.exit_status != "success":  # a refused or faulted run is no benchmark
        raise SystemExit(f"the benchmark session did not complete: {outcome.reason}")
    return log.path


def bench(url: str, log: Path, repeat: int) -> None:
    """Print the first import's time and the best re-import time on ``url``."""
    from ionto.record.database import shown
    from ionto.record.importer import import_log
    from ionto.record.store import open_records

    with open_records(url) as db:  # migrate outside the timing
        pass
    start = time.perf_counter()
    with open_records(url) as db:
        first = import_log(db, log)
    created = time.perf_counter() - start
    again = []
    for _ in range(repeat):
        start = time.perf_counter()
        with open_records(url) as db:
            assert import_log(db, log).action == "unchanged"
        again.append(time.perf_counter() - start)
    rows = first.measurements_added + first.events_added
    print(
        f"{shown(url)}: first import {created:.3f} s ({rows} rows, "
        f"{rows / created:.0f} rows/s); re-import best {min(again):.3f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", action="append", default=[], help="database URL")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        log = make_log(folder / "sessions")
        urls = list(args.db)
        server = None
        if not urls:
            urls.append(f"sqlite:///{folder / 'records.sqlite3'}")
            import pg_server

            try:
                server = pg_server.start()
                urls.append(server.url)
            except pg_server.Unavailable as exc:
                print(f"PostgreSQL skipped: {exc}")
        try:
            for url in urls:
                bench(url, log, args.repeat)
        finally:
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()
