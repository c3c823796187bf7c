"""Switches: the V2H and export permissions are stored and the controller obeys them."""

from __future__ import annotations

from homeassistant.const import STATE_OFF, STATE_ON, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from quasar_simulator import QuasarSimulator

from .helpers import entity_id_for, select_mode
from .owner_helpers import advance, call_entity_service, state_of


@pytest.mark.parametrize(
    ("key", "setting", "initial"),
    [
        pytest.param("allow_v2h", "allow_v2h", STATE_ON, id="v2h_allowed_by_default"),
        pytest.param("allow_export", "allow_export", STATE_OFF, id="export_forbidden_by_default"),
    ],
)
async def test_toggle_updates_setting(
    hass: HomeAssistant, init_integration: MockConfigEntry, key: str, setting: str, initial: str
) -> None:
    """Each switch starts at the safe default, toggles the stored permission and is a config entity."""
    assert state_of(hass, "switch", key) == initial
    await call_entity_service(hass, "switch", key, "toggle")
    expected = initial == STATE_OFF
    assert getattr(init_integration.runtime_data.settings.current, setting) is expected
    assert state_of(hass, "switch", key) == (STATE_ON if expected else STATE_OFF)
    entry = er.async_get(hass).async_get(entity_id_for(hass, "switch", key))
    assert entry is not None
    assert entry.entity_category is EntityCategory.CONFIG


async def test_v2h_off_stops_a_discharge(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: QuasarSimulator
) -> None:
    """Turning V2H off while the car covers the house stops the discharge at the charger."""
    await select_mode(hass, "charge_now")
    await advance(hass, simulator, 10)
    await select_mode(hass, "discharge")
    await advance(hass, simulator, 10)
    assert simulator.power_w < 0

    await call_entity_service(hass, "switch", "allow_v2h", "turn_off")
    await advance(hass, simulator, 10)
    assert simulator.power_w == 0
    assert state_of(hass, "sensor", "decision_reason") == "v2h_not_allowed"

    await call_entity_service(hass, "switch", "allow_v2h", "turn_on")
    await advance(hass, simulator, 10)
    assert simulator.power_w < 0
