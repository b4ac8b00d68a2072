"""Run a plan's scenario and collect what a clinician looks at, over time.

:func:`predict` builds the scenario (:mod:`ionto.plan.predict.scenario`), simulates it
and returns a :class:`Prediction` of the whole circuit: current (A), voltage across the
circuit (V), the stretches at the source's compliance voltage and cumulative dose (C);
drug released from the reservoir, delivered into the active skin (stratum corneum to
dermis) and cleared to the blood (mol over the electrode area), plasma level (mol/m^3);
pH at the electrode surface and at the skin surface under both electrodes; the engine's
exposure indicators of both sites (``Result.exposure``); when an electrode's rated
capacity was spent (``Result.exhaustions``, the engine's left electrode is the active one:
:mod:`ionto.plan.predict.scenario`), after which it electrolyses water; depth profiles of
the drug in the active skin at several times. Times in s, depths in m below the skin
surface.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ionto.plan.plan import Plan
from ionto.plan.predict.scenario import (
    BODY,
    INDIFFERENT_PAD,
    RESERVOIR,
    PlanScenario,
    plan_scenario,
)

if TYPE_CHECKING:
    from ionto.simulate.problem import Problem
    from ionto.simulate.result import Result

SURFACE_SPAN = 10e-6  # m: the pH "at a surface" is the mean over this depth of reservoir
ROLE = {"left": "active", "right": "indifferent"}  # engine side -> plan electrode role
MA_MIN = 0.06  # C per mA*min
Progress = Callable[[float, float], None]


@dataclass
class Prediction:
    """The simulated treatment, both electrodes (see the module docstring)."""

    plan: Plan
    scenario: PlanScenario
    problem: Problem
    result: Result
    times: np.ndarray  # s
    current: np.ndarray  # A, positive with the plan's polarity at the active electrode
    voltage: np.ndarray  # V, across the whole circuit (both sites and the body)
    dose: np.ndarray  # C, cumulative |charge|
    released: np.ndarray  # mol, drug that left the reservoir
    delivered: np.ndarray  # mol, drug in the skin (stratum corneum to dermis)
    cleared: np.ndarray  # mol, drug taken up by the blood
    plasma: np.ndarray | None  # mol/m^3
    pH_electrode: np.ndarray  # at the electrode surface
    pH_skin_surface: np.ndarray  # reservoir side of the skin surface
    pH_indifferent_electrode: np.ndarray  # at the indifferent electrode's surface
    pH_indifferent_skin_surface: np.ndarray  # pad side of the indifferent skin surface
    compliance_intervals: list[tuple[float, float]]  # s, stretches at the compliance voltage
    exposure: dict[str, float]  # the engine's indicators (Result.exposure), SI
    depth: np.ndarray  # m below the skin surface (cell centres of the skin)
    profiles: dict[float, np.ndarray]  # time s -> drug total (mol/m^3) in the skin
    wall_time: float
    balance_error: float
    notes: list[str] = field(default_factory=list)
    # (time s, "active" / "indifferent", "anodic" / "cathodic"): an electrode's rated
    # capacity spent at that time, water electrolysis from then on
    exhaustions: list[tuple[float, str, str]] = field(default_factory=list)

    @property
    def area(self) -> float:
        """Active electrode area (m^2)."""
        return self.scenario.area

    @property
    def indifferent_area(self) -> float:
        """Indifferent electrode area (m^2)."""
        return self.plan.indifferent.area

    @property
    def time_at_compliance(self) -> float:
        """Time (s) the source spent at its compliance voltage."""
        return float(sum(b - a for a, b in self.compliance_intervals))

    def exhaustion_messages(self) -> list[str]:
        """One sentence per entry of ``exhaustions``: which electrode, its rated capacity
        (mA*min), when it was spent (min) and what it makes from then on."""
        out = []
        for t, role, kind in self.exhaustions:
            side = "left" if role == "active" else "right"
            use = self.plan.active if role == "active" else self.plan.indifferent
            simulated = (
                self.scenario.electrode
                if role == "active"
                else (self.scenario.indifferent_electrode)
            )
            boundary = self.scenario.data["boundary"][side]
            rated = boundary.get(f"{kind}_capacity")
            capacity = (
                f"rated capacity ({float(str(rated).split()[0]) / MA_MIN:.4g} mA*min)"
                if rated is not None
                else "capacity"
            )
            pole = "anode" if kind == "anodic" else "cathode"
            made, direction = ("acid", "falls") if kind == "anodic" else ("alkali", "rises")
            material = "Ag/AgCl" if simulated == "Ag/AgCl" else f"{simulated} (as Ag/AgCl)"
            out.append(
                f"the {role} {material} {pole} {use.entry.name!r}: its {capacity} was spent "
                f"at {t / 60:.4g} min; it electrolysed water after that, making {made} (the pH "
                f"at the electrode {direction} from then on: see the pH figure)"
            )
        return out

    def site_exposure(self, side: str) -> dict[str, float]:
        """The engine's indicators at one electrode (``"active"`` or ``"indifferent"``):
        peak current density (A/m^2), charge density (C/m^2) and largest pH excursion at
        the electrode face (-), keyed ``current density``, ``charge density``,
        ``pH excursion at the electrode``."""
        name = "left (active)" if side == "active" else "right (indifferent)"
        out = {}
        for key, label in (
            ("peak current density", "current density"),
            ("charge density", "charge density"),
            ("largest pH excursion", "pH excursion at the electrode"),
        ):
            for k, v in self.exposure.items():
                if k.startswith(f"{key} at the {name} electrode"):
                    out[label] = float(v)
        return out

    def skin_ph_excursion(self, side: str) -> float:
        """Largest |pH - initial pH| (-) at the skin surface under one electrode
        (``"active"`` or ``"indifferent"``)."""
        ph = self.pH_skin_surface if side == "active" else self.pH_indifferent_skin_surface
        return float(np.max(np.abs(ph - ph[0])))

    @property
    def end(self) -> int:
        """Index of the end of the protocol in ``times``."""
        return int(np.argmin(np.abs(self.times - self.scenario.protocol_end)))

    def summary(self) -> dict[str, float]:
        """Headline values (SI units in the keys)."""
        e = self.end
        out = {
            "duration of current [s]": self.scenario.protocol_end,
            "charge passed [C]": float(self.dose[-1]),
            "peak current density [A/m^2]": float(np.max(np.abs(self.current))) / self.area,
            "peak voltage (whole circuit) [V]": float(np.max(np.abs(self.voltage))),
            "time at the compliance voltage [s]": self.time_at_compliance,
            "min pH at the skin surface [-]": float(np.min(self.pH_skin_surface)),
            "max pH at the skin surface [-]": float(np.max(self.pH_skin_surface)),
            "min pH at the electrode [-]": float(np.min(self.pH_electrode)),
            "max pH at the electrode [-]": float(np.max(self.pH_electrode)),
            "min pH at the indifferent skin surface [-]": float(
                np.min(self.pH_indifferent_skin_surface)
            ),
            "max pH at the indifferent skin surface [-]": float(
                np.max(self.pH_indifferent_skin_surface)
            ),
            "min pH at the indifferent electrode [-]": float(np.min(self.pH_indifferent_electrode)),
            "max pH at the indifferent electrode [-]": float(np.max(self.pH_indifferent_electrode)),
        }
        if self.scenario.drug is not None:
            out |= {
                "released from reservoir at end of current [mol]": float(self.released[e]),
                "delivered into skin at end of current [mol]": float(self.delivered[e]),
                "delivered into skin at end [mol]": float(self.delivered[-1]),
                "cleared to blood at end [mol]": float(self.cleared[-1]),
            }
            if self.plasma is not None:
                out["peak plasma level [mol/m^3]"] = float(np.max(self.plasma))
        out["simulation wall time [s]"] = self.wall_time
        out["max relative balance error [-]"] = self.balance_error
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (SI units, named in ``units``)."""
        drug = self.scenario.drug
        series: dict[str, Any] = {
            "times": self.times.tolist(),
            "current": self.current.tolist(),
            "voltage": self.voltage.tolist(),
            "dose": self.dose.tolist(),
            "pH_electrode": self.pH_electrode.tolist(),
            "pH_skin_surface": self.pH_skin_surface.tolist(),
            "pH_indifferent_electrode": self.pH_indifferent_electrode.tolist(),
            "pH_indifferent_skin_surface": self.pH_indifferent_skin_surface.tolist(),
        }
        if drug is not None:
            series |= {
                "released": self.released.tolist(),
                "delivered": self.delivered.tolist(),
                "cleared": self.cleared.tolist(),
                "plasma": None if self.plasma is None else self.plasma.tolist(),
            }
        return {
            "summary": self.summary(),
            "drug": None if drug is None else drug.name,
            "species": list(drug.species) if drug is not None else [],
            "electrode": self.scenario.electrode,
            "indifferent_electrode": self.scenario.indifferent_electrode,
            "skin": {
                "type": self.scenario.skin_type,
                "site": self.scenario.skin_site,
                "indifferent_site": self.scenario.indifferent_site,
            },
            "compliance_voltage": self.scenario.compliance_voltage,
            "compliance_intervals": [list(iv) for iv in self.compliance_intervals],
            "exhaustions": [
                {"time": t, "electrode": role, "direction": kind}
                for t, role, kind in self.exhaustions
            ],
            "exposure": dict(self.exposure),
            "units": {
                "times": "s",
                "current": "A",
                "voltage": "V",
                "dose": "C",
                "released": "mol",
                "delivered": "mol",
                "cleared": "mol",
                "plasma": "mol/m^3",
                "pH": "-",
                "compliance_voltage": "V",
                "compliance_intervals": "s",
                "exhaustions": "time in s; electrode active or indifferent; direction "
                "anodic or cathodic (rated capacity spent, water electrolysis from then on)",
                "exposure": "SI (named in the keys)",
            },
            "series": series,
            "notes": list(self.scenario.notes) + self.exhaustion_messages(),
            "assumptions": [
                {
                    "name": a.name,
                    "value": a.value,
                    "source": list(a.source),
                    "confidence": a.confidence,
                    "note": a.note,
                }
                for a in self.scenario.assumptions
            ],
        }


