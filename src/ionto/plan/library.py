"""The planning library: drugs, electrodes, modalities and their sources, as data.

The built-in entries live in ``src/ionto/plan/data/`` (sources, drugs, electrodes and
modalities ``.toml``); users add their own in TOML files of the same format
(:class:`ionto.plan.library_schema.LibraryFile`) passed to :meth:`Library.load`.
Every file is validated strictly (unknown keys, units, ranges); a name defined twice
(in any two files) is an error naming both files; every source key used must be
defined in some file; ``contraindications_from`` must name a modality. Errors are
:class:`ionto.core.errors.ConfigError` with the file name in the field path, e.g.
``my-drugs.toml: drug[0].polarity.value: ...``.

>>> lib = Library.load()
>>> lib.drug("lidocaine").polarity.value
'anode'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import ValidationError

from ionto.core.config import config_error, load_toml, suggest
from ionto.core.errors import ConfigError
from ionto.plan.library_schema import Drug, Electrode, LibraryFile, Modality, Source
from ionto.plan.values import walk_cited

DATA = Path(__file__).resolve().parent / "data"
BUILTIN_FILES = tuple(
    DATA / f"{name}.toml" for name in ("sources", "drugs", "electrodes", "modalities")
)
Kind = Literal["drug", "electrode", "modality", "source"]
KINDS: tuple[Kind, ...] = ("drug", "electrode", "modality", "source")
T = TypeVar("T")


def read_library_file(path: str | Path) -> LibraryFile:
    """Load and validate one library file (ConfigError with the file name as prefix)."""
    data = load_toml(path)
    try:
        return LibraryFile.model_validate(data)
    except ValidationError as exc:
        raise config_error(exc, prefix=str(path)) from None


@dataclass(frozen=True)
class Library:
    """All entries by name, and the file each came from (``origin[(kind, name)]``)."""

    sources: dict[str, Source] = field(default_factory=dict)
    drugs: dict[str, Drug] = field(default_factory=dict)
    electrodes: dict[str, Electrode] = field(default_factory=dict)
    modalities: dict[str, Modality] = field(default_factory=dict)
    origin: dict[tuple[str, str], str] = field(default_factory=dict)

    # ---------------------------------------------------------------- loading

    @classmethod
    def load(cls, extra_paths: Iterable[str | Path] = (), *, builtin: bool = True) -> Library:
        """The built-in library plus the entries of ``extra_paths`` (validated alike)."""
        paths = [str(p) for p in extra_paths]
        files = [(str(p), _builtin(p)) for p in BUILTIN_FILES] if builtin else []
        files += [(p, read_library_file(p)) for p in paths]
        return cls.from_files(files)

    @classmethod
    def from_files(cls, files: Iterable[tuple[str, LibraryFile]]) -> Library:
        """Merge validated files; ConfigError on duplicates or broken references."""
        lib = cls()
        for where, content in files:
            for key, source in content.sources.items():
                lib._add("source", key, source, lib.sources, where, f"sources.{key}")
            for k, drug in enumerate(content.drug):
                lib._add("drug", drug.name, drug, lib.drugs, where, f"drug[{k}].name")
            for k, electrode in enumerate(content.electrode):
                lib._add(
                    "electrode",
                    electrode.name,
                    electrode,
                    lib.electrodes,
                    where,
                    f"electrode[{k}].name",
                )
            for k, modality in enumerate(content.modality):
                lib._add(
                    "modality",
                    modality.name,
                    modality,
                    lib.modalities,
                    where,
                    f"modality[{k}].name",
                )
        lib._check_references(files)
        return lib

    def _add(
        self, kind: str, name: str, entry: T, table: dict[str, T], where: str, path: str
    ) -> None:
        if name in table:
            first = self.origin[(kind, name)]
            raise ConfigError(
                f"{where}: {path}",
                name,
                None,
                "a name not used by any other entry",
                f"{kind} {name!r} is already defined in {first}",
            )
        table[name] = entry
        self.origin[(kind, name)] = where

    def _check_references(self, files: Iterable[tuple[str, LibraryFile]]) -> None:
        for where, content in files:
            entries: list[tuple[str, object]] = [
                *((f"drug[{k}]", d) for k, d in enumerate(content.drug)),
                *((f"electrode[{k}]", e) for k, e in enumerate(content.electrode)),
                *((f"modality[{k}]", m) for k, m in enumerate(content.modality)),
            ]
            for prefix, entry in entries:
                assert isinstance(entry, (Drug, Electrode, Modality))
                for path, cited in walk_cited(entry, prefix):
                    for key in cited.source:
                        self._require_source(key, f"{where}: {path}.source")
                if isinstance(entry, Drug):
                    for k, key in enumerate(entry.references):
                        self._require_source(key, f"{where}: {prefix}.references[{k}]")
                parent = entry.contraindications_from if isinstance(entry, Modality) else None
                if parent is not None and parent not in self.modalities:
                    raise ConfigError(
                        f"{where}: {prefix}.contraindications_from",
                        parent,
                        None,
                        "a modality name",
                        f"no modality {parent!r}{suggest(parent, self.modalities)}",
                    )

    def _require_source(self, key: str, field: str) -> None:
        if key not in self.sources:
            raise ConfigError(
                field,
                key,
                None,
                "a key of [sources] in a library file",
                f"unknown source {key!r}{suggest(key, self.sources)}",
            )

    # ---------------------------------------------------------------- lookups

    def table(self, kind: str) -> Mapping[str, object]:
        """The entries of one kind (drug, electrode, modality, source) by name."""
        tables: dict[str, Mapping[str, object]] = {
            "drug": self.drugs,
            "electrode": self.electrodes,
            "modality": self.modalities,
            "source": self.sources,
        }
        return tables[kind]

    def _get(self, kind: Kind, table: Mapping[str, T], name: str, field: str) -> T:
        if name not in table:
            raise ConfigError(
                field,
                name,
                None,
                f"a {kind} in the library (ionto plan library list)",
                f"no {kind} called {name!r}{suggest(name, table)}",
            )
        return table[name]

    def drug(self, name: str, field: str = "drug") -> Drug:
        """The drug called ``name``; ConfigError with close matches if there is none."""
        return self._get("drug", self.drugs, name, field)

    def electrode(self, name: str, field: str = "electrode") -> Electrode:
        """The electrode called ``name``."""
        return self._get("electrode", self.electrodes, name, field)

    def modality(self, name: str, field: str = "modality") -> Modality:
        """The modality called ``name``."""
        return self._get("modality", self.modalities, name, field)

    def source(self, key: str) -> Source:
        """The source called ``key``."""
        return self._get("source", self.sources, key, "source")

    def citation(self, keys: Iterable[str]) -> str:
        """Citation texts of ``keys`` joined with ``; `` (unknown keys shown as they are)."""
        return "; ".join(self.sources[k].citation if k in self.sources else k for k in keys)

    def contraindications(self, modality: Modality) -> Modality:
        """The modality whose contraindication tables apply to ``modality``."""
        if modality.contraindications_from:
            return self.modality(modality.contraindications_from)
        return modality


@cache
def _builtin(path: Path) -> LibraryFile:
    return read_library_file(path)


@lru_cache(maxsize=1)
def builtin_library() -> Library:
    """The built-in library (loaded once)."""
    return Library.load()
