"""Banded LU factorisation and solve (LAPACK dgbtrf/dgbtrs).

The routines are SciPy's own LAPACK wrappers. Importing ``scipy.linalg`` costs about
0.2 s (it pulls in much of SciPy), which dominates a sub-second simulation run, so we load
SciPy's compiled ``_flapack`` extension directly from its file, and fall back to the public
``scipy.linalg.lapack`` if that fails (a different SciPy layout, a frozen application).
Nothing here re-implements LAPACK.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

_FLAPACK: ModuleType | None = None


def _load() -> ModuleType:
    global _FLAPACK
    if _FLAPACK is not None:
        return _FLAPACK
    module: Any = None
    spec = importlib.util.find_spec("scipy")
    if spec is not None and spec.submodule_search_locations:
        folder = Path(next(iter(spec.submodule_search_locations))) / "linalg"
        for path in sorted(folder.glob("_flapack*.so")) + sorted(folder.glob("_flapack*.pyd")):
            try:
                loader = importlib.machinery.ExtensionFileLoader("_flapack", str(path))
                ext_spec = importlib.util.spec_from_file_location(
                    "_flapack", str(path), loader=loader
                )
                if ext_spec is None:
                    continue
                module = importlib.util.module_from_spec(ext_spec)
                loader.exec_module(module)
                break
            except ImportError:
                module = None
    if module is None or not hasattr(module, "dgbtrf"):
        from scipy.linalg import lapack

        module = lapack
    _FLAPACK = module
    return module


class BandedLU:
    """LU factors of a banded matrix in LAPACK band storage.

    ``ab`` has shape (2*kl + ku + 1, n) with A[i, j] at ab[kl + ku + i - j, j].
    """

    def __init__(self, ab: np.ndarray, kl: int, ku: int) -> None:
        lapack = _load()
        self.kl = kl
        self.ku = ku
        self._trs = lapack.dgbtrs
        self.lu, self.piv, info = lapack.dgbtrf(ab, kl, ku, overwrite_ab=1)
        if info != 0:
            raise np.linalg.LinAlgError(f"banded LU failed (dgbtrf info={info})")

    def solve_many(self, rhs: np.ndarray) -> np.ndarray:
        """Solve A X = rhs for a 2D right-hand side (n, k)."""
        x, info = self._trs(self.lu, self.kl, self.ku, np.asfortranarray(rhs), self.piv)
        if info != 0:
            raise np.linalg.LinAlgError(f"banded solve failed (dgbtrs info={info})")
        return np.asarray(x).reshape(rhs.shape)

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """Solve A x = rhs for a 1D right-hand side."""
        x, info = self._trs(self.lu, self.kl, self.ku, rhs, self.piv)
        if info != 0:
            raise np.linalg.LinAlgError(f"banded solve failed (dgbtrs info={info})")
        return np.asarray(x)
