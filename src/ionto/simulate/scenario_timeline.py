"""Cross-field checks of the time-dependent parts of a scenario: control, output, reports.

Turns ``[[control]]`` entries into :class:`Segment` objects (A/m^2 or V; pulse trains
expanded), checks that current can flow, and resolves reports' regions and positions (m)
against the layer bounds. Used by :func:`ionto.simulate.scenario_build.build_problem`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ionto.core.errors import ConfigError
from ionto.core.units import format_si, round_si
from ionto.simulate.problem import (
    Boundary,
    NoFluxBoundary,
    ReportSpec,
    ReservoirBoundary,
    Segment,
)

if TYPE_CHECKING:
    from ionto.simulate.scenario import ControlIn, ReportIn, Scenario
    from ionto.simulate.scenario_build import Context

_TIME_TOL = 1e-9  # relative tolerance on times compared with the duration


def control_segments(s: Scenario) -> list[tuple[str, str, Segment]]:
    """Segments with the field and unit each came from (for later error messages)."""
    out: list[tuple[str, str, Segment]] = []
    for i, c in enumerate(s.control):
        path = f"control[{i}]"
        given = [k for k in ("current_density", "current", "voltage") if getattr(c, k) is not None]
        if len(given) != 1:
            raise ConfigError(
                path,
                message="needs exactly one of current_density, current or voltage"
                + (f" (got {', '.join(given)})" if given else ""),
            )
        key = given[0]
        start, end = getattr(c, key)
        unit = {"current_density": "A/m^2", "current": "A/m^2", "voltage": "V"}[key]
        if key == "current":
            if s.electrode_area is None:
                raise ConfigError(
                    f"{path}.current",
                    message="needs a top-level electrode_area to convert current to current "
                    'density (e.g. electrode_area = "10 cm^2"), or use current_density',
                )
            start, end = start / s.electrode_area, end / s.electrode_area
        mode: Literal["current", "voltage"] = "voltage" if key == "voltage" else "current"
        field = f"{path}.{key}"
        if c.pulses is None:
            for extra in ("period", "duty", "averaged"):
                if getattr(c, extra) is not None:
                    raise ConfigError(f"{path}.{extra}", message="is only used with pulses")
            if c.duration is None:
                raise ConfigError(f"{path}.duration", message="is required but missing")
            out.append((field, unit, Segment(c.duration, start, end, mode)))
            continue
        out.extend((field, unit, seg) for seg in _pulses(c, path, key, start, end))
    return out


def _pulses(c: ControlIn, path: str, key: str, level: float, end: float) -> list[Segment]:
    """Expand ``pulses`` x (on for duty*period at ``level``, off for the rest at 0)."""
    if c.duration is not None:
        raise ConfigError(
            f"{path}.duration",
            message="must not be given with pulses (the duration is pulses x period)",
        )
    if c.period is None:
        raise ConfigError(f"{path}.period", message="is required with pulses")
    if key == "voltage":
        raise ConfigError(f"{path}.voltage", message="pulse trains are defined for current only")
    if level != end:
        raise ConfigError(
            f"{path}.{key}", message="pulses need a constant level, not a [start, end] ramp"
        )
    assert c.pulses is not None
    duty = 0.5 if c.duty is None else c.duty
    on = duty * c.period
    off = c.period - on
    if c.averaged:
        # one segment at the mean current; electrodes see the mean anodic and cathodic
        # parts, |i|-driven states the mean |i| (docs/engine.md, cycle-averaged trains)
        anodic, cathodic = duty * max(level, 0.0), duty * max(-level, 0.0)
        mean = anodic - cathodic
        cycle = (anodic, cathodic, abs(level))
        return [Segment(c.pulses * c.period, mean, mean, "current", cycle)]
    segments = []
    for _ in range(c.pulses):
        segments.append(Segment(on, level, level, "current"))
        if off > 0:
            segments.append(Segment(off, 0.0, 0.0, "current"))
    return segments


def _carries_current(b: Boundary) -> bool:
    if isinstance(b, NoFluxBoundary):
        return False
    return not (isinstance(b, ReservoirBoundary) and b.reaction is None)


def check_current_path(
    segments: list[tuple[str, str, Segment]], left: Boundary, right: Boundary, s: Scenario
) -> None:
    for side, b in (("left", left), ("right", right)):
        if _carries_current(b):
            continue
        why = getattr(s.boundary, side).type
        for field, unit, seg in segments:
            if seg.mode == "voltage" or seg.start != 0.0 or seg.end != 0.0:
                value = format_si(seg.start if seg.start != 0.0 else seg.end, unit)
                raise ConfigError(
                    field,
                    value,
                    unit,
                    f"0, because boundary.{side} ({why}"
                    + (" without an electrode" if why == "reservoir" else "")
                    + ") carries no current",
                )


def _within(t: float, duration: float, field: str) -> float:
    tol = _TIME_TOL * duration
    if t > duration + tol:
        raise ConfigError(
            field,
            format_si(t, "s"),
            "s",
            f"0 to {format_si(duration, 's')} (the simulated duration)",
        )
    return min(t, duration)


def output_times(s: Scenario, duration: float) -> tuple[float, ...]:
    times = [_within(t, duration, f"output.times[{i}]") for i, t in enumerate(s.output.times)]
    for i, t in enumerate(times):
        if t in times[:i]:
            raise ConfigError(
                f"output.times[{i}]", format_si(t, "s"), "s", "distinct times", "duplicate time"
            )
    return tuple(sorted(times))


_NEEDS_REGION = {"released", "amount", "change", "resistance", "perfusion"}
_MAY_HAVE_REGION = {
    "released",
    "amount",
    "cleared",
    "change",
    "pH",
    "time_below",
    "resistance",
    "perfusion",
}
_NEEDS_AT = {"flux", "transport_number", "concentration", "potential"}
_REGION_OR_AT = {"pH", "time_below"}
_NO_SPECIES = {"voltage", "current", "charge", "potential", "resistance", "perfusion"}
_MAY_BE_TOTAL = {"released", "amount", "change", "flux", "concentration", "time_below"}


def report_spec(r: ReportIn, path: str, ctx: Context, duration: float) -> ReportSpec:
    q = r.quantity
    if q in _NO_SPECIES and r.species is not None:
        raise ConfigError(f"{path}.species", message=f"is not used by quantity {q!r}")
    if q not in _NO_SPECIES and q != "pH":
        if r.species is None:
            raise ConfigError(f"{path}.species", message=f"is required for quantity {q!r}")
        ctx.species(r.species, f"{path}.species")
    if q == "pH" and r.species not in (None, "H+"):
        raise ConfigError(f"{path}.species", r.species, None, '"H+"', "pH is that of H+")
    if q == "pH" and "H+" not in ctx.charges:
        raise ConfigError(f"{path}.quantity", q, None, "a scenario with an H+ species")
    if r.total and q not in _MAY_BE_TOTAL:
        raise ConfigError(f"{path}.total", message=f"is not used by quantity {q!r}")
    region = None
    if r.reservoir is not None:
        return _reservoir_report(r, path, ctx, duration)
    if q == "withdrawn":
        raise ConfigError(
            f"{path}.reservoir", message='is required for quantity "withdrawn" ("left" or "right")'
        )
    if r.region is not None and r.span is not None:
        raise ConfigError(f"{path}.span", message="give either region (layers) or span, not both")
    if r.span is not None:
        if q not in _MAY_HAVE_REGION:
            raise ConfigError(f"{path}.span", message=f"is not used by quantity {q!r}")
        index = ctx.layer(r.span.layer, f"{path}.span.layer")
        lo, hi = ctx.bounds[index]
        if not r.span.start < r.span.end <= (hi - lo) * (1 + 1e-12):
            raise ConfigError(
                f"{path}.span",
                f"{format_si(r.span.start, 'm')} .. {format_si(r.span.end, 'm')}",
                "m",
                f"0 <= start < end <= {format_si(hi - lo, 'm')} (inside {r.span.layer!r})",
            )
        region = (round_si(lo + r.span.start), round_si(min(lo + r.span.end, hi)))
    elif r.region is not None:
        if q not in _MAY_HAVE_REGION:
            raise ConfigError(f"{path}.region", message=f"is not used by quantity {q!r}")
        first = ctx.layer(r.region[0], f"{path}.region")
        last = ctx.layer(r.region[1], f"{path}.region")
        if first > last:
            raise ConfigError(
                f"{path}.region",
                list(r.region),
                None,
                "[first_layer, last_layer] in left-to-right order",
                f"layer {r.region[0]!r} comes after {r.region[1]!r}",
            )
        region = (ctx.bounds[first][0], ctx.bounds[last][1])
    if region is not None:
        pass
    elif q in _NEEDS_REGION:
        raise ConfigError(
            f"{path}.region",
            message=f'is required for quantity {q!r} (a layer name or ["first", "last"])',
        )
    elif q == "cleared":
        region = (0.0, ctx.length)
    position = None
    if r.at is not None:
        if q not in _NEEDS_AT and q not in _REGION_OR_AT:
            raise ConfigError(f"{path}.at", message=f"is not used by quantity {q!r}")
        start = ctx.bounds[ctx.layer(r.at.layer, f"{path}.at.layer")][0]
        position = start + r.at.depth
        if position > ctx.length * (1 + 1e-12):
            raise ConfigError(
                f"{path}.at.depth",
                format_si(r.at.depth, "m"),
                "m",
                f"<= {format_si(ctx.length - start, 'm')} (the stack ends there)",
                f"{format_si(r.at.depth, 'm')} below the top of {r.at.layer!r} is outside "
                "the stack",
            )
        position = round_si(min(position, ctx.length))
    elif q in _NEEDS_AT:
        raise ConfigError(
            f"{path}.at",
            message=f'is required for quantity {q!r} (e.g. at = {{ layer = "tissue", '
            'depth = "0 um" })',
        )
    if q in _REGION_OR_AT and (region is None) == (position is None):
        raise ConfigError(
            f"{path}.span",
            message=f"quantity {q!r} needs exactly one of region, span (a mean) or at (a point)",
        )
    threshold = None
    if q == "time_below":
        if r.species == "H+" and not r.total:
            if r.below_pH is None:
                raise ConfigError(f"{path}.below_pH", message="is required (the pH threshold)")
            threshold = r.below_pH
        else:
            if r.below is None:
                raise ConfigError(f"{path}.below", message='is required (e.g. below = "1 mM")')
            threshold = r.below
    elif r.below_pH is not None or r.below is not None:
        raise ConfigError(f"{path}.below", message=f"is not used by quantity {q!r}")
    time = _within(r.time, duration, f"{path}.time")
    species = "H+" if q == "pH" else r.species
    return ReportSpec(r.name, q, time, species, region, position, r.side, r.total, threshold)


_RESERVOIR_QUANTITIES = {"amount", "change", "withdrawn"}


def _reservoir_report(r: ReportIn, path: str, ctx: Context, duration: float) -> ReportSpec:
    """``reservoir = "left"`` / ``"right"``: the amount (mol per m^2 of electrode) in that
    end's well-mixed reservoir, e.g. a drug collected in a receptor chamber."""
    if r.quantity not in _RESERVOIR_QUANTITIES:
        raise ConfigError(
            f"{path}.reservoir",
            r.reservoir,
            None,
            "quantity amount, change or withdrawn",
            f"is not used by quantity {r.quantity!r}",
        )
    if ctx.reservoirs is not None and r.reservoir not in ctx.reservoirs:
        raise ConfigError(
            f"{path}.reservoir",
            r.reservoir,
            None,
            "a side whose boundary has type 'reservoir'",
            f"boundary.{r.reservoir} is not a reservoir",
        )
    for key in ("region", "span", "at", "below", "below_pH"):
        if getattr(r, key) is not None:
            raise ConfigError(f"{path}.{key}", message="is not used with reservoir")
    # a region that covers no cell and reaches past the stack on one side only
    region = (-1.0, 0.0) if r.reservoir == "left" else (ctx.length, ctx.length + 1.0)
    time = _within(r.time, duration, f"{path}.time")
    return ReportSpec(r.name, r.quantity, time, r.species, region, None, r.side, r.total, None)
