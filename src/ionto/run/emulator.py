"""A device emulator: the line protocol of docs/device-protocol.md on a pseudo-terminal,
backed by a :class:`~ionto.run.devices.simulated.SimulatedCurrentSource`.

``with DeviceEmulator(source) as emu: SerialCurrentSource(emu.port)`` drives the real
serial stack (pyserial, termios, the line protocol) end to end. Faults are injected on
``emu.source``; during a ``driver_hang`` (``hang="block"``) ``MEAS?`` gets no reply.
"""

from __future__ import annotations

import contextlib
import os
import pty
import select
import threading
import tty
from types import TracebackType

from ionto.run.devices.base import DeviceError, DeviceTimeout, OutOfRangeError
from ionto.run.devices.simulated import SimulatedCurrentSource

WIRE = {
    "ok": "OK",
    "off": "OFF",
    "compliance": "CMPL",
    "aborted": "ABRT",
    "error": "ERR",
    "stop": "STOP",
}


class DeviceEmulator:
    """Serves ``source`` on a pty; ``port`` is the path to open with pyserial."""

    def __init__(self, source: SimulatedCurrentSource) -> None:
        self.source = source
        self._master, self._slave = pty.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="ionto-emulator", daemon=True)
        self.log: list[tuple[str, str | None]] = []  # (command, reply) for tests

    def start(self) -> DeviceEmulator:
        """Start serving (the source is connected)."""
        self.source.connect()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the pty."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2.0)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> DeviceEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _serve(self) -> None:
        buffer = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self._master, 1024)
            except OSError:
                return
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                command = line.decode("ascii", "replace").strip()
                reply = self.handle(command)
                self.log.append((command, reply))
                if reply is not None:
                    os.write(self._master, reply.encode("ascii") + b"\n")

    def handle(self, command: str) -> str | None:
        """The reply line to ``command`` (None: no reply, a hung device)."""
        src = self.source
        word, _, arg = command.partition(" ")
        word = word.upper()
        try:
            if word == "*IDN?":
                return "IONTO,EMULATOR," + src.identify().split(",")[2] + ",1.0"
            if word == "CAP?":
                c = src.capabilities
                return f"{c.max_current_A * 1e3:g},{c.compliance_V:g},{c.resolution_A * 1e3:g}"
            if word == "CURR":
                src.set_current(float(arg) * 1e-3)
                return "OK"
            if word == "OUTP" and arg.upper() in ("ON", "OFF"):
                src.output(arg.upper() == "ON")
                return "OK"
            if word == "MEAS?":
                r = src.read()
                return f"{r.current_A * 1e3:.6f},{r.voltage_V:.4f},{WIRE[r.status]},{r.t:.4f}"
            if word == "ABOR":
                src.abort()
                return "OK"
        except DeviceTimeout:
            return None
        except OutOfRangeError as exc:
            return f"ERR 2 {exc.reason}"
        except ValueError:
            return f"ERR 3 bad argument {arg!r}"
        except DeviceError as exc:
            return f"ERR 4 {exc}"
        return f"ERR 1 unknown command {command!r}"
