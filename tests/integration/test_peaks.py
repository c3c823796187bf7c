"""Peak tracking: the house meter integrated into hourly imports, daily peaks, storage and month change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory, StepTickTimeFactory, TickingDateTimeFactory
from homeassistant.core import HomeAssistant
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.nordic_v2h.peaks import PeakTracker
from quasar_simulator import QuasarSimulator

from .cost_helpers import HOUSE_SENSOR, set_house_power, setup_entry, tariff_entry
from .helpers import entity_id_for, select_mode
from .owner_helpers import state_of

# 10:00 in Oslo on a Tuesday in November (UTC+1).
START = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)

type Clock = FrozenDateTimeFactory | StepTickTimeFactory | TickingDateTimeFactory


@pytest.fixture
def freezer() -> Any:
    """A clock that starts frozen at START and keeps ticking, so the event loop's timers still run."""
    with freeze_time(START, tick=True) as clock:
        yield clock


async def move_to(hass: HomeAssistant, freezer: Clock, moment: datetime) -> None:
    """Move the clock to a moment and let every timer due by then run."""
    freezer.move_to(moment)
    async_fire_time_changed(hass, moment)
    await hass.async_block_till_done(wait_background_tasks=True)


async def play(hass: HomeAssistant, freezer: Clock, readings: list[tuple[float, str, str]]) -> None:
    """Publish readings at minutes after START: (minute, state, unit)."""
    for minute, value, unit in readings:
        await move_to(hass, freezer, START + timedelta(minutes=minute))
        set_house_power(hass, value, unit)
        await hass.async_block_till_done()


