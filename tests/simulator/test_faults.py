"""Fault injection: each switch makes the simulator misbehave like a real Quasar can."""

from __future__ import annotations

import asyncio

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException
import pytest

from quasar_simulator import ChargerStateCode, ExceptionCode, QuasarSimulator

from .conftest import RawClient, take_remote_control


async def test_hang_accepts_tcp_but_never_answers_then_recovers(
    raw: RawClient, simulator: QuasarSimulator
) -> None:
    """While hung a request times out on an open socket; cleared, the next request is answered."""
    simulator.faults.hang = True
    with pytest.raises(ModbusException):
        await raw.read(0x219, 1)
    assert simulator.client_count == 1
    simulator.faults.hang = False
    assert await raw.read(0x219, 1) == [0]


async def test_hang_does_not_feed_the_watchdog(raw: RawClient, simulator: QuasarSimulator) -> None:
    """Requests swallowed by a hung module are not traffic: the idle timeout still fires."""
    simulator.plug_in(50)
    await take_remote_control(raw)
    assert await raw.write(0x58, 30) is None
    assert await raw.write(0x104, 3000) is None
    assert await raw.write(0x101, 1) is None
    simulator.faults.hang = True
    simulator.advance(20)
    with pytest.raises(ModbusException):
        await raw.read(0x219, 1)
    simulator.advance(15)
    assert simulator.state is ChargerStateCode.PAUSED
    assert simulator.watchdog_trips == 1


async def test_drop_connections_closes_every_client(
    raw: RawClient, simulator: QuasarSimulator
) -> None:
    """Dropping closes the socket under the client; a reconnect is served again."""
    assert await raw.read(0x219, 1) == [0]
    simulator.drop_connections()
    for _ in range(50):
        if not raw.client.connected:
            break
        await asyncio.sleep(0.01)
    assert not raw.client.connected
    assert simulator.client_count == 0
    assert await raw.client.connect()
    assert await raw.read(0x219, 1) == [0]


@pytest.mark.parametrize(
    "code",
    [
        pytest.param(ExceptionCode.SERVER_DEVICE_FAILURE, id="device_failure"),
        pytest.param(ExceptionCode.SERVER_DEVICE_BUSY, id="busy"),
        pytest.param(ExceptionCode.ILLEGAL_FUNCTION, id="illegal_function"),
    ],
)
async def test_exception_code_answers_every_request(
    raw: RawClient, simulator: QuasarSimulator, code: ExceptionCode
) -> None:
    """Reads and writes both get the injected exception; nothing is written."""
    simulator.faults.exception_code = code
    assert await raw.read(0x200, 31) == int(code)
    assert await raw.write(0x51, 1) == int(code)
    simulator.faults.exception_code = None
    assert await raw.read(0x51, 1) == [0]


@pytest.mark.parametrize(
    ("address", "garbage"),
    [
        pytest.param(0x21A, 250, id="soc_250_pct"),
        pytest.param(0x219, 99, id="unknown_state"),
        pytest.param(0x20E, 0x8000, id="power_minus_32768"),
        pytest.param(0x21A, 0, id="soc_glitch_zero_while_charging"),
    ],
)
async def test_register_overrides_serve_garbage(
    raw: RawClient, simulator: QuasarSimulator, address: int, garbage: int
) -> None:
    """Overrides replace one word inside a block read; the rest stays true."""
    simulator.plug_in(40)
    simulator.faults.register_overrides[address] = garbage
    words = await raw.read(0x200, 31)
    assert isinstance(words, list)
    assert words[address - 0x200] == garbage
    assert words[0] == 32


async def test_short_response_is_well_formed_but_incomplete(
    raw: RawClient, simulator: QuasarSimulator
) -> None:
    """A partial answer carries fewer registers than asked for."""
    simulator.faults.short_responses = True
    words = await raw.read(0x200, 31)
    assert isinstance(words, list)
    assert len(words) == 15


async def test_malformed_response_fails_the_request(
    raw: RawClient, simulator: QuasarSimulator
) -> None:
    """A frame whose byte count lies cannot be decoded: the client sees an error, not data."""
    simulator.faults.malformed_responses = True
    with pytest.raises(ModbusException):
        await raw.read(0x200, 31)


async def test_reject_next_setpoint_is_one_shot(raw: RawClient, simulator: QuasarSimulator) -> None:
    """The next setpoint write is refused and not stored; the one after goes through."""
    await take_remote_control(raw)
    simulator.faults.reject_next_setpoint = True
    assert await raw.write(0x104, 3000) == int(ExceptionCode.ILLEGAL_DATA_VALUE)
    assert simulator.setpoint_w == 0
    assert await raw.write(0x104, 3000) is None
    assert simulator.setpoint_w == 3000


async def test_refuse_power_mode_gives_illegal_function(
    raw: RawClient, simulator: QuasarSimulator
) -> None:
    """Firmware without power mode refuses 0x53 with ILLEGAL_FUNCTION; current mode still works."""
    simulator.faults.refuse_power_mode = True
    simulator.plug_in(50)
    assert await raw.write(0x51, 1) is None
    assert await raw.write(0x53, 1) == int(ExceptionCode.ILLEGAL_FUNCTION)
    assert await raw.write(0x102, -8) is None
    assert await raw.write(0x101, 1) is None
    assert simulator.power_w == -8 * 230


async def test_grid_code_refuses_discharge(raw: RawClient, simulator: QuasarSimulator) -> None:
    """Without a grid code allowing it, negative setpoints are refused; positive ones pass."""
    simulator.discharge_allowed = False
    await take_remote_control(raw)
    assert await raw.write(0x104, -3000) == int(ExceptionCode.ILLEGAL_DATA_VALUE)
    assert await raw.write(0x104, 3000) is None


async def test_error_registers_are_served(raw: RawClient, simulator: QuasarSimulator) -> None:
    """Injected error words appear at 0x21B..0x21E."""
    simulator.set_error_codes((1, 2, 3, 0xFFFF))
    assert await raw.read(0x21B, 4) == [1, 2, 3, 0xFFFF]


async def test_restart_keeps_the_port_and_drops_clients(socket_enabled: None) -> None:
    """restart() listens again on the same port; reboot=True hands control back to the user."""
    simulator = QuasarSimulator(manual_time=True)
    port = await simulator.start()
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=0.5, retries=0)
    try:
        await client.connect()
        raw = RawClient(client)
        await take_remote_control(raw)
        await simulator.restart()
        assert simulator.port == port
        assert await client.connect()
        assert await raw.read(0x51, 1) == [1]
        await simulator.restart(reboot=True)
        assert simulator.port == port
        assert await client.connect()
        assert await raw.read(0x51, 3) == [0, 1, 0]
    finally:
        client.close()
        await simulator.stop()


async def test_drop_on_request_closes_without_answering(
    raw: RawClient, simulator: QuasarSimulator
) -> None:
    """A request arriving while drop_on_request is set closes the socket unanswered."""
    served = simulator.requests_served
    simulator.faults.drop_on_request = True
    with pytest.raises(ModbusException):
        await raw.read(0x219, 1)
    assert simulator.requests_served == served
    simulator.faults.drop_on_request = False
    assert await raw.client.connect()
    assert await raw.read(0x219, 1) == [0]
    assert simulator.requests_served == served + 1
