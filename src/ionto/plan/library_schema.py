"""Schemas of the library files (``src/ionto/plan/data/*.toml`` and user files).

Every model is strict (unknown keys rejected with suggestions) and frozen. Numbers are
:mod:`ionto.plan.values` quantities with unit, source and confidence. The vocabulary
(questionnaire answers, treatment sites, materials, ...) is fixed here so that a typo
in a user file is an error, not a silently ignored key.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from ionto.core.config import StrictModel, pydantic_error
from ionto.core.errors import ConfigError
from ionto.plan.values import (
    Area,
    Cited,
    Concentration,
    Count,
    CountRange,
    Current,
    CurrentRange,
    Dose,
    Duration,
    DurationRange,
    FrequencyRange,
    MolarMass,
    Number,
    Volume,
)

Category = Literal["drug", "ion", "water", "cosmetic", "diagnostic", "analyte"]
SubstancePolarity = Literal["anode", "cathode", "both", "unknown"]
ElectrodePolarity = Literal["anode", "cathode"]
Material = Literal[
    "Ag/AgCl", "carbon", "platinum", "stainless", "aluminium", "rubber-carbon", "unspecified"
]
Shape = Literal[
    "rectangle", "circle", "oval", "pad", "patch", "tray", "roller", "bar", "probe", "disc"
]
Reservoir = Literal["pad", "gel", "cup", "tray", "sponge", "none"]
Purpose = Literal["delivery", "extraction", "treatment", "stimulation"]
Waveform = Literal["dc", "pulsed", "any"]
Level = Literal["absolute", "warning", "precaution", "local"]
Status = Literal[
    "prescription", "pharmacy", "over-the-counter", "restricted", "withdrawn", "not-a-medicine"
]

#: Questionnaire answers (yes / no) screened against contraindications, with the question.
QUESTIONS: dict[str, str] = {
    "pacemaker": "cardiac pacemaker, ICD or other active implant",
    "drug_allergy": "known allergy or sensitivity to the drug (see allergies)",
    "electrical_sensitivity": "known adverse reaction to electric current",
    "broken_skin": "damaged or denuded skin, recent scar or open wound at the site",
    "compromised_skin": "sunburn, cuts or acne at the site",
    "pregnancy": "pregnant",
    "metal_implants": "metal implants in the current path (pins, plates, prostheses)",
    "copper_iud": "copper or metal IUD",
    "epilepsy": "epilepsy",
    "heart_disease": "heart disease or arrhythmia",
    "impaired_sensation": "impaired sensation or polyneuropathy at the site",
    "cannot_communicate": "unable to communicate or cognitive impairment",
    "malignancy": "malignancy or potentially malignant lesion",
    "active_infection": "active infection, inflammation or skin eruption at the site",
    "thrombosis": "DVT, thrombophlebitis, embolism, haemorrhage or haemophilia",
    "recent_fracture_or_surgery": "recent fracture or surgery",
    "radiotherapy_skin": "radiotherapy-treated skin at the site",
    "recent_injectables": "Botox or fillers in the last 2 weeks",
    "jewellery": "jewellery or rings in contact with the treated area",
    "hf_equipment_nearby": "HF surgical, shortwave or microwave equipment nearby",
}
Question = Literal[
    "pacemaker",
    "drug_allergy",
    "electrical_sensitivity",
    "broken_skin",
    "compromised_skin",
    "pregnancy",
    "metal_implants",
    "copper_iud",
    "epilepsy",
    "heart_disease",
    "impaired_sensation",
    "cannot_communicate",
    "malignancy",
    "active_infection",
    "thrombosis",
    "recent_fracture_or_surgery",
    "radiotherapy_skin",
    "recent_injectables",
    "jewellery",
    "hf_equipment_nearby",
]

#: Treatment sites a plan may name.
SITES: tuple[str, ...] = (
    "face", "forehead", "temple", "eyes", "head", "scalp", "neck-front", "neck-back",
    "chest", "upper-back", "abdomen", "lower-back", "shoulder", "upper-arm", "elbow",
    "forearm", "wrist", "hand", "palms", "fingers", "axillae", "hip", "thigh", "knee",
    "calf", "ankle", "heel", "foot", "soles",
)  # fmt: skip
Site = Literal[
    "face", "forehead", "temple", "eyes", "head", "scalp", "neck-front", "neck-back",
    "chest", "upper-back", "abdomen", "lower-back", "shoulder", "upper-arm", "elbow",
    "forearm", "wrist", "hand", "palms", "fingers", "axillae", "hip", "thigh", "knee",
    "calf", "ankle", "heel", "foot", "soles",
]  # fmt: skip

_NAME = re.compile(r"[a-z0-9][a-z0-9.+-]*")


def _name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise pydantic_error(
            ConfigError(
                "",
                value,
                None,
                "lower-case letters, digits, '-', '.' or '+', starting with a letter or digit",
                f"{value!r} is not a valid entry name",
            )
        )
    return value


Name = Annotated[str, AfterValidator(_name)]


class Source(StrictModel):
    """``[sources.KEY]``: the citation text and, when there is one, its address."""

    citation: str = Field(min_length=1)
    url: str = ""


class Charges(Cited):
    """Charge number(s) of the migrating ion at the pH of use, e.g. ``[1]`` or ``[1, -1]``."""

    value: list[int] = Field(min_length=1)


class Polarity(Cited):
    """Electrode the substance goes under: anode, cathode, both or unknown."""

    value: SubstancePolarity


class ElectrodeSide(Cited):
    """A required polarity of the active electrode."""

    value: ElectrodePolarity


class Flag(Cited):
    """A yes/no fact with its source."""

    value: bool


class Prescription(Cited):
    """Prescription status of a substance in one jurisdiction (P20)."""

    jurisdiction: str = Field(min_length=1)
    status: Status
    detail: str = ""


class Drug(StrictModel):
    """``[[drug]]``: a drug, ion or other substance placed under an electrode."""

    name: Name
    title: str
    category: Category
    active_ion: str
    counter_ion: str | None = None
    charge: Charges
    pka: list[Number] = []
    formula: str | None = None
    molecular_weight: MolarMass | None = None
    concentration: Concentration | None = None
    polarity: Polarity
    indications: list[str] = []
    prescription: list[Prescription] = []
    references: list[str] = []
    notes: str = ""


class Electrode(StrictModel):
    """``[[electrode]]``: an electrode product or generic type."""

    name: Name
    title: str
    manufacturer: str = ""
    material: Material
    shape: Shape
    reservoir: Reservoir
    buffered: Flag
    self_adhesive: bool | None = None
    area: Area | None = None
    capacity: Dose | None = None
    reservoir_volume: Volume | None = None
    wear_time: Duration | None = None
    notes: str = ""


class Contraindication(Cited):
    """One contraindication: its ``level`` for this modality."""

    level: Level


class Maintenance(StrictModel):
    """Sessions after the initial series: ``every`` (a duration) or ``per_month``."""

    every: Duration | None = None
    per_month: Count | None = None
    sessions: Count
    older_age: Duration | None = None
    older_per_month: Count | None = None


class CourseRules(StrictModel):
    """``[modality.course]``: how sessions are spaced (see :mod:`ionto.plan.course`)."""

    pattern: Literal["weekly", "interval"]
    sessions: Count
    per_week: Count | None = None
    per_week_range: CountRange | None = None
    interval: Duration | None = None
    interval_range: DurationRange | None = None
    min_gap: Duration | None = None
    max_per_week: Count | None = None
    maintenance: Maintenance | None = None


class Modality(StrictModel):
    """``[[modality]]``: a kind of treatment with its limits and rules."""

    name: Name
    title: str
    purpose: Purpose
    waveform: Waveform
    substances: list[Category]
    substance_required: bool
    polarity_required: bool
    density_rule: bool
    ramp_required: bool
    active_polarity: ElectrodeSide | None = None
    current_max: Current
    current_typical: CurrentRange | None = None
    frequency_typical: FrequencyRange | None = None
    pulse_width_typical: DurationRange | None = None
    dose_target: Dose | None = None
    dose_max: Dose | None = None
    ramp_min: Duration | None = None
    session: DurationRange | None = None
    min_age: Duration | None = None
    course: CourseRules | None = None
    contraindications: dict[Question, Contraindication] = {}
    sites: dict[Site, Contraindication] = {}
    contraindications_from: str | None = None
    notes: str = ""


class LibraryFile(StrictModel):
    """A library file: any of sources, drugs, electrodes and modalities."""

    schema_version: Literal[1] = 1
    sources: dict[str, Source] = {}
    drug: list[Drug] = []
    electrode: list[Electrode] = []
    modality: list[Modality] = []
