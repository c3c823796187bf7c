"""Device profiles: a charger's Modbus register map as typed, frozen data.

A profile says where each value lives, how it is encoded (int16, uint16, int32, uint32,
float32, word order, scale), which sign the device uses for charging, and which registers
take control, start, stop and arm the watchdog. The Modbus transport is generic over it;
`profile_from_dict` builds one from a user's map (options flow) with clear errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
import math
import struct
from typing import Final

from custom_components.nordic_v2h.transport import ChargerStatus, SetpointMode

_UINT16_MAX: Final = 0xFFFF


class ProfileError(ValueError):
    """A profile (or a user's register map) is invalid; the message names the field."""


class RegisterValueError(ValueError):
    """A register value cannot be decoded or encoded (out of range, not a number)."""


class RegisterType(StrEnum):
    """How a value is encoded in 16-bit registers."""

    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    FLOAT32 = "float32"

    @property
    def word_count(self) -> int:
        """Return how many 16-bit registers the type spans."""
        return 1 if self in (RegisterType.INT16, RegisterType.UINT16) else 2


class WordOrder(StrEnum):
    """Order of the 16-bit words of a 32-bit value."""

    BIG = "big"
    LITTLE = "little"


class RegisterTable(StrEnum):
    """Modbus table a register is read from."""

    HOLDING = "holding"
    INPUT = "input"


class SignConvention(StrEnum):
    """Which sign the device uses for power into the car."""

    CHARGE_POSITIVE = "charge_positive"
    """Positive charges the car, negative discharges it (Wallbox, EVtec)."""
    DISCHARGE_POSITIVE = "discharge_positive"
    """Positive discharges the car, negative charges it (Ambibox's generator convention)."""

    def to_device(self, power_w: float) -> float:
        """Convert a power with + into the car to the device's sign."""
        return power_w if self is SignConvention.CHARGE_POSITIVE else -power_w

    def from_device(self, value: float) -> float:
        """Convert a device power to + into the car."""
        return self.to_device(value)


_STRUCT_CODES: Final = {
    RegisterType.INT16: ">h",
    RegisterType.UINT16: ">H",
    RegisterType.INT32: ">i",
    RegisterType.UINT32: ">I",
    RegisterType.FLOAT32: ">f",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterSpec:
    """One value in the register map: physical value = raw * scale, within [min, max]."""

    address: int
    type: RegisterType = RegisterType.UINT16
    scale: float = 1.0
    table: RegisterTable = RegisterTable.HOLDING
    word_order: WordOrder = WordOrder.BIG
    min_value: float | None = None
    max_value: float | None = None

    def __post_init__(self) -> None:
        """Refuse an address outside the Modbus space or a zero scale."""
        if not 0 <= self.address <= _UINT16_MAX - self.word_count + 1:
            raise ProfileError(f"address {self.address} is outside 0..65535")
        if self.scale == 0 or not math.isfinite(self.scale):
            raise ProfileError(f"scale must be a non-zero number, got {self.scale}")
        if (
            self.min_value is not None
            and self.max_value is not None
            and self.min_value > self.max_value
        ):
            raise ProfileError(f"min_value {self.min_value} exceeds max_value {self.max_value}")

    @property
    def word_count(self) -> int:
        """Return how many registers the value spans."""
        return self.type.word_count

    def decode(self, words: list[int] | tuple[int, ...]) -> float:
        """Decode registers into the physical value, checking the plausible range."""
        if len(words) != self.word_count:
            raise RegisterValueError(
                f"0x{self.address:04X}: expected {self.word_count} words, got {len(words)}"
            )
        ordered = list(words) if self.word_order is WordOrder.BIG else list(reversed(words))
        raw_bytes = b"".join((w & _UINT16_MAX).to_bytes(2, "big") for w in ordered)
        raw = struct.unpack(_STRUCT_CODES[self.type], raw_bytes)[0]
        if not math.isfinite(raw):
            raise RegisterValueError(f"0x{self.address:04X}: not a number ({raw})")
        value = float(raw) * self.scale
        if (self.min_value is not None and value < self.min_value) or (
            self.max_value is not None and value > self.max_value
        ):
            raise RegisterValueError(
                f"0x{self.address:04X}: {value:g} is outside the plausible range "
                f"{self.min_value}..{self.max_value}"
            )
        return value

    def encode(self, value: float) -> list[int]:
        """Encode a physical value into registers, refusing what the type or range cannot hold."""
        if (self.min_value is not None and value < self.min_value) or (
            self.max_value is not None and value > self.max_value
        ):
            raise RegisterValueError(
                f"0x{self.address:04X}: {value:g} is outside {self.min_value}..{self.max_value}"
            )
        raw: float | int = value / self.scale
        if self.type is not RegisterType.FLOAT32:
            raw = round(raw)
        try:
            raw_bytes = struct.pack(_STRUCT_CODES[self.type], raw)
        except struct.error as err:
            raise RegisterValueError(
                f"0x{self.address:04X}: {value:g} does not fit in {self.type}"
            ) from err
        words = [int.from_bytes(raw_bytes[i : i + 2], "big") for i in range(0, len(raw_bytes), 2)]
        return words if self.word_order is WordOrder.BIG else list(reversed(words))


@dataclass(frozen=True, slots=True, kw_only=True)
class StringSpec:
    """An ASCII string stored two characters per register."""

    address: int
    count: int
    table: RegisterTable = RegisterTable.HOLDING

    def __post_init__(self) -> None:
        """Refuse an empty or out-of-space string."""
        if not 1 <= self.count <= 64 or not 0 <= self.address <= _UINT16_MAX - self.count + 1:
            raise ProfileError(f"string at {self.address} with {self.count} registers is invalid")

    @property
    def word_count(self) -> int:
        """Return how many registers the string spans."""
        return self.count

    def decode(self, words: list[int] | tuple[int, ...]) -> str:
        """Decode to text, dropping NUL padding and non-printable bytes."""
        raw = b"".join((w & _UINT16_MAX).to_bytes(2, "big") for w in words)
        return "".join(chr(b) for b in raw if 0x20 <= b < 0x7F).strip()


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandSpec:
    """A register plus the values that mean on/off (control, start/stop, autostart, mode)."""

    register: RegisterSpec
    on_value: int
    off_value: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadBlock:
    """Registers read together in one request (the device must allow the whole span)."""

    address: int
    count: int
    table: RegisterTable = RegisterTable.HOLDING

    def __post_init__(self) -> None:
        """Refuse a block Modbus cannot read in one request."""
        if not 1 <= self.count <= 125 or not 0 <= self.address <= _UINT16_MAX - self.count + 1:
            raise ProfileError(f"block at {self.address} with {self.count} registers is invalid")

    def covers(self, address: int, count: int, table: RegisterTable) -> bool:
        """Return whether the block holds the given span."""
        return (
            table is self.table
            and self.address <= address
            and address + count <= self.address + self.count
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceProfile:
    """Everything the Modbus transport needs to drive one kind of bidirectional charger."""

    key: str
    manufacturer: str
    model: str
    unit_id: int = 1
    # Setpoints: the preferred mode, and the registers for each mode (one may be absent).
    setpoint_mode: SetpointMode = SetpointMode.POWER
    power_setpoint: RegisterSpec | None = None
    current_setpoint: RegisterSpec | None = None
    setpoint_sign: SignConvention = SignConvention.CHARGE_POSITIVE
    # on_value selects power mode, off_value current mode.
    setpoint_mode_select: CommandSpec | None = None
    # on_value starts, off_value stops (dis)charging.
    action: CommandSpec | None = None
    # on_value is remote control, off_value hands control back to the user.
    control: CommandSpec | None = None
    # on_value enables starting on plug-in; taking control writes off_value.
    autostart: CommandSpec | None = None
    watchdog: RegisterSpec | None = None
    watchdog_s: int | None = None
    # Measurements.
    state: RegisterSpec | None = None
    status_map: tuple[tuple[int, ChargerStatus], ...] = ()
    unplugged_states: frozenset[int] = frozenset()
    power: RegisterSpec | None = None
    power_sign: SignConvention = SignConvention.CHARGE_POSITIVE
    soc: RegisterSpec | None = None
    soc_zero_when_idle: bool = False
    # SoC readings refused as glitches while power flows (the Quasar briefly reports 0 or 1).
    soc_glitch_values: frozenset[int] = frozenset()
    max_current: RegisterSpec | None = None
    max_power: RegisterSpec | None = None
    error_registers: tuple[RegisterSpec, ...] = ()
    # Identity.
    serial: RegisterSpec | StringSpec | None = None
    part_number: StringSpec | None = None
    firmware: RegisterSpec | StringSpec | None = None
    # Block reads for read_state and identify; registers outside every block are read one by one.
    read_blocks: tuple[ReadBlock, ...] = ()
    identity_blocks: tuple[ReadBlock, ...] = ()
    # Electrical limits (AC side) used when the device does not report its own.
    phases: int = 1
    voltage_v: int = 230
    min_power_w: int = 1380
    max_charge_power_w: int = 7400
    max_discharge_power_w: int = 7400
    can_discharge: bool = True

    def __post_init__(self) -> None:
        """Check the profile can actually drive a charger."""
        if not self.key:
            raise ProfileError("key must not be empty")
        if not 0 <= self.unit_id <= 255:
            raise ProfileError(f"unit_id must be within 0..255, got {self.unit_id}")
        if self.power_setpoint is None and self.current_setpoint is None:
            raise ProfileError("a profile needs power_setpoint or current_setpoint")
        if self.setpoint_mode is SetpointMode.POWER and self.power_setpoint is None:
            raise ProfileError("setpoint_mode 'power' needs power_setpoint")
        if self.setpoint_mode is SetpointMode.CURRENT and self.current_setpoint is None:
            raise ProfileError("setpoint_mode 'current' needs current_setpoint")
        if self.phases not in (1, 3):
            raise ProfileError(f"phases must be 1 or 3, got {self.phases}")
        if not 100 <= self.voltage_v <= 400:
            raise ProfileError(f"voltage_v must be within 100..400, got {self.voltage_v}")
        if not 0 <= self.min_power_w <= min(self.max_charge_power_w, 100_000):
            raise ProfileError("need 0 <= min_power_w <= max_charge_power_w <= 100000")
        if self.max_discharge_power_w < 0:
            raise ProfileError("max_discharge_power_w must not be negative")
        if self.watchdog is not None and self.watchdog_s is not None and self.watchdog_s <= 0:
            raise ProfileError(f"watchdog_s must be positive, got {self.watchdog_s}")
        if self.state is not None and not self.status_map:
            raise ProfileError("a state register needs a status_map")
        codes = [code for code, _ in self.status_map]
        if len(codes) != len(set(codes)):
            raise ProfileError("status_map has duplicate codes")

    @property
    def statuses(self) -> dict[int, ChargerStatus]:
        """Return the status map as a dict."""
        return dict(self.status_map)

    def setpoint_register(self, mode: SetpointMode) -> RegisterSpec:
        """Return the setpoint register for a mode."""
        register = self.power_setpoint if mode is SetpointMode.POWER else self.current_setpoint
        if register is None:
            raise ProfileError(f"profile {self.key} has no {mode} setpoint register")
        return register
