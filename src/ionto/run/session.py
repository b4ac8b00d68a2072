"""A treatment session from a plan: safety clearance, electrode limits, the load of the
simulated source, the controller and the session log, wired together.

>>> from ionto.plan.plan import load_plan
>>> from ionto.run.clock import SimClock
>>> from ionto.run.session import run_plan, simulated_source
>>> import tempfile
>>> plan = load_plan("examples/plans/lidocaine-forearm.toml")
>>> clock = SimClock()
>>> source = simulated_source(plan, clock)
>>> result = run_plan(plan, source, clock=clock, directory=tempfile.mkdtemp(), confirm=True)
>>> result.outcome.exit_status
'success'

:func:`resume_plan_session` runs the remainder of an acknowledged interrupted session
(:func:`ionto.run.session_log.plan_resume`), linked to it by ``resumes`` in its log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ionto.run.clearance import prepare
from ionto.run.controller import Controller, ControllerConfig, Listener, Outcome, Sample
from ionto.run.session_log import ResumePlan, SessionLog, mark_resumed

if TYPE_CHECKING:
    from ionto.plan.plan import Plan
    from ionto.run.clock import Clock
    from ionto.run.devices import CurrentSource, SimulatedCurrentSource, SkinLoad


@dataclass(frozen=True)
class SessionResult:
    """How a session ended, its uid and log path, and the controller (events, counters)."""

    outcome: Outcome
    uid: str
    path: Path
    controller: Controller


def plan_load(plan: Plan, skin_type: str = "human") -> SkinLoad:
    """The simulated load of a plan: its site and its two electrodes' areas."""
    from ionto.run.devices.skin import SkinLoad

    return SkinLoad.from_physiology(
        skin_type, plan.site, plan.active.area_cm2, plan.indifferent.area_cm2
    )


def simulated_source(
    plan: Plan, clock: Clock, *, skin_type: str = "human", seed: int = 0
) -> SimulatedCurrentSource:
    """A connected simulated source on the plan's load."""
    from ionto.run.devices import SimulatedCurrentSource

    source = SimulatedCurrentSource(plan_load(plan, skin_type), clock=clock, seed=seed)
    source.connect()
    return source


def run_plan(
    plan: Plan,
    device: CurrentSource,
    *,
    clock: Clock,
    directory: str | Path,
    confirm: bool,
    config: ControllerConfig | None = None,
    listeners: tuple[Listener, ...] = (),
    on_period: Callable[[Controller, Sample], None] | None = None,
    resume: ResumePlan | None = None,
    fresh_electrodes: bool = False,
    info: dict[str, Any] | None = None,
    sync: bool = True,
) -> SessionResult:
    """Run ``plan`` on a connected ``device`` and log it in ``directory``.

    ``confirm``: the operator confirms the electrode placement and the questionnaire.
    ``resume``: run the remainder of that interrupted session instead of the whole plan
    (its dose target is the dose left; the electrodes count the charge already passed
    unless ``fresh_electrodes``). ``sync``: fsync every log line (see SessionLog).
    """
    clearance, limits = prepare(plan)
    protocol = plan.protocol
    config = config or ControllerConfig()
    extra: dict[str, Any] = {
        "plan": plan.source,
        "title": plan.title,
        "modality": plan.modality.name,
        "site": plan.site,
        "polarity": plan.polarity,
    }
    load = getattr(device, "load", None)
    if load is not None and hasattr(load, "description"):
        extra["load"] = {"description": load.description, "provenance": dict(load.provenance)}
    if resume is not None:
        if str(resume.original) != str(plan.protocol):
            raise ValueError(
                f"session {resume.resumes[:8]} ran a different protocol than {plan.source}"
            )
        protocol = resume.protocol
        clearance = clearance.for_remainder(protocol, plan.protocol, resume.resumes)
        if not fresh_electrodes:
            limits = tuple(replace(x, used_mAmin=resume.delivered_mAmin) for x in limits)
        config = replace(config, target_dose_mAmin=resume.remaining_mAmin)
        extra["resumes"] = resume.resumes
    log = SessionLog(directory, sync=sync)
    if resume is not None:
        mark_resumed(resume.path, log.uid)  # before any current: a second resume is refused
    ctl = Controller(
        device,
        protocol,
        config=config,
        clock=clock,
        polarity_confirmed=confirm,
        contraindications_confirmed=confirm,
        listeners=(log, *listeners),
        on_period=on_period,
        info={**extra, **(info or {})},
        clearance=clearance,
        electrodes=limits,
    )
    try:
        outcome = ctl.run()
    finally:
        log.close()
    return SessionResult(outcome, log.uid, log.path, ctl)
