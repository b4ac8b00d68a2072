"""What the controller needs to know about a plan before it passes current.

* :class:`SafetyClearance`: proof that the plan safety checker (``ionto.plan.safety``)
  ran on the plan, including the rules on the active electrode's polarity versus the
  drug's charge and on contraindications, and did not refuse it. It carries the
  polarity of the active electrode, which the controller uses for the sign of the
  current and for the electrical polarity check.
* :class:`ElectrodeLimit`: each electrode's rated capacity (mA*min per session) from the
  plan library, which the controller enforces.

:func:`prepare` builds both from a :class:`~ionto.plan.plan.Plan`. A run without a plan
(bench tests on a resistor or the simulated load) needs an explicit
:meth:`SafetyClearance.bench` waiver, which the session log records.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from ionto.plan.protocol import MA_MIN, Protocol

if TYPE_CHECKING:
    from ionto.plan.plan import Plan
    from ionto.plan.safety.book import RuleBook

Polarity = Literal["anode", "cathode"]

#: Rules that must have run for a clearance: polarity versus the drug's charge, and
#: contraindications (questionnaire, site, allergy).
REQUIRED_RULES = (
    "polarity.required",
    "polarity.substance",
    "polarity.modality",
    "contraindication.answer",
    "contraindication.site",
    "contraindication.allergy",
)


@dataclass(frozen=True)
class SafetyClearance:
    """The result of the plan safety check, as the controller sees it.

    kind: "plan" (checked by ionto.plan.safety) or "bench" (no patient, a waiver);
    plan: the plan's source; polarity: of the active electrode (None: not stated, e.g. a
    biphasic modality; the current's sign then follows the protocol as written);
    protocol: the canonical protocol text that was checked; rules_checked: ids of the
    rules that ran; refused and reasons: the error findings; warnings: the warning
    findings; remainder_of: uid of the interrupted session this clearance was narrowed
    to (see :meth:`for_remainder`).
    """

    kind: Literal["plan", "bench"]
    plan: str
    polarity: Polarity | None
    protocol: str
    rules_checked: tuple[str, ...]
    refused: bool
    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    remainder_of: str | None = None

    @classmethod
    def bench(
        cls, protocol: Protocol, reason: str, polarity: Polarity | None = "anode"
    ) -> SafetyClearance:
        """A waiver for a run without a patient (a resistor, the simulated load):
        ``reason`` says why; recorded in the session log."""
        return cls("bench", f"bench: {reason}", polarity, str(protocol), (), False)

    def problems(self, protocol: Protocol) -> list[str]:
        """Why this clearance does not allow running ``protocol`` (empty if it does)."""
        out = [f"plan safety check: {r}" for r in self.reasons]
        if self.refused and not out:
            out.append("plan safety check refused the plan")
        if self.kind == "plan":
            missing = [r for r in REQUIRED_RULES if r not in self.rules_checked]
            if missing:
                out.append("plan safety check did not run " + ", ".join(missing))
        if str(protocol) != self.protocol:
            out.append("the protocol differs from the one the safety check cleared")
        return out

    def for_remainder(self, protocol: Protocol, original: Protocol, uid: str) -> SafetyClearance:
        """The same clearance for the remainder of an interrupted session ``uid``: the
        remainder may not exceed the checked protocol's peak current or dose."""
        if protocol.peak_current > original.peak_current * (1 + 1e-9):
            raise ValueError("the remainder's peak current exceeds the cleared protocol's")
        bounded = protocol.bounded and original.bounded
        if bounded and protocol.charge.absolute > original.charge.absolute * (1 + 1e-9):
            raise ValueError("the remainder's dose exceeds the cleared protocol's")
        return replace(self, protocol=str(protocol), remainder_of=uid)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (for the session log)."""
        d = asdict(self)
        for key in ("rules_checked", "reasons", "warnings"):
            d[key] = list(d[key])
        return d


@dataclass(frozen=True)
class ElectrodeLimit:
    """An electrode's charge limit for one session: role ("active", "indifferent"),
    library name, capacity (mA*min), where it comes from, and used_mAmin: charge already
    passed through these electrodes (an interrupted session being resumed)."""

    role: str
    name: str
    capacity_mAmin: float
    source: str = ""
    used_mAmin: float = 0.0

    @property
    def left_mAmin(self) -> float:
        """Capacity still available (mA*min)."""
        return max(0.0, self.capacity_mAmin - self.used_mAmin)

    def describe(self) -> str:
        used = f", {self.used_mAmin:.4g} already used" if self.used_mAmin else ""
        return f"{self.role} electrode {self.name}: {self.capacity_mAmin:.4g} mA*min{used}"


def rules_applied(plan: Plan, book: RuleBook | None = None) -> tuple[str, ...]:
    """Ids of the rules the checker runs for the plan's modality."""
    from ionto.plan.safety import default_rules

    book = book or default_rules()
    return tuple(r for r, rule in book.rules.items() if rule.applies(plan.modality.name))


def clear_plan(plan: Plan, book: RuleBook | None = None) -> SafetyClearance:
    """Run the safety checker on ``plan`` and summarise it (ConfigError for bad options)."""
    from ionto.plan.safety import check_plan, default_rules

    book = book or default_rules()
    report = check_plan(plan, book)
    return SafetyClearance(
        kind="plan",
        plan=plan.source,
        polarity=plan.polarity,
        protocol=str(plan.protocol),
        rules_checked=rules_applied(plan, book),
        refused=report.refused,
        reasons=tuple(f"{f.id}: {f.message}" for f in report.of("error")),
        warnings=tuple(f"{f.id}: {f.message}" for f in report.of("warning")),
    )


def electrode_limits(plan: Plan) -> tuple[ElectrodeLimit, ...]:
    """The plan's electrodes that have a rated capacity, with the plan's
    ``options.electrode_capacity`` choice applied as the safety checker applies it."""
    option = plan.options.get("electrode_capacity")
    out = []
    for use in plan.electrodes:
        cap = use.entry.capacity
        if cap is None:
            continue
        chosen = option if option in cap.option_names() else None
        picked = cap.pick(chosen)
        out.append(
            ElectrodeLimit(
                use.role,
                use.entry.name,
                picked.si / MA_MIN,
                f"{', '.join(picked.source)} ({picked.confidence}; option {picked.option})",
            )
        )
    return tuple(out)


def prepare(plan: Plan) -> tuple[SafetyClearance, tuple[ElectrodeLimit, ...]]:
    """The clearance and electrode limits of a plan (see the module docstring)."""
    return clear_plan(plan), electrode_limits(plan)
