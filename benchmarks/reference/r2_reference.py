#!/usr/bin/env python
"""Independent reference solution of benchmark R2 (acid under an inert anode,
with a phosphate buffer), see /work/shared/benchmarks/R2-inert-anode-ph.md
(conventions from R1-anodal-lidocaine.md).

Standalone: numpy + scipy only; does not import ionto.

Method (deliberately NOT Scharfetter-Gummel / exponential fitting):
  * cell-centred finite volumes on a smooth, graded, non-uniform mesh.  Mesh
    faces fall exactly at x1, x2 and at every end point of the averaging
    intervals of the reported pH values (10 um, 0.95 mm, 1.05 mm, x1 - 10 um),
    so interval means are exact sums of cell averages.  Meshes of a
    convergence sequence are nested (level k = 2^k times the cells of
    level 0, image of a uniform grid under one fixed smooth map per segment).
  * unknowns per cell: cell averages of the conserved totals
        u = (Na, P = H2PO4 + HPO4, H_T = H - OH + H2PO4).
    In every cell the species follow from the two equilibria: [H+] is the
    unique root of  H - Kw/H + P H/(H + Ka) = H_T  (monotone in ln H; a
    vectorised, bracketed Newton iteration in ln H), OH = Kw/H,
    H2PO4 = P H/(H+Ka), HPO4 = P Ka/(H+Ka), and
    Cl = Na + H - OH - H2PO4 - 2 HPO4 + X  (electroneutrality, X = cell
    average of the fixed charge).
  * face fluxes of all six species with central differences: face
    concentrations by linear interpolation of the species concentrations
    between the two adjacent cell centres, gradients (c_R - c_L)/(x_R - x_L),
    D_k evaluated pointwise at the face.  The potential gradient at every face
    is eliminated from the uniform current condition F sum z_k N_k = i(t)
    (linear in dphi/dx for central fluxes).  The fluxes of the totals are
    N_Na, N_H2PO4 + N_HPO4 and N_H - N_OH + N_H2PO4.
  * exchange  -k_b (u - u_blood)  on the three totals (k_b = cell average);
    the Cl balance then holds with k_b (Cl - Cl_blood - X) (the
    electroneutral form the spec accepts).
  * the semi-discrete system is block tridiagonal (3x3 blocks); an analytic
    sparse Jacobian is supplied (chain rule through the equilibrium map,
    implicit-function derivative of H; checked against finite differences).
  * x = 0: the total fluxes are imposed exactly in the first cell balance:
    N_Na = N_P = 0, N_HT = +i/F.  For phi(0) (voltage) the boundary-face
    species are reconstructed with a half-cell (ghost) construction: unknowns
    Na0, Cl0, P0, H0 (OH0, H2PO4_0, HPO4_0 from the equilibria) and
    g0 = dphi/dx(0); each species flux at x = 0 is evaluated with the face
    value c_k(0) and the half-cell gradient (c_k,1 - c_k(0))/x_c1.  The four
    conditions N_Na = 0, N_Cl = 0, N_H2PO4 + N_HPO4 = 0,
    N_H - N_OH + N_H2PO4 = i/F plus electroneutrality at x = 0 (X(0) point
    value) give 5 equations for 5 unknowns: Na0 and Cl0 are explicit in g0,
    P0 is explicit in (g0, H0), the proton condition is monotone in H0
    (inner brentq in ln H0), electroneutrality is solved for g0 (outer
    brentq).  (The current condition at x=0 is then implied.)
    phi(0) = phi_1 - g0 * x_c1.
  * x = L: the face species values are the blood composition (Na 150, P 0,
    pH 7.4, Cl from electroneutrality with the point value X(L)), gradients
    over the half cell (ghost mirrored about L); phi(L) = 0.
  * initial data: exact cell averages (all totals are affine in s(x)).
  * time: scipy.integrate.solve_ivp (BDF or Radau) with the analytic sparse
    Jacobian, restarted at every report time (60, 300, 600, 1200, 2400 s;
    1200 s is the current switch-off).  t_pH4 is an event on
    mean_[0,10um] [H+] - 0.1 mol/m3 (pH 4).

  * "BDF" is scipy's BDF with its sparse LU replaced by LAPACK banded LU
    (dgbtrf/dgbtrs, bandwidth 5); "BDF-superlu" and "Radau" are the stock
    scipy solvers.

Usage:
  python r2_reference.py run LEVEL [--family C] [--rtol 1e-9] [--method BDF]
                                   [--cache /tmp/r2_reference_cache]
  python r2_reference.py study     (mesh family C levels 0-3, families A and B
       levels 0-2, point-value coefficients, time tolerance 1e-8/1e-9/1e-10,
       BDF vs Radau; prints the tables and writes R2_reference.json)
  python r2_reference.py jaccheck  (analytic Jacobian vs finite differences)
"""
import argparse
import json
import os
import time as _time

import numpy as np
from scipy import sparse
from scipy.integrate import BDF, solve_ivp
from scipy.linalg.lapack import dgbtrf, dgbtrs
from scipy.optimize import brentq
from scipy.special import expit

# ---------------------------------------------------------------- constants
F = 96485.33212
R = 8.314462618
T = 305.15
fRT = F / (R * T)

x1 = 2.0e-3
x2 = x1 + 20e-6
L = x2 + 2.0e-3
w = 0.5e-6

KW = 1.0e-8                      # (mol/m3)^2
KA = 10.0 ** (-7.2) * 1000.0     # mol/m3
H_BLOOD = 10.0 ** (-7.4) * 1000.0

