"""The rule book: ``rules.toml`` validated against the rules implemented in code.

Each rule's parameters are sourced values (:class:`ionto.plan.values.Alternative`)
whose units are declared by the code that uses them (:data:`SPECS`), so a wrong unit in
the data file is an error at load time. ``options`` are alternative parameter sets a
plan selects by the rule's ``option_key``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError

from ionto.core.config import StrictModel, config_error, load_toml, suggest
from ionto.core.errors import ConfigError
from ionto.plan.values import Alternative, Picked, SourceKeys, to_si

Severity = Literal["error", "warning", "info"]
RULES_FILE = Path(__file__).resolve().parent / "rules.toml"


@dataclass(frozen=True)
class ParameterSpec:
    """Units (SI) of a rule's parameters: ``required`` must be in the data file,
    ``optional`` may be set by a plan's ``[parameters]``."""

    required: Mapping[str, str] = field(default_factory=dict)
    optional: Mapping[str, str] = field(default_factory=dict)

    def unit(self, name: str) -> str | None:
        """The SI unit of parameter ``name``, None if the rule has no such parameter."""
        return self.required.get(name) or self.optional.get(name)


#: Filled by :func:`ionto.plan.safety.registry.rule` as the check modules are imported.
SPECS: dict[str, ParameterSpec] = {}
#: Rules checked on a simulated treatment (registered by ``prediction_rule``).
PREDICTION_RULES: set[str] = set()


class RuleIn(StrictModel):
    """``[[rule]]`` of rules.toml."""

    id: str
    severity: Severity
    title: str
    applies_to: list[str] = Field(min_length=1)
    explanation: str
    source: SourceKeys
    downgrade_uncertain: bool = False
    option_key: str | None = None
    prediction: bool = False
    parameters: dict[str, Alternative] = {}
    options: dict[str, dict[str, Alternative]] = {}

    def applies(self, modality: str) -> bool:
        """True if the rule is checked for ``modality``."""
        return "*" in self.applies_to or modality in self.applies_to


class RulesFile(StrictModel):
    """The root of rules.toml."""

    schema_version: Literal[1] = 1
    rule: list[RuleIn] = Field(min_length=1)


@dataclass(frozen=True)
class RuleBook:
    """Validated rules by id, in file order."""

    rules: dict[str, RuleIn]
    source: str = str(RULES_FILE)

    @classmethod
    def load(cls, path: str | Path = RULES_FILE) -> RuleBook:
        """Read and validate a rules file (ConfigError naming the file and key)."""
        from ionto.plan.safety.registry import load_checks

        load_checks()  # fills SPECS

        name = str(path)
        try:
            spec = RulesFile.model_validate(load_toml(path))
        except ValidationError as exc:
            raise config_error(exc, prefix=name) from None
        rules: dict[str, RuleIn] = {}
        for k, rule in enumerate(spec.rule):
            where = f"{name}: rule[{k}]"
            if rule.id in rules:
                raise ConfigError(
                    f"{where}.id",
                    rule.id,
                    None,
                    "a unique id",
                    f"rule {rule.id!r} is defined twice",
                )
            if rule.id not in SPECS:
                raise ConfigError(
                    f"{where}.id",
                    rule.id,
                    None,
                    "a rule implemented in ionto.plan.safety",
                    f"no code for rule {rule.id!r}{suggest(rule.id, SPECS)}",
                )
            if rule.prediction != (rule.id in PREDICTION_RULES):
                raise ConfigError(
                    f"{where}.prediction",
                    rule.prediction,
                    None,
                    str(rule.id in PREDICTION_RULES).lower(),
                    f"rule {rule.id!r} is "
                    + ("" if rule.id in PREDICTION_RULES else "not ")
                    + "checked on a prediction in the code",
                )
            _check_parameters(rule, SPECS[rule.id], where)
            rules[rule.id] = rule
        missing = sorted(set(SPECS) - set(rules))
        if missing:
            raise ConfigError(
                name,
                message="rules implemented in code but missing from the file: "
                + ", ".join(missing),
            )
        return cls(rules, name)

    def __getitem__(self, rule_id: str) -> RuleIn:
        return self.rules[rule_id]

    def option_keys(self) -> dict[str, RuleIn]:
        """``option_key -> rule`` for the rules a plan can select options of."""
        return {r.option_key: r for r in self.rules.values() if r.option_key}

    def parameter(self, rule_id: str, name: str, option: str | None = None) -> Picked | None:
        """Parameter ``name`` of rule ``rule_id`` (from ``option`` if given and it sets it)."""
        rule = self.rules[rule_id]
        unit = SPECS[rule_id].unit(name)
        assert unit is not None, f"rule {rule_id} has no parameter {name}"
        chosen = "default"
        value = rule.parameters.get(name)
        if option is not None and option != "default":
            value = rule.options[option].get(name, value)
            chosen = option
        if value is None:
            return None
        return Picked(
            to_si(value.value, unit),
            str(value.value),
            chosen,
            value.source,
            value.confidence,
            value.note,
        )


def _check_parameters(rule: RuleIn, spec: ParameterSpec, where: str) -> None:
    tables = [("parameters", rule.parameters)] + [
        (f"options.{n}", t) for n, t in rule.options.items()
    ]
    for table_name, table in tables:
        if table_name == "parameters":
            missing = sorted(set(spec.required) - set(table))
            if missing:
                raise ConfigError(
                    f"{where}.parameters",
                    None,
                    None,
                    ", ".join(spec.required),
                    f"missing parameter(s): {', '.join(missing)}",
                )
        for name, value in table.items():
            unit = spec.unit(name)
            path = f"{where}.{table_name}.{name}"
            if unit is None:
                known = [*spec.required, *spec.optional]
                raise ConfigError(
                    path,
                    name,
                    None,
                    "one of: " + (", ".join(known) or "(none)"),
                    f"unknown parameter {name!r}{suggest(name, known)}",
                )
            try:
                to_si(value.value, unit, f"{path}.value")
            except ConfigError as exc:
                raise exc from None
    if rule.options and not rule.option_key:
        raise ConfigError(
            f"{where}.option_key",
            None,
            None,
            "a plan [options] key",
            "a rule with options needs an option_key",
        )


@lru_cache(maxsize=1)
def default_rules() -> RuleBook:
    """The built-in rule book (loaded once)."""
    return RuleBook.load()
