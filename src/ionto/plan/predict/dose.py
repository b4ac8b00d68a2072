"""Dose finding and the dose / time / current calculator.

* :func:`calculate`: any two of current (A), duration (s) and dose (C) give the third
  (constant current, ramps not counted); :func:`electrode_area` sizes an electrode for a
  current at a target current density (m^2 = A / (A/m^2)).
* :func:`find_dose`: the protocol that delivers a target amount of drug into the skin
  (mol, at the end of the current) within the safety rules. The current is the largest
  the rules allow (the current-density limit of the plan's options on both electrodes and
  the modality's maximum current); ramps are the modality's minimum ramp (30 s if none);
  the charge of the hold is found with the simulator. Delivery is close to linear in
  charge (claim P11), so a bracketed root find (scipy.optimize.brentq) between a short
  hold and the largest dose the rules allow (modality maximum, electrode capacities)
  converges in a few simulations. The result is refused, with the reason, when the
  largest allowed dose does not reach the target or the found plan breaks a rule
  (including the simulation-based ones).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ionto.core.errors import ConfigError
from ionto.plan.plan import Plan
from ionto.plan.predict.run import Prediction, Progress, predict
from ionto.plan.protocol import Protocol
from ionto.plan.safety.findings import Report

MA_MIN = 0.06  # C per mA*min
DEFAULT_RAMP = 30.0  # s, when the modality has no ramp_min
RELATIVE_TOLERANCE = 2e-3  # of the hold charge


def calculate(
    current: float | None = None, duration: float | None = None, dose: float | None = None
) -> dict[str, float]:
    """Two of current (A), duration (s), dose (C) -> all three. ConfigError otherwise."""
    given = {"current": current, "duration": duration, "dose": dose}
    known = {k: v for k, v in given.items() if v is not None}
    if len(known) != 2:
        raise ConfigError(
            "current, duration, dose",
            ", ".join(known) or None,
            None,
            "exactly two of them",
            "give exactly two of current, duration and dose",
        )
    for key, value in known.items():
        if not value > 0:
            unit = {"current": "A", "duration": "s", "dose": "C"}[key]
            raise ConfigError(key, value, unit, "> 0")
    if current is None:
        assert duration is not None and dose is not None
        current = dose / duration
    elif duration is None:
        assert dose is not None
        duration = dose / current
    else:
        dose = current * duration
    return {"current": current, "duration": duration, "dose": dose}


def electrode_area(current: float, density: float) -> float:
    """Contact area (m^2) that keeps ``current`` (A) at ``density`` (A/m^2)."""
    if not (current > 0 and density > 0):
        raise ConfigError("current, density", f"{current}, {density}", "A, A/m^2", "> 0")
    return current / density


@dataclass
class DoseResult:
    """What the dose finder found: the plan with the found protocol, its prediction, the
    limits it worked within, every simulation it ran (hold charge C, delivered mol) and
    the reason when the target cannot be reached or the plan is refused."""

    target: float  # mol
    plan: Plan | None
    prediction: Prediction | None
    current: float  # A
    max_dose: float  # C, the largest total dose the rules allow
    limits: dict[str, str]
    evaluations: list[tuple[float, float]] = field(default_factory=list)
    report: Report | None = None
    reason: str = ""

    @property
    def refused(self) -> bool:
        """True when no protocol within the rules reaches the target."""
        return bool(self.reason)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready (SI units)."""
        out: dict[str, object] = {
            "target_mol": self.target,
            "refused": self.refused,
            "reason": self.reason,
            "current_A": self.current,
            "max_dose_C": self.max_dose,
            "limits": self.limits,
            "evaluations": [{"hold_dose_C": q, "delivered_mol": d} for q, d in self.evaluations],
        }
        if self.plan is not None and self.prediction is not None:
            p = self.plan.protocol
            out |= {
                "protocol": str(p),
                "dose_C": p.charge.absolute,
                "duration_s": p.duration,
                "delivered_mol": float(self.prediction.delivered[self.prediction.end]),
            }
        if self.report is not None:
            out["findings"] = [f.to_dict() for f in self.report.findings]
        return out


