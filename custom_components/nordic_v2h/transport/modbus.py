"""Modbus TCP transport: drives a charger described by a DeviceProfile through pymodbus.

One connection, one lock around every request and a minimum gap between requests, because
charger Modbus modules (the Quasar's in particular) hang under concurrent or rapid traffic.
Connection losses are retried with backoff; after a reconnect the control settings and the
last setpoint are written again. A server that keeps TCP open but stops answering shows up
as TransportTimeoutError, counted in `consecutive_timeouts` so the caller can raise a repair.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
import time
from typing import TYPE_CHECKING, Any, Final

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

from custom_components.nordic_v2h.profiles import (
    WALLBOX_QUASAR,
    DeviceProfile,
    ReadBlock,
    RegisterSpec,
    RegisterTable,
    RegisterValueError,
    StringSpec,
)

from . import (
    ChargerCapabilities,
    ChargerIdentity,
    ChargerState,
    ChargerStatus,
    SetpointMode,
    SetpointRejectedError,
    TransportConnectionError,
    TransportProtocolError,
    TransportTimeoutError,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable

LOGGER = logging.getLogger(__package__)

# pymodbus renamed `slave=` to `device_id=` in 3.10; look once at what the installed one takes.
UNIT_KEYWORD: Final = (
    "device_id"
    if "device_id" in inspect.signature(AsyncModbusTcpClient.read_holding_registers).parameters
    else "slave"
)

_FLOWING: Final = frozenset({ChargerStatus.CHARGING, ChargerStatus.DISCHARGING})

type _Spec = RegisterSpec | StringSpec


class ModbusExceptionResponseError(TransportProtocolError):
    """The charger answered a request with a Modbus exception response."""

    def __init__(self, what: str, exception_code: int) -> None:
        """Keep the exception code (1 illegal function, 2 address, 3 value, 4 failure...)."""
        super().__init__(f"{what}: Modbus exception code {exception_code}")
        self.exception_code = exception_code


class ModbusChargerTransport:
    """ChargerTransport over Modbus TCP for any charger a DeviceProfile describes."""

    def __init__(
        self,
        *,
        host: str,
        port: int = 502,
        unit_id: int | None = None,
        profile: DeviceProfile = WALLBOX_QUASAR,
        timeout_s: float = 3.0,
        min_request_interval_s: float = 0.2,
        watchdog_s: int | None = None,
        reconnect_backoff_s: float = 1.0,
        reconnect_backoff_max_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Configure the connection; nothing is opened until `connect` or the first request."""
        if timeout_s <= 0 or min_request_interval_s < 0 or reconnect_backoff_s < 0:
            raise ValueError("timeout_s must be positive and the intervals not negative")
        self.host = host
        self.port = port
        self.profile = profile
        self.unit_id = profile.unit_id if unit_id is None else unit_id
        self.timeout_s = timeout_s
        self.min_request_interval_s = min_request_interval_s
        self.watchdog_s = profile.watchdog_s if watchdog_s is None else watchdog_s
        self.reconnect_backoff_s = reconnect_backoff_s
        self.reconnect_backoff_max_s = reconnect_backoff_max_s
        self._clock = clock
        # Every request goes through this lock: charger Modbus modules cannot cope with
        # concurrent requests, and a command sequence must not interleave with a poll.
        self._lock = asyncio.Lock()
        self._client: AsyncModbusTcpClient | None = None
        self._last_request_at = 0.0
        self._connect_failures = 0
        self._next_connect_at = 0.0
        self._restore_pending = False
        self._control_taken = False
        self._power_mode_refused = False
        self._mode = profile.setpoint_mode
        self._last_setpoint_w: int | None = None
        self._soc_pct: float | None = None
        self._soc_at: float | None = None
        self._consecutive_timeouts = 0
        self._identity: ChargerIdentity | None = None
        self._capabilities = ChargerCapabilities(
            can_discharge=profile.can_discharge,
            min_power_w=profile.min_power_w,
            max_charge_power_w=profile.max_charge_power_w,
            max_discharge_power_w=profile.max_discharge_power_w,
            phases=profile.phases,
            voltage_v=profile.voltage_v,
            setpoint_mode=profile.setpoint_mode,
            reports_soc=profile.soc is not None,
            watchdog_s=self.watchdog_s if profile.watchdog is not None else None,
        )

    # ---- properties -------------------------------------------------------------------

    @property
    def capabilities(self) -> ChargerCapabilities:
        """Return what the charger can do (profile defaults until `identify`)."""
        return self._capabilities

    @property
    def identity(self) -> ChargerIdentity | None:
        """Return the identity read by the last `identify`, if any."""
        return self._identity

    @property
    def connected(self) -> bool:
        """Return whether the TCP connection is open."""
        return self._client is not None and self._client.connected

    @property
    def consecutive_timeouts(self) -> int:
        """Return how many requests in a row went unanswered (0 after any answer)."""
        return self._consecutive_timeouts

    @property
    def control_taken(self) -> bool:
        """Return whether we hold remote control."""
        return self._control_taken

    @property
    def setpoint_mode(self) -> SetpointMode:
        """Return the setpoint mode in use (current when the firmware refused power mode)."""
        return self._mode

    @property
    def last_setpoint_w(self) -> int | None:
        """Return the last commanded power, re-sent after a reconnect."""
        return self._last_setpoint_w

    @property
    def setpoint_keepalive_s(self) -> float | None:
        """Return None: the readings every few seconds feed the charger's idle timeout."""
        return None

    # ---- connection -------------------------------------------------------------------

    async def connect(self) -> None:
        """Open the connection now; raise TransportConnectionError when it fails."""
        async with self._lock:
            if not self.connected:
                await self._open()

    async def close(self) -> None:
        """Close the connection without changing the charger's control state."""
        self._drop_client()
        self._restore_pending = False

    def _drop_client(self) -> None:
        """Forget the client; the next request reconnects and restores our settings."""
        client, self._client = self._client, None
        if client is not None:
            client.close()
            self._restore_pending = self._control_taken

    async def _open(self) -> None:
        """Connect a fresh client, recording failures for the backoff."""
        self._drop_client()
        client = AsyncModbusTcpClient(
            self.host,
            port=self.port,
            timeout=self.timeout_s,
            retries=0,
            # We reconnect ourselves; pymodbus's own reconnect task would outlive close().
            reconnect_delay=0,
        )
        try:
            ok = await client.connect()
        except (ModbusException, OSError) as err:
            LOGGER.debug("Connecting to %s:%d failed: %s", self.host, self.port, err)
            ok = False
        if not ok or not client.connected:
            client.close()
            self._connect_failures += 1
            delay_s = min(
                self.reconnect_backoff_s * 2 ** (self._connect_failures - 1),
                self.reconnect_backoff_max_s,
            )
            self._next_connect_at = self._clock() + delay_s
            raise TransportConnectionError(f"cannot connect to {self.host}:{self.port}")
        self._client = client
        self._connect_failures = 0
        self._next_connect_at = 0.0
        LOGGER.debug("Connected to %s:%d", self.host, self.port)

    async def _ensure_connected(self) -> None:
        """Reconnect if needed (respecting the backoff) and restore control and setpoint."""
        if not self.connected:
            wait_s = self._next_connect_at - self._clock()
            if self._connect_failures and wait_s > 0:
                raise TransportConnectionError(
                    f"{self.host}:{self.port} unreachable; next attempt in {wait_s:.0f} s"
                )
            await self._open()
        if self._restore_pending and self._control_taken:
            LOGGER.info(
                "Reconnected to %s:%d; restoring control and setpoint", self.host, self.port
            )
            try:
                await self._apply_control()
                if self._last_setpoint_w is not None:
                    await self._apply_power(self._last_setpoint_w)
            except SetpointRejectedError:
                # Report the refusal once, then stop insisting: a setpoint the charger now
                # refuses would otherwise fail every later read as well.
                self._restore_pending = False
                self._last_setpoint_w = None
                raise
        self._restore_pending = False

    async def _locked[T](self, operation: Callable[[], Awaitable[T]]) -> T:
        """Run an operation under the lock on a live connection.

        A connection that sat idle may have been closed by the charger without us noticing;
        when such a reused connection fails, the operation is retried once on a fresh one.
        Timeouts are never retried: a hung charger would only hang again.
        """
        async with self._lock:
            reused = self.connected
            await self._ensure_connected()
            try:
                return await operation()
            except TransportTimeoutError:
                raise
            except TransportConnectionError as err:
                if not reused:
                    raise
                LOGGER.debug("Stale connection (%s); retrying once", err)
            await self._ensure_connected()
            return await operation()

    # ---- one request ------------------------------------------------------------------

    async def _request(self, what: str, call: Callable[[AsyncModbusTcpClient], Any]) -> Any:
        """Send one request, mapping every failure to a TransportError."""
        client = self._client
        if client is None or not client.connected:
            self._drop_client()
            raise TransportConnectionError(f"{what}: not connected")
        wait_s = self._last_request_at + self.min_request_interval_s - time.monotonic()
        if wait_s > 0:
            await asyncio.sleep(wait_s)
        self._last_request_at = time.monotonic()
        try:
            # pymodbus enforces timeout_s itself; this outer bound guards against a
            # version that does not.
            async with asyncio.timeout(self.timeout_s * 2 + 1):
                response = await call(client)
        except TimeoutError:
            raise self._timed_out(what) from None
        except ConnectionException as err:
            self._drop_client()
            raise TransportConnectionError(f"{what}: connection lost ({err})") from err
        except ModbusIOException as err:
            if _is_open(client):
                raise self._timed_out(what) from err
            self._drop_client()
            raise TransportConnectionError(f"{what}: connection lost ({err})") from err
        except (ModbusException, OSError) as err:
            self._drop_client()
            raise TransportProtocolError(f"{what}: {err}") from err
        self._consecutive_timeouts = 0
        if response is None or response.isError():
            code = getattr(response, "exception_code", 0)
            raise ModbusExceptionResponseError(what, int(code or 0))
        return response

    def _timed_out(self, what: str) -> TransportTimeoutError:
        """Count a timeout and start afresh on a new connection next time."""
        self._consecutive_timeouts += 1
        # A late answer on this socket could be matched to a later request; reconnect.
        self._drop_client()
        LOGGER.debug("%s timed out (%d in a row)", what, self._consecutive_timeouts)
        return TransportTimeoutError(
            f"{what}: no answer within {self.timeout_s:g} s ({self._consecutive_timeouts} in a row)"
        )

    async def _read(self, address: int, count: int, table: RegisterTable) -> list[int]:
        """Read a block of registers, refusing partial answers."""
        unit: dict[str, Any] = {UNIT_KEYWORD: self.unit_id}
        what = f"read {count} at 0x{address:04X}"
        if table is RegisterTable.INPUT:
            response = await self._request(
                what, lambda c: c.read_input_registers(address, count=count, **unit)
            )
        else:
            response = await self._request(
                what, lambda c: c.read_holding_registers(address, count=count, **unit)
            )
        registers = list(getattr(response, "registers", None) or [])
        if len(registers) != count:
            raise TransportProtocolError(f"{what}: partial response with {len(registers)} words")
        return registers

    async def _write(self, spec: RegisterSpec, value: float, what: str) -> None:
        """Encode and write one value; a refusal raises SetpointRejectedError."""
        try:
            words = spec.encode(value)
        except RegisterValueError as err:
            raise SetpointRejectedError(f"{what}: {err}") from err
        unit: dict[str, Any] = {UNIT_KEYWORD: self.unit_id}
        address = spec.address
        try:
            if len(words) == 1:
                await self._request(what, lambda c: c.write_register(address, words[0], **unit))
            else:
                await self._request(what, lambda c: c.write_registers(address, words, **unit))
        except ModbusExceptionResponseError as err:
            raise SetpointRejectedError(
                f"{what}: refused by the charger (exception code {err.exception_code})"
            ) from err

    async def _fetch(
        self, specs: Iterable[_Spec], blocks: tuple[ReadBlock, ...]
    ) -> dict[tuple[RegisterTable, int], list[int]]:
        """Read each needed block once and any spec outside them alone; return words by spec.

        Each spec is served by the first block that holds it, so overlapping blocks
        (identity and state blocks both holding 0x0200) cost one request, not two.
        """
        wanted = list(specs)
        source: dict[tuple[RegisterTable, int], ReadBlock | None] = {
            (s.table, s.address): next(
                (b for b in blocks if b.covers(s.address, s.word_count, s.table)), None
            )
            for s in wanted
        }
        block_words: dict[ReadBlock, list[int]] = {}
        for needed in dict.fromkeys(b for b in source.values() if b is not None):
            block_words[needed] = await self._read(needed.address, needed.count, needed.table)
        words: dict[tuple[RegisterTable, int], list[int]] = {}
        for spec in wanted:
            block = source[spec.table, spec.address]
            if block is None:
                words[spec.table, spec.address] = await self._read(
                    spec.address, spec.word_count, spec.table
                )
            else:
                start = spec.address - block.address
                words[spec.table, spec.address] = block_words[block][
                    start : start + spec.word_count
                ]
        return words

    # ---- ChargerTransport -------------------------------------------------------------

    async def identify(self) -> ChargerIdentity:
        """Read serial, part number, firmware and the installation's limits."""
        profile = self.profile
        specs: list[_Spec] = [
            s
            for s in (
                profile.serial,
                profile.part_number,
                profile.firmware,
                profile.max_current,
                profile.max_power,
            )
            if s is not None
        ]
        words = await self._locked(
            lambda: self._fetch(specs, profile.identity_blocks + profile.read_blocks)
        )
        try:
            serial = _text(profile.serial, words)
            firmware = _text(profile.firmware, words)
            part_number = _text(profile.part_number, words)
            max_w = float(profile.max_charge_power_w)
            if profile.max_power is not None:
                max_w = min(max_w, _number(profile.max_power, words))
            if profile.max_current is not None:
                max_a = _number(profile.max_current, words)
                max_w = min(max_w, max_a * profile.voltage_v * profile.phases)
        except RegisterValueError as err:
            raise TransportProtocolError(f"implausible identity register: {err}") from err
        if not serial or serial == "0":
            raise TransportProtocolError("the charger reports no serial number")
        if max_w < profile.min_power_w:
            raise TransportProtocolError(
                f"maximum available power {max_w:.0f} W is below the minimum "
                f"{profile.min_power_w} W"
            )
        self._capabilities = dataclasses.replace(
            self._capabilities,
            max_charge_power_w=int(max_w),
            max_discharge_power_w=int(min(max_w, profile.max_discharge_power_w)),
        )
        self._identity = ChargerIdentity(
            serial=serial,
            manufacturer=profile.manufacturer,
            model=profile.model,
            firmware=firmware or None,
            part_number=part_number or None,
        )
        LOGGER.debug("Identified %s", self._identity)
        return self._identity

    async def read_state(self) -> ChargerState:
        """Read state, power, SoC, control and setpoint in the profile's block reads."""
        profile = self.profile
        setpoint_spec = profile.setpoint_register(self._mode)
        specs: list[_Spec] = [
            s
            for s in (
                profile.state,
                profile.power,
                profile.soc,
                profile.max_power,
                profile.control.register if profile.control else None,
                setpoint_spec,
                *profile.error_registers,
            )
            if s is not None
        ]
        words = await self._locked(lambda: self._fetch(specs, profile.read_blocks))
        try:
            return self._decode_state(words, setpoint_spec)
        except RegisterValueError as err:
            raise TransportProtocolError(f"implausible register value: {err}") from err

    def _decode_state(
        self, words: dict[tuple[RegisterTable, int], list[int]], setpoint_spec: RegisterSpec
    ) -> ChargerState:
        """Turn raw words into a ChargerState, keeping the last valid SoC."""
        profile = self.profile
        raw_state: int | None = None
        status = ChargerStatus.UNKNOWN
        plugged_in = True
        if profile.state is not None:
            raw_state = int(_number(profile.state, words))
            mapped = profile.statuses.get(raw_state)
            if mapped is None:
                raise RegisterValueError(f"unknown charger state code {raw_state}")
            status = mapped
            plugged_in = raw_state not in profile.unplugged_states
        power_w = 0.0
        if profile.power is not None:
            power_w = profile.power_sign.from_device(_number(profile.power, words))
        device_setpoint = _number(setpoint_spec, words)
        if self._mode is SetpointMode.POWER:
            setpoint_w = round(profile.setpoint_sign.from_device(device_setpoint))
        else:
            setpoint_w = round(
                profile.setpoint_sign.from_device(device_setpoint)
                * profile.voltage_v
                * profile.phases
            )
        remote = False
        if profile.control is not None:
            remote = int(_number(profile.control.register, words)) == profile.control.on_value
        max_power_w = (
            int(_number(profile.max_power, words)) if profile.max_power is not None else None
        )
        errors = tuple(
            code for code in (int(_number(spec, words)) for spec in profile.error_registers) if code
        )
        soc = _number(profile.soc, words) if profile.soc is not None else None
        self._track_soc(soc, plugged_in=plugged_in, flowing=status in _FLOWING)
        now = self._clock()
        return ChargerState(
            status=status,
            plugged_in=plugged_in,
            power_w=power_w,
            soc_pct=self._soc_pct,
            soc_age_s=None if self._soc_at is None else max(0.0, now - self._soc_at),
            setpoint_w=setpoint_w,
            remote_control=remote,
            max_available_power_w=max_power_w,
            error_codes=errors,
            raw_state=raw_state,
        )

    def _track_soc(self, soc: float | None, *, plugged_in: bool, flowing: bool) -> None:
        """Keep the last trustworthy SoC: never 0 %, never a glitch, forgotten on unplug."""
        if not plugged_in:
            self._soc_pct = None
            self._soc_at = None
            return
        if soc is None:
            return
        if round(soc) == 0:
            # The Quasar reads 0 whenever no power flows; a real 0 % car does not charge here.
            return
        if flowing and round(soc) in self.profile.soc_glitch_values:
            LOGGER.debug("Ignoring SoC glitch %s %% while power flows", soc)
            return
        if not flowing and self.profile.soc_zero_when_idle:
            # Such a device only reports the SoC while power flows.
            return
        self._soc_pct = soc
        self._soc_at = self._clock()

    async def take_control(self) -> None:
        """Take remote control, disable autostart, select the setpoint mode, arm the watchdog."""

        async def take() -> None:
            await self._apply_control()
            self._control_taken = True

        await self._locked(take)

    async def _apply_control(self) -> None:
        """Write the control sequence (the caller holds the lock)."""
        profile = self.profile
        if profile.control is not None:
            await self._write(
                profile.control.register, profile.control.on_value, "take remote control"
            )
        if profile.autostart is not None:
            await self._write(
                profile.autostart.register, profile.autostart.off_value, "disable autostart"
            )
        await self._select_mode()
        if profile.watchdog is not None and self.watchdog_s:
            await self._write(profile.watchdog, self.watchdog_s, "arm the idle timeout")
        self._capabilities = dataclasses.replace(self._capabilities, setpoint_mode=self._mode)

    async def _select_mode(self) -> None:
        """Select power setpoints, falling back to current where the firmware refuses them."""
        profile = self.profile
        select = profile.setpoint_mode_select
        if select is None:
            return
        wants_power = profile.setpoint_mode is SetpointMode.POWER and not self._power_mode_refused
        if wants_power:
            try:
                await self._write(select.register, select.on_value, "select power setpoints")
            except SetpointRejectedError:
                if profile.current_setpoint is None:
                    raise
                LOGGER.warning(
                    "The charger's firmware refuses power setpoints; using current setpoints"
                )
                self._power_mode_refused = True
            else:
                self._mode = SetpointMode.POWER
                return
        self._mode = SetpointMode.CURRENT
        try:
            await self._write(select.register, select.off_value, "select current setpoints")
        except SetpointRejectedError:
            # Firmware that refuses the register at all stays in its default, current mode.
            LOGGER.debug("Setpoint type register refused; assuming current mode")

    async def set_power(self, power_w: int) -> None:
        """Command a signed AC power (+ into the car); 0 stops. Refusals raise SetpointRejectedError."""
        previous = self._last_setpoint_w

        async def command() -> None:
            if not self._control_taken:
                await self._apply_control()
                self._control_taken = True
            # Remember the intent first: if the connection drops now, it is re-sent later.
            self._last_setpoint_w = power_w
            await self._apply_power(power_w)

        try:
            await self._locked(command)
        except SetpointRejectedError:
            self._last_setpoint_w = previous
            raise

    def _device_setpoint(self, power_w: int) -> float:
        """Return the setpoint in the device's mode and sign."""
        profile = self.profile
        if self._mode is SetpointMode.POWER:
            return profile.setpoint_sign.to_device(power_w)
        amps = round(power_w / (profile.voltage_v * profile.phases))
        return profile.setpoint_sign.to_device(amps)

    async def _apply_power(self, power_w: int) -> None:
        """Write setpoint and start/stop in the order the device needs (lock held)."""
        profile = self.profile
        register = profile.setpoint_register(self._mode)
        action = profile.action
        if power_w == 0:
            # Stopping must be reliable: try both writes, report the first failure.
            first_error: SetpointRejectedError | None = None
            if action is not None:
                try:
                    await self._write(action.register, action.off_value, "stop")
                except SetpointRejectedError as err:
                    first_error = err
            try:
                await self._write(register, 0, "setpoint 0")
            except SetpointRejectedError as err:
                first_error = first_error or err
            if first_error is not None:
                raise first_error
            return
        await self._write(register, self._device_setpoint(power_w), f"setpoint {power_w} W")
        if action is not None:
            await self._write(action.register, action.on_value, "start")

    async def release_control(self) -> None:
        """Stop, zero the setpoint, turn autostart back on and hand control back to the user."""
        profile = self.profile
        self._control_taken = False
        self._last_setpoint_w = None

        async def release() -> None:
            await self._apply_power(0)
            if profile.autostart is not None:
                # Taking control turned autostart off. The Quasar restores it itself when
                # control goes back, other chargers may not: without it the car would not
                # charge on its own at the next plug-in.
                try:
                    await self._write(
                        profile.autostart.register, profile.autostart.on_value, "enable autostart"
                    )
                except SetpointRejectedError as err:
                    LOGGER.warning("Could not turn the charger's autostart back on: %s", err)
            if profile.control is not None:
                await self._write(
                    profile.control.register, profile.control.off_value, "hand back control"
                )

        await self._locked(release)
        LOGGER.debug("Released control of %s:%d", self.host, self.port)


def _is_open(client: AsyncModbusTcpClient) -> bool:
    """Return whether the client's socket is still open (re-read after an await)."""
    return bool(client.connected)


def _number(spec: RegisterSpec, words: dict[tuple[RegisterTable, int], list[int]]) -> float:
    """Decode a numeric spec from fetched words."""
    return spec.decode(words[spec.table, spec.address])


def _text(
    spec: RegisterSpec | StringSpec | None, words: dict[tuple[RegisterTable, int], list[int]]
) -> str:
    """Decode an identity field as text ('' when the profile has none)."""
    if spec is None:
        return ""
    if isinstance(spec, StringSpec):
        return spec.decode(words[spec.table, spec.address])
    return str(int(spec.decode(words[spec.table, spec.address])))
