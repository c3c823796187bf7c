"""SoC that reads 0 when idle: keep the last valid value with its age, never report 0 %."""

from __future__ import annotations

import pytest

from custom_components.nordic_v2h.transport.modbus import ModbusChargerTransport
from quasar_simulator import QuasarSimulator

from .conftest import FakeClock


async def test_soc_unknown_until_power_flows(
    transport: ModbusChargerTransport, simulator: QuasarSimulator
) -> None:
    """A car plugged in but idle reads 0 at 0x21A: the SoC is unknown (None), not 0 %."""
    simulator.plug_in(42)
    await transport.take_control()
    reading = await transport.read_state()
    assert reading.plugged_in
    assert simulator.soc_register == 0
    assert reading.soc_pct is None
    assert reading.soc_age_s is None


async def test_soc_kept_with_its_age_after_stopping(
    transport: ModbusChargerTransport, simulator: QuasarSimulator, clock: FakeClock
) -> None:
    """After a discharge stops the register reads 0; the last value is kept and ages."""
    simulator.plug_in(70)
    await transport.set_power(-3000)
    for _ in range(20):
        simulator.advance(30)
        await transport.read_state()
    reading = await transport.read_state()
    assert reading.soc_pct == round(simulator.soc_pct)
    assert reading.soc_age_s == 0
    await transport.set_power(0)
    clock.now_s += 120
    reading = await transport.read_state()
    assert simulator.soc_register == 0
    assert reading.soc_pct == round(simulator.soc_pct)
    assert reading.soc_age_s == 120


@pytest.mark.parametrize(
    ("power_w", "glitch"),
    [
        pytest.param(3000, 0, id="zero_while_charging"),
        pytest.param(3000, 1, id="one_while_charging"),
        pytest.param(-3000, 0, id="zero_while_discharging"),
        pytest.param(-3000, 1, id="one_while_discharging"),
    ],
)
async def test_glitch_readings_while_power_flows_are_ignored(
    transport: ModbusChargerTransport,
    simulator: QuasarSimulator,
    clock: FakeClock,
    power_w: int,
    glitch: int,
) -> None:
    """0 or 1 % while (dis)charging is a glitch: the previous value and its age stand."""
    simulator.plug_in(55)
    await transport.set_power(power_w)
    assert (await transport.read_state()).soc_pct == 55
    clock.now_s += 10
    simulator.faults.register_overrides[0x21A] = glitch
    reading = await transport.read_state()
    assert reading.soc_pct == 55
    assert reading.soc_age_s == 10


async def test_unplug_forgets_the_soc(
    transport: ModbusChargerTransport, simulator: QuasarSimulator
) -> None:
    """Another car may come next: after unplugging the SoC is unknown until it is read again."""
    simulator.plug_in(55)
    await transport.set_power(3000)
    assert (await transport.read_state()).soc_pct == 55
    simulator.unplug()
    reading = await transport.read_state()
    assert not reading.plugged_in
    assert reading.soc_pct is None
    simulator.plug_in(20)
    reading = await transport.read_state()
    assert reading.soc_pct is None
    assert reading.status.value == "paused"


async def test_soc_follows_a_real_change(
    transport: ModbusChargerTransport, simulator: QuasarSimulator
) -> None:
    """A plausible new value while charging replaces the old one (the model moves the SoC)."""
    simulator.plug_in(30)
    await transport.set_power(7360)
    assert (await transport.read_state()).soc_pct == 30
    for _ in range(120):
        simulator.advance(30)
        await transport.read_state()
    reading = await transport.read_state()
    assert reading.soc_pct == round(30 + 7.36 * 0.92 / 40 * 100)