def _ph(conc_h: np.ndarray) -> np.ndarray:
    return np.asarray(-np.log10(np.maximum(conc_h, 1e-30) / 1000.0))


#: Mesh and solver settings tried in turn: fast first, then a finer mesh when the fast
#: one fails (steep acid or alkali fronts), uniform so that a front in any layer (a pad,
#: the dermis) is resolved.
SETTINGS: tuple[dict[str, Any], ...] = (
    {},
    {
        "mesh": {"min_cell": "0.025 um", "max_cell": "20 um", "growth": 1.15},
        "solver": {"rtol": 1e-4, "atol": "1e-4 mol/m^3"},
    },
)


def predict(plan: Plan, progress: Progress | None = None) -> Prediction:
    """Simulate the plan at its active electrode. Raises ConfigError (plan cannot be
    simulated) or SolverError (no settings of :data:`SETTINGS` converged)."""
    from ionto.core.errors import SolverError
    from ionto.simulate.scenario import problem_from_dict
    from ionto.simulate.simulation import simulate

    scenario = plan_scenario(plan)
    failures: list[str] = []
    for settings in SETTINGS:
        data = scenario.data | settings
        problem = problem_from_dict(data)
        start = time.perf_counter()
        try:
            # an overflowing error estimate only rejects the step (the integrator retries)
            with np.errstate(over="ignore"):
                result = simulate(problem, progress=progress)
        except (SolverError, FloatingPointError) as exc:
            failures.append(str(exc))
            continue
        wall = time.perf_counter() - start
        if settings:
            scenario.data.update(settings)
            scenario.notes.append(
                "the fast mesh did not converge; simulated on the finer mesh "
                f"({settings['mesh']['min_cell']} to {settings['mesh']['max_cell']})"
            )
            scenario.assumptions[:] = [
                a for a in scenario.assumptions if a.name != "mesh and solver"
            ]
        return collect(plan, scenario, problem, result, wall)
    raise SolverError("the prediction did not converge: " + "; ".join(failures))


