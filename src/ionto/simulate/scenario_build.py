"""Cross-field checks of a validated :class:`Scenario` and its conversion to a Problem.

The schema (``scenario.py``) has already turned every value into an SI float and checked
it on its own; here the checks that involve several fields happen (species references,
electroneutrality, electrode stoichiometry; the control program, output times and
reports are in ``scenario_timeline.py``) and the frozen dataclasses of
:mod:`ionto.simulate.problem` are built. Units: m, s, mol/m^3, A/m^2, V.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ionto.core.config import field_path, key_path, suggest
from ionto.core.errors import ConfigError
from ionto.core.units import format_si, parse_quantity, round_si
from ionto.simulate.problem import (
    FARADAY,
    GAS_CONSTANT,
    Activation,
    Boundary,
    ElectrodeBoundary,
    ElectrodeReaction,
    Equilibrium,
    FixedBoundary,
    Hyperaemia,
    Layer,
    LayerMesh,
    MeshSpec,
    NoFluxBoundary,
    Problem,
    Reaction,
    ReservoirBoundary,
    SolverSpec,
    Species,
    Systemic,
)
from ionto.simulate.scenario_sampling import build_sampling
from ionto.simulate.scenario_timeline import (
    check_current_path,
    control_segments,
    output_times,
    report_spec,
)

if TYPE_CHECKING:
    from ionto.simulate.params.skin import SkinParameters
    from ionto.simulate.scenario import BoundaryIn, LayerIn, Scenario

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
    reservoirs: frozenset[str] | None = None  # sides whose boundary is a reservoir

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


def _layers(
    s: Scenario,
    ctx: Context,
    reaction_names: set[str],
    items: Sequence[LayerIn] | None = None,
    prefix: str = "layers",
) -> tuple[Layer, ...]:
    out = []
    for i, layer in enumerate(s.layers if items is None else items):
        path = f"{prefix}[{i}]"
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
        own = s.mesh.layers.get(layer.name)
        if layer.max_cell is not None and own is not None and own.max_cell is not None:
            raise ConfigError(
                _mesh_field(layer.name, "max_cell"),
                format_si(own.max_cell, "m"),
                "m",
                f"unset, as {path}.max_cell gives it",
                f"layer {layer.name!r} has a max_cell in {path} and in [mesh.layers]; "
                "give it in one place only",
            )
        h_min, source = _min_cell(s, layer.name)
        if layer.max_cell is not None and layer.max_cell < h_min:
            raise ConfigError(
                f"{path}.max_cell",
                format_si(layer.max_cell, "m"),
                "m",
                f">= {source} = {format_si(h_min, 'm')}",
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
                capacitance=layer.capacitance,
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


def _boundary(
    s: Scenario, side: Literal["left", "right"], ctx: Context, own_area: float | None = None
) -> Boundary:
    """A boundary; ``own_area`` (m^2): the area of the layer it touches when that is not
    ``electrode_area`` (the indifferent site of a [circuit]), which a reservoir's volume
    is divided by."""
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
        volume_per_area = b.volume / (own_area or s.electrode_area)
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


def _mesh_field(name: str, key: str | None = None) -> str:
    """``mesh.layers.<name>`` (or ``mesh.layers["odd name"]``), then ``.key``."""
    return field_path(["mesh", "layers", name, *([key] if key else [])])


def _min_cell(s: Scenario, name: str) -> tuple[float, str]:
    """The smallest cell (m) of layer ``name`` and the field that sets it."""
    own = s.mesh.layers.get(name)
    if own is not None and own.min_cell is not None:
        return own.min_cell, _mesh_field(name, "min_cell")
    return s.mesh.min_cell, "mesh.min_cell"


def _mesh(s: Scenario, ctx: Context) -> MeshSpec:
    """``[mesh]`` with its per-layer entries, whose names must be layers of the problem
    (the generated skin, body and indifferent layers included)."""
    m = s.mesh
    if m.min_cell > m.max_cell:
        raise ConfigError(
            "mesh.min_cell",
            format_si(m.min_cell, "m"),
            "m",
            f"<= mesh.max_cell = {format_si(m.max_cell, 'm')}",
        )
    entries = []
    for name, own in m.layers.items():
        ctx.layer(name, _mesh_field(name))
        skin_max = s.skin is not None and s.skin.max_cell is not None
        if own.max_cell is not None and skin_max and name in ("dermis", "indifferent_dermis"):
            raise ConfigError(
                _mesh_field(name, "max_cell"),
                format_si(own.max_cell, "m"),
                "m",
                "unset, as skin.max_cell gives it",
                f"layer {name!r} has a max_cell in [skin] and in [mesh.layers]; give it in "
                "one place only",
            )
        entries.append(LayerMesh(name, own.min_cell, own.max_cell))
    return MeshSpec(m.min_cell, m.max_cell, m.growth, tuple(entries))


def _check_layer_meshes(mesh: MeshSpec, layers: Sequence[Layer]) -> None:
    """Every layer with a ``[mesh.layers]`` entry has min_cell <= max_cell once the
    defaults (its own max_cell, the global values) are filled in."""
    by_name = {layer.name: layer for layer in layers}
    for own in mesh.layers:
        layer = by_name[own.name]
        h_min, h_max = mesh.cells(layer)
        if h_min <= h_max:
            continue
        if own.min_cell is not None:
            if own.max_cell is not None:
                source = _mesh_field(own.name, "max_cell")
            elif layer.max_cell is not None:
                source = f"the max_cell of layer {own.name!r}"
            else:
                source = "mesh.max_cell"
            raise ConfigError(
                _mesh_field(own.name, "min_cell"),
                format_si(h_min, "m"),
                "m",
                f"<= {source} = {format_si(h_max, 'm')}",
            )
        raise ConfigError(
            _mesh_field(own.name, "max_cell"),
            format_si(h_max, "m"),
            "m",
            f">= mesh.min_cell = {format_si(h_min, 'm')}",
        )


def _skin(
    s: Scenario, species: tuple[Species, ...]
) -> tuple[tuple[Layer, ...], float, SkinParameters | None, tuple[Layer, ...]]:
    """The layers of ``[skin]``, its electroosmotic coefficient (m^3/C), its parameters
    and, with ``[circuit]``, the indifferent site's skin layers from the dermis out to
    the stratum corneum (named ``indifferent_*``)."""
    if s.skin is None:
        if s.circuit is not None:
            raise ConfigError(
                "circuit",
                message="needs a [skin]: the active site's skin (the indifferent site uses "
                "the same skin type)",
            )
        return (), 0.0, None, ()
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
    if k.conductance_activation:
        if s.smoothing > 0:
            raise ConfigError(
                "skin.conductance_activation",
                True,
                None,
                "sharp layers (smoothing = 0)",
                "conductance activation needs sharp layer interfaces: set smoothing = 0",
            )
        layers = _activated(layers, skin)
    if k.sc_capacitance:
        layers = _with_capacitance(layers, skin)
    if k.hyperaemia or k.vasodilator is not None:
        layers = _with_hyperaemia(layers, skin, s, species)
    if k.initial_pH is not None:
        layers = tuple(dataclasses.replace(la, initial_pH=k.initial_pH) for la in layers)
    salt = sum(c for name, c in k.tissue.items() if name != s.electroneutral_species)
    eo = skin_electroosmosis(skin, salt=salt, pH=k.pH, temperature=s.temperature)
    indifferent: tuple[Layer, ...] = ()
    if s.circuit is not None:
        site = s.circuit.indifferent.site or skin.site
        if site not in params.sites(k.type):
            raise ConfigError(
                "circuit.indifferent.site",
                site,
                None,
                "one of: " + ", ".join(params.sites(k.type)),
                f"{site!r} is not a site of {k.type!r}{suggest(site, params.sites(k.type))}",
            )
        other = skin_layers(
            params.load_skin(k.type, site),
            species,
            s.electroneutral_species,
            dict(k.tissue),
            radii=dict(k.radii) or None,
            pH=k.pH,
            temperature=s.temperature,
            max_cell=k.max_cell,
        )
        if k.conductance_activation:
            other = _activated(other, skin)
        if k.sc_capacitance:
            other = _with_capacitance(other, skin)
        if k.hyperaemia or k.vasodilator is not None:
            other = _with_hyperaemia(other, skin, s, species)
        if k.initial_pH is not None:
            other = tuple(dataclasses.replace(la, initial_pH=k.initial_pH) for la in other)
        indifferent = tuple(
            dataclasses.replace(la, name="indifferent_" + la.name) for la in reversed(other)
        )
    return layers, eo, skin, indifferent


def _activated(layers: tuple[Layer, ...], skin: SkinParameters) -> tuple[Layer, ...]:
    """The skin layers with the stratum corneum's conductance activation from the set."""
    if skin.sc_activation_charge is None or skin.sc_recovery_time is None:
        raise ConfigError(
            "skin.conductance_activation",
            True,
            None,
            "a skin type with sc_activation_charge and sc_recovery_time",
            f"skin type {skin.skin_type!r} has no activation data in its parameter set",
        )
    act = Activation(
        gain=skin.sc_resistance / skin.sc_resistance_min - 1.0,
        charge=skin.sc_activation_charge,
        tau_off=skin.sc_recovery_time,
    )
    return tuple(
        dataclasses.replace(la, activation=act) if la.name == "stratum_corneum" else la
        for la in layers
    )


