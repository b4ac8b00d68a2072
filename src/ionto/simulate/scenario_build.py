"""Cross-field checks of a validated :class:`Scenario` and its conversion to a Problem.

The schema (``scenario.py``) has already turned every value into an SI float and checked
it on its own; here the checks that involve several fields happen (species references,
electroneutrality, electrode stoichiometry; the control program, output times and
reports are in ``scenario_timeline.py``) and the frozen dataclasses of
:mod:`ionto.simulate.problem` are built. Units: m, s, mol/m^3, A/m^2, V.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ionto.core.config import key_path, suggest
from ionto.core.errors import ConfigError
from ionto.core.units import format_si, parse_quantity, round_si
from ionto.simulate.problem import (
    Boundary,
    ElectrodeBoundary,
    ElectrodeReaction,
    Equilibrium,
    FixedBoundary,
    Layer,
    MeshSpec,
    NoFluxBoundary,
    Problem,
    Reaction,
    ReservoirBoundary,
    SolverSpec,
    Species,
    Systemic,
)
from ionto.simulate.scenario_timeline import (
    check_current_path,
    control_segments,
    output_times,
    report_spec,
)

if TYPE_CHECKING:
    from ionto.simulate.scenario import BoundaryIn, Scenario

BUILTIN_ELECTRODES: dict[str, ElectrodeReaction] = {
    "Ag/AgCl": ElectrodeReaction("Ag/AgCl", anodic={"Cl-": -1.0}, cathodic={"Cl-": 1.0}),
    "inert": ElectrodeReaction("inert", anodic={"H+": 1.0}, cathodic={"OH-": 1.0}),
}
"""Electrodes known by name: mol of each species released per mol of electrons."""

CONC = "mol/m^3"


@dataclass(frozen=True)
class Context:
    """What the checks need to know about a scenario: charges, EN species, layer bounds,
    and the species fixed by fast equilibria (``secondary``)."""

    charges: dict[str, int]
    en: str
    layer_index: dict[str, int]
    bounds: list[tuple[float, float]]
    fixed_charges: list[float]
    secondary: frozenset[str] = frozenset()

    @property
    def length(self) -> float:
        return self.bounds[-1][1]

    def species(self, name: str, field: str, *, settable: bool = False) -> str:
        """Check that ``name`` is a species (and, if ``settable``, not the EN species)."""
        if name not in self.charges:
            raise ConfigError(
                field,
                name,
                None,
                "one of: " + ", ".join(self.charges),
                f"unknown species {name!r}{suggest(name, self.charges)}",
            )
        if settable and name in self.secondary:
            raise ConfigError(
                field,
                name,
                None,
                "primary species (not fixed by an equilibrium)",
                f"{name!r} follows from a fast equilibrium; give the total of its primary "
                "species instead (e.g. all phosphate as the base's total)",
            )
        if settable and name == self.en:
            raise ConfigError(
                field,
                name,
                None,
                "species other than " + repr(self.en),
                f"{name!r} is the electroneutrality species; its concentration follows from "
                "electroneutrality and cannot be given",
            )
        return name

    def layer(self, name: str, field: str) -> int:
        """Index of the layer called ``name``."""
        if name not in self.layer_index:
            raise ConfigError(
                field,
                name,
                None,
                "one of: " + ", ".join(self.layer_index),
                f"unknown layer {name!r}{suggest(name, self.layer_index)}",
            )
        return self.layer_index[name]

    def electroneutral_value(self, conc: Mapping[str, float], fixed_charge: float) -> float:
        """c_en = -(X + sum z c) / z_en in mol/m^3, from the other species' values."""
        total = fixed_charge + sum(self.charges[k] * c for k, c in conc.items() if k != self.en)
        return -total / self.charges[self.en]

    def check_electroneutral(
        self, conc: Mapping[str, float], fixed_charge: float, field: str, where: str
    ) -> float:
        """The EN species' concentration; ConfigError if it would be negative."""
        value = self.electroneutral_value(conc, fixed_charge)
        scale = abs(fixed_charge) + sum(abs(self.charges[k] * c) for k, c in conc.items())
        if value < -1e-9 * max(scale, 1.0):
            raise ConfigError(
                field,
                None,
                CONC,
                f"concentrations whose net charge {self.en} can balance",
                f"electroneutrality gives {self.en} = {value:.6g} mol/m^3 in {where}, which "
                f"is negative (fixed charge {fixed_charge:.6g} mol/m^3; "
                f"{self.en} has charge {self.charges[self.en]:+d})",
            )
        return max(value, 0.0)


