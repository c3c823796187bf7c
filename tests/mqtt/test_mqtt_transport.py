"""The MQTT charger transport against a real mosquitto and Home Assistant's real MQTT client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
import logging
import time
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

from homeassistant.components import mqtt
from paho.mqtt import client as paho
import pytest

from custom_components.nordic_v2h.transport import (
    ChargerStatus,
    SetpointRejectedError,
    TransportConnectionError,
    TransportTimeoutError,
)
from custom_components.nordic_v2h.transport.mqtt import (
    MqttChargerConfig,
    MqttChargerTransport,
)

from .conftest import (
    BASE_CONFIG,
    CONTROL,
    GOOD_DOC,
    SETPOINT,
    STATE,
    STATUS,
    Device,
    Mosquitto,
    retained_on,
    wait_for,
)

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

type MakeTransport = Callable[..., Awaitable[MqttChargerTransport]]


@pytest.fixture
async def make_transport(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry
) -> AsyncIterator[MakeTransport]:
    """Build connected transports from BASE_CONFIG plus overrides; close them at teardown."""
    made: list[MqttChargerTransport] = []

    async def _make(**overrides: Any) -> MqttChargerTransport:
        config = MqttChargerConfig.from_dict({**BASE_CONFIG, **overrides})
        transport = MqttChargerTransport(hass, config)
        await transport.connect()
        made.append(transport)
        return transport

    yield _make
    for transport in made:
        await transport.close()


async def _fresh_state(
    transport: MqttChargerTransport, device: Device, doc: dict[str, Any]
) -> None:
    """Publish a state document, as a device does periodically, until the transport reports it.

    Repeating covers HA 2025.4, whose subscribe call cannot say when the broker has
    confirmed the subscription, so a single non-retained message could predate it.
    """
    last_publish_s = -1.0

    async def _seen() -> bool:
        nonlocal last_publish_s
        try:
            state = await transport.read_state()
        except TransportConnectionError:
            state = None
        if state is not None and state.power_w == doc["power"]:
            return True
        if time.monotonic() - last_publish_s > 0.25:
            device.publish(STATE, doc)
            last_publish_s = time.monotonic()
        return False

    await wait_for(_seen, f"the transport reads power {doc['power']}")


def _warnings_about(caplog: pytest.LogCaptureFixture, text: str) -> int:
    """Count the warnings the transport logged that mention text."""
    return sum(
        1 for rec in caplog.records if rec.levelno == logging.WARNING and text in rec.getMessage()
    )


async def test_connect_without_mqtt_integration_raises(hass: HomeAssistant) -> None:
    """Without an MQTT config entry, connect() must raise TransportConnectionError."""
    transport = MqttChargerTransport(hass, MqttChargerConfig.from_dict(BASE_CONFIG))
    with pytest.raises(TransportConnectionError, match="not set up"):
        await transport.connect()
    with pytest.raises(TransportConnectionError):
        await transport.read_state()


async def test_connect_with_broker_down_raises(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, mosquitto: Mosquitto
) -> None:
    """With the MQTT entry loaded but the broker gone, connect() must raise, not hang."""
    mosquitto.stop()
    await wait_for(lambda: not mqtt.is_connected(hass), "HA notices the broker is gone")
    transport = MqttChargerTransport(hass, MqttChargerConfig.from_dict(BASE_CONFIG))
    with pytest.raises(TransportConnectionError, match="not connected"):
        await transport.connect()


async def test_reads_identity_capabilities_and_state(
    make_transport: MakeTransport, device: Device
) -> None:
    """A good document must come back as a ChargerState with every field mapped."""
    transport = await make_transport(device_watchdog_s=60)
    identity = await transport.identify()
    assert (identity.serial, identity.manufacturer, identity.model) == (
        "garage-bidi-01",
        "Acme",
        "Bidi 11",
    )
    caps = transport.capabilities
    assert (caps.can_discharge, caps.min_power_w, caps.max_discharge_power_w) == (True, 1380, 7400)
    assert caps.watchdog_s == 60
    await _fresh_state(transport, device, GOOD_DOC)
    state = await transport.read_state()
    assert state.status is ChargerStatus.CHARGING
    assert state.plugged_in is True
    assert state.soc_pct == 55.5
    assert state.soc_age_s is not None
    assert 0.0 <= state.soc_age_s < 5.0
    assert state.setpoint_w == 0
    assert state.remote_control is False


@pytest.mark.parametrize(
    ("overrides", "doc", "expected_status"),
    [
        pytest.param(
            {"status_map": {"3": "discharging", "1": "disconnected"}},
            {**GOOD_DOC, "power": -2500, "status": 3},
            ChargerStatus.DISCHARGING,
            id="numeric_code_mapped_through_status_map",
        ),
        pytest.param(
            {"status_path": None},
            {**GOOD_DOC, "power": -2500},
            ChargerStatus.DISCHARGING,
            id="no_status_topic_negative_power_is_discharging",
        ),
        pytest.param(
            {"status_path": None},
            {**GOOD_DOC, "power": 10, "plugged": False},
            ChargerStatus.DISCONNECTED,
            id="no_status_topic_unplugged_is_disconnected",
        ),
        pytest.param(
            {"status_path": None},
            {**GOOD_DOC, "power": 2000, "plugged": 1},
            ChargerStatus.CHARGING,
            id="no_status_topic_positive_power_and_plugged_as_1_is_charging",
        ),
        pytest.param(
            {},
            {**GOOD_DOC, "power": 20, "status": "zapping"},
            ChargerStatus.UNKNOWN,
            id="unmapped_status_word_is_unknown",
        ),
    ],
)
async def test_status_mapping(
    make_transport: MakeTransport,
    device: Device,
    overrides: dict[str, Any],
    doc: dict[str, Any],
    expected_status: ChargerStatus,
) -> None:
    """The device's status must map through the configured map, or be derived when absent."""
    transport = await make_transport(**overrides)
    await _fresh_state(transport, device, doc)
    assert (await transport.read_state()).status is expected_status


