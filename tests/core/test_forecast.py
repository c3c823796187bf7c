"""Tests for the house load forecast (past only: weekly and daily profiles, temperature)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
import warnings

import numpy as np
import pytest

from custom_components.nordic_v2h.core.forecast import (
    column_nanquantile,
    forecast_hourly_kw,
    forecast_hourly_peak_kw,
    heating_slope_kw_per_c,
    temperature_correction_kw,
)
from custom_components.nordic_v2h.core.timeseries import HOUR_S, OSLO, utc_offsets_h


def _weekly_spike(weeks: int) -> np.ndarray:
    """Two kW flat with a 10 kW hour at the same hour of every week (hour 18 of day 0)."""
    history = np.full(168 * weeks, 2.0)
    history[18::168] = 10.0
    return history


@pytest.mark.parametrize(
    ("history", "horizon", "expected"),
    [
        pytest.param(np.full(24 * 35, 3.0), 24, np.full(24, 3.0), id="flat_history_flat_forecast"),
        pytest.param(np.zeros(0), 3, np.zeros(3), id="no_history_forecasts_zero"),
        pytest.param(np.full(10, np.nan), 2, np.zeros(2), id="only_gaps_forecasts_zero"),
        pytest.param(np.full(5, 1.5), 2, np.full(2, 1.5), id="short_history_uses_its_mean"),
    ],
)
def test_forecast_levels(history: np.ndarray, horizon: int, expected: np.ndarray) -> None:
    np.testing.assert_allclose(forecast_hourly_kw(history, horizon), expected)


def test_weekly_habit_is_forecast_at_its_hour() -> None:
    history = _weekly_spike(4)
    forecast = forecast_hourly_kw(history, 168)
    # The next week's spike hour is 19 hours ahead (index 18); it stands out from the rest.
    assert forecast[18] == pytest.approx(0.5 * 10.0 + 0.5 * (10.0 + 6 * 2.0) / 7)
    assert np.argmax(forecast) == 18


def test_gaps_are_skipped() -> None:
    history = np.full(24 * 14, 2.0)
    history[-24:] = np.nan
    np.testing.assert_allclose(forecast_hourly_kw(history, 24), np.full(24, 2.0))


def test_colder_hours_forecast_more_load() -> None:
    hours = 24 * 28
    temps = 5.0 + 5.0 * np.sin(np.arange(hours) / 50.0)
    history = 6.0 - 0.3 * temps
    warm = forecast_hourly_kw(
        history, 24, correction_kw=temperature_correction_kw(history, temps, np.full(24, 10.0), 24)
    )
    cold = forecast_hourly_kw(
        history, 24, correction_kw=temperature_correction_kw(history, temps, np.full(24, -10.0), 24)
    )
    np.testing.assert_allclose(cold - warm, np.full(24, 0.3 * 20.0), atol=1e-6)


def _days_of(
    daily_temp_c: list[float], daily_load_kw: list[float]
) -> tuple[np.ndarray, np.ndarray]:
    """Hourly history with a night-high daily cycle around the given daily means.

    The nights are cold and the load is high at night, whatever the day's mean: an hourly
    fit would take that cycle for a heating effect.
    """
    cycle = np.cos(np.arange(24) / 24 * 2 * np.pi)  # 1 at midnight, -1 at noon
    temps = np.concatenate([mean - 3.0 * cycle for mean in daily_temp_c])
    load = np.concatenate([mean + 1.5 * cycle for mean in daily_load_kw])
    return load, temps


_TEMPS_14_DAYS = [8.0, 2.0, -4.0, 5.0, 0.0, -8.0, 10.0, 3.0, -2.0, 6.0, -6.0, 1.0, 4.0, -1.0]


@pytest.mark.parametrize(
    ("daily_temp_c", "daily_load_kw", "expected_kw_per_c"),
    [
        pytest.param(
            _TEMPS_14_DAYS,
            [4.0 - 0.25 * t for t in _TEMPS_14_DAYS],
            -0.25,
            id="heating_days_give_their_slope",
        ),
        pytest.param(_TEMPS_14_DAYS, [4.0] * 14, 0.0, id="daily_cycle_alone_is_no_heating_effect"),
        pytest.param(
            _TEMPS_14_DAYS,
            [4.0 + 0.2 * t for t in _TEMPS_14_DAYS],
            0.0,
            id="more_load_when_warmer_is_not_heating",
        ),
        pytest.param(
            _TEMPS_14_DAYS[:6],
            [4.0 - 0.25 * t for t in _TEMPS_14_DAYS[:6]],
            0.0,
            id="under_a_week_of_days_is_too_few",
        ),
        pytest.param(
            [5.0, 5.5, 5.2, 4.9, 5.1, 5.4, 5.0, 5.3],
            [4.0, 3.0, 5.0, 4.0, 3.5, 4.5, 4.0, 3.8],
            0.0,
            id="too_little_spread_in_temperature",
        ),
    ],
)
def test_heating_slope(
    daily_temp_c: list[float], daily_load_kw: list[float], expected_kw_per_c: float
) -> None:
    load, temps = _days_of(daily_temp_c, daily_load_kw)
    assert heating_slope_kw_per_c(load, temps) == pytest.approx(expected_kw_per_c, abs=1e-9)


def test_a_cold_day_ahead_raises_mean_and_peak_forecasts() -> None:
    load, temps = _days_of(_TEMPS_14_DAYS * 2, [4.0 - 0.25 * t for t in _TEMPS_14_DAYS * 2])
    reference = forecast_hourly_kw(load, 24)
    frost = np.full(24, -15.0)
    correction = temperature_correction_kw(load, temps, frost, 24)
    cold = forecast_hourly_kw(load, 24, correction_kw=correction)
    cold_peak = forecast_hourly_peak_kw(load, 24, correction_kw=correction)
    # The profile averaged days around 1 °C; -15 °C is about 16 °C colder at 0.25 kW/°C.
    assert np.all(cold - reference > 3.0)
    assert np.all(cold_peak - forecast_hourly_peak_kw(load, 24) > 3.0)


def test_misaligned_temperatures_are_rejected() -> None:
    with pytest.raises(ValueError, match="temperatures"):
        temperature_correction_kw(np.ones(100), np.ones(99), np.ones(24), 24)


def test_peak_forecast_sees_a_load_that_wanders_by_an_hour() -> None:
    history = np.full(24 * 14, 1.0)
    # A 9 kW heater at 02:00 on odd days and 03:00 on even days.
    for day in range(14):
        history[24 * day + 2 + day % 2] = 9.0
    mean = forecast_hourly_kw(history, 24)
    peak = forecast_hourly_peak_kw(history, 24)
    assert peak[2] == pytest.approx(9.0)
    assert peak[3] == pytest.approx(9.0)
    assert mean[2] < 6.0
    assert peak[12] == pytest.approx(1.0)


# Four weeks of history ending at 2024-10-28 00:00 UTC (01:00 in Oslo), the night after the
# clocks went back: 07:00 on the clock was 05:00 UTC before the change and is 06:00 after it.
AFTER_AUTUMN_CHANGE_S = int(datetime(2024, 10, 28, 0, 0, tzinfo=UTC).timestamp())
HISTORY_HOURS = 28 * 24
# Six hours ahead of the history's end: 06:00 UTC, 07:00 on the clock.
SEVEN_ON_THE_CLOCK = 6


def _habit_on_the_clock(first_hour_s: int, hours: int, clock_hour: int) -> np.ndarray:
    """1 kW, and 5 kW in the hour from `clock_hour` on the Oslo clock, every day."""
    local_hours = np.array(
        [
            datetime.fromtimestamp(first_hour_s + HOUR_S * hour, tz=UTC).astimezone(OSLO).hour
            for hour in range(hours)
        ]
    )
    return np.where(local_hours == clock_hour, 5.0, 1.0)


@pytest.mark.parametrize(
    ("forecast", "high_hours", "early_hour"),
    [
        pytest.param(forecast_hourly_kw, [SEVEN_ON_THE_CLOCK], SEVEN_ON_THE_CLOCK - 1, id="mean"),
        # The peak forecast also takes the hour either side: 06:00-08:00, not 05:00.
        pytest.param(
            forecast_hourly_peak_kw,
            [SEVEN_ON_THE_CLOCK - 1, SEVEN_ON_THE_CLOCK, SEVEN_ON_THE_CLOCK + 1],
            SEVEN_ON_THE_CLOCK - 2,
            id="peak",
        ),
    ],
)
def test_a_clock_change_keeps_habits_on_the_clock(
    forecast: object, high_hours: list[int], early_hour: int
) -> None:
    """After the clocks go back, 07:00 habits are forecast at 07:00, not an hour early."""
    first_hour_s = AFTER_AUTUMN_CHANGE_S - HOUR_S * HISTORY_HOURS
    # A morning routine at 07:00.
    history = _habit_on_the_clock(first_hour_s, HISTORY_HOURS, 7)
    clock = utc_offsets_h(first_hour_s, HISTORY_HOURS + 24)
    assert set(clock[:HISTORY_HOURS].tolist()) == {1, 2}
    on_the_clock = forecast(history, 24, utc_offset_h=clock)  # type: ignore[operator]
    np.testing.assert_allclose(on_the_clock[high_hours], 5.0)
    assert on_the_clock[early_hour] == pytest.approx(1.0)
    assert np.count_nonzero(on_the_clock > 1.0) == len(high_hours)
    # Counted in UTC days, most of the history puts the habit an hour early.
    in_utc = forecast(history, 24)  # type: ignore[operator]
    assert in_utc[early_hour] > 2.0


# Four weeks of history ending at 2025-03-30 23:00 UTC, the evening after the clocks went forward
# (02:00 became 03:00 that night): the forecast starts at 01:00 on the clock of 31 March.
AFTER_SPRING_CHANGE_S = int(datetime(2025, 3, 30, 23, 0, tzinfo=UTC).timestamp())


@pytest.mark.parametrize(
    ("forecast", "hour_on_the_clock", "expected_kw"),
    [
        # 02:00 did not happen on 30 March; the move lands on that day's 03:00, which is
        # not an 02:00 of the household's day and must not count.
        pytest.param(forecast_hourly_kw, 2, 1.0, id="mean_of_the_skipped_hour"),
        pytest.param(forecast_hourly_kw, 3, 5.0, id="mean_of_the_hour_after_it"),
        pytest.param(forecast_hourly_kw, 1, 1.0, id="mean_of_the_hour_before_it"),
        # The peak forecast of 01:00 takes 00:00-02:00 of the day before, which had no 02:00.
        pytest.param(
            partial(forecast_hourly_peak_kw, days=1), 1, 1.0, id="peak_beside_the_skipped_hour"
        ),
        # 02:00 takes that day's 01:00 and 03:00 alone: 95 % of the way from 1 to 5 kW.
        pytest.param(
            partial(forecast_hourly_peak_kw, days=1), 2, 4.8, id="peak_of_the_skipped_hour"
        ),
    ],
)
def test_the_hour_skipped_in_spring_takes_no_sample(
    forecast: Callable[..., np.ndarray], hour_on_the_clock: int, expected_kw: float
) -> None:
    first_hour_s = AFTER_SPRING_CHANGE_S - HOUR_S * HISTORY_HOURS
    # A water heater's timer at 03:00.
    history = _habit_on_the_clock(first_hour_s, HISTORY_HOURS, 3)
    clock = utc_offsets_h(first_hour_s, HISTORY_HOURS + 24)
    # The forecast's first hour, 23:00 UTC, is 01:00 on the clock of 31 March.
    on_the_clock = forecast(history, 24, utc_offset_h=clock)
    assert on_the_clock[hour_on_the_clock - 1] == pytest.approx(expected_kw)


def test_clock_offsets_that_miss_hours_are_rejected() -> None:
    with pytest.raises(ValueError, match="cover the history"):
        forecast_hourly_kw(np.ones(48), 24, utc_offset_h=np.ones(48, dtype=np.int64))


def _with_gaps(seed: int, rows: int, columns: int, gap_share: float) -> np.ndarray:
    """Random loads (kW) with a share of the readings missing, as a stacked history is."""
    generator = np.random.default_rng(seed)
    values = generator.gamma(2.0, 1.5, size=(rows, columns)).round(2)
    values[generator.random((rows, columns)) < gap_share] = np.nan
    return values


@pytest.mark.parametrize(
    ("values", "quantile"),
    [
        pytest.param(_with_gaps(1, 84, 48, 0.0), 0.95, id="no_gaps"),
        pytest.param(_with_gaps(2, 84, 48, 0.3), 0.95, id="some_gaps"),
        pytest.param(_with_gaps(3, 84, 48, 0.97), 0.95, id="columns_of_one_or_none"),
        pytest.param(_with_gaps(4, 5, 7, 0.2), 0.5, id="median"),
        pytest.param(_with_gaps(5, 9, 3, 0.1), 0.0, id="lowest"),
        pytest.param(_with_gaps(6, 9, 3, 0.1), 1.0, id="highest"),
        pytest.param(np.array([[1.0, np.nan], [2.0, np.nan]]), 0.95, id="an_empty_column"),
        pytest.param(np.full((6, 4), 2.5), 0.95, id="ties"),
    ],
)
def test_column_quantile_is_numpys_value_for_value(values: np.ndarray, quantile: float) -> None:
    with warnings.catch_warnings():
        # numpy warns of a column with no value; the answer there is NaN either way.
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.nanquantile(values, quantile, axis=0)
    np.testing.assert_array_equal(column_nanquantile(values, quantile), expected)