def _limits(plan: Plan) -> tuple[float, float, dict[str, str]]:
    """(largest current A, largest total dose C, the limits in words)."""
    from ionto.plan.safety import default_rules
    from ionto.plan.safety.context import Context, show

    ctx = Context(plan, default_rules())
    polarity = plan.polarity or "anode"
    other = "cathode" if polarity == "anode" else "anode"
    words: dict[str, str] = {}
    currents: list[float] = []
    for use, side in ((plan.active, polarity), (plan.indifferent, other)):
        density = ctx.param("current.density", side)
        if density is not None and plan.modality.density_rule:
            currents.append(density.si * use.area)
            words[f"current density ({use.role}, {side})"] = (
                f"{density.text} x {show(use.area, 'm^2')} = {show(currents[-1], 'A')}"
            )
    cmax = plan.modality.current_max.pick(plan.options.get("current_max"))
    currents.append(cmax.si)
    words["modality current_max"] = cmax.text
    doses: list[float] = []
    if plan.modality.dose_max is not None:
        doses.append(plan.modality.dose_max.si)
        words["modality dose_max"] = str(plan.modality.dose_max.value)
    for use in plan.electrodes:
        if use.entry.capacity is not None:
            cap = use.entry.capacity.pick(plan.options.get("electrode_capacity"))
            doses.append(cap.si)
            words[f"{use.role} electrode capacity"] = cap.text
    if not doses:
        raise ConfigError(
            "modality.dose_max",
            None,
            "C",
            "a dose limit in the library (modality dose_max or an electrode capacity)",
            "the dose finder needs the largest dose the rules allow",
        )
    return min(currents), min(doses), words


def _protocol(current: float, ramp: float, hold_dose: float) -> Protocol:
    ma = current * 1e3
    text = (
        f"ramp to {ma:.6g} mA over {ramp:g} s\n"
        f"hold {ma:.6g} mA until {hold_dose / MA_MIN:.8g} mA*min\n"
        f"ramp to 0 mA over {ramp:g} s"
    )
    return Protocol.parse(text, source="dose finder")


def find_dose(
    plan: Plan, target: float, progress: Progress | None = None, check: bool = True
) -> DoseResult:
    """The protocol delivering ``target`` mol into the skin (see the module docstring)."""
    from scipy.optimize import brentq

    if plan.drug is None or not target > 0:
        raise ConfigError(
            "target", target, "mol", "> 0, with a drug in the plan", "nothing to deliver"
        )
    from ionto.plan.predict.scenario import plan_scenario

    current, max_dose, limits = _limits(plan)
    scenario = plan_scenario(plan)
    if scenario.drug is None:
        result = DoseResult(target, None, None, current, max_dose, limits)
        result.reason = "the substance is not simulated: " + "; ".join(
            n for n in scenario.notes if "not simulated:" in n
        )
        return result
    ramp = plan.modality.ramp_min.si if plan.modality.ramp_min is not None else DEFAULT_RAMP
    ramps = current * ramp  # C in the two ramps
    result = DoseResult(target, None, None, current, max_dose, limits)
    if max_dose <= ramps:
        result.reason = "the ramps alone pass more than the largest dose the rules allow"
        return result
    quick = dataclasses.replace(
        plan, prediction=plan.prediction.model_copy(update={"observe": 0.0})
    )
    cache: dict[float, Prediction] = {}

    def run(hold: float) -> Prediction:
        if hold not in cache:
            cache[hold] = predict(
                dataclasses.replace(quick, protocol=_protocol(current, ramp, hold)), progress
            )
            p = cache[hold]
            result.evaluations.append((hold, float(p.delivered[p.end])))
        return cache[hold]

    def shortfall(hold: float) -> float:
        p = run(hold)
        return float(p.delivered[p.end]) - target

    lo, hi = 1e-3 * (max_dose - ramps), max_dose - ramps
    f_hi = shortfall(hi)
    if f_hi < 0:
        result.reason = (
            f"unreachable within the rules: the largest allowed dose ({hi + ramps:.4g} C = "
            f"{(hi + ramps) / MA_MIN:.4g} mA*min at {current * 1e3:.4g} mA) delivers "
            f"{(f_hi + target) * 1e6:.4g} umol into the skin, less than the "
            f"{target * 1e6:.4g} umol asked for"
        )
        return result
    f_lo = shortfall(lo)
    if f_lo > 0:
        result.reason = (
            f"the target {target * 1e6:.4g} umol is below what the ramps and the shortest "
            f"hold deliver ({(f_lo + target) * 1e6:.4g} umol at {current * 1e3:.4g} mA): "
            "lower the current in the plan"
        )
        return result
    hold = float(
        brentq(shortfall, lo, hi, xtol=RELATIVE_TOLERANCE * hi * 1e-2, rtol=RELATIVE_TOLERANCE)
    )
    found = dataclasses.replace(plan, protocol=_protocol(current, ramp, hold))
    result.plan = found
    result.prediction = predict(found, progress)
    if check:
        from ionto.plan.predict.checks import SimulationCheck
        from ionto.plan.safety import check_plan

        result.report = check_plan(found, extra=[SimulationCheck(result.prediction)])
        if result.report.refused:
            errors = "; ".join(f"{f.id}: {f.message}" for f in result.report.of("error"))
            result.reason = f"the protocol that reaches the target breaks the rules: {errors}"
    return result
