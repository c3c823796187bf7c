"""Validation of the MQTT charger config dict (no broker needed)."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.nordic_v2h.transport import ChargerStatus
from custom_components.nordic_v2h.transport.mqtt_profile import MqttChargerConfig, MqttConfigError

MINIMAL: dict[str, Any] = {
    "device_id": "garage-01",
    "setpoint_topic": "wb/cmd/power/set",
    "state_topic": "wb/state",
    "power_path": "power",
    "plugged_path": "plugged",
    "can_discharge": True,
    "min_power_w": 1380,
    "max_charge_power_w": 7400,
    "max_discharge_power_w": 7400,
}


def test_minimal_config_has_safe_defaults() -> None:
    """The minimal dict must give QoS 1, no keep-alive, a 30 s staleness limit and SoC unreported."""
    config = MqttChargerConfig.from_dict(MINIMAL)
    assert (config.qos, config.device_watchdog_s, config.stale_after_s) == (1, None, 30.0)
    assert config.clear_retained_setpoint is True
    assert config.state_topics == ("wb/state",)
    caps = config.capabilities
    assert (caps.can_discharge, caps.min_power_w, caps.max_charge_power_w) == (True, 1380, 7400)
    assert caps.reports_soc is False
    assert config.status_for("charging") is ChargerStatus.CHARGING
    assert config.plausible_power_w == 11100.0


def test_full_config_round_trip() -> None:
    """Every optional key must be read into its typed field."""
    config = MqttChargerConfig.from_dict(
        {
            **MINIMAL,
            "soc_path": "ev.soc",
            "soc_topic": "wb/ev",
            "status_path": "",
            "status_topic": "wb/status_word",
            "status_map": {"3": "charging", 7: "discharging"},
            "timestamp_path": "ts",
            "availability_topic": "wb/lwt",
            "availability_path": "state",
            "control_topic": "wb/cmd/enable/set",
            "setpoint_json_key": "power_w",
            "device_watchdog_s": 60,
            "phases": 3,
            "qos": 2,
        }
    )
    assert config.state_topics == ("wb/state", "wb/ev", "wb/status_word")
    assert config.status_for("7") is ChargerStatus.DISCHARGING
    assert config.status_for("charging") is None  # A custom map replaces the identity map.
    assert config.capabilities.watchdog_s == 60
    assert config.capabilities.reports_soc is True


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"device_id": None}, "device_id is required", id="missing_device_id"),
        pytest.param(
            {"setpoint_topic": ""}, "setpoint_topic must be a non-empty", id="empty_topic"
        ),
        pytest.param(
            {"setpoint_topic": "wb/+/set"}, "without \\+ # or NUL", id="wildcard_in_setpoint_topic"
        ),
        pytest.param({"state_topic": "wb/#"}, "without", id="wildcard_in_state_topic"),
        pytest.param({"power_path": "a..b"}, "empty segment", id="path_with_empty_segment"),
        pytest.param({"power_path": 3}, "dotted path string", id="path_not_text"),
        pytest.param({"min_power_w": -1}, "at least 0", id="negative_min_power"),
        pytest.param({"max_charge_power_w": "7400"}, "must be an integer", id="power_as_text"),
        pytest.param({"max_charge_power_w": True}, "must be an integer", id="power_as_bool"),
        pytest.param({"min_power_w": 8000}, "exceeds max_charge_power_w", id="min_above_max"),
        pytest.param(
            {"max_discharge_power_w": 0},
            "max_discharge_power_w must be at least",
            id="discharge_without_limit",
        ),
        pytest.param(
            {"can_discharge": False},
            "must be 0 when can_discharge is false",
            id="limit_without_discharge",
        ),
        pytest.param({"can_discharge": "yes"}, "true or false", id="can_discharge_as_text"),
        pytest.param({"qos": 3}, "qos must be 0, 1 or 2", id="qos_out_of_range"),
        pytest.param({"phases": 2}, "phases must be 1 or 3", id="two_phases"),
        pytest.param({"stale_after_s": 0}, "above 0", id="zero_staleness"),
        pytest.param({"stale_after_s": float("nan")}, "finite", id="nan_staleness"),
        pytest.param({"device_watchdog_s": 0}, "at least 20", id="zero_watchdog"),
        pytest.param({"device_watchdog_s": 19}, "at least 20", id="watchdog_too_short"),
        pytest.param({"device_watchdog_s": 3601}, "at most 3600", id="watchdog_too_long"),
        pytest.param({"status_map": {"3": "zapping"}}, "is not one of", id="unknown_status"),
        pytest.param({"status_map": {}}, "non-empty mapping", id="empty_status_map"),
        pytest.param(
            {"status_map": {None: "charging"}}, "text or an integer", id="status_key_none"
        ),
        pytest.param({"payload_offline": "online"}, "must differ", id="same_availability_payloads"),
        pytest.param(
            {"control_topic": "wb/c", "control_release_payload": "1"},
            "must differ",
            id="same_control_payloads",
        ),
        pytest.param(
            {"setpoint_topic": "wb/state"},
            "setpoint_topic must differ",
            id="setpoint_on_state_topic",
        ),
        pytest.param({"soc_topic": "wb/soc"}, "soc_path is not", id="soc_topic_without_path"),
        pytest.param(
            {"availability_path": "state"}, "availability_topic is not", id="path_without_lwt_topic"
        ),
        pytest.param(
            {"status_topic": "wb/s", "status_path": None},
            "status_path is not",
            id="status_topic_without_path",
        ),
        pytest.param({"state_topic": "w" * 70000}, "longer than MQTT allows", id="topic_too_long"),
        pytest.param({"power_path": None}, "power_path is required", id="missing_power_path"),
        pytest.param({"min_power_w": None}, "min_power_w is required", id="missing_min_power"),
        pytest.param({"stale_after_s": "30"}, "number of seconds", id="staleness_as_text"),
        pytest.param(
            {"can_discharge": None}, "can_discharge is required", id="missing_discharge_flag"
        ),
        pytest.param({"power_topc": "wb/p"}, "Unknown MQTT charger config key", id="typo_in_key"),
    ],
)
def test_bad_config_raises_naming_the_key(changes: dict[str, Any], message: str) -> None:
    """Each bad value must raise MqttConfigError (a ValueError) with a message naming the problem."""
    data = {**MINIMAL, **changes}
    with pytest.raises(MqttConfigError, match=message):
        MqttChargerConfig.from_dict(data)


def test_non_mapping_raises() -> None:
    """A config that is not a mapping must raise a clear error, not an AttributeError."""
    with pytest.raises(MqttConfigError, match="must be a mapping"):
        MqttChargerConfig.from_dict(["device_id"])  # type: ignore[arg-type]
