"""Every tariff number can be overridden in the options: bad overrides are refused on the form."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
import pytest

from quasar_simulator import QuasarSimulator

from .cost_helpers import setup_entry, tariff_entry
from .helpers import entity_id_for

BASE_OPTIONS: dict[str, Any] = {"battery_kwh": 40.0, "boost_duration_min": 60}

# A grid company that is not listed: flat 30 øre/kWh grid energy, two capacity steps (incl. VAT).
OWN_TARIFF: dict[str, Any] = {
    "grid_tariffs": [
        {
            "company": "My grid company",
            "valid_from": "2024-01-01",
            "capacity_method": "TRE_DØGNMAX_MND",
            "threshold_inclusive": True,
            "prices_include_vat": True,
            "capacity_steps": [
                {"from_kw": 0, "to_kw": 5, "nok_per_month": 200},
                {"from_kw": 5, "to_kw": None, "nok_per_month": 500},
            ],
            "energy_base_nok_per_kwh": 0.30,
        }
    ]
}


async def open_options(hass: HomeAssistant, entry_id: str, overrides: str) -> Any:
    """Submit the options form with these overrides."""
    result = await hass.config_entries.options.async_init(entry_id)
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {**BASE_OPTIONS, "tariff_overrides": overrides}
    )


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param("{not json", id="not_json"),
        pytest.param("[1, 2]", id="not_an_object"),
        pytest.param('{"grid_tariffs": "Elvia"}', id="grid_tariffs_not_a_list"),
        pytest.param('{"supplier_markup_nok_per_kwh": "a lot"}', id="markup_not_a_number"),
        pytest.param('{"no_such_setting": 1}', id="unknown_setting"),
    ],
)
async def test_invalid_overrides_are_refused(
    hass: HomeAssistant, simulator: QuasarSimulator, overrides: str
) -> None:
    """A bad override shows a translated error with the reason and keeps the old options."""
    entry = tariff_entry(simulator.port, house_sensor=False)
    await setup_entry(hass, entry, dt_util.utcnow())
    result = await open_options(hass, entry.entry_id, overrides)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"tariff_overrides": "invalid_tariff_overrides"}
    assert result["description_placeholders"]["error"]
    assert entry.options == BASE_OPTIONS
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_supplier_markup_raises_the_all_in_price(
    hass: HomeAssistant, simulator: QuasarSimulator
) -> None:
    """A supplier markup of 10 øre excl. VAT adds 12.5 øre to the all-in price (25 % VAT)."""
    entry = tariff_entry(simulator.port, house_sensor=False)
    await setup_entry(hass, entry, dt_util.utcnow())
    price = entity_id_for(hass, "sensor", "all_in_price")
    before = float(hass.states.get(price).state)

    result = await open_options(hass, entry.entry_id, '{"supplier_markup_nok_per_kwh": 0.10}')
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)

    assert float(
        hass.states.get(entity_id_for(hass, "sensor", "all_in_price")).state
    ) == pytest.approx(before + 0.125, abs=0.002)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_own_tariff_for_a_company_not_listed(
    hass: HomeAssistant, simulator: QuasarSimulator
) -> None:
    """An entry with no preset company gets all-in prices from a tariff of the owner's own."""
    entry = tariff_entry(simulator.port, company=None, house_sensor=False)
    await setup_entry(hass, entry, dt_util.utcnow())
    assert hass.states.get("sensor.wallbox_quasar_all_in_price") is None

    result = await open_options(hass, entry.entry_id, json.dumps(OWN_TARIFF))
    assert result["type"] is FlowResultType.CREATE_ENTRY, result.get("description_placeholders")
    await hass.async_block_till_done(wait_background_tasks=True)

    assert entry.runtime_data.cost_model is not None
    assert float(hass.states.get(entity_id_for(hass, "sensor", "all_in_price")).state) > 0.30
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_saved_overrides_are_shown_again_as_json(
    hass: HomeAssistant, simulator: QuasarSimulator
) -> None:
    """Opening the options again shows the saved overrides as indented JSON, ready to edit."""
    entry = tariff_entry(simulator.port, house_sensor=False)
    await setup_entry(hass, entry, dt_util.utcnow())
    result = await open_options(hass, entry.entry_id, '{"supplier_markup_nok_per_kwh": 0.10}')
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)

    result = await hass.config_entries.options.async_init(entry.entry_id)
    shown = {
        str(key): (key.description or {}).get("suggested_value")
        for key in result["data_schema"].schema
    }
    assert shown["tariff_overrides"] == json.dumps({"supplier_markup_nok_per_kwh": 0.10}, indent=2)
    assert await hass.config_entries.async_unload(entry.entry_id)