async def test_split_topics_with_plain_values(
    make_transport: MakeTransport, device: Device
) -> None:
    """One plain value per topic (empty path, openWB style) must be read like a document."""
    transport = await make_transport(
        power_topic=f"{STATE}/power",
        power_path="",
        soc_topic=f"{STATE}/soc",
        soc_path="",
        plugged_topic=f"{STATE}/plugged",
        plugged_path="",
        status_topic=f"{STATE}/status",
        status_path="",
    )
    device.publish(f"{STATE}/soc", "61", retain=True)
    device.publish(f"{STATE}/plugged", "true", retain=True)
    device.publish(f"{STATE}/status", "discharging", retain=True)
    device.publish(f"{STATE}/power", "-3200", retain=True)

    async def _all_seen() -> bool:
        try:
            state = await transport.read_state()
        except TransportConnectionError:
            return False
        return state.soc_pct == 61 and state.status is ChargerStatus.DISCHARGING

    await wait_for(_all_seen, "all four topics are read")
    assert (await transport.read_state()).power_w == -3200


FAULTS = [
    pytest.param("{power: 3000", "malformed_json." + STATE, id="malformed_json"),
    pytest.param('{"power": 3000, "plugged": tr', "malformed_json." + STATE, id="truncated_json"),
    pytest.param({**GOOD_DOC, "power": "3000"}, "wrong_type.power_w", id="power_as_string"),
    pytest.param({**GOOD_DOC, "power": True}, "wrong_type.power_w", id="power_as_bool"),
    pytest.param({**GOOD_DOC, "vehicle": {"soc": "55"}}, "wrong_type.soc_pct", id="soc_as_string"),
    pytest.param({**GOOD_DOC, "plugged": "yes"}, "wrong_type.plugged_in", id="plugged_as_word"),
    pytest.param({**GOOD_DOC, "status": [1]}, "wrong_type.status", id="status_as_list"),
    pytest.param({**GOOD_DOC, "vehicle": {"soc": 150}}, "out_of_range.soc_pct", id="soc_above_100"),
    pytest.param({**GOOD_DOC, "vehicle": {"soc": -0.5}}, "out_of_range.soc_pct", id="soc_below_0"),
    pytest.param(
        {**GOOD_DOC, "power": 7400 * 1.5 + 1}, "out_of_range.power_w", id="power_beyond_1_5_max"
    ),
    pytest.param(
        {**GOOD_DOC, "power": -(7400 * 1.5 + 1)},
        "out_of_range.power_w",
        id="discharge_power_beyond_1_5_max",
    ),
    pytest.param(
        '{"power": NaN, "vehicle": {"soc": 55.5}, "plugged": true, "status": "charging"}',
        "out_of_range.power_w",
        id="power_nan",
    ),
    pytest.param(
        {k: v for k, v in GOOD_DOC.items() if k != "vehicle"},
        "missing_field.soc_pct",
        id="soc_missing",
    ),
    pytest.param({"vehicle": {"soc": 55.5}}, "missing_field.power_w", id="power_missing"),
    pytest.param([1, 2, 3], "missing_field.power_w", id="document_is_a_list"),
    pytest.param(
        {**GOOD_DOC, "ts": "2026-01-01T12:00:00"}, "wrong_type.timestamp", id="naive_timestamp"
    ),
    pytest.param(
        {**GOOD_DOC, "ts": time.time() + 3600}, "out_of_range.timestamp", id="future_timestamp"
    ),
    pytest.param({**GOOD_DOC, "ts": [1]}, "wrong_type.timestamp", id="timestamp_as_list"),
    pytest.param(
        {**GOOD_DOC, "ts": "yesterday"}, "wrong_type.timestamp", id="timestamp_unparseable_text"
    ),
]


