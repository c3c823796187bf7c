"""Fixtures: a running simulator on 127.0.0.1 and a thin pymodbus client for it."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from pymodbus.client import AsyncModbusTcpClient
import pytest

from quasar_simulator import QuasarSimulator

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


class RawClient:
    """pymodbus over TCP, returning registers or the exception code of a refused request."""

    def __init__(self, client: AsyncModbusTcpClient) -> None:
        self.client = client
        params = inspect.signature(client.read_holding_registers).parameters
        self.unit_kw = "device_id" if "device_id" in params else "slave"

    def _unit(self, unit_id: int = 1) -> dict[str, Any]:
        return {self.unit_kw: unit_id}

    async def read(self, address: int, count: int = 1, unit_id: int = 1) -> list[int] | int:
        """Return the registers, or the exception code."""
        response = await self.client.read_holding_registers(
            address, count=count, **self._unit(unit_id)
        )
        if response.isError():
            return int(response.exception_code)
        return list(response.registers)

    async def write(self, address: int, value: int) -> int | None:
        """Write one register (two's complement for negatives); None on success."""
        response = await self.client.write_register(address, value & 0xFFFF, **self._unit())
        return int(response.exception_code) if response.isError() else None

    async def write_many(self, address: int, values: list[int]) -> int | None:
        """Write with FC16; None on success."""
        response = await self.client.write_registers(
            address, [v & 0xFFFF for v in values], **self._unit()
        )
        return int(response.exception_code) if response.isError() else None


@pytest.fixture
async def simulator(socket_enabled: None) -> AsyncIterator[QuasarSimulator]:
    """A simulator on an ephemeral port with manual time (loopback sockets allowed)."""
    sim = QuasarSimulator(manual_time=True)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def raw(simulator: QuasarSimulator) -> AsyncIterator[RawClient]:
    """A connected pymodbus client with short timeouts and no retries."""
    client = AsyncModbusTcpClient("127.0.0.1", port=simulator.port, timeout=0.5, retries=0)
    await client.connect()
    assert client.connected
    yield RawClient(client)
    client.close()


async def take_remote_control(raw: RawClient, *, power_mode: bool = True) -> None:
    """Put the simulator under remote control the way the integration does."""
    assert await raw.write(0x51, 1) is None
    assert await raw.write(0x52, 0) is None
    assert await raw.write(0x53, 1 if power_mode else 0) is None
