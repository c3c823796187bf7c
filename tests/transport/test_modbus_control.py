"""Taking control, commanding power, the watchdog and handing back, against the simulator."""

from __future__ import annotations

import asyncio
import time

import pymodbus
import pytest

from custom_components.nordic_v2h.transport import ChargerStatus, SetpointMode
from custom_components.nordic_v2h.transport.modbus import UNIT_KEYWORD, ModbusChargerTransport
from quasar_simulator import Action, ChargerStateCode, ControlMode, QuasarSimulator, SetpointType

from .conftest import TIMEOUT_S


def test_unit_keyword_matches_installed_pymodbus() -> None:
    """pymodbus before 3.10 takes `slave=`, later versions `device_id=`; detected once."""
    major, minor = (int(part) for part in pymodbus.__version__.split(".")[:2])
    assert ("device_id" if (major, minor) >= (3, 10) else "slave") == UNIT_KEYWORD


async def test_identify_reads_serial_part_number_firmware_and_limits(
    transport: ModbusChargerTransport,
) -> None:
    """Serial from 0x02/0x03, part number from 0x04..0x09, limits from 0x200/0x202."""
    identity = await transport.identify()
    assert identity.serial == "123456"
    assert identity.manufacturer == "Wallbox"
    assert identity.model == "Quasar"
    assert identity.part_number == "QSX1B0E00000"
    assert identity.firmware == str(0x0605)
    capabilities = transport.capabilities
    assert capabilities.can_discharge
    assert capabilities.min_power_w == 1380
    # 32 A at 230 V is below the 7400 W the power register allows.
    assert capabilities.max_charge_power_w == 7360
    assert capabilities.max_discharge_power_w == 7360
    assert capabilities.watchdog_s == 60
    assert transport.identity == identity


async def test_identify_follows_a_lower_installation_limit(socket_enabled: None) -> None:
    """A charger installed for 16 A reports 3680 W as its maximum in both directions."""
    simulator = QuasarSimulator(manual_time=True, max_current_a=16, max_power_w=3700)
    port = await simulator.start()
    transport = ModbusChargerTransport(host="127.0.0.1", port=port, min_request_interval_s=0)
    try:
        await transport.identify()
        assert transport.capabilities.max_charge_power_w == 16 * 230
        assert transport.capabilities.max_discharge_power_w == 16 * 230
    finally:
        await transport.close()
        await simulator.stop()


async def test_take_control_writes_the_v2h_sequence(
    transport: ModbusChargerTransport, simulator: QuasarSimulator
) -> None:
    """Control remote, autostart off, power setpoints, idle timeout armed at 60 s."""
    await transport.take_control()
    assert simulator.control_mode is ControlMode.REMOTE
    assert simulator.autostart == 0
    assert simulator.setpoint_type is SetpointType.POWER
    assert simulator.idle_timeout_s == 60
    assert transport.control_taken
    assert transport.setpoint_mode is SetpointMode.POWER


@pytest.mark.parametrize(
    ("power_w", "state", "action", "expected_power_w"),
    [
        pytest.param(3000, ChargerStateCode.CHARGING, Action.START, 3000, id="charge_3_kw"),
        pytest.param(-4500, ChargerStateCode.DISCHARGING, Action.START, -4500, id="discharge"),
        pytest.param(1380, ChargerStateCode.CHARGING, Action.START, 1380, id="minimum_charge"),
        pytest.param(-7360, ChargerStateCode.DISCHARGING, Action.START, -7360, id="max_out"),
        pytest.param(0, ChargerStateCode.PAUSED, Action.STOP, 0, id="zero_stops"),
    ],
)
async def test_set_power_commands_setpoint_and_action(
    transport: ModbusChargerTransport,
    simulator: QuasarSimulator,
    power_w: int,
    state: ChargerStateCode,
    action: Action,
    expected_power_w: int,
) -> None:
    """Non-zero: setpoint then start (negative discharges). Zero: stop and setpoint 0."""
    simulator.plug_in(50)
    await transport.take_control()
    await transport.set_power(2000)
    await transport.set_power(power_w)
    assert simulator.setpoint_w == power_w
    assert simulator.action is action
    assert simulator.state is state
    assert simulator.power_w == expected_power_w
    reading = await transport.read_state()
    assert reading.setpoint_w == power_w
    assert reading.power_w == expected_power_w
    assert reading.remote_control


async def test_set_power_takes_control_when_not_yet_taken(
    transport: ModbusChargerTransport, simulator: QuasarSimulator
) -> None:
    """A setpoint without take_control first still works: control is asserted before it."""
    simulator.plug_in(50)
    await transport.set_power(-2000)
    assert simulator.control_mode is ControlMode.REMOTE
    assert simulator.state is ChargerStateCode.DISCHARGING


