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

from ionto.simulate.chemistry import H_PLUS
from ionto.simulate.model import Model
from ionto.simulate.problem import FARADAY, REPORT_UNITS, Problem, ReportSpec
from ionto.simulate.rosenbrock import Stats


@dataclass
class Snapshot:
    """State at one time: compartment states y (nc, m + r: totals and free
    concentrations, see ``model``), quadrature states q and the current density i
    (A/m^2) flowing at that instant."""

    t: float
    y: np.ndarray
    q: np.ndarray
    i: float
    plasma: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cycle: tuple[float, float, float] | None = None  # a cycle-averaged train's currents
    # cumulative net amounts withdrawn by sampling (mol/m^2), rows left and right end,
    # columns the balance quantities; None: no sampling so far
    withdrawn: np.ndarray | None = None
    # integral of |i| dt up to t through the left (active) end, C/m^2 of the reference
    # area, exact from the charge quadratures (see ``simulation._Exposure.passed``)
    charge: float = 0.0


class Evaluator:
    """Derived quantities of one snapshot."""

    def __init__(self, model: Model, snap: Snapshot) -> None:
        self.model = model
        self.snap = snap
        self.i = snap.i
        model.cycle = snap.cycle
        if snap.plasma.size == model.nsys + model.nact + 2 * model.ncap:
            model.set_border(snap.plasma)
        self.c = model.full(snap.y)
        self._flux: np.ndarray | None = None
        self._phi: tuple[np.ndarray, float, float] | None = None

    @property
    def cell_slice(self) -> slice:
        off = self.model.cell_offset
        return slice(off, off + self.model.mesh.n_cells)

    def flux_faces(self) -> np.ndarray:
        """Species fluxes on every face of the compartment chain, mol/(m^2 s)."""
        if self._flux is None:
            self._flux = self.model.fluxes(self.snap.y, self.i)
        return self._flux

    def potential(self) -> tuple[np.ndarray, float, float]:
        if self._phi is None:
            self._phi = self.model.potential_profile(self.snap.y, self.i)
        return self._phi

    def voltage(self) -> float:
        _, left, right = self.potential()
        return left - right

    def overlap(self, region: tuple[float, float]) -> np.ndarray:
        """Fraction of every compartment inside region (an end reservoir counts when the
        region reaches beyond the stack on its side)."""
        model = self.model
        mesh = model.mesh
        lo, hi = region
        frac_cells = (
            np.clip(np.minimum(hi, mesh.faces[1:]) - np.maximum(lo, mesh.faces[:-1]), 0.0, None)
            / mesh.widths
        )
        frac = np.zeros(model.nc)
        frac[self.cell_slice] = frac_cells
        if model.left_node and lo < 0.0:
            frac[0] = 1.0
        if model.right_node and hi > model.problem.length:
            frac[-1] = 1.0
        return frac

    def column(self, species: str, total: bool) -> np.ndarray:
        """Concentration of a species (or of the total it is the primary of) in every
        compartment, mol/m^3."""
        k = self.model.names.index(species)
        if not total or k == self.model.en:
            return np.asarray(self.c[:, k])
        j = self.model.spec.component_index(species)
        if j is None:
            raise ValueError(f"{species} is not the primary species of a conserved total")
        return np.asarray(self.snap.y[:, j])

    def amount(self, species: str, region: tuple[float, float], total: bool = False) -> float:
        """Amount per area (mol/m^2) in a region."""
        weights = self.overlap(region) * self.model.volumes
        return float(weights @ self.column(species, total))

    def mean(self, species: str, region: tuple[float, float], total: bool = False) -> float:
        """Volume-mean concentration (mol/m^3) over a region."""
        weights = self.overlap(region) * self.model.volumes
        return float(weights @ self.column(species, total) / weights.sum())

    def cleared(self, species: str, region: tuple[float, float]) -> float:
        """Cumulative amount lost to the blood from a region (mol/m^2)."""
        b = self.model.balance_index(species)
        if b is None:
            raise ValueError(f"{species} is not a conserved quantity; report its total")
        nb, nc = self.model.nbal, self.model.nc
        ex = self.snap.q[2 * nb : 2 * nb + nc * nb].reshape(nc, nb)
        return float(self.overlap(region) @ ex[:, b])

    def resistance(self, region: tuple[float, float]) -> float:
        """Ohmic resistance (ohm m^2 of the reference area) of the mesh cells in a
        region: sum of h / (sigma s), sigma = F^2/RT sum z^2 D c (diffusion potentials and
        electrode reactions are not part of it)."""
        model = self.model
        act = (
            self.snap.plasma[model.nsys : model.nsys + model.nact]
            if self.snap.plasma.size > model.nsys
            else None
        )
        sigma = model.cell_conductivity(self.snap.y, model.activation if act is None else act)
        frac = self.overlap(region)[self.cell_slice]
        scale = model.cell_area_scale
        return float(np.sum(frac * model.mesh.widths / (sigma * scale)))

    def perfusion(self, region: tuple[float, float]) -> float:
        """Volume-mean relative perfusion (-) over a region: exchange rate over its value
        at rest (1 where nothing dilates the vessels)."""
        model = self.model
        n0 = model.nsys
        act = self.snap.plasma[n0 : n0 + model.nact]
        if act.size != model.nact:
            act = model.activation
        weights = self.overlap(region) * model.volumes
        return float(weights @ model.perfusion(act) / weights.sum())

    def face_positions(self) -> np.ndarray:
        """Positions (m) of the mesh faces, as indexed in ``flux_faces`` from
        ``cell_offset`` on."""
        return np.asarray(self.model.mesh.faces)

    def flux_at(self, species: str, x: float, total: bool = False) -> float:
        model = self.model
        flux = self.flux_faces()
        if total and model.names.index(species) != model.en:
            j = model.spec.component_index(species)
            if j is None:
                raise ValueError(f"{species} is not the primary species of a conserved total")
            column = flux @ model.spec.A[j]
        else:
            column = flux[:, model.names.index(species)]
        lo = model.cell_offset
        inner = self.face_positions()
        fl = column[lo : lo + model.mesh.n_cells + 1]
        j = int(np.argmin(np.abs(inner - x)))
        if abs(inner[j] - x) <= 1e-9 * model.problem.length:
            return float(fl[j])
        return float(np.interp(x, inner, fl))

    def profile_with_ends(self) -> tuple[np.ndarray, np.ndarray]:
        """Positions and concentrations (points, species) including both end faces."""
        model = self.model
        xs = np.concatenate([[0.0], model.mesh.centres, [model.problem.length]])
        ends = (model.end_concentrations(self.snap.y, 0), model.end_concentrations(self.snap.y, 1))
        cs = np.vstack([ends[0], self.c[self.cell_slice], ends[1]])
        return xs, cs

    def concentration_at(self, species: str, x: float) -> float:
        xs, cs = self.profile_with_ends()
        return float(np.interp(x, xs, cs[:, self.model.names.index(species)]))

    def potential_at(self, x: float) -> float:
        phi, left, right = self.potential()
        xs = np.concatenate([[0.0], self.model.mesh.centres, [self.model.problem.length]])
        ph = np.concatenate([[left], phi[self.cell_slice], [right]])
        return float(np.interp(x, xs, ph))

    def ph(self, region: tuple[float, float] | None, x: float | None) -> float:
        """pH of the mean free H+ over a region, or at a position."""
        if region is not None:
            mean = self.mean(H_PLUS, region)
        else:
            assert x is not None
            mean = self.concentration_at(H_PLUS, x)
        return float(-np.log10(mean / 1000.0)) if mean > 0 else float("nan")