@pytest.mark.parametrize(("bad_payload", "fault_key"), FAULTS)
async def test_bad_payload_is_dropped_and_logged_once(
    make_transport: MakeTransport,
    device: Device,
    caplog: pytest.LogCaptureFixture,
    bad_payload: Any,
    fault_key: str,
) -> None:
    """A bad payload must be counted, logged once for three copies, leave the last good state
    (SoC stays 55.5 %, never 0 %) and send nothing to the charger."""
    transport = await make_transport(timestamp_path="ts")
    await _fresh_state(transport, device, GOOD_DOC)
    for _ in range(3):
        device.publish(STATE, bad_payload)
    await wait_for(lambda: transport.fault_counts.get(fault_key) == 3, f"3 x {fault_key}")
    state = await transport.read_state()
    assert (state.power_w, state.soc_pct, state.plugged_in, state.status) == (
        3000,
        55.5,
        True,
        ChargerStatus.CHARGING,
    )
    field = fault_key.split(".", 1)[1]
    assert _warnings_about(caplog, f" in {field}: ") == 1
    assert device.on(SETPOINT) == []
    assert device.on(CONTROL) == []


@pytest.mark.parametrize(
    ("doc", "expected_soc"),
    [
        pytest.param({"power": 0, "plugged": True}, None, id="soc_never_sent_is_unknown"),
        pytest.param(
            {"power": 0, "plugged": True, "vehicle": {"soc": None}}, None, id="soc_null_is_unknown"
        ),
        pytest.param(
            {"power": 0, "plugged": True, "vehicle": {"soc": 0}}, 0.0, id="real_zero_soc_is_kept"
        ),
    ],
)
async def test_unknown_soc_is_never_zero(
    make_transport: MakeTransport, device: Device, doc: dict[str, Any], expected_soc: float | None
) -> None:
    """A SoC the device did not send (or sent as null) must read None, not 0 %."""
    transport = await make_transport()
    await _fresh_state(transport, device, doc)
    assert (await transport.read_state()).soc_pct == expected_soc


