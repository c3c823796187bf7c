"""Setup, unload, hand-back and recovery against the simulator over TCP."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import time
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.nordic_v2h.coordinator import ChargerCoordinator
from quasar_simulator import QuasarSimulator
from quasar_simulator.registers import ControlMode

from .conftest import PRICE_SENSOR, price_attributes
from .cost_helpers import set_house_power, setup_entry, tariff_entry
from .helpers import entity_id_for, select_mode, simulator_clients_after_close


async def test_setup_creates_entities_and_unload_hands_back(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: QuasarSimulator
) -> None:
    """After setup every entity has a state; after unload the charger is under user control."""
    assert init_integration.state is ConfigEntryState.LOADED
    assert hass.states.get(entity_id_for(hass, "sensor", "charger_state")).state == "paused"
    await select_mode(hass, "charge_now")
    assert simulator.control_mode is ControlMode.REMOTE

    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()

    assert init_integration.state is ConfigEntryState.NOT_LOADED
    assert simulator.control_mode is ControlMode.USER


async def test_home_assistant_stop_hands_back(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: QuasarSimulator
) -> None:
    """Stopping Home Assistant hands the charger back to its own control."""
    await select_mode(hass, "charge_now")
    assert simulator.control_mode is ControlMode.REMOTE

    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()

    assert simulator.control_mode is ControlMode.USER


async def test_setup_retries_when_charger_unreachable(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    simulator: QuasarSimulator,
    price_sensor: None,
) -> None:
    """A charger that is down at start-up makes the entry retry, not fail."""
    await simulator.stop()
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY


async def test_a_setup_that_fails_late_leaves_nothing_behind(
    hass: HomeAssistant, simulator: QuasarSimulator
) -> None:
    """A failure after the charger and the meter are followed closes both before the retry.

    Each retry otherwise added an open Modbus connection and a meter listener with its hourly
    timer (which the test harness reports as lingering).
    """
    entry = tariff_entry(simulator.port)
    set_house_power(hass, "3000")
    hass.states.async_set(PRICE_SENSOR, "0.6", price_attributes(dt_util.utcnow()))
    entry.add_to_hass(hass)
    with patch.object(
        ChargerCoordinator,
        "async_config_entry_first_refresh",
        side_effect=ConfigEntryNotReady("the first reading failed"),
    ):
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert await simulator_clients_after_close(simulator) == 0


async def test_charger_unreachable_then_recovers(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: QuasarSimulator
) -> None:
    """Entities go unavailable while the charger is down and come back when it returns."""
    power = entity_id_for(hass, "sensor", "charger_power")
    port = simulator.port
    await simulator.stop()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=10))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(power).state == STATE_UNAVAILABLE

    await simulator.start(port=port)
    # The transport waits out its reconnect backoff in real time (seconds), so poll until it is back.
    deadline = time.monotonic() + 20
    while hass.states.get(power).state == STATE_UNAVAILABLE and time.monotonic() < deadline:
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=10))
        await hass.async_block_till_done(wait_background_tasks=True)
        await asyncio.sleep(0.5)
    assert hass.states.get(power).state != STATE_UNAVAILABLE


async def test_long_outage_hands_control_back_when_the_charger_returns(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: QuasarSimulator
) -> None:
    """After more than two minutes without the charger, control is released once it answers again."""
    await select_mode(hass, "charge_now")
    await select_mode(hass, "idle")
    assert simulator.control_mode is ControlMode.REMOTE
    port = simulator.port
    await simulator.stop()
    # Pretend the last good reading is three minutes old rather than waiting for it.
    charger = init_integration.runtime_data.charger_coordinator
    charger.last_success_utc = dt_util.utcnow() - timedelta(minutes=3)
    # A failed poll, then the controller's debounced run after it.
    for seconds in (10, 25):
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))
        await hass.async_block_till_done(wait_background_tasks=True)
    controller = init_integration.runtime_data.controller
    assert controller.release_after_outage, (
        controller.data.reason,
        controller.in_control,
        charger.last_update_success,
    )

    await simulator.start(port=port)
    deadline = time.monotonic() + 20
    while controller.release_after_outage and time.monotonic() < deadline:
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=10))
        await hass.async_block_till_done(wait_background_tasks=True)
        await asyncio.sleep(0.5)
    assert not controller.release_after_outage
    # Idle wants nothing from the charger, so it stays with the charger's own control.
    assert simulator.control_mode is ControlMode.USER


async def test_a_long_outage_is_noticed_with_nothing_else_happening(
    hass: HomeAssistant,
    quiet_quarter: None,
    init_integration: MockConfigEntry,
    simulator: QuasarSimulator,
) -> None:
    """A failing charger tells the controller only of its first failed poll: the controller
    looks again by itself once the outage has lasted two minutes."""
    await select_mode(hass, "charge_now")
    await select_mode(hass, "idle")
    await simulator.stop()
    charger = init_integration.runtime_data.charger_coordinator
    controller = init_integration.runtime_data.controller
    # The first failed poll, then the controller's debounced step after it.
    for seconds in (10, 25):
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))
        await hass.async_block_till_done(wait_background_tasks=True)
    assert not charger.last_update_success
    assert controller.in_control
    assert not controller.release_after_outage
    # Pretend the last good reading is three minutes old; only the controller's own timer,
    # set for two minutes after that reading, can run a step now.
    assert charger.last_success_utc is not None
    charger.last_success_utc -= timedelta(minutes=3)
    for seconds in (130, 145):
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))
        await hass.async_block_till_done(wait_background_tasks=True)
    assert controller.release_after_outage
    assert not controller.in_control


async def test_removing_the_entry_deletes_what_it_stored(
    hass: HomeAssistant, simulator: QuasarSimulator, hass_storage: dict[str, Any]
) -> None:
    """Removal hands the charger back and deletes the stored settings and meter hours."""
    entry = tariff_entry(simulator.port)
    set_house_power(hass, "3000")
    await setup_entry(hass, entry, dt_util.utcnow())
    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": entity_id_for(hass, "number", "target_soc"), "value": 70},
        blocking=True,
    )
    await select_mode(hass, "charge_now")
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    stored = [f"nordic_v2h.{entry.entry_id}.settings", f"nordic_v2h.{entry.entry_id}.peaks"]
    assert all(key in hass_storage for key in stored)

    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()

    assert simulator.control_mode is ControlMode.USER
    assert [key for key in stored if key in hass_storage] == []
