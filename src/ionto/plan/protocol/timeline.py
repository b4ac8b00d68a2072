"""What a protocol does in time: repeats unrolled, each step's duration, levels and charge.

Units: time in s, current in A, charge in C. A step's duration is the earliest of its
time and dose stops (voltage and impedance stops are only known while a session runs,
so they never lengthen the plan); a step with neither is *unbounded* and its duration
is ``math.inf``. Pulse trains and polarity reversal are periodic: their charge and the
time at which a dose stop is reached are computed period by period, exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from ionto.core.units import round_si
from ionto.plan.protocol.steps import (
    ForTime,
    Hold,
    Pulse,
    Ramp,
    Repeat,
    Rest,
    Reverse,
    Step,
    Stop,
    UntilDose,
)

_REL = 1e-12  # relative tolerance for "the dose was reached exactly at a phase end"


class Piece(NamedTuple):
    """A linear piece of the current: ``duration`` (s), ``start`` and ``end`` (A)."""

    duration: float
    start: float
    end: float


@dataclass(frozen=True)
class Span:
    """One executed step (repeats unrolled).

    label: where it is (``"step 3, repeat 2/3, step 1"``); start: time (s) from the start of
    the protocol; duration (s, ``inf`` if unbounded); start_level / end_level: current (A)
    just after it starts and when it ends; peak: largest |current| (A); absolute / net:
    charge (C) as the integral of |i| and of i.
    """

    label: str
    step: Step
    start: float
    duration: float
    start_level: float
    end_level: float
    peak: float
    absolute: float
    net: float

    @property
    def bounded(self) -> bool:
        """True when the duration is known before the session runs."""
        return math.isfinite(self.duration)


def flatten(steps: tuple[Step, ...], prefix: str = "") -> Iterator[tuple[str, Step]]:
    """``(label, step)`` for every non-repeat step, repeats unrolled in order."""
    for k, step in enumerate(steps, start=1):
        label = f"{prefix}step {k}"
        if isinstance(step, Repeat):
            for n in range(1, step.count + 1):
                yield from flatten(step.steps, f"{label}, repeat {n}/{step.count}, ")
        else:
            yield label, step


# ------------------------------------------------------------------ periodic waveforms


def phases(step: Pulse | Reverse) -> list[tuple[float, float]]:
    """One period as ``(duration s, current A)`` phases."""
    if isinstance(step, Reverse):
        return [(step.every, step.current), (step.every, -step.current)]
    period = 1.0 / step.frequency
    width = step.phase_width
    on = (
        [(width, step.current), (width, -step.current)]
        if step.biphasic
        else [(width, step.current)]
    )
    off = period - sum(w for w, _ in on)
    return on + ([(off, 0.0)] if off > period * _REL else [])


def _time_to_charge(ph: list[tuple[float, float]], charge: float) -> float:
    """Time (s) at which the integral of |i| over the periodic waveform reaches ``charge``."""
    period = sum(w for w, _ in ph)
    per_period = sum(w * abs(level) for w, level in ph)
    if per_period <= 0:
        return math.inf
    full = math.floor(charge / per_period * (1 + _REL))
    left = charge - full * per_period
    t = full * period
    if left <= per_period * _REL:  # reached at the end of the last conducting phase
        tail = 0.0
        for w, level in reversed(ph):
            if level != 0:
                break
            tail += w
        return t - tail if full > 0 else 0.0
    for w, level in ph:
        q = w * abs(level)
        if q >= left:
            return t + left / abs(level)
        left -= q
        t += w
    return t  # pragma: no cover - rounding only


def periodic_pieces(ph: list[tuple[float, float]], duration: float) -> Iterator[Piece]:
    """Constant pieces of the periodic waveform, cut at ``duration`` (s)."""
    t = 0.0
    period = sum(w for w, _ in ph)
    full = math.floor(duration / period * (1 + _REL))
    for _ in range(full):
        for w, level in ph:
            yield Piece(w, level, level)
    t = full * period
    for w, level in ph:
        if t >= duration * (1 - _REL):
            return
        piece = min(w, duration - t)
        yield Piece(piece, level, level)
        t += piece


def _periodic_charge(ph: list[tuple[float, float]], duration: float) -> tuple[float, float, float]:
    """(absolute C, net C, end level A) of the periodic waveform over ``duration``."""
    period = sum(w for w, _ in ph)
    full = math.floor(duration / period * (1 + _REL))
    absolute = full * sum(w * abs(level) for w, level in ph)
    net = full * sum(w * level for w, level in ph)
    end = ph[-1][1]
    t = full * period
    for w, level in ph:
        if t >= duration * (1 - _REL):
            break
        piece = min(w, duration - t)
        absolute += piece * abs(level)
        net += piece * level
        end = level
        t += piece
    return absolute, net, end


# ------------------------------------------------------------------ durations


def stop_time(stops: tuple[Stop, ...], time_to_charge: float) -> float:
    """Earliest of the time stop and the time at which the dose stop is reached (s)."""
    times = [math.inf]
    for stop in stops:
        if isinstance(stop, ForTime):
            times.append(stop.seconds)
        elif isinstance(stop, UntilDose):
            times.append(time_to_charge)
    return min(times)


def _dose(stops: tuple[Stop, ...]) -> float | None:
    for stop in stops:
        if isinstance(stop, UntilDose):
            return stop.coulombs
    return None


def _ramp_charge(start: float, end: float, duration: float) -> tuple[float, float]:
    net = 0.5 * (start + end) * duration
    if start * end >= 0:
        return abs(net), net
    return 0.5 * (start * start + end * end) / abs(end - start) * duration, net


def span(label: str, step: Step, start_time: float, level: float) -> Span:
    """The span of one non-repeat ``step`` starting at ``start_time`` (s) from ``level`` (A)."""
    if isinstance(step, Ramp):
        absolute, net = _ramp_charge(level, step.to, step.over)
        peak = max(abs(level), abs(step.to))
        return Span(label, step, start_time, step.over, level, step.to, peak, absolute, net)
    if isinstance(step, Rest):
        return Span(label, step, start_time, step.duration, 0.0, 0.0, 0.0, 0.0, 0.0)
    if isinstance(step, Hold):
        dose = _dose(step.stops)
        to_dose = (
            math.inf if dose is None or step.current == 0 else round_si(dose / abs(step.current))
        )
        duration = stop_time(step.stops, to_dose)
        absolute = abs(step.current) * duration
        net = step.current * duration
        peak = abs(step.current)
        return Span(
            label, step, start_time, duration, step.current, step.current, peak, absolute, net
        )
    if isinstance(step, (Pulse, Reverse)):
        ph = phases(step)
        dose = _dose(step.stops)
        to_dose = math.inf if dose is None else round_si(_time_to_charge(ph, dose))
        duration = stop_time(step.stops, to_dose)
        if not math.isfinite(duration):
            return Span(
                label, step, start_time, duration, step.current, 0.0, step.current, math.inf, 0.0
            )
        absolute, net, end = _periodic_charge(ph, duration)
        if isinstance(step, Pulse):
            end = 0.0  # a train ends with the current off
        return Span(
            label, step, start_time, duration, step.current, end, step.current, absolute, net
        )
    raise TypeError(f"not a protocol step: {step!r}")  # pragma: no cover


def spans(steps: tuple[Step, ...]) -> list[Span]:
    """Every executed step in order, with its start time and levels. Stops at the first
    unbounded step (its span is included, with ``duration = inf``)."""
    out: list[Span] = []
    t = 0.0
    level = 0.0
    for label, step in flatten(steps):
        s = span(label, step, t, level)
        out.append(s)
        if not s.bounded:
            break
        t += s.duration
        level = s.end_level
    return out


def pieces(s: Span) -> Iterator[Piece]:
    """The current of one bounded span as linear pieces (A), pulses and reversals expanded."""
    step = s.step
    if isinstance(step, (Pulse, Reverse)):
        yield from periodic_pieces(phases(step), s.duration)
    else:
        yield Piece(s.duration, s.start_level, s.end_level)