def _duplicates(names: Iterable[str], path: str, what: str) -> None:
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise ConfigError(
                f"{path}[{i}].name",
                name,
                None,
                f"unique {what} names",
                f"duplicate {what} name {name!r} (already {path}[{seen[name]}].name)",
            )
        seen[name] = i


def _species(s: Scenario) -> tuple[tuple[Species, ...], dict[str, int]]:
    _duplicates((sp.name for sp in s.species), "species", "species")
    species = tuple(Species(sp.name, sp.charge, sp.diffusivity) for sp in s.species)
    charges = {sp.name: sp.charge for sp in species}
    en = s.electroneutral_species
    if en not in charges:
        raise ConfigError(
            "electroneutral_species",
            en,
            None,
            "one of: " + ", ".join(charges),
            f"{en!r} is not a species{suggest(en, charges)}",
        )
    if charges[en] == 0:
        raise ConfigError(
            "electroneutral_species",
            en,
            None,
            "a charged species",
            f"{en!r} has charge 0 and cannot balance charge",
        )
    diffusivity = {sp.name: sp.diffusivity for sp in species}
    if diffusivity[en] == 0:
        raise ConfigError(
            "electroneutral_species",
            en,
            None,
            "a mobile species (diffusivity > 0)",
            f"{en!r} is immobile and cannot follow the other ions",
        )
    return species, charges


def _reactions(s: Scenario, ctx: Context) -> tuple[Reaction, ...]:
    _duplicates((r.name for r in s.reactions), "reactions", "reaction")
    out = []
    for i, r in enumerate(s.reactions):
        path = f"reactions[{i}]"
        ctx.species(r.reactant, f"{path}.reactant", settable=True)
        ctx.species(r.product, f"{path}.product", settable=True)
        if ctx.charges[r.reactant] != ctx.charges[r.product]:
            raise ConfigError(
                f"{path}.product",
                r.product,
                None,
                f"a species with the charge of {r.reactant!r} ({ctx.charges[r.reactant]:+d})",
                f"{r.product!r} has charge {ctx.charges[r.product]:+d}; a reaction must "
                "conserve charge",
            )
        out.append(Reaction(r.name, r.reactant, r.product))
    return tuple(out)


def _layers(s: Scenario, ctx: Context, reaction_names: set[str]) -> tuple[Layer, ...]:
    out = []
    for i, layer in enumerate(s.layers):
        path = f"layers[{i}]"
        for name in layer.diffusivity_factors:
            ctx.species(name, key_path(f"{path}.diffusivity_factors", name))
        for name in layer.initial:
            ctx.species(name, key_path(f"{path}.initial", name), settable=True)
        for name in layer.reaction_rates:
            if name not in reaction_names:
                raise ConfigError(
                    key_path(f"{path}.reaction_rates", name),
                    name,
                    None,
                    "one of: " + (", ".join(sorted(reaction_names)) or "(no [[reactions]])"),
                    f"unknown reaction {name!r}{suggest(name, reaction_names)}",
                )
        if layer.max_cell is not None and layer.max_cell < s.mesh.min_cell:
            raise ConfigError(
                f"{path}.max_cell",
                format_si(layer.max_cell, "m"),
                "m",
                f">= mesh.min_cell = {format_si(s.mesh.min_cell, 'm')}",
            )
        ctx.check_electroneutral(
            layer.initial, layer.fixed_charge, f"{path}.initial", f"layer {layer.name!r}"
        )
        out.append(
            Layer(
                name=layer.name,
                thickness=layer.thickness,
                diffusivity_factor=layer.diffusivity_factor,
                diffusivity_factors=dict(layer.diffusivity_factors),
                fixed_charge=layer.fixed_charge,
                exchange_rate=layer.exchange_rate,
                initial=dict(layer.initial),
                max_cell=layer.max_cell,
                reaction_rates=dict(layer.reaction_rates),
                initial_pH=layer.initial_pH,
            )
        )
    return tuple(out)


