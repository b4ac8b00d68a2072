"""Bad scenario files: every kind of mistake gives one ConfigError naming the field.

Each case starts from benchmarks/R1.toml, breaks one thing, writes the file to tmp_path
and loads it. The message must start with the field path and fit on one line.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ionto.core.errors import ConfigError
from ionto.simulate.scenario import load_problem

Data = dict[str, Any]


def _set(path: str, value: object) -> Callable[[Data], None]:
    """Mutation that sets a dotted path (``layers.1.thickness``) to ``value``."""

    def mutate(data: Data) -> None:
        keys = path.split(".")
        node: Any = data
        for key in keys[:-1]:
            node = node[int(key)] if key.isdigit() else node[key]
        last = keys[-1]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def _delete(path: str) -> Callable[[Data], None]:
    def mutate(data: Data) -> None:
        keys = path.split(".")
        node: Any = data
        for key in keys[:-1]:
            node = node[int(key)] if key.isdigit() else node[key]
        del node[keys[-1]]

    return mutate


def _do(*mutations: Callable[[Data], None]) -> Callable[[Data], None]:
    def mutate(data: Data) -> None:
        for m in mutations:
            m(data)

    return mutate


def _append(path: str, value: object) -> Callable[[Data], None]:
    def mutate(data: Data) -> None:
        node: Any = data
        for key in path.split("."):
            node = node[int(key)] if key.isdigit() else node[key]
        node.append(value)

    return mutate


NEUTRAL = {"name": "Urea", "charge": 0, "diffusivity": "1.4e-9 m^2/s"}
NO_REPORTS = _set("report", [])

# (id, mutation, field the message must start with, words it must contain)
CASES: list[tuple[str, Callable[[Data], None], str, str]] = [
    # missing things
    ("missing-en-species", _delete("electroneutral_species"), "electroneutral_species", "required"),
    ("missing-diffusivity", _delete("species.0.diffusivity"), "species[0].diffusivity", "required"),
    ("missing-thickness", _delete("layers.2.thickness"), "layers[2].thickness", "required"),
    ("missing-boundary", _delete("boundary.right"), "boundary.right", "required"),
    ("missing-control", _delete("control"), "control", "required"),
    ("missing-duration", _delete("control.0.duration"), "control[0].duration", "required"),
    ("empty-species", _set("species", []), "species", "at least one"),
    # wrong units, values, numbers
    ("thickness-in-seconds", _set("layers.1.thickness", "20 s"), "layers[1].thickness", "dimension"),
    ("thickness-negative", _set("layers.1.thickness", "-20 um"), "layers[1].thickness", "> 0"),
    ("thickness-zero", _set("layers.1.thickness", "0 um"), "layers[1].thickness", "> 0"),
    ("thickness-no-unit", _set("layers.1.thickness", 20), "layers[1].thickness", "no unit"),
    ("unknown-unit", _set("layers.0.thickness", "1 furlongz"), "layers[0].thickness", "valid quantity"),
    ("diffusivity-nan", _set("species.1.diffusivity", "nan m^2/s"), "species[1].diffusivity", "finite"),
    ("factor-toml-nan", _set("layers.1.diffusivity_factor", float("nan")), "layers[1].diffusivity_factor", "finite"),
    ("concentration-inf", _set("layers.0.initial", {"Lid+": "inf mM"}), 'layers[0].initial["Lid+"]', "finite"),
    ("negative-concentration", _set("layers.0.initial", {"Lid+": "-1 mM"}), 'layers[0].initial["Lid+"]', ">= 0"),
    ("factor-with-unit", _set("layers.1.diffusivity_factor", "1e-4 m"), "layers[1].diffusivity_factor", "plain number"),
    ("charge-fractional", _set("species.0.charge", 1.5), "species[0].charge", "integer"),
    ("charge-string", _set("species.0.charge", "1"), "species[0].charge", "integer"),
    ("temperature-zero", _set("temperature", "0 K"), "temperature", "> 0"),
    ("temperature-negative", _set("temperature", "-5 K"), "temperature", "> 0"),
    ("growth-one", _set("mesh.growth", 1.0), "mesh.growth", "> 1"),
    ("min-cell-above-max", _set("mesh.min_cell", "50 um"), "mesh.min_cell", "mesh.max_cell"),
    ("layer-max-cell-below-min", _set("layers.0.max_cell", "0.01 um"), "layers[0].max_cell", "mesh.min_cell"),
    ("rtol-too-big", _set("solver.rtol", 0.5), "solver.rtol", "< 0.1"),
    ("rtol-zero", _set("solver.rtol", 0), "solver.rtol", "> 0"),
    ("atol-wrong-unit", _set("solver.atol", "1e-6 s"), "solver.atol", "dimension"),
    ("duration-zero", _set("control.0.duration", "0 s"), "control[0].duration", "> 0"),
    ("duration-negative", _set("control.1.duration", "-10 s"), "control[1].duration", "> 0"),
    ("current-density-as-current", _set("control.0.current_density", "5 mA"), "control[0].current_density", "dimension"),
    ("ramp-three-values", _set("control.0.current_density", ["0 A/m^2", "1 A/m^2", "2 A/m^2"]), "control[0].current_density", "3 entries"),
    ("electrode-area-zero", _do(_set("electrode_area", "0 cm^2")), "electrode_area", "> 0"),
    ("schema-version", _set("schema_version", 2), "schema_version", "one of"),
    # unknown keys and names
    ("unknown-top-key", _set("temprature", "305 K"), "temprature", "did you mean 'temperature'"),
    ("unknown-layer-key", _set("layers.0.thicknes", "1 mm"), "layers[0].thicknes", "did you mean 'thickness'"),
    ("unknown-report-key", _set("report.0.specie", "Lid+"), "report[0].specie", "did you mean 'species'"),
    ("unknown-boundary-type", _set("boundary.right.type", "fixd"), "boundary.right.type", "did you mean 'fixed'"),
    ("unknown-electrode", _set("boundary.left.electrode", "Ag/AgCI"), "boundary.left.electrode", "did you mean 'Ag/AgCl'"),
    ("unknown-quantity", _set("report.0.quantity", "releasd"), "report[0].quantity", "did you mean 'released'"),
    ("unknown-species-initial", _set("layers.0.initial", {"Lid": "100 mM"}), 'layers[0].initial["Lid"]', "did you mean 'Lid+'"),
    ("unknown-species-factors", _set("layers.1.diffusivity_factors", {"K+": 0.5}), 'layers[1].diffusivity_factors["K+"]', "unknown species"),
    ("unknown-species-boundary", _set("boundary.right.concentrations", {"Na": "150 mM"}), 'boundary.right.concentrations["Na"]', "did you mean 'Na+'"),
    ("unknown-species-exchange", _set("exchange.concentrations", {"K+": "4 mM"}), 'exchange.concentrations["K+"]', "unknown species"),
    ("unknown-species-report", _set("report.0.species", "lidocaine"), "report[0].species", "unknown species"),
    ("unknown-region-layer", _set("report.0.region", "doner"), "report[0].region", "did you mean 'donor'"),
    ("unknown-at-layer", _set("report.5.at", {"layer": "tisue", "depth": "0 um"}), "report[5].at.layer", "did you mean 'tissue'"),
    ("unknown-reaction-rate", _set("layers.2.reaction_rates", {"binding": "1 1/s"}), 'layers[2].reaction_rates["binding"]', "unknown reaction"),
    # duplicates
    ("duplicate-species", _append("species", {"name": "Na+", "charge": 1, "diffusivity": "1e-9 m^2/s"}), "species[3].name", "duplicate"),
    ("duplicate-layer", _set("layers.2.name", "donor"), "layers[2].name", "duplicate"),
    ("duplicate-report", _set("report.1.name", "Q_out_1200"), "report[1].name", "duplicate"),
    ("duplicate-output-time", _set("output.times", ["600 s", "10 min"]), "output.times[1]", "duplicate"),
    # electroneutrality
    ("en-not-a-species", _set("electroneutral_species", "Cl"), "electroneutral_species", "did you mean 'Cl-'"),
    ("en-neutral", _do(_append("species", NEUTRAL), _set("electroneutral_species", "Urea")), "electroneutral_species", "charge 0"),
    ("en-negative-in-layer", _set("layers.1.fixed_charge", "-200 mol/m^3"), "layers[1].initial", "layer 'barrier'"),
    ("en-species-given-initial", _set("layers.0.initial", {"Cl-": "100 mM"}), 'layers[0].initial["Cl-"]', "electroneutrality species"),
    ("en-species-given-fixed", _set("boundary.right.concentrations", {"Cl-": "150 mM"}), 'boundary.right.concentrations["Cl-"]', "electroneutrality species"),
    ("en-exchange-inconsistent", _set("exchange.concentrations", {"Na+": "150 mM", "Cl-": "100 mM"}), 'exchange.concentrations["Cl-"]', "150"),
    ("exchange-missing", _delete("exchange"), "exchange.concentrations", "exchange_rate > 0"),
    # boundaries and electrodes
    ("electrode-missing", _set("boundary.left", {"type": "electrode"}), "boundary.left.electrode", "required"),
    ("electrode-and-reaction", _set("boundary.left.reaction", {"anodic": {"Cl-": -1}, "cathodic": {"Cl-": 1}}), "boundary.left.reaction", "not both"),
    ("reaction-unbalanced", _set("boundary.left", {"type": "electrode", "reaction": {"anodic": {"Cl-": -2}, "cathodic": {"Cl-": 1}}}), "boundary.left.reaction.anodic", "+1"),
    ("reaction-unknown-species", _set("boundary.left", {"type": "electrode", "reaction": {"anodic": {"H+": 1}, "cathodic": {"Cl-": 1}}}), 'boundary.left.reaction.anodic["H+"]', "unknown species"),
    ("inert-needs-h", _set("boundary.left.electrode", "inert"), "boundary.left.electrode", "'H+'"),
    ("fixed-without-concentrations", _set("boundary.right", {"type": "fixed"}), "boundary.right.concentrations", "required"),
    ("key-not-for-type", _set("boundary.right.electrode", "Ag/AgCl"), "boundary.right.electrode", "not used by a boundary of type 'fixed'"),
    ("reservoir-without-volume", _set("boundary.left", {"type": "reservoir", "electrode": "Ag/AgCl"}), "boundary.left.volume_per_area", "exactly one"),
    ("no-flux-with-current", _set("boundary.right", {"type": "no_flux"}), "control[0].current_density", "carries no current"),
    # control program
    ("current-without-area", _set("control.0", {"duration": "1200 s", "current": "5 mA"}), "control[0].current", "electrode_area"),
    ("two-levels", _set("control.0.voltage", "1 V"), "control[0]", "exactly one of"),
    ("no-level", _set("control.0", {"duration": "1200 s"}), "control[0]", "exactly one of"),
    ("pulses-with-duration", _set("control.0", {"pulses": 10, "period": "1 s", "duration": "10 s", "current_density": "5 A/m^2"}), "control[0].duration", "must not be given"),
    ("pulses-without-period", _set("control.0", {"pulses": 10, "current_density": "5 A/m^2"}), "control[0].period", "required"),
    ("pulses-zero", _set("control.0", {"pulses": 0, "period": "1 s", "current_density": "5 A/m^2"}), "control[0].pulses", ">= 1"),
    ("duty-above-one", _set("control.0", {"pulses": 2, "period": "1 s", "duty": 1.5, "current_density": "5 A/m^2"}), "control[0].duty", "<= 1"),
    ("pulses-voltage", _set("control.0", {"pulses": 2, "period": "1 s", "voltage": "1 V"}), "control[0].voltage", "current only"),
    ("period-without-pulses", _set("control.0.period", "1 s"), "control[0].period", "only used with pulses"),
    # times and reports
    ("output-after-end", _set("output.times", ["2 h"]), "output.times[0]", "simulated duration"),
    ("report-after-end", _set("report.0.time", "3601 s"), "report[0].time", "0 to 3600 s"),
    ("report-negative-time", _set("report.0.time", "-1 s"), "report[0].time", ">= 0"),
    ("report-needs-species", _delete("report.0.species"), "report[0].species", "required for quantity 'released'"),
    ("report-needs-region", _delete("report.0.region"), "report[0].region", "required for quantity 'released'"),
    ("report-needs-at", _delete("report.8.at"), "report[8].at", "required for quantity 'concentration'"),
    ("report-region-not-used", _set("report.6.region", "donor"), "report[6].region", "not used by quantity 'voltage'"),
    ("report-species-not-used", _set("report.6.species", "Lid+"), "report[6].species", "not used by quantity 'voltage'"),
    ("report-region-reversed", _set("report.2.region", ["tissue", "barrier"]), "report[2].region", "comes after"),
    ("report-outside-stack", _set("report.8.at", {"layer": "tissue", "depth": "3 mm"}), "report[8].at.depth", "outside the stack"),
    ("report-bad-side", _set("report.5.side", "left"), "report[5].side", "one of"),
    ("region-three-layers", _set("report.2.region", ["donor", "barrier", "tissue"]), "report[2].region", "not a region"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("mutate", "field", "words"),
    [pytest.param(m, f, w, id=i) for i, m, f, w in CASES],
)
def test_bad_scenario(
    r1: Data,
    write_toml: Callable[[Data], Path],
    mutate: Callable[[Data], None],
    field: str,
    words: str,
) -> None:
    mutate(r1)
    path = write_toml(r1)
    with pytest.raises(ConfigError) as info:
        load_problem(path)
    message = str(info.value)
    assert message.startswith(field + ":"), message
    assert words in message, message
    assert "\n" not in message


def test_case_ids_unique() -> None:
    ids = [case[0] for case in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 25


def test_exact_message_for_negative_thickness(r1: Data, write_toml: Callable[[Data], Path]) -> None:
    r1["layers"][1]["thickness"] = "-20 um"
    with pytest.raises(ConfigError) as info:
        load_problem(write_toml(r1))
    assert str(info.value) == "layers[1].thickness: -20 um is not allowed (unit: m; allowed: > 0)"
    assert (info.value.field, info.value.unit, info.value.allowed) == (
        "layers[1].thickness",
        "m",
        "> 0",
    )


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b"  \n\n\t\n", "empty"),
        (b"# only a comment\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
        (bytes(range(256)), "binary"),
        (b'title = "caf\xe9"\n', "UTF-8"),
        (b'title = "R1"\nthickness = 20 um\n', "line 2"),
        (b"[[layers]\nname = 'x'\n", "line 1"),
        (b'title = "unterminated\n', "line 1"),
        (b"a = 1\na = 2\n", "line 2"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        load_problem(path)
    message = str(info.value)
    assert message.startswith(str(path) + ":"), message
    assert words in message
    assert "\n" not in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_problem(tmp_path / "nope.toml")


def test_several_problems_reported_together(r1: Data, write_toml: Callable[[Data], Path]) -> None:
    r1["layers"][0]["thickness"] = "-1 mm"
    r1["species"][0]["diffusivity"] = "1 m"
    with pytest.raises(ConfigError) as info:
        load_problem(write_toml(r1))
    assert str(info.value).startswith("species[0].diffusivity:")
    assert "more problem" in str(info.value)
    assert [e.field for e in info.value.others] == ["species[0].diffusivity", "layers[0].thickness"]


def test_no_report_case_still_valid(r1: Data, write_toml: Callable[[Data], Path]) -> None:
    NO_REPORTS(r1)
    assert load_problem(write_toml(r1)).reports == ()


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("species", "Na+", "not an array"),
        ("control", {"duration": "1 s", "current_density": "1 A/m^2"}, "[[control]]"),
        ("boundary", "x", "not a table"),
        ("title", 5, "not a string"),
    ],
)
def test_wrong_toml_types(
    r1: Data, write_toml: Callable[[Data], Path], key: str, value: object, words: str
) -> None:
    r1[key] = value
    with pytest.raises(ConfigError) as info:
        load_problem(write_toml(r1))
    assert str(info.value).startswith(f"{key}:")
    assert words in str(info.value)
