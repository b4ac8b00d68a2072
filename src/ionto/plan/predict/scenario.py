"""A plan as a scenario in ionto's own scenario format (docs/scenarios.md).

:func:`plan_scenario` builds the same dictionary a scenario TOML file would hold and
validates it through the scenario loader (:func:`ionto.simulate.scenario.problem_from_dict`),
so the generated scenario can be written out (:func:`scenario_toml`) and run on its own
with ``ionto simulate``. What goes in:

* the **drug** (library entry): its first charge number, molar mass (the radius of a
  compact molecule and the Stokes-Einstein diffusivity, ionto.simulate.params.physchem)
  and typical concentration (kg/m^3 -> mol/m^3 with the molar mass of the entry; a
  substance without them is left out and the reservoir simulated as saline), its
  counter-ion (chloride for a cation, sodium for an anion), and with one pKa and
  |charge| = 1 its neutral conjugate in fast acid-base equilibrium; water (H+, OH-)
  is always there so the pH under the electrode is predicted;
* the **electrodes**: the active one Ag/AgCl (with its rated capacity, after which water
  is electrolysed) or any other material as an inert electrode (water electrolysis from
  the start), on a reservoir layer of the library's volume / area or a default thickness
  by reservoir kind (a tray: a well-mixed reservoir of ``[mixed_reservoir]`` volume with
  the electrode in it, behind an unstirred layer); the indifferent one the same way, on
  a pad of saline (tap water for tap-water plans) at its own area and body site
  (``[circuit.indifferent]``);
* **tap water** (a plan whose substance is tap water): NaCl plus its carbonate
  alkalinity as NaHCO3 with the carbonate system in fast equilibrium
  (:mod:`ionto.plan.predict.tap_water`), in both trays and under both electrodes;
* the **site**: the skin type and the nearest parameterised body site (``[skin]``), the
  physiology switches (conductance activation, hyperaemia, SC capacitance; defaults in
  ``plan/data/prediction.toml [physiology]``), the body between the sites;
* the **source**: the compliance voltage of the modality's current source (or the
  plan's), when the engine can combine it with the protocol (not with averaged pulse
  trains); with an electrode capacity the electrode runs out on the charge the source
  actually passes (less than planned while it is held at its compliance);
* the **protocol**: :meth:`ionto.plan.protocol.Protocol.to_segments` as current-density
  control segments (pulse trains above 1 Hz as their cycle average), then an observation
  time with no current.

The whole circuit is simulated (claim P3): active electrode | reservoir | active skin |
body | indifferent skin | indifferent pad | indifferent electrode.
Units: SI inside; the scenario holds pint strings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from ionto.core.errors import ConfigError
from ionto.plan.plan import ElectrodeUse, Plan
from ionto.plan.predict.defaults import PHYSIOLOGY, Defaults, builtin_defaults
from ionto.plan.predict.tap_water import TapWater
from ionto.simulate.params.physchem import T25, species_radius, stokes_einstein_diffusivity

AVERAGE_ABOVE = 1.0  # Hz: faster pulse trains are simulated as their cycle average
MAX_PIECES = 200  # more pulse-by-pulse pieces than this: every pulse train is averaged
CURRENT_STEP = 10.0  # s: output grid while the current flows (3 points inside a 30 s ramp)
OBSERVE_STEP = 60.0  # s: output grid of the observation without current
MAX_OUTPUT_GRID = 400  # longer stretches get a proportionally coarser grid
RESERVOIR = "reservoir"
INDIFFERENT_PAD = "indifferent_pad"
BODY = "body"
WATER_IONS = ("H+", "OH-")
INERT_NOTE = "water electrolysis at the electrode (H+ at an anode, OH- at a cathode)"


@dataclass(frozen=True)
class Assumption:
    """One input of the prediction: what, its value as text, source keys, confidence."""

    name: str
    value: str
    source: tuple[str, ...]
    confidence: str
    note: str = ""


@dataclass(frozen=True)
class DrugModel:
    """How the drug appears in the scenario: its species (charged form first), the
    name its totals go by (the primary species), charge, molar mass (kg/mol) and the
    reservoir concentration (mol/m^3)."""

    name: str
    species: tuple[str, ...]
    primary: str
    charge: int
    molar_mass: float
    concentration: float


@dataclass(frozen=True)
class PlanScenario:
    """A plan's scenario: the TOML-ready ``data``, the drug model, the treated area (m^2),
    the protocol's end (s), the electrode kinds and skin sites of both electrodes, the
    compliance voltage simulated (V, None when not), the inputs with their provenance and
    notes."""

    data: dict[str, Any]
    drug: DrugModel | None
    area: float
    protocol_end: float
    duration: float
    polarity: str
    electrode: str
    skin_type: str
    skin_site: str
    indifferent_site: str = ""
    indifferent_electrode: str = ""
    compliance_voltage: float | None = None
    assumptions: list[Assumption] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _q(value: float, unit: str) -> str:
    """A pint string with 12 significant digits."""
    return f"{value:.12g} {unit}"


def _species_names(name: str, charge: int) -> tuple[str, str]:
    """(charged form, neutral conjugate) species names: lidocaine -> lidocaine+, lidocaine."""
    sign = "+" if charge > 0 else "-"
    return name + sign * abs(charge), name


def _drug_model(
    plan: Plan, notes: list[str], assumptions: list[Assumption], equilibria: list[dict[str, Any]]
) -> tuple[DrugModel | None, list[dict[str, Any]]]:
    drug = plan.drug
    if drug is None or drug.category == "water":
        return None, []
    charges = drug.charge.value
    z = charges[0]
    if len(charges) > 1:
        notes.append(f"{drug.name}: charge numbers {charges}; the first ({z:+d}) is simulated")
    missing = [
        key
        for key, value in (
            ("molecular_weight", drug.molecular_weight),
            ("concentration", drug.concentration),
        )
        if value is None
    ]
    if missing:
        notes.append(
            f"{drug.name} is not simulated: the library gives no {' or '.join(missing)} "
            "(add them in a user library file); the reservoir is simulated as saline, so "
            "the pH and the voltage are predicted but no drug amounts"
        )
        return None, []
    assert drug.molecular_weight is not None and drug.concentration is not None
    mass = drug.molecular_weight.si
    conc = drug.concentration.si / mass
    diffusivity = stokes_einstein_diffusivity(species_radius(mass), T25)
    charged, neutral = _species_names(drug.name, z)
    for key, entry in (
        ("drug charge", drug.charge),
        ("drug molecular weight", drug.molecular_weight),
        ("drug concentration", drug.concentration),
    ):
        assumptions.append(
            Assumption(key, str(entry.value), tuple(entry.source), entry.confidence, entry.note)
        )
    assumptions.append(
        Assumption(
            "drug concentration in mol/m^3",
            _q(conc, "mol/m^3"),
            ("ionto-default",),
            "U",
            "mass concentration / molar mass of the library entry (the ion, not the salt)",
        )
    )
    assumptions.append(
        Assumption(
            "drug free diffusivity (25 C)",
            _q(diffusivity, "m^2/s"),
            ("erickson2009", "textbook:stokes-einstein"),
            "I",
            "radius of a compact molecule of the molar mass, Stokes-Einstein",
        )
    )
    species = [{"name": charged, "charge": z, "diffusivity": _q(diffusivity, "m^2/s")}]
    primary = charged
    names: tuple[str, ...] = (charged,)
    if drug.pka and z == 0:
        notes.append(f"{drug.name}: neutral; its pKa is not used")
    elif len(drug.pka) == 1 and abs(z) == 1:
        pka = drug.pka[0]
        species.append({"name": neutral, "charge": 0, "diffusivity": _q(diffusivity, "m^2/s")})
        acid, base = (charged, neutral) if z > 0 else (neutral, charged)
        equilibria.append(
            {
                "name": f"{drug.name} acid-base",
                "kind": "acid",
                "acid": acid,
                "base": base,
                "pK": float(pka.value),
            }
        )
        primary = base
        names = (charged, neutral)
        assumptions.append(
            Assumption("drug pKa", str(pka.value), tuple(pka.source), pka.confidence)
        )
    elif drug.pka:
        notes.append(
            f"{drug.name}: {len(drug.pka)} pKa values with charge {z:+d}; simulated as fully "
            "ionised (no acid-base equilibrium)"
        )
    counter = (drug.counter_ion or "").lower()
    expected = "chloride" if z > 0 else "sodium"
    if z != 0 and counter and counter != expected:
        notes.append(
            f"{drug.name}: counter-ion {drug.counter_ion!r} simulated as "
            f"{'Cl-' if z > 0 else 'Na+'} (same sign, valence 1)"
        )
    model = DrugModel(drug.name, names, primary, z, mass, conc)
    return model, species


Polarity = Literal["anode", "cathode"]


def _electrode(
    plan: Plan,
    use: ElectrodeUse,
    polarity: Polarity,
    chloride: bool,
    notes: list[str],
) -> tuple[dict[str, Any], str]:
    """An electrode's boundary: Ag/AgCl, a buffered electrode approximated as one (it
    holds the pH until its rated capacity is spent), or inert. ``polarity``: that
    electrode's own."""
    entry = use.entry
    role = use.role
    buffered = entry.buffered.value and entry.capacity is not None
    if entry.material != "Ag/AgCl" and not (buffered and (chloride or polarity == "cathode")):
        notes.append(
            f"{role} {entry.material} electrode {entry.name!r} simulated as inert: {INERT_NOTE}"
        )
        return {"type": "electrode", "electrode": "inert"}, "inert"
    boundary: dict[str, Any] = {"type": "electrode", "electrode": "Ag/AgCl"}
    if entry.material != "Ag/AgCl":
        notes.append(
            f"buffered {role} electrode {entry.name!r} ({entry.material}) simulated as an "
            "Ag/AgCl electrode that holds the pH until its rated capacity is spent, then "
            "electrolyses water (the buffer itself is not modelled)"
        )
    if entry.capacity is not None:
        picked = entry.capacity.pick(plan.options.get("electrode_capacity"))
        key = "anodic_capacity" if polarity == "anode" else "cathodic_capacity"
        boundary[key] = _q(picked.si, "C")
        notes.append(
            f"{role} electrode {entry.name!r}: rated capacity {picked.text} "
            f"({picked.option}), then water electrolysis"
        )
    else:
        notes.append(
            f"{role} Ag/AgCl electrode {entry.name!r} has no capacity rating: it is assumed "
            "not to run out during the session"
        )
    return boundary, "Ag/AgCl" if entry.material == "Ag/AgCl" else "buffered"


