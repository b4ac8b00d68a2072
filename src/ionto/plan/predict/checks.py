"""The simulation-based safety check: a :class:`ionto.plan.hooks.Predictor` for
``check_plan(plan, extra=[SimulationCheck()])``.

It simulates the plan (or uses a :class:`Prediction` already made for it) and checks
the rules of the book marked ``prediction = true`` (``sim.ph``, ``sim.burn-risk``; code
in :mod:`ionto.plan.safety.checks_simulation`), with the plan's parameter overrides.
"""

from __future__ import annotations

from ionto.plan.plan import Plan
from ionto.plan.predict.run import Prediction, Progress, predict
from ionto.plan.safety.book import RuleBook, default_rules
from ionto.plan.safety.checker import finding
from ionto.plan.safety.context import Context
from ionto.plan.safety.findings import Finding
from ionto.plan.safety.registry import PREDICTION_CHECKS, load_checks


class SimulationCheck:
    """Checks a plan on its simulated treatment; ``prediction`` keeps the last one."""

    def __init__(
        self,
        prediction: Prediction | None = None,
        book: RuleBook | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.prediction = prediction
        self.book = book
        self.progress = progress

    def __call__(self, plan: Plan) -> list[Finding]:
        if self.prediction is None or self.prediction.plan is not plan:
            self.prediction = predict(plan, self.progress)
        return prediction_findings(plan, self.prediction, self.book)


def prediction_findings(
    plan: Plan, prediction: Prediction, book: RuleBook | None = None
) -> list[Finding]:
    """The findings of the prediction rules that apply to the plan's modality."""
    book = book or default_rules()
    load_checks()
    ctx = Context(plan, book)
    out: list[Finding] = []
    for rule_id, rule in book.rules.items():
        if rule.prediction and rule.applies(plan.modality.name):
            out.extend(
                finding(rule_id, hit, ctx) for hit in PREDICTION_CHECKS[rule_id](ctx, prediction)
            )
    return out
