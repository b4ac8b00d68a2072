"""Shared fixtures: a simulated clock and source, and a controller factory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ionto.plan.protocol import parse
from ionto.run.clearance import SafetyClearance
from ionto.run.clock import SimClock
from ionto.run.controller import Controller, ControllerConfig
from ionto.run.devices import SimulatedCurrentSource

LIDOCAINE = "ramp to 4 mA over 30 s; hold 4 mA until 38 mA*min; ramp to 0 mA over 30 s"


@pytest.fixture
def clock() -> SimClock:
    return SimClock()


@pytest.fixture
def source(clock: SimClock) -> SimulatedCurrentSource:
    dev = SimulatedCurrentSource(clock=clock, latency=0.05, seed=1)
    dev.connect()
    return dev


MakeController = Callable[..., Controller]


@pytest.fixture
def make_controller(clock: SimClock, source: SimulatedCurrentSource) -> MakeController:
    def make(text: str = LIDOCAINE, **kwargs: Any) -> Controller:
        config = kwargs.pop("config", None) or ControllerConfig(
            **{k: kwargs.pop(k) for k in list(kwargs) if k in ControllerConfig.__dataclass_fields__}
        )
        kwargs.setdefault("polarity_confirmed", True)
        kwargs.setdefault("contraindications_confirmed", True)
        protocol = parse(text)
        kwargs.setdefault("clearance", SafetyClearance.bench(protocol, "simulated load"))
        return Controller(source, protocol, config=config, clock=clock, **kwargs)

    return make
