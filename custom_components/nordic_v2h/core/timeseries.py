"""Time series on clock-aligned slots, with Norwegian local-time helpers.

A series is a start instant in UTC, a slot length in seconds and one value per slot.
Norwegian bills are per clock hour in Europe/Oslo, and daylight-saving days have 92 or
100 quarter-hours, so every conversion between local days and slots goes through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
import math
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from numpy.typing import NDArray

OSLO: Final = ZoneInfo("Europe/Oslo")
QUARTER_S: Final = 900
HOUR_S: Final = 3600


def ensure_utc(moment: datetime) -> datetime:
    """Return the instant as an aware UTC datetime; naive datetimes are rejected."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware datetime")
    return moment.astimezone(UTC)


def floor_to_slot(moment: datetime, slot_s: int = QUARTER_S) -> datetime:
    """Return the start of the slot (aligned to the UTC epoch) that contains the instant."""
    utc = ensure_utc(moment)
    seconds = int(utc.timestamp())
    return datetime.fromtimestamp(seconds - seconds % slot_s, tz=UTC)


def local_day_bounds_utc(day: date, tz: ZoneInfo = OSLO) -> tuple[datetime, datetime]:
    """Return the UTC start and end of a local calendar day (23, 24 or 25 hours long)."""
    start = datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
    following = day + timedelta(days=1)
    end = datetime(following.year, following.month, following.day, tzinfo=tz).astimezone(UTC)
    return start, end


def first_of_next_month(day: date) -> date:
    """Return the first day of the month after the day's month."""
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def slots_in_local_day(day: date, slot_s: int = QUARTER_S, tz: ZoneInfo = OSLO) -> int:
    """Return how many slots a local day has: 96 quarters normally, 92 or 100 on DST days."""
    start, end = local_day_bounds_utc(day, tz)
    return int((end - start).total_seconds()) // slot_s


@dataclass(frozen=True, slots=True)
class SlotSeries:
    """Values on consecutive slots of equal length, starting at an aware UTC instant.

    `values` is a tuple so that the series is hashable and compares by value; use
    `as_array()` for arithmetic. NaN marks a slot whose value is unknown (a gap).
    """

    start_utc: datetime
    slot_s: int
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        """Validate alignment and normalise the start to UTC."""
        object.__setattr__(self, "start_utc", ensure_utc(self.start_utc))
        if self.slot_s <= 0 or HOUR_S % self.slot_s != 0:
            raise ValueError(f"slot length {self.slot_s} s does not divide an hour")

    @classmethod
    def from_array(
        cls, start_utc: datetime, slot_s: int, values: Sequence[float] | NDArray[np.float64]
    ) -> SlotSeries:
        """Build a series from any sequence of numbers."""
        return cls(start_utc, slot_s, tuple(float(v) for v in values))

    def __len__(self) -> int:
        """Return the number of slots."""
        return len(self.values)

    @property
    def end_utc(self) -> datetime:
        """Return the end of the last slot (exclusive)."""
        return self.start_utc + timedelta(seconds=self.slot_s * len(self.values))

    def as_array(self) -> NDArray[np.float64]:
        """Return the values as a float64 array (a copy)."""
        return np.asarray(self.values, dtype=np.float64)

    def slot_starts(self) -> Iterator[datetime]:
        """Yield the UTC start of each slot."""
        for index in range(len(self.values)):
            yield self.start_utc + timedelta(seconds=self.slot_s * index)

    def index_of(self, moment: datetime) -> int | None:
        """Return the index of the slot containing the instant, or None outside the series."""
        offset_s = (ensure_utc(moment) - self.start_utc).total_seconds()
        index = math.floor(offset_s / self.slot_s)
        if 0 <= index < len(self.values):
            return index
        return None

    def value_at(self, moment: datetime) -> float | None:
        """Return the value of the slot containing the instant; None outside or in a gap."""
        index = self.index_of(moment)
        if index is None or math.isnan(self.values[index]):
            return None
        return self.values[index]

    def gaps(self) -> list[tuple[datetime, datetime]]:
        """Return the [start, end) ranges whose values are unknown (NaN)."""
        ranges: list[tuple[datetime, datetime]] = []
        gap_start: int | None = None
        for index, value in enumerate((*self.values, 0.0)):
            if math.isnan(value) and gap_start is None:
                gap_start = index
            elif not math.isnan(value) and gap_start is not None:
                ranges.append(
                    (
                        self.start_utc + timedelta(seconds=self.slot_s * gap_start),
                        self.start_utc + timedelta(seconds=self.slot_s * index),
                    )
                )
                gap_start = None
        return ranges

    def to_slot_length(self, slot_s: int) -> SlotSeries:
        """Return the series on another slot length.

        Going finer repeats each value (a price holds for its whole period); going coarser
        takes the mean, which is how an hourly household price is made from quarter-hours.
        """
        if slot_s == self.slot_s:
            return self
        values = self.as_array()
        if slot_s < self.slot_s:
            if self.slot_s % slot_s:
                raise ValueError("slot lengths are not multiples of each other")
            return SlotSeries.from_array(
                self.start_utc, slot_s, np.repeat(values, self.slot_s // slot_s)
            )
        if slot_s % self.slot_s or int(self.start_utc.timestamp()) % slot_s:
            raise ValueError("series does not align with the coarser slot length")
        factor = slot_s // self.slot_s
        whole = len(values) // factor * factor
        return SlotSeries.from_array(
            self.start_utc, slot_s, values[:whole].reshape(-1, factor).mean(axis=1)
        )

    def window(self, start_utc: datetime, end_utc: datetime) -> SlotSeries:
        """Return the slots whose start lies in [start_utc, end_utc)."""
        first = max(
            0, math.ceil((ensure_utc(start_utc) - self.start_utc).total_seconds() / self.slot_s)
        )
        last = min(
            len(self.values),
            math.ceil((ensure_utc(end_utc) - self.start_utc).total_seconds() / self.slot_s),
        )
        last = max(first, last)
        return SlotSeries(
            self.start_utc + timedelta(seconds=self.slot_s * first),
            self.slot_s,
            self.values[first:last],
        )

    def concat(self, other: SlotSeries) -> SlotSeries:
        """Append a series that starts where this one ends (same slot length)."""
        if other.slot_s != self.slot_s or (len(self.values) and other.start_utc != self.end_utc):
            raise ValueError("series are not contiguous")
        start = self.start_utc if self.values else other.start_utc
        return SlotSeries(start, self.slot_s, self.values + other.values)


def utc_offsets_h(first_hour_s: int, hours: int) -> NDArray[np.int64]:
    """Return the Oslo clock's offset from UTC (whole hours) of `hours` hours from an epoch."""
    return np.array(
        [_oslo_offset_h(first_hour_s + HOUR_S * hour) for hour in range(hours)], dtype=np.int64
    )


@cache
def _oslo_offset_h(hour_s: int) -> int:
    """Return the Oslo clock's offset from UTC in whole hours at an epoch (1 or 2)."""
    offset = datetime.fromtimestamp(hour_s, tz=UTC).astimezone(OSLO).utcoffset()
    return 0 if offset is None else int(offset.total_seconds()) // HOUR_S
