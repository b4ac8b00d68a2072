"""Behaviours that the domain claims of ../shared/domain/seed-claims.md require of the
transport model (one test per claim, named after it). Claims shown elsewhere (both
electrodes P3, perfusion P9/P13/P19, reverse iontophoresis P18, the plan and run layers)
are listed with their tests in docs/verification.md; tests/test_claims_covered.py checks
that every claim has a test named after it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from ionto.simulate.params import load_skin, skin_electroosmosis, skin_layers
from ionto.simulate.params.skin import SkinParameters
from ionto.simulate.problem import (
    FARADAY,
    ElectrodeBoundary,
    ElectrodeReaction,
    FixedBoundary,
    Layer,
    MeshSpec,
    Problem,
    ReportSpec,
    ReservoirBoundary,
    Segment,
    SolverSpec,
    Species,
)
from ionto.simulate.result import Result
from ionto.simulate.simulation import simulate

AGCL = ElectrodeReaction("Ag/AgCl", {"Cl-": -1.0}, {"Cl-": 1.0})
GEL, BARRIER, TISSUE = 500e-6, 15e-6, 1.5e-3
SKIN_START = GEL
TISSUE_START = GEL + BARRIER
LENGTH = GEL + BARRIER + TISSUE


def _skin(
    drugs: dict[str, tuple[int, float, float]], control: tuple[Segment, ...], **kw: object
) -> Problem:
    """Gel with drugs {name: (charge, D, concentration)} | charged barrier | perfused
    tissue | deep tissue at 140 mM NaCl, under an Ag/AgCl electrode at x = 0."""
    species = tuple(Species(n, z, d) for n, (z, d, _) in drugs.items()) + (
        Species("Na+", 1, 1.33e-9),
        Species("Cl-", -1, 2.03e-9),
    )
    gel = {n: c for n, (_, _, c) in drugs.items()}
    anions = -sum(z * c for z, _, c in drugs.values() if z < 0)
    gel["Na+"] = gel.get("Na+", 0.0) + anions + float(kw.pop("background", 0.0))  # type: ignore[arg-type]
    layers = (
        Layer("gel", GEL, 0.8, initial=gel),
        Layer("barrier", BARRIER, 1e-4, fixed_charge=-30.0, initial={"Na+": 140.0}),
        Layer(
            "tissue", TISSUE, 0.4, exchange_rate=kw.pop("perfusion", 1e-3), initial={"Na+": 140.0}
        ),  # type: ignore[arg-type]
    )
    base = Problem(
        species=species,
        electroneutral_species="Cl-",
        layers=layers,
        left=ElectrodeBoundary(AGCL),
        right=FixedBoundary({"Na+": 140.0}),
        control=control,
        mesh=MeshSpec(0.2e-6, 25e-6, 1.15),
        electroosmotic_coefficient=2e-9,
        exchange_concentrations={"Na+": 140.0},
        solver=SolverSpec(rtol=1e-5, atol=1e-7),
        temperature=305.15,
    )
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def _delivered(result: Result, name: str) -> float:
    """Drug that left the gel: into the skin, to the blood or deeper (mol/m^2)."""
    k = result.species_names.index(name)
    return float(result.final_first_layer_release[k])


DRUG = {"D+": (1, 6e-10, 50.0)}


def test_P1_pulsed_monophasic_delivers_like_dc_and_biphasic_does_not() -> None:
    """Pulsed monophasic current (50 % duty, twice the amplitude) delivers what DC of the
    same mean current does; charge-balanced biphasic current delivers little."""
    dc = simulate(_skin(DRUG, (Segment(300.0, 2.0, 2.0),)))
    pulsed = simulate(
        _skin(DRUG, tuple(Segment(5.0, 4.0 * (k % 2 == 0), 4.0 * (k % 2 == 0)) for k in range(60)))
    )
    biphasic = simulate(
        _skin(
            DRUG,
            tuple(
                Segment(5.0, 4.0 * (1 - 2 * (k % 2)), 4.0 * (1 - 2 * (k % 2))) for k in range(60)
            ),
        )
    )
    passive = simulate(_skin(DRUG, (Segment(300.0, 0.0, 0.0),)))
    d_dc, d_pulsed = _delivered(dc, "D+"), _delivered(pulsed, "D+")
    assert d_pulsed == pytest.approx(d_dc, rel=0.05)
    assert _delivered(biphasic, "D+") < 0.2 * d_dc
    assert _delivered(biphasic, "D+") < 3.0 * _delivered(passive, "D+")


def test_P2_polarity_matters_and_neutrals_move_by_diffusion_and_electroosmosis() -> None:
    """A cation under the anode is delivered far better than under the cathode; a neutral
    solute moves only by diffusion and electroosmosis (more under the anode, where the
    flow goes into the negatively charged skin)."""
    anode = simulate(_skin(DRUG, (Segment(600.0, 3.0, 3.0),)))
    cathode = simulate(_skin(DRUG, (Segment(600.0, -3.0, -3.0),)))
    assert _delivered(anode, "D+") > 30.0 * max(_delivered(cathode, "D+"), 1e-30)
    neutral = {"N": (0, 6e-10, 50.0)}
    salt = {"background": 140.0}
    n_anode = _delivered(simulate(_skin(neutral, (Segment(600.0, 3.0, 3.0),), **salt)), "N")
    n_passive = _delivered(simulate(_skin(neutral, (Segment(600.0, 0.0, 0.0),), **salt)), "N")
    n_no_eo = _delivered(
        simulate(
            _skin(neutral, (Segment(600.0, 3.0, 3.0),), electroosmotic_coefficient=0.0, **salt)
        ),
        "N",
    )
    assert n_no_eo == pytest.approx(n_passive, rel=0.02)  # no migration for z = 0
    assert n_anode > 1.2 * n_passive  # electroosmosis carries it (barrier Peclet ~1.5)


@pytest.fixture(scope="module")
def two_drugs() -> dict[str, float]:
    """Two cationic drugs of different mobility in one gel, 600 s at 3 A/m^2."""
    drugs = {"A+": (1, 1.0e-9, 40.0), "B+": (1, 3.0e-10, 40.0)}
    t_end = 600.0
    at = TISSUE_START + 5e-6
    reports = tuple(
        ReportSpec(f"t_{sp}", "transport_number", t_end, sp, position=at, side="before")
        for sp in ("A+", "B+", "Na+", "Cl-")
    ) + tuple(
        ReportSpec(
            f"c_{sp}", "concentration", t_end, sp, position=TISSUE_START + 300e-6, side="before"
        )
        for sp in ("A+", "B+")
    )
    return dict(simulate(_skin(drugs, (Segment(t_end, 3.0, 3.0),), reports=reports)).reports)


def test_P6_ions_reach_different_depths(two_drugs: dict[str, float]) -> None:
    """Two drugs in one gel reach different depths: the more mobile one is at > 1.5x the
    concentration 300 um into the tissue."""
    assert two_drugs["c_A+"] > 1.5 * two_drugs["c_B+"] > 0


def test_P14_several_drugs_compete_and_transport_numbers_add_to_one(
    two_drugs: dict[str, float],
) -> None:
    """Two drugs delivered at once share the current with each other and with the
    background ions: their transport numbers and those of Na+ and Cl- add up to one, the
    more mobile drug takes the larger share, and each takes less than alone."""
    r = two_drugs
    assert r["t_A+"] + r["t_B+"] + r["t_Na+"] + r["t_Cl-"] == pytest.approx(1.0, abs=1e-9)
    assert r["t_A+"] > 1.5 * r["t_B+"] > 0
    at = TISSUE_START + 5e-6
    alone = simulate(
        _skin(
            {"A+": (1, 1.0e-9, 40.0)},
            (Segment(600.0, 3.0, 3.0),),
            reports=(ReportSpec("t", "transport_number", 600.0, "A+", position=at, side="before"),),
        )
    ).reports["t"]
    assert r["t_A+"] < 0.9 * alone  # B+ takes part of the current A+ would carry


def test_P11_delivery_is_linear_in_charge() -> None:
    """At fixed composition (a large stirred reservoir of drug) the steady flux of drug
    out of the barrier follows the current: over a fourfold range of current the flux per
    unit current stays within 20 % (it rises 15 %: a stronger field pushes back the Na+
    that diffuses into the barrier from the tissue, so the drug carries a larger share),
    and it never exceeds Faraday's bound i / F."""
    at = TISSUE_START
    fluxes = []
    for current in (1.0, 2.0, 4.0):
        problem = _skin(
            DRUG,
            (Segment(1800.0, current, current),),
            left=ReservoirBoundary(20e-3, {"D+": 50.0}, AGCL),
            reports=(ReportSpec("n", "flux", 1800.0, "D+", position=at, side="before"),),
        )
        fluxes.append(simulate(problem).reports["n"])
    per_current = np.array(fluxes) / np.array([1.0, 2.0, 4.0])
    assert per_current == pytest.approx(per_current[0], rel=0.2)
    assert np.all(np.diff(per_current) > 0)
    assert np.all(per_current * FARADAY < 1.0)


