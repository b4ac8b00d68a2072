"""Append-only, crash-safe session logs: one JSON document per line, fsync'd on every write.

Documents (event-model style), each with ``type``:

* ``session_start``: uid, time (ISO 8601 UTC), epoch (s), software_version, device,
  capabilities, protocol (canonical text), rules (controller settings), target dose, plus
  whatever the caller adds (plan file, modality, ``resumes``: the uid of an interrupted
  session whose remainder this is);
* ``descriptor``: the event fields with their units;
* ``event``: one per control period (seq, t, setpoint_A, current_A, voltage_V,
  impedance_ohm, dose_mAmin, state, step, compliance);
* ``occurrence``: transitions, monitor trips and re-arms, refusals, step ends;
* ``session_stop``: exit_status (success, abort, fault, interrupted), reason,
  delivered_mAmin, duration_s;
* appended later to an interrupted session's log: ``acknowledged`` (who, when) and
  ``resumed_by`` (the uid of the session that delivers its remainder).

A log file is created exclusively (never overwritten). :func:`recover` reads a log
whose process died and :func:`mark_interrupted` appends its ``session_stop``;
:func:`resume_check` refuses to continue an interrupted session unless acknowledged,
and :func:`plan_resume` builds the remainder protocol (:mod:`ionto.run.remainder`).
:func:`replay` recomputes a log's counters (periods, occurrences, dose) from its
documents alone, to compare with the controller's.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ionto import __version__
from ionto.core.errors import IontoError
from ionto.plan.protocol import Protocol
from ionto.run.controller import Event, Outcome, Sample

DESCRIPTOR = {
    "t": {"unit": "s", "dtype": "number"},
    "setpoint_A": {"unit": "A", "dtype": "number"},
    "current_A": {"unit": "A", "dtype": "number", "source": "measured"},
    "voltage_V": {"unit": "V", "dtype": "number", "source": "measured"},
    "impedance_ohm": {"unit": "ohm", "dtype": "number", "source": "|V|/|I|"},
    "dose_mAmin": {"unit": "mA*min", "dtype": "number", "source": "integral of measured |I|"},
    "state": {"unit": None, "dtype": "string"},
    "step": {"unit": None, "dtype": "string"},
    "compliance": {"unit": None, "dtype": "boolean"},
    "device_t": {"unit": "s", "dtype": "number", "source": "device clock of the reading"},
    "status": {"unit": None, "dtype": "string", "source": "device"},
}


class InterruptedSessionError(IontoError, RuntimeError):
    """Continuing an interrupted session was refused (it needs an acknowledgement)."""


def _clean(value: Any) -> Any:
    """JSON-safe: inf/nan become None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class SessionLog:
    """Writes one session's documents to ``directory/<time>-<uid8>.jsonl``.

    ``sync=True`` (the default) fsyncs after every document, so a crash loses at most
    the document being written. Use it as a controller listener.
    """

    def __init__(self, directory: str | Path, *, sync: bool = True, uid: str | None = None):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.uid = uid or uuid.uuid4().hex
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        self.path = self.directory / f"{stamp}-{self.uid[:8]}.jsonl"
        self.sync = sync
        self._file = open(self.path, "xb")  # noqa: SIM115 - closed in on_stop / close
        self._seq = 0

    def write(self, doc: dict[str, Any]) -> None:
        """Append one document and (with ``sync``) fsync it."""
        line = json.dumps({k: _clean(v) for k, v in doc.items()}, separators=(",", ":"))
        self._file.write(line.encode() + b"\n")
        self._file.flush()
        if self.sync:
            os.fsync(self._file.fileno())

    def on_start(self, info: dict[str, Any]) -> None:
        now = dt.datetime.now(dt.UTC)
        self.write(
            {
                "type": "session_start",
                "uid": self.uid,
                "time": now.isoformat(),
                "epoch": now.timestamp(),
                "software_version": __version__,
                **info,
            }
        )
        self.write({"type": "descriptor", "uid": self.uid, "data_keys": DESCRIPTOR})

    def on_sample(self, sample: Sample) -> None:
        self.write({"type": "event", "seq": self._seq, **asdict(sample)})
        self._seq += 1

    def on_event(self, event: Event) -> None:
        self.write({"type": "occurrence", **asdict(event)})

    def on_stop(self, outcome: Outcome) -> None:
        self.write({"type": "session_stop", "uid": self.uid, **asdict(outcome)})
        self.close()

    def close(self) -> None:
        """Close the file (further writes fail)."""
        if not self._file.closed:
            self._file.close()


@dataclass(frozen=True)
class Recovery:
    """What a log says: uid, status (success, abort, fault, interrupted), reason,
    delivered_mAmin (last recorded dose), last_t (s), last_state, events (periods
    recorded), target_mAmin, protocol text, start document, damaged_lines (lines that
    did not parse: a document cut by the crash)."""

    path: Path
    uid: str
    status: str
    reason: str
    delivered_mAmin: float
    last_t: float
    last_state: str
    events: int
    target_mAmin: float | None
    protocol: str
    start: dict[str, Any]
    damaged_lines: int
    acknowledged: bool
    resumed_by: str | None = None

    @property
    def interrupted(self) -> bool:
        """True when the process died before writing ``session_stop``."""
        return self.status == "interrupted"


