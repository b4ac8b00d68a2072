"""The electrode-skin load of the simulated source, built from the physiology parameter sets.

Circuit (every electrode-skin contact is one *interface*)::

    I --[ R_series ]--[ R_sc,1 || C_sc,1 ]--[ R_sc,2 || C_sc,2 ]--

* ``R_series`` (ohm): internal body resistance, ``body_resistance`` of the skin type
  (human: 500 ohm, 300-1000 ohm, clinical.md section 6, [C]).
* ``R_sc`` (ohm*cm^2, divided by the contact area): the stratum corneum. At rest it is the
  physiology model's specific resistance at the body site,
  :func:`ionto.simulate.params.pores.sc_resistance` (pore pathway in 150 mM NaCl at 37 C,
  from the site's SC thickness and pore density: human forearm about 30 kohm*cm^2,
  inside Rosell 1988's 10 kohm - 1 Mohm*cm^2). Under current it falls toward
  ``sc_resistance_min`` (0.8 kohm*cm^2, CCAC study, [C]).
* ``C_sc`` (F/cm^2 times the area): ``sc_capacitance`` (0.03 uF/cm^2, [U]).

The fall and recovery is one state per interface, the *activation* ``x`` in [0, 1]: the
share of the current-induced conductance that is switched on. Conductances of parallel
pathways add, so ``1/R_sc = x/R_min + (1 - x)/R_rest``, and

    dx/dt = (|j| / q_a) (1 - x) - x / tau

with ``j`` the current density (A/cm^2) under that contact, ``q_a`` the activation charge
density and ``tau`` the recovery time constant: the skin set's ``sc_activation_charge``
and ``sc_recovery_time``, the same values (and the same equation) as the simulator's
conductance activation (``[skin] conductance_activation``; q_a [U], tau [I]). With the
current off, ``x`` relaxes with ``tau`` and the resistance climbs back toward its resting
value (Curdy 2000: about 3x within 30 min).
Each step of constant current is integrated exactly.

Units in names: ohm, ohm*cm^2, F/cm^2, C/cm^2, s.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, ValidationError

from ionto.core.config import StrictModel, config_error, load_toml, quantity
from ionto.core.errors import ConfigError

if TYPE_CHECKING:
    from ionto.simulate.params.loader import ParameterSet

DATA = Path(__file__).resolve().parents[1] / "data" / "skin_load.toml"
CM2 = 1e-4  # m^2 per cm^2

#: Treatment sites of a plan (ionto.plan.library_schema.SITES) -> site of the physiology
#: parameter sets. Sites without their own parameters use the skin type's reference site,
#: and the load description says so.
SITE_PARAMS: dict[str, str] = {
    "forearm": "forearm",
    "wrist": "forearm",
    "upper-arm": "forearm",
    "elbow": "forearm",
    "palms": "palm",
    "hand": "palm",
    "fingers": "palm",
    "soles": "sole",
    "foot": "sole",
    "heel": "sole",
    "axillae": "axilla",
    "face": "face",
    "forehead": "face",
    "temple": "face",
    "knee": "knee",
}


# ------------------------------------------------------------------ data file


class _Entry(StrictModel):
    source: str = Field(min_length=1)
    confidence: Literal["C", "D", "I", "U"]
    range: tuple[str, str] | None = None
    note: str = ""


class _Resistance(_Entry):
    value: Annotated[float, quantity("ohm", gt=0)]


class _SpecificResistance(_Entry):
    value: Annotated[float, quantity("ohm*m^2", gt=0)]


class _Values(StrictModel):
    sweat_short_resistance: _Resistance
    dry_resistance: _SpecificResistance


class _Source(StrictModel):
    citation: str = Field(min_length=1)
    url: str = ""


class _LoadFile(StrictModel):
    schema_version: Literal[1] = 1
    sources: dict[str, _Source] = {}
    values: _Values


@dataclass(frozen=True)
class LoadData:
    """The values of ``run/data/skin_load.toml`` in SI (ohm, ohm*m^2) with
    ``provenance``: name -> "source, confidence"."""

    short_ohm: float
    dry_ohm_m2: float
    provenance: Mapping[str, str]


@cache
def load_data(path: Path = DATA) -> LoadData:
    """Read and validate the load data file; every source key must be defined here or in
    the physiology sources (ConfigError naming the field otherwise)."""
    from ionto.simulate.params.loader import ParameterSet

    try:
        spec = _LoadFile.model_validate(load_toml(path))
    except ValidationError as exc:
        raise config_error(exc, prefix=str(path)) from None
    known = set(spec.sources) | set(ParameterSet.builtin().sources)
    prov: dict[str, str] = {}
    for name, entry in spec.values:
        if entry.source not in known:
            raise ConfigError(
                f"{path}: values.{name}.source", entry.source, None, "a defined source key"
            )
        prov[name] = f"{entry.source}, {entry.confidence}"
    v = spec.values
    return LoadData(
        short_ohm=v.sweat_short_resistance.value,
        dry_ohm_m2=v.dry_resistance.value,
        provenance=prov,
    )


# ------------------------------------------------------------------ the load


@dataclass(frozen=True)
class SkinLoad:
    """The load: contact areas, body resistance and the SC's electrical parameters.

    area_cm2: active contact (cm^2); return_area_cm2: the return contact (cm^2; None
    leaves its interface out, as for a large wet return electrode); r_series_ohm (ohm);
    r_sc_ohm_cm2 / r_sc_min_ohm_cm2: SC resistance at rest / fully activated (ohm*cm^2);
    c_sc_F_cm2 (F/cm^2); activation_C_cm2: activation charge density (C/cm^2);
    recovery_s: recovery time constant (s); short_ohm: the whole load during a sweat
    short (ohm); dry_ohm_cm2: a dried-out contact (ohm*cm^2). ``description`` and
    ``provenance`` (name -> "source, confidence") say where the values come from.

    Build it with :meth:`from_physiology`; the field values can be changed for tests with
    ``dataclasses.replace`` or ``SimulatedCurrentSource.with_load``.
    """

    area_cm2: float
    return_area_cm2: float | None
    r_series_ohm: float
    r_sc_ohm_cm2: float
    r_sc_min_ohm_cm2: float
    c_sc_F_cm2: float
    activation_C_cm2: float
    recovery_s: float
    short_ohm: float
    dry_ohm_cm2: float
    description: str = ""
    provenance: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("area_cm2", "r_series_ohm", "c_sc_F_cm2", "activation_C_cm2", "recovery_s"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and value > 0 and math.isfinite(value)):
                raise ConfigError(f"load.{name}", value, None, "> 0 and finite")
        if self.return_area_cm2 is not None and not self.return_area_cm2 > 0:
            raise ConfigError("load.return_area_cm2", self.return_area_cm2, "cm^2", "> 0 or None")
        if self.r_sc_ohm_cm2 < 0 or self.r_sc_min_ohm_cm2 <= 0:
            raise ConfigError("load.r_sc_ohm_cm2", self.r_sc_ohm_cm2, "ohm*cm^2", ">= 0")

    # ---------------------------------------------------------------- construction

    @classmethod
    def from_physiology(
        cls,
        skin_type: str = "human",
        site: str | None = None,
        area_cm2: float = 10.0,
        return_area_cm2: float | None = None,
        *,
        parameter_files: tuple[str | Path, ...] = (),
    ) -> SkinLoad:
        """The load for ``skin_type`` at ``site`` (a physiology site such as "forearm",
        or a plan site such as "palms", mapped by :data:`SITE_PARAMS`; None = the
        reference site) under electrodes of ``area_cm2`` and ``return_area_cm2`` (cm^2).
        ``parameter_files``: user parameter files on top of the built-in ones."""
        from ionto.simulate.params import pores
        from ionto.simulate.params.loader import ParameterSet

        params = ParameterSet.load(*parameter_files) if parameter_files else _builtin_params()
        notes = []
        physio_site = site
        if site is not None and site not in params.sites(skin_type):
            physio_site = SITE_PARAMS.get(site)
            if physio_site is None or physio_site not in params.sites(skin_type):
                physio_site = None
                notes.append(f"no parameters for site {site!r}: reference site used")
        skin = params.load_skin(skin_type, physio_site)
        if skin.body_resistance is None:
            raise ConfigError(
                f"skin.{skin_type}.values.body_resistance",
                None,
                "ohm",
                "> 0",
                f"skin type {skin_type!r} has no body_resistance (an in vivo load needs one)",
            )
        for name in ("sc_activation_charge", "sc_recovery_time"):
            if getattr(skin, name) is None:
                raise ConfigError(
                    f"skin.{skin_type}.values.{name}",
                    None,
                    "C/m^2" if name == "sc_activation_charge" else "s",
                    "> 0",
                    f"skin type {skin_type!r} has no {name} (the load's conductance "
                    "activation needs it)",
                )
        assert skin.sc_activation_charge is not None and skin.sc_recovery_time is not None
        data = load_data()
        r_rest = pores.sc_resistance(skin)  # ohm*m^2
        r_min = min(skin.sc_resistance_min, r_rest) if r_rest > 0 else skin.sc_resistance_min
        prov = {
            "r_series_ohm": _prov(skin, "body_resistance"),
            "r_sc_ohm_cm2": "ionto.simulate.params.pores.sc_resistance "
            f"(sc_thickness: {_prov(skin, 'sc_thickness')}; "
            f"pore_porosity: {_prov(skin, 'pore_porosity')})",
            "r_sc_min_ohm_cm2": _prov(skin, "sc_resistance_min"),
            "c_sc_F_cm2": _prov(skin, "sc_capacitance"),
            "activation_C_cm2": _prov(skin, "sc_activation_charge"),
            "recovery_s": _prov(skin, "sc_recovery_time"),
            "short_ohm": data.provenance["sweat_short_resistance"],
            "dry_ohm_cm2": data.provenance["dry_resistance"],
        }
        text = f"{skin_type} {skin.site}" + (f" ({site})" if site and site != skin.site else "")
        return cls(
            area_cm2=area_cm2,
            return_area_cm2=return_area_cm2,
            r_series_ohm=skin.body_resistance,
            r_sc_ohm_cm2=r_rest / CM2,
            r_sc_min_ohm_cm2=r_min / CM2,
            c_sc_F_cm2=skin.sc_capacitance * CM2,
            activation_C_cm2=skin.sc_activation_charge * CM2,
            recovery_s=skin.sc_recovery_time,
            short_ohm=data.short_ohm,
            dry_ohm_cm2=data.dry_ohm_m2 / CM2,
            description="; ".join([text, *notes]),
            provenance=prov,
        )

    # ---------------------------------------------------------------- physics

    @property
    def areas(self) -> tuple[float, ...]:
        """Contact areas (cm^2) of the modelled interfaces: active first."""
        if self.return_area_cm2 is None:
            return (self.area_cm2,)
        return (self.area_cm2, self.return_area_cm2)

    def r_sc(self, activation: float) -> float:
        """SC specific resistance (ohm*cm^2) at ``activation`` (0 rest .. 1 fully on)."""
        if self.r_sc_ohm_cm2 <= 0:
            return 0.0
        g = activation / self.r_sc_min_ohm_cm2 + (1.0 - activation) / self.r_sc_ohm_cm2
        return 1.0 / g

    def interface_ohm(self, activation: float, area_cm2: float) -> float:
        """Resistance (ohm) of one interface of ``area_cm2`` at ``activation``."""
        return self.r_sc(activation) / area_cm2

    def activation_after(self, x: float, current_A: float, area_cm2: float, dt: float) -> float:
        """Activation after ``dt`` (s) of constant ``current_A`` (A) through ``area_cm2``."""
        a = abs(current_A) / area_cm2 / self.activation_C_cm2  # 1/s
        b = 1.0 / self.recovery_s
        x_inf = a / (a + b)
        return x_inf + (x - x_inf) * math.exp(-(a + b) * dt)


def _prov(skin: object, name: str) -> str:
    from ionto.simulate.params.skin import SkinParameters

    assert isinstance(skin, SkinParameters)
    return f"{skin.source(name).key}, {skin.confidence(name)}"


@cache
def _builtin_params() -> ParameterSet:
    from ionto.simulate.params.loader import ParameterSet

    return ParameterSet.builtin()


@cache
def default_load() -> SkinLoad:
    """Human volar forearm under a 10 cm^2 electrode, return contact left out."""
    return SkinLoad.from_physiology("human", "forearm", 10.0)
