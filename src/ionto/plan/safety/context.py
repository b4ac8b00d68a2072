"""What a check sees: the plan, the rule book, selected options and overridden parameters.

Units: current A, time s, charge C, area m^2, current density A/m^2.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from ionto.core.config import suggest
from ionto.core.errors import ConfigError
from ionto.core.units import format_si
from ionto.plan.plan import Plan
from ionto.plan.protocol import Hold, Pulse, Ramp, Reverse, Span
from ionto.plan.safety.book import SPECS, RuleBook
from ionto.plan.values import Picked, to_si

#: Plan [options] keys that pick a library value's alternative rather than a rule option.
LIBRARY_OPTIONS = {"current_max": "current.max", "electrode_capacity": "dose.electrode"}


@dataclass(frozen=True)
class Context:
    """A plan being checked against a rule book."""

    plan: Plan
    book: RuleBook

    def __post_init__(self) -> None:
        self._check_options()
        self._check_parameters()

    # ---------------------------------------------------------------- settings

    def _check_options(self) -> None:
        keys = self.book.option_keys()
        known = sorted({*keys, *LIBRARY_OPTIONS})
        for key, value in self.plan.options.items():
            field_name = f"{self.plan.source}: options.{key}"
            if key in LIBRARY_OPTIONS:
                continue  # checked when the library value is picked
            if key in keys:
                names = ["default", *keys[key].options]
                if value not in names:
                    raise ConfigError(
                        field_name,
                        value,
                        None,
                        "one of: " + ", ".join(names),
                        f"no option {value!r}{suggest(value, names)}",
                    )
            elif key not in LIBRARY_OPTIONS:
                raise ConfigError(
                    field_name,
                    key,
                    None,
                    "one of: " + ", ".join(known),
                    f"unknown option {key!r}{suggest(key, known)}",
                )

    def _check_parameters(self) -> None:
        for rule_id, values in self.plan.parameters.items():
            field_name = f"{self.plan.source}: parameters.{rule_id}"
            if rule_id not in self.book.rules:
                raise ConfigError(
                    field_name,
                    rule_id,
                    None,
                    "a rule id",
                    f"no rule {rule_id!r}{suggest(rule_id, self.book.rules)}",
                )
            spec = SPECS[rule_id]
            for name, text in values.items():
                unit = spec.unit(name)
                if unit is None:
                    known = [*spec.required, *spec.optional]
                    raise ConfigError(
                        f"{field_name}.{name}",
                        name,
                        None,
                        "one of: " + (", ".join(known) or "(none)"),
                        f"rule {rule_id!r} has no parameter {name!r}{suggest(name, known)}",
                    )
                to_si(text, unit, f"{field_name}.{name}")

    def option(self, key: str) -> str | None:
        """The plan's choice for option ``key`` (None = default)."""
        return self.plan.options.get(key)

    def param(self, rule_id: str, name: str) -> Picked | None:
        """A rule parameter: the plan's override, else the selected option, else the default."""
        override = self.plan.parameters.get(rule_id, {}).get(name)
        if override is not None:
            unit = SPECS[rule_id].unit(name)
            assert unit is not None
            return Picked(
                to_si(override, unit), override, "plan", ("plan",), "C", "set in the plan file"
            )
        rule = self.book[rule_id]
        option = self.option(rule.option_key) if rule.option_key else None
        if option is not None and option not in rule.options:
            option = None  # a library option (current_max, electrode_capacity)
        return self.book.parameter(rule_id, name, option)

    # ---------------------------------------------------------------- protocol facts

    @cached_property
    def spans(self) -> list[Span]:
        """The executed steps (stops at the first unbounded one)."""
        return self.plan.protocol.timeline()

    @property
    def bounded(self) -> bool:
        """True when the protocol's duration and dose are known."""
        return self.plan.protocol.bounded

    @property
    def peak(self) -> float:
        """Largest |current| (A)."""
        return self.plan.protocol.peak_current

    @property
    def dose(self) -> float:
        """Absolute charge (C); only valid when ``bounded``."""
        return self.plan.protocol.charge.absolute

    @cached_property
    def reverses(self) -> bool:
        """True when the current ever flows against the plan's polarity."""
        for s in self.spans:
            step = s.step
            if isinstance(step, Reverse) or (isinstance(step, Pulse) and step.biphasic):
                return True
            if isinstance(step, (Ramp, Hold)) and min(s.start_level, s.end_level) < 0:
                return True
        return False


def show(value: float, unit: str) -> str:
    """An SI value in a readable unit for messages: mA, mA*min, mA/cm^2, min."""
    if unit == "A":
        return f"{value * 1e3:.4g} mA"
    if unit == "C":
        return f"{value / 0.06:.4g} mA*min"
    if unit == "A/m^2":
        return f"{value / 10:.4g} mA/cm^2"
    if unit == "m^2":
        return f"{value * 1e4:.4g} cm^2"
    if unit == "s":
        return f"{value / 60:.4g} min" if value >= 60 else f"{value:.4g} s"
    return format_si(float(f"{value:.4g}"), unit)