def _pad_thickness(
    plan: Plan, use: ElectrodeUse, d: Defaults, assumptions: list[Assumption]
) -> tuple[float, float | None]:
    """(thickness m, volume m^3 or None) of the reservoir (pad, gel, tray) under an
    electrode: a column of that thickness (volume None), or for a bath of a kind in
    ``[mixed_reservoir]`` a well-mixed reservoir of that volume behind an unstirred layer
    of that thickness."""
    electrode = use.entry
    label = "reservoir" if use.role == "active" else "indifferent pad"
    volume: float | None = None
    mixed = d.mixed_reservoir(electrode.reservoir)
    if use.role == "active" and plan.prediction.reservoir_thickness is not None:
        thickness = plan.prediction.reservoir_thickness
        assumptions.append(Assumption(f"{label} thickness", _q(thickness, "m"), ("plan",), "C"))
    elif electrode.reservoir_volume is not None:
        thickness = electrode.reservoir_volume.si / use.area
        assumptions.append(
            Assumption(
                f"{label} thickness",
                _q(thickness, "m"),
                tuple(electrode.reservoir_volume.source),
                electrode.reservoir_volume.confidence,
                "reservoir volume / contact area",
            )
        )
    elif mixed is not None:
        volume, thickness = mixed
        bath = d.data.mixed_reservoir[electrode.reservoir]
        assumptions.append(
            Assumption(
                f"{label} volume ({electrode.reservoir}, well mixed)",
                _q(volume * 1e6, "mL"),
                tuple(bath.volume.source),
                bath.volume.confidence,
                bath.volume.note,
            )
        )
        assumptions.append(
            Assumption(
                f"{label} unstirred layer on the skin ({electrode.reservoir})",
                _q(thickness, "m"),
                tuple(bath.unstirred_layer.source),
                bath.unstirred_layer.confidence,
                bath.unstirred_layer.note,
            )
        )
    else:
        thickness = d.thickness(electrode.reservoir)
        e = d.data.reservoir_thickness[electrode.reservoir]
        assumptions.append(
            Assumption(
                f"{label} thickness ({electrode.reservoir})",
                _q(thickness, "m"),
                tuple(e.source),
                e.confidence,
                e.note,
            )
        )
    if electrode.area is not None and use.area == electrode.area.si:
        assumptions.append(
            Assumption(
                f"{use.role} electrode area",
                str(electrode.area.value),
                tuple(electrode.area.source),
                electrode.area.confidence,
            )
        )
    else:
        assumptions.append(
            Assumption(f"{use.role} electrode area", _q(use.area * 1e4, "cm^2"), ("plan",), "C")
        )
    return thickness, volume


