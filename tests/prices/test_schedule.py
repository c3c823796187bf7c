"""Tests of the price-fetch schedule: 13:00 Oslo, backoff, midnight and daylight-saving days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.nordic_v2h.prices.schedule import BACKOFF_S, backoff_s, next_fetch_utc


def at(text: str) -> datetime:
    """Return a UTC instant from 'YYYY-MM-DDTHH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "have_tomorrow", "expected"),
    [
        pytest.param(
            at("2025-11-12T09:00"),
            False,
            at("2025-11-12T12:00"),
            id="winter_morning_waits_for_13_cet",
        ),
        pytest.param(
            at("2025-06-10T08:00"),
            False,
            at("2025-06-10T11:00"),
            id="summer_morning_waits_for_13_cest",
        ),
        pytest.param(
            at("2025-11-12T11:59"),
            False,
            at("2025-11-12T12:00"),
            id="one_minute_before_publication",
        ),
        pytest.param(
            at("2025-11-12T12:00"),
            False,
            at("2025-11-12T12:01"),
            id="at_publication_retries_in_a_minute",
        ),
        pytest.param(
            at("2025-11-12T15:30"),
            False,
            at("2025-11-12T15:31"),
            id="afternoon_without_tomorrow_retries_soon",
        ),
        pytest.param(
            at("2025-11-12T12:40"),
            True,
            at("2025-11-13T12:00"),
            id="tomorrow_held_waits_for_next_day",
        ),
        pytest.param(
            at("2025-11-12T08:00"), True, at("2025-11-13T12:00"), id="tomorrow_held_in_the_morning"
        ),
        pytest.param(
            at("2025-11-12T22:59"),
            True,
            at("2025-11-13T12:00"),
            id="one_minute_before_local_midnight",
        ),
        pytest.param(
            at("2025-11-12T23:00"),
            False,
            at("2025-11-13T12:00"),
            id="local_midnight_new_tomorrow_unknown",
        ),
        pytest.param(
            at("2025-11-12T23:00"),
            True,
            at("2025-11-14T12:00"),
            id="local_midnight_new_tomorrow_held",
        ),
        pytest.param(
            at("2025-11-12T23:30"),
            False,
            at("2025-11-13T12:00"),
            id="after_local_midnight_before_utc_midnight",
        ),
        pytest.param(
            at("2025-03-29T13:30"), True, at("2025-03-30T11:00"), id="spring_day_13_cest_is_11_utc"
        ),
        pytest.param(
            at("2025-03-30T00:30"), False, at("2025-03-30T11:00"), id="spring_day_before_the_switch"
        ),
        pytest.param(
            at("2025-03-30T01:30"), False, at("2025-03-30T11:00"), id="spring_day_after_the_switch"
        ),
        pytest.param(
            at("2025-03-29T22:59"), True, at("2025-03-30T11:00"), id="midnight_into_the_23_hour_day"
        ),
        pytest.param(
            at("2025-03-30T21:59"), True, at("2025-03-31T11:00"), id="end_of_the_23_hour_day"
        ),
        pytest.param(
            at("2025-10-25T14:00"), True, at("2025-10-26T12:00"), id="autumn_day_13_cet_is_12_utc"
        ),
        pytest.param(
            at("2025-10-26T00:30"), False, at("2025-10-26T12:00"), id="autumn_first_0230_cest"
        ),
        pytest.param(
            at("2025-10-26T01:30"), False, at("2025-10-26T12:00"), id="autumn_second_0230_cet"
        ),
        pytest.param(
            at("2025-10-26T22:59"), True, at("2025-10-27T12:00"), id="end_of_the_25_hour_day"
        ),
    ],
)
def test_next_fetch_without_failures(
    now: datetime, have_tomorrow: bool, expected: datetime
) -> None:
    assert next_fetch_utc(now, have_tomorrow, 0) == expected


@pytest.mark.parametrize(
    ("failed_attempts", "wait_s"),
    [
        pytest.param(1, 60, id="first_retry_after_a_minute"),
        pytest.param(2, 120, id="second_after_two"),
        pytest.param(3, 300, id="third_after_five"),
        pytest.param(4, 600, id="fourth_after_ten"),
        pytest.param(5, 900, id="fifth_after_fifteen"),
        pytest.param(6, 900, id="capped_at_fifteen"),
        pytest.param(500, 900, id="long_outage_stays_capped"),
    ],
)
@pytest.mark.parametrize(
    "have_tomorrow",
    [pytest.param(False, id="without_tomorrow"), pytest.param(True, id="with_tomorrow")],
)
def test_failures_back_off(failed_attempts: int, wait_s: int, have_tomorrow: bool) -> None:
    now = at("2025-11-12T12:05")
    assert backoff_s(failed_attempts) == wait_s
    assert next_fetch_utc(now, have_tomorrow, failed_attempts) == now + timedelta(seconds=wait_s)


@pytest.mark.parametrize(
    ("publication", "first_seen"),
    [
        pytest.param(
            at("2025-11-12T11:45"), at("2025-11-12T12:00"), id="published_early_seen_at_13"
        ),
        pytest.param(at("2025-11-12T12:02"), at("2025-11-12T12:03"), id="two_minutes_late"),
        pytest.param(at("2025-11-12T12:20"), at("2025-11-12T12:33"), id="twenty_minutes_late"),
        pytest.param(
            at("2025-11-12T14:00"), at("2025-11-12T14:03"), id="two_hours_late_retries_every_15_min"
        ),
        pytest.param(at("2025-03-30T11:10"), at("2025-03-30T11:18"), id="late_on_the_spring_day"),
    ],
)
def test_retry_loop_picks_up_late_prices(publication: datetime, first_seen: datetime) -> None:
    """Follow the schedule from 10:00 local until tomorrow's prices arrive, then one more step."""
    now = datetime.combine(publication.date(), datetime.min.time(), UTC) + timedelta(hours=8)
    have_tomorrow = False
    for failed in range(100):
        now = next_fetch_utc(now, have_tomorrow, failed)
        if now >= publication:
            have_tomorrow = True
            break
    assert have_tomorrow
    assert now == first_seen
    following = next_fetch_utc(now, True, 0)
    assert following.date() == now.date() + timedelta(days=1)
    assert following.hour in (11, 12)


@pytest.mark.parametrize(
    ("now", "failed_attempts"),
    [
        pytest.param(datetime(2025, 11, 12, 12, 0), 0, id="naive_now"),
        pytest.param(at("2025-11-12T12:00"), -1, id="negative_failures"),
    ],
)
def test_bad_arguments_are_rejected(now: datetime, failed_attempts: int) -> None:
    with pytest.raises(ValueError):
        next_fetch_utc(now, False, failed_attempts)


def test_backoff_needs_a_failure() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        backoff_s(0)
    assert max(BACKOFF_S) == 900
