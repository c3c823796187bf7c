"""The fault table: the Modbus transport against a misbehaving Quasar simulator over TCP."""

from __future__ import annotations

import asyncio

import pytest

from custom_components.nordic_v2h.transport import (
    SetpointRejectedError,
    TransportConnectionError,
    TransportProtocolError,
    TransportTimeoutError,
)
from custom_components.nordic_v2h.transport.modbus import (
    ModbusChargerTransport,
    ModbusExceptionResponseError,
)
from quasar_simulator import ChargerStateCode, ControlMode, ExceptionCode, QuasarSimulator

from .conftest import TIMEOUT_S, FakeClock


async def _discharging(transport: ModbusChargerTransport, simulator: QuasarSimulator) -> None:
    """Bring the car to a 3 kW discharge under our control."""
    simulator.plug_in(60)
    await transport.take_control()
    await transport.set_power(-3000)
    assert simulator.state is ChargerStateCode.DISCHARGING


async def test_connection_dropped_mid_request_raises_then_reconnects_and_restores(
    transport: ModbusChargerTransport, simulator: QuasarSimulator
) -> None:
    """A socket closed mid-request is a TransportConnectionError; the next call reconnects
    and writes control and the last setpoint again."""
    await _discharging(transport, simulator)
    simulator.faults.drop_on_request = True
    with pytest.raises(TransportConnectionError) as caught:
        await transport.read_state()
    assert not isinstance(caught.value, TransportTimeoutError)
    simulator.faults.drop_on_request = False
    # The charger forgot us meanwhile (e.g. its Modbus module restarted).
    simulator.device.write(0x51, int(ControlMode.USER))
    state = await transport.read_state()
    assert simulator.control_mode is ControlMode.REMOTE
    assert simulator.setpoint_w == -3000
    assert state.remote_control
    assert simulator.state is ChargerStateCode.DISCHARGING


@pytest.mark.parametrize(
    "reboot",
    [
        pytest.param(False, id="modbus_server_restart_keeps_charger_state"),
        pytest.param(True, id="charger_reboot_resets_control_and_setpoint"),
    ],
)
async def test_server_restart_restores_setpoint_after_reconnect(
    transport: ModbusChargerTransport, simulator: QuasarSimulator, reboot: bool
) -> None:
    """After a restart on the same port the transport reconnects on its own, takes control
    again and re-sends the last setpoint, so the car discharges as commanded."""
    await _discharging(transport, simulator)
    await simulator.restart(reboot=reboot)
    if reboot:
        assert simulator.control_mode is ControlMode.USER
        assert simulator.setpoint_w == 0
    state = await transport.read_state()
    assert simulator.control_mode is ControlMode.REMOTE
    assert simulator.autostart == 0
    assert simulator.idle_timeout_s == 60
    assert simulator.setpoint_w == -3000
    assert simulator.state is ChargerStateCode.DISCHARGING
    assert state.setpoint_w == -3000
    assert transport.last_setpoint_w == -3000