def _tap_water(
    plan: Plan, d: Defaults, ph: float, assumptions: list[Assumption], notes: list[str]
) -> TapWater:
    """The tap water of a tap-water plan: NaCl, carbonate alkalinity (the plan's or the
    default) and the carbonate system, with their provenance."""
    given = plan.prediction.tap_water_alkalinity
    salt = d.value("tap_water_salt")
    alkalinity = given if given is not None else d.value("tap_water_alkalinity")
    carbonate = d.carbonate()
    for key, text, plan_value in (
        ("tap_water_salt", _q(salt, "mol/m^3"), None),
        ("tap_water_alkalinity", _q(alkalinity, "mol/m^3"), given),
    ):
        if plan_value is not None:
            assumptions.append(Assumption(key, text, ("plan",), "C", "set in the plan"))
        else:
            e = d.entry(key)
            assumptions.append(Assumption(key, text, tuple(e.source), e.confidence, e.note))
    if alkalinity <= 0.0:
        notes.append("tap water without alkalinity: simulated as unbuffered NaCl")
        return TapWater(salt, 0.0, ph, carbonate)
    entry = d.data.carbonate
    for key, pk in (("pK1", carbonate.pk1), ("pK2", carbonate.pk2)):
        e = getattr(entry, key)
        assumptions.append(
            Assumption(f"carbonate {key} (25 C)", f"{pk:g}", tuple(e.source), e.confidence, e.note)
        )
    for name, diffusivity in carbonate.diffusivity.items():
        e = entry.diffusivity[name]
        assumptions.append(
            Assumption(
                f"free diffusivity of {name} (25 C)",
                _q(diffusivity, "m^2/s"),
                tuple(e.source),
                e.confidence,
                e.note,
            )
        )
    co2, hco3, co3 = carbonate.speciation(alkalinity, ph)
    notes.append(
        f"tap water: {salt:.3g} mM NaCl and {alkalinity:.3g} mM NaHCO3 of carbonate "
        f"alkalinity at pH {ph:g} (HCO3- {hco3:.3g} mM, CO3-- {co3:.2g} mM, CO2 {co2:.2g} mM), "
        "the carbonate buffer in fast equilibrium; CO2 escaping from the water is not modelled"
    )
    return TapWater(salt, alkalinity, ph, carbonate)


