"""Buttons: Charge now and Discharge now last the configured time and return to Auto; Replan plans."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.nordic_v2h import controller as controller_module
from custom_components.nordic_v2h.const import CONF_BOOST_DURATION_MIN, OperatingMode
from quasar_simulator import QuasarSimulator

from .owner_helpers import advance, call_entity_service, state_of


@pytest.mark.parametrize(
    ("key", "mode"),
    [
        pytest.param(
            "charge_now", OperatingMode.CHARGE_NOW, id="charge_now_for_the_boost_duration"
        ),
        pytest.param(
            "discharge_now", OperatingMode.DISCHARGE, id="discharge_now_for_the_boost_duration"
        ),
    ],
)
async def test_boost_then_back_to_auto(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: QuasarSimulator,
    key: str,
    mode: OperatingMode,
) -> None:
    """The button forces the mode for the options' duration; at its end a timer brings back Auto."""
    hass.config_entries.async_update_entry(
        init_integration, options={**init_integration.options, CONF_BOOST_DURATION_MIN: 30}
    )
    await hass.async_block_till_done()
    start = dt_util.utcnow()
    await call_entity_service(hass, "button", key, "press")
    settings = init_integration.runtime_data.settings.current
    assert settings.mode is mode
    assert settings.mode_until_utc is not None
    assert timedelta(minutes=30) <= settings.mode_until_utc - start < timedelta(minutes=31)
    assert state_of(hass, "select", "mode") == mode.value

    # A charger reading before the end keeps the mode.
    await advance(hass, simulator, 5)
    assert init_integration.runtime_data.settings.current.mode is mode

    # The controller's clock is moved past the end and the end-of-boost timer fires.
    later = settings.mode_until_utc + timedelta(seconds=1)
    with patch.object(controller_module, "dt_util", SimpleNamespace(utcnow=lambda: later)):
        async_fire_time_changed(hass, later)
        await hass.async_block_till_done(wait_background_tasks=True)
    settings = init_integration.runtime_data.settings.current
    assert settings.mode is OperatingMode.AUTO
    assert settings.mode_until_utc is None
    assert state_of(hass, "select", "mode") == "auto"


async def test_charge_now_button_charges(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: QuasarSimulator
) -> None:
    """Pressing Charge now makes the charger charge at once."""
    await call_entity_service(hass, "button", "charge_now", "press")
    await advance(hass, simulator, 10)
    assert simulator.power_w > 0
    assert state_of(hass, "sensor", "decision") == "charge"


async def test_choosing_a_mode_cancels_the_boost_end(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A mode chosen in the select after a boost has no end time."""
    await call_entity_service(hass, "button", "charge_now", "press")
    await call_entity_service(hass, "select", "mode", "select_option", {"option": "idle"})
    settings = init_integration.runtime_data.settings.current
    assert settings.mode is OperatingMode.IDLE
    assert settings.mode_until_utc is None


async def test_replan_plans_again(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Replan makes a fresh plan even though no input changed."""
    controller = init_integration.runtime_data.controller
    before = controller.data.plan
    assert before is not None
    await call_entity_service(hass, "button", "replan", "press")
    after = controller.data.plan
    assert after is not None
    assert after is not before
    assert after.created_utc >= before.created_utc
