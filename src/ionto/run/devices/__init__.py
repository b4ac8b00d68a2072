"""Current-source drivers: the :class:`~ionto.run.devices.base.CurrentSource` protocol,
a simulated source with a skin load, and (in :mod:`ionto.run.serial_driver`) a serial one."""

from ionto.run.devices.base import (
    Capabilities,
    CurrentSource,
    DeviceError,
    DeviceTimeout,
    OutOfRangeError,
    Reading,
    check_current,
)
from ionto.run.devices.simulated import Fault, SimulatedCurrentSource
from ionto.run.devices.skin import SkinLoad

__all__ = [
    "Capabilities",
    "CurrentSource",
    "DeviceError",
    "DeviceTimeout",
    "Fault",
    "OutOfRangeError",
    "Reading",
    "SimulatedCurrentSource",
    "SkinLoad",
    "check_current",
]
