"""Withdraw-and-replace sampling of a diffusion cell's receptor ([[sampling]]): exact
bookkeeping at every sample, closed balances, and the laboratories' corrected
cumulative amount (in the receptor + withdrawn) equal to the unsampled run's amount
where the receptor is a sink."""

from __future__ import annotations

import copy
import tomllib
from typing import Any

import pytest

from ionto.core.errors import ConfigError
from ionto.simulate.problem_io import problem_from_dict as from_json
from ionto.simulate.problem_io import problem_to_dict
from ionto.simulate.scenario import problem_from_dict
from ionto.simulate.simulation import simulate

CELL = """
schema_version = 1
title = "vertical diffusion cell: donor | membrane | receptor, 0.5 mA/cm^2 for 4 h"
temperature = "32 degC"
electroneutral_species = "Cl-"
electrode_area = "1 cm^2"

[[species]]
name = "D+"
charge = 1
diffusivity = "6e-10 m^2/s"

[[species]]
name = "Na+"
charge = 1
diffusivity = "1.33e-9 m^2/s"

[[species]]
name = "Cl-"
charge = -1
diffusivity = "2.03e-9 m^2/s"

[[layers]]
name = "membrane"
thickness = "100 um"
diffusivity_factor = 0.01
fixed_charge = "-30 mM"
initial = { "Na+" = "150 mM" }

[boundary.left]
type = "reservoir"
electrode = "Ag/AgCl"
volume = "1 mL"
initial = { "D+" = "20 mM", "Na+" = "140 mM" }

[boundary.right]
type = "reservoir"
electrode = "Ag/AgCl"
volume = "5 mL"
initial = { "Na+" = "150 mM" }

[[control]]
duration = "4 h"
current_density = "0.5 mA/cm^2"

[[sampling]]
times = ["1 h", "2 h", "3 h"]
volume = "0.5 mL"

[solver]
rtol = 1e-6
atol = "1e-9 mol/m^3"

[[report]]
name = "in_receptor"
quantity = "amount"
species = "D+"
reservoir = "right"
time = "4 h"

[[report]]
name = "withdrawn"
quantity = "withdrawn"
species = "D+"
reservoir = "right"
time = "4 h"

[[report]]
name = "before_2h"
quantity = "amount"
species = "D+"
reservoir = "right"
time = "2 h"
side = "before"

[[report]]
name = "after_2h"
quantity = "amount"
species = "D+"
reservoir = "right"
time = "2 h"

[[report]]
name = "withdrawn_before_2h"
quantity = "withdrawn"
species = "D+"
reservoir = "right"
time = "2 h"
side = "before"

[[report]]
name = "withdrawn_after_2h"
quantity = "withdrawn"
species = "D+"
reservoir = "right"
time = "2 h"

[[report]]
name = "na_withdrawn"
quantity = "withdrawn"
species = "Na+"
reservoir = "right"
time = "4 h"
"""


def _data() -> dict[str, Any]:
    return tomllib.loads(CELL)


def _cell(receptor_mL: float, sampled: bool) -> Any:
    data = _data()
    data["boundary"]["right"]["volume"] = f"{receptor_mL} mL"
    data["sampling"][0]["volume"] = f"{receptor_mL / 10} mL"
    if not sampled:
        del data["sampling"]
        data["report"] = [r for r in data["report"] if r["quantity"] != "withdrawn"]
    return simulate(problem_from_dict(data))


@pytest.fixture(scope="module")
def runs() -> dict[str, Any]:
    return {
        "sampled": _cell(5.0, True),
        "plain": _cell(5.0, False),
        "sampled_20": _cell(20.0, True),
        "plain_20": _cell(20.0, False),
    }


def test_each_sample_removes_its_fraction_exactly(runs: dict[str, Any]) -> None:
    """At 2 h a tenth of the receptor (0.5 of 5 mL) leaves: the drug in it falls to 0.9x
    and the withdrawn amount rises by the tenth; every balance (what the stack holds, what
    crossed its ends, what the samples took) stays closed."""
    r = runs["sampled"].reports
    assert r["after_2h"] == pytest.approx(0.9 * r["before_2h"], rel=1e-12)
    gained = r["withdrawn_after_2h"] - r["withdrawn_before_2h"]
    assert gained == pytest.approx(0.1 * r["before_2h"], rel=1e-12)
    assert max(runs["sampled"].balance.values()) < 1e-12
    # fresh receptor solution has the initial 150 mM Na+: net Na+ withdrawn is the
    # tenth of the excess over 150 mM that the current brought in (positive, small)
    assert r["na_withdrawn"] > 0


