"""Generic MQTT charger transport over Home Assistant's own MQTT integration.

It uses the user's broker through `homeassistant.components.mqtt` (no second client):
a signed watt setpoint is published (never retained) to a command topic, state comes
from JSON documents on one or more topics, and an availability (last-will) topic says
whether the device is online. Every incoming value is validated; a bad one is logged
once per kind, counted in `fault_counts` and dropped, and never becomes a command or a
0 % state of charge.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
import json
import logging
import math
import time
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components import mqtt
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError

from . import (
    ChargerCapabilities,
    ChargerIdentity,
    ChargerState,
    ChargerStatus,
    ChargerTransport,
    SetpointRejectedError,
    TransportConnectionError,
    TransportTimeoutError,
)
from .mqtt_profile import MqttChargerConfig, MqttConfigError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["MqttChargerConfig", "MqttChargerTransport", "MqttConfigError"]

LOGGER = logging.getLogger(__package__)

# Below this |power| the charger is treated as idle when no status topic is configured:
# meters on idle wallboxes report a few tens of watts of standby noise.
_IDLE_POWER_W: Final = 50.0
# A device clock may run a little ahead of ours; beyond this a timestamp is not believed.
_MAX_FUTURE_SKEW_S: Final = 300.0
# Unix timestamps above this are taken as milliseconds (1e11 s lies in the year 5138).
_MILLISECONDS_THRESHOLD: Final = 1e11
# How long connect() waits for the broker to confirm the subscriptions, where HA can tell.
_SUBSCRIBE_CONFIRM_S: Final = 5.0

_POWER: Final = "power_w"
_SOC: Final = "soc_pct"
_PLUGGED: Final = "plugged_in"
_STATUS: Final = "status"
_TIMESTAMP: Final = "timestamp"


@dataclass(frozen=True, slots=True)
class _Reading:
    """One validated value with when it was measured on our monotonic clock."""

    value: Any
    measured_mono_s: float


class _Missing:
    """Marker for a path that is absent from a document."""


_MISSING: Final = _Missing()


class MqttChargerTransport:
    """ChargerTransport for a charger that speaks JSON over MQTT."""

    def __init__(self, hass: HomeAssistant, config: MqttChargerConfig) -> None:
        """Bind the transport to Home Assistant and a validated config."""
        self._hass = hass
        self._config = config
        self._unsubscribers: list[CALLBACK_TYPE] = []
        self._readings: dict[str, _Reading] = {}
        self._online: bool | None = None
        self._subscribed = False
        self._in_control = False
        # Only a setpoint this transport published is ever reported as the running one.
        self._last_setpoint_w: int | None = None
        self._faults: Counter[str] = Counter()
        self._fault_logged: set[str] = set()

    @property
    def config(self) -> MqttChargerConfig:
        """Return the validated configuration."""
        return self._config

    @property
    def capabilities(self) -> ChargerCapabilities:
        """Return what the charger can do, from the config."""
        return self._config.capabilities

    @property
    def setpoint_keepalive_s(self) -> float | None:
        """Return half the device's watchdog: it stops when no setpoint came for that long."""
        watchdog_s = self._config.device_watchdog_s
        return None if watchdog_s is None else watchdog_s / 2

    @property
    def fault_counts(self) -> Mapping[str, int]:
        """Return how many payloads were dropped, keyed "kind.field" (for diagnostics)."""
        return dict(self._faults)

    @property
    def online(self) -> bool | None:
        """Return the device's availability: True, False, or None before any message."""
        return self._online

    async def connect(self) -> None:
        """Wait for HA's MQTT client and subscribe; raise TransportConnectionError when MQTT is down."""
        await self.close()
        try:
            available = await mqtt.async_wait_for_mqtt_client(self._hass)
        except HomeAssistantError as err:
            raise TransportConnectionError(f"MQTT is not available: {err}") from err
        if not available:
            raise TransportConnectionError(
                "The MQTT integration is not set up; add and configure it first"
            )
        if not _broker_connected(self._hass):
            raise TransportConnectionError("Home Assistant is not connected to the MQTT broker")
        topics: dict[str, Callable[[mqtt.ReceiveMessage], None]] = dict.fromkeys(
            self._config.state_topics, self._on_state
        )
        if self._config.availability_topic is not None:
            topics[self._config.availability_topic] = self._on_availability
        topics[self._config.setpoint_topic] = self._on_setpoint_topic
        try:
            for topic, handler in topics.items():
                self._unsubscribers.append(
                    await mqtt.async_subscribe(self._hass, topic, handler, qos=self._config.qos)
                )
        except HomeAssistantError as err:
            await self.close()
            raise TransportConnectionError(
                f"Cannot subscribe to the charger topics: {err}"
            ) from err
        self._subscribed = True
        await self._await_subscriptions(tuple(topics))

    async def _await_subscriptions(self, topics: tuple[str, ...]) -> None:
        """Wait until the broker confirmed the subscriptions, on HA versions that report it."""
        # HA 2025.4 has no async_on_subscribe_done; there a subscription becomes active
        # shortly after, and retained state still arrives once it does.
        on_subscribe_done = getattr(mqtt, "async_on_subscribe_done", None)
        if on_subscribe_done is None:
            return
        pending = {topic: asyncio.Event() for topic in topics}
        stoppers = [
            on_subscribe_done(self._hass, topic, self._config.qos, event.set)
            for topic, event in pending.items()
        ]
        try:
            async with asyncio.timeout(_SUBSCRIBE_CONFIRM_S):
                for event in pending.values():
                    await event.wait()
        except TimeoutError:
            LOGGER.debug("The broker has not confirmed the charger subscriptions yet")
        finally:
            for stop in stoppers:
                stop()

    async def identify(self) -> ChargerIdentity:
        """Return who the charger is; the configured device id is the serial."""
        return ChargerIdentity(
            serial=self._config.device_id,
            manufacturer=self._config.manufacturer,
            model=self._config.model,
        )

    async def read_state(self) -> ChargerState:
        """Return the latest validated state; raise when offline, disconnected or stale."""
        self._ensure_usable()
        if self._online is False:
            raise TransportConnectionError(
                f"Charger {self._config.device_id} reports itself offline on "
                f"{self._config.availability_topic}"
            )
        now_s = time.monotonic()
        power = self._fresh(_POWER, now_s)
        plugged = self._fresh(_PLUGGED, now_s)
        if power is None or plugged is None:
            missing = [name for name, got in ((_POWER, power), (_PLUGGED, plugged)) if got is None]
            raise TransportTimeoutError(
                f"No valid {' and '.join(missing)} from charger {self._config.device_id} "
                f"within {self._config.stale_after_s:g} s"
            )
        power_w = float(power.value)
        plugged_in = bool(plugged.value)
        soc = self._fresh(_SOC, now_s)
        status_reading = self._fresh(_STATUS, now_s)
        status = (
            status_reading.value
            if status_reading is not None
            else _derive_status(power_w=power_w, plugged_in=plugged_in)
        )
        return ChargerState(
            status=status,
            plugged_in=plugged_in,
            power_w=power_w,
            # A missing, null or stale SoC stays unknown; it is never reported as 0 %.
            soc_pct=None if soc is None or soc.value is None else float(soc.value),
            soc_age_s=None if soc is None else max(0.0, now_s - soc.measured_mono_s),
            setpoint_w=self._last_setpoint_w or 0,
            remote_control=self._in_control,
        )

    async def set_power(self, power_w: int) -> None:
        """Publish a signed setpoint (+ into the car); refuse values the charger cannot take."""
        self._check_setpoint(power_w)
        # Forget the previous value first: if this publish fails, the charger may run either
        # value, and a reading must not claim the one the caller has already replaced.
        self._last_setpoint_w = None
        await self._publish_setpoint(power_w)
        self._last_setpoint_w = power_w

    async def take_control(self) -> None:
        """Publish the take-control payload when a control topic is configured."""
        self._ensure_usable()
        if self._config.control_topic is not None:
            await self._publish(self._config.control_topic, self._config.control_take_payload)
        self._in_control = True

    async def release_control(self) -> None:
        """Stop (publish setpoint 0), then publish the release payload."""
        self._ensure_usable()
        await self._publish_setpoint(0)
        self._last_setpoint_w = None
        if self._config.control_topic is not None:
            await self._publish(self._config.control_topic, self._config.control_release_payload)
        self._in_control = False

    async def close(self) -> None:
        """Unsubscribe everything; publishes nothing, so the charger's control state is kept."""
        while self._unsubscribers:
            self._unsubscribers.pop()()
        self._subscribed = False
        self._readings.clear()
        self._online = None

    def _check_setpoint(self, power_w: int) -> None:
        """Reject a setpoint outside what the config says the charger accepts."""
        caps = self._config
        if isinstance(power_w, bool) or not isinstance(power_w, int):
            raise SetpointRejectedError(f"Setpoint must be an integer number of watts: {power_w!r}")
        if power_w < 0 and not caps.can_discharge:
            raise SetpointRejectedError(f"Charger {caps.device_id} cannot discharge ({power_w} W)")
        limit_w = caps.max_charge_power_w if power_w > 0 else caps.max_discharge_power_w
        if power_w != 0 and not caps.min_power_w <= abs(power_w) <= limit_w:
            raise SetpointRejectedError(
                f"Setpoint {power_w} W is outside {caps.min_power_w}..{limit_w} W for this direction"
            )

    async def _publish_setpoint(self, power_w: int) -> None:
        """Publish a setpoint in the configured format, never retained."""
        key = self._config.setpoint_json_key
        payload = str(power_w) if key is None else json.dumps({key: power_w})
        await self._publish(self._config.setpoint_topic, payload)

    async def _publish(self, topic: str, payload: str, *, retain: bool = False) -> None:
        """Publish through HA's client, refusing to queue anything while the broker is away."""
        # paho queues QoS>0 messages while disconnected and sends them on reconnect:
        # a setpoint must never arrive late, so a disconnected publish is an error instead.
        self._ensure_usable()
        try:
            async with asyncio.timeout(self._config.publish_timeout_s):
                await mqtt.async_publish(self._hass, topic, payload, self._config.qos, retain)
        except TimeoutError as err:
            raise TransportTimeoutError(
                f"The broker did not acknowledge {topic} within {self._config.publish_timeout_s:g} s"
            ) from err
        except HomeAssistantError as err:
            raise TransportConnectionError(f"Cannot publish to {topic}: {err}") from err

    def _ensure_usable(self) -> None:
        """Raise unless connect() succeeded and the broker connection is up."""
        if not self._subscribed:
            raise TransportConnectionError("The MQTT charger transport is not connected")
        # HA resubscribes by itself after a reconnect; while it is away nothing is fresh.
        if not _broker_connected(self._hass):
            raise TransportConnectionError("Home Assistant lost its MQTT broker connection")

    def _fresh(self, name: str, now_s: float) -> _Reading | None:
        """Return a reading no older than the staleness limit, else None."""
        reading = self._readings.get(name)
        if reading is None or now_s - reading.measured_mono_s > self._config.stale_after_s:
            return None
        return reading

    def _fault(self, kind: str, name: str, detail: str) -> None:
        """Count a dropped payload and log it once per kind and field."""
        key = f"{kind}.{name}"
        self._faults[key] += 1
        if key in self._fault_logged:
            LOGGER.debug("Charger %s: dropped %s: %s", self._config.device_id, key, detail)
            return
        self._fault_logged.add(key)
        LOGGER.warning(
            "Charger %s: ignored a payload with %s in %s: %s; check the device or its MQTT "
            "charger settings (logged once, repeats at debug level)",
            self._config.device_id,
            kind.replace("_", " "),
            name,
            detail,
        )

    @callback
    def _on_availability(self, msg: mqtt.ReceiveMessage) -> None:
        """Follow the device's online/offline (last will) topic."""
        payload = _text(msg.payload).strip()
        if self._config.availability_path is not None and payload:
            # A JSON announce document (OpenEVSE style) carries the state at a path.
            try:
                value = _lookup(json.loads(payload), self._config.availability_path)
            except ValueError:
                self._fault("malformed_json", "availability", repr(payload[:64]))
                return
            payload = "" if isinstance(value, _Missing) else str(value)
            if not payload:
                self._fault("missing_field", "availability", self._config.availability_path)
                return
        if payload == self._config.payload_online:
            self._online = True
        elif payload == self._config.payload_offline:
            # Values from before the device dropped out are not trusted after it returns.
            self._online = False
            self._readings.clear()
        elif payload:
            self._fault("unknown_payload", "availability", repr(payload[:64]))

    @callback
    def _on_setpoint_topic(self, msg: mqtt.ReceiveMessage) -> None:
        """Watch the command topic for a retained setpoint left by another client."""
        payload = _text(msg.payload)
        if not msg.retain or not payload:
            return
        # A retained command would be replayed to the charger on every reconnect. It is
        # never taken as our setpoint (a reading must not report it) and is cleared if allowed.
        self._fault("retained_setpoint", "setpoint", repr(payload[:64]))
        if self._config.clear_retained_setpoint:
            self._hass.async_create_task(self._clear_retained_setpoint(), eager_start=False)

    async def _clear_retained_setpoint(self) -> None:
        """Delete a foreign retained setpoint with an empty retained message."""
        try:
            await self._publish(self._config.setpoint_topic, "", retain=True)
        except TransportConnectionError as err:
            LOGGER.debug("Could not clear the retained setpoint: %s", err)

    @callback
    def _on_state(self, msg: mqtt.ReceiveMessage) -> None:
        """Validate one state document and keep each good value."""
        payload = _text(msg.payload)
        if not payload.strip():
            return  # An empty payload clears a retained message; it carries no state.
        config = self._config
        fields = (
            (_POWER, config.power_topic, config.power_path, self._parse_power),
            (_SOC, config.soc_topic, config.soc_path, self._parse_soc),
            (_PLUGGED, config.plugged_topic, config.plugged_path, self._parse_plugged),
            (_STATUS, config.status_topic, config.status_path, self._parse_status),
        )
        mine = [
            (name, path, parse)
            for name, topic, path, parse in fields
            if path is not None and (topic or config.state_topic) == msg.topic
        ]
        document: Any
        try:
            document = json.loads(payload)
        except ValueError:
            if not mine or any(path for _, path, _ in mine):
                self._fault("malformed_json", msg.topic, repr(payload[:64]))
                return
            # One plain value per topic (empty path), e.g. a status word such as "charging".
            document = payload.strip()
        now_mono = time.monotonic()
        measured_mono = now_mono
        if config.timestamp_path is not None:
            raw_ts = _lookup(document, config.timestamp_path)
            if not isinstance(raw_ts, _Missing):
                age_s = self._age_from_timestamp(raw_ts)
                if age_s is None:
                    return  # An unreadable timestamp could make old data look new: drop all.
                measured_mono = now_mono - age_s
        for name, path, parse in mine:
            raw = _lookup(document, path)
            if isinstance(raw, _Missing):
                self._fault("missing_field", name, f"no {path or 'value'!r} in {msg.topic}")
                continue
            ok, value = parse(raw)
            if ok:
                self._readings[name] = _Reading(value, measured_mono)

    def _age_from_timestamp(self, raw: Any) -> float | None:
        """Return the age of a document from its timestamp (Unix s/ms or ISO 8601), or None."""
        if isinstance(raw, (int, float)) and not isinstance(raw, bool) and math.isfinite(raw):
            epoch_s = raw / 1000.0 if raw > _MILLISECONDS_THRESHOLD else float(raw)
        elif isinstance(raw, str):
            try:
                parsed = datetime.fromisoformat(raw)
            except ValueError:
                self._fault("wrong_type", _TIMESTAMP, repr(raw[:64]))
                return None
            if parsed.tzinfo is None:
                self._fault("wrong_type", _TIMESTAMP, f"{raw!r} has no time zone")
                return None
            epoch_s = parsed.timestamp()
        else:
            self._fault("wrong_type", _TIMESTAMP, repr(raw))
            return None
        age_s = time.time() - epoch_s
        if age_s < -_MAX_FUTURE_SKEW_S:
            self._fault("out_of_range", _TIMESTAMP, f"{-age_s:.0f} s in the future")
            return None
        return max(0.0, age_s)

    def _parse_power(self, raw: Any) -> tuple[bool, float]:
        """Accept a finite number within the plausible power range."""
        if not _is_number(raw):
            self._fault("wrong_type", _POWER, repr(raw))
            return False, 0.0
        limit_w = self._config.plausible_power_w
        if not math.isfinite(raw) or abs(raw) > limit_w:
            self._fault("out_of_range", _POWER, f"{raw} beyond ±{limit_w:g} W")
            return False, 0.0
        return True, float(raw)

    def _parse_soc(self, raw: Any) -> tuple[bool, float | None]:
        """Accept a percentage in 0..100; JSON null is an explicit 'unknown'."""
        if raw is None:
            return True, None
        if not _is_number(raw):
            self._fault("wrong_type", _SOC, repr(raw))
            return False, None
        if not math.isfinite(raw) or not 0.0 <= raw <= 100.0:
            self._fault("out_of_range", _SOC, f"{raw} outside 0..100 %")
            return False, None
        return True, float(raw)

    def _parse_plugged(self, raw: Any) -> tuple[bool, bool]:
        """Accept a JSON boolean or 0/1."""
        if isinstance(raw, bool):
            return True, raw
        if isinstance(raw, int) and raw in (0, 1):
            return True, bool(raw)
        self._fault("wrong_type", _PLUGGED, repr(raw))
        return False, False

    def _parse_status(self, raw: Any) -> tuple[bool, ChargerStatus]:
        """Map a text or integer status through the configured status map."""
        if isinstance(raw, bool) or not isinstance(raw, (str, int)):
            self._fault("wrong_type", _STATUS, repr(raw))
            return False, ChargerStatus.UNKNOWN
        status = self._config.status_for(str(raw))
        if status is None:
            # The device is alive but says something the map lacks: report it as unknown.
            self._fault("unmapped_value", _STATUS, repr(raw))
            return True, ChargerStatus.UNKNOWN
        return True, status


