"""Typed, validated configuration of the generic MQTT charger profile.

The integration builds it from a plain dict (config entry data) with
`MqttChargerConfig.from_dict`; every bad key or value raises `MqttConfigError` naming
the key, so a typo in a topic or a negative power limit never reaches the charger.
Paths are dotted keys into a JSON document ("charger.power_w"); an empty path means
the whole payload is the value (one value per topic, openWB/OpenEVSE style).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
import math
from typing import Any, Final

from . import ChargerCapabilities, ChargerStatus

DEFAULT_STATUS_MAP: Final[tuple[tuple[str, ChargerStatus], ...]] = tuple(
    (status.value, status) for status in ChargerStatus
)

_MAX_TOPIC_BYTES: Final = 65535
# The shortest device watchdog the setpoint can be sent again in time for: at half of it,
# with a control step a poll (5 s) late, there are still 5 s to spare.
MIN_DEVICE_WATCHDOG_S: Final = 20
MAX_DEVICE_WATCHDOG_S: Final = 3600


class MqttConfigError(ValueError):
    """The MQTT charger configuration is invalid; the message names the key."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MqttChargerConfig:
    """Topics, payloads, JSON paths and limits of one MQTT charger."""

    device_id: str
    setpoint_topic: str
    state_topic: str
    power_path: str
    plugged_path: str
    can_discharge: bool
    min_power_w: int
    max_charge_power_w: int
    max_discharge_power_w: int = 0
    manufacturer: str = "Generic"
    model: str = "MQTT charger"
    phases: int = 1
    voltage_v: int = 230
    qos: int = 1
    setpoint_json_key: str | None = None
    control_topic: str | None = None
    control_take_payload: str = "1"
    control_release_payload: str = "0"
    power_topic: str | None = None
    soc_path: str | None = None
    soc_topic: str | None = None
    plugged_topic: str | None = None
    status_path: str | None = None
    status_topic: str | None = None
    status_map: tuple[tuple[str, ChargerStatus], ...] = DEFAULT_STATUS_MAP
    timestamp_path: str | None = None
    availability_topic: str | None = None
    availability_path: str | None = None
    payload_online: str = "online"
    payload_offline: str = "offline"
    stale_after_s: float = 30.0
    device_watchdog_s: int | None = None
    publish_timeout_s: float = 5.0
    clear_retained_setpoint: bool = True
    _status_lookup: dict[str, ChargerStatus] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Build the status lookup once; the dataclass is frozen, hence object.__setattr__."""
        object.__setattr__(self, "_status_lookup", dict(self.status_map))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MqttChargerConfig:
        """Validate a plain config dict and build the config; raise MqttConfigError on bad input."""
        if not isinstance(data, Mapping):
            raise MqttConfigError(
                f"MQTT charger config must be a mapping, got {type(data).__name__}"
            )
        unknown = sorted(set(data) - _KNOWN_KEYS)
        if unknown:
            raise MqttConfigError(
                f"Unknown MQTT charger config key(s): {', '.join(map(str, unknown))}"
            )
        reader = _Reader(data)
        can_discharge = reader.boolean("can_discharge", None)
        min_power_w = reader.integer("min_power_w", None, minimum=0)
        max_charge_power_w = reader.integer("max_charge_power_w", None, minimum=1)
        max_discharge_power_w = reader.integer("max_discharge_power_w", 0, minimum=0)
        if min_power_w > max_charge_power_w:
            raise MqttConfigError(
                f"min_power_w ({min_power_w}) exceeds max_charge_power_w ({max_charge_power_w})"
            )
        if can_discharge and max_discharge_power_w < max(min_power_w, 1):
            raise MqttConfigError(
                "max_discharge_power_w must be at least min_power_w (and above 0) when can_discharge is true"
            )
        if not can_discharge and max_discharge_power_w != 0:
            raise MqttConfigError("max_discharge_power_w must be 0 when can_discharge is false")
        qos = reader.integer("qos", 1, minimum=0)
        if qos > 2:
            raise MqttConfigError(f"qos must be 0, 1 or 2, got {qos}")
        config = cls(
            device_id=reader.text("device_id", None),
            setpoint_topic=reader.topic("setpoint_topic", None),
            state_topic=reader.topic("state_topic", None),
            power_path=reader.path("power_path", None),
            plugged_path=reader.path("plugged_path", None),
            can_discharge=can_discharge,
            min_power_w=min_power_w,
            max_charge_power_w=max_charge_power_w,
            max_discharge_power_w=max_discharge_power_w,
            manufacturer=reader.text("manufacturer", "Generic"),
            model=reader.text("model", "MQTT charger"),
            phases=_one_or_three(reader.integer("phases", 1, minimum=1)),
            voltage_v=reader.integer("voltage_v", 230, minimum=1),
            qos=qos,
            setpoint_json_key=reader.optional_text("setpoint_json_key"),
            control_topic=reader.optional_topic("control_topic"),
            control_take_payload=reader.text("control_take_payload", "1"),
            control_release_payload=reader.text("control_release_payload", "0"),
            power_topic=reader.optional_topic("power_topic"),
            soc_path=reader.optional_path("soc_path"),
            soc_topic=reader.optional_topic("soc_topic"),
            plugged_topic=reader.optional_topic("plugged_topic"),
            status_path=reader.optional_path("status_path"),
            status_topic=reader.optional_topic("status_topic"),
            status_map=_status_map(data.get("status_map")),
            timestamp_path=reader.optional_path("timestamp_path"),
            availability_topic=reader.optional_topic("availability_topic"),
            availability_path=reader.optional_path("availability_path"),
            payload_online=reader.text("payload_online", "online"),
            payload_offline=reader.text("payload_offline", "offline"),
            stale_after_s=reader.seconds("stale_after_s", 30.0),
            device_watchdog_s=reader.optional_integer(
                "device_watchdog_s", minimum=MIN_DEVICE_WATCHDOG_S, maximum=MAX_DEVICE_WATCHDOG_S
            ),
            publish_timeout_s=reader.seconds("publish_timeout_s", 5.0),
            clear_retained_setpoint=reader.boolean("clear_retained_setpoint", True),
        )
        if config.payload_online == config.payload_offline:
            raise MqttConfigError("payload_online and payload_offline must differ")
        if config.control_topic is not None and (
            config.control_take_payload == config.control_release_payload
        ):
            raise MqttConfigError("control_take_payload and control_release_payload must differ")
        if config.setpoint_topic in config.state_topics or config.setpoint_topic == (
            config.availability_topic
        ):
            raise MqttConfigError(
                "setpoint_topic must differ from the state and availability topics"
            )
        if config.availability_path is not None and config.availability_topic is None:
            raise MqttConfigError("availability_path is set but availability_topic is not")
        if config.soc_topic is not None and config.soc_path is None:
            raise MqttConfigError("soc_topic is set but soc_path is not")
        if config.status_topic is not None and config.status_path is None:
            raise MqttConfigError("status_topic is set but status_path is not")
        return config

    @property
    def capabilities(self) -> ChargerCapabilities:
        """Return the charger's capabilities as configured."""
        return ChargerCapabilities(
            can_discharge=self.can_discharge,
            min_power_w=self.min_power_w,
            max_charge_power_w=self.max_charge_power_w,
            max_discharge_power_w=self.max_discharge_power_w,
            phases=self.phases,
            voltage_v=self.voltage_v,
            reports_soc=self.soc_path is not None,
            watchdog_s=self.device_watchdog_s,
        )

    @property
    def state_topics(self) -> tuple[str, ...]:
        """Return every distinct topic that carries state, in a stable order."""
        topics = (
            self.state_topic,
            self.power_topic,
            self.soc_topic,
            self.plugged_topic,
            self.status_topic,
        )
        return tuple(dict.fromkeys(topic for topic in topics if topic is not None))

    @property
    def plausible_power_w(self) -> float:
        """Return the largest |power| reading believed: 1.5 x the larger direction's maximum."""
        return 1.5 * max(self.max_charge_power_w, self.max_discharge_power_w)

    def status_for(self, raw: str) -> ChargerStatus | None:
        """Map a raw status value to a ChargerStatus, or None when the map lacks it."""
        return self._status_lookup.get(raw)


