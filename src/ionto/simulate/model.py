"""The discretised electroneutral Nernst-Planck model as an index-1 DAE.

Finite volumes on a chain of *compartments*: the mesh cells, plus a node at each end that
is not a fixed-concentration bath: a well-mixed reservoir of finite volume, or a node of
zero volume at an electrode or wall face (the face's concentrations then follow from the
prescribed electrode fluxes, as algebraic unknowns). Each compartment carries the
conserved totals T of every component and, with fast equilibria, the free
concentrations L of the reactive primaries (``chemistry.Speciation``); the
electroneutrality species follows from the totals.

The potential is eliminated face by face: the scaled potential step u = F (phi_b -
phi_a) / RT of every face between compartments (or to a bath) is an algebraic unknown
fixed by the uniform-current condition F sum_k z_k N_k = i; the flux of the
electroneutrality species is *defined* from that condition, so charge is conserved to
round-off whatever the step. Faces where an electrode injects species have no potential
drop of their own (their u is a placeholder kept at 0).

State layout (``Z``, shape (nc + 1, 1 + m + r)): Z[f, 0] = u of face f (face f is the
left face of compartment f; face nc the right end), Z[j, 1:] = [T (m), L (r)] of
compartment j, Z[nc, 1:] placeholders kept at 0, so the Jacobian is exactly block
tridiagonal. The system is M dZ/dt = F(Z) with M the compartment volume per area on the
total rows and 0 elsewhere; quadrature states q' = g(Z) accumulate boundary fluxes,
exchange with the blood and reactions of every balance quantity (each component and the
electroneutrality species) so every balance closes to round-off. Units: mol/m^3, m, s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ionto.simulate.chemistry import Speciation
from ionto.simulate.coefficients import (
    cell_average_weights,
    harmonic_face_diffusivity,
    layer_indicators,
    stoichiometry,
)
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

PLATE = 5e-6  # m: thickness over which a capacitive layer's surface charge is spread


def _ratio(a: np.ndarray | float, b: np.ndarray) -> np.ndarray:
    """a / b, and 0 where b is 0 (an immobile species: no conductance, no drift)."""
    a_arr, b_arr = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    out = np.zeros(a_arr.shape)
    np.divide(a_arr, b_arr, out=out, where=b_arr != 0)
    return out


@dataclass
class _End:
    """One end of the stack. ``node``: a compartment sits at the end (reservoir of
    ``volume``, or zero-volume electrode/wall node); otherwise a bath of fixed species
    concentrations ``c`` is reached over a half cell. ``anodic``/``cathodic``:
    electrode stoichiometry (species released per electron, zero for a wall)."""

    node: bool
    volume: float
    anodic: np.ndarray
    cathodic: np.ndarray
    c: np.ndarray
    totals: np.ndarray
    ph: float
    x_charge: float
    fresh: tuple[np.ndarray, np.ndarray] | None = None  # (anodic, cathodic) while unspent
    spent: tuple[np.ndarray, np.ndarray] | None = None  # water electrolysis once spent


class Model:
    """Discretisation of a Problem on a Mesh (see the module docstring).

    Attributes (SI): ``volumes`` (nc,) m; ``centres`` compartment positions (m);
    ``spec`` the speciation; ``m``/``r`` totals and reactive primaries per compartment;
    ``bs`` block size; ``cell_offset`` index of the first mesh cell among compartments.
    """

    def __init__(self, problem: Problem, mesh: Mesh) -> None:
        self.problem = problem
        self.mesh = mesh
        spec = Speciation(problem)
        self.spec = spec
        names = spec.names
        self.names = names
        n = spec.n
        self.n = n
        self.z = spec.z
        self.en = spec.en
        self.z_en = spec.z_en
        self.m = spec.m
        self.r = spec.r
        self.ns = spec.nstate
        self.bs = 1 + self.ns
        self.f_t = FARADAY / (GAS_CONSTANT * problem.temperature)
        d_w = np.array([sp.diffusivity for sp in problem.species])
        layers = problem.layers
        factor = np.array(
            [
                [layer.diffusivity_factors.get(nm, layer.diffusivity_factor) for nm in names]
                for layer in layers
            ]
        )  # (layers, n)
        comp_names = [names[k] for k in spec.comp]
        ind_c = layer_indicators(problem, mesh.centres)
        avg = cell_average_weights(problem, mesh.faces) if problem.smoothing > 0 else ind_c
        fixed = np.array([layer.fixed_charge for layer in layers])
        kex = np.array([layer.exchange_rate for layer in layers])
        init = np.array([[layer.initial.get(nm, 0.0) for nm in comp_names] for layer in layers])
        ph_layers = np.array(
            [np.nan if layer.initial_pH is None else layer.initial_pH for layer in layers]
        )
        cell_x = avg.T @ fixed
        cell_kex = avg.T @ kex
        cell_t = avg.T @ init if init.size else np.zeros((mesh.n_cells, 0))
        cell_ph = ph_layers[np.argmax(ind_c, axis=0)]
        cell_d = (ind_c.T @ factor) * d_w

        h = mesh.widths
        dist = 0.5 * (h[1:] + h[:-1])
        # layer areas (a two-site circuit): every cell's cross-section relative to the
        # reference (first layer's) area. Amounts, fluxes and the current density are per
        # reference area: volumes are scaled by it, and each face's diffusivity by its
        # conductance-weighted area (the series of the two half cells), so the current
        # condition F sum z N = i (per reference area) holds on every face and the drift
        # d/(D s) gives the local electroosmotic velocity kappa i / s.
        cell_s = np.asarray(problem.area_scales())[mesh.layer_of_cell]
        self.multi_area = bool(np.any(cell_s != 1.0))
        self.cell_area_scale = cell_s
        # an immobile species (D = 0: fixed ionizable sites, bound drug) has zero face
        # diffusivity and no drift: _ratio gives 0 where it would divide by zero
        if problem.smoothing > 0:
            face_d = harmonic_face_diffusivity(problem, mesh.centres, factor) * d_w
            if self.multi_area:
                face_s = dist / (0.5 * h[:-1] / cell_s[:-1] + 0.5 * h[1:] / cell_s[1:])
                face_d = face_d * face_s[:, None]
        else:
            cds = cell_d * cell_s[:, None] if self.multi_area else cell_d
            resistance = _ratio(0.5 * h[:-1, None], cds[:-1]) + _ratio(0.5 * h[1:, None], cds[1:])
            face_d = _ratio(dist[:, None], resistance)
        ends_x = np.array([0.0, problem.length])
        ind_e = layer_indicators(problem, ends_x)
        x_ends = ind_e.T @ fixed
        d_ends = (
            (ind_e.T @ factor) * d_w
            if problem.smoothing > 0
            else np.vstack([cell_d[0], cell_d[-1]])
        )
        if self.multi_area:
            d_ends = d_ends * np.array([cell_s[0], cell_s[-1]])[:, None]
            h = h * cell_s  # cell volumes per reference area
        half = (0.5 * mesh.widths[0], 0.5 * mesh.widths[-1])

        self.left = self._end(problem.left, x_ends[0], cell_t[0] if cell_t.size else np.zeros(0))
        self.right = self._end(problem.right, x_ends[1], cell_t[-1] if cell_t.size else np.zeros(0))
        self.left_node, self.right_node = self.left.node, self.right.node
        # kept for callers that ask whether an end is a reservoir of finite volume
        self.left_reservoir = isinstance(problem.left, ReservoirBoundary)
        self.right_reservoir = isinstance(problem.right, ReservoirBoundary)

        vols, xs, kx, tt, ph, pos = [h], [cell_x], [cell_kex], [cell_t], [cell_ph], [mesh.centres]
        d_over = [face_d / dist[:, None]]
        drift = [_ratio(dist[:, None], face_d)]
        for end, side in ((self.left, 0), (self.right, 1)):
            if not end.node:
                continue
            put = (lambda lst, v: lst.insert(0, v)) if side == 0 else (lambda lst, v: lst.append(v))
            put(vols, np.array([end.volume * (cell_s[0] if side == 0 else cell_s[-1])]))
            put(xs, np.array([end.x_charge]))
            put(kx, np.zeros(1))
            put(tt, end.totals[None, :])
            put(ph, np.array([end.ph]))
            put(pos, np.array([ends_x[side]]))
            put(d_over, (d_ends[side] / half[side])[None, :])
            put(drift, _ratio(half[side], d_ends[side])[None, :])
        self.volumes = np.concatenate(vols)
        self.fixed_charge = np.concatenate(xs)
        self.kex = np.concatenate(kx)
        self.centres = np.concatenate(pos)
        self.nc = self.volumes.size
        self.cell_offset = 1 if self.left_node else 0
        totals0 = np.concatenate(tt)
        self.state0 = spec.state_from(totals0, self.fixed_charge, np.concatenate(ph))
        c0 = spec.concentrations(self.state0, self.fixed_charge)[:, self.en]
        if np.any(c0 < -1e-9 * np.abs(totals0).max(initial=1.0)):
            j = int(np.argmin(c0))
            raise ValueError(
                f"the initial state needs {c0[j]:.4g} mol/m^3 of {names[self.en]} at "
                f"x = {self.centres[j] * 1e6:.4g} um to be electroneutral: give more "
                "counter-ions there"
            )

        # faces: 0 = left end, 1..nc-1 between compartments, nc = right end
        nf = self.nc + 1
        self.d_over = np.zeros((nf, n))
        self.drift = np.zeros((nf, n))
        self.d_over[1:-1] = np.concatenate(d_over)
        self.drift[1:-1] = np.concatenate(drift)
        self.left_solved = not self.left_node
        self.right_solved = not self.right_node
        if self.left_solved:
            self.d_over[0], self.drift[0] = d_ends[0] / half[0], _ratio(half[0], d_ends[0])
        if self.right_solved:
            self.d_over[-1], self.drift[-1] = d_ends[1] / half[1], _ratio(half[1], d_ends[1])
        self._s0 = 0 if self.left_solved else 1
        self._s1 = nf if self.right_solved else nf - 1
        self.solved = np.arange(self._s0, self._s1)
        self._ext = np.zeros((self.nc + 2, n))
        self._ext[0] = self.left.c
        self._ext[-1] = self.right.c
        self._u_guess = np.zeros(self.solved.size)
        self.eo = problem.electroosmotic_coefficient
        # (mean anodic, mean cathodic, peak) current density of a cycle-averaged train
        self.cycle: tuple[float, float, float] | None = None
        self.cell_d = cell_d  # (cells, n) m^2/s, at rest
        self._setup_activation(problem, mesh, cell_d * cell_s[:, None])
        self._setup_capacitance(problem, mesh)

        # blood-side totals and first-order reactions between unreactive components
        ext = np.array([[problem.exchange_concentrations.get(nm, 0.0) for nm in comp_names]])
        ext_ph = np.array([np.nan if problem.exchange_pH is None else problem.exchange_pH])
        self.t_ext = spec.state_from(ext, np.zeros(1), ext_ph)[0, : self.m]
        self.reactions: list[tuple[int, int, np.ndarray]] = []
        for rx in problem.reactions:
            rates = np.array([layer.reaction_rates.get(rx.name, 0.0) for layer in layers])
            full = np.zeros(self.nc)
            full[self.cell_offset : self.cell_offset + mesh.n_cells] = ind_c.T @ rates
            a = spec.component_index(rx.reactant)
            b = spec.component_index(rx.product)
            assert a is not None and b is not None
            self.reactions.append((a, b, full))
        # plasma compartments (one-compartment pharmacokinetics), per treated area
        self.t_ext_now = self.t_ext.copy()
        self.sys_comp = np.zeros(0, dtype=int)
        self.sys_capacity = np.zeros(0)
        self.sys_clear = np.zeros(0)
        self.plasma0 = np.zeros(0)
        if problem.systemic:
            if problem.treated_area is None:
                raise ValueError("systemic compartments need the treated skin area")
            comps: list[int] = []
            for sysd in problem.systemic:
                comp = spec.component_index(sysd.species)
                if comp is None:
                    raise ValueError(f"{sysd.species!r} is not a conserved total: no plasma")
                comps.append(comp)
            self.sys_comp = np.array(comps, dtype=int)
            area = problem.treated_area
            self.sys_capacity = np.array([d.volume / area for d in problem.systemic])
            self.sys_clear = np.array([d.clearance / area for d in problem.systemic])
            self.plasma0 = np.array([d.initial for d in problem.systemic])
        self.nsys = self.sys_comp.size
        self._vk = self.volumes * self.kex
        self.set_plasma(self.plasma0)
        self.balance_names = [*comp_names, names[self.en]]
        self.nbal = self.m + 1
        self.zbal = np.append(spec.zp, self.z_en)
        self.initial_balance = self.balance_amounts(self.state0)
        self.initial_species = self.volumes @ self.full(self.state0)
        self._pattern: tuple[np.ndarray, np.ndarray] | None = None

    # ------------------------------------------------------------------ activation
    def _setup_activation(self, problem: Problem, mesh: Mesh, cds: np.ndarray) -> None:
        """Slow states of layers (border unknowns, one per layer and kind): conduction
        that opens under current (``Layer.activation``) and perfusion that rises under
        current or with a vasodilator (``Layer.hyperaemia``).

        Conduction: every face touching one of the layer's cells gets its conductance from
        the two half-cell resistances r_a / g_a + r_b / g_b (g = 1 + gain a), so the
        layer's diffusivities scale by g (sharp layers only). Perfusion: the layer's
        exchange rates scale by 1 + gain p."""
        acts: list[tuple[int, Any, bool]] = []
        for k, la in enumerate(problem.layers):
            if la.activation is not None:
                acts.append((k, la.activation, False))
            if la.hyperaemia is not None:
                acts.append((k, la.hyperaemia, True))
        self.nact = len(acts)
        self.act_perfusion = np.array([perf for _, _, perf in acts], dtype=bool)
        self.act_gain = np.array([a.gain for _, a, _ in acts])
        self.act_charge = np.array([a.charge for _, a, _ in acts])
        self.act_tau = np.array([a.tau_off for _, a, _ in acts])
        scales = np.asarray(problem.area_scales())
        self.act_scale = np.array([scales[k] for k, _, _ in acts])
        self.activation = np.zeros(self.nact)
        self.act_group = np.full(self.nc, -1)  # conduction state of each compartment
        self.perf_group = np.full(self.nc, -1)  # perfusion state of each compartment
        self._kex0 = self.kex.copy()
        self.act_drug = np.full(self.nact, -1)  # component of the vasodilator, -1 none
        self.act_ec50 = np.array([getattr(a, "drug_ec50", 1.0) for _, a, _ in acts])
        self.act_drug_rate = np.array([getattr(a, "drug_rate", 0.0) for _, a, _ in acts])
        self.act_cells: list[np.ndarray] = []
        if not acts:
            return
        off = self.cell_offset
        ncell = mesh.n_cells
        for g, (k, a, perf) in enumerate(acts):
            cells = off + np.flatnonzero(mesh.layer_of_cell == k)
            self.act_cells.append(cells)
            (self.perf_group if perf else self.act_group)[cells] = g
            if perf and a.drug is not None:
                comp = self.spec.component_index(a.drug)
                if comp is None:
                    raise ValueError(f"vasodilator {a.drug!r} is not a conserved total")
                self.act_drug[g] = comp
        if np.any(~self.act_perfusion) and problem.smoothing > 0:
            raise ValueError("conductance activation needs sharp layers (smoothing 0)")
        half = _ratio(0.5 * mesh.widths[:, None], cds)  # (cells, n) s/m per ref area
        rc = np.zeros((self.nc, self.n))
        rc[off : off + ncell] = half
        nf = self.nc + 1
        self._ra = np.zeros((nf, self.n))  # left half of each face
        self._rb = np.zeros((nf, self.n))  # right half
        self._ra[1:] = rc
        self._rb[:-1] = rc
        self._ga = np.full(nf, -1)
        self._gb = np.full(nf, -1)
        self._ga[1:] = self.act_group
        self._gb[:-1] = self.act_group
        self._act_faces = np.flatnonzero((self._ga >= 0) | (self._gb >= 0))
        f = self._act_faces  # their half resistances and groups, gathered once
        self._ra_f, self._rb_f = self._ra[f], self._rb[f]
        self._ga_f, self._gb_f = self._ga[f], self._gb[f]
        self._mobile_f = (self._ra_f + self._rb_f) != 0.0  # 0: an immobile species
        self.set_activation(self.activation)

    def set_activation(self, a: np.ndarray) -> None:
        """Activation states (-) the face conductances and exchange rates follow."""
        self.activation = np.asarray(a, dtype=float).copy()
        if not self.nact:
            return
        gain = np.append(1.0 + self.act_gain * self.activation, 1.0)  # index -1: none
        f = self._act_faces
        if f.size:
            r = self._ra_f / gain[self._ga_f][:, None] + self._rb_f / gain[self._gb_f][:, None]
            d_over = np.zeros_like(r)
            np.divide(1.0, r, out=d_over, where=self._mobile_f)
            self.d_over[f] = d_over
            self.drift[f] = r
        if np.any(self.act_perfusion):
            self.kex = self._kex0 * gain[self.perf_group]
            self._vk = self.volumes * self.kex

    def _drug_level(self, state: np.ndarray) -> np.ndarray:
        """Mean vasodilator total (mol/m^3) over each state's layer (0 without one)."""
        out = np.zeros(self.nact)
        for g, comp in enumerate(self.act_drug):
            if comp >= 0:
                cells = self.act_cells[g]
                vol = self.volumes[cells]
                out[g] = float(vol @ state[cells, comp]) / float(vol.sum())
        return out

    def _mean_abs(self, i: float) -> float:
        """|i| (A/m^2), or its mean over a cycle-averaged pulse train."""
        return abs(i) if self.cycle is None else self.cycle[0] + self.cycle[1]

    def activation_rhs(self, i: float, state: np.ndarray) -> np.ndarray:
        """da/dt (1/s) of every state at current density i (A/m^2, reference) and
        compartment states ``state`` (the vasodilator's level)."""
        local = self._mean_abs(i) / self.act_scale
        drug = self._drug_level(state)
        drive = local / self.act_charge + self.act_drug_rate * drug / (drug + self.act_ec50)
        return np.asarray(drive * (1.0 - self.activation) - self.activation / self.act_tau)

    def activation_partials(
        self, i: float, state: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """d(da/dt)/da (1/s, diagonal), d(da/dt)/di (m^2/(A s)) and d(da/dt)/dT of the
        compartment totals (nact, nc, m; m^3/(mol s))."""
        local = self._mean_abs(i) / self.act_scale
        drug = self._drug_level(state)
        sat = drug / (drug + self.act_ec50)
        da = -(local / self.act_charge + self.act_drug_rate * sat + 1.0 / self.act_tau)
        di = np.sign(i) / (self.act_scale * self.act_charge) * (1.0 - self.activation)
        dt = np.zeros((self.nact, self.nc, self.m))
        for g, comp in enumerate(self.act_drug):
            if comp >= 0:
                cells = self.act_cells[g]
                vol = self.volumes[cells]
                slope = self.act_drug_rate[g] * self.act_ec50[g] / (drug[g] + self.act_ec50[g]) ** 2
                dt[g, cells, comp] = slope * (1.0 - self.activation[g]) * vol / vol.sum()
        return da, di, dt

    def activation_columns(
        self, g: int, z_state: np.ndarray, i: float, c: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact derivatives by the conduction state g of F (nc + 1, bs) and of the
        quadrature rates. The state changes only the faces touching its layer: their
        resistance r = r_a / g_a + r_b / g_b (g = 1 + gain a) sets D/d = 1/r and the
        drift r, and each such face's Scharfetter-Gummel flux is differentiated in r
        (a handful of faces instead of two whole residuals by central differences).
        ``c``: the species concentrations (nc, n) of ``z_state`` when already known."""
        m = self.m
        col = np.zeros((self.nc + 1, self.bs))
        qcol = np.zeros(self.quadrature_size())
        faces = self._act_faces
        faces = faces[(self._ga[faces] == g) | (self._gb[faces] == g)]
        faces = faces[(faces >= self._s0) & (faces < self._s1)]  # SG faces only
        if not faces.size:
            return col, qcol
        slope = -self.act_gain[g] / (1.0 + self.act_gain[g] * self.activation[g]) ** 2
        dr = slope * (
            (self._ga[faces] == g)[:, None] * self._ra[faces]
            + (self._gb[faces] == g)[:, None] * self._rb[faces]
        )
        r = self.drift[faces]
        d_over = self.d_over[faces]
        d_d_over = -_ratio(dr, r * r)  # an immobile species (r = 0) has no flux
        if c is None:
            c = self.full(z_state[:-1, 1:])
        ext = np.empty((self.nc + 2, self.n))
        ext[0], ext[-1], ext[1:-1] = self.left.c, self.right.c, c
        c_a, c_b = ext[faces], ext[faces + 1]
        peclet = r * (self.eo * i) - self.z * z_state[faces, 0][:, None]
        b, db = bernoulli_and_derivative(peclet)
        dflux = d_d_over * ((b + peclet) * c_a - b * c_b) + d_over * (
            (db + 1.0) * c_a - db * c_b
        ) * (dr * (self.eo * i))
        col[faces, 0] = dflux @ self.z
        dcomp = dflux @ self.spec.A.T
        into = faces < self.nc  # face f is the left face of compartment f
        col[faces[into], 1 : 1 + m] += dcomp[into]
        out_of = faces >= 1
        col[faces[out_of] - 1, 1 : 1 + m] -= dcomp[out_of]
        nb = self.nbal
        for end, offset in ((0, 0), (self.nc, nb)):
            hit = np.flatnonzero(faces == end)
            if hit.size:
                qcol[offset : offset + m] = dcomp[hit[0]]
                qcol[offset + m] = -(dcomp[hit[0]] @ self.spec.zp) / self.z_en
        return col, qcol

    def perfusion_columns(
        self, g: int, state: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exact derivatives by the perfusion state g of F (nc + 1, bs), of the quadrature
        rates and of the plasma uptake (nsys,). The state only scales the exchange rate
        of its layer, kex = kex0 (1 + gain p), and F, the exchange quadratures and the
        uptake are linear in kex: no differencing needed."""
        m = self.m
        cells = self.act_cells[g]
        vdk = self.volumes[cells] * self._kex0[cells] * self.act_gain[g]
        diff = state[cells, :m] - self.t_ext_now
        col = np.zeros((self.nc + 1, self.bs))
        col[cells, 1 : 1 + m] = -vdk[:, None] * diff
        qcol = np.zeros(self.quadrature_size())
        nb = self.nbal
        ex = qcol[2 * nb : 2 * nb + self.nc * nb].reshape(self.nc, nb)  # a view
        ex[cells, :m] = vdk[:, None] * diff
        ex[cells, m] = -(ex[cells, :m] @ self.spec.zp) / self.z_en
        up = vdk @ (state[cells][:, self.sys_comp] - self.plasma_now)
        return col, qcol, np.asarray(up)

    def perfusion(self, activation: np.ndarray) -> np.ndarray:
        """Relative perfusion (-) of every compartment: 1 + gain p (1 outside)."""
        gain = np.append(1.0 + self.act_gain * np.asarray(activation), 1.0)
        return np.asarray(gain[self.perf_group]) if self.nact else np.ones(self.nc)

    def cell_conductivity(self, state: np.ndarray, activation: np.ndarray) -> np.ndarray:
        """Ohmic conductivity (S/m) of every mesh cell, F^2/RT sum z^2 D c, with the
        activation states given."""
        c = self.full(state)[self.cell_offset : self.cell_offset + self.mesh.n_cells]
        d = self.cell_d
        if self.nact:
            gain = np.append(1.0 + self.act_gain * np.asarray(activation), 1.0)
            grp = self.act_group[self.cell_offset : self.cell_offset + self.mesh.n_cells]
            d = d * gain[grp][:, None]  # perfusion states are not in act_group
        return np.asarray(FARADAY * self.f_t * ((d * c) @ (self.z**2)))

    # ------------------------------------------------------------------ capacitance
    def _setup_capacitance(self, problem: Problem, mesh: Mesh) -> None:
        """Layers with a capacitance in parallel with their ionic path: the faces from
        the layer's left boundary to its right boundary carry the ionic current i_ion
        (a border unknown) instead of i; the charge Q (C/m^2 of the reference area,
        dQ/dt = i - i_ion) sits on the cells on either side as a surface charge, +Q in
        the left neighbour and -Q in the right one, spread evenly over the neighbouring
        layer's cells within PLATE (5 um) of the interface (at least one cell), entering
        their electroneutrality like fixed charge (a fixed thickness, so the composition
        change Q / (F PLATE) does not depend on the mesh); the layer's potential drop is
        Q / C."""
        caps = [(k, la.capacitance) for k, la in enumerate(problem.layers) if la.capacitance]
        self.ncap = len(caps)
        self._fixed0 = self.fixed_charge.copy()
        self.cap_faces: list[np.ndarray] = []
        self.cap_plates: list[tuple[np.ndarray, np.ndarray]] = []
        scales = np.asarray(problem.area_scales())
        self.cap_value = np.array([float(c) * scales[k] for k, c in caps])  # F/m^2 ref area
        self.cap_charge = np.zeros(self.ncap)
        self.cap_current = np.zeros(self.ncap)
        self._target_faces = np.zeros(0, dtype=int)
        self._target_owner = np.zeros(0, dtype=int)
        off = self.cell_offset
        for k, _ in caps:
            cells = np.flatnonzero(mesh.layer_of_cell == k)
            c0, c1 = int(cells[0]), int(cells[-1]) + 1
            if c0 == 0 or c1 == mesh.n_cells:
                raise ValueError(
                    f"layer {problem.layers[k].name!r} has a capacitance but no layer on one "
                    "side to hold its charge: put it between two layers"
                )
            self.cap_faces.append(np.arange(off + c0, off + c1 + 1))
            x0, x1 = mesh.faces[c0], mesh.faces[c1]
            lay = mesh.layer_of_cell
            left = np.flatnonzero((lay == lay[c0 - 1]) & (mesh.centres > x0 - PLATE))
            right = np.flatnonzero((lay == lay[c1]) & (mesh.centres < x1 + PLATE))
            left = left[left < c0] if left.size else np.array([c0 - 1])
            right = right[right >= c1] if right.size else np.array([c1])
            self.cap_plates.append((off + left, off + right))
        self.cap_offset = np.zeros(self.ncap)
        if self.ncap:
            self._target_faces = np.concatenate(self.cap_faces) - self._s0
            self._target_owner = np.concatenate(
                [np.full(f.size, g) for g, f in enumerate(self.cap_faces)]
            )
            # the layer's potential drop at rest (Donnan and diffusion potentials): the
            # capacitor's voltage Q / C is counted from it
            self.fluxes(self.state0, 0.0)
            self.cap_offset = self.capacitor_voltage(self.last_u)

    def set_capacitors(self, charge: np.ndarray, current: np.ndarray) -> None:
        """Capacitor charges (C/m^2) and ionic currents (A/m^2) through the capacitive
        layers, per reference area."""
        if not self.ncap:
            return
        self.cap_charge = np.asarray(charge, dtype=float).copy()
        self.cap_current = np.asarray(current, dtype=float).copy()
        fixed = self._fixed0.copy()
        for q, (left, right) in zip(self.cap_charge, self.cap_plates, strict=True):
            fixed[left] -= q / (FARADAY * self.volumes[left].sum())
            fixed[right] += q / (FARADAY * self.volumes[right].sum())
        self.fixed_charge = fixed

    def _targets(self, i: float) -> float | np.ndarray:
        """i/F on every solved face (mol/(m^2 s)), i_ion/F through capacitive layers."""
        if not self.ncap:
            return i / FARADAY
        target = np.full(self._s1 - self._s0, i / FARADAY)
        target[self._target_faces] = self.cap_current[self._target_owner] / FARADAY
        return target

    def capacitor_voltage(self, u_faces: np.ndarray) -> np.ndarray:
        """Potential drop (V) across every capacitive layer, from the face steps."""
        return np.array([-u_faces[f].sum() / self.f_t for f in self.cap_faces])

    # ------------------------------------------------------------------ set-up helpers
    def _end(self, boundary: object, x_end: float, cell_totals: np.ndarray) -> _End:
        spec = self.spec
        comp_names = [self.names[k] for k in spec.comp]
        zeros = np.zeros(self.n)
        if isinstance(boundary, FixedBoundary):
            totals = np.array([[boundary.concentrations.get(nm, 0.0) for nm in comp_names]])
            ph = np.array([np.nan if boundary.pH is None else boundary.pH])
            state = spec.state_from(totals, np.array([x_end]), ph)
            c = spec.concentrations(state, np.array([x_end]))[0]
            return _End(False, 0.0, zeros, zeros, c, state[0, : self.m], np.nan, x_end)
        if isinstance(boundary, ReservoirBoundary):
            an, ca = stoichiometry(boundary.reaction, self.names)
            totals = np.array([boundary.initial.get(nm, 0.0) for nm in comp_names])
            ph_res = np.nan if boundary.initial_pH is None else boundary.initial_pH
            end = _End(True, boundary.volume_per_area, an, ca, zeros, totals, ph_res, x_end)
            return self._with_capacity(end, boundary.reaction)
        if isinstance(boundary, ElectrodeBoundary):
            an, ca = stoichiometry(boundary.reaction, self.names)
        elif isinstance(boundary, NoFluxBoundary):
            an, ca = zeros, zeros
        else:  # pragma: no cover - the Boundary union is closed
            raise TypeError(boundary)
        # a zero-volume node: starts like the neighbouring cell; made consistent later
        end = _End(True, 0.0, an, ca, zeros, cell_totals.copy(), np.nan, x_end)
        if isinstance(boundary, ElectrodeBoundary):
            return self._with_capacity(end, boundary.reaction)
        return end

    def _with_capacity(self, end: _End, reaction: ElectrodeReaction | None) -> _End:
        if reaction is None or (
            reaction.anodic_capacity is None and reaction.cathodic_capacity is None
        ):
            return end
        for name in (*reaction.exhausted_anodic, *reaction.exhausted_cathodic):
            if name not in self.names:
                raise ValueError(
                    f"electrode {reaction.name!r} has a capacity, and once spent it makes "
                    f"{name}: add {name} (and water's equilibrium) to the species"
                )
        spent = stoichiometry(
            ElectrodeReaction("spent", reaction.exhausted_anodic, reaction.exhausted_cathodic),
            self.names,
        )
        end.fresh = (end.anodic, end.cathodic)
        end.spent = spent
        return end

    def set_spent(self, left: tuple[bool, bool], right: tuple[bool, bool]) -> None:
        """Switch each end's electrode chemistry: (anodic, cathodic) spent or not."""
        for end, flags in ((self.left, left), (self.right, right)):
            if end.fresh is None or end.spent is None:
                continue
            end.anodic = end.spent[0] if flags[0] else end.fresh[0]
            end.cathodic = end.spent[1] if flags[1] else end.fresh[1]

    def electrode_flux(self, end: _End, anodic_current: float) -> np.ndarray:
        """Species released into the medium (mol/(m^2 s)) by an end's electrode passing
        the given anodic current density (A/m^2; negative = cathodic). Under a
        cycle-averaged pulse train (``cycle``) the mean anodic and cathodic parts react
        separately."""
        if self.cycle is not None:
            ia, ic = self.cycle[0], self.cycle[1]
            if end is self.right:
                ia, ic = ic, ia  # the right electrode's anodic current is -i
            return (end.anodic * ia + end.cathodic * ic) / FARADAY
        if anodic_current >= 0:
            return end.anodic * (anodic_current / FARADAY)
        return end.cathodic * (-anodic_current / FARADAY)

    def electrode_flux_slope(self, end: _End, anodic_current: float) -> np.ndarray:
        """d(electrode_flux)/d(anodic current), mol/(A s)."""
        if anodic_current >= 0:
            return end.anodic / FARADAY
        return -end.cathodic / FARADAY

    # ------------------------------------------------------------------ state helpers
    def full(self, state: np.ndarray) -> np.ndarray:
        """Species concentrations (nc, n) from compartment states (nc, m + r)."""
        return self.spec.concentrations(state, self.fixed_charge)

    def balance_amounts(self, state: np.ndarray) -> np.ndarray:
        """Amount per area (mol/m^2) of every balance quantity (components, then the
        electroneutrality species) in the whole stack."""
        t = self.volumes @ state[:, : self.m]
        en = -(self.volumes @ self.fixed_charge + self.spec.zp @ t) / self.z_en
        return np.append(t, en)

    def balance_index(self, species: str) -> int | None:
        """Balance quantity of a species (its component, or the electroneutrality
        species), None for a secondary species."""
        if species == self.names[self.en]:
            return self.m
        return self.spec.component_index(species)

    def pack(self, state: np.ndarray, u_faces: np.ndarray) -> np.ndarray:
        """Z from compartment states (nc, m + r) and face potentials (nc + 1,)."""
        z_state = np.zeros((self.nc + 1, self.bs))
        z_state[:, 0] = u_faces
        z_state[:-1, 1:] = state
        return z_state

    def mass_vector(self) -> np.ndarray:
        """Diagonal of M for the flattened Z (m of compartment volume per area)."""
        mass = np.zeros((self.nc + 1, self.bs))
        mass[:-1, 1 : 1 + self.m] = self.volumes[:, None]
        return mass.ravel()

    def error_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Weights of the components of Z in the integrator's error norm (volume per
        area, m; 0 = not controlled) and which are log-concentrations (measured in ln
        units). Totals and free concentrations count with their compartment's volume (a
        zero-volume end node with its neighbour's); potentials are not controlled."""
        vol = self.volumes.copy()
        if self.left_node and vol[0] == 0.0:
            vol[0] = vol[1]
        if self.right_node and vol[-1] == 0.0:
            vol[-1] = vol[-2]
        weight = np.zeros((self.nc + 1, self.bs))
        weight[:-1, 1:] = vol[:, None]
        logs = np.zeros((self.nc + 1, self.bs), dtype=bool)
        logs[:-1, 1 + self.m :] = self.spec.log_var[None, :]
        return weight.ravel(), logs.ravel()

    def algebraic_mask(self) -> np.ndarray:
        """Components of Z with no time derivative (potentials, free concentrations,
        totals of zero-volume nodes, placeholders)."""
        return self.mass_vector() == 0.0

    def equilibrium_drift(self, state: np.ndarray) -> float:
        """Largest residual of the fast equilibria, relative to the component totals
        involved (0 without equilibria)."""
        if not self.r:
            return 0.0
        c = self.full(state)
        res = self.spec.equilibrium_residual(state, c)
        scale = np.abs(c) @ np.abs(self.spec.A[self.spec.reactive_comp]).T + 1e-12
        return float(np.max(np.abs(res) / scale))

    def equilibrate(self, z_state: np.ndarray, i: float) -> np.ndarray | None:
        """Z with the fast equilibria restored in the compartments where they drifted
        by more than 1e-4 of their totals (1 % of the drift that calls for a projection;
        the totals are kept, so every balance is untouched) and the potentials of those
        compartments' faces re-solved for the new concentrations: the cheap, local
        projection after a linearly implicit step. None if a local solve fails."""
        state = z_state[:-1, 1:]
        c = self.full(state)
        res = self.spec.equilibrium_residual(state, c)
        scale = np.abs(c) @ np.abs(self.spec.A[self.spec.reactive_comp]).T + 1e-12
        rows = np.flatnonzero(np.max(np.abs(res) / scale, axis=1) > 1e-4)
        out = z_state.copy()
        if not rows.size:
            return out
        fixed = self.spec.equilibrate(state[rows], self.fixed_charge[rows])
        if fixed is None:
            return None
        out[rows, 1:] = fixed
        # only the faces of the re-solved compartments see new concentrations (face f is
        # the left face of compartment f)
        touched = np.zeros(self.nc + 1, dtype=bool)  # (np.union1d would import numpy.ma)
        touched[rows] = touched[rows + 1] = True
        faces = np.flatnonzero(touched[self._s0 : self._s1]) + self._s0
        if faces.size:
            try:
                out[faces, 0] = self._face_potentials(out[:-1, 1:], i, faces, z_state[faces, 0])
            except FloatingPointError:
                return None
        return out

    def _face_potentials(
        self, state: np.ndarray, i: float, faces: np.ndarray, u0: np.ndarray
    ) -> np.ndarray:
        """Scaled potential steps u of the given solved faces (ascending) from the
        current condition at current density i (A/m^2), for compartment states ``state``
        (nc, m + r), starting from ``u0``."""
        touched = np.zeros(self.nc + 1, dtype=bool)  # compartments f - 1 and f of face f
        touched[faces - 1] = touched[faces] = True  # (face 0's -1 lands on nc: dropped)
        near = np.flatnonzero(touched[: self.nc])
        ext = self._ext.copy()
        ext[near + 1] = self.spec.concentrations(state[near], self.fixed_charge[near])
        target = self._targets(i)
        if isinstance(target, np.ndarray):
            target = target[faces - self._s0]
        drift = self.drift[faces] * (self.eo * i)
        return solve_face_potential(
            ext[faces], ext[faces + 1], self.d_over[faces], drift, self.z, target, u0
        )

    def damped_mask(self) -> np.ndarray:
        """Components of Z whose Newton steps are limited: potential steps and log
        concentrations (in thermal voltages / natural-log units)."""
        mask = np.zeros((self.nc + 1, self.bs), dtype=bool)
        mask[:, 0] = True
        mask[:, 1 + self.m :] = self.spec.log_var[None, :]
        return mask.ravel()

    def voltage_of(self, u_faces: np.ndarray) -> float:
        """phi(0) - phi(L) (V) from the face potential steps of a state."""
        return float(-u_faces.sum() / self.f_t)

    def quadrature_size(self) -> int:
        """Number of quadrature states: in, out, exchange per compartment, reactions,
        elimination from each plasma compartment."""
        return (3 + self.nc) * self.nbal + self.nsys

    # ------------------------------------------------------------------ plasma
    def set_plasma(self, plasma: np.ndarray) -> None:
        """Plasma concentrations (mol/m^3) the exchange term works against from now on."""
        self.plasma_now = np.asarray(plasma, dtype=float).copy()
        self.t_ext_now = self.t_ext.copy()
        self.t_ext_now[self.sys_comp] = self.plasma_now

    def border0(self) -> np.ndarray:
        """Initial border states: plasma concentrations (mol/m^3), activations (0),
        capacitor charges (0) and ionic currents through capacitive layers (0)."""
        return np.concatenate([self.plasma0, np.zeros(self.nact + 2 * self.ncap)])

    def border_now(self) -> np.ndarray:
        """Current border states (plasma, activation, capacitor charges and currents)."""
        return np.concatenate([self.plasma_now, self.activation, self.cap_charge, self.cap_current])

    def set_border(self, border: np.ndarray) -> None:
        """Set plasma concentrations, activation states and capacitors from a border
        vector (see ``border_now``)."""
        self.set_plasma(border[: self.nsys])
        a0 = self.nsys + self.nact
        if self.nact:
            self.set_activation(border[self.nsys : a0])
        if self.ncap:
            self.set_capacitors(border[a0 : a0 + self.ncap], border[a0 + self.ncap :])

    def plasma_rhs(self, state: np.ndarray) -> np.ndarray:
        """(V/A) dC/dt per plasma compartment: uptake from the skin minus elimination,
        mol/(m^2 s) per treated area."""
        t = state[:, self.sys_comp]
        uptake = (self.volumes * self.kex) @ (t - self.plasma_now)
        return np.asarray(uptake - self.sys_clear * self.plasma_now)

    def plasma_coupling(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Constant Jacobian blocks of the plasma coupling: dF_Z/dC (n_band, k),
        dF_C/dZ (k, n_band) and dF_C/dC (k, k)."""
        k = self.nsys
        vk = self.volumes * self.kex
        col = np.zeros((self.nc + 1, self.bs, k))
        row = np.zeros((k, self.nc + 1, self.bs))
        for s_idx, j in enumerate(self.sys_comp):
            col[:-1, 1 + j, s_idx] = vk
            row[s_idx, :-1, 1 + j] = vk
        corner = -np.diag(vk.sum() + self.sys_clear) if k else np.zeros((0, 0))
        return col.reshape(-1, k), row.reshape(k, -1), corner

    def plasma_quadrature_jvp(
        self, d_plasma: np.ndarray, vk: np.ndarray | None = None
    ) -> np.ndarray:
        """Quadrature rates' derivative by the plasma concentrations, times d_plasma."""
        out = np.zeros(self.quadrature_size())
        if not self.nsys:
            return out
        nb = self.nbal
        ex = np.zeros((self.nc, nb))
        if vk is None:
            vk = self.volumes * self.kex
        for s_idx, j in enumerate(self.sys_comp):
            ex[:, j] -= vk * d_plasma[s_idx]
        ex[:, self.m] = -(ex[:, : self.m] @ self.spec.zp) / self.z_en
        out[2 * nb : 2 * nb + self.nc * nb] = ex.ravel()
        out[-self.nsys :] = self.sys_clear * d_plasma
        return out

    # ------------------------------------------------------------------ exact fluxes
    def fluxes(self, state: np.ndarray, i: float) -> np.ndarray:
        """Species fluxes (faces, n) in +x, mol/(m^2 s), with every face potential
        solved exactly (Newton) from the current condition; sets ``last_u`` (nc + 1,)."""
        c = self.full(state)
        ext = self._ext.copy()
        ext[1:-1] = c
        s = slice(self._s0, self._s1)
        c_a, c_b = ext[self._s0 : self._s1], ext[self._s0 + 1 : self._s1 + 1]
        d_over = self.d_over[s]
        drift = self.drift[s] * (self.eo * i)
        target = self._targets(i)
        u = solve_face_potential(c_a, c_b, d_over, drift, self.z, target, self._u_guess)
        self._u_guess = u
        peclet = drift - self.z * u[:, None]
        b = bernoulli(peclet)
        flux = np.zeros((self.nc + 1, self.n))
        flux[s] = d_over * ((b + peclet) * c_a - b * c_b)
        if not self.left_solved:
            flux[0] = self.electrode_flux(self.left, i)
        if not self.right_solved:
            flux[-1] = -self.electrode_flux(self.right, -i)
        other = np.arange(self.n) != self.en
        flux[s, self.en] = (target - flux[s][:, other] @ self.z[other]) / self.z_en
        self.last_u = np.zeros(self.nc + 1)
        self.last_u[s] = u
        return flux

    def initial_u(self, state: np.ndarray, i: float) -> np.ndarray:
        """A good guess of the face potentials: exact for the current state's
        concentrations (the algebraic concentrations are polished afterwards)."""
        self.fluxes(state, i)
        return self.last_u.copy()

    # ------------------------------------------------------------------ residual
    def dae_rhs(
        self, z_state: np.ndarray, i: float, jac: bool
    ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray] | None]:
        """F(Z) (nb, bs), the quadrature rates and, with ``jac``, derivative data.

        A trial stage far outside the physical range (a step the integrator will reject)
        may overflow; the integrator checks every stage for finite values, so those
        floating-point warnings are silenced here."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._dae_rhs(z_state, i, jac)

    def _dae_rhs(
        self, z_state: np.ndarray, i: float, jac: bool
    ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray] | None]:
        nc, n, m = self.nc, self.n, self.m
        spec = self.spec
        state = z_state[:-1, 1:]
        u_all = z_state[:, 0]
        c = spec.concentrations(state, self.fixed_charge)
        ext = self._ext
        ext[1:-1] = c
        s0, s1 = self._s0, self._s1
        s = slice(s0, s1)
        c_a, c_b = ext[s0:s1], ext[s0 + 1 : s1 + 1]
        d_over = self.d_over[s]
        peclet = self.drift[s] * (self.eo * i) - self.z * u_all[s, None]
        if jac:
            b, db = bernoulli_and_derivative(peclet)
        else:
            b = bernoulli(peclet)
        bm = b + peclet
        fl = d_over * (bm * c_a - b * c_b)  # every species, SG
        target = self._targets(i)
        flux = np.empty((nc + 1, n))
        flux[s] = fl
        if not self.left_solved:
            flux[0] = self.electrode_flux(self.left, i)
        if not self.right_solved:
            flux[-1] = -self.electrode_flux(self.right, -i)
        comp_flux = flux @ spec.A.T  # (faces, m)
        t = state[:, :m]
        src = -self.kex[:, None] * (t - self.t_ext_now)
        for a, bb, rate in self.reactions:
            conv = rate * t[:, a]
            src[:, a] -= conv
            src[:, bb] += conv
        out = np.empty((nc + 1, self.bs))
        out[:, 0] = -u_all
        out[s, 0] = fl @ self.z - target
        out[:-1, 1 : 1 + m] = comp_flux[:-1] - comp_flux[1:] + self.volumes[:, None] * src
        if self.r:
            out[:-1, 1 + m :] = spec.equilibrium_residual(state, c)
        out[-1, 1:] = -z_state[-1, 1:]
        # balance fluxes: components, and the electroneutrality species from the current
        bal = np.empty((nc + 1, self.nbal))
        bal[:, :m] = comp_flux
        bal[:, m] = flux[:, self.en]
        bal[s, m] = (target - comp_flux[s] @ spec.zp) / self.z_en
        q = self._quadrature(bal, t)
        if not jac:
            return out, q, None
        return out, q, self._derivatives(c, c_a, c_b, d_over, b, db, bm, i)

    def _quadrature(self, bal: np.ndarray, t: np.ndarray) -> np.ndarray:
        nb, nc, m = self.nbal, self.nc, self.m
        out = np.zeros(self.quadrature_size())
        out[:nb] = bal[0]
        out[nb : 2 * nb] = bal[-1]
        ex = out[2 * nb : 2 * nb + nc * nb].reshape(nc, nb)  # a view: filled in place
        ex[:, :m] = self._vk[:, None] * (t - self.t_ext_now)
        ex[:, m] = -(ex[:, :m] @ self.spec.zp) / self.z_en
        rx = out[2 * nb + nc * nb : 3 * nb + nc * nb]
        for a, b, rate in self.reactions:
            conv = float(self.volumes @ (rate * t[:, a]))
            rx[a] -= conv
            rx[b] += conv
        if self.nsys:
            out[-self.nsys :] = self.sys_clear * self.plasma_now
        return out

    def _derivatives(
        self,
        c: np.ndarray,
        c_a: np.ndarray,
        c_b: np.ndarray,
        d_over: np.ndarray,
        b: np.ndarray,
        db: np.ndarray,
        bm: np.ndarray,
        i: float,
    ) -> dict[str, np.ndarray]:
        spec = self.spec
        nc, m, ns = self.nc, self.m, self.ns
        nf = nc + 1
        s = slice(self._s0, self._s1)
        dc = spec.derivatives(c)  # (nc, n, ns)
        dc_ext = np.zeros((nc + 2, self.n, ns))
        dc_ext[1:-1] = dc
        dn_dp = d_over * ((db + 1.0) * c_a - db * c_b)
        dn_du = -self.z * dn_dp  # (sf, n)
        # dN/dstate of the left (a) and right (b) compartment of each solved face
        dna = (d_over * bm)[:, :, None] * dc_ext[self._s0 : self._s1]
        dnb = (-d_over * b)[:, :, None] * dc_ext[self._s0 + 1 : self._s1 + 1]
        ca = np.zeros((nf, m, ns))
        cb = np.zeros((nf, m, ns))
        cu = np.zeros((nf, m))
        ga = np.zeros((nf, ns))
        gb = np.zeros((nf, ns))
        gu = -np.ones(nf)
        # contractions over species as single matrix products (einsum is slower here)
        ca[s] = np.tensordot(dna, spec.A, axes=([1], [1])).transpose(0, 2, 1)
        cb[s] = np.tensordot(dnb, spec.A, axes=([1], [1])).transpose(0, 2, 1)
        cu[s] = dn_du @ spec.A.T
        ga[s] = np.tensordot(dna, self.z, axes=([1], [0]))
        gb[s] = np.tensordot(dnb, self.z, axes=([1], [0]))
        gu[s] = dn_du @ self.z
        # by the current density: drift and the electrode fluxes
        dn_di = dn_dp * (self.drift[s] * self.eo)
        dflux = np.zeros((nf, self.n))
        dflux[s] = dn_di
        if not self.left_solved:
            dflux[0] = self.electrode_flux_slope(self.left, i)
        if not self.right_solved:
            dflux[-1] = self.electrode_flux_slope(self.right, -i)
        dcomp = dflux @ spec.A.T
        f_i = np.zeros((nf, self.bs))
        f_i[s, 0] = dn_di @ self.z - 1.0 / FARADAY
        if self.ncap:  # the ionic current through a capacitive layer is i_ion, not i
            f_i[self._target_faces + self._s0, 0] += 1.0 / FARADAY
        f_i[:-1, 1 : 1 + m] = dcomp[:-1] - dcomp[1:]
        dbal = np.empty((nf, self.nbal))
        dbal[:, :m] = dcomp
        dbal[:, m] = dflux[:, self.en]
        dbal[s, m] = (1.0 / FARADAY - dcomp[s] @ spec.zp) / self.z_en
        q_i = np.zeros(self.quadrature_size())  # (plasma terms do not depend on i)
        q_i[: self.nbal] = dbal[0]
        q_i[self.nbal : 2 * self.nbal] = dbal[-1]
        data = {"ca": ca, "cb": cb, "cu": cu, "ga": ga, "gb": gb, "gu": gu}
        data["vk"] = self._vk.copy()  # exchange at the linearisation point (perfusion)
        data["c"] = c  # species concentrations at the linearisation point
        data["F_i"] = f_i.ravel()
        data["q_i"] = q_i
        if self.r:
            data["geq"] = spec.equilibrium_jacobian(dc)
        return data

    # ------------------------------------------------------------------ Jacobian
    def jacobian_pattern(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cols) in the flat Z ordering of the dense block-tridiagonal entries
        that ``jacobian_values`` fills, in the same order."""
        if self._pattern is None:
            nb, bs = self.nc + 1, self.bs
            k = np.arange(bs)
            rows, cols = [], []
            for lo, hi, delta in ((1, nb, -1), (0, nb, 0), (0, nb - 1, 1)):
                j = np.arange(lo, hi)[:, None, None]
                r = j * bs + k[None, :, None]
                cc = (j + delta) * bs + k[None, None, :]
                rows.append(np.broadcast_to(r, (hi - lo, bs, bs)).ravel())
                cols.append(np.broadcast_to(cc, (hi - lo, bs, bs)).ravel())
            self._pattern = (np.concatenate(rows), np.concatenate(cols))
        return self._pattern

    def jacobian_blocks(
        self, d: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Blocks (lower, diag, upper), each (nc + 1, bs, bs), of dF/dZ."""
        nc, m, bs = self.nc, self.m, self.bs
        nb = nc + 1
        lower = np.zeros((nb, bs, bs))
        diag = np.zeros((nb, bs, bs))
        upper = np.zeros((nb, bs, bs))
        ca, cb, cu, ga, gb, gu = d["ca"], d["cb"], d["cu"], d["ga"], d["gb"], d["gu"]
        tr = slice(1, 1 + m)  # total rows
        st = slice(1, bs)  # state columns
        # face j current condition (row 0 of block j): by c_{j-1}, u_j, c_j
        lower[1:, 0, st] = ga[1:]
        diag[:, 0, 0] = gu
        diag[:nc, 0, st] = gb[:nc]
        # totals of compartment j: + face j (in) - face j + 1 (out)
        lower[1:nc, tr, st] = ca[1:nc]
        diag[:nc, tr, 0] = cu[:nc]
        diag[:nc, tr, st] = cb[:nc] - ca[1:]
        upper[:nc, tr, 0] = -cu[1:]
        upper[: nc - 1, tr, st] = -cb[1:nc]
        idx = np.arange(m)
        diag[:nc, 1 + idx, 1 + idx] -= (self.volumes * self.kex)[:, None]
        for a, b, rate in self.reactions:
            diag[:nc, 1 + a, 1 + a] -= self.volumes * rate
            diag[:nc, 1 + b, 1 + a] += self.volumes * rate
        if self.r:
            diag[:nc, 1 + m :, st] = d["geq"]
        diag[nc, st, st] = -np.eye(bs - 1)
        return lower, diag, upper

    def jacobian_values(self, d: dict[str, np.ndarray]) -> np.ndarray:
        """Jacobian entries in the order of ``jacobian_pattern``."""
        lower, diag, upper = self.jacobian_blocks(d)
        return np.concatenate([lower[1:].ravel(), diag.ravel(), upper[:-1].ravel()])

    def dae_quadrature_jvp(self, d: dict[str, np.ndarray], v: np.ndarray) -> np.ndarray:
        """Jacobian of the quadrature rates times a direction v (nb, bs) in Z."""
        m, nbal, nc = self.m, self.nbal, self.nc
        vs = v[:-1, 1:]
        zp = self.spec.zp
        out = np.zeros(self.quadrature_size())
        if self.left_solved:  # face 0: the bath on the left, compartment 0 on the right
            comp = d["cu"][0] * v[0, 0] + d["cb"][0] @ vs[0]
            out[:m] = comp
            out[m] = -(comp @ zp) / self.z_en
        if self.right_solved:  # face nc: compartment nc - 1, then the bath
            comp = d["cu"][nc] * v[nc, 0] + d["ca"][nc] @ vs[nc - 1]
            out[nbal : nbal + m] = comp
            out[nbal + m] = -(comp @ zp) / self.z_en
        ex = out[2 * nbal : 2 * nbal + nc * nbal].reshape(nc, nbal)  # a view
        np.multiply(d["vk"][:, None], vs[:, :m], out=ex[:, :m])
        ex[:, m] = (ex[:, :m] @ zp) * (-1.0 / self.z_en)
        if self.reactions:
            rx = out[2 * nbal + nc * nbal : 3 * nbal + nc * nbal]
            for a, b, rate in self.reactions:
                conv = float(self.volumes @ (rate * vs[:, a]))
                rx[a] -= conv
                rx[b] += conv
        return out

    # ------------------------------------------------------------------ outputs
    def potential_profile(self, state: np.ndarray, i: float) -> tuple[np.ndarray, float, float]:
        """phi at compartment centres (V), phi at the left and right ends (V); phi = 0
        at the right end (a bath, or the right electrode's surface)."""
        self.fluxes(state, i)
        steps = self.last_u / self.f_t  # phi_b - phi_a across every face
        phi_ext = np.zeros(self.nc + 2)
        phi_ext[:-1] = -np.cumsum(steps[::-1])[::-1]
        return phi_ext[1:-1], float(phi_ext[0]), 0.0

    def end_concentrations(self, state: np.ndarray, side: int) -> np.ndarray:
        """Species concentrations (n,) at an end face of the stack: the bath's, or the
        end node's (an electrode surface or a well-mixed reservoir)."""
        end = self.left if side == 0 else self.right
        if not end.node:
            return end.c.copy()
        j = 0 if side == 0 else self.nc - 1
        return np.asarray(
            self.spec.concentrations(state[j : j + 1], self.fixed_charge[j : j + 1])[0]
        )
