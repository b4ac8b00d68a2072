"""Trace classification: synthetic traces with noise and offsets, and simulated-device traces."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ionto.run.controller import Controller, Sample
from ionto.run.waveform import analyze, read_trace

MakeController = Callable[..., Controller]
T = np.arange(0.0, 60.0, 0.01)
ROOT = Path(__file__).resolve().parents[2]


def square(f: float, duty: float, biphasic: bool = False) -> np.ndarray:
    x = (T * f) % 1.0
    if biphasic:
        return np.where(x < duty / 2, 1.0, np.where(x < duty, -1.0, 0.0))
    return np.where(x < duty, 1.0, 0.0)


def noisy(i: np.ndarray, seed: int = 0) -> np.ndarray:
    scale = np.max(np.abs(i))
    rng = np.random.default_rng(seed)
    return i + rng.normal(0, 0.02 * scale, i.size) + 0.01 * scale  # 2 % noise, 1 % offset


@pytest.mark.parametrize(
    ("current", "kind", "frequency", "duty"),
    [
        (4e-3 * np.ones_like(T), "galvanic-dc", 0.0, 1.0),
        (2e-3 * square(2, 0.3), "pulsed-monophasic", 2.0, 0.3),
        (2e-3 * np.where((T // 10) % 2 == 0, 1, -1), "polarity-reversing", 0.05, 1.0),
        (300e-6 * square(0.5, 0.5, True), "microcurrent", 0.5, 0.5),
        (30e-3 * square(5, 0.2, True), "biphasic-ems", 5.0, 0.2),
        (np.where(T < 30, 4e-3, 2e-3 * square(2, 0.3)), "mixed", None, None),
    ],
)
def test_C4_classifies_synthetic_traces(current: np.ndarray, kind: str, frequency, duty) -> None:
    a = analyze(T, noisy(current))
    assert a.kind == kind
    if frequency is not None:
        assert a.frequency_Hz == pytest.approx(frequency, rel=0.02, abs=1e-9)
        assert a.duty == pytest.approx(duty, abs=0.03)
    assert a.dc_A == pytest.approx(np.mean(noisy(current)), rel=0.02, abs=1e-6)
    assert a.rms_A >= abs(a.dc_A)


def test_figures_of_a_monophasic_train() -> None:
    t = np.arange(0.0, 60.0, 1e-4)
    x = (t * 2) % 1.0
    a = analyze(t, np.where(x < 0.25, 2e-3, 0.0))
    assert a.dc_A == pytest.approx(0.5e-3, rel=0.01)
    assert a.rms_A == pytest.approx(1e-3, rel=0.01)
    assert a.peak_A == pytest.approx(2e-3)
    assert a.net_C_per_s == a.dc_A and a.frequency_Hz == pytest.approx(2.0)
    assert a.pulses == 120


def test_C4_claimed_microcurrent_at_milliamperes_is_flagged() -> None:
    a = analyze(T, noisy(2e-3 * square(0.5, 0.5, True)), claimed="microcurrent")
    assert a.mismatches and "peak is 2" in a.mismatches[-1]
    ok = analyze(T, noisy(300e-6 * square(0.5, 0.5, True)), claimed="microcurrent")
    assert ok.mismatches == []
    dc = analyze(T, noisy(4e-3 * np.ones_like(T)), claimed="ems")
    assert "trace is galvanic-dc" in dc.mismatches[0]
    with pytest.raises(ValueError, match="unknown modality"):
        analyze(T, T, claimed="magic")


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="increase"):
        analyze([0, 0, 1], [1, 1, 1])
    with pytest.raises(ValueError, match="same length"):
        analyze([0, 1, 2], [1, 1])


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("ramp to 4 mA over 30 s; hold 4 mA for 2 min; ramp to 0 mA over 30 s", "galvanic-dc"),
        ("pulse 300 uA at 0.5 Hz, 50% duty, biphasic, for 1 min", "microcurrent"),
        ("reverse polarity every 10 s at 2 mA for 1 min", "polarity-reversing"),
        ("pulse 2 mA at 1 Hz, 30% duty, for 1 min", "pulsed-monophasic"),
    ],
)
def test_traces_from_the_simulated_device(make_controller: MakeController, text, kind) -> None:
    log: list[Sample] = []
    make_controller(text, on_period=lambda c, s: log.append(s)).run()
    t = np.array([s.t for s in log])
    i = np.array([s.current_A for s in log])
    v = np.array([s.voltage_V for s in log])
    a = analyze(t, i, v)
    assert a.kind == kind
    assert a.mean_impedance_ohm is not None and 500 < a.mean_impedance_ohm < 3600  # <= rest


def test_example_traces() -> None:
    t, i, v = read_trace(str(ROOT / "examples/traces/microcurrent-face.csv"))
    assert analyze(t, i, v, claimed="microcurrent").mismatches == []
    t, i, v = read_trace(str(ROOT / "examples/traces/fake-microcurrent.csv"))
    assert analyze(t, i, v, claimed="microcurrent").mismatches
