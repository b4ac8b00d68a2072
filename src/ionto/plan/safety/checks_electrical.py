"""Checks of the protocol's electrical quantities: boundedness, current, current density,
dose, ramps, EMS pulse limits, session length and wear time.

Units: current A, charge C, area m^2, current density A/m^2, time s, energy J, voltage V.
"""

from __future__ import annotations

from collections.abc import Iterator

from ionto.core.errors import ConfigError
from ionto.plan.protocol import Hold, Pulse, Ramp, Reverse
from ionto.plan.safety.context import Context, show
from ionto.plan.safety.registry import Hit, rule


@rule("protocol.bounded")
def protocol_bounded(ctx: Context) -> Iterator[Hit]:
    for s in ctx.spans:
        if not s.bounded:
            yield Hit(
                f"{s.label} ({s.step}) stops only on voltage or impedance; add 'for TIME' or "
                "'until DOSE' so its length and dose are known"
            )


@rule("current.max")
def current_max(ctx: Context) -> Iterator[Hit]:
    field = f"{ctx.plan.source}: options.current_max"
    limit = ctx.plan.modality.current_max.pick(ctx.option("current_max"), field)
    if ctx.peak > limit.si * (1 + 1e-9):
        yield Hit(
            f"peak current {show(ctx.peak, 'A')} exceeds the {ctx.plan.modality.name} maximum "
            f"{limit.text} (option {limit.option!r})",
            source=limit.source,
            uncertain=limit.uncertain,
        )


def _polarities(ctx: Context) -> tuple[str, str]:
    """Polarity of (active, indifferent): anode, cathode or both."""
    if ctx.plan.polarity is None or ctx.reverses:
        return "both", "both"
    other = "cathode" if ctx.plan.polarity == "anode" else "anode"
    return ctx.plan.polarity, other


@rule("current.density", required={"anode": "A/m^2", "cathode": "A/m^2"})
def current_density(ctx: Context) -> Iterator[Hit]:
    if not ctx.plan.modality.density_rule:
        return
    anode = ctx.param("current.density", "anode")
    cathode = ctx.param("current.density", "cathode")
    assert anode is not None and cathode is not None
    for use, polarity in zip(ctx.plan.electrodes, _polarities(ctx), strict=True):
        limit = {"anode": anode, "cathode": cathode}.get(polarity) or min(
            anode, cathode, key=lambda p: p.si
        )
        density = ctx.peak / use.area
        if density > limit.si * (1 + 1e-9):
            yield Hit(
                f"{use.role} electrode ({use.entry.name}, {show(use.area, 'm^2')}, {polarity}): "
                f"{show(ctx.peak, 'A')} gives {show(density, 'A/m^2')}, above the {limit.text} "
                f"limit (option {limit.option!r}); use a larger electrode or a lower current",
                source=limit.source,
            )


@rule("current.density-advisory", required={"limit": "A/m^2"})
def current_density_advisory(ctx: Context) -> Iterator[Hit]:
    limit = ctx.param("current.density-advisory", "limit")
    assert limit is not None
    for use in ctx.plan.electrodes:
        density = ctx.peak / use.area
        if density > limit.si:
            yield Hit(
                f"{use.role} electrode: {show(density, 'A/m^2')} is above {limit.text}; "
                "the operator must pay special attention (IEC 60601-2-10)"
            )


@rule("dose.electrode")
def dose_electrode(ctx: Context) -> Iterator[Hit]:
    if not ctx.bounded:
        return
    option = ctx.option("electrode_capacity")
    rated = [u for u in ctx.plan.electrodes if u.entry.capacity is not None]
    if option is not None and not any(
        u.entry.capacity is not None and option in u.entry.capacity.option_names() for u in rated
    ):
        names = sorted(
            {n for u in rated if u.entry.capacity for n in u.entry.capacity.option_names()}
        )
        raise ConfigError(
            f"{ctx.plan.source}: options.electrode_capacity",
            option,
            None,
            "one of: " + (", ".join(names) or "(no electrode of the plan has a rated capacity)"),
            f"no electrode of the plan has a capacity option {option!r}",
        )
    for use in rated:
        assert use.entry.capacity is not None
        chosen = option if option in use.entry.capacity.option_names() else None
        capacity = use.entry.capacity.pick(chosen)
        if ctx.dose > capacity.si * (1 + 1e-9):
            yield Hit(
                f"dose {show(ctx.dose, 'C')} exceeds the {use.role} electrode's capacity "
                f"({use.entry.name}: {capacity.text}, option {capacity.option!r})",
                source=capacity.source,
            )


@rule("dose.modality")
def dose_modality(ctx: Context) -> Iterator[Hit]:
    limit = ctx.plan.modality.dose_max
    if limit is None or not ctx.bounded:
        return
    if ctx.dose > limit.si * (1 + 1e-9):
        yield Hit(
            f"dose {show(ctx.dose, 'C')} exceeds the {ctx.plan.modality.name} maximum "
            f"{limit.value}",
            source=limit.source,
            uncertain=limit.uncertain,
        )


@rule("dose.target")
def dose_target(ctx: Context) -> Iterator[Hit]:
    target = ctx.plan.modality.dose_target
    if target is None or not ctx.bounded:
        return
    if abs(ctx.dose - target.si) > 0.01 * target.si:
        yield Hit(
            f"dose {show(ctx.dose, 'C')}; the typical dose is {target.value}", source=target.source
        )


@rule("microcurrent.cap", required={"cap": "A"})
def microcurrent_cap(ctx: Context) -> Iterator[Hit]:
    cap = ctx.param("microcurrent.cap", "cap")
    assert cap is not None
    if ctx.peak > cap.si * (1 + 1e-9):
        yield Hit(
            f"peak current {show(ctx.peak, 'A')} exceeds the microcurrent cap {cap.text} "
            f"(option {cap.option!r}); this is not microcurrent",
            source=cap.source,
        )


