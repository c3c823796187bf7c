"""Register semantics of the simulated Quasar, read and written with pymodbus over TCP."""

from __future__ import annotations

import asyncio

import pytest

from quasar_simulator import ChargerStateCode, ControlMode, QuasarSimulator, SetpointType

from .conftest import RawClient, take_remote_control

ILLEGAL_FUNCTION = 1
ILLEGAL_ADDRESS = 2
ILLEGAL_VALUE = 3


async def test_identity_registers_decode_to_serial_part_number_and_firmware(
    raw: RawClient,
) -> None:
    """Serial is hi<<16|lo, the part number is 2 ASCII chars per word, firmware is non-zero."""
    words = await raw.read(0x01, 9)
    assert isinstance(words, list)
    assert words[0] == 0x0605
    assert (words[1] << 16) | words[2] == 123456
    part = b"".join(w.to_bytes(2, "big") for w in words[3:9]).rstrip(b"\0").decode()
    assert part == "QSX1B0E00000"


async def test_factory_defaults_are_user_control_autostart_current_mode(raw: RawClient) -> None:
    """A fresh unit is under user control, autostart on, current setpoints, watchdog off."""
    assert await raw.read(0x51, 8) == [0, 1, 0, 0, 0, 0, 0, 0]
    assert await raw.read(0x200, 3) == [32, 0, 7400]
    assert await raw.read(0x219, 2) == [int(ChargerStateCode.NO_CAR), 0]


@pytest.mark.parametrize(
    ("address", "count", "expected_ok"),
    [
        pytest.param(0x0001, 9, True, id="identity_block"),
        pytest.param(0x0051, 8, True, id="control_block_with_gaps"),
        pytest.param(0x0100, 5, True, id="command_block"),
        pytest.param(0x0200, 31, True, id="measurement_block_up_to_errors"),
        pytest.param(0x0000, 1, False, id="register_zero_unmapped"),
        pytest.param(0x0100, 10, False, id="across_the_gap_after_0x104"),
        pytest.param(0x0105, 1, False, id="inside_the_gap"),
        pytest.param(0x01FF, 2, False, id="into_measurements_from_the_gap"),
        pytest.param(0x0226, 1, False, id="past_the_measurements"),
        pytest.param(0x0050, 2, False, id="before_the_control_block"),
    ],
)
async def test_reads_outside_mapped_blocks_get_illegal_address(
    raw: RawClient, address: int, count: int, expected_ok: bool
) -> None:
    """Block reads inside a mapped block succeed; touching unmapped space is an exception."""
    result = await raw.read(address, count)
    if expected_ok:
        assert isinstance(result, list)
        assert len(result) == count
    else:
        assert result == ILLEGAL_ADDRESS


async def test_other_unit_id_is_refused(raw: RawClient) -> None:
    """The unit answers unit id 1 only; others get a gateway exception."""
    assert await raw.read(0x219, 1, unit_id=7) == 0x0B


@pytest.mark.parametrize(
    ("address", "value"),
    [
        pytest.param(0x52, 0, id="autostart"),
        pytest.param(0x53, 1, id="setpoint_type"),
        pytest.param(0x58, 60, id="idle_timeout"),
        pytest.param(0x101, 1, id="action_start"),
        pytest.param(0x102, 10, id="current_setpoint"),
        pytest.param(0x104, 3000, id="power_setpoint"),
    ],
)
async def test_settings_need_remote_control(
    raw: RawClient, simulator: QuasarSimulator, address: int, value: int
) -> None:
    """Under user control every setting but control and lock is refused and unchanged."""
    before = await raw.read(address, 1)
    assert await raw.write(address, value) == ILLEGAL_VALUE
    assert await raw.read(address, 1) == before
    assert simulator.control_mode is ControlMode.USER


@pytest.mark.parametrize(
    ("address", "value", "accepted"),
    [
        pytest.param(0x104, 3000, True, id="power_3000_w"),
        pytest.param(0x104, -3000, True, id="power_minus_3000_w_discharge"),
        pytest.param(0x104, 1380, True, id="power_at_minimum"),
        pytest.param(0x104, -1380, True, id="discharge_at_minimum"),
        pytest.param(0x104, 7400, True, id="power_at_maximum"),
        pytest.param(0x104, 0, True, id="power_zero"),
        pytest.param(0x104, 1379, False, id="power_below_minimum"),
        pytest.param(0x104, -500, False, id="discharge_below_minimum"),
        pytest.param(0x104, 7401, False, id="power_above_maximum"),
        pytest.param(0x104, -7401, False, id="discharge_above_maximum"),
        pytest.param(0x102, 6, True, id="current_at_minimum"),
        pytest.param(0x102, -32, True, id="discharge_current_at_maximum"),
        pytest.param(0x102, 5, False, id="current_below_minimum"),
        pytest.param(0x102, 33, False, id="current_above_maximum"),
        pytest.param(0x101, 9, False, id="unknown_action"),
        pytest.param(0x51, 2, False, id="control_out_of_range"),
        pytest.param(0x200, 16, False, id="max_current_read_only"),
        pytest.param(0x219, 1, False, id="state_read_only"),
    ],
)
async def test_setpoint_limits_like_the_real_charger(
    raw: RawClient, address: int, value: int, accepted: bool
) -> None:
    """Setpoints below 6 A / 1380 W or beyond 32 A / 7400 W are refused and not stored."""
    await take_remote_control(raw)
    before = await raw.read(address, 1)
    result = await raw.write(address, value)
    if accepted:
        assert result is None
        assert await raw.read(address, 1) == [value & 0xFFFF]
    else:
        assert result in (ILLEGAL_VALUE, ILLEGAL_ADDRESS)
        assert await raw.read(address, 1) == before


