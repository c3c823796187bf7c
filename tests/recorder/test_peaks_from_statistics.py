"""The month's house peaks are rebuilt from the recorder's hourly statistics at start-up."""

from __future__ import annotations

from datetime import UTC, timedelta

from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.statistics import async_import_statistics
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest

from custom_components.nordic_v2h.core.timeseries import OSLO
from custom_components.nordic_v2h.peaks import PeakTracker

try:  # Home Assistant 2025.x and newer describe the mean with an enum.
    from homeassistant.components.recorder.models import StatisticMeanType, StatisticMetaData

    MEAN: dict[str, object] = {"mean_type": StatisticMeanType.ARITHMETIC}
except ImportError:  # pragma: no cover - older releases
    from homeassistant.components.recorder.models import StatisticMetaData

    MEAN = {"has_mean": True}

HOUSE = "sensor.house_power"


@pytest.mark.parametrize(
    ("unit", "mean_values", "expected_kwh"),
    [
        pytest.param(
            "W", [2500.0, 6200.0, 4100.0], [2.5, 6.2, 4.1], id="watts_become_kwh_per_hour"
        ),
        pytest.param(
            "kW", [3.0, -1.5, 7.25], [3.0, 0.0, 7.25], id="kilowatts_and_export_counts_zero"
        ),
    ],
)
async def test_hours_missing_from_storage_come_from_statistics(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    unit: str,
    mean_values: list[float],
    expected_kwh: list[float],
) -> None:
    """Hourly means of the house sensor fill the tracker's finished hours of this month."""
    now = dt_util.utcnow()
    local = now.astimezone(OSLO)
    if local.day == 1 and local.hour < 4:
        pytest.skip("too early in the month for three finished hours")
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    starts = [this_hour - timedelta(hours=3 - index) for index in range(3)]
    metadata: dict[str, object] = {
        **MEAN,
        "has_sum": False,
        "name": None,
        "source": "recorder",
        "statistic_id": HOUSE,
        "unit_of_measurement": unit,
    }
    if "unit_class" in StatisticMetaData.__annotations__:
        metadata["unit_class"] = "power"
    statistics = [
        {"start": start, "mean": value, "min": value, "max": value}
        for start, value in zip(starts, mean_values, strict=True)
    ]
    hass.states.async_set(HOUSE, "1000", {"unit_of_measurement": unit, "device_class": "power"})
    async_import_statistics(hass, metadata, statistics)  # type: ignore[arg-type]
    await recorder_mock.async_block_till_done()
    await hass.async_block_till_done()

    tracker = PeakTracker(hass, "entry_id", HOUSE)
    await tracker.async_start()
    try:
        got = [tracker.hours_kwh.get(int(start.astimezone(UTC).timestamp())) for start in starts]
        assert got == pytest.approx(expected_kwh)
    finally:
        await tracker.async_stop()
