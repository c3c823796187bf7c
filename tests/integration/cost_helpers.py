"""Helpers for the cost, peak and Auto-plan tests: an entry with a grid tariff and a house meter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nordic_v2h.const import DOMAIN

from .conftest import PRICE_SENSOR, SERIAL, entry_data, price_attributes

HOUSE_SENSOR = "sensor.house_power"


def tariff_entry(
    port: int,
    *,
    company: str | None = "Elvia",
    house_sensor: bool = True,
    options: dict[str, Any] | None = None,
    **extra: Any,
) -> MockConfigEntry:
    """Return an entry for the simulator with a grid company and, optionally, a house power sensor.

    `options` are added to the default preferences (battery and boost duration).
    """
    data: dict[str, Any] = dict(entry_data(port))
    if company is not None:
        data |= {"grid_company": company, "contract": "spot", "tax_zone": "standard"}
    if house_sensor:
        data["house_power_entity"] = HOUSE_SENSOR
    data |= extra
    return MockConfigEntry(
        domain=DOMAIN,
        title="Wallbox Quasar 123456",
        unique_id=str(SERIAL),
        data=data,
        options={"battery_kwh": 40.0, "boost_duration_min": 60, **(options or {})},
        version=1,
        minor_version=2,
    )


def set_house_power(hass: HomeAssistant, value: str, unit: str = "W") -> None:
    """Publish a reading of the house power sensor."""
    hass.states.async_set(
        HOUSE_SENSOR, value, {"unit_of_measurement": unit, "device_class": "power"}
    )


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry, now: datetime) -> None:
    """Publish today's prices and set the entry up."""
    hass.states.async_set(PRICE_SENSOR, "0.6", price_attributes(now))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