def _mixed(
    boundary: dict[str, Any], volume: float, initial: dict[str, str], ph: float
) -> dict[str, Any]:
    """An electrode boundary turned into a well-mixed reservoir of ``volume`` (m^3) with
    that electrode immersed in it."""
    return boundary | {
        "type": "reservoir",
        "volume": _q(volume, "m^3"),
        "initial": dict(initial),
        "initial_pH": ph,
    }


def _mixed_note(role: str, name: str, volume: float, layer: float) -> str:
    return (
        f"{role} electrode {name!r}: its bath is simulated as {volume * 1e3:.3g} L of "
        f"well-mixed water with the electrode in it, behind a {layer * 1e3:.2g} mm unstirred "
        "layer on the skin; what the electrode makes is diluted in the whole bath"
    )


def _segments(
    plan: Plan, polarity: Polarity, notes: list[str]
) -> tuple[list[tuple[float, float, float]], bool]:
    """(duration s, start, end A/m^2) pieces and whether pulse trains were averaged."""
    area = plan.active.area
    pieces = plan.protocol.to_segments(area, active=polarity, average_above=AVERAGE_ABOVE)
    if len(pieces) > MAX_PIECES:
        count = len(pieces)
        pieces = plan.protocol.to_segments(area, active=polarity, average_above=0.0)
        notes.append(
            f"pulse trains simulated as their cycle average (pulse by pulse would be {count} "
            "pieces); biphasic pulses then carry no net current"
        )
        averaged = True
    elif pieces.averaged:
        notes.append(f"pulse trains above {AVERAGE_ABOVE:g} Hz simulated as their cycle average")
        averaged = True
    else:
        averaged = False
    return [(float(d), float(a), float(b)) for d, a, b in pieces], averaged