def read_documents(path: str | Path) -> tuple[list[dict[str, Any]], int]:
    """All documents of a log and the number of lines that did not parse."""
    docs: list[dict[str, Any]] = []
    damaged = 0
    for raw in Path(path).read_bytes().split(b"\n"):
        if not raw.strip():
            continue
        try:
            docs.append(json.loads(raw))
        except (json.JSONDecodeError, UnicodeDecodeError):
            damaged += 1
    return docs, damaged


def recover(path: str | Path) -> Recovery:
    """Read a session log, complete or not. A log without ``session_stop`` (or whose
    stop says "interrupted") has status "interrupted"; the delivered dose is the one of
    the last complete ``event`` (the last fsync'd period)."""
    path = Path(path)
    docs, damaged = read_documents(path)
    start = next((d for d in docs if d.get("type") == "session_start"), None)
    if start is None:
        raise IontoError(f"{path}: not a session log (no session_start document)")
    events = [d for d in docs if d.get("type") == "event"]
    stop = next((d for d in reversed(docs) if d.get("type") == "session_stop"), None)
    acknowledged = any(d.get("type") == "acknowledged" for d in docs)
    resumed_by = next((str(d["by"]) for d in docs if d.get("type") == "resumed_by"), None)
    last = events[-1] if events else {}
    delivered = float(last.get("dose_mAmin", 0.0))
    if stop is not None and stop.get("exit_status") != "interrupted":
        status, reason = str(stop["exit_status"]), str(stop.get("reason", ""))
        delivered = float(stop.get("delivered_mAmin", delivered))
    elif stop is not None:
        status, reason = "interrupted", str(stop.get("reason", ""))
    else:
        status, reason = "interrupted", "the process ended without a session_stop"
    return Recovery(
        path=path,
        uid=str(start.get("uid", "")),
        status=status,
        reason=reason,
        delivered_mAmin=delivered,
        last_t=float(last.get("t", 0.0)),
        last_state=str(last.get("state", start.get("state", "idle"))),
        events=len(events),
        target_mAmin=start.get("target_dose_mAmin"),
        protocol=str(start.get("protocol", "")),
        start=start,
        damaged_lines=damaged,
        acknowledged=acknowledged,
        resumed_by=resumed_by,
    )


def _append(path: Path, doc: dict[str, Any]) -> None:
    with open(path, "ab") as f:
        if f.tell() and not path.read_bytes().endswith(b"\n"):
            f.write(b"\n")  # a document cut by the crash stays on its own (damaged) line
        f.write(json.dumps(doc, separators=(",", ":")).encode() + b"\n")
        f.flush()
        os.fsync(f.fileno())


def mark_interrupted(path: str | Path) -> Recovery:
    """Append ``session_stop`` with exit_status "interrupted" to a log whose process died
    (nothing else is changed). A log that already has a stop is left alone."""
    rec = recover(path)
    if rec.interrupted and not any(
        d.get("type") == "session_stop" for d in read_documents(rec.path)[0]
    ):
        _append(
            rec.path,
            {
                "type": "session_stop",
                "uid": rec.uid,
                "exit_status": "interrupted",
                "reason": f"recovered: the process died at t = {rec.last_t:.1f} s "
                f"in state {rec.last_state}",
                "state": rec.last_state,
                "delivered_mAmin": rec.delivered_mAmin,
                "duration_s": rec.last_t,
                "recovered_at": dt.datetime.now(dt.UTC).isoformat(),
            },
        )
    return recover(path)


@dataclass(frozen=True)
class Resume:
    """What is left of an interrupted session: uid, delivered and remaining dose (mA*min;
    remaining is None without a target), the original protocol text and the log path."""

    uid: str
    delivered_mAmin: float
    remaining_mAmin: float | None
    protocol: str
    path: Path | None = None
    start: dict[str, Any] | None = None


@dataclass(frozen=True)
class ResumePlan:
    """An acknowledged interrupted session and its remainder: ``protocol`` delivers only
    ``remaining_mAmin`` (mA*min) with a fresh ramp up; ``original`` is the interrupted
    session's protocol; ``resumes`` its uid; ``path`` its log; ``start`` its start
    document (plan file, electrodes, clearance)."""

    resumes: str
    delivered_mAmin: float
    remaining_mAmin: float
    protocol: Protocol
    original: Protocol
    path: Path
    start: dict[str, Any]


