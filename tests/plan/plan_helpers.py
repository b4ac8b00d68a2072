"""Helpers for plan tests: example plans as dicts, changed and checked."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

from ionto.plan.plan import Plan, plan_from_dict
from ionto.plan.safety import Report, check_plan

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "plans"
DELETE = object()


def example(name: str) -> dict[str, Any]:
    """examples/plans/NAME.toml as a fresh dict."""
    return tomllib.loads((EXAMPLES / f"{name}.toml").read_text())


def changed(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` merged in (nested dicts merged; DELETE removes a key)."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if value is DELETE:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = changed(out[key], value)
        else:
            out[key] = value
    return out


def plan_of(name: str, **changes: Any) -> Plan:
    return plan_from_dict(changed(example(name), changes), source=f"{name}.toml", base=EXAMPLES)


def check(name: str, **changes: Any) -> Report:
    return check_plan(plan_of(name, **changes))
