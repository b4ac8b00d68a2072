"""RODAS4: a stiffly accurate, L-stable Rosenbrock method of order 4(3) with a banded
Jacobian, for M dy/dt = f(t, y) with a positive diagonal M, plus quadrature states.

Coefficients: Hairer & Wanner, Solving ODEs II (1996), section IV.7 (``rodas.f``). A
Rosenbrock method needs one Jacobian and one banded LU per step and no Newton iteration,
which is what makes a sub-second run possible; SciPy's ``solve_ivp`` offers no Rosenbrock
method and no mass matrix, and its Python overhead per step is several times higher.

Quadrature states q' = g(y) are integrated with the same stages (their block of the
Jacobian is solved exactly), so linear invariants such as "amount in the stack plus
amount that left" are conserved to round-off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ionto.simulate._lapack import BandedLU

GAMMA = 0.25
A = (
    (),
    (1.544000000000000,),
    (0.9466785280815826, 0.2557011698983284),
    (3.314825187068521, 2.896124015972201, 0.9986419139977817),
    (1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950),
    (1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950, 1.0),
)
C = (
    (),
    (-5.668800000000000,),
    (-2.430093356833875, -0.2063599157091915),
    (-0.1073529058151375, -9.594562251023355, -20.47028614809616),
    (7.496443313967647, -10.24680431464352, -33.99990352819905, 11.70890893206160),
    (
        8.083246795921522,
        -7.981132988064893,
        -31.52159432874371,
        16.31930543123136,
        -6.058818238834054,
    ),
)
STAGE_TIME = (0.0, 0.386, 0.21, 0.63, 1.0, 1.0)
_A_MATRIX = np.zeros((6, 6))
_C_MATRIX = np.zeros((6, 6))
for _s in range(6):
    _A_MATRIX[_s, :_s] = A[_s]
    _C_MATRIX[_s, :_s] = C[_s]
_M_WEIGHTS = np.array([*A[5], 1.0])  # y1 = y0 + sum m_i U_i (stiffly accurate)
D = (0.25, -0.1043, 0.1035, -0.0362, 0.0, 0.0)
# safety factor of the step-size controller (Hairer's rodas: 0.9). Over the 31 scenarios of
# examples/, examples/validation/ and benchmarks/ (R2 aside) 0.85 takes as many step
# attempts as 0.9 (2120 against 2118) with a quarter fewer rejected steps (95 against 126);
# 0.8 takes 3 % more.
SAFETY = 0.85


class StepFailure(RuntimeError):
    """The integrator could not continue (step size underflow, too many steps).

    time: where it stopped (s); reason: "steps" or "underflow"."""

    def __init__(
        self, message: str, time: float, reason: str, state: np.ndarray | None = None
    ) -> None:
        super().__init__(message)
        self.time = time
        self.reason = reason
        self.state = state


class EventReached(Exception):  # noqa: N818 - a control-flow signal, not an error
    """An ``event`` of ``integrate_segment`` fired: the state (y, q) at time t, where the
    integration stopped, and the step size to try next."""

    def __init__(self, t: float, y: np.ndarray, q: np.ndarray, h: float) -> None:
        super().__init__(t)
        self.t = t
        self.y = y
        self.q = q
        self.h = h


@dataclass
class Stats:
    """Work counters of an integration."""

    steps: int = 0
    rejected: int = 0
    rhs_evaluations: int = 0
    factorizations: int = 0
    segments: int = 0
    projections: int = 0
    history: list[float] = field(default_factory=list)


@dataclass
class Linearization:
    """Jacobian of F at the step start: the banded part as values on the system's fixed
    ``pattern`` or, when the pattern is the dense block tridiagonal one (Model's), as its
    ``blocks`` (lower, diag, upper; each (nb, bs, bs), block j's couplings to blocks j - 1,
    j, j + 1), and an optional border of k extra unknowns coupled to everything (the
    current under voltage control, plasma concentrations)."""

    values: np.ndarray | None = None
    border_col: np.ndarray | None = None  # (n_band, k): dF_band / dx
    border_row: np.ndarray | None = None  # (k, n_band): dF_x / dZ
    border_corner: np.ndarray | None = None  # (k, k): dF_x / dx
    blocks: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def band_values(self) -> np.ndarray:
        """The banded part as values in the order of the block-tridiagonal pattern
        (lower blocks of rows 1.., diagonal blocks, upper blocks of rows ..nb-2)."""
        if self.values is not None:
            return self.values
        assert self.blocks is not None
        lower, diag, upper = self.blocks
        return np.concatenate([lower[1:].ravel(), diag.ravel(), upper[:-1].ravel()])


class BlockTridiagonalSystem(Protocol):
    """What the integrator needs from a model (see ``ionto.simulate.simulation``).
    States are flat vectors: nb * bs banded unknowns, then the border unknowns."""

    mass: np.ndarray  # diagonal of M for the flat state (zeros: algebraic rows)
    damped: np.ndarray  # components whose Newton steps are limited (potentials, logs)
    weight: np.ndarray  # weight of each component in the error norm (0: not controlled)
    logs: np.ndarray  # components that are ln c, c in the unit of atol (error rtol + atol / c)
    nb: int  # number of blocks
    bs: int  # block size; banded part couples neighbouring blocks only
    pattern: tuple[np.ndarray, np.ndarray]  # (rows, cols) of the Jacobian values

    def evaluate(self, t: float, y: np.ndarray, jac: bool) -> tuple[np.ndarray, np.ndarray, Any]:
        """F (flat), g (quadrature rates), and Jacobian data if ``jac``."""
        ...

    def linearize(self, data: Any) -> Linearization:
        """The Jacobian at the point of the last ``evaluate(..., jac=True)``."""
        ...

    def quadrature_jvp(self, data: Any, v: np.ndarray) -> np.ndarray:
        """dg/dy times v (flat)."""
        ...

    def time_derivative(self, t: float, data: Any) -> tuple[np.ndarray, np.ndarray] | None:
        """(dF/dt, dg/dt) at fixed state, or None when the system is autonomous."""
        ...

    def drift(self, t: float, y: np.ndarray) -> float:
        """How far the algebraic equations that need it (fast equilibria) are from being
        satisfied, relative to their scale; 0 when nothing needs watching."""
        ...


class _BandAssembler:
    """Scatter Jacobian values on a fixed pattern into LAPACK band storage of
    diag(shift) - J, with kl = ku = 2 bs - 1 (neighbouring blocks)."""

    def __init__(self, nb: int, bs: int, pattern: tuple[np.ndarray, np.ndarray]) -> None:
        self.kl = self.ku = 2 * bs - 1
        self.n = nb * bs
        nrows = 2 * self.kl + self.ku + 1
        self.shape = (nrows, self.n)
        rows, cols = pattern
        band_row = self.kl + self.ku + rows - cols
        if np.any(np.abs(rows - cols) > self.kl):
            raise ValueError("Jacobian pattern wider than the block-tridiagonal band")
        self.index = band_row + cols * nrows  # positions in the Fortran-ordered array
        self.diag_index = self.kl + self.ku + np.arange(self.n) * nrows

    def assemble(self, lin: Linearization, shift: np.ndarray) -> np.ndarray:
        """Band storage of diag(shift) - J (Fortran order: dgbtrf then copies nothing)."""
        ab = np.zeros(self.shape, order="F")
        flat = ab.ravel(order="F")
        if lin.blocks is not None:
            self._scatter_blocks(ab, lin.blocks)
        else:
            assert lin.values is not None
            flat[self.index] = -lin.values
        flat[self.diag_index] += shift
        return ab

    def _scatter_blocks(
        self, ab: np.ndarray, blocks: tuple[np.ndarray, np.ndarray, np.ndarray]
    ) -> None:
        """-J into band storage block column by block column: J[j bs + a, k bs + b] sits
        at ab[kl + ku + (j - k) bs + a - b, k bs + b], so for each b the bs entries of a
        block column are one contiguous run of a band column (3 bs strided copies
        instead of a scatter of every entry)."""
        lower, diag, upper = blocks
        nb, bs = diag.shape[0], diag.shape[1]
        view = ab.T.reshape(nb, bs, ab.shape[0])  # [k, b, band row] = ab[row, k bs + b]
        top = self.kl + self.ku
        for b in range(bs):
            r = top - b
            view[:, b, r : r + bs] = -diag[:, :, b]
            view[:-1, b, r + bs : r + 2 * bs] = -lower[1:, :, b]
            view[1:, b, r - bs : r] = -upper[:-1, :, b]


def _bordered_solver(
    lu: BandedLU, lin: Linearization, nband: int, shift: np.ndarray
) -> Callable[[np.ndarray], np.ndarray]:
    """Solver of [[A, -Bc], [-Br, M]] x = rhs, M = diag(shift) - Dc, A being the factored
    banded part (its shift minus the banded Jacobian) and Bc, Br, Dc the border of
    ``lin``: a Schur complement on the border unknowns.

    Border unknowns whose rows do not involve the banded unknowns (Br = 0) nor the other
    border unknowns (a conduction or perfusion state driven by the current alone) are
    solved first from their own rows, and their columns enter the banded solve as a known
    right-hand side; only the rest need A^-1 Bc, one banded solve per column per step."""
    if lin.border_col is None or lin.border_row is None:
        return lu.solve
    row, col = lin.border_row, lin.border_col
    k = row.shape[0]
    corner = lin.border_corner if lin.border_corner is not None else np.zeros((k, k))
    mat = np.diag(shift) - corner
    first = ~np.any(row != 0.0, axis=1)
    rest = ~first
    if not first.any() or np.any(mat[np.ix_(first, rest)] != 0.0):
        first = np.zeros(k, dtype=bool)
        rest = ~first
    col_first = col[:, first]
    m_rest_first = mat[np.ix_(rest, first)]
    row_rest = row[rest]
    x2 = lu.solve_many(col[:, rest]) if rest.any() else np.zeros((nband, 0))
    # the border blocks are a few unknowns: inverted once per factorisation, every stage's
    # border solve is then a few small products
    inv_first = np.linalg.inv(mat[np.ix_(first, first)]) if first.any() else None
    inv_schur = np.linalg.inv(mat[np.ix_(rest, rest)] - row_rest @ x2) if rest.any() else None

    def solve(rhs: np.ndarray) -> np.ndarray:
        r1, r2 = rhs[:nband], rhs[nband:]
        xi = np.empty(k)
        if inv_first is not None:
            xi[first] = inv_first @ r2[first]
            r1 = r1 + col_first @ xi[first]
        x1 = lu.solve(r1)
        if inv_schur is not None:
            xi_rest = inv_schur @ (r2[rest] - m_rest_first @ xi[first] + row_rest @ x1)
            xi[rest] = xi_rest
            x1 = x1 + x2 @ xi_rest
        return np.concatenate([x1, xi])

    return solve


def make_consistent(
    system: BlockTridiagonalSystem,
    t: float,
    y: np.ndarray,
    damped: np.ndarray,
    max_iter: int = 100,
) -> np.ndarray:
    """Solve the algebraic equations (rows with zero mass) for the algebraic unknowns,
    keeping the differential ones fixed: Newton with the banded (and bordered)
    Jacobian. Steps in the ``damped`` components (potentials, log-concentrations) are
    limited to 5 units per iteration.

    The Jacobian and its LU are reused while the iteration contracts fast (a chord
    Newton: each further iteration costs one residual and one solve instead of an
    assembly and a factorisation) and refreshed when a step falls by less than half;
    the converged state is the same (steps below 1e-12 relative either way)."""
    y = y.copy()
    alg = system.mass == 0.0
    asm = _BandAssembler(system.nb, system.bs, system.pattern)
    nband = asm.n
    pin = np.where(alg[:nband], 0.0, 1e30)  # differential unknowns stay put
    border_pin = np.where(alg[nband:], 0.0, 1e30)
    solve: Callable[[np.ndarray], np.ndarray] | None = None
    previous = np.inf
    for _ in range(max_iter):
        f, _, data = system.evaluate(t, y, solve is None)
        rhs = np.where(alg, f, 0.0)
        if solve is None:
            lin = system.linearize(data)
            lu = BandedLU(asm.assemble(lin, pin), asm.kl, asm.ku)
            solve = _bordered_solver(lu, lin, nband, border_pin)
        step = solve(rhs)
        if not np.all(np.isfinite(step)):
            raise FloatingPointError("non-finite Newton step for a consistent state")
        big = float(np.max(np.abs(step[damped]), initial=0.0))
        if big > 5.0:
            step *= 5.0 / big
        y[alg] += step[alg]
        size = float(np.max(np.abs(step[alg]) / (1.0 + np.abs(y[alg])), initial=0.0))
        if size <= 1e-12:
            return y
        if size > 0.5 * previous:
            solve = None  # slow contraction: a fresh Jacobian
        previous = size
    raise FloatingPointError("no consistent state (Newton did not converge)")


def _project(system: BlockTridiagonalSystem, t: float, y: np.ndarray) -> np.ndarray:
    """Restore the fast equilibria after a step: the system's local projection (each
    compartment's equilibria, then the face potentials) when it has one and it
    converges, else the global Newton projection of every algebraic unknown."""
    local = getattr(system, "equilibrate", None)
    if local is not None:
        fixed = local(t, y)
        if fixed is not None:
            return np.asarray(fixed)
    return make_consistent(system, t, y, system.damped)


def integrate_segment(
    system: BlockTridiagonalSystem,
    t0: float,
    t1: float,
    y: np.ndarray,
    q: np.ndarray,
    stops: list[float],
    on_stop: Callable[[float, np.ndarray, np.ndarray], None],
    rtol: float,
    atol: float,
    h0: float,
    stats: Stats,
    max_steps: int = 200_000,
    progress: Callable[[float], None] | None = None,
    max_step: float | None = None,
    on_step: Callable[[float, np.ndarray, float, np.ndarray], None] | None = None,
    event: Callable[[float, np.ndarray, np.ndarray, float, np.ndarray, np.ndarray], float | None]
    | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Integrate from t0 to t1 over a smooth stretch of the control, calling ``on_stop``
    at every time in ``stops`` (ascending, within (t0, t1]). Returns y, q at t1 and the
    step size to try next.

    ``event(t_prev, y_prev, q_prev, t, y, q)`` is asked after every accepted step (states
    and quadratures at both ends of the step); a returned offset
    s in [0, t - t_prev] means the step crossed an event at t_prev + s: the integration
    re-steps there (y and the quadratures) and raises :class:`EventReached`."""
    asm = _BandAssembler(system.nb, system.bs, system.pattern)
    mass = system.mass
    t = t0
    h = min(h0, t1 - t0)
    pending = [s for s in stops if t0 < s <= t1]
    if not pending or pending[-1] != t1:
        pending.append(t1)
    yf = y.copy()
    steps_here = 0
    # step-size control as in Hairer & Wanner's rodas: the predictive (Gustafsson)
    # controller, and no growth right after a rejected step
    h_acc, err_acc = 0.0, 1.0
    rejected_last = False
    while pending:
        target = pending[0]
        if max_step is not None:
            h = min(h, max_step)
        h = min(h, target - t)
        last = h >= target - t - 1e-12 * max(1.0, abs(target))
        if last:
            h = target - t
        outcome: tuple[np.ndarray, np.ndarray, float] | None
        try:
            outcome = _rodas_step(system, asm, mass, t, yf, q, h, rtol, atol, stats)
            err = outcome[2]
        except (FloatingPointError, np.linalg.LinAlgError, ZeroDivisionError):
            err = np.inf
            outcome = None
        steps_here += 1
        if steps_here > max_steps:
            raise StepFailure(
                f"more than {max_steps} steps between t = {t0:g} s and {t1:g} s", t, "steps", yf
            )
        if outcome is not None and np.isfinite(err) and err <= 1.0:
            t_new = target if last else t + h
            y_new = outcome[0]
            if system.drift(t_new, y_new) > 1e-2:
                # a linearly implicit step leaves nonlinear equilibria slightly off:
                # restore them (algebraic unknowns only, so balances are untouched); a
                # state too far off to be restored rejects the step like a large error
                try:
                    y_new = _project(system, t_new, y_new)
                except (FloatingPointError, np.linalg.LinAlgError, ZeroDivisionError):
                    err = np.inf
                stats.projections += 1
        if outcome is not None and np.isfinite(err) and err <= 1.0:
            t_prev, y_prev, q_prev = t, yf, q
            t = t_new
            yf, q = y_new, outcome[1]
            if event is not None:
                offset = event(t_prev, y_prev, q_prev, t, yf, q)
                if offset is not None:
                    if offset <= 0.0:
                        raise EventReached(t_prev, y_prev, q_prev, h)
                    y_e, q_e, _ = _rodas_step(
                        system, asm, mass, t_prev, y_prev, q_prev, offset, rtol, atol, stats
                    )
                    if system.drift(t_prev + offset, y_e) > 1e-2:
                        y_e = _project(system, t_prev + offset, y_e)
                    stats.steps += 1
                    raise EventReached(t_prev + offset, y_e, q_e, h)
            if on_step is not None:
                on_step(t_prev, y_prev, t, yf)
            stats.steps += 1
            if progress is not None:
                progress(t)
            quot = min(5.0, max(1.0 / 6.0, max(err, 1e-10) ** 0.25 / SAFETY))
            if h_acc > 0.0:
                gus = (h_acc / h) * (max(err, 1e-10) ** 2 / err_acc) ** 0.25 / SAFETY
                quot = max(quot, min(5.0, max(1.0 / 6.0, gus)))
            h_acc, err_acc = h, max(1e-2, err)
            h_next = h / quot
            if rejected_last:
                h_next = min(h_next, h)
            rejected_last = False
            if last:
                pending.pop(0)
                on_stop(t, yf, q)
                h = max(h_next, h)
            else:
                h = h_next
        else:
            stats.rejected += 1
            rejected_last = True
            fac = SAFETY * (err**-0.25) if np.isfinite(err) else 0.1
            h *= min(0.5, max(0.1, fac))
            if h < 1e-14 * max(1.0, abs(t)):
                raise StepFailure(
                    "the step size fell below round-off (the state became non-finite or the "
                    "error estimate would not fall)",
                    t,
                    "underflow",
                    yf,
                )
    return yf, q, h


def take_step(
    system: BlockTridiagonalSystem, t: float, y: np.ndarray, q: np.ndarray, h: float
) -> np.ndarray:
    """One RODAS4 step of size h from (t, y) without error control (event location)."""
    return step_with_quadratures(system, t, y, q, h)[0]


def step_with_quadratures(
    system: BlockTridiagonalSystem, t: float, y: np.ndarray, q: np.ndarray, h: float
) -> tuple[np.ndarray, np.ndarray]:
    """One RODAS4 step of size h from (t, y, q) without error control: (y, q) at t + h."""
    asm = _BandAssembler(system.nb, system.bs, system.pattern)
    y_new, q_new, _ = _rodas_step(system, asm, system.mass, t, y, q, h, 1.0, 1.0, Stats())
    return y_new, q_new


def _rodas_step(
    system: BlockTridiagonalSystem,
    asm: _BandAssembler,
    mass: np.ndarray,
    t: float,
    y: np.ndarray,
    q: np.ndarray,
    h: float,
    rtol: float,
    atol: float,
    stats: Stats,
) -> tuple[np.ndarray, np.ndarray, float]:
    f0, g0, data = system.evaluate(t, y, True)
    stats.rhs_evaluations += 1
    lin = system.linearize(data)
    gh = GAMMA * h
    nband = asm.n
    lu = BandedLU(asm.assemble(lin, mass[:nband] / gh), asm.kl, asm.ku)
    stats.factorizations += 1
    solve = _bordered_solver(lu, lin, nband, mass[nband:] / gh)

    deriv = system.time_derivative(t, data)
    n, nq = y.size, q.size
    us = np.empty((6, n))  # stage increments, stacked so combinations are one matmul
    uqs = np.empty((6, nq))
    a_mat, c_mat = _A_MATRIX, _C_MATRIX / h
    for s in range(6):
        if s == 0:
            fs, gs = f0, g0
        else:
            ys = y + a_mat[s, :s] @ us[:s]
            fs, gs, _ = system.evaluate(t + STAGE_TIME[s] * h, ys, False)
            stats.rhs_evaluations += 1
        if s > 0:
            rhs = fs + mass * (c_mat[s, :s] @ us[:s])
            rhs_q = gs + c_mat[s, :s] @ uqs[:s]
        else:
            rhs, rhs_q = fs.copy(), gs.copy()
        if deriv is not None and D[s] != 0.0:
            rhs += (D[s] * h) * deriv[0]
            rhs_q += (D[s] * h) * deriv[1]
        # a trial step far outside the physical range (one the controller will reject)
        # may produce non-finite values in the solve: checked here, not warned about
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            u_new = solve(rhs)
        if not np.all(np.isfinite(u_new)):
            raise FloatingPointError("non-finite stage")
        us[s] = u_new
        uqs[s] = gh * (rhs_q + system.quadrature_jvp(data, u_new))
    y_new = y + _M_WEIGHTS @ us
    q_new = q + _M_WEIGHTS @ uqs
    # volume-weighted RMS: an L2 norm in space, so the many tiny cells at interfaces
    # do not dominate step-size selection over the bulk they are a sliver of. A
    # log-concentration L = ln c is held to the concentration tolerance translated into ln
    # units, dc / c = rtol + atol / c: relative accuracy where c is well above atol, no
    # more than atol's absolute accuracy where c is a trace.
    sel = system.weight > 0
    w = system.weight[sel]
    ys, ys_new = y[sel], y_new[sel]
    scale = atol + rtol * np.maximum(np.abs(ys), np.abs(ys_new))
    logs = system.logs[sel]
    if logs.any():
        top = np.maximum(np.maximum(ys[logs], ys_new[logs]), -700.0)
        scale[logs] = rtol + atol * np.exp(-top)
    with np.errstate(over="ignore", invalid="ignore"):
        err = float(np.sqrt(np.sum(w * (us[5][sel] / scale) ** 2) / np.sum(w)))
    if not np.isfinite(err):
        err = np.inf
    return y_new, q_new, err