@pytest.mark.parametrize(
    ("readings", "expected_kwh"),
    [
        pytest.param([(0, "2000", "W")], 2.0, id="constant_2kw_for_an_hour"),
        pytest.param([(0, "2000", "W"), (30, "4000", "W")], 3.0, id="half_hour_each_time_weighted"),
        pytest.param([(0, "3.5", "kW")], 3.5, id="kilowatt_sensor_converted"),
        pytest.param(
            [(0, "4000", "W"), (15, "-2000", "W"), (45, "4000", "W")],
            2.0,
            id="export_counts_as_zero",
        ),
        pytest.param(
            [(0, "4000", "W"), (15, "unavailable", "W"), (45, "4000", "W")],
            2.0,
            id="unavailable_gap_not_counted",
        ),
        pytest.param(
            [(0, "4000", "W"), (30, "garbage", "W")], 2.0, id="non_numeric_reading_is_a_gap"
        ),
    ],
)
async def test_hour_integrates_house_sensor(
    hass: HomeAssistant,
    freezer: Clock,
    simulator: QuasarSimulator,
    readings: list[tuple[float, str, str]],
    expected_kwh: float,
) -> None:
    """Readings held until the next one give the hour's import; the hour closes on the hour."""
    freezer.move_to(START)
    set_house_power(hass, "0")
    entry = tariff_entry(simulator.port)
    await setup_entry(hass, entry, START)
    await play(hass, freezer, readings)
    await move_to(hass, freezer, START + timedelta(hours=1))

    tracker = entry.runtime_data.peak_tracker
    assert tracker is not None
    start_s = int(START.timestamp())
    assert tracker.hours_kwh[start_s] == pytest.approx(expected_kwh, abs=0.02)
    assert tracker.running_kwh == pytest.approx(0.0, abs=0.02)
    state = hass.states.get(entity_id_for(hass, "sensor", "peak_days_mean"))
    assert state is not None
    assert float(state.state) == pytest.approx(expected_kwh / 3, abs=0.02)
    assert state.attributes["peak_days"] == [
        {"date": "2026-11-10", "kw": pytest.approx(expected_kwh, abs=0.02)}
    ]
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    ("fuse_w", "meter", "expected_w", "expected_reason"),
    [
        pytest.param(11000, "reading", 5000, "main_fuse", id="meter_leaves_room_for_the_house"),
        pytest.param(
            11000,
            "unavailable",
            1380,
            "house_meter_not_reading",
            id="meter_unavailable_charges_at_the_minimum",
        ),
        pytest.param(11000, "back", 5000, "main_fuse", id="meter_back_gives_the_room_again"),
        pytest.param(
            None, "unavailable", 7360, "charge_now", id="without_a_fuse_limit_charges_fully"
        ),
        pytest.param(
            11000, "none", 7360, "charge_now", id="fuse_limit_without_a_house_sensor_is_unused"
        ),
    ],
)
async def test_main_fuse_needs_a_meter_reading(
    hass: HomeAssistant,
    freezer: Clock,
    simulator: QuasarSimulator,
    fuse_w: int | None,
    meter: str,
    expected_w: float,
    expected_reason: str,
) -> None:
    """Charging fills the room the meter shows under the fuse; with no reading, the minimum."""
    house_w = 6000.0
    freezer.move_to(START)
    set_house_power(hass, str(house_w))
    options = {} if fuse_w is None else {"main_fuse_import_w": fuse_w}
    entry = tariff_entry(simulator.port, options=options, house_sensor=meter != "none")
    await setup_entry(hass, entry, START)
    await select_mode(hass, "charge_now")
    moment = await polls_with_the_meter(hass, freezer, simulator, START, house_w, polls=3)
    if meter in ("unavailable", "back"):
        set_house_power(hass, "unavailable")
        moment = await settle(hass, freezer, simulator, moment)
    if meter == "back":
        # The meter reads again, the house and the car, after every poll.
        moment = await polls_with_the_meter(hass, freezer, simulator, moment, house_w, polls=4)
    await settle(hass, freezer, simulator, moment)

    assert simulator.power_w == pytest.approx(expected_w, abs=250)
    assert state_of(hass, "sensor", "decision_reason") == expected_reason
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    ("meter", "expected_w", "expected_reason"),
    [
        pytest.param("reading", -3000, "discharge_to_house", id="meter_reading_covers_the_house"),
        pytest.param(
            "unavailable", 0, "house_meter_not_reading", id="meter_unavailable_no_discharge"
        ),
        pytest.param("garbage", 0, "house_meter_not_reading", id="meter_not_a_number_no_discharge"),
        pytest.param("nan", 0, "house_meter_not_reading", id="meter_nan_no_discharge"),
    ],
)
async def test_discharge_to_house_needs_a_meter_reading(
    hass: HomeAssistant,
    freezer: Clock,
    simulator: QuasarSimulator,
    meter: str,
    expected_w: float,
    expected_reason: str,
) -> None:
    """Discharge to house covers what the meter shows; with no reading it exports nothing."""
    house_w = 3000.0
    freezer.move_to(START)
    set_house_power(hass, str(house_w))
    entry = tariff_entry(simulator.port)
    await setup_entry(hass, entry, START)
    # The Quasar tells the state of charge only while power flows: a short charge first.
    await select_mode(hass, "charge_now")
    moment = await polls_with_the_meter(hass, freezer, simulator, START, house_w, polls=2)
    await select_mode(hass, "discharge")
    moment = await polls_with_the_meter(hass, freezer, simulator, moment, house_w, polls=3)
    assert simulator.power_w == pytest.approx(-house_w, abs=250)
    if meter != "reading":
        set_house_power(hass, meter)
    await settle(hass, freezer, simulator, moment)

    assert simulator.power_w == pytest.approx(expected_w, abs=250)
    assert state_of(hass, "sensor", "decision_reason") == expected_reason
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    ("meter", "expected_w", "expected_reason"),
    [
        pytest.param("live", 5000, "main_fuse", id="live_meter_keeps_the_fuse_room"),
        pytest.param(
            "stuck", 1380, "house_meter_not_reading", id="stuck_meter_charges_at_the_minimum"
        ),
        pytest.param("stuck_then_live", 5000, "main_fuse", id="meter_moving_again_is_trusted"),
    ],
)
async def test_a_meter_stuck_on_its_last_value_counts_as_no_reading(
    hass: HomeAssistant,
    freezer: Clock,
    simulator: QuasarSimulator,
    meter: str,
    expected_w: float,
    expected_reason: str,
) -> None:
    """The car's 5 kW start must show on the whole-house meter; one stuck at 6 kW for five
    minutes after it is not trusted with the fuse any more."""
    house_w = 6000.0
    freezer.move_to(START)
    set_house_power(hass, str(house_w))
    entry = tariff_entry(simulator.port, options={"main_fuse_import_w": 11000})
    await setup_entry(hass, entry, START)
    await select_mode(hass, "charge_now")
    if meter == "live":
        moment = await polls_with_the_meter(hass, freezer, simulator, START, house_w, polls=3)
    else:
        # The meter keeps showing 6 kW. Trusted, it reads as the house making room for the
        # car, and the car goes to its full 7.4 kW: 13.4 kW under an 11 kW fuse.
        moment = await settle(hass, freezer, simulator, START)
        assert simulator.power_w == pytest.approx(7360, abs=250)
    moment = await settle(hass, freezer, simulator, moment + timedelta(minutes=5))
    if meter == "stuck_then_live":
        assert simulator.power_w == pytest.approx(1380, abs=250)
        moment = await polls_with_the_meter(hass, freezer, simulator, moment, house_w, polls=4)
    elif meter == "live":
        moment = await polls_with_the_meter(hass, freezer, simulator, moment, house_w, polls=2)
    await settle(hass, freezer, simulator, moment)

    assert simulator.power_w == pytest.approx(expected_w, abs=250)
    assert state_of(hass, "sensor", "decision_reason") == expected_reason
    assert entry.runtime_data.controller.house_meter_stuck is (meter == "stuck")
    await hass.config_entries.async_unload(entry.entry_id)


