"""The remainder of an interrupted treatment: only the dose not yet delivered, with a
fresh ramp up.

:func:`remainder_protocol` walks the original protocol's timeline (charge as the
integral of |i|, as the controller counts it) to the step in which the session stopped
and builds:

* a fresh ramp from 0 to the level the session was at (``ramp_s``: the original's
  leading ramp time, else 5 s), for holds, ramps and polarity reversal (a pulse train
  starts from zero anyway);
* the rest of the interrupted step, as a dose stop (a hold, a pulse train, a reversal)
  or the rest of the ramp;
* the steps after it unchanged, except that the charge of the fresh ramp is taken off
  the first later hold (its dose or time), so the remainder's dose is the dose left.
  When no later hold can absorb it, the controller's target dose (the dose left) stops
  the run.

Dose stops are rounded to 0.001 mA*min, levels to 1 uA and times to 10 ms, and the
result is re-read from its own text (the text is what the session log keeps). Units:
charge C, current A, time s, dose mA*min.
"""

from __future__ import annotations

import math
from dataclasses import replace

from ionto.core.errors import IontoError
from ionto.plan.protocol import (
    MA_MIN,
    ForTime,
    Hold,
    Protocol,
    Pulse,
    Ramp,
    Rest,
    Reverse,
    Step,
    UntilDose,
)
from ionto.plan.protocol.timeline import Span, flatten

DOSE_QUANTUM = 1e-3 * MA_MIN  # C: dose stops are written to 0.001 mA*min


class NothingToResume(IontoError, ValueError):
    """The interrupted session has (almost) nothing left to deliver."""


def _round_dose(coulombs: float) -> float:
    return round(coulombs / DOSE_QUANTUM) * DOSE_QUANTUM


def _ramp_position(start: float, end: float, over: float, charge: float) -> float:
    """Time (s) into a linear ramp at which the integral of |i| reaches ``charge`` (C)."""

    def q(t: float) -> float:
        level = start + (end - start) * t / over
        if start * level >= 0:
            return 0.5 * abs(start + level) * t
        t0 = over * start / (start - end)  # the zero crossing
        return 0.5 * abs(start) * t0 + 0.5 * abs(level) * (t - t0)

    lo, hi = 0.0, over
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if q(mid) < charge else (lo, mid)
    return 0.5 * (lo + hi)


def _fresh_ramp(level: float, ramp_s: float) -> tuple[list[Step], float]:
    """A ramp from 0 to ``level`` (A) and its charge (C)."""
    if level == 0:
        return [], 0.0
    return [Ramp(level, ramp_s)], 0.5 * abs(level) * ramp_s


def _give_back(steps: list[Step], extra: float) -> tuple[list[Step], float]:
    """Take ``extra`` (C) off the first holds of ``steps``; returns the steps and what
    could not be taken off."""
    out: list[Step] = []
    for step in steps:
        if extra > 0 and isinstance(step, Hold) and step.current != 0:
            dose = next((s.coulombs for s in step.stops if isinstance(s, UntilDose)), None)
            time = next((s.seconds for s in step.stops if isinstance(s, ForTime)), None)
            planned = min(
                dose if dose is not None else math.inf,
                abs(step.current) * time if time is not None else math.inf,
            )
            if planned <= extra:
                extra -= planned
                continue  # the fresh ramp delivers all of it
            if dose is not None and (time is None or dose <= abs(step.current) * time):
                out.append(Hold(step.current, (UntilDose(_round_dose(dose - extra)),)))
            else:
                assert time is not None
                out.append(Hold(step.current, (ForTime(time - extra / abs(step.current)),)))
            extra = 0.0
            continue
        out.append(step)
    return out, extra


