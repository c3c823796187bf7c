"""Vectorised Europe/Oslo calendar fields for arrays of UTC instants.

Tariffs are defined in local clock hours and local days, and a year of quarter-hours must
price in milliseconds, so the UTC offsets come from a cached table of the zone's
transitions and every field is computed with numpy. Daylight-saving days come out right
by construction: the spring day has 23 local hours, the autumn day 25 (hour 2 twice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Final

import numpy as np

from .timeseries import OSLO

if TYPE_CHECKING:
    from numpy.typing import NDArray

DAY_S: Final = 86400


@lru_cache(maxsize=256)
def _year_offsets(year: int) -> tuple[tuple[int, int], ...]:
    """Return (UTC epoch second, offset in seconds from then on) for a year, first entry at 1 Jan."""
    start = datetime(year, 1, 1, tzinfo=UTC)

    def offset_at(moment: datetime) -> int:
        """Return the zone's UTC offset in seconds at an instant."""
        delta = moment.astimezone(OSLO).utcoffset()
        assert delta is not None  # a ZoneInfo always has an offset
        return int(delta.total_seconds())

    changes = [(int(start.timestamp()), offset_at(start))]
    moment = start
    # Scan day by day, then hour by hour inside a day whose offset changed: zone rules
    # change on whole hours, which holds for Europe/Oslo.
    while moment.year == year:
        following = moment + timedelta(days=1)
        if offset_at(following) != changes[-1][1]:
            hour = moment
            while hour < following:
                hour += timedelta(hours=1)
                if offset_at(hour) != changes[-1][1]:
                    changes.append((int(hour.timestamp()), offset_at(hour)))
        moment = following
    return tuple(changes)


def utc_offsets_s(epoch_s: NDArray[np.int64]) -> NDArray[np.int64]:
    """Return the Europe/Oslo UTC offset in seconds at each UTC epoch second."""
    if epoch_s.size == 0:
        return np.zeros(0, dtype=np.int64)
    first = datetime.fromtimestamp(int(epoch_s.min()), tz=UTC).year
    last = datetime.fromtimestamp(int(epoch_s.max()), tz=UTC).year
    table = [change for year in range(first, last + 1) for change in _year_offsets(year)]
    starts = np.array([start for start, _ in table], dtype=np.int64)
    offsets = np.array([offset for _, offset in table], dtype=np.int64)
    index = np.searchsorted(starts, epoch_s, side="right") - 1
    return offsets[np.clip(index, 0, None)]


@dataclass(frozen=True, slots=True)
class LocalCalendar:
    """Local calendar fields, one entry per instant (all int64 arrays of equal length).

    day_number counts local days since 1970-01-01; weekday is 0 for Monday; month_key is
    year * 12 + month - 1 and identifies a calendar month.
    """

    day_number: NDArray[np.int64]
    hour: NDArray[np.int64]
    weekday: NDArray[np.int64]
    month: NDArray[np.int64]
    year: NDArray[np.int64]
    month_key: NDArray[np.int64]


def local_calendar(epoch_s: NDArray[np.int64]) -> LocalCalendar:
    """Return the Europe/Oslo calendar fields of UTC epoch seconds."""
    local_s = epoch_s + utc_offsets_s(epoch_s)
    day_number = local_s // DAY_S
    hour = (local_s % DAY_S) // 3600
    # 1970-01-01 was a Thursday (weekday 3).
    weekday = (day_number + 3) % 7
    months_since_epoch = day_number.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    month = months_since_epoch % 12 + 1
    year = months_since_epoch // 12 + 1970
    return LocalCalendar(
        day_number=day_number,
        hour=hour,
        weekday=weekday,
        month=month,
        year=year,
        month_key=year * 12 + month - 1,
    )


def slot_epochs(start_utc: datetime, slot_s: int, count: int) -> NDArray[np.int64]:
    """Return the UTC epoch seconds of the starts of `count` consecutive slots."""
    return int(start_utc.timestamp()) + slot_s * np.arange(count, dtype=np.int64)
