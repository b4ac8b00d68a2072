"""Every safety rule: a plan it allows and a plan it refuses (or reports)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from plan_helpers import DELETE, check, plan_of

from ionto.core.errors import ConfigError
from ionto.plan.safety import RuleBook, check_plan, default_rules
from ionto.plan.safety.book import RULES_FILE
from ionto.plan.safety.registry import load_checks

NO_RAMPS = "hold 4 mA until 40 mA*min"
LIDO = "lidocaine-forearm"

# rule id -> (example, changes that keep the rule quiet, changes that trigger it, severity)
CASES: dict[str, tuple[str, dict[str, Any], dict[str, Any], str]] = {
    "protocol.bounded": (
        LIDO,
        {},
        {"protocol": "ramp to 2 mA over 30 s\nhold 2 mA until 40 V\nramp to 0 mA over 30 s"},
        "error",
    ),
    "polarity.required": ("desincrustation-face", {}, {"polarity": DELETE}, "error"),
    "polarity.substance": (LIDO, {}, {"polarity": "cathode"}, "error"),
    "polarity.modality": ("desincrustation-face", {}, {"polarity": "anode"}, "error"),
    "electrode.silver-anode-chloride": (LIDO, {}, {"drug": "glycopyrrolate"}, "error"),
    "substance.required": (LIDO, {}, {"drug": DELETE}, "error"),
    "substance.unexpected": ("microcurrent-face", {}, {"drug": "ascorbate"}, "warning"),
    "current.max": (
        LIDO,
        {"electrodes": {"active": {"area": "20 cm^2"}}},
        {
            "electrodes": {"active": {"area": "20 cm^2"}},
            "protocol": "ramp to 5 mA over 30 s\nhold 5 mA until 30 mA*min\nramp to 0 mA over 30 s",
        },
        "error",
    ),
    "current.density": (LIDO, {}, {"electrodes": {"active": {"area": "5 cm^2"}}}, "error"),
    "current.density-advisory": (
        LIDO,
        {},
        {"electrodes": {"active": {"area": "1.5 cm^2"}}},
        "warning",
    ),
    "dose.electrode": (
        LIDO,
        {"electrodes": {"active": {"type": "dupel-blue", "area": "10 cm^2"}}},
        {
            "electrodes": {"active": {"type": "dupel-blue", "area": "10 cm^2"}},
            "protocol": "ramp to 4 mA over 30 s\nhold 4 mA until 88 mA*min\nramp to 0 mA over 30 s",
        },
        "error",
    ),
    "dose.modality": (
        LIDO,
        {},
        {"protocol": "ramp to 4 mA over 30 s\nhold 4 mA until 88 mA*min\nramp to 0 mA over 30 s"},
        "error",
    ),
    "dose.target": (
        LIDO,
        {},
        {"protocol": "ramp to 4 mA over 30 s\nhold 4 mA until 28 mA*min\nramp to 0 mA over 30 s"},
        "info",
    ),
    "microcurrent.cap": (
        "microcurrent-face",
        {"protocol": "pulse 600 uA at 0.5 Hz, 50% duty, biphasic, for 20 min"},
        {"protocol": "pulse 700 uA at 0.5 Hz, 50% duty, biphasic, for 20 min"},
        "error",
    ),
    "ramp.abrupt": (LIDO, {}, {"protocol": NO_RAMPS}, "error"),
    "ramp.short": (
        LIDO,
        {},
        {"protocol": "ramp to 4 mA over 5 s\nhold 4 mA until 39 mA*min\nramp to 0 mA over 30 s"},
        "warning",
    ),
    "ems.pulse-energy": (
        "ems-quadriceps",
        {"parameters": {"ems.pulse-energy": {"max_energy": "2 mJ"}}},
        {"parameters": {"ems.pulse-energy": {"max_energy": "1 mJ"}}},
        "error",
    ),
    "ems.peak-voltage": (
        "ems-quadriceps",
        {},
        {"parameters": {"ems.peak-voltage": {"load": "10 kohm"}}},
        "error",
    ),
    "ems.phase-charge": (
        "ems-quadriceps",
        {"parameters": {"ems.phase-charge": {"max_phase_charge": "20 uC"}}},
        {"parameters": {"ems.phase-charge": {"max_phase_charge": "10 uC"}}},
        "error",
    ),
    "ems.dc-component": (
        "ems-quadriceps",
        {},
        {"protocol": "repeat 20 times: pulse 60 mA at 40 Hz, 300 us wide, for 10 s; rest 30 s end"},
        "warning",
    ),
    "session.duration": (
        "tap-water-palms",
        {},
        {"protocol": "ramp to 15 mA over 30 s\nhold 15 mA for 40 min\nramp to 0 mA over 30 s"},
        "warning",
    ),
    "electrode.wear-time": (
        LIDO,
        {
            "electrodes": {"active": {"type": "ibresis", "area": "5 cm^2"}},
            "protocol": "ramp to 0.1 mA over 30 s\nhold 0.1 mA for 3 h\nramp to 0 mA over 30 s",
        },
        {
            "electrodes": {"active": {"type": "ibresis", "area": "5 cm^2"}},
            "protocol": "ramp to 0.1 mA over 30 s\nhold 0.1 mA for 5 h\nramp to 0 mA over 30 s",
        },
        "error",
    ),
    "electrode.self-adhesive": (
        LIDO,
        {},
        {"electrodes": {"active": {"type": "ems-pad-4x10"}}},
        "warning",
    ),
    "contraindication.answer": (LIDO, {}, {"patient": {"pacemaker": True}}, "error"),
    "contraindication.site": (LIDO, {}, {"site": "eyes"}, "error"),
    "contraindication.allergy": (
        LIDO,
        {"patient": {"allergies": ["penicillin"]}},
        {"patient": {"allergies": ["Lidocaine"]}},
        "error",
    ),
    "screening.unanswered": (LIDO, {}, {"patient": DELETE}, "warning"),
    "age.minimum": ("tap-water-palms", {"patient": {"age": 6}}, {"patient": {"age": 5}}, "error"),
    "substance.prescription": (LIDO, {"drug": "calcium-chloride"}, {}, "warning"),
}


def test_every_rule_has_a_case() -> None:
    """Prediction rules have their allowed / refused cases in test_simulation_rules.py."""
    rules = default_rules().rules
    assert set(CASES) == {r for r, rule in rules.items() if not rule.prediction}


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_allows(rule_id: str) -> None:
    name, allowed, _, severity = CASES[rule_id]
    report = check(name, **allowed)
    hits = [f for f in report.findings if f.id == rule_id and f.severity == severity]
    assert not hits, hits


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_refuses(rule_id: str) -> None:
    name, _, refused, severity = CASES[rule_id]
    report = check(name, **refused)
    hits = [f for f in report.findings if f.id == rule_id]
    assert hits, report.findings
    assert hits[0].severity == severity
    assert hits[0].source and hits[0].citation
    assert report.refused == any(f.severity == "error" for f in report.findings)
    if severity == "error":
        assert report.refused


def test_refusal_names_the_values() -> None:
    report = check(LIDO, electrodes={"active": {"area": "5 cm^2"}})
    (finding,) = [f for f in report.findings if f.id == "current.density"]
    assert "0.8 mA/cm^2" in finding.message and "0.5 mA/cm^2" in finding.message


# ------------------------------------------------------------------ options and overrides


def test_disputed_density_limits_are_options() -> None:
    assert not check(LIDO).refused
    strict = check(LIDO, options={"current_density": "gbo-iontophoresis"})
    assert "current.density" in {f.id for f in strict.of("error")}
    split = check(
        LIDO, electrodes={"active": {"area": "5 cm^2"}}, options={"current_density": "split"}
    )
    assert "current.density" not in split.ids  # anode 0.8 <= 1.0 (split, unconfirmed)


def test_capacity_option_selects_the_510k_rating() -> None:
    changes = CASES["dose.electrode"][2]
    assert (
        "dose.electrode" not in check(LIDO, **changes, options={"electrode_capacity": "510k"}).ids
    )
    with pytest.raises(ConfigError, match="capacity option 'lable'"):
        check(LIDO, **changes, options={"electrode_capacity": "lable"})


def test_C3_microcurrent_cap_600_uA_by_default_and_configurable() -> None:
    """Microcurrent must never exceed about 500-600 uA: the planner refuses a peak above
    the cap (600 uA by default) and a clinic may choose the stricter 500 uA option."""
    at_cap = "pulse 600 uA at 0.5 Hz, 50% duty, biphasic, for 20 min"
    above = "pulse 610 uA at 0.5 Hz, 50% duty, biphasic, for 20 min"
    assert "microcurrent.cap" not in check("microcurrent-face", protocol=at_cap).ids
    refused = check("microcurrent-face", protocol=above)
    assert refused.refused and "microcurrent.cap" in {f.id for f in refused.of("error")}
    protocol = "pulse 550 uA at 0.5 Hz, 50% duty, biphasic, for 20 min"
    assert "microcurrent.cap" not in check("microcurrent-face", protocol=protocol).ids
    assert (
        "microcurrent.cap"
        in check("microcurrent-face", protocol=protocol, options={"microcurrent_cap": "fsm"}).ids
    )


def test_current_max_option() -> None:
    protocol = "ramp to 4.5 mA over 30 s\nhold 4.5 mA until 38 mA*min\nramp to 0 mA over 30 s"
    area = {"active": {"area": "20 cm^2"}}
    assert "current.max" in check(LIDO, protocol=protocol, electrodes=area).ids
    report = check(LIDO, protocol=protocol, electrodes=area, options={"current_max": "acetic-high"})
    assert "current.max" not in report.ids
    with pytest.raises(ConfigError, match="options.current_max: no option 'acetic'"):
        check(LIDO, protocol=protocol, electrodes=area, options={"current_max": "acetic"})


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"options": {"current_densty": "gbo"}}, "did you mean 'current_density'"),
        ({"options": {"current_density": "gbo"}}, "no option 'gbo'"),
        ({"parameters": {"ems.pulse-energi": {"load": "1 ohm"}}}, "no rule 'ems.pulse-energi'"),
        ({"parameters": {"current.density": {"anod": "1 mA/cm^2"}}}, "did you mean 'anode'"),
        (
            {"parameters": {"current.density": {"anode": "1 mA"}}},
            "parameters.current.density.anode",
        ),
    ],
)
def test_bad_options_and_parameters_are_config_errors(changes: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
        check(LIDO, **changes)


# ------------------------------------------------------------------ disputed values warn


def test_disputed_substance_polarity_only_warns() -> None:
    report = check("desincrustation-face", polarity="anode")
    substance = [f for f in report.findings if f.id == "polarity.substance"]
    assert substance[0].severity == "warning"
    assert "disputed or unconfirmed" in substance[0].message
    assert [f.severity for f in report.findings if f.id == "polarity.modality"] == ["error"]


def test_disputed_contraindication_only_warns() -> None:
    report = check("ems-quadriceps", patient={"pregnancy": True})
    (finding,) = [f for f in report.findings if f.id == "contraindication.answer"]
    assert finding.severity == "warning"


def test_local_contraindication_and_precaution_warn() -> None:
    assert [f.severity for f in check("microcurrent-face", site="eyes").findings] == ["warning"]
    report = check(LIDO, patient={"metal_implants": True})
    assert [f.severity for f in report.findings if f.id == "contraindication.answer"] == ["warning"]


def test_P20_prescription_status_by_jurisdiction_is_reported_never_assumed() -> None:
    restricted = check(LIDO, drug="fentanyl")
    (finding,) = [f for f in restricted.findings if f.id == "substance.prescription"]
    assert "restricted" in finding.message and "REMS" in finding.message
    elsewhere = check(LIDO, drug="fentanyl", jurisdiction="UK")
    assert (
        "unknown" in next(f for f in elsewhere.findings if f.id == "substance.prescription").message
    )
    nowhere = check(LIDO, jurisdiction=DELETE)
    assert (
        "no jurisdiction"
        in next(f for f in nowhere.findings if f.id == "substance.prescription").message
    )


def test_polarity_reversal_warns_for_a_drug() -> None:
    report = check(
        LIDO,
        protocol="ramp to 2 mA over 30 s\nreverse polarity every 5 min at 2 mA for 10 min\n"
        "ramp to 0 mA over 30 s",
    )
    assert any(f.id == "polarity.substance" and "reverses" in f.message for f in report.findings)


# ------------------------------------------------------------------ the rule book


def test_rule_book_matches_the_code() -> None:
    from ionto.plan.safety.registry import PREDICTION_CHECKS

    book = RuleBook.load()
    assert set(book.rules) == set(load_checks()) | set(PREDICTION_CHECKS)
    assert not set(load_checks()) & set(PREDICTION_CHECKS)
    for rule in book.rules.values():
        assert rule.explanation and rule.source


def write_rules(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text)
    return path


def test_rules_file_with_unknown_rule_or_bad_unit_is_refused(tmp_path: Path) -> None:
    text = RULES_FILE.read_text()
    with pytest.raises(ConfigError, match="no code for rule 'current.densty'"):
        RuleBook.load(
            write_rules(
                tmp_path, text.replace('id = "current.density"\n', 'id = "current.densty"\n')
            )
        )
    with pytest.raises(ConfigError, match="cap"):
        RuleBook.load(
            write_rules(
                tmp_path, text.replace('cap = { value = "600 uA"', 'cap = { value = "600 uV"')
            )
        )
    with pytest.raises(ConfigError, match="missing from the file: age.minimum"):
        cut = text.split('[[rule]]\nid = "age.minimum"')[0]
        tail = text.split('[[rule]]\nid = "substance.prescription"')[1]
        RuleBook.load(write_rules(tmp_path, cut + '[[rule]]\nid = "substance.prescription"' + tail))


def test_extra_checks_hook_adds_findings() -> None:
    from ionto.plan.safety import Finding

    def predicted_ph(plan: object) -> list[Finding]:
        return [
            Finding("sim.ph", "warning", "predicted pH 9.1 under the cathode", ("ionto-inference",))
        ]

    report = check_plan(plan_of(LIDO), extra=[predicted_ph])
    assert "sim.ph" in report.ids
