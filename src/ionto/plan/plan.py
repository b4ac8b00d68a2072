"""Plan files: one treatment, its library entries by name and its protocol as text.

A plan TOML file (schema_version 1) names a ``modality``, the ``drug`` (substance) under
the active electrode, the treatment ``site``, the ``polarity`` of the active electrode,
the two electrodes with their areas, the ``protocol`` text, the patient's questionnaire
answers, selected rule/library ``options``, rule ``parameters`` overridden by the
clinic, and an optional ``[course]``. See docs/planning.md for every key.

:func:`load_plan` validates the file, resolves the names against the library (built-in
plus ``libraries = [...]`` files, relative to the plan file) and parses the protocol;
every problem is a :class:`ionto.core.errors.ConfigError` naming the key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError

from ionto.core.config import StrictModel, config_error, load_toml, quantity
from ionto.core.errors import ConfigError
from ionto.plan.library import Library, builtin_library
from ionto.plan.library_schema import Drug, Electrode, Modality, Site
from ionto.plan.protocol import Protocol

Years = Annotated[float, quantity("dimensionless", ge=0, le=130)]
AreaIn = Annotated[float, quantity("m^2", gt=0)]
DurationIn = Annotated[float, quantity("s", gt=0)]
Count = Annotated[int, Field(ge=0)]
Role = Literal["active", "indifferent"]


class ElectrodeIn(StrictModel):
    """``[electrodes.active]`` / ``[electrodes.indifferent]``: library name, area (m^2)
    and, for the indifferent electrode, its body site (the active one is the plan's
    ``site``)."""

    type: str
    area: AreaIn | None = None
    site: Site | None = None


class ElectrodesIn(StrictModel):
    """``[electrodes]``: the active (treatment) and indifferent (return) electrodes."""

    active: ElectrodeIn
    indifferent: ElectrodeIn


class Patient(StrictModel):
    """``[patient]``: questionnaire answers; a missing answer means "not asked".

    age in years; allergies lists library drug names (or free text).
    """

    age: Years | None = None
    allergies: list[str] | None = None
    pacemaker: bool | None = None
    drug_allergy: bool | None = None
    electrical_sensitivity: bool | None = None
    broken_skin: bool | None = None
    compromised_skin: bool | None = None
    pregnancy: bool | None = None
    metal_implants: bool | None = None
    copper_iud: bool | None = None
    epilepsy: bool | None = None
    heart_disease: bool | None = None
    impaired_sensation: bool | None = None
    cannot_communicate: bool | None = None
    malignancy: bool | None = None
    active_infection: bool | None = None
    thrombosis: bool | None = None
    recent_fracture_or_surgery: bool | None = None
    radiotherapy_skin: bool | None = None
    recent_injectables: bool | None = None
    jewellery: bool | None = None
    hf_equipment_nearby: bool | None = None

    def answer(self, question: str) -> bool | None:
        """The answer to ``question`` (a key of library_schema.QUESTIONS), None if unanswered."""
        value = getattr(self, question)
        assert value is None or isinstance(value, bool)
        return value


class MoveIn(StrictModel):
    """``{ from = 2026-03-04, to = 2026-03-05 }``: move one session."""

    from_: dt.date = Field(alias="from")
    to: dt.date


class CourseIn(StrictModel):
    """``[course]``: schedule settings and practitioner overrides (see ionto.plan.course)."""

    start: dt.date
    sessions: Count | None = None
    per_week: Annotated[int, Field(ge=1, le=7)] | None = None
    every: DurationIn | None = None
    maintenance_sessions: Count | None = None
    skip: list[dt.date] = []
    move: list[MoveIn] = []
    add: list[dt.date] = []
    time: dt.time = dt.time(9, 0)
    length: DurationIn = 1800.0


class PredictionIn(StrictModel):
    """``[prediction]``: settings of the simulation-based prediction (ionto.plan.predict)
    overriding the defaults of ``plan/data/prediction.toml``. skin_type and skin_site
    name a skin of the parameter sets (docs/parameters.md); temperature K; reservoir
    thickness m; observe: simulated time after the protocol (s); volume (m^3) and
    clearance (m^3/s) of the one-compartment plasma model; compliance_voltage (V) of the
    current source; tap_water_alkalinity (mol/m^3, 0 to 1000: NaHCO3 dissolves to
    about 1.1 M) the carbonate alkalinity of a tap-water plan's water (baking soda raises
    it); conductance_activation, hyperaemia and sc_capacitance switch the physiology of
    the scenario's ``[skin]`` (defaults in ``[physiology]``)."""

    skin_type: str | None = None
    skin_site: str | None = None
    temperature: Annotated[float, quantity("K", gt=250, lt=330)] | None = None
    reservoir_thickness: Annotated[float, quantity("m", gt=0, le=0.05)] | None = None
    reservoir_pH: Annotated[float, quantity("dimensionless", ge=0, le=14)] | None = None
    observe: Annotated[float, quantity("s", ge=0, le=86400)] | None = None
    volume: Annotated[float, quantity("m^3", gt=0)] | None = None
    clearance: Annotated[float, quantity("m^3/s", gt=0)] | None = None
    compliance_voltage: Annotated[float, quantity("V", gt=0, le=500)] | None = None
    tap_water_alkalinity: Annotated[float, quantity("mol/m^3", ge=0, le=1000)] | None = None
    conductance_activation: bool | None = None
    hyperaemia: bool | None = None
    sc_capacitance: bool | None = None


