"""Speciation: conserved totals and instantaneous (fast) equilibria.

Species split into *primary* species and *secondary* ones, each secondary being in
equilibrium with primaries by mass action, c_s = K_s prod_p c_p^nu_sp. Every primary
species except the electroneutrality one defines a conserved total (a *component*),
T_p = c_p + sum_s nu_sp c_s, which only transport and slow sources change; e.g. with
water and phosphate, the proton total is H+ - OH- + H2PO4-. Primaries that take part in
an equilibrium are *reactive*: their concentrations are algebraic unknowns fixed by
T_p = c_p + sum_s nu_sp c_s. H+ and any primary with a negative or fractional exponent
is carried as ln c (pH spans many decades and Kw/H+ needs H+ > 0); the others (conjugate
bases, ligands) as c itself, so that a total of zero is no singularity. Without
equilibria every total is simply the species' concentration and nothing here costs
anything.

Because every equilibrium conserves charge (z_s = sum_p nu_sp z_p), the charge of a total
is that of its primary species, so the electroneutrality species follows linearly from
the totals: c_en = -(X + sum_p z_p T_p) / z_en. Units: mol/m^3.

Written by hand because the problem is tiny and structured (a few species per cell,
vectorised over cells); general geochemistry packages would be far heavier than the
mass-action algebra used here.
"""

from __future__ import annotations

import math

import numpy as np

from ionto.simulate.problem import Problem

H_PLUS = "H+"


def ph_to_concentration(ph: float) -> float:
    """Free H+ concentration (mol/m^3) of a pH (-log10 of mol/L)."""
    return 1000.0 * 10.0 ** (-ph)


