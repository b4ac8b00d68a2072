"""Property tests: parse(str(p)) == p for random protocols, the canonical text is a
fixed point, free-form variants read the same, and the timeline is consistent."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ionto.core.units import round_si
from ionto.plan.protocol import (
    ForTime,
    Hold,
    Protocol,
    Pulse,
    Ramp,
    Repeat,
    Rest,
    Reverse,
    Step,
    Stop,
    UntilDose,
    UntilImpedance,
    UntilVoltage,
    parse,
)


def decimal(lo_exp: int, hi_exp: int, digits: int = 6) -> st.SearchStrategy[float]:
    """Positive values with up to ``digits`` significant digits, 10**lo_exp..10**hi_exp."""
    return st.builds(
        lambda m, e: round_si(m * 10.0**e),
        st.integers(1, 10**digits - 1),
        st.integers(lo_exp - digits, hi_exp - digits),
    )


times = st.one_of(decimal(-4, 4), st.integers(1, 600).map(lambda n: 60.0 * n))
currents = decimal(-7, 0)
signed = st.one_of(currents, currents.map(lambda x: -x), st.just(0.0))
frequencies = decimal(-1, 4)
doses = decimal(-4, 1)
STOP_MAKERS = {
    "time": (ForTime, times),
    "dose": (UntilDose, doses),
    "voltage": (UntilVoltage, decimal(-1, 2)),
    "impedance": (UntilImpedance, decimal(1, 6)),
}


@st.composite
def stop_lists(draw: st.DrawFn) -> tuple[Stop, ...]:
    kinds = draw(st.permutations(list(STOP_MAKERS)))
    n = draw(st.integers(1, 4))
    stops: list[Stop] = []
    for kind in kinds[:n]:
        make, values = STOP_MAKERS[kind]
        stops.append(make(draw(values)))  # type: ignore[operator]
    return tuple(stops)


@st.composite
def pulses(draw: st.DrawFn) -> Pulse:
    frequency = draw(frequencies)
    biphasic = draw(st.booleans())
    if draw(st.booleans()):
        duty = draw(st.builds(lambda m, k: round_si(m / 10**k), st.integers(1, 1000), st.just(3)))
        return Pulse(draw(currents), frequency, draw(stop_lists()), duty=duty, biphasic=biphasic)
    phases = 2 if biphasic else 1
    fraction = draw(st.integers(1, 999)) / 1000
    width = round_si(fraction / (phases * frequency))
    return Pulse(draw(currents), frequency, draw(stop_lists()), width=width, biphasic=biphasic)


simple_steps: st.SearchStrategy[Step] = st.one_of(
    st.builds(Ramp, to=signed, over=times),
    st.builds(Hold, current=signed, stops=stop_lists()),
    pulses(),
    st.builds(Reverse, current=currents, every=times, stops=stop_lists()),
    st.builds(Rest, duration=times),
)
steps = st.recursive(
    simple_steps,
    lambda inner: st.builds(
        Repeat, count=st.integers(1, 4), steps=st.lists(inner, min_size=1, max_size=3).map(tuple)
    ),
    max_leaves=6,
)
protocols = st.lists(steps, min_size=1, max_size=5).map(lambda s: Protocol(tuple(s)))

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(protocols)
def test_parse_of_str_is_identity(p: Protocol) -> None:
    assert parse(str(p)) == p


@SETTINGS
@given(protocols)
def test_canonical_text_is_a_fixed_point(p: Protocol) -> None:
    text = str(p)
    assert str(parse(text)) == text
    assert parse(p.inline()) == p


def _variant(text: str, shout: bool, spaces: bool, semicolons: bool) -> str:
    out = re.sub(r"(?m)^(\s*)hold ", r"\1hold at ", text)
    out = re.sub(r"(?m)^(\s*)rest ", r"\1rest for ", out)
    if shout:
        out = re.sub(
            r"\b(hold|rest|ramp|repeat|end|for|until|or)\b", lambda m: m.group(1).upper(), out
        )
    if spaces:
        out = out.replace(" ", "   ")
    if semicolons:
        out = out.replace("\n", " ; ")
    elif spaces:
        out = out.replace("\n", "  # note\n\n")
    return out


@SETTINGS
@given(protocols, st.booleans(), st.booleans(), st.booleans())
def test_free_form_variants_parse_to_the_same_protocol(
    p: Protocol, shout: bool, spaces: bool, semicolons: bool
) -> None:
    assert parse(_variant(str(p), shout, spaces, semicolons)) == p


@SETTINGS
@given(protocols)
def test_timeline_is_consistent(p: Protocol) -> None:
    if not p.bounded or any(
        s.duration > 3600
        or (isinstance(s.step, Pulse) and s.step.frequency * s.duration > 2000)
        or (isinstance(s.step, Reverse) and s.duration / s.step.every > 2000)
        for s in p.timeline()
    ):
        return  # keep expansion small (a reversal every 0.1 ms for an hour is 7e7 pieces)
    charge = p.charge
    assert abs(charge.net) <= charge.absolute * (1 + 1e-9) + 1e-15
    assert abs(p.dose_mAmin - charge.absolute / 0.06) <= 1e-9 * max(1.0, p.dose_mAmin)
    area = 1e-3
    segments = p.to_segments(area, average_above=1e9)
    assert not segments.averaged
    total = sum(piece.duration for piece in segments)
    assert abs(total - p.duration) <= 1e-6 * max(1.0, p.duration)
    net = sum(0.5 * (a + b) * d for d, a, b in segments) * area
    assert abs(net - charge.net) <= 1e-6 * max(1e-9, charge.absolute)
