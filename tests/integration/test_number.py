"""Number entities: each writes its setting, shows it, and limits come from the charger."""

from __future__ import annotations

from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nordic_v2h.const import DOMAIN

from .helpers import entity_id_for
from .owner_helpers import call_entity_service, state_of


@pytest.mark.parametrize(
    ("key", "value", "setting", "expected"),
    [
        pytest.param("target_soc", 90, "target_soc_pct", 90.0, id="target_soc_raised"),
        pytest.param("min_soc", 20, "min_soc_pct", 20.0, id="min_soc_lowered"),
        pytest.param(
            "max_charge_power", 3700, "max_charge_power_w", 3700, id="charge_power_limited"
        ),
        pytest.param(
            "max_discharge_power", 2000, "max_discharge_power_w", 2000, id="discharge_power_limited"
        ),
    ],
)
async def test_set_value_updates_setting_and_state(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    key: str,
    value: float,
    setting: str,
    expected: float,
) -> None:
    """Setting a number stores it in the owner's settings and the entity shows it."""
    await call_entity_service(hass, "number", key, "set_value", {"value": value})
    assert getattr(init_integration.runtime_data.settings.current, setting) == expected
    assert float(state_of(hass, "number", key)) == float(expected)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        pytest.param("min_soc", 85, id="min_soc_above_default_target"),
        pytest.param("target_soc", 25, id="target_below_default_min_soc"),
    ],
)
async def test_min_soc_above_target_is_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry, key: str, value: float
) -> None:
    """A minimum above the target is refused with a translated error and nothing changes."""
    before = init_integration.runtime_data.settings.current
    with pytest.raises(ServiceValidationError) as excinfo:
        await call_entity_service(hass, "number", key, "set_value", {"value": value})
    assert excinfo.value.translation_domain == DOMAIN
    assert excinfo.value.translation_key == "min_soc_above_target"
    assert init_integration.runtime_data.settings.current == before


@pytest.mark.parametrize(
    ("key", "maximum"),
    [
        pytest.param("target_soc", 100, id="target_soc_up_to_100"),
        pytest.param("min_soc", 100, id="min_soc_up_to_100"),
        pytest.param("max_charge_power", "charge", id="charge_power_up_to_charger_limit"),
        pytest.param("max_discharge_power", "discharge", id="discharge_power_up_to_charger_limit"),
    ],
)
async def test_bounds_and_category(
    hass: HomeAssistant, init_integration: MockConfigEntry, key: str, maximum: float | str
) -> None:
    """Percentages go to 100 %, powers to what the charger can do; all are configuration entities."""
    capabilities = init_integration.runtime_data.transport.capabilities
    expected = {
        "charge": capabilities.max_charge_power_w,
        "discharge": capabilities.max_discharge_power_w,
    }.get(str(maximum), maximum)
    state = hass.states.get(entity_id_for(hass, "number", key))
    assert state is not None
    assert state.attributes["max"] == expected
    assert state.attributes["min"] == 0
    entry = er.async_get(hass).async_get(entity_id_for(hass, "number", key))
    assert entry is not None
    assert entry.entity_category is EntityCategory.CONFIG


async def test_power_limit_reaches_the_charger(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Charge now with a lowered maximum writes no more than that maximum to the charger."""
    await call_entity_service(hass, "number", "max_charge_power", "set_value", {"value": 3000})
    await call_entity_service(hass, "select", "mode", "select_option", {"option": "charge_now"})
    status = init_integration.runtime_data.controller.data
    assert status.decision.value == "charge"
    assert 0 < status.setpoint_w <= 3000


async def test_settings_survive_a_reload(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A changed number is stored and comes back after the entry is reloaded."""
    await call_entity_service(hass, "number", "target_soc", "set_value", {"value": 95})
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert float(state_of(hass, "number", "target_soc")) == 95.0
