"""Day-ahead prices from the Nord Pool data portal through the `nordpool` library's async client.

The library builds the request and parses the JSON; this module gives it the caller's aiohttp
session (Home Assistant's shared one) behind a thin adapter that adds a timeout and turns HTTP
status codes into errors, because the library's async client checks neither.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any, Final

import aiohttp
from nordpool.elspot import AioPrices, CurrencyMismatch

from .base import (
    CURRENCIES,
    PriceConnectionError,
    PriceHttpError,
    PriceInterval,
    PriceResponseError,
    PriceSourceError,
    as_price,
    as_utc_datetime,
    day_to_quarters,
)

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import date

    from custom_components.nordic_v2h.core.timeseries import SlotSeries

    from .base import Currency

LOGGER = logging.getLogger(__package__)

# Areas whose delivery day is the CET/CEST day, so that it equals the Europe/Oslo day that
# SlotSeries days are cut on. The integration offers NO1-NO5; the Nordic neighbours are
# accepted because they share the day and the recorded test responses are Finnish.
SUPPORTED_AREAS: Final = (
    "NO1",
    "NO2",
    "NO3",
    "NO4",
    "NO5",
    "SE1",
    "SE2",
    "SE3",
    "SE4",
    "FI",
    "DK1",
    "DK2",
)
RESOLUTION_MIN: Final = 15
DEFAULT_TIMEOUT_S: Final = 30.0
KWH_PER_MWH: Final = 1000.0


class _JsonBody:
    """A response already read and decoded, in the shape the library's `_io` expects."""

    def __init__(self, data: object) -> None:
        """Keep the decoded JSON."""
        self._data = data

    async def json(self) -> object:
        """Return the decoded JSON (a coroutine, as aiohttp's is)."""
        return self._data


class _CheckedClient:
    """The caller's aiohttp session with a timeout and HTTP status checks, for `AioPrices`."""

    def __init__(self, session: aiohttp.ClientSession, timeout_s: float, what: str) -> None:
        """Wrap the session; `what` names the request in error messages."""
        self._session = session
        self._timeout_s = timeout_s
        self._what = what

    async def get(self, url: str, params: Mapping[str, Any]) -> _JsonBody:
        """GET the URL and return its decoded JSON body, or raise a `PriceSourceError`."""
        try:
            async with (
                asyncio.timeout(self._timeout_s),
                self._session.get(url, params=params) as response,
            ):
                status = response.status
                text = await response.text()
        except TimeoutError as err:
            raise PriceConnectionError(
                f"{self._what}: no answer within {self._timeout_s:g} s"
            ) from err
        except aiohttp.ClientError as err:
            raise PriceConnectionError(f"{self._what}: {err!r}") from err
        # 204 is how the data portal used to say "no prices for this day".
        if status == 204 or (status == 200 and not text.strip()):
            return _JsonBody({})
        if status != 200:
            raise PriceHttpError(status, f"{self._what}: HTTP {status}: {text[:200]!r}")
        try:
            return _JsonBody(json.loads(text))
        except ValueError as err:
            raise PriceResponseError(f"{self._what}: the body is not JSON: {err}") from err


class NordPoolPriceSource:
    """Day-ahead prices of one bidding area, one Europe/Oslo delivery day at a time."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        area: str,
        currency: Currency,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        """Check the area and currency; the session is the caller's and is never closed here."""
        if area not in SUPPORTED_AREAS:
            raise ValueError(f"unsupported bidding area {area!r}: use one of {SUPPORTED_AREAS}")
        if currency not in CURRENCIES:
            raise ValueError(f"unsupported currency {currency!r}: use one of {CURRENCIES}")
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        self._session = session
        self.area = area
        self.currency = currency
        self._timeout_s = timeout_s

    @property
    def unit(self) -> str:
        """Return the unit of the returned values, such as NOK/kWh."""
        return f"{self.currency}/kWh"

    async def async_fetch_day(self, day: date) -> SlotSeries | None:
        """Return the day's quarters in currency/kWh excl. VAT, or None if not published yet.

        Raises `PriceConnectionError`, `PriceHttpError` or `PriceResponseError`.
        """
        what = f"Nord Pool {self.area} {self.currency} {day}"
        prices = AioPrices(self.currency, _CheckedClient(self._session, self._timeout_s, what))
        try:
            data = await prices.fetch(
                data_type=AioPrices.HOURLY,
                end_date=day,
                areas=[self.area],
                resolution=RESOLUTION_MIN,
            )
        except PriceSourceError:
            raise
        except CurrencyMismatch as err:
            raise PriceResponseError(f"{what}: the response is in another currency") from err
        # The library indexes and parses the JSON without checks, so a malformed body
        # surfaces as one of these; none of them can come from anywhere else in the call.
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as err:
            raise PriceResponseError(f"{what}: malformed response: {err!r}") from err
        series = parse_library_result(data, self.area, day, what)
        if series is None:
            LOGGER.debug("%s: prices not published yet", what)
        return series


def parse_library_result(data: object, area: str, day: date, what: str) -> SlotSeries | None:
    """Turn the dict returned by `AioPrices.fetch` into the day's quarters in currency/kWh.

    Returns None when the area has no prices for the day (not published yet).
    """
    if data is None:
        return None
    if not isinstance(data, dict):
        raise PriceResponseError(f"{what}: unexpected result {type(data).__name__}")
    areas = data.get("areas")
    if not isinstance(areas, dict):
        raise PriceResponseError(f"{what}: the result has no areas")
    area_data = areas.get(area)
    if area_data is None:
        return None
    rows = area_data.get("values") if isinstance(area_data, dict) else None
    if not isinstance(rows, list):
        raise PriceResponseError(f"{what}: no list of values for {area}")
    intervals: list[PriceInterval] = []
    for number, row in enumerate(rows):
        if not isinstance(row, dict):
            raise PriceResponseError(f"{what}: entry {number} is not an object")
        price_per_mwh = as_price(row.get("value"), f"{what} entry {number}")
        intervals.append(
            PriceInterval(
                as_utc_datetime(row.get("start"), f"{what} entry {number} start"),
                as_utc_datetime(row.get("end"), f"{what} entry {number} end"),
                None if price_per_mwh is None else price_per_mwh / KWH_PER_MWH,
            )
        )
    return day_to_quarters(day, intervals, what)