@pytest.mark.parametrize(
    ("age_s", "timestamp_format", "readable"),
    [
        pytest.param(None, None, True, id="retained_without_timestamp_is_accepted"),
        pytest.param(2.0, "epoch_s", True, id="retained_recent_epoch_is_accepted"),
        pytest.param(600.0, "epoch_s", False, id="retained_old_epoch_is_stale"),
        pytest.param(600.0, "epoch_ms", False, id="retained_old_epoch_ms_is_stale"),
        pytest.param(600.0, "iso", False, id="retained_old_iso_is_stale"),
        pytest.param(2.0, "iso", True, id="retained_recent_iso_is_accepted"),
    ],
)
async def test_retained_state_is_accepted_but_aged(
    make_transport: MakeTransport,
    device: Device,
    age_s: float | None,
    timestamp_format: str | None,
    readable: bool,
) -> None:
    """A retained document present before connect must be read, but be stale if its timestamp is old."""
    doc: dict[str, Any] = dict(GOOD_DOC)
    if age_s is not None:
        epoch_s = time.time() - age_s
        doc["ts"] = {
            "epoch_s": epoch_s,
            "epoch_ms": int(epoch_s * 1000),
            "iso": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(epoch_s)),
        }[timestamp_format or "epoch_s"]
    device.publish(STATE, doc, retain=True)
    transport = await make_transport(timestamp_path="ts", stale_after_s=60.0)
    if readable:

        async def _readable() -> bool:
            try:
                return (await transport.read_state()).soc_pct == 55.5
            except TransportConnectionError:
                return False

        await wait_for(_readable, "the retained document is read")
        return
    # The retained SoC is stored with its age, so the only thing missing is freshness.
    await _wait_retained_delivered(transport, device)
    with pytest.raises(TransportTimeoutError, match="within 60 s"):
        await transport.read_state()


async def _wait_retained_delivered(transport: MqttChargerTransport, device: Device) -> None:
    """Ensure the subscription is live (so the retained message was handled) with probes."""
    key = "malformed_json." + STATE

    def _probe_counted() -> bool:
        if transport.fault_counts.get(key, 0) >= 1:
            return True
        device.publish(STATE, "not json")
        return False

    await wait_for(_probe_counted, "a probe message arrives after the retained one")


async def test_state_goes_stale_without_updates(
    make_transport: MakeTransport, device: Device
) -> None:
    """Without new documents within stale_after_s, read_state must raise a timeout error."""
    transport = await make_transport(stale_after_s=0.3)
    with pytest.raises(TransportTimeoutError, match="No valid power_w and plugged_in"):
        await transport.read_state()
    await _fresh_state(transport, device, GOOD_DOC)

    async def _stale() -> bool:
        try:
            await transport.read_state()
        except TransportTimeoutError:
            return True
        return False

    await wait_for(_stale, "the state is older than 0.3 s", timeout_s=3.0)


async def test_availability_offline_then_online(
    make_transport: MakeTransport, device: Device
) -> None:
    """Offline on the availability topic must make read_state raise; online plus new state recovers."""
    transport = await make_transport()
    device.publish(STATUS, "online", retain=True)
    await _fresh_state(transport, device, GOOD_DOC)
    assert transport.online is True
    device.publish(STATUS, "offline", retain=True)
    await wait_for(lambda: transport.online is False, "the transport sees offline")
    with pytest.raises(TransportConnectionError, match="offline"):
        await transport.read_state()
    device.publish(STATUS, "online", retain=True)
    await wait_for(lambda: transport.online is True, "the transport sees online")
    # Values from before the outage are dropped: only a new document makes it readable.
    with pytest.raises(TransportTimeoutError):
        await transport.read_state()
    await _fresh_state(transport, device, {**GOOD_DOC, "power": 1500})
    assert (await transport.read_state()).power_w == 1500


