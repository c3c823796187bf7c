"""Tests for the month's capacity target: which step edge the past weeks say is worth holding."""

from __future__ import annotations

import math

import numpy as np
import pytest

from custom_components.nordic_v2h.core.month_target import (
    AVERAGE_MONTH_DAYS,
    DEFAULT_SHAVE_COST_NOK_PER_KWH,
    month_target_kw,
    target_options,
)
from custom_components.nordic_v2h.core.types import CapacityInputs

# Three steps keep the arithmetic visible: below 5 kW 100 NOK, 5-10 kW 200, from 10 kW 300.
STEPS = CapacityInputs(step_from_kw=(0.0, 5.0, 10.0), step_nok_per_month=(100.0, 200.0, 300.0))
DAYS = 28


def _house(peak_kw: float, *, base_kw: float = 1.0, peak_hour: int = 3) -> np.ndarray:
    """Return four weeks of a house at `base_kw` with one hour at `peak_kw` every night."""
    day = np.full(24, base_kw)
    day[peak_hour] = peak_kw
    return np.tile(day, DAYS)


def _away_at(hour: int) -> np.ndarray:
    """Return presence for four weeks with the car away in one hour of every day."""
    day = np.ones(24, dtype=bool)
    day[hour] = False
    return np.tile(day, DAYS)


@pytest.mark.parametrize(
    ("history", "present", "max_discharge_kw", "expected"),
    [
        # 8 kW peaks: holding 4.75 shaves 3.25 kWh a day (≈35 NOK a month) and saves 100 NOK.
        pytest.param(_house(8.0), None, 7.4, 4.75, id="one_step_down_pays"),
        # 12 kW: 4.75 needs 7.25 kW of discharge, still within 7.4; two steps down win.
        pytest.param(_house(12.0), None, 7.4, 4.75, id="two_steps_down_within_power"),
        # 14 kW: 4.75 is out of reach (the car leaves 6.6 kW), so the step below 10 it is.
        pytest.param(_house(14.0), None, 7.4, 9.75, id="beyond_discharge_power_one_step"),
        pytest.param(_house(8.0), _away_at(3), 7.4, None, id="car_away_at_the_peak_hour"),
        pytest.param(_house(8.0), None, 0.0, None, id="car_cannot_discharge"),
        pytest.param(_house(4.0), None, 7.4, None, id="house_already_in_lowest_reachable_step"),
        pytest.param(_house(8.0)[: 24 * 6], None, 7.4, None, id="less_than_a_week_of_history"),
        # A house at 4.6 kW all day leaves no hour under 4.75 to charge back what the
        # night took: the level cannot be held, the nights stay at 8 kW.
        pytest.param(_house(8.0, base_kw=4.6), None, 7.4, None, id="no_room_to_recharge_under_it"),
    ],
)
def test_month_target(
    history: np.ndarray, present: np.ndarray | None, max_discharge_kw: float, expected: float | None
) -> None:
    target = month_target_kw(
        history, STEPS, max_discharge_kw=max_discharge_kw, min_power_kw=1.38, present=present
    )
    assert target == expected


def test_options_price_shaving_and_the_step() -> None:
    """Each option's cost is its step plus the shaving, scaled from four weeks to a month."""
    options = target_options(_house(8.0), STEPS, max_discharge_kw=7.4, min_power_kw=1.38)
    by_level = {option.level_kw: option for option in options}
    held = by_level[4.75]
    assert held.measure_kw == pytest.approx(4.75)
    assert held.step_nok == 100.0
    assert held.shaved_kwh_per_month == pytest.approx(3.25 * AVERAGE_MONTH_DAYS)
    assert held.total_nok == pytest.approx(100.0 + DEFAULT_SHAVE_COST_NOK_PER_KWH * 3.25 * 30.4)
    natural = by_level[math.inf]
    assert (natural.measure_kw, natural.total_nok) == (8.0, 200.0)


def test_small_excess_costs_the_chargers_minimum() -> None:
    """The charger cannot discharge 0.5 kW: shaving a small excess costs its minimum power."""
    options = target_options(_house(5.25), STEPS, max_discharge_kw=7.4, min_power_kw=1.38)
    held = next(option for option in options if option.level_kw == 4.75)
    assert held.shaved_kwh_per_month == pytest.approx(1.38 * AVERAGE_MONTH_DAYS)
    assert held.measure_kw == pytest.approx(5.25 - 1.38)


def test_missing_hours_count_as_no_draw() -> None:
    history = _house(8.0)
    history[:24] = np.nan
    assert month_target_kw(history, STEPS, max_discharge_kw=7.4, min_power_kw=1.38) == 4.75


def test_presence_must_align() -> None:
    with pytest.raises(ValueError, match="align"):
        target_options(
            _house(8.0),
            STEPS,
            max_discharge_kw=7.4,
            min_power_kw=1.38,
            present=np.ones(10, dtype=bool),
        )


@pytest.mark.parametrize(
    ("drive_kwh_per_day", "expected_day_peak_kw"),
    [
        # 3.25 kWh shaved needs 3.84 kWh back; 23 hours of 1.75 kW room take it and 20 kWh of driving.
        pytest.param(20.0, 4.75, id="room_for_shaving_and_driving"),
        # 70 kWh of driving does not fit a day's room (40.25 kWh) but fits that day's and
        # the next's (80.5 kWh for 73.8): the battery carries it over the night.
        pytest.param(70.0, 4.75, id="the_next_day_recharges_too"),
        # 80 kWh leaves too little room under 4.75 even over two days (80.5 kWh for 83.8):
        # the days hold the next level up, 5.0, where 92 kWh of room take 83.5.
        pytest.param(80.0, 5.0, id="driving_pushes_the_level_up"),
    ],
)
def test_driving_competes_for_the_room_under_the_level(
    drive_kwh_per_day: float, expected_day_peak_kw: float
) -> None:
    options = target_options(
        _house(8.0, base_kw=3.0),
        STEPS,
        max_discharge_kw=7.4,
        min_power_kw=1.38,
        drive_kwh_per_day=drive_kwh_per_day,
    )
    held = next(option for option in options if option.level_kw == 4.75)
    assert held.day_peaks_kw == (expected_day_peak_kw,) * DAYS


def test_days_away_keep_their_peak_in_the_sample() -> None:
    """The sample of days to come keeps the house's own peak on the days the car was away."""
    present = np.ones(24 * DAYS, dtype=bool)
    present[3 : 24 * 7 : 24] = False  # away at the peak hour in the first week
    options = target_options(
        _house(8.0), STEPS, max_discharge_kw=7.4, min_power_kw=1.38, present=present
    )
    held = next(option for option in options if option.level_kw == 4.75)
    assert held.day_peaks_kw == (8.0,) * 7 + (4.75,) * (DAYS - 7)
    natural = next(option for option in options if math.isinf(option.level_kw))
    assert natural.day_peaks_kw == (8.0,) * DAYS
