"""Simulation results: profiles at output times, named report values, balances.

Arrays are SI: x in m, times in s, concentrations mol/m^3, potential V, amounts mol/m^2.
``Result.save`` writes JSON, CSV (one row per time and cell) or netCDF (scipy's netCDF3
writer, so no extra dependency).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ionto.simulate.model import Model
from ionto.simulate.problem import FARADAY, REPORT_UNITS, Problem, ReportSpec
from ionto.simulate.rosenbrock import Stats


@dataclass
class Snapshot:
    """State at one time: y (compartments, m), quadrature states q and the current
    density i (A/m^2) flowing at that instant."""

    t: float
    y: np.ndarray
    q: np.ndarray
    i: float


class Evaluator:
    """Derived quantities of one snapshot under the current of one side of time t."""

    def __init__(self, model: Model, snap: Snapshot) -> None:
        self.model = model
        self.snap = snap
        self.i = snap.i
        self.c = model.full(snap.y)
        self._flux: np.ndarray | None = None
        self._bounds: tuple[tuple[np.ndarray, float], tuple[np.ndarray, float]] | None = None
        self._phi: tuple[np.ndarray, float, float] | None = None

    @property
    def cell_slice(self) -> slice:
        off = self.model.cell_offset
        return slice(off, off + self.model.mesh.n_cells)

    def flux_faces(self) -> np.ndarray:
        if self._flux is None:
            self._flux = self.model.fluxes(self.snap.y, self.i)
        return self._flux

    def potential(self) -> tuple[np.ndarray, float, float]:
        if self._phi is None:
            self._phi = self.model.potential_profile(self.snap.y, self.i)
        return self._phi

    def boundaries(self) -> tuple[tuple[np.ndarray, float], tuple[np.ndarray, float]]:
        if self._bounds is None:
            self._bounds = (
                self.model.boundary_state(self.snap.y, self.i, 0),
                self.model.boundary_state(self.snap.y, self.i, 1),
            )
        return self._bounds

    def voltage(self) -> float:
        _, left, right = self.potential()
        return left - right

    def overlap(self, region: tuple[float, float]) -> np.ndarray:
        """Fraction of every compartment inside region (reservoirs count when the region
        reaches beyond the stack on their side)."""
        mesh = self.model.mesh
        lo, hi = region
        frac_cells = (
            np.clip(np.minimum(hi, mesh.faces[1:]) - np.maximum(lo, mesh.faces[:-1]), 0.0, None)
            / mesh.widths
        )
        frac = np.zeros(self.model.nc)
        frac[self.cell_slice] = frac_cells
        if self.model.left_reservoir and lo < 0.0:
            frac[0] = 1.0
        if self.model.right_reservoir and hi > self.model.problem.length:
            frac[-1] = 1.0
        return frac

    def amount(self, k: int, region: tuple[float, float]) -> float:
        return float((self.overlap(region) * self.model.volumes) @ self.c[:, k])

    def cleared(self, k: int, region: tuple[float, float]) -> float:
        n = self.model.n
        ex = self.snap.q[2 * n : 2 * n + self.model.nc * n].reshape(self.model.nc, n)
        return float(self.overlap(region) @ ex[:, k])

    def face_positions(self) -> np.ndarray:
        faces = self.model.mesh.faces
        if self.model.left_reservoir:
            faces = np.concatenate([[faces[0]], faces])
        if self.model.right_reservoir:
            faces = np.concatenate([faces, [faces[-1]]])
        return faces

    def flux_at(self, k: int, x: float) -> float:
        faces = self.face_positions()
        flux = self.flux_faces()[:, k]
        lo = self.model.cell_offset
        inner = faces[lo : lo + self.model.mesh.n_cells + 1]
        fl = flux[lo : lo + self.model.mesh.n_cells + 1]
        j = int(np.argmin(np.abs(inner - x)))
        if abs(inner[j] - x) <= 1e-9 * self.model.problem.length:
            return float(fl[j])
        return float(np.interp(x, inner, fl))

    def profile_with_ends(self) -> tuple[np.ndarray, np.ndarray]:
        """Positions and concentrations (points, species) including both boundary faces."""
        (c_left, _), (c_right, _) = self.boundaries()
        xs = np.concatenate([[0.0], self.model.mesh.centres, [self.model.problem.length]])
        cs = np.vstack([c_left, self.c[self.cell_slice], c_right])
        return xs, cs

    def concentration_at(self, k: int, x: float) -> float:
        xs, cs = self.profile_with_ends()
        return float(np.interp(x, xs, cs[:, k]))

    def potential_at(self, x: float) -> float:
        phi, left, right = self.potential()
        xs = np.concatenate([[0.0], self.model.mesh.centres, [self.model.problem.length]])
        ph = np.concatenate([[left], phi[self.cell_slice], [right]])
        return float(np.interp(x, xs, ph))


def evaluate_report(model: Model, snap: Snapshot, spec: ReportSpec) -> float:
    """Value of one report quantity (SI units, see ``problem.ReportQuantity``); ``snap``
    is the state on the side of ``spec.time`` that the spec asks for."""
    ev = Evaluator(model, snap)
    problem = model.problem
    k = problem.species_index(spec.species) if spec.species is not None else -1
    whole = (-np.inf, np.inf)
    q = spec.quantity
    if q == "released":
        return float(model.initial_total[k]) - ev.amount(k, spec.region or whole)
    if q == "amount":
        return ev.amount(k, spec.region or whole)
    if q == "cleared":
        return ev.cleared(k, spec.region or whole)
    if q == "flux":
        return ev.flux_at(k, _position(spec))
    if q == "transport_number":
        if ev.i == 0.0:
            return float("nan")
        return FARADAY * model.z[k] * ev.flux_at(k, _position(spec)) / ev.i
    if q == "voltage":
        return ev.voltage()
    if q == "concentration":
        return ev.concentration_at(k, _position(spec))
    if q == "potential":
        return ev.potential_at(_position(spec))
    if q == "current":
        return ev.i
    raise ValueError(f"unknown report quantity {q!r}")


def _position(spec: ReportSpec) -> float:
    if spec.position is None:
        raise ValueError(f"report {spec.name!r} needs a position")
    return spec.position


@dataclass
class Result:
    """Outcome of ``simulate``: profiles at the output times and report values."""

    problem: Problem
    species_names: list[str]
    x: np.ndarray
    times: np.ndarray
    concentrations: np.ndarray  # (times, species, cells)
    potential: np.ndarray  # (times, cells)
    voltage: np.ndarray  # (times,)
    current: np.ndarray  # (times,)
    reports: dict[str, float]
    balance: dict[str, float]
    stats: Stats
    wall_time: float
    layer_amounts: np.ndarray = field(
        default_factory=lambda: np.zeros(0)
    )  # (times, layers, species)
    totals: dict[str, np.ndarray] = field(default_factory=dict)  # per species at the end, mol/m^2
    final_first_layer_release: np.ndarray = field(default_factory=lambda: np.zeros(0))
    faces: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (cells + 1,) m
    fluxes: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (times, species, faces)

    @classmethod
    def build(
        cls,
        problem: Problem,
        model: Model,
        before: dict[float, Snapshot],
        after: dict[float, Snapshot],
        stats: Stats,
        wall: float,
    ) -> Result:
        times = sorted(float(t) for t in problem.output_times)
        t_end = problem.duration
        nt = len(times)
        ncell = model.mesh.n_cells
        conc = np.zeros((nt, model.n, ncell))
        phi = np.zeros((nt, ncell))
        volt = np.zeros(nt)
        cur = np.zeros(nt)
        bounds = problem.layer_bounds()
        lay = np.zeros((nt, len(bounds), model.n))
        flux = np.zeros((nt, model.n, ncell + 1))
        for j, t in enumerate(times):
            snap = before[t] if t >= t_end else after[t]
            ev = Evaluator(model, snap)
            conc[j] = ev.c[ev.cell_slice].T
            p, left, _ = ev.potential()
            phi[j] = p[ev.cell_slice]
            volt[j] = left
            cur[j] = ev.i
            lo = model.cell_offset
            flux[j] = ev.flux_faces()[lo : lo + ncell + 1].T
            for li, region in enumerate(bounds):
                lay[j, li] = [ev.amount(k, region) for k in range(model.n)]
        end_eval = Evaluator(model, before[max(before)])
        first = bounds[0]
        region = (-np.inf, first[1]) if model.left_reservoir else first
        release = np.array(
            [float(model.initial_total[k]) - end_eval.amount(k, region) for k in range(model.n)]
        )
        reports = {
            spec.name: evaluate_report(
                model, (before if spec.side == "before" else after)[spec.time], spec
            )
            for spec in problem.reports
        }
        final = before[max(before)]
        balance = conservation_errors(model, final)
        n = model.n
        totals = {
            "in_left": final.q[:n].copy(),
            "out_right": final.q[n : 2 * n].copy(),
            "cleared": final.q[2 * n : 2 * n + model.nc * n].reshape(model.nc, n).sum(axis=0),
            "reacted": final.q[2 * n + model.nc * n :].copy(),
            "initial": model.initial_total.copy(),
            "final": model.amounts(final.y),
        }
        return cls(
            problem=problem,
            species_names=list(model.names),
            x=model.mesh.centres.copy(),
            times=np.array(times),
            concentrations=conc,
            potential=phi,
            voltage=volt,
            current=cur,
            reports=reports,
            balance=balance,
            stats=stats,
            wall_time=wall,
            layer_amounts=lay,
            totals=totals,
            final_first_layer_release=release,
            faces=model.mesh.faces.copy(),
            fluxes=flux,
        )

    @property
    def report_units(self) -> dict[str, str]:
        """SI unit of every report value, by report name."""
        return {spec.name: REPORT_UNITS[spec.quantity] for spec in self.problem.reports}

    def summary(self) -> dict[str, float]:
        """Headline numbers of the whole run, SI units in the keys: charge passed, and for
        every species loaded into the first layer (the drug) the amount that left it,
        the amount cleared to the blood, its mean transport number out of the first
        layer; peak voltage over the output times; balance error; work counters."""
        out: dict[str, float] = {}
        tot = self.totals
        charges = np.array([sp.charge for sp in self.problem.species], dtype=float)
        passed = FARADAY * float(charges @ tot["in_left"]) if tot else 0.0
        out["charge passed [C/m^2]"] = passed
        first = self.problem.layers[0].name
        if tot:
            for k, sp in enumerate(self.problem.species):
                loaded = self.problem.layers[0].initial.get(sp.name, 0.0) > 0.0
                if not loaded or sp.name == self.problem.electroneutral_species:
                    continue
                released = float(self.final_first_layer_release[k])
                out[f"{sp.name} delivered out of {first} [mol/m^2]"] = released
                out[f"{sp.name} cleared to blood [mol/m^2]"] = float(tot["cleared"][k])
                if passed != 0.0:
                    out[f"{sp.name} mean transport number [-]"] = (
                        FARADAY * sp.charge * released / passed
                    )
        if self.voltage.size:
            out["peak |voltage| at output times [V]"] = float(np.max(np.abs(self.voltage)))
        out["max relative balance error [-]"] = max(self.balance.values()) if self.balance else 0.0
        out["time steps [-]"] = float(self.stats.steps)
        out["wall time [s]"] = self.wall_time
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (SI units, documented in ``units``)."""
        return {
            "title": self.problem.title,
            "species": self.species_names,
            "units": {
                "x": "m",
                "times": "s",
                "concentrations": "mol/m^3",
                "potential": "V",
                "voltage": "V",
                "current": "A/m^2",
                "faces": "m",
                "fluxes": "mol/(m^2 s)",
                "layer_amounts": "mol/m^2",
                "reports": "SI",
            },
            "x": self.x.tolist(),
            "times": self.times.tolist(),
            "concentrations": self.concentrations.tolist(),
            "potential": self.potential.tolist(),
            "voltage": self.voltage.tolist(),
            "current": self.current.tolist(),
            "faces": self.faces.tolist(),
            "fluxes": self.fluxes.tolist(),
            "layers": [layer.name for layer in self.problem.layers],
            "layer_amounts": self.layer_amounts.tolist(),
            "reports": self.reports,
            "report_units": self.report_units,
            "balance": self.balance,
            "stats": {
                "steps": self.stats.steps,
                "rejected": self.stats.rejected,
                "rhs_evaluations": self.stats.rhs_evaluations,
                "wall_time_s": self.wall_time,
            },
        }

    def save(self, path: str | Path) -> Path:
        """Write the result as .json, .csv or .nc (netCDF3); returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        suffix = path.suffix.lower()
        if suffix == ".json":
            path.write_text(json.dumps(self.to_dict(), indent=1))
        elif suffix == ".csv":
            header = [
                "time_s",
                "x_m",
                *[f"{s}_mol_per_m3" for s in self.species_names],
                "potential_V",
            ]
            rows = []
            for j, t in enumerate(self.times):
                for c in range(self.x.size):
                    rows.append([t, self.x[c], *self.concentrations[j, :, c], self.potential[j, c]])
            np.savetxt(
                path,
                np.array(rows).reshape(-1, len(header)),
                delimiter=",",
                header=",".join(header),
                comments="",
            )
        elif suffix == ".nc":
            self._save_netcdf(path)
        else:
            raise ValueError(f"unknown result format {suffix!r} (use .json, .csv or .nc)")
        return path

    def _save_netcdf(self, path: Path) -> None:
        from scipy.io import netcdf_file

        with netcdf_file(path, "w") as nc:
            nc.title = self.problem.title
            nc.createDimension("time", self.times.size)
            nc.createDimension("x", self.x.size)
            nc.createDimension("face", self.faces.size)
            nc.createDimension("layer", len(self.problem.layers))
            nc.layers = ",".join(layer.name for layer in self.problem.layers)
            for name, data, dims, unit in (
                ("time", self.times, ("time",), "s"),
                ("x", self.x, ("x",), "m"),
                ("voltage", self.voltage, ("time",), "V"),
                ("current_density", self.current, ("time",), "A/m^2"),
                ("potential", self.potential, ("time", "x"), "V"),
                ("face", self.faces, ("face",), "m"),
            ):
                var = nc.createVariable(name, "d", dims)
                var[:] = data
                var.units = unit
            for k, sp in enumerate(self.species_names):
                safe = "c_" + "".join(ch if ch.isalnum() else "_" for ch in sp)
                var = nc.createVariable(safe, "d", ("time", "x"))
                var[:] = self.concentrations[:, k, :]
                var.units = "mol/m^3"
                var.species = sp
                flux = nc.createVariable("flux_" + safe[2:], "d", ("time", "face"))
                flux[:] = self.fluxes[:, k, :]
                flux.units = "mol/(m^2 s)"
                flux.species = sp
                amount = nc.createVariable("amount_" + safe[2:], "d", ("time", "layer"))
                amount[:] = self.layer_amounts[:, :, k]
                amount.units = "mol/m^2"
                amount.species = sp


def conservation_errors(model: Model, snap: Snapshot) -> dict[str, float]:
    """Relative balance error of every species and of charge at a snapshot:
    |amount(t) - amount(0) - (in - out - cleared + reacted)| / scale."""
    n = model.n
    q = snap.q
    q_in = q[:n]
    q_out = q[n : 2 * n]
    ex = q[2 * n : 2 * n + model.nc * n].reshape(model.nc, n).sum(axis=0)
    rx = q[2 * n + model.nc * n :]
    now = model.amounts(snap.y)
    change = now - model.initial_total
    expected = q_in - q_out - ex + rx
    scale = np.maximum.reduce(
        [np.abs(model.initial_total), np.abs(now), np.abs(q_in), np.abs(q_out), np.abs(ex)]
    )
    scale = np.where(scale > 0, scale, 1.0)
    errors = {
        f"{name}": float(abs(change[k] - expected[k]) / scale[k])
        for k, name in enumerate(model.names)
    }
    charge_now = float(model.z @ now)
    charge_0 = float(model.z @ model.initial_total)
    charge_flow = float(model.z @ expected)
    ref = max(abs(charge_0), float(np.abs(model.z) @ np.abs(now)), 1e-300)
    errors["charge"] = abs(charge_now - charge_0 - charge_flow) / ref
    return errors
