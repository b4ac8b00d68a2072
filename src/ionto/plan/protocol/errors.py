"""ProtocolSyntaxError: a protocol text that cannot be read, shown with line, caret and hints."""

from __future__ import annotations

from ionto.core.errors import ConfigError


class ProtocolSyntaxError(ConfigError):
    """A protocol text that does not follow the grammar (docs/planning.md).

    Besides the :class:`ConfigError` fields (``field`` names where the text came from,
    ``value`` is the offending word, ``allowed`` what was expected) it carries
    ``line`` and ``column`` (1-based, in the protocol text), ``source_line`` (that line
    of text), ``width`` (characters to underline), ``examples`` (valid forms) and
    ``suggestions`` (close matches for a misspelt word). ``str()`` gives several lines:
    the message, the offending line with a caret under the column, what was expected
    and examples; :meth:`one_line` gives a single line.
    """

    def __init__(
        self,
        message: str,
        *,
        line: int,
        column: int,
        source_line: str,
        value: object = None,
        expected: str | None = None,
        examples: tuple[str, ...] = (),
        suggestions: tuple[str, ...] = (),
        width: int = 1,
        field: str = "protocol",
    ) -> None:
        self.line = line
        self.column = column
        self.source_line = source_line
        self.width = max(1, width)
        self.examples = examples
        self.suggestions = suggestions
        self.reason = message
        if suggestions:
            message += " (did you mean " + " or ".join(repr(s) for s in suggestions) + "?)"
        super().__init__(field, value, None, expected, message)

    def _format(self) -> str:
        lines = [self.one_line()]
        lines.append("    " + self.source_line.rstrip())
        lines.append("    " + " " * (self.column - 1) + "^" * self.width)
        if self.allowed:
            lines.append(f"  expected: {self.allowed}")
        if self.examples:
            lines.append("  examples: " + "; ".join(f'"{e}"' for e in self.examples))
        return "\n".join(lines)

    def one_line(self) -> str:
        """``protocol, line 2, column 6: <message>`` on one line."""
        where = f"line {self.line}, column {self.column}"
        head = f"{self.field}, {where}" if self.field else where
        return " ".join(f"{head}: {self.message}".split())

    def with_prefix(self, prefix: str) -> ProtocolSyntaxError:
        """The same error with ``prefix`` prepended to ``field``."""
        field = f"{prefix}.{self.field}" if prefix and self.field else prefix or self.field
        return ProtocolSyntaxError(
            self.reason,
            line=self.line,
            column=self.column,
            source_line=self.source_line,
            value=self.value,
            expected=self.allowed,
            examples=self.examples,
            suggestions=self.suggestions,
            width=self.width,
            field=field,
        )