def output_times(durations: list[float], observe: float) -> list[float]:
    """Output times (s) of the prediction: 0, every segment boundary, a grid of
    :data:`CURRENT_STEP` while the current flows (coarser beyond :data:`MAX_OUTPUT_GRID`
    points) and of :data:`OBSERVE_STEP` in the observation, so the report draws ramps and
    the stretches at the compliance voltage from points, not across them."""
    bounds = [0.0]
    for d in durations:
        bounds.append(bounds[-1] + d)
    end = bounds[-1]
    times = set(bounds)
    for start, stop, step in (
        (0.0, end, max(CURRENT_STEP, end / MAX_OUTPUT_GRID)),
        (end, end + observe, max(OBSERVE_STEP, observe / MAX_OUTPUT_GRID)),
    ):
        count = math.ceil((stop - start) / step - 1e-9) if stop > start else 0
        times.update(start + k * step for k in range(count))
    total = end + observe
    times.add(total)
    exact = {*bounds, total}
    out: list[float] = []
    for t in sorted(times):  # a grid point within 1 us of a boundary gives way to it
        if t > total:
            continue
        if out and t - out[-1] <= 1e-6:
            if t in exact:
                out[-1] = t
            continue
        out.append(t)
    return out


def plan_scenario(plan: Plan, defaults: Defaults | None = None) -> PlanScenario:
    """The plan's scenario (validated by the scenario loader). Raises ConfigError when the
    plan cannot be simulated (unbounded protocol, missing drug data)."""
    from ionto.simulate.scenario import problem_from_dict

    d = defaults or builtin_defaults()
    opt = plan.prediction
    notes: list[str] = []
    assumptions: list[Assumption] = []
    if not plan.protocol.bounded:
        raise ConfigError(
            "protocol",
            str(plan.protocol),
            None,
            "every step with a time or dose stop",
            "an unbounded protocol cannot be simulated",
        )
    if opt.tap_water_alkalinity is not None and not (
        plan.drug is not None and plan.drug.category == "water"
    ):
        raise ConfigError(
            "prediction.tap_water_alkalinity",
            opt.tap_water_alkalinity,
            "mol/m^3",
            "a plan whose substance is tap water",
            f"the plan's substance is {plan.drug.name if plan.drug else 'none'}, not tap water",
        )
    polarity: Polarity = plan.polarity or "anode"
    if plan.polarity is None:
        notes.append("no polarity in the plan: the active electrode is simulated as the anode")

    def used(name: str, text: str, plan_value: object) -> None:
        if plan_value is not None:
            assumptions.append(Assumption(name, text, ("plan",), "C", "set in the plan"))
        else:
            e = d.entry(name)
            assumptions.append(Assumption(name, text, tuple(e.source), e.confidence, e.note))

    temperature = opt.temperature if opt.temperature is not None else d.value("temperature")
    used("temperature", _q(temperature, "K"), opt.temperature)
    tissue_na = d.value("tissue_sodium")
    used("tissue_sodium", _q(tissue_na, "mol/m^3"), None)
    tissue_ph = d.value("tissue_pH")
    used("tissue_pH", f"{tissue_ph:g}", None)
    water = plan.drug is not None and plan.drug.category == "water"
    ph_key = "tap_water_pH" if water else "reservoir_pH"
    res_ph = opt.reservoir_pH if opt.reservoir_pH is not None else d.value(ph_key)
    used(ph_key if opt.reservoir_pH is None else "reservoir_pH", f"{res_ph:g}", opt.reservoir_pH)
    tap = _tap_water(plan, d, res_ph, assumptions, notes) if water else None
    factor = d.value("reservoir_diffusivity_factor")
    used("reservoir_diffusivity_factor", f"{factor:g}", None)
    observe = opt.observe if opt.observe is not None else d.value("observe")
    used("observe", _q(observe, "s"), opt.observe)

    area = plan.active.area
    thickness, volume = _pad_thickness(plan, plan.active, d, assumptions)
    pad_thickness, pad_volume = _pad_thickness(plan, plan.indifferent, d, assumptions)

    skin_type = opt.skin_type or d.text("skin_type")
    used("skin_type", skin_type, opt.skin_type)
    skin_site = opt.skin_site or d.skin_site(plan.site)
    from ionto.simulate.params.loader import ParameterSet

    known_sites = ParameterSet.builtin().sites(skin_type) if opt.skin_site is None else []
    if opt.skin_site is None and plan.site not in known_sites:
        notes.append(
            f"site {plan.site or '(none)'}: no parameters of its own; the {skin_site} "
            "parameters stand in for it"
        )
    if plan.indifferent_site is not None:
        indifferent_site = d.skin_site(plan.indifferent_site)
        if plan.indifferent_site not in known_sites and opt.skin_site is None:
            notes.append(
                f"indifferent site {plan.indifferent_site}: no parameters of its own; the "
                f"{indifferent_site} parameters stand in for it"
            )
    else:
        indifferent_site = skin_site
        notes.append(
            "the plan gives no [electrodes.indifferent] site: the indifferent electrode is "
            f"simulated on {skin_site} skin (near the active one, as usual for a return pad)"
        )
    physiology: dict[str, bool] = {}
    for name in PHYSIOLOGY:
        given = getattr(opt, name)
        switch = d.physiology(name)
        physiology[name] = switch.value if given is None else bool(given)
        if given is None:
            assumptions.append(
                Assumption(
                    name,
                    str(switch.value).lower(),
                    tuple(switch.source),
                    switch.confidence,
                    switch.note,
                )
            )
        else:
            assumptions.append(
                Assumption(name, str(bool(given)).lower(), ("plan",), "C", "set in the plan")
            )

    equilibria: list[dict[str, Any]] = [{"name": "water", "kind": "water"}]
    drug, drug_species = _drug_model(plan, notes, assumptions, equilibria)
    ions = ParameterSet.builtin()
    species = list(drug_species)
    for name in ("Na+", "Cl-", *WATER_IONS):
        ion = ions.ion(name, T25)
        d_ion = _q(ion.diffusivity, "m^2/s")
        species.append({"name": name, "charge": ion.charge, "diffusivity": d_ion})
    assumptions.append(
        Assumption(
            "free diffusivities of Na+, Cl-, H+, OH- (25 C)",
            "limiting ionic values",
            ("textbook:limiting-ionic-diffusivity",),
            "U",
        )
    )

    if tap is not None:
        species += tap.species()
        equilibria += tap.equilibria()

    reservoir_initial: dict[str, str] = {}
    if tap is not None:
        reservoir_initial = tap.initial()
    elif drug is not None:
        reservoir_initial[drug.primary] = _q(drug.concentration, "mol/m^3")
        if drug.charge < 0:  # sodium counter-ions; chloride follows from electroneutrality
            reservoir_initial["Na+"] = _q(-drug.charge * drug.concentration, "mol/m^3")
    else:  # no drug, or a substance without molar mass / concentration: saline
        salt = d.value("reservoir_salt")
        used("reservoir_salt", _q(salt, "mol/m^3"), None)
        reservoir_initial["Na+"] = _q(salt, "mol/m^3")

    if tap is not None:  # both hands or feet in trays of the same water
        pad_initial = tap.initial()
    else:
        pad_salt = d.value("indifferent_salt")
        used("indifferent_salt", _q(pad_salt, "mol/m^3"), None)
        pad_initial = {"Na+": _q(pad_salt, "mol/m^3")}

    segments, averaged = _segments(plan, polarity, notes)
    compliance, compliance_entry = d.compliance_voltage(plan.modality.name)
    if opt.compliance_voltage is not None:
        compliance = opt.compliance_voltage
        assumptions.append(
            Assumption("compliance voltage", _q(compliance, "V"), ("plan",), "C", "set in the plan")
        )
    else:
        assumptions.append(
            Assumption(
                "compliance voltage",
                str(compliance_entry.value),
                tuple(compliance_entry.source),
                compliance_entry.confidence,
                compliance_entry.note,
            )
        )
    limited: float | None = compliance
    if averaged:
        limited = None
        notes.append(
            f"the compliance voltage ({compliance:g} V) is left out of the simulation: pulse "
            "trains are simulated as their cycle average, and the limit applies to every "
            "pulse; compare the predicted voltage with it"
        )
    chloride = drug is None or drug.charge > 0  # chloride in the reservoir
    other: Polarity = "cathode" if polarity == "anode" else "anode"
    boundary, electrode_kind = _electrode(plan, plan.active, polarity, chloride, notes)
    right, indifferent_kind = _electrode(plan, plan.indifferent, other, True, notes)
    if volume is not None:
        boundary = _mixed(boundary, volume, reservoir_initial, res_ph)
        notes.append(_mixed_note("active", plan.active.entry.name, volume, thickness))
    if pad_volume is not None:
        right = _mixed(right, pad_volume, pad_initial, res_ph)
        notes.append(
            _mixed_note("indifferent", plan.indifferent.entry.name, pad_volume, pad_thickness)
        )
    protocol_end = sum(s[0] for s in segments)
    control = [
        {
            "duration": _q(dur, "s"),
            "current_density": [_q(a, "A/m^2"), _q(b, "A/m^2")] if a != b else _q(a, "A/m^2"),
        }
        for dur, a, b in segments
    ]
    if observe > 0:
        control.append({"duration": _q(observe, "s"), "current_density": "0 A/m^2"})
    duration = protocol_end + observe
    times = output_times([s[0] for s in segments], observe)

    tissue = {"Na+": _q(tissue_na, "mol/m^3")}
    exchange = {"Na+": _q(tissue_na, "mol/m^3")}
    if drug is not None:
        exchange[drug.primary] = "0 mol/m^3"
    pad = {
        "name": INDIFFERENT_PAD,
        "thickness": _q(pad_thickness, "m"),
        "diffusivity_factor": factor,
        "initial": dict(pad_initial),
        "initial_pH": res_ph,
        "max_cell": _q(min(100e-6, pad_thickness / 10), "m"),
    }
    data: dict[str, Any] = {
        "schema_version": 1,
        "title": f"{plan.title or plan.source}: {polarity} on the {plan.site or 'site'}, "
        f"{other} on the {plan.indifferent_site or plan.site or 'site'}",
        "temperature": _q(temperature, "K"),
        "electroneutral_species": "Cl-",
        "electrode_area": _q(area, "m^2"),
        "species": species,
        "equilibria": equilibria,
        "layers": [
            {
                "name": RESERVOIR,
                "thickness": _q(thickness, "m"),
                "diffusivity_factor": factor,
                "initial": reservoir_initial,
                "initial_pH": res_ph,
                "max_cell": _q(min(100e-6, thickness / 10), "m"),
            }
        ],
        "skin": {
            "type": skin_type,
            "site": skin_site,
            "tissue": tissue,
            "pH": tissue_ph,
            "initial_pH": tissue_ph,
            **physiology,
        },
        "circuit": {
            "indifferent": {
                "area": _q(plan.indifferent.area, "m^2"),
                "site": indifferent_site,
                "layers": [pad],
            }
        },
        "exchange": {"concentrations": exchange, "pH": tissue_ph},
        "boundary": {"left": boundary, "right": right},
        "control": control,
        "mesh": _mesh(skin_type, skin_site, indifferent_site),
        "solver": {"rtol": 1e-3, "atol": "1e-4 mol/m^3"},
        "output": {"times": [_q(t, "s") for t in times]},
        "report": [],
    }
    if limited is not None:
        data["compliance_voltage"] = _q(limited, "V")
    assumptions.append(
        Assumption(
            "mesh and solver",
            "cells 0.05-40 um at both faces of each site's stratum corneum, 1-40 um "
            "elsewhere (growth 1.2), rtol 1e-3",
            ("ionto-default",),
            "U",
            "chosen for a prediction in a few seconds; the 0.05 um cells resolve the Donnan "
            "layers at the stratum corneum's faces that a co-ion such as dexamethasone "
            "phosphate crosses (delivered within about 10 % of 0.025 um cells; lidocaine "
            "within 0.5 %); the other layers need no such cells (1 um cells there change "
            "the example plans' amounts by < 0.1 % and pH by < 0.003 against 0.05 um)",
        )
    )
    # the charge that flowed through the active electrode (the dose), exact, also while
    # the source is held at its compliance voltage
    data["report"] = [
        {"name": f"charge_{k}", "quantity": "charge", "time": _q(t, "s")}
        for k, t in enumerate(times)
    ]
    if drug is not None:
        _pharmacokinetics(plan, d, drug, data, assumptions, notes)
        reports = [
            {
                "name": f"cleared_{k}",
                "quantity": "cleared",
                "species": drug.primary,
                "time": _q(t, "s"),
            }
            for k, t in enumerate(times)
        ]
        if data.get("systemic"):
            reports += [
                {
                    "name": f"plasma_{k}",
                    "quantity": "plasma",
                    "species": drug.primary,
                    "time": _q(t, "s"),
                }
                for k, t in enumerate(times)
            ]
        data["report"] += reports
    problem_from_dict(data)  # the scenario loader checks it (ConfigError naming the key)
    return PlanScenario(
        data=data,
        drug=drug,
        area=area,
        protocol_end=protocol_end,
        duration=duration,
        polarity=polarity,
        electrode=electrode_kind,
        skin_type=skin_type,
        skin_site=skin_site,
        indifferent_site=indifferent_site,
        indifferent_electrode=indifferent_kind,
        compliance_voltage=limited,
        assumptions=assumptions,
        notes=notes,
    )


