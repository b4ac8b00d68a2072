"""plot_profiles on a small synthetic result (no engine needed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from ionto.simulate.plot import plot_profiles


@dataclass
class _Profiles:
    """Just the arrays plot_profiles reads: x (m), times (s), concentrations [t, k, cell]."""

    x: np.ndarray = field(default_factory=lambda: np.linspace(0.5e-6, 99.5e-6, 100))
    times: np.ndarray = field(default_factory=lambda: np.array([0.0, 60.0, 600.0]))
    species_names: list[str] = field(default_factory=lambda: ["Lid+", "Na+", "Cl-"])
    concentrations: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        depth = self.x[None, :] / 1e-5
        lid = 100.0 * np.exp(-depth / (1.0 + self.times[:, None] / 60.0))
        na = np.full((len(self.times), len(self.x)), 150.0)
        self.concentrations = np.stack([lid, na, lid + na], axis=1)


def test_one_panel_per_species(tmp_path: Path) -> None:
    fig = plot_profiles(_Profiles(), boundaries=[20e-6, 40e-6])
    assert len(fig.axes) == 3
    first = fig.axes[0]
    assert len(first.get_lines()) == 3 + 2  # one per time + layer marks
    assert first.get_yscale() == "log"  # Lid+ spans many decades
    assert fig.axes[1].get_yscale() == "linear"
    assert fig.axes[-1].get_xlabel() == "depth [µm]"
    xdata = first.get_lines()[0].get_xdata()
    assert float(np.max(np.asarray(xdata))) == pytest.approx(99.5)  # micrometres
    out = tmp_path / "profiles.png"
    fig.savefig(out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_species_subset_and_linear() -> None:
    fig = plot_profiles(_Profiles(), species=["Na+"], log=False)
    assert len(fig.axes) == 1
    assert fig.axes[0].get_ylabel().startswith("Na+")


def test_unknown_species() -> None:
    with pytest.raises(ValueError, match="unknown species"):
        plot_profiles(_Profiles(), species=["K+"])