async def test_server_down_raises_connection_error_with_backoff(
    simulator: QuasarSimulator, clock: FakeClock
) -> None:
    """With the charger gone, connecting fails; the next attempt waits out the backoff
    (failing fast meanwhile) and succeeds once the charger is back."""
    transport = ModbusChargerTransport(
        host="127.0.0.1",
        port=simulator.port,
        timeout_s=TIMEOUT_S,
        min_request_interval_s=0.0,
        reconnect_backoff_s=10.0,
        clock=clock,
    )
    port = simulator.port
    await simulator.stop()
    try:
        with pytest.raises(TransportConnectionError, match="cannot connect"):
            await transport.read_state()
        with pytest.raises(TransportConnectionError, match="next attempt in 10 s"):
            await transport.read_state()
        await simulator.start(port=port)
        clock.now_s += 5
        with pytest.raises(TransportConnectionError, match="next attempt in 5 s"):
            await transport.read_state()
        clock.now_s += 5
        state = await transport.read_state()
        assert not state.plugged_in
    finally:
        await transport.close()


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        pytest.param("read_state", ModbusExceptionResponseError, id="read_state_protocol_error"),
        pytest.param("identify", ModbusExceptionResponseError, id="identify_protocol_error"),
        pytest.param("take_control", SetpointRejectedError, id="take_control_rejected"),
        pytest.param("set_power", SetpointRejectedError, id="set_power_rejected"),
        pytest.param("release_control", SetpointRejectedError, id="release_control_rejected"),
    ],
)
async def test_exception_responses_map_to_protocol_or_rejection_errors(
    transport: ModbusChargerTransport,
    simulator: QuasarSimulator,
    operation: str,
    expected: type[Exception],
) -> None:
    """A charger answering with exception 4 makes reads fail with TransportProtocolError and
    commands with SetpointRejectedError; nothing counts as a timeout."""
    simulator.plug_in(50)
    await transport.take_control()
    simulator.faults.exception_code = ExceptionCode.SERVER_DEVICE_FAILURE
    call = getattr(transport, operation)
    with pytest.raises(expected):
        await (call(2000) if operation == "set_power" else call())
    assert transport.consecutive_timeouts == 0
    simulator.faults.exception_code = None
    assert (await transport.read_state()).plugged_in


async def test_hung_server_times_out_counts_and_recovers(
    transport: ModbusChargerTransport, simulator: QuasarSimulator
) -> None:
    """TCP open but no answers: each call raises TransportTimeoutError within the timeout, the
    consecutive count rises, and one answered request resets it to 0."""
    await _discharging(transport, simulator)
    simulator.faults.hang = True
    for expected_count in (1, 2, 3):
        with pytest.raises(TransportTimeoutError):
            await asyncio.wait_for(transport.read_state(), TIMEOUT_S * 10)
        assert transport.consecutive_timeouts == expected_count
    simulator.faults.hang = False
    state = await transport.read_state()
    assert transport.consecutive_timeouts == 0
    assert state.status.value == "discharging"
    assert simulator.setpoint_w == -3000


async def test_hung_server_is_also_detected_on_commands(
    transport: ModbusChargerTransport, simulator: QuasarSimulator
) -> None:
    """A set_power into a hung charger is a timeout, not a rejection; the intended setpoint
    is kept and applied once the charger answers again."""
    simulator.plug_in(50)
    await transport.take_control()
    simulator.faults.hang = True
    with pytest.raises(TransportTimeoutError):
        await transport.set_power(4000)
    assert transport.consecutive_timeouts == 1
    simulator.faults.hang = False
    await transport.read_state()
    assert simulator.setpoint_w == 4000
    assert simulator.state is ChargerStateCode.CHARGING


@pytest.mark.parametrize(
    ("address", "garbage"),
    [
        pytest.param(0x21A, 250, id="soc_250_pct"),
        pytest.param(0x219, 99, id="state_code_99"),
        pytest.param(0x219, 0xFFFF, id="state_all_ones"),
        pytest.param(0x20E, 0x8000, id="power_minus_32768_w"),
        pytest.param(0x20E, 9000, id="power_above_7400_w"),
        pytest.param(0x104, 0x8001, id="setpoint_out_of_range"),
        pytest.param(0x202, 0, id="max_power_zero"),
    ],
)
async def test_garbage_register_values_are_rejected_never_reported(
    transport: ModbusChargerTransport,
    simulator: QuasarSimulator,
    address: int,
    garbage: int,
) -> None:
    """An out-of-range value fails the read with TransportProtocolError naming the register;
    the SoC known before is not replaced and the next clean read works."""
    await _discharging(transport, simulator)
    before = await transport.read_state()
    assert before.soc_pct == 60
    simulator.faults.register_overrides[address] = garbage
    with pytest.raises(TransportProtocolError, match=f"0x{address:04X}|state code"):
        await transport.read_state()
    simulator.faults.register_overrides.clear()
    after = await transport.read_state()
    assert after.soc_pct == 60