async def test_daily_peaks_take_each_days_highest_hour(
    hass: HomeAssistant, freezer: Clock, simulator: QuasarSimulator
) -> None:
    """Four days with different peaks: the three highest days make the mean, one hour per day counts."""
    freezer.move_to(START)
    set_house_power(hass, "0")
    entry = tariff_entry(simulator.port)
    await setup_entry(hass, entry, START)
    # (day offset, kW during 10:00-11:00 local, kW during 18:00-19:00 local)
    days = [(0, 3.0, 1.0), (1, 2.0, 5.0), (2, 4.0, 0.5), (3, 1.5, 2.5)]
    for offset, morning_kw, evening_kw in days:
        base = START + timedelta(days=offset)
        for hour, kw in ((0, morning_kw), (8, evening_kw)):
            await move_to(hass, freezer, base + timedelta(hours=hour))
            set_house_power(hass, str(kw * 1000))
            await hass.async_block_till_done()
            await move_to(hass, freezer, base + timedelta(hours=hour + 1))
            set_house_power(hass, "0")
            await hass.async_block_till_done()

    state = hass.states.get(entity_id_for(hass, "sensor", "peak_days_mean"))
    assert state is not None
    assert float(state.state) == pytest.approx((5.0 + 4.0 + 3.0) / 3, abs=0.02)
    assert [item["date"] for item in state.attributes["peak_days"]] == [
        "2026-11-11",
        "2026-11-12",
        "2026-11-10",
    ]
    tracker = entry.runtime_data.peak_tracker
    assert tracker is not None
    assert tracker.daily_peaks_kwh(START + timedelta(days=4)) == pytest.approx(
        {
            date(2026, 11, 10): 3.0,
            date(2026, 11, 11): 5.0,
            date(2026, 11, 12): 4.0,
            date(2026, 11, 13): 2.5,
        },
        abs=0.02,
    )
    await hass.config_entries.async_unload(entry.entry_id)


