"""Energy counters and time to target: integrated from the charger's power, restored after restarts."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from unittest.mock import patch

from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant, State
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    mock_restore_cache_with_extra_data,
)

from custom_components.nordic_v2h import sensor as sensor_module
from custom_components.nordic_v2h.sensor import time_to_target_min
from quasar_simulator import QuasarSimulator

from .helpers import entity_id_for, select_mode
from .owner_helpers import advance, state_of


@pytest.mark.parametrize(
    ("soc_pct", "target_soc_pct", "battery_kwh", "power_w", "expected"),
    [
        pytest.param(None, 80, 40, 7400, None, id="soc_unknown_is_unknown"),
        pytest.param(80, 80, 40, 7400, 0.0, id="at_target"),
        pytest.param(90, 80, 40, 7400, 0.0, id="above_target"),
        pytest.param(50, 80, 40, 0, None, id="no_charging_power"),
        pytest.param(50, 80, 40, 7360, 12 / (7.36 * 0.92) * 60, id="twelve_kwh_at_full_power"),
    ],
)
def test_time_to_target(
    soc_pct: float | None,
    target_soc_pct: float,
    battery_kwh: float,
    power_w: float,
    expected: float | None,
) -> None:
    """The minutes to the target at full power include the charging losses."""
    result = time_to_target_min(soc_pct, target_soc_pct, battery_kwh, power_w)
    assert result == (None if expected is None else pytest.approx(expected))


async def test_energy_counts_charging_and_discharging(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: QuasarSimulator
) -> None:
    """Charging adds to Energy charged only; discharging to Energy discharged only."""
    assert float(state_of(hass, "sensor", "energy_charged")) == 0.0
    # The counters read the wall clock; here it moves with the simulator, 5 s per poll.
    clock = [dt_util.utcnow()]
    with patch.object(sensor_module, "dt_util", SimpleNamespace(utcnow=lambda: clock[0])):

        async def poll(count: int) -> None:
            for _ in range(count):
                clock[0] += timedelta(seconds=5)
                await advance(hass, simulator, 5)

        await select_mode(hass, "charge_now")
        await poll(2)
        before = float(state_of(hass, "sensor", "energy_charged"))
        power_kw = float(state_of(hass, "sensor", "charger_power")) / 1000
        await poll(12)
        charged = float(state_of(hass, "sensor", "energy_charged")) - before
        # A minute at full power.
        assert charged == pytest.approx(power_kw / 60, rel=0.1)
        assert float(state_of(hass, "sensor", "energy_discharged")) == 0.0
        assert float(state_of(hass, "sensor", "time_to_target")) > 0

        total_charged = float(state_of(hass, "sensor", "energy_charged"))
        await select_mode(hass, "discharge")
        await poll(12)
        assert float(state_of(hass, "sensor", "energy_discharged")) > 0
        assert float(state_of(hass, "sensor", "energy_charged")) >= total_charged
    state = hass.states.get(entity_id_for(hass, "sensor", "energy_charged"))
    assert state.attributes["state_class"] == "total_increasing"
    assert state.attributes["unit_of_measurement"] == "kWh"
    assert state.attributes["device_class"] == "energy"


async def test_time_to_target_unknown_without_soc(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Before the car reports its state of charge the time to target is unknown, not zero."""
    assert state_of(hass, "sensor", "time_to_target") == STATE_UNKNOWN


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        pytest.param(12.5, 12.5, id="total_restored"),
        pytest.param("garbage", 0.0, id="bad_total_starts_at_zero"),
    ],
)
async def test_energy_total_restored(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    price_sensor: None,
    stored: object,
    expected: float,
) -> None:
    """The counter continues from its last value after a restart."""
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State("sensor.wallbox_quasar_energy_charged", str(stored)),
                {"native_value": stored, "native_unit_of_measurement": "kWh"},
            )
        ],
    )
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert float(state_of(hass, "sensor", "energy_charged")) == expected
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
