"""Findings of the safety check and the report that collects them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ionto.plan.safety.book import Severity

ORDER: dict[str, int] = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Finding:
    """One result of a rule: ``id`` (rule id), ``severity``, ``message`` (with values and
    units), ``source`` (source keys) and ``citation`` (their text)."""

    id: str
    severity: Severity
    message: str
    source: tuple[str, ...]
    citation: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        data = asdict(self)
        data["source"] = list(self.source)
        return data


@dataclass(frozen=True)
class Report:
    """All findings of a plan, errors first. A plan with an error is refused."""

    findings: tuple[Finding, ...]
    plan: str = ""

    @property
    def refused(self) -> bool:
        """True when at least one finding is an error."""
        return any(f.severity == "error" for f in self.findings)

    def of(self, severity: Severity) -> list[Finding]:
        """The findings of one severity."""
        return [f for f in self.findings if f.severity == severity]

    @property
    def ids(self) -> set[str]:
        """The rule ids that produced findings."""
        return {f.id for f in self.findings}

    def to_dict(self) -> dict[str, Any]:
        """``{"plan", "refused", "findings": [...]}`` for JSON output."""
        return {
            "plan": self.plan,
            "refused": self.refused,
            "findings": [f.to_dict() for f in self.findings],
        }