@pytest.fixture(scope="module")
def depot() -> dict[str, float]:
    """600 s at 3 A/m^2, then 3 h without current (low perfusion)."""
    t_on, t_end = 600.0, 600.0 + 3 * 3600.0
    at = TISSUE_START + 300e-6
    skin = (TISSUE_START, LENGTH)
    reports = (
        ReportSpec("deep_on", "amount", t_on, "D+", region=(at, LENGTH), side="before"),
        ReportSpec("deep_later", "amount", t_on + 1800.0, "D+", region=(at, LENGTH)),
        ReportSpec("skin_on", "amount", t_on, "D+", region=skin),
        ReportSpec("skin_1h", "amount", t_on + 3600.0, "D+", region=skin),
        ReportSpec("skin_end", "amount", t_end, "D+", region=skin),
        ReportSpec("blood_on", "cleared", t_on, "D+", region=(0.0, LENGTH)),
        ReportSpec("blood_1h", "cleared", t_on + 3600.0, "D+", region=(0.0, LENGTH)),
        ReportSpec("blood_end", "cleared", t_end, "D+", region=(0.0, LENGTH)),
        ReportSpec("phi_tissue", "potential", t_on, position=TISSUE_START + 10e-6, side="before"),
        ReportSpec("phi_deep", "potential", t_on, position=LENGTH, side="before"),
        ReportSpec("volts", "voltage", t_on, side="before"),
    )
    return dict(
        simulate(
            _skin(
                DRUG,
                (Segment(t_on, 3.0, 3.0), Segment(t_end - t_on, 0.0, 0.0)),
                reports=reports,
                perfusion=1e-4,
            )
        ).reports
    )


