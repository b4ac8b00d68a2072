"""Parameter files: built-in data, strict validation of user files, provenance."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from ionto.core.errors import ConfigError
from ionto.simulate.params import ParameterSet, load_skin

ROOT = Path(__file__).resolve().parents[3]
DRUGS = tomllib.loads((ROOT / "src/ionto/plan/data/drugs.toml").read_text())["drug"]


def test_every_skin_type_and_site_loads_in_si() -> None:
    ps = ParameterSet.builtin()
    assert ps.skin_types() == ["hairless_mouse", "human", "porcine"]
    assert set(ps.sites("human")) == {"forearm", "palm", "sole", "axilla", "face", "knee", "mucosa"}
    for t in ps.skin_types():
        for s in ps.sites(t):
            skin = ps.load_skin(t, s)
            assert skin.dermis_thickness < 3e-3 and skin.sc_thickness < 1e-3
    forearm = load_skin("human", "forearm")
    assert forearm.sc_thickness == pytest.approx(15e-6)
    assert forearm.pore_radius == pytest.approx(12e-10)
    assert forearm.sc_resistance == pytest.approx(3.0)  # 30 kohm cm^2 in ohm m^2
    assert forearm.isoelectric_point == 4.8 and load_skin("porcine").isoelectric_point == 4.4


def test_sources_uncertainty_and_site_scaling() -> None:
    forearm, palm = load_skin("human", "forearm"), load_skin("human", "palm")
    assert palm.pore_density_factor == pytest.approx(600 / (110 + 18))
    assert palm.pore_porosity == pytest.approx(forearm.pore_porosity * palm.pore_density_factor)
    assert palm.source("isoelectric_point").key == "marro2001"
    assert "Marro" in palm.source("isoelectric_point").citation
    assert palm.uncertainty("sc_thickness") == pytest.approx((100e-6, 400e-6))
    assert palm.uncertainty("isoelectric_point") is None
    assert palm.confidence("sc_thickness") == "U" and palm.unit("sc_thickness") == "m"
    with pytest.raises(KeyError, match="known"):
        palm.source("thickness")
    mucosa = load_skin("human", "mucosa")
    assert mucosa.sc_thickness == 0 and mucosa.epithelium_thickness == pytest.approx(500e-6)


def test_unknown_skin_and_site_suggest() -> None:
    with pytest.raises(ConfigError, match="did you mean 'human'"):
        load_skin("humna")
    with pytest.raises(ConfigError, match="did you mean 'palm'"):
        load_skin("human", "plam")


def test_search_diff_hash_and_user_override(tmp_path: Path) -> None:
    ps = ParameterSet.builtin()
    assert {h.path for h in ps.search("marro")} >= {
        "skin.human.values.isoelectric_point",
        "skin.porcine.values.isoelectric_point",
    }
    assert len(ps.content_hash) == 64 and ps.content_hash == ParameterSet.builtin().content_hash
    user = tmp_path / "mine.toml"
    user.write_text(
        "[sources.me]\ncitation = 'my lab, 2025'\n"
        "[skin.human.sites.forearm]\n"
        "sc_thickness = { value = '18 um', source = 'me', confidence = 'C' }\n"
    )
    mine = ParameterSet.load(user)
    assert mine.load_skin("human").sc_thickness == pytest.approx(18e-6)
    assert mine.load_skin("human").source("sc_thickness").citation == "my lab, 2025"
    changed = ps.diff(mine)
    assert set(changed) == {"skin.human.sites.forearm.sc_thickness"}
    assert mine.content_hash != ps.content_hash


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "sc_thicknes = { value = '1 um', source = 'me', confidence = 'U' }",
            "did you mean 'sc_thickness'",
        ),
        ("sc_thickness = { value = '15 s', source = 'me', confidence = 'U' }", "unit: m"),
        ("sc_thickness = { value = 15, source = 'me', confidence = 'U' }", "has no unit"),
        ("sc_thickness = { value = '-1 um', source = 'me', confidence = 'U' }", "allowed: >= 0"),
        (
            "sc_thickness = { value = '3 um', source = 'me', confidence = 'U', "
            "range = ['1 um', '2 um'] }",
            "outside its range",
        ),
        (
            "sc_thickness = { value = '15 um', source = 'me', confidence = 'X' }",
            "one of: C, D, I, U",
        ),
        (
            "sc_thickness = { value = '15 um', source = 'nobody', confidence = 'U' }",
            "source 'nobody' is not defined",
        ),
    ],
)
def test_user_files_are_checked_strictly(tmp_path: Path, text: str, expected: str) -> None:
    user = tmp_path / "bad.toml"
    user.write_text(f"[sources.me]\ncitation = 'x'\n[skin.human.sites.forearm]\n{text}\n")
    with pytest.raises(ConfigError) as info:
        ParameterSet.load(user)
    assert expected in str(info.value)
    assert "forearm" in str(info.value)


def test_ions_refer_to_drugs_toml() -> None:
    ps = ParameterSet.builtin()
    by_name = {d["name"]: d for d in DRUGS}
    for name, ion in ps.ions.items():
        if not ion.drug:
            continue
        assert ion.drug in by_name, f"{name}: {ion.drug} not in drugs.toml"
        drug = by_name[ion.drug]
        assert ion.charge in drug["charge"]["value"], name
        if ion.molar_mass is not None and name not in ("DexP--", "glycopyrronium"):
            grams = float(drug["molecular_weight"]["value"].split()[0])
            assert ion.molar_mass.value == pytest.approx(grams / 1000), name
    lid = ps.ion("Lid+")
    assert lid.radius == pytest.approx(4.08e-10, rel=0.01)
    assert 6e-10 < lid.diffusivity < 9e-10  # 37 C, Stokes-Einstein
    assert ps.ion("Na+", 298.15).diffusivity == pytest.approx(1.334e-9)
    with pytest.raises(ConfigError, match="did you mean"):
        ps.ion("Na")
