"""Quick plots of a simulation result. matplotlib is imported inside the functions only.

The figures are built with ``matplotlib.figure.Figure`` (no pyplot, no GUI backend), so
they work headless; save them with ``fig.savefig("profiles.png")``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class ProfileResult(Protocol):
    """What :func:`plot_profiles` needs from a result.

    x: cell centres (m), shape [cell]; times: output times (s), shape [time];
    concentrations: mol/m^3, shape [time, species, cell]; species_names: one per species.
    """

    @property
    def x(self) -> Any: ...

    @property
    def times(self) -> Any: ...

    @property
    def concentrations(self) -> Any: ...

    @property
    def species_names(self) -> Sequence[str]: ...


def _interfaces(result: object, boundaries: Sequence[float] | None) -> list[float]:
    """Interior layer interfaces (m): given, or from ``result.problem`` when it has one."""
    if boundaries is not None:
        return [float(b) for b in boundaries]
    problem = getattr(result, "problem", None)
    if problem is None or not hasattr(problem, "layer_bounds"):
        return []
    return [end for _, end in problem.layer_bounds()[:-1]]


def _format_time(t: float) -> str:
    if t >= 3600 and t % 360 == 0:
        return f"{t / 3600:g} h"
    if t >= 60 and t % 6 == 0:
        return f"{t / 60:g} min"
    return f"{t:g} s"


def plot_profiles(
    result: ProfileResult,
    species: Sequence[str] | None = None,
    *,
    log: bool | None = None,
    boundaries: Sequence[float] | None = None,
) -> Figure:
    """Depth profiles (concentration vs depth in um) of each species at each output time.

    species: names to plot (default: all). log: logarithmic y axis; None chooses it per
    species when the positive values span more than three decades. boundaries: layer
    interfaces in m to mark (default: taken from ``result.problem`` if present).
    Returns a matplotlib Figure with one panel per species, stacked vertically.
    """
    import numpy as np
    from matplotlib.figure import Figure

    names = list(result.species_names)
    chosen = names if species is None else list(species)
    unknown = [s for s in chosen if s not in names]
    if unknown:
        raise ValueError(f"unknown species {unknown}; the result has {names}")
    x_um = np.asarray(result.x, dtype=float) * 1e6
    times = np.asarray(result.times, dtype=float)
    conc = np.asarray(result.concentrations, dtype=float)
    interfaces_um = [b * 1e6 for b in _interfaces(result, boundaries)]

    fig = Figure(figsize=(8.0, 2.4 * len(chosen) + 0.8), layout="constrained")
    axes = fig.subplots(len(chosen), 1, sharex=True, squeeze=False)[:, 0]
    colours = [f"C{k % 10}" for k in range(len(times))]
    for ax, name in zip(axes, chosen, strict=True):
        k = names.index(name)
        values = conc[:, k, :]
        positive = values[values > 0]
        use_log = log
        if use_log is None:
            use_log = positive.size > 0 and positive.max() > 1e3 * positive.min()
        for j, t in enumerate(times):
            y = np.where(values[j] > 0, values[j], np.nan) if use_log else values[j]
            ax.plot(x_um, y, color=colours[j], lw=1.2, label=_format_time(float(t)))
        if use_log:
            ax.set_yscale("log")
            if positive.size:  # show six decades below the peak at most
                ax.set_ylim(bottom=max(float(positive.min()), float(positive.max()) * 1e-6))
        for xb in interfaces_um:
            ax.axvline(xb, color="0.6", lw=0.8, ls="--")
        ax.set_ylabel(f"{name} [mol/m³]")
        ax.grid(True, alpha=0.3)
    axes[-1].set_xlabel("depth [µm]")
    if len(times):
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, title="time", fontsize="small", loc="outside right upper")
    title = getattr(getattr(result, "problem", None), "title", "")
    if title:
        fig.suptitle(title)
    return fig