def test_P12_depot_spreads_by_diffusion_not_by_the_field(depot: dict[str, float]) -> None:
    """After the current stops the drug keeps moving from the depot below the barrier by
    diffusion (the deep amount grows > 1.2x in 30 min without current), and while the
    current flows the field in the viable tissue is small (< 10 % of the voltage)."""
    r = depot
    assert r["deep_later"] > 1.2 * r["deep_on"]
    assert (r["phi_tissue"] - r["phi_deep"]) < 0.1 * r["volts"]


def test_P15_depot_persists_and_releases_over_hours(depot: dict[str, float]) -> None:
    """The depot left by 10 min of current releases drug to the blood for hours: the
    amount taken up in the 3 h after the current exceeds what was taken up during it,
    uptake continues in the second and third hour, and a depot (> 10 %) is still there
    3 h later."""
    r = depot
    assert r["blood_end"] - r["blood_on"] > r["blood_on"]
    assert r["blood_end"] - r["blood_1h"] > 0.2 * (r["blood_1h"] - r["blood_on"])
    assert r["skin_on"] > r["skin_1h"] > r["skin_end"] > 0.1 * r["skin_on"]


def test_P13_more_perfusion_less_depth_more_uptake() -> None:
    """Raising dermal perfusion lowers the deep-tissue concentration and raises the amount
    taken up by the blood."""
    at = TISSUE_START + 600e-6

    def run(perfusion: float) -> dict[str, float]:
        reports = (
            ReportSpec("deep", "concentration", 1200.0, "D+", position=at, side="before"),
            ReportSpec("blood", "cleared", 1200.0, "D+", region=(0.0, LENGTH), side="before"),
        )
        return simulate(
            _skin(DRUG, (Segment(1200.0, 3.0, 3.0),), reports=reports, perfusion=perfusion)
        ).reports

    low, high = run(2e-4), run(5e-3)
    assert high["deep"] < 0.5 * low["deep"]
    assert high["blood"] > 2.0 * low["blood"]


