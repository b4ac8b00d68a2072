"""The discretised electroneutral Nernst-Planck model: right-hand side and Jacobian.

Finite volumes on a chain of compartments (well-mixed reservoirs and mesh cells). The
state is the concentration of every species except the electroneutrality species, whose
concentration follows from sum_k z_k c_k + X = 0 in each compartment. The potential is
eliminated face by face: with the current uniform in depth (galvanostatic: i(t) given),
each face's potential step solves F sum_k z_k N_k = i (``fluxes.solve_face_potential``),
and the flux of the electroneutrality species is defined from the same condition, so
charge is conserved to round-off by construction.

The system is M dy/dt = f(y) with M = diag(compartment volume per area, m), plus
quadrature states q' = g(y) that accumulate boundary fluxes, exchange with the blood and
reactions per species. They let every balance be checked to round-off and give cleared
amounts exactly as the time integrator sees them. Units: y mol/m^3, f mol/(m^2 s).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ionto.simulate.fluxes import bernoulli, bernoulli_and_derivative, solve_face_potential
from ionto.simulate.mesh import Mesh
from ionto.simulate.problem import (
    FARADAY,
    GAS_CONSTANT,
    ElectrodeBoundary,
    ElectrodeReaction,
    FixedBoundary,
    NoFluxBoundary,
    Problem,
    ReservoirBoundary,
)


def layer_indicators(problem: Problem, x: np.ndarray) -> np.ndarray:
    """Weights (layers, len(x)) of each layer at positions x: tanh steps of width
    ``problem.smoothing`` between layers, or sharp steps (interfaces count to the left)."""
    bounds = problem.layer_bounds()
    n = len(bounds)
    w = problem.smoothing
    ind = np.zeros((n, x.size))
    if n == 1:
        ind[0] = 1.0
        return ind
    for idx, (a, b) in enumerate(bounds):
        if w > 0:
            left = 1.0 if idx == 0 else 0.5 * (1.0 + np.tanh((x - a) / w))
            right = 1.0 if idx == n - 1 else 0.5 * (1.0 - np.tanh((x - b) / w))
            ind[idx] = left * right if (idx == 0 or idx == n - 1) else (
                0.5 * (np.tanh((x - a) / w) - np.tanh((x - b) / w))
            )
        else:
            lo = -np.inf if idx == 0 else a
            hi = np.inf if idx == n - 1 else b
            ind[idx] = ((x > lo) & (x <= hi)).astype(float)
    return ind


def _stoichiometry(reaction: ElectrodeReaction | None, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    anodic = np.zeros(len(names))
    cathodic = np.zeros(len(names))
    if reaction is not None:
        for name, nu in reaction.anodic.items():
            anodic[names.index(name)] = nu
        for name, nu in reaction.cathodic.items():
            cathodic[names.index(name)] = nu
    return anodic, cathodic


@dataclass
class _Outer:
    """One outer face. kind "flux": prescribed electrode flux (stoichiometry, may be
    zero); kind "fixed": SG face to a node of fixed concentration ``c`` (all species)."""

    kind: str
    anodic: np.ndarray
    cathodic: np.ndarray
    c: np.ndarray
    d_over: np.ndarray  # D/d for the fixed half-cell face (m/s)
    drift: np.ndarray  # d/D (s/m): Peclet = v * drift
    x_charge: float  # fixed charge at the boundary position (mol/m^3)


class Model:
    """Discretisation of a Problem on a Mesh.

    Attributes (SI): ``volumes`` (compartments,) m; ``centres`` compartment positions m
    (reservoirs at the boundary position); ``z`` charges; ``other`` indices of the
    integrated species; ``en`` index of the electroneutrality species.
    """

    def __init__(self, problem: Problem, mesh: Mesh) -> None:
        self.problem = problem
        self.mesh = mesh
        names = [sp.name for sp in problem.species]
        self.names = names
        n = len(names)
        self.n = n
        self.en = names.index(problem.electroneutral_species)
        self.other = np.array([k for k in range(n) if k != self.en], dtype=int)
        self.m = n - 1
        self.z = np.array([sp.charge for sp in problem.species], dtype=float)
        self.z_en = self.z[self.en]
        self.z_other = self.z[self.other]
        self.f_t = FARADAY / (GAS_CONSTANT * problem.temperature)
        d_w = np.array([sp.diffusivity for sp in problem.species])

        layers = problem.layers
        factor = np.array(
            [[layer.diffusivity_factors.get(nm, layer.diffusivity_factor) for nm in names] for layer in layers]
        )  # (layers, n)
        x_c = mesh.centres
        ind_c = layer_indicators(problem, x_c)  # (layers, cells)
        fixed = np.array([layer.fixed_charge for layer in layers])
        kex = np.array([layer.exchange_rate for layer in layers])
        init = np.array([[layer.initial.get(nm, 0.0) for nm in names] for layer in layers])

        cell_x = ind_c.T @ fixed
        cell_kex = ind_c.T @ kex
        cell_init = ind_c.T @ init  # (cells, n)
        cell_d = (ind_c.T @ factor) * d_w  # (cells, n) D at centres

        # faces between cells: D evaluated at the face (smooth) or harmonic (sharp)
        h = mesh.widths
        inner_faces = mesh.faces[1:-1]
        dist_inner = 0.5 * (h[1:] + h[:-1])
        if problem.smoothing > 0:
            face_d = (layer_indicators(problem, inner_faces).T @ factor) * d_w
        else:
            face_d = dist_inner[:, None] / (0.5 * h[:-1, None] / cell_d[:-1] + 0.5 * h[1:, None] / cell_d[1:])
        d_over_cells = face_d / dist_inner[:, None]
        drift_cells = dist_inner[:, None] / face_d

        # boundary positions: fixed charge and half-cell D
        ends = np.array([0.0, problem.length])
        ind_e = layer_indicators(problem, ends)
        x_ends = ind_e.T @ fixed
        d_ends = (ind_e.T @ factor) * d_w
        self.x_ends = x_ends
        if problem.smoothing <= 0:
            d_ends = np.vstack([cell_d[0], cell_d[-1]])

        volumes = [h]
        x_fix = [cell_x]
        k_ex = [cell_kex]
        c0 = [cell_init]
        positions = [x_c]
        d_over_list = [d_over_cells]
        drift_list = [drift_cells]
        self.left_reservoir = isinstance(problem.left, ReservoirBoundary)
        self.right_reservoir = isinstance(problem.right, ReservoirBoundary)
        half = [0.5 * h[0], 0.5 * h[-1]]
        if isinstance(problem.left, ReservoirBoundary):
            res = problem.left
            volumes.insert(0, np.array([res.volume_per_area]))
            x_fix.insert(0, np.array([x_ends[0]]))
            k_ex.insert(0, np.zeros(1))
            c0.insert(0, np.array([[res.initial.get(nm, 0.0) for nm in names]]))
            positions.insert(0, np.array([0.0]))
            d_over_list.insert(0, (d_ends[0] / half[0])[None, :])
            drift_list.insert(0, (half[0] / d_ends[0])[None, :])
        if isinstance(problem.right, ReservoirBoundary):
            res = problem.right
            volumes.append(np.array([res.volume_per_area]))
            x_fix.append(np.array([x_ends[1]]))
            k_ex.append(np.zeros(1))
            c0.append(np.array([[res.initial.get(nm, 0.0) for nm in names]]))
            positions.append(np.array([problem.length]))
            d_over_list.append((d_ends[1] / half[1])[None, :])
            drift_list.append((half[1] / d_ends[1])[None, :])
        self.volumes = np.concatenate(volumes)
        self.fixed_charge = np.concatenate(x_fix)
        self.kex = np.concatenate(k_ex)
        self.centres = np.concatenate(positions)
        self.nc = self.volumes.size
        self.cell_offset = 1 if self.left_reservoir else 0
        c_init = np.concatenate(c0)
        self.y0 = c_init[:, self.other].copy()

        self.c_ext = np.array([problem.exchange_concentrations.get(nm, 0.0) for nm in names])

        # reactions: per compartment rate for each reaction
        self.reactions = []
        for rx in problem.reactions:
            rates = np.array([layer.reaction_rates.get(rx.name, 0.0) for layer in layers])
            cell_rate = ind_c.T @ rates
            full = np.zeros(self.nc)
            full[self.cell_offset : self.cell_offset + mesh.n_cells] = cell_rate
            a = int(np.where(self.other == names.index(rx.reactant))[0][0])
            b = int(np.where(self.other == names.index(rx.product))[0][0])
            self.reactions.append((a, b, full))

        # outer faces
        self.left = self._outer(problem.left, 0, d_ends[0], half[0], x_ends[0])
        self.right = self._outer(problem.right, 1, d_ends[1], half[1], x_ends[1])

        # all faces: 0 = left outer, 1..nc-1 inner, nc = right outer
        nf = self.nc + 1
        self.d_over = np.zeros((nf, n))
        self.drift = np.zeros((nf, n))
        self.d_over[1:-1] = np.concatenate(d_over_list)
        self.drift[1:-1] = np.concatenate(drift_list)
        solved = list(range(1, nf - 1))
        if self.left.kind == "fixed":
            self.d_over[0], self.drift[0] = self.left.d_over, self.left.drift
            solved.insert(0, 0)
        if self.right.kind == "fixed":
            self.d_over[-1], self.drift[-1] = self.right.d_over, self.right.drift
            solved.append(nf - 1)
        self.solved = np.array(solved, dtype=int)
        self.left_solved = self.left.kind == "fixed"
        self.right_solved = self.right.kind == "fixed"
        self._u_guess = np.zeros(self.solved.size)
        self.eo = problem.electroosmotic_coefficient
        self.initial_total = self.amounts(self.y0)

    # ------------------------------------------------------------------ set-up helpers
    def _outer(self, boundary: object, side: int, d_end: np.ndarray, half: float, x_end: float) -> _Outer:
        n = self.n
        zeros = np.zeros(n)
        if isinstance(boundary, FixedBoundary):
            c = np.array([boundary.concentrations.get(nm, 0.0) for nm in self.names])
            c[self.en] = 0.0
            c[self.en] = -(x_end + float(self.z @ c)) / self.z_en
            return _Outer("fixed", zeros, zeros, c, d_end / half, half / d_end, x_end)
        if isinstance(boundary, ElectrodeBoundary):
            an, ca = _stoichiometry(boundary.reaction, self.names)
        elif isinstance(boundary, ReservoirBoundary):
            an, ca = _stoichiometry(boundary.reaction, self.names)
        elif isinstance(boundary, NoFluxBoundary):
            an, ca = zeros, zeros
        else:  # pragma: no cover - the Boundary union is closed
            raise TypeError(boundary)
        return _Outer("flux", an, ca, zeros, d_end / half, half / d_end, x_end)

    def electrode_flux(self, outer: _Outer, anodic_current: float) -> np.ndarray:
        """Species released into the medium (mol/(m^2 s)) by an electrode passing the
        given anodic current density (A/m^2; negative = cathodic)."""
        if anodic_current >= 0:
            return outer.anodic * (anodic_current / FARADAY)
        return outer.cathodic * (-anodic_current / FARADAY)

    # ------------------------------------------------------------------ state helpers
    def full(self, y: np.ndarray) -> np.ndarray:
        """All concentrations (compartments, species) from the state (compartments, m)."""
        c = np.empty((self.nc, self.n))
        c[:, self.other] = y
        c[:, self.en] = -(self.fixed_charge + y @ self.z_other) / self.z_en
        return c

    def amounts(self, y: np.ndarray) -> np.ndarray:
        """Amount of each species in the whole stack (mol/m^2)."""
        return self.volumes @ self.full(y)

    # ------------------------------------------------------------------ physics
    def fluxes(self, y: np.ndarray, i: float, jac: bool = False) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
        """Fluxes (faces, species) in +x, mol/(m^2 s), and optionally their derivatives
        with respect to the state of the left (``da``) and right (``db``) compartment of
        every solved face, shape (solved faces, species, m)."""
        c = self.full(y)
        nf = self.nc + 1
        flux = np.zeros((nf, self.n))
        flux[0] = self.electrode_flux(self.left, i) if not self.left_solved else 0.0
        if not self.right_solved:
            flux[-1] = -self.electrode_flux(self.right, -i)
        ext = np.empty((self.nc + 2, self.n))
        ext[1:-1] = c
        ext[0] = self.left.c
        ext[-1] = self.right.c
        s = self.solved
        c_a = ext[s]
        c_b = ext[s + 1]
        d_over = self.d_over[s]
        drift = self.drift[s] * (self.eo * i)
        target = i / FARADAY
        u = solve_face_potential(c_a, c_b, d_over, drift, self.z, target, self._u_guess)
        self._u_guess = u
        self.last_u = u
        peclet = drift - self.z * u[:, None]
        if jac:
            b, db = bernoulli_and_derivative(peclet)
        else:
            b = bernoulli(peclet)
        bm = b + peclet
        fl = d_over * (bm * c_a - b * c_b)
        # electroneutrality species from the current condition (exact charge balance)
        fl[:, self.en] = (target - fl[:, self.other] @ self.z_other) / self.z_en
        flux[s] = fl
        if not jac:
            return flux, None
        z = self.z
        dbm = db + 1.0
        dn_du = -z * d_over * (dbm * c_a - db * c_b)  # (faces, n)
        g_u = dn_du @ z
        # derivatives wrt full concentrations at a and b: (faces, k, mfull)
        diag_a = d_over * bm
        diag_b = -d_over * b
        du_da = -(z * diag_a) / g_u[:, None]
        du_db = -(z * diag_b) / g_u[:, None]
        dfa = dn_du[:, :, None] * du_da[:, None, :]
        dfb = dn_du[:, :, None] * du_db[:, None, :]
        idx = np.arange(self.n)
        dfa[:, idx, idx] += diag_a
        dfb[:, idx, idx] += diag_b
        # chain rule through electroneutrality: d c_full / d y_other
        proj = np.zeros((self.n, self.m))
        proj[self.other, np.arange(self.m)] = 1.0
        proj[self.en] = -self.z_other / self.z_en
        da = dfa @ proj
        dbb = dfb @ proj
        da[:, self.en] = -np.einsum("k,fkm->fm", self.z_other, da[:, self.other]) / self.z_en
        dbb[:, self.en] = -np.einsum("k,fkm->fm", self.z_other, dbb[:, self.other]) / self.z_en
        return flux, {"da": da, "db": dbb}

    def sources(self, y: np.ndarray) -> np.ndarray:
        """Volumetric sources of the integrated species (compartments, m), mol/(m^3 s):
        exchange with the blood and first-order reactions."""
        r = -self.kex[:, None] * (y - self.c_ext[self.other])
        for a, b, rate in self.reactions:
            conv = rate * y[:, a]
            r[:, a] -= conv
            r[:, b] += conv
        return r

    def rhs(self, y: np.ndarray, i: float, jac: bool = False) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray] | None]:
        """f(y) = M dy/dt (compartments, m) in mol/(m^2 s), the quadrature rates (flat)
        and, with ``jac``, the flux derivatives."""
        flux, der = self.fluxes(y, i, jac)
        src = self.sources(y)
        f = flux[:-1, self.other] - flux[1:, self.other] + self.volumes[:, None] * src
        return f, self.quadrature_rates(flux, y), der

    def quadrature_rates(self, flux: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Rates of the accumulated quantities, flattened: [in at left (n), out at right (n),
        exchange loss per compartment (nc*n), reaction gain (n)], mol/(m^2 s)."""
        ex = np.empty((self.nc, self.n))
        ex[:, self.other] = self.volumes[:, None] * self.kex[:, None] * (y - self.c_ext[self.other])
        ex[:, self.en] = -(ex[:, self.other] @ self.z_other) / self.z_en
        rx = np.zeros(self.n)
        for a, b, rate in self.reactions:
            conv = float(self.volumes @ (rate * y[:, a]))
            rx[self.other[a]] -= conv
            rx[self.other[b]] += conv
        return np.concatenate([flux[0], flux[-1], ex.ravel(), rx])

    def quadrature_size(self) -> int:
        """Number of quadrature states."""
        return 3 * self.n + self.nc * self.n

    def quadrature_jvp(self, der: dict[str, np.ndarray], v: np.ndarray) -> np.ndarray:
        """Jacobian of the quadrature rates times a state direction v (compartments, m)."""
        n = self.n
        d_in = np.zeros(n)
        d_out = np.zeros(n)
        if self.left_solved:
            d_in = der["db"][0] @ v[0]
        if self.right_solved:
            d_out = der["da"][-1] @ v[-1]
        ex = np.empty((self.nc, n))
        ex[:, self.other] = (self.volumes * self.kex)[:, None] * v
        ex[:, self.en] = -(ex[:, self.other] @ self.z_other) / self.z_en
        rx = np.zeros(n)
        for a, b, rate in self.reactions:
            conv = float(self.volumes @ (rate * v[:, a]))
            rx[self.other[a]] -= conv
            rx[self.other[b]] += conv
        return np.concatenate([d_in, d_out, ex.ravel(), rx])

    def jacobian_blocks(self, der: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Block-tridiagonal Jacobian of f: (lower, diag, upper), each (nc, m, m); lower[j]
        couples compartment j to j-1, upper[j] to j+1."""
        m = self.m
        nc = self.nc
        o = self.other
        # full-face arrays (nc+1 faces) of derivative blocks restricted to integrated rows
        fa = np.zeros((nc + 1, m, m))
        fb = np.zeros((nc + 1, m, m))
        fa[self.solved] = der["da"][:, o, :]
        fb[self.solved] = der["db"][:, o, :]
        lower = fa[:-1].copy()  # face j, derivative wrt compartment j-1
        upper = -fb[1:]  # face j+1, wrt compartment j+1
        diag = fb[:-1] - fa[1:]
        idx = np.arange(m)
        diag[:, idx, idx] -= (self.volumes * self.kex)[:, None]
        for a, b, rate in self.reactions:
            diag[:, a, a] -= self.volumes * rate
            diag[:, b, a] += self.volumes * rate
        lower[0] = 0.0
        upper[-1] = 0.0
        return lower, diag, upper

    # ------------------------------------------------------------------ outputs
    def boundary_state(self, y: np.ndarray, i: float, side: int) -> tuple[np.ndarray, float]:
        """Concentrations (species,) and scaled potential step u = F(phi_cell - phi_face)/RT
        ... at an outer face: returns (c at the boundary face, potential of the boundary
        face relative to the adjacent compartment, in V)."""
        outer = self.left if side == 0 else self.right
        c = self.full(y)
        if outer.kind == "fixed":
            flux, _ = self.fluxes(y, i)
            u = self.last_u[0] if side == 0 else self.last_u[-1]
            # u = f_t (phi_b - phi_a); left: a = boundary, b = cell
            dphi = -u / self.f_t if side == 0 else u / self.f_t
            return outer.c.copy(), dphi
        reservoir = self.left_reservoir if side == 0 else self.right_reservoir
        if reservoir:
            return (c[0] if side == 0 else c[-1]).copy(), 0.0
        cell = c[0] if side == 0 else c[-1]
        v = self.eo * i
        if side == 0:
            s = self.electrode_flux(outer, i)
        else:
            s = -self.electrode_flux(outer, -i)
        d_over = outer.d_over
        w = outer.drift * v

        def boundary_c(u: float) -> np.ndarray:
            p = w - self.z * u
            b = bernoulli(p)
            bm = b + p
            if side == 0:  # a = boundary, b = cell: N = d_over (bm c_bd - b c_cell)
                return (s / d_over + b * cell) / bm
            return (bm * cell - s / d_over) / b  # a = cell, b = boundary

        def charge(u: float) -> float:
            return float(self.z @ boundary_c(u)) + outer.x_charge

        # charge(u) is increasing in u on the left and decreasing on the right
        sign = 1.0 if side == 0 else -1.0
        lo, hi = -1.0, 1.0
        for _ in range(200):
            if sign * charge(lo) <= 0:
                break
            lo *= 2.0
        for _ in range(200):
            if sign * charge(hi) >= 0:
                break
            hi *= 2.0
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if sign * charge(mid) > 0:
                hi = mid
            else:
                lo = mid
            if hi - lo < 1e-14 * (1.0 + abs(mid)):
                break
        u = 0.5 * (lo + hi)
        dphi = -u / self.f_t if side == 0 else u / self.f_t
        return boundary_c(u), dphi

    def potential_profile(self, y: np.ndarray, i: float) -> tuple[np.ndarray, float, float]:
        """phi at compartment centres (V) with phi = 0 at the right boundary face, and
        phi at the left and right boundary faces."""
        self.fluxes(y, i)
        u_faces = np.zeros(self.nc + 1)
        u_faces[self.solved] = self.last_u
        _, dphi_right = self.boundary_state(y, i, 1)
        # right: dphi_right = phi_face - phi_cell? For side 1 boundary_state returns
        # phi(boundary face) - phi(cell) = u/f_t with a = cell, b = boundary.
        phi_last = 0.0 - dphi_right
        steps = u_faces[1:-1] / self.f_t  # phi_b - phi_a on inner faces
        phi = np.empty(self.nc)
        phi[-1] = phi_last
        phi[:-1] = phi_last - np.cumsum(steps[::-1])[::-1]
        _, dphi_left = self.boundary_state(y, i, 0)
        phi_left = phi[0] + dphi_left
        return phi, phi_left, 0.0
