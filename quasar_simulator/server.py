"""A Wallbox Quasar simulator served over Modbus TCP on asyncio.

The server speaks Modbus TCP itself (MBAP framing, FC03, FC06 and FC16) instead of using
pymodbus's server. Two reasons: pymodbus's server API changed between 3.8 and 3.13
(ModbusSlaveContext became ModbusDeviceContext, datastore and server start/stop signatures
moved), and the faults the real unit shows — a Modbus module that accepts TCP but never
answers, dropped sockets, malformed or partial frames — need control below the level a
library server exposes. Clients (the integration, the tests) still use pymodbus.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
import logging
import struct
import time
from typing import Final

from . import registers as reg
from .device import CarConfig, ChargerConfig, ModbusExceptionError, QuasarDevice
from .registers import Action, ChargerStateCode, ControlMode, ExceptionCode, SetpointType

LOGGER = logging.getLogger(__package__)

_MBAP: Final = struct.Struct(">HHHB")
_FC_READ_HOLDING: Final = 0x03
_FC_WRITE_SINGLE: Final = 0x06
_FC_WRITE_MULTIPLE: Final = 0x10
_UNIT_ID: Final = 1
# How often real-time mode moves the simulated clock when nobody asks.
_TICK_S: Final = 0.2


@dataclass(slots=True, kw_only=True)
class Faults:
    """Fault switches; tests flip them while the simulator runs (mutable on purpose)."""

    hang: bool = False
    """Accept connections and read requests but never answer (a crashed Modbus module)."""
    drop_on_request: bool = False
    """Close the client's socket when a request arrives, without answering (dropped mid-request)."""
    exception_code: ExceptionCode | None = None
    """Answer every request with this Modbus exception."""
    register_overrides: dict[int, int] = field(default_factory=dict)
    """Serve these words instead of the real values (garbage, out-of-range values)."""
    malformed_responses: bool = False
    """Answer reads with a frame whose byte count disagrees with its payload."""
    short_responses: bool = False
    """Answer reads with a well-formed frame holding only half the registers asked for."""
    reject_next_setpoint: bool = False
    """Refuse the next write to 0x0102 or 0x0104 with ILLEGAL_DATA_VALUE, then clear."""
    refuse_power_mode: bool = False
    """Refuse writes to 0x0053 with ILLEGAL_FUNCTION, like some firmware."""


