"""Schema of parameter files (the built-in ``data/*.toml`` and user files alike).

A parameter file has up to three tables: ``[sources.KEY]`` (citation, url),
``[skin.TYPE]`` (values, reference site, ``[skin.TYPE.sites.SITE]``) and
``[ions.NAME]`` (charge and physical chemistry). Every value is an *entry*::

    sc_thickness = { value = "15 um", source = "textbook:skin-anatomy", confidence = "U",
                     range = ["10 um", "20 um"], note = "..." }

``value`` and ``range`` are pint strings whose dimension is fixed by the value's name
(a thickness of ``"15 s"`` is an error) and converted to SI; ``value`` must lie inside
``range``. Unknown keys are errors with close matches suggested (StrictModel).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BeforeValidator, Field, model_validator

from ionto.core.config import StrictModel, check_range, integer, pydantic_error, quantity
from ionto.core.errors import ConfigError
from ionto.core.units import DIMENSIONLESS, format_si, parse_quantity

Confidence = Literal["C", "D", "I", "U"]


def _range(unit: str) -> BeforeValidator:
    """``["10 um", "20 um"]`` -> (1e-05, 2e-05), low <= high."""

    def validate(value: object) -> tuple[float, float]:
        try:
            if not isinstance(value, list) or len(value) != 2:
                raise ConfigError("", value, unit, "a [low, high] pair", f"{value!r} is not a pair")
            lo = parse_quantity(value[0], unit, "")
            hi = parse_quantity(value[1], unit, "")
            if lo > hi:
                raise ConfigError("", value, unit, "low <= high", f"{value!r} is reversed")
        except ConfigError as exc:
            raise pydantic_error(exc) from None
        return (lo, hi)

    return BeforeValidator(validate)


class Entry(StrictModel):
    """One sourced value; subclasses fix the unit and bounds of ``value``."""

    UNIT: ClassVar[str] = DIMENSIONLESS
    value: float
    source: str = Field(min_length=1)
    confidence: Confidence
    range: tuple[float, float] | None = None
    note: str = ""

    @model_validator(mode="after")
    def _inside_range(self) -> Entry:
        if self.range is not None and not check_range(
            self.value, ge=self.range[0], le=self.range[1]
        ):
            lo, hi = (format_si(x, self.UNIT) for x in self.range)
            raise pydantic_error(
                ConfigError(
                    "",
                    format_si(self.value, self.UNIT),
                    self.UNIT,
                    f"inside its range [{lo}, {hi}]",
                    f"value {format_si(self.value, self.UNIT)} is outside its range",
                )
            )
        return self


class Thickness(Entry):
    UNIT: ClassVar[str] = "m"
    value: Annotated[float, quantity("m", ge=0)]
    range: Annotated[tuple[float, float], _range("m")] | None = None


class Radius(Entry):
    UNIT: ClassVar[str] = "m"
    value: Annotated[float, quantity("m", gt=0)]
    range: Annotated[tuple[float, float], _range("m")] | None = None


class Fraction(Entry):
    """A dimensionless factor in (0, 1]."""

    value: Annotated[float, quantity(DIMENSIONLESS, gt=0, le=1)]
    range: Annotated[tuple[float, float], _range(DIMENSIONLESS)] | None = None


class Tortuosity(Entry):
    value: Annotated[float, quantity(DIMENSIONLESS, ge=1)]
    range: Annotated[tuple[float, float], _range(DIMENSIONLESS)] | None = None


class Ratio(Entry):
    value: Annotated[float, quantity(DIMENSIONLESS, gt=0)]
    range: Annotated[tuple[float, float], _range(DIMENSIONLESS)] | None = None


class PHValue(Entry):
    value: Annotated[float, quantity(DIMENSIONLESS, ge=0, le=14)]
    range: Annotated[tuple[float, float], _range(DIMENSIONLESS)] | None = None


class ChargeDensity(Entry):
    UNIT: ClassVar[str] = "mol/m^3"
    value: Annotated[float, quantity("mol/m^3")]
    range: Annotated[tuple[float, float], _range("mol/m^3")] | None = None


class Rate(Entry):
    UNIT: ClassVar[str] = "1/s"
    value: Annotated[float, quantity("1/s", ge=0)]
    range: Annotated[tuple[float, float], _range("1/s")] | None = None


class SpecificResistance(Entry):
    UNIT: ClassVar[str] = "ohm*m^2"
    value: Annotated[float, quantity("ohm*m^2", gt=0)]
    range: Annotated[tuple[float, float], _range("ohm*m^2")] | None = None


class TimeConstant(Entry):
    UNIT: ClassVar[str] = "s"
    value: Annotated[float, quantity("s", gt=0)]
    range: Annotated[tuple[float, float], _range("s")] | None = None


class ChargePerArea(Entry):
    UNIT: ClassVar[str] = "C/m^2"
    value: Annotated[float, quantity("C/m^2", gt=0)]
    range: Annotated[tuple[float, float], _range("C/m^2")] | None = None


class Resistance(Entry):
    UNIT: ClassVar[str] = "ohm"
    value: Annotated[float, quantity("ohm", gt=0)]
    range: Annotated[tuple[float, float], _range("ohm")] | None = None


class Capacitance(Entry):
    UNIT: ClassVar[str] = "F/m^2"
    value: Annotated[float, quantity("F/m^2", gt=0)]
    range: Annotated[tuple[float, float], _range("F/m^2")] | None = None


class Density(Entry):
    UNIT: ClassVar[str] = "1/m^2"
    value: Annotated[float, quantity("1/m^2", ge=0)]
    range: Annotated[tuple[float, float], _range("1/m^2")] | None = None


class Energy(Entry):
    UNIT: ClassVar[str] = "J/mol"
    value: Annotated[float, quantity("J/mol", gt=0)]
    range: Annotated[tuple[float, float], _range("J/mol")] | None = None


class Diffusivity(Entry):
    UNIT: ClassVar[str] = "m^2/s"
    value: Annotated[float, quantity("m^2/s", gt=0)]
    range: Annotated[tuple[float, float], _range("m^2/s")] | None = None


class MolarMass(Entry):
    UNIT: ClassVar[str] = "kg/mol"
    value: Annotated[float, quantity("kg/mol", gt=0)]
    range: Annotated[tuple[float, float], _range("kg/mol")] | None = None


class SourceIn(StrictModel):
    """``[sources.KEY]``: citation text and, where there is one, its address."""

    citation: str = Field(min_length=1)
    url: str = ""


class SiteIn(StrictModel):
    """``[skin.TYPE.sites.SITE]``: what differs between body sites."""

    title: str = ""
    sc_thickness: Thickness
    sweat_duct_density: Density | None = None
    follicle_density: Density | None = None
    epithelium_thickness: Thickness | None = None
    contact_resistance: Resistance | None = None


class SkinValuesIn(StrictModel):
    """``[skin.TYPE.values]``: the skin type's values (SC thickness is per site)."""

    lipid_hindrance_ion: Fraction
    lipid_hindrance_neutral: Fraction
    pore_porosity: Fraction
    pore_tortuosity: Tortuosity
    pore_radius: Radius
    appendage_area_fraction: Fraction
    pore_charge_density: ChargeDensity
    isoelectric_point: PHValue
    pore_acid_pKa: PHValue
    viable_epidermis_thickness: Thickness
    dermis_thickness: Thickness
    tissue_hindrance: Fraction
    dermal_exchange_rate: Rate
    sc_resistance: SpecificResistance
    sc_resistance_min: SpecificResistance
    sc_capacitance: Capacitance
    body_resistance: Resistance | None = None
    impedance_recovery_ratio: Ratio | None = None
    conduction_activation_energy: Energy | None = None
    sc_activation_charge: ChargePerArea | None = None
    sc_recovery_time: TimeConstant | None = None
    hyperaemia_gain: Ratio | None = None
    hyperaemia_charge: ChargePerArea | None = None
    hyperaemia_recovery_time: TimeConstant | None = None


