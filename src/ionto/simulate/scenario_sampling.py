"""``[[sampling]]`` of a scenario: withdraw-and-replace samples of a reservoir end
(a diffusion cell's receptor), turned into ``Problem.sampling`` with the control
segments split at every sampling time (the engine applies a sample at the start of a
segment; ``ionto.simulate.sampling``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ionto.core.errors import ConfigError
from ionto.core.units import format_si
from ionto.simulate.problem import Boundary, ReservoirBoundary, Sampling, Segment

if TYPE_CHECKING:
    from ionto.simulate.scenario import Scenario

Segments = list[tuple[str, str, Segment]]


def build_sampling(
    s: Scenario, left: Boundary, right: Boundary, segments: Segments, duration: float
) -> tuple[Segments, tuple[Sampling, ...]]:
    """The samplings of ``s`` (SI) and ``segments`` split at their times."""
    if not s.sampling:
        return segments, ()
    out: list[Sampling] = []
    for k, smp in enumerate(s.sampling):
        path = f"sampling[{k}]"
        end = left if smp.side == "left" else right
        if s.circuit is not None:
            raise ConfigError(path, message="is not available with [circuit]")
        if not isinstance(end, ReservoirBoundary):
            raise ConfigError(
                f"{path}.side",
                smp.side,
                None,
                "a side whose boundary has type 'reservoir'",
                f"boundary.{smp.side} is not a reservoir",
            )
        if s.electrode_area is None:
            raise ConfigError(
                f"{path}.volume",
                message='needs a top-level electrode_area (e.g. electrode_area = "1 cm^2")',
            )
        chamber = end.volume_per_area * s.electrode_area
        if not smp.volume < chamber:
            raise ConfigError(
                f"{path}.volume",
                format_si(smp.volume, "m^3"),
                "m^3",
                f"< {format_si(chamber, 'm^3')} (the {smp.side} reservoir's volume)",
            )
        fresh = dict(end.initial) if smp.fresh is None else dict(smp.fresh)
        for j, t in enumerate(smp.times):
            if not t < duration * (1 - 1e-9):
                raise ConfigError(
                    f"{path}.times[{j}]",
                    format_si(t, "s"),
                    "s",
                    f"< {format_si(duration, 's')} (the end of the control)",
                )
            out.append(Sampling(t, smp.side, smp.volume / chamber, fresh))
    times = sorted({x.time for x in out})
    return _split(segments, times), tuple(sorted(out, key=lambda x: x.time))


def _split(segments: Segments, times: list[float]) -> Segments:
    """``segments`` cut at ``times`` (s): a linear piece is cut into linear pieces."""
    out: Segments = []
    t0 = 0.0
    for field, unit, seg in segments:
        t1 = t0 + seg.duration
        tol = 1e-9 * max(1.0, t1)
        cuts = [t for t in times if t0 + tol < t < t1 - tol]
        here, level = t0, seg.start
        slope = (seg.end - seg.start) / seg.duration
        for t in cuts:
            end = seg.start + slope * (t - t0)
            out.append((field, unit, Segment(t - here, level, end, seg.mode, seg.cycle)))
            here, level = t, end
        out.append((field, unit, Segment(t1 - here, level, seg.end, seg.mode, seg.cycle)))
        t0 = t1
    return out