def _exchange(s: Scenario, ctx: Context) -> dict[str, float]:
    """Blood-side concentrations of every species (EN species from electroneutrality)."""
    if s.exchange is None:
        for i, layer in enumerate(s.layers):
            if layer.exchange_rate > 0:
                raise ConfigError(
                    "exchange.concentrations",
                    message=f"is required because layers[{i}].exchange_rate > 0 (give the "
                    "blood-side concentration of each species, e.g. "
                    '[exchange] concentrations = { "Na+" = "150 mM" })',
                )
        return {}
    given = s.exchange.concentrations
    for name in given:
        ctx.species(name, key_path("exchange.concentrations", name))
    others = {k: v for k, v in given.items() if k != ctx.en}
    en_value = ctx.check_electroneutral(others, 0.0, "exchange.concentrations", "the blood")
    if ctx.en in given and abs(given[ctx.en] - en_value) > 1e-6 * max(en_value, 1.0):
        raise ConfigError(
            key_path("exchange.concentrations", ctx.en),
            format_si(given[ctx.en], CONC),
            CONC,
            f"{en_value:.6g} (electroneutrality of the other blood concentrations)",
        )
    out = {name: float(others.get(name, 0.0)) for name in ctx.charges if name != ctx.en}
    out[ctx.en] = en_value
    return out


def _electrode(
    b: BoundaryIn, path: str, ctx: Context, area: float | None = None
) -> ElectrodeReaction:
    """The electrode reaction of a boundary, with its capacities per area (C/m^2)."""
    reaction = _electrode_reaction(b, path, ctx)
    if b.anodic_capacity is None and b.cathodic_capacity is None:
        return reaction
    if area is None:
        key = "anodic_capacity" if b.anodic_capacity is not None else "cathodic_capacity"
        raise ConfigError(
            f"{path}.{key}",
            message='needs a top-level electrode_area (e.g. "10 cm^2") to turn the '
            "electrode's charge capacity into a capacity per area",
        )
    for name in ("H+", "OH-"):
        if name not in ctx.charges:
            raise ConfigError(
                f"{path}.anodic_capacity",
                message=f"a spent electrode electrolyses water: add {name} (and the water "
                "equilibrium) to [[species]]",
            )
    return ElectrodeReaction(
        reaction.name,
        dict(reaction.anodic),
        dict(reaction.cathodic),
        None if b.anodic_capacity is None else b.anodic_capacity / area,
        None if b.cathodic_capacity is None else b.cathodic_capacity / area,
    )


def _electrode_reaction(b: BoundaryIn, path: str, ctx: Context) -> ElectrodeReaction:
    if b.electrode is not None and b.reaction is not None:
        raise ConfigError(
            f"{path}.reaction",
            message="give either electrode (a built-in name) or reaction (custom), not both",
        )
    if b.electrode is not None:
        reaction = BUILTIN_ELECTRODES[b.electrode]
        field = f"{path}.electrode"
        for direction in ("anodic", "cathodic"):
            for name in getattr(reaction, direction):
                if name not in ctx.charges:
                    raise ConfigError(
                        field,
                        b.electrode,
                        None,
                        "an electrode whose species are all in [[species]]",
                        f"electrode {b.electrode!r} needs species {name!r} ({direction} "
                        "reaction); add it to [[species]]",
                    )
    else:
        assert b.reaction is not None
        reaction = ElectrodeReaction(
            b.reaction.name, dict(b.reaction.anodic), dict(b.reaction.cathodic)
        )
        field = f"{path}.reaction"
        for direction in ("anodic", "cathodic"):
            for name in getattr(reaction, direction):
                ctx.species(name, key_path(f"{field}.{direction}", name))
    for direction, target in (("anodic", 1.0), ("cathodic", -1.0)):
        stoich: dict[str, float] = getattr(reaction, direction)
        charge = sum(ctx.charges[k] * nu for k, nu in stoich.items())
        if abs(charge - target) > 1e-9:
            raise ConfigError(
                f"{field}.{direction}" if b.reaction is not None else field,
                None,
                None,
                f"sum(z * nu) = {target:+g} (one electron per mole)",
                f"the {direction} stoichiometry carries charge {charge:+.6g} per mol of electrons",
            )
    return reaction


