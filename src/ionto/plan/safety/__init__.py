"""Safety rules as data (rules.toml) and the checker that applies them to a plan."""

from ionto.plan.safety.book import RuleBook, default_rules
from ionto.plan.safety.checker import check_plan
from ionto.plan.safety.findings import Finding, Report

__all__ = ["Finding", "Report", "RuleBook", "check_plan", "default_rules"]
