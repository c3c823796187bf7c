"""Fixtures: the Quasar simulator on 127.0.0.1 and a Modbus transport with short timeouts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from custom_components.nordic_v2h.transport.modbus import ModbusChargerTransport
from quasar_simulator import QuasarSimulator

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

# Short enough to keep the fault tests fast, long enough for a loaded 2-core machine.
TIMEOUT_S = 0.3


class FakeClock:
    """A monotonic clock the test moves by hand (for SoC age and reconnect backoff)."""

    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture
async def simulator(socket_enabled: None) -> AsyncIterator[QuasarSimulator]:
    """A simulator with a car at 50 % on an ephemeral port, time moved by the test."""
    sim = QuasarSimulator(manual_time=True)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
def clock() -> FakeClock:
    """A hand-moved clock."""
    return FakeClock()


@pytest.fixture
async def transport(
    simulator: QuasarSimulator, clock: FakeClock
) -> AsyncIterator[ModbusChargerTransport]:
    """A transport to the simulator: no request pacing, no backoff, short timeouts."""
    charger = ModbusChargerTransport(
        host="127.0.0.1",
        port=simulator.port,
        timeout_s=TIMEOUT_S,
        min_request_interval_s=0.0,
        reconnect_backoff_s=0.0,
        clock=clock,
    )
    await charger.connect()
    yield charger
    await charger.close()
