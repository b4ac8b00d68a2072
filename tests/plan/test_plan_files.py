"""Plan files: strict validation, names resolved in the library, protocol errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from plan_helpers import DELETE, changed, example, plan_of

from ionto.core.errors import ConfigError
from ionto.plan.plan import load_plan
from ionto.plan.protocol import ProtocolSyntaxError


def test_plan_resolves_entries_and_areas() -> None:
    plan = plan_of("lidocaine-forearm")
    assert plan.drug is not None and plan.drug.name == "lidocaine"
    assert plan.active.area == pytest.approx(10e-4)  # from the library
    assert plan.indifferent.area == pytest.approx(10e-4)  # agcl-gel-10 from the library
    assert plan.indifferent_site == "forearm"
    assert plan.protocol.dose_mAmin == pytest.approx(40.0)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"drug": "lidocain"}, "drug: no drug called 'lidocain' (did you mean 'lidocaine'"),
        ({"modality": "ionto"}, "modality: no modality called 'ionto'"),
        ({"site": "arm"}, "site"),
        ({"polarity": "positive"}, "one of: anode, cathode"),
        ({"electrodes": {"active": {"type": "dupel-blue"}}}, "electrodes.active.area"),
        ({"electrodes": {"active": {"area": "-2 cm^2"}}}, "electrodes.active.area"),
        ({"patient": {"pacemakr": False}}, "did you mean 'pacemaker'"),
        ({"patient": {"age": 200}}, "patient.age"),
        ({"protocl": "rest 1 s"}, "did you mean 'protocol'"),
        ({"electrodes": DELETE}, "electrodes: is required"),
    ],
)
def test_bad_plans_are_config_errors(changes: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError) as info:
        plan_of("lidocaine-forearm", **changes)
    assert words in str(info.value)
    assert str(info.value).startswith("lidocaine-forearm.toml")


def test_protocol_errors_point_into_the_protocol_text() -> None:
    with pytest.raises(ProtocolSyntaxError) as info:
        plan_of("lidocaine-forearm", protocol="ramp to 4 mA over 30 s\nhodl 4 mA for 1 min")
    assert info.value.field == "lidocaine-forearm.toml: protocol"
    assert info.value.line == 2
    assert "did you mean 'hold'" in str(info.value)


def test_plan_can_bring_its_own_library(
    write_toml: Callable[[dict[str, Any]], Path], tmp_path: Path
) -> None:
    lib = write_toml(
        {
            "electrode": [
                {
                    "name": "clinic-pad-15",
                    "title": "Our 15 cm2 pad",
                    "material": "carbon",
                    "shape": "rectangle",
                    "reservoir": "pad",
                    "buffered": {"value": False, "source": "ionto-example", "confidence": "I"},
                    "area": {"value": "15 cm^2", "source": "ionto-example", "confidence": "I"},
                }
            ]
        }
    )
    import tomli_w

    data = changed(
        example("lidocaine-forearm"),
        {"libraries": [lib.name], "electrodes": {"indifferent": {"type": "clinic-pad-15"}}},
    )
    path = tmp_path / "plan.toml"
    path.write_text(tomli_w.dumps(data))
    plan = load_plan(path)
    assert plan.indifferent.area == pytest.approx(15e-4)
