"""Tokenizer of the protocol language (the grammar is in docs/planning.md).

Tokens: NUMBER (``4``, ``-0.5``, ``1e-3``), WORD (keywords and units; a unit may join
words with ``*``, ``/`` and ``^`` without spaces: ``mA*min``, ``mA/cm^2``), ``%``, ``,``,
``:``, ``;`` and NEWLINE. ``#`` starts a comment that runs to the end of the line.
Positions are 1-based line and column numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ionto.plan.protocol.errors import ProtocolSyntaxError

TokenKind = Literal["NUMBER", "WORD", "%", ",", ":", ";", "NEWLINE", "EOF"]

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_WORD = re.compile(r"[^\W\d][\wµΩ°]*(?:[*/^·][\wµΩ°]+)*")
_PUNCT: dict[str, TokenKind] = {"%": "%", ",": ",", ":": ":", ";": ";"}


@dataclass(frozen=True)
class Token:
    """One token: its kind, text as written, and 1-based line and column."""

    kind: TokenKind
    text: str
    line: int
    column: int

    @property
    def word(self) -> str:
        """The text in lower case (keywords are case-insensitive)."""
        return self.text.lower()

    def shown(self) -> str:
        """How the token is named in messages."""
        if self.kind == "EOF":
            return "the end of the text"
        if self.kind == "NEWLINE":
            return "the end of the line"
        return repr(self.text)


def tokenize(text: str, source: str = "protocol") -> list[Token]:
    """Split protocol text into tokens; ProtocolSyntaxError on a character that fits none."""
    tokens: list[Token] = []
    lines = text.splitlines() or [""]
    for number, line in enumerate(lines, start=1):
        col = 0
        while col < len(line):
            ch = line[col]
            if ch in " \t\r\f\v":
                col += 1
                continue
            if ch == "#":
                break
            if ch in _PUNCT:
                tokens.append(Token(_PUNCT[ch], ch, number, col + 1))
                col += 1
                continue
            match = _NUMBER.match(line, col)
            if match:
                tokens.append(Token("NUMBER", match.group(), number, col + 1))
                col = match.end()
                continue
            match = _WORD.match(line, col)
            if match:
                tokens.append(Token("WORD", match.group(), number, col + 1))
                col = match.end()
                continue
            raise ProtocolSyntaxError(
                f"unexpected character {ch!r}",
                line=number,
                column=col + 1,
                source_line=line,
                value=ch,
                expected="words, numbers with units, ',', ':', ';', '%' or '#' comments",
                field=source,
            )
        tokens.append(Token("NEWLINE", "", number, len(line) + 1))
    last = len(lines)
    tokens.append(Token("EOF", "", last, len(lines[-1]) + 1))
    return tokens
