"""Recursive-descent parser of the protocol language (grammar: docs/planning.md).

Why hand-written rather than lark: the grammar is small (about twenty productions),
and a hand-written parser knows at every point which words it expects, so its errors
can name them, give examples of the step being written and suggest close matches for
a misspelt keyword or unit, without a parser-generator dependency. Quantities are
read as NUMBER + unit word and converted by pint through
:func:`ionto.core.units.parse_quantity`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable

from ionto.core.errors import ConfigError
from ionto.core.units import parse_quantity
from ionto.plan.protocol.errors import ProtocolSyntaxError
from ionto.plan.protocol.lexer import Token, tokenize
from ionto.plan.protocol.model import Protocol
from ionto.plan.protocol.quantities import (
    COMMON_UNITS,
    EXAMPLE,
    SI_UNIT,
    Kind,
    percent_value,
)
from ionto.plan.protocol.steps import (
    STOP_KIND,
    ForTime,
    Hold,
    Pulse,
    Ramp,
    Repeat,
    Rest,
    Reverse,
    Step,
    Stop,
    UntilDose,
    UntilImpedance,
    UntilVoltage,
)

EXAMPLES: dict[str, tuple[str, ...]] = {
    "ramp": ("ramp to 4 mA over 30 s", "ramp to 0 mA over 30 s"),
    "hold": ("hold 4 mA for 10 min", "hold 2 mA for 20 min or until 40 mA*min"),
    "pulse": (
        "pulse 2 mA at 1 kHz, 50% duty, for 15 min",
        "pulse 30 mA at 40 Hz, 300 us wide, biphasic, for 10 s",
    ),
    "reverse": ("reverse polarity every 10 min at 15 mA for 20 min",),
    "rest": ("rest 30 min",),
    "repeat": ("repeat 3 times: hold 2 mA for 1 min; rest 1 min end",),
    "stop": ("for 10 min", "until 40 mA*min", "until 40 V", "until 10 kohm"),
}
STEP_WORDS = ("ramp", "hold", "pulse", "reverse", "rest", "repeat")
KEYWORDS = frozenset(
    {*STEP_WORDS, "to", "over", "at", "for", "until", "or", "every", "polarity", "times"}
    | {"time", "end", "duty", "wide", "biphasic", "monophasic"}
)
ALL_EXAMPLES = tuple(EXAMPLES[w][0] for w in STEP_WORDS)
_LIMIT_KINDS: tuple[Kind, ...] = ("dose", "voltage", "impedance")
_LIMIT_TYPES: dict[Kind, Callable[[float], Stop]] = {
    "dose": UntilDose,
    "voltage": UntilVoltage,
    "impedance": UntilImpedance,
}


def parse(text: str, source: str = "protocol") -> Protocol:
    """Parse protocol text into a :class:`Protocol`; ProtocolSyntaxError if it is not valid.

    ``source`` names where the text came from (``field`` of the error), e.g. the plan
    file's ``protocol`` key.
    """
    if not isinstance(text, str):
        raise ConfigError(source, text, None, "protocol text", f"{text!r} is not text")
    return _Parser(text, source).protocol()


def close_matches(word: str, choices: Iterable[str]) -> tuple[str, ...]:
    """Up to three of ``choices`` close to ``word``, compared without case."""
    lowered = {c.lower(): c for c in choices}
    found = difflib.get_close_matches(word.lower(), list(lowered), n=3, cutoff=0.6)
    return tuple(lowered[f] for f in found)


class _Parser:
    def __init__(self, text: str, source: str) -> None:
        self.lines = text.splitlines() or [""]
        self.source = source
        self.tokens = tokenize(text, source)
        self.pos = 0

    # ---------------------------------------------------------------- helpers

    @property
    def peek(self) -> Token:
        return self.tokens[self.pos]

    def next(self) -> Token:
        tok = self.tokens[self.pos]
        if tok.kind != "EOF":
            self.pos += 1
        return tok

    def is_word(self, *words: str) -> bool:
        return self.peek.kind == "WORD" and self.peek.word in words

    def error(
        self,
        tok: Token,
        message: str,
        expected: str,
        examples: tuple[str, ...] = (),
        candidates: Iterable[str] = (),
        width: int | None = None,
    ) -> ProtocolSyntaxError:
        suggestions = close_matches(tok.text, candidates) if tok.kind == "WORD" else ()
        return ProtocolSyntaxError(
            message,
            line=tok.line,
            column=tok.column,
            source_line=self.lines[tok.line - 1] if tok.line <= len(self.lines) else "",
            value=tok.text or None,
            expected=expected,
            examples=examples,
            suggestions=suggestions,
            width=width if width is not None else len(tok.text),
            field=self.source,
        )

    def expect(self, word: str, context: str, what: str | None = None) -> Token:
        tok = self.next()
        if tok.kind == "WORD" and tok.word == word:
            return tok
        raise self.error(
            tok,
            f"expected {word!r}{what or ''}, found {tok.shown()}",
            f"{word!r}",
            EXAMPLES[context],
            [word],
        )

    def skip_separators(self) -> None:
        while self.peek.kind in ("NEWLINE", ";"):
            self.next()

    # ---------------------------------------------------------------- structure

    def protocol(self) -> Protocol:
        steps = self.step_list(opener=None)
        return Protocol(steps)

    def step_list(self, opener: Token | None) -> tuple[Step, ...]:
        steps: list[Step] = []
        self.skip_separators()
        while True:
            tok = self.peek
            if tok.kind == "EOF":
                if opener is not None:
                    raise self.error(
                        tok,
                        f"the repeat on line {opener.line} has no 'end'",
                        "'end' after the repeated steps",
                        EXAMPLES["repeat"],
                        width=1,
                    )
                break
            if tok.kind == "WORD" and tok.word == "end":
                if opener is None:
                    raise self.error(tok, "'end' without a 'repeat'", "a step", ALL_EXAMPLES)
                break
            steps.append(self.step())
            tok = self.peek
            if tok.kind in ("NEWLINE", ";"):
                self.skip_separators()
            elif tok.kind == "EOF" or (
                opener is not None and tok.kind == "WORD" and tok.word == "end"
            ):
                continue
            else:
                follow = ["or"] + (["end"] if opener is not None else [])
                raise self.error(
                    tok,
                    f"expected a new line or ';' after the step, found {tok.shown()}",
                    "a new line or ';' between steps" + (", or 'end'" if opener else ""),
                    ALL_EXAMPLES,
                    follow,
                )
        if not steps:
            where = self.peek if opener is None else opener
            what = "the protocol has no steps" if opener is None else "the repeat has no steps"
            raise self.error(
                where, what, "at least one step", ALL_EXAMPLES, width=max(1, len(where.text))
            )
        return tuple(steps)

    def step(self) -> Step:
        tok = self.next()
        if tok.kind != "WORD" or tok.word not in STEP_WORDS:
            found = "unknown step " + tok.shown() if tok.kind == "WORD" else f"found {tok.shown()}"
            raise self.error(
                tok,
                f"expected a step, {found}",
                "a step: ramp, hold, pulse, reverse, rest or repeat",
                ALL_EXAMPLES,
                STEP_WORDS,
                width=max(1, len(tok.text)),
            )
        method: Callable[[Token], Step] = getattr(self, f"step_{tok.word}")
        try:
            return method(tok)
        except ProtocolSyntaxError:
            raise
        except ConfigError as exc:  # a value the step's constructor refuses
            raise self.error(
                tok,
                exc.message,
                exc.allowed or "a valid step",
                EXAMPLES[tok.word],
                width=len(tok.text),
            ) from None

    # ---------------------------------------------------------------- steps

    def step_ramp(self, tok: Token) -> Step:
        self.expect("to", "ramp", " after 'ramp'")
        to = self.quantity("current", "ramp")
        self.expect("over", "ramp", " and the ramp time")
        over = self.quantity("time", "ramp", positive=True)
        return Ramp(to=to, over=over)

    def step_hold(self, tok: Token) -> Step:
        if self.is_word("at"):
            self.next()
        current = self.quantity("current", "hold")
        return Hold(current=current, stops=self.stops("hold"))

    def step_pulse(self, tok: Token) -> Step:
        current = self.quantity("current", "pulse", positive=True)
        self.expect("at", "pulse", " and the pulse frequency")
        frequency = self.quantity("frequency", "pulse", positive=True)
        self.punct(",", "pulse")
        duty: float | None = None
        width: float | None = None
        number = self.peek
        if number.kind == "NUMBER" and self.tokens[self.pos + 1].kind == "%":
            self.next()
            self.next()
            duty = percent_value(number.text)
            if not 0 < duty <= 1:
                raise self.error(
                    number,
                    f"a duty of {number.text}% is not allowed",
                    "a duty > 0% and <= 100%",
                    EXAMPLES["pulse"],
                    width=len(number.text) + 1,
                )
            self.expect("duty", "pulse", " after the percentage")
        elif number.kind == "NUMBER":
            width = self.quantity("time", "pulse", positive=True)
            self.expect("wide", "pulse", " after the pulse width")
        else:
            raise self.error(
                number,
                'expected the pulse duty ("50% duty") or width ("300 us wide"), '
                f"found {number.shown()}",
                "a percentage followed by 'duty', or a time followed by 'wide'",
                EXAMPLES["pulse"],
            )
        biphasic = False
        if self.peek.kind == ",":
            self.next()
        if self.is_word("biphasic", "monophasic"):
            biphasic = self.next().word == "biphasic"
            if self.peek.kind == ",":
                self.next()
        stops = self.stops("pulse")
        return Pulse(
            current=current,
            frequency=frequency,
            duty=duty,
            width=width,
            biphasic=biphasic,
            stops=stops,
        )

    def step_reverse(self, tok: Token) -> Step:
        self.expect("polarity", "reverse", " after 'reverse'")
        self.expect("every", "reverse", " after 'reverse polarity'")
        every = self.quantity("time", "reverse", positive=True)
        self.expect("at", "reverse", " and the current")
        current = self.quantity("current", "reverse", positive=True)
        return Reverse(current=current, every=every, stops=self.stops("reverse"))

    def step_rest(self, tok: Token) -> Step:
        if self.is_word("for"):
            self.next()
        return Rest(duration=self.quantity("time", "rest", positive=True))

    def step_repeat(self, tok: Token) -> Step:
        count_tok = self.next()
        if count_tok.kind != "NUMBER" or not count_tok.text.isdigit() or int(count_tok.text) < 1:
            raise self.error(
                count_tok,
                f"expected how many times to repeat, found {count_tok.shown()}",
                "a whole number >= 1",
                EXAMPLES["repeat"],
            )
        word = self.next()
        if word.kind != "WORD" or word.word not in ("times", "time"):
            raise self.error(
                word,
                f"expected 'times', found {word.shown()}",
                "'times'",
                EXAMPLES["repeat"],
                ["times"],
            )
        self.punct(":", "repeat")
        steps = self.step_list(opener=tok)
        self.expect("end", "repeat")
        return Repeat(count=int(count_tok.text), steps=steps)

    # ---------------------------------------------------------------- pieces

    def punct(self, kind: str, context: str) -> None:
        tok = self.next()
        if tok.kind != kind:
            raise self.error(
                tok,
                f"expected {kind!r}, found {tok.shown()}",
                f"{kind!r}",
                EXAMPLES[context],
                width=max(1, len(tok.text)),
            )

    def stops(self, context: str) -> tuple[Stop, ...]:
        stops: list[Stop] = [self.stop(context)]
        seen = {type(stops[0])}
        while self.is_word("or"):
            self.next()
            start = self.peek
            stop = self.stop(context)
            if type(stop) in seen:
                raise self.error(
                    start,
                    f"a second {STOP_KIND[type(stop)]} condition",
                    "each kind of stop (time, dose, voltage, impedance) at most once",
                    EXAMPLES["stop"],
                    width=len(start.text),
                )
            seen.add(type(stop))
            stops.append(stop)
        return tuple(stops)

    def stop(self, context: str) -> Stop:
        tok = self.next()
        if tok.kind == "WORD" and tok.word == "for":
            return ForTime(self.quantity("time", context, positive=True))
        if tok.kind == "WORD" and tok.word == "until":
            return self.limit(context)
        raise self.error(
            tok,
            f"expected a stop condition ('for' or 'until'), found {tok.shown()}",
            "'for TIME' or 'until DOSE|VOLTAGE|IMPEDANCE', joined with 'or'",
            EXAMPLES["stop"] + EXAMPLES[context][:1],
            ["for", "until"],
            width=max(1, len(tok.text)),
        )

    def limit(self, context: str) -> Stop:
        number, unit = self.number_and_unit("stop")
        text = f"{number.text} {unit.text}"
        width = unit.column + len(unit.text) - number.column
        for kind in _LIMIT_KINDS:
            try:
                value = parse_quantity(text, SI_UNIT[kind], "")
            except ConfigError:
                continue
            if value <= 0:
                raise self.error(
                    number, f"{text} is not allowed", "> 0", EXAMPLES["stop"], width=width
                )
            return _LIMIT_TYPES[kind](value)
        try:
            parse_quantity(text, "s", "")
        except ConfigError:
            pass
        else:
            raise self.error(
                number,
                f"'until {text}' is a time; write 'for {text}'",
                "'until' with a dose, a voltage or an impedance",
                EXAMPLES["stop"],
                width=width,
            )
        units = [u for k in _LIMIT_KINDS for u in COMMON_UNITS[k]]
        raise self.error(
            unit,
            f"{text!r} is not a dose, a voltage or an impedance",
            f"a dose ({EXAMPLE['dose']}), a voltage ({EXAMPLE['voltage']}) "
            f"or an impedance ({EXAMPLE['impedance']})",
            EXAMPLES["stop"],
            units,
        )

    def number_and_unit(self, context: str, kind: Kind | None = None) -> tuple[Token, Token]:
        what = f"a {kind} such as {EXAMPLE[kind]}" if kind else "a number with a unit"
        number = self.next()
        if number.kind != "NUMBER":
            raise self.error(
                number,
                f"expected {what}, found {number.shown()}",
                what,
                EXAMPLES[context],
                width=max(1, len(number.text)),
            )
        unit = self.next()
        if unit.kind != "WORD" or unit.word in KEYWORDS:
            raise self.error(
                number,
                f"{number.text} has no unit",
                what,
                EXAMPLES[context],
                width=len(number.text),
            )
        return number, unit

    def quantity(self, kind: Kind, context: str, *, positive: bool = False) -> float:
        number, unit = self.number_and_unit(context, kind)
        text = f"{number.text} {unit.text}"
        width = unit.column + len(unit.text) - number.column
        try:
            value = parse_quantity(text, SI_UNIT[kind], "")
        except ConfigError as exc:
            raise self.error(
                unit,
                f"{text!r} is not a {kind}: {exc.message}",
                f"a {kind} such as {EXAMPLE[kind]}",
                EXAMPLES[context],
                COMMON_UNITS[kind],
            ) from None
        if positive and value <= 0:
            raise self.error(
                number, f"{text} is not allowed", f"a {kind} > 0", EXAMPLES[context], width=width
            )
        return value
