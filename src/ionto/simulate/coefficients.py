"""Layer properties on the mesh: sharp or smooth (tanh) layer indicators, cell averages
and harmonic face diffusivities, electrode stoichiometry vectors. SI units."""

from __future__ import annotations

import numpy as np

from ionto.simulate.problem import ElectrodeReaction, Problem


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


def stoichiometry(
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
