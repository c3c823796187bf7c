"""Control goes back to the charger whatever goes wrong: races, refusals, bad readings, our faults.

Each case runs against the Quasar simulator over real Modbus TCP and checks the charger's
own control register: USER means the charger runs itself again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.nordic_v2h.const import OperatingMode
from custom_components.nordic_v2h.controller import Decision, Reason, V2HController
from custom_components.nordic_v2h.transport import ChargerState
from quasar_simulator import QuasarSimulator, registers
from quasar_simulator.registers import ControlMode
from quasar_simulator.server import ExceptionCode

from .helpers import select_mode, simulator_clients_after_close

# The state-of-charge register; 250 % is no state of charge at all.
SOC_REGISTER = 0x021A
POLL_S = 5


async def _poll(hass: HomeAssistant, simulator: QuasarSimulator, polls: int) -> None:
    """Let the charger run and Home Assistant poll it `polls` times."""
    start = dt_util.utcnow()
    for poll in range(1, polls + 1):
        simulator.advance(POLL_S)
        async_fire_time_changed(hass, start + timedelta(seconds=POLL_S * poll + 1))
        await hass.async_block_till_done(wait_background_tasks=True)


async def _charging(hass: HomeAssistant, simulator: QuasarSimulator) -> None:
    """Put the car on Charge now, under our control."""
    await select_mode(hass, "charge_now")
    simulator.advance(1)
    assert simulator.control_mode is ControlMode.REMOTE
    assert simulator.power_w > 1000


def _hold_the_step(controller: V2HController) -> tuple[asyncio.Event, asyncio.Event]:
    """Make the next control step wait (as a long plan or a slow charger would) until released."""
    entered, gate = asyncio.Event(), asyncio.Event()

    async def slow_request(_state: ChargerState, _now: datetime) -> tuple[float, Reason]:
        entered.set()
        await gate.wait()
        return 3000.0, Reason.CHARGE_NOW

    controller._async_requested_power = slow_request  # type: ignore[method-assign]
    return entered, gate


async def _choose_off(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    await entry.runtime_data.controller.async_set_mode(OperatingMode.OFF)


async def _unload(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    ("end_control", "expected_decision"),
    [
        pytest.param(_choose_off, Decision.OFF, id="mode_off_while_a_step_plans"),
        # The held step still finishes (it charged for a moment); the release comes after it.
        pytest.param(_unload, Decision.CHARGE, id="unload_while_a_step_plans"),
    ],
)
async def test_a_running_step_cannot_take_control_after_it_ended(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: QuasarSimulator,
    end_control: Callable[[HomeAssistant, MockConfigEntry], Awaitable[None]],
    expected_decision: Decision,
) -> None:
    controller = init_integration.runtime_data.controller
    entered, gate = _hold_the_step(controller)
    step = hass.async_create_background_task(controller.async_refresh(), "held step")
    await entered.wait()
    ending = hass.async_create_background_task(end_control(hass, init_integration), "end")
    await asyncio.sleep(0.05)
    gate.set()
    await asyncio.gather(step, ending)
    await hass.async_block_till_done()
    assert simulator.control_mode is ControlMode.USER
    assert controller.data.decision is expected_decision


async def test_a_step_waiting_to_run_stays_off_after_home_assistant_stops(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: QuasarSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await _charging(hass, simulator)
    controller = init_integration.runtime_data.controller
    # Two triggers close together: the second waits in the refresh debouncer.
    controller.async_update_listeners()
    await controller.async_request_refresh()
    await controller.async_request_refresh()
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    assert simulator.control_mode is ControlMode.USER
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=11))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert simulator.control_mode is ControlMode.USER
    # Unloading after the stop (as the end of a shutdown does) is quiet.
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert not [record for record in caplog.records if record.levelname == "ERROR"]


async def test_a_refused_hand_back_is_tried_again(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: QuasarSimulator
) -> None:
    await _charging(hass, simulator)
    controller = init_integration.runtime_data.controller
    simulator.faults.exception_code = ExceptionCode.SERVER_DEVICE_FAILURE
    await select_mode(hass, "off")
    assert simulator.control_mode is ControlMode.REMOTE
    assert controller.data.reason is Reason.CHARGER_ERROR
    simulator.faults.exception_code = None
    await _poll(hass, simulator, 3)
    assert simulator.control_mode is ControlMode.USER
    assert controller.data.reason is Reason.MODE_OFF


def _answer_busy(simulator: QuasarSimulator) -> None:
    simulator.faults.exception_code = ExceptionCode.SERVER_DEVICE_BUSY


def _report_soc_250(simulator: QuasarSimulator) -> None:
    simulator.faults.register_overrides[SOC_REGISTER] = 250


def _answer_half_the_registers(simulator: QuasarSimulator) -> None:
    simulator.faults.short_responses = True


def _clear_faults(simulator: QuasarSimulator) -> None:
    simulator.faults.exception_code = None
    simulator.faults.register_overrides.clear()
    simulator.faults.short_responses = False


# Faults of the readings alone; the charger still takes commands.
BAD_READINGS = [
    pytest.param(_report_soc_250, id="state_of_charge_250"),
    pytest.param(_answer_half_the_registers, id="torn_read"),
]


@pytest.mark.parametrize(
    "bad_reading", [pytest.param(_answer_busy, id="busy_reply"), *BAD_READINGS]
)
async def test_a_single_bad_reading_keeps_the_last_command(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: QuasarSimulator,
    bad_reading: Callable[[QuasarSimulator], None],
) -> None:
    """One busy reply or torn read is no fault: the charger is not handed control for it."""
    await _charging(hass, simulator)
    controller = init_integration.runtime_data.controller
    written_w = controller.last_written_w
    assert written_w is not None
    assert written_w > 0
    bad_reading(simulator)
    # Two polls: the step after the first waits out the control step's debounce.
    await _poll(hass, simulator, 2)
    assert not init_integration.runtime_data.charger_coordinator.last_update_success
    assert simulator.control_mode is ControlMode.REMOTE
    assert controller.data.reason is Reason.CHARGER_READING_FAILED
    assert controller.data.decision is Decision.CHARGE
    assert controller.data.setpoint_w == written_w
    assert simulator.power_w > 1000
    _clear_faults(simulator)
    await _poll(hass, simulator, 2)
    assert simulator.control_mode is ControlMode.REMOTE
    assert controller.data.reason is Reason.CHARGE_NOW


async def test_control_is_taken_again_when_the_charger_leaves_it(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: QuasarSimulator
) -> None:
    """The charger goes back to its own control with the connection up (its app, or a
    firmware reset). The next reading says so, and the next step takes control again."""
    await _charging(hass, simulator)
    simulator.device.write(registers.CONTROL, int(ControlMode.USER))
    simulator.device.action = registers.Action.NONE
    simulator.device.power_setpoint_w = 0
    await init_integration.runtime_data.charger_coordinator.async_refresh()
    assert init_integration.runtime_data.charger_coordinator.data.remote_control is False
    await init_integration.runtime_data.controller.async_refresh()
    simulator.advance(1)
    assert simulator.control_mode is ControlMode.REMOTE
    assert simulator.power_w > 1000
    assert init_integration.runtime_data.controller.data.reason is Reason.CHARGE_NOW


async def _bad_readings_for_20_seconds(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    simulator: QuasarSimulator,
    bad_reading: Callable[[QuasarSimulator], None],
) -> None:
    """Make the readings go bad; two polls later, pretend the last good one is 20 s old (rather
    than wait for it), and poll on long enough for the hand-back."""
    bad_reading(simulator)
    await _poll(hass, simulator, 2)
    assert simulator.control_mode is ControlMode.REMOTE
    assert entry.runtime_data.controller.data.reason is Reason.CHARGER_READING_FAILED
    charger = entry.runtime_data.charger_coordinator
    assert charger.last_success_utc is not None
    charger.last_success_utc -= timedelta(seconds=20)
    await _poll(hass, simulator, 5)


@pytest.mark.parametrize("bad_reading", BAD_READINGS)
async def test_bad_readings_for_15_seconds_hand_control_back(
    hass: HomeAssistant,
    quiet_quarter: None,
    init_integration: MockConfigEntry,
    simulator: QuasarSimulator,
    bad_reading: Callable[[QuasarSimulator], None],
) -> None:
    """The charger still answers, so its own watchdog never trips: we must let go.

    A failing coordinator tells its listeners only of the first failure, so the hand-back
    comes from the controller's own timer, with nothing else happening.
    """
    await _charging(hass, simulator)
    controller = init_integration.runtime_data.controller
    await _bad_readings_for_20_seconds(hass, init_integration, simulator, bad_reading)
    assert simulator.control_mode is ControlMode.USER
    assert controller.data.reason is Reason.CHARGER_READINGS_INVALID
    assert controller.data.decision is Decision.OFF
    # Sensible readings again: Charge now takes control again.
    _clear_faults(simulator)
    await _poll(hass, simulator, 2)
    assert simulator.control_mode is ControlMode.REMOTE
    assert controller.data.reason is Reason.CHARGE_NOW


async def test_a_hand_back_refused_after_bad_readings_is_tried_again(
    hass: HomeAssistant,
    quiet_quarter: None,
    init_integration: MockConfigEntry,
    simulator: QuasarSimulator,
) -> None:
    """The failing charger notifies no one, so the controller itself comes back to try again."""
    await _charging(hass, simulator)
    controller = init_integration.runtime_data.controller
    _report_soc_250(simulator)
    await _bad_readings_for_20_seconds(hass, init_integration, simulator, _answer_busy)
    assert simulator.control_mode is ControlMode.REMOTE
    # The refusal shows as such, which in time raises the repair issue.
    assert controller.data.reason is Reason.CHARGER_ERROR
    # Commands are taken again; the readings still make no sense.
    simulator.faults.exception_code = None
    await _poll(hass, simulator, 3)
    assert simulator.control_mode is ControlMode.USER
    assert controller.data.reason is Reason.CHARGER_READINGS_INVALID


async def test_a_failure_while_a_step_runs_is_still_acted_on(
    hass: HomeAssistant,
    quiet_quarter: None,
    init_integration: MockConfigEntry,
    simulator: QuasarSimulator,
) -> None:
    """The charger's one notice of its failure can come while a step runs (and the refresh
    debouncer of Home Assistant 2025.4 drops it); the step looks again after it ends."""
    await _charging(hass, simulator)
    controller = init_integration.runtime_data.controller
    charger = init_integration.runtime_data.charger_coordinator
    entered, gate = _hold_the_step(controller)
    hass.async_create_background_task(controller.async_request_refresh(), "step")
    for _ in range(20):
        if entered.is_set():
            break
        # Past the debouncer's cooldown; the polls meanwhile are good.
        simulator.advance(POLL_S)
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=11))
        await asyncio.sleep(0.05)
    await asyncio.wait_for(entered.wait(), 5)
    _report_soc_250(simulator)
    await charger.async_refresh()
    assert not charger.last_update_success
    gate.set()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert simulator.control_mode is ControlMode.REMOTE
    assert charger.last_success_utc is not None
    charger.last_success_utc -= timedelta(seconds=20)
    await _poll(hass, simulator, 5)
    assert simulator.control_mode is ControlMode.USER
    assert controller.data.reason is Reason.CHARGER_READINGS_INVALID


async def test_a_fault_of_our_own_hands_control_back(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: QuasarSimulator
) -> None:
    await _charging(hass, simulator)
    controller = init_integration.runtime_data.controller
    with patch(
        "custom_components.nordic_v2h.controller.build_auto_plan",
        side_effect=ValueError("soc_pct out of range: 150"),
    ):
        await controller.async_set_mode(OperatingMode.AUTO)
        # The plan made at setup still stands; planning again fails.
        await controller.async_replan()
    simulator.advance(1)
    assert simulator.control_mode is ControlMode.USER
    assert controller.data.reason is Reason.CONTROL_FAILED
    assert controller.data.decision is Decision.OFF


async def test_a_write_lost_on_the_wire_is_no_refusal(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: QuasarSimulator
) -> None:
    """A dropped connection says the charger is unreachable; only a refusal is charger_error
    (which, after five minutes, raises the repair issue about a charger refusing control)."""
    await _charging(hass, simulator)
    simulator.faults.drop_on_request = True
    await select_mode(hass, "idle")
    controller = init_integration.runtime_data.controller
    assert controller.data.reason is Reason.CHARGER_UNREACHABLE


async def test_a_hand_back_lost_with_the_connection_is_no_refusal(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: QuasarSimulator
) -> None:
    """Mode Off with the charger gone: unreachable, not refusing, and tried again later."""
    await _charging(hass, simulator)
    controller = init_integration.runtime_data.controller
    simulator.faults.drop_on_request = True
    await select_mode(hass, "off")
    assert controller.data.reason is Reason.CHARGER_UNREACHABLE
    assert controller.in_control
    simulator.faults.drop_on_request = False
    await controller.async_refresh()
    assert simulator.control_mode is ControlMode.USER
    assert controller.data.reason is Reason.MODE_OFF


async def test_unload_goes_on_when_the_hand_back_fails_unexpectedly(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: QuasarSimulator,
) -> None:
    """An error of our own while handing back still unloads and closes the connection."""
    await _charging(hass, simulator)
    transport = init_integration.runtime_data.transport
    with patch.object(
        transport, "release_control", side_effect=RuntimeError("a fault in the hand-back")
    ):
        assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    assert await simulator_clients_after_close(simulator) == 0