def collect(
    plan: Plan, scenario: PlanScenario, problem: Problem, result: Result, wall: float
) -> Prediction:
    """A :class:`Prediction` from a finished simulation of ``scenario``."""
    area = scenario.area
    times = np.asarray(result.times, dtype=float)
    names = result.species_names
    bounds = problem.layer_bounds()
    layer_names = [layer.name for layer in problem.layers]
    res = layer_names.index(RESERVOIR)
    body = layer_names.index(BODY)
    pad = layer_names.index(INDIFFERENT_PAD)
    skin_start = bounds[res][1]
    skin_end = bounds[body][0]
    pad_start, pad_end = bounds[pad]
    x = np.asarray(result.x)
    h = names.index("H+")
    conc = result.concentrations

    def mean_ph(lo: float, hi: float) -> np.ndarray:
        cells = np.flatnonzero((x >= lo) & (x <= hi))
        if cells.size == 0:  # thinner than one cell: the nearest cell
            cells = np.array([int(np.argmin(np.abs(x - 0.5 * (lo + hi))))])
        return _ph(conc[:, h, cells].mean(axis=1))

    ph_el = mean_ph(bounds[res][0], bounds[res][0] + SURFACE_SPAN)
    ph_skin = mean_ph(skin_start - SURFACE_SPAN, skin_start)
    ph_ind_skin = mean_ph(pad_start, pad_start + SURFACE_SPAN)
    ph_ind_el = mean_ph(pad_end - SURFACE_SPAN, pad_end)
    sign = 1.0 if scenario.polarity == "anode" else -1.0  # engine: + is anodic at the left
    current = sign * np.asarray(result.current) * area
    # the charge that flowed (C): the engine's exact integral of |i| through the active
    # electrode, below the set current's while the source is held at its compliance
    dose = np.array([result.reports[f"charge_{k}"] for k in range(len(times))]) * area
    drug = scenario.drug
    zeros = np.zeros_like(times)
    released, delivered, cleared = zeros, zeros, zeros
    plasma = None
    skin_cells = np.flatnonzero((x >= skin_start) & (x < skin_end))
    depth = x[skin_cells] - skin_start
    profiles: dict[float, np.ndarray] = {}
    if drug is not None:
        idx = [names.index(s) for s in drug.species]
        amounts = result.layer_amounts[:, :, idx].sum(axis=2)  # (times, layers) mol/m^2
        released = (amounts[0, res] - amounts[:, res]) * area
        delivered = amounts[:, res + 1 : body].sum(axis=1) * area
        cleared = np.array([result.reports[f"cleared_{k}"] for k in range(len(times))]) * area
        if f"plasma_{len(times) - 1}" in result.reports:
            plasma = np.array([result.reports[f"plasma_{k}"] for k in range(len(times))])
        total = conc[:, idx, :].sum(axis=1)
        for t in profile_times(times, scenario.protocol_end):
            j = int(np.argmin(np.abs(times - t)))
            profiles[float(times[j])] = total[j, skin_cells]
    balance = max(result.balance.values()) if result.balance else 0.0
    return Prediction(
        plan=plan,
        scenario=scenario,
        problem=problem,
        result=result,
        times=times,
        current=current,
        voltage=np.asarray(result.voltage, dtype=float),
        dose=dose,
        released=released,
        delivered=delivered,
        cleared=cleared,
        plasma=plasma,
        pH_electrode=ph_el,
        pH_skin_surface=ph_skin,
        pH_indifferent_electrode=ph_ind_el,
        pH_indifferent_skin_surface=ph_ind_skin,
        compliance_intervals=[(float(a), float(b)) for a, b in result.compliance_intervals],
        exposure=dict(result.exposure),
        depth=depth,
        profiles=profiles,
        wall_time=wall,
        balance_error=float(balance),
        notes=list(scenario.notes),
        exhaustions=[
            (float(t), ROLE[side], kind)
            for t, (side, kind) in ((t, ev.split()) for t, ev in result.exhaustions)
        ],
    )


def profile_times(times: np.ndarray, protocol_end: float) -> list[float]:
    """Times for depth profiles: a quarter and half of the current, its end, and the
    middle and end of the observation (distinct output times)."""
    end = float(times[-1])
    wanted = [0.25 * protocol_end, 0.5 * protocol_end, protocol_end]
    if end > protocol_end:
        wanted += [0.5 * (protocol_end + end), end]
    picked: list[float] = []
    for t in wanted:
        j = int(np.argmin(np.abs(times - t)))
        if float(times[j]) > 0 and float(times[j]) not in picked:
            picked.append(float(times[j]))
    return picked