def test_corrected_cumulative_amount_equals_the_unsampled_run(runs: dict[str, Any]) -> None:
    """Laboratories correct the cumulative amount for the samples: amount in the
    receptor + amount withdrawn. Where the receptor is a sink this equals what an
    unsampled receptor holds; the only difference is the receptor's own drug pushing
    back on the flux, which sampling lowers. With 5 mL (receptor drug 2.7 % of the
    donor's) the corrected amount is 0.13 % above the unsampled one; with 20 mL (0.7 %)
    the difference falls about fourfold: it is the sink-condition error, not bookkeeping.
    Uncorrected, the receptor holds 14 % less."""
    deviation = {}
    for tag in ("", "_20"):
        r, plain = runs["sampled" + tag].reports, runs["plain" + tag].reports
        assert r["withdrawn"] > 0.1 * r["in_receptor"]  # the samples took a real share
        assert r["in_receptor"] < 0.9 * plain["in_receptor"]  # uncorrected: too low
        deviation[tag] = (r["in_receptor"] + r["withdrawn"]) / plain["in_receptor"] - 1.0
    assert 0.0 < deviation[""] < 3e-3
    assert 0.0 < deviation["_20"] < 0.35 * deviation[""]


def test_sampling_survives_the_problem_cache() -> None:
    problem = problem_from_dict(_data())
    assert [round(s.time) for s in problem.sampling] == [3600, 7200, 10800]
    assert problem.sampling[0].fraction == pytest.approx(0.1)
    assert problem.sampling[0].fresh == {"Na+": 150.0}
    assert len(problem.control) == 4  # the 4 h segment cut at the sampling times
    assert from_json(problem_to_dict(problem)) == problem


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda d: d["sampling"][0].update(side="left", volume="2 mL"), r"sampling\[0\].volume"),
        (lambda d: d["sampling"][0].update(volume="5 mL"), r"sampling\[0\].volume"),
        (lambda d: d["sampling"][0].update(times=["4 h"]), r"sampling\[0\].times\[0\]"),
        (lambda d: d["sampling"][0].update(volume="0.5 mA"), r"sampling\[0\].volume"),
        (
            lambda d: d["boundary"].update(right={"type": "electrode", "electrode": "Ag/AgCl"}),
            r"sampling\[0\].side",
        ),
        (lambda d: d["report"][1].pop("reservoir"), r"report\[1\].reservoir"),
    ],
    ids=["volume-left", "whole-chamber", "at-the-end", "unit", "not-a-reservoir", "no-side"],
)
def test_bad_sampling_input(edit: Any, match: str) -> None:
    data = copy.deepcopy(_data())
    edit(data)
    with pytest.raises(ConfigError, match=match):
        problem_from_dict(data)


def test_sampling_the_donor_closes_the_balances_through_the_left_end() -> None:
    """Sampling the left (donor) reservoir: a tenth of the donor leaves at each time and
    is replaced by fresh donor solution, so the net drug withdrawn is a tenth of what the
    donor held minus the 0.1 mL of 20 mM brought back (negative: the donor has been
    depleted); the left end's inflow carries it and every balance closes."""
    data = _data()
    data["sampling"] = [{"side": "left", "times": ["2 h"], "volume": "0.1 mL"}]
    data["report"] = [
        {"name": "donor_before", "quantity": "amount", "species": "D+", "reservoir": "left",
         "time": "2 h", "side": "before"},
        {"name": "donor_after", "quantity": "amount", "species": "D+", "reservoir": "left",
         "time": "2 h"},
        {"name": "withdrawn", "quantity": "withdrawn", "species": "D+", "reservoir": "left",
         "time": "2 h"},
    ]  # fmt: skip
    result = simulate(problem_from_dict(data))
    r = result.reports
    fresh = 0.1 * 20.0 * 1e-6 / 1e-4  # mol/m^2 of electrode: 0.1 mL of 20 mM on 1 cm^2
    assert r["withdrawn"] == pytest.approx(0.1 * r["donor_before"] - fresh, rel=1e-12)
    assert r["donor_after"] == pytest.approx(r["donor_before"] - r["withdrawn"], rel=1e-12)
    assert r["withdrawn"] < 0  # the donor fell below 20 mM: fresh donor brought more back
    assert max(result.balance.values()) < 1e-12
