"""Non-uniform 1D finite-volume mesh, refined at every interface.

Cells start at ``min_cell`` next to each layer interface and outer boundary and grow
linearly with the distance from it (a geometric progression of ratio ``growth``) up to the
layer's largest cell size, so every interface is a face. Both sizes may be set per layer
(``MeshSpec.layers``): each layer then grades from its own ``min_cell`` at both of its
ends, so the two cells that meet at an interface may differ. Lengths are in metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ionto.simulate.problem import MeshSpec, Problem


@dataclass(frozen=True)
class Mesh:
    """faces: N+1 face positions (m); centres: N cell centres (m); widths: N cell widths
    (m); layer_of_cell: index of the layer that holds each cell's centre."""

    faces: np.ndarray
    centres: np.ndarray
    widths: np.ndarray
    layer_of_cell: np.ndarray

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return int(self.widths.size)


def _layer_faces(start: float, end: float, h_min: float, h_max: float, growth: float) -> np.ndarray:
    """Faces of one layer: sizes grow from h_min at both ends by ``growth`` up to h_max."""
    length = end - start
    if h_max >= length and h_min >= length:
        return np.array([start, end])
    slope = growth - 1.0
    positions = [0.0]
    s = 0.0
    while s < length:
        distance = min(s, length - s)
        h = min(h_max, h_min + slope * distance)
        # the step must not run past the growth limit measured from the far end either
        s += max(h, h_min)
        positions.append(s)
    pos = np.asarray(positions)
    if pos.size > 2 and (pos[-1] - length) > 0.5 * (pos[-1] - pos[-2]):
        pos = np.delete(pos, -2)  # drop a sliver: merge the overshooting cell
    pos *= length / pos[-1]
    return start + pos


def build_mesh(problem: Problem, refine: float = 1.0) -> Mesh:
    """Mesh for a problem; ``refine`` > 1 divides every cell size by that factor (used in
    convergence studies: refine=2 halves all cells)."""
    spec: MeshSpec = problem.mesh
    names = {layer.name for layer in problem.layers}
    unknown = [m.name for m in spec.layers if m.name not in names]
    if unknown:
        raise ValueError(f"mesh settings for unknown layers: {', '.join(unknown)}")
    growth = 1.0 + (spec.growth - 1.0) / refine
    pieces: list[np.ndarray] = []
    for layer, (a, b) in zip(problem.layers, problem.layer_bounds(), strict=True):
        smallest, largest = spec.cells(layer)
        h_min, h_max = smallest / refine, largest / refine
        faces = _layer_faces(a, b, h_min, max(h_max, h_min), growth)
        pieces.append(faces if not pieces else faces[1:])
    faces = np.concatenate(pieces)
    centres = 0.5 * (faces[1:] + faces[:-1])
    widths = np.diff(faces)
    bounds = np.array([b for _, b in problem.layer_bounds()])
    layer_of_cell = np.searchsorted(bounds, centres)
    layer_of_cell = np.minimum(layer_of_cell, len(problem.layers) - 1)
    return Mesh(faces=faces, centres=centres, widths=widths, layer_of_cell=layer_of_cell)