def resume_check(path: str | Path, *, acknowledge: bool = False, who: str = "") -> Resume:
    """Allow continuing a session. An interrupted one is refused
    (:class:`InterruptedSessionError`) unless ``acknowledge`` is True, in which case an
    ``acknowledged`` document (with ``who``) is appended first. Finished sessions cannot
    be resumed."""
    rec = mark_interrupted(path)
    if not rec.interrupted:
        raise InterruptedSessionError(
            f"session {rec.uid[:8]} ended with {rec.status} ({rec.reason}); nothing to resume"
        )
    if rec.resumed_by is not None:
        raise InterruptedSessionError(
            f"session {rec.uid[:8]} was already resumed by session {rec.resumed_by[:8]}"
        )
    if not (acknowledge or rec.acknowledged):
        raise InterruptedSessionError(
            f"session {rec.uid[:8]} was interrupted after {rec.delivered_mAmin:.3f} mA*min "
            f"at t = {rec.last_t:.1f} s; continuing needs an explicit acknowledgement "
            "(check the electrodes and the skin first)"
        )
    if acknowledge and not rec.acknowledged:
        _append(
            rec.path,
            {
                "type": "acknowledged",
                "uid": rec.uid,
                "who": who,
                "time": dt.datetime.now(dt.UTC).isoformat(),
                "delivered_mAmin": rec.delivered_mAmin,
            },
        )
    remaining = None
    if rec.target_mAmin is not None:
        remaining = max(0.0, float(rec.target_mAmin) - rec.delivered_mAmin)
    return Resume(rec.uid, rec.delivered_mAmin, remaining, rec.protocol, rec.path, rec.start)


def plan_resume(
    path: str | Path, *, acknowledge: bool = False, who: str = "", ramp_s: float | None = None
) -> ResumePlan:
    """The remainder of an interrupted session (see :func:`resume_check` for the
    refusals); refused too when nothing remains or the dose target is unknown."""
    from ionto.plan.protocol import parse
    from ionto.run.remainder import NothingToResume, remainder_protocol

    resume = resume_check(path, acknowledge=acknowledge, who=who)
    assert resume.path is not None and resume.start is not None
    if resume.remaining_mAmin is None:
        raise InterruptedSessionError(
            f"session {resume.uid[:8]} had no dose target: its remainder is not defined"
        )
    original = parse(resume.protocol, source="session protocol")
    target = float(resume.start.get("target_dose_mAmin") or 0.0)
    # the target may differ from the protocol's own dose: cut the protocol at the target
    delivered = resume.delivered_mAmin + max(0.0, original.dose_mAmin - target)
    try:
        protocol = remainder_protocol(original, delivered, ramp_s=ramp_s)
    except NothingToResume as exc:
        raise InterruptedSessionError(f"session {resume.uid[:8]}: {exc}") from None
    return ResumePlan(
        resumes=resume.uid,
        delivered_mAmin=resume.delivered_mAmin,
        remaining_mAmin=resume.remaining_mAmin,
        protocol=protocol,
        original=original,
        path=resume.path,
        start=resume.start,
    )


def mark_resumed(path: str | Path, by: str) -> None:
    """Append ``resumed_by`` to an interrupted session's log (a second resume is refused)."""
    _append(
        Path(path),
        {"type": "resumed_by", "by": by, "time": dt.datetime.now(dt.UTC).isoformat()},
    )


@dataclass(frozen=True)
class Replay:
    """Counters recomputed from a log: periods (event documents), occurrences, trips,
    dose_mAmin (the integral of the measured |current| over the device time stamps, as
    the controller counts it), the last event's dose, the exit status and the states."""

    periods: int
    occurrences: int
    trips: int
    dose_mAmin: float
    last_dose_mAmin: float
    exit_status: str | None
    delivered_mAmin: float | None
    sequence_ok: bool


def replay(path: str | Path) -> Replay:
    """Recompute a session's counters from its documents (see :class:`Replay`)."""
    from ionto.plan.protocol import MA_MIN

    docs, _ = read_documents(path)
    events = [d for d in docs if d.get("type") == "event"]
    occurrences = [d for d in docs if d.get("type") == "occurrence"]
    stop = next((d for d in reversed(docs) if d.get("type") == "session_stop"), None)
    charge = 0.0
    last_t: float | None = None
    for e in events:
        t, current = e.get("device_t"), e.get("current_A")
        if t is None or current is None:
            continue
        if last_t is not None:
            charge += abs(current) * max(0.0, t - last_t)
        last_t = t
    return Replay(
        periods=len(events),
        occurrences=len(occurrences),
        trips=sum(d.get("kind") in ("trip", "stop") for d in occurrences),
        dose_mAmin=charge / MA_MIN,
        last_dose_mAmin=float(events[-1]["dose_mAmin"]) if events else 0.0,
        exit_status=None if stop is None else stop.get("exit_status"),
        delivered_mAmin=None if stop is None else stop.get("delivered_mAmin"),
        sequence_ok=[e.get("seq") for e in events] == list(range(len(events))),
    )


def list_sessions(directory: str | Path) -> list[Recovery]:
    """Every ``*.jsonl`` log in ``directory`` (oldest first), read without changing them."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    out = []
    for path in sorted(directory.glob("*.jsonl")):
        try:
            out.append(recover(path))
        except IontoError:
            continue
    return out
