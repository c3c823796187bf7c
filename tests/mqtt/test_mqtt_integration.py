"""Nordic V2H end to end over MQTT: the config flow, entities and modes against a real broker."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
import json
from typing import TYPE_CHECKING, Any

from homeassistant.components import mqtt
from homeassistant.components.diagnostics import REDACTED
from homeassistant.config_entries import SOURCE_USER, ConfigEntry, ConfigEntryState
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.nordic_v2h.const import DOMAIN
from custom_components.nordic_v2h.diagnostics import async_get_config_entry_diagnostics
from tests.integration.conftest import PRICE_SENSOR, price_attributes
from tests.integration.helpers import entity_id_for, select_mode

from .conftest import (
    BASE_CONFIG,
    CONTROL,
    GOOD_DOC,
    SETPOINT,
    STATE,
    STATUS,
    Device,
    Mosquitto,
    wait_for,
)

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

FLOW_INPUT: dict[str, Any] = {
    key: BASE_CONFIG[key]
    for key in (
        "device_id",
        "setpoint_topic",
        "state_topic",
        "power_path",
        "plugged_path",
        "soc_path",
        "status_path",
        "availability_topic",
        "control_topic",
        "can_discharge",
        "min_power_w",
        "max_charge_power_w",
        "max_discharge_power_w",
    )
}


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load the integration from custom_components."""


async def add_through_the_flow(hass: HomeAssistant, flow_input: dict[str, Any]) -> Any:
    """Add the MQTT charger through the user flow as an owner would; return the last result."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "mqtt_charger"}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], flow_input)
    if result["type"] is FlowResultType.ABORT:
        return result
    assert result["errors"] == {}, result["description_placeholders"]
    assert result["step_id"] == "prices"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "area": "NO1",
            "currency": "NOK",
            "price_source": "community_entity",
            "price_entity": PRICE_SENSOR,
            "price_entity_includes_vat": False,
        },
    )
    assert result["step_id"] == "tariff"
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"grid_company": "Elvia", "contract": "spot", "battery_kwh": 40.0}
    )


async def set_up_through_the_flow(
    hass: HomeAssistant, flow_input: dict[str, Any] = FLOW_INPUT
) -> ConfigEntry:
    """Publish prices, add the MQTT charger through the flow and wait until its entry runs."""
    hass.states.async_set(PRICE_SENSOR, "0.6", price_attributes(datetime.now(UTC)))
    result = await add_through_the_flow(hass, flow_input)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry: ConfigEntry = result["result"]
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED, entry.reason
    return entry


async def test_flow_with_the_broker_down_says_so(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, mosquitto: Mosquitto
) -> None:
    """With the broker gone the flow says it cannot connect and keeps the owner's form."""
    mosquitto.stop()
    await wait_for(lambda: not mqtt.is_connected(hass), "HA notices the broker is gone")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "mqtt_charger"}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], FLOW_INPUT)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "mqtt_charger"
    assert result["errors"] == {"base": "cannot_connect"}
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_mqtt_charger_set_up_through_the_flow_and_controlled(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, device: Device
) -> None:
    """The flow identifies the MQTT charger; its state shows up; modes publish setpoints and release."""
    device.publish(STATUS, "online", retain=True)
    # Chargers keep their last state retained, so a new subscriber learns it at once.
    device.publish(STATE, GOOD_DOC, retain=True)

    entry = await set_up_through_the_flow(hass)
    assert entry.unique_id == BASE_CONFIG["device_id"]

    async def soc_shown() -> bool:
        await entry.runtime_data.charger_coordinator.async_refresh()
        return (
            hass.states.get(
                entity_id_for(hass, "sensor", "soc", serial=BASE_CONFIG["device_id"])
            ).state
            == "55.5"
        )

    await wait_for(soc_shown, "the state of charge from the state document is shown")

    await select_mode(hass, "charge_now", serial=BASE_CONFIG["device_id"])
    await wait_for(
        lambda: any(msg.payload == "7400" for msg in device.on(SETPOINT)),
        "a 7400 W setpoint arrives",
    )
    assert all(not msg.retain for msg in device.on(SETPOINT))

    await select_mode(hass, "off", serial=BASE_CONFIG["device_id"])
    await wait_for(
        lambda: device.on(SETPOINT)[-1].payload == "0", "the release publishes setpoint 0"
    )
    await wait_for(
        lambda: bool(device.on(CONTROL)) and device.on(CONTROL)[-1].payload == "0",
        "control is released",
    )
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


# Without a state of charge the readings of a steady charger do not change from poll to poll
# (a kept state of charge ages), so they run no control step: only the keep-alive's own does.
WITHOUT_SOC: dict[str, Any] = {key: value for key, value in FLOW_INPUT.items() if key != "soc_path"}


