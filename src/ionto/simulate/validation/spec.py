"""The ``[validation]`` table of a scenario file: what it predicts, what it is compared with.

A validation scenario is an ordinary scenario file (``docs/scenarios.md``) with one more
table (documented in ``docs/validation.md``)::

    [validation]
    case = "kim1993_eo_water_mannitol_hms"   # id in cases.json
    quantity = "anodal equivalent volume flow from water flux"
    source = "Kim A, Green PG, Rao G, Guy RH. Pharm Res 1993"
    predicted = "J_tracer / c_tracer"         # expression of report names and constants
    unit = "uL/(h*cm^2)"                      # unit of predicted and measured values
    check = "value"   # value | crossing | line_crossing | proportional | independent |
                      # increasing | decreasing
    constants = { c_tracer = "1 mM" }
    measured = { value = 2.7, uncertainty = 1.3, text = "2.7 (+/-1.3) uL/(h cm2)" }
    tolerance = { sigmas = 2 }

    [[validation.sweep]]                      # optional: runs of the file with overrides
    label = "0.6 mM"
    x = "0.6 mM"
    set = { "skin.tissue.Li+" = "0.6 mM" }

Measured numbers are plain numbers in ``unit``; ``x`` and ``constants`` are quantities
with their own units. This module only checks the table's shape; :mod:`.runner` builds
and runs the problems and :mod:`.compare` does the misfit arithmetic.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from ionto.core.config import StrictModel, pydantic_error, quantity
from ionto.core.errors import ConfigError

__all__ = ["Measured", "SweepEntry", "Tolerance", "ValidationSpec"]

Check = Literal[
    "value", "crossing", "line_crossing", "proportional", "independent", "increasing", "decreasing"
]
Number = Annotated[float, quantity("dimensionless")]
Positive = Annotated[float, quantity("dimensionless", gt=0)]
Fraction = Annotated[float, quantity("dimensionless", gt=0, lt=1)]


def _quantity_text(value: object) -> str | float:
    """A number or a string such as "0.6 mM" (parsed later with its own unit)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise pydantic_error(
            ConfigError("", value, None, 'a number or a quantity such as "0.6 mM"')
        )
    return value if isinstance(value, str) else float(value)


QuantityText = Annotated[str | float, BeforeValidator(_quantity_text)]


class Measured(StrictModel):
    """The published value, in the table's ``unit``: a ``value`` (with its
    ``uncertainty``, or compared with a ``tolerance``), a ``range`` [low, high], or a
    ``limit`` the prediction must stay below (a detection limit or a bound). ``text``:
    the published statement, word for word where it is qualitative."""

    value: Number | None = None
    uncertainty: Positive | None = None
    range: tuple[Number, Number] | None = None
    limit: Number | None = None
    text: str = ""

    @model_validator(mode="after")
    def _one_form(self) -> Measured:
        forms = [k for k in ("value", "range", "limit") if getattr(self, k) is not None]
        if len(forms) > 1:
            raise pydantic_error(
                ConfigError(
                    "", ", ".join(forms), None, "one of value, range, limit", "give only one form"
                )
            )
        if self.uncertainty is not None and self.value is None:
            raise pydantic_error(
                ConfigError("", self.uncertainty, None, "with value", "uncertainty needs value")
            )
        if self.range is not None and not self.range[0] < self.range[1]:
            raise pydantic_error(
                ConfigError("", list(self.range), None, "[low, high] with low < high")
            )
        return self


class Tolerance(StrictModel):
    """When a prediction counts as agreeing. ``sigmas``: |p - m| <= sigmas x uncertainty
    (default 2); ``relative``: |p/m - 1| <= relative; ``absolute``: |p - m| <= absolute
    (in ``unit``); ``factor``: inside [low/factor, high x factor] for a range (default 1);
    ``r2_min`` (default 0.99) and ``intercept_max`` (|intercept| / (slope x max x),
    default 0.05) for proportional; ``spread_max`` ((max - min) / mean, default 0.1) for
    independent."""

    sigmas: Positive | None = None
    relative: Positive | None = None
    absolute: Positive | None = None
    factor: Annotated[float, quantity("dimensionless", ge=1)] | None = None
    r2_min: Fraction | None = None
    intercept_max: Positive | None = None
    spread_max: Positive | None = None


class SweepEntry(StrictModel):
    """One run of the file with ``set`` overrides: ``"path.to.key" = value`` (a list is
    entered by an element's ``name`` or its index, e.g. ``"layers.donor.initial.Na+"``).
    ``x``: the swept value for crossing, proportional and independent checks."""

    label: str = Field(min_length=1)
    x: QuantityText | None = None
    set: dict[str, Any] = Field(default_factory=dict)


class ValidationSpec(StrictModel):
    """The ``[validation]`` table (see the module docstring)."""

    case: str = Field(min_length=1)
    quantity: str = Field(min_length=1)
    source: str = ""
    predicted: str = Field(min_length=1)
    unit: str = ""
    check: Check = "value"
    level: QuantityText | None = None
    constants: dict[str, QuantityText] = Field(default_factory=dict)
    measured: Measured
    tolerance: Tolerance = Field(default_factory=Tolerance)
    sweep: list[SweepEntry] = Field(default_factory=list)
    note: str = ""
    independent: bool = True  # false: a parameter was taken from this very measurement

    @model_validator(mode="after")
    def _consistent(self) -> ValidationSpec:
        labels = [s.label for s in self.sweep]
        if len(set(labels)) != len(labels):
            raise pydantic_error(ConfigError("", labels, None, "unique sweep labels"))
        if self.check != "value":
            if len(self.sweep) < 2:
                raise pydantic_error(
                    ConfigError(
                        "",
                        self.check,
                        None,
                        "at least two [[validation.sweep]] entries",
                        f"check {self.check!r} needs a sweep",
                    )
                )
            if any(s.x is None for s in self.sweep):
                raise pydantic_error(
                    ConfigError("", self.check, None, "every sweep entry with x", "x missing")
                )
        if self.check in ("crossing", "line_crossing") and self.level is None:
            raise pydantic_error(ConfigError("", None, None, "a level", "crossing needs level"))
        m = self.measured
        if self.check in ("value", "crossing", "line_crossing"):
            if m.value is None and m.range is None and m.limit is None:
                raise pydantic_error(
                    ConfigError(
                        "", None, None, "measured.value, range or limit", "no measured number"
                    )
                )
            t = self.tolerance
            if (
                m.value is not None
                and m.uncertainty is None
                and t.relative is None
                and t.absolute is None
            ):
                raise pydantic_error(
                    ConfigError(
                        "",
                        m.value,
                        None,
                        "measured.uncertainty or tolerance.relative / absolute",
                        "a value without uncertainty needs a stated tolerance",
                    )
                )
        return self