class PlanIn(StrictModel):
    """The root of a plan file (schema_version 1)."""

    schema_version: Literal[1] = 1
    title: str = ""
    modality: str
    drug: str | None = None
    site: Site | None = None
    polarity: Literal["anode", "cathode"] | None = None
    jurisdiction: str | None = None
    protocol: str
    libraries: list[str] = []
    electrodes: ElectrodesIn
    patient: Patient = Field(default_factory=Patient)
    options: dict[str, str] = {}
    parameters: dict[str, dict[str, str]] = {}
    course: CourseIn | None = None
    prediction: PredictionIn = Field(default_factory=PredictionIn)


@dataclass(frozen=True)
class ElectrodeUse:
    """One electrode of a plan: its role, library entry and contact area (m^2)."""

    role: Role
    entry: Electrode
    area: float

    @property
    def area_cm2(self) -> float:
        """Area in cm^2 (for messages)."""
        return self.area * 1e4


@dataclass(frozen=True)
class Plan:
    """A validated plan with its library entries resolved and its protocol parsed."""

    title: str
    modality: Modality
    drug: Drug | None
    site: str | None
    polarity: Literal["anode", "cathode"] | None
    jurisdiction: str | None
    protocol: Protocol
    active: ElectrodeUse
    indifferent: ElectrodeUse
    patient: Patient
    library: Library
    options: Mapping[str, str] = field(default_factory=dict)
    parameters: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    course: CourseIn | None = None
    source: str = "<plan>"
    prediction: PredictionIn = field(default_factory=PredictionIn)
    indifferent_site: str | None = None

    @property
    def electrodes(self) -> tuple[ElectrodeUse, ElectrodeUse]:
        """(active, indifferent)."""
        return (self.active, self.indifferent)


def _electrode(library: Library, role: Role, spec: ElectrodeIn, prefix: str) -> ElectrodeUse:
    entry = library.electrode(spec.type, f"{prefix}electrodes.{role}.type")
    if spec.area is not None:
        return ElectrodeUse(role, entry, spec.area)
    if entry.area is None:
        raise ConfigError(
            f"{prefix}electrodes.{role}.area",
            None,
            "m^2",
            '> 0, e.g. "10 cm^2"',
            f"electrode {entry.name!r} has no area in the library; give the contact area",
        )
    return ElectrodeUse(role, entry, entry.area.si)


def plan_from_dict(
    data: Mapping[str, Any],
    library: Library | None = None,
    source: str = "<plan>",
    base: Path | None = None,
    extra_libraries: Iterable[str | Path] = (),
) -> Plan:
    """Validate parsed TOML and resolve it into a :class:`Plan`. Raises ConfigError.

    ``library``: the library to resolve names in (default: built-in plus the plan's
    ``libraries`` files, relative to ``base``, plus ``extra_libraries``).
    """
    prefix = f"{source}: " if source else ""
    try:
        spec = PlanIn.model_validate(data)
    except ValidationError as exc:
        raise config_error(exc, prefix=source) from None
    if library is None:
        files = [str((base or Path.cwd()) / p) for p in spec.libraries]
        files += [str(p) for p in extra_libraries]
        library = Library.load(files) if files else builtin_library()
    modality = library.modality(spec.modality, f"{prefix}modality")
    drug = library.drug(spec.drug, f"{prefix}drug") if spec.drug is not None else None
    protocol = Protocol.parse(spec.protocol, source=f"{prefix}protocol")  # ProtocolSyntaxError
    active = _electrode(library, "active", spec.electrodes.active, prefix)
    indifferent = _electrode(library, "indifferent", spec.electrodes.indifferent, prefix)
    if spec.electrodes.active.site is not None:
        raise ConfigError(
            f"{prefix}electrodes.active.site",
            spec.electrodes.active.site,
            None,
            "not given: the active electrode's site is the plan's `site`",
        )
    return Plan(
        title=spec.title,
        modality=modality,
        drug=drug,
        site=spec.site,
        polarity=spec.polarity,
        jurisdiction=spec.jurisdiction,
        protocol=protocol,
        active=active,
        indifferent=indifferent,
        patient=spec.patient,
        library=library,
        options=dict(spec.options),
        parameters={k: dict(v) for k, v in spec.parameters.items()},
        course=spec.course,
        source=source,
        prediction=spec.prediction,
        indifferent_site=spec.electrodes.indifferent.site,
    )


def load_plan(path: str | Path, extra_libraries: Iterable[str | Path] = ()) -> Plan:
    """Read a plan TOML file (see :func:`plan_from_dict`)."""
    p = Path(path)
    return plan_from_dict(
        load_toml(p), source=str(path), base=p.parent, extra_libraries=extra_libraries
    )
