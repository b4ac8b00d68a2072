"""Classify a recorded current trace and measure it.

:func:`analyze` takes sample times (s) and currents (A) and returns the waveform class
(``galvanic-dc``, ``pulsed-monophasic``, ``polarity-reversing``, ``microcurrent``,
``biphasic-ems``, ``mixed``) with its DC component (A), RMS (A), peak (A), frequency
(Hz), duty (fraction of time with current flowing), net and absolute charge per second
(C/s) and, with a ``claimed`` modality, the mismatches (e.g. "microcurrent" at mA: by
definition microcurrent stays at or below 1 mA, clinical.md C4/section 9).

A sample is "on" when |i| exceeds half the 99th-percentile |i|; runs of on samples are
pulses (a biphasic pulse is one run holding both signs). Time-weighted means use the
sample intervals, so uneven sampling is fine.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

MICROCURRENT_MAX_A = 1e-3  # A: microcurrent is <= 1 mA by definition (clinical.md C4)

# what each claimed modality may look like: allowed classes and the peak limit (A)
CLAIMS: dict[str, tuple[frozenset[str], float]] = {
    "microcurrent": (
        frozenset({"microcurrent", "galvanic-dc", "polarity-reversing"}),
        MICROCURRENT_MAX_A,
    ),
    "ems": (frozenset({"biphasic-ems", "pulsed-monophasic"}), 0.1),
    "drug-iontophoresis": (frozenset({"galvanic-dc", "pulsed-monophasic"}), 4e-3),
    "cosmetic-iontophoresis": (frozenset({"galvanic-dc", "pulsed-monophasic"}), 1.5e-3),
    "galvanic-desincrustation": (frozenset({"galvanic-dc"}), 1.5e-3),
    "tap-water-iontophoresis": (
        frozenset({"galvanic-dc", "pulsed-monophasic", "polarity-reversing"}),
        30e-3,
    ),
}


@dataclass(frozen=True)
class Analysis:
    """Result of :func:`analyze` (units in the field names)."""

    kind: str
    dc_A: float
    rms_A: float
    peak_A: float
    frequency_Hz: float
    duty: float
    net_C_per_s: float
    absolute_C_per_s: float
    duration_s: float
    pulses: int
    mean_impedance_ohm: float | None = None
    claimed: str | None = None
    mismatches: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return asdict(self)


def _weights(t: np.ndarray) -> np.ndarray:
    """Time each sample stands for (s): half the intervals on each side."""
    dt = np.diff(t)
    w = np.zeros_like(t)
    w[:-1] += dt / 2
    w[1:] += dt / 2
    return w


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) index pairs of the True runs of ``mask``."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def analyze(
    times_s: ArrayLike,
    current_A: ArrayLike,
    voltage: ArrayLike | None = None,
    *,
    claimed: str | None = None,
) -> Analysis:
    """Classify and measure a trace (times in s, currents in A, voltages in V)."""
    t = np.asarray(times_s, dtype=float)
    i = np.asarray(current_A, dtype=float)
    if t.ndim != 1 or t.shape != i.shape or t.size < 3:
        raise ValueError("times and currents must be 1-D arrays of the same length (>= 3)")
    if np.any(np.diff(t) <= 0):
        raise ValueError("times must increase strictly")
    w = _weights(t)
    duration = float(t[-1] - t[0])
    dc = float(np.sum(w * i) / duration)
    rms = float(np.sqrt(np.sum(w * i * i) / duration))
    absolute = float(np.sum(w * np.abs(i)) / duration)
    peak = float(np.percentile(np.abs(i), 99.5))
    on = np.abs(i) > 0.5 * peak
    duty = float(np.sum(w[on]) / duration)
    runs = _runs(on)
    signs = [set(np.sign(i[a:b]).astype(int)) - {0} for a, b in runs]
    bipolar_runs = sum(len(s) > 1 for s in signs)
    run_signs = [next(iter(s)) if len(s) == 1 else 0 for s in signs]
    lengths = np.array([t[min(b, t.size - 1)] - t[a] for a, b in runs]) if runs else np.zeros(0)
    amplitudes = np.array([np.mean(np.abs(i[a:b])) for a, b in runs]) if runs else np.zeros(0)
    frequency = 0.0
    if len(runs) >= 2:
        starts = t[[a for a, _ in runs]]
        frequency = (len(runs) - 1) / float(starts[-1] - starts[0])
    mixed = len(runs) >= 3 and (
        np.max(lengths) > 5 * np.median(lengths) or np.std(amplitudes) > 0.3 * np.mean(amplitudes)
    )
    reversals = sum(a != b for a, b in zip(run_signs, run_signs[1:], strict=False))
    if peak == 0:
        kind = "galvanic-dc"
    elif mixed:
        kind = "mixed"
    elif (len(runs) == 1 or (duty > 0.9 and len(runs) == 2)) and bipolar_runs == 0:
        kind = "galvanic-dc"
    elif duty > 0.75 and (reversals >= 1 or bipolar_runs > 0):
        kind = "polarity-reversing"
        t_on, signs_i = t[on], np.sign(i[on])
        flips = t_on[1:][signs_i[1:] != signs_i[:-1]]
        if flips.size >= 2:
            frequency = (flips.size - 1) / (2 * float(flips[-1] - flips[0]))
        else:
            frequency = flips.size / 2 / duration
    elif peak <= MICROCURRENT_MAX_A:
        kind = "microcurrent"
    elif bipolar_runs > len(runs) / 2:
        kind = "biphasic-ems"
    else:
        kind = "pulsed-monophasic" if len(set(run_signs)) == 1 else "mixed"
    z = None
    if voltage is not None:
        v = np.asarray(voltage, dtype=float)
        if v.shape == i.shape and np.any(on):
            z = float(np.median(np.abs(v[on]) / np.abs(i[on])))
    mismatches = []
    if claimed is not None:
        if claimed not in CLAIMS:
            raise ValueError(f"unknown modality {claimed!r}; one of: {', '.join(sorted(CLAIMS))}")
        kinds, limit = CLAIMS[claimed]
        if kind not in kinds:
            mismatches.append(f"claimed {claimed} but the trace is {kind}")
        if peak > limit:
            mismatches.append(
                f"claimed {claimed} (<= {limit * 1e3:g} mA) but the peak is {peak * 1e3:.3g} mA"
            )
    return Analysis(
        kind=kind,
        dc_A=dc,
        rms_A=rms,
        peak_A=peak,
        frequency_Hz=float(frequency),
        duty=duty,
        net_C_per_s=dc,
        absolute_C_per_s=absolute,
        duration_s=duration,
        pulses=len(runs),
        mean_impedance_ohm=z,
        claimed=claimed,
        mismatches=mismatches,
    )


def read_trace(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Read a CSV trace with columns ``t_s,current_A[,voltage_V]`` (a header line, or
    ``#`` comments, allowed)."""
    rows: list[list[float]] = []
    names: list[str] = []
    with open(path) as f:
        for line in f:
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            if not names:
                names = [n.strip() for n in text.split(",")]
                continue
            rows.append([float(x) for x in text.split(",")])
    if not {"t_s", "current_A"} <= set(names):
        raise ValueError(f"{path}: needs columns t_s,current_A[,voltage_V]; found {names}")
    data = np.array(rows, dtype=float).reshape(-1, len(names))
    col = {n: data[:, k] for k, n in enumerate(names)}
    return col["t_s"], col["current_A"], col.get("voltage_V")
