"""When to fetch prices next: pure, with the clock passed in.

Nord Pool publishes the next day's prices shortly before 13:00 Europe/Oslo (the auction
closes at 12:00 CET and results follow about 45 minutes later). The caller fetches today's
prices at start-up and then asks `next_fetch_utc` after every attempt.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Final

from custom_components.nordic_v2h.core.timeseries import OSLO, ensure_utc

PUBLISH_LOCAL: Final = time(13, 0)
# Waits after the 1st, 2nd, ... failed or empty attempt; the last one repeats. Short at first
# because a late publication is usually minutes late, capped so a long outage costs little.
BACKOFF_S: Final = (60, 120, 300, 600, 900)


def backoff_s(failed_attempts: int) -> int:
    """Return the wait in seconds after the given number of consecutive failed attempts."""
    if failed_attempts < 1:
        raise ValueError(f"failed_attempts must be at least 1, got {failed_attempts}")
    return BACKOFF_S[min(failed_attempts, len(BACKOFF_S)) - 1]


def next_fetch_utc(now_utc: datetime, have_tomorrow: bool, failed_attempts: int) -> datetime:
    """Return the UTC instant of the next price fetch.

    `have_tomorrow` says whether the prices of the local day after `now_utc` are held;
    `failed_attempts` counts consecutive attempts that raised or found no prices yet
    (0 after a success). Ask after every attempt. After a failure the fetch is retried
    with backoff. Without tomorrow's prices the fetch is at 13:00 local today, or one
    minute from now if that has passed; with them, at 13:00 local on the next day. 13:00
    is local wall time, so on the daylight-saving days it is 11:00 or 12:00 UTC as the
    season says.
    """
    if failed_attempts < 0:
        raise ValueError(f"failed_attempts must not be negative, got {failed_attempts}")
    now = ensure_utc(now_utc)
    if failed_attempts:
        return now + timedelta(seconds=backoff_s(failed_attempts))
    today_local = now.astimezone(OSLO).date()
    if have_tomorrow:
        return _publish_utc(today_local + timedelta(days=1))
    publish = _publish_utc(today_local)
    if now < publish:
        return publish
    # An attempt has just been made (that is when this is asked), so even a caller that
    # does not count "not published yet" as a failure gets a pause instead of a busy loop.
    return now + timedelta(seconds=BACKOFF_S[0])


def _publish_utc(day_local: date) -> datetime:
    """Return 13:00 Europe/Oslo on a local day as UTC."""
    return datetime.combine(day_local, PUBLISH_LOCAL, tzinfo=OSLO).astimezone(UTC)
