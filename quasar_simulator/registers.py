"""The Wallbox Quasar (1) Modbus register map, as the simulator serves it."""

from __future__ import annotations

from enum import IntEnum
from typing import Final

FIRMWARE_VERSION: Final = 0x0001
SERIAL_HIGH: Final = 0x0002
SERIAL_LOW: Final = 0x0003
PART_NUMBER_FIRST: Final = 0x0004
PART_NUMBER_REGISTERS: Final = 6
CONTROL: Final = 0x0051
AUTOSTART: Final = 0x0052
SETPOINT_TYPE: Final = 0x0053
IDLE_TIMEOUT: Final = 0x0058
LOCK: Final = 0x0100
ACTION: Final = 0x0101
CURRENT_SETPOINT: Final = 0x0102
POWER_SETPOINT: Final = 0x0104
MAX_AVAILABLE_CURRENT: Final = 0x0200
MAX_AVAILABLE_POWER: Final = 0x0202
AC_CURRENT: Final = 0x0207
AC_VOLTAGE: Final = 0x020A
AC_ACTIVE_POWER: Final = 0x020E
CHARGER_STATE: Final = 0x0219
STATE_OF_CHARGE: Final = 0x021A
ERROR_FIRST: Final = 0x021B
ERROR_REGISTERS: Final = 4

# Blocks a client may read in one request. The real unit answers block reads inside these
# (gaps read as 0) but raises ILLEGAL_DATA_ADDRESS for anything that touches the
# non-existent space between them, e.g. 0x0105..0x01FF.
READABLE_BLOCKS: Final[tuple[tuple[int, int], ...]] = (
    (0x0001, 0x0009),
    (0x0051, 0x0058),
    (0x0100, 0x0104),
    (0x0200, 0x0225),
)

WRITABLE: Final[frozenset[int]] = frozenset(
    {
        CONTROL,
        AUTOSTART,
        SETPOINT_TYPE,
        IDLE_TIMEOUT,
        LOCK,
        ACTION,
        CURRENT_SETPOINT,
        POWER_SETPOINT,
    }
)

# Settings that only take effect (and are only accepted) under remote control.
REMOTE_ONLY: Final[frozenset[int]] = frozenset(
    {AUTOSTART, SETPOINT_TYPE, IDLE_TIMEOUT, ACTION, CURRENT_SETPOINT, POWER_SETPOINT}
)

MIN_CURRENT_A: Final = 6
MAX_CURRENT_A: Final = 32
MIN_POWER_W: Final = 1380
MAX_POWER_W: Final = 7400


class ControlMode(IntEnum):
    """Register 0x0051: who commands the charger."""

    USER = 0
    REMOTE = 1


class SetpointType(IntEnum):
    """Register 0x0053: which setpoint register is active."""

    CURRENT = 0
    POWER = 1


class Action(IntEnum):
    """Register 0x0101: commands."""

    NONE = 0
    START = 1
    STOP = 2
    PAUSE = 3
    UPDATE_FIRMWARE = 4


class ChargerStateCode(IntEnum):
    """Register 0x0219: charger state codes."""

    NO_CAR = 0
    CHARGING = 1
    WAITING_FOR_CAR_DEMAND = 2
    WAITING_FOR_SCHEDULE = 3
    PAUSED = 4
    END_OF_SCHEDULE = 5
    NO_CAR_LOCKED = 6
    ERROR = 7
    QUEUED_POWER_SHARING = 8
    ERROR_POWER_SHARING = 9
    QUEUED_POWER_BOOST = 10
    DISCHARGING = 11


class ExceptionCode(IntEnum):
    """Modbus exception codes the simulator answers with."""

    ILLEGAL_FUNCTION = 0x01
    ILLEGAL_DATA_ADDRESS = 0x02
    ILLEGAL_DATA_VALUE = 0x03
    SERVER_DEVICE_FAILURE = 0x04
    SERVER_DEVICE_BUSY = 0x06
    GATEWAY_TARGET_FAILED = 0x0B
