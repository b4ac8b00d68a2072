"""Validation against published measurements (``ionto validate``, ``docs/validation.md``).

A validation scenario is a scenario file with a ``[validation]`` table (:mod:`.spec`)
naming the published case it reproduces, the expression of its reports that predicts the
measured quantity (:mod:`.expression`), the measurement and the tolerance rule
(:mod:`.compare`). :mod:`.runner` runs a folder of them (``examples/validation/``) and
:mod:`.table` prints the comparison.
"""

from __future__ import annotations

__all__: list[str] = []
