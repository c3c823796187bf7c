"""Small helpers for the integration tests."""

from __future__ import annotations

import asyncio
import socket

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from quasar_simulator import QuasarSimulator

SERIAL = "123456"


def entity_id_for(hass: HomeAssistant, platform: str, key: str, *, serial: str = SERIAL) -> str:
    """Return the entity id of the integration's entity with this description key."""
    entity_id = er.async_get(hass).async_get_entity_id(platform, "nordic_v2h", f"{serial}_{key}")
    assert entity_id is not None, f"no {platform} entity with key {key}"
    return entity_id


async def select_mode(hass: HomeAssistant, option: str, *, serial: str = SERIAL) -> None:
    """Choose an operating mode through the select entity, as a user would."""
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": entity_id_for(hass, "select", "mode", serial=serial), "option": option},
        blocking=True,
    )
    await hass.async_block_till_done(wait_background_tasks=True)


def unused_port() -> int:
    """Return a loopback port where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def simulator_clients_after_close(simulator: QuasarSimulator) -> int:
    """Return the simulator's client count once closed connections have been noticed.

    The simulator counts a client gone only when it reads the end of its connection, a
    moment after the close: wait up to a second for the count to reach 0.
    """
    for _ in range(50):
        if simulator.client_count == 0:
            break
        await asyncio.sleep(0.02)
    return simulator.client_count