# species: Na+, Cl-, H+, OH-, H2PO4-, HPO4 2-
SPECIES = ["Na", "Cl", "H", "OH", "H2PO4", "HPO4"]
Z = np.array([1.0, -1.0, 1.0, -1.0, -1.0, -2.0])
DW = np.array([1.33e-9, 2.03e-9, 9.31e-9, 5.27e-9, 0.959e-9, 0.759e-9])
NS = 6
# totals (Na, P, H_T) as combinations of species fluxes
MTOT = np.array([[1, 0, 0, 0, 0, 0],
                 [0, 0, 0, 0, 1, 1],
                 [0, 0, 1, -1, 1, 0]], float)

I_ON = 5.0
T_OFF = 1200.0
T_END = 2400.0
T_REPORT = [60.0, 300.0, 600.0, 1200.0, 2400.0]

# averaging intervals
SURF = (0.0, 10e-6)
MID = (0.95e-3, 1.05e-3)
SKIN = (x1 - 10e-6, x1)
PH4_H = 1000.0 * 1e-4            # [H+] at pH 4, mol/m3

KEYS = ["pH_surf_60", "pH_surf_300", "pH_surf_600", "pH_surf_1200",
        "pH_surf_2400", "pH_mid_600", "pH_mid_1200", "pH_mid_2400",
        "pH_skin_600", "pH_skin_1200", "pH_skin_2400", "t_pH4",
        "H_skin_1200", "V_600"]


# ------------------------------------------------ coefficient point values
def s_pt(x):
    return expit(-2.0 * (x - x1) / w)  # = 0.5 (1 - tanh((x-x1)/w))


def t_pt(x):
    return expit(2.0 * (x - x2) / w)   # = 0.5 (1 + tanh((x-x2)/w))


def m_pt(x):
    return 1.0 - s_pt(x) - t_pt(x)


def dprof_pt(x):
    s, t = s_pt(x), t_pt(x)
    return s + 1e-4 * (1.0 - s - t) + 0.5 * t


# ------------------------------------------------ exact cell averages
def _Lg(y):
    return np.log1p(np.exp(-2.0 * y))


def _one_pm_avgtanh(a, b):
    """(1 - <tanh>, 1 + <tanh>) over [a, b]; cells never straddle 0."""
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    d = b - a
    pos = a >= 0.0
    neg = b <= 0.0
    if not np.all(pos | neg):
        raise ValueError("cell straddles a tanh centre")
    one_minus = np.empty_like(a)
    one_plus = np.empty_like(a)
    q = (_Lg(b[pos]) - _Lg(a[pos])) / d[pos]
    one_minus[pos] = -q
    one_plus[pos] = 2.0 + q
    q = (_Lg(-a[neg]) - _Lg(-b[neg])) / d[neg]
    one_minus[neg] = 2.0 + q
    one_plus[neg] = -q
    return one_minus, one_plus


def cell_averages(xf):
    xl, xr = xf[:-1], xf[1:]
    om1, _ = _one_pm_avgtanh((xl - x1) / w, (xr - x1) / w)
    _, op2 = _one_pm_avgtanh((xl - x2) / w, (xr - x2) / w)
    s_avg = 0.5 * om1
    t_avg = 0.5 * op2
    m_avg = 1.0 - s_avg - t_avg
    return s_avg, m_avg, t_avg


# ------------------------------------------------ equilibrium
def _qinv(c):
    """Positive root H of H - Kw/H = c (stable for both signs of c)."""
    s = np.sqrt(c * c + 4.0 * KW)
    return np.where(c >= 0.0, 0.5 * (c + s), 2.0 * KW / (s - np.minimum(c, 0.0)))


def solve_H(P, HT, guess=None, tol=1e-11, maxit=200):
    """[H+] from H - Kw/H + P H/(H+Ka) = HT (vectorised, bracketed Newton in
    ln H).  The bracket follows from 0 <= H2PO4 <= P."""
    P = np.asarray(P, float)
    HT = np.asarray(HT, float)
    lo = np.log(_qinv(HT - np.maximum(P, 0.0)))
    hi = np.log(_qinv(HT - np.minimum(P, 0.0)))
    if guess is not None and guess.shape == P.shape:
        y = np.clip(np.log(guess), lo, hi)
    else:
        y = 0.5 * (lo + hi)
    for it in range(maxit):
        H = np.exp(y)
        OH = KW / H
        den = H + KA
        r = H - OH + P * H / den - HT
        dr = H + OH + P * H * KA / (den * den)
        # shrink bracket
        pos = r > 0.0
        hi = np.where(pos, y, hi)
        lo = np.where(pos, lo, y)
        ynew = y - r / dr
        bad = ~((ynew >= lo) & (ynew <= hi)) | ~np.isfinite(ynew)
        ynew = np.where(bad, 0.5 * (lo + hi), ynew)
        step = np.abs(ynew - y)
        y = ynew
        if np.all((step < tol) | (hi - lo < tol)):
            break
    else:
        k = int(np.argmax(step))
        raise RuntimeError(f"equilibrium Newton did not converge: P={P.flat[k]!r} "
                           f"HT={HT.flat[k]!r} step={step.flat[k]!r} "
                           f"lo={lo.flat[k]!r} hi={hi.flat[k]!r}")
    # one final Newton step (quadratic convergence -> machine precision)
    H = np.exp(y)
    OH = KW / H
    den = H + KA
    r = H - OH + P * H / den - HT
    dr = H + OH + P * H * KA / (den * den)
    return np.exp(y - r / dr)