_KNOWN_KEYS: Final = frozenset(
    name for name in MqttChargerConfig.__dataclass_fields__ if not name.startswith("_")
)


def _one_or_three(phases: int) -> int:
    """Accept the two phase counts a wallbox can have."""
    if phases not in (1, 3):
        raise MqttConfigError(f"phases must be 1 or 3, got {phases}")
    return phases


def _status_map(raw: Any) -> tuple[tuple[str, ChargerStatus], ...]:
    """Validate a raw-status -> ChargerStatus map; None keeps the identity map."""
    if raw is None:
        return DEFAULT_STATUS_MAP
    if not isinstance(raw, Mapping) or not raw:
        raise MqttConfigError("status_map must be a non-empty mapping of device status to status")
    pairs: list[tuple[str, ChargerStatus]] = []
    for key, value in raw.items():
        # Numeric device codes arrive as JSON numbers but are configured as text keys.
        if isinstance(key, bool) or not isinstance(key, (str, int)):
            raise MqttConfigError(f"status_map key {key!r} must be text or an integer")
        try:
            status = ChargerStatus(value)
        except ValueError:
            allowed = ", ".join(status.value for status in ChargerStatus)
            raise MqttConfigError(
                f"status_map[{key!r}] = {value!r} is not one of: {allowed}"
            ) from None
        pairs.append((str(key), status))
    return tuple(pairs)