async def test_peaks_survive_a_reload(
    hass: HomeAssistant, freezer: Clock, simulator: QuasarSimulator
) -> None:
    """Finished hours and the running hour so far are stored and taken up again after a reload."""
    freezer.move_to(START)
    set_house_power(hass, "6000")
    entry = tariff_entry(simulator.port)
    await setup_entry(hass, entry, START)
    await move_to(hass, freezer, START + timedelta(hours=1, minutes=30))
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)

    tracker = entry.runtime_data.peak_tracker
    assert tracker is not None
    assert tracker.hours_kwh[int(START.timestamp())] == pytest.approx(6.0, abs=0.02)
    # Half of the second hour at 6 kW was counted before the reload.
    assert tracker.running_kwh == pytest.approx(3.0, abs=0.02)
    state = hass.states.get(entity_id_for(hass, "sensor", "peak_days_mean"))
    assert state is not None
    assert float(state.state) == pytest.approx(2.0, abs=0.02)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_month_change_resets_the_peaks(
    hass: HomeAssistant, freezer: Clock, simulator: QuasarSimulator
) -> None:
    """A new month starts with no peak days; last month's hours stay as forecast history."""
    evening = datetime(2026, 10, 31, 19, 0, tzinfo=UTC)  # 20:00 in Oslo
    freezer.move_to(evening)
    set_house_power(hass, "5000")
    entry = tariff_entry(simulator.port)
    await setup_entry(hass, entry, evening)
    await move_to(hass, freezer, evening + timedelta(hours=1))
    set_house_power(hass, "0")
    await hass.async_block_till_done()
    mean_id = entity_id_for(hass, "sensor", "peak_days_mean")
    assert float(hass.states.get(mean_id).state) == pytest.approx(5.0 / 3, abs=0.02)  # type: ignore[union-attr]
    tracker = entry.runtime_data.peak_tracker
    assert tracker is not None
    assert tracker.month_import_kwh(evening + timedelta(hours=1)) == pytest.approx(5.0, abs=0.02)

    november = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)  # 01:00 in Oslo on the 1st
    await move_to(hass, freezer, november)
    state = hass.states.get(mean_id)
    assert state is not None
    assert float(state.state) == 0.0
    # Only the first night hour of November, at 0 kW, is a peak day so far.
    assert all(item["kw"] == 0.0 for item in state.attributes["peak_days"])
    assert all(item["date"].startswith("2026-11") for item in state.attributes["peak_days"])
    # The new month's import starts from nothing.
    assert tracker.month_import_kwh(november) == 0.0
    assert tracker.hours_kwh[int(evening.timestamp())] == pytest.approx(5.0, abs=0.02)
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    ("house_sensor", "company", "present", "absent"),
    [
        pytest.param(
            True,
            "Elvia",
            [
                "peak_days_mean",
                "capacity_step",
                "capacity_headroom",
                "projected_hour_import",
                "all_in_price",
            ],
            [],
            id="tariff_and_meter_give_every_sensor",
        ),
        pytest.param(
            False,
            "Elvia",
            ["all_in_price", "all_in_price_next_hour", "planned_power"],
            [
                "peak_days_mean",
                "capacity_step",
                "capacity_step_cost",
                "capacity_headroom",
                "projected_hour_import",
            ],
            id="no_meter_no_peak_sensors",
        ),
        pytest.param(
            True,
            None,
            ["peak_days_mean", "projected_hour_import", "planned_power"],
            ["all_in_price", "capacity_step", "capacity_step_cost", "capacity_headroom"],
            id="no_tariff_no_price_or_step_sensors",
        ),
    ],
)
async def test_sensors_follow_the_inputs(
    hass: HomeAssistant,
    simulator: QuasarSimulator,
    house_sensor: bool,
    company: str | None,
    present: list[str],
    absent: list[str],
) -> None:
    """Entities exist only where the entry has the inputs to compute them."""
    set_house_power(hass, "1500")
    entry = tariff_entry(simulator.port, company=company, house_sensor=house_sensor)
    await setup_entry(hass, entry, datetime.now(UTC))
    for key in present:
        entity_id_for(hass, "sensor", key)
    from homeassistant.helpers import entity_registry as er  # noqa: PLC0415

    registry = er.async_get(hass)
    for key in absent:
        assert registry.async_get_entity_id("sensor", "nordic_v2h", f"123456_{key}") is None, key
    await hass.config_entries.async_unload(entry.entry_id)


# (minute after START, house meter W or None to keep, car W or None for unknown, plugged in)
type CarReading = tuple[float, float | None, float | None, bool | None]


