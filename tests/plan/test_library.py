"""The library as data: built-in entries, sources, and user files validated as strictly."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ionto.core.errors import ConfigError
from ionto.plan.library import BUILTIN_FILES, Library, builtin_library
from ionto.plan.values import walk_cited

# IUPAC standard atomic weights (abridged), g/mol
ATOMIC = {
    "H": 1.008, "C": 12.011, "N": 14.007, "O": 15.999, "F": 18.998, "P": 30.974,
    "S": 32.06, "Cl": 35.45, "Ca": 40.078, "Mg": 24.305, "I": 126.904, "Zn": 65.38,
    "Cu": 63.546, "Ag": 107.868, "Na": 22.990, "K": 39.098, "Br": 79.904,
}  # fmt: skip

# clinical.md section 1: every row, with the polarity the table gives.
CLINICAL_TABLE = {
    "acetic-acid": "cathode",
    "dexamethasone-phosphate": "cathode",
    "lidocaine": "anode",
    "hyaluronidase": "anode",
    "calcium-chloride": "anode",
    "magnesium-chloride": "anode",
    "magnesium-sulfate": "anode",
    "potassium-iodide": "cathode",
    "sodium-chloride": "cathode",
    "sodium-salicylate": "cathode",
    "diclofenac": "cathode",
    "ketoprofen": "cathode",
    "zinc-oxide": "anode",
    "copper-sulfate": "anode",
    "tap-water": "both",
    "glycopyrrolate": "anode",
    "ascorbate": "cathode",
    "fentanyl": "anode",
    "sumatriptan": "anode",
    "pilocarpine": "anode",
    "acetylcholine": "anode",
    "procaine": "anode",
    "silver-nitrate": "anode",
    "epinephrine": "anode",
    "edta": "cathode",
    "desincrustation-solution": "cathode",
    "acidic-serum": "anode",
}
MODALITIES = {
    "drug-iontophoresis",
    "tap-water-iontophoresis",
    "galvanic-desincrustation",
    "cosmetic-iontophoresis",
    "microcurrent",
    "ems",
    "reverse-iontophoresis",
    "acetylcholine-test",
}


def formula_mass(formula: str) -> float:
    total = 0.0
    for element, count in re.findall(r"([A-Z][a-z]?)(\d*)", formula):
        total += ATOMIC[element] * (int(count) if count else 1)
    return total


def test_builtin_library_has_the_clinical_table() -> None:
    lib = builtin_library()
    assert len(lib.drugs) >= 20
    for name, polarity in CLINICAL_TABLE.items():
        assert lib.drug(name).polarity.value == polarity, name
    assert set(lib.modalities) == MODALITIES


def test_charge_sign_agrees_with_polarity() -> None:
    for drug in builtin_library().drugs.values():
        signs = {z > 0 for z in drug.charge.value if z != 0}
        if drug.polarity.value == "anode" and drug.category != "analyte":
            assert signs == {True}, drug.name
        if drug.polarity.value == "cathode" and drug.category != "analyte":
            assert signs == {False}, drug.name


@pytest.mark.parametrize("name", sorted(builtin_library().drugs))
def test_molar_masses_computed_from_formulas_are_right(name: str) -> None:
    drug = builtin_library().drug(name)
    if drug.molecular_weight is None or "formula-mass" not in drug.molecular_weight.source:
        return
    assert drug.formula is not None
    assert drug.molecular_weight.si * 1e3 == pytest.approx(formula_mass(drug.formula), abs=0.02)


def test_every_value_has_a_known_source_and_confidence() -> None:
    lib = builtin_library()
    count = 0
    for table in (lib.drugs, lib.electrodes, lib.modalities):
        for entry in table.values():
            for path, cited in walk_cited(entry):  # type: ignore[arg-type]
                count += 1
                assert cited.confidence in "CDIU", path
                assert all(key in lib.sources for key in cited.source), path
    assert count > 250
    assert all(s.citation for s in lib.sources.values())


def test_disputed_capacity_ratings_are_both_kept() -> None:
    capacity = builtin_library().electrode("dupel-blue").capacity
    assert capacity is not None
    assert capacity.pick().text == "80 mA*min"
    assert capacity.pick().si == pytest.approx(4.8)
    assert capacity.pick("510k").si == pytest.approx(9.6)
    assert capacity.pick().confidence == capacity.pick("510k").confidence == "D"
    with pytest.raises(ConfigError, match="did you mean '510k'"):
        capacity.pick("510")


def test_P20_prescription_status_only_where_a_source_states_it() -> None:
    lib = builtin_library()
    known = {name for name, d in lib.drugs.items() if d.prescription}
    assert known == {"fentanyl", "sumatriptan"}  # P20: unknown stays unknown
    assert lib.drug("fentanyl").prescription[0].status == "restricted"


def test_lookup_suggests_close_names() -> None:
    with pytest.raises(ConfigError, match="did you mean 'lidocaine'"):
        builtin_library().drug("lidocain")


# ------------------------------------------------------------------ user files

USER_DRUG = {
    "name": "my-lidocaine-5",
    "title": "Lidocaine 5 % (compounded)",
    "category": "drug",
    "active_ion": "lidocaine H+",
    "counter_ion": "chloride",
    "charge": {"value": [1], "source": "my-pharmacy", "confidence": "C"},
    "concentration": {"value": "5 %", "source": "my-pharmacy", "confidence": "C"},
    "polarity": {"value": "anode", "source": "karpinski2018", "confidence": "C"},
}


def user_file(write_toml: Callable[[dict[str, Any]], Path], **changes: Any) -> Path:
    drug = {**USER_DRUG, **changes}
    return write_toml(
        {
            "schema_version": 1,
            "sources": {"my-pharmacy": {"citation": "Our pharmacy's label, 2026."}},
            "drug": [drug],
        }
    )


def test_user_file_adds_entries(write_toml: Callable[[dict[str, Any]], Path]) -> None:
    lib = Library.load([user_file(write_toml)])
    drug = lib.drug("my-lidocaine-5")
    assert drug.concentration is not None and drug.concentration.si == pytest.approx(50.0)
    assert "lidocaine" in lib.drugs  # built-ins still there


def cited(value: object, source: str = "my-pharmacy", confidence: str = "C") -> dict[str, Any]:
    return {"value": value, "source": source, "confidence": confidence}


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"name": "lidocaine"}, "drug 'lidocaine' is already defined in"),
        ({"polarty": cited("anode")}, "did you mean 'polarity'"),
        ({"concentration": cited("5 mA")}, "drug[0].concentration"),
        (
            {"charge": cited([1], source="my-pharmcy")},
            "unknown source 'my-pharmcy' (did you mean 'my-pharmacy'?)",
        ),
        ({"charge": cited([1], confidence="maybe")}, "confidence"),
        ({"polarity": cited("north")}, "one of: anode, cathode, both, unknown"),
        ({"name": "My Drug"}, "is not a valid entry name"),
        ({"category": "potion"}, "category"),
    ],
)
def test_user_files_are_validated_strictly(
    write_toml: Callable[[dict[str, Any]], Path], changes: dict[str, Any], words: str
) -> None:
    path = user_file(write_toml, **changes)
    with pytest.raises(ConfigError) as info:
        Library.load([path])
    assert str(path) in str(info.value)
    assert words in str(info.value)


def test_duplicates_between_two_user_files(write_toml: Callable[[dict[str, Any]], Path]) -> None:
    first = user_file(write_toml)
    second = user_file(write_toml)
    with pytest.raises(ConfigError, match=f"already defined in {re.escape(str(first))}"):
        Library.load([first, second])


def test_builtin_files_load_alone_and_together() -> None:
    assert len(BUILTIN_FILES) == 4
    lib = Library.load()
    assert lib.origin[("drug", "lidocaine")].endswith("drugs.toml")
    assert lib.contraindications(lib.modality("reverse-iontophoresis")).name == "drug-iontophoresis"


def test_modality_values_in_si() -> None:
    lib = builtin_library()
    drug = lib.modality("drug-iontophoresis")
    assert drug.current_max.si == pytest.approx(0.004)
    assert drug.dose_max is not None and drug.dose_max.si == pytest.approx(4.8)
    assert drug.current_max.pick("iontodc").si == pytest.approx(0.002)
    twi = lib.modality("tap-water-iontophoresis")
    assert twi.min_age is not None and twi.min_age.si / (365.25 * 86400) == pytest.approx(6)
    assert twi.session is not None and twi.session.si == (600.0, 1800.0)
