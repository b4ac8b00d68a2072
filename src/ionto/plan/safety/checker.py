"""The safety checker: a :class:`Plan` against the rule book -> a :class:`Report`.

>>> from ionto.plan.plan import load_plan
>>> report = check_plan(load_plan("examples/plans/lidocaine-forearm.toml"))
>>> report.refused
False

A plan with an error finding is refused (``report.refused``); warnings and infos are
reported. Every finding names its rule id and sources. Simulation-based checks (the
rules with ``prediction = true``: pH under the active electrode, burn risk) plug in
through ``extra``: ``check_plan(plan, extra=[SimulationCheck()])`` (see
:mod:`ionto.plan.predict.checks`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ionto.plan.plan import Plan
from ionto.plan.safety.book import RuleBook, default_rules
from ionto.plan.safety.context import Context
from ionto.plan.safety.findings import ORDER, Finding, Report
from ionto.plan.safety.registry import Hit, load_checks

ExtraCheck = Callable[[Plan], Iterable[Finding]]


def check_plan(
    plan: Plan, book: RuleBook | None = None, extra: Iterable[ExtraCheck] = ()
) -> Report:
    """Run every rule that applies to the plan's modality; ConfigError for bad options."""
    book = book or default_rules()
    checks = load_checks()
    ctx = Context(plan, book)
    findings: list[Finding] = []
    for rule_id, rule in book.rules.items():
        if rule.prediction or not rule.applies(plan.modality.name):
            continue  # prediction rules: ionto.plan.predict.checks.SimulationCheck
        for hit in checks[rule_id](ctx):
            findings.append(finding(rule_id, hit, ctx))
    for check in extra:
        findings.extend(check(plan))
    findings.sort(key=lambda f: ORDER[f.severity])
    return Report(tuple(findings), plan.source)


def finding(rule_id: str, hit: Hit, ctx: Context) -> Finding:
    rule = ctx.book[rule_id]
    severity = hit.severity or rule.severity
    message = hit.message
    if severity == "error" and hit.uncertain and rule.downgrade_uncertain:
        severity = "warning"
        message += " [rests on a disputed or unconfirmed value: a warning, not an error]"
    source = hit.source or rule.source
    return Finding(rule_id, severity, message, tuple(source), ctx.plan.library.citation(source))
