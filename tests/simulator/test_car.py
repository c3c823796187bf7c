"""The car model and the clock: SoC follows the delivered power, limits, delay, watchdog."""

from __future__ import annotations

import asyncio

import pytest

from quasar_simulator import Action, ChargerStateCode, QuasarSimulator

from .conftest import RawClient, take_remote_control


async def _start(raw: RawClient, setpoint_w: int) -> None:
    """Command a power setpoint and start, as the integration does."""
    await take_remote_control(raw)
    assert await raw.write(0x104, setpoint_w) is None
    assert await raw.write(0x101, 1) is None


@pytest.mark.parametrize(
    ("setpoint_w", "start_soc_pct", "expected_soc_pct"),
    [
        # 3 kW for 1 h = 3 kWh AC; 92 % reaches the 40 kWh battery: +6.9 points.
        pytest.param(3000, 50.0, 50.0 + 3 * 0.92 / 40 * 100, id="charge_3kw_one_hour"),
        # 3 kWh AC out of the car costs 3 / 0.92 kWh of battery: -8.15 points.
        pytest.param(-3000, 50.0, 50.0 - 3 / 0.92 / 40 * 100, id="discharge_3kw_one_hour"),
        pytest.param(7400, 95.0, 100.0, id="charge_stops_at_full"),
        pytest.param(-7400, 15.0, 10.0, id="discharge_stops_at_car_floor"),
    ],
)
async def test_soc_moves_with_delivered_power_through_losses(
    raw: RawClient,
    simulator: QuasarSimulator,
    setpoint_w: int,
    start_soc_pct: float,
    expected_soc_pct: float,
) -> None:
    """One simulated hour moves the SoC by the AC energy times (or divided by) 0.92, within limits."""
    simulator.plug_in(start_soc_pct)
    await _start(raw, setpoint_w)
    simulator.advance(3600)
    assert simulator.soc_pct == pytest.approx(expected_soc_pct, abs=0.01)


@pytest.mark.parametrize(
    ("setpoint_w", "start_soc_pct"),
    [
        pytest.param(3000, 99.9, id="full_car_takes_no_more"),
        pytest.param(-3000, 10.1, id="empty_car_gives_no_more"),
    ],
)
async def test_car_limits_end_the_power_flow(
    raw: RawClient, simulator: QuasarSimulator, setpoint_w: int, start_soc_pct: float
) -> None:
    """At 100 % or the car's floor the power drops to 0 and the SoC register reads 0."""
    simulator.plug_in(start_soc_pct)
    await _start(raw, setpoint_w)
    assert simulator.power_w == setpoint_w
    simulator.advance(600)
    assert simulator.power_w == 0
    assert simulator.state is ChargerStateCode.WAITING_FOR_CAR_DEMAND
    assert await raw.read(0x20E, 1) == [0]
    assert await raw.read(0x21A, 1) == [0]


async def test_reaction_delay_holds_power_until_it_passes(socket_enabled: None) -> None:
    """With a 10 s reaction delay the power changes only after 10 simulated seconds."""
    simulator = QuasarSimulator(manual_time=True, reaction_delay_s=10.0)
    simulator.plug_in(50)
    simulator.device.write(0x51, 1)
    simulator.device.write(0x52, 0)
    simulator.device.write(0x53, 1)
    simulator.device.write(0x104, 4000)
    simulator.device.write(0x101, 1)
    assert simulator.power_w == 0
    assert simulator.state is ChargerStateCode.WAITING_FOR_CAR_DEMAND
    simulator.advance(9.5)
    assert simulator.power_w == 0
    simulator.advance(0.5)
    assert simulator.power_w == 4000
    simulator.device.write(0x104, -2000)
    simulator.advance(5)
    assert simulator.power_w == 4000
    simulator.advance(5)
    assert simulator.power_w == -2000


@pytest.mark.parametrize(
    ("poll_every_s", "expect_stopped"),
    [
        pytest.param(None, True, id="silence_trips_the_watchdog"),
        pytest.param(20.0, False, id="traffic_at_a_third_of_timeout_keeps_it_alive"),
        pytest.param(59.0, False, id="traffic_just_inside_timeout_keeps_it_alive"),
    ],
)
async def test_idle_timeout_stops_the_car_without_traffic(
    raw: RawClient,
    simulator: QuasarSimulator,
    poll_every_s: float | None,
    expect_stopped: bool,
) -> None:
    """Armed at 60 s: 3 simulated minutes of silence stop (dis)charging; any request feeds it."""
    simulator.plug_in(50)
    await _start(raw, -3000)
    assert await raw.write(0x58, 60) is None
    elapsed_s = 0.0
    while elapsed_s < 180:
        step_s = poll_every_s if poll_every_s is not None else 180
        simulator.advance(step_s)
        elapsed_s += step_s
        if poll_every_s is not None:
            assert isinstance(await raw.read(0x219, 1), list)
    if expect_stopped:
        assert simulator.state is ChargerStateCode.PAUSED
        assert simulator.power_w == 0
        assert simulator.action is Action.STOP
        assert simulator.watchdog_trips == 1
    else:
        assert simulator.state is ChargerStateCode.DISCHARGING
        assert simulator.watchdog_trips == 0


async def test_disarmed_watchdog_never_trips(raw: RawClient, simulator: QuasarSimulator) -> None:
    """Idle timeout 0 means a silent client leaves the session running."""
    simulator.plug_in(50)
    await _start(raw, 2000)
    simulator.advance(600)
    assert simulator.state is ChargerStateCode.CHARGING
    assert simulator.watchdog_trips == 0


async def test_realtime_clock_advances_with_speed(socket_enabled: None) -> None:
    """In real-time mode a request brings simulated time forward by wall time times speed."""
    simulator = QuasarSimulator(speed=1000.0)
    await simulator.start()
    try:
        simulator.plug_in(50)
        simulator.device.write(0x51, 1)
        simulator.device.write(0x52, 0)
        simulator.device.write(0x53, 1)
        simulator.device.write(0x104, 7400)
        simulator.device.write(0x101, 1)
        before_s = simulator.now_s
        for _ in range(50):
            await asyncio.sleep(0.02)
            if simulator.now_s > before_s:
                break
        assert simulator.now_s > before_s
        assert simulator.soc_pct > 50
    finally:
        await simulator.stop()


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"capacity_kwh": 0}, id="zero_capacity"),
        pytest.param({"efficiency": 1.5}, id="efficiency_above_one"),
        pytest.param({"reaction_delay_s": -1}, id="negative_delay"),
        pytest.param({"speed": 0}, id="zero_speed"),
        pytest.param({"part_number": "X" * 13}, id="part_number_too_long"),
        pytest.param({"car_min_soc_pct": 100}, id="floor_at_full"),
    ],
)
def test_impossible_configuration_is_refused(kwargs: dict[str, float | str]) -> None:
    """Bad settings raise ValueError with a message, never a half-built simulator."""
    with pytest.raises(ValueError, match=r"\w"):
        QuasarSimulator(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "arg"),
    [
        pytest.param("plug_in", 101.0, id="soc_above_100"),
        pytest.param("plug_in", -1.0, id="soc_below_0"),
        pytest.param("advance", -1.0, id="time_backwards"),
    ],
)
def test_bad_car_and_clock_calls_are_refused(call: str, arg: float) -> None:
    """Plugging in at an impossible SoC or stepping back in time raises ValueError."""
    simulator = QuasarSimulator(manual_time=True)
    with pytest.raises(ValueError, match=r"\w"):
        getattr(simulator, call)(arg)
