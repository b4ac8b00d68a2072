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
            ind[idx] = (
                left * right
                if (idx == 0 or idx == n - 1)
                else (0.5 * (np.tanh((x - a) / w) - np.tanh((x - b) / w)))
            )
        else:
            lo = -np.inf if idx == 0 else a
            hi = np.inf if idx == n - 1 else b
            ind[idx] = ((x > lo) & (x <= hi)).astype(float)
    return ind


_GAUSS_X, _GAUSS_W = np.polynomial.legendre.leggauss(8)


def _gauss_points(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature points (intervals, 8) and weights for intervals [lo, hi]."""
    half = 0.5 * (hi - lo)[:, None]
    mid = 0.5 * (hi + lo)[:, None]
    return mid + half * _GAUSS_X, half * _GAUSS_W


def cell_average_weights(problem: Problem, faces: np.ndarray) -> np.ndarray:
    """Cell averages of the layer indicators (layers, cells), by 8-point Gauss-Legendre
    quadrature on each half cell (the profiles are smooth on the mesh scale)."""
    mid = 0.5 * (faces[1:] + faces[:-1])
    total = np.zeros((len(problem.layers), mid.size))
    for lo, hi in ((faces[:-1], mid), (mid, faces[1:])):
        pts, wts = _gauss_points(lo, hi)
        ind = layer_indicators(problem, pts.ravel()).reshape(len(problem.layers), *pts.shape)
        total += (ind * wts).sum(axis=-1)
    return total / (faces[1:] - faces[:-1])


def harmonic_face_diffusivity(
    problem: Problem, centres: np.ndarray, factor: np.ndarray
) -> np.ndarray:
    """Diffusivity factor (inner faces, species) for the flux between neighbouring cell
    centres: the harmonic mean of the smooth profile over [x_a, x_b], which is exact for
    steady diffusion with variable D and keeps steep D transitions accurate."""
    lo, hi = centres[:-1], centres[1:]
    pts, wts = _gauss_points(lo, hi)
    ind = layer_indicators(problem, pts.ravel()).reshape(len(problem.layers), *pts.shape)
    d = np.einsum("lfq,ln->fqn", ind, factor)  # (faces, points, species)
    resistance = np.einsum("fqn,fq->fn", 1.0 / d, wts)
    return (hi - lo)[:, None] / resistance


def _stoichiometry(
    reaction: ElectrodeReaction | None, names: list[str]
) -> tuple[np.ndarray, np.ndarray]:
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
            [
                [layer.diffusivity_factors.get(nm, layer.diffusivity_factor) for nm in names]
                for layer in layers
            ]
        )  # (layers, n)
        x_c = mesh.centres
        ind_c = layer_indicators(problem, x_c)  # (layers, cells)
        fixed = np.array([layer.fixed_charge for layer in layers])
        kex = np.array([layer.exchange_rate for layer in layers])
        init = np.array([[layer.initial.get(nm, 0.0) for nm in names] for layer in layers])

        # cell averages of the smooth profiles (Gauss-Legendre over each cell)
        avg = cell_average_weights(problem, mesh.faces) if problem.smoothing > 0 else ind_c
        cell_x = avg.T @ fixed
        cell_kex = avg.T @ kex
        cell_init = avg.T @ init  # (cells, n)
        cell_d = (ind_c.T @ factor) * d_w  # (cells, n) D at centres

        # faces between cells: D evaluated at the face (smooth) or harmonic (sharp)
        h = mesh.widths
        mesh.faces[1:-1]
        dist_inner = 0.5 * (h[1:] + h[:-1])
        if problem.smoothing > 0:
            face_d = harmonic_face_diffusivity(problem, mesh.centres, factor) * d_w
        else:
            face_d = dist_inner[:, None] / (
                0.5 * h[:-1, None] / cell_d[:-1] + 0.5 * h[1:, None] / cell_d[1:]
            )
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
        # the solved faces are always a contiguous run: use slices on hot paths
        self._s0, self._s1 = int(self.solved[0]), int(self.solved[-1]) + 1
        self._ext = np.empty((self.nc + 2, n))
        self._ext[0] = self.left.c
        self._ext[-1] = self.right.c
        self.left_solved = self.left.kind == "fixed"
        self.right_solved = self.right.kind == "fixed"
        # electrode or wall right at a cell: the boundary face potential is an unknown
        # fixed by electroneutrality at the face (so the voltage is part of the state)
        self.left_bc = self.left.kind == "flux" and not self.left_reservoir
        self.right_bc = self.right.kind == "flux" and not self.right_reservoir
        self._u_guess = np.zeros(self.solved.size)
        self._pattern: tuple[np.ndarray, np.ndarray] | None = None
        self.eo = problem.electroosmotic_coefficient
        self.initial_total = self.amounts(self.y0)

    # ------------------------------------------------------------------ set-up helpers
    def _outer(
        self, boundary: object, side: int, d_end: np.ndarray, half: float, x_end: float
    ) -> _Outer:
        n = self.n
        zeros = np.zeros(n)
        if isinstance(boundary, FixedBoundary):
            c = np.array([boundary.concentrations.get(nm, 0.0) for nm in self.names])
            c[self.en] = 0.0
            c[self.en] = -(x_end + float(self.z @ c)) / self.z_en
            return _Outer("fixed", zeros, zeros, c, d_end / half, half / d_end, x_end)
        if isinstance(boundary, (ElectrodeBoundary, ReservoirBoundary)):
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

    def electrode_flux_slope(self, outer: _Outer, anodic_current: float) -> np.ndarray:
        """d(electrode_flux)/d(anodic current), mol/(A s)."""
        if anodic_current >= 0:
            return outer.anodic / FARADAY
        return -outer.cathodic / FARADAY

    def boundary_residual(
        self, side: int, c_cell: np.ndarray, u: float, i: float, jac: bool
    ) -> tuple[float, float, np.ndarray, float]:
        """Electroneutrality at an electrode (or wall) face next to a cell.

        The face concentrations follow from the prescribed fluxes over the half cell
        (Scharfetter-Gummel); their charge plus the fixed charge must vanish. Returns the
        residual (mol/m^3) and, with ``jac``, its derivatives by u, by the integrated
        species of the cell, and by i. A face that cannot be fed (a current beyond the
        limiting current) gives non-finite values, which make the integrator reject the
        step, so the floating-point warnings are silenced here."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return self._boundary_residual(side, c_cell, u, i, jac)

    def _boundary_residual(
        self, side: int, c_cell: np.ndarray, u: float, i: float, jac: bool
    ) -> tuple[float, float, np.ndarray, float]:
        outer = self.left if side == 0 else self.right
        w = outer.drift * self.eo
        p = w * i - self.z * u
        if jac:
            bp, dbp = bernoulli_and_derivative(p)
        else:
            bp = bernoulli(p)
            dbp = bp
        bmn = bp + p
        if side == 0:
            alpha = self.electrode_flux(outer, i) / outer.d_over
            c_bd = (alpha + bp * c_cell) / bmn
        else:
            beta = -self.electrode_flux(outer, -i) / outer.d_over
            c_bd = (bmn * c_cell - beta) / bp
        res = float(self.z @ c_bd) + outer.x_charge
        if not jac:
            return res, 0.0, np.zeros(0), 0.0
        dbm = dbp + 1.0
        z = self.z
        if side == 0:
            dc_dp = (dbp * c_cell * bmn - (alpha + bp * c_cell) * dbm) / bmn**2
            dc_dcell = bp / bmn
            dalpha = self.electrode_flux_slope(outer, i) / outer.d_over
            dc_di = dc_dp * w + dalpha / bmn
        else:
            dc_dp = (dbm * c_cell * bp - (bmn * c_cell - beta) * dbp) / bp**2
            dc_dcell = bmn / bp
            dbeta = self.electrode_flux_slope(outer, -i) / outer.d_over
            dc_di = dc_dp * w - dbeta / bp
        d_u = float(-(z * z) @ dc_dp)
        d_y = self.z_other * (dc_dcell[self.other] - dc_dcell[self.en])
        d_i = float(z @ dc_di)
        return res, d_u, d_y, d_i

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
    def fluxes(self, y: np.ndarray, i: float) -> np.ndarray:
        """Fluxes (faces, species) in +x, mol/(m^2 s), with the face potentials solved
        exactly (Newton) from the current condition; also sets ``last_u``."""
        c = self.full(y)
        nf = self.nc + 1
        flux = np.zeros((nf, self.n))
        if not self.left_solved:
            flux[0] = self.electrode_flux(self.left, i)
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
        b = bernoulli(peclet)
        fl = d_over * ((b + peclet) * c_a - b * c_b)
        # electroneutrality species from the current condition (exact charge balance)
        fl[:, self.en] = (target - fl[:, self.other] @ self.z_other) / self.z_en
        flux[s] = fl
        return flux

    def sources(self, y: np.ndarray) -> np.ndarray:
        """Volumetric sources of the integrated species (compartments, m), mol/(m^3 s):
        exchange with the blood and first-order reactions."""
        r = -self.kex[:, None] * (y - self.c_ext[self.other])
        for a, b, rate in self.reactions:
            conv = rate * y[:, a]
            r[:, a] -= conv
            r[:, b] += conv
        return r

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

    # ------------------------------------------------------------------ DAE form
    # The integrator works on Z (nc + 1, m + 1): Z[f, 0] is the scaled potential step u of
    # face f (an algebraic unknown), Z[j, 1:] the integrated concentrations of compartment
    # j; Z[nc, 1:] are inert placeholders (kept at 0) that make the Jacobian exactly
    # block tridiagonal with blocks of size m + 1.
    def pack(self, y: np.ndarray, u_faces: np.ndarray) -> np.ndarray:
        """State Z from concentrations (nc, m) and face potentials (nc + 1,)."""
        z_state = np.zeros((self.nc + 1, self.m + 1))
        z_state[:, 0] = u_faces
        z_state[:-1, 1:] = y
        return z_state

    def consistent_u(self, y: np.ndarray, i: float) -> np.ndarray:
        """Face potentials (nc + 1,) that satisfy the current condition on every solved
        face and electroneutrality on electrode faces, exactly."""
        self.fluxes(y, i)
        u = np.zeros(self.nc + 1)
        u[self.solved] = self.last_u
        if self.left_bc:
            u[0] = -self.boundary_state(y, i, 0)[1] * self.f_t
        if self.right_bc:
            u[-1] = self.boundary_state(y, i, 1)[1] * self.f_t
        return u

    def voltage_of(self, u_faces: np.ndarray) -> float:
        """phi(0) - phi(L) (V) from the face potential steps of a consistent state."""
        return float(-u_faces.sum() / self.f_t)

    def mass_vector(self) -> np.ndarray:
        """Diagonal of M for the flattened Z (m of compartment volume per area)."""
        mass = np.zeros((self.nc + 1, self.m + 1))
        mass[:-1, 1:] = self.volumes[:, None]
        return mass.ravel()

    def error_mask(self) -> np.ndarray:
        """True for the components of Z under error control (the concentrations)."""
        mask = np.zeros((self.nc + 1, self.m + 1), dtype=bool)
        mask[:-1, 1:] = True
        return mask.ravel()

    def dae_rhs(
        self, z_state: np.ndarray, i: float, jac: bool
    ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray] | None]:
        """Residual of M dZ/dt = F(Z): species balances and face current conditions,
        plus quadrature rates and (with ``jac``) the derivative data."""
        nc, n = self.nc, self.n
        o = self.other
        y = z_state[:-1, 1:]
        u_all = z_state[:, 0]
        ext = self._ext
        ext[1:-1, o] = y
        ext[1:-1, self.en] = -(self.fixed_charge + y @ self.z_other) / self.z_en
        s0, s1 = self._s0, self._s1
        s = slice(s0, s1)
        c_a = ext[s0:s1]
        c_b = ext[s0 + 1 : s1 + 1]
        d_over = self.d_over[s]
        v = self.eo * i
        peclet = self.drift[s] * v - self.z * u_all[s, None]
        if jac:
            b, db = bernoulli_and_derivative(peclet)
        else:
            b = bernoulli(peclet)
        bm = b + peclet
        fl = d_over * (bm * c_a - b * c_b)  # SG flux of every species
        target = i / FARADAY
        flux = np.empty((nc + 1, n))
        if not self.left_solved:
            flux[0] = self.electrode_flux(self.left, i)
        if not self.right_solved:
            flux[-1] = -self.electrode_flux(self.right, -i)
        flux[s] = fl
        out = np.empty((nc + 1, self.m + 1))
        out[:, 0] = -u_all
        out[s, 0] = fl @ self.z - target
        src = self.sources(y)
        out[:-1, 1:] = flux[:-1, o] - flux[1:, o] + self.volumes[:, None] * src
        out[-1, 1:] = -z_state[-1, 1:]
        bl = br = None
        if self.left_bc:
            bl = self.boundary_residual(0, ext[1], float(u_all[0]), i, jac)
            out[0, 0] = bl[0]
        if self.right_bc:
            br = self.boundary_residual(1, ext[-2], float(u_all[-1]), i, jac)
            out[-1, 0] = br[0]
        # electroneutrality species from the current condition: exact charge balance
        flux[s, self.en] = (target - fl[:, o] @ self.z_other) / self.z_en
        q = self.quadrature_rates(flux, y)
        if not jac:
            return out, q, None
        z = self.z
        dn_du = -z * d_over * ((db + 1.0) * c_a - db * c_b)  # (s, n)
        da = d_over * bm  # dN_k/dc_a,k
        dbb = -d_over * b  # dN_k/dc_b,k
        en = self.en
        ga = self.z_other * (da[:, o] - da[:, [en]])
        gb = self.z_other * (dbb[:, o] - dbb[:, [en]])
        gu = dn_du @ z
        # derivatives by the current density i (potentiostatic control, ramps)
        dn_di = d_over * ((db + 1.0) * c_a - db * c_b) * (self.drift[s] * self.eo)
        dflux = np.zeros((nc + 1, n))
        if not self.left_solved:
            dflux[0] = self.electrode_flux_slope(self.left, i)
        if not self.right_solved:
            dflux[-1] = self.electrode_flux_slope(self.right, -i)
        dflux[s] = dn_di
        dflux[s, self.en] = (1.0 / FARADAY - dn_di[:, o] @ self.z_other) / self.z_en
        d_out = np.zeros((nc + 1, self.m + 1))
        d_out[s, 0] = dn_di @ z - 1.0 / FARADAY
        d_out[:-1, 1:] = dflux[:-1, o] - dflux[1:, o]
        data = {"da": da[:, o], "db": dbb[:, o], "du": dn_du[:, o], "ga": ga, "gb": gb, "gu": gu}
        if bl is not None:
            d_out[0, 0] = bl[3]
            data["bl_u"], data["bl_y"] = np.array([bl[1]]), bl[2]
        if br is not None:
            d_out[-1, 0] = br[3]
            data["br_u"], data["br_y"] = np.array([br[1]]), br[2]
        data["F_i"] = d_out.ravel()
        nq = self.quadrature_size()
        q_i = np.zeros(nq)
        q_i[:n] = dflux[0]
        q_i[n : 2 * n] = dflux[-1]
        data["q_i"] = q_i
        return out, q, data

    def jacobian_pattern(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cols) in the flat Z ordering of every entry that ``jacobian_values``
        fills, in the same order. The pattern does not depend on the state."""
        if self._pattern is not None:
            return self._pattern
        nc, m = self.nc, self.m
        bs = m + 1
        nb = nc + 1
        o = np.arange(m)
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []

        def add(r: np.ndarray, c: np.ndarray) -> None:
            rows.append(np.broadcast_to(r, np.broadcast(r, c).shape).ravel())
            cols.append(np.broadcast_to(c, np.broadcast(r, c).shape).ravel())

        j = np.arange(nc)[:, None]
        add(j[1:] * bs + 1 + o, (j[1:] - 1) * bs + 1 + o)  # A1: d N_j / d c_{j-1}
        add(j * bs + 1 + o, j * bs + 0 * o)  # A2: d N_j / d u_j
        add(j * bs + 1 + o, j * bs + 1 + o)  # A3: diagonal
        add(j * bs + 1 + o, (j + 1) * bs + 0 * o)  # A4: - d N_{j+1} / d u_{j+1}
        add(j[:-1] * bs + 1 + o, (j[:-1] + 1) * bs + 1 + o)  # A5: - d N_{j+1} / d c_{j+1}
        for a, b, _ in self.reactions:  # A6: product gains from reactant
            add(j[:, 0] * bs + 1 + b, j[:, 0] * bs + 1 + a)
        f = np.arange(nb)[:, None]
        add(f[1:] * bs + 0 * o, (f[1:] - 1) * bs + 1 + o)  # B1: face f by c_{f-1}
        add(f[:, 0] * bs, f[:, 0] * bs)  # B2: face f by u_f
        add(f[:-1] * bs + 0 * o, f[:-1] * bs + 1 + o)  # B3: face f by c_f
        add(nc * bs + 1 + o, nc * bs + 1 + o)  # C: placeholders
        self._pattern = (np.concatenate(rows), np.concatenate(cols))
        static = -(self.volumes * self.kex)[:, None] * np.ones(m)
        off = []
        for a, _, rate in self.reactions:
            static[:, a] -= self.volumes * rate
            off.append(self.volumes * rate)
        self._static_diag = static
        self._reaction_values = np.concatenate(off) if off else np.zeros(0)
        return self._pattern

    def jacobian_values(self, d: dict[str, np.ndarray]) -> np.ndarray:
        """Jacobian entries of the DAE residual in the order of ``jacobian_pattern``."""
        self.jacobian_pattern()
        nc, m = self.nc, self.m
        nb = nc + 1
        s = slice(self._s0, self._s1)
        fa = np.zeros((nb, m))
        fb = np.zeros((nb, m))
        fu = np.zeros((nb, m))
        ga = np.zeros((nb, m))
        gb = np.zeros((nb, m))
        gdiag = -np.ones(nb)
        fa[s], fb[s], fu[s] = d["da"], d["db"], d["du"]
        ga[s], gb[s], gdiag[s] = d["ga"], d["gb"], d["gu"]
        if "bl_u" in d:
            gdiag[0] = d["bl_u"][0]
            gb[0] = d["bl_y"]
        if "br_u" in d:
            gdiag[nc] = d["br_u"][0]
            ga[nc] = d["br_y"]
        return np.concatenate(
            [
                fa[1:nc].ravel(),
                fu[:nc].ravel(),
                (fb[:nc] - fa[1:] + self._static_diag).ravel(),
                -fu[1:].ravel(),
                -fb[1:nc].ravel(),
                self._reaction_values,
                ga[1:].ravel(),
                gdiag,
                gb[:nc].ravel(),
                -np.ones(m),
            ]
        )

    def dae_quadrature_jvp(self, d: dict[str, np.ndarray], v_state: np.ndarray) -> np.ndarray:
        """Jacobian of the quadrature rates times a direction in Z."""
        n = self.n
        o = self.other
        vu = v_state[:, 0]
        vy = v_state[:-1, 1:]

        def face_jvp(pos: int, face: int, a_comp: int | None, b_comp: int | None) -> np.ndarray:
            out = np.zeros(n)
            val = d["du"][pos] * vu[face]
            if a_comp is not None:
                val = val + d["da"][pos] * vy[a_comp]
            if b_comp is not None:
                val = val + d["db"][pos] * vy[b_comp]
            out[o] = val
            out[self.en] = -(val @ self.z_other) / self.z_en
            return out

        d_in = face_jvp(0, 0, None, 0) if self.left_solved else np.zeros(n)
        d_out = face_jvp(-1, self.nc, self.nc - 1, None) if self.right_solved else np.zeros(n)
        ex = np.empty((self.nc, n))
        ex[:, o] = (self.volumes * self.kex)[:, None] * vy
        ex[:, self.en] = -(ex[:, o] @ self.z_other) / self.z_en
        rx = np.zeros(n)
        for a, b, rate in self.reactions:
            conv = float(self.volumes @ (rate * vy[:, a]))
            rx[o[a]] -= conv
            rx[o[b]] += conv
        return np.concatenate([d_in, d_out, ex.ravel(), rx])

    # ------------------------------------------------------------------ outputs
    def boundary_state(self, y: np.ndarray, i: float, side: int) -> tuple[np.ndarray, float]:
        """Concentrations (species,) and scaled potential step u = F(phi_cell - phi_face)/RT
        ... at an outer face: returns (c at the boundary face, potential of the boundary
        face relative to the adjacent compartment, in V)."""
        outer = self.left if side == 0 else self.right
        c = self.full(y)
        if outer.kind == "fixed":
            self.fluxes(y, i)
            u = self.last_u[0] if side == 0 else self.last_u[-1]
            # u = f_t (phi_b - phi_a); left: a = boundary, b = cell
            dphi = -u / self.f_t if side == 0 else u / self.f_t
            return outer.c.copy(), dphi
        reservoir = self.left_reservoir if side == 0 else self.right_reservoir
        if reservoir:
            return (c[0] if side == 0 else c[-1]).copy(), 0.0
        cell = c[0] if side == 0 else c[-1]
        v = self.eo * i
        s = self.electrode_flux(outer, i) if side == 0 else -self.electrode_flux(outer, -i)
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
