"""The protocol language: text -> typed steps, canonical text, and helpful errors."""

from __future__ import annotations

import pytest

from ionto.core.errors import ConfigError, IontoError
from ionto.plan.protocol import (
    ForTime,
    Hold,
    Protocol,
    ProtocolSyntaxError,
    Pulse,
    Ramp,
    Repeat,
    Rest,
    Reverse,
    UntilDose,
    UntilImpedance,
    UntilVoltage,
    hold,
    parse,
    protocol,
    pulse,
    ramp,
    repeat,
    rest,
    reverse,
)

BRIEF_EXAMPLES = {
    "ramp to 4 mA over 30 s": Ramp(to=0.004, over=30.0),
    "hold 4 mA until 40 mA*min": Hold(current=0.004, stops=(UntilDose(2.4),)),
    "hold 2 mA for 10 min or until 40 mA*min": Hold(
        current=0.002, stops=(ForTime(600.0), UntilDose(2.4))
    ),
    "pulse 2 mA at 1 kHz, 50% duty, for 15 min": Pulse(
        current=0.002, frequency=1000.0, duty=0.5, stops=(ForTime(900.0),)
    ),
    "reverse polarity every 10 min at 2 mA for 30 min": Reverse(
        current=0.002, every=600.0, stops=(ForTime(1800.0),)
    ),
    "rest 30 min": Rest(duration=1800.0),
    "hold 2 mA for 5 min or until 40 V": Hold(
        current=0.002, stops=(ForTime(300.0), UntilVoltage(40.0))
    ),
    "hold 2 mA for 5 min or until 10 kohm": Hold(
        current=0.002, stops=(ForTime(300.0), UntilImpedance(10000.0))
    ),
    "pulse 30 mA at 40 Hz, 300 us wide, biphasic, for 10 s": Pulse(
        current=0.03, frequency=40.0, width=0.0003, biphasic=True, stops=(ForTime(10.0),)
    ),
}


@pytest.mark.parametrize(("text", "step"), BRIEF_EXAMPLES.items())
def test_examples_parse_to_typed_steps_and_back(text: str, step: object) -> None:
    p = parse(text)
    assert p == Protocol((step,))  # type: ignore[arg-type]
    assert str(p) == text  # these are already canonical


def test_repeat_is_an_explicit_object() -> None:
    p = parse("repeat 3 times:\n  hold 2 mA for 1 min\n  rest 1 min\nend")
    (step,) = p.steps
    assert isinstance(step, Repeat)
    assert step.count == 3
    assert step.steps == (Hold(0.002, (ForTime(60.0),)), Rest(60.0))
    assert str(p) == "repeat 3 times:\n  hold 2 mA for 1 min\n  rest 1 min\nend"
    assert parse("repeat 3 times: hold 2 mA for 1 min; rest 1 min end") == p


def test_nested_repeat_and_inline_form() -> None:
    text = "repeat 2 times:\n  repeat 3 times:\n    hold 1 mA for 1 s\n  end\n  rest 2 s\nend"
    p = parse(text)
    assert str(p) == text
    assert parse(p.inline()) == p


def test_free_form_variants_read_the_same() -> None:
    canonical = parse("hold 4 mA for 20 min or until 40 mA*min\nrest 40 min")
    assert parse("Hold at 4 mA for 20 min or until 40 mA*min ; REST for 40 min") == canonical
    assert (
        parse("\n\n  hold   4 mA  for 20 min  or until 40 mA*min  # comment\n\nrest 40 min\n")
        == canonical
    )
    assert parse("pulse 4 mA at 2 kHz, 50 % duty for 10 min") == parse(
        "pulse 4 mA at 2 kHz, 50% duty, for 10 min"
    )


def test_typed_constructors_build_the_same_steps() -> None:
    built = protocol(
        ramp("4 mA", over="30 s"),
        hold("2 mA", until=["10 min", "40 mA*min"]),
        pulse("2 mA", at="1 kHz", duty="50%", until="15 min"),
        reverse("15 mA", every="10 min", until=["20 min"]),
        repeat(2, rest("1 min")),
    )
    text = (
        "ramp to 4 mA over 30 s; hold 2 mA for 10 min or until 40 mA*min; "
        "pulse 2 mA at 1 kHz, 50% duty, for 15 min; "
        "reverse polarity every 10 min at 15 mA for 20 min; repeat 2 times: rest 1 min end"
    )
    assert built == parse(text)


