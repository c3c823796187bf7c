"""Tests for the house load forecast (past only: weekly and daily profiles, temperature)."""

from __future__ import annotations

import numpy as np
import pytest

from custom_components.nordic_v2h.core.forecast import forecast_hourly_kw, forecast_hourly_peak_kw


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
    warm = forecast_hourly_kw(history, 24, history_temp_c=temps, future_temp_c=np.full(24, 10.0))
    cold = forecast_hourly_kw(history, 24, history_temp_c=temps, future_temp_c=np.full(24, -10.0))
    np.testing.assert_allclose(cold - warm, np.full(24, 0.3 * 20.0), atol=1e-6)


def test_misaligned_temperatures_are_rejected() -> None:
    with pytest.raises(ValueError, match="temperatures"):
        forecast_hourly_kw(np.ones(100), 24, history_temp_c=np.ones(99), future_temp_c=np.ones(24))


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
