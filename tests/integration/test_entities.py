"""Entity states and the operating modes, checked at the simulator's registers."""

from __future__ import annotations

from datetime import datetime, timedelta

from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from quasar_simulator import QuasarSimulator
from quasar_simulator.registers import Action, ChargerStateCode, ControlMode

from .conftest import PRICE_SENSOR, price_attributes
from .helpers import entity_id_for, select_mode
from .owner_helpers import call_entity_service


async def advance(hass: HomeAssistant, simulator: QuasarSimulator, seconds: float) -> None:
    """Move the simulator's clock and Home Assistant's by the same amount, polling in between."""
    simulator.advance(seconds)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))
    await hass.async_block_till_done(wait_background_tasks=True)


@pytest.mark.parametrize(
    ("platform", "key", "expected"),
    [
        pytest.param("sensor", "charger_state", "paused", id="state_paused_with_car_idle"),
        pytest.param("sensor", "charger_power", "0.0", id="power_zero_when_idle"),
        pytest.param("sensor", "soc", STATE_UNKNOWN, id="soc_unknown_not_zero_when_idle"),
        pytest.param("binary_sensor", "plugged_in", "on", id="car_plugged_in"),
        pytest.param("binary_sensor", "remote_control", "off", id="not_in_control_at_start"),
        pytest.param("select", "mode", "auto", id="mode_auto_by_default"),
    ],
)
async def test_initial_states(
    hass: HomeAssistant, init_integration: MockConfigEntry, platform: str, key: str, expected: str
) -> None:
    """Each entity shows the charger's real state right after setup."""
    assert hass.states.get(entity_id_for(hass, platform, key)).state == expected


async def test_car_charging_on_its_own_shows_its_soc(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: QuasarSimulator
) -> None:
    """A car that the charger starts by itself (autostart) shows as charging with a known SoC."""
    simulator.unplug()
    simulator.device.autostart = 1
    simulator.plug_in(soc_pct=62.0)
    await advance(hass, simulator, 10)
    assert hass.states.get(entity_id_for(hass, "sensor", "charger_state")).state == "charging"
    assert float(hass.states.get(entity_id_for(hass, "sensor", "soc")).state) == pytest.approx(
        62.0, abs=1.0
    )


async def test_spot_price_now_comes_from_the_price_source(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The spot price sensor shows the current quarter's recorded price in NOK/kWh."""
    state = hass.states.get(entity_id_for(hass, "sensor", "spot_price"))
    assert state.attributes["unit_of_measurement"] == "NOK/kWh"
    assert 0.4 < float(state.state) < 1.3


async def test_charge_now_reaches_the_charger_and_soc_becomes_known(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: QuasarSimulator
) -> None:
    """Charge now takes remote control, starts charging, and the SoC appears once the car charges."""
    await select_mode(hass, "charge_now")
    assert simulator.control_mode is ControlMode.REMOTE
    assert simulator.action is Action.START
    assert simulator.setpoint_w > 0 or simulator.setpoint_a > 0

    await advance(hass, simulator, 10)
    assert simulator.state is ChargerStateCode.CHARGING
    assert float(hass.states.get(entity_id_for(hass, "sensor", "soc")).state) >= 50
    assert float(hass.states.get(entity_id_for(hass, "sensor", "charger_power")).state) > 1000
    assert hass.states.get(entity_id_for(hass, "sensor", "decision")).state == "charge"


async def test_discharge_needs_a_known_soc(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: QuasarSimulator
) -> None:
    """With the SoC unknown the car is never discharged; once known it discharges to the house."""
    await select_mode(hass, "discharge")
    assert simulator.power_w == 0
    assert hass.states.get(entity_id_for(hass, "sensor", "decision_reason")).state == "soc_unknown"

    await select_mode(hass, "charge_now")
    await advance(hass, simulator, 10)
    await select_mode(hass, "discharge")
    await advance(hass, simulator, 10)
    assert simulator.state is ChargerStateCode.DISCHARGING
    assert simulator.power_w < 0
    assert hass.states.get(entity_id_for(hass, "sensor", "decision")).state == "discharge"


@pytest.mark.parametrize(
    ("mode", "control", "decision"),
    [
        pytest.param("idle", ControlMode.REMOTE, "idle", id="idle_keeps_control_and_stops"),
        pytest.param("off", ControlMode.USER, "off", id="off_hands_back"),
    ],
)
async def test_idle_and_off_after_charging(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: QuasarSimulator,
    mode: str,
    control: ControlMode,
    decision: str,
) -> None:
    """Idle stops the car under our control; Off gives the charger back."""
    await select_mode(hass, "charge_now")
    await advance(hass, simulator, 10)
    await select_mode(hass, mode)
    await advance(hass, simulator, 10)
    assert simulator.control_mode is control
    assert simulator.power_w == 0
    assert hass.states.get(entity_id_for(hass, "sensor", "decision")).state == decision


@pytest.mark.parametrize(
    ("price_now", "price_later", "expected_decision"),
    [
        pytest.param(3.0, 0.5, "idle", id="dear_now_waits_and_stops_the_autostarted_car"),
        pytest.param(0.1, 2.0, "charge", id="cheap_now_charges"),
    ],
)
async def test_auto_decides_by_price_and_stops_an_autostarted_car(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    simulator: QuasarSimulator,
    price_now: float,
    price_later: float,
    expected_decision: str,
) -> None:
    """In Auto the car charges in cheap quarters only; a session the charger started by itself is stopped."""
    now = dt_util.utcnow()
    attributes = price_attributes(now)
    for day in ("raw_today", "raw_tomorrow"):
        for entry in attributes[day]:
            start = datetime.fromisoformat(entry["start"])
            # The quarter now and the next one, so a quarter boundary during the test changes nothing.
            entry["value"] = (
                price_now
                if timedelta(0) <= now - start < timedelta(minutes=15)
                or timedelta(0) < start - now <= timedelta(minutes=15)
                else price_later
            )
    hass.states.async_set(PRICE_SENSOR, str(price_now), attributes)
    simulator.unplug()
    simulator.device.autostart = 1
    simulator.plug_in(soc_pct=60.0)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    # Departure twelve hours from now, whatever the time of day the test runs: shortly before
    # the default 07:00 the car must charge at any price to reach its target.
    departure = dt_util.as_local(now + timedelta(hours=12)).strftime("%H:%M:00")
    await call_entity_service(hass, "time", "departure_time", "set_value", {"time": departure})
    await advance(hass, simulator, 10)

    assert hass.states.get(entity_id_for(hass, "sensor", "decision")).state == expected_decision
    assert simulator.control_mode is ControlMode.REMOTE
    assert (simulator.power_w > 0) == (expected_decision == "charge")
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    await hass.async_block_till_done()


async def test_setpoint_sensor_is_disabled_until_the_owner_enables_it(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: QuasarSimulator
) -> None:
    """The diagnostic setpoint is registered but off; enabled, it shows what was written."""
    registry = er.async_get(hass)
    entity_id = entity_id_for(hass, "sensor", "setpoint")
    assert registry.async_get(entity_id).disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert hass.states.get(entity_id) is None

    registry.async_update_entity(entity_id, disabled_by=None)
    await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    await select_mode(hass, "charge_now")
    await advance(hass, simulator, 10)
    assert float(hass.states.get(entity_id).state) > 1000