class _Reader:
    """Typed getters over the raw dict that raise MqttConfigError naming the key."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        """Keep the raw dict."""
        self._data = data

    def _get(self, key: str, default: Any) -> Any:
        """Return the value, or the default; a None default means the key is required."""
        value = self._data.get(key)
        if value is None:
            if default is None:
                raise MqttConfigError(f"{key} is required")
            return default
        return value

    def text(self, key: str, default: str | None) -> str:
        """Return a non-empty string."""
        value = self._get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise MqttConfigError(f"{key} must be a non-empty string, got {value!r}")
        return value

    def optional_text(self, key: str) -> str | None:
        """Return a non-empty string or None."""
        return None if self._data.get(key) is None else self.text(key, None)

    def topic(self, key: str, default: str | None) -> str:
        """Return an MQTT topic without wildcards (the transport publishes or reads exact topics)."""
        value = self.text(key, default)
        if "+" in value or "#" in value or "\0" in value:
            raise MqttConfigError(f"{key} must be an exact topic without + # or NUL, got {value!r}")
        if len(value.encode("utf-8")) > _MAX_TOPIC_BYTES:
            raise MqttConfigError(f"{key} is longer than MQTT allows")
        return value

    def optional_topic(self, key: str) -> str | None:
        """Return an exact topic or None."""
        return None if self._data.get(key) is None else self.topic(key, None)

    def path(self, key: str, default: str | None) -> str:
        """Return a dotted JSON path; an empty string means the whole payload."""
        value = self._data.get(key, default)
        if value is None:
            raise MqttConfigError(f"{key} is required")
        if not isinstance(value, str):
            raise MqttConfigError(f"{key} must be a dotted path string, got {value!r}")
        if value and any(not part.strip() for part in value.split(".")):
            raise MqttConfigError(f"{key} has an empty segment: {value!r}")
        return value

    def optional_path(self, key: str) -> str | None:
        """Return a dotted JSON path or None."""
        return None if self._data.get(key) is None else self.path(key, None)

    def integer(
        self, key: str, default: int | None, *, minimum: int, maximum: int | None = None
    ) -> int:
        """Return an int (not a bool) at or above minimum (and at most maximum, if given)."""
        value = self._data.get(key, default)
        if value is None:
            raise MqttConfigError(f"{key} is required")
        if isinstance(value, bool) or not isinstance(value, int):
            raise MqttConfigError(f"{key} must be an integer, got {value!r}")
        if value < minimum:
            raise MqttConfigError(f"{key} must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise MqttConfigError(f"{key} must be at most {maximum}, got {value}")
        return value

    def optional_integer(self, key: str, *, minimum: int, maximum: int | None = None) -> int | None:
        """Return an int within the bounds, or None."""
        if self._data.get(key) is None:
            return None
        return self.integer(key, None, minimum=minimum, maximum=maximum)

    def seconds(self, key: str, default: float) -> float:
        """Return a finite, positive duration in seconds."""
        value = self._data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise MqttConfigError(f"{key} must be a number of seconds, got {value!r}")
        if not math.isfinite(value) or value <= 0:
            raise MqttConfigError(f"{key} must be a finite number above 0, got {value!r}")
        return float(value)

    def boolean(self, key: str, default: bool | None) -> bool:
        """Return a real bool (never a truthy string such as "false")."""
        value = self._data.get(key, default)
        if value is None:
            raise MqttConfigError(f"{key} is required")
        if not isinstance(value, bool):
            raise MqttConfigError(f"{key} must be true or false, got {value!r}")
        return value
