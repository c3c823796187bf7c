"""A Wallbox Quasar (CHAdeMO, bidirectional) simulator served over Modbus TCP."""

from __future__ import annotations

from .device import CarConfig, ChargerConfig, ModbusExceptionError, QuasarDevice
from .registers import Action, ChargerStateCode, ControlMode, ExceptionCode, SetpointType
from .server import Faults, QuasarSimulator

__all__ = [
    "Action",
    "CarConfig",
    "ChargerConfig",
    "ChargerStateCode",
    "ControlMode",
    "ExceptionCode",
    "Faults",
    "ModbusExceptionError",
    "QuasarDevice",
    "QuasarSimulator",
    "SetpointType",
]