class SkinIn(StrictModel):
    """``[skin.TYPE]``: title, the site the values refer to, values and sites."""

    title: str = ""
    reference_site: str
    values: SkinValuesIn
    sites: dict[str, SiteIn] = Field(min_length=1)

    @model_validator(mode="after")
    def _reference_exists(self) -> SkinIn:
        if self.reference_site not in self.sites:
            raise pydantic_error(
                ConfigError(
                    "",
                    self.reference_site,
                    None,
                    "one of: " + ", ".join(sorted(self.sites)),
                    f"reference_site {self.reference_site!r} is not among the sites",
                )
            )
        return self


class IonIn(StrictModel):
    """``[ions.NAME]``: valence, and a measured free diffusivity (at 25 C) or a molar
    mass (radius by :func:`ionto.simulate.params.physchem.species_radius`), or both.
    ``drug``: the entry's name in src/ionto/plan/data/drugs.toml, if any."""

    charge: Annotated[int, integer()]
    title: str = ""
    drug: str = ""
    diffusivity: Diffusivity | None = None
    molar_mass: MolarMass | None = None

    @model_validator(mode="after")
    def _one_size(self) -> IonIn:
        if self.diffusivity is None and self.molar_mass is None:
            raise pydantic_error(
                ConfigError(
                    "",
                    None,
                    None,
                    "diffusivity or molar_mass",
                    "needs a diffusivity or a molar_mass",
                )
            )
        return self


class ParameterFile(StrictModel):
    """A parameter file: sources, skin types and ions (each table optional)."""

    sources: dict[str, SourceIn] = Field(default_factory=dict)
    skin: dict[str, SkinIn] = Field(default_factory=dict)
    ions: dict[str, IonIn] = Field(default_factory=dict)
