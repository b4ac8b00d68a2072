"""The report's figures (matplotlib, Agg backend): current, voltage across the circuit
(with the stretches at the compliance voltage shaded) and dose over time; pH under both
electrodes with the rule limits and a mark where an electrode's rated capacity was spent
(water electrolysis from then on); drug depth profiles at several
times; released / delivered / cleared amounts and the plasma level. Times in min,
depths in um, amounts in umol, concentrations in mM (mol/m^3), plasma in ng/mL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ionto.plan.predict.run import Prediction

SIZE = (7.5, 4.6)  # inches


def _figure(rows: int = 1, height: float = SIZE[1]) -> tuple[Figure, list[Any]]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(SIZE[0], height), layout="constrained")
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    return fig, list(axes)


def time_courses(p: Prediction) -> Figure:
    """Current (mA), voltage (V, whole circuit, with the compliance voltage) and cumulative
    dose (mA*min); the stretches at the compliance voltage are shaded."""
    fig, (a1, a2, a3) = _figure(3, 6.0)
    t = p.times / 60.0
    a1.plot(t, p.current * 1e3, color="C0")
    a1.set_ylabel("current [mA]")
    a2.plot(t, p.voltage, color="C1")
    a2.set_ylabel("voltage [V]\n(whole circuit)")
    limit = p.scenario.compliance_voltage
    if limit is not None:
        a2.axhline(limit, color="r", ls="--", lw=0.9)
        a2.axhline(-limit, color="r", ls="--", lw=0.9)
        a2.annotate("compliance", (t[-1], limit), fontsize=7, ha="right", va="top")
    a3.plot(t, p.dose / 0.06, color="C2")
    a3.set_ylabel("dose [mA*min]")
    a3.set_xlabel("time [min]")
    for a in (a1, a2, a3):
        a.axvline(p.scenario.protocol_end / 60.0, color="0.6", lw=0.8, ls=":")
        a.grid(alpha=0.3)
        for k, (start, end) in enumerate(p.compliance_intervals):
            a.axvspan(
                start / 60.0,
                end / 60.0,
                color="r",
                alpha=0.12,
                label="at the compliance voltage" if (a is a1 and k == 0) else None,
            )
    if p.compliance_intervals:
        a1.legend(fontsize=8, loc="upper right")
    fig.suptitle("Figure 1: current, voltage and dose over time")
    return fig


def ph_course(p: Prediction, limits: dict[str, float]) -> Figure:
    """pH at the electrode and at the skin surface under both electrodes, with the
    sim.ph limits and a vertical line where an electrode's rated capacity was spent."""
    fig, (ax,) = _figure()
    t = p.times / 60.0
    s = p.scenario
    other = "cathode" if s.polarity == "anode" else "anode"
    ax.plot(t, p.pH_electrode, label=f"active {s.polarity}: electrode surface", color="C3")
    ax.plot(t, p.pH_skin_surface, label=f"active {s.polarity}: skin surface", color="C0")
    ax.plot(
        t,
        p.pH_indifferent_electrode,
        label=f"indifferent {other}: electrode surface",
        color="C1",
        ls="--",
    )
    ax.plot(
        t,
        p.pH_indifferent_skin_surface,
        label=f"indifferent {other}: skin surface",
        color="C2",
        ls="--",
    )
    styles = {
        "acid_burn": ("r", "--"),
        "alkaline_burn": ("r", "--"),
        "acid_irritation": ("orange", ":"),
        "alkaline_irritation": ("orange", ":"),
    }
    for name, value in limits.items():
        color, ls = styles.get(name, ("0.5", ":"))
        ax.axhline(value, color=color, ls=ls, lw=0.9)
        ax.annotate(name.replace("_", " "), (t[-1], value), fontsize=7, ha="right", va="bottom")
    ax.axvline(p.scenario.protocol_end / 60.0, color="0.6", lw=0.8, ls=":")
    for when, role, kind in p.exhaustions:
        ax.axvline(
            when / 60.0,
            color="C3" if role == "active" else "C1",
            lw=1.2,
            ls="-.",
            label=f"{role} {'anode' if kind == 'anodic' else 'cathode'}: capacity spent",
        )
    ax.set_ylim(0, 14)
    ax.set_xlabel("time [min]")
    ax.set_ylabel("pH")
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(alpha=0.3)
    ax.set_title(
        f"active {s.polarity} ({s.electrode}) and indifferent {other} ({s.indifferent_electrode})"
    )
    fig.suptitle("Figure 2: pH under both electrodes")
    return fig


def depth_profiles(p: Prediction) -> Figure:
    """Drug (all forms) against depth below the skin surface at several times."""
    import numpy as np

    fig, (ax,) = _figure()
    depth = p.depth * 1e6
    floor = 1e-4  # mM: the log axis starts here
    for k, (t, profile) in enumerate(sorted(p.profiles.items())):
        ax.plot(depth, np.maximum(profile, floor), color=f"C{k}", label=f"{t / 60:.3g} min")
    bounds = p.problem.layer_bounds()
    names = [layer.name for layer in p.problem.layers]
    surface = bounds[0][1]
    skin = names[1 : names.index("body") + 1] if "body" in names else names[1:]
    for name, (start, _) in zip(skin, bounds[1 : 1 + len(skin)], strict=True):
        x = (start - surface) * 1e6
        ax.axvline(x, color="0.6", lw=0.8, ls=":")
        ax.annotate(
            name.replace("_", " "),
            (x, 0.02),
            xycoords=("data", "axes fraction"),
            fontsize=7,
            rotation=90,
            va="bottom",
            ha="right",
        )
    ax.set_yscale("log")
    ax.set_ylim(bottom=floor)
    ax.set_xlabel("depth below the skin surface [um]")
    drug = p.scenario.drug
    ax.set_ylabel(f"{drug.name if drug else 'drug'}, all forms [mM]")
    ax.legend(fontsize=8, title="time")
    ax.grid(alpha=0.3)
    fig.suptitle("Figure 3: depth profiles of the drug in the skin")
    return fig


def amounts(p: Prediction) -> Figure:
    """Released, delivered, cleared (umol) and the plasma level (ng/mL)."""
    fig, (ax,) = _figure()
    t = p.times / 60.0
    ax.plot(t, p.released * 1e6, label="released from the reservoir", color="C0")
    ax.plot(t, p.delivered * 1e6, label="in the skin", color="C2")
    ax.plot(t, p.cleared * 1e6, label="taken up by the blood", color="C1")
    ax.set_xlabel("time [min]")
    ax.set_ylabel("amount [umol]")
    ax.axvline(p.scenario.protocol_end / 60.0, color="0.6", lw=0.8, ls=":")
    ax.grid(alpha=0.3)
    lines, labels = ax.get_legend_handles_labels()
    drug = p.scenario.drug
    if p.plasma is not None and drug is not None:
        twin = ax.twinx()
        twin.plot(t, p.plasma * drug.molar_mass * 1e6, color="C4", ls="--", label="plasma level")
        twin.set_ylabel("plasma [ng/mL]")
        more = twin.get_legend_handles_labels()
        lines, labels = lines + more[0], labels + more[1]
    ax.legend(lines, labels, fontsize=8, loc="center right")
    fig.suptitle("Figure 4: delivered amount and plasma level")
    return fig


def report_figures(p: Prediction, ph_limits: dict[str, float]) -> list[Figure]:
    """All figures of a prediction, in report order (the drug figures only with a drug)."""
    figures = [time_courses(p), ph_course(p, ph_limits)]
    if p.scenario.drug is not None:
        figures += [depth_profiles(p), amounts(p)]
    return figures
