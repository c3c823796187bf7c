"""The simulated Quasar charger and the car behind it, stepped on a simulated clock.

This part knows nothing about the network: it holds the registers, validates writes the
way the real unit does and moves the car's state of charge with the power actually
delivered. `QuasarSimulator` serves it over Modbus TCP.
"""

from __future__ import annotations

from dataclasses import dataclass
import logging
from typing import Final

from . import registers as reg
from .registers import Action, ChargerStateCode, ControlMode, ExceptionCode, SetpointType

LOGGER = logging.getLogger(__package__)

# Integration step: fine enough that the SoC limits and reaction delays land within a second.
_MAX_STEP_S: Final = 1.0


class ModbusExceptionError(Exception):
    """A request the charger answers with a Modbus exception response."""

    def __init__(self, code: ExceptionCode, reason: str) -> None:
        """Keep the exception code and why it was raised."""
        super().__init__(f"{code.name}: {reason}")
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class CarConfig:
    """The car behind the charger (defaults: a CHAdeMO Nissan Leaf with 40 kWh usable)."""

    capacity_kwh: float = 40.0
    min_soc_pct: float = 10.0
    max_soc_pct: float = 100.0

    def __post_init__(self) -> None:
        """Refuse a car that cannot exist."""
        if not self.capacity_kwh > 0:
            raise ValueError(f"capacity_kwh must be positive, got {self.capacity_kwh}")
        if not 0 <= self.min_soc_pct < self.max_soc_pct <= 100:
            raise ValueError(
                f"need 0 <= min_soc_pct < max_soc_pct <= 100, got {self.min_soc_pct}, {self.max_soc_pct}"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargerConfig:
    """Identity and electrical limits of the simulated charger."""

    serial: int = 123456
    part_number: str = "QSX1B0E00000"
    firmware: int = 0x0605
    voltage_v: int = 230
    max_current_a: int = reg.MAX_CURRENT_A
    max_power_w: int = reg.MAX_POWER_W
    efficiency: float = 0.92
    reaction_delay_s: float = 0.0

    def __post_init__(self) -> None:
        """Refuse settings the register map cannot hold."""
        if not 0 <= self.serial <= 0xFFFFFFFF:
            raise ValueError(f"serial must fit in 32 bits, got {self.serial}")
        if len(self.part_number) > 2 * reg.PART_NUMBER_REGISTERS or not self.part_number.isascii():
            raise ValueError(
                f"part_number must be at most 12 ASCII characters: {self.part_number!r}"
            )
        if not 0 < self.efficiency <= 1:
            raise ValueError(f"efficiency must be in (0, 1], got {self.efficiency}")
        if self.reaction_delay_s < 0:
            raise ValueError(f"reaction_delay_s must not be negative, got {self.reaction_delay_s}")


def to_uint16(value: int) -> int:
    """Encode a signed int16 as the register's two's complement word."""
    return value & 0xFFFF


def to_int16(word: int) -> int:
    """Decode a register word as a signed int16."""
    return word - 0x10000 if word & 0x8000 else word


class QuasarDevice:
    """Register semantics of a Wallbox Quasar plus a simple car model."""

    def __init__(self, charger: ChargerConfig, car: CarConfig) -> None:
        """Start unplugged, under user control, with factory defaults."""
        self.charger = charger
        self.car = car
        self.now_s = 0.0
        self.plugged_in = False
        self.soc_pct = 50.0
        self.control = ControlMode.USER
        self.autostart = 1
        self.setpoint_type = SetpointType.CURRENT
        self.idle_timeout_s = 0
        self.lock = 0
        self.action = Action.NONE
        self.current_setpoint_a = 0
        self.power_setpoint_w = 0
        self.error_words = [0] * reg.ERROR_REGISTERS
        self.discharge_allowed = True
        self.session_running = False
        self.applied_power_w = 0.0
        self.watchdog_trips = 0
        self.energy_into_car_kwh = 0.0
        self.energy_from_car_kwh = 0.0
        self._last_request_s = 0.0
        self._pending_power_w = 0.0
        self._pending_due_s: float | None = None

    # ---- car -------------------------------------------------------------------------

    def plug_in(self, soc_pct: float) -> None:
        """Connect a car at the given state of charge; autostart decides whether it starts."""
        if not 0 <= soc_pct <= 100:
            raise ValueError(f"soc_pct must be within 0..100, got {soc_pct}")
        self.plugged_in = True
        self.soc_pct = float(soc_pct)
        self.session_running = bool(self.autostart) and not self.lock
        self._reschedule()
        LOGGER.info("Car plugged in at %.1f %% (session %s)", soc_pct, self.session_running)

    def unplug(self) -> None:
        """Disconnect the car; power stops at once."""
        self.plugged_in = False
        self.session_running = False
        self.applied_power_w = 0.0
        self._pending_power_w = 0.0
        self._pending_due_s = None
        LOGGER.info("Car unplugged")

    # ---- derived state ----------------------------------------------------------------

    def target_power_w(self) -> float:
        """Return the AC power the charger is commanded to deliver right now (+ into the car)."""
        if not self.plugged_in or not self.session_running or self.lock:
            return 0.0
        if self.control is ControlMode.USER:
            # Under user control the unit charges at what the installation allows.
            return float(
                min(self.charger.max_current_a * self.charger.voltage_v, self.charger.max_power_w)
            )
        if self.setpoint_type is SetpointType.POWER:
            return float(self.power_setpoint_w)
        return float(self.current_setpoint_a * self.charger.voltage_v)

    def _car_accepts(self, power_w: float) -> bool:
        """Return whether the car takes this power at its current state of charge."""
        if power_w > 0:
            return self.soc_pct < self.car.max_soc_pct
        if power_w < 0:
            return self.soc_pct > self.car.min_soc_pct
        return True

    def state_code(self) -> ChargerStateCode:
        """Return register 0x0219 as the real unit would report it."""
        if not self.plugged_in:
            return ChargerStateCode.NO_CAR_LOCKED if self.lock else ChargerStateCode.NO_CAR
        if not self.session_running:
            return ChargerStateCode.PAUSED
        if self.applied_power_w > 0:
            return ChargerStateCode.CHARGING
        if self.applied_power_w < 0:
            return ChargerStateCode.DISCHARGING
        return ChargerStateCode.WAITING_FOR_CAR_DEMAND

    def soc_register(self) -> int:
        """Return register 0x021A: the car's SoC, but 0 unless power flows (a firmware quirk)."""
        if self.state_code() in (ChargerStateCode.CHARGING, ChargerStateCode.DISCHARGING):
            return round(self.soc_pct)
        return 0

    # ---- registers ----------------------------------------------------------------------

    def read(self, address: int, count: int) -> list[int]:
        """Read `count` holding registers, raising ModbusExceptionError like the real unit."""
        if not 1 <= count <= 125:
            raise ModbusExceptionError(ExceptionCode.ILLEGAL_DATA_VALUE, f"count {count}")
        last = address + count - 1
        if not any(first <= address and last <= end for first, end in reg.READABLE_BLOCKS):
            raise ModbusExceptionError(
                ExceptionCode.ILLEGAL_DATA_ADDRESS, f"0x{address:04X}..0x{last:04X} not mapped"
            )
        return [self.register(a) for a in range(address, last + 1)]

    def register(self, address: int) -> int:
        """Return one register word (0 for gaps inside readable blocks)."""
        words = self._register_words()
        return words.get(address, 0) & 0xFFFF

    def _register_words(self) -> dict[int, int]:
        """Return every mapped register as a word."""
        part = self.charger.part_number.ljust(2 * reg.PART_NUMBER_REGISTERS, "\0").encode("ascii")
        words: dict[int, int] = {
            reg.FIRMWARE_VERSION: self.charger.firmware,
            reg.SERIAL_HIGH: self.charger.serial >> 16,
            reg.SERIAL_LOW: self.charger.serial & 0xFFFF,
            reg.CONTROL: int(self.control),
            reg.AUTOSTART: self.autostart,
            reg.SETPOINT_TYPE: int(self.setpoint_type),
            reg.IDLE_TIMEOUT: self.idle_timeout_s,
            reg.LOCK: self.lock,
            reg.ACTION: int(self.action),
            reg.CURRENT_SETPOINT: to_uint16(self.current_setpoint_a),
            reg.POWER_SETPOINT: to_uint16(self.power_setpoint_w),
            reg.MAX_AVAILABLE_CURRENT: self.charger.max_current_a,
            reg.MAX_AVAILABLE_POWER: self.charger.max_power_w,
            reg.AC_CURRENT: to_uint16(round(self.applied_power_w / self.charger.voltage_v)),
            reg.AC_VOLTAGE: self.charger.voltage_v,
            reg.AC_ACTIVE_POWER: to_uint16(round(self.applied_power_w)),
            reg.CHARGER_STATE: int(self.state_code()),
            reg.STATE_OF_CHARGE: self.soc_register(),
        }
        for index in range(reg.PART_NUMBER_REGISTERS):
            words[reg.PART_NUMBER_FIRST + index] = (part[2 * index] << 8) | part[2 * index + 1]
        for index, word in enumerate(self.error_words):
            words[reg.ERROR_FIRST + index] = word
        return words

    def write(self, address: int, word: int) -> None:
        """Write one holding register, raising ModbusExceptionError when the unit refuses it.

        Negative Python ints are taken as int16 and stored in two's complement.
        """
        word &= 0xFFFF
        if address not in reg.WRITABLE:
            raise ModbusExceptionError(
                ExceptionCode.ILLEGAL_DATA_ADDRESS, f"0x{address:04X} is not writable"
            )
        if address in reg.REMOTE_ONLY and self.control is not ControlMode.REMOTE:
            raise ModbusExceptionError(
                ExceptionCode.ILLEGAL_DATA_VALUE, f"0x{address:04X} needs remote control"
            )
        handler = {
            reg.CONTROL: self._write_control,
            reg.AUTOSTART: self._write_autostart,
            reg.SETPOINT_TYPE: self._write_setpoint_type,
            reg.IDLE_TIMEOUT: self._write_idle_timeout,
            reg.LOCK: self._write_lock,
            reg.ACTION: self._write_action,
            reg.CURRENT_SETPOINT: self._write_current_setpoint,
            reg.POWER_SETPOINT: self._write_power_setpoint,
        }[address]
        handler(word)
        self._reschedule()

    def _write_control(self, word: int) -> None:
        """Switch user/remote control; user control restores the factory settings."""
        if word not in (0, 1):
            raise ModbusExceptionError(ExceptionCode.ILLEGAL_DATA_VALUE, f"control {word}")
        self.control = ControlMode(word)
        if self.control is ControlMode.USER:
            self.autostart = 1
            self.setpoint_type = SetpointType.CURRENT
            self.idle_timeout_s = 0
            # Handing back control ends the remote-commanded session; the user resumes it.
            self.session_running = False
        LOGGER.info("Control set to %s", self.control.name)

    def _write_autostart(self, word: int) -> None:
        """Enable or disable starting on plug-in."""
        if word not in (0, 1):
            raise ModbusExceptionError(ExceptionCode.ILLEGAL_DATA_VALUE, f"autostart {word}")
        self.autostart = word

    def _write_setpoint_type(self, word: int) -> None:
        """Select current or power setpoints."""
        if word not in (0, 1):
            raise ModbusExceptionError(ExceptionCode.ILLEGAL_DATA_VALUE, f"setpoint type {word}")
        self.setpoint_type = SetpointType(word)
        LOGGER.info("Setpoint type set to %s", self.setpoint_type.name)

    def _write_idle_timeout(self, word: int) -> None:
        """Arm (non-zero) or disarm (0) the Modbus idle watchdog."""
        self.idle_timeout_s = word
        LOGGER.info("Idle timeout set to %d s", word)

    def _write_lock(self, word: int) -> None:
        """Lock or unlock the charger."""
        if word not in (0, 1):
            raise ModbusExceptionError(ExceptionCode.ILLEGAL_DATA_VALUE, f"lock {word}")
        self.lock = word

    def _write_action(self, word: int) -> None:
        """Start, stop or pause a session."""
        try:
            action = Action(word)
        except ValueError:
            raise ModbusExceptionError(ExceptionCode.ILLEGAL_DATA_VALUE, f"action {word}") from None
        if action is Action.NONE:
            raise ModbusExceptionError(ExceptionCode.ILLEGAL_DATA_VALUE, "action 0")
        self.action = action
        if action is Action.START:
            self.session_running = self.plugged_in and not self.lock
        elif action in (Action.STOP, Action.PAUSE):
            self.session_running = False
        LOGGER.info("Action %s (session running: %s)", action.name, self.session_running)

    def _check_sign(self, value: int) -> None:
        """Refuse discharge setpoints when the installer's grid code does not allow them."""
        if value < 0 and not self.discharge_allowed:
            raise ModbusExceptionError(
                ExceptionCode.ILLEGAL_DATA_VALUE, "negative setpoint refused (grid code)"
            )

    def _write_current_setpoint(self, word: int) -> None:
        """Set the signed current setpoint in amperes (negative discharges)."""
        value = to_int16(word)
        if value != 0 and not reg.MIN_CURRENT_A <= abs(value) <= reg.MAX_CURRENT_A:
            raise ModbusExceptionError(ExceptionCode.ILLEGAL_DATA_VALUE, f"current {value} A")
        self._check_sign(value)
        self.current_setpoint_a = value
        LOGGER.info("Current setpoint %d A", value)

    def _write_power_setpoint(self, word: int) -> None:
        """Set the signed power setpoint in watts (negative discharges)."""
        value = to_int16(word)
        if value != 0 and not reg.MIN_POWER_W <= abs(value) <= reg.MAX_POWER_W:
            raise ModbusExceptionError(ExceptionCode.ILLEGAL_DATA_VALUE, f"power {value} W")
        self._check_sign(value)
        self.power_setpoint_w = value
        LOGGER.info("Power setpoint %d W", value)

    # ---- time -------------------------------------------------------------------------

    def note_request(self) -> None:
        """Record Modbus traffic: any request feeds the idle watchdog."""
        self._last_request_s = self.now_s

    def _reschedule(self) -> None:
        """Start the reaction delay towards a changed target."""
        target = self.target_power_w()
        if not self._car_accepts(target):
            target = 0.0
        if target == self.applied_power_w and self._pending_due_s is None:
            return
        if self._pending_due_s is not None and target == self._pending_power_w:
            return
        self._pending_power_w = target
        self._pending_due_s = self.now_s + self.charger.reaction_delay_s
        self._apply_due()

    def _apply_due(self) -> None:
        """Apply a pending change once its reaction delay has passed."""
        if self._pending_due_s is not None and self.now_s >= self._pending_due_s:
            if self.applied_power_w != self._pending_power_w:
                LOGGER.info("AC power now %.0f W", self._pending_power_w)
            self.applied_power_w = self._pending_power_w
            self._pending_due_s = None

    def _check_watchdog(self) -> None:
        """Stop (dis)charging when the armed idle timeout passes without traffic."""
        if (
            self.idle_timeout_s > 0
            and self.control is ControlMode.REMOTE
            and self.session_running
            and self.now_s - self._last_request_s >= self.idle_timeout_s
        ):
            LOGGER.warning("Modbus idle timeout of %d s expired: stopping", self.idle_timeout_s)
            self.watchdog_trips += 1
            self.session_running = False
            self.action = Action.STOP
            # The fail-safe acts at once rather than after the usual ramp.
            self.applied_power_w = 0.0
            self._pending_power_w = 0.0
            self._pending_due_s = None

    def advance(self, seconds: float) -> None:
        """Move simulated time forward, integrating energy into or out of the car."""
        if seconds < 0:
            raise ValueError(f"cannot go back in time ({seconds} s)")
        remaining = seconds
        while remaining > 0:
            step = min(remaining, _MAX_STEP_S)
            if self._pending_due_s is not None and self._pending_due_s > self.now_s:
                step = min(step, self._pending_due_s - self.now_s)
            self._integrate(step)
            self.now_s += step
            remaining -= step
            self._check_watchdog()
            self._apply_due()
            self._reschedule()
        if seconds == 0:
            self._check_watchdog()
            self._apply_due()
            self._reschedule()

    def _integrate(self, step_s: float) -> None:
        """Move the SoC with the AC power over one step, through the charger's losses."""
        power_w = self.applied_power_w
        if power_w == 0 or step_s <= 0:
            return
        ac_kwh = power_w * step_s / 3_600_000
        # Charging loses energy on the way in; discharging takes more from the battery than
        # reaches the house.
        battery_kwh = (
            ac_kwh * self.charger.efficiency if ac_kwh > 0 else ac_kwh / self.charger.efficiency
        )
        soc = self.soc_pct + 100 * battery_kwh / self.car.capacity_kwh
        if ac_kwh > 0:
            self.energy_into_car_kwh += ac_kwh
            self.soc_pct = min(soc, self.car.max_soc_pct)
        else:
            self.energy_from_car_kwh += -ac_kwh
            self.soc_pct = max(soc, self.car.min_soc_pct)