async def charging_at_full_power(
    hass: HomeAssistant, device: Device, flow_input: dict[str, Any]
) -> tuple[ConfigEntry, int]:
    """Set the charger up through the flow and pick Charge now; wait for its 7400 W.

    Return the entry and how many setpoints came before the last 7400 W. Auto, before the
    mode is picked, may already have sent 7400 W (a cheap hour) or stopped the car (a dear
    one), depending on the hour the test runs.
    """
    device.publish(STATUS, "online", retain=True)
    device.publish(STATE, GOOD_DOC, retain=True)
    entry = await set_up_through_the_flow(hass, flow_input)
    await select_mode(hass, "charge_now", serial=BASE_CONFIG["device_id"])
    await wait_for(
        lambda: bool(device.on(SETPOINT)) and device.on(SETPOINT)[-1].payload == "7400",
        "a 7400 W setpoint",
    )
    assert entry.runtime_data.controller.in_control
    return entry, len(device.on(SETPOINT)) - 1


async def test_a_charger_with_a_timeout_gets_the_setpoint_again(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, device: Device
) -> None:
    """A charger that stops when no setpoint has come for 30 s gets the same one again 15 s
    later, though nothing changed and its steady readings run no control step."""
    entry, before = await charging_at_full_power(
        hass, device, {**WITHOUT_SOC, "device_watchdog_s": 30}
    )
    assert entry.data["mqtt"]["device_watchdog_s"] == 30
    await wait_for(
        lambda: len(device.on(SETPOINT)) == before + 2,
        "the setpoint is sent again",
        timeout_s=20.0,
    )
    first, repeat = device.on(SETPOINT)[before:]
    assert (first.payload, repeat.payload) == ("7400", "7400")
    # The repeat comes at half the timeout, not with the step that the charger's changed
    # setpoint reading brings 10 s after the write.
    assert repeat.received_mono_s - first.received_mono_s >= 14.0
    assert entry.runtime_data.controller.in_control
    diagnosed = (await async_get_config_entry_diagnostics(hass, entry))["controller"]
    assert diagnosed["setpoint_keepalive_s"] == 15.0
    assert diagnosed["last_written"] is not None

    # Off hands the charger back, and from then on no keep-alive sends anything, even once
    # the last setpoint is long overdue.
    await select_mode(hass, "off", serial=BASE_CONFIG["device_id"])
    await wait_for(lambda: device.on(CONTROL)[-1].payload == "0", "control is handed back")
    controller = entry.runtime_data.controller
    assert not controller.in_control
    assert controller.last_written_utc is not None
    controller.last_written_utc -= timedelta(minutes=10)
    await controller.async_refresh()
    await asyncio.sleep(1.0)
    assert [msg.payload for msg in device.on(SETPOINT)[before:]] == ["7400", "7400", "0"]
    assert [msg.payload for msg in device.on(CONTROL)] == ["1", "0"]
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_a_charger_without_a_timeout_gets_a_setpoint_once(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, device: Device
) -> None:
    """Without a timeout a setpoint is sent when it changes, never again unchanged, though a
    control step runs at every poll (the kept state of charge ages); control is taken once."""
    entry, before = await charging_at_full_power(hass, device, FLOW_INPUT)
    controller = entry.runtime_data.controller
    # As if the setpoint had been sent long ago: with a timeout, the next step would repeat it.
    assert controller.last_written_utc is not None
    controller.last_written_utc -= timedelta(minutes=10)
    await asyncio.sleep(6.0)
    assert [msg.payload for msg in device.on(SETPOINT)[before:]] == ["7400"]
    # The steps that ran on the reading from before control was taken (it says "not remote")
    # did not take it again.
    assert [msg.payload for msg in device.on(CONTROL)] == ["1"]
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_adding_the_charger_again_changes_its_topics(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, device: Device
) -> None:
    """The same device id added again with new topics moves the running entry to them."""
    moved_state = f"{STATE}/v2"
    for topic in (STATE, moved_state):
        device.publish(topic, GOOD_DOC, retain=True)
    entry = await set_up_through_the_flow(hass)

    result = await add_through_the_flow(hass, {**FLOW_INPUT, "state_topic": moved_state})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    await hass.async_block_till_done(wait_background_tasks=True)

    assert hass.config_entries.async_entries(DOMAIN) == [entry]
    assert entry.state is ConfigEntryState.LOADED, entry.reason
    assert entry.runtime_data.transport.config.state_topics == (moved_state,)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_diagnostics_hide_the_device_id(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, device: Device
) -> None:
    """The MQTT device id is the charger's serial: diagnostics redact it wherever it appears."""
    device.publish(STATE, GOOD_DOC, retain=True)
    entry = await set_up_through_the_flow(hass)

    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert BASE_CONFIG["device_id"] not in json.dumps(diagnostics)
    assert diagnostics["entry"]["data"]["mqtt"]["device_id"] == REDACTED
    assert diagnostics["entry"]["data"]["mqtt"]["state_topic"] == STATE
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
