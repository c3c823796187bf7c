"""Charger I/O behind one protocol, free of Home Assistant.

Every charger is driven through `ChargerTransport`: one signed power setpoint in watts
(positive into the car, negative out of it), taking and releasing control, and reading
state. Modbus profiles and the MQTT glue implement it; the coordinator only sees this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class ChargerStatus(StrEnum):
    """What the charger is doing, as a stable vocabulary across devices."""

    DISCONNECTED = "disconnected"
    CHARGING = "charging"
    DISCHARGING = "discharging"
    WAITING = "waiting"
    PAUSED = "paused"
    SCHEDULED = "scheduled"
    LOCKED = "locked"
    QUEUED = "queued"
    ERROR = "error"
    UNKNOWN = "unknown"


class SetpointMode(StrEnum):
    """How a device takes its setpoint."""

    POWER = "power"
    CURRENT = "current"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargerIdentity:
    """Who the charger is; `serial` is the Home Assistant unique id."""

    serial: str
    manufacturer: str
    model: str
    firmware: str | None = None
    part_number: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargerCapabilities:
    """What the charger can do, in watts at the AC side.

    A setpoint is either 0 or between `min_power_w` and the maximum of its direction:
    chargers refuse currents below about 6 A (1,380 W on one phase at 230 V).
    """

    can_discharge: bool
    min_power_w: int
    max_charge_power_w: int
    max_discharge_power_w: int
    phases: int = 1
    voltage_v: int = 230
    setpoint_mode: SetpointMode = SetpointMode.POWER
    reports_soc: bool = True
    watchdog_s: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargerState:
    """One reading of the charger.

    `soc_pct` is None when the state of charge is unknown (the Quasar reads 0 when it is
    neither charging nor discharging); `soc_age_s` says how old a kept value is.
    """

    status: ChargerStatus
    plugged_in: bool
    power_w: float
    soc_pct: float | None
    soc_age_s: float | None = None
    setpoint_w: int = 0
    remote_control: bool = False
    max_available_power_w: int | None = None
    error_codes: tuple[int, ...] = field(default_factory=tuple)
    raw_state: int | None = None


class TransportError(Exception):
    """Base class of every charger I/O error."""


class TransportConnectionError(TransportError):
    """The charger cannot be reached, or the connection dropped."""


class TransportTimeoutError(TransportConnectionError):
    """The charger accepted the connection but did not answer in time (a hung server)."""


class TransportProtocolError(TransportError):
    """The charger answered with an exception, a partial or an out-of-range response."""


class SetpointRejectedError(TransportError):
    """The charger refused a setpoint or a control command."""


class ChargerTransport(Protocol):
    """The one interface between the integration and a charger."""

    @property
    def capabilities(self) -> ChargerCapabilities:
        """Return what the charger can do (valid after `identify`)."""

    @property
    def setpoint_keepalive_s(self) -> float | None:
        """Return how often an unchanged setpoint must be sent again (seconds).

        Some chargers stop when no setpoint has come for a while (a failsafe against a
        controller gone silent). None when reading the charger keeps its watchdog fed, or
        it has none.
        """

    async def connect(self) -> None:
        """Open the connection; raise TransportConnectionError when it fails."""

    async def identify(self) -> ChargerIdentity:
        """Read who the charger is and what it can do."""

    async def read_state(self) -> ChargerState:
        """Read the charger's current state."""

    async def take_control(self) -> None:
        """Put the charger under remote control, with its watchdog armed where it has one."""

    async def release_control(self) -> None:
        """Stop any (dis)charge we commanded and hand control back to the charger."""

    async def set_power(self, power_w: int) -> None:
        """Command a signed AC power (+ into the car, 0 stops); the transport clamps nothing."""

    async def close(self) -> None:
        """Close the connection without changing the charger's control state."""
