"""What every price source shares: the protocol, the errors and the normalisation to quarters.

A source returns one Europe/Oslo delivery day as a `SlotSeries` of 15-minute slots in
currency/kWh excluding VAT, or None while the day is not published yet. Quarters that the
source did not deliver are NaN (see `SlotSeries.gaps()`); they are never filled in here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
import math
from typing import TYPE_CHECKING, Final, Literal, Protocol, runtime_checkable

from custom_components.nordic_v2h.core.timeseries import QUARTER_S, SlotSeries, local_day_bounds_utc

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

type Currency = Literal["NOK", "EUR"]
type BiddingArea = Literal["NO1", "NO2", "NO3", "NO4", "NO5"]

CURRENCIES: Final[tuple[Currency, ...]] = ("NOK", "EUR")
NORWEGIAN_AREAS: Final[tuple[BiddingArea, ...]] = ("NO1", "NO2", "NO3", "NO4", "NO5")
# Nord Pool delivers prices per 15, 30 or 60 minutes; anything else is not a day-ahead price.
SOURCE_INTERVALS_S: Final = (900, 1800, 3600)


class PriceSourceError(Exception):
    """A price source failed; the message says which source, day and why."""


class PriceConnectionError(PriceSourceError):
    """The price server could not be reached or did not answer in time."""


class PriceHttpError(PriceSourceError):
    """The price server answered with an HTTP error status."""

    def __init__(self, status: int, message: str) -> None:
        """Keep the HTTP status for callers that treat 4xx and 5xx differently."""
        super().__init__(message)
        self.status = status


class PriceResponseError(PriceSourceError):
    """The price data was malformed: missing keys, wrong types, misaligned or conflicting slots."""


@runtime_checkable
class PriceSource(Protocol):
    """A source of day-ahead prices for one bidding area, one local delivery day at a time."""

    async def async_fetch_day(self, day: date) -> SlotSeries | None:
        """Return the day's quarters in currency/kWh excl. VAT, or None if not published yet."""
        ...


@dataclass(frozen=True, slots=True)
class PriceInterval:
    """One delivered price: [start_utc, end_utc) at price_per_kwh (None when the source has a hole)."""

    start_utc: datetime
    end_utc: datetime
    price_per_kwh: float | None


def field(row: Mapping[str, object], key: str, what: str) -> object:
    """Return row[key]; a missing key is a malformed response, unlike a null value (a hole)."""
    if key not in row:
        raise PriceResponseError(f"{what}: no {key!r}")
    return row[key]


def as_price(value: object, what: str) -> float | None:
    """Return a price value as a float, None for a hole, or raise for a wrong type."""
    if value is None:
        return None
    # bool is an int subclass, but True is never a price.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PriceResponseError(f"{what}: price {value!r} is not a number")
    price = float(value)
    if math.isnan(price):
        return None
    if math.isinf(price):
        raise PriceResponseError(f"{what}: price {value!r} is not finite")
    return price


def as_utc_datetime(value: object, what: str) -> datetime:
    """Return an aware datetime or ISO-8601 string as an aware UTC datetime, or raise."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as err:
            raise PriceResponseError(f"{what}: {value!r} is not an ISO-8601 time") from err
    if not isinstance(value, datetime):
        raise PriceResponseError(f"{what}: {value!r} is not a time")
    if value.tzinfo is None:
        raise PriceResponseError(f"{what}: {value!r} has no time zone")
    return value.astimezone(UTC)


def day_to_quarters(
    day: date, intervals: Iterable[PriceInterval], source: str
) -> SlotSeries | None:
    """Put the intervals of one local day onto its 92, 96 or 100 quarters.

    A 30- or 60-minute price holds for each of its quarters. Intervals outside the day are
    ignored; quarters that no interval covers stay NaN. Returns None when there are no
    intervals at all, which is how every source says "not published yet". Raises
    `PriceResponseError` for intervals that are misaligned, of an unknown length, that give
    one quarter two different prices, or that all lie outside the day.
    """
    day_start, day_end = local_day_bounds_utc(day)
    count = int((day_end - day_start).total_seconds()) // QUARTER_S
    values = [math.nan] * count
    seen = [False] * count
    delivered = 0
    for interval in intervals:
        delivered += 1
        length_s = int((interval.end_utc - interval.start_utc).total_seconds())
        if length_s not in SOURCE_INTERVALS_S:
            raise PriceResponseError(
                f"{source}: interval {interval.start_utc:%Y-%m-%dT%H:%MZ} lasts {length_s} s,"
                " not 15, 30 or 60 minutes"
            )
        if interval.end_utc <= day_start or interval.start_utc >= day_end:
            continue
        offset_s = (interval.start_utc - day_start).total_seconds()
        if offset_s % QUARTER_S or interval.start_utc < day_start or interval.end_utc > day_end:
            raise PriceResponseError(
                f"{source}: interval {interval.start_utc:%Y-%m-%dT%H:%MZ} is not aligned with"
                f" the quarters of {day}"
            )
        first = int(offset_s) // QUARTER_S
        for index in range(first, first + length_s // QUARTER_S):
            price = interval.price_per_kwh
            if seen[index]:
                if not _same_price(values[index], price):
                    moment = day_start + timedelta(seconds=index * QUARTER_S)
                    raise PriceResponseError(
                        f"{source}: two different prices for {moment:%Y-%m-%dT%H:%MZ}"
                    )
                continue
            seen[index] = True
            values[index] = math.nan if price is None else price
    if not delivered:
        return None
    if not any(seen):
        raise PriceResponseError(f"{source}: {delivered} intervals, none of them on {day}")
    return SlotSeries(day_start, QUARTER_S, tuple(values))


def _same_price(known: float, price: float | None) -> bool:
    """Tell whether a repeated quarter carries the same price (holes compare equal)."""
    if price is None or math.isnan(price):
        return math.isnan(known)
    return known == price