async def test_fc16_writes_are_accepted(raw: RawClient, simulator: QuasarSimulator) -> None:
    """Write-multiple works as well as write-single."""
    await take_remote_control(raw)
    assert await raw.write_many(0x104, [-2000]) is None
    assert simulator.setpoint_w == -2000


async def test_user_control_restores_defaults_and_stops(
    raw: RawClient, simulator: QuasarSimulator
) -> None:
    """Control=user resets autostart, setpoint type and idle timeout and stops the session."""
    simulator.plug_in(50)
    await take_remote_control(raw)
    assert await raw.write(0x58, 60) is None
    assert await raw.write(0x104, 3000) is None
    assert await raw.write(0x101, 1) is None
    assert simulator.state is ChargerStateCode.CHARGING
    assert await raw.write(0x51, 0) is None
    assert await raw.read(0x51, 8) == [0, 1, 0, 0, 0, 0, 0, 0]
    assert simulator.setpoint_type is SetpointType.CURRENT
    assert simulator.state is ChargerStateCode.PAUSED
    assert simulator.power_w == 0


@pytest.mark.parametrize(
    ("setpoint_w", "state", "power_register"),
    [
        pytest.param(3000, ChargerStateCode.CHARGING, 3000, id="charging_positive"),
        pytest.param(
            -4000, ChargerStateCode.DISCHARGING, -4000 & 0xFFFF, id="discharging_negative"
        ),
        pytest.param(0, ChargerStateCode.WAITING_FOR_CAR_DEMAND, 0, id="started_at_zero"),
    ],
)
async def test_start_sets_state_and_signed_power(
    raw: RawClient,
    simulator: QuasarSimulator,
    setpoint_w: int,
    state: ChargerStateCode,
    power_register: int,
) -> None:
    """Action start follows the setpoint's sign: state 1 or 11 and signed power at 0x20E."""
    simulator.plug_in(50)
    await take_remote_control(raw)
    assert await raw.write(0x104, setpoint_w) is None
    assert await raw.write(0x101, 1) is None
    words = await raw.read(0x200, 31)
    assert isinstance(words, list)
    assert words[0x19] == int(state)
    assert words[0x0E] == power_register
    assert words[0x1A] == (50 if setpoint_w else 0)


async def test_current_mode_power_is_amps_times_voltage(
    raw: RawClient, simulator: QuasarSimulator
) -> None:
    """In current mode the AC power is the current setpoint times 230 V."""
    simulator.plug_in(50)
    await take_remote_control(raw, power_mode=False)
    assert await raw.write(0x102, -10) is None
    assert await raw.write(0x101, 1) is None
    assert simulator.power_w == -2300
    assert await raw.read(0x207, 1) == [-10 & 0xFFFF]


async def test_soc_register_reads_zero_unless_power_flows(
    raw: RawClient, simulator: QuasarSimulator
) -> None:
    """The quirk: SoC is 0 when no car, when paused, and right after stop."""
    assert await raw.read(0x21A, 1) == [0]
    simulator.plug_in(63)
    await take_remote_control(raw)
    assert await raw.read(0x21A, 1) == [0]
    assert await raw.write(0x104, 2000) is None
    assert await raw.write(0x101, 1) is None
    assert await raw.read(0x21A, 1) == [63]
    assert await raw.write(0x101, 2) is None
    assert await raw.read(0x21A, 1) == [0]
    assert simulator.soc_pct == pytest.approx(63)


async def test_plug_in_with_autostart_charges_under_user_control(
    raw: RawClient, simulator: QuasarSimulator
) -> None:
    """Factory behaviour: a car plugged in under user control charges at the installation limit."""
    simulator.plug_in(30)
    assert simulator.state is ChargerStateCode.CHARGING
    assert simulator.power_w == 32 * 230
    simulator.unplug()
    assert await raw.read(0x219, 2) == [0, 0]


async def test_lock_without_car_reports_state_six(
    raw: RawClient, simulator: QuasarSimulator
) -> None:
    """Lock is writable under user control; no car plus lock is state 6."""
    assert await raw.write(0x100, 1) is None
    assert simulator.state is ChargerStateCode.NO_CAR_LOCKED


async def test_input_registers_are_not_served(raw: RawClient) -> None:
    """The Quasar has holding registers only: FC04 is an illegal function."""
    response = await raw.client.read_input_registers(0x219, count=1, **raw._unit())
    assert response.isError()
    assert response.exception_code == ILLEGAL_FUNCTION


@pytest.mark.parametrize(
    ("frame", "expect_answer"),
    [
        pytest.param(bytes.fromhex("0001 0000 0006 01 03 0219 0001"), True, id="valid_read"),
        pytest.param(bytes.fromhex("0001 0007 0006 01 03 0219 0001"), False, id="bad_protocol_id"),
        pytest.param(bytes.fromhex("0001 0000 0001 01"), False, id="length_too_short"),
        pytest.param(bytes.fromhex("0001 0000 0002 01 2b"), True, id="unknown_function"),
    ],
)
async def test_raw_frames(simulator: QuasarSimulator, frame: bytes, expect_answer: bool) -> None:
    """Well-formed MBAP frames get an answer (data or exception); broken headers close the socket."""
    reader, writer = await asyncio.open_connection("127.0.0.1", simulator.port)
    try:
        writer.write(frame)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(260), 2)
    finally:
        writer.close()
        await writer.wait_closed()
    if expect_answer:
        assert answer[:2] == frame[:2]
        assert len(answer) >= 9
    else:
        assert answer == b""
