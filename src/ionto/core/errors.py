"""Exceptions raised by ionto.

Every error a user can cause with an input file is a :class:`ConfigError` that names the
field path (``layers[1].thickness``), the value as written, the SI unit the value is
checked in and the allowed range, in one line of text, for example::

    layers[1].thickness: -20 um is not allowed (unit: m; allowed: > 0)
"""

from __future__ import annotations


class IontoError(Exception):
    """Base class of every error raised on purpose by ionto."""


class ConfigError(IontoError, ValueError):
    """An input value that ionto cannot accept.

    field: dotted path of the offending entry (``control[2].duration``) or the file name
    for file-level problems. value: the value as the user wrote it (None if missing).
    unit: the SI unit the value is checked in (None for names, counts and tables).
    allowed: the allowed range or choices in words (``> 0``, ``one of: a, b``).
    message: what is wrong; defaults to ``"<value> is not allowed"``.
    """

    def __init__(
        self,
        field: str,
        value: object = None,
        unit: str | None = None,
        allowed: str | None = None,
        message: str | None = None,
    ) -> None:
        self.field = field
        self.value = value
        self.unit = unit
        self.allowed = allowed
        self.message = message if message is not None else f"{_show(value)} is not allowed"
        self.others: list[ConfigError] = []  # every problem, when several were found at once
        super().__init__(self._format())

    def _format(self) -> str:
        extras = []
        if self.unit:
            extras.append(f"unit: {self.unit}")
        if self.allowed:
            extras.append(f"allowed: {self.allowed}")
        text = f"{self.field}: {self.message}" if self.field else self.message
        if extras:
            text += f" ({'; '.join(extras)})"
        return " ".join(text.split())  # always a single line

    def with_prefix(self, prefix: str) -> ConfigError:
        """The same error with ``prefix`` prepended to the field path."""
        field = f"{prefix}.{self.field}" if prefix and self.field else prefix or self.field
        return ConfigError(field, self.value, self.unit, self.allowed, self.message)


class SolverError(IontoError, RuntimeError):
    """The time integration failed.

    time: simulated time (s) at which it failed, if known; hint: what to try next.
    """

    def __init__(self, message: str, time: float | None = None, hint: str | None = None) -> None:
        self.time = time
        self.hint = hint
        text = message
        if time is not None:
            text += f" at t = {time:.6g} s"
        if hint:
            text += f"; hint: {hint}"
        super().__init__(" ".join(text.split()))


def _show(value: object) -> str:
    """How a user-written value is shown in messages: strings bare, the rest as repr."""
    if isinstance(value, str):
        return value if value.strip() else repr(value)
    return repr(value)