@pytest.mark.parametrize(
    ("readings", "import_kwh", "house_kwh", "car_kwh", "plugged_in"),
    [
        pytest.param(
            [(0, 9000.0, 7000.0, True)], 9.0, 2.0, 7.0, True, id="charging_car_is_not_house_load"
        ),
        pytest.param(
            [(0, 500.0, -4000.0, True)], 0.5, 4.5, -4.0, True, id="v2h_discharge_is_house_load"
        ),
        pytest.param(
            [(0, -1000.0, -5000.0, True)], 0.0, 4.0, -5.0, True, id="exporting_v2h_counts_house"
        ),
        pytest.param(
            [(0, 6000.0, None, None)], 6.0, 6.0, None, True, id="charger_unknown_whole_meter_home"
        ),
        pytest.param([(0, 3000.0, 0.0, False)], 3.0, 3.0, 0.0, False, id="unplugged_car_is_away"),
        pytest.param(
            [(0, 9000.0, 7000.0, True), (30, 2000.0, 0.0, False)],
            5.5,
            2.0,
            3.5,
            True,
            id="left_after_half_an_hour_was_home",
        ),
    ],
)
async def test_house_load_is_the_meter_minus_the_car(
    hass: HomeAssistant,
    freezer: Clock,
    readings: list[CarReading],
    import_kwh: float,
    house_kwh: float,
    car_kwh: float | None,
    plugged_in: bool,
) -> None:
    """The forecast's history is the house without the car; the capacity peaks are the meter's."""
    freezer.move_to(START)
    set_house_power(hass, "0")
    tracker = PeakTracker(hass, "an_entry", HOUSE_SENSOR)
    await tracker.async_start()
    for minute, meter_w, car_w, plugged in readings:
        moment = START + timedelta(minutes=minute)
        await move_to(hass, freezer, moment)
        tracker.hold_car(car_w, plugged, moment)
        if meter_w is not None:
            set_house_power(hass, str(meter_w))
            await hass.async_block_till_done()
    next_hour = START + timedelta(hours=1)
    await move_to(hass, freezer, next_hour)

    hour_s = int(START.timestamp())
    assert tracker.hours_kwh[hour_s] == pytest.approx(import_kwh, abs=0.01)
    assert tracker.history_kw(next_hour, 1)[0] == pytest.approx(house_kwh, abs=0.01)
    assert tracker.presence(next_hour, 1).tolist() == [plugged_in]
    car = tracker.car_kwh(next_hour, 1)[0]
    if car_kwh is None:
        assert np.isnan(car)
    else:
        assert car == pytest.approx(car_kwh, abs=0.01)
    await tracker.async_stop()


async def polls_with_the_meter(
    hass: HomeAssistant,
    freezer: Clock,
    simulator: QuasarSimulator,
    moment: datetime,
    house_w: float,
    *,
    polls: int,
) -> datetime:
    """Poll the charger every 5 s; after each poll the meter reads the house plus the car."""
    for _ in range(polls):
        moment += timedelta(seconds=5)
        await poll(hass, freezer, simulator, moment)
        set_house_power(hass, str(house_w + simulator.power_w))
        await hass.async_block_till_done()
    return moment


async def settle(
    hass: HomeAssistant, freezer: Clock, simulator: QuasarSimulator, moment: datetime
) -> datetime:
    """Poll four times, 5 s apart: steps run at most every ten seconds (the refresh debouncer)."""
    await hass.async_block_till_done()
    for _ in range(4):
        moment += timedelta(seconds=5)
        await poll(hass, freezer, simulator, moment)
    return moment


async def poll(
    hass: HomeAssistant, freezer: Clock, simulator: QuasarSimulator, at: datetime
) -> None:
    """Let the charger act on what it was told, then move both clocks so that it is read."""
    simulator.advance(5)
    await move_to(hass, freezer, at)


async def test_charger_readings_reach_the_tracker(
    hass: HomeAssistant, freezer: Clock, simulator: QuasarSimulator
) -> None:
    """Charging shows as the car's, not the house's, and an unplugged hour counts as away."""
    freezer.move_to(START)
    set_house_power(hass, "2000")
    entry = tariff_entry(simulator.port)
    await setup_entry(hass, entry, START)
    await select_mode(hass, "charge_now")
    for seconds in (5, 10, 15):
        await poll(hass, freezer, simulator, START + timedelta(seconds=seconds))
    car_w = float(state_of(hass, "sensor", "charger_power"))
    assert car_w > 1000
    set_house_power(hass, str(2000 + car_w))
    await hass.async_block_till_done()
    await poll(hass, freezer, simulator, START + timedelta(hours=1))
    await poll(hass, freezer, simulator, START + timedelta(hours=2))
    simulator.unplug()
    set_house_power(hass, "2000")
    await poll(hass, freezer, simulator, START + timedelta(hours=2, seconds=5))
    await poll(hass, freezer, simulator, START + timedelta(hours=3))
    await poll(hass, freezer, simulator, START + timedelta(hours=4))

    tracker = entry.runtime_data.peak_tracker
    assert tracker is not None
    now = START + timedelta(hours=4)
    # The hours from START+1h to START+4h: charging, unplugged after a poll (5 s), away.
    assert tracker.history_kw(now, 3) == pytest.approx([2.0, 2.0, 2.0], abs=0.01)
    assert tracker.car_kwh(now, 3) == pytest.approx(
        [car_w / 1000, car_w / 1000 * 5 / 3600, 0.0], abs=0.005
    )
    assert tracker.presence(now, 3).tolist() == [True, True, False]
    assert tracker.hours_kwh[int((START + timedelta(hours=1)).timestamp())] == pytest.approx(
        2.0 + car_w / 1000, abs=0.01
    )
    await hass.config_entries.async_unload(entry.entry_id)