def _entry_exit(span_step: object, start: float, end: float) -> tuple[float, float]:
    """Level at which a step starts and ends, for jump checks (pulse trains: 0 / 0)."""
    if isinstance(span_step, Pulse):
        return 0.0, 0.0
    return start, end


@rule("ramp.abrupt", required={"max_jump": "A"})
def ramp_abrupt(ctx: Context) -> Iterator[Hit]:
    if not ctx.plan.modality.ramp_required or not ctx.bounded:
        return
    limit = ctx.param("ramp.abrupt", "max_jump")
    assert limit is not None
    level = 0.0
    for s in ctx.spans:
        start, end = _entry_exit(s.step, s.start_level, s.end_level)
        if abs(start - level) > limit.si + 1e-12:
            hint = (
                f"add 'ramp to {show(start, 'A')} over 30 s' before it"
                if level == 0
                else "ramp between the levels"
            )
            yield Hit(
                f"{s.label} ({s.step}) jumps from {show(level, 'A')} to {show(start, 'A')}; {hint}"
            )
        level = end
    if abs(level) > limit.si + 1e-12:
        yield Hit(f"the protocol ends at {show(level, 'A')}; end with 'ramp to 0 mA over 30 s'")


@rule("ramp.short")
def ramp_short(ctx: Context) -> Iterator[Hit]:
    minimum = ctx.plan.modality.ramp_min
    if minimum is None or not ctx.plan.modality.ramp_required:
        return
    for s in ctx.spans:
        if isinstance(s.step, Ramp) and s.step.over < minimum.si and s.start_level != s.end_level:
            yield Hit(
                f"{s.label} ({s.step}) is shorter than {minimum.value}", source=minimum.source
            )


def _pulses(ctx: Context) -> Iterator[tuple[str, Pulse]]:
    """Each distinct pulse step once (repeats give the same step many times)."""
    seen: set[Pulse] = set()
    for s in ctx.spans:
        if isinstance(s.step, Pulse) and s.step not in seen:
            seen.add(s.step)
            yield s.label, s.step


@rule("ems.pulse-energy", required={"load": "ohm", "max_energy": "J"})
def ems_pulse_energy(ctx: Context) -> Iterator[Hit]:
    load = ctx.param("ems.pulse-energy", "load")
    limit = ctx.param("ems.pulse-energy", "max_energy")
    assert load is not None and limit is not None
    for label, p in _pulses(ctx):
        phases = 2 if p.biphasic else 1
        energy = p.current**2 * load.si * p.phase_width * phases
        if energy > limit.si:
            yield Hit(
                f"{label} ({p}): {energy * 1e3:.4g} mJ per pulse into {load.text}, "
                f"above {limit.text}"
            )


@rule("ems.peak-voltage", required={"load": "ohm", "max_voltage": "V"})
def ems_peak_voltage(ctx: Context) -> Iterator[Hit]:
    load = ctx.param("ems.peak-voltage", "load")
    limit = ctx.param("ems.peak-voltage", "max_voltage")
    assert load is not None and limit is not None
    voltage = ctx.peak * load.si
    if voltage > limit.si:
        yield Hit(
            f"peak {show(ctx.peak, 'A')} into {load.text} needs {voltage:.4g} V, above {limit.text}"
        )


@rule("ems.phase-charge", optional={"max_phase_charge": "C"})
def ems_phase_charge(ctx: Context) -> Iterator[Hit]:
    limit = ctx.param("ems.phase-charge", "max_phase_charge")
    for label, p in _pulses(ctx):
        charge = p.current * p.phase_width
        width = f"{p.phase_width * 1e6:.4g} us"
        text = f"{label}: {charge * 1e6:.4g} uC per phase ({show(p.current, 'A')} x {width})"
        if limit is not None and charge > limit.si:
            yield Hit(f"{text}, above {limit.text}", severity="error", source=limit.source)
        else:
            yield Hit(text)


@rule("ems.dc-component")
def ems_dc_component(ctx: Context) -> Iterator[Hit]:
    for s in ctx.spans:
        step = s.step
        monophasic = isinstance(step, Pulse) and not step.biphasic
        dc = isinstance(step, (Hold, Ramp, Reverse)) and s.peak > 0
        if monophasic or dc:
            yield Hit(f"{s.label} ({step}) has a net DC component")


@rule("session.duration")
def session_duration(ctx: Context) -> Iterator[Hit]:
    usual = ctx.plan.modality.session
    if usual is None or not ctx.bounded:
        return
    low, high = usual.si
    duration = ctx.plan.protocol.duration
    if not low <= duration <= high:
        yield Hit(
            f"the protocol lasts {show(duration, 's')}; the usual session is "
            f"{usual.low} to {usual.high}",
            source=usual.source,
        )


@rule("electrode.wear-time")
def electrode_wear_time(ctx: Context) -> Iterator[Hit]:
    if not ctx.bounded:
        return
    duration = ctx.plan.protocol.duration
    for use in ctx.plan.electrodes:
        wear = use.entry.wear_time
        if wear is not None and duration > wear.si:
            yield Hit(
                f"the protocol lasts {show(duration, 's')}, longer than the {use.role} electrode's "
                f"wear time ({use.entry.name}: {wear.value})",
                source=wear.source,
            )


@rule("electrode.self-adhesive")
def electrode_self_adhesive(ctx: Context) -> Iterator[Hit]:
    for use in ctx.plan.electrodes:
        if use.entry.self_adhesive:
            yield Hit(
                f"the {use.role} electrode ({use.entry.name}) is self-adhesive; do not use "
                "self-adhesive electrodes with galvanic current (acid burns)"
            )
