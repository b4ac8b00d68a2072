"""Withdraw-and-replace sampling of a reservoir end (a diffusion cell's receptor).

At a sampling time, which falls on the start of a control segment (the integrator
restarts there anyway), the fraction f of the reservoir's volume is withdrawn and the
same volume of fresh solution added: the reservoir's component totals c become
(1 - f) c + f c_fresh. The net amount that left (withdrawn minus added, per balance
quantity, mol/m^2) is counted as flow out of that end of the stack (the left end's
inflow falls, the right end's outflow rises), so every balance and the charge balance
stay closed, and it is accumulated for the "withdrawn" report. The free concentrations
of an end with equilibria are solved again at the next segment's consistent start; the
fresh solution has the reservoir's ``initial_pH`` (its proton total is what that pH
implies, as for the initial contents).
Laboratories report the cumulative amount permeated as the amount now in the receptor
plus everything withdrawn with the samples: the "amount" report of the reservoir plus
the "withdrawn" report.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ionto.core.errors import ConfigError
from ionto.simulate.model import Model
from ionto.simulate.problem import Problem, ReservoirBoundary


@dataclass(frozen=True)
class _Sample:
    time: float  # s
    row: int  # 0 left end, 1 right end
    node: int  # compartment index of the reservoir
    fraction: float  # -
    fresh: np.ndarray  # component totals of the fresh solution (mol/m^3)


class Sampler:
    """The samplings of a problem, applied as the simulation passes their times."""

    def __init__(self, problem: Problem, model: Model, starts: np.ndarray) -> None:
        self.model = model
        self.withdrawn: np.ndarray | None = None  # (2, nbal) mol/m^2 once sampled
        t_end = float(starts[-1])
        self.tol = 1e-9 * max(1.0, t_end)
        comp = model.balance_names[: model.m]
        pending = []
        for k, smp in enumerate(problem.sampling):
            where = f"sampling[{k}]"
            end = problem.left if smp.side == "left" else problem.right
            if not isinstance(end, ReservoirBoundary):
                raise ConfigError(
                    f"{where}.side", smp.side, None, "an end whose boundary is a reservoir"
                )
            if not 0.0 < smp.fraction < 1.0:
                raise ConfigError(
                    f"{where}.fraction", smp.fraction, None, "0 < fraction < 1 of the volume"
                )
            inner = starts[1:-1]
            if inner.size == 0 or np.min(np.abs(inner - smp.time)) > self.tol:
                raise ConfigError(
                    f"{where}.time",
                    smp.time,
                    "s",
                    "the start of a control segment after the first",
                )
            unknown = sorted(set(smp.fresh) - set(comp))
            if unknown:
                raise ConfigError(f"{where}.fresh", unknown[0], None, "one of: " + ", ".join(comp))
            fresh = np.array([smp.fresh.get(name, 0.0) for name in comp])
            row = 0 if smp.side == "left" else 1
            end_model = model.left if row == 0 else model.right
            if model.r and np.isfinite(end_model.ph):
                # the fresh solution has the reservoir's initial pH: its proton total is
                # what that pH implies with the other totals (as for the initial contents)
                fresh = model.spec.state_from(
                    fresh[None, :], np.array([end_model.x_charge]), np.array([end_model.ph])
                )[0, : model.m]
            node = 0 if row == 0 else model.nc - 1
            pending.append(_Sample(smp.time, row, node, smp.fraction, fresh))
        self.pending = sorted(pending, key=lambda s: s.time)

    def apply(self, t: float, y: np.ndarray, q: np.ndarray) -> bool:
        """Apply every sampling due at ``t`` (s) to the compartment states ``y`` and the
        quadratures ``q`` in place; True when one was due (the state jumped)."""
        model = self.model
        sampled = False
        m, nb = model.m, model.nbal
        while self.pending and abs(self.pending[0].time - t) <= self.tol:
            smp = self.pending.pop(0)
            before = model.balance_amounts(y)
            y[smp.node, :m] = (1.0 - smp.fraction) * y[smp.node, :m] + smp.fraction * smp.fresh
            net = before - model.balance_amounts(y)
            if smp.row == 0:
                q[:nb] -= net  # less came in through the left end
            else:
                q[nb : 2 * nb] += net  # more went out through the right end
            if self.withdrawn is None:
                self.withdrawn = np.zeros((2, nb))
            self.withdrawn[smp.row] += net
            sampled = True
        return sampled

    def snapshot(self) -> np.ndarray | None:
        """A copy of the cumulative withdrawn amounts (None before the first sample)."""
        return None if self.withdrawn is None else self.withdrawn.copy()
