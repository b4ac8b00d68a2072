"""Every example plan loads and checks, with the findings it is meant to produce."""

from __future__ import annotations

from pathlib import Path

import pytest
from plan_helpers import EXAMPLES

from ionto.plan.plan import load_plan
from ionto.plan.safety import check_plan

# example -> (modality, refused, {rule id: severity} of every finding)
EXPECTED = {
    "lidocaine-forearm": ("drug-iontophoresis", False, {"substance.prescription": "warning"}),
    "dexamethasone-knee": ("drug-iontophoresis", False, {"substance.prescription": "warning"}),
    "tap-water-palms": ("tap-water-iontophoresis", False, {}),
    "desincrustation-face": ("galvanic-desincrustation", False, {}),
    "vitamin-c-face": ("cosmetic-iontophoresis", False, {}),
    "microcurrent-face": ("microcurrent", False, {}),
    "ems-quadriceps": ("ems", False, {"ems.phase-charge": "info"}),
    "glucose-sampling": ("reverse-iontophoresis", False, {}),
    "acetylcholine-test": ("acetylcholine-test", False, {"substance.prescription": "warning"}),
    "refused-dexamethasone-anode": (
        "drug-iontophoresis",
        True,
        {
            "polarity.substance": "error",
            "dose.electrode": "error",
            "dose.modality": "error",
            "ramp.abrupt": "error",
            "screening.unanswered": "warning",
            "substance.prescription": "warning",
            "dose.target": "info",
        },
    ),
}


def test_every_example_is_listed_and_every_modality_has_one() -> None:
    assert {p.stem for p in EXAMPLES.glob("*.toml")} == set(EXPECTED)
    from ionto.plan.library import builtin_library

    assert {m for m, _, _ in EXPECTED.values()} == set(builtin_library().modalities)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_checks_as_expected(name: str) -> None:
    plan = load_plan(EXAMPLES / f"{name}.toml")
    modality, refused, findings = EXPECTED[name]
    report = check_plan(plan)
    assert plan.modality.name == modality
    assert report.refused is refused
    assert {f.id: f.severity for f in report.findings} == findings
    assert plan.protocol.bounded


def test_examples_are_canonical_protocols() -> None:
    for path in EXAMPLES.glob("*.toml"):
        plan = load_plan(Path(path))
        assert type(plan.protocol).parse(str(plan.protocol)) == plan.protocol
