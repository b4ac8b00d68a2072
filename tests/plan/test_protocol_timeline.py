"""What a protocol delivers: duration, charge, dose and simulator segments."""

from __future__ import annotations

import math

import pytest

from ionto.core.errors import ConfigError
from ionto.plan.protocol import Protocol, parse
from ionto.simulate.problem import Segment

AREA = 10e-4  # 10 cm^2 in m^2


def test_lidocaine_protocol_delivers_40_mAmin_in_10_5_min() -> None:
    p = parse("ramp to 4 mA over 30 s\nhold 4 mA until 38 mA*min\nramp to 0 mA over 30 s")
    assert p.duration == pytest.approx(630.0)
    assert p.dose_mAmin == pytest.approx(40.0)
    assert p.charge.absolute == pytest.approx(2.4)
    assert p.charge.net == pytest.approx(2.4)
    assert p.peak_current == pytest.approx(0.004)


@pytest.mark.parametrize(
    ("text", "duration"),
    [
        ("hold 2 mA for 10 min or until 40 mA*min", 600.0),  # time first
        ("hold 2 mA for 30 min or until 40 mA*min", 1200.0),  # dose first
        ("hold 4 mA until 40 mA*min", 600.0),
        ("hold -4 mA until 40 mA*min", 600.0),  # |i| counts
        ("hold 2 mA until 40 V or for 5 min", 300.0),  # run-time stops never lengthen
        ("rest 30 min", 1800.0),
        ("repeat 3 times: hold 1 mA for 1 min; rest 2 min end", 540.0),
        ("pulse 2 mA at 1 Hz, 50% duty, until 0.06 C", 59.5),  # ends with the 60th pulse
        ("reverse polarity every 1 min at 2 mA until 3 mA*min", 90.0),
    ],
)
def test_step_durations(text: str, duration: float) -> None:
    assert parse(text).duration == pytest.approx(duration)


def test_pulse_charge_is_amplitude_times_duty() -> None:
    p = parse("pulse 2 mA at 1 kHz, 50% duty, for 15 min")
    assert p.charge.absolute == pytest.approx(0.001 * 900)
    assert p.charge.net == pytest.approx(0.001 * 900)
    assert p.peak_current == pytest.approx(0.002)


def test_biphasic_pulses_have_no_net_charge() -> None:
    p = parse("pulse 30 mA at 40 Hz, 300 us wide, biphasic, for 10 s")
    assert p.charge.net == pytest.approx(0.0, abs=1e-12)
    assert p.charge.absolute == pytest.approx(0.03 * 300e-6 * 2 * 40 * 10)


def test_reversal_alternates_the_sign() -> None:
    p = parse("reverse polarity every 10 min at 15 mA for 30 min")
    assert p.charge.absolute == pytest.approx(0.015 * 1800)
    assert p.charge.net == pytest.approx(0.015 * 600)
    segments = p.to_segments(AREA)
    assert [(d, a) for d, a, _ in segments] == [(600.0, 15.0), (600.0, -15.0), (600.0, 15.0)]


def test_ramp_through_zero_counts_both_triangles() -> None:
    p = parse("hold -2 mA for 1 s\nramp to 2 mA over 4 s")
    ramp = p.timeline()[1]
    assert ramp.start_level == -0.002
    assert ramp.net == pytest.approx(0.0)
    assert ramp.absolute == pytest.approx(2 * 0.5 * 0.002 * 2.0)


def test_segments_are_current_density_and_follow_the_polarity() -> None:
    p = parse("ramp to 4 mA over 30 s\nhold 4 mA for 10 min\nramp to 0 mA over 30 s\nrest 30 min")
    anode = p.to_segments(AREA)
    assert [tuple(s) for s in anode] == [
        (30.0, 0.0, 4.0),
        (600.0, 4.0, 4.0),
        (30.0, 4.0, 0.0),
        (1800.0, 0.0, 0.0),
    ]
    assert not anode.averaged
    cathode = p.to_segments(AREA, active="cathode")
    assert [s.start for s in cathode] == [-0.0, -4.0, -4.0, -0.0]
    assert all(isinstance(Segment(*s), Segment) for s in anode)  # fits the simulator


def test_slow_pulses_expand_and_fast_pulses_are_averaged() -> None:
    slow = parse("pulse 2 mA at 10 Hz, 50% duty, for 1 s").to_segments(AREA)
    assert len(slow) == 20
    assert not slow.averaged
    assert {s.start for s in slow} == {2.0, 0.0}  # 2 mA on 10 cm^2 = 2 A/m^2
    fast = parse("pulse 2 mA at 1 kHz, 50% duty, for 15 min").to_segments(AREA)
    assert fast.averaged
    assert len(fast) == 1
    assert tuple(fast[0]) == pytest.approx((900.0, 1.0, 1.0))  # mean 1 mA
    assert "1000 Hz > 50 Hz" in fast.notes[0]
    # the threshold is a parameter
    assert (
        not parse("pulse 2 mA at 60 Hz, 50% duty, for 1 s")
        .to_segments(AREA, average_above=100.0)
        .averaged
    )


def test_unbounded_protocol_has_no_duration() -> None:
    p = parse("ramp to 2 mA over 30 s\nhold 2 mA until 40 V\nramp to 0 mA over 30 s")
    assert not p.bounded
    assert math.isinf(p.timeline()[-1].duration)
    for attribute in ("duration", "charge", "dose_mAmin"):
        with pytest.raises(ConfigError, match="no time or dose stop"):
            getattr(p, attribute)
    with pytest.raises(ConfigError):
        p.to_segments(AREA)


@pytest.mark.parametrize("area", [0.0, -1.0, float("nan")])
def test_segments_need_a_positive_area(area: float) -> None:
    with pytest.raises(ConfigError, match="area"):
        Protocol.parse("rest 1 s").to_segments(area)


def test_timeline_labels_repeats() -> None:
    labels = [s.label for s in parse("rest 1 s\nrepeat 2 times: rest 1 s end").timeline()]
    assert labels == ["step 1", "step 2, repeat 1/2, step 1", "step 2, repeat 2/2, step 1"]