def _with_capacitance(layers: tuple[Layer, ...], skin: SkinParameters) -> tuple[Layer, ...]:
    """The skin layers with the stratum corneum's capacitance (F/m^2) from the set."""
    return tuple(
        dataclasses.replace(la, capacitance=skin.sc_capacitance)
        if la.name == "stratum_corneum"
        else la
        for la in layers
    )


def _with_hyperaemia(
    layers: tuple[Layer, ...],
    skin: SkinParameters,
    s: Scenario,
    species: tuple[Species, ...],
) -> tuple[Layer, ...]:
    """The skin layers with the dermis' hyperaemia (and vasodilator) from the set."""
    k = s.skin
    assert k is not None
    if not k.hyperaemia:
        raise ConfigError(
            "skin.vasodilator", message="needs hyperaemia = true (the response it drives)"
        )
    values = (skin.hyperaemia_gain, skin.hyperaemia_charge, skin.hyperaemia_recovery_time)
    if any(v is None for v in values):
        raise ConfigError(
            "skin.hyperaemia",
            True,
            None,
            "a skin type with hyperaemia_gain, hyperaemia_charge, hyperaemia_recovery_time",
            f"skin type {skin.skin_type!r} has no hyperaemia data in its parameter set",
        )
    gain, charge, tau = (float(v) for v in values)  # type: ignore[arg-type]
    drug, ec50, rate = None, 1.0, 0.0
    if k.vasodilator is not None:
        drug = k.vasodilator.species
        if drug not in {sp.name for sp in species} or drug == s.electroneutral_species:
            raise ConfigError(
                "skin.vasodilator.species",
                drug,
                None,
                "a species other than the electroneutrality species",
            )
        ec50, rate = k.vasodilator.ec50, k.vasodilator.rate
    hyp = Hyperaemia(gain, charge, tau, drug, ec50, rate)
    return tuple(
        dataclasses.replace(la, hyperaemia=hyp) if la.name == "dermis" else la for la in layers
    )


