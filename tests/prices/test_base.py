"""Tests of the normalisation every source shares: intervals of a local day onto its quarters."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
import math
from typing import TYPE_CHECKING

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.nordic_v2h.core.timeseries import (
    QUARTER_S,
    local_day_bounds_utc,
    slots_in_local_day,
)
from custom_components.nordic_v2h.prices.base import (
    PriceInterval,
    PriceResponseError,
    as_price,
    as_utc_datetime,
    day_to_quarters,
)

if TYPE_CHECKING:
    import random

DAYS = [
    date(2025, 3, 30),
    date(2025, 10, 26),
    date(2025, 11, 12),
    date(2024, 2, 29),
    date(2025, 12, 31),
]


def quarters_of(day: date, price_of: dict[int, float | None]) -> list[PriceInterval]:
    """Return one 15-minute interval for each quarter index given."""
    start, _ = local_day_bounds_utc(day)
    return [
        PriceInterval(
            start + timedelta(seconds=index * QUARTER_S),
            start + timedelta(seconds=(index + 1) * QUARTER_S),
            price,
        )
        for index, price in price_of.items()
    ]


@given(
    day=st.sampled_from(DAYS),
    kept=st.sets(st.integers(min_value=0, max_value=99), min_size=1),
    order=st.randoms(use_true_random=False),
)
@settings(max_examples=150, deadline=None)
def test_any_subset_of_quarters_in_any_order(
    day: date, kept: set[int], order: random.Random
) -> None:
    """Delivered quarters keep their price, the others are NaN gaps, whatever the order."""
    count = slots_in_local_day(day)
    kept = {index for index in kept if index < count}
    if not kept:
        return
    intervals = quarters_of(day, {index: index / 100 - 0.2 for index in sorted(kept)})
    order.shuffle(intervals)

    series = day_to_quarters(day, intervals, "test")

    assert series is not None
    assert len(series) == count
    for index, value in enumerate(series.values):
        if index in kept:
            assert value == pytest.approx(index / 100 - 0.2)
        else:
            assert math.isnan(value)
    missing = sum(int((end - start).total_seconds()) // QUARTER_S for start, end in series.gaps())
    assert missing == count - len(kept)


@pytest.mark.parametrize(
    ("day", "quarters", "first_utc"),
    [
        pytest.param(date(2025, 3, 30), 92, datetime(2025, 3, 29, 23, tzinfo=UTC), id="spring_day"),
        pytest.param(
            date(2025, 10, 26), 100, datetime(2025, 10, 25, 22, tzinfo=UTC), id="autumn_day"
        ),
        pytest.param(
            date(2025, 11, 12), 96, datetime(2025, 11, 11, 23, tzinfo=UTC), id="winter_day"
        ),
        pytest.param(date(2025, 6, 21), 96, datetime(2025, 6, 20, 22, tzinfo=UTC), id="summer_day"),
    ],
)
def test_hourly_intervals_fill_the_day(day: date, quarters: int, first_utc: datetime) -> None:
    start, end = local_day_bounds_utc(day)
    hours = int((end - start).total_seconds()) // 3600
    intervals = [
        PriceInterval(start + timedelta(hours=hour), start + timedelta(hours=hour + 1), float(hour))
        for hour in range(hours)
    ]

    series = day_to_quarters(day, intervals, "test")

    assert series is not None
    assert len(series) == quarters
    assert series.start_utc == first_utc
    assert series.values == tuple(float(index // 4) for index in range(quarters))


def test_neighbouring_days_are_left_out() -> None:
    day = date(2025, 10, 26)
    intervals = quarters_of(date(2025, 10, 25), dict.fromkeys(range(96), 1.0))
    intervals += quarters_of(day, dict.fromkeys(range(100), 2.0))
    intervals += quarters_of(date(2025, 10, 27), dict.fromkeys(range(96), 3.0))

    series = day_to_quarters(day, intervals, "test")

    assert series is not None
    assert series.values == (2.0,) * 100


@pytest.mark.parametrize(
    ("intervals", "message"),
    [
        pytest.param(
            [
                PriceInterval(
                    datetime(2025, 11, 12, 0, 0, tzinfo=UTC),
                    datetime(2025, 11, 12, 1, 30, tzinfo=UTC),
                    1.0,
                )
            ],
            "lasts 5400 s",
            id="ninety_minutes",
        ),
        pytest.param(
            [
                PriceInterval(
                    datetime(2025, 11, 12, 0, 5, tzinfo=UTC),
                    datetime(2025, 11, 12, 0, 20, tzinfo=UTC),
                    1.0,
                )
            ],
            "not aligned",
            id="off_grid",
        ),
        pytest.param(
            [
                PriceInterval(
                    datetime(2025, 11, 11, 22, 30, tzinfo=UTC),
                    datetime(2025, 11, 11, 23, 30, tzinfo=UTC),
                    1.0,
                )
            ],
            "not aligned",
            id="hour_across_local_midnight",
        ),
        pytest.param(
            quarters_of(date(2025, 11, 12), {3: 1.0}) + quarters_of(date(2025, 11, 12), {3: 1.5}),
            "two different prices",
            id="conflicting_duplicate",
        ),
        pytest.param(
            quarters_of(date(2025, 11, 12), {3: None}) + quarters_of(date(2025, 11, 12), {3: 1.5}),
            "two different prices",
            id="hole_then_price",
        ),
        pytest.param(
            quarters_of(date(2025, 11, 14), {3: 1.0}),
            "none of them on 2025-11-12",
            id="another_day",
        ),
    ],
)
def test_bad_intervals_are_errors(intervals: list[PriceInterval], message: str) -> None:
    with pytest.raises(PriceResponseError, match=message):
        day_to_quarters(date(2025, 11, 12), intervals, "test")


def test_identical_duplicates_are_accepted() -> None:
    intervals = quarters_of(date(2025, 11, 12), {3: 1.0, 4: None}) * 2

    series = day_to_quarters(date(2025, 11, 12), intervals, "test")

    assert series is not None
    assert series.values[3] == 1.0
    assert math.isnan(series.values[4])


def test_no_intervals_is_not_published() -> None:
    assert day_to_quarters(date(2025, 11, 12), [], "test") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(12, 12.0, id="int"),
        pytest.param(-3.5, -3.5, id="negative_float"),
        pytest.param(None, None, id="null_is_a_hole"),
        pytest.param(math.nan, None, id="nan_is_a_hole"),
    ],
)
def test_price_values(value: object, expected: float | None) -> None:
    assert as_price(value, "test") == expected


@pytest.mark.parametrize(
    ("value"),
    [
        pytest.param("1.0", id="text"),
        pytest.param(False, id="bool"),
        pytest.param(-math.inf, id="minus_infinity"),
        pytest.param([1.0], id="list"),
    ],
)
def test_bad_price_values(value: object) -> None:
    with pytest.raises(PriceResponseError):
        as_price(value, "test")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(
            "2025-10-26T02:30:00+02:00",
            datetime(2025, 10, 26, 0, 30, tzinfo=UTC),
            id="first_0230_cest",
        ),
        pytest.param(
            "2025-10-26T02:30:00+01:00",
            datetime(2025, 10, 26, 1, 30, tzinfo=UTC),
            id="second_0230_cet",
        ),
        pytest.param("2025-10-26T01:30:00Z", datetime(2025, 10, 26, 1, 30, tzinfo=UTC), id="zulu"),
        pytest.param(
            datetime(2025, 3, 30, 3, 0, tzinfo=timezone(timedelta(hours=2))),
            datetime(2025, 3, 30, 1, 0, tzinfo=UTC),
            id="aware_datetime",
        ),
    ],
)
def test_times_become_utc(value: object, expected: datetime) -> None:
    converted = as_utc_datetime(value, "test")
    assert converted == expected
    assert converted.tzinfo is UTC
