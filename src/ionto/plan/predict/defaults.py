"""Defaults of the simulation-based prediction, as sourced data (``plan/data/prediction.toml``).

What a plan does not say but the simulator needs (skin temperature, tissue and reservoir
composition, reservoir thickness by kind, the body site of the skin parameter sets that
stands in for a plan site, one-compartment pharmacokinetics per drug) is read here with
its unit, source and confidence. A plan overrides the values in its ``[prediction]``
table (:class:`ionto.plan.plan.PredictionIn`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from ionto.core.config import StrictModel, config_error, load_toml
from ionto.plan.predict.tap_water import CARBONATE_SPECIES, Carbonate
from ionto.plan.values import Alternative, Cited, to_si

DEFAULTS_FILE = Path(__file__).resolve().parents[1] / "data" / "prediction.toml"

#: SI unit of every value in ``[defaults]`` (a ``str`` value when the unit is None).
UNITS: dict[str, str | None] = {
    "skin_type": None,
    "temperature": "K",
    "tissue_sodium": "mol/m^3",
    "tissue_pH": "dimensionless",
    "reservoir_pH": "dimensionless",
    "reservoir_diffusivity_factor": "dimensionless",
    "reservoir_salt": "mol/m^3",
    "tap_water_salt": "mol/m^3",
    "tap_water_alkalinity": "mol/m^3",
    "tap_water_pH": "dimensionless",
    "observe": "s",
    "indifferent_salt": "mol/m^3",
}

#: The physiology switches of ``[physiology]`` (scenario ``[skin]`` keys).
PHYSIOLOGY = ("conductance_activation", "hyperaemia", "sc_capacitance")


class Pharmacokinetics(StrictModel):
    """``[pharmacokinetics.DRUG]``: volume of distribution (m^3) and clearance (m^3/s)."""

    volume: Alternative
    clearance: Alternative


class MixedReservoir(StrictModel):
    """``[mixed_reservoir.KIND]``: a bath simulated as a well-mixed reservoir of ``volume``
    (m^3, per electrode) behind an ``unstirred_layer`` (m) of its liquid on the skin."""

    volume: Alternative
    unstirred_layer: Alternative


class CarbonateIn(StrictModel):
    """``[carbonate]``: pK1 and pK2 of the carbonate system and the free diffusivities
    (m^2/s) of its species (tap water's buffer, ionto.plan.predict.tap_water)."""

    pK1: Alternative
    pK2: Alternative
    diffusivity: dict[str, Alternative]


class Switch(Cited):
    """A physiology switch with its justification (``[physiology]``)."""

    value: bool


class DefaultsFile(StrictModel):
    """The root of prediction.toml."""

    schema_version: Literal[1] = 1
    defaults: dict[str, Alternative]
    reservoir_thickness: dict[str, Alternative]
    sites: dict[str, str]
    physiology: dict[str, Switch]
    compliance_voltage: dict[str, Alternative]
    pharmacokinetics: dict[str, Pharmacokinetics] = {}
    mixed_reservoir: dict[str, MixedReservoir] = {}
    carbonate: CarbonateIn


class Defaults:
    """The validated defaults: ``value(name)`` as an SI float (or text) with its source."""

    def __init__(self, data: DefaultsFile) -> None:
        self.data = data

    @classmethod
    def load(cls, path: str | Path = DEFAULTS_FILE) -> Defaults:
        """Read and check a defaults file (ConfigError naming the key on a bad value)."""
        try:
            data = DefaultsFile.model_validate(load_toml(path))
        except ValidationError as exc:
            raise config_error(exc, prefix=str(path)) from None
        missing = sorted(set(UNITS) - set(data.defaults))
        missing += sorted(f"physiology.{k}" for k in set(PHYSIOLOGY) - set(data.physiology))
        missing += ["compliance_voltage.default"] * ("default" not in data.compliance_voltage)
        unknown = sorted(set(data.physiology) - set(PHYSIOLOGY))
        if missing:
            from ionto.core.errors import ConfigError

            raise ConfigError(f"{path}: defaults", message="missing: " + ", ".join(missing))
        if unknown:
            from ionto.core.errors import ConfigError

            raise ConfigError(
                f"{path}: physiology", ", ".join(unknown), None, ", ".join(PHYSIOLOGY)
            )
        out = cls(data)
        for name, unit in UNITS.items():
            if unit is not None:
                out.value(name)
        for kind in data.reservoir_thickness:
            out.thickness(kind)
        for kind in data.mixed_reservoir:
            out.mixed_reservoir(kind)
        out.carbonate()
        for drug in data.pharmacokinetics:
            out.pharmacokinetics(drug)
        for modality in data.compliance_voltage:
            out.compliance_voltage(modality)
        return out

    def entry(self, name: str) -> Alternative:
        """The sourced entry ``name`` of ``[defaults]``."""
        return self.data.defaults[name]

    def value(self, name: str) -> float:
        """A numeric default in SI units."""
        unit = UNITS[name]
        assert unit is not None, name
        return to_si(self.entry(name).value, unit, f"defaults.{name}")

    def text(self, name: str) -> str:
        """A text default (e.g. the skin type)."""
        return str(self.entry(name).value)

    def thickness(self, kind: str) -> float:
        """Reservoir thickness (m) for a reservoir kind."""
        return to_si(self.data.reservoir_thickness[kind].value, "m", f"reservoir_thickness.{kind}")

    def mixed_reservoir(self, kind: str) -> tuple[float, float] | None:
        """(volume m^3, unstirred layer m) of a reservoir kind simulated as well mixed,
        None for a kind simulated as a column of its thickness."""
        entry = self.data.mixed_reservoir.get(kind)
        if entry is None:
            return None
        where = f"mixed_reservoir.{kind}"
        return (
            to_si(entry.volume.value, "m^3", f"{where}.volume"),
            to_si(entry.unstirred_layer.value, "m", f"{where}.unstirred_layer"),
        )

    def carbonate(self) -> Carbonate:
        """The carbonate system (pK1, pK2 dimensionless; diffusivities m^2/s) of
        ``[carbonate]``; ConfigError when a species is missing or a value is out of range."""
        from ionto.core.errors import ConfigError

        entry = self.data.carbonate
        pk = []
        for key in ("pK1", "pK2"):
            value = to_si(getattr(entry, key).value, "dimensionless", f"carbonate.{key}")
            if not 0.0 < value < 14.0:
                raise ConfigError(f"carbonate.{key}", value, None, "0 to 14")
            pk.append(value)
        if pk[0] >= pk[1]:
            raise ConfigError("carbonate.pK2", pk[1], None, f"> pK1 ({pk[0]:g})")
        missing = [s for s in CARBONATE_SPECIES if s not in entry.diffusivity]
        if missing:
            raise ConfigError("carbonate.diffusivity", message="missing: " + ", ".join(missing))
        diffusivity = {}
        for name in CARBONATE_SPECIES:
            where = f"carbonate.diffusivity.{name}"
            value = to_si(entry.diffusivity[name].value, "m^2/s", where)
            if not value > 0.0:
                raise ConfigError(where, value, "m^2/s", "> 0")
            diffusivity[name] = value
        return Carbonate(pk[0], pk[1], diffusivity)

    def skin_site(self, site: str | None, reference: str = "forearm") -> str:
        """The parameter-set body site that stands in for a plan site."""
        if site is None:
            return reference
        return self.data.sites.get(site, reference)

    def compliance_voltage(self, modality: str) -> tuple[float, Alternative]:
        """(V, entry): the current source's compliance voltage for a modality."""
        table = self.data.compliance_voltage
        key = modality if modality in table else "default"
        entry = table[key]
        return to_si(entry.value, "V", f"compliance_voltage.{key}"), entry

    def physiology(self, name: str) -> Switch:
        """A physiology switch of ``[physiology]`` with its justification."""
        return self.data.physiology[name]

    def pharmacokinetics(self, drug: str) -> tuple[float, float] | None:
        """(volume m^3, clearance m^3/s) of a drug, None when not listed."""
        pk = self.data.pharmacokinetics.get(drug)
        if pk is None:
            return None
        where = f"pharmacokinetics.{drug}"
        return (
            to_si(pk.volume.value, "m^3", f"{where}.volume"),
            to_si(pk.clearance.value, "m^3/s", f"{where}.clearance"),
        )


@lru_cache(maxsize=1)
def builtin_defaults() -> Defaults:
    """The built-in defaults (loaded once)."""
    return Defaults.load()
