"""Helpers of the owner's-experience tests: move both clocks, call entity services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from quasar_simulator import QuasarSimulator

from .helpers import entity_id_for


async def advance(hass: HomeAssistant, simulator: QuasarSimulator, seconds: float) -> None:
    """Move the simulator's clock and fire Home Assistant's timers, polling in between."""
    simulator.advance(seconds)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))
    await hass.async_block_till_done(wait_background_tasks=True)


async def call_entity_service(
    hass: HomeAssistant, platform: str, key: str, service: str, data: dict[str, Any] | None = None
) -> None:
    """Call a platform service on one of the integration's entities, as the UI does."""
    await hass.services.async_call(
        platform,
        service,
        {"entity_id": entity_id_for(hass, platform, key), **(data or {})},
        blocking=True,
    )
    await hass.async_block_till_done(wait_background_tasks=True)


def state_of(hass: HomeAssistant, platform: str, key: str) -> str:
    """Return the state of one of the integration's entities."""
    state = hass.states.get(entity_id_for(hass, platform, key))
    assert state is not None
    return state.state