def test_P4_current_alone_changes_the_tissue() -> None:
    """Current with no drug still drives ions and changes concentrations under the
    electrode (chloride depletion at the Ag/AgCl anode); pH changes under inert
    electrodes are in test_chemistry.py."""
    saline = (
        Layer("gel", GEL, 0.8, initial={"Na+": 140.0}),
        Layer("barrier", BARRIER, 1e-4, fixed_charge=-30.0, initial={"Na+": 140.0}),
        Layer("tissue", TISSUE, 0.4, exchange_rate=1e-3, initial={"Na+": 140.0}),
    )
    reports = (ReportSpec("cl", "concentration", 600.0, "Cl-", position=0.0, side="before"),)
    r = simulate(_skin({}, (Segment(600.0, 3.0, 3.0),), reports=reports, layers=saline)).reports
    assert r["cl"] < 0.9 * 140.0


def _forearm_at_fixed_voltage(skin: SkinParameters, volts: float = 1.0) -> dict[str, float]:
    """Lidocaine gel on a skin from the parameter sets, 300 s at a fixed voltage between an
    Ag/AgCl anode and the deep tissue: current (A/m^2), drug in the skin (mol/m^2) and the
    stratum corneum's resistance (ohm m^2)."""
    species = (
        Species("Lid+", 1, 6.0e-10),
        Species("Na+", 1, 1.334e-9),
        Species("Cl-", -1, 2.032e-9),
    )
    tissue = {"Na+": 140.0}
    gel = 1e-3
    layers = (Layer("gel", gel, 0.8, initial={"Lid+": 74.0}),) + skin_layers(
        skin, species, "Cl-", tissue, max_cell=50e-6
    )
    end = sum(layer.thickness for layer in layers)
    t_end = 300.0
    problem = Problem(
        species=species,
        electroneutral_species="Cl-",
        layers=layers,
        left=ElectrodeBoundary(AGCL),
        right=FixedBoundary(tissue),
        control=(Segment(t_end, volts, volts, mode="voltage"),),
        mesh=MeshSpec(0.2e-6, 50e-6, 1.3),
        electroosmotic_coefficient=skin_electroosmosis(skin),
        reports=(
            ReportSpec("current", "current", t_end, side="before"),
            ReportSpec("in_skin", "amount", t_end, "Lid+", region=(gel, end)),
            ReportSpec("r_sc", "resistance", 0.0, region=(gel, gel + skin.sc_thickness)),
        ),
    )
    return dict(simulate(problem).reports)


@pytest.mark.engine
def test_P5_pores_carry_most_current_and_drug_and_their_density_sets_delivery() -> None:
    """The stratum corneum is a lipid pathway and a charged pore pathway (sweat ducts,
    follicles) in parallel. Removing 90 % of the forearm's pores multiplies the SC
    resistance by 1/(0.1 p + 1 - p) with p the pores' share of its conductance: the
    simulated SC gives p > 0.99, and at the same voltage the current and the drug
    delivered fall to less than a fifth (they would barely move if the lipids carried
    them). Twice the pore density (the site tables scale the porosity with the
    sweat-duct and follicle density) raises current and delivery by more than 1.4x (less
    than 2x: the gel, the viable tissue and the electrode are in series)."""
    forearm = load_skin("human", "forearm")

    def with_pores(factor: float) -> dict[str, float]:
        skin = dataclasses.replace(forearm, pore_porosity=factor * forearm.pore_porosity)
        return _forearm_at_fixed_voltage(skin)

    full, fewer, denser = with_pores(1.0), with_pores(0.1), with_pores(2.0)
    pore_share = (1.0 - full["r_sc"] / fewer["r_sc"]) / 0.9
    assert pore_share > 0.99
    assert fewer["current"] < 0.2 * full["current"]
    assert fewer["in_skin"] < 0.2 * full["in_skin"]
    assert denser["current"] > 1.4 * full["current"]
    assert denser["in_skin"] > 1.4 * full["in_skin"]
    # the sites of the parameter set differ in pore density (face: follicles, palm: ducts)
    face, palm = load_skin("human", "face"), load_skin("human", "palm")
    assert face.pore_density_factor > 4 * forearm.pore_density_factor
    assert palm.pore_porosity / forearm.pore_porosity == pytest.approx(palm.pore_density_factor)