@pytest.mark.parametrize(
    ("power_w", "expected_a"),
    [
        pytest.param(-3000, -13, id="discharge_3000_w_is_13_a"),
        pytest.param(2300, 10, id="charge_2300_w_is_10_a"),
        pytest.param(1380, 6, id="minimum_is_6_a"),
        pytest.param(7360, 32, id="maximum_is_32_a"),
    ],
)
async def test_power_mode_refused_falls_back_to_current(
    transport: ModbusChargerTransport,
    simulator: QuasarSimulator,
    power_w: int,
    expected_a: int,
) -> None:
    """Firmware answering ILLEGAL_FUNCTION on 0x53 gets amps = round(W / 230 V) at 0x102."""
    simulator.faults.refuse_power_mode = True
    simulator.plug_in(50)
    await transport.take_control()
    assert transport.setpoint_mode is SetpointMode.CURRENT
    assert transport.capabilities.setpoint_mode is SetpointMode.CURRENT
    await transport.set_power(power_w)
    assert simulator.setpoint_a == expected_a
    assert simulator.setpoint_w == 0
    assert simulator.power_w == expected_a * 230
    reading = await transport.read_state()
    assert reading.setpoint_w == expected_a * 230


async def test_readings_keep_the_watchdog_fed_and_silence_stops_the_car(
    transport: ModbusChargerTransport, simulator: QuasarSimulator
) -> None:
    """With the idle timeout armed at 60 s, a reading every 30 s keeps a discharge running
    for 10 simulated minutes; 61 s of silence then stops it in the charger."""
    simulator.plug_in(80)
    await transport.take_control()
    await transport.set_power(-3000)
    assert simulator.idle_timeout_s == 60
    for _ in range(20):
        simulator.advance(30)
        await transport.read_state()
    assert simulator.state is ChargerStateCode.DISCHARGING
    assert simulator.watchdog_trips == 0
    simulator.advance(61)
    assert simulator.state is ChargerStateCode.PAUSED
    assert simulator.power_w == 0
    assert simulator.watchdog_trips == 1


async def test_release_control_hands_back(
    transport: ModbusChargerTransport, simulator: QuasarSimulator
) -> None:
    """Stop, setpoint 0, control 0: the charger is back to factory behaviour (autostart on,
    current mode, watchdog off) and nothing is restored after a reconnect."""
    simulator.plug_in(50)
    await transport.set_power(-3000)
    await transport.release_control()
    assert simulator.control_mode is ControlMode.USER
    assert simulator.action is Action.STOP
    assert simulator.setpoint_w == 0
    assert simulator.power_w == 0
    assert simulator.autostart == 1
    assert simulator.idle_timeout_s == 0
    assert not transport.control_taken
    assert transport.last_setpoint_w is None
    simulator.drop_connections()
    reading = await transport.read_state()
    assert not reading.remote_control
    assert simulator.control_mode is ControlMode.USER


async def test_close_leaves_control_untouched(
    transport: ModbusChargerTransport, simulator: QuasarSimulator
) -> None:
    """close() only closes the socket; the charger stays under remote control."""
    simulator.plug_in(50)
    await transport.set_power(2000)
    await transport.close()
    assert not transport.connected
    assert simulator.control_mode is ControlMode.REMOTE
    assert simulator.state is ChargerStateCode.CHARGING


async def test_concurrent_calls_are_serialised(
    transport: ModbusChargerTransport, simulator: QuasarSimulator
) -> None:
    """Ten overlapping reads and a command all succeed: one lock, one request at a time."""
    simulator.plug_in(50)
    results = await asyncio.gather(
        *(transport.read_state() for _ in range(10)), transport.set_power(2000)
    )
    assert all(r is None or r.plugged_in for r in results)
    assert simulator.state is ChargerStateCode.CHARGING
    assert simulator.client_count == 1


async def test_requests_are_paced(simulator: QuasarSimulator) -> None:
    """Requests are at least min_request_interval_s apart (read_state makes three)."""
    transport = ModbusChargerTransport(
        host="127.0.0.1", port=simulator.port, timeout_s=TIMEOUT_S, min_request_interval_s=0.05
    )
    try:
        await transport.read_state()
        started = time.monotonic()
        await transport.read_state()
        assert time.monotonic() - started >= 3 * 0.05 * 0.9
    finally:
        await transport.close()


async def test_read_state_reports_status_and_limits(
    transport: ModbusChargerTransport, simulator: QuasarSimulator
) -> None:
    """The state maps code 0 to disconnected and carries max power and error codes."""
    simulator.set_error_codes((0, 0, 0x0001, 0x0002))
    reading = await transport.read_state()
    assert reading.status is ChargerStatus.DISCONNECTED
    assert not reading.plugged_in
    assert reading.raw_state == 0
    assert reading.max_available_power_w == 7400
    assert reading.error_codes == (0x00010002,)


@pytest.mark.parametrize(
    ("operation", "requests"),
    [
        pytest.param("identify", 2, id="identify_reads_identity_and_limit_blocks"),
        pytest.param("read_state", 3, id="read_state_reads_three_blocks"),
        pytest.param("take_control", 4, id="take_control_writes_four_registers"),
    ],
)
async def test_block_reads_keep_requests_few(
    transport: ModbusChargerTransport,
    simulator: QuasarSimulator,
    operation: str,
    requests: int,
) -> None:
    """Like the real integrations: 0x200..0x21E, 0x51..0x58 and 0x100..0x104 as one read
    each, never across the unmapped gap."""
    await transport.take_control()
    served = simulator.requests_served
    await getattr(transport, operation)()
    assert simulator.requests_served - served == requests