@pytest.mark.parametrize(
    ("address", "garbage", "message"),
    [
        pytest.param(0x0002, 0, "no serial", id="serial_zero"),
        pytest.param(0x0200, 0, "0x0200", id="max_current_zero"),
        pytest.param(0x0202, 0xFFFF, "0x0202", id="max_power_garbage"),
    ],
)
async def test_garbage_identity_is_rejected(
    transport: ModbusChargerTransport,
    simulator: QuasarSimulator,
    address: int,
    garbage: int,
    message: str,
) -> None:
    """identify() refuses a serial of 0 and impossible limits with TransportProtocolError."""
    simulator.faults.register_overrides[address] = garbage
    if address == 0x0002:
        simulator.faults.register_overrides[0x0003] = 0
    with pytest.raises(TransportProtocolError, match=message):
        await transport.identify()


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        pytest.param("short_responses", TransportProtocolError, id="partial_response"),
        pytest.param("malformed_responses", TransportConnectionError, id="undecodable_frame"),
    ],
)
async def test_partial_and_malformed_frames_fail_cleanly(
    transport: ModbusChargerTransport,
    simulator: QuasarSimulator,
    fault: str,
    expected: type[Exception],
) -> None:
    """A frame with fewer registers than asked is a TransportProtocolError; a frame pymodbus
    cannot decode makes it drop the socket (a connection error). Both recover."""
    simulator.plug_in(50)
    setattr(simulator.faults, fault, True)
    with pytest.raises(expected):
        await transport.read_state()
    setattr(simulator.faults, fault, False)
    assert (await transport.read_state()).plugged_in


@pytest.mark.parametrize(
    ("power_w", "fault", "message"),
    [
        pytest.param(3000, "reject_next_setpoint", "refused by the charger", id="charger_refuses"),
        pytest.param(1000, None, "refused by the charger", id="below_6_a_minimum"),
        pytest.param(-500, None, "refused by the charger", id="discharge_below_minimum"),
        pytest.param(9000, None, "outside", id="beyond_register_range_not_sent"),
        pytest.param(-3000, "no_grid_code", "refused by the charger", id="discharge_not_allowed"),
    ],
)
async def test_rejected_setpoint_raises_and_keeps_the_previous_one(
    transport: ModbusChargerTransport,
    simulator: QuasarSimulator,
    power_w: int,
    fault: str | None,
    message: str,
) -> None:
    """A refused setpoint raises SetpointRejectedError; the charger and the transport keep
    the previous setpoint, and the charger keeps charging at it."""
    simulator.plug_in(50)
    await transport.set_power(2000)
    if fault == "reject_next_setpoint":
        simulator.faults.reject_next_setpoint = True
    elif fault == "no_grid_code":
        simulator.discharge_allowed = False
    with pytest.raises(SetpointRejectedError, match=message):
        await transport.set_power(power_w)
    assert transport.last_setpoint_w == 2000
    assert simulator.setpoint_w == 2000
    assert simulator.power_w == 2000


async def test_restored_setpoint_refused_is_reported_once(
    transport: ModbusChargerTransport, simulator: QuasarSimulator
) -> None:
    """If the charger refuses the setpoint re-sent after a reboot (here its grid code no
    longer allows discharge), the caller gets one SetpointRejectedError, then reads work
    and nothing is re-sent again."""
    await _discharging(transport, simulator)
    simulator.discharge_allowed = False
    await simulator.restart(reboot=True)
    with pytest.raises(SetpointRejectedError):
        await transport.read_state()
    assert transport.last_setpoint_w is None
    reading = await transport.read_state()
    assert reading.remote_control
    assert simulator.power_w == 0
