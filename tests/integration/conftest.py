"""Fixtures: Home Assistant with Nordic V2H set up against the Quasar simulator on 127.0.0.1.

The simulator runs in the test's own event loop on an ephemeral loopback port, with its clock
moved by the tests, and is stopped at teardown so that no task or socket outlives a test.
Prices come from a Nord Pool-style sensor holding a recorded real day (ENTSO-E, NO1,
2025-10-15) moved onto the test's today and tomorrow.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from freezegun import freeze_time
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nordic_v2h.const import (
    CONF_AREA,
    CONF_CURRENCY,
    CONF_PRICE_ENTITY,
    CONF_PRICE_ENTITY_INCLUDES_VAT,
    CONF_PRICE_SOURCE,
    CONF_TRANSPORT,
    CONF_UNIT_ID,
    DOMAIN,
)
from custom_components.nordic_v2h.core.timeseries import floor_to_slot
from quasar_simulator import QuasarSimulator

OSLO = ZoneInfo("Europe/Oslo")
PRICE_SENSOR = "sensor.nord_pool_no1"
SERIAL = 123456
RECORDED_DAY = json.loads(
    (
        Path(__file__).resolve().parents[2]
        / "scripts"
        / "demo_data"
        / "no1_2025-10-15_quarter_prices.json"
    ).read_text(encoding="utf-8")
)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load the integration from custom_components."""


@pytest.fixture
async def simulator(socket_enabled: None) -> AsyncIterator[QuasarSimulator]:
    """A Quasar with a paused car at 50 %, on an ephemeral loopback port, time moved by tests.

    Autostart is off, as a previous remote controller leaves it, so the car waits and the
    charger reads its state of charge as 0 (unknown) until something starts a session.
    """
    sim = QuasarSimulator(manual_time=True, serial=SERIAL)
    sim.device.autostart = 0
    sim.plug_in(soc_pct=50.0)
    await sim.start()
    yield sim
    await sim.stop()


def price_attributes(now: datetime, *, with_tomorrow: bool = True) -> dict[str, Any]:
    """Return Nord Pool-sensor attributes with the recorded day on today (and tomorrow)."""
    values: list[float] = RECORDED_DAY["nok_per_kwh"]

    def entries(day_offset: int) -> list[dict[str, Any]]:
        day = now.astimezone(OSLO).date() + timedelta(days=day_offset)
        start = datetime(day.year, day.month, day.day, tzinfo=OSLO).astimezone(UTC)
        following = day + timedelta(days=1)
        end = datetime(following.year, following.month, following.day, tzinfo=OSLO).astimezone(UTC)
        count = int((end - start).total_seconds()) // 900
        return [
            {
                "start": (start + timedelta(minutes=15 * i)).astimezone(OSLO).isoformat(),
                "end": (start + timedelta(minutes=15 * (i + 1))).astimezone(OSLO).isoformat(),
                "value": values[i % len(values)],
            }
            for i in range(count)
        ]

    return {
        "raw_today": entries(0),
        "raw_tomorrow": entries(1) if with_tomorrow else [],
        "unit_of_measurement": "NOK/kWh",
        "currency": "NOK",
    }


@pytest.fixture
def price_sensor(hass: HomeAssistant) -> None:
    """Publish the recorded prices as a Nord Pool sensor."""
    hass.states.async_set(PRICE_SENSOR, "0.6", price_attributes(datetime.now(UTC)))


def entry_data(port: int) -> dict[str, Any]:
    """Return config-entry data for the simulator on `port`."""
    return {
        CONF_TRANSPORT: "modbus",
        CONF_HOST: "127.0.0.1",
        CONF_PORT: port,
        CONF_UNIT_ID: 1,
        CONF_AREA: "NO1",
        CONF_CURRENCY: "NOK",
        CONF_PRICE_SOURCE: "community_entity",
        CONF_PRICE_ENTITY: PRICE_SENSOR,
        CONF_PRICE_ENTITY_INCLUDES_VAT: False,
    }


@pytest.fixture
def mock_config_entry(simulator: QuasarSimulator) -> MockConfigEntry:
    """A config entry for the simulator."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Wallbox Quasar 123456",
        unique_id=str(SERIAL),
        data=entry_data(simulator.port),
        version=1,
        minor_version=1,
    )


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, price_sensor: None
) -> AsyncIterator[MockConfigEntry]:
    """Set up the integration and unload it at the end, so the charger is always handed back."""
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    yield mock_config_entry
    if mock_config_entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(mock_config_entry.entry_id)
        await hass.async_block_till_done()


@pytest.fixture
def quiet_quarter() -> Iterator[None]:
    """A clock a minute into a quarter-hour and ticking on, so that no quarter-hour step comes
    for 14 minutes and only the step under test can act. Ask for it before the entry is set up.

    It starts in the past: leaving it then moves the clock forward, which timers survive.
    """
    start = floor_to_slot(datetime.now(UTC)) - timedelta(minutes=14)
    with freeze_time(start, tick=True):
        yield