def remainder_protocol(
    protocol: Protocol,
    delivered_mAmin: float,
    *,
    ramp_s: float | None = None,
    min_mAmin: float = 0.01,
) -> Protocol:
    """The protocol that delivers what ``protocol`` had left after ``delivered_mAmin``.

    Raises :class:`NothingToResume` when less than ``min_mAmin`` is left, and
    ``ConfigError`` (from the protocol) when the protocol is unbounded.
    """
    timeline = protocol.timeline()
    total = protocol.charge.absolute  # ConfigError if unbounded
    delivered = delivered_mAmin * MA_MIN
    if total - delivered < min_mAmin * MA_MIN:
        raise NothingToResume(
            f"{max(0.0, total - delivered) / MA_MIN:.4g} mA*min left of "
            f"{total / MA_MIN:.4g} mA*min: nothing to resume"
        )
    if ramp_s is None:
        first = timeline[0].step
        ramp_s = first.over if isinstance(first, Ramp) else 5.0
    items = [step for _, step in flatten(protocol.steps)]
    cum = 0.0
    k = 0
    while k < len(timeline) - 1 and cum + timeline[k].absolute <= delivered:
        cum += timeline[k].absolute
        k += 1
    s = timeline[k]
    done = delivered - cum  # C delivered within step k
    left = s.absolute - done
    step = s.step
    head: list[Step]
    if isinstance(step, Hold):
        head, ramp_q = _fresh_ramp(step.current, ramp_s)
        if left - ramp_q > DOSE_QUANTUM:
            head.append(Hold(step.current, (UntilDose(_round_dose(left - ramp_q)),)))
            extra = 0.0
        else:
            extra = ramp_q - left
    elif isinstance(step, Ramp):
        t_star = _ramp_position(s.start_level, step.to, step.over, done)
        level = s.start_level + (step.to - s.start_level) * t_star / step.over
        head, extra = _fresh_ramp(level, ramp_s)
        head.append(Ramp(step.to, max(step.over - t_star, 1e-3)))
    elif isinstance(step, Reverse):
        head, extra = _fresh_ramp(step.current, ramp_s)
        head.append(replace(step, stops=(UntilDose(_round_dose(left)),)))
    elif isinstance(step, Pulse):
        head, extra = [replace(step, stops=(UntilDose(_round_dose(left)),))], 0.0
    else:  # pragma: no cover - a rest carries no charge, so it is never the one cut
        assert isinstance(step, Rest)
        head, extra = [], 0.0
    tail, leftover = _give_back(items[k + 1 :], extra)
    if leftover > DOSE_QUANTUM and all(isinstance(t, Ramp) for t in tail):
        result = _triangle(timeline, k, s.step, total - delivered, ramp_s)
    else:
        result = Protocol(tuple(_tidy(x) for x in head + tail))
    return Protocol.parse(str(result), source="remainder")  # the text is what is logged


def _triangle(timeline: list[Span], k: int, step: Step, left: float, ramp_s: float) -> Protocol:
    """Near the end (the fresh ramp alone would deliver more than is left): ramp up with
    the fresh ramp's slope and straight back down with the protocol's last slope, to the
    level whose triangle carries exactly ``left`` (C)."""
    level = max(
        abs(timeline[k].start_level), abs(timeline[k].end_level), abs(getattr(step, "current", 0.0))
    )
    sign = math.copysign(1.0, timeline[k].start_level or timeline[k].end_level or 1.0)
    up = level / ramp_s  # A/s
    last = timeline[-1]
    down = (
        abs(last.start_level - last.end_level) / last.duration
        if isinstance(last.step, Ramp)
        else up
    )
    down = down or up
    peak = math.sqrt(2 * left / (1 / up + 1 / down))
    peak = min(peak, level)
    a = round(peak, 6)
    steps: list[Step] = [Ramp(sign * a, round(a / up, 2)), Ramp(0.0, round(a / down, 2))]
    return Protocol(tuple(steps))


def _tidy(step: Step) -> Step:
    """Round ramp levels to 1 uA and times to 10 ms so the text round-trips."""
    if isinstance(step, Ramp):
        return Ramp(round(step.to, 6), max(round(step.over, 2), 0.01))
    if isinstance(step, Hold):
        stops = tuple(
            ForTime(max(round(x.seconds, 2), 0.01)) if isinstance(x, ForTime) else x
            for x in step.stops
        )
        return Hold(step.current, stops)
    return step