class Speciation:
    """Components, mass action and their derivatives for one problem.

    Attributes: ``n`` species; ``en`` electroneutrality species index; ``comp`` species
    index of the primary of each component (m,); ``reactive`` species indices of the
    reactive primaries (r,); ``secondary`` species indices (s,); ``A`` (m, n) component
    matrix; ``nu`` (s, r) exponents; ``log_k`` (s,); ``zp`` (m,) component charges.
    The per-compartment state is [T (m), L (r)] with L = ln c of the reactive primaries.
    """

    def __init__(self, problem: Problem) -> None:
        names = [sp.name for sp in problem.species]
        self.names = names
        self.n = len(names)
        self.z = np.array([sp.charge for sp in problem.species], dtype=float)
        self.en = names.index(problem.electroneutral_species)
        products = [eq.product for eq in problem.equilibria]
        secondary = [names.index(p) for p in products]
        reactive_names: list[str] = []
        for eq in problem.equilibria:
            for r in eq.reactants:
                if r not in reactive_names:
                    reactive_names.append(r)
        self.reactive = np.array([names.index(r) for r in reactive_names], dtype=int)
        self.secondary = np.array(secondary, dtype=int)
        primaries = [k for k in range(self.n) if k not in secondary]
        self.comp = np.array([k for k in primaries if k != self.en], dtype=int)
        self.m = self.comp.size
        self.r = self.reactive.size
        self.has_equilibria = bool(problem.equilibria)
        comp_of = {int(k): j for j, k in enumerate(self.comp)}
        self.A = np.zeros((self.m, self.n))
        for j, k in enumerate(self.comp):
            self.A[j, k] = 1.0
        self.nu = np.zeros((self.secondary.size, self.r))
        self.log_k = np.zeros(self.secondary.size)
        for s_idx, eq in enumerate(problem.equilibria):
            self.log_k[s_idx] = math.log(eq.constant)
            for r_name, exponent in eq.reactants.items():
                rho = reactive_names.index(r_name)
                self.nu[s_idx, rho] = exponent
                self.A[comp_of[names.index(r_name)], self.secondary[s_idx]] = exponent
        self.zp = self.z[self.comp]
        self.log_var = np.array(
            [
                names[int(k)] == H_PLUS
                or bool(
                    np.any((self.nu[:, rho] < 0) | (self.nu[:, rho] != np.round(self.nu[:, rho])))
                )
                for rho, k in enumerate(self.reactive)
            ],
            dtype=bool,
        )
        self._lin = np.nonzero(~self.log_var)[0]
        self._log = np.nonzero(self.log_var)[0]
        self.z_en = float(self.z[self.en])
        # which component each reactive primary belongs to, and the unreactive ones
        self.reactive_comp = np.array([comp_of[int(k)] for k in self.reactive], dtype=int)
        mask = np.ones(self.m, dtype=bool)
        mask[self.reactive_comp] = False
        self.unreactive_comp = np.nonzero(mask)[0]
        self.unreactive = self.comp[self.unreactive_comp]
        self.nstate = self.m + self.r
        self._proj = self._constant_projection()
        self._nu_log_t = self.nu[:, self._log].T.copy()
        # per linear primary: the secondaries it enters with exponent 1 (a product), and
        # the others with their exponents, for mass action (powers) and for its partial
        # derivative (powers reduced by one for itself)
        self._powers = [self._power_terms(self.nu[:, rho]) for rho in self._lin]
        self._partial_powers = [
            [self._power_terms(self.nu[:, q] - (1.0 if q == rho else 0.0)) for q in self._lin]
            for rho in self._lin
        ]

    @staticmethod
    def _power_terms(power: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(secondaries with exponent 1, secondaries with another positive or negative
        nonzero exponent, those exponents) of one primary."""
        ones = np.flatnonzero(power == 1.0)
        others = np.flatnonzero((power != 0.0) & (power != 1.0))
        return ones, others, power[others]

    def component_index(self, species: str) -> int | None:
        """Component whose primary is ``species`` (None for secondaries and the
        electroneutrality species)."""
        k = self.names.index(species)
        hits = np.nonzero(self.comp == k)[0]
        return int(hits[0]) if hits.size else None

    # ------------------------------------------------------------------ mass action
    def concentrations(self, state: np.ndarray, fixed_charge: np.ndarray) -> np.ndarray:
        """Species concentrations (cells, n) from states (cells, m + r)."""
        t = state[:, : self.m]
        c = np.empty((state.shape[0], self.n))
        c[:, self.unreactive] = t[:, self.unreactive_comp]
        if self.r:
            var = state[:, self.m :]
            free = np.empty_like(var)
            free[:, self._log] = np.exp(var[:, self._log])
            free[:, self._lin] = var[:, self._lin]
            c[:, self.reactive] = free
            c[:, self.secondary] = self._secondary(var, free)
        c[:, self.en] = -(fixed_charge + t @ self.zp) / self.z_en
        return c

    def _secondary(self, var: np.ndarray, free: np.ndarray) -> np.ndarray:
        """Mass action: exp(log K + nu_log . ln c) * prod over linear primaries c^nu."""
        out = np.exp(self.log_k + var[:, self._log] @ self._nu_log_t)
        for k, rho in enumerate(self._lin):
            ones, others, powers = self._powers[k]
            if ones.size:  # the usual case (a conjugate base): a product, no power
                out[:, ones] *= free[:, rho, None]
            if others.size:
                out[:, others] *= free[:, rho, None] ** powers
        return out

    def _constant_projection(self) -> np.ndarray:
        proj = np.zeros((self.n, self.nstate))
        proj[self.unreactive, self.unreactive_comp] = 1.0
        proj[self.en, : self.m] = -self.zp / self.z_en
        return proj

    def derivatives(self, c: np.ndarray) -> np.ndarray:
        """dc/dstate (cells, n, m + r); constant without equilibria."""
        if not self.r:
            return np.broadcast_to(self._proj, (c.shape[0], *self._proj.shape))
        p = np.repeat(self._proj[None], c.shape[0], axis=0)
        cols = self.m + np.arange(self.r)
        free = c[:, self.reactive]
        p[:, self.reactive, cols] = np.where(self.log_var, free, 1.0)
        sec = c[:, self.secondary]
        for rho in range(self.r):
            col = self.m + rho
            nu = self.nu[:, rho]
            if self.log_var[rho]:
                p[:, self.secondary, col] = sec * nu
            else:  # d/dc of c^nu * rest, without dividing by c (c may be 0)
                p[:, self.secondary, col] = self._partial_linear(c, rho) * nu
        return p

    def free_jacobian(self, c: np.ndarray) -> np.ndarray:
        """Derivative of ``equilibrium_residual`` by the free-concentration unknowns L
        alone (cells, r, r), at fixed totals: the Jacobian of the per-compartment Newton
        iterations, without the total columns that ``derivatives`` also builds."""
        free = c[:, self.reactive]
        dfree = np.where(self.log_var, free, 1.0)  # d c_rho / d L_rho
        sec = c[:, self.secondary]
        dsec = np.empty((c.shape[0], self.secondary.size, self.r))
        for rho in range(self.r):
            if self.log_var[rho]:
                dsec[:, :, rho] = sec * self.nu[:, rho]
            else:
                dsec[:, :, rho] = self._partial_linear(c, rho) * self.nu[:, rho]
        a = self.A[self.reactive_comp]
        return np.asarray(-(a[:, self.reactive] * dfree[:, None, :] + a[:, self.secondary] @ dsec))

    def _partial_linear(self, c: np.ndarray, rho: int) -> np.ndarray:
        """c_s / c_rho computed without division: mass action with rho's exponent reduced
        by one (cells, s); rho is a linear (non-log) primary."""
        free = c[:, self.reactive]
        out = np.exp(self.log_k + np.log(free[:, self._log]) @ self._nu_log_t)
        terms = self._partial_powers[int(np.flatnonzero(self._lin == rho)[0])]
        for k, q in enumerate(self._lin):
            ones, others, powers = terms[k]
            if ones.size:
                out[:, ones] *= free[:, q, None]
            positive = powers > 0.0  # a zero exponent left after the reduction is 1
            if np.any(positive):
                out[:, others[positive]] *= free[:, q, None] ** powers[positive]
        return out

    def equilibrium_residual(self, state: np.ndarray, c: np.ndarray) -> np.ndarray:
        """T_p - (A c)_p for the reactive primaries (cells, r), mol/m^3."""
        t = state[:, self.reactive_comp]
        return np.asarray(t - c @ self.A[self.reactive_comp].T)

    def equilibrium_jacobian(self, dc: np.ndarray) -> np.ndarray:
        """Derivative of ``equilibrium_residual`` by the state (cells, r, m + r)."""
        jac = -np.tensordot(dc, self.A[self.reactive_comp], axes=([1], [1])).transpose(0, 2, 1)
        jac[:, np.arange(self.r), self.reactive_comp] += 1.0
        return np.asarray(jac)

    def equilibrate(
        self, state: np.ndarray, fixed_charge: np.ndarray, max_iter: int = 50
    ) -> np.ndarray | None:
        """States (cells, m + r) with the free concentrations of the reactive primaries
        re-solved from the totals, which are kept: a Newton iteration on each cell's
        r unknowns (the fast equilibria are local to a compartment, so this is a set of
        independent r x r systems, vectorised over cells), starting from the given
        values. None if it does not converge (the caller then projects globally)."""
        out = state.copy()
        var = out[:, self.m :]
        for _ in range(max_iter):
            c = self.concentrations(out, fixed_charge)
            res = self.equilibrium_residual(out, c)
            jac = self.free_jacobian(c)
            try:
                step = -np.linalg.solve(jac, res[..., None])[..., 0]
            except np.linalg.LinAlgError:
                return None
            if not np.all(np.isfinite(step)):
                return None
            np.clip(step, -2.0, 2.0, out=step)
            var += step
            if np.all(np.abs(step) <= 1e-12 * (1.0 + np.abs(var))):
                return out
        return None

    # ------------------------------------------------------------------ set-up solves
    def state_from(
        self,
        totals: np.ndarray,
        fixed_charge: np.ndarray,
        ph: np.ndarray | None = None,
    ) -> np.ndarray:
        """States (cells, m + r) for given totals (cells, m) of every component; where
        ``ph`` (cells,) is finite, the free H+ is fixed at that pH and the proton total
        is replaced by what it implies. Newton on ln c, vectorised over cells."""
        cells = totals.shape[0]
        state = np.zeros((cells, self.nstate))
        state[:, : self.m] = totals
        if not self.r:
            return state
        fix_h = np.zeros(cells, dtype=bool)
        h_rho = -1
        if ph is not None and H_PLUS in self.names:
            k_h = self.names.index(H_PLUS)
            hits = np.nonzero(self.reactive == k_h)[0]
            if hits.size:
                h_rho = int(hits[0])
                fix_h = np.isfinite(ph)
        guess = totals[:, self.reactive_comp]
        log_c = np.where(self.log_var, np.log(np.maximum(np.abs(guess), 1e-6)), guess)
        if h_rho >= 0:
            assert ph is not None
            log_c[fix_h, h_rho] = np.log(1000.0 * 10.0 ** (-ph[fix_h]))
        for _ in range(200):
            state[:, self.m :] = log_c
            c = self.concentrations(state, fixed_charge)
            res = self.equilibrium_residual(state, c)
            jac = self.free_jacobian(c)
            if h_rho >= 0:
                # a fixed pH replaces that row by d(ln H) = 0
                res[fix_h, h_rho] = 0.0
                jac[fix_h, h_rho, :] = 0.0
                jac[fix_h, h_rho, h_rho] = 1.0
            step = -np.linalg.solve(jac, res[..., None])[..., 0]
            np.clip(step, -2.0, 2.0, out=step)
            log_c += step
            if np.all(np.abs(step) < 1e-13):
                break
        else:
            raise ValueError("the initial speciation did not converge")
        state[:, self.m :] = log_c
        if h_rho >= 0 and fix_h.any():
            c = self.concentrations(state, fixed_charge)
            comp_h = self.reactive_comp[h_rho]
            state[fix_h, comp_h] = (c @ self.A[comp_h])[fix_h]
        return state