def test_quantities_go_through_pint() -> None:
    p = parse("hold 300 uA for 0.5 h\nhold 0.3 mA for 1800 s\nhold 3e-4 A for 30 min")
    assert len({s for s in p.steps}) == 1
    assert parse("hold 2 mA until 2.4 C") == parse("hold 2 mA until 40 mA*min")


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: Rest(-1.0), "rest.duration"),
        (lambda: Repeat(0, (Rest(1.0),)), "repeat.count"),
        (lambda: Repeat(2, ()), "repeat.steps"),
        (lambda: Hold(0.001, ()), "hold.stops"),
        (lambda: Hold(0.001, (ForTime(1.0), ForTime(2.0))), "hold.stops"),
        (lambda: Pulse(0.001, 1000.0, (ForTime(1.0),), duty=1.5), "pulse.duty"),
        (lambda: Pulse(0.001, 1000.0, (ForTime(1.0),), width=0.002), "pulse.width"),
        (lambda: Pulse(0.001, 1000.0, (ForTime(1.0),), duty=0.5, width=1e-4), "pulse.duty"),
        (lambda: Ramp(float("nan"), 1.0), "ramp.to"),
        (lambda: Protocol(()), "protocol.steps"),
    ],
)
def test_typed_form_rejects_impossible_values(make: object, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        make()  # type: ignore[operator]
    assert info.value.field == field


# ------------------------------------------------------------------ errors


def error_of(text: str) -> ProtocolSyntaxError:
    with pytest.raises(ProtocolSyntaxError) as info:
        parse(text, source="plan.toml: protocol")
    return info.value


def test_error_is_a_config_error_with_line_column_and_caret() -> None:
    exc = error_of("ramp to 4 mA over 30 s\n  hodl 4 mA for 10 min")
    assert isinstance(exc, ConfigError)
    assert isinstance(exc, IontoError)
    assert (exc.line, exc.column) == (2, 3)
    assert exc.suggestions == ("hold",)
    lines = str(exc).splitlines()
    assert lines[0].startswith("plan.toml: protocol, line 2, column 3:")
    assert "did you mean 'hold'?" in lines[0]
    assert lines[1] == "      hodl 4 mA for 10 min"
    assert lines[2] == "      ^^^^"
    assert any(line.startswith("  expected: a step") for line in lines)
    assert any("hold 4 mA for 10 min" in line for line in lines if "examples" in line)
    assert "\n" not in exc.one_line()


@pytest.mark.parametrize(
    ("text", "column", "words"),
    [
        ("hold 4 mAA for 10 min", 8, "is not a current"),
        ("hold 4 min for 10 min", 8, "is not a current"),
        ("hold 4 mA", 10, "expected a stop condition"),
        ("ramp to 4 mA in 30 s", 14, "expected 'over'"),
        ("ramp 4 mA over 30 s", 6, "expected 'to'"),
        ("pulse 2 mA at 1 kHz, 150% duty, for 1 min", 22, "duty of 150% is not allowed"),
        ("pulse 2 mA at 1 kHz for 1 min", 21, "expected ','"),
        ("repeat 3 times: hold 1 mA for 1 min", 36, "has no 'end'"),
        ("repeat three times: rest 1 s end", 8, "how many times"),
        ("end", 1, "'end' without a 'repeat'"),
        ("hold 4 mA for 10 min or for 5 min", 25, "a second time condition"),
        ("hold 4 mA until 10 min", 17, "write 'for 10 min'"),
        ("hold 4 mA until 10 mA", 20, "not a dose, a voltage or an impedance"),
        ("hold 4 mA for 10 min orr until 40 mA*min", 22, "expected a new line or ';'"),
        ("hold 4 mA for 10 min @", 22, "unexpected character '@'"),
        ("hold 4 for 10 min", 6, "4 has no unit"),
        ("rest -5 min", 6, "-5 min is not allowed"),
        ("", 1, "the protocol has no steps"),
        ("hold 2 mA for 1 min\n\n   rest 1 mA", 11, "is not a time"),
    ],
)
def test_errors_name_the_column_and_what_was_expected(text: str, column: int, words: str) -> None:
    exc = error_of(text)
    assert exc.column == column, str(exc)
    assert words in str(exc)
    assert exc.allowed  # what was expected


def test_misspelt_keywords_and_units_get_close_matches() -> None:
    assert error_of("hold 4 mA for 10 min orr until 40 mA*min").suggestions == ("or",)
    assert "mA" in error_of("hold 4 mAA for 10 min").suggestions
    assert error_of("ramp to 4 mA ovr 30 s").suggestions == ("over",)
    assert error_of("puls 2 mA at 1 kHz, 50% duty, for 1 min").suggestions == ("pulse",)


def test_error_on_a_later_line_points_there() -> None:
    exc = error_of("ramp to 4 mA over 30 s\nhold 4 mA for 10 min\nramp to 0 mA ovr 30 s")
    assert exc.line == 3
    assert exc.source_line == "ramp to 0 mA ovr 30 s"


def test_with_prefix_keeps_the_details() -> None:
    exc = error_of("hodl 1 mA for 1 s").with_prefix("file.toml")
    assert isinstance(exc, ProtocolSyntaxError)
    assert exc.field == "file.toml.plan.toml: protocol"
    assert exc.line == 1
    assert "^^^^" in str(exc)


def test_non_text_is_refused() -> None:
    with pytest.raises(ConfigError, match="is not text"):
        parse(42)  # type: ignore[arg-type]


def test_expansion_too_fine_is_refused() -> None:
    """A reversal every 0.1 ms for an hour would be 7e7 pieces: refused with a reason
    instead of exhausting memory."""
    fine = parse("reverse polarity every 0.1 ms at 2 mA for 60 min")
    with pytest.raises(ConfigError, match="too fine"):
        fine.to_segments(1e-3)
    assert len(parse("reverse polarity every 10 min at 2 mA for 30 min").to_segments(1e-3)) == 3