_BOUNDARY_KEYS: dict[str, set[str]] = {
    "electrode": {"electrode", "reaction", "anodic_capacity", "cathodic_capacity"},
    "fixed": {"concentrations", "pH"},
    "reservoir": {
        "electrode",
        "reaction",
        "initial",
        "volume_per_area",
        "volume",
        "initial_pH",
        "anodic_capacity",
        "cathodic_capacity",
    },
    "no_flux": set(),
}


def _boundary(s: Scenario, side: Literal["left", "right"], ctx: Context) -> Boundary:
    b: BoundaryIn = getattr(s.boundary, side)
    path = f"boundary.{side}"
    keys = ("electrode", "reaction", "concentrations", "initial", "volume_per_area", "volume")
    for key in (*keys, "pH", "initial_pH", "anodic_capacity", "cathodic_capacity"):
        if getattr(b, key) is not None and key not in _BOUNDARY_KEYS[b.type]:
            allowed = ", ".join(sorted(_BOUNDARY_KEYS[b.type] | {"type"}))
            raise ConfigError(
                f"{path}.{key}",
                message=f"is not used by a boundary of type {b.type!r} (its keys: {allowed})",
            )
    adjacent = 0 if side == "left" else len(ctx.bounds) - 1
    if b.type == "no_flux":
        return NoFluxBoundary()
    if b.type == "electrode":
        if b.electrode is None and b.reaction is None:
            raise ConfigError(
                f"{path}.electrode",
                message='is required: a built-in electrode ("Ag/AgCl" or "inert") or a '
                "custom reaction = { anodic = {...}, cathodic = {...} }",
            )
        return ElectrodeBoundary(_electrode(b, path, ctx, s.electrode_area))
    if b.type == "fixed":
        if b.concentrations is None:
            raise ConfigError(f"{path}.concentrations", message="is required for type 'fixed'")
        for name in b.concentrations:
            ctx.species(name, key_path(f"{path}.concentrations", name), settable=True)
        ctx.check_electroneutral(
            b.concentrations,
            ctx.fixed_charges[adjacent],
            f"{path}.concentrations",
            f"the {side} boundary",
        )
        return FixedBoundary(dict(b.concentrations), pH=b.pH)
    # reservoir
    if (b.volume_per_area is None) == (b.volume is None):
        raise ConfigError(
            f"{path}.volume_per_area",
            message="a reservoir needs exactly one of volume_per_area (a length, e.g. "
            '"2 mm") or volume (e.g. "2 mL", with a top-level electrode_area)',
        )
    if b.volume is not None:
        if s.electrode_area is None:
            raise ConfigError(
                f"{path}.volume",
                message="needs a top-level electrode_area to convert the volume to a volume "
                'per area (e.g. electrode_area = "10 cm^2"), or give volume_per_area',
            )
        volume_per_area = b.volume / s.electrode_area
    else:
        assert b.volume_per_area is not None
        volume_per_area = b.volume_per_area
    initial = dict(b.initial or {})
    for name in initial:
        ctx.species(name, key_path(f"{path}.initial", name), settable=True)
    ctx.check_electroneutral(initial, 0.0, f"{path}.initial", f"the {side} reservoir")
    reaction = None
    if b.electrode is not None or b.reaction is not None:
        reaction = _electrode(b, path, ctx, s.electrode_area)
    return ReservoirBoundary(volume_per_area, initial, reaction, initial_pH=b.initial_pH)


_KW = 1e-8  # (mol/m^3)^2 at pKw 14


