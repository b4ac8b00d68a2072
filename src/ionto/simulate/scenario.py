"""Scenario files: the TOML input format, validated and converted to a :class:`Problem`.

The format is documented in ``docs/scenarios.md``; ``benchmarks/R1.toml`` is a complete
example. Every dimensional value is a pint string (``"20 um"``, ``"0.5 mA/cm^2"``) whose
dimension is checked; the result is the frozen, SI-only :class:`ionto.simulate.problem.Problem`.
All problems are reported as :class:`ionto.core.errors.ConfigError` naming the field path.

Public API: :func:`load_problem` (file -> Problem), :func:`problem_from_dict`
(parsed TOML -> Problem) and the schema root :class:`Scenario`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationError

from ionto.core.config import (
    StrictModel,
    config_error,
    integer,
    load_toml,
    pydantic_error,
    quantity,
)
from ionto.core.errors import ConfigError
from ionto.core.units import DIMENSIONLESS, parse_quantity
from ionto.simulate.problem import MeshSpec, Problem, ReportQuantity, SolverSpec
from ionto.simulate.scenario_build import build_problem
from ionto.simulate.validation.spec import ValidationSpec

__all__ = ["Scenario", "load_problem", "problem_from_dict"]

# ------------------------------------------------------------------ value types (SI floats)

Length = Annotated[float, quantity("m", gt=0)]
Depth = Annotated[float, quantity("m", ge=0)]
Area = Annotated[float, quantity("m^2", gt=0)]
Volume = Annotated[float, quantity("m^3", gt=0)]
Duration = Annotated[float, quantity("s", gt=0)]
Instant = Annotated[float, quantity("s", ge=0)]
Temperature = Annotated[float, quantity("K", gt=0)]
Diffusivity = Annotated[float, quantity("m^2/s", ge=0)]
Concentration = Annotated[float, quantity("mol/m^3", ge=0)]
ChargeDensity = Annotated[float, quantity("mol/m^3")]
Rate = Annotated[float, quantity("1/s", ge=0)]
EOCoefficient = Annotated[float, quantity("m^3/C")]
Factor = Annotated[float, quantity(DIMENSIONLESS, gt=0)]
Stoichiometry = Annotated[float, quantity(DIMENSIONLESS)]
Growth = Annotated[float, quantity(DIMENSIONLESS, gt=1)]
Duty = Annotated[float, quantity(DIMENSIONLESS, gt=0, le=1)]
RelTol = Annotated[float, quantity(DIMENSIONLESS, gt=0, lt=0.1)]
AbsTol = Annotated[float, quantity("mol/m^3", gt=0)]
PH = Annotated[float, quantity(DIMENSIONLESS, ge=-2, le=16)]
ElectrodeCharge = Annotated[float, quantity("C", gt=0)]
PK = Annotated[float, quantity(DIMENSIONLESS, ge=-10, le=30)]
Resistance = Annotated[float, quantity("ohm", gt=0)]
Capacitance = Annotated[float, quantity("F/m^2", gt=0)]
PositiveVoltage = Annotated[float, quantity("V", gt=0)]
Charge = Annotated[int, integer()]
Count = Annotated[int, integer(ge=1)]


def _name(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or value != value.strip():
        raise pydantic_error(
            ConfigError(
                "",
                value,
                None,
                "a non-empty string without leading/trailing spaces",
                f"{value!r} is not a valid name",
            )
        )
    return value


Name = Annotated[str, BeforeValidator(_name)]


def _level(unit: str) -> BeforeValidator:
    """A control level: one value (constant) or ``[start, end]`` (linear ramp) -> (start, end)."""

    def validate(value: object) -> tuple[float, float]:
        try:
            if isinstance(value, list):
                if len(value) != 2:
                    raise ConfigError(
                        "",
                        value,
                        unit,
                        "a value or a [start, end] pair",
                        f"{value!r} has {len(value)} entries",
                    )
                return (parse_quantity(value[0], unit, ""), parse_quantity(value[1], unit, ""))
            x = parse_quantity(value, unit, "")
        except ConfigError as exc:
            raise pydantic_error(exc) from None
        return (x, x)

    return BeforeValidator(validate)


def _region(value: object) -> tuple[str, str]:
    if isinstance(value, str) and value:
        return (value, value)
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return (value[0], value[1])
    raise pydantic_error(
        ConfigError(
            "",
            value,
            None,
            'a layer name or a ["first_layer", "last_layer"] pair',
            f"{value!r} is not a region",
        )
    )


CurrentDensityLevel = Annotated[tuple[float, float], _level("A/m^2")]
CurrentLevel = Annotated[tuple[float, float], _level("A")]
VoltageLevel = Annotated[tuple[float, float], _level("V")]
Region = Annotated[tuple[str, str], BeforeValidator(_region)]

# ------------------------------------------------------------------ schema


class SpeciesIn(StrictModel):
    """``[[species]]``: name, valence and free-solution diffusivity (m^2/s)."""

    name: Name
    charge: Charge
    diffusivity: Diffusivity


class LayerIn(StrictModel):
    """``[[layers]]``, left to right. See :class:`ionto.simulate.problem.Layer`."""

    name: Name
    thickness: Length
    diffusivity_factor: Factor = 1.0
    diffusivity_factors: dict[str, Factor] = Field(default_factory=dict)
    fixed_charge: ChargeDensity = 0.0
    exchange_rate: Rate = 0.0
    initial: dict[str, Concentration] = Field(default_factory=dict)
    max_cell: Length | None = None
    reaction_rates: dict[str, Rate] = Field(default_factory=dict)
    initial_pH: PH | None = None
    capacitance: Capacitance | None = None


class EquilibriumIn(StrictModel):
    """``[[equilibria]]``: an instantaneous equilibrium. ``kind = "water"`` (OH- = Kw/H+,
    ``pK`` default 14); ``kind = "acid"``: ``acid`` <-> ``base`` + H+ with ``pK`` = pKa;
    ``kind = "mass_action"``: ``product`` = ``constant`` * prod(reactant^nu) with the
    constant as a quantity in (mol/m^3)^(1 - sum nu), e.g. "1e-14 M^2"."""

    name: Name
    kind: Literal["water", "acid", "mass_action"]
    pK: PK | None = None
    acid: str | None = None
    base: str | None = None
    product: str | None = None
    reactants: dict[str, Stoichiometry] | None = None
    constant: str | None = None


class SkinIn(StrictModel):
    """``[skin]``: a skin from the parameter sets (``docs/parameters.md``), appended below
    the ``[[layers]]`` (which then describe what sits on the skin: gel, pad, cup).
    ``tissue``: interstitial concentrations (mol/m^3, totals with equilibria); ``pH`` of
    the pore charge; ``radii``: hydrodynamic radii overriding the defaults; ``max_cell``:
    largest cell in the dermis; ``file``: a user parameter file merged over the built-in
    sets; ``initial_pH``: the skin layers' initial pH (needed when the scenario carries
    H+ with the water equilibrium, e.g. to follow the pH under an electrode);
    ``conductance_activation``: the stratum corneum's conduction opens under current
    and recovers after (claim P4), with the skin set's sc_activation_charge and
    sc_recovery_time; ``sc_capacitance``: the stratum corneum's capacitance (the set's
    sc_capacitance) in parallel with its ionic path (claim P1); ``hyperaemia``: dermal
    perfusion that rises with the charge passed (claim P9), and with a ``vasodilator``
    (claim P19)."""

    type: str
    site: str | None = None
    tissue: dict[str, Concentration]
    pH: PH = 7.4
    initial_pH: PH | None = None
    radii: dict[str, Length] = Field(default_factory=dict)
    max_cell: Length | None = None
    file: str | None = None
    conductance_activation: bool = False
    sc_capacitance: bool = False
    hyperaemia: bool = False
    vasodilator: VasodilatorIn | None = None


class IndifferentIn(StrictModel):
    """``[circuit.indifferent]``: the return electrode's site. ``area`` (m^2) of its
    electrode; ``site`` of the same skin type (default: the active site's); ``layers``
    between that electrode and its skin (pad, sponge, tray water), listed from the
    electrode towards the skin like ``[[layers]]``."""

    area: Area
    site: str | None = None
    layers: list[LayerIn] = Field(default_factory=list)


class CircuitIn(StrictModel):
    """``[circuit]``: the active site (``[[layers]]`` and ``[skin]`` on
    ``electrode_area``) in series with the body and the indifferent site, whose electrode
    is ``[boundary.right]``. ``body_resistance`` (ohm; default: the skin type's value)
    sets the cross-section of a body conductor of ``body_length`` (m) with the blood's
    conductivity; it exchanges with the blood at ``body_exchange_rate`` (1/s; default:
    the skin type's dermal exchange rate)."""

    indifferent: IndifferentIn
    body_resistance: Resistance | None = None
    body_length: Length = 0.05
    body_exchange_rate: Rate | None = None


class VasodilatorIn(StrictModel):
    """``[skin.vasodilator]``: a drug that dilates the dermal vessels (e.g. acetylcholine):
    its mean level in the dermis drives perfusion at ``rate`` (1/s) times c / (c + ec50)."""

    species: str
    ec50: Annotated[float, quantity("mol/m^3", gt=0)]
    rate: Rate


class SystemicIn(StrictModel):
    """``[[systemic]]``: a plasma compartment for a species (one-compartment kinetics),
    fed by the treated skin (``electrode_area``)."""

    species: str
    volume: Volume
    clearance: Annotated[float, quantity("m^3/s", ge=0)]
    initial: Concentration = 0.0


class ReactionIn(StrictModel):
    """``[[reactions]]``: first-order conversion reactant -> product."""

    name: Name
    reactant: str
    product: str


class ExchangeIn(StrictModel):
    """``[exchange]``: blood-side concentrations (mol/m^3; totals with equilibria) for
    ``exchange_rate``, optionally at a blood ``pH``."""

    concentrations: dict[str, Concentration]
    pH: PH | None = None


class ElectrodeReactionIn(StrictModel):
    """A custom electrode: mol released per mol of electrons (negative = consumed)."""

    name: str = "custom"
    anodic: dict[str, Stoichiometry]
    cathodic: dict[str, Stoichiometry]


class BoundaryIn(StrictModel):
    """``[boundary.left]`` / ``[boundary.right]``; which keys apply depends on ``type``."""

    type: Literal["electrode", "fixed", "reservoir", "no_flux"]
    electrode: Literal["Ag/AgCl", "inert"] | None = None
    reaction: ElectrodeReactionIn | None = None
    concentrations: dict[str, Concentration] | None = None
    initial: dict[str, Concentration] | None = None
    volume_per_area: Length | None = None
    volume: Volume | None = None
    pH: PH | None = None
    initial_pH: PH | None = None
    anodic_capacity: ElectrodeCharge | None = None
    cathodic_capacity: ElectrodeCharge | None = None


class BoundariesIn(StrictModel):
    """``[boundary]``: both ends of the stack."""

    left: BoundaryIn
    right: BoundaryIn


class ControlIn(StrictModel):
    """``[[control]]``: one segment, or a pulse train when ``pulses`` is given."""

    duration: Duration | None = None
    current_density: CurrentDensityLevel | None = None
    current: CurrentLevel | None = None
    voltage: VoltageLevel | None = None
    pulses: Count | None = None
    period: Duration | None = None
    duty: Duty | None = None
    averaged: bool | None = None


class LayerMeshIn(StrictModel):
    """``[mesh.layers.<name>]``: one layer's cell size at both of its ends (``min_cell``)
    and its largest cell (``max_cell``); an unset key keeps the default."""

    min_cell: Length | None = None
    max_cell: Length | None = None


class MeshIn(StrictModel):
    """``[mesh]``: smallest cell at interfaces, largest inside layers, growth ratio, and
    per-layer sizes by layer name (``layers``, any layer of the problem)."""

    min_cell: Length = 0.1e-6
    max_cell: Length = 20e-6
    growth: Growth = MeshSpec.growth
    layers: dict[str, LayerMeshIn] = Field(default_factory=dict)


class SolverIn(StrictModel):
    """``[solver]``: tolerances and limits of the time integration."""

    rtol: RelTol = SolverSpec.rtol
    atol: AbsTol = SolverSpec.atol
    first_step: Duration = SolverSpec.first_step
    max_steps: Count = SolverSpec.max_steps
    max_step: Duration | None = None


class OutputIn(StrictModel):
    """``[output]``: times (s) at which full profiles are kept."""

    times: list[Instant] = Field(default_factory=list)


class AtIn(StrictModel):
    """A position: ``depth`` (m) below the left face of ``layer``."""

    layer: str
    depth: Depth


class SpanIn(StrictModel):
    """A depth range inside one layer: from ``start`` to ``end`` below its left face."""

    layer: str
    start: Depth
    end: Depth


class ReportIn(StrictModel):
    """``[[report]]``: a named scalar result."""

    name: Name
    quantity: ReportQuantity
    time: Instant
    species: str | None = None
    region: Region | None = None
    span: SpanIn | None = None
    at: AtIn | None = None
    reservoir: Literal["left", "right"] | None = None
    side: Literal["before", "after"] = "after"
    total: bool = False
    below_pH: PH | None = None
    below: Concentration | None = None


class SamplingIn(StrictModel):
    """``[[sampling]]``: at each of ``times`` withdraw ``volume`` from the well-mixed
    reservoir at ``side`` and replace it with fresh solution ``fresh`` (default: the
    reservoir's initial contents), as a diffusion cell's receptor is sampled."""

    side: Literal["left", "right"] = "right"
    times: list[Duration] = Field(min_length=1)
    volume: Volume
    fresh: dict[str, Concentration] | None = None


class Scenario(StrictModel):
    """The root of a scenario file (schema_version 1)."""

    schema_version: Literal[1] = 1
    title: str = ""
    temperature: Temperature = 310.15
    electroneutral_species: str
    smoothing: Depth = 0.0
    electroosmotic_coefficient: EOCoefficient | None = None
    electrode_area: Area | None = None
    species: list[SpeciesIn] = Field(min_length=1)
    layers: list[LayerIn] = Field(min_length=1)
    skin: SkinIn | None = None
    circuit: CircuitIn | None = None
    compliance_voltage: PositiveVoltage | None = None
    current_limit: Annotated[float, quantity("A", gt=0)] | None = None
    reactions: list[ReactionIn] = Field(default_factory=list)
    equilibria: list[EquilibriumIn] = Field(default_factory=list)
    systemic: list[SystemicIn] = Field(default_factory=list)
    exchange: ExchangeIn | None = None
    boundary: BoundariesIn
    control: list[ControlIn] = Field(min_length=1)
    mesh: MeshIn = Field(default_factory=MeshIn)
    solver: SolverIn = Field(default_factory=SolverIn)
    output: OutputIn = Field(default_factory=OutputIn)
    report: list[ReportIn] = Field(default_factory=list)
    sampling: list[SamplingIn] = Field(default_factory=list)
    validation: ValidationSpec | None = None  # read by ionto validate (docs/validation.md)


# ------------------------------------------------------------------ entry points


def problem_from_dict(data: Mapping[str, Any]) -> Problem:
    """Validate parsed TOML and convert it to a Problem (SI). Raises ConfigError."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise config_error(exc) from None
    return build_problem(scenario)


def resolve_paths(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """Make the file paths a scenario names (``skin.file``) relative to the folder
    ``base`` of the scenario file, unless they are absolute. Changes ``data`` in place."""
    skin = data.get("skin")
    if isinstance(skin, dict) and isinstance(skin.get("file"), str):
        skin["file"] = str(base / skin["file"])
    return data


def load_problem(path: str | Path) -> Problem:
    """Read a scenario TOML file and return its Problem (SI). Raises ConfigError."""
    return problem_from_dict(resolve_paths(load_toml(path), Path(path).parent))
