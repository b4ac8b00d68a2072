"""Resolved parameter records in SI floats, with their sources and uncertainties."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Source:
    """A cited source: ``key`` (as in sources.toml), citation text, address (or "")."""

    key: str
    citation: str
    url: str = ""


@dataclass(frozen=True)
class Provenance:
    """Where one value comes from: source, confidence tag (C confirmed, D disputed,
    I inferred, U unconfirmed), the SI unit, the uncertainty range (SI, or None) and a note."""

    source: Source
    confidence: str
    unit: str
    range: tuple[float, float] | None = None
    note: str = ""


@dataclass(frozen=True)
class SkinParameters:
    """One skin type at one body site, SI units. Lengths m; densities 1/m^2; charge
    densities mol/m^3 (signed, pore water, at pH 7.4); rates 1/s; specific resistance
    ohm m^2; capacitance F/m^2; resistance ohm; energies J/mol; charge per area C/m^2;
    time constants s; pH, pKa and factors -.

    ``pore_porosity`` is the site's effective porosity: the reference site's value times
    ``pore_density_factor`` (the site's sweat duct + follicle density over the reference
    site's). ``sc_thickness`` 0 means no stratum corneum (mucosa)."""

    skin_type: str
    site: str
    sc_thickness: float
    lipid_hindrance_ion: float
    lipid_hindrance_neutral: float
    pore_porosity: float
    pore_tortuosity: float
    pore_radius: float
    appendage_area_fraction: float
    pore_charge_density: float
    isoelectric_point: float
    pore_acid_pKa: float
    viable_epidermis_thickness: float
    dermis_thickness: float
    tissue_hindrance: float
    dermal_exchange_rate: float
    sc_resistance: float
    sc_resistance_min: float
    sc_capacitance: float
    pore_density_factor: float
    sweat_duct_density: float | None = None
    follicle_density: float | None = None
    epithelium_thickness: float | None = None
    body_resistance: float | None = None
    contact_resistance: float | None = None
    impedance_recovery_ratio: float | None = None
    conduction_activation_energy: float | None = None
    sc_activation_charge: float | None = None
    sc_recovery_time: float | None = None
    hyperaemia_gain: float | None = None
    hyperaemia_charge: float | None = None
    hyperaemia_recovery_time: float | None = None
    provenance: dict[str, Provenance] = field(default_factory=dict, repr=False, compare=False)

    def source(self, name: str) -> Source:
        """The source of value ``name`` (KeyError naming the known values if unknown)."""
        return self._prov(name).source

    def uncertainty(self, name: str) -> tuple[float, float] | None:
        """The uncertainty range (SI) of value ``name``, or None where none is known."""
        return self._prov(name).range

    def confidence(self, name: str) -> str:
        """Confidence tag of value ``name``: C, D, I or U."""
        return self._prov(name).confidence

    def unit(self, name: str) -> str:
        """SI unit of value ``name``."""
        return self._prov(name).unit

    def _prov(self, name: str) -> Provenance:
        try:
            return self.provenance[name]
        except KeyError:
            known = ", ".join(sorted(self.provenance))
            raise KeyError(f"{name!r} is not a parameter (known: {known})") from None