_RESERVOIR = """
schema_version = 1
title = "lidocaine, 2 mA on 10 cm^2 for 10 min: {title}"
temperature = "305.15 K"
electroneutral_species = "Cl-"
smoothing = "0 um"
electrode_area = "10 cm^2"

[[species]]
name = "Lid+"
charge = 1
diffusivity = "6.0e-10 m^2/s"

[[species]]
name = "Na+"
charge = 1
diffusivity = "1.33e-9 m^2/s"

[[species]]
name = "Cl-"
charge = -1
diffusivity = "2.03e-9 m^2/s"

[[layers]]
name = "contact"
thickness = "{thickness}"
diffusivity_factor = {factor}
initial = {{ "Lid+" = "74 mM" }}
max_cell = "20 um"

[skin]
type = "human"
site = "{site}"
tissue = {{ "Na+" = "140 mM" }}

[boundary.left]
{left}

[boundary.right]
type = "fixed"
concentrations = {{ "Na+" = "140 mM" }}

[[control]]
duration = "10 min"
current = "2 mA"

[mesh]
min_cell = "0.1 um"
max_cell = "20 um"
growth = 1.15

[solver]
rtol = 1e-4
atol = "1e-4 mol/m^3"

[[report]]
name = "surface"
quantity = "concentration"
species = "Lid+"
at = {{ layer = "contact", depth = "{surface}" }}
time = "10 min"
side = "before"

[[report]]
name = "delivered"
quantity = "amount"
species = "Lid+"
region = ["{first}", "dermis"]
time = "10 min"

[[report]]
name = "voltage"
quantity = "voltage"
time = "10 min"
side = "before"
"""
GEL_PAD = 'type = "electrode"\nelectrode = "Ag/AgCl"'
STIRRED_CUP = (
    'type = "reservoir"\nelectrode = "Ag/AgCl"\nvolume = "5 mL"\ninitial = { "Lid+" = "74 mM" }'
)


def _reservoir_run(tmp_path: Path, kind: str, site: str = "forearm") -> dict[str, float]:
    """2 % lidocaine from a 2 mm gel pad or from a stirred 5 mL cup (a well-mixed reservoir
    over its 50 um unstirred layer) on a site of the human set."""
    from ionto.simulate.scenario import load_problem

    gel = kind == "gel"
    text = _RESERVOIR.format(
        title=f"{kind} on {site}",
        thickness="2 mm" if gel else "50 um",
        factor=0.8 if gel else 1.0,
        site=site,
        left=GEL_PAD if gel else STIRRED_CUP,
        surface="1999 um" if gel else "49 um",
        first="stratum_corneum" if site != "mucosa" else "epithelium",
    )
    path = tmp_path / f"{kind}_{site}.toml"
    path.write_text(text)
    problem = load_problem(path)
    names = [layer.name for layer in problem.layers]
    out = dict(simulate(problem).reports)
    out["has_sc"] = float("stratum_corneum" in names)
    return out


@pytest.mark.engine
def test_P16_gel_pad_and_stirred_cup_reservoirs_and_a_mucosa_site(tmp_path: Path) -> None:
    """Electrodes are gel pads or a cup of solution, and mucous membranes are sites too.
    On the forearm the stratum corneum sets the delivery under current control: a 2 mm gel
    pad and a stirred 5 mL cup deliver the same (within 1 %) at about 20 V. The buccal
    mucosa of the human set has no stratum corneum: the voltage is a few mV, passive
    diffusion adds to migration, and the reservoir matters: the gel is depleted where it
    touches the tissue while the stirred cup keeps its bulk concentration there, so the
    cup delivers > 1.3x more."""
    gel, cup = _reservoir_run(tmp_path, "gel"), _reservoir_run(tmp_path, "cup")
    gel_m, cup_m = (
        _reservoir_run(tmp_path, "gel", "mucosa"),
        _reservoir_run(tmp_path, "cup", "mucosa"),
    )
    assert cup["delivered"] == pytest.approx(gel["delivered"], rel=0.01)
    assert gel["has_sc"] == cup["has_sc"] == 1.0
    assert gel_m["has_sc"] == cup_m["has_sc"] == 0.0
    assert cup_m["voltage"] < 0.01 * cup["voltage"]
    assert cup_m["delivered"] > 3.0 * cup["delivered"]
    assert gel_m["surface"] < 0.8 * cup_m["surface"]
    assert cup_m["delivered"] > 1.3 * gel_m["delivered"]