def _current_limit(s: Scenario) -> float | None:
    """The voltage source's current limit as a density (A/m^2 of ``electrode_area``)."""
    if s.current_limit is None:
        return None
    if s.electrode_area is None:
        raise ConfigError(
            "current_limit",
            message='needs a top-level electrode_area (e.g. "10 cm^2") to turn the current '
            "limit into a current density",
        )
    return s.current_limit / s.electrode_area


def _blood_conductivity(s: Scenario, exchange: Mapping[str, float]) -> float:
    """Conductivity (S/m) of the blood-side solution: F^2/(RT) sum z^2 D c over the
    [exchange] concentrations (totals taken as free ions: acid-base partners are a small
    part of plasma's conductivity)."""
    d = {sp.name: sp.diffusivity for sp in s.species}
    z = {sp.name: sp.charge for sp in s.species}
    total = sum(z[k] ** 2 * d[k] * c for k, c in exchange.items())
    return FARADAY**2 / (GAS_CONSTANT * s.temperature) * total


def _circuit_chain(
    s: Scenario,
    skin: SkinParameters,
    active: tuple[Layer, ...],
    indifferent: tuple[Layer, ...],
    exchange: Mapping[str, float],
    en: str,
) -> tuple[Layer, ...]:
    """The two-site chain with areas: active layers (``electrode_area``), the body
    conductor, the indifferent layers (``[circuit.indifferent] area``)."""
    c = s.circuit
    assert c is not None
    if s.electrode_area is None:
        raise ConfigError(
            "electrode_area",
            message="is required with [circuit]: the active electrode's area (e.g. "
            '"10 cm^2"); the indifferent one is [circuit.indifferent] area',
        )
    if s.exchange is None:
        raise ConfigError(
            "exchange.concentrations",
            message="is required with [circuit]: the body conducts with the blood's "
            'composition (e.g. [exchange] concentrations = { "Na+" = "140 mM" })',
        )
    resistance = c.body_resistance if c.body_resistance is not None else skin.body_resistance
    if resistance is None:
        raise ConfigError(
            "circuit.body_resistance",
            message=f"is required: skin type {skin.skin_type!r} has no body_resistance in its "
            'parameter set (e.g. body_resistance = "500 ohm")',
        )
    sigma = _blood_conductivity(s, exchange)
    if not sigma > 0:
        raise ConfigError(
            "exchange.concentrations",
            message="the blood must conduct (no charged species with a diffusivity)",
        )
    rate = c.body_exchange_rate
    if rate is None:
        rate = skin.dermal_exchange_rate
    body = Layer(
        "body",
        c.body_length,
        exchange_rate=rate,
        initial={k: v for k, v in exchange.items() if k != en},
        max_cell=c.body_length / 20.0,
        initial_pH=s.exchange.pH,
        area=c.body_length / (sigma * resistance),
    )
    a_act, a_ind = s.electrode_area, c.indifferent.area
    return (
        *(dataclasses.replace(la, area=a_act) for la in active),
        body,
        *(dataclasses.replace(la, area=a_ind) for la in indifferent),
    )


