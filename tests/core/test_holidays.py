"""Norwegian public holidays, fixed and Easter-based."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from custom_components.nordic_v2h.core.holidays import (
    day_number,
    easter_sunday,
    holiday_day_numbers,
    is_public_holiday,
    norwegian_public_holidays,
)


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        pytest.param(2024, date(2024, 3, 31), id="2024_march"),
        pytest.param(2025, date(2025, 4, 20), id="2025_april"),
        pytest.param(2026, date(2026, 4, 5), id="2026"),
        pytest.param(2027, date(2027, 3, 28), id="2027"),
        pytest.param(2038, date(2038, 4, 25), id="latest_possible_date"),
        pytest.param(2285, date(2285, 3, 22), id="earliest_possible_date"),
    ],
)
def test_easter_sunday(year: int, expected: date) -> None:
    assert easter_sunday(year) == expected


def test_easter_outside_gregorian_range_is_refused() -> None:
    with pytest.raises(ValueError, match="Gregorian"):
        easter_sunday(1500)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(date(2026, 1, 1), True, id="new_year"),
        pytest.param(date(2026, 4, 2), True, id="maundy_thursday_2026"),
        pytest.param(date(2026, 4, 3), True, id="good_friday_2026"),
        pytest.param(date(2026, 4, 6), True, id="easter_monday_2026"),
        pytest.param(date(2025, 4, 21), True, id="easter_monday_2025"),
        pytest.param(date(2026, 4, 7), False, id="tuesday_after_easter"),
        pytest.param(date(2026, 5, 1), True, id="labour_day"),
        pytest.param(date(2026, 5, 14), True, id="ascension_2026"),
        pytest.param(date(2025, 5, 29), True, id="ascension_2025"),
        pytest.param(date(2026, 5, 17), True, id="constitution_day"),
        pytest.param(date(2026, 5, 25), True, id="whit_monday_2026"),
        pytest.param(date(2026, 12, 24), False, id="christmas_eve_is_not_a_public_holiday"),
        pytest.param(date(2026, 12, 25), True, id="christmas_day"),
        pytest.param(date(2026, 12, 26), True, id="boxing_day"),
        pytest.param(date(2026, 12, 31), False, id="new_years_eve_is_not_a_public_holiday"),
        pytest.param(date(2026, 6, 23), False, id="midsummer_eve_is_not"),
    ],
)
def test_is_public_holiday(day: date, expected: bool) -> None:
    assert is_public_holiday(day) is expected


def test_a_year_has_twelve_holidays_in_order() -> None:
    days = list(norwegian_public_holidays(2026))
    assert len(days) == 12
    assert days == sorted(days)


@pytest.mark.parametrize(
    ("extra", "expected_count"),
    [
        pytest.param((), 24, id="public_holidays_only"),
        pytest.param(((12, 24), (12, 31)), 28, id="with_bkk_low_days"),
    ],
)
def test_holiday_day_numbers(extra: tuple[tuple[int, int], ...], expected_count: int) -> None:
    numbers = holiday_day_numbers([2025, 2026], extra)
    assert numbers.size == expected_count
    assert np.all(np.diff(numbers) > 0)
    assert day_number(date(2026, 5, 17)) in numbers
    assert (day_number(date(2026, 12, 24)) in numbers) is bool(extra)


def test_day_number_of_epoch_is_zero() -> None:
    assert day_number(date(1970, 1, 1)) == 0