def monitor_value(model: Model, y: np.ndarray, spec: ReportSpec) -> float:
    """The quantity a "time_below" report watches: the pH of species H+ (mean over the
    region, or at the position), or the mean concentration of another species."""
    ev = Evaluator(model, Snapshot(0.0, y, np.zeros(0), 0.0))
    if spec.species == H_PLUS:
        return ev.ph(spec.region, spec.position)
    assert spec.species is not None
    if spec.region is not None:
        return ev.mean(spec.species, spec.region, spec.total)
    return ev.concentration_at(spec.species, _position(spec))


def evaluate_report(model: Model, snap: Snapshot, spec: ReportSpec) -> float:
    """Value of one report quantity (SI units, see ``problem.ReportQuantity``); ``snap``
    is the state on the side of ``spec.time`` that the spec asks for."""
    ev = Evaluator(model, snap)
    sp = spec.species or ""
    whole = (-np.inf, np.inf)
    q = spec.quantity
    if q == "released":
        initial = Evaluator(model, Snapshot(0.0, model.state0, snap.q, 0.0))
        return initial.amount(sp, whole, spec.total) - ev.amount(
            sp, spec.region or whole, spec.total
        )
    if q == "amount":
        return ev.amount(sp, spec.region or whole, spec.total)
    if q == "change":
        initial = Evaluator(model, Snapshot(0.0, model.state0, snap.q, 0.0))
        region = spec.region or whole
        return ev.amount(sp, region, spec.total) - initial.amount(sp, region, spec.total)
    if q == "cleared":
        return ev.cleared(sp, spec.region or whole)
    if q == "flux":
        return ev.flux_at(sp, _position(spec), spec.total)
    if q == "transport_number":
        if ev.i == 0.0:
            return float("nan")
        k = model.names.index(sp)
        return FARADAY * model.z[k] * ev.flux_at(sp, _position(spec)) / ev.i
    if q == "voltage":
        return ev.voltage()
    if q == "concentration":
        if spec.total:
            return float(np.interp(_position(spec), model.centres, ev.column(sp, True)))
        return ev.concentration_at(sp, _position(spec))
    if q == "potential":
        return ev.potential_at(_position(spec))
    if q == "current":
        return ev.i
    if q == "charge":  # per m^2 of the active electrode (the first cell's area)
        return snap.charge / float(model.cell_area_scale[0])
    if q == "pH":
        return ev.ph(spec.region, spec.position)
    if q == "perfusion":
        assert spec.region is not None
        return ev.perfusion(spec.region)
    if q == "resistance":
        assert spec.region is not None
        return ev.resistance(spec.region)
    if q == "withdrawn":  # the region marks the end: (-1, 0) left, past the stack right
        assert spec.region is not None
        b = model.balance_index(sp)
        if b is None:
            raise ValueError(f"report {spec.name!r}: {sp!r} is not a balance quantity")
        if snap.withdrawn is None:
            return 0.0
        return float(snap.withdrawn[0 if spec.region[1] <= 0.0 else 1, b])
    if q == "plasma":
        names = [d.species for d in model.problem.systemic]
        return float(snap.plasma[names.index(sp)])
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
    # at the end, per balance quantity (components by primary species, then the
    # electroneutrality species; ``balance_names``), mol/m^2
    totals: dict[str, np.ndarray] = field(default_factory=dict)
    balance_names: list[str] = field(default_factory=list)
    final_first_layer_release: np.ndarray = field(default_factory=lambda: np.zeros(0))
    faces: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (cells + 1,) m
    fluxes: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (times, species, faces)
    # (start, end) in s of every stretch the source spent at its limit (the compliance
    # voltage of a current source, the current limit of a voltage source)
    compliance_intervals: list[tuple[float, float]] = field(default_factory=list)
    # (time in s, "left anodic" / "right cathodic" ...) of every electrode direction that
    # ran out of its capacity (then water electrolysis)
    exhaustions: list[tuple[float, str]] = field(default_factory=list)
    # irritation / burn-risk indicators of both electrode sites (claim P10)
    exposure: dict[str, float] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        problem: Problem,
        model: Model,
        before: dict[float, Snapshot],
        after: dict[float, Snapshot],
        stats: Stats,
        wall: float,
        events: dict[str, float] | None = None,
    ) -> Result:
        events = events or {}
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
                lay[j, li] = [ev.amount(nm, region) for nm in model.names]
        end_eval = Evaluator(model, before[max(before)])
        start_eval = Evaluator(model, Snapshot(0.0, model.state0, np.zeros(0), 0.0))
        first = bounds[0]
        region = (-np.inf, first[1]) if model.left_reservoir else first
        release = np.array(
            [start_eval.amount(nm, region) - end_eval.amount(nm, region) for nm in model.names]
        )
        reports = {}
        for spec in problem.reports:
            if spec.quantity == "time_below":
                reports[spec.name] = events.get(spec.name, float("nan"))
                continue
            snap = (before if spec.side == "before" else after)[spec.time]
            reports[spec.name] = evaluate_report(model, snap, spec)
        final = before[max(before)]
        balance = conservation_errors(model, final)
        nb = model.nbal
        totals = {
            "in_left": final.q[:nb].copy(),
            "out_right": final.q[nb : 2 * nb].copy(),
            "cleared": final.q[2 * nb : 2 * nb + model.nc * nb].reshape(model.nc, nb).sum(axis=0),
            "reacted": final.q[2 * nb + model.nc * nb : 3 * nb + model.nc * nb].copy(),
            "initial": model.initial_balance.copy(),
            "final": model.balance_amounts(final.y),
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
            balance_names=list(model.balance_names),
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
        charge_of = {sp.name: float(sp.charge) for sp in self.problem.species}
        charges = np.array([charge_of[nm] for nm in self.balance_names])
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
                if sp.name in self.balance_names:
                    b = self.balance_names.index(sp.name)
                    out[f"{sp.name} cleared to blood [mol/m^2]"] = float(tot["cleared"][b])
                if passed != 0.0:
                    out[f"{sp.name} mean transport number [-]"] = (
                        FARADAY * sp.charge * released / passed
                    )
        if self.voltage.size:
            out["peak |voltage| at output times [V]"] = float(np.max(np.abs(self.voltage)))
        if self.problem.compliance_voltage is not None or self.problem.current_limit is not None:
            out["time at the source's limit [s]"] = float(
                sum(b - a for a, b in self.compliance_intervals)
            )
        out.update(self.exposure)
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
            "compliance_intervals": [list(iv) for iv in self.compliance_intervals],
            "exhaustions": [list(ev) for ev in self.exhaustions],
            "exposure": self.exposure,
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
    """Relative balance error of every balance quantity (each conserved total, named by
    its primary species, and the electroneutrality species) and of charge:
    |amount(t) - amount(0) - (in - out - cleared + reacted)| / scale, the scale being the
    largest amount involved (at least 1e-6 of the largest of any balance quantity)."""
    nb = model.nbal
    q = snap.q
    q_in = q[:nb]
    q_out = q[nb : 2 * nb]
    ex = q[2 * nb : 2 * nb + model.nc * nb].reshape(model.nc, nb).sum(axis=0)
    rx = q[2 * nb + model.nc * nb : 3 * nb + model.nc * nb]
    now = model.balance_amounts(snap.y)
    change = now - model.initial_balance
    expected = q_in - q_out - ex + rx
    scale = np.maximum.reduce(
        [np.abs(model.initial_balance), np.abs(now), np.abs(q_in), np.abs(q_out), np.abs(ex)]
    )
    # a species absent from the problem (its amounts are round-off of the others', ~1e-17
    # of the largest) is judged against a millionth of the largest amount, not against its
    # own round-off: a leak of 1e-14 of the largest amount still shows as 1e-8
    scale = np.maximum(scale, 1e-6 * float(scale.max(initial=0.0)))
    scale = np.where(scale > 0, scale, 1.0)
    errors = {
        name: float(abs(change[k] - expected[k]) / scale[k])
        for k, name in enumerate(model.balance_names)
    }
    for s_idx, sysd in enumerate(model.problem.systemic):
        # plasma: (C - C0) V/A = taken up - eliminated
        j = int(model.sys_comp[s_idx])
        stored = (snap.plasma[s_idx] - model.plasma0[s_idx]) * model.sys_capacity[s_idx]
        taken = ex[j] - q[-model.nsys + s_idx]
        scale_p = max(abs(stored), abs(ex[j]), abs(q[-model.nsys + s_idx]), 1e-300)
        errors[f"plasma {sysd.species}"] = float(abs(stored - taken) / scale_p)
    z = model.zbal
    charge_now = float(z @ now)
    charge_0 = float(z @ model.initial_balance)
    charge_flow = float(z @ expected)
    ref = max(abs(charge_0), float(np.abs(z) @ np.abs(now)), 1e-300)
    errors["charge"] = abs(charge_now - charge_0 - charge_flow) / ref
    return errors