def build_problem(s: Scenario) -> Problem:
    """Check a validated scenario across fields and build its Problem (SI units)."""
    species, charges = _species(s)
    skin_layers, skin_eo, skin_params, ind_skin = _skin(s, species)
    ind_user = list(reversed(s.circuit.indifferent.layers)) if s.circuit is not None else []
    tail_names = (
        ["body", *(la.name for la in ind_skin), *(la.name for la in ind_user)]
        if s.circuit is not None
        else []
    )
    names = [layer.name for layer in s.layers] + [layer.name for layer in skin_layers] + tail_names
    _duplicates(names, "layers", "layer")
    bounds = []
    x = 0.0
    thicknesses = [layer.thickness for layer in s.layers] + [la.thickness for la in skin_layers]
    if s.circuit is not None:
        thicknesses += [s.circuit.body_length, *(la.thickness for la in ind_skin)]
        thicknesses += [la.thickness for la in ind_user]
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
        + [la.fixed_charge for la in skin_layers]
        + ([0.0, *(la.fixed_charge for la in ind_skin)] if s.circuit is not None else [])
        + [la.fixed_charge for la in ind_user],
        secondary=frozenset(eq.product for eq in equilibria),
        reservoirs=frozenset(
            side for side in ("left", "right") if getattr(s.boundary, side).type == "reservoir"
        ),
    )
    mesh = _mesh(s, ctx)
    reactions = _reactions(s, ctx)
    layers = _layers(s, ctx, {r.name for r in reactions}) + skin_layers
    exchange = _exchange(s, ctx)
    for end in (0, len(s.layers) - 1):
        if s.layers[end].capacitance is not None and (end == 0 or not skin_layers):
            raise ConfigError(
                f"layers[{end}].capacitance",
                message="a capacitive layer needs a layer on both sides to hold its charge",
            )
    right_area = None
    if s.circuit is not None:
        assert skin_params is not None
        # the indifferent pad's layers, listed from its electrode, enter the chain last
        n_ind = len(ind_user)
        user = _layers(
            s,
            ctx,
            {r.name for r in reactions},
            s.circuit.indifferent.layers,
            "circuit.indifferent.layers",
        )
        layers = _circuit_chain(
            s,
            skin_params,
            layers,
            ind_skin + tuple(reversed(user)),
            exchange,
            s.electroneutral_species,
        )
        assert len(layers) == len(names) and n_ind == len(user)
        right_area = s.circuit.indifferent.area
        rb = s.boundary.right
        if rb.type not in ("electrode", "reservoir") or (
            rb.electrode is None and rb.reaction is None
        ):
            raise ConfigError(
                "boundary.right.type",
                s.boundary.right.type,
                None,
                "an electrode: 'electrode', or 'reservoir' with an electrode",
                "with [circuit], [boundary.right] is the indifferent electrode",
            )
    _check_layer_meshes(mesh, layers)
    left = _boundary(s, "left", ctx)
    right = _boundary(s, "right", ctx, right_area)
    segments = control_segments(s)
    if s.compliance_voltage is not None and any(seg.cycle for _, _, seg in segments):
        raise ConfigError(
            "compliance_voltage",
            message="applies to every pulse: resolve the pulse trains (averaged = false) to "
            "run them against a compliance voltage",
        )
    check_current_path(segments, left, right, s)
    duration = sum(seg.duration for _, _, seg in segments)
    segments, sampling = build_sampling(s, left, right, segments, duration)
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
        compliance_voltage=s.compliance_voltage,
        current_limit=_current_limit(s),
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
        sampling=sampling,
    )