@pytest.mark.parametrize(
    ("overrides", "online", "offline", "garbage", "fault_key"),
    [
        pytest.param(
            {}, "online", "offline", "maybe", "unknown_payload.availability", id="plain_words"
        ),
        pytest.param(
            {
                "availability_path": "state",
                "payload_online": "connected",
                "payload_offline": "disconnected",
            },
            {"state": "connected", "id": "abc"},
            {"state": "disconnected", "id": "abc"},
            {"id": "abc"},
            "missing_field.availability",
            id="json_announce_document",
        ),
        pytest.param(
            {
                "availability_path": "state",
                "payload_online": "connected",
                "payload_offline": "disconnected",
            },
            {"state": "connected"},
            {"state": "disconnected"},
            "{not json",
            "malformed_json.availability",
            id="json_announce_malformed",
        ),
    ],
)
async def test_availability_payloads(
    make_transport: MakeTransport,
    device: Device,
    overrides: dict[str, Any],
    online: Any,
    offline: Any,
    garbage: Any,
    fault_key: str,
) -> None:
    """Online/offline must be read in the configured form; an unknown payload changes nothing."""
    transport = await make_transport(**overrides)
    device.publish(STATUS, online, retain=True)
    await _fresh_state(transport, device, GOOD_DOC)
    await wait_for(lambda: transport.online is True, "online")
    device.publish(STATUS, garbage)
    await wait_for(lambda: transport.fault_counts.get(fault_key) == 1, f"{fault_key} counted")
    assert transport.online is True
    assert (await transport.read_state()).power_w == 3000
    device.publish(STATUS, offline, retain=True)
    await wait_for(lambda: transport.online is False, "offline")
    with pytest.raises(TransportConnectionError, match="offline"):
        await transport.read_state()


async def test_device_last_will_marks_offline(
    make_transport: MakeTransport, device: Device, mosquitto: Mosquitto
) -> None:
    """The device's last will ("offline", sent by the broker when it vanishes) must make read_state raise."""
    transport = await make_transport()
    await _fresh_state(transport, device, GOOD_DOC)
    lw = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="charger-with-will")
    lw.will_set(STATUS, "offline", qos=1, retain=True)
    lw.connect("127.0.0.1", mosquitto.port, keepalive=10)
    lw.loop_start()
    lw.publish(STATUS, "online", qos=1, retain=True).wait_for_publish(5)
    await wait_for(lambda: transport.online is True, "online")
    # Dropping the socket without DISCONNECT is how a crashed device looks to the broker.
    lw.loop_stop()
    sock = lw.socket()
    assert sock is not None
    sock.close()
    await wait_for(lambda: transport.online is False, "the broker delivers the last will")
    with pytest.raises(TransportConnectionError, match="offline"):
        await transport.read_state()


@pytest.mark.parametrize(
    ("overrides", "power_w", "expected_payload"),
    [
        pytest.param({}, 3700, "3700", id="plain_number_charge"),
        pytest.param({}, -2500, "-2500", id="plain_number_discharge"),
        pytest.param(
            {"setpoint_json_key": "power_w"}, -2500, '{"power_w": -2500}', id="json_key_discharge"
        ),
    ],
)
async def test_setpoint_is_published_never_retained(
    make_transport: MakeTransport,
    device: Device,
    mosquitto: Mosquitto,
    overrides: dict[str, Any],
    power_w: int,
    expected_payload: str,
) -> None:
    """set_power must publish the signed setpoint, not retained; the broker must keep no copy."""
    transport = await make_transport(**overrides)
    await transport.set_power(power_w)
    await wait_for(lambda: len(device.on(SETPOINT)) == 1, "the device gets the setpoint")
    (msg,) = device.on(SETPOINT)
    assert (msg.payload, msg.retain) == (expected_payload, False)
    assert retained_on(mosquitto.port, SETPOINT) == []
    assert (await _read_setpoint(transport, device)) == power_w


async def _read_setpoint(transport: MqttChargerTransport, device: Device) -> int:
    """Return the setpoint the transport reports in its state."""
    await _fresh_state(transport, device, GOOD_DOC)
    return (await transport.read_state()).setpoint_w


