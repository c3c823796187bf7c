"""Diagnostics: complete enough to replay a decision, with the address and serial redacted."""

from __future__ import annotations

import json

from homeassistant.components.diagnostics import REDACTED
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nordic_v2h.diagnostics import async_get_config_entry_diagnostics
from quasar_simulator import QuasarSimulator

from .cost_helpers import HOUSE_SENSOR, set_house_power, setup_entry, tariff_entry
from .helpers import SERIAL


async def test_diagnostics(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """The dump is JSON, hides host and serial, and holds settings, charger state, prices and plan."""
    diagnostics = await async_get_config_entry_diagnostics(hass, init_integration)
    text = json.dumps(diagnostics)
    assert "127.0.0.1" not in text
    assert SERIAL not in text
    assert diagnostics["entry"]["data"]["host"] == REDACTED
    assert diagnostics["entry"]["unique_id"] == REDACTED
    assert diagnostics["entry"]["title"] == REDACTED
    assert diagnostics["charger"]["identity"]["serial"] == REDACTED
    assert diagnostics["charger"]["identity"]["manufacturer"] == "Wallbox"
    assert diagnostics["charger"]["last_state"]["plugged_in"] is True
    assert diagnostics["settings"]["target_soc_pct"] == 80.0
    series = diagnostics["prices"]["series"]
    assert series["slot_s"] == 900
    assert len(series["values_per_kwh"]) >= 92
    controller = diagnostics["controller"]
    assert controller["mode"] == "auto"
    assert controller["house_meter_stuck"] is False
    # The Quasar's idle timeout is fed by the readings: no setpoint is repeated for it.
    assert controller["setpoint_keepalive_s"] is None
    assert controller["plan"]["slots"]


async def test_diagnostics_without_prices(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """With no price data the series is None rather than an error."""
    init_integration.runtime_data.price_coordinator.data = None  # type: ignore[assignment]
    diagnostics = await async_get_config_entry_diagnostics(hass, init_integration)
    assert diagnostics["prices"]["series"] is None


async def test_diagnostics_hold_what_the_planner_learned_of_the_house(
    hass: HomeAssistant, simulator: QuasarSimulator
) -> None:
    """With a house meter the dump holds its four weeks of hours, the car's and its presence."""
    set_house_power(hass, "1500")
    entry = tariff_entry(simulator.port)
    await setup_entry(hass, entry, dt_util.utcnow())
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    house = diagnostics["house"]
    assert house["entity_id"] == HOUSE_SENSOR
    assert len(house["history_kw"]) == len(house["car_kwh"]) == len(house["plugged_in"]) == 672
    # Nothing measured yet: no hour is known, and the car counts as home. If the clock passed
    # a full hour during setup, that hour holds the few seconds measured before it ended.
    *earlier, last_hour_kw = house["history_kw"]
    assert set(earlier) == {None}
    assert last_hour_kw is None or 0.0 <= last_hour_kw < 0.01
    assert all(house["plugged_in"])
    assert house["drive_kwh_per_day"] == 0.0
    json.dumps(diagnostics)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_diagnostics_without_a_house_meter(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    diagnostics = await async_get_config_entry_diagnostics(hass, init_integration)
    assert diagnostics["house"] is None