def species(u, X, guess=None, deriv=False):
    """u: (3, N) totals (Na, P, HT).  Returns c (6, N) and optionally
    dc/du (6, 3, N)."""
    Na, P, HT = u
    H = solve_H(P, HT, guess)
    OH = KW / H
    den = H + KA
    fa = H / den
    fb = KA / den
    A = P * fa
    B = P * fb
    Cl = Na + H - OH - A - 2.0 * B + X
    c = np.array([Na, Cl, H, OH, A, B])
    if not deriv:
        return c, H
    fp = 1.0 + KW / (H * H) + P * KA / (den * den)   # d(HT)/dH at fixed P
    dH_dHT = 1.0 / fp
    dH_dP = -fa / fp
    dA_dH = P * KA / (den * den)
    dB_dH = -dA_dH
    dOH_dH = -KW / (H * H)
    N = H.shape[0]
    J = np.zeros((NS, 3, N))
    J[0, 0] = 1.0
    # H
    J[2, 1] = dH_dP
    J[2, 2] = dH_dHT
    # OH
    J[3, 1] = dOH_dH * dH_dP
    J[3, 2] = dOH_dH * dH_dHT
    # A
    J[4, 1] = fa + dA_dH * dH_dP
    J[4, 2] = dA_dH * dH_dHT
    # B
    J[5, 1] = fb + dB_dH * dH_dP
    J[5, 2] = dB_dH * dH_dHT
    # Cl = Na + H - OH - A - 2B + X
    J[1] = J[0] + J[2] - J[3] - J[4] - 2.0 * J[5]
    return c, H, J


def blood_species(XL):
    H = H_BLOOD
    OH = KW / H
    return np.array([150.0, 150.0 + H - OH + XL, H, OH, 0.0, 0.0])


def blood_totals():
    H = H_BLOOD
    return np.array([150.0, 0.0, H - KW / H])


# ------------------------------------------------ mesh
MESH_DEFAULT = dict(
    h_core=0.04e-6,    # spacing inside barrier and within a_core of x1, x2
    a_core=3.0e-6,     # half width of the uniform fine zone around x1, x2
    r_core=0.06,       # linear growth rate of h away from the fine zone
    h_max=8.0e-6,      # cap in the bulk
    h_el=0.5e-6,       # spacing at x = 0 (electrode) and x = L
    r_el=0.08,         # growth rate away from x = 0 and x = L
    h_donor=2.0e-6,    # extra cap in the donor (moving titration front)
)
# a second, differently graded mesh family used only as a cross-check
MESH_ALT = dict(h_core=0.06e-6, a_core=5.0e-6, r_core=0.10, h_max=15.0e-6,
                h_el=1.0e-6, r_el=0.12, h_donor=3.0e-6)
# family C: the main sequence of the study (levels 0-3); family A (twice as
# fine in the donor and at x = 0, levels 0-2) and B are cross-checks
MESH_COARSE = dict(h_core=0.08e-6, a_core=3.0e-6, r_core=0.06, h_max=16.0e-6,
                   h_el=1.0e-6, r_el=0.08, h_donor=4.0e-6)
MESHES = dict(A=MESH_DEFAULT, B=MESH_ALT, C=MESH_COARSE)

BREAKS = [0.0, SURF[1], MID[0], MID[1], SKIN[0], x1, x2, L]


def spacing(x, p, donor=False):
    """Smooth target spacing h(x) (level 0)."""
    q = np.maximum.reduce([np.zeros_like(x), (x1 - p["a_core"]) - x,
                           x - (x2 + p["a_core"])])
    h_c = p["h_core"] * np.sqrt(1.0 + (p["r_core"] * q / p["h_core"]) ** 2)
    h_e0 = p["h_el"] * np.sqrt(1.0 + (p["r_el"] * x / p["h_el"]) ** 2)
    h_e1 = p["h_el"] * np.sqrt(1.0 + (p["r_el"] * (L - x) / p["h_el"]) ** 2)
    rho = 1.0 / h_c + 1.0 / h_e0 + 1.0 / h_e1 + 1.0 / p["h_max"]
    if donor:
        rho = rho + 1.0 / p["h_donor"]
    return 1.0 / rho


def make_mesh(level, p=MESH_DEFAULT):
    """Faces of the level-`level` mesh. Each segment between consecutive
    BREAKS is the image of a uniform grid under a fixed smooth monotone map
    (dx/dxi = h(x)); level k uses n_seg * 2^k cells (nested meshes)."""
    faces = [np.array([0.0])]
    for A, B in zip(BREAKS[:-1], BREAKS[1:]):
        ev = lambda xi, x: x[0] - B
        ev.terminal = True
        donor = B <= x1
        sol = solve_ivp(lambda xi, x: spacing(x, p, donor), (0.0, 1e9), [A],
                        method="DOP853", rtol=1e-13, atol=1e-20,
                        events=ev, dense_output=True)
        Xi = sol.t_events[0][0]
        n0 = max(2, int(round(Xi)))
        n = n0 * 2 ** level
        xseg = sol.sol(np.linspace(0.0, Xi, n + 1))[0]
        xseg[0], xseg[-1] = A, B
        faces.append(xseg[1:])
    xf = np.concatenate(faces)
    assert np.all(np.diff(xf) > 0)
    return xf


# ------------------------------------------------ banded linear algebra
KL = KU = 5   # block tridiagonal with 3x3 blocks, cell-major ordering


def to_band(A, kl=KL, ku=KU):
    """Sparse matrix -> LAPACK general band storage with kl extra rows."""
    A = sparse.csc_matrix(A)
    A.sum_duplicates()
    n = A.shape[0]
    col = np.repeat(np.arange(n), np.diff(A.indptr))
    off = A.indices - col
    if off.size and (off.max() > kl or -off.min() > ku):
        raise ValueError("matrix exceeds the band")
    ab = np.zeros((2 * kl + ku + 1, n), order="F")
    ab[kl + ku + off, col] = A.data
    return ab