if TYPE_CHECKING:

    def _conforms(transport: MqttChargerTransport) -> ChargerTransport:
        """Let mypy prove that the class implements the ChargerTransport protocol."""
        return transport


def _broker_connected(hass: HomeAssistant) -> bool:
    """Return whether HA's MQTT client is set up and connected."""
    try:
        return bool(mqtt.is_connected(hass))
    except KeyError:
        return False  # The MQTT integration is not loaded (its data is absent).


def _text(payload: str | bytes | bytearray) -> str:
    """Return a payload as text; undecodable bytes become replacement characters."""
    if isinstance(payload, str):
        return payload
    return bytes(payload).decode("utf-8", errors="replace")


def _is_number(raw: Any) -> bool:
    """Return whether raw is an int or float but not a bool."""
    return isinstance(raw, (int, float)) and not isinstance(raw, bool)


def _lookup(document: Any, path: str) -> Any:
    """Follow a dotted path into nested JSON objects; an empty path is the whole document."""
    if not path:
        return document
    current = document
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return _MISSING
        current = current[part]
    return current


def _derive_status(*, power_w: float, plugged_in: bool) -> ChargerStatus:
    """Infer the status from power and plug when the device publishes none."""
    if not plugged_in:
        return ChargerStatus.DISCONNECTED
    if power_w > _IDLE_POWER_W:
        return ChargerStatus.CHARGING
    if power_w < -_IDLE_POWER_W:
        return ChargerStatus.DISCHARGING
    return ChargerStatus.WAITING
