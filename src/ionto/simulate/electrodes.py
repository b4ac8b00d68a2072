"""Electrode capacity: when a reactive electrode runs out, water electrolysis takes over.

An Ag/AgCl electrode passes anodic charge by turning silver into AgCl and cathodic charge
by turning AgCl back into silver. Its state is the net anodic charge a(t) (C/m^2) stored
as AgCl relative to the start, confined to [-cathodic_capacity, anodic_capacity]: at the
upper end the silver is spent and an anodic current oxidises water (H+); at the lower end
the AgCl is spent and a cathodic current reduces water (OH-). Under current control a(t)
is known in advance (the integral of a piecewise-linear current), so the control program
is split exactly where an electrode runs out, and every piece runs with fixed chemistry.

Behind a current source with a compliance voltage the charge actually passed falls short
of the set current's while the source is held at its compliance, so a(t) is not known in
advance: the control is then split only where the set current changes sign, and a
:class:`ChargeTracker` follows a(t) during the integration (the simulation stops where an
electrode runs out: at the time computed from the set current under current control, at
an event on the charge quadrature while the source is held at its compliance).
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
    if any(seg.mode == "voltage" for seg in problem.control):
        raise ValueError(
            "an electrode with a capacity under voltage control is not supported yet: "
            "give the control as current, or drop the capacity"
        )
    if tracks_charge(problem):
        return _split_at_reversals(problem)
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


def tracks_charge(problem: Problem) -> bool:
    """True when an electrode has a capacity and the source a compliance voltage: the
    charge passed is then followed during the integration (:class:`ChargeTracker`), and
    the electrode flags of :func:`schedule`'s pieces are not used."""
    limited = _limited(reaction_of(problem.left)) or _limited(reaction_of(problem.right))
    return limited and problem.compliance_voltage is not None


def _split_at_reversals(problem: Problem) -> list[Piece]:
    """The control split where a ramp's set current changes sign, so every piece pushes
    each electrode one way (its flags are left unset: the simulation decides them)."""
    pieces = []
    t = 0.0
    for seg in problem.control:
        cut = None
        if seg.cycle is None and seg.start * seg.end < 0.0:
            cut = seg.duration * seg.start / (seg.start - seg.end)
        if cut is None or not 1e-12 * seg.duration < cut < seg.duration * (1 - 1e-12):
            pieces.append(Piece(seg, t))
        else:
            pieces.append(Piece(Segment(cut, seg.start, 0.0, seg.mode), t))
            rest = seg.duration - cut
            pieces.append(Piece(Segment(rest, 0.0, seg.end, seg.mode), t + cut))
        t += seg.duration
    return pieces


class ChargeTracker:
    """The clipped net anodic charge a (C/m^2) of both electrodes, followed during the
    integration when it is not known in advance (:func:`tracks_charge`). Charges are
    per m^2 of the first layer's area, as the current density i (A/m^2): the left
    electrode's anodic current is +i, the right one's -i."""

    def __init__(self, problem: Problem) -> None:
        self.charges = (
            _Charge(reaction_of(problem.left), 1.0),
            _Charge(reaction_of(problem.right), -1.0),
        )
        finite = [
            abs(b) for c in self.charges for b in (c.upper, c.lower) if math.isfinite(b) and b
        ]
        self.scale = min(finite, default=1.0)  # C/m^2: the smallest capacity

    def spent(self, direction: float) -> tuple[tuple[bool, bool], tuple[bool, bool]]:
        """(left, right) electrode flags (anodic, cathodic) for a stretch whose current
        density has the sign of ``direction``: a direction is spent when a sits at its
        bound and the current pushes further (or none flows, as the schedule has it)."""
        left, right = (
            (
                c.a >= c.upper and c.sign * direction >= 0,
                c.a <= c.lower and c.sign * direction <= 0,
            )
            for c in self.charges
        )
        return left, right

    def exhaustion(self, seg: Segment) -> float | None:
        """Time (s, from the start of ``seg``, a stretch of linear set current) at which
        an electrode first reaches a bound it is not yet at, or None."""
        times = []
        for c in self.charges:
            s = c.sign * seg.start
            k = c.sign * (seg.end - seg.start) / seg.duration  # d(current)/dt
            for bound in (c.upper, c.lower):
                if not math.isfinite(bound) or c.a == bound:
                    continue  # no capacity that way, or already spent
                # a + s t + k t^2 / 2 = bound
                roots = _quadratic_roots(0.5 * k, s, c.a - bound)
                times += [t for t in roots if 0.0 < t < seg.duration * (1 - 1e-12)]
        return min(times, default=None)

    def advance(self, seg: Segment, dt: float) -> None:
        """Follow dt seconds of the linear set current ``seg`` (from its start)."""
        for c in self.charges:
            c.advance(seg, dt)
        self._snap()

    def add(self, charge: float) -> None:
        """Follow a charge density ``charge`` = integral of i dt (C/m^2) passed."""
        for c in self.charges:
            c.a = min(c.upper, max(c.lower, c.a + c.sign * charge))
        self._snap()

    def gap(self, charge: float) -> float:
        """How far (C/m^2) the electrodes would be from the nearest bound they are not at
        after a further charge density ``charge``: <= 0 once one is reached; inf without
        such a bound."""
        out = math.inf
        for c in self.charges:
            a = c.a + c.sign * charge
            if math.isfinite(c.upper) and c.a < c.upper:
                out = min(out, c.upper - a)
            if math.isfinite(c.lower) and c.a > c.lower:
                out = min(out, a - c.lower)
        return out

    def _snap(self) -> None:
        """A charge within 1e-9 of a capacity has reached it (event location and the
        round-off of the quadrature stop that close)."""
        for c in self.charges:
            for bound in (c.upper, c.lower):
                if math.isfinite(bound) and abs(c.a - bound) <= 1e-9 * abs(bound):
                    c.a = bound
