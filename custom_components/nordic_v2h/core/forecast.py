"""House load forecast from the past only: recent weekly and daily profiles, plus temperature.

The forecast of a future hour blends the same hour of the week in recent weeks (weekday
habits) with the same hour of the day in recent days (the current level, e.g. a cold
spell). Where outdoor temperatures are known, `temperature_correction_kw` says how much
colder or warmer the forecast hours are than the hours the blend averaged, at a heating
slope (kW per °C) fitted on the history's daily means; both forecasts add it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

HOURS_PER_DAY: Final = 24
HOURS_PER_WEEK: Final = 168
# Four weeks of weekly profile and one week of daily profile: enough samples per hour
# to average out single odd days while still following the season.
DEFAULT_WEEKS: Final = 4
DEFAULT_DAYS: Final = 7
# Share of the weekly profile in the blend; the rest is the recent daily profile.
WEEKLY_WEIGHT: Final = 0.5


def forecast_hourly_kw(
    history_kw: NDArray[np.float64],
    horizon_h: int,
    *,
    weeks: int = DEFAULT_WEEKS,
    days: int = DEFAULT_DAYS,
    correction_kw: NDArray[np.float64] | None = None,
    utc_offset_h: NDArray[np.int64] | None = None,
) -> NDArray[np.float64]:
    """Return the mean house power (kW) of each of the next `horizon_h` clock hours.

    `history_kw` holds the mean power of past clock hours, oldest first, ending with the
    last finished hour; NaN marks a missing hour. `correction_kw` (optional, one value per
    forecast hour) is added, e.g. the `temperature_correction_kw` of the same history. With
    no usable history the forecast is the history's mean, or 0 when there is none.
    `utc_offset_h` (optional) is the local clock's offset from UTC in hours of every
    history hour and then every forecast hour: the profiles then take the same local
    hour across a clock change (households live by the clock, not by UTC).
    """
    if horizon_h <= 0:
        return np.zeros(0)
    history = np.asarray(history_kw, dtype=np.float64)
    length = len(history)
    fallback = float(np.nanmean(history)) if np.isfinite(history).any() else 0.0
    ahead = np.arange(1, horizon_h + 1)
    weekly = _same_phase_mean(
        history, length, ahead, HOURS_PER_WEEK, weeks, utc_offset_h=utc_offset_h
    )
    daily = _same_phase_mean(history, length, ahead, HOURS_PER_DAY, days, utc_offset_h=utc_offset_h)
    blend = _blend(weekly, daily)
    blend = np.where(np.isfinite(blend), blend, fallback)
    if correction_kw is not None:
        blend = blend + correction_kw[:horizon_h]
    result: NDArray[np.float64] = np.maximum(blend, 0.0)
    return result


def _blend(weekly: NDArray[np.float64], daily: NDArray[np.float64]) -> NDArray[np.float64]:
    """Mix the weekly and daily profiles; where one is missing the other stands alone."""
    result: NDArray[np.float64] = np.where(
        np.isfinite(weekly) & np.isfinite(daily),
        WEEKLY_WEIGHT * weekly + (1.0 - WEEKLY_WEIGHT) * daily,
        np.where(np.isfinite(weekly), weekly, daily),
    )
    return result


def _on_local_clock(
    index: NDArray[np.int64],
    ahead: NDArray[np.int64],
    length: int,
    utc_offset_h: NDArray[np.int64] | None,
) -> NDArray[np.int64]:
    """Move each sample so it shows the local clock hour of its forecast hour.

    A sample whose clock hour did not exist that day comes back as -1 (no sample): on
    the day the clocks go forward, 02:00 is skipped, and the move lands on 03:00, a
    different hour of the household's day.
    """
    if utc_offset_h is None:
        return index
    if len(utc_offset_h) < length + len(ahead):
        raise ValueError("utc_offset_h must cover the history and the forecast hours")
    last = max(length - 1, 0)
    sample = np.clip(index, 0, last)
    moved = index + (utc_offset_h[length - 1 + ahead] - utc_offset_h[sample])
    # The move shows the wanted clock hour only if it kept the sample's offset.
    same_clock = utc_offset_h[np.clip(moved, 0, last)] == utc_offset_h[sample]
    result: NDArray[np.int64] = np.where(same_clock, moved, -1)
    return result


def _same_phase_mean(
    history: NDArray[np.float64],
    length: int,
    ahead: NDArray[np.int64],
    period_h: int,
    count: int,
    *,
    utc_offset_h: NDArray[np.int64] | None = None,
) -> NDArray[np.float64]:
    """Return, per future hour, the mean of the history at the same phase of the period."""
    sums = np.zeros(len(ahead))
    counts = np.zeros(len(ahead))
    # A future hour `a` ahead of the end has the same phase `period_h * k - a` hours back.
    for back in range(1, count + 1):
        index = length - 1 + ahead - period_h * back
        # Hours further ahead than one period reuse the newest sample of their phase.
        index = np.where(
            index >= length, index - period_h * ((index - length) // period_h + 1), index
        )
        index = _on_local_clock(index, ahead, length, utc_offset_h)
        valid = (index >= 0) & (index < length)
        values = np.where(
            valid, history[np.clip(index, 0, max(length - 1, 0))] if length else 0.0, np.nan
        )
        finite = np.isfinite(values)
        sums += np.where(finite, values, 0.0)
        counts += finite
    with np.errstate(invalid="ignore", divide="ignore"):
        result: NDArray[np.float64] = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return result


def temperature_correction_kw(
    history_kw: NDArray[np.float64],
    history_temp_c: NDArray[np.float64],
    future_temp_c: NDArray[np.float64],
    horizon_h: int,
    *,
    weeks: int = DEFAULT_WEEKS,
    days: int = DEFAULT_DAYS,
) -> NDArray[np.float64]:
    """Return per forecast hour the load change explained by it being colder or warmer.

    Temperatures (°C) align with the history and with the forecast hours respectively.

    The slope is fitted on daily means over the whole history: an hourly fit would read
    the daily cycle (warm afternoons, low-load afternoons) as a temperature effect. Only
    heating counts (a slope at or below zero), as in a Norwegian house without cooling.
    The reference temperature of each forecast hour is the blend of the temperatures at
    its phase that the load profile averaged, so only the difference from those hours
    moves the forecast.
    """
    history_temp = np.asarray(history_temp_c, dtype=np.float64)
    future_temp = np.asarray(future_temp_c, dtype=np.float64)
    if len(history_temp) != len(history_kw) or len(future_temp) < horizon_h:
        raise ValueError("temperatures must align with the history and cover the horizon")
    slope = heating_slope_kw_per_c(history_kw, history_temp)
    if slope == 0.0 or horizon_h <= 0:
        return np.zeros(max(horizon_h, 0))
    length = len(history_temp)
    ahead = np.arange(1, horizon_h + 1)
    reference = _blend(
        _same_phase_mean(history_temp, length, ahead, HOURS_PER_WEEK, weeks),
        _same_phase_mean(history_temp, length, ahead, HOURS_PER_DAY, days),
    )
    delta = future_temp[:horizon_h] - reference
    correction: NDArray[np.float64] = np.where(np.isfinite(delta), slope * delta, 0.0)
    return correction


# Days of history the heating slope needs, and the spread of their mean temperatures
# (°C): fewer or closer days give a slope that is mostly noise.
_MIN_SLOPE_DAYS: Final = 7
_MIN_SLOPE_SPREAD_C: Final = 2.0


def heating_slope_kw_per_c(
    history_kw: NDArray[np.float64], history_temp_c: NDArray[np.float64]
) -> float:
    """Return how much the house's mean power rises per °C colder (kW/°C, at most 0).

    Fitted by least squares on the daily means of the whole days at the end of the
    history; 0 when there are too few days, too little spread or no heating effect.
    """
    whole_days = len(history_kw) // HOURS_PER_DAY
    if whole_days < _MIN_SLOPE_DAYS:
        return 0.0
    tail = slice(len(history_kw) - whole_days * HOURS_PER_DAY, None)
    load = np.asarray(history_kw, dtype=np.float64)[tail].reshape(whole_days, HOURS_PER_DAY)
    temp = np.asarray(history_temp_c, dtype=np.float64)[tail].reshape(whole_days, HOURS_PER_DAY)
    # A day counts when at least three quarters of its hours have both readings.
    both = np.isfinite(load) & np.isfinite(temp)
    usable = both.sum(axis=1) >= HOURS_PER_DAY * 3 // 4
    if usable.sum() < _MIN_SLOPE_DAYS:
        return 0.0
    with np.errstate(invalid="ignore"):
        day_load = np.nanmean(np.where(both, load, np.nan)[usable], axis=1)
        day_temp = np.nanmean(np.where(both, temp, np.nan)[usable], axis=1)
    if np.ptp(day_temp) < _MIN_SLOPE_SPREAD_C:
        return 0.0
    slope = float(np.polyfit(day_temp, day_load, 1)[0])
    return min(slope, 0.0)


def column_nanquantile(values: NDArray[np.float64], quantile: float) -> NDArray[np.float64]:
    """Return `np.nanquantile(values, quantile, axis=0)` (linear method), value for value.

    numpy runs a Python loop over the columns when NaNs may be present; the replay asks
    for this every hour, so the ranks are found with one sort instead. NaN where a column
    has no finite value.
    """
    ordered = np.sort(values, axis=0)  # NaNs sort last
    count = np.isfinite(values).sum(axis=0)
    # numpy's virtual index and weight for the linear method, in the same arithmetic.
    virtual = (count - 1) * quantile
    below = np.floor(virtual)
    weight = virtual - below
    low = np.maximum(below, 0).astype(np.intp)
    high = np.minimum(low + 1, np.maximum(count - 1, 0))
    columns = np.arange(values.shape[1])
    low_value = ordered[low, columns]
    high_value = ordered[high, columns]
    rise = high_value - low_value
    # numpy's lerp: from the lower value, or back from the upper one past the midpoint.
    result: NDArray[np.float64] = np.where(
        weight >= 0.5, high_value - rise * (1 - weight), low_value + rise * weight
    )
    result[count == 0] = np.nan
    return result


# Quantile of recent same-hour samples that the peak forecast takes: high enough to
# cover a heater or water tank that runs at slightly different times each night.
PEAK_QUANTILE: Final = 0.95


def forecast_hourly_peak_kw(
    history_kw: NDArray[np.float64],
    horizon_h: int,
    *,
    days: int = DEFAULT_DAYS,
    correction_kw: NDArray[np.float64] | None = None,
    utc_offset_h: NDArray[np.int64] | None = None,
) -> NDArray[np.float64]:
    """Return a high forecast (kW) of each of the next `horizon_h` hours, for capacity risk.

    It takes the `PEAK_QUANTILE` of the same clock hour and its two neighbours over the
    last `days` days, so loads that move by an hour from day to day still count.
    `correction_kw` is added as in `forecast_hourly_kw`: a cold night raises the peaks too,
    and `utc_offset_h` keeps the samples on the local clock as there.
    """
    if horizon_h <= 0:
        return np.zeros(0)
    history = np.asarray(history_kw, dtype=np.float64)
    length = len(history)
    if not np.isfinite(history).any():
        return np.zeros(horizon_h)
    ahead = np.arange(1, horizon_h + 1)
    samples = []
    for back in range(1, days + 1):
        for shift in (-1, 0, 1):
            index: NDArray[np.int64] = length - 1 + ahead + shift - HOURS_PER_DAY * back
            index = np.where(
                index >= length,
                index - HOURS_PER_DAY * ((index - length) // HOURS_PER_DAY + 1),
                index,
            )
            index = _on_local_clock(index, ahead, length, utc_offset_h)
            valid = (index >= 0) & (index < length)
            samples.append(np.where(valid, history[np.clip(index, 0, length - 1)], np.nan))
    # An hour with no sample at all comes out NaN: it is forecast at zero.
    peak = np.nan_to_num(column_nanquantile(np.vstack(samples), PEAK_QUANTILE), nan=0.0)
    if correction_kw is not None:
        peak = peak + correction_kw[:horizon_h]
    result: NDArray[np.float64] = np.maximum(peak, 0.0)
    return result
