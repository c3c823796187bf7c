"""Missing, late and returning prices: nothing crashes, the last known prices are kept."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, timedelta
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from quasar_simulator import QuasarSimulator

from .conftest import PRICE_SENSOR, price_attributes
from .helpers import entity_id_for


async def test_no_prices_at_start_then_they_arrive(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, simulator: QuasarSimulator
) -> None:
    """Without prices the entry still loads and Auto waits; when prices appear they are used."""
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert hass.states.get(entity_id_for(hass, "sensor", "spot_price")).state == STATE_UNAVAILABLE
    assert hass.states.get(entity_id_for(hass, "sensor", "decision_reason")).state == "no_prices"

    hass.states.async_set(PRICE_SENSOR, "0.6", price_attributes(dt_util.utcnow()))
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=16))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert float(hass.states.get(entity_id_for(hass, "sensor", "spot_price")).state) > 0
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)


async def test_source_failure_keeps_last_known_prices(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """When the price sensor disappears, the prices already fetched stay in use."""
    spot = entity_id_for(hass, "sensor", "spot_price")
    before = hass.states.get(spot).state
    hass.states.async_remove(PRICE_SENSOR)
    coordinator = init_integration.runtime_data.price_coordinator
    # Past 13:00 the coordinator asks the source for tomorrow, which now fails.
    with patch("custom_components.nordic_v2h.coordinator._tomorrow_may_exist", return_value=True):
        await coordinator.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert coordinator.failed_attempts == 1
    assert hass.states.get(spot).state == before


async def test_an_unexpected_source_error_does_not_stop_fetching(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A fault in a price source keeps the last prices and the next fetch planned."""
    coordinator = init_integration.runtime_data.price_coordinator
    source = coordinator.source
    fetched_before = coordinator.data.fetched_utc
    with (
        patch("custom_components.nordic_v2h.coordinator._tomorrow_may_exist", return_value=True),
        patch.object(
            source, "async_fetch_day", side_effect=RuntimeError("a bug in the price source")
        ),
    ):
        await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert coordinator.failed_attempts == 1
    assert coordinator.data.fetched_utc == fetched_before
    # The retry is planned, and succeeds once the source works again.
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(hours=1))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert coordinator.data.fetched_utc > fetched_before
    assert coordinator.failed_attempts == 0


async def test_a_fetch_finishing_after_unload_starts_no_timer(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A fetch still running when the entry unloads leaves no fetch or quarter tick behind."""
    coordinator = init_integration.runtime_data.price_coordinator
    source = coordinator.source
    started, finish = asyncio.Event(), asyncio.Event()
    fetch_day = source.async_fetch_day

    async def slow_fetch(day: date) -> Any:
        started.set()
        await finish.wait()
        return await fetch_day(day)

    # Forget today's prices, so that the next refresh asks the (slow) source again.
    start = coordinator.data.spot.start_utc
    coordinator.async_set_updated_data(
        replace(coordinator.data, spot=coordinator.data.spot.window(start, start))
    )
    with patch.object(source, "async_fetch_day", side_effect=slow_fetch):
        fetch = hass.async_create_background_task(coordinator.async_refresh(), "late fetch")
        await started.wait()
        assert await hass.config_entries.async_unload(init_integration.entry_id)
        finish.set()
        await fetch
    assert coordinator._unsub_fetch is None
    assert coordinator._unsub_tick is None