async def test_car_and_house_hours_survive_a_restart(hass: HomeAssistant, freezer: Clock) -> None:
    """Every series is stored with its running hour; a store from before them keeps the meter."""
    freezer.move_to(START)
    set_house_power(hass, "9000")
    tracker = PeakTracker(hass, "an_entry", HOUSE_SENSOR)
    await tracker.async_start()
    tracker.hold_car(7000.0, True, START)
    await move_to(hass, freezer, START + timedelta(hours=1, minutes=30))
    await tracker.async_stop()

    restarted = PeakTracker(hass, "an_entry", HOUSE_SENSOR)
    await restarted.async_start()
    restarted.hold_car(7000.0, True, START + timedelta(hours=1, minutes=30))
    await move_to(hass, freezer, START + timedelta(hours=2))
    now = START + timedelta(hours=2)
    assert restarted.history_kw(now, 2) == pytest.approx([2.0, 2.0], abs=0.01)
    assert restarted.car_kwh(now, 2) == pytest.approx([7.0, 7.0], abs=0.01)
    assert restarted.presence(now, 2).tolist() == [True, True]
    await restarted.async_stop()


async def test_a_store_without_car_hours_reads_the_meter(
    hass: HomeAssistant, freezer: Clock, hass_storage: dict[str, Any]
) -> None:
    """Hours stored before the car was counted are the house's best estimate: the whole meter."""
    hour_s = int(START.timestamp()) - 3600
    hass_storage["nordic_v2h.an_entry.peaks"] = {
        "version": 1,
        "minor_version": 1,
        "key": "nordic_v2h.an_entry.peaks",
        "data": {"hours": {str(hour_s): 4.5}, "running_start_s": hour_s, "running_kwh": 4.5},
    }
    freezer.move_to(START)
    set_house_power(hass, "1000")
    tracker = PeakTracker(hass, "an_entry", HOUSE_SENSOR)
    await tracker.async_start()
    assert tracker.history_kw(START, 1).tolist() == [4.5]
    assert tracker.presence(START, 1).tolist() == [True]
    assert np.isnan(tracker.car_kwh(START, 1)[0])
    await tracker.async_stop()


@pytest.mark.parametrize(
    ("charging_hours", "days", "expected_kwh_per_day"),
    [
        pytest.param(2, 2, 14.0, id="two_hours_at_7_kw_a_day"),
        pytest.param(2, 0, 0.0, id="under_a_day_of_readings_says_nothing"),
    ],
)
async def test_drive_energy_is_the_cars_charge_per_day(
    hass: HomeAssistant,
    freezer: Clock,
    charging_hours: int,
    days: int,
    expected_kwh_per_day: float,
) -> None:
    """What the car was charged per day of charger readings is what driving takes."""
    freezer.move_to(START)
    set_house_power(hass, "1000")
    tracker = PeakTracker(hass, "an_entry", HOUSE_SENSOR)
    await tracker.async_start()
    moment = START
    for _ in range(max(days, 1)):
        tracker.hold_car(7000.0, True, moment)
        moment += timedelta(hours=charging_hours)
        await move_to(hass, freezer, moment)
        tracker.hold_car(0.0, True, moment)
        moment += timedelta(hours=24 - charging_hours if days else 0)
        await move_to(hass, freezer, moment)
    assert tracker.drive_kwh_per_day(moment, 28 * 24) == pytest.approx(expected_kwh_per_day)
    await tracker.async_stop()