def _mesh(skin_type: str, site: str, indifferent_site: str) -> dict[str, Any]:
    """``[mesh]`` of a prediction: 0.05 um cells at both faces of each site's outermost
    skin layer (the stratum corneum, where steep Donnan layers form), 1 um elsewhere,
    growing by 20 % to 40 um (see the "mesh and solver" assumption)."""
    from ionto.core.errors import ConfigError
    from ionto.simulate.params.loader import ParameterSet
    from ionto.simulate.params.stack import outer_layer

    uniform = {"min_cell": "0.05 um", "max_cell": "40 um", "growth": 1.2}
    try:
        skins = ParameterSet.builtin()
        active = outer_layer(skins.load_skin(skin_type, site))
        indifferent = outer_layer(skins.load_skin(skin_type, indifferent_site))
    except ConfigError:
        return uniform  # the scenario loader then names the unknown skin type or site
    fine = {"min_cell": uniform["min_cell"]}
    layers = {active: dict(fine), f"indifferent_{indifferent}": dict(fine)}
    return {**uniform, "min_cell": "1 um", "layers": layers}


def _pharmacokinetics(
    plan: Plan,
    d: Defaults,
    drug: DrugModel,
    data: dict[str, Any],
    assumptions: list[Assumption],
    notes: list[str],
) -> None:
    opt = plan.prediction
    pk = d.pharmacokinetics(drug.name)
    if opt.volume is not None and opt.clearance is not None:
        volume, clearance = opt.volume, opt.clearance
        source: tuple[str, ...] = ("plan",)
        confidence = "C"
    elif pk is not None:
        volume, clearance = pk
        if opt.volume is not None:
            volume = opt.volume
        if opt.clearance is not None:
            clearance = opt.clearance
        entry = d.data.pharmacokinetics[drug.name]
        source = tuple(entry.volume.source) + tuple(entry.clearance.source)
        confidence = entry.volume.confidence
    else:
        notes.append(
            f"{drug.name}: no pharmacokinetics (give [prediction] volume and clearance): "
            "no plasma level"
        )
        return
    if not (math.isfinite(volume) and math.isfinite(clearance)):  # pragma: no cover
        return
    data["systemic"] = [
        {"species": drug.primary, "volume": _q(volume, "m^3"), "clearance": _q(clearance, "m^3/s")}
    ]
    assumptions.append(
        Assumption(
            "plasma: volume of distribution, clearance",
            f"{volume * 1e3:.4g} L, {clearance * 6e4:.4g} L/min",
            source,
            confidence,
        )
    )


def scenario_toml(scenario: PlanScenario) -> str:
    """The scenario as TOML text, with a header naming the plan and its assumptions."""
    import tomli_w

    head = [
        "# Scenario generated by `ionto plan` from a treatment plan (ionto.plan.predict).",
        "# Run it on its own with: ionto simulate THIS_FILE",
        *(f"# note: {n}" for n in scenario.notes),
        *(
            f"# {a.name}: {a.value} ({', '.join(a.source)}; {a.confidence})"
            for a in scenario.assumptions
        ),
    ]
    return "\n".join(head) + "\n" + tomli_w.dumps(scenario.data)
