"""A current source on a serial line speaking the ionto line protocol (docs/device-protocol.md).

:class:`LineProtocol` holds the byte-level exchange (one ASCII command per line, one
reply line) over any transport with ``write(bytes)`` and ``readline() -> bytes`` (a
``serial.Serial`` or a test fake). :class:`SerialCurrentSource` implements
:class:`~ionto.run.devices.base.CurrentSource` on top of it. Currents travel in mA on
the wire and are A in Python.
"""

from __future__ import annotations

import contextlib
from typing import Any, Protocol

from ionto.run.devices.base import (
    STATUSES,
    Capabilities,
    DeviceError,
    DeviceTimeout,
    OutOfRangeError,
    Reading,
    Status,
    check_current,
)

WIRE_STATUS: dict[str, Status] = {
    "OK": "ok",
    "OFF": "off",
    "CMPL": "compliance",
    "ABRT": "aborted",
    "ERR": "error",
    "STOP": "stop",
}
ERR_RANGE = 2


class Transport(Protocol):
    """What :class:`LineProtocol` needs from a port."""

    def write(self, data: bytes) -> Any: ...

    def readline(self) -> bytes: ...


class LineProtocol:
    """Commands and replies: ``query("MEAS?") -> "1.000,2.5,OK,12.3"``.

    A reply that does not end with a newline (the port timed out) raises
    :class:`DeviceTimeout`; ``ERR <code> <text>`` raises :class:`DeviceError` (or
    :class:`OutOfRangeError` for code 2, out of range).
    """

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def query(self, command: str) -> str:
        """Send ``command`` and return the reply line without its newline."""
        self.transport.write(command.encode("ascii") + b"\n")
        raw = self.transport.readline()
        if not raw.endswith(b"\n"):
            raise DeviceTimeout(f"no reply to {command!r} (got {raw!r})")
        reply = raw.decode("ascii", "replace").strip()
        if reply.startswith("ERR"):
            code, _, text = reply[3:].strip().partition(" ")
            if code == str(ERR_RANGE):
                raise OutOfRangeError(float("nan"), f"device: {text}")
            raise DeviceError(f"{command!r}: device error {code}: {text}")
        return reply

    def command(self, command: str) -> None:
        """Send a command that answers ``OK``."""
        reply = self.query(command)
        if reply != "OK":
            raise DeviceError(f"{command!r}: expected OK, got {reply!r}")


class SerialCurrentSource:
    """A :class:`~ionto.run.devices.base.CurrentSource` on a serial port (pyserial).

    port: device path; baudrate; timeout (s) for one reply; transport: an already open
    transport (tests) instead of opening ``port``.
    """

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = 115200,
        timeout: float = 0.5,
        transport: Transport | None = None,
    ) -> None:
        self.port = port
        self.baudrate = baudrate
        self.timeout = timeout
        self._transport = transport
        self._serial: Any = None
        self._caps: Capabilities | None = None
        self.protocol: LineProtocol | None = None if transport is None else LineProtocol(transport)

    @property
    def capabilities(self) -> Capabilities:
        """Read from the device (``CAP?``) on connect."""
        if self._caps is None:
            raise DeviceError("not connected: capabilities are read on connect()")
        return self._caps

    def _p(self) -> LineProtocol:
        if self.protocol is None:
            raise DeviceError(f"{self.port}: not connected (call connect() first)")
        return self.protocol

    def connect(self) -> None:
        """Open the port, read the capabilities, output off at 0 mA."""
        if self.protocol is None:
            import serial

            self._serial = serial.Serial(self.port, self.baudrate, timeout=self.timeout)
            self.protocol = LineProtocol(self._serial)
        fields = self._p().query("CAP?").split(",")
        try:
            max_mA, volts, res_mA = (float(x) for x in fields)
        except ValueError:
            raise DeviceError(f"CAP? reply {fields!r} is not max_mA,compliance_V,res_mA") from None
        self._caps = Capabilities(max_mA * 1e-3, volts, res_mA * 1e-3)
        self._p().command("OUTP OFF")
        self._p().command("CURR 0")

    def close(self) -> None:
        """Output off (best effort) and close the port."""
        if self.protocol is not None:
            with contextlib.suppress(DeviceError):
                self._p().command("OUTP OFF")
        if self._serial is not None:
            self._serial.close()
            self._serial = None
            self.protocol = None

    def identify(self) -> str:
        """The ``*IDN?`` reply."""
        return self._p().query("*IDN?")

    def check_value(self, amps: float) -> None:
        """Raise :class:`OutOfRangeError` if ``amps`` (A) is out of range."""
        check_current(amps, self.capabilities)

    def set_current(self, amps: float) -> None:
        """``CURR <mA>``; checked here first, and the device checks again."""
        value = check_current(amps, self.capabilities)
        self._p().command(f"CURR {value * 1e3:.6f}")

    def output(self, enabled: bool) -> None:
        """``OUTP ON`` / ``OUTP OFF``."""
        self._p().command("OUTP ON" if enabled else "OUTP OFF")

    def read(self) -> Reading:
        """``MEAS?`` -> ``I_mA,V_V,STATUS,t_s``."""
        reply = self._p().query("MEAS?")
        parts = reply.split(",")
        if len(parts) != 4 or parts[2] not in WIRE_STATUS:
            raise DeviceError(f"MEAS? reply {reply!r} is not I_mA,V_V,STATUS,t_s")
        status = WIRE_STATUS[parts[2]]
        assert status in STATUSES
        return Reading(
            t=float(parts[3]),
            current_A=float(parts[0]) * 1e-3,
            voltage_V=float(parts[1]),
            compliance=status == "compliance",
            status=status,
        )

    def abort(self) -> None:
        """``ABOR``: output off and 0 mA at once."""
        self._p().command("ABOR")
