"""ConfigError and SolverError messages: one line naming field, value, unit and range."""

from __future__ import annotations

from ionto.core.errors import ConfigError, IontoError, SolverError


def test_config_error_format() -> None:
    err = ConfigError("layers[1].thickness", "-20 um", "m", "> 0")
    assert str(err) == "layers[1].thickness: -20 um is not allowed (unit: m; allowed: > 0)"
    assert isinstance(err, IontoError)
    assert isinstance(err, ValueError)


def test_config_error_custom_message_single_line() -> None:
    err = ConfigError("a.b", message="is required\nbut missing")
    assert str(err) == "a.b: is required but missing"


def test_with_prefix() -> None:
    err = ConfigError("thickness", "1 s", "m", "> 0").with_prefix("layers[0]")
    assert str(err).startswith("layers[0].thickness: 1 s")


def test_solver_error() -> None:
    err = SolverError("step size underflow", time=12.5, hint="tighten rtol")
    assert str(err) == "step size underflow at t = 12.5 s; hint: tighten rtol"
    assert isinstance(err, IontoError)
