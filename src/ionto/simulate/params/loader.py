"""Parameter sets: the built-in data files plus optional user files, validated alike.

``ParameterSet.builtin()`` reads ``data/sources.toml``, ``data/skin.toml`` and
``data/ions.toml``; ``ParameterSet.load(*paths)`` adds user files on top (a user entry
replaces the built-in entry of the same name, skin types and sites as a whole). Every
source key used must be defined; everything is checked before anything is used.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ionto.core.config import config_error, load_toml, suggest
from ionto.core.errors import ConfigError
from ionto.core.units import format_si
from ionto.simulate.params.physchem import (
    T37,
    diffusivity_at,
    species_radius,
    stokes_einstein_diffusivity,
    stokes_einstein_radius,
)
from ionto.simulate.params.schema import Entry, IonIn, ParameterFile, SkinIn
from ionto.simulate.params.skin import Provenance, SkinParameters, Source

DATA = Path(__file__).resolve().parent / "data"
BUILTIN_FILES = ("sources.toml", "skin.toml", "ions.toml")


@dataclass(frozen=True)
class IonParameters:
    """A dissolved species at a temperature: valence (-), free diffusivity (m^2/s),
    hydrodynamic radius (m), molar mass (kg/mol or None) and the drugs.toml name."""

    name: str
    charge: int
    diffusivity: float
    radius: float
    molar_mass: float | None
    drug: str


@dataclass(frozen=True)
class Hit:
    """A search result: the dotted path of a value, its text, source key and confidence."""

    path: str
    text: str
    source: str
    confidence: str


def parse_file(data: Mapping[str, Any], name: str) -> ParameterFile:
    """Validate a parsed parameter file; ConfigError naming ``name`` and the field."""
    try:
        return ParameterFile.model_validate(data)
    except ValidationError as exc:
        err = config_error(exc)
        raise ConfigError(
            f"{name}: {err.field}", err.value, err.unit, err.allowed, err.message
        ) from None


class ParameterSet:
    """Validated sources, skin types and ions; see the module docstring."""

    def __init__(self, data: ParameterFile, files: tuple[str, ...] = ()) -> None:
        self.sources = {k: Source(k, s.citation, s.url) for k, s in data.sources.items()}
        self.skin: dict[str, SkinIn] = dict(data.skin)
        self.ions: dict[str, IonIn] = dict(data.ions)
        self.files = files
        for path, entry in self._entries():
            if entry.source not in self.sources:
                raise ConfigError(
                    f"{files[-1] if files else '<data>'}: {path}.source",
                    entry.source,
                    None,
                    "a key of [sources]",
                    f"source {entry.source!r} is not defined{suggest(entry.source, self.sources)}",
                )

    @classmethod
    def builtin(cls) -> ParameterSet:
        """The parameter set shipped with ionto."""
        return cls.load()

    @classmethod
    def load(cls, *paths: str | Path) -> ParameterSet:
        """The built-in files, then each user file on top, entry by entry (a user value,
        site or ion replaces the built-in one of the same name; new ones are added). The
        merged data is validated after each user file, so errors name that file."""
        merged: dict[str, Any] = {}
        names = []
        for name in BUILTIN_FILES:
            raw = load_toml(DATA / name)
            parse_file(raw, name)
            _merge(merged, raw)
            names.append(name)
        data = parse_file(merged, "built-in data")
        for path in paths:
            _merge(merged, load_toml(path))
            names.append(str(path))
            data = parse_file(merged, str(path))
        return cls(data, tuple(names))

    # ------------------------------------------------------------------ skin

    def skin_types(self) -> list[str]:
        return sorted(self.skin)

    def sites(self, skin_type: str) -> list[str]:
        return sorted(self._skin(skin_type).sites)

    def load_skin(self, skin_type: str, site: str | None = None) -> SkinParameters:
        """SI parameters of ``skin_type`` at ``site`` (default: its reference site)."""
        skin = self._skin(skin_type)
        site = skin.reference_site if site is None else site
        if site not in skin.sites:
            raise ConfigError(
                "skin.site",
                site,
                None,
                "one of: " + ", ".join(sorted(skin.sites)),
                f"{site!r} is not a site of {skin_type!r}{suggest(site, skin.sites)}",
            )
        here, ref = skin.sites[site], skin.sites[skin.reference_site]
        entries: dict[str, Entry] = {k: v for k, v in skin.values if isinstance(v, Entry)}
        entries.update({k: v for k, v in here if isinstance(v, Entry)})
        factor = self._density_factor(skin_type, site, here, ref, skin.reference_site)
        values = {k: e.value for k, e in entries.items()}
        values["pore_porosity"] = entries["pore_porosity"].value * factor
        prov = {k: self._provenance(e) for k, e in entries.items()}
        return SkinParameters(
            skin_type=skin_type, site=site, pore_density_factor=factor, provenance=prov, **values
        )

    def _density_factor(
        self, skin_type: str, site: str, here: Any, ref: Any, ref_name: str
    ) -> float:
        if site == ref_name:
            return 1.0
        if here.sc_thickness.value == 0:
            return 0.0

        def total(s: Any) -> float | None:
            if s.sweat_duct_density is None or s.follicle_density is None:
                return None
            return float(s.sweat_duct_density.value + s.follicle_density.value)

        a, b = total(here), total(ref)
        if a is None or b is None or b == 0:
            raise ConfigError(
                f"skin.{skin_type}.sites.{site}",
                None,
                None,
                "sweat_duct_density and follicle_density at this site and the reference site",
                f"pore density of {site!r} relative to {ref_name!r} is unknown",
            )
        return a / b

    def _skin(self, skin_type: str) -> SkinIn:
        try:
            return self.skin[skin_type]
        except KeyError:
            raise ConfigError(
                "skin.type",
                skin_type,
                None,
                "one of: " + ", ".join(sorted(self.skin)),
                f"{skin_type!r} is not a skin type{suggest(skin_type, self.skin)}",
            ) from None

    def _provenance(self, e: Entry) -> Provenance:
        return Provenance(self.sources[e.source], e.confidence, e.UNIT, e.range, e.note)

    # ------------------------------------------------------------------ ions

    def ion(self, name: str, temperature: float = T37) -> IonParameters:
        """Physical chemistry of ion ``name`` at ``temperature`` (K)."""
        try:
            ion = self.ions[name]
        except KeyError:
            raise ConfigError(
                "ion",
                name,
                None,
                "a key of [ions]",
                f"{name!r} is not an ion{suggest(name, self.ions)}",
            ) from None
        mass = ion.molar_mass.value if ion.molar_mass else None
        if ion.diffusivity is not None:
            d = diffusivity_at(ion.diffusivity.value, temperature)
            radius = stokes_einstein_radius(ion.diffusivity.value)
        else:
            assert mass is not None
            radius = species_radius(mass)
            d = stokes_einstein_diffusivity(radius, temperature)
        return IonParameters(name, ion.charge, d, radius, mass, ion.drug)

    # ------------------------------------------------------------------ provenance

    def _entries(self) -> Iterator[tuple[str, Entry]]:
        for t, skin in self.skin.items():
            for k, e in skin.values:
                if isinstance(e, Entry):
                    yield f"skin.{t}.values.{k}", e
            for s, site in skin.sites.items():
                for k, e in site:
                    if isinstance(e, Entry):
                        yield f"skin.{t}.sites.{s}.{k}", e
        for n, ion in self.ions.items():
            for k, e in ion:
                if isinstance(e, Entry):
                    yield f"ions.{n}.{k}", e

    def flat(self) -> dict[str, str]:
        """Every value as ``path -> "value unit [low, high] (source, confidence)"``."""
        out = {}
        for path, e in self._entries():
            text = format_si(e.value, e.UNIT)
            if e.range is not None:
                text += f" [{format_si(e.range[0], e.UNIT)}, {format_si(e.range[1], e.UNIT)}]"
            out[path] = f"{text} ({e.source}, {e.confidence})"
        for t, skin in self.skin.items():
            out[f"skin.{t}.reference_site"] = skin.reference_site
        for n, ion in self.ions.items():
            out[f"ions.{n}.charge"] = str(ion.charge)
        return out

    def search(self, text: str) -> list[Hit]:
        """Values whose path, note, source key or citation contains ``text`` (any case)."""
        needle = text.lower()
        hits = []
        for path, e in self._entries():
            src = self.sources[e.source]
            hay = " ".join((path, e.note, e.source, src.citation, src.url)).lower()
            if needle in hay:
                hits.append(Hit(path, format_si(e.value, e.UNIT), e.source, e.confidence))
        return hits

    def diff(self, other: ParameterSet) -> dict[str, tuple[str | None, str | None]]:
        """``path -> (this, other)`` for every value that differs or exists on one side."""
        a, b = self.flat(), other.flat()
        return {
            k: (a.get(k), b.get(k)) for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)
        }

    @property
    def content_hash(self) -> str:
        """SHA-256 of the validated content (values in SI, sources), for provenance."""
        payload = {
            "values": self.flat(),
            "sources": {k: [s.citation, s.url] for k, s in sorted(self.sources.items())},
            "ions": {k: i.drug for k, i in sorted(self.ions.items())},
        }
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()


def _merge(into: dict[str, Any], new: Mapping[str, Any]) -> None:
    """Deep-merge parsed TOML; value entries (tables with a ``value``) are leaves."""
    for key, value in new.items():
        old = into.get(key)
        if isinstance(value, Mapping) and isinstance(old, dict) and "value" not in value:
            _merge(old, value)
        else:
            into[key] = copy.deepcopy(value)


def load_skin(skin_type: str, site: str | None = None) -> SkinParameters:
    """Built-in parameters of ``skin_type`` at ``site`` (see :class:`ParameterSet`)."""
    return _builtin().load_skin(skin_type, site)


_CACHE: list[ParameterSet] = []


def _builtin() -> ParameterSet:
    if not _CACHE:
        _CACHE.append(ParameterSet.builtin())
    return _CACHE[0]