class QuasarSimulator:
    """A Wallbox Quasar over Modbus TCP with a car behind it and fault injection."""

    def __init__(
        self,
        *,
        capacity_kwh: float = 40.0,
        car_min_soc_pct: float = 10.0,
        reaction_delay_s: float = 0.0,
        efficiency: float = 0.92,
        speed: float = 1.0,
        manual_time: bool = False,
        serial: int = 123456,
        part_number: str = "QSX1B0E00000",
        firmware: int = 0x0605,
        max_current_a: int = reg.MAX_CURRENT_A,
        max_power_w: int = reg.MAX_POWER_W,
        voltage_v: int = 230,
    ) -> None:
        """Configure the charger and the car; `manual_time` moves time only via `advance`."""
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.device = QuasarDevice(
            ChargerConfig(
                serial=serial,
                part_number=part_number,
                firmware=firmware,
                voltage_v=voltage_v,
                max_current_a=max_current_a,
                max_power_w=max_power_w,
                efficiency=efficiency,
                reaction_delay_s=reaction_delay_s,
            ),
            CarConfig(capacity_kwh=capacity_kwh, min_soc_pct=car_min_soc_pct),
        )
        self.faults = Faults()
        self.speed = speed
        self.manual_time = manual_time
        self.requests_served = 0
        self._host = "127.0.0.1"
        self._port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._ticker: asyncio.Task[None] | None = None
        self._last_real_s = time.monotonic()

    # ---- lifecycle --------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on host:port (0 picks a free port) and return the bound port."""
        if self._server is not None:
            raise RuntimeError("simulator already running")
        self._server = await asyncio.start_server(self._on_client, host, port, reuse_address=True)
        self._host = host
        self._port = self._server.sockets[0].getsockname()[1]
        self._last_real_s = time.monotonic()
        if not self.manual_time:
            self._ticker = asyncio.create_task(self._tick_forever(), name="quasar-simulator-clock")
        LOGGER.info("Quasar simulator listening on %s:%d", host, self._port)
        return self._port

    async def stop(self) -> None:
        """Close the listener and every client, leaving no task behind."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        server, self._server = self._server, None
        if server is not None:
            server.close()
        self.drop_connections()
        handlers = list(self._handlers)
        for task in handlers:
            task.cancel()
        if handlers:
            await asyncio.gather(*handlers, return_exceptions=True)
        if server is not None:
            await server.wait_closed()
        LOGGER.info("Quasar simulator stopped")

    async def restart(self, *, reboot: bool = False) -> None:
        """Stop and start on the same port; `reboot` also resets the charger to user control."""
        port = self._port
        await self.stop()
        if reboot:
            self.device.write(reg.CONTROL, int(ControlMode.USER))
            self.device.action = Action.NONE
            self.device.current_setpoint_a = 0
            self.device.power_setpoint_w = 0
        await self.start(self._host, port)

    @property
    def port(self) -> int:
        """Return the bound TCP port (0 before `start`)."""
        return self._port

    @property
    def running(self) -> bool:
        """Return whether the listener is up."""
        return self._server is not None

    @property
    def client_count(self) -> int:
        """Return how many client connections are open."""
        return len(self._writers)

    def drop_connections(self) -> None:
        """Close every client socket at once (the listener stays up)."""
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    # ---- time and the car -------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        """Move simulated time forward by `seconds`."""
        self.device.advance(seconds)

    def _sync_clock(self) -> None:
        """In real-time mode, bring simulated time up to the wall clock times the speed."""
        now = time.monotonic()
        elapsed_s, self._last_real_s = now - self._last_real_s, now
        if not self.manual_time:
            self.device.advance(elapsed_s * self.speed)

    async def _tick_forever(self) -> None:
        """Advance the clock in real time so watchdogs fire and the SoC moves unasked."""
        while True:
            await asyncio.sleep(_TICK_S)
            self._sync_clock()

    def plug_in(self, soc_pct: float = 50.0) -> None:
        """Connect the car at `soc_pct`."""
        self.device.plug_in(soc_pct)

    def unplug(self) -> None:
        """Disconnect the car."""
        self.device.unplug()

    @property
    def now_s(self) -> float:
        """Return simulated seconds since construction."""
        return self.device.now_s

    @property
    def plugged_in(self) -> bool:
        """Return whether a car is connected."""
        return self.device.plugged_in

    @property
    def soc_pct(self) -> float:
        """Return the car's true state of charge (not the quirky register)."""
        return self.device.soc_pct

    @property
    def soc_register(self) -> int:
        """Return what register 0x021A reads right now."""
        return self.device.soc_register()

    @property
    def control_mode(self) -> ControlMode:
        """Return register 0x0051."""
        return self.device.control

    @property
    def autostart(self) -> int:
        """Return register 0x0052."""
        return self.device.autostart

    @property
    def setpoint_type(self) -> SetpointType:
        """Return register 0x0053."""
        return self.device.setpoint_type

    @property
    def idle_timeout_s(self) -> int:
        """Return register 0x0058."""
        return self.device.idle_timeout_s

    @property
    def action(self) -> Action:
        """Return the last action written to 0x0101."""
        return self.device.action

    @property
    def setpoint_a(self) -> int:
        """Return the signed current setpoint 0x0102."""
        return self.device.current_setpoint_a

    @property
    def setpoint_w(self) -> int:
        """Return the signed power setpoint 0x0104."""
        return self.device.power_setpoint_w

    @property
    def state(self) -> ChargerStateCode:
        """Return register 0x0219."""
        return self.device.state_code()

    @property
    def power_w(self) -> float:
        """Return the AC power flowing (+ into the car)."""
        return self.device.applied_power_w

    @property
    def watchdog_trips(self) -> int:
        """Return how often the idle timeout stopped a session."""
        return self.device.watchdog_trips

    @property
    def discharge_allowed(self) -> bool:
        """Return whether the grid code lets negative setpoints through."""
        return self.device.discharge_allowed

    @discharge_allowed.setter
    def discharge_allowed(self, allowed: bool) -> None:
        """Set the grid code: False refuses negative setpoints like a misconfigured unit."""
        self.device.discharge_allowed = allowed

    def set_error_codes(self, words: tuple[int, int, int, int]) -> None:
        """Set the error registers 0x021B..0x021E."""
        self.device.error_words = [w & 0xFFFF for w in words]

    # ---- Modbus TCP -------------------------------------------------------------------

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one client connection until it closes."""
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        self._writers.add(writer)
        peer = writer.get_extra_info("peername")
        LOGGER.debug("Client connected: %s", peer)
        try:
            while True:
                header = await reader.readexactly(_MBAP.size)
                transaction_id, protocol_id, length, unit_id = _MBAP.unpack(header)
                if protocol_id != 0 or not 2 <= length <= 254:
                    LOGGER.debug("Bad MBAP header from %s: closing", peer)
                    break
                pdu = await reader.readexactly(length - 1)
                if self.faults.drop_on_request:
                    LOGGER.debug("Dropping %s mid-request", peer)
                    break
                reply = self._handle(unit_id, pdu)
                if reply is None:
                    continue
                writer.write(_MBAP.pack(transaction_id, 0, len(reply) + 1, unit_id) + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            if task is not None:
                self._handlers.discard(task)
            LOGGER.debug("Client disconnected: %s", peer)

    def _handle(self, unit_id: int, pdu: bytes) -> bytes | None:
        """Answer one request PDU, or None to stay silent."""
        if self.faults.hang:
            LOGGER.debug("Hung: ignoring a request")
            return None
        self._sync_clock()
        self.device.note_request()
        self.requests_served += 1
        try:
            return self._dispatch(unit_id, pdu)
        except ModbusExceptionError as err:
            LOGGER.info("Exception response to function %d: %s", pdu[0], err)
            return bytes((pdu[0] | 0x80, int(err.code)))

    def _dispatch(self, unit_id: int, pdu: bytes) -> bytes:
        """Answer one request PDU, raising ModbusExceptionError for an exception response."""
        function = pdu[0]
        if unit_id != _UNIT_ID:
            raise ModbusExceptionError(ExceptionCode.GATEWAY_TARGET_FAILED, f"unit {unit_id}")
        if self.faults.exception_code is not None:
            raise ModbusExceptionError(self.faults.exception_code, "injected fault")
        if function == _FC_READ_HOLDING and len(pdu) == 5:
            return self._read(pdu)
        if function == _FC_WRITE_SINGLE and len(pdu) == 5:
            address, word = struct.unpack(">HH", pdu[1:5])
            self._write(address, word)
            return pdu
        if function == _FC_WRITE_MULTIPLE and len(pdu) >= 6:
            address, count, byte_count = struct.unpack(">HHB", pdu[1:6])
            if byte_count != 2 * count or len(pdu) != 6 + byte_count or not 1 <= count <= 123:
                raise ModbusExceptionError(ExceptionCode.ILLEGAL_DATA_VALUE, "bad FC16 frame")
            words = struct.unpack(f">{count}H", pdu[6:])
            for offset, word in enumerate(words):
                self._write(address + offset, word)
            return pdu[:5]
        raise ModbusExceptionError(ExceptionCode.ILLEGAL_FUNCTION, f"function {function}")

    def _read(self, pdu: bytes) -> bytes:
        """Answer FC03, with overrides and malformed frames when injected."""
        address, count = struct.unpack(">HH", pdu[1:5])
        words = self.device.read(address, count)
        for offset in range(count):
            override = self.faults.register_overrides.get(address + offset)
            if override is not None:
                words[offset] = override & 0xFFFF
        if self.faults.short_responses:
            words = words[: count // 2]
        payload = struct.pack(f">{len(words)}H", *words)
        if self.faults.malformed_responses:
            # Claim the full byte count but send only half the data: a partial response.
            return bytes((_FC_READ_HOLDING, len(payload))) + payload[: len(payload) // 2]
        return bytes((_FC_READ_HOLDING, len(payload))) + payload

    def _write(self, address: int, word: int) -> None:
        """Apply one register write, with the injected refusals."""
        if address == reg.SETPOINT_TYPE and self.faults.refuse_power_mode:
            raise ModbusExceptionError(ExceptionCode.ILLEGAL_FUNCTION, "power mode unsupported")
        if (
            address in (reg.CURRENT_SETPOINT, reg.POWER_SETPOINT)
            and self.faults.reject_next_setpoint
        ):
            self.faults.reject_next_setpoint = False
            raise ModbusExceptionError(ExceptionCode.ILLEGAL_DATA_VALUE, "setpoint rejected")
        self.device.write(address, word)