def _equilibria(s: Scenario, charges: dict[str, int], en: str) -> tuple[Equilibrium, ...]:
    """Fast equilibria in mass-action form, checked: species known, charge balanced,
    each product fixed by exactly one equilibrium and never a reactant."""
    out: list[Equilibrium] = []
    for i, e in enumerate(s.equilibria):
        path = f"equilibria[{i}]"

        def need(key: str, value: object, path: str = path, kind: str = e.kind) -> None:
            if value is None:
                raise ConfigError(f"{path}.{key}", message=f"is required for kind {kind!r}")

        def known(name: str, field: str) -> str:
            if name not in charges:
                raise ConfigError(
                    field,
                    name,
                    None,
                    "one of: " + ", ".join(charges),
                    f"unknown species {name!r}{suggest(name, charges)}",
                )
            return name

        if e.kind == "water":
            known("H+", f"{path}.kind")
            known("OH-", f"{path}.kind")
            pkw = 14.0 if e.pK is None else e.pK
            kw = _KW * 10.0 ** (14.0 - pkw)
            eq = Equilibrium(e.name, "OH-", {"H+": -1.0}, kw)
        elif e.kind == "acid":
            need("acid", e.acid)
            need("base", e.base)
            need("pK", e.pK)
            assert e.acid is not None and e.base is not None and e.pK is not None
            known(e.acid, f"{path}.acid")
            known(e.base, f"{path}.base")
            known("H+", f"{path}.kind")
            ka = 1000.0 * 10.0 ** (-e.pK)  # mol/m^3
            eq = Equilibrium(e.name, e.acid, {e.base: 1.0, "H+": 1.0}, 1.0 / ka)
        else:
            need("product", e.product)
            need("reactants", e.reactants)
            need("constant", e.constant)
            assert e.product is not None and e.reactants is not None and e.constant is not None
            known(e.product, f"{path}.product")
            for name in e.reactants:
                known(name, key_path(f"{path}.reactants", name))
            power = 1.0 - sum(e.reactants.values())
            unit = "dimensionless" if power == 0 else f"(mol/m^3)**{power:g}"
            value = parse_quantity(e.constant, unit, f"{path}.constant")
            if not value > 0:
                raise ConfigError(f"{path}.constant", e.constant, unit, "> 0")
            eq = Equilibrium(e.name, e.product, dict(e.reactants), value)
        charge = sum(charges[k] * nu for k, nu in eq.reactants.items())
        if abs(charge - charges[eq.product]) > 1e-9:
            raise ConfigError(
                path,
                e.name,
                None,
                "charge-balanced equilibria",
                f"{eq.product!r} has charge {charges[eq.product]:+d} but its reactants carry "
                f"{charge:+g}",
            )
        if en in (eq.product, *eq.reactants):
            raise ConfigError(
                path,
                e.name,
                None,
                f"equilibria that do not involve {en!r}",
                f"the electroneutrality species {en!r} cannot take part in an equilibrium",
            )
        out.append(eq)
    _duplicates((e.name for e in s.equilibria), "equilibria", "equilibrium")
    seen: dict[str, int] = {}
    for i, eq in enumerate(out):
        if eq.product in seen:
            raise ConfigError(
                f"equilibria[{i}]",
                eq.name,
                None,
                "one equilibrium per product",
                f"{eq.product!r} is already fixed by equilibria[{seen[eq.product]}]",
            )
        seen[eq.product] = i
    reactants = {r for eq in out for r in eq.reactants}
    for i, eq in enumerate(out):
        if eq.product in reactants:
            raise ConfigError(
                f"equilibria[{i}]",
                eq.name,
                None,
                "products that are not reactants of another equilibrium",
                f"{eq.product!r} is fixed by {eq.name!r} and used as a reactant elsewhere",
            )
    return tuple(out)


def _systemic(s: Scenario, ctx: Context) -> tuple[Systemic, ...]:
    """Plasma compartments: a primary species each, exchanged by some layer, and the
    treated area (``electrode_area``) that scales the skin's uptake."""
    if not s.systemic:
        return ()
    if s.electrode_area is None:
        raise ConfigError(
            "systemic",
            message="needs a top-level electrode_area: the skin area that feeds the plasma",
        )
    if not (s.skin is not None or any(layer.exchange_rate > 0 for layer in s.layers)):
        raise ConfigError(
            "systemic",
            message="no layer has an exchange_rate, so nothing would reach the plasma",
        )
    out = []
    seen: set[str] = set()
    for i, sysd in enumerate(s.systemic):
        name = ctx.species(sysd.species, f"systemic[{i}].species", settable=True)
        if name in seen:
            raise ConfigError(f"systemic[{i}].species", name, None, "one compartment per species")
        seen.add(name)
        out.append(Systemic(name, sysd.volume, sysd.clearance, sysd.initial))
    return tuple(out)


def _mesh(s: Scenario) -> MeshSpec:
    m = s.mesh
    if m.min_cell > m.max_cell:
        raise ConfigError(
            "mesh.min_cell",
            format_si(m.min_cell, "m"),
            "m",
            f"<= mesh.max_cell = {format_si(m.max_cell, 'm')}",
        )
    return MeshSpec(m.min_cell, m.max_cell, m.growth)


