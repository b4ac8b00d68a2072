"""An electrode's rated capacity spent during a plan: when, in the Prediction, in
``ionto plan --json``, in the treatment report (text and pH figure), and none within it."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from plan_helpers import changed, example, plan_of
from typer.testing import CliRunner

from ionto.plan.cli import app
from ionto.plan.predict.run import Prediction, predict

pytestmark = pytest.mark.engine

# the ActivaTek Trivarion (Ag/AgCl, rated 80 mA*min = 4.8 C) as the lidocaine anode
TRIVARION = {"active": {"type": "activatek-trivarion", "area": "10 cm^2"}}
# 1 + 96 + 1 = 98 mA*min at 4 mA: the 80 mA*min are spent 30 s + (4.8 - 0.06) C / 4 mA
BEYOND = "ramp to 4 mA over 30 s\nhold 4 mA until 96 mA*min\nramp to 0 mA over 30 s"
SPENT_AT = 30.0 + (80 * 0.06 - 0.06) / 4e-3  # s = 1215 s = 20.25 min


@pytest.fixture(scope="module")
def beyond() -> Prediction:
    return predict(plan_of("lidocaine-forearm", electrodes=TRIVARION, protocol=BEYOND))


def test_spent_capacity_is_one_exhaustion_at_the_time_the_set_current_predicts(
    beyond: Prediction,
) -> None:
    assert beyond.time_at_compliance == 0.0  # the set current flows throughout
    assert len(beyond.exhaustions) == 1
    when, role, kind = beyond.exhaustions[0]
    assert (role, kind) == ("active", "anodic")  # the engine's left electrode is the active
    assert when == pytest.approx(SPENT_AT, rel=1e-6)
    # the charge that had flowed then is the rating (dose series interpolated)
    assert np.interp(when, beyond.times, beyond.dose) == pytest.approx(4.8, rel=1e-3)
    # acid from then on: the anode's pH held before, falling after
    before = beyond.times < 0.9 * when
    after = beyond.times > when + 300.0
    assert beyond.pH_electrode[before].min() > beyond.pH_electrode[0] - 0.5
    assert beyond.pH_electrode[after].min() < beyond.pH_electrode[before].min() - 1.0
    (message,) = beyond.exhaustion_messages()
    assert "active Ag/AgCl anode 'activatek-trivarion'" in message
    assert "rated capacity (80 mA*min) was spent at 20.25 min" in message
    assert "making acid" in message


def test_within_capacity_no_exhaustion() -> None:
    p = predict(plan_of("lidocaine-forearm", electrodes=TRIVARION))  # 40 of 80 mA*min
    assert p.dose[-1] == pytest.approx(2.4, rel=1e-9)
    assert p.exhaustions == [] and p.exhaustion_messages() == []
    assert p.to_dict()["exhaustions"] == []


def test_json_states_the_exhaustion_with_units(beyond: Prediction) -> None:
    data = beyond.to_dict()
    assert data["exhaustions"] == [
        {"time": pytest.approx(SPENT_AT, rel=1e-6), "electrode": "active", "direction": "anodic"}
    ]
    assert data["units"]["exhaustions"].startswith("time in s")
    assert any("was spent at 20.25 min" in n for n in data["notes"])


def test_pH_figure_marks_the_exhaustion(beyond: Prediction) -> None:
    from ionto.plan.report.figures import ph_course

    fig = ph_course(beyond, {})
    (ax,) = fig.axes
    handles, labels = ax.get_legend_handles_labels()
    assert "active anode: capacity spent" in labels
    line = handles[labels.index("active anode: capacity spent")]
    assert line.get_xdata()[0] == pytest.approx(SPENT_AT / 60.0, rel=1e-6)


class Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def test_plan_command_shows_it_in_json_and_in_the_report(tmp_path: Path) -> None:
    import tomli_w

    plan = tmp_path / "beyond.toml"
    data = changed(example("lidocaine-forearm"), {"electrodes": TRIVARION, "protocol": BEYOND})
    plan.write_text(tomli_w.dumps(data))
    html = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["plan", str(plan), "--json", "--report", str(html)])
    assert result.exit_code == 1, result.stdout + result.stderr  # refused: dose > capacity
    out = json.loads(result.stdout)
    assert "dose.electrode" in {f["id"] for f in out["findings"]}
    (event,) = out["prediction"]["exhaustions"]
    assert event["time"] == pytest.approx(SPENT_AT, rel=1e-6)
    assert (event["electrode"], event["direction"]) == ("active", "anodic")
    page = Text()
    page.feed(html.read_text())
    text = " ".join(" ".join(page.parts).split())
    assert "electrode capacity spent" in text
    assert "rated capacity (80 mA*min) was spent at 20.25 min" in text
