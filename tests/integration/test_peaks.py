"""Peak tracking: the house meter integrated into hourly imports, daily peaks, storage and month change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory, StepTickTimeFactory, TickingDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from quasar_simulator import QuasarSimulator

from .cost_helpers import set_house_power, setup_entry, tariff_entry
from .helpers import entity_id_for

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

    november = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)  # 01:00 in Oslo on the 1st
    await move_to(hass, freezer, november)
    state = hass.states.get(mean_id)
    assert state is not None
    assert float(state.state) == 0.0
    # Only the first night hour of November, at 0 kW, is a peak day so far.
    assert all(item["kw"] == 0.0 for item in state.attributes["peak_days"])
    assert all(item["date"].startswith("2026-11") for item in state.attributes["peak_days"])
    tracker = entry.runtime_data.peak_tracker
    assert tracker is not None
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
