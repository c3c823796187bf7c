"""Setup, unload, hand-back and recovery against the simulator over TCP."""

from __future__ import annotations

from datetime import timedelta

from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from quasar_simulator import QuasarSimulator
from quasar_simulator.registers import ControlMode

from .helpers import entity_id_for, select_mode


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
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, simulator: QuasarSimulator, price_sensor: None
) -> None:
    """A charger that is down at start-up makes the entry retry, not fail."""
    await simulator.stop()
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY


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
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=60))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(power).state != STATE_UNAVAILABLE