@pytest.mark.parametrize(
    ("overrides", "take_payload", "release_payload"),
    [
        pytest.param({}, "1", "0", id="default_control_payloads"),
        pytest.param(
            {"control_take_payload": "take", "control_release_payload": "release"},
            "take",
            "release",
            id="custom_control_payloads",
        ),
    ],
)
async def test_take_and_release_control(
    make_transport: MakeTransport,
    device: Device,
    overrides: dict[str, Any],
    take_payload: str,
    release_payload: str,
) -> None:
    """take_control publishes its payload; release publishes setpoint 0 first, then its payload."""
    transport = await make_transport(**overrides)
    await transport.take_control()
    await transport.set_power(-2000)
    await transport.release_control()
    await wait_for(lambda: len(device.received) == 4, "four commands arrive")
    assert [(m.topic, m.payload, m.retain) for m in device.received] == [
        (CONTROL, take_payload, False),
        (SETPOINT, "-2000", False),
        (SETPOINT, "0", False),
        (CONTROL, release_payload, False),
    ]
    state_after = await _read_setpoint(transport, device)
    assert state_after == 0
    assert (await transport.read_state()).remote_control is False


async def test_release_without_control_topic_still_stops(
    make_transport: MakeTransport, device: Device
) -> None:
    """Without a control topic, release_control must still publish setpoint 0."""
    transport = await make_transport(control_topic=None)
    await transport.take_control()
    await transport.set_power(3000)
    await transport.release_control()
    await wait_for(lambda: len(device.received) == 2, "two setpoints arrive")
    assert [m.payload for m in device.received] == ["3000", "0"]


@pytest.mark.parametrize(
    ("clear", "expected_retained"),
    [
        pytest.param(True, [], id="foreign_retained_setpoint_is_cleared"),
        pytest.param(False, ["-7000"], id="foreign_retained_setpoint_is_left_when_told"),
    ],
)
async def test_foreign_retained_setpoint_is_never_echoed(
    make_transport: MakeTransport,
    device: Device,
    mosquitto: Mosquitto,
    clear: bool,
    expected_retained: list[str],
) -> None:
    """A retained setpoint left by someone else must not become ours: no echo, not in state;
    it is cleared unless clear_retained_setpoint is false."""
    device.publish(SETPOINT, "-7000", retain=True)
    transport = await make_transport(device_watchdog_s=30, clear_retained_setpoint=clear)
    await wait_for(
        lambda: transport.fault_counts.get("retained_setpoint.setpoint") == 1,
        "the transport notices the retained setpoint",
    )
    if clear:
        await wait_for(lambda: retained_on(mosquitto.port, SETPOINT) == [], "the clear")
    await transport.take_control()
    await wait_for(lambda: len(device.on(CONTROL)) == 1, "the marker arrives")
    # The device saw its own retained message once, and from us at most the empty clear.
    assert [m.payload for m in device.on(SETPOINT) if m.payload] == ["-7000"]
    assert retained_on(mosquitto.port, SETPOINT) == expected_retained
    assert (await _read_setpoint(transport, device)) == 0


@pytest.mark.parametrize(
    ("overrides", "power_w"),
    [
        pytest.param({}, 500, id="below_minimum_charge"),
        pytest.param({}, -500, id="below_minimum_discharge"),
        pytest.param({}, 7401, id="above_max_charge"),
        pytest.param({}, -7401, id="above_max_discharge"),
        pytest.param(
            {"can_discharge": False, "max_discharge_power_w": 0},
            -2000,
            id="discharge_on_charge_only_device",
        ),
        pytest.param({}, True, id="bool_is_not_watts"),
        pytest.param({}, 2000.5, id="float_is_not_integer_watts"),
    ],
)
async def test_setpoint_outside_capabilities_is_rejected(
    make_transport: MakeTransport, device: Device, overrides: dict[str, Any], power_w: Any
) -> None:
    """A setpoint the charger cannot take must raise SetpointRejectedError and publish nothing."""
    transport = await make_transport(**overrides)
    with pytest.raises(SetpointRejectedError):
        await transport.set_power(power_w)
    await transport.take_control()
    await wait_for(lambda: len(device.on(CONTROL)) == 1, "the marker arrives")
    assert device.on(SETPOINT) == []