def _skin(s: Scenario, species: tuple[Species, ...]) -> tuple[tuple[Layer, ...], float]:
    """The layers of ``[skin]`` and its electroosmotic coefficient (m^3/C)."""
    if s.skin is None:
        return (), 0.0
    from ionto.simulate.params.loader import ParameterSet
    from ionto.simulate.params.stack import skin_electroosmosis, skin_layers

    k = s.skin
    for name in k.tissue:
        if name not in {sp.name for sp in species}:
            raise ConfigError(
                key_path("skin.tissue", name),
                name,
                None,
                "one of: " + ", ".join(sp.name for sp in species),
                f"unknown species {name!r}",
            )
    params = ParameterSet.load(k.file) if k.file is not None else ParameterSet.builtin()
    skin = params.load_skin(k.type, k.site)
    layers = skin_layers(
        skin,
        species,
        s.electroneutral_species,
        dict(k.tissue),
        radii=dict(k.radii) or None,
        pH=k.pH,
        temperature=s.temperature,
        max_cell=k.max_cell,
    )
    if k.initial_pH is not None:
        from dataclasses import replace

        layers = tuple(replace(layer, initial_pH=k.initial_pH) for layer in layers)
    salt = sum(c for name, c in k.tissue.items() if name != s.electroneutral_species)
    return layers, skin_electroosmosis(skin, salt=salt, pH=k.pH, temperature=s.temperature)


def build_problem(s: Scenario) -> Problem:
    """Check a validated scenario across fields and build its Problem (SI units)."""
    species, charges = _species(s)
    skin_layers, skin_eo = _skin(s, species)
    names = [layer.name for layer in s.layers] + [layer.name for layer in skin_layers]
    _duplicates(names, "layers", "layer")
    bounds = []
    x = 0.0
    thicknesses = [layer.thickness for layer in s.layers] + [la.thickness for la in skin_layers]
    for thickness in thicknesses:
        bounds.append((x, round_si(x + thickness)))
        x = round_si(x + thickness)
    equilibria = _equilibria(s, charges, s.electroneutral_species)
    ctx = Context(
        charges=charges,
        en=s.electroneutral_species,
        layer_index={name: i for i, name in enumerate(names)},
        bounds=bounds,
        fixed_charges=[layer.fixed_charge for layer in s.layers]
        + [la.fixed_charge for la in skin_layers],
        secondary=frozenset(eq.product for eq in equilibria),
    )
    mesh = _mesh(s)
    reactions = _reactions(s, ctx)
    layers = _layers(s, ctx, {r.name for r in reactions}) + skin_layers
    exchange = _exchange(s, ctx)
    left = _boundary(s, "left", ctx)
    right = _boundary(s, "right", ctx)
    segments = control_segments(s)
    check_current_path(segments, left, right, s)
    duration = sum(seg.duration for _, _, seg in segments)
    _duplicates((r.name for r in s.report), "report", "report")
    reports = tuple(report_spec(r, f"report[{j}]", ctx, duration) for j, r in enumerate(s.report))
    systemic = _systemic(s, ctx)
    plasma_species = {d.species for d in systemic}
    for j, rep in enumerate(reports):
        if rep.quantity == "plasma" and rep.species not in plasma_species:
            raise ConfigError(
                f"report[{j}].species",
                rep.species,
                None,
                "a species with a [[systemic]] compartment: "
                + (", ".join(sorted(plasma_species)) or "(none)"),
            )
    return Problem(
        species=species,
        electroneutral_species=s.electroneutral_species,
        layers=layers,
        left=left,
        right=right,
        control=tuple(seg for _, _, seg in segments),
        mesh=mesh,
        temperature=s.temperature,
        smoothing=s.smoothing,
        electroosmotic_coefficient=(
            s.electroosmotic_coefficient if s.electroosmotic_coefficient is not None else skin_eo
        ),
        exchange_concentrations=exchange,
        exchange_pH=s.exchange.pH if s.exchange is not None else None,
        equilibria=equilibria,
        systemic=systemic,
        treated_area=s.electrode_area,
        reactions=reactions,
        output_times=output_times(s, duration),
        reports=reports,
        solver=SolverSpec(
            rtol=s.solver.rtol,
            atol=s.solver.atol,
            first_step=s.solver.first_step,
            max_steps=s.solver.max_steps,
            max_step=s.solver.max_step,
        ),
        title=s.title,
    )
