"""Treatment protocols: a readable text language and its typed (frozen dataclass) form.

>>> from ionto.plan.protocol import Protocol
>>> p = Protocol.parse("ramp to 4 mA over 30 s; hold 4 mA until 38 mA*min; ramp to 0 mA over 30 s")
>>> round(p.dose_mAmin, 6), p.duration
(40.0, 630.0)

The grammar (EBNF) is in docs/planning.md. Units inside: A, s, Hz, C, V, ohm.
"""

from ionto.plan.protocol.build import hold, protocol, pulse, ramp, repeat, rest, reverse
from ionto.plan.protocol.errors import ProtocolSyntaxError
from ionto.plan.protocol.model import MA_MIN, Charge, Protocol, Segments
from ionto.plan.protocol.parser import parse
from ionto.plan.protocol.steps import (
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
from ionto.plan.protocol.timeline import Piece, Span

__all__ = [
    "MA_MIN",
    "Charge",
    "ForTime",
    "Hold",
    "Piece",
    "Protocol",
    "ProtocolSyntaxError",
    "Pulse",
    "Ramp",
    "Repeat",
    "Rest",
    "Reverse",
    "Segments",
    "Span",
    "Step",
    "Stop",
    "UntilDose",
    "UntilImpedance",
    "UntilVoltage",
    "hold",
    "parse",
    "protocol",
    "pulse",
    "ramp",
    "repeat",
    "rest",
    "reverse",
]