class BandedBDF(BDF):
    """scipy's BDF with the sparse LU (SuperLU) replaced by LAPACK banded
    LU with partial pivoting (dgbtrf/dgbtrs).  Same method, same step and
    error control; only the linear algebra is faster for this band matrix."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)

        def lu(A):
            self.nlu += 1
            lub, piv, info = dgbtrf(to_band(A), KL, KU)
            if info < 0:
                raise ValueError("dgbtrf: illegal argument")
            return lub, piv

        def solve_lu(LU, b):
            x, info = dgbtrs(LU[0], KL, KU, b, LU[1])
            return x

        self.lu = lu
        self.solve_lu = solve_lu


METHODS = {"BDF": BandedBDF, "BDF-superlu": "BDF", "Radau": "Radau"}


# ------------------------------------------------ semi-discrete model
class R2Model:
    def __init__(self, xf, coef="avg"):
        self.xf = xf
        N = len(xf) - 1
        self.N = N
        self.h = np.diff(xf)
        self.xc = 0.5 * (xf[:-1] + xf[1:])
        if coef == "avg":
            s_avg, m_avg, t_avg = cell_averages(xf)
        else:
            s_avg, m_avg, t_avg = s_pt(self.xc), m_pt(self.xc), t_pt(self.xc)
        self.X = -20.0 * m_avg
        self.kb = 1e-3 * t_avg
        # initial totals (affine in s -> exact cell averages)
        H0 = H_BLOOD
        self.u0 = np.array([116.13 * s_avg + 150.0 * (1.0 - s_avg),
                            10.0 * s_avg,
                            (H0 - KW / H0) + 10.0 * s_avg * H0 / (H0 + KA)])
        self.ub = blood_totals()
        self.XL_pt = float(-20.0 * m_pt(np.array([L]))[0])
        self.X0_pt = float(-20.0 * m_pt(np.array([0.0]))[0])
        self.cb = blood_species(self.XL_pt)
        # faces j = 1..N (interior faces + right boundary face); face j lies
        # between cell j-1 and cell j (cell N = blood "ghost", face value)
        xfj = xf[1:]
        self.dx = np.empty(N)
        self.dx[:-1] = np.diff(self.xc)
        self.dx[-1] = L - self.xc[-1]
        self.wR = np.empty(N)
        self.wR[:-1] = (xfj[:-1] - self.xc[:-1]) / self.dx[:-1]
        self.wR[-1] = 1.0                  # face value = blood value
        self.wL = 1.0 - self.wR
        self.D = DW[:, None] * dprof_pt(xfj)[None, :]      # (6, N)
        self.D0 = DW * dprof_pt(np.array([0.0]))[0]
        self.Hguess = None
        # index sets for reports
        self.in_surf = self._interval(*SURF)
        self.in_mid = self._interval(*MID)
        self.in_skin = self._interval(*SKIN)
        self.tissue = self.xc > x1
        self.n_surf = int(np.nonzero(self.in_surf)[0].max()) + 1
        self._build_pattern()

    def _interval(self, a, b):
        ia = int(np.argmin(np.abs(self.xf - a)))
        ib = int(np.argmin(np.abs(self.xf - b)))
        assert self.xf[ia] == a and self.xf[ib] == b, (a, b)
        m = np.zeros(self.N, bool)
        m[ia:ib] = True
        return m

    # ---- species and face fluxes
    def cells(self, y, deriv=False):
        u = y.reshape(self.N, 3).T
        out = species(u, self.X, self.Hguess, deriv)
        self.Hguess = out[1]
        return u, out

    def faces(self, c, cur):
        """c: (6, N) cell species.  Face j = 1..N quantities."""
        ce = np.concatenate([c, self.cb[:, None]], axis=1)
        cL, cR = ce[:, :-1], ce[:, 1:]
        cF = self.wL * cL + self.wR * cR
        G = (cR - cL) / self.dx
        D = self.D
        Anum = -np.sum(Z[:, None] * D * G, axis=0) - cur / F
        Bden = fRT * np.sum((Z * Z)[:, None] * D * cF, axis=0)
        g = Anum / Bden
        Nsp = -D * G - Z[:, None] * D * fRT * cF * g
        return dict(cF=cF, G=G, g=g, Bden=Bden, Nsp=Nsp)

    def rhs(self, t, y, cur):
        N = self.N
        u, (c, H) = self.cells(y)
        fc = self.faces(c, cur)
        Nt = MTOT @ fc["Nsp"]                       # (3, N) at faces 1..N
        Nt = np.concatenate([np.array([[0.0], [0.0], [cur / F]]), Nt], axis=1)
        du = -(Nt[:, 1:] - Nt[:, :-1]) / self.h - self.kb * (u - self.ub[:, None])
        return du.T.reshape(-1)

    # ---- analytic Jacobian
    def _build_pattern(self):
        N = self.N
        j = np.arange(1, N + 1)          # faces
        rows, cols = [], []
        a = np.arange(3)
        # block (face j, side s in {L: cell j-1, R: cell j}) contributes to
        # row cell j-1 and row cell j (if j < N)
        for side in (0, 1):
            col_cell = j - 1 + side
            valid = col_cell < N
            for rowside in (0, 1):
                row_cell = j - 1 + rowside
                ok = valid & (row_cell < N)
                rc = row_cell[ok]
                cc = col_cell[ok]
                rows.append((3 * rc[:, None, None] + a[None, :, None]
                             + 0 * a[None, None, :]).ravel())
                cols.append((3 * cc[:, None, None] + 0 * a[None, :, None]
                             + a[None, None, :]).ravel())
        rows.append(np.arange(3 * N))
        cols.append(np.arange(3 * N))
        self._rows = np.concatenate(rows)
        self._cols = np.concatenate(cols)
        # fixed CSC structure; S maps the COO data (with duplicates) to it
        nnz = self._rows.size
        P = sparse.coo_matrix((np.arange(1, nnz + 1, dtype=float),
                               (self._rows, self._cols)), shape=(3 * N, 3 * N))
        P.sum_duplicates()          # only to get the structure
        Pc = sparse.csc_matrix(P)
        Pc.sort_indices()
        self._indptr = Pc.indptr.copy()
        self._indices = Pc.indices.copy()
        # position of each (row, col) in the CSC data array
        key_csc = self._indices.astype(np.int64) + (3 * N) * np.repeat(
            np.arange(3 * N, dtype=np.int64), np.diff(self._indptr))
        key_coo = self._rows.astype(np.int64) + (3 * N) * self._cols.astype(np.int64)
        order = np.argsort(key_csc)
        pos = order[np.searchsorted(key_csc[order], key_coo)]
        assert np.all(key_csc[pos] == key_coo)
        self._S = sparse.csr_matrix((np.ones(nnz), (pos, np.arange(nnz))),
                                    shape=(key_csc.size, nnz))

    def jac(self, t, y, cur):
        N = self.N
        u, (c, H, dcdu) = self.cells(y, deriv=True)
        fc = self.faces(c, cur)
        D, cF, g, Bden = self.D, fc["cF"], fc["g"], fc["Bden"]
        blocks = []
        for side, (wt, sg) in enumerate(((self.wL, -1.0), (self.wR, 1.0))):
            dG = sg / self.dx                                   # (N,)
            dA = -Z[:, None] * D * dG                           # (6m, N)
            dB = fRT * (Z * Z)[:, None] * D * wt                # (6m, N)
            dg = (dA - g * dB) / Bden                           # (6m, N)
            # dN_k/dc_m  (6k, 6m, N)
            dN = -(Z[:, None] * D * fRT * cF)[:, None, :] * dg[None, :, :]
            diag = -D * dG - Z[:, None] * D * fRT * wt * g       # (6, N)
            idx = np.arange(NS)
            dN[idx, idx, :] += diag
            dNt = np.einsum("ik,kmn->imn", MTOT, dN)             # (3, 6m, N)
            if side == 0:
                dcs = dcdu                                       # cell j-1
                blocks.append(np.einsum("imn,man->ian", dNt, dcs))
            else:
                dcs = np.zeros_like(dcdu)
                dcs[:, :, :-1] = dcdu[:, :, 1:]                  # cell j (ghost const)
                blocks.append(np.einsum("imn,man->ian", dNt, dcs))
        h = self.h
        data = []
        jf = np.arange(1, N + 1)
        for side in (0, 1):
            col_cell = jf - 1 + side
            valid = col_cell < N
            Bk = blocks[side]                                    # (3, 3, N)
            for rowside in (0, 1):
                row_cell = jf - 1 + rowside
                ok = valid & (row_cell < N)
                sgn = -1.0 if rowside == 0 else 1.0
                # row cell j-1: -(N_j)/h_{j-1};  row cell j: +(N_j)/h_j
                hh = h[row_cell[ok]]
                data.append((sgn * np.transpose(Bk[:, :, ok], (2, 0, 1))
                             / hh[:, None, None]).ravel())
        data.append(-np.repeat(self.kb, 3))
        data = np.concatenate(data)
        J = sparse.csc_matrix((self._S @ data, self._indices, self._indptr),
                              shape=(3 * N, 3 * N))
        return J

    # ---- post-processing
    def mean_H(self, H, mask):
        return float(np.sum(H[mask] * self.h[mask]) / np.sum(self.h[mask]))

    def surf_H(self, y):
        n = self.n_surf
        u = y[:3 * n].reshape(n, 3).T
        H = solve_H(u[1], u[2])
        m = self.in_surf[:n]
        return float(np.sum(H[m] * self.h[:n][m]) / np.sum(self.h[:n][m]))

    def boundary0(self, c1, cur, g_guess=0.0):
        """Boundary-face state at x = 0 (half-cell construction).
        c1: species (6,) in the first cell.  Returns g0 and c(0)."""
        d = self.xc[0]
        D = self.D0
        Na1, Cl1, H1, OH1, A1, B1 = c1
        Q = D[4] * A1 + D[5] * B1                  # for the P-flux condition

        def state(gam, lnH0):
            e = 1.0 - Z * gam                       # e_k = 1 - z_k d fRT g
            H0 = np.exp(lnH0)
            OH0 = KW / H0
            fa = H0 / (H0 + KA)
            fb = KA / (H0 + KA)
            P0 = Q / (D[4] * e[4] * fa + D[5] * e[5] * fb)
            A0, B0 = P0 * fa, P0 * fb
            Na0 = Na1 / e[0]
            Cl0 = Cl1 / e[1]
            return e, np.array([Na0, Cl0, H0, OH0, A0, B0]), P0

        def proton_res(lnH0, gam):
            e, c0, _ = state(gam, lnH0)
            # N_k = -(D_k/d) (c1_k - e_k c0_k)
            Nk = -(D / d) * (c1 - e * c0)
            return (Nk[2] - Nk[3] + Nk[4]) - cur / F

        def inner(gam):
            lo, hi = np.log(H1) - 5.0, np.log(H1) + 5.0
            while proton_res(lo, gam) > 0.0:
                lo -= 5.0
            while proton_res(hi, gam) < 0.0:
                hi += 5.0
            lnH0 = brentq(proton_res, lo, hi, args=(gam,), xtol=1e-15,
                          rtol=4 * np.finfo(float).eps, maxiter=500)
            return state(gam, lnH0)

        def en(gam):
            e, c0, _ = inner(gam)
            return float(np.dot(Z, c0) + self.X0_pt)

        # admissible gamma: all e_k > 0  ->  -1/2 < gam < 1; bracket the
        # root by expanding around the interior-face estimate gam_guess
        gam_guess = float(np.clip(d * fRT * g_guess, -0.25, 0.5))
        dg = 1e-3
        glo, ghi = gam_guess - dg, gam_guess + dg
        flo, fhi = en(glo), en(ghi)
        while flo * fhi > 0.0:
            dg *= 2.0
            if abs(flo) < abs(fhi):
                glo = max(gam_guess - dg, -0.5 * (1 - 1e-6))
                flo = en(glo)
            else:
                ghi = min(gam_guess + dg, 1.0 - 1e-6)
                fhi = en(ghi)
            if dg > 10:
                raise RuntimeError("boundary state: no bracket")
        gam = brentq(en, glo, ghi, xtol=1e-17, rtol=4 * np.finfo(float).eps,
                     maxiter=500)
        e, c0, P0 = inner(gam)
        g0 = gam / (d * fRT)
        # consistency checks: all four flux conditions + current
        Nk = -(D / d) * (c1 - e * c0)
        chk = dict(N_Na=Nk[0], N_Cl=Nk[1], N_P=Nk[4] + Nk[5],
                   N_HT=Nk[2] - Nk[3] + Nk[4] - cur / F,
                   current=F * np.dot(Z, Nk) - cur, EN=np.dot(Z, c0) + self.X0_pt)
        return g0, c0, chk

    def voltage(self, y, cur):
        u, (c, H) = self.cells(y)
        fc = self.faces(c, cur)
        g0, c0, chk = self.boundary0(c[:, 0], cur, fc["g"][0])
        V = -(g0 * self.xc[0] + np.sum(fc["g"] * self.dx))
        return V, g0, c0, chk


def pH_of(Hmean):
    return -np.log10(Hmean / 1000.0)


def run(level, rtol=1e-10, method="BDF", mesh=None, verbose=False,
        coef="avg", atol_scale=1e-2):
    xf = make_mesh(level, mesh or MESH_DEFAULT)
    M = R2Model(xf, coef)
    N = M.N
    y0 = M.u0.T.reshape(-1).copy()
    # absolute tolerances per total: Na, P in mol/m3; H_T small in tissue
    atol = np.empty(3 * N)
    atol[0::3] = rtol * atol_scale * 100.0
    atol[1::3] = rtol * atol_scale * 10.0
    atol[2::3] = rtol * atol_scale * 1e-3
    tic = _time.time()
    stats = []
    events_found = []

    def ev(t, y, cur):
        return M.surf_H(y) - PH4_H
    ev.direction = 1.0

    def integrate(ta, tb, y, cur):
        sol = solve_ivp(M.rhs, (ta, tb), y, method=METHODS[method], rtol=rtol,
                        atol=atol,
                        jac=M.jac, args=(cur,), events=ev,
                        first_step=1e-8 if ta == 0 else 1e-5)
        if not sol.success:
            raise RuntimeError(sol.message)
        stats.append((ta, tb, sol.nfev, sol.njev, sol.nlu, len(sol.t)))
        events_found.extend(list(sol.t_events[0]))
        return sol.y[:, -1]

    states = {}
    y = y0
    ta = 0.0
    for tb in T_REPORT:
        cur = I_ON if tb <= T_OFF else 0.0
        y = integrate(ta, tb, y, cur)
        states[tb] = y.copy()
        ta = tb
    elapsed = _time.time() - tic

    out = {}
    for tb in T_REPORT:
        u, (c, H) = M.cells(states[tb])
        out[f"pH_surf_{tb:g}"] = pH_of(M.mean_H(H, M.in_surf))
        if tb >= 600:
            out[f"pH_mid_{tb:g}"] = pH_of(M.mean_H(H, M.in_mid))
            out[f"pH_skin_{tb:g}"] = pH_of(M.mean_H(H, M.in_skin))
    out["t_pH4"] = float(min(events_found)) if events_found else None
    u12 = states[1200.0].reshape(N, 3).T
    out["H_skin_1200"] = float(np.sum((u12[2] * M.h)[M.tissue])
                               - np.sum((M.u0[2] * M.h)[M.tissue]))
    V, g0, c0, chk = M.voltage(states[600.0], I_ON)
    out["V_600"] = float(V)
    out = {k: out[k] for k in KEYS}
    # diagnostics
    ymin = {}
    for tb in T_REPORT:
        u, (c, H) = M.cells(states[tb])
        ymin[f"{tb:g}"] = dict(min_species=c.min(axis=1).tolist(),
                               max_H=float(H.max()), min_pH=float(pH_of(H.max())))
    diag = dict(N=N, h_min=float(M.h.min()), h_max=float(M.h.max()),
                cpu=elapsed, stats=stats, events=events_found,
                boundary0_600=dict(g0=g0, c0=c0.tolist(),
                                   checks={k: float(v) for k, v in chk.items()}),
                extremes=ymin)
    if verbose:
        print(json.dumps(diag, indent=1))
    return out, diag, M, states


# ------------------------------------------------ Jacobian check
def jaccheck(rel=1e-5):
    """Analytic Jacobian vs central finite differences (step rel*|y_k|) at a
    generic acidic state on the level-0 mesh of family C (which passes cells
    through the buffer's equivalence point)."""
    xf = make_mesh(0, MESH_COARSE)
    M = R2Model(xf)
    rng = np.random.default_rng(1)
    y = M.u0.T.reshape(-1).copy()
    N = M.N
    y[2::3] += np.linspace(30.0, 0.0, N) ** 2 / 30.0 * (M.xc < x1)
    y[0::3] *= 1 + 0.05 * rng.standard_normal(N)
    y[1::3] *= 1 + 0.05 * rng.standard_normal(N)
    for cur in (I_ON, 0.0):
        J = M.jac(0.0, y, cur).toarray()
        Jfd = np.zeros_like(J)
        for k in range(3 * N):
            e = np.zeros(3 * N)
            hstep = rel * max(abs(y[k]), 1e-3)
            e[k] = hstep
            Jfd[:, k] = (M.rhs(0.0, y + e, cur) - M.rhs(0.0, y - e, cur)) / (2 * hstep)
        rs = np.abs(J).max(axis=1)[:, None]
        err = (np.abs(J - Jfd) / rs).max()
        print(f"cur={cur}: N={N}, max_ij |J - J_fd| / max_j |J_ij| = {err:.2e}")


# ------------------------------------------------ study / extrapolation
def run_cached(cache, family, level, rtol, coef="avg", method="BDF"):
    os.makedirs(cache, exist_ok=True)
    fn = os.path.join(cache, f"{family}_{coef}_{method}_L{level}_rtol{rtol:g}.json")
    if os.path.exists(fn):
        with open(fn) as fh:
            return json.load(fh)
    out, diag, M, _ = run(level, rtol, method, mesh=MESHES[family], coef=coef)
    rec = dict(family=family, level=level, rtol=rtol, coef=coef,
               method=method, values=out, diag=diag)
    with open(fn, "w") as fh:
        json.dump(rec, fh, indent=1)
    print(f"  done {os.path.basename(fn)}: N={diag['N']} cpu={diag['cpu']:.1f}s",
          flush=True)
    return rec


def extrapolate(seq):
    """seq: values on meshes h, h/2, ... (coarse -> fine).  Observed orders
    p_k = log2(|d_k / d_{k+1}|), Richardson value (p = 2) from the two finest
    meshes, and its change w.r.t. the Richardson value of the previous pair."""
    v = np.asarray(seq, float)
    d = np.diff(v)
    with np.errstate(divide="ignore", invalid="ignore"):
        orders = [float(np.log2(abs(d[k] / d[k + 1]))) for k in range(len(d) - 1)]
    Rs = v[1:] + d / 3.0
    return orders, float(Rs[-1]), float(abs(Rs[-1] - Rs[-2]))


def study(args):
    cache = args.cache
    levels = list(range(args.levels))
    rt = args.rtol
    fam = args.family
    print(f"main sequence: mesh family {fam}, levels {levels}, BDF rtol={rt:g}",
          flush=True)
    main_runs = [run_cached(cache, fam, l, rt) for l in levels]
    print("time-integration check", flush=True)
    lt = args.time_level
    t_runs = {r_: run_cached(cache, fam, lt, r_) for r_ in (rt * 10, rt, rt / 10)}
    t_radau = run_cached(cache, fam, args.radau_level, rt, method="Radau")
    t_bdf_rl = run_cached(cache, fam, args.radau_level, rt)
    cross = {}
    for item in args.cross.split(","):
        f_, n_ = item.split(":")
        cross[f_] = [run_cached(cache, f_, l, rt) for l in range(int(n_))]
    print("cross-checks: other mesh families, point-value coefficients",
          flush=True)
    p_runs = [run_cached(cache, fam, l, rt, coef="point")
              for l in range(args.point_levels)]

    keys = {}
    table = []
    for k in KEYS:
        seq = [r_["values"][k] for r_ in main_runs]
        orders, Rv, dR = extrapolate(seq)
        e_fam = {}
        for f_, runs_ in cross.items():
            _, Rf, _ = extrapolate([r_["values"][k] for r_ in runs_])
            e_fam[f_] = abs(Rv - Rf)
        _, RP, _ = extrapolate([r_["values"][k] for r_ in p_runs])
        e_t = abs(t_runs[rt]["values"][k] - t_runs[rt / 10]["values"][k]) * 5.0 / 3.0
        e_radau = abs(t_radau["values"][k] - t_bdf_rl["values"][k])
        e_f = max(e_fam.values())
        err = max(dR, e_t, e_radau, e_f, abs(Rv - RP))
        comp = dict(richardson_change=dR, time_rtol=e_t, bdf_vs_radau=e_radau,
                    point_coefficients=abs(Rv - RP))
        comp.update({f"mesh_family_{f_}": v_ for f_, v_ in e_fam.items()})
        keys[k] = dict(value=Rv, error_estimate=err,
                       finest_mesh_value=seq[-1], observed_orders=orders,
                       components=comp)
        table.append((k, seq, orders, Rv, err, dR, e_t, e_f,
                      abs(Rv - RP), e_radau))

    print()
    print(f"Values per mesh level (family {fam}):")
    print("key           " + "".join(
        f"  L{l} (N={r_['diag']['N']})".ljust(22) for l, r_ in zip(levels, main_runs)))
    for k, seq, *_ in table:
        print(f"{k:13s} " + "".join(f" {x:21.13e}" for x in seq))
    print()
    print("Observed orders, Richardson value, error estimate (components):")
    print(f"{'key':13s} {'orders':24s} {'extrapolated':>21s} {'err est':>9s} "
          f"{'rel':>8s} | {'dRich':>8s} {'time':>8s} {'fams':>8s} {'pointc':>8s} "
          f"{'Radau':>8s}")
    for k, seq, orders, Rv, err, dR, e_t, eB, eP, eR in table:
        o = " ".join(f"{x:5.2f}" for x in orders)
        print(f"{k:13s} {o:24s} {Rv:21.13e} {err:9.2e} {err/abs(Rv):8.1e} | "
              f"{dR:8.1e} {e_t:8.1e} {eB:8.1e} {eP:8.1e} {eR:8.1e}")
    print()
    print(f"time check at level {lt}: |v(rtol) - v({rt/10:g})| for rtol = "
          f"{rt*10:g}, {rt:g}")
    for k in KEYS:
        a, b, c = (t_runs[x]["values"][k] for x in (rt * 10, rt, rt / 10))
        print(f"  {k:13s} {abs(a-c):9.1e} {abs(b-c):9.1e}")
    print(f"BDF vs Radau at level {args.radau_level} (rtol {rt:g}):")
    for k in KEYS:
        print(f"  {k:13s} {abs(t_radau['values'][k] - t_bdf_rl['values'][k]):9.1e}")
    print("Richardson values of the cross-check sequences (minus main value):")
    for k in KEYS:
        Rv = keys[k]["value"]
        parts = []
        for f_, runs_ in cross.items():
            seq_ = [r_["values"][k] for r_ in runs_]
            o_, Rf, _ = extrapolate(seq_)
            parts.append(f"{f_}: {Rf - Rv:+9.1e} (orders {' '.join(f'{x:4.2f}' for x in o_)})")
        o_, RP, _ = extrapolate([r_["values"][k] for r_ in p_runs])
        parts.append(f"point: {RP - Rv:+9.1e} (orders {' '.join(f'{x:4.2f}' for x in o_)})")
        print(f"  {k:13s} " + "; ".join(parts))

    meshes = [dict(family=fam, level=r_["level"], cells=r_["diag"]["N"],
                   h_min=r_["diag"]["h_min"], h_max=r_["diag"]["h_max"],
                   rtol=r_["rtol"], cpu_s=r_["diag"]["cpu"], values=r_["values"])
              for r_ in main_runs]
    res = dict(
        method=("Cell-centred finite volumes on nested smooth graded meshes "
                "(faces at x1, x2 and at all averaging-interval end points); "
                "unknowns = cell averages of the totals Na, P, H_T; species per "
                "cell from the two equilibria (H+ from a monotone scalar "
                "equation, bracketed Newton in ln H); Cl from electroneutrality; "
                "central-difference (linearly interpolated) species fluxes; "
                "dphi/dx per face eliminated from the uniform-current condition; "
                "x=0: total fluxes (0, 0, i/F) imposed exactly, phi(0) from a "
                "half-cell boundary-state reconstruction; x=L: blood face values; "
                "exchange on the totals (Cl exchange in the electroneutral form); "
                f"scipy solve_ivp BDF with analytic sparse Jacobian, rtol={rt:g}, "
                "restarts at 60, 300, 600, 1200 s; t_pH4 by an event function; "
                "value = Richardson extrapolation (p=2) of the two finest meshes; "
                "error_estimate = max(change of the Richardson value from the "
                "previous mesh pair, time-tolerance effect, BDF vs Radau, "
                "deviation from the extrapolations of a second mesh family and of "
                "point-value coefficients)."),
        keys={k: dict(value=v["value"], error_estimate=v["error_estimate"])
              for k, v in keys.items()},
        details=keys,
        meshes=meshes,
        cross_check_meshes=[dict(family=r_["family"], level=r_["level"],
                                 cells=r_["diag"]["N"], values=r_["values"])
                            for runs_ in cross.values() for r_ in runs_],
        mesh_params={k: MESHES[k] for k in sorted(set([fam, *cross]))},
        script="benchmarks/reference/r2_reference.py",
        notes=[
            "error_estimate covers discretisation and time-integration error of "
            "this formulation only. The spec's alternative (all four balances "
            "with charge conservation instead of Cl from electroneutrality) may "
            "shift values by up to 2e-7 pH and 1e-5 relative according to the "
            "spec; that is not included.",
            "pH_* = -log10(mean [H+] / 1000); the mean is the length-weighted sum "
            "of cell values over cells that exactly tile the interval (mesh faces "
            "at 10 um, 0.95 mm, 1.05 mm, x1 - 10 um, x1), the cell [H+] being the "
            "equilibrium value of the cell-average totals.",
            "t_pH4: first upward crossing of mean_[0,10um] [H+] through 0.1 mol/m3 "
            "(solve_ivp event); there is exactly one crossing in [0, 2400] s.",
            "H_skin_1200: sum over the cells of [x1, L] of (H_T(1200) - H_T(0)) h; "
            "H_T = H - OH + H2PO4; the initial cell averages are exact.",
            "V_600: phi(0) from a half-cell reconstruction of the boundary-face "
            "state at x = 0 satisfying the four flux conditions, both equilibria "
            "and electroneutrality; phi(L) = 0.",
            "blood: Na 150, P 0, [H+] = 10^-4.4 mol/m3, OH = Kw/H, "
            "Cl = 150 + H - OH (X(L) = 0); H_T,blood = H - OH.",
        ],
    )
    with open(args.json, "w") as fh:
        json.dump(res, fh, indent=1)
    print(f"\nwrote {args.json}")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd")
    r = sub.add_parser("run")
    r.add_argument("level", type=int)
    r.add_argument("--rtol", type=float, default=1e-10)
    r.add_argument("--method", default="BDF")
    r.add_argument("--family", default="A", choices=sorted(MESHES))
    r.add_argument("--coef", default="avg", choices=["avg", "point"])
    r.add_argument("--cache", default=None)
    s = sub.add_parser("study")
    s.add_argument("--levels", type=int, default=4)
    s.add_argument("--family", default="C", choices=sorted(MESHES))
    s.add_argument("--cross", default="A:3,B:3",
                   help="other mesh families and their number of levels")
    s.add_argument("--point-levels", type=int, default=3)
    s.add_argument("--rtol", type=float, default=1e-9)
    s.add_argument("--time-level", type=int, default=1)
    s.add_argument("--radau-level", type=int, default=0)
    s.add_argument("--cache", default="/tmp/r2_reference_cache")
    s.add_argument("--json", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "R2_reference.json"))
    sub.add_parser("jaccheck")
    args = ap.parse_args()
    if args.cmd == "run":
        if args.cache:
            rec = run_cached(args.cache, args.family, args.level, args.rtol,
                             coef=args.coef, method=args.method)
            out = rec["values"]
        else:
            out, diag, M, _ = run(args.level, args.rtol, args.method,
                                  mesh=MESHES[args.family], verbose=True,
                                  coef=args.coef)
        for k in KEYS:
            v = out[k]
            print(f"{k:13s} {v: .12e}" if v is not None else f"{k:13s} None")
    elif args.cmd == "study":
        study(args)
    elif args.cmd == "jaccheck":
        jaccheck()
    else:
        ap.print_help()


if __name__ == "__main__":
    main()