async def test_broker_restart_recovers(
    hass: HomeAssistant, make_transport: MakeTransport, device: Device, mosquitto: Mosquitto
) -> None:
    """While the broker is down reads and setpoints must raise (nothing is queued); after it
    returns HA reconnects, the subscriptions are back and the next setpoint arrives."""
    # HA retries every 10 s; a short interval keeps the test fast without changing behaviour.
    with patch("homeassistant.components.mqtt.client.RECONNECT_INTERVAL_SECONDS", 0.1):
        transport = await make_transport()
        await _fresh_state(transport, device, GOOD_DOC)
        await transport.set_power(2000)
        await wait_for(lambda: len(device.on(SETPOINT)) == 1, "the first setpoint")

        mosquitto.stop()
        await wait_for(lambda: not mqtt.is_connected(hass), "HA sees the broker go")
        with pytest.raises(TransportConnectionError):
            await transport.read_state()
        with pytest.raises(TransportConnectionError):
            await transport.set_power(-4000)

        mosquitto.start()
        await wait_for(lambda: mqtt.is_connected(hass), "HA reconnects")
        await wait_for(device.client.is_connected, "the device reconnects")
        device.wait_subscribed()
        await _fresh_state(transport, device, {**GOOD_DOC, "power": -1800})
        await transport.set_power(-3000)
        await wait_for(lambda: len(device.on(SETPOINT)) == 2, "the setpoint after the restart")
    # The refused -4000 W was never queued and delivered late.
    assert [m.payload for m in device.on(SETPOINT)] == ["2000", "-3000"]


async def test_close_unsubscribes(make_transport: MakeTransport, device: Device) -> None:
    """After close() the transport must receive nothing and refuse to read or command."""
    closed = await make_transport()
    witness = await make_transport()
    await _fresh_state(closed, device, GOOD_DOC)
    await closed.close()
    device.publish(STATE, "{broken")
    await wait_for(
        lambda: witness.fault_counts.get("malformed_json." + STATE) == 1, "the witness sees it"
    )
    assert "malformed_json." + STATE not in closed.fault_counts
    with pytest.raises(TransportConnectionError):
        await closed.read_state()
    with pytest.raises(TransportConnectionError):
        await closed.set_power(2000)


async def test_empty_payload_is_a_retained_clear_not_a_fault(
    make_transport: MakeTransport, device: Device
) -> None:
    """An empty payload (how MQTT deletes a retained message) must be ignored silently."""
    transport = await make_transport()
    await _fresh_state(transport, device, GOOD_DOC)
    device.publish(STATE, "", retain=True)
    await _fresh_state(transport, device, {**GOOD_DOC, "power": 2100})
    assert transport.fault_counts == {}


async def test_hung_broker_publish_times_out(
    make_transport: MakeTransport, device: Device, mosquitto: Mosquitto
) -> None:
    """A broker that accepts but never acknowledges must give TransportTimeoutError after
    publish_timeout_s (not HA's 10 s acknowledgement wait), and a reading must not report
    the setpoint the failed one replaced as the running one."""
    transport = await make_transport(publish_timeout_s=0.3, device_watchdog_s=30)
    await transport.set_power(1500)
    mosquitto.pause()
    try:
        with pytest.raises(TransportTimeoutError, match="did not acknowledge"):
            await transport.set_power(2000)
    finally:
        mosquitto.resume()
    await transport.take_control()
    await wait_for(lambda: len(device.on(CONTROL)) == 1, "the marker arrives")
    assert [m.payload for m in device.on(SETPOINT)].count("1500") == 1
    assert (await _read_setpoint(transport, device)) == 0
