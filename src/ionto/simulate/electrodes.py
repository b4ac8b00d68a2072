"""Electrode capacity: when a reactive electrode runs out, water electrolysis takes over.

An Ag/AgCl electrode passes anodic charge by turning silver into AgCl and cathodic charge
by turning AgCl back into silver. Its state is the net anodic charge a(t) (C/m^2) stored
as AgCl relative to the start, confined to [-cathodic_capacity, anodic_capacity]: at the
upper end the silver is spent and an anodic current oxidises water (H+); at the lower end
the AgCl is spent and a cathodic current reduces water (OH-). Under current control a(t)
is known in advance (the integral of a piecewise-linear current), so the control program
is split exactly where an electrode runs out, and every piece runs with fixed chemistry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ionto.simulate.problem import (
    ElectrodeBoundary,
    ElectrodeReaction,
    Problem,
    ReservoirBoundary,
    Segment,
)


@dataclass(frozen=True)
class Piece:
    """A stretch of the control with fixed electrode chemistry: ``segment`` starting at
    ``t_start`` (s), with the left and right electrodes spent (True) or not, as
    (anodic, cathodic) pairs."""

    segment: Segment
    t_start: float
    left: tuple[bool, bool] = (False, False)
    right: tuple[bool, bool] = (False, False)


def reaction_of(boundary: object) -> ElectrodeReaction | None:
    """The electrode reaction at a boundary, if any."""
    if isinstance(boundary, (ElectrodeBoundary, ReservoirBoundary)):
        return boundary.reaction
    return None


def _limited(reaction: ElectrodeReaction | None) -> bool:
    return reaction is not None and (
        reaction.anodic_capacity is not None or reaction.cathodic_capacity is not None
    )


class _Charge:
    """The clipped net anodic charge a(t) of one electrode (C/m^2)."""

    def __init__(self, reaction: ElectrodeReaction | None, sign: float) -> None:
        self.sign = sign  # +1: the electrode's anodic current is +i (left); -1 (right)
        self.upper = math.inf
        self.lower = -math.inf
        if reaction is not None:
            if reaction.anodic_capacity is not None:
                self.upper = reaction.anodic_capacity
            if reaction.cathodic_capacity is not None:
                self.lower = -reaction.cathodic_capacity
        self.a = 0.0

    def spent(self) -> tuple[bool, bool]:
        return (self.a >= self.upper, self.a <= self.lower)

    def crossings(self, seg: Segment) -> list[float]:
        """Times (s, from the segment start) inside the segment where a(t) reaches a
        bound while moving towards it."""
        s = self.sign * seg.start
        k = self.sign * (seg.end - seg.start) / seg.duration  # d(current)/dt
        out = []
        for bound in (self.upper, self.lower):
            if not math.isfinite(bound):
                continue
            # a + s t + k t^2 / 2 = bound
            gap = bound - self.a
            roots = _quadratic_roots(0.5 * k, s, -gap)
            out += [t for t in roots if 1e-12 * seg.duration < t < seg.duration * (1 - 1e-12)]
        return sorted(out)

    def advance(self, seg: Segment, dt: float) -> None:
        """a after dt seconds of ``seg`` (from its start), clipped to the bounds."""
        s = self.sign * seg.start
        k = self.sign * (seg.end - seg.start) / seg.duration
        self.a = min(self.upper, max(self.lower, self.a + s * dt + 0.5 * k * dt * dt))


def _quadratic_roots(a: float, b: float, c: float) -> list[float]:
    if abs(a) < 1e-300:
        return [] if b == 0 else [-c / b]
    disc = b * b - 4 * a * c
    if disc < 0:
        return []
    root = math.sqrt(disc)
    return [(-b - root) / (2 * a), (-b + root) / (2 * a)]


def schedule(problem: Problem) -> list[Piece]:
    """The control program split where a capacity-limited electrode runs out (or starts
    working again), each piece with its electrode states."""
    left_r, right_r = reaction_of(problem.left), reaction_of(problem.right)
    if not (_limited(left_r) or _limited(right_r)):
        pieces = []
        t = 0.0
        for seg in problem.control:
            pieces.append(Piece(seg, t))
            t += seg.duration
        return pieces
    if problem.compliance_voltage is not None:
        raise ValueError(
            "an electrode with a capacity behind a compliance-limited source is not "
            "supported yet (the charge it passes is not known in advance): drop the "
            "capacity or the compliance voltage"
        )
    if any(seg.mode == "voltage" for seg in problem.control):
        raise ValueError(
            "an electrode with a capacity under voltage control is not supported yet: "
            "give the control as current, or drop the capacity"
        )
    charges = (_Charge(left_r, 1.0), _Charge(right_r, -1.0))
    pieces = []
    t = 0.0
    for seg in problem.control:
        cuts = sorted({*charges[0].crossings(seg), *charges[1].crossings(seg)})
        bounds = [0.0, *cuts, seg.duration]
        slope = (seg.end - seg.start) / seg.duration
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            piece = Segment(hi - lo, seg.start + slope * lo, seg.start + slope * hi, seg.mode)
            # the state that holds over (lo, hi): look just inside the piece
            probe = [_Charge.__new__(_Charge) for _ in charges]
            for p, c in zip(probe, charges, strict=True):
                p.__dict__.update(c.__dict__)
                p.advance(piece, 0.5 * piece.duration)
            pieces.append(
                Piece(
                    piece,
                    t + lo,
                    _spent_while(probe[0], charges[0], piece),
                    _spent_while(probe[1], charges[1], piece),
                )
            )
            for c in charges:
                c.advance(piece, piece.duration)
        t += seg.duration
    return pieces


def _spent_while(mid: _Charge, start: _Charge, piece: Segment) -> tuple[bool, bool]:
    """Whether each direction is spent during a piece: at its bound at the midpoint (the
    clipped charge sits there), or starting at the bound and pushing further."""
    anodic = mid.a >= mid.upper or (start.a >= start.upper and start.sign * piece.start > 0)
    cathodic = mid.a <= mid.lower or (start.a <= start.lower and start.sign * piece.start < 0)
    return (anodic, cathodic)
