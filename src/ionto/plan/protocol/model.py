"""The :class:`Protocol`: a sequence of steps, its text form and what it delivers.

Units: time in s, current in A, charge in C, current density in A/m^2, area in m^2.
``str(protocol)`` is the canonical text (one step per line, repeat bodies indented) and
``Protocol.parse(str(p)) == p`` for every protocol.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Literal, NamedTuple

from ionto.core.errors import ConfigError
from ionto.plan.protocol.steps import Pulse, Reverse, Step, _check_steps
from ionto.plan.protocol.timeline import Piece, Span, phases, pieces, spans

Polarity = Literal["anode", "cathode"]

MA_MIN = 0.06  # C in one mA*min
DEFAULT_AVERAGE_ABOVE = 50.0  # Hz: pulse trains faster than this are cycle-averaged


class Charge(NamedTuple):
    """Charge passed (C): ``absolute`` = integral of |i| dt, ``net`` = integral of i dt."""

    absolute: float
    net: float


class Segments(list[Piece]):
    """Piecewise-linear current density for the simulator: ``(duration s, start A/m^2,
    end A/m^2)`` pieces, positive = into the tissue at the active electrode (anodic).

    ``averaged`` is True when at least one pulse train was replaced by its cycle
    average (its frequency was above the threshold); ``notes`` says which.
    """

    def __init__(self, items: list[Piece], averaged: bool = False, notes: list[str] | None = None):
        super().__init__(items)
        self.averaged = averaged
        self.notes = notes or []


MAX_PIECES = 2e6  # pulse-by-pulse pieces to_segments will build before refusing


@dataclass(frozen=True)
class Protocol:
    """A treatment protocol: ``steps`` in order (see :mod:`ionto.plan.protocol.steps`)."""

    steps: tuple[Step, ...]

    def __post_init__(self) -> None:
        _check_steps("protocol.steps", self.steps)

    # ---------------------------------------------------------------- text

    @classmethod
    def parse(cls, text: str, source: str = "protocol") -> Protocol:
        """Parse protocol text (the grammar is in docs/planning.md).

        Raises :class:`ionto.plan.protocol.errors.ProtocolSyntaxError` whose ``field``
        is ``source``.
        """
        from ionto.plan.protocol.parser import parse

        return parse(text, source)

    def __str__(self) -> str:
        return "\n".join(str(step) for step in self.steps)

    def inline(self) -> str:
        """The canonical text on one line, steps separated by ``; ``."""
        return "; ".join(line.strip() for line in str(self).splitlines()).replace(":;", ":")

    # ---------------------------------------------------------------- timeline

    @cached_property
    def _timeline(self) -> tuple[Span, ...]:
        return tuple(spans(self.steps))

    def timeline(self) -> list[Span]:
        """Every executed step (repeats unrolled) with start time, levels and charge."""
        return list(self._timeline)

    @property
    def bounded(self) -> bool:
        """True when every step has a time or dose stop (the duration is known)."""
        return all(s.bounded for s in self.timeline())

    def _require_bounded(self) -> list[Span]:
        timeline = self.timeline()
        for s in timeline:
            if not s.bounded:
                raise ConfigError(
                    f"protocol {s.label}",
                    str(s.step),
                    None,
                    'a step with a time or dose stop ("for 10 min", "until 40 mA*min")',
                    f"{str(s.step)!r} has no time or dose stop, so its length is known only "
                    "while the session runs",
                )
        return timeline

    @property
    def duration(self) -> float:
        """Planned duration (s). ConfigError if a step is unbounded."""
        timeline = self._require_bounded()
        return sum(s.duration for s in timeline)

    @property
    def charge(self) -> Charge:
        """Charge passed (C), absolute and net. ConfigError if a step is unbounded."""
        timeline = self._require_bounded()
        return Charge(sum(s.absolute for s in timeline), sum(s.net for s in timeline))

    @property
    def dose_mAmin(self) -> float:
        """Dose in mA*min: the absolute charge divided by 0.06 C/(mA*min)."""
        return self.charge.absolute / MA_MIN

    @property
    def peak_current(self) -> float:
        """Largest |current| (A) of any step (pulse amplitude for pulse trains)."""
        return max((s.peak for s in self.timeline()), default=0.0)

    # ---------------------------------------------------------------- simulator

    def to_segments(
        self,
        area_m2: float,
        *,
        active: Polarity = "anode",
        average_above: float = DEFAULT_AVERAGE_ABOVE,
    ) -> Segments:
        """Current density pieces (s, A/m^2, A/m^2) over an electrode of ``area_m2`` (m^2).

        ``active`` is the polarity of the active electrode: the simulator's positive
        current density makes it the anode, so ``"cathode"`` flips every sign. Pulse
        trains at or below ``average_above`` (Hz) are expanded pulse by pulse; faster
        ones become one constant piece at their mean current (the result's ``averaged``
        flag is then True and ``notes`` names the steps). Zero-length pieces are dropped.
        """
        if not (isinstance(area_m2, (int, float)) and math.isfinite(area_m2) and area_m2 > 0):
            raise ConfigError("area", area_m2, "m^2", "> 0")
        if active not in ("anode", "cathode"):
            raise ConfigError("active", active, None, "one of: anode, cathode")
        sign = 1.0 if active == "anode" else -1.0
        scale = sign / area_m2
        out: list[Piece] = []
        notes: list[str] = []
        spans = self._require_bounded()
        count = 0.0
        for s in spans:
            if isinstance(s.step, (Pulse, Reverse)) and not (
                isinstance(s.step, Pulse) and s.step.frequency > average_above
            ):
                period = sum(width for width, _ in phases(s.step))
                count += 2.0 * s.duration / period
        if count > MAX_PIECES:
            raise ConfigError(
                "protocol",
                f"{count:.3g} pieces",
                None,
                f"at most {MAX_PIECES:g} pieces pulse by pulse",
                "the pulse trains or polarity reversals are too fine to expand one by one: "
                "lower average_above so fast trains are cycle-averaged, or coarsen the steps",
            )
        for s in spans:
            if isinstance(s.step, Pulse) and s.step.frequency > average_above:
                mean = s.net / s.duration
                out.append(Piece(s.duration, mean * scale, mean * scale))
                notes.append(
                    f"{s.label} ({s.step}) averaged over its cycles: "
                    f"{s.step.frequency:g} Hz > {average_above:g} Hz"
                )
                continue
            out.extend(
                Piece(p.duration, p.start * scale, p.end * scale)
                for p in pieces(s)
                if p.duration > 0
            )
        return Segments(out, averaged=bool(notes), notes=notes)
